//! Which tracked Markdown file is the plan for a milestone name.
//!
//! Every tracked `.md` file (from the index, not the work tree) is read once
//! and outlined cheaply; each file that names the milestone in its path, its
//! title or a heading becomes a candidate, ranked by how plan-like it is and
//! how strongly it names the milestone. Prose mentions never make a
//! candidate: a README saying "M1 shipped" is not M1's plan.

use std::path::Path;

use super::outline::{self, Outline, UnitKind};
use crate::error::{Error, Result};
use crate::milestone::names::{self, Fit, Name};
use crate::repo::Repo;

/// Files larger than this are not plans (generated docs, data dumps).
const MAX_PLAN_BYTES: u64 = 1024 * 1024;

/// Directories of other people's code.
const VENDORED_DIRS: &[&str] = &["node_modules", "vendor", "third_party"];

/// File stems of documents about the project rather than plans of it.
const INCIDENTAL_STEMS: &[&str] = &[
    "readme",
    "changelog",
    "changes",
    "history",
    "news",
    "contributing",
    "code_of_conduct",
    "security",
    "license",
    "authors",
    "claude",
    "agents",
    "gemini",
];

/// Directories of templates, examples and test fixtures, which look like
/// plans but are not.
const INCIDENTAL_DIRS: &[&str] = &[
    "template",
    "templates",
    "example",
    "examples",
    "fixture",
    "fixtures",
    "__fixtures__",
    "testdata",
    "test-data",
    "test_data",
    ".github",
    ".claude",
];

const ARCHIVE_DIRS: &[&str] = &["archive", "archived", "_archive", "_archived", "old"];

/// Stems that say nothing about which milestone (`specs/001-x/tasks.md`):
/// the directory's name is the milestone's.
const GENERIC_STEMS: &[&str] = &[
    "tasks",
    "task",
    "todo",
    "plan",
    "plans",
    "roadmap",
    "milestones",
    "readme",
    "index",
    "spec",
    "specs",
    "docs",
];

/// Most candidates listed when a name is ambiguous.
const MAX_TIED_SHOWN: usize = 8;

/// Most names listed when the user's name matches nothing.
const MAX_NAMES_SHOWN: usize = 20;

/// Find the plan document for `name` among the repository's tracked Markdown.
/// Returns the path relative to the repository root (`/`-separated).
pub fn discover(repo: &Repo, name: &str) -> Result<String> {
    let parsed = Name::parse(name).ok_or_else(|| {
        Error::bad_input(format!("milestone name `{name}` has no letters or digits"))
            .hint("name a milestone as its plan does, e.g. `git milestone plan M1`")
    })?;
    let mut survey = Survey::default();
    let mut seen = std::collections::HashSet::new();
    for path in repo.tracked_markdown()? {
        // A conflicted file has up to three index entries (merge stages).
        if is_vendored(&path) || !seen.insert(path.clone()) {
            continue;
        }
        let Some(text) = read_small(repo.root(), &path) else {
            continue;
        };
        survey.add(path, &text, &parsed);
    }
    survey.choose(name)
}

/// The milestone names the repository's tracked Markdown states (in its
/// headings, or a plan file's name), first seen first: for listings when
/// no name was given, and for shell completion.
pub fn known_names(repo: &Repo) -> Result<Vec<String>> {
    let mut survey = Survey::default();
    let mut seen = std::collections::HashSet::new();
    for path in repo.tracked_markdown()? {
        if is_vendored(&path) || !seen.insert(path.clone()) {
            continue;
        }
        if let Some(text) = read_small(repo.root(), &path) {
            survey.collect_names(&path, &outline::outline(&text));
        }
    }
    Ok(survey.known)
}

/// What the scan of the repository found for one name.
#[derive(Default)]
struct Survey {
    candidates: Vec<Candidate>,
    /// Milestone-like names seen anywhere, as written, first seen first.
    known: Vec<String>,
    /// [`Name::key`]s of `known`, so each milestone is listed once.
    known_keys: std::collections::HashSet<String>,
    /// The first prose mention of the name: path and line.
    mention: Option<(String, usize)>,
    files: usize,
}

