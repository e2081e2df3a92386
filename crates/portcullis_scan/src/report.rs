//! The result of a scan, as every renderer sees it.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::registry::Severity;

/// A finding after suppressions and baselines: what the user sees.
#[derive(Debug, Clone)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    /// Stable across runs and unrelated edits; used by baselines and SARIF.
    pub fingerprint: String,
}

/// A server found in a configuration, for the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerSummary {
    pub file: String,
    pub client: &'static str,
    pub scope: &'static str,
    pub name: String,
    pub transport: crate::model::Transport,
    pub enabled: bool,
}

/// Everything a scan produced.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub servers: Vec<ServerSummary>,
    pub files_scanned: usize,
    /// Findings hidden by inline comments, settings or the baseline.
    pub suppressed: usize,
    /// Things the user should know that are not findings.
    pub notes: Vec<String>,
}

impl Report {
    /// Whether any finding is at or above `threshold`.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings
            .iter()
            .any(|f| f.diagnostic.severity >= threshold)
    }

    pub fn count_by_severity(&self) -> BTreeMap<Severity, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.diagnostic.severity).or_insert(0) += 1;
        }
        counts
    }
}
