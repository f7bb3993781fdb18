//! Table rows as units: which column of a table holds its rows' IDs (an ID
//! header or the first column, holding IDs; or numbers, when the header is
//! an ID header or a unit word the document uses), and what a row's other
//! columns say (its title, status, milestone, dependencies, other
//! numbering). Pure.

use std::collections::HashSet;

use super::label::{self, Label, Shape};
use super::markdown::{Doc, Row};
use super::units::{Kind, Unit, strip_open_markup};

/// Column headers that name the ID column.
const ID_HEADERS: &[&str] = &[
    "id", "task", "taskid", "issue", "issues", "ticket", "tickets", "key", "", "no", "nr",
];
const TITLE_HEADERS: &[&str] = &[
    "title",
    "task",
    "description",
    "summary",
    "name",
    "delivers",
    "what",
    "goal",
    "work",
];
/// Column headers whose values name the milestone a row belongs to.
const SCOPE_HEADERS: &[&str] = &[
    "milestone",
    "milestones",
    "phase",
    "stage",
    "sprint",
    "release",
    "epic",
    "iteration",
    "version",
    "target",
];

pub fn is_dependency_header(h: &str) -> bool {
    ["depend", "block", "after", "require", "prereq"]
        .iter()
        .any(|w| h.contains(w))
}

pub(super) fn is_status_header(h: &str) -> bool {
    h.contains("status") || h == "state" || h == "done"
}

/// A header as compared with the lists above: letters and digits only.
fn header_key(h: &str) -> String {
    h.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The labels of a row's ID cell: `#78 + #79` gives two.
fn cell_labels(cell: &str, header: &str) -> Vec<Label> {
    let mut out: Vec<Label> = Vec::new();
    let (first, _) = strip_open_markup(cell);
    let Some(l) = label::in_cell(first, header) else {
        return out;
    };
    let shape = l.shape.clone();
    out.push(l);
    if matches!(shape, Shape::Issue | Shape::Prefixed(_) | Shape::Glued(_)) {
        for part in cell.split(['+', ',', '&', '/']).skip(1) {
            let (p, _) = strip_open_markup(part.trim());
            if let Some(l) = label::lexical(p).filter(|l| l.shape == shape) {
                out.push(l);
            }
        }
    }
    out
}

/// The ID column of one table: the ID-headed or first column whose cells
/// hold IDs; else one whose cells hold numbers, when its header is an ID
/// header or a unit word the document labels other units with.
fn id_column(table: &[&Row], words: &HashSet<String>) -> Option<usize> {
    let header = &table[0].header;
    let width = table.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    let candidate = |c: usize| {
        let h = header.get(c).map_or("", String::as_str);
        !is_dependency_header(h) && (c == 0 || ID_HEADERS.contains(&header_key(h).as_str()))
    };
    let half = table.len().div_ceil(2);
    let count = |c: usize, lexical: bool| {
        table
            .iter()
            .filter(|r| {
                let h = r.header.get(c).map_or("", String::as_str);
                r.cells
                    .get(c)
                    .and_then(|cell| {
                        let (cell, _) = strip_open_markup(cell);
                        label::in_cell(cell, h)
                    })
                    .is_some_and(|l| matches!(l.shape, Shape::Numbered(_)) != lexical)
            })
            .count()
    };
    if let Some(c) = (0..width)
        .filter(|&c| candidate(c))
        .find(|&c| count(c, true) >= half)
    {
        return Some(c);
    }
    (0..width)
        .filter(|&c| {
            let h = header.get(c).map_or("", String::as_str);
            candidate(c) && (ID_HEADERS.contains(&header_key(h).as_str()) || words.contains(h))
        })
        .find(|&c| count(c, false) >= half)
}

pub(super) fn rows(doc: &Doc<'_>, units: &mut Vec<Unit>) {
    // Unit words other units are labelled with: a "Phase" column of numbers
    // is a list of phases when the document writes `Phase 3` elsewhere.
    let words: HashSet<String> = units
        .iter()
        .filter_map(|u| u.label.as_ref()?.shape.word().map(str::to_string))
        .chain(doc.headings.iter().filter_map(|h| {
            let (t, _) = strip_open_markup(h.text.trim());
            label::at_start(t)?.shape.word().map(str::to_string)
        }))
        .collect();
    let mut at = 0;
    while at < doc.rows.len() {
        let table = doc.rows[at].table;
        let len = doc.rows[at..]
            .iter()
            .take_while(|r| r.table == table)
            .count();
        let group: Vec<&Row> = doc.rows[at..at + len].iter().collect();
        at += len;
        if doc.in_code(group[0].range.start) {
            continue;
        }
        match id_column(&group, &words) {
            Some(col) => units.extend(id_rows(&group, col)),
            None => units.extend(group.into_iter().filter_map(slug_row)),
        }
    }
}

/// The rows of a table whose IDs are in column `col`; a row whose cell
/// there is one token too long to be an ID is a unit without a label,
/// which the reader leaves out saying why.
fn id_rows(group: &[&Row], col: usize) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut shape = None;
    let mut too_long = Vec::new();
    for row in group {
        let header = row.header.get(col).map_or("", String::as_str);
        let Some(cell) = row.cells.get(col) else {
            continue;
        };
        let labels = cell_labels(cell, header);
        if let Some(first) = labels.first() {
            shape.get_or_insert_with(|| first.shape.clone());
            out.push(row_unit(row, col, labels));
        } else {
            too_long.push((*row, cell));
        }
    }
    let shape = shape.unwrap_or(Shape::Slug);
    for (row, cell) in too_long {
        if let Some(long) = label::too_long_in_cell(cell, shape.clone()) {
            out.push(long_row(row, col, long));
        }
    }
    out
}

