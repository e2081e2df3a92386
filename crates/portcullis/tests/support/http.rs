//! A client for `portcullis gateway --listen` over streamable HTTP on 127.0.0.1: the gateway
//! started with its address and token read from its banner, and requests written by hand on a
//! TCP socket so the tests control every header (Host, Origin, Authorization). Included with
//! `#[path]` by the test files that need it; every wait has a deadline.

// Each test file uses a different part.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{Value, json};

pub const WAIT: Duration = Duration::from_secs(20);
pub const CLIENT_TOKEN: &str = "client-token-0123456789abcdef";
pub const UPSTREAM_TOKEN: &str = "upstream-token-fedcba9876543210";

/// A running `portcullis gateway --listen 127.0.0.1:0 ...`.
pub struct HttpGateway {
    pub child: Child,
    pub addr: String,
    pub token: String,
    pub audit: PathBuf,
    pub stderr: Arc<Mutex<String>>,
}

impl HttpGateway {
    /// Starts the gateway with `args` (the server, after `--`, included) and reads its address
    /// (and its token, when it made one) from standard error.
    pub fn start(dir: &Path, args: &[&str], token_from_env: bool) -> HttpGateway {
        HttpGateway::start_with(dir, args, token_from_env, &[])
    }

    /// [`HttpGateway::start`] with a made token and these variables in the gateway's (and so
    /// its servers') environment.
    pub fn start_with_env(dir: &Path, args: &[&str], env: &[(&str, String)]) -> HttpGateway {
        HttpGateway::start_with(dir, args, false, env)
    }

    fn start_with(
        dir: &Path,
        args: &[&str],
        token_from_env: bool,
        env: &[(&str, String)],
    ) -> HttpGateway {
        let audit = dir.join("audit.sqlite");
        let mut cmd = Command::cargo_bin("portcullis").unwrap();
        cmd.args(["gateway", "--listen", "127.0.0.1:0", "--audit"])
            .arg(&audit);
        if token_from_env {
            cmd.args(["--bearer-token-env", "PC_GATEWAY_TOKEN"])
                .env("PC_GATEWAY_TOKEN", CLIENT_TOKEN);
        }
        let mut child = cmd
            .args(args)
            .env("PC_UPSTREAM_TOKEN", UPSTREAM_TOKEN)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = channel();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                sink.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let (addr, token) = read_banner(&rx, &log, !token_from_env);
        HttpGateway {
            child,
            addr,
            token: token.unwrap_or_else(|| CLIENT_TOKEN.to_string()),
            audit,
            stderr: log,
        }
    }

    /// Sends a request with the usual headers plus `extra` (a header given with an empty
    /// value is left out).
    pub fn send(&self, method: &str, extra: &[(&str, &str)], body: &str) -> Reply {
        let auth = format!("Bearer {}", self.token);
        let mut headers: Vec<(&str, &str)> = vec![
            ("Host", self.addr.as_str()),
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ];
        for (k, v) in extra {
            headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
            if !v.is_empty() {
                headers.push((k, v));
            }
        }
        raw_request(&self.addr, method, "/mcp", &headers, body.as_bytes())
    }

    pub fn post(&self, session: Option<&str>, message: &Value) -> Reply {
        let extra: Vec<(&str, &str)> = session.map(|s| ("Mcp-Session-Id", s)).into_iter().collect();
        self.send("POST", &extra, &message.to_string())
    }

    /// `initialize` and `notifications/initialized`; returns the session id.
    pub fn initialize(&self) -> String {
        self.initialize_with(json!({}))
    }

    /// `initialize` declaring these client capabilities; returns the session id.
    pub fn initialize_with(&self, capabilities: Value) -> String {
        let r = self.post(
            None,
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": capabilities,
                "clientInfo": {"name": "gateway-http-test", "version": "1"}}}),
        );
        assert_eq!(r.status, 200, "{r:?}\n{}", self.stderr.lock().unwrap());
        assert!(r.message(&json!(0)).get("result").is_some(), "{r:?}");
        let sid = r
            .header("mcp-session-id")
            .expect("a session id")
            .to_string();
        let r = self.post(
            Some(&sid),
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        );
        assert_eq!(r.status, 202, "{r:?}");
        sid
    }

    pub fn call(&self, sid: &str, id: i64, tool: &str, arguments: Value) -> Value {
        let r = self.post(
            Some(sid),
            &json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                    "params": {"name": tool, "arguments": arguments}}),
        );
        assert_eq!(r.status, 200, "{r:?}");
        r.message(&json!(id))
    }
}

impl Drop for HttpGateway {
    fn drop(&mut self) {
        self.stop();
    }
}

