//! Credentials inside URLs: the password of `scheme://user:password@host` (database URLs get
//! a kind naming the database) and credential-named query parameters (`?api_key=...`).
//!
//! The trade-off: URLs are located with a regex and split by hand on the raw text instead of
//! being parsed with the `url` crate, because a parser normalises and percent-decodes, and the
//! span reported must point at the exact bytes in the file. Only the password or the parameter
//! value is reported, never the whole URL, so the message can still show the host.

use std::sync::LazyLock;

use regex::Regex;

use super::{SecretMatch, interpolation, placeholder};
use crate::registry::Confidence;
use crate::span::Span;

/// Kind for the password of a URL whose scheme names no database.
pub const PASSWORD_IN_URL: &str = "password in URL";
/// Kind for a credential-named query (or fragment) parameter.
pub const CREDENTIAL_IN_QUERY: &str = "credential in URL query";

/// Database schemes and the kind their password is reported as.
const DATABASES: &[(&[&str], &str)] = &[
    (&["postgres", "postgresql"], "PostgreSQL password"),
    (&["mysql", "mariadb"], "MySQL password"),
    (&["mongodb", "mongodb+srv"], "MongoDB password"),
    (&["redis", "rediss"], "Redis password"),
    (&["amqp", "amqps"], "AMQP password"),
    (&["mssql", "sqlserver"], "SQL Server password"),
];

/// Every kind this module reports, for the tests' coverage check.
#[cfg(test)]
pub const KINDS: &[&str] = &[
    PASSWORD_IN_URL,
    CREDENTIAL_IN_QUERY,
    "PostgreSQL password",
    "MySQL password",
    "MongoDB password",
    "Redis password",
    "AMQP password",
    "SQL Server password",
];

/// Query parameter names (lower case, `-` and `_` removed) that carry a credential.
const QUERY_NAMES: &[&str] = &[
    "key",
    "sig",
    "auth",
    "pwd",
    "pass",
    "pat",
    "jwt",
    "bearer",
    "appkey",
    "authorization",
    "credential",
    "credentials",
    "subscriptionkey",
];
/// Names that end like a credential's but hold a pagination cursor or an anti-forgery token,
/// which the server hands out and which grants nothing on its own (`pageToken`, `csrf_token`).
const NOT_CREDENTIAL_PREFIXES: &[&str] = &[
    "page",
    "next",
    "continuation",
    "sync",
    "cursor",
    "resume",
    "csrf",
    "xsrf",
];
/// Suffixes of such names: `access_token`, `private_token`, `apiKey`, `client_secret`.
const QUERY_SUFFIXES: &[&str] = &[
    "token",
    "apikey",
    "secret",
    "password",
    "passwd",
    "signature",
    "accesskey",
    "secretkey",
];

/// Minimum length of a query value to be taken for a credential.
const MIN_QUERY_VALUE: usize = 8;

/// `scheme://authority` then path, query and fragment, up to whitespace or a quote.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?-u:\b)([A-Za-z][A-Za-z0-9+.\-]*)://([^\s/?#"']*)([^\s"']*)"#)
        .expect("static regex")
});

/// Credentials in every URL inside `value`.
pub(super) fn find(value: &str) -> Vec<SecretMatch> {
    let mut out = Vec::new();
    if !value.contains("://") {
        return out;
    }
    for caps in URL.captures_iter(value) {
        let (Some(scheme), Some(authority), Some(rest)) = (caps.get(1), caps.get(2), caps.get(3))
        else {
            continue;
        };
        if let Some(m) = password(scheme.as_str(), authority.as_str(), authority.start()) {
            out.push(m);
        }
        query(rest.as_str(), rest.start(), &mut out);
    }
    out
}

