//! What a test reads back with the git program: HEAD, the work tree, refs,
//! the status file, checkpoint trailers, and `git fsck`.

use super::TestRepo;

/// Where milestone M1's status file lives in the work tree.
pub const M1_STATUS: &str = ".milestone_bundles/M1/status.json";

/// `git rev-parse <what>`, trimmed.
pub fn rev(t: &TestRepo, what: &str) -> String {
    t.git(&["rev-parse", what]).trim().to_string()
}

/// The commit id of HEAD.
pub fn head(t: &TestRepo) -> String {
    rev(t, "HEAD")
}

/// `git status --porcelain --untracked-files=all`: every file, no collapsed directories.
pub fn porcelain(t: &TestRepo) -> String {
    t.git(&["status", "--porcelain", "--untracked-files=all"])
}

/// M1's status file in the work tree, which must parse.
pub fn status_json(t: &TestRepo) -> serde_json::Value {
    let text = t.read(M1_STATUS);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("status.json: {e}\n{text}"))
}

/// The names of the files left in M1's bundle directory.
pub fn m1_bundle_entries(t: &TestRepo) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(t.path().join(".milestone_bundles/M1"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect()
}

/// The `Milestone-Task` trailers of the commits reachable from `rev`, newest first.
pub fn checkpoint_ids(t: &TestRepo, rev: &str) -> Vec<String> {
    t.git(&[
        "log",
        "--format=%(trailers:key=Milestone-Task,valueonly)",
        rev,
    ])
    .lines()
    .filter(|l| !l.is_empty())
    .map(str::to_string)
    .collect()
}

/// `git fsck` finds nothing wrong (dangling objects are not wrong) and says nothing.
#[track_caller]
pub fn assert_fsck_clean(t: &TestRepo) {
    let out = t
        .git_cmd()
        .args([
            "fsck",
            "--full",
            "--strict",
            "--no-dangling",
            "--no-progress",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "git fsck: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a refusal must leave as it was: HEAD, the work tree and index, all refs.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub head: String,
    pub porcelain: String,
    pub refs: String,
}

pub fn snapshot(t: &TestRepo) -> Snapshot {
    Snapshot {
        head: t.git(&["rev-parse", "HEAD"]),
        porcelain: porcelain(t),
        refs: t.git(&["for-each-ref"]),
    }
}
