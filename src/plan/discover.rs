//! Which tracked Markdown file is the plan for a milestone name.

use crate::error::{Error, Result};
use crate::repo::Repo;

/// Find the plan document for `name` among the repository's tracked Markdown.
/// Returns the path relative to the repository root (`/`-separated).
pub fn discover(repo: &Repo, name: &str) -> Result<String> {
    let _ = (repo, name);
    Err(Error::failed("plan discovery is not built yet"))
}
