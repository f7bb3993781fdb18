//! The failure prompt through a real terminal: `git milestone run` in a tmux
//! pane, a task that fails, and each answer chosen with the keyboard.
//!
//! These tests skip (and say so) when tmux is not installed; CI installs it.

mod common;

use std::process::Command;

use common::inspect::{checkpoint_ids, porcelain, status_json};
use common::runner::{script, sh_runner};
use common::tmux::{Tmux, sealed_env, tmux_installed};
use common::{Run, TestRepo};

/// A repository with a three-task plan and a runner (outside the
/// repository) whose TASK-002 leaves files behind and fails with exit code 3
/// on its first attempt (first `$HOME/fail-times` attempts), then succeeds.
fn milestone() -> TestRepo {
    let t = TestRepo::with_files(&[
        (
            "docs/plan.md",
            "# M1\n\n## Tasks\n\n- [ ] TASK-001: Create a.txt\n- [ ] TASK-002: Create b.txt\n- [ ] TASK-003: Create c.txt\n",
        ),
        (".gitignore", "*.secret\n"),
    ]);
    script(
        &t,
        "runner.sh",
        r#"echo "working on $1"
if [ "$1" = TASK-002 ]; then
  n=$(cat "$HOME/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$HOME/count"
  echo partial > partial.txt
  mkdir -p out && echo cache > out/cache.secret && echo half > out/half.txt
  if [ $n -le "$(cat "$HOME/fail-times" 2>/dev/null || echo 1)" ]; then echo "3 tests failed"; exit 3; fi
fi
echo "$1" > "$(echo "$1" | tr A-Z a-z).txt""#,
    );
    t
}

fn runner_arg(t: &TestRepo) -> String {
    format!("sh {}", t.home.path().join("runner.sh").display())
}

/// Run M1 with the test's runner and `extra` flags, stdin at /dev/null.
fn run_m1(t: &TestRepo, extra: &[&str]) -> Run {
    let runner = runner_arg(t);
    let args = ["run", "M1", "--plan", "docs/plan.md", "--runner", &runner];
    t.run(args.iter().chain(extra))
}

/// Start M1 with `runner` and `extra` flags in a terminal (`--yes`: the
/// sequence is not asked about; tests/confirm.rs asks).
fn start_m1(t: &TestRepo, runner: &str, extra: &[&str]) -> Tmux {
    let bin = common::bin().display().to_string();
    let argv = [
        &*bin,
        "run",
        "M1",
        "--yes",
        "--plan",
        "docs/plan.md",
        "--runner",
        runner,
    ];
    Tmux::start(t.path(), &sealed_env(t), &[&argv[..], extra].concat())
}

/// Run M1 in a terminal until the prompt shows, and check what it shows.
fn run_until_prompt(t: &TestRepo) -> Option<Tmux> {
    if !tmux_installed() {
        // CI installs tmux (.ci/run): there a missing tmux is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is not installed, so the terminal prompt cannot be tested"
        );
        common::skip("tmux is not installed, so the terminal prompt cannot be tested");
        return None;
    }
    let tmux = start_m1(t, &runner_arg(t), &[]);
    let screen = tmux.wait_for("Stop here and keep the changes");
    // Shown once, by the prompt: no summary line above it.
    assert!(
        !screen.contains("TASK-002 failed (exit code 3)"),
        "{screen}"
    );
    let log = t.path().join(".git/milestone/M1/logs/TASK-002.1.log");
    let log = log.canonicalize().unwrap_or(log);
    for line in [
        "TASK-002 (Create b.txt) failed on attempt 1: exit code 3.".to_string(),
        format!("Last 2 lines of {}:", log.display()),
        "  | working on TASK-002".to_string(),
        "  | 3 tests failed".to_string(),
        "TASK-002 failed. What now?".to_string(),
        "Retry TASK-002".to_string(),
        "Roll back to the last checkpoint (this attempt's work is saved under a ref)".to_string(),
        "Stop here and keep the changes in the work tree for inspection".to_string(),
    ] {
        assert!(
            screen.contains(&line),
            "the prompt lacks {line:?}:\n{screen}"
        );
    }
    // The whole screen, as every test that reaches the prompt sees it.
    let shown: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let shown = shown.join("\n");
    insta::assert_snapshot!("failure_prompt", common::normalize(shown.trim_end(), t));
    Some(tmux)
}

