//! `run --jobs N`: independent tasks at the same time, each in its own
//! linked worktree under the git directory, integrated onto the branch in
//! plan order as ordinary checkpoints. `--jobs 1` never comes here.

mod integrate;
pub(super) mod recover;
mod waves;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use super::runners::TaskRunner;
use super::session::Session;
use super::{Finished, Report, message};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::repo::worktree::TaskTree;
use crate::runner::prefixed::Prefixed;
use crate::runner::{self, Invocation, Outcome, TaskEnv, signals};
use crate::state::{Status, TaskState};
use crate::ui::text;

/// The dry run's waves: which tasks would run together with `jobs` at a
/// time, if every task took as long.
pub(super) fn print_waves(plan: &Plan, status: &Status, jobs: usize, report: &mut dyn Report) {
    let graph = waves::Graph::new(&plan.tasks);
    let finished: Vec<bool> = status.tasks.iter().map(|t| t.state.is_finished()).collect();
    let waves = waves::waves(&graph, &finished, jobs);
    let left: usize = waves.iter().map(Vec::len).sum();
    report.info(&format!(
        "With --jobs {jobs}: {} in {} (the tasks of a wave run at the same time):",
        text::count(left, "task"),
        text::count(waves.len(), "wave")
    ));
    for (k, wave) in waves.iter().enumerate() {
        let ids: Vec<&str> = wave.iter().map(|&i| plan.tasks[i].id.as_str()).collect();
        report.info(&format!(
            "  wave {}: {}",
            k + 1,
            text::list(&ids, usize::MAX)
        ));
    }
}

/// Refuse what `--jobs N` cannot run yet, before anything is written:
/// agent presets (their sessions, budget and prompt are the sequential
/// run's).
pub(super) fn refuse(plan: &Plan, runners: &[Option<TaskRunner>]) -> Result<()> {
    let agents: Vec<&str> = plan
        .tasks
        .iter()
        .zip(runners)
        .filter(|(_, r)| r.as_ref().is_some_and(|r| r.agent.is_some()))
        .map(|(t, _)| t.id.as_str())
        .collect();
    if agents.is_empty() {
        return Ok(());
    }
    Err(Error::bad_input(format!(
        "--jobs runs runner commands only; {} would run through an agent",
        text::list(&agents, 5)
    ))
    .hint("run agent tasks one at a time: leave out --jobs (or pass --jobs 1)"))
}

/// A task started in its own worktree, until it is integrated.
struct Job {
    attempt: u32,
    log: PathBuf,
    tree: TaskTree,
    /// The commit it started from: the latest integrated checkpoint.
    base: String,
    /// The attempt ref its work is saved under when it ends, and the
    /// saved commit's message.
    saved: String,
    message: String,
}

/// How a task's thread ended: the runner's outcome (or why it could not
/// run), and the commit its work was saved as (none when it never ran;
/// an error keeps the worktree).
struct Ended {
    run: Result<Outcome>,
    commit: Result<Option<String>>,
}

/// What became of a task that ended.
enum Next {
    /// Checkpointed, or skipped with a checkpoint.
    Done,
    /// It runs again (the failure policy's retry).
    Again,
    /// Stopped by a signal; its work is saved.
    Interrupted,
    /// The run stops once the tasks still running have ended.
    Stop(Error),
}

/// Where a parallel run is: which tasks are finished, how often the
/// policy retried each, and what stops it.
struct Tally {
    finished: Vec<bool>,
    retries: Vec<u32>,
    /// A failure that stops the run: nothing new starts.
    stop: Option<Error>,
    interrupted: bool,
}

impl Tally {
    /// Whether another task may start now.
    fn may_start(&self) -> bool {
        self.stop.is_none() && !self.interrupted && signals::pending().is_none()
    }

    /// End task `i` (see `integrate::end`) and note what became of it.
    fn end(&mut self, s: &mut Session<'_>, i: usize, job: Job, out: Ended) {
        match integrate::end(s, i, job, out, &mut self.retries[i]) {
            Ok(Next::Done) => self.finished[i] = true,
            Ok(Next::Again) => {}
            Ok(Next::Interrupted) => self.interrupted = true,
            Ok(Next::Stop(e)) | Err(e) => {
                self.stop.get_or_insert(e);
            }
        }
    }
}

/// Run every task left with up to `jobs` at a time: ready tasks start in
/// the run's order, each in a worktree of its own made from the latest
/// checkpoint, and end in plan order (`integrate`). A failure that stops
/// the run, or a signal, starts nothing new; the tasks still running end
/// (a signal stops them) and are integrated or saved before it returns.
pub(super) fn run_all(s: &mut Session<'_>, jobs: usize) -> Result<Finished> {
    // Tasks end at any moment: the policy decides, never a prompt.
    s.prompter = None;
    let plan = s.plan;
    let graph = waves::Graph::new(&plan.tasks);
    let mut tally = Tally {
        finished: s
            .status
            .tasks
            .iter()
            .map(|t| t.state.is_finished())
            .collect(),
        retries: vec![0; plan.tasks.len()],
        stop: None,
        interrupted: false,
    };
    note_done_in_plan(s);
    let dir = s.repo.task_worktrees_dir(s.name());
    let (tx, rx) = mpsc::channel::<(usize, Ended)>();
    std::thread::scope(|scope| {
        let mut running: BTreeMap<usize, Job> = BTreeMap::new();
        let mut ended: BTreeMap<usize, Ended> = BTreeMap::new();
        loop {
            let finished = &tally.finished;
            let ready: Vec<usize> = (0..plan.tasks.len())
                .filter(|&i| !finished[i] && !running.contains_key(&i) && graph.ready(i, finished))
                .collect();
            for i in ready {
                if running.len() >= jobs || !tally.may_start() {
                    break;
                }
                match start(s, i, &dir) {
                    Ok(job) => {
                        scope.spawn(launch(s, i, &job, tx.clone()));
                        running.insert(i, job);
                    }
                    Err(e) => tally.stop = Some(e),
                }
            }
            let Some(&first) = running.keys().next() else {
                return;
            };
            ended.extend(rx.try_iter());
            // Plan order: the first task still in hand ends first; one at a
            // time, so that what it makes ready starts before the next ends.
            let Some(out) = ended.remove(&first) else {
                let (i, out) = rx.recv().expect("every task's thread sends before it ends");
                ended.insert(i, out);
                continue;
            };
            let job = running.remove(&first).expect("it is running");
            tally.end(s, first, job, out);
        }
    });
    // Empty now: every worktree was removed once its work was saved.
    let _ = std::fs::remove_dir(&dir);
    if tally.interrupted || signals::pending().is_some() {
        return Err(stopped_by_signal(s)?);
    }
    if let Some(e) = tally.stop {
        return Err(e);
    }
    Ok(s.completed())
}

