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
         | 3 | #403 | Ranking       |      | #401, #402 |\n\
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
      docs/traps.md:12  TASK-011 waits for TASK-010, TASK-009  (a dependency field)
      docs/traps.md:27  TASK-013 waits for TASK-011  ("blocked by" in the task's text)

    left out:
      docs/traps.md:18  TASK-012: it is struck through
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
    warning: docs/traps.md:12: TASK-011 depends on TASK-009, which this plan does not define; it does not hold up TASK-011
    warning: docs/traps.md:29: TASK-013 is defined twice: "Update the changelog" (line 22) and "Release" (line 29); the second is TASK-013#2
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
fn placeholder_looking_ids_are_tasks_where_the_document_defines_them() {
    let text = "# M1\n\n- [ ] TASK-000 Set up the workspace\n- [ ] TASK-001 Parse input\n\n\
                ## T000: Bootstrap\n\nNotes.\n";
    let got = extract(text, "M1").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["TASK-000", "TASK-001"]);
    let got = extract("# M1\n\n## T000: Bootstrap\n\n## T001: Build\n", "M1").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["T000", "T001"]);
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

/// `plan NAME --plan docs/FIXTURE --explain`, rendered for a snapshot.
fn explained(name: &str, milestone: &str) -> String {
    let t = repo_with(name);
    let out = t.run([
        "plan",
        milestone,
        "--plan",
        &format!("docs/{name}"),
        "--explain",
    ]);
    out.render(&t)
}

