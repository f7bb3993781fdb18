//! `git milestone rollback`.

use std::path::Path;

use crate::cli::RollbackArgs;
use crate::error::{Error, Result};

pub fn run(args: &RollbackArgs, cwd: &Path) -> Result<i32> {
    let _ = (args, cwd);
    Err(Error::failed("`git milestone rollback` is not built yet"))
}
