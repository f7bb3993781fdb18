//! `git milestone log`: a milestone's tasks as history, as a table or as
//! versioned JSON.

use std::path::Path;

use serde::Serialize;

use super::status::{duration, task_state_cell};
use crate::cli::LogArgs;
use crate::error::{Error, Result};
use crate::history::log::{self, Log, Row};
use crate::repo::{Repo, short_oid as short};
use crate::ui::table::{Cell, Target, render_unbroken};
use crate::ui::text::clean;

/// The version of the `--json` output; bumped when a field changes meaning.
pub const JSON_VERSION: u32 = 1;

pub fn run(args: &LogArgs, cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    let name = crate::state::resolve_key(repo.root(), &args.name)?;
    let log = log::read(&repo, &name)?;
    if args.json {
        #[derive(Serialize)]
        struct Json<'a> {
            version: u32,
            #[serde(flatten)]
            log: &'a Log,
        }
        let text = serde_json::to_string_pretty(&Json {
            version: JSON_VERSION,
            log: &log,
        })
        .map_err(|e| Error::failed("cannot encode the log as JSON").with_cause(e))?;
        println!("{text}");
        return Ok(0);
    }
    println!("{}", headline(&log));
    let (headers, rows) = table(&log, repo.root());
    // A log path split over lines cannot be copied: the table may be wider
    // than the terminal instead.
    let log_column = headers.len() - 1;
    print!(
        "{}",
        render_unbroken(&headers, &rows, Target::stdout(), &[log_column])
    );
    if !log.skipped_by_sequence.is_empty() {
        let ids: Vec<String> = log
            .skipped_by_sequence
            .iter()
            .map(|s| clean(&s.id).into_owned())
            .collect();
        println!(
            "Not run: the recorded sequence skips {}.",
            crate::ui::text::list(&ids, 10)
        );
    }
    Ok(0)
}

/// `M1: completed, 7 tasks (plan docs/plan.md), from abc1234`.
fn headline(log: &Log) -> String {
    let state = serde_json::to_value(log.state)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default();
    let base = log
        .base
        .as_deref()
        .map(|b| format!(", from {}", short(b)))
        .unwrap_or_default();
    format!(
        "{}: {state}, {} (plan {}){base}",
        clean(&log.milestone),
        crate::ui::text::count(log.tasks.len(), "task"),
        clean(&log.plan)
    )
}

/// The columns, COST and CHECKS only where some task records them.
fn table(log: &Log, root: &Path) -> (Vec<&'static str>, Vec<Vec<Cell>>) {
    let (cost, checks) = (log.has_cost(), log.has_checks());
    let mut headers = vec![
        "ID",
        "TITLE",
        "OUTCOME",
        "ATTEMPTS",
        "DURATION",
        "CHECKPOINT",
    ];
    headers.extend(cost.then_some("COST"));
    headers.extend(checks.then_some("CHECKS"));
    headers.push("LOG");
    let rows = log
        .tasks
        .iter()
        .map(|r| {
            let mut row = vec![
                Cell::plain(clean(&r.id)),
                Cell::plain(clean(&r.title)),
                task_state_cell(r.outcome),
                Cell::plain(r.attempts.to_string()),
                Cell::plain(r.duration_ms.map(duration).unwrap_or_default()),
                Cell::plain(r.checkpoint.as_deref().map(short).unwrap_or_default()),
            ];
            if cost {
                let usd = r.evidence.cost_usd.map(|c| format!("${c:.2}"));
                row.push(Cell::plain(usd.unwrap_or_default()));
            }
            if checks {
                row.push(Cell::plain(clean(&r.evidence.checks.join(", "))));
            }
            row.push(Cell::plain(log_cell(r, root)));
            row
        })
        .collect();
    (headers, rows)
}

/// The log's path, relative to the work tree's top when it is inside it.
fn log_cell(row: &Row, root: &Path) -> String {
    let Some(path) = &row.log else {
        return String::new();
    };
    let shown = path.strip_prefix(root).unwrap_or(path);
    clean(&shown.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    use crate::history::log::Evidence;
    use crate::state::{RunState, TaskState};

    fn row(id: &str, evidence: Evidence) -> Row {
        Row {
            id: id.into(),
            title: "T".into(),
            outcome: TaskState::Done,
            attempts: 1,
            duration_ms: Some(1500),
            checkpoint: Some("a".repeat(40)),
            evidence,
            log: Some(PathBuf::from("/r/.git/milestone/M1/logs/T1.1.log")),
        }
    }

    fn headers(log: &Log) -> Vec<&'static str> {
        table(log, Path::new("/r")).0
    }

    #[test]
    fn cost_and_checks_show_only_where_recorded() {
        let mut log = Log {
            milestone: "M1".into(),
            plan: "plan.md".into(),
            state: RunState::Completed,
            base: None,
            tasks: vec![row("T1", Evidence::default())],
            skipped_by_sequence: Vec::new(),
        };
        let plain = [
            "ID",
            "TITLE",
            "OUTCOME",
            "ATTEMPTS",
            "DURATION",
            "CHECKPOINT",
            "LOG",
        ];
        assert_eq!(headers(&log), plain);
        let json = serde_json::to_value(&log.tasks[0]).unwrap();
        assert!(
            json.get("cost_usd").is_none() && json.get("checks").is_none(),
            "{json}"
        );
        log.tasks.push(row(
            "T2",
            Evidence {
                cost_usd: Some(0.125),
                checks: vec!["cargo test".into()],
            },
        ));
        assert_eq!(
            headers(&log),
            [
                "ID",
                "TITLE",
                "OUTCOME",
                "ATTEMPTS",
                "DURATION",
                "CHECKPOINT",
                "COST",
                "CHECKS",
                "LOG"
            ]
        );
        let rows = table(&log, Path::new("/r")).1;
        let texts: Vec<&str> = rows[1].iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "T2",
                "T",
                "done",
                "1",
                "1.5s",
                "aaaaaaa",
                "$0.12",
                "cargo test",
                ".git/milestone/M1/logs/T1.1.log"
            ]
        );
        let json = serde_json::to_value(&log.tasks[1]).unwrap();
        assert_eq!(json["cost_usd"], 0.125);
        assert_eq!(json["checks"][0], "cargo test");
    }
}
