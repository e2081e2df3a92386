//! The taint engine: language-neutral data flow over the IR.
//!
//! Each function is analysed on its own with its parameters as symbolic sources, producing a
//! summary: which parameter reaches which sink (or broken check), and what flows to its return
//! value. Calls to functions of the same project apply the callee's summary, so flows cross
//! helpers and files. Summaries are recomputed in rounds until nothing changes (bounded), each
//! round in parallel. Handler parameters are then the real sources: a handler's summary hit on a
//! tainted parameter is a finding, with the whole trace.
//!
//! Trade-offs: the analysis is flow-sensitive within a function (assignments replace, branches
//! merge, a branch that returns or raises does not reach what follows), field-sensitive for
//! dotted names, and context-insensitive across calls. Unknown calls pass taint through, which
//! favours finding over silence; known-opaque calls (`len`, `startswith`) stop it.

mod analyze;
mod label;
mod project;
mod shape;

pub use label::{Flags, Label, Labels, Origin, Step};
pub use project::{Finding, FindingKind, Project, analyze_project};

use crate::code::catalog::{SinkKind, SourceKind};
use crate::span::Span;

/// Whether a variable or keyword name says it holds a credential (`GITHUB_TOKEN`, `api_key`,
/// `DATABASE_URL`, whose URL carries the password).
pub(crate) fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSW",
        "CREDENTIAL",
        "AUTH",
        "DATABASE_URL",
        "DB_URL",
        "DSN",
        "CONNECTION_STRING",
        "MONGODB_URI",
        "MONGO_URI",
        "REDIS_URL",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

/// Checks that look like sanitizers but are not enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Broken {
    /// `resolved.startswith(base)` without a trailing separator: `/base-evil` passes.
    PrefixBypass,
    /// Containment checked on `abspath`/`normpath`, which do not resolve links.
    SymlinkEscape,
    /// `".." in path` alone: absolute paths pass.
    DotDotOnly,
    /// A command allowlist that checks only how the string starts, before a shell.
    ShellPrefixAllowlist,
    /// Hand-made escaping of some shell metacharacters.
    PartialShellEscape,
    /// A host blocklist checked without resolving the name.
    BlocklistWithoutDns,
}

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HitKind {
    Sink(SinkKind),
    Broken(Broken),
    /// Sensitive or untrusted data returned to the model.
    Exposure(SourceKind),
    /// A whole file of a model-chosen path read with no size bound.
    UnboundedRead,
}

/// A place where tainted data does harm (or passes a weak check), in some module.
#[derive(Debug, Clone)]
pub struct Hit {
    pub kind: HitKind,
    pub module: usize,
    pub span: Span,
    /// The callee or check, for messages (`subprocess.run`, `startswith`).
    pub what: String,
    pub labels: Labels,
    /// The releases of the sink's library that are safe, when that depends on the release.
    pub fixed: Option<&'static crate::code::catalog::Fixed>,
}
