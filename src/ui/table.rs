//! Tables on stdout (comfy-table): one look for every command, width from the
//! terminal or `COLUMNS`, colour only where [`super::color_allowed`] says so.

use std::io::IsTerminal;

use comfy_table::{
    Cell as TableCell, Color, ColumnConstraint, ContentArrangement, ContentLineStyle, LineStyle,
    Table, TableStyle,
};

use super::text::clean;

/// Narrower than this, a width limit is ignored.
const MIN_WIDTH: u16 = 20;

/// How a cell should stand out when colour is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    /// Finished well: completed, done.
    Good,
    /// Needs attention: failed, unreadable.
    Bad,
    /// Under way or stopped half-way: running, interrupted.
    Busy,
    /// Of little interest: pending, skipped, empty.
    Dim,
}

/// One cell's text and tone.
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            tone: Tone::Plain,
        }
    }
    pub fn toned(text: impl Into<String>, tone: Tone) -> Cell {
        Cell {
            text: text.into(),
            tone,
        }
    }
}

/// Where the table goes: its width limit and whether it may use colour.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// `None`: as wide as the content (not a terminal and no `COLUMNS`).
    pub width: Option<u16>,
    pub color: bool,
}

impl Target {
    /// Standard output as it is now: `COLUMNS` beats the terminal's width.
    pub fn stdout() -> Target {
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<u16>().ok());
        // A pseudo-terminal with no size set reports 0 columns: ignore
        // widths too small to hold a table rather than squash it to letters.
        let width = columns
            .or_else(|| {
                std::io::stdout()
                    .is_terminal()
                    .then(|| Table::new().width())
                    .flatten()
            })
            .filter(|w| *w >= MIN_WIDTH);
        Target {
            width,
            color: super::color_allowed(),
        }
    }
}

/// A header line under the column names, and nothing else: easy to read,
/// easy to copy from, no box-drawing noise around every cell.
const STYLE: TableStyle = TableStyle::new()
    .header_lines(ContentLineStyle::none().junction(' '))
    .content_lines(ContentLineStyle::none().junction(' '))
    .header_separator(LineStyle::none().fill('-').junction(' '));

/// Render `rows` under `headers`, with no trailing spaces, ending in a newline.
pub fn render(headers: &[&str], rows: &[Vec<Cell>], target: Target) -> String {
    render_unbroken(headers, rows, target, &[])
}

/// [`render`], with the columns at `unbroken` (indexes) never wrapped:
/// times, states and counts read wrong split over two lines; the other
/// columns give up the width.
pub fn render_unbroken(
    headers: &[&str],
    rows: &[Vec<Cell>],
    target: Target,
    unbroken: &[usize],
) -> String {
    let mut table = Table::new();
    table.load_style(STYLE).force_no_tty();
    if target.color {
        table.enforce_styling();
    }
    match target.width {
        Some(w) => {
            table
                .set_width(w)
                .set_content_arrangement(ContentArrangement::Dynamic);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    table.set_header(headers.iter().map(TableCell::new));
    for row in rows {
        table.add_row(row.iter().map(|c| styled(c, target.color)));
    }
    let keep = fits_unbroken(headers, rows, target.width, unbroken);
    for column in table.column_iter_mut() {
        column.set_padding((0, 1));
        if keep && unbroken.contains(&column.index) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    let mut out = String::new();
    for line in table.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `rows` under `headers` in a box, as `plan` shows a plan's tasks:
/// box-drawing characters where colour is allowed, ASCII otherwise. No
/// trailing newline.
pub fn render_boxed(headers: &[&str], rows: &[Vec<Cell>], target: Target) -> String {
    let mut table = Table::new();
    table.set_header(headers.iter().map(TableCell::new));
    if target.color {
        table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    } else {
        table.load_style(comfy_table::presets::ASCII_FULL_CONDENSED);
        table.force_no_tty();
    }
    match target.width {
        Some(w) => {
            table
                .set_width(w)
                .set_content_arrangement(ContentArrangement::Dynamic);
        }
        // Nothing to fit: no column widths to work out for every cell.
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    for row in rows {
        table.add_row(row.iter().map(|c| styled(c, target.color)));
    }
    table.to_string()
}

/// Every cell is cleaned of control characters: tables show titles, names
/// and IDs read from files and commits.
/// The narrowest a wrapped column may become while others are kept whole.
const MIN_WRAPPED: usize = 6;

/// Whether the `unbroken` columns can be kept whole within `width`, the
/// others still [`MIN_WRAPPED`] wide; when they cannot, everything wraps
/// so that the table still fits.
fn fits_unbroken(
    headers: &[&str],
    rows: &[Vec<Cell>],
    width: Option<u16>,
    unbroken: &[usize],
) -> bool {
    let Some(width) = width else {
        return true;
    };
    let widest = |i: usize| {
        rows.iter()
            .filter_map(|r| r.get(i))
            .map(|c| clean(&c.text).chars().count())
            .chain(headers.get(i).map(|h| h.chars().count()))
            .max()
            .unwrap_or(0)
    };
    let needed: usize = (0..headers.len())
        .map(|i| {
            1 + if unbroken.contains(&i) {
                widest(i)
            } else {
                MIN_WRAPPED.min(widest(i))
            }
        })
        .sum();
    needed <= usize::from(width)
}

fn styled(cell: &Cell, color: bool) -> TableCell {
    let c = TableCell::new(clean(&cell.text));
    let fg = match cell.tone {
        _ if !color => return c,
        Tone::Plain => return c,
        Tone::Good => Color::Green,
        Tone::Bad => Color::Red,
        Tone::Busy => Color::Yellow,
        Tone::Dim => Color::DarkGrey,
    };
    c.fg(fg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_table_has_a_header_rule_and_no_trailing_spaces() {
        let rows = vec![
            vec![Cell::plain("M1"), Cell::toned("failed", Tone::Bad)],
            vec![Cell::plain("phase-2"), Cell::plain("")],
        ];
        let target = Target {
            width: None,
            color: false,
        };
        assert_eq!(
            render(&["NAME", "STATE"], &rows, target),
            "NAME     STATE\n\
             -------- -------\n\
             M1       failed\n\
             phase-2\n"
        );
    }

    #[test]
    fn colour_only_when_allowed() {
        let rows = vec![vec![Cell::toned("failed", Tone::Bad)]];
        let on = render(
            &["S"],
            &rows,
            Target {
                width: None,
                color: true,
            },
        );
        let off = render(
            &["S"],
            &rows,
            Target {
                width: None,
                color: false,
            },
        );
        assert!(on.contains("\u{1b}["), "{on:?}");
        assert!(!off.contains('\u{1b}'), "{off:?}");
    }
}
