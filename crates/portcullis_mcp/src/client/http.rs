//! Streamable HTTP: each message is a POST; the answer comes back as JSON or as an SSE stream.
//!
//! Redirects are not followed (a token must not travel to wherever a server points), bodies and
//! events are read up to `max_message_bytes`, and each POST is bounded by the request timeout.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Error, Options, Transport};
use crate::snapshot::TransportKind;

pub(crate) fn agent(options: &Options, global: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(options.connect_timeout))
        .timeout_global(global)
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        )
        .build()
        .new_agent()
}

pub(crate) fn connect_error(url: &str, err: ureq::Error) -> Error {
    let message = match err {
        ureq::Error::Timeout(_) => "timed out".to_string(),
        ureq::Error::HostNotFound => "the host name does not resolve".to_string(),
        ureq::Error::ConnectionFailed => "the connection was refused or failed".to_string(),
        ureq::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    };
    Error::Connect {
        url: crate::mask::mask_url(url),
        message,
    }
}

pub(crate) struct StreamableHttp {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(String, String)>,
    session_id: Option<String>,
    protocol_version: Option<String>,
    modern: bool,
    max_bytes: usize,
    request_timeout: Duration,
    queue: VecDeque<Value>,
}

impl StreamableHttp {
    pub fn new(
        url: &str,
        headers: &[(String, String)],
        options: &Options,
    ) -> Result<StreamableHttp, Error> {
        check_url(url)?;
        Ok(StreamableHttp {
            agent: agent(options, Some(options.request_timeout)),
            url: url.to_owned(),
            headers: headers.to_vec(),
            session_id: None,
            protocol_version: None,
            modern: false,
            max_bytes: options.max_message_bytes,
            request_timeout: options.request_timeout,
            queue: VecDeque::new(),
        })
    }
}

pub(crate) fn check_url(url: &str) -> Result<(), Error> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(Error::Connect {
            url: crate::mask::mask_url(url),
            message: "not an http:// or https:// URL".into(),
        }),
    }
}

impl Transport for StreamableHttp {
    fn send(&mut self, message: &Value) -> Result<(), Error> {
        let method = message
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream");
        for (k, v) in &self.headers {
            request = request.header(k, v);
        }
        if let Some(version) = &self.protocol_version {
            request = request.header("MCP-Protocol-Version", version);
        }
        if self.modern && !method.is_empty() {
            request = request.header("Mcp-Method", method);
        }
        if let Some(id) = &self.session_id {
            request = request.header("Mcp-Session-Id", id);
        }
        let mut response = request.send(message.to_string()).map_err(|e| match e {
            ureq::Error::Timeout(_) => Error::Timeout {
                method: method.to_owned(),
                after: self.request_timeout,
            },
            e => connect_error(&self.url, e),
        })?;
        let status = response.status().as_u16();
        if let Some(id) = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
        {
            self.session_id = Some(id.to_owned());
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !(200..300).contains(&status) {
            let body = response
                .body_mut()
                .with_config()
                .limit(64 * 1024)
                .read_to_string()
                .unwrap_or_default();
            // A JSON-RPC error in the body is the server's answer, whatever the status.
            if let Ok(value) = serde_json::from_str::<Value>(&body)
                && value.get("error").is_some()
                && value.get("id").is_some_and(|id| !id.is_null())
            {
                self.queue.push_back(value);
                return Ok(());
            }
            let body: String = body.chars().take(300).collect();
            return Err(Error::HttpStatus {
                url: crate::mask::mask_url(&self.url),
                status,
                body,
            });
        }
        if status == 202 || message.get("id").is_none() {
            return Ok(());
        }
        let id = message.get("id").cloned();
        let reader = response.into_body().into_reader();
        if content_type.starts_with("text/event-stream") {
            let mut events = SseReader::new(reader, self.max_bytes);
            while let Some(event) = events.next_event()? {
                if event.data.trim().is_empty() {
                    continue;
                }
                let value: Value = serde_json::from_str(&event.data).map_err(|_| {
                    Error::Protocol(format!(
                        "the server sent an event that is not JSON: `{}`",
                        event.data.chars().take(200).collect::<String>()
                    ))
                })?;
                let answered = value.get("id") == id.as_ref() && value.get("method").is_none();
                self.queue.push_back(value);
                if answered {
                    break;
                }
            }
        } else {
            let mut body = Vec::new();
            reader
                .take(self.max_bytes as u64 + 1)
                .read_to_end(&mut body)
                .map_err(|e| Error::Protocol(format!("cannot read the answer: {e}")))?;
            if body.len() > self.max_bytes {
                return Err(Error::TooLarge(self.max_bytes));
            }
            let value: Value = serde_json::from_slice(&body).map_err(|_| {
                Error::Protocol(format!(
                    "the server's answer is not JSON: `{}`",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                ))
            })?;
            match value {
                Value::Array(items) => self.queue.extend(items),
                other => self.queue.push_back(other),
            }
        }
        Ok(())
    }

    fn recv(&mut self, _deadline: Instant) -> Result<Option<Value>, Error> {
        match self.queue.pop_front() {
            Some(v) => Ok(Some(v)),
            // The POST is over: nothing more will come for it.
            None => Err(Error::Protocol(
                "the server ended its HTTP answer without a JSON-RPC response".into(),
            )),
        }
    }

    fn kind(&self) -> TransportKind {
        TransportKind::StreamableHttp
    }

    fn set_protocol_version(&mut self, version: &str, modern: bool) {
        self.protocol_version = (!version.is_empty()).then(|| version.to_owned());
        self.modern = modern;
        if modern {
            self.session_id = None;
        }
    }

    fn close(&mut self) {
        if let Some(id) = self.session_id.take() {
            // Ends the session on the server; best effort.
            let mut request = self.agent.delete(&self.url).header("Mcp-Session-Id", &id);
            for (k, v) in &self.headers {
                request = request.header(k, v);
            }
            let _ = request.call();
        }
    }
}

/// One server-sent event.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Event {
    pub event: String,
    pub data: String,
}

