//! A private tmux server for the tests of terminal prompts: a command in a
//! pane of a known size, its screen read back, keys sent to it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::TestRepo;

/// A private tmux server (its own socket, no user config) running one
/// command in a 120x40 pane; the server is killed on drop.
pub struct Tmux {
    socket: PathBuf,
    _dir: assert_fs::TempDir,
}

pub fn tmux_installed() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Tmux {
    /// Start `argv` in `cwd` with exactly the environment `env` (tmux does
    /// not pass the test's environment to a new session's command, so it is
    /// spelled out with `env -i`). The pane stays after the command exits
    /// and shows `[exit N]`.
    pub fn start(cwd: &Path, env: &[(String, String)], argv: &[&str]) -> Tmux {
        let dir = assert_fs::TempDir::new().unwrap();
        let socket = dir.path().join("sock");
        let mut cmd = vec!["env".to_string(), "-i".to_string()];
        cmd.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.extend(
            [
                "sh",
                "-c",
                r#""$@"; echo "[exit $?]"; exec sleep 600"#,
                "sh",
            ]
            .map(String::from),
        );
        cmd.extend(argv.iter().map(|s| s.to_string()));
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "40",
                "-c",
            ])
            .arg(cwd)
            .arg("--")
            .args(&cmd)
            .env_remove("TMUX")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmux { socket, _dir: dir }
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-S", "-200"])
    }

    /// Wait until the pane shows `text`; panics with the screen after 60 s,
    /// a deadline that only bounds a hang.
    pub fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!("timed out waiting for {text:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// The environment `common::seal` sets, as `KEY=value` pairs, plus PATH, a
/// terminal type and no colour so the screen is plain text. (What seal
/// removes needs no saying: the session starts from `env -i`.)
pub fn sealed_env(t: &TestRepo) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    let mut c = Command::new("env");
    super::seal(&mut c, t.home.path());
    c.env("PATH", path)
        .env("TERM", "xterm-256color")
        .env("NO_COLOR", "1");
    c.get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string())))
        .collect()
}