fn checkpoint_tasks(t: &TestRepo) -> String {
    checkpoint_ids(t, "main").join(" ")
}

#[test]
fn choosing_retry_runs_the_task_again() {
    let t = milestone();
    let Some(tmux) = run_until_prompt(&t) else {
        return;
    };
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("[exit ");
    assert!(screen.contains("[exit 0]"), "{screen}");
    assert_eq!(checkpoint_tasks(&t), "TASK-003 TASK-002 TASK-001");
    assert_eq!(t.read("task-002.txt"), "TASK-002\n");
    assert_eq!(t.read("partial.txt"), "partial\n");
    assert_eq!(t.git(&["status", "--porcelain"]), "");
}

#[test]
fn choosing_roll_back_saves_the_attempt_and_restores_the_checkpoint() {
    let t = milestone();
    let Some(tmux) = run_until_prompt(&t) else {
        return;
    };
    let cp1 = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-001"]);
    tmux.keys(&["Down", "Enter"]);
    let screen = tmux.wait_for("[exit ");
    assert!(screen.contains("[exit 1]"), "{screen}");
    assert!(
        screen.contains("git milestone rollback M1 --undo"),
        "{screen}"
    );
    assert_eq!(t.git(&["rev-parse", "HEAD"]), cp1);
    assert_eq!(checkpoint_tasks(&t), "TASK-001");
    assert!(!t.path().join("partial.txt").exists());
    assert!(!t.path().join("out/half.txt").exists());
    assert_eq!(
        t.read("out/cache.secret"),
        "cache\n",
        "ignored file in a new directory"
    );
    let saved = "refs/milestone/M1/attempts/TASK-002/1";
    assert_eq!(
        t.git(&["show", &format!("{saved}:partial.txt")]),
        "partial\n"
    );
    assert_eq!(t.git(&["show", &format!("{saved}:out/half.txt")]), "half\n");
    assert_eq!(
        t.git(&["status", "--porcelain"]),
        " M .milestone_bundles/M1/status.json\n"
    );
    let status = status_json(&t);
    assert_eq!(status["state"], "failed");
    assert_eq!(status["failure"]["task"], "TASK-002");
    assert_eq!(status["failure"]["exit_code"], 3);
    assert_eq!(status["failure"]["rolled_back"], true);
    assert_eq!(status["failure"]["saved_ref"], saved);
}

#[test]
fn choosing_stop_keeps_the_changes_for_inspection() {
    let t = milestone();
    let Some(tmux) = run_until_prompt(&t) else {
        return;
    };
    let cp1 = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-001"]);
    tmux.keys(&["Down", "Down", "Enter"]);
    let screen = tmux.wait_for("[exit ");
    assert!(screen.contains("[exit 1]"), "{screen}");
    assert!(screen.contains("git milestone rollback M1"), "{screen}");
    assert_eq!(t.git(&["rev-parse", "HEAD"]), cp1);
    assert_eq!(t.read("partial.txt"), "partial\n");
    assert_eq!(
        porcelain(&t),
        " M .milestone_bundles/M1/status.json\n?? out/half.txt\n?? partial.txt\n"
    );
    let status = status_json(&t);
    assert_eq!(status["state"], "failed");
    assert_eq!(status["failure"]["rolled_back"], false);
}

#[test]
fn bad_failure_policies_are_refused_with_the_valid_ones() {
    let t = milestone();
    let hint = "hint: use one of stop, retry, retry:N (N retries, e.g. retry:3), rollback, skip; \
                e.g. `git milestone run M1 --on-failure retry:2` or \
                `git config milestone.onFailure rollback`\n";
    let out = t.run([
        "run",
        "M1",
        "--plan",
        "docs/plan.md",
        "--on-failure",
        "retry:0",
    ]);
    out.code(2);
    assert_eq!(
        out.stderr,
        format!("error: unknown failure policy \"retry:0\"\n{hint}")
    );
    t.git(&["config", "milestone.onFailure", "abort"]);
    let out = t.run(["run", "M1", "--plan", "docs/plan.md"]);
    out.code(2);
    assert_eq!(
        out.stderr,
        format!("error: unknown failure policy \"abort\"\n{hint}")
    );
    assert_eq!(t.git(&["log", "--format=%s"]), "initial\n", "nothing ran");
}

