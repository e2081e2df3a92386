use crate::container::{ContainerRun, Mount, MountKind};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, ServerEntry};
use crate::registry::{RuleMeta, Severity};
use crate::span::Span;

declare_rule! {
    /// ## What it does
    /// Finds MCP servers launched with `docker run` (or `podman`, `nerdctl`, `finch`) that bind
    /// mount a sensitive host path with `-v`, `--volume` or `--mount type=bind`:
    /// - the container engine's socket (`/var/run/docker.sock`, `/run/docker.sock`, rootless and
    ///   Podman sockets, `//./pipe/docker_engine`, also `--use-api-socket`): critical, as it is
    ///   root on the host (or, for a rootless engine, everything its user can do);
    /// - the host's root folder (`/`, `C:\`, `/mnt/c`);
    /// - a home folder (`~`, `$HOME`, `${HOME}`, `${userHome}`, `%USERPROFILE%`, `/home/<user>`,
    ///   `/Users/<user>`, `C:\Users\<user>`, `/root`) or all of them (`/home`, `/Users`);
    /// - a credential folder or file (`~/.ssh`, `~/.aws`, `~/.kube`, `~/.config/gcloud`,
    ///   `~/.docker`, `~/.gnupg`, `~/.azure`, `~/.netrc`, the agents' own `~/.claude`,
    ///   `~/.codex`, `~/.gemini`, ...), a folder holding one (`~/.config`), or the SSH agent socket;
    /// - system folders: `/etc`, `/proc`, `/sys`, `/dev`, `/run`, `/var/run`, `/var/lib/docker`
    ///   and the like, and secrets under them (`/etc/shadow`, `/etc/ssh`, anything in `/proc`).
    ///
    /// A read-only mount of these is still reported: reading is what leaks a key. A project
    /// folder (`.`, `$(pwd)`, `${PWD}`, `${workspaceFolder}`, a subfolder of home that is not a
    /// credential folder), a named volume and a harmless system file such as `/etc/localtime` are
    /// not.
    ///
    /// ## Why is this bad?
    /// The mount defeats the container: whatever the server is tricked into doing (by a prompt
    /// injection in a page or issue it reads, or by a compromised image) happens to these host
    /// files. The engine socket is root on the host — through it a process starts a privileged
    /// container with the host's disk mounted — and `:ro` does not restrict the API behind it.
    /// Home and credential folders hold SSH keys, cloud and Kubernetes credentials and the tokens
    /// of other tools; a writable home also lets it plant code in shell startup files.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "docker": {
    ///       "command": "docker",
    ///       "args": ["run", "-i", "--rm", "-v", "/var/run/docker.sock:/var/run/docker.sock",
    ///                "ghcr.io/acme/docker-mcp:0.9.1@sha256:4c1e8b7a2f5d9c3e6b0a1f4d7c2e5b8a9f3d6c0e1b4a7d2f5c8e9b3a6d0f1c4e"]
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
    ///       "command": "docker",
    ///       "args": ["run", "-i", "--rm", "-v", "${PWD}/notes:/notes:ro",
    ///                "ghcr.io/acme/notes-mcp:2.3.0@sha256:7e2d5a8c1f4b9e3d6a0c2f5b8e1d4a7c9f3b6e0d2a5c8f1b4e7d9a3c6f0b2e5d"]
    ///     }
    ///   }
    /// }
    /// ```
    /// Mount only the folder the server works on, read-only when it only reads, and pass a
    /// credential it needs as one scoped token rather than a whole folder.
    ///
    /// ## References
    /// - [CWE-250: Execution with Unnecessary Privileges](https://cwe.mitre.org/data/definitions/250.html)
    /// - [CWE-668: Exposure of Resource to Wrong Sphere](https://cwe.mitre.org/data/definitions/668.html)
    /// - [Docker Engine security: attack surface of the daemon](https://docs.docker.com/engine/security/#docker-daemon-attack-surface)
    /// - [OWASP Docker Security Cheat Sheet, rule 1: do not expose the Docker socket](https://cheatsheetseries.owasp.org/cheatsheets/Docker_Security_Cheat_Sheet.html)
    pub static SENSITIVE_HOST_MOUNT_IN_CONTAINER = {
        code: "PC208",
        name: "sensitive-host-mount-in-container",
        summary: "A containerised MCP server is given a sensitive host path",
        severity: High,
        confidence: High,
        cwe: [250, 668],
        target: Config,
    }
}

