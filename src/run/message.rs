//! The text a run writes into git: checkpoint commit messages and their
//! trailers, which `status`, `rollback` and people reading `git log` rely on.

/// One line, no control characters: plan titles go into commit subjects.
pub fn one_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a checkpoint records about its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Done,
    Skipped,
}

/// The checkpoint commit's message: a subject naming the task, then the
/// trailers `Milestone`, `Milestone-Task` and `Milestone-Progress`.
pub fn checkpoint_message(
    milestone: &str,
    task: &str,
    title: &str,
    verdict: Verdict,
    progress: (usize, usize),
) -> String {
    let title = one_line(title);
    let subject = match verdict {
        Verdict::Done if title.is_empty() => format!("{milestone} {task}"),
        Verdict::Done => format!("{milestone} {task}: {title}"),
        Verdict::Skipped => format!("{milestone} {task} skipped"),
    };
    format!(
        "{subject}\n\nMilestone: {milestone}\nMilestone-Task: {task}\nMilestone-Progress: {}/{}\n",
        progress.0, progress.1
    )
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
                Verdict::Done,
                (2, 7)
            ),
            "M1 TASK-002: Parse the config\n\n\
             Milestone: M1\nMilestone-Task: TASK-002\nMilestone-Progress: 2/7\n"
        );
        assert_eq!(
            checkpoint_message("M1", "#12", "", Verdict::Skipped, (3, 3)),
            "M1 #12 skipped\n\nMilestone: M1\nMilestone-Task: #12\nMilestone-Progress: 3/3\n"
        );
    }
}
