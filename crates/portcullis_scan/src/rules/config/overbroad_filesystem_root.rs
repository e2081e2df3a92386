use crate::clients::Client;
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, ServerEntry};
use crate::registry::{RuleMeta, Severity};
use crate::span::Spanned;

declare_rule! {
    /// ## What it does
    /// Finds filesystem-style MCP servers given a root that exposes far more than a project:
    /// the whole filesystem (`/`, `C:\`), the home folder (`~`, `$HOME`, `${userHome}`,
    /// `%USERPROFILE%`, `/Users/alice`, `/home/alice`, `C:\Users\alice`, `/root`), every
    /// user's home (`/home`, `/Users`), or a system folder (`/etc`, `/var`, `/usr`,
    /// `C:\Windows`). It reads the allowed directories of the reference filesystem server
    /// (`@modelcontextprotocol/server-filesystem`) and its ports and forks (any server package
    /// named `*filesystem*`, such as `mcp-filesystem-server` and `rust-mcp-filesystem`), the
    /// `--repository` of `mcp-server-git`, and any server's `--allowed-directories`-style
    /// options and `ALLOWED_DIRECTORIES`-style environment variables. Folders inside the home
    /// (`~/projects/app`) and `${workspaceFolder}` are not reported.
    ///
    /// ## Why is this bad?
    /// The root is the only boundary between the model and the user's files, and the model
    /// acts on text it reads from web pages, issues and files: a prompt injection steers it to
    /// wherever the root allows. With the home folder in reach, that is the SSH keys, cloud
    /// and package-registry credentials, browser profiles, password-manager exports and every
    /// other project; with write access, it is also the shell startup files, git hooks and
    /// editor settings, each one a way to run code the next time the user opens a terminal.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "files": {
    ///       "command": "npx",
    ///       "args": ["-y", "@modelcontextprotocol/server-filesystem@2026.1.14", "/Users/alice"]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "files": {
    ///       "command": "npx",
    ///       "args": ["-y", "@modelcontextprotocol/server-filesystem@2026.1.14", "/Users/alice/projects/shop"]
    ///     }
    ///   }
    /// }
    /// ```
    /// List only the folders the work needs. Clients that support MCP roots can pass the open
    /// project instead of a fixed list.
    ///
    /// ## References
    /// - [CWE-732: Incorrect Permission Assignment for Critical Resource](https://cwe.mitre.org/data/definitions/732.html)
    /// - [CWE-22: Improper Limitation of a Pathname to a Restricted Directory](https://cwe.mitre.org/data/definitions/22.html)
    /// - [Filesystem MCP server: directory access control](https://github.com/modelcontextprotocol/servers/tree/main/src/filesystem#directory-access-control)
    /// - [MCP Roots](https://modelcontextprotocol.io/specification/2025-11-25/client/roots)
    pub static OVERBROAD_FILESYSTEM_ROOT = {
        code: "PC211",
        name: "overbroad-filesystem-root",
        summary: "A filesystem MCP server is given the whole disk, the home folder or a system folder",
        severity: High,
        confidence: Medium,
        cwe: [732, 22],
        target: Config,
    }
}

/// How much a root exposes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Exposure {
    Everything,
    Drive(char),
    Home,
    AllHomes,
    System,
}

fn diagnostic(
    file: &ConfigFile,
    server: &ServerEntry,
    root: &Spanned<String>,
    shown: &str,
    exposure: &Exposure,
) -> Diagnostic {
    let what = match exposure {
        Exposure::Everything => "the whole filesystem".to_string(),
        Exposure::Drive(d) => format!("the whole `{d}:` drive"),
        Exposure::Home => "the whole home folder".to_string(),
        Exposure::AllHomes => "every user's home folder".to_string(),
        Exposure::System => "a system folder".to_string(),
    };
    let project = match file.client {
        Client::VsCode | Client::Cursor | Client::RooCode => {
            " (or `${workspaceFolder}` for the open project)"
        }
        _ => "",
    };
    let at_stake = match exposure {
        Exposure::System => "here the system's own configuration and programs",
        _ => "here SSH keys, cloud credentials, browser profiles and shell startup files",
    };
    let severity = if *exposure == Exposure::System {
        Severity::Medium
    } else {
        Severity::High
    };
    Diagnostic::new(
        &OVERBROAD_FILESYSTEM_ROOT,
        &file.source,
        root.span,
        format!(
            "server `{}` is given `{shown}`, {what}, as a root",
            server.name.value
        ),
    )
    .with_help(format!(
        "Give it only the folders the work needs, such as one project folder{project}. A model steered by prompt injection can read or change anything under its roots: {at_stake}."
    ))
    .with_severity(severity)
    .with_server(&server.name.value)
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &OVERBROAD_FILESYSTEM_ROOT
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in file.servers.iter().filter(|s| s.enabled) {
            let mut seen = Vec::new();
            for root in roots_of(server) {
                if seen.contains(&root.span) {
                    continue;
                }
                // An environment list holds several paths; report the first broad one.
                for piece in split_list(&root.value, root.is_list) {
                    if let Some(exposure) = exposure(piece) {
                        seen.push(root.span);
                        let value = Spanned::new(root.value.clone(), root.span);
                        out.push(diagnostic(file, server, &value, piece.trim(), &exposure));
                        break;
                    }
                }
            }
        }
    }
}

