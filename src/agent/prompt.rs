//! The prompt an agent gets for a task: a template (`--prompt-file`, git
//! config `milestone.prompt`, or the default) with `{variables}` filled in
//! from the plan. The result is one argument of the agent's command, never
//! shell text.
//!
//! `{name}` is a variable when `name` is one of [`VARIABLES`]; any other
//! `{word}` is an error, so a typo is caught before a task runs. Braces that
//! do not hold a plain word (JSON, code) are kept as written; `{{` and `}}`
//! write a single brace.

use std::path::Path;

use super::Agent;
use crate::error::{Error, Result};

/// Where a repository defines Claude Code's `/task` command: the default
/// prompt for Claude is then `/task <ID>`.
pub const TASK_COMMAND: &str = ".claude/commands/task.md";

/// The template variables and what each holds.
pub const VARIABLES: &[(&str, &str)] = &[
    ("milestone", "the milestone's name"),
    ("task", "the task's ID"),
    ("title", "the task's title"),
    ("plan", "the plan file, relative to the repository root"),
    ("line", "the line of the plan where the task is defined"),
    (
        "section",
        "the task's text in the plan (its heading or item and what follows, up to the next task)",
    ),
    ("index", "the task's position in the run, from 1"),
    ("total", "the number of tasks in the run"),
    ("attempt", "the attempt number, from 1"),
    (
        "feedback_file",
        "on a retry, the file describing the previous attempt (also $MILESTONE_FEEDBACK); empty on a first attempt",
    ),
    (
        "feedback",
        "on a retry, a paragraph with the previous attempt's outcome, output, checks and changes; empty on a first attempt",
    ),
    (
        "retry_note",
        "on a retry, one sentence pointing at the feedback file; empty on a first attempt",
    ),
];

/// The default prompt, for every agent (and Claude Code without `/task`).
pub const DEFAULT: &str = "\
Work on task {task} of milestone {milestone}: {title}

The plan is {plan}; the task is defined at line {line}. Its section of the plan:

{section}

Do this task, and only this task, in this repository's work tree. Do not edit the plan's marks \
(its checkboxes and status words): git-milestone records each task's progress and commits a \
checkpoint of your changes when you finish.
{feedback}";

/// The default for Claude Code in a repository that defines `/task`.
pub const TASK_COMMAND_DEFAULT: &str = "/task {task} {retry_note}";

/// The most of a plan section or feedback file a prompt quotes.
const MAX_QUOTE: usize = 16 * 1024;

/// The values for one attempt's prompt.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    pub milestone: &'a str,
    pub task: &'a str,
    pub title: &'a str,
    pub plan: &'a str,
    pub line: usize,
    pub section: &'a str,
    pub index: usize,
    pub total: usize,
    pub attempt: u32,
    /// The previous attempt's feedback file and its text, on a retry.
    pub feedback: Option<(&'a Path, &'a str)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(usize),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parse `text`; `origin` names where it came from, for errors.
    pub fn parse(text: &str, origin: &str) -> Result<Template> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(i) = rest.find(['{', '}']) {
            literal.push_str(&rest[..i]);
            rest = &rest[i..];
            if rest.starts_with("{{") || rest.starts_with("}}") {
                literal.push_str(&rest[..1]);
                rest = &rest[2..];
                continue;
            }
            match word_in_braces(rest) {
                Some(word) => {
                    let var = VARIABLES
                        .iter()
                        .position(|(name, _)| *name == word)
                        .ok_or_else(|| unknown(word, origin))?;
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                    parts.push(Part::Var(var));
                    rest = &rest[word.len() + 2..];
                }
                None => {
                    literal.push_str(&rest[..1]);
                    rest = &rest[1..];
                }
            }
        }
        literal.push_str(rest);
        parts.push(Part::Text(literal));
        parts.retain(|p| *p != Part::Text(String::new()));
        Ok(Template { parts })
    }

    /// The default template for `agent`; `task_command` says whether the
    /// repository has [`TASK_COMMAND`].
    pub fn default_for(agent: Agent, task_command: bool) -> Template {
        let text = if agent == Agent::Claude && task_command {
            TASK_COMMAND_DEFAULT
        } else {
            DEFAULT
        };
        Template::parse(text, "the default prompt").expect("the default prompts parse")
    }

    /// The prompt for one attempt.
    pub fn render(&self, v: &Values<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(i) => out.push_str(&value(VARIABLES[*i].0, v)),
            }
        }
        out.trim().to_string()
    }
}

