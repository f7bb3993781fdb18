//! `git milestone status`.

use std::path::Path;

use crate::cli::StatusArgs;
use crate::error::{Error, Result};

pub fn run(args: &StatusArgs, cwd: &Path) -> Result<i32> {
    let _ = args;
    let _repo = crate::repo::Repo::discover(cwd)?;
    Err(Error::failed("`git milestone status` is not built yet"))
}
