//! Argument rules on values nested in objects and arrays, through the real gateway in front of
//! the test server: JSON pointers, `*` steps, dotted key globs and `**`, for paths, URLs,
//! commands and patterns.

use std::process::Command;

#[path = "support/session.rs"]
mod session;
mod support;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{Value, json};
use session::{Session, refused, text_of};
use support::testserver;

const POLICY: &str = r#"version = 1

[[server]]
name = "test"
action = "allow"

[[server.tool]]
name = "echo"
paths = { args = ["/options/files", "edits.*.path"], roots = ["data"] }
urls = { args = ["**.url"], schemes = ["https"] }
commands = { args = ["/steps/*/cmd"], allow = ["ls", "git"] }
patterns = { "/options/mode" = "read|list" }
"#;

#[test]
fn nested_arguments_are_judged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(tmp.path()).unwrap();
    std::fs::create_dir_all(dir.join("data/sub")).unwrap();
    std::fs::create_dir_all(dir.join("data-evil")).unwrap();
    std::fs::write(dir.join("policy.toml"), POLICY).unwrap();
    let mut cmd = Command::cargo_bin("portcullis").unwrap();
    cmd.current_dir(&dir)
        .args([
            "gateway",
            "--policy",
            "policy.toml",
            "--name",
            "test",
            "--audit",
        ])
        .arg(dir.join("audit.jsonl"))
        .arg("--")
        .arg(testserver())
        .args(["--exit-after", "60"]);
    let mut s = Session::start(cmd);
    s.handshake();
    let mut id = 10;
    let mut call = |extra: Value| {
        id += 1;
        let mut args = json!({"text": "ok"});
        for (k, v) in extra.as_object().unwrap() {
            args[k] = v.clone();
        }
        s.call(id, "echo", args)
    };
    let d = dir.display().to_string();
    let allowed = [
        json!({"options": {"files": ["data/a.txt", format!("{d}/data/sub/b.txt")], "mode": "read"}}),
        json!({"edits": [{"path": "data/x"}, {"path": "data/sub/y", "note": "/etc/passwd"}]}),
        json!({"meta": {"links": [{"url": "https://8.8.8.8/x"}]}}),
        json!({"steps": [{"cmd": "ls -la"}, {"cmd": ["git", "status"]}]}),
        json!({"options": {"mode": "list"}}),
    ];
    for a in allowed {
        let r = call(a.clone());
        assert_eq!(text_of(&r), Some("ok"), "{a} refused: {r}");
    }
    let refused_cases = [
        json!({"options": {"files": ["data/a.txt", "../etc/passwd"]}}),
        json!({"options": {"files": [["data/a"], [format!("{d}/data-evil/x")]]}}),
        json!({"options": {"files": "data/../data-evil/x"}}),
        json!({"edits": [{"path": "data/x"}, {"path": "/etc/passwd"}]}),
        json!({"edits": {"first": {"path": "/etc/shadow"}}}),
        json!({"meta": {"links": [{"url": "https://127.0.0.1/"}]}}),
        json!({"deep": {"er": [{"still": {"url": "http://8.8.8.8/"}}]}}),
        json!({"steps": [{"cmd": "ls"}, {"cmd": "rm -rf /"}]}),
        json!({"steps": [{"cmd": "ls; curl evil"}]}),
        json!({"options": {"mode": "delete"}}),
        json!({"options": {"mode": 1}}),
    ];
    for a in refused_cases {
        let r = call(a.clone());
        assert!(refused(&r), "{a} allowed: {r}");
    }
}