/// A value that names one or more roots.
struct Root {
    value: String,
    span: crate::span::Span,
    /// An environment variable holding a separated list.
    is_list: bool,
}

/// Options that take allowed directories, compared without dashes, underscores and case.
const ROOT_OPTIONS: &[&str] = &[
    "alloweddirectories",
    "alloweddirectory",
    "alloweddirs",
    "alloweddir",
    "allowedpaths",
    "allowedpath",
    "allowedroots",
    "allowedfolders",
    "allowdir",
    "root",
    "roots",
];

/// Environment variables that hold allowed directories (also with a prefix, such as
/// `MCP_ALLOWED_DIRECTORIES`).
const ROOT_ENV: &[&str] = &[
    "ALLOWEDDIRECTORIES",
    "ALLOWEDDIRS",
    "ALLOWEDPATHS",
    "ALLOWEDROOTS",
];

fn normalise_option(s: &str) -> String {
    s.trim_start_matches('-')
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The values a server takes as roots.
fn roots_of(server: &ServerEntry) -> Vec<Root> {
    let mut out = Vec::new();
    let program = server.program().unwrap_or("").to_ascii_lowercase();
    // A container's arguments are paths inside it; its mounts are the container rules' job.
    if matches!(program.as_str(), "docker" | "podman" | "nerdctl" | "finch") {
        return out;
    }
    let root = |a: &Spanned<String>, value: &str| Root {
        value: value.to_string(),
        span: a.span,
        is_list: false,
    };
    // Filesystem servers: every positional argument after the server itself is a root.
    let command_is_fs = server
        .command
        .as_ref()
        .is_some_and(|c| is_filesystem_server(&c.value));
    let fs_start = if command_is_fs {
        Some(0)
    } else {
        server
            .args
            .iter()
            .position(|a| is_filesystem_server(&a.value))
            .map(|i| i + 1)
    };
    if let Some(start) = fs_start {
        for a in server.args.iter().skip(start) {
            if !a.value.starts_with('-') {
                out.push(root(a, &a.value));
            }
        }
    }
    // `mcp-server-git --repository <path>`, and any server's allowed-directories options.
    let is_git = server
        .command
        .iter()
        .chain(&server.args)
        .any(|a| is_git_server(&a.value));
    let mut taking = false;
    for a in &server.args {
        if let Some(flag) = a.value.strip_prefix('-') {
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (flag, None),
            };
            let name = normalise_option(name);
            let wanted = ROOT_OPTIONS.contains(&name.as_str())
                || (is_git && matches!(name.as_str(), "repository" | "r"));
            match inline {
                Some(v) if wanted => {
                    out.extend(v.split(',').map(|p| root(a, p)));
                    taking = false;
                }
                _ => taking = wanted,
            }
        } else if taking {
            out.push(root(a, &a.value));
        }
    }
    for kv in &server.env {
        let key: String = kv
            .key
            .value
            .chars()
            .filter(|c| *c != '_')
            .flat_map(char::to_uppercase)
            .collect();
        if ROOT_ENV.iter().any(|k| key.ends_with(k)) {
            out.push(Root {
                value: kv.value.value.clone(),
                span: kv.value.span,
                is_list: true,
            });
        }
    }
    out
}

/// A package, module or program that is a filesystem server: the reference server, its
/// ports and forks all carry `filesystem` in their name.
fn is_filesystem_server(token: &str) -> bool {
    let lower = token.to_ascii_lowercase();
    !lower.starts_with('-') && (lower.contains("filesystem") || lower.contains("file-system"))
}

