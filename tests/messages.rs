//! The program's refusals and failure messages, each pinned whole (stdout,
//! stderr and exit status) on a real repository, and the hints they give
//! run to show that they work from where the user stands.

mod common;

use common::TestRepo;
use common::inspect::head;
use common::runner::sh_runner;

const PLAN: &str = "# M1\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n- [ ] TASK-003: Three\n";

/// M1 of `plan.md` run once: TASK-001 checkpointed, TASK-002 failed after
/// writing `two.txt`. Returns the repository and the run's runner.
fn failed_m1() -> (TestRepo, String) {
    let t = TestRepo::with_files(&[("plan.md", PLAN), ("src/lib.txt", "v1\n")]);
    let runner = sh_runner(
        &t,
        "runner.sh",
        "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] && exit 3\nexit 0",
    );
    t.run(["run", "M1", "--plan", "plan.md", "--runner", &runner])
        .code(1);
    (t, runner)
}

/// The commands a hint names between backticks.
fn hinted(out: &common::Run, starts: &str) -> String {
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with(starts))
        .unwrap_or_else(|| panic!("no hint starting {starts:?}:\n{}", out.stderr));
    let (_, rest) = line.split_once('`').expect("a command in backticks");
    let (cmd, _) = rest.split_once('`').expect("a closing backtick");
    cmd.to_string()
}

/// Run `cmd` with `sh -c` in `dir`, as a user would paste it, with
/// `git milestone` on PATH.
fn paste(t: &TestRepo, dir: &std::path::Path, cmd: &str) -> common::Run {
    let mut c = std::process::Command::new("sh");
    common::seal(&mut c, t.home.path());
    c.env("PATH", common::path_with_bin())
        .current_dir(dir)
        .args(["-c", cmd]);
    common::Run::from(c.output().unwrap())
}

mod rollback {
    use super::*;

    #[test]
    fn foreign_commits_hint_keeps_them_on_a_branch_and_takes_them_off() {
        let (t, _) = failed_m1();
        let checkpoint = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-001"]);
        t.write("src/lib.txt", "my fix\n");
        t.git(&["commit", "-q", "-am", "my own fix"]);
        let mine = head(&t);
        // Asked from a subdirectory, where the hint is pasted too.
        let sub = t.path().join("src");
        let out = common::Run::from(t.cmd_at(&sub).args(["rollback", "M1"]).output().unwrap());
        insta::assert_snapshot!(out.render(&t));
        let cmd = hinted(&out, "hint: nothing was changed");
        paste(&t, &sub, &cmd).success();
        assert_eq!(
            head(&t),
            checkpoint.trim(),
            "HEAD is back at the checkpoint"
        );
        assert_eq!(t.git(&["rev-parse", "keep-work"]).trim(), mine);
        let on_head = t.git(&["log", "--format=%s", "HEAD"]);
        assert!(!on_head.contains("my own fix"), "{on_head}");
        common::inspect::assert_fsck_clean(&t);
    }
}

/// `args` run from the root, rendered for a snapshot.
fn render(t: &TestRepo, args: &[&str]) -> String {
    t.run(args).render(t)
}

mod rollback_refusals {
    use super::*;

    #[test]
    fn on_an_unborn_branch() {
        let t = TestRepo::new();
        let status = common::milestone_status(
            "M1",
            git_milestone::state::RunState::Failed,
            &[("TASK-001", git_milestone::state::TaskState::Failed)],
        );
        t.write_status(&status);
        insta::assert_snapshot!(render(&t, &["rollback", "M1"]));
    }

    #[test]
    fn without_a_run() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        insta::assert_snapshot!(render(&t, &["rollback", "M1"]));
    }

    #[test]
    fn already_at_the_checkpoint() {
        let (t, _) = failed_m1();
        t.run(["rollback", "M1"]).success();
        insta::assert_snapshot!(render(&t, &["rollback", "M1"]));
    }

    #[test]
    fn head_moved_sideways() {
        let (t, _) = failed_m1();
        let status = t.read(".milestone_bundles/M1/status.json");
        t.git(&["stash", "-q", "-u"]);
        t.git(&["switch", "-q", "-c", "other", "HEAD~1"]);
        t.write(".milestone_bundles/M1/status.json", &status);
        t.commit_all("elsewhere");
        let out = t.run(["rollback", "M1", "--to", "TASK-001"]);
        insta::assert_snapshot!(out.render(&t));
        // The hint keeps the checkpoint asked for.
        paste(&t, t.path(), &hinted(&out, "hint: to do it anyway")).success();
        let checkpoint = t.git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-001"]);
        assert_eq!(head(&t), checkpoint.trim());
    }

    #[test]
    fn pushed_commits() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        // TASK-002 commits its half-done work, then fails.
        let runner = sh_runner(
            &t,
            "runner.sh",
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] || exit 0\n\
             git add -A && git commit -q -m wip && exit 3",
        );
        t.run(["run", "M1", "--plan", "plan.md", "--runner", &runner])
            .code(1);
        t.git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
        insta::assert_snapshot!(render(&t, &["rollback", "M1"]));
    }

    #[test]
    fn in_the_middle_of_a_merge() {
        let (t, _) = failed_m1();
        t.git(&["checkout", "-q", "--", "."]);
        t.git(&["clean", "-qfd"]);
        t.diverge("side", "src/lib.txt", "side\n", "main\n");
        t.git_cmd().args(["merge", "-q", "side"]).output().unwrap();
        insta::assert_snapshot!(render(&t, &["rollback", "M1"]));
    }

    #[test]
    fn to_a_task_without_a_checkpoint_or_an_ambiguous_one() {
        let t = TestRepo::with_files(&[(
            "plan.md",
            "# M1\n\n- [ ] 1.1: One\n- [ ] 2.1: Two\n- [ ] 2.1.1: Sub\n",
        )]);
        let runner = sh_runner(&t, "runner.sh", "echo \"$1\" > \"t$1.txt\"");
        let out = t.run(["run", "M1", "--plan", "plan.md", "--runner", &runner]);
        out.success();
        insta::assert_snapshot!(render(&t, &["rollback", "M1", "--to", "9"]));
    }

    #[test]
    fn undo_with_nothing_recorded() {
        let (t, _) = failed_m1();
        insta::assert_snapshot!(render(&t, &["rollback", "M1", "--undo"]));
    }
}

