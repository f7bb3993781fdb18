//! The command line as a whole: help, version, man page, exit codes.

mod common;

use common::TestRepo;

#[test]
fn outside_a_repository_exits_128_with_a_hint() {
    let t = TestRepo::new();
    let outside = t.home.path().join("not-a-repo");
    std::fs::create_dir(&outside).unwrap();
    let mut c = t.cmd_at(&outside);
    c.env("GIT_CEILING_DIRECTORIES", t.home.path());
    let out: common::Run = c.arg("status").output().unwrap().into();
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 128
    --- stdout
    --- stderr
    error: not a git repository: [HOME]/not-a-repo
    hint: run git milestone inside a git repository, or create one with `git init`
    ");
}

#[test]
fn man_page_is_named_for_git_help() {
    let t = TestRepo::new();
    let out = t.run(["man"]);
    out.success();
    assert!(
        out.stdout.contains(".TH git-milestone 1"),
        "{}",
        &out.stdout[..200.min(out.stdout.len())]
    );
    for sub in ["plan", "run", "status", "rollback", r"install\-hook"] {
        assert!(out.stdout.contains(sub), "man page does not mention {sub}");
    }
}

/// Every man page says what its exit codes mean, and none points at a
/// README the install does not put anywhere; the status page describes
/// the JSON it prints.
#[test]
fn man_pages_have_an_exit_status_and_say_what_they_mean_themselves() {
    let t = TestRepo::new();
    let dir = t.home.path().join("man");
    t.run(["man", "--dir", dir.to_str().unwrap()]).success();
    let mut pages: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    assert!(pages.len() > 10, "{pages:?}");
    for page in &pages {
        let roff = std::fs::read_to_string(page).unwrap();
        assert!(roff.contains(".SH \"EXIT STATUS\""), "{}", page.display());
        assert!(!roff.contains("README"), "{}", page.display());
    }
    let status = t.run(["status", "--help"]);
    insta::assert_snapshot!(status.stdout);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let t = TestRepo::new();
    t.run(["plan", "M1", "--no-such-flag"]).code(2);
}

/// The command line's own errors read as every other error does: one
/// `error:` line, then `hint:` lines (clap's tips, the values it takes, the
/// usage, where the help is), with no blank lines between.
#[test]
fn command_line_errors_are_one_error_line_and_hints() {
    let t = TestRepo::new();
    let all: Vec<String> = [
        &["completions", "nosh"][..],
        &["run", "--bogus"],
        &["bogus"],
        &["bisect", "M1"],
        &["run", "M1", "--jobs", "0"],
        &["status", "--json", "--json"],
    ]
    .iter()
    .map(|args| {
        format!(
            "$ git milestone {}\n{}",
            args.join(" "),
            t.run(*args).render(&t)
        )
    })
    .collect();
    insta::assert_snapshot!(all.join("\n"));
}

