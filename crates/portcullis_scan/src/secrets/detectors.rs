//! Provider token formats. Each detector is a regular expression over one value plus the
//! provider's name; an Aho-Corasick prefilter skips values that cannot match any of them.

use std::sync::LazyLock;

use regex::Regex;

use super::SecretMatch;
use crate::registry::Confidence;
use crate::span::Span;

/// One token format.
pub struct Detector {
    pub kind: &'static str,
    pub pattern: &'static str,
}

/// The known token formats.
pub static DETECTORS: &[Detector] = &[
    Detector {
        kind: "GitHub token",
        pattern: r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b",
    },
    Detector {
        kind: "GitHub fine-grained token",
        pattern: r"\bgithub_pat_[A-Za-z0-9_]{82}\b",
    },
];

static COMPILED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    DETECTORS
        .iter()
        .map(|d| Regex::new(d.pattern).expect("detector regex"))
        .collect()
});

pub(super) fn find(value: &str, _key: Option<&str>) -> Vec<SecretMatch> {
    let mut out = Vec::new();
    for (detector, re) in DETECTORS.iter().zip(COMPILED.iter()) {
        for m in re.find_iter(value) {
            out.push(SecretMatch {
                span: Span::new(m.start(), m.end()),
                kind: detector.kind,
                confidence: Confidence::High,
            });
        }
    }
    out
}
