//! `git milestone plan`: find, extract, order, render.

use std::path::Path;

use crate::cli::PlanArgs;
use crate::error::{Error, Result};

pub fn run(args: &PlanArgs, cwd: &Path) -> Result<i32> {
    let _ = (args, cwd);
    Err(Error::failed("`git milestone plan` is not built yet"))
}
