//! Every read and write of a ref: the names under `refs/milestone/<key>/`
//! (built here and nowhere else), one listing function, reading, pointing
//! and deleting.

use std::collections::BTreeMap;

use super::{Repo, parse_oid};
use crate::error::{Context, Error, Result};

/// `refs/milestone/<name>`: every ref a milestone owns is under it.
fn namespace(name: &str) -> String {
    format!("refs/milestone/{name}")
}

/// The namespace of a milestone's checkpoint refs, without the trailing slash.
pub fn checkpoints_prefix(name: &str) -> String {
    format!("{}/checkpoints", namespace(name))
}

/// `refs/milestone/<name>/checkpoints/<ID>`.
pub fn checkpoint_ref(name: &str, task: &str) -> String {
    format!("{}/{task}", checkpoints_prefix(name))
}

/// `refs/milestone/<name>/attempts/`, under which every task's saved
/// attempts are.
pub fn all_attempts_prefix(name: &str) -> String {
    format!("{}/attempts/", namespace(name))
}

/// `refs/milestone/<name>/attempts/<ID>/`, under which a task's saved
/// attempts are numbered from 1.
pub fn attempts_prefix(name: &str, task: &str) -> String {
    format!("{}{task}/", all_attempts_prefix(name))
}

/// `refs/milestone/<name>/attempts/<ID>/<n>`.
pub fn attempt_ref(name: &str, task: &str, n: u32) -> String {
    format!("{}{n}", attempts_prefix(name, task))
}

/// `refs/milestone/<name>/before-undo/`, under which `rollback --undo
/// --force` saves what it replaces, numbered from 1.
pub fn before_undo_prefix(name: &str) -> String {
    format!("{}/before-undo/", namespace(name))
}

/// `refs/milestone/<key>/squashed/`: the checkpoints of each squash, from 1.
pub fn squashed_prefix(name: &str) -> String {
    format!("{}/squashed/", namespace(name))
}

/// `refs/tags/milestone/<name>/<ID>`.
pub fn tag_ref(milestone: &str, task: &str) -> String {
    format!("refs/tags/milestone/{milestone}/{task}")
}

/// Whether `task` can be used inside the checkpoint ref and tag names.
pub fn task_id_fits_refs(milestone: &str, task: &str) -> bool {
    !task.contains('/') && git2::Reference::is_valid_name(&checkpoint_ref(milestone, task))
}

