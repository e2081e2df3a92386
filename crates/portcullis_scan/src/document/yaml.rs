//! YAML through `saphyr`'s marked DOM, the pure-Rust YAML 1.2 loader that keeps node positions.
//! (`serde-saphyr` from the same project deserialises into types; we need a positioned tree.)
//! Alias expansion is bounded by the loader, so a "billion laughs" file cannot exhaust memory.

use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};

use super::{Member, Node, ParseError, Value};
use crate::span::{Span, Spanned};

pub(super) fn parse(text: &str) -> Result<Node, ParseError> {
    super::check_depth(text)?;
    let positions = CharToByte::new(text);
    let docs = MarkedYamlOwned::load_from_str(text).map_err(|e| {
        let at = positions.byte(e.marker().index());
        ParseError {
            message: e.info().to_string(),
            span: Span::new(at, at),
        }
    })?;
    match docs.into_iter().next() {
        Some(doc) => Ok(lower(&doc, text, &positions)),
        None => Ok(Node::new(Span::new(0, 0), Value::Null)),
    }
}

/// YAML markers count characters; spans count bytes.
struct CharToByte {
    /// Byte offset of every char, only kept when the text is not ASCII.
    offsets: Option<Vec<usize>>,
    len: usize,
}

impl CharToByte {
    fn new(text: &str) -> Self {
        let offsets = (!text.is_ascii()).then(|| text.char_indices().map(|(b, _)| b).collect());
        CharToByte {
            offsets,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.offsets {
            None => char_index.min(self.len),
            Some(offsets) => offsets.get(char_index).copied().unwrap_or(self.len),
        }
    }
}

fn lower(node: &MarkedYamlOwned, text: &str, pos: &CharToByte) -> Node {
    let start = pos.byte(node.span.start.index());
    let end = pos.byte(node.span.end.index()).max(start);
    let span = trim_span(text, Span::new(start, end));
    let value = match &node.data {
        YamlDataOwned::Value(scalar) => match scalar {
            ScalarOwned::Null => Value::Null,
            ScalarOwned::Boolean(b) => Value::Bool(*b),
            ScalarOwned::Integer(i) => Value::Number(i.to_string()),
            ScalarOwned::FloatingPoint(f) => Value::Number(f.to_string()),
            ScalarOwned::String(s) => Value::String(s.clone()),
        },
        YamlDataOwned::Representation(s, _, _) => Value::String(s.clone()),
        YamlDataOwned::Sequence(items) => {
            Value::Array(items.iter().map(|i| lower(i, text, pos)).collect())
        }
        YamlDataOwned::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = lower(k, text, pos);
                    let name = key.scalar_text().unwrap_or_default();
                    Member {
                        key: Spanned::new(name, key.span),
                        value: lower(v, text, pos),
                    }
                })
                .collect(),
        ),
        YamlDataOwned::Tagged(_, inner) => return lower(inner, text, pos),
        _ => Value::Null,
    };
    Node::new(span, value)
}

/// Block scalars' end markers can point past trailing whitespace; keep spans on the text.
fn trim_span(text: &str, span: Span) -> Span {
    let slice = text.get(span.range()).unwrap_or("");
    let trimmed = slice.trim_end();
    Span::new(span.start, span.start + trimmed.len())
}
