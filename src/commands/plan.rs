//! `git milestone plan`: find, extract, order, render.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::confirm::TerminalConfirmer;
use crate::cli::PlanArgs;
use crate::error::{Context, Result};
use crate::lock::RunLock;
use crate::plan::{self, DependsOn, Plan, Strength};
use crate::repo::Repo;
use crate::sequence::confirm::{self, edit_command};
use crate::sequence::store::Kept;
use crate::sequence::{self, Decision};
use crate::state::{self, Status};
use crate::ui::table::{Cell, Target, render_boxed};
use crate::ui::text::clean;

pub fn run(args: &PlanArgs, cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    if args.edit {
        return edit(&repo, args, cwd);
    }
    let mut plan = plan::load(&repo, &args.name, args.plan.as_deref(), cwd)?;
    if !args.explain && !args.json {
        // --explain lists them with the rest of the reading.
        for line in plan.warning_lines(args.plan.is_some()) {
            eprintln!("{line}");
        }
    }
    not_done_by_the_run(&repo, &mut plan);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.json {
        // Written as it is serialized: a plan where every task depends on
        // all earlier ones has millions of entries.
        let edges = args.explain.then(|| plan.edges());
        let parallel = args.explain.then(|| parallel_json(&plan));
        let json = Json {
            plan: &plan,
            edges: edges.as_deref(),
            parallel: parallel.as_deref(),
            warnings: args.explain.then_some(&plan.warnings[..]),
            left_out: args.explain.then_some(&plan.left_out[..]),
            unsure: args.explain.then_some(&plan.unsure[..]),
        };
        serde_json::to_writer_pretty(&mut out, &json).context("cannot write to standard output")?;
        out.write_all(b"\n")
            .context("cannot write to standard output")?;
    } else {
        let mut s = table(&plan);
        if args.explain {
            s.push_str(&explain(&plan));
        } else if let Some(line) = plan.left_out_line(args.plan.is_some()) {
            s.push_str(&line);
            s.push('\n');
        }
        out.write_all(s.as_bytes())
            .context("cannot write to standard output")?;
    }
    out.flush().context("cannot write to standard output")?;
    Ok(0)
}

/// Only a checkpoint makes a task done: a task the plan marks done whose
/// attempt stopped without one (the runner ticked the box, then failed) is
/// shown not done, and a warning says why.
fn not_done_by_the_run(repo: &Repo, plan: &mut Plan) {
    let Ok(key) = state::resolve_key(repo.root(), &plan.milestone) else {
        return;
    };
    let Ok(Some(status)) = Status::load(repo.root(), &key) else {
        return;
    };
    for (id, how) in crate::run::progress::unmark_stopped(plan, &status) {
        eprintln!(
            "warning: {} is marked done in {}, but its last attempt {how} and it has no checkpoint: `{}` runs it again",
            clean(&id),
            clean(&plan.plan),
            crate::ui::text::command_line(&["git", "milestone", "run", &key])
        );
    }
}

/// `plan --edit`: the recorded sequence (brought up to date with the plan,
/// or the plan's reading when none is recorded) as a todo list in the
/// editor; recorded once it reads well. Exit 1 when the edit is abandoned.
fn edit(repo: &Repo, args: &PlanArgs, cwd: &Path) -> Result<i32> {
    let key = state::resolve_key(repo.root(), &args.name)?;
    let mut plan = plan::load(repo, &args.name, args.plan.as_deref(), cwd)?;
    plan.milestone = key.clone();
    let status = Status::load(repo.root(), &key)?;
    let recorded = sequence::store::load(repo, &key, status.as_ref())?;
    let start = match sequence::decide(recorded.as_ref(), &plan) {
        Decision::First(s) | Decision::Follow(s) => s,
        Decision::Changed(s, diff) => {
            eprintln!("The plan of {key} changed since its sequence was recorded:");
            for line in diff.lines() {
                eprintln!("  {line}");
            }
            s
        }
    };
    let explicit = args.plan.is_some();
    let mut editor = TerminalConfirmer {
        repo,
        key: &key,
        left_out: None,
        edit_command: edit_command(&plan, explicit),
    };
    let Some(seq) = confirm::edit(&plan, &start, &mut editor)? else {
        return Ok(1);
    };
    let kept = {
        // Under the run lock: a run of the milestone writes the status file.
        let _lock = RunLock::acquire(repo.git_dir(), repo.common_dir(), &key).map_err(|e| {
            let path = editor.todo_path().map(|p| p.display().to_string());
            e.hint(format!(
                "the list you wrote is kept in {}",
                path.unwrap_or_default()
            ))
        })?;
        sequence::store::save(repo, &key, &seq)?
    };
    let mut out = table(&sequence::apply(&plan, &seq, &|_| false));
    let skipped: Vec<&sequence::Step> = seq.skipped().collect();
    out.push_str(&super::confirm::skipped_line(&skipped).unwrap_or_default());
    out.push_str(&format!(
        "Recorded the sequence of {}: {} follows it.\n",
        clean(&key),
        match kept {
            Kept::StatusFile => "every later run",
            Kept::Journal => "its first run",
        }
    ));
    print!("{out}");
    Ok(0)
}

