//! Milestone names as token sequences, and how well a heading, title or path
//! component names one. Pure.
//!
//! Matching is exact on token boundaries and case-insensitive, so that `M1`
//! names `## M1: Setup` and `4_M1_Milestone_Plan` but never `M10`, `M1.5` or
//! the task ID `M1-001`: digits joined by `.`, `-` or `_` form one token.

/// Words that introduce a milestone's name in a heading ("Milestone M1 – …").
const KEYWORDS: &[&str] = &[
    "milestone",
    "phase",
    "stage",
    "sprint",
    "iteration",
    "epic",
    "release",
];

/// Words a plan file's name adds around the milestone's name (`m3-plan.md`).
const GENERIC_WORDS: &[&str] = &[
    "plan",
    "plans",
    "milestone",
    "milestones",
    "task",
    "tasks",
    "todo",
    "roadmap",
    "implementation",
];

/// How well a piece of text names the milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fit {
    /// The name appears somewhere inside it.
    Contains,
    /// A part of it (after `:`, ` - `, numbering or "Milestone") starts with the name.
    Lead,
    /// A part of it is the name and nothing else.
    Exact,
}

/// A milestone name as the user typed it, ready to match.
#[derive(Debug, Clone)]
pub struct Name {
    /// Token sequences that spell the name: `M1` is also `Milestone 1`.
    variants: Vec<Vec<String>>,
}

/// A heading's tokens, computed once and matched against the name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens(Vec<Token>);

impl Tokens {
    pub fn of(text: &str) -> Tokens {
        Tokens(tokenize(text))
    }

    /// Whether the text starts with a word such as "Milestone" or "Phase"
    /// followed by something (perhaps after numbering: `5. Milestone M1`).
    pub fn start_with_keyword(&self) -> bool {
        let mut rest = self.0.iter().skip_while(|t| is_number(&t.text));
        rest.next()
            .is_some_and(|t| KEYWORDS.contains(&t.text.as_str()))
            && rest.next().is_some()
    }
}

/// One token and whether a new part of the text begins with it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    starts_part: bool,
}

impl Name {
    /// `None` when the name has no letters or digits at all.
    pub fn parse(raw: &str) -> Option<Name> {
        let tokens: Vec<String> = tokenize(raw).into_iter().map(|t| t.text).collect();
        if tokens.is_empty() {
            return None;
        }
        let mut variants = vec![tokens.clone()];
        if let [only] = tokens.as_slice()
            && let Some(num) = only.strip_prefix('m')
            && is_version(num)
        {
            variants.push(vec!["milestone".to_string(), num.to_string()]);
        }
        if let [only] = tokens.as_slice()
            && let Some(num) = only.strip_prefix('p')
            && is_version(num)
        {
            variants.push(vec!["phase".to_string(), num.to_string()]);
        }
        if let [word, num] = tokens.as_slice()
            && is_number(num)
        {
            match word.as_str() {
                "milestone" => variants.push(vec![format!("m{num}")]),
                "phase" => variants.push(vec![format!("p{num}")]),
                _ => {}
            }
        }
        Some(Name { variants })
    }

    /// One spelling for names that match the same things (`M1`, `milestone 1`).
    pub fn key(&self) -> String {
        self.variants
            .iter()
            .min_by_key(|v| v.len())
            .map(|v| v.join(" "))
            .unwrap_or_default()
    }

    /// Whether `text` could mention the name at all: a cheap test before
    /// tokenizing it line by line.
    pub fn may_occur_in(&self, text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        self.variants.iter().any(|v| {
            let first = &v[0];
            !first.is_ascii() || lower.contains(first.as_str())
        })
    }

    /// How well a heading or title names the milestone, if at all.
    pub fn fit_text(&self, text: &str) -> Option<Fit> {
        self.fit(&Tokens::of(text))
    }

    /// Like [`Name::fit_text`], for text already tokenized.
    pub fn fit(&self, tokens: &Tokens) -> Option<Fit> {
        let tokens = &tokens.0;
        self.variants
            .iter()
            .filter_map(|v| best_fit(tokens, v))
            .max()
    }

