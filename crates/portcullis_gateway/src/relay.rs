//! The stdio relay: the client starts the gateway, the gateway starts the server, and
//! newline-delimited JSON-RPC flows both ways through it.
//!
//! One task reads the client and judges each message in order (so nothing is reordered), one
//! reads the server, and one writer per direction owns each pipe (so lines never interleave).
//! Requests stay in flight concurrently: a pending table maps each request id to what the
//! response needs (method, tool, start time). Reads are bounded by the message size cap, so a
//! hostile peer costs at most that much memory per message. When the server exits, hangs past
//! the request timeout, or the gateway is stopped, every pending request gets a JSON-RPC error.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::process::Command;
use tokio::sync::mpsc;

use crate::audit::{AuditLog, Entry, PinStore};
use crate::canonical::tool_hash;
use crate::checks::{self, ArgKinds};
use crate::policy::{Action, PinMode, Policy, ServerPolicy, ToolRules};
use crate::rate::{Bucket, RateSpec};
use crate::redact;

/// JSON-RPC error code for a call the policy refused.
pub const REFUSED: i64 = -32001;
/// JSON-RPC error code for a call the gateway could not complete (server gone, timeout, audit).
pub const GATEWAY_ERROR: i64 = -32003;

pub struct GatewayOptions {
    /// The server's name, matched against the policy's `[[server]] name` globs.
    pub server_name: String,
    /// The server command and its arguments.
    pub command: Vec<OsString>,
    pub policy: Policy,
    pub audit: AuditLog,
    pub pins: PinStore,
    /// Accept changed tool definitions as the new pins.
    pub accept_changes: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("cannot start the server `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("cannot start the gateway's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("no server command given")]
    NoCommand,
}

/// Runs the stdio gateway until the client closes its input, the server exits, or the gateway
/// gets SIGTERM/SIGINT. Returns the exit code: 0 after the client closed, 1 when the server
/// ended first, 128+signal when stopped by a signal.
pub fn run_stdio(options: GatewayOptions) -> Result<i32, RelayError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RelayError::Runtime)?;
    let code = runtime.block_on(relay(options));
    // Reading standard input blocks a thread that cannot be interrupted: do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

enum ToServer {
    Line(Vec<u8>),
    Close,
}

#[derive(Debug)]
struct Pending {
    id: Value,
    method: String,
    tool: Option<String>,
    started: Instant,
    request_bytes: usize,
    /// The gateway's own `tools/list` (after `list_changed`): the answer is not forwarded.
    internal: bool,
}

#[derive(Debug, Default)]
struct ToolInfo {
    kinds: ArgKinds,
    /// Why calls to this tool are blocked (its definition changed since it was pinned).
    blocked: Option<String>,
}

struct State {
    pending: HashMap<String, Pending>,
    tools: HashMap<String, ToolInfo>,
    overall: Option<Bucket>,
    server: Option<Bucket>,
    per_tool: HashMap<String, Bucket>,
    internal_seq: u64,
}

