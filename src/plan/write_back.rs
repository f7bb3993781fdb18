//! Marking a task done in the plan's own text, as its checkpoint does:
//! only the bytes of the task's marks change (`[ ]` → `[x]`, a status
//! word, a `✅` where the document puts one on its done tasks), never code
//! blocks, never another task's line. The edited text is read again, and
//! kept only if that task now reads as done and every other task reads as
//! before. Pure: text in, text out.

use std::collections::HashSet;
use std::ops::Range;

use super::extract::{Tasks, with_tasks};
use super::markdown::Doc;
use super::marks::{self, Mark};
use super::units::{Kind, Unit, strip_list_marker};

/// What marking a task done in a plan's text came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteBack {
    /// The new text, and the byte ranges of the old text it replaced.
    Marked {
        text: String,
        changed: Vec<Range<usize>>,
    },
    /// The task reads as done already.
    AlreadyDone,
    /// The document has no mark for the task, and no `✅` on done tasks
    /// like it: nothing to write.
    NoMark,
    /// The edit would not read as the task done, or would change how
    /// another task reads; or the document no longer holds the task.
    Unsafe(String),
}

/// One replacement in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edit {
    at: Range<usize>,
    with: String,
}

/// Mark task `id` of `milestone` done in `text`.
pub fn mark_done(text: &str, milestone: &str, id: &str) -> WriteBack {
    let found = with_tasks(text, milestone, |doc, units, tasks| {
        let k = tasks.list.iter().position(|t| t.id == id)?;
        let done: Vec<(String, bool)> = tasks.list.iter().map(|t| (t.id.clone(), t.done)).collect();
        let edits = if tasks.list[k].done {
            Vec::new()
        } else {
            edits_for(doc, units, tasks, k)
        };
        Some((done, edits))
    });
    let Some(Some((before, edits))) = found else {
        return WriteBack::Unsafe("the plan no longer holds it".to_string());
    };
    if before.iter().any(|(t, done)| t == id && *done) {
        return WriteBack::AlreadyDone;
    }
    if edits.is_empty() {
        return WriteBack::NoMark;
    }
    let (new, changed) = apply(text, edits);
    let after = with_tasks(&new, milestone, |_, _, tasks| {
        tasks
            .list
            .iter()
            .map(|t| (t.id.clone(), t.done))
            .collect::<Vec<_>>()
    });
    let expected: Vec<(String, bool)> = before
        .into_iter()
        .map(|(t, done)| {
            let now = done || t == id;
            (t, now)
        })
        .collect();
    let Some(after) = after else {
        return WriteBack::Unsafe("marking it would make the plan unreadable".to_string());
    };
    if after == expected {
        return WriteBack::Marked { text: new, changed };
    }
    let others = |list: &[(String, bool)]| -> Vec<(String, bool)> {
        list.iter().filter(|(t, _)| t != id).cloned().collect()
    };
    if others(&after) == others(&expected) {
        // Its steps alone, say, with no mark of its own: it would still
        // read as not done, so nothing is written.
        return WriteBack::NoMark;
    }
    WriteBack::Unsafe("marking it would change how the plan reads other tasks".to_string())
}

fn apply(text: &str, mut edits: Vec<Edit>) -> (String, Vec<Range<usize>>) {
    edits.sort_by_key(|e| e.at.start);
    edits.dedup_by(|b, a| b.at.start < a.at.end);
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for e in &edits {
        out.push_str(&text[at..e.at.start]);
        out.push_str(&e.with);
        at = e.at.end;
    }
    out.push_str(&text[at..]);
    (out, edits.into_iter().map(|e| e.at).collect())
}

