//! Values that stand in for a secret: `your_api_key_here`, `<token>`, `changeme`, `sk-...`,
//! `xxxxxxxx`, `****`. Documentation and templates are full of them, and reporting one as a leak
//! is the quickest way to teach users to ignore the rule.
//!
//! The trade-off: the markers are substrings, so a real secret that happened to contain
//! `example` or `your_` would be missed. For random tokens the odds are negligible (a 40-char
//! base62 token contains a given 7-letter word with probability below 10^-10); for hand-picked
//! passwords the miss is the right call more often than not.

/// Whole values (lower-case) that are placeholders, not passwords.
const EXACT: &[&str] = &[
    "password",
    "pass",
    "passwd",
    "pwd",
    "secret",
    "token",
    "key",
    "apikey",
    "api_key",
    "api-key",
    "changeme",
    "changeit",
    "change_me",
    "change-me",
    "letmein",
    "todo",
    "tbd",
    "fixme",
    "none",
    "null",
    "nil",
    "undefined",
    "empty",
    "default",
    "redacted",
    "hidden",
    "masked",
    "test",
    "dummy",
    "example",
    "sample",
    "placeholder",
    "foo",
    "bar",
    "foobar",
    "mypassword",
    "my-password",
    "my_password",
    "yourpassword",
];

/// Substrings (lower-case) that mark a template value.
const MARKERS: &[&str] = &[
    "your_",
    "your-",
    "your ",
    "_here",
    "-here",
    "example",
    "placeholder",
    "replace_me",
    "replace-me",
    "replaceme",
    "changeme",
    "change_me",
    "change-me",
    "insert_",
    "insert-",
    "dummy",
    "redacted",
    "xxxxx",
    "*****",
    "...",
    "…",
    "<",
    ">",
    "{{",
];

/// Whether `s` is a placeholder rather than a credential.
pub fn is_placeholder(s: &str) -> bool {
    let t = s.trim().trim_matches(|c| c == '"' || c == '\'');
    if t.is_empty() {
        return true;
    }
    let lower = t.to_lowercase();
    if EXACT.contains(&lower.as_str()) || lower.starts_with("your") {
        return true;
    }
    if MARKERS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    let wrapped = |open: char, close: char| t.starts_with(open) && t.ends_with(close);
    if wrapped('[', ']') || wrapped('{', '}') {
        return true;
    }
    // One character repeated (`aaaaaaaa`, `00000000`), or mostly masking characters
    // (`ghp_xxxxxxxxxxxxxxxx`, `sk-********`).
    let mut chars = t.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return true;
    }
    let total = t.chars().count();
    let masking = t
        .chars()
        .filter(|c| matches!(c, 'x' | 'X' | '*' | '•' | '#' | '.'))
        .count();
    masking * 2 >= total
}

/// Whether `s` reads as words (`MyCustomTokenProvider`, `client_credentials`,
/// `service-account`) rather than random characters: ASCII, no digits, and every piece between
/// separators and camelCase humps has 2 to 15 letters, a vowel, and no run of more than four
/// consonants. Random strings fail this almost always (a single-letter piece or a long
/// consonant run is enough); names of things pass.
pub fn looks_like_words(s: &str) -> bool {
    if s.is_empty() || !s.is_ascii() || s.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut pieces: Vec<&str> = Vec::new();
    for part in s.split(|c: char| !c.is_ascii_alphabetic()) {
        let mut start = 0;
        let bytes = part.as_bytes();
        for i in 1..bytes.len() {
            if bytes[i].is_ascii_uppercase() && bytes[i - 1].is_ascii_lowercase() {
                pieces.push(&part[start..i]);
                start = i;
            }
        }
        if start < part.len() {
            pieces.push(&part[start..]);
        }
    }
    !pieces.is_empty() && pieces.iter().all(|p| is_word(p))
}

fn is_word(piece: &str) -> bool {
    let vowel = |b: u8| {
        matches!(
            b.to_ascii_lowercase(),
            b'a' | b'e' | b'i' | b'o' | b'u' | b'y'
        )
    };
    let mut run = 0;
    let mut longest_run = 0;
    for b in piece.bytes() {
        run = if vowel(b) { 0 } else { run + 1 };
        longest_run = longest_run.max(run);
    }
    (2..=15).contains(&piece.len()) && piece.bytes().any(vowel) && longest_run <= 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_placeholders() {
        for p in [
            "your_api_key_here",
            "YOUR_TOKEN",
            "xxxxxxxx",
            "XXXXXXXXXXXXXXXXXXXX",
            "<token>",
            "<password>",
            "changeme",
            "CHANGEME",
            "sk-...",
            "sk-…",
            "aaaaaaaaaaaaaaaaaaaa",
            "REPLACE_ME",
            "TODO",
            "****",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "your-password",
            "password",
            "pass",
            "{{ api_key }}",
            "[API_KEY]",
            "put-your-token-here",
            "",
            "  ",
        ] {
            assert!(is_placeholder(p), "{p:?}");
        }
    }

    #[test]
    fn keeps_real_looking_values() {
        for v in [
            "q8Zt3LmW0pRk7VbN2cXy",
            "hunter2hunter2",
            "S3cure-Passw0rd!",
            "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
        ] {
            assert!(!is_placeholder(v), "{v}");
        }
    }

    #[test]
    fn words_versus_random() {
        for w in [
            "MyCustomTokenProvider",
            "client_credentials",
            "service-account",
            "authorization_code",
        ] {
            assert!(looks_like_words(w), "{w}");
        }
        for r in [
            "qZxWvTrPlmKjHgFdSaBn",
            "q8Zt3LmW0pRk7VbN2cXy",
            "",
            "pwdstrngthxyzq",
        ] {
            assert!(!looks_like_words(r), "{r}");
        }
    }
}
