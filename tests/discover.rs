//! Plan discovery: which tracked Markdown file is a milestone's plan, in real
//! temporary repositories.

mod common;

use common::TestRepo;
use git_milestone::plan::discover;
use git_milestone::repo::Repo;

/// The plan discovery picks for `name`, run from `rel` inside the repository.
fn found_in(t: &TestRepo, rel: &str, name: &str) -> Result<String, String> {
    let repo = Repo::discover(&t.path().join(rel)).expect("open repository");
    discover::discover(&repo, name).map_err(|e| {
        assert_eq!(e.exit_code(), 2, "{e}");
        e.to_string()
    })
}

fn found(t: &TestRepo, name: &str) -> Result<String, String> {
    found_in(t, "", name)
}

const README: &str = "# Widget\n\nWe are working on M1 and M2; M3 comes after.\n\n\
                      ## Status\n\n- [x] M1 kicked off\n- [ ] M2 planned\n";

const ROADMAP: &str = "# Roadmap\n\n## M1: Foundations\n\n- [ ] M1-001: Config\n- [ ] M1-002: Logs\n\n\
                       ## M2: Core\n\n- [ ] M2-001: Engine\n- [ ] M2-002: API\n\n\
                       ## M10: Later\n\n- [ ] M10-001: Polish\n";

const M1_PLAN: &str = "# Milestone Plan: M1 - Foundations\n\n### TASK-001: Config\n\n\
                       ### TASK-002: Logs (depends on TASK-001)\n";

fn roadmap_repo() -> TestRepo {
    TestRepo::with_files(&[
        ("README.md", README),
        ("docs/ROADMAP.md", ROADMAP),
        ("docs/milestones/m1-plan.md", M1_PLAN),
    ])
}

#[test]
fn a_plan_named_for_the_milestone_beats_the_roadmap_and_readme() {
    let t = roadmap_repo();
    for name in ["M1", "m1", "Milestone 1", "M1 - Foundations", "m1-plan"] {
        assert_eq!(
            found(&t, name).as_deref(),
            Ok("docs/milestones/m1-plan.md"),
            "{name}"
        );
    }
}

#[test]
fn a_roadmap_section_is_the_plan_when_no_file_is_named_for_it() {
    let t = roadmap_repo();
    assert_eq!(found(&t, "M2").as_deref(), Ok("docs/ROADMAP.md"));
    assert_eq!(found(&t, "M10").as_deref(), Ok("docs/ROADMAP.md"));
}

#[test]
fn a_prose_mention_is_not_a_plan_and_the_error_lists_known_names() {
    let t = roadmap_repo();
    assert_eq!(
        found(&t, "M3"),
        Err("error: no plan found for milestone `M3`: no tracked Markdown file names it in its path, title or headings\n\
             hint: milestones named in this repository: M1, M2, M10\n\
             hint: `M3` is mentioned in README.md:3; if that is the plan, run `git milestone plan M3 --plan README.md`\n\
             hint: only tracked files are searched: `git add` a new plan, or pass its path with --plan PATH"
            .to_string())
    );
}

#[test]
fn m1_never_resolves_to_m10_m1_5_or_a_task_id() {
    let t = TestRepo::with_files(&[
        (
            "plans/M10.md",
            "# M10: Later\n\n- [ ] T001 a\n- [ ] T002 b\n",
        ),
        (
            "plans/M1.5.md",
            "# M1.5: Hotfix\n\n- [ ] T001 a\n- [ ] T002 b\n",
        ),
        ("notes.md", "# Notes\n\n## M1-001: Config\n\nSee M1-002.\n"),
    ]);
    assert_eq!(found(&t, "M10").as_deref(), Ok("plans/M10.md"));
    assert_eq!(found(&t, "M1.5").as_deref(), Ok("plans/M1.5.md"));
    let err = found(&t, "M1").unwrap_err();
    assert!(
        err.starts_with("error: no plan found for milestone `M1`:"),
        "{err}"
    );
    assert!(
        err.contains("hint: milestones named in this repository: M1.5, M10\n"),
        "{err}"
    );
    t.write("plans/M1.md", "# M1: First\n\n- [ ] T001 a\n- [ ] T002 b\n");
    t.commit_all("M1");
    assert_eq!(found(&t, "M1").as_deref(), Ok("plans/M1.md"));
}

