//! Every rule, grouped by target. One rule, one file, one name (see CONVENTIONS.md).

pub mod config;
pub mod scanner;
