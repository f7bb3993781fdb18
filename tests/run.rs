//! `git milestone run`: checkpoints, resume, refusals, signals, runners.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use common::inspect::{self, M1_STATUS, m1_bundle_entries, rev, status_json};
use common::runner::{
    hold_milestone_lock, hold_run_lock, ran_log, run_cmd, run_cmd_in, run_m1, script,
    writing_runner,
};
use common::{Run, TestRepo};

const PLAN3: &str = "# M1\n\n## Tasks\n\n\
    - [ ] TASK-001: Create a.txt\n\
    - [ ] TASK-002: Create b.txt\n\
    - [ ] TASK-003: Create c.txt\n";

/// A repository whose only commit holds `plan.md`.
fn repo_with_plan(plan: &str) -> TestRepo {
    TestRepo::with_files(&[("plan.md", plan)])
}

fn short(t: &TestRepo, what: &str) -> String {
    t.git(&["rev-parse", "--short=7", what]).trim().to_string()
}

fn committed_status(t: &TestRepo, commit: &str) -> serde_json::Value {
    let text = t.git(&[
        "show",
        &format!("{commit}:.milestone_bundles/M1/status.json"),
    ]);
    serde_json::from_str(&text).unwrap()
}

/// What a refusal must leave exactly as it was.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    repo: inspect::Snapshot,
    journal: bool,
}

fn snapshot(t: &TestRepo) -> Snapshot {
    Snapshot {
        repo: inspect::snapshot(t),
        journal: t.path().join(".git/milestone/M1").exists(),
    }
}

#[track_caller]
fn assert_refused(t: &TestRepo, out: &Run, before: &Snapshot, needle: &str) {
    out.code(2);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(
        out.stderr.contains(needle),
        "{needle:?} not in:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("\nhint: "), "{}", out.stderr);
    assert_eq!(&snapshot(t), before);
    assert!(!t.path().join(".git/milestone/run.lock").exists());
}

/// `text` with each checkpoint line's duration (`in 0.1s`) as `in [DURATION]`.
fn without_durations(text: &str) -> String {
    regex::Regex::new(r" in \d+(\.\d+)?s\n")
        .unwrap()
        .replace_all(text, " in [DURATION]\n")
        .into_owned()
}

#[test]
fn three_checkpoints_with_trailers() {
    let t = repo_with_plan(PLAN3);
    t.write(".gitignore", "*.ignored\n");
    t.commit_all("ignore");
    let base = rev(&t, "HEAD");
    let runner = writing_runner(&t);
    let out = run_m1(&t, &runner, &[]);
    out.success();
    let cp = |id: &str| short(&t, &format!("refs/milestone/M1/checkpoints/{id}"));
    assert_eq!(
        without_durations(&out.stdout),
        format!(
            "Starting TASK-001 [1/3] Create a.txt\ndid TASK-001\ncheckpoint {} TASK-001 [1/3] in [DURATION]\n\
             Starting TASK-002 [2/3] Create b.txt\ndid TASK-002\ncheckpoint {} TASK-002 [2/3] in [DURATION]\n\
             Starting TASK-003 [3/3] Create c.txt\ndid TASK-003\ncheckpoint {} TASK-003 [3/3] in [DURATION]\n\
             Milestone M1 is complete (3 tasks run).\n",
            cp("TASK-001"),
            cp("TASK-002"),
            cp("TASK-003")
        )
    );
    assert_eq!(out.stderr, "");
    assert_eq!(
        t.git(&["log", "--format=%s%n%(trailers)", &format!("{base}..HEAD")]),
        "M1 TASK-003: Create c.txt\nMilestone: M1\nMilestone-Task: TASK-003\nMilestone-Progress: 3/3\nMilestone-Attempts: 1\n\n\
         M1 TASK-002: Create b.txt\nMilestone: M1\nMilestone-Task: TASK-002\nMilestone-Progress: 2/3\nMilestone-Attempts: 1\n\n\
         M1 TASK-001: Create a.txt\nMilestone: M1\nMilestone-Task: TASK-001\nMilestone-Progress: 1/3\nMilestone-Attempts: 1\n\n"
    );
    // Each checkpoint holds its task's file and the status file.
    assert_eq!(
        t.git(&[
            "show",
            "--format=",
            "--name-only",
            "refs/milestone/M1/checkpoints/TASK-002"
        ]),
        ".milestone_bundles/M1/status.json\nTASK-002.txt\nplan.md\n"
    );
    assert_eq!(
        rev(&t, "HEAD"),
        rev(&t, "refs/milestone/M1/checkpoints/TASK-003")
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    t.git(&["fsck", "--strict", "--no-progress"]);
    // The file names no checkpoint (a commit cannot name itself; trailers
    // and refs name them), so a checkpoint changes its own task's line of
    // the file, and the last one the run's state too.
    let status = committed_status(&t, "HEAD");
    assert_eq!(status["state"], "completed");
    assert_eq!(status["base_commit"], base.as_str());
    assert!(status["tasks"][0].get("checkpoint").is_none());
    let churn = |c: &str| t.git(&["diff", "--numstat", &format!("{c}~1"), c, "--", M1_STATUS]);
    assert_eq!(churn("HEAD~1"), format!("1\t1\t{M1_STATUS}\n"));
    assert_eq!(churn("HEAD"), format!("2\t2\t{M1_STATUS}\n"));
    assert_eq!(status["tasks"][2]["exit_code"], 0);
    assert_eq!(status["tasks"][2]["attempts"], 1);
    let mid = committed_status(&t, "HEAD~1");
    assert_eq!(mid["state"], "running");
    assert_eq!(mid["tasks"][2]["state"], "pending");
    // The reflog says what moved the branch.
    assert_eq!(
        t.git(&["reflog", "-1", "--format=%gs", "main"]),
        "milestone M1: checkpoint TASK-003\n"
    );
    assert_eq!(ran_log(&t), "TASK-001\nTASK-002\nTASK-003\n");
    // A second run has nothing to do and changes nothing.
    let before = snapshot(&t);
    let again = run_m1(&t, &runner, &[]);
    again.success();
    assert_eq!(
        again.stdout,
        "Milestone M1: all 3 tasks are done; nothing to run.\n\
         To run it again from the start: git milestone run M1 --restart\n"
    );
    assert_eq!(snapshot(&t), before);
}

#[test]
fn fail_then_resume_never_repeats_a_task() {
    let t = repo_with_plan(PLAN3);
    let flag = t.home.path().join("fail-once");
    std::fs::write(&flag, "").unwrap();
    let log = t.home.path().join("ran.log");
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo \"$1 $MILESTONE_ATTEMPT\" >> '{log}'\necho \"$1\" > \"$1.txt\"\n\
             if [ \"$1\" = TASK-002 ] && [ -e '{flag}' ]; then rm '{flag}'; echo boom >&2; exit 3; fi",
            log = log.display(),
            flag = flag.display()
        ),
    );
    let out = run_m1(&t, &runner, &[]);
    out.code(1);
    let log_path = t
        .path()
        .canonicalize()
        .unwrap()
        .join(".git/milestone/M1/logs/TASK-002.1.log");
    // Said once, in the error, with where its output is.
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 1
    --- stdout
    Starting TASK-001 [1/3] Create a.txt
    checkpoint [OID] TASK-001 [1/3] in [DURATION]
    Starting TASK-002 [2/3] Create b.txt
    boom
    --- stderr
    error: TASK-002 failed (exit code 3) after [DURATION]; the run stopped, leaving its changes in the work tree
    hint: its output: [REPO]/.git/milestone/M1/logs/TASK-002.1.log
    hint: run it again: `git milestone run M1 --plan plan.md --runner [HOME]/runner.sh`
    hint: or discard its changes and go back to the last checkpoint: `git milestone rollback M1`
    ");
    // The task's stdout and stderr share one stream, in the order written.
    assert!(out.stdout.contains("\nboom\n"), "{}", out.stdout);
    assert_eq!(std::fs::read_to_string(&log_path).unwrap(), "boom\n");
    // The work tree records the failure; the attempt's changes are kept.
    let status = status_json(&t);
    assert_eq!(status["state"], "failed");
    assert_eq!(status["tasks"][1]["state"], "failed");
    assert_eq!(status["tasks"][1]["exit_code"], 3);
    assert_eq!(status["failure"]["task"], "TASK-002");
    assert_eq!(status["failure"]["exit_code"], 3);
    assert_eq!(status["failure"]["attempts"], 1);
    assert_eq!(
        t.git(&["status", "--porcelain"]),
        " M .milestone_bundles/M1/status.json\n?? TASK-002.txt\n"
    );
    // Resume: TASK-001 is not run again; TASK-002 is attempt 2.
    let out = run_m1(&t, &runner, &[]);
    out.success();
    assert!(
        out.stdout.starts_with(
            "continuing on top of the failed attempt's changes; \
             `git milestone rollback M1` discards them\nStarting TASK-002 [2/3]"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "TASK-001 1\nTASK-002 1\nTASK-002 2\nTASK-003 1\n"
    );
    let status = committed_status(&t, "HEAD");
    assert_eq!(status["state"], "completed");
    assert_eq!(status["failure"], serde_json::Value::Null);
    assert_eq!(status["tasks"][1]["attempts"], 2);
    assert_eq!(
        t.git(&["log", "--format=%s", "-3"]),
        "M1 TASK-003: Create c.txt\nM1 TASK-002: Create b.txt\nM1 TASK-001: Create a.txt\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    t.git(&["fsck", "--strict", "--no-progress"]);
}

/// Run PLAN3 until TASK-002 fails (it writes `TASK-002.txt` first), then
/// rewrite the status file as a run stopped after recording TASK-002 done
/// but before committing it would have left it.
fn task_2_done_without_a_checkpoint(t: &TestRepo) {
    let failing = script(
        t,
        "fail2.sh",
        "echo \"$1\" > \"$1.txt\"; [ \"$1\" != TASK-002 ]",
    );
    run_m1(t, &failing, &[]).code(1);
    let path = ".milestone_bundles/M1/status.json";
    let mut status: serde_json::Value = serde_json::from_str(&t.read(path)).unwrap();
    status["state"] = "running".into();
    status["failure"] = serde_json::Value::Null;
    status["tasks"][1]["state"] = "done".into();
    status["tasks"][1]["exit_code"] = 0.into();
    t.write(path, &serde_json::to_string_pretty(&status).unwrap());
}

#[test]
fn a_task_recorded_done_without_a_checkpoint_runs_again() {
    let t = repo_with_plan(PLAN3);
    // As if stopped after saving TASK-002 as done, before its checkpoint.
    task_2_done_without_a_checkpoint(&t);
    let runner = writing_runner(&t);
    let out = run_m1(&t, &runner, &[]);
    out.success();
    assert_eq!(
        out.stderr,
        "warning: TASK-002 is recorded as done but has no checkpoint commit (an earlier run was stopped): it runs again\n"
    );
    assert!(
        out.stdout.starts_with(
            "continuing on top of the interrupted attempt's changes; \
             `git milestone rollback M1` discards them\nStarting TASK-002 [2/3]"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(ran_log(&t), "TASK-002\nTASK-003\n");
    assert_eq!(
        t.git(&["show", "--format=%s", "--name-only", "HEAD~1"]),
        "M1 TASK-002: Create b.txt\n\n.milestone_bundles/M1/status.json\nTASK-002.txt\nplan.md\n"
    );
    assert_eq!(
        t.git(&["show", "--format=%s", "--name-only", "HEAD"]),
        "M1 TASK-003: Create c.txt\n\n.milestone_bundles/M1/status.json\nTASK-003.txt\nplan.md\n"
    );
    assert_eq!(committed_status(&t, "HEAD")["tasks"][1]["attempts"], 2);
}

#[test]
fn a_name_in_another_case_means_the_same_milestone() {
    let t = repo_with_plan(PLAN3);
    let runner = writing_runner(&t);
    run_m1(&t, &runner, &[]).success();
    let before = snapshot(&t);
    let out = t.run([
        "run",
        "m1",
        "--plan",
        "plan.md",
        "--runner",
        runner.to_str().unwrap(),
    ]);
    out.success();
    assert_eq!(
        out.stdout,
        "Milestone M1: all 3 tasks are done; nothing to run.\n\
         To run it again from the start: git milestone run M1 --restart\n"
    );
    assert_eq!(snapshot(&t), before);
    assert_eq!(ran_log(&t), "TASK-001\nTASK-002\nTASK-003\n");
    let bundles: Vec<_> = std::fs::read_dir(t.path().join(".milestone_bundles"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(bundles, ["M1"]);
    let json = t.run(["status", "m1", "--json"]);
    json.success();
    assert_eq!(json.json()["milestone"]["name"], "M1");
}

#[test]
fn untracked_files_made_between_runs_are_not_committed_but_the_attempt_s_are() {
    let t = repo_with_plan(PLAN3);
    let flag = t.home.path().join("fail-once");
    std::fs::write(&flag, "").unwrap();
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\n\
             if [ \"$1\" = TASK-002 ] && [ -e '{flag}' ]; then rm '{flag}'; exit 3; fi",
            flag = flag.display()
        ),
    );
    run_m1(&t, &runner, &[]).code(1);
    t.write("notes.txt", "notes\n");
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["show", "--format=", "--name-only", "HEAD~1"]),
        ".milestone_bundles/M1/status.json\nTASK-002.txt\nplan.md\n"
    );
    assert_eq!(
        t.git(&["show", "--format=", "--name-only", "HEAD"]),
        ".milestone_bundles/M1/status.json\nTASK-003.txt\nplan.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "?? notes.txt\n");
    // A rollback leaves it alone too: it is not the milestone's.
    t.run(["rollback", "M1", "--to", "TASK-001"]).success();
    assert_eq!(t.read("notes.txt"), "notes\n");
}

#[test]
fn restart_runs_everything_again_and_keeps_history() {
    let t = repo_with_plan(PLAN3);
    let runner = writing_runner(&t);
    run_m1(&t, &runner, &[]).success();
    let first_run_tip = rev(&t, "HEAD");
    let out = run_m1(&t, &runner, &["--restart"]);
    out.success();
    assert_eq!(ran_log(&t), "TASK-001\nTASK-002\nTASK-003\n".repeat(2));
    t.git(&["merge-base", "--is-ancestor", &first_run_tip, "HEAD"]);
    let status = committed_status(&t, "HEAD");
    assert_eq!(status["base_commit"], first_run_tip.as_str());
    assert_eq!(status["tasks"][0]["attempts"], 1);
}

#[test]
fn tasks_done_in_the_plan_are_skipped_and_reported() {
    let t = repo_with_plan("# M1\n- [x] TASK-001: Old\n- [ ] TASK-002: New\n");
    let runner = writing_runner(&t);
    let out = run_m1(&t, &runner, &[]);
    out.success();
    let cp = short(&t, "HEAD");
    assert_eq!(
        without_durations(&out.stdout),
        format!(
            "TASK-001 [1/2] is marked done in the plan: not run\n\
             Starting TASK-002 [2/2] New\ndid TASK-002\ncheckpoint {cp} TASK-002 [2/2] in [DURATION]\n\
             Milestone M1 is complete (1 task run now, 1 done before).\n"
        )
    );
    assert_eq!(ran_log(&t), "TASK-002\n");
    let status = committed_status(&t, "HEAD");
    assert_eq!(status["tasks"][0]["state"], "done_in_plan");
}

#[test]
fn exit_125_skips_the_task_with_a_checkpoint() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n");
    let runner = script(
        &t,
        "runner.sh",
        "[ \"$1\" = TASK-001 ] && exit 125; touch \"$1.txt\"",
    );
    let out = run_m1(&t, &runner, &[]);
    out.success();
    assert!(
        out.stdout.contains("TASK-001 [1/2] (skipped) in "),
        "{}",
        out.stdout
    );
    assert_eq!(
        t.git(&["log", "--format=%s", "-2"]),
        "M1 TASK-002: B\nM1 TASK-001 skipped\n"
    );
    let status = committed_status(&t, "HEAD");
    assert_eq!(status["tasks"][0]["state"], "skipped");
    assert_eq!(status["tasks"][0]["exit_code"], 125);
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let t = repo_with_plan("# M1\n- [x] TASK-001: Old\n- [ ] TASK-002: New\n");
    let before = snapshot(&t);
    let out = run_m1(&t, "echo my agent", &["--tag", "--dry-run"]);
    out.success();
    assert_eq!(
        out.stdout,
        "Milestone M1 from plan.md: 2 tasks (dry run: nothing will be changed)\n\
         1/2 TASK-001 Old\n    not run: marked done in the plan\n\
         2/2 TASK-002 New\n    run: sh -c 'echo my agent \"$@\"' 'echo my agent' TASK-002   (runner from --runner)\n\
         \x20   then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-002, tag milestone/M1/TASK-002\n"
    );
    assert_eq!(snapshot(&t), before);
}

#[test]
fn dry_run_leaves_the_index_byte_identical() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    // Stale stat data in the index: a status look that refreshes it rewrites
    // `.git/index`.
    let plan = std::fs::File::options()
        .write(true)
        .open(t.path().join("plan.md"))
        .unwrap();
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    plan.set_modified(then).unwrap();
    drop(plan);
    let index = std::fs::read(t.path().join(".git/index")).unwrap();
    let out = run_m1(&t, "true", &["--dry-run"]);
    out.success();
    assert!(std::fs::read(t.path().join(".git/index")).unwrap() == index);
}

#[test]
fn untracked_files_from_before_the_run_are_never_committed() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    t.write(".gitignore", "build/\n");
    t.commit_all("ignore");
    t.write("notes/mine.txt", "my notes\n");
    let runner = script(
        &t,
        "runner.sh",
        "echo new > new.txt; mkdir -p build; echo x > build/out.o; echo more >> notes/mine.txt",
    );
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["show", "--format=", "--name-only", "HEAD"]),
        ".milestone_bundles/M1/status.json\nnew.txt\nplan.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "?? notes/\n");
    assert_eq!(t.read("notes/mine.txt"), "my notes\nmore\n");
}

