//! Resuming after a stopped attempt: the run's record decides what is
//! done (not marks the runner ticked), the stopped task continues its own
//! changes first, and the refusal of a dirty tree never turns a stopped
//! attempt's work into the user's commit.

mod common;

use common::inspect::{checkpoint_ids, porcelain, status_json};
use common::runner::{run_m1, script};
use common::{Run, TestRepo};

const PLAN3: &str = "# Milestone M1\n\n- [ ] T001 one\n- [ ] T002 two\n- [ ] T003 three\n";

/// A runner that ticks its own box in plan.md (as agents do), writes
/// `<ID>.txt`, and fails on `T002` while `fail` exists in HOME.
fn ticking_runner(t: &TestRepo) -> std::path::PathBuf {
    let fail = t.home.path().join("fail");
    script(
        t,
        "tick.sh",
        &format!(
            "sed -i \"s/- \\[ \\] $1 /- [x] $1 /\" plan.md\necho \"$1\" > \"$1.txt\"\n\
             if [ \"$1\" = T002 ] && [ -e '{}' ]; then echo \"$1 broke\"; exit 1; fi",
            fail.display()
        ),
    )
}

/// M1 of [`PLAN3`] with T002 failed after ticking its box.
fn failed_after_ticking() -> (TestRepo, std::path::PathBuf) {
    let t = TestRepo::with_files(&[("plan.md", PLAN3)]);
    let runner = ticking_runner(&t);
    std::fs::write(t.home.path().join("fail"), "").unwrap();
    run_m1(&t, &runner, &[]).code(1);
    std::fs::remove_file(t.home.path().join("fail")).unwrap();
    assert!(t.read("plan.md").contains("- [x] T002 two"));
    (t, runner)
}

#[test]
fn a_failed_task_that_ticked_its_box_is_continued_not_taken_as_done() {
    let (t, runner) = failed_after_ticking();
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    continuing on top of the failed attempt's changes; `git milestone rollback M1` discards them
    Starting T002 [2/3] (attempt 2) two
    checkpoint [OID] T002 [2/3] in [DURATION]
    Starting T003 [3/3] three
    checkpoint [OID] T003 [3/3] in [DURATION]
    Milestone M1 is complete (2 tasks run now, 1 done before).
    --- stderr
    warning: T002 is marked done in plan.md, but its last attempt failed and it has no checkpoint: it runs again
    ");
    assert_eq!(checkpoint_ids(&t, "HEAD"), ["T003", "T002", "T001"]);
    // T002's own checkpoint holds its work, the tick included.
    let files = t.git(&["show", "--format=", "--name-only", "HEAD~1"]);
    assert!(
        files.contains("T002.txt") && files.contains("plan.md"),
        "{files}"
    );
    let json = status_json(&t);
    let states: Vec<&str> = json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["done", "done", "done"]);
    assert_eq!(porcelain(&t), "");
}