/// `{word}` at the start of `text`, when `word` is a plain identifier.
fn word_in_braces(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('{')?;
    let end = inner.find('}')?;
    let word = &inner[..end];
    let ident = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !word.starts_with(|c: char| c.is_ascii_digit());
    ident.then_some(word)
}

fn unknown(word: &str, origin: &str) -> Error {
    let names: Vec<String> = VARIABLES.iter().map(|(n, _)| format!("{{{n}}}")).collect();
    Error::bad_input(format!("unknown variable {{{word}}} in {origin}"))
        .hint(format!("the variables are {}", names.join(", ")))
        .hint("write `{{` and `}}` for a literal brace")
}

fn value(name: &str, v: &Values<'_>) -> String {
    match name {
        "milestone" => v.milestone.to_string(),
        "task" => v.task.to_string(),
        "title" => v.title.to_string(),
        "plan" => v.plan.to_string(),
        "line" => v.line.to_string(),
        "section" => v.section.to_string(),
        "index" => v.index.to_string(),
        "total" => v.total.to_string(),
        "attempt" => v.attempt.to_string(),
        "feedback_file" => v
            .feedback
            .map(|(p, _)| p.display().to_string())
            .unwrap_or_default(),
        "feedback" => v
            .feedback
            .map(|(p, text)| feedback_paragraph(v.attempt, p, text))
            .unwrap_or_default(),
        "retry_note" => v
            .feedback
            .map(|(p, _)| retry_note(v.attempt, p))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn retry_note(attempt: u32, path: &Path) -> String {
    format!(
        "(attempt {attempt}: the previous attempt did not succeed; its outcome, the end of its output, the checks and a summary of its changes are in {}: read it first)",
        path.display()
    )
}

fn feedback_paragraph(attempt: u32, path: &Path, text: &str) -> String {
    format!(
        "\nThis is attempt {attempt}. The previous attempt did not succeed. What happened (from {}):\n\n{}\n\nFix what went wrong; the previous attempt's changes are still in the work tree.",
        path.display(),
        cap(text.trim_end(), MAX_QUOTE)
    )
}

/// `text` cut at a line boundary to at most `max` bytes, saying so.
fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').unwrap_or(end);
    let left = text[end..].lines().filter(|l| !l.is_empty()).count();
    format!("{}\n[... {left} more lines not shown]", &text[..end])
}

/// The task's section of the plan: from its line (1-based) to the line
/// before the next task (`task_lines`: every task's line) or the next
/// heading that is not inside it, without trailing blank lines.
pub fn section(plan: &str, line: usize, task_lines: &[usize]) -> String {
    let lines: Vec<&str> = plan.lines().collect();
    let Some(first) = line.checked_sub(1).filter(|&i| i < lines.len()) else {
        return String::new();
    };
    let own_level = heading_level(lines[first]);
    let mut fence: Option<&str> = None;
    let mut end = lines.len();
    for (i, text) in lines.iter().enumerate().skip(first + 1) {
        if let Some(open) = fence {
            if text.trim_start().starts_with(open) {
                fence = None;
            }
            continue;
        }
        let trimmed = text.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
            continue;
        }
        let ends_here = task_lines.contains(&(i + 1))
            || heading_level(text).is_some_and(|l| own_level.is_none_or(|own| l <= own));
        if ends_here {
            end = i;
            break;
        }
    }
    let body = lines[first..end].join("\n");
    cap(body.trim_end(), MAX_QUOTE)
}

