//! The HTTP front: `portcullis gateway --listen ADDR` serves MCP streamable HTTP (POST with a
//! JSON or SSE answer, GET for the server's own stream, DELETE to end a session) in front of
//! either a remote streamable-HTTP server (`--upstream URL`) or a stdio server it starts, one
//! process per MCP session. Every message goes through the same judge as on stdio.
//!
//! Before any MCP is read, each request must pass, in order: the `Host` check and the `Origin`
//! check (DNS rebinding: a web page that made its own name resolve to 127.0.0.1 still sends its
//! own `Host` and `Origin`), then `Authorization: Bearer` (compared in constant time), then the
//! body size cap. Refusals are 403, 401 and 413 with a body that says why.
//!
//! Sessions: with an upstream URL, its `Mcp-Session-Id` is passed through unchanged and the
//! gateway keeps one judge session per id; with a local server, the gateway is the session
//! owner: `initialize` starts a server and a new random id, DELETE stops it. Clients of the
//! 2026-07-28 (stateless) era, with a local server, have no session: their POSTs go to one
//! shared server process, their transport headers are checked against the body (-32020), and
//! `subscriptions/listen` gets a long-lived SSE stream; see [`stateless`].
//!
//! Trade-offs: the upstream client is [`crate::upstream`] (blocking `ureq` exchanges, bounded
//! by a number of slots: see there). With a local server, answers to a POST come back as one JSON body, unless a
//! request of it carries a `_meta.progressToken` and the client accepts `text/event-stream`:
//! then the POST is answered with an SSE stream carrying the server's `notifications/progress`
//! for that token, then the response, as the streamable HTTP transport says messages related
//! to a request should go (2025-03-26 to 2025-11-25). Everything else the server sends on its
//! own (log messages, other notifications, its `sampling`/`elicitation`/`roots` requests) goes to
//! the session's GET stream through a [`Backlog`]: numbered events (the SSE `id`), kept until a
//! GET stream reads them and a while after, so a client that opens its GET stream late misses
//! nothing and one that reconnects with `Last-Event-ID` gets what it lost. The backlog holds at
//! most [`EVENT_BACKLOG`] events; when all of them are still unread, a new notification is
//! dropped (warned about and audited once per run of drops), and a server request that no GET
//! stream read within half the request timeout, or that finds the backlog full, is answered
//! with a JSON-RPC error (and audited), so the server never waits for an answer that cannot
//! come and can still answer the call it was working on. The reason for the GET stream: a stdio
//! server's messages carry no `relatedRequestId`, so only a progress token ties a message to a
//! request for certain; guessing from timing (say, "the one request in flight") would send a
//! message to the wrong stream as soon as two requests overlap, and a POST stream closes with
//! its response, so a request from the server put there could lose the answer's context.
//! Progress that finds its POST stream gone or full falls back to the GET stream. A new GET
//! stream replaces an open one (a client reconnecting may not have seen the old one fail).
//!
//! A POST holding a call the policy says to ask about (`action = "ask"`) is answered with an
//! SSE stream: the gateway's `elicitation/create` first, then, once the client answered it
//! with a POST of its own, the call's response (or its refusal).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::BufReader;
use tokio::sync::{mpsc, oneshot};

use crate::child::ServerProcess;
use crate::judge::{
    Ask, ClientOutcome, Engine, EngineOptions, Forward, GATEWAY_ERROR, Session, error_response,
    id_key, lock, to_line, warn,
};
use crate::relay::{LineRead, RelayError, ToServer, read_line_limited, stop_signal, write_server};
use crate::upstream::{Remote, SseParser, UpResponse, pump, read_all};

mod stateless;

/// Messages a local server sends on its own, held for the session's GET stream (read or not:
/// the read ones stay for a `Last-Event-ID` resumption until newer ones push them out).
pub const EVENT_BACKLOG: usize = 256;

/// What the HTTP gateway fronts.
pub enum Upstream {
    /// A streamable-HTTP MCP endpoint, with the headers to send it (credentials included).
    Url {
        url: String,
        headers: Vec<(String, String)>,
    },
    /// A stdio server to start for each session.
    Command(Vec<OsString>),
}

pub struct HttpOptions {
    pub listen: SocketAddr,
    pub upstream: Upstream,
    /// The token clients must send as `Authorization: Bearer`.
    pub token: String,
    /// `Host` values accepted besides the listen address (and `localhost` on loopback).
    pub allowed_hosts: Vec<String>,
    /// `Origin` values accepted besides `http://` + an accepted host.
    pub allowed_origins: Vec<String>,
    /// Sessions held at once; an `initialize` beyond it is refused with 503.
    pub max_sessions: usize,
}

/// Runs the HTTP gateway until SIGTERM/SIGINT. `ready` gets the bound address (for port 0).
/// Returns 128+signal.
pub fn run_http(
    engine: EngineOptions,
    options: HttpOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<i32, RelayError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RelayError::Runtime)?;
    let code = runtime.block_on(serve(engine, options, ready));
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

enum Mode {
    Remote(Arc<Remote>),
    Local(Vec<OsString>),
}

struct Front {
    engine: Arc<Engine>,
    mode: Mode,
    token: String,
    hosts: Vec<String>,
    origins: Vec<String>,
    max_sessions: usize,
    sessions: Mutex<HashMap<String, Arc<HttpSession>>>,
    /// Remote mode, servers without sessions: one judge session for every request.
    stateless: Arc<HttpSession>,
    /// Local mode, clients of the 2026-07-28 era: their one shared server (see [`stateless`]).
    modern: stateless::Shared,
}

struct HttpSession {
    judge: Session,
    local: Option<LocalServer>,
    /// When a request last named this session (the idlest one makes room for a new one).
    used: Mutex<std::time::Instant>,
}

impl HttpSession {
    fn new(judge: Session, local: Option<LocalServer>) -> Arc<HttpSession> {
        Arc::new(HttpSession {
            judge,
            local,
            used: Mutex::new(std::time::Instant::now()),
        })
    }

    fn touch(&self) {
        *lock(&self.used) = std::time::Instant::now();
    }
}

/// Makes room for one more session: when all places are taken, the least recently used
/// session with nothing in flight is ended (its client gets 404 and may initialize again).
/// False when every session is busy.
fn make_room(front: &Front) -> bool {
    let evicted = {
        let mut sessions = lock(&front.sessions);
        if sessions.len() < front.max_sessions {
            return true;
        }
        let idlest = sessions
            .iter()
            .filter(|(_, s)| s.judge.in_flight() == 0)
            .min_by_key(|(_, s)| *lock(&s.used))
            .map(|(k, _)| k.clone());
        match idlest {
            Some(k) => sessions.remove(&k),
            None => return false,
        }
    };
    if let Some(session) = evicted {
        tokio::spawn(async move {
            end_session(&session, "the session was ended to make room for a new one").await;
        });
    }
    true
}

/// A POST stream waiting for progress, and the client's own token when the gateway renamed it.
type ProgressRoute = (mpsc::WeakSender<Bytes>, Option<Value>);

