//! Secret detection: provider token formats, credentials in URLs, and high-entropy values under
//! names that say "secret"; plus masking, so no output ever carries a secret whole.
//!
//! The detectors are written from each provider's documented token format. A value that is an
//! interpolation reference (`${VAR}`, `${env:VAR}`, `${input:id}`, `$VAR`, ...) is never a secret.

mod detectors;
mod entropy;
mod interpolation;

pub use detectors::{DETECTORS, Detector};
pub use entropy::shannon_entropy;
pub use interpolation::{is_interpolation, strip_interpolations};

use crate::registry::Confidence;
use crate::span::Span;

/// A secret found in a string value. `span` is relative to the string searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMatch {
    pub span: Span,
    /// What kind of secret, e.g. "GitHub personal access token".
    pub kind: &'static str,
    pub confidence: Confidence,
}

/// Finds secrets in one configuration value. `key` is the name the value is stored under (env
/// variable, header, or the option before it in an argument list), used for the generic check.
pub fn find_secrets(value: &str, key: Option<&str>) -> Vec<SecretMatch> {
    detectors::find(value, key)
}

/// A short masked form for messages: the first and last four characters around an ellipsis
/// (`ghp_A1b2…Q7r8`); shorter secrets show less, down to nothing.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let keep = match chars.len() {
        0..=8 => 0,
        9..=15 => 2,
        _ => 4,
    };
    if keep == 0 {
        return format!("…{}", "*".repeat(chars.len().min(8)));
    }
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}…{tail}")
}

/// The same masking, keeping the byte length so spans into the text stay valid: the middle
/// characters become `*` (one per byte).
pub fn mask_keep_len(secret: &str) -> String {
    let count = secret.chars().count();
    let keep = match count {
        0..=8 => 0,
        9..=15 => 2,
        _ => 4,
    };
    secret
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i < keep || i >= count - keep {
                c.to_string()
            } else {
                "*".repeat(c.len_utf8())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_never_show_the_middle() {
        assert_eq!(
            mask("ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"),
            "ghp_…Q7r8"
        );
        assert_eq!(mask("short"), "…*****");
        let kept = mask_keep_len("ghp_A1b2C3d4E5f6G7h8I9j0");
        assert_eq!(kept.len(), 24);
        assert!(kept.starts_with("ghp_") && kept.ends_with("I9j0") && kept.contains("****"));
    }
}
