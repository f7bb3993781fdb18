use super::confirm::{Answer, Confirmed, Confirmer, View, before_run, confirm, edit};
use super::todo::{self, Parsed, Problem};
use super::*;
use crate::error::Result;

/// The plan of `text` for milestone M1, read as `plan` reads it.
pub(super) fn plan_of(text: &str) -> Plan {
    let extracted = crate::plan::extract::extract_in(text, "M1", "plan.md").unwrap();
    crate::plan::plan_of("plan.md".into(), "M1", extracted).unwrap()
}

const FOUR: &str = "# M1\n\n\
    - [ ] T1: One\n\
    - [ ] T2: Two, which depends on T1\n\
    - [ ] T3: Three\n\
    - [ ] T4: Four\n";

fn ids(seq: &Sequence) -> Vec<String> {
    seq.tasks
        .iter()
        .map(|s| format!("{}{}", if s.skip { "-" } else { "" }, s.id))
        .collect()
}

fn seq(plan: &Plan, order: &[&str]) -> Sequence {
    let mut s = Sequence::of(plan);
    s.tasks = order
        .iter()
        .map(|o| {
            let (skip, id) = match o.strip_prefix('-') {
                Some(id) => (true, id),
                None => (false, *o),
            };
            let t = plan.tasks.iter().find(|t| t.id == id).unwrap();
            Step::of(t, skip)
        })
        .collect();
    s
}

#[test]
fn the_reading_is_followed_until_the_plan_changes() {
    let plan = plan_of(FOUR);
    assert_eq!(decide(None, &plan), Decision::First(Sequence::of(&plan)));
    let mine = seq(&plan, &["T3", "T1", "-T4", "T2"]);
    assert_eq!(decide(Some(&mine), &plan), Decision::Follow(mine.clone()));
    assert!(!mine.is_reading());
    assert!(Sequence::of(&plan).is_reading());
}

#[test]
fn a_changed_plan_is_reported_and_merged_into_a_reordered_sequence() {
    let old = plan_of(FOUR);
    let mine = seq(&old, &["T3", "T1", "-T4", "T2"]);
    // T5 is new after T3, T4 is gone, T1 is retitled, T3 moved first.
    let now = plan_of(
        "# M1\n\n- [ ] T3: Three\n- [ ] T5: Five\n- [ ] T1: Uno\n- [ ] T2: Two, which depends on T1\n",
    );
    let Decision::Changed(merged, diff) = decide(Some(&mine), &now) else {
        panic!("not changed")
    };
    assert_eq!(ids(&merged), ["T3", "T5", "T1", "T2"]);
    assert_eq!(merged.read, ["T3", "T5", "T1", "T2"]);
    assert_eq!(
        diff.lines(),
        [
            "T5 is new: it runs after T3",
            "T4 is no longer in the plan",
            "T1 was retitled: \"One\" is now \"Uno\"",
            "the plan now puts T3 before T1",
        ]
    );
}

#[test]
fn a_sequence_in_the_plans_order_takes_the_plans_new_order_with_its_skips() {
    let old = plan_of(FOUR);
    let mine = seq(&old, &["T1", "T2", "-T3", "T4"]);
    let now = plan_of(
        "# M1\n\n- [ ] T0: Zero\n- [ ] T4: Four\n- [ ] T1: One\n- [ ] T2: Two, which depends on T1\n- [ ] T3: Three\n",
    );
    let merged = merge(&mine, &now);
    assert_eq!(ids(&merged), ["T0", "T4", "T1", "T2", "-T3"]);
    assert_eq!(
        diff(&mine, &now).lines(),
        ["T0 is new: it runs first", "the plan now puts T4 before T1"]
    );
}

#[test]
fn a_new_first_task_of_a_reordered_sequence_runs_first() {
    let old = plan_of(FOUR);
    let mine = seq(&old, &["T4", "T1", "T2", "T3"]);
    let now = plan_of(&FOUR.replace("- [ ] T1", "- [ ] T0: Zero\n- [ ] T1"));
    assert_eq!(ids(&merge(&mine, &now)), ["T0", "T4", "T1", "T2", "T3"]);
}

#[test]
fn apply_orders_the_run_and_leaves_out_skipped_tasks_not_yet_finished() {
    let plan = plan_of(FOUR);
    let mine = seq(&plan, &["T3", "-T1", "T2", "-T4"]);
    let run = |finished: &dyn Fn(&str) -> bool| -> Vec<String> {
        apply(&plan, &mine, finished)
            .tasks
            .iter()
            .map(|t| t.id.clone())
            .collect()
    };
    assert_eq!(run(&|_| false), ["T3", "T2"]);
    assert_eq!(run(&|id| id == "T1"), ["T3", "T1", "T2"]);
}

