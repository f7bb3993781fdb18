//! `git milestone run`.

use std::path::Path;

use crate::cli::RunArgs;
use crate::error::{Error, Result};

pub fn run(args: &RunArgs, cwd: &Path) -> Result<i32> {
    let _ = (args, cwd);
    Err(Error::failed("`git milestone run` is not built yet"))
}