impl HttpGateway {
    /// Stops the gateway and waits for it: SIGTERM, then SIGKILL after 10 s.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SIGTERM first: the gateway stops every session's server group on its way out.
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address line, and the token line when the gateway made a token.
pub fn read_banner(
    rx: &Receiver<String>,
    log: &Arc<Mutex<String>>,
    expect_token: bool,
) -> (String, Option<String>) {
    let deadline = Instant::now() + WAIT;
    let mut addr = None;
    let mut token = None;
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        if let Some(rest) = line.strip_prefix("portcullis gateway: listening on http://") {
            addr = Some(rest.trim_end_matches("/mcp").to_string());
        }
        if let Some(rest) = line.strip_prefix("portcullis gateway: bearer token: ") {
            token = Some(rest.to_string());
        }
        if let Some(addr) = &addr
            && (token.is_some() || !expect_token)
        {
            return (addr.clone(), token);
        }
    }
    panic!("the gateway did not start:\n{}", log.lock().unwrap());
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC messages of the body: one JSON value or array, or the data of SSE events.
    pub fn messages(&self) -> Vec<Value> {
        let sse = self
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream"));
        let values: Vec<Value> = if sse {
            self.body
                .split("\n\n")
                .filter_map(|event| {
                    let data: Vec<&str> = event
                        .lines()
                        .filter_map(|l| l.strip_prefix("data:"))
                        .map(str::trim_start)
                        .collect();
                    let data = data.join("\n");
                    (!data.trim().is_empty()).then(|| serde_json::from_str(&data).unwrap())
                })
                .collect()
        } else {
            vec![serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))]
        };
        values
            .into_iter()
            .flat_map(|v| match v {
                Value::Array(items) => items,
                v => vec![v],
            })
            .collect()
    }

    /// The response to request `id`.
    pub fn message(&self, id: &Value) -> Value {
        self.messages()
            .into_iter()
            .find(|m| m.get("id") == Some(id) && m.get("method").is_none())
            .unwrap_or_else(|| panic!("no response to {id} in {self:?}"))
    }
}

/// One HTTP/1.1 exchange with `Connection: close`, read to the end (chunked bodies decoded).
pub fn raw_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

pub fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
}

/// A POST whose SSE answer is read one message at a time, so the test can answer what the
/// gateway asks in the middle of it.
pub struct EventStream {
    reader: BufReader<TcpStream>,
    chunked: bool,
    /// Body bytes read and not yet split into events.
    buffer: String,
    ended: bool,
}

impl EventStream {
    /// POSTs `message` in session `sid` and reads the head of an SSE answer.
    pub fn post(gw: &HttpGateway, sid: &str, message: &Value) -> EventStream {
        EventStream::open(gw, "POST", sid, &[], &message.to_string())
    }

    /// Opens the session's GET stream, resuming after `last_event_id` when given.
    pub fn get(gw: &HttpGateway, sid: &str, last_event_id: Option<&str>) -> EventStream {
        let extra: Vec<(&str, &str)> = last_event_id
            .map(|id| ("Last-Event-ID", id))
            .into_iter()
            .collect();
        EventStream::open(gw, "GET", sid, &extra, "")
    }

    /// POSTs `body` without a session, with these extra headers (2026-07-28 era).
    pub fn post_with(gw: &HttpGateway, extra: &[(&str, &str)], body: &Value) -> EventStream {
        EventStream::open(gw, "POST", "", extra, &body.to_string())
    }

    fn open(
        gw: &HttpGateway,
        method: &str,
        sid: &str,
        extra: &[(&str, &str)],
        body: &str,
    ) -> EventStream {
        let mut stream = TcpStream::connect(&gw.addr).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut head = format!(
            "{method} /mcp HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            gw.addr,
            gw.token,
            body.len()
        );
        if !sid.is_empty() {
            head.push_str(&format!("Mcp-Session-Id: {sid}\r\n"));
        }
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        stream.write_all(head.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.contains(" 200 "), "{status}");
        let mut chunked = false;
        let mut sse = false;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            chunked |= line == "transfer-encoding: chunked";
            sse |= line.starts_with("content-type: text/event-stream");
        }
        assert!(sse, "the answer is not an event stream");
        EventStream {
            reader,
            chunked,
            buffer: String::new(),
            ended: false,
        }
    }

    /// Reads more of the body; false at its end.
    pub fn fill(&mut self) -> bool {
        if self.ended {
            return false;
        }
        let mut data = Vec::new();
        if self.chunked {
            let mut size = String::new();
            self.reader.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                self.ended = true;
                return false;
            }
            data.resize(n + 2, 0);
            self.reader.read_exact(&mut data).unwrap();
            data.truncate(n);
        } else {
            data.resize(4096, 0);
            let n = self.reader.read(&mut data).unwrap();
            if n == 0 {
                self.ended = true;
                return false;
            }
            data.truncate(n);
        }
        self.buffer.push_str(&String::from_utf8_lossy(&data));
        true
    }

    /// The next JSON-RPC message of the stream; `None` once it ended.
    pub fn next(&mut self) -> Option<Value> {
        self.next_event().map(|(_, v)| v)
    }

    /// The next event with data: its `id` and its JSON-RPC message; `None` once it ended.
    pub fn next_event(&mut self) -> Option<(Option<String>, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| -> Vec<String> {
                    event
                        .lines()
                        .filter_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim_start().to_string())
                        .collect()
                };
                let data = field("data:").join("\n");
                if data.trim().is_empty() {
                    continue;
                }
                let id = field("id:").pop();
                return Some((id, serde_json::from_str(&data).unwrap()));
            }
            if !self.fill() {
                return None;
            }
        }
    }
}
