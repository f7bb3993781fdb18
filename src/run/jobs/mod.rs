//! `run --jobs N`: independent tasks at the same time, each in its own
//! linked worktree under the git directory, integrated onto the branch in
//! plan order as ordinary checkpoints. `--jobs 1` never comes here.

mod integrate;
pub(super) mod recover;
mod waves;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use super::attempt::{Attempted, FEEDBACK_VAR};
use super::place::{Base, Learned, Place};
use super::runners::TaskRunner;
use super::session::Session;
use super::write_back::marked;
use super::{Finished, Report, message};
use crate::agent::preset;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::plan::write_back::WriteBack;
use crate::repo::worktree::TaskTree;
use crate::runner::prefixed::Prefixed;
use crate::runner::signals;
use crate::state::{Status, TaskState};
use crate::ui::text;
use integrate::Tries;

/// The dry run's waves: which tasks would run together with `jobs` at a
/// time, if every task took as long.
pub(super) fn print_waves(plan: &Plan, status: &Status, jobs: usize, report: &mut dyn Report) {
    let graph = waves::Graph::new(&plan.tasks, &plan.parallel_pairs(), &plan.waiting());
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

/// A task started in its own worktree, until it is integrated.
#[derive(Clone)]
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
    /// The previous attempt's feedback and session, the budget left.
    learned: Learned,
    /// The plan's text it starts from, when checkpoints mark tasks done.
    plan_text: Option<String>,
}

/// How a task's thread ended: its attempt, checks in its worktree
/// included (or why it could not run), and the commit its work was saved
/// as (none when it never ran; an error keeps the worktree).
struct Ended {
    run: Result<Attempted>,
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

/// Where a parallel run is: which tasks are finished, what the run knows
/// of each one's failed attempts, and what stops it.
struct Tally {
    finished: Vec<bool>,
    tries: Vec<Tries>,
    /// The task runs again in this run: an agent continues its session
    /// (made in the same worktree; one from an earlier run may have been
    /// made elsewhere, and an agent cannot resume it there).
    again: Vec<bool>,
    /// A failure that stops the run: nothing new starts.
    stop: Option<Error>,
    interrupted: bool,
    /// The first task that did not start because the milestone's budget
    /// was spent: nothing new starts, the tasks running finish.
    over_budget: Option<usize>,
}

impl Tally {
    fn new(s: &Session<'_>) -> Tally {
        Tally {
            finished: s
                .status
                .tasks
                .iter()
                .map(|t| t.state.is_finished())
                .collect(),
            tries: s.status.tasks.iter().map(|_| Tries::default()).collect(),
            again: vec![false; s.status.tasks.len()],
            stop: None,
            interrupted: false,
            over_budget: None,
        }
    }

    /// Whether another task may start now.
    fn may_start(&self) -> bool {
        self.stop.is_none()
            && !self.interrupted
            && self.over_budget.is_none()
            && signals::pending().is_none()
    }

    /// Start task `i` unless the run stops or the budget is spent.
    fn start(&mut self, s: &mut Session<'_>, i: usize, dir: &Path) -> Option<Job> {
        if !self.may_start() {
            return None;
        }
        if s.over_budget().is_some() {
            self.over_budget = Some(i);
            return None;
        }
        start(s, i, dir, self.again[i])
            .map_err(|e| self.stop = Some(e))
            .ok()
    }

