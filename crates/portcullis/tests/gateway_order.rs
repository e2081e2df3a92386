//! The stdio gateway's order towards the client while a large response is checked on a worker:
//! a later response may pass it, a notification may not, and nothing is lost. The server is a
//! shell script that answers in a fixed order whatever it is asked, so the order the gateway
//! receives is known. Unix only (the script); every wait has a deadline.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{Value, json};
use tempfile::TempDir;

#[test]
fn a_response_being_checked_is_passed_only_by_responses() {
    let tmp = TempDir::new().unwrap();
    // Plain prose, large enough to be checked on a worker and to take a while there.
    let sentence = "The build finished in 3 minutes and every test passed on the first try. ";
    let text = sentence.repeat((1 << 20) / sentence.len());
    let lines = [
        json!({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2025-06-18",
               "capabilities": {"tools": {}}, "serverInfo": {"name": "scripted", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "id": 10, "result": {"content": [{"type": "text", "text": text}]}}),
        json!({"jsonrpc": "2.0", "id": 12, "result": {"content": [{"type": "text", "text": "twelve"}]}}),
        json!({"jsonrpc": "2.0", "method": "notifications/progress",
               "params": {"progressToken": "t11", "progress": 1, "total": 1}}),
        json!({"jsonrpc": "2.0", "id": 11, "result": {"content": [{"type": "text", "text": "eleven"}]}}),
    ];
    let answers = tmp.path().join("answers.jsonl");
    let mut file = std::fs::File::create(&answers).unwrap();
    for l in &lines[1..] {
        writeln!(file, "{l}").unwrap();
    }
    drop(file);
    // Answers `initialize`, then waits for the three calls and writes the rest in one go.
    let script = format!(
        "read -r _; printf '%s\\n' '{}'; read -r _; read -r _; read -r _; read -r _; cat '{}'; sleep 20",
        lines[0],
        answers.display()
    );
    let mut child = Command::cargo_bin("portcullis")
        .unwrap()
        .args(["gateway", "--audit"])
        .arg(tmp.path().join("audit.sqlite"))
        .args(["--", "sh", "-c", &script])
        .current_dir(tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut send = |v: Value| writeln!(stdin, "{v}").unwrap();
    send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "t", "version": "1"}}}));
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    for (id, token) in [(10, "t10"), (11, "t11"), (12, "t12")] {
        send(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                    "params": {"name": "echo", "arguments": {}, "_meta": {"progressToken": token}}}));
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut order = Vec::new();
    let mut big = None;
    while order.len() < 5 {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("only {order:?} arrived"));
        let v: Value = serde_json::from_str(&line).unwrap();
        let what = match (v.get("id"), v.get("method")) {
            (Some(id), None) => format!("R{id}"),
            (None, Some(_)) => format!("N{}", v["params"]["progressToken"]),
            _ => panic!("unexpected {line}"),
        };
        if what == "R10" {
            big = Some(v);
        }
        order.push(what);
    }
    let _ = child.kill();
    let _ = child.wait();

    // R12 passes R10 (still being checked); the notification keeps its place after R10, and
    // R11 its place after the notification.
    assert_eq!(order, ["R1", "R12", "R10", "N\"t11\"", "R11"]);
    let big = big.unwrap();
    assert_eq!(big["result"]["content"][0]["text"], text.as_str());
}
