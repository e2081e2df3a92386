use super::{Def, ToolContext};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::document::Node;
use crate::registry::RuleMeta;
use crate::span::Spanned;

declare_rule! {
    /// ## What it does
    /// Finds tool parameters that take a shell command, a file path, a URL or SQL as a free
    /// string: no `enum`, `const` or `pattern` restricts them. The message also says when the
    /// schema accepts undeclared properties (no `"additionalProperties": false`).
    ///
    /// This is a risky schema, not poisoning: many honest tools take such arguments. It is
    /// reported at low severity so that reviewers know which arguments to confine (the
    /// gateway's path roots, URL allowlists and command allowlists).
    ///
    /// ## Why is this bad?
    /// The model chooses these arguments, and the model can be steered by anything it reads (a
    /// web page, an issue, a file). A free-form command, path or URL is where an injected
    /// instruction turns into code execution, file theft or a request to an internal host.
    ///
    /// ## Example
    /// ```json file=tools.json
    /// {"tools": [{"name": "run", "description": "Runs a shell command.", "inputSchema": {"type": "object", "properties": {"command": {"type": "string"}}}}]}
    /// ```
    ///
    /// ## Use instead
    /// ```json file=tools.json
    /// {"tools": [{"name": "run", "description": "Runs one of the project's scripts.", "inputSchema": {"type": "object", "properties": {"command": {"type": "string", "enum": ["test", "lint", "build"]}}, "additionalProperties": false}}]}
    /// ```
    ///
    /// ## References
    /// - [CWE-20: Improper Input Validation](https://cwe.mitre.org/data/definitions/20.html)
    /// - [JSON Schema: string validation](https://json-schema.org/understanding-json-schema/reference/string)
    pub static UNCONSTRAINED_DANGEROUS_PARAMETER = {
        code: "PC310",
        name: "unconstrained-dangerous-parameter",
        summary: "A tool takes a command, path, URL or SQL as an unconstrained string",
        severity: Low,
        confidence: Medium,
        cwe: [20],
        target: Tools,
    }
}

fn diagnostic(def: &Def<'_>, key: &Spanned<String>, what: &str, open: bool) -> Diagnostic {
    let extra = if open {
        "; the schema also accepts undeclared properties"
    } else {
        ""
    };
    def.diagnostic(
        &UNCONSTRAINED_DANGEROUS_PARAMETER,
        key.span,
        format!(
            "parameter `{}` of {} takes {what} as a free string{extra}",
            key.value,
            def.what()
        ),
    )
    .with_help("Confine it: an `enum` or `pattern` in the schema, and at run time a policy (allowed commands, path roots, URL allowlist) such as the gateway enforces.")
}

/// What kind of dangerous value a property holds, by its name and description.
fn kind_of(name: &str, schema: &Node) -> Option<&'static str> {
    let words = crate::text::words(name);
    let desc = schema
        .get("description")
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_lowercase();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    if has(&["command", "cmd", "shell", "script", "exec", "commandline"]) {
        Some("a shell command")
    } else if has(&["sql"])
        || (has(&["query", "statement"]) && (desc.contains("sql") || desc.contains("select ")))
    {
        Some("SQL")
    } else if has(&["url", "uri", "endpoint", "href", "webhook"]) {
        Some("a URL")
    } else if has(&[
        "path",
        "filepath",
        "filename",
        "file",
        "dir",
        "directory",
        "folder",
    ]) {
        Some("a file path")
    } else {
        None
    }
}

fn constrained(schema: &Node) -> bool {
    ["enum", "const", "pattern"]
        .iter()
        .any(|k| schema.get(k).is_some())
        || schema
            .get("type")
            .is_some_and(|t| t.as_str().is_some_and(|t| t != "string"))
}

pub struct Rule;

impl super::ToolRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &UNCONSTRAINED_DANGEROUS_PARAMETER
    }

    fn check(&self, cx: &ToolContext<'_>, out: &mut Vec<Diagnostic>) {
        for def in &cx.defs {
            let Some(tool) = def.tool else { continue };
            let open = tool.input_schema.as_ref().is_none_or(|s| {
                s.get("additionalProperties").and_then(Node::as_bool) != Some(false)
            });
            for (key, schema) in tool.properties() {
                if let Some(what) = kind_of(&key.value, schema)
                    && !constrained(schema)
                {
                    out.push(diagnostic(def, key, what, open));
                }
            }
        }
    }
}