#[test]
fn commits_made_by_the_runner_are_adopted() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = script(
        &t,
        "runner.sh",
        "echo 1 > one.txt; git add one.txt; git commit -q -m 'agent: one'\n\
         echo 2 > two.txt; git add two.txt; git commit -q -m 'agent: two'\necho 3 > three.txt",
    );
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["log", "--format=%s", "-3"]),
        "M1 TASK-001: A\nagent: two\nagent: one\n"
    );
    let status = committed_status(&t, "HEAD");
    assert_eq!(
        status["tasks"][0]["adopted_commits"],
        serde_json::json!([rev(&t, "HEAD~2"), rev(&t, "HEAD~1")])
    );
    assert_eq!(
        t.git(&["show", "--format=", "--name-only", "HEAD"]),
        ".milestone_bundles/M1/status.json\nplan.md\nthree.txt\n"
    );
}

#[test]
fn head_moved_elsewhere_fails_the_task() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    t.git(&["branch", "other"]);
    t.git(&["commit", "-q", "--allow-empty", "-m", "second"]);
    let runner = script(&t, "runner.sh", "git reset -q --hard other");
    let out = run_m1(&t, &runner, &[]);
    out.code(1);
    assert!(
        out.stderr.contains("error: TASK-001 moved HEAD to ")
            && out.stderr.contains("no checkpoint was made"),
        "{}",
        out.stderr
    );
    assert!(t.git(&["for-each-ref", "refs/milestone"]).is_empty());
    let status = status_json(&t);
    assert_eq!(status["state"], "failed");
}

#[test]
fn plan_embedded_runner_is_used_without_any_other() {
    let plan = "# M1\n\n### TASK-001: Make a\n\n```sh milestone\necho \"embedded $1 $MILESTONE_TASK\" > a.txt\n```\n";
    let t = repo_with_plan(plan);
    let out = t.run(["run", "M1", "--plan", "plan.md"]);
    out.success();
    assert_eq!(
        t.git(&["show", "HEAD:a.txt"]),
        "embedded TASK-001 TASK-001\n"
    );
}

#[test]
fn runner_from_env_and_git_config() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    t.git(&["config", "milestone.runner", "echo config > r.txt #"]);
    let out: Run = t
        .cmd()
        .args(["run", "M1", "--plan", "plan.md", "--dry-run"])
        .env("GIT_MILESTONE_RUNNER", "echo env > r.txt #")
        .output()
        .unwrap()
        .into();
    out.success();
    assert!(
        out.stdout.contains("(runner from GIT_MILESTONE_RUNNER)"),
        "{}",
        out.stdout
    );
    t.run(["run", "M1", "--plan", "plan.md"]).success();
    assert_eq!(t.read("r.txt"), "config\n");
}

