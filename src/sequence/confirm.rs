//! The question before a run: show the sequence, then run, edit or quit;
//! and the edit itself (todo list, editor, problems, edit again or abort).
//! The terminal is behind [`Confirmer`], so the flow is tested with
//! scripted answers.

use super::todo::{self, Parsed, Problem};
use super::{Decision, Diff, Sequence, Step, apply, broken, decide};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::ui::text::{clean, quote};

/// The answer to "run, edit or quit?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Run,
    Edit,
    Quit,
}

/// What the question shows.
pub struct View<'a> {
    /// The tasks that run, in order (the plan, with the sequence applied).
    pub plan: &'a Plan,
    /// The tasks the sequence skips.
    pub skipped: Vec<&'a Step>,
    /// How the plan changed since the sequence was recorded.
    pub diff: Option<&'a Diff>,
    /// Why this order cannot run as it is (then only edit and quit are
    /// offered).
    pub problems: Vec<String>,
}

/// Asks the user; the terminal's implementation lives with the commands.
pub trait Confirmer {
    /// Show `view` and ask: run, edit or quit.
    fn ask(&mut self, view: &View<'_>) -> Result<Answer>;
    /// Let the user edit `todo`; the text they saved.
    fn edit(&mut self, todo: &str) -> Result<String>;
    /// Show what is wrong with the edited list; edit it again (true) or
    /// abandon the edit.
    fn edit_again(&mut self, problems: &[Problem]) -> Result<bool>;
    /// Say something (an edit abandoned).
    fn note(&mut self, line: &str);
}

/// How the question ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    Run(Sequence),
    Quit,
}

/// Ask until the user runs or quits: each edit shows the new sequence and
/// asks again.
pub fn confirm(
    plan: &Plan,
    start: Sequence,
    diff: Option<&Diff>,
    c: &mut dyn Confirmer,
) -> Result<Confirmed> {
    let mut seq = start;
    let mut diff = diff;
    loop {
        let shown = apply(plan, &seq, &|_| false);
        let problems: Vec<String> = broken(plan, &seq).iter().map(|b| b.message(plan)).collect();
        let view = View {
            plan: &shown,
            skipped: seq.skipped().collect(),
            diff,
            problems,
        };
        match c.ask(&view)? {
            Answer::Run if view.problems.is_empty() => return Ok(Confirmed::Run(seq)),
            Answer::Run => {}
            Answer::Quit => return Ok(Confirmed::Quit),
            Answer::Edit => {
                if let Some(edited) = edit(plan, &seq, c)? {
                    seq = edited;
                    diff = None;
                }
            }
        }
    }
}

/// Open `seq` as a todo list until it reads well (`Some`) or the user
/// abandons the edit (`None`: an empty list, or abort after a problem).
pub fn edit(plan: &Plan, seq: &Sequence, c: &mut dyn Confirmer) -> Result<Option<Sequence>> {
    let mut text = todo::render(seq, plan);
    loop {
        let edited = c.edit(&text)?;
        match todo::parse(&edited, plan) {
            Ok(Parsed::Sequence(s)) => return Ok(Some(s)),
            Ok(Parsed::Empty) => {
                c.note("The list is empty: the edit is abandoned and nothing changed.");
                return Ok(None);
            }
            Err(problems) => {
                if !c.edit_again(&problems)? {
                    c.note("Edit abandoned: nothing changed.");
                    return Ok(None);
                }
                // The user's text, not the original: an edit is never lost.
                text = edited;
            }
        }
    }
}

/// What a run follows and records, once the question (if any) is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The order the run follows (none: the plan's reading, as it is).
    pub follow: Option<Sequence>,
    /// What the status file records (none: nothing is recorded yet).
    pub record: Option<Sequence>,
    /// Whether the sequence was shown and confirmed.
    pub asked: bool,
    /// Lines for the run's output (stderr): what changed, and that the run
    /// follows the recorded sequence without asking.
    pub warnings: Vec<String>,
    /// A line for stdout: the run follows a sequence other than the
    /// plan's reading.
    pub following: Option<String>,
}

