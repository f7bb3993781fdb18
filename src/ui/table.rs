//! Tables on stdout (comfy-table): one look for every command, width from the
//! terminal or `COLUMNS`, colour only where [`super::color_allowed`] says so.

use std::io::IsTerminal;

use comfy_table::{
    Cell as TableCell, Color, ColumnConstraint, ContentArrangement, ContentLineStyle, LineStyle,
    Table, TableStyle, Width,
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

/// [`render`], with the columns at `unbroken` (indexes) never wrapped,
/// even where their cells are long or have spaces: a path to copy, times,
/// states and counts read wrong split over two lines; the other columns
/// give up the width (see [`keep_words_whole`]).
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
    fit(&mut table, target.width);
    table.set_header(headers.iter().map(TableCell::new));
    for row in rows {
        table.add_row(row.iter().map(|c| styled(c, target.color)));
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 1));
    }
    keep_words_whole(&mut table, headers, rows, target.width, |i| {
        unbroken.contains(&i)
    });
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
    fit(&mut table, target.width);
    for row in rows {
        table.add_row(row.iter().map(|c| styled(c, target.color)));
    }
    keep_words_whole(&mut table, headers, rows, target.width, |_| false);
    table.to_string()
}

/// Fit `table` to `width`, when there is one to fit to.
fn fit(table: &mut Table, width: Option<u16>) {
    match width {
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
}

/// No header word, and no short word a reader takes in at a glance or
/// copies (an ID, a state, a count, a commit, a time: a column of one-word
/// cells up to [`WHOLE_WORD`] long), is split over lines, nor anything in
/// the columns `whole` names (a log path); other columns wrap, at spaces
/// and hyphens where they can. When the whole columns leave too little
/// room, the table is wider than the terminal, which wraps its lines: the
/// words stay whole and can be copied; a wrapped column then keeps words
/// up to [`WORD_ROOM`] whole too.
fn keep_words_whole(
    table: &mut Table,
    headers: &[&str],
    rows: &[Vec<Cell>],
    width: Option<u16>,
    whole: impl Fn(usize) -> bool,
) {
    let columns: Vec<Column> = (0..headers.len())
        .map(|i| Column::of(headers[i], rows, i, whole(i)))
        .collect();
    // Each column's padding and the space between columns.
    let least: usize = columns.iter().map(|c| 2 + c.least(false)).sum();
    let overflows = width.is_some_and(|w| least > usize::from(w));
    for column in table.column_iter_mut() {
        let Some(c) = columns.get(column.index) else {
            continue;
        };
        if c.kept {
            column.set_constraint(ColumnConstraint::ContentWidth);
        } else {
            let least = u16::try_from(c.least(overflows) + 1).unwrap_or(u16::MAX);
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(least)));
        }
    }
}

/// What [`keep_words_whole`] needs to know of a column.
struct Column {
    /// Never wrapped.
    kept: bool,
    /// Its widest cell or header.
    widest: usize,
    /// The longest word of its header, and of its cells.
    header_word: usize,
    cell_word: usize,
}

impl Column {
    fn of(header: &str, rows: &[Vec<Cell>], i: usize, whole: bool) -> Column {
        let longest_word = |text: &str| text.split_whitespace().map(|w| w.chars().count()).max();
        let cells: Vec<String> = rows
            .iter()
            .filter_map(|r| r.get(i))
            .map(|c| clean(&c.text).into_owned())
            .collect();
        let one_word = cells
            .iter()
            .all(|c| !c.trim().contains(char::is_whitespace));
        let widest = cells.iter().map(|c| c.chars().count()).max().unwrap_or(0);
        Column {
            kept: whole || one_word && widest <= WHOLE_WORD,
            widest: widest.max(header.chars().count()),
            header_word: longest_word(header).unwrap_or(0),
            cell_word: cells
                .iter()
                .filter_map(|c| longest_word(c))
                .max()
                .unwrap_or(0),
        }
    }

    /// The narrowest its content may be; `roomy` when the table is wider
    /// than the terminal anyway.
    fn least(&self, roomy: bool) -> usize {
        if self.kept {
            return self.widest;
        }
        let room = if roomy {
            self.cell_word.min(WORD_ROOM)
        } else {
            0
        };
        self.header_word.max(room)
    }
}

/// The longest one-word cells kept whole without being asked: IDs, states,
/// commits, times. Longer ones (names, paths) wrap unless a caller keeps
/// their column whole.
const WHOLE_WORD: usize = 20;

/// The widest word of a wrapped column (a title) that a table too wide for
/// the terminal still keeps whole; a longer one is split.
const WORD_ROOM: usize = 12;

/// Every cell is cleaned of control characters: tables show titles, names
/// and IDs read from files and commits.
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

    /// Words a reader copies or reads at a glance (IDs, states, commits,
    /// paths, the headers) are never split, however narrow the terminal:
    /// only text with spaces (titles) wraps, at its spaces where it can.
    #[test]
    fn narrow_tables_wrap_titles_and_never_split_a_word() {
        let headers = [
            "ID",
            "TITLE",
            "STATE",
            "ATTEMPTS",
            "DURATION",
            "CHECKPOINT",
            "LOG",
        ];
        let rows: Vec<Vec<Cell>> = [
            (
                "T001",
                "Create project structure per implementation plan in src/",
                "done",
            ),
            (
                "T003",
                "Configure linting and formatting tools",
                "done_in_plan",
            ),
        ]
        .iter()
        .map(|(id, title, state)| {
            [
                *id,
                title,
                state,
                "1",
                "11ms",
                "2cbe11f",
                ".git/milestone/001-auth/logs/T007.1.log",
            ]
            .iter()
            .map(|c| Cell::plain(*c))
            .collect()
        })
        .collect();
        for width in [40, 60, 80] {
            let target = Target {
                width: Some(width),
                color: false,
            };
            // The log path is kept whole as `log` asks.
            let out = render_unbroken(&headers, &rows, target, &[6]);
            let words: Vec<&str> = out.split_whitespace().collect();
            for cell in rows.iter().flatten().filter(|c| !c.text.contains(' ')) {
                assert!(
                    words.contains(&cell.text.as_str()),
                    "{width}: {}\n{out}",
                    cell.text
                );
            }
            for h in headers {
                assert!(words.contains(&h), "{width}: {h}\n{out}");
            }
        }
        // Without the long paths, the table fits 60 columns: the titles
        // give up the width.
        let status: Vec<Vec<Cell>> = rows.iter().map(|r| r[..6].to_vec()).collect();
        let target = Target {
            width: Some(60),
            color: false,
        };
        let out = render(&headers[..6], &status, target);
        assert!(out.lines().all(|l| l.chars().count() <= 60), "{out}");
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
