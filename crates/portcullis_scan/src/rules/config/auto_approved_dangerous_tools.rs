use crate::clients::{Client, Scope};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{AutoApprove, ConfigFile, PermissionGrant, ServerEntry, Transport};
use crate::registry::{RuleMeta, Severity};
use crate::span::{Span, Spanned};
use crate::text::words;

declare_rule! {
    /// ## What it does
    /// Finds MCP tools that run without the user's confirmation although they change
    /// things: every tool of a server (Gemini CLI `trust: true`, Roo Code / Cline / Kiro
    /// `alwaysAllow` or `autoApprove` with `"*"`, Claude Code `permissions.allow` entries
    /// `mcp__<server>` or `mcp__<server>__*`), every tool of every extension (Goose
    /// `GOOSE_MODE: auto`), or a tool listed by name whose name says it writes, deletes,
    /// executes, sends or spends (`write_file`, `delete_branch`, `run_command`,
    /// `send_email`, `create_payment`). Tools whose names start with a reading verb
    /// (`read_file`, `list_issues`, `get_status`, `search_code`) are not reported.
    ///
    /// A tool that runs commands or code (`execute_command`, `shell`, `run_script`,
    /// `evaluate`) is critical: one injected instruction becomes code running on the machine.
    /// Everything else is high. Queries (`execute_sql`, `run_query`) count as changing data,
    /// not as running commands.
    ///
    /// ## Why is this bad?
    /// The confirmation prompt is the last check between what the model was told to do and
    /// what happens. The model reads untrusted text (web pages, issues, emails, file
    /// contents, other tools' results) and can be instructed by it; with the prompt gone, a
    /// prompt injection deletes, pushes, sends or runs whatever it wants with no human in the
    /// loop. Blanket approvals are worse: they also cover tools a server adds in its next
    /// update.
    ///
    /// ## Example
    /// ```json file=.roo/mcp.json
    /// {
    ///   "mcpServers": {
    ///     "desktop": {
    ///       "command": "npx",
    ///       "args": ["-y", "@wonderwhy-er/desktop-commander@0.2.7"],
    ///       "alwaysAllow": ["read_file", "start_process"]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json file=.roo/mcp.json
    /// {
    ///   "mcpServers": {
    ///     "desktop": {
    ///       "command": "npx",
    ///       "args": ["-y", "@wonderwhy-er/desktop-commander@0.2.7"],
    ///       "alwaysAllow": ["read_file", "list_directory"]
    ///     }
    ///   }
    /// }
    /// ```
    /// Auto-approve only tools that read, and let the client ask before anything that
    /// changes files, runs commands, sends messages or spends money.
    ///
    /// ## References
    /// - [CWE-862: Missing Authorization](https://cwe.mitre.org/data/definitions/862.html)
    /// - [MCP Tools: security considerations (human in the loop)](https://modelcontextprotocol.io/specification/2025-11-25/server/tools#security-considerations)
    /// - [Gemini CLI: MCP server `trust`](https://github.com/google-gemini/gemini-cli/blob/main/docs/tools/mcp-server.md)
    /// - [Claude Code: permission rules for MCP tools](https://code.claude.com/docs/en/settings)
    /// - [Goose: GOOSE_MODE](https://block.github.io/goose/docs/guides/goose-permissions)
    pub static AUTO_APPROVED_DANGEROUS_TOOLS = {
        code: "PC212",
        name: "auto-approved-dangerous-tools",
        summary: "Tools that change things run without the user's confirmation",
        severity: High,
        confidence: Medium,
        cwe: [862],
        target: Config,
    }
}

/// What a tool does, judged by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Danger {
    Writes,
    Sends,
    Deletes,
    Spends,
    Executes,
}

impl Danger {
    fn describe(self) -> &'static str {
        match self {
            Danger::Writes => "changes files or data",
            Danger::Sends => "sends messages or publishes",
            Danger::Deletes => "deletes files or data",
            Danger::Spends => "spends money",
            Danger::Executes => "runs commands or code",
        }
    }

    fn severity(self) -> Severity {
        if self == Danger::Executes {
            Severity::Critical
        } else {
            Severity::High
        }
    }
}