struct Shared {
    name: String,
    server: ServerPolicy,
    pin_mode: PinMode,
    max_message: usize,
    timeout: Duration,
    cwd: PathBuf,
    audit: Mutex<AuditLog>,
    pins: Mutex<PinStore>,
    state: Mutex<State>,
    to_client: mpsc::Sender<Vec<u8>>,
    to_server: mpsc::Sender<ToServer>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding a lock must not take the relay down with a second panic.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn error_response(id: Value, code: i64, message: String, data: Option<Value>) -> Value {
    let mut error = json!({"code": code, "message": message});
    if let Some(data) = data {
        error["data"] = data;
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

fn to_line(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[allow(clippy::print_stderr)]
fn warn(message: &str) {
    // The gateway's stderr is the client's log of this server; the library prints only here.
    eprintln!("portcullis gateway: {message}");
}

async fn relay(options: GatewayOptions) -> Result<i32, RelayError> {
    let (program, args) = options.command.split_first().ok_or(RelayError::NoCommand)?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| RelayError::Spawn {
            command: program.to_string_lossy().into_owned(),
            source,
        })?;
    let child_in = child.stdin.take().expect("piped stdin");
    let child_out = child.stdout.take().expect("piped stdout");

    let (to_client, client_rx) = mpsc::channel::<Vec<u8>>(1024);
    let (to_server, server_rx) = mpsc::channel::<ToServer>(1024);
    let policy = options.policy;
    let now = Instant::now();
    let shared = Arc::new(Shared {
        server: policy.server(&options.server_name).clone(),
        name: options.server_name,
        pin_mode: if options.accept_changes {
            PinMode::Accept
        } else {
            policy.pins
        },
        max_message: policy.max_message_bytes,
        timeout: Duration::from_secs_f64(policy.request_timeout_secs),
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        audit: Mutex::new(options.audit),
        pins: Mutex::new(options.pins),
        state: Mutex::new(State {
            pending: HashMap::new(),
            tools: HashMap::new(),
            overall: policy.rate.map(|r| Bucket::new(r, now)),
            server: None,
            per_tool: HashMap::new(),
            internal_seq: 0,
        }),
        to_client,
        to_server,
    });
    lock(&shared.state).server = shared.server.rate.map(|r| Bucket::new(r, now));

    let client_writer = tokio::spawn(write_lines(client_rx, tokio::io::stdout()));
    let server_writer = tokio::spawn(write_server(server_rx, child_in));
    let mut client_task = tokio::spawn(client_loop(shared.clone()));
    let mut server_task = tokio::spawn(server_loop(shared.clone(), child_out));
    let sweeper = tokio::spawn(sweep_timeouts(shared.clone()));

    let code = tokio::select! {
        _ = &mut client_task => {
            // The client closed its input: close the server's, let it answer what it has, and
            // stop it if it does not exit by itself.
            let _ = shared.to_server.send(ToServer::Close).await;
            let grace = tokio::time::sleep(Duration::from_secs(5));
            tokio::select! {
                _ = &mut server_task => {}
                _ = grace => {}
            }
            fail_pending(&shared, "the client closed the connection").await;
            0
        }
        _ = &mut server_task => {
            let status = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            let why = match status {
                Ok(Ok(s)) => format!("the server exited ({s}) before answering"),
                _ => "the server closed its output before answering".to_string(),
            };
            warn(&why);
            fail_pending(&shared, &why).await;
            1
        }
        signal = stop_signal() => {
            let _ = child.start_kill();
            fail_pending(&shared, "the gateway was stopped").await;
            128 + signal
        }
    };
    sweeper.abort();
    client_task.abort();
    let _ = child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
    drop(shared);
    server_writer.abort();
    // Every sender is gone once the tasks holding `shared` are: the writer drains and ends.
    let _ = tokio::time::timeout(Duration::from_secs(2), client_writer).await;
    Ok(code)
}

#[cfg(unix)]
async fn stop_signal() -> i32 {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => 15,
        _ = int.recv() => 2,
    }
}

#[cfg(not(unix))]
async fn stop_signal() -> i32 {
    let _ = tokio::signal::ctrl_c().await;
    2
}

async fn write_lines<W: tokio::io::AsyncWrite + Unpin>(mut rx: mpsc::Receiver<Vec<u8>>, out: W) {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    while let Some(mut line) = rx.recv().await {
        line.push(b'\n');
        if out.write_all(&line).await.is_err() {
            return;
        }
        // Flush when nothing else is waiting, so bursts share one write.
        if rx.is_empty() && out.flush().await.is_err() {
            return;
        }
    }
    let _ = out.flush().await;
}

async fn write_server(mut rx: mpsc::Receiver<ToServer>, input: tokio::process::ChildStdin) {
    let mut out = BufWriter::with_capacity(1 << 16, input);
    while let Some(msg) = rx.recv().await {
        match msg {
            ToServer::Line(mut line) => {
                line.push(b'\n');
                if out.write_all(&line).await.is_err() {
                    return;
                }
                if rx.is_empty() && out.flush().await.is_err() {
                    return;
                }
            }
            ToServer::Close => {
                let _ = out.flush().await;
                let _ = out.shutdown().await;
                return;
            }
        }
    }
}

enum LineRead {
    Line,
    TooLong(usize),
    Eof,
}

/// Reads one line into `buf` (without its end), keeping at most `max` bytes: a longer line is
/// consumed and discarded, and reported with its length.
async fn read_line_limited<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<LineRead> {
    buf.clear();
    let mut total = 0usize;
    let mut too_long = false;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(if total == 0 {
                LineRead::Eof
            } else if too_long {
                LineRead::TooLong(total)
            } else {
                LineRead::Line
            });
        }
        let (used, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        total += used;
        if !too_long {
            if buf.len() + used > max + 1 {
                too_long = true;
                buf.clear();
                buf.shrink_to(1 << 16);
            } else {
                buf.extend_from_slice(&chunk[..used]);
            }
        }
        reader.consume(used);
        if done {
            if too_long {
                return Ok(LineRead::TooLong(total));
            }
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            return Ok(LineRead::Line);
        }
    }
}

// ---- client to server ----

enum Verdict {
    Forward,
    Reply(Value),
}

async fn client_loop(shared: Arc<Shared>) {
    let mut reader = BufReader::with_capacity(1 << 16, tokio::io::stdin());
    let mut buf = Vec::new();
    loop {
        match read_line_limited(&mut reader, &mut buf, shared.max_message).await {
            Ok(LineRead::Eof) | Err(_) => return,
            Ok(LineRead::TooLong(n)) => {
                let reason = format!(
                    "a message of {n} bytes is over the gateway's limit of {} bytes",
                    shared.max_message
                );
                audit_message(&shared, "client", &reason, n);
                let reply = error_response(
                    Value::Null,
                    -32600,
                    format!("portcullis refused {reason}"),
                    None,
                );
                let _ = shared.to_client.send(to_line(&reply)).await;
            }
            Ok(LineRead::Line) => handle_client_line(&shared, &buf).await,
        }
    }
}

fn audit_message(shared: &Shared, from: &str, reason: &str, bytes: usize) {
    let entry = Entry {
        server: shared.name.clone(),
        event: "message".into(),
        method: String::new(),
        decision: "refused".into(),
        rule: Some("gateway limits".into()),
        reason: Some(format!("from the {from}: {reason}")),
        request_bytes: Some(bytes as u64),
        ..Entry::default()
    };
    if let Err(e) = lock(&shared.audit).append(entry) {
        warn(&format!("cannot write the audit log: {e}"));
    }
}

async fn handle_client_line(shared: &Shared, line: &[u8]) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => {
            let reason = format!("a message that is not JSON ({e})");
            audit_message(shared, "client", &reason, line.len());
            let reply = error_response(
                Value::Null,
                -32700,
                format!("portcullis refused {reason}"),
                None,
            );
            let _ = shared.to_client.send(to_line(&reply)).await;
            return;
        }
    };
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                let reply = error_response(Value::Null, -32600, "empty batch".into(), None);
                let _ = shared.to_client.send(to_line(&reply)).await;
                return;
            }
            let size = line.len() / items.len();
            let mut forward = Vec::new();
            let mut replies = Vec::new();
            for item in items {
                match judge_client(shared, &item, size).await {
                    Verdict::Forward => forward.push(item),
                    Verdict::Reply(r) => replies.push(r),
                }
            }
            if replies.is_empty() {
                let _ = shared.to_server.send(ToServer::Line(line.to_vec())).await;
            } else {
                // The refused members are answered by the gateway, the rest go on as a batch.
                if !forward.is_empty() {
                    let batch = to_line(&Value::Array(forward));
                    let _ = shared.to_server.send(ToServer::Line(batch)).await;
                }
                let _ = shared.to_client.send(to_line(&Value::Array(replies))).await;
            }
        }
        value => match judge_client(shared, &value, line.len()).await {
            Verdict::Forward => {
                let _ = shared.to_server.send(ToServer::Line(line.to_vec())).await;
            }
            Verdict::Reply(r) => {
                let _ = shared.to_client.send(to_line(&r)).await;
            }
        },
    }
}

