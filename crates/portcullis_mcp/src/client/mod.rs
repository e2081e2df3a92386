//! The live client: reach one MCP server, learn what it exposes, hang up.
//!
//! It speaks JSON-RPC itself (over stdio, streamable HTTP or the older HTTP+SSE transport)
//! rather than through rmcp's typed client, for two reasons: list items must be kept exactly as
//! the server sent them (rmcp's `Tool` drops keys it does not know, and poisoning can hide
//! there), and every read must be bounded in time and size whatever the server does. It is
//! synchronous (threads and `ureq`), so the binary needs no async runtime for it.
//!
//! Both protocol eras are spoken: the 2026-07-28 revision's `server/discover` is tried first,
//! and any error or silence falls back to the `initialize` handshake of earlier revisions, as
//! the specification's versioning page asks (the fallback is not keyed to one error code).

mod confine;
mod http;
mod session;
mod sse;
mod stdio;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use confine::{ClientVariables, Confinement, Resolved, resolve_references};
use session::Session;
pub use stdio::LaunchSpec;

use crate::mask;
use crate::snapshot::{LISTS, Snapshot, TransportKind};

/// The newest revision, spoken through `server/discover`.
pub const MODERN_VERSION: &str = "2026-07-28";
/// The newest revision with the `initialize` handshake.
pub const LEGACY_VERSION: &str = "2025-11-25";

/// Which protocol era to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// `server/discover` first, `initialize` when the server does not answer it.
    #[default]
    Auto,
    /// Only the `initialize` handshake (revisions up to 2025-11-25).
    Legacy,
    /// Only `server/discover` (2026-07-28).
    Modern,
}

/// Which HTTP transport to use for a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpTransport {
    /// Streamable HTTP, then the older HTTP+SSE transport if the URL refuses POSTs.
    #[default]
    Auto,
    StreamableHttp,
    Sse,
}

/// What to inspect.
#[derive(Debug, Clone)]
pub enum Target {
    /// Launch this command, confined, and talk over its standard input and output.
    Stdio(LaunchSpec),
    Http {
        url: String,
        /// Sent with every request (`Authorization`, API keys). Never recorded.
        headers: Vec<(String, String)>,
        transport: HttpTransport,
    },
}

impl Target {
    /// The command line or URL, secrets masked, for the snapshot.
    pub fn masked_source(&self) -> String {
        match self {
            Target::Stdio(spec) => {
                let mut argv = vec![spec.program.clone()];
                argv.extend(spec.args.iter().cloned());
                mask::mask_command(&argv)
            }
            Target::Http { url, .. } => mask::mask_url(url),
        }
    }
}

/// Limits of one inspection.
#[derive(Debug, Clone)]
pub struct Options {
    pub protocol: Protocol,
    /// Reaching an HTTP server; a launched server's first answer falls under `request_timeout`.
    pub connect_timeout: Duration,
    /// Each request.
    pub request_timeout: Duration,
    /// The whole inspection, launch to hang-up; a launched server is killed when it is over.
    pub total_timeout: Duration,
    /// The largest single message accepted.
    pub max_message_bytes: usize,
    /// Pages followed per list.
    pub max_pages: usize,
    /// Items kept per list.
    pub max_items: usize,
    pub confinement: Confinement,
    pub client_name: String,
    pub client_version: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            protocol: Protocol::Auto,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
            total_timeout: Duration::from_secs(60),
            max_message_bytes: 16 << 20,
            max_pages: 100,
            max_items: 10_000,
            confinement: Confinement::default(),
            client_name: "portcullis".into(),
            client_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Why an inspection failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot start `{program}`: {message}")]
    Spawn { program: String, message: String },
    #[error("cannot prepare the server's scratch folders: {0}")]
    Scratch(String),
    #[error("the server did not answer `{method}` within {}", secs(*.after))]
    Timeout { method: String, after: Duration },
    #[error(
        "the inspection was still waiting for the answer to `{method}` when its time was up \
         ({}, see --timeout)", secs(*.after)
    )]
    TotalTimeout { method: String, after: Duration },
    #[error("the server exited ({status}) before answering{}", last_words(.stderr))]
    Exited { status: String, stderr: String },
    #[error(
        "the server wrote something that is not JSON-RPC on its standard output: `{0}` \
         (an MCP stdio server must write only JSON-RPC messages there, and log to stderr)"
    )]
    Garbage(String),
    #[error("the server sent a message larger than {} MiB; refusing it", .0 >> 20)]
    TooLarge(usize),
    #[error("cannot reach {url}: {message}")]
    Connect { url: String, message: String },
    #[error("{url} answered HTTP {status}{}", http_hint(*.status, .body))]
    HttpStatus {
        url: String,
        status: u16,
        body: String,
    },
    #[error("the server answered `{method}` with error {code}: {message}")]
    Rpc {
        method: String,
        code: i64,
        message: String,
    },
    #[error("{0}")]
    Protocol(String),
}

