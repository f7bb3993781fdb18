//! What a rollback, `rollback --undo` and a run's own rollback print when
//! they are stopped half way (Ctrl-C, or a kill), and what the next
//! commands say about them: each pinned whole (stdout, stderr, exit
//! status). The moments are chosen by what the command does, never by a
//! time (`common::stop`).

mod common;

use std::path::PathBuf;

use common::stop::{self, At};
use common::{Run, TestRepo};

const PLAN: &str = "# M1\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n- [ ] TASK-003: Three\n";

/// Writes `<ID>.txt`; TASK-002 fails (exit 3) unless HOME holds `ok`.
fn runner(t: &TestRepo) -> String {
    common::runner::sh_runner(
        t,
        "runner.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] && [ ! -e '{}' ] && exit 3\nexit 0",
            t.home.path().join("ok").display()
        ),
    )
}

fn run_args<'a>(runner: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "M1", "--plan", "plan.md", "--runner", runner];
    args.extend(extra);
    args
}

/// M1 run once: TASK-001 checkpointed, TASK-002 failed after writing
/// `TASK-002.txt`.
fn failed() -> (TestRepo, String) {
    let t = TestRepo::with_files(&[("plan.md", PLAN)]);
    let runner = runner(&t);
    t.run(run_args(&runner, &[])).code(1);
    (t, runner)
}

/// The moment a rollback removes the file the failed attempt created:
/// after its work is saved, before the branch is moved.
fn removing_the_attempts_file(t: &TestRepo) -> (&'static str, usize, PathBuf) {
    ("unlink", 1, t.path().join("TASK-002.txt"))
}

/// `args` on `t`, stopped by `sig` at `at`: what it printed.
fn stopped(t: &TestRepo, args: &[&str], sig: i32, at: At<'_>) -> Run {
    let stopped = stop::stop_at(t, args, sig, at);
    assert!(stopped.signalled, "{at:?} never came: {stopped:?}");
    stop::printed(t, &stopped)
}

fn render(t: &TestRepo, args: &[&str]) -> String {
    t.run(args).render(t)
}

/// `status M1`, its table's columns closed up: how wide the duration
/// column is depends on how long the tasks took.
fn status(t: &TestRepo) -> String {
    let spaces = regex::Regex::new(" {2,}").unwrap();
    spaces
        .replace_all(&render(t, &["status", "M1"]), " ")
        .into_owned()
}

#[test]
fn a_rollback_interrupted_before_it_changes_anything() {
    let (t, _) = failed();
    // Its first git command reads the work tree, before anything is saved.
    let out = stopped(&t, &["rollback", "M1"], libc::SIGINT, At::Git(1));
    insta::assert_snapshot!(out.render(&t));
    assert!(t.path().join("TASK-002.txt").exists());
    insta::assert_snapshot!("a_rollback_interrupted_before_it_changes_anything_then", {
        render(&t, &["rollback", "M1"])
    });
}

#[test]
fn a_rollback_interrupted_half_way_finishes_first() {
    if !stop::can_trace() {
        return;
    }
    let (t, _) = failed();
    let (call, n, path) = removing_the_attempts_file(&t);
    let at = At::SyscallOn(call, n, &path);
    let out = stopped(&t, &["rollback", "M1"], libc::SIGINT, at);
    insta::assert_snapshot!(out.render(&t));
    assert!(!path.exists());
}

#[test]
fn a_rollback_killed_half_way_and_the_commands_after_it() {
    if !stop::can_trace() {
        return;
    }
    let (t, runner) = failed();
    let (call, n, path) = removing_the_attempts_file(&t);
    let out = stopped(
        &t,
        &["rollback", "M1"],
        libc::SIGKILL,
        At::SyscallOn(call, n, &path),
    );
    insta::assert_snapshot!("a_rollback_killed_half_way", out.render(&t));
    insta::assert_snapshot!("a_rollback_killed_half_way_then_status", { status(&t) });
    insta::assert_snapshot!("a_rollback_killed_half_way_then_run", {
        render(&t, &run_args(&runner, &[]))
    });
    insta::assert_snapshot!("a_rollback_killed_half_way_then_rollback", {
        render(&t, &["rollback", "M1"])
    });
    assert!(!path.exists());
}

