//! `portcullis policy init`: a policy generated from a fake HOME's client config and a tool
//! dump written by `portcullis inspect --save` loads, and the gateway enforces it on the real
//! test server (allowed tools answer, tools the dump did not show and destructive ones are
//! refused).

#[path = "support/cli.rs"]
mod cli;
#[path = "support/session.rs"]
mod session;
mod support;

use cli::{FakeHome, ok};
use serde_json::json;
use session::{Session, refused, text_of};
use support::testserver;

fn setup(config: serde_json::Value) -> FakeHome {
    let s = FakeHome::new();
    let home = &s.home;
    std::fs::create_dir_all(home.join(".cursor")).unwrap();
    std::fs::create_dir_all(home.join("projects")).unwrap();
    std::fs::write(
        home.join(".cursor/mcp.json"),
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .unwrap();
    s
}

#[test]
fn generated_policy_loads_and_the_gateway_enforces_it() {
    let server = testserver().to_str().unwrap().to_string();
    let s = setup(json!({"mcpServers": {
        "test": {"command": server, "args": ["--exit-after", "60"]},
        "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "~/projects"],
               "env": {"API_URL": "https://api.example.com/v1"}}
    }}));
    // The dump format `inspect --save` writes.
    let dump = s.project.join("test-tools.json");
    let mut inspect = s.portcullis();
    inspect
        .args(["inspect", "--timeout", "20", "--list", "--save"])
        .arg(&dump)
        .arg("--")
        .arg(&server)
        .args(["--exit-after", "30"]);
    ok(inspect);

    let policy = s.project.join("policy.toml");
    let mut init = s.portcullis();
    init.args(["policy", "init", "-o", "policy.toml", "--tools"])
        .arg(format!("test={}", dump.display()));
    ok(init);
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(
        text.contains("configured in ~/.cursor/mcp.json (Cursor)"),
        "{text}"
    );
    assert!(
        text.contains("name = \"echo\"\n# Annotated read-only.\naction = \"allow\""),
        "{text}"
    );
    assert!(
        text.contains("paths = { roots = [\"~/projects\"] }"),
        "fs's folder: {text}"
    );
    assert!(text.contains("hosts = [\"api.example.com\"]"), "{text}");
    assert!(!text.contains("/v1"), "values are not copied: {text}");

    // Not replaced without --force.
    let mut again = s.portcullis();
    again.args(["policy", "init", "-o", "policy.toml"]);
    let out = again.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&policy).unwrap(), text);

    // The gateway runs under it: the dump's tools answer, a tool it did not show is refused.
    let mut gateway = s.portcullis();
    gateway
        .args([
            "gateway",
            "--policy",
            "policy.toml",
            "--name",
            "test",
            "--audit",
        ])
        .arg(s.project.join("audit.jsonl"))
        .arg("--")
        .arg(&server)
        .args(["--tools", "poisoned", "--exit-after", "60"]);
    let mut session = Session::start(gateway);
    session.handshake();
    let echo = session.call(3, "echo", json!({"text": "hi"}));
    assert_eq!(text_of(&echo), Some("hi"), "{echo}");
    let add = session.call(4, "add", json!({"a": 1, "b": 2}));
    assert_eq!(text_of(&add), Some("3"), "{add}");
    let report = session.call(5, "send_report", json!({"to": "x", "context": "y"}));
    assert!(refused(&report), "not in the dump: {report}");
    assert!(
        report.to_string().contains("policy.toml"),
        "the rule is named: {report}"
    );
}

#[test]
fn destructive_tools_are_denied_and_dumps_match_by_server_name() {
    let server = testserver().to_str().unwrap().to_string();
    let s = setup(json!({"mcpServers": {
        "test": {"command": server, "args": ["--exit-after", "60"]},
        "other": {"command": "other-server"}
    }}));
    // A multi-server dump, matched to configured servers by `serverInfo.name`.
    let dump = s.project.join("dump.json");
    std::fs::write(
        &dump,
        serde_json::to_string(&json!({"servers": [
            {"serverInfo": {"name": "test", "version": "1"}, "tools": [
                {"name": "echo", "description": "Echoes.", "inputSchema": {"type": "object",
                    "properties": {"text": {"type": "string"}}}},
                {"name": "delete_file", "description": "Deletes a file.", "inputSchema": {
                    "type": "object", "properties": {"path": {"type": "string"}}}},
                {"name": "clear_cache", "description": "Clears.", "annotations": {"destructiveHint": true},
                 "inputSchema": {"type": "object"}}
            ]},
            {"serverInfo": {"name": "unknown-server"}, "tools": [
                {"name": "t", "description": "x", "inputSchema": {"type": "object"}}]}
        ]}))
        .unwrap(),
    )
    .unwrap();
    let mut init = s.portcullis();
    init.args(["policy", "init", "cursor", "--tools"])
        .arg(&dump);
    let out = init.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown-server"),
        "an unmatched dump is said: {err}"
    );
    assert!(
        text.contains("name = \"delete_file\"\n# Looks destructive: its name says `delete`."),
        "{text}"
    );
    assert!(text.contains("annotated `destructiveHint: true`"), "{text}");
    std::fs::write(s.project.join("policy.toml"), &text).unwrap();

    let mut gateway = s.portcullis();
    gateway
        .args([
            "gateway",
            "--policy",
            "policy.toml",
            "--name",
            "test",
            "--audit",
        ])
        .arg(s.project.join("audit.jsonl"))
        .arg("--")
        .arg(&server)
        .args(["--exit-after", "60"]);
    let mut session = Session::start(gateway);
    session.handshake();
    assert_eq!(
        text_of(&session.call(3, "echo", json!({"text": "ok"}))),
        Some("ok")
    );
    let delete = session.call(4, "delete_file", json!({"path": "x"}));
    assert!(
        refused(&delete) && delete.to_string().contains("denied"),
        "{delete}"
    );
}
