//! Opening a file in the user's editor the way git does: the editor is a
//! shell command (`git var GIT_EDITOR`), run as `sh -c '<editor> "$@"'
//! '<editor>' <path>`, so the path is an argument, never shell text.

use std::path::Path;
use std::process::Command;

use crate::error::{Context, Error, Result};
use crate::ui::text::quote;

/// Open `path` in `editor` from `cwd`, with this terminal, and wait for it.
/// `:` opens nothing, as in git.
pub fn open(editor: &str, path: &Path, cwd: &Path) -> Result<()> {
    if editor == ":" {
        return Ok(());
    }
    let argv = shell_args(editor, path);
    let mut child = Command::new("sh")
        .args(&argv)
        .current_dir(cwd)
        .spawn()
        .with_context(|| format!("cannot start the editor {}", quote(editor)))?;
    // Ctrl-C in the editor is the editor's (vi cancels a command with it),
    // as in git: ignored here while it runs; the child has the defaults.
    let status = {
        let _ignore = IgnoreInterrupts::new();
        child.wait()
    }
    .with_context(|| format!("cannot wait for the editor {}", quote(editor)))?;
    if status.success() {
        return Ok(());
    }
    let how = match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "was stopped by a signal".to_string(),
    };
    Err(Error::failed(format!(
        "the editor {} {how}; nothing changed",
        quote(editor)
    ))
    .hint("`git var GIT_EDITOR` shows the editor git uses; choose another with `git config core.editor <command>`"))
}

/// SIGINT and SIGQUIT ignored until dropped, then as they were.
struct IgnoreInterrupts {
    saved: Vec<(libc::c_int, libc::sigaction)>,
}

impl IgnoreInterrupts {
    fn new() -> IgnoreInterrupts {
        let mut saved = Vec::new();
        for sig in [libc::SIGINT, libc::SIGQUIT] {
            // SAFETY: zeroed sigaction structs are valid; SIG_IGN is a valid
            // disposition, and the old one is kept to be put back.
            unsafe {
                let mut ignore: libc::sigaction = std::mem::zeroed();
                ignore.sa_sigaction = libc::SIG_IGN;
                libc::sigemptyset(&mut ignore.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &ignore, &mut old) == 0 {
                    saved.push((sig, old));
                }
            }
        }
        IgnoreInterrupts { saved }
    }
}

impl Drop for IgnoreInterrupts {
    fn drop(&mut self) {
        for (sig, old) in &self.saved {
            // SAFETY: `old` is what sigaction returned for `sig`.
            unsafe { libc::sigaction(*sig, old, std::ptr::null_mut()) };
        }
    }
}

/// The arguments of `sh` that open `path` in `editor`.
fn shell_args(editor: &str, path: &Path) -> Vec<String> {
    vec![
        "-c".to_string(),
        format!("{editor} \"$@\""),
        editor.to_string(),
        path.to_string_lossy().into_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_is_an_argument_never_shell_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("it's $(touch pwned) list");
        std::fs::write(&path, "run T1\n").unwrap();
        // An editor with arguments of its own, as core.editor may hold.
        open("sed -i -e s/run/skip/", &path, dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "skip T1\n");
        assert!(!dir.path().join("pwned").exists());
        open(":", &path, dir.path()).unwrap();
        let e = open("false", &path, dir.path()).unwrap_err();
        assert_eq!(
            e.message(),
            "the editor false exited with code 1; nothing changed"
        );
    }
}