#[test]
fn implementation_plan_headings_are_tasks_and_their_steps_stay_inside() {
    insta::assert_snapshot!(explained("implementation-plan.md", "csv"), @r#"
    exit: 0
    --- stdout
    milestone csv: 5 tasks, 5 not done (docs/implementation-plan.md)
    +---+-----+-------------------------------+------+------------+
    | # | ID  | Title                         | Done | Depends on |
    +=============================================================+
    | 1 | 0   | Add a row iterator to reports |      |            |
    | 2 | 0.5 | Expose column types           |      |            |
    | 3 | 1   | CSV writer                    |      |            |
    | 4 | 1a  | Streaming for large reports   |      |            |
    | 5 | 2   | Menu entry                    |      |            |
    +---+-----+-------------------------------+------+------------+

    no dependencies stated; tasks run in document order
    --- stderr
    "#);
}

#[test]
fn a_tasks_json_id_is_its_number_and_its_label_is_as_written() {
    let t = repo_with("implementation-plan.md");
    let out = t.run([
        "plan",
        "csv",
        "--plan",
        "docs/implementation-plan.md",
        "--json",
    ]);
    out.success();
    let json = out.json();
    assert_eq!(json["tasks"][1]["id"], "0.5");
    assert_eq!(json["tasks"][1]["label"], "Task 0.5");
}

#[test]
fn gsd_roadmap_scoped_to_a_version_with_inserted_phases_and_conflicting_marks() {
    insta::assert_snapshot!(explained("gsd-roadmap.md", "v2.1"), @r#"
    exit: 0
    --- stdout
    milestone v2.1: 4 tasks, 4 not done (docs/gsd-roadmap.md)
    +---+------+-----------------------------------------------------------+------+------------+
    | # | ID   | Title                                                     | Done | Depends on |
    +==========================================================================================+
    | 1 | 5    | Report model — Queries and aggregates behind every report |      | 4          |
    | 2 | 6    | Report pages — One page per report with filters           |      | 5          |
    | 3 | 7    | Scheduled reports — Mail a report on a schedule           |      |            |
    | 4 | 07.1 | Time zones for schedules (INSERTED)                       |      | 7          |
    +---+------+-----------------------------------------------------------+------+------------+

    dependencies:
      docs/gsd-roadmap.md:30  5 waits for 4  (a dependency field)
      docs/gsd-roadmap.md:39  6 waits for 5  (a dependency field)
      docs/gsd-roadmap.md:47  07.1 waits for 7  ("before" in the task's text)
      docs/gsd-roadmap.md:64  07.1 waits for 7  (a dependency field)

    may run at the same time (with run --jobs):
      docs/gsd-roadmap.md:47  7 may run beside 6  ("independent of" in the task's text)

    unsure:
      5 counts as not done: marked done by [x] (line 22) and "Complete" (line 57), not done by an open item inside it (line 35)
    --- stderr
    "#);
}

#[test]
fn gsd_roadmap_shipped_milestone_in_a_details_block() {
    assert_eq!(ids("gsd-roadmap.md", "v2.0"), ["1", "2", "3", "4"]);
}

#[test]
fn gsd_phase_plan_task_elements_by_name_or_id_attribute() {
    insta::assert_snapshot!(explained("gsd-phase-plan.md", "04-02"), @r#"
    exit: 0
    --- stdout
    milestone 04-02: 3 tasks, 3 not done (docs/gsd-phase-plan.md)
    +---+----------+------------------------------------+------+------------+
    | # | ID       | Title                              | Done | Depends on |
    +=======================================================================+
    | 1 | 1a       | Add the charge job                 |      |            |
    | 2 | 1b       | Retry failed charges               |      | 1a         |
    | 3 | 04-02-T2 | Charging and retries (Tasks 1a/1b) |      |            |
    +---+----------+------------------------------------+------+------------+

    dependencies:
      docs/gsd-phase-plan.md:28  1b waits for 1a  ("builds on" in the task's text)
    --- stderr
    "#);
}

#[test]
fn lettered_sections_and_inserted_sub_numbers_keep_document_order() {
    assert_eq!(
        ids("lettered-sections.md", "auth"),
        [
            "1.1", "1.2", "2.1", "2.2", "2a.1", "2a.2", "3.1", "3.1a", "3.2"
        ]
    );
}

#[test]
fn a_tables_milestone_column_scopes_the_milestone() {
    insta::assert_snapshot!(explained("table-milestones.md", "M2"), @r#"
    exit: 0
    --- stdout
    milestone M2: 2 tasks, 2 not done (docs/table-milestones.md)
    +---+----+-----------------------+------+------------+
    | # | ID | Title                 | Done | Depends on |
    +====================================================+
    | 1 | 3  | Required-column check |      |            |
    | 2 | 4  | Type check            |      |            |
    +---+----+-----------------------+------+------------+

    no dependencies stated; tasks run in document order

    left out:
      docs/table-milestones.md:12  "Check required columns": a checklist item without an ID, outside the tasks
      docs/table-milestones.md:13  "Check types": a checklist item without an ID, outside the tasks
    --- stderr
    "#);
}

#[test]
fn unit_words_and_done_marks_in_another_language() {
    insta::assert_snapshot!(explained("etapes.md", "visionneuse"), @r#"
    exit: 0
    --- stdout
    milestone visionneuse: 5 tasks, 2 not done (docs/etapes.md)
    +---+----+---------------------------------------+------+------------+
    | # | ID | Title                                 | Done | Depends on |
    +====================================================================+
    | 1 | 1  | Lecture des fichiers                  | yes  |            |
    | 2 | 2  | Affichage de la carte                 | yes  |            |
    | 3 | 3  | Cache des tuiles (terminé 2025-03-02) | yes  |            |
    | 4 | 4  | Export PNG                            |      |            |
    | 5 | 4b | Export PDF                            |      |            |
    +---+----+---------------------------------------+------+------------+

    no dependencies stated; tasks run in document order
    --- stderr
    "#);
}

#[test]
fn dependencies_a_careful_reader_draws() {
    insta::assert_snapshot!(explained("deps-prose.md", "sync"), @r#"
    exit: 0
    --- stdout
    milestone sync: 9 tasks, 9 not done (docs/deps-prose.md)
    +---+------+------------------------------------------------------------+------+-----------------------------------------+
    | # | ID   | Title                                                      | Done | Depends on                              |
    +========================================================================================================================+
    | 1 | T001 | Define the sync protocol                                   |      |                                         |
    | 2 | T002 | Server endpoint (pairs with T003)                          |      |                                         |
    | 3 | T003 | Client library; T001 feeds it                              |      | T002, T001                              |
    | 4 | T005 | Offline queue, using the T002 endpoint; depends on T003    |      | T003                                    |
    | 5 | T004 | Conflict resolution, ideally after T005                    |      | T005                                    |
    | 6 | T006 | Metrics (can land now, works regardless of T004)           |      |                                         |
    | 7 | T008 | Examples                                                   |      |                                         |
    | 8 | T007 | Docs for the protocol (see T001); T008 must land before it |      | T008                                    |
    | 9 | T009 | Release. Depends on T009 and T001–T008.                    |      | T001–T003, T004, T005, T006, T007, T008 |
    +---+------+------------------------------------------------------------+------+-----------------------------------------+

    dependencies:
      docs/deps-prose.md:4  T003 waits for T002  ("pairs with" in the task's text, soft)
      docs/deps-prose.md:5  T003 waits for T001  ("feeds" in the task's text)
      docs/deps-prose.md:6  T004 waits for T005  ("after" in the task's text, soft)
      docs/deps-prose.md:7  T005 waits for T003  ("depends on" in the task's text)
      docs/deps-prose.md:9  T007 waits for T008  ("before" in the task's text)
      docs/deps-prose.md:11  T009 waits for T001, T002, T003, T004, T005, T006, T007, T008  ("depends on" in the task's text)

    warnings:
      docs/deps-prose.md:6  T004 is listed before T005 but depends on it; T005 runs first
      docs/deps-prose.md:9  T007 is listed before T008 but depends on it; T008 runs first
      docs/deps-prose.md:11  T009 depends on itself; that dependency is ignored
    --- stderr
    "#);
}

#[test]
fn milestone_names_match_whole_tokens() {
    assert_eq!(ids("phases-decimal.md", "Phase 5"), ["1", "2"]);
    assert_eq!(ids("phases-decimal.md", "Phase 5.1"), ["3"]);
    assert_eq!(ids("phases-decimal.md", "P6"), ["4"]);
    // A version's pre-release is a version of its own, whichever comes first.
    assert_eq!(ids("versions.md", "0.4.0"), ["T003"]);
    assert_eq!(ids("versions.md", "0.4.0-rc.1"), ["T001", "T002"]);
}

#[test]
fn a_short_phase_name_the_plan_lacks_is_refused_not_read_as_the_whole_file() {
    insta::assert_snapshot!(explained("phases-decimal.md", "P7"), @r"
    exit: 2
    --- stdout
    --- stderr
    error: docs/phases-decimal.md does not name milestone P7: it names Phase 5, Phase 5.1 and Phase 6
    hint: use one of those names, e.g. `git milestone plan 'Phase 5' --plan docs/phases-decimal.md`
    ");
}

#[test]
fn a_list_item_names_a_milestone_and_a_missing_one_is_refused() {
    assert_eq!(ids("list-milestones.md", "M2"), ["TASK-003", "TASK-004"]);
    insta::assert_snapshot!(explained("list-milestones.md", "M3"), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: docs/list-milestones.md does not name milestone M3: it names M1 and M2
    hint: use one of those names, e.g. `git milestone plan M1 --plan docs/list-milestones.md`
    "#);
}

#[test]
fn close_families_are_reported_as_unsure() {
    insta::assert_snapshot!(explained("competing.md", "work"), @r#"
    exit: 0
    --- stdout
    milestone work: 2 tasks, 2 not done (docs/competing.md)
    +---+------+---------------------+------+------------+
    | # | ID   | Title               | Done | Depends on |
    +====================================================+
    | 1 | T101 | Compile the core    |      |            |
    | 2 | T102 | Compile the plugins |      |            |
    +---+------+---------------------+------+------------+

    no dependencies stated; tasks run in document order

    left out:
      docs/competing.md:10  BUG-201: another kind of ID than the tasks (`BUG###` IDs)
      docs/competing.md:11  BUG-202: another kind of ID than the tasks (`BUG###` IDs)

    unsure:
      two kinds of units compete: `T###` IDs (2) and `BUG###` IDs (2); the first were taken
    --- stderr
    "#);
}

#[test]
fn records_written_as_headings() {
    insta::assert_snapshot!(explained("record-headings.md", "tool"), @r#"
    exit: 0
    --- stdout
    milestone tool: 3 tasks, 1 not done (docs/record-headings.md)
    +---+----+---------------------+------+------------+
    | # | ID | Title               | Done | Depends on |
    +==================================================+
    | 1 | 1  | Parse the config    | yes  |            |
    | 2 | 2  | Validate the config | yes  | 1          |
    | 3 | 4  | Print a summary     |      | 2          |
    +---+----+---------------------+------+------------+

    dependencies:
      docs/record-headings.md:15  2 waits for 1  (a dependency field)
      docs/record-headings.md:29  4 waits for 2  (a dependency field)

    left out:
      docs/record-headings.md:3  Phase 1: another kind of ID than the tasks (`Phase` numbers)
      docs/record-headings.md:17  Phase 2: another kind of ID than the tasks (`Phase` numbers)
      docs/record-headings.md:19  Task 3: it is marked "dropped" (line 19)
    --- stderr
    "#);
}

#[test]
fn sub_tasks_namespaced_by_phase_make_the_phases_the_units() {
    insta::assert_snapshot!(explained("namespaced-phases.md", "fetcher"), @r#"
    exit: 0
    --- stdout
    milestone fetcher: 3 tasks, 2 not done (docs/namespaced-phases.md)
    +---+----+----------+------+------------+
    | # | ID | Title    | Done | Depends on |
    +=======================================+
    | 1 | 1  | Download | yes  |            |
    | 2 | 2  | Resume   |      |            |
    | 3 | 3  | Mirrors  |      |            |
    +---+----+----------+------+------------+

    no dependencies stated; tasks run in document order

    unsure:
      2 counts as not done: marked done by "✅ Done" (line 8), not done by an open item inside it (line 19)
    --- stderr
    "#);
    assert_eq!(ids("namespaced-phases.md", "Stage 2"), ["S2-1", "S2-2"]);
}

#[test]
fn the_same_task_written_twice_is_one_task() {
    let text = "# Tasks\n\n- [ ] T001 Build the parser in `src/parse.rs`\n\
                - [ ] T001 Build the parser in `crates/core/src/parse.rs`\n- [ ] T002 Ship\n";
    let got = extract(text, "x").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["T001", "T002"]);
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
}

#[test]
fn in_progress_wont_do_and_follow_up_marks() {
    let text = "# Tasks\n\n- [~] T001 Queued\n- [-] T002 Started\n- [x] T003 Finished\n\
                - [ ] T004 Old idea (won't do)\n\n| ID | Task | Status |\n|---|---|---|\n\
                | T005 | Legacy import | Obsolete |\n| T006 | Cleanup | Skipped |\n\n\
                ## Follow-ups\n\n- [ ] T007 Later polish\n";
    let got = extract(text, "x").unwrap();
    let done: Vec<(&str, bool)> = got.tasks.iter().map(|t| (t.id.as_str(), t.done)).collect();
    assert_eq!(done, [("T001", false), ("T002", false), ("T003", true)]);
    let left: Vec<&str> = got.left_out.iter().map(|l| l.item.as_str()).collect();
    assert_eq!(left, ["T004", "T005", "T006", "T007"]);
}

#[test]
fn a_plan_that_is_not_utf8_is_refused_naming_the_line() {
    let t = TestRepo::with_files(&[("README.md", "# x\n")]);
    let mut bytes = b"# Tasks\n\n- [ ] T001 Caf".to_vec();
    bytes.extend([0xe9, b'\n']);
    std::fs::write(t.path().join("plan.md"), bytes).unwrap();
    let out = t.run(["plan", "x", "--plan", "plan.md"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: plan file plan.md is not UTF-8 text (line 3 has an invalid byte)
    hint: save the plan as UTF-8, e.g. `iconv -f latin1 -t utf-8`
    "#);
}

#[test]
fn a_plan_too_large_to_be_one_is_refused() {
    let t = TestRepo::with_files(&[("README.md", "# x\n")]);
    let big = "- [ ] T001 x\n".repeat(9 * 1024 * 1024 / 13 + 1);
    std::fs::write(t.path().join("plan.md"), big).unwrap();
    let out = t.run(["plan", "x", "--plan", "plan.md"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: plan file plan.md is too large to be a plan (9.0 MB; the limit is 8 MB)
    hint: split the plan, or pass the milestone's own file with --plan PATH
    "#);
}

#[test]
fn short_ids_where_checklist_items_start() {
    insta::assert_snapshot!(explained("short-ids.md", "export"), @r#"
    exit: 0
    --- stdout
    milestone export: 3 tasks, 2 not done (docs/short-ids.md)
    +---+----+--------------------------------------------------+------+------------+
    | # | ID | Title                                            | Done | Depends on |
    +===============================================================================+
    | 1 | T1 | Settings model. Add the struct and its defaults. | yes  |            |
    | 2 | T2 | Export command. Writes the settings as TOML.     |      | T1         |
    | 3 | T3 | Import command. Reads them back; after T2.       |      | T2         |
    +---+----+--------------------------------------------------+------+------------+

    dependencies:
      docs/short-ids.md:9  T2 waits for T1  (a dependency field)
      docs/short-ids.md:10  T3 waits for T2  ("after" in the task's text)
    --- stderr
    "#);
}

#[test]
fn a_name_that_matches_two_sections_is_unsure() {
    let text = "# Plan\n\n## M2: Sync\n\n- [ ] T001 Protocol\n\n## Notes\n\n## M2: Sync, again\n\n- [ ] T002 Retry\n";
    let got = extract(text, "M2").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["T001"]);
    assert_eq!(
        got.unsure,
        ["the name matches two sections, line 3 and line 9; the first was taken"]
    );
}

#[test]
fn a_task_s_own_checks_and_allow_empty_mark_are_read() {
    let t = repo_with("verify.md");
    let out = t.run(["plan", "M4", "--plan", "docs/verify.md", "--json"]);
    out.success();
    let tasks = out.json()["tasks"].clone();
    let got: Vec<(String, serde_json::Value, bool)> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t.get("verify").cloned().unwrap_or(json!([])),
                t["allow_empty"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "TASK-010".to_string(),
                json!(["cargo test store::", "cargo test --doc store"]),
                false
            ),
            (
                "TASK-011".to_string(),
                json!(["grep -q \"## Store\" README.md"]),
                false
            ),
            ("TASK-012".to_string(), json!([]), true),
        ]
    );
}

#[test]
fn a_numbered_section_that_makes_templates_is_a_step_of_the_list() {
    // "Templates" names what section 2 delivers; only the unnumbered
    // "Examples" section is a specimen of the format.
    let got = extract(&fixture("numbered-deliverables.md"), "x").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1.1", "1.2", "2.1", "2.2"]);
    let left: Vec<(&str, &str)> = got
        .left_out
        .iter()
        .map(|l| (l.item.as_str(), l.reason.as_str()))
        .collect();
    assert_eq!(left, [("9.1", "it is under the heading \"Examples\"")]);
}

#[test]
fn a_task_element_without_a_name_is_numbered_by_its_position() {
    let t = repo_with("unnamed-checkpoint.md");
    let out = t.run([
        "plan",
        "07-02",
        "--plan",
        "docs/unnamed-checkpoint.md",
        "--json",
    ]);
    out.success();
    let tasks = out.json()["tasks"].clone();
    let got: Vec<(&str, &str, &str)> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap(),
                t["label"].as_str().unwrap(),
                t["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("1", "Task 1", "Write the CSV encoder"),
            ("2", "Task 2", "Add the export button"),
            ("3", "Task 3", "CSV export from the report page"),
        ]
    );
    // Named by `id` attributes, not by position: the unnamed one is its position.
    let text = "<task id=\"a-1\">\n<name>Build</name>\n</task>\n\n<task>\n<what-built>Build</what-built>\n</task>\n";
    let got = extract(text, "x").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["a-1", "2"]);
}

#[test]
fn a_status_word_in_capitals_inside_a_task_line_leaves_it_out() {
    let got = extract(&fixture("deferred-inline.md"), "x").unwrap();
    let ids: Vec<(&str, bool)> = got.tasks.iter().map(|t| (t.id.as_str(), t.done)).collect();
    assert_eq!(ids, [("T001", true), ("T002", true), ("T004", false)]);
    insta::assert_snapshot!(explained("deferred-inline.md", "offline-sync"), @r#"
    exit: 0
    --- stdout
    milestone offline-sync: 3 tasks, 1 not done (docs/deferred-inline.md)
    +---+------+---------------------------------------------------+------+------------+
    | # | ID   | Title                                             | Done | Depends on |
    +==================================================================================+
    | 1 | T001 | Add the change journal in src/sync/journal.rs     | yes  |            |
    | 2 | T002 | Replay the journal on reconnect — depends on T001 | yes  | T001       |
    | 3 | T004 | Document the journal format in docs/sync.md       |      |            |
    +---+------+---------------------------------------------------+------+------------+

    dependencies:
      docs/deferred-inline.md:6  T002 waits for T001  ("depends on" in the task's text)

    left out:
      docs/deferred-inline.md:7  T003: its title marks it left out (line 7)
      docs/deferred-inline.md:9  T005: its title marks it left out (line 9)
    --- stderr
    "#);
}

#[test]
fn an_epic_among_its_issues_is_left_out() {
    let got = extract(&fixture("epic-row.md"), "x").unwrap();
    let ids: Vec<(&str, bool)> = got.tasks.iter().map(|t| (t.id.as_str(), t.done)).collect();
    assert_eq!(ids, [("#41", true), ("#42", false), ("#43", false)]);
    let left: Vec<(&str, &str)> = got
        .left_out
        .iter()
        .map(|l| (l.item.as_str(), l.reason.as_str()))
        .collect();
    assert_eq!(left, [("#40", "it is the epic that holds the other tasks")]);
    // A tag says so too; a plan made only of epics runs them.
    let text = "- [ ] T010 [Epic] Payments\n- [ ] T011 Card form\n- [ ] T012 Refunds\n";
    let ids: Vec<String> = extract(text, "x")
        .unwrap()
        .tasks
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["T011", "T012"]);
    let text = "- [ ] T010 Epic: Payments\n- [ ] T011 Epic: Search\n";
    let ids: Vec<String> = extract(text, "x")
        .unwrap()
        .tasks
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["T010", "T011"]);
}

#[test]
fn many_tasks_of_a_phase_is_not_every_task_of_it() {
    let got = extract(&fixture("partial-group.md"), "x").unwrap();
    let deps: Vec<(&str, Vec<String>)> = got
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), t.depends_on.to_vec()))
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        deps,
        [
            ("T001", s(&[])),
            ("T002", s(&["T001"])),
            ("T003", s(&["T002", "T001"])),
            ("T004", s(&["T001"])),
        ]
    );
    assert_eq!(got.warnings, []);
}

#[test]
fn a_dependency_in_a_section_heading_holds_for_the_sections_tasks() {
    let got = extract(&fixture("section-deps.md"), "x").unwrap();
    let deps: Vec<(&str, String)> = got
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), t.depends_on.to_vec().join(" ")))
        .collect();
    assert_eq!(
        deps,
        [
            ("1.1", String::new()),
            ("1.2", String::new()),
            ("2.1", "1.1".into()),
            ("2.2", "1.1".into()),
            ("3.1", "1.1 1.2 2.1 2.2".into()),
            ("4.1", "1.1 1.2 2.1 2.2 3.1".into()),
            ("4.2", "1.1 1.2 2.1 2.2 3.1".into()),
            // "2 reviews" counts reviews; it names no section.
            ("5.1", String::new()),
        ]
    );
    // A task heading's own note is the task's.
    let text = "## Task 1: Parse\n\nRead it.\n\n## Task 2: Render (after Task 1)\n\nDraw it.\n";
    let got = extract(text, "x").unwrap();
    assert_eq!(got.tasks[1].depends_on, ["1"]);
    assert_eq!(got.deps[0].reason, "\"after\" in a heading");
}

#[test]
fn sub_items_indented_with_tabs_are_read_as_written() {
    let got = extract(&fixture("tab-indented.md"), "x").unwrap();
    let ids: Vec<(&str, bool)> = got.tasks.iter().map(|t| (t.id.as_str(), t.done)).collect();
    assert_eq!(ids, [("1.1", true), ("1.2", false), ("2", false)]);
    assert_eq!(got.unsure, Vec::<String>::new());
}

#[test]
fn a_table_without_its_separator_line_is_refused_saying_so() {
    let t = repo_with("table-no-separator.md");
    let out = t.run(["plan", "x", "--plan", "docs/table-no-separator.md"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: no tasks found in docs/table-no-separator.md
    hint: line 5 looks like a table row, but its table has no `|---|` line under the header, so Markdown reads it as text: add one
    hint: git milestone runs a plan's units of work: checklist items (`- [ ] …`), numbered headings (`## Task 3: …`), table rows with an ID column, or `<task>` elements
    hint: if the milestone's tasks are in another file, name it: `git milestone plan x --plan <path>`
    ");
}

#[test]
fn odd_input_gives_a_reading_or_a_clear_error() {
    // Nothing, or only headings: refused.
    for text in ["", "\n\n", "# Title\n\n## Part one\n\n### More\n"] {
        let e = extract(text, "x").unwrap_err();
        assert_eq!(e.exit_code(), 2, "{text:?}");
        assert!(e.to_string().contains("no tasks found"), "{e}");
    }
    let ids = |text: &str| -> Vec<(String, bool, Vec<String>)> {
        extract(text, "x")
            .unwrap()
            .tasks
            .into_iter()
            .map(|t| (t.id, t.done, t.depends_on.to_vec()))
            .collect()
    };
    let want = vec![
        ("T001".to_string(), true, vec![]),
        ("T002".to_string(), false, vec!["T001".to_string()]),
    ];
    // Windows line endings, a byte-order mark.
    let lf = "# Tasks\n\n- [x] T001 First\n- [ ] T002 Second, after T001\n";
    assert_eq!(ids(&lf.replace('\n', "\r\n")), want);
    assert_eq!(ids(&format!("\u{feff}{lf}")), want);
    // Commented-out items are not the plan's.
    let commented = "# Tasks\n\n<!--\n- [ ] T000 Old\n-->\n- [x] T001 First\n\
                     <!-- - [ ] T009 Parked -->\n- [ ] T002 Second, after T001\n";
    assert_eq!(ids(commented), want);
    // Deep nesting: the innermost item is the task, no stack to overflow.
    let deep: String = (0..400)
        .map(|d| format!("{}- [ ] T{:03} Step\n", "  ".repeat(d), d + 1))
        .collect();
    assert_eq!(ids(&deep).last().unwrap().0, "T400");
    // A README's roadmap checklist: its items, numbered, when asked for it.
    let readme = "# Tool\n\nA tool.\n\n## Install\n\n```sh\n- [ ] not a task\n```\n\n\
                  ## Roadmap\n\n- [x] Parse input\n- [ ] Plugins\n\n## License\n\nMIT\n";
    let got = extract(readme, "Roadmap").unwrap();
    let items: Vec<(&str, &str, bool)> = got
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), t.title.as_str(), t.done))
        .collect();
    assert_eq!(items, [("1", "Parse input", true), ("2", "Plugins", false)]);
    // A long changelog: version headings are no units, so nothing to run.
    let log: String = (0..1000)
        .map(|v| format!("## [1.{v}.0]\n\n### Fixed\n\n- Crash on empty input (#{v})\n\n"))
        .collect();
    assert!(extract(&format!("# Changelog\n\n{log}"), "x").is_err());
}

#[test]
fn labelled_items_inside_a_task_element_are_its_steps() {
    let got = extract(&fixture("task-element-steps.md"), "x").unwrap();
    let ids: Vec<(&str, Option<&str>)> = got
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), t.label.as_deref()))
        .collect();
    assert_eq!(ids, [("1", Some("Task 1")), ("2", Some("Task 2"))]);
}

#[test]
fn a_hyphenated_status_after_a_dash_is_still_a_status() {
    let text = "## 1. Tests\n\n- [x] 1.1 Unit tests for the parser\n\
                - [ ] 1.2 Unit tests for the importer — deferred to follow-up\n";
    let got = extract(text, "x").unwrap();
    let ids: Vec<&str> = got.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1.1"]);
    assert_eq!(got.left_out[0].item, "1.2");
}

/// A broken dependency cycle and an ID defined twice are warned about on
/// every `plan` and `run`, not only under `--explain`.
#[test]
fn plan_and_run_warn_about_a_broken_cycle_and_a_duplicate_id() {
    let t = TestRepo::with_files(&[(
        "c2.md",
        "# C2\n\n- [ ] T001 Schema, requires T002\n- [ ] T002 API, requires T001\n\
         - [ ] T003 Docs\n- [ ] T003 Release\n",
    )]);
    insta::assert_snapshot!(t.run(["plan", "C2"]).render(&t), @r#"
    exit: 0
    --- stdout
    milestone C2: 4 tasks, 4 not done (c2.md)
    +---+--------+-----------------------+------+------------+
    | # | ID     | Title                 | Done | Depends on |
    +========================================================+
    | 1 | T002   | API, requires T001    |      |            |
    | 2 | T001   | Schema, requires T002 |      | T002       |
    | 3 | T003   | Docs                  |      |            |
    | 4 | T003#2 | Release               |      |            |
    +---+--------+-----------------------+------+------------+
    --- stderr
    warning: c2.md:3: T001 is listed before T002 but depends on it; T002 runs first
    warning: c2.md:4: dependency cycle: T001 -> T002 (c2.md:3) -> T001 (c2.md:4); T002 waiting for T001 (c2.md:4) is the weakest and is ignored
    warning: c2.md:6: T003 is defined twice: "Docs" (line 5) and "Release" (line 6); the second is T003#2
    "#);
    let out = t.run(["run", "C2", "--dry-run", "--runner", "true"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 0
    --- stdout
    Milestone C2 from c2.md: 4 tasks (dry run: nothing will be changed)
    1/4 T002 API, requires T001
        run: sh -c 'true "$@"' true T002   (runner from --runner)
        then: checkpoint commit, refs/milestone/C2/checkpoints/T002
    2/4 T001 Schema, requires T002
        run: sh -c 'true "$@"' true T001   (runner from --runner)
        then: checkpoint commit, refs/milestone/C2/checkpoints/T001
    3/4 T003 Docs
        run: sh -c 'true "$@"' true T003   (runner from --runner)
        then: checkpoint commit, refs/milestone/C2/checkpoints/T003
    4/4 T003#2 Release
        run: sh -c 'true "$@"' true 'T003#2'   (runner from --runner)
        then: checkpoint commit, refs/milestone/C2/checkpoints/T003#2
    --- stderr
    warning: c2.md:3: T001 is listed before T002 but depends on it; T002 runs first
    warning: c2.md:4: dependency cycle: T001 -> T002 (c2.md:3) -> T001 (c2.md:4); T002 waiting for T001 (c2.md:4) is the weakest and is ignored
    warning: c2.md:6: T003 is defined twice: "Docs" (line 5) and "Release" (line 6); the second is T003#2
    "#);
}

/// Past five warnings, the rest are counted and `--explain` named.
#[test]
fn more_than_five_warnings_are_counted() {
    let mut plan = String::from("# C3\n\n");
    for i in 1..=7 {
        plan.push_str(&format!("- [ ] T00{i} Task {i}, requires T00{i}\n"));
    }
    let t = TestRepo::with_files(&[("c3.md", &plan)]);
    let out = t.run(["plan", "C3"]);
    insta::assert_snapshot!(out.stderr, @r"
    warning: c3.md:3: T001 depends on itself; that dependency is ignored
    warning: c3.md:4: T002 depends on itself; that dependency is ignored
    warning: c3.md:5: T003 depends on itself; that dependency is ignored
    warning: c3.md:6: T004 depends on itself; that dependency is ignored
    warning: c3.md:7: T005 depends on itself; that dependency is ignored
    warning: 2 more (see `git milestone plan C3 --explain`)
    ");
}

/// Two tasks that wait for the same ones read as a plural.
#[test]
fn explain_says_two_tasks_wait_for_one() {
    let t = TestRepo::with_files(&[(
        "c.md",
        "# C\n\n- [ ] T001 a\n- [ ] T002 b\n- [ ] T003 c\n\n## Dependencies\n\n- T002 and T003 depend on T001\n",
    )]);
    let out = t.run(["plan", "C", "--explain"]);
    let line = out.stdout.lines().find(|l| l.contains("T001  (")).unwrap();
    insta::assert_snapshot!(line, @r#"  c.md:9  T002, T003 wait for T001  ("depend on" in a dependency section)"#);
}

/// An ID too long to be one is never a silent drop: a heading, a table
/// row or a checklist item of the tasks' kind is left out, saying why.
#[test]
fn over_long_ids_are_left_out_with_a_reason() {
    let long = |text: &str| -> Vec<String> {
        let got = extract(text, "M1").unwrap();
        let ids: Vec<String> = got.tasks.iter().map(|t| t.id.clone()).collect();
        let left: Vec<String> = got
            .left_out
            .iter()
            .map(|l| format!("{}: {} ({})", l.line, l.item, l.reason))
            .collect();
        [ids.join(" ")].into_iter().chain(left).collect()
    };
    let digits = "9".repeat(300);
    let slug = format!("a-{}", "x".repeat(303));
    let headings = format!(
        "# M1\n\n## Task 1: One\n\nwork\n\n## Task {digits}: Big\n\nwork\n\n## Task 3: Three\n"
    );
    let table = format!(
        "# M1\n\n| ID | Title |\n|---|---|\n| T001 | One |\n| {slug} | Long |\n| T003 | Three |\n"
    );
    let slugs =
        format!("# M1\n\n| ID | Title |\n|---|---|\n| auth-in | One |\n| `{slug}` | Long |\n");
    let boxes = "# M1\n\n- [ ] Task 1: One\n- [ ] Task 12345: Big\n- [ ] Task 3: Three\n";
    insta::assert_snapshot!(
        [long(&headings), long(&table), long(&slugs), long(boxes)]
            .map(|l| l.join("\n"))
            .join("\n\n"),
        @r"
    1 3
    7: Task 9999999999999999999… (its number has 300 digits, more than the 4 a task number may have)

    T001 T003
    6: a-xxxxxxxxxxxxxxxxxxxxxx… (its ID is 305 characters long, more than the 64 an ID may have)

    auth-in
    6: a-xxxxxxxxxxxxxxxxxxxxxx… (its ID is 305 characters long, more than the 64 an ID may have)

    1 3
    4: Task 12345 (its number has 5 digits, more than the 4 a task number may have)
    "
    );
}

#[test]
fn a_denied_dependency_is_no_edge_and_the_tasks_may_run_together() {
    insta::assert_snapshot!(explained("deps-negated.md", "importer"), @r#"
    exit: 0
    --- stdout
    milestone importer: 10 tasks, 10 not done (docs/deps-negated.md)
    +----+------+--------------------------------------------------------+------+------------+
    | #  | ID   | Title                                                  | Done | Depends on |
    +========================================================================================+
    | 1  | T001 | Parse the CSV header                                   |      |            |
    | 2  | T002 | Map the columns to fields                              |      |            |
    | 3  | T003 | Validate the rows. Does not depend on T002.            |      |            |
    | 4  | T004 | Count the rows; no dependency on T002                  |      |            |
    | 5  | T005 | Report progress, independent of T002                   |      |            |
    | 6  | T006 | Write the dry-run mode. Doesn't need T002.             |      |            |
    | 7  | T007 | Draft the docs without waiting for T002                |      |            |
    | 8  | T008 | Write the rows; depends on T003 but not on T002        |      | T003       |
    | 9  | T009 | Import in batches. Must not start before T008 is done. |      | T008       |
    | 10 | T010 | Release. Depends on T009.                              |      | T009       |
    +----+------+--------------------------------------------------------+------+------------+

    dependencies:
      docs/deps-negated.md:10  T008 waits for T003  ("depends on" in the task's text)
      docs/deps-negated.md:11  T009 waits for T008  ("before" in the task's text)
      docs/deps-negated.md:12  T010 waits for T009  ("depends on" in the task's text)

    may run at the same time (with run --jobs):
      docs/deps-negated.md:5  T003 may run beside T002  ("does not depend on" in the task's text)
      docs/deps-negated.md:6  T004 may run beside T002  ("no dependency" in the task's text)
      docs/deps-negated.md:7  T005 may run beside T002  ("independent of" in the task's text)
      docs/deps-negated.md:8  T006 may run beside T002  ("doesn't need" in the task's text)
      docs/deps-negated.md:9  T007 may run beside T002  ("without waiting for" in the task's text)
      docs/deps-negated.md:14  T004 may run beside T003  ("is not blocked by" in prose)
      docs/deps-negated.md:14  T006 may run beside T005  ("never depends on" in prose)
    --- stderr
    "#);
}
