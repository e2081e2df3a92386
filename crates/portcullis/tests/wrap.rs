//! `portcullis wrap` and `unwrap` on every supported client's configuration, in a fake HOME:
//! what changes, what does not (comments, env, secrets, other keys), backups, idempotence,
//! byte-exact restore, in-place unwrap after a change, refusals, and a wrapped entry that
//! really runs its server through the gateway.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/cli.rs"]
mod cli;
#[path = "support/session.rs"]
mod session;
mod support;

use cli::{FakeHome, ok};
use portcullis_scan::document::{self, Format, Node};
use serde_json::json;
use session::Session;
use support::testserver;

const TOKEN: &str = "ghp_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa";
const GATEWAY: &str = "/opt/bin/portcullis";

/// The fake HOME of these tests, with their helpers.
type Home = FakeHome;

impl FakeHome {
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = if let Some(rest) = rel.strip_prefix("./") {
            self.project.join(rest)
        } else {
            self.home.join(rel)
        };
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.portcullis().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let mut cmd = self.portcullis();
        cmd.args(args);
        ok(cmd)
    }
}

fn backups(path: &Path) -> Vec<PathBuf> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut found: Vec<PathBuf> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(&format!("{name}.portcullis-")) && n.ends_with(".bak")
        })
        .collect();
    found.sort();
    found
}