/// Every edit that marks task `k` done: its own marks, the open steps
/// inside it, the box of a container whose every item is then ticked, or a
/// `✅` where the document's done tasks carry one.
fn edits_for(doc: &Doc<'_>, units: &[Unit], tasks: &Tasks, k: usize) -> Vec<Edit> {
    let defining: HashSet<usize> = tasks.defs.iter().flatten().copied().collect();
    let mut edits = Vec::new();
    let mut has_mark = false;
    for &u in &tasks.defs[k] {
        let unit = &units[u];
        has_mark |= unit.check.is_some() || unit.status.is_some() || unit.title_mark.is_some();
        if let Some(e) = tick(doc, unit) {
            edits.push(e);
        }
        edits.extend(status_edit(doc, units, unit));
        edits.extend(title_edit(doc, unit));
        if !matches!(unit.kind, Kind::Checkbox | Kind::Row) {
            let (edit, found) = status_line_edit(doc, unit);
            has_mark |= found;
            edits.extend(edit);
        }
        edits.extend(open_steps(doc, units, u, &defining));
    }
    if !has_mark {
        edits.extend(check_mark(doc, units, tasks, k));
    }
    let ticked: Vec<usize> = edits.iter().map(|e| e.at.start).collect();
    for &u in &tasks.defs[k] {
        edits.extend(containers(doc, units, u, &defining, &ticked));
    }
    edits.retain(|e| !doc.in_code(e.at.start));
    edits
}

/// The byte range of a checkbox item's mark character (`[ ]`'s space).
fn box_at(doc: &Doc<'_>, unit: &Unit) -> Option<Range<usize>> {
    let line = doc.line_range(unit.start);
    let text = &doc.text[line.clone()];
    let (rest, _) = strip_list_marker(text)?;
    let at = line.start + (rest.as_ptr() as usize - text.as_ptr() as usize) + 1;
    let c = doc.text[at..].chars().next()?;
    Some(at..at + c.len_utf8())
}

fn is_open(unit: &Unit) -> bool {
    unit.kind == Kind::Checkbox && !matches!(unit.check, Some('x' | 'X'))
}

fn tick(doc: &Doc<'_>, unit: &Unit) -> Option<Edit> {
    if !is_open(unit) {
        return None;
    }
    Some(Edit {
        at: box_at(doc, unit)?,
        with: "x".into(),
    })
}

/// Open checkboxes inside task unit `u` that are not tasks themselves: its
/// steps. Left open, they would make the ticked task read as not done.
fn open_steps(doc: &Doc<'_>, units: &[Unit], u: usize, defining: &HashSet<usize>) -> Vec<Edit> {
    let mut out = Vec::new();
    for (i, step) in units.iter().enumerate().skip(u + 1) {
        if step.start >= units[u].extent.end {
            break;
        }
        let mut at = step.parent;
        while let Some(p) = at.filter(|p| *p != u && !defining.contains(p)) {
            at = units[p].parent;
        }
        let own = at == Some(u) && !defining.contains(&i);
        if own && !step.optional && !step.struck {
            out.extend(tick(doc, step));
        }
    }
    out
}

/// The boxes of checkbox items that hold the task and are no task
/// themselves (Kiro's `- [ ] 2.` over `2.1`, `2.2`), once every required
/// item inside them is ticked or being ticked.
fn containers(
    doc: &Doc<'_>,
    units: &[Unit],
    u: usize,
    defining: &HashSet<usize>,
    ticked: &[usize],
) -> Vec<Edit> {
    let mut out = Vec::new();
    let mut at = units[u].parent;
    while let Some(p) = at {
        let c = &units[p];
        if !is_open(c) || defining.contains(&p) {
            break;
        }
        let all = units
            .iter()
            .skip(p + 1)
            .take_while(|i| i.start < c.extent.end)
            .filter(|i| i.kind == Kind::Checkbox && !i.optional && !i.struck)
            .all(|i| !is_open(i) || box_at(doc, i).is_some_and(|b| ticked.contains(&b.start)));
        if !all {
            break;
        }
        out.extend(tick(doc, c));
        at = c.parent;
    }
    out
}

