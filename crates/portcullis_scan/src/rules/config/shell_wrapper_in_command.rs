use std::sync::LazyLock;

use regex::Regex;

use crate::clients::Client;
use crate::command::{Launch, ShellString, Syntax, preview};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, ServerEntry};
use crate::registry::{RuleMeta, Severity};

declare_rule! {
    /// ## What it does
    /// Finds servers launched through a shell with a command string: `sh -c`, `bash -c`,
    /// `zsh -c`, `fish -c`, `cmd /c`, `powershell -Command` and `-EncodedCommand`, and the same
    /// inside launchers (`env`, `wsl -e`, `op run --`) and inside other shell strings.
    ///
    /// Severity is raised to high when a variable's value is pasted into the shell string
    /// before the shell parses it, so that the value becomes shell code: a reference the
    /// client itself substitutes into `args` (`${VAR}` for Claude Code, `$VAR`/`${VAR}`/`%VAR%`
    /// for Gemini CLI, `${env:VAR}`/`${input:id}` for VS Code, Cursor, Windsurf and Roo,
    /// `{env:VAR}`/`{file:path}` for opencode, `${{ secrets.NAME }}` for Continue), or a
    /// `%VAR%` that cmd expands before parsing the line. Variables the operating system or the
    /// client sets to a path (`HOME`, `USERPROFILE`, `APPDATA`, `workspaceFolder`, ...) do not
    /// raise it. A variable the shell itself expands at run time (`"$VAR"` in `sh -c`,
    /// `$env:VAR` in PowerShell) stays data, not code, and does not raise it either.
    ///
    /// `cmd /c` followed by a single program and plain arguments (`"args": ["/c", "npx", "-y",
    /// "pkg"]`) is not reported. It is the documented way to start `npx` and other `.cmd`
    /// shims on Windows, which clients cannot launch without a shell, and when the line holds
    /// no operator, redirection, escape or variable, cmd runs exactly the program and arguments
    /// that were listed, so the shell adds no risk. A POSIX shell or PowerShell is never
    /// needed to start a program, so every use of one is reported.
    ///
    /// ## Why is this bad?
    /// A shell string is code, not an argument list: whatever ends up in it, by a variable, by
    /// an edit that looked harmless, or by someone who can write to the config, runs with the
    /// user's permissions. It also hides what the server really runs from reviewers and from
    /// allowlists that match a server's `command` and `args` (Claude Code managed
    /// `serverCommand`, Windsurf and VS Code admin policies), which see only `bash`. When a
    /// variable is pasted into the string, anyone who controls its value (a project `.env`, an
    /// inherited environment, a prompted input) can append `; curl ... | sh`.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "notes": {
    ///       "command": "bash",
    ///       "args": ["-c", "cd ~/notes-mcp && exec node dist/index.js --root ${NOTES_DIR}"]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "notes": {
    ///       "command": "node",
    ///       "args": ["/Users/me/notes-mcp/dist/index.js", "--root", "${NOTES_DIR}"]
    ///     }
    ///   }
    /// }
    /// ```
    /// Each argument is passed to the program as it is, so a variable's value stays one
    /// argument, whatever it holds.
    ///
    /// ## References
    /// - [CWE-78: Improper Neutralization of Special Elements used in an OS Command](https://cwe.mitre.org/data/definitions/78.html)
    /// - [Claude Desktop on Windows: `cmd /c` for `npx`](https://modelcontextprotocol.io/docs/develop/connect-local-servers)
    /// - [Claude Code: environment variable expansion in `.mcp.json`](https://code.claude.com/docs/en/mcp)
    pub static SHELL_WRAPPER_IN_COMMAND = {
        code: "PC205",
        name: "shell-wrapper-in-command",
        summary: "A server is launched through a shell with a command string",
        severity: Medium,
        confidence: Medium,
        cwe: [78],
        target: Config,
    }
}

