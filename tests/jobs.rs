//! `run --jobs N`: which tasks run together (the dry run's waves), the
//! per-milestone lock, tasks in their own worktrees integrated in plan
//! order, conflicts, and stopping.

mod common;

use common::Run;
use common::inspect::{assert_fsck_clean, checkpoint_ids, porcelain, status_json};
use common::runner::{run_cmd, run_cmd_in, run_m1, script, writing_runner};
use common::{TestRepo, stop};

/// Three parallel tasks, two joins and a last task that keeps document order.
const PLAN: &str = "# M1\n\n\
- [ ] T001 [P] Write a\n\
- [ ] T002 [P] Write b\n\
- [ ] T003 [P] Write c\n\
- [ ] T004 Join a and b\n  - Depends on: T001, T002\n\
- [ ] T005 Join c\n  - Depends on: T003\n\
- [ ] T006 Last\n";

fn repo(plan: &str) -> TestRepo {
    TestRepo::with_files(&[("plan.md", plan)])
}

#[test]
fn dry_run_prints_the_waves() {
    let t = repo(PLAN);
    let out = run_m1(&t, "true", &["--dry-run", "--jobs", "2", "-y"]);
    out.success();
    let waves: String = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("With --jobs"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(waves, @r"
    With --jobs 2: 6 tasks in 4 waves (the tasks of a wave run at the same time):
      wave 1: T001 and T002
      wave 2: T003 and T004
      wave 3: T005
      wave 4: T006
    ");
}

/// A spec-kit style plan: every phase depends on the one before it (a
/// statement about the phase), the stories each on Foundational.
const PHASES: &str = "# M1\n\n\
## Phase 1: Setup\n\n\
- [ ] T001 Create the project skeleton\n\n\
## Phase 2: Foundational\n\n\
- [ ] T002 Add the config loader\n\
- [ ] T003 [P] Add the logger in src/log.rs\n\
- [ ] T004 [P] Add the error type in src/error.rs\n\n\
## Phase 3: User Story 1 - Export CSV\n\n\
- [ ] T005 [P] [US1] Write the CSV model in src/csv/model.rs\n\
- [ ] T006 [P] [US1] Write the writer's tests in tests/csv.rs\n\
- [ ] T007 [US1] Implement the writer in src/csv/writer.rs\n\
- [ ] T008 [US1] Wire the export command\n\n\
## Phase 4: User Story 2 - Import CSV\n\n\
- [ ] T009 [US2] Implement the reader in src/csv/reader.rs\n\
- [ ] T010 [US2] Wire the import command\n\n\
## Dependencies\n\n\
- **Foundational (Phase 2)**: Depends on Setup completion\n\
- **User Story 1 (Phase 3)**: Depends on Foundational (Phase 2)\n\
- **User Story 2 (Phase 4)**: Depends on Foundational (Phase 2)\n";

/// The waves `run --dry-run --jobs N` prints for `plan`.
fn dry_run_waves(plan: &str, jobs: &str) -> String {
    let t = repo(plan);
    let out = run_m1(&t, "true", &["--dry-run", "--jobs", jobs, "-y"]);
    out.success();
    out.stdout
        .lines()
        .skip_while(|l| !l.starts_with("With --jobs"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_phase_level_dependency_keeps_the_phases_tasks_in_document_order() {
    // Only the [P] tasks of a phase run together; the two stories, each
    // depending on Foundational alone, run beside each other.
    insta::assert_snapshot!(dry_run_waves(PHASES, "4"), @r"
    With --jobs 4: 10 tasks in 6 waves (the tasks of a wave run at the same time):
      wave 1: T001
      wave 2: T002
      wave 3: T003 and T004
      wave 4: T005, T006 and T009
      wave 5: T007 and T010
      wave 6: T008
    ");
}

#[test]
fn dry_run_with_one_job_prints_no_waves() {
    let t = repo(PLAN);
    let out = run_m1(&t, "true", &["--dry-run", "-y"]);
    out.success();
    assert!(!out.stdout.contains("wave"), "{}", out.stdout);
}

#[test]
fn a_bad_jobs_setting_is_refused() {
    let t = repo(PLAN);
    t.git(&["config", "milestone.jobs", "many"]);
    let out = run_m1(&t, "true", &["--dry-run", "-y"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: git config milestone.jobs is many: not a number of tasks from 1 to 256
    hint: set it with `git config milestone.jobs 4`, or pass `--jobs N`
    ");
}

#[test]
fn another_milestone_runs_in_another_worktree_and_the_same_one_is_refused() {
    let t = TestRepo::with_files(&[
        ("plan.md", "# M1\n\n- [ ] T001 First\n"),
        ("plan2.md", "# M2\n\n- [ ] T001 First\n"),
    ]);
    let (started, go) = (t.home.path().join("started"), t.home.path().join("go"));
    let waiting = script(
        &t,
        "wait.sh",
        &format!(
            "touch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.01; done\necho \"$1\" > \"$1.txt\"",
            started.display(),
            go.display()
        ),
    );
    let linked = t.home.path().join("linked");
    t.add_worktree("other", &linked);
    let first = run_cmd(&t, &waiting, &[]).spawn().unwrap();
    while !started.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut m2 = t.cmd_at(&linked);
    m2.args(["run", "M2", "--plan", "plan2.md", "--runner"])
        .arg(writing_runner(&t));
    let m2: Run = m2.output().unwrap().into();
    m2.success();
    let again: Run = run_cmd_in(&t, &linked, "true", &[])
        .output()
        .unwrap()
        .into();
    let pid = first.id();
    std::fs::write(&go, "").unwrap();
    let first: Run = first.wait_with_output().unwrap().into();
    first.success();
    let again = again
        .render(&t)
        .replace(&format!("kill {pid}"), "kill [PID]");
    insta::assert_snapshot!(again, @r"
    exit: 2
    --- stdout
    --- stderr
    error: another `git milestone run` of milestone M1 is in progress (pid [PID], started [TIME]); one milestone runs in one place at a time
    hint: wait for it to finish, or stop it: Ctrl-C in its terminal, or `kill [PID]`
    ");
    let subjects = |branch: &str| t.git(&["log", "--format=%s", branch]);
    assert_eq!(subjects("other"), "M2 T001: First\ninitial\n");
    assert_eq!(subjects("main"), "M1 T001: First\ninitial\n");
}

/// A runner for PLAN: T001-T003 each wait until all three have started (so
/// they can only finish when they run at the same time), then every task
/// writes `<ID>.txt` and says so.
fn meeting_runner(t: &TestRepo) -> std::path::PathBuf {
    let dir = t.home.path().display().to_string();
    script(
        t,
        "meet.sh",
        &format!(
            "case \"$1\" in T00[123])\n\
             touch '{dir}/started-'\"$1\"\n\
             n=0\n\
             until [ -e '{dir}/started-T001' ] && [ -e '{dir}/started-T002' ] && [ -e '{dir}/started-T003' ]; do\n\
               n=$((n+1)); [ $n -gt 3000 ] && {{ echo \"$1 ran alone\"; exit 7; }}; sleep 0.01\n\
             done;;\n\
             esac\n\
             echo \"did $1\"\necho \"$1\" > \"$1.txt\""
        ),
    )
}

fn first_parent_subjects(t: &TestRepo) -> String {
    t.git(&["log", "--first-parent", "--format=%s", "HEAD"])
}

#[test]
fn independent_tasks_run_at_the_same_time_and_integrate_in_plan_order() {
    let t = repo(PLAN);
    t.write("notes.txt", "mine, untracked\n");
    let out = run_m1(&t, meeting_runner(&t), &["--jobs", "3", "-y"]);
    out.success();
    for id in ["T001", "T002", "T003", "T004", "T005", "T006"] {
        assert!(
            out.stdout.contains(&format!("[{id}] did {id}\n")),
            "{}",
            out.stdout
        );
    }
    assert!(
        out.stdout
            .ends_with("Milestone M1 is complete (6 tasks run).\n")
    );
    insta::assert_snapshot!(first_parent_subjects(&t), @r"
    M1 T006: Last
    M1 T005: Join c
    M1 T004: Join a and b
    M1 T003: Write c
    M1 T002: Write b
    M1 T001: Write a
    initial
    ");
    // One parent each: the branch's history is linear.
    assert_eq!(t.git(&["rev-list", "--min-parents=2", "HEAD"]), "");
    for id in ["T001", "T004", "T006"] {
        let files = t.git(&[
            "show",
            "--name-only",
            "--format=",
            &format!("refs/milestone/M1/checkpoints/{id}"),
        ]);
        assert_eq!(
            files,
            format!(".milestone_bundles/M1/status.json\n{id}.txt\nplan.md\n")
        );
    }
    assert_eq!(status_json(&t)["state"], "completed");
    assert_eq!(porcelain(&t), "?? notes.txt\n");
    assert_eq!(t.read("notes.txt"), "mine, untracked\n");
    assert_eq!(
        t.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert_eq!(t.git(&["for-each-ref", "refs/milestone/M1/attempts"]), "");
    assert!(!t.path().join(".git/milestone/M1/jobs").exists());
    assert_fsck_clean(&t);
}

#[test]
fn two_tasks_that_edit_the_same_line_integrate_one_and_fail_the_other() {
    let t = TestRepo::with_files(&[
        (
            "plan.md",
            "# M1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n- [ ] T003 Three\n",
        ),
        ("shared.txt", "first line\nsecond line\n"),
    ]);
    let edit = script(
        &t,
        "edit.sh",
        "printf 'first line, as %s has it\\nsecond line\\n' \"$1\" > shared.txt\necho \"$1\" > \"$1.txt\"",
    );
    let out = run_m1(&t, &edit, &["--jobs", "2", "-y"]);
    let shown = out.render(&t).replace(".git/milestone/M1/logs", "[LOGS]");
    let errors: String = shown
        .lines()
        .skip_while(|l| *l != "--- stderr")
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(errors, @r"
    --- stderr
    error: T002 failed (its changes conflict with the branch's in shared.txt) after [DURATION]; the run stopped once the tasks running beside it had ended
    hint: both versions are kept: the branch's at HEAD, T002's as refs/milestone/M1/attempts/T002/1 (its change: `git show refs/milestone/M1/attempts/T002/1`)
    hint: its output: [REPO]/[LOGS]/T002.1.log
    hint: run it again: `git milestone run M1 --plan plan.md --runner [HOME]/edit.sh --jobs 2`
    ");
    out.code(1);
    assert_eq!(first_parent_subjects(&t), "M1 T001: One\ninitial\n");
    // Both versions are kept: T001's on the branch, T002's under its attempt ref.
    assert_eq!(
        t.read("shared.txt"),
        "first line, as T001 has it\nsecond line\n"
    );
    let saved = "refs/milestone/M1/attempts/T002/1";
    assert_eq!(
        t.git(&["show", &format!("{saved}:shared.txt")]),
        "first line, as T002 has it\nsecond line\n"
    );
    assert_eq!(t.git(&["show", &format!("{saved}:T002.txt")]), "T002\n");
    let status = status_json(&t);
    assert_eq!(status["state"], "failed");
    assert_eq!(status["failure"]["task"], "T002");
    assert_eq!(status["failure"]["saved_ref"], saved);
    assert_eq!(porcelain(&t), " M .milestone_bundles/M1/status.json\n");
    assert_eq!(
        t.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert_fsck_clean(&t);
    // Run again: T002 starts from T001's checkpoint and integrates.
    let fix = script(&t, "fix.sh", "echo \"$1\" > \"$1.txt\"");
    run_m1(&t, &fix, &["--jobs", "2", "-y"]).success();
    assert_eq!(
        first_parent_subjects(&t),
        "M1 T003: Three\nM1 T002: Two\nM1 T001: One\ninitial\n"
    );
}

/// A check that notes where it ran (`<ID> worktree` or `<ID> root`) in
/// HOME's `checks.log`, then runs `test`: `sh [HOME]/<name> "$1"`.
fn noting_check(t: &TestRepo, name: &str, test: &str) -> String {
    let log = t.home.path().join("checks.log");
    let path = script(
        t,
        name,
        &format!(
            "case \"$PWD\" in */.git/milestone/M1/jobs/*) w=worktree;; *) w=root;; esac\n\
             echo \"$1 $w\" >> '{}'\n{test}",
            log.display()
        ),
    );
    format!("sh {} \"$1\"", path.display())
}

/// The lines of HOME's `checks.log`, sorted (tasks end in any order).
fn checks_log(t: &TestRepo) -> Vec<String> {
    let text = std::fs::read_to_string(t.home.path().join("checks.log")).unwrap_or_default();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// What a check that failed left: the first-parent line, the work tree,
/// the failed task's work under its attempt ref, no worktree.
fn assert_only_t001_integrated(t: &TestRepo) {
    assert_eq!(first_parent_subjects(t), "M1 T001: One\ninitial\n");
    assert_eq!(t.read("T001.txt"), "T001\n");
    assert!(!t.path().join("T002.txt").exists());
    assert_eq!(
        porcelain(t),
        " M .milestone_bundles/M1/status.json\n?? notes.txt\n"
    );
    assert_eq!(t.read("notes.txt"), "mine\n");
    let saved = "refs/milestone/M1/attempts/T002/1";
    assert_eq!(t.git(&["show", &format!("{saved}:T002.txt")]), "T002\n");
    let status = status_json(t);
    assert_eq!(status["state"], "failed");
    assert_eq!(status["failure"]["task"], "T002");
    assert_eq!(status["failure"]["saved_ref"], saved);
    assert_eq!(status["tasks"][0]["state"], "done");
    assert_eq!(
        t.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert_fsck_clean(t);
}

#[test]
fn a_check_that_fails_in_the_tasks_worktree_fails_it_before_integration() {
    let t = TestRepo::with_files(&[(
        "plan.md",
        "# M1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n- [ ] T003 Three\n",
    )]);
    t.write("notes.txt", "mine\n");
    let check = noting_check(&t, "not-t002.sh", "test \"$1\" != T002");
    let out = run_m1(
        &t,
        writing_runner(&t),
        &["--jobs", "2", "-y", "--verify", &check],
    );
    out.code(1);
    let shown = out.render(&t).replace(".git/milestone/M1/logs", "[LOGS]");
    let errors: String = shown
        .lines()
        .skip_while(|l| *l != "--- stderr")
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(errors, @r#"
    --- stderr
    error: T002 failed (check failed: `sh [HOME]/not-t002.sh "$1"` (exit code 1) in its worktree) after [DURATION]; the run stopped once the tasks running beside it had ended
    hint: its work is saved as refs/milestone/M1/attempts/T002/1
    hint: its output: [REPO]/[LOGS]/T002.1.log
    hint: run it again: `git milestone run M1 --plan plan.md --runner [HOME]/runner.sh --verify 'sh [HOME]/not-t002.sh "$1"' --jobs 2`
    "#);
    assert!(
        out.stdout.contains("[T002] Checking T002: "),
        "{}",
        out.stdout
    );
    // T002's check ran in its worktree only; T001's there, then on the branch.
    assert_eq!(
        checks_log(&t),
        ["T001 root", "T001 worktree", "T002 worktree"]
    );
    assert_only_t001_integrated(&t);
    let checks = &status_json(&t)["tasks"][1]["history"][0]["checks"];
    assert_eq!(checks[0]["exit_code"], 1, "{checks}");
    assert!(
        t.path()
            .join(".git/milestone/M1/logs/T002.1.check-1.log")
            .is_file()
    );
}

#[test]
fn a_check_that_passes_in_the_worktree_fails_once_another_task_is_integrated() {
    let t = TestRepo::with_files(&[(
        "plan.md",
        "# M1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n",
    )]);
    t.write("notes.txt", "mine\n");
    // Each task's change passes alone; together they do not.
    let check = noting_check(
        &t,
        "not-both.sh",
        "test ! -e T001.txt || test ! -e T002.txt",
    );
    let out = run_m1(
        &t,
        writing_runner(&t),
        &["--jobs", "2", "-y", "--verify", &check],
    );
    out.code(1);
    let shown = out.render(&t).replace(".git/milestone/M1/logs", "[LOGS]");
    let errors: String = shown
        .lines()
        .skip_while(|l| *l != "--- stderr")
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(errors, @r#"
    --- stderr
    error: T002 failed (check failed: `sh [HOME]/not-both.sh "$1"` (exit code 1) once merged) after [DURATION]; the run stopped once the tasks running beside it had ended
    hint: its work is saved as refs/milestone/M1/attempts/T002/1
    hint: its output: [REPO]/[LOGS]/T002.1.log
    hint: run it again: `git milestone run M1 --plan plan.md --runner [HOME]/runner.sh --verify 'sh [HOME]/not-both.sh "$1"' --jobs 2`
    "#);
    assert_eq!(
        checks_log(&t),
        ["T001 root", "T001 worktree", "T002 root", "T002 worktree"]
    );
    assert_only_t001_integrated(&t);
    // The record holds the checks on the merged result; both logs are kept.
    let checks = &status_json(&t)["tasks"][1]["history"][0]["checks"];
    assert_eq!(checks.as_array().unwrap().len(), 1, "{checks}");
    assert_eq!(checks[0]["exit_code"], 1, "{checks}");
    let logs = t.path().join(".git/milestone/M1/logs");
    assert!(logs.join("T002.1.check-1.log").is_file());
    assert!(logs.join("T002.1.merged.check-1.log").is_file());
    // T001's checkpoint names the check that passed on what it commits.
    let body = t.git(&[
        "log",
        "-1",
        "--format=%B",
        "refs/milestone/M1/checkpoints/T001",
    ]);
    assert_eq!(body.matches("Milestone-Verified:").count(), 1, "{body}");
}

#[test]
fn ctrl_c_with_three_tasks_running_stops_them_all_and_the_next_run_resumes() {
    let t = repo(PLAN);
    let dir = t.home.path().display().to_string();
    let hang = script(
        &t,
        "hang.sh",
        &format!(
            "echo \"$1 half done\" > \"$1.txt\"\ntouch '{dir}/started-'\"$1\"\n\
             while [ ! -e '{dir}/never' ]; do sleep 0.01; done"
        ),
    );
    let child = run_cmd(&t, &hang, &["--jobs", "3", "-y"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for id in ["T001", "T002", "T003"] {
        let started = t.home.path().join(format!("started-{id}"));
        while !started.exists() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    let status = t.run(["status", "M1"]);
    insta::assert_snapshot!(status.render(&t), @r"
    exit: 0
    --- stdout
    M1: running at T001, T002 and T003, 0/6 tasks done (plan plan.md)
    ID    TITLE         STATE    ATTEMPTS  DURATION  CHECKPOINT
    ----- ------------- -------- --------- --------- -----------
    T001  Write a       running  1
    T002  Write b       running  1
    T003  Write c       running  1
    T004  Join a and b  pending  0
    T005  Join c        pending  0
    T006  Last          pending  0
    A run of M1 is in progress (pid [PID], started [TIME]): wait for it to finish, or stop it with Ctrl-C in its terminal.
    --- stderr
    ");
    // SAFETY: a plain kill(2) of the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out: Run = child.wait_with_output().unwrap().into();
    insta::assert_snapshot!(out.render(&t).lines().skip_while(|l| *l != "--- stderr").collect::<Vec<_>>().join("\n"), @r"
    --- stderr
    error: T001, T002 and T003 were stopped by SIGINT and are recorded as interrupted; their work is saved under refs/milestone/M1/attempts/
    hint: continue with `git milestone run M1 --plan plan.md --runner [HOME]/hang.sh --jobs 3`
    ");
    out.code(130);
    let status = status_json(&t);
    assert_eq!(status["state"], "interrupted");
    let states: Vec<&str> = (0..6)
        .map(|k| status["tasks"][k]["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "interrupted",
            "interrupted",
            "interrupted",
            "pending",
            "pending",
            "pending"
        ]
    );
    for id in ["T001", "T002", "T003"] {
        let saved = format!("refs/milestone/M1/attempts/{id}/1:{id}.txt");
        assert_eq!(t.git(&["show", &saved]), format!("{id} half done\n"));
    }
    assert_eq!(first_parent_subjects(&t), "initial\n");
    // The status file is not committed yet: no task has a checkpoint.
    assert_eq!(porcelain(&t), "?? .milestone_bundles/M1/status.json\n");
    assert_eq!(
        t.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert_fsck_clean(&t);
    // The resume runs in parallel again without being told.
    let resumed = run_m1(&t, writing_runner(&t), &["-y"]);
    resumed.success();
    insta::assert_snapshot!(resumed.stdout.lines().next().unwrap_or_default(), @"reusing the earlier run's --jobs 3");
    assert!(
        resumed.stdout.contains("[T004] did T004\n"),
        "{}",
        resumed.stdout
    );
    assert_eq!(status_json(&t)["state"], "completed");
    assert_eq!(checkpoint_ids(&t, "HEAD").len(), 6);
    assert_eq!(t.read("T001.txt"), "T001\n");
}

/// A small deterministic generator (xorshift); `FAULTS_SEED=<n>` replays or
/// varies the moments, `FAULTS_SEEDS=<n>` sets how many.
struct Rng(u64);

impl Rng {
    fn seeded() -> (u64, Rng) {
        let seed = std::env::var("FAULTS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x005e_ed0f_10b5_u64);
        (seed, Rng(seed | 1))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// SIGKILL as the parallel run starts its n-th git command (worktrees
/// made, work saved, merged, brought into the work tree, committed), at 20
/// seeded moments: each time the repository is sound, the rerun ends with
/// one checkpoint per task holding that task's output, and no worktree is
/// left.
#[test]
fn sigkill_during_integration_loses_nothing_and_the_rerun_converges() {
    let plan = "# M1\n\n- [ ] T001 [P] A\n- [ ] T002 [P] B\n- [ ] T003 [P] C\n- [ ] T004 D\n";
    let ids = ["T001", "T002", "T003", "T004"];
    let setup = || {
        let t = repo(plan);
        t.write("notes.txt", "mine\n");
        let runner = script(&t, "quick.sh", "echo \"$1 output\" > \"$1.txt\"");
        (t, runner)
    };
    let args = |runner: &std::path::Path| -> Vec<std::ffi::OsString> {
        let mut a: Vec<std::ffi::OsString> = [
            "run", "M1", "--plan", "plan.md", "--jobs", "3", "-y", "--runner",
        ]
        .iter()
        .map(Into::into)
        .collect();
        a.push(runner.into());
        a
    };
    let events = {
        let (t, runner) = setup();
        let done = stop::stop_at(&t, &args(&runner), libc::SIGKILL, stop::At::Git(usize::MAX));
        assert_eq!(done.code, 0);
        stop::git_commands_started(&t)
    };
    let (seed, mut rng) = Rng::seeded();
    let rounds = std::env::var("FAULTS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut killed = 0;
    for round in 0..rounds {
        let (t, runner) = setup();
        let n = 1 + rng.below(events as u64) as usize;
        let context = format!("seed {seed:#x}, round {round}: kill at git command {n} of {events}");
        let stopped = stop::stop_at(&t, &args(&runner), libc::SIGKILL, stop::At::Git(n));
        killed += usize::from(stopped.signalled);
        assert_fsck_clean(&t);
        let out = run_m1(&t, &runner, &["--jobs", "3", "-y"]);
        assert_eq!(out.code, 0, "{context}: {}{}", out.stdout, out.stderr);
        assert_eq!(status_json(&t)["state"], "completed", "{context}");
        let mut made = checkpoint_ids(&t, "HEAD");
        made.sort();
        assert_eq!(made, ids, "{context}");
        for id in ids {
            assert_eq!(
                t.read(&format!("{id}.txt")),
                format!("{id} output\n"),
                "{context}"
            );
        }
        assert_eq!(
            t.git(&["rev-list", "--min-parents=2", "HEAD"]),
            "",
            "{context}"
        );
        assert_eq!(
            porcelain(&t),
            "?? notes.txt\n",
            "{context}: {}{}",
            out.stdout,
            out.stderr
        );
        assert_eq!(
            t.git(&["worktree", "list", "--porcelain"])
                .matches("worktree ")
                .count(),
            1,
            "{context}"
        );
        assert!(
            !t.path().join(".git/milestone/M1/jobs").exists(),
            "{context}"
        );
        assert_fsck_clean(&t);
    }
    assert!(
        killed * 2 >= rounds,
        "only {killed} of {rounds} kills landed"
    );
}

#[test]
fn git_config_sets_the_jobs() {
    let t = repo(PLAN);
    t.git(&["config", "milestone.jobs", "3"]);
    let out = run_m1(&t, "true", &["--dry-run", "-y"]);
    assert!(
        out.stdout.contains("With --jobs 3: 6 tasks in 3 waves"),
        "{}",
        out.stdout
    );
}

/// A runner that writes `<ID>.txt`, and fails (exit 3, "not yet") the
/// first time it runs task `id`.
fn fails_once(t: &TestRepo, id: &str) -> std::path::PathBuf {
    let dir = t.home.path().display().to_string();
    script(
        t,
        "flaky.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\n\
             if [ \"$1\" = {id} ] && [ ! -e '{dir}/failed-once' ]; then touch '{dir}/failed-once'; echo 'not yet'; exit 3; fi"
        ),
    )
}

#[test]
fn a_failed_task_the_policy_retries_runs_again_from_the_new_head() {
    let t = TestRepo::with_files(&[(
        "plan.md",
        "# M1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n",
    )]);
    let flaky = fails_once(&t, "T002");
    let out = run_m1(
        &t,
        &flaky,
        &["--jobs", "2", "-y", "--on-failure", "retry:1"],
    );
    out.success();
    let warned = out.render(&t).replace(".git/milestone/M1/logs", "[LOGS]");
    let warned: String = warned
        .lines()
        .skip_while(|l| *l != "--- stderr")
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(warned, @r"
    --- stderr
    T002 failed (exit code 3) after [DURATION]; its work is saved as refs/milestone/M1/attempts/T002/1; running it again; log: [REPO]/[LOGS]/T002.1.log
    ");
    assert_eq!(
        first_parent_subjects(&t),
        "M1 T002: Two\nM1 T001: One\ninitial\n"
    );
    // The failed attempt's work stays saved.
    assert_eq!(
        t.git(&["show", "refs/milestone/M1/attempts/T002/1:T002.txt"]),
        "T002\n"
    );
}

#[test]
fn a_worktree_a_killed_run_left_is_saved_and_removed() {
    let t = repo("# M1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n");
    let left = t.path().join(".git/milestone/M1/jobs/T001");
    t.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        left.to_str().unwrap(),
        "HEAD",
    ]);
    std::fs::write(left.join("half.txt"), "half done\n").unwrap();
    let out = run_m1(&t, writing_runner(&t), &["--jobs", "2", "-y"]);
    out.success();
    let first = out.stdout.lines().next().unwrap_or_default().to_string();
    insta::assert_snapshot!(first, @"T001's worktree, left by a run that was stopped, is saved as refs/milestone/M1/attempts/T001/1 and removed");
    assert_eq!(
        t.git(&["show", "refs/milestone/M1/attempts/T001/1:half.txt"]),
        "half done\n"
    );
    assert_eq!(
        t.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert!(!left.exists());
}

#[test]
fn a_merge_a_killed_run_left_uncommitted_is_taken_out_unless_changed_since() {
    let mut said_all = String::new();
    for changed_since in [false, true] {
        let t = repo("# M1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n");
        let head = t.git(&["rev-parse", "HEAD"]).trim().to_string();
        use git_milestone::state::{RunState, TaskState};
        let running = [("T001", TaskState::Running), ("T002", TaskState::Running)];
        t.write_status(&common::milestone_status("M1", RunState::Running, &running));
        // As a killed run leaves it: T001's merge in the index and work tree.
        t.write("T001.txt", "T001\n");
        t.git(&["add", "T001.txt"]);
        let tree = t.git(&["write-tree"]).trim().to_string();
        let note = t.path().join(".git/milestone/M1/integrating");
        std::fs::create_dir_all(note.parent().unwrap()).unwrap();
        std::fs::write(&note, format!("T001\n{head}\n{tree}\n")).unwrap();
        if changed_since {
            t.write("T001.txt", "edited by hand\n");
        }
        let out = run_m1(&t, writing_runner(&t), &["--jobs", "2", "-y"]);
        let said: Vec<&str> = out
            .stdout
            .lines()
            .chain(out.stderr.lines())
            .filter(|l| l.contains("T001's changes"))
            .collect();
        said_all.push_str(&format!(
            "changed since: {changed_since}, exit {}, T001.txt: {}{}\n",
            out.code,
            t.read("T001.txt"),
            said.join("\n")
        ));
        assert!(!note.exists());
        if !changed_since {
            out.success();
            assert_eq!(
                first_parent_subjects(&t),
                "M1 T002: Two\nM1 T001: One\ninitial\n"
            );
        }
    }
    // Changed since, nothing is thrown away: the edit stays where it is.
    insta::assert_snapshot!(said_all, @r"
    changed since: false, exit 0, T001.txt: T001
    T001's changes, brought into the work tree by a run that was stopped before its checkpoint, were taken out again (they are saved under refs/milestone/M1/attempts/)
    changed since: true, exit 0, T001.txt: edited by hand
    warning: a run stopped while bringing T001's changes into the work tree, which has changed since; left as it is
    ");
}

/// Prose that says which tasks may run at the same time.
const PROSE: &str = "# M1\n\n\
- [ ] T001 Set up the project\n\
- [ ] T002 Write the API\n\
- [ ] T003 Write the UI\n  - Can run in parallel with T002.\n\
- [ ] T004 Write the docs\n\
- [ ] T005 Package it\n\n\
T004 and T005 can run in parallel once T003 is done. T005 cannot run in parallel with T001.\n";

#[test]
fn prose_that_tasks_can_run_in_parallel_lifts_document_order() {
    let t = repo(PROSE);
    let out = t.run(["plan", "M1", "--plan", "plan.md", "--explain"]);
    out.success();
    let said: String = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("may run"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(said, @r#"
    may run at the same time (with run --jobs):
      plan.md:6  T003 may run beside T002  ("in parallel with" in the task's text)
      plan.md:10  T004 and T005 may run beside each other  ("in parallel" in prose)
    "#);
    let out = run_m1(&t, "true", &["--dry-run", "--jobs", "4", "-y"]);
    out.success();
    let waves: String = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("With --jobs"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(waves, @r"
    With --jobs 4: 5 tasks in 3 waves (the tasks of a wave run at the same time):
      wave 1: T001
      wave 2: T002 and T003
      wave 3: T004 and T005
    ");
    run_m1(&t, writing_runner(&t), &["--jobs", "4", "-y"]).success();
    assert_eq!(checkpoint_ids(&t, "HEAD").len(), 5);
}

/// A `claude` first on PATH that runs the fake Claude Code of
/// `tests/agents` for each task with `FAKE_FILE` `<ID>.txt`, `FAKE_ARGV`
/// `argv-<ID>` and `FAKE_ENV` `env-<ID>` in HOME, and `<ID>_CASE` and
/// `<ID>_FILE` as its case and file when set; it notes where it ran in `pwd-<ID>`. With `MEET` set, T001
/// and T002 wait until both have started.
fn fake_claude(t: &TestRepo) -> std::ffi::OsString {
    let home = t.home.path().display().to_string();
    let fakes = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents");
    let bin = t.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    script(
        t,
        "bin/claude",
        &format!(
            "id=$MILESTONE_TASK\n\
             export FAKE_FILE=\"$id.txt\" FAKE_ARGV='{home}/argv-'$id FAKE_ENV='{home}/env-'$id\n\
             eval \"c=\\${{${{id}}_CASE:-}} f=\\${{${{id}}_FILE:-}}\"\n\
             [ -n \"$c\" ] && export FAKE_CASE=\"$c\"; [ -n \"$f\" ] && export FAKE_FILE=\"$f\"\n\
             pwd > '{home}/pwd-'$id\n\
             eval \"k=\\${{${{id}}_TICK:-}}\"\n\
             [ -n \"$k\" ] && sed \"s/- \\[ \\] $id /- [x] $id /\" plan.md > plan.new && mv plan.new plan.md\n\
             if [ -n \"${{MEET:-}}\" ]; then touch '{home}/started-'$id; n=0\n\
               until [ -e '{home}/started-T001' ] && [ -e '{home}/started-T002' ]; do\n\
                 n=$((n+1)); [ $n -gt 3000 ] && {{ echo \"$id ran alone\"; exit 7; }}; sleep 0.01; done\n\
             fi\n\
             exec '{}' \"$@\"",
            fakes.join("claude").display()
        ),
    );
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(&common::path_with_bin()));
    std::env::join_paths(dirs).unwrap()
}

/// `run M1 --agent claude --jobs 2 -y <extra>` with [`fake_claude`].
fn run_agents(t: &TestRepo, env: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut c = t.cmd();
    c.args([
        "run", "M1", "--plan", "plan.md", "--agent", "claude", "--jobs", "2", "-y",
    ])
    .args(extra)
    .env("PATH", fake_claude(t));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap().into()
}

/// The lines of one task in a parallel run's output, in order.
fn lines_of(out: &str, id: &str) -> String {
    let prefix = format!("[{id}] ");
    out.lines()
        .filter(|l| l.starts_with(&prefix) || l.contains(&format!(" {id} ")))
        .map(|l| format!("{l}\n"))
        .collect()
}

const TWO_AGENTS: &str =
    "# M1\n\n- [ ] T001 [P] Write one\n- [ ] T002 [P] Write two\n- [ ] T003 Write three\n";

#[test]
fn two_agent_tasks_run_at_the_same_time_each_in_its_worktree() {
    let t = repo(TWO_AGENTS);
    let out = run_agents(&t, &[("MEET", "1")], &[]);
    out.success();
    insta::assert_snapshot!(common::normalize(&lines_of(&out.stdout, "T002"), &t), @r"
    Starting T002 [2/3] Write two
    [T002] Claude Code started (model fake-sonnet)
    [T002] Working on it.
    [T002] > Write T002.txt
    [T002] Working on it.
    [T002] > Bash cat T002.txt
    checkpoint [OID] T002 [2/3] in [DURATION], 2.8k tokens, $0.02
    ");
    assert!(
        out.stdout
            .ends_with("Milestone M1 is complete (3 tasks run).\n"),
        "{}",
        out.stdout
    );
    assert_eq!(
        first_parent_subjects(&t),
        "M1 T003: Write three\nM1 T002: Write two\nM1 T001: Write one\ninitial\n"
    );
    let home = t.home.path();
    for id in ["T001", "T002", "T003"] {
        assert_eq!(t.read(&format!("{id}.txt")), format!("{id}\n"));
        // Each ran in its own worktree, with its own prompt.
        let pwd = std::fs::read_to_string(home.join(format!("pwd-{id}"))).unwrap();
        assert!(
            pwd.trim_end()
                .ends_with(&format!(".git/milestone/M1/jobs/{id}")),
            "{pwd}"
        );
        let argv = std::fs::read_to_string(home.join(format!("argv-{id}"))).unwrap();
        assert!(argv.contains(&format!("{id} ")), "{argv}");
        let log = t.read(&format!(".git/milestone/M1/logs/{id}.1.log"));
        assert!(log.starts_with("{\"type\":\"system\""), "{log}");
    }
    let st = status_json(&t);
    for k in 0..3 {
        let attempt = &st["tasks"][k]["history"][0];
        assert_eq!(attempt["outcome"]["kind"], "success", "{attempt}");
        assert_eq!(attempt["session"], "fake-claude-0001", "{attempt}");
    }
    let json = t.run(["status", "M1", "--json"]).json();
    let cost = json["milestone"]["usage"]["cost_usd"].as_f64().unwrap();
    assert!((cost - 3.0 * 0.0213).abs() < 1e-9, "{cost}");
    assert_eq!(porcelain(&t), "");
    assert_fsck_clean(&t);
}

#[test]
fn an_agent_task_that_fails_is_classified_saved_and_retried_with_its_feedback() {
    let t = repo(TWO_AGENTS);
    let env = [("T002_CASE", "turnlimit"), ("FAKE_THEN", "success")];
    let out = run_agents(&t, &env, &["--on-failure", "retry:1"]);
    out.success();
    let err = out.render(&t).replace(".git/milestone/M1/logs", "[LOGS]");
    let err: String = err
        .lines()
        .skip_while(|l| *l != "--- stderr")
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(err, @r"
    --- stderr
    T002 failed (turn limit reached: stopped after 1 turn (--max-turns)) after [DURATION]; its work is saved as refs/milestone/M1/attempts/T002/1; running it again; log: [REPO]/[LOGS]/T002.1.log
    ");
    assert!(
        out.stdout.contains(
            "[T002] resuming Claude Code session fake-claude-0001 from the previous attempt\n"
        ),
        "{}",
        out.stdout
    );
    let history = &status_json(&t)["tasks"][1]["history"];
    assert_eq!(history[0]["outcome"]["kind"], "turn_limit");
    assert_eq!(history[1]["outcome"]["kind"], "success");
    assert_eq!(history[1]["resumed"], "fake-claude-0001");
    // The first attempt's work is saved; the retry read where.
    let saved = "refs/milestone/M1/attempts/T002/1";
    assert_eq!(t.git(&["show", &format!("{saved}:T002.txt")]), "T002\n");
    let env_log = std::fs::read_to_string(t.home.path().join("env-T002")).unwrap();
    let feedback_path = env_log.lines().nth(1).unwrap();
    let feedback = std::fs::read_to_string(feedback_path).unwrap();
    let changes: String = feedback
        .lines()
        .skip_while(|l| !l.starts_with("Its changes"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(changes, @r"
    Its changes, saved as refs/milestone/M1/attempts/T002/1 (the next attempt starts from the latest checkpoint without them; `git show refs/milestone/M1/attempts/T002/1` shows them):

         T002.txt | 1 +
         1 file changed, 1 insertion(+)
    ");
    assert_eq!(t.read("T002.txt"), "T002\n");
    assert_fsck_clean(&t);
}

/// An agent's session from an earlier run may have been made in another
/// directory (a sequential run's work tree): the next run does not resume
/// it; a retry in the same run does (above).
#[test]
fn a_later_run_does_not_resume_an_agents_session() {
    let t = repo(TWO_AGENTS);
    run_agents(&t, &[("T002_CASE", "turnlimit")], &[]).code(1);
    let out = run_agents(&t, &[], &[]);
    out.success();
    assert!(!out.stdout.contains("resuming"), "{}", out.stdout);
    let history = &status_json(&t)["tasks"][1]["history"];
    assert_eq!(history[1]["outcome"]["kind"], "success");
    assert!(history[1]["resumed"].is_null(), "{history}");
}

#[test]
fn an_agent_that_ends_the_same_way_twice_is_not_retried_again() {
    let t = repo(TWO_AGENTS);
    let out = run_agents(
        &t,
        &[("T002_CASE", "turnlimit")],
        &["--on-failure", "retry:3"],
    );
    out.code(1);
    let err = out.render(&t).replace(".git/milestone/M1/logs", "[LOGS]");
    let err: String = err
        .lines()
        .skip_while(|l| *l != "--- stderr")
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(err, @r"
    --- stderr
    T002 failed (turn limit reached: stopped after 1 turn (--max-turns)) after [DURATION]; its work is saved as refs/milestone/M1/attempts/T002/1; running it again; log: [REPO]/[LOGS]/T002.1.log
    T002 ended the same way twice (turn limit reached: stopped after 1 turn (--max-turns)); not retrying it again
    error: T002 failed (turn limit reached: stopped after 1 turn (--max-turns)) after [DURATION]; the run stopped once the tasks running beside it had ended
    hint: allow more turns with `-- --max-turns 50` after the run's flags, or split the task
    hint: its work is saved as refs/milestone/M1/attempts/T002/2
    hint: its output: [REPO]/[LOGS]/T002.2.log
    hint: run it again: `git milestone run M1 --plan plan.md --on-failure retry:3 --agent claude --jobs 2`
    ");
    let history = &status_json(&t)["tasks"][1]["history"];
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
}

#[test]
fn an_agent_task_that_changes_nothing_fails_in_its_worktree() {
    let t = repo(TWO_AGENTS);
    // It says it succeeded, and writes outside the repository.
    let outside = t.home.path().join("outside.txt");
    let out = run_agents(&t, &[("T002_FILE", outside.to_str().unwrap())], &[]);
    out.code(1);
    let err = out.render(&t).replace(".git/milestone/M1/logs", "[LOGS]");
    let err: String = err
        .lines()
        .skip_while(|l| *l != "--- stderr")
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(err, @r"
    --- stderr
    error: T002 failed (no-op: no changes) after [DURATION]; the run stopped once the tasks running beside it had ended
    hint: if the task needs no change, pass --allow-empty or add an `Allow-empty: yes` line to its section of the plan
    hint: its work is saved as refs/milestone/M1/attempts/T002/1
    hint: its output: [REPO]/[LOGS]/T002.1.log
    hint: run it again: `git milestone run M1 --plan plan.md --agent claude --jobs 2`
    ");
    assert_eq!(first_parent_subjects(&t), "M1 T001: Write one\ninitial\n");
    assert_eq!(
        status_json(&t)["tasks"][1]["history"][0]["outcome"]["kind"],
        "no_op"
    );
}

#[test]
fn the_budget_is_shared_running_tasks_finish_and_no_new_one_starts() {
    let t = repo(&format!("{TWO_AGENTS}  - Depends on: T001, T002\n"));
    // Each task costs $0.0213: two at once spend more than $0.03 together.
    let out = run_agents(&t, &[("MEET", "1")], &["--max-cost", "0.03"]);
    out.code(1);
    let err: String = out
        .render(&t)
        .lines()
        .skip_while(|l| *l != "--- stderr")
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(err, @r"
    --- stderr
    error: the milestone M1 has spent $0.04 of its $0.03 budget; T003 was not started
    hint: raise the budget with `--max-cost USD` or `--max-tokens N` (git config milestone.maxCost, milestone.maxTokens), then run again
    ");
    assert_eq!(
        first_parent_subjects(&t),
        "M1 T002: Write two\nM1 T001: Write one\ninitial\n"
    );
    assert!(!t.home.path().join("pwd-T003").exists());
    let st = status_json(&t);
    assert_eq!(st["tasks"][2]["state"], "pending");
    assert_eq!(st["failure"]["task"], "T003");
}

#[test]
fn an_agent_at_a_rate_limit_waits_for_the_reset_and_runs_again() {
    let t = repo(TWO_AGENTS);
    let env = [
        ("T002_CASE", "ratelimit"),
        ("FAKE_THEN", "success"),
        ("FAKE_RESET_IN", "1"),
    ];
    let out = run_agents(&t, &env, &[]);
    out.success();
    assert!(
        out.stderr.starts_with("T002 hit a rate or usage limit"),
        "{}",
        out.stderr
    );
    let history = &status_json(&t)["tasks"][1]["history"];
    assert_eq!(history[0]["outcome"]["kind"], "rate_limit");
    assert_eq!(history[1]["outcome"]["kind"], "success");
    assert_eq!(checkpoint_ids(&t, "HEAD").len(), 3);
}

/// Tasks that tick their own box in the plan, as agents do: the ticks a
/// line apart would conflict when merged; each task's checkpoint ticks it.
#[test]
fn tasks_that_tick_their_own_box_integrate_without_conflicts() {
    let t = repo("# M1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n- [ ] T003 [P] Three\n");
    let tick = script(
        &t,
        "tick.sh",
        "sed \"s/- \\[ \\] $1 /- [x] $1 /\" plan.md > plan.new && mv plan.new plan.md\necho \"$1\" > \"$1.txt\"",
    );
    let out = run_m1(&t, &tick, &["--jobs", "3", "-y"]);
    out.success();
    assert_eq!(
        t.read("plan.md"),
        "# M1\n\n- [x] T001 [P] One\n- [x] T002 [P] Two\n- [x] T003 [P] Three\n"
    );
    for id in ["T001", "T002", "T003"] {
        let files = t.git(&[
            "show",
            "--name-only",
            "--format=",
            &format!("refs/milestone/M1/checkpoints/{id}"),
        ]);
        assert_eq!(
            files,
            format!(".milestone_bundles/M1/status.json\n{id}.txt\nplan.md\n")
        );
    }
}

/// The parallel run names a numbered task by its label and says which
/// attempt a retry is, as the sequential run does.
#[test]
fn numbered_tasks_are_named_by_their_label_and_a_retry_by_its_attempt() {
    let t = TestRepo::with_files(&[(
        "plan.md",
        "# M1\n\n## Task 1: One\n\nwork\n\n## Task 2: Two\n\nwork\n",
    )]);
    let flaky = fails_once(&t, "2");
    let out = run_m1(
        &t,
        &flaky,
        &["--jobs", "2", "-y", "--on-failure", "retry:1"],
    );
    out.success();
    let mut starting: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("Starting"))
        .collect();
    // The two first attempts start in either order.
    starting[..2].sort_unstable();
    insta::assert_snapshot!(starting.join("\n"), @r"
    Starting Task 1 [1/2] One
    Starting Task 2 [2/2] Two
    Starting Task 2 [2/2] (attempt 2) Two
    ");
}

/// Two tasks running in their worktrees, `draft.txt` made in the work
/// tree meanwhile, and the run killed (SIGKILL: nothing recorded after).
fn killed_with_a_draft_made_meanwhile() -> TestRepo {
    let t = repo("# M1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n");
    let dir = t.home.path().display().to_string();
    let hang = script(
        &t,
        "hang.sh",
        &format!(
            "echo \"$1 half done\" > \"$1.txt\"\ntouch '{dir}/started-'\"$1\"\n\
             while [ ! -e '{dir}/never' ]; do sleep 0.01; done"
        ),
    );
    let mut child = run_cmd(&t, &hang, &["--jobs", "2", "-y"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for id in ["T001", "T002"] {
        let started = t.home.path().join(format!("started-{id}"));
        while !started.exists() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    t.write("draft.txt", "the user's\n");
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::write(t.home.path().join("never"), "").unwrap();
    t
}

#[test]
fn a_file_the_user_makes_while_a_killed_jobs_run_ran_is_in_no_checkpoint() {
    let t = killed_with_a_draft_made_meanwhile();
    let resumed = run_m1(&t, writing_runner(&t), &["-y"]);
    resumed.success();
    assert_eq!(status_json(&t)["state"], "completed");
    let committed = t.git(&["log", "--name-only", "--format=", "HEAD"]);
    assert!(!committed.contains("draft.txt"), "{committed}");
    assert_eq!(porcelain(&t), "?? draft.txt\n");
    assert_eq!(t.read("draft.txt"), "the user's\n");
}

#[test]
fn a_rollback_after_a_killed_jobs_run_leaves_the_users_new_file() {
    let t = killed_with_a_draft_made_meanwhile();
    let out = t.run(["rollback", "M1"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: nothing to roll back: M1 is already at the commit the run started from ([OID]) with no changes
    hint: see where it stands: git milestone status M1
    ");
    assert_eq!(t.read("draft.txt"), "the user's\n");
    assert_eq!(
        porcelain(&t),
        "?? .milestone_bundles/M1/status.json\n?? draft.txt\n"
    );
}

#[test]
fn a_file_the_user_makes_while_jobs_run_is_theirs_without_a_warning() {
    let t = repo("# M1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n");
    let root = t.path().display().to_string();
    // T001 stands for the user, writing in the work tree while it runs.
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "[ \"$1\" = T001 ] && echo \"the user's\" > '{root}/draft.txt'\necho \"$1\" > \"$1.txt\""
        ),
    );
    let out = run_m1(&t, runner, &["--jobs", "2", "-y"]);
    out.success();
    assert_eq!(out.stderr, "");
    let committed = t.git(&["log", "--name-only", "--format=", "HEAD"]);
    assert!(!committed.contains("draft.txt"), "{committed}");
    assert_eq!(porcelain(&t), "?? draft.txt\n");
}

#[test]
fn a_run_stopped_by_a_failure_is_recorded_failed_though_a_task_beside_it_integrates() {
    let t = repo("# M1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n- [ ] T003 Three\n");
    let runner = script(
        &t,
        "runner.sh",
        "[ \"$1\" = T001 ] && { echo broken; exit 3; }\nsleep 0.2\necho \"$1\" > \"$1.txt\"",
    );
    let out = run_m1(&t, runner, &["--jobs", "2", "-y"]);
    out.code(1);
    let status = status_json(&t);
    let states: Vec<&str> = (0..3)
        .map(|k| status["tasks"][k]["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["failed", "done", "pending"]);
    assert_eq!(status["state"], "failed", "{}", out.render(&t));
    assert_eq!(status["failure"]["task"], "T001");
    let glance = t.run(["status", "M1"]);
    assert!(
        glance.stdout.starts_with("M1: failed at T001"),
        "{}",
        glance.stdout
    );
}

#[test]
fn an_agent_that_only_ticks_its_own_box_changed_nothing() {
    let t = repo(TWO_AGENTS);
    let outside = t.home.path().join("outside.txt");
    let env = [("T002_TICK", "1"), ("T002_FILE", outside.to_str().unwrap())];
    let out = run_agents(&t, &env, &[]);
    out.code(1);
    let err = out.render(&t).replace(".git/milestone/M1/logs", "[LOGS]");
    let err: String = err
        .lines()
        .skip_while(|l| *l != "--- stderr")
        .map(|l| format!("{l}\n"))
        .collect();
    // Failed in its worktree, as the no-change rule says, not once merged.
    insta::assert_snapshot!(err, @r"
    --- stderr
    error: T002 failed (no-op: no changes) after [DURATION]; the run stopped once the tasks running beside it had ended
    hint: if the task needs no change, pass --allow-empty or add an `Allow-empty: yes` line to its section of the plan
    hint: its work is saved as refs/milestone/M1/attempts/T002/1
    hint: its output: [REPO]/[LOGS]/T002.1.log
    hint: run it again: `git milestone run M1 --plan plan.md --agent claude --jobs 2`
    ");
    assert_eq!(first_parent_subjects(&t), "M1 T001: Write one\ninitial\n");
}