impl Error {
    /// The JSON-RPC "method not found" error: the server does not offer that request.
    fn is_method_not_found(&self) -> bool {
        matches!(self, Error::Rpc { code: -32601, .. })
    }

    /// Whether the connection is gone, so that nothing more can be asked on it.
    fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::Exited { .. }
                | Error::Garbage(_)
                | Error::TooLarge(_)
                | Error::Connect { .. }
                | Error::Spawn { .. }
        )
    }
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn last_words(stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        " (it wrote nothing on stderr)".into()
    } else {
        format!("; the end of its stderr:\n{stderr}")
    }
}

fn http_hint(status: u16, body: &str) -> String {
    let hint = match status {
        401 | 403 => {
            " (the server wants credentials: pass a token with --bearer-token-env VAR or a header with --header)"
        }
        _ => "",
    };
    let body = body.trim();
    if body.is_empty() {
        hint.to_string()
    } else {
        format!("{hint}: {body}")
    }
}

/// One connection to a server, whatever carries it.
pub(crate) trait Transport {
    fn send(&mut self, message: &Value) -> Result<(), Error>;
    /// The next message, or `None` when nothing came before `deadline`.
    fn recv(&mut self, deadline: Instant) -> Result<Option<Value>, Error>;
    fn kind(&self) -> TransportKind;
    /// The revision agreed on, for transports that repeat it in headers.
    fn set_protocol_version(&mut self, _version: &str, _modern: bool) {}
    /// Facts about how the server was launched or reached.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// Hang up; a launched server is stopped.
    fn close(&mut self) {}
}

/// Inspects one server: connect, handshake, every list, hang up.
pub fn inspect(target: &Target, options: &Options) -> Result<Snapshot, Error> {
    let deadline = Instant::now() + options.total_timeout;
    let result = match target {
        Target::Http {
            transport: HttpTransport::Auto,
            ..
        } => match inspect_with(target, HttpTransport::StreamableHttp, options, deadline) {
            // A URL that refuses POSTs may be a server of the older HTTP+SSE transport.
            Err(
                err @ Error::HttpStatus {
                    status: 400 | 404 | 405,
                    ..
                },
            ) => inspect_with(target, HttpTransport::Sse, options, deadline).map_err(|_| err),
            other => other,
        },
        Target::Http { transport, .. } => inspect_with(target, *transport, options, deadline),
        Target::Stdio(_) => inspect_with(target, HttpTransport::Auto, options, deadline),
    };
    result.map(|mut snapshot| {
        snapshot.source = target.masked_source();
        snapshot
    })
}

fn connect(
    target: &Target,
    http: HttpTransport,
    options: &Options,
    deadline: Instant,
) -> Result<Box<dyn Transport>, Error> {
    Ok(match target {
        Target::Stdio(spec) => Box::new(stdio::StdioTransport::launch(spec, options)?),
        Target::Http { url, headers, .. } => match http {
            HttpTransport::Sse => {
                Box::new(sse::SseTransport::connect(url, headers, options, deadline)?)
            }
            _ => Box::new(http::StreamableHttp::new(url, headers, options)?),
        },
    })
}

fn inspect_with(
    target: &Target,
    http: HttpTransport,
    options: &Options,
    deadline: Instant,
) -> Result<Snapshot, Error> {
    let mut session = Session::new(connect(target, http, options, deadline)?, options, deadline);
    let mut snapshot = Snapshot {
        transport: Some(session.kind()),
        ..Snapshot::default()
    };
    let outcome = (|| {
        match handshake(&mut session, options) {
            Ok(()) => {}
            // A server of the old era may stop at a request it does not know; start it again.
            Err(err) if err.is_fatal() && options.protocol == Protocol::Auto && session.probed => {
                if matches!(err, Error::Garbage(_) | Error::TooLarge(_)) {
                    return Err(err);
                }
                session.close();
                session =
                    Session::new(connect(target, http, options, deadline)?, options, deadline);
                legacy_handshake(&mut session, options)?;
            }
            Err(err) => return Err(err),
        }
        list_everything(&mut session, &mut snapshot);
        Ok(())
    })();
    snapshot.notes = session.transport_notes();
    session.close();
    outcome?;
    snapshot.protocol_version = session.protocol_version.clone();
    snapshot.server_info = session.server_info.take();
    snapshot.capabilities = session.capabilities.take();
    snapshot.instructions = session.instructions.take();
    snapshot.notifications = session.notifications.clone();
    Ok(snapshot)
}

fn handshake(session: &mut Session, options: &Options) -> Result<(), Error> {
    match options.protocol {
        Protocol::Legacy => legacy_handshake(session, options),
        Protocol::Modern => {
            let result = session.discover(options, options.request_timeout)?;
            modern_from_discover(session, result)
        }
        Protocol::Auto => {
            // A silent old server should not cost the whole request timeout.
            let probe = options.request_timeout.min(Duration::from_secs(5));
            session.probed = true;
            match session.discover(options, probe) {
                Ok(result)
                    if result
                        .get("supportedVersions")
                        .and_then(Value::as_array)
                        .is_some_and(|v| v.iter().any(|v| v == MODERN_VERSION)) =>
                {
                    modern_from_discover(session, result)
                }
                Ok(_) => legacy_handshake(session, options),
                Err(err) if err.is_fatal() => Err(err),
                // Any other error or silence: the server is of the `initialize` era.
                Err(_) => legacy_handshake(session, options),
            }
        }
    }
}

