//! Taint labels: where a value came from, what it has been cleaned for, what checks it passed,
//! and the steps it took to get here.

use std::sync::Arc;

use crate::code::catalog::{Cleaned, SinkKind, SourceKind};
use crate::span::Span;

/// Facts about a value's path through the code that decide whether a check was enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Flags(pub u16);

impl Flags {
    /// Passed through `realpath`/`resolve()`: `..` and links resolved.
    pub const RESOLVED: Flags = Flags(1);
    /// Passed through `abspath`/`normpath`: `..` resolved, links not.
    pub const NORMALIZED: Flags = Flags(1 << 1);
    /// Placed inside a larger string (interpolation, concatenation) next to literal text.
    pub const EMBEDDED: Flags = Flags(1 << 2);
    /// Placed after a literal `scheme://host/`: the host is not the value's to choose.
    pub const HOST_FIXED: Flags = Flags(1 << 3);
    /// Checked with `".." in value` alone.
    pub const DOTDOT_CHECKED: Flags = Flags(1 << 4);
    /// Checked to be relative (`not value.startswith("/")`, `not isabs(value)`).
    pub const ABS_CHECKED: Flags = Flags(1 << 5);
    /// Checked by how it starts, without normalising (`cmd.startswith("ls")`, `cmd.split()[0] in ALLOWED`).
    pub const PREFIX_CHECKED: Flags = Flags(1 << 6);
    /// Some metacharacters removed or escaped by hand (`.replace(";", "")`).
    pub const PARTIAL_ESCAPE: Flags = Flags(1 << 7);
    /// Host checked against a blocklist.
    pub const BLOCKLISTED: Flags = Flags(1 << 8);
    /// Host resolved through DNS before use.
    pub const DNS_RESOLVED: Flags = Flags(1 << 9);
    /// Wrapped in text that marks it as data, not instructions.
    pub const MARKED: Flags = Flags(1 << 10);
    /// Checked for length or size.
    pub const SIZE_CHECKED: Flags = Flags(1 << 11);
    /// Passed through something that opens a file (`open`, `Path(...)`): a read of it is a
    /// file read, not a pipe or a socket.
    pub const FILE: Flags = Flags(1 << 12);
    /// The value of the environment variable this value names (`os.environ.get(name)`).
    pub const ENV_LOOKUP: Flags = Flags(1 << 13);
    /// Untrusted content that holds only ids, numbers, states or dates (`SELECT id, status`,
    /// `item["html_url"]`): nothing there can carry instructions.
    pub const STRUCTURED: Flags = Flags(1 << 14);
    /// Checked to be inside a folder after normalising but without resolving links: a link
    /// inside the folder escapes it.
    pub const WEAK_CONTAINED: Flags = Flags(1 << 15);

    pub fn has(self, f: Flags) -> bool {
        self.0 & f.0 == f.0
    }

    pub fn with(self, f: Flags) -> Flags {
        Flags(self.0 | f.0)
    }

    pub fn without(self, f: Flags) -> Flags {
        Flags(self.0 & !f.0)
    }
}

/// Where tainted data entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// Parameter `n` of the function being analysed: resolved by its callers.
    Param(usize),
    /// A source inside the code (a fetched page, the environment, an exception).
    Source(SourceKind),
}

/// One step of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Step {
    /// Index of the module (file) the step is in.
    pub module: usize,
    pub span: Span,
    pub message: String,
}

/// A tainted value's history.
#[derive(Debug, Clone)]
pub struct Label {
    pub origin: Origin,
    pub cleaned: Cleaned,
    pub flags: Flags,
    pub trace: Arc<Vec<Step>>,
    /// The last weak check the value passed (a `..` test, a first-word allowlist, a host
    /// blocklist, hand-made escaping): where such a finding belongs.
    pub check: Option<Step>,
}

impl Label {
    pub fn new(origin: Origin, step: Step) -> Label {
        Label {
            origin,
            cleaned: Cleaned::NONE,
            flags: Flags::default(),
            trace: Arc::new(vec![step]),
            check: None,
        }
    }

    /// The same label with one more step.
    pub fn step(&self, step: Step) -> Label {
        let mut trace = (*self.trace).clone();
        // Long traces say nothing more; keep the start and the end.
        if trace.len() >= 24 {
            trace.remove(1);
        }
        trace.push(step);
        Label {
            trace: Arc::new(trace),
            ..self.clone()
        }
    }

    pub fn key(&self) -> (Origin, Cleaned, Flags) {
        (self.origin, self.cleaned, self.flags)
    }

    pub fn reaches(&self, kind: SinkKind) -> bool {
        !self.cleaned.has(kind)
    }
}

/// A small set of labels, deduplicated by origin, cleaning and flags (the first trace wins,
/// which keeps results deterministic and traces short).
#[derive(Debug, Clone, Default)]
pub struct Labels(pub Vec<Label>);

/// More labels than this on one value add cost, not findings.
const MAX_LABELS: usize = 12;

impl Labels {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn add(&mut self, label: Label) {
        if self.0.len() < MAX_LABELS && !self.0.iter().any(|l| l.key() == label.key()) {
            self.0.push(label);
        }
    }

    pub fn extend(&mut self, other: Labels) {
        for l in other.0 {
            self.add(l);
        }
    }

    pub fn union(mut self, other: Labels) -> Labels {
        self.extend(other);
        self
    }

    pub fn map(self, f: impl Fn(Label) -> Label) -> Labels {
        let mut out = Labels::default();
        for l in self.0 {
            out.add(f(l));
        }
        out
    }

    pub fn with_flags(self, flags: Flags) -> Labels {
        self.map(|l| Label {
            flags: l.flags.with(flags),
            ..l
        })
    }

    pub fn cleaned_for(self, kinds: Cleaned) -> Labels {
        self.map(|l| Label {
            cleaned: l.cleaned.with(kinds),
            ..l
        })
    }

    pub fn step(self, step: &Step) -> Labels {
        self.map(|l| l.step(step.clone()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Label> {
        self.0.iter()
    }
}
