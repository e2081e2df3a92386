//! Decoding Python string literals into the value the program sees.
//!
//! The taint engine and the rules match on literal values (`"rm -rf"`, `shell=True` prompts,
//! URI templates), so escapes are decoded the way Python does for the common cases. What cannot
//! be decoded without data we do not carry (`\N{NAME}` needs the Unicode name table) or is not a
//! valid escape is kept as written, which is also what Python does for unknown escapes.

/// What the prefix of a string literal (`rb"`, `f'`, `"""`) says about its body.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Prefix {
    pub raw: bool,
    pub bytes: bool,
    /// f-strings and t-strings: holes are interpolations, `{{`/`}}` are braces.
    pub template: bool,
}

impl Prefix {
    /// Reads the prefix from the text of a `string_start` node (`rb'`, `f"""`).
    pub fn parse(start: &str) -> Prefix {
        let mut prefix = Prefix::default();
        for c in start.chars().take_while(|c| *c != '\'' && *c != '"') {
            match c.to_ascii_lowercase() {
                'r' => prefix.raw = true,
                'b' => prefix.bytes = true,
                'f' | 't' => prefix.template = true,
                _ => {}
            }
        }
        prefix
    }
}

/// Decodes one escape sequence as tree-sitter delimits it (`\n`, `\x41`, `\u00e9`, `\N{...}`,
/// `\<newline>`), appending the result to `out`.
pub(super) fn push_escape(escape: &str, bytes: bool, out: &mut String) {
    let Some(body) = escape.strip_prefix('\\') else {
        out.push_str(escape);
        return;
    };
    let mut chars = body.chars();
    let Some(first) = chars.next() else {
        out.push_str(escape);
        return;
    };
    let simple = match first {
        '\n' | '\r' => Some(None), // line continuation inside the literal: nothing
        '\\' => Some(Some('\\')),
        '\'' => Some(Some('\'')),
        '"' => Some(Some('"')),
        'a' => Some(Some('\x07')),
        'b' => Some(Some('\x08')),
        'f' => Some(Some('\x0c')),
        'n' => Some(Some('\n')),
        'r' => Some(Some('\r')),
        't' => Some(Some('\t')),
        'v' => Some(Some('\x0b')),
        _ => None,
    };
    if let Some(decoded) = simple {
        out.extend(decoded);
        return;
    }
    let code = match first {
        'x' => u32::from_str_radix(chars.as_str(), 16).ok(),
        'u' | 'U' if !bytes => u32::from_str_radix(chars.as_str(), 16).ok(),
        '0'..='7' => u32::from_str_radix(body, 8).ok(),
        _ => None,
    };
    // Bytes decode as Latin-1 so each byte stays one character.
    match code.and_then(char::from_u32) {
        Some(c) => out.push(c),
        None => out.push_str(escape),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(escape: &str, bytes: bool) -> String {
        let mut out = String::new();
        push_escape(escape, bytes, &mut out);
        out
    }

    #[test]
    fn escapes() {
        assert_eq!(decode("\\n", false), "\n");
        assert_eq!(decode("\\x41", false), "A");
        assert_eq!(decode("\\u00e9", false), "é");
        assert_eq!(decode("\\U0001F600", false), "😀");
        assert_eq!(decode("\\u00e9", true), "\\u00e9");
        assert_eq!(decode("\\101", false), "A");
        assert_eq!(decode("\\N{BULLET}", false), "\\N{BULLET}");
        assert_eq!(decode("\\\n", false), "");
        assert_eq!(decode("\\ud800", false), "\\ud800");
    }

    #[test]
    fn prefixes() {
        let p = Prefix::parse("Rb'");
        assert!(p.raw && p.bytes && !p.template);
        let p = Prefix::parse("f\"\"\"");
        assert!(p.template && !p.raw);
    }
}
