//! The task family's units become tasks: every definition of an ID
//! gathered (the same phase as a checklist item, a details heading and a
//! progress-table row is one task), an ID defined twice with different
//! titles split in two, containers that only group sub-tasks set aside,
//! marks read with where they are written, and each task placed where its
//! ID first appears.

use std::collections::{HashMap, HashSet};

use super::extract::{Aside, Reading, Tasks};
use super::family::Family;
use super::label::{Shape, key, parent_number};
use super::marks::{self, Mark};
use super::units::Kind;
use super::{DependsOn, Task, Warning};

/// One task before its marks are read.
struct Draft {
    id: String,
    /// Defining units: the first is where the title and line come from.
    defs: Vec<usize>,
    /// Units that only mention it (a queue, a summary), for its position.
    seen: Vec<usize>,
    /// Which label of the unit defines it (0 the main one, then extras).
    label_of: HashMap<usize, usize>,
}

impl Reading<'_> {
    /// The shape's units outside the scope that may still define a task:
    /// not in another milestone's region, not set aside.
    fn outside(&self, i: usize) -> Option<bool> {
        let u = &self.units[i];
        if self.scope.in_other(u.start) {
            return None;
        }
        match self.aside_of(u) {
            Some(Aside::Section(_)) => None,
            Some(Aside::Mention) => Some(false),
            None => Some(true),
        }
    }

    pub(super) fn family_tasks(&mut self, f: &Family, sub: Option<&Family>) -> Tasks {
        let mut members: Vec<usize> = f.members.clone();
        members.extend(sub.iter().flat_map(|s| s.members.iter().copied()));
        members.sort_unstable();
        let members = self.without_notes(members);
        let shapes: Vec<Shape> = std::iter::once(f.shape.clone())
            .chain(sub.map(|s| s.shape.clone()))
            .collect();
        let mut drafts: Vec<Draft> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for &i in &members {
            let u = &self.units[i];
            for (n, l) in u.label.iter().chain(&u.extra).enumerate() {
                let at = *by_key.entry(key(&l.id)).or_insert_with(|| {
                    drafts.push(Draft {
                        id: l.id.clone(),
                        defs: Vec::new(),
                        seen: Vec::new(),
                        label_of: HashMap::new(),
                    });
                    drafts.len() - 1
                });
                drafts[at].defs.push(i);
                drafts[at].label_of.insert(i, n);
            }
        }
        let in_scope: HashSet<usize> = members.iter().copied().collect();
        self.fold_in(&shapes, &in_scope, &mut drafts, &mut by_key);
        let drafts = self.split_duplicates(drafts);
        self.finish(drafts, &f.shape, sub.map(|s| &s.shape))
    }

    /// In a checklist, a plain bullet that starts with an ID it does not
    /// otherwise define is a note ("- T010: see below"); in a plan of
    /// numbered items, one stray checkbox changes nothing.
    fn without_notes(&mut self, members: Vec<usize>) -> Vec<usize> {
        let units = self.units;
        let boxed: HashSet<String> = members
            .iter()
            .filter(|&&i| units[i].kind == Kind::Checkbox)
            .filter_map(|&i| units[i].label.as_ref().map(|l| key(&l.id)))
            .collect();
        let plain = members
            .iter()
            .filter(|&&i| matches!(units[i].kind, Kind::Item | Kind::Line))
            .count();
        if boxed.is_empty() || boxed.len() < plain {
            return members;
        }
        let mut kept = Vec::new();
        for i in members {
            let u = &units[i];
            let note = matches!(u.kind, Kind::Item | Kind::Line)
                && u.label
                    .as_ref()
                    .is_some_and(|l| !boxed.contains(&key(&l.id)));
            if note {
                self.leave_out(i, "a note in a checklist of tasks, not a task".into());
            } else {
                kept.push(i);
            }
        }
        kept
    }

    /// Other definitions of the tasks' IDs anywhere in the document (a
    /// details heading, a progress-table row), and phases inserted after a
    /// task (`7.1` after `7`) that no other milestone holds.
    fn fold_in(
        &self,
        shapes: &[Shape],
        in_scope: &HashSet<usize>,
        drafts: &mut Vec<Draft>,
        by_key: &mut HashMap<String, usize>,
    ) {
        let inserted = !self.scope.whole && matches!(shapes[0], Shape::Numbered(_));
        for (i, u) in self.units.iter().enumerate() {
            let Some(main) = &u.label else { continue };
            if in_scope.contains(&i) || !shapes.contains(&main.shape) {
                continue;
            }
            let Some(defines) = self.outside(i) else {
                continue;
            };
            for (n, l) in std::iter::once(main).chain(&u.extra).enumerate() {
                let k = key(&l.id);
                let at = match by_key.get(&k) {
                    Some(&at) => at,
                    None if inserted && defines && self.extends_a_task(&l.id, by_key) => {
                        drafts.push(Draft {
                            id: l.id.clone(),
                            defs: Vec::new(),
                            seen: Vec::new(),
                            label_of: HashMap::new(),
                        });
                        by_key.insert(k, drafts.len() - 1);
                        drafts.len() - 1
                    }
                    None => continue,
                };
                if defines {
                    drafts[at].defs.push(i);
                    drafts[at].label_of.insert(i, n);
                } else {
                    drafts[at].seen.push(i);
                }
            }
        }
    }

    fn extends_a_task(&self, id: &str, by_key: &HashMap<String, usize>) -> bool {
        let mut at = parent_number(id);
        while let Some(p) = at {
            if by_key.contains_key(&key(p)) {
                return true;
            }
            at = parent_number(p);
        }
        false
    }

    /// An ID defined twice by the same kind of unit with different titles
    /// is two tasks: the second is `ID#2`. The same title twice is one task.
    fn split_duplicates(&mut self, drafts: Vec<Draft>) -> Vec<Draft> {
        let mut out = Vec::new();
        for mut d in drafts {
            let mut extra: Vec<Draft> = Vec::new();
            let first = d.defs[0];
            let mut kept = vec![first];
            for &i in &d.defs[1..] {
                let (a, b) = (&self.units[first], &self.units[i]);
                let same_kind = a.kind == b.kind && a.kind != Kind::Row;
                if same_kind && !similar(&a.title, &b.title) {
                    let n = extra.len() + 2;
                    self.warnings.push(Warning {
                        line: Some(self.line(i)),
                        message: format!(
                            "{} is defined twice: \"{}\" (line {}) and \"{}\" (line {}); the second is {}#{n}",
                            d.id,
                            a.title,
                            self.line(first),
                            b.title,
                            self.line(i),
                            d.id
                        ),
                    });
                    extra.push(Draft {
                        id: format!("{}#{n}", d.id),
                        defs: vec![i],
                        seen: Vec::new(),
                        label_of: HashMap::from([(i, d.label_of.get(&i).copied().unwrap_or(0))]),
                    });
                } else {
                    kept.push(i);
                }
            }
            d.defs = kept;
            out.push(d);
            out.extend(extra);
        }
        out
    }
}

