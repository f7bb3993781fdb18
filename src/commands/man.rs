//! The hidden `man` command (used by install.sh): `git-milestone.1` and one
//! page per subcommand (`git-milestone-run.1`, ...), which the main page
//! names; the run page adds `cli::help`'s sections, and every page its
//! EXIT STATUS.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::help::{EXIT_STATUS, RUN_SECTIONS};
use crate::cli::{Cli, ManArgs};
use crate::error::{Context, Result};

/// `git milestone man`: the main page on stdout; with `--dir`, every page
/// written there.
pub fn man(args: &ManArgs) -> Result<i32> {
    let pages = pages()?;
    match &args.dir {
        None => {
            let (_, main) = pages.last().expect("the main page comes last");
            std::io::stdout()
                .write_all(main)
                .context("cannot write the man page")?;
        }
        Some(dir) => write_pages(dir, &pages)?,
    }
    Ok(0)
}

/// Every page as (file name, roff): the subcommands', then the main one.
/// The main page is named `git-milestone` so that `git milestone --help`,
/// which git turns into `man git-milestone`, finds it; each subcommand's
/// is `git-milestone-<subcommand>`, as the main page's list names them.
fn pages() -> Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command()
        .name("git-milestone")
        .disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    add_pages(&cmd, &mut pages)?;
    Ok(pages)
}

fn add_pages(cmd: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        add_pages(sub, pages)?;
    }
    let mut out = Vec::new();
    render(cmd, &mut out).context("cannot render the man page")?;
    pages.push((clap_mangen::Man::new(cmd.clone()).get_filename(), out));
    Ok(())
}

/// A page: clap_mangen's sections as its `render` orders them, with the
/// run page's [`RUN_SECTIONS`] (as roff, not as clap's EXTRA text) and
/// [`EXIT_STATUS`] after the options and commands, before the version (a
/// subcommand has none of its own).
fn render(cmd: &clap::Command, out: &mut Vec<u8>) -> std::io::Result<()> {
    let is_run = cmd.get_name() == "run";
    let man = if is_run {
        clap_mangen::Man::new(cmd.clone().after_long_help(None::<&str>))
    } else {
        clap_mangen::Man::new(cmd.clone())
    };
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(out)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(out)?;
    }
    if is_run {
        for section in RUN_SECTIONS {
            out.extend_from_slice(section.roff().as_bytes());
        }
    } else if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        man.render_extra_section(out)?;
    }
    out.extend_from_slice(EXIT_STATUS.roff().as_bytes());
    if cmd.get_version().is_some() {
        man.render_version_section(out)?;
    }
    if cmd.get_author().is_some() {
        man.render_authors_section(out)?;
    }
    Ok(())
}

fn write_pages(dir: &Path, pages: &[(String, Vec<u8>)]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, page) in pages {
        let path = dir.join(name);
        std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_visible_subcommand_has_a_page_named_as_the_main_page_lists_it() {
        let names: Vec<String> = pages().unwrap().into_iter().map(|(n, _)| n).collect();
        for want in [
            "git-milestone.1",
            "git-milestone-plan.1",
            "git-milestone-run.1",
            "git-milestone-status.1",
            "git-milestone-rollback.1",
            "git-milestone-hook.1",
            "git-milestone-hook-pre-push.1",
            "git-milestone-install-hook.1",
            "git-milestone-uninstall-hook.1",
            "git-milestone-completions.1",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "{want} missing from {names:?}"
            );
        }
        assert!(
            !names
                .iter()
                .any(|n| n.contains("help") || n.contains("man.")),
            "{names:?}"
        );
    }
}