#[test]
fn a_user_hook_left_alone_is_renamed_back_by_the_hinted_command() {
    let t = TestRepo::with_files(&[("a.txt", "a\n")]);
    let hooks = t.path().join("my hooks");
    std::fs::create_dir(&hooks).unwrap();
    t.git(&["config", "core.hooksPath", hooks.to_str().unwrap()]);
    std::fs::write(hooks.join("pre-push.user"), "#!/bin/sh\n").unwrap();
    let out = t.run(["install-hook"]);
    insta::assert_snapshot!(out.render(&t));
    paste(&t, t.path(), &hinted(&out, "hint: rename it back")).success();
    assert!(hooks.join("pre-push").exists());
    assert!(!hooks.join("pre-push.user").exists());
}

mod run_refusals {
    use super::*;

    fn run(t: &TestRepo, extra: &[&str]) -> String {
        let runner = sh_runner(t, "runner.sh", "echo \"$1\" > \"$1.txt\"");
        let mut args = vec!["run", "M1", "--plan", "plan.md", "--runner", &runner];
        args.extend_from_slice(extra);
        render(t, &args)
    }

    #[test]
    fn retry_without_an_earlier_run() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        insta::assert_snapshot!(run(&t, &["--retry"]));
    }

    #[test]
    fn uncommitted_changes() {
        let t = TestRepo::with_files(&[("plan.md", PLAN), ("a.txt", "a\n")]);
        t.write("a.txt", "changed\n");
        let one = run(&t, &[]);
        for f in ["b", "c", "d", "e", "f", "g"] {
            t.write(&format!("{f}.txt"), "new\n");
            t.git(&["add", &format!("{f}.txt")]);
        }
        let seven = run(&t, &[]);
        insta::assert_snapshot!(format!("{one}\n{seven}"));
    }

    #[test]
    fn detached_head() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        t.git(&["switch", "-q", "--detach"]);
        insta::assert_snapshot!(run(&t, &[]));
    }

    #[test]
    fn unborn_branch() {
        let t = TestRepo::new();
        t.write("plan.md", PLAN);
        t.git(&["add", "plan.md"]);
        insta::assert_snapshot!(run(&t, &[]));
    }

    #[test]
    fn a_task_id_that_cannot_be_a_ref_name() {
        let t = TestRepo::with_files(&[(
            "plan.md",
            "# M1\n\n<task id=\"T1\">One</task>\n\n<task id=\"T..2\">Two</task>\n",
        )]);
        insta::assert_snapshot!(run(&t, &[]));
    }

    #[test]
    fn a_runner_program_that_is_not_there() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        insta::assert_snapshot!(render(
            &t,
            &[
                "run",
                "M1",
                "--plan",
                "plan.md",
                "--runner",
                "no-such-runner-x"
            ]
        ));
    }

    #[test]
    fn no_runner_at_all() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        insta::assert_snapshot!(render(&t, &["run", "M1", "--plan", "plan.md"]));
    }

    #[test]
    fn an_agent_that_is_not_installed() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let mut c = t.cmd();
        c.env("PATH", "/usr/bin:/bin")
            .args(["run", "M1", "--plan", "plan.md", "--agent", "aider"]);
        insta::assert_snapshot!(common::Run::from(c.output().unwrap()).render(&t));
    }

    #[test]
    fn bad_budget_values() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let cost = run(&t, &["--max-cost", "lots"]);
        let tokens = run(&t, &["--max-tokens", "many"]);
        let agent = run(&t, &["--agent", "robot"]);
        insta::assert_snapshot!(format!("{cost}\n{tokens}\n{agent}"));
    }

    #[test]
    fn agent_args_with_an_unclosed_quote() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        t.git(&["config", "milestone.agentArgs", "--model 'sonnet"]);
        let fake = common::runner::script(&t, "claude", "exit 0");
        let mut c = t.cmd();
        let path = format!(
            "{}:{}",
            fake.parent().unwrap().display(),
            std::env::var("PATH").unwrap()
        );
        c.env("PATH", path)
            .args(["run", "M1", "--plan", "plan.md", "--agent", "claude"]);
        insta::assert_snapshot!(common::Run::from(c.output().unwrap()).render(&t));
    }

    #[test]
    fn a_prompt_with_an_unknown_variable() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let prompt = t.home.path().join("prompt.txt");
        std::fs::write(&prompt, "Do {task} with {colour}\n").unwrap();
        let fake = common::runner::script(&t, "claude", "exit 0");
        let mut c = t.cmd();
        let path = format!(
            "{}:{}",
            fake.parent().unwrap().display(),
            std::env::var("PATH").unwrap()
        );
        c.env("PATH", path)
            .args(["run", "M1", "--plan", "plan.md", "--agent", "claude"])
            .arg("--prompt-file")
            .arg(&prompt);
        insta::assert_snapshot!(common::Run::from(c.output().unwrap()).render(&t));
        // Refused with the other checks, before anything ran or was written.
        assert!(!t.path().join(".milestone_bundles").exists());
        assert_eq!(common::inspect::porcelain(&t), "");
    }

    #[test]
    fn nobody_to_commit_as() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let runner = sh_runner(&t, "runner.sh", "echo \"$1\" > \"$1.txt\"");
        let mut c = t.cmd();
        for k in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
        ] {
            c.env_remove(k);
        }
        c.env("EMAIL", "")
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "user.useConfigOnly")
            .env("GIT_CONFIG_VALUE_0", "true")
            .args(["run", "M1", "--plan", "plan.md", "--runner", &runner]);
        insta::assert_snapshot!(common::Run::from(c.output().unwrap()).render(&t));
    }

    #[test]
    fn a_bare_repository() {
        let t = TestRepo::new();
        let bare = t.home.path().join("bare.git");
        t.git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
        let out = common::Run::from(
            t.cmd_at(&bare)
                .args(["run", "M1", "--runner", "true"])
                .output()
                .unwrap(),
        );
        insta::assert_snapshot!(out.render(&t));
    }

    #[test]
    fn a_status_file_from_a_newer_version_or_broken() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        t.write(".milestone_bundles/M1/status.json", "{\"version\": 99}\n");
        let newer = run(&t, &[]);
        t.write(".milestone_bundles/M1/status.json", "{ not json\n");
        let broken = run(&t, &[]);
        insta::assert_snapshot!(format!("{newer}\n{broken}"));
    }

    #[test]
    fn a_pre_commit_hook_that_refuses_the_checkpoint() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let hook = t.path().join(".git/hooks/pre-commit");
        std::fs::write(&hook, "#!/bin/sh\necho 'no, not today' >&2\nexit 1\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        insta::assert_snapshot!(run(&t, &[]));
    }
}

