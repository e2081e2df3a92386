//! What the name a value is stored under says about it: env variable names, header names, and
//! command-line options (`--api-key`), plus splitting `NAME=VALUE` / `--opt=VALUE` /
//! `Header: value` strings into the name and the value.
//!
//! The trade-off: a name is a strong hint but not proof. Matching by substring (`token`,
//! `secret`, ...) catches `GITHUB_PERSONAL_ACCESS_TOKEN` and `accessToken` alike, and also
//! `TOKEN_FILE` or `MAX_TOKENS`; names whose last word says the value is a path, an id, a URL, a
//! count or a kind are therefore excluded.
use crate::text::words;

/// Fragments of a (flattened, lower-case) name that say the value is a credential.
const SECRET_FRAGMENTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "apikey",
    "accesskey",
    "privatekey",
    "auth",
    "credential",
    "bearer",
];

/// Last words that make a secret-sounding name describe something else: `TOKEN_FILE`,
/// `CLIENT_ID`, `AUTH_URL`, `MAX_TOKENS`, `AUTH_TYPE`, `PASSWORD_ENV_VAR`.
const NOT_SECRET_LAST_WORDS: &[&str] = &[
    "id",
    "ids",
    "file",
    "files",
    "path",
    "dir",
    "directory",
    "url",
    "uri",
    "endpoint",
    "host",
    "hostname",
    "port",
    "type",
    "mode",
    "method",
    "provider",
    "name",
    "names",
    "scheme",
    "scope",
    "scopes",
    "env",
    "var",
    "variable",
    "enabled",
    "enable",
    "disabled",
    "required",
    "expiry",
    "expires",
    "expiration",
    "ttl",
    "timeout",
    "length",
    "len",
    "count",
    "size",
    "format",
    "location",
    "region",
    "user",
    "username",
    "email",
    "issuer",
    "audience",
    "realm",
    "domain",
    "version",
    "strategy",
    "kind",
    "source",
    "command",
    "cmd",
    "helper",
    "keyring",
    "tokens",
    "tokenizer",
    "limit",
    "max",
    "budget",
    "flow",
    "prefix",
    "hint",
    "label",
    "description",
    "title",
];

/// Lower case, without the leading dashes of an option and with `-`, `.` and spaces as `_`:
/// `--API-Key` and `api.key` both become `api_key`.
pub(super) fn normalize(key: &str) -> String {
    key.trim()
        .trim_start_matches('-')
        .chars()
        .map(|c| match c {
            '-' | '.' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether the name's last word says the value is not itself a secret (`TOKEN_FILE`).
pub(super) fn names_something_else(key: &str) -> bool {
    words(key)
        .last()
        .is_some_and(|w| NOT_SECRET_LAST_WORDS.contains(&w.as_str()))
}

/// Whether a value stored under `key` is presumably a credential.
pub(super) fn is_secret_name(key: &str) -> bool {
    if names_something_else(key) {
        return false;
    }
    let flat: String = normalize(key).chars().filter(|&c| c != '_').collect();
    SECRET_FRAGMENTS.iter().any(|f| flat.contains(f))
}

/// Whether the name is specific enough that a bare UUID under it is a credential: it says
/// secret, token, password or key. `auth` or `credential` alone is not enough, since
/// `OAUTH_CLIENT`-style names often hold an identifier.
pub(super) fn is_uuid_secret_name(key: &str) -> bool {
    if !is_secret_name(key) {
        return false;
    }
    let flat: String = normalize(key).chars().filter(|&c| c != '_').collect();
    ["secret", "token", "password", "passwd", "pwd", "key"]
        .iter()
        .any(|f| flat.contains(f))
}

/// Splits an inline assignment into its name and the byte offset of its value:
/// `--api-key=VALUE`, `-t=VALUE`, `API_KEY=VALUE` (as in `docker run -e`), and
/// `X-API-Key: VALUE` (as in `--header`). `None` for anything else, including URLs.
pub(super) fn split_assignment(value: &str) -> Option<(&str, usize)> {
    let bytes = value.as_bytes();
    let dashes = bytes.iter().take_while(|&&b| b == b'-').count();
    if dashes > 2 {
        return None;
    }
    let name_start = dashes;
    let first = *bytes.get(name_start)?;
    if !(first.is_ascii_alphabetic() || (first == b'_' && dashes == 0)) {
        return None;
    }
    let name_len = bytes[name_start..]
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    let name_end = name_start + name_len;
    let name = &value[..name_end];
    match bytes.get(name_end) {
        Some(b'=') => {
            let rest = name_end + 1;
            (rest < value.len()).then_some((name, rest))
        }
        // A header: `Name: value`. Not `scheme://`, and not an option (`--x: y` is no header).
        Some(b':') if dashes == 0 && !value[name_end..].starts_with("://") => {
            let after = &value[name_end + 1..];
            let rest = value.len() - after.trim_start().len();
            (rest < value.len()).then_some((name, rest))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for k in [
            "GITHUB_PERSONAL_ACCESS_TOKEN",
            "accessToken",
            "api_key",
            "apiKey",
            "API-KEY",
            "--api-key",
            "X-API-Key",
            "Authorization",
            "Proxy-Authorization",
            "CLIENT_SECRET",
            "DB_PASSWORD",
            "PGPASSWORD",
            "aws_access_key",
            "PRIVATE_KEY",
            "credentials",
            "bearer",
            "--token",
        ] {
            assert!(is_secret_name(k), "{k}");
        }
        for k in [
            "TOKEN_FILE",
            "CLIENT_ID",
            "OAUTH_CLIENT_ID",
            "AUTH_URL",
            "max_tokens",
            "AUTH_TYPE",
            "PASSWORD_ENV_VAR",
            "command",
            "args",
            "OPENAI_KEY",
            "DESCRIPTION",
        ] {
            assert!(!is_secret_name(k), "{k}");
        }
    }

    #[test]
    fn uuid_names_must_say_secret_token_password_or_key() {
        assert!(is_uuid_secret_name("API_KEY"));
        assert!(is_uuid_secret_name("SESSION_TOKEN"));
        assert!(!is_uuid_secret_name("AUTH"));
        assert!(!is_uuid_secret_name("CREDENTIAL"));
        assert!(!is_uuid_secret_name("CLIENT_ID"));
    }

    #[test]
    fn words_split_camel_case_and_separators() {
        assert_eq!(words("accessTokenFile"), ["access", "token", "file"]);
        assert_eq!(words("X-API-Key"), ["x", "api", "key"]);
        assert_eq!(words("--max_tokens"), ["max", "tokens"]);
    }

    #[test]
    fn splits_assignments() {
        assert_eq!(split_assignment("--api-key=abc"), Some(("--api-key", 10)));
        assert_eq!(split_assignment("-t=abc"), Some(("-t", 3)));
        assert_eq!(split_assignment("API_KEY=abc"), Some(("API_KEY", 8)));
        assert_eq!(
            split_assignment("Authorization: Bearer x"),
            Some(("Authorization", 15))
        );
        assert_eq!(split_assignment("https://host"), None);
        assert_eq!(split_assignment("--flag"), None);
        assert_eq!(split_assignment("KEY="), None);
        assert_eq!(split_assignment("=x"), None);
        assert_eq!(split_assignment("---x=y"), None);
        assert_eq!(split_assignment("é=x"), None);
        assert_eq!(split_assignment(""), None);
    }
}
