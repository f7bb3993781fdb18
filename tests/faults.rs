//! Faults injected into real runs: each shows a clear message, a sound
//! repository (`git fsck`), a readable status file, and a rerun that
//! completes the milestone without repeating a checkpointed task.

mod common;

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::inspect::{
    assert_fsck_clean, checkpoint_ids, m1_bundle_entries, porcelain, snapshot, status_json,
};
use common::runner::{ran_log, run_cmd, run_cmd_in, run_m1, script, writing_runner};
use common::{Run, TestRepo, stop};

const PLAN2: &str = "# M1\n\n- [ ] TASK-001: First\n- [ ] TASK-002: Second\n";

/// Task ID -> number of commits on HEAD carrying its `Milestone-Task` trailer.
fn checkpoints_per_task(t: &TestRepo) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for id in checkpoint_ids(t, "HEAD") {
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

fn once_each(ids: &[&str]) -> BTreeMap<String, usize> {
    ids.iter().map(|id| (id.to_string(), 1)).collect()
}

/// Rerun and check the milestone ends complete, every task checkpointed once.
#[track_caller]
fn assert_converges(t: &TestRepo, runner: &Path, ids: &[&str]) {
    let out = run_m1(t, runner, &[]);
    out.success();
    assert_eq!(status_json(t)["state"], "completed", "{}", out.stdout);
    assert_eq!(checkpoints_per_task(t), once_each(ids));
    assert_eq!(porcelain(t), "");
    assert_fsck_clean(t);
    assert!(!t.path().join(".git/milestone/run.lock").exists());
}

// ---- 1. a stale index.lock ----

#[test]
fn stale_index_lock_is_refused_before_anything_runs() {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    let runner = writing_runner(&t);
    let lock = t.path().join(".git/index.lock");
    std::fs::write(&lock, "").unwrap();
    let before = snapshot(&t);
    let out = run_m1(&t, &runner, &[]);
    out.code(2);
    let shown = lock.canonicalize().unwrap();
    assert_eq!(
        out.stderr,
        format!(
            "error: the index is locked: {0} exists (another git command is running, or one crashed)\n\
             hint: if no git command is running, remove the stale lock with `rm {0}`\n\
             hint: nothing was changed; run `git milestone run` again once the lock is gone\n",
            shown.display()
        )
    );
    assert_eq!(out.stdout, "");
    assert_eq!(snapshot(&t), before);
    assert_eq!(ran_log(&t), "");
    assert!(!t.path().join(".milestone_bundles").exists());
    assert!(!t.path().join(".git/milestone/run.lock").exists());
    std::fs::remove_file(&lock).unwrap();
    assert_converges(&t, &runner, &["TASK-001", "TASK-002"]);
}

// ---- 2. a branch lock appearing during a task ----

#[test]
fn branch_lock_at_checkpoint_time_keeps_the_work_and_reruns() {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    let lock = t.path().join(".git/refs/heads/main.lock");
    let once = t.home.path().join("locked-once");
    let runner = script(
        &t,
        "locking.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] && [ ! -e '{1}' ] && touch '{0}' '{1}'\ntrue",
            lock.display(),
            once.display()
        ),
    );
    let out = run_m1(&t, &runner, &[]);
    out.code(1);
    let shown = t
        .path()
        .canonicalize()
        .unwrap()
        .join(".git/refs/heads/main.lock");
    assert!(
        out.stderr.ends_with(&format!(
            "error: refs/heads/main is locked: {0} exists (another git command is running, or one crashed)\n\
             hint: if no git command is running, remove the stale lock with `rm {0}`\n\
             hint: no checkpoint was made; TASK-002's changes are kept in the work tree (see `git status`)\n\
             hint: TASK-002 will run again with `git milestone run M1 --plan plan.md --runner {1}`\n",
            shown.display(),
            runner.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(t.read("TASK-002.txt"), "TASK-002\n");
    assert!(porcelain(&t).contains("TASK-002.txt"), "{}", porcelain(&t));
    let status = status_json(&t);
    assert_eq!(status["state"], "failed");
    assert_eq!(status["tasks"][1]["state"], "failed");
    assert_eq!(status["tasks"][1]["checkpoint"], serde_json::Value::Null);
    assert_eq!(checkpoints_per_task(&t), once_each(&["TASK-001"]));
    assert_fsck_clean(&t);
    // Still there: the next run refuses before running anything.
    let out = run_m1(&t, &runner, &[]);
    out.code(2);
    assert!(
        out.stderr.starts_with("error: refs/heads/main is locked"),
        "{}",
        out.stderr
    );
    std::fs::remove_file(&lock).unwrap();
    assert_converges(&t, &runner, &["TASK-001", "TASK-002"]);
}

// ---- 3. two runs at once ----

fn spawn_run(t: &TestRepo, dir: &Path, runner: &Path) -> Child {
    run_cmd_in(t, dir, runner, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait until `path` exists; the deadline only bounds a hang.
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared; in its directory: {:?}",
            path.display(),
            std::fs::read_dir(path.parent().unwrap())
                .map(|d| d
                    .flatten()
                    .map(|e| (
                        e.file_name(),
                        std::fs::read_to_string(e.path()).unwrap_or_default()
                    ))
                    .collect::<Vec<_>>())
                .unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn two_runs_at_once(linked: bool) {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    let started = t.home.path().join("started");
    let go = t.home.path().join("go");
    let runner = script(
        &t,
        "slow.sh",
        &format!(
            "touch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.01; done\necho \"$1\" > \"$1.txt\"",
            started.display(),
            go.display()
        ),
    );
    let second_dir = if linked {
        let dir = t.home.path().join("linked");
        t.add_worktree("other", &dir);
        dir
    } else {
        t.path().to_path_buf()
    };
    let first = spawn_run(&t, t.path(), &runner);
    wait_for(&started);
    let second: Run = spawn_run(&t, &second_dir, &runner)
        .wait_with_output()
        .unwrap()
        .into();
    second.code(2);
    let refusal = if linked {
        format!(
            "error: another `git milestone run` of milestone M1 is in progress (pid {}",
            first.id()
        )
    } else {
        format!(
            "error: another `git milestone run` is in progress in this work tree (pid {}, milestone M1",
            first.id()
        )
    };
    assert!(second.stderr.starts_with(&refusal), "{}", second.stderr);
    assert_eq!(second.stdout, "");
    std::fs::write(&go, "").unwrap();
    let first: Run = first.wait_with_output().unwrap().into();
    first.success();
    assert_eq!(
        checkpoints_per_task(&t),
        once_each(&["TASK-001", "TASK-002"])
    );
    // No empty checkpoint: each one changes its task's file, the status and
    // the task's mark in the plan.
    for id in ["TASK-001", "TASK-002"] {
        assert_eq!(
            t.git(&[
                "show",
                "--format=",
                "--name-only",
                &format!("refs/milestone/M1/checkpoints/{id}")
            ]),
            format!(".milestone_bundles/M1/status.json\n{id}.txt\nplan.md\n")
        );
    }
    assert_eq!(porcelain(&t), "");
    assert_fsck_clean(&t);
    assert!(!t.path().join(".git/milestone/run.lock").exists());
}

#[test]
fn a_second_run_in_the_same_worktree_is_refused() {
    two_runs_at_once(false);
}

#[test]
fn a_second_run_from_a_linked_worktree_is_refused() {
    two_runs_at_once(true);
}

#[test]
fn the_run_lock_is_released_when_its_holder_is_killed() {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    let started = t.home.path().join("started");
    let go = t.home.path().join("go");
    let runner = script(
        &t,
        "slow.sh",
        &format!(
            "touch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.01; done\necho \"$1\" > \"$1.txt\"",
            started.display(),
            go.display()
        ),
    );
    let mut first = spawn_run(&t, t.path(), &runner);
    wait_for(&started);
    kill9(first.id());
    first.wait().unwrap();
    // The file stays, naming the dead run; the kernel lock went with it.
    let lock = t.path().join(".git/milestone/run.lock");
    assert!(
        std::fs::read_to_string(&lock)
            .unwrap()
            .starts_with(&format!("pid {}\n", first.id()))
    );
    std::fs::write(&go, "").unwrap();
    let out = run_m1(&t, &runner, &[]);
    out.success();
    assert!(
        out.stderr.starts_with(&format!(
            "warning: taking over the run lock left by pid {} (started ",
            first.id()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        checkpoints_per_task(&t),
        once_each(&["TASK-001", "TASK-002"])
    );
    assert_fsck_clean(&t);
    assert!(!lock.exists());
}

#[test]
fn runs_started_together_never_both_proceed() {
    const RUNS: usize = 6;
    for round in 0..3 {
        let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
        // Left by a killed run: every starter finds it and takes it over.
        let lock = t.path().join(".git/milestone/run.lock");
        std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
        std::fs::write(&lock, "pid 999999999\nstarted x\nmilestone M1\n").unwrap();
        // The task that runs holds its run until every other run has been
        // refused (or has started a task too, which the test then reports).
        let log = t.home.path().join("ran.log");
        let go = t.home.path().join("go");
        let runner = script(
            &t,
            "slow.sh",
            &format!(
                "echo \"$1\" >> '{}'\nwhile [ ! -e '{}' ]; do sleep 0.01; done\n\
                 echo \"$1\" > \"$1.txt\"",
                log.display(),
                go.display()
            ),
        );
        let mut runs: Vec<Child> = (0..RUNS)
            .map(|_| spawn_run(&t, t.path(), &runner))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let ended = runs
                .iter_mut()
                .map(|c| c.try_wait().unwrap().is_some())
                .filter(|&ended| ended)
                .count();
            if ended + ran_log(&t).lines().count() >= RUNS {
                break;
            }
            assert!(Instant::now() < deadline, "round {round}: the runs hang");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::fs::write(&go, "").unwrap();
        let outs: Vec<Run> = runs
            .into_iter()
            .map(|c| c.wait_with_output().unwrap().into())
            .collect();
        let proceeded = outs.iter().filter(|o| o.code == 0).count();
        assert_eq!(proceeded, 1, "round {round}: {outs:#?}");
        for o in outs.iter().filter(|o| o.code != 0) {
            assert_eq!(o.code, 2, "round {round}: {o:#?}");
            assert!(o.stderr.starts_with("error: "), "round {round}: {o:#?}");
        }
        assert_eq!(ran_log(&t), "TASK-001\nTASK-002\n", "round {round}");
        assert_eq!(
            checkpoints_per_task(&t),
            once_each(&["TASK-001", "TASK-002"])
        );
        assert_fsck_clean(&t);
    }
}

// ---- 4. SIGKILL at random moments around the checkpoint ----

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The generator for a test's moments. `FAULTS_SEED=<n>` replays or
/// varies them (each test prints the seed it used).
fn seeded_rng() -> (u64, Rng) {
    let seed = std::env::var("FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0bac_0000_0005_u64);
    (seed, Rng(seed | 1))
}

/// How many seeded moments a test stops its command at: `default`, or
/// `FAULTS_SEEDS=<n>` for a longer (or shorter) search.
fn seeded_moments(default: usize) -> usize {
    std::env::var("FAULTS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// `run M1 --plan plan.md --runner <runner>`, for [`stop::stop_at`].
fn run_m1_args(runner: &Path) -> [&std::ffi::OsStr; 6] {
    let s = std::ffi::OsStr::new;
    let runner = runner.as_os_str();
    [
        s("run"),
        s("M1"),
        s("--plan"),
        s("plan.md"),
        s("--runner"),
        runner,
    ]
}

fn kill9(pid: u32) {
    // SAFETY: signals a process this test started.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
}

/// SIGKILL at seeded moments of a three-task run: on entry to its n-th
/// write of one kind (a file, an object, a ref, the status file, the lock;
/// every git command is a moment of its own in the next test).
#[test]
fn sigkill_during_checkpoints_never_loses_or_repeats_a_task() {
    if !stop::can_trace() {
        return;
    }
    let plan = "# M1\n\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n- [ ] TASK-003: C\n";
    let (seed, mut rng) = seeded_rng();
    let setup = || {
        let t = TestRepo::with_files(&[("plan.md", plan)]);
        let marks = t.home.path().join("finished");
        let runner = script(
            &t,
            "quick.sh",
            &format!(
                "echo \"$1\" > \"$1.txt\"\ntouch '{}-'\"$1\"",
                marks.display()
            ),
        );
        (t, runner)
    };
    let events = {
        let (t, runner) = setup();
        stop::events(&t, &run_m1_args(&runner))
    };
    let mut recovered_locks = Vec::new();
    // How many checkpoints existed when the kill landed, per round.
    let mut killed_with = [0usize; 4];
    // Kills after a task ended and before its checkpoint reached the branch.
    let mut mid_checkpoint = 0;
    // Kills between the commit and its checkpoint ref; and between recording
    // a task done and committing it (the task then runs again).
    let mut refs_missing = 0;
    let mut rerun_again = 0;
    for round in 0..seeded_moments(20) {
        let (t, runner) = setup();
        let at = events.moment(false, |n| rng.below(n));
        stop::stop_at(&t, &run_m1_args(&runner), libc::SIGKILL, at);
        assert_fsck_clean(&t);
        let made: usize = checkpoints_per_task(&t).values().sum();
        killed_with[made] += 1;
        let ended = (1..=3)
            .filter(|i| t.home.path().join(format!("finished-TASK-00{i}")).exists())
            .count();
        mid_checkpoint += usize::from(ended > made);
        let refs = t
            .git(&["for-each-ref", "refs/milestone/M1/checkpoints"])
            .lines()
            .count();
        refs_missing += usize::from(refs < made);
        if t.path().join(".milestone_bundles/M1/status.json").exists() {
            status_json(&t);
        }
        // A kill inside libgit2's index or ref write leaves git's own lock:
        // the rerun refuses and names it; do what the hint says.
        let mut out = run_m1(&t, &runner, &[]);
        for _ in 0..2 {
            if out.code != 2 {
                break;
            }
            let path = out
                .stderr
                .split("remove the stale lock with `rm ")
                .nth(1)
                .and_then(|s| s.split('`').next())
                .unwrap_or_else(|| panic!("round {round} ({at:?}): {}", out.stderr));
            std::fs::remove_file(path).unwrap();
            recovered_locks.push(
                Path::new(path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
            out = run_m1(&t, &runner, &[]);
        }
        assert_eq!(out.code, 0, "round {round} ({at:?}): {}", out.stderr);
        rerun_again += usize::from(out.stderr.contains("has no checkpoint commit"));
        assert_eq!(status_json(&t)["state"], "completed", "round {round}");
        assert_eq!(
            checkpoints_per_task(&t),
            once_each(&["TASK-001", "TASK-002", "TASK-003"]),
            "round {round} ({at:?})\n{}{}",
            out.stdout,
            out.stderr
        );
        assert_eq!(porcelain(&t), "", "round {round} ({at:?})");
        assert_fsck_clean(&t);
        assert!(!t.path().join(".git/milestone/run.lock").exists());
    }
    eprintln!(
        "seed {seed:#x}, moments {events:?}: rounds by checkpoints made before the kill: \
         {killed_with:?}; kills between a task's end and its checkpoint: {mid_checkpoint}; \
         git lock files removed by following the hint: {recovered_locks:?}; checkpoint \
         refs recovered from history: {refs_missing}; done-but-uncommitted tasks run \
         again: {rerun_again}"
    );
    // The kills must land mid-run, or this test shows nothing.
    assert!(
        killed_with[..3].iter().sum::<usize>() >= 5 && mid_checkpoint >= 1,
        "too few kills landed mid-run: {killed_with:?}, {mid_checkpoint} inside a checkpoint"
    );
}

// ---- 4b. SIGKILL at every git command a run starts ----

/// The user's untracked file is in no commit and not in the index.
#[track_caller]
fn assert_never_committed(t: &TestRepo, path: &str, context: &str) {
    assert_eq!(
        t.git(&["log", "--all", "--format=%h", "--", path]),
        "",
        "{context}: {path} was committed"
    );
    assert_eq!(
        t.git(&["ls-files", "--", path]),
        "",
        "{context}: {path} was staged"
    );
}

/// Each task's checkpoint ref points at the commit on HEAD with its trailer.
#[track_caller]
fn assert_refs_match_trailers(t: &TestRepo, ids: &[&str], context: &str) {
    for id in ids {
        let by_trailer = t.git(&[
            "log",
            "--format=%H",
            &format!("--grep=^Milestone-Task: {id}$"),
            "HEAD",
        ]);
        let by_ref = t
            .git_cmd()
            .args(["rev-parse", "-q", "--verify"])
            .arg(format!("refs/milestone/M1/checkpoints/{id}"))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&by_ref.stdout),
            by_trailer,
            "{context}: the checkpoint ref of {id}"
        );
    }
}

/// Kill the run at each git command it starts in turn, `post_commit`
/// adding a hook between a checkpoint's branch update and its ref. Returns
/// how many kill points there were.
fn kill_at_every_git_command(post_commit: bool) -> usize {
    let plan = "# M1\n\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n- [ ] TASK-003: C\n";
    let ids = ["TASK-001", "TASK-002", "TASK-003"];
    for kill_at in 1.. {
        let context = format!("kill at git command {kill_at} (post-commit hook: {post_commit})");
        let t = TestRepo::with_files(&[("plan.md", plan), (".gitignore", ".secret\n")]);
        t.write(".env.local", "API_KEY=the user's secret\n");
        // Ignored until TASK-002 empties .gitignore: still not its work.
        t.write(".secret", "the user's other secret\n");
        if post_commit {
            let hook = t.path().join(".git/hooks/post-commit");
            std::fs::write(&hook, "#!/bin/sh\ntrue\n").unwrap();
            std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        let runner = script(
            &t,
            "quick.sh",
            "echo \"$1\" > \"$1.txt\"; [ \"$1\" != TASK-002 ] || : > .gitignore",
        );
        let at = stop::At::Git(kill_at);
        let stopped = stop::stop_at(&t, &run_m1_args(&runner), libc::SIGKILL, at);
        if !stopped.signalled {
            assert_eq!(stopped.code, 0, "{context}: {stopped:?}");
            return kill_at - 1;
        }
        assert_fsck_clean(&t);
        assert_never_committed(&t, ".env.local", &context);
        assert_eq!(t.git(&["log", "--all", "--format=%h", "--", ".secret"]), "");
        let out = run_m1(&t, &runner, &[]);
        assert_eq!(out.code, 0, "{context}: {}", out.stderr);
        assert_eq!(status_json(&t)["state"], "completed", "{context}");
        assert_eq!(checkpoints_per_task(&t), once_each(&ids), "{context}");
        assert_refs_match_trailers(&t, &ids, &context);
        assert_never_committed(&t, ".env.local", &context);
        assert_never_committed(&t, ".secret", &context);
        assert_eq!(t.read(".env.local"), "API_KEY=the user's secret\n");
        assert_eq!(porcelain(&t), "?? .env.local\n?? .secret\n", "{context}");
        assert_fsck_clean(&t);
    }
    unreachable!()
}

#[test]
fn sigkill_at_any_git_command_never_stages_the_user_s_files() {
    let points = kill_at_every_git_command(false);
    assert!(points >= 9, "only {points} kill points");
}

#[test]
fn sigkill_between_the_branch_update_and_the_checkpoint_ref_restores_the_ref() {
    let points = kill_at_every_git_command(true);
    assert!(points >= 12, "only {points} kill points");
}

// ---- 5. SIGINT stops the whole process group ----

/// Whether process `pid` exists and is not a zombie (one that exited,
/// waiting to be reaped: a container's init may do that late).
fn running(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    state.is_some_and(|s| !matches!(s, "Z" | "X" | "x"))
}

#[test]
fn sigint_stops_the_task_and_its_grandchildren() {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    let pidfile = t.home.path().join("grandchild.pid");
    let runner = script(
        &t,
        "spawning.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] || exit 0\n[ -e '{0}' ] && exit 0\nsleep 300 &\necho $! > '{0}.tmp' && mv '{0}.tmp' '{0}'\nwait",
            pidfile.display()
        ),
    );
    let child = run_cmd(&t, &runner, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&pidfile);
    let grandchild: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(running(grandchild));
    // SAFETY: signals the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out: Run = child.wait_with_output().unwrap().into();
    out.code(130);
    assert!(
        out.stderr.ends_with(&format!(
            "error: TASK-002 was stopped by SIGINT and is recorded as interrupted\n\
             hint: continue with `git milestone run M1 --plan plan.md --runner {}`\n",
            runner.display()
        )),
        "{}",
        out.stderr
    );
    // The grandchild belongs to the task's process group, which is gone:
    // dead, or a zombie that init reaps when it gets to it. The run ended
    // once no process of the group was running, or right after it SIGKILLed
    // what was left, which the kernel carries out a moment later. The
    // deadline is well short of the grandchild's own 300 s.
    let deadline = Instant::now() + Duration::from_secs(60);
    while running(grandchild) {
        assert!(
            Instant::now() < deadline,
            "the task's grandchild {grandchild} survived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = status_json(&t);
    assert_eq!(status["state"], "interrupted");
    assert_eq!(status["tasks"][1]["state"], "interrupted");
    assert!(!t.path().join(".git/milestone/run.lock").exists());
    assert_eq!(m1_bundle_entries(&t), ["status.json"]);
    assert_fsck_clean(&t);
    assert_converges(&t, &runner, &["TASK-001", "TASK-002"]);
}

// ---- 6. a full disk ----

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A tmpfs of `size` at `dir`, or `None` when mounting is not permitted.
fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
    std::fs::create_dir_all(dir).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| Mount(dir.to_path_buf()))
}

#[test]
fn full_disk_at_checkpoint_fails_clearly_and_recovers() {
    let outer = TestRepo::new();
    let disk = outer.home.path().join("disk");
    let Some(_mount) = tmpfs(&disk, "2m") else {
        return common::skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)");
    };
    // A repository living on the small disk, sealed like the others.
    let t = TestRepo {
        dir: assert_fs::TempDir::new_in(&disk).unwrap(),
        home: assert_fs::TempDir::new().unwrap(),
    };
    t.git(&["init", "-q", "-b", "main", "."]);
    t.write("plan.md", PLAN2);
    t.commit_all("initial");
    let filler = disk.join("filler");
    // Full before the run: refused, nothing written.
    let _ = std::fs::write(&filler, vec![0u8; 4_000_000]);
    let idle = writing_runner(&t);
    let out = run_m1(&t, &idle, &[]);
    out.code(2);
    let git_dir = t.path().canonicalize().unwrap().join(".git/");
    assert_eq!(
        out.stderr,
        format!(
            "error: the disk holding {0} is full, so no checkpoint could be committed\n\
             cause: No space left on device (os error 28)\n\
             hint: nothing was changed; free some space (`df -h {0}`), then run again\n",
            git_dir.display()
        )
    );
    assert_eq!(ran_log(&t), "");
    assert!(!t.path().join(".milestone_bundles").exists());
    assert!(!t.path().join(".git/milestone").exists());
    std::fs::remove_file(&filler).unwrap();
    // The task fills the disk once, as a build's output might.
    let runner = script(
        &t,
        "filling.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] && [ ! -e '{0}.done' ] && touch '{0}.done' && head -c 4000000 /dev/zero > '{0}'\ntrue",
            filler.display()
        ),
    );
    let out = run_m1(&t, &runner, &[]);
    out.code(1);
    let root = t.path().canonicalize().unwrap();
    assert!(
        out.stderr.contains("No space left on device"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "hint: the disk holding {} is full: free some space (`df -h {}`), then run `git milestone run` again\n",
            root.display(),
            root.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(checkpoints_per_task(&t), once_each(&["TASK-001"]));
    assert_fsck_clean(&t);
    assert_ne!(status_json(&t)["state"], "completed");
    assert!(!t.path().join(".git/milestone/run.lock").exists());
    std::fs::remove_file(&filler).unwrap();
    assert_converges(&t, &runner, &["TASK-001", "TASK-002"]);
}

// ---- 7. a read-only .git ----

#[test]
fn read_only_git_dir_is_refused_before_anything_runs() {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    let runner = writing_runner(&t);
    let git_dir = t.path().join(".git");
    // Root ignores file modes, so a read-only bind mount does the job.
    let bound = Command::new("mount")
        .args(["--bind"])
        .arg(&git_dir)
        .arg(&git_dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !bound {
        return common::skip("cannot bind-mount here (needs root or CAP_SYS_ADMIN)");
    }
    let mount = Mount(git_dir.clone());
    let ro = Command::new("mount")
        .args(["-o", "remount,bind,ro"])
        .arg(&git_dir)
        .status()
        .unwrap();
    assert!(ro.success());
    let before = snapshot(&t);
    let out = run_m1(&t, &runner, &[]);
    out.code(2);
    let shown = git_dir.canonicalize().unwrap();
    assert_eq!(
        out.stderr,
        format!(
            "error: cannot write to {0}/, so no checkpoint could be committed\n\
             cause: Read-only file system (os error 30)\n\
             hint: nothing was changed; make the repository writable (check `mount` and `ls -ld {0}/`), then run again\n",
            shown.display()
        )
    );
    assert_eq!(snapshot(&t), before);
    assert_eq!(ran_log(&t), "");
    drop(mount);
    assert_converges(&t, &runner, &["TASK-001", "TASK-002"]);
}

// ---- 8. split index and clean filters ----

#[test]
fn a_split_index_is_read_and_written_by_git() {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    let runner = writing_runner(&t);
    t.git(&["config", "core.splitIndex", "true"]);
    t.git(&["update-index", "--split-index"]);
    assert_ne!(t.git(&["rev-parse", "--shared-index-path"]).trim(), "");
    assert_converges(&t, &runner, &["TASK-001", "TASK-002"]);
    // Still split: git did every index write, as it would have itself.
    assert_ne!(t.git(&["rev-parse", "--shared-index-path"]).trim(), "");
    assert_eq!(t.git(&["write-tree"]), t.git(&["rev-parse", "HEAD^{tree}"]));
}

#[test]
fn clean_filters_apply_to_checkpointed_files() {
    let t = TestRepo::with_files(&[
        ("plan.md", PLAN2),
        (".gitattributes", "*.bin filter=fake\n"),
    ]);
    t.git(&["config", "filter.fake.clean", "tr a-z A-Z"]);
    t.git(&["config", "filter.fake.smudge", "cat"]);
    let runner = script(&t, "bin.sh", "echo \"hello $1\" > \"$1.bin\"");
    // Untracked before the run, so never committed, even by `git add`.
    t.write("-keep me\n*.bin", "mine");
    let out = run_m1(&t, &runner, &[]);
    out.success();
    assert_eq!(
        t.git(&["status", "--porcelain", "-z", "--untracked-files=all"]),
        "?? -keep me\n*.bin\0"
    );
    t.git(&["clean", "-qfd"]);
    for id in ["TASK-001", "TASK-002"] {
        assert_eq!(
            t.git(&["cat-file", "blob", &format!("HEAD:{id}.bin")]),
            format!("HELLO {id}\n"),
            "the committed blob is not the filtered form"
        );
        assert_eq!(t.read(&format!("{id}.bin")), format!("hello {id}\n"));
    }
    assert_eq!(porcelain(&t), "");
    assert_eq!(
        checkpoints_per_task(&t),
        once_each(&["TASK-001", "TASK-002"])
    );
    assert_fsck_clean(&t);
}

// ---- 9. odd file names ----

const ODD: [&str; 5] = [
    "with space.txt",
    "new\nline.txt",
    "-dash.txt",
    "ünïcödé.txt",
    "tab\there.txt",
];

#[test]
fn odd_paths_are_checkpointed_and_rolled_back() {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    // TASK-001 creates the odd files; TASK-002 changes them, then fails.
    let runner = script(
        &t,
        "odd.sh",
        "if [ \"$1\" = TASK-001 ]; then\n\
         printf a > 'with space.txt'; printf a > 'new\nline.txt'; printf a > ./-dash.txt\n\
         printf a > 'ünïcödé.txt'; printf a > \"$(printf 'tab\\there.txt')\"\n\
         else\n\
         for f in *; do [ \"$f\" = plan.md ] || printf b >> \"./$f\"; done; printf x > 'another one.txt'; exit 3\n\
         fi",
    );
    let out = run_m1(&t, &runner, &["--on-failure", "rollback"]);
    out.code(1);
    let mut want: Vec<String> = ODD.iter().map(|s| s.to_string()).collect();
    want.push(".milestone_bundles/M1/status.json".into());
    want.push("plan.md".into());
    want.sort();
    let listed = t.git(&["ls-files", "-z"]);
    let mut listed: Vec<String> = listed
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    listed.sort();
    assert_eq!(listed, want);
    for name in ODD {
        assert_eq!(
            t.git(&[
                "cat-file",
                "blob",
                &format!("refs/milestone/M1/checkpoints/TASK-001:{name}")
            ]),
            "a"
        );
        // Rolled back: TASK-002's appends are gone, and so is its new file.
        assert_eq!(t.read(name), "a", "{name:?} not rolled back");
    }
    assert!(!t.path().join("another one.txt").exists());
    assert_eq!(
        t.git(&["status", "--porcelain", "-z", "--untracked-files=all"]),
        " M .milestone_bundles/M1/status.json\0"
    );
    assert_fsck_clean(&t);
}

// ---- 10. a hand-corrupted status file ----

#[test]
fn corrupted_status_file_is_refused_and_restart_recovers() {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    let runner = writing_runner(&t);
    run_m1(&t, &runner, &[]).success();
    let good = t.read(".milestone_bundles/M1/status.json");
    for (text, first) in [
        (
            &good[..good.len() / 2],
            "error: .milestone_bundles/M1/status.json is not a valid status file\ncause: ",
        ),
        (
            "{\"version\": 7, \"future\": true}\n",
            "error: .milestone_bundles/M1/status.json has format version 7, newer than this git-milestone understands (3)\n\
             hint: upgrade git-milestone, or run with `--restart` to start the milestone over\n",
        ),
    ] {
        t.write(".milestone_bundles/M1/status.json", text);
        let before = snapshot(&t);
        let log_before = ran_log(&t);
        let out = run_m1(&t, &runner, &[]);
        out.code(2);
        assert!(out.stderr.starts_with(first), "{}", out.stderr);
        assert!(out.stderr.contains("\nhint: "), "{}", out.stderr);
        assert_eq!(snapshot(&t), before);
        assert_eq!(t.read(".milestone_bundles/M1/status.json"), text);
        assert_eq!(ran_log(&t), log_before);
        // `status` still reports, listing the milestone as unreadable.
        let st = t.run(["status", "--json"]);
        st.code(2);
        let listed = &st.json()["milestones"][0];
        assert_eq!(listed["name"], "M1", "{}", st.stdout);
        assert_eq!(listed["state"], "unreadable", "{}", st.stdout);
        assert_eq!(listed["path"], ".milestone_bundles/M1/status.json");
        assert!(st.stderr.contains("hint: "), "{}", st.stderr);
    }
    let out = run_m1(&t, &runner, &["--restart"]);
    out.success();
    assert_eq!(status_json(&t)["state"], "completed");
    let counts = checkpoints_per_task(&t);
    assert_eq!(
        counts,
        [("TASK-001".to_string(), 2), ("TASK-002".to_string(), 2)].into()
    );
    assert_eq!(porcelain(&t), "");
    assert_fsck_clean(&t);
}

// ---- 11. the plan edited mid-milestone ----

#[test]
fn plan_edited_mid_milestone_keeps_done_tasks_and_reports_removed_ones() {
    let plan4 =
        "# M1\n\n- [ ] TASK-001: A\n- [ ] TASK-002: B\n- [ ] TASK-003: C\n- [ ] TASK-004: D\n";
    let t = TestRepo::with_files(&[("plan.md", plan4)]);
    let log = t.home.path().join("ran.log");
    // Fails TASK-003 the first time, so the run stops after two checkpoints.
    let runner = script(
        &t,
        "stop3.sh",
        &format!(
            "echo \"$1\" >> '{0}'\n[ \"$1\" = TASK-003 ] && [ ! -e '{0}.3' ] && touch '{0}.3' && exit 4\necho \"$1\" > \"$1.txt\"",
            log.display()
        ),
    );
    run_m1(&t, &runner, &["--on-failure", "rollback"]).code(1);
    assert_eq!(
        checkpoints_per_task(&t),
        once_each(&["TASK-001", "TASK-002"])
    );
    // TASK-003 removed, TASK-002 renamed, TASK-005 added.
    t.write(
        "plan.md",
        "# M1\n\n- [ ] TASK-001: A\n- [ ] TASK-002: B, renamed\n- [ ] TASK-005: E\n- [ ] TASK-004: D\n",
    );
    t.commit_all("edit the plan");
    let out = run_m1(&t, &runner, &[]);
    out.success();
    assert_eq!(
        out.stderr,
        "warning: TASK-003 is no longer in plan.md: dropped from the status file (its checkpoint, if any, stays in history)\n"
    );
    assert_eq!(
        ran_log(&t),
        "TASK-001\nTASK-002\nTASK-003\nTASK-005\nTASK-004\n"
    );
    let status = status_json(&t);
    assert_eq!(status["state"], "completed");
    let rows: Vec<(String, String, String)> = status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["title"].as_str().unwrap().to_string(),
                t["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let row = |id: &str, title: &str| (id.to_string(), title.to_string(), "done".to_string());
    assert_eq!(
        rows,
        [
            row("TASK-001", "A"),
            row("TASK-002", "B, renamed"),
            row("TASK-005", "E"),
            row("TASK-004", "D")
        ]
    );
    assert_eq!(
        checkpoints_per_task(&t),
        once_each(&["TASK-001", "TASK-002", "TASK-004", "TASK-005"])
    );
    assert_eq!(porcelain(&t), "");
    assert_fsck_clean(&t);
}

#[test]
fn index_version_4_is_read_and_written() {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    let runner = writing_runner(&t);
    t.git(&["update-index", "--index-version", "4"]);
    assert_converges(&t, &runner, &["TASK-001", "TASK-002"]);
    assert_eq!(t.git(&["update-index", "--show-index-version"]), "4\n");
}

#[test]
fn rollback_and_undo_apply_content_filters() {
    let t = TestRepo::with_files(&[
        ("plan.md", PLAN2),
        (".gitattributes", "*.bin filter=fake\n"),
    ]);
    t.git(&["config", "filter.fake.clean", "tr a-z A-Z"]);
    t.git(&["config", "filter.fake.smudge", "tr A-Z a-z"]);
    let runner = script(
        &t,
        "fails.sh",
        "if [ \"$1\" = TASK-001 ]; then echo hello > x.bin; else echo changed > x.bin; echo new > y.bin; exit 3; fi",
    );
    let out = run_m1(&t, &runner, &["--on-failure", "rollback"]);
    out.code(1);
    // The checkpoint's file, smudged; the attempt's new file gone.
    assert_eq!(t.read("x.bin"), "hello\n");
    assert!(!t.path().join("y.bin").exists());
    assert_eq!(t.git(&["show", "HEAD:x.bin"]), "HELLO\n");
    // The attempt is saved as git stores it: through the clean filter.
    let saved = "refs/milestone/M1/attempts/TASK-002/1";
    assert_eq!(t.git(&["show", &format!("{saved}:x.bin")]), "CHANGED\n");
    assert_eq!(t.git(&["show", &format!("{saved}:y.bin")]), "NEW\n");
    assert_eq!(porcelain(&t), " M .milestone_bundles/M1/status.json\n");
    // And it comes back smudged.
    t.run(["rollback", "M1", "--undo"]).success();
    assert_eq!(t.read("x.bin"), "changed\n");
    assert_eq!(t.read("y.bin"), "new\n");
    assert_eq!(
        porcelain(&t),
        " M .milestone_bundles/M1/status.json\n M x.bin\n?? y.bin\n"
    );
    assert_fsck_clean(&t);
}

/// Run the binary as `nobody` (root ignores file modes), or `None` when
/// this is not root or `setpriv` is missing.
fn run_as_nobody(t: &TestRepo, args: &[&str]) -> Option<Run> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let mut c = Command::new("setpriv");
    common::seal(&mut c, t.home.path());
    c.current_dir(t.path())
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(common::bin())
        .args(args);
    let out = c.output().ok()?;
    let run: Run = out.into();
    (!run.stderr.starts_with("setpriv:")).then_some(run)
}

/// `chown -R uid:uid` the repository and its HOME; false when not allowed.
fn chown_all(t: &TestRepo, uid: u32) -> bool {
    [t.path(), t.home.path()].iter().all(|dir| {
        Command::new("chown")
            .args(["-R", &format!("{uid}:{uid}")])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

#[test]
fn git_dir_without_write_permission_is_refused_for_a_normal_user() {
    let t = TestRepo::with_files(&[("plan.md", PLAN2)]);
    let runner = writing_runner(&t);
    let before = snapshot(&t);
    // Owned by nobody, so git's ownership check passes for nobody; the
    // checks below run as root again, after a chown back.
    if !chown_all(&t, 65534) {
        return common::skip("cannot chown to nobody (needs root)");
    }
    let chmod = |mode: &str| {
        let ok = Command::new("chmod")
            .args(["-R", mode])
            .arg(t.path().join(".git"))
            .status();
        assert!(ok.unwrap().success());
    };
    chmod("a-w");
    let args = [
        "run",
        "M1",
        "--plan",
        "plan.md",
        "--runner",
        runner.to_str().unwrap(),
    ];
    let Some(out) = run_as_nobody(&t, &args) else {
        return common::skip("cannot run as nobody (needs root and setpriv)");
    };
    chmod("u+w");
    assert!(chown_all(&t, 0));
    out.code(2);
    let shown = t.path().canonicalize().unwrap().join(".git/");
    assert_eq!(
        out.stderr,
        format!(
            "error: cannot write to {0}, so no checkpoint could be committed\n\
             cause: Permission denied (os error 13)\n\
             hint: nothing was changed; make the repository writable (check `mount` and `ls -ld {0}`), then run again\n",
            shown.display()
        )
    );
    assert_eq!(snapshot(&t), before);
    assert_eq!(ran_log(&t), "");
    assert!(chown_all(&t, 65534));
    let out = run_as_nobody(&t, &args).unwrap();
    assert!(chown_all(&t, 0));
    out.success();
    assert_eq!(
        checkpoints_per_task(&t),
        once_each(&["TASK-001", "TASK-002"])
    );
    assert_eq!(porcelain(&t), "");
    assert_fsck_clean(&t);
}

// ---- a rollback, and --undo --force, stopped half way ----

/// How many files the failed attempt of [`failed_with_many_files`] makes.
const MANY: usize = 300;

/// A run of M1 whose TASK-002 failed after writing [`MANY`] new files under
/// `gen/` and editing `tracked.txt`; then the user wrote `notes.txt` while
/// it waited. Returns the runner that succeeds, for the rerun.
fn failed_with_many_files() -> (TestRepo, PathBuf) {
    let t = TestRepo::with_files(&[("plan.md", PLAN2), ("tracked.txt", "v1\n")]);
    let runner = script(
        &t,
        "many.sh",
        &format!(
            "[ \"$1\" = TASK-002 ] || exit 0\n[ -e '{0}' ] && exit 0\nmkdir -p gen\n\
             i=0; while [ $i -lt {MANY} ]; do echo \"file $i\" > gen/f$i.txt; i=$((i+1)); done\n\
             echo changed > tracked.txt\nexit 3",
            t.home.path().join("ok").display()
        ),
    );
    run_m1(&t, &runner, &[]).code(1);
    t.write("notes.txt", "the user's, written while TASK-002 waited\n");
    (t, runner)
}

/// Run `args` until it stops refusing for a lock that a killed git left,
/// removing the lock as the hint says.
fn run_following_lock_hints(t: &TestRepo, args: &[&str]) -> Run {
    let mut out = t.run(args);
    for _ in 0..2 {
        let Some(path) = out
            .stderr
            .split("remove the stale lock with `rm ")
            .nth(1)
            .and_then(|s| s.split('`').next())
        else {
            break;
        };
        std::fs::remove_file(path).unwrap();
        out = t.run(args);
    }
    out
}

/// The milestone after the stopped command and its rerun: every file of
/// the attempt saved in the ref `--undo` restores, the user's file never
/// touched nor committed, and a last run completing the milestone.
#[track_caller]
fn assert_undo_brings_everything_back_and_the_run_converges(t: &TestRepo, runner: &Path) {
    let files = |rev: &str| {
        t.git(&["ls-tree", "-r", "--name-only", rev, "gen/"])
            .lines()
            .count()
    };
    if t.path()
        .join(".git/milestone/M1/last-rollback.json")
        .exists()
    {
        let out = run_following_lock_hints(t, &["rollback", "M1", "--undo", "--force"]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let restored = out
            .stdout
            .split("the work saved in ")
            .nth(1)
            .and_then(|s| s.split(';').next())
            .unwrap();
        assert_eq!(files(restored), MANY, "{}", out.stdout);
    }
    for i in [0, MANY / 2, MANY - 1] {
        assert_eq!(t.read(&format!("gen/f{i}.txt")), format!("file {i}\n"));
    }
    assert_eq!(t.read("tracked.txt"), "changed\n");
    assert_eq!(
        t.read("notes.txt"),
        "the user's, written while TASK-002 waited\n"
    );
    std::fs::write(t.home.path().join("ok"), "").unwrap();
    let out = run_m1(t, runner, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(status_json(t)["state"], "completed");
    assert_eq!(
        checkpoints_per_task(t),
        once_each(&["TASK-001", "TASK-002"])
    );
    assert_eq!(files("HEAD"), MANY);
    assert_eq!(porcelain(t), "?? notes.txt\n");
    assert_fsck_clean(t);
}

/// SIGINT every third round, else SIGKILL.
fn signal_of(round: usize) -> i32 {
    if round % 3 == 2 {
        libc::SIGINT
    } else {
        libc::SIGKILL
    }
}

#[test]
fn a_rollback_killed_or_interrupted_half_way_is_finished_and_undone_whole() {
    if !stop::can_trace() {
        return;
    }
    let (seed, mut rng) = seeded_rng();
    let rollback = ["rollback", "M1"];
    let events = stop::events(&failed_with_many_files().0, &rollback);
    let mut by_exit = BTreeMap::<i32, usize>::new();
    let mut finished_by_rerun = 0;
    for round in 0..seeded_moments(12) {
        let (t, runner) = failed_with_many_files();
        let sig = signal_of(round);
        // Every fourth moment a git command, else a write: a file removed,
        // the journal or the status file written.
        let at = events.moment(round % 4 == 0, |n| rng.below(n));
        let stopped = stop::stop_at(&t, &rollback, sig, at);
        eprintln!("round {round}: {at:?}, {stopped:?}");
        *by_exit.entry(stopped.code).or_default() += 1;
        assert_fsck_clean(&t);
        assert!(
            t.path().join("notes.txt").exists(),
            "round {round} ({at:?})"
        );
        if !stopped.signalled {
            assert_eq!(stopped.code, 0, "round {round} ({at:?})");
        } else if sig == libc::SIGINT {
            // Finished, stopped (130), or killed before it could install
            // its handler, when nothing had happened yet.
            assert!(
                matches!(stopped.code, 0 | 130 | -1),
                "round {round} ({at:?}): exit {}",
                stopped.code
            );
        }
        // The next rollback finishes the stopped one (or starts afresh when
        // nothing had changed, or finds nothing left to do).
        let out = run_following_lock_hints(&t, &rollback);
        let done = out.code == 0
            || (out.code == 2 && out.stderr.starts_with("error: nothing to roll back"));
        assert!(done, "round {round} ({at:?}): {}", out.stderr);
        finished_by_rerun += usize::from(out.stdout.starts_with("Finished the rollback"));
        assert!(!t.path().join("gen").exists(), "round {round} ({at:?})");
        assert_eq!(t.read("tracked.txt"), "v1\n", "round {round} ({at:?})");
        assert_eq!(
            porcelain(&t),
            " M .milestone_bundles/M1/status.json\n?? notes.txt\n",
            "round {round} ({at:?})"
        );
        assert_fsck_clean(&t);
        assert_undo_brings_everything_back_and_the_run_converges(&t, &runner);
    }
    eprintln!(
        "seed {seed:#x}, moments {events:?}: exits of the stopped rollback {by_exit:?}; \
         stopped rollbacks finished by the next one: {finished_by_rerun}"
    );
    // The moments must fall after the save, or this test shows little.
    assert!(
        finished_by_rerun >= 2,
        "too few stops landed while the work tree was put back: {finished_by_rerun}"
    );
}

#[test]
fn undo_force_killed_half_way_never_loses_the_users_commit() {
    if !stop::can_trace() {
        return;
    }
    let (seed, mut rng) = seeded_rng();
    let committed = || {
        let (t, runner) = failed_with_many_files();
        t.run(["rollback", "M1"]).success();
        t.write("later.txt", "the user's commit\n");
        t.git(&["add", "later.txt"]);
        t.git(&["commit", "-q", "-m", "later work"]);
        (t, runner)
    };
    let undo = ["rollback", "M1", "--undo", "--force"];
    let events = stop::events(&committed().0, &undo);
    let mut by_exit = BTreeMap::<i32, usize>::new();
    for round in 0..seeded_moments(10) {
        let (t, runner) = committed();
        let later = common::inspect::head(&t);
        let at = events.moment(round % 4 == 0, |n| rng.below(n));
        let stopped = stop::stop_at(&t, &undo, signal_of(round), at);
        eprintln!("round {round}: {at:?}, {stopped:?}");
        *by_exit.entry(stopped.code).or_default() += 1;
        assert_fsck_clean(&t);
        // The commit is on the branch, or saved under a ref first.
        let keeping = t.git(&["for-each-ref", "--contains", &later, "--format=%(refname)"]);
        assert!(
            keeping.contains("refs/heads/main") || keeping.contains("before-undo/"),
            "round {round} ({at:?}): only in {keeping:?}"
        );
        assert_undo_brings_everything_back_and_the_run_converges(&t, &runner);
        let keeping = t.git(&["for-each-ref", "--contains", &later, "--format=%(refname)"]);
        assert!(
            keeping.contains("before-undo/"),
            "round {round} ({at:?}): {keeping:?}"
        );
    }
    eprintln!("seed {seed:#x}, moments {events:?}: exits of the stopped undo {by_exit:?}");
}

/// A SIGKILL between a rollback's removal of the attempt's last file in a
/// directory and the removal of that directory: the rollback that finishes
/// the stopped one removes the directory too (git lists no empty
/// directory, so it has to know it from the attempt's files).
#[test]
fn a_rollback_killed_before_removing_an_emptied_directory_is_finished_without_it() {
    if !stop::can_trace() {
        return;
    }
    let rollback = ["rollback", "M1"];
    // How many times a whole rollback tries to remove gen/: the last one
    // succeeds.
    let (t, _) = failed_with_many_files();
    let last = stop::calls_on(&t, &rollback, "rmdir", &t.path().join("gen"));
    let (t, runner) = failed_with_many_files();
    let dir = t.path().join("gen");
    let at = stop::At::SyscallOn("rmdir", last, &dir);
    let stopped = stop::stop_at(&t, &rollback, libc::SIGKILL, at);
    assert!(stopped.signalled, "{stopped:?}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "gen/ is left empty"
    );
    let out = t.run(rollback);
    out.success();
    assert!(
        out.stdout.starts_with("Finished the rollback of M1"),
        "{}",
        out.stdout
    );
    assert!(!dir.exists());
    assert_eq!(
        porcelain(&t),
        " M .milestone_bundles/M1/status.json\n?? notes.txt\n"
    );
    assert_undo_brings_everything_back_and_the_run_converges(&t, &runner);
}

/// A SIGKILL as a rollback, or `--undo --force`, creates the ref that
/// saves the work (libgit2 writes `<ref>.lock`, then links it into place)
/// leaves that lock behind, as a killed git does. The next command says
/// which lock is in the way and how to remove it; once it is removed, the
/// command does its whole job and nothing is lost.
#[test]
fn a_kill_while_saving_work_under_a_ref_leaves_a_lock_the_next_command_names() {
    if !stop::can_trace() {
        return;
    }
    let (t, runner) = failed_with_many_files();
    let lock = t
        .path()
        .join(".git/refs/milestone/M1/attempts/TASK-002/1.lock");
    let at = stop::At::SyscallOn("link", 1, &lock);
    let stopped = stop::stop_at(&t, &["rollback", "M1"], libc::SIGKILL, at);
    assert!(stopped.signalled && lock.exists(), "{stopped:?}");
    let out = t.run(["rollback", "M1"]);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 1
    --- stdout
    --- stderr
    error: refs/milestone/M1/attempts/TASK-002/1 is locked: [REPO]/.git/refs/milestone/M1/attempts/TASK-002/1.lock exists (another git command is running, or one crashed)
    hint: if no git command is running, remove the stale lock with `rm [REPO]/.git/refs/milestone/M1/attempts/TASK-002/1.lock`
    ");
    std::fs::remove_file(&lock).unwrap();
    t.run(["rollback", "M1"]).success();
    assert!(!t.path().join("gen").exists());

    // The user commits after the rollback; --undo --force saves that commit
    // under a ref before it puts the attempt back.
    t.write("later.txt", "the user's commit\n");
    t.git(&["add", "later.txt"]);
    t.git(&["commit", "-q", "-m", "later work"]);
    let later = common::inspect::head(&t);
    let undo = ["rollback", "M1", "--undo", "--force"];
    let lock = t.path().join(".git/refs/milestone/M1/before-undo/1.lock");
    let at = stop::At::SyscallOn("link", 1, &lock);
    let stopped = stop::stop_at(&t, &undo, libc::SIGKILL, at);
    assert!(stopped.signalled && lock.exists(), "{stopped:?}");
    let out = t.run(undo);
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 1
    --- stdout
    --- stderr
    error: refs/milestone/M1/before-undo/1 is locked: [REPO]/.git/refs/milestone/M1/before-undo/1.lock exists (another git command is running, or one crashed)
    hint: if no git command is running, remove the stale lock with `rm [REPO]/.git/refs/milestone/M1/before-undo/1.lock`
    ");
    std::fs::remove_file(&lock).unwrap();
    t.run(undo).success();
    let keeping = t.git(&["for-each-ref", "--contains", &later, "--format=%(refname)"]);
    assert!(keeping.contains("before-undo/"), "{keeping:?}");
    assert_undo_brings_everything_back_and_the_run_converges(&t, &runner);
}

/// Ctrl-C while the run rolls a failed task back (`--on-failure rollback`):
/// the terminal's SIGINT reaches the whole foreground group, yet no git
/// command is killed half way; the rollback finishes, the run exits 130
/// and is recorded as interrupted, and the next run carries on.
#[test]
fn ctrl_c_during_the_runs_rollback_exits_130_and_is_recorded() {
    let t = TestRepo::with_files(&[
        ("plan.md", PLAN2),
        (".gitattributes", "*.slow filter=slow\n"),
    ]);
    // The filter holds the save until the test has sent its Ctrl-C.
    let marker = t.home.path().join("filtering");
    let go = t.home.path().join("go");
    let filter = script(
        &t,
        "slow-filter.sh",
        &format!(
            "touch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.01; done\ncat",
            marker.display(),
            go.display()
        ),
    );
    t.git(&["config", "filter.slow.clean", &filter.display().to_string()]);
    let once = t.home.path().join("failed-once");
    let runner = script(
        &t,
        "fails-once.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] || exit 0\necho x > x.slow\n\
             [ -e '{0}' ] && exit 0\ntouch '{0}'\nexit 3",
            once.display()
        ),
    );
    let child = run_cmd(&t, &runner, &["--on-failure", "rollback"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    // The save of the attempt is hashing x.slow through the filter.
    wait_for(&marker);
    // SAFETY: signals the process group this test started.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGINT);
    }
    std::fs::write(&go, "").unwrap();
    let out: Run = child.wait_with_output().unwrap().into();
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 130
    --- stdout
    Starting TASK-001 [1/2] First
    checkpoint [OID] TASK-001 [1/2] in [DURATION]
    Starting TASK-002 [2/2] Second
    --- stderr
    error: TASK-002 failed (exit code 3) after [DURATION], and SIGINT arrived while it was rolled back; the rollback finished first: its work is saved in refs/milestone/M1/attempts/TASK-002/1 (removed from the work tree: TASK-002.txt and x.slow) and the branch is back at [OID]
    hint: its output: [REPO]/.git/milestone/M1/logs/TASK-002.1.log
    hint: bring the work back with `git milestone rollback M1 --undo`, or run the task again with `git milestone run M1 --plan plan.md --runner [HOME]/fails-once.sh --on-failure rollback`
    ");
    let status = status_json(&t);
    assert_eq!(status["state"], "interrupted");
    assert_eq!(status["failure"]["rolled_back"], true);
    assert!(!t.path().join("x.slow").exists());
    assert_eq!(
        t.git(&["show", "refs/milestone/M1/attempts/TASK-002/1:x.slow"]),
        "x\n"
    );
    assert!(!t.path().join(".git/milestone/run.lock").exists());
    assert_fsck_clean(&t);
    let out = run_m1(&t, &runner, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        checkpoints_per_task(&t),
        once_each(&["TASK-001", "TASK-002"])
    );
    assert_eq!(porcelain(&t), "");
}

/// The same for `git milestone rollback` itself: Ctrl-C once the attempt
/// is being saved lets the rollback finish (nothing is left half done),
/// and it exits 130 saying so.
#[test]
fn ctrl_c_during_a_rollback_lets_it_finish_and_exits_130() {
    let t = TestRepo::with_files(&[
        ("plan.md", PLAN2),
        (".gitattributes", "*.slow filter=slow\n"),
    ]);
    // The filter holds the save until the test has sent its Ctrl-C.
    let marker = t.home.path().join("filtering");
    let go = t.home.path().join("go");
    let filter = script(
        &t,
        "slow-filter.sh",
        &format!(
            "touch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.01; done\ncat",
            marker.display(),
            go.display()
        ),
    );
    t.git(&["config", "filter.slow.clean", &filter.display().to_string()]);
    let runner = script(
        &t,
        "fails.sh",
        "[ \"$1\" = TASK-002 ] || exit 0\necho x > x.slow\nexit 3",
    );
    run_m1(&t, &runner, &[]).code(1);
    let child = t
        .cmd()
        .args(["rollback", "M1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    wait_for(&marker);
    // SAFETY: signals the process group this test started.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGINT);
    }
    std::fs::write(&go, "").unwrap();
    let out: Run = child.wait_with_output().unwrap().into();
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 130
    --- stdout
    Rolled back M1 to the checkpoint of TASK-001 ([OID]).
    Removed 1 file the attempt created: x.slow.
    The discarded work is saved in refs/milestone/M1/attempts/TASK-002/1.
    To bring it back: git milestone rollback M1 --undo
      (with git alone: git read-tree -u --reset refs/milestone/M1/attempts/TASK-002/1 && git reset -q refs/milestone/M1/attempts/TASK-002/1~1)
    --- stderr
    error: SIGINT arrived during the rollback of M1; it finished first, so nothing is left half done
    ");
    assert_eq!(status_json(&t)["failure"]["rolled_back"], true);
    assert_eq!(porcelain(&t), " M .milestone_bundles/M1/status.json\n");
    assert_fsck_clean(&t);
}
