//! JSON and JSONC through `jsonc-parser`, which keeps byte ranges and accepts what clients accept.

use jsonc_parser::ast;
use jsonc_parser::{CollectOptions, CommentCollectionStrategy, ParseOptions, parse_to_ast};

use super::{Member, Node, ParseError, Value};
use crate::span::{Span, Spanned};

pub(super) fn parse(text: &str) -> Result<Node, ParseError> {
    super::check_depth(text)?;
    let collect = CollectOptions {
        comments: CommentCollectionStrategy::Off,
        tokens: false,
    };
    // What VS Code's JSONC reader accepts (comments, trailing commas) and nothing more: a file
    // a client would reject must be reported, not silently understood.
    let options = ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let result = parse_to_ast(text, &collect, &options).map_err(|e| {
        let range = e.range();
        ParseError {
            message: e.kind().to_string(),
            span: Span::new(range.start, range.end),
        }
    })?;
    match result.value {
        Some(value) => Ok(lower(&value)),
        None => Err(ParseError {
            message: "the file holds no JSON value".into(),
            span: Span::new(0, 0),
        }),
    }
}

fn span(range: jsonc_parser::common::Range) -> Span {
    Span::new(range.start, range.end)
}

fn lower(value: &ast::Value<'_>) -> Node {
    match value {
        ast::Value::StringLit(s) => Node::new(span(s.range), Value::String(s.value.to_string())),
        ast::Value::NumberLit(n) => Node::new(span(n.range), Value::Number(n.value.to_string())),
        ast::Value::BooleanLit(b) => Node::new(span(b.range), Value::Bool(b.value)),
        ast::Value::NullKeyword(n) => Node::new(span(n.range), Value::Null),
        ast::Value::Array(a) => Node::new(
            span(a.range),
            Value::Array(a.elements.iter().map(lower).collect()),
        ),
        ast::Value::Object(o) => {
            let members = o
                .properties
                .iter()
                .map(|p| {
                    let (key, key_range) = match &p.name {
                        ast::ObjectPropName::String(s) => (s.value.to_string(), s.range),
                        ast::ObjectPropName::Word(w) => (w.value.to_string(), w.range),
                    };
                    Member {
                        key: Spanned::new(key, span(key_range)),
                        value: lower(&p.value),
                    }
                })
                .collect();
            Node::new(span(o.range), Value::Object(members))
        }
    }
}