/// Reads server-sent events, each at most `max` bytes.
pub(crate) struct SseReader<R> {
    reader: BufReader<R>,
    max: usize,
}

impl<R: Read> SseReader<R> {
    pub fn new(reader: R, max: usize) -> Self {
        SseReader {
            reader: BufReader::new(reader),
            max,
        }
    }

    /// The next event, or `None` at the end of the stream.
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        let mut event = Event::default();
        let mut size = 0usize;
        let mut any = false;
        loop {
            let mut line = Vec::new();
            let n = (&mut self.reader)
                .take((self.max - size.min(self.max)) as u64 + 2)
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::Protocol(format!("the event stream broke: {e}")))?;
            if n == 0 {
                return Ok(any.then_some(event));
            }
            size += n;
            if size > self.max {
                return Err(Error::TooLarge(self.max));
            }
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if any {
                    return Ok(Some(event));
                }
                continue;
            }
            any = true;
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "event" => event.event = value.to_owned(),
                "data" => {
                    if !event.data.is_empty() {
                        event.data.push('\n');
                    }
                    event.data.push_str(value);
                }
                _ => {} // comments (`: keep-alive`), `id`, `retry`
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_parsed_and_bounded() {
        let text =
            b": comment\n\nevent: endpoint\ndata: /messages?s=1\n\ndata: {\"a\":\ndata: 1}\n\n";
        let mut r = SseReader::new(&text[..], 1000);
        assert_eq!(r.next_event().unwrap().unwrap().event, "");
        let e = r.next_event().unwrap().unwrap();
        assert_eq!(
            (e.event.as_str(), e.data.as_str()),
            ("endpoint", "/messages?s=1")
        );
        assert_eq!(r.next_event().unwrap().unwrap().data, "{\"a\":\n1}");
        assert_eq!(r.next_event().unwrap(), None);
        let big = format!("data: {}\n\n", "x".repeat(5000));
        let mut r = SseReader::new(big.as_bytes(), 1000);
        assert!(matches!(r.next_event(), Err(Error::TooLarge(1000))));
    }
}
