//! `portcullis gateway --upstream URL` without `--listen`: the client talks stdio to the
//! gateway, the gateway talks streamable HTTP to a remote server. Against the test MCP server
//! over HTTP on 127.0.0.1 (both protocol eras), and against a scripted HTTP server written
//! here (a server request round trip, an upstream that dies mid-call, the DELETE at the end).
//! Every server has a bounded lifetime and every wait a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/cli.rs"]
mod cli;
mod support;

use assert_cmd::cargo::CommandCargoExt;
use cli::{text_of, write_policy};
use serde_json::{Value, json};
use support::http_testserver;
use tempfile::TempDir;

const WAIT: Duration = Duration::from_secs(20);
const UPSTREAM_TOKEN: &str = "upstream-token-fedcba9876543210";

/// A gateway started as a client would start it: JSON-RPC lines on stdin and stdout, standard
/// error kept for inspection.
struct StdioGateway {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    seen: Vec<Value>,
}

impl StdioGateway {
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> StdioGateway {
        let mut cmd = Command::cargo_bin("portcullis").unwrap();
        cmd.arg("gateway")
            .arg("--audit")
            .arg(dir.join("audit.jsonl"))
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdin = child.stdin.take();
        StdioGateway {
            child,
            stdin,
            lines,
            stderr,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    }

    /// The next message the gateway writes that `wanted` accepts; panics after [`WAIT`].
    fn until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&wanted) {
            return self.seen.remove(i);
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"));
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not one JSON message a line ({e}): {line}"));
            if wanted(&value) {
                return value;
            }
            self.seen.push(value);
        }
    }

    fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.until(&format!("answer to {method} (id {id})"), |v| {
            v.get("id") == Some(&json!(id)) && v.get("method").is_none()
        })
    }

    fn initialize(&mut self) -> Value {
        let init = self.request(
            1,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}},
                   "clientInfo": {"name": "portcullis-tests", "version": "1"}}),
        );
        assert!(init.get("result").is_some(), "{init}");
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        init
    }

    fn call(&mut self, id: i64, tool: &str, arguments: Value) -> Value {
        self.request(
            id,
            "tools/call",
            json!({"name": tool, "arguments": arguments}),
        )
    }

    /// Closes stdin and waits for the gateway to exit by itself; returns its exit code.
    fn finish(&mut self) -> Option<i32> {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the gateway did not exit after its input closed");
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for StdioGateway {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn refused(response: &Value) -> bool {
    response.get("error").is_some()
}

/// The test MCP server over HTTP, requiring `UPSTREAM_TOKEN`; returns it and its URL.
fn token_testserver() -> (Child, String) {
    http_testserver(&["--exit-after", "60", "--require-token", UPSTREAM_TOKEN])
}

fn audit_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("audit.jsonl")).unwrap_or_default()
}

