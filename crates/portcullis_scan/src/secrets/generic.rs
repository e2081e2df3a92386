//! The generic check: a random-looking value stored under a name that says "secret"
//! (`API_KEY`, `Authorization`, `--token`) is reported even when its format is unknown.
//!
//! The trade-off is recall against noise. The name carries most of the evidence, so the value
//! only has to look random: 16+ characters, no whitespace, Shannon entropy of at least 3.5 bits
//! per character. Everything else that commonly sits under such names is excluded first:
//! interpolation references, paths, URLs (their credentials are judged by the URL check),
//! placeholders, and word-like values such as `client_credentials`.
//!
//! A bare UUID is reported only under a name saying secret, token, password or key, and then
//! with low confidence: services do use UUIDs as API keys, but a UUID under `AUTH_*` or
//! `*_CREDENTIAL` is far more often an identifier (a tenant, client or workspace id).

use super::{SecretMatch, entropy, interpolation, keys, placeholder};
use crate::registry::Confidence;
use crate::span::Span;

/// The kind reported by this check.
pub const KIND: &str = "secret";

/// Shortest value judged; shorter high-entropy strings are too often ids or hashes.
const MIN_LEN: usize = 16;
/// Minimum Shannon entropy, bits per character.
const MIN_ENTROPY: f64 = 3.5;

/// Authorization schemes stripped before judging: `Bearer abc...` is judged as `abc...`.
const SCHEMES: &[&str] = &["bearer ", "basic ", "token ", "bot "];

/// File extensions that make a value a file name rather than a secret.
const FILE_EXTENSIONS: &[&str] = &[
    "json", "pem", "key", "p12", "pfx", "crt", "cer", "der", "txt", "env", "yaml", "yml", "toml",
    "ini", "conf", "cfg", "gpg", "asc", "jks",
];

/// Judges `value` as a whole, stored under `key`.
pub(super) fn find(value: &str, key: Option<&str>) -> Option<SecretMatch> {
    let key = key?;
    if !keys::is_secret_name(key) {
        return None;
    }
    let (start, secret) = strip_scheme(value);
    let confidence = judge(secret, key)?;
    Some(SecretMatch {
        span: Span::new(start, start + secret.len()),
        kind: KIND,
        confidence,
    })
}

/// The value without surrounding whitespace and a leading authorization scheme, and where
/// that remainder starts.
fn strip_scheme(value: &str) -> (usize, &str) {
    let mut rest = value.trim_start();
    for scheme in SCHEMES {
        if rest
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
        {
            rest = rest[scheme.len()..].trim_start();
            break;
        }
    }
    let start = value.len() - rest.len();
    (start, rest.trim_end())
}

fn judge(v: &str, key: &str) -> Option<Confidence> {
    if v.chars().count() < MIN_LEN || v.chars().any(char::is_whitespace) {
        return None;
    }
    if interpolation::contains_reference(v)
        || v.contains("://")
        || is_path(v)
        || placeholder::is_placeholder(v)
    {
        return None;
    }
    if is_uuid(v) {
        return keys::is_uuid_secret_name(key).then_some(Confidence::Low);
    }
    if entropy::shannon_entropy(v) < MIN_ENTROPY || placeholder::looks_like_words(v) {
        return None;
    }
    Some(Confidence::Medium)
}

/// Absolute, home-relative and relative paths, Windows paths, and file names with a
/// known extension.
fn is_path(v: &str) -> bool {
    let b = v.as_bytes();
    if v.starts_with(['/', '~', '\\']) || v.starts_with("./") || v.starts_with("../") {
        return true;
    }
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/') {
        return true;
    }
    if let Some((_, ext)) = v.rsplit_once('.')
        && FILE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
    {
        return true;
    }
    // Separator-heavy: more than one in eight characters. Base64 secrets contain `/` too, but
    // rarely this many.
    let separators = b.iter().filter(|&&c| c == b'/' || c == b'\\').count();
    separators * 8 > b.len()
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits.
fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_schemes() {
        assert_eq!(strip_scheme("Bearer abc"), (7, "abc"));
        assert_eq!(strip_scheme("  token   abc  "), (10, "abc"));
        assert_eq!(strip_scheme("Bearerabc"), (0, "Bearerabc"));
        assert_eq!(strip_scheme("é"), (0, "é"));
    }

    #[test]
    fn paths() {
        for p in [
            "/home/me/.config/token",
            "~/.secrets/key",
            "./token.txt",
            "C:\\Users\\me\\token",
            "service-account.json",
            "a/b/c/d/e/f",
        ] {
            assert!(is_path(p), "{p}");
        }
        assert!(!is_path("q8Zt3LmW0p/Rk7VbN2cXy+Aa"));
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-42661417400"));
        assert!(!is_uuid("123e4567e89b12d3a456426614174000abcd"));
    }
}
