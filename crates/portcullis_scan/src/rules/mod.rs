//! Every rule, grouped by target. One rule, one file, one name (see CONVENTIONS.md).

pub mod code;
pub mod config;
pub mod scanner;
pub mod supply;
pub mod tools;
