//! Client schemas lowered into the normalised model. Each function reads one schema family;
//! unknown keys are ignored, as the clients ignore them, and wrong types are skipped rather than
//! fatal so a half-broken file still gets its valid entries audited.

use super::Client;
use crate::document::{Node, Value};
use crate::model::{AutoApprove, KeyValue, PermissionGrant, ServerEntry, Transport, TrustSettings};
use crate::span::Spanned;

/// The schema families of client configuration files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schema {
    /// `{"mcpServers": {name: {command, args, env, url, headers, ...}}}`: Claude, Cursor,
    /// Windsurf, Cline, Roo, Gemini, Kiro, Amazon Q, Junie, LM Studio and most others.
    McpServers,
    /// `~/.claude.json`: top-level `mcpServers` plus `projects[path].mcpServers`.
    ClaudeCodeState,
    /// Claude Code `settings.json`: approvals and tool permissions, no servers.
    ClaudeSettings,
    /// VS Code `mcp.json`: `servers` and `inputs`.
    VsCodeMcp,
    /// VS Code `settings.json` with an `mcp` object (before 1.102).
    VsCodeSettings,
    /// `devcontainer.json`: `customizations.vscode.mcp.servers`.
    DevContainer,
    /// Zed `settings.json`: `context_servers`.
    Zed,
    /// Continue YAML: `mcpServers` as a list of named entries.
    ContinueBlock,
    /// Continue's deprecated `config.json` with `experimental.modelContextProtocolServers`.
    ContinueLegacyJson,
    /// Codex `config.toml`: `[mcp_servers.<name>]`.
    Codex,
    /// Goose `config.yaml`: `extensions`.
    Goose,
    /// opencode: `mcp.<name>` with `type: local|remote`.
    Opencode,
}

impl Schema {
    /// The schema a client's main configuration file uses, for files named only by a
    /// `portcullis-client:` directive.
    pub fn default_for(client: Client) -> Schema {
        match client {
            Client::VsCode => Schema::VsCodeMcp,
            Client::Zed => Schema::Zed,
            Client::Continue => Schema::ContinueBlock,
            Client::Codex => Schema::Codex,
            Client::Goose => Schema::Goose,
            Client::Opencode => Schema::Opencode,
            _ => Schema::McpServers,
        }
    }
}

/// What a configuration file contributes: its servers (with the project each belongs to, for
/// files that hold several) and its trust settings.
#[derive(Debug, Default)]
pub struct Normalised {
    pub servers: Vec<ServerEntry>,
    pub projects: Vec<Option<String>>,
    pub trust: TrustSettings,
}

