//! Git config keys and environment variables, as named constants, and the
//! one place that resolves flag > environment > git config > default.

/// git config key for the runner command.
pub const RUNNER_KEY: &str = "milestone.runner";
/// Environment variable for the runner command.
pub const RUNNER_ENV: &str = "GIT_MILESTONE_RUNNER";
/// git config key for the failure policy without a terminal.
pub const ON_FAILURE_KEY: &str = "milestone.onFailure";