#[test]
fn stdio_front_to_an_http_upstream_in_both_eras() {
    let tmp = TempDir::new().unwrap();
    let (mut server, url) = token_testserver();
    let policy = write_policy(
        tmp.path(),
        r#"
version = 1
[[server]]
name = "*"
action = "allow"
[[server.tool]]
name = "add"
action = "deny"
"#,
    );
    let auth = format!("Bearer {UPSTREAM_TOKEN}");
    let args = [
        "--policy",
        &policy,
        "--name",
        "remote",
        "--upstream",
        &url,
        "--upstream-header-env",
        "Authorization: PC_TEST_UPSTREAM_AUTH",
    ];
    let env = [("PC_TEST_UPSTREAM_AUTH", auth.as_str())];

    // The era before 2026-07-28: initialize, a session, then calls.
    let mut gw = StdioGateway::start(tmp.path(), &args, &env);
    let init = gw.initialize();
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");
    let tools = gw.request(2, "tools/list", json!({}));
    assert_eq!(tools["result"]["tools"].as_array().unwrap().len(), 2);
    assert_eq!(
        text_of(&gw.call(3, "echo", json!({"text": "hello"}))),
        "hello"
    );
    let r = gw.call(4, "add", json!({"a": 1, "b": 2}));
    assert!(refused(&r), "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("add"),
        "{r}"
    );
    // Several calls in flight at once, with progress on the POST's SSE stream.
    for id in 10..20 {
        gw.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "progress", "arguments": {"steps": 2}, "_meta": {"progressToken": id}}}));
    }
    for id in 10..20 {
        let r = gw.until("a progress call's answer", |v| {
            v.get("id") == Some(&json!(id)) && v.get("method").is_none()
        });
        assert_eq!(text_of(&r), "done after 2 steps");
        gw.until("its progress", |v| {
            v["method"] == "notifications/progress" && v["params"]["progressToken"] == json!(id)
        });
    }
    assert_eq!(gw.finish(), Some(0));
    let stderr = gw.stderr();
    assert!(!stderr.contains(UPSTREAM_TOKEN), "{stderr}");

    // The 2026-07-28 era: no initialize, no session; each request names its version.
    let mut gw = StdioGateway::start(tmp.path(), &args, &env);
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "portcullis-tests", "version": "1"}});
    let d = gw.request(1, "server/discover", json!({"_meta": meta}));
    assert!(d.get("result").is_some(), "{d}");
    let r = gw.request(
        2,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "modern"}, "_meta": meta}),
    );
    assert_eq!(text_of(&r), "modern");
    let r = gw.request(
        3,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": meta}),
    );
    assert!(refused(&r), "{r}");
    let r = gw.request(
        4,
        "prompts/get",
        json!({"name": "summarize", "arguments": {"text": "x"}, "_meta": meta}),
    );
    assert!(r.get("result").is_some(), "{r}");
    assert_eq!(gw.finish(), Some(0));

    // A wrong credential is the upstream's 401, answered as a JSON-RPC error.
    let mut gw = StdioGateway::start(
        tmp.path(),
        &args,
        &[("PC_TEST_UPSTREAM_AUTH", "Bearer wrong-token-0123456789")],
    );
    let r = gw.request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert!(refused(&r), "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("401"),
        "{r}"
    );
    assert_eq!(gw.finish(), Some(0));

    let audit = audit_text(tmp.path());
    assert!(audit.contains("\"refused\""), "{audit}");
    assert!(!audit.contains(UPSTREAM_TOKEN));
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn missing_or_unreachable_upstream_fails_clearly() {
    let tmp = TempDir::new().unwrap();
    // A port nothing listens on: each request gets an error, nothing hangs.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    drop(listener);
    let mut gw = StdioGateway::start(tmp.path(), &["--upstream", &url], &[]);
    let r = gw.request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert!(refused(&r), "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{r}"
    );
    assert_eq!(gw.finish(), Some(0));

    // A header variable that is not set stops the start, naming the variable only.
    let out = Command::cargo_bin("portcullis")
        .unwrap()
        .args(["gateway", "--audit"])
        .arg(tmp.path().join("audit.jsonl"))
        .args([
            "--upstream",
            &url,
            "--upstream-header-env",
            "Authorization: PC_TEST_NOT_SET_ANYWHERE",
        ])
        .env_remove("PC_TEST_NOT_SET_ANYWHERE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PC_TEST_NOT_SET_ANYWHERE"), "{err}");
}

// ---- a scripted upstream ----

/// One HTTP request as the scripted server read it.
struct Request {
    method: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let method = line.split(' ').next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &str) {
    let mut text = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let _ = stream.write_all(text.as_bytes());
}

fn sse_head(stream: &mut TcpStream) {
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
    );
}

fn sse_event(stream: &mut TcpStream, message: &Value) {
    let _ = stream.write_all(format!("event: message\ndata: {message}\n\n").as_bytes());
    let _ = stream.flush();
}

/// The streams waiting for the client's answer to a request of the server's, by id.
type Waiting = Mutex<Vec<(String, Sender<Value>)>>;

/// What the scripted server saw.
#[derive(Default)]
struct Seen {
    deleted: AtomicBool,
    /// Each POST's `Mcp-Session-Id` and `MCP-Protocol-Version`, after `initialize`.
    headers: Mutex<Vec<(Option<String>, Option<String>)>>,
    secret_header: Mutex<Option<String>>,
}