/// What a done status reads as in this document: another done status
/// written the same way (`✅ Done`, `Complete`), else `Done` in the case and
/// with the symbol the open one was written with.
fn done_word(open: &str, others: impl Iterator<Item = String>) -> String {
    if let Some(seen) = others
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty() && marks::classify(s) == Some(Mark::Done) && s.len() <= 24)
    {
        return seen;
    }
    let open = open.trim();
    let word = if open.chars().any(char::is_lowercase) && !open.chars().any(char::is_uppercase) {
        "done"
    } else if !open.chars().any(char::is_lowercase) && open.chars().any(char::is_uppercase) {
        "DONE"
    } else {
        "Done"
    };
    let symbol = open
        .chars()
        .next()
        .is_some_and(|c| !c.is_ascii() && !c.is_alphanumeric());
    let only_symbol = !open.chars().any(char::is_alphanumeric);
    match (only_symbol, symbol) {
        (true, _) => "✅".to_string(),
        (false, true) => format!("✅ {word}"),
        (false, false) => word.to_string(),
    }
}

/// A table row's status cell, or a `# Status:` field heading of a record.
fn status_edit(doc: &Doc<'_>, units: &[Unit], unit: &Unit) -> Option<Edit> {
    let status = unit.status.as_deref()?;
    if marks::classify(status) != Some(Mark::NotDone) {
        return None;
    }
    if unit.kind == Kind::Row {
        return cell_edit(doc, unit);
    }
    let (start, _) = unit
        .fields
        .iter()
        .find(|(_, t)| t.trim_start().to_lowercase().starts_with("status"))?;
    let others = units
        .iter()
        .flat_map(|u| u.fields.iter())
        .filter(|(_, t)| t.trim_start().to_lowercase().starts_with("status"))
        .filter_map(|(_, t)| t.split_once(':').map(|(_, v)| v.to_string()));
    value_edit(doc, *start, ':', |open| done_word(open, others))
}

/// Replace what follows `sep` on the line at `offset` (up to closing markup).
fn value_edit(
    doc: &Doc<'_>,
    offset: usize,
    sep: char,
    word: impl FnOnce(&str) -> String,
) -> Option<Edit> {
    let line = doc.line_range(offset);
    let text = &doc.text[line.clone()];
    let after = text.find(sep)? + sep.len_utf8();
    let value = &text[after..];
    let lead = value.len() - value.trim_start_matches([' ', '*', '_']).len();
    let inner = value[lead..].trim_end_matches([' ', '*', '_', '\r']);
    let start = line.start + after + lead;
    Some(Edit {
        at: start..start + inner.len(),
        with: word(inner),
    })
}

/// A table row's status cell: the word replaced, the cell's width kept
/// when the new word fits in it.
fn cell_edit(doc: &Doc<'_>, unit: &Unit) -> Option<Edit> {
    let row = doc.rows.iter().find(|r| r.range.start == unit.start)?;
    let col = row
        .header
        .iter()
        .position(|h| super::table::is_status_header(h))?;
    let cell = cell_range(doc, row.range.start, col)?;
    let others = doc
        .rows
        .iter()
        .filter(|r| r.table == row.table && r.range.start != row.range.start)
        .filter_map(|r| r.cells.get(col).cloned());
    let old = &doc.text[cell.clone()];
    let word = done_word(old, others);
    let width = old.chars().count();
    let with = if word.chars().count() + 2 <= width {
        format!(" {word}{}", " ".repeat(width - word.chars().count() - 1))
    } else {
        format!(" {word} ")
    };
    Some(Edit { at: cell, with })
}

/// The source bytes of cell `col` of the table row at `offset`, between its pipes.
fn cell_range(doc: &Doc<'_>, offset: usize, col: usize) -> Option<Range<usize>> {
    let line = doc.line_range(offset);
    let text = &doc.text[line.clone()];
    let mut pipes: Vec<usize> = Vec::new();
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'|' && (i == 0 || bytes[i - 1] != b'\\') {
            pipes.push(i);
        }
    }
    let leading = text[..pipes.first().copied()?].trim().is_empty();
    let starts: Vec<usize> = if leading {
        pipes.iter().map(|p| p + 1).collect()
    } else {
        std::iter::once(0)
            .chain(pipes.iter().map(|p| p + 1))
            .collect()
    };
    let start = *starts.get(col)?;
    let end = pipes.iter().copied().find(|&p| p >= start)?;
    Some(line.start + start..line.start + end)
}