#[test]
fn a_broken_status_file_is_restored_by_the_hinted_command_from_a_subdirectory() {
    let (t, runner) = failed_m1();
    let status = ".milestone_bundles/M1/status.json";
    t.write(status, "{ not json\n");
    let sub = t.path().join("src");
    let args = ["run", "M1", "--plan", "../plan.md", "--runner", &runner];
    let out = common::Run::from(t.cmd_at(&sub).args(args).output().unwrap());
    insta::assert_snapshot!(out.render(&t));
    paste(&t, &sub, &hinted(&out, "hint: nothing was changed")).success();
    assert_eq!(t.read(status), t.git(&["show", &format!("HEAD:{status}")]));
}

mod plan_refusals {
    use super::*;

    #[test]
    fn a_name_without_letters_or_digits() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        insta::assert_snapshot!(render(&t, &["plan", "--", "-+-"]));
    }

    /// A name that walks out of a directory is refused, as `run` refuses
    /// it; names that hold dots, spaces and slashes as labels still work.
    #[test]
    fn a_name_that_is_a_path() {
        let t = TestRepo::with_files(&[("plan.md", PLAN), ("docs/M2.md", PLAN)]);
        let refused: Vec<String> = ["../M2", "/M2", "./M2", "docs/../M2", "M1/.."]
            .iter()
            .map(|name| render(&t, &["plan", name]))
            .collect();
        insta::assert_snapshot!(refused.join("\n"));
        for name in ["build/CI (epic #12)", "v1.1", "Phase 2", "a..b", ".hidden"] {
            t.run(["plan", name, "--plan", "plan.md"]).success();
        }
    }

    /// A task whose ID is too long to be one is left out, and `--explain`
    /// says why.
    #[test]
    fn an_id_too_long_to_be_one() {
        let plan = format!(
            "# M1\n\n## Task 1: One\n\n## Task {}: Big\n\n## Task 3: Three\n",
            "9".repeat(300)
        );
        let t = TestRepo::with_files(&[("plan.md", &plan)]);
        let short = render(&t, &["plan", "M1"]);
        let explain = render(&t, &["plan", "M1", "--explain"]);
        insta::assert_snapshot!(format!("{short}\n{explain}"));
    }

    #[test]
    fn no_markdown_at_all() {
        let t = TestRepo::with_files(&[("a.txt", "a\n")]);
        insta::assert_snapshot!(render(&t, &["plan", "M1"]));
    }

    #[test]
    fn two_plans_name_it() {
        let t = TestRepo::with_files(&[("a/M1.md", PLAN), ("b/M1.md", PLAN)]);
        insta::assert_snapshot!(render(&t, &["plan", "M1"]));
    }

    #[test]
    fn a_plan_file_that_is_missing_or_outside() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let missing = render(&t, &["plan", "M1", "--plan", "nope.md"]);
        let outside = t.home.path().join("plan.md");
        std::fs::write(&outside, PLAN).unwrap();
        let outside = render(&t, &["plan", "M1", "--plan", outside.to_str().unwrap()]);
        insta::assert_snapshot!(format!("{missing}\n{outside}"));
    }
}

