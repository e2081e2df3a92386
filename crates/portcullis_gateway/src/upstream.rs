//! One HTTP client to a remote streamable-HTTP MCP server, shared by the gateway's two fronts
//! that talk to one: the HTTP front ([`crate::http`], `--listen ADDR --upstream URL`) and the
//! stdio front ([`crate::remote`], `--upstream URL` alone). It sends one exchange (POST, GET
//! or DELETE) with the configured headers (credentials included, never logged), and reads the
//! answer as a whole body under a size cap or as a stream of chunks for SSE.
//!
//! Trade-offs: the client is `ureq` (the TLS stack the binary already has, with the
//! platform's certificate verifier) run on blocking threads, so every exchange in flight, and
//! every open SSE stream, holds a thread. A semaphore bounds them: each exchange takes a slot
//! before its thread starts and gives it back when its body has been read or dropped, so a
//! flood of calls or of server streams waits for a slot (up to the request timeout) instead of
//! growing the thread pool without limit. An async client (hyper's client with a rustls
//! connector) would free the threads, at the price of a second HTTP and TLS stack to keep in
//! step with ureq's for package downloads; the bound makes the blocking design safe enough.
//! Redirects are not followed (a redirect could carry the credentials elsewhere).

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// A remote MCP endpoint and the client that talks to it.
pub struct Remote {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(String, String)>,
    slots: Arc<Semaphore>,
    /// How long an exchange may wait for a free slot.
    wait: Duration,
}

/// What came back from the upstream: status, the headers that matter, and the body reader
/// (which holds the exchange's slot until it is dropped).
pub struct UpResponse {
    pub status: u16,
    pub content_type: String,
    pub session: Option<String>,
    pub reader: Box<dyn Read + Send>,
}

/// A body reader that keeps its exchange's slot while it lives.
struct Held {
    reader: Box<dyn Read + Send>,
    _slot: OwnedSemaphorePermit,
}

impl Read for Held {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf)
    }
}

impl Remote {
    /// A client for `url`, sending `headers` with every exchange. `timeout` bounds the wait
    /// for an answer's head; `max_exchanges` bounds the exchanges (and threads) at once.
    pub fn new(
        url: String,
        headers: Vec<(String, String)>,
        timeout: Duration,
        max_exchanges: usize,
    ) -> Remote {
        Remote {
            agent: ureq::Agent::config_builder()
                .timeout_connect(Some(Duration::from_secs(10)))
                .timeout_recv_response(Some(timeout))
                .max_redirects(0)
                .http_status_as_error(false)
                .user_agent(concat!("portcullis-gateway/", env!("CARGO_PKG_VERSION")))
                .tls_config(
                    ureq::tls::TlsConfig::builder()
                        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                        .build(),
                )
                .build()
                .new_agent(),
            url,
            headers,
            slots: Arc::new(Semaphore::new(max_exchanges.max(1))),
            wait: timeout,
        }
    }

    /// The URL without credentials, query or fragment, for messages.
    pub fn shown_url(&self) -> String {
        mask_url(&self.url)
    }

    /// One exchange with the upstream, on a blocking thread. `Err` says why in words that hold
    /// no header value.
    pub async fn exchange(
        self: &Arc<Self>,
        method: Method,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Result<UpResponse, String> {
        let slot = match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => slot,
            _ => {
                return Err(format!(
                    "too many exchanges with the upstream server {} at once",
                    self.shown_url()
                ));
            }
        };
        let remote = self.clone();
        tokio::task::spawn_blocking(move || remote.exchange_blocking(method, headers, body, slot))
            .await
            .unwrap_or_else(|e| Err(format!("the upstream exchange failed: {e}")))
    }

    fn exchange_blocking(
        &self,
        method: Method,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
        slot: OwnedSemaphorePermit,
    ) -> Result<UpResponse, String> {
        let extra = self.headers.iter().chain(headers.iter());
        let result = match (method, body) {
            (Method::POST, Some(body)) => {
                let mut r = self.agent.post(&self.url);
                for (k, v) in extra {
                    r = r.header(k, v);
                }
                r.send(&body[..])
            }
            (Method::DELETE, _) => {
                let mut r = self.agent.delete(&self.url);
                for (k, v) in extra {
                    r = r.header(k, v);
                }
                r.call()
            }
            _ => {
                let mut r = self.agent.get(&self.url);
                for (k, v) in extra {
                    r = r.header(k, v);
                }
                r.call()
            }
        };
        let response = result.map_err(|e| {
            let why = match e {
                ureq::Error::Timeout(_) => "timed out".to_string(),
                ureq::Error::HostNotFound => "the host name does not resolve".to_string(),
                ureq::Error::ConnectionFailed => "the connection was refused or failed".to_string(),
                ureq::Error::Io(e) => e.to_string(),
                // Not its text: it could quote a header that is not valid HTTP.
                ureq::Error::Http(_) => "a header for it is not valid HTTP".to_string(),
                other => other.to_string(),
            };
            format!(
                "cannot reach the upstream server {}: {why}",
                self.shown_url()
            )
        })?;
        let h = response.headers();
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(UpResponse {
            status: response.status().as_u16(),
            content_type: get("content-type").unwrap_or_default().to_ascii_lowercase(),
            session: get("mcp-session-id"),
            reader: Box::new(Held {
                reader: Box::new(response.into_body().into_reader()),
                _slot: slot,
            }),
        })
    }
}

