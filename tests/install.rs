//! install.sh into a temporary root, and the completion script.
//!
//! install.sh reuses this build: `CARGO_TARGET_DIR` points at the test
//! binary's target directory and `GIT_MILESTONE_INSTALL_DEBUG=1` asks for
//! the same (debug) profile, so `cargo install` only copies.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Run, TestRepo};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh")
}

/// The target directory holding the binary under test (`target/`).
fn target_dir() -> PathBuf {
    common::bin()
        .parent()
        .and_then(Path::parent)
        .expect("binary lives in <target>/<profile>/")
        .to_path_buf()
}

fn real_cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
}

fn man_available() -> bool {
    Command::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// install.sh with `args`, sealed like every test, but with the real cargo
/// home (its registry cache) and offline, so it never downloads.
fn install_sh(home: &Path, path_env: &str, manpath: &str, args: &[&str]) -> Run {
    let mut c = Command::new("sh");
    common::seal(&mut c, home);
    c.arg(script())
        .args(args)
        .env(
            "CARGO",
            std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        )
        .env("CARGO_HOME", real_cargo_home())
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .env("GIT_MILESTONE_INSTALL_DEBUG", "1")
        .env("PATH", path_env)
        .env("MANPATH", manpath)
        .env_remove("CARGO_INSTALL_ROOT");
    if let Some(rustup) = std::env::var_os("RUSTUP_HOME") {
        c.env("RUSTUP_HOME", rustup);
    } else if let Some(h) = std::env::var_os("HOME") {
        c.env("RUSTUP_HOME", PathBuf::from(h).join(".rustup"));
    }
    Run::from(c.output().unwrap())
}

/// Every file under `dir`, relative, `/`-separated.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel);
            }
        }
    }
    out
}

#[test]
fn install_twice_then_uninstall_removes_exactly_what_it_installed() {
    let home = assert_fs::TempDir::new().unwrap();
    let root = assert_fs::TempDir::new().unwrap();
    let root = root.path().canonicalize().unwrap();
    let r = root.display();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("share/man/man1")).unwrap();
    std::fs::write(root.join("bin/other-tool"), "keep me").unwrap();
    std::fs::write(root.join("share/man/man1/other.1"), "keep me").unwrap();
    let system_path = std::env::var("PATH").unwrap();
    let root_arg = root.to_str().unwrap();

    // Not on PATH, and a MANPATH that misses the page: both get advice.
    let first = install_sh(
        home.path(),
        &system_path,
        "/nonexistent",
        &["--root", root_arg],
    );
    first.success();
    let man_note = if man_available() {
        format!(
            "note: man does not find {r}/share/man/man1/git-milestone.1 yet, so `git milestone --help` will not show it\n\
             hint: add it in your shell profile: export MANPATH=\"{r}/share/man:${{MANPATH:-}}\"\n"
        )
    } else {
        "note: `man` is not installed, so `git milestone --help` cannot show the manual; `git-milestone --help` prints the same help\n".to_string()
    };
    assert_eq!(
        first.stdout,
        format!(
            "installed {r}/bin/git-milestone\n\
             {PAGES_LINE}\
             warning: {r}/bin is not on your PATH, so git cannot find `git milestone`\n\
             hint: add it in your shell profile: export PATH=\"{r}/bin:$PATH\"\n\
             {man_note}"
        )
        .replace("{r}", &r.to_string())
    );

    let version = Command::new(root.join("bin/git-milestone"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("git-milestone {}\n", env!("CARGO_PKG_VERSION"))
    );
    let page = std::fs::read_to_string(root.join("share/man/man1/git-milestone.1")).unwrap();
    assert!(page.contains(".TH git-milestone 1"), "{page}");
    let pages: Vec<String> = files_under(&root.join("share/man/man1"))
        .into_iter()
        .filter(|f| f.starts_with("git-milestone"))
        .collect();
    assert_eq!(pages, SUBCOMMAND_PAGES);
    check_run_page(&root.join("share/man/man1/git-milestone-run.1"));
    if man_available() {
        let rendered = Command::new("man")
            .args(["-l", "-P", "cat"])
            .arg(root.join("share/man/man1/git-milestone.1"))
            .env("MANWIDTH", "80")
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&rendered.stdout);
        assert!(rendered.status.success(), "{text}");
        for part in ["NAME", "SYNOPSIS", "git milestone", "plan", "install-hook"] {
            assert!(text.contains(part), "rendered page lacks {part}:\n{text}");
        }
    }

    // Again, with the root on PATH and MANPATH: no advice at all.
    let on_path = format!("{r}/bin:{system_path}");
    let second = install_sh(
        home.path(),
        &on_path,
        &format!("{r}/share/man"),
        &["--prefix", root_arg],
    );
    second.success();
    assert_eq!(
        second.stdout,
        format!(
            "installed {r}/bin/git-milestone\n{PAGES_LINE}{}",
            if man_available() { "" } else { &man_note }
        )
        .replace("{r}", &r.to_string())
    );

    let removed = install_sh(
        home.path(),
        &on_path,
        "",
        &["--root", root_arg, "--uninstall"],
    );
    removed.success();
    assert_eq!(removed.stdout, format!("removed git-milestone from {r}\n"));
    let left: Vec<String> = files_under(&root)
        .into_iter()
        .filter(|f| !f.starts_with(".crates")) // cargo's own install ledger
        .collect();
    assert_eq!(left, ["bin/other-tool", "share/man/man1/other.1"]);

    let again = install_sh(
        home.path(),
        &on_path,
        "",
        &["--root", root_arg, "--uninstall"],
    );
    again.success();
    assert_eq!(
        again.stdout,
        format!("git-milestone is not installed in {r}: nothing to remove\n")
    );
}