/// Run `args` with a standard output whose reader is already gone, as
/// after `| head -1` has read its line: what a shell would report as the
/// exit status, and what the command said on stderr.
fn with_closed_stdout(t: &TestRepo, args: &[&str]) -> (i32, String) {
    use std::os::unix::process::ExitStatusExt;
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = t.cmd().args(args).stdout(writer).output().unwrap();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| 128 + out.status.signal().unwrap());
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let t = TestRepo::with_files(&[("plan.md", "# M1\n- [ ] T001 First\n- [ ] T002 Second\n")]);
    let s = common::milestone_status(
        "M1",
        git_milestone::state::RunState::Running,
        &[("T001", git_milestone::state::TaskState::Pending)],
    );
    t.write_status(&s);
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["status", "M1"],
        &["plan", "M1", "--plan", "plan.md"],
        &["completions", "bash"],
        &["man"],
        &["--help"],
        &[
            "run",
            "M1",
            "--plan",
            "plan.md",
            "--runner",
            "true",
            "--dry-run",
        ],
    ] {
        let (code, stderr) = with_closed_stdout(&t, args);
        assert!(code == 141 || code == 0, "{args:?} exited {code}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[test]
fn a_run_whose_stdout_closes_stops_quietly_and_can_run_again() {
    let t = TestRepo::with_files(&[("plan.md", "# M1\n- [ ] T001 First\n")]);
    let args = ["run", "M1", "--plan", "plan.md", "--runner", "true"];
    let (code, stderr) = with_closed_stdout(&t, &args);
    assert_eq!((code, stderr.as_str()), (141, ""));
    // The run lock went with it.
    t.run(args).success();
}

/// Title set, erase line and clipboard write, as a plan could carry them.
const HOSTILE: &str = "x\u{1b}]0;owned\u{7} \u{1b}[2K \u{1b}]52;c;aGk=\u{7}";

#[track_caller]
fn assert_no_escapes(out: &common::Run) {
    for c in ['\u{1b}', '\u{7}'] {
        assert!(
            !out.stdout.contains(c) && !out.stderr.contains(c),
            "{c:?} reached the terminal:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn plan_titles_reach_the_terminal_escaped_in_plan_and_run() {
    let plan = format!("# M1\n- [ ] T001 Evil {HOSTILE}\n");
    let t = TestRepo::with_files(&[("plan.md", &plan)]);
    let out = t.run(["plan", "M1", "--plan", "plan.md"]);
    out.success();
    assert_no_escapes(&out);
    insta::assert_snapshot!(out.render(&t), @r"
        exit: 0
        --- stdout
        milestone M1: 1 task, 1 not done (plan.md)
        +---+------+---------------------------------------------------+------+------------+
        | # | ID   | Title                                             | Done | Depends on |
        +==================================================================================+
        | 1 | T001 | Evil x\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07 |      |            |
        +---+------+---------------------------------------------------+------+------------+
        --- stderr
        ");
    let out = t.run(["run", "M1", "--plan", "plan.md", "--runner", "true"]);
    out.success();
    assert_no_escapes(&out);
    // The checkpoint's id depends on the times in its status file.
    let id = regex::Regex::new(r"checkpoint [0-9a-f]{7} ").unwrap();
    let render = id
        .replace_all(&out.render(&t), "checkpoint [OID] ")
        .into_owned();
    insta::assert_snapshot!(render, @r"
        exit: 0
        --- stdout
        Starting T001 [1/1] Evil x ]0;owned [2K ]52;c;aGk=
        checkpoint [OID] T001 [1/1] in [DURATION]
        Milestone M1 is complete (1 task run).
        --- stderr
        ");
}

#[test]
fn error_messages_that_echo_a_name_escape_it() {
    let t = TestRepo::with_files(&[("plan.md", "# M1\n- [ ] T001 First\n")]);
    let out = t.run(["plan", &format!("M{HOSTILE}")]);
    out.code(2);
    assert_no_escapes(&out);
    insta::assert_snapshot!(out.render(&t), @r"
        exit: 2
        --- stdout
        --- stderr
        error: no plan found for milestone `Mx\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07`: no tracked Markdown file names it in its path, title or headings
        hint: milestones named in this repository: M1
        hint: only tracked files are searched: `git add` a new plan, or pass its path with --plan PATH
        ");
}

/// A repository of git's sha256 object format, with one commit.
fn sha256_repo() -> TestRepo {
    let t = TestRepo {
        dir: assert_fs::TempDir::new().unwrap(),
        home: assert_fs::TempDir::new().unwrap(),
    };
    t.git(&["init", "-q", "--object-format=sha256", "-b", "main", "."]);
    t.write("plan.md", "# M1\n- [ ] T001 First\n");
    t.commit_all("initial");
    t
}

#[test]
fn a_sha256_repository_is_refused_with_a_clear_message() {
    let t = sha256_repo();
    let out = t.run(["status"]);
    insta::assert_snapshot!(out.render(&t), @r"
        exit: 2
        --- stdout
        --- stderr
        error: this repository uses the sha256 object format, which git-milestone cannot read yet
        hint: git-milestone works in repositories of git's default format (sha1)
        hint: its pre-push hook lets pushes through from sha256 repositories when they carry no milestones
        ");
    for args in [
        &["plan", "M1"][..],
        &["run", "M1", "--runner", "true"],
        &["rollback", "M1"],
        &["install-hook"],
    ] {
        let other = t.run(args);
        assert_eq!(
            (other.code, &other.stderr),
            (out.code, &out.stderr),
            "{args:?}"
        );
    }
}

#[test]
fn plan_run_and_rollback_without_a_name_list_the_milestones() {
    let t = TestRepo::with_files(&[(
        "docs/plan.md",
        "# Plan\n\n## Milestone M1\n- [ ] T001 First\n\n## Milestone M2\n- [ ] T002 Second\n",
    )]);
    let mut s = common::milestone_status(
        "M3",
        git_milestone::state::RunState::Completed,
        &[("X1", git_milestone::state::TaskState::Done)],
    );
    s.plan = "old.md".into();
    t.write_status(&s);
    let mut m1 = common::milestone_status(
        "M1",
        git_milestone::state::RunState::Failed,
        &[("T001", git_milestone::state::TaskState::Failed)],
    );
    m1.plan = "docs/plan.md".into();
    t.write_status(&m1);
    let out = t.run(["run"]);
    insta::assert_snapshot!(out.render(&t), @r"
        exit: 2
        --- stdout
        --- stderr
        error: `git milestone run` needs the name of a milestone; this repository has:
          M1  named in a plan; status: failed
          M2  named in a plan
          M3  status: completed
        hint: for example `git milestone run M1`
        ");
    for args in [&["plan", "--plan", "docs/plan.md"][..], &["rollback"]] {
        let command = args[0];
        let other = t.run(args);
        assert_eq!(other.code, 2);
        assert_eq!(
            other.stderr,
            out.stderr
                .replace("milestone run", &format!("milestone {command}")),
        );
    }
    let empty = TestRepo::with_files(&[("a.txt", "a\n")]);
    insta::assert_snapshot!(empty.run(["plan"]).render(&empty), @r"
        exit: 2
        --- stdout
        --- stderr
        error: `git milestone plan` needs the name of a milestone; no tracked plan in this repository names one, and none has run here
        hint: commit a plan (`git add PLAN.md && git commit`), or name its file: `git milestone plan <name> --plan PATH`
        ");
    insta::assert_snapshot!(empty.run(["rollback"]).render(&empty), @r"
        exit: 2
        --- stdout
        --- stderr
        error: `git milestone rollback` needs the name of a milestone; none has run in this repository, so there is nothing to roll back
        ");
}

#[test]
fn run_help_describes_the_runner_exit_125_the_policies_and_the_status_file() {
    let t = TestRepo::new();
    let out = t.run(["run", "--help"]);
    out.success();
    let sections = &out.stdout[out.stdout.find("The sequence:").unwrap()..];
    insta::assert_snapshot!(sections, @r#"
        The sequence:
          On a terminal, the first run of a milestone, and any run whose plan changed since, shows the
          sequence it read and asks: run, edit or quit. Edit opens it in git's editor as a todo list, as
          `git rebase -i` does: move lines to reorder, `skip` a task or delete its line. The accepted
          sequence is recorded in the status file, and later runs follow it. Without a terminal, or with
          --yes, nothing is asked: the run follows the recorded sequence (saying how the plan changed since,
          and running new tasks where the plan puts them), or the plan as read. `git milestone plan <name>
          --edit` edits the sequence without running.

        Runner environment:
          The runner is run as git runs aliases, in the repository root: `sh -c '<runner> "$@"' <runner>
          <ID>`, so the task ID arrives as $1 (a plan's own ```sh milestone block is run as a script, the ID
          as $1). It runs in a process group of its own, with no standard input; its standard output and
          standard error are shown and logged in the order it writes them. Besides the environment of
          git-milestone it gets:
          MILESTONE
                  the milestone's name
          MILESTONE_TASK
                  the task's ID (also $1)
          MILESTONE_TITLE
                  the task's title, as the plan states it
          MILESTONE_INDEX, MILESTONE_TOTAL
                  the task's place in the run order (from 1) and the number of tasks
          MILESTONE_PLAN
                  the plan file, relative to the repository root
          MILESTONE_ATTEMPT
                  which attempt at the task this is (from 1)
          GIT_REFLOG_ACTION
                  a marker unique to the task, which git writes into the reflog entries of the commits the
                  task makes: only commits so marked are adopted as its own

        Runner exit status:
          The runner's exit status decides, as with `git bisect run`:
          0
                  the task is done: its changes are committed as its checkpoint
          125
                  skip the task: it is recorded as skipped, what it changed is saved under
                  refs/milestone/<name>/attempts/<ID>/<n> (never committed), and the run goes on with the
                  next one; the milestone ends completed with skipped tasks
          anything else
                  the task failed (so does a timeout, or a signal that kills it): on a terminal
                  git-milestone asks what to do, elsewhere the failure policy decides

        Prompt template:
          With --agent, each task's prompt is a template (--prompt-file, else git config milestone.prompt,
          else a built-in one) in which each of these names between braces, `{task}`, is replaced; any other
          `{word}` is refused before the run, and `{{` and `}}` write a brace:
          milestone
                  the milestone's name
          task
                  the task's ID
          title
                  the task's title
          plan
                  the plan file, relative to the repository root
          line
                  the line of the plan where the task is defined
          section
                  the task's text in the plan (its heading or item and what follows, up to the next task)
          index
                  the task's position in the run, from 1
          total
                  the number of tasks in the run
          attempt
                  the attempt number, from 1
          feedback_file
                  on a retry, the file describing the previous attempt (also $MILESTONE_FEEDBACK); empty on
                  a first attempt
          feedback
                  on a retry, a paragraph with the previous attempt's outcome, output, checks and changes;
                  empty on a first attempt
          retry_note
                  on a retry, one sentence pointing at the feedback file; empty on a first attempt

        Failure policies:
          Without a terminal, a failed task is handled by --on-failure, else git config milestone.onFailure,
          else stop:
          stop
                  stop, leaving the failed attempt's changes in the work tree; running the same command
                  again continues at the failed task
          retry, retry:N
                  run the task again, up to 2 times (or N times), then stop; an agent's task stops early
                  when two attempts end the same way
          rollback
                  save the attempt's work under refs/milestone/<name>/attempts/<ID>/<n>, go back to the last
                  checkpoint, then stop
          skip
                  record the task as skipped, save its changes as a rollback does, and go on with the next
                  one

        Files:
          .milestone_bundles/<name>/status.json
                  the run's state (a versioned JSON file): each task's state, attempts, times, exit code and
                  checkpoint, and the sequence you confirmed. It is committed with every checkpoint; a
                  failure is recorded in the work tree's copy. `git milestone status` reads it
          <git-dir>/milestone/<name>/logs/<ID>.<attempt>.log
                  each attempt's output (its first and last 8 MiB when it is longer than 16 MiB)
          refs/milestone/<name>/checkpoints/<ID>
                  each task's checkpoint commit
        "#);
}

/// `-h` promises nothing it does not show: no "below" with nothing below,
/// no `retry:2` listed as if it were the only N, and every key `plan
/// --json --explain` adds.
#[test]
fn short_help_says_only_what_it_shows() {
    let t = TestRepo::new();
    let words = |args: &[&str]| {
        let out = t.run(args);
        out.success();
        out.stdout.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let run = words(&["run", "-h"]);
    let on_failure = &run[run.find("--on-failure").unwrap()..run.find("-j, --jobs").unwrap()];
    insta::assert_snapshot!(on_failure, @"--on-failure <POLICY> What to do when a task fails and there is no terminal to ask: stop, retry[:N], rollback or skip (--help says what each does) [possible values: stop, retry, rollback, skip] ");
    let plan = words(&["plan", "-h"]);
    let explain = &plan[plan.find("--explain").unwrap()..plan.find("--edit").unwrap()];
    insta::assert_snapshot!(explain, @"--explain Show every dependency with the line it came from, what was left out and why, doubts and warnings (with --json: adds `edges`, `left_out`, `unsure` and `warnings` to the object) ");
}

#[test]
fn timeouts_take_fractions_and_bad_values_are_refused_with_the_usual_hint() {
    let t = TestRepo::with_files(&[("plan.md", "# M1\n- [ ] T001 First\n")]);
    let dry = [
        "run",
        "M1",
        "--plan",
        "plan.md",
        "--runner",
        "true",
        "--dry-run",
    ];
    for ok in ["1.5h", "90s", "1h30m", "45"] {
        t.run(dry.iter().copied().chain(["--timeout", ok]))
            .success();
    }
    let out = t.run(dry.iter().copied().chain(["--timeout", "soon"]));
    insta::assert_snapshot!(out.render(&t), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: invalid duration "soon"
        hint: write it like `[DURATION]`, `[DURATION]`, `[DURATION]` or `1h30m`
        "#);
    let out = t.run(dry.iter().copied().chain(["--on-failure", "sometimes"]));
    insta::assert_snapshot!(out.render(&t), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: unknown failure policy "sometimes"
        hint: use one of stop, retry, retry:N (N retries, e.g. retry:3), rollback, skip; e.g. `git milestone run M1 --on-failure retry:2` or `git config milestone.onFailure rollback`
        "#);
}
