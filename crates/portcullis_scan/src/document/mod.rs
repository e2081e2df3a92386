//! One spanned tree for JSON, JSONC, TOML and YAML documents.
//!
//! Each format has its own parser (chosen because it keeps positions); each is lowered into this
//! tree so that client adapters and rules are written once, whatever the file format. The tree is
//! deliberately small: objects keep member order and key spans, scalars keep their text.

mod json;
mod toml;
mod yaml;

use crate::span::{Span, Spanned};

/// A parsed document value and the span of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number as written; configs only compare or display numbers.
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

/// One key and its value in an object, in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: Spanned<String>,
    pub value: Node,
}

/// The file formats portcullis reads configuration from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON, read leniently as JSONC (comments, trailing commas), as the clients do.
    Json,
    Toml,
    Yaml,
}

impl Format {
    /// The format a file name implies.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "json" | "jsonc" | "json5" => Some(Format::Json),
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }

    /// The comment leaders the format allows, for inline suppressions and fixture annotations.
    pub fn comment_leaders(self) -> &'static [&'static str] {
        match self {
            Format::Json => &["//", "/*"],
            Format::Toml | Format::Yaml => &["#"],
        }
    }
}

/// A document that could not be parsed: the message and where the parser stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

/// Parses `text` in `format` into a spanned tree.
pub fn parse(text: &str, format: Format) -> Result<Node, ParseError> {
    match format {
        Format::Json => json::parse(text),
        Format::Toml => toml::parse(text),
        Format::Yaml => yaml::parse(text),
    }
}

impl Node {
    pub fn new(span: Span, value: Value) -> Self {
        Node { span, value }
    }

    /// The value of `key` if this is an object holding it (the last one wins, as in JSON).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.members()
            .iter()
            .rev()
            .find(|m| m.key.value == key)
            .map(|m| &m.value)
    }

    /// The member for `key`, with its key span.
    pub fn member(&self, key: &str) -> Option<&Member> {
        self.members().iter().rev().find(|m| m.key.value == key)
    }

    /// Follows a path of object keys.
    pub fn pointer(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn members(&self) -> &[Member] {
        match &self.value {
            Value::Object(m) => m,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Array(items) => items,
            _ => &[],
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.value, Value::Object(_))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The string value with its span.
    pub fn spanned_str(&self) -> Option<Spanned<String>> {
        self.as_str()
            .map(|s| Spanned::new(s.to_string(), self.span))
    }

    /// A scalar as text (strings, numbers and booleans), for values such as env entries that
    /// clients stringify.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Every string in this subtree (values, not keys), with the path of keys leading to it.
    pub fn walk_strings<'a>(
        &'a self,
        path: &mut Vec<&'a str>,
        visit: &mut dyn FnMut(&[&'a str], &'a Node),
    ) {
        match &self.value {
            Value::String(_) => visit(path, self),
            Value::Array(items) => items.iter().for_each(|item| item.walk_strings(path, visit)),
            Value::Object(members) => {
                for m in members {
                    path.push(&m.key.value);
                    m.value.walk_strings(path, visit);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

/// Deepest nesting of brackets we accept. Real configs nest a handful of levels; the parsers
/// recurse, so a hostile file must be refused before it can exhaust the stack.
const MAX_DEPTH: usize = 128;

/// Refuses text whose brackets nest deeper than [`MAX_DEPTH`]. Counts brackets outside quoted
/// strings; it is a guard, not a parser, so it errs on the side of counting.
fn check_depth(text: &str) -> Result<(), ParseError> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if b == b'\\' && q == b'"' {
                escaped = true;
            } else if b == q || b == b'\n' {
                quote = None;
            }
            continue;
        }
        match b {
            b'"' | b'\'' => quote = Some(b),
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError {
                        message: format!("nested more than {MAX_DEPTH} levels deep"),
                        span: Span::new(i, i + 1),
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_at(src: &str, span: Span) -> &str {
        &src[span.range()]
    }

    #[test]
    fn jsonc_keeps_spans_and_accepts_comments_and_trailing_commas() {
        let src = "{\n  // c\n  \"a\": {\"b\": [\"x\", 1, true,],},\n}\n";
        let doc = parse(src, Format::Json).unwrap();
        let b = doc.pointer(&["a", "b"]).unwrap();
        assert_eq!(b.items().len(), 3);
        assert_eq!(text_at(src, b.items()[0].span), "\"x\"");
        assert_eq!(text_at(src, doc.member("a").unwrap().key.span), "\"a\"");
    }

    #[test]
    fn toml_keeps_spans() {
        let src = "[mcp_servers.gh]\ncommand = \"npx\"\nargs = [\"-y\", \"pkg\"]\n";
        let doc = parse(src, Format::Toml).unwrap();
        let cmd = doc.pointer(&["mcp_servers", "gh", "command"]).unwrap();
        assert_eq!(cmd.as_str(), Some("npx"));
        assert_eq!(text_at(src, cmd.span), "\"npx\"");
        let args = doc.pointer(&["mcp_servers", "gh", "args"]).unwrap();
        assert_eq!(text_at(src, args.items()[1].span), "\"pkg\"");
    }

    #[test]
    fn yaml_keeps_spans() {
        let src = "mcpServers:\n  - name: gh\n    command: npx\n    args: [\"-y\", pkg]\n";
        let doc = parse(src, Format::Yaml).unwrap();
        let first = &doc.get("mcpServers").unwrap().items()[0];
        let cmd = first.get("command").unwrap();
        assert_eq!(text_at(src, cmd.span), "npx");
        assert_eq!(
            text_at(src, first.get("args").unwrap().items()[1].span),
            "pkg"
        );
        assert_eq!(
            text_at(src, first.member("command").unwrap().key.span),
            "command"
        );
    }

    #[test]
    fn malformed_input_is_an_error_with_a_position() {
        for (src, format) in [
            ("{\"a\": ", Format::Json),
            ("a = [", Format::Toml),
            ("a: [b", Format::Yaml),
        ] {
            let err = parse(src, format).unwrap_err();
            assert!(!err.message.is_empty());
            assert!(err.span.start <= src.len());
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 100_000;
        let src = "[".repeat(depth) + &"]".repeat(depth);
        let _ = parse(&src, Format::Json);
        let _ = parse(&src, Format::Yaml);
        let toml_src = format!("a = {}{}", "[".repeat(depth), "]".repeat(depth));
        let _ = parse(&toml_src, Format::Toml);
    }
}