    /// How well one path component (a file stem or a directory name) names
    /// the milestone. A leading number or date (`004-`, `2026-03-06-`) and
    /// words like `plan` or `tasks` around the name still count as exact.
    pub fn fit_path_part(&self, part: &str) -> Option<Fit> {
        let tokens: Vec<String> = tokenize(part).into_iter().map(|t| t.text).collect();
        let bare = strip_generic(strip_numbers(&tokens));
        let mut best = None;
        for v in &self.variants {
            let fit = if tokens == *v || strip_numbers(&tokens) == v.as_slice() || bare == v {
                Some(Fit::Exact)
            } else if tokens.windows(v.len()).any(|w| w == v.as_slice()) {
                Some(Fit::Contains)
            } else {
                None
            };
            best = best.max(fit);
        }
        best
    }
}

/// Milestone-like names a heading introduces, as written: `M1` in
/// `## M1: Setup`, `Phase 2` in `## Phase 2: Core`. Used to tell the user
/// which names exist when theirs does not.
pub fn named_in_heading(text: &str) -> Option<String> {
    text.split(':').find_map(named_at_start)
}

/// The milestone a heading or summary names (`M1`, `Phase 2`, `v1.1`), if any.
pub fn milestone_named(text: &str) -> Option<String> {
    named_in_heading(text).or_else(|| {
        let t = text.trim_start_matches(|c: char| !c.is_alphanumeric());
        let first = t.split_whitespace().next()?;
        let v = first.strip_prefix(['v', 'V'])?;
        (v.starts_with(|c: char| c.is_ascii_digit()) && v.contains('.')).then(|| first.to_string())
    })
}

/// Whether a name is a section of a plan rather than a milestone of its
/// own: `Phase 2`, `Stage 3`.
pub fn is_section(name: &str) -> bool {
    let lower = name.to_lowercase();
    ["phase ", "stage ", "step ", "part "]
        .iter()
        .any(|w| lower.starts_with(w))
}

fn named_at_start(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ':' | '*' | '`' | '#' | '(' | ')'))
        .filter(|w| !w.is_empty())
        .skip_while(|w| is_number(w.trim_end_matches(['.', ')'])))
        .collect();
    let first = words.first()?.trim_end_matches(['.', ',', '–', '—', '-']);
    let lower = first.to_lowercase();
    if lower.strip_prefix('m').is_some_and(is_version) {
        return Some(first.to_string());
    }
    if KEYWORDS.contains(&lower.as_str()) {
        let second = words.get(1)?.trim_end_matches(['.', ',', ':']);
        let second_lower = second.to_lowercase();
        if second_lower.strip_prefix('m').is_some_and(is_version) {
            return Some(second.to_string());
        }
        let ok = is_number(&second_lower)
            || (second_lower.len() <= 4
                && second_lower.chars().any(|c| c.is_ascii_digit())
                && second_lower
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '.'));
        if ok {
            return Some(format!("{first} {second}"));
        }
    }
    None
}

