//! `git milestone squash`: one commit for review with the last
//! checkpoint's tree minus `.milestone_bundles/`, on a new branch or in
//! place; never over pushed commits; `--undo` brings the checkpoints back.

mod common;

use common::history::completed;
use common::inspect::{self, assert_fsck_clean, checkpoint_ids, rev, snapshot};
use common::{Run, TestRepo};

/// `git ls-tree -r <rev>` without `.milestone_bundles/`.
fn files_without_bundles(t: &TestRepo, rev: &str) -> String {
    t.git(&["ls-tree", "-r", rev])
        .lines()
        .filter(|l| !l.contains("\t.milestone_bundles/"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn squash(t: &TestRepo, extra: &[&str]) -> Run {
    let mut args = vec!["squash", "M1"];
    args.extend(extra);
    t.run(args)
}

#[test]
fn onto_a_new_branch_with_the_last_checkpoints_tree_minus_bookkeeping() {
    let t = completed(3, 9);
    let tip = inspect::head(&t);
    let base = rev(&t, "HEAD~3");
    let before = snapshot(&t);
    let out = squash(&t, &[]);
    insta::assert_snapshot!("squash_new_branch", out.render(&t));
    out.success();
    // The user's branch, index and work tree are as they were.
    assert_eq!(inspect::head(&t), tip);
    assert_eq!(inspect::porcelain(&t), before.porcelain);
    let squashed = rev(&t, "main-squashed");
    assert_eq!(rev(&t, "main-squashed^"), base);
    assert_eq!(
        t.git(&["ls-tree", "-r", "main-squashed"]),
        files_without_bundles(&t, &tip)
    );
    assert!(
        t.git(&["ls-tree", "-r", &tip])
            .contains(".milestone_bundles/M1/status.json")
    );
    assert_eq!(rev(&t, "refs/milestone/M1/squashed/1"), tip);
    let message = t.git(&["log", "-1", "--format=%B", &squashed]);
    insta::assert_snapshot!("squash_message", common::normalize(&message, &t));
    assert_fsck_clean(&t);

    // Not while the new branch is checked out somewhere.
    t.git(&["switch", "-q", "main-squashed"]);
    let out = squash(&t, &["--undo"]);
    insta::assert_snapshot!("squash_undo_refused_checked_out", out.render(&t));
    out.code(2);
    t.git(&["switch", "-q", "main"]);
    let out = squash(&t, &["--undo"]);
    insta::assert_snapshot!("squash_new_branch_undo", out.render(&t));
    out.success();
    assert!(t.git(&["branch", "--list", "main-squashed"]).is_empty());
    assert_eq!(inspect::head(&t), tip);
    assert_eq!(
        checkpoint_ids(&t, "HEAD"),
        ["TASK-003", "TASK-002", "TASK-001"]
    );
}

#[test]
fn in_place_then_undo_restores_the_checkpoints() {
    let t = completed(3, 9);
    let tip = inspect::head(&t);
    let base = rev(&t, "HEAD~3");
    let out = squash(&t, &["--in-place"]);
    insta::assert_snapshot!("squash_in_place", out.render(&t));
    out.success();
    assert_eq!(rev(&t, "HEAD^"), base);
    assert_eq!(t.git(&["symbolic-ref", "HEAD"]).trim(), "refs/heads/main");
    assert_eq!(
        t.git(&["ls-tree", "-r", "HEAD"]),
        files_without_bundles(&t, &tip)
    );
    // The work tree is the squashed commit's: clean, no status file.
    assert_eq!(inspect::porcelain(&t), "");
    assert!(!t.path().join(inspect::M1_STATUS).exists());
    assert_eq!(rev(&t, "refs/milestone/M1/squashed/1"), tip);
    assert_fsck_clean(&t);

    let out = squash(&t, &["--undo"]);
    insta::assert_snapshot!("squash_in_place_undo", out.render(&t));
    out.success();
    assert_eq!(inspect::head(&t), tip);
    assert_eq!(
        checkpoint_ids(&t, "HEAD"),
        ["TASK-003", "TASK-002", "TASK-001"]
    );
    assert_eq!(inspect::porcelain(&t), "");
    assert!(t.path().join(inspect::M1_STATUS).exists());
    t.run(["log", "M1"]).success();
    let out = squash(&t, &["--undo"]);
    insta::assert_snapshot!("squash_nothing_to_undo", out.render(&t));
    out.code(2);
}

#[test]
fn in_place_is_refused_once_pushed_and_a_new_branch_is_not() {
    let t = completed(3, 9);
    let remote = t.home.path().join("remote.git");
    t.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    t.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    t.git(&["push", "-q", "origin", "main"]);
    let before = snapshot(&t);
    let out = squash(&t, &["--in-place"]);
    insta::assert_snapshot!("squash_refused_pushed", out.render(&t));
    out.code(2);
    assert_eq!(snapshot(&t), before);
    squash(&t, &[]).success();
    assert_eq!(inspect::head(&t), before.head.trim());
}

#[test]
fn in_place_is_refused_over_later_commits_and_unfinished_runs() {
    let t = completed(3, 9);
    t.write("later.txt", "mine\n");
    t.commit_all("later work");
    let before = snapshot(&t);
    let out = squash(&t, &["--in-place"]);
    insta::assert_snapshot!("squash_refused_later_commits", out.render(&t));
    out.code(2);
    assert_eq!(snapshot(&t), before);

    let out = squash(&t, &["--branch", "main"]);
    insta::assert_snapshot!("squash_refused_branch_exists", out.render(&t));
    out.code(2);
    assert_eq!(snapshot(&t), before);

    // On a new branch, without the later commit.
    let out = squash(&t, &["--branch", "review"]);
    insta::assert_snapshot!("squash_leaves_out_later_commits", out.render(&t));
    out.success();
    assert!(
        !t.git(&["ls-tree", "-r", "--name-only", "review"])
            .contains("later.txt")
    );
}

#[test]
fn undo_in_place_refuses_commits_made_since_and_force_saves_them() {
    let t = completed(3, 9);
    let tip = inspect::head(&t);
    squash(&t, &["--in-place"]).success();
    t.write("review.txt", "fix\n");
    t.commit_all("review fix");
    let mine = inspect::head(&t);
    let before = snapshot(&t);
    let out = squash(&t, &["--undo"]);
    insta::assert_snapshot!("squash_undo_refused", out.render(&t));
    out.code(2);
    assert_eq!(snapshot(&t), before);

    let out = squash(&t, &["--undo", "--force"]);
    insta::assert_snapshot!("squash_undo_forced", out.render(&t));
    out.success();
    assert_eq!(inspect::head(&t), tip);
    assert_eq!(rev(&t, "refs/milestone/M1/before-undo/1"), mine);
    assert_fsck_clean(&t);
}

#[test]
fn the_bookkeeping_of_earlier_milestones_stays_as_the_base_has_it() {
    let t = completed(2, 9);
    // Squash M1, then run M2 on top and squash it: M1's status file, in
    // M2's base, must stay in the squashed commit.
    t.write("plan.md", "# M2\n\n## Tasks\n\n- [ ] TASK-101: More\n");
    t.commit_all("M2 plan");
    let runner = common::runner::script(&t, "r2.sh", "echo \"$1\" > \"$1.txt\"");
    let out = Run::from(
        t.cmd()
            .args(["run", "M2", "--plan", "plan.md", "--runner"])
            .arg(&runner)
            .output()
            .unwrap(),
    );
    out.success();
    t.run(["squash", "M2", "--branch", "review"]).success();
    let base = rev(&t, "review^");
    assert_eq!(
        rev(&t, "review:.milestone_bundles"),
        rev(&t, &format!("{base}:.milestone_bundles"))
    );
    assert!(
        t.git(&["ls-tree", "-r", "--name-only", "review"])
            .contains("TASK-101.txt")
    );
}

/// After `run --restart`, the run's base holds the first run's status file
/// (here: a task skipped); the squashed commit must not carry it, or it
/// would misstate its own content and the pre-push hook would refuse it.
#[test]
fn after_a_restart_the_squash_leaves_out_the_earlier_runs_status_file() {
    let t = TestRepo::with_files(&[(
        "plan.md",
        "# M1\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n",
    )]);
    let flag = t.home.path().join("skip");
    std::fs::write(&flag, "").unwrap();
    let runner = common::runner::script(
        &t,
        "runner.sh",
        &format!(
            "[ \"$1\" = TASK-002 ] && [ -e '{}' ] && exit 125\necho \"$1\" > \"$1.txt\"",
            flag.display()
        ),
    );
    common::runner::run_m1(&t, &runner, &[]).success();
    std::fs::remove_file(&flag).unwrap();
    common::runner::run_m1(&t, &runner, &["--restart"]).success();
    squash(&t, &[]).success();
    let files = t.git(&["ls-tree", "-r", "--name-only", "main-squashed"]);
    assert_eq!(files, "TASK-001.txt\nTASK-002.txt\nplan.md\n");
    let head = rev(&t, "main-squashed");
    let mut c = t.cmd();
    c.args(["hook", "pre-push", "origin", "url"]);
    let line = format!(
        "refs/heads/review {head} refs/heads/review {}\n",
        "0".repeat(40)
    );
    common::run_with_stdin(&mut c, &line).success();
}
