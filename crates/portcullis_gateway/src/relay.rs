//! The stdio relay: the client starts the gateway, the gateway starts the server, and
//! newline-delimited JSON-RPC flows both ways through it. Every decision is the judge's
//! ([`crate::judge`]); this module only moves lines.
//!
//! One task reads the client and judges each message in order (so nothing is reordered), one
//! reads the server, and one writer per direction owns each pipe (so lines never interleave).
//! Requests stay in flight concurrently; a call held while the user is asked (`action =
//! "ask"`) waits in a task of its own, so the client loop keeps reading (the answer comes that
//! way) and other calls keep flowing. A batch the gateway answers in part, or that holds such a
//! call, is answered with one array once every answer is in ([`crate::batch`]). Reads are
//! bounded by the message size cap, so a hostile peer costs at most that much memory per
//! message. When the server exits, hangs past
//! the request timeout, or the gateway is stopped, every pending request gets a JSON-RPC error
//! and the server is stopped with every process it started ([`crate::child`]).
//!
//! The server's messages are judged in order on its read loop, but the content checks of a
//! large response (redaction, injected instructions) run on worker threads, and
//! `forward_in_order` keeps the server's order towards the client: only a response may pass
//! a response still being checked. The gateway's own standard input and output are polled on
//! the runtime when they are pipes or sockets (`stdio.rs`), with no thread hand-off per line.

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::mpsc;

use crate::batch::Batches;
use crate::child::{ServerProcess, SpawnError};
use crate::judge::{Engine, EngineOptions, Forward, Session, Vetting, to_line, warn};

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
    // Standard input read on the blocking pool (a terminal, a file: see stdio.rs) holds a
    // thread that cannot be interrupted: do not wait for it.
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

    let client_writer = tokio::spawn(write_lines(client_rx, crate::stdio::stdout()));
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
    let mut reader = BufReader::with_capacity(1 << 16, crate::stdio::stdin());
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

/// At most this many messages from the server wait for their turn to go to the client...
const MAX_WAITING: usize = 1024;
/// ...and at most this many bytes of them (one message is always taken, whatever its size).
const MAX_WAITING_BYTES: usize = 64 << 20;

/// A message from the server, judged, on its way to the client.
enum Incoming {
    Ready {
        response: bool,
        line: Vec<u8>,
    },
    /// A large response whose content checks are still to run ([`crate::judge::Vetting`]).
    Vet {
        raw: Vec<u8>,
        vetting: Box<Vetting>,
    },
}

