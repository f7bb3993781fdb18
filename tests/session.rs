//! The run loop through its seam, as git-absorb tests `run_with_repo`:
//! `run::execute` called in this process on a real temporary repository,
//! with a scripted failure prompt and a report that records every line.
//! Each test asserts on the lines, the status value and the git history.
//!
//! The library runs in this process, so the sealed environment
//! (`common::seal`) is this process's own, set once; and a signal is a flag
//! the whole process shares. Each test holds [`Sealed`] for its whole
//! length, so the tests of this file run one at a time.

mod common;

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, OnceLock};

use common::TestRepo;
use git_milestone::config::{GlobalRunner, RunnerSource};
use git_milestone::error::Result;
use git_milestone::failure::{Choice, FailedAttempt, Policy, Prompter};
use git_milestone::repo::Repo;
use git_milestone::run::{self, Finished, Options, Report};
use git_milestone::runner::{Sink, signals};
use git_milestone::state::{RunState, Status, TaskState};

const PLAN: &str = "# M1\n\n## Tasks\n\n\
    - [ ] T1: Create T1.txt\n\
    - [ ] T2: Create T2.txt\n\
    - [ ] T3: Create T3.txt\n";

/// This file's tests one at a time, in the sealed environment; a signal
/// one of them noted is cleared when it ends.
struct Sealed(#[expect(dead_code, reason = "held for its drop")] MutexGuard<'static, ()>);

impl Drop for Sealed {
    fn drop(&mut self) {
        // `note(0)`: no signal pending.
        signals::note(0);
    }
}

fn sealed() -> Sealed {
    static LOCK: Mutex<()> = Mutex::new(());
    static HOME: OnceLock<assert_fs::TempDir> = OnceLock::new();
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    HOME.get_or_init(|| {
        let home = assert_fs::TempDir::new().unwrap();
        let vars: Vec<String> = std::env::vars_os()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .filter(|k| k.starts_with("GIT_") || k.starts_with("MILESTONE"))
            .collect();
        let set = [
            ("HOME", home.path().to_str().unwrap()),
            ("XDG_CONFIG_HOME", "/nonexistent"),
            ("GIT_CONFIG_NOSYSTEM", "1"),
            ("GIT_CONFIG_GLOBAL", "/dev/null"),
            ("GIT_AUTHOR_NAME", "Test Author"),
            ("GIT_AUTHOR_EMAIL", "author@example.invalid"),
            ("GIT_COMMITTER_NAME", "Test Committer"),
            ("GIT_COMMITTER_EMAIL", "committer@example.invalid"),
            ("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z"),
            ("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z"),
            ("TZ", "UTC"),
            ("LC_ALL", "C"),
        ];
        // SAFETY: the first test to take the lock does this, before any
        // test of this file runs git or reads the environment; the others
        // wait for the lock, and the harness reads none once tests run.
        unsafe {
            for k in vars {
                std::env::remove_var(k);
            }
            for (k, v) in set {
                std::env::set_var(k, v);
            }
        }
        home
    });
    Sealed(guard)
}

/// The lines a run reported, `warn:` before a warning's; and the line
/// whose report stands for a Ctrl-C (a signal noted as it is reported).
#[derive(Default)]
struct Recorded {
    lines: Vec<String>,
    interrupt_on: Option<&'static str>,
}

impl Report for Recorded {
    fn info(&mut self, line: &str) {
        if self.interrupt_on.is_some_and(|at| line.starts_with(at)) {
            signals::note(libc::SIGINT);
        }
        self.lines.push(line.to_string());
    }
    fn warn(&mut self, line: &str) {
        self.lines.push(format!("warn: {line}"));
    }
}

/// Answers the failure prompt from a script, and records each question;
/// `meanwhile` is a file the user makes while the question waits.
#[derive(Default)]
struct Scripted {
    answers: VecDeque<Choice>,
    asked: Vec<String>,
    meanwhile: Option<std::path::PathBuf>,
}

impl Scripted {
    fn answering(answers: &[Choice]) -> Scripted {
        Scripted {
            answers: answers.iter().copied().collect(),
            ..Scripted::default()
        }
    }
}

impl Prompter for Scripted {
    fn choose(&mut self, failed: &FailedAttempt<'_>) -> Result<Choice> {
        self.asked.push(format!(
            "{} attempt {}: {}",
            failed.task, failed.attempt, failed.cause
        ));
        if let Some(path) = &self.meanwhile {
            std::fs::write(path, "the user's, made while the question waited\n").unwrap();
        }
        Ok(self
            .answers
            .pop_front()
            .expect("asked more often than the script answers"))
    }
}

/// A repository holding `plan.md` and an untracked file of the user's, and
/// the runner every task runs: it writes `<ID>.txt`, and its first `n`
/// attempts fail (exit 3) after leaving `<ID>.partial` when `fail-<ID>` in
/// HOME says `n`; it first sleeps when there is a `slow-<ID>`.
struct Fixture {
    t: TestRepo,
    runner: String,
}

impl Fixture {
    fn new() -> Fixture {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        t.write("notes.txt", "the user's own, never committed\n");
        let home = t.home.path().display().to_string();
        let runner = common::runner::sh_runner(
            &t,
            "runner.sh",
            &format!(
                "if [ -f '{home}/slow-'\"$1\" ]; then sleep 10; fi\n\
                 fail=$(cat '{home}/fail-'\"$1\" 2>/dev/null || echo 0)\n\
                 if [ \"$MILESTONE_ATTEMPT\" -le \"$fail\" ]; then\n\
                   echo \"$1 broke\" > \"$1.partial\"\n\
                   echo \"$1 attempt $MILESTONE_ATTEMPT broke\"\n\
                   exit 3\n\
                 fi\n\
                 echo \"$1\" > \"$1.txt\""
            ),
        );
        Fixture { t, runner }
    }

    /// Task `id`'s first `n` attempts fail.
    fn fail(&self, id: &str, n: u32) {
        std::fs::write(self.t.home.path().join(format!("fail-{id}")), n.to_string()).unwrap();
    }

    /// Task `id` takes ten seconds, unless it is stopped first.
    fn slow(&self, id: &str) {
        std::fs::write(self.t.home.path().join(format!("slow-{id}")), "").unwrap();
    }

    fn options(&self) -> Options {
        Options {
            runner: Some(GlobalRunner {
                command: self.runner.clone(),
                source: RunnerSource::Flag,
                agent: None,
            }),
            tag: false,
            dry_run: false,
            retry: false,
            restart: false,
            detach_ok: false,
            timeout: None,
            policy: Policy::Stop,
            echo: Sink::LogOnly,
            settings: Default::default(),
            reused: Vec::new(),
            continue_with: "git milestone run M1".to_string(),
            tasks: Default::default(),
            live: false,
            sequence: None,
            jobs: 1,
        }
    }

    /// `run::execute` with `prompter`; the lines it reported and how it ended.
    fn execute(&self, prompter: Option<&mut Scripted>, report: &mut Recorded) -> Ended {
        let repo = Repo::discover(self.t.path()).unwrap();
        let plan = git_milestone::plan::load(&repo, "M1", None, self.t.path()).unwrap();
        let opts = self.options();
        let prompter = prompter.map(|p| p as &mut dyn Prompter);
        let ended = run::execute(&repo, &plan, &opts, report, prompter);
        Ended(
            ended.map_err(|e| common::normalize(&format!("exit {}: {e}", e.exit_code()), &self.t)),
        )
    }

    fn lines(&self, report: &Recorded) -> String {
        common::normalize(&report.lines.join("\n"), &self.t)
    }

    fn status(&self) -> Status {
        Status::load(self.t.path(), "M1").unwrap().unwrap()
    }

    /// Each task's state, and the run's.
    fn states(&self) -> (Vec<(String, TaskState, u32)>, RunState) {
        let s = self.status();
        let tasks = s
            .tasks
            .iter()
            .map(|t| (t.id.clone(), t.state, t.attempts))
            .collect();
        (tasks, s.state)
    }

    /// Subjects of HEAD's commits, newest first.
    fn history(&self) -> Vec<String> {
        self.t
            .git(&["log", "--format=%s"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The files the commit `rev` changed.
    fn changed_by(&self, rev: &str) -> String {
        self.t.git(&["show", "--format=", "--name-only", rev])
    }

    /// The files HEAD holds.
    fn files(&self) -> Vec<String> {
        self.t
            .git(&["ls-tree", "-r", "--name-only", "HEAD"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// How `execute` ended: its value, or its error as the user reads it.
#[derive(Debug, PartialEq, Eq)]
struct Ended(std::result::Result<Finished, String>);

fn rows(rows: &[(&str, TaskState, u32)]) -> Vec<(String, TaskState, u32)> {
    rows.iter()
        .map(|(id, s, n)| (id.to_string(), *s, *n))
        .collect()
}

#[test]
fn a_clean_run_checkpoints_each_task_in_order() {
    let _sealed = sealed();
    let f = Fixture::new();
    let mut report = Recorded::default();
    let ended = f.execute(None, &mut report);
    assert_eq!(ended, Ended(Ok(Finished::Completed { ran: 3, total: 3 })));
    insta::assert_snapshot!(f.lines(&report), @"
    Starting T1 [1/3] Create T1.txt
    checkpoint [OID] T1 [1/3] in [DURATION]
    Starting T2 [2/3] Create T2.txt
    checkpoint [OID] T2 [2/3] in [DURATION]
    Starting T3 [3/3] Create T3.txt
    checkpoint [OID] T3 [3/3] in [DURATION]
    ");
    assert_eq!(
        f.states(),
        (
            rows(&[
                ("T1", TaskState::Done, 1),
                ("T2", TaskState::Done, 1),
                ("T3", TaskState::Done, 1)
            ]),
            RunState::Completed
        )
    );
    assert_eq!(
        f.history(),
        [
            "M1 T3: Create T3.txt",
            "M1 T2: Create T2.txt",
            "M1 T1: Create T1.txt",
            "initial"
        ]
    );
    assert_eq!(
        f.files(),
        [
            ".milestone_bundles/M1/status.json",
            "T1.txt",
            "T2.txt",
            "T3.txt",
            "plan.md"
        ]
    );
}

#[test]
fn a_failure_answered_retry_runs_the_task_again_and_its_checkpoint_takes_both_attempts_files() {
    let _sealed = sealed();
    let f = Fixture::new();
    f.fail("T2", 1);
    let mut prompter = Scripted::answering(&[Choice::Retry]);
    prompter.meanwhile = Some(f.t.path().join("draft.txt"));
    let mut report = Recorded::default();
    let ended = f.execute(Some(&mut prompter), &mut report);
    assert_eq!(ended, Ended(Ok(Finished::Completed { ran: 3, total: 3 })));
    assert_eq!(prompter.asked, ["T2 attempt 1: exit code 3"]);
    insta::assert_snapshot!(f.lines(&report), @"
    Starting T1 [1/3] Create T1.txt
    checkpoint [OID] T1 [1/3] in [DURATION]
    Starting T2 [2/3] Create T2.txt
    Starting T2 [2/3] (attempt 2) Create T2.txt
    checkpoint [OID] T2 [2/3] in [DURATION]
    Starting T3 [3/3] Create T3.txt
    checkpoint [OID] T3 [3/3] in [DURATION]
    ");
    assert_t2_took_two_attempts_all_done(&f);
    assert_eq!(
        common::inspect::porcelain(&f.t),
        "?? draft.txt\n?? notes.txt\n",
        "made while the question waited: the user's"
    );
}

#[test]
fn a_failure_answered_rollback_saves_the_attempt_and_goes_back_to_the_last_checkpoint() {
    let _sealed = sealed();
    let f = Fixture::new();
    f.fail("T2", 1);
    let mut prompter = Scripted::answering(&[Choice::Rollback]);
    let mut report = Recorded::default();
    let ended = f.execute(Some(&mut prompter), &mut report);
    insta::assert_snapshot!(ended.0.unwrap_err(), @"
    exit 1: error: T2 failed; its work is saved in refs/milestone/M1/attempts/T2/1 (removed from the work tree: T2.partial) and the branch is back at [OID]
    hint: bring the work back with `git milestone rollback M1 --undo` (with git alone: `git read-tree -u --reset refs/milestone/M1/attempts/T2/1 && git reset -q refs/milestone/M1/attempts/T2/1~1`)
    hint: run the task again with `git milestone run M1`
    ");
    insta::assert_snapshot!(f.lines(&report), @"
    Starting T1 [1/3] Create T1.txt
    checkpoint [OID] T1 [1/3] in [DURATION]
    Starting T2 [2/3] Create T2.txt
    ");
    assert_eq!(
        f.states(),
        (
            rows(&[
                ("T1", TaskState::Done, 1),
                ("T2", TaskState::Failed, 1),
                ("T3", TaskState::Pending, 0)
            ]),
            RunState::Failed
        )
    );
    let failure = f.status().failure.unwrap();
    assert!(failure.rolled_back);
    assert_eq!(
        failure.saved_ref.as_deref(),
        Some("refs/milestone/M1/attempts/T2/1")
    );
    assert_eq!(f.history(), ["M1 T1: Create T1.txt", "initial"]);
    assert_eq!(
        common::inspect::porcelain(&f.t),
        " M .milestone_bundles/M1/status.json\n?? notes.txt\n"
    );
    assert_eq!(
        f.changed_by("refs/milestone/M1/attempts/T2/1"),
        ".milestone_bundles/M1/status.json\nT2.partial\n"
    );
}

#[test]
fn a_failure_answered_stop_leaves_the_attempts_changes_and_records_the_failure() {
    let _sealed = sealed();
    let f = Fixture::new();
    f.fail("T2", 1);
    let mut prompter = Scripted::answering(&[Choice::Stop]);
    let mut report = Recorded::default();
    let ended = f.execute(Some(&mut prompter), &mut report);
    insta::assert_snapshot!(ended.0.unwrap_err(), @"
    exit 1: error: T2 failed; the run stopped, leaving its changes in the work tree
    hint: run it again: `git milestone run M1`
    hint: or discard its changes and go back to the last checkpoint: `git milestone rollback M1`
    ");
    insta::assert_snapshot!(f.lines(&report), @"
    Starting T1 [1/3] Create T1.txt
    checkpoint [OID] T1 [1/3] in [DURATION]
    Starting T2 [2/3] Create T2.txt
    ");
    assert_eq!(
        f.states(),
        (
            rows(&[
                ("T1", TaskState::Done, 1),
                ("T2", TaskState::Failed, 1),
                ("T3", TaskState::Pending, 0)
            ]),
            RunState::Failed
        )
    );
    assert_eq!(f.history(), ["M1 T1: Create T1.txt", "initial"]);
    assert_eq!(
        common::inspect::porcelain(&f.t),
        " M .milestone_bundles/M1/status.json\n?? T2.partial\n?? notes.txt\n"
    );
}

#[test]
fn a_run_resumed_after_a_stop_continues_on_top_of_the_failed_attempt() {
    let _sealed = sealed();
    let f = Fixture::new();
    f.fail("T2", 1);
    let mut prompter = Scripted::answering(&[Choice::Stop]);
    let ended = f.execute(Some(&mut prompter), &mut Recorded::default());
    assert!(ended.0.is_err());
    let mut again = Scripted::default();
    let mut report = Recorded::default();
    let ended = f.execute(Some(&mut again), &mut report);
    assert_eq!(ended, Ended(Ok(Finished::Completed { ran: 2, total: 3 })));
    assert!(again.asked.is_empty());
    insta::assert_snapshot!(f.lines(&report), @"
    continuing on top of the failed attempt's changes; `git milestone rollback M1` discards them
    Starting T2 [2/3] (attempt 2) Create T2.txt
    checkpoint [OID] T2 [2/3] in [DURATION]
    Starting T3 [3/3] Create T3.txt
    checkpoint [OID] T3 [3/3] in [DURATION]
    ");
    assert_t2_took_two_attempts_all_done(&f);
    assert_eq!(common::inspect::porcelain(&f.t), "?? notes.txt\n");
}

#[test]
fn a_signal_during_a_task_records_it_interrupted_and_a_resume_runs_it_again() {
    let _sealed = sealed();
    let f = Fixture::new();
    // Still running when the run looks for a signal, however busy the machine.
    f.slow("T2");
    let mut report = Recorded {
        interrupt_on: Some("Starting T2"),
        ..Recorded::default()
    };
    let ended = f.execute(None, &mut report);
    insta::assert_snapshot!(ended.0.unwrap_err(), @"
    exit 130: error: T2 was stopped by SIGINT and is recorded as interrupted
    hint: continue with `git milestone run M1`
    ");
    insta::assert_snapshot!(f.lines(&report), @"
    Starting T1 [1/3] Create T1.txt
    checkpoint [OID] T1 [1/3] in [DURATION]
    Starting T2 [2/3] Create T2.txt
    ");
    assert_eq!(
        f.states(),
        (
            rows(&[
                ("T1", TaskState::Done, 1),
                ("T2", TaskState::Interrupted, 1),
                ("T3", TaskState::Pending, 0)
            ]),
            RunState::Interrupted
        )
    );
    assert_eq!(f.history(), ["M1 T1: Create T1.txt", "initial"]);
    signals::note(0);
    std::fs::remove_file(f.t.home.path().join("slow-T2")).unwrap();
    let mut report = Recorded::default();
    let ended = f.execute(None, &mut report);
    assert_eq!(ended, Ended(Ok(Finished::Completed { ran: 2, total: 3 })));
    insta::assert_snapshot!(f.lines(&report), @"
    Starting T2 [2/3] (attempt 2) Create T2.txt
    checkpoint [OID] T2 [2/3] in [DURATION]
    Starting T3 [3/3] Create T3.txt
    checkpoint [OID] T3 [3/3] in [DURATION]
    ");
    assert_eq!(
        f.history(),
        [
            "M1 T3: Create T3.txt",
            "M1 T2: Create T2.txt",
            "M1 T1: Create T1.txt",
            "initial"
        ]
    );
}

/// The end both ways of running T2 twice reach (a retry in the run, a
/// resume after a stop): every task done, T2 on its second attempt, and
/// T2's checkpoint holding both attempts' files.
fn assert_t2_took_two_attempts_all_done(f: &Fixture) {
    assert_eq!(
        f.states(),
        (
            rows(&[
                ("T1", TaskState::Done, 1),
                ("T2", TaskState::Done, 2),
                ("T3", TaskState::Done, 1)
            ]),
            RunState::Completed
        )
    );
    assert_eq!(
        f.history(),
        [
            "M1 T3: Create T3.txt",
            "M1 T2: Create T2.txt",
            "M1 T1: Create T1.txt",
            "initial"
        ]
    );
    assert_eq!(
        f.files(),
        [
            ".milestone_bundles/M1/status.json",
            "T1.txt",
            "T2.partial",
            "T2.txt",
            "T3.txt",
            "plan.md"
        ]
    );
    assert_eq!(
        f.changed_by("HEAD~1"),
        ".milestone_bundles/M1/status.json\nT2.partial\nT2.txt\nplan.md\n",
        "T2's checkpoint"
    );
}