#[test]
fn ctrl_c_at_the_prompt_interrupts_the_run() {
    let t = milestone();
    let Some(tmux) = run_until_prompt(&t) else {
        return;
    };
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("[exit ");
    assert!(screen.contains("[exit 130]"), "{screen}");
    // What follows the prompt, where it stood.
    let after = screen.split("What now?").nth(1).unwrap_or_default();
    let after: Vec<&str> = after.lines().map(str::trim_end).collect();
    insta::assert_snapshot!(common::normalize(after.join("\n").trim_end(), &t));
    assert_eq!(
        t.read("partial.txt"),
        "partial\n",
        "nothing was rolled back"
    );
    assert!(
        !t.path().join(".git/milestone/run.lock").exists(),
        "the run lock is released"
    );
}

/// A Ctrl-C that lands after the task failed but before the prompt reads a
/// key (here: while the run lists the attempt's files with `git status`)
/// interrupts the run as one at the prompt does; the prompt never waits
/// for a key that already came. A `git` first on PATH sends the SIGINT the
/// moment git-milestone starts its first git command after the task's end,
/// so the moment is an event, not a time.
#[test]
fn ctrl_c_just_before_the_prompt_interrupts_the_run() {
    let t = milestone();
    if !tmux_installed() {
        assert!(std::env::var_os("CI").is_none(), "tmux is not installed");
        common::skip("tmux is not installed, so the terminal prompt cannot be tested");
        return;
    }
    let ended = t.home.path().join("ended");
    let runner = sh_runner(
        &t,
        "fails.sh",
        &format!(
            "[ \"$1\" = TASK-002 ] || exit 0\necho partial > partial.txt\ntouch '{}'\nexit 3",
            ended.display()
        ),
    );
    let real_git = Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let real_git = String::from_utf8(real_git.stdout).unwrap();
    let bin = t.home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    script(
        &t,
        "bin/git",
        &format!(
            "if [ -e '{ended}' ] && [ \"$(cat /proc/$PPID/comm)\" = git-milestone ] \
             && mkdir '{ended}.sent' 2>/dev/null; then kill -INT $PPID; fi\nexec '{}' \"$@\"",
            real_git.trim(),
            ended = ended.display()
        ),
    );
    let mut env = sealed_env(&t);
    for (k, v) in &mut env {
        if k == "PATH" {
            *v = format!("{}:{v}", bin.display());
        }
    }
    let bin = common::bin().display().to_string();
    let argv = [&*bin, "run", "M1", "--yes", "--plan", "docs/plan.md"];
    let tmux = Tmux::start(
        t.path(),
        &env,
        &[&argv[..], &["--runner", &runner]].concat(),
    );
    let screen = tmux.wait_for("[exit ");
    assert!(screen.contains("[exit 130]"), "{screen}");
    assert!(
        screen.contains("error: interrupted while asking what to do about TASK-002"),
        "{screen}"
    );
    assert!(t.home.path().join("ended.sent").exists());
    assert_eq!(t.read("partial.txt"), "partial\n", "nothing rolled back");
    // As after a Ctrl-C at the prompt: the task failed, unanswered.
    assert_eq!(status_json(&t)["state"], "failed");
    assert!(!t.path().join(".git/milestone/run.lock").exists());
}

