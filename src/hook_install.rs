//! Installing and removing the pre-push hook without clobbering one of the
//! user's own.
//!
//! A hook already there is renamed to `pre-push.user` and our shim (the
//! repository's `hooks/pre-push`) runs it first, as its own process with
//! git's ref lines on its standard input, then our check. Renaming rather
//! than editing the user's file means hooks in any language, hooks that
//! `exec`, and hooks that read all of stdin keep working, and uninstalling
//! (renaming back) leaves them byte-identical with their mode.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Context, Error, Result};
use crate::files::write_atomically;
use crate::ui::text::quote_path;

/// The hook we install, exactly as shipped in `hooks/pre-push`.
pub const SHIM: &str = include_str!("../hooks/pre-push");

/// The line that marks a pre-push hook as ours, in this and later formats.
const MARKER: &str = "# git-milestone pre-push hook";

pub const HOOK_NAME: &str = "pre-push";
pub const USER_HOOK_NAME: &str = "pre-push.user";

#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    /// Our hook was already there, unchanged.
    Already(PathBuf),
    /// There was no pre-push hook.
    Fresh(PathBuf),
    /// The user's hook was moved to `user` and is run by ours.
    Chained { hook: PathBuf, user: PathBuf },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Removed {
    /// Our hook was not installed in this directory.
    Nothing(PathBuf),
    Hook(PathBuf),
    /// Ours was removed and the user's hook renamed back to this path.
    Restored(PathBuf),
}

/// Install the shim in `dir`; running it again changes nothing.
pub fn install(dir: &Path) -> Result<Installed> {
    let hook = dir.join(HOOK_NAME);
    let user = dir.join(USER_HOOK_NAME);
    match read_if_exists(&hook)? {
        Some(bytes) if bytes == SHIM.as_bytes() => return Ok(Installed::Already(hook)),
        Some(bytes) if is_ours(&bytes) => return Err(edited_shim(&hook)),
        Some(_) => {}
        None => {
            if user.symlink_metadata().is_ok() {
                return Err(Error::refused(format!(
                    "{} exists but there is no pre-push hook to run it",
                    user.display()
                ))
                .hint(format!(
                    "rename it back with `mv {} {}` or remove it, then run `git milestone install-hook`",
                    quote_path(&user),
                    quote_path(&hook)
                )));
            }
            write_shim(&hook)?;
            return Ok(Installed::Fresh(hook));
        }
    }
    if user.symlink_metadata().is_ok() {
        return Err(Error::refused(format!(
            "cannot keep your pre-push hook: {} already exists",
            user.display()
        ))
        .hint(format!(
            "merge or remove {} by hand, then run `git milestone install-hook` again",
            user.display()
        )));
    }
    fs::rename(&hook, &user)
        .with_context(|| format!("cannot rename {} to {}", hook.display(), user.display()))?;
    if let Err(e) = write_shim(&hook) {
        // Put the user's hook back rather than leave pushes unchecked by it.
        let _ = fs::rename(&user, &hook);
        return Err(e);
    }
    Ok(Installed::Chained { hook, user })
}

/// Remove what [`install`] added, renaming the user's hook back if there was one.
pub fn uninstall(dir: &Path) -> Result<Removed> {
    let hook = dir.join(HOOK_NAME);
    let user = dir.join(USER_HOOK_NAME);
    match read_if_exists(&hook)? {
        Some(bytes) if bytes == SHIM.as_bytes() => {}
        Some(bytes) if is_ours(&bytes) => return Err(edited_shim(&hook)),
        _ => return Ok(Removed::Nothing(dir.to_path_buf())),
    }
    if user.symlink_metadata().is_ok() {
        fs::rename(&user, &hook)
            .with_context(|| format!("cannot rename {} to {}", user.display(), hook.display()))?;
        return Ok(Removed::Restored(hook));
    }
    fs::remove_file(&hook).with_context(|| format!("cannot remove {}", hook.display()))?;
    Ok(Removed::Hook(hook))
}

fn is_ours(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes)
        .lines()
        .take(3)
        .any(|l| l.starts_with(MARKER))
}

fn edited_shim(hook: &Path) -> Error {
    Error::refused(format!(
        "{} is git-milestone's hook with changes made to it; leaving it alone",
        hook.display()
    ))
    .hint(format!(
        "move your changes to a pre-push.user hook next to it, remove {}, then run `git milestone install-hook`",
        hook.display()
    ))
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symlink is still somebody's hook: keep it, as a file.
            Ok(path.symlink_metadata().is_ok().then(Vec::new))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_shim(hook: &Path) -> Result<()> {
    write_atomically(hook, SHIM.as_bytes())?;
    fs::set_permissions(hook, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", hook.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn chains_and_restores_the_users_hook_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let hook = dir.path().join(HOOK_NAME);
        let mine = b"#!/usr/bin/env python3\nprint('mine')\n";
        fs::write(&hook, mine).unwrap();
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o750)).unwrap();

        let user = dir.path().join(USER_HOOK_NAME);
        assert_eq!(
            install(dir.path()).unwrap(),
            Installed::Chained {
                hook: hook.clone(),
                user: user.clone()
            }
        );
        assert_eq!(fs::read(&hook).unwrap(), SHIM.as_bytes());
        assert_eq!(mode(&hook), 0o755);
        assert_eq!(fs::read(&user).unwrap(), mine);
        assert_eq!(
            install(dir.path()).unwrap(),
            Installed::Already(hook.clone())
        );

        assert_eq!(
            uninstall(dir.path()).unwrap(),
            Removed::Restored(hook.clone())
        );
        assert_eq!(fs::read(&hook).unwrap(), mine);
        assert_eq!(mode(&hook), 0o750);
        assert!(!user.exists());
        assert_eq!(
            uninstall(dir.path()).unwrap(),
            Removed::Nothing(dir.path().to_path_buf())
        );
    }

    #[test]
    fn an_edited_shim_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        install(dir.path()).unwrap();
        let hook = dir.path().join(HOOK_NAME);
        fs::write(&hook, format!("{SHIM}echo extra\n")).unwrap();
        let e = uninstall(dir.path()).unwrap_err();
        assert!(e.message().contains("with changes made to it"), "{e}");
        assert!(install(dir.path()).is_err());
        assert!(hook.exists());
    }

    #[test]
    fn a_stray_user_hook_is_not_adopted() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(USER_HOOK_NAME), "#!/bin/sh\n").unwrap();
        let e = install(dir.path()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(!dir.path().join(HOOK_NAME).exists());
    }
}
