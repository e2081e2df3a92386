//! `action = "ask"` for a client of the 2026-07-28 (stateless) era: the gateway asks through
//! a Multi Round-Trip Request (`resultType: "input_required"` with a sealed `requestState`)
//! instead of an `elicitation/create` request. The client here is hand-written JSON: every
//! request carries the era's `_meta`, no `initialize` is sent. The same cases run over stdio
//! (the gateway starts the test server) and over the HTTP front in front of the test server's
//! own HTTP endpoint. Every server has a bounded lifetime and every wait a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

#[path = "support/cli.rs"]
mod cli;
#[path = "support/session.rs"]
mod session;
mod support;

use assert_cmd::cargo::CommandCargoExt;
use cli::text_of;
use serde_json::{Value, json};
use support::{http_testserver, testserver};
use tempfile::TempDir;

const WAIT: Duration = Duration::from_secs(20);
const KEY: &str = "io.portcullis/approval";
const TOKEN: &str = "mrtr-client-token-0123456789";

/// `add` and the test server's `confirm` hook (which asks for input itself) need the user's
/// approval; `echo` is allowed.
fn policy(dir: &Path, ask_timeout_secs: f64) -> PathBuf {
    let path = dir.join("policy.toml");
    std::fs::write(
        &path,
        format!(
            "version = 1\n[defaults]\naction = \"allow\"\nask_timeout_secs = {ask_timeout_secs}\n\
             [[server]]\nname = \"*\"\n\
             [[server.tool]]\nname = \"add\"\naction = \"ask\"\n\
             [[server.tool]]\nname = \"confirm\"\naction = \"ask\"\n"
        ),
    )
    .unwrap();
    path
}

/// A client that sends one request and gets its response.
trait Client {
    fn request(&mut self, id: i64, method: &str, params: Value) -> Value;
}

struct StdioClient(session::Session);

impl Client for StdioClient {
    fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.0.request(id, method, params)
    }
}

fn stdio_gateway(dir: &Path, ask_timeout_secs: f64) -> (StdioClient, PathBuf) {
    let audit = dir.join("audit.jsonl");
    let mut cmd = Command::cargo_bin("portcullis").unwrap();
    cmd.args([
        "gateway",
        "--name",
        "srv",
        "--audit-format",
        "jsonl",
        "--audit",
    ])
    .arg(&audit)
    .arg("--policy")
    .arg(policy(dir, ask_timeout_secs))
    .arg("--")
    .arg(testserver())
    .args(["--exit-after", "60"])
    .current_dir(dir);
    (StdioClient(session::Session::start(cmd)), audit)
}

/// `portcullis gateway --listen 127.0.0.1:0 --upstream URL` and the upstream test server.
struct Http {
    gateway: Child,
    upstream: Child,
    addr: String,
}

impl Drop for Http {
    fn drop(&mut self) {
        for child in [&mut self.gateway, &mut self.upstream] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn http_gateway(dir: &Path, ask_timeout_secs: f64) -> (Http, PathBuf) {
    let (upstream, url) = http_testserver(&["--exit-after", "60"]);
    let audit = dir.join("audit.jsonl");
    let mut gateway = Command::cargo_bin("portcullis")
        .unwrap()
        .args(["gateway", "--name", "srv", "--listen", "127.0.0.1:0"])
        .args([
            "--bearer-token-env",
            "PC_MRTR_TOKEN",
            "--audit-format",
            "jsonl",
        ])
        .arg("--audit")
        .arg(&audit)
        .arg("--policy")
        .arg(policy(dir, ask_timeout_secs))
        .args(["--upstream", url.trim()])
        .env("PC_MRTR_TOKEN", TOKEN)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = gateway.stderr.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + WAIT;
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("the gateway did not start");
        if let Some(rest) = line.strip_prefix("portcullis gateway: listening on http://") {
            break rest.trim_end_matches("/mcp").to_string();
        }
    };
    (
        Http {
            gateway,
            upstream,
            addr,
        },
        audit,
    )
}

impl Client for Http {
    fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        let body =
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        let name = params["name"].as_str().unwrap_or_default();
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let head = format!(
            "POST /mcp HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
             MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: {method}\r\nMcp-Name: {name}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(head.starts_with("HTTP/1.1 200"), "{text}");
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_string()
        };
        // One JSON body, or SSE events: the response is the message with this id.
        let messages: Vec<Value> = if head.to_ascii_lowercase().contains("text/event-stream") {
            body.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str(d.trim_start()).ok())
                .collect()
        } else {
            vec![serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))]
        };
        messages
            .into_iter()
            .find(|m| m["id"] == json!(id) && m.get("method").is_none())
            .unwrap_or_else(|| panic!("no response to {id} in {body}"))
    }
}

