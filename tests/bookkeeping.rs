//! Quiet bookkeeping: what a checkpoint adds besides its task's work (a
//! line or two of the status file), its subject and trailers, and status
//! files written by earlier versions.

mod common;

use common::TestRepo;
use common::inspect::{M1_STATUS, assert_fsck_clean, rev, status_json};
use common::runner::{run_m1, script, writing_runner};
use serde_json::json;

/// `git diff --numstat` of the status file between `commit~1` and `commit`.
fn churn(t: &TestRepo, commit: &str) -> String {
    t.git(&[
        "diff",
        "--numstat",
        &format!("{commit}~1"),
        commit,
        "--",
        M1_STATUS,
    ])
}

fn message(t: &TestRepo, id: &str) -> String {
    t.git(&[
        "log",
        "-1",
        "--format=%B",
        &format!("refs/milestone/M1/checkpoints/{id}"),
    ])
}

#[test]
fn a_retried_and_checked_task_still_changes_one_line_of_the_status_file() {
    let plan = "# M1\n\n- [ ] T001 One\n- [ ] T002 Two\n- [ ] T003 Three\n- [ ] T004 Four\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    t.git(&["config", "milestone.markDone", "false"]);
    let flag = t.home.path().join("fail-once");
    std::fs::write(&flag, "").unwrap();
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\n\
             if [ \"$1\" = T002 ] && [ -e '{flag}' ]; then rm '{flag}'; exit 3; fi",
            flag = flag.display()
        ),
    );
    run_m1(
        &t,
        &runner,
        &["--on-failure", "retry", "--verify", "test -s \"$1.txt\""],
    )
    .success();
    // The first checkpoint writes the file: a line per task and the rest.
    let first = churn(&t, "HEAD~3");
    let added: usize = first.split('\t').next().unwrap().parse().unwrap();
    assert!(added <= 4 + 10, "{first}");
    // Then one line each, whatever the task's record holds (two attempts,
    // checks); the last one also completes the run.
    assert_eq!(churn(&t, "HEAD~2"), format!("1\t1\t{M1_STATUS}\n"));
    assert_eq!(churn(&t, "HEAD~1"), format!("1\t1\t{M1_STATUS}\n"));
    assert_eq!(churn(&t, "HEAD"), format!("2\t2\t{M1_STATUS}\n"));
    // `git show` of a checkpoint: the task's file and those lines.
    let show = t.git(&["show", "--format=", "--stat=200", "HEAD~2"]);
    assert!(
        show.contains(" 2 files changed, 2 insertions(+), 1 deletion(-)"),
        "{show}"
    );
    assert!(
        message(&t, "T002").trim_end().ends_with(
            "Milestone-Progress: 2/4\nMilestone-Attempts: 2\n\
             Milestone-Verified: test -s \"$1.txt\" (exit 0, 0s)"
        ),
        "{}",
        message(&t, "T002")
    );
    assert!(message(&t, "T001").contains("\nMilestone-Attempts: 1\n"));
    let st = status_json(&t);
    assert_eq!(st["version"], 3);
    assert_eq!(st["tasks"][1]["attempts"], 2);
    assert_eq!(st["tasks"][1]["history"][1]["checks"][0]["exit_code"], 0);
    assert_fsck_clean(&t);
}

#[test]
fn a_long_title_is_cut_at_a_word_within_72_characters() {
    let plan = "# M1\n\n- [ ] T001 Implement the retry policy for the upload client, \
                with exponential backoff, jitter and a cap\n- [ ] T002 Short\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    run_m1(&t, writing_runner(&t), &[]).success();
    let subjects = t.git(&["log", "--format=%s", "-2"]);
    assert_eq!(
        subjects,
        "M1 T002: Short\n\
         M1 T001: Implement the retry policy for the upload client, with…\n"
    );
    assert!(subjects.lines().all(|s| s.chars().count() <= 72));
}

/// A status file as version 1 wrote it, for a run whose T001 has a
/// checkpoint and whose T002 failed.
fn version_1(base: &str, t001: &str) -> String {
    let task = |id: &str, state: &str, cp: Option<&str>| {
        json!({"id": id, "title": format!("Do {id}"), "state": state, "attempts": 1,
               "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:00:01Z",
               "duration_ms": 1000, "exit_code": if state == "done" { 0 } else { 1 },
               "checkpoint": cp})
    };
    let status = json!({"version": 1, "milestone": "M1", "plan": "plan.md", "state": "failed",
        "started_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:02Z",
        "base_commit": base,
        "tasks": [task("T001", "done", Some(t001)), task("T002", "failed", None),
                  json!({"id": "T003", "title": "Do T003", "state": "pending", "attempts": 0,
                         "started_at": null, "ended_at": null, "duration_ms": null,
                         "exit_code": null, "checkpoint": null})],
        "failure": {"task": "T002", "at": "2026-01-01T00:00:02Z", "exit_code": 1,
                    "attempts": 1, "rolled_back": false, "saved_ref": null}});
    format!("{}\n", serde_json::to_string_pretty(&status).unwrap())
}

#[test]
fn a_version_1_status_file_resumes_and_is_written_as_version_3() {
    let plan = "# M1\n\n- [x] T001 Do T001\n- [ ] T002 Do T002\n- [ ] T003 Do T003\n";
    let t = TestRepo::with_files(&[("plan.md", plan)]);
    let base = rev(&t, "HEAD");
    // T001's checkpoint, as a run of version 1 made it.
    t.write("T001.txt", "T001\n");
    t.write(
        M1_STATUS,
        &version_1(&base, "0000000000000000000000000000000000000000"),
    );
    t.git(&["add", "-A"]);
    t.git(&[
        "commit",
        "-q",
        "-m",
        "M1 T001: Do T001\n\nMilestone: M1\nMilestone-Task: T001\nMilestone-Progress: 1/3\n",
    ]);
    let t001 = rev(&t, "HEAD");
    t.git(&["update-ref", "refs/milestone/M1/checkpoints/T001", &t001]);
    // The failure is in the work tree only, with T001's checkpoint named.
    t.write(M1_STATUS, &version_1(&base, &t001));
    let st = t.run(["status", "M1", "--json"]).json();
    assert_eq!(st["milestone"]["state"], "failed");
    assert_eq!(st["milestone"]["tasks"][0]["checkpoint"], t001.as_str());
    assert_eq!(st["milestone"]["updated_at"], "2026-01-01T00:00:02Z");

    let out = run_m1(&t, writing_runner(&t), &[]);
    out.success();
    assert!(
        out.stdout.starts_with("Starting T002 [2/3]"),
        "{}",
        out.stdout
    );
    let st = status_json(&t);
    assert_eq!(st["version"], 3);
    assert_eq!(st["state"], "completed");
    assert!(st.get("updated_at").is_none() && st["tasks"][0].get("checkpoint").is_none());
    assert_eq!(st["tasks"][0]["duration_ms"], 1000, "T001's record is kept");
    assert_eq!(st["tasks"][0]["state"], "done", "done by its checkpoint");
    let json = t.run(["status", "M1", "--json"]).json();
    assert_eq!(json["milestone"]["tasks"][0]["checkpoint"], t001.as_str());
    // The first version-3 checkpoint rewrites the file once; the next
    // changes one line.
    assert_eq!(churn(&t, "HEAD"), format!("2\t2\t{M1_STATUS}\n"));
    assert_eq!(
        t.read("plan.md"),
        "# M1\n\n- [x] T001 Do T001\n- [x] T002 Do T002\n- [x] T003 Do T003\n"
    );
    assert_fsck_clean(&t);
}