/// What a mounted host path exposes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Exposure {
    /// The container engine's API socket.
    EngineSocket,
    /// `/`, a drive root.
    Root,
    /// One user's home folder.
    Home,
    /// Every user's home folder (`/home`, `/Users`).
    AllHomes,
    /// A credential folder or file in a home, and how the mount relates to it.
    Credential(&'static str, Relation),
    /// An SSH or GPG agent socket: signing with the user's keys.
    Agent,
    System,
}

/// How a mounted path relates to a credential folder.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Relation {
    Exact,
    /// A file or folder inside it (`~/.aws/credentials`).
    Inside,
    /// A folder holding it (`~/.config` holds `~/.config/gcloud`).
    Holds,
}

fn diagnostic(
    file: &ConfigFile,
    server: &ServerEntry,
    span: Span,
    path: &str,
    read_only: bool,
    exposure: Exposure,
) -> Diagnostic {
    let name = &server.name.value;
    let access = if read_only {
        "readable in the container (read-only does not stop a leak)"
    } else {
        "readable and writable in the container"
    };
    let narrow = "Mount only the folder the server works on (for example `-v \"${PWD}:/workspace:ro\"`), read-only when it only reads.";
    let (message, help, severity) = match exposure {
        Exposure::EngineSocket => (
            {
                let lower = path.to_ascii_lowercase();
                // A rootless engine's socket lives in the user's runtime folder.
                let power = if lower.contains("/run/user/") || lower.contains("xdg_runtime_dir") {
                    "with any of the user's folders mounted, so this is everything the user can do"
                } else {
                    "privileged, with the host's disk mounted, so this is root on the host"
                };
                format!(
                    "server `{name}` is given the container engine's socket {}: whoever can use it starts containers {power}{}",
                    if path.starts_with("--") { format!("through `{path}`") } else { format!("`{path}`") },
                    if read_only { ", read-only or not" } else { "" }
                )
            },
            "Do not give an MCP server the engine's socket. If it must manage containers, put a filtering proxy in front that allows only the API calls it needs (such as docker-socket-proxy), or point it at a rootless engine.".to_string(),
            Severity::Critical,
        ),
        Exposure::Root => (
            format!("server `{name}` mounts the host's root folder `{path}`: every file on the machine is {access}"),
            narrow.to_string(),
            Severity::High,
        ),
        Exposure::Home => (
            format!("server `{name}` mounts the home folder `{path}`: SSH keys, cloud credentials, tokens and shell startup files are {access}"),
            narrow.to_string(),
            Severity::High,
        ),
        Exposure::AllHomes => (
            format!("server `{name}` mounts `{path}`, every user's home folder: their keys, credentials and tokens are {access}"),
            narrow.to_string(),
            Severity::High,
        ),
        Exposure::Credential(folder, relation) => (
            {
                let kind = if CREDENTIAL_FILES.contains(&folder) { "file" } else { "folder" };
                let canonical = format!("~/{folder}");
                match relation {
                    Relation::Exact if path.replace('\\', "/").eq_ignore_ascii_case(&canonical) => {
                        format!("server `{name}` mounts the credential {kind} `{canonical}`: it is {access}")
                    }
                    Relation::Exact => format!("server `{name}` mounts `{path}`, the credential {kind} `{canonical}`: it is {access}"),
                    Relation::Inside => format!("server `{name}` mounts `{path}`, from the credential folder `{canonical}`: it is {access}"),
                    Relation::Holds => format!("server `{name}` mounts `{path}`, which holds the credential {kind} `{canonical}`: it is {access}"),
                }
            },
            "Do not hand over a credential folder; pass the one credential the server needs, scoped to the least it must do, as an environment variable or a `--secret`.".to_string(),
            Severity::High,
        ),
        Exposure::Agent => (
            format!("server `{name}` is given the key agent socket `{path}`: it can sign in with the user's keys wherever they are accepted"),
            "Do not forward the agent; give the server a deploy key or a scoped token of its own.".to_string(),
            Severity::High,
        ),
        Exposure::System => (
            format!("server `{name}` mounts the host's system path `{path}`: it is {access}"),
            narrow.to_string(),
            Severity::High,
        ),
    };
    Diagnostic::new(
        &SENSITIVE_HOST_MOUNT_IN_CONTAINER,
        &file.source,
        span,
        message,
    )
    .with_help(help)
    .with_severity(severity)
    .with_server(name)
}

