//! git-milestone: run a milestone plan's tasks one at a time, with a git
//! checkpoint after each. See ARCHITECTURE.md for how the parts fit.

pub mod agent;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod failure;
pub mod files;
pub mod history;
pub mod hook_install;
pub mod lock;
pub mod milestone;
pub mod plan;
pub mod push;
pub mod repo;
pub mod rollback;
pub mod run;
pub mod runner;
pub mod sequence;
pub mod state;
pub mod ui;

pub use error::{Error, Kind, Result};