/// `scheme://host[:port]/path` of a URL: no user, password, query or fragment.
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            format!(
                "{}://{}{}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.port().map(|p| format!(":{p}")).unwrap_or_default()
            ) + u.path()
        }
        Err(_) => "the upstream URL".into(),
    }
}

/// Reads a whole body, at most `max` bytes (`Err` past it).
pub async fn read_all(mut reader: Box<dyn Read + Send>, max: usize) -> Result<Vec<u8>, String> {
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        (&mut reader)
            .take(max as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("cannot read the upstream's answer: {e}"))?;
        if out.len() > max {
            return Err(format!(
                "the upstream's answer is over the gateway's limit of {max} bytes"
            ));
        }
        Ok(out)
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()))
}

/// Pumps a body into chunks on a blocking thread; stops when the receiver goes (at the next
/// chunk) or the body ends.
pub fn pump(mut reader: Box<dyn Read + Send>) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.blocking_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

// ---- SSE ----

#[derive(Debug, Default, PartialEq)]
pub struct Event {
    pub id: Option<String>,
    pub data: String,
}

/// An incremental `text/event-stream` reader: feed chunks, get whole events. A line or event
/// over `max` bytes is dropped (and `overflowed` set), never buffered whole.
pub struct SseParser {
    line: Vec<u8>,
    data: String,
    id: Option<String>,
    pub max: usize,
    skipping: bool,
    pub overflowed: bool,
}

impl SseParser {
    pub fn new(max: usize) -> SseParser {
        SseParser {
            line: Vec::new(),
            data: String::new(),
            id: None,
            max,
            skipping: false,
            overflowed: false,
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        for part in chunk.split_inclusive(|&b| b == b'\n') {
            let complete = part.ends_with(b"\n");
            if !self.skipping {
                if self.line.len() + part.len() > self.max + 2 {
                    self.skipping = true;
                    self.overflowed = true;
                    self.line.clear();
                    self.data.clear();
                } else {
                    self.line.extend_from_slice(part);
                }
            }
            if !complete {
                continue;
            }
            if self.skipping {
                self.skipping = false;
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            if line.is_empty() {
                if !self.data.is_empty() || self.id.is_some() {
                    events.push(Event {
                        id: self.id.take(),
                        data: std::mem::take(&mut self.data),
                    });
                }
                continue;
            }
            let text = String::from_utf8_lossy(&line);
            let (field, value) = match text.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (&*text, ""),
            };
            match field {
                "data" => {
                    if self.data.len() + value.len() > self.max {
                        self.overflowed = true;
                        self.data.clear();
                    } else {
                        if !self.data.is_empty() {
                            self.data.push('\n');
                        }
                        self.data.push_str(value);
                    }
                }
                "id" => self.id = Some(value.to_string()),
                _ => {}
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_across_chunks_and_limits() {
        let mut p = SseParser::new(64);
        assert!(
            p.feed(b"id: 7\r\nevent: message\r\ndata: {\"a\"")
                .is_empty()
        );
        let e = p.feed(b":1}\r\n\r\ndata: x\n");
        assert_eq!(
            e,
            vec![Event {
                id: Some("7".into()),
                data: "{\"a\":1}".into()
            }]
        );
        let e = p.feed(b"data: y\n\n");
        assert_eq!(e[0].data, "x\ny");
        let long = format!("data: {}\n\ndata: ok\n\n", "z".repeat(100));
        let e = p.feed(long.as_bytes());
        assert!(p.overflowed);
        assert_eq!(
            e,
            vec![Event {
                id: None,
                data: "ok".into()
            }]
        );
    }

    #[test]
    fn masked_urls_hold_no_credentials() {
        assert_eq!(
            mask_url("https://user:pw@example.com:8443/mcp?key=secret#x"),
            "https://example.com:8443/mcp"
        );
        assert_eq!(mask_url("not a url"), "the upstream URL");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn slots_bound_the_exchanges() {
        // A port nothing listens on: the exchange fails fast, and gives its slot back.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        drop(listener);
        let remote = Arc::new(Remote::new(url, Vec::new(), Duration::from_millis(300), 1));
        for _ in 0..3 {
            let e = remote
                .exchange(Method::POST, Vec::new(), Some(b"{}".to_vec()))
                .await
                .err()
                .unwrap();
            assert!(e.contains("cannot reach"), "{e}");
        }
        // A slot held (by a live body) makes the next exchange wait, then give up.
        let held = remote.slots.clone().acquire_owned().await.unwrap();
        let e = remote
            .exchange(Method::GET, Vec::new(), None)
            .await
            .err()
            .unwrap();
        assert!(e.contains("too many exchanges"), "{e}");
        drop(held);
    }
}
