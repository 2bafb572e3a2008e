//! Gridward's domain: the types and rules of integrated administrative law enforcement.
//!
//! Nothing here performs IO, awaits, speaks SQL or HTTP. Every rule is a pure function so that it can be
//! tested on its own and reused by every adapter.

pub mod access;
pub mod division;
pub mod evidence;
pub mod org;
pub mod problem;

pub use problem::{Problem, Problems};

/// A civil (business) date, Asia/Shanghai.
pub use jiff::civil::Date;
