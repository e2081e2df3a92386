//! Secret detection: provider token formats, credentials in URLs, and high-entropy values under
//! names that say "secret"; plus masking, so no output ever carries a secret whole.
//!
//! Three checks run over each value, most specific first, and a span claimed by one is never
//! reported again by a later one:
//! 1. `detectors`: known formats (`ghp_...`, `sk-ant-...`, `AKIA...`, PEM private keys, ...),
//!    written from each provider's documented token format;
//! 2. `url_credentials`: the password of `scheme://user:password@host` and credential-named
//!    query parameters;
//! 3. `generic`: a random-looking value under a secret-sounding name (`API_KEY`, `--token`,
//!    `Authorization`).
//!
//! A value that is `NAME=VALUE`, `--option=VALUE` or `Header: VALUE` is also judged as VALUE
//! stored under NAME, so `docker -e AWS_SECRET_ACCESS_KEY=...` and `--api-key=...` arguments
//! are covered. A value that is an interpolation reference (`${VAR}`, `${env:VAR}`,
//! `${input:id}`, `$VAR`, ...) is never a secret.
//!
//! The trade-off: every check prefers silence to noise on placeholders and templates, since a
//! rule that cries wolf on `your_api_key_here` gets turned off. Detection is linear in the
//! length of the value (regex and Aho-Corasick guarantee it; the hand-written parts are single
//! passes), so hostile or huge values cost time proportional to their size, never more.

mod detectors;
mod entropy;
mod generic;
mod interpolation;
mod keys;
mod placeholder;
mod url_credentials;

#[cfg(test)]
mod testdata;

use std::collections::BTreeMap;

pub use detectors::{DETECTORS, Detector, provider_count};
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
/// variable, header, or the option before it in an argument list), used for the checks that
/// depend on it. The matches are sorted by start and never overlap.
pub fn find_secrets(value: &str, key: Option<&str>) -> Vec<SecretMatch> {
    // Lower rank wins an overlap: known formats, then URL credentials, then the generic check.
    let mut found: Vec<(u8, SecretMatch)> = Vec::new();
    found.extend(detectors::find(value, key).into_iter().map(|m| (0, m)));
    found.extend(url_credentials::find(value).into_iter().map(|m| (1, m)));
    // `--flag=...` is an option, not a value stored under the outer key.
    if !value.starts_with('-') {
        found.extend(generic::find(value, key).map(|m| (2, m)));
    }
    if let Some((name, offset)) = keys::split_assignment(value) {
        let rest = &value[offset..];
        let shift = |m: SecretMatch| SecretMatch {
            span: Span::new(m.span.start + offset, m.span.end + offset),
            ..m
        };
        found.extend(
            detectors::find_keyed(rest, Some(name))
                .into_iter()
                .map(|m| (0, shift(m))),
        );
        found.extend(generic::find(rest, Some(name)).map(|m| (2, shift(m))));
    }
    resolve(found)
}