fn diagnostic(
    file: &ConfigFile,
    server: &ServerEntry,
    shell: &ShellString,
    pasted: &[Pasted],
) -> Diagnostic {
    let name = &server.name.value;
    let how = format!("{} {}", shell.shell, shell.flag);
    let script = if shell.encoded {
        format!("`{}` (decoded from base64)", preview(&shell.text, 60))
    } else {
        format!("`{}`", preview(&shell.text, 60))
    };
    let (message, help) = match pasted.first() {
        Some(p) => {
            let when = match p.by {
                PastedBy::Client => format!(
                    "{} pastes `{}` into it before the shell parses it",
                    file.client.display_name(),
                    p.reference
                ),
                PastedBy::Cmd => format!("cmd expands `{}` before it parses the line", p.reference),
            };
            (
                format!(
                    "server `{name}` runs {script} through `{how}`, and {when}: the variable's value becomes shell code"
                ),
                if p.by == PastedBy::Cmd {
                    "Keep `%VAR%` off the cmd line: set the value in `env` and let the program read it from its environment, or pass it from a reviewed script file."
                } else {
                    "Launch the program directly, with the value as its own entry in `args`, or pass it in `env` and let the shell read it at run time, quoted (`\"$VAR\"` in sh, `$env:VAR` in PowerShell)."
                },
            )
        }
        None => (
            format!("server `{name}` runs {script} through `{how}` as a shell string"),
            if shell.syntax == Syntax::Cmd {
                "Give `cmd /c` one program and its arguments, each in its own `args` entry (`[\"/c\", \"npx\", \"-y\", \"pkg@1.2.3\"]`), and move chaining (`&&`, `&`, `|`) and redirections into a reviewed script file."
            } else {
                "Launch the program directly: put it in `command` and each argument in its own `args` entry, and set variables in `env`. If several steps are really needed, keep them in a reviewed script file and launch that."
            },
        ),
    };
    let severity = if pasted.is_empty() {
        SHELL_WRAPPER_IN_COMMAND.severity
    } else {
        Severity::High
    };
    Diagnostic::new(&SHELL_WRAPPER_IN_COMMAND, &file.source, shell.span, message)
        .with_help(help)
        .with_severity(severity)
        .with_server(name)
}

/// Who turns a reference into text before the shell parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PastedBy {
    Client,
    Cmd,
}

/// A variable reference substituted into a shell string as text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pasted {
    reference: String,
    by: PastedBy,
}

/// `${VAR}` and `${VAR:-default}`.
static BRACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}").expect("static regex")
});
/// `$VAR`.
static BARE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$([A-Za-z_][A-Za-z0-9_]*)").expect("static regex"));
/// `%VAR%`.
static PERCENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"%([A-Za-z_][A-Za-z0-9_()]*)%").expect("static regex"));
/// VS Code, Cursor, Windsurf and Roo: `${env:VAR}`, `${input:id}`, `${file:path}`.
static EDITOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{(?:env|input|file):([^}]+)\}").expect("static regex"));
/// opencode: `{env:VAR}`, `{file:path}` (not preceded by `$`).
static OPENCODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^$])(\{(?:env|file):([^}]+)\})").expect("static regex"));
/// Continue: `${{ secrets.NAME }}`, `${{ inputs.NAME }}`.
static CONTINUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{\{\s*((?:secrets|inputs)\.[\w.\-]+)\s*\}\}").expect("static regex")
});

/// Variables set by the operating system or the client to a path or an account name.
const SYSTEM_VARIABLES: &[&str] = &[
    "home",
    "user",
    "logname",
    "shell",
    "pwd",
    "path",
    "tmpdir",
    "temp",
    "tmp",
    "userprofile",
    "appdata",
    "localappdata",
    "programfiles",
    "programfiles(x86)",
    "programdata",
    "systemroot",
    "systemdrive",
    "windir",
    "homedrive",
    "homepath",
    "comspec",
    "xdg_config_home",
    "xdg_data_home",
    "xdg_cache_home",
    "xdg_state_home",
    "xdg_runtime_dir",
    "workspacefolder",
    "workspacefolderbasename",
    "userhome",
    "pathseparator",
    "claude_plugin_root",
    "claude_project_dir",
    "extensionpath",
    "workspacepath",
    "__dirname",
];

fn is_system(name: &str) -> bool {
    SYSTEM_VARIABLES.contains(&name.to_ascii_lowercase().as_str())
}