mod squash_refusals {
    use super::*;

    #[test]
    fn detached_unfinished_and_mid_merge() {
        let (t, _) = failed_m1();
        let unfinished = render(&t, &["squash", "M1", "--in-place"]);
        t.git(&["stash", "-q", "-u"]);
        t.git(&["switch", "-q", "--detach"]);
        let detached = render(&t, &["squash", "M1"]);
        insta::assert_snapshot!(format!("{unfinished}\n{detached}"));
    }
}

mod status_refusals {
    use super::*;

    #[test]
    fn bundles_that_are_not_a_directory() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        std::os::unix::fs::symlink("/etc", t.path().join(".milestone_bundles")).unwrap();
        std::fs::create_dir(t.path().join("sub")).unwrap();
        let sub = t.path().join("sub");
        let out = common::Run::from(t.cmd_at(&sub).arg("status").output().unwrap());
        insta::assert_snapshot!(out.render(&t));
        paste(&t, &sub, &hinted(&out, "hint: remove it")).success();
        t.run(["status"]).success();
        assert!(
            std::path::Path::new("/etc/passwd").exists(),
            "not what it pointed at"
        );
    }
}

mod hook_install_refusals {
    use super::*;

    #[test]
    fn a_user_hook_without_a_hook_and_an_edited_shim() {
        let t = TestRepo::with_files(&[("a.txt", "a\n")]);
        let hooks = t.path().join(".git/hooks");
        std::fs::write(hooks.join("pre-push.user"), "#!/bin/sh\n").unwrap();
        let orphan = render(&t, &["install-hook"]);
        std::fs::remove_file(hooks.join("pre-push.user")).unwrap();
        t.run(["install-hook"]).success();
        let shim = std::fs::read_to_string(hooks.join("pre-push")).unwrap();
        std::fs::write(hooks.join("pre-push"), format!("{shim}echo mine\n")).unwrap();
        let edited = render(&t, &["install-hook"]);
        std::fs::write(hooks.join("pre-push"), "#!/bin/sh\necho mine\n").unwrap();
        std::fs::write(hooks.join("pre-push.user"), "#!/bin/sh\n").unwrap();
        let both = render(&t, &["install-hook"]);
        insta::assert_snapshot!(format!("{orphan}\n{edited}\n{both}"));
    }
}

mod views {
    use super::*;

    /// [`common::Run::render`], with the milliseconds a JSON field records filtered too.
    fn render_json(out: &common::Run, t: &TestRepo) -> String {
        let re = regex::Regex::new(r#""duration_ms": \d+"#).unwrap();
        re.replace_all(&out.render(t), r#""duration_ms": [MS]"#)
            .into_owned()
    }

    #[test]
    fn status_of_a_failed_run_as_tables_and_json() {
        let (t, _) = failed_m1();
        let all = render(&t, &["status"]);
        let one = render(&t, &["status", "M1"]);
        let exit = render(&t, &["status", "M1", "--exit-code"]);
        // A measured duration's width moves the columns after it.
        let columns = regex::Regex::new(r"\[DURATION\] +").unwrap();
        let tables = format!("{all}\n{one}\n{exit}");
        insta::assert_snapshot!(columns.replace_all(&tables, "[DURATION]  "));
        insta::assert_snapshot!(render_json(&t.run(["status", "--json"]), &t));
        insta::assert_snapshot!(render_json(&t.run(["status", "M1", "--json"]), &t));
    }

    #[test]
    fn dry_runs_before_and_after_a_failure() {
        let t = TestRepo::with_files(&[("plan.md", PLAN), ("src/lib.txt", "v1\n")]);
        let runner = sh_runner(&t, "runner.sh", "exit 0");
        let args = [
            "run",
            "M1",
            "--plan",
            "plan.md",
            "--runner",
            &runner,
            "--dry-run",
        ];
        let fresh = render(&t, &args);
        let (t, runner) = failed_m1();
        let args = [
            "run",
            "M1",
            "--plan",
            "plan.md",
            "--runner",
            &runner,
            "--dry-run",
        ];
        let resumed = render(&t, &args);
        let flags = [
            "--timeout",
            "90s",
            "--on-failure",
            "retry:2",
            "--tag",
            "--verify",
            "make test",
        ];
        let flagged = render(&t, &[&args[..], &flags[..]].concat());
        insta::assert_snapshot!(format!("{fresh}\n{resumed}\n{flagged}"));
    }
}

mod run_failures {
    use super::*;

    #[test]
    fn a_task_that_moves_head_back() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let runner = sh_runner(
            &t,
            "runner.sh",
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] && git reset -q --hard HEAD~1\nexit 0",
        );
        insta::assert_snapshot!(render(
            &t,
            &["run", "M1", "--plan", "plan.md", "--runner", &runner]
        ));
    }

