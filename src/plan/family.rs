//! Which units are the tasks: units whose labels share a shape form a
//! family; families are weighed within the milestone's scope, and nesting
//! decides between an outer and an inner family: steps that restart under
//! each task, sub-tasks that extend their task's number (`1.1` in `Task 1`),
//! sub-tasks namespaced by their phase (`F1-2` in `Fase 1`). Pure.

use std::collections::{HashMap, HashSet};

use super::label::{Shape, key, parent_number};
use super::units::{Kind, Unit};

/// One family: units whose labels share a shape.
#[derive(Debug, Clone)]
pub struct Family {
    pub shape: Shape,
    /// Unit indices, in document order.
    pub members: Vec<usize>,
    pub score: u32,
}

/// What a family that is not the task list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Steps or sub-items inside the tasks: part of them.
    Inside,
    /// Sections or phases around the tasks: they group them.
    Groups,
    /// Another scheme beside the tasks: left out.
    Other,
}

/// How the families of a scope were read.
#[derive(Debug, Default)]
pub struct Choice {
    /// The task family; `None` when no unit has a label.
    pub tasks: Option<Family>,
    /// Sub-tasks whose numbers extend the tasks' (`1.1` under `Task 1`).
    pub sub: Option<Family>,
    /// Every other family, its role and why it is not the task list.
    pub others: Vec<(Family, Role, String)>,
    /// When two families were close: what the reader was unsure about.
    pub unsure: Option<String>,
}

fn weight(kind: Kind) -> u32 {
    match kind {
        Kind::Checkbox | Kind::Block => 3,
        Kind::Heading | Kind::Row => 2,
        Kind::Item | Kind::Line => 1,
    }
}

/// Families among `candidates` (unit indices), strongest first.
pub fn families(units: &[Unit], candidates: &[usize]) -> Vec<Family> {
    let mut by_shape: HashMap<Shape, Vec<usize>> = HashMap::new();
    for &i in candidates {
        if let Some(l) = &units[i].label {
            by_shape.entry(l.shape.clone()).or_default().push(i);
        }
    }
    let mut out: Vec<Family> = by_shape
        .into_iter()
        .map(|(shape, members)| {
            let mut best: HashMap<String, u32> = HashMap::new();
            for &i in &members {
                let u = &units[i];
                for l in u.label.iter().chain(&u.extra) {
                    let w = best.entry(key(&l.id)).or_default();
                    *w = (*w).max(weight(u.kind));
                }
            }
            Family {
                shape,
                score: best.values().sum(),
                members,
            }
        })
        .collect();
    // Strongest first; the earliest family wins a tie.
    out.sort_by_key(|f| (std::cmp::Reverse(f.score), f.members[0]));
    out
}

/// The nearest ancestor of unit `i` that is a member of `of`.
fn ancestor(units: &[Unit], i: usize, of: &HashSet<usize>) -> Option<usize> {
    let mut at = units[i].parent;
    while let Some(p) = at {
        if of.contains(&p) {
            return Some(p);
        }
        at = units[p].parent;
    }
    None
}

/// How an inner family sits in an outer one.
struct Nesting {
    /// Most inner units sit inside outer units.
    inside: bool,
    /// Inner labels repeat under different outer units: steps.
    restarts: bool,
    /// Inner numbers extend their outer unit's (`1.1` in `Task 1`).
    extends: bool,
    /// Inner IDs carry their outer unit's number (`F1-2` in `Fase 1`).
    namespaced: bool,
}

fn nesting(units: &[Unit], outer: &Family, inner: &Family) -> Nesting {
    let set: HashSet<usize> = outer.members.iter().copied().collect();
    let mut inside = 0;
    let mut extends = 0;
    let mut namespaced = 0;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut restarts = false;
    for &i in &inner.members {
        let Some(a) = ancestor(units, i, &set) else {
            continue;
        };
        inside += 1;
        let (Some(l), Some(al)) = (&units[i].label, &units[a].label) else {
            continue;
        };
        if parent_number(&l.id).is_some_and(|p| key(p) == key(&al.id)) {
            extends += 1;
        }
        if let Shape::Prefixed(k) = &l.shape
            && k.contains('#')
            && let Some((prefix, _)) = l.id.rsplit_once('-')
        {
            let digits: String = prefix.chars().filter(char::is_ascii_digit).collect();
            namespaced += usize::from(!digits.is_empty() && key(&digits) == key(&al.id));
        }
        match seen.insert(key(&l.id), a) {
            Some(prev) if prev != a => restarts = true,
            _ => {}
        }
    }
    let most = |n: usize| n * 5 >= inner.members.len() * 4 && n > 0;
    Nesting {
        inside: most(inside),
        restarts,
        extends: most(extends),
        namespaced: most(namespaced),
    }
}