/// What install.sh says about the man pages, `{r}` standing for the root.
const PAGES_LINE: &str = "installed {r}/share/man/man1/git-milestone.1 and 12 pages for its \
                          subcommands (git-milestone-run.1, ...)\n";

/// Every page installed: the main one and one per subcommand, each named
/// as the main page's list of subcommands names it.
const SUBCOMMAND_PAGES: [&str; 13] = [
    "git-milestone-bisect.1",
    "git-milestone-completions.1",
    "git-milestone-hook-pre-push.1",
    "git-milestone-hook.1",
    "git-milestone-install-hook.1",
    "git-milestone-log.1",
    "git-milestone-plan.1",
    "git-milestone-rollback.1",
    "git-milestone-run.1",
    "git-milestone-squash.1",
    "git-milestone-status.1",
    "git-milestone-uninstall-hook.1",
    "git-milestone.1",
];

/// The run page, as `man -l` renders it, describes the runner's
/// environment, exit code 125, the failure policies and the status file.
fn check_run_page(page: &Path) {
    if !man_available() {
        common::skip("`man` is not installed: the run page is not rendered");
        return;
    }
    let rendered = Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(page)
        .env("MANWIDTH", "80")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(rendered.status.success(), "{text}");
    for part in [
        "git-milestone-run",
        "RUNNER ENVIRONMENT",
        "MILESTONE_TASK",
        "MILESTONE_ATTEMPT",
        "RUNNER EXIT STATUS",
        "125",
        "FAILURE POLICIES",
        "retry:N",
        "rollback",
        ".milestone_bundles/<name>/status.json",
        "--on-failure",
    ] {
        assert!(text.contains(part), "the run page lacks {part:?}:\n{text}");
    }
}

#[test]
fn help_and_bad_arguments() {
    let home = assert_fs::TempDir::new().unwrap();
    let path = std::env::var("PATH").unwrap();
    let help = install_sh(home.path(), &path, "", &["--help"]);
    help.success();
    assert!(
        help.stdout
            .starts_with("Usage: ./install.sh [--root DIR] [--uninstall]\n"),
        "{}",
        help.stdout
    );
    for flag in [
        "--root DIR",
        "--prefix DIR",
        "--uninstall",
        "GIT_MILESTONE_INSTALL_DEBUG=1",
    ] {
        assert!(help.stdout.contains(flag), "help lacks {flag}");
    }
    let bad = install_sh(home.path(), &path, "", &["--bogus"]);
    bad.code(2);
    assert_eq!(
        bad.stderr,
        "error: unknown argument: --bogus\nhint: run ./install.sh --help\n"
    );
    for (args, flag) in [
        (&["--root"][..], "--root"),
        (&["--prefix", ""][..], "--prefix"),
        (&["--root="][..], "--root"),
    ] {
        let missing = install_sh(home.path(), &path, "", args);
        missing.code(2);
        assert_eq!(
            missing.stderr,
            format!("error: {flag} needs a directory\nhint: run ./install.sh --help\n")
        );
    }
}