/// A stdio server started for one session.
struct LocalServer {
    to_server: mpsc::Sender<ToServer>,
    /// Requests forwarded and not yet answered, by id key.
    waiters: Mutex<HashMap<String, oneshot::Sender<Value>>>,
    /// What goes to the session's GET stream.
    backlog: Arc<Backlog>,
    /// The POST streams waiting for progress, by the [`id_key`] of the progress token, with the
    /// client's own token when the gateway renamed it (shared server). Weak, so a stream ends
    /// with its last answer; dead entries are swept at each registration.
    progress: Mutex<HashMap<String, ProgressRoute>>,
    /// The open `subscriptions/listen` streams (2026-07-28 era), by the [`id_key`] of the
    /// listen request's id as the server knows it, with the client's own id.
    subscriptions: Mutex<HashMap<String, (Value, mpsc::Sender<Bytes>)>>,
    /// Set once the server's output ended or the session was ended: a shared server is then
    /// started again on next use.
    ended: std::sync::atomic::AtomicBool,
    process: tokio::sync::Mutex<Option<ServerProcess>>,
}

async fn serve(
    engine: EngineOptions,
    options: HttpOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<i32, RelayError> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| RelayError::Listen {
            address: options.listen,
            source: e,
        })?;
    let local = listener.local_addr().map_err(|e| RelayError::Listen {
        address: options.listen,
        source: e,
    })?;
    let engine = Engine::new(engine);
    // What a session's server orphans comes back to the gateway, to be stopped with it.
    crate::family::adopt_orphans();
    let reaper = tokio::spawn(crate::family::reap_forever());
    let mut hosts = vec![host_of(local)];
    if local.ip().is_loopback() {
        hosts.push(format!("localhost:{}", local.port()));
        hosts.push(format!("127.0.0.1:{}", local.port()));
        hosts.push(format!("[::1]:{}", local.port()));
    }
    hosts.extend(options.allowed_hosts.iter().map(|h| h.to_ascii_lowercase()));
    let mut origins: Vec<String> = hosts.iter().map(|h| format!("http://{h}")).collect();
    origins.extend(
        options
            .allowed_origins
            .iter()
            .map(|o| o.trim_end_matches('/').to_ascii_lowercase()),
    );
    let mode = match options.upstream {
        // Slots: every request in flight, a GET stream per session, a few internal exchanges.
        Upstream::Url { url, headers } => Mode::Remote(Arc::new(Remote::new(
            url,
            headers,
            engine.timeout(),
            engine.max_in_flight() + options.max_sessions.max(1) + 8,
        ))),
        Upstream::Command(command) => Mode::Local(command),
    };
    let front = Arc::new(Front {
        stateless: HttpSession::new(engine.session(), None),
        engine,
        mode,
        token: options.token,
        hosts,
        origins,
        max_sessions: options.max_sessions.max(1),
        sessions: Mutex::new(HashMap::new()),
        modern: stateless::Shared::default(),
    });
    ready(local);
    let sweeper = tokio::spawn(sweep_timeouts(front.clone()));
    let signal = tokio::select! {
        signal = stop_signal() => signal,
        () = accept_loop(front.clone(), listener) => 1,
    };
    sweeper.abort();
    // Stop every local server (and its process group) before leaving.
    let all: Vec<Arc<HttpSession>> = lock(&front.sessions).drain().map(|(_, s)| s).collect();
    for session in all {
        end_session(&session, "the gateway was stopped").await;
    }
    if let Some(session) = front.modern.take() {
        end_session(&session, "the gateway was stopped").await;
    }
    // What left a session's tree unseen goes with the gateway.
    crate::family::stop_all(Duration::from_secs(1)).await;
    reaper.abort();
    Ok(128 + signal)
}

