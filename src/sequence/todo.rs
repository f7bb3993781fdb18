//! The sequence as a todo list the user edits, as `git rebase -i` shows
//! commits: one line a task (`run T001 Title`), then comments that explain
//! the syntax. `render` writes it; `parse` reads an edited one back against
//! the plan, or says what is wrong, line by line. Pure.

use std::collections::HashMap;

use super::{Sequence, Step, broken};
use crate::plan::{Plan, Task, task_matches};
use crate::ui::text::{clean, count, one_line};

/// The todo list for `seq`, a sequence of `plan`'s tasks.
pub fn render(seq: &Sequence, plan: &Plan) -> String {
    let mut s = String::new();
    for step in &seq.tasks {
        let verb = if step.skip { "skip" } else { "run" };
        s.push_str(&format!(
            "{verb} {} {}\n",
            clean(&step.id),
            clean(&one_line(&step.title))
        ));
    }
    let runs = seq.tasks.iter().filter(|t| !t.skip).count();
    s.push_str(&format!(
        "\n# The sequence of milestone {} ({}): {} to run, {} skipped.\n",
        clean(&plan.milestone),
        clean(&plan.plan),
        count(runs, "task"),
        seq.tasks.len() - runs
    ));
    s.push_str(HELP);
    s
}

const HELP: &str = "#
# Commands:
# run <ID> <title> = run the task
# skip <ID> <title> = do not run it (s for short; r for run)
#
# Tasks run from top to bottom: move a line to change the order.
# A deleted line is skipped, as with skip.
# Only the command and the ID are read; the title is there for you.
# The ID may be written with or without its unit word or #
# (Task 3 or 3, #204 or 204).
# A task must come after the tasks it depends on.
# Tasks already done are not run again, wherever they are.
#
# An empty list abandons the edit: nothing changes.
";

/// Something wrong with an edited list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The list's line (1-based), when one line is at fault.
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What an edited list says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Nothing but comments and blank lines: the edit is abandoned.
    Empty,
    Sequence(Sequence),
}

/// Read an edited list against `plan`: the tasks in the order listed,
/// each `run` or `skip`; tasks whose line was deleted are skipped (placed
/// where the plan puts them). Every problem is reported, with its line.
pub fn parse(text: &str, plan: &Plan) -> Result<Parsed, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut listed: Vec<(usize, usize, bool)> = Vec::new(); // (line, task, skip)
    let mut first_line: HashMap<usize, usize> = HashMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let words: Vec<&str> = raw.split_whitespace().collect();
        if words.is_empty() || words[0].starts_with('#') {
            continue;
        }
        match read_line(&words, plan) {
            Err(message) => problems.push(Problem {
                line: Some(line),
                message,
            }),
            Ok((task, skip)) => match first_line.get(&task) {
                Some(&first) => problems.push(Problem {
                    line: Some(line),
                    message: format!(
                        "{} is listed twice (first on line {first})",
                        clean(&plan.tasks[task].id)
                    ),
                }),
                None => {
                    first_line.insert(task, line);
                    listed.push((line, task, skip));
                }
            },
        }
    }
    if problems.is_empty() && listed.is_empty() {
        return Ok(Parsed::Empty);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let seq = sequence(plan, &listed);
    check(plan, &seq, &first_line)?;
    Ok(Parsed::Sequence(seq))
}

/// One line's task (its index in `plan.tasks`) and whether it is skipped.
fn read_line(words: &[&str], plan: &Plan) -> Result<(usize, bool), String> {
    let skip = match words[0] {
        "run" | "r" => false,
        "skip" | "s" => true,
        other => {
            return Err(format!(
                "unknown command {:?}: use run or skip",
                clean(other)
            ));
        }
    };
    let Some(&typed) = words.get(1) else {
        return Err(format!("no task ID after {}", words[0]));
    };
    // `run T003`, or with its unit word: `run Task 3`.
    if let Some(i) = plan.tasks.iter().position(|t| t.id == typed) {
        return Ok((i, skip));
    }
    let two = words
        .get(2)
        .filter(|_| typed.chars().all(char::is_alphabetic))
        .map(|w| format!("{typed} {w}"));
    let (typed, found) = match two.map(|two| (matching(plan, &two), two)) {
        Some((found, two)) if !found.is_empty() => (two, found),
        // `Task 9`, said as typed when no task has it.
        Some((_, two)) if words[2].starts_with(|c: char| c.is_ascii_digit() || c == '#') => {
            let found = matching(plan, typed);
            (
                if found.is_empty() {
                    two
                } else {
                    typed.to_string()
                },
                found,
            )
        }
        _ => (typed.to_string(), matching(plan, typed)),
    };
    let typed = typed.as_str();
    match found.as_slice() {
        [i] => Ok((*i, skip)),
        [] => Err(format!("the plan has no task {}", clean(typed))),
        many => {
            let ids: Vec<String> = many
                .iter()
                .map(|&i| clean(&plan.tasks[i].id).into_owned())
                .collect();
            Err(format!(
                "{} could be any of {}: write the ID as the plan does",
                clean(typed),
                crate::ui::text::list(&ids, ids.len())
            ))
        }
    }
}

fn matching(plan: &Plan, typed: &str) -> Vec<usize> {
    plan.tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| task_matches(t, typed))
        .map(|(i, _)| i)
        .collect()
}

/// The listed tasks in order, then every task not listed, skipped, right
/// after the task before it in the plan.
fn sequence(plan: &Plan, listed: &[(usize, usize, bool)]) -> Sequence {
    let step = |t: &Task, skip| Step {
        id: t.id.clone(),
        title: t.title.clone(),
        skip,
    };
    let mut tasks: Vec<Step> = listed
        .iter()
        .map(|&(_, i, skip)| step(&plan.tasks[i], skip))
        .collect();
    let mut seen: Vec<bool> = vec![false; plan.tasks.len()];
    for &(_, i, _) in listed {
        seen[i] = true;
    }
    for (i, t) in plan.tasks.iter().enumerate() {
        if seen[i] {
            continue;
        }
        let at = i
            .checked_sub(1)
            .and_then(|p| tasks.iter().position(|s| s.id == plan.tasks[p].id))
            .map_or(0, |k| k + 1);
        tasks.insert(at, step(t, true));
    }
    Sequence {
        tasks,
        read: plan.tasks.iter().map(|t| t.id.clone()).collect(),
    }
}

/// An order that runs a task before one it depends on is refused, with the
/// waiting task's line; so is a list that runs nothing.
fn check(plan: &Plan, seq: &Sequence, lines: &HashMap<usize, usize>) -> Result<(), Vec<Problem>> {
    if seq.tasks.iter().all(|s| s.skip) {
        return Err(vec![Problem {
            line: None,
            message:
                "every task is skipped, so nothing would run (an empty list abandons the edit)"
                    .to_string(),
        }]);
    }
    let index: HashMap<&str, usize> = plan
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let problems: Vec<Problem> = broken(plan, seq)
        .into_iter()
        .map(|b| Problem {
            line: index
                .get(b.task.as_str())
                .and_then(|i| lines.get(i))
                .copied(),
            message: b.message(plan),
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