/// Credential folders and files, relative to a home folder, lower case.
const CREDENTIALS: &[&str] = &[
    ".ssh",
    ".aws",
    ".kube",
    ".config/gcloud",
    ".docker",
    ".gnupg",
    ".azure",
    ".config/gh",
    ".config/hub",
    ".config/doctl",
    ".config/op",
    ".oci",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".password-store",
    ".vault-token",
    ".terraform.d",
    ".local/share/keyrings",
    "library/keychains",
    ".claude",
    ".claude.json",
    ".codex",
    ".gemini",
];

/// The entries of [`CREDENTIALS`] that are files.
const CREDENTIAL_FILES: &[&str] = &[
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".vault-token",
    ".claude.json",
];

/// File names of container engine sockets, lower case.
const ENGINE_SOCKETS: &[&str] = &[
    "docker.sock",
    "docker.sock.raw",
    "podman.sock",
    "containerd.sock",
    "crio.sock",
    "buildkitd.sock",
];

/// System folders that are sensitive as a whole (their parts often are not: `/etc/localtime`).
const SYSTEM_FOLDERS: &[&str] = &[
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/run",
    "/var/run",
    "/var",
    "/var/lib",
    "/boot",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/private/etc",
    "/private/var",
];

/// System paths that are sensitive with everything under them.
const SYSTEM_TREES: &[&str] = &[
    "/proc",
    "/sys",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssh",
    "/etc/kubernetes",
    "/etc/rancher",
    "/etc/docker",
    "/var/lib/docker",
    "/var/lib/containers",
    "/var/lib/kubelet",
    "/run/dbus",
    "/var/run/dbus",
];

/// Spellings of the home folder in shells and in the clients' own variable syntaxes.
const HOME_VARIABLES: &[&str] = &[
    "~",
    "$home",
    "${home}",
    "${env:home}",
    "${userhome}",
    "{env:home}",
    "%userprofile%",
    "$userprofile",
    "${userprofile}",
    "${env:userprofile}",
    "$env:userprofile",
    "%homedrive%%homepath%",
];

/// What a bind-mounted host path exposes, if it is sensitive.
fn classify(source: &str) -> Option<Exposure> {
    let path = source.trim().replace('\\', "/");
    let lower = path.to_ascii_lowercase();
    let trimmed = lower.trim_end_matches('/');
    let file = trimmed.rsplit('/').next().unwrap_or("");
    if ENGINE_SOCKETS.contains(&file)
        || ["/pipe/docker_engine", "/pipe/dockerdesktop", "/pipe/podman"]
            .iter()
            .any(|p| lower.contains(p))
    {
        return Some(Exposure::EngineSocket);
    }
    if lower.contains("ssh_auth_sock")
        || file == "ssh-auth.sock"
        || file.starts_with("s.gpg-agent")
        || (lower.starts_with("/tmp/ssh-") && file.starts_with("agent."))
    {
        return Some(Exposure::Agent);
    }
    if let Some(rest) = home_relative(&path) {
        let rest = rest.trim_matches('/').to_ascii_lowercase();
        if rest.is_empty() {
            return Some(Exposure::Home);
        }
        return CREDENTIALS.iter().find_map(|&c| {
            let relation = if rest == c {
                Relation::Exact
            } else if within(&rest, c) {
                Relation::Inside
            } else if within(c, &rest) {
                Relation::Holds
            } else {
                return None;
            };
            Some(Exposure::Credential(c, relation))
        });
    }
    let parts: Vec<&str> = trimmed.split('/').collect();
    let is_drive =
        |s: &str| s.len() == 2 && s.ends_with(':') && s.as_bytes()[0].is_ascii_alphabetic();
    let is_letter = |s: &str| s.len() == 1 && s.as_bytes()[0].is_ascii_alphabetic();
    match parts.as_slice() {
        // `/`, `//`, `C:/`, `/mnt/c`, `/c` (Git Bash).
        [""] | ["", ""] => return Some(Exposure::Root),
        [d] if is_drive(d) => return Some(Exposure::Root),
        ["", "mnt", d] | ["", d] if is_letter(d) => return Some(Exposure::Root),
        ["", "home"] | ["", "users"] => return Some(Exposure::AllHomes),
        [d, "users"] if is_drive(d) => return Some(Exposure::AllHomes),
        ["", "run" | "var", "user", uid] if uid.chars().all(|c| c.is_ascii_digit()) => {
            // A user's runtime folder: every socket of their session.
            return Some(Exposure::System);
        }
        [d, "windows"] if is_drive(d) => return Some(Exposure::System),
        _ => {}
    }
    if SYSTEM_FOLDERS.contains(&trimmed) || SYSTEM_TREES.iter().any(|t| within(trimmed, t)) {
        return Some(Exposure::System);
    }
    None
}