/// Keeps the best of overlapping matches: by rank, then confidence, then length, then order
/// found (the sort is stable). Kept spans live in a map by start, so each check is a lookup:
/// since kept spans never overlap, the one starting last before `end` is the only candidate.
fn resolve(mut found: Vec<(u8, SecretMatch)>) -> Vec<SecretMatch> {
    found.sort_by(|(ra, a), (rb, b)| {
        ra.cmp(rb)
            .then(b.confidence.cmp(&a.confidence))
            .then(b.span.len().cmp(&a.span.len()))
    });
    let mut kept: BTreeMap<usize, SecretMatch> = BTreeMap::new();
    for (_, m) in found {
        if m.span.is_empty() {
            continue;
        }
        let overlaps = kept
            .range(..m.span.end)
            .next_back()
            .is_some_and(|(_, k)| k.span.end > m.span.start);
        if !overlaps {
            kept.insert(m.span.start, m);
        }
    }
    kept.into_values().collect()
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
    use super::testdata::{Case, Expect, Gen, all_kinds, cases};
    use super::*;

    fn describe(case: &Case) -> String {
        format!("value {:?} under key {:?}", case.value, case.key)
    }

    #[test]
    fn table_of_hits_and_near_misses() {
        let mut failures = Vec::new();
        for case in cases() {
            let got = find_secrets(&case.value, case.key);
            let shown: Vec<_> = got
                .iter()
                .map(|m| (&case.value[m.span.range()], m.kind, m.confidence))
                .collect();
            match &case.expect {
                Expect::Hit {
                    kind,
                    secret,
                    confidence,
                } => {
                    let ok = got.len() == 1
                        && got[0].kind == *kind
                        && &case.value[got[0].span.range()] == secret
                        && got[0].confidence == *confidence;
                    if !ok {
                        failures.push(format!(
                            "expected one {kind} ({confidence:?}) spanning {secret:?} in {}, got {shown:?}",
                            describe(&case)
                        ));
                    }
                }
                Expect::Miss { near } => {
                    if !got.is_empty() {
                        failures.push(format!(
                            "near miss for {near}: expected nothing in {}, got {shown:?}",
                            describe(&case)
                        ));
                    }
                }
                Expect::NotKind { near } => {
                    if got.iter().any(|m| m.kind == *near) {
                        failures.push(format!(
                            "near miss for {near}: expected no {near} in {}, got {shown:?}",
                            describe(&case)
                        ));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn every_kind_has_a_hit_and_a_near_miss() {
        let cases = cases();
        for kind in all_kinds() {
            let hit = cases
                .iter()
                .any(|c| matches!(&c.expect, Expect::Hit { kind: k, .. } if *k == kind));
            let near = cases.iter().any(|c| {
                matches!(&c.expect, Expect::Miss { near } | Expect::NotKind { near } if *near == kind)
            });
            assert!(hit, "no true positive for {kind}");
            assert!(near, "no near miss for {kind}");
        }
        // And no case names a kind that does not exist.
        let kinds = all_kinds();
        for c in &cases {
            let named = match &c.expect {
                Expect::Hit { kind, .. } => kind,
                Expect::Miss { near } | Expect::NotKind { near } => near,
            };
            assert!(kinds.contains(named), "unknown kind {named}");
        }
    }

    #[test]
    fn several_secrets_come_sorted_and_once() {
        let mut g = Gen::new(7);
        let gh = format!("ghp_{}", g.from("abcdefghijkLMNOPQRSTUVWXYZ0123456789", 36));
        let aws = format!("AKIA{}", g.from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
        let value = format!("first {aws} then postgres://u:{gh}@db/x");
        let got = find_secrets(&value, Some("API_TOKEN"));
        let texts: Vec<_> = got.iter().map(|m| &value[m.span.range()]).collect();
        assert_eq!(texts, [aws.as_str(), gh.as_str()]);
        assert_eq!(got[1].kind, "GitHub personal access token");
    }

    #[test]
    fn generic_check_yields_to_known_formats() {
        let token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
        let got = find_secrets(token, Some("GITHUB_TOKEN"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].span, Span::new(0, token.len()));
        let opt = "--api-key=q8Zt3LmW0pRk7VbN2cXyA5sD";
        let got = find_secrets(opt, None);
        assert_eq!(got.len(), 1);
        assert_eq!(&opt[got[0].span.range()], "q8Zt3LmW0pRk7VbN2cXyA5sD");
        assert_eq!(got[0].kind, "secret");
    }

    #[test]
    fn url_password_is_reported_once() {
        // Under a secret-sounding name the generic check would take the whole URL; the URL
        // check claims the password first and the generic check skips URLs.
        let url = "postgresql://app:Zq8-Lw3Rt9xK@db.internal/app";
        let got = find_secrets(url, Some("DATABASE_PASSWORD"));
        assert_eq!(got.len(), 1);
        assert_eq!(&url[got[0].span.range()], "Zq8-Lw3Rt9xK");
        assert_eq!(got[0].kind, "PostgreSQL password");
    }

    #[test]
    fn provider_count_is_at_least_thirty() {
        assert!(provider_count() >= 30, "{}", provider_count());
    }

    /// Checks the output contract on one input: spans in bounds, on character boundaries,
    /// non-empty, sorted and non-overlapping.
    fn check_contract(value: &str, key: Option<&str>) {
        let got = find_secrets(value, key);
        let mut last_end = 0;
        for m in &got {
            assert!(m.span.start < m.span.end, "empty span");
            assert!(m.span.end <= value.len(), "span out of bounds");
            assert!(value.is_char_boundary(m.span.start) && value.is_char_boundary(m.span.end));
            assert!(m.span.start >= last_end, "overlapping or unsorted spans");
            last_end = m.span.end;
        }
    }

    #[test]
    fn never_panics_on_odd_or_huge_input() {
        const KEYS: &[Option<&str>] = &[
            None,
            Some(""),
            Some("API_KEY"),
            Some("--token"),
            Some("AWS_SECRET_ACCESS_KEY"),
            Some("DISCORD_TOKEN"),
            Some("TELEGRAM_BOT_TOKEN"),
            Some("Authorization"),
            Some("ключ_token"),
            Some("🔑"),
        ];
        let big = 100_000;
        let fixed = [
            String::new(),
            "\0".into(),
            "é".repeat(40),
            "ghp_".to_string() + &"é".repeat(36),
            "\u{202e}ghp_\u{200b}token\u{0301}".into(),
            "🦀".repeat(1000),
            "a".repeat(big),
            "ghp_".repeat(big / 4),
            "://".repeat(big / 3),
            "a://b:c@".repeat(big / 8),
            "eyJ.".repeat(big / 4),
            format!("-----BEGIN PRIVATE KEY-----{}", "A".repeat(big)),
            "Password=;".repeat(big / 10),
            "?token=aaaaaaaaaaa&".repeat(big / 20),
            "Q~".repeat(big / 2),
            "${".repeat(big / 2),
            "--a=".repeat(big / 4),
            "X: ".repeat(big / 3),
            "-".repeat(big),
        ];
        for v in &fixed {
            for key in KEYS {
                check_contract(v, *key);
            }
        }
        // Random concatenations of the pieces the checks look for.
        let pieces = [
            "ghp_",
            "sk-ant-api03-",
            "://",
            "@",
            ":",
            "=",
            "?",
            "&",
            "#",
            ";",
            "Bearer ",
            "é",
            "💥",
            "\u{202e}",
            "A",
            "z",
            "0",
            "-",
            "_",
            ".",
            "~",
            "8Q~",
            "eyJ",
            "-----BEGIN ",
            "PRIVATE KEY-----",
            "-----END",
            "${",
            "}",
            " ",
            "\n",
            "\\",
            "Password=",
            "AccountKey=",
            "xoxb-1-",
            "AKIA",
            "hooks.slack.com/services/T",
            "<",
            ">",
            "%",
        ];
        let mut g = Gen::new(99);
        for _ in 0..3000 {
            let n = (g.next() % 80) as usize;
            let value: String = (0..n)
                .map(|_| pieces[(g.next() % pieces.len() as u64) as usize])
                .collect();
            let key = KEYS[(g.next() % KEYS.len() as u64) as usize];
            check_contract(&value, key);
        }
    }

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