/// Whether `word` (lower-case) introduces a milestone's name: "phase", "sprint".
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Whether a line's first word is one like "Milestone" or "Phase": a cheap
/// test, run on every line before anything is tokenized.
pub fn first_word_is_keyword(text: &str) -> bool {
    let rest = text.trim_start_matches(|c: char| !c.is_alphabetic());
    let word_len = rest
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(rest.len());
    let word = &rest[..word_len];
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

fn strip_numbers(tokens: &[String]) -> &[String] {
    let skip = tokens.iter().take_while(|t| is_number(t)).count();
    &tokens[skip..]
}

fn strip_generic(tokens: &[String]) -> &[String] {
    let generic = |t: &String| GENERIC_WORDS.contains(&t.as_str());
    let start = tokens.iter().take_while(|t| generic(t)).count();
    let end = tokens.len()
        - tokens[start..]
            .iter()
            .rev()
            .take_while(|t| generic(t))
            .count();
    &tokens[start..end]
}

/// Digits, possibly joined by `.`, `-` or `_` (`004`, `2026-03-06`, `3.10`).
fn is_number(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
}

/// A milestone's number: `1`, `10`, `1.5`; not a task's `1-001`.
fn is_version(s: &str) -> bool {
    is_number(s) && !s.contains(['-', '_'])
}

/// Start indexes where `needle` occurs in `tokens`.
fn find_all<'a>(tokens: &'a [Token], needle: &'a [String]) -> impl Iterator<Item = usize> + 'a {
    (0..=tokens.len().saturating_sub(needle.len())).filter(move |&i| {
        tokens.len() >= needle.len()
            && tokens[i..i + needle.len()]
                .iter()
                .zip(needle)
                .all(|(t, n)| t.text == *n)
    })
}

fn best_fit(tokens: &[Token], needle: &[String]) -> Option<Fit> {
    find_all(tokens, needle)
        .map(|i| {
            let end = i + needle.len();
            let starts = starts_a_part(tokens, i);
            let ends = end == tokens.len() || tokens[end].starts_part;
            match (starts, ends) {
                (true, true) => Fit::Exact,
                (true, false) => Fit::Lead,
                _ => Fit::Contains,
            }
        })
        .max()
}

/// Token `i` begins a part of the text, perhaps after numbering (`5.`) or a
/// keyword (`Milestone`), which are not part of the name.
fn starts_a_part(tokens: &[Token], i: usize) -> bool {
    let mut j = i;
    if j > 0 && KEYWORDS.contains(&tokens[j - 1].text.as_str()) {
        j -= 1;
    }
    while j > 0 && !tokens[j].starts_part && is_number(&tokens[j - 1].text) {
        j -= 1;
    }
    j == 0 || tokens[j].starts_part
}

/// Split text into lower-case tokens of letters and digits. `#123` is one
/// token; so is `M1.5` or `M1-001`, because a `.`, `-` or `_` between two
/// digits joins them. `:`, `|`, brackets and a spaced dash start a new part.
fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut new_part = true;
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let digit_joint = matches!(c, '.' | '-' | '_')
            && prev.is_some_and(|p| p.is_ascii_digit())
            && next.is_some_and(|n| n.is_ascii_digit())
            && !current.is_empty();
        let hash_number =
            c == '#' && current.is_empty() && next.is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric() || digit_joint || hash_number {
            if c.is_ascii() {
                current.push(c.to_ascii_lowercase());
            } else {
                current.extend(c.to_lowercase());
            }
        } else {
            if !current.is_empty() {
                tokens.push(Token {
                    text: std::mem::take(&mut current),
                    starts_part: new_part,
                });
                new_part = false;
            }
            let spaced_dash = c == '-'
                && prev.is_none_or(char::is_whitespace)
                && next.is_none_or(char::is_whitespace);
            if spaced_dash || matches!(c, ':' | '|' | '–' | '—' | '(' | ')' | '[' | ']' | ',' | ';')
            {
                new_part = true;
            }
        }
        prev = Some(c);
    }
    if !current.is_empty() {
        tokens.push(Token {
            text: current,
            starts_part: new_part,
        });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(name: &str, text: &str) -> Option<Fit> {
        Name::parse(name).unwrap().fit_text(text)
    }

    fn path(name: &str, part: &str) -> Option<Fit> {
        Name::parse(name).unwrap().fit_path_part(part)
    }

    #[test]
    fn tokens_join_digits_only() {
        let t: Vec<String> = tokenize("M1.5 M1-001 TASK-001 milestone-2 #12 v1_2 4_M1_Plan")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(
            t,
            [
                "m1.5",
                "m1-001",
                "task",
                "001",
                "milestone",
                "2",
                "#12",
                "v1_2",
                "4",
                "m1",
                "plan"
            ]
        );
    }

    #[test]
    fn m1_never_matches_m10_m1_5_or_task_ids() {
        for text in [
            "M10: Later",
            "M1.5 hotfix",
            "M1-001: Config",
            "Milestone 10",
            "TM1",
        ] {
            assert_eq!(fit("M1", text), None, "{text}");
        }
        assert_eq!(path("M1", "m10-plan"), None);
        assert_eq!(path("M1", "M1.5"), None);
    }

    #[test]
    fn headings_fit_by_how_they_name_it() {
        assert_eq!(
            fit("M1", "Milestone Plan: M1 - Project Initialization"),
            Some(Fit::Exact)
        );
        assert_eq!(fit("m1", "M1: Setup"), Some(Fit::Exact));
        assert_eq!(
            fit("M1", "5. Milestone M1 – Core runtime skeleton"),
            Some(Fit::Exact)
        );
        assert_eq!(fit("M1", "M1 setup work"), Some(Fit::Lead));
        assert_eq!(fit("M1", "Retrospective of M1 and M2"), Some(Fit::Contains));
        assert_eq!(fit("Phase 2", "Phase 2: Core (Week 2)"), Some(Fit::Exact));
        assert_eq!(fit("Phase 2", "Phase 2.5: Extra"), None);
        assert_eq!(fit("Phase 2", "Phase 20"), None);
        assert_eq!(fit("Milestone 3", "M3 — Ship it"), Some(Fit::Exact));
        assert_eq!(fit("M3", "## Milestone 3"), Some(Fit::Exact));
        assert_eq!(
            fit(
                "M1 - Project Initialization & Planning",
                "Milestone Plan: M1 - Project Initialization & Planning"
            ),
            Some(Fit::Exact)
        );
        assert_eq!(
            fit(
                "M1-Project-Initialization",
                "Milestone Plan: M1 - Project Initialization & Planning"
            ),
            Some(Fit::Lead)
        );
        assert_eq!(fit("#8522", "under epic #8522"), Some(Fit::Contains));
        assert_eq!(fit("8522", "under epic #8522"), None);
    }

    #[test]
    fn path_parts_ignore_numbering_and_generic_words() {
        assert_eq!(path("M1", "4_M1_Milestone_Plan"), Some(Fit::Exact));
        assert_eq!(path("m3", "m3-plan"), Some(Fit::Exact));
        assert_eq!(path("Milestone 2", "milestone-2"), Some(Fit::Exact));
        assert_eq!(path("M2", "milestone-2"), Some(Fit::Exact));
        assert_eq!(path("aim-preview", "004-aim-preview"), Some(Fit::Exact));
        assert_eq!(path("004-aim-preview", "004-aim-preview"), Some(Fit::Exact));
        assert_eq!(
            path("update-queue", "2026-03-06-update-queue"),
            Some(Fit::Exact)
        );
        assert_eq!(path("M1", "m1-retrospective"), Some(Fit::Contains));
        assert_eq!(path("M1", "tasks"), None);
    }

    #[test]
    fn names_in_headings_are_collected_as_written() {
        assert_eq!(named_in_heading("M1: Setup").as_deref(), Some("M1"));
        assert_eq!(
            named_in_heading("5. Milestone M2 – Core").as_deref(),
            Some("M2")
        );
        assert_eq!(
            named_in_heading("Phase 3.1: Setup").as_deref(),
            Some("Phase 3.1")
        );
        assert_eq!(
            named_in_heading("Phase 2: Core").as_deref(),
            Some("Phase 2")
        );
        assert_eq!(named_in_heading("Dependencies"), None);
        assert_eq!(named_in_heading("M1-001: Config"), None);
        assert_eq!(
            named_in_heading("Milestone Plan: M1 - Setup").as_deref(),
            Some("M1")
        );
        assert_eq!(named_in_heading("Tasks: Cancel Sale Order"), None);
    }

    #[test]
    fn spellings_of_one_name_share_a_key() {
        let key = |n: &str| Name::parse(n).unwrap().key();
        assert_eq!(key("Milestone 1"), key("m1"));
        assert_ne!(key("M1"), key("M10"));
        assert_eq!(key("Phase 2"), key("P2"));
        assert_ne!(key("Phase 2"), key("P20"));
    }

    #[test]
    fn empty_names_are_refused() {
        assert!(Name::parse(" -- ").is_none());
    }
}