/// A streamable-HTTP server in the era before 2026-07-28, scripted: `initialize` opens
/// session `s-1`; `tools/call` of `ask` sends an `elicitation/create` on the POST's stream and
/// answers with what the client answered it; `die` starts a stream and drops the connection;
/// GET is 405; DELETE is noted. It stops after 60 s whatever happens.
fn scripted_upstream() -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let seen = Arc::new(Seen::default());
    let state = seen.clone();
    // Answers to the server's own requests, by id, for the stream waiting on them.
    let waiting: Arc<Waiting> = Arc::new(Mutex::new(Vec::new()));
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
            let (seen, waiting) = (state.clone(), waiting.clone());
            std::thread::spawn(move || serve_one(&mut stream, &seen, &waiting));
        }
    });
    (url, seen)
}

fn serve_one(stream: &mut TcpStream, seen: &Seen, waiting: &Waiting) {
    let Some(req) = read_request(stream) else {
        return;
    };
    if let Some(v) = req.header("x-secret") {
        *seen.secret_header.lock().unwrap() = Some(v.to_string());
    }
    match req.method.as_str() {
        "DELETE" => {
            seen.deleted.store(true, Ordering::SeqCst);
            return respond(stream, "200 OK", &[], "");
        }
        "GET" => return respond(stream, "405 Method Not Allowed", &[], ""),
        _ => {}
    }
    let body = req.body.clone();
    let method = body["method"].as_str().unwrap_or_default();
    if method == "initialize" {
        let answer = json!({"jsonrpc": "2.0", "id": body["id"], "result": {
            "protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
            "serverInfo": {"name": "scripted", "version": "1"}}});
        return respond(
            stream,
            "200 OK",
            &[
                ("Content-Type", "application/json"),
                ("Mcp-Session-Id", "s-1"),
            ],
            &answer.to_string(),
        );
    }
    seen.headers.lock().unwrap().push((
        req.header("mcp-session-id").map(str::to_string),
        req.header("mcp-protocol-version").map(str::to_string),
    ));
    if body.get("method").is_none() {
        // The client's answer to a request of the server's.
        let key = body["id"].to_string();
        let mut w = waiting.lock().unwrap();
        if let Some(i) = w.iter().position(|(k, _)| *k == key) {
            let _ = w.remove(i).1.send(body.clone());
        }
        return respond(stream, "202 Accepted", &[], "");
    }
    if body.get("id").is_none() {
        return respond(stream, "202 Accepted", &[], "");
    }
    match body.pointer("/params/name").and_then(Value::as_str) {
        Some("ask") => {
            let (tx, rx) = channel();
            waiting
                .lock()
                .unwrap()
                .push((json!("srv-1").to_string(), tx));
            sse_head(stream);
            sse_event(
                stream,
                &json!({"jsonrpc": "2.0", "id": "srv-1", "method": "elicitation/create",
                    "params": {"message": "Which colour?", "requestedSchema": {"type": "object",
                    "properties": {"colour": {"type": "string"}}}}}),
            );
            let Ok(answer) = rx.recv_timeout(Duration::from_secs(20)) else {
                return;
            };
            let colour = answer
                .pointer("/result/content/colour")
                .and_then(Value::as_str)
                .unwrap_or("none")
                .to_string();
            sse_event(
                stream,
                &json!({"jsonrpc": "2.0", "id": body["id"], "result": {
                    "content": [{"type": "text", "text": format!("you chose {colour}")}]}}),
            );
        }
        Some("die") => {
            sse_head(stream);
            sse_event(
                stream,
                &json!({"jsonrpc": "2.0", "method": "notifications/message",
                    "params": {"level": "info", "data": "about to die"}}),
            );
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        Some("truncated") => {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"jsonrpc\":",
            );
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        _ => {
            let answer = json!({"jsonrpc": "2.0", "id": body["id"], "result": {
                "content": [{"type": "text", "text": "plain"}]}});
            respond(
                stream,
                "200 OK",
                &[("Content-Type", "application/json")],
                &serde_json::to_string_pretty(&answer).unwrap(),
            );
        }
    }
}

#[test]
fn server_requests_dying_upstreams_and_the_end_of_the_session() {
    let tmp = TempDir::new().unwrap();
    let (url, seen) = scripted_upstream();
    let secret = "s3cr3t-header-value-0123456789";
    let mut gw = StdioGateway::start(
        tmp.path(),
        &[
            "--upstream",
            &url,
            "--upstream-header-env",
            "X-Secret: PC_TEST_SECRET_HEADER",
        ],
        &[("PC_TEST_SECRET_HEADER", secret)],
    );
    gw.initialize();

    // A pretty-printed JSON answer still reaches the client as one line.
    assert_eq!(text_of(&gw.call(2, "plain", json!({}))), "plain");

    // The server asks the user something during a call; the client's answer goes back.
    gw.send(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "ask", "arguments": {}}}));
    let question = gw.until("the server's elicitation", |v| {
        v["method"] == "elicitation/create"
    });
    assert_eq!(question["id"], "srv-1");
    gw.send(&json!({"jsonrpc": "2.0", "id": "srv-1",
        "result": {"action": "accept", "content": {"colour": "green"}}}));
    let r = gw.until("the call's answer", |v| v["id"] == 3);
    assert_eq!(text_of(&r), "you chose green");

    // An upstream that drops the connection mid-call: an error, not a hang.
    let r = gw.call(4, "die", json!({}));
    assert!(refused(&r), "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ended before the response"),
        "{r}"
    );
    gw.until("the log message sent before it died", |v| {
        v["method"] == "notifications/message"
    });
    let r = gw.call(5, "truncated", json!({}));
    assert!(refused(&r), "{r}");

    // Calls still work afterwards, and carry the session and its version.
    assert_eq!(text_of(&gw.call(6, "plain", json!({}))), "plain");
    assert_eq!(gw.finish(), Some(0));
    assert!(seen.deleted.load(Ordering::SeqCst), "no DELETE at the end");
    for (sid, version) in seen.headers.lock().unwrap().iter() {
        assert_eq!(sid.as_deref(), Some("s-1"));
        assert_eq!(version.as_deref(), Some("2025-06-18"));
    }
    // The header went to the upstream, and nowhere else.
    assert_eq!(seen.secret_header.lock().unwrap().as_deref(), Some(secret));
    let stderr = gw.stderr();
    assert!(!stderr.contains(secret), "{stderr}");
    assert!(!audit_text(tmp.path()).contains(secret));
    assert!(!gw.seen.iter().any(|v| v.to_string().contains(secret)));
}

