//! The sequence a run follows: `plan --edit` with an editor script, runs
//! without a terminal (and with `--yes`) that follow the recorded sequence,
//! the todo list's errors, and the question on a real terminal (tmux).

mod common;

use std::path::PathBuf;

use common::inspect::{assert_fsck_clean, checkpoint_ids, status_json};
use common::runner::{ran_log, run_m1, script, writing_runner};
use common::tmux::{Tmux, sealed_env, tmux_installed};
use common::{Run, TestRepo, normalize};

const PLAN: &str = "# M1\n\n\
    - [ ] T1: Create one\n\
    - [ ] T2: Create two (depends on T1)\n\
    - [ ] T3: Create three\n\
    - [ ] T4: Create four\n\
    - [ ] ~~T9: Dropped idea~~\n";

fn milestone() -> TestRepo {
    let t = TestRepo::with_files(&[("plan.md", PLAN)]);
    writing_runner(&t);
    t
}

fn runner(t: &TestRepo) -> PathBuf {
    t.home.path().join("runner.sh")
}

/// An editor script that edits the list as a user would: moves T3 to
/// the top, marks T2 `skip`, deletes T4's line.
fn reordering_editor(t: &TestRepo) -> String {
    editor(
        t,
        "reorder.sh",
        r#"sed -i -e '/^run T4 /d' -e 's/^run T2 /skip T2 /' "$1"
{ grep '^run T3 ' "$1"; grep -v '^run T3 ' "$1"; } > "$1.new" && mv "$1.new" "$1""#,
    )
}

/// An editor script that writes `text` as the list.
fn writing_editor(t: &TestRepo, name: &str, text: &str) -> String {
    editor(t, name, &format!("printf '%s' '{text}' > \"$1\""))
}

fn editor(t: &TestRepo, name: &str, body: &str) -> String {
    format!("sh {}", script(t, name, body).display())
}

/// `git milestone plan M1 --plan plan.md --edit` with `editor`.
fn plan_edit(t: &TestRepo, editor: &str) -> Run {
    let mut c = t.cmd();
    c.args(["plan", "M1", "--plan", "plan.md", "--edit"])
        .env("GIT_EDITOR", editor);
    Run::from(c.output().unwrap())
}

fn journal(t: &TestRepo) -> PathBuf {
    t.path().join(".git/milestone/M1/sequence.json")
}