struct Refusal {
    rule: String,
    reason: String,
}

fn refuse(rule: &str, reason: impl Into<String>) -> Refusal {
    Refusal {
        rule: rule.to_string(),
        reason: reason.into(),
    }
}

async fn judge_client(shared: &Shared, msg: &Value, size: usize) -> Verdict {
    let Some(obj) = msg.as_object() else {
        return Verdict::Reply(error_response(
            Value::Null,
            -32600,
            "portcullis refused a message that is not a JSON-RPC object".into(),
            None,
        ));
    };
    let method = obj.get("method").and_then(Value::as_str);
    let id = obj.get("id");
    match (method, id) {
        (Some(method), Some(id)) => {
            judge_request(shared, method, id, obj.get("params"), size).await
        }
        (Some(method), None) => {
            if method == "notifications/cancelled"
                && let Some(rid) = obj.get("params").and_then(|p| p.get("requestId"))
            {
                lock(&shared.state).pending.remove(&rid.to_string());
            }
            Verdict::Forward
        }
        // A response to a request of the server (roots/list, sampling, elicitation).
        (None, Some(_)) => Verdict::Forward,
        (None, None) => Verdict::Reply(error_response(
            Value::Null,
            -32600,
            "portcullis refused a message with neither `method` nor `id`".into(),
            None,
        )),
    }
}

