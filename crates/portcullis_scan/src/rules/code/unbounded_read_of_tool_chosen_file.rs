use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds a file whose path a tool argument chose read whole into memory, with no size check
    /// before:
    /// - Python: `.read()` and `readlines()` with no size argument on an opened file,
    ///   `read_text()` and `read_bytes()` on a path;
    /// - TypeScript/JavaScript: `fs.readFile`/`readFileSync`, `readFile` from `fs/promises`,
    ///   `fs-extra`'s `readFile`/`readJson`, `readFile()` on a `FileHandle` from
    ///   `fs.promises.open`, and `text()`/`json()`/`arrayBuffer()`/`bytes()` on a `Bun.file`.
    ///
    /// A size compared with a limit before the read is a bound: `os.path.getsize(p)`,
    /// `os.stat(p).st_size`, `Path(p).stat().st_size`; `(await fs.stat(p)).size`,
    /// `fs.statSync(p).size`, `Bun.file(p).size`, or `st.size` of a variable holding one. So is a
    /// read of a fixed length: `f.read(limit)`, `createReadStream(p, { end })`, `fs.read` or
    /// `handle.read` into a buffer. A check of the text after reading it comes too late. A file
    /// the server chose (a fixed path, a value from an allowlist) is not reported.
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