/// One file that names the milestone.
#[derive(Debug)]
struct Candidate {
    path: String,
    reasons: Vec<String>,
    /// How strongly it names the milestone: 7 (its file name or title is the
    /// name) down to 2 (a heading mentions it).
    strength: u8,
    has_task_ids: bool,
    incidental: bool,
    archived: bool,
    /// 2 for `tasks.md`-like names, 1 for `plan`-like ones, else 0.
    stem_rank: u8,
}

impl Candidate {
    /// Higher is better; equal ranks at the top make the name ambiguous.
    fn rank(&self) -> (bool, bool, u8, bool, u8) {
        (
            !self.incidental,
            self.has_task_ids,
            self.strength,
            !self.archived,
            self.stem_rank,
        )
    }
}

impl Survey {
    fn add(&mut self, path: String, text: &str, name: &Name) {
        self.files += 1;
        let outline = outline::outline(text);
        self.collect_names(&path, &outline);
        let parts = PathParts::of(&path);
        let mut evidence = Vec::new();
        path_evidence(&parts, name, &mut evidence);
        text_evidence(&outline, name, &mut evidence);
        if evidence.is_empty() {
            if self.mention.is_none() {
                self.mention = first_mention(text, name).map(|line| (path, line));
            }
            return;
        }
        evidence.sort_by_key(|e| std::cmp::Reverse(e.0));
        let strength = evidence[0].0;
        let mut reasons: Vec<String> = evidence.into_iter().take(3).map(|(_, r)| r).collect();
        reasons.push(
            if outline.has_task_ids {
                "has task IDs"
            } else {
                "no task IDs seen"
            }
            .to_string(),
        );
        self.candidates.push(Candidate {
            reasons,
            strength,
            has_task_ids: outline.has_task_ids,
            incidental: parts.incidental(),
            archived: parts.archived(),
            stem_rank: parts.stem_rank(),
            path,
        });
    }

    /// Names that select a plan, for the hint when the user's name selects
    /// none: a plan's file or folder name (which runs it whole), and the
    /// milestones a roadmap's headings name. A README's headings, and the
    /// phases of a plan that has a name of its own, are not listed.
    fn collect_names(&mut self, path: &str, outline: &Outline) {
        let parts = PathParts::of(path);
        if parts.incidental() || outline.task_lines == 0 {
            return;
        }
        // A file or folder name selects a plan when the file is one (two
        // units of work at least, as for ranking); a heading names its part.
        let part = parts.naming_part().filter(|_| outline.has_task_ids);
        let mut found: Vec<String> = Vec::new();
        for u in &outline.units {
            if let Some(n) = names::milestone_named(&u.text)
                && !(part.is_some() && names::is_section(&n))
            {
                found.push(n);
            }
        }
        // `m1-plan.md` titled "M1" is listed as M1.
        if let Some(part) = part {
            let same = found
                .iter()
                .any(|n| Name::parse(n).is_some_and(|n| n.fit_path_part(part) == Some(Fit::Exact)));
            if !same {
                found.insert(0, part.to_string());
            }
        }
        for n in found {
            let Some(key) = Name::parse(&n).map(|p| p.key()) else {
                continue;
            };
            if !self.known_keys.contains(&key) {
                self.known_keys.insert(key);
                self.known.push(n);
            }
        }
    }

    fn choose(mut self, name: &str) -> Result<String> {
        self.candidates.sort_by_key(|c| std::cmp::Reverse(c.rank()));
        let Some(best) = self.candidates.first() else {
            return Err(self.not_found(name));
        };
        let tied = self
            .candidates
            .iter()
            .take_while(|c| c.rank() == best.rank())
            .count();
        if tied > 1 {
            return Err(ambiguous(name, &self.candidates[..tied]));
        }
        Ok(self.candidates.swap_remove(0).path)
    }