#[test]
fn plan_text_never_reaches_the_shell() {
    let t = repo_with_plan(
        "# M1\n- [ ] TASK-001: Title $(touch pwned) ';touch pwned2' \"$(touch pwned3)\"\n",
    );
    let runner = script(
        &t,
        "runner.sh",
        "printf '%s\\n' \"$MILESTONE_TITLE\" > title.txt",
    );
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.read("title.txt"),
        "Title $(touch pwned) ';touch pwned2' \"$(touch pwned3)\"\n"
    );
    for f in ["pwned", "pwned2", "pwned3"] {
        assert!(!t.path().join(f).exists(), "{f} was created");
        assert!(!t.home.path().join(f).exists(), "{f} was created");
    }
}

#[test]
fn tag_flag_tags_each_checkpoint() {
    let t = repo_with_plan(PLAN3);
    let runner = writing_runner(&t);
    run_m1(&t, &runner, &["--tag"]).success();
    assert_eq!(
        t.git(&["tag", "--list"]),
        "milestone/M1/TASK-001\nmilestone/M1/TASK-002\nmilestone/M1/TASK-003\n"
    );
    assert_eq!(rev(&t, "milestone/M1/TASK-002"), rev(&t, "HEAD~1"));
}

#[test]
fn commit_hooks_run_for_checkpoints() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n");
    let runner = writing_runner(&t);
    let hooks = t.path().join(".git/hooks");
    let hook = |name: &str, body: &str| {
        let p = hooks.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    hook("commit-msg", "echo 'Reviewed-by: hook' >> \"$1\"");
    hook("post-commit", "git rev-parse HEAD >> .git/post-commit.log");
    hook(
        "pre-commit",
        "! git diff --cached --name-only | grep -q TASK-002",
    );
    let out = run_m1(&t, &runner, &[]);
    out.code(1);
    assert!(
        out.stderr
            .starts_with("error: the pre-commit hook refused the checkpoint\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "hint: TASK-002 will run again with `git milestone run M1 --plan plan.md --runner "
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        t.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Reviewed-by,valueonly)"
        ]),
        "hook\n\n"
    );
    assert_eq!(
        t.read(".git/post-commit.log"),
        format!("{}\n", rev(&t, "HEAD"))
    );
    assert_eq!(
        t.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Milestone-Task,valueonly)"
        ]),
        "TASK-001\n\n"
    );
}

#[test]
fn touched_files_get_fresh_stat_data_in_the_index() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    for i in 0..20 {
        t.write(&format!("src/f{i}.txt"), &format!("{i}\n"));
    }
    t.commit_all("files");
    // Touched, not changed: without a refresh the index keeps the old
    // stat data and every later checkpoint hashes these files again.
    let runner = script(
        &t,
        "runner.sh",
        "touch -d '2025-06-01 12:00:00' src/*.txt; echo x > new.txt",
    );
    run_m1(&t, &runner, &[]).success();
    let index = git2::Index::open(&t.path().join(".git/index")).unwrap();
    let mut checked = 0;
    for entry in index.iter() {
        let path = String::from_utf8(entry.path).unwrap();
        if !path.starts_with("src/") {
            continue;
        }
        let meta = std::fs::metadata(t.path().join(&path)).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            (
                entry.mtime.seconds() as i64,
                entry.mtime.nanoseconds() as i64
            ),
            (meta.mtime(), meta.mtime_nsec()),
            "{path} has stale stat data in the index"
        );
        checked += 1;
    }
    assert_eq!(checked, 20);
    assert_eq!(t.git(&["status", "--porcelain"]), "");
}

#[test]
fn timeout_fails_the_task_without_an_exit_code() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = script(&t, "runner.sh", "sleep 30");
    let out = run_m1(&t, &runner, &["--timeout", "300ms"]);
    out.code(1);
    assert!(
        out.stderr
            .contains("error: TASK-001 failed (timed out after 0.3s); the run stopped"),
        "{}",
        out.stderr
    );
    let status = status_json(&t);
    assert_eq!(status["failure"]["exit_code"], serde_json::Value::Null);
    assert_eq!(status["tasks"][0]["state"], "failed");
}

#[test]
fn sigint_stops_the_task_and_records_it() {
    stop_with_signal(libc::SIGINT, "SIGINT");
}

#[test]
fn sigterm_stops_the_task_and_records_it() {
    stop_with_signal(libc::SIGTERM, "SIGTERM");
}

fn stop_with_signal(sig: i32, name: &str) {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let marker = t.home.path().join("survived");
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo started; sleep 1; sleep 30; touch '{}'",
            marker.display()
        ),
    );
    let child = run_cmd(&t, &runner, &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = t.path().join(".git/milestone/M1/logs/TASK-001.1.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(&log).unwrap_or_default() != "started\n" {
        assert!(
            std::time::Instant::now() < deadline,
            "the task never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signals the child this test started.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
    let out: Run = child.wait_with_output().unwrap().into();
    out.code(130);
    assert!(
        out.stderr.ends_with(&format!(
            "error: TASK-001 was stopped by {name} and is recorded as interrupted\n\
             hint: continue with `git milestone run M1 --plan plan.md --runner {}`\n",
            runner.display()
        )),
        "{}",
        out.stderr
    );
    let status = status_json(&t);
    assert_eq!(status["state"], "interrupted");
    assert_eq!(status["tasks"][0]["state"], "interrupted");
    assert!(!t.path().join(".git/milestone/run.lock").exists());
    assert_eq!(m1_bundle_entries(&t), ["status.json"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(!marker.exists(), "the task outlived the interruption");
}

// ---- refusals: exit 2 and nothing changed ----

#[test]
fn refuses_a_dirty_tree() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    t.write("plan.md", "# M1\n- [ ] TASK-001: A\nedited\n");
    let before = snapshot(&t);
    let out = run_m1(&t, &runner, &[]);
    assert_refused(&t, &out, &before, "uncommitted changes (plan.md)");
    // Staged changes count too; untracked files do not.
    t.git(&["add", "plan.md"]);
    let before = snapshot(&t);
    assert_refused(
        &t,
        &run_m1(&t, &runner, &[]),
        &before,
        "uncommitted changes (plan.md)",
    );
    assert_eq!(ran_log(&t), "");
}

#[test]
fn a_completed_milestone_with_a_new_task_refuses_a_dirty_tree() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    t.write(".gitignore", "*.o\n");
    t.commit_all("ignore");
    let runner = writing_runner(&t);
    run_m1(&t, &runner, &[]).success();
    t.write("plan.md", "# M1\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n");
    t.commit_all("one more task");
    t.write(".gitignore", "*.o\nedit\n");
    let before = snapshot(&t);
    let out = run_m1(&t, &runner, &[]);
    assert_refused(&t, &out, &before, "uncommitted changes (.gitignore)");
    assert_eq!(ran_log(&t), "TASK-001\n");
}

#[test]
fn a_run_interrupted_between_tasks_refuses_a_dirty_tree() {
    let t = repo_with_plan(PLAN3);
    let stop = script(&t, "stop.sh", "[ \"$1\" = TASK-001 ]");
    run_m1(&t, &stop, &[]).code(1);
    // As if Ctrl-C came right after TASK-001's checkpoint.
    let path = ".milestone_bundles/M1/status.json";
    let mut status: serde_json::Value = serde_json::from_str(&t.read(path)).unwrap();
    status["state"] = "interrupted".into();
    status["failure"] = serde_json::Value::Null;
    status["tasks"][1]["state"] = "pending".into();
    t.write(path, &serde_json::to_string_pretty(&status).unwrap());
    t.write("plan.md", &format!("{PLAN3}edited\n"));
    let runner = writing_runner(&t);
    let before = snapshot(&t);
    let out = run_m1(&t, &runner, &[]);
    assert_refused(&t, &out, &before, "uncommitted changes (plan.md)");
}

#[test]
fn a_failed_attempt_s_edits_are_continued_and_said_so() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let flag = t.home.path().join("fail-once");
    std::fs::write(&flag, "").unwrap();
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo \"$MILESTONE_ATTEMPT\" >> plan.md\n\
             if [ -e '{flag}' ]; then rm '{flag}'; exit 3; fi",
            flag = flag.display()
        ),
    );
    run_m1(&t, &runner, &[]).code(1);
    let out = run_m1(&t, &runner, &[]);
    out.success();
    assert_eq!(
        out.stdout.lines().next().unwrap(),
        "continuing on top of the failed attempt's changes; \
         `git milestone rollback M1` discards them"
    );
    assert_eq!(
        t.git(&["show", "HEAD:plan.md"]),
        "# M1\n- [x] TASK-001: A\n1\n2\n"
    );
}

#[test]
fn refuses_to_write_through_a_committed_bundles_symlink() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    let outside = t.home.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, t.path().join(".milestone_bundles")).unwrap();
    t.commit_all("bundles elsewhere");
    let before = snapshot(&t);
    for extra in [&[][..], &["--restart"], &["--dry-run"]] {
        let out = run_m1(&t, &runner, extra);
        assert_refused(
            &t,
            &out,
            &before,
            "error: .milestone_bundles is a symbolic link; git-milestone reads and writes only real files there\n",
        );
    }
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    // One level down, and the status file itself.
    std::fs::remove_file(t.path().join(".milestone_bundles")).unwrap();
    std::fs::create_dir(t.path().join(".milestone_bundles")).unwrap();
    std::os::unix::fs::symlink(&outside, t.path().join(".milestone_bundles/M1")).unwrap();
    let out = run_m1(&t, &runner, &[]);
    out.code(2);
    assert!(
        out.stderr
            .starts_with("error: .milestone_bundles/M1 is a symbolic link;"),
        "{}",
        out.stderr
    );
    std::fs::remove_file(t.path().join(".milestone_bundles/M1")).unwrap();
    std::fs::create_dir(t.path().join(".milestone_bundles/M1")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("status.json"),
        t.path().join(".milestone_bundles/M1/status.json"),
    )
    .unwrap();
    let out = run_m1(&t, &runner, &[]);
    out.code(2);
    assert!(
        out.stderr
            .starts_with("error: .milestone_bundles/M1/status.json is a symbolic link;"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(ran_log(&t), "");
}

#[test]
fn refuses_while_git_is_mid_operation() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    t.write("x.txt", "base\n");
    t.commit_all("base");
    t.diverge("side", "x.txt", "side\n", "main\n");
    let attempts: [(&[&str], &str, &[&str]); 3] = [
        (
            &["merge", "-q", "side"],
            "a merge is in progress",
            &["merge", "--abort"],
        ),
        (
            &["cherry-pick", "side"],
            "a cherry-pick is in progress",
            &["cherry-pick", "--abort"],
        ),
        (
            &["rebase", "-q", "side"],
            "a rebase is in progress",
            &["rebase", "--abort"],
        ),
    ];
    for (start, needle, abort) in attempts {
        let started = t.git_cmd().args(start).output().unwrap();
        assert!(!started.status.success(), "{start:?} should conflict");
        let before = snapshot(&t);
        assert_refused(&t, &run_m1(&t, &runner, &[]), &before, needle);
        t.git(abort);
    }
    t.git(&["bisect", "start"]);
    let before = snapshot(&t);
    assert_refused(
        &t,
        &run_m1(&t, &runner, &[]),
        &before,
        "a bisect is in progress",
    );
}

#[test]
fn refuses_a_detached_head_unless_allowed() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    t.git(&["switch", "-q", "--detach"]);
    let before = snapshot(&t);
    assert_refused(&t, &run_m1(&t, &runner, &[]), &before, "HEAD is detached");
    run_m1(&t, &runner, &["--detach-ok"]).success();
    assert_eq!(
        rev(&t, "HEAD"),
        rev(&t, "refs/milestone/M1/checkpoints/TASK-001")
    );
    assert_eq!(t.git(&["log", "-1", "--format=%s", "main"]), "initial\n");
}

#[test]
fn refuses_while_another_run_holds_the_lock() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    let lock = t.path().join(".git/milestone/run.lock");
    let text = "pid 4242\nstarted 2026-01-01T00:00:00Z\nmilestone M9\n";
    let held = hold_run_lock(&t, text);
    let before = snapshot(&t);
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: another `git milestone run` is in progress in this work tree (pid [PID], milestone M9, started [TIME])
    hint: wait for it to finish, or stop it: Ctrl-C in its terminal, or `kill 4242`
    ");
    assert_eq!(
        std::fs::read_to_string(&lock).unwrap(),
        text,
        "the lock was touched"
    );
    assert_eq!(snapshot(&t).repo.head, before.repo.head);
    assert_eq!(ran_log(&t), "");
    // Its holder ended without removing the file (killed): the kernel lock
    // is gone with it, whatever the pid in the file names now (here a live
    // process, as when the pid was reused).
    drop(held);
    let me = std::process::id();
    std::fs::write(
        &lock,
        format!("pid {me}\nstarted 2026-01-01T00:00:00Z\nmilestone M9\n"),
    )
    .unwrap();
    let out = run_m1(&t, &runner, &[]);
    out.success();
    assert_eq!(
        out.stderr,
        format!(
            "warning: taking over the run lock left by pid {me} (started 2026-01-01T00:00:00Z), which ended without removing it\n"
        )
    );
    assert!(!lock.exists());
    assert_eq!(ran_log(&t), "TASK-001\n");
}

#[test]
fn refuses_corrupted_and_newer_status_files() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    for (text, needle) in [
        ("{\"version\": 1, \"milest", "is not a valid status file"),
        ("{\"version\": 99}", "has format version 99"),
    ] {
        t.write(".milestone_bundles/M1/status.json", text);
        let before = snapshot(&t);
        assert_refused(&t, &run_m1(&t, &runner, &[]), &before, needle);
        assert_eq!(t.read(".milestone_bundles/M1/status.json"), text);
    }
    assert_eq!(ran_log(&t), "");
}

#[test]
fn refuses_names_that_leave_the_bundle_directory() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    let before = snapshot(&t);
    let out = t.run([
        "run",
        "../escape",
        "--plan",
        "plan.md",
        "--runner",
        runner.to_str().unwrap(),
    ]);
    assert_refused(&t, &out, &before, "is not a valid milestone name");
    assert!(!t.path().join(".milestone_bundles").exists());
}

#[test]
fn refuses_a_missing_runner_program() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let before = snapshot(&t);
    let out = run_m1(&t, "no-such-agent-xyz -p", &[]);
    assert_refused(
        &t,
        &out,
        &before,
        "runner program `no-such-agent-xyz` was not found",
    );
}

#[test]
fn without_any_runner_the_hint_names_all_four_sources() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let before = snapshot(&t);
    let out = t.run(["run", "M1", "--plan", "plan.md"]);
    assert_refused(&t, &out, &before, "no runner command for task TASK-001");
    assert_eq!(
        out.stderr,
        "error: no runner command for task TASK-001\n\
         hint: pass one with `--runner 'CMD'` (it gets the task ID as its argument)\n\
         hint: or set it with `export GIT_MILESTONE_RUNNER='CMD'` or `git config milestone.runner 'CMD'`\n\
         hint: or put a ```sh milestone fenced block under the task's heading in the plan\n"
    );
}

#[test]
fn bad_flag_values_are_refused_before_anything_runs() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    let before = snapshot(&t);
    assert_refused(
        &t,
        &run_m1(&t, &runner, &["--timeout", "soon"]),
        &before,
        "invalid duration",
    );
    assert_refused(
        &t,
        &run_m1(&t, &runner, &["--retry"]),
        &before,
        "no earlier run of M1 to retry",
    );
    assert_refused(
        &t,
        &run_m1(&t, &runner, &["--on-failure", "sometimes"]),
        &before,
        "sometimes",
    );
}

