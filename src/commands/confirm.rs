//! The sequence question on a terminal, for `run` and `plan --edit`: what
//! `sequence::confirm` shows, rendered (the plan's table, skipped tasks,
//! the left-out line, what changed), asked through `ui::confirm`, and the
//! todo list opened in `ui::editor`.

use std::path::PathBuf;

use crate::error::{Context, Error, Result};
use crate::repo::Repo;
use crate::sequence::Step;
use crate::sequence::confirm::{Answer, Confirmer, View};
use crate::sequence::todo::Problem;
use crate::state;
use crate::ui::text::{clean, count, list};
use crate::ui::{self, editor};

/// Asks on the terminal (stderr); opens the editor git would use.
pub struct TerminalConfirmer<'a> {
    pub repo: &'a Repo,
    /// The milestone's key: the todo list is kept in its journal.
    pub key: &'a str,
    /// The line saying how many items the plan left out, shown under the
    /// table.
    pub left_out: Option<String>,
    /// `plan --edit`, for hints.
    pub edit_command: String,
}

impl TerminalConfirmer<'_> {
    /// Where the todo list is written for the editor: kept after the edit,
    /// so a list the user wrote is never lost.
    pub fn todo_path(&self) -> Result<PathBuf> {
        Ok(state::journal_dir(self.repo.git_dir(), self.key)?.join("sequence-todo"))
    }
}

impl Confirmer for TerminalConfirmer<'_> {
    fn ask(&mut self, view: &View<'_>) -> Result<Answer> {
        let text = render(view, self.left_out.as_deref());
        let n = view.plan.tasks.iter().filter(|t| !t.done).count();
        let (question, answers) = if view.problems.is_empty() {
            (
                format!("Run {} in this order?", clean(&view.plan.milestone)),
                vec![
                    (format!("Run {}", count(n, "task")), Answer::Run),
                    ("Edit the sequence".to_string(), Answer::Edit),
                    ("Quit without running anything".to_string(), Answer::Quit),
                ],
            )
        } else {
            (
                "This order cannot run. What now?".to_string(),
                vec![
                    ("Edit the sequence".to_string(), Answer::Edit),
                    ("Quit without running anything".to_string(), Answer::Quit),
                ],
            )
        };
        let labels: Vec<String> = answers.iter().map(|a| a.0.clone()).collect();
        Ok(match select(&text, &question, &labels)? {
            Some(i) => answers[i].1,
            // Esc or q: the answer that changes nothing.
            None => Answer::Quit,
        })
    }

    fn edit(&mut self, todo: &str) -> Result<String> {
        let path = self.todo_path()?;
        state::replace_file(&path, todo.as_bytes())?;
        let editor = self.repo.editor()?;
        editor::open(&editor, &path, self.repo.root())?;
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        String::from_utf8(bytes).map_err(|_| {
            Error::bad_input(format!(
                "{} is not UTF-8 text; nothing changed",
                path.display()
            ))
            .hint(format!("edit it again with `{}`", self.edit_command))
        })
    }

    fn edit_again(&mut self, problems: &[Problem]) -> Result<bool> {
        if !ui::can_prompt() {
            let mut message = format!(
                "the edited list has {}, so nothing changed:",
                count(problems.len(), "problem")
            );
            for p in problems {
                message.push_str(&format!("\n  {p}"));
            }
            return Err(Error::bad_input(message)
                .hint(format!("edit the list again with `{}`", self.edit_command)));
        }
        let text = problems_text(problems);
        let items = [
            "Edit the list again".to_string(),
            "Abandon the edit (nothing changes)".to_string(),
        ];
        Ok(select(&text, "What now?", &items)? == Some(0))
    }

    fn note(&mut self, line: &str) {
        eprintln!("{}", clean(line));
    }
}

/// [`ui::confirm::select`], with the signal handlers in place: dialoguer
/// raises SIGINT itself for a Ctrl-C it reads, which would otherwise end
/// the process without a word; with them it is the question's
/// interruption, said and exiting 130. (The run keeps them: it installs
/// the same ones.)
fn select(text: &str, question: &str, items: &[String]) -> Result<Option<usize>> {
    crate::runner::signals::install().context("cannot install signal handlers")?;
    ui::confirm::select(text, question, items)
}

/// What the question shows: what changed, the tasks that run, the ones
/// skipped, what the plan left out, and why the order cannot run.
pub fn render(view: &View<'_>, left_out: Option<&str>) -> String {
    let mut s = String::from("\n");
    if let Some(diff) = view.diff {
        s.push_str(&format!(
            "The plan of {} changed since its sequence was recorded:\n",
            clean(&view.plan.milestone)
        ));
        for line in diff.lines() {
            s.push_str(&format!("  {line}\n"));
        }
        s.push('\n');
    }
    s.push_str(&super::plan::table(view.plan));
    if let Some(line) = skipped_line(&view.skipped) {
        s.push_str(&line);
    }
    if let Some(line) = left_out {
        s.push_str(line);
        s.push('\n');
    }
    for p in &view.problems {
        s.push_str(&format!("This order cannot run: {p}\n"));
    }
    s.push('\n');
    s
}

/// `2 tasks skipped: T2 and T4`, under the table of a sequence.
pub fn skipped_line(skipped: &[&Step]) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let ids: Vec<String> = skipped.iter().map(|t| clean(&t.id).into_owned()).collect();
    Some(format!(
        "{} skipped: {}\n",
        count(ids.len(), "task"),
        list(&ids, 10)
    ))
}

/// The problems of an edited list, one a line.
fn problems_text(problems: &[Problem]) -> String {
    let mut s = format!(
        "\nThe edited list has {}:\n",
        count(problems.len(), "problem")
    );
    for p in problems {
        s.push_str(&format!("  {}\n", clean(&p.to_string())));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::{Sequence, broken, decide};

    #[test]
    fn the_question_shows_what_changed_and_why_an_order_cannot_run() {
        let read = |text: &str| {
            let x = crate::plan::extract::extract_in(text, "M1", "plan.md").unwrap();
            crate::plan::plan_of("plan.md".into(), "M1", x).unwrap()
        };
        let old = read("# M1\n\n- [ ] T1: One\n- [ ] T2: Two\n- [ ] T3: Three\n");
        let mut mine = Sequence::of(&old);
        mine.tasks.swap(0, 1);
        mine.tasks[2].skip = true;
        let now = read("# M1\n\n- [ ] T1: One\n- [ ] T2: Two, after T1\n- [ ] T3: Three\n");
        let crate::sequence::Decision::Changed(merged, diff) = decide(Some(&mine), &now) else {
            panic!("the plan changed")
        };
        let shown = crate::sequence::apply(&now, &merged, &|_| false);
        let view = View {
            plan: &shown,
            skipped: merged.skipped().collect(),
            diff: Some(&diff),
            problems: broken(&now, &merged)
                .iter()
                .map(|b| b.message(&now))
                .collect(),
        };
        insta::assert_snapshot!(render(&view, Some("1 item left out (see ...)")), @r#"

        The plan of M1 changed since its sequence was recorded:
          T2 was retitled: "Two" is now "Two, after T1"

        milestone M1: 2 tasks, 2 not done (plan.md)
        +---+----+---------------+------+------------+
        | # | ID | Title         | Done | Depends on |
        +============================================+
        | 1 | T2 | Two, after T1 |      | T1         |
        | 2 | T1 | One           |      |            |
        +---+----+---------------+------+------------+
        1 task skipped: T3
        1 item left out (see ...)
        This order cannot run: T2 would run before T1, which it depends on (plan.md:4: "after" in the task's text)
        "#);
    }
}
