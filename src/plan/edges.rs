//! Reading a document's dependency statements for its tasks: every text
//! block (item, paragraph, row, HTML block, record field) once, its owner
//! (the task whose text it is) found by the unit tree, not by scanning.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::deps::{self, Context, Statement, Strength};
use super::extract::Tasks;
use super::groups::{self, Group};
use super::ids::Known;
use super::label::key;
use super::markdown::Doc;
use super::scope;
use super::units::{self, Kind, Unit};
use super::{Dependency, Parallel, Warning, parallel};

/// What the dependency reading found.
pub struct Read {
    pub deps: Vec<Dependency>,
    /// Per task: what it depends on, as indices into `names`.
    pub depends: Vec<Vec<u32>>,
    /// Task IDs in document order, then IDs outside the milestone.
    pub names: Vec<String>,
    pub warnings: Vec<Warning>,
    /// Tasks the plan says may run at the same time.
    pub parallel: Vec<Parallel>,
}

/// The innermost unit whose extent holds `offset`.
pub fn unit_at(units: &[Unit], offset: usize) -> Option<usize> {
    let mut at = units
        .partition_point(|u| u.start <= offset)
        .checked_sub(1)?;
    loop {
        if units[at].extent.contains(&offset) {
            return Some(at);
        }
        at = units[at].parent?;
    }
}

struct Reader<'a> {
    doc: &'a Doc<'a>,
    units: &'a [Unit],
    known: Known,
    task_of: HashMap<usize, u32>,
    groups: Vec<Group>,
    /// Per heading unit that is not a task: the tasks of its section.
    sections: HashMap<usize, Vec<u32>>,
    dep_sections: Vec<Range<usize>>,
    /// Every label the document defines, for telling a typo from an ID of
    /// another milestone.
    defined: HashSet<String>,
    deps: Vec<Dependency>,
    warnings: Vec<Warning>,
    parallel: Vec<Parallel>,
}

/// Read every dependency statement about `tasks`.
pub fn read(doc: &Doc<'_>, units: &[Unit], defs: &[Vec<usize>], tasks: &Tasks) -> Read {
    let mut known = Known::new(tasks.shape.clone());
    let mut task_of = HashMap::new();
    for (t, task) in tasks.list.iter().enumerate() {
        let i = known.add(&task.id);
        for &u in &defs[t] {
            task_of.insert(u, i);
            for (word, n) in &units[u].aliases {
                known.add_alias(word, n, i);
            }
        }
    }
    known.seal();
    for p in &doc.paragraphs {
        known.learn_names(&doc.text[p.clone()]);
    }
    for item in &doc.items {
        known.learn_names(&doc.text[item.range.start..units::title_end(doc, &item.range)]);
    }
    let mut r = Reader {
        doc,
        units,
        groups: Vec::new(),
        sections: HashMap::new(),
        dep_sections: scope::dependency_sections(doc),
        defined: units
            .iter()
            .filter_map(|u| u.label.as_ref().map(|l| key(&l.id)))
            .collect(),
        known,
        task_of,
        deps: Vec::new(),
        warnings: Vec::new(),
        parallel: Vec::new(),
    };
    r.groups = r.groups(defs, tasks);
    r.blocks();
    r.headings();
    r.fields();
    r.finish(tasks.list.len())
}