/// Say which tasks the plan marks done, as the sequential run does.
fn note_done_in_plan(s: &mut Session<'_>) {
    let total = s.plan.tasks.len();
    for (i, task) in s.plan.tasks.iter().enumerate() {
        if s.status.tasks[i].state == TaskState::DoneInPlan {
            s.report.info(&format!(
                "{} [{}/{total}] is marked done in the plan: not run",
                task.id,
                i + 1
            ));
        }
    }
}

/// Record that task `i` runs, from HEAD; its thread makes its worktree.
fn start(s: &mut Session<'_>, i: usize, dir: &Path) -> Result<Job> {
    let task = &s.plan.tasks[i];
    let id = task.id.clone();
    let attempt = s.status.tasks[i].attempts + 1;
    let base = s.repo.head_commit()?;
    let (saved, n) = s.repo.next_attempt_ref(s.name(), &id)?;
    let message = format!(
        "Attempt {attempt} at {id} ({}) in its own worktree\n\nMilestone-Attempt: {} {id} {n}\n",
        s.name(),
        s.name()
    );
    let tree = s.repo.task_tree(&dir.join(safe(&id)));
    let log = s.log_path(&id, attempt)?;
    s.status.start(&id, attempt);
    s.status.save(s.repo.root())?;
    s.report.info(&format!(
        "Starting {id} [{}/{}] {}",
        i + 1,
        s.plan.tasks.len(),
        message::one_line(&task.title)
    ));
    Ok(Job {
        attempt,
        log,
        tree,
        base,
        saved,
        message,
    })
}

/// The thread of task `i`: make its worktree, run its command there, save
/// what it left under its attempt ref, remove the worktree, and say so.
/// The slow parts of a task's start and end run beside the other tasks.
fn launch<'a>(
    s: &Session<'a>,
    i: usize,
    job: &Job,
    tx: mpsc::Sender<(usize, Ended)>,
) -> impl FnOnce() + Send + 'a {
    let (plan, opts) = (s.plan, s.opts);
    let runner = s.runners[i].clone();
    let (tree, log, attempt) = (job.tree.clone(), job.log.clone(), job.attempt);
    let (base, saved, message) = (job.base.clone(), job.saved.clone(), job.message.clone());
    move || {
        let task = &plan.tasks[i];
        if let Err(e) = tree.add(&base) {
            tree.remove();
            let _ = tx.send((
                i,
                Ended {
                    run: Err(e),
                    commit: Ok(None),
                },
            ));
            return;
        }
        let run = match runner {
            None => Err(crate::config::no_runner_error(&task.id)),
            Some(runner) => runner::run(&Invocation {
                command: &runner.command,
                script: runner.script,
                env: TaskEnv {
                    milestone: &plan.milestone,
                    task: &task.id,
                    title: &task.title,
                    index: i + 1,
                    total: plan.tasks.len(),
                    plan: &plan.plan,
                    attempt,
                },
                cwd: tree.path(),
                log,
                timeout: opts.timeout,
                echo: opts.echo,
                extra_env: Vec::new(),
                argv: None,
                env_defaults: Vec::new(),
                filter: None,
                screen: Some(Arc::new(Prefixed::new(&task.id, opts.echo))),
                log_note: None,
            }),
        };
        let commit = tree.save(&saved, &message).map(Some);
        if commit.is_ok() {
            tree.remove();
        }
        let _ = tx.send((i, Ended { run, commit }));
    }
}

/// A worktree's directory name for task `id`.
pub(super) fn safe(id: &str) -> String {
    id.chars()
        .map(|c| if c == '/' || c.is_control() { '_' } else { c })
        .collect()
}

/// Record the run as interrupted: every task that was running is.
fn stopped_by_signal(s: &mut Session<'_>) -> Result<Error> {
    let sig = signals::pending().unwrap_or(libc::SIGINT);
    let ids: Vec<String> = s
        .status
        .tasks
        .iter()
        .filter(|t| t.state == TaskState::Interrupted)
        .map(|t| t.id.clone())
        .collect();
    s.status.interrupt();
    s.status.save(s.repo.root())?;
    let signal = if sig == libc::SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    };
    let what = match ids.len() {
        0 => format!("the run was stopped by {signal} between tasks"),
        n => format!(
            "{} {} stopped by {signal} and {} recorded as interrupted; {} work is saved under refs/milestone/{}/attempts/",
            text::list(&ids, 10),
            if n == 1 { "was" } else { "were" },
            text::is_are(n),
            if n == 1 { "its" } else { "their" },
            s.name()
        ),
    };
    Ok(Error::interrupted(what).hint(format!("continue with `{}`", s.opts.continue_with)))
}
