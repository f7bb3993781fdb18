//! The pre-push hook: real pushes to a local bare remote through the
//! installed hook, install / uninstall, and the check on its own.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_fs::TempDir;
use common::{Run, TestRepo, milestone_status};
use git_milestone::state::{Failure, RunState, TaskState};

use TaskState::{Done, Pending};

/// A repository with a bare remote `origin` and one plain commit on `main`.
struct Pushing {
    t: TestRepo,
    remote: TempDir,
}

impl Pushing {
    fn new() -> Pushing {
        let t = TestRepo::with_files(&[("README.md", "hello\n")]);
        let remote = TempDir::new().unwrap();
        t.git(&["init", "-q", "--bare", remote.path().to_str().unwrap()]);
        t.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
        Pushing { t, remote }
    }

    /// `git <args>` with `git-milestone` on PATH, as a user would push.
    fn git_run(&self, args: &[&str]) -> Run {
        let mut c = self.t.git_cmd();
        c.env("PATH", common::path_with_bin()).args(args);
        Run::from(c.output().unwrap())
    }

    fn push(&self, args: &[&str]) -> Run {
        let mut all = vec!["push", "-q", "origin"];
        all.extend_from_slice(args);
        self.git_run(&all)
    }

    /// The remote's commit for `reference`, if it has one.
    fn remote_has(&self, reference: &str) -> Option<String> {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(self.remote.path())
            .args(["rev-parse", "--verify", "-q", reference])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
    }

    fn head(&self) -> String {
        common::inspect::head(&self.t)
    }

    /// Run our pre-push check the way git runs the hook, with `stdin` as
    /// git's ref lines.
    fn check(&self, stdin: &str) -> Run {
        let mut c = self.t.cmd();
        c.args(["hook", "pre-push", "origin", "url"]);
        common::run_with_stdin(&mut c, stdin)
    }

    /// git's hook line for pushing HEAD to a remote `main` it does not have.
    fn new_main_line(&self) -> String {
        format!(
            "refs/heads/main {} refs/heads/main {}\n",
            self.head(),
            "0".repeat(40)
        )
    }

    fn hooks(&self) -> PathBuf {
        self.t.path().join(".git/hooks")
    }

    fn install(&self) -> Run {
        let r = self.t.run(["install-hook"]);
        r.success();
        r
    }

    /// Commit a milestone M1 that failed at T2 (the whole tree, status included).
    fn commit_failed(&self) {
        let mut s = milestone_status("M1", RunState::Failed, &[("T1", Done), ("T2", Pending)]);
        s.tasks[1].state = TaskState::Failed;
        s.failure = Some(Failure {
            task: "T2".into(),
            at: "2026-01-01T00:10:00Z".into(),
            exit_code: Some(1),
            attempts: 1,
            rolled_back: false,
            saved_ref: None,
            head: None,
        });
        self.t.write_status(&s);
        self.t.commit_all("wip: everything");
    }

    /// The checkpoint of T1 in a two-task milestone M1: mid-run.
    fn commit_mid_run(&self) {
        let s = milestone_status("M1", RunState::Running, &[("T1", Done), ("T2", Pending)]);
        self.t.checkpoint(&s, "T1");
    }

    fn commit_completed(&self) {
        let s = milestone_status("M1", RunState::Completed, &[("T1", Done), ("T2", Done)]);
        self.t.checkpoint(&s, "T2");
    }

