//! Who commits: author and committer as the git program works them out
//! (`git var`: config, `-c`, `GIT_AUTHOR_*`/`GIT_COMMITTER_*`, dates),
//! which libgit2 does not read; and the `Committer` a run works out once.

use std::path::PathBuf;

use git2::{Signature, Time};

use super::Repo;

use crate::error::{Context, Error, Result};

/// A name and email, and the date when git was told one (`GIT_*_DATE`).
#[derive(Debug, Clone)]
pub(super) struct Ident {
    name: String,
    email: String,
    fixed_time: Option<Time>,
}

/// The author or the committer.
#[derive(Debug, Clone, Copy)]
pub(super) enum Role {
    Author,
    Committer,
}

/// What to do when git does not know who the user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unknown {
    /// Refuse, with a hint to configure one (checkpoints).
    Refuse,
    /// Use a stand-in: saving a failed attempt before a rollback must not
    /// fail for want of a name.
    StandIn,
}

impl Ident {
    pub(super) fn signature(&self) -> Result<Signature<'static>> {
        match self.fixed_time {
            Some(t) => Signature::new(&self.name, &self.email, &t),
            None => Signature::now(&self.name, &self.email),
        }
        .with_context(|| format!("invalid identity {} <{}>", self.name, self.email))
    }
}

impl Role {
    /// The `git var` variable that names this role.
    pub(super) fn var(self) -> &'static str {
        match self {
            Role::Author => "GIT_AUTHOR_IDENT",
            Role::Committer => "GIT_COMMITTER_IDENT",
        }
    }
}

impl Repo {
    /// The author and committer git works out for a new commit, both looked
    /// up at once (each is a git process); `unknown` says what to do when
    /// git cannot name one.
    pub(super) fn signatures(&self, unknown: Unknown) -> Result<[Signature<'static>; 2]> {
        let [author, committer]: [std::process::Output; 2] = self
            .git_all(&[
                &["var", Role::Author.var()],
                &["var", Role::Committer.var()],
            ])?
            .try_into()
            .expect("two commands, two outputs");
        Ok([
            ident_from(&author, Role::Author, unknown)?.signature()?,
            ident_from(&committer, Role::Committer, unknown)?.signature()?,
        ])
    }
}

/// The identity in `git var <role.var()>`'s output `out`.
pub(super) fn ident_from(
    out: &std::process::Output,
    role: Role,
    unknown: Unknown,
) -> Result<Ident> {
    let date_var = match role {
        Role::Author => "GIT_AUTHOR_DATE",
        Role::Committer => "GIT_COMMITTER_DATE",
    };
    let text = String::from_utf8_lossy(&out.stdout);
    match (out.status.success(), parse_ident(text.trim_end())) {
            (true, Some(sig)) => Ok(Ident {
                name: sig.name().unwrap_or_default().to_string(),
                email: sig.email().unwrap_or_default().to_string(),
                fixed_time: std::env::var_os(date_var)
                    .is_some_and(|v| !v.is_empty())
                    .then(|| sig.when()),
            }),
            _ if unknown == Unknown::StandIn => Ok(Ident {
                name: "git-milestone".to_string(),
                email: "git-milestone@localhost".to_string(),
                fixed_time: None,
            }),
            _ => Err(Error::refused("git does not know who you are, so cannot commit checkpoints")
                .with_cause(anyhow::anyhow!(
                    "{}",
                    String::from_utf8_lossy(&out.stderr).trim_end()
                ))
                .hint("set it with `git config user.name 'Your Name'` and `git config user.email you@example.com`")),
        }
}

/// Parse `Name <email> 1767225600 +0100` (the format of `git var`).
fn parse_ident(text: &str) -> Option<Signature<'static>> {
    let (who, when) = text.rsplit_once('>')?;
    let (name, email) = who.split_once('<')?;
    let mut parts = when.split_whitespace();
    let secs: i64 = parts.next()?.parse().ok()?;
    let tz = parts.next()?;
    let sign = if tz.starts_with('-') { -1 } else { 1 };
    let digits = tz.trim_start_matches(['+', '-']);
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..4)?.parse().ok()?;
    let offset = sign * (hours * 60 + minutes);
    Signature::new(name.trim(), email, &Time::new(secs, offset)).ok()
}

/// Who commits checkpoints and which hooks run, worked out once per run.
#[derive(Debug, Clone)]
pub struct Committer {
    pub(super) author: Ident,
    pub(super) committer: Ident,
    /// Where git looks for hooks (`core.hooksPath` honoured).
    pub(super) hooks_dir: PathBuf,
}

impl Committer {
    /// Whether a checkpoint runs a hook (`pre-commit`, `commit-msg` or
    /// `post-commit`): a hook may leave new files in the work tree.
    pub fn has_commit_hooks(&self) -> bool {
        ["pre-commit", "commit-msg", "post-commit"]
            .iter()
            .any(|h| self.hooks_dir.join(h).is_file())
    }
}

impl Repo {
    /// Work out who commits (user.name and user.email, or the
    /// GIT_AUTHOR_*/GIT_COMMITTER_* variables) and where hooks live, before
    /// any task runs: a run must not fail at its first checkpoint for that.
    pub fn committer(&self) -> Result<Committer> {
        // Three lookups, started together: each is a git process.
        let [hooks, author, committer]: [std::process::Output; 3] = self
            .git_all(&[
                super::HOOKS_DIR,
                &["var", Role::Author.var()],
                &["var", Role::Committer.var()],
            ])?
            .try_into()
            .expect("three commands, three outputs");
        Ok(Committer {
            author: ident_from(&author, Role::Author, Unknown::Refuse)?,
            committer: ident_from(&committer, Role::Committer, Unknown::Refuse)?,
            hooks_dir: self.hooks_dir_from(hooks)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents_parse_with_offsets() {
        let s = parse_ident("A U Thor <a@example.com> 1767225600 +0130").unwrap();
        assert_eq!(s.name().ok(), Some("A U Thor"));
        assert_eq!(s.email().ok(), Some("a@example.com"));
        assert_eq!(s.when().seconds(), 1_767_225_600);
        assert_eq!(s.when().offset_minutes(), 90);
        let s = parse_ident("X <x@y> 5 -0700").unwrap();
        assert_eq!(s.when().offset_minutes(), -420);
        let s = parse_ident("Test Author <a@example.invalid> 1767225600 -0130").unwrap();
        assert_eq!(s.when().offset_minutes(), -90);
        assert!(parse_ident("no email here").is_none());
        assert!(parse_ident("garbage").is_none());
    }
}
