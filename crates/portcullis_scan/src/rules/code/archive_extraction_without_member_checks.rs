use crate::code::catalog::SinkKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds `tarfile` extraction (`extractall`, `extract`) and `shutil.unpack_archive` of an archive a
    /// tool argument names, without `filter="data"`.
    ///
    /// ## Why is this bad?
    /// Archive members can be named `../../.bashrc` or `/etc/cron.d/x`, or be links to such places
    /// ("zip slip"). Before Python 3.14, `tarfile` honours them unless a filter says otherwise.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def unpack(archive: str) -> str:
    ///     import tarfile
    ///     with tarfile.open("/srv/uploads/upload.tar") as tar:
    ///         tar.extractall("/srv/unpacked")
    ///     return "ok"
    ///
    /// @mcp.tool()
    /// def unpack_named(archive: str) -> str:
    ///     import tarfile
    ///     tar = tarfile.open(archive)
    ///     tar.extractall("/srv/unpacked")
    ///     return "ok"
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def unpack_named(archive: str) -> str:
    ///     import tarfile
    ///     tar = tarfile.open(archive)
    ///     tar.extractall("/srv/unpacked", filter="data")
    ///     return "ok"
    /// ```
    ///
    /// ## References
    /// - [CWE-22: Path Traversal](https://cwe.mitre.org/data/definitions/22.html)
    /// - [tarfile extraction filters](https://docs.python.org/3/library/tarfile.html#tarfile-extraction-filter)
    pub static ARCHIVE_EXTRACTION_WITHOUT_MEMBER_CHECKS = {
        code: "PC107",
        name: "archive-extraction-without-member-checks",
        summary: "An archive a tool argument chose is extracted without checking its members",
        severity: High,
        confidence: Medium,
        cwe: [22],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} names an archive extracted by `{}` without checking its members", f.subject(), f.what), "Pass `filter=\"data\"` (Python 3.12+), or check every member's resolved path against the destination before extracting.".to_string())
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &ARCHIVE_EXTRACTION_WITHOUT_MEMBER_CHECKS,
    kind: HitKind::Sink(SinkKind::Archive),
    describe,
};
