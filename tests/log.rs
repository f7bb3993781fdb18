//! `git milestone log`: a row per task with its checkpoint, attempts,
//! outcome, duration and last log, as a table and as JSON.

mod common;

use common::history::plan;
use common::runner::{run_m1, script};
use common::{TestRepo, normalize};

/// M1 of 5 tasks: TASK-002 passes at its second attempt, TASK-003 skips
/// (exit 125), TASK-004 fails twice and stops the run; TASK-005 is left.
fn mixed_run() -> TestRepo {
    let t = TestRepo::with_files(&[("plan.md", &plan(5))]);
    let runner = script(
        &t,
        "runner.sh",
        "case \"$1\" in\n\
         TASK-002) [ -e \"$HOME/t2\" ] || { touch \"$HOME/t2\"; echo 'first try fails'; exit 1; } ;;\n\
         TASK-003) exit 125 ;;\n\
         TASK-004) echo 'always fails'; exit 3 ;;\n\
         esac\n\
         echo \"$1\" > \"$1.txt\"",
    );
    run_m1(&t, &runner, &["--on-failure", "retry:1"]).code(1);
    t
}

#[test]
fn a_row_per_task_as_a_table_and_as_json() {
    let t = mixed_run();
    let mut out = t.run(["log", "M1"]);
    // Durations differ from run to run: a placeholder of the same width
    // keeps the table's shape.
    out.stdout = regex::Regex::new(r"\b(\d+(\.\d+)?(ms|s))( +)")
        .unwrap()
        .replace_all(&out.stdout, |c: &regex::Captures<'_>| {
            format!("{:<w$}", "[DUR]", w = c[1].len() + c[4].len())
        })
        .into_owned();
    insta::assert_snapshot!("log_table", out.render(&t));
    out.success();
    let out = t.run(["log", "m1", "--json"]);
    out.success();
    let json = regex::Regex::new(r#""duration_ms": \d+"#)
        .unwrap()
        .replace_all(&out.stdout, r#""duration_ms": [MS]"#)
        .into_owned();
    insta::assert_snapshot!("log_json", normalize(&json, &t));
    let v = out.json();
    let cp = |i: usize| v["tasks"][i]["checkpoint"].as_str().map(str::to_string);
    let rev = |r: &str| t.git(&["rev-parse", r]).trim().to_string();
    assert_eq!(cp(0), Some(rev("refs/milestone/M1/checkpoints/TASK-001")));
    assert_eq!(cp(2), Some(rev("HEAD")));
    assert_eq!(cp(3), None);
    assert!(
        std::path::Path::new(v["tasks"][3]["log"].as_str().unwrap()).is_file(),
        "{v}"
    );
}

#[test]
fn refuses_a_milestone_that_has_not_run() {
    let t = TestRepo::with_files(&[("plan.md", &plan(2))]);
    let out = t.run(["log", "M1"]);
    insta::assert_snapshot!("log_no_run", out.render(&t));
    out.code(2);
}

/// In a terminal too narrow for the table, a log path stays on one line
/// (the table is wider instead), so it can be copied; headers stay whole.
#[test]
fn log_paths_stay_whole_in_a_narrow_terminal() {
    let t = mixed_run();
    for columns in ["60", "80"] {
        let out = common::Run::from(
            t.cmd()
                .env("COLUMNS", columns)
                .args(["log", "M1"])
                .output()
                .unwrap(),
        );
        out.success();
        let words: Vec<&str> = out.stdout.split_whitespace().collect();
        for want in [
            ".git/milestone/M1/logs/TASK-001.1.log",
            ".git/milestone/M1/logs/TASK-004.2.log",
            "CHECKPOINT",
            "ATTEMPTS",
            "OUTCOME",
        ] {
            assert!(words.contains(&want), "{columns}: {want}\n{}", out.stdout);
        }
    }
}
