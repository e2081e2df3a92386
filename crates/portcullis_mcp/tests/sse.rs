//! The HTTP+SSE transport of the 2024-11-05 revision, against a hand-written server on
//! 127.0.0.1 (rmcp no longer has one): GET opens the event stream, the `endpoint` event names
//! where to POST, answers come on the stream. Also: a URL that refuses POSTs falls back to it.
#![cfg(feature = "client")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis_mcp::client::{self, HttpTransport, Options, Target};
use serde_json::{Value, json};

/// Serves one SSE client; stops when the test ends (the thread is detached, the listener
/// times out).
fn legacy_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stream: Arc<Mutex<Option<TcpStream>>> = Arc::new(Mutex::new(None));
    std::thread::spawn(move || {
        for conn in listener.incoming().take(50) {
            let Ok(mut conn) = conn else { return };
            conn.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            if request_line.starts_with("GET /sse ") {
                conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n\
                      : hello\n\nevent: endpoint\ndata: /messages?session=1\n\n",
                )
                .unwrap();
                *stream.lock().unwrap() = Some(conn);
            } else if request_line.starts_with("POST /messages?session=1 ") {
                conn.write_all(
                    b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .unwrap();
                let message: Value = serde_json::from_slice(&body).unwrap();
                let Some(id) = message.get("id") else {
                    continue;
                };
                let answer = match message["method"].as_str().unwrap() {
                    "initialize" => json!({"jsonrpc": "2.0", "id": id, "result": {
                        "protocolVersion": "2024-11-05",
                        "capabilities": {"tools": {}},
                        "serverInfo": {"name": "old-sse", "version": "0.1"}}}),
                    "tools/list" => json!({"jsonrpc": "2.0", "id": id, "result": {"tools": [
                        {"name": "t", "description": "d", "inputSchema": {"type": "object"},
                         "x-extra": {"hidden": "kept"}}]}}),
                    _ => json!({"jsonrpc": "2.0", "id": id,
                                "error": {"code": -32601, "message": "Method not found"}}),
                };
                if let Some(sse) = stream.lock().unwrap().as_mut() {
                    let _ = sse.write_all(format!("event: message\ndata: {answer}\n\n").as_bytes());
                }
            } else {
                // Not a streamable-HTTP endpoint.
                conn.write_all(
                    b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .unwrap();
            }
        }
    });
    format!("http://{addr}/sse")
}

fn options() -> Options {
    Options {
        total_timeout: Duration::from_secs(20),
        request_timeout: Duration::from_secs(5),
        ..Options::default()
    }
}

#[test]
fn a_legacy_sse_server_is_inspected() {
    for transport in [HttpTransport::Sse, HttpTransport::Auto] {
        let url = legacy_server();
        let target = Target::Http {
            url: url.clone(),
            headers: vec![],
            transport,
        };
        let snapshot = client::inspect(&target, &options()).unwrap();
        assert_eq!(snapshot.transport.unwrap().as_str(), "sse");
        assert_eq!(snapshot.protocol_version.as_deref(), Some("2024-11-05"));
        assert_eq!(snapshot.source, url);
        let tools = snapshot.list("tools").unwrap();
        assert_eq!(tools[0]["x-extra"]["hidden"], "kept");
        assert!(snapshot.list("prompts").is_none());
    }
}