/// Without a terminal the policy decides; these run with stdin at /dev/null.
#[test]
fn without_a_terminal_the_rollback_policy_rolls_back() {
    let t = milestone();
    let out = run_m1(&t, &["--on-failure", "rollback"]);
    out.code(1);
    let saved = "refs/milestone/M1/attempts/TASK-002/1";
    assert!(
        out.stderr.contains(&format!(
            "hint: bring the work back with `git milestone rollback M1 --undo` \
             (with git alone: `git read-tree -u --reset {saved} && git reset -q {saved}~1`)\n"
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("What now?"), "{}", out.stderr);
    let cp1 = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-001"]);
    assert_eq!(t.git(&["rev-parse", "HEAD"]), cp1);
    assert_eq!(
        t.git(&["show", &format!("{saved}:partial.txt")]),
        "partial\n"
    );
    assert_eq!(
        t.git(&["status", "--porcelain"]),
        " M .milestone_bundles/M1/status.json\n"
    );
    assert_eq!(t.read("out/cache.secret"), "cache\n");

    // --undo brings the attempt back; a second run then retries the task.
    t.run(["rollback", "M1", "--undo"]).success();
    assert_eq!(t.read("partial.txt"), "partial\n");
    let out = run_m1(&t, &[]);
    out.success();
    assert_eq!(checkpoint_tasks(&t), "TASK-003 TASK-002 TASK-001");
}

#[test]
fn without_a_terminal_retry_runs_the_task_once_more() {
    let t = milestone();
    let out = run_m1(&t, &["--on-failure", "retry"]);
    out.success();
    assert_eq!(checkpoint_tasks(&t), "TASK-003 TASK-002 TASK-001");
    assert_eq!(
        std::fs::read_to_string(t.home.path().join("count")).unwrap(),
        "2\n"
    );
}

#[test]
fn without_a_terminal_retry_n_gives_up_after_n_retries() {
    let t = milestone();
    std::fs::write(t.home.path().join("fail-times"), "99\n").unwrap();
    let out = run_m1(&t, &["--on-failure", "retry:2"]);
    out.code(1);
    assert_eq!(
        std::fs::read_to_string(t.home.path().join("count")).unwrap(),
        "3\n"
    );
    assert_eq!(checkpoint_tasks(&t), "TASK-001");
    let status = status_json(&t);
    assert_eq!(status["failure"]["attempts"], 3);
    assert_eq!(status["failure"]["rolled_back"], false);
}

/// The prompt names the exact cause: here a timeout, not just "a signal or a
/// timeout".
#[test]
fn the_prompt_says_the_task_timed_out() {
    let t = milestone();
    if !tmux_installed() {
        common::skip("tmux is not installed, so the terminal prompt cannot be tested");
        return;
    }
    let runner = sh_runner(&t, "slow.sh", "echo \"working on $1\"\nexec sleep 30");
    let tmux = start_m1(&t, &runner, &["--timeout", "1s"]);
    let screen = tmux.wait_for("What now?");
    assert!(
        screen.contains("TASK-001 (Create a.txt) failed on attempt 1: timed out after 1.0s."),
        "{screen}"
    );
    tmux.keys(&["Up", "Enter"]);
    let screen = tmux.wait_for("[exit ");
    assert!(screen.contains("[exit 1]"), "{screen}");
}

/// On a terminal a task gets one live line at the bottom (ID, `[k/n]`,
/// elapsed time) that keeps updating while the task is silent, and is
/// gone, with no trace, when the task ends.
#[test]
fn a_silent_task_shows_a_live_line_that_leaves_nothing_behind() {
    use std::time::{Duration, Instant};
    if !tmux_installed() {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is missing under CI=true"
        );
        common::skip("tmux is not installed, so the live line cannot be tested");
        return;
    }
    let t = TestRepo::with_files(&[("plan.md", "# M1\n\n- [ ] TASK-001: Wait quietly\n")]);
    let runner = sh_runner(&t, "quiet.sh", "sleep 5; echo done > \"$1.txt\"");
    let bin = common::bin().display().to_string();
    let argv = [
        &*bin, "run", "M1", "--plan", "plan.md", "--runner", &runner, "--yes",
    ];
    let tmux = Tmux::start(t.path(), &sealed_env(&t), &argv);
    let live = regex::Regex::new(r"(?m)^\S TASK-001 \[1/1\] (\d+)s\s*$").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let screen = tmux.screen();
        if let Some(c) = live.captures(&screen) {
            seen.insert(c[1].to_string());
        }
        if screen.contains("[exit ") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        seen.len() >= 3,
        "the live line did not keep updating: {seen:?}"
    );
    let screen = tmux.wait_for("[exit 0]");
    assert!(
        !live.is_match(&screen),
        "the live line was left behind:\n{screen}"
    );
    let lines: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines[0], "Starting TASK-001 [1/1] Wait quietly", "{screen}");
    assert!(
        regex::Regex::new(r"^checkpoint [0-9a-f]{7} TASK-001 \[1/1\] in \d+\.\ds$")
            .unwrap()
            .is_match(lines[1]),
        "{screen}"
    );
    assert_eq!(
        lines[2], "Milestone M1 is complete (1 task run).",
        "{screen}"
    );
    assert_eq!(lines[3], "[exit 0]", "{screen}");
}

