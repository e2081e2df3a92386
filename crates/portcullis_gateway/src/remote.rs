//! The stdio front to a remote server: `portcullis gateway --upstream URL` without `--listen`.
//! The client starts the gateway as a stdio server; every JSON-RPC line it writes is judged
//! ([`crate::judge`]) and sent to the remote streamable-HTTP server as a POST, and everything
//! the server sends back (JSON answers, SSE events: progress, log messages, its own requests
//! such as `sampling/createMessage` or `elicitation/create`) is judged and written to standard
//! output as lines. The client's answers to the server's requests go back as POSTs.
//!
//! Both eras of the protocol: before 2026-07-28, `initialize` opens a session whose
//! `Mcp-Session-Id` (and negotiated `MCP-Protocol-Version`) every later exchange carries, the
//! session's GET stream brings what the server sends on its own, and stdin EOF or a signal
//! ends the session with a DELETE. From 2026-07-28 on, a request that names its version in
//! `_meta` is sent with `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers and no
//! session; `subscriptions/listen` is an ordinary request whose answer is a long SSE stream.
//!
//! Order: messages are judged one at a time in the order the client wrote them, and their
//! POSTs start in that order; they run concurrently (each on its own connection), so the
//! server may see two that overlap in either order, as with any streamable-HTTP client.
//! `initialize` is the exception: the next message waits until its answer's head (and the
//! session id) is in. Failures (no connection, an HTTP error, a stream cut short, an answer
//! over the size cap, the request timeout) answer the requests concerned with JSON-RPC errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde_json::Value;
use tokio::io::BufReader;
use tokio::sync::mpsc;

use crate::judge::{
    Engine, EngineOptions, Forward, ServerOutcome, Session, id_key, lock, to_line, warn,
};
use crate::relay::{LineRead, RelayError, read_line_limited, stop_signal, write_lines};
use crate::upstream::{Remote, SseParser, UpResponse, pump, read_all};

/// What the stdio front to a remote server needs.
pub struct RemoteOptions {
    pub engine: EngineOptions,
    /// The server's streamable-HTTP endpoint.
    pub url: String,
    /// Headers for every exchange (credentials included; never logged).
    pub headers: Vec<(String, String)>,
}

/// Runs the gateway between a stdio client and a remote server until the client closes its
/// input or the gateway gets SIGTERM/SIGINT. Returns 0 after the client closed, 128+signal
/// when stopped by a signal.
pub fn run_remote_stdio(options: RemoteOptions) -> Result<i32, RelayError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RelayError::Runtime)?;
    let code = runtime.block_on(relay(options));
    // Standard input and upstream streams block threads that cannot be interrupted.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(code)
}

/// How long the client's last requests may take to finish once it closed its input.
const GRACE: Duration = Duration::from_secs(5);
/// GET streams that fail in a row before the gateway stops reopening it.
const GET_RETRIES: u32 = 3;

const META_VERSION: &str = "/params/_meta/io.modelcontextprotocol~1protocolVersion";

/// What the gateway knows of the connection to the server.
#[derive(Default)]
struct Conn {
    session_id: Option<String>,
    /// The protocol version to name in `MCP-Protocol-Version`.
    version: Option<String>,
    /// The 2026-07-28 era: the client names its version in each request's `_meta`.
    modern: bool,
    /// The [`id_key`] of the `initialize` request in flight.
    init: Option<String>,
    get_started: bool,
}

/// A message for the server, and the requests in it the server will answer.
struct Outgoing {
    body: Vec<u8>,
    value: Option<Value>,
    forwarded: Vec<String>,
}

struct Link {
    session: Session,
    remote: Arc<Remote>,
    to_client: mpsc::Sender<Vec<u8>>,
    outbox: mpsc::Sender<Outgoing>,
    conn: Mutex<Conn>,
}

impl Link {
    fn engine(&self) -> &Arc<Engine> {
        self.session.engine()
    }

    async fn client(&self, value: &Value) {
        let _ = self.to_client.send(to_line(value)).await;
    }

    async fn clients(&self, values: &[Value]) {
        for v in values {
            self.client(v).await;
        }
    }

    /// Queues a message for the server (the dispatcher posts it).
    async fn server(&self, value: Value, forwarded: Vec<String>) {
        let _ = self
            .outbox
            .send(Outgoing {
                body: to_line(&value),
                value: Some(value),
                forwarded,
            })
            .await;
    }
}