/// The finding, by what was approved.
enum Approval<'a> {
    /// One tool, by name, in a server's auto-approve list.
    Tool {
        server: &'a str,
        tool: &'a str,
        danger: Danger,
    },
    /// Every tool of one server, by a setting of the server.
    AllOfServer { server: &'a str, setting: String },
    /// A Claude Code `permissions.allow` entry.
    Grant {
        grant: &'a PermissionGrant,
        danger: Option<Danger>,
        project: bool,
    },
    /// Every tool of every server (Goose `GOOSE_MODE: auto`).
    Global {
        setting: String,
        servers: Vec<&'a str>,
        shell: Option<&'a str>,
    },
}

fn diagnostic(file: &ConfigFile, span: Span, approval: &Approval<'_>) -> Diagnostic {
    let (message, help, severity, server) = match approval {
        Approval::Tool {
            server,
            tool,
            danger,
        } => (
            format!(
                "server `{server}` runs `{tool}` without asking, and it {}",
                danger.describe()
            ),
            format!(
                "Remove `{tool}` from the auto-approve list so the client asks before each call; auto-approve only tools that read."
            ),
            danger.severity(),
            Some(*server),
        ),
        Approval::AllOfServer { server, setting } => (
            format!("server `{server}` runs every tool without asking ({setting})"),
            "Remove the blanket approval and list only the read-only tools you use: it covers every tool the server has or adds in an update, and a prompt injection can call any of them.".to_string(),
            Severity::High,
            Some(*server),
        ),
        Approval::Grant {
            grant,
            danger,
            project,
        } => {
            let whose = if *project {
                "this project's settings allow"
            } else {
                "the settings allow"
            };
            let server = grant.server.as_str();
            match (&grant.tool, danger) {
                (Some(tool), Some(danger)) => (
                    format!(
                        "{whose} `{tool}` of server `{server}` to run without asking, and it {}",
                        danger.describe()
                    ),
                    format!(
                        "Remove `{}` from `permissions.allow` so Claude Code asks before each call.",
                        grant.rule.value
                    ),
                    danger.severity(),
                    Some(server),
                ),
                _ if server == "*" => (
                    format!("{whose} every tool of every MCP server to run without asking"),
                    "Allow read-only tools by name (`mcp__<server>__<tool>`) instead.".to_string(),
                    Severity::High,
                    None,
                ),
                _ => (
                    format!("{whose} every tool of server `{server}` to run without asking (`{}`)", grant.rule.value),
                    format!(
                        "Allow the read-only tools you use by name (`mcp__{server}__<tool>`) instead of the whole server: it covers every tool the server has or adds in an update."
                    ),
                    Severity::High,
                    Some(server),
                ),
            }
        }
        Approval::Global {
            setting,
            servers,
            shell,
        } => {
            let listed = if servers.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = servers.iter().take(5).map(|s| format!("`{s}`")).collect();
                let more = if servers.len() > 5 { ", …" } else { "" };
                format!(" ({}{more})", names.join(", "))
            };
            let shell_note = shell
                .map(|s| format!(", including the shell of `{s}`"))
                .unwrap_or_default();
            (
                format!(
                    "`{setting}` runs every tool of every extension{listed} without asking{shell_note}"
                ),
                "Set `GOOSE_MODE: smart_approve` or `approve` so Goose asks before tools that change things.".to_string(),
                if shell.is_some() { Severity::Critical } else { Severity::High },
                None,
            )
        }
    };
    let mut d = Diagnostic::new(&AUTO_APPROVED_DANGEROUS_TOOLS, &file.source, span, message)
        .with_help(help)
        .with_severity(severity);
    if let Some(server) = server {
        d = d.with_server(server);
    }
    d
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &AUTO_APPROVED_DANGEROUS_TOOLS
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in file.servers.iter().filter(|s| s.enabled) {
            check_server(file, server, out);
        }
        let project = file.scope == Scope::Project;
        for grant in &file.trust.permission_grants {
            let danger = match &grant.tool {
                None => None,
                Some(tool) => match classify_tool(tool) {
                    Some(d) => Some(d),
                    None => continue,
                },
            };
            out.push(diagnostic(
                file,
                grant.rule.span,
                &Approval::Grant {
                    grant,
                    danger,
                    project,
                },
            ));
        }
        if let Some(mode) = &file.trust.global_auto_approve {
            out.push(global(file, mode));
        }
    }
}