    #[test]
    fn a_retry_that_fails_the_same_way() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let runner = sh_runner(&t, "runner.sh", "echo broken; exit 4");
        let args = ["run", "M1", "--plan", "plan.md", "--runner", &runner];
        insta::assert_snapshot!(render(
            &t,
            &[&args[..], &["--on-failure", "retry:3"]].concat()
        ));
    }

    #[test]
    fn warnings_when_the_plan_and_the_status_file_disagree() {
        let (t, runner) = failed_m1();
        // TASK-003 leaves the plan; TASK-001's checkpoint ref and commit are lost.
        t.git(&["update-ref", "-d", "refs/milestone/M1/checkpoints/TASK-001"]);
        t.git(&["reset", "-q", "--soft", "HEAD~1"]);
        t.git(&["commit", "-q", "-m", "not a checkpoint"]);
        t.git(&["stash", "-q", "-u"]);
        t.write(
            "plan.md",
            "# M1\n\n- [ ] TASK-001: One\n- [ ] TASK-002: Two\n",
        );
        t.commit_all("TASK-003 is dropped");
        let args = [
            "run",
            "M1",
            "--plan",
            "plan.md",
            "--runner",
            &runner,
            "--dry-run",
        ];
        insta::assert_snapshot!(render(&t, &args));
    }

    #[test]
    fn a_run_lock_left_by_a_dead_process() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let lock = t.path().join(".git/milestone/run.lock");
        std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
        std::fs::write(
            &lock,
            "pid 999999\nstarted 2026-01-01T00:00:00Z\nmilestone M1\n",
        )
        .unwrap();
        let runner = sh_runner(&t, "runner.sh", "echo \"$1\" > \"$1.txt\"");
        insta::assert_snapshot!(render(
            &t,
            &["run", "M1", "--plan", "plan.md", "--runner", &runner]
        ));
    }

    #[test]
    fn a_status_file_that_is_a_directory() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        std::fs::create_dir_all(t.path().join(".milestone_bundles/M1/status.json")).unwrap();
        std::fs::write(t.path().join(".milestone_bundles/M1/status.json/x"), "x").unwrap();
        let runner = sh_runner(&t, "runner.sh", "exit 0");
        let args = ["run", "M1", "--plan", "plan.md", "--runner", &runner];
        let run = t.run(args);
        let status = render(&t, &["status"]);
        insta::assert_snapshot!(format!("{}\n{status}", run.render(&t)));
        let sub = t.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        paste(&t, &sub, &hinted(&run, "hint: remove it")).success();
        t.run(args).success();
    }

    #[test]
    fn a_prompt_too_long_for_an_argument() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let prompt = t.home.path().join("prompt.txt");
        std::fs::write(&prompt, "x".repeat(300 * 1024)).unwrap();
        let fake = common::runner::script(&t, "claude", "exit 0");
        let mut c = t.cmd();
        let path = format!(
            "{}:{}",
            fake.parent().unwrap().display(),
            std::env::var("PATH").unwrap()
        );
        c.env("PATH", path)
            .args(["run", "M1", "--plan", "plan.md", "--agent", "claude"])
            .arg("--prompt-file")
            .arg(&prompt);
        insta::assert_snapshot!(common::Run::from(c.output().unwrap()).render(&t));
    }

    #[test]
    fn from_a_directory_that_was_removed() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let mut c = std::process::Command::new("sh");
        common::seal(&mut c, t.home.path());
        c.current_dir(t.path()).args([
            "-c",
            "mkdir gone && cd gone && rmdir ../gone && exec \"$0\" status",
            common::bin().to_str().unwrap(),
        ]);
        insta::assert_snapshot!(common::Run::from(c.output().unwrap()).render(&t));
    }
}

mod history_refusals {
    use super::*;