/// A family of bare-numbered headings (`## 2. API`) whose sections hold
/// other units of work (checklist items without IDs, or another family that
/// does not restart under each heading) is the document's sections, not
/// its tasks.
fn numbered_sections(units: &[Unit], f: &Family, all: &[Family], unlabelled: &[usize]) -> bool {
    let headings = f.members.iter().all(|&i| units[i].kind == Kind::Heading);
    if !headings || f.shape != Shape::Numbered(String::new()) {
        return false;
    }
    let set: HashSet<usize> = f.members.iter().copied().collect();
    let holds_boxes = unlabelled
        .iter()
        .any(|&i| ancestor(units, i, &set).is_some());
    holds_boxes
        || all.iter().any(|g| {
            if g.shape == f.shape {
                return false;
            }
            let n = nesting(units, f, g);
            n.inside && !n.restarts
        })
}

/// Choose the task family among `candidates`; `unlabelled` are the
/// checkbox items without a label.
pub fn choose(units: &[Unit], candidates: &[usize], unlabelled: &[usize]) -> Choice {
    let found = families(units, candidates);
    let mut choice = Choice::default();
    let mut all = Vec::new();
    for f in &found {
        if numbered_sections(units, f, &found, unlabelled) {
            choice.others.push((
                f.clone(),
                Role::Groups,
                "numbered sections that group the units of work".into(),
            ));
        } else {
            all.push(f.clone());
        }
    }
    if all.is_empty() {
        return choice;
    }
    let best = settle(units, &all);
    let tasks = all.remove(best);
    for f in all {
        let outer = nesting(units, &tasks, &f);
        let inner = nesting(units, &f, &tasks);
        let items = f
            .members
            .iter()
            .all(|&i| matches!(units[i].kind, Kind::Checkbox | Kind::Item));
        let (role, reason) = if outer.inside && outer.extends && items && choice.sub.is_none() {
            choice.sub = Some(f);
            continue;
        } else if outer.inside {
            let r = format!("{} inside the tasks", plural_kind(units, &f));
            (Role::Inside, r)
        } else if inner.inside {
            let r = format!("{} that group the tasks", plural_kind(units, &f));
            (Role::Groups, r)
        } else {
            if choice.unsure.is_none() && f.score * 4 >= tasks.score * 3 {
                choice.unsure = Some(format!(
                    "two kinds of units compete: {} ({}) and {} ({}); the first were taken",
                    tasks.shape.describe(),
                    tasks.members.len(),
                    f.shape.describe(),
                    f.members.len()
                ));
            }
            let r = format!("another kind of ID than the tasks ({})", f.shape.describe());
            (Role::Other, r)
        };
        choice.others.push((f, role, reason));
    }
    choice.tasks = Some(tasks);
    choice
}

/// Start from the strongest family and move between nested families until
/// none is a better reading: outward when the inner units are steps that
/// restart under each outer unit, or sub-tasks namespaced by several outer
/// units (`F1-2` in `Fase 1`); inward when the inner units fill most of the
/// outer ones (`TASK-001` items in `Slice 1` headings), never into a
/// `<task>` element.
fn settle(units: &[Unit], all: &[Family]) -> usize {
    let mut best = 0;
    for _ in 0..all.len() {
        let mut moved = false;
        for i in 0..all.len() {
            if i == best {
                continue;
            }
            let out = nesting(units, &all[i], &all[best]);
            let outward =
                out.inside && (out.restarts || out.namespaced && distinct(units, &all[i]) >= 2);
            let inn = nesting(units, &all[best], &all[i]);
            let held = inn.namespaced && distinct(units, &all[best]) >= 2;
            // `<task>` elements are the document declaring its units: the
            // labelled items inside one are its steps.
            let declared = all[best]
                .members
                .iter()
                .all(|&m| units[m].kind == Kind::Block);
            let inward = inn.inside
                && !declared
                && !inn.restarts
                && !inn.extends
                && !held
                && fills(units, &all[best], &all[i]);
            if outward || inward {
                best = i;
                moved = true;
                break;
            }
        }
        if !moved {
            break;
        }
    }
    best
}

/// Whether the inner family's units sit in at least half of the outer
/// family's units that can hold anything.
fn fills(units: &[Unit], outer: &Family, inner: &Family) -> bool {
    let holders: HashSet<usize> = outer
        .members
        .iter()
        .copied()
        .filter(|&i| units[i].kind != Kind::Row)
        .collect();
    let filled: HashSet<usize> = inner
        .members
        .iter()
        .filter_map(|&i| ancestor(units, i, &holders))
        .collect();
    !holders.is_empty() && filled.len() * 2 >= holders.len()
}

fn distinct(units: &[Unit], f: &Family) -> usize {
    f.members
        .iter()
        .filter_map(|&i| units[i].label.as_ref().map(|l| key(&l.id)))
        .collect::<HashSet<_>>()
        .len()
}

fn plural_kind(units: &[Unit], f: &Family) -> String {
    let kind = units[f.members[0]].kind;
    let same = f.members.iter().all(|&i| units[i].kind == kind);
    if same {
        format!("{}s", kind.describe())
    } else {
        "units".to_string()
    }
}
