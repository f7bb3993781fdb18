//! `run --agent`: the presets driven through fake agent CLIs (`tests/agents/`,
//! each printing its CLI's documented format for one case), their outcomes,
//! state, checkpoints, feedback and `status`; verification, the no-change
//! rule, retries that learn, rate limits and budgets.

mod common;

use std::path::PathBuf;

use common::inspect::status_json;
use common::{Run, TestRepo};

const PLAN: &str = "# M1\n\n- [ ] TASK-001: Write the file\n- [ ] TASK-002: Write it again\n";

fn fakes() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/agents")
}

fn repo() -> TestRepo {
    TestRepo::with_files(&[("plan.md", PLAN)])
}

/// `git milestone run M1 --agent <agent> <extra>` with the fake CLIs first on
/// PATH, and `env` for them (`FAKE_CASE`...).
fn run(t: &TestRepo, agent: &str, env: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut c = t.cmd();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![fakes()];
    dirs.extend(std::env::split_paths(&path));
    c.env("PATH", std::env::join_paths(dirs).unwrap())
        .env("FAKE_FILE", "agent-work.txt")
        .args(["run", "M1", "--plan", "plan.md", "--agent", agent])
        .args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap().into()
}

fn checkpoints(t: &TestRepo) -> String {
    t.git(&[
        "for-each-ref",
        "--format=%(refname:lstrip=4)",
        "refs/milestone/M1/checkpoints/",
    ])
}

fn outcome(t: &TestRepo, task: usize, attempt: usize) -> serde_json::Value {
    status_json(t)["tasks"][task]["history"][attempt]["outcome"]["kind"].clone()
}

#[test]
fn a_successful_agent_gets_a_checkpoint_and_its_messages_are_readable() {
    let t = repo();
    let out = run(&t, "claude", &[], &[]);
    out.success();
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Starting TASK-001 [1/2] Write the file
    Claude Code started (model fake-sonnet)
    Working on it.
    > Write agent-work.txt
    Working on it.
    > Bash cat agent-work.txt
    checkpoint [OID] TASK-001 [1/2] in [DURATION], 2.8k tokens, $0.02
    Starting TASK-002 [2/2] Write it again
    Claude Code started (model fake-sonnet)
    Working on it.
    > Write agent-work.txt
    Working on it.
    > Bash cat agent-work.txt
    checkpoint [OID] TASK-002 [2/2] in [DURATION], 2.8k tokens, $0.02
    Agents used 5.7k tokens, $0.04 on milestone M1 so far.
    Milestone M1 is complete (2 tasks run).
    --- stderr
    ");
    assert_eq!(checkpoints(&t), "TASK-001\nTASK-002\n");
    assert_eq!(t.read("agent-work.txt"), "TASK-001\nTASK-002\n");
    // The raw events are in the log, not on the screen.
    let log = t.read(".git/milestone/M1/logs/TASK-001.1.log");
    assert!(log.starts_with("{\"type\":\"system\""), "{log}");
    let st = status_json(&t);
    // The file keeps each task's usage; the milestone's is their sum.
    let cost = |i: usize| st["tasks"][i]["usage"]["cost_usd"].as_f64().unwrap();
    assert!((cost(0) + cost(1) - 0.0426).abs() < 1e-9);
    assert!(st.get("usage").is_none());
    let json = t.run(["status", "M1", "--json"]).json();
    assert_eq!(json["milestone"]["usage"]["cost_usd"], 0.0426);
    assert_eq!(st["tasks"][0]["history"][0]["session"], "fake-claude-0001");
    assert_eq!(outcome(&t, 0, 0), "success");
}

#[test]
fn every_preset_runs_its_fake_to_a_checkpoint() {
    for agent in ["codex", "gemini", "aider"] {
        let t = repo();
        let out = run(&t, agent, &[], &[]);
        out.success();
        assert_eq!(checkpoints(&t), "TASK-001\nTASK-002\n", "{agent}");
        assert!(!out.stdout.contains("{\""), "{agent}: {}", out.stdout);
    }
}

