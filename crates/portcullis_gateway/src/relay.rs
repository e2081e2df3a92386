//! The stdio relay: the client starts the gateway, the gateway starts the server, and
//! newline-delimited JSON-RPC flows both ways through it. Every decision is the judge's
//! ([`crate::judge`]); this module only moves lines.
//!
//! One task reads the client and judges each message in order (so nothing is reordered), one
//! reads the server, and one writer per direction owns each pipe (so lines never interleave).
//! Requests stay in flight concurrently; a call held while the user is asked (`action =
//! "ask"`) waits in a task of its own, so the client loop keeps reading (the answer comes that
//! way) and other calls keep flowing. A batch the gateway answers in part, or that holds such a
//! call, is answered with one array once every answer is in ([`crate::batch`]). Reads are bounded by the message size cap, so a
//! hostile peer costs at most that much memory per message. When the server exits, hangs past
//! the request timeout, or the gateway is stopped, every pending request gets a JSON-RPC error
//! and the server is stopped with every process it started ([`crate::child`]).

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::mpsc;

use crate::batch::Batches;
use crate::child::{ServerProcess, SpawnError};
use crate::judge::{Engine, EngineOptions, Forward, Session, to_line, warn};

pub use crate::judge::{GATEWAY_ERROR, REFUSED};

pub struct GatewayOptions {
    /// The server's name, matched against the policy's `[[server]] name` globs.
    pub server_name: String,
    /// The server command and its arguments.
    pub command: Vec<OsString>,
    pub policy: crate::Policy,
    pub audit: crate::AuditLog,
    pub pins: crate::audit::PinStore,
    /// Accept changed tool definitions as the new pins.
    pub accept_changes: bool,
    /// Overrides the policy's `max_in_flight`.
    pub max_in_flight: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    #[error("cannot start the gateway's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
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

pub(crate) enum ToServer {
    Line(Vec<u8>),
    Close,
}

struct Pipes {
    session: Session,
    to_client: mpsc::Sender<Vec<u8>>,
    to_server: mpsc::Sender<ToServer>,
    /// The client's batches whose answers are being gathered.
    batches: Batches,
}

impl Pipes {
    /// Sends a message to the client, or keeps it for the batch it answers.
    async fn client(&self, value: &serde_json::Value) {
        if self.batches.any() {
            for msg in self.batches.route(value.clone()) {
                let _ = self.to_client.send(to_line(&msg)).await;
            }
            return;
        }
        let _ = self.to_client.send(to_line(value)).await;
    }

    /// Sends the server's line to the client as it came, unless a batch is gathering.
    async fn client_raw(&self, line: Vec<u8>) {
        if self.batches.any()
            && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&line)
        {
            return self.client(&value).await;
        }
        let _ = self.to_client.send(line).await;
    }

    async fn server(&self, value: &serde_json::Value) {
        let _ = self.to_server.send(ToServer::Line(to_line(value))).await;
    }
}

async fn relay(options: GatewayOptions) -> Result<i32, RelayError> {
    // Whatever the server orphans (a `setsid` helper, a daemon) comes back to the gateway.
    crate::family::adopt_orphans();
    let reaper = tokio::spawn(crate::family::reap_forever());
    let (mut process, child_in, child_out) = ServerProcess::spawn(&options.command)?;
    let engine = Engine::new(EngineOptions {
        server_name: options.server_name,
        policy: options.policy,
        audit: options.audit,
        pins: options.pins,
        accept_changes: options.accept_changes,
        max_in_flight: options.max_in_flight,
    });
    let (to_client, client_rx) = mpsc::channel::<Vec<u8>>(1024);
    let (to_server, server_rx) = mpsc::channel::<ToServer>(1024);
    let pipes = Arc::new(Pipes {
        session: engine.session(),
        to_client,
        to_server,
        batches: Batches::default(),
    });

    let client_writer = tokio::spawn(write_lines(client_rx, tokio::io::stdout()));
    let server_writer = tokio::spawn(write_server(server_rx, child_in));
    let mut client_task = tokio::spawn(client_loop(pipes.clone()));
    let mut server_task = tokio::spawn(server_loop(pipes.clone(), child_out));
    let sweeper = tokio::spawn(sweep_timeouts(pipes.clone()));

    let code = tokio::select! {
        _ = &mut client_task => {
            // The client closed its input: close the server's, let it answer what it has, and
            // stop it if it does not exit by itself.
            let _ = pipes.to_server.send(ToServer::Close).await;
            let grace = tokio::time::sleep(Duration::from_secs(5));
            tokio::select! {
                _ = &mut server_task => {}
                _ = process.exited() => {
                    // What it wrote before exiting is still in the pipe; a child it left
                    // may hold the pipe open, so do not wait for the end of it for long.
                    let _ = tokio::time::timeout(Duration::from_millis(500), &mut server_task).await;
                }
                _ = grace => {}
            }
            fail_pending(&pipes, "the client closed the connection").await;
            0
        }
        _ = &mut server_task => {
            let why = match process.wait_for(Duration::from_secs(2)).await {
                Some(s) => format!("the server exited ({s}) before answering"),
                None => "the server closed its output before answering".to_string(),
            };
            warn(&why);
            fail_pending(&pipes, &why).await;
            1
        }
        status = process.exited() => {
            // The server is gone but something it started may hold its output open: stop
            // the group, then read what the server wrote before it exited.
            process.kill_group();
            let _ = tokio::time::timeout(Duration::from_secs(2), &mut server_task).await;
            let why = match status {
                Some(s) => format!("the server exited ({s}) before answering"),
                None => "the server exited before answering".to_string(),
            };
            warn(&why);
            fail_pending(&pipes, &why).await;
            1
        }
        signal = stop_signal() => {
            fail_pending(&pipes, "the gateway was stopped").await;
            128 + signal
        }
    };
    sweeper.abort();
    client_task.abort();
    server_task.abort();
    // Batches still waiting for an answer go out with what they have.
    for batch in pipes.batches.drain() {
        let _ = pipes.to_client.send(to_line(&batch)).await;
    }
    // The server, and every process it started, goes with the gateway.
    process.stop(Duration::from_secs(1)).await;
    crate::family::stop_all(Duration::from_secs(1)).await;
    reaper.abort();
    drop(pipes);
    server_writer.abort();
    // Every sender is gone once the tasks holding the pipes are: the writer drains and ends.
    let _ = tokio::time::timeout(Duration::from_secs(2), client_writer).await;
    Ok(code)
}

