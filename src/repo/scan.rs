//! The work tree against HEAD and the index, as `git status` reports it.
//!
//! The walk is the git program's, not libgit2's: git refreshes the index on
//! every core, uses the repository's untracked cache and fsmonitor when
//! they are configured, reads a split index, and runs clean filters (Git
//! LFS). libgit2 does none of these, and its single-threaded walk at
//! 100,000 files took longer than git's whole `add -A && commit`.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use super::Repo;
use crate::error::{Context, Error, Result};
use crate::milestone::BUNDLES_DIR;

/// One path that differs between HEAD, the index and the work tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Relative to the root, `/`-separated, as git stores it: any bytes.
    path: Vec<u8>,
    /// `XY` of `git status --porcelain`: the index against HEAD, then the
    /// work tree against the index; `??` for an untracked file.
    xy: [u8; 2],
}

impl Change {
    pub fn is_untracked(&self) -> bool {
        &self.xy == b"??"
    }

    /// Tracked, but deleted from the index (`git rm`).
    pub fn is_deleted_from_index(&self) -> bool {
        self.xy[0] == b'D' && self.xy[1] != b'D'
    }

    /// A conflict the index still records (`UU`, `AA`, `DD`, ...).
    pub fn is_unmerged(&self) -> bool {
        matches!(
            &self.xy,
            b"DD" | b"AU" | b"UD" | b"UA" | b"DU" | b"AA" | b"UU"
        )
    }

    /// The path as text (a name that is not UTF-8 gets U+FFFD).
    pub fn path_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.path)
    }

    pub fn path(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.path))
    }

    /// The path as git takes it on `update-index --stdin`: an untracked
    /// nested repository is reported as `dir/` and staged as `dir`.
    pub(super) fn index_path(&self) -> &[u8] {
        self.path.strip_suffix(b"/").unwrap_or(&self.path)
    }
}

/// Whether a scan may write refreshed stat data back to the index, as a
/// plain `git status` does. A dry run or a refusal must leave `.git/index`
/// byte for byte as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    ReadOnly,
    Write,
}

/// What a scan looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Submodules included: a task that moves one has changed it.
    Run(Refresh),
    /// Read-only, submodules left out: a rollback does not save their
    /// state, and resets their gitlinks only with the whole index
    /// (`git reset --hard`, which leaves their work trees alone).
    Rollback,
}

/// The arguments of a scan, after `git -C <root>`.
fn scan_args(scope: Scope) -> Vec<&'static str> {
    let mut args = Vec::new();
    if scope != Scope::Run(Refresh::Write) {
        args.push("--no-optional-locks");
    }
    args.extend([
        "status",
        "--porcelain",
        "-z",
        "--untracked-files=all",
        "--no-renames",
    ]);
    if scope == Scope::Rollback {
        args.push("--ignore-submodules=all");
    }
    args
}

/// A read-only scan running in the background: a run or a rollback starts
/// it early, so that git walks the work tree while the plan is read and
/// the checks run. Dropped
/// unfinished (the run refused, or had nothing to do), it stops git rather
/// than leave it walking the tree.
pub(super) struct Prefetch {
    scope: Scope,
    child: Option<Child>,
    /// Readers of stdout and stderr, each on its own thread so that
    /// neither pipe can fill and block git.
    readers: Vec<JoinHandle<std::io::Result<Vec<u8>>>>,
}

impl Prefetch {
    fn start(mut git: Command, scope: Scope) -> std::io::Result<Prefetch> {
        let mut child = git
            .args(scan_args(scope))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        Ok(Prefetch {
            scope,
            child: Some(child),
            readers: vec![read_all(stdout), read_all(stderr)],
        })
    }

    fn finish(mut self) -> std::io::Result<Output> {
        let status = self.child.take().expect("not finished yet").wait()?;
        let mut outputs = std::mem::take(&mut self.readers).into_iter().map(|r| {
            r.join()
                .map_err(|_| std::io::Error::other("the thread reading `git status` panicked"))?
        });
        let (Some(stdout), Some(stderr)) = (outputs.next(), outputs.next()) else {
            unreachable!("two readers");
        };
        Ok(Output {
            status,
            stdout: stdout?,
            stderr: stderr?,
        })
    }
}

/// Read `pipe` to its end on a thread of its own.
fn read_all<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<std::io::Result<Vec<u8>>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            p.read_to_end(&mut buf)?;
        }
        Ok(buf)
    })
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

/// What the work tree holds besides HEAD, outside `.milestone_bundles/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkTree {
    /// Tracked files with staged or unstaged changes.
    pub changed: Vec<String>,
    /// Untracked, not ignored files (every file, not just directories).
    pub untracked: Vec<String>,
}