/// One mark of a task and where it is written.
struct Vote {
    mark: Mark,
    line: usize,
    /// What says so: `[x]`, `"Complete"`, `its title`.
    what: String,
}

impl Vote {
    fn new(mark: Mark, line: usize, what: String) -> Vote {
        Vote { mark, line, what }
    }
}

/// The container a task sits in: the defined ID its number extends (`2`
/// for `2.3`), a container of that ID first.
fn parent_of(dr: &Draft, drafts: &[Draft], by_key: &HashMap<String, usize>) -> Option<String> {
    let p = parent_number(&dr.id)?;
    by_key.get(&key(p)).map(|&d| drafts[d].id.clone())
}

/// A unit titled as an epic (`Epic: Sync`, `[Epic] Sync`): the issue that
/// gathers the others, not one of the units of work.
fn is_epic(u: &super::units::Unit) -> bool {
    let t = u.title.trim_start();
    let head = t.get(..4).is_some_and(|h| h.eq_ignore_ascii_case("epic"));
    let rest = t.get(4..).unwrap_or("").trim_start();
    head && (rest.starts_with([':', '—', '–', '-']))
        || u.tags.iter().any(|g| g.eq_ignore_ascii_case("epic"))
}

/// Two titles say the same thing: most of their words are shared (a path
/// written two ways does not make two tasks).
fn similar(a: &str, b: &str) -> bool {
    let words = |s: &str| -> HashSet<String> {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    let shared = a.intersection(&b).count();
    let all = a.union(&b).count();
    all == 0 || shared * 2 >= all
}

impl Reading<'_> {
    /// Containers, marks, positions: the drafts become tasks in order.
    fn finish(&mut self, drafts: Vec<Draft>, shape: &Shape, sub: Option<&Shape>) -> Tasks {
        let def_of: HashMap<usize, usize> = drafts
            .iter()
            .enumerate()
            .flat_map(|(d, dr)| dr.defs.iter().map(move |&u| (u, d)))
            .collect();
        let containers = self.containers(&drafts, &def_of, sub);
        let open_children = self.open_children(&def_of);
        let open = |d: usize| open_children.get(&d).copied();
        let positions = self.positions(&drafts);
        let mut order: Vec<usize> = (0..drafts.len()).collect();
        order.sort_by_key(|&d| positions[d]);
        let epics: HashSet<usize> = (0..drafts.len())
            .filter(|d| drafts[*d].defs.iter().any(|&u| is_epic(&self.units[u])))
            .collect();
        let some_work = epics.len() + containers.len() < drafts.len();
        // Per ID key: the container that holds it, else the first draft.
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for (d, dr) in drafts.iter().enumerate() {
            let e = by_key.entry(key(&dr.id)).or_insert(d);
            if containers.contains(&d) && !containers.contains(e) {
                *e = d;
            }
        }
        let mut list = Vec::new();
        let mut defs = Vec::new();
        for d in order {
            let dr = &drafts[d];
            if containers.contains(&d) {
                continue;
            }
            if some_work && epics.contains(&d) {
                self.leave_out(
                    dr.defs[0],
                    "it is the epic that holds the other tasks".into(),
                );
                continue;
            }
            let votes = self.votes(dr, open(d));
            if let Some(v) = votes.iter().find(|v| v.mark == Mark::LeftOut) {
                let why = if v.what == "struck through" {
                    "it is struck through".to_string()
                } else if v.what == "its title" {
                    format!("its title marks it left out (line {})", v.line)
                } else {
                    format!("it is marked {} (line {})", v.what, v.line)
                };
                self.leave_out(dr.defs[0], why);
                continue;
            }
            let parent = parent_of(dr, &drafts, &by_key);
            list.push(self.task(dr, &votes, parent));
            defs.push(dr.defs.clone());
        }
        Tasks {
            list,
            defs,
            shape: shape.clone(),
        }
    }

    fn task(&mut self, dr: &Draft, votes: &[Vote], parent: Option<String>) -> Task {
        let first = dr.defs[0];
        let u = &self.units[first];
        let n = dr.label_of.get(&first).copied().unwrap_or(0);
        let l = u.label.iter().chain(&u.extra).nth(n);
        let has = |m: Mark| votes.iter().any(|v| v.mark == m);
        let done = has(Mark::Done) && !has(Mark::NotDone);
        if has(Mark::Done) && has(Mark::NotDone) {
            let says = |m: Mark| -> Vec<String> {
                votes
                    .iter()
                    .filter(|v| v.mark == m)
                    .map(|v| format!("{} (line {})", v.what, v.line))
                    .collect()
            };
            self.disagreements.push(format!(
                "{} counts as not done: marked done by {}, not done by {}",
                dr.id,
                crate::ui::text::list(&says(Mark::Done), 3),
                crate::ui::text::list(&says(Mark::NotDone), 3)
            ));
        }
        Task {
            id: dr.id.clone(),
            label: l.and_then(|l| l.word.as_ref().map(|_| l.display())),
            title: u.title.clone(),
            line: self.line(first),
            done,
            optional: dr.defs.iter().any(|&i| self.units[i].optional),
            parent,
            depends_on: DependsOn::default(),
            runner: None,
            verify: Vec::new(),
            allow_empty: false,
            parallel: dr
                .defs
                .iter()
                .any(|&i| self.units[i].tags.iter().any(|g| g == "P")),
        }
    }

    /// Drafts that only group others: a heading whose section holds other
    /// tasks; a numbered item with sub-tasks and no text of its own; a task
    /// whose sub-tasks extend its number (`Task 1` with `1.1`, `1.2`).
    fn containers(
        &self,
        drafts: &[Draft],
        def_of: &HashMap<usize, usize>,
        sub: Option<&Shape>,
    ) -> HashSet<usize> {
        let mut holds_others: HashSet<usize> = HashSet::new();
        for (&u, &d) in def_of {
            let mut at = self.units[u].parent;
            while let Some(p) = at {
                if let Some(&o) = def_of.get(&p)
                    && o != d
                {
                    holds_others.insert(o);
                }
                at = self.units[p].parent;
            }
        }
        let keys: HashSet<String> = drafts.iter().map(|d| key(&d.id)).collect();
        let mut has_children: HashSet<String> = HashSet::new();
        for d in drafts {
            let mut at = parent_number(&d.id);
            while let Some(p) = at {
                if keys.contains(&key(p)) {
                    has_children.insert(key(p));
                }
                at = parent_number(p);
            }
        }
        let mut out = HashSet::new();
        for (d, dr) in drafts.iter().enumerate() {
            let heading = dr.defs.iter().any(|&u| self.units[u].kind == Kind::Heading);
            let holds = holds_others.contains(&d);
            let grouped = has_children.contains(&key(&dr.id));
            // A section of sub-tasks (`## 2a.` over `2a.1`), or one with no
            // work of its own, groups; `## Task 1` with steps and a `### Task
            // 1a` inside is still a task.
            let empty = || dr.defs.iter().all(|&u| self.own_text_empty(u, def_of));
            let section = heading && holds && (grouped || empty());
            if section || grouped && empty() || sub.is_some() && holds {
                out.insert(d);
            }
        }
        out
    }

    /// Whether a unit has no text of its own besides its title and the
    /// task units nested in it.
    fn own_text_empty(&self, u: usize, def_of: &HashMap<usize, usize>) -> bool {
        let unit = &self.units[u];
        if unit.kind == Kind::Row {
            return true;
        }
        let mut at = unit.title_end.min(unit.extent.end);
        let mut i = u + 1;
        while i < self.units.len() && self.units[i].start < unit.extent.end {
            let n = &self.units[i];
            if def_of.contains_key(&i) && n.start >= at {
                if !self.doc.text[at..n.start].trim().is_empty() {
                    return false;
                }
                at = n.extent.end.max(at);
            }
            i += 1;
        }
        self.doc.text[at.min(unit.extent.end)..unit.extent.end]
            .trim()
            .is_empty()
    }

    /// Drafts with an open checkbox inside one of their definitions (not a
    /// task itself, not optional, not struck through).
    fn open_children(&self, def_of: &HashMap<usize, usize>) -> HashMap<usize, usize> {
        let mut out = HashMap::new();
        for (i, u) in self.units.iter().enumerate() {
            let open = u.kind == Kind::Checkbox
                && !u.check.is_some_and(|c| c == 'x' || c == 'X')
                && !u.optional
                && !u.struck
                && !def_of.contains_key(&i);
            if !open {
                continue;
            }
            let mut at = u.parent;
            while let Some(p) = at {
                if let Some(&d) = def_of.get(&p) {
                    out.entry(d).or_insert(self.line(i));
                    break;
                }
                at = self.units[p].parent;
            }
        }
        out
    }

    /// Every mark of every definition, with where it is written.
    fn votes(&self, dr: &Draft, open_child: Option<usize>) -> Vec<Vote> {
        let mut v = Vec::new();
        for &i in &dr.defs {
            let u = &self.units[i];
            let line = self.line(i);
            if u.struck {
                v.push(Vote::new(Mark::LeftOut, line, "struck through".into()));
            }
            if let Some(c) = u.check {
                v.push(Vote::new(marks::checkbox(c), line, format!("[{c}]")));
            }
            if let Some((st, m)) = u
                .status
                .as_deref()
                .and_then(|s| Some((s, marks::classify(s)?)))
            {
                v.push(Vote::new(m, line, format!("\"{}\"", st.trim())));
            }
            if let Some(m) = u.title_mark {
                v.push(Vote::new(m, line, "its title".into()));
            }
            if !matches!(u.kind, Kind::Checkbox | Kind::Row) {
                let body = &self.doc.text[u.title_end.min(u.extent.end)..u.extent.end];
                if let Some((l, m)) = body
                    .lines()
                    .take(40)
                    .find_map(|l| Some((l, marks::status_line(l)?)))
                {
                    v.push(Vote::new(m, line, format!("\"{}\"", l.trim())));
                }
            }
        }
        if let Some(line) = open_child.filter(|_| v.iter().any(|v| v.mark == Mark::Done)) {
            v.push(Vote::new(
                Mark::NotDone,
                line,
                "an open item inside it".into(),
            ));
        }
        v
    }

    /// Where each task sits in the sequence: where its ID first appears (a
    /// queue at the top of the document counts), and a sub-task sits where
    /// its parent does (Kiro lists finished parents at the top and their
    /// sub-tasks at the end).
    fn positions(&self, drafts: &[Draft]) -> Vec<(usize, usize)> {
        let first: Vec<usize> = drafts
            .iter()
            .map(|d| {
                let own = d.defs.iter().map(|&i| self.units[i].start).min();
                let seen = d.seen.iter().map(|&i| self.units[i].start).min();
                own.into_iter().chain(seen).min().unwrap_or(usize::MAX)
            })
            .collect();
        let by_key: HashMap<String, usize> = drafts
            .iter()
            .enumerate()
            .map(|(i, d)| (key(&d.id), i))
            .collect();
        drafts
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let anchor = parent_number(&d.id)
                    .and_then(|p| by_key.get(&key(p)))
                    .map_or(first[i], |&p| first[p].min(first[i]));
                (anchor, first[i])
            })
            .collect()
    }
}
