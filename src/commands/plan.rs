//! `git milestone plan`: find, extract, order, render.

use std::io::Write;
use std::path::Path;

use comfy_table::{ContentArrangement, Table};

use crate::cli::PlanArgs;
use crate::error::{Context, Result};
use crate::plan::{self, Plan};
use crate::repo::Repo;
use crate::ui::text::clean;

pub fn run(args: &PlanArgs, cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    let plan = plan::load(&repo, &args.name, args.plan.as_deref(), cwd)?;
    let out = if args.json {
        let mut value = serde_json::to_value(&plan).context("cannot write the plan as JSON")?;
        if args.explain {
            // Additive: scripts that read `tasks` are unaffected.
            value["edges"] = serde_json::to_value(&plan.edges).context("cannot write the edges")?;
            value["warnings"] =
                serde_json::to_value(&plan.warnings).context("cannot write the warnings")?;
        }
        let mut s =
            serde_json::to_string_pretty(&value).context("cannot write the plan as JSON")?;
        s.push('\n');
        s
    } else {
        let mut s = table(&plan);
        if args.explain {
            s.push_str(&explain(&plan));
        }
        s
    };
    std::io::stdout()
        .write_all(out.as_bytes())
        .context("cannot write to standard output")?;
    Ok(0)
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
            clean(&compact(&task.depends_on, plan)).into_owned(),
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
fn compact(ids: &[String], plan: &Plan) -> String {
    let pos = |id: &str| plan.tasks.iter().position(|t| t.id == id);
    let mut parts: Vec<(String, String)> = Vec::new();
    let mut last: Option<usize> = None;
    for id in ids {
        let p = pos(id);
        match (parts.last_mut(), last, p) {
            (Some(run), Some(l), Some(p)) if p == l + 1 => run.1 = id.clone(),
            _ => parts.push((id.clone(), id.clone())),
        }
        last = p;
    }
    let mut shown: Vec<String> = parts
        .iter()
        .take(CELL_IDS)
        .map(|(a, b)| {
            if a == b {
                a.clone()
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

/// Every dependency edge with the line that states it, then the warnings.
pub fn explain(plan: &Plan) -> String {
    let mut s = String::new();
    if plan.edges.is_empty() {
        s.push_str("\nno dependencies stated; tasks run in document order\n");
    } else {
        s.push_str("\ndependencies:\n");
        for (line, reason, task, on) in grouped_edges(plan) {
            s.push_str(&format!(
                "  {}:{line}  {task} waits for {on}  ({reason})\n",
                plan.plan
            ));
        }
    }
    if !plan.warnings.is_empty() {
        s.push_str("\nwarnings:\n");
        for w in &plan.warnings {
            match w.line {
                Some(l) => s.push_str(&format!("  {}:{l}  {}\n", plan.plan, w.message)),
                None => s.push_str(&format!("  {}\n", w.message)),
            }
        }
    }
    s
}

/// Edges from one statement ("US2 depends on Foundational") fold into one
/// line: the waiting tasks and the tasks waited for, each listed once.
fn grouped_edges(plan: &Plan) -> Vec<(usize, String, String, String)> {
    let mut groups: Vec<(usize, String, Vec<String>, Vec<String>)> = Vec::new();
    for e in &plan.edges {
        let g = match groups.iter_mut().find(|g| g.0 == e.line && g.1 == e.reason) {
            Some(g) => g,
            None => {
                groups.push((e.line, e.reason.clone(), Vec::new(), Vec::new()));
                groups.last_mut().expect("just pushed")
            }
        };
        if !g.2.contains(&e.task) {
            g.2.push(e.task.clone());
        }
        if !g.3.contains(&e.depends_on) {
            g.3.push(e.depends_on.clone());
        }
    }
    groups
        .into_iter()
        .map(|(line, reason, w, o)| (line, reason, w.join(", "), o.join(", ")))
        .collect()
}