#[test]
fn two_equally_good_plans_are_ambiguous() {
    let plan = "# M3\n\n- [ ] T001 a\n- [ ] T002 b\n";
    let t = TestRepo::with_files(&[("a/M3.md", plan), ("b/M3.md", plan)]);
    assert_eq!(
        found(&t, "M3"),
        Err(
            "error: milestone name `M3` is ambiguous: 2 plans match it equally well\n  \
             a/M3.md: file name `M3.md`; title `M3` (line 1); has task IDs\n  \
             b/M3.md: file name `M3.md`; title `M3` (line 1); has task IDs\n\
             hint: choose one with --plan, e.g. `git milestone plan M3 --plan a/M3.md`"
                .to_string()
        )
    );
}

#[test]
fn spec_kit_feature_directories_name_their_tasks_file() {
    let tasks = |feature: &str| {
        format!(
            "# Tasks: {feature}\n\n## Phase 1: Setup\n\n- [ ] T001 Init\n- [ ] T002 Lint\n\n\
             ## Phase 2: Core\n\n- [ ] T003 Build\n"
        )
    };
    let t = TestRepo::with_files(&[
        (
            "specs/001-auth/spec.md",
            "# Feature Specification: Auth\n\n- **FR-001**: log in\n- **FR-002**: log out\n",
        ),
        (
            "specs/001-auth/plan.md",
            "# Implementation Plan: Auth\n\n## Phase 0: Research\n",
        ),
        ("specs/001-auth/tasks.md", &tasks("Auth")),
        ("specs/002-billing/tasks.md", &tasks("Billing")),
        (".specify/templates/tasks-template.md", &tasks("[FEATURE]")),
    ]);
    for name in ["001-auth", "auth", "Auth"] {
        assert_eq!(
            found(&t, name).as_deref(),
            Ok("specs/001-auth/tasks.md"),
            "{name}"
        );
    }
    assert_eq!(
        found(&t, "billing").as_deref(),
        Ok("specs/002-billing/tasks.md")
    );
    let err = found(&t, "Phase 1").unwrap_err();
    assert_eq!(
        err,
        "error: milestone name `Phase 1` is ambiguous: 2 plans match it equally well\n  \
         specs/001-auth/tasks.md: heading `Phase 1: Setup` (line 3); has task IDs\n  \
         specs/002-billing/tasks.md: heading `Phase 1: Setup` (line 3); has task IDs\n\
         hint: choose one with --plan, e.g. `git milestone plan 'Phase 1' --plan specs/001-auth/tasks.md`"
    );
}

#[test]
fn a_phase_of_a_single_plan_resolves_to_that_plan() {
    let t = TestRepo::with_files(&[
        ("README.md", "# Tool\n\nPhase 2 adds the engine.\n"),
        (
            "docs/plan.md",
            "# Plan\n\n## Phase 1: Setup\n\n- [ ] 1. Init\n\n## Phase 2: Core\n\n- [ ] 2. Engine\n- [ ] 2.1 Parser\n",
        ),
    ]);
    assert_eq!(found(&t, "Phase 2").as_deref(), Ok("docs/plan.md"));
    assert_eq!(found(&t, "phase 2").as_deref(), Ok("docs/plan.md"));
    assert!(found(&t, "Phase 20").is_err());
}

#[test]
fn kiro_feature_directory_is_the_milestone_name() {
    let t = TestRepo::with_files(&[
        (
            ".kiro/specs/user-login/requirements.md",
            "# Requirements\n\n## Requirement 1\n",
        ),
        (".kiro/specs/user-login/design.md", "# Design\n"),
        (
            ".kiro/specs/user-login/tasks.md",
            "# Implementation Plan\n\n- [ ] 1. Set up\n- [ ] 2. Form\n  - [ ] 2.1 Fields\n",
        ),
        (
            ".kiro/specs/_archived/user-login/tasks.md",
            "# Implementation Plan\n\n- [x] 1. Old\n- [x] 2. Older\n",
        ),
    ]);
    assert_eq!(
        found(&t, "user-login").as_deref(),
        Ok(".kiro/specs/user-login/tasks.md")
    );
}

#[test]
fn a_readme_heading_does_not_compete_with_a_plan() {
    let t = TestRepo::with_files(&[
        (
            "README.md",
            "# Tool\n\n## M4: what ships\n\n- [ ] T001 a\n- [ ] T002 b\n",
        ),
        ("plans/m4.md", "# M4 plan\n\n- [ ] T001 a\n- [ ] T002 b\n"),
    ]);
    assert_eq!(found(&t, "M4").as_deref(), Ok("plans/m4.md"));
    // With no other candidate, the README's section is the plan.
    let t = TestRepo::with_files(&[("README.md", "# Tool\n\n## M4: what ships\n\n- [ ] T001 a\n")]);
    assert_eq!(found(&t, "M4").as_deref(), Ok("README.md"));
}