async fn judge_request(
    shared: &Shared,
    method: &str,
    id: &Value,
    params: Option<&Value>,
    size: usize,
) -> Verdict {
    let key = id.to_string();
    if lock(&shared.state).pending.contains_key(&key) {
        return Verdict::Reply(error_response(
            id.clone(),
            -32600,
            format!(
                "portcullis refused request id {key}: a request with this id is already in flight"
            ),
            None,
        ));
    }
    let mut tool = None;
    let mut arguments = None;
    let judged = match method {
        "tools/call" => {
            let name = params.and_then(|p| p.get("name")).and_then(Value::as_str);
            match name {
                None => Err(refuse(
                    "gateway",
                    "`tools/call` without a tool name: the gateway cannot judge it",
                )),
                Some(name) => {
                    tool = Some(name.to_string());
                    let args = params
                        .and_then(|p| p.get("arguments"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    let rules = shared.server.tool(name);
                    let verdict = judge_tool_call(shared, name, &args, rules).await;
                    arguments = Some(args);
                    verdict.map(|()| rules.label.clone())
                }
            }
        }
        "resources/read" | "prompts/get" => {
            let (action, what) = if method == "resources/read" {
                (shared.server.resources, "uri")
            } else {
                (shared.server.prompts, "name")
            };
            tool = params
                .and_then(|p| p.get(what))
                .and_then(Value::as_str)
                .map(str::to_string);
            arguments = params.and_then(|p| p.get("arguments")).cloned();
            if action == Action::Deny {
                Err(refuse(
                    &shared.server.label,
                    format!("`{method}` is denied for this server"),
                ))
            } else {
                take_rate(shared, None, None).map(|()| shared.server.label.clone())
            }
        }
        _ => {
            // Other requests (initialize, lists, ping, ...) are relayed and tracked, not judged.
            track(shared, id, method, None, size, false);
            return Verdict::Forward;
        }
    };
    let mut redacted = arguments;
    if let Some(a) = &mut redacted {
        redact::redact_value(a);
    }
    match judged {
        Ok(rule) => {
            let entry = Entry {
                server: shared.name.clone(),
                event: "request".into(),
                method: method.into(),
                tool: tool.clone(),
                request_id: Some(key),
                arguments: redacted,
                decision: "accepted".into(),
                rule: Some(rule),
                request_bytes: Some(size as u64),
                ..Entry::default()
            };
            // Write-ahead: the accepted call is on record before the server sees it.
            if let Err(e) = lock(&shared.audit).append(entry) {
                warn(&format!("cannot write the audit log: {e}"));
                return Verdict::Reply(error_response(
                    id.clone(),
                    GATEWAY_ERROR,
                    format!("portcullis stopped `{method}`: the audit log cannot be written ({e})"),
                    None,
                ));
            }
            track(shared, id, method, tool, size, false);
            Verdict::Forward
        }
        Err(refusal) => {
            let entry = Entry {
                server: shared.name.clone(),
                event: "request".into(),
                method: method.into(),
                tool: tool.clone(),
                request_id: Some(key),
                arguments: redacted,
                decision: "refused".into(),
                rule: Some(refusal.rule.clone()),
                reason: Some(refusal.reason.clone()),
                request_bytes: Some(size as u64),
                ..Entry::default()
            };
            if let Err(e) = lock(&shared.audit).append(entry) {
                warn(&format!("cannot write the audit log: {e}"));
            }
            let what = tool.map_or(format!("`{method}`"), |t| format!("`{method}` of `{t}`"));
            Verdict::Reply(error_response(
                id.clone(),
                REFUSED,
                format!(
                    "portcullis refused {what}: {} (rule: {})",
                    refusal.reason, refusal.rule
                ),
                Some(json!({"rule": refusal.rule, "reason": refusal.reason})),
            ))
        }
    }
}

fn track(
    shared: &Shared,
    id: &Value,
    method: &str,
    tool: Option<String>,
    size: usize,
    internal: bool,
) {
    lock(&shared.state).pending.insert(
        id.to_string(),
        Pending {
            id: id.clone(),
            method: method.to_string(),
            tool,
            started: Instant::now(),
            request_bytes: size,
            internal,
        },
    );
}

/// Takes one token from every bucket that applies, or none if one is empty.
fn take_rate(
    shared: &Shared,
    tool: Option<&str>,
    tool_rate: Option<RateSpec>,
) -> Result<(), Refusal> {
    let now = Instant::now();
    let mut guard = lock(&shared.state);
    let state = &mut *guard;
    if let (Some(tool), Some(spec)) = (tool, tool_rate) {
        let bucket = state
            .per_tool
            .entry(tool.to_string())
            .or_insert_with(|| Bucket::new(spec, now));
        if !bucket.ready(now) {
            return Err(rate_refusal("tool", tool, spec));
        }
    }
    if let Some(b) = &mut state.server
        && !b.ready(now)
    {
        return Err(rate_refusal("server", &shared.name, b.spec()));
    }
    if let Some(b) = &mut state.overall
        && !b.ready(now)
    {
        return Err(rate_refusal("gateway", "all servers", b.spec()));
    }
    if let Some(tool) = tool
        && let Some(b) = state.per_tool.get_mut(tool)
    {
        b.take();
    }
    if let Some(b) = &mut state.server {
        b.take();
    }
    if let Some(b) = &mut state.overall {
        b.take();
    }
    Ok(())
}

fn rate_refusal(scope: &str, name: &str, spec: RateSpec) -> Refusal {
    refuse(
        &format!("rate limit ({scope})"),
        format!(
            "the rate limit for {scope} `{name}` ({} calls per {} s, bursts of {}) is used up; retry later",
            spec.calls, spec.per_secs, spec.burst
        ),
    )
}

async fn judge_tool_call(
    shared: &Shared,
    name: &str,
    args: &Value,
    rules: &ToolRules,
) -> Result<(), Refusal> {
    let label = rules.label.as_str();
    if rules.action == Action::Deny {
        return Err(refuse(label, format!("tool `{name}` is denied")));
    }
    if !(args.is_object() || args.is_null()) {
        return Err(refuse("gateway", "`arguments` is not an object"));
    }
    let kinds = {
        let state = lock(&shared.state);
        let info = state.tools.get(name);
        if let Some(why) = info.and_then(|i| i.blocked.as_ref()) {
            return Err(refuse("tool pins", why.clone()));
        }
        info.map(|i| i.kinds.clone())
    };
    take_rate(shared, Some(name), rules.rate)?;
    if let Some(max) = rules.max_string_len
        && let Some(n) = checks::longest_over(args, max)
    {
        return Err(refuse(
            label,
            format!("an argument string of {n} characters is over the limit of {max}"),
        ));
    }
    for (arg, re) in &rules.patterns {
        for value in checks::values_of(args, arg) {
            if !matches!(value, Value::String(s) if re.is_match(s)) {
                return Err(refuse(
                    label,
                    format!(
                        "argument `{arg}` does not match its pattern `{}`",
                        re.as_str()
                    ),
                ));
            }
        }
    }
    let names = |named: &Option<Vec<String>>,
                 inferred: fn(&ArgKinds) -> &Vec<String>,
                 what: &str| match (named, &kinds) {
        (Some(n), _) => Ok(n.clone()),
        (None, Some(k)) => Ok(inferred(k).clone()),
        (None, None) => Err(refuse(
            label,
            format!(
                "tool `{name}` has {what} rules but the gateway has not seen its definition \
                     (no tools/list yet) to tell which arguments are {what}s; name them with `args`"
            ),
        )),
    };
    if let Some(rule) = &rules.paths {
        for arg in names(&rule.args, |k| &k.paths, "path")? {
            for value in checks::strings_of(args, &arg) {
                checks::check_path(value, rule, &shared.cwd)
                    .map_err(|why| refuse(label, format!("path argument `{arg}`: {why}")))?;
            }
        }
    }
    if let Some(rule) = &rules.commands {
        for arg in names(&rule.args, |k| &k.commands, "command")? {
            for value in checks::values_of(args, &arg) {
                checks::check_command(value, rule)
                    .map_err(|why| refuse(label, format!("command argument `{arg}`: {why}")))?;
            }
        }
    }
    if let Some(rule) = &rules.urls {
        for arg in names(&rule.args, |k| &k.urls, "URL")? {
            for value in checks::strings_of(args, &arg) {
                checks::check_url(value, rule)
                    .await
                    .map_err(|why| refuse(label, format!("URL argument `{arg}`: {why}")))?;
            }
        }
    }
    Ok(())
}

// ---- server to client ----

async fn server_loop(shared: Arc<Shared>, out: tokio::process::ChildStdout) {
    let mut reader = BufReader::with_capacity(1 << 16, out);
    let mut buf = Vec::new();
    loop {
        match read_line_limited(&mut reader, &mut buf, shared.max_message).await {
            Ok(LineRead::Eof) | Err(_) => return,
            Ok(LineRead::TooLong(n)) => {
                let reason = format!(
                    "dropped a message of {n} bytes from the server, over the limit of {} bytes",
                    shared.max_message
                );
                warn(&reason);
                audit_message(&shared, "server", &reason, n);
            }
            Ok(LineRead::Line) => handle_server_line(&shared, &buf).await,
        }
    }
}

enum ServerVerdict {
    Forward,
    Modified(Value),
    Drop,
}

async fn handle_server_line(shared: &Shared, line: &[u8]) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => {
            let reason = format!("dropped a message from the server that is not JSON ({e})");
            warn(&reason);
            audit_message(shared, "server", &reason, line.len());
            return;
        }
    };
    match value {
        Value::Array(items) => {
            let size = line.len() / items.len().max(1);
            let mut out = Vec::new();
            let mut changed = false;
            for item in items {
                match judge_server(shared, item.clone(), size).await {
                    ServerVerdict::Forward => out.push(item),
                    ServerVerdict::Modified(v) => {
                        changed = true;
                        out.push(v);
                    }
                    ServerVerdict::Drop => changed = true,
                }
            }
            if !changed {
                let _ = shared.to_client.send(line.to_vec()).await;
            } else if !out.is_empty() {
                let _ = shared.to_client.send(to_line(&Value::Array(out))).await;
            }
        }
        value => match judge_server(shared, value, line.len()).await {
            ServerVerdict::Forward => {
                let _ = shared.to_client.send(line.to_vec()).await;
            }
            ServerVerdict::Modified(v) => {
                let _ = shared.to_client.send(to_line(&v)).await;
            }
            ServerVerdict::Drop => {}
        },
    }
}

