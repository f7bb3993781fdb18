//! The stream parsers and the classification, fed by the fake agent CLIs in
//! `tests/agents/` (each prints its CLI's documented format for one case).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::stream::Finished;
use super::{Agent, Kind, Limits, Monitor};
use crate::runner::Exit;

fn fake(agent: Agent) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/agents")
        .join(agent.program())
}

/// What one run of a fake showed.
struct Seen {
    done: Finished,
    /// Every line for the screen, in order.
    shown: Vec<String>,
    /// The monitor asked to stop the agent (and it was killed).
    stopped: bool,
    /// The activity when the first tool was used.
    first_tool: Option<String>,
}

/// Run `agent`'s fake for `case` (stdout and stderr on one pipe, as the
/// runner does), feeding its output to a monitor line by line.
fn run(agent: Agent, case: &str, limits: Limits) -> Seen {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("sh")
        .args(["-c", "exec \"$0\" 2>&1"])
        .arg(fake(agent))
        .current_dir(dir.path())
        .env("FAKE_CASE", case)
        .env("TZ", "UTC")
        .env("MILESTONE_TASK", "T1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut monitor = Monitor::new(agent, limits).with_clock(Timestamp::now(), TimeZone::UTC);
    let mut shown = Vec::new();
    let mut stopped = false;
    let mut first_tool = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let feed = monitor.line(&line.unwrap());
        shown.extend(feed.show);
        if first_tool.is_none() {
            first_tool = monitor.activity().last_tool.clone();
        }
        if feed.stop {
            stopped = true;
            child.kill().unwrap();
            break;
        }
    }
    let status = child.wait().unwrap();
    let exit = if stopped {
        Exit::Interrupted(libc::SIGTERM)
    } else {
        Exit::Code(status.code().unwrap())
    };
    let done = monitor.finish(exit);
    shown.extend(done.show.iter().cloned());
    Seen {
        done,
        shown,
        stopped,
        first_tool,
    }
}

fn kind(agent: Agent, case: &str) -> Kind {
    run(agent, case, Limits::default()).done.outcome.kind
}

#[test]
fn every_fake_case_gets_its_outcome() {
    let want = [
        ("success", Kind::Success),
        ("error0", Kind::ErrorExit0),
        ("ratelimit", Kind::RateLimit),
        ("noop", Kind::NoOp),
        ("auth", Kind::Auth),
    ];
    for agent in Agent::ALL {
        for (case, expected) in want {
            assert_eq!(kind(agent, case), expected, "{agent} {case}");
        }
    }
    assert_eq!(kind(Agent::Claude, "turnlimit"), Kind::TurnLimit);
    assert_eq!(kind(Agent::Gemini, "turnlimit"), Kind::TurnLimit);
    assert_eq!(kind(Agent::Aider, "turnlimit"), Kind::TurnLimit);
    assert_eq!(kind(Agent::Claude, "budget"), Kind::Budget);
    assert_eq!(kind(Agent::Codex, "ratelimit_date"), Kind::RateLimit);
}

#[test]
fn rate_limits_carry_their_reset_time() {
    let now = Timestamp::now().as_second();
    // Claude's epoch and Codex's clock time (120 s on, to the minute);
    // Gemini's and Aider's waits (42 s, 30 s).
    for (agent, low, high) in [
        (Agent::Claude, 115, 125),
        (Agent::Codex, 55, 125),
        (Agent::Gemini, 40, 47),
        (Agent::Aider, 28, 35),
    ] {
        let o = run(agent, "ratelimit", Limits::default()).done.outcome;
        let at = o.resets_at.expect("a reset time").as_second() - now;
        assert!((low..=high).contains(&at), "{agent}: resets in {at}s");
        assert!(o.message.is_some(), "{agent}: {o:?}");
    }
}

#[test]
fn a_rate_limit_is_one_even_with_exit_code_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(fake(Agent::Claude))
        .current_dir(dir.path())
        .env("FAKE_CASE", "ratelimit")
        .env("FAKE_EXIT", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut m = Monitor::new(Agent::Claude, Limits::default());
    m.feed(&out.stdout);
    assert_eq!(m.finish(Exit::Code(0)).outcome.kind, Kind::RateLimit);
}

#[test]
fn usage_and_cost_are_read() {
    let claude = run(Agent::Claude, "success", Limits::default()).done;
    assert_eq!(claude.activity.turns, 2);
    assert_eq!(claude.activity.usage.cost_usd.map(|c| c.0), Some(0.0213));
    assert_eq!(claude.activity.usage.output_tokens, 240);
    assert_eq!(claude.activity.usage.cached_tokens, 800);
    assert_eq!(claude.activity.session.as_deref(), Some("fake-claude-0001"));
    let codex = run(Agent::Codex, "success", Limits::default()).done;
    assert_eq!(
        (codex.activity.turns, codex.activity.usage.tokens()),
        (2, 5510)
    );
    assert_eq!(codex.activity.session.as_deref(), Some("fake-thread-0001"));
    let gemini = run(Agent::Gemini, "success", Limits::default()).done;
    assert_eq!(gemini.activity.usage.tokens(), 3200);
    let aider = run(Agent::Aider, "success", Limits::default()).done;
    assert_eq!(aider.activity.usage.input_tokens, 2300);
    assert_eq!(aider.activity.usage.cost_usd.map(|c| c.0), Some(0.01));
}

