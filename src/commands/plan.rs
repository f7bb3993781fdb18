//! `git milestone plan`: find, extract, order, render.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use comfy_table::{ContentArrangement, Table};

use crate::cli::PlanArgs;
use crate::error::{Context, Result};
use crate::plan::{self, DependsOn, Plan, Strength};
use crate::repo::Repo;
use crate::ui::text::clean;

pub fn run(args: &PlanArgs, cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    let plan = plan::load(&repo, &args.name, args.plan.as_deref(), cwd)?;
    let out = if args.json {
        let mut value = serde_json::to_value(&plan).context("cannot write the plan as JSON")?;
        if args.explain {
            // Additive: scripts that read `tasks` are unaffected.
            value["edges"] =
                serde_json::to_value(plan.edges()).context("cannot write the edges")?;
            value["warnings"] =
                serde_json::to_value(&plan.warnings).context("cannot write the warnings")?;
            value["left_out"] =
                serde_json::to_value(&plan.left_out).context("cannot write the left-out items")?;
            value["unsure"] =
                serde_json::to_value(&plan.unsure).context("cannot write the doubts")?;
        }
        let mut s =
            serde_json::to_string_pretty(&value).context("cannot write the plan as JSON")?;
        s.push('\n');
        s
    } else {
        let mut s = table(&plan);
        if args.explain {
            s.push_str(&explain(&plan));
        } else if let Some(line) = plan.left_out_line() {
            s.push_str(&line);
            s.push('\n');
        }
        s
    };
    std::io::stdout()
        .write_all(out.as_bytes())
        .context("cannot write to standard output")?;
    Ok(0)
}

/// Where each task (by its index in document order) runs.
fn run_positions(plan: &Plan) -> Vec<usize> {
    let at: HashMap<&str, usize> = plan
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    plan.ids
        .iter()
        .map(|id| at.get(id.as_str()).copied().unwrap_or(usize::MAX))
        .collect()
}

/// The tasks in run order: ID, title, done, what each waits for.
pub fn table(plan: &Plan) -> String {
    let mut t = Table::new();
    t.set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["#", "ID", "Title", "Done", "Depends on"]);
    // Width and colour as every table decides them (COLUMNS, the terminal,
    // NO_COLOR); the plan keeps its boxed look.
    let target = crate::ui::table::Target::stdout();
    if target.color {
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    } else {
        t.load_style(comfy_table::presets::ASCII_FULL_CONDENSED);
        t.force_no_tty();
    }
    if let Some(width) = target.width {
        t.set_width(width);
    }
    let pos = run_positions(plan);
    for (i, task) in plan.tasks.iter().enumerate() {
        let mut done = if task.done { "yes" } else { "" }.to_string();
        if task.optional {
            done.push_str(if task.done { " (optional)" } else { "optional" });
        }
        // IDs and titles are the plan's text: never a terminal escape.
        t.add_row([
            (i + 1).to_string(),
            clean(&task.id).into_owned(),
            clean(&task.title).into_owned(),
            done,
            clean(&compact(&task.depends_on, &pos)).into_owned(),
        ]);
    }
    let open = plan.tasks.iter().filter(|t| !t.done).count();
    format!(
        "milestone {}: {} tasks, {open} not done ({})\n{t}\n",
        clean(&plan.milestone),
        plan.tasks.len(),
        clean(&plan.plan)
    )
}

/// Most IDs a table cell lists before it says how many more there are.
const CELL_IDS: usize = 6;

/// `T001, T002, T003, T009` as `T001–T003, T009`: runs of tasks that are
/// neighbours in the run order fold into a range.
fn compact(deps: &DependsOn, pos: &[usize]) -> String {
    let mut parts: Vec<(&str, &str)> = Vec::new();
    let mut last: Option<usize> = None;
    for (&i, id) in deps.indices().iter().zip(deps.iter()) {
        let p = pos.get(i as usize).copied().filter(|&p| p != usize::MAX);
        match (parts.last_mut(), last, p) {
            (Some(run), Some(l), Some(p)) if p == l + 1 => run.1 = id,
            _ => parts.push((id, id)),
        }
        last = p;
    }
    let mut shown: Vec<String> = parts
        .iter()
        .take(CELL_IDS)
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    if parts.len() > CELL_IDS {
        shown.push(format!("(+{} more)", parts.len() - CELL_IDS));
    }
    shown.join(", ")
}

/// Every dependency with the line that states it, then what was left out,
/// the doubts and the warnings.
pub fn explain(plan: &Plan) -> String {
    let mut s = String::new();
    if plan.deps.is_empty() {
        s.push_str("\nno dependencies stated; tasks run in document order\n");
    } else {
        s.push_str("\ndependencies:\n");
        for (line, reason, task, on) in grouped(plan) {
            s.push_str(&clean(&format!(
                "  {}:{line}  {task} waits for {on}  ({reason})",
                plan.plan
            )));
            s.push('\n');
        }
    }
    if !plan.left_out.is_empty() {
        s.push_str("\nleft out:\n");
        for l in &plan.left_out {
            s.push_str(&clean(&format!(
                "  {}:{}  {}: {}",
                plan.plan, l.line, l.item, l.reason
            )));
            s.push('\n');
        }
    }
    if !plan.unsure.is_empty() {
        s.push_str("\nunsure:\n");
        for u in &plan.unsure {
            s.push_str(&clean(&format!("  {u}")));
            s.push('\n');
        }
    }
    if !plan.warnings.is_empty() {
        s.push_str("\nwarnings:\n");
        for w in &plan.warnings {
            let text = match w.line {
                Some(l) => format!("  {}:{l}  {}", plan.plan, w.message),
                None => format!("  {}", w.message),
            };
            s.push_str(&clean(&text));
            s.push('\n');
        }
    }
    s
}

/// Statements of one line and one kind fold into one line: the waiting
/// tasks and the tasks waited for, each listed once.
fn grouped(plan: &Plan) -> Vec<(usize, String, String, String)> {
    struct Group {
        line: usize,
        reason: String,
        waits: Vec<String>,
        on: Vec<String>,
        seen: std::collections::HashSet<(bool, String)>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for d in &plan.deps {
        let reason = match d.strength {
            Strength::Soft => format!("{}, soft", d.reason),
            _ => d.reason.clone(),
        };
        let g = match groups.last_mut() {
            Some(g) if g.line == d.line && g.reason == reason => g,
            _ => {
                groups.push(Group {
                    line: d.line,
                    reason,
                    waits: Vec::new(),
                    on: Vec::new(),
                    seen: Default::default(),
                });
                groups.last_mut().expect("just pushed")
            }
        };
        for &w in &d.waits {
            let id = plan.ids[w as usize].clone();
            if g.seen.insert((true, id.clone())) {
                g.waits.push(id);
            }
        }
        let ons =
            d.on.iter()
                .map(|&o| plan.ids[o as usize].clone())
                .chain(d.external.iter().cloned());
        for id in ons {
            if g.seen.insert((false, id.clone())) {
                g.on.push(id);
            }
        }
    }
    groups
        .into_iter()
        .map(|g| (g.line, g.reason, g.waits.join(", "), g.on.join(", ")))
        .collect()
}