async fn judge_server(shared: &Shared, mut msg: Value, size: usize) -> ServerVerdict {
    let method = msg
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string);
    let id = msg.get("id").cloned();
    match (method, id) {
        (Some(method), Some(id)) => {
            let action = match method.as_str() {
                "sampling/createMessage" => Some(shared.server.sampling),
                "elicitation/create" => Some(shared.server.elicitation),
                _ => None,
            };
            let Some(action) = action else {
                return ServerVerdict::Forward;
            };
            let mut entry = Entry {
                server: shared.name.clone(),
                event: "server-request".into(),
                method: method.clone(),
                request_id: Some(id.to_string()),
                decision: "accepted".into(),
                rule: Some(shared.server.label.clone()),
                request_bytes: Some(size as u64),
                ..Entry::default()
            };
            if action == Action::Deny {
                entry.decision = "refused".into();
                entry.reason = Some(format!("`{method}` from the server is denied"));
            }
            let audited = lock(&shared.audit).append(entry);
            if action == Action::Allow && audited.is_ok() {
                return ServerVerdict::Forward;
            }
            let why = match audited {
                Err(e) => format!("the audit log cannot be written ({e})"),
                Ok(_) => format!(
                    "`{method}` from the server is denied (rule: {})",
                    shared.server.label
                ),
            };
            let reply = error_response(id, REFUSED, format!("portcullis refused {why}"), None);
            let _ = shared.to_server.send(ToServer::Line(to_line(&reply))).await;
            ServerVerdict::Drop
        }
        (Some(method), None) => {
            if method == "notifications/tools/list_changed" {
                relist(shared, None).await;
            }
            ServerVerdict::Forward
        }
        // An error about no request in particular (`"id": null`): nothing to match, pass it on.
        (None, Some(Value::Null)) => ServerVerdict::Forward,
        (None, Some(id)) => {
            let pending = lock(&shared.state).pending.remove(&id.to_string());
            let Some(pending) = pending else {
                warn(&format!(
                    "dropped a response to request {id}, which is not in flight (timed out or cancelled)"
                ));
                return ServerVerdict::Drop;
            };
            if pending.method == "tools/list" {
                let next = record_pins(shared, &msg);
                if pending.internal {
                    if let Some(cursor) = next {
                        relist(shared, Some(cursor)).await;
                    }
                    return ServerVerdict::Drop;
                }
                return ServerVerdict::Forward;
            }
            if !matches!(
                pending.method.as_str(),
                "tools/call" | "resources/read" | "prompts/get"
            ) {
                return ServerVerdict::Forward;
            }
            let rules = match &pending.tool {
                Some(tool) if pending.method == "tools/call" => shared.server.tool(tool),
                _ => shared.server.tool(""),
            };
            judge_response(shared, &pending, rules, &mut msg, size)
        }
        (None, None) => {
            warn("dropped a message from the server with neither `method` nor `id`");
            ServerVerdict::Drop
        }
    }
}

