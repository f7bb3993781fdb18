//! The repository: the only module that uses git2, and the only one that
//! runs the `git` program (every command built by [`Repo::git_command`]),
//! which reads and writes the index and the work tree: libgit2 keeps to
//! objects and refs, where it is quick.
//!
//! Methods are named in the domain's words; every error names its ref, oid or
//! path. Areas of the write path live in submodules (`impl Repo` blocks).

pub mod checkpoint;
mod diffstat;
pub mod head;
mod history;
pub mod ident;
mod ignore;
pub mod objects;
pub mod operation;
pub mod refs;
pub mod scan;
mod tree;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::error::{Context, Error, Kind, Result};

/// The command that says where git looks for hooks.
const HOOKS_DIR: &[&str] = &["rev-parse", "--git-path", "hooks"];

mod branch;
mod line;
pub mod merge;
pub mod preflight;
pub mod rollback;
mod save;
pub mod submodule;
pub mod worktree;

/// The 7-character abbreviation of an object id that messages and tables
/// show (the whole string when it is shorter).
pub fn short_oid(oid: &str) -> &str {
    oid.get(..7).unwrap_or(oid)
}

/// A commit id given as text (from a ref, the status file or a trailer).
pub(crate) fn parse_oid(id: &str) -> Result<git2::Oid> {
    git2::Oid::from_str(id).with_context(|| format!("invalid commit id {id:?}"))
}

/// An opened repository with a work tree.
pub struct Repo {
    inner: git2::Repository,
    root: PathBuf,
    /// A read-only scan started ahead of need ([`Repo::prefetch_scan`]).
    prefetched: std::cell::RefCell<Option<scan::Prefetch>>,
    /// Whether git commands start in a process group of their own
    /// ([`Repo::shield_git`]).
    shielded: std::cell::Cell<bool>,
}

/// While it lives, git commands run out of reach of the terminal's Ctrl-C
/// (see [`Repo::shield_git`]); dropping it puts things back as they were.
pub struct Shield<'a> {
    repo: &'a Repo,
    was: bool,
}

impl Drop for Shield<'_> {
    fn drop(&mut self) {
        self.repo.shielded.set(self.was);
    }
}

impl Repo {
    /// Open the repository that contains `dir`, as git would from there:
    /// any subdirectory, or a linked worktree.
    pub fn discover(dir: &Path) -> Result<Repo> {
        // libgit2 re-hashes every object it reads; git checks hashes in
        // fsck, not on every read. A run's status walk reads HEAD's whole
        // tree, so this is measurable at 100,000 files.
        git2::opts::strict_hash_verification(false);
        // One search up from `dir`, as `Repository::discover` makes, but
        // without its second: it finds the git directory, then opens it
        // from scratch.
        let no_ceilings: [&Path; 0] = [];
        let flags = git2::RepositoryOpenFlags::CROSS_FS;
        let inner = git2::Repository::open_ext(dir, flags, no_ceilings).map_err(|e| {
            if let Some(format) = objects::unsupported_format_error(dir) {
                return format;
            }
            Error::new(
                Kind::NotARepository,
                format!("not a git repository: {}", dir.display()),
            )
            // "could not find repository at …" only repeats the message.
            .with_cause_unless(e.code() == git2::ErrorCode::NotFound, e)
            .hint("run git milestone inside a git repository, or create one with `git init`")
        })?;
        Repo::from_git2(inner)
    }

    /// Wrap an already opened repository (tests use this seam).
    pub fn from_git2(inner: git2::Repository) -> Result<Repo> {
        let root = inner
            .workdir()
            .ok_or_else(|| {
                Error::refused("this repository has no work tree (it is bare)")
                    .hint("run git milestone in a clone or a worktree that has files checked out")
            })?
            .to_path_buf();
        let root = root.canonicalize().unwrap_or(root);
        Ok(Repo {
            inner,
            root,
            prefetched: Default::default(),
            shielded: Default::default(),
        })
    }

    /// The work tree's top directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// This worktree's git directory (`.git`, or `.git/worktrees/<name>`).
    pub fn git_dir(&self) -> &Path {
        self.inner.path()
    }

    /// The git directory shared by all worktrees (holds refs, config, the lock).
    pub fn common_dir(&self) -> &Path {
        self.inner.commondir()
    }

    /// Paths of tracked files (from the index) ending in `.md` or
    /// `.markdown` in any case, `/`-separated, relative to the root, in
    /// index order (a conflicted file once per merge stage).
    pub fn tracked_markdown(&self) -> Result<Vec<String>> {
        // git's listing rather than libgit2's index, which hashes the whole
        // file to open it: 60 ms at 100,000 files.
        let out = self.git(&["ls-files", "-z", "--", ":(icase)*.md", ":(icase)*.markdown"])?;
        let out = self.succeeded(out, "read the index (.git/index)")?;
        Ok(out
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .filter_map(|p| String::from_utf8(p.to_vec()).ok())
            .collect())
    }

    /// The editor git would open (`git var GIT_EDITOR`: `GIT_EDITOR`,
    /// `core.editor`, `VISUAL`, `EDITOR`, then git's default), as a shell
    /// command to run with the file's path as its argument.
    pub fn editor(&self) -> Result<String> {
        let out = self.git(&["var", "GIT_EDITOR"])?;
        let editor = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
        if !out.status.success() || editor.is_empty() {
            return Err(Error::failed("git has no editor to open")
                .with_cause(anyhow::anyhow!(
                    "{}",
                    String::from_utf8_lossy(&out.stderr).trim_end()
                ))
                .hint("set one, e.g. `git config core.editor nano` or `export GIT_EDITOR=vim`"));
        }
        Ok(editor)
    }