// ---- what the run does with the failure policy's choice ----

/// A runner that fails TASK-002 (exit 3, after writing its file) the first
/// `failures` times, counting down in a file in HOME.
fn flaky_runner(t: &TestRepo, failures: u32) -> PathBuf {
    let counter = t.home.path().join("fail-002");
    std::fs::write(&counter, failures.to_string()).unwrap();
    let log = t.home.path().join("ran.log");
    script(
        t,
        "runner.sh",
        &format!(
            "echo \"$1 $MILESTONE_ATTEMPT\" >> '{log}'\necho \"$1\" > \"$1.txt\"\n\
             n=$(cat '{c}')\n\
             if [ \"$1\" = TASK-002 ] && [ \"$n\" -gt 0 ]; then echo $((n - 1)) > '{c}'; exit 3; fi",
            log = log.display(),
            c = counter.display()
        ),
    )
}

#[test]
fn on_failure_retry_runs_the_task_again() {
    let t = repo_with_plan(PLAN3);
    let runner = flaky_runner(&t, 2);
    let out = run_m1(&t, &runner, &["--on-failure", "retry:2"]);
    out.success();
    assert_eq!(
        ran_log(&t),
        "TASK-001 1\nTASK-002 1\nTASK-002 2\nTASK-002 3\nTASK-003 1\n"
    );
    assert_eq!(
        out.stderr.matches("TASK-002 failed (exit code 3)").count(),
        2
    );
    let status = committed_status(&t, "HEAD");
    assert_eq!(status["tasks"][1]["attempts"], 3);
    assert_eq!(status["state"], "completed");
    // Out of retries: the run stops.
    let t = repo_with_plan(PLAN3);
    let runner = flaky_runner(&t, 5);
    run_m1(&t, &runner, &["--on-failure", "retry"]).code(1);
    assert_eq!(
        ran_log(&t),
        "TASK-001 1\nTASK-002 1\nTASK-002 2\nTASK-002 3\n"
    );
}

#[test]
fn on_failure_skip_from_git_config_goes_on() {
    let t = repo_with_plan(PLAN3);
    t.git(&["config", "milestone.onFailure", "skip"]);
    let runner = flaky_runner(&t, 9);
    let out = run_m1(&t, &runner, &[]);
    out.success();
    assert_eq!(ran_log(&t), "TASK-001 1\nTASK-002 1\nTASK-003 1\n");
    assert_eq!(
        t.git(&["log", "--format=%s", "-3"]),
        "M1 TASK-003: Create c.txt\nM1 TASK-002 skipped\nM1 TASK-001: Create a.txt\n"
    );
    let status = committed_status(&t, "HEAD");
    assert_eq!(status["tasks"][1]["state"], "skipped");
    assert_eq!(status["tasks"][1]["exit_code"], 3);
    assert_eq!(status["failure"], serde_json::Value::Null);
    assert_eq!(t.git(&["status", "--porcelain"]), "");
}

#[test]
fn on_failure_rollback_returns_to_the_last_checkpoint() {
    let t = repo_with_plan(PLAN3);
    let runner = flaky_runner(&t, 1);
    let out = run_m1(&t, &runner, &["--on-failure", "rollback"]);
    out.code(1);
    let checkpoint = rev(&t, "refs/milestone/M1/checkpoints/TASK-001");
    assert_eq!(rev(&t, "HEAD"), checkpoint);
    assert!(!t.path().join("TASK-002.txt").exists());
    assert_eq!(
        t.git(&["status", "--porcelain"]),
        " M .milestone_bundles/M1/status.json\n"
    );
    let status = status_json(&t);
    assert_eq!(status["state"], "failed");
    assert_eq!(status["failure"]["rolled_back"], true);
    let saved = status["failure"]["saved_ref"].as_str().unwrap().to_string();
    assert_eq!(
        t.git(&["show", &format!("{saved}:TASK-002.txt")]),
        "TASK-002\n"
    );
    assert!(
        out.stderr.contains(&format!(
            "error: TASK-002 failed (exit code 3) after {}; its work is saved in {saved} (removed from the work tree: \
             TASK-002.txt) and the branch is back at {}\n\
             hint: its output: {}\n\
             hint: bring the work back with `git milestone rollback M1 --undo`",
            out.stderr.split(" after ").nth(1).unwrap().split(';').next().unwrap(),
            &checkpoint[..7],
            t.path().canonicalize().unwrap().join(".git/milestone/M1/logs/TASK-002.1.log").display()
        )),
        "{}",
        out.stderr
    );
    // The next run retries it from the checkpoint.
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        ran_log(&t),
        "TASK-001 1\nTASK-002 1\nTASK-002 2\nTASK-003 1\n"
    );
    t.git(&["fsck", "--strict", "--no-progress"]);
}

