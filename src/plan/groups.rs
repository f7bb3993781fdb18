//! Phases and stories as groups of tasks: the names a heading goes by
//! (`phase 3`, `us1`, `setup`, `slice 2`), and which groups a sentence
//! names ("Depends on all user stories", "Phases 3-8").

/// A phase or user story: the names it goes by and the tasks it holds.
#[derive(Debug, Default)]
pub struct Group {
    pub aliases: Vec<String>,
    pub tasks: Vec<u32>,
}

/// Words that name a numbered section of a plan: `slice 2` is `## 2. …`.
pub const SECTION_WORDS: &[&str] = &[
    "section",
    "slice",
    "part",
    "chunk",
    "stage",
    "phase",
    "step",
    "wave",
    "group",
    "milestone",
];

/// The numbered sections a heading's note names: `4.x` (every task of
/// section 4), a bare `4`, or a range `2–7`; each section's tasks once.
pub fn numbered(text: &str, groups: &[Group]) -> Vec<u32> {
    let mut wanted: Vec<(u32, u32)> = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let a: u32 = text[i..i + n].parse().unwrap_or(u32::MAX);
        let mut j = i + n;
        let rest = &text[j..];
        let after = rest.trim_start();
        let range_end = ["–", "-", "—", "to "]
            .iter()
            .filter_map(|d| after.strip_prefix(d))
            .map(str::trim_start)
            .find(|r| r.starts_with(|c: char| c.is_ascii_digit()));
        let mut z = a;
        if let Some(r) = range_end {
            let m = r.bytes().take_while(u8::is_ascii_digit).count();
            z = r[..m].parse().unwrap_or(a);
            j = text.len() - r.len() + m;
        } else if let Some(r) = rest.strip_prefix(".x").or_else(|| rest.strip_prefix(".*")) {
            j = text.len() - r.len();
        } else if !(after.is_empty()
            || after.starts_with([',', ')', ';', '+', '&', '/', ']'])
            || after.starts_with("and ")
            || after.starts_with("or "))
        {
            // `2.1` is a task, `2 reviews` a count: not a section.
            i = j + 1;
            continue;
        }
        wanted.push((a, z.max(a)));
        i = j.max(i + 1);
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for g in groups {
        let n = g
            .aliases
            .iter()
            .find_map(|a| a.strip_prefix("section ")?.parse::<u32>().ok());
        if n.is_some_and(|n| wanted.iter().any(|(a, z)| *a <= n && n <= *z)) {
            for &t in &g.tasks {
                if seen.insert(t) {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// Words that pick some of a group's tasks, not all of them: "Many
/// foundational tasks depend on T006" names no particular task.
const SOME_OF: &[&str] = &[
    "many",
    "some",
    "most",
    "several",
    "few",
    "certain",
    "viele",
    "einige",
    "algunas",
    "algunos",
    "muchas",
    "muchos",
    "plusieurs",
    "certaines",
    "certains",
    "beberapa",
];

/// "many foundational …": the word before the group's name picks only some
/// of its tasks.
fn only_some(lower: &str, alias: &str) -> bool {
    lower.match_indices(alias).any(|(i, _)| {
        let before = lower[..i].trim_end();
        let word = before
            .rsplit(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("");
        SOME_OF.contains(&word)
    })
}

/// The tasks of the groups `text` names, each once.
pub fn named(text: &str, groups: &[Group]) -> Vec<u32> {
    let lower = text.to_lowercase();
    let every_story = names_every_story(&lower);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for g in groups {
        let story = g.aliases.iter().any(|a| is_story(a));
        let named = |a: &String| mentions(&lower, a) && !only_some(&lower, a);
        if (every_story && story) || g.aliases.iter().any(named) {
            for &t in &g.tasks {
                if seen.insert(t) {
                    out.push(t);
                }
            }
        }
    }
    out
}

fn is_story(alias: &str) -> bool {
    alias
        .strip_prefix("us")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// "all user stories", "any user story phases", "every story": each story.
fn names_every_story(lower: &str) -> bool {
    let quantified = ["all ", "any ", "every ", "each "]
        .iter()
        .any(|q| has_words(lower, q.trim()));
    quantified && (lower.contains("user stor") || lower.contains("stories"))
}

/// Whether `lower` names the group alias `alias` ("phase 2", "us3", "setup"),
/// including story numbers written out and phase ranges ("Phase 3-8").
fn mentions(lower: &str, alias: &str) -> bool {
    if let Some(n) = alias.strip_prefix("us") {
        return has_words(lower, alias)
            || has_words(lower, &format!("user story {n}"))
            || has_words(lower, &format!("story {n}"));
    }
    if let Some(n) = alias.strip_prefix("phase ") {
        if has_words(lower, alias) {
            return true;
        }
        return phase_ranges(lower).iter().any(|(a, b)| {
            n.split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok())
                .is_some_and(|m| *a <= m && m <= *b)
        });
    }
    has_words(lower, alias)
}

fn has_words(hay: &str, needle: &str) -> bool {
    let mut at = 0;
    while let Some(i) = hay[at..].find(needle) {
        let s = at + i;
        let e = s + needle.len();
        let before = hay[..s].chars().next_back();
        let after = hay[e..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '.');
        if edge(before)
            && (edge(after)
                || after == Some('.') && !hay[e + 1..].starts_with(|c: char| c.is_ascii_digit()))
        {
            return true;
        }
        at = e;
    }
    false
}

/// `phase 3-8`, `phases 3–8`: inclusive ranges of phase numbers.
fn phase_ranges(lower: &str) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for (i, _) in lower.match_indices("phase") {
        let rest = lower[i + 5..].trim_start_matches('s').trim_start();
        let a: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let rest = rest[a.len()..].trim_start();
        let Some(rest) = rest
            .strip_prefix('-')
            .or_else(|| rest.strip_prefix('–'))
            .or_else(|| rest.strip_prefix("to "))
        else {
            continue;
        };
        let b: String = rest
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let (Ok(a), Ok(b)) = (a.parse(), b.parse()) {
            out.push((a, b));
        }
    }
    out
}

/// Words that do not name a phase on their own.
const NOT_NAMES: &[&str] = &[
    "user",
    "story",
    "stories",
    "phase",
    "task",
    "tasks",
    "the",
    "and",
    "implementation",
    "milestone",
    "week",
    "part",
    "step",
    "stage",
    "core",
    "final",
    "other",
];

/// The names a phase heading goes by: `phase 3`, `us1`, its first word.
pub fn aliases(heading: &str) -> Vec<String> {
    let lower = heading.to_lowercase();
    let mut out = Vec::new();
    if let Some(i) = lower.find("phase ") {
        let n: String = lower[i + 6..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let n = n.trim_end_matches('.');
        if !n.is_empty() {
            out.push(format!("phase {n}"));
        }
    }
    for marker in ["user story ", "story "] {
        if let Some(i) = lower.find(marker) {
            let n: String = lower[i + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if !n.is_empty() {
                out.push(format!("us{n}"));
            }
        }
    }
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        if word.len() > 2 && word.starts_with("us") && word[2..].bytes().all(|b| b.is_ascii_digit())
        {
            out.push(word.to_string());
        }
    }
    let name = lower
        .split_once(':')
        .map_or(lower.as_str(), |(_, n)| n)
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty() && !w.bytes().all(|b| b.is_ascii_digit()));
    // Only a phase goes by its name alone ("Setup", "Polish"); a sub-section
    // such as "Setup for User Story 5" does not.
    if let Some(w) = name.filter(|_| lower.contains("phase "))
        && w.len() >= 4
        && !NOT_NAMES.contains(&w)
        && !w.starts_with("us")
    {
        out.push(w.to_string());
    }
    out.dedup();
    out
}