fn judge_response(
    shared: &Shared,
    pending: &Pending,
    rules: &ToolRules,
    msg: &mut Value,
    size: usize,
) -> ServerVerdict {
    let mut entry = Entry {
        server: shared.name.clone(),
        event: "response".into(),
        method: pending.method.clone(),
        tool: pending.tool.clone(),
        request_id: Some(pending.id.to_string()),
        decision: "completed".into(),
        rule: Some(rules.label.clone()),
        latency_us: Some(pending.started.elapsed().as_micros() as u64),
        request_bytes: Some(pending.request_bytes as u64),
        response_bytes: Some(size as u64),
        ..Entry::default()
    };
    let mut verdict = ServerVerdict::Forward;
    if size > rules.max_response_bytes {
        let reason = format!(
            "the response of {size} bytes is over the limit of {} bytes",
            rules.max_response_bytes
        );
        entry.decision = "refused".into();
        entry.reason = Some(reason.clone());
        verdict = ServerVerdict::Modified(error_response(
            pending.id.clone(),
            REFUSED,
            format!(
                "portcullis refused the response: {reason} (rule: {})",
                rules.label
            ),
            Some(json!({"rule": rules.label, "reason": reason})),
        ));
    } else if msg.get("error").is_some() {
        entry.decision = "error".into();
    } else if let Some(result) = msg.get_mut("result") {
        let mut notes = Vec::new();
        if rules.redact_secrets {
            let n = redact::redact_value(result);
            if n > 0 {
                notes.push(format!("{n} secret(s) redacted"));
            }
        }
        if rules.untrusted && pending.method == "tools/call" {
            let source = format!("{}/{}", shared.name, pending.tool.as_deref().unwrap_or(""));
            if redact::wrap_untrusted(result, &source) {
                notes.push("marked as untrusted data".into());
            }
        }
        if !notes.is_empty() {
            entry.reason = Some(notes.join("; "));
            verdict = ServerVerdict::Modified(msg.clone());
        }
    }
    // Off the critical path: committed with the next accepted call, or within ms (audit.rs).
    if let Err(e) = lock(&shared.audit).append_deferred(entry) {
        warn(&format!("cannot write the audit log: {e}"));
        return ServerVerdict::Modified(error_response(
            pending.id.clone(),
            GATEWAY_ERROR,
            format!("portcullis stopped the response: the audit log cannot be written ({e})"),
            None,
        ));
    }
    verdict
}

