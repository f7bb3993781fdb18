//! `bisect`: find the first checkpoint of a milestone at which a check
//! fails, testing only the milestone's checkpoints (and its base), with
//! `git bisect run`'s exit codes: 0 good, 125 skip, 1 to 127 bad, anything
//! above 127 (or death by a signal) stops the search.
//!
//! The search itself ([`search`]) is pure: it asks a `test` function about
//! positions on the line, 0 being the base and 1..=n the checkpoints.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::probe::{Cache, Check, Ran};
use super::{Line, line, load};
use crate::error::Result;
use crate::repo::Repo;
use crate::repo::worktree::Scratch;
use crate::runner::signals;
use crate::state::{self, Status};

/// What a test of one position said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Good,
    Bad(i32),
    Skip,
    /// Exit code above 127, or killed by a signal (negative: its number).
    Abort(i32),
    /// git-milestone received this signal and stopped the check.
    Interrupted(i32),
}

impl Verdict {
    /// `git bisect run`'s reading of an exit code.
    pub fn of_code(code: i32) -> Verdict {
        match code {
            0 => Verdict::Good,
            125 => Verdict::Skip,
            1..=127 => Verdict::Bad(code),
            _ => Verdict::Abort(code),
        }
    }
}

/// How the search ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Position `at` is the first bad one: its task broke the check.
    FirstBad { at: usize, base_skipped: bool },
    /// The first bad one is among `from..=to`; skipped tests hide which.
    Among {
        from: usize,
        to: usize,
        base_skipped: bool,
    },
    /// The check passes at the last checkpoint: nothing to look for.
    TipGood,
    /// The last checkpoint could not be tested (exit 125).
    TipSkipped,
    /// The check fails at the base already: no task broke it.
    BaseBad(i32),
    /// The check's exit code (or signal) at position `at` stopped the search.
    Aborted { at: usize, code: i32 },
    /// A signal stopped the search while testing position `at`.
    Interrupted { at: usize, signal: i32 },
}

/// Whether the base (position 0) is tested or taken as good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Test,
    AssumeGood,
}

/// Search positions 0..=n. The last checkpoint (n) is tested first and
/// must be bad; then the base, unless `base` says to take it as good (a
/// base that skips is taken as good, and the outcome says so); then the
/// positions between the last good and the first bad one, halving.
pub fn search(
    n: usize,
    base: Base,
    test: &mut dyn FnMut(usize) -> Result<Verdict>,
) -> Result<Outcome> {
    assert!(n >= 1, "a line has at least one checkpoint");
    match test(n)? {
        Verdict::Good => return Ok(Outcome::TipGood),
        Verdict::Skip => return Ok(Outcome::TipSkipped),
        Verdict::Bad(_) => {}
        other => return Ok(stopped(n, other)),
    }
    let mut base_skipped = false;
    if base == Base::Test {
        match test(0)? {
            Verdict::Good => {}
            Verdict::Skip => base_skipped = true,
            Verdict::Bad(code) => return Ok(Outcome::BaseBad(code)),
            other => return Ok(stopped(0, other)),
        }
    }
    let (mut good, mut bad) = (0, n);
    let mut skipped = BTreeSet::new();
    while let Some(at) = next(good, bad, &skipped) {
        match test(at)? {
            Verdict::Good => good = at,
            Verdict::Bad(_) => bad = at,
            Verdict::Skip => {
                skipped.insert(at);
            }
            other => return Ok(stopped(at, other)),
        }
    }
    if skipped.range(good + 1..bad).next().is_some() {
        let from = good + 1;
        return Ok(Outcome::Among {
            from,
            to: bad,
            base_skipped,
        });
    }
    Ok(Outcome::FirstBad {
        at: bad,
        base_skipped,
    })
}

fn stopped(at: usize, verdict: Verdict) -> Outcome {
    match verdict {
        Verdict::Interrupted(signal) => Outcome::Interrupted { at, signal },
        Verdict::Abort(code) => Outcome::Aborted { at, code },
        _ => unreachable!("only a stop is passed here"),
    }
}

/// The untested position strictly between `good` and `bad` nearest their
/// middle (the lower one on a tie), skipping those that skipped.
fn next(good: usize, bad: usize, skipped: &BTreeSet<usize>) -> Option<usize> {
    let mid = good + (bad - good) / 2;
    (good + 1..bad)
        .filter(|i| !skipped.contains(i))
        .min_by_key(|i| (i.abs_diff(mid), *i))
}

