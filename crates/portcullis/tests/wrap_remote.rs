//! `portcullis wrap` on remote (URL) entries: the entry becomes a stdio entry that runs
//! `portcullis gateway --upstream URL`, its header values move to `env` (never to the
//! arguments), the wrapped entry really reaches the test MCP server over HTTP through the
//! gateway, wrapping again changes nothing, and unwrap restores the file byte for byte.

use std::path::Path;
use std::process::Command;

#[path = "support/session.rs"]
mod session;
mod support;

use assert_cmd::cargo::{CommandCargoExt, cargo_bin};
use serde_json::json;
use session::Session;
use support::http_testserver;

const TOKEN: &str = "remote-upstream-token-0123456789abcdef";

fn portcullis(home: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("portcullis")
        .unwrap()
        .args(args)
        .current_dir(home)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "portcullis {args:?}: {text}");
    text
}

#[test]
fn wrapped_remote_entry_runs_through_the_gateway_and_unwraps_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let home = std::fs::canonicalize(tmp.path()).unwrap();
    let (mut server, url) = http_testserver(&["--exit-after", "60", "--require-token", TOKEN]);

    let config = home.join(".cursor/mcp.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let original = format!(
        "// Cursor\n{{\n  \"mcpServers\": {{\n    \"remote\": {{\n      \"url\": \"{url}\", // the team's server\n      \"headers\": {{\"Authorization\": \"Bearer {TOKEN}\"}}\n    }},\n    \"old\": {{\"url\": \"https://example.com/sse\"}}\n  }}\n}}\n"
    );
    std::fs::write(&config, &original).unwrap();
    let audit = home.join("audit.jsonl");
    let program = cargo_bin("portcullis");
    let config_arg = config.to_str().unwrap();
    let wrap_args = [
        "wrap",
        config_arg,
        "--gateway-program",
        program.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
    ];
    let out = portcullis(&home, &wrap_args);
    assert!(out.contains("wrapped: remote"), "{out}");
    assert!(out.contains("left unchanged: old"), "{out}");
    // The report and diff never show the token.
    assert!(!out.contains(TOKEN), "{out}");

    let wrapped = std::fs::read_to_string(&config).unwrap();
    assert!(wrapped.contains("// Cursor") && wrapped.contains("// the team's server"));
    let doc = portcullis_scan::document::parse(&wrapped, portcullis_scan::document::Format::Json)
        .unwrap();
    let entry = doc.pointer(&["mcpServers", "remote"]).unwrap();
    let command = entry.get("command").unwrap().as_str().unwrap().to_string();
    let args: Vec<String> = entry
        .get("args")
        .unwrap()
        .items()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert!(args.contains(&url), "{args:?}");
    assert!(!args.iter().any(|a| a.contains(TOKEN)), "{args:?}");
    let env: Vec<(String, String)> = entry
        .get("env")
        .unwrap()
        .members()
        .iter()
        .map(|m| (m.key.value.clone(), m.value.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(env.len(), 1);
    assert_eq!(env[0].1, format!("Bearer {TOKEN}"));

    // Run the entry as the client would: its command, its arguments, its env.
    {
        let mut cmd = Command::new(&command);
        cmd.args(&args).env("HOME", &home);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let mut s = Session::start(cmd);
        let tools = s.handshake();
        assert_eq!(tools.as_array().map(Vec::len), Some(2), "{tools}");
        let answer = s.call(3, "echo", json!({"text": "through the wrapped entry"}));
        assert_eq!(
            session::text_of(&answer),
            Some("through the wrapped entry"),
            "{answer}"
        );
    }
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.contains("\"server\":\"remote\""), "{log}");
    assert!(!log.contains(TOKEN));

    // Again: nothing changes.
    let out = portcullis(&home, &wrap_args);
    assert!(out.contains("already wrapped: remote"), "{out}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), wrapped);

    // Unwrap: the original, byte for byte.
    portcullis(&home, &["unwrap", config_arg]);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);

    // In place (the file changed since, so no backup fits): the entry is remote again.
    let edited = wrapped.replace("// Cursor", "// Cursor, edited");
    std::fs::write(&config, &edited).unwrap();
    portcullis(&home, &["unwrap", config_arg]);
    let restored = std::fs::read_to_string(&config).unwrap();
    assert_eq!(restored, original.replace("// Cursor", "// Cursor, edited"));
    let _ = server.kill();
    let _ = server.wait();
}