    /// Run the `git` program in the work tree's root with `args`, for
    /// what libgit2 cannot do the way git does: config with `-c`
    /// overrides, hooks, filters, split indexes, the threaded work-tree
    /// walk. Arguments are passed as argv, never through a shell.
    fn git(&self, args: &[&str]) -> Result<Output> {
        self.git_command()
            .args(args)
            .output()
            .with_context(|| format!("cannot run `git {}`", args.join(" ")))
    }

    /// Where git looks for hooks: `git rev-parse --git-path hooks`, which
    /// honours `core.hooksPath` and points linked worktrees at the common
    /// directory.
    pub fn hooks_dir(&self) -> Result<PathBuf> {
        self.hooks_dir_from(self.git(HOOKS_DIR)?)
    }

    /// The hooks directory from the output of [`HOOKS_DIR`]'s command.
    fn hooks_dir_from(&self, out: Output) -> Result<PathBuf> {
        if !out.status.success() {
            return Err(Error::failed(format!(
                "`git rev-parse --git-path hooks` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let rel = String::from_utf8_lossy(&out.stdout)
            .trim_end_matches('\n')
            .to_string();
        Ok(self.root().join(rel))
    }

    /// Start git commands in a process group of their own until the guard
    /// is dropped. The terminal sends Ctrl-C to its foreground group, which
    /// would kill a git command half way through writing the work tree; a
    /// rollback instead notices the signal (`runner::signals`) between
    /// steps, where stopping leaves nothing half done.
    pub fn shield_git(&self) -> Shield<'_> {
        let was = self.shielded.replace(true);
        Shield { repo: self, was }
    }

    /// `git -C <root>`, for every git command this program starts: with
    /// none of the variables that would make git read another index than
    /// the repository's own (which libgit2 uses), or read this program's
    /// pathspecs (`:(literal)`, `:(exclude)`, `*.md`) other than as written.
    pub(super) fn git_command(&self) -> Command {
        let mut cmd = plain_git(&self.root);
        if self.shielded.get() {
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
        cmd
    }

    /// `out` when git exited 0; else an error saying what could not be
    /// done (`cannot <what>`) with what git said, or the clear error for
    /// an `index.lock` left in the way.
    pub(super) fn succeeded(&self, out: Output, what: &str) -> Result<Output> {
        if out.status.success() {
            return Ok(out);
        }
        let said = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
        let lock = self.git_dir().join("index.lock");
        if said.contains("index.lock") && lock.exists() {
            return Err(preflight::lock_file_error(&lock, "the index", Kind::Failed));
        }
        Err(Error::failed(format!("cannot {what}")).with_cause(anyhow::anyhow!("{said}")))
    }

    /// [`git`](Self::git) with `input` on its standard input.
    pub(super) fn git_input(&self, args: &[&str], input: &[u8]) -> Result<Output> {
        use std::io::Write;
        let what = || format!("cannot run `git {}`", args.join(" "));
        let mut child = self
            .git_command()
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .with_context(what)?;
        // Written from a thread: git may fill its output pipes before it
        // has read all of its input.
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().with_context(what)?;
        // A git that stopped early closes its input; its exit status says why.
        let _ = writer.join();
        Ok(out)
    }

    /// Run several `git` commands at once and wait for all of them, in
    /// order: start-up lookups that each cost a process, overlapped.
    pub(super) fn git_all(&self, commands: &[&[&str]]) -> Result<Vec<Output>> {
        let children = commands
            .iter()
            .map(|args| {
                self.git_command()
                    .args(*args)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .with_context(|| format!("cannot run `git {}`", args.join(" ")))
            })
            .collect::<Result<Vec<_>>>()?;
        children
            .into_iter()
            .zip(commands)
            .map(|(child, args)| {
                child
                    .wait_with_output()
                    .with_context(|| format!("cannot run `git {}`", args.join(" ")))
            })
            .collect()
    }

    /// `git config --get <key>` through the git program, so that `git -c`
    /// overrides and includes work as users expect. `None` when unset.
    pub fn config_string(&self, key: &str) -> Result<Option<String>> {
        let out = self.git(&["config", "--get", key])?;
        match out.status.code() {
            Some(0) => Ok(Some(
                String::from_utf8_lossy(&out.stdout)
                    .trim_end_matches('\n')
                    .to_string(),
            )),
            Some(1) => Ok(None),
            _ => Err(Error::failed(format!(
                "`git config --get {key}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))),
        }
    }

    /// Every value of a multi-valued git config key, in order (`milestone.verify`).
    pub fn config_all(&self, key: &str) -> Result<Vec<String>> {
        let out = self.git(&["config", "--get-all", "-z", key])?;
        match out.status.code() {
            Some(0) => Ok(String::from_utf8_lossy(&out.stdout)
                .split('\0')
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()),
            Some(1) => Ok(Vec::new()),
            _ => Err(Error::failed(format!(
                "`git config --get-all {key}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))),
        }
    }
}

/// `git -C <root>` with none of the variables that would make git read
/// another index or the program's pathspecs otherwise than as written (see
/// [`Repo::git_command`]); for threads that hold no repository handle.
pub(crate) fn plain_git(root: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(root);
    for var in [
        "GIT_INDEX_FILE",
        "GIT_LITERAL_PATHSPECS",
        "GIT_GLOB_PATHSPECS",
        "GIT_NOGLOB_PATHSPECS",
        "GIT_ICASE_PATHSPECS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}