fn dechunk(mut data: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = data.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        data = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A 2026-07-28-era `tools/call`, with what a retry adds.
fn call(tool: &str, arguments: Value, state: Option<&Value>, responses: Option<Value>) -> Value {
    let mut params = json!({
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
            "io.modelcontextprotocol/clientInfo": {"name": "gateway-mrtr-test", "version": "1"},
        },
        "name": tool,
        "arguments": arguments,
    });
    if let Some(state) = state {
        params["requestState"] = state.clone();
    }
    if let Some(responses) = responses {
        params["inputResponses"] = responses;
    }
    params
}

fn answer(approve: bool) -> Value {
    json!({KEY: {"action": "accept", "content": {"approve": approve}}})
}

/// The refusal's message (`-32001`, rule named).
fn refusal(response: &Value) -> &str {
    assert_eq!(response["error"]["code"], -32001, "{response}");
    assert!(
        response["error"]["data"]["rule"]
            .as_str()
            .unwrap()
            .contains("action = \"ask\""),
        "{response}"
    );
    response["error"]["message"].as_str().unwrap()
}

/// The gateway's question for `tool`; returns its `requestState`.
fn asked(client: &mut dyn Client, id: i64, tool: &str, arguments: Value) -> Value {
    let r = client.request(id, "tools/call", call(tool, arguments.clone(), None, None));
    assert_eq!(r["result"]["resultType"], "input_required", "{r}");
    let question = &r["result"]["inputRequests"][KEY];
    assert_eq!(question["method"], "elicitation/create", "{r}");
    assert_eq!(
        question["params"]["requestedSchema"]["required"],
        json!(["approve"])
    );
    let message = question["params"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("`{tool}`")), "{message}");
    r["result"]["requestState"].clone()
}

/// Approve, decline, not approved, tampered, replayed, another call's approval, the server's
/// own rounds after an approval, and an allowed tool untouched.
fn cases(client: &mut dyn Client) {
    let args = json!({"a": 2, "b": 3});
    // Approved: the call runs once.
    let state = asked(client, 1, "add", args.clone());
    let r = client.request(
        2,
        "tools/call",
        call("add", args.clone(), Some(&state), Some(answer(true))),
    );
    assert_eq!(text_of(&r), "5", "{r}");
    // Replayed: the same approval does not run it again.
    let r = client.request(
        3,
        "tools/call",
        call("add", args.clone(), Some(&state), Some(answer(true))),
    );
    assert!(refusal(&r).contains("replay"), "{r}");

    // Declined, and accepted without `approve: true`.
    let state = asked(client, 4, "add", args.clone());
    let declined = json!({KEY: {"action": "decline"}});
    let r = client.request(
        5,
        "tools/call",
        call("add", args.clone(), Some(&state), Some(declined)),
    );
    assert!(refusal(&r).contains("declined"), "{r}");
    let state = asked(client, 6, "add", args.clone());
    let r = client.request(
        7,
        "tools/call",
        call("add", args.clone(), Some(&state), Some(answer(false))),
    );
    assert!(refusal(&r).contains("did not approve"), "{r}");

    // Tampered: one character of the state changed; then an approval used for other arguments.
    let state = asked(client, 8, "add", args.clone());
    let mut forged = state.as_str().unwrap().to_string();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let r = client.request(
        9,
        "tools/call",
        call(
            "add",
            args.clone(),
            Some(&json!(forged)),
            Some(answer(true)),
        ),
    );
    assert!(refusal(&r).contains("not one this gateway issued"), "{r}");
    let other = json!({"a": 1000, "b": 3});
    let r = client.request(
        10,
        "tools/call",
        call("add", other, Some(&state), Some(answer(true))),
    );
    assert!(refusal(&r).contains("another call"), "{r}");

    // The server asks for input itself: after the user's approval, its round goes through
    // the gateway (its question and state to the client, the answer and state back) without
    // asking the user again.
    let arguments = json!({"text": "launch"});
    let state = asked(client, 11, "confirm", arguments.clone());
    let r = client.request(
        12,
        "tools/call",
        call(
            "confirm",
            arguments.clone(),
            Some(&state),
            Some(answer(true)),
        ),
    );
    assert_eq!(r["result"]["resultType"], "input_required", "{r}");
    let theirs = &r["result"]["inputRequests"]["confirm"];
    assert_eq!(
        theirs["params"]["message"], "Really confirm `launch`?",
        "{r}"
    );
    let sealed = r["result"]["requestState"].clone();
    assert!(sealed.as_str().unwrap().starts_with("portcullis1."), "{r}");
    let confirm = json!({"confirm": {"action": "accept", "content": {}}});
    let r = client.request(
        13,
        "tools/call",
        call(
            "confirm",
            arguments.clone(),
            Some(&sealed),
            Some(confirm.clone()),
        ),
    );
    assert_eq!(text_of(&r), "confirmed: launch", "{r}");
    let r = client.request(
        14,
        "tools/call",
        call("confirm", arguments, Some(&sealed), Some(confirm)),
    );
    assert!(refusal(&r).contains("replay"), "{r}");

    // An allowed tool is not asked about.
    let r = client.request(
        15,
        "tools/call",
        call("echo", json!({"text": "hi"}), None, None),
    );
    assert_eq!(text_of(&r), "hi", "{r}");
}

