//! `git milestone hook pre-push`, `install-hook` and `uninstall-hook`.

use std::path::Path;

use crate::cli::PrePushArgs;
use crate::error::{Error, Result};

pub fn pre_push(args: &PrePushArgs, cwd: &Path) -> Result<i32> {
    let _ = (args, cwd);
    Err(Error::failed(
        "`git milestone hook pre-push` is not built yet",
    ))
}

pub fn install(cwd: &Path) -> Result<i32> {
    let _ = cwd;
    Err(Error::failed(
        "`git milestone install-hook` is not built yet",
    ))
}

pub fn uninstall(cwd: &Path) -> Result<i32> {
    let _ = cwd;
    Err(Error::failed(
        "`git milestone uninstall-hook` is not built yet",
    ))
}
