//! Where each client keeps its user-level configuration, per platform.
//!
//! Paths are computed from an explicit [`Environment`] rather than read from the process, so the
//! tables can be tested for every platform on any machine, and the CLI tests can point `HOME`
//! at a fake home.

use std::path::{Path, PathBuf};

use super::{Client, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Linux,
    MacOs,
    Windows,
}

impl Platform {
    pub fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Linux
        }
    }
}

/// The environment variables that move client configuration.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub home: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub appdata: Option<PathBuf>,
    pub local_appdata: Option<PathBuf>,
    pub program_data: Option<PathBuf>,
    pub claude_config_dir: Option<PathBuf>,
    pub codex_home: Option<PathBuf>,
    pub cline_dir: Option<PathBuf>,
    pub cline_mcp_settings_path: Option<PathBuf>,
    pub opencode_config: Option<PathBuf>,
}

impl Environment {
    /// Reads the process environment. `HOME` wins over `USERPROFILE`, so tests can fake it.
    pub fn from_process() -> Environment {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Environment {
            home: var("HOME").or_else(|| var("USERPROFILE")),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            appdata: var("APPDATA"),
            local_appdata: var("LOCALAPPDATA"),
            program_data: var("ProgramData"),
            claude_config_dir: var("CLAUDE_CONFIG_DIR"),
            codex_home: var("CODEX_HOME"),
            cline_dir: var("CLINE_DIR"),
            cline_mcp_settings_path: var("CLINE_MCP_SETTINGS_PATH"),
            opencode_config: var("OPENCODE_CONFIG"),
        }
    }
}

/// A place a client may keep its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    pub client: Client,
    pub scope: Scope,
}

/// VS Code and its forks, whose user folders and extension storage Cline and Roo live in.
const VSCODE_FLAVOURS: &[&str] = &[
    "Code",
    "Code - Insiders",
    "VSCodium",
    "Cursor",
    "Windsurf",
    "Kiro",
];

