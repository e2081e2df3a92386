use crate::code::catalog::SourceKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds tool results that carry a formatted stack trace (`traceback.format_exc()`,
    /// `traceback.format_exception(...)`).
    ///
    /// ## Why is this bad?
    /// Stack traces show file paths, user names, library versions, and sometimes values of local
    /// variables such as connection strings. In the model's context they help an attacker and may leak
    /// secrets.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def run_job(name: str) -> str:
    ///     import traceback
    ///     try:
    ///         return start(name)
    ///     except Exception:
    ///         return traceback.format_exc()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def run_job(name: str) -> str:
    ///     import logging
    ///     try:
    ///         return start(name)
    ///     except Exception:
    ///         logging.exception("run_job failed")
    ///         return "The job could not be started; details are in the server log."
    /// ```
    ///
    /// ## References
    /// - [CWE-209: Error Message Containing Sensitive Information](https://cwe.mitre.org/data/definitions/209.html)
    pub static STACK_TRACE_RETURNED_TO_MODEL = {
        code: "PC111",
        name: "stack-trace-returned-to-model",
        summary: "A stack trace is returned to the model",
        severity: Medium,
        confidence: High,
        cwe: [209],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (
        format!("{} returns a stack trace to the model", f.handler()),
        "Log the trace on the server and return a short message.".to_string(),
    )
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &STACK_TRACE_RETURNED_TO_MODEL,
    kind: HitKind::Exposure(SourceKind::ErrorDetail),
    describe,
};
