//! Recognising a file as a client configuration: first by where it is, then by what it holds.

use std::path::{Component, Path, PathBuf};

use super::adapters::Schema;
use super::{Client, Scope};
use crate::document::{Format, Node};

/// What a file was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classified {
    pub client: Client,
    pub scope: Scope,
    pub schema: Schema,
}

/// How a pattern decides the scope of a file it matches.
#[derive(Clone, Copy)]
enum ScopeRule {
    Fixed(Scope),
    /// `~/.cursor/mcp.json` is the user's; `<repo>/.cursor/mcp.json` is the project's.
    UserIfUnderHome,
}

use ScopeRule::{Fixed, UserIfUnderHome};

/// Path tails, in lower case, `*` standing for one component. The first match wins, so more
/// specific tails come first.
const PATTERNS: &[(&str, Client, ScopeRule, Schema)] = &[
    (
        "claude_desktop_config.json",
        Client::ClaudeDesktop,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        ".claude.json",
        Client::ClaudeCode,
        Fixed(Scope::User),
        Schema::ClaudeCodeState,
    ),
    (
        "managed-mcp.json",
        Client::ClaudeCode,
        Fixed(Scope::Managed),
        Schema::McpServers,
    ),
    (
        ".mcp.json",
        Client::ClaudeCode,
        Fixed(Scope::Project),
        Schema::McpServers,
    ),
    (
        ".claude/settings.json",
        Client::ClaudeCode,
        UserIfUnderHome,
        Schema::ClaudeSettings,
    ),
    (
        ".claude/settings.local.json",
        Client::ClaudeCode,
        Fixed(Scope::Project),
        Schema::ClaudeSettings,
    ),
    (
        "claudecode/managed-settings.json",
        Client::ClaudeCode,
        Fixed(Scope::Managed),
        Schema::ClaudeSettings,
    ),
    (
        "claude-code/managed-settings.json",
        Client::ClaudeCode,
        Fixed(Scope::Managed),
        Schema::ClaudeSettings,
    ),
    (
        ".cursor/mcp.json",
        Client::Cursor,
        UserIfUnderHome,
        Schema::McpServers,
    ),
    (
        ".vscode/mcp.json",
        Client::VsCode,
        Fixed(Scope::Project),
        Schema::VsCodeMcp,
    ),
    (
        ".vscode/settings.json",
        Client::VsCode,
        Fixed(Scope::Project),
        Schema::VsCodeSettings,
    ),
    (
        ".devcontainer/devcontainer.json",
        Client::VsCode,
        Fixed(Scope::Project),
        Schema::DevContainer,
    ),
    (
        ".devcontainer.json",
        Client::VsCode,
        Fixed(Scope::Project),
        Schema::DevContainer,
    ),
    (
        "saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
        Client::Cline,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        "rooveterinaryinc.roo-cline/settings/mcp_settings.json",
        Client::RooCode,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        "user/profiles/*/mcp.json",
        Client::VsCode,
        Fixed(Scope::User),
        Schema::VsCodeMcp,
    ),
    (
        "user/mcp.json",
        Client::VsCode,
        Fixed(Scope::User),
        Schema::VsCodeMcp,
    ),
    (
        "user/settings.json",
        Client::VsCode,
        Fixed(Scope::User),
        Schema::VsCodeSettings,
    ),
    (
        ".codeium/windsurf/mcp_config.json",
        Client::Windsurf,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        ".codeium/mcp_config.json",
        Client::Windsurf,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        ".zed/settings.json",
        Client::Zed,
        Fixed(Scope::Project),
        Schema::Zed,
    ),
    (
        "zed/settings.json",
        Client::Zed,
        Fixed(Scope::User),
        Schema::Zed,
    ),
    (
        "cline_mcp_settings.json",
        Client::Cline,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        ".roo/mcp.json",
        Client::RooCode,
        Fixed(Scope::Project),
        Schema::McpServers,
    ),
    (
        ".continue/mcpservers/*.yaml",
        Client::Continue,
        Fixed(Scope::Project),
        Schema::ContinueBlock,
    ),
    (
        ".continue/mcpservers/*.yml",
        Client::Continue,
        Fixed(Scope::Project),
        Schema::ContinueBlock,
    ),
    (
        ".continue/mcpservers/*.json",
        Client::Continue,
        Fixed(Scope::Project),
        Schema::McpServers,
    ),
    (
        ".continue/config.yaml",
        Client::Continue,
        UserIfUnderHome,
        Schema::ContinueBlock,
    ),
    (
        ".continue/config.json",
        Client::Continue,
        UserIfUnderHome,
        Schema::ContinueLegacyJson,
    ),
    (
        ".gemini/extensions/*/gemini-extension.json",
        Client::GeminiCli,
        Fixed(Scope::Extension),
        Schema::McpServers,
    ),
    (
        "gemini-extension.json",
        Client::GeminiCli,
        Fixed(Scope::Extension),
        Schema::McpServers,
    ),
    (
        ".gemini/settings.json",
        Client::GeminiCli,
        UserIfUnderHome,
        Schema::McpServers,
    ),
    (
        "gemini-cli/settings.json",
        Client::GeminiCli,
        Fixed(Scope::Managed),
        Schema::McpServers,
    ),
    (
        "geminicli/settings.json",
        Client::GeminiCli,
        Fixed(Scope::Managed),
        Schema::McpServers,
    ),
    (
        ".codex/config.toml",
        Client::Codex,
        UserIfUnderHome,
        Schema::Codex,
    ),
    (
        "codex/config.toml",
        Client::Codex,
        Fixed(Scope::Managed),
        Schema::Codex,
    ),
    (
        ".codex/managed_config.toml",
        Client::Codex,
        Fixed(Scope::Managed),
        Schema::Codex,
    ),
    (
        "goose/config.yaml",
        Client::Goose,
        Fixed(Scope::User),
        Schema::Goose,
    ),
    (
        "goose/config/config.yaml",
        Client::Goose,
        Fixed(Scope::User),
        Schema::Goose,
    ),
    (
        "opencode/opencode.json",
        Client::Opencode,
        Fixed(Scope::User),
        Schema::Opencode,
    ),
    (
        "opencode.json",
        Client::Opencode,
        Fixed(Scope::Project),
        Schema::Opencode,
    ),
    (
        ".kiro/settings/mcp.json",
        Client::Kiro,
        UserIfUnderHome,
        Schema::McpServers,
    ),
    (
        ".kiro/agents/*.json",
        Client::Kiro,
        UserIfUnderHome,
        Schema::McpServers,
    ),
    (
        ".aws/amazonq/cli-agents/*.json",
        Client::AmazonQ,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        ".aws/amazonq/mcp.json",
        Client::AmazonQ,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        ".aws/amazonq/default.json",
        Client::AmazonQ,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        ".amazonq/mcp.json",
        Client::AmazonQ,
        Fixed(Scope::Project),
        Schema::McpServers,
    ),
    (
        ".amazonq/default.json",
        Client::AmazonQ,
        Fixed(Scope::Project),
        Schema::McpServers,
    ),
    (
        ".junie/mcp/mcp.json",
        Client::Junie,
        UserIfUnderHome,
        Schema::McpServers,
    ),
    (
        ".lmstudio/mcp.json",
        Client::LmStudio,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        "lm-studio/mcp.json",
        Client::LmStudio,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
    (
        "github-copilot/intellij/mcp.json",
        Client::CopilotJetBrains,
        Fixed(Scope::User),
        Schema::McpServers,
    ),
];

/// Recognises a configuration file by its path. `home` decides user versus project scope for
/// folders that exist in both places (`~/.cursor` versus `<repo>/.cursor`).
pub fn classify_path(path: &Path, home: Option<&Path>) -> Option<Classified> {
    matched(path, home).map(|(classified, _)| classified)
}

/// The project folder a project config belongs to, what clients call `${workspaceFolder}`:
/// `<repo>` for `<repo>/.vscode/mcp.json` or `<repo>/.mcp.json`. `None` for user, managed and
/// extension configs, and for files not recognised by their path.
pub fn project_root(path: &Path, home: Option<&Path>) -> Option<PathBuf> {
    let (classified, depth) = matched(path, home)?;
    (classified.scope == Scope::Project)
        .then(|| path.ancestors().nth(depth).map(Path::to_path_buf))
        .flatten()
}

/// The classification of `path` and how many of its trailing components the pattern covered.
fn matched(path: &Path, home: Option<&Path>) -> Option<(Classified, usize)> {
    let components: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().to_lowercase()),
            _ => None,
        })
        .collect();
    let file = components.last()?;
    // Fixtures and hand-written examples often use `.jsonc`; clients read both.
    let alt_file = file
        .strip_suffix(".jsonc")
        .map(|stem| format!("{stem}.json"));
    for &(pattern, client, scope_rule, schema) in PATTERNS {
        let tail: Vec<&str> = pattern.split('/').collect();
        let matches = |last: &str| {
            components.len() >= tail.len() && {
                let start = components.len() - tail.len();
                tail.iter().enumerate().all(|(i, want)| {
                    let have = if i == tail.len() - 1 {
                        last
                    } else {
                        components[start + i].as_str()
                    };
                    if let Some(ext) = want.strip_prefix("*.") {
                        have.ends_with(&format!(".{ext}"))
                    } else {
                        *want == "*" || *want == have
                    }
                })
            }
        };
        if matches(file) || alt_file.as_deref().is_some_and(matches) {
            let scope = match scope_rule {
                Fixed(scope) => scope,
                UserIfUnderHome => {
                    let depth = tail.len();
                    let owner = path.ancestors().nth(depth);
                    if owner.is_some() && owner == home {
                        Scope::User
                    } else {
                        Scope::Project
                    }
                }
            };
            let classified = Classified {
                client,
                scope,
                schema,
            };
            return Some((classified, tail.len()));
        }
    }
    None
}