/// Reads `doc` as `schema`.
pub fn normalise(doc: &Node, schema: Schema, client: Client) -> Normalised {
    let mut out = Normalised::default();
    let push_map = |out: &mut Normalised, map: Option<&Node>, project: Option<String>| {
        for member in map.map(Node::members).unwrap_or_default() {
            if let Some(entry) = standard_entry(&member.key, &member.value, client) {
                out.servers.push(entry);
                out.projects.push(project.clone());
            }
        }
    };
    match schema {
        Schema::McpServers => {
            push_map(&mut out, doc.get("mcpServers"), None);
            // VS Code-style `servers` copied into other clients' files still load in some.
            if doc.get("mcpServers").is_none() {
                push_map(&mut out, doc.get("servers"), None);
            }
            if let Some(map) = doc.pointer(&["mcp", "servers"]) {
                push_map(&mut out, Some(map), None);
            }
        }
        Schema::ClaudeCodeState => {
            push_map(&mut out, doc.get("mcpServers"), None);
            for project in doc.get("projects").map(Node::members).unwrap_or_default() {
                push_map(
                    &mut out,
                    project.value.get("mcpServers"),
                    Some(project.key.value.clone()),
                );
            }
        }
        Schema::ClaudeSettings => out.trust = claude_settings_trust(doc),
        Schema::VsCodeMcp => push_map(&mut out, doc.get("servers"), None),
        Schema::VsCodeSettings => push_map(&mut out, doc.pointer(&["mcp", "servers"]), None),
        Schema::DevContainer => push_map(
            &mut out,
            doc.pointer(&["customizations", "vscode", "mcp", "servers"]),
            None,
        ),
        Schema::Zed => {
            for member in doc
                .get("context_servers")
                .map(Node::members)
                .unwrap_or_default()
            {
                if let Some(entry) = zed_entry(&member.key, &member.value) {
                    out.servers.push(entry);
                    out.projects.push(None);
                }
            }
        }
        Schema::ContinueBlock => {
            for item in doc.get("mcpServers").map(Node::items).unwrap_or_default() {
                let name = item
                    .member("name")
                    .and_then(|m| m.value.spanned_str())
                    .unwrap_or_else(|| Spanned::new(String::new(), item.span));
                if let Some(entry) = standard_entry(&name, item, client) {
                    out.servers.push(entry);
                    out.projects.push(None);
                }
            }
            // Continue also imports Claude-style maps dropped into its folder.
            push_map(
                &mut out,
                doc.get("mcpServers").filter(|n| n.is_object()),
                None,
            );
        }
        Schema::ContinueLegacyJson => {
            let list = doc.pointer(&["experimental", "modelContextProtocolServers"]);
            for (i, item) in list.map(Node::items).unwrap_or_default().iter().enumerate() {
                let transport = item.get("transport").unwrap_or(item);
                let name = Spanned::new(format!("server-{}", i + 1), item.span);
                if let Some(entry) = standard_entry(&name, transport, client) {
                    out.servers.push(entry);
                    out.projects.push(None);
                }
            }
        }
        Schema::Codex => {
            for member in doc
                .get("mcp_servers")
                .map(Node::members)
                .unwrap_or_default()
            {
                if let Some(entry) = standard_entry(&member.key, &member.value, client) {
                    out.servers.push(entry);
                    out.projects.push(None);
                }
            }
        }
        Schema::Goose => {
            for member in doc.get("extensions").map(Node::members).unwrap_or_default() {
                if let Some(entry) = goose_entry(&member.key, &member.value) {
                    out.servers.push(entry);
                    out.projects.push(None);
                }
            }
            if let Some(mode) = doc.get("GOOSE_MODE").and_then(Node::spanned_str)
                && mode.value.eq_ignore_ascii_case("auto")
            {
                out.trust.global_auto_approve = Some(mode);
            }
        }
        Schema::Opencode => {
            for member in doc.get("mcp").map(Node::members).unwrap_or_default() {
                if let Some(entry) = opencode_entry(&member.key, &member.value) {
                    out.servers.push(entry);
                    out.projects.push(None);
                }
            }
        }
    }
    out
}

/// The common shape: `command`, `args`, `env`, `url`, `headers` and their many aliases.
fn standard_entry(name: &Spanned<String>, node: &Node, client: Client) -> Option<ServerEntry> {
    if !node.is_object() {
        return None;
    }
    // Cline's nested shape keeps the launch fields under `transport`.
    let launch = node
        .get("transport")
        .filter(|t| t.is_object())
        .unwrap_or(node);
    let mut entry = ServerEntry::new(name.clone(), node.span);
    entry.command = launch.get("command").and_then(Node::spanned_str);
    if entry.command.is_none() {
        // opencode-style argv arrays, and Zed's older nested `command: {path, args, env}`.
        if let Some(cmd) = launch.get("command") {
            let argv: Vec<_> = cmd.items().iter().filter_map(Node::spanned_str).collect();
            if let Some((first, rest)) = argv.split_first() {
                entry.command = Some(first.clone());
                entry.args.extend(rest.iter().cloned());
            }
        }
    }
    entry.args.extend(string_list(launch.get("args")));
    entry.env = key_values(launch.get("env").or_else(|| launch.get("environment")));
    entry.cwd = launch.get("cwd").and_then(Node::spanned_str);
    entry.url = ["url", "serverUrl", "httpUrl", "uri"]
        .iter()
        .find_map(|k| launch.get(k).and_then(Node::spanned_str));
    entry.headers = key_values(
        launch
            .get("headers")
            .or_else(|| launch.get("http_headers"))
            .or_else(|| launch.pointer(&["requestOptions", "headers"])),
    );
    entry.transport = transport_of(launch, &entry, client);
    entry.enabled = !node
        .get("disabled")
        .and_then(Node::as_bool)
        .unwrap_or(false)
        && node.get("enabled").and_then(Node::as_bool).unwrap_or(true);
    entry.auto_approve = auto_approve(node);
    Some(entry)
}

