//! Findings: what a rule reports, where, and how sure it is.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::registry::{Confidence, RuleMeta, Severity};
use crate::source::{LineCol, SourceFile};
use crate::span::Span;

/// One step of a trace from a source of danger to where it does harm. Steps may be in other
/// files than the finding (a flow through a helper module).
#[derive(Debug, Clone)]
pub struct TraceStep {
    pub file: Arc<SourceFile>,
    pub span: Span,
    pub message: String,
}

/// A finding, before suppressions and baselines are applied.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static RuleMeta,
    pub severity: Severity,
    pub confidence: Confidence,
    pub file: Arc<SourceFile>,
    pub span: Span,
    /// What is wrong, naming the actual value in backticks (secrets masked).
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The MCP server the finding is about, when there is one.
    pub server: Option<String>,
    /// Related places, in order (for code: source, steps, sink).
    pub trace: Vec<TraceStep>,
}

impl Diagnostic {
    /// A finding of `rule` at `span`, with the rule's default severity and confidence.
    pub fn new(
        rule: &'static RuleMeta,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            rule,
            severity: rule.severity,
            confidence: rule.confidence,
            file: Arc::clone(file),
            span,
            message: message.into(),
            help: None,
            server: None,
            trace: Vec::new(),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_server(mut self, server: impl Into<String>) -> Self {
        self.server = Some(server.into());
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn with_confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    pub fn with_trace(mut self, trace: Vec<TraceStep>) -> Self {
        self.trace = trace;
        self
    }

    pub fn start(&self) -> LineCol {
        self.file.line_col(self.span.start)
    }

    pub fn end(&self) -> LineCol {
        self.file.line_col(self.span.end)
    }

    /// A fingerprint that survives edits elsewhere in the file: the rule, the file, the server
    /// and the (masked) text of the flagged span, plus how many identical ones came before.
    pub fn fingerprint(&self, occurrence: usize) -> String {
        let text = self.file.masked_slice(self.span);
        let mut hasher = Sha256::new();
        for part in [
            self.rule.code,
            &self.file.display,
            self.server.as_deref().unwrap_or(""),
            text.trim(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(occurrence.to_le_bytes());
        let digest = hasher.finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Sort key: file, position, rule.
    pub fn sort_key(&self) -> (String, usize, usize, &'static str) {
        (
            self.file.display.clone(),
            self.span.start,
            self.span.end,
            self.rule.code,
        )
    }
}
