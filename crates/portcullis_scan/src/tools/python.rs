//! Tool metadata recovered from Python server source, without running it: for each tool the
//! handler detection found (`@mcp.tool()` and friends), the name (`name=` or the function's),
//! the description (`description=` or the docstring), and the parameters with their type hints
//! and pydantic `Field(description=...)`. Every string keeps its span in the `.py` file, so the
//! same PC3xx rules that read dumps report in the source.
//!
//! The trade-off: only literal strings are read (a description built at run time is not
//! seen), and a tool registered by a call (`mcp.add_tool(f)`) gets its function's name and
//! docstring only.

use crate::code::ir::{ExprKind, HandlerKind, Module, StmtKind};
use crate::document::{Member, Node, Value};
use crate::span::{Span, Spanned};

use super::{ServerSnapshot, Tool, ToolsFile};

fn string_node(text: &str, span: Span) -> Node {
    Node::new(span, Value::String(text.to_string()))
}

fn member(key: &str, span: Span, value: Node) -> Member {
    Member {
        key: Spanned::new(key.to_string(), span),
        value,
    }
}

/// The `description=` of a pydantic `Field(...)` call anywhere in an expression.
fn field_description(e: &crate::code::ir::Expr) -> Option<(String, Span)> {
    let mut found = None;
    crate::code::ir::walk_expr(e, &mut |x| {
        if found.is_none()
            && let ExprKind::Call { callee, .. } = &x.kind
            && callee
                .dotted()
                .is_some_and(|d| d == "Field" || d.ends_with(".Field"))
            && let Some(d) = x.keyword("description")
            && let Some(s) = d.as_str()
        {
            found = Some((s.to_string(), d.span));
        }
    });
    found
}

/// The tool snapshot of one Python module, when it registers tools.
pub fn snapshot_of_module(module: &Module) -> Option<ToolsFile> {
    let file = &module.file;
    let mut tools = Vec::new();
    for h in module
        .handlers
        .iter()
        .filter(|h| h.kind == HandlerKind::Tool)
    {
        let Some(function) = module.functions.get(h.function) else {
            continue;
        };
        let decorator = function.decorators.iter().find(|d| d.span == h.span);
        let kw = |k: &str| {
            decorator
                .and_then(|d| d.keyword(k))
                .and_then(|e| e.as_str().map(|s| Spanned::new(s.to_string(), e.span)))
        };
        let name = kw("name").unwrap_or_else(|| {
            Spanned::new(
                h.name.clone().unwrap_or_else(|| function.name.clone()),
                function.name_span,
            )
        });
        let docstring = function.body.first().and_then(|s| match &s.kind {
            StmtKind::Expr(e) => e.as_str().map(|t| Spanned::new(t.to_string(), e.span)),
            _ => None,
        });
        let description = kw("description").or(docstring);
        let mut props = Vec::new();
        for p in &function.params {
            let Some(pname) = p.name() else { continue };
            // The SDK fills these in; the model never sees them.
            let injected = p
                .annotation
                .as_ref()
                .and_then(crate::code::ir::Expr::dotted)
                .is_some_and(|d| d.ends_with("Context"));
            if matches!(pname, "self" | "cls") || injected {
                continue;
            }
            let mut schema = Vec::new();
            if let Some(a) = &p.annotation {
                let hint = file.text.get(a.span.range()).unwrap_or("");
                // JSON Schema's names, as the SDKs generate them.
                let ty = match crate::text::words(hint)
                    .iter()
                    .map(String::as_str)
                    .find(|w| matches!(*w, "str" | "int" | "float" | "bool" | "list" | "dict"))
                {
                    Some("str") => "string",
                    Some("int") => "integer",
                    Some("float") => "number",
                    Some("bool") => "boolean",
                    Some("list") => "array",
                    Some("dict") => "object",
                    _ => hint,
                }
                .to_string();
                schema.push(member("type", a.span, string_node(&ty, a.span)));
            }
            let desc = p
                .annotation
                .as_ref()
                .and_then(field_description)
                .or_else(|| p.default.as_ref().and_then(field_description));
            if let Some((d, span)) = desc {
                schema.push(member("description", span, string_node(&d, span)));
            }
            props.push(member(
                pname,
                p.span,
                Node::new(p.span, Value::Object(schema)),
            ));
        }
        let input_schema = Node::new(
            function.span,
            Value::Object(vec![
                member("type", function.span, string_node("object", function.span)),
                member(
                    "properties",
                    function.span,
                    Node::new(function.span, Value::Object(props)),
                ),
            ]),
        );
        let mut members = vec![member(
            "name",
            name.span,
            string_node(&name.value, name.span),
        )];
        if let Some(d) = &description {
            members.push(member("description", d.span, string_node(&d.value, d.span)));
        }
        members.push(member("inputSchema", function.span, input_schema.clone()));
        tools.push(Tool {
            node: Node::new(function.span, Value::Object(members)),
            name,
            title: None,
            description,
            input_schema: Some(input_schema),
            output_schema: None,
            annotations: None,
        });
    }
    if tools.is_empty() {
        return None;
    }
    let whole = Span::new(0, file.text.len());
    Some(ToolsFile {
        from_source: true,
        source: std::sync::Arc::clone(file),
        document: Node::new(whole, Value::Object(Vec::new())),
        servers: vec![ServerSnapshot {
            // Named by its file, so that messages say which module the tool is in.
            name: Some(Spanned::new(file.display.clone(), Span::new(0, 0))),
            version: None,
            origin: None,
            span: whole,
            instructions: None,
            tools,
            prompts: Vec::new(),
            resources: Vec::new(),
        }],
    })
}