/// The level of an ATX heading (`## Title` is 2).
fn heading_level(line: &str) -> Option<usize> {
    let t = line.trim_start();
    let level = t.chars().take_while(|&c| c == '#').count();
    let after = t[level..].chars().next();
    ((1..=6).contains(&level) && after.is_none_or(|c| c == ' ' || c == '\t')).then_some(level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(feedback: Option<(&'a Path, &'a str)>) -> Values<'a> {
        Values {
            milestone: "M1",
            task: "TASK-002",
            title: "Parse the config file",
            plan: "docs/plan.md",
            line: 12,
            section: "### TASK-002: Parse the config file\nRead `config.toml`.",
            index: 2,
            total: 5,
            attempt: if feedback.is_some() { 2 } else { 1 },
            feedback,
        }
    }

    #[test]
    fn the_default_prompt_names_everything_and_asks_to_leave_marks_alone() {
        let t = Template::default_for(Agent::Codex, true);
        insta::assert_snapshot!(t.render(&values(None)), @r"
        Work on task TASK-002 of milestone M1: Parse the config file

        The plan is docs/plan.md; the task is defined at line 12. Its section of the plan:

        ### TASK-002: Parse the config file
        Read `config.toml`.

        Do this task, and only this task, in this repository's work tree. Do not edit the plan's marks (its checkboxes and status words): git-milestone records each task's progress and commits a checkpoint of your changes when you finish.
        ");
    }

    #[test]
    fn a_retry_quotes_the_feedback() {
        let t = Template::default_for(Agent::Gemini, false);
        let fb = (
            Path::new("/r/.git/milestone/M1/feedback/TASK-002.md"),
            "Outcome: turn limit reached\n",
        );
        let text = t.render(&values(Some(fb)));
        insta::assert_snapshot!(&text[text.find("This is").unwrap()..], @r"
        This is attempt 2. The previous attempt did not succeed. What happened (from /r/.git/milestone/M1/feedback/TASK-002.md):

        Outcome: turn limit reached

        Fix what went wrong; the previous attempt's changes are still in the work tree.
        ");
    }

    #[test]
    fn claude_uses_the_task_command_when_the_repository_has_one() {
        let t = Template::default_for(Agent::Claude, true);
        assert_eq!(t.render(&values(None)), "/task TASK-002");
        let fb = (Path::new("/r/fb.md"), "x");
        insta::assert_snapshot!(t.render(&values(Some(fb))), @"/task TASK-002 (attempt 2: the previous attempt did not succeed; its outcome, the end of its output, the checks and a summary of its changes are in /r/fb.md: read it first)");
        let plain = Template::default_for(Agent::Claude, false);
        assert!(plain.render(&values(None)).starts_with("Work on task"));
    }

    #[test]
    fn braces_that_are_not_variables_stay_and_unknown_ones_are_refused() {
        let t = Template::parse(r#"{{task}} is {task}; json {"a": 1} {} {1x}"#, "x").unwrap();
        assert_eq!(
            t.render(&values(None)),
            r#"{task} is TASK-002; json {"a": 1} {} {1x}"#
        );
        let e = Template::parse("Do {tsak}", "git config milestone.prompt").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        insta::assert_snapshot!(e.to_string(), @r"
        error: unknown variable {tsak} in git config milestone.prompt
        hint: the variables are {milestone}, {task}, {title}, {plan}, {line}, {section}, {index}, {total}, {attempt}, {feedback_file}, {feedback}, {retry_note}
        hint: write `{{` and `}}` for a literal brace
        ");
    }

    #[test]
    fn values_are_inserted_as_text() {
        let t = Template::parse("{title}", "x").unwrap();
        let mut v = values(None);
        v.title = "{task} $(rm -rf /)";
        assert_eq!(t.render(&v), "{task} $(rm -rf /)");
    }

    const PLAN: &str = "\
# Plan

## Phase 1

- [ ] T001 Set up the crate
  - with a lib and a bin
- [ ] T002 Add the parser

### T003: Write the docs

Explain the format.

```sh
# not a heading
```

#### Notes for T003

More.

## Phase 2
- [ ] T004 Ship it
";

    #[test]
    fn a_section_runs_to_the_next_task_or_heading() {
        let tasks = [5, 7, 9, 22];
        assert_eq!(
            section(PLAN, 5, &tasks),
            "- [ ] T001 Set up the crate\n  - with a lib and a bin"
        );
        assert_eq!(section(PLAN, 7, &tasks), "- [ ] T002 Add the parser");
        let t3 = section(PLAN, 9, &tasks);
        assert!(
            t3.starts_with("### T003: Write the docs\n\nExplain"),
            "{t3}"
        );
        assert!(t3.ends_with("#### Notes for T003\n\nMore."), "{t3}");
        assert_eq!(section(PLAN, 22, &tasks), "- [ ] T004 Ship it");
        assert_eq!(section(PLAN, 99, &tasks), "");
    }

    #[test]
    fn long_sections_are_cut_at_a_line() {
        let plan = format!("- [ ] T1 big\n{}", "word word word\n".repeat(5000));
        let s = section(&plan, 1, &[1]);
        assert!(s.len() < MAX_QUOTE + 100);
        assert!(
            s.ends_with("more lines not shown]"),
            "{}",
            &s[s.len() - 60..]
        );
    }
}
