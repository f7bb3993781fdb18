//! The text a run writes into git: checkpoint commit messages and their
//! trailers, which `status`, `rollback` and people reading `git log` rely on.

pub use crate::ui::text::one_line;

/// What a checkpoint records about its task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Done,
    /// Skipped: the checkpoint holds the status file only.
    Skipped(Skip),
}

/// Why a task was skipped, and where its changes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// `exit code 125` (the runner's own skip) or `failed (exit code 3)`.
    pub why: String,
    /// The attempt ref holding its changes; `None` when it made none.
    pub saved: Option<String>,
}

/// `Starting T002 [2/3] Title`: the task's name, its place in the run, and
/// from the second attempt on `(attempt 2)`, so that a retry's line does
/// not read as the first one again.
pub fn starting(name: &str, place: (usize, usize), attempt: u32, title: &str) -> String {
    let again = match attempt {
        0 | 1 => String::new(),
        n => format!(" (attempt {n})"),
    };
    format!(
        "Starting {name} [{}/{}]{again} {}",
        place.0,
        place.1,
        one_line(title)
    )
}

/// `T003 [3/3] is marked done in the plan: not run`.
pub fn done_in_plan(name: &str, place: (usize, usize)) -> String {
    format!(
        "{name} [{}/{}] is marked done in the plan: not run",
        place.0, place.1
    )
}

/// The longest subject a checkpoint gets, in characters: what `git log
/// --oneline`, `git shortlog` and review tools show without wrapping.
pub const SUBJECT_MAX: usize = 72;

/// `<milestone> <task>: <title>` within [`SUBJECT_MAX`] characters: a long
/// title is cut at a word and ends with `…`; the ID is never cut unless the
/// milestone and the ID alone are too long.
fn subject(head: &str, title: &str) -> String {
    let fits = |s: &str| s.chars().count() <= SUBJECT_MAX;
    let full = if title.is_empty() {
        head.to_string()
    } else {
        format!("{head}: {title}")
    };
    if fits(&full) {
        return full;
    }
    // Room for the title's words after `<head>: ` and before `…`.
    let room = SUBJECT_MAX.saturating_sub(head.chars().count() + 3);
    let cut: String = title.chars().take(room + 1).collect();
    let words = match cut.rfind(' ') {
        Some(i) if cut.chars().count() > room => &cut[..i],
        _ => &cut[..cut.char_indices().nth(room).map_or(cut.len(), |(i, _)| i)],
    };
    let words = words.trim_end_matches([' ', ',', ';', ':', '-', '—', '.']);
    if words.chars().count() >= 8 {
        return format!("{head}: {words}…");
    }
    if fits(head) {
        // Too little room for a useful part of the title: the ID alone.
        return head.to_string();
    }
    let head: String = head.chars().take(SUBJECT_MAX - 1).collect();
    format!("{head}…")
}

/// The checkpoint commit's message: a subject naming the task (within
/// [`SUBJECT_MAX`] characters), then the trailers `Milestone`,
/// `Milestone-Task`, `Milestone-Progress` and `Milestone-Attempts`.
pub fn checkpoint_message(
    milestone: &str,
    task: &str,
    title: &str,
    verdict: &Verdict,
    progress: (usize, usize),
    attempts: u32,
) -> String {
    let title = one_line(title);
    let (subject, body, skipped) = match verdict {
        Verdict::Done => (
            subject(&format!("{milestone} {task}"), &title),
            String::new(),
            None,
        ),
        Verdict::Skipped(skip) => {
            let changes = match &skip.saved {
                Some(r) => format!("holds none of its changes, which are saved in {r}"),
                None => "holds none of its changes (it made none)".to_string(),
            };
            let body = format!(
                "{task} was skipped ({}); this commit records that in the status\nfile and {changes}.\n\n",
                one_line(&skip.why)
            );
            (
                subject(&format!("{milestone} {task} skipped"), ""),
                body,
                Some(one_line(&skip.why)),
            )
        }
    };
    let skipped = skipped.map_or_else(String::new, |why| format!("Milestone-Skipped: {why}\n"));
    format!(
        "{subject}\n\n{body}Milestone: {milestone}\nMilestone-Task: {task}\nMilestone-Progress: {}/{}\n\
         Milestone-Attempts: {attempts}\n{skipped}",
        progress.0, progress.1
    )
}

/// `message` with a `key: value` trailer for each of `values`, after the
/// trailers it has (the message ends with its trailer block).
pub fn with_trailers(mut message: String, key: &str, values: &[String]) -> String {
    for v in values {
        message.push_str(&format!("{key}: {}\n", one_line(v)));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_says_which_attempt_it_is() {
        assert_eq!(starting("T2", (2, 3), 1, "Two"), "Starting T2 [2/3] Two");
        assert_eq!(
            starting("T2", (2, 3), 2, "Two\nlines"),
            "Starting T2 [2/3] (attempt 2) Two lines"
        );
    }

    #[test]
    fn message_has_subject_then_trailers() {
        assert_eq!(
            checkpoint_message(
                "M1",
                "TASK-002",
                "Parse\nthe  config",
                &Verdict::Done,
                (2, 7),
                2
            ),
            "M1 TASK-002: Parse the config\n\n\
             Milestone: M1\nMilestone-Task: TASK-002\nMilestone-Progress: 2/7\nMilestone-Attempts: 2\n"
        );
        let skip = |saved: Option<&str>| {
            Verdict::Skipped(Skip {
                why: "exit code 125".into(),
                saved: saved.map(str::to_string),
            })
        };
        assert_eq!(
            checkpoint_message(
                "M1",
                "#12",
                "",
                &skip(Some("refs/milestone/M1/attempts/#12/1")),
                (3, 3),
                1
            ),
            "M1 #12 skipped\n\n\
             #12 was skipped (exit code 125); this commit records that in the status\n\
             file and holds none of its changes, which are saved in refs/milestone/M1/attempts/#12/1.\n\n\
             Milestone: M1\nMilestone-Task: #12\nMilestone-Progress: 3/3\nMilestone-Attempts: 1\n\
             Milestone-Skipped: exit code 125\n"
        );
        assert!(
            checkpoint_message("M1", "T", "", &skip(None), (1, 1), 1)
                .contains("holds none of its changes (it made none).")
        );
    }

    #[test]
    fn subjects_stay_within_72_characters() {
        let long =
            "Implement the retry policy for the upload client, with exponential backoff and jitter";
        let s = subject("M1 TASK-014", long);
        assert_eq!(
            s,
            "M1 TASK-014: Implement the retry policy for the upload client, with…"
        );
        assert!(s.chars().count() <= SUBJECT_MAX);
        // Characters, not bytes; a word longer than the room is cut inside.
        let wide = "Ünïcödé ".repeat(12);
        assert!(subject("M1 T1", &wide).chars().count() <= SUBJECT_MAX);
        let word = "x".repeat(100);
        let s = subject("M1 T1", &word);
        assert_eq!(s.chars().count(), SUBJECT_MAX);
        assert!(s.ends_with("x…"), "{s}");
        // A title that fits is kept whole, and the ID is never cut for it.
        assert_eq!(subject("M1 T1", "Short"), "M1 T1: Short");
        let name = "N".repeat(60);
        assert_eq!(
            subject(&format!("{name} T1"), "Some title"),
            format!("{name} T1")
        );
        let huge = "N".repeat(100);
        assert_eq!(subject(&huge, "").chars().count(), SUBJECT_MAX);
    }
}
