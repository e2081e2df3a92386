use crate::code::catalog::SinkKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds tool arguments reaching file reads, writes, listings and deletions (`open`, `pathlib`
    /// methods, `os.remove`, `shutil`, `send_file`, ...) without a containment check that holds: the
    /// path resolved with `realpath`/`resolve()` and then compared with the allowed folder plus a
    /// separator, or `is_relative_to` on the resolved path.
    ///
    /// ## Why is this bad?
    /// `../../.ssh/id_rsa` and `/etc/passwd` are as easy for a model to write as `notes.txt`, and a
    /// prompt injection will ask for them. Without containment a file tool reads, overwrites or deletes
    /// anything the user can.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// BASE = "/srv/notes"
    ///
    /// @mcp.tool()
    /// def read_note(name: str) -> str:
    ///     import os
    ///     with open(os.path.join(BASE, name)) as f:
    ///         return f.read(100_000)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// BASE = "/srv/notes"
    ///
    /// @mcp.tool()
    /// def read_note(name: str) -> str:
    ///     import os
    ///     path = os.path.realpath(os.path.join(BASE, name))
    ///     if not path.startswith(BASE + os.sep):
    ///         raise ValueError("outside the notes folder")
    ///     with open(path) as f:
    ///         return f.read(100_000)
    /// ```
    ///
    /// ## References
    /// - [CWE-22: Path Traversal](https://cwe.mitre.org/data/definitions/22.html)
    /// - [MCP filesystem server: allowed directories](https://github.com/modelcontextprotocol/servers/tree/main/src/filesystem)
    pub static PATH_TRAVERSAL_FROM_TOOL_ARGUMENT = {
        code: "PC106",
        name: "path-traversal-from-tool-argument",
        summary: "A tool argument chooses a filesystem path with no containment check",
        severity: High,
        confidence: High,
        cwe: [22],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} chooses the path opened by `{}`, with no containment check", f.subject(), f.what), f.by_language("Resolve the path (`os.path.realpath`, `Path.resolve()`), then require it to be inside the allowed folder: `path.startswith(base + os.sep)` or `Path(path).is_relative_to(base)`.", "Resolve the path (`fs.realpath`), then require it to be inside the allowed folder: `real === base || real.startsWith(base + path.sep)`."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &PATH_TRAVERSAL_FROM_TOOL_ARGUMENT,
    kind: HitKind::Sink(SinkKind::Path),
    describe,
};