/// An agent's failure prompt shows the readable lines the screen showed,
/// never the raw JSON events its log holds.
#[test]
fn an_agent_s_failure_prompt_shows_readable_lines_not_json() {
    let t = TestRepo::with_files(&[("plan.md", "# M1\n\n- [ ] TASK-001: Write the file\n")]);
    if !tmux_installed() {
        assert!(std::env::var_os("CI").is_none(), "tmux is not installed");
        common::skip("tmux is not installed, so the terminal prompt cannot be tested");
        return;
    }
    let fakes = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents");
    let mut env = sealed_env(&t);
    for (k, v) in &mut env {
        if k == "PATH" {
            *v = format!("{}:{v}", fakes.display());
        }
    }
    env.push(("FAKE_CASE".into(), "turnlimit".into()));
    env.push(("FAKE_FILE".into(), "agent-work.txt".into()));
    let bin = common::bin().display().to_string();
    let argv = [
        &*bin, "run", "M1", "--yes", "--plan", "plan.md", "--agent", "claude",
    ];
    let tmux = Tmux::start(t.path(), &env, &argv);
    let screen = tmux.wait_for("What now?");
    let prompt = &screen[screen.find("failed on attempt 1").unwrap()..];
    assert!(!prompt.contains("{\""), "raw JSON in the prompt:\n{screen}");
    assert!(prompt.contains("  | Working on it."), "{screen}");
    // The log keeps the raw events.
    let log = t.read(".git/milestone/M1/logs/TASK-001.1.log");
    assert!(log.contains("\"type\":\"result\""), "{log}");
}

/// With --jobs a failed task does not ask: the run says so at its start on
/// a terminal, and the policy (stop) decides.
#[test]
fn a_parallel_run_says_the_policy_decides_instead_of_asking() {
    if !tmux_installed() {
        assert!(std::env::var_os("CI").is_none(), "tmux is not installed");
        common::skip("tmux is not installed, so the terminal cannot be tested");
        return;
    }
    let t = milestone();
    let tmux = start_m1(&t, &runner_arg(&t), &["--jobs", "2"]);
    let screen = tmux.wait_for("[exit ");
    let shown: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let shown = common::normalize(shown.join("\n").trim_end(), &t)
        .replace(".git/milestone/M1/logs", "[LOGS]");
    insta::assert_snapshot!(shown, @r"
    With --jobs 2, a task that fails does not ask what to do: the failure policy decides (stop; choose with --on-failure or git config milestone.onFailure).
    Starting TASK-001 [1/3] Create a.txt
    [TASK-001] working on TASK-001
    checkpoint [OID] TASK-001 [1/3] in [DURATION]
    Starting TASK-002 [2/3] Create b.txt
    [TASK-002] working on TASK-002
    [TASK-002] 3 tests failed
    error: TASK-002 failed (exit code 3) after [DURATION]; the run stopped once the tasks running beside it had ended
    hint: its work is saved as refs/milestone/M1/attempts/TASK-002/1
    hint: its output: [REPO]/[LOGS]/TASK-002.1.log
    hint: run it again: `git milestone run M1 --plan docs/plan.md --runner 'sh [HOME]/runner.sh' --jobs 2`
    [exit 1]
    ");
    assert_eq!(checkpoint_tasks(&t), "TASK-001");
    assert_eq!(status_json(&t)["failure"]["task"], "TASK-002");
}