/// The audit records of `tool`, as (decision, request id).
fn decisions(audit: &Path, tool: &str) -> Vec<(String, String)> {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(audit).unwrap_or_default();
        let recs: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|r| r["tool"] == tool && r["event"] == "request")
            .map(|r| {
                (
                    r["decision"].as_str().unwrap_or_default().to_string(),
                    r["request_id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        if recs.len() >= 9 || Instant::now() > deadline {
            return recs;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn check_audit(audit: &Path) {
    let add = decisions(audit, "add");
    let expected: Vec<(String, String)> = [
        ("asked", "1"),
        ("accepted", "2"),
        ("refused", "3"),
        ("asked", "4"),
        ("refused", "5"),
        ("asked", "6"),
        ("refused", "7"),
        ("asked", "8"),
        ("refused", "9"),
        ("refused", "10"),
    ]
    .iter()
    .map(|(d, i)| (d.to_string(), i.to_string()))
    .collect();
    assert_eq!(add, expected);
}

#[test]
fn ask_through_input_required_over_stdio() {
    let dir = TempDir::new().unwrap();
    let (mut client, audit) = stdio_gateway(dir.path(), 60.0);
    cases(&mut client);
    drop(client);
    check_audit(&audit);
}

#[test]
fn ask_through_input_required_over_http() {
    let dir = TempDir::new().unwrap();
    let (mut client, audit) = http_gateway(dir.path(), 60.0);
    cases(&mut client);
    check_audit(&audit);
}

#[test]
fn an_answer_after_ask_timeout_secs_is_refused() {
    let dir = TempDir::new().unwrap();
    let (mut client, _audit) = stdio_gateway(dir.path(), 0.3);
    let args = json!({"a": 1, "b": 1});
    let state = asked(&mut client, 1, "add", args.clone());
    std::thread::sleep(Duration::from_millis(500));
    let r = client.request(
        2,
        "tools/call",
        call("add", args, Some(&state), Some(answer(true))),
    );
    assert!(refusal(&r).contains("expired"), "{r}");
}

#[test]
fn a_client_without_elicitation_is_refused() {
    let dir = TempDir::new().unwrap();
    let (mut client, _audit) = stdio_gateway(dir.path(), 60.0);
    let mut params = call("add", json!({"a": 1, "b": 1}), None, None);
    params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({});
    let r = client.request(1, "tools/call", params);
    let message = refusal(&r);
    assert!(
        message.contains("elicitation") && message.contains("clientCapabilities"),
        "{message}"
    );
}
