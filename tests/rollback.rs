//! `git milestone rollback` on real repositories: checkpoints made with the
//! git program stand for a run's, following the run's conventions.

mod common;

use common::TestRepo;
use common::inspect::{M1_STATUS, assert_fsck_clean, head, porcelain, snapshot, status_json};
use common::runner::sh_runner;
use serde_json::{Value, json};

const STATUS: &str = M1_STATUS;
const SAVED: &str = "refs/milestone/M1/attempts/TASK-002/1";

/// A milestone M1 whose TASK-001 has a checkpoint and whose TASK-002 failed
/// after making a mess: edits, a deletion, new files (one staged), ignored
/// files everywhere, and a commit of its own.
struct Failed {
    t: TestRepo,
    base: String,
    cp1: String,
    agent: String,
}

fn task(id: &str, state: &str, checkpoint: Option<&str>) -> Value {
    json!({"id": id, "title": format!("Do {id}"), "state": state, "attempts": 1,
           "started_at": null, "ended_at": null, "duration_ms": null,
           "exit_code": null, "checkpoint": checkpoint})
}

fn write_status(t: &TestRepo, base: &str, state: &str, tasks: Vec<Value>, failure: Value) {
    let status = json!({"version": 1, "milestone": "M1", "plan": "plan.md", "state": state,
        "started_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "base_commit": base, "tasks": tasks, "failure": failure});
    t.write(
        STATUS,
        &format!("{}\n", serde_json::to_string_pretty(&status).unwrap()),
    );
}

fn checkpoint(t: &TestRepo, id: &str, k: usize) -> String {
    // Like the run, never stage the untracked files from before it.
    t.git(&["add", "-A", "--", ".", ":!notes.txt"]);
    let trailers = format!("Milestone: M1\nMilestone-Task: {id}\nMilestone-Progress: {k}/3");
    t.git(&[
        "commit",
        "-q",
        "-m",
        &format!("{id}: Do {id}"),
        "-m",
        &trailers,
    ]);
    let oid = head(t);
    t.git(&[
        "update-ref",
        &format!("refs/milestone/M1/checkpoints/{id}"),
        &oid,
    ]);
    oid
}

fn failed_run() -> Failed {
    let t = TestRepo::with_files(&[
        ("README.md", "base\n"),
        ("src/lib.txt", "v1\n"),
        (".gitignore", "*.secret\n"),
        (
            "plan.md",
            "- [ ] TASK-001\n- [ ] TASK-002\n- [ ] TASK-003\n",
        ),
    ]);
    let base = head(&t);
    // Untracked before the run: recorded in the run's snapshot, always kept.
    t.write("notes.txt", "my notes\n");
    let journal = t.path().join(".git/milestone/M1");
    std::fs::create_dir_all(&journal).unwrap();
    std::fs::write(journal.join("untracked-at-start"), "notes.txt\0").unwrap();

    t.write("src/lib.txt", "v2\n");
    t.write("a.txt", "from TASK-001\n");
    let pending = |id| task(id, "pending", None);
    let tasks = vec![
        task("TASK-001", "done", None),
        pending("TASK-002"),
        pending("TASK-003"),
    ];
    write_status(&t, &base, "running", tasks, Value::Null);
    let cp1 = checkpoint(&t, "TASK-001", 1);

    // TASK-002's failed attempt.
    t.write("task-commit.txt", "committed by the task\n");
    t.write(
        "taskdir/committed.txt",
        "in a directory the task committed\n",
    );
    t.write(
        "taskdir/build.secret",
        "ignored, in a directory the task committed\n",
    );
    // The task replaces a tracked file with a directory of the same name.
    std::fs::remove_file(t.path().join("src/lib.txt")).unwrap();
    t.write("src/lib.txt/inner.txt", "a directory where a file was\n");
    t.git(&["add", "-A", "task-commit.txt", "taskdir", "src"]);
    t.git(&["commit", "-q", "-m", "wip by the agent"]);
    let agent = head(&t);
    std::fs::remove_dir_all(t.path().join("src/lib.txt")).unwrap();
    t.write("src/lib.txt", "broken\n");
    std::fs::remove_file(t.path().join("README.md")).unwrap();
    t.write("new.txt", "new\n");
    t.write("staged.txt", "staged\n");
    t.git(&["add", "staged.txt"]);
    t.write("newdir/file.txt", "in a new directory\n");
    t.write("newdir/cache.secret", "ignored inside a new directory\n");
    t.write("root.secret", "ignored at the root\n");
    t.write("src/local.secret", "ignored in a tracked directory\n");
    // As the run records them when an attempt stops: the untracked files
    // it created.
    std::fs::write(
        journal.join("attempt-leftovers"),
        "new.txt\0newdir/file.txt\0src/lib.txt\0",
    )
    .unwrap();
    write_status(
        &t,
        &base,
        "failed",
        vec![
            task("TASK-001", "done", Some(&cp1)),
            task("TASK-002", "failed", None),
            task("TASK-003", "pending", None),
        ],
        json!({"task": "TASK-002", "at": "2026-01-01T00:00:09Z", "exit_code": 3,
               "attempts": 1, "rolled_back": false, "saved_ref": null, "head": agent}),
    );
    Failed {
        t,
        base,
        cp1,
        agent,
    }
}

/// Record `paths` as untracked files the failed attempt created, as the
/// run does when an attempt stops.
fn attempt_created(t: &TestRepo, paths: &[&str]) {
    let file = t.path().join(".git/milestone/M1/attempt-leftovers");
    let mut text = std::fs::read_to_string(&file).unwrap_or_default();
    for p in paths {
        text.push_str(p);
        text.push('\0');
    }
    std::fs::write(file, text).unwrap();
}

fn assert_ignored_files_kept(t: &TestRepo) {
    assert_eq!(t.read("root.secret"), "ignored at the root\n");
    assert_eq!(
        t.read("src/local.secret"),
        "ignored in a tracked directory\n"
    );
    assert_eq!(
        t.read("newdir/cache.secret"),
        "ignored inside a new directory\n"
    );
}

#[test]
fn rollback_restores_the_last_checkpoint_exactly_and_saves_the_attempt() {
    let Failed { t, cp1, agent, .. } = failed_run();
    let out = t.run(["rollback", "M1"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Rolled back M1 to the checkpoint of TASK-001 ([OID]); 1 commit was taken off the branch.
    Removed 5 files the attempt created: new.txt, newdir/file.txt, staged.txt, task-commit.txt and taskdir/committed.txt.
    The discarded work is saved in refs/milestone/M1/attempts/TASK-002/1.
    To bring it back: git milestone rollback M1 --undo
      (with git alone: git read-tree -u --reset refs/milestone/M1/attempts/TASK-002/1 && git reset -q refs/milestone/M1/attempts/TASK-002/1~1)
    --- stderr
    ");
    assert_eq!(head(&t), cp1);
    assert_eq!(t.git(&["rev-parse", "main"]).trim(), cp1);
    // Only the rewritten status file and the file from before the run remain.
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n?? notes.txt\n"));
    assert_eq!(
        t.git(&["diff", "--stat", &cp1, "--", ".", ":!.milestone_bundles"]),
        ""
    );
    assert_eq!(t.read("src/lib.txt"), "v2\n");
    assert_eq!(t.read("README.md"), "base\n");
    assert_eq!(t.read("notes.txt"), "my notes\n");
    for gone in [
        "new.txt",
        "staged.txt",
        "newdir/file.txt",
        "task-commit.txt",
    ] {
        assert!(
            !t.path().join(gone).exists(),
            "{gone} survived the rollback"
        );
    }
    assert_ignored_files_kept(&t);
    let left: Vec<_> = std::fs::read_dir(t.path().join("newdir"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["cache.secret"]);
    assert_eq!(
        t.read("taskdir/build.secret"),
        "ignored, in a directory the task committed\n"
    );

    // Everything the attempt produced is in the saved commit; its parent is
    // the task's own commit; ignored files and pre-run files are not in it.
    let show = |p: &str| t.git(&["show", &format!("{SAVED}:{p}")]);
    assert_eq!(show("src/lib.txt"), "broken\n");
    assert_eq!(show("new.txt"), "new\n");
    assert_eq!(show("staged.txt"), "staged\n");
    assert_eq!(show("newdir/file.txt"), "in a new directory\n");
    assert_eq!(show("task-commit.txt"), "committed by the task\n");
    assert_eq!(t.git(&["rev-parse", &format!("{SAVED}~1")]).trim(), agent);
    let files = t.git(&["ls-tree", "-r", "--name-only", SAVED]);
    assert_eq!(
        files,
        ".gitignore\n.milestone_bundles/M1/status.json\na.txt\nnew.txt\nnewdir/file.txt\nplan.md\nsrc/lib.txt\nstaged.txt\ntask-commit.txt\ntaskdir/committed.txt\n"
    );

    let status = status_json(&t);
    assert_eq!(status["state"], "failed");
    assert_eq!(status["failure"]["rolled_back"], true);
    assert_eq!(status["failure"]["saved_ref"], SAVED);
    assert_eq!(status["failure"]["exit_code"], 3);
    assert_eq!(status["tasks"][0]["state"], "done");
    assert_fsck_clean(&t);
}

#[test]
fn undo_brings_back_the_commits_and_files_of_the_attempt() {
    let Failed { t, agent, .. } = failed_run();
    let before = t.read(STATUS);
    let porcelain_before = porcelain(&t);
    t.run(["rollback", "M1"]).success();
    let out = t.run(["rollback", "M1", "--undo"]);
    out.success();
    assert_eq!(
        out.stdout,
        format!(
            "Restored the work saved in {SAVED}; HEAD is back at {}.\n\
             Files the attempt created are untracked again and its edits are unstaged.\n",
            &agent[..7]
        )
    );
    assert_eq!(head(&t), agent);
    assert_eq!(
        porcelain(&t),
        format!(
            " M {STATUS}\n D README.md\n D src/lib.txt/inner.txt\n?? new.txt\n?? newdir/file.txt\n\
             ?? notes.txt\n?? src/lib.txt\n?? staged.txt\n"
        )
    );
    // Exactly as before the rollback, except that staged files are unstaged.
    let lines = |s: &str| {
        s.lines()
            .map(str::to_string)
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        lines(&porcelain_before.replace("A  staged.txt", "?? staged.txt")),
        lines(&porcelain(&t))
    );
    assert_eq!(t.read("src/lib.txt"), "broken\n");
    assert_eq!(t.read("task-commit.txt"), "committed by the task\n");
    assert_eq!(
        t.read(STATUS),
        before,
        "the status file is back as it was before the rollback"
    );
    assert_ignored_files_kept(&t);
    assert_fsck_clean(&t);

    let again = t.run(["rollback", "M1", "--undo"]);
    again.code(2);
    assert_eq!(
        again.stderr,
        "error: nothing to undo: no rollback of M1 is recorded in this work tree\n\
         hint: saved attempts are kept under refs/milestone/M1/attempts/; list them with \
         `git for-each-ref refs/milestone/M1/attempts/`\n"
    );
}

/// Runs `rollback` with `args`, expects a refusal with `stderr`, and checks
/// nothing changed.
#[track_caller]
fn assert_refused(t: &TestRepo, args: &[&str], stderr: &str) {
    let (before, status_before) = (snapshot(t), t.read(STATUS));
    let out = t.run(args);
    out.code(2);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, stderr);
    assert_eq!(snapshot(t), before);
    assert_eq!(t.read(STATUS), status_before);
}

#[test]
fn refuses_commits_the_run_did_not_make_unless_forced() {
    let Failed { t, cp1, .. } = failed_run();
    t.git(&["commit", "-q", "-m", "my own fix", "--", "src/lib.txt"]);
    let mine = head(&t);
    assert_refused(
        &t,
        &["rollback", "M1"],
        &format!(
            "error: HEAD has 1 commit after the checkpoint that the run of M1 did not make: {} my own fix\n\
             hint: nothing was changed; to keep those commits on a branch and take them off this one: \
             `git branch keep-work && git milestone rollback M1 --force`\n\
             hint: or take them off without a branch (they are saved under a ref): `git milestone rollback M1 --force`\n",
            &mine[..7]
        ),
    );
    t.run(["rollback", "M1", "--force"]).success();
    assert_eq!(head(&t), cp1);
    assert_eq!(t.git(&["rev-parse", &format!("{SAVED}~1")]).trim(), mine);
    assert_fsck_clean(&t);
}

#[test]
fn refuses_commits_already_pushed() {
    let Failed { t, agent, .. } = failed_run();
    t.git(&["update-ref", "refs/remotes/origin/main", &agent]);
    assert_refused(
        &t,
        &["rollback", "M1"],
        &format!(
            "error: 1 commit that a rollback would take off the branch was already pushed: {}\n\
             hint: nothing was changed; to undo published work, add a commit with `git revert`\n\
             hint: or roll back anyway (others keep the pushed commits): `git milestone rollback M1 --force`\n",
            &agent[..7]
        ),
    );
}

#[test]
fn refuses_during_a_merge() {
    let Failed { t, agent, .. } = failed_run();
    std::fs::write(t.path().join(".git/MERGE_HEAD"), format!("{agent}\n")).unwrap();
    assert_refused(
        &t,
        &["rollback", "M1", "--force"],
        "error: a merge is in progress; M1 cannot be rolled back in the middle of it\n\
         hint: finish it with `git commit`, or abandon it with `git merge --abort`; then roll back\n",
    );
}

#[test]
fn refuses_during_a_bisect_with_the_command_that_ends_it() {
    let Failed { t, .. } = failed_run();
    t.git(&["bisect", "start"]);
    assert_refused(
        &t,
        &["rollback", "M1"],
        "error: a bisect is in progress; M1 cannot be rolled back in the middle of it\n\
         hint: end it with `git bisect reset`; then roll back\n",
    );
}

#[test]
fn refuses_when_there_is_nothing_to_roll_back_to() {
    let t = TestRepo::with_files(&[("README.md", "x\n")]);
    let out = t.run(["rollback", "M1"]);
    out.code(2);
    assert_eq!(
        out.stderr,
        "error: nothing to roll back: milestone M1 has no run in this work tree \
         (.milestone_bundles/M1/status.json is missing)\n\
         hint: list the milestones that have run: git milestone status\n"
    );

    // A status file whose run started on another line of history.
    let elsewhere = "0000000000000000000000000000000000000000";
    write_status(
        &t,
        elsewhere,
        "failed",
        vec![task("TASK-001", "failed", None)],
        Value::Null,
    );
    t.git(&["add", "-A"]);
    t.git(&["commit", "-q", "-m", "status"]);
    assert_refused(
        &t,
        &["rollback", "M1"],
        "error: nothing to roll back to: HEAD does not descend from any checkpoint of M1, \
         nor from the commit its run started from\n\
         hint: see where it stands: git milestone status M1\n",
    );
    assert_refused(
        &t,
        &["rollback", "M1", "--to", "TASK-001"],
        "error: M1 has no checkpoint for task TASK-001\n\
         hint: no task of M1 has a checkpoint yet; roll back to the start with `git milestone rollback M1`\n",
    );
}

#[test]
fn rollback_to_an_earlier_checkpoint_and_back() {
    let Failed { t, base, cp1, .. } = failed_run();
    // Finish TASK-002 and TASK-003 as the run would.
    t.run(["rollback", "M1"]).success();
    std::fs::remove_file(t.path().join(".git/milestone/M1/last-rollback.json")).unwrap();
    t.write("b.txt", "from TASK-002\n");
    let cp2 = checkpoint(&t, "TASK-002", 2);
    t.write("c.txt", "from TASK-003\n");
    write_status(
        &t,
        &base,
        "completed",
        vec![
            task("TASK-001", "done", Some(&cp1)),
            task("TASK-002", "done", Some(&cp2)),
            task("TASK-003", "done", None),
        ],
        Value::Null,
    );
    let cp3 = checkpoint(&t, "TASK-003", 3);
    assert_eq!(porcelain(&t), "?? notes.txt\n");

    assert_refused(
        &t,
        &["rollback", "M1", "--to", "TASK-9"],
        "error: M1 has no checkpoint for task TASK-9\n\
         hint: tasks with a checkpoint: TASK-001, TASK-002, TASK-003\n",
    );
    let out = t.run(["rollback", "M1", "--to", "TASK-001"]);
    out.success();
    assert!(out.stdout.starts_with(&format!(
        "Rolled back M1 to the checkpoint of TASK-001 ({}); 2 commits were taken off the branch.\n\
         Removed 2 files the attempt created: b.txt and c.txt.\n\
         The discarded work is saved in refs/milestone/M1/attempts/TASK-002/2.\n",
        &cp1[..7]
    )), "{}", out.stdout);
    assert_eq!(head(&t), cp1);
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n?? notes.txt\n"));
    assert_eq!(
        t.git(&[
            "for-each-ref",
            "--format=%(refname:lstrip=3)",
            "refs/milestone/M1/checkpoints/"
        ]),
        "checkpoints/TASK-001\n"
    );
    let status = status_json(&t);
    assert_eq!(status["state"], "running");
    let states: Vec<_> = status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["done", "pending", "pending"]);

    t.run(["rollback", "M1", "--undo"]).success();
    assert_eq!(head(&t), cp3);
    assert_eq!(porcelain(&t), "?? notes.txt\n");
    assert_eq!(
        t.git(&[
            "for-each-ref",
            "--format=%(refname:lstrip=3) %(objectname)",
            "refs/milestone/M1/checkpoints/"
        ]),
        format!(
            "checkpoints/TASK-001 {cp1}\ncheckpoints/TASK-002 {cp2}\ncheckpoints/TASK-003 {cp3}\n"
        )
    );
    assert_fsck_clean(&t);
}

#[test]
fn undo_refuses_over_new_changes() {
    let Failed { t, .. } = failed_run();
    t.run(["rollback", "M1"]).success();
    t.write("README.md", "edited after the rollback\n");
    let before = snapshot(&t);
    let out = t.run(["rollback", "M1", "--undo"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: restoring the saved work of M1 would overwrite changes made since the rollback: README.md
    hint: commit or stash them (`git stash push --include-untracked`), then `git milestone rollback M1 --undo`
    hint: `git milestone rollback M1 --undo --force` would overwrite README.md; it saves what it replaces in refs/milestone/M1/before-undo/1 first
    ");
    assert_eq!(snapshot(&t), before);
}

/// A file the task committed although it was the user's from before the
/// run: the rollback keeps it as it was, the user edits it, and `--undo`
/// (which writes the attempt's version) must not lose the edit.
#[test]
fn undo_never_overwrites_an_edit_to_a_file_the_rollback_kept() {
    let Failed { t, cp1, .. } = failed_run();
    t.write("notes.txt", "my notes, as the task committed them\n");
    t.git(&["add", "notes.txt"]);
    t.git(&["commit", "-q", "-m", "agent takes the notes"]);
    let agent2 = head(&t);
    let status = t.read(STATUS);
    let old_head = status_json(&t)["failure"]["head"]
        .as_str()
        .unwrap()
        .to_string();
    t.write(STATUS, &status.replace(&old_head, &agent2));
    t.run(["rollback", "M1"]).success();
    assert_eq!(head(&t), cp1);
    assert_eq!(
        t.read("notes.txt"),
        "my notes, as the task committed them\n"
    );
    t.write("notes.txt", "my notes, edited after the rollback\n");
    // A file made after the rollback that the attempt does not have is no
    // obstacle: the restore leaves it alone.
    t.write("later.txt", "mine\n");

    let before = (snapshot(&t), t.read(STATUS));
    let out = t.run(["rollback", "M1", "--undo"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: restoring the saved work of M1 would overwrite changes made since the rollback: notes.txt
    hint: commit or stash them (`git stash push --include-untracked`), then `git milestone rollback M1 --undo`
    hint: `git milestone rollback M1 --undo --force` would overwrite notes.txt; it saves what it replaces in refs/milestone/M1/before-undo/1 first
    ");
    assert_eq!((snapshot(&t), t.read(STATUS)), before);
    assert_eq!(t.read("notes.txt"), "my notes, edited after the rollback\n");

    let out = t.run(["rollback", "M1", "--undo", "--force"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Saved what the undo replaces in refs/milestone/M1/before-undo/1: your changes to notes.txt.
    Restored the work saved in refs/milestone/M1/attempts/TASK-002/1; HEAD is back at [OID].
    Files the attempt created are untracked again and its edits are unstaged.
    --- stderr
    ");
    assert_eq!(head(&t), agent2);
    assert_eq!(
        t.read("notes.txt"),
        "my notes, as the task committed them\n"
    );
    assert_eq!(
        t.git(&["show", "refs/milestone/M1/before-undo/1:notes.txt"]),
        "my notes, edited after the rollback\n"
    );
    assert_eq!(
        t.git(&["rev-parse", "refs/milestone/M1/before-undo/1~1"])
            .trim(),
        cp1
    );
    assert_eq!(t.read("later.txt"), "mine\n");
    assert_fsck_clean(&t);
}

/// The user commits on top of the rolled-back branch; `--undo --force`
/// puts the attempt back, and the user's commit is saved under a ref
/// first, which the refusal and the output name.
#[test]
fn undo_force_saves_the_commits_it_takes_off_the_branch() {
    let Failed { t, agent, .. } = failed_run();
    t.run(["rollback", "M1"]).success();
    t.write("later.txt", "later\n");
    t.git(&["add", "later.txt"]);
    t.git(&["commit", "-q", "-m", "later work"]);
    let later = head(&t);
    let out = t.run(["rollback", "M1", "--undo"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: HEAD moved since the rollback of M1 (it was [OID], it is [OID])
    hint: `git milestone rollback M1 --undo --force` would take 1 commit off the branch ([OID] later work); it saves what it replaces in refs/milestone/M1/before-undo/1 first
    ");
    assert_eq!(head(&t), later);

    let out = t.run(["rollback", "M1", "--undo", "--force"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Saved what the undo replaces in refs/milestone/M1/before-undo/1: 1 commit ([OID] later work).
    Restored the work saved in refs/milestone/M1/attempts/TASK-002/1; HEAD is back at [OID].
    Files the attempt created are untracked again and its edits are unstaged.
    --- stderr
    ");
    assert_eq!(head(&t), agent);
    let saved = t.git(&["rev-parse", "refs/milestone/M1/before-undo/1"]);
    assert_eq!(saved.trim(), later, "nothing but the commit needed saving");
    assert_eq!(
        t.git(&["show", "refs/milestone/M1/before-undo/1:later.txt"]),
        "later\n"
    );
    assert_fsck_clean(&t);
}

#[test]
fn files_from_before_the_run_survive_even_if_the_task_committed_them() {
    let Failed { t, cp1, .. } = failed_run();
    t.write("notes.txt", "my notes, edited by the task\n");
    t.git(&["add", "notes.txt"]);
    t.git(&["commit", "-q", "-m", "agent takes the notes"]);
    // The failed task's commits end here.
    let status = t.read(STATUS);
    let agent2 = head(&t);
    let old_head = status_json(&t)["failure"]["head"]
        .as_str()
        .unwrap()
        .to_string();
    t.write(STATUS, &status.replace(&old_head, &agent2));
    t.run(["rollback", "M1"]).success();
    assert_eq!(head(&t), cp1);
    assert_eq!(t.read("notes.txt"), "my notes, edited by the task\n");
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n?? notes.txt\n"));
}

#[test]
fn refuses_while_a_run_holds_the_lock() {
    let Failed { t, .. } = failed_run();
    let lock = t.path().join(".git/milestone/run.lock");
    let pid = std::process::id();
    let _held = common::runner::hold_run_lock(
        &t,
        &format!("pid {pid}\nstarted 2026-01-01T00:00:00Z\nmilestone M1\n"),
    );
    assert_refused(
        &t,
        &["rollback", "M1"],
        &format!(
            "error: another `git milestone run` is in progress in this work tree \
             (pid {pid}, milestone M1, started 2026-01-01T00:00:00Z)\n\
             hint: wait for it to finish, or stop it: Ctrl-C in its terminal, or `kill {pid}`\n"
        ),
    );
    assert!(lock.exists(), "the lock of the other run is left alone");
}

/// End to end: a run whose TASK-002 commits on its own and then fails; the
/// run stops (no terminal, default policy) and `rollback` takes the task's
/// commit off without `--force`, because the run recorded it as the task's.
#[test]
fn rollback_after_a_real_run_takes_off_the_tasks_own_commit() {
    let t = TestRepo::with_files(&[(
        "docs/plan.md",
        "# M1\n\n## Tasks\n\n- [ ] TASK-001: Create a.txt\n- [ ] TASK-002: Create b.txt\n",
    )]);
    let runner = sh_runner(
        &t,
        "runner.sh",
        "echo \"$1\" > \"$1.txt\"\n\
         if [ \"$1\" = TASK-002 ]; then git add TASK-002.txt && git commit -q -m 'agent wip'; \
         echo more > more.txt; exit 4; fi",
    );
    let out = t.run(["run", "M1", "--plan", "docs/plan.md", "--runner", &runner]);
    out.code(1);
    let agent = head(&t);
    assert_eq!(t.git(&["log", "-1", "--format=%s"]), "agent wip\n");
    let cp1 = t
        .git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-001"])
        .trim()
        .to_string();
    assert_eq!(status_json(&t)["failure"]["head"], agent.as_str());

    let out = t.run(["rollback", "M1"]);
    out.success();
    assert!(
        out.stdout.contains("1 commit was taken off the branch"),
        "{}",
        out.stdout
    );
    assert_eq!(head(&t), cp1);
    assert!(!t.path().join("TASK-002.txt").exists() && !t.path().join("more.txt").exists());
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n"));
    assert_eq!(t.git(&["show", &format!("{SAVED}:more.txt")]), "more\n");

    t.run(["rollback", "M1", "--undo"]).success();
    assert_eq!(head(&t), agent);
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n?? more.txt\n"));
    assert_fsck_clean(&t);
}

#[test]
fn refuses_to_move_the_branch_sideways_unless_forced() {
    let Failed { t, base, cp1, .. } = failed_run();
    let status = t.read(STATUS);
    t.git(&["stash", "-q", "--include-untracked"]);
    t.git(&["checkout", "-q", "-b", "elsewhere", &base]);
    t.write(STATUS, &status);
    assert_refused(
        &t,
        &["rollback", "M1", "--to", "TASK-001"],
        &format!(
            "error: HEAD does not descend from the checkpoint of TASK-001 ({}); \
             rolling back would move the branch sideways\n\
             hint: to do it anyway: `git milestone rollback M1 --to TASK-001 --force`\n",
            &cp1[..7]
        ),
    );
}

#[test]
fn the_plain_git_command_printed_restores_the_same_state_as_undo() {
    let Failed { t, agent, .. } = failed_run();
    t.run(["rollback", "M1"]).success();
    t.git(&["read-tree", "-u", "--reset", SAVED]);
    t.git(&["reset", "-q", &format!("{SAVED}~1")]);
    assert_eq!(head(&t), agent);
    let by_git = porcelain(&t);
    let files = |t: &TestRepo| {
        [
            "src/lib.txt",
            "new.txt",
            "staged.txt",
            "newdir/file.txt",
            "task-commit.txt",
            STATUS,
        ]
        .map(|p| t.read(p))
    };
    let by_git_files = files(&t);

    let other = failed_run().t;
    other.run(["rollback", "M1"]).success();
    other.run(["rollback", "M1", "--undo"]).success();
    assert_eq!(porcelain(&other), by_git);
    assert_eq!(files(&other), by_git_files);
    assert_ignored_files_kept(&t);
}

#[test]
fn rolls_back_and_undoes_with_a_split_index() {
    let Failed { t, cp1, agent, .. } = failed_run();
    t.git(&["update-index", "--split-index"]);
    t.run(["rollback", "M1"]).success();
    assert_eq!(head(&t), cp1);
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n?? notes.txt\n"));
    assert_eq!(t.read("src/lib.txt"), "v2\n");
    t.run(["rollback", "M1", "--undo"]).success();
    assert_eq!(head(&t), agent);
    assert_eq!(t.read("src/lib.txt"), "broken\n");
    assert_ne!(t.git(&["rev-parse", "--shared-index-path"]).trim(), "");
    assert_fsck_clean(&t);
}

#[test]
fn rolls_back_in_a_linked_worktree() {
    let t = TestRepo::with_files(&[(
        "docs/plan.md",
        "# M1\n\n## Tasks\n\n- [ ] TASK-001: Create a.txt\n- [ ] TASK-002: Create b.txt\n",
    )]);
    let main_before = t.git(&["rev-parse", "main"]);
    let wt = t.home.path().join("wt");
    t.add_worktree("side", &wt);
    let runner = sh_runner(
        &t,
        "runner.sh",
        "echo \"$1\" > \"$1.txt\"\n[ \"$1\" != TASK-002 ]",
    );
    let run = |args: &[&str]| common::Run::from(t.cmd_at(&wt).args(args).output().unwrap());
    run(&["run", "M1", "--plan", "docs/plan.md", "--runner", &runner]).code(1);
    assert!(wt.join("TASK-002.txt").exists());
    run(&["rollback", "M1"]).success();
    assert!(!wt.join("TASK-002.txt").exists());
    assert_eq!(
        t.git(&["rev-parse", "side"]),
        t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-001"])
    );
    assert_eq!(
        t.git(&["rev-parse", "main"]),
        main_before,
        "the main worktree's branch is untouched"
    );
    assert_eq!(
        t.git(&["show", &format!("{SAVED}:TASK-002.txt")]),
        "TASK-002\n"
    );
    run(&["rollback", "M1", "--undo"]).success();
    assert_eq!(
        std::fs::read_to_string(wt.join("TASK-002.txt")).unwrap(),
        "TASK-002\n"
    );
}

/// A repository whose `.gitignore` hides `target/` and `*.log`, with ignored
/// files from before the run, and a run of M1 whose TASK-002 (the runner
/// script `task2`) failed after TASK-001's checkpoint.
fn ignored_files_and_a_failed_run(task2: &str) -> TestRepo {
    let t = TestRepo::with_files(&[
        (".gitignore", "target/\n*.log\n"),
        (
            "docs/plan.md",
            "# M1\n\n## Tasks\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n- [ ] TASK-003: Three\n",
        ),
    ]);
    t.write("target/cache.bin", "cache\n");
    t.write("target/debug/deep.bin", "deep\n");
    t.write("debug.log", "log\n");
    t.write(".env.log", "SECRET=1\n");
    let runner = sh_runner(
        &t,
        "runner.sh",
        &format!("if [ \"$1\" = TASK-002 ]; then\n{task2}\nfi\necho \"$1\" > \"$1.txt\""),
    );
    t.run(["run", "M1", "--plan", "docs/plan.md", "--runner", &runner])
        .code(1);
    t
}

fn assert_ignored_files_survive(t: &TestRepo) {
    assert_eq!(t.read("target/cache.bin"), "cache\n");
    assert_eq!(t.read("target/debug/deep.bin"), "deep\n");
    assert_eq!(t.read("debug.log"), "log\n");
    assert_eq!(t.read(".env.log"), "SECRET=1\n");
    assert_eq!(t.read(".gitignore"), "target/\n*.log\n");
}

#[test]
fn ignored_files_survive_a_task_that_unignored_them() {
    let t = ignored_files_and_a_failed_run(
        "echo '# nothing ignored' > .gitignore; echo new > new.txt; echo mine > target/by-task.bin; exit 5",
    );
    assert!(
        porcelain(&t).contains("?? debug.log\n"),
        "{}",
        porcelain(&t)
    );
    t.run(["rollback", "M1"]).success();
    assert_ignored_files_survive(&t);
    assert!(!t.path().join("new.txt").exists());
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n"));
    let saved = t.git(&["ls-tree", "-r", "--name-only", SAVED]);
    assert_eq!(
        saved,
        format!(".gitignore\n{STATUS}\nTASK-001.txt\ndocs/plan.md\nnew.txt\n"),
        "nothing ignored under the checkpoint's rules is saved"
    );
    assert_eq!(
        t.git(&["show", &format!("{SAVED}:.gitignore")]),
        "# nothing ignored\n"
    );
    assert_fsck_clean(&t);
}

#[test]
fn ignored_files_the_task_committed_survive_the_rollback() {
    let t = ignored_files_and_a_failed_run(
        "echo '# nothing ignored' > .gitignore; git add -A; git commit -q -m 'agent wip'; exit 5",
    );
    assert_eq!(t.git(&["log", "-1", "--format=%s"]), "agent wip\n");
    t.run(["rollback", "M1"]).success();
    assert_eq!(t.git(&["log", "-1", "--format=%s"]), "M1 TASK-001: One\n");
    assert_ignored_files_survive(&t);
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n"));
    assert_fsck_clean(&t);
}

/// The run's own rollback (`--on-failure rollback`) takes off only what the
/// failed task committed: a commit the user made between two runs stops it.
#[test]
fn a_runs_rollback_refuses_to_take_off_the_users_commit() {
    let t = TestRepo::with_files(&[(
        "docs/plan.md",
        "# M1\n\n## Tasks\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n- [ ] TASK-003: Three\n",
    )]);
    let runner = sh_runner(
        &t,
        "runner.sh",
        "[ \"$1\" = TASK-002 ] && exit 3\necho \"$1\" > \"$1.txt\"",
    );
    let run = ["run", "M1", "--plan", "docs/plan.md", "--runner", &runner];
    t.run(run).code(1);
    t.write("user.txt", "mine\n");
    t.git(&["add", "user.txt"]);
    t.git(&["commit", "-q", "-m", "user's own commit"]);
    let user = head(&t);
    let porcelain_before = porcelain(&t);

    let out = t.run(run.iter().copied().chain(["--on-failure", "rollback"]));
    out.code(2);
    let tail: Vec<&str> = out.stderr.lines().rev().take(3).collect();
    assert_eq!(
        tail,
        [
            "hint: or take them off without a branch (they are saved under a ref): `git milestone rollback M1 --force`",
            "hint: nothing was changed; to keep those commits on a branch and take them off this one: \
             `git branch keep-work && git milestone rollback M1 --force`",
            &*format!(
                "error: HEAD has 1 commit after the checkpoint that the run of M1 did not make: {} user's own commit",
                &user[..7]
            ),
        ],
        "{}",
        out.stderr
    );
    assert_eq!(head(&t), user);
    assert_eq!(porcelain(&t), porcelain_before);
    assert_eq!(t.git(&["for-each-ref", "refs/milestone/M1/attempts/"]), "");
    assert_eq!(status_json(&t)["state"], "failed");
}

#[test]
fn refuses_a_repository_the_task_created_inside_the_work_tree() {
    let t = ignored_files_and_a_failed_run(
        "git init -q vendor-x && echo x > vendor-x/f.txt && echo new > new.txt; exit 3",
    );
    let (head_before, porcelain_before) = (head(&t), porcelain(&t));
    let out = t.run(["rollback", "M1"]);
    out.code(2);
    assert_eq!(
        out.stderr,
        "error: vendor-x/ is a git repository inside the work tree, which a rollback cannot save\n\
         hint: nothing was changed; move vendor-x/ out of the work tree (or add it as a submodule), \
         then `git milestone rollback M1`\n"
    );
    assert_eq!((head(&t), porcelain(&t)), (head_before, porcelain_before));
    assert_eq!(t.git(&["for-each-ref", "refs/milestone/M1/attempts/"]), "");
    std::fs::rename(t.path().join("vendor-x"), t.home.path().join("vendor-x")).unwrap();
    t.run(["rollback", "M1"]).success();
    assert!(!t.path().join("new.txt").exists());
}

/// Saving the user's work must not fail for want of a name: with no
/// identity, the saved attempt gets a stand-in author and committer.
#[test]
fn rollback_saves_the_attempt_without_an_identity() {
    let Failed { t, cp1, .. } = failed_run();
    let out = common::Run::from(
        t.cmd()
            .args(["rollback", "M1"])
            .env_remove("GIT_AUTHOR_NAME")
            .env_remove("GIT_AUTHOR_EMAIL")
            .env_remove("GIT_COMMITTER_NAME")
            .env_remove("GIT_COMMITTER_EMAIL")
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "user.useConfigOnly")
            .env("GIT_CONFIG_VALUE_0", "true")
            .output()
            .unwrap(),
    );
    out.success();
    assert_eq!(head(&t), cp1);
    assert_eq!(
        t.git(&["log", "-1", "--format=%an <%ae> %cn <%ce>", SAVED]),
        "git-milestone <git-milestone@localhost> git-milestone <git-milestone@localhost>\n"
    );
}

#[test]
fn the_saved_attempt_keeps_executable_bits_and_symlinks() {
    use std::os::unix::fs::PermissionsExt;
    let Failed { t, .. } = failed_run();
    t.write("run.sh", "#!/bin/sh\n");
    let script = t.path().join("run.sh");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("new.txt", t.path().join("link")).unwrap();
    attempt_created(&t, &["run.sh", "link"]);
    t.run(["rollback", "M1"]).success();
    let entry = |p: &str| t.git(&["ls-tree", SAVED, p]);
    let blob = |p: &str| t.git(&["rev-parse", &format!("{SAVED}:{p}")]);
    assert_eq!(
        entry("run.sh"),
        format!("100755 blob {}\trun.sh\n", blob("run.sh").trim())
    );
    assert_eq!(
        entry("link"),
        format!("120000 blob {}\tlink\n", blob("link").trim())
    );
    assert_eq!(t.git(&["show", &format!("{SAVED}:link")]), "new.txt");
    assert_eq!(
        entry("plan.md"),
        format!("100644 blob {}\tplan.md\n", blob("plan.md").trim())
    );
    assert!(!script.exists() && !t.path().join("link").exists());
}

/// The index a rollback leaves, entry by entry, against the one
/// `git reset --hard` makes of the same checkpoint.
fn assert_index_is_the_checkpoints(t: &TestRepo, cp: &str) {
    let ours = t.git(&["ls-files", "--stage"]);
    let index = t.path().join(".git/reference-index");
    let env = [("GIT_INDEX_FILE", index.to_str().unwrap())];
    t.git_env(&["read-tree", cp], &env);
    let reference = t.git_env(&["ls-files", "--stage"], &env);
    std::fs::remove_file(&index).unwrap();
    // The status file is rewritten after the reset, unstaged.
    assert_eq!(ours, reference);
    assert_eq!(
        t.git(&["diff", "--name-only"]),
        format!("{STATUS}\n"),
        "only the status file differs from the index"
    );
}

#[test]
fn rollback_restores_only_the_changed_paths_yet_leaves_the_index_whole() {
    let Failed { t, cp1, .. } = failed_run();
    // A mode change and a symlink on top of the fixture's changes.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        t.path().join("plan.md"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("plan.md", t.path().join("link")).unwrap();
    t.git(&["add", "link"]);
    t.run(["rollback", "M1"]).success();
    assert_eq!(head(&t), cp1);
    assert_index_is_the_checkpoints(&t, &cp1);
    assert!(!t.path().join("link").exists());
    assert_eq!(
        std::fs::metadata(t.path().join("plan.md"))
            .unwrap()
            .permissions()
            .mode()
            & 0o111,
        0
    );
    assert_eq!(
        t.git(&["reflog", "-1", "--format=%gs", "main"]).trim(),
        format!("reset: moving to {cp1}")
    );
}

#[test]
fn rollback_over_a_conflict_or_many_files_resets_the_whole_tree() {
    let Failed { t, cp1, .. } = failed_run();
    // A conflict recorded in the index (as `git stash pop` leaves one).
    let blob = |text: &str| {
        let f = t.path().join(".git/blob-input");
        std::fs::write(&f, text).unwrap();
        let oid = t.git(&["hash-object", "-w", f.to_str().unwrap()]);
        std::fs::remove_file(&f).unwrap();
        oid.trim().to_string()
    };
    let (base, ours, theirs) = (blob("base\n"), blob("ours\n"), blob("theirs\n"));
    let info = format!(
        "0 {z}\tplan.md\n100644 {base} 1\tplan.md\n100644 {ours} 2\tplan.md\n100644 {theirs} 3\tplan.md\n",
        z = "0".repeat(40)
    );
    let mut cmd = t.git_cmd();
    cmd.args(["update-index", "--index-info"])
        .stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(info.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(t.git(&["ls-files", "--unmerged"]).contains("plan.md"));
    t.write("plan.md", "<<<<<<< ours\n=======\n>>>>>>> theirs\n");
    // And more changed files than are restored one by one.
    for i in 0..1200 {
        t.write(&format!("many/f{i}.txt"), "x\n");
    }
    t.git(&["add", "many"]);
    t.run(["rollback", "M1", "--force"]).success();
    assert_eq!(head(&t), cp1);
    assert_index_is_the_checkpoints(&t, &cp1);
    assert!(!t.path().join("many").exists());
    assert_eq!(
        t.read("plan.md"),
        "- [ ] TASK-001\n- [ ] TASK-002\n- [ ] TASK-003\n"
    );
}

#[test]
fn rollback_puts_back_a_file_the_task_took_out_of_the_index() {
    let Failed { t, cp1, .. } = failed_run();
    // `git rm --cached`: `git status` shows it deleted and untracked.
    t.git(&["rm", "-q", "--cached", "plan.md"]);
    t.run(["rollback", "M1"]).success();
    assert_eq!(head(&t), cp1);
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n?? notes.txt\n"));
    assert_index_is_the_checkpoints(&t, &cp1);
}

#[test]
fn refuses_a_changed_file_whose_name_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let Failed { t, agent, .. } = failed_run();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(t.path().join(name), "the attempt's\n").unwrap();
    attempt_created(&t, &["caf\u{FFFD}.txt"]);
    let before = (head(&t), porcelain(&t));
    let out = t.run(["rollback", "M1"]);
    insta::assert_snapshot!(out.render(&t));
    assert_eq!((head(&t), porcelain(&t)), before);
    assert_eq!(head(&t), agent);
    assert!(t.path().join(name).exists());
}

#[test]
fn a_run_of_the_same_milestone_in_another_worktree_does_not_redirect_this_ones() {
    let t = TestRepo::with_files(&[(
        "docs/plan.md",
        "# M1\n\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n- [ ] TASK-003: C\n",
    )]);
    let wt = t.home.path().join("wt");
    t.add_worktree("other", &wt);
    let fails3 = sh_runner(
        &t,
        "fails3.sh",
        "echo \"$1\" > \"$1.txt\"\n[ \"$1\" != TASK-003 ]",
    );
    let ok = sh_runner(&t, "ok.sh", "echo \"$1 $(pwd)\" > \"$1.txt\"");
    let here = |args: &[&str]| common::Run::from(t.cmd_in("").args(args).output().unwrap());
    let there = |args: &[&str]| common::Run::from(t.cmd_at(&wt).args(args).output().unwrap());
    let refs = || {
        t.git(&[
            "for-each-ref",
            "--format=%(refname:short) %(objectname)",
            "refs/milestone/M1/checkpoints",
        ])
    };
    here(&["run", "M1", "--runner", &fails3]).code(1);
    let own_task2 = head(&t);
    // The same milestone, from the start, on the other branch: the shared
    // checkpoint refs now name that branch's commits.
    there(&["run", "M1", "--restart", "--runner", &ok]).success();
    // Rolling back here goes to this branch's last checkpoint, not to
    // the commit the run started from.
    here(&["rollback", "M1"]).success();
    assert_eq!(head(&t), own_task2);
    assert_eq!(t.git(&["log", "--format=%s", "-1"]), "M1 TASK-002: B\n");
    // A run here resumes from this branch's checkpoints.
    here(&["run", "M1", "--runner", &ok]).success();
    let status = here(&["status", "M1", "--json"]).json();
    assert_eq!(
        status["milestone"]["tasks"][1]["checkpoint"],
        own_task2.as_str()
    );
    assert_eq!(
        t.git(&["log", "--format=%s", "-3"]),
        "M1 TASK-003: C\nM1 TASK-002: B\nM1 TASK-001: A\n"
    );
    // The other branch runs it again; rolling back here to TASK-001 takes
    // off this branch's TASK-002 and TASK-003, and leaves the refs, which
    // now name the other branch's commits, alone.
    there(&["run", "M1", "--restart", "--runner", &ok]).success();
    let theirs = refs();
    here(&["rollback", "M1", "--to", "TASK-001"]).success();
    assert_eq!(t.git(&["log", "--format=%s", "-1"]), "M1 TASK-001: A\n");
    assert_eq!(refs(), theirs);
}

#[test]
fn a_commit_with_the_trailers_of_an_unfinished_task_is_no_checkpoint() {
    let Failed { t, cp1, .. } = failed_run();
    // A commit that only looks like TASK-003's checkpoint (cherry-picked
    // from another branch, say): this run never finished TASK-003.
    let fake = t.git(&[
        "commit-tree",
        "HEAD^{tree}",
        "-p",
        "HEAD",
        "-m",
        "M1 TASK-003: C\n\nMilestone: M1\nMilestone-Task: TASK-003\n",
    ]);
    t.git(&["update-ref", "refs/heads/main", fake.trim()]);
    let out = t.run(["rollback", "M1", "--to", "TASK-003"]);
    out.code(2);
    assert!(
        out.stderr
            .starts_with("error: M1 has no checkpoint for task TASK-003\n"),
        "{}",
        out.stderr
    );
    t.run(["rollback", "M1", "--force"]).success();
    assert_eq!(head(&t), cp1);
}

/// A task that replaced a tracked directory with a symbolic link to a
/// directory outside the repository holding a file of the same name.
#[test]
fn a_directory_replaced_by_a_symlink_is_rolled_back_without_following_it() {
    let t = TestRepo::with_files(&[
        ("src/lib.txt", "v1\n"),
        (
            "docs/plan.md",
            "# M1\n\n## Tasks\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n",
        ),
    ]);
    let outside = t.home.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("lib.txt"), "not the repository's\n").unwrap();
    let runner = sh_runner(
        &t,
        "runner.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] || exit 0\nrm -r src && ln -s '{}' src\nexit 3",
            outside.display()
        ),
    );
    t.run(["run", "M1", "--plan", "docs/plan.md", "--runner", &runner])
        .code(1);
    let cp1 = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-001"]);
    t.run(["rollback", "M1"]).success();
    assert_eq!(head(&t), cp1.trim());
    assert_eq!(t.read("src/lib.txt"), "v1\n");
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n"));
    assert_eq!(
        std::fs::read_to_string(outside.join("lib.txt")).unwrap(),
        "not the repository's\n",
        "the file behind the link is neither removed nor changed"
    );
    // The link is saved as a link; nothing is read through it.
    assert_eq!(
        t.git(&["ls-tree", "-r", "--format=%(objectmode) %(path)", SAVED]),
        format!(
            "100644 {STATUS}\n100644 TASK-001.txt\n100644 TASK-002.txt\n100644 docs/plan.md\n120000 src\n"
        )
    );
    t.run(["rollback", "M1", "--undo"]).success();
    assert!(
        std::fs::symlink_metadata(t.path().join("src"))
            .unwrap()
            .is_symlink()
    );
    assert_fsck_clean(&t);
}

/// The README's promise: a file the user creates while a failed task waits
/// (say `notes.txt`) is not the attempt's, so the rollback leaves it where
/// it is, and says which files it removed and where it saved them.
#[test]
fn rollback_removes_only_the_files_the_attempt_created() {
    let t = TestRepo::with_files(&[(
        "docs/plan.md",
        "# M1\n\n## Tasks\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n",
    )]);
    let runner = sh_runner(
        &t,
        "runner.sh",
        "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] || exit 0\nmkdir -p out && echo x > out/made.txt\nexit 3",
    );
    t.run(["run", "M1", "--plan", "docs/plan.md", "--runner", &runner])
        .code(1);
    t.write("notes.txt", "written while TASK-002 waited\n");
    t.write("out/mine.txt", "also mine\n");
    let out = t.run(["rollback", "M1"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Rolled back M1 to the checkpoint of TASK-001 ([OID]).
    Removed 2 files the attempt created: TASK-002.txt and out/made.txt.
    Left alone 2 untracked files that are not the attempt's: notes.txt and out/mine.txt.
    The discarded work is saved in refs/milestone/M1/attempts/TASK-002/1.
    To bring it back: git milestone rollback M1 --undo
      (with git alone: git read-tree -u --reset refs/milestone/M1/attempts/TASK-002/1 && git reset -q refs/milestone/M1/attempts/TASK-002/1~1)
    --- stderr
    ");
    assert_eq!(t.read("notes.txt"), "written while TASK-002 waited\n");
    assert_eq!(t.read("out/mine.txt"), "also mine\n");
    assert!(!t.path().join("TASK-002.txt").exists());
    assert!(!t.path().join("out/made.txt").exists());
    assert_eq!(
        porcelain(&t),
        format!(" M {STATUS}\n?? notes.txt\n?? out/mine.txt\n")
    );
    // Not the attempt's, so not in its saved commit either.
    assert_eq!(
        t.git(&["ls-tree", "-r", "--name-only", SAVED]),
        format!("{STATUS}\nTASK-001.txt\nTASK-002.txt\ndocs/plan.md\nout/made.txt\n")
    );
    // --undo gives the attempt its files back, and a retry commits them.
    t.run(["rollback", "M1", "--undo"]).success();
    let ok = sh_runner(&t, "ok.sh", "true");
    t.run(["run", "M1", "--plan", "docs/plan.md", "--runner", &ok])
        .success();
    assert_eq!(porcelain(&t), "?? notes.txt\n?? out/mine.txt\n");
    assert_eq!(
        t.git(&["show", "--name-only", "--format=", "HEAD"]),
        format!("{STATUS}\nTASK-002.txt\ndocs/plan.md\nout/made.txt\n")
    );
}

/// A rollback recorded as still under way (its process was killed after
/// the save): the next `rollback` finishes it instead of saving the half
/// restored tree as the attempt, saves only what is new, and `--undo`
/// restores the first, complete save and names the other.
#[test]
fn a_stopped_rollback_is_finished_and_undo_restores_the_complete_save() {
    let Failed { t, cp1, agent, .. } = failed_run();
    t.run(["rollback", "M1"]).success();
    // As if killed half way through putting the work tree back: HEAD not
    // yet moved, half the attempt's files still there, the record not done.
    let record = t.path().join(".git/milestone/M1/last-rollback.json");
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(text.contains("\"phase\": \"done\""), "{text}");
    std::fs::write(
        &record,
        text.replace("\"phase\": \"done\"", "\"phase\": \"restoring\""),
    )
    .unwrap();
    t.git(&["reset", "-q", "--soft", &agent]);
    t.git(&["checkout", SAVED, "--", "new.txt"]);
    t.git(&["reset", "-q", "--", "new.txt"]);
    // And an edit made since, which no save holds yet.
    t.write("README.md", "edited after the rollback stopped\n");

    let out = t.run(["run", "M1", "--plan", "plan.md", "--runner", "true"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: the last rollback of M1 did not finish; the work tree is half restored
    hint: its work is saved in refs/milestone/M1/attempts/TASK-002/1; finish the rollback with `git milestone rollback M1`, or bring the work back with `git milestone rollback M1 --undo`
    ");

    let out = t.run(["rollback", "M1"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Finished the rollback of M1 that was stopped half way to the checkpoint of TASK-001 ([OID]); 1 commit was taken off the branch.
    Removed 1 file the attempt created: new.txt.
    The discarded work is saved in refs/milestone/M1/attempts/TASK-002/1.
    What the stopped rollback had not put back yet is saved in refs/milestone/M1/attempts/TASK-002/2.
    To bring it back: git milestone rollback M1 --undo
      (with git alone: git read-tree -u --reset refs/milestone/M1/attempts/TASK-002/1 && git reset -q refs/milestone/M1/attempts/TASK-002/1~1)
    --- stderr
    ");
    assert_eq!(head(&t), cp1);
    assert_eq!(porcelain(&t), format!(" M {STATUS}\n?? notes.txt\n"));
    let second = "refs/milestone/M1/attempts/TASK-002/2";
    assert_eq!(
        t.git(&["show", &format!("{second}:README.md")]),
        "edited after the rollback stopped\n"
    );
    assert_eq!(status_json(&t)["failure"]["rolled_back"], true);

    let out = t.run(["rollback", "M1", "--undo"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Restored the work saved in refs/milestone/M1/attempts/TASK-002/1; HEAD is back at [OID].
    Files the attempt created are untracked again and its edits are unstaged.
    Also saved, while finishing a rollback that was stopped (less complete): refs/milestone/M1/attempts/TASK-002/2.
    --- stderr
    ");
    assert_eq!(head(&t), agent);
    assert_eq!(t.read("new.txt"), "new\n");
    assert_eq!(t.read("newdir/file.txt"), "in a new directory\n");
    assert_eq!(t.read("src/lib.txt"), "broken\n");
    assert_fsck_clean(&t);
}

/// A repository whose submodule `sub` (a clone of `<home>/sub-origin`) holds
/// `f.txt`, and a plan of two tasks; `git` runs with
/// `protocol.file.allow=always`, as adding a local submodule needs.
fn with_submodule() -> TestRepo {
    let t = TestRepo::new();
    let origin = t.home.path().join("sub-origin");
    std::fs::create_dir(&origin).unwrap();
    let git_in = |dir: &std::path::Path, args: &[&str]| {
        let mut c = t.git_cmd();
        let out = c.current_dir(dir).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git_in(&origin, &["init", "-q", "-b", "main", "."]);
    std::fs::write(origin.join("f.txt"), "sub v1\n").unwrap();
    git_in(&origin, &["add", "-A"]);
    git_in(&origin, &["commit", "-q", "-m", "sub v1"]);
    t.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        origin.to_str().unwrap(),
        "sub",
    ]);
    t.write(
        "docs/plan.md",
        "# M1\n\n## Tasks\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n",
    );
    t.commit_all("initial");
    t
}

/// A task's work inside a submodule (a commit, an edit, a new file) is
/// saved as a commit in the submodule, recorded in the saved attempt,
/// rolled back, and brought back by `--undo`: with `submodule.recurse` on
/// (which made git's reset discard it) and off (which left it in place).
#[test]
fn work_inside_a_submodule_is_saved_rolled_back_and_undone() {
    for recurse in ["false", "true"] {
        let t = with_submodule();
        t.git(&["config", "submodule.recurse", recurse]);
        let v1 = t.git(&["-C", "sub", "rev-parse", "HEAD"]);
        let runner = sh_runner(
            &t,
            "runner.sh",
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] || exit 0\n\
             (cd sub && echo c > c.txt && git add c.txt && git commit -q -m 'task commit in sub')\n\
             echo edited > sub/f.txt && echo new > sub/new.txt\nexit 3",
        );
        t.run(["run", "M1", "--plan", "docs/plan.md", "--runner", &runner])
            .code(1);
        let task_commit = t.git(&["-C", "sub", "rev-parse", "HEAD"]);
        let out = t.run(["rollback", "M1"]);
        insta::allow_duplicates! {
            insta::assert_snapshot!(out.render(&t), @r"
            exit: 0
            --- stdout
            Rolled back M1 to the checkpoint of TASK-001 ([OID]).
            Removed 2 files the attempt created: TASK-002.txt and sub/new.txt.
            The discarded work is saved in refs/milestone/M1/attempts/TASK-002/1.
            The work inside submodule sub is saved there under the same ref; --undo brings it back too.
            To bring it back: git milestone rollback M1 --undo
              (with git alone: git read-tree -u --reset refs/milestone/M1/attempts/TASK-002/1 && git reset -q refs/milestone/M1/attempts/TASK-002/1~1)
            --- stderr
            ");
        }
        assert_eq!(
            t.git(&["-C", "sub", "rev-parse", "HEAD"]),
            v1,
            "recurse={recurse}"
        );
        assert_eq!(t.read("sub/f.txt"), "sub v1\n", "recurse={recurse}");
        assert!(!t.path().join("sub/new.txt").exists() && !t.path().join("sub/c.txt").exists());
        assert_eq!(porcelain(&t), format!(" M {STATUS}\n"), "recurse={recurse}");
        // Saved in the submodule, and named by the saved attempt.
        let in_sub = t.git(&["-C", "sub", "rev-parse", SAVED]);
        assert_eq!(
            t.git(&["-C", "sub", "show", &format!("{SAVED}:f.txt")]),
            "edited\n"
        );
        assert_eq!(
            t.git(&["-C", "sub", "show", &format!("{SAVED}:new.txt")]),
            "new\n"
        );
        assert_eq!(
            t.git(&["-C", "sub", "rev-parse", &format!("{SAVED}~1")]),
            task_commit
        );
        assert_eq!(
            t.git(&[
                "ls-tree",
                "--format=%(objectmode) %(objectname)",
                SAVED,
                "sub"
            ]),
            format!("160000 {in_sub}")
        );
        assert!(
            t.git(&["log", "-1", "--format=%B", SAVED])
                .contains(&format!("Milestone-Submodule: sub {}", in_sub.trim()))
        );

        t.run(["rollback", "M1", "--undo"]).success();
        assert_eq!(t.git(&["-C", "sub", "rev-parse", "HEAD"]), task_commit);
        assert_eq!(t.read("sub/f.txt"), "edited\n");
        assert_eq!(t.read("sub/new.txt"), "new\n");
        assert_eq!(t.read("sub/c.txt"), "c\n");
        assert_fsck_clean(&t);
    }
}

/// `run` refuses a submodule with an untracked file in it, and says which
/// file in which submodule.
#[test]
fn an_untracked_file_in_a_submodule_is_named_when_a_run_refuses() {
    let t = with_submodule();
    t.write("sub/stray.txt", "stray\n");
    let out = t.run(["run", "M1", "--plan", "docs/plan.md", "--runner", "true"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: the work tree has uncommitted changes (stray.txt untracked in submodule sub); the checkpoint of TASK-001, the next task, would take them for its work
    hint: commit them (`git commit -am ...`) or put them aside (`git stash`), then run `git milestone run M1 --plan docs/plan.md --runner true` again
    hint: inside a submodule, commit or remove them there first (`git -C [REPO]/sub status`)
    ");
}

/// `--to` takes a task ID as a user types it: `Task 1` or `1` for the task
/// a plan heads `## Task 1: ...`; two tasks it could name are refused.
#[test]
fn rollback_to_takes_a_task_id_with_or_without_its_unit_word() {
    let t = TestRepo::with_files(&[(
        "plan.md",
        "# M1\n\n## Task 1: One\n\nDo it.\n\n## Task 2: Two\n\nDo it.\n\n## Task 3: Three\n\nDo it.\n",
    )]);
    let runner = common::runner::writing_runner(&t);
    common::runner::run_m1(&t, &runner, &[]).success();
    let cp = |id: &str| t.git(&["rev-parse", &format!("refs/milestone/M1/checkpoints/{id}")]);
    let (cp1, cp2) = (cp("1"), cp("2"));
    let out = t.run(["rollback", "M1", "--to", "Task 2"]);
    out.success();
    assert!(
        out.stdout
            .starts_with("Rolled back M1 to the checkpoint of 2 ("),
        "{}",
        out.stdout
    );
    assert_eq!(head(&t) + "\n", cp2);
    t.run(["rollback", "M1", "--to", "1"]).success();
    assert_eq!(head(&t) + "\n", cp1);
    let out = t.run(["rollback", "M1", "--to", "Task 9"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: M1 has no checkpoint for task Task 9
    hint: tasks with a checkpoint: 1
    ");
}

/// When the first task fails, the status file is still untracked (the
/// first checkpoint commits it): the rollback keeps it and does not list
/// it as a file of the user's that it left alone.
#[test]
fn the_rollback_of_a_first_task_does_not_call_the_status_file_the_users() {
    let t = TestRepo::with_files(&[("plan.md", "# M1\n\n- [ ] TASK-001: One\n")]);
    let runner = common::runner::script(&t, "runner.sh", "echo half > half.txt\nexit 3");
    common::runner::run_m1(&t, &runner, &[]).code(1);
    let out = t.run(["rollback", "M1"]);
    out.success();
    assert!(!out.stdout.contains("Left alone"), "{}", out.stdout);
    assert!(t.path().join(".milestone_bundles/M1/status.json").exists());
    assert!(!t.path().join("half.txt").exists());
}