#[test]
fn runs_from_a_subdirectory_with_the_task_in_the_root() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    t.write("sub/dir/keep.txt", "x\n");
    t.commit_all("sub");
    let runner = script(
        &t,
        "runner.sh",
        "pwd > where.txt; echo \"$MILESTONE_PLAN\" >> where.txt",
    );
    let out: Run = t
        .cmd_in("sub/dir")
        .args([
            "run",
            "M1",
            "--plan",
            "../../plan.md",
            "--runner",
            runner.to_str().unwrap(),
        ])
        .output()
        .unwrap()
        .into();
    out.success();
    let root = t.path().canonicalize().unwrap();
    assert_eq!(
        t.git(&["show", "HEAD:where.txt"]),
        format!("{}\nplan.md\n", root.display())
    );
}

#[test]
fn the_milestone_lock_covers_linked_worktrees() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    let linked = t.home.path().join("linked");
    t.add_worktree("other", &linked);
    let me = std::process::id();
    let held = hold_milestone_lock(&t, "m1", &format!("pid {me}\nstarted x\nmilestone M1\n"));
    let out: Run = run_cmd_in(&t, &linked, &runner, &[])
        .output()
        .unwrap()
        .into();
    out.code(2);
    assert!(
        out.stderr.starts_with(&format!(
            "error: another `git milestone run` of milestone M1 is in progress (pid {me}, started x)"
        )),
        "{}",
        out.stderr
    );
    drop(held);
    // Another milestone's run in the main worktree holds nothing up here.
    let _main = hold_run_lock(&t, &format!("pid {me}\nstarted x\nmilestone M2\n"));
    let out: Run = run_cmd_in(&t, &linked, &runner, &[])
        .output()
        .unwrap()
        .into();
    out.success();
    assert_eq!(
        t.git(&["log", "-1", "--format=%s", "other"]),
        "M1 TASK-001: A\n"
    );
    assert!(
        t.path()
            .join(".git/worktrees/linked/milestone/M1/logs/TASK-001.1.log")
            .exists()
    );
}

#[test]
fn a_name_with_spaces_runs_under_a_dashed_key() {
    let t = TestRepo::with_files(&[(
        "docs/roadmap.md",
        "# Roadmap\n\n## Phase 2: Storage\n\n- [ ] T201: Write the store\n- [ ] T202: Read the store\n",
    )]);
    let out = t.run(["run", "Phase 2", "--runner", "true"]);
    out.success();
    assert!(out.stdout.contains("Starting T201 [1/2]"), "{}", out.stdout);
    let status: serde_json::Value =
        serde_json::from_str(&t.read(".milestone_bundles/Phase-2/status.json")).unwrap();
    assert_eq!(status["milestone"], "Phase-2");
    assert_eq!(status["state"], "completed");
    t.git(&[
        "rev-parse",
        "--verify",
        "refs/milestone/Phase-2/checkpoints/T202",
    ]);
    let st = t.run(["status", "Phase 2", "--json"]);
    st.success();
    assert_eq!(st.json()["milestone"]["name"], "Phase-2", "{}", st.stdout);
}

#[test]
fn a_file_a_commit_hook_leaves_behind_is_not_the_next_tasks_work() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n");
    let runner = writing_runner(&t);
    let p = t.path().join(".git/hooks/post-commit");
    std::fs::write(&p, "#!/bin/sh\necho made > hook-made.txt\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["log", "--format=%s", "--name-only", "-2"]),
        "M1 TASK-002: B\n\n.milestone_bundles/M1/status.json\nTASK-002.txt\nplan.md\n\
         M1 TASK-001: A\n\n.milestone_bundles/M1/status.json\nTASK-001.txt\nplan.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "?? hook-made.txt\n");
}

#[test]
fn files_made_before_each_task_starts_are_kept_across_a_session() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n");
    t.write("mine.txt", "mine\n");
    let runner = writing_runner(&t);
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["log", "--format=%s", "--name-only", "-2"]),
        "M1 TASK-002: B\n\n.milestone_bundles/M1/status.json\nTASK-002.txt\nplan.md\n\
         M1 TASK-001: A\n\n.milestone_bundles/M1/status.json\nTASK-001.txt\nplan.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "?? mine.txt\n");
}

#[test]
fn new_files_of_a_task_whose_checkpoint_a_hook_refused_go_in_the_next_checkpoint() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    let p = t.path().join(".git/hooks/pre-commit");
    let flag = t.home.path().join("refused-once");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\n[ -e '{0}' ] && exit 0\ntouch '{0}'\nexit 1\n",
            flag.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_m1(&t, &runner, &[]).code(1);
    // Staged before the hook ran: tracked now, so never taken for a file
    // of the user's, and the retry's checkpoint holds it.
    assert_eq!(
        t.git(&["status", "--porcelain"]),
        "AM .milestone_bundles/M1/status.json\nA  TASK-001.txt\n"
    );
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["log", "--format=%s", "--name-only", "-1"]),
        "M1 TASK-001: A\n\n.milestone_bundles/M1/status.json\nTASK-001.txt\nplan.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "");
}

#[test]
fn checkpoint_trees_are_what_git_write_tree_makes_of_the_index() {
    let t = repo_with_plan(PLAN3);
    t.write("keep/a.txt", "a\n");
    t.write("keep/b.txt", "b\n");
    t.write("dir/file", "was a file\n");
    t.write("file", "was a dir's sibling\n");
    t.write("tool.sh", "echo\n");
    t.write("link-target.txt", "x\n");
    t.commit_all("shapes");
    // Every kind of change in one task: edits, a directory emptied, a file
    // turned into a directory and back, a mode change, a symlink, spaces
    // and a newline in names, a file the task staged itself.
    let runner = script(
        &t,
        "runner.sh",
        "case \"$1\" in\n\
         TASK-001) rm keep/a.txt keep/b.txt; rm dir/file; mkdir -p dir/file; echo n > dir/file/inner;\n\
           chmod +x tool.sh; ln -s link-target.txt link; printf 'x' > 'sp ace.txt';\n\
           printf 'y' > \"$(printf 'new\\nline')\"; echo staged > staged.txt; git add staged.txt ;;\n\
         TASK-002) rm file; mkdir file; echo deep > file/deep.txt; echo more >> tool.sh ;;\n\
         TASK-003) rm -r file; echo back > file; rm link ;;\n\
         esac\n",
    );
    run_m1(&t, &runner, &[]).success();
    for task in ["TASK-001", "TASK-002", "TASK-003"] {
        let commit = rev(&t, &format!("refs/milestone/M1/checkpoints/{task}"));
        // Rebuild the index from that commit, then ask git for its tree.
        let index = t.path().join(".git/check-index");
        let env = [("GIT_INDEX_FILE", index.to_str().unwrap())];
        t.git_env(&["read-tree", &commit], &env);
        assert_eq!(
            t.git_env(&["write-tree"], &env).trim(),
            t.git(&["rev-parse", &format!("{commit}^{{tree}}")]).trim(),
            "{task}"
        );
        std::fs::remove_file(&index).unwrap();
    }
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    assert_eq!(t.git(&["write-tree"]), t.git(&["rev-parse", "HEAD^{tree}"]));
    assert!(
        !t.git(&["ls-tree", "-r", "--name-only", "HEAD~2"])
            .contains("keep/"),
        "an emptied directory stays out of the tree"
    );
    t.git(&["fsck", "--strict", "--no-dangling"]);
}

#[test]
fn new_files_of_a_task_stopped_before_its_checkpoint_go_in_its_checkpoint() {
    let t = repo_with_plan(PLAN3);
    t.write("notes.txt", "the user's, from before the run\n");
    // As if TASK-002 had succeeded and the run stopped after saving it as
    // done, before its checkpoint staged anything: a success records no
    // list of its new files, as its checkpoint stages them.
    task_2_done_without_a_checkpoint(&t);
    std::fs::write(t.path().join(".git/milestone/M1/attempt-leftovers"), "").unwrap();
    let quiet = script(
        &t,
        "quiet.sh",
        "[ \"$1\" = TASK-002 ] || echo \"$1\" > \"$1.txt\"",
    );
    run_m1(&t, &quiet, &[]).success();
    assert_eq!(
        t.git(&[
            "show",
            "--name-only",
            "--format=",
            "refs/milestone/M1/checkpoints/TASK-002"
        ]),
        ".milestone_bundles/M1/status.json\nTASK-002.txt\nplan.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "?? notes.txt\n");
}

#[test]
fn many_untracked_files_from_before_the_run_stay_out_of_checkpoints() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    // More than `git add` is asked to leave out one by one.
    for i in 0..250 {
        t.write(&format!("scratch/s{i:03}.txt"), "mine\n");
    }
    t.write("scratch dir/odd name.txt", "mine too\n");
    let runner = writing_runner(&t);
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["show", "--name-only", "--format=", "HEAD"]),
        ".milestone_bundles/M1/status.json\nTASK-001.txt\nplan.md\n"
    );
    let left = t.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert_eq!(left.lines().count(), 251, "{left}");
    assert!(
        left.lines()
            .all(|l| l.starts_with("?? scratch/") || l == "?? \"scratch dir/odd name.txt\""),
        "{left}"
    );
}

#[test]
fn the_status_file_is_committed_even_where_an_ignore_rule_covers_it() {
    let t = repo_with_plan(PLAN3);
    t.write(".gitignore", ".milestone_bundles/\n");
    t.commit_all("ignore the bundles");
    let runner = writing_runner(&t);
    run_m1(&t, &runner, &[]).success();
    for task in ["TASK-001", "TASK-002", "TASK-003"] {
        let commit = format!("refs/milestone/M1/checkpoints/{task}");
        assert_eq!(
            t.git(&["show", "--name-only", "--format=", &commit]),
            format!(".milestone_bundles/M1/status.json\n{task}.txt\nplan.md\n")
        );
    }
    assert_eq!(committed_status(&t, "HEAD")["tasks"][2]["state"], "done");
    assert_eq!(t.git(&["status", "--porcelain"]), "");
}

#[test]
fn new_files_of_a_task_whose_checkpoint_could_not_stage_go_in_the_retry() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let flag = t.home.path().join("locked-once");
    // The first attempt succeeds but leaves git's index lock behind, so
    // its checkpoint cannot stage anything.
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo new > new.txt\n[ -e '{0}' ] || {{ touch '{0}'; touch .git/index.lock; }}\n",
            flag.display()
        ),
    );
    run_m1(&t, &runner, &[]).code(1);
    assert_eq!(
        t.git(&["status", "--porcelain"]),
        "?? .milestone_bundles/\n?? new.txt\n"
    );
    assert_eq!(t.read(".git/milestone/M1/attempt-leftovers"), "new.txt\0");
    std::fs::remove_file(t.path().join(".git/index.lock")).unwrap();
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["show", "--name-only", "--format=", "HEAD"]),
        ".milestone_bundles/M1/status.json\nnew.txt\nplan.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_kept_file_the_task_turned_into_a_directory_does_not_hide_it() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    t.write("out", "the user's, from before the run\n");
    t.write("notes.txt", "also the user's\n");
    let runner = script(&t, "runner.sh", "rm out; mkdir out; echo made > out/a.txt");
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["show", "--name-only", "--format=", "HEAD"]),
        ".milestone_bundles/M1/status.json\nout/a.txt\nplan.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "?? notes.txt\n");
}

