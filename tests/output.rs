//! What a run shows of its tasks: output in the order written (on the
//! screen and in the log), a timeout that does not wait for the task's
//! leftovers, and a log that stays small when a task prints a lot.

mod common;

use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

use common::runner::{run_cmd, script};
use common::{Run, TestRepo};

fn repo_with_plan() -> TestRepo {
    TestRepo::with_files(&[("plan.md", "# M1\n- [ ] TASK-001: A\n")])
}

fn log(t: &TestRepo) -> String {
    t.read(".git/milestone/M1/logs/TASK-001.1.log")
}

/// Run `cmd` with its stdout and stderr on one pipe, as a terminal shows
/// them: what it printed, in order, and its exit code.
fn interleaved(mut cmd: Command) -> (String, i32) {
    let (mut reader, writer) = std::io::pipe().unwrap();
    cmd.stdout(writer.try_clone().unwrap()).stderr(writer);
    let mut child = cmd.spawn().unwrap();
    // Our copies of the writing end go with `cmd`: then the pipe can end.
    drop(cmd);
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (text, code)
}

#[test]
fn stdout_and_stderr_keep_their_order_on_screen_and_in_the_log() {
    let t = repo_with_plan();
    let runner = script(
        &t,
        "runner.sh",
        "echo '1 out'; echo '2 err' >&2; echo '3 out'; echo '4 err' >&2",
    );
    let (screen, code) = interleaved(run_cmd(&t, &runner, &[]));
    assert_eq!(code, 0, "{screen}");
    let lines = "1 out\n2 err\n3 out\n4 err\n";
    assert!(screen.contains(lines), "{screen}");
    assert_eq!(log(&t), lines);
}

#[test]
fn a_timeout_stops_the_whole_group_and_the_run_moves_on() {
    let t = repo_with_plan();
    let pgid_file = t.home.path().join("pgid");
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo $$ > '{}'; echo start; sleep 100; echo after",
            pgid_file.display()
        ),
    );
    let started = Instant::now();
    let out: Run = run_cmd(&t, &runner, &["--timeout", "1s"])
        .output()
        .unwrap()
        .into();
    // Far from the 100 s the task asked for; the bound is loose on purpose.
    assert!(started.elapsed() < Duration::from_secs(50));
    out.code(1);
    assert!(
        out.stderr
            .contains("TASK-001 failed (timed out after 1.0s)"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout.lines().nth(1), Some("start"), "{}", out.stdout);
    assert_eq!(log(&t), "start\n");
    let pgid = std::fs::read_to_string(&pgid_file).unwrap();
    assert!(
        !group_has_a_running_process(pgid.trim()),
        "a process of the task's group is left"
    );
}

/// Whether `ps` lists a process of group `pgid` that is not a zombie.
fn group_has_a_running_process(pgid: &str) -> bool {
    let out = Command::new("ps")
        .args(["-e", "-o", "pgid=,stat="])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().any(|l| {
        let mut f = l.split_whitespace();
        f.next() == Some(pgid) && !f.next().unwrap_or("Z").starts_with('Z')
    })
}

#[test]
fn a_long_log_keeps_its_head_and_tail() {
    let t = repo_with_plan();
    let runner = script(&t, "runner.sh", "seq 1 20000");
    let mut cmd = run_cmd(&t, &runner, &[]);
    cmd.env("GIT_MILESTONE_LOG_CAP", "2000");
    let out: Run = cmd.output().unwrap().into();
    out.success();
    // The screen gets everything; only the log is cut.
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.parse::<u32>().is_ok())
            .count(),
        20000
    );
    let log = log(&t);
    assert!(log.len() < 2200, "{} bytes", log.len());
    assert!(log.starts_with("1\n2\n3\n"), "{log}");
    assert!(log.ends_with("19999\n20000\n"), "{log}");
    let marker: Vec<&str> = log.lines().filter(|l| l.starts_with('[')).collect();
    insta::assert_snapshot!(marker.join("\n"), @"[git-milestone: 104.4 KiB of output left out here; a log keeps the first and the last 1000 bytes of a task's output]");
}

#[test]
fn a_linked_worktree_keeps_its_logs_in_its_own_git_directory() {
    let t = repo_with_plan();
    let wt = assert_fs::TempDir::new().unwrap();
    let wt_path = wt.path().join("wt");
    t.add_worktree("side", &wt_path);
    let runner = script(&t, "runner.sh", "echo failing; exit 3");
    let out: Run = common::runner::run_cmd_in(&t, &wt_path, &runner, &[])
        .output()
        .unwrap()
        .into();
    out.code(1);
    let log = t
        .path()
        .canonicalize()
        .unwrap()
        .join(".git/worktrees/wt/milestone/M1/logs/TASK-001.1.log");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "failing\n");
    assert!(
        out.stderr
            .contains(&format!("hint: its output: {}", log.display())),
        "{}",
        out.stderr
    );
}
