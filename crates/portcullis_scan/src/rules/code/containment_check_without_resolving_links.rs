use crate::code::taint::Broken;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds containment checks on paths that went through `os.path.abspath`, `os.path.normpath` or
    /// `Path.absolute()` but not `realpath`/`resolve()`.
    ///
    /// ## Why is this bad?
    /// `abspath` removes `..` but follows no links: a symbolic link inside the allowed folder pointing
    /// to `/` (created by another tool, an archive, or a repository) passes the check and leads
    /// anywhere.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// BASE = "/srv/data/"
    ///
    /// @mcp.tool()
    /// def read(name: str) -> str:
    ///     import os
    ///     path = os.path.abspath(os.path.join(BASE, name))
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
    /// BASE = "/srv/data/"
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
    /// ## References
    /// - [CWE-59: Link Following](https://cwe.mitre.org/data/definitions/59.html)
    /// - [os.path.realpath](https://docs.python.org/3/library/os.path.html#os.path.realpath)
    pub static CONTAINMENT_CHECK_WITHOUT_RESOLVING_LINKS = {
        code: "PC115",
        name: "containment-check-without-resolving-links",
        summary: "A path is checked for containment after abspath or normpath, which do not resolve links",
        severity: High,
        confidence: Medium,
        cwe: [59, 22],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("containment check on {} does not resolve symbolic links: a link inside the folder escapes it", f.subject()), f.by_language("Resolve with `os.path.realpath` or `Path.resolve()` before checking; to refuse links altogether, open with `O_NOFOLLOW`.", "Resolve with `fs.realpath` (`path.resolve` and `path.normalize` do not follow links) before checking; to refuse links altogether, open with `O_NOFOLLOW`."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &CONTAINMENT_CHECK_WITHOUT_RESOLVING_LINKS,
    kind: HitKind::Broken(Broken::SymlinkEscape),
    describe,
};