#[cfg(unix)]
pub(crate) async fn stop_signal() -> i32 {
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
pub(crate) async fn stop_signal() -> i32 {
    let _ = tokio::signal::ctrl_c().await;
    2
}

pub(crate) async fn write_lines<W: tokio::io::AsyncWrite + Unpin>(
    mut rx: mpsc::Receiver<Vec<u8>>,
    out: W,
) {
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

pub(crate) async fn write_server(
    mut rx: mpsc::Receiver<ToServer>,
    input: tokio::process::ChildStdin,
) {
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

pub(crate) enum LineRead {
    Line,
    TooLong(usize),
    Eof,
}

/// Reads one line into `buf` (without its end), keeping at most `max` bytes: a longer line is
/// consumed and discarded, and reported with its length.
pub(crate) async fn read_line_limited<R: AsyncBufRead + Unpin>(
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

async fn client_loop(pipes: Arc<Pipes>) {
    let mut reader = BufReader::with_capacity(1 << 16, tokio::io::stdin());
    let mut buf = Vec::new();
    let engine = pipes.session.engine().clone();
    loop {
        match read_line_limited(&mut reader, &mut buf, engine.max_message()).await {
            Ok(LineRead::Eof) | Err(_) => return,
            Ok(LineRead::TooLong(n)) => pipes.client(&engine.too_long_from_client(n)).await,
            Ok(LineRead::Line) => {
                let mut out = pipes.session.client_message(&buf).await;
                // A batch answered in part here, or holding a call: its answers are gathered
                // before any can come back (so before the rest goes to the server).
                let gathered = if buf.trim_ascii_start().starts_with(b"[")
                    && (out.to_client.is_some() || !out.asks.is_empty())
                {
                    let answers = match out.to_client.take() {
                        Some(serde_json::Value::Array(items)) => items,
                        Some(v) => vec![v],
                        None => Vec::new(),
                    };
                    let mut keys = out.forwarded.clone();
                    keys.extend(out.asks.iter().map(|a| a.call_key()));
                    pipes.batches.open(answers, keys)
                } else {
                    Vec::new()
                };
                match out.to_server {
                    Some(Forward::Unchanged) => {
                        let _ = pipes.to_server.send(ToServer::Line(buf.clone())).await;
                    }
                    Some(Forward::Changed(v)) => pipes.server(&v).await,
                    None => {}
                }
                for batch in gathered {
                    let _ = pipes.to_client.send(to_line(&batch)).await;
                }
                if let Some(reply) = out.to_client {
                    pipes.client(&reply).await;
                }
                for ask in out.asks {
                    pipes.client(&ask.request).await;
                    let pipes = pipes.clone();
                    tokio::spawn(async move {
                        let outcome = pipes.session.await_ask(ask).await;
                        if let Some(call) = &outcome.to_server {
                            pipes.server(call).await;
                        }
                        for msg in &outcome.to_client {
                            pipes.client(msg).await;
                        }
                    });
                }
            }
        }
    }
}

// ---- server to client ----

async fn server_loop(pipes: Arc<Pipes>, out: tokio::process::ChildStdout) {
    let mut reader = BufReader::with_capacity(1 << 16, out);
    let mut buf = Vec::new();
    let engine = pipes.session.engine().clone();
    loop {
        match read_line_limited(&mut reader, &mut buf, engine.max_message()).await {
            Ok(LineRead::Eof) | Err(_) => return,
            Ok(LineRead::TooLong(n)) => engine.too_long_from_server(n),
            Ok(LineRead::Line) => {
                let out = pipes.session.server_message(&buf);
                for msg in &out.to_server {
                    pipes.server(msg).await;
                }
                match out.to_client {
                    Some(Forward::Unchanged) => pipes.client_raw(buf.clone()).await,
                    Some(Forward::Changed(v)) => pipes.client(&v).await,
                    None => {}
                }
            }
        }
    }
}

// ---- failures ----

async fn sweep_timeouts(pipes: Arc<Pipes>) {
    let timeout = pipes.session.engine().timeout();
    let tick = (timeout / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        let (to_client, to_server) = pipes.session.expire();
        for cancel in &to_server {
            let _ = pipes.to_server.try_send(ToServer::Line(to_line(cancel)));
        }
        for reply in &to_client {
            pipes.client(reply).await;
        }
    }
}

async fn fail_pending(pipes: &Pipes, why: &str) {
    for reply in pipes.session.fail_all(why) {
        pipes.client(&reply).await;
    }
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
