//! TOML through the `toml` crate's spanned document parser (Codex `config.toml`, our settings).

use toml::de::{DeTable, DeValue};

use super::{Member, Node, ParseError, Value};
use crate::span::{Span, Spanned};

pub(super) fn parse(text: &str) -> Result<Node, ParseError> {
    super::check_depth(text)?;
    let table = DeTable::parse(text).map_err(|e| ParseError {
        message: e.message().trim().to_string(),
        span: e.span().map_or(Span::new(0, 0), Span::from),
    })?;
    let span = Span::from(table.span());
    Ok(Node::new(span, lower_table(table.get_ref())))
}

fn lower_table(table: &DeTable<'_>) -> Value {
    Value::Object(
        table
            .iter()
            .map(|(k, v)| Member {
                key: Spanned::new(k.get_ref().to_string(), Span::from(k.span())),
                value: lower(v.get_ref(), Span::from(v.span())),
            })
            .collect(),
    )
}

fn lower(value: &DeValue<'_>, span: Span) -> Node {
    let value = match value {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => Value::Number(i.to_string()),
        DeValue::Float(f) => Value::Number(f.to_string()),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| lower(i.get_ref(), Span::from(i.span())))
                .collect(),
        ),
        DeValue::Table(t) => lower_table(t),
    };
    Node::new(span, value)
}
