//! Who commits: author and committer as the git program works them out
//! (`git var`: config, `-c`, `GIT_AUTHOR_*`/`GIT_COMMITTER_*`, dates),
//! which libgit2 does not read.

use git2::{Signature, Time};

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
