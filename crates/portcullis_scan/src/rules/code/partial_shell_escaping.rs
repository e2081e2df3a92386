use crate::code::taint::Broken;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds values that had some shell metacharacters removed or escaped by hand (`.replace(";", "")`)
    /// and then reach a shell.
    ///
    /// ## Why is this bad?
    /// Shells have many metacharacters (`;`, `&`, `|`, `$()`, backticks, newlines, redirections,
    /// globbing, quotes): hand-made escaping forgets some, and `$(id)` or a newline gets through.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def ping(host: str) -> str:
    ///     import os
    ///     host = host.replace(";", "").replace("&", "")
    ///     return os.popen("ping -c 1 " + host).read(10_000)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def ping(host: str) -> str:
    ///     import subprocess
    ///     return subprocess.run(["ping", "-c", "1", "--", host], capture_output=True, text=True, timeout=10).stdout
    /// ```
    ///
    /// ## References
    /// - [CWE-78: OS Command Injection](https://cwe.mitre.org/data/definitions/78.html)
    /// - [shlex.quote](https://docs.python.org/3/library/shlex.html#shlex.quote)
    pub static PARTIAL_SHELL_ESCAPING = {
        code: "PC118",
        name: "partial-shell-escaping",
        summary: "A value is escaped by hand for some shell metacharacters, then run by a shell",
        severity: High,
        confidence: Medium,
        cwe: [78],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} is escaped by hand for only some metacharacters before `{}`", f.subject(), f.what), f.by_language("Do not build shell strings: pass an argument list; if a shell is unavoidable, use `shlex.quote`.", "Do not build shell strings: pass an argument list to `execFile`/`spawn`; `JSON.stringify` is not shell quoting, and if a shell is unavoidable use a shell quoting library (`shell-quote`)."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &PARTIAL_SHELL_ESCAPING,
    kind: HitKind::Broken(Broken::PartialShellEscape),
    describe,
};
