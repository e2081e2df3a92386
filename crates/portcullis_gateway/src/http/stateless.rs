//! The HTTP front's local mode for clients of the 2026-07-28 (stateless) era: no `initialize`,
//! no `Mcp-Session-Id`; every request names its protocol version in `_meta` (or is
//! `server/discover`). All such requests go to ONE shared stdio server, started on first use and
//! again after it ended, stopped with the gateway, under one judge session.
//!
//! Because many clients share one server, the gateway renames each request's id (and its
//! progress token) to one of its own before judging and forwarding it, and gives the client its
//! own id back in every answer: two clients may both use id 1, and the server and the judge
//! see two requests. A `subscriptions/listen` is answered with a long-lived SSE stream; the
//! server's notifications tagged with `io.modelcontextprotocol/subscriptionId` (the renamed
//! listen id) go to that stream with the client's id put back. A notification for a
//! subscription whose stream is gone is dropped (and audited); a server request there is
//! answered with an error so the server does not wait. Closing the stream cancels the listen at
//! the server.
//!
//! Before any routing, the transport headers of the era are checked against the body
//! ([`check_headers`]): `Mcp-Method` (and `Mcp-Name` for `tools/call`, `resources/read`,
//! `prompts/get`) must match, and `MCP-Protocol-Version` must agree with `_meta`; a mismatch is
//! a 400 with JSON-RPC error -32020, so a header never makes a request be routed or audited as
//! something it is not (the judge reads only the body).
//!
//! Trade-offs: a client's `notifications/cancelled` names its own id, which the gateway cannot
//! tell apart from another client's, so it is accepted and not forwarded (closing a
//! `subscriptions/listen` stream does cancel). The era has no GET stream, so whatever the server
//! sends outside a request's answer, its progress or a subscription is dropped (warned and
//! audited once per run of drops). A modern-era request that carries an `Mcp-Session-Id` is
//! served statelessly and the header ignored: the era has no sessions.

use std::ffi::OsString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::{
    Body, Front, HttpSession, LocalServer, answer_only, await_local, bounce, combine, end_session,
    json_response, plain, sse_event, sse_response, start_local,
};
use crate::judge::{Forward, GATEWAY_ERROR, error_response, id_key, lock, to_line, warn};
use crate::mrtr;
use crate::relay::{RelayError, ToServer};

/// JSON-RPC error for transport headers that do not match the body (2026-07-28).
pub const HEADER_MISMATCH: i64 = -32020;

const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// The id the shared server's reader would remove from the session table: never a real one
/// (those are random hex), so the shared server is never in it.
const SHARED_SID: &str = "(shared 2026-07-28-era server)";

/// The shared server of the era, and the counter that renames requests for it.
#[derive(Default)]
pub(super) struct Shared {
    server: Mutex<Option<Arc<HttpSession>>>,
    seq: AtomicU64,
}

impl Shared {
    /// The running shared server, if any (for the timeout sweeper).
    pub(super) fn current(&self) -> Option<Arc<HttpSession>> {
        lock(&self.server).clone()
    }

    /// Takes the shared server out, to be stopped.
    pub(super) fn take(&self) -> Option<Arc<HttpSession>> {
        lock(&self.server).take()
    }

    /// The shared server, started now if there is none or the last one ended.
    fn get_or_start(
        &self,
        front: &Arc<Front>,
        command: &[OsString],
    ) -> Result<Arc<HttpSession>, RelayError> {
        let mut slot = lock(&self.server);
        if let Some(s) = slot.as_ref()
            && !s
                .local
                .as_ref()
                .is_none_or(|l| l.ended.load(Ordering::SeqCst))
        {
            return Ok(s.clone());
        }
        if let Some(old) = slot.take() {
            // Its output ended; what may still run of it goes now.
            tokio::spawn(async move { end_session(&old, "the server ended").await });
        }
        let session = start_local(front, command, SHARED_SID)?;
        if let Some(local) = &session.local {
            // No GET stream in this era: what would go there is dropped or bounced at once.
            local.backlog.close();
        }
        *slot = Some(session.clone());
        Ok(session)
    }
}

