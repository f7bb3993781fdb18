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

/// The checkpoint commit's message: a subject naming the task, then the
/// trailers `Milestone`, `Milestone-Task` and `Milestone-Progress`.
pub fn checkpoint_message(
    milestone: &str,
    task: &str,
    title: &str,
    verdict: &Verdict,
    progress: (usize, usize),
) -> String {
    let title = one_line(title);
    let (subject, body, skipped) = match verdict {
        Verdict::Done if title.is_empty() => (format!("{milestone} {task}"), String::new(), None),
        Verdict::Done => (format!("{milestone} {task}: {title}"), String::new(), None),
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
                format!("{milestone} {task} skipped"),
                body,
                Some(one_line(&skip.why)),
            )
        }
    };
    let skipped = skipped.map_or_else(String::new, |why| format!("Milestone-Skipped: {why}\n"));
    format!(
        "{subject}\n\n{body}Milestone: {milestone}\nMilestone-Task: {task}\nMilestone-Progress: {}/{}\n{skipped}",
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
    fn message_has_subject_then_trailers() {
        assert_eq!(
            checkpoint_message(
                "M1",
                "TASK-002",
                "Parse\nthe  config",
                &Verdict::Done,
                (2, 7)
            ),
            "M1 TASK-002: Parse the config\n\n\
             Milestone: M1\nMilestone-Task: TASK-002\nMilestone-Progress: 2/7\n"
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
                (3, 3)
            ),
            "M1 #12 skipped\n\n\
             #12 was skipped (exit code 125); this commit records that in the status\n\
             file and holds none of its changes, which are saved in refs/milestone/M1/attempts/#12/1.\n\n\
             Milestone: M1\nMilestone-Task: #12\nMilestone-Progress: 3/3\nMilestone-Skipped: exit code 125\n"
        );
        assert!(
            checkpoint_message("M1", "T", "", &skip(None), (1, 1))
                .contains("holds none of its changes (it made none).")
        );
    }
}
