//! `run --jobs N`: which tasks run together (the dry run's waves), the
//! per-milestone lock, tasks in their own worktrees integrated in plan
//! order, conflicts, and stopping.

mod common;

use common::Run;
use common::TestRepo;
use common::runner::{run_cmd, run_cmd_in, run_m1, script, writing_runner};

/// Three parallel tasks, two joins and a last task that keeps document order.
const PLAN: &str = "# M1\n\n\
- [ ] T001 [P] Write a\n\
- [ ] T002 [P] Write b\n\
- [ ] T003 [P] Write c\n\
- [ ] T004 Join a and b\n  - Depends on: T001, T002\n\
- [ ] T005 Join c\n  - Depends on: T003\n\
- [ ] T006 Last\n";

fn repo(plan: &str) -> TestRepo {
    TestRepo::with_files(&[("plan.md", plan)])
}

#[test]
fn dry_run_prints_the_waves() {
    let t = repo(PLAN);
    let out = run_m1(&t, "true", &["--dry-run", "--jobs", "2", "-y"]);
    out.success();
    let waves: String = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("With --jobs"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(waves, @r"
    With --jobs 2: 6 tasks in 4 waves (the tasks of a wave run at the same time):
      wave 1: T001 and T002
      wave 2: T003 and T004
      wave 3: T005
      wave 4: T006
    ");
}

#[test]
fn dry_run_with_one_job_prints_no_waves() {
    let t = repo(PLAN);
    let out = run_m1(&t, "true", &["--dry-run", "-y"]);
    out.success();
    assert!(!out.stdout.contains("wave"), "{}", out.stdout);
}

#[test]
fn a_bad_jobs_setting_is_refused() {
    let t = repo(PLAN);
    t.git(&["config", "milestone.jobs", "many"]);
    let out = run_m1(&t, "true", &["--dry-run", "-y"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 2
    --- stdout
    --- stderr
    error: git config milestone.jobs is many: not a number of tasks from 1 to 256
    hint: set it with `git config milestone.jobs 4`, or pass `--jobs N`
    ");
}

#[test]
fn another_milestone_runs_in_another_worktree_and_the_same_one_is_refused() {
    let t = TestRepo::with_files(&[
        ("plan.md", "# M1\n\n- [ ] T001 First\n"),
        ("plan2.md", "# M2\n\n- [ ] T001 First\n"),
    ]);
    let (started, go) = (t.home.path().join("started"), t.home.path().join("go"));
    let waiting = script(
        &t,
        "wait.sh",
        &format!(
            "touch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.01; done\necho \"$1\" > \"$1.txt\"",
            started.display(),
            go.display()
        ),
    );
    let linked = t.home.path().join("linked");
    t.add_worktree("other", &linked);
    let first = run_cmd(&t, &waiting, &[]).spawn().unwrap();
    while !started.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut m2 = t.cmd_at(&linked);
    m2.args(["run", "M2", "--plan", "plan2.md", "--runner"])
        .arg(writing_runner(&t));
    let m2: Run = m2.output().unwrap().into();
    m2.success();
    let again: Run = run_cmd_in(&t, &linked, "true", &[])
        .output()
        .unwrap()
        .into();
    let pid = first.id();
    std::fs::write(&go, "").unwrap();
    let first: Run = first.wait_with_output().unwrap().into();
    first.success();
    let again = again.render(&t).replace(&format!("kill {pid}"), "kill [PID]");
    insta::assert_snapshot!(again, @r"
    exit: 2
    --- stdout
    --- stderr
    error: another `git milestone run` of milestone M1 is in progress (pid [PID], started [TIME]); one milestone runs in one place at a time
    hint: wait for it to finish, or stop it: Ctrl-C in its terminal, or `kill [PID]`
    ");
    let subjects = |branch: &str| t.git(&["log", "--format=%s", branch]);
    assert_eq!(subjects("other"), "M2 T001: First\ninitial\n");
    assert_eq!(subjects("main"), "M1 T001: First\ninitial\n");
}