#[test]
fn plan_shows_a_ticked_task_whose_attempt_failed_as_not_done() {
    let (t, _) = failed_after_ticking();
    let out = t.run(["plan", "M1"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    milestone M1: 3 tasks, 2 not done (plan.md)
    +---+------+-------+------+------------+
    | # | ID   | Title | Done | Depends on |
    +======================================+
    | 1 | T001 | one   | yes  |            |
    | 2 | T002 | two   |      |            |
    | 3 | T003 | three |      |            |
    +---+------+-------+------+------------+
    --- stderr
    warning: T002 is marked done in plan.md, but its last attempt failed and it has no checkpoint: `git milestone run M1` runs it again
    ");
    let json = t.run(["plan", "M1", "--json"]).json();
    assert_eq!(json["tasks"][1]["done"], false);
}

/// The refusal of a dirty tree names the task whose checkpoint would take
/// the changes, not "the first task" when that one is done; after a
/// rollback the changes are the user's, so committing them is the advice.
#[test]
fn the_dirty_tree_refusal_names_the_next_task() {
    let (t, runner) = failed_after_ticking();
    t.run(["rollback", "M1"]).success();
    t.write("notes.md", "mine\n");
    t.git(&["add", "notes.md"]);
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: the work tree has uncommitted changes (notes.md); the checkpoint of T002, the next task, would take them for its work
    hint: commit them (`git commit -am ...`) or put them aside (`git stash`), then run `git milestone run M1 --plan plan.md --runner [HOME]/tick.sh` again
    ");
}

/// Another milestone's failed attempt left changes in the tree: the hint
/// continues or discards that attempt; it never suggests committing them.
#[test]
fn the_dirty_tree_refusal_never_sends_a_failed_attempt_into_a_user_commit() {
    let plan2 = "# Milestone M2\n\n- [ ] T101 alpha\n";
    let t = TestRepo::with_files(&[
        ("plan.md", PLAN3),
        ("m2.md", plan2),
        ("shared.txt", "base\n"),
    ]);
    let failing = script(&t, "edit.sh", "echo half >> shared.txt\nexit 3");
    let out: Run = t
        .cmd()
        .args(["run", "M2", "--plan", "m2.md", "--runner"])
        .arg(&failing)
        .output()
        .unwrap()
        .into();
    out.code(1);
    let runner = script(&t, "ok.sh", "echo \"$1\" > \"$1.txt\"");
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: the work tree has uncommitted changes (shared.txt); the checkpoint of T001, the next task, would take them for its work
    hint: they may be what the stopped attempt of T101 of M2 left: continue it with `git milestone run M2`
    hint: or discard them (saved under a ref first) with `git milestone rollback M2`, then run `git milestone run M1 --plan plan.md --runner [HOME]/ok.sh` again
    ");
}

/// A runner that writes `<ID>.txt` and fails on `T002` while `fail` exists
/// in HOME.
fn failing_on_t002(t: &TestRepo) -> std::path::PathBuf {
    let fail = t.home.path().join("fail");
    std::fs::write(&fail, "").unwrap();
    script(
        t,
        "failon.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\nif [ \"$1\" = T002 ] && [ -e '{}' ]; then exit 3; fi",
            fail.display()
        ),
    )
}

/// T002 failed, leaving `T002.txt`; then the plan gained T004 before it.
fn failed_then_task_added(t004: &str) -> (TestRepo, std::path::PathBuf) {
    let t = TestRepo::with_files(&[(
        "plan.md",
        "# Milestone M1\n\n- [ ] T001 one\n- [ ] T002 two\n",
    )]);
    let runner = failing_on_t002(&t);
    run_m1(&t, &runner, &[]).code(1);
    std::fs::remove_file(t.home.path().join("fail")).unwrap();
    t.write(
        "plan.md",
        &format!("# Milestone M1\n\n- [ ] T001 one\n{t004}- [ ] T002 two\n"),
    );
    t.git(&["commit", "-qm", "plan: add T004", "plan.md"]);
    (t, runner)
}

/// The failed attempt's changes go into its own task's checkpoint, not
/// into that of a task the plan now puts before it.
#[test]
fn a_stopped_task_runs_before_a_task_added_ahead_of_it() {
    let (t, runner) = failed_then_task_added("- [ ] T004 four\n");
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    continuing on top of the failed attempt's changes; `git milestone rollback M1` discards them
    T002 runs first, before T004: its checkpoint takes its failed attempt's changes
    Starting T002 [2/3] (attempt 2) two
    checkpoint [OID] T002 [2/3] in [DURATION]
    Starting T004 [3/3] four
    checkpoint [OID] T004 [3/3] in [DURATION]
    Milestone M1 is complete (2 tasks run now, 1 done before).
    --- stderr
    ");
    assert_eq!(checkpoint_ids(&t, "HEAD"), ["T004", "T002", "T001"]);
    let files = |rev: &str| t.git(&["show", "--format=", "--name-only", rev]);
    assert_eq!(
        files("HEAD~1")
            .lines()
            .filter(|l| l.ends_with(".txt"))
            .collect::<Vec<_>>(),
        ["T002.txt"]
    );
    assert_eq!(
        files("HEAD")
            .lines()
            .filter(|l| l.ends_with(".txt"))
            .collect::<Vec<_>>(),
        ["T004.txt"]
    );
    assert_eq!(porcelain(&t), "");
}

/// When the stopped task now waits for the task added before it, it cannot
/// run first: the run refuses rather than give its changes to that task.
#[test]
fn a_stopped_task_that_now_waits_for_a_new_task_is_refused() {
    let (t, runner) = failed_then_task_added("- [ ] T004 four\n");
    t.write(
        "plan.md",
        "# Milestone M1\n\n- [ ] T001 one\n- [ ] T004 four\n- [ ] T002 two, requires T004\n",
    );
    t.git(&["commit", "-qm", "plan: T002 needs T004", "plan.md"]);
    let before = common::inspect::snapshot(&t);
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: the failed attempt of T002 left its changes in the work tree, but T002 now waits for T004, which has not run: the checkpoint of T004 would take them
    hint: discard them (saved under a ref first) with `git milestone rollback M1`, then `git milestone run M1 --plan plan.md --runner [HOME]/failon.sh`
    ");
    let after = common::inspect::snapshot(&t);
    assert_eq!(
        (before.head, before.porcelain, before.refs),
        (after.head, after.porcelain, after.refs)
    );
}