#[test]
fn only_firm_dependencies_are_broken_by_an_order() {
    let plan = plan_of(FOUR);
    let b = broken(&plan, &seq(&plan, &["T2", "T1", "T3", "T4"]));
    assert_eq!(b.len(), 1);
    assert_eq!(
        b[0].message(&plan),
        "T2 would run before T1, which it depends on (plan.md:4: \"depends on\" in the task's text)"
    );
    // Skipping the task it waits for breaks nothing.
    assert!(broken(&plan, &seq(&plan, &["T2", "-T1", "T3", "T4"])).is_empty());
    let soft = plan_of("# M1\n\n- [ ] T1: One\n- [ ] T2: Two, ideally after T1\n");
    assert!(broken(&soft, &seq(&soft, &["T2", "T1"])).is_empty());
}

#[test]
fn the_todo_list_round_trips() {
    let plan = plan_of(FOUR);
    let mine = seq(&plan, &["T3", "T1", "-T4", "T2"]);
    let text = todo::render(&mine, &plan);
    insta::assert_snapshot!(text, @r"
    run T3 Three
    run T1 One
    skip T4 Four
    run T2 Two, which depends on T1

    # The sequence of milestone M1 (plan.md): 3 tasks to run, 1 skipped.
    #
    # Commands:
    # run <ID> <title> = run the task
    # skip <ID> <title> = do not run it (s for short; r for run)
    #
    # Tasks run from top to bottom: move a line to change the order.
    # A deleted line is skipped, as with skip.
    # Only the command and the ID are read; the title is there for you.
    # The ID may be written with or without its unit word or #
    # (Task 3 or 3, #204 or 204).
    # A task must come after the tasks it depends on.
    # Tasks already done are not run again, wherever they are.
    #
    # An empty list abandons the edit: nothing changes.
    ");
    assert_eq!(todo::parse(&text, &plan), Ok(Parsed::Sequence(mine)));
}

/// A title reads on one line as it does everywhere else (a checkpoint's
/// subject, the run's lines): a control character is a space there too.
#[test]
fn a_title_with_a_control_character_reads_as_a_checkpoint_shows_it() {
    let mut plan = plan_of(FOUR);
    plan.tasks[0].title = "One\u{7}and\n  more".into();
    let text = todo::render(&Sequence::of(&plan), &plan);
    let first = text.lines().next().unwrap();
    assert_eq!(first, "run T1 One and more");
    assert_eq!(
        first.strip_prefix("run T1 ").unwrap(),
        crate::ui::text::one_line(&plan.tasks[0].title)
    );
}

#[test]
fn an_edited_list_reorders_skips_and_deletes() {
    let plan = plan_of(FOUR);
    let Ok(Parsed::Sequence(s)) = todo::parse("r T3\n  s   t1 whatever\nrun T2\n", &plan) else {
        panic!()
    };
    // T4's line was deleted: skipped, after T3 as in the plan.
    assert_eq!(ids(&s), ["T3", "-T4", "-T1", "T2"]);
    assert_eq!(todo::parse("# nothing\n\n   \n", &plan), Ok(Parsed::Empty));
}

#[test]
fn task_ids_in_the_list_may_carry_their_unit_word() {
    let plan = plan_of(
        "# M1\n\n## Task 1: One\n\nDo it.\n\n## Task 2: Two\n\nDo it.\n\n## Task 3: Three\n\nDo it.\n",
    );
    let Ok(Parsed::Sequence(s)) = todo::parse("run Task 2 Two\nrun 3\nskip task 1\n", &plan) else {
        panic!()
    };
    assert_eq!(ids(&s), ["2", "3", "-1"]);
    let issues =
        plan_of("# M1\n\n| # | Title |\n|---|---|\n| #204 | Fix it |\n| #205 | Test it |\n");
    let Ok(Parsed::Sequence(s)) = todo::parse("run 205\nrun #204\n", &issues) else {
        panic!()
    };
    assert_eq!(ids(&s), ["#205", "#204"]);
}

fn problems(text: &str, plan: &Plan) -> Vec<String> {
    match todo::parse(text, plan) {
        Err(p) => p.iter().map(Problem::to_string).collect(),
        Ok(other) => panic!("no problem found: {other:?}"),
    }
}

#[test]
fn every_problem_of_an_edited_list_is_named_with_its_line() {
    let plan = plan_of(FOUR);
    assert_eq!(
        problems(
            "run T1\npick T3\nrun\n\nrun T9 Nine\nrun Task 9\nskip T1 again\nrun T2\n",
            &plan
        ),
        [
            "line 2: unknown command \"pick\": use run or skip",
            "line 3: no task ID after run",
            "line 5: the plan has no task T9",
            "line 6: the plan has no task Task 9",
            "line 7: T1 is listed twice (first on line 1)",
        ]
    );
    assert_eq!(
        problems("run T2\nrun T1\n", &plan),
        [
            "line 1: T2 would run before T1, which it depends on (plan.md:4: \"depends on\" in the task's text)"
        ]
    );
    assert_eq!(
        problems("skip T1\nskip T2\n", &plan),
        ["every task is skipped, so nothing would run (an empty list abandons the edit)"]
    );
}

#[test]
fn an_id_two_tasks_could_have_is_refused() {
    let task = |id: &str| Task {
        id: id.into(),
        label: None,
        title: format!("Do {id}"),
        line: 1,
        done: false,
        optional: false,
        parent: None,
        depends_on: Default::default(),
        runner: None,
        verify: Vec::new(),
        allow_empty: false,
        parallel: false,
    };
    let plan = Plan {
        plan: "plan.md".into(),
        milestone: "M1".into(),
        tasks: vec![task("#3"), task("3")],
        ids: vec!["#3".into(), "3".into()],
        ..Default::default()
    };
    assert_eq!(
        problems("run Task 3\nrun #3\n", &plan),
        ["line 1: Task 3 could be any of #3 and 3: write the ID as the plan does"]
    );
}

/// Answers from a script; records what it was shown.
#[derive(Default)]
struct Scripted {
    answers: Vec<Answer>,
    edits: Vec<String>,
    again: Vec<bool>,
    shown: Vec<(Vec<String>, Vec<String>, usize)>,
    opened: Vec<String>,
    problems: Vec<Vec<String>>,
    notes: Vec<String>,
}

impl Confirmer for Scripted {
    fn ask(&mut self, view: &View<'_>) -> Result<Answer> {
        let order = view.plan.tasks.iter().map(|t| t.id.clone()).collect();
        let skipped = view.skipped.iter().map(|s| s.id.clone()).collect();
        self.shown.push((order, skipped, view.problems.len()));
        Ok(self.answers.remove(0))
    }
    fn edit(&mut self, todo: &str) -> Result<String> {
        self.opened.push(todo.to_string());
        Ok(self.edits.remove(0))
    }
    fn edit_again(&mut self, problems: &[Problem]) -> Result<bool> {
        self.problems
            .push(problems.iter().map(Problem::to_string).collect());
        Ok(self.again.remove(0))
    }
    fn note(&mut self, line: &str) {
        self.notes.push(line.to_string());
    }
}

#[test]
fn edit_then_run_runs_the_edited_sequence() {
    let plan = plan_of(FOUR);
    let mut c = Scripted {
        answers: vec![Answer::Edit, Answer::Run],
        edits: vec!["run T3\nrun T1\nrun T2\n".into()],
        ..Default::default()
    };
    let got = confirm(&plan, Sequence::of(&plan), None, &mut c).unwrap();
    let Confirmed::Run(s) = got else { panic!() };
    // T4's line was deleted: skipped, where the plan puts it (after T3).
    assert_eq!(ids(&s), ["T3", "-T4", "T1", "T2"]);
    let shown = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(c.shown[1], (shown(&["T3", "T1", "T2"]), shown(&["T4"]), 0));
}

#[test]
fn a_bad_list_is_offered_again_as_written_and_abandoning_changes_nothing() {
    let plan = plan_of(FOUR);
    let bad = "run T1\nfrob T2\n";
    let mut c = Scripted {
        edits: vec![bad.into(), "run T2\nrun T1\n".into()],
        again: vec![true, false],
        ..Default::default()
    };
    assert_eq!(edit(&plan, &Sequence::of(&plan), &mut c).unwrap(), None);
    assert_eq!(c.opened[1], bad, "the user's text, not the original");
    assert_eq!(
        c.problems[0],
        ["line 2: unknown command \"frob\": use run or skip"]
    );
    assert_eq!(c.notes, ["Edit abandoned: nothing changed."]);
}

#[test]
fn an_empty_list_abandons_the_edit_and_the_question_comes_back() {
    let plan = plan_of(FOUR);
    let mut c = Scripted {
        answers: vec![Answer::Edit, Answer::Quit],
        edits: vec!["# all gone\n".into()],
        ..Default::default()
    };
    let got = confirm(&plan, Sequence::of(&plan), None, &mut c).unwrap();
    assert_eq!(got, Confirmed::Quit);
    assert_eq!(c.shown.len(), 2);
    assert_eq!(c.shown[0], c.shown[1], "nothing changed");
    assert_eq!(
        c.notes,
        ["The list is empty: the edit is abandoned and nothing changed."]
    );
}

#[test]
fn an_order_that_breaks_a_dependency_cannot_be_run_from_the_question() {
    let plan = plan_of(FOUR);
    let recorded = seq(&plan, &["T2", "T1", "T3", "T4"]);
    let mut c = Scripted {
        answers: vec![Answer::Run, Answer::Quit],
        ..Default::default()
    };
    // Recorded before the plan said T2 depends on T1: the plan changed.
    let mut old = recorded.clone();
    old.tasks[0].title = "Two".into();
    let got = before_run(&plan, Some(&old), false, Some(&mut c)).unwrap();
    assert_eq!(got, None);
    assert_eq!(c.shown.len(), 2, "asked again after Run");
    assert_eq!(c.shown[0].2, 1);
    let e = before_run(&plan, Some(&old), false, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "error: the recorded sequence of M1 no longer fits its plan: T2 would run before T1, \
         which it depends on (plan.md:4: \"depends on\" in the task's text)\n\
         hint: change the sequence with `git milestone plan M1 --edit`"
    );
}

#[test]
fn without_a_question_a_first_run_records_nothing_and_a_changed_plan_keeps_the_record() {
    let plan = plan_of(FOUR);
    let first = before_run(&plan, None, false, None).unwrap().unwrap();
    assert_eq!(
        (first.follow, first.record, first.asked),
        (None, None, false)
    );
    let old = plan_of("# M1\n\n- [ ] T1: One\n- [ ] T2: Two\n- [ ] T3: Three\n");
    let mine = seq(&old, &["T1", "T2", "-T3"]);
    let got = before_run(&plan, Some(&mine), true, None).unwrap().unwrap();
    assert_eq!(got.record, Some(mine));
    assert_eq!(ids(got.follow.as_ref().unwrap()), ["T1", "T2", "-T3", "T4"]);
    assert_eq!(
        got.warnings,
        [
            "warning: the plan of M1 changed since its sequence was recorded:",
            "  T4 is new: it runs after T3",
            "  T2 was retitled: \"Two\" is now \"Two, which depends on T1\"",
            "the run follows the recorded sequence with these changes, unconfirmed \
             (confirm or change it with `git milestone plan M1 --plan plan.md --edit`)",
        ]
    );
    assert_eq!(got.following, None);
}

#[test]
fn a_followed_sequence_says_so_unless_it_is_the_plans_reading() {
    let plan = plan_of(FOUR);
    let same = before_run(&plan, Some(&Sequence::of(&plan)), false, None)
        .unwrap()
        .unwrap();
    assert_eq!(same.following, None);
    let mine = seq(&plan, &["T1", "T2", "-T3", "-T4"]);
    let got = before_run(&plan, Some(&mine), false, None)
        .unwrap()
        .unwrap();
    assert_eq!(
        got.following.as_deref(),
        Some(
            "Following the sequence recorded for M1; skipping T3 and T4 \
             (`git milestone plan M1 --edit` changes it)."
        )
    );
}

#[test]
fn an_older_status_file_without_a_sequence_reads() {
    let s = crate::state::Status::parse(
        br#"{"version": 1, "milestone": "M1", "plan": "p.md", "state": "running",
             "started_at": null, "updated_at": "2026-01-01T00:00:00Z",
             "base_commit": null, "tasks": []}"#,
        "x",
    )
    .unwrap();
    assert_eq!(s.sequence, None);
}

#[test]
fn nothing_is_asked_when_every_task_is_done() {
    let mut plan = plan_of(FOUR);
    for t in &mut plan.tasks {
        t.done = true;
    }
    let mut c = Scripted::default();
    let got = before_run(&plan, None, false, Some(&mut c))
        .unwrap()
        .unwrap();
    assert!(!got.asked);
    assert!(c.shown.is_empty());
}