#[test]
fn an_untracked_file_whose_name_is_not_utf8_stays_out_of_checkpoints() {
    use std::os::unix::ffi::OsStrExt;
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(t.path().join(name), "the user's secret\n").unwrap();
    let runner = writing_runner(&t);
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["show", "--name-only", "--format=", "HEAD"]),
        ".milestone_bundles/M1/status.json\nTASK-001.txt\nplan.md\n"
    );
    assert!(t.path().join(name).exists());
}

#[test]
fn pathspec_variables_in_the_environment_change_nothing() {
    let t = TestRepo::with_files(&[("docs/plans/m1.md", "# M1\n- [ ] TASK-001: A\n")]);
    t.write("notes.txt", "the user's\n");
    let runner = writing_runner(&t);
    let out: Run = t
        .cmd_in("")
        .args(["run", "M1", "--runner"])
        .arg(&runner)
        .env("GIT_LITERAL_PATHSPECS", "1")
        .env("GIT_ICASE_PATHSPECS", "1")
        .env("GIT_INDEX_FILE", t.path().join(".git/other-index"))
        .output()
        .unwrap()
        .into();
    out.success();
    assert_eq!(
        t.git(&["show", "--name-only", "--format=", "HEAD"]),
        ".milestone_bundles/M1/status.json\nTASK-001.txt\ndocs/plans/m1.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "?? notes.txt\n");
    assert!(!t.path().join(".git/other-index").exists());
}

#[test]
fn a_second_run_while_one_holds_the_lock_prints_the_refusal_only() {
    let t = repo_with_plan(PLAN3);
    // A failed attempt's changes, which a run would continue on top of.
    let failing = script(
        &t,
        "fail2.sh",
        "echo \"$1\" > \"$1.txt\"; [ \"$1\" != TASK-002 ]",
    );
    run_m1(&t, &failing, &[]).code(1);
    let _held = hold_run_lock(&t, "pid 4242\nstarted 2026-01-01T00:00:00Z\nmilestone M1\n");
    let before = snapshot(&t);
    let out = run_m1(&t, &failing, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: another `git milestone run` is in progress in this work tree (pid [PID], milestone M1, started [TIME])
    hint: wait for it to finish, or stop it: Ctrl-C in its terminal, or `kill 4242`
    ");
    assert_eq!(snapshot(&t), before);
}

#[test]
fn a_milestone_name_too_long_for_a_file_name_is_refused_before_anything() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = writing_runner(&t);
    let long = "M".repeat(300);
    let before = snapshot(&t);
    for args in [
        vec![
            "run",
            &long,
            "--plan",
            "plan.md",
            "--runner",
            runner.to_str().unwrap(),
        ],
        vec!["status", &long],
        vec!["rollback", &long],
    ] {
        let out = t.run(&args);
        insta::allow_duplicates! {
            insta::assert_snapshot!(out.render(&t), @r"
            exit: 2
            --- stdout
            --- stderr
            error: milestone name MMMMMMMMMMMMMMMMMMMMMMMM… is 300 bytes long; it names a directory and a ref, which hold at most 255
            hint: use a shorter name, e.g. `M1` or `phase-2` (`--plan PATH` names the plan file)
            ");
        }
        assert_eq!(snapshot(&t), before);
    }
    assert!(!t.path().join(".git/milestone").exists());
    assert!(!t.path().join(".milestone_bundles").exists());
    assert_eq!(ran_log(&t), "");
}

#[test]
fn a_resume_after_ctrl_c_says_the_attempt_was_interrupted() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let runner = script(
        &t,
        "runner.sh",
        "echo \"$1\" > \"$1.txt\"; echo started; sleep 30",
    );
    let child = run_cmd(&t, &runner, &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = t.path().join(".git/milestone/M1/logs/TASK-001.1.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(&log).unwrap_or_default() != "started\n" {
        assert!(
            std::time::Instant::now() < deadline,
            "the task never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signals the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    Run::from(child.wait_with_output().unwrap()).code(130);
    let out = run_m1(&t, "true", &[]);
    out.success();
    assert_eq!(
        out.stdout.lines().next().unwrap(),
        "continuing on top of the interrupted attempt's changes; \
         `git milestone rollback M1` discards them"
    );
    assert_eq!(t.git(&["show", "HEAD:TASK-001.txt"]), "TASK-001\n");
}

#[test]
fn a_checkpoint_ref_lost_after_the_last_task_is_restored_from_its_trailers() {
    let t = repo_with_plan(PLAN3);
    let runner = writing_runner(&t);
    run_m1(&t, &runner, &[]).success();
    // As a run killed between moving the branch and writing the ref leaves it.
    t.git(&["update-ref", "-d", "refs/milestone/M1/checkpoints/TASK-003"]);
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    restored refs/milestone/M1/checkpoints/TASK-003 from the trailers of [OID] (an earlier run was stopped before writing it)
    Milestone M1: all 3 tasks are done; nothing to run.
    To run it again from the start: git milestone run M1 --restart
    --- stderr
    ");
    assert_eq!(
        rev(&t, "refs/milestone/M1/checkpoints/TASK-003"),
        rev(&t, "HEAD")
    );
    assert_eq!(ran_log(&t), "TASK-001\nTASK-002\nTASK-003\n");
}

#[test]
fn checkpoints_work_in_a_cone_mode_sparse_checkout() {
    for sparse_index in [false, true] {
        let t = TestRepo::with_files(&[
            ("plan.md", PLAN3),
            ("app/main.txt", "app\n"),
            ("docs/guide.txt", "guide\n"),
        ]);
        let mut set = vec!["sparse-checkout", "set", "--cone"];
        if sparse_index {
            set.push("--sparse-index");
        }
        set.push("app");
        t.git(&set);
        assert!(!t.path().join("docs/guide.txt").exists());
        let runner = script(&t, "runner.sh", "echo \"$1\" > \"app/$1.txt\"");
        let out = run_m1(&t, &runner, &[]);
        out.success();
        assert_eq!(out.stderr, "", "sparse index: {sparse_index}");
        for id in ["TASK-001", "TASK-002", "TASK-003"] {
            assert_eq!(
                t.git(&[
                    "show",
                    "--format=",
                    "--name-status",
                    &format!("refs/milestone/M1/checkpoints/{id}")
                ]),
                format!(
                    "{}\t.milestone_bundles/M1/status.json\nA\tapp/{id}.txt\nM\tplan.md\n",
                    if id == "TASK-001" { "A" } else { "M" }
                ),
                "sparse index: {sparse_index}"
            );
        }
        // The files outside the sparse set stay in the branch.
        assert_eq!(t.git(&["show", "HEAD:docs/guide.txt"]), "guide\n");
        assert_eq!(committed_status(&t, "HEAD")["state"], "completed");
        assert_eq!(t.git(&["status", "--porcelain"]), "");
    }
}

#[test]
fn a_task_that_switches_branches_fails_naming_both() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n");
    let runner = script(
        &t,
        "runner.sh",
        "echo \"$1\" > \"$1.txt\"; [ \"$1\" = TASK-002 ] && git switch -q -c other; true",
    );
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 1
    --- stdout
    Starting TASK-001 [1/2] A
    checkpoint [OID] TASK-001 [1/2] in [DURATION]
    Starting TASK-002 [2/2] B
    --- stderr
    error: TASK-002 switched HEAD from branch main to branch other; no checkpoint was made
    hint: its changes are kept in the work tree: switch back with `git switch main`, then run `git milestone run M1 --plan plan.md --runner [HOME]/runner.sh`
    ");
    // No checkpoint landed on either branch.
    assert_eq!(
        rev(&t, "main"),
        rev(&t, "refs/milestone/M1/checkpoints/TASK-001")
    );
    assert_eq!(rev(&t, "other"), rev(&t, "main"));
    assert_eq!(status_json(&t)["state"], "failed");
    t.git(&["switch", "-q", "main"]);
    run_m1(&t, "true", &[]).success();
    assert_eq!(
        t.git(&["show", "--format=%s", "--name-only", "main"]),
        "M1 TASK-002: B\n\n.milestone_bundles/M1/status.json\nTASK-002.txt\nplan.md\n"
    );
}

#[test]
fn a_commit_made_from_another_terminal_during_a_task_is_not_adopted() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let started = t.home.path().join("started");
    let go = t.home.path().join("go");
    // The task commits once itself, then waits while the user commits.
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo 1 > one.txt; git add one.txt; git commit -q -m 'agent: one'\n\
             touch '{}'; while [ ! -e '{}' ]; do sleep 0.01; done\necho 2 > two.txt",
            started.display(),
            go.display()
        ),
    );
    let child = run_cmd(&t, &runner, &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while !started.exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    t.write("mine.txt", "the user's\n");
    t.git(&["add", "mine.txt"]);
    t.git(&["commit", "-q", "-m", "my own fix"]);
    let mine = rev(&t, "HEAD");
    std::fs::write(&go, "").unwrap();
    let out: Run = child.wait_with_output().unwrap().into();
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 1
    --- stdout
    Starting TASK-001 [1/1] A
    --- stderr
    error: TASK-001: commit [OID] ('my own fix') reached branch main while the task ran, but not from the task's processes (its reflog entry says "commit: my own fix"); no checkpoint was made
    hint: the commit stays on the branch, not counted as TASK-001's: `git milestone run M1 --plan plan.md --runner [HOME]/runner.sh` runs TASK-001 again on top of it, and a rollback takes it off only with --force
    "#);
    assert_eq!(rev(&t, "HEAD"), mine);
    // The task's own commit, below the user's, is the failed task's.
    let status = status_json(&t);
    assert_eq!(status["failure"]["head"], rev(&t, "HEAD~1").as_str());
    // A rollback does not take the user's commit off without --force.
    let back = t.run(["rollback", "M1"]);
    back.code(2);
    assert!(back.stderr.contains("my own fix"), "{}", back.stderr);
    assert_eq!(rev(&t, "HEAD"), mine);
    // Run again: the user's commit stays below the checkpoint, not adopted.
    std::fs::remove_file(&started).unwrap();
    let quiet = script(&t, "quiet.sh", "echo 2 > two.txt");
    run_m1(&t, &quiet, &[]).success();
    assert_eq!(rev(&t, "HEAD~1"), mine);
    assert_eq!(
        committed_status(&t, "HEAD")["tasks"][0]["adopted_commits"],
        serde_json::Value::Null
    );
}

#[test]
fn commits_a_task_makes_are_adopted_even_without_reflogs_configured() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    t.git(&["config", "core.logAllRefUpdates", "false"]);
    std::fs::remove_file(t.path().join(".git/logs/refs/heads/main")).unwrap();
    let runner = script(
        &t,
        "runner.sh",
        "echo 1 > one.txt; git add one.txt; git commit -q -m 'agent: one'\n\
         (echo 2 > two.txt; git add two.txt; git commit -q -m 'agent: two'); echo 3 > three.txt",
    );
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        committed_status(&t, "HEAD")["tasks"][0]["adopted_commits"],
        serde_json::json!([rev(&t, "HEAD~2"), rev(&t, "HEAD~1")])
    );
}