/// Which path a local-mode POST takes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Era {
    /// `initialize` and sessions (up to 2025-11-25).
    Legacy,
    /// Stateless (2026-07-28 and later).
    Modern,
}

/// Whether the request's `MCP-Protocol-Version` header names a version of the stateless era.
pub(super) fn names_modern(headers: &HeaderMap) -> bool {
    super::header(headers, "mcp-protocol-version").is_some_and(mrtr::is_modern_version)
}

/// The answer to GET and DELETE from a client of the stateless era.
pub(super) fn no_get_or_delete(method: &str) -> Response<Body> {
    let why = match method {
        "GET" => {
            "portcullis: the 2026-07-28 era has no GET stream; open a `subscriptions/listen` request with POST to get the server's notifications"
        }
        _ => "portcullis: the 2026-07-28 era has no sessions to DELETE; every POST stands alone",
    };
    let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, why);
    r.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
    r
}

/// The era of a POST, after checking its transport headers against its body: 400 with error
/// -32020 when they disagree. `Mcp-Method`, `Mcp-Name` and `MCP-Protocol-Version` are required
/// of a modern-era request; on a legacy one, each present is checked too.
pub(super) fn check_headers(headers: &HeaderMap, body: &[u8]) -> Result<Era, Value> {
    let Ok(msg) = serde_json::from_slice::<Value>(body) else {
        // Not JSON: the legacy path answers that as it always did.
        return Ok(Era::Legacy);
    };
    if !msg.is_object() {
        // A batch: the stateless era has none.
        return Ok(Era::Legacy);
    }
    let method = msg.get("method").and_then(Value::as_str);
    let params = msg.get("params");
    let meta_version = mrtr::modern_version(params);
    let era = if method == Some("initialize") {
        Era::Legacy
    } else if method == Some("server/discover") || meta_version.is_some() || names_modern(headers) {
        Era::Modern
    } else {
        Era::Legacy
    };
    let modern = era == Era::Modern;
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let mismatch = |why: String| {
        error_response(
            id.clone(),
            HEADER_MISMATCH,
            format!("portcullis refused the request: {why}"),
            None,
        )
    };
    match (single(headers, "mcp-method").map_err(&mismatch)?, method) {
        (None, Some(m)) if modern => {
            return Err(mismatch(format!(
                "no Mcp-Method header (the body says `{m}`)"
            )));
        }
        (Some(h), Some(m)) if h != m => {
            return Err(mismatch(format!(
                "the Mcp-Method header `{}` does not match the body's method `{m}`",
                shown(h)
            )));
        }
        (Some(h), None) => {
            return Err(mismatch(format!(
                "an Mcp-Method header `{}` on a message without a method",
                shown(h)
            )));
        }
        _ => {}
    }
    let named = match method {
        Some("tools/call" | "prompts/get") => Some(params.and_then(|p| p.get("name"))),
        Some("resources/read") => Some(params.and_then(|p| p.get("uri"))),
        _ => None,
    };
    if let Some(named) = named {
        let body_name = named.and_then(Value::as_str);
        match single(headers, "mcp-name").map_err(&mismatch)? {
            None if modern => return Err(mismatch("no Mcp-Name header".to_string())),
            None => {}
            Some(raw) => match (decode_header_value(raw), body_name) {
                (None, _) => {
                    return Err(mismatch("the Mcp-Name header is not valid Base64".into()));
                }
                (Some(h), Some(b)) if h == b => {}
                (Some(h), b) => {
                    return Err(mismatch(format!(
                        "the Mcp-Name header `{}` does not match the body's `{}`",
                        shown(&h),
                        shown(b.unwrap_or("(none)"))
                    )));
                }
            },
        }
    }
    let is_request = msg.get("id").is_some_and(|i| !i.is_null()) && method.is_some();
    if modern && is_request {
        match (
            single(headers, "mcp-protocol-version").map_err(&mismatch)?,
            meta_version,
        ) {
            (None, _) => {
                return Err(mismatch("no MCP-Protocol-Version header".into()));
            }
            (Some(h), Some(v)) if h != v => {
                return Err(mismatch(format!(
                    "the MCP-Protocol-Version header `{}` does not match the `{v}` of the request's _meta",
                    shown(h)
                )));
            }
            (Some(h), None) if method != Some("server/discover") => {
                return Err(mismatch(format!(
                    "the MCP-Protocol-Version header names `{}` but the request's _meta names no version",
                    shown(h)
                )));
            }
            _ => {}
        }
    }
    Ok(era)
}

