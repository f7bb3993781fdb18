//! `git milestone plan`: which IDs are a milestone's tasks, their marks,
//! dependencies and order, and the errors for plans that cannot run.

mod common;

use common::TestRepo;
use git_milestone::plan::extract::extract;
use serde_json::json;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/plans");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

/// A repository holding one fixture at `docs/<name>`.
fn repo_with(name: &str) -> TestRepo {
    TestRepo::with_files(&[(&format!("docs/{name}"), &fixture(name))])
}

/// `plan --json` for a fixture: the task IDs in run order.
fn ids(name: &str, milestone: &str) -> Vec<String> {
    let t = repo_with(name);
    let out = t.run([
        "plan",
        milestone,
        "--plan",
        &format!("docs/{name}"),
        "--json",
    ]);
    out.success();
    out.json()["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

fn field(json: &serde_json::Value, key: &str) -> Vec<String> {
    json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t[key].as_bool() == Some(true))
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn origin_plan_runs_the_task_sequence_not_the_examples() {
    // TASK-001 appears first, but only in acceptance criteria; TASK-XXX is a placeholder.
    assert_eq!(
        ids("origin-sequence.md", "M3"),
        ["TASK-041", "TASK-042", "TASK-043", "TASK-044"]
    );
}

#[test]
fn json_has_the_documented_shape() {
    let t = repo_with("traps.md");
    let out = t.run(["plan", "cleanup", "--plan", "docs/traps.md", "--json"]);
    out.success();
    assert_eq!(out.stderr, "");
    assert_eq!(
        out.json(),
        json!({
            "plan": "docs/traps.md",
            "milestone": "cleanup",
            "tasks": [
                {"id": "TASK-010", "title": "Remove the old cache", "line": 5,
                 "done": true, "optional": false, "depends_on": []},
                {"id": "TASK-011", "title": "Migrate the config loader", "line": 9,
                 "done": false, "optional": false, "depends_on": ["TASK-010", "TASK-009"],
                 "runner": "make migrate-config"},
                {"id": "TASK-013", "title": "Update the changelog", "line": 22,
                 "done": true, "optional": false, "depends_on": ["TASK-011"]},
                {"id": "TASK-013#2", "title": "Release", "line": 29,
                 "done": false, "optional": false, "depends_on": []},
            ]
        })
    );
}

#[test]
fn plan_path_is_relative_to_the_root_from_a_subdirectory() {
    let t = repo_with("cycle.md");
    t.write("docs/ok.md", "- [ ] T001 Only task\n");
    let out = common::Run::from(
        t.cmd_in("docs")
            .args(["plan", "x", "--plan", "ok.md", "--json"])
            .output()
            .unwrap(),
    );
    out.success();
    assert_eq!(out.json()["plan"], "docs/ok.md");
}

#[test]
fn speckit_phases_marks_and_phase_dependencies() {
    let t = repo_with("speckit-phases.md");
    let out = t.run([
        "plan",
        "007-password-reset",
        "--plan",
        "docs/speckit-phases.md",
        "--json",
    ]);
    out.success();
    let json = out.json();
    let all: Vec<String> = (1..=9).map(|i| format!("T{i:03}")).collect();
    let got: Vec<String> = json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    // T010 is only in a code block; the order is the document's.
    assert_eq!(got, all);
    assert_eq!(field(&json, "done"), ["T001", "T002", "T003", "T008"]);
    let deps = |id: &str| -> Vec<String> {
        json["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()["depends_on"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(deps("T001"), Vec::<String>::new());
    assert_eq!(
        deps("T004"),
        ["T001", "T002"],
        "Foundational depends on Setup"
    );
    assert_eq!(
        deps("T006"),
        ["T004", "T003"],
        "inline, then US1 on T003-T004"
    );
    assert_eq!(deps("T007"), ["T005", "T006"], "US2 depends on US1 only");
    assert_eq!(deps("T009"), ["T006", "T007"]);
}

#[test]
fn kiro_optional_in_progress_containers_and_natural_numbering() {
    let t = repo_with("kiro-nested.md");
    let out = t.run(["plan", "parser", "--plan", "docs/kiro-nested.md", "--json"]);
    out.success();
    let json = out.json();
    let got: Vec<&str> = json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    // 2 and 3 only group their sub-tasks; 1 and 4 carry their own work.
    assert_eq!(
        got,
        [
            "1", "2.1", "2.2", "2.3", "3.9", "3.10", "3.10a", "3.11", "4"
        ]
    );
    assert_eq!(field(&json, "done"), ["1", "2.1", "2.2"]);
    assert_eq!(field(&json, "optional"), ["2.3"]);
    assert_eq!(json["tasks"][1]["parent"], "2");
    assert!(json["tasks"][0].get("parent").is_none());
}

#[test]
fn multi_milestone_roadmap_is_scoped_to_the_named_milestone() {
    assert_eq!(ids("roadmap.md", "M1"), ["M1-001", "M1-002"]);
    assert_eq!(ids("roadmap.md", "M2"), ["M2-001", "M2-002"]);
    // The heading's wording works as the name too.
    assert_eq!(
        ids("roadmap.md", "Milestone M2 – Sync"),
        ["M2-001", "M2-002"]
    );
}

#[test]
fn issue_numbers_in_a_phase_table_with_blocked_by() {
    let t = repo_with("issue-table.md");
    let out = t.run(["plan", "search", "--plan", "docs/issue-table.md", "--json"]);
    out.success();
    let json = out.json();
    let tasks = json["tasks"].as_array().unwrap();
    let rows: Vec<(String, String, bool, serde_json::Value)> = tasks
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["title"].as_str().unwrap().to_string(),
                t["done"].as_bool().unwrap(),
                t["depends_on"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("#401".into(), "Index writer".into(), true, json!([])),
            (
                "#402".into(),
                "Query planner".into(),
                false,
                json!(["#401"])
            ),
            (
                "#403".into(),
                "Ranking".into(),
                false,
                json!(["#401", "#402"])
            ),
        ]
    );
}

#[test]
fn a_columns_value_too_small_for_a_table_is_ignored() {
    let t = repo_with("issue-table.md");
    let args = ["plan", "search", "--plan", "docs/issue-table.md"];
    let plain = t.run(args);
    plain.success();
    let narrow = common::Run::from(t.cmd().env("COLUMNS", "5").args(args).output().unwrap());
    narrow.success();
    assert_eq!(narrow.stdout, plain.stdout);
}

#[test]
fn table_output_lists_order_marks_and_dependencies() {
    let t = repo_with("issue-table.md");
    let out = t.run(["plan", "search", "--plan", "docs/issue-table.md"]);
    out.success();
    assert_eq!(
        out.stdout,
        "milestone search: 3 tasks, 2 not done (docs/issue-table.md)\n\
         +---+------+---------------+------+------------+\n\
         | # | ID   | Title         | Done | Depends on |\n\
         +==============================================+\n\
         | 1 | #401 | Index writer  | yes  |            |\n\
         | 2 | #402 | Query planner |      | #401       |\n\
         | 3 | #403 | Ranking       |      | #401–#402  |\n\
         +---+------+---------------+------+------------+\n"
    );
    assert_eq!(out.stderr, "");
}

#[test]
fn explain_shows_edges_what_was_left_out_and_every_kind_of_warning() {
    let t = repo_with("traps.md");
    let out = t.run(["plan", "cleanup", "--plan", "docs/traps.md", "--explain"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 0
    --- stdout
    milestone cleanup: 4 tasks, 2 not done (docs/traps.md)
    +---+------------+---------------------------+------+--------------------+
    | # | ID         | Title                     | Done | Depends on         |
    +========================================================================+
    | 1 | TASK-010   | Remove the old cache      | yes  |                    |
    | 2 | TASK-011   | Migrate the config loader |      | TASK-010, TASK-009 |
    | 3 | TASK-013   | Update the changelog      | yes  | TASK-011           |
    | 4 | TASK-013#2 | Release                   |      |                    |
    +---+------------+---------------------------+------+--------------------+

    dependencies:
      docs/traps.md:12  TASK-011 waits for TASK-010, TASK-009  ("depends on" in the task's text)
      docs/traps.md:27  TASK-013 waits for TASK-011  ("blocked by" in the task's text)

    left out:
      docs/traps.md:18  TASK-012: it is marked won't do, deferred, removed or struck through
      docs/traps.md:33  TASK-020: it is under the heading "Deferred"
      docs/traps.md:37  TASK-001: it is under the heading "Examples"

    warnings:
      docs/traps.md:12  TASK-011 depends on TASK-009, which this plan does not define; it does not hold up TASK-011
      docs/traps.md:29  TASK-013 is defined twice: "Update the changelog" (line 22) and "Release" (line 29); the second is TASK-013#2
    --- stderr
    "#);
}

#[test]
fn plan_says_how_many_items_were_left_out() {
    let t = repo_with("traps.md");
    let out = t.run(["plan", "cleanup", "--plan", "docs/traps.md"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 0
    --- stdout
    milestone cleanup: 4 tasks, 2 not done (docs/traps.md)
    +---+------------+---------------------------+------+--------------------+
    | # | ID         | Title                     | Done | Depends on         |
    +========================================================================+
    | 1 | TASK-010   | Remove the old cache      | yes  |                    |
    | 2 | TASK-011   | Migrate the config loader |      | TASK-010, TASK-009 |
    | 3 | TASK-013   | Update the changelog      | yes  | TASK-011           |
    | 4 | TASK-013#2 | Release                   |      |                    |
    +---+------------+---------------------------+------+--------------------+
    3 items left out (see `git milestone plan cleanup --plan docs/traps.md --explain`)
    --- stderr
    "#);
}

#[test]
fn a_dependency_against_document_order_reorders_and_warns() {
    let t = repo_with("reorder.md");
    let out = t.run(["plan", "x", "--plan", "docs/reorder.md", "--explain"]);
    out.success();
    assert_eq!(ids("reorder.md", "x"), ["T002", "T003", "T001"]);
    assert!(
        out.stdout.ends_with(
            "warnings:\n  docs/reorder.md:3  T001 is listed before T003 but depends on it; T003 runs first\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn a_cycle_of_dependency_fields_is_refused_naming_every_edge() {
    let t = repo_with("cycle-fields.md");
    let out = t.run(["plan", "x", "--plan", "docs/cycle-fields.md"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: dependency cycle: T001 -> T003 (docs/cycle-fields.md:5) -> T002 (docs/cycle-fields.md:13) -> T001 (docs/cycle-fields.md:9)
    hint: each arrow reads "waits for"; remove one of these dependencies from docs/cycle-fields.md
    hint: `git milestone plan <milestone> --explain` lists every dependency with its line
    "#);
}

#[test]
fn a_cycle_made_of_prose_drops_its_latest_edge_with_a_warning() {
    let t = repo_with("cycle.md");
    let out = t.run(["plan", "x", "--plan", "docs/cycle.md", "--explain"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 0
    --- stdout
    milestone x: 3 tasks, 3 not done (docs/cycle.md)
    +---+------+--------------------------------------+------+------------+
    | # | ID   | Title                                | Done | Depends on |
    +=====================================================================+
    | 1 | T001 | Prepare fixtures                     |      |            |
    | 2 | T003 | Build the exporter. Depends on T002. |      |            |
    | 3 | T002 | Build the importer. Depends on T003. |      | T003       |
    +---+------+--------------------------------------+------+------------+

    dependencies:
      docs/cycle.md:4  T002 waits for T003  ("depends on" in the task's text)
      docs/cycle.md:5  T003 waits for T002  ("depends on" in the task's text)

    warnings:
      docs/cycle.md:4  T002 is listed before T003 but depends on it; T003 runs first
      docs/cycle.md:5  dependency cycle: T002 -> T003 (docs/cycle.md:4) -> T002 (docs/cycle.md:5); T003 waiting for T002 (docs/cycle.md:5) is the weakest and is ignored
    --- stderr
    "#);
}

#[test]
fn a_checklist_without_ids_gets_numbered_with_a_warning() {
    let t = repo_with("no-ids.md");
    let out = t.run(["plan", "backups", "--plan", "docs/no-ids.md", "--explain"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 0
    --- stdout
    milestone backups: 3 tasks, 1 not done (docs/no-ids.md)
    +---+-----+-------------------------+------+------------+
    | # | ID  | Title                   | Done | Depends on |
    +=======================================================+
    | 1 | 1.1 | Add the migrations      | yes  |            |
    | 2 | 1.2 | Add storage tests       | yes  |            |
    | 3 | 2.1 | Add the delete endpoint |      |            |
    +---+-----+-------------------------+------+------------+

    no dependencies stated; tasks run in document order

    warnings:
      docs/no-ids.md:3  no task has an ID: the 3 checklist items are numbered 1.1–2.1 in document order, and their numbers change when items are added
    --- stderr
    "#);
}

#[test]
fn a_plan_with_nothing_like_a_task_is_refused_with_a_hint() {
    let t = repo_with("no-units.md");
    let out = t.run(["plan", "backups", "--plan", "docs/no-units.md", "--json"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: no tasks found in docs/no-units.md
    hint: git milestone runs a plan's units of work: checklist items (`- [ ] …`), numbered headings (`## Task 3: …`), table rows with an ID column, or `<task>` elements
    hint: if the milestone's tasks are in another file, name it: `git milestone plan backups --plan <path>`
    "#);
}

#[test]
fn a_missing_plan_file_is_bad_input() {
    let t = TestRepo::with_files(&[("README.md", "# x\n")]);
    let out = t.run(["plan", "x", "--plan", "nope.md"]);
    out.code(2);
    assert!(
        out.stderr
            .starts_with("error: cannot read plan file nope.md\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn conflicting_marks_count_as_not_done() {
    let text = "# Tasks\n\n\
                | ID | Task | Status |\n|---|---|---|\n| T001 | Build | Done |\n\n\
                - [ ] T001 Build\n- [x] T002 Ship (in progress)\n- [x] T003 Test\n";
    let got = extract(text, "x").unwrap();
    let done: Vec<(&str, bool)> = got.tasks.iter().map(|t| (t.id.as_str(), t.done)).collect();
    assert_eq!(done, [("T001", false), ("T002", false), ("T003", true)]);
}

#[test]
fn a_tasks_own_heading_does_not_scope_the_milestone() {
    let text = "# Plan\n\n### M1-001: Config\n\nDo it.\n\n### M1-002: Build\n\nDo that.\n";
    let got = extract(text, "M1").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["M1-001", "M1-002"]);
}

#[test]
fn a_dependency_on_an_items_continuation_line_is_read() {
    let text =
        "# Tasks\n\n- [ ] T001 Setup\n- [ ] T002 Build\n  **Depends on:** T001\n- [ ] T003 Ship\n";
    let got = extract(text, "x").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["T001", "T002", "T003"]);
    assert_eq!(got.tasks[1].depends_on, ["T001"]);
    assert!(got.tasks[2].depends_on.is_empty());
}

#[test]
fn ranges_never_invent_tasks() {
    let text = "# Tasks\n\n- [ ] T001 A\n- [ ] T002 B\n- [ ] T005 C\n\n\
                ## Dependencies\n\n- T005 depends on T001–T004\n- Tasks T001-T009 can run in parallel\n";
    let got = extract(text, "x").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["T001", "T002", "T005"]);
    assert_eq!(got.tasks[2].depends_on, ["T001", "T002"]);
}

#[test]
fn kiro_task_ranges_and_numbered_dependencies() {
    let text = "# Plan\n\n## Phase 1\n\n- [ ] 35. Build A\n  - work\n- [ ] 36. Build B\n  - work\n\n\
                ## Phase 2\n\n- [ ] 37. Build C, after Tasks 35-36\n  - work\n\
                - [ ] 38. Build D\n  - _Requirements: 1.1, 2.1 - after review_\n";
    let got = extract(text, "Phase 2").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["37", "38"]);
    assert_eq!(got.tasks[0].depends_on, ["35", "36"]);
    assert!(got.tasks[1].depends_on.is_empty());
}

#[test]
fn a_large_plan_with_phase_and_range_dependencies() {
    // A 30 KB spec-kit plan. Its speed is measured by bench/run, not here.
    let mut text = String::from("# Tasks\n\n");
    for phase in 1..=10 {
        text.push_str(&format!("## Phase {phase}: Work\n\n"));
        for i in 0..30 {
            let n = (phase - 1) * 30 + i + 1;
            text.push_str(&format!(
                "- [ ] T{n:03} [P] [US{phase}] Implement part {n} in src/module_{n}.rs with tests\n"
            ));
        }
        text.push('\n');
    }
    text.push_str(
        "## Dependencies\n\n- **Phase 2**: Depends on Phase 1\n- T300 depends on T001–T299\n",
    );
    assert!(text.len() > 20_000, "{}", text.len());
    let got = extract(&text, "x").unwrap();
    assert_eq!(got.tasks.len(), 300);
    let deps = |id: &str| &got.tasks.iter().find(|t| t.id == id).unwrap().depends_on;
    let first_299: Vec<String> = (1..300).map(|n| format!("T{n:03}")).collect();
    assert_eq!(deps("T300"), &first_299);
    // Phase 2 waits for all of Phase 1; Phase 3 for nothing stated.
    assert_eq!(deps("T031"), &first_299[..30].to_vec());
    assert!(deps("T061").is_empty());
}

#[test]
fn corpus_score_when_the_corpus_is_present() {
    let check = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/check");
    if !check.exists() {
        // A user's clone has no corpus beside it; the project's CI does and
        // says so (.ci/run), so there a missing corpus fails.
        assert!(
            std::env::var_os("GIT_MILESTONE_REQUIRE_CORPUS").is_none(),
            "GIT_MILESTONE_REQUIRE_CORPUS is set but there is no corpus at {}",
            check.display()
        );
        common::skip(&format!("no plan corpus at {}", check.display()));
        return;
    }
    let out = std::process::Command::new(&check)
        .args(["--mode", "both", "--min", "44", "--bin"])
        .arg(common::bin())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("runs excluded IDs"), "{stdout}");
}

#[test]
fn slug_ids_in_a_table_with_a_depends_on_column() {
    let text = "# Auth\n\n| ID | Task | Depends on | Status |\n|---|---|---|---|\n\
                | `auth-login` | Log in | | Done |\n\
                | `auth-logout` | Log out | auth-login | |\n\
                | `auth-reset` | Reset password | `auth-login`, `auth-mail` | |\n\n\
                | ID | Requirement |\n|---|---|\n| REQ-001 | Users can log in |\n";
    let got = extract(text, "auth").unwrap();
    let rows: Vec<(&str, bool, Vec<String>)> = got
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), t.done, t.depends_on.to_vec()))
        .collect();
    assert_eq!(
        rows,
        [
            ("auth-login", true, vec![]),
            ("auth-logout", false, vec!["auth-login".to_string()]),
            ("auth-reset", false, vec!["auth-login".to_string()]),
        ]
    );
}

#[test]
fn set_aside_sections_but_not_phases_or_the_tasks_own_heading() {
    let text = "# Plan\n\n## Phase 4: Template engine\n\n- [ ] T001 Parse templates\n\n\
                ## Work\n\n### TASK-005: Sample data loader\n\n## Future work\n\n- [ ] T002 Plugins\n\n\
                ## Tasks deferred to v2\n\n- [ ] T003 Themes\n";
    let got = extract(text, "x").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["T001"], "T-tasks outweigh the one TASK- heading");
    let got = extract("## Tasks\n\n### TASK-005: Sample data loader\n", "x").unwrap();
    assert_eq!(got.tasks[0].id, "TASK-005");
}

#[test]
fn the_heading_that_starts_with_the_name_wins() {
    let text = "# Roadmap\n\n## M2 – Sync (after M1)\n\n- [ ] TASK-003 Sync\n\n\
                ## M1 – Storage\n\n- [ ] TASK-001 Format\n- [ ] TASK-002 Layer\n";
    let got = extract(text, "M1").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["TASK-001", "TASK-002"]);
    let got = extract(text, "some-file-stem").unwrap();
    assert_eq!(
        got.tasks.len(),
        3,
        "a name no heading uses means the whole file"
    );
}

#[test]
fn json_with_explain_adds_edges_and_warnings() {
    let t = repo_with("reorder.md");
    let out = t.run([
        "plan",
        "x",
        "--plan",
        "docs/reorder.md",
        "--json",
        "--explain",
    ]);
    out.success();
    let json = out.json();
    assert_eq!(
        json["edges"],
        json!([{"task": "T001", "depends_on": "T003", "line": 3,
                "reason": "\"requires\" in the task's text", "strength": "hard"}])
    );
    assert_eq!(
        json["warnings"],
        json!([{"line": 3, "message": "T001 is listed before T003 but depends on it; T003 runs first"}])
    );
    assert_eq!(json["tasks"].as_array().unwrap().len(), 3);
}

#[test]
fn milestone_names_match_their_spelled_out_form() {
    let text = "# Roadmap\n\n## Milestone 1: Core\n\n- [x] **Task 1.1**: Parse input\n\
                - [ ] **Task 1.2**: Validate input\n\n## Milestone 2: UI\n\n- [ ] Task 2.1: Render the form\n";
    let ids = |name: &str| -> Vec<String> {
        extract(text, name)
            .unwrap()
            .tasks
            .into_iter()
            .map(|t| t.id)
            .collect()
    };
    assert_eq!(ids("M1"), ["1.1", "1.2"]);
    assert_eq!(ids("m2"), ["2.1"]);
    assert_eq!(ids("Milestone 2"), ["2.1"]);
    let got = extract(text, "M1").unwrap();
    assert_eq!(got.tasks[0].title, "Parse input");
    assert!(got.tasks[0].done && !got.tasks[1].done);
}

#[test]
fn a_stray_checkbox_does_not_outvote_numbered_tasks() {
    let text = "# M1\n\n* **Task Sequence:**\n    1. **TASK-001:** Build\n    2. **TASK-002:** Test\n\n\
                ## Done when\n\n- [ ] TASK-002 passes in CI\n";
    let ids: Vec<String> = extract(text, "M1")
        .unwrap()
        .tasks
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["TASK-001", "TASK-002"]);
    let text =
        "## Tasks\n\n- [ ] T001 Build\n- [ ] T002 Test\n\n## Notes\n\n- T009: see the design doc\n";
    let ids: Vec<String> = extract(text, "x")
        .unwrap()
        .tasks
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["T001", "T002"]);
}

#[test]
fn the_main_id_family_wins_and_the_rest_is_reported() {
    let text =
        "# Plan\n\n- [ ] T001 Build\n- [ ] T002 Test\n\n## Related\n\n- #12: the bug report\n";
    let got = extract(text, "x").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["T001", "T002"]);
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    let left: Vec<(usize, &str, &str)> = got
        .left_out
        .iter()
        .map(|l| (l.line, l.item.as_str(), l.reason.as_str()))
        .collect();
    assert_eq!(
        left,
        [(
            8,
            "#12",
            "another kind of ID than the tasks (issue numbers (`#123`))"
        )]
    );
}

#[test]
fn run_says_how_many_items_were_left_out() {
    let t = repo_with("traps.md");
    let out = t.run([
        "run",
        "cleanup",
        "--plan",
        "docs/traps.md",
        "--dry-run",
        "--runner",
        "true",
    ]);
    let first = out.stdout.lines().next().unwrap_or("");
    assert_eq!(
        first,
        "3 items left out (see `git milestone plan cleanup --plan docs/traps.md --explain`)"
    );
}