/// `git milestone bisect <name> [--base-good] [--no-cache] -- CMD`.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The milestone's key.
    pub milestone: &'a str,
    pub check: Check,
    pub base: Base,
    /// Use and record results by tree id.
    pub cache: bool,
    /// Where the check runs, relative to the top of the checkout (the
    /// user's current directory, relative to theirs).
    pub dir: PathBuf,
}

/// One test, for the command to report as it happens.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub at: usize,
    /// The task whose checkpoint this is; `None` for the base.
    pub task: Option<&'a str>,
    pub commit: &'a str,
    pub verdict: Verdict,
    /// The result came from the cache; the check did not run.
    pub cached: bool,
    /// What this commit lacks for the check to run (a skip).
    pub missing: Option<Missing>,
}

/// Why a commit could not be tested, besides the check's own exit 125.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The directory the check runs in.
    Dir,
    /// The check's program, a relative path (`./check.sh`).
    Program,
}

/// What a bisect found, with what it searched.
#[derive(Debug, Clone)]
pub struct Bisected {
    pub status: Status,
    pub line: Line,
    pub outcome: Outcome,
}

impl Bisected {
    /// (task, commit) at position `at`; the task is `None` for the base.
    pub fn at(&self, at: usize) -> (Option<&str>, &str) {
        position(&self.line, at)
    }
}

fn position(line: &Line, at: usize) -> (Option<&str>, &str) {
    match at {
        0 => (None, &line.base),
        i => {
            let (task, commit) = &line.checkpoints[i - 1];
            (Some(task), commit)
        }
    }
}

/// What a bisect of milestone `name` (a key) searches: its status file,
/// and its checkpoints on this branch with their base.
pub fn prepare(repo: &Repo, name: &str) -> Result<(Status, Line)> {
    let status = load(repo, name)?;
    let line = line(repo, name, &status)?;
    Ok((status, line))
}

/// Search the milestone's checkpoints on this branch, checking each out in
/// a scratch worktree under the git directory (removed afterwards, also on
/// an error or a signal), so that HEAD, the index, the work tree and its
/// untracked files stay exactly as they are.
pub fn bisect(
    repo: &Repo,
    req: &Request<'_>,
    (status, line): (Status, Line),
    report: &mut dyn FnMut(&Step),
) -> Result<Bisected> {
    let journal = state::journal_dir(repo.git_dir(), req.milestone)?;
    // Checkouts that a killed bisect left behind (its pid is gone).
    repo.remove_stale_scratch(&journal, scratch_in_use);
    // A Ctrl-C must not kill git half way through writing the checkout.
    let _shield = repo.shield_git();
    let path = journal.join(format!("bisect-{}", std::process::id()));
    let outcome = {
        let mut tester = Tester {
            repo,
            req,
            line: &line,
            scratch: repo.add_scratch_worktree(&path, line.tip())?,
            current: line.tip().to_string(),
            cache: match req.cache {
                true => Some(Cache::load(repo.git_dir(), req.milestone)?),
                false => None,
            },
            key: format!("{}\n{}", req.check.shown(), req.dir.display()),
        };
        let n = line.checkpoints.len();
        let outcome = search(n, req.base, &mut |at| tester.test(at, report))?;
        tester.scratch.remove();
        outcome
    };
    Ok(Bisected {
        status,
        line,
        outcome,
    })
}

/// Tests positions of a line in a scratch checkout, through the cache.
struct Tester<'a> {
    repo: &'a Repo,
    req: &'a Request<'a>,
    line: &'a Line,
    scratch: Scratch<'a>,
    /// The commit checked out now.
    current: String,
    cache: Option<Cache>,
    /// The cache's key for this check: its command line and directory.
    key: String,
}

impl Tester<'_> {
    fn test(&mut self, at: usize, report: &mut dyn FnMut(&Step)) -> Result<Verdict> {
        let (task, commit) = position(self.line, at);
        let tree = self.repo.tree_of(commit)?;
        let mut step = Step {
            at,
            task,
            commit,
            verdict: Verdict::Skip,
            cached: false,
            missing: None,
        };
        if let Some(sig) = signals::pending() {
            return Ok(Verdict::Interrupted(sig));
        }
        if let Some(code) = self.cache.as_ref().and_then(|c| c.get(&self.key, &tree)) {
            step.verdict = Verdict::of_code(code);
            step.cached = true;
        } else {
            step.verdict = self.run(commit, task, &tree, &mut step.missing)?;
            if step.missing == Some(Missing::Program) && at == self.line.checkpoints.len() {
                return Err(self.req.check.missing_at_tip(commit));
            }
        }
        report(&step);
        Ok(step.verdict)
    }

    /// Check `commit` out and run the check there; a skip when the
    /// commit lacks the check's directory or program (`missing` says which).
    fn run(
        &mut self,
        commit: &str,
        task: Option<&str>,
        tree: &str,
        missing: &mut Option<Missing>,
    ) -> Result<Verdict> {
        if self.current != commit {
            self.scratch.check_out(commit)?;
            self.current = commit.to_string();
        }
        let dir = self.scratch.path().join(&self.req.dir);
        if !dir.is_dir() {
            *missing = Some(Missing::Dir);
            return Ok(Verdict::Skip);
        }
        Ok(match self.req.check.run(&dir, commit, task)? {
            Ran::Code(code) => {
                if let (Some(c), 0..=127) = (self.cache.as_mut(), code) {
                    c.put(&self.key, tree, code);
                }
                Verdict::of_code(code)
            }
            Ran::Killed(sig) => Verdict::Abort(128 + sig),
            Ran::Interrupted(sig) => Verdict::Interrupted(sig),
            Ran::Missing => {
                *missing = Some(Missing::Program);
                Verdict::Skip
            }
        })
    }
}

