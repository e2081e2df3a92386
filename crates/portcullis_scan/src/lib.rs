//! The portcullis engine: finds MCP client configurations (and, later, server code and tool
//! metadata), parses each file once into a spanned model, runs every rule over it, and renders
//! the findings. Synchronous, no network, parallel with rayon. Libraries never print or exit.

pub mod baseline;
pub mod clients;
pub mod code;
pub mod command;
pub mod container;
pub mod diagnostic;
pub mod discover;
pub mod document;
pub mod load;
pub mod model;
pub mod net;
pub mod registry;
pub mod render;
pub mod report;
pub mod rules;
pub mod scan;
pub mod secrets;
pub mod settings;
pub mod source;
pub mod span;
pub mod supply;
pub mod suppress;
pub mod text;
pub mod tools;

pub use registry::{Confidence, RuleMeta, Severity};
pub use report::{Finding, Report};
pub use scan::{ScanOptions, scan};
