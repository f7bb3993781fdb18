//! `git milestone bisect`: the first bad task of a real milestone, git
//! bisect run's exit codes, the cache, refusals, and a repository left
//! exactly as it was, even after Ctrl-C.

mod common;

use std::time::{Duration, Instant};

use common::history::{completed, worktrees};
use common::inspect::{self, assert_fsck_clean, snapshot};
use common::runner::script;
use common::{Run, TestRepo};

/// The check: fails once `broken` exists (task 4 of 7 creates it).
const CHECK: [&str; 3] = ["sh", "-c", "test ! -e broken"];

fn bisect(t: &TestRepo, extra: &[&str], check: &[&str]) -> Run {
    let mut args = vec!["bisect", "M1"];
    args.extend(extra);
    args.push("--");
    args.extend(check);
    t.run(args)
}

/// What bisect must leave as it found it: HEAD, index, work tree and refs,
/// the worktrees git knows, and no scratch checkout.
#[track_caller]
fn assert_untouched(t: &TestRepo, before: &inspect::Snapshot, worktrees_before: &str) {
    assert_eq!(&snapshot(t), before);
    assert_eq!(worktrees(t), worktrees_before);
    let journal = t.path().join(".git/milestone/M1");
    let scratch: Vec<_> = std::fs::read_dir(&journal)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("bisect-"))
        .filter(|e| e.path().is_dir())
        .collect();
    assert!(scratch.is_empty(), "{scratch:?}");
    assert_fsck_clean(t);
}

#[test]
fn names_task_4_of_7_and_leaves_everything_as_it_was() {
    let t = completed(7, 4);
    // A dirty work tree is neither refused nor touched: the check runs elsewhere.
    t.write("src/lib.txt", "edited\n");
    t.write("notes.txt", "mine\n");
    t.git(&["add", "notes.txt"]);
    t.write("scratch.txt", "untracked\n");
    let (before, wt) = (snapshot(&t), worktrees(&t));
    let out = bisect(&t, &[], &CHECK);
    insta::assert_snapshot!("bisect_names_task_4", out.render(&t));
    out.success();
    assert_untouched(&t, &before, &wt);
    assert_eq!(t.read("src/lib.txt"), "edited\n");
}

#[test]
fn results_are_cached_by_tree_until_no_cache() {
    let t = completed(7, 4);
    let counter = t.home.path().join("ran");
    let check = format!("echo x >> '{}'; test ! -e broken", counter.display());
    let check = ["sh", "-c", check.as_str()];
    bisect(&t, &[], &check).success();
    let ran = || std::fs::read_to_string(&counter).unwrap().lines().count();
    assert_eq!(ran(), 5);
    let out = bisect(&t, &[], &check);
    out.success();
    assert_eq!(ran(), 5, "a cached result ran the check again");
    assert_eq!(out.stdout.matches("cached").count(), 5, "{}", out.stdout);
    bisect(&t, &["--no-cache"], &check).success();
    assert_eq!(ran(), 10);
}

#[test]
fn a_skipped_checkpoint_is_stepped_around() {
    let t = completed(7, 4);
    // TASK-005 cannot be tested; 4 is still found.
    let check = "[ \"$MILESTONE_TASK\" != TASK-005 ] || exit 125; test ! -e broken";
    let out = bisect(&t, &[], &["sh", "-c", check]);
    insta::assert_snapshot!("bisect_skip_stepped_around", out.render(&t));
    out.success();
}

#[test]
fn skips_next_to_the_first_bad_leave_two_candidates() {
    let t = completed(7, 4);
    let check = "[ \"$MILESTONE_TASK\" != TASK-003 ] || exit 125; test ! -e broken";
    let out = bisect(&t, &[], &["sh", "-c", check]);
    insta::assert_snapshot!("bisect_skip_hides", out.render(&t));
    out.code(1);
}

#[test]
fn an_exit_code_above_127_stops_the_search() {
    let t = completed(7, 4);
    let (before, wt) = (snapshot(&t), worktrees(&t));
    let check = "[ \"$MILESTONE_TASK\" != TASK-003 ] || exit 129; test ! -e broken";
    let out = bisect(&t, &[], &["sh", "-c", check]);
    insta::assert_snapshot!("bisect_abort", out.render(&t));
    out.code(1);
    assert_untouched(&t, &before, &wt);
}