/// Whether the scratch checkout at `path` (`bisect-<pid>`) belongs to a
/// bisect that is still running.
fn scratch_in_use(path: &std::path::Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("bisect-"))
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| pid != std::process::id() && signals::process_exists(pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run the search over `codes` (position -> exit code), recording the
    /// positions tested in order.
    fn run(codes: &[i32], base: Base) -> (Outcome, Vec<usize>) {
        let mut tested = Vec::new();
        let outcome = search(codes.len() - 1, base, &mut |i| {
            tested.push(i);
            Ok(Verdict::of_code(codes[i]))
        })
        .unwrap();
        (outcome, tested)
    }

    #[test]
    fn finds_the_first_bad_of_seven_in_few_steps() {
        // base, then tasks 1..7; task 4 breaks it.
        let (outcome, tested) = run(&[0, 0, 0, 0, 1, 1, 1, 1], Base::Test);
        assert_eq!(
            outcome,
            Outcome::FirstBad {
                at: 4,
                base_skipped: false
            }
        );
        assert_eq!(tested, [7, 0, 3, 5, 4]);
    }

    #[test]
    fn every_first_bad_position_is_found() {
        for n in 1..=9 {
            for first_bad in 1..=n {
                let codes: Vec<i32> = (0..=n).map(|i| i32::from(i >= first_bad)).collect();
                let (outcome, tested) = run(&codes, Base::Test);
                assert_eq!(
                    outcome,
                    Outcome::FirstBad {
                        at: first_bad,
                        base_skipped: false
                    },
                    "n={n} first_bad={first_bad}"
                );
                assert!(tested.len() <= 2 + n.ilog2() as usize + 1, "{tested:?}");
            }
        }
    }

    #[test]
    fn skips_are_stepped_around_and_can_hide_the_answer() {
        // 3 skips, 4 is bad, 2 is good: 4 is still the first bad.
        let (outcome, _) = run(&[0, 0, 0, 125, 1, 1, 1, 1], Base::Test);
        assert_eq!(
            outcome,
            Outcome::Among {
                from: 3,
                to: 4,
                base_skipped: false
            }
        );
        let (outcome, _) = run(&[0, 0, 0, 0, 1, 125, 1, 1], Base::Test);
        assert_eq!(
            outcome,
            Outcome::FirstBad {
                at: 4,
                base_skipped: false
            }
        );
    }

    #[test]
    fn the_ends_decide_whether_there_is_anything_to_find() {
        assert_eq!(run(&[0, 0, 0], Base::Test).0, Outcome::TipGood);
        assert_eq!(run(&[0, 0, 125], Base::Test).0, Outcome::TipSkipped);
        assert_eq!(run(&[1, 1, 1], Base::Test).0, Outcome::BaseBad(1));
        let (outcome, tested) = run(&[1, 0, 1], Base::AssumeGood);
        assert_eq!(
            outcome,
            Outcome::FirstBad {
                at: 2,
                base_skipped: false
            }
        );
        assert_eq!(tested, [2, 1]);
        assert_eq!(
            run(&[125, 1, 1], Base::Test).0,
            Outcome::FirstBad {
                at: 1,
                base_skipped: true
            }
        );
    }

    #[test]
    fn codes_above_127_stop_the_search() {
        assert_eq!(
            run(&[0, 0, 0, 0, 128, 1], Base::Test).0,
            Outcome::Aborted { at: 4, code: 128 }
        );
        assert_eq!(Verdict::of_code(127), Verdict::Bad(127));
        assert_eq!(Verdict::of_code(125), Verdict::Skip);
        assert_eq!(Verdict::of_code(255), Verdict::Abort(255));
    }
}
