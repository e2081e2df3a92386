use crate::code::taint::Broken;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds paths whose only check is that they do not contain `..` before they reach a file
    /// operation.
    ///
    /// ## Why is this bad?
    /// `/etc/passwd` and `~/.ssh/id_rsa` contain no `..`. Worse, `os.path.join(base, "/etc/passwd")`
    /// returns `/etc/passwd`: an absolute part discards the base.
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
    ///     if ".." in name:
    ///         raise ValueError("no ..")
    ///     with open(os.path.join(BASE, name)) as f:
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
    /// - [os.path.join and absolute components](https://docs.python.org/3/library/os.path.html#os.path.join)
    pub static DOTDOT_CHECK_MISSES_ABSOLUTE_PATHS = {
        code: "PC116",
        name: "dotdot-check-misses-absolute-paths",
        summary: "A path is checked only for `..`, which absolute paths do not need",
        severity: High,
        confidence: High,
        cwe: [22],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} is checked only for `..` before `{}`: absolute paths pass", f.subject(), f.what), f.by_language("Resolve the joined path and check containment (`realpath` then `startswith(base + os.sep)`).", "Resolve the joined path and check containment (`fs.realpath` then `startsWith(base + path.sep)`)."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &DOTDOT_CHECK_MISSES_ABSOLUTE_PATHS,
    kind: HitKind::Broken(Broken::DotDotOnly),
    describe,
};