/// A header that may appear once: its value, `None` when absent; an error when repeated (one
/// hop could read the first and another the last) or not text.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, String> {
    let mut all = headers.get_all(name).iter();
    let Some(first) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(format!("the {name} header appears more than once"));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| format!("the {name} header is not plain text"))
}

/// A header value as the era writes values that cannot travel bare: `=?base64?...?=`.
fn decode_header_value(raw: &str) -> Option<String> {
    use base64::Engine as _;
    match raw
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(inner) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(inner)
                .ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(raw.to_string()),
    }
}

/// A value from a header or body, cut short and escaped for an error message.
fn shown(text: &str) -> String {
    let cut: String = text.chars().take(100).collect();
    let mut out = cut.escape_debug().to_string();
    if text.chars().count() > 100 {
        out.push('…');
    }
    out
}

/// Puts the client's own id back on an answer (or on each of several) that carries `wire`.
fn restore(value: Value, wire: &Value, own: Option<&Value>) -> Value {
    let Some(own) = own else { return value };
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| restore(v, wire, Some(own)))
                .collect(),
        ),
        mut v => {
            if v.get("id") == Some(wire) {
                v["id"] = own.clone();
            }
            v
        }
    }
}

/// A POST of the stateless era (see the module doc). `body` passed [`check_headers`].
pub(super) async fn post(
    front: &Arc<Front>,
    command: &[OsString],
    body: Vec<u8>,
    sse: bool,
) -> Response<Body> {
    let Ok(mut msg) = serde_json::from_slice::<Value>(&body) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &error_response(Value::Null, -32700, "portcullis: not JSON".into(), None),
        );
    };
    let own_id = msg.get("id").filter(|i| !i.is_null()).cloned();
    let Some(method) = msg
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &error_response(
                own_id.unwrap_or(Value::Null),
                -32600,
                "portcullis refused a response from a 2026-07-28-era client: the era's servers ask through `input_required` results, never requests".into(),
                None,
            ),
        );
    };
    if own_id.is_none() && method == "notifications/cancelled" {
        // It names the client's own id, which the shared server never saw (see module doc).
        return answer_only(None);
    }
    let session = match front.modern.get_or_start(front, command) {
        Ok(s) => s,
        Err(e) => {
            warn(&e.to_string());
            return json_response(
                StatusCode::OK,
                &error_response(
                    own_id.unwrap_or(Value::Null),
                    GATEWAY_ERROR,
                    format!("portcullis could not start the server: {e}"),
                    None,
                ),
            );
        }
    };
    let Some(local) = &session.local else {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "no server");
    };
    // Renamed so that clients sharing the server cannot collide (see module doc).
    let wire = json!(format!(
        "portcullis-{}",
        front.modern.seq.fetch_add(1, Ordering::Relaxed)
    ));
    let mut own_token = None;
    if own_id.is_some() {
        msg["id"] = wire.clone();
        if let Some(token) = msg.pointer_mut("/params/_meta/progressToken") {
            own_token = Some(std::mem::replace(token, wire.clone()));
        }
    }
    let own = own_id.as_ref();
    let line = to_line(&msg);
    let out = session.judge.client_message(&line).await;
    let mut wait = None;
    if let Some(forward) = out.to_server {
        if let Some(key) = out.forwarded.first() {
            let (tx, rx) = oneshot::channel();
            lock(&local.waiters).insert(key.clone(), tx);
            wait = Some((key.clone(), rx));
        }
        let line = match forward {
            Forward::Unchanged => line,
            Forward::Changed(v) => to_line(&v),
        };
        if local.to_server.send(ToServer::Line(line)).await.is_err() {
            if let Some((key, _)) = &wait {
                lock(&local.waiters).remove(key);
            }
            let errors = session.judge.fail(&out.forwarded, "the server has exited");
            let all = combine(out.to_client, errors, false);
            return json_response(StatusCode::OK, &restore(all, &wire, own));
        }
    }
    let Some((key, rx)) = wait else {
        return answer_only(out.to_client.map(|v| restore(v, &wire, own)));
    };
    if method == "subscriptions/listen" {
        let (tx, events) = mpsc::channel::<Bytes>(64);
        lock(&local.subscriptions)
            .insert(key.clone(), (own.cloned().unwrap_or_default(), tx.clone()));
        tokio::spawn(listen(session.clone(), key, wire, own_id, rx, tx));
        return sse_response(events);
    }
    if sse && own_token.is_some() {
        let (tx, events) = mpsc::channel::<Bytes>(64);
        {
            let mut routes = lock(&local.progress);
            routes.retain(|_, (weak, _)| weak.strong_count() > 0);
            // The token was renamed to the request's own new id: its key is `key`.
            routes.insert(key.clone(), (tx.downgrade(), own_token));
        }
        let (front, session) = (front.clone(), session.clone());
        tokio::spawn(async move {
            for a in await_local(&front, &session, key, rx).await {
                let a = restore(a, &wire, own_id.as_ref());
                let _ = tx.send(sse_event(None, &to_line(&a))).await;
            }
        });
        return sse_response(events);
    }
    let answers = await_local(front, &session, key, rx).await;
    let all = combine(out.to_client, answers, false);
    json_response(StatusCode::OK, &restore(all, &wire, own))
}

