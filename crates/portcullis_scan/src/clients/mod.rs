//! The MCP clients portcullis knows: where each keeps its configuration, how to recognise a
//! file as one of them, and how to read its schema into the normalised model.

mod adapters;
mod classify;
mod locations;

pub use adapters::{Normalised, Schema, normalise};
pub use classify::{Classified, classify_path, might_hold_servers, project_root, sniff_schema};
pub use locations::{
    Candidate, Environment, Platform, home_of, user_config_candidates, user_config_folders,
};

use serde::Serialize;

/// An MCP client (or family of clients sharing a file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    ClaudeDesktop,
    ClaudeCode,
    Cursor,
    VsCode,
    Windsurf,
    Zed,
    Cline,
    RooCode,
    Continue,
    GeminiCli,
    Codex,
    Goose,
    Opencode,
    Kiro,
    AmazonQ,
    Junie,
    LmStudio,
    CopilotJetBrains,
    /// A file with an MCP server map whose client we cannot tell (examples, templates).
    Generic,
}

impl Client {
    pub const ALL: [Client; 19] = [
        Client::ClaudeDesktop,
        Client::ClaudeCode,
        Client::Cursor,
        Client::VsCode,
        Client::Windsurf,
        Client::Zed,
        Client::Cline,
        Client::RooCode,
        Client::Continue,
        Client::GeminiCli,
        Client::Codex,
        Client::Goose,
        Client::Opencode,
        Client::Kiro,
        Client::AmazonQ,
        Client::Junie,
        Client::LmStudio,
        Client::CopilotJetBrains,
        Client::Generic,
    ];

    /// Stable identifier, used in settings, JSON output and the `portcullis-client:` directive.
    pub fn id(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "claude-desktop",
            Client::ClaudeCode => "claude-code",
            Client::Cursor => "cursor",
            Client::VsCode => "vscode",
            Client::Windsurf => "windsurf",
            Client::Zed => "zed",
            Client::Cline => "cline",
            Client::RooCode => "roo-code",
            Client::Continue => "continue",
            Client::GeminiCli => "gemini-cli",
            Client::Codex => "codex",
            Client::Goose => "goose",
            Client::Opencode => "opencode",
            Client::Kiro => "kiro",
            Client::AmazonQ => "amazon-q",
            Client::Junie => "junie",
            Client::LmStudio => "lm-studio",
            Client::CopilotJetBrains => "copilot-jetbrains",
            Client::Generic => "generic",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "Claude Desktop",
            Client::ClaudeCode => "Claude Code",
            Client::Cursor => "Cursor",
            Client::VsCode => "VS Code",
            Client::Windsurf => "Windsurf",
            Client::Zed => "Zed",
            Client::Cline => "Cline",
            Client::RooCode => "Roo Code",
            Client::Continue => "Continue",
            Client::GeminiCli => "Gemini CLI",
            Client::Codex => "Codex",
            Client::Goose => "Goose",
            Client::Opencode => "opencode",
            Client::Kiro => "Kiro",
            Client::AmazonQ => "Amazon Q Developer",
            Client::Junie => "Junie",
            Client::LmStudio => "LM Studio",
            Client::CopilotJetBrains => "GitHub Copilot for JetBrains",
            Client::Generic => "MCP client",
        }
    }

    pub fn from_id(id: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.id() == id.trim())
    }
}

/// Where a configuration applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The user's own configuration, for every project.
    User,
    /// A file in a repository, applying to whoever opens it.
    Project,
    /// Installed by an administrator; the user cannot override it.
    Managed,
    /// Shipped inside an extension or plugin.
    Extension,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Project => "project",
            Scope::Managed => "managed",
            Scope::Extension => "extension",
        }
    }
}