fn ran(t: &TestRepo) -> String {
    ran_log(t).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn recorded_order(t: &TestRepo) -> String {
    let status = status_json(t);
    status["sequence"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let skip = if s["skip"] == true { "skip " } else { "" };
            format!("{skip}{}", s["id"].as_str().unwrap())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn plan_edit_records_a_sequence_that_a_run_without_a_terminal_follows() {
    let t = milestone();
    let out = plan_edit(&t, &reordering_editor(&t));
    insta::assert_snapshot!("plan_edit_records", out.render(&t));
    assert!(journal(&t).exists(), "kept in the journal until a run");
    assert!(
        t.read(".git/milestone/M1/sequence-todo").starts_with(
            "run T3 Create three\nrun T1 Create one\nskip T2 Create two (depends on T1)\n\n# "
        ),
        "the list the editor saved is kept"
    );

    let out = run_m1(&t, runner(&t), &[]);
    insta::assert_snapshot!("run_follows_the_recorded_sequence", out.render(&t));
    assert_eq!(ran(&t), "T3 T1");
    assert_eq!(checkpoint_ids(&t, "main").join(" "), "T1 T3");
    assert_eq!(
        recorded_order(&t),
        "T3, skip T4, T1, skip T2",
        "the first run moved it into the status file"
    );
    assert!(!journal(&t).exists());
    assert!(
        t.git(&["show", "HEAD:.milestone_bundles/M1/status.json"])
            .contains("\"sequence\""),
        "committed with the checkpoint"
    );
    // --restart forgets progress, not the sequence.
    run_m1(&t, runner(&t), &["--restart"]).success();
    assert_eq!(ran(&t), "T3 T1 T3 T1");
    assert_eq!(recorded_order(&t), "T3, skip T4, T1, skip T2");
    assert_fsck_clean(&t);
}

#[test]
fn a_changed_plan_is_said_and_followed_without_a_terminal_and_no_new_task_is_dropped() {
    let t = milestone();
    plan_edit(&t, &reordering_editor(&t)).success();
    run_m1(&t, runner(&t), &[]).success();
    // T5 is new after T3, T1 is retitled, T4 is gone.
    t.write(
        "plan.md",
        "# M1\n\n- [ ] T1: Create the first\n- [ ] T2: Create two (depends on T1)\n\
         - [ ] T3: Create three\n- [ ] T5: Create five\n",
    );
    t.commit_all("plan: T5");
    let recorded = status_json(&t)["sequence"].clone();
    let out = run_m1(&t, runner(&t), &[]);
    insta::assert_snapshot!("run_after_the_plan_changed", out.render(&t));
    assert_eq!(ran(&t), "T3 T1 T5");
    assert_eq!(
        status_json(&t)["sequence"],
        recorded,
        "unconfirmed: the record stays as it was, so a terminal asks"
    );

    // `plan --edit` with a status file records there; the next run follows.
    let out = plan_edit(
        &t,
        &writing_editor(&t, "all.sh", "run T1\nrun T2\nrun T3\nrun T5\n"),
    );
    insta::assert_snapshot!("plan_edit_after_a_run", out.render(&t));
    assert_eq!(recorded_order(&t), "T1, T2, T3, T5");
    assert_eq!(
        t.git(&["status", "--porcelain"]),
        " M .milestone_bundles/M1/status.json\n"
    );
    let out = run_m1(&t, runner(&t), &[]);
    out.success();
    assert!(!out.stderr.contains("changed"), "{}", out.stderr);
    assert_eq!(ran(&t), "T3 T1 T5 T2");
    assert_eq!(t.git(&["status", "--porcelain"]), "");
}

#[test]
fn the_todo_lists_errors_are_named_by_line_and_change_nothing() {
    let t = milestone();
    let bad = writing_editor(
        &t,
        "bad.sh",
        "run T1 Create one\npick T3\nrun\nrun Task 9\nskip T1 again\n",
    );
    let out = plan_edit(&t, &bad);
    insta::assert_snapshot!("todo_problems", out.render(&t));
    let out = plan_edit(&t, &writing_editor(&t, "dep.sh", "run T2\nrun T1\n"));
    insta::assert_snapshot!("todo_broken_dependency", out.render(&t));
    let out = plan_edit(&t, &writing_editor(&t, "empty.sh", "# nothing\n"));
    insta::assert_snapshot!("todo_empty", out.render(&t));
    let out = plan_edit(&t, "false");
    insta::assert_snapshot!("editor_fails", out.render(&t));
    assert!(!journal(&t).exists(), "nothing recorded");
    assert_eq!(t.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_recorded_order_the_plan_no_longer_allows_is_refused_without_a_terminal() {
    let t = milestone();
    plan_edit(
        &t,
        &writing_editor(&t, "mine.sh", "run T3\nrun T1\nrun T4\nrun T2\n"),
    )
    .success();
    t.write(
        "plan.md",
        &PLAN.replace("Create three", "Create three (depends on T4)"),
    );
    t.commit_all("T3 waits for T4");
    let out = run_m1(&t, runner(&t), &[]);
    insta::assert_snapshot!("recorded_order_refused", out.render(&t));
    assert_eq!(ran(&t), "");
}

#[test]
fn plan_edit_records_only_when_no_run_holds_the_lock() {
    let t = milestone();
    let _held =
        common::runner::hold_run_lock(&t, "pid 4242\nstarted 2026-01-01T00:00:00Z\nmilestone M1\n");
    let out = plan_edit(&t, &reordering_editor(&t));
    insta::assert_snapshot!("plan_edit_while_a_run_holds_the_lock", out.render(&t));
    assert!(!journal(&t).exists());
    assert!(
        t.read(".git/milestone/M1/sequence-todo")
            .starts_with("run T3 ")
    );
}

#[test]
fn a_dry_run_shows_the_recorded_sequence_and_asks_nothing() {
    let t = milestone();
    plan_edit(&t, &reordering_editor(&t)).success();
    let out = run_m1(&t, runner(&t), &["--dry-run"]);
    insta::assert_snapshot!("dry_run_follows", out.render(&t));
}

/// `git milestone run M1` in a terminal, with `editor` as GIT_EDITOR;
/// `None` (the test says it is skipped) without tmux.
fn start_run(t: &TestRepo, editor: Option<&str>, extra: &[&str]) -> Option<Tmux> {
    if !tmux_installed() {
        // CI installs tmux (.ci/run): there a missing tmux is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is not installed, so the terminal question cannot be tested"
        );
        common::skip("tmux is not installed, so the terminal question cannot be tested");
        return None;
    }
    let bin = common::bin().display().to_string();
    let runner = runner(t).display().to_string();
    let argv = [&*bin, "run", "M1", "--plan", "plan.md", "--runner", &runner];
    let mut env = sealed_env(t);
    if let Some(editor) = editor {
        env.push(("GIT_EDITOR".into(), editor.into()));
    }
    Some(Tmux::start(t.path(), &env, &[&argv[..], extra].concat()))
}

/// The terminal's text: paths and ids normalised, trailing blanks gone.
fn screen(tmux: &Tmux, t: &TestRepo) -> String {
    let text: Vec<String> = normalize(&tmux.screen(), t)
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect();
    text.join("\n").trim_end().to_string() + "\n"
}

#[test]
fn a_first_run_on_a_terminal_asks_and_edit_reorders_deletes_and_skips() {
    let t = milestone();
    let editor = reordering_editor(&t);
    let Some(tmux) = start_run(&t, Some(&editor), &[]) else {
        return;
    };
    tmux.wait_for("Quit without running anything");
    insta::assert_snapshot!("terminal_first_question", screen(&tmux, &t));
    assert_eq!(ran(&t), "", "nothing runs before the answer");
    tmux.keys(&["Down", "Enter"]);
    tmux.wait_for("2 tasks skipped: T4 and T2");
    tmux.wait_for("Quit without running anything");
    insta::assert_snapshot!("terminal_after_the_edit", screen(&tmux, &t));
    tmux.keys(&["Enter"]);
    let shown = tmux.wait_for("[exit ");
    assert!(shown.contains("[exit 0]"), "{shown}");
    assert_eq!(ran(&t), "T3 T1");
    assert_eq!(recorded_order(&t), "T3, skip T4, T1, skip T2");
}

#[test]
fn a_later_run_on_a_terminal_follows_the_recorded_sequence_without_asking() {
    let t = milestone();
    plan_edit(&t, &reordering_editor(&t)).success();
    let Some(tmux) = start_run(&t, None, &[]) else {
        return;
    };
    let shown = tmux.wait_for("[exit ");
    assert!(shown.contains("[exit 0]"), "{shown}");
    assert!(!shown.contains("in this order?"), "{shown}");
    assert!(
        shown.contains("Following the sequence recorded for M1; skipping T4 and T2"),
        "{shown}"
    );
    assert_eq!(ran(&t), "T3 T1");
}

#[test]
fn a_plan_edited_after_the_sequence_was_recorded_asks_again_with_what_changed() {
    let t = milestone();
    plan_edit(&t, &reordering_editor(&t)).success();
    run_m1(&t, runner(&t), &[]).success();
    t.write(
        "plan.md",
        &PLAN.replace("- [ ] T4", "- [ ] T5: Create five\n- [ ] T4"),
    );
    t.commit_all("plan: T5");
    let before = t.read(".milestone_bundles/M1/status.json");
    let Some(tmux) = start_run(&t, None, &[]) else {
        return;
    };
    tmux.wait_for("Quit without running anything");
    insta::assert_snapshot!("terminal_plan_changed", screen(&tmux, &t));
    tmux.keys(&["Down", "Down", "Enter"]);
    let shown = tmux.wait_for("[exit ");
    assert!(shown.contains("[exit 1]"), "{shown}");
    insta::assert_snapshot!("terminal_quit", screen(&tmux, &t));
    assert_eq!(ran(&t), "T3 T1");
    assert_eq!(t.read(".milestone_bundles/M1/status.json"), before);
}

#[test]
fn yes_on_a_terminal_runs_the_plan_as_read_without_asking() {
    let t = milestone();
    let Some(tmux) = start_run(&t, None, &["--yes"]) else {
        return;
    };
    let shown = tmux.wait_for("[exit ");
    assert!(shown.contains("[exit 0]"), "{shown}");
    assert!(!shown.contains("in this order?"), "{shown}");
    assert_eq!(ran(&t), "T1 T2 T3 T4");
    assert!(
        status_json(&t).get("sequence").is_none(),
        "nothing recorded"
    );
}

#[test]
fn a_bad_list_on_a_terminal_is_offered_again_as_written() {
    let t = milestone();
    // First save: a bad line. Second: the editor finds the user's text
    // again, and fixes it.
    let editor = editor(
        &t,
        "twice.sh",
        r#"if grep -q '^frob T2' "$1"; then sed -i 's/^frob/skip/' "$1"
else printf 'run T1\nfrob T2\n' > "$1"; fi"#,
    );
    let Some(tmux) = start_run(&t, Some(&editor), &[]) else {
        return;
    };
    tmux.wait_for("Quit without running anything");
    tmux.keys(&["Down", "Enter"]);
    tmux.wait_for("Abandon the edit (nothing changes)");
    insta::assert_snapshot!("terminal_bad_list", screen(&tmux, &t));
    tmux.keys(&["Enter"]);
    tmux.wait_for("3 tasks skipped: T2, T3 and T4");
    tmux.wait_for("Run 1 task");
    tmux.keys(&["Enter"]);
    let shown = tmux.wait_for("[exit ");
    assert!(shown.contains("[exit 0]"), "{shown}");
    assert_eq!(ran(&t), "T1");
}

#[test]
fn ctrl_c_at_the_question_runs_and_records_nothing() {
    let t = milestone();
    let Some(tmux) = start_run(&t, None, &[]) else {
        return;
    };
    tmux.wait_for("Quit without running anything");
    tmux.keys(&["C-c"]);
    let shown = tmux.wait_for("[exit ");
    assert!(shown.contains("[exit 130]"), "{shown}");
    insta::assert_snapshot!("terminal_ctrl_c", screen(&tmux, &t));
    assert_eq!(ran(&t), "");
    assert!(!t.path().join(".milestone_bundles").exists());
    assert!(!journal(&t).exists());
}

/// Tasks the recorded sequence skips have no record in the status file,
/// but `status` and `log` still name them, table and JSON.
#[test]
fn status_and_log_name_the_tasks_the_sequence_skips() {
    let t = milestone();
    plan_edit(&t, &reordering_editor(&t)).success();
    run_m1(&t, runner(&t), &[]).success();
    // Columns as single spaces: the durations' widths vary from run to run.
    let columns = |out: Run| -> String {
        let text = out.render(&t);
        let lines = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "));
        lines.collect::<Vec<_>>().join("\n")
    };
    let status = columns(t.run(["status", "M1"]));
    let log = columns(t.run(["log", "M1"]));
    insta::assert_snapshot!(format!("{status}\n\n{log}"));
    let skipped = |json: &serde_json::Value| -> String {
        json["skipped_by_sequence"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| format!("{} {}", s["id"], s["title"]))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let status = t.run(["status", "M1", "--json"]).json();
    let log = t.run(["log", "M1", "--json"]).json();
    let want = r#""T4" "Create four", "T2" "Create two (depends on T1)""#;
    assert_eq!(skipped(&status["milestone"]), want);
    assert_eq!(skipped(&log), want);
}

/// A run that continues an earlier one, which had no terminal and so
/// recorded no sequence, does not ask: only a milestone's first run (or
/// `--restart`), or a run whose plan changed since its sequence was
/// recorded, shows the question.
#[test]
fn a_resumed_run_on_a_terminal_continues_without_asking() {
    let t = milestone();
    let log = t.home.path().join("ran.log");
    script(
        &t,
        "runner.sh",
        &format!(
            "echo \"$1\" >> '{}'\n[ \"$1\" = T2 ] && [ ! -e \"$HOME/fixed\" ] && exit 3\n\
             echo \"$1\" > \"$1.txt\"",
            log.display()
        ),
    );
    run_m1(&t, runner(&t), &[]).code(1);
    std::fs::write(t.home.path().join("fixed"), "").unwrap();
    let Some(tmux) = start_run(&t, None, &[]) else {
        return;
    };
    let shown = tmux.wait_for("[exit ");
    assert!(shown.contains("[exit 0]"), "{shown}");
    assert!(!shown.contains("in this order?"), "{shown}");
    assert_eq!(ran(&t), "T1 T2 T2 T3 T4");
    assert!(
        status_json(&t).get("sequence").is_none(),
        "nothing recorded"
    );
}