#[test]
fn bash_completions_are_a_script_bash_accepts() {
    let t = TestRepo::new();
    let out = t.run(["completions", "bash"]);
    out.success();
    assert!(
        out.stdout.starts_with("_git__milestone() {\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("complete -F _git__milestone"),
        "{}",
        out.stdout
    );
    for sub in ["plan", "run", "status", "rollback", "install-hook"] {
        assert!(out.stdout.contains(sub), "completions lack {sub}");
    }
    let script = t.path().join("completions.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // `git-milestone run --on<TAB>`: options after a subcommand complete.
    assert_eq!(
        complete_in_bash(&t, &script, None, "git-milestone run --on"),
        "--on-failure"
    );
}

/// `COMPREPLY` for `line` (the cursor at its end) in a bash that sourced
/// `script`, and git's own completion when `git_completion` is given, run
/// in `t`'s repository with the binary under test on `PATH`.
fn complete_in_bash(
    t: &TestRepo,
    script: &Path,
    git_completion: Option<&Path>,
    line: &str,
) -> String {
    let (prelude, driver) = match git_completion {
        None => (
            String::new(),
            r#"_git__milestone git-milestone "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}""#,
        ),
        Some(g) => (
            format!("source '{}'\n", g.display()),
            "__git_func_wrap __git_main",
        ),
    };
    let program = format!(
        "{prelude}source \"$1\"\n\
         read -ra COMP_WORDS <<< \"$2\"\n\
         COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n\
         COMP_LINE=\"$2\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         {driver}\n\
         echo \"${{COMPREPLY[*]}}\"\n"
    );
    let mut bash = Command::new("bash");
    common::seal(&mut bash, t.home.path());
    let out = bash
        .current_dir(t.path())
        .env("PATH", common::path_with_bin())
        .args(["-c", &program, "bash"])
        .arg(script)
        .arg(line)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

#[test]
fn bash_completions_work_under_git_milestone() {
    let git_completion = Path::new("/usr/share/bash-completion/completions/git");
    if !git_completion.exists() {
        common::skip("git's bash completion is not installed");
        return;
    }
    let t = TestRepo::new();
    let out = t.run(["completions", "bash"]);
    out.success();
    let script = t.path().join("completions.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let complete = |line: &str| complete_in_bash(&t, &script, Some(git_completion), line);
    assert_eq!(complete("git milestone pl"), "plan");
    assert_eq!(complete("git milestone run M1 --on"), "--on-failure");
    assert_eq!(complete("git -C /tmp milestone status --js"), "--json");
}

#[test]
fn bash_completes_policies_and_milestone_names_not_file_names() {
    let git_completion = Path::new("/usr/share/bash-completion/completions/git");
    if !git_completion.exists() {
        common::skip("git's bash completion is not installed");
        return;
    }
    let t = TestRepo::with_files(&[
        (
            "docs/plan.md",
            "# Plan\n\n## Milestone M1\n- [ ] T001 First\n\n## Milestone M2\n- [ ] T002 Second\n",
        ),
        ("retry-notes.txt", "a file a policy must not complete to\n"),
    ]);
    let s = common::milestone_status(
        "M3",
        git_milestone::state::RunState::Completed,
        &[("X1", git_milestone::state::TaskState::Done)],
    );
    t.write_status(&s);
    let out = t.run(["completions", "bash"]);
    out.success();
    let script = t.home.path().join("completions.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let complete = |line: &str| complete_in_bash(&t, &script, Some(git_completion), line);
    assert_eq!(
        complete("git milestone run M1 --on-failure r"),
        "retry rollback"
    );
    for command in [
        "plan", "run", "status", "rollback", "log", "bisect", "squash",
    ] {
        assert_eq!(
            complete(&format!("git milestone {command} M")),
            "M1 M2 M3",
            "{command}"
        );
    }
    assert_eq!(complete("git milestone run --timeout 9"), "9");
    // Hidden subcommands are not offered.
    assert_eq!(complete("git milestone c"), "completions");
}
