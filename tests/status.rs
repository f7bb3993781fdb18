//! `git milestone status`: tables, JSON, exit codes, unreadable status files.

mod common;

use common::{TestRepo, milestone_status};
use git_milestone::state::{Failure, RunState, TaskState};

use RunState::{Completed, Failed, Running};
use TaskState::{Done, Pending};

/// M2 completed (checkpoints for A1 and A2), then M1 failed at T2 after a
/// checkpoint for T1. Returns (A2's checkpoint, T1's checkpoint).
fn two_milestones() -> (TestRepo, String, String) {
    let t = TestRepo::with_files(&[("docs/plan.md", "# plan\n"), ("src/lib.rs", "\n")]);
    let mut m2 = milestone_status("M2", Running, &[("A1", Done), ("A2", Pending)]);
    m2.base_commit = Some(t.git(&["rev-parse", "HEAD"]).trim().to_string());
    t.checkpoint(&m2, "A1");
    m2.state = Completed;
    m2.tasks[1].state = Done;
    let a2 = t.checkpoint(&m2, "A2");

    let mut m1 = milestone_status(
        "M1",
        Running,
        &[("T1", Done), ("T2", Pending), ("T3", Pending)],
    );
    m1.base_commit = Some(a2.clone());
    let t1 = t.checkpoint(&m1, "T1");
    // The failure is written to the work tree only, with T1's checkpoint filled in.
    m1.state = Failed;
    m1.tasks[0].checkpoint = Some(t1.clone());
    m1.tasks[1].state = TaskState::Failed;
    m1.tasks[1].attempts = 2;
    m1.tasks[1].started_at = Some("2026-01-01T00:05:00Z".into());
    m1.tasks[1].ended_at = Some("2026-01-01T00:08:05Z".into());
    m1.tasks[1].exit_code = Some(1);
    m1.tasks[1].duration_ms = Some(185_000);
    m1.failure = Some(Failure {
        task: "T2".into(),
        at: "2026-01-01T00:10:00Z".into(),
        exit_code: Some(1),
        attempts: 2,
        rolled_back: false,
        saved_ref: None,
        head: None,
    });
    t.write_status(&m1);
    (t, a2, t1)
}

fn short(oid: &str) -> &str {
    &oid[..7]
}

#[test]
fn no_milestones_says_how_to_start_one() {
    let t = TestRepo::with_files(&[("a.txt", "a\n")]);
    let out = t.run(["status"]);
    out.success();
    assert_eq!(
        out.stdout,
        "No milestone has run in this repository yet.\n\
         Start one with `git milestone run <name>` (preview it with `git milestone plan <name>`).\n"
    );
    assert_eq!(out.stderr, "");
    let out = t.run(["status", "--json", "--exit-code"]);
    out.success();
    assert_eq!(
        out.json(),
        serde_json::json!({"version": 1, "milestones": [], "live_run": null})
    );
}

#[test]
fn table_of_all_milestones_from_a_subdirectory() {
    let (t, a2, t1) = two_milestones();
    let out = common::Run::from(t.cmd_in("src").arg("status").output().unwrap());
    out.success();
    let want = format!(
        "MILESTONE  STATE      PROGRESS  TASK  LAST CHECKPOINT  UPDATED\n\
         ---------- ---------- --------- ----- ---------------- ---------------------\n\
         M1         failed     1/3       T2    {} T1       2026-01-01T00:10:00Z\n\
         M2         completed  2/2             {} A2       2026-01-01T00:00:04Z\n",
        short(&t1),
        short(&a2)
    );
    assert_eq!(out.stdout, want);
    assert_eq!(out.stderr, "");
}

