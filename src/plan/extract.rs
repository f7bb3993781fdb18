//! Markdown in, tasks out: IDs, titles, marks, dependencies and source lines.
//! Pure: no git, no file system.

use super::Extracted;
use crate::error::Result;

/// Read the tasks of `milestone` out of a plan document.
///
/// When the document holds several milestones, only the named one's section
/// counts. Returns a `BadInput` error "no task IDs found" when there are none.
pub fn extract(text: &str, milestone: &str) -> Result<Extracted> {
    let _ = (text, milestone);
    Err(crate::error::Error::failed(
        "plan extraction is not built yet",
    ))
}
