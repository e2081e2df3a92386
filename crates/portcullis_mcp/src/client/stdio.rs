//! The stdio transport: a launched, confined server, newline-delimited JSON-RPC on its standard
//! input and output.
//!
//! Two threads read the child: one splits standard output into messages (each at most
//! `max_message_bytes`, anything that is not JSON ends the session with the offending text),
//! one keeps the last few KiB of standard error for error messages. Messages travel through a
//! small bounded channel, so a flooding server blocks on its pipe instead of filling memory.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::confine::{self, Scratch};
use super::{Error, Options, Transport};
use crate::snapshot::TransportKind;

/// Standard error kept for messages, at most.
const STDERR_TAIL: usize = 4096;
/// Messages waiting to be read, at most.
const QUEUE: usize = 8;

/// A server to launch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LaunchSpec {
    pub program: String,
    pub args: Vec<String>,
    /// The environment the user or the configuration gives it, references already resolved.
    pub env: Vec<(String, String)>,
    /// The working folder the configuration names (its `cwd`); `None` runs the server in a
    /// scratch folder.
    pub cwd: Option<std::path::PathBuf>,
}

pub(crate) struct StdioTransport {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Result<Value, Error>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    notes: Vec<String>,
    /// Kept until the server is stopped, then removed.
    scratch: Option<Scratch>,
    failed: Option<String>,
}

impl StdioTransport {
    pub fn launch(spec: &LaunchSpec, options: &Options) -> Result<StdioTransport, Error> {
        let scratch = Scratch::new().map_err(|e| Error::Scratch(e.to_string()))?;
        // A program named by a relative path (`./server`) is the one in the folder the config
        // names, or else in the user's folder, never one in the scratch folder.
        let program = {
            let named = std::path::Path::new(&spec.program);
            let base = spec.cwd.clone().or_else(|| std::env::current_dir().ok());
            match base {
                Some(base) if named.is_relative() && named.components().count() > 1 => {
                    base.join(named).into_os_string()
                }
                _ => spec.program.clone().into(),
            }
        };
        let build = || {
            let mut command = Command::new(&program);
            command
                .args(&spec.args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            confine::prepare(&mut command, &scratch, spec);
            command
        };
        let spawn_error = |e: std::io::Error| Error::Spawn {
            program: spec.program.clone(),
            message: e.to_string(),
        };
        #[cfg(unix)]
        let (child, network_denied) = {
            let plan = confine::Plan::of(&options.confinement);
            let mut command = build();
            confine::apply(&mut command, plan);
            match command.spawn() {
                Ok(child) => (child, plan.new_network),
                Err(e) if plan.new_network && confine::is_namespace_refusal(&e) => {
                    // No unprivileged user namespaces here: launch without, and say so.
                    let mut command = build();
                    confine::apply(
                        &mut command,
                        confine::Plan {
                            new_network: false,
                            ..plan
                        },
                    );
                    (command.spawn().map_err(spawn_error)?, false)
                }
                Err(e) => return Err(spawn_error(e)),
            }
        };
        #[cfg(not(unix))]
        let (child, network_denied) = (build().spawn().map_err(spawn_error)?, false);

        let mut notes = confine::common_notes(spec);
        notes.extend(confine::platform_notes(
            &options.confinement,
            network_denied,
        ));
        let mut child = child;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr_pipe = child.stderr.take();
        let (tx, rx) = sync_channel(QUEUE);
        if let Some(stdout) = stdout {
            let max = options.max_message_bytes;
            std::thread::spawn(move || read_messages(stdout, tx, max));
        }
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(pipe) = stderr_pipe {
            let tail = Arc::clone(&stderr);
            std::thread::spawn(move || keep_tail(pipe, tail));
        }
        Ok(StdioTransport {
            child,
            stdin,
            messages: rx,
            stderr,
            notes,
            scratch: Some(scratch),
            failed: None,
        })
    }

    fn stderr_tail(&self) -> String {
        let bytes = self.stderr.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The exit, once standard output is closed: waits a little for the status.
    fn exited(&mut self) -> Error {
        let until = Instant::now() + Duration::from_secs(1);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status.to_string(),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
                _ => break "closed its standard output".to_string(),
            }
        };
        // Let the stderr thread catch the last words.
        std::thread::sleep(Duration::from_millis(50));
        Error::Exited {
            status,
            stderr: self.stderr_tail(),
        }
    }
}