    /// A pre-push hook of the user's own that records its arguments and stdin.
    fn user_hook(&self) -> Vec<u8> {
        let text = format!(
            "#!/bin/sh\necho \"$1 $(cat)\" >> '{}'\nexit 0\n",
            self.marker().display()
        );
        fs::create_dir_all(self.hooks()).unwrap();
        let hook = self.hooks().join("pre-push");
        fs::write(&hook, &text).unwrap();
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o700)).unwrap();
        text.into_bytes()
    }

    fn marker(&self) -> PathBuf {
        self.t.home.path().join("user-hook-ran")
    }

    fn marker_lines(&self) -> Vec<String> {
        fs::read_to_string(self.marker())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

const FAILED_LINE: &str = "error: not pushing main: milestone M1 failed at T2 (1/2 tasks done); \
    retry it with `git milestone run M1`, or skip this check with `git push --no-verify`";

#[test]
fn failed_milestone_is_refused_and_no_verify_pushes_it() {
    let p = Pushing::new();
    p.install();
    p.commit_failed();
    let out = p.push(&["main"]);
    out.code(1);
    assert!(
        out.stderr.starts_with(&format!("{FAILED_LINE}\n")),
        "{}",
        out.stderr
    );
    assert_eq!(p.remote_has("refs/heads/main"), None);

    p.push(&["--no-verify", "main"]).success();
    assert_eq!(p.remote_has("refs/heads/main"), Some(p.head()));
}

#[test]
fn mid_run_milestone_is_refused() {
    let p = Pushing::new();
    p.install();
    p.commit_mid_run();
    let out = p.push(&["main"]);
    out.code(1);
    assert!(
        out.stderr.starts_with(
            "error: not pushing main: milestone M1 is mid-run (1/2 tasks done); \
             finish it with `git milestone run M1`, or skip this check with `git push --no-verify`\n"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(p.remote_has("refs/heads/main"), None);
}

#[test]
fn completed_milestone_deletion_and_tag_are_allowed() {
    let p = Pushing::new();
    p.install();
    p.commit_completed();
    let out = p.push(&["main"]);
    out.success();
    assert_eq!(out.stderr, "");
    assert_eq!(p.remote_has("refs/heads/main"), Some(p.head()));

    // A failed milestone on a branch: refused, but deleting it and tagging pass.
    p.t.git(&["switch", "-q", "-c", "topic"]);
    p.commit_failed();
    let out = p.push(&["topic"]);
    out.code(1);
    assert!(
        out.stderr
            .contains("error: not pushing topic: milestone M1 failed at T2"),
        "{}",
        out.stderr
    );
    p.push(&["--no-verify", "topic"]).success();
    p.push(&[":topic"]).success();
    assert_eq!(p.remote_has("refs/heads/topic"), None);
    p.t.git(&["tag", "v1"]);
    p.push(&["v1"]).success();
    assert_eq!(p.remote_has("refs/tags/v1"), Some(p.head()));
    // Checkpoint refs are mid-run snapshots by design; pushing them is allowed.
    p.commit_mid_run();
    p.push(&["refs/milestone/M1/checkpoints/T1"]).success();
}

#[test]
fn users_own_hook_still_runs_whether_ours_refuses_or_passes() {
    let p = Pushing::new();
    let original = p.user_hook();
    let out = p.install();
    assert!(
        out.stdout.contains("pre-push.user and still runs first"),
        "{}",
        out.stdout
    );
    assert_eq!(fs::read(p.hooks().join("pre-push.user")).unwrap(), original);

    p.commit_failed();
    let failed = p.head();
    let out = p.push(&["main"]);
    out.code(1);
    assert!(out.stderr.contains(FAILED_LINE), "{}", out.stderr);
    let zero = "0".repeat(40);
    assert_eq!(
        p.marker_lines(),
        [format!(
            "origin refs/heads/main {failed} refs/heads/main {zero}"
        )]
    );

    p.commit_completed();
    p.push(&["main"]).success();
    let lines = p.marker_lines();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1],
        format!("origin refs/heads/main {} refs/heads/main {zero}", p.head())
    );
    assert_eq!(p.remote_has("refs/heads/main"), Some(p.head()));
}

#[test]
fn a_refusing_user_hook_still_refuses() {
    let p = Pushing::new();
    fs::create_dir_all(p.hooks()).unwrap();
    let hook = p.hooks().join("pre-push");
    fs::write(&hook, "#!/bin/sh\necho 'user says no' >&2\nexit 7\n").unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    p.install();
    p.commit_completed();
    let out = p.push(&["main"]);
    out.code(1);
    assert!(out.stderr.starts_with("user says no\n"), "{}", out.stderr);
    assert_eq!(p.remote_has("refs/heads/main"), None);
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn install_twice_changes_nothing_and_uninstall_restores_exactly() {
    let p = Pushing::new();
    let original = p.user_hook();
    let hook = p.hooks().join("pre-push");
    p.install();
    let shim = fs::read(&hook).unwrap();
    assert_eq!(mode(&hook), 0o755);
    let out = p.install();
    assert_eq!(
        out.stdout,
        format!(
            "The pre-push hook is already installed: {}\n",
            hook.canonicalize().unwrap().display()
        )
    );
    assert_eq!(fs::read(&hook).unwrap(), shim);
    let mut names: Vec<String> = fs::read_dir(p.hooks())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("pre-push"))
        .collect();
    names.sort();
    assert_eq!(names, ["pre-push", "pre-push.sample", "pre-push.user"]);

    p.t.run(["uninstall-hook"]).success();
    assert_eq!(fs::read(&hook).unwrap(), original);
    assert_eq!(mode(&hook), 0o700);
    assert!(!p.hooks().join("pre-push.user").exists());
    let out = p.t.run(["uninstall-hook"]);
    out.success();
    assert!(
        out.stdout.starts_with("No git-milestone pre-push hook in "),
        "{}",
        out.stdout
    );
    assert_eq!(fs::read(&hook).unwrap(), original);
}

#[test]
fn uninstall_without_a_user_hook_removes_ours() {
    let p = Pushing::new();
    p.install();
    p.t.run(["uninstall-hook"]).success();
    assert!(!p.hooks().join("pre-push").exists());
    p.commit_failed();
    p.push(&["main"]).success();
}

#[test]
fn core_hooks_path_is_honoured() {
    let p = Pushing::new();
    p.t.git(&["config", "core.hooksPath", ".githooks"]);
    let out = p.install();
    let hook = p.t.path().join(".githooks/pre-push");
    assert!(hook.is_file(), "{}", out.stdout);
    assert!(!p.hooks().join("pre-push").exists());
    p.commit_failed();
    let out = p.push(&["main"]);
    out.code(1);
    assert!(out.stderr.contains(FAILED_LINE), "{}", out.stderr);
}

#[test]
fn installs_from_a_linked_worktree_into_the_shared_hooks() {
    let p = Pushing::new();
    let wt = TempDir::new().unwrap();
    let wt_path = wt.path().join("wt");
    p.t.add_worktree("side", &wt_path);
    Run::from(p.t.cmd_at(&wt_path).arg("install-hook").output().unwrap()).success();
    assert!(p.hooks().join("pre-push").is_file());

    // Pushing a failed milestone from the worktree is refused too.
    let mut s = milestone_status("M1", RunState::Failed, &[("T1", Done)]);
    s.tasks[0].state = TaskState::Failed;
    s.save(&wt_path).unwrap();
    let git = |args: &[&str]| {
        let mut c = Command::new("git");
        common::seal(&mut c, p.t.home.path());
        c.current_dir(&wt_path)
            .env("PATH", common::path_with_bin())
            .args(args);
        Run::from(c.output().unwrap())
    };
    git(&["add", "-A"]).success();
    git(&["commit", "-qm", "x"]).success();
    let out = git(&["push", "-q", "origin", "side"]);
    out.code(1);
    assert!(
        out.stderr
            .contains("error: not pushing side: milestone M1 failed"),
        "{}",
        out.stderr
    );
    assert_eq!(p.remote_has("refs/heads/side"), None);
}

#[test]
fn without_the_tool_on_path_only_pushes_with_milestones_are_refused() {
    let p = Pushing::new();
    p.install();
    let bare_path = "/usr/local/bin:/usr/bin:/bin";
    let push = |args: &[&str]| {
        let mut c = p.t.git_cmd();
        c.env("PATH", bare_path)
            .args(["push", "-q", "origin"])
            .args(args);
        Run::from(c.output().unwrap())
    };
    // Nothing to check: the push goes through.
    push(&["main"]).success();
    p.commit_completed();
    let out = push(&["main"]);
    out.code(1);
    assert!(
        out.stderr.starts_with(
            "error: git-milestone is not on PATH, so milestones in this push cannot be checked;"
        ),
        "{}",
        out.stderr
    );
    push(&["--no-verify", "main"]).success();
}

#[test]
fn check_reads_pre_commit_variables_when_stdin_is_empty() {
    let p = Pushing::new();
    p.commit_failed();
    let head = p.head();
    let mut c = p.t.cmd();
    c.args(["hook", "pre-push", "origin", "url"])
        .env("PRE_COMMIT_TO_REF", &head)
        .env("PRE_COMMIT_FROM_REF", "0".repeat(40))
        .env("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
        .env("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main");
    let out = common::run_with_stdin(&mut c, "");
    out.code(1);
    assert_eq!(out.stderr, format!("{FAILED_LINE}\n"));

    p.check("").success();
}

#[test]
fn check_refuses_an_unreadable_status_blob() {
    let p = Pushing::new();
    p.t.write(".milestone_bundles/M1/status.json", "{ not json");
    p.t.commit_all("broken");
    let out = p.check(&p.new_main_line());
    out.code(1);
    assert_eq!(
        out.stderr,
        "error: not pushing main: .milestone_bundles/M1/status.json is not a valid status file; \
         repair or remove .milestone_bundles/M1/status.json and commit, or skip this check with `git push --no-verify`\n"
    );
}

#[test]
fn check_refuses_a_symlinked_status_file_without_following_it() {
    let p = Pushing::new();
    let outside = p.t.home.path().join("status.json");
    fs::create_dir_all(p.t.path().join(".milestone_bundles/M1")).unwrap();
    std::os::unix::fs::symlink(
        &outside,
        p.t.path().join(".milestone_bundles/M1/status.json"),
    )
    .unwrap();
    p.t.commit_all("linked");
    let out = p.check(&p.new_main_line());
    out.code(1);
    assert_eq!(
        out.stderr,
        "error: not pushing main: .milestone_bundles/M1/status.json is a symbolic link, not a status file; \
         repair or remove .milestone_bundles/M1/status.json and commit, or skip this check with `git push --no-verify`\n"
    );
}

/// Title set, erase line and clipboard write, as a pushed commit could carry them.
const HOSTILE: &str = "x\u{1b}]0;owned\u{7} \u{1b}[2K \u{1b}]52;c;aGk=\u{7}";

#[test]
fn names_and_fields_from_pushed_commits_reach_the_terminal_escaped() {
    let p = Pushing::new();
    let name = format!("M{HOSTILE}");
    let mut s = milestone_status(&name, RunState::Failed, &[("T1", Done), ("T2", Pending)]);
    s.failure = Some(Failure {
        task: format!("T{HOSTILE}"),
        at: "2026-01-01T00:10:00Z".into(),
        exit_code: Some(1),
        attempts: 1,
        rolled_back: false,
        saved_ref: None,
        head: None,
    });
    let text = serde_json::to_string(&s).unwrap();
    p.t.write(&format!(".milestone_bundles/{name}/status.json"), &text);
    p.t.commit_all("hostile");
    let out = p.check(&p.new_main_line());
    out.code(1);
    for c in ['\u{1b}', '\u{7}'] {
        assert!(
            !out.stderr.contains(c),
            "{c:?} reached the terminal: {}",
            out.stderr
        );
    }
    insta::assert_snapshot!(out.render(&p.t), @r"
        exit: 1
        --- stdout
        --- stderr
        error: not pushing main: milestone Mx\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07 failed at Tx\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07 (1/2 tasks done); retry it with `git milestone run 'Mx\x1b]0;owned\x07 \x1b[2K \x1b]52;c;aGk=\x07'`, or skip this check with `git push --no-verify`
        ");
}

#[test]
fn a_tag_pushed_to_a_branch_is_checked_as_that_branch() {
    let p = Pushing::new();
    p.install();
    p.push(&["main"]).success();
    let clean = p.head();
    p.commit_failed();
    p.t.git(&["tag", "x"]);
    p.t.git(&["reset", "-q", "--hard", &clean]);
    let out = p.push(&["refs/tags/x:refs/heads/main"]);
    insta::assert_snapshot!(out.render(&p.t), @r"
        exit: 1
        --- stdout
        --- stderr
        error: not pushing main: milestone M1 failed at T2 (1/2 tasks done); retry it with `git milestone run M1`, or skip this check with `git push --no-verify`
        error: failed to push some refs to '[TMP]'
        ");
    assert_eq!(p.remote_has("refs/heads/main"), Some(clean));
    // The same tag pushed as a tag passes, as tags always do.
    p.push(&["refs/tags/x"]).success();
}

#[test]
fn a_shared_hook_lets_a_sha256_repository_push_when_there_is_nothing_to_check() {
    let t = TestRepo {
        dir: TempDir::new().unwrap(),
        home: TempDir::new().unwrap(),
    };
    t.git(&["init", "-q", "--object-format=sha256", "-b", "main", "."]);
    t.write("README.md", "hello\n");
    t.commit_all("initial");
    let remote = TempDir::new().unwrap();
    let remote_path = remote.path().to_str().unwrap();
    t.git(&[
        "init",
        "-q",
        "--bare",
        "--object-format=sha256",
        remote_path,
    ]);
    t.git(&["remote", "add", "origin", remote_path]);
    // A hooks directory shared by every repository, as `core.hooksPath` makes it.
    let shared = TempDir::new().unwrap();
    let hook = shared.path().join("pre-push");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/pre-push"),
        &hook,
    )
    .unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    t.git(&["config", "core.hooksPath", shared.path().to_str().unwrap()]);
    let push = |args: &[&str]| {
        let mut c = t.git_cmd();
        c.env("PATH", common::path_with_bin())
            .args(["push", "-q", "origin"])
            .args(args);
        Run::from(c.output().unwrap())
    };
    push(&["main"]).success();

    t.write_status(&milestone_status(
        "M1",
        RunState::Completed,
        &[("T1", Done)],
    ));
    t.commit_all("a milestone");
    let out = push(&["main"]);
    insta::assert_snapshot!(out.render(&t), @r"
        exit: 1
        --- stdout
        --- stderr
        error: not pushing main: its commits carry milestones, which git-milestone cannot read in a repository of the sha256 object format; skip this check with `git push --no-verify`
        error: failed to push some refs to '[TMP]'
        ");
    push(&["--no-verify", "main"]).success();
}

#[test]
fn after_a_real_failure_a_push_is_refused_as_mid_run() {
    let p = Pushing::new();
    p.t.write("plan.md", "# M1\n- [ ] T001 First\n- [ ] T002 Second\n");
    p.t.commit_all("plan");
    p.install();
    let run = p.t.run([
        "run",
        "M1",
        "--plan",
        "plan.md",
        "--runner",
        "sh -c 'test \"$1\" = T001' sh",
    ]);
    run.code(1);
    // The failure is in the work tree's status file only; the last commit,
    // T001's checkpoint, holds a run under way.
    let out = p.push(&["main"]);
    insta::assert_snapshot!(out.render(&p.t), @r"
        exit: 1
        --- stdout
        --- stderr
        error: not pushing main: milestone M1 is mid-run (1/2 tasks done); finish it with `git milestone run M1`, or skip this check with `git push --no-verify`
        error: failed to push some refs to '[TMP]'
        ");
    assert_eq!(p.remote_has("refs/heads/main"), None);
}

/// Each refusal of a real `git push` whole, as the user sees it: failed,
/// mid-run, and the hook without the tool on PATH.
#[test]
fn the_pre_push_refusals_whole() {
    let p = Pushing::new();
    p.install();
    p.commit_failed();
    let failed = p.push(&["main"]).render(&p.t);
    let mid = Pushing::new();
    mid.install();
    mid.commit_mid_run();
    let mid_run = mid.push(&["main"]).render(&mid.t);
    let mut c = p.t.git_cmd();
    c.env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .args(["push", "-q", "origin", "main"]);
    let off_path = Run::from(c.output().unwrap()).render(&p.t);
    insta::assert_snapshot!(format!("{failed}\n{mid_run}\n{off_path}"));
}