impl Reader<'_> {
    /// The task whose own text holds `offset`.
    fn owner(&self, offset: usize) -> Option<u32> {
        let mut at = unit_at(self.units, offset)?;
        loop {
            if let Some(&t) = self.task_of.get(&at) {
                return Some(t);
            }
            at = self.units[at].parent?;
        }
    }

    /// Phases and stories: each heading with the tasks under it, and each
    /// `[US1]` tag with the tasks that carry it.
    fn groups(&mut self, defs: &[Vec<usize>], tasks: &Tasks) -> Vec<Group> {
        let mut by_heading: HashMap<usize, Vec<u32>> = HashMap::new();
        let mut stories: Vec<(String, Vec<u32>)> = Vec::new();
        for (t, ds) in defs.iter().enumerate() {
            let t = t as u32;
            let Some(&first) = ds.first() else { continue };
            let mut at = self.units[first].parent;
            while let Some(p) = at {
                if self.units[p].kind == Kind::Heading {
                    let v = by_heading.entry(p).or_default();
                    if v.last() != Some(&t) {
                        v.push(t);
                    }
                }
                at = self.units[p].parent;
            }
            for tag in &self.units[first].tags {
                let tag = tag.to_lowercase();
                if tag.len() > 2
                    && tag.starts_with("us")
                    && tag[2..].bytes().all(|b| b.is_ascii_digit())
                {
                    match stories.iter_mut().find(|(a, _)| *a == tag) {
                        Some((_, v)) => v.push(t),
                        None => stories.push((tag, vec![t])),
                    }
                }
            }
        }
        let _ = tasks;
        self.sections = by_heading
            .iter()
            .filter(|(h, _)| !self.task_of.contains_key(h))
            .map(|(&h, t)| (h, t.clone()))
            .collect();
        let mut heads: Vec<(usize, Vec<u32>)> = by_heading.into_iter().collect();
        heads.sort_by_key(|(h, _)| *h);
        let mut out: Vec<Group> = heads
            .into_iter()
            .map(|(h, tasks)| {
                let mut aliases =
                    groups::aliases(&self.doc.text[self.doc.line_range(self.units[h].start)]);
                // `## 2. Calendars` is "slice 2", "section 2", … in prose.
                if let Some(l) = &self.units[h].label
                    && l.shape == super::label::Shape::Numbered(String::new())
                {
                    for w in groups::SECTION_WORDS {
                        aliases.push(format!("{w} {}", l.id));
                    }
                }
                Group { aliases, tasks }
            })
            .collect();
        out.extend(stories.into_iter().map(|(a, tasks)| Group {
            aliases: vec![a],
            tasks,
        }));
        out
    }

    /// Item first paragraphs, paragraphs, rows and HTML blocks, outside code.
    fn blocks(&mut self) {
        let doc = self.doc;
        let mut blocks: Vec<Range<usize>> = Vec::new();
        for item in &doc.items {
            blocks.push(item.range.start..units::title_end(doc, &item.range));
        }
        blocks.extend(doc.paragraphs.iter().cloned());
        blocks.extend(doc.html.iter().cloned());
        blocks.extend(doc.rows.iter().map(|r| r.range.clone()));
        blocks.retain(|b| !doc.in_code(b.start));
        for b in blocks {
            let owner = self.owner(b.start);
            let in_deps = self.dep_sections.iter().any(|r| r.contains(&b.start));
            let text = &doc.text[b.clone()];
            let cx = Context {
                owner,
                groups: in_deps.then_some(&self.groups[..]),
                sections: &self.groups,
                field: false,
                section: None,
            };
            for s in deps::statements(text, cx, &self.known) {
                let reason = match (in_deps, owner, s.strength) {
                    (_, _, Strength::Structured) => "a dependency field".to_string(),
                    (true, _, _) => format!("\"{}\" in a dependency section", s.phrase),
                    (false, Some(_), _) => format!("\"{}\" in the task's text", s.phrase),
                    (false, None, _) => format!("\"{}\" in prose", s.phrase),
                };
                self.add(s, b.start, reason);
            }
            let place = match (in_deps, owner) {
                (true, _) => "in a dependency section",
                (false, Some(_)) => "in the task's text",
                (false, None) => "in prose",
            };
            self.add_parallel(text, owner, b.start, place);
        }
    }

    /// What `text` (at `block`) says may run at the same time.
    fn add_parallel(&mut self, text: &str, owner: Option<u32>, block: usize, place: &str) {
        for s in parallel::statements(text, owner, &self.known) {
            self.parallel.push(Parallel {
                tasks: s.tasks,
                with: s.with,
                line: self.doc.line_of(block + s.offset),
                reason: format!("\"{}\" {place}", s.phrase),
            });
        }
    }

    /// A heading's own line: a task heading's note is the task's ("###
    /// Task 4: Export (after Task 2)"); a section heading's is its tasks'
    /// ("## 4. Reader (depends on 2.1 + 3.1)", "## 8. Tests (depends on 2–7)").
    fn headings(&mut self) {
        let doc = self.doc;
        for (u, unit) in self.units.iter().enumerate() {
            if unit.kind != Kind::Heading || doc.in_code(unit.start) {
                continue;
            }
            let owner = self.task_of.get(&u).copied();
            let section = self.sections.get(&u).filter(|_| owner.is_none());
            if owner.is_none() && section.is_none() {
                continue;
            }
            let line = doc.line_range(unit.start);
            let text = &doc.text[line.clone()];
            let cx = Context {
                owner,
                groups: Some(&self.groups[..]),
                sections: &self.groups,
                field: false,
                section: section.map(Vec::as_slice),
            };
            let found = deps::statements(text, cx, &self.known);
            for s in found {
                let reason = format!("\"{}\" in a heading", s.phrase);
                self.add(s, line.start, reason);
            }
            if let Some(owner) = owner {
                self.add_parallel(text, Some(owner), line.start, "in a heading");
            }
        }
    }

    /// A table's dependency cells and a record's field headings.
    fn fields(&mut self) {
        let mut found: Vec<(usize, String, String, u32)> = Vec::new();
        for (&u, &t) in &self.task_of {
            let unit = &self.units[u];
            for (header, cell) in &unit.depends {
                found.push((
                    unit.start,
                    cell.clone(),
                    format!("the \"{header}\" column"),
                    t,
                ));
            }
            for (at, text) in &unit.fields {
                found.push((*at, text.clone(), "a dependency field".to_string(), t));
            }
        }
        found.sort_by_key(|f| f.0);
        for (at, text, reason, t) in found {
            let table = reason.starts_with("the \"");
            let cx = Context {
                owner: Some(t),
                groups: None,
                sections: &[],
                field: table,
                section: None,
            };
            for s in deps::statements(&text, cx, &self.known) {
                let reason = if s.strength == Strength::Structured {
                    reason.clone()
                } else {
                    format!("\"{}\" in the task's text", s.phrase)
                };
                self.add(Statement { offset: 0, ..s }, at, reason);
            }
        }
    }

    fn add(&mut self, s: Statement, block: usize, reason: String) {
        let line = self.doc.line_of(block + s.offset);
        let (mut waits, mut on, external) = (s.waits, s.on, s.external);
        if s.pair && waits.len() == 1 && on.len() == 1 && waits[0] < on[0] {
            std::mem::swap(&mut waits[0], &mut on[0]);
        }
        for &w in &waits {
            if on.contains(&w) {
                self.warnings.push(Warning {
                    line: Some(line),
                    message: format!(
                        "{} depends on itself; that dependency is ignored",
                        self.known.id(w)
                    ),
                });
            }
        }
        if waits.len() == 1 {
            on.retain(|&o| o != waits[0]);
        }
        for e in &external {
            if !self.defined.contains(&key(e)) && looks_like_an_id(e) {
                for &w in &waits {
                    let id = self.known.id(w);
                    self.warnings.push(Warning {
                        line: Some(line),
                        message: format!(
                            "{id} depends on {e}, which this plan does not define; it does not hold up {id}"
                        ),
                    });
                }
            }
        }
        if waits.is_empty() || on.is_empty() && external.is_empty() {
            return;
        }
        self.deps.push(Dependency {
            waits,
            on,
            external,
            line,
            reason,
            strength: s.strength,
        });
    }

    /// Per task, what it depends on (tasks and outside IDs), first stated first.
    fn finish(mut self, n: usize) -> Read {
        // Statements as the document states them, top to bottom.
        self.deps.sort_by_key(|d| d.line);
        let mut names: Vec<String> = (0..n)
            .map(|i| self.known.id(i as u32).to_string())
            .collect();
        let mut external_index: HashMap<String, u32> = HashMap::new();
        let mut depends: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut stamp: Vec<u32> = Vec::new();
        let mut by_waiter: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (d, dep) in self.deps.iter().enumerate() {
            for &w in &dep.waits {
                by_waiter[w as usize].push(d);
            }
        }
        for (w, ds) in by_waiter.iter().enumerate() {
            for &d in ds {
                let dep = &self.deps[d];
                let ext = dep.external.iter().map(|e| {
                    let next = names.len() as u32;
                    let i = *external_index.entry(e.clone()).or_insert(next);
                    if i == next {
                        names.push(e.clone());
                    }
                    i
                });
                let own = dep.on.iter().copied().filter(|&i| i as usize != w);
                for i in own.chain(ext.collect::<Vec<_>>()) {
                    if stamp.len() <= i as usize {
                        stamp.resize(i as usize + 1, u32::MAX);
                    }
                    if stamp[i as usize] != w as u32 {
                        stamp[i as usize] = w as u32;
                        depends[w].push(i);
                    }
                }
            }
        }
        self.warnings.sort_by_key(|w| w.line);
        self.warnings.dedup();
        self.parallel.sort_by_key(|p| p.line);
        Read {
            deps: self.deps,
            depends,
            names,
            warnings: self.warnings,
            parallel: self.parallel,
        }
    }
}

/// An outside ID worth a warning when the document never defines it:
/// `TASK-009`, `T014`, `#12`, not a bare number.
fn looks_like_an_id(id: &str) -> bool {
    super::label::lexical(id).is_some()
}