/// A status word at the end of a heading or item's first line: `— In
/// progress`, `(todo)`, `— ⬜`.
fn title_edit(doc: &Doc<'_>, unit: &Unit) -> Option<Edit> {
    if unit.title_mark != Some(Mark::NotDone) || unit.kind == Kind::Row {
        return None;
    }
    let line = doc.line_range(unit.start);
    let text = doc.text[line.clone()].trim_end();
    let (start, end) = if text.ends_with(')') || text.ends_with(']') {
        let open = text.rfind(['(', '['])?;
        (open + 1, text.len() - 1)
    } else {
        let at = [" — ", " – ", " - ", " -- "]
            .iter()
            .filter_map(|d| text.rfind(d).map(|i| i + d.len()))
            .max()?;
        (at, text.len())
    };
    let inner = &text[start..end];
    let lead = inner.len() - inner.trim_start_matches([' ', '*', '_']).len();
    let word = inner[lead..].trim_end_matches([' ', '*', '_']);
    if marks::classify(word) != Some(Mark::NotDone) {
        return None;
    }
    let at = line.start + start + lead;
    Some(Edit {
        at: at..at + word.len(),
        with: done_word(word, std::iter::empty()),
    })
}

/// A `Status: …` line in a heading task's text. Returns the edit, and
/// whether there is such a line at all.
fn status_line_edit(doc: &Doc<'_>, unit: &Unit) -> (Option<Edit>, bool) {
    let body = unit.title_end.min(unit.extent.end)..unit.extent.end;
    let mut at = body.start;
    for line in doc.text[body.clone()].split_inclusive('\n').take(40) {
        let offset = at;
        at += line.len();
        match marks::status_line(line) {
            Some(Mark::NotDone) if !doc.in_code(offset) => {
                let others = doc
                    .text
                    .lines()
                    .filter(|l| marks::status_line(l) == Some(Mark::Done))
                    .filter_map(|l| l.split_once(':').map(|(_, v)| v.to_string()));
                let others: Vec<String> = others
                    .map(|v| v.trim_matches([' ', '*', '_']).to_string())
                    .collect();
                let edit = value_edit(doc, offset, ':', |open| done_word(open, others.into_iter()));
                return (edit, true);
            }
            Some(_) => return (None, true),
            None => {}
        }
    }
    (None, false)
}

/// A task with no mark, in a document whose done tasks of its kind carry a
/// `✅`: one where theirs is (before the label, after it, or at the end).
fn check_mark(doc: &Doc<'_>, units: &[Unit], tasks: &Tasks, k: usize) -> Option<Edit> {
    let own = &units[*tasks.defs[k].first()?];
    let id = &tasks.list[k].id;
    let peer = tasks
        .list
        .iter()
        .zip(&tasks.defs)
        .filter(|(t, _)| t.done)
        .filter_map(|(t, defs)| Some((t, &units[*defs.first()?])))
        .find(|(_, u)| u.kind == own.kind && doc.text[doc.line_range(u.start)].contains('✅'))?;
    let place = |line: &Range<usize>, id: &str| -> Option<Range<usize>> {
        let at = line.start + token(&doc.text[line.clone()], id)?;
        Some(at..at + id.len())
    };
    let peer_line = doc.line_range(peer.1.start);
    let peer_id = place(&peer_line, &peer.0.id)?;
    let line = doc.line_range(own.start);
    let own_id = place(&line, id)?;
    let (at, with) = if doc.text[peer_line.start..peer_id.start].contains('✅') {
        (own_id.start, "✅ ")
    } else {
        let after = &doc.text[peer_id.end..peer_line.end];
        let gap = &after[..after.find('✅')?];
        if !gap.chars().any(char::is_alphanumeric) {
            (own_id.end, " ✅")
        } else if after.trim_end().ends_with('✅') {
            (line.start + doc.text[line.clone()].trim_end().len(), " ✅")
        } else {
            return None;
        }
    };
    Some(Edit {
        at: at..at,
        with: with.into(),
    })
}

/// Where `id` stands as a whole token in `text`.
fn token(text: &str, id: &str) -> Option<usize> {
    text.match_indices(id).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back();
        let after = text[i + id.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests;