/// The password of `user:password@host`, if literal. The userinfo ends at the last `@` of the
/// authority, so an unescaped `@` inside a password stays in the password.
fn password(scheme: &str, authority: &str, offset: usize) -> Option<SecretMatch> {
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let colon = userinfo.find(':')?;
    let (user, password) = (&userinfo[..colon], &userinfo[colon + 1..]);
    if password.is_empty()
        || placeholder::is_placeholder(password)
        || interpolation::contains_reference(password)
    {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let kind = DATABASES
        .iter()
        .find(|(schemes, _)| schemes.contains(&scheme.as_str()))
        .map_or(PASSWORD_IN_URL, |(_, kind)| kind);
    // `postgres:postgres`, `guest:guest`: a default, still a credential but seldom a leak.
    let confidence = if user == password {
        Confidence::Low
    } else {
        Confidence::High
    };
    let start = offset + colon + 1;
    Some(SecretMatch {
        span: Span::new(start, start + password.len()),
        kind,
        confidence,
    })
}

/// Credential-named parameters of the query and the fragment (`#access_token=` in OAuth
/// redirects). `rest` is the URL after its authority; `offset` is where it starts.
fn query(rest: &str, offset: usize, out: &mut Vec<SecretMatch>) {
    let Some(q) = rest.find(['?', '#']) else {
        return;
    };
    let mut pos = q + 1;
    for pair in rest[q + 1..].split(['&', ';', '#']) {
        let pair_start = pos;
        pos += pair.len() + 1;
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        if !is_credential_param(name)
            || value.len() < MIN_QUERY_VALUE
            || placeholder::is_placeholder(value)
            || interpolation::contains_reference(value)
        {
            continue;
        }
        let start = offset + pair_start + name.len() + 1;
        out.push(SecretMatch {
            span: Span::new(start, start + value.len()),
            kind: CREDENTIAL_IN_QUERY,
            confidence: Confidence::Medium,
        });
    }
}

fn is_credential_param(name: &str) -> bool {
    let flat: String = name
        .chars()
        .filter(|&c| c != '-' && c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    QUERY_NAMES.contains(&flat.as_str())
        || (QUERY_SUFFIXES.iter().any(|s| flat.ends_with(s))
            && !NOT_CREDENTIAL_PREFIXES.iter().any(|p| flat.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(value: &str) -> Vec<(&str, &'static str)> {
        find(value)
            .into_iter()
            .map(|m| (&value[m.span.range()], m.kind))
            .collect()
    }

    #[test]
    fn reports_only_the_password() {
        assert_eq!(
            texts("https://alice:Tr0ub4dor-3x@git.internal.test/repo.git"),
            [("Tr0ub4dor-3x", PASSWORD_IN_URL)]
        );
        assert_eq!(
            texts("jdbc:postgresql://app:S9d-kQ2p@db:5432/x"),
            [("S9d-kQ2p", "PostgreSQL password")]
        );
        // The last `@` ends the userinfo.
        assert_eq!(
            texts("redis://:p@ss-W0rd-9@cache:6379"),
            [("p@ss-W0rd-9", "Redis password")]
        );
    }

    #[test]
    fn query_parameters_by_name() {
        assert!(is_credential_param("access_token"));
        assert!(is_credential_param("apiKey"));
        assert!(is_credential_param("X-Api-Key"));
        assert!(is_credential_param("private_token"));
        assert!(is_credential_param("sig"));
        assert!(!is_credential_param("page"));
        assert!(!is_credential_param("keyword"));
        assert!(!is_credential_param("token_type"));
        assert!(!is_credential_param("pageToken"));
        assert!(!is_credential_param("next_page_token"));
        assert!(!is_credential_param("csrf_token"));
        assert!(is_credential_param("subscription-key"));
        assert_eq!(
            texts("https://h.test/sse?page=2&api_key=Q7wE9rT2yU4i#x"),
            [("Q7wE9rT2yU4i", CREDENTIAL_IN_QUERY)]
        );
    }

    #[test]
    fn database_kinds_are_listed() {
        for (schemes, kind) in DATABASES {
            assert!(KINDS.contains(kind), "{kind}");
            let url = format!("{}://u:Zq8-Lw3Rt9@h", schemes[0]);
            assert_eq!(texts(&url), [("Zq8-Lw3Rt9", *kind)]);
        }
    }

    #[test]
    fn odd_urls_do_not_panic() {
        for v in [
            "://",
            "a://",
            "a://@",
            "a://:@",
            "a://?",
            "a://?=",
            "a://h?&&=&",
            "é://ü:ö@ä?ß=ü",
        ] {
            let _ = find(v);
        }
    }
}
