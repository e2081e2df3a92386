//! A starting policy, written from what is known about the configured servers: their launch
//! arguments (folders, URLs) and, when a tool dump is given, their tools' names, annotations
//! and input schemas. The output is TOML text with a comment on every choice, meant to be read
//! and edited, and always loadable by [`crate::Policy`].
//!
//! The trade-off is toward a policy that keeps the user's servers working: a tool the dump shows
//! is allowed unless it looks destructive; without a dump the server's tools are allowed except
//! names that read as destructive. Destructive tools are denied rather than "ask": asking needs
//! a client that supports elicitation, and the comment says how to switch.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use portcullis_scan::text::words;

use crate::checks::infer_kinds;

/// One configured server, as the generator needs it.
#[derive(Debug, Clone, Default)]
pub struct StarterServer {
    /// The name the client knows it by (what `portcullis wrap` passes as `--name`).
    pub name: String,
    /// Where it was configured (`~/.cursor/mcp.json (Cursor)`), for the comments.
    pub found_in: Vec<String>,
    /// The program's bare name, never its arguments (they may hold secrets).
    pub program: Option<String>,
    pub args: Vec<String>,
    /// The server's working folder, when its config sets one.
    pub cwd: Option<PathBuf>,
    /// A remote server's URL.
    pub url: Option<String>,
    /// Values of its environment, read only for the hosts of URLs they hold.
    pub env_values: Vec<String>,
    pub tools: Option<ToolDump>,
}

/// Tool definitions from a dump, with where they came from.
#[derive(Debug, Clone, Default)]
pub struct ToolDump {
    pub file: String,
    pub tools: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct StarterOptions {
    /// The folder relative arguments are resolved against when the server has no `cwd`, and
    /// the fallback root.
    pub working_dir: PathBuf,
    pub home: Option<PathBuf>,
}

/// Tool-name words that mean a call can destroy, overwrite or execute something.
const DESTRUCTIVE_WORDS: &[&str] = &[
    "delete",
    "del",
    "remove",
    "rm",
    "rmdir",
    "unlink",
    "drop",
    "truncate",
    "destroy",
    "purge",
    "wipe",
    "erase",
    "kill",
    "terminate",
    "write",
    "overwrite",
    "exec",
    "execute",
    "eval",
    "shell",
    "run",
    "format",
    "reset",
];

/// Globs for destructive tool names when no dump tells the tools.
const DESTRUCTIVE_GLOBS: &[&str] = &[
    "*delete*",
    "*remove*",
    "*drop*",
    "*truncate*",
    "*destroy*",
    "*purge*",
    "*wipe*",
    "*exec*",
    "*write*",
];

/// Why a tool looks destructive, or `None`.
pub fn destructive_reason(tool: &Value) -> Option<String> {
    let name = tool.get("name").and_then(Value::as_str).unwrap_or("");
    let annotations = tool.get("annotations");
    let hint = |k: &str| annotations.and_then(|a| a.get(k)).and_then(Value::as_bool);
    if let Some(word) = words(name)
        .into_iter()
        .find(|w| DESTRUCTIVE_WORDS.contains(&w.as_str()))
    {
        let mut why = format!("its name says `{word}`");
        if hint("readOnlyHint") == Some(true) {
            why.push_str(" although it is annotated read-only");
        }
        return Some(why);
    }
    if hint("destructiveHint") == Some(true) && hint("readOnlyHint") != Some(true) {
        return Some("it is annotated `destructiveHint: true`".into());
    }
    if !infer_kinds(tool).commands.is_empty() {
        return Some("it takes a command to run".into());
    }
    None
}

/// A TOML basic string (a JSON string literal is one).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A glob that matches exactly `name`: glob characters become one-character classes.
pub fn literal_glob(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '*' | '?' | '[' | ']' | '{' | '}' | '\\' | '!' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

fn expand(text: &str, home: Option<&Path>) -> PathBuf {
    match (text.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ if text == "~" => home.map_or_else(|| PathBuf::from(text), Path::to_path_buf),
        _ => PathBuf::from(text),
    }
}

/// The folders among a server's arguments: absolute, `~/`, `./` or `file://` values (alone or
/// after `--option=`) that are directories on this machine.
pub fn folder_arguments(server: &StarterServer, options: &StarterOptions) -> Vec<PathBuf> {
    let base = server.cwd.as_deref().unwrap_or(&options.working_dir);
    let mut out: Vec<PathBuf> = Vec::new();
    for arg in &server.args {
        let value = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with('-') => value,
            _ => arg.as_str(),
        };
        let value = value.strip_prefix("file://").unwrap_or(value);
        let looks_like_path = value.starts_with('/')
            || value.starts_with("~/")
            || value == "~"
            || value.starts_with("./")
            || value.starts_with("../")
            || value == "."
            || (cfg!(windows) && value.get(1..3) == Some(":\\"));
        if !looks_like_path {
            continue;
        }
        let path = expand(value, options.home.as_deref());
        let path = if path.is_absolute() {
            path
        } else {
            base.join(path)
        };
        if let Ok(canonical) = std::fs::canonicalize(&path)
            && canonical.is_dir()
            && !out.contains(&canonical)
        {
            out.push(canonical);
        }
    }
    out
}

/// Hosts of the URLs in a server's arguments and environment (never the values themselves).
pub fn url_hosts(server: &StarterServer) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for text in server.args.iter().chain(&server.env_values) {
        for word in text.split(|c: char| c.is_whitespace() || c == '=' || c == ',') {
            let Ok(url) = url::Url::parse(word) else {
                continue;
            };
            if !matches!(url.scheme(), "http" | "https") {
                continue;
            }
            if let Some(host) = url.host_str() {
                let host = host.trim_end_matches('.').to_ascii_lowercase();
                if !host.is_empty() && !out.contains(&host) {
                    out.push(host);
                }
            }
        }
    }
    out
}