#[test]
fn a_rollback_killed_half_way_then_undone() {
    if !stop::can_trace() {
        return;
    }
    let (t, _) = failed();
    let (call, n, path) = removing_the_attempts_file(&t);
    stopped(
        &t,
        &["rollback", "M1"],
        libc::SIGKILL,
        At::SyscallOn(call, n, &path),
    );
    insta::assert_snapshot!(render(&t, &["rollback", "M1", "--undo"]));
    assert_eq!(t.read("TASK-002.txt"), "TASK-002\n");
}

/// M1 failed and rolled back; `rollback M1 --undo` stopped by `sig` as it
/// starts its last git command (the restore's `git reset`, after the
/// journal says the undo is under way). Returns what the undo printed.
fn undo_stopped(sig: i32) -> (TestRepo, String, Run) {
    let undo = ["rollback", "M1", "--undo"];
    let last = {
        let (t, _) = failed();
        t.run(["rollback", "M1"]).success();
        stop::events(&t, &undo).git
    };
    let (t, runner) = failed();
    t.run(["rollback", "M1"]).success();
    let out = stopped(&t, &undo, sig, At::Git(last));
    (t, runner, out)
}

#[test]
fn an_undo_interrupted_before_it_changes_anything() {
    let (t, _) = failed();
    t.run(["rollback", "M1"]).success();
    // Its first git command reads the work tree, before anything is saved.
    let undo = ["rollback", "M1", "--undo", "--force"];
    let out = stopped(&t, &undo, libc::SIGINT, At::Git(1));
    insta::assert_snapshot!(out.render(&t));
    assert!(!t.path().join("TASK-002.txt").exists());
}

#[test]
fn an_undo_interrupted_half_way_finishes_first() {
    let (t, _, out) = undo_stopped(libc::SIGINT);
    insta::assert_snapshot!(out.render(&t));
    assert_eq!(t.read("TASK-002.txt"), "TASK-002\n");
}

#[test]
fn an_undo_killed_half_way_and_the_commands_after_it() {
    let (t, runner, out) = undo_stopped(libc::SIGKILL);
    insta::assert_snapshot!("an_undo_killed_half_way", out.render(&t));
    insta::assert_snapshot!("an_undo_killed_half_way_then_status", { status(&t) });
    insta::assert_snapshot!("an_undo_killed_half_way_then_run", {
        render(&t, &run_args(&runner, &[]))
    });
    insta::assert_snapshot!("an_undo_killed_half_way_then_rollback", {
        render(&t, &["rollback", "M1"])
    });
    insta::assert_snapshot!("an_undo_killed_half_way_then_undo", {
        render(&t, &["rollback", "M1", "--undo"])
    });
    assert_eq!(t.read("TASK-002.txt"), "TASK-002\n");
}

#[test]
fn a_runs_rollback_interrupted_half_way_finishes_first() {
    if !stop::can_trace() {
        return;
    }
    let t = TestRepo::with_files(&[("plan.md", PLAN)]);
    let runner = runner(&t);
    let (call, n, path) = removing_the_attempts_file(&t);
    let args = run_args(&runner, &["--on-failure", "rollback"]);
    let out = stopped(&t, &args, libc::SIGINT, At::SyscallOn(call, n, &path));
    insta::assert_snapshot!(out.render(&t));
    assert!(!path.exists());
    insta::assert_snapshot!("a_runs_rollback_interrupted_half_way_then_status", {
        status(&t)
    });
}

#[test]
fn a_runs_rollback_killed_half_way_and_the_commands_after_it() {
    if !stop::can_trace() {
        return;
    }
    let t = TestRepo::with_files(&[("plan.md", PLAN)]);
    let runner = runner(&t);
    let (call, n, path) = removing_the_attempts_file(&t);
    let args = run_args(&runner, &["--on-failure", "rollback"]);
    let out = stopped(&t, &args, libc::SIGKILL, At::SyscallOn(call, n, &path));
    insta::assert_snapshot!("a_runs_rollback_killed_half_way", out.render(&t));
    insta::assert_snapshot!("a_runs_rollback_killed_half_way_then_status", {
        status(&t)
    });
    insta::assert_snapshot!("a_runs_rollback_killed_half_way_then_run", {
        render(&t, &run_args(&runner, &[]))
    });
    insta::assert_snapshot!("a_runs_rollback_killed_half_way_then_rollback", {
        render(&t, &["rollback", "M1"])
    });
    std::fs::write(t.home.path().join("ok"), "").unwrap();
    insta::assert_snapshot!("a_runs_rollback_killed_half_way_then_run_again", {
        render(&t, &run_args(&runner, &[]))
    });
    assert!(t.path().join("TASK-003.txt").exists());
}
