//! Masking secrets in the `source` a snapshot records: the command line or URL the user named.
//!
//! A snapshot is meant to be shared (saved, scanned, attached to a report), so what looks like
//! a credential is replaced by `****`: values of options, `KEY=VALUE` words and URL query
//! parameters whose name says secret, URL passwords, and long random-looking words. It errs on
//! the side of masking; the real values are only ever used to launch or reach the server.

const MASK: &str = "****";

/// Whether a name (option, variable, header, query parameter) says it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.trim_start_matches('-').to_ascii_lowercase();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "apikey",
        "api-key",
        "api_key",
        "auth",
        "credential",
        "private",
        "signature",
        "sig",
        "session",
        "cookie",
        "key",
    ]
    .iter()
    .any(|word| {
        name == *word
            || name.ends_with(&format!("-{word}"))
            || name.ends_with(&format!("_{word}"))
            || name.starts_with(&format!("{word}-"))
            || name.starts_with(&format!("{word}_"))
            || (word.len() > 4 && name.contains(word))
    })
}

/// Whether a word looks like a generated credential: long, no spaces, letters and digits mixed.
fn looks_random(word: &str) -> bool {
    word.len() >= 24
        && !word.contains(['/', '\\', ' '])
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+=~".contains(c))
}

/// A URL with its password and secret-looking query values masked.
pub fn mask_url(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_string();
    };
    let (authority_end, _) = rest
        .char_indices()
        .find(|(_, c)| matches!(c, '/' | '?' | '#'))
        .unwrap_or((rest.len(), ' '));
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:{MASK}@{host}"),
            None if looks_random(userinfo) => format!("{MASK}@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let (path, query_and_fragment) = match tail.find('?') {
        Some(i) => tail.split_at(i),
        None => (tail, ""),
    };
    let query = if let Some(q) = query_and_fragment.strip_prefix('?') {
        let (q, fragment) = match q.find('#') {
            Some(i) => q.split_at(i),
            None => (q, ""),
        };
        let pairs: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if is_secret_name(k) || looks_random(v) => format!("{k}={MASK}"),
                _ => pair.to_string(),
            })
            .collect();
        format!("?{}{fragment}", pairs.join("&"))
    } else {
        String::new()
    };
    format!("{scheme}://{authority}{path}{query}")
}

/// A command line, quoted for a POSIX shell, with secrets masked.
pub fn mask_command(argv: &[String]) -> String {
    let mut out = Vec::with_capacity(argv.len());
    let mut mask_next = false;
    for arg in argv {
        let masked = if mask_next && !arg.starts_with('-') {
            MASK.to_string()
        } else if let Some((name, value)) = arg.split_once('=')
            && !name.contains(['/', ' '])
        {
            if is_secret_name(name) || looks_random(value) {
                format!("{name}={MASK}")
            } else if value.contains("://") {
                format!("{name}={}", mask_url(value))
            } else {
                arg.clone()
            }
        } else if arg.contains("://") {
            mask_url(arg)
        } else if looks_random(arg) {
            MASK.to_string()
        } else {
            arg.clone()
        };
        mask_next = arg.starts_with('-') && !arg.contains('=') && is_secret_name(arg);
        out.push(masked);
    }
    out.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

fn quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,*".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_lines_lose_their_secrets() {
        assert_eq!(
            mask_command(&argv(&[
                "server",
                "--api-key",
                "abc",
                "--token=xyz",
                "GITHUB_TOKEN=ghp_1",
                "--port",
                "8080",
                "ghp_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa",
                "hello world",
            ])),
            "server --api-key **** --token=**** GITHUB_TOKEN=**** --port 8080 **** 'hello world'"
        );
        assert_eq!(
            mask_command(&argv(&[
                "npx",
                "-y",
                "@scope/server-files",
                "/home/me/notes"
            ])),
            "npx -y @scope/server-files /home/me/notes"
        );
    }

    #[test]
    fn urls_lose_passwords_and_secret_parameters() {
        assert_eq!(
            mask_url("https://user:hunter2@example.com/mcp?api_key=abc&x=1#f"),
            "https://user:****@example.com/mcp?api_key=****&x=1#f"
        );
        assert_eq!(
            mask_url("http://127.0.0.1:8080/mcp"),
            "http://127.0.0.1:8080/mcp"
        );
        assert_eq!(
            mask_command(&argv(&["proxy", "--url=https://h/?token=abc"])),
            "proxy '--url=https://h/?token=****'"
        );
    }

    #[test]
    fn secret_names() {
        for name in ["GITHUB_TOKEN", "--api-key", "password", "X-Api-Key", "auth"] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["--port", "PATH", "monkey", "HOME"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