fn is_git_server(token: &str) -> bool {
    let lower = token.to_ascii_lowercase();
    let name = lower.rsplit(['/', '\\']).next().unwrap_or(&lower);
    let name = name.split(['@', '=']).next().unwrap_or(name);
    matches!(name, "mcp-server-git" | "mcp_server_git")
}

/// The paths of a value: one argument is one path; an environment list is split on `,`, `;`
/// and, between Unix paths, `:`.
fn split_list(value: &str, is_list: bool) -> Vec<&str> {
    if !is_list {
        return vec![value];
    }
    let mut out = Vec::new();
    for piece in value.split([',', ';']) {
        let piece = piece.trim();
        if piece.len() > 2 && !is_drive_path(piece) && piece.contains(':') {
            out.extend(piece.split(':').filter(|p| !p.is_empty()));
        } else if !piece.is_empty() {
            out.push(piece);
        }
    }
    out
}

fn is_drive_path(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Spellings of the home folder across shells and clients.
const HOME_TOKENS: &[&str] = &[
    "~",
    "$home",
    "${home}",
    "${env:home}",
    "{env:home}",
    "${userhome}",
    "%userprofile%",
    "%homedrive%%homepath%",
    "$env:userprofile",
    "${env:userprofile}",
    "{env:userprofile}",
    "$userprofile",
    "${userprofile}",
];

/// Top-level folders of the operating system.
const SYSTEM_DIRS: &[&str] = &[
    "etc", "var", "usr", "bin", "sbin", "lib", "lib64", "boot", "proc", "sys", "dev", "private",
    "system", "library",
];
const WINDOWS_SYSTEM_DIRS: &[&str] = &[
    "windows",
    "program files",
    "program files (x86)",
    "programdata",
];

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    Root,
    Drive(char),
    Home,
    /// Above the home folder (`~/..`).
    AboveHome,
}

/// What a root path exposes, if it is too much. Relative paths and interpolations other than
/// the home folder's (`${workspaceFolder}`) are never reported.
fn exposure(path: &str) -> Option<Exposure> {
    let path = path.trim();
    let lower = path.to_ascii_lowercase();
    let (mut anchor, rest) = if let Some(rest) = home_prefix(&lower) {
        (Anchor::Home, rest)
    } else if is_drive_path(path) {
        (
            Anchor::Drive(path.chars().next()?.to_ascii_uppercase()),
            &lower[2..],
        )
    } else if lower.starts_with('/') {
        (Anchor::Root, lower.as_str())
    } else {
        return None;
    };
    let mut comps: Vec<&str> = Vec::new();
    for c in rest.split(['/', '\\']) {
        match c {
            "" | "." => {}
            ".." => {
                if comps.pop().is_none() && anchor == Anchor::Home {
                    anchor = Anchor::AboveHome;
                }
            }
            c => comps.push(c),
        }
    }
    // WSL sees Windows drives as `/mnt/c`.
    if anchor == Anchor::Root
        && comps.len() >= 2
        && comps[0] == "mnt"
        && comps[1].len() == 1
        && comps[1].chars().all(|c| c.is_ascii_alphabetic())
    {
        anchor = Anchor::Drive(comps[1].chars().next()?.to_ascii_uppercase());
        comps.drain(..2);
    }
    match (anchor, comps.as_slice()) {
        (Anchor::Home, []) => Some(Exposure::Home),
        (Anchor::AboveHome, []) => Some(Exposure::AllHomes),
        (Anchor::AboveHome, [_]) => Some(Exposure::Home),
        (Anchor::Root, []) => Some(Exposure::Everything),
        (Anchor::Root, ["home" | "users"]) => Some(Exposure::AllHomes),
        (Anchor::Root, ["home" | "users", user]) if !is_shared_home(user) => Some(Exposure::Home),
        (Anchor::Root, ["root"] | ["var", "root"]) => Some(Exposure::Home),
        (Anchor::Root, [dir]) if SYSTEM_DIRS.contains(dir) => Some(Exposure::System),
        (Anchor::Root, ["private", "etc" | "var"]) => Some(Exposure::System),
        (Anchor::Drive(d), []) => Some(Exposure::Drive(d)),
        (Anchor::Drive(_), ["users"]) => Some(Exposure::AllHomes),
        (Anchor::Drive(_), ["users", user]) if !is_shared_home(user) => Some(Exposure::Home),
        (Anchor::Drive(_), [dir]) if WINDOWS_SYSTEM_DIRS.contains(dir) => Some(Exposure::System),
        _ => None,
    }
}