fn transport_of(node: &Node, entry: &ServerEntry, client: Client) -> Transport {
    let declared = ["type", "transportType", "transport"]
        .iter()
        .find_map(|k| node.get(k).and_then(Node::as_str))
        .map(|t| t.to_ascii_lowercase());
    match declared.as_deref() {
        Some("stdio" | "local") => return Transport::Stdio,
        Some("http" | "streamable-http" | "streamablehttp" | "streamable_http" | "remote") => {
            return Transport::StreamableHttp;
        }
        Some("sse") => return Transport::Sse,
        Some("ws" | "websocket") => return Transport::WebSocket,
        _ => {}
    }
    if entry.command.is_some() {
        Transport::Stdio
    } else if node.get("httpUrl").is_some() {
        Transport::StreamableHttp
    } else if let Some(url) = &entry.url {
        if url.value.starts_with("ws://") || url.value.starts_with("wss://") {
            Transport::WebSocket
        } else if client == Client::Cline || url.value.trim_end_matches('/').ends_with("/sse") {
            // Cline treats a url without a type as legacy SSE.
            Transport::Sse
        } else {
            Transport::StreamableHttp
        }
    } else {
        Transport::Unknown
    }
}

/// `trust: true` (Gemini), `autoApprove` (Cline, Kiro), `alwaysAllow` (Roo).
fn auto_approve(node: &Node) -> AutoApprove {
    if let Some(m) = node.member("trust")
        && m.value.as_bool() == Some(true)
    {
        return AutoApprove::All(m.key.span.cover(m.value.span));
    }
    let mut tools = Vec::new();
    for key in ["autoApprove", "alwaysAllow"] {
        for tool in node.get(key).map(Node::items).unwrap_or_default() {
            if let Some(name) = tool.spanned_str() {
                if name.value == "*" {
                    return AutoApprove::All(name.span);
                }
                tools.push(name);
            }
        }
    }
    if tools.is_empty() {
        AutoApprove::None
    } else {
        AutoApprove::Tools(tools)
    }
}

fn string_list(node: Option<&Node>) -> Vec<Spanned<String>> {
    let Some(node) = node else { return Vec::new() };
    match &node.value {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.scalar_text().map(|t| Spanned::new(t, i.span)))
            .collect(),
        // A single string where a list belongs: clients split nothing, so neither do we.
        Value::String(s) => vec![Spanned::new(s.clone(), node.span)],
        _ => Vec::new(),
    }
}

fn key_values(node: Option<&Node>) -> Vec<KeyValue> {
    node.map(Node::members)
        .unwrap_or_default()
        .iter()
        .filter_map(|m| {
            let value = m.value.scalar_text()?;
            Some(KeyValue {
                key: m.key.clone(),
                value: Spanned::new(value, m.value.span),
            })
        })
        .collect()
}

/// Zed: stdio, http, or an extension-provided server (nothing to launch).
fn zed_entry(name: &Spanned<String>, node: &Node) -> Option<ServerEntry> {
    if !node.is_object() {
        return None;
    }
    if let Some(nested) = node.get("command").filter(|c| c.is_object()) {
        let mut entry = ServerEntry::new(name.clone(), node.span);
        entry.command = nested.get("path").and_then(Node::spanned_str);
        entry.args = string_list(nested.get("args"));
        entry.env = key_values(nested.get("env"));
        entry.transport = Transport::Stdio;
        entry.enabled = node.get("enabled").and_then(Node::as_bool).unwrap_or(true);
        return Some(entry);
    }
    let mut entry = standard_entry(name, node, Client::Zed)?;
    if entry.command.is_none() && entry.url.is_none() {
        entry.transport = Transport::Builtin;
    }
    Some(entry)
}