/// The references in a shell string that become text before the shell parses it.
fn pasted(client: Client, shell: &ShellString) -> Vec<Pasted> {
    let text = shell.text.as_str();
    let mut out: Vec<Pasted> = Vec::new();
    let mut push = |reference: &str, name: &str, by: PastedBy| {
        if !is_system(name) && !out.iter().any(|p| p.reference == reference) {
            out.push(Pasted {
                reference: reference.to_string(),
                by,
            });
        }
    };
    let patterns: &[&LazyLock<Regex>] = match client {
        Client::ClaudeCode => &[&BRACE],
        Client::GeminiCli => &[&BRACE, &BARE, &PERCENT],
        Client::Cursor | Client::VsCode | Client::Windsurf | Client::RooCode => &[&EDITOR],
        Client::Generic => &[&BRACE, &EDITOR],
        Client::Continue => &[&CONTINUE],
        _ => &[],
    };
    for re in patterns {
        for caps in re.captures_iter(text) {
            if let (Some(all), Some(name)) = (caps.get(0), caps.get(1)) {
                push(all.as_str(), name.as_str(), PastedBy::Client);
            }
        }
    }
    if client == Client::Opencode {
        for caps in OPENCODE.captures_iter(text) {
            if let (Some(all), Some(name)) = (caps.get(1), caps.get(2)) {
                push(all.as_str(), name.as_str(), PastedBy::Client);
            }
        }
    }
    if shell.syntax == Syntax::Cmd {
        for caps in PERCENT.captures_iter(text) {
            if let (Some(all), Some(name)) = (caps.get(0), caps.get(1)) {
                push(all.as_str(), name.as_str(), PastedBy::Cmd);
            }
        }
    }
    out
}

/// `cmd /c` with one program and plain arguments: cmd runs just what was listed.
fn is_plain_cmd(launch: &Launch, shell: &ShellString) -> bool {
    let Some(script) = shell.script.and_then(|i| launch.scripts.get(i)) else {
        return false;
    };
    let [command] = script.commands.as_slice() else {
        return false;
    };
    command.redirects.is_empty()
        && command.substitutions.is_empty()
        && !shell.text.contains(['^', '(', ')', '!'])
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &SHELL_WRAPPER_IN_COMMAND
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in file.servers.iter().filter(|s| s.enabled) {
            let Some(launch) = Launch::of(server, &file.source.text) else {
                continue;
            };
            for shell in &launch.shells {
                let pasted = pasted(file.client, shell);
                if pasted.is_empty() && shell.syntax == Syntax::Cmd && is_plain_cmd(&launch, shell)
                {
                    continue;
                }
                out.push(diagnostic(file, server, shell, &pasted));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(syntax: Syntax, text: &str) -> ShellString {
        ShellString {
            shell: "sh".into(),
            flag: "-c".into(),
            syntax,
            text: text.into(),
            span: Default::default(),
            encoded: false,
            joined: false,
            script: None,
        }
    }

    fn refs(client: Client, syntax: Syntax, text: &str) -> Vec<String> {
        pasted(client, &shell(syntax, text))
            .into_iter()
            .map(|p| p.reference)
            .collect()
    }

    #[test]
    fn references_each_client_pastes() {
        let t = "run --url ${API_URL} --home ${HOME} $TOKEN \"$QUOTED\" ${env:KEY} {env:OC} %WIN%";
        assert_eq!(refs(Client::ClaudeCode, Syntax::Posix, t), ["${API_URL}"]);
        assert_eq!(
            refs(Client::GeminiCli, Syntax::Posix, t),
            ["${API_URL}", "$TOKEN", "$QUOTED", "%WIN%"]
        );
        assert_eq!(refs(Client::Cursor, Syntax::Posix, t), ["${env:KEY}"]);
        assert_eq!(refs(Client::Opencode, Syntax::Posix, t), ["{env:OC}"]);
        assert!(refs(Client::ClaudeDesktop, Syntax::Posix, t).is_empty());
        assert!(refs(Client::Codex, Syntax::Posix, t).is_empty());
        assert_eq!(
            refs(Client::Continue, Syntax::Posix, "x ${{ secrets.DB_URL }}"),
            ["secrets.DB_URL"]
                .iter()
                .map(|s| format!("${{{{ {s} }}}}"))
                .collect::<Vec<_>>()
        );
        // cmd expands %VAR% itself, whatever the client; system paths are not a risk.
        assert_eq!(
            refs(
                Client::ClaudeDesktop,
                Syntax::Cmd,
                "x %API_KEY% %USERPROFILE%\\a"
            ),
            ["%API_KEY%"]
        );
        assert!(refs(Client::VsCode, Syntax::Posix, "cd ${workspaceFolder} && x").is_empty());
    }
}
