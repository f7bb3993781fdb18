//! Milestone plans: find the document, extract its tasks, order them.
//!
//! `discover` is the only part that looks at the repository; `extract` and
//! `order` are pure functions of the document's text.

mod defs;
mod deps;
pub mod discover;
pub mod extract;
mod ids;
mod markdown;
mod marks;
mod names;
pub mod order;
mod outline;
mod scope;

use serde::Serialize;

/// One task of a milestone, as the plan document states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// The ID exactly as written: `TASK-003`, `T012`, `2.3`, `#123`.
    pub id: String,
    /// The task's title, with Markdown markup removed.
    pub title: String,
    /// 1-based line of the task's definition in the plan file.
    pub line: usize,
    /// The document marks the task complete (and nothing contradicts it).
    pub done: bool,
    /// The document marks the task optional (Kiro `- [ ]*`).
    pub optional: bool,
    /// The ID of the task that contains this one in nested numbering (`2` for `2.3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// IDs this task depends on, in the order first stated. May name IDs
    /// outside the milestone (earlier milestones, other plans).
    pub depends_on: Vec<String>,
    /// A runner command embedded in the plan under the task's heading
    /// (a ```` ```sh milestone ```` fenced block), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner: Option<String>,
}

/// One dependency edge and where the document states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The task that waits.
    pub task: String,
    /// The task it waits for.
    pub depends_on: String,
    /// 1-based line of the sentence, table row or section that states it.
    pub line: usize,
    /// Short description of the evidence, e.g. `"depends on" in prose`.
    pub reason: String,
}

/// Something odd about the document that does not stop the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

/// What `extract` reads out of one document for one milestone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Tasks in document order, each ID once.
    pub tasks: Vec<Task>,
    /// Every dependency edge found, with its evidence.
    pub edges: Vec<Edge>,
    pub warnings: Vec<Warning>,
}

/// A milestone's plan, ready to run: tasks in execution order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The plan file's path relative to the repository root, `/`-separated.
    pub plan: String,
    /// The milestone's name as the user gave it.
    pub milestone: String,
    /// Tasks in the order they run: a stable topological order.
    pub tasks: Vec<Task>,
    #[serde(skip)]
    pub edges: Vec<Edge>,
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

/// Whether two milestone names spell the same milestone: the same words
/// ignoring case and punctuation, `M1` being `Milestone 1`.
pub fn same_milestone(a: &str, b: &str) -> bool {
    match (names::Name::parse(a), names::Name::parse(b)) {
        (Some(a), Some(b)) => a.key() == b.key(),
        _ => false,
    }
}

/// Find (unless `plan_path` is given), read, extract and order the plan of
/// milestone `name`. `plan_path` is relative to `cwd` as the user typed it.
pub fn load(
    repo: &crate::repo::Repo,
    name: &str,
    plan_path: Option<&std::path::Path>,
    cwd: &std::path::Path,
) -> crate::error::Result<Plan> {
    use crate::error::{Context, Error};
    let rel = match plan_path {
        Some(p) => {
            let abs = cwd.join(p);
            let abs = abs.canonicalize().map_err(|e| {
                Error::bad_input(format!("cannot read plan file {}", p.display()))
                    .with_cause(e)
                    .hint("check the path given to --plan")
            })?;
            let rel = abs.strip_prefix(repo.root()).map_err(|_| {
                Error::bad_input(format!(
                    "plan file {} is outside the repository",
                    p.display()
                ))
                .hint("pass a Markdown file inside this repository to --plan")
            })?;
            rel.to_string_lossy().replace('\\', "/")
        }
        None => discover::discover(repo, name)?,
    };
    let text = std::fs::read_to_string(repo.root().join(&rel))
        .with_context(|| format!("cannot read plan file {rel}"))?;
    let extracted = extract::extract_in(&text, name, &rel)?;
    let tasks = order::order(extracted.tasks, &extracted.edges, &rel)?;
    Ok(Plan {
        plan: rel,
        milestone: name.to_string(),
        tasks,
        edges: extracted.edges,
        warnings: extracted.warnings,
    })
}