/// Goose: `cmd`/`args`/`envs` for stdio, `uri` for HTTP, builtins and platform extensions.
fn goose_entry(key: &Spanned<String>, node: &Node) -> Option<ServerEntry> {
    if !node.is_object() {
        return None;
    }
    let name = node
        .member("name")
        .and_then(|m| m.value.spanned_str())
        .unwrap_or_else(|| key.clone());
    let mut entry = ServerEntry::new(name, node.span);
    entry.command = node.get("cmd").and_then(Node::spanned_str);
    entry.args = string_list(node.get("args"));
    entry.env = key_values(node.get("envs"));
    entry.url = node.get("uri").and_then(Node::spanned_str);
    entry.headers = key_values(node.get("headers"));
    entry.enabled = node.get("enabled").and_then(Node::as_bool).unwrap_or(true);
    entry.transport = match node.get("type").and_then(Node::as_str) {
        Some("builtin" | "platform" | "frontend") => Transport::Builtin,
        Some("stdio") => Transport::Stdio,
        Some("streamable_http") => Transport::StreamableHttp,
        Some("sse") => Transport::Sse,
        _ if entry.command.is_some() => Transport::Stdio,
        _ if entry.url.is_some() => Transport::StreamableHttp,
        _ => Transport::Unknown,
    };
    Some(entry)
}

/// opencode: `type: local` with an argv array in `command`, or `type: remote` with `url`.
fn opencode_entry(name: &Spanned<String>, node: &Node) -> Option<ServerEntry> {
    let mut entry = standard_entry(name, node, Client::Opencode)?;
    if node.get("type").and_then(Node::as_str) == Some("remote") {
        entry.transport = Transport::StreamableHttp;
    }
    Some(entry)
}

/// Claude Code `settings.json`: blanket project-server approval and `mcp__server` permissions.
fn claude_settings_trust(doc: &Node) -> TrustSettings {
    let mut trust = TrustSettings::default();
    if let Some(m) = doc.member("enableAllProjectMcpServers")
        && m.value.as_bool() == Some(true)
    {
        trust.approve_all_project_servers = Some(m.key.span.cover(m.value.span));
    }
    trust.approved_project_servers = string_list(doc.get("enabledMcpjsonServers"));
    for rule in doc
        .pointer(&["permissions", "allow"])
        .map(Node::items)
        .unwrap_or_default()
    {
        let Some(text) = rule.spanned_str() else {
            continue;
        };
        if let Some(grant) = parse_mcp_permission(&text) {
            trust.permission_grants.push(grant);
        }
    }
    trust
}

