//! Write-back: each checkpoint marks its task done in the plan document,
//! in the same commit, changing only the bytes of that task's mark.

mod common;

use common::TestRepo;
use common::inspect::{assert_fsck_clean, checkpoint_ids, rev};
use common::runner::{run_m1, sh_runner, writing_runner};

/// Run M1 of `plan` to the end with a runner that writes `<ID>.txt`, and
/// return the plan as each checkpoint committed it, oldest first.
fn run_through(t: &TestRepo) -> Vec<(String, String)> {
    let runner = writing_runner(t);
    run_m1(t, &runner, &[]).success();
    let mut ids = checkpoint_ids(t, "HEAD");
    ids.reverse();
    ids.into_iter()
        .map(|id| {
            let cp = rev(t, &format!("refs/milestone/M1/checkpoints/{id}"));
            let plan = t.git(&["show", &format!("{cp}:plan.md")]);
            (id, plan)
        })
        .collect()
}

/// `plan --json` shows every task done, and `status` the milestone complete.
#[track_caller]
fn plan_and_status_agree(t: &TestRepo) {
    let plan = t.run(["plan", "M1", "--plan", "plan.md", "--json"]).json();
    let not_done: Vec<&serde_json::Value> = plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["done"] != true)
        .map(|t| &t["id"])
        .collect();
    assert!(not_done.is_empty(), "not done in the plan: {not_done:?}");
    let status = t.run(["status", "M1", "--json"]).json();
    assert_eq!(status["milestone"]["state"], "completed");
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    assert_fsck_clean(t);
}

#[test]
fn checkboxes_are_ticked_one_per_checkpoint_never_in_code() {
    let plan = "# M1\n\n- [ ] T001 Parse\n- [ ] T002 Print\n  - [ ] a step of T002\n\n\
                ```md\n- [ ] T001 an example in code\n```\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    let seen = run_through(&t);
    assert_eq!(
        seen,
        [
            (
                "T001".to_string(),
                "# M1\n\n- [x] T001 Parse\n- [ ] T002 Print\n  - [ ] a step of T002\n\n\
                 ```md\n- [ ] T001 an example in code\n```\n"
                    .to_string()
            ),
            (
                "T002".to_string(),
                "# M1\n\n- [x] T001 Parse\n- [x] T002 Print\n  - [x] a step of T002\n\n\
                 ```md\n- [ ] T001 an example in code\n```\n"
                    .to_string()
            ),
        ]
    );
    // The plan is part of the checkpoint, beside the task's own file.
    assert_eq!(
        t.git(&[
            "show",
            "--name-only",
            "--format=",
            "refs/milestone/M1/checkpoints/T001"
        ]),
        ".milestone_bundles/M1/status.json\nT001.txt\nplan.md\n"
    );
    plan_and_status_agree(&t);
}

#[test]
fn kiro_children_then_their_parent() {
    let plan = "# Implementation Plan\n\n\
- [x] 1. Set up the project\n  - Create the workspace\n\n\
- [ ] 2. Build the parser\n  - [ ] 2.1 Tokenise the input\n  - [ ] 2.2 Parse expressions\n  - [ ]* 2.3 Write property tests\n\n\
- [ ] 3. Checkpoint - ensure all tests pass\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    let seen = run_through(&t);
    let ids: Vec<&str> = seen.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["2.1", "2.2", "2.3", "3"]);
    assert!(
        seen[0]
            .1
            .contains("- [ ] 2. Build the parser\n  - [x] 2.1 Tokenise")
    );
    // The last required child ticks the parent; the optional one follows.
    assert!(
        seen[1]
            .1
            .contains("- [x] 2. Build the parser\n  - [x] 2.1 Tokenise the input\n  - [x] 2.2 Parse expressions\n  - [ ]* 2.3"),
        "{}",
        seen[1].1
    );
    assert!(seen[2].1.contains("  - [x]* 2.3 Write"));
    assert!(
        seen[3]
            .1
            .ends_with("- [x] 3. Checkpoint - ensure all tests pass\n")
    );
    plan_and_status_agree(&t);
}

#[test]
fn a_status_cell_gets_the_documents_done_word() {
    let plan = "# M1\n\n| ID | Task | Status |\n|------|----------|------------|\n\
| T001 | Download | ✅ Done    |\n| T002 | Resume   | ⏳ Pending |\n| T003 | Mirrors  | ⏳ Pending |\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    let seen = run_through(&t);
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].1,
        "# M1\n\n| ID | Task | Status |\n|------|----------|------------|\n\
| T001 | Download | ✅ Done    |\n| T002 | Resume   | ✅ Done    |\n| T003 | Mirrors  | ⏳ Pending |\n"
    );
    assert!(seen[1].1.ends_with("| T003 | Mirrors  | ✅ Done    |\n"));
    plan_and_status_agree(&t);
}

#[test]
fn a_check_mark_where_the_documents_done_tasks_have_one() {
    let plan = "# M1\n\n## Step 1 ✅ — Read the files\n\nDone before.\n\n\
## Step 2 — Draw the map\n\nDraw it.\n\n## Step 3 — Export\n\nExport it.\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    let seen = run_through(&t);
    assert_eq!(
        seen[1].1,
        "# M1\n\n## Step 1 ✅ — Read the files\n\nDone before.\n\n\
## Step 2 ✅ — Draw the map\n\nDraw it.\n\n## Step 3 ✅ — Export\n\nExport it.\n"
    );
    plan_and_status_agree(&t);
}