#[test]
fn the_last_tool_is_tracked_live() {
    let seen = run(Agent::Claude, "success", Limits::default());
    assert_eq!(seen.first_tool.as_deref(), Some("Write agent-work.txt"));
    assert_eq!(
        seen.done.activity.last_tool.as_deref(),
        Some("Bash cat agent-work.txt")
    );
    let codex = run(Agent::Codex, "success", Limits::default());
    assert_eq!(codex.first_tool.as_deref(), Some("$ ls"));
}

#[test]
fn budgets_stop_the_agent_or_judge_the_attempt() {
    let tokens = Limits {
        max_tokens: Some(20_000),
        ..Limits::default()
    };
    let claude = run(Agent::Claude, "endless", tokens);
    assert!(claude.stopped);
    assert_eq!(claude.done.outcome.kind, Kind::Budget);
    insta::assert_snapshot!(claude.done.outcome.describe(), @"budget exceeded: 25.6k tokens crossed the budget of 20k");
    let cost = Limits {
        max_cost: Some(1.0),
        ..Limits::default()
    };
    let aider = run(Agent::Aider, "budget", cost);
    assert!(aider.stopped);
    insta::assert_snapshot!(aider.done.outcome.describe(), @"budget exceeded: cost $1.50 crossed the budget of $1.00");
    // Codex and Gemini report tokens only at the end.
    let million = Limits {
        max_tokens: Some(1_000_000),
        ..Limits::default()
    };
    for agent in [Agent::Codex, Agent::Gemini] {
        let seen = run(agent, "budget", million);
        assert_eq!(seen.done.outcome.kind, Kind::Budget, "{agent}");
        let under = run(agent, "budget", Limits::default());
        assert_eq!(under.done.outcome.kind, Kind::Success, "{agent}");
    }
}

#[test]
fn codex_is_stopped_once_it_waits_for_the_network() {
    let seen = run(Agent::Codex, "network", Limits::default());
    assert!(seen.stopped);
    assert_eq!(seen.done.outcome.kind, Kind::Network);
    assert_eq!(seen.shown.len(), 5, "{:#?}", seen.shown);
}

#[test]
fn the_screen_gets_messages_not_json() {
    let seen = run(Agent::Claude, "success", Limits::default());
    insta::assert_snapshot!(seen.shown.join("\n"), @r"
    Claude Code started (model fake-sonnet)
    Working on it.
    > Write agent-work.txt
    Working on it.
    > Bash cat agent-work.txt
    ");
    let seen = run(Agent::Gemini, "success", Limits::default());
    insta::assert_snapshot!(seen.shown.join("\n"), @r"
    Gemini CLI started (model fake-flash)
    I will write the file.
    > write_file agent-work.txt
    Done.
    ");
    let seen = run(Agent::Codex, "ratelimit", Limits::default());
    for line in &seen.shown {
        assert!(!line.starts_with('{'), "{line}");
    }
    let seen = run(Agent::Gemini, "auth", Limits::default());
    assert_eq!(seen.shown.len(), 1);
    assert!(seen.shown[0].starts_with("Please set an Auth method"));
}

#[test]
fn outcomes_read_well() {
    let o = run(Agent::Claude, "error0", Limits::default()).done.outcome;
    insta::assert_snapshot!(o.describe(), @"error reported despite exit code 0: API Error: 500 the server had an internal problem");
    let o = run(Agent::Gemini, "turnlimit", Limits::default())
        .done
        .outcome;
    insta::assert_snapshot!(o.describe(), @"turn limit reached: Reached max session turns for this session. Increase the number of turns by specifying maxSessionTurns in settings.json.");
    let o = run(Agent::Claude, "noop", Limits::default()).done.outcome;
    insta::assert_snapshot!(o.describe(), @"no-op: the agent took no turns");
    let o = run(Agent::Aider, "auth", Limits::default()).done.outcome;
    insta::assert_snapshot!(o.describe(), @"authentication failed: The API provider is not able to authenticate you. Check your API key.");
}

#[test]
fn the_fakes_get_the_preset_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let argv = dir.path().join("argv");
    let extra = vec!["--model".to_string(), "x".to_string()];
    for agent in Agent::ALL {
        let cmd = super::preset::build(
            agent,
            &super::preset::Request {
                prompt: "-p; $(touch pwned)",
                extra: &extra,
                resume: None,
                max_cost: None,
                scratch: dir.path(),
            },
        )
        .unwrap();
        let status = Command::new(fake(agent))
            .args(&cmd.args)
            .current_dir(dir.path())
            .env("FAKE_ARGV", &argv)
            .env("FAKE_CASE", "noop")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let got = std::fs::read(&argv).unwrap();
        let got: Vec<&[u8]> = got.split(|&b| b == 0).filter(|a| !a.is_empty()).collect();
        let want: Vec<&[u8]> = cmd.args.iter().map(|a| a.as_bytes()).collect();
        assert_eq!(got, want, "{agent}");
        assert!(!dir.path().join("pwned").exists());
    }
}

#[test]
fn names_parse_in_any_case_and_others_are_refused() {
    for a in Agent::ALL {
        assert_eq!(Agent::parse(a.name()).unwrap(), a);
        assert_eq!(Agent::parse(&a.name().to_uppercase()).unwrap(), a);
    }
    let e = Agent::parse("cursor").unwrap_err();
    assert_eq!(e.exit_code(), 2);
    insta::assert_snapshot!(e.to_string(), @r"
    error: unknown agent cursor
    hint: choose one of claude, codex, gemini, aider, or run any other program with `--runner 'CMD'`
    ");
}
