use crate::code::catalog::SourceKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds tool results that carry the whole process environment (`os.environ`, `dict(os.environ)`,
    /// `os.environ.copy()`), a variable whose name says it is a secret (`*_KEY`, `*_TOKEN`,
    /// `*SECRET*`, `*PASSWORD*`, `DATABASE_URL`), including through a module-level constant
    /// imported from another file, or whichever variable a tool argument names
    /// (`os.environ.get(name)`) unless the name is checked against an allowlist.
    ///
    /// ## Why is this bad?
    /// A server's environment holds the API keys its configuration passed it. Whatever a tool returns
    /// goes into the model's context, where a prompt injection can have it repeated, sent to another
    /// tool, or written into a file.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def debug_info() -> dict:
    ///     import os
    ///     return dict(os.environ)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def debug_info() -> dict:
    ///     import os, platform
    ///     return {"python": platform.python_version(), "cwd": os.getcwd()}
    /// ```
    ///
    /// ## References
    /// - [CWE-200: Exposure of Sensitive Information](https://cwe.mitre.org/data/definitions/200.html)
    /// - [MCP Security Best Practices](https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices)
    pub static ENVIRONMENT_RETURNED_TO_MODEL = {
        code: "PC110",
        name: "environment-returned-to-model",
        summary: "The process environment or a secret from it is returned to the model",
        severity: High,
        confidence: High,
        cwe: [200],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    let trace = &f.finding.trace;
    // `os.environ.get(name)` with a model-chosen name: the variable is whichever it names.
    let what = if trace
        .iter()
        .any(|s| s.message.starts_with("names the environment"))
    {
        let subject = f.subject();
        // The handler is named once, at the start of the message.
        let subject = match f.tool {
            Some(t) => subject.trim_end_matches(&format!(" of `{t}`")).to_string(),
            None => subject,
        };
        format!("whichever environment variable {subject} names")
    } else {
        trace
            .first()
            .map_or("the environment".to_string(), |s| s.message.clone())
    };
    (
        format!("{} returns {what} to the model", f.handler()),
        "Return only the fields the tool is for; never return the environment or a credential."
            .to_string(),
    )
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &ENVIRONMENT_RETURNED_TO_MODEL,
    kind: HitKind::Exposure(SourceKind::Environment),
    describe,
};