/// Cheap test on raw text before parsing a file we could not recognise by its path: only text
/// that mentions an MCP server map is worth a parse.
pub fn might_hold_servers(text: &str) -> bool {
    [
        "mcpServers",
        "mcp_servers",
        "context_servers",
        "\"mcp\"",
        "mcp:",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// Recognises a parsed document whose path said nothing, by its shape.
pub fn sniff_schema(doc: &Node, format: Format) -> Option<Schema> {
    match format {
        Format::Toml => doc
            .get("mcp_servers")
            .filter(|n| n.is_object())
            .map(|_| Schema::Codex),
        Format::Yaml => match doc.get("mcpServers") {
            Some(n) if !n.items().is_empty() => Some(Schema::ContinueBlock),
            Some(n) if n.is_object() => Some(Schema::McpServers),
            _ => None,
        },
        Format::Json => {
            if doc.get("mcpServers").is_some_and(Node::is_object) {
                Some(Schema::McpServers)
            } else if doc.get("context_servers").is_some_and(Node::is_object) {
                Some(Schema::Zed)
            } else if doc
                .pointer(&["mcp", "servers"])
                .is_some_and(Node::is_object)
            {
                Some(Schema::VsCodeSettings)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn class(path: &str, home: &str) -> Option<(Client, Scope)> {
        let home = PathBuf::from(home);
        classify_path(Path::new(path), Some(&home)).map(|c| (c.client, c.scope))
    }

    #[test]
    fn project_configs_know_their_workspace() {
        let home = PathBuf::from("/home/u");
        let root = |p: &str| project_root(Path::new(p), Some(&home));
        assert_eq!(root("/repo/.vscode/mcp.json"), Some(PathBuf::from("/repo")));
        assert_eq!(root("/repo/.mcp.json"), Some(PathBuf::from("/repo")));
        assert_eq!(
            root("/home/u/src/app/.cursor/mcp.json"),
            Some(PathBuf::from("/home/u/src/app"))
        );
        assert_eq!(
            root("/repo/.continue/mcpServers/db.yaml"),
            Some(PathBuf::from("/repo"))
        );
        // The user's own configs have no workspace.
        assert_eq!(root("/home/u/.cursor/mcp.json"), None);
        assert_eq!(root("/home/u/.config/Code/User/mcp.json"), None);
        assert_eq!(root("/repo/notes.json"), None);
    }

    #[test]
    fn recognises_real_locations() {
        let h = "/home/u";
        assert_eq!(
            class("/home/u/.config/Claude/claude_desktop_config.json", h),
            Some((Client::ClaudeDesktop, Scope::User))
        );
        assert_eq!(
            class("/home/u/.cursor/mcp.json", h),
            Some((Client::Cursor, Scope::User))
        );
        assert_eq!(
            class("/home/u/src/app/.cursor/mcp.json", h),
            Some((Client::Cursor, Scope::Project))
        );
        assert_eq!(
            class("/repo/.vscode/mcp.json", h),
            Some((Client::VsCode, Scope::Project))
        );
        assert_eq!(
            class("/home/u/.config/Code/User/mcp.json", h),
            Some((Client::VsCode, Scope::User))
        );
        assert_eq!(
            class(
                "/home/u/.config/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json",
                h
            ),
            Some((Client::RooCode, Scope::User))
        );
        assert_eq!(
            class("/home/u/.codex/config.toml", h),
            Some((Client::Codex, Scope::User))
        );
        assert_eq!(
            class("/repo/.continue/mcpServers/db.yaml", h),
            Some((Client::Continue, Scope::Project))
        );
        assert_eq!(
            class("/repo/opencode.jsonc", h),
            Some((Client::Opencode, Scope::Project))
        );
        assert_eq!(
            class("/repo/fixtures/claude_desktop_config.jsonc", h),
            Some((Client::ClaudeDesktop, Scope::User))
        );
        assert_eq!(
            class(
                "C:/Users/u/AppData/Roaming/Claude/claude_desktop_config.json",
                h
            )
            .map(|c| c.0),
            Some(Client::ClaudeDesktop)
        );
        assert_eq!(class("/repo/package.json", h), None);
    }
}
