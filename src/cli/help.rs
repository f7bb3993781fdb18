//! Reference text that clap's derive cannot hold: the sections `run
//! --help` and `git-milestone-run(1)` show after the options.

/// A section of reference text: a title, an introduction, and terms each
/// with their description.
pub struct Section {
    pub title: &'static str,
    pub intro: &'static str,
    pub items: &'static [(&'static str, &'static str)],
}

/// What `run --help` and `git-milestone-run(1)` say after the options.
pub const RUN_SECTIONS: &[Section] = &[
    Section {
        title: "THE SEQUENCE",
        intro: "On a terminal, the first run of a milestone, and any run whose plan \
                changed since, shows the sequence it read and asks: run, edit or quit. \
                Edit opens it in git's editor as a todo list, as `git rebase -i` does: \
                move lines to reorder, `skip` a task or delete its line. The accepted \
                sequence is recorded in the status file, and later runs follow it. \
                Without a terminal, or with --yes, nothing is asked: the run follows the \
                recorded sequence (saying how the plan changed since, and running new \
                tasks where the plan puts them), or the plan as read. \
                `git milestone plan <name> --edit` edits the sequence without running.",
        items: &[],
    },
    Section {
        title: "RUNNER ENVIRONMENT",
        intro: "The runner is run as git runs aliases, in the repository root: \
                `sh -c '<runner> \"$@\"' <runner> <ID>`, so the task ID arrives as $1 \
                (a plan's own ```sh milestone block is run as a script, the ID as $1). \
                It runs in a process group of its own, with no standard input; its \
                standard output and standard error are shown and logged in the order \
                it writes them. Besides the environment of git-milestone it gets:",
        items: &[
            ("MILESTONE", "the milestone's name"),
            ("MILESTONE_TASK", "the task's ID (also $1)"),
            ("MILESTONE_TITLE", "the task's title, as the plan states it"),
            (
                "MILESTONE_INDEX, MILESTONE_TOTAL",
                "the task's place in the run order (from 1) and the number of tasks",
            ),
            (
                "MILESTONE_PLAN",
                "the plan file, relative to the repository root",
            ),
            (
                "MILESTONE_ATTEMPT",
                "which attempt at the task this is (from 1)",
            ),
            (
                "GIT_REFLOG_ACTION",
                "a marker unique to the task, which git writes into the reflog entries of \
                 the commits the task makes: only commits so marked are adopted as its own",
            ),
        ],
    },
    Section {
        title: "RUNNER EXIT STATUS",
        intro: "The runner's exit status decides, as with `git bisect run`:",
        items: &[
            (
                "0",
                "the task is done: its changes are committed as its checkpoint",
            ),
            (
                "125",
                "skip the task: it is recorded as skipped, what it changed is saved under \
                 refs/milestone/<name>/attempts/<ID>/<n> (never committed), and the run goes \
                 on with the next one; the milestone ends completed with skipped tasks",
            ),
            (
                "anything else",
                "the task failed (so does a timeout, or a signal that kills it): on a \
                 terminal git-milestone asks what to do, elsewhere the failure policy decides",
            ),
        ],
    },
    Section {
        title: "PROMPT TEMPLATE",
        intro: "With --agent, each task's prompt is a template (--prompt-file, else git \
                config milestone.prompt, else a built-in one) in which each of these names \
                between braces, `{task}`, is replaced; any other `{word}` is refused before \
                the run, and `{{` and `}}` write a brace:",
        items: crate::agent::prompt::VARIABLES,
    },
    Section {
        title: "FAILURE POLICIES",
        intro: "Without a terminal, a failed task is handled by --on-failure, else git \
                config milestone.onFailure, else stop:",
        items: &[
            (
                "stop",
                "stop, leaving the failed attempt's changes in the work tree; running the \
                 same command again continues at the failed task",
            ),
            (
                "retry, retry:N",
                "run the task again, up to 2 times (or N times), then stop; an agent's \
                 task stops early when two attempts end the same way",
            ),
            (
                "rollback",
                "save the attempt's work under refs/milestone/<name>/attempts/<ID>/<n>, go \
                 back to the last checkpoint, then stop",
            ),
            (
                "skip",
                "record the task as skipped, save its changes as a rollback does, and go \
                 on with the next one",
            ),
        ],
    },
    Section {
        title: "FILES",
        intro: "",
        items: &[
            (
                ".milestone_bundles/<name>/status.json",
                "the run's state (a versioned JSON file): each task's state, attempts, \
                 times, exit code and checkpoint, and the sequence you confirmed. It is \
                 committed with every checkpoint; a failure is recorded in the work \
                 tree's copy. `git milestone status` reads it",
            ),
            (
                "<git-dir>/milestone/<name>/logs/<ID>.<attempt>.log",
                "each attempt's output (its first and last 8 MiB when it is longer than 16 MiB)",
            ),
            (
                "refs/milestone/<name>/checkpoints/<ID>",
                "each task's checkpoint commit",
            ),
        ],
    },
];

/// What every man page says after its options: the exit codes of every
/// command (README, "Exit codes").
pub const EXIT_STATUS: Section = Section {
    title: "EXIT STATUS",
    intro: "",
    items: &[
        ("0", "success"),
        (
            "1",
            "a task or check failed (status --exit-code: a milestone failed or completed \
             with skipped tasks); or you quit at run's question, or abandoned plan --edit",
        ),
        ("2", "bad input or a refusal: nothing was changed"),
        ("3", "status --exit-code only: a milestone is mid-run"),
        ("128", "not inside a git repository"),
        ("130", "interrupted (Ctrl-C)"),
        (
            "141",
            "standard output was closed early (git milestone status | head -1): the \
             command stops quietly, as git does; run first stops as for Ctrl-C and records \
             the task (or the run) as interrupted",
        ),
    ],
};

impl Section {
    /// As help text: the title capitalised as clap's headings are, the
    /// terms indented, each description on its own line below its term.
    pub fn plain(&self) -> String {
        let mut title = self.title.to_lowercase();
        if let Some(first) = title.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        let mut s = format!("{title}:\n");
        if !self.intro.is_empty() {
            s.push_str(&format!("  {}\n", self.intro));
        }
        for (term, text) in self.items {
            s.push_str(&format!("  {term}\n          {text}\n"));
        }
        s
    }

    /// As roff: `.SH`, the introduction, then a `.TP` per term.
    pub fn roff(&self) -> String {
        let mut s = format!(".SH \"{}\"\n", self.title);
        if !self.intro.is_empty() {
            s.push_str(&roff_text(self.intro));
            s.push('\n');
        }
        for (term, text) in self.items {
            s.push_str(&format!(
                ".TP\n\\fB{}\\fR\n{}\n",
                roff_text(term),
                roff_text(text)
            ));
        }
        s
    }
}

/// Text made safe for roff: backslashes escaped, hyphens as `\-` (so a
/// search for `--on-failure` finds them), a leading `.` or `'` protected.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_text_escapes_what_roff_would_read_as_markup() {
        assert_eq!(roff_text("--on-failure"), "\\-\\-on\\-failure");
        assert_eq!(roff_text(".milestone_bundles"), "\\&.milestone_bundles");
        assert_eq!(roff_text("a\\b"), "a\\eb");
    }
}