/// Pins every tool of a `tools/list` result; returns the next page's cursor.
fn record_pins(shared: &Shared, msg: &Value) -> Option<String> {
    let result = msg.get("result")?;
    let tools = result.get("tools").and_then(Value::as_array);
    for tool in tools.into_iter().flatten() {
        let Some(name) = tool.get("name").and_then(Value::as_str) else {
            continue;
        };
        let hash = tool_hash(tool);
        let kinds = checks::infer_kinds(tool);
        let pinned = lock(&shared.pins).get(&shared.name, name);
        let mut entry = Entry {
            server: shared.name.clone(),
            event: "pin".into(),
            method: "tools/list".into(),
            tool: Some(name.to_string()),
            rule: Some("tool pins".into()),
            ..Entry::default()
        };
        let blocked = match pinned {
            Ok(Some(old)) if old == hash => None,
            Ok(None) => {
                entry.decision = "recorded".into();
                entry.reason = Some(format!("first seen: {hash}"));
                lock(&shared.pins)
                    .set(&shared.name, name, &hash)
                    .err()
                    .map(|e| format!("the tool's pin cannot be recorded ({e})"))
            }
            Ok(Some(old)) if shared.pin_mode == PinMode::Accept => {
                entry.decision = "accepted-change".into();
                entry.reason = Some(format!("{old} -> {hash}"));
                lock(&shared.pins)
                    .set(&shared.name, name, &hash)
                    .err()
                    .map(|e| format!("the tool's new pin cannot be recorded ({e})"))
            }
            Ok(Some(old)) => {
                entry.decision = "changed".into();
                entry.reason = Some(format!("{old} -> {hash}"));
                let why = format!(
                    "the definition of tool `{name}` changed since it was pinned ({old} -> {hash}); \
                     review it, then restart with `portcullis gateway --accept-changes` to approve"
                );
                warn(&why);
                Some(why)
            }
            Err(e) => Some(format!("the pin store cannot be read ({e})")),
        };
        if !entry.decision.is_empty()
            && let Err(e) = lock(&shared.audit).append(entry)
        {
            warn(&format!("cannot write the audit log: {e}"));
        }
        lock(&shared.state)
            .tools
            .insert(name.to_string(), ToolInfo { kinds, blocked });
    }
    result
        .get("nextCursor")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// After `notifications/tools/list_changed`, the gateway lists the tools itself, so pins are
/// checked even if the client never lists again.
async fn relist(shared: &Shared, cursor: Option<String>) {
    let id = {
        let mut state = lock(&shared.state);
        state.internal_seq += 1;
        json!(format!("portcullis-pins-{}", state.internal_seq))
    };
    let params = match cursor {
        Some(c) => json!({"cursor": c}),
        None => json!({}),
    };
    let request = json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params});
    track(shared, &id, "tools/list", None, 0, true);
    let _ = shared
        .to_server
        .send(ToServer::Line(to_line(&request)))
        .await;
}

