use crate::code::taint::Broken;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds containment checks of the form `resolved.startswith(base)` where `base` does not end with
    /// a path separator.
    ///
    /// ## Why is this bad?
    /// `/srv/data-private/secret` starts with `/srv/data`: a sibling folder whose name extends the
    /// allowed one passes the check. The fix is one character.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// BASE = "/srv/data"
    ///
    /// @mcp.tool()
    /// def read(name: str) -> str:
    ///     import os
    ///     path = os.path.realpath(os.path.join(BASE, name))
    ///     if not path.startswith(BASE):
    ///         raise ValueError("outside")
    ///     with open(path) as f:
    ///         return f.read(10_000)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// BASE = "/srv/data"
    ///
    /// @mcp.tool()
    /// def read(name: str) -> str:
    ///     import os
    ///     path = os.path.realpath(os.path.join(BASE, name))
    ///     if not path.startswith(BASE + os.sep):
    ///         raise ValueError("outside")
    ///     with open(path) as f:
    ///         return f.read(10_000)
    /// ```
    ///
    /// ## References
    /// - [CWE-22: Path Traversal](https://cwe.mitre.org/data/definitions/22.html)
    /// - [CVE-2025-53110: filesystem MCP server prefix bypass](https://github.com/modelcontextprotocol/servers/security/advisories)
    pub static PREFIX_CHECK_WITHOUT_SEPARATOR = {
        code: "PC114",
        name: "prefix-check-without-separator",
        summary: "A path containment check compares prefixes without a trailing separator",
        severity: High,
        confidence: High,
        cwe: [22],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("containment check on {} compares prefixes without a trailing separator: a sibling folder passes", f.subject()), f.by_language("Compare with the separator appended (`path.startswith(base + os.sep)`), or use `Path(path).is_relative_to(base)` on the resolved path.", "Compare with the separator appended (`real.startsWith(base + path.sep)`), or check that `path.relative(base, real)` neither starts with `..` nor is absolute."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &PREFIX_CHECK_WITHOUT_SEPARATOR,
    kind: HitKind::Broken(Broken::PrefixBypass),
    describe,
};