    #[test]
    fn squash_and_log_before_any_checkpoint() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let runner = sh_runner(&t, "runner.sh", "exit 3");
        t.run(["run", "M1", "--plan", "plan.md", "--runner", &runner])
            .code(1);
        insta::assert_snapshot!(render(&t, &["squash", "M1"]));
    }

    fn completed() -> TestRepo {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let runner = sh_runner(&t, "runner.sh", "echo \"$1\" > \"$1.txt\"");
        t.run(["run", "M1", "--plan", "plan.md", "--runner", &runner])
            .success();
        t
    }

    /// After `squash --in-place` the milestone has no status file here:
    /// `status` says so and how to bring it back, not that nothing ever ran.
    #[test]
    fn status_after_an_in_place_squash() {
        let t = completed();
        t.run(["squash", "M1", "--in-place"]).success();
        let all = render(&t, &["status"]);
        let one = t.run(["status", "M1"]);
        insta::assert_snapshot!(format!("{all}\n{}", one.render(&t)));
        paste(&t, t.path(), &hinted(&one, "hint: M1 was squashed")).success();
        t.run(["status", "M1"]).success();
        // Run on another branch: its status file is in that branch's commits.
        t.git(&["switch", "-q", "-c", "other", "HEAD~3"]);
        insta::assert_snapshot!(render(&t, &["status"]), @r"
        exit: 0
        --- stdout
        No milestone has a status file in this work tree.
        M1 has checkpoints in this repository but no status file in this work tree: it ran on another branch or in another worktree.
        Start one with `git milestone run <name>` (preview it with `git milestone plan <name>`).
        --- stderr
        ");
        let fresh = TestRepo::with_files(&[("plan.md", PLAN)]);
        insta::assert_snapshot!(render(&fresh, &["status"]), @r"
        exit: 0
        --- stdout
        No milestone has run in this repository yet.
        Start one with `git milestone run <name>` (preview it with `git milestone plan <name>`).
        --- stderr
        ");
    }

    #[test]
    fn squash_refusals_of_a_completed_run() {
        let t = completed();
        let bad_branch = render(&t, &["squash", "M1", "--branch", "a..b"]);
        t.run(["squash", "M1", "--in-place"]).success();
        t.git(&["switch", "-q", "-c", "elsewhere"]);
        let other_branch = render(&t, &["squash", "M1", "--undo"]);
        t.git(&["switch", "-q", "main"]);
        t.git(&["update-ref", "refs/milestone/M1/squashed/1", "HEAD"]);
        let moved = render(&t, &["squash", "M1", "--undo"]);
        insta::assert_snapshot!(format!("{bad_branch}\n{other_branch}\n{moved}"));
    }

    #[test]
    fn squash_in_place_in_the_middle_of_a_merge() {
        let t = completed();
        t.diverge("side", "TASK-001.txt", "side\n", "main\n");
        t.git_cmd().args(["merge", "-q", "side"]).output().unwrap();
        insta::assert_snapshot!(render(&t, &["squash", "M1", "--in-place"]));
    }

    #[test]
    fn bisect_with_a_check_that_always_skips() {
        let t = completed();
        insta::assert_snapshot!(render(&t, &["bisect", "M1", "--", "sh", "-c", "exit 125"]));
    }
}

mod more_rollback_refusals {
    use super::*;

    #[test]
    fn undo_after_the_saved_attempt_was_deleted() {
        let (t, _) = failed_m1();
        t.run(["rollback", "M1"]).success();
        let saved = t.git(&[
            "for-each-ref",
            "--format=%(refname)",
            "refs/milestone/M1/attempts/",
        ]);
        t.git(&["update-ref", "-d", saved.trim()]);
        insta::assert_snapshot!(render(&t, &["rollback", "M1", "--undo"]));
    }

    #[test]
    fn head_on_a_line_without_any_checkpoint() {
        let (t, _) = failed_m1();
        let status = t.read(".milestone_bundles/M1/status.json");
        t.git(&["stash", "-q", "-u"]);
        t.git(&["switch", "-q", "--orphan", "other"]);
        t.git(&["clean", "-qfdx"]);
        t.write(".milestone_bundles/M1/status.json", &status);
        t.commit_all("elsewhere");
        insta::assert_snapshot!(render(&t, &["rollback", "M1"]));
    }
}

mod more_views {
    use super::*;

    #[test]
    fn status_lists_what_it_can_and_warns_about_an_unreadable_file() {
        let (t, _) = failed_m1();
        t.write(".milestone_bundles/M2/status.json", "{ broken\n");
        insta::assert_snapshot!(render(&t, &["status"]));
    }

    #[test]
    fn the_pre_push_check_with_a_line_git_never_writes() {
        let t = TestRepo::with_files(&[("a.txt", "a\n")]);
        let mut c = t.cmd();
        c.args(["hook", "pre-push", "origin", "url"]);
        let out = common::run_with_stdin(&mut c, "refs/heads/main nothex refs/heads/main 0000\n");
        insta::assert_snapshot!(out.render(&t));
    }
}

/// Past twenty, the dependencies against the document's order are counted,
/// in the singular for one.
#[test]
fn one_more_backward_dependency_is_counted_in_the_singular() {
    let mut plan = String::from("# M1\n\n");
    for i in 1..=22 {
        let next = if i < 22 {
            format!(" (depends on T{:02})", i + 1)
        } else {
            String::new()
        };
        plan.push_str(&format!("- [ ] T{i:02}: Task {i}{next}\n"));
    }
    let t = TestRepo::with_files(&[("plan.md", &plan)]);
    let out = t.run(["plan", "M1", "--plan", "plan.md", "--explain"]);
    insta::assert_snapshot!(out.render(&t));
}

mod more_run_refusals {
    use super::*;

    #[test]
    fn a_name_that_cannot_name_a_run() {
        let t = TestRepo::with_files(&[("plan.md", "# M:1\n\n- [ ] T1: One\n")]);
        insta::assert_snapshot!(render(
            &t,
            &["run", "M:1", "--plan", "plan.md", "--runner", "true"]
        ));
    }

    /// `status`, `rollback` and `log` refuse a name that is a path without
    /// speaking of a run.
    #[test]
    fn a_path_for_a_name_in_the_commands_that_read_a_run() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let refused: Vec<String> = [
            &["status", "../M2"][..],
            &["rollback", "../M2"],
            &["log", "../M2"],
        ]
        .iter()
        .map(|args| render(&t, args))
        .collect();
        insta::assert_snapshot!(refused.join("\n"), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: "../M2" is not a valid milestone name: it must be one path component and a valid git ref part
        hint: use a short name made of letters, digits, '.', '_' and '-', e.g. `M1` or `phase-2`

        exit: 2
        --- stdout
        --- stderr
        error: "../M2" is not a valid milestone name: it must be one path component and a valid git ref part
        hint: use a short name made of letters, digits, '.', '_' and '-', e.g. `M1` or `phase-2`

        exit: 2
        --- stdout
        --- stderr
        error: "../M2" is not a valid milestone name: it must be one path component and a valid git ref part
        hint: use a short name made of letters, digits, '.', '_' and '-', e.g. `M1` or `phase-2`
        "#);
    }

    #[test]
    fn a_recorded_sequence_that_cannot_be_read() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let journal = t.path().join(".git/milestone/M1");
        std::fs::create_dir_all(&journal).unwrap();
        std::fs::write(journal.join("sequence.json"), "{ nope\n").unwrap();
        insta::assert_snapshot!(render(
            &t,
            &["run", "M1", "--plan", "plan.md", "--runner", "true"]
        ));
    }

    #[test]
    fn a_git_config_git_cannot_read() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let config = t.path().join(".git/config");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str("[milestone]\n\trunner = \"unclosed\n");
        std::fs::write(&config, text).unwrap();
        insta::assert_snapshot!(render(&t, &["run", "M1", "--plan", "plan.md"]));
    }

    #[test]
    fn ctrl_c_during_a_task() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let runner = sh_runner(&t, "runner.sh", "echo started; sleep 30");
        let child = t
            .cmd()
            .args(["run", "M1", "--plan", "plan.md", "--runner", &runner])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let log = t.path().join(".git/milestone/M1/logs/TASK-001.1.log");
        while std::fs::read_to_string(&log).unwrap_or_default() != "started\n" {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // SAFETY: signals the child this test started.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
        let out = common::Run::from(child.wait_with_output().unwrap());
        insta::assert_snapshot!(out.render(&t));
    }
}