async fn accept_loop(front: Arc<Front>, listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors or similar: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // Answers and SSE events are small writes: do not let them wait on delayed ACKs.
        let _ = stream.set_nodelay(true);
        let front = front.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let front = front.clone();
                async move { Ok::<_, Infallible>(handle(front, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn host_of(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

// ---- bodies ----

/// A response body: whole, or a stream of chunks (SSE) that ends when its sender goes.
enum Body {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<Bytes>),
    /// A local session's GET stream, reading the backlog from `cursor` on while it is the
    /// session's newest.
    Events {
        backlog: Arc<Backlog>,
        reader: u64,
        cursor: u64,
    },
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let poll = match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take()),
            Body::Stream(rx) => rx.poll_recv(cx),
            Body::Events {
                backlog,
                reader,
                cursor,
            } => backlog.poll(*reader, cursor, cx),
        };
        poll.map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Body::Full(Some(Bytes::from(format!("{text}\n")))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut r = Response::new(Body::Full(Some(Bytes::from(to_line(value)))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn sse_response(rx: mpsc::Receiver<Bytes>) -> Response<Body> {
    let mut r = Response::new(Body::Stream(rx));
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    r
}

fn sse_event(id: Option<&str>, data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + 32);
    if let Some(id) = id {
        out.extend_from_slice(b"id: ");
        out.extend_from_slice(id.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(b"event: message\ndata: ");
    // JSON text from serde has no raw newline; one from the server might: one data line each.
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\ndata: ");
        }
        out.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
    }
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

// ---- checks before MCP ----

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The Host, Origin and bearer checks; `Err` is the refusal to send.
// The error is the response to send, built once per request: boxing gains nothing.
#[allow(clippy::result_large_err)]
fn admit(front: &Front, headers: &HeaderMap) -> Result<(), Response<Body>> {
    let host = header(headers, "host").map(str::to_ascii_lowercase);
    match host {
        None => {
            return Err(plain(
                StatusCode::FORBIDDEN,
                "portcullis refused the request: no Host header (the gateway checks it against its listen address to stop DNS rebinding)",
            ));
        }
        Some(h) if !front.hosts.contains(&h) => {
            return Err(plain(
                StatusCode::FORBIDDEN,
                &format!(
                    "portcullis refused the request: Host `{}` is not this gateway's address ({}); \
                     allow it with --allow-host if a proxy in front of the gateway uses it",
                    h.chars().take(100).collect::<String>(),
                    front.hosts[0]
                ),
            ));
        }
        Some(_) => {}
    }
    if let Some(origin) = header(headers, "origin") {
        let o = origin.trim_end_matches('/').to_ascii_lowercase();
        if !front.origins.contains(&o) {
            return Err(plain(
                StatusCode::FORBIDDEN,
                &format!(
                    "portcullis refused the request: Origin `{}` is not allowed (a web page may not talk to this gateway); \
                     allow it with --allow-origin",
                    origin.chars().take(100).collect::<String>()
                ),
            ));
        }
    }
    let given = header(headers, "authorization").and_then(|v| {
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let ok = given.is_some_and(|t| constant_time_eq(t.as_bytes(), front.token.as_bytes()));
    if !ok {
        let why = if given.is_none() {
            "no `Authorization: Bearer` token"
        } else {
            "the bearer token is wrong"
        };
        let mut r = plain(
            StatusCode::UNAUTHORIZED,
            &format!(
                "portcullis refused the request: {why}; send the token the gateway printed at startup (or the one in --bearer-token-env)"
            ),
        );
        r.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"portcullis gateway\""),
        );
        return Err(r);
    }
    Ok(())
}

async fn handle(front: Arc<Front>, req: Request<Incoming>) -> Response<Body> {
    if let Err(refusal) = admit(&front, req.headers()) {
        return refusal;
    }
    if req.uri().path() != "/mcp" {
        return plain(StatusCode::NOT_FOUND, "not found: the MCP endpoint is /mcp");
    }
    match *req.method() {
        Method::POST => post(front, req).await,
        Method::GET => get(front, req).await,
        Method::DELETE => delete(front, req).await,
        _ => {
            let mut r = plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "the MCP endpoint takes POST, GET and DELETE",
            );
            r.headers_mut().insert(
                http::header::ALLOW,
                HeaderValue::from_static("GET, POST, DELETE"),
            );
            r
        }
    }
}

/// Reads the request body, at most `max` bytes.
async fn read_body(body: Incoming, max: usize) -> Result<Vec<u8>, Response<Body>> {
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            plain(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the request body: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > max {
                return Err(json_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &error_response(
                        Value::Null,
                        -32600,
                        format!(
                            "portcullis refused a message over the gateway's limit of {max} bytes"
                        ),
                        None,
                    ),
                ));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

fn session_header(headers: &HeaderMap) -> Option<String> {
    header(headers, "mcp-session-id").map(str::to_string)
}

fn is_initialize(body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let is = |v: &Value| v.get("method").and_then(Value::as_str) == Some("initialize");
    match &value {
        Value::Array(items) => items.iter().any(is),
        v => is(v),
    }
}

pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: fall back to the hasher's per-process random keys.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .elapsed()
                .map_or(0, |d| d.as_nanos()),
        );
        bytes[..8].copy_from_slice(&h.finish().to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn too_many_sessions(max: usize) -> Response<Body> {
    plain(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!(
            "portcullis refused a new session: {max} sessions are open, the gateway's limit; end one with DELETE"
        ),
    )
}

// ---- POST ----

async fn post(front: Arc<Front>, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = match read_body(body, front.engine.max_message()).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let sid = session_header(&parts.headers);
    // Checked before routing and judging, in front of either kind of server: a request goes
    // where its body says and is judged and logged as what its body says, and headers that say
    // otherwise (which the upstream or anything between may route by) are refused.
    let era = match stateless::check_headers(&parts.headers, &body) {
        Ok(era) => era,
        Err(refusal) => return json_response(StatusCode::BAD_REQUEST, &refusal),
    };
    match &front.mode {
        Mode::Local(command) => {
            let sse = header(&parts.headers, "accept")
                .is_some_and(|a| a.to_ascii_lowercase().contains("text/event-stream"));
            if era == stateless::Era::Modern {
                return stateless::post(&front, command, body, sse).await;
            }
            post_local(&front, command, sid, body, sse).await
        }
        Mode::Remote(remote) => post_remote(&front, remote, sid, &parts.headers, body).await,
    }
}

/// What the client gets when the gateway answered everything itself.
fn answer_only(reply: Option<Value>) -> Response<Body> {
    match reply {
        Some(v) => json_response(StatusCode::OK, &v),
        None => {
            let mut r = Response::new(Body::Full(None));
            *r.status_mut() = StatusCode::ACCEPTED;
            r
        }
    }
}

fn with_session(mut r: Response<Body>, sid: &str) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(sid) {
        r.headers_mut().insert("mcp-session-id", v);
    }
    r
}

/// The progress tokens of the requests in a POST body (one message or a batch), as
/// [`id_key`]s. The body is parsed again only when it names a progress token at all.
fn progress_tokens(body: &[u8]) -> Vec<String> {
    const NEEDLE: &[u8] = b"progressToken";
    if !body.windows(NEEDLE.len()).any(|w| w == NEEDLE) {
        return Vec::new();
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let token = |m: &Value| {
        m.get("id")?;
        m.pointer("/params/_meta/progressToken")
            .filter(|t| t.is_string() || t.is_number())
            .map(id_key)
    };
    match &value {
        Value::Array(items) => items.iter().filter_map(token).collect(),
        m => token(m).into_iter().collect(),
    }
}

/// Routes the server's progress for `tokens` to the POST stream `tx`. A token another stream
/// still holds stays with it (tokens must be unique among requests in flight).
fn register_progress(local: &LocalServer, tokens: &[String], tx: &mpsc::Sender<Bytes>) {
    let mut routes = lock(&local.progress);
    routes.retain(|_, (weak, _)| weak.strong_count() > 0);
    for token in tokens {
        routes
            .entry(token.clone())
            .or_insert_with(|| (tx.downgrade(), None));
    }
}

async fn post_local(
    front: &Arc<Front>,
    command: &[OsString],
    sid: Option<String>,
    body: Vec<u8>,
    sse: bool,
) -> Response<Body> {
    let (session, sid, created) = match sid {
        Some(sid) => match lock(&front.sessions).get(&sid).cloned() {
            Some(s) => {
                s.touch();
                (s, sid, false)
            }
            None => {
                return plain(
                    StatusCode::NOT_FOUND,
                    "unknown or ended MCP session: send `initialize` again without Mcp-Session-Id",
                );
            }
        },
        None if is_initialize(&body) => {
            if !make_room(front) {
                return too_many_sessions(front.max_sessions);
            }
            let sid = random_id();
            match start_local(front, command, &sid) {
                Ok(s) => {
                    lock(&front.sessions).insert(sid.clone(), s.clone());
                    (s, sid, true)
                }
                Err(e) => {
                    warn(&e.to_string());
                    return json_response(
                        StatusCode::OK,
                        &error_response(
                            Value::Null,
                            GATEWAY_ERROR,
                            format!("portcullis could not start the server: {e}"),
                            None,
                        ),
                    );
                }
            }
        }
        None => {
            return plain(
                StatusCode::BAD_REQUEST,
                "no Mcp-Session-Id: send `initialize` first and then the session id it returns",
            );
        }
    };
    let Some(local) = &session.local else {
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no server for this session",
        );
    };
    let out = session.judge.client_message(&body).await;
    if created && out.forwarded.is_empty() {
        // The `initialize` that made the session was refused: no session comes of it.
        lock(&front.sessions).remove(&sid);
        end_session(&session, "the session was not opened").await;
        return answer_only(out.to_client);
    }
    let batch = body.trim_ascii_start().starts_with(b"[");
    let tokens = if sse {
        progress_tokens(&body)
    } else {
        Vec::new()
    };
    let mut waits = Vec::new();
    if let Some(forward) = out.to_server {
        {
            let mut waiters = lock(&local.waiters);
            for key in &out.forwarded {
                let (tx, rx) = oneshot::channel();
                waiters.insert(key.clone(), tx);
                waits.push((key.clone(), rx));
            }
        }
        let line = match forward {
            // A pretty-printed body would break the server's one-message-a-line framing.
            Forward::Unchanged if body.iter().any(|b| matches!(b, b'\n' | b'\r')) => {
                serde_json::from_slice::<Value>(&body)
                    .map(|v| to_line(&v))
                    .unwrap_or_default()
            }
            Forward::Unchanged => body,
            Forward::Changed(v) => to_line(&v),
        };
        if local.to_server.send(ToServer::Line(line)).await.is_err() {
            let errors = session.judge.fail(&out.forwarded, "the server has exited");
            lock(&local.waiters).clear();
            return with_session(
                json_response(StatusCode::OK, &combine(out.to_client, errors, batch)),
                &sid,
            );
        }
    }
    if !out.asks.is_empty() || (!tokens.is_empty() && !waits.is_empty()) {
        let (tx, rx) = mpsc::channel::<Bytes>(64);
        register_progress(local, &tokens, &tx);
        tokio::spawn(stream_local(
            front.clone(),
            session.clone(),
            out.to_client,
            out.asks,
            waits,
            tx,
            batch,
        ));
        return with_session(sse_response(rx), &sid);
    }
    if waits.is_empty() {
        return with_session(answer_only(out.to_client), &sid);
    }
    let mut answers = Vec::new();
    // The sweeper answers what times out; this bound only guards against a lost waiter.
    let limit = front.engine.timeout() + Duration::from_secs(5);
    for (key, rx) in waits {
        match tokio::time::timeout(limit, rx).await {
            Ok(Ok(v)) => answers.push(v),
            _ => {
                lock(&local.waiters).remove(&key);
                answers.extend(session.judge.fail(&[key], "no answer came back"));
            }
        }
    }
    with_session(
        json_response(StatusCode::OK, &combine(out.to_client, answers, batch)),
        &sid,
    )
}

/// The SSE answer to a POST (local server) holding calls the user is asked about, or requests
/// with a progress token: the gateway's questions first, then each answer as it comes (with the
/// progress [`deliver`] puts on the stream before it). A batch's answers (the gateway's replies
/// included) go out as one array once all are in, as JSON-RPC answers a batch.
async fn stream_local(
    front: Arc<Front>,
    session: Arc<HttpSession>,
    replies: Option<Value>,
    asks: Vec<Ask>,
    waits: Vec<(String, oneshot::Receiver<Value>)>,
    tx: mpsc::Sender<Bytes>,
    batch: bool,
) {
    if !batch && let Some(reply) = &replies {
        let _ = tx.send(sse_event(None, &to_line(reply))).await;
    }
    let mut held = Vec::new();
    for ask in asks {
        let _ = tx.send(sse_event(None, &to_line(&ask.request))).await;
        let (front, session, tx) = (front.clone(), session.clone(), tx.clone());
        held.push(tokio::spawn(async move {
            let answers = settle_ask(&front, &session, ask, &tx, batch).await;
            if batch {
                return answers;
            }
            for a in answers {
                let _ = tx.send(sse_event(None, &to_line(&a))).await;
            }
            Vec::new()
        }));
    }
    let mut answers = Vec::new();
    for (key, rx) in waits {
        let got = await_local(&front, &session, key, rx).await;
        if batch {
            answers.extend(got);
        } else {
            for a in got {
                let _ = tx.send(sse_event(None, &to_line(&a))).await;
            }
        }
    }
    if batch {
        // Each held call settles within the ask timeout, then the request timeout.
        for task in held {
            answers.extend(task.await.unwrap_or_default());
        }
        let all = combine(replies, answers, true);
        let _ = tx.send(sse_event(None, &to_line(&all))).await;
    }
}

/// Waits for the user's answer about a held call, sends the call on when approved and waits for
/// its answer; returns the call's answers (its response or refusal). The gateway's messages
/// about it (its refusal, the cancellation of an unanswered question) go to `tx` at once, in
/// order, except a refusal that belongs in a `batch`'s array.
async fn settle_ask(
    front: &Front,
    session: &HttpSession,
    ask: Ask,
    tx: &mpsc::Sender<Bytes>,
    batch: bool,
) -> Vec<Value> {
    let outcome = session.judge.await_ask(ask).await;
    let mut answers = Vec::new();
    for msg in outcome.to_client {
        if batch && msg.get("method").is_none() {
            answers.push(msg);
        } else {
            let _ = tx.send(sse_event(None, &to_line(&msg))).await;
        }
    }
    let (Some(call), Some(key)) = (outcome.to_server, outcome.forwarded) else {
        return answers;
    };
    let Some(local) = &session.local else {
        return answers;
    };
    let (wtx, wrx) = oneshot::channel();
    lock(&local.waiters).insert(key.clone(), wtx);
    if local
        .to_server
        .send(ToServer::Line(to_line(&call)))
        .await
        .is_err()
    {
        lock(&local.waiters).remove(&key);
        answers.extend(session.judge.fail(&[key], "the server has exited"));
        return answers;
    }
    answers.extend(await_local(front, session, key, wrx).await);
    answers
}

/// Waits for a local server's answer to the request with key `key`.
async fn await_local(
    front: &Front,
    session: &HttpSession,
    key: String,
    rx: oneshot::Receiver<Value>,
) -> Vec<Value> {
    // The sweeper answers what times out; this bound only guards against a lost waiter.
    let limit = front.engine.timeout() + Duration::from_secs(5);
    match tokio::time::timeout(limit, rx).await {
        Ok(Ok(v)) => vec![v],
        _ => {
            if let Some(local) = &session.local {
                lock(&local.waiters).remove(&key);
            }
            session.judge.fail(&[key], "no answer came back")
        }
    }
}

/// The gateway's own replies and the server's answers, as one JSON body.
fn combine(replies: Option<Value>, answers: Vec<Value>, batch: bool) -> Value {
    let mut all = Vec::new();
    match replies {
        Some(Value::Array(items)) => all.extend(items),
        Some(v) => all.push(v),
        None => {}
    }
    for a in answers {
        match a {
            Value::Array(items) => all.extend(items),
            v => all.push(v),
        }
    }
    if !batch && all.len() == 1 {
        all.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(all)
    }
}

fn start_local(
    front: &Arc<Front>,
    command: &[OsString],
    sid: &str,
) -> Result<Arc<HttpSession>, RelayError> {
    let (process, stdin, stdout) = ServerProcess::spawn(command)?;
    let (to_server, server_rx) = mpsc::channel::<ToServer>(1024);
    let session = HttpSession::new(
        front.engine.session(),
        Some(LocalServer {
            to_server,
            waiters: Mutex::new(HashMap::new()),
            backlog: Arc::new(Backlog::new()),
            progress: Mutex::new(HashMap::new()),
            subscriptions: Mutex::new(HashMap::new()),
            ended: std::sync::atomic::AtomicBool::new(false),
            process: tokio::sync::Mutex::new(Some(process)),
        }),
    );
    tokio::spawn(write_server(server_rx, stdin));
    tokio::spawn(read_local(
        front.clone(),
        session.clone(),
        sid.to_string(),
        stdout,
    ));
    tokio::spawn(watch_local(Arc::downgrade(&session)));
    Ok(session)
}

/// When a local server exits by itself, stops what it left (which may hold its output open, so
/// that the reader would never see the end).
async fn watch_local(session: std::sync::Weak<HttpSession>) {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Some(session) = session.upgrade() else {
            return;
        };
        let Some(local) = &session.local else { return };
        let mut process = local.process.lock().await;
        match process.as_mut() {
            None => return,
            Some(p) => {
                if p.try_exited().is_some() {
                    p.kill_group();
                    return;
                }
            }
        }
    }
}

/// Delivers a message for a local session's client: a response to the POST waiting for it,
/// progress to the POST stream of the request that holds its token, the rest to the session's
/// GET stream (its backlog).
fn deliver(session: &HttpSession, msg: Value) {
    let Some(local) = &session.local else { return };
    if msg.get("method").is_none()
        && let Some(id) = msg.get("id").filter(|id| !id.is_null())
        && let Some(tx) = lock(&local.waiters).remove(&id_key(id))
    {
        let _ = tx.send(msg);
        return;
    }
    if msg.get("method").and_then(Value::as_str) == Some("notifications/progress")
        && let Some(token) = msg.pointer("/params/progressToken")
    {
        let route = lock(&local.progress)
            .get(&id_key(token))
            .and_then(|(weak, own)| Some((weak.upgrade()?, own.clone())));
        // Sent in order with the answer: both go through this reader, the answer after.
        if let Some((tx, own)) = route {
            let mut msg = msg;
            if let Some(own) = own {
                msg["params"]["progressToken"] = own;
            }
            if tx.try_send(sse_event(None, &to_line(&msg))).is_err() {
                deliver_rest(session, local, msg);
            }
            return;
        }
    }
    if stateless::to_subscription(session, local, &msg) {
        return;
    }
    deliver_rest(session, local, msg);
}

/// The GET stream's part of [`deliver`].
fn deliver_rest(session: &HttpSession, local: &LocalServer, msg: Value) {
    let wait = session.judge.engine().timeout() / 2;
    match local.backlog.push(msg, wait) {
        Pushed::Kept | Pushed::Dropped { first: false } => {}
        Pushed::Dropped { first: true } => {
            let why = format!(
                "dropped the server's notifications: the client's GET stream is {EVENT_BACKLOG} messages behind (or none is open)"
            );
            warn(&why);
            session.judge.engine().audit_message("server", &why, 0);
        }
        Pushed::Bounced(request) => bounce(
            session,
            local,
            &request,
            &format!(
                "the client's GET stream is {EVENT_BACKLOG} messages behind (or none is open)"
            ),
        ),
    }
}

/// Answers a server request the client cannot get with an error (and audits it).
fn bounce(session: &HttpSession, local: &LocalServer, request: &Value, why: &str) {
    if let Some(reply) = session.judge.undelivered(request, why) {
        let _ = local.to_server.try_send(ToServer::Line(to_line(&reply)));
    }
}

/// What became of a message for the GET stream.
#[derive(Debug, PartialEq)]
enum Pushed {
    Kept,
    /// A notification, dropped; `first` for the first of a run of drops.
    Dropped {
        first: bool,
    },
    /// A request that cannot be held: to be answered with an error.
    Bounced(Value),
}

/// A local session's GET stream (see the module doc): numbered events, kept until read and a
/// while after, at most [`EVENT_BACKLOG`] of them.
struct Backlog {
    state: Mutex<BacklogState>,
}

struct BacklogState {
    /// Oldest first, ids increasing (not always consecutive: expired requests leave gaps).
    events: VecDeque<Held>,
    /// The id the next event gets.
    next_id: u64,
    /// Every event with a smaller id was handed to a GET stream.
    read_upto: u64,
    /// The GET stream reading now; an older one ends when it is next polled.
    reader: u64,
    waker: Option<Waker>,
    closed: bool,
    dropping: bool,
}

struct Held {
    id: u64,
    event: Bytes,
    /// A server request, and until when it may wait for a GET stream to read it.
    request: Option<(Value, Instant)>,
}

impl Backlog {
    fn new() -> Backlog {
        Backlog {
            state: Mutex::new(BacklogState {
                events: VecDeque::new(),
                next_id: 1,
                read_upto: 1,
                reader: 0,
                waker: None,
                closed: false,
                dropping: false,
            }),
        }
    }

    /// Holds `msg` for the GET stream; a request may wait `wait` for a GET stream to read it.
    fn push(&self, msg: Value, wait: Duration) -> Pushed {
        let request = msg.get("method").is_some() && msg.get("id").is_some_and(|i| !i.is_null());
        let mut st = lock(&self.state);
        let full = st.events.len() >= EVENT_BACKLOG;
        if full && st.events.front().is_some_and(|h| h.id < st.read_upto) {
            // The oldest was read already: it makes room (a resumption from before it loses it).
            st.events.pop_front();
        } else if full || st.closed {
            if request {
                return Pushed::Bounced(msg);
            }
            let first = !st.dropping;
            st.dropping = true;
            return Pushed::Dropped { first };
        }
        st.dropping = false;
        let id = st.next_id;
        st.next_id += 1;
        let event = sse_event(Some(&id.to_string()), &to_line(&msg));
        st.events.push_back(Held {
            id,
            event,
            request: request.then(|| (msg, Instant::now() + wait)),
        });
        if let Some(w) = st.waker.take() {
            w.wake();
        }
        Pushed::Kept
    }

    /// A new GET stream: it becomes the reader, from after `last_event_id` when the client
    /// resumes, else from the first event no stream has read. Returns (reader, cursor).
    fn open(&self, last_event_id: Option<&str>) -> (u64, u64) {
        let mut st = lock(&self.state);
        st.reader += 1;
        if let Some(w) = st.waker.take() {
            w.wake();
        }
        let cursor = match last_event_id.and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(last) => last.saturating_add(1).min(st.next_id),
            None => st.read_upto,
        };
        (st.reader, cursor)
    }

    fn poll(&self, reader: u64, cursor: &mut u64, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut st = lock(&self.state);
        if st.reader != reader || st.closed {
            return Poll::Ready(None);
        }
        let at = st.events.partition_point(|h| h.id < *cursor);
        if let Some(h) = st.events.get(at) {
            *cursor = h.id + 1;
            let event = h.event.clone();
            st.read_upto = st.read_upto.max(*cursor);
            return Poll::Ready(Some(event));
        }
        st.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Takes out the requests no GET stream read in time, to be answered with errors.
    fn expire(&self) -> Vec<Value> {
        let now = Instant::now();
        let mut st = lock(&self.state);
        let read_upto = st.read_upto;
        let mut out = Vec::new();
        st.events.retain_mut(|h| match &mut h.request {
            Some((_, deadline)) if h.id >= read_upto && *deadline <= now => {
                if let Some((msg, _)) = h.request.take() {
                    out.push(msg);
                }
                false
            }
            _ => true,
        });
        out
    }

    /// The session ended: its GET stream ends.
    fn close(&self) {
        let mut st = lock(&self.state);
        st.closed = true;
        if let Some(w) = st.waker.take() {
            w.wake();
        }
    }
}

async fn read_local(
    front: Arc<Front>,
    session: Arc<HttpSession>,
    sid: String,
    stdout: tokio::process::ChildStdout,
) {
    let Some(local) = &session.local else { return };
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let max = front.engine.max_message();
    let mut buf = Vec::new();
    loop {
        match read_line_limited(&mut reader, &mut buf, max).await {
            Ok(LineRead::Eof) | Err(_) => break,
            Ok(LineRead::TooLong(n)) => {
                front.engine.too_long_from_server(n);
                continue;
            }
            Ok(LineRead::Line) => {}
        }
        let out = session.judge.server_message(&buf);
        for msg in &out.to_server {
            let _ = local.to_server.send(ToServer::Line(to_line(msg))).await;
        }
        let value = match out.to_client {
            Some(Forward::Unchanged) => serde_json::from_slice::<Value>(&buf).ok(),
            Some(Forward::Changed(v)) => Some(v),
            None => None,
        };
        match value {
            Some(Value::Array(items)) => items.into_iter().for_each(|m| deliver(&session, m)),
            Some(m) => deliver(&session, m),
            None => {}
        }
    }
    // The server is gone: the session ends (the client gets 404 and may initialize again),
    // and every request still waiting gets an error.
    {
        let mut sessions = lock(&front.sessions);
        if sessions.get(&sid).is_some_and(|s| Arc::ptr_eq(s, &session)) {
            sessions.remove(&sid);
        }
    }
    local.ended.store(true, std::sync::atomic::Ordering::SeqCst);
    for reply in session.judge.fail_all("the server exited before answering") {
        deliver(&session, reply);
    }
    lock(&local.waiters).clear();
    lock(&local.subscriptions).clear();
    local.backlog.close();
}

async fn end_session(session: &HttpSession, why: &str) {
    if let Some(local) = &session.local {
        local.ended.store(true, std::sync::atomic::Ordering::SeqCst);
        for reply in session.judge.fail_all(why) {
            deliver(session, reply);
        }
        lock(&local.subscriptions).clear();
        local.backlog.close();
        let _ = local.to_server.send(ToServer::Close).await;
        if let Some(mut process) = local.process.lock().await.take() {
            process.stop(Duration::from_secs(1)).await;
        }
    }
}

async fn sweep_timeouts(front: Arc<Front>) {
    let timeout = front.engine.timeout();
    let tick = (timeout / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        let mut sessions: Vec<Arc<HttpSession>> = lock(&front.sessions).values().cloned().collect();
        sessions.extend(front.modern.current());
        for session in sessions {
            let Some(local) = &session.local else {
                continue;
            };
            let (to_client, to_server) = session.judge.expire();
            for cancel in &to_server {
                let _ = local.to_server.try_send(ToServer::Line(to_line(cancel)));
            }
            for reply in to_client {
                deliver(&session, reply);
            }
            let wait = session.judge.engine().timeout() / 2;
            for request in local.backlog.expire() {
                let why = format!(
                    "no GET stream read it within {} s (the client must keep its GET stream open to get the server's requests)",
                    wait.as_secs_f64()
                );
                bounce(&session, local, &request, &why);
            }
        }
    }
}

// ---- remote ----

/// One exchange with the upstream (see [`Remote::exchange`]).
async fn upstream(
    front: &Arc<Front>,
    method: Method,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
) -> Result<UpResponse, String> {
    let Mode::Remote(remote) = &front.mode else {
        return Err("no upstream".to_string());
    };
    remote.exchange(method, headers, body).await
}

/// The client's headers the upstream needs (never the client's `Authorization`: that token is
/// the gateway's, and the upstream's credentials come from `--upstream-header`).
fn pass_headers(client: &HeaderMap, sid: Option<&str>) -> Vec<(String, String)> {
    let mut out = vec![(
        "Accept".to_string(),
        header(client, "accept")
            .unwrap_or("application/json, text/event-stream")
            .to_string(),
    )];
    for name in [
        "mcp-protocol-version",
        "last-event-id",
        "mcp-method",
        "mcp-name",
    ] {
        if let Some(v) = header(client, name) {
            out.push((name.to_string(), v.to_string()));
        }
    }
    if let Some(sid) = sid {
        out.push(("Mcp-Session-Id".into(), sid.to_string()));
    }
    out
}

// The error is the response to send, built once per request: boxing gains nothing.
#[allow(clippy::result_large_err)]
fn remote_session(
    front: &Front,
    sid: Option<&str>,
    initialize: bool,
) -> Result<Arc<HttpSession>, Response<Body>> {
    match sid {
        Some(sid) => {
            if let Some(s) = lock(&front.sessions).get(sid) {
                s.touch();
                return Ok(s.clone());
            }
            // A session the gateway has not seen (it restarted, or ended it to make room):
            // judge it afresh; the upstream decides whether the id is still good.
            if !make_room(front) {
                return Err(too_many_sessions(front.max_sessions));
            }
            let s = HttpSession::new(front.engine.session(), None);
            lock(&front.sessions).insert(sid.to_string(), s.clone());
            Ok(s)
        }
        None if initialize => {
            if !make_room(front) {
                return Err(too_many_sessions(front.max_sessions));
            }
            Ok(HttpSession::new(front.engine.session(), None))
        }
        None => Ok(front.stateless.clone()),
    }
}

async fn post_remote(
    front: &Arc<Front>,
    _remote: &Arc<Remote>,
    sid: Option<String>,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Response<Body> {
    let session = match remote_session(front, sid.as_deref(), is_initialize(&body)) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let out = session.judge.client_message(&body).await;
    if !out.asks.is_empty() {
        let headers = pass_headers(headers, sid.as_deref());
        let (tx, rx) = mpsc::channel::<Bytes>(64);
        tokio::spawn(stream_remote(
            front.clone(),
            session,
            sid.clone(),
            headers,
            body,
            out,
            tx,
        ));
        return sse_response(rx);
    }
    let batch = body.trim_ascii_start().starts_with(b"[");
    let Some(forward) = out.to_server else {
        return answer_only(out.to_client);
    };
    let line = match forward {
        Forward::Unchanged => body,
        Forward::Changed(v) => to_line(&v),
    };
    let mut up_headers = pass_headers(headers, sid.as_deref());
    up_headers.push(("Content-Type".into(), "application/json".into()));
    let up = match upstream(front, Method::POST, up_headers, Some(line)).await {
        Ok(up) => up,
        Err(why) => {
            warn(&why);
            let errors = session.judge.fail(&out.forwarded, &why);
            return if errors.is_empty() && out.to_client.is_none() {
                plain(StatusCode::BAD_GATEWAY, &format!("portcullis: {why}"))
            } else {
                json_response(StatusCode::OK, &combine(out.to_client, errors, batch))
            };
        }
    };
    // A new session: judge it under the id the upstream gave.
    if sid.is_none()
        && let Some(new) = &up.session
        && !Arc::ptr_eq(&session, &front.stateless)
    {
        lock(&front.sessions).insert(new.clone(), session.clone());
    }
    let max = front.engine.max_message();
    let response = if !(200..300).contains(&up.status) {
        // The upstream refused at the HTTP level (expired session, its own auth): pass its
        // status on, and forget the requests it will not answer.
        session
            .judge
            .fail(&out.forwarded, "the upstream refused the request");
        if up.status == 404
            && let Some(sid) = &sid
        {
            lock(&front.sessions).remove(sid);
        }
        let text = read_all(up.reader, 64 * 1024).await.unwrap_or_default();
        let mut r = Response::new(Body::Full(Some(Bytes::from(text))));
        *r.status_mut() = StatusCode::from_u16(up.status).unwrap_or(StatusCode::BAD_GATEWAY);
        if let Ok(v) = HeaderValue::from_str(&up.content_type) {
            r.headers_mut().insert(http::header::CONTENT_TYPE, v);
        }
        r
    } else if up.content_type.starts_with("text/event-stream") {
        let (tx, rx) = mpsc::channel::<Bytes>(64);
        if let Some(reply) = &out.to_client {
            let _ = tx.try_send(sse_event(None, &to_line(reply)));
        }
        tokio::spawn(relay_events(
            front.clone(),
            session.clone(),
            pump(up.reader),
            tx,
            out.forwarded.clone(),
        ));
        sse_response(rx)
    } else if out.forwarded.is_empty() || up.status == 202 {
        answer_only(out.to_client)
    } else {
        match read_all(up.reader, max).await {
            Ok(bytes) => {
                let judged = session.judge.server_message(&bytes);
                send_internal(
                    front,
                    &session,
                    judged.to_server,
                    sid.as_deref().or(up.session.as_deref()),
                );
                let mut answers = Vec::new();
                match judged.to_client {
                    Some(Forward::Unchanged) => {
                        if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                            answers.push(v);
                        }
                    }
                    Some(Forward::Changed(v)) => answers.push(v),
                    None => {}
                }
                answers.extend(session.judge.fail(
                    &out.forwarded,
                    "the upstream's answer did not include the response",
                ));
                json_response(StatusCode::OK, &combine(out.to_client, answers, batch))
            }
            Err(why) => {
                let errors = session.judge.fail(&out.forwarded, &why);
                json_response(StatusCode::OK, &combine(out.to_client, errors, batch))
            }
        }
    };
    match &up.session {
        Some(s) => with_session(response, s),
        None => response,
    }
}

/// The SSE answer to a POST holding calls the user is asked about (remote server): the
/// gateway's replies and questions first, then the upstream's answers to what went on.
async fn stream_remote(
    front: Arc<Front>,
    session: Arc<HttpSession>,
    sid: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    out: ClientOutcome,
    tx: mpsc::Sender<Bytes>,
) {
    if let Some(reply) = &out.to_client {
        let _ = tx.send(sse_event(None, &to_line(reply))).await;
    }
    for ask in out.asks {
        let _ = tx.send(sse_event(None, &to_line(&ask.request))).await;
        let (front, session, tx) = (front.clone(), session.clone(), tx.clone());
        let (sid, headers) = (sid.clone(), headers.clone());
        tokio::spawn(async move {
            let outcome = session.judge.await_ask(ask).await;
            for msg in &outcome.to_client {
                let _ = tx.send(sse_event(None, &to_line(msg))).await;
            }
            if let (Some(call), Some(key)) = (outcome.to_server, outcome.forwarded) {
                forward_remote(
                    &front,
                    &session,
                    sid,
                    headers,
                    to_line(&call),
                    vec![key],
                    &tx,
                )
                .await;
            }
        });
    }
    if let Some(forward) = out.to_server {
        let line = match forward {
            Forward::Unchanged => body,
            Forward::Changed(v) => to_line(&v),
        };
        forward_remote(&front, &session, sid, headers, line, out.forwarded, &tx).await;
    }
}

/// Posts `line` to the upstream and streams what comes back, judged, to `tx`; the `forwarded`
/// requests it does not answer get errors.
async fn forward_remote(
    front: &Arc<Front>,
    session: &Arc<HttpSession>,
    sid: Option<String>,
    mut headers: Vec<(String, String)>,
    line: Vec<u8>,
    forwarded: Vec<String>,
    tx: &mpsc::Sender<Bytes>,
) {
    headers.push(("Content-Type".into(), "application/json".into()));
    let send_all = |msgs: Vec<Value>| async move {
        for m in msgs {
            let _ = tx.send(sse_event(None, &to_line(&m))).await;
        }
    };
    let up = match upstream(front, Method::POST, headers, Some(line)).await {
        Ok(up) => up,
        Err(why) => {
            warn(&why);
            send_all(session.judge.fail(&forwarded, &why)).await;
            return;
        }
    };
    if !(200..300).contains(&up.status) {
        let why = format!("the upstream refused the request (HTTP {})", up.status);
        send_all(session.judge.fail(&forwarded, &why)).await;
    } else if up.content_type.starts_with("text/event-stream") {
        relay_events(
            front.clone(),
            session.clone(),
            pump(up.reader),
            tx.clone(),
            forwarded,
        )
        .await;
    } else if !forwarded.is_empty() && up.status != 202 {
        let mut answers = Vec::new();
        match read_all(up.reader, front.engine.max_message()).await {
            Ok(bytes) => {
                let judged = session.judge.server_message(&bytes);
                send_internal(front, session, judged.to_server, sid.as_deref());
                match judged.to_client {
                    Some(Forward::Unchanged) => {
                        if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                            answers.push(v);
                        }
                    }
                    Some(Forward::Changed(v)) => answers.push(v),
                    None => {}
                }
                answers.extend(session.judge.fail(
                    &forwarded,
                    "the upstream's answer did not include the response",
                ));
            }
            Err(why) => answers.extend(session.judge.fail(&forwarded, &why)),
        }
        send_all(answers).await;
    }
}

/// Sends the gateway's own messages (refusals of server requests, its `tools/list`) to the
/// upstream, and judges what comes back (answers to its listing are for the gateway only).
fn send_internal(
    front: &Arc<Front>,
    session: &Arc<HttpSession>,
    msgs: Vec<Value>,
    sid: Option<&str>,
) {
    if msgs.is_empty() {
        return;
    }
    let front = front.clone();
    let session = session.clone();
    let sid = sid.map(str::to_string);
    tokio::spawn(async move {
        let mut queue = msgs;
        // Bounded: a listing has at most this many pages fetched in one go.
        let mut budget = 64;
        while let Some(msg) = queue.pop() {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let mut headers = vec![
                ("Content-Type".to_string(), "application/json".to_string()),
                (
                    "Accept".to_string(),
                    "application/json, text/event-stream".to_string(),
                ),
            ];
            if let Some(sid) = &sid {
                headers.push(("Mcp-Session-Id".into(), sid.clone()));
            }
            let Ok(up) = upstream(&front, Method::POST, headers, Some(to_line(&msg))).await else {
                continue;
            };
            if !(200..300).contains(&up.status) || up.status == 202 {
                continue;
            }
            let max = front.engine.max_message();
            let messages = if up.content_type.starts_with("text/event-stream") {
                let mut rx = pump(up.reader);
                let mut parser = SseParser::new(max);
                let mut all = Vec::new();
                while let Some(chunk) = rx.recv().await {
                    all.extend(parser.feed(&chunk).into_iter().map(|e| e.data.into_bytes()));
                }
                all
            } else {
                read_all(up.reader, max).await.into_iter().collect()
            };
            for m in messages {
                let judged = session.judge.server_message(&m);
                queue.extend(judged.to_server);
            }
        }
    });
}

/// Relays an upstream SSE stream to the client, judging each event; at its end, answers with
/// errors the `forwarded` requests it did not answer.
async fn relay_events(
    front: Arc<Front>,
    session: Arc<HttpSession>,
    mut chunks: mpsc::Receiver<Bytes>,
    tx: mpsc::Sender<Bytes>,
    forwarded: Vec<String>,
) {
    let max = front.engine.max_message();
    let mut parser = SseParser::new(max);
    let timeout = front.engine.timeout();
    let deadline = tokio::time::Instant::now() + timeout;
    let sid_for_internal: Option<String> = {
        let sessions = lock(&front.sessions);
        sessions
            .iter()
            .find(|(_, s)| Arc::ptr_eq(s, &session))
            .map(|(k, _)| k.clone())
    };
    loop {
        // A stream that answers requests ends when the requests time out; a GET stream
        // (nothing forwarded) lasts as long as both ends keep it.
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
            if event.data.trim().is_empty() {
                // Priming events (an id and no data) keep resumability working.
                if let Some(id) = &event.id {
                    let _ = tx.send(Bytes::from(format!("id: {id}\ndata: \n\n"))).await;
                }
                continue;
            }
            let judged = session.judge.server_message(event.data.as_bytes());
            send_internal(
                &front,
                &session,
                judged.to_server,
                sid_for_internal.as_deref(),
            );
            let data = match judged.to_client {
                Some(Forward::Unchanged) => Bytes::from(event.data.into_bytes()),
                Some(Forward::Changed(v)) => Bytes::from(to_line(&v)),
                None => continue,
            };
            if tx
                .send(sse_event(event.id.as_deref(), &data))
                .await
                .is_err()
            {
                // The client left: what it asked is no longer awaited.
                session.judge.fail(&forwarded, "the client went away");
                return;
            }
        }
        if parser.overflowed {
            front.engine.too_long_from_server(parser.max);
            parser.overflowed = false;
        }
    }
    let why = if tokio::time::Instant::now() >= deadline {
        format!(
            "the server did not answer within {} s",
            timeout.as_secs_f64()
        )
    } else {
        "the upstream's stream ended before the response".to_string()
    };
    for reply in session.judge.fail(&forwarded, &why) {
        let _ = tx.send(sse_event(None, &to_line(&reply))).await;
    }
}

async fn get(front: Arc<Front>, req: Request<Incoming>) -> Response<Body> {
    let sid = session_header(req.headers());
    match &front.mode {
        Mode::Local(_) if sid.is_none() && stateless::names_modern(req.headers()) => {
            stateless::no_get_or_delete("GET")
        }
        Mode::Local(_) => {
            let Some(session) = sid.and_then(|s| lock(&front.sessions).get(&s).cloned()) else {
                return plain(
                    StatusCode::NOT_FOUND,
                    "unknown or missing MCP session: GET needs the Mcp-Session-Id from `initialize`",
                );
            };
            let Some(local) = &session.local else {
                return plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "no server for this session",
                );
            };
            let (reader, cursor) = local.backlog.open(header(req.headers(), "last-event-id"));
            let mut r = Response::new(Body::Events {
                backlog: local.backlog.clone(),
                reader,
                cursor,
            });
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            r
        }
        Mode::Remote(_) => {
            let session = match remote_session(&front, sid.as_deref(), false) {
                Ok(s) => s,
                Err(r) => return r,
            };
            let mut headers = pass_headers(req.headers(), sid.as_deref());
            headers[0].1 = "text/event-stream".into();
            let up = match upstream(&front, Method::GET, headers, None).await {
                Ok(up) => up,
                Err(why) => return plain(StatusCode::BAD_GATEWAY, &format!("portcullis: {why}")),
            };
            if up.status != 200 || !up.content_type.starts_with("text/event-stream") {
                let text = read_all(up.reader, 64 * 1024).await.unwrap_or_default();
                let mut r = Response::new(Body::Full(Some(Bytes::from(text))));
                *r.status_mut() =
                    StatusCode::from_u16(up.status).unwrap_or(StatusCode::BAD_GATEWAY);
                return r;
            }
            let (tx, rx) = mpsc::channel::<Bytes>(64);
            tokio::spawn(relay_events(
                front.clone(),
                session,
                pump(up.reader),
                tx,
                Vec::new(),
            ));
            sse_response(rx)
        }
    }
}

async fn delete(front: Arc<Front>, req: Request<Incoming>) -> Response<Body> {
    if matches!(front.mode, Mode::Local(_))
        && session_header(req.headers()).is_none()
        && stateless::names_modern(req.headers())
    {
        return stateless::no_get_or_delete("DELETE");
    }
    let Some(sid) = session_header(req.headers()) else {
        return plain(StatusCode::BAD_REQUEST, "DELETE needs an Mcp-Session-Id");
    };
    let session = lock(&front.sessions).remove(&sid);
    match &front.mode {
        Mode::Local(_) => match session {
            Some(s) => {
                end_session(&s, "the client ended the session").await;
                plain(StatusCode::OK, "session ended")
            }
            None => plain(StatusCode::NOT_FOUND, "unknown or ended MCP session"),
        },
        Mode::Remote(_) => {
            if let Some(s) = &session {
                s.judge.fail_all("the client ended the session");
            }
            let headers = pass_headers(req.headers(), Some(&sid));
            match upstream(&front, Method::DELETE, headers, None).await {
                Ok(up) => {
                    let text = read_all(up.reader, 64 * 1024).await.unwrap_or_default();
                    let mut r = Response::new(Body::Full(Some(Bytes::from(text))));
                    *r.status_mut() =
                        StatusCode::from_u16(up.status).unwrap_or(StatusCode::BAD_GATEWAY);
                    r
                }
                Err(why) => plain(StatusCode::BAD_GATEWAY, &format!("portcullis: {why}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    fn poll_once(b: &Backlog, reader: u64, cursor: &mut u64) -> Option<String> {
        let mut cx = Context::from_waker(Waker::noop());
        match b.poll(reader, cursor, &mut cx) {
            Poll::Ready(Some(e)) => Some(String::from_utf8_lossy(&e).into_owned()),
            Poll::Ready(None) => Some("END".into()),
            Poll::Pending => None,
        }
    }

    #[test]
    fn the_backlog_keeps_resumes_and_bounds() {
        let note = |n: usize| serde_json::json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"n": n}});
        let wait = Duration::from_secs(60);
        let b = Backlog::new();
        // Nobody reads yet: kept.
        for n in 0..3 {
            assert_eq!(b.push(note(n), wait), Pushed::Kept);
        }
        let (reader, mut cursor) = b.open(None);
        let first = poll_once(&b, reader, &mut cursor).unwrap();
        assert!(
            first.starts_with("id: 1\n") && first.contains("\"n\":0"),
            "{first}"
        );
        assert!(
            poll_once(&b, reader, &mut cursor)
                .unwrap()
                .starts_with("id: 2\n")
        );
        // The client reconnects having seen only event 1: 2 and 3 again; the old stream ends.
        let (again, mut resumed) = b.open(Some("1"));
        assert_eq!(poll_once(&b, reader, &mut cursor).as_deref(), Some("END"));
        assert!(
            poll_once(&b, again, &mut resumed)
                .unwrap()
                .starts_with("id: 2\n")
        );
        assert!(
            poll_once(&b, again, &mut resumed)
                .unwrap()
                .starts_with("id: 3\n")
        );
        assert_eq!(poll_once(&b, again, &mut resumed), None);
        // A new stream without an id starts after what was read.
        let (third, mut fresh) = b.open(None);
        assert_eq!(poll_once(&b, third, &mut fresh), None);
        // Full of unread events: notifications are dropped (the first of a run says so),
        // requests come back to be answered; read ones make room.
        for n in 3..EVENT_BACKLOG {
            assert_eq!(b.push(note(n), wait), Pushed::Kept);
        }
        assert_eq!(b.push(note(0), wait), Pushed::Kept, "event 1 was read");
        assert_eq!(b.push(note(0), wait), Pushed::Kept, "event 2 was read");
        assert_eq!(b.push(note(0), wait), Pushed::Kept, "event 3 was read");
        assert_eq!(b.push(note(0), wait), Pushed::Dropped { first: true });
        assert_eq!(b.push(note(0), wait), Pushed::Dropped { first: false });
        let request =
            serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": "sampling/createMessage"});
        assert_eq!(
            b.push(request.clone(), wait),
            Pushed::Bounced(request.clone())
        );
        b.close();
        assert_eq!(poll_once(&b, third, &mut fresh).as_deref(), Some("END"));
    }

    #[test]
    fn unread_requests_expire() {
        let b = Backlog::new();
        let request =
            serde_json::json!({"jsonrpc": "2.0", "id": "s1", "method": "sampling/createMessage"});
        assert_eq!(b.push(request.clone(), Duration::ZERO), Pushed::Kept);
        assert_eq!(b.expire(), vec![request.clone()]);
        assert!(b.expire().is_empty());
        // Read in time: it does not expire.
        assert_eq!(b.push(request.clone(), Duration::ZERO), Pushed::Kept);
        let (reader, mut cursor) = b.open(None);
        assert!(
            poll_once(&b, reader, &mut cursor)
                .unwrap()
                .starts_with("id: 2\n")
        );
        assert!(b.expire().is_empty());
    }

    #[test]
    fn events_are_framed() {
        let e = sse_event(Some("3"), b"{\"x\":1}");
        assert_eq!(&e[..], b"id: 3\nevent: message\ndata: {\"x\":1}\n\n");
    }
}