// ---- failures ----

async fn sweep_timeouts(shared: Arc<Shared>) {
    let tick = (shared.timeout / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        let expired: Vec<Pending> = {
            let mut state = lock(&shared.state);
            let keys: Vec<String> = state
                .pending
                .iter()
                .filter(|(_, p)| p.started.elapsed() >= shared.timeout)
                .map(|(k, _)| k.clone())
                .collect();
            keys.iter()
                .filter_map(|k| state.pending.remove(k))
                .collect()
        };
        for p in expired {
            let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": p.id, "reason": "timed out at the gateway"}});
            let _ = shared.to_server.try_send(ToServer::Line(to_line(&cancel)));
            let why = format!(
                "the server did not answer within {} s",
                shared.timeout.as_secs_f64()
            );
            fail_one(&shared, p, &why).await;
        }
    }
}

async fn fail_pending(shared: &Shared, why: &str) {
    let all: Vec<Pending> = lock(&shared.state)
        .pending
        .drain()
        .map(|(_, p)| p)
        .collect();
    for p in all {
        fail_one(shared, p, why).await;
    }
}

async fn fail_one(shared: &Shared, p: Pending, why: &str) {
    if p.internal {
        return;
    }
    if matches!(
        p.method.as_str(),
        "tools/call" | "resources/read" | "prompts/get"
    ) {
        let entry = Entry {
            server: shared.name.clone(),
            event: "response".into(),
            method: p.method.clone(),
            tool: p.tool.clone(),
            request_id: Some(p.id.to_string()),
            decision: "failed".into(),
            reason: Some(why.to_string()),
            latency_us: Some(p.started.elapsed().as_micros() as u64),
            request_bytes: Some(p.request_bytes as u64),
            ..Entry::default()
        };
        if let Err(e) = lock(&shared.audit).append(entry) {
            warn(&format!("cannot write the audit log: {e}"));
        }
    }
    let reply = error_response(
        p.id,
        GATEWAY_ERROR,
        format!("portcullis: `{}` failed: {why}", p.method),
        None,
    );
    let _ = shared.to_client.send(to_line(&reply)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn bounded_lines() {
        let data = b"short\nxxxxxxxxxxxxxxxxxxxxxxxx\r\nend".to_vec();
        let mut r = BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        assert!(matches!(
            read_line_limited(&mut r, &mut buf, 8).await.unwrap(),
            LineRead::Line
        ));
        assert_eq!(buf, b"short");
        assert!(matches!(
            read_line_limited(&mut r, &mut buf, 8).await.unwrap(),
            LineRead::TooLong(26)
        ));
        assert!(buf.len() <= 9);
        assert!(matches!(
            read_line_limited(&mut r, &mut buf, 8).await.unwrap(),
            LineRead::Line
        ));
        assert_eq!(buf, b"end");
        assert!(matches!(
            read_line_limited(&mut r, &mut buf, 8).await.unwrap(),
            LineRead::Eof
        ));
    }
}