/// A root as written in the policy: `~/...` under the home folder, else absolute.
fn root_text(path: &Path, home: Option<&Path>) -> String {
    if let Some(home) = home.and_then(|h| std::fs::canonicalize(h).ok())
        && let Ok(rest) = path.strip_prefix(&home)
    {
        if rest.as_os_str().is_empty() {
            return "~/".into();
        }
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

/// The policy text.
pub fn starter_policy(servers: &[StarterServer], options: &StarterOptions) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "# A starting gateway policy written by `portcullis policy init`. Every choice below is\n\
         # a guess from the servers' configuration{}: read it, then\n\
         # run servers under it with `portcullis gateway --policy FILE` (or `portcullis wrap --policy FILE`).\n\
         # Matching is first-match: the first [[server]] whose name glob matches the server's\n\
         # `--name`, then the first [[server.tool]] whose name glob matches the tool.\n",
        if servers.iter().any(|s| s.tools.is_some()) {
            " and the tool dumps given"
        } else {
            ""
        }
    );
    let _ = writeln!(w, "version = 1\n");
    let _ = writeln!(
        w,
        "[defaults]\n\
         # Servers and tools no rule below names are refused: a policy lists what it allows.\n\
         action = \"deny\"\n\
         # Reading resources and getting prompts stays allowed; set \"deny\" to refuse them.\n\
         resources = \"allow\"\n\
         prompts = \"allow\"\n\
         # A server asking the client's model to write (sampling) or the user to answer\n\
         # (elicitation) is refused unless a server below allows it.\n\
         sampling = \"deny\"\n\
         elicitation = \"deny\"\n\
         # Secrets in responses are replaced before the client sees them.\n\
         redact_secrets = true\n"
    );
    let _ = writeln!(
        w,
        "# Every call through one gateway: 600 a minute, in bursts of up to 100.\n\
         [rate]\n\
         calls = 600\n\
         per_secs = 60\n\
         burst = 100\n"
    );
    let mut seen: Vec<&str> = Vec::new();
    for server in servers {
        if seen.contains(&server.name.as_str()) {
            continue;
        }
        seen.push(&server.name);
        // The same name in several configs is one policy entry (the gateway knows only names).
        let also: Vec<&String> = servers
            .iter()
            .filter(|s| s.name == server.name)
            .flat_map(|s| &s.found_in)
            .collect();
        write_server(w, server, &also, options);
    }
    if servers.is_empty() {
        let _ = writeln!(
            w,
            "# No configured server was found: add a [[server]] table per server, e.g.\n\
             # [[server]]\n\
             # name = \"filesystem\"\n\
             # action = \"allow\"\n\
             # paths = {{ roots = [\"~/projects\"] }}"
        );
    }
    out
}

