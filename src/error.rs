//! The one error type: a kind (which fixes the exit code), a message, and hints.
//!
//! Exit codes are part of the interface and documented in the README:
//! 0 ok, 1 a task or check failed, 2 bad input or refusal, 3 (`status
//! --exit-code` only) a milestone is mid-run, 4 (`status --exit-code`
//! only) one completed with skipped tasks, 128 not a git repository, 130
//! interrupted.

use std::fmt;

/// What went wrong, from the caller's point of view. Each kind has one exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A task, a check or an operation on the repository failed.
    Failed,
    /// The user's input is wrong: unknown name, bad plan, bad flag value.
    BadInput,
    /// The input is fine but acting now would be unsafe: dirty tree, lock held.
    Refused,
    /// Not inside a git repository.
    NotARepository,
    /// Stopped by Ctrl-C or SIGTERM.
    Interrupted,
}

impl Kind {
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Failed => 1,
            Kind::BadInput | Kind::Refused => 2,
            Kind::NotARepository => 128,
            Kind::Interrupted => 130,
        }
    }
}

/// Exit code for `status --exit-code` when a milestone failed, or completed
/// with skipped tasks (their changes are not committed: it is not done).
pub const EXIT_MILESTONE_FAILED: i32 = 1;
/// Exit code for `status --exit-code` when a milestone is mid-run.
pub const EXIT_MILESTONE_MID_RUN: i32 = 3;

pub struct Error {
    kind: Kind,
    message: String,
    hints: Vec<String>,
    cause: Option<anyhow::Error>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hints: Vec::new(),
            cause: None,
        }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(Kind::Failed, message)
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(Kind::BadInput, message)
    }
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(Kind::Refused, message)
    }
    pub fn interrupted(message: impl Into<String>) -> Self {
        Self::new(Kind::Interrupted, message)
    }
    /// Add a `hint:` line: something the user can do next, ideally a command.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
    /// Keep the underlying error; it is printed as `cause:` below the message.
    pub fn with_cause(mut self, cause: impl Into<anyhow::Error>) -> Self {
        let cause = cause.into();
        // One of ours as the cause: its sentence and its causes, not its
        // whole report (`cause: error: …`, its hints).
        let cause = match cause.downcast::<Error>() {
            Ok(inner) => match inner.cause {
                Some(c) => c.context(inner.message),
                None => anyhow::anyhow!(inner.message),
            },
            Err(cause) => cause,
        };
        // libgit2's own text ends in `; class=Repository (6); code=NotFound
        // (-3)`: its internals, not words for a user. Keep the sentence.
        let cause = match cause.downcast_ref::<git2::Error>() {
            Some(g) => anyhow::anyhow!("{}", g.message()),
            None => cause,
        };
        self.cause = Some(cause);
        self
    }
    /// [`with_cause`](Self::with_cause), unless the cause would only repeat the message.
    pub fn with_cause_unless(self, repeats: bool, cause: impl Into<anyhow::Error>) -> Self {
        if repeats {
            self
        } else {
            self.with_cause(cause)
        }
    }
    pub fn kind(&self) -> Kind {
        self.kind
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn hints(&self) -> &[String] {
        &self.hints
    }
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
    /// The underlying error, if one was kept.
    pub fn cause(&self) -> Option<&anyhow::Error> {
        self.cause.as_ref()
    }
}

impl fmt::Display for Error {
    /// The whole report as printed on stderr: `error: …`, then `cause:` and `hint:` lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(cause) = &self.cause {
            for c in cause.chain() {
                write!(f, "\ncause: {c}")?;
            }
        }
        for h in &self.hints {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self)
    }
}

impl std::error::Error for Error {}

/// Attach a sentence to a lower-level failure, making it a [`Kind::Failed`] error.
pub trait Context<T> {
    fn context(self, message: impl Into<String>) -> Result<T>;
    fn with_context<F: FnOnce() -> String>(self, f: F) -> Result<T>;
}

impl<T, E: Into<anyhow::Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, message: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::failed(message).with_cause(e))
    }
    fn with_context<F: FnOnce() -> String>(self, f: F) -> Result<T> {
        self.map_err(|e| Error::failed(f()).with_cause(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lists_cause_then_hints() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::refused("cannot start")
            .with_cause(io)
            .hint("run `git milestone status`");
        assert_eq!(
            e.to_string(),
            "error: cannot start\ncause: disk on fire\nhint: run `git milestone status`"
        );
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn one_of_ours_as_a_cause_adds_its_sentence_and_causes_only() {
        let inner = Error::failed("cannot read the parent")
            .with_cause(std::io::Error::other("bad object"))
            .hint("not shown");
        let e = Error::refused("no base").with_cause(inner);
        assert_eq!(
            e.to_string(),
            "error: no base\ncause: cannot read the parent\ncause: bad object"
        );
    }

    #[test]
    fn exit_codes_are_stable() {
        assert_eq!(Kind::Failed.exit_code(), 1);
        assert_eq!(Kind::BadInput.exit_code(), 2);
        assert_eq!(Kind::Refused.exit_code(), 2);
        assert_eq!(Kind::NotARepository.exit_code(), 128);
        assert_eq!(Kind::Interrupted.exit_code(), 130);
    }
}