/// Decide what a run follows. With a `confirmer` (a terminal, no `--yes`,
/// no `--dry-run`) the first run, and any run whose plan changed since the
/// sequence was recorded, shows the sequence and asks (unless every task
/// of `plan` is done: tasks an earlier run finished are marked so);
/// `None` is the answer quit. Without one, a first run follows the plan's
/// reading and records nothing (as before sequences existed); a changed
/// plan is followed as [`super::merge`] says, after saying what changed,
/// and the recorded sequence stays as it was, so the next run on a
/// terminal asks.
pub fn before_run(
    plan: &Plan,
    recorded: Option<&Sequence>,
    explicit: bool,
    confirmer: Option<&mut dyn Confirmer>,
) -> Result<Option<Chosen>> {
    let asked = |confirmed| match confirmed {
        Confirmed::Quit => None,
        Confirmed::Run(s) => Some(Chosen {
            following: following(plan, &s, explicit),
            follow: Some(s.clone()),
            record: Some(s),
            asked: true,
            warnings: Vec::new(),
        }),
    };
    // With every task done there is nothing to confirm.
    let confirmer = confirmer.filter(|_| plan.tasks.iter().any(|t| !t.done));
    match (decide(recorded, plan), confirmer) {
        (Decision::First(s), Some(c)) => Ok(asked(confirm(plan, s, None, c)?)),
        (Decision::Changed(s, d), Some(c)) => Ok(asked(confirm(plan, s, Some(&d), c)?)),
        (Decision::First(_), None) => Ok(Some(Chosen {
            follow: None,
            record: None,
            asked: false,
            warnings: Vec::new(),
            following: None,
        })),
        (Decision::Follow(s), _) => Ok(Some(Chosen {
            following: following(plan, &s, explicit),
            follow: Some(s.clone()),
            record: Some(s),
            asked: false,
            warnings: Vec::new(),
        })),
        (Decision::Changed(s, d), None) => {
            refuse_broken(plan, &s, explicit)?;
            let mut warnings = vec![format!(
                "warning: the plan of {} changed since its sequence was recorded:",
                clean(&plan.milestone)
            )];
            warnings.extend(d.lines().iter().map(|l| format!("  {l}")));
            warnings.push(format!(
                "the run follows the recorded sequence with these changes, unconfirmed (confirm or change it with `{}`)",
                edit_command(plan, explicit)
            ));
            Ok(Some(Chosen {
                following: None,
                follow: Some(s),
                record: recorded.cloned(),
                asked: false,
                warnings,
            }))
        }
    }
}

/// `git milestone plan <name> --edit`, with `--plan` when the user named
/// the plan file (`explicit`).
pub fn edit_command(plan: &Plan, explicit: bool) -> String {
    let file = if explicit {
        format!(" --plan {}", quote(&plan.plan))
    } else {
        String::new()
    };
    format!("git milestone plan {}{file} --edit", quote(&plan.milestone))
}

/// The line saying a run follows the user's sequence, when it differs from
/// the plan's reading.
fn following(plan: &Plan, seq: &Sequence, explicit: bool) -> Option<String> {
    if seq.is_reading() {
        return None;
    }
    let skipped: Vec<String> = seq.skipped().map(|s| clean(&s.id).into_owned()).collect();
    let skipping = match skipped.len() {
        0 => String::new(),
        _ => format!("; skipping {}", crate::ui::text::list(&skipped, 5)),
    };
    Some(format!(
        "Following the sequence recorded for {}{skipping} (`{}` changes it).",
        clean(&plan.milestone),
        edit_command(plan, explicit)
    ))
}

/// A recorded order the plan's changes made impossible cannot run without
/// a question.
fn refuse_broken(plan: &Plan, seq: &Sequence, explicit: bool) -> Result<()> {
    let Some(first) = broken(plan, seq).into_iter().next() else {
        return Ok(());
    };
    Err(Error::refused(format!(
        "the recorded sequence of {} no longer fits its plan: {}",
        clean(&plan.milestone),
        first.message(plan)
    ))
    .hint(format!(
        "change the sequence with `{}`",
        edit_command(plan, explicit)
    )))
}