mod edited_by_hand {
    use super::*;

    #[test]
    fn an_editor_that_writes_bytes_that_are_not_text() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let editor = common::runner::script(&t, "editor.sh", "printf 'run \\377\\n' > \"$1\"");
        let mut c = t.cmd();
        c.env("GIT_EDITOR", &editor)
            .args(["plan", "M1", "--plan", "plan.md", "--edit"]);
        insta::assert_snapshot!(common::Run::from(c.output().unwrap()).render(&t));
    }

    #[test]
    fn a_squash_record_that_is_not_one() {
        let t = TestRepo::with_files(&[("plan.md", PLAN)]);
        let runner = sh_runner(&t, "runner.sh", "echo \"$1\" > \"$1.txt\"");
        t.run(["run", "M1", "--plan", "plan.md", "--runner", &runner])
            .success();
        t.run(["squash", "M1"]).success();
        std::fs::write(t.path().join(".git/milestone/M1/last-squash.json"), "[]\n").unwrap();
        insta::assert_snapshot!(render(&t, &["squash", "M1", "--undo"]));
    }

    #[test]
    fn a_failed_task_id_no_ref_can_hold() {
        let (t, _) = failed_m1();
        let status = t.read(".milestone_bundles/M1/status.json");
        t.write(
            ".milestone_bundles/M1/status.json",
            &status.replace("TASK-002", "TASK..2"),
        );
        insta::assert_snapshot!(render(&t, &["rollback", "M1"]));
    }
}

#[test]
fn rollback_to_a_task_several_checkpoints_could_be() {
    use git_milestone::state::{RunState, TaskState};
    let t = TestRepo::with_files(&[("a.txt", "a\n")]);
    let mut s = common::milestone_status(
        "M1",
        RunState::Running,
        &[
            ("3", TaskState::Pending),
            ("#3", TaskState::Pending),
            ("4", TaskState::Pending),
        ],
    );
    s.base_commit = Some(head(&t));
    s.tasks[0].state = TaskState::Done;
    t.write("b.txt", "b\n");
    t.checkpoint(&s, "3");
    s.tasks[1].state = TaskState::Done;
    t.write("c.txt", "c\n");
    t.checkpoint(&s, "#3");
    let out = t.run(["rollback", "M1", "--to", "Task 3"]);
    insta::assert_snapshot!(out.render(&t));
    // Quoted, `#3` reaches git-milestone (a shell would take `#3` bare
    // for a comment); it names the checkpoint HEAD is at.
    let pasted = paste(&t, t.path(), &hinted(&out, "hint: name one exactly"));
    pasted.code(2);
    assert!(
        pasted.stderr.contains("already at the checkpoint of #3"),
        "{}",
        pasted.stderr
    );
}