#[test]
fn a_file_ignored_before_the_task_stays_out_when_the_task_unignores_it() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n");
    t.write(".gitignore", ".env\ndist/\n");
    t.commit_all("ignore");
    t.write(".env", "API_KEY=the user's secret\n");
    t.write("dist/old.js", "the user's old build\n");
    // TASK-001 stops ignoring both, and builds a new file there.
    let runner = script(
        &t,
        "runner.sh",
        "case \"$1\" in TASK-001) echo '# nothing ignored' > .gitignore; echo built > dist/app.js ;;\n\
         *) echo \"$1\" > \"$1.txt\" ;; esac",
    );
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Starting TASK-001 [1/2] A
    checkpoint [OID] TASK-001 [1/2] in [DURATION]
    Starting TASK-002 [2/2] B
    checkpoint [OID] TASK-002 [2/2] in [DURATION]
    Milestone M1 is complete (2 tasks run).
    --- stderr
    warning: .env and dist/old.js left out of TASK-001's checkpoint: they were there, unchanged, before TASK-001 started (an ignore rule hid them until the task changed the rules)
    ");
    assert_eq!(
        t.git(&["show", "--format=", "--name-only", "HEAD~1"]),
        ".gitignore\n.milestone_bundles/M1/status.json\ndist/app.js\nplan.md\n"
    );
    assert_eq!(
        t.git(&["show", "--format=", "--name-only", "HEAD"]),
        ".milestone_bundles/M1/status.json\nTASK-002.txt\nplan.md\n"
    );
    assert_eq!(
        t.git(&["status", "--porcelain"]),
        "?? .env\n?? dist/old.js\n"
    );
    assert_eq!(t.read(".env"), "API_KEY=the user's secret\n");
}

#[test]
fn a_file_a_failed_attempt_unignored_stays_out_of_the_retry() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    t.write(".gitignore", ".env\n");
    t.commit_all("ignore");
    t.write(".env", "API_KEY=the user's secret\n");
    let flag = t.home.path().join("failed-once");
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo '# nothing' > .gitignore; echo \"$MILESTONE_ATTEMPT\" > new.txt\n\
             [ -e '{0}' ] || {{ touch '{0}'; exit 3; }}",
            flag.display()
        ),
    );
    run_m1(&t, &runner, &[]).code(1);
    assert_eq!(t.read(".git/milestone/M1/attempt-leftovers"), "new.txt\0");
    run_m1(&t, &runner, &[]).success();
    assert_eq!(
        t.git(&["show", "--format=", "--name-only", "HEAD"]),
        ".gitignore\n.milestone_bundles/M1/status.json\nnew.txt\nplan.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "?? .env\n");
}

#[test]
fn restart_refuses_while_a_failed_attempt_s_files_are_in_the_tree() {
    let t = repo_with_plan(PLAN3);
    let failing = script(
        &t,
        "fail2.sh",
        "echo \"$1\" > \"$1.txt\"; [ \"$1\" != TASK-002 ]",
    );
    run_m1(&t, &failing, &[]).code(1);
    let runner = writing_runner(&t);
    let before = snapshot(&t);
    let out = run_m1(&t, &runner, &["--restart"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: the failed attempt of TASK-002 left its changes in the work tree (TASK-002.txt); a restart would take them for yours and never commit them
    hint: discard them (saved under a ref first) with `git milestone rollback M1`, then `git milestone run M1 --restart`
    hint: or continue TASK-002 on top of them: `git milestone run M1`
    ");
    assert_eq!(snapshot(&t), before);
    assert_eq!(ran_log(&t), "");
    // Rolled back, the restart runs every task and commits each one's file.
    t.run(["rollback", "M1"]).success();
    run_m1(&t, &runner, &["--restart"]).success();
    assert_eq!(ran_log(&t), "TASK-001\nTASK-002\nTASK-003\n");
    assert_eq!(
        t.git(&["show", "--format=", "--name-only", "HEAD~1"]),
        ".milestone_bundles/M1/status.json\nTASK-002.txt\nplan.md\n"
    );
    assert_eq!(t.git(&["status", "--porcelain"]), "");
}

#[test]
fn the_last_lines_count_what_ran_now_and_what_was_done_before() {
    let t = repo_with_plan(PLAN3);
    let failing = script(
        &t,
        "fail3.sh",
        "echo \"$1\" > \"$1.txt\"; [ \"$1\" != TASK-003 ]",
    );
    run_m1(&t, &failing, &[]).code(1);
    let runner = writing_runner(&t);
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    continuing on top of the failed attempt's changes; `git milestone rollback M1` discards them
    Starting TASK-003 [3/3] (attempt 2) Create c.txt
    did TASK-003
    checkpoint [OID] TASK-003 [3/3] in [DURATION]
    Milestone M1 is complete (1 task run now, 2 done before).
    --- stderr
    ");
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    run_m1(&t, &runner, &[]).success();
    let out = run_m1(&t, &runner, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Milestone M1: its only task is done; nothing to run.
    To run it again from the start: git milestone run M1 --restart
    --- stderr
    ");
}

#[test]
fn a_restart_keeps_the_earlier_run_s_logs() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    let round = t.home.path().join("round");
    let runner = script(
        &t,
        "runner.sh",
        &format!("echo \"run $(cat '{}')\"", round.display()),
    );
    std::fs::write(&round, "1").unwrap();
    run_m1(&t, &runner, &[]).success();
    std::fs::write(&round, "2").unwrap();
    run_m1(&t, &runner, &["--restart"]).success();
    let logs = t.path().join(".git/milestone/M1/logs");
    let mut names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["TASK-001.1.2.log", "TASK-001.1.log"]);
    assert_eq!(
        std::fs::read_to_string(logs.join("TASK-001.1.log")).unwrap(),
        "run 1\n"
    );
    assert_eq!(
        std::fs::read_to_string(logs.join("TASK-001.1.2.log")).unwrap(),
        "run 2\n"
    );
}

#[test]
fn a_resumed_run_reuses_the_settings_it_was_started_with() {
    // A plan no search finds under the name M1: only --plan names it.
    let t = TestRepo::with_files(&[(
        "work/todo.md",
        "# Things to do\n\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n",
    )]);
    let flag = t.home.path().join("fail-once");
    std::fs::write(&flag, "").unwrap();
    let log = t.home.path().join("ran.log");
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo \"$1\" >> '{log}'\necho \"$1\" > \"$1.txt\"\n\
             if [ \"$1\" = TASK-002 ] && [ -e '{flag}' ]; then rm '{flag}'; exit 3; fi",
            log = log.display(),
            flag = flag.display()
        ),
    );
    let first: Run = t
        .cmd()
        .args(["run", "M1", "--plan", "work/todo.md", "--runner"])
        .arg(&runner)
        .args(["--timeout", "30s", "--on-failure", "stop", "--tag"])
        .output()
        .unwrap()
        .into();
    first.code(1);
    assert!(
        first.stderr.contains(&format!(
            "hint: run it again: `git milestone run M1 --plan work/todo.md --runner {} --tag --timeout 30s --on-failure stop`",
            runner.display()
        )),
        "{}",
        first.stderr
    );
    // Another runner configured meanwhile does not take over.
    t.git(&[
        "config",
        "milestone.runner",
        "echo configured >> configured.txt #",
    ]);
    let out: Run = t
        .cmd_in("work")
        .args(["run", "M1"])
        .env("GIT_MILESTONE_RUNNER", "echo from-env >> env.txt #")
        .output()
        .unwrap()
        .into();
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    reusing the earlier run's --plan work/todo.md, --runner [HOME]/runner.sh, --tag, --timeout [DURATION] and --on-failure stop
    continuing on top of the failed attempt's changes; `git milestone rollback M1` discards them
    Starting TASK-002 [2/2] (attempt 2) B
    checkpoint [OID] TASK-002 [2/2] in [DURATION]
    Milestone M1 is complete (1 task run now, 1 done before).
    --- stderr
    ");
    assert_eq!(ran_log(&t), "TASK-001\nTASK-002\nTASK-002\n");
    assert!(!t.path().join("configured.txt").exists());
    assert!(!t.path().join("env.txt").exists());
    t.git(&["rev-parse", "--verify", "milestone/M1/TASK-002"]);
    // Recorded again for the next resume.
    let settings = t.read(".git/milestone/M1/settings.json");
    assert!(settings.contains("\"timeout\": \"30s\""), "{settings}");
}