fn modern_from_discover(session: &mut Session, result: Value) -> Result<(), Error> {
    let supported = result
        .get("supportedVersions")
        .and_then(Value::as_array)
        .is_some_and(|v| v.iter().any(|v| v == MODERN_VERSION));
    if !supported {
        return Err(Error::Protocol(format!(
            "the server does not support protocol revision {MODERN_VERSION} (it supports {}); \
             try --protocol legacy",
            result.get("supportedVersions").unwrap_or(&Value::Null)
        )));
    }
    session.set_modern(MODERN_VERSION);
    session.capabilities = Some(result.get("capabilities").cloned().unwrap_or(json!({})));
    session.instructions = result
        .get("instructions")
        .and_then(Value::as_str)
        .map(str::to_owned);
    session.server_info = result
        .get("_meta")
        .and_then(|m| m.get("io.modelcontextprotocol/serverInfo"))
        .cloned();
    Ok(())
}

fn legacy_handshake(session: &mut Session, options: &Options) -> Result<(), Error> {
    let params = json!({
        "protocolVersion": LEGACY_VERSION,
        // A scanner offers nothing: no sampling, roots or elicitation for the server to use.
        "capabilities": {},
        "clientInfo": {"name": options.client_name, "version": options.client_version},
    });
    let result = session.request("initialize", params, options.request_timeout)?;
    let version = result
        .get("protocolVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::Protocol("the server's `initialize` result has no protocolVersion".into())
        })?
        .to_owned();
    session.set_legacy(&version);
    session.capabilities = Some(result.get("capabilities").cloned().unwrap_or(json!({})));
    session.server_info = result.get("serverInfo").cloned();
    session.instructions = result
        .get("instructions")
        .and_then(Value::as_str)
        .map(str::to_owned);
    session.notify("notifications/initialized")?;
    Ok(())
}

/// The capability that announces a list.
fn capability_of(key: &str) -> &str {
    match key {
        "resourceTemplates" => "resources",
        other => other,
    }
}

fn list_everything(session: &mut Session, snapshot: &mut Snapshot) {
    let capabilities = session.capabilities.clone().unwrap_or(json!({}));
    let offered: Vec<(&str, &str)> = LISTS
        .iter()
        .copied()
        .filter(|(key, _)| capabilities.get(capability_of(key)).is_some())
        .collect();
    let announces_changes = offered.iter().any(|(key, _)| {
        capabilities
            .get(capability_of(key))
            .and_then(|c| c.get("listChanged"))
            == Some(&Value::Bool(true))
    });
    // In the 2026-07-28 era a server says its lists changed only on a subscription that asked
    // for it: open one before the first listing, so that a change right after it is heard.
    // (Over HTTP the subscription's answer is a stream this client cannot hold open beside
    // other requests; there a second inspection sees the change instead.)
    let subscription =
        if announces_changes && session.is_modern() && session.kind() == TransportKind::Stdio {
            let filter = json!({
                "toolsListChanged": true,
                "promptsListChanged": true,
                "resourcesListChanged": true,
            });
            match session.listen(filter, Duration::from_secs(2)) {
                Ok(id) => id,
                Err(err) => {
                    snapshot
                        .errors
                        .insert("subscriptions".to_string(), err.to_string());
                    None
                }
            }
        } else {
            None
        };
    for (key, method) in &offered {
        match session.list(method, key) {
            Ok(items) => {
                snapshot.lists.insert(key.to_string(), items);
            }
            Err(err) if err.is_method_not_found() => {}
            Err(err) => {
                snapshot.errors.insert(key.to_string(), err.to_string());
            }
        }
    }
    // A server that changes its lists right after showing them (a rug pull) says so with a
    // `list_changed` notification; give it a moment, then list again what it said changed.
    if announces_changes && snapshot.errors.is_empty() {
        session.drain(Duration::from_millis(500));
    }
    let changed: HashSet<String> = session.notifications.iter().cloned().collect();
    for (key, method) in &offered {
        let notification = format!("notifications/{}/list_changed", capability_of(key));
        let notification = if *key == "resourceTemplates" {
            "notifications/resources/list_changed".to_string()
        } else {
            notification
        };
        if !changed.contains(&notification) {
            continue;
        }
        if let (Ok(again), Some(first)) = (session.list(method, key), snapshot.lists.get(*key))
            && &again != first
        {
            snapshot.relisted.insert(key.to_string(), again);
        }
    }
    if let Some(id) = subscription {
        session.cancel(id);
    }
}