/// Every user-level (and managed) configuration path of every client on `platform`.
pub fn user_config_candidates(env: &Environment, platform: Platform) -> Vec<Candidate> {
    let mut out = Vec::new();
    let Some(home) = env.home.as_deref() else {
        return out;
    };
    let mut add = |client: Client, scope: Scope, path: PathBuf| {
        out.push(Candidate {
            path,
            client,
            scope,
        });
    };
    let user = Scope::User;
    // The folder each platform keeps application settings in.
    let app_support = match platform {
        Platform::MacOs => home.join("Library/Application Support"),
        Platform::Windows => env
            .appdata
            .clone()
            .unwrap_or_else(|| home.join("AppData/Roaming")),
        Platform::Linux => env
            .xdg_config_home
            .clone()
            .unwrap_or_else(|| home.join(".config")),
    };
    let xdg = env
        .xdg_config_home
        .clone()
        .unwrap_or_else(|| home.join(".config"));

    add(
        Client::ClaudeDesktop,
        user,
        app_support.join("Claude/claude_desktop_config.json"),
    );

    let claude_dir = env
        .claude_config_dir
        .clone()
        .unwrap_or_else(|| home.join(".claude"));
    add(Client::ClaudeCode, user, home.join(".claude.json"));
    if let Some(dir) = &env.claude_config_dir {
        add(Client::ClaudeCode, user, dir.join(".claude.json"));
    }
    add(Client::ClaudeCode, user, claude_dir.join("settings.json"));
    let managed = match platform {
        Platform::MacOs => PathBuf::from("/Library/Application Support/ClaudeCode"),
        Platform::Linux => PathBuf::from("/etc/claude-code"),
        Platform::Windows => PathBuf::from("C:/Program Files/ClaudeCode"),
    };
    add(
        Client::ClaudeCode,
        Scope::Managed,
        managed.join("managed-mcp.json"),
    );
    add(
        Client::ClaudeCode,
        Scope::Managed,
        managed.join("managed-settings.json"),
    );

    add(Client::Cursor, user, home.join(".cursor/mcp.json"));

    for flavour in VSCODE_FLAVOURS {
        let user_dir = app_support.join(flavour).join("User");
        if matches!(*flavour, "Code" | "Code - Insiders" | "VSCodium") {
            add(Client::VsCode, user, user_dir.join("mcp.json"));
            add(Client::VsCode, user, user_dir.join("settings.json"));
        }
        let storage = user_dir.join("globalStorage");
        add(
            Client::Cline,
            user,
            storage.join("saoudrizwan.claude-dev/settings/cline_mcp_settings.json"),
        );
        add(
            Client::RooCode,
            user,
            storage.join("rooveterinaryinc.roo-cline/settings/mcp_settings.json"),
        );
    }

    add(
        Client::Windsurf,
        user,
        home.join(".codeium/windsurf/mcp_config.json"),
    );
    add(
        Client::Windsurf,
        user,
        home.join(".codeium/mcp_config.json"),
    );

    let zed = match platform {
        Platform::Windows => app_support.join("Zed/settings.json"),
        _ => xdg.join("zed/settings.json"),
    };
    add(Client::Zed, user, zed);

    let cline = match (&env.cline_mcp_settings_path, &env.cline_dir) {
        (Some(path), _) => path.clone(),
        (None, Some(dir)) => dir.join("data/settings/cline_mcp_settings.json"),
        (None, None) => home.join(".cline/data/settings/cline_mcp_settings.json"),
    };
    add(Client::Cline, user, cline);
    add(
        Client::Cline,
        user,
        home.join("Documents/Cline/MCP/cline_mcp_settings.json"),
    );

    add(Client::Continue, user, home.join(".continue/config.yaml"));
    add(Client::Continue, user, home.join(".continue/config.json"));

    add(Client::GeminiCli, user, home.join(".gemini/settings.json"));
    let gemini_system = match platform {
        Platform::MacOs => PathBuf::from("/Library/Application Support/GeminiCli"),
        Platform::Linux => PathBuf::from("/etc/gemini-cli"),
        Platform::Windows => env
            .program_data
            .clone()
            .unwrap_or_else(|| "C:/ProgramData".into())
            .join("gemini-cli"),
    };
    add(
        Client::GeminiCli,
        Scope::Managed,
        gemini_system.join("settings.json"),
    );
    add(
        Client::GeminiCli,
        Scope::Managed,
        gemini_system.join("system-defaults.json"),
    );

    let codex = env
        .codex_home
        .clone()
        .unwrap_or_else(|| home.join(".codex"));
    add(Client::Codex, user, codex.join("config.toml"));
    if platform != Platform::Windows {
        add(
            Client::Codex,
            Scope::Managed,
            PathBuf::from("/etc/codex/config.toml"),
        );
    }

    let goose = match platform {
        Platform::Windows => app_support.join("Block/goose/config/config.yaml"),
        _ => xdg.join("goose/config.yaml"),
    };
    add(Client::Goose, user, goose);

    add(Client::Opencode, user, xdg.join("opencode/opencode.json"));
    add(Client::Opencode, user, xdg.join("opencode/opencode.jsonc"));
    if let Some(path) = &env.opencode_config {
        add(Client::Opencode, user, path.clone());
    }

    add(Client::Kiro, user, home.join(".kiro/settings/mcp.json"));
    add(Client::AmazonQ, user, home.join(".aws/amazonq/mcp.json"));
    add(
        Client::AmazonQ,
        user,
        home.join(".aws/amazonq/default.json"),
    );
    add(Client::Junie, user, home.join(".junie/mcp/mcp.json"));
    add(Client::LmStudio, user, home.join(".lmstudio/mcp.json"));
    add(
        Client::LmStudio,
        user,
        home.join(".cache/lm-studio/mcp.json"),
    );
    let copilot = match platform {
        Platform::Windows => env
            .local_appdata
            .clone()
            .unwrap_or_else(|| home.join("AppData/Local")),
        _ => xdg.clone(),
    };
    add(
        Client::CopilotJetBrains,
        user,
        copilot.join("github-copilot/intellij/mcp.json"),
    );
    out
}