/// The outcome, the state, no checkpoint, the feedback file and the
/// status row of each failing case, for each agent.
#[test]
fn failing_cases_are_classified_and_commit_nothing() {
    let cases = [
        ("claude", "error0", "error_exit0"),
        ("codex", "error0", "error_exit0"),
        ("gemini", "error0", "error_exit0"),
        ("aider", "error0", "error_exit0"),
        ("claude", "turnlimit", "turn_limit"),
        ("gemini", "turnlimit", "turn_limit"),
        ("aider", "turnlimit", "turn_limit"),
        ("claude", "noop", "no_op"),
        ("codex", "noop", "no_op"),
        ("gemini", "noop", "no_op"),
        ("aider", "noop", "no_op"),
        ("claude", "budget", "budget"),
        ("codex", "auth", "auth"),
        ("gemini", "auth", "auth"),
        ("aider", "auth", "auth"),
    ];
    for (agent, case, kind) in cases {
        let t = repo();
        let out = run(&t, agent, &[("FAKE_CASE", case)], &[]);
        out.code(1);
        assert_eq!(outcome(&t, 0, 0), kind, "{agent} {case}");
        assert_eq!(checkpoints(&t), "", "{agent} {case}");
        let st = status_json(&t);
        assert_eq!(st["state"], "failed", "{agent} {case}");
        assert_eq!(st["tasks"][0]["state"], "failed", "{agent} {case}");
        let feedback = t.read(".git/milestone/M1/feedback/TASK-001.md");
        assert!(feedback.contains("Outcome: "), "{agent} {case}: {feedback}");
        let status = t.run(["status", "M1"]);
        assert!(
            status.stdout.contains("OUTCOME"),
            "{agent} {case}: {}",
            status.stdout
        );
    }
}

