//! The terminal held in raw mode for the whole of a question, so that a
//! Ctrl-C is a key the question reads, never a signal between two reads.

/// Standard input (the terminal `ui::can_prompt` found) in raw mode, as
/// dialoguer sets it for each key, output processing kept; the settings
/// before are put back on drop.
pub struct RawMode(libc::termios);

impl RawMode {
    pub fn enter() -> std::io::Result<RawMode> {
        let mut original = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills the termios it is given, or fails.
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, original.as_mut_ptr()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: tcgetattr succeeded, so it is initialised.
        let original = unsafe { original.assume_init() };
        let mut raw = original;
        // SAFETY: cfmakeraw only changes the flags of the termios it is given.
        unsafe { libc::cfmakeraw(&mut raw) };
        raw.c_oflag = original.c_oflag;
        // SAFETY: a termios read from this terminal, with flags changed.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSADRAIN, &raw) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(RawMode(original))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: the settings tcgetattr read from this terminal.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSADRAIN, &self.0) };
    }
}