#[test]
fn a_submodule_the_failed_task_added() {
    let t = TestRepo::with_files(&[("plan.md", PLAN)]);
    let lib = t.home.path().join("lib");
    t.git(&["init", "-q", "-b", "main", lib.to_str().unwrap()]);
    t.git(&[
        "-C",
        lib.to_str().unwrap(),
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "lib",
    ]);
    let runner = sh_runner(
        &t,
        "runner.sh",
        &format!(
            "[ \"$1\" = TASK-002 ] || exit 0\n\
             git -c protocol.file.allow=always submodule -q add '{}' vendor/lib\nexit 3",
            lib.display()
        ),
    );
    t.run(["run", "M1", "--plan", "plan.md", "--runner", &runner])
        .code(1);
    let sub = t.path().join("plan-notes");
    std::fs::create_dir(&sub).unwrap();
    let out = common::Run::from(t.cmd_at(&sub).args(["rollback", "M1"]).output().unwrap());
    insta::assert_snapshot!(out.render(&t));
    // The hint's first command works from where the user is.
    paste(&t, &sub, &hinted(&out, "hint: nothing was changed")).success();
}

#[test]
fn a_milestone_whose_first_checkpoint_is_a_root_commit() {
    use git_milestone::state::{RunState, TaskState};
    let t = TestRepo::new();
    let s = common::milestone_status("M1", RunState::Completed, &[("T1", TaskState::Done)]);
    t.write("a.txt", "a\n");
    t.checkpoint(&s, "T1");
    insta::assert_snapshot!(render(&t, &["squash", "M1"]));
}

/// The foreign-commits hint, pasted in a linked worktree where the run was.
#[test]
fn foreign_commits_hint_works_in_a_linked_worktree() {
    let t = TestRepo::with_files(&[("plan.md", PLAN)]);
    let wt = t.home.path().join("side");
    t.add_worktree("side", &wt);
    let runner = sh_runner(
        &t,
        "runner.sh",
        "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = TASK-002 ] && exit 3\nexit 0",
    );
    let run = |args: &[&str]| common::Run::from(t.cmd_at(&wt).args(args).output().unwrap());
    run(&["run", "M1", "--plan", "plan.md", "--runner", &runner]).code(1);
    let git = |args: &[&str]| {
        let mut c = t.git_cmd();
        c.current_dir(&wt).args(args);
        String::from_utf8(c.output().unwrap().stdout).unwrap()
    };
    let checkpoint = git(&["rev-parse", "refs/milestone/M1/checkpoints/TASK-001"]);
    std::fs::write(wt.join("mine.txt"), "mine\n").unwrap();
    git(&["add", "mine.txt"]);
    git(&["commit", "-q", "-m", "my own fix"]);
    let mine = git(&["rev-parse", "HEAD"]);
    let out = run(&["rollback", "M1"]);
    out.code(2);
    paste(&t, &wt, &hinted(&out, "hint: nothing was changed")).success();
    assert_eq!(git(&["rev-parse", "HEAD"]), checkpoint);
    assert_eq!(git(&["rev-parse", "keep-work"]), mine);
}

mod task_names {
    use super::*;

    const NUMBERED: &str = "# M1\n\n## Task 1: One\n\nwork\n\n## Task 2: Two\n\nwork\n\n\
                            ## Task 3: Three\n\nwork\n";

    /// A bare number reads as a count (`Starting 1 [1/3]`, `skipped tasks:
    /// 2`): the run, the squash subject and the pre-push check name a
    /// numbered task by its label.
    #[test]
    fn numbered_tasks_are_named_by_their_label() {
        let t = TestRepo::with_files(&[("plan.md", NUMBERED)]);
        let runner = sh_runner(
            &t,
            "runner.sh",
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" = 2 ] && exit 125\nexit 0",
        );
        let run = render(&t, &["run", "M1", "--plan", "plan.md", "--runner", &runner]);
        t.run(["squash", "M1", "--branch", "squashed"]).success();
        let subject = t.git(&["log", "-1", "--format=%s", "squashed"]);
        let mut c = t.cmd();
        c.args(["hook", "pre-push", "origin", "url"]);
        let line = format!(
            "refs/heads/main {} refs/heads/main {}\n",
            head(&t),
            "0".repeat(40)
        );
        let push = common::run_with_stdin(&mut c, &line).render(&t);
        insta::assert_snapshot!(format!("{run}\nsquash subject: {subject}\n{push}"));
    }
}
