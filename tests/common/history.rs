//! Milestones for the `log`, `bisect` and `squash` tests: a real run of a
//! generated plan whose tasks each write `<ID>.txt`.

use super::TestRepo;
use super::runner::{run_m1, script};

/// A plan with tasks `TASK-001` .. `TASK-<n>`, titled `Write <n>`.
pub fn plan(n: usize) -> String {
    let mut plan = "# M1\n\n## Tasks\n\n".to_string();
    for i in 1..=n {
        plan.push_str(&format!("- [ ] TASK-{i:03}: Write {i}\n"));
    }
    plan
}

/// A repository whose milestone M1 of `n` tasks ran to completion; task
/// `breaks` (1-based) also creates `broken`, which the check looks for.
pub fn completed(n: usize, breaks: usize) -> TestRepo {
    let t = TestRepo::with_files(&[("plan.md", &plan(n)), ("src/lib.txt", "lib\n")]);
    let runner = script(
        &t,
        "runner.sh",
        &format!(
            "echo \"$1\" > \"$1.txt\"\n[ \"$1\" != TASK-{breaks:03} ] || echo broken > broken"
        ),
    );
    run_m1(&t, &runner, &[]).success();
    t
}

/// `git worktree list --porcelain`: the worktrees git knows.
pub fn worktrees(t: &TestRepo) -> String {
    t.git(&["worktree", "list", "--porcelain"])
}
