use crate::code::catalog::SinkKind;
use crate::code::taint::HitKind;
use crate::declare_rule;

use super::{Flow, TaintRule};

declare_rule! {
    /// ## What it does
    /// Finds tool arguments placed in a command's argument vector where they can start with `-` and so
    /// be read as an option (`git`, `curl`, `kubectl`, `tar`, `find`, `ssh` and other programs whose
    /// options change what they do), and strings split on spaces into a whole argument vector.
    ///
    /// Argument vectors are read the way the program reads them: nothing after `--` is an option,
    /// nor is a value behind fixed text (`f"--ref={ref}"`) or right after an option that takes one
    /// (`git commit -m MSG`, `kubectl -n NS`), nor a resolved path (it starts with `/`). Helpers
    /// that splice `*args` into a command are judged at each call, and GitPython's
    /// `repo.git.<subcommand>(...)` is `git <subcommand> ...`. `if x and x.startswith("-"):
    /// raise` is the check that clears a value.
    ///
    /// ## Why is this bad?
    /// No shell is needed to hurt: `git log --output=/home/user/.bashrc`, `curl -o
    /// ~/.ssh/authorized_keys URL`, `find . -exec rm {} +` or `ssh -oProxyCommand=...` turn an argument
    /// into a write or a command. Splitting a string into argv lets the model choose the program and
    /// every option.
    ///
    /// ## Example
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def show_log(ref: str) -> str:
    ///     import subprocess
    ///     return subprocess.run(["git", "log", ref], capture_output=True, text=True).stdout
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("demo")
    ///
    /// @mcp.tool()
    /// def show_log(ref: str) -> str:
    ///     import subprocess
    ///     if ref.startswith("-"):
    ///         raise ValueError("a ref cannot start with -")
    ///     return subprocess.run(["git", "log", "--end-of-options", ref], capture_output=True, text=True).stdout
    /// ```
    ///
    /// ## References
    /// - [CWE-88: Argument Injection](https://cwe.mitre.org/data/definitions/88.html)
    /// - [Argument injection vectors (Sonar)](https://sonarsource.github.io/argument-injection-vectors/)
    pub static ARGUMENT_INJECTION_FROM_TOOL_ARGUMENT = {
        code: "PC102",
        name: "argument-injection-from-tool-argument",
        summary: "A tool argument can become an option of a command",
        severity: High,
        confidence: Medium,
        cwe: [88],
        target: Code,
    }
}

fn describe(f: &Flow<'_>) -> (String, String) {
    (format!("{} can become an option of the command run by `{}`", f.subject(), f.what), "Reject values starting with `-`, or put `--` (or the program's `--end-of-options`) before them; never split a model-chosen string into an argument vector.".to_string())
}

pub(super) static RULE: TaintRule = TaintRule {
    meta: &ARGUMENT_INJECTION_FROM_TOOL_ARGUMENT,
    kind: HitKind::Sink(SinkKind::ArgInjection),
    describe,
};
