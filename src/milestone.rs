//! Milestone names and keys: how a name is read, compared and turned into
//! the key its directories and refs use. A leaf: `plan` and `state` both
//! use it, and it uses neither.

pub mod names;