/// Reads the server, judges each message in order (the session's state follows the stream),
/// and hands the outcome to [`forward_in_order`]; returns once all of it went to the client.
async fn server_loop(pipes: Arc<Pipes>, out: tokio::process::ChildStdout) {
    let (tx, rx) = mpsc::channel(256);
    let mut forwarder = AbortOnDrop(tokio::spawn(forward_in_order(rx, pipes.clone())));
    read_server(&pipes, out, tx).await;
    let _ = (&mut forwarder.0).await;
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn read_server(pipes: &Pipes, out: tokio::process::ChildStdout, tx: mpsc::Sender<Incoming>) {
    let mut reader = BufReader::with_capacity(1 << 16, out);
    let mut buf = Vec::new();
    let engine = pipes.session.engine().clone();
    loop {
        match read_line_limited(&mut reader, &mut buf, engine.max_message()).await {
            Ok(LineRead::Eof) | Err(_) => return,
            Ok(LineRead::TooLong(n)) => engine.too_long_from_server(n),
            Ok(LineRead::Line) => {
                let out = pipes.session.server_message_deferred(&buf);
                for msg in &out.to_server {
                    pipes.server(msg).await;
                }
                let response = out.is_response;
                let incoming = match (out.vetting, out.to_client) {
                    (Some(vetting), _) => Incoming::Vet {
                        raw: buf.clone(),
                        vetting: Box::new(vetting),
                    },
                    (None, Some(Forward::Unchanged)) => Incoming::Ready {
                        response,
                        line: buf.clone(),
                    },
                    (None, Some(Forward::Changed(v))) => Incoming::Ready {
                        response,
                        line: to_line(&v),
                    },
                    (None, None) => continue,
                };
                if tx.send(incoming).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// One message in [`forward_in_order`]'s queue.
struct Slot {
    response: bool,
    bytes: usize,
    state: SlotState,
}

enum SlotState {
    /// To send (`None`: nothing, the checks dropped it).
    Ready(Option<Vec<u8>>),
    /// Waiting for a worker.
    Queued { raw: Vec<u8>, vetting: Box<Vetting> },
    /// Being checked by the worker with this task id; the request id answers a worker that
    /// failed.
    Running(tokio::task::Id, serde_json::Value),
}

/// Sends the server's messages to the client in the order the server sent them, while the
/// content checks of large responses run on worker threads, so one large response does not
/// stall the runtime (the client's requests, the timeouts) nor the reading of the server.
///
/// The one exception to the order: a response may pass responses still being checked, and
/// only those. JSON-RPC lets responses to different requests arrive in any order, so a small
/// answer need not wait for a large one. A notification or a server request never passes
/// anything, and nothing passes it: progress for a request, a `list_changed`, a sampling
/// request keep their place relative to every response around them (so no progress
/// notification can arrive after its request's response).
async fn forward_in_order(mut rx: mpsc::Receiver<Incoming>, pipes: Arc<Pipes>) {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    let mut queue: std::collections::VecDeque<Slot> = std::collections::VecDeque::new();
    let mut jobs: tokio::task::JoinSet<Option<Vec<u8>>> = tokio::task::JoinSet::new();
    let mut waiting_bytes = 0usize;
    let mut open = true;
    loop {
        start_checks(&mut queue, &mut jobs, workers);
        for line in take_sendable(&mut queue, &mut waiting_bytes) {
            // Through the batches being gathered, if any (an answer may belong to one).
            pipes.client_raw(line).await;
        }
        if pipes.to_client.is_closed() {
            return;
        }
        if !open && queue.is_empty() {
            return;
        }
        let room =
            queue.is_empty() || (queue.len() < MAX_WAITING && waiting_bytes < MAX_WAITING_BYTES);
        tokio::select! {
            incoming = rx.recv(), if open && room => match incoming {
                Some(incoming) => {
                    let slot = match incoming {
                        Incoming::Ready { response, line } => Slot {
                            response,
                            bytes: line.len(),
                            state: SlotState::Ready(Some(line)),
                        },
                        Incoming::Vet { raw, vetting } => Slot {
                            response: true,
                            bytes: raw.len(),
                            state: SlotState::Queued { raw, vetting },
                        },
                    };
                    waiting_bytes += slot.bytes;
                    queue.push_back(slot);
                }
                None => open = false,
            },
            Some(done) = jobs.join_next_with_id(), if !jobs.is_empty() => {
                let (id, line) = match done {
                    Ok((id, line)) => (id, line),
                    Err(e) => (e.id(), None),
                };
                for slot in queue.iter_mut() {
                    if let SlotState::Running(running, request) = &slot.state
                        && *running == id
                    {
                        let line = match line {
                            Some(line) => line,
                            // The checks failed (a bug, not the input): fail closed.
                            None => to_line(&crate::judge::error_response(
                                request.clone(),
                                GATEWAY_ERROR,
                                "portcullis could not check the response (an internal error); it was not forwarded".into(),
                                None,
                            )),
                        };
                        slot.state = SlotState::Ready(Some(line));
                        break;
                    }
                }
            },
        }
    }
}

/// Starts the queued checks, oldest first, while fewer than `workers` run.
fn start_checks(
    queue: &mut std::collections::VecDeque<Slot>,
    jobs: &mut tokio::task::JoinSet<Option<Vec<u8>>>,
    workers: usize,
) {
    for slot in queue.iter_mut() {
        if jobs.len() >= workers {
            return;
        }
        if !matches!(slot.state, SlotState::Queued { .. }) {
            continue;
        }
        let placeholder = SlotState::Ready(None);
        let SlotState::Queued { raw, vetting } = std::mem::replace(&mut slot.state, placeholder)
        else {
            continue;
        };
        let request = vetting.request_id().clone();
        let handle = jobs.spawn_blocking(move || match vetting.run() {
            Some(Forward::Unchanged) => Some(raw),
            Some(Forward::Changed(v)) => Some(to_line(&v)),
            None => None,
        });
        slot.state = SlotState::Running(handle.id(), request);
    }
}

/// Takes, in order, what may go to the client now (see [`forward_in_order`]).
fn take_sendable(
    queue: &mut std::collections::VecDeque<Slot>,
    waiting_bytes: &mut usize,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < queue.len() {
        let slot = &queue[i];
        let ready = matches!(slot.state, SlotState::Ready(_));
        // Everything before a later slot is a response being checked, or it would have gone.
        if ready && (i == 0 || slot.response) {
            if let Some(slot) = queue.remove(i) {
                *waiting_bytes -= slot.bytes;
                if let SlotState::Ready(Some(line)) = slot.state {
                    out.push(line);
                }
            }
            continue;
        }
        if !slot.response {
            // Waits for what is before it, and so does everything after it.
            break;
        }
        i += 1;
    }
    out
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

    /// Slots for [`take_sendable`]: `R`/`N` a ready response/notification, `r` a response
    /// being checked.
    fn slots(spec: &str, ids: &mut Vec<tokio::task::Id>) -> std::collections::VecDeque<Slot> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        spec.chars()
            .enumerate()
            .map(|(i, c)| {
                let line = format!("{c}{i}").into_bytes();
                let state = if c == 'r' {
                    let id = rt.spawn(async {}).id();
                    ids.push(id);
                    SlotState::Running(id, serde_json::Value::from(i))
                } else {
                    SlotState::Ready(Some(line))
                };
                Slot {
                    response: c != 'N',
                    bytes: 1,
                    state,
                }
            })
            .collect()
    }

    fn sent(lines: Vec<Vec<u8>>) -> Vec<String> {
        lines
            .into_iter()
            .map(|l| String::from_utf8(l).unwrap())
            .collect()
    }

    #[test]
    fn only_responses_pass_responses_being_checked() {
        let mut ids = Vec::new();
        let mut q = slots("rRNRrR", &mut ids);
        let mut bytes = q.len();
        // R1 passes r0; N2 waits for r0, and R3 and R5 wait behind N2.
        assert_eq!(sent(take_sendable(&mut q, &mut bytes)), ["R1"]);
        assert_eq!(q.len(), 5);
        // r0 done: it goes, then N2 and R3; R5 passes r4.
        q[0].state = SlotState::Ready(Some(b"R0".to_vec()));
        assert_eq!(
            sent(take_sendable(&mut q, &mut bytes)),
            ["R0", "N2", "R3", "R5"]
        );
        assert_eq!(q.len(), 1);
        assert_eq!(bytes, 1);
        // A check that dropped its response sends nothing and holds nothing up.
        q[0].state = SlotState::Ready(None);
        assert!(take_sendable(&mut q, &mut bytes).is_empty());
        assert!(q.is_empty());

        let mut q = slots("rrRN", &mut ids);
        let mut bytes = q.len();
        assert_eq!(sent(take_sendable(&mut q, &mut bytes)), ["R2"]);
        // The notification waits for both checks, in order.
        q[1].state = SlotState::Ready(Some(b"R1".to_vec()));
        assert_eq!(sent(take_sendable(&mut q, &mut bytes)), ["R1"]);
        q[0].state = SlotState::Ready(Some(b"R0".to_vec()));
        assert_eq!(sent(take_sendable(&mut q, &mut bytes)), ["R0", "N3"]);
    }

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
