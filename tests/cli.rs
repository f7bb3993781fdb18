//! The command line as a whole: help, version, man page, exit codes.

mod common;

use common::TestRepo;

#[test]
fn outside_a_repository_exits_128_with_a_hint() {
    let t = TestRepo::new();
    let outside = t.home.path().join("not-a-repo");
    std::fs::create_dir(&outside).unwrap();
    let mut c = t.cmd_at(&outside);
    c.env("GIT_CEILING_DIRECTORIES", t.home.path());
    let out: common::Run = c.arg("status").output().unwrap().into();
    insta::assert_snapshot!(out.render(&t), @r"
    exit: 128
    --- stdout
    --- stderr
    error: not a git repository: [HOME]/not-a-repo
    hint: run git milestone inside a git repository, or create one with `git init`
    ");
}

#[test]
fn man_page_is_named_for_git_help() {
    let t = TestRepo::new();
    let out = t.run(["man"]);
    out.success();
    assert!(
        out.stdout.contains(".TH git-milestone 1"),
        "{}",
        &out.stdout[..200.min(out.stdout.len())]
    );
    for sub in ["plan", "run", "status", "rollback", r"install\-hook"] {
        assert!(out.stdout.contains(sub), "man page does not mention {sub}");
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let t = TestRepo::new();
    t.run(["plan", "M1", "--no-such-flag"]).code(2);
}
