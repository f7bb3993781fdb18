//! The hidden `man` command (used by install.sh): `git-milestone.1` and one
//! page per subcommand (`git-milestone-run.1`, ...), which the main page
//! names; and the sections `run --help` and its page add after the options.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::error::{Context, Result};

/// A section of reference text: a title, an introduction, and terms each
/// with their description.
pub struct Section {
    pub title: &'static str,
    pub intro: &'static str,
    pub items: &'static [(&'static str, &'static str)],
}

/// What `run --help` and `git-milestone-run(1)` say after the options.
pub const RUN_SECTIONS: &[Section] = &[
    Section {
        title: "THE SEQUENCE",
        intro: "On a terminal, the first run of a milestone, and any run whose plan \
                changed since, shows the sequence it read and asks: run, edit or quit. \
                Edit opens it in git's editor as a todo list, as `git rebase -i` does: \
                move lines to reorder, `skip` a task or delete its line. The accepted \
                sequence is recorded in the status file, and later runs follow it. \
                Without a terminal, or with --yes, nothing is asked: the run follows the \
                recorded sequence (saying how the plan changed since, and running new \
                tasks where the plan puts them), or the plan as read. \
                `git milestone plan <name> --edit` edits the sequence without running.",
        items: &[],
    },
    Section {
        title: "RUNNER ENVIRONMENT",
        intro: "The runner is run as git runs aliases, in the repository root: \
                `sh -c '<runner> \"$@\"' <runner> <ID>`, so the task ID arrives as $1 \
                (a plan's own ```sh milestone block is run as a script, the ID as $1). \
                It runs in a process group of its own, with no standard input; its \
                standard output and standard error are shown and logged in the order \
                it writes them. Besides the environment of git-milestone it gets:",
        items: &[
            ("MILESTONE", "the milestone's name"),
            ("MILESTONE_TASK", "the task's ID (also $1)"),
            ("MILESTONE_TITLE", "the task's title, as the plan states it"),
            (
                "MILESTONE_INDEX, MILESTONE_TOTAL",
                "the task's place in the run order (from 1) and the number of tasks",
            ),
            (
                "MILESTONE_PLAN",
                "the plan file, relative to the repository root",
            ),
            (
                "MILESTONE_ATTEMPT",
                "which attempt at the task this is (from 1)",
            ),
            (
                "GIT_REFLOG_ACTION",
                "a marker unique to the task, which git writes into the reflog entries of \
                 the commits the task makes: only commits so marked are adopted as its own",
            ),
        ],
    },
    Section {
        title: "RUNNER EXIT STATUS",
        intro: "The runner's exit status decides, as with `git bisect run`:",
        items: &[
            (
                "0",
                "the task is done: its changes are committed as its checkpoint",
            ),
            (
                "125",
                "skip the task: it is recorded as skipped, what it changed is saved under \
                 refs/milestone/<name>/attempts/<ID>/<n> (never committed), and the run goes \
                 on with the next one; the milestone ends completed with skipped tasks",
            ),
            (
                "anything else",
                "the task failed (so does a timeout, or a signal that kills it): on a \
                 terminal git-milestone asks what to do, elsewhere the failure policy decides",
            ),
        ],
    },
    Section {
        title: "FAILURE POLICIES",
        intro: "Without a terminal, a failed task is handled by --on-failure, else git \
                config milestone.onFailure, else stop:",
        items: &[
            (
                "stop",
                "stop, leaving the failed attempt's changes in the work tree; running the \
                 same command again continues at the failed task",
            ),
            (
                "retry, retry:N",
                "run the task again, once or up to N times, then stop",
            ),
            (
                "rollback",
                "save the attempt's work under refs/milestone/<name>/attempts/<ID>/<n>, go \
                 back to the last checkpoint, then stop",
            ),
            (
                "skip",
                "record the task as skipped, save its changes as a rollback does, and go \
                 on with the next one",
            ),
        ],
    },
    Section {
        title: "FILES",
        intro: "",
        items: &[
            (
                ".milestone_bundles/<name>/status.json",
                "the run's state (a versioned JSON file): each task's state, attempts, \
                 times, exit code and checkpoint, and the sequence you confirmed. It is \
                 committed with every checkpoint; a failure is recorded in the work \
                 tree's copy. `git milestone status` reads it",
            ),
            (
                "<git-dir>/milestone/<name>/logs/<ID>.<attempt>.log",
                "each attempt's output (its first and last 8 MiB when it is longer than 16 MiB)",
            ),
            (
                "refs/milestone/<name>/checkpoints/<ID>",
                "each task's checkpoint commit",
            ),
        ],
    },
];

impl Section {
    /// As help text: the title capitalised as clap's headings are, the
    /// terms indented, each description on its own line below its term.
    pub fn plain(&self) -> String {
        let mut title = self.title.to_lowercase();
        if let Some(first) = title.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        let mut s = format!("{title}:\n");
        if !self.intro.is_empty() {
            s.push_str(&format!("  {}\n", self.intro));
        }
        for (term, text) in self.items {
            s.push_str(&format!("  {term}\n          {text}\n"));
        }
        s
    }

    /// As roff: `.SH`, the introduction, then a `.TP` per term.
    fn roff(&self) -> String {
        let mut s = format!(".SH \"{}\"\n", self.title);
        if !self.intro.is_empty() {
            s.push_str(&roff_text(self.intro));
            s.push('\n');
        }
        for (term, text) in self.items {
            s.push_str(&format!(
                ".TP\n\\fB{}\\fR\n{}\n",
                roff_text(term),
                roff_text(text)
            ));
        }
        s
    }
}

/// Text made safe for roff: backslashes escaped, hyphens as `\-` (so a
/// search for `--on-failure` finds them), a leading `.` or `'` protected.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

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
    let is_run = cmd.get_name() == "run";
    let man = if is_run {
        // Its sections are rendered below as roff, not as clap's EXTRA text.
        clap_mangen::Man::new(cmd.clone().after_long_help(None::<&str>))
    } else {
        clap_mangen::Man::new(cmd.clone())
    };
    let rendered = if is_run {
        render_run(&man, &mut out)
    } else {
        man.render(&mut out)
    };
    rendered.context("cannot render the man page")?;
    pages.push((man.get_filename(), out));
    Ok(())
}

/// The run page: clap_mangen's sections, then [`RUN_SECTIONS`] (a
/// subcommand has no version of its own: no VERSION section).
fn render_run(man: &clap_mangen::Man, out: &mut Vec<u8>) -> std::io::Result<()> {
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    for section in RUN_SECTIONS {
        out.extend_from_slice(section.roff().as_bytes());
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
    fn roff_text_escapes_what_roff_would_read_as_markup() {
        assert_eq!(roff_text("--on-failure"), "\\-\\-on\\-failure");
        assert_eq!(roff_text(".milestone_bundles"), "\\&.milestone_bundles");
        assert_eq!(roff_text("a\\b"), "a\\eb");
    }

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