/// Folders under `/Users` or `C:\Users` that belong to no one in particular.
fn is_shared_home(user: &str) -> bool {
    matches!(user, "shared" | "public" | "default" | "all users")
}

/// The rest of a (lower-case) path that starts with a spelling of the home folder.
fn home_prefix(lower: &str) -> Option<&str> {
    for token in HOME_TOKENS {
        if let Some(rest) = lower.strip_prefix(token)
            && (rest.is_empty() || rest.starts_with(['/', '\\']))
        {
            return Some(rest);
        }
    }
    // `~alice`: another user's home.
    let rest = lower.strip_prefix('~')?;
    let end = rest.find(['/', '\\']).unwrap_or(rest.len());
    let user = &rest[..end];
    (!user.is_empty()
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    .then_some(&rest[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broad_roots() {
        for (path, want) in [
            ("/", Exposure::Everything),
            ("//", Exposure::Everything),
            ("/.", Exposure::Everything),
            ("/tmp/..", Exposure::Everything),
            ("C:\\", Exposure::Drive('C')),
            ("c:/", Exposure::Drive('C')),
            ("D:", Exposure::Drive('D')),
            ("/mnt/c", Exposure::Drive('C')),
            ("~", Exposure::Home),
            ("~/", Exposure::Home),
            ("~\\", Exposure::Home),
            ("~bob", Exposure::Home),
            ("$HOME", Exposure::Home),
            ("${HOME}/", Exposure::Home),
            ("${env:HOME}", Exposure::Home),
            ("${userHome}", Exposure::Home),
            ("%USERPROFILE%", Exposure::Home),
            ("%USERPROFILE%\\", Exposure::Home),
            ("{env:HOME}", Exposure::Home),
            ("/Users/alice", Exposure::Home),
            ("/Users/alice/", Exposure::Home),
            ("/Users/alice/Documents/..", Exposure::Home),
            ("/home/dev", Exposure::Home),
            ("/root", Exposure::Home),
            ("C:\\Users\\alice", Exposure::Home),
            ("/mnt/c/Users/alice", Exposure::Home),
            ("~/..", Exposure::AllHomes),
            ("/home", Exposure::AllHomes),
            ("/Users", Exposure::AllHomes),
            ("C:\\Users", Exposure::AllHomes),
            ("/etc", Exposure::System),
            ("/var/", Exposure::System),
            ("/usr", Exposure::System),
            ("/private/etc", Exposure::System),
            ("C:\\Windows", Exposure::System),
            ("C:\\Program Files", Exposure::System),
        ] {
            assert_eq!(exposure(path), Some(want), "{path}");
        }
    }

    #[test]
    fn narrow_roots() {
        for path in [
            "~/projects/app",
            "~/Desktop",
            "$HOME/code",
            "${workspaceFolder}",
            "${workspaceFolder}/..",
            ".",
            "./data",
            "data",
            "/Users/alice/projects",
            "/Users/Shared",
            "/home/dev/src/app",
            "C:\\Users\\alice\\Documents",
            "C:\\Users\\Public",
            "/tmp",
            "/var/www/site",
            "/etc/myapp",
            "/projects",
            "/mnt/data",
            "/mnt",
            "stdio",
            "",
            "~~",
            "$HOMER",
            "${HOME_DIR}",
        ] {
            assert_eq!(exposure(path), None, "{path}");
        }
    }

    #[test]
    fn splits_environment_lists() {
        assert_eq!(
            split_list("/home/u/a:/tmp", true),
            vec!["/home/u/a", "/tmp"]
        );
        assert_eq!(split_list("C:\\work;D:\\", true), vec!["C:\\work", "D:\\"]);
        assert_eq!(split_list("~/a, ~", true), vec!["~/a", "~"]);
        assert_eq!(split_list("/a:/b", false), vec!["/a:/b"]);
    }

    #[test]
    fn recognises_servers() {
        for t in [
            "@modelcontextprotocol/server-filesystem",
            "@modelcontextprotocol/server-filesystem@2026.1.14",
            "mcp-server-filesystem",
            "mcp-filesystem-server",
            "rust-mcp-filesystem.exe",
            "filesystem-mcp",
            "/opt/servers/src/filesystem/dist/index.js",
        ] {
            assert!(is_filesystem_server(t), "{t}");
        }
        assert!(!is_filesystem_server("@modelcontextprotocol/server-memory"));
        assert!(is_git_server("mcp-server-git"));
        assert!(is_git_server("mcp-server-git==2025.1.14"));
        assert!(!is_git_server("mcp-server-github"));
    }
}