/// Whether `path` is `root` or inside it, comparing whole components.
fn within(path: &str, root: &str) -> bool {
    path == root
        || path
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The part of `path` (forward slashes) below a home folder, if it is in one.
fn home_relative(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    for var in HOME_VARIABLES {
        if let Some(rest) = lower.strip_prefix(var)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return Some(path[var.len()..].to_string());
        }
    }
    // `~alice/...`
    if let Some(rest) = path.strip_prefix('~') {
        let (user, below) = rest.split_once('/').unwrap_or((rest, ""));
        if user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Some(below.to_string());
        }
    }
    let parts: Vec<&str> = path.split('/').collect();
    let is_drive = |s: &str| {
        (s.len() == 2 && s.ends_with(':') || s.len() == 1) && s.as_bytes()[0].is_ascii_alphabetic()
    };
    let user_ok = |u: &str| {
        !u.is_empty()
            && !["shared", "public", "default", "all users", "default user"]
                .contains(&u.to_ascii_lowercase().as_str())
    };
    let below = |from: usize| parts.get(from..).map(|p| p.join("/"));
    let lowered: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lowered.iter().map(String::as_str).collect();
    match l.as_slice() {
        ["", "root", ..] => below(2),
        ["", "home", u, ..] if user_ok(u) => below(3),
        ["", "users", u, ..] if user_ok(u) => below(3),
        // `C:/Users/alice`, `/c/Users/alice` (Git Bash), `/mnt/c/Users/alice` (WSL).
        [d, "users", u, ..] if is_drive(d) && user_ok(u) => below(3),
        ["", d, "users", u, ..] if is_drive(d) && user_ok(u) => below(4),
        ["", "mnt", d, "users", u, ..] if is_drive(d) && user_ok(u) => below(5),
        _ => None,
    }
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &SENSITIVE_HOST_MOUNT_IN_CONTAINER
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in file.servers.iter().filter(|s| s.enabled) {
            let Some(run) = ContainerRun::parse(&file.source.text, server) else {
                continue;
            };
            // Docker 28's `--use-api-socket` bind mounts the engine socket (and registry auth).
            for option in run.options_named("use-api-socket").filter(|o| o.is_on()) {
                out.push(diagnostic(
                    file,
                    server,
                    option.report_span(),
                    "--use-api-socket",
                    false,
                    Exposure::EngineSocket,
                ));
            }
            for mount in run.mounts() {
                if let Some((path, exposure)) = sensitive(&mount) {
                    out.push(diagnostic(
                        file,
                        server,
                        mount.span,
                        path,
                        mount.read_only,
                        exposure,
                    ));
                }
            }
        }
    }
}