#[test]
fn one_milestone_task_by_task() {
    let (t, _, t1) = two_milestones();
    let out = t.run(["status", "M1"]);
    out.success();
    let want = format!(
        "M1: failed at T2, 1/3 tasks done (plan docs/plan.md)\n\
         ID  TITLE    STATE    ATTEMPTS  DURATION  CHECKPOINT\n\
         --- -------- -------- --------- --------- -----------\n\
         T1  Task T1  done     1         4.2s      {}\n\
         T2  Task T2  failed   2         3m05s\n\
         T3  Task T3  pending  0\n\
         Retry with `git milestone run M1`, or roll back with `git milestone rollback M1`.\n",
        short(&t1)
    );
    assert_eq!(out.stdout, want);
}

#[test]
fn checkpoint_comes_from_the_ref_when_the_file_has_none() {
    let (t, a2, _) = two_milestones();
    let a1 = t.git(&["rev-parse", "refs/milestone/M2/checkpoints/A1"]);
    let json = t.run(["status", "M2", "--json"]).json();
    let m = &json["milestone"];
    assert_eq!(m["tasks"][0]["checkpoint"], a1.trim());
    assert_eq!(m["tasks"][1]["checkpoint"], a2.as_str());
    assert_eq!(
        m["last_checkpoint"],
        serde_json::json!({"task": "A2", "commit": a2})
    );
}

#[test]
fn this_branchs_checkpoint_wins_over_a_ref_another_run_moved() {
    let (t, _, t1) = two_milestones();
    // Another worktree's run of M1 pointed the shared ref elsewhere.
    let other = t.git(&["rev-parse", "HEAD~1"]);
    t.git(&[
        "update-ref",
        "refs/milestone/M1/checkpoints/T1",
        other.trim(),
    ]);
    let json = t.run(["status", "M1", "--json"]).json();
    assert_eq!(json["milestone"]["tasks"][0]["checkpoint"], t1.as_str());
}

#[test]
fn json_list_and_detail() {
    let (t, a2, t1) = two_milestones();
    let list = t.run(["status", "--json"]);
    list.success();
    let j = list.json();
    assert_eq!(j["version"], 1);
    let m1 = &j["milestones"][0];
    assert_eq!(
        *m1,
        serde_json::json!({
            "name": "M1",
            "state": "failed",
            "path": ".milestone_bundles/M1/status.json",
            "error": null,
            "plan": "docs/plan.md",
            "done": 1,
            "total": 3,
            "current_task": "T2",
            "last_checkpoint": {"task": "T1", "commit": t1},
            "started_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:10:00Z",
            "failure": {
                "task": "T2", "at": "2026-01-01T00:10:00Z", "exit_code": 1,
                "attempts": 2, "rolled_back": false, "saved_ref": null
            }
        })
    );
    assert_eq!(j["milestones"][1]["state"], "completed");
    assert_eq!(j["milestones"][1]["last_checkpoint"]["commit"], a2.as_str());
    assert_eq!(j["milestones"].as_array().unwrap().len(), 2);

    let one = t.run(["status", "M1", "--json"]).json();
    assert_eq!(one["version"], 1);
    let tasks = one["milestone"]["tasks"].as_array().unwrap();
    assert_eq!(
        tasks[1],
        serde_json::json!({
            "id": "T2", "title": "Task T2", "state": "failed", "attempts": 2,
            "started_at": "2026-01-01T00:05:00Z", "ended_at": "2026-01-01T00:08:05Z",
            "duration_ms": 185000, "exit_code": 1, "checkpoint": null
        })
    );
    assert_eq!(tasks[0]["checkpoint"], t1.as_str());
    assert_eq!(tasks[2]["state"], "pending");
}

#[test]
fn exit_code_reports_failed_and_mid_run() {
    let (t, _, _) = two_milestones();
    t.run(["status"]).code(0);
    t.run(["status", "--exit-code"]).code(1);
    t.run(["status", "M1", "--exit-code"]).code(1);
    t.run(["status", "M2", "--exit-code"]).code(0);

    let running = milestone_status("M3", Running, &[("X1", Done), ("X2", Pending)]);
    t.write_status(&running);
    t.run(["status", "M3", "--exit-code"]).code(3);
    std::fs::remove_dir_all(t.path().join(".milestone_bundles/M1")).unwrap();
    t.run(["status", "--exit-code"]).code(3);
    t.run(["status", "--json", "--exit-code"]).code(3);
}