/// Folders holding one configuration file per entry (agents, extensions), listed at discovery.
pub fn user_config_folders(env: &Environment) -> Vec<(PathBuf, Client, Scope)> {
    let Some(home) = env.home.as_deref() else {
        return Vec::new();
    };
    vec![
        (home.join(".kiro/agents"), Client::Kiro, Scope::User),
        (
            home.join(".aws/amazonq/cli-agents"),
            Client::AmazonQ,
            Scope::User,
        ),
        (
            home.join(".gemini/extensions"),
            Client::GeminiCli,
            Scope::Extension,
        ),
        (
            home.join(".continue/mcpServers"),
            Client::Continue,
            Scope::User,
        ),
    ]
}

/// The home folder, for display (`~/...`) and scope decisions.
pub fn home_of(env: &Environment) -> Option<&Path> {
    env.home.as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(home: &str) -> Environment {
        Environment {
            home: Some(home.into()),
            ..Environment::default()
        }
    }

    fn has(c: &[Candidate], path: &str, client: Client) -> bool {
        c.iter()
            .any(|x| x.path == Path::new(path) && x.client == client)
    }

    #[test]
    fn linux_uses_xdg_and_home() {
        let c = user_config_candidates(&env("/home/u"), Platform::Linux);
        assert!(has(
            &c,
            "/home/u/.config/Claude/claude_desktop_config.json",
            Client::ClaudeDesktop
        ));
        assert!(has(
            &c,
            "/home/u/.config/Code/User/mcp.json",
            Client::VsCode
        ));
        assert!(has(&c, "/home/u/.config/zed/settings.json", Client::Zed));
        assert!(has(
            &c,
            "/home/u/.cline/data/settings/cline_mcp_settings.json",
            Client::Cline
        ));
        assert!(has(
            &c,
            "/etc/claude-code/managed-mcp.json",
            Client::ClaudeCode
        ));
        let mut e = env("/home/u");
        e.xdg_config_home = Some("/x".into());
        e.codex_home = Some("/c".into());
        let c = user_config_candidates(&e, Platform::Linux);
        assert!(has(&c, "/x/goose/config.yaml", Client::Goose));
        assert!(has(&c, "/c/config.toml", Client::Codex));
    }

    #[test]
    fn macos_uses_application_support() {
        let c = user_config_candidates(&env("/Users/u"), Platform::MacOs);
        assert!(has(
            &c,
            "/Users/u/Library/Application Support/Claude/claude_desktop_config.json",
            Client::ClaudeDesktop
        ));
        assert!(has(
            &c,
            "/Users/u/Library/Application Support/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json",
            Client::RooCode
        ));
        assert!(has(
            &c,
            "/Library/Application Support/ClaudeCode/managed-mcp.json",
            Client::ClaudeCode
        ));
    }

    #[test]
    fn windows_uses_appdata() {
        let mut e = env("C:/Users/u");
        e.appdata = Some("C:/Users/u/AppData/Roaming".into());
        let c = user_config_candidates(&e, Platform::Windows);
        assert!(has(
            &c,
            "C:/Users/u/AppData/Roaming/Claude/claude_desktop_config.json",
            Client::ClaudeDesktop
        ));
        assert!(has(
            &c,
            "C:/Users/u/AppData/Roaming/Zed/settings.json",
            Client::Zed
        ));
        assert!(has(
            &c,
            "C:/Users/u/AppData/Roaming/Block/goose/config/config.yaml",
            Client::Goose
        ));
        assert!(has(&c, "C:/Users/u/.cursor/mcp.json", Client::Cursor));
    }
}