#[test]
fn mark_done_false_leaves_the_plan_as_it_is() {
    let plan = "# M1\n\n- [ ] T001 Parse\n- [ ] T002 Print\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    t.git(&["config", "milestone.markDone", "false"]);
    run_through(&t);
    assert_eq!(t.read("plan.md"), plan);
    t.git(&["config", "milestone.markDone", "sometimes"]);
    let out = run_m1(&t, writing_runner(&t), &["--restart"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: milestone.markDone is "sometimes", which git does not read as true or false
    hint: set it with `git config milestone.markDone false` (or `true`, the default)
    "#);
}

#[test]
fn a_runner_that_ticks_other_tasks_is_named() {
    let plan = "# M1\n\n- [ ] T001 Parse\n- [ ] T002 Print\n- [x] T003 Lint\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    let runner = sh_runner(
        &t,
        "ticks.sh",
        "echo \"$1\" > \"$1.txt\"\n\
         [ \"$1\" = T001 ] && sed -i -e 's/- \\[ \\] T002/- [x] T002/' -e 's/- \\[x\\] T003/- [ ] T003/' plan.md\n\
         exit 0",
    );
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Starting T001 [1/3] Parse
    checkpoint [OID] T001 [1/3] in [DURATION]
    Starting T002 [2/3] Print
    checkpoint [OID] T002 [2/3] in [DURATION]
    T003 [3/3] is marked done in the plan: not run
    Milestone M1 is complete (2 tasks run now, 1 done before).
    --- stderr
    warning: T001's runner marked T002 done and T003 not done in plan.md; only git-milestone decides what is done: this run goes by its own record, and the checkpoint keeps those marks as the runner left them
    ");
    // The run went by its own record: T002 ran.
    assert_eq!(checkpoint_ids(&t, "HEAD"), ["T002", "T001"]);
}

#[test]
fn a_checkpoint_that_fails_puts_the_mark_back() {
    let plan = "# M1\n\n- [ ] T001 Parse\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    t.write(
        ".git/hooks/pre-commit",
        "#!/bin/sh\necho refused >&2\nexit 1\n",
    );
    std::fs::set_permissions(
        t.path().join(".git/hooks/pre-commit"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    run_m1(&t, writing_runner(&t), &[]).code(1);
    assert_eq!(t.read("plan.md"), plan);
    assert_eq!(t.read("T001.txt"), "T001\n");
    // Its index entry matches again: git shows no change to the plan.
    let porcelain = t.git(&["status", "--porcelain"]);
    assert!(!porcelain.contains("plan.md"), "{porcelain}");
}

#[test]
fn resume_and_rollback_read_the_marks_as_the_checkpoints_left_them() {
    let plan = "# M1\n\n- [ ] T001 Parse\n- [ ] T002 Print\n- [ ] T003 Lint\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    let fails = sh_runner(
        &t,
        "fails.sh",
        "echo \"$1\" > \"$1.txt\"\n[ \"$1\" != T002 ]",
    );
    run_m1(&t, &fails, &[]).code(1);
    assert_eq!(
        t.read("plan.md"),
        "# M1\n\n- [x] T001 Parse\n- [ ] T002 Print\n- [ ] T003 Lint\n"
    );
    // Back to T001's checkpoint: its mark is there, T002's is not.
    t.run(["rollback", "M1"]).success();
    assert_eq!(
        t.read("plan.md"),
        "# M1\n\n- [x] T001 Parse\n- [ ] T002 Print\n- [ ] T003 Lint\n"
    );
    // The resumed run goes on at T002: T001 is done by its checkpoint, not
    // "done in the plan".
    let out = run_m1(&t, writing_runner(&t), &[]);
    out.success();
    assert!(
        !out.stdout.contains("marked done in the plan"),
        "{}",
        out.stdout
    );
    let status = t.run(["status", "M1", "--json"]).json();
    assert_eq!(status["milestone"]["tasks"][0]["state"], "done");
    plan_and_status_agree(&t);
    // Rolling back to before T003's checkpoint takes its mark away with it.
    t.run(["rollback", "M1", "--to", "T002", "--force"])
        .success();
    assert_eq!(
        t.read("plan.md"),
        "# M1\n\n- [x] T001 Parse\n- [x] T002 Print\n- [ ] T003 Lint\n"
    );
}

#[test]
fn restart_runs_again_what_the_checkpoints_marked() {
    let plan = "# M1\n\n- [x] T000 Done before\n- [ ] T001 Parse\n- [ ] T002 Print\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    run_through(&t);
    let out = run_m1(&t, writing_runner(&t), &["--restart"]);
    out.success();
    assert!(out.stdout.contains("Starting T001") && out.stdout.contains("Starting T002"));
    assert!(
        out.stdout
            .contains("T000 [1/3] is marked done in the plan: not run")
    );
    plan_and_status_agree(&t);
}

#[test]
fn a_task_the_runner_took_out_of_the_plan_is_not_marked_and_said_so() {
    let plan = "# M1\n\n- [ ] T001 Parse\n- [ ] T002 Print\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    let runner = sh_runner(
        &t,
        "drops.sh",
        "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = T002 ] && sed -i '/T002/d' plan.md\nexit 0",
    );
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Starting T001 [1/2] Parse
    checkpoint [OID] T001 [1/2] in [DURATION]
    Starting T002 [2/2] Print
    checkpoint [OID] T002 [2/2] in [DURATION]
    Milestone M1 is complete (2 tasks run).
    --- stderr
    warning: T002 is not marked done in plan.md: the plan no longer holds it; the plan is committed as it is
    ");
    assert_eq!(t.read("plan.md"), "# M1\n\n- [x] T001 Parse\n");
}