    fn not_found(&self, name: &str) -> Error {
        if self.files == 0 {
            return Error::bad_input(format!(
                "no plan found for milestone `{name}`: the repository tracks no Markdown files"
            ))
            .hint("commit the plan (`git add PLAN.md && git commit`), or pass its path with --plan PATH");
        }
        let mut err = Error::bad_input(format!(
            "no plan found for milestone `{name}`: no tracked Markdown file names it in its path, title or headings"
        ));
        if !self.known.is_empty() {
            let shown: Vec<&str> = self
                .known
                .iter()
                .take(MAX_NAMES_SHOWN)
                .map(String::as_str)
                .collect();
            let more = self.known.len().saturating_sub(MAX_NAMES_SHOWN);
            let more = if more > 0 {
                format!(" (and {more} more)")
            } else {
                String::new()
            };
            err = err.hint(format!(
                "milestones named in this repository: {}{more}",
                shown.join(", ")
            ));
        }
        if let Some((path, line)) = &self.mention {
            err = err.hint(format!(
                "`{name}` is mentioned in {path}:{line}; if that is the plan, run `git milestone plan {} --plan {path}`",
                crate::ui::text::quote(name)
            ));
        }
        err.hint(
            "only tracked files are searched: `git add` a new plan, or pass its path with --plan PATH",
        )
    }
}

fn ambiguous(name: &str, tied: &[Candidate]) -> Error {
    let mut message = format!(
        "milestone name `{name}` is ambiguous: {} plans match it equally well",
        tied.len()
    );
    for c in tied.iter().take(MAX_TIED_SHOWN) {
        message.push_str(&format!("\n  {}: {}", c.path, c.reasons.join("; ")));
    }
    if tied.len() > MAX_TIED_SHOWN {
        message.push_str(&format!("\n  and {} more", tied.len() - MAX_TIED_SHOWN));
    }
    Error::bad_input(message).hint(format!(
        "choose one with --plan, e.g. `git milestone plan {} --plan {}`",
        crate::ui::text::quote(name),
        crate::ui::text::quote(&tied[0].path)
    ))
}

fn unit_strength(kind: UnitKind, fit: Fit) -> u8 {
    match (kind, fit) {
        (UnitKind::Title, Fit::Exact) => 7,
        (UnitKind::Title, Fit::Lead) => 5,
        (UnitKind::Title, Fit::Contains) => 4,
        (UnitKind::Heading, Fit::Exact | Fit::Lead) => 3,
        (UnitKind::Heading, Fit::Contains) => 2,
        (UnitKind::Line, Fit::Exact | Fit::Lead) => 2,
        (UnitKind::Line, Fit::Contains) => 0,
    }
}

fn path_evidence(parts: &PathParts, name: &Name, out: &mut Vec<(u8, String)>) {
    if let Some(fit) = name.fit_path_part(parts.stem) {
        out.push((
            if fit == Fit::Exact { 7 } else { 5 },
            format!("file name `{}`", parts.file),
        ));
    }
    if let Some(dir) = parts.dir
        && let Some(fit) = name.fit_path_part(dir)
    {
        out.push((
            if fit == Fit::Exact { 6 } else { 4 },
            format!("directory `{dir}/`"),
        ));
    }
}

fn text_evidence(outline: &Outline, name: &Name, out: &mut Vec<(u8, String)>) {
    for unit in &outline.units {
        let Some(fit) = name.fit(&unit.tokens) else {
            continue;
        };
        let strength = unit_strength(unit.kind, fit);
        if strength == 0 {
            continue;
        }
        let what = match unit.kind {
            UnitKind::Title => "title",
            UnitKind::Heading => "heading",
            UnitKind::Line => "line",
        };
        out.push((
            strength,
            format!("{what} `{}` (line {})", shorten(&unit.text), unit.line),
        ));
    }
}