fn check_server(file: &ConfigFile, server: &ServerEntry, out: &mut Vec<Diagnostic>) {
    let name = server.name.value.as_str();
    match &server.auto_approve {
        AutoApprove::None => {}
        AutoApprove::All(span) => {
            let text = file.source.text.get(span.range()).unwrap_or("");
            let setting = if text.trim_matches(['"', '\'']) == "*" {
                "a `*` in its auto-approve list".to_string()
            } else {
                format!("`{}`", text.replace(['"', '\''], ""))
            };
            out.push(diagnostic(
                file,
                *span,
                &Approval::AllOfServer {
                    server: name,
                    setting,
                },
            ));
        }
        AutoApprove::Tools(tools) => {
            for tool in tools {
                if let Some(danger) = classify_tool(&tool.value) {
                    out.push(diagnostic(
                        file,
                        tool.span,
                        &Approval::Tool {
                            server: name,
                            tool: &tool.value,
                            danger,
                        },
                    ));
                }
            }
        }
    }
}

/// Goose's builtin extensions that run shell commands or scripts.
const GOOSE_SHELL_EXTENSIONS: &[&str] = &["developer", "computercontroller"];

fn global(file: &ConfigFile, mode: &Spanned<String>) -> Diagnostic {
    let servers: Vec<&str> = file
        .servers
        .iter()
        .filter(|s| s.enabled)
        .map(|s| s.name.value.as_str())
        .collect();
    let shell = file
        .servers
        .iter()
        .filter(|s| s.enabled && s.transport == Transport::Builtin)
        .map(|s| s.name.value.as_str())
        .find(|n| GOOSE_SHELL_EXTENSIONS.contains(&n.to_ascii_lowercase().as_str()));
    let setting = if file.client == Client::Goose {
        format!("GOOSE_MODE: {}", mode.value)
    } else {
        mode.value.clone()
    };
    diagnostic(
        file,
        mode.span,
        &Approval::Global {
            setting,
            servers,
            shell,
        },
    )
}

/// Verbs that, leading a name, make a tool a reader (`list_commands`, `get_terminal_output`).
const READ_VERBS: &[&str] = &[
    "read",
    "get",
    "list",
    "ls",
    "search",
    "find",
    "fetch",
    "query",
    "show",
    "view",
    "describe",
    "lookup",
    "look",
    "check",
    "count",
    "stat",
    "status",
    "info",
    "inspect",
    "browse",
    "explain",
    "preview",
    "diff",
    "log",
    "logs",
    "history",
    "tail",
    "head",
    "grep",
    "glob",
    "tree",
    "validate",
    "analyze",
    "analyse",
    "summarize",
    "compare",
    "resolve",
    "retrieve",
    "which",
    "whoami",
    "ping",
    "echo",
    "current",
    "is",
    "has",
    "can",
    "sort",
    "filter",
    "parse",
    "calculate",
    "compute",
];

const EXECUTES: &[&str] = &[
    "exec",
    "execute",
    "run",
    "spawn",
    "shell",
    "bash",
    "sh",
    "zsh",
    "powershell",
    "pwsh",
    "cmd",
    "command",
    "terminal",
    "eval",
    "evaluate",
    "script",
    "sudo",
    "repl",
    "process",
    "interpreter",
    "osascript",
    "applescript",
];
/// Objects that make an executing verb a data change rather than a command.
const DATA_QUERIES: &[&str] = &[
    "sql", "query", "queries", "cypher", "graphql", "gql", "sparql",
];
const DELETES: &[&str] = &[
    "delete",
    "del",
    "remove",
    "rm",
    "rmdir",
    "unlink",
    "erase",
    "destroy",
    "purge",
    "wipe",
    "drop",
    "truncate",
    "uninstall",
    "kill",
    "terminate",
    "revoke",
    "reset",
    "prune",
];
const SPENDS: &[&str] = &[
    "pay", "payment", "payout", "purchase", "buy", "order", "charge", "refund", "transfer",
    "withdraw", "sell", "trade", "swap", "bet", "bid", "mint", "stake",
];
const SENDS: &[&str] = &[
    "send",
    "post",
    "email",
    "mail",
    "sms",
    "message",
    "reply",
    "comment",
    "tweet",
    "publish",
    "notify",
    "broadcast",
    "share",
    "forward",
    "submit",
    "upload",
    "invite",
];
const WRITES: &[&str] = &[
    "write", "edit", "create", "update", "set", "put", "patch", "modify", "replace", "insert",
    "upsert", "append", "save", "add", "move", "mv", "rename", "copy", "cp", "mkdir", "chmod",
    "chown", "install", "commit", "push", "merge", "rebase", "checkout", "apply", "deploy",
    "release", "restore", "import", "sql", "approve", "grant", "assign", "lock", "unlock",
    "trigger", "dispatch", "schedule", "enable", "disable", "fork", "scale", "start", "stop",
    "restart", "reboot", "shutdown", "invoke", "launch",
];

