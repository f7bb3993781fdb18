//! Skipped tasks (`--on-failure skip`, a runner's exit 125): their changes
//! are saved as an attempt and never committed, and the milestone ends
//! "completed with skipped tasks" in the status file, `run`, `status` and
//! the pre-push hook.

mod common;

use common::inspect::{M1_STATUS, assert_fsck_clean, porcelain, status_json};
use common::runner::{run_m1, script};
use common::{Run, TestRepo};

const PLAN3: &str = "# M1\n\n## Tasks\n\n\
    - [ ] TASK-001: Create a.txt\n\
    - [ ] TASK-002: Half-done work\n\
    - [ ] TASK-003: Create c.txt\n";

/// A runner whose TASK-002 edits a tracked file, makes two new files and
/// a commit of its own, then exits `code`; the other tasks write `<ID>.txt`.
fn half_done_runner(t: &TestRepo, code: i32) -> std::path::PathBuf {
    script(
        t,
        "runner.sh",
        &format!(
            "if [ \"$1\" != TASK-002 ]; then echo \"$1\" > \"$1.txt\"; exit 0; fi\n\
             echo wip > committed-by-task.txt && git add committed-by-task.txt && git commit -q -m 'agent wip'\n\
             echo half >> README.md\necho half > half.txt\nmkdir -p out && echo x > out/new.txt\nexit {code}"
        ),
    )
}

/// The pre-push hook's check of pushing HEAD to `main`.
fn pre_push(t: &TestRepo) -> Run {
    let head = common::inspect::head(t);
    let mut c = t.cmd();
    c.args(["hook", "pre-push", "origin", "url"]);
    common::run_with_stdin(
        &mut c,
        &format!(
            "refs/heads/main {head} refs/heads/main {}\n",
            "0".repeat(40)
        ),
    )
}

/// Everything a skipped task changed is in its attempt ref and in no
/// commit on the branch, and the work tree is clean.
#[track_caller]
fn assert_set_aside(t: &TestRepo, saved: &str) {
    assert_eq!(porcelain(t), "");
    assert_eq!(t.read("README.md"), "base\n");
    for gone in ["half.txt", "out/new.txt", "committed-by-task.txt"] {
        assert!(!t.path().join(gone).exists(), "{gone} is still there");
        let on_branch = t.git(&["log", "--format=%h", "--", gone]);
        assert_eq!(on_branch, "", "{gone} was committed");
    }
    assert_eq!(t.git(&["show", &format!("{saved}:half.txt")]), "half\n");
    assert_eq!(
        t.git(&["show", &format!("{saved}:README.md")]),
        "base\nhalf\n"
    );
    assert_eq!(
        t.git(&["log", "-1", "--format=%s", &format!("{saved}~1")]),
        "agent wip\n",
        "the task's own commit is kept below the saved attempt"
    );
    assert_fsck_clean(t);
}