#[test]
fn an_error_despite_exit_0_says_so() {
    let t = repo();
    let out = run(&t, "claude", &[("FAKE_CASE", "error0")], &[]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 1
    --- stdout
    Starting TASK-001 [1/2] Write the file
    Claude Code started (model fake-sonnet)
    API Error: 500 the server had an internal problem
    error: API Error: 500 the server had an internal problem
    --- stderr
    error: TASK-001 failed (error reported despite exit code 0: API Error: 500 the server had an internal problem) after [DURATION]; the run stopped, leaving its changes in the work tree
    hint: its output: [REPO]/.git/milestone/M1/logs/TASK-001.1.log
    hint: run it again: `git milestone run M1 --plan plan.md --agent claude`
    hint: or discard its changes and go back to the last checkpoint: `git milestone rollback M1`
    ");
}

#[test]
fn a_task_that_changes_nothing_fails_unless_allowed() {
    let t = repo();
    let outside = t.home.path().join("elsewhere.txt");
    let env = [("FAKE_FILE", outside.to_str().unwrap())];
    let out = run(&t, "codex", &env, &[]);
    out.code(1);
    assert!(out.stderr.contains("(no-op: no changes)"), "{}", out.stderr);
    assert_eq!(checkpoints(&t), "");
    let out = run(&t, "codex", &env, &["--allow-empty"]);
    out.success();
    assert_eq!(checkpoints(&t), "TASK-001\nTASK-002\n");
}

#[test]
fn checks_decide_and_leave_their_evidence() {
    let t = repo();
    let out = run(&t, "gemini", &[], &["--verify", "test -s agent-work.txt"]);
    out.success();
    let body = t.git(&[
        "log",
        "-1",
        "--format=%B",
        "refs/milestone/M1/checkpoints/TASK-001",
    ]);
    assert!(
        body.contains("\nMilestone-Verified: test -s agent-work.txt (exit 0, 0s)\n"),
        "{body}"
    );
    let st = status_json(&t);
    assert_eq!(
        st["tasks"][0]["history"][0]["checks"][0]["command"],
        "test -s agent-work.txt"
    );
    let table = t.run(["status", "M1"]);
    assert!(
        table
            .stdout
            .contains("passed: test -s agent-work.txt (exit 0, 0s)"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_failing_check_fails_an_exit_0_task_with_nothing_committed() {
    let t = repo();
    let head = t.git(&["rev-parse", "HEAD"]);
    let out = run(&t, "codex", &[], &["--verify", "exit 4"]);
    out.code(1);
    assert!(
        out.stderr
            .contains("TASK-001 failed (check failed: `exit 4` (exit code 4))"),
        "{}",
        out.stderr
    );
    assert_eq!(t.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(checkpoints(&t), "");
    assert_eq!(outcome(&t, 0, 0), "checks_failed");
    // A check can also come from the task's own text in the plan.
    let t = TestRepo::with_files(&[(
        "plan.md",
        "# M1\n\n## TASK-001: Write the file\n\nVerify: `grep -q nothing agent-work.txt`\n",
    )]);
    run(&t, "aider", &[], &[]).code(1);
    assert_eq!(outcome(&t, 0, 0), "checks_failed");
}

#[test]
fn a_retry_gets_feedback_resumes_the_session_and_learns() {
    let t = repo();
    let argv = t.home.path().join("argv");
    let env_log = t.home.path().join("feedback-var");
    let out = run(
        &t,
        "claude",
        &[
            ("FAKE_CASE", "turnlimit"),
            ("FAKE_THEN", "success"),
            ("FAKE_ARGV", argv.to_str().unwrap()),
            ("FAKE_ENV", env_log.to_str().unwrap()),
        ],
        &["--on-failure", "retry:2"],
    );
    out.success();
    assert!(
        out.stdout
            .contains("resuming Claude Code session fake-claude-0001 from the previous attempt"),
        "{}",
        out.stdout
    );
    // TASK-002's only attempt got none; TASK-001's second got the file.
    let seen = std::fs::read_to_string(&env_log).unwrap();
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(lines[0], "");
    assert!(
        lines[1].ends_with("/milestone/M1/feedback/TASK-001.md"),
        "{seen}"
    );
    let feedback = std::fs::read_to_string(lines[1]).unwrap();
    assert!(
        feedback
            .starts_with("# Attempt 1 of TASK-001 did not succeed\n\nOutcome: turn limit reached"),
        "{feedback}"
    );
    assert!(feedback.contains("agent-work.txt (new file)"), "{feedback}");
    assert_eq!(outcome(&t, 0, 0), "turn_limit");
    assert_eq!(outcome(&t, 0, 1), "success");
    let log = t.read(".git/milestone/M1/logs/TASK-001.2.log");
    assert!(
        log.starts_with(
            "git-milestone: resuming Claude Code session fake-claude-0001 from the previous attempt\n"
        ),
        "{log}"
    );
    let st = status_json(&t);
    assert_eq!(st["tasks"][0]["history"][1]["resumed"], "fake-claude-0001");
}

#[test]
fn two_attempts_that_end_the_same_way_stop_the_retries() {
    let t = repo();
    let out = run(
        &t,
        "gemini",
        &[("FAKE_CASE", "turnlimit")],
        &["--on-failure", "retry:5"],
    );
    out.code(1);
    insta::assert_snapshot!(out.render(&t));
    assert_eq!(status_json(&t)["tasks"][0]["attempts"], 2);
}

#[test]
fn a_rate_limit_waits_for_its_reset_and_is_not_a_failure() {
    let t = repo();
    let out = run(
        &t,
        "claude",
        &[
            ("FAKE_CASE", "ratelimit"),
            ("FAKE_THEN", "success"),
            ("FAKE_RESET_IN", "2"),
        ],
        &[],
    );
    out.success();
    // The reset is a clock time a few seconds from now.
    let clock = regex::Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC").unwrap();
    insta::assert_snapshot!(clock.replace_all(&out.render(&t), "[CLOCK]"));
    assert_eq!(outcome(&t, 0, 0), "rate_limit");
    assert_eq!(outcome(&t, 0, 1), "success");
    assert_eq!(checkpoints(&t), "TASK-001\nTASK-002\n");
}

#[test]
fn a_rate_limit_too_far_away_stops_with_a_clear_message() {
    let t = repo();
    let out = run(
        &t,
        "gemini",
        &[("FAKE_CASE", "ratelimit")],
        &["--timeout", "10s"],
    );
    out.code(1);
    let text = out.render(&t);
    let text = regex::Regex::new(r"resets at \d{4}-\d\d-\d\d \d\d:\d\d \w+")
        .unwrap()
        .replace(&text, "resets at [WHEN]");
    insta::assert_snapshot!(text, @r"
    exit: 1
    --- stdout
    Starting TASK-001 [1/2] Write the file
    Gemini CLI started (model fake-flash)
    error: [API Error: You have used up this quota for now (Status: RESOURCE_EXHAUSTED)] Please retry in [DURATION].
    --- stderr
    error: TASK-001 stopped at a rate or usage limit ([API Error: You have used up this quota for now (Status: RESOURCE_EXHAUSTED)] Please retry in [DURATION].): it resets at [WHEN], later than the [DURATION] a run waits (--timeout). This is not a failure of the task
    hint: run it again once the limit has reset: `git milestone run M1 --plan plan.md --timeout [DURATION] --agent gemini`
    ");
    assert_eq!(checkpoints(&t), "");
}

#[test]
fn a_running_agent_that_crosses_the_budget_is_stopped() {
    let t = repo();
    let out = run(
        &t,
        "claude",
        &[("FAKE_CASE", "endless")],
        &["--max-tokens", "20k"],
    );
    out.code(1);
    assert!(
        out.stderr
            .contains("(budget exceeded: 25.6k tokens crossed the budget of 20k)"),
        "{}",
        out.stderr
    );
    assert_eq!(outcome(&t, 0, 0), "budget");
    assert_eq!(checkpoints(&t), "");
}

#[test]
fn no_task_starts_once_the_milestone_budget_is_spent() {
    let t = repo();
    let argv = t.home.path().join("argv");
    let out = run(
        &t,
        "claude",
        &[("FAKE_ARGV", argv.to_str().unwrap())],
        &["--max-cost", "0.0213"],
    );
    out.code(1);
    // Claude Code got the budget as its own flag.
    let args = std::fs::read_to_string(&argv).unwrap();
    assert!(
        args.contains("--max-budget-usd\u{0}0.0213\u{0}"),
        "{args:?}"
    );
    assert_eq!(checkpoints(&t), "TASK-001\n");
    insta::assert_snapshot!(out.stderr, @r"
    error: the milestone M1 has spent $0.02 of its $0.02 budget; TASK-002 was not started
    hint: raise the budget with `--max-cost USD` or `--max-tokens N` (git config milestone.maxCost, milestone.maxTokens), then run again
    ");
    assert_eq!(status_json(&t)["tasks"][1]["state"], "pending");
}

#[test]
fn on_failure_skip_never_commits_an_agent_s_failed_work() {
    let t = repo();
    let out = run(
        &t,
        "claude",
        &[("FAKE_CASE", "turnlimit")],
        &["--on-failure", "skip"],
    );
    out.success();
    for id in ["TASK-001", "TASK-002"] {
        let files = t.git(&[
            "ls-tree",
            "-r",
            "--name-only",
            &format!("refs/milestone/M1/checkpoints/{id}"),
        ]);
        assert!(!files.contains("agent-work.txt"), "{id}: {files}");
    }
    assert_eq!(status_json(&t)["state"], "completed_with_skips");
    let head = common::inspect::head(&t);
    let mut hook = t.cmd();
    hook.args(["hook", "pre-push", "origin", "url"]);
    let line = format!(
        "refs/heads/main {head} refs/heads/main {}\n",
        "0".repeat(40)
    );
    let refused = common::run_with_stdin(&mut hook, &line);
    refused.code(1);
    assert!(
        refused
            .stderr
            .contains("completed with skipped tasks: TASK-001 and TASK-002"),
        "{}",
        refused.stderr
    );
}

#[test]
fn the_status_table_and_json_show_outcomes_cost_and_evidence() {
    let t = repo();
    run(
        &t,
        "claude",
        &[("FAKE_CASE", "turnlimit"), ("FAKE_THEN", "success")],
        &["--on-failure", "retry", "--verify", "true"],
    )
    .success();
    // Fixed durations, so that the table's columns do not move.
    let path = t.path().join(".milestone_bundles/M1/status.json");
    let mut st: serde_json::Value =
        serde_json::from_str(&t.read(".milestone_bundles/M1/status.json")).unwrap();
    for task in st["tasks"].as_array_mut().unwrap() {
        task["duration_ms"] = 65_000.into();
        for a in task["history"].as_array_mut().unwrap() {
            a["duration_ms"] = 1_200.into();
            for c in a
                .get_mut("checks")
                .and_then(|c| c.as_array_mut())
                .into_iter()
                .flatten()
            {
                c["duration_ms"] = 2_400.into();
            }
        }
    }
    std::fs::write(&path, serde_json::to_string_pretty(&st).unwrap()).unwrap();
    let table = t.run(["status", "M1"]);
    insta::assert_snapshot!(table.render(&t), @r"
    exit: 0
    --- stdout
    M1: completed, 2/2 tasks (plan plan.md)
    ID        TITLE           STATE  ATTEMPTS  DURATION  CHECKPOINT  OUTCOME              CHECKS                     COST
    --------- --------------- ------ --------- --------- ----------- -------------------- -------------------------- -------------------
    TASK-001  Write the file  done   2         1m05s     [OID]     turn limit, success  passed: true (exit 0, [DURATION])  4.3k tokens, $0.03
    TASK-002  Write it again  done   2         1m05s     [OID]     turn limit, success  passed: true (exit 0, [DURATION])  4.3k tokens, $0.03
    Agents used 8.5k tokens, $0.06 on this milestone.
    --- stderr
    ");
    let json = t.run(["status", "M1", "--json"]).json();
    let mut task = json["milestone"]["tasks"][0].clone();
    for key in ["started_at", "ended_at", "duration_ms", "checkpoint"] {
        task[key] = "[VARIES]".into();
    }
    for a in task["history"].as_array_mut().unwrap() {
        a["duration_ms"] = "[MS]".into();
        for c in a
            .get_mut("checks")
            .and_then(|c| c.as_array_mut())
            .into_iter()
            .flatten()
        {
            c["duration_ms"] = "[MS]".into();
        }
    }
    insta::assert_snapshot!(serde_json::to_string_pretty(&task).unwrap(), @r#"
    {
      "attempts": 2,
      "checkpoint": "[VARIES]",
      "duration_ms": "[VARIES]",
      "ended_at": "[VARIES]",
      "exit_code": 0,
      "history": [
        {
          "agent": "claude",
          "duration_ms": "[MS]",
          "exit_code": 1,
          "n": 1,
          "outcome": {
            "kind": "turn_limit",
            "message": "stopped after 1 turn (--max-turns)"
          },
          "session": "fake-claude-0001",
          "turns": 1,
          "usage": {
            "cached_tokens": 400,
            "cost_usd": 0.0104,
            "input_tokens": 1300,
            "output_tokens": 120
          }
        },
        {
          "agent": "claude",
          "checks": [
            {
              "command": "true",
              "duration_ms": "[MS]",
              "exit_code": 0
            }
          ],
          "duration_ms": "[MS]",
          "exit_code": 0,
          "n": 2,
          "outcome": {
            "kind": "success"
          },
          "resumed": "fake-claude-0001",
          "session": "fake-claude-0001",
          "turns": 2,
          "usage": {
            "cached_tokens": 800,
            "cost_usd": 0.0213,
            "input_tokens": 2600,
            "output_tokens": 240
          }
        }
      ],
      "id": "TASK-001",
      "started_at": "[VARIES]",
      "state": "done",
      "title": "Write the file",
      "usage": {
        "cached_tokens": 1200,
        "cost_usd": 0.0317,
        "input_tokens": 3900,
        "output_tokens": 360
      }
    }
    "#);
    assert_eq!(json["milestone"]["usage"]["cost_usd"], 0.0634);
}

/// The prompt each attempt gets, as the fake saw its arguments.
fn prompt_seen(argv: &std::path::Path) -> String {
    let args = std::fs::read_to_string(argv).unwrap();
    let args: Vec<&str> = args.split('\0').collect();
    args.iter()
        .find_map(|a| a.strip_prefix("--prompt="))
        .unwrap_or(args[args.len() - 2])
        .to_string()
}

#[test]
fn the_default_prompt_quotes_the_task_and_claude_uses_task_when_defined() {
    let t = TestRepo::with_files(&[(
        "docs/plan.md",
        "# M1\n\n## TASK-001: Parse the config\n\nRead `config.toml` into `Config`.\n\n## TASK-002: Next\n",
    )]);
    let argv = t.home.path().join("argv");
    let env = [("FAKE_ARGV", argv.to_str().unwrap()), ("FAKE_CASE", "noop")];
    let mut c = t.cmd();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![fakes()];
    dirs.extend(std::env::split_paths(&path));
    c.env("PATH", std::env::join_paths(dirs).unwrap()).args([
        "run",
        "M1",
        "--plan",
        "docs/plan.md",
        "--agent",
        "gemini",
    ]);
    for (k, v) in env {
        c.env(k, v);
    }
    let out: Run = c.output().unwrap().into();
    out.code(1);
    insta::assert_snapshot!(prompt_seen(&argv), @r"
    Work on task TASK-001 of milestone M1: Parse the config

    The plan is docs/plan.md; the task is defined at line 3. Its section of the plan:

    ## TASK-001: Parse the config

    Read `config.toml` into `Config`.

    Do this task, and only this task, in this repository's work tree. Do not edit the plan's marks (its checkboxes and status words): git-milestone records each task's progress and commits a checkpoint of your changes when you finish.
    ");
    // With .claude/commands/task.md, Claude Code gets `/task <ID>`.
    let t = repo();
    t.write(
        ".claude/commands/task.md",
        "Do task $ARGUMENTS of the plan.\n",
    );
    t.commit_all("task command");
    let env = [("FAKE_ARGV", argv.to_str().unwrap()), ("FAKE_CASE", "noop")];
    run(&t, "claude", &env, &[]).code(1);
    assert_eq!(prompt_seen(&argv), "/task TASK-001");
}

#[test]
fn the_agent_comes_from_git_config_and_a_resumed_run_keeps_its_flags() {
    let t = repo();
    t.git(&["config", "milestone.agent", "codex"]);
    let mut c = t.cmd();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![fakes()];
    dirs.extend(std::env::split_paths(&path));
    c.env("PATH", std::env::join_paths(dirs).unwrap())
        .env("FAKE_CASE", "noop")
        .args(["run", "M1", "--plan", "plan.md"]);
    let out: Run = c.output().unwrap().into();
    out.code(1);
    assert_eq!(status_json(&t)["tasks"][0]["history"][0]["agent"], "codex");
    // --agent beats git config; the next run reuses it and its arguments.
    let t = repo();
    t.git(&["config", "milestone.agent", "codex"]);
    run(
        &t,
        "aider",
        &[("FAKE_CASE", "noop")],
        &["--", "--model", "m"],
    )
    .code(1);
    let mut c = t.cmd();
    c.env(
        "PATH",
        std::env::join_paths([fakes()].into_iter().chain(std::env::split_paths(&path))).unwrap(),
    )
    .args(["run", "M1"]);
    let again: Run = c.output().unwrap().into();
    assert!(
        again.stdout.starts_with(
            "reusing the earlier run's --plan plan.md, --agent aider and -- '--model m'"
        ),
        "{}",
        again.stdout
    );
    assert_eq!(status_json(&t)["tasks"][0]["history"][1]["agent"], "aider");
}

#[test]
fn the_dry_run_shows_each_preset_s_command() {
    let t = repo();
    let out = run(
        &t,
        "claude",
        &[],
        &[
            "--dry-run",
            "--verify",
            "cargo test",
            "--max-cost",
            "5",
            "--",
            "--model",
            "sonnet",
        ],
    );
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 0
    --- stdout
    Milestone M1 from plan.md: 2 tasks (dry run: nothing will be changed)
    1/2 TASK-001 Write the file
        run: claude -p --output-format stream-json --verbose --permission-mode acceptEdits --max-budget-usd 5.00 --model sonnet -- '<prompt>'   (agent from --agent)
        check: 'cargo test'
        then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-001
    2/2 TASK-002 Write it again
        run: claude -p --output-format stream-json --verbose --permission-mode acceptEdits --max-budget-usd 5.00 --model sonnet -- '<prompt>'   (agent from --agent)
        check: 'cargo test'
        then: checkpoint commit, refs/milestone/M1/checkpoints/TASK-002
    --- stderr
    ");
}

/// What git config gives an agent run: extra arguments (split as a shell
/// would, never run by one), a prompt template, and checks; `--prompt-file`
/// beats the configured template.
#[test]
fn git_config_gives_the_agent_s_arguments_prompt_and_checks() {
    let t = repo();
    let argv = t.home.path().join("argv");
    t.git(&["config", "milestone.agentArgs", "--model \"big model\""]);
    t.git(&[
        "config",
        "milestone.prompt",
        "Do {task} ({title}) of {milestone}; $(touch pwned)",
    ]);
    t.git(&[
        "config",
        "--add",
        "milestone.verify",
        "test -s agent-work.txt",
    ]);
    t.git(&["config", "--add", "milestone.verify", "true"]);
    let out = run(&t, "gemini", &[("FAKE_ARGV", argv.to_str().unwrap())], &[]);
    out.success();
    let args = std::fs::read_to_string(&argv).unwrap();
    let args: Vec<&str> = args.trim_end_matches('\0').split('\0').collect();
    let model = args.iter().position(|a| *a == "--model").unwrap();
    assert_eq!(args[model + 1], "big model", "{args:?}");
    assert_eq!(
        prompt_seen(&argv),
        "Do TASK-002 (Write it again) of M1; $(touch pwned)"
    );
    assert!(
        !t.path().join("pwned").exists(),
        "the prompt reached a shell"
    );
    let body = t.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Milestone-Verified,valueonly)",
        "refs/milestone/M1/checkpoints/TASK-002",
    ]);
    assert_eq!(
        body,
        "test -s agent-work.txt (exit 0, 0s)\ntrue (exit 0, 0s)\n\n"
    );
    // A prompt file given on the command line beats the configured template.
    let t = repo();
    t.git(&["config", "milestone.prompt", "from config {task}"]);
    t.write("prompt.txt", "from the file {task}\n");
    t.commit_all("prompt file");
    let env = [("FAKE_ARGV", argv.to_str().unwrap()), ("FAKE_CASE", "noop")];
    run(&t, "gemini", &env, &["--prompt-file", "prompt.txt"]).code(1);
    assert_eq!(prompt_seen(&argv).trim_end(), "from the file TASK-001");
}

/// `--on-failure retry` without a count retries twice: three attempts,
/// each ending differently (so the same-ending rule does not stop them).
#[test]
fn a_retry_policy_without_a_count_makes_three_attempts() {
    let t = repo();
    let runner = common::runner::sh_runner(
        &t,
        "fails.sh",
        "echo \"attempt $MILESTONE_ATTEMPT\"; exit 1",
    );
    let out = t.run([
        "run",
        "M1",
        "--plan",
        "plan.md",
        "--runner",
        &runner,
        "--on-failure",
        "retry",
    ]);
    out.code(1);
    let st = status_json(&t);
    assert_eq!(st["tasks"][0]["attempts"], 3, "{st}");
    assert_eq!(checkpoints(&t), "");
}

#[test]
fn aiders_own_files_stay_out_of_the_checkpoint() {
    let t = TestRepo::with_files(&[
        ("plan.md", PLAN),
        (".aider.conf.yml", "model: sonnet\n"),
        (".aiderignore", "target/\n"),
    ]);
    run(&t, "aider", &[("FAKE_OWN_FILES", "1")], &[]).success();
    assert_eq!(checkpoints(&t), "TASK-001\nTASK-002\n");
    let committed = t.git(&["log", "--name-only", "--format=", "-2"]);
    assert!(!committed.contains(".aider"), "{committed}");
    assert!(committed.contains("agent-work.txt"), "{committed}");
    // The user's own Aider files are tracked as before, unchanged.
    let tree = t.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert_eq!(
        tree.lines()
            .filter(|l| l.starts_with(".aider"))
            .collect::<Vec<_>>(),
        [".aider.conf.yml", ".aiderignore"]
    );
    assert_eq!(
        t.git(&[
            "diff",
            "HEAD~2",
            "HEAD",
            "--",
            ".aider.conf.yml",
            ".aiderignore"
        ]),
        ""
    );
    // Aider's files are still there for its next run, untracked.
    assert!(t.path().join(".aider.tags.cache.v4/cache.db").exists());
    assert!(t.path().join(".aider.chat.history.md").exists());
}
