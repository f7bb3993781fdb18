//! A checkpoint's write-back: its task marked done in the plan document,
//! in the same commit (`plan::write_back`), unless `milestone.markDone` is
//! false; and a warning when the task's runner changed other tasks' marks,
//! as only git-milestone decides what is done.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::message::Verdict;
use super::session::Session;
use crate::error::{Context, Result};
use crate::plan::extract::extract;
use crate::plan::write_back::{WriteBack, mark_done};
use crate::ui::text::{list, quote};

/// The plan as it was before the write-back, put back when the checkpoint
/// fails: the task is not done, so its mark is not either.
pub(super) struct Written {
    rel: String,
    path: PathBuf,
    old: Vec<u8>,
    bundle: PathBuf,
}

impl Written {
    /// Best effort: the checkpoint's own failure is what the user is told.
    pub(super) fn undo(self, repo: &crate::repo::Repo) {
        if write_keeping_mode(&self.path, &self.old, &self.bundle).is_ok() {
            let _ = repo.stage_path(&self.rel);
        }
    }
}

impl Session<'_> {
    /// Before task `i`'s checkpoint (`before` the commit it started from):
    /// say which other tasks' marks its runner changed, then mark it done.
    /// A skipped task's checkpoint leaves the plan alone.
    pub(super) fn write_back(
        &mut self,
        i: usize,
        verdict: &Verdict,
        before: &str,
    ) -> Result<Option<Written>> {
        if matches!(verdict, Verdict::Skipped(_)) {
            return Ok(None);
        }
        let rel = self.plan.plan.clone();
        let path = self.repo.root().join(&rel);
        // A plan that is gone, unreadable or not UTF-8 has no mark to write.
        let Ok(text) = fs::read_to_string(&path) else {
            return Ok(None);
        };
        let id = self.plan.tasks[i].id.clone();
        let start = self.repo.file_at(before, &rel)?;
        if let Some(start) = start.as_deref().filter(|s| *s != text.as_bytes()) {
            self.runner_marks(&id, &String::from_utf8_lossy(start), &text);
        }
        // An untracked plan the run keeps out of checkpoints, or a link
        // (writing would replace it with a file), is left alone.
        let link = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        if !self.mark_done || link || self.untracked.is_users(&rel) {
            return Ok(None);
        }
        match marked(&text, &self.plan.milestone, &id) {
            WriteBack::Marked { text: new, .. } => {
                let bundle = crate::state::bundle_dir(self.repo.root(), self.name())?;
                write_keeping_mode(&path, new.as_bytes(), &bundle)?;
                Ok(Some(Written {
                    rel,
                    path,
                    old: text.into_bytes(),
                    bundle,
                }))
            }
            WriteBack::Unsafe(why) => {
                self.report.warn(&format!(
                    "warning: {id} is not marked done in {}: {why}; the plan is committed as it is",
                    quote(&rel)
                ));
                Ok(None)
            }
            WriteBack::AlreadyDone | WriteBack::NoMark => Ok(None),
        }
    }

    /// Warn when the plan's marks of other tasks differ from what they were
    /// when task `id` started.
    fn runner_marks(&mut self, id: &str, start: &str, now: &str) {
        let key = self.plan.milestone.as_str();
        let done = |text: &str| -> Vec<(String, bool)> {
            extract(text, key)
                .or_else(|_| extract(text, &key.replace('-', " ")))
                .map(|e| e.tasks.into_iter().map(|t| (t.id, t.done)).collect())
                .unwrap_or_default()
        };
        let (was, is) = (done(start), done(now));
        let mut ticked = Vec::new();
        let mut unticked = Vec::new();
        for (task, now) in &is {
            let Some((_, then)) = was.iter().find(|(t, _)| t == task) else {
                continue;
            };
            if task == id || then == now {
                continue;
            }
            if *now {
                ticked.push(task.clone());
            } else {
                unticked.push(task.clone());
            }
        }
        let changed = match (ticked.is_empty(), unticked.is_empty()) {
            (true, true) => return,
            (false, true) => format!("{} done", list(&ticked, 5)),
            (true, false) => format!("{} not done", list(&unticked, 5)),
            (false, false) => format!(
                "{} done and {} not done",
                list(&ticked, 5),
                list(&unticked, 5)
            ),
        };
        self.report.warn(&format!(
            "warning: {id}'s runner marked {changed} in {}; only git-milestone decides what is done: \
             this run goes by its own record, and the checkpoint keeps those marks as the runner left them",
            quote(&self.plan.plan)
        ));
    }
}

/// Replace the plan's bytes whole, keeping its permissions: a temp file in
/// the milestone's bundle directory (in the work tree, so on the plan's
/// file system, and where a killed run's temp files are removed under the
/// lock by `state::remove_stale_temp_files`), synced, then renamed over it.
fn write_keeping_mode(path: &Path, bytes: &[u8], bundle: &Path) -> Result<()> {
    let mode = fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(mode)
        .tempfile_in(bundle)
        .with_context(|| format!("cannot create a temporary file in {}", bundle.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Task `id` of milestone `key` marked done in the plan's `text`.
pub(super) fn marked(text: &str, key: &str, id: &str) -> WriteBack {
    let result = mark_done(text, key, id);
    if matches!(result, WriteBack::Unsafe(_)) && key.contains('-') {
        // The key replaced white space with `-` (`Phase 2` is stored as
        // `Phase-2`); the plan may call it by its name.
        return mark_done(text, &key.replace('-', " "), id);
    }
    result
}
