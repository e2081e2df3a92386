//! JSON-RPC over one transport: numbered requests, answers matched by id, notifications
//! recorded, requests from the server refused.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Error, Options, Transport};
use crate::snapshot::TransportKind;

/// Notification methods remembered, at most.
const MAX_NOTIFICATION_KINDS: usize = 32;

pub(crate) struct Session {
    transport: Box<dyn Transport>,
    next_id: u64,
    deadline: Instant,
    request_timeout: Duration,
    total_timeout: Duration,
    max_pages: usize,
    max_items: usize,
    /// `_meta` sent with every request in the 2026-07-28 era.
    modern_meta: Option<Value>,
    /// Whether `server/discover` was tried (a failure may mean an old server that quit on it).
    pub probed: bool,
    pub protocol_version: Option<String>,
    pub server_info: Option<Value>,
    pub capabilities: Option<Value>,
    pub instructions: Option<String>,
    pub notifications: Vec<String>,
    closed: bool,
}

impl Session {
    pub fn new(transport: Box<dyn Transport>, options: &Options, deadline: Instant) -> Self {
        Session {
            transport,
            next_id: 1,
            deadline,
            request_timeout: options.request_timeout,
            total_timeout: options.total_timeout,
            max_pages: options.max_pages,
            max_items: options.max_items,
            modern_meta: None,
            probed: false,
            protocol_version: None,
            server_info: None,
            capabilities: None,
            instructions: None,
            notifications: Vec::new(),
            closed: false,
        }
    }

    pub fn is_modern(&self) -> bool {
        self.modern_meta.is_some()
    }

    pub fn kind(&self) -> TransportKind {
        self.transport.kind()
    }

    pub fn transport_notes(&self) -> Vec<String> {
        self.transport.notes()
    }

    fn meta(options: &Options, version: &str) -> Value {
        json!({
            "io.modelcontextprotocol/protocolVersion": version,
            "io.modelcontextprotocol/clientInfo": {
                "name": options.client_name,
                "version": options.client_version,
            },
            "io.modelcontextprotocol/clientCapabilities": {},
        })
    }

    /// `server/discover`, as the 2026-07-28 revision asks.
    pub fn discover(&mut self, options: &Options, timeout: Duration) -> Result<Value, Error> {
        let version = super::MODERN_VERSION;
        self.transport.set_protocol_version(version, true);
        let params = json!({"_meta": Self::meta(options, version)});
        let result = self.request("server/discover", params, timeout);
        if result.is_err() {
            self.transport.set_protocol_version("", false);
        }
        if result.is_ok() {
            self.modern_meta = Some(Self::meta(options, version));
        }
        result
    }

    pub fn set_modern(&mut self, version: &str) {
        self.protocol_version = Some(version.to_owned());
        self.transport.set_protocol_version(version, true);
    }

    pub fn set_legacy(&mut self, version: &str) {
        self.modern_meta = None;
        self.protocol_version = Some(version.to_owned());
        self.transport.set_protocol_version(version, false);
    }

