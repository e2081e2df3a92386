use crate::code::catalog::SinkKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds tool arguments reaching `eval`, `exec`, `compile`, `importlib.import_module` or
    /// `__import__`.
    ///
    /// ## Why is this bad?
    /// Evaluating a model-chosen string runs arbitrary code in the server with the user's permissions:
    /// `__import__("os").system(...)` is one expression away. Restricting globals does not make `eval`
    /// safe.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def calculate(expression: str) -> str:
    ///     return str(eval(expression))
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def calculate(expression: str) -> str:
    ///     import ast
    ///     return str(ast.literal_eval(expression))
    /// ```
    ///
    /// ## References
    /// - [CWE-94: Code Injection](https://cwe.mitre.org/data/definitions/94.html)
    /// - [CWE-95: Eval Injection](https://cwe.mitre.org/data/definitions/95.html)
    pub static CODE_EVALUATION_OF_TOOL_ARGUMENT = {
        code: "PC103",
        name: "code-evaluation-of-tool-argument",
        summary: "A tool argument is evaluated as code",
        severity: Critical,
        confidence: High,
        cwe: [94, 95],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} is evaluated as code by `{}`", f.subject(), f.what), f.by_language("Parse the value instead of running it: `ast.literal_eval` for literals, a small expression parser for arithmetic, a lookup table for names.", "Parse the value instead of running it: `JSON.parse` for literals, a small expression parser for arithmetic, a lookup table for names and modules."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &CODE_EVALUATION_OF_TOOL_ARGUMENT,
    kind: HitKind::Sink(SinkKind::CodeEval),
    describe,
};
