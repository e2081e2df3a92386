use super::{Def, ToolContext};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::registry::RuleMeta;
use crate::span::Span;

declare_rule! {
    /// ## What it does
    /// Finds tool annotations that contradict what the tool says it does:
    /// `readOnlyHint: true` on a tool whose name or description's leading verb writes, deletes,
    /// sends or runs something, and `destructiveHint: false` on one whose name or leading verb
    /// deletes, drops, overwrites or kills.
    ///
    /// ## Why is this bad?
    /// Clients use these hints to decide what to run without asking: a read-only tool may be
    /// auto-approved. A false hint gets a dangerous call past the user.
    ///
    /// ## Example
    /// ```json file=tools.json
    /// {"tools": [{"name": "delete_file", "description": "Deletes a file.", "inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": true}}]}
    /// ```
    ///
    /// ## Use instead
    /// ```json file=tools.json
    /// {"tools": [{"name": "delete_file", "description": "Deletes a file.", "inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": false, "destructiveHint": true}}]}
    /// ```
    ///
    /// ## References
    /// - [CWE-1427: Improper Neutralization of Input Used for LLM Prompting](https://cwe.mitre.org/data/definitions/1427.html)
    /// - [CWE-684: Incorrect Provision of Specified Functionality](https://cwe.mitre.org/data/definitions/684.html)
    /// - [MCP specification: tool annotations](https://modelcontextprotocol.io/specification/2025-06-18/server/tools#tool-annotations)
    pub static ANNOTATION_CONTRADICTS_TOOL = {
        code: "PC309",
        name: "annotation-contradicts-tool",
        summary: "A tool's annotations contradict what it does",
        severity: Medium,
        confidence: Medium,
        cwe: [684, 1427],
        target: Tools,
    }
}

const WRITES: &[&str] = &[
    "write",
    "create",
    "update",
    "edit",
    "modify",
    "set",
    "put",
    "insert",
    "add",
    "append",
    "delete",
    "remove",
    "drop",
    "destroy",
    "purge",
    "truncate",
    "wipe",
    "kill",
    "terminate",
    "send",
    "post",
    "publish",
    "upload",
    "push",
    "transfer",
    "pay",
    "execute",
    "exec",
    "run",
    "move",
    "rename",
    "overwrite",
    "reset",
    "deploy",
    "merge",
    "commit",
    "email",
];
const DESTROYS: &[&str] = &[
    "delete",
    "remove",
    "drop",
    "destroy",
    "purge",
    "truncate",
    "wipe",
    "kill",
    "terminate",
    "overwrite",
    "reset",
    "erase",
    "format",
    "revoke",
];

fn diagnostic(def: &Def<'_>, span: Span, hint: &str, verb: &str) -> Diagnostic {
    def.diagnostic(
        &ANNOTATION_CONTRADICTS_TOOL,
        span,
        format!("{} is annotated `{hint}` but its name says it does `{verb}`", def.what()),
    )
    .with_help("Clients may run a tool marked read-only or non-destructive without asking. Do not auto-approve this tool; ask the maintainers to correct the annotation.")
}

/// The verbs a tool's name and the first word of its description stand for. A description
/// that says the tool only reads (`Execute read-only Cypher queries`) settles it, and adding
/// numbers (`add`: "Adds two numbers") writes nothing.
fn verbs(def: &Def<'_>) -> Vec<String> {
    let description = def
        .tool
        .and_then(|t| t.description.as_ref())
        .map(|d| d.value.to_lowercase())
        .unwrap_or_default();
    if [
        "read-only",
        "read only",
        "readonly",
        "without modifying",
        "does not modify",
    ]
    .iter()
    .any(|p| description.contains(p))
    {
        return Vec::new();
    }
    let arithmetic = ["number", "sum of", "integers"]
        .iter()
        .any(|p| description.contains(p));
    let mut words = crate::text::words(&def.name);
    if let Some(desc) = def.tool.and_then(|t| t.description.as_ref()) {
        words.extend(
            crate::text::words(&desc.value)
                .into_iter()
                .take(1)
                .map(|w| {
                    // "Deletes" -> "delete".
                    w.strip_suffix("es")
                        .filter(|s| s.ends_with(['h', 's', 'x']))
                        .or(w.strip_suffix('s'))
                        .unwrap_or(&w)
                        .to_string()
                }),
        );
    }
    words.retain(|w| !(arithmetic && w == "add"));
    words
}

pub struct Rule;

impl super::ToolRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &ANNOTATION_CONTRADICTS_TOOL
    }

    fn check(&self, cx: &ToolContext<'_>, out: &mut Vec<Diagnostic>) {
        for def in &cx.defs {
            let Some(ann) = def.tool.and_then(|t| t.annotations.as_ref()) else {
                continue;
            };
            let words = verbs(def);
            let hint = |key: &str| ann.get(key).filter(|n| n.as_bool().is_some());
            if let Some(node) = hint("readOnlyHint").filter(|n| n.as_bool() == Some(true))
                && let Some(verb) = words.iter().find(|w| WRITES.contains(&w.as_str()))
            {
                out.push(diagnostic(def, node.span, "readOnlyHint: true", verb));
            } else if let Some(node) =
                hint("destructiveHint").filter(|n| n.as_bool() == Some(false))
                && let Some(verb) = words.iter().find(|w| DESTROYS.contains(&w.as_str()))
            {
                out.push(diagnostic(def, node.span, "destructiveHint: false", verb));
            }
        }
    }
}