async fn relay(options: RemoteOptions) -> i32 {
    let max_in_flight = options
        .engine
        .max_in_flight
        .unwrap_or(options.engine.policy.max_in_flight)
        .max(1);
    let engine = Engine::new(options.engine);
    // Slots: every request in flight, the GET stream, and a few internal messages.
    let remote = Arc::new(Remote::new(
        options.url,
        options.headers,
        engine.timeout(),
        max_in_flight + 8,
    ));
    let (to_client, client_rx) = mpsc::channel::<Vec<u8>>(1024);
    let (outbox, outbox_rx) = mpsc::channel::<Outgoing>(1024);
    let link = Arc::new(Link {
        session: engine.session(),
        remote,
        to_client,
        outbox,
        conn: Mutex::new(Conn::default()),
    });
    let writer = tokio::spawn(write_lines(client_rx, crate::stdio::stdout()));
    let dispatcher = tokio::spawn(dispatch(link.clone(), outbox_rx));
    let sweeper = tokio::spawn(sweep_timeouts(link.clone()));
    let get_stream = Arc::new(Mutex::new(None::<tokio::task::JoinHandle<()>>));
    let mut client_task = tokio::spawn(client_loop(link.clone(), get_stream.clone()));

    let code = tokio::select! {
        _ = &mut client_task => {
            // The client closed its input: let what it asked finish, for a while.
            let deadline = tokio::time::Instant::now() + GRACE;
            while link.session.in_flight() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            link.clients(&link.session.fail_all("the client closed the connection")).await;
            0
        }
        signal = stop_signal() => {
            link.clients(&link.session.fail_all("the gateway was stopped")).await;
            128 + signal
        }
    };
    client_task.abort();
    sweeper.abort();
    dispatcher.abort();
    if let Some(task) = lock(&get_stream).take() {
        task.abort();
    }
    end_session(&link).await;
    drop(link);
    // Every sender is gone once the tasks holding the link are: the writer drains and ends.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    code
}

/// Legacy era: tells the server the session is over (DELETE), briefly.
async fn end_session(link: &Link) {
    let sid = lock(&link.conn).session_id.clone();
    let Some(sid) = sid else { return };
    let mut headers = vec![("Mcp-Session-Id".to_string(), sid)];
    if let Some(v) = &lock(&link.conn).version {
        headers.push(("MCP-Protocol-Version".into(), v.clone()));
    }
    let delete = link.remote.exchange(Method::DELETE, headers, None);
    match tokio::time::timeout(Duration::from_secs(3), delete).await {
        Ok(Ok(_)) => {}
        Ok(Err(why)) => warn(&format!("cannot end the upstream session: {why}")),
        Err(_) => warn("the upstream did not confirm the end of the session in time"),
    }
}

// ---- client to server ----