#[test]
fn the_base_must_pass_unless_taken_as_good() {
    let t = completed(7, 4);
    // TASK-001.txt exists only from the first checkpoint on.
    let check = ["sh", "-c", "test -e TASK-001.txt && test ! -e broken"];
    let out = bisect(&t, &[], &check);
    insta::assert_snapshot!("bisect_base_bad", out.render(&t));
    out.code(1);
    let out = bisect(&t, &["--base-good"], &check);
    out.success();
    assert!(
        out.stdout.contains("TASK-004 is the first bad task"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("base ("), "{}", out.stdout);
}

#[test]
fn a_check_that_passes_at_the_end_finds_nothing() {
    let t = completed(3, 9);
    let out = bisect(&t, &[], &CHECK);
    insta::assert_snapshot!("bisect_tip_good", out.render(&t));
    out.code(1);
}

#[test]
fn the_check_runs_as_arguments_in_the_matching_directory() {
    let t = completed(3, 2);
    // No shell: `;` and `$HOME` reach the program as they are.
    let out = bisect(&t, &[], &["printf", "%s\\n", "a; $HOME"]);
    out.code(1);
    assert!(out.stdout.contains("a; $HOME\n"), "{}", out.stdout);
    let out = Run::from(
        t.cmd_in("src")
            .args([
                "bisect",
                "M1",
                "--",
                "sh",
                "-c",
                "test -e lib.txt && test ! -e ../broken",
            ])
            .output()
            .unwrap(),
    );
    out.success();
    assert!(
        out.stdout.contains("TASK-002 is the first bad task"),
        "{}",
        out.stdout
    );
}

#[test]
fn refusals() {
    let t = completed(3, 2);
    let (before, wt) = (snapshot(&t), worktrees(&t));
    let out = bisect(&t, &[], &["no-such-program-here"]);
    insta::assert_snapshot!("bisect_no_program", out.render(&t));
    out.code(2);
    assert_untouched(&t, &before, &wt);
    // A script of the user's that the checkpoints do not have.
    t.write("check.sh", "#!/bin/sh\ntest ! -e broken\n");
    std::fs::set_permissions(
        t.path().join("check.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = bisect(&t, &[], &["./check.sh"]);
    insta::assert_snapshot!("bisect_untracked_script", out.render(&t));
    out.code(2);
    let full = t.path().join("check.sh");
    bisect(&t, &[], &[full.to_str().unwrap()]).success();
    let out = t.run(["bisect", "M9", "--", "true"]);
    insta::assert_snapshot!("bisect_no_run", out.render(&t));
    out.code(2);
    let out = t.run(["bisect", "M1"]);
    out.code(2);
    assert!(out.stderr.contains("<CMD>"), "{}", out.stderr);
}

#[test]
fn a_check_script_that_later_tasks_add_skips_the_commits_before_it() {
    let t = TestRepo::with_files(&[("plan.md", &common::history::plan(5))]);
    let runner = script(
        &t,
        "runner.sh",
        "echo \"$1\" > \"$1.txt\"\n\
         if [ \"$1\" = TASK-002 ]; then printf '#!/bin/sh\\ntest ! -e broken\\n' > check.sh; chmod +x check.sh; fi\n\
         [ \"$1\" != TASK-004 ] || touch broken",
    );
    common::runner::run_m1(&t, &runner, &[]).success();
    let out = bisect(&t, &[], &["./check.sh"]);
    insta::assert_snapshot!("bisect_script_added_later", out.render(&t));
    out.success();
}

/// A check that records its pid and a child's, then waits: `started`
/// appears in HOME once both run.
fn slow_check(t: &TestRepo) -> String {
    let home = t.home.path().display().to_string();
    script(
        t,
        "slow.sh",
        &format!("sleep 60 &\necho $! > '{home}/child'\necho started > '{home}/started'\nwait"),
    )
    .display()
    .to_string()
}

fn wait_for(path: &std::path::Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether process `pid` runs (a zombie waiting for init to reap it does not).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

#[test]
fn ctrl_c_and_sigterm_stop_the_check_and_leave_everything_as_it_was() {
    for (sig, name) in [(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")] {
        let t = completed(7, 4);
        t.write("src/lib.txt", "edited\n");
        let (before, wt) = (snapshot(&t), worktrees(&t));
        let check = slow_check(&t);
        let child = t
            .cmd()
            .args(["bisect", "M1", "--", "sh", &check])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        wait_for(&t.home.path().join("started"));
        // As the terminal's Ctrl-C reaches git-milestone: the check runs
        // in a process group of its own, which git-milestone stops.
        unsafe { libc::kill(child.id() as i32, sig) };
        let out = Run::from(child.wait_with_output().unwrap());
        out.code(130);
        assert!(
            out.stderr
                .starts_with(&format!("error: {name} arrived while testing TASK-007")),
            "{}",
            out.stderr
        );
        // Stopped: it ends, though perhaps a moment after the SIGKILL that
        // git-milestone sent before exiting. The deadline is well short of
        // the child's own 60 s.
        let pid = std::fs::read_to_string(t.home.path().join("child")).unwrap();
        let start = Instant::now();
        while alive(&pid) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the check's child {pid} is still running"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_untouched(&t, &before, &wt);
        assert_eq!(inspect::head(&t), before.head.trim());
    }
}

#[test]
fn a_scratch_checkout_left_by_a_killed_bisect_is_removed_by_the_next() {
    let t = completed(3, 2);
    let wt = worktrees(&t);
    let check = slow_check(&t);
    let mut killed = t
        .cmd()
        .args(["bisect", "M1", "--", "sh", &check])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&t.home.path().join("started"));
    killed.kill().unwrap();
    killed.wait().unwrap();
    // The check outlives it, in its own process group.
    let pid = std::fs::read_to_string(t.home.path().join("child")).unwrap();
    unsafe { libc::kill(pid.trim().parse().unwrap(), libc::SIGKILL) };
    assert_ne!(
        worktrees(&t),
        wt,
        "the killed bisect had a scratch worktree"
    );
    let before = snapshot(&t);
    bisect(&t, &[], &CHECK).success();
    assert_untouched(&t, &before, &wt);
}