#[test]
fn a_relative_runner_path_is_found_from_where_it_was_typed() {
    let t = repo_with_plan("# M1\n- [ ] TASK-001: A\n");
    t.write("sub/tools/run.sh", "#!/bin/sh\npwd > where.txt\n");
    std::fs::set_permissions(
        t.path().join("sub/tools/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    t.commit_all("a runner in a subdirectory");
    let dry: Run = t
        .cmd_in("sub")
        .args([
            "run",
            "M1",
            "--plan",
            "../plan.md",
            "--runner",
            "./tools/run.sh",
            "--dry-run",
        ])
        .output()
        .unwrap()
        .into();
    insta::assert_snapshot!(dry.render(&t), @r#"
    exit: 0
    --- stdout
    Milestone M1 from plan.md: 1 task (dry run: nothing will be changed)
    1/1 TASK-001 A
        run: sh -c '[REPO]/sub/tools/run.sh "$@"' [REPO]/sub/tools/run.sh TASK-001   (runner from --runner)
        then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-001
    --- stderr
    "#);
    let out: Run = t
        .cmd_in("sub")
        .args([
            "run",
            "M1",
            "--plan",
            "../plan.md",
            "--runner",
            "./tools/run.sh",
        ])
        .output()
        .unwrap()
        .into();
    out.success();
    // Found from sub/, run in the root.
    let root = t.path().canonicalize().unwrap();
    assert_eq!(
        t.git(&["show", "HEAD:where.txt"]),
        format!("{}\n", root.display())
    );
}

#[test]
fn a_task_s_own_plan_block_beats_configured_runners_but_not_the_flag() {
    let plan = "# M1\n\n### TASK-001: Own block\n\n```sh milestone\necho block > \"$1.txt\"\n```\n\n\
                ### TASK-002: No block\n\nJust text.\n";
    let t = repo_with_plan(plan);
    t.git(&[
        "config",
        "milestone.runner",
        "echo configured > \"$1.txt\" #",
    ]);
    let dry = t.run(["run", "M1", "--plan", "plan.md", "--dry-run"]);
    insta::assert_snapshot!(dry.render(&t), @r#"
    exit: 0
    --- stdout
    Milestone M1 from plan.md: 2 tasks (dry run: nothing will be changed)
    1/2 TASK-001 Own block
        run: sh -c 'echo block > "$1.txt"' milestone-task TASK-001   (runner from the plan's ```sh milestone block, which takes precedence over milestone.runner)
        then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-001
    2/2 TASK-002 No block
        run: sh -c 'echo configured > "$1.txt" # "$@"' 'echo configured > "$1.txt" #' TASK-002   (runner from milestone.runner)
        then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-002
    --- stderr
    "#);
    let flagged = t.run([
        "run",
        "M1",
        "--plan",
        "plan.md",
        "--runner",
        "echo flag > \"$1.txt\" #",
        "--dry-run",
    ]);
    insta::assert_snapshot!(flagged.render(&t), @r#"
    exit: 0
    --- stdout
    Milestone M1 from plan.md: 2 tasks (dry run: nothing will be changed)
    1/2 TASK-001 Own block
        run: sh -c 'echo flag > "$1.txt" # "$@"' 'echo flag > "$1.txt" #' TASK-001   (runner from --runner, which overrides the plan's ```sh milestone block)
        then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-001
    2/2 TASK-002 No block
        run: sh -c 'echo flag > "$1.txt" # "$@"' 'echo flag > "$1.txt" #' TASK-002   (runner from --runner)
        then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-002
    --- stderr
    warning: --runner overrides the plan's own ```sh milestone block for TASK-001
    "#);
    t.run(["run", "M1", "--plan", "plan.md"]).success();
    assert_eq!(t.git(&["show", "HEAD~1:TASK-001.txt"]), "block\n");
    assert_eq!(t.git(&["show", "HEAD:TASK-002.txt"]), "configured\n");
    // With --runner every task runs it, and the run says whose block it overrides.
    let out = t.run([
        "run",
        "M1",
        "--plan",
        "plan.md",
        "--runner",
        "echo flag > \"$1.txt\" #",
        "--restart",
    ]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Starting TASK-001 [1/2] Own block
    checkpoint [OID] TASK-001 [1/2] in [DURATION]
    Starting TASK-002 [2/2] No block
    checkpoint [OID] TASK-002 [2/2] in [DURATION]
    Milestone M1 is complete (2 tasks run).
    --- stderr
    warning: --runner overrides the plan's own ```sh milestone block for TASK-001
    ");
    assert_eq!(t.git(&["show", "HEAD~1:TASK-001.txt"]), "flag\n");
}

/// The hint that repeats a run's command names the plan from the root, and
/// `--plan` falls back to the root, so the hint works from any directory
/// of the work tree, not only the one it was printed in.
#[test]
fn the_run_again_hint_works_from_another_directory() {
    let t = TestRepo::with_files(&[
        (
            "plans/sprint-7.md",
            "# S7\n\n- [ ] T001 one\n- [ ] T002 two\n",
        ),
        ("src/main.rs", "fn main() {}\n"),
    ]);
    let flag = t.home.path().join("fail");
    std::fs::write(&flag, "").unwrap();
    let runner = script(
        &t,
        "failon.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\nif [ \"$1\" = T002 ] && [ -e '{}' ]; then exit 3; fi",
            flag.display()
        ),
    );
    let out: Run = t
        .cmd_in("src")
        .args(["run", "S7", "--plan", "../plans/sprint-7.md", "--runner"])
        .arg(&runner)
        .output()
        .unwrap()
        .into();
    let hint = out
        .stderr
        .lines()
        .find(|l| l.starts_with("hint: run it again"))
        .unwrap();
    insta::assert_snapshot!(common::normalize(hint, &t), @r"
    hint: run it again: `git milestone run S7 --plan plans/sprint-7.md --runner [HOME]/failon.sh`
    ");
    std::fs::remove_file(&flag).unwrap();
    // The hint's command, typed in src/ again: `--plan` falls back to the root.
    let out: Run = t
        .cmd_in("src")
        .args(["run", "S7", "--plan", "plans/sprint-7.md", "--runner"])
        .arg(&runner)
        .output()
        .unwrap()
        .into();
    out.success();
    assert_eq!(status_json_of(&t, "S7")["state"], "completed");
}

fn status_json_of(t: &TestRepo, name: &str) -> serde_json::Value {
    serde_json::from_str(&t.read(&format!(".milestone_bundles/{name}/status.json"))).unwrap()
}

/// The dirty-tree refusal's hint repeats the command as typed, `--runner`
/// included, not a bare `run` that would reuse an earlier run's runner;
/// and the dry run names a reused runner as the earlier run's.
#[test]
fn the_dirty_tree_hint_keeps_the_runner_typed_and_a_reused_one_is_named() {
    let t = TestRepo::with_files(&[("plan.md", PLAN3), ("src.txt", "base\n")]);
    let old = script(&t, "old.sh", "echo half > half.txt\nexit 3");
    run_m1(&t, &old, &[]).code(1);
    t.run(["rollback", "M1"]).success();
    t.write("src.txt", "wip\n");
    let new = script(&t, "new.sh", "echo \"$1\" > \"$1.txt\"");
    let out = run_m1(&t, &new, &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: the work tree has uncommitted changes (src.txt); the checkpoint of TASK-001, the next task, would take them for its work
    hint: commit them (`git commit -am ...`) or put them aside (`git stash`), then run `git milestone run M1 --plan plan.md --runner [HOME]/new.sh` again
    ");
    t.git(&["stash", "-q"]);
    let out = t.run(["run", "M1", "--dry-run"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 0
    --- stdout
    reusing the earlier run's --plan plan.md and --runner [HOME]/old.sh
    Milestone M1 from plan.md: 3 tasks (dry run: nothing will be changed)
    1/3 TASK-001 Create a.txt
        run: sh -c '[HOME]/old.sh "$@"' [HOME]/old.sh TASK-001   (runner from the earlier run's --runner)
        then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-001
    2/3 TASK-002 Create b.txt
        run: sh -c '[HOME]/old.sh "$@"' [HOME]/old.sh TASK-002   (runner from the earlier run's --runner)
        then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-002
    3/3 TASK-003 Create c.txt
        run: sh -c '[HOME]/old.sh "$@"' [HOME]/old.sh TASK-003   (runner from the earlier run's --runner)
        then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-003
    --- stderr
    "#);
}

/// Another milestone's status file changed in the work tree (a sequence
/// `plan --edit` wrote, a failure) is that milestone's state: this
/// milestone's checkpoint leaves it out, and it stays as it was.
#[test]
fn a_checkpoint_leaves_another_milestones_status_file_out() {
    let t = TestRepo::with_files(&[
        ("plan.md", PLAN3),
        ("m2.md", "# M2\n\n- [ ] TASK-101 Alpha\n"),
    ]);
    let runner = writing_runner(&t);
    let out: Run = t
        .cmd()
        .args(["run", "M2", "--plan", "m2.md", "--runner"])
        .arg(&runner)
        .output()
        .unwrap()
        .into();
    out.success();
    let m2 = ".milestone_bundles/M2/status.json";
    let edited = t.read(m2).replace("\"completed\"", "\"completed\" ");
    t.write(m2, &edited);
    run_m1(&t, &runner, &[]).success();
    let committed = t.git(&["log", "--format=", "--name-only", "-3"]);
    assert!(!committed.contains(m2), "{committed}");
    assert_eq!(t.read(m2), edited);
    assert_eq!(inspect::porcelain(&t), format!(" M {m2}\n"));
}

/// `run | head -1`: once standard output is closed, the run stops as for
/// a signal and records it, instead of dying at its next line with the
/// status file still saying `running`; it ends quietly (141, as git does),
/// and the same command continues it.
#[test]
fn a_closed_standard_output_stops_the_run_and_records_it() {
    let t = TestRepo::with_files(&[("plan.md", PLAN3)]);
    let runner = writing_runner(&t);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = run_cmd(&t, &runner, &[])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!((out.status.code(), stderr.as_ref()), (Some(141), ""));
    assert_eq!(status_json(&t)["state"], "interrupted");
    assert_eq!(status_json(&t)["tasks"][0]["state"], "interrupted");
    run_m1(&t, &runner, &[]).success();
    assert_eq!(status_json(&t)["state"], "completed");
}

/// The checkpoint line gives the task's place as its `Starting` line did,
/// even when a later task is marked done in the plan.
#[test]
fn the_checkpoint_line_does_not_count_a_later_task_done_in_the_plan() {
    let t = TestRepo::with_files(&[(
        "plan.md",
        "# M1\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n- [x] TASK-003: Three\n",
    )]);
    let out = run_m1(&t, writing_runner(&t), &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Starting TASK-001 [1/3] One
    did TASK-001
    checkpoint [OID] TASK-001 [1/3] in [DURATION]
    Starting TASK-002 [2/3] Two
    did TASK-002
    checkpoint [OID] TASK-002 [2/3] in [DURATION]
    TASK-003 [3/3] is marked done in the plan: not run
    Milestone M1 is complete (2 tasks run now, 1 done before).
    --- stderr
    ");
}