impl Transport for StdioTransport {
    fn send(&mut self, message: &Value) -> Result<(), Error> {
        let mut line = message.to_string();
        line.push('\n');
        let written = match &mut self.stdin {
            Some(stdin) => stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        match written {
            Ok(()) => Ok(()),
            Err(_) => Err(self.exited()),
        }
    }

    fn recv(&mut self, deadline: Instant) -> Result<Option<Value>, Error> {
        if let Some(failure) = &self.failed {
            return Err(Error::Protocol(failure.clone()));
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(wait) {
            Ok(Ok(message)) => Ok(Some(message)),
            Ok(Err(err)) => {
                self.failed = Some(err.to_string());
                Err(err)
            }
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => {
                let err = self.exited();
                self.failed = Some(err.to_string());
                Err(err)
            }
        }
    }

    fn kind(&self) -> TransportKind {
        TransportKind::Stdio
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn close(&mut self) {
        // Closing standard input is how a stdio server is asked to stop.
        drop(self.stdin.take());
        let stopped = |child: &mut Child, wait: Duration| {
            let until = Instant::now() + wait;
            while Instant::now() < until {
                if let Ok(Some(_)) = child.try_wait() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            false
        };
        let exited = stopped(&mut self.child, Duration::from_millis(500));
        #[cfg(unix)]
        {
            // The group may hold processes the server started, even when it has exited.
            let pid = self.child.id();
            confine::signal_group(pid, false);
            if !exited {
                stopped(&mut self.child, Duration::from_millis(500));
            }
            confine::signal_group(pid, true);
        }
        #[cfg(not(unix))]
        let _ = exited;
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.scratch.take();
    }
}

impl Drop for StdioTransport {
    fn drop(&mut self) {
        if self.scratch.is_some() {
            self.close();
        }
    }
}

/// Splits standard output into JSON messages until it closes or misbehaves.
fn read_messages(mut out: impl Read, tx: SyncSender<Result<Value, Error>>, max: usize) {
    let mut line: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match out.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n') {
            if line.len() + pos > max {
                let _ = tx.send(Err(Error::TooLarge(max)));
                return;
            }
            line.extend_from_slice(&chunk[..pos]);
            chunk = &chunk[pos + 1..];
            let text = std::mem::take(&mut line);
            let trimmed = text.trim_ascii();
            if trimmed.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Value>(trimmed) {
                Ok(message) if message.is_object() => {
                    if tx.send(Ok(message)).is_err() {
                        return;
                    }
                }
                _ => {
                    let shown: String = String::from_utf8_lossy(&trimmed[..trimmed.len().min(200)])
                        .chars()
                        .map(|c| if c.is_control() { '?' } else { c })
                        .collect();
                    let _ = tx.send(Err(Error::Garbage(shown)));
                    return;
                }
            }
        }
        if line.len() + chunk.len() > max {
            let _ = tx.send(Err(Error::TooLarge(max)));
            return;
        }
        line.extend_from_slice(chunk);
    }
}

/// Keeps the last [`STDERR_TAIL`] bytes of standard error.
fn keep_tail(mut err: impl Read, tail: Arc<Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 4096];
    loop {
        let n = match err.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if let Ok(mut tail) = tail.lock() {
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > STDERR_TAIL {
                let cut = tail.len() - STDERR_TAIL;
                tail.drain(..cut);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], max: usize) -> Vec<Result<Value, String>> {
        let (tx, rx) = sync_channel(100);
        read_messages(input, tx, max);
        rx.try_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn messages_split_on_newlines_and_blank_lines_are_skipped() {
        let got = read_all(b"{\"a\":1}\n\n{\"b\":2}\r\n{\"c\"", 1000);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].as_ref().unwrap()["b"], 2);
    }

    #[test]
    fn garbage_and_huge_lines_end_the_stream() {
        let got = read_all(b"hello\x1b[0m world\n{\"a\":1}\n", 1000);
        assert_eq!(got.len(), 1);
        assert!(got[0].as_ref().unwrap_err().contains("`hello?[0m world`"));
        let huge = vec![b'x'; 5000];
        let got = read_all(&huge, 1000);
        assert_eq!(got.len(), 1);
        assert!(got[0].as_ref().unwrap_err().contains("larger than"));
    }
}