    /// End task `i` (see `integrate::end`) and note what became of it.
    fn end(&mut self, s: &mut Session<'_>, i: usize, job: Job, out: Ended) {
        match integrate::end(s, i, job, out, &mut self.tries[i]) {
            Ok(Next::Done) => self.finished[i] = true,
            Ok(Next::Again) => self.again[i] = true,
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
/// the run, a spent budget or a signal starts nothing new; the tasks still
/// running end (a signal stops them) and are integrated or saved before it
/// returns.
pub(super) fn run_all(s: &mut Session<'_>, jobs: usize) -> Result<Finished> {
    policy_decides(s, jobs);
    let plan = s.plan;
    let graph = waves::Graph::new(&plan.tasks, &plan.parallel_pairs(), &plan.waiting());
    let mut tally = Tally::new(s);
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
                .take(jobs.saturating_sub(running.len()))
                .collect();
            for i in ready {
                let Some(job) = tally.start(s, i, &dir) else {
                    break;
                };
                scope.spawn(launch(s, i, job.clone(), tx.clone()));
                running.insert(i, job);
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
    if let Some(i) = tally.over_budget {
        // Records that task `i` was not started, and says why.
        s.check_budget(i)?;
    }
    Ok(s.completed())
}

/// Tasks end at any moment, others running: a question would stop them
/// all or be lost among their lines. The policy decides, and a terminal
/// that would have asked is told so.
fn policy_decides(s: &mut Session<'_>, jobs: usize) {
    if s.prompter.take().is_some() {
        s.report.info(&format!(
            "With --jobs {jobs}, a task that fails does not ask what to do: the failure policy decides ({}; choose with --on-failure or git config milestone.onFailure).",
            s.opts.policy
        ));
    }
}

/// Say which tasks the plan marks done, as the sequential run does.
fn note_done_in_plan(s: &mut Session<'_>) {
    let total = s.plan.tasks.len();
    for (i, task) in s.plan.tasks.iter().enumerate() {
        if s.status.tasks[i].state == TaskState::DoneInPlan {
            s.report
                .info(&message::done_in_plan(task.name(), (i + 1, total)));
        }
    }
}

/// Record that task `i` runs, from HEAD; its thread makes its worktree.
/// `again`: it ran earlier in this run.
fn start(s: &mut Session<'_>, i: usize, dir: &Path, again: bool) -> Result<Job> {
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
    let agent = s.runners[i].as_ref().and_then(|r| r.agent);
    let learned = Learned {
        feedback: s.feedback_for(i, attempt)?,
        resume: agent.filter(|_| again).and_then(|a| s.resume_session(i, a)),
        limits: s.remaining_budget(),
    };
    // The work tree is at HEAD: its plan is the one the task starts from.
    let plan_text = s
        .mark_done
        .then(|| std::fs::read_to_string(s.repo.root().join(&s.plan.plan)).ok())
        .flatten();
    s.status.start(&id, attempt);
    s.status.save(s.repo.root())?;
    let place = (i + 1, s.plan.tasks.len());
    s.report
        .info(&message::starting(task.name(), place, attempt, &task.title));
    Ok(Job {
        attempt,
        log,
        tree,
        base,
        saved,
        message,
        learned,
        plan_text,
    })
}

/// The thread of task `i`: make its worktree, run its command or agent and
/// then its checks there, save what it left under its attempt ref, remove
/// the worktree, and say so. The slow parts of a task run beside the others.
fn launch<'a>(
    s: &Session<'a>,
    i: usize,
    job: Job,
    tx: mpsc::Sender<(usize, Ended)>,
) -> impl FnOnce() + Send + 'a {
    let place = Place {
        screen: Some(Arc::new(Prefixed::new(&s.plan.tasks[i].id, s.opts.echo))),
        ..s.place()
    };
    let runner = s.runners[i].clone();
    move || {
        let Job {
            attempt,
            log,
            tree,
            base,
            saved,
            message,
            learned,
            plan_text,
        } = job;
        if let Err(e) = tree.add(&base) {
            tree.remove();
            let (run, commit) = (Err(e), Ok(None));
            let _ = tx.send((i, Ended { run, commit }));
            return;
        }
        let place = Place {
            cwd: tree.path(),
            ..place
        };
        let mut extra_env = Vec::new();
        if let Some(f) = &learned.feedback {
            extra_env.push((FEEDBACK_VAR, f.display().to_string()));
        }
        let at = Base {
            i,
            attempt,
            log: &log,
            extra_env,
            line: None,
        };
        let run = attempt_in(&place, runner.as_ref(), &at, &learned, (&tree, &base));
        if run.as_ref().is_ok_and(|d| d.outcome.is_success()) {
            untick(&place, i, plan_text.as_deref());
        }
        let own = runner
            .and_then(|r| r.agent)
            .map_or(&[][..], preset::own_files);
        let commit = tree.save(&saved, &message, own).map(Some);
        if commit.is_ok() {
            tree.remove();
        }
        let _ = tx.send((i, Ended { run, commit }));
    }
}

/// One attempt of task `at.i` in its worktree, made at commit `from`: its
/// runner or agent, then, when that succeeded, the no-change rule (an
/// agent's) and its checks there (a failing one fails the task before
/// anything is integrated).
fn attempt_in(
    place: &Place<'_>,
    runner: Option<&TaskRunner>,
    at: &Base<'_>,
    learned: &Learned,
    (tree, from): (&TaskTree, &str),
) -> Result<Attempted> {
    let id = &place.plan.tasks[at.i].id;
    let runner = runner.ok_or_else(|| crate::config::no_runner_error(id))?;
    let screen = place.screen.clone();
    let mut say = |line: &str| {
        if let Some(screen) = &screen {
            screen.show(format!("{line}\n").as_bytes());
        }
    };
    let mut done = match runner.agent {
        Some(agent) => place.run_agent(agent, at, learned, &mut say)?,
        None => place.run_command(&runner.command, runner.script, at)?,
    };
    if !done.outcome.is_success() {
        return Ok(done);
    }
    if let Some(agent) = runner.agent
        && !place.may_be_empty(at.i)
        && !tree.changed(from, preset::own_files(agent))?
    {
        done.no_change();
        return Ok(done);
    }
    place.checks(at.i, at.attempt, at.log, &mut done, &mut say)?;
    Ok(done)
}

/// A task that ticked its own box in the plan, and changed nothing else
/// there, gets the plan back as it started: its checkpoint ticks the box
/// in the plan as the branch has it by then. (Merged, the tick would
/// conflict with the ticks of the tasks integrated meanwhile, a line
/// above or below.)
fn untick(place: &Place<'_>, i: usize, start: Option<&str>) {
    let Some(start) = start else { return };
    let path = place.cwd.join(&place.plan.plan);
    let Ok(now) = std::fs::read_to_string(&path) else {
        return;
    };
    if now == start {
        return;
    }
    let id = &place.plan.tasks[i].id;
    if let WriteBack::Marked { text, .. } = marked(start, &place.plan.milestone, id)
        && text == now
    {
        let _ = std::fs::write(&path, start);
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
