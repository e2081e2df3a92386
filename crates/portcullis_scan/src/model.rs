//! The normalised, spanned model of an MCP client configuration.
//!
//! Every client's file (JSON, TOML or YAML, whatever its schema) is lowered into [`ConfigFile`]s
//! holding [`ServerEntry`]s, so each config rule is written once for every client.

use std::sync::Arc;

use serde::Serialize;

use crate::clients::{Client, Scope};
use crate::document::{Format, Node};
use crate::source::SourceFile;
use crate::span::{Span, Spanned};

/// How a client talks to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    Stdio,
    StreamableHttp,
    Sse,
    WebSocket,
    /// Built into the client (Goose builtins, Zed extensions): nothing to launch or reach.
    Builtin,
    Unknown,
}

/// What the user has let the client do without asking.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AutoApprove {
    /// Every call needs the user's confirmation (the default).
    #[default]
    None,
    /// These tools run without confirmation.
    Tools(Vec<Spanned<String>>),
    /// Every tool of the server runs without confirmation (`trust: true`, `alwaysAllow: ["*"]`).
    All(Span),
}

/// A name and a value, each with its span (env variables, headers).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    pub key: Spanned<String>,
    pub value: Spanned<String>,
}

/// One MCP server as a client would launch or reach it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEntry {
    pub name: Spanned<String>,
    /// The whole entry.
    pub span: Span,
    pub transport: Transport,
    pub command: Option<Spanned<String>>,
    pub args: Vec<Spanned<String>>,
    pub env: Vec<KeyValue>,
    pub url: Option<Spanned<String>>,
    pub headers: Vec<KeyValue>,
    pub cwd: Option<Spanned<String>>,
    /// `false` when the entry is disabled (`disabled: true`, `enabled: false`).
    pub enabled: bool,
    pub auto_approve: AutoApprove,
}

impl ServerEntry {
    pub fn new(name: Spanned<String>, span: Span) -> Self {
        ServerEntry {
            name,
            span,
            transport: Transport::Unknown,
            command: None,
            args: Vec::new(),
            env: Vec::new(),
            url: None,
            headers: Vec::new(),
            cwd: None,
            enabled: true,
            auto_approve: AutoApprove::None,
        }
    }

    /// The command's program name without folders or a Windows extension (`npx.cmd` -> `npx`).
    pub fn program(&self) -> Option<&str> {
        self.command.as_ref().map(|c| program_name(&c.value))
    }

    /// The value of an environment variable set by the entry.
    pub fn env_value(&self, key: &str) -> Option<&Spanned<String>> {
        self.env
            .iter()
            .find(|kv| kv.key.value == key)
            .map(|kv| &kv.value)
    }
}

/// The bare program name of a command path: no folders, no `.exe`/`.cmd`/`.bat`, lower case.
pub fn program_name(command: &str) -> &str {
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    for ext in [".exe", ".cmd", ".bat", ".ps1"] {
        // `get` rather than indexing: the cut may fall inside a multi-byte character.
        let cut = base.len().saturating_sub(ext.len());
        if cut > 0
            && base
                .get(cut..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case(ext))
        {
            return &base[..cut];
        }
    }
    base
}

#[cfg(test)]
mod tests {
    use super::program_name;

    #[test]
    fn program_names_lose_folders_and_windows_extensions() {
        assert_eq!(program_name("C:\\tools\\npx.CMD"), "npx");
        assert_eq!(program_name("/usr/bin/uvx"), "uvx");
        assert_eq!(program_name("é'ü"), "é'ü");
        assert_eq!(program_name("ü.exe"), "ü");
    }
}

/// A tool-permission grant found outside a server entry (Claude Code `permissions.allow`).
#[derive(Debug, Clone, PartialEq)]
pub struct PermissionGrant {
    /// The rule as written, e.g. `mcp__github` or `mcp__github__delete_repo`.
    pub rule: Spanned<String>,
    pub server: String,
    /// `None` when the grant covers every tool of the server.
    pub tool: Option<String>,
}

/// Client-level settings that change how servers are trusted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrustSettings {
    /// Claude Code `enableAllProjectMcpServers: true` and similar blanket approvals.
    pub approve_all_project_servers: Option<Span>,
    /// Claude Code `enabledMcpjsonServers`: project (`.mcp.json`) servers approved by name.
    pub approved_project_servers: Vec<Spanned<String>>,
    pub permission_grants: Vec<PermissionGrant>,
    /// Goose `GOOSE_MODE: auto` and similar global auto-approval.
    pub global_auto_approve: Option<Spanned<String>>,
}

/// A secret found in a configuration value, computed once when the file is loaded. Rules report
/// them; renderers mask them.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretFact {
    /// The secret itself, in the source text.
    pub span: Span,
    /// The whole value holding it.
    pub value_span: Span,
    pub kind: &'static str,
    pub confidence: crate::registry::Confidence,
    /// The key path leading to the value, e.g. `mcpServers.github.env.GITHUB_TOKEN`.
    pub path: String,
    /// The name the value is stored under (env variable, header, option), when there is one.
    pub key: Option<String>,
    /// Whether the value is a server's `url` (reported by the transport rules, not as a secret).
    pub in_server_url: bool,
    /// The server the value belongs to, when it is inside an entry.
    pub server: Option<String>,
}

/// One client configuration file, parsed and normalised.
#[derive(Debug)]
pub struct ConfigFile {
    pub source: Arc<SourceFile>,
    pub client: Client,
    pub scope: Scope,
    pub format: Format,
    pub document: Node,
    pub servers: Vec<ServerEntry>,
    pub trust: TrustSettings,
    /// For configs that hold several projects (`~/.claude.json`), the project each server
    /// belongs to, index-aligned with `servers`; `None` for the file's own level.
    pub projects: Vec<Option<String>>,
    pub secrets: Vec<SecretFact>,
}

impl ConfigFile {
    /// The group of configs a client loads together, for cross-file rules such as shadowing.
    pub fn load_group(&self, index: usize) -> (Client, Option<&str>) {
        (
            self.client,
            self.projects.get(index).and_then(|p| p.as_deref()),
        )
    }
}