/// The first line that mentions the name in any way.
fn first_mention(text: &str, name: &Name) -> Option<usize> {
    if !name.may_occur_in(text) {
        return None;
    }
    text.lines()
        .position(|l| name.fit_text(l).is_some())
        .map(|i| i + 1)
}

/// A tracked path split into the parts discovery looks at.
struct PathParts<'a> {
    /// Every directory component, lower-cased.
    dirs_lower: Vec<String>,
    /// The parent directory's name, as written.
    dir: Option<&'a str>,
    /// The file name, as written.
    file: &'a str,
    /// The file name without `.md` / `.markdown`.
    stem: &'a str,
}

impl<'a> PathParts<'a> {
    fn of(path: &'a str) -> PathParts<'a> {
        let mut comps: Vec<&str> = path.split('/').collect();
        let file = comps.pop().unwrap_or(path);
        let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
        PathParts {
            dirs_lower: comps.iter().map(|c| c.to_lowercase()).collect(),
            dir: comps.last().copied(),
            file,
            stem,
        }
    }

    fn incidental(&self) -> bool {
        let stem = self.stem.to_lowercase();
        INCIDENTAL_STEMS.contains(&stem.as_str())
            || stem.contains("template")
            || self
                .dirs_lower
                .iter()
                .any(|d| INCIDENTAL_DIRS.contains(&d.as_str()))
    }

    fn archived(&self) -> bool {
        self.dirs_lower
            .iter()
            .any(|d| ARCHIVE_DIRS.contains(&d.as_str()))
    }

    fn stem_rank(&self) -> u8 {
        let stem = self.stem.to_lowercase();
        let has = |words: &[&str]| {
            stem.split(|c: char| !c.is_alphanumeric())
                .any(|w| words.contains(&w))
        };
        if has(&["tasks", "task", "todo"]) {
            2
        } else if has(&[
            "plan",
            "milestone",
            "milestones",
            "roadmap",
            "implementation",
        ]) {
            1
        } else {
            0
        }
    }

    /// The part of the path that names the plan: the stem, or the directory
    /// when the stem is generic (`specs/001-x/tasks.md` names `001-x`).
    fn naming_part(&self) -> Option<&'a str> {
        let generic = |s: &str| GENERIC_STEMS.contains(&s.to_lowercase().as_str());
        if !generic(self.stem) {
            Some(self.stem)
        } else {
            self.dir.filter(|d| !generic(d) && !d.starts_with('.'))
        }
    }
}

fn is_vendored(path: &str) -> bool {
    path.split('/')
        .rev()
        .skip(1)
        .any(|c| VENDORED_DIRS.contains(&c))
}

/// The file's text, or `None` when it is missing from the work tree (deleted,
/// sparse checkout), unreadable, or too large to be a plan.
fn read_small(root: &Path, rel: &str) -> Option<String> {
    let path = root.join(rel);
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > MAX_PLAN_BYTES {
        return None;
    }
    let bytes = std::fs::read(&path).ok()?;
    Some(
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_and_incidental_paths() {
        assert!(is_vendored("web/node_modules/x/README.md"));
        assert!(!is_vendored("vendor.md"));
        assert!(PathParts::of("README.md").incidental());
        assert!(PathParts::of(".specify/templates/tasks-template.md").incidental());
        assert!(!PathParts::of("docs/roadmap.md").incidental());
        assert!(PathParts::of(".kiro/specs/_archived/x/tasks.md").archived());
    }

    #[test]
    fn generic_stems_are_named_by_their_directory() {
        assert_eq!(
            PathParts::of("specs/001-x/tasks.md").naming_part(),
            Some("001-x")
        );
        assert_eq!(
            PathParts::of("docs/m3-plan.md").naming_part(),
            Some("m3-plan")
        );
        assert_eq!(PathParts::of("docs/ROADMAP.md").naming_part(), None);
        assert_eq!(PathParts::of("tasks.md").naming_part(), None);
    }
}