#[test]
fn untracked_vendored_and_huge_files_are_not_searched() {
    let t = TestRepo::with_files(&[
        (
            "node_modules/pkg/M7.md",
            "# M7\n- [ ] T001 a\n- [ ] T002 b\n",
        ),
        ("vendor/lib/M7.md", "# M7\n- [ ] T001 a\n- [ ] T002 b\n"),
        ("third_party/M7.md", "# M7\n- [ ] T001 a\n- [ ] T002 b\n"),
        (
            "big/M7.md",
            &format!("# M7\n{}", "x".repeat(1024 * 1024 + 1)),
        ),
        ("README.md", "# Tool\n"),
    ]);
    t.write("M7.md", "# M7\n- [ ] T001 a\n- [ ] T002 b\n");
    assert_eq!(
        found(&t, "M7"),
        Err("error: no plan found for milestone `M7`: no tracked Markdown file names it in its path, title or headings\n\
             hint: only tracked files are searched: `git add` a new plan, or pass its path with --plan PATH"
            .to_string())
    );
    t.git(&["add", "M7.md"]);
    assert_eq!(found(&t, "M7").as_deref(), Ok("M7.md"));
}

#[test]
fn a_repository_without_markdown_says_so() {
    let t = TestRepo::with_files(&[("main.rs", "fn main() {}\n")]);
    assert_eq!(
        found(&t, "M1"),
        Err("error: no plan found for milestone `M1`: the repository tracks no Markdown files\n\
             hint: commit the plan (`git add PLAN.md && git commit`), or pass its path with --plan PATH"
            .to_string())
    );
}

#[test]
fn discovery_works_from_a_subdirectory_and_a_linked_worktree() {
    let t = roadmap_repo();
    assert_eq!(
        found_in(&t, "docs/milestones", "M2").as_deref(),
        Ok("docs/ROADMAP.md")
    );
    let wt = t.path().join("linked");
    t.add_worktree("side", &wt);
    let repo = Repo::discover(&wt.join("docs")).unwrap();
    assert_eq!(repo.root(), wt.canonicalize().unwrap());
    assert_eq!(
        discover::discover(&repo, "M1").unwrap(),
        "docs/milestones/m1-plan.md"
    );
}

#[test]
fn a_name_without_letters_or_digits_is_refused() {
    let t = roadmap_repo();
    assert_eq!(
        found(&t, "--"),
        Err("error: milestone name `--` has no letters or digits\n\
             hint: name a milestone as its plan does, e.g. `git milestone plan M1`"
            .to_string())
    );
}