fn parse(path: &Path) -> Node {
    let text = std::fs::read_to_string(path).unwrap();
    let format = if path.extension().is_some_and(|e| e == "toml") {
        Format::Toml
    } else {
        Format::Json
    };
    document::parse(&text, format).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

fn strings(node: &Node) -> Vec<String> {
    node.items()
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect()
}

/// Every client's file, with one stdio server `s` (`orig` with args `a1 a2`) and, where the
/// client has them, a remote server and secrets in `env`.
fn configs(h: &Home) -> Vec<(PathBuf, Vec<&'static str>)> {
    let std_entry = format!(
        r#""s": {{"command": "orig", "args": ["a1", "a2"], "env": {{"GITHUB_TOKEN": "{TOKEN}"}}}}"#
    );
    vec![
        (
            h.write(
                ".config/Claude/claude_desktop_config.json",
                &format!("{{\n  \"mcpServers\": {{\n    {std_entry}\n  }},\n  \"globalShortcut\": \"Ctrl+Space\"\n}}\n"),
            ),
            vec!["mcpServers", "s"],
        ),
        (
            h.write(
                ".claude.json",
                &format!(
                    "{{\"numStartups\": 7, \"mcpServers\": {{{std_entry}, \"r\": {{\"type\": \"http\", \"url\": \"https://mcp.example.com/mcp\"}}}}, \"projects\": {{\"/p\": {{\"mcpServers\": {{\"t\": {{\"command\": \"orig\", \"args\": [\"a1\", \"a2\"]}}}}}}}}}}"
                ),
            ),
            vec!["mcpServers", "s"],
        ),
        (
            h.write(
                "./.mcp.json",
                &format!("{{\n  \"mcpServers\": {{\n    {std_entry}\n  }}\n}}\n"),
            ),
            vec!["mcpServers", "s"],
        ),
        (
            h.write(
                ".cursor/mcp.json",
                &format!(
                    "// Cursor\n{{\n  \"mcpServers\": {{\n    /* mine */\n    {std_entry},\n  }},\n}}\n"
                ),
            ),
            vec!["mcpServers", "s"],
        ),
        (
            h.write(
                ".config/Code/User/mcp.json",
                "{\n  \"servers\": {\n    \"s\": {\n      \"type\": \"stdio\",\n      \"command\": \"orig\",\n      \"args\": [\"a1\", \"a2\"]\n    }\n  },\n  \"inputs\": [{\"id\": \"tok\", \"type\": \"promptString\", \"password\": true}]\n}\n",
            ),
            vec!["servers", "s"],
        ),
        (
            h.write(
                ".codeium/windsurf/mcp_config.json",
                &format!("{{\"mcpServers\": {{{std_entry}}}}}"),
            ),
            vec!["mcpServers", "s"],
        ),
        (
            h.write(
                ".gemini/settings.json",
                &format!(
                    "{{\"theme\": \"Default\", \"mcpServers\": {{{std_entry}, \"g\": {{\"httpUrl\": \"https://x.example.com/mcp\"}}}}}}"
                ),
            ),
            vec!["mcpServers", "s"],
        ),
        (
            h.write(
                ".codex/config.toml",
                &format!(
                    "model = \"o3\" # the model\n\n[mcp_servers.s]\ncommand = \"orig\"\nargs = [\"a1\", \"a2\"]\nenv = {{ GITHUB_TOKEN = \"{TOKEN}\" }}\n"
                ),
            ),
            vec!["mcp_servers", "s"],
        ),
        (
            h.write(
                ".config/zed/settings.json",
                "// Zed settings\n{\n  \"ui_font_size\": 16,\n  \"context_servers\": {\n    \"s\": {\"command\": \"orig\", \"args\": [\"a1\", \"a2\"], \"env\": {}}\n  }\n}\n",
            ),
            vec!["context_servers", "s"],
        ),
    ]
}

#[test]
fn wraps_every_client_then_unwraps_byte_for_byte() {
    let h = Home::new();
    let files = configs(&h);
    let originals: Vec<String> = files
        .iter()
        .map(|(p, _)| std::fs::read_to_string(p).unwrap())
        .collect();
    let audit = h.home.join("audit.sqlite");
    let out = h.ok(&[
        "wrap",
        "--gateway-program",
        GATEWAY,
        "--audit",
        audit.to_str().unwrap(),
    ]);
    // Remote entries are wrapped too (through `gateway --upstream`; see tests/wrap_remote.rs).
    assert!(out.contains("wrapped: r"), "{out}");
    assert!(out.contains("wrapped: g"), "{out}");

    for ((path, pointer), original) in files.iter().zip(&originals) {
        let doc = parse(path);
        let entry = doc.pointer(pointer).unwrap();
        assert_eq!(
            entry.get("command").unwrap().as_str(),
            Some(GATEWAY),
            "{}",
            path.display()
        );
        assert_eq!(
            strings(entry.get("args").unwrap()),
            [
                "gateway",
                "--name",
                "s",
                "--audit",
                audit.to_str().unwrap(),
                "--",
                "orig",
                "a1",
                "a2"
            ],
            "{}",
            path.display()
        );
        let text = std::fs::read_to_string(path).unwrap();
        // Secrets stay where they were; so does everything that is not the entry's launch.
        assert_eq!(text.matches(TOKEN).count(), original.matches(TOKEN).count());
        for kept in [
            "globalShortcut",
            "numStartups",
            "// Cursor",
            "/* mine */",
            "inputs",
            "# the model",
            "ui_font_size",
            "https://x.example.com/mcp",
            "https://mcp.example.com/mcp",
        ] {
            assert_eq!(
                text.contains(kept),
                original.contains(kept),
                "{kept} in {}",
                path.display()
            );
        }
        let b = backups(path);
        assert_eq!(b.len(), 1, "{}", path.display());
        assert_eq!(&std::fs::read_to_string(&b[0]).unwrap(), original);
    }
    // Claude Code's per-project servers are wrapped too.
    let state = parse(&files[1].0);
    let t = state
        .pointer(&["projects", "/p", "mcpServers", "t"])
        .unwrap();
    assert_eq!(t.get("command").unwrap().as_str(), Some(GATEWAY));

    // Idempotent: nothing changes, no new backup.
    let wrapped: Vec<String> = files
        .iter()
        .map(|(p, _)| std::fs::read_to_string(p).unwrap())
        .collect();
    let out = h.ok(&[
        "wrap",
        "--gateway-program",
        GATEWAY,
        "--audit",
        audit.to_str().unwrap(),
    ]);
    assert!(out.contains("already wrapped: s"), "{out}");
    for ((path, _), before) in files.iter().zip(&wrapped) {
        assert_eq!(&std::fs::read_to_string(path).unwrap(), before);
        assert_eq!(backups(path).len(), 1);
    }

    let out = h.ok(&["unwrap"]);
    assert!(out.contains("restored byte for byte"), "{out}");
    for ((path, _), original) in files.iter().zip(&originals) {
        assert_eq!(
            &std::fs::read_to_string(path).unwrap(),
            original,
            "{}",
            path.display()
        );
        // The wrapped state is kept as well.
        assert_eq!(backups(path).len(), 2);
    }
    let out = h.ok(&["unwrap"]);
    assert!(!out.contains("restored"), "{out}");
}

#[test]
fn a_client_name_selects_its_files_and_server_names_select_entries() {
    let h = Home::new();
    let files = configs(&h);
    let out = h.ok(&[
        "wrap",
        "claude-code",
        "--server",
        "t",
        "--server",
        "nope",
        "--gateway-program",
        GATEWAY,
    ]);
    assert!(out.contains("wrapped: t (project /p)"), "{out}");
    let state = std::fs::read_to_string(&files[1].0).unwrap();
    assert_eq!(state.matches(GATEWAY).count(), 1, "{state}");
    // Other clients' files are untouched.
    assert!(backups(&files[3].0).is_empty());
    let err = String::from_utf8(
        h.run(&[
            "wrap",
            "claude-code",
            "--server",
            "nope",
            "--gateway-program",
            GATEWAY,
        ])
        .stderr,
    )
    .unwrap();
    assert!(err.contains("no server named `nope`"), "{err}");
    let out = h.run(&["wrap", "no-such-client"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dry_run_shows_a_masked_diff_and_writes_nothing() {
    let h = Home::new();
    let text = format!(
        "{{\"mcpServers\": {{\n  \"s\": {{\n    \"env\": {{\"GITHUB_TOKEN\": \"{TOKEN}\"}},\n    \"command\": \"orig\",\n    \"args\": [\"a1\"]\n  }}\n}}}}\n"
    );
    let path = h.write(".cursor/mcp.json", &text);
    let out = h.ok(&["wrap", "cursor", "--dry-run", "--gateway-program", GATEWAY]);
    assert!(
        out.contains(&format!("+    \"command\": \"{GATEWAY}\",")),
        "{out}"
    );
    assert!(out.contains("-    \"command\": \"orig\","), "{out}");
    assert!(
        out.contains("GITHUB_TOKEN"),
        "the context line is shown: {out}"
    );
    assert!(!out.contains(TOKEN), "the secret is masked: {out}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert!(backups(&path).is_empty());
}

#[test]
fn unwrap_after_a_change_unwraps_in_place() {
    let h = Home::new();
    let path = h.write(
        ".cursor/mcp.json",
        "{\"mcpServers\": {\"s\": {\"command\": \"orig\", \"args\": [\"a1\", \"a2\"]}}}\n",
    );
    h.ok(&["wrap", "cursor", "--gateway-program", GATEWAY]);
    let wrapped = std::fs::read_to_string(&path).unwrap();
    // The user (or the client) edits the file after wrapping.
    let edited = wrapped.replace(
        "{\"mcpServers\": {",
        "{\"mcpServers\": {\"new\": {\"command\": \"n\"}, ",
    );
    std::fs::write(&path, &edited).unwrap();
    let out = h.ok(&["unwrap", "cursor"]);
    assert!(out.contains("unwrapped in place: s"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"mcpServers\": {\"new\": {\"command\": \"n\"}, \"s\": {\"command\": \"orig\", \"args\": [\"a1\", \"a2\"]}}}\n"
    );
}

#[test]
fn a_config_that_cannot_be_parsed_is_refused_untouched() {
    let h = Home::new();
    let broken = "{\"mcpServers\": {\"s\": {\"command\": \"orig\",}\n";
    let path = h.write("broken/mcp.json", broken);
    let out = h.run(&["wrap", path.to_str().unwrap(), "--gateway-program", GATEWAY]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be parsed"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    assert!(backups(&path).is_empty());
}

#[cfg(unix)]
#[test]
fn a_symlinked_config_stays_a_link() {
    let h = Home::new();
    let real = h.write(
        "dotfiles/cursor-mcp.json",
        "{\"mcpServers\": {\"s\": {\"command\": \"orig\"}}}",
    );
    std::fs::create_dir_all(h.home.join(".cursor")).unwrap();
    let link = h.home.join(".cursor/mcp.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    h.ok(&["wrap", "cursor", "--gateway-program", GATEWAY]);
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().contains(GATEWAY));
    assert_eq!(
        backups(&real).len(),
        1,
        "the backup sits beside the real file"
    );
}

#[test]
fn a_wrapped_entry_runs_its_server_through_the_gateway() {
    let h = Home::new();
    let server = testserver().to_str().unwrap().to_string();
    let config =
        json!({"mcpServers": {"test": {"command": server, "args": ["--exit-after", "60"]}}});
    let path = h.write(
        ".cursor/mcp.json",
        &serde_json::to_string_pretty(&config).unwrap(),
    );
    let audit = h.home.join("audit.jsonl");
    // The real program this time: the client will start it.
    h.ok(&["wrap", "cursor", "--audit", audit.to_str().unwrap()]);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let entry = &doc["mcpServers"]["test"];
    let mut command = Command::new(entry["command"].as_str().unwrap());
    for arg in entry["args"].as_array().unwrap() {
        command.arg(arg.as_str().unwrap());
    }
    command.env("HOME", &h.home);
    {
        let mut s = Session::start(command);
        let tools = s.handshake();
        assert!(
            tools
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "echo")
        );
        let answer = s.call(3, "echo", json!({"text": "through the gateway"}));
        assert_eq!(
            session::text_of(&answer),
            Some("through the gateway"),
            "{answer}"
        );
    }
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(
        log.contains("\"server\":\"test\"") && log.contains("\"tool\":\"echo\""),
        "{log}"
    );
}