#[test]
fn on_failure_skip_never_commits_the_failed_tasks_changes() {
    let t = TestRepo::with_files(&[("plan.md", PLAN3), ("README.md", "base\n")]);
    let runner = half_done_runner(&t, 3);
    let out = run_m1(&t, &runner, &["--on-failure", "skip"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Starting TASK-001 [1/3] Create a.txt
    checkpoint [OID] TASK-001 [1/3] in [DURATION]
    Starting TASK-002 [2/3] Half-done work
    checkpoint [OID] TASK-002 [2/3] (skipped) in [DURATION]
    Starting TASK-003 [3/3] Create c.txt
    checkpoint [OID] TASK-003 [3/3] in [DURATION]
    Milestone M1 completed with skipped tasks: TASK-002 (3 tasks run).
    A skipped task's changes are not committed: they are saved under refs/milestone/M1/attempts/TASK-002/.
    To run the skipped tasks again: git milestone run M1
    --- stderr
    TASK-002 failed (exit code 3) after [DURATION]; log: [REPO]/.git/milestone/M1/logs/TASK-002.1.log
    ");
    let saved = "refs/milestone/M1/attempts/TASK-002/1";
    assert_set_aside(&t, saved);
    assert_eq!(
        t.git(&["log", "--format=%s", "-3"]),
        "M1 TASK-003: Create c.txt\nM1 TASK-002 skipped\nM1 TASK-001: Create a.txt\n"
    );
    // The skip's checkpoint holds the status file and nothing else.
    let skip = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-002"]);
    assert_eq!(
        t.git(&["show", "--name-only", "--format=", skip.trim()]),
        format!("{M1_STATUS}\n")
    );
    insta::assert_snapshot!(t.git(&["log", "-1", "--format=%B", skip.trim()]), @r"
    M1 TASK-002 skipped

    TASK-002 was skipped (failed: exit code 3); this commit records that in the status
    file and holds none of its changes, which are saved in refs/milestone/M1/attempts/TASK-002/1.

    Milestone: M1
    Milestone-Task: TASK-002
    Milestone-Progress: 2/3
    Milestone-Attempts: 1
    Milestone-Skipped: failed: exit code 3
    ");
    let status = status_json(&t);
    assert_eq!(status["state"], "completed_with_skips");
    assert_eq!(status["tasks"][1]["state"], "skipped");
    assert_eq!(status["tasks"][1]["exit_code"], 3);
    assert_eq!(status["failure"], serde_json::Value::Null);

    // status, its JSON and --exit-code say so; the hook refuses the push.
    let out = t.run(["status", "M1", "--exit-code"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let lines: Vec<&str> = out.stdout.lines().collect();
    insta::assert_snapshot!(format!("{}\n{}", lines[0], lines[lines.len() - 1]), @r"
    M1: completed with skipped tasks (TASK-002), 3/3 tasks (plan plan.md)
    A skipped task's changes are not committed: they are saved under refs/milestone/M1/attempts/TASK-002/.
    ");
    let out = t.run(["status", "--exit-code"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("completed with skips"),
        "{}",
        out.stdout
    );
    let json = t.run(["status", "--json"]).json();
    assert_eq!(json["milestones"][0]["state"], "completed_with_skips");
    insta::assert_snapshot!(pre_push(&t).render(&t), @r"
    exit: 1
    --- stdout
    --- stderr
    error: not pushing main: milestone M1 completed with skipped tasks: TASK-002 (their changes are not committed); run them again with `git milestone run M1` (see them with `git milestone status M1`), or skip this check with `git push --no-verify`
    ");
    // Running again runs TASK-002 again, which fails and is skipped again.
    run_m1(&t, &runner, &[]).success();
    assert_eq!(porcelain(&t), "");
}

/// A runner's exit 125 ("skip this task", as with `git bisect run`) skips
/// the task; whatever it changed is saved as an attempt, not committed.
#[test]
fn exit_125_skips_the_task_and_saves_what_it_changed() {
    let t = TestRepo::with_files(&[("plan.md", PLAN3), ("README.md", "base\n")]);
    // Untracked before the run, and written while... the user's all along.
    t.write("notes.txt", "mine\n");
    let runner = half_done_runner(&t, 125);
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Starting TASK-001 [1/3] Create a.txt
    checkpoint [OID] TASK-001 [1/3] in [DURATION]
    Starting TASK-002 [2/3] Half-done work
    checkpoint [OID] TASK-002 [2/3] (skipped) in [DURATION]
    Starting TASK-003 [3/3] Create c.txt
    checkpoint [OID] TASK-003 [3/3] in [DURATION]
    Milestone M1 completed with skipped tasks: TASK-002 (3 tasks run).
    A skipped task's changes are not committed: they are saved under refs/milestone/M1/attempts/TASK-002/.
    To run the skipped tasks again: git milestone run M1
    --- stderr
    ");
    assert_eq!(t.read("notes.txt"), "mine\n");
    std::fs::remove_file(t.path().join("notes.txt")).unwrap();
    assert_set_aside(&t, "refs/milestone/M1/attempts/TASK-002/1");
    let skip = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-002"]);
    assert_eq!(
        t.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Milestone-Skipped,valueonly)",
            skip.trim()
        ]),
        "exit code 125\n\n"
    );
    assert_eq!(status_json(&t)["state"], "completed_with_skips");
}

/// A skipped task that changed nothing leaves no attempt ref, and the
/// last task skipped still ends the milestone as completed with skips.
#[test]
fn a_skipped_last_task_that_changed_nothing_saves_nothing() {
    let t = TestRepo::with_files(&[(
        "plan.md",
        "# M1\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n",
    )]);
    let runner = script(
        &t,
        "runner.sh",
        "[ \"$1\" = TASK-002 ] && exit 125\necho \"$1\" > \"$1.txt\"",
    );
    run_m1(&t, &runner, &[]).success();
    assert_eq!(t.git(&["for-each-ref", "refs/milestone/M1/attempts/"]), "");
    assert_eq!(
        t.git(&["show", "--name-only", "--format=%s", "HEAD"]),
        format!("M1 TASK-002 skipped\n\n{M1_STATUS}\n")
    );
    assert!(
        t.git(&["log", "-1", "--format=%b", "HEAD"])
            .contains("holds none of its changes (it made none)")
    );
    let committed: serde_json::Value =
        serde_json::from_str(&t.git(&["show", &format!("HEAD:{M1_STATUS}")])).unwrap();
    assert_eq!(committed["state"], "completed_with_skips");
}

/// A milestone that completed with skipped tasks is no dead end: `run`
/// runs just the skipped ones again, after the others (their checkpoints
/// come last), and the milestone completes; the pre-push hook then passes.
#[test]
fn run_after_completed_with_skips_runs_only_the_skipped_tasks() {
    let t = TestRepo::with_files(&[("plan.md", PLAN3)]);
    let flag = t.home.path().join("skip");
    std::fs::write(&flag, "").unwrap();
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "[ \"$1\" = TASK-002 ] && [ -e '{}' ] && exit 125\necho \"$1\" > \"$1.txt\"",
            flag.display()
        ),
    );
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Starting TASK-001 [1/3] Create a.txt
    checkpoint [OID] TASK-001 [1/3] in [DURATION]
    Starting TASK-002 [2/3] Half-done work
    checkpoint [OID] TASK-002 [2/3] (skipped) in [DURATION]
    Starting TASK-003 [3/3] Create c.txt
    checkpoint [OID] TASK-003 [3/3] in [DURATION]
    Milestone M1 completed with skipped tasks: TASK-002 (3 tasks run).
    A skipped task's changes are not committed: they are saved under refs/milestone/M1/attempts/TASK-002/.
    To run the skipped tasks again: git milestone run M1
    --- stderr
    ");
    insta::assert_snapshot!(pre_push(&t).render(&t), @r"
    exit: 1
    --- stdout
    --- stderr
    error: not pushing main: milestone M1 completed with skipped tasks: TASK-002 (their changes are not committed); run them again with `git milestone run M1` (see them with `git milestone status M1`), or skip this check with `git push --no-verify`
    ");
    std::fs::remove_file(&flag).unwrap();
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    running the skipped task again: TASK-002
    Starting TASK-002 [3/3] (attempt 2) Half-done work
    checkpoint [OID] TASK-002 [3/3] in [DURATION]
    Milestone M1 is complete (1 task run now, 2 done before).
    --- stderr
    ");
    assert_eq!(
        t.git(&["log", "--format=%s", "-4"]),
        "M1 TASK-002: Half-done work\nM1 TASK-003: Create c.txt\nM1 TASK-002 skipped\nM1 TASK-001: Create a.txt\n"
    );
    assert_eq!(status_json(&t)["state"], "completed");
    pre_push(&t).success();
    assert_eq!(porcelain(&t), "");
    assert_fsck_clean(&t);
}
