use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds `.read()`, `read_text()`, `read_bytes()` and `readlines()` with no size argument on a file
    /// whose path a tool argument chose, with no size check before.
    ///
    /// ## Why is this bad?
    /// `/dev/zero`, a multi-gigabyte log or a FIFO exhausts the server's memory or hangs it, and a huge
    /// result floods the model's context.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def head(path: str) -> str:
    ///     from pathlib import Path
    ///     p = Path(path).resolve()
    ///     if not p.is_relative_to("/srv/data"):
    ///         raise ValueError("outside /srv/data")
    ///     return p.read_text()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def head(path: str) -> str:
    ///     from pathlib import Path
    ///     p = Path(path).resolve()
    ///     if not p.is_relative_to("/srv/data"):
    ///         raise ValueError("outside /srv/data")
    ///     with p.open() as f:
    ///         return f.read(100_000)
    /// ```
    ///
    /// ## References
    /// - [CWE-400: Uncontrolled Resource Consumption](https://cwe.mitre.org/data/definitions/400.html)
    /// - [CWE-770: Allocation Without Limits](https://cwe.mitre.org/data/definitions/770.html)
    pub static UNBOUNDED_READ_OF_TOOL_CHOSEN_FILE = {
        code: "PC113",
        name: "unbounded-read-of-tool-chosen-file",
        summary: "A whole file chosen by a tool argument is read with no size bound",
        severity: Medium,
        confidence: Medium,
        cwe: [400, 770],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} chooses a file read whole by `{}`", f.subject(), f.what), f.by_language("Read at most a fixed number of bytes (`f.read(limit)`), or check the size first (`os.path.getsize(path) <= limit`).", "Read at most a fixed number of bytes (`fs.read` into a bounded buffer, `createReadStream` with `end`), or check the size first (`(await fs.stat(p)).size <= limit`)."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &UNBOUNDED_READ_OF_TOOL_CHOSEN_FILE,
    kind: HitKind::UnboundedRead,
    describe,
};