impl Repo {
    /// Refs under `prefix` (e.g. `refs/milestone/M1/checkpoints/`), as
    /// (name without the prefix, commit id), sorted by name.
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let glob = format!("{prefix}*");
        let mut out = Vec::new();
        let refs = self
            .inner
            .references_glob(&glob)
            .with_context(|| format!("cannot list {glob}"))?;
        for r in refs {
            let r = r.with_context(|| format!("cannot read a ref under {prefix}"))?;
            let (Ok(name), Ok(commit)) = (r.name(), r.peel_to_commit()) else {
                continue;
            };
            out.push((name[prefix.len()..].to_string(), commit.id().to_string()));
        }
        out.sort();
        Ok(out)
    }

    /// The commit a ref points at, `None` when the ref does not exist.
    pub fn ref_target(&self, name: &str) -> Result<Option<String>> {
        match self.inner.find_reference(name) {
            Ok(r) => Ok(Some(
                r.peel_to_commit()
                    .with_context(|| format!("{name} does not point at a commit"))?
                    .id()
                    .to_string(),
            )),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {name}")),
        }
    }

    /// Point `name` at `oid`, creating or moving it.
    pub fn set_ref(&self, name: &str, oid: &str, why: &str) -> Result<()> {
        self.inner
            .reference(name, parse_oid(oid)?, true, why)
            .map_err(|e| {
                super::preflight::ref_write_error(e, name, format!("cannot update {name} to {oid}"))
            })?;
        Ok(())
    }

    pub fn delete_ref(&self, name: &str) -> Result<()> {
        match self.inner.find_reference(name) {
            Ok(mut r) => r.delete().map_err(|e| {
                super::preflight::ref_write_error(e, name, format!("cannot delete {name}"))
            }),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot read {name}")),
        }
    }

    /// Whether git accepts `name` as a full ref name.
    pub fn is_valid_ref_name(name: &str) -> bool {
        git2::Reference::is_valid_name(name)
    }

    /// The checkpoint refs of milestone `name`, as task ID -> commit id (hex).
    pub fn checkpoint_refs(&self, name: &str) -> Result<BTreeMap<String, String>> {
        Ok(self
            .refs_under(&format!("{}/", checkpoints_prefix(name)))?
            .into_iter()
            .collect())
    }

    /// The commit a checkpoint ref points at, if it exists.
    pub fn checkpoint_commit(&self, milestone: &str, task: &str) -> Result<Option<String>> {
        self.ref_target(&checkpoint_ref(milestone, task))
    }

    /// Point `milestone`'s checkpoint ref for `task` at `commit`.
    pub fn set_checkpoint_ref(&self, milestone: &str, task: &str, commit: &str) -> Result<()> {
        self.set_ref(
            &checkpoint_ref(milestone, task),
            commit,
            "milestone: recover checkpoint",
        )
    }

    /// Remove every checkpoint ref of `milestone` (on `--restart`); the
    /// commits stay in the branch's history.
    pub fn delete_checkpoint_refs(&self, milestone: &str) -> Result<()> {
        let prefix = format!("{}/", checkpoints_prefix(milestone));
        for (task, _) in self.refs_under(&prefix)? {
            self.delete_ref(&format!("{prefix}{task}"))?;
        }
        Ok(())
    }

    /// `<prefix><n>` for the first `n` above every number already used
    /// under `prefix` (from 1): a new safety ref never replaces an old one.
    pub fn next_numbered_ref(&self, prefix: &str) -> Result<String> {
        Ok(format!("{prefix}{}", self.next_number(prefix)?))
    }

    /// The next attempt ref of `task` (none is numbered higher), and its
    /// number.
    pub fn next_attempt_ref(&self, milestone: &str, task: &str) -> Result<(String, u32)> {
        let n = self.next_number(&attempts_prefix(milestone, task))?;
        let ref_name = attempt_ref(milestone, task, n);
        if !Repo::is_valid_ref_name(&ref_name) {
            return Err(Error::bad_input(format!(
                "task ID {task:?} cannot be used in a ref name ({ref_name})"
            )));
        }
        Ok((ref_name, n))
    }

    /// The first number above every one already used under `prefix`.
    fn next_number(&self, prefix: &str) -> Result<u32> {
        Ok(self
            .refs_under(prefix)?
            .iter()
            .filter_map(|(n, _)| n.parse::<u32>().ok())
            .max()
            .unwrap_or(0)
            + 1)
    }

    /// The next free `refs/milestone/<name>/before-undo/<n>`.
    pub fn next_before_undo_ref(&self, name: &str) -> Result<String> {
        self.next_numbered_ref(&before_undo_prefix(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names() {
        assert_eq!(
            checkpoint_ref("M1", "TASK-002"),
            "refs/milestone/M1/checkpoints/TASK-002"
        );
        assert_eq!(
            attempts_prefix("M1", "T002"),
            "refs/milestone/M1/attempts/T002/"
        );
        assert_eq!(
            attempt_ref("M1", "1.2", 3),
            "refs/milestone/M1/attempts/1.2/3"
        );
        assert_eq!(squashed_prefix("M1"), "refs/milestone/M1/squashed/");
        assert_eq!(before_undo_prefix("M1"), "refs/milestone/M1/before-undo/");
    }

    #[test]
    fn task_ids_must_fit_in_ref_names() {
        for ok in ["TASK-001", "T012", "2.3", "#123"] {
            assert!(task_id_fits_refs("M1", ok), "{ok}");
        }
        for bad in ["a/b", "x..y", "a b", "t~1", "x.lock"] {
            assert!(!task_id_fits_refs("M1", bad), "{bad}");
        }
    }
}