#[test]
fn header_values_given_on_the_command_line_are_checked() {
    let tmp = TempDir::new().unwrap();
    let out = Command::cargo_bin("portcullis")
        .unwrap()
        .args(["gateway", "--audit"])
        .arg(tmp.path().join("audit.jsonl"))
        .args([
            "--upstream",
            "http://127.0.0.1:9/mcp",
            "--upstream-header-env",
            "Bad Name: PC_TEST_HEADER",
        ])
        .env("PC_TEST_HEADER", "v")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid header name"));
}

#[test]
fn the_get_stream_brings_a_rug_pull_and_the_gateway_lists_again() {
    let tmp = TempDir::new().unwrap();
    let (mut server, url) = http_testserver(&["--exit-after", "60", "--rug-pull"]);
    let mut gw = StdioGateway::start(tmp.path(), &["--upstream", url.trim()], &[]);
    gw.initialize();
    // Give the GET stream a moment to open: the change is said only there.
    std::thread::sleep(Duration::from_millis(500));
    let tools = gw.request(2, "tools/list", json!({}));
    assert_eq!(tools["result"]["tools"].as_array().unwrap().len(), 2);
    gw.until("the server's list_changed, from its GET stream", |v| {
        v["method"] == "notifications/tools/list_changed"
    });
    // The gateway lists the tools itself (its answer is judged, not shown) and finds the
    // changed definition: calls to it are refused from then on.
    let deadline = Instant::now() + WAIT;
    let mut id = 10;
    loop {
        let r = gw.call(id, "add", json!({"a": 1, "b": 2}));
        if refused(&r) {
            let message = r["error"]["message"].as_str().unwrap();
            assert!(message.contains("tool pins"), "{message}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the changed tool was never blocked: {r}"
        );
        id += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(text_of(&gw.call(100, "echo", json!({"text": "hi"}))), "hi");
    // The gateway's own listing never reached the client.
    assert!(!gw.seen.iter().any(|v| {
        v.get("id")
            .is_some_and(|id| id.is_string() && id.as_str().unwrap().starts_with("portcullis"))
    }));
    assert_eq!(gw.finish(), Some(0));
    let _ = server.kill();
    let _ = server.wait();
}
