//! The program's refusals and failure messages, each pinned whole (stdout,
//! stderr and exit status) on a real repository, and the hints they give
//! run to show that they work from where the user stands.

mod common;

use common::TestRepo;
use common::inspect::head;
use common::runner::sh_runner;

const PLAN: &str = "# M1\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n- [ ] TASK-003: Three\n";

/// M1 of `plan.md` run once: TASK-001 checkpointed, TASK-002 failed after
/// writing `two.txt`. Returns the repository and the run's runner.
fn failed_m1() -> (TestRepo, String) {
    let t = TestRepo::with_files(&[("plan.md", PLAN), ("src/lib.txt", "v1\n")]);
    let runner = sh_runner(
        &t,
        "runner.sh",
        "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] && exit 3\nexit 0",
    );
    t.run(["run", "M1", "--plan", "plan.md", "--runner", &runner])
        .code(1);
    (t, runner)
}

/// The commands a hint names between backticks.
fn hinted(out: &common::Run, starts: &str) -> String {
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with(starts))
        .unwrap_or_else(|| panic!("no hint starting {starts:?}:\n{}", out.stderr));
    let (_, rest) = line.split_once('`').expect("a command in backticks");
    let (cmd, _) = rest.split_once('`').expect("a closing backtick");
    cmd.to_string()
}

/// Run `cmd` with `sh -c` in `dir`, as a user would paste it, with
/// `git milestone` on PATH.
fn paste(t: &TestRepo, dir: &std::path::Path, cmd: &str) -> common::Run {
    let mut c = std::process::Command::new("sh");
    common::seal(&mut c, t.home.path());
    c.env("PATH", common::path_with_bin())
        .current_dir(dir)
        .args(["-c", cmd]);
    common::Run::from(c.output().unwrap())
}

mod rollback {
    use super::*;

    #[test]
    fn foreign_commits_hint_keeps_them_on_a_branch_and_takes_them_off() {
        let (t, _) = failed_m1();
        let checkpoint = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-001"]);
        t.write("src/lib.txt", "my fix\n");
        t.git(&["commit", "-q", "-am", "my own fix"]);
        let mine = head(&t);
        // Asked from a subdirectory, where the hint is pasted too.
        let sub = t.path().join("src");
        let out = common::Run::from(t.cmd_at(&sub).args(["rollback", "M1"]).output().unwrap());
        insta::assert_snapshot!(out.render(&t));
        let cmd = hinted(&out, "hint: nothing was changed");
        paste(&t, &sub, &cmd).success();
        assert_eq!(
            head(&t),
            checkpoint.trim(),
            "HEAD is back at the checkpoint"
        );
        assert_eq!(t.git(&["rev-parse", "keep-work"]).trim(), mine);
        let on_head = t.git(&["log", "--format=%s", "HEAD"]);
        assert!(!on_head.contains("my own fix"), "{on_head}");
        common::inspect::assert_fsck_clean(&t);
    }
}
