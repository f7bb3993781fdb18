//! Milestone names and keys: how a name is read, compared and turned into
//! the key its directories and refs use. A leaf: `plan` and `state` both
//! use it, and it uses neither.

pub mod names;

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Context, Error, Result};

/// The directory, relative to the repository root, that holds every bundle.
pub const BUNDLES_DIR: &str = ".milestone_bundles";

/// The status file's name inside a milestone's bundle directory.
pub const STATUS_FILE: &str = "status.json";

/// The longest milestone key, in bytes: it is one file name (the bundle
/// and journal directories) and one ref component.
pub const MAX_NAME_BYTES: usize = 255;

/// Check a milestone name for use in paths and ref names, and return it.
///
/// The name becomes a directory under `.milestone_bundles/` and a ref
/// component, so it must be one safe path component and a valid ref part.
pub fn validate_name(name: &str) -> Result<&str> {
    if name.len() > MAX_NAME_BYTES {
        let start: String = name.chars().take(24).collect();
        return Err(Error::bad_input(format!(
            "milestone name {}… is {} bytes long; it names a directory and a ref, which hold at most {MAX_NAME_BYTES}",
            crate::ui::text::quote(&start),
            name.len()
        ))
        .hint("use a shorter name, e.g. `M1` or `phase-2` (`--plan PATH` names the plan file)"));
    }
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.starts_with('-')
        || name.ends_with(".lock")
        || name.ends_with('.')
        || name.contains("..")
        || name.contains("@{")
        || name.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(c, '/' | '\\' | '~' | '^' | ':' | '?' | '*' | '[')
        });
    if bad {
        return Err(Error::bad_input(format!(
            "{name:?} is not a valid milestone name: it must be one path component and a \
             valid git ref part"
        ))
        .hint(
            "use a short name made of letters, digits, '.', '_' and '-', e.g. `M1` or `phase-2`",
        ));
    }
    Ok(name)
}

/// Refuse a name that is a path rather than a name: absolute (`/M2`),
/// with a `.` or `..` component (`../M2`, `./M2`), or holding a NUL.
/// Looser than [`validate_name`] on purpose: `plan` reads names as labels,
/// and real ones hold spaces, dots and slashes (`v1.1`, `Phase 2`,
/// `build/CI (epic #12)`); only walking out of a directory is refused.
pub fn refuse_path(name: &str) -> Result<()> {
    let absolute = name.starts_with(['/', '\\']);
    let dots = name.split(['/', '\\']).any(|c| c == "." || c == "..");
    if !(absolute || dots || name.contains('\0')) {
        return Ok(());
    }
    Err(Error::bad_input(format!(
        "milestone name `{}` is a path, not a milestone's name",
        crate::ui::text::clean(name)
    ))
    .hint("name the milestone as its plan does, e.g. `M2`, and its plan file with `--plan PATH`"))
}

/// The key a milestone is stored under: its name with each run of white
/// space turned into `-` (`Phase 2` becomes `Phase-2`), checked by
/// [`validate_name`]. Commands turn the user's name into the key before it
/// reaches a path or a ref.
pub fn milestone_key(name: &str) -> Result<String> {
    let key = name.split_whitespace().collect::<Vec<_>>().join("-");
    if key.is_empty() || validate_name(&key).is_err() {
        // Report the name as the user typed it.
        validate_name(name)?;
    }
    validate_name(&key)?;
    Ok(key)
}

/// The key of the milestone the user means by `name`: the name of a
/// directory already in `.milestone_bundles/` that equals [`milestone_key`]
/// of `name` ignoring case or, failing that, spells the same milestone
/// (`Milestone-1` for `M1`); else that key. `run m1` after `run M1` then
/// continues M1 instead of starting a second record of the same milestone.
pub fn resolve_key(root: &Path, name: &str) -> Result<String> {
    let key = milestone_key(name)?;
    let dir = root.join(BUNDLES_DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(key),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut bundles: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| validate_name(n).is_ok())
        .collect();
    if bundles.contains(&key) {
        return Ok(key);
    }
    bundles.sort();
    let folded = key.to_lowercase();
    let mut same: Vec<&String> = bundles
        .iter()
        .filter(|n| n.to_lowercase() == folded)
        .collect();
    if same.is_empty() {
        same = bundles.iter().filter(|n| same_milestone(n, &key)).collect();
    }
    match same.as_slice() {
        [] => Ok(key),
        [one] => Ok((*one).clone()),
        many => {
            let names: Vec<&str> = many.iter().map(|n| n.as_str()).collect();
            Err(Error::bad_input(format!(
                "milestone name {name:?} matches {} in {BUNDLES_DIR}/",
                names.join(", ")
            ))
            .hint(format!(
                "name one exactly, e.g. `git milestone status {}`",
                names[0]
            )))
        }
    }
}

/// `<root>/.milestone_bundles/<name>`, after checking the name.
pub fn bundle_dir(root: &Path, name: &str) -> Result<PathBuf> {
    Ok(root.join(BUNDLES_DIR).join(validate_name(name)?))
}

/// `.milestone_bundles/<name>/status.json` relative to the root, `/`-separated.
pub fn status_rel_path(name: &str) -> Result<String> {
    Ok(format!(
        "{BUNDLES_DIR}/{}/{STATUS_FILE}",
        validate_name(name)?
    ))
}

/// The local run journal's directory for a milestone, inside this worktree's
/// git directory: `<git-dir>/milestone/<name>/`. Logs and snapshots live here;
/// nothing in it is committed.
pub fn journal_dir(git_dir: &Path, name: &str) -> Result<PathBuf> {
    Ok(git_dir.join("milestone").join(validate_name(name)?))
}

/// Whether two milestone names spell the same milestone: the same words
/// ignoring case and punctuation, `M1` being `Milestone 1`.
pub fn same_milestone(a: &str, b: &str) -> bool {
    match (names::Name::parse(a), names::Name::parse(b)) {
        (Some(a), Some(b)) => a.key() == b.key(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_that_walk_out_of_a_directory_are_paths() {
        for path in ["../M2", "/M2", "\\M2", "a\\..\\b", "./M2", "M1/.", "M\0"] {
            assert!(refuse_path(path).is_err(), "{path:?}");
        }
        for name in [
            "M2",
            "v1.1",
            "a..b",
            "...",
            ".hidden",
            "build/CI (epic #1)",
            "Phase 2",
        ] {
            assert!(refuse_path(name).is_ok(), "{name:?}");
        }
    }
}