/// A row whose ID is too long to be one: a unit with no label.
fn long_row(row: &Row, col: usize, long: (Label, String)) -> Unit {
    let mut unit = row_unit(row, col, vec![long.0.clone()]);
    unit.label = None;
    unit.too_long = Some(long);
    unit
}

fn row_unit(row: &Row, col: usize, mut labels: Vec<Label>) -> Unit {
    let header = |i: usize| row.header.get(i).map_or("", String::as_str);
    let cell = &row.cells[col];
    let r = row.range.clone();
    let mut unit = Unit::new(Kind::Row, r.start, r.clone(), r.end);
    let title = (0..row.cells.len())
        .filter(|&i| i != col && !is_status_header(header(i)))
        .find(|&i| TITLE_HEADERS.contains(&header(i)))
        .or_else(|| {
            (0..row.cells.len())
                .filter(|&i| {
                    i != col && !is_status_header(header(i)) && !is_dependency_header(header(i))
                })
                .max_by_key(|&i| row.cells[i].len())
        })
        .map(|i| row.cells[i].clone())
        .unwrap_or_default();
    unit.set_title(&title);
    unit.label = Some(labels.remove(0));
    unit.extra = labels;
    unit.struck = cell.starts_with("~~");
    unit.status = (0..row.cells.len())
        .find(|&i| is_status_header(header(i)))
        .map(|i| row.cells[i].clone());
    for (i, cell) in row.cells.iter().enumerate() {
        let h = header(i);
        if i == col {
            continue;
        }
        if SCOPE_HEADERS.contains(&header_key(h).as_str()) {
            unit.scope_cells.push((h.to_string(), cell.clone()));
        } else if is_dependency_header(h) {
            unit.depends.push((h.to_string(), cell.clone()));
        } else if let Some((n, _)) = label::number(cell.trim())
            && h.chars().all(char::is_alphabetic)
            && !h.is_empty()
        {
            unit.aliases.push((h.to_string(), label::key(&n)));
        }
    }
    unit
}

/// A slug (`auth-login`) in a column headed "ID" (not "Key": config tables use that).
fn slug_row(row: &Row) -> Option<Unit> {
    let col = row
        .header
        .iter()
        .position(|h| ["id", "task id", "slug"].contains(&h.as_str()))?;
    let cell = row.cells.get(col)?.trim_matches(|c| c == '`' || c == '*');
    // Lower-case only: `REQ-001` in an ID column is a requirement, not a slug.
    let ok = !cell.is_empty()
        && cell.len() <= 64
        && cell.chars().next()?.is_ascii_alphanumeric()
        && cell.chars().any(|c| c.is_ascii_lowercase())
        && cell
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c));
    let label = Label {
        id: cell.to_string(),
        word: None,
        shape: Shape::Slug,
        len: cell.len(),
    };
    if !ok {
        let long = label::too_long_in_cell(cell, Shape::Slug)?;
        return Some(long_row(row, col, long));
    }
    Some(row_unit(row, col, vec![label]))
}