fn write_server(
    w: &mut String,
    server: &StarterServer,
    found_in: &[&String],
    options: &StarterOptions,
) {
    let home = options.home.as_deref();
    let what = match (&server.program, &server.url) {
        (Some(p), _) => format!("runs `{p}`"),
        (None, Some(_)) => "a remote server (its rules apply when the gateway fronts it)".into(),
        (None, None) => "no command known".into(),
    };
    let _ = writeln!(w, "# ---- {}: {what}", server.name);
    for place in found_in {
        let _ = writeln!(w, "# configured in {place}");
    }
    let _ = writeln!(
        w,
        "[[server]]\nname = {}",
        quote(&literal_glob(&server.name))
    );
    let tools = server.tools.as_ref();
    let kinds: Vec<_> = tools
        .map(|d| d.tools.iter().map(infer_kinds).collect())
        .unwrap_or_default();
    match tools {
        Some(dump) => {
            let _ = writeln!(
                w,
                "# Tools not in {} (added later) are refused until you add them below.\n\
                 action = \"deny\"",
                dump.file
            );
        }
        None => {
            let _ = writeln!(
                w,
                "# No tool dump was given, so every tool is allowed except names that read as\n\
                 # destructive (below). For a rule per tool: `portcullis inspect --save dump.json -- CMD`,\n\
                 # then `portcullis policy init --tools {}=dump.json`.\n\
                 action = \"allow\"",
                server.name
            );
        }
    }
    let _ = writeln!(
        w,
        "# At most 120 calls a minute to this server, in bursts of up to 30.\n\
         rate = {{ calls = 120, per_secs = 60, burst = 30 }}"
    );

    // Paths.
    let any_path_args = tools.is_none() || kinds.iter().any(|k| !k.paths.is_empty());
    let remote = server.program.is_none() && server.url.is_some();
    if remote {
        let _ = writeln!(
            w,
            "# A remote server's paths are on its machine, not this one: no folder rule."
        );
    } else if any_path_args {
        let folders = folder_arguments(server, options);
        let (roots, why) = if folders.is_empty() {
            let fallback = server
                .cwd
                .clone()
                .unwrap_or_else(|| options.working_dir.clone());
            let fallback = std::fs::canonicalize(&fallback).unwrap_or(fallback);
            (
                vec![fallback],
                if server.cwd.is_some() {
                    "its arguments name no folder, so its configured working folder".to_string()
                } else {
                    "its arguments name no folder, so the folder `policy init` ran in".to_string()
                },
            )
        } else {
            (folders, "the folders its arguments name".to_string())
        };
        let _ = writeln!(
            w,
            "# Path arguments (by name: path, file, dir, ...; nested ones too) must resolve inside\n\
             # {why}."
        );
        if roots
            .iter()
            .any(|r| r.parent().is_none() || home.is_some_and(|h| r == h))
        {
            let _ = writeln!(
                w,
                "# That is a whole home folder or disk: narrow it if you can."
            );
        }
        let list: Vec<String> = roots.iter().map(|r| quote(&root_text(r, home))).collect();
        let _ = writeln!(w, "paths = {{ roots = [{}] }}", list.join(", "));
    } else {
        let _ = writeln!(w, "# No tool takes a path argument: no folder rule.");
    }

    // URLs.
    let any_url_args = tools.is_none() || kinds.iter().any(|k| !k.urls.is_empty());
    if any_url_args {
        let hosts = url_hosts(server);
        if hosts.is_empty() {
            let _ = writeln!(
                w,
                "# URL arguments may reach any public host over http(s); private, loopback and\n\
                 # cloud-metadata addresses are refused after DNS resolution. List `hosts` to narrow it.\n\
                 urls = {{ schemes = [\"https\", \"http\"] }}"
            );
        } else {
            let list: Vec<String> = hosts.iter().map(|h| quote(h)).collect();
            let _ = writeln!(
                w,
                "# URL arguments may reach only the hosts its configuration names (over http(s);\n\
                 # private addresses are refused after DNS resolution).\n\
                 urls = {{ schemes = [\"https\", \"http\"], hosts = [{}] }}",
                list.join(", ")
            );
        }
    }
    let _ = writeln!(w);

    // Tools.
    match tools {
        Some(dump) => {
            for tool in &dump.tools {
                let Some(name) = tool.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let (action, why) = match destructive_reason(tool) {
                    Some(why) => (
                        "deny",
                        format!(
                            "Looks destructive: {why}. Denied; set \"ask\" to approve each call (clients with elicitation) or \"allow\" once reviewed."
                        ),
                    ),
                    None => {
                        let read_only = tool
                            .get("annotations")
                            .and_then(|a| a.get("readOnlyHint"))
                            .and_then(Value::as_bool)
                            == Some(true);
                        (
                            "allow",
                            if read_only {
                                "Annotated read-only.".to_string()
                            } else {
                                "Nothing in its name or annotations reads as destructive."
                                    .to_string()
                            },
                        )
                    }
                };
                let _ = writeln!(
                    w,
                    "[[server.tool]]\nname = {}\n# {why}\naction = \"{action}\"\n",
                    quote(&literal_glob(name))
                );
            }
        }
        None => {
            for glob in DESTRUCTIVE_GLOBS {
                let _ = writeln!(
                    w,
                    "[[server.tool]]\nname = {}\n# Reads as destructive. Denied; set \"ask\" to approve each call (clients with elicitation) or \"allow\" once reviewed.\naction = \"deny\"\n",
                    quote(glob)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Action, Policy};
    use serde_json::json;

    /// No home: the policy loader expands `~/` with the real `HOME`, which a test must not
    /// depend on (`root_text` is tested on its own).
    fn options(dir: &Path) -> StarterOptions {
        StarterOptions {
            working_dir: dir.to_path_buf(),
            home: None,
        }
    }

    #[test]
    fn roots_under_home_are_written_with_a_tilde() {
        let tmp = tempfile::tempdir().unwrap();
        let home = std::fs::canonicalize(tmp.path()).unwrap();
        assert_eq!(root_text(&home.join("p/q"), Some(&home)), "~/p/q");
        assert_eq!(root_text(&home, Some(&home)), "~/");
        assert_eq!(root_text(Path::new("/srv/x"), Some(&home)), "/srv/x");
        let server = StarterServer {
            args: vec![
                "~/p".into(),
                "--root=~/p".into(),
                "file://~/q".into(),
                "pkg/x".into(),
            ],
            ..StarterServer::default()
        };
        std::fs::create_dir_all(home.join("p")).unwrap();
        std::fs::create_dir_all(home.join("q")).unwrap();
        let opts = StarterOptions {
            working_dir: home.clone(),
            home: Some(home.clone()),
        };
        assert_eq!(
            folder_arguments(&server, &opts),
            vec![home.join("p"), home.join("q")]
        );
    }

    #[test]
    fn destructive_tools_are_recognised() {
        let d = |v: Value| destructive_reason(&v);
        assert!(d(json!({"name": "delete_file"})).is_some());
        assert!(d(json!({"name": "dropTable"})).is_some());
        assert!(d(json!({"name": "git-rm"})).is_some());
        assert!(
            d(json!({"name": "write_file", "annotations": {"readOnlyHint": true}}))
                .unwrap()
                .contains("read-only")
        );
        assert!(d(json!({"name": "x", "annotations": {"destructiveHint": true}})).is_some());
        assert!(
            d(json!({"name": "x", "inputSchema": {"properties": {"cmd": {"type": "string"}}}}))
                .is_some()
        );
        assert!(d(json!({"name": "read_file"})).is_none());
        assert!(
            d(json!({"name": "drops_in_bucket_list"})).is_none(),
            "words, not substrings"
        );
        assert!(d(json!({"name": "running_total"})).is_none());
        assert_eq!(words("readFileURL_v2"), vec!["read", "file", "url", "v2"]);
        assert_eq!(literal_glob("a*b[c]"), "a[*]b[[]c[]]");
    }

    #[test]
    fn generated_policy_loads_and_says_what_it_means() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(tmp.path()).unwrap();
        let projects = dir.join("projects");
        std::fs::create_dir_all(&projects).unwrap();
        let fs = StarterServer {
            name: "fs".into(),
            found_in: vec!["~/.cursor/mcp.json (Cursor)".into()],
            program: Some("npx".into()),
            args: vec![
                "-y".into(),
                "@modelcontextprotocol/server-filesystem".into(),
                projects.to_string_lossy().into_owned(),
                "/no/such/folder".into(),
            ],
            tools: Some(ToolDump {
                file: "fs.json".into(),
                tools: vec![
                    json!({"name": "read_file", "annotations": {"readOnlyHint": true},
                           "inputSchema": {"properties": {"path": {"type": "string"}}}}),
                    json!({"name": "delete_file",
                           "inputSchema": {"properties": {"path": {"type": "string"}}}}),
                    json!({"name": "odd*name"}),
                ],
            }),
            ..StarterServer::default()
        };
        let remote = StarterServer {
            name: "remote".into(),
            url: Some("https://mcp.example.com/mcp".into()),
            ..StarterServer::default()
        };
        let fetch = StarterServer {
            name: "fetch".into(),
            program: Some("uvx".into()),
            args: vec![
                "mcp-server-fetch".into(),
                "--base=https://api.example.com/v1".into(),
            ],
            env_values: vec!["https://Docs.Example.org".into(), "not a url".into()],
            ..StarterServer::default()
        };
        let text = starter_policy(&[fs, fetch, remote], &options(&dir));
        let policy = Policy::parse(&text, &dir.join("policy.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let s = policy.server("fs");
        assert_eq!(s.tool("read_file").action, Action::Allow);
        assert_eq!(s.tool("delete_file").action, Action::Deny);
        assert_eq!(s.tool("odd*name").action, Action::Allow);
        assert_eq!(s.tool("oddXname").action, Action::Deny, "a literal glob");
        assert_eq!(s.tool("new_tool").action, Action::Deny, "not in the dump");
        assert_eq!(
            s.tool("read_file").paths.as_ref().unwrap().roots,
            vec![projects.clone()]
        );
        assert!(s.tool("read_file").urls.is_none(), "no tool takes a URL");
        let f = policy.server("fetch");
        assert_eq!(f.tool("fetch").action, Action::Allow);
        assert_eq!(f.tool("delete_everything").action, Action::Deny);
        assert_eq!(
            f.tool("fetch").paths.as_ref().unwrap().roots,
            vec![dir.clone()]
        );
        let urls = f.tool("fetch").urls.as_ref().unwrap();
        let hosts = urls.hosts.as_ref().unwrap();
        assert!(hosts.is_match("api.example.com") && hosts.is_match("docs.example.org"));
        assert!(!hosts.is_match("evil.com"));
        assert_eq!(policy.server("other").tool("x").action, Action::Deny);
        assert!(policy.server("remote").tool("x").paths.is_none());
        assert!(
            text.contains("# Looks destructive: its name says `delete`"),
            "{text}"
        );
        assert!(text.contains("configured in ~/.cursor/mcp.json (Cursor)"));
        assert!(
            text.contains(&format!(
                "paths = {{ roots = [{}] }}",
                quote(&projects.to_string_lossy())
            )),
            "{text}"
        );
        assert!(
            !text.contains("mcp-server-fetch"),
            "arguments are not copied into comments"
        );
    }

    #[test]
    fn no_servers_still_loads() {
        let tmp = tempfile::tempdir().unwrap();
        let text = starter_policy(&[], &options(tmp.path()));
        assert!(Policy::parse(&text, &tmp.path().join("p.toml")).is_ok());
    }
}
