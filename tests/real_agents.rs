//! Each preset against the real agent CLI, with no credentials (an empty
//! HOME, no API key in the environment) and, on machines without network,
//! no network: the command line must be accepted, the outcome classified
//! as an authentication or network failure, nothing committed, the message
//! must say what to do, and a reconnect loop must end within `--timeout`.
//!
//! The CLIs are installed as the README says (`npm install -g …`, `pip
//! install aider-chat`); `.ci/run` does so where npm and pip are present.
//! A CLI that is not on PATH is skipped, saying so, unless
//! `GIT_MILESTONE_REQUIRE_AGENTS` names it (CI sets it for those it
//! installed).

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::inspect::status_json;
use common::{Run, TestRepo};

/// Every run here is bounded by this; none should come near it.
const TIMEOUT: &str = "60s";

/// Variables that would give an agent credentials or a model to use.
const CREDENTIALS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "OPENAI_API_KEY",
    "CODEX_API_KEY",
    "CODEX_HOME",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_GCA",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GEMINI_CLI_SYSTEM_SETTINGS_PATH",
    "AIDER_MODEL",
    "OPENROUTER_API_KEY",
];

/// The CLI's path on PATH, or `None` after saying the test is skipped
/// (a failure when `GIT_MILESTONE_REQUIRE_AGENTS` names it).
fn installed(program: &str, install: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file());
    if found.is_none() {
        let required = std::env::var("GIT_MILESTONE_REQUIRE_AGENTS").unwrap_or_default();
        assert!(
            !required.split(',').any(|r| r.trim() == program),
            "{program} is required (GIT_MILESTONE_REQUIRE_AGENTS) but not on PATH"
        );
        common::skip(&format!(
            "{program} is not installed (install it with `{install}`)"
        ));
    }
    found
}

/// Run M1's one task through `agent` with no credentials.
fn run(t: &TestRepo, agent: &str, extra: &[&str]) -> (Run, Duration) {
    let mut c = t.cmd();
    for var in CREDENTIALS {
        c.env_remove(var);
    }
    c.args([
        "run",
        "M1",
        "--plan",
        "plan.md",
        "--agent",
        agent,
        "--timeout",
        TIMEOUT,
    ])
    .args(extra);
    let start = Instant::now();
    let out: Run = c.output().unwrap().into();
    (out, start.elapsed())
}

fn repo() -> TestRepo {
    TestRepo::with_files(&[(
        "plan.md",
        "# M1\n\n- [ ] T1: Create hello.txt containing hi\n",
    )])
}

/// What every real run without credentials must show; returns the outcome.
fn check(t: &TestRepo, agent: &str, out: &Run, took: Duration) -> String {
    let head = t.git(&["rev-parse", "HEAD"]);
    assert_eq!(out.code, 1, "{agent}: {}\n{}", out.stdout, out.stderr);
    let kind = status_json(t)["tasks"][0]["history"][0]["outcome"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        kind == "auth" || kind == "network",
        "{agent}: outcome {kind:?}\n{}\n{}",
        out.stdout,
        out.stderr
    );
    for refusal in ["unknown option", "unexpected argument", "Usage:"] {
        assert!(
            !out.stdout.contains(refusal) && !out.stderr.contains(refusal),
            "{agent} refused its command line:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
    // Nothing committed.
    assert_eq!(t.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(t.git(&["for-each-ref", "refs/milestone/"]), "");
    // The message says what to do.
    let advice = if kind == "auth" {
        "could not log in: "
    } else {
        "check the network"
    };
    assert!(out.stderr.contains(advice), "{agent}: {}", out.stderr);
    assert!(took < Duration::from_secs(70), "{agent} took {took:?}");
    kind
}

#[test]
fn claude_code_without_credentials_is_an_authentication_failure() {
    if installed("claude", "npm install -g @anthropic-ai/claude-code").is_none() {
        return;
    }
    let t = repo();
    let (out, took) = run(&t, "claude", &[]);
    let kind = check(&t, "claude", &out, took);
    // Claude Code says so before any network is needed.
    assert_eq!(kind, "auth");
    assert!(out.stdout.contains("Not logged in"), "{}", out.stdout);
    assert!(out.stderr.contains("ANTHROPIC_API_KEY"), "{}", out.stderr);
}

#[test]
fn gemini_cli_without_credentials_is_an_authentication_failure() {
    if installed("gemini", "npm install -g @google/gemini-cli").is_none() {
        return;
    }
    let t = repo();
    let (out, took) = run(&t, "gemini", &[]);
    assert_eq!(check(&t, "gemini", &out, took), "auth");
    assert!(out.stderr.contains("GEMINI_API_KEY"), "{}", out.stderr);
}

#[test]
fn codex_without_credentials_ends_within_the_timeout() {
    if installed("codex", "npm install -g @openai/codex").is_none() {
        return;
    }
    let t = repo();
    // Offline, Codex keeps reconnecting forever: the run stops it once it
    // waits for the network (or at --timeout). Online, it is refused.
    let (out, took) = run(&t, "codex", &[]);
    check(&t, "codex", &out, took);
}

#[test]
fn aider_without_credentials_is_an_authentication_failure() {
    if installed("aider", "python3 -m pip install aider-chat").is_none() {
        return;
    }
    let t = repo();
    let (out, took) = run(&t, "aider", &["--", "--model", "sonnet"]);
    assert_eq!(check(&t, "aider", &out, took), "auth");
}