/// `plan --json`: the plan, and with --explain how it was read. Additive:
/// scripts that read `tasks` are unaffected.
#[derive(serde::Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    #[serde(skip_serializing_if = "Option::is_none")]
    edges: Option<&'a [plan::Edge]>,
    /// What may run at the same time (`run --jobs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel: Option<&'a [ParallelJson<'a>]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<&'a [plan::Warning]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    left_out: Option<&'a [plan::LeftOut]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unsure: Option<&'a [String]>,
}

/// A statement that tasks may run at the same time, as `plan --json
/// --explain` lists it: each of `tasks` beside each of `with`.
#[derive(serde::Serialize)]
struct ParallelJson<'a> {
    tasks: Vec<&'a str>,
    with: Vec<&'a str>,
    line: usize,
    reason: &'a str,
}

fn parallel_json(plan: &Plan) -> Vec<ParallelJson<'_>> {
    let ids = |v: &[u32]| v.iter().map(|&i| plan.ids[i as usize].as_str()).collect();
    plan.parallel
        .iter()
        .map(|p| ParallelJson {
            tasks: ids(&p.tasks),
            with: ids(&p.with),
            line: p.line,
            reason: &p.reason,
        })
        .collect()
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
    let pos = run_positions(plan);
    // IDs and titles are the plan's text: the table cleans every cell.
    let rows: Vec<Vec<Cell>> = plan
        .tasks
        .iter()
        .enumerate()
        .map(|(i, task)| {
            let mut done = if task.done { "yes" } else { "" }.to_string();
            if task.optional {
                done.push_str(if task.done { " (optional)" } else { "optional" });
            }
            vec![
                Cell::plain((i + 1).to_string()),
                Cell::plain(&task.id),
                Cell::plain(&task.title),
                Cell::plain(done),
                Cell::plain(compact(&task.depends_on, &pos)),
            ]
        })
        .collect();
    // Width and colour as every table decides them (COLUMNS, the terminal,
    // NO_COLOR); the plan keeps its boxed look.
    let t = render_boxed(
        &["#", "ID", "Title", "Done", "Depends on"],
        &rows,
        Target::stdout(),
    );
    let open = plan.tasks.iter().filter(|t| !t.done).count();
    format!(
        "milestone {}: {}, {open} not done ({})\n{t}\n",
        clean(&plan.milestone),
        crate::ui::text::count(plan.tasks.len(), "task"),
        clean(&plan.plan)
    )
}

/// Most IDs a table cell lists before it says how many more there are.
const CELL_IDS: usize = 6;

/// `T001, T002, T003, T009` as `T001–T003, T009`: runs of three or more
/// tasks that are neighbours in the run order fold into a range (two stay
/// two: `3–3a` would read as a range of more).
fn compact(deps: &DependsOn, pos: &[usize]) -> String {
    // Each run: its first and last ID, and how many it holds.
    let mut parts: Vec<(&str, &str, usize)> = Vec::new();
    let mut last: Option<usize> = None;
    for (&i, id) in deps.indices().iter().zip(deps.iter()) {
        let p = pos.get(i as usize).copied().filter(|&p| p != usize::MAX);
        match (parts.last_mut(), last, p) {
            (Some(run), Some(l), Some(p)) if p == l + 1 => {
                run.1 = id;
                run.2 += 1;
            }
            _ => parts.push((id, id, 1)),
        }
        last = p;
    }
    let parts: Vec<String> = parts
        .into_iter()
        .flat_map(|(a, b, n)| match n {
            1 => vec![a.to_string()],
            2 => vec![a.to_string(), b.to_string()],
            _ => vec![format!("{a}–{b}")],
        })
        .collect();
    let mut shown: Vec<String> = parts.iter().take(CELL_IDS).cloned().collect();
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
                "  {}:{line}  {task} {} for {on}  ({reason})",
                plan.plan,
                if task.contains(", ") { "wait" } else { "waits" }
            )));
            s.push('\n');
        }
    }
    s.push_str(&explain_parallel(plan));
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

/// What the plan says may run at the same time, a statement a line.
fn explain_parallel(plan: &Plan) -> String {
    if plan.parallel.is_empty() {
        return String::new();
    }
    let list = |v: &[u32]| {
        let ids: Vec<&str> = v.iter().map(|&i| plan.ids[i as usize].as_str()).collect();
        crate::ui::text::list(&ids, usize::MAX)
    };
    let mut s = "\nmay run at the same time (with run --jobs):\n".to_string();
    for p in &plan.parallel {
        let with = match p.tasks == p.with {
            true => "each other".to_string(),
            false => list(&p.with),
        };
        s.push_str(&clean(&format!(
            "  {}:{}  {} may run beside {with}  ({})",
            plan.plan,
            p.line,
            list(&p.tasks),
            p.reason
        )));
        s.push('\n');
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