impl Repo {
    /// Changed tracked files and untracked files, outside `.milestone_bundles/`.
    ///
    /// Read-only: a dry run or a refusal must leave `.git/index` as it was;
    /// the scan after a task refreshes the stat data.
    pub fn work_tree(&self) -> Result<WorkTree> {
        let mut out = WorkTree::default();
        let bundles = Path::new(BUNDLES_DIR);
        for change in self.scan(Scope::Run(Refresh::ReadOnly))? {
            if change.path().starts_with(bundles) {
                continue;
            }
            let path = change.path_lossy().into_owned();
            if change.is_untracked() {
                out.untracked.push(path);
            } else {
                out.changed.push(path);
            }
        }
        Ok(out)
    }

    /// Whether the file at `rel` (from the root) last changed before
    /// `since`: its inode change time, which writing, renaming or a
    /// `chmod` move on and no program can set back, is earlier. Such a file
    /// existed before an attempt that started at `since`, and that attempt
    /// neither created nor changed it.
    pub fn untouched_since(&self, rel: &Path, since: SystemTime) -> bool {
        std::fs::symlink_metadata(self.root().join(rel)).is_ok_and(|m| {
            let changed = u64::try_from(m.ctime()).ok().map(|s| {
                SystemTime::UNIX_EPOCH
                    + Duration::new(s, u32::try_from(m.ctime_nsec()).unwrap_or(0))
            });
            changed.is_some_and(|c| c < since)
        })
    }

    /// Start a read-only scan in the background (a run's first, a
    /// rollback's); the next [`scan`](Self::scan) of the same scope takes
    /// its result. Nothing may change the work tree in between. If git
    /// cannot be started, the scan reports it then.
    pub fn prefetch_scan(&self, scope: Scope) {
        if scope == Scope::Run(Refresh::Write) {
            return;
        }
        if let Ok(p) = Prefetch::start(self.git_command(), scope) {
            *self.prefetched.borrow_mut() = Some(p);
        }
    }

    /// Every path that differs between HEAD, the index and the work tree:
    /// tracked changes, staged or not, and untracked files that no ignore
    /// rule hides (each file, not its directory).
    pub fn scan(&self, scope: Scope) -> Result<Vec<Change>> {
        let prefetched = {
            let mut slot = self.prefetched.borrow_mut();
            match slot.as_ref() {
                Some(p) if p.scope == scope => slot.take(),
                _ => None,
            }
        };
        let mut out = match prefetched {
            Some(p) => p.finish().context("cannot run `git status`")?,
            None => self.git(&scan_args(scope))?,
        };
        if !out.status.success() && scope == Scope::Run(Refresh::Write) {
            // The refresh is a saving, not the job: git gives up on a full
            // disk when it cannot write the index back.
            out = self.git(&scan_args(Scope::Run(Refresh::ReadOnly)))?;
        }
        let out = self.succeeded(out, "read the work tree's status (`git status`)")?;
        parse_porcelain_z(&out.stdout)
    }
}

/// Parse `git status --porcelain -z`: `XY path` records, each ended by NUL;
/// a rename or copy (should `--no-renames` not apply) has its source path
/// as one more record, which is skipped: the source shows up as deleted.
fn parse_porcelain_z(out: &[u8]) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let mut records = out.split(|&b| b == 0).filter(|r| !r.is_empty());
    while let Some(record) = records.next() {
        let (Some(&[x, y]), Some(b' '), Some(path)) =
            (record.get(..2), record.get(2), record.get(3..))
        else {
            return Err(
                Error::failed("cannot read the work tree's status").with_cause(anyhow::anyhow!(
                    "unexpected `git status` output: {:?}",
                    String::from_utf8_lossy(record)
                )),
            );
        };
        if matches!(x, b'R' | b'C') {
            records.next();
        }
        changes.push(Change {
            path: path.to_vec(),
            xy: [x, y],
        });
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(xy: &[u8; 2], path: &str) -> Change {
        Change {
            path: path.as_bytes().to_vec(),
            xy: *xy,
        }
    }

    #[test]
    fn reads_every_kind_of_record() {
        let out = b" M a.txt\0?? new dir/b c.txt\0D  gone\0R  to\0from\0?? line\nbreak\0";
        assert_eq!(
            parse_porcelain_z(out).unwrap(),
            vec![
                change(b" M", "a.txt"),
                change(b"??", "new dir/b c.txt"),
                change(b"D ", "gone"),
                change(b"R ", "to"),
                change(b"??", "line\nbreak"),
            ]
        );
        assert!(parse_porcelain_z(b"").unwrap().is_empty());
    }

    #[test]
    fn refuses_output_it_does_not_understand() {
        assert!(parse_porcelain_z(b"garbage\0").is_err());
    }

    #[test]
    fn nested_repositories_are_staged_without_the_slash() {
        let c = change(b"??", "vendor/lib/");
        assert!(c.is_untracked());
        assert_eq!(c.index_path(), b"vendor/lib");
    }
}