/// A `subscriptions/listen` stream: open until the server ends the listen (its answer is the
/// last event) or the client goes (the listen is then cancelled at the server).
async fn listen(
    session: Arc<HttpSession>,
    key: String,
    wire: Value,
    own: Option<Value>,
    answer: oneshot::Receiver<Value>,
    tx: mpsc::Sender<Bytes>,
) {
    let Some(local) = &session.local else { return };
    tokio::select! {
        got = answer => {
            if let Ok(a) = got {
                let a = restore(a, &wire, own.as_ref());
                let _ = tx.send(sse_event(None, &to_line(&a))).await;
            }
        }
        () = tx.closed() => {
            lock(&local.waiters).remove(&key);
            let why = "the client closed its subscriptions/listen stream";
            let _ = session.judge.fail(std::slice::from_ref(&key), why);
            let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": wire, "reason": why}});
            let _ = local.to_server.send(ToServer::Line(to_line(&cancel))).await;
        }
    }
    lock(&local.subscriptions).remove(&key);
}

/// Delivers a server message tagged with a subscription to that subscription's stream, with
/// the client's own id put back. True when the message was tagged (delivered, or dropped or
/// bounced because its stream is gone).
pub(super) fn to_subscription(session: &HttpSession, local: &LocalServer, msg: &Value) -> bool {
    if msg.get("method").is_none() {
        return false;
    }
    let Some(sub) = msg
        .get("params")
        .and_then(|p| p.get("_meta"))
        .and_then(|m| m.get(SUBSCRIPTION_ID))
    else {
        return false;
    };
    let key = id_key(sub);
    let route = lock(&local.subscriptions).get(&key).cloned();
    let method = msg.get("method").and_then(Value::as_str).unwrap_or("?");
    let why = match route {
        Some((own, tx)) => {
            let mut msg = msg.clone();
            msg["params"]["_meta"][SUBSCRIPTION_ID] = own;
            if tx.try_send(sse_event(None, &to_line(&msg))).is_ok() {
                return true;
            }
            format!("its subscriptions/listen stream (server id {key}) is full or closed")
        }
        None => format!("its subscriptions/listen stream (server id {key}) is gone"),
    };
    if msg.get("id").is_some_and(|i| !i.is_null()) {
        bounce(session, local, msg, &why);
    } else {
        let text = format!("dropped the server's `{}`: {why}", shown(method));
        warn(&text);
        session.judge.engine().audit_message("server", &text, 0);
    }
    true
}