#[test]
fn unknown_and_invalid_names_exit_2() {
    let (t, _, _) = two_milestones();
    let out = t.run(["status", "M9"]);
    out.code(2);
    assert_eq!(
        out.stderr,
        "error: no milestone named \"M9\" has a status file in .milestone_bundles/\n\
         hint: milestones with a status: M1, M2\n\
         hint: list them with `git milestone status`\n"
    );
    assert_eq!(out.stdout, "");
    let out = t.run(["status", "../x"]);
    out.code(2);
    assert!(
        out.stderr
            .starts_with("error: \"../x\" is not a valid milestone name"),
        "{}",
        out.stderr
    );

    let empty = TestRepo::new();
    let out = empty.run(["status", "M1"]);
    out.code(2);
    assert!(
        out.stderr.ends_with(
            "hint: no milestone has run here yet; start this one with `git milestone run M1`\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn unreadable_status_file_is_listed_and_the_rest_still_reported() {
    let (t, _, _) = two_milestones();
    t.write(
        ".milestone_bundles/M1/status.json",
        "{\"version\": 1, \"mile",
    );
    let out = t.run(["status"]);
    out.success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert_eq!(
        lines[2],
        "M1         unreadable                                   .milestone_bundles/M1/status.json"
    );
    assert!(
        lines[3].starts_with("M2         completed   2/2"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.starts_with(
            "warning: .milestone_bundles/M1/status.json is not a valid status file\ncause: "
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("\nhint: "), "{}", out.stderr);
    t.run(["status", "--exit-code"]).code(1);
    let j = t.run(["status", "--json"]).json();
    assert_eq!(j["milestones"][0]["state"], "unreadable");
    assert_eq!(
        j["milestones"][0]["error"],
        ".milestone_bundles/M1/status.json is not a valid status file"
    );

    let out = t.run(["status", "M1"]);
    out.code(2);
    assert!(
        out.stderr
            .starts_with("error: .milestone_bundles/M1/status.json is not a valid")
    );

    // Nothing readable at all: exit 2.
    std::fs::remove_dir_all(t.path().join(".milestone_bundles/M2")).unwrap();
    t.run(["status"]).code(2);
}

#[test]
fn colour_never_reaches_a_pipe_and_columns_limits_width() {
    let (t, _, _) = two_milestones();
    let out = common::Run::from(t.cmd().args(["status", "M1"]).output().unwrap());
    out.success();
    assert!(out.stdout.starts_with("M1: failed at T2"), "{}", out.stdout);
    assert!(!out.stdout.contains('\u{1b}'));
    let out = common::Run::from(
        t.cmd()
            .env("COLUMNS", "40")
            .args(["status"])
            .output()
            .unwrap(),
    );
    out.success();
    assert!(
        out.stdout.lines().any(|l| l.starts_with("M1 ")),
        "{}",
        out.stdout
    );
    // Narrower than with no limit, but never by splitting a header or a
    // state: too narrow, the table is wider than COLUMNS instead.
    let widest = |s: &str| s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let unlimited = t.run(["status"]);
    assert!(
        widest(&out.stdout) < widest(&unlimited.stdout),
        "{}",
        out.stdout
    );
    let words: Vec<&str> = out.stdout.split_whitespace().collect();
    for word in [
        "MILESTONE",
        "PROGRESS",
        "CHECKPOINT",
        "UPDATED",
        "completed",
        "failed",
    ] {
        assert!(words.contains(&word), "{word} is split:\n{}", out.stdout);
    }
}

/// Run `status <args>` on a pseudo-terminal (util-linux `script`), `cols` wide.
#[cfg(target_os = "linux")]
fn status_on_terminal(t: &TestRepo, cols: u16, no_color: bool) -> String {
    let inner = format!("stty cols {cols}; '{}' status", common::bin().display());
    let mut c = std::process::Command::new("script");
    common::seal(&mut c, t.home.path());
    c.current_dir(t.path()).args(["-qec", &inner, "/dev/null"]);
    if no_color {
        c.env("NO_COLOR", "1");
    }
    let out = common::Run::from(c.output().expect("util-linux `script` is needed"));
    out.success();
    out.stdout.replace("\r\n", "\n")
}

#[cfg(target_os = "linux")]
#[test]
fn colour_on_a_terminal_unless_no_color() {
    let (t, _, _) = two_milestones();
    let coloured = status_on_terminal(&t, 120, false);
    assert!(coloured.contains("\u{1b}[38;5;9mfailed"), "{coloured:?}");
    let plain = status_on_terminal(&t, 120, true);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(
        plain.starts_with("MILESTONE  STATE      PROGRESS"),
        "{plain:?}"
    );
    // The terminal's width limits the table as COLUMNS does.
    let narrow = status_on_terminal(&t, 45, true);
    let widest = |s: &str| s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest(&narrow) < widest(&plain), "{narrow}");
    assert!(
        narrow.split_whitespace().any(|w| w == "CHECKPOINT"),
        "{narrow}"
    );
}

#[test]
fn symlinked_bundles_are_unreadable_not_followed() {
    let (t, _, _) = two_milestones();
    let outside = t.home.path().join("outside");
    std::fs::rename(t.path().join(".milestone_bundles/M2"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, t.path().join(".milestone_bundles/M2")).unwrap();
    let j = t.run(["status", "--json"]).json();
    assert_eq!(j["milestones"][1]["name"], "M2");
    assert_eq!(j["milestones"][1]["state"], "unreadable");
    assert_eq!(
        j["milestones"][1]["error"],
        ".milestone_bundles/M2 is a symbolic link; git-milestone reads and writes only real files there"
    );
    let out = t.run(["status", "M2"]);
    out.code(2);
    assert!(
        out.stderr
            .starts_with("error: .milestone_bundles/M2 is a symbolic link;"),
        "{}",
        out.stderr
    );

    std::fs::remove_file(t.path().join(".milestone_bundles/M2")).unwrap();
    let bundles = t.home.path().join("bundles");
    std::fs::rename(t.path().join(".milestone_bundles"), &bundles).unwrap();
    std::os::unix::fs::symlink(&bundles, t.path().join(".milestone_bundles")).unwrap();
    let out = t.run(["status"]);
    out.code(2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .starts_with("error: .milestone_bundles is not a directory (a symbolic link?)"),
        "{}",
        out.stderr
    );
}

/// Title set, erase line and clipboard write: what a hostile plan or status
/// file could try to send to the terminal.
const HOSTILE: &str = "x\u{1b}]0;owned\u{7} \u{1b}[2K \u{1b}]52;c;aGk=\u{7}";

#[track_caller]
fn assert_no_escapes(text: &str) {
    for c in ['\u{1b}', '\u{7}', '\u{9b}'] {
        assert!(!text.contains(c), "{c:?} reached the output:\n{text}");
    }
}

#[test]
fn titles_ids_and_paths_from_a_status_file_never_reach_the_terminal_raw() {
    let t = TestRepo::with_files(&[("a.txt", "a\n")]);
    let evil_id = format!("T{HOSTILE}");
    let mut s = milestone_status(
        "M1",
        Failed,
        &[("T1", Done), (evil_id.as_str(), TaskState::Failed)],
    );
    s.tasks[0].title = format!("Title {HOSTILE}");
    s.plan = format!("plan{HOSTILE}.md");
    s.failure = Some(Failure {
        task: evil_id.clone(),
        at: "2026-01-01T00:10:00Z".into(),
        exit_code: Some(1),
        attempts: 1,
        rolled_back: false,
        saved_ref: None,
        head: None,
    });
    t.write_status(&s);
    let list = t.run(["status"]);
    let one = t.run(["status", "M1"]);
    for out in [&list, &one, &t.run(["status", "--json"])] {
        out.success();
        assert_no_escapes(&out.stdout);
        assert_no_escapes(&out.stderr);
    }
    insta::assert_snapshot!(list.render(&t), @r"
        exit: 0
        --- stdout
        MILESTONE  STATE   PROGRESS  TASK                                           LAST CHECKPOINT  UPDATED
        ---------- ------- --------- ---------------------------------------------- ---------------- ---------------------
        M1         failed  1/2       Tx\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07                   [TIME]
        --- stderr
        ");
    insta::assert_snapshot!(one.render(&t), @r"
        exit: 0
        --- stdout
        M1: failed at Tx\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07, 1/2 tasks done (plan planx\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07.md)
        ID                                             TITLE                                               STATE   ATTEMPTS  DURATION  CHECKPOINT
        ---------------------------------------------- --------------------------------------------------- ------- --------- --------- -----------
        T1                                             Title x\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07  done    1         [DURATION]
        Tx\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07  Task Tx\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07  failed  1         [DURATION]
        Retry with `git milestone run M1`, or roll back with `git milestone rollback M1`.
        --- stderr
        ");
}

#[test]
fn hints_quote_the_names_they_suggest() {
    let t = TestRepo::with_files(&[("a.txt", "a\n")]);
    let s = milestone_status("M$(x)", Running, &[("T1", Done), ("T2", Pending)]);
    t.write_status(&s);
    let out = t.run(["status", "M$(x)"]);
    out.success();
    assert!(
        out.stdout.ends_with("`git milestone run 'M$(x)'`.\n"),
        "{}",
        out.stdout
    );
    let empty = TestRepo::new();
    let out = empty.run(["status", "it's"]);
    insta::assert_snapshot!(out.render(&empty), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: no milestone named "it's" has a status file in .milestone_bundles/
        hint: no milestone has run here yet; start this one with `git milestone run "it's"`
        "#);
}

#[test]
fn a_live_run_is_reported_with_its_pid_instead_of_advice_the_lock_refuses() {
    let t = TestRepo::with_files(&[("plan.md", "# M1\n- [ ] T001 First\n")]);
    let mut m2 = milestone_status("M2", Failed, &[("A1", TaskState::Failed)]);
    m2.failure = Some(Failure {
        task: "A1".into(),
        at: "2026-01-01T00:10:00Z".into(),
        exit_code: Some(1),
        attempts: 1,
        rolled_back: false,
        saved_ref: None,
        head: None,
    });
    t.write_status(&m2);
    let go = t.home.path().join("go");
    let runner = common::runner::script(
        &t,
        "wait.sh",
        &format!("while [ ! -e '{}' ]; do sleep 0.05; done", go.display()),
    );
    let child = common::runner::run_cmd(&t, &runner, &[])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = t.path().join(".git/milestone/M1/logs/T001.1.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !log.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the task never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let one = t.run(["status", "M1"]);
    let other = t.run(["status", "M2"]);
    let all = t.run(["status"]);
    let json = t.run(["status", "--json"]).json();
    std::fs::write(&go, "").unwrap();
    let done: common::Run = child.wait_with_output().unwrap().into();
    done.success();

    insta::assert_snapshot!(one.render(&t), @r"
        exit: 0
        --- stdout
        M1: running at T001, 0/1 tasks done (plan plan.md)
        ID    TITLE  STATE    ATTEMPTS  DURATION  CHECKPOINT
        ----- ------ -------- --------- --------- -----------
        T001  First  running  1
        A run of M1 is in progress (pid [PID], started [TIME]): wait for it to finish, or stop it with Ctrl-C in its terminal.
        --- stderr
        ");
    insta::assert_snapshot!(other.render(&t), @r"
        exit: 0
        --- stdout
        M2: failed at A1, 0/1 tasks done (plan docs/plan.md)
        ID  TITLE    STATE   ATTEMPTS  DURATION  CHECKPOINT
        --- -------- ------- --------- --------- -----------
        A1  Task A1  failed  1         [DURATION]
        A run of M1 is in progress (pid [PID], started [TIME]); once it has finished, retry with `git milestone run M2`, or roll back with `git milestone rollback M2`.
        --- stderr
        ");
    insta::assert_snapshot!(all.render(&t), @r"
        exit: 0
        --- stdout
        MILESTONE  STATE    PROGRESS  TASK  LAST CHECKPOINT  UPDATED
        ---------- -------- --------- ----- ---------------- ---------------------
        M1         running  0/1       T001                   [TIME]
        M2         failed   0/1       A1                     [TIME]
        A run of M1 is in progress (pid [PID], started [TIME]).
        --- stderr
        ");
    assert_eq!(json["live_run"]["milestone"], "M1");
    assert!(json["live_run"]["pid"].as_u64().unwrap() > 0, "{json}");
    // Once it has finished, nothing is in progress.
    let after = t.run(["status", "--json"]).json();
    assert_eq!(after["live_run"], serde_json::Value::Null);
}

#[test]
fn a_skipped_last_task_shows_its_checkpoint() {
    let t = TestRepo::with_files(&[("a.txt", "a\n")]);
    let mut s = milestone_status("M1", Running, &[("T1", Done), ("T2", Pending)]);
    t.checkpoint(&s, "T1");
    s.state = Completed;
    s.tasks[1].state = TaskState::Skipped;
    s.tasks[1].exit_code = Some(125);
    s.tasks[1].attempts = 1;
    let t2 = t.checkpoint(&s, "T2");
    // Commit ids depend on the status file's bytes: name T2's by its role.
    let render = |out: &common::Run| {
        common::Run {
            code: out.code,
            stdout: out.stdout.replace(short(&t2), "[T2-CHECKPOINT]"),
            stderr: out.stderr.clone(),
        }
        .render(&t)
    };
    let out = t.run(["status", "M1"]);
    insta::assert_snapshot!(render(&out), @r"
        exit: 0
        --- stdout
        M1: completed, 2/2 tasks (plan docs/plan.md)
        ID  TITLE    STATE    ATTEMPTS  DURATION  CHECKPOINT
        --- -------- -------- --------- --------- -----------
        T1  Task T1  done     1         [DURATION]      [OID]
        T2  Task T2  skipped  1                   [T2-CHECKPOINT]
        --- stderr
        ");
    let json = t.run(["status", "M1", "--json"]).json();
    assert_eq!(json["milestone"]["tasks"][1]["checkpoint"], t2.as_str());
    assert_eq!(
        json["milestone"]["last_checkpoint"],
        serde_json::json!({"task": "T2", "commit": t2})
    );
    let all = t.run(["status"]);
    insta::assert_snapshot!(render(&all), @r"
        exit: 0
        --- stdout
        MILESTONE  STATE      PROGRESS  TASK  LAST CHECKPOINT  UPDATED
        ---------- ---------- --------- ----- ---------------- ---------------------
        M1         completed  2/2             [T2-CHECKPOINT] T2       [TIME]
        --- stderr
        ");
}

#[test]
fn timestamps_never_wrap_in_an_80_column_table() {
    let (t, a2, t1) = two_milestones();
    let long = milestone_status(
        "001-password-reset-flow",
        Running,
        &[("T001", Done), ("T002", Pending)],
    );
    t.write_status(&long);
    let out = common::Run::from(t.cmd().env("COLUMNS", "80").arg("status").output().unwrap());
    out.success();
    for line in out.stdout.lines() {
        assert!(line.chars().count() <= 80, "{line:?} is wider than 80");
    }
    let rows = out.stdout.lines().filter(|l| l.contains("2026-01-01T00:"));
    assert_eq!(rows.count(), 3, "{}", out.stdout);
    // Commit ids depend on the status files' bytes: name them by role.
    let named = common::Run {
        code: out.code,
        stdout: out
            .stdout
            .replace(short(&t1), "[T1-CP]")
            .replace(short(&a2), "[A2-CP]"),
        stderr: out.stderr.clone(),
    };
    insta::assert_snapshot!(named.render(&t), @r"
        exit: 0
        --- stdout
        MILESTONE           STATE      PROGRESS  TASK  LAST        UPDATED
                                                       CHECKPOINT
        ------------------- ---------- --------- ----- ----------- ---------------------
        001-password-reset  running    1/2       T002              [TIME]
        -flow
        M1                  failed     1/3       T2    [T1-CP] T1  [TIME]
        M2                  completed  2/2             [A2-CP] A2  [TIME]
        --- stderr
        ");
}

#[test]
fn a_run_in_another_worktree_does_not_move_this_branchs_checkpoints() {
    let t = TestRepo::with_files(&[("plan.md", &common::history::plan(2))]);
    let other = t.home.path().join("other");
    t.add_worktree("b", &other);
    let runner = common::runner::script(&t, "runner.sh", "echo \"$1\" > \"$1.txt\"");
    common::runner::run_m1(&t, &runner, &[]).success();
    // (commit) of TASK-001 and TASK-002 on main, by their trailers.
    let here: Vec<String> = ["TASK-001", "TASK-002"]
        .iter()
        .map(|id| {
            let grep = format!("--grep=^Milestone-Task: {id}$");
            t.git(&["log", "-1", "--format=%H", &grep])
                .trim()
                .to_string()
        })
        .collect();
    // Other work, so that branch b's checkpoints are other commits (dates
    // are fixed; a run's timings alone may not tell them apart).
    let runner_b = common::runner::script(&t, "runner-b.sh", "echo \"$1 b\" > \"$1.txt\"");
    common::Run::from(
        common::runner::run_cmd_in(&t, &other, &runner_b, &[])
            .output()
            .unwrap(),
    )
    .success();
    // The shared refs now name branch b's checkpoints.
    let moved = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-002"]);
    assert_ne!(moved.trim(), here[1]);
    let json = t.run(["status", "M1", "--json"]).json();
    let m = &json["milestone"];
    assert_eq!(m["tasks"][0]["checkpoint"], here[0].as_str());
    assert_eq!(m["tasks"][1]["checkpoint"], here[1].as_str());
    assert_eq!(
        m["last_checkpoint"],
        serde_json::json!({"task": "TASK-002", "commit": here[1]})
    );
    let list = t.run(["status", "--json"]).json();
    assert_eq!(
        list["milestones"][0]["last_checkpoint"]["commit"],
        here[1].as_str()
    );
}

#[test]
fn a_run_rebased_off_its_base_still_finds_its_checkpoints_on_the_branch() {
    let t = TestRepo::with_files(&[("plan.md", &common::history::plan(2))]);
    let runner = common::runner::script(&t, "runner.sh", "echo \"$1\" > \"$1.txt\"");
    common::runner::run_m1(&t, &runner, &[]).success();
    // The run's base (the first commit) is reworded, and the run's two
    // checkpoints rebased onto the new one: the base is no longer on
    // HEAD's line, and the refs still name the commits before the rebase.
    let reworded = t.git(&["commit-tree", "HEAD~2^{tree}", "-m", "reworded"]);
    t.git(&["rebase", "-q", "--onto", reworded.trim(), "HEAD~2"]);
    let line: Vec<String> = t
        .git(&["log", "--format=%H", "-2"])
        .lines()
        .rev()
        .map(str::to_string)
        .collect();
    let old = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-002"]);
    assert_ne!(old.trim(), line[1]);
    let json = t.run(["status", "M1", "--json"]).json();
    let m = &json["milestone"];
    assert_eq!(m["tasks"][0]["checkpoint"], line[0].as_str());
    assert_eq!(m["tasks"][1]["checkpoint"], line[1].as_str());
}
