//! The HTTP+SSE transport of the 2024-11-05 revision (deprecated since, still deployed): a GET
//! opens an event stream, whose first `endpoint` event names the URL to POST messages to; the
//! answers arrive on the stream. rmcp's client dropped this transport, so it is written here.
//!
//! A thread reads the stream into a small bounded channel; the endpoint must be on the same
//! origin as the stream (a server must not send the client's headers elsewhere).

use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::Instant;

use serde_json::Value;

use super::http::{SseReader, agent, check_url, connect_error};
use super::{Error, Options, Transport};
use crate::snapshot::TransportKind;

pub(crate) struct SseTransport {
    post: ureq::Agent,
    endpoint: String,
    headers: Vec<(String, String)>,
    messages: Receiver<Result<Value, Error>>,
    failed: Option<String>,
}

impl SseTransport {
    pub fn connect(
        url: &str,
        headers: &[(String, String)],
        options: &Options,
        deadline: Instant,
    ) -> Result<SseTransport, Error> {
        check_url(url)?;
        // The stream lives as long as the inspection.
        let stream_agent = agent(
            options,
            Some(deadline.saturating_duration_since(Instant::now())),
        );
        let mut request = stream_agent.get(url).header("Accept", "text/event-stream");
        for (k, v) in headers {
            request = request.header(k, v);
        }
        let mut response = request.call().map_err(|e| connect_error(url, e))?;
        let status = response.status().as_u16();
        let is_stream = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/event-stream"));
        if !(200..300).contains(&status) || !is_stream {
            let body = response
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_string()
                .unwrap_or_default();
            return Err(Error::HttpStatus {
                url: crate::mask::mask_url(url),
                status,
                body: if is_stream {
                    body.chars().take(300).collect()
                } else {
                    "not an event stream".into()
                },
            });
        }
        let mut events = SseReader::new(
            response.into_body().into_reader(),
            options.max_message_bytes,
        );
        let (tx, rx) = sync_channel::<Result<Value, Error>>(8);
        let (endpoint_tx, endpoint_rx) = sync_channel::<Result<String, Error>>(1);
        std::thread::spawn(move || {
            let mut endpoint_tx = Some(endpoint_tx);
            loop {
                match events.next_event() {
                    Ok(Some(event)) if event.event == "endpoint" => {
                        if let Some(etx) = endpoint_tx.take() {
                            let _ = etx.send(Ok(event.data));
                        }
                    }
                    Ok(Some(event)) if event.data.trim().is_empty() => {}
                    Ok(Some(event)) => {
                        let message = serde_json::from_str::<Value>(&event.data).map_err(|_| {
                            Error::Protocol(format!(
                                "the server sent an event that is not JSON: `{}`",
                                event.data.chars().take(200).collect::<String>()
                            ))
                        });
                        let failed = message.is_err();
                        if tx.send(message).is_err() || failed {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(err) => {
                        match endpoint_tx.take() {
                            Some(etx) => {
                                let _ = etx.send(Err(err));
                            }
                            None => {
                                let _ = tx.send(Err(err));
                            }
                        }
                        return;
                    }
                }
            }
        });
        let wait = options
            .connect_timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        let endpoint = match endpoint_rx.recv_timeout(wait) {
            Ok(Ok(endpoint)) => endpoint,
            Ok(Err(err)) => return Err(err),
            Err(_) => {
                return Err(Error::Protocol(format!(
                    "{} opened an event stream but sent no `endpoint` event",
                    crate::mask::mask_url(url)
                )));
            }
        };
        let base = url::Url::parse(url).map_err(|e| Error::Protocol(e.to_string()))?;
        let resolved = base
            .join(endpoint.trim())
            .map_err(|e| Error::Protocol(format!("the `endpoint` event is not a URL: {e}")))?;
        if resolved.origin() != base.origin() {
            return Err(Error::Protocol(format!(
                "the server asked for messages at another origin ({}); refusing",
                crate::mask::mask_url(resolved.as_str())
            )));
        }
        Ok(SseTransport {
            post: agent(options, Some(options.request_timeout)),
            endpoint: resolved.into(),
            headers: headers.to_vec(),
            messages: rx,
            failed: None,
        })
    }
}

impl Transport for SseTransport {
    fn send(&mut self, message: &Value) -> Result<(), Error> {
        let mut request = self
            .post
            .post(&self.endpoint)
            .header("Content-Type", "application/json");
        for (k, v) in &self.headers {
            request = request.header(k, v);
        }
        let mut response = request
            .send(message.to_string())
            .map_err(|e| connect_error(&self.endpoint, e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let body = response
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_string()
                .unwrap_or_default();
            return Err(Error::HttpStatus {
                url: crate::mask::mask_url(&self.endpoint),
                status,
                body: body.chars().take(300).collect(),
            });
        }
        Ok(())
    }

    fn recv(&mut self, deadline: Instant) -> Result<Option<Value>, Error> {
        if let Some(failure) = &self.failed {
            return Err(Error::Protocol(failure.clone()));
        }
        match self
            .messages
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(Ok(message)) => Ok(Some(message)),
            Ok(Err(err)) => {
                self.failed = Some(err.to_string());
                Err(err)
            }
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => {
                let err = Error::Protocol("the server closed its event stream".into());
                self.failed = Some(err.to_string());
                Err(err)
            }
        }
    }

    fn kind(&self) -> TransportKind {
        TransportKind::Sse
    }
}