/// `plan NAME --json` run from `rel`: the plan's path and its task IDs.
fn plan_json(t: &TestRepo, rel: &str, args: &[&str]) -> (String, Vec<String>) {
    let out = common::Run::from(
        t.cmd_in(rel)
            .arg("plan")
            .args(args)
            .arg("--json")
            .output()
            .unwrap(),
    );
    out.success();
    let j = out.json();
    let ids = j["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    (j["plan"].as_str().unwrap().to_string(), ids)
}

#[test]
fn plan_command_finds_the_plan_from_a_subdirectory() {
    let t = roadmap_repo();
    assert_eq!(
        plan_json(&t, "docs/milestones", &["M1"]),
        (
            "docs/milestones/m1-plan.md".to_string(),
            vec!["TASK-001".to_string(), "TASK-002".to_string()]
        )
    );
    assert_eq!(
        plan_json(&t, "docs", &["M2"]),
        (
            "docs/ROADMAP.md".to_string(),
            vec!["M2-001".to_string(), "M2-002".to_string()]
        )
    );
}

#[test]
fn plan_command_takes_plan_paths_relative_to_the_current_directory() {
    let t = roadmap_repo();
    // Without --plan, M2 is the roadmap's section; --plan overrides discovery.
    assert_eq!(
        plan_json(&t, "docs", &["M1", "--plan", "ROADMAP.md"]),
        (
            "docs/ROADMAP.md".to_string(),
            vec!["M1-001".to_string(), "M1-002".to_string()]
        )
    );
    assert_eq!(
        plan_json(&t, "docs/milestones", &["M1", "--plan", "../ROADMAP.md"]),
        (
            "docs/ROADMAP.md".to_string(),
            vec!["M1-001".to_string(), "M1-002".to_string()]
        )
    );
}

#[test]
fn plan_command_works_in_a_linked_worktree() {
    let t = roadmap_repo();
    let wt = assert_fs::TempDir::new().unwrap();
    let wt_path = wt.path().join("linked");
    t.add_worktree("side", &wt_path);
    // A plan committed only on the worktree's branch is found there, not in main.
    let mut git = t.git_cmd();
    let ok = git
        .current_dir(&wt_path)
        .args(["rm", "-q", "docs/milestones/m1-plan.md"])
        .status()
        .unwrap();
    assert!(ok.success());
    let out = common::Run::from(
        t.cmd_at(&wt_path.join("docs"))
            .args(["plan", "M1", "--json"])
            .output()
            .unwrap(),
    );
    out.success();
    assert_eq!(out.json()["plan"], "docs/ROADMAP.md");
    assert_eq!(
        plan_json(&t, "docs", &["M1"]).0,
        "docs/milestones/m1-plan.md"
    );
}

#[test]
fn plan_command_exits_2_on_an_ambiguous_name() {
    let plan = "# M3\n\n- [ ] T001 a\n- [ ] T002 b\n";
    let t = TestRepo::with_files(&[("a/M3.md", plan), ("b/M3.md", plan)]);
    let out = t.run(["plan", "M3"]);
    out.code(2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "error: milestone name `M3` is ambiguous: 2 plans match it equally well\n  \
         a/M3.md: file name `M3.md`; title `M3` (line 1); has task IDs\n  \
         b/M3.md: file name `M3.md`; title `M3` (line 1); has task IDs\n\
         hint: choose one with --plan, e.g. `git milestone plan M3 --plan a/M3.md`\n"
    );
    let chosen = t.run(["plan", "M3", "--plan", "b/M3.md", "--json"]);
    chosen.success();
    assert_eq!(chosen.json()["plan"], "b/M3.md");
}

#[test]
fn a_conflicted_plan_is_one_candidate_not_three() {
    let t = TestRepo::with_files(&[("M5.md", "# M5\n\n- [ ] T001 a\n- [ ] T002 b\n")]);
    t.diverge(
        "other",
        "M5.md",
        "# M5\n\n- [ ] T001 a\n- [ ] T002 c\n",
        "# M5\n\n- [ ] T001 a\n- [ ] T002 d\n",
    );
    let out = t.git_cmd().args(["merge", "-q", "other"]).output().unwrap();
    assert!(!out.status.success(), "the merge should conflict");
    assert_eq!(t.git(&["ls-files", "-u", "M5.md"]).lines().count(), 3);
    assert_eq!(found(&t, "M5").as_deref(), Ok("M5.md"));
}

#[test]
fn a_long_list_of_equal_candidates_is_cut_short() {
    let files: Vec<(String, &str)> = (1..=10)
        .map(|i| {
            (
                format!("specs/{i:03}-f/tasks.md"),
                "## Phase 1: Setup\n\n- [ ] T001 a\n- [ ] T002 b\n",
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, s)| (p.as_str(), *s)).collect();
    let t = TestRepo::with_files(&refs);
    let err = found(&t, "Phase 1").unwrap_err();
    assert!(
        err.starts_with("error: milestone name `Phase 1` is ambiguous: 10 plans match it equally well\n  specs/001-f/tasks.md: "),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("  specs/")).count(),
        8,
        "{err}"
    );
    assert!(err.contains("\n  and 2 more\nhint: "), "{err}");
}

#[test]
fn a_roadmap_of_level_one_sections_does_not_tie_with_a_plan_file() {
    let t = TestRepo::with_files(&[
        (
            "ROADMAP.md",
            "# M1: Setup\n\n- [ ] M1-001: a\n- [ ] M1-002: b\n\n# M2: Core\n\n- [ ] M2-001: c\n",
        ),
        ("plans/M1.md", "# M1\n\n- [ ] T001 a\n- [ ] T002 b\n"),
    ]);
    assert_eq!(found(&t, "M1").as_deref(), Ok("plans/M1.md"));
    assert_eq!(found(&t, "M2").as_deref(), Ok("ROADMAP.md"));
}

const SEARCH_TASKS: &str = "# Tasks: Search\n\n## Phase 1: Setup\n\n- [ ] T001 Create the index module\n\n\
                            ## Phase 2: Core\n\n- [ ] T002 Build the tokenizer\n- [ ] T003 Rank the results\n";

#[test]
fn p2_finds_a_phase_2_heading_in_a_spec_kit_plan() {
    let t = TestRepo::with_files(&[
        ("README.md", "# Tool\n\nSearch is coming.\n"),
        ("specs/004-search/tasks.md", SEARCH_TASKS),
    ]);
    assert_eq!(found(&t, "P2").as_deref(), Ok("specs/004-search/tasks.md"));
    let (plan, ids) = plan_json(&t, "", &["P2"]);
    assert_eq!(plan, "specs/004-search/tasks.md");
    assert_eq!(ids, ["T002", "T003"]);
}

#[test]
fn an_unknown_name_lists_names_that_select_a_plan() {
    let t = TestRepo::with_files(&[
        (
            "README.md",
            "# Tool\n\n## Phase 1: Install\n\n## Milestone 9: Celebrate\n",
        ),
        ("specs/004-search/tasks.md", SEARCH_TASKS),
        (
            "docs/ROADMAP.md",
            "# Roadmap\n\n## M1: Storage\n\n- [ ] M1-001: Format\n- [ ] M1-002: Layer\n\n\
             ## M2: Sync\n\n- [ ] M2-001: Protocol\n",
        ),
    ]);
    let out = t.run(["plan", "M7"]);
    insta::assert_snapshot!(out.render(&t), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: no plan found for milestone `M7`: no tracked Markdown file names it in its path, title or headings
    hint: milestones named in this repository: M1, M2, 004-search
    hint: only tracked files are searched: `git add` a new plan, or pass its path with --plan PATH
    "#);
}

/// A plan whose only task is `T001` has task IDs: against a same-named
/// plan with two tasks it is a tie, not a silent loss.
#[test]
fn a_plan_with_a_single_task_has_task_ids() {
    let t = TestRepo::with_files(&[
        ("a/M3.md", "# M3\n\n- [ ] T001 one\n- [ ] T002 two\n"),
        ("b/M3.md", "# M3\n\n- [ ] T001 uno\n"),
    ]);
    insta::assert_snapshot!(found(&t, "M3").unwrap_err(), @r"
    error: milestone name `M3` is ambiguous: 2 plans match it equally well
      a/M3.md: file name `M3.md`; title `M3` (line 1); has task IDs
      b/M3.md: file name `M3.md`; title `M3` (line 1); has task IDs
    hint: choose one with --plan, e.g. `git milestone plan M3 --plan a/M3.md`
    ");
}

/// GSD collapses a shipped milestone into `<details>`: its summary names
/// it, so the finder finds the roadmap and lists the milestone.
#[test]
fn a_milestone_in_a_details_summary_is_found_and_listed() {
    let roadmap = "# Roadmap\n\n## Milestones\n\n- **v1.0 MVP** - Phases 1-2 (shipped)\n\
                   - 🚧 **v1.1 Sharing** - Phase 3\n\n## Phases\n\n<details>\n\
                   <summary>✅ v1.0 MVP (Phases 1-2) - SHIPPED</summary>\n\n\
                   ### Phase 1: Foundation\n- [x] 01-01: Scaffold\n\n\
                   ### Phase 2: Recipes\n- [x] 02-01: Model\n\n</details>\n\n\
                   ### 🚧 v1.1 Sharing\n\n### Phase 3: Links\n- [ ] 03-01: Tokens\n";
    let t = TestRepo::with_files(&[(".planning/ROADMAP.md", roadmap)]);
    assert_eq!(found(&t, "v1.0").as_deref(), Ok(".planning/ROADMAP.md"));
    let out = t.run(["plan", "v2.0"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: no plan found for milestone `v2.0`: no tracked Markdown file names it in its path, title or headings
    hint: milestones named in this repository: v1.0, Phase 1, Phase 2, v1.1, Phase 3
    hint: only tracked files are searched: `git add` a new plan, or pass its path with --plan PATH
    ");
}

/// Test fixtures rank as examples and templates do: below the repository's
/// own roadmap, however well their names fit.
#[test]
fn test_fixtures_rank_below_the_repositorys_own_plan() {
    let t = TestRepo::with_files(&[
        ("docs/ROADMAP.md", ROADMAP),
        ("tests/fixtures/plans/m1-plan.md", M1_PLAN),
        ("testdata/M2.md", M1_PLAN.replace("M1", "M2").as_str()),
        (
            "src/__fixtures__/m10.md",
            M1_PLAN.replace("M1", "M10").as_str(),
        ),
    ]);
    for name in ["M1", "M2", "M10"] {
        assert_eq!(found(&t, name).as_deref(), Ok("docs/ROADMAP.md"), "{name}");
    }
    // Alone, a fixture is still found.
    let t = TestRepo::with_files(&[("tests/fixtures/plans/m1-plan.md", M1_PLAN)]);
    assert_eq!(
        found(&t, "M1").as_deref(),
        Ok("tests/fixtures/plans/m1-plan.md")
    );
}