async fn client_loop(link: Arc<Link>, get_stream: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>) {
    let mut reader = BufReader::with_capacity(1 << 16, crate::stdio::stdin());
    let mut buf = Vec::new();
    let engine = link.engine().clone();
    loop {
        match read_line_limited(&mut reader, &mut buf, engine.max_message()).await {
            Ok(LineRead::Eof) | Err(_) => return,
            Ok(LineRead::TooLong(n)) => link.client(&engine.too_long_from_client(n)).await,
            Ok(LineRead::Line) => {
                let out = link.session.client_message(&buf).await;
                if let Some(reply) = &out.to_client {
                    link.client(reply).await;
                }
                for ask in out.asks {
                    link.client(&ask.request).await;
                    let link = link.clone();
                    tokio::spawn(async move {
                        let outcome = link.session.await_ask(ask).await;
                        link.clients(&outcome.to_client).await;
                        if let Some(call) = outcome.to_server {
                            link.server(call, outcome.forwarded.into_iter().collect())
                                .await;
                        }
                    });
                }
                let (body, value) = match out.to_server {
                    Some(Forward::Unchanged) => {
                        (buf.clone(), serde_json::from_slice::<Value>(&buf).ok())
                    }
                    Some(Forward::Changed(v)) => (to_line(&v), Some(v)),
                    None => continue,
                };
                let method = value
                    .as_ref()
                    .and_then(|v| v.get("method"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if method == "initialize"
                    && let Some(id) = value.as_ref().and_then(|v| v.get("id"))
                {
                    {
                        // A new session: the old one's id and version go with it.
                        let mut conn = lock(&link.conn);
                        conn.init = Some(id_key(id));
                        conn.session_id = None;
                        conn.version = None;
                    }
                    // The next message needs the session id this one's answer brings.
                    post(&link, body, value, out.forwarded).await;
                    continue;
                }
                let _ = link
                    .outbox
                    .send(Outgoing {
                        body,
                        value,
                        forwarded: out.forwarded,
                    })
                    .await;
                if method == "notifications/initialized" {
                    let start = {
                        let mut conn = lock(&link.conn);
                        let start = conn.session_id.is_some() && !conn.get_started;
                        conn.get_started |= start;
                        start
                    };
                    if start {
                        *lock(&get_stream) = Some(tokio::spawn(listen_get(link.clone())));
                    }
                }
            }
        }
    }
}

/// Posts queued messages in the order they were queued, each in a task of its own.
async fn dispatch(link: Arc<Link>, mut outbox: mpsc::Receiver<Outgoing>) {
    while let Some(msg) = outbox.recv().await {
        let link = link.clone();
        tokio::spawn(async move {
            let head = start_post(&link, msg.body, msg.value.as_ref()).await;
            finish_post(&link, head, msg.forwarded).await;
        });
    }
}

/// Posts one message and relays what comes back.
async fn post(link: &Arc<Link>, body: Vec<u8>, value: Option<Value>, forwarded: Vec<String>) {
    let head = start_post(link, body, value.as_ref()).await;
    let link = link.clone();
    tokio::spawn(async move { finish_post(&link, head, forwarded).await });
}

/// The headers a message goes with: the era's, the session's.
fn headers_for(conn: &mut Conn, message: Option<&Value>) -> Vec<(String, String)> {
    let mut h = vec![
        (
            "Accept".to_string(),
            "application/json, text/event-stream".to_string(),
        ),
        ("Content-Type".to_string(), "application/json".to_string()),
    ];
    let named = message
        .and_then(|m| m.pointer(META_VERSION))
        .and_then(Value::as_str)
        .filter(|v| header_safe(v));
    if let Some(v) = named {
        conn.modern = true;
        conn.version = Some(v.to_string());
    }
    if let Some(v) = named.map(str::to_string).or_else(|| conn.version.clone()) {
        h.push(("MCP-Protocol-Version".into(), v));
    }
    if conn.modern
        && let Some(m) = message
    {
        let method = m.get("method").and_then(Value::as_str);
        if let Some(method) = method.filter(|s| header_safe(s)) {
            h.push(("Mcp-Method".into(), method.to_string()));
        }
        let name = match method {
            Some("tools/call" | "prompts/get") => m.pointer("/params/name"),
            Some("resources/read") => m.pointer("/params/uri"),
            _ => None,
        };
        if let Some(name) = name.and_then(Value::as_str).filter(|s| header_safe(s)) {
            h.push(("Mcp-Name".into(), name.to_string()));
        }
    }
    if let Some(sid) = &conn.session_id {
        h.push(("Mcp-Session-Id".into(), sid.clone()));
    }
    h
}

/// Visible ASCII and spaces only: anything else cannot go in a header as it is (the server
/// then refuses the request, which the client sees as an error).
fn header_safe(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}

async fn start_post(
    link: &Arc<Link>,
    body: Vec<u8>,
    value: Option<&Value>,
) -> Result<UpResponse, String> {
    let headers = headers_for(&mut lock(&link.conn), value);
    let up = link
        .remote
        .exchange(Method::POST, headers, Some(body))
        .await?;
    if let Some(sid) = &up.session {
        let mut conn = lock(&link.conn);
        if conn.session_id.is_none() && conn.init.is_some() {
            conn.session_id = Some(sid.clone());
        }
    }
    Ok(up)
}

async fn finish_post(link: &Arc<Link>, head: Result<UpResponse, String>, forwarded: Vec<String>) {
    let up = match head {
        Ok(up) => up,
        Err(why) => {
            warn(&why);
            link.clients(&link.session.fail(&forwarded, &why)).await;
            return;
        }
    };
    let max = link.engine().max_message();
    if !(200..300).contains(&up.status) {
        // A JSON-RPC error in the body (a header mismatch, an unsupported version) says more
        // than the status: pass it on when it answers one of these requests.
        if let Ok(bytes) = read_all(up.reader, max.min(64 * 1024)).await
            && answers_one_of(&bytes, &forwarded)
        {
            let judged = link.session.server_message(&bytes);
            emit(link, judged, &bytes).await;
        }
        let why = match up.status {
            404 if lock(&link.conn).session_id.is_some() => {
                "the upstream answered HTTP 404: its session has ended; start the server again"
                    .to_string()
            }
            401 | 403 => format!(
                "the upstream refused the gateway's credentials (HTTP {}); check --upstream-header",
                up.status
            ),
            s => format!("the upstream refused the request (HTTP {s})"),
        };
        link.clients(&link.session.fail(&forwarded, &why)).await;
        return;
    }
    if up.content_type.starts_with("text/event-stream") {
        relay_sse(link, pump(up.reader), &forwarded).await;
        return;
    }
    // Read whatever else comes back, even for messages of no request of the client's: the
    // answers to the gateway's own requests (its listings for the pins) are judged too.
    if up.status == 202 {
        link.clients(&link.session.fail(
            &forwarded,
            "the upstream accepted the request but sent no response",
        ))
        .await;
        return;
    }
    match read_all(up.reader, max).await {
        Ok(bytes) if bytes.trim_ascii().is_empty() => {}
        Ok(bytes) => {
            let judged = link.session.server_message(&bytes);
            emit(link, judged, &bytes).await;
        }
        Err(why) => {
            link.clients(&link.session.fail(&forwarded, &why)).await;
            return;
        }
    }
    link.clients(&link.session.fail(
        &forwarded,
        "the upstream's answer did not include the response",
    ))
    .await;
}

/// Whether `bytes` is a JSON-RPC response (or a batch holding one) to one of `keys`.
fn answers_one_of(bytes: &[u8], keys: &[String]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return false;
    };
    let answers = |m: &Value| {
        m.get("method").is_none()
            && m.get("id")
                .is_some_and(|id| keys.iter().any(|k| *k == id_key(id)))
    };
    match &v {
        Value::Array(items) => items.iter().any(answers),
        m => answers(m),
    }
}

/// Writes what the judge lets through to the client and queues what it sends the server.
async fn emit(link: &Arc<Link>, judged: ServerOutcome, raw: &[u8]) {
    note_answer(link, raw);
    for msg in judged.to_server {
        link.server(msg, Vec::new()).await;
    }
    let line = match judged.to_client {
        // A line must stay one line: a pretty-printed body is written again compactly.
        Some(Forward::Unchanged) if !raw.contains(&b'\n') => raw.trim_ascii().to_vec(),
        Some(Forward::Unchanged) => match serde_json::from_slice::<Value>(raw) {
            Ok(v) => to_line(&v),
            Err(_) => return,
        },
        Some(Forward::Changed(v)) => to_line(&v),
        None => return,
    };
    let _ = link.to_client.send(line).await;
}

/// Learns the negotiated version from the answer to `initialize`, before the client sees it
/// (its next message must carry it).
fn note_answer(link: &Link, raw: &[u8]) {
    let mut conn = lock(&link.conn);
    let Some(init) = conn.init.clone() else {
        return;
    };
    let Ok(v) = serde_json::from_slice::<Value>(raw) else {
        return;
    };
    if v.get("id").is_some_and(|id| id_key(id) == init) {
        conn.init = None;
        if let Some(version) = v
            .pointer("/result/protocolVersion")
            .and_then(Value::as_str)
            .filter(|s| header_safe(s))
        {
            conn.version = Some(version.to_string());
        }
    }
}

/// Relays an SSE stream, judging each event; at its end, the `forwarded` requests it did not
/// answer get errors. A stream that answers requests lasts at most the request timeout (the
/// judge gives up on them then); the GET stream (nothing forwarded) as long as the server
/// keeps it. Returns the last event id seen.
async fn relay_sse(
    link: &Arc<Link>,
    mut chunks: mpsc::Receiver<Bytes>,
    forwarded: &[String],
) -> Option<String> {
    let engine = link.engine().clone();
    let mut parser = SseParser::new(engine.max_message());
    let deadline = tokio::time::Instant::now() + engine.timeout();
    let mut last_id = None;
    loop {
        let next = if forwarded.is_empty() {
            chunks.recv().await
        } else {
            match tokio::time::timeout_at(deadline, chunks.recv()).await {
                Ok(c) => c,
                Err(_) => break,
            }
        };
        let Some(chunk) = next else { break };
        for event in parser.feed(&chunk) {
            if event.id.is_some() {
                last_id = event.id.clone();
            }
            if event.data.trim().is_empty() {
                continue;
            }
            let judged = link.session.server_message(event.data.as_bytes());
            emit(link, judged, event.data.as_bytes()).await;
        }
        if parser.overflowed {
            engine.too_long_from_server(parser.max);
            parser.overflowed = false;
        }
    }
    let why = if tokio::time::Instant::now() >= deadline {
        format!(
            "the server did not answer within {} s",
            engine.timeout().as_secs_f64()
        )
    } else {
        "the upstream's stream ended before the response".to_string()
    };
    link.clients(&link.session.fail(forwarded, &why)).await;
    last_id
}

/// Legacy era: the session's GET stream, for what the server sends on its own. Reopened
/// (resuming after the last event) when it ends, until it fails [`GET_RETRIES`] times in a
/// row; a server without one (405) is left alone.
async fn listen_get(link: Arc<Link>) {
    let mut last_id: Option<String> = None;
    let mut failures = 0;
    while failures < GET_RETRIES {
        let mut headers = headers_for(&mut lock(&link.conn), None);
        headers.retain(|(k, _)| k != "Content-Type" && k != "Accept");
        headers.push(("Accept".into(), "text/event-stream".into()));
        if let Some(id) = &last_id {
            headers.push(("Last-Event-ID".into(), id.clone()));
        }
        match link.remote.exchange(Method::GET, headers, None).await {
            Ok(up) if up.status == 200 && up.content_type.starts_with("text/event-stream") => {
                failures = 0;
                if let Some(id) = relay_sse(&link, pump(up.reader), &[]).await {
                    last_id = Some(id);
                }
            }
            // No GET stream here, or the session is gone: nothing to reopen.
            Ok(up) if matches!(up.status, 404 | 405) => return,
            Ok(_) | Err(_) => failures += 1,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

// ---- failures ----

async fn sweep_timeouts(link: Arc<Link>) {
    let timeout = link.engine().timeout();
    let tick = (timeout / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        let (to_client, to_server) = link.session.expire();
        for cancel in to_server {
            link.server(cancel, Vec::new()).await;
        }
        link.clients(&to_client).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(h: &[(String, String)]) -> Vec<String> {
        h.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    #[test]
    fn legacy_headers_carry_the_session_and_version() {
        let mut conn = Conn::default();
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}});
        let h = names(&headers_for(&mut conn, Some(&init)));
        assert!(!h.iter().any(|x| x.starts_with("MCP-Protocol-Version")));
        assert!(!h.iter().any(|x| x.starts_with("Mcp-Session-Id")));
        conn.session_id = Some("abc".into());
        conn.version = Some("2025-06-18".into());
        let call =
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo"}});
        let h = names(&headers_for(&mut conn, Some(&call)));
        assert!(h.contains(&"Mcp-Session-Id=abc".to_string()));
        assert!(h.contains(&"MCP-Protocol-Version=2025-06-18".to_string()));
        assert!(!h.iter().any(|x| x.starts_with("Mcp-Method")));
    }

    #[test]
    fn modern_headers_mirror_the_body() {
        let mut conn = Conn::default();
        let call = json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {
            "uri": "file:///a", "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}});
        let h = names(&headers_for(&mut conn, Some(&call)));
        assert!(h.contains(&"MCP-Protocol-Version=2026-07-28".to_string()));
        assert!(h.contains(&"Mcp-Method=resources/read".to_string()));
        assert!(h.contains(&"Mcp-Name=file:///a".to_string()));
        // A notification without `_meta` still says its method in that era.
        let n = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}});
        let h = names(&headers_for(&mut conn, Some(&n)));
        assert!(h.contains(&"Mcp-Method=notifications/cancelled".to_string()));
        assert!(h.contains(&"MCP-Protocol-Version=2026-07-28".to_string()));
        // What cannot be a header value is left out rather than sent broken.
        let bad = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "a\r\nX-Evil: 1"}});
        let h = names(&headers_for(&mut conn, Some(&bad)));
        assert!(!h.iter().any(|x| x.starts_with("Mcp-Name")), "{h:?}");
    }

    #[test]
    fn error_bodies_are_matched_to_requests() {
        let keys = vec![id_key(&json!(7))];
        assert!(answers_one_of(
            br#"{"jsonrpc":"2.0","id":7,"error":{"code":-32020,"message":"m"}}"#,
            &keys
        ));
        assert!(!answers_one_of(
            br#"{"jsonrpc":"2.0","id":"7","error":{}}"#,
            &keys
        ));
        assert!(!answers_one_of(b"not json", &keys));
    }
}