/// What a tool does, judged by the words of its name; `None` for readers and unknowns.
fn classify_tool(name: &str) -> Option<Danger> {
    let words = words(name);
    let first = words.first()?;
    if READ_VERBS.contains(&first.as_str()) {
        return None;
    }
    // `kill_process`, `terminate_shell`: ending a process is not running one.
    if DELETES.contains(&first.as_str()) {
        return Some(Danger::Deletes);
    }
    let is_data_query = words.iter().any(|w| DATA_QUERIES.contains(&w.as_str()));
    words
        .iter()
        .filter_map(|w| {
            let w = w.as_str();
            if EXECUTES.contains(&w) {
                Some(if is_data_query {
                    Danger::Writes
                } else {
                    Danger::Executes
                })
            } else if DELETES.contains(&w) {
                Some(Danger::Deletes)
            } else if SPENDS.contains(&w) {
                Some(Danger::Spends)
            } else if SENDS.contains(&w) {
                Some(Danger::Sends)
            } else if WRITES.contains(&w) {
                Some(Danger::Writes)
            } else {
                None
            }
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_names_into_words() {
        assert_eq!(words("writeFile"), ["write", "file"]);
        assert_eq!(words("write_file"), ["write", "file"]);
        assert_eq!(words("git-commit"), ["git", "commit"]);
        assert_eq!(words("browser.evaluate"), ["browser", "evaluate"]);
        assert_eq!(words("executeSQL"), ["execute", "sql"]);
        assert_eq!(words("S3PutObject"), ["s3", "put", "object"]);
        assert_eq!(words("*"), Vec::<String>::new());
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn classifies_tool_names() {
        for (name, want) in [
            ("write_file", Danger::Writes),
            ("edit_file", Danger::Writes),
            ("create_directory", Danger::Writes),
            ("move_file", Danger::Writes),
            ("git_commit", Danger::Writes),
            ("git_push", Danger::Writes),
            ("execute_sql", Danger::Writes),
            ("run_query", Danger::Writes),
            ("write_query", Danger::Writes),
            ("delete_file", Danger::Deletes),
            ("removeBranch", Danger::Deletes),
            ("kill_process", Danger::Deletes),
            ("drop_table", Danger::Deletes),
            ("send_email", Danger::Sends),
            ("slack_post_message", Danger::Sends),
            ("create_payment", Danger::Spends),
            ("transfer_funds", Danger::Spends),
            ("execute_command", Danger::Executes),
            ("run_terminal_cmd", Danger::Executes),
            ("start_process", Danger::Executes),
            ("interact_with_process", Danger::Executes),
            ("shell", Danger::Executes),
            ("bash", Danger::Executes),
            ("puppeteer_evaluate", Danger::Executes),
            ("runScript", Danger::Executes),
        ] {
            assert_eq!(classify_tool(name), Some(want), "{name}");
        }
        for name in [
            "read_file",
            "read_multiple_files",
            "list_directory",
            "list_commands",
            "get_terminal_output",
            "search_code",
            "get_file_info",
            "query",
            "read_query",
            "describe_table",
            "browser_snapshot",
            "browser_navigate",
            "resolve-library-id",
            "get-library-docs",
            "sequentialthinking",
            "*",
            "",
        ] {
            assert_eq!(classify_tool(name), None, "{name}");
        }
    }
}