    /// Sends a request (with the era's `_meta`) and returns its id.
    fn send_request(&mut self, method: &str, mut params: Value) -> Result<u64, Error> {
        if let (Some(meta), Some(obj)) = (&self.modern_meta, params.as_object_mut()) {
            obj.entry("_meta").or_insert_with(|| meta.clone());
        }
        let id = self.next_id;
        self.next_id += 1;
        self.transport.send(&json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": method,
            "params": params,
        }))?;
        Ok(id)
    }

    /// Opens a 2026-07-28 `subscriptions/listen` stream for the notifications in `filter`
    /// and waits for the server to acknowledge it. Returns the request's id (to cancel it
    /// with), or `None` when the server refused or did not acknowledge within `timeout`.
    pub fn listen(&mut self, filter: Value, timeout: Duration) -> Result<Option<u64>, Error> {
        let id = self.send_request("subscriptions/listen", json!({"notifications": filter}))?;
        let deadline = (Instant::now() + timeout).min(self.deadline);
        while let Some(message) = self.transport.recv(deadline)? {
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return Ok(None); // refused, or ended at once
            }
            let acknowledged = message.get("method").and_then(Value::as_str)
                == Some("notifications/subscriptions/acknowledged");
            self.handle_other(&message);
            if acknowledged {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// Ends a request left open (a subscription), as the client side may at any time.
    pub fn cancel(&mut self, id: u64) {
        let _ = self.transport.send(&json!({
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": id, "reason": "inspection finished"},
        }));
    }

    /// Sends a request and waits for its answer, handling whatever else arrives meanwhile.
    pub fn request(
        &mut self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, Error> {
        let id = self.send_request(method, params)?;
        let deadline = (Instant::now() + timeout).min(self.deadline);
        loop {
            let Some(message) = self.transport.recv(deadline)? else {
                if Instant::now() >= self.deadline {
                    return Err(Error::TotalTimeout {
                        method: method.to_owned(),
                        after: self.total_timeout,
                    });
                }
                return Err(Error::Timeout {
                    method: method.to_owned(),
                    after: timeout,
                });
            };
            if self.handle_other(&message) {
                continue;
            }
            if message.get("id") != Some(&json!(id)) {
                continue; // an answer to an earlier request given up on
            }
            if let Some(error) = message.get("error") {
                return Err(Error::Rpc {
                    method: method.to_owned(),
                    code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                    message: error
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("(no message)")
                        .chars()
                        .take(500)
                        .collect(),
                });
            }
            return message
                .get("result")
                .cloned()
                .ok_or_else(|| Error::Protocol(format!("the answer to `{method}` has no result")));
        }
    }

    /// Notifications and server-to-client requests. Returns whether `message` was one.
    fn handle_other(&mut self, message: &Value) -> bool {
        let Some(method) = message.get("method").and_then(Value::as_str) else {
            return false;
        };
        if let Some(id) = message.get("id") {
            // Sampling, roots, elicitation: a scanner offers none of them.
            let refusal = json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": {"code": -32601, "message": "portcullis only inspects this server"},
            });
            let _ = self.transport.send(&refusal);
        } else if self.notifications.len() < MAX_NOTIFICATION_KINDS
            && !self.notifications.iter().any(|m| m == method)
        {
            self.notifications.push(method.chars().take(200).collect());
        }
        true
    }

    pub fn notify(&mut self, method: &str) -> Result<(), Error> {
        self.transport
            .send(&json!({"jsonrpc": "2.0", "method": method}))
    }

    /// Reads notifications for `wait` (bounded by the inspection's deadline).
    pub fn drain(&mut self, wait: Duration) {
        let deadline = (Instant::now() + wait).min(self.deadline);
        while let Ok(Some(message)) = self.transport.recv(deadline) {
            self.handle_other(&message);
        }
    }

    /// Every page of a list, up to the limits.
    pub fn list(&mut self, method: &str, key: &str) -> Result<Vec<Value>, Error> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..self.max_pages {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let result = self.request(method, params, self.request_timeout)?;
            let page = result.get(key).and_then(Value::as_array).ok_or_else(|| {
                Error::Protocol(format!("the answer to `{method}` has no `{key}` list"))
            })?;
            if items.len() + page.len() > self.max_items {
                return Err(Error::Protocol(format!(
                    "`{method}` lists more than {} items; refusing the rest",
                    self.max_items
                )));
            }
            items.extend(page.iter().cloned());
            match result.get("nextCursor").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    if !seen.insert(next.to_owned()) {
                        return Err(Error::Protocol(format!(
                            "`{method}` gave the cursor `{}` twice; stopping",
                            next.chars().take(100).collect::<String>()
                        )));
                    }
                    cursor = Some(next.to_owned());
                }
                _ => return Ok(items),
            }
        }
        Err(Error::Protocol(format!(
            "`{method}` has more than {} pages; stopping",
            self.max_pages
        )))
    }

    pub fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.transport.close();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}