/// `mcp__server` or `mcp__server__*` grants every tool; `mcp__server__tool` grants one.
fn parse_mcp_permission(rule: &Spanned<String>) -> Option<PermissionGrant> {
    let rest = rule.value.strip_prefix("mcp__")?;
    let (server, tool) = match rest.split_once("__") {
        Some((server, "*")) | Some((server, "")) => (server, None),
        Some((server, tool)) => (server, Some(tool.to_string())),
        None => (rest, None),
    };
    Some(PermissionGrant {
        rule: rule.clone(),
        server: server.to_string(),
        tool,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Format, parse};

    fn servers(src: &str, format: Format, schema: Schema, client: Client) -> Vec<ServerEntry> {
        normalise(&parse(src, format).unwrap(), schema, client).servers
    }

    #[test]
    fn reads_the_common_shape() {
        let src = r#"{"mcpServers": {"gh": {"command": "npx", "args": ["-y", "x"], "env": {"A": "b"},
            "alwaysAllow": ["read"], "disabled": true}}}"#;
        let s = &servers(src, Format::Json, Schema::McpServers, Client::RooCode)[0];
        assert_eq!(s.name.value, "gh");
        assert_eq!(s.program(), Some("npx"));
        assert_eq!(s.args.len(), 2);
        assert_eq!(s.env[0].value.value, "b");
        assert!(!s.enabled);
        assert!(matches!(&s.auto_approve, AutoApprove::Tools(t) if t[0].value == "read"));
        assert_eq!(s.transport, Transport::Stdio);
    }

    #[test]
    fn reads_codex_goose_opencode_zed_continue() {
        let codex = "[mcp_servers.db]\nurl = \"http://x\"\nhttp_headers = { Authorization = \"Bearer t\" }\n";
        let s = &servers(codex, Format::Toml, Schema::Codex, Client::Codex)[0];
        assert_eq!(s.url.as_ref().unwrap().value, "http://x");
        assert_eq!(s.headers[0].key.value, "Authorization");

        let goose = "GOOSE_MODE: auto\nextensions:\n  dev:\n    type: builtin\n  gh:\n    cmd: npx\n    args: [x]\n    envs: {T: v}\n";
        let n = normalise(
            &parse(goose, Format::Yaml).unwrap(),
            Schema::Goose,
            Client::Goose,
        );
        assert_eq!(n.servers[0].transport, Transport::Builtin);
        assert_eq!(n.servers[1].program(), Some("npx"));
        assert!(n.trust.global_auto_approve.is_some());

        let oc = r#"{"mcp": {"a": {"type": "local", "command": ["npx", "-y", "p"], "environment": {"K": "v"}}}}"#;
        let s = &servers(oc, Format::Json, Schema::Opencode, Client::Opencode)[0];
        assert_eq!(s.program(), Some("npx"));
        assert_eq!(s.args[1].value, "p");
        assert_eq!(s.env[0].key.value, "K");

        let zed = r#"{"context_servers": {"a": {"command": {"path": "uvx", "args": ["m"]}}, "b": {"settings": {}}}}"#;
        let z = servers(zed, Format::Json, Schema::Zed, Client::Zed);
        assert_eq!(z[0].program(), Some("uvx"));
        assert_eq!(z[1].transport, Transport::Builtin);

        let cont = "mcpServers:\n  - name: pg\n    command: npx\n    args: [pg]\n";
        let c = servers(cont, Format::Yaml, Schema::ContinueBlock, Client::Continue);
        assert_eq!(c[0].name.value, "pg");
    }

    #[test]
    fn reads_claude_code_projects_and_permissions() {
        let state = r#"{"mcpServers": {"a": {"command": "x"}}, "projects": {"/p": {"mcpServers": {"b": {"command": "y"}}}}}"#;
        let n = normalise(
            &parse(state, Format::Json).unwrap(),
            Schema::ClaudeCodeState,
            Client::ClaudeCode,
        );
        assert_eq!(n.projects, vec![None, Some("/p".to_string())]);

        let settings = r#"{"enableAllProjectMcpServers": true, "enabledMcpjsonServers": ["gh"], "permissions": {"allow": ["mcp__gh", "mcp__fs__read", "Bash(ls)"]}}"#;
        let n = normalise(
            &parse(settings, Format::Json).unwrap(),
            Schema::ClaudeSettings,
            Client::ClaudeCode,
        );
        assert!(n.trust.approve_all_project_servers.is_some());
        assert_eq!(n.trust.approved_project_servers[0].value, "gh");
        assert_eq!(n.trust.permission_grants.len(), 2);
        assert_eq!(n.trust.permission_grants[0].tool, None);
        assert_eq!(n.trust.permission_grants[1].tool.as_deref(), Some("read"));
    }

    #[test]
    fn gemini_trust_approves_everything() {
        let src = r#"{"mcpServers": {"a": {"httpUrl": "https://x", "trust": true}}}"#;
        let s = &servers(src, Format::Json, Schema::McpServers, Client::GeminiCli)[0];
        assert!(matches!(s.auto_approve, AutoApprove::All(_)));
        assert_eq!(s.transport, Transport::StreamableHttp);
    }
}