fn sensitive(mount: &Mount) -> Option<(&str, Exposure)> {
    if mount.kind != MountKind::Bind {
        return None;
    }
    let source = mount.source.as_ref()?;
    classify(&source.value).map(|e| (source.value.as_str(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_paths() {
        let cases = [
            ("/var/run/docker.sock", Exposure::EngineSocket),
            ("/run/docker.sock", Exposure::EngineSocket),
            ("/run/user/1000/podman/podman.sock", Exposure::EngineSocket),
            ("${XDG_RUNTIME_DIR}/docker.sock", Exposure::EngineSocket),
            ("~/.docker/run/docker.sock", Exposure::EngineSocket),
            ("//./pipe/docker_engine", Exposure::EngineSocket),
            ("\\\\.\\pipe\\docker_engine", Exposure::EngineSocket),
            ("/", Exposure::Root),
            ("C:\\", Exposure::Root),
            ("c:/", Exposure::Root),
            ("/mnt/c", Exposure::Root),
            ("~", Exposure::Home),
            ("~/", Exposure::Home),
            ("$HOME", Exposure::Home),
            ("${HOME}", Exposure::Home),
            ("${userHome}", Exposure::Home),
            ("${env:USERPROFILE}", Exposure::Home),
            ("%USERPROFILE%", Exposure::Home),
            ("/home/alice", Exposure::Home),
            ("/Users/alice/", Exposure::Home),
            ("C:\\Users\\alice", Exposure::Home),
            ("/c/Users/alice", Exposure::Home),
            ("/mnt/c/Users/alice", Exposure::Home),
            ("/root", Exposure::Home),
            ("~alice", Exposure::Home),
            ("/home", Exposure::AllHomes),
            ("/Users", Exposure::AllHomes),
            ("C:/Users", Exposure::AllHomes),
            ("~/.ssh", Exposure::Credential(".ssh", Relation::Exact)),
            (
                "${HOME}/.aws/credentials",
                Exposure::Credential(".aws", Relation::Inside),
            ),
            (
                "%USERPROFILE%\\.kube",
                Exposure::Credential(".kube", Relation::Exact),
            ),
            (
                "/Users/bob/.config/gcloud",
                Exposure::Credential(".config/gcloud", Relation::Exact),
            ),
            (
                "/root/.docker/config.json",
                Exposure::Credential(".docker", Relation::Inside),
            ),
            (
                "C:\\Users\\bob\\.gnupg",
                Exposure::Credential(".gnupg", Relation::Exact),
            ),
            (
                "~/.config",
                Exposure::Credential(".config/gcloud", Relation::Holds),
            ),
            ("~/.netrc", Exposure::Credential(".netrc", Relation::Exact)),
            ("${SSH_AUTH_SOCK}", Exposure::Agent),
            ("/run/host-services/ssh-auth.sock", Exposure::Agent),
            ("/etc", Exposure::System),
            ("/etc/", Exposure::System),
            ("/proc", Exposure::System),
            ("/proc/1/root", Exposure::System),
            ("/sys/kernel", Exposure::System),
            ("/var/run", Exposure::System),
            ("/etc/shadow", Exposure::System),
            ("/etc/ssh/", Exposure::System),
            ("/var/lib/docker/volumes", Exposure::System),
            ("/run/user/1000", Exposure::System),
        ];
        for (path, want) in cases {
            assert_eq!(classify(path), Some(want), "{path}");
        }
    }

    #[test]
    fn ordinary_paths() {
        for path in [
            ".",
            "./data",
            "$(pwd)",
            "${PWD}",
            "${workspaceFolder}",
            "${workspaceFolder}/docs",
            "~/projects/notes",
            "$HOME/code/app",
            "${HOMEBREW_PREFIX}/share",
            "/Users/alice/Desktop",
            "/home/alice/src/repo",
            "C:\\Users\\alice\\Documents\\notes",
            "/Users/Shared",
            "/etc/localtime",
            "/etc/timezone",
            "/etc/ssl/certs",
            "/etc/hosts",
            "/tmp",
            "/srv/mcp-data",
            "/var/log/app",
            "/dev/shm",
            "/mnt/data",
            "~/.sshd-notes",
            "D:\\work\\repo",
        ] {
            assert_eq!(classify(path), None, "{path}");
        }
    }
}
