use crate::code::catalog::SinkKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds tool arguments used as the template itself (not as a value in it): `jinja2.Template(...)`,
    /// `Environment.from_string(...)`, `render_template_string`, Mako templates.
    ///
    /// ## Why is this bad?
    /// Template languages reach Python objects: `{{ cycler.__init__.__globals__.os.popen("id").read()
    /// }}` runs a command. A template must come from the server, and values from the model must go in
    /// as variables.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def greet(template: str, name: str) -> str:
    ///     import jinja2
    ///     return jinja2.Template(template).render(name=name)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// GREETING = "Hello {{ name }}!"
    ///
    /// @mcp.tool()
    /// def greet(name: str) -> str:
    ///     import jinja2
    ///     return jinja2.Template(GREETING).render(name=name)
    /// ```
    ///
    /// ## References
    /// - [CWE-1336: Template Injection](https://cwe.mitre.org/data/definitions/1336.html)
    /// - [Jinja sandbox](https://jinja.palletsprojects.com/en/stable/sandbox/)
    pub static TEMPLATE_FROM_TOOL_ARGUMENT = {
        code: "PC105",
        name: "template-from-tool-argument",
        summary: "A tool argument is rendered as a template",
        severity: High,
        confidence: High,
        cwe: [1336],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} is rendered as a template by `{}`", f.subject(), f.what), f.by_language("Keep templates in the server and pass model values as variables; if users must write templates, use `jinja2.sandbox.SandboxedEnvironment`.", "Keep templates in the server and pass model values as variables; if users must write templates, use a logic-less engine (Mustache) with no helpers that run code."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &TEMPLATE_FROM_TOOL_ARGUMENT,
    kind: HitKind::Sink(SinkKind::Template),
    describe,
};
