//! The command line as a whole: help, version, man page, exit codes.

mod common;

use common::TestRepo;

#[test]
fn outside_a_repository_exits_128_with_a_hint() {
    let dir = assert_fs::TempDir::new().unwrap();
    let home = assert_fs::TempDir::new().unwrap();
    let mut c = std::process::Command::new(common::bin());
    common::seal(&mut c, home.path());
    c.env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap());
    let out: common::Run = c
        .current_dir(dir.path())
        .args(["status"])
        .output()
        .unwrap()
        .into();
    out.code(128);
    assert!(
        out.stderr.starts_with("error: not a git repository"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: "), "{}", out.stderr);
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
