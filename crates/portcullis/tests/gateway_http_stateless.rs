//! `portcullis gateway --listen 127.0.0.1:0 -- testserver` serving clients of the 2026-07-28
//! (stateless) era: no `initialize`, no session; every request carries the era's `_meta` and
//! the `Mcp-Method`/`Mcp-Name`/`MCP-Protocol-Version` headers. Requests are written by hand so
//! the tests control every header. Every server has a bounded lifetime and every wait a
//! deadline.

use std::time::{Duration, Instant};

#[path = "support/cli.rs"]
mod cli;
#[path = "support/http.rs"]
mod http;
mod support;

use cli::{records, refused, text_of, write_policy};
use http::{EventStream, HttpGateway, Reply, WAIT};
use serde_json::{Value, json};
use support::{http_testserver, testserver};
use tempfile::TempDir;

const VERSION: &str = "2026-07-28";

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "stateless-test", "version": "1"},
    })
}

/// A request of the era: `_meta` added to `params`.
fn request(id: Value, method: &str, mut params: Value) -> Value {
    params["_meta"] = meta();
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// The era's headers for `message`: Mcp-Method, Mcp-Name where one applies, the version.
fn headers_for(message: &Value) -> Vec<(String, String)> {
    let method = message["method"].as_str().unwrap().to_string();
    let mut h = vec![
        ("Mcp-Method".to_string(), method.clone()),
        ("MCP-Protocol-Version".to_string(), VERSION.to_string()),
    ];
    let name = match method.as_str() {
        "tools/call" | "prompts/get" => message["params"]["name"].as_str(),
        "resources/read" => message["params"]["uri"].as_str(),
        _ => None,
    };
    if let Some(n) = name {
        h.push(("Mcp-Name".to_string(), n.to_string()));
    }
    h
}

/// POSTs `message` with the era's headers, changed by `overrides` (an empty value drops one).
fn post(gw: &HttpGateway, message: &Value, overrides: &[(&str, &str)]) -> Reply {
    let mut headers = headers_for(message);
    for (k, v) in overrides {
        headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
        headers.push((k.to_string(), v.to_string()));
    }
    let extra: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    gw.send("POST", &extra, &message.to_string())
}

fn call(gw: &HttpGateway, id: Value, tool: &str, arguments: Value) -> Value {
    let r = post(
        gw,
        &request(
            id.clone(),
            "tools/call",
            json!({"name": tool, "arguments": arguments}),
        ),
        &[],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.header("mcp-session-id").is_none(), "{r:?}");
    r.message(&id)
}

fn policy(dir: &std::path::Path) -> String {
    write_policy(
        dir,
        r#"
version = 1
[[server]]
name = "*"
action = "allow"
[[server.tool]]
name = "echo"
action = "deny"
"#,
    )
}

#[test]
fn stateless_clients_share_one_judged_server() {
    let tmp = TempDir::new().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let policy = policy(&base);
    let server = testserver().to_str().unwrap().to_string();
    let args = ["--policy", &policy, "--", &server, "--exit-after", "60"];
    let gw = HttpGateway::start(&base, &args, true);

    // server/discover first, no session anywhere.
    let discover = request(json!("d1"), "server/discover", json!({}));
    let r = post(&gw, &discover, &[]);
    assert_eq!(r.status, 200, "{r:?}\n{}", gw.stderr.lock().unwrap());
    assert!(r.header("mcp-session-id").is_none(), "{r:?}");
    let d = r.message(&json!("d1"));
    assert!(d.get("result").is_some(), "{d}");
    assert!(d.to_string().contains(VERSION), "{d}");

    let list = request(json!(1), "tools/list", json!({}));
    let r = post(&gw, &list, &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let tools = r.message(&json!(1));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"add") && names.contains(&"echo"), "{tools}");

    let sum = call(&gw, json!(2), "add", json!({"a": 2, "b": 3}));
    assert!(!refused(&sum), "{sum}");
    assert!(text_of(&sum).contains('5'), "{sum}");

    // The policy holds in this era too.
    let no = call(&gw, json!(3), "echo", json!({"text": "hi"}));
    assert!(refused(&no), "{no}");
    assert!(
        no.to_string().contains("deny") || no.to_string().contains("denied"),
        "{no}"
    );

    // Two clients at once, with the same ids: each gets its own answers.
    let gw_ref = &gw;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|client| {
                s.spawn(move || {
                    for i in 0..8 {
                        let a = client * 100 + i;
                        let r = call(gw_ref, json!(i), "add", json!({"a": a, "b": 1}));
                        assert_eq!(r["id"], json!(i), "{r}");
                        assert!(text_of(&r).contains(&(a + 1).to_string()), "{r}");
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    });

    // A legacy client beside them keeps its own session and process.
    let sid = gw.initialize();
    let legacy = gw.call(&sid, 7, "add", json!({"a": 20, "b": 22}));
    assert!(text_of(&legacy).contains("42"), "{legacy}");
    let legacy_no = gw.call(&sid, 8, "echo", json!({"text": "hi"}));
    assert!(refused(&legacy_no), "{legacy_no}");

    // GET and DELETE have no meaning in the era.
    let r = gw.send("GET", &[("MCP-Protocol-Version", VERSION)], "");
    assert_eq!(r.status, 405, "{r:?}");
    assert!(r.body.contains("subscriptions/listen"), "{r:?}");
    let r = gw.send("DELETE", &[("MCP-Protocol-Version", VERSION)], "");
    assert_eq!(r.status, 405, "{r:?}");
}

#[test]
fn headers_that_disagree_with_the_body_are_refused() {
    let tmp = TempDir::new().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let policy = policy(&base);
    let server = testserver().to_str().unwrap().to_string();
    let args = ["--policy", &policy, "--", &server, "--exit-after", "60"];
    let gw = HttpGateway::start(&base, &args, true);

    let denied = request(
        json!(5),
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "x"}}),
    );
    let cases: [&[(&str, &str)]; 6] = [
        &[("Mcp-Method", "tools/list")],
        &[("Mcp-Method", "")],
        &[("Mcp-Name", "add")],
        &[("Mcp-Name", "")],
        &[("MCP-Protocol-Version", "")],
        &[("MCP-Protocol-Version", "2099-01-01")],
    ];
    for overrides in cases {
        let r = post(&gw, &denied, overrides);
        assert_eq!(r.status, 400, "{overrides:?}: {r:?}");
        let e = r.message(&json!(5));
        assert_eq!(e["error"]["code"], json!(-32020), "{overrides:?}: {e}");
    }
    // Base64-wrapped Mcp-Name is read as the era writes it.
    let r = post(&gw, &denied, &[("Mcp-Name", "=?base64?ZWNobw==?=")]);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(refused(&r.message(&json!(5))), "{r:?}");
    // A legacy-session request with a lying Mcp-Method header is refused as well.
    let sid = gw.initialize();
    let legacy = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "x"}}});
    let r = gw.send(
        "POST",
        &[("Mcp-Session-Id", &sid), ("Mcp-Method", "tools/list")],
        &legacy.to_string(),
    );
    assert_eq!(r.status, 400, "{r:?}");
    drop(gw);
    // Only the one well-formed call reached the judge: nothing was audited as something else.
    let calls: Vec<Value> = records(&base.join("audit.sqlite"))
        .into_iter()
        .filter(|r| r.to_string().contains("tools/call"))
        .collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
}

#[test]
fn a_subscription_stream_gets_the_rug_pull_and_the_changed_tool_is_refused() {
    let tmp = TempDir::new().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let policy = policy(&base);
    let server = testserver().to_str().unwrap().to_string();
    let args = [
        "--policy",
        &policy,
        "--",
        &server,
        "--exit-after",
        "60",
        "--rug-pull",
    ];
    let gw = HttpGateway::start(&base, &args, true);

    let listen = request(
        json!("sub-1"),
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
    );
    let headers = headers_for(&listen);
    let extra: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut stream = EventStream::post_with(&gw, &extra, &listen);

    // The first listing makes the server change `add` and say so on the subscription.
    let r = post(&gw, &request(json!(1), "tools/list", json!({})), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let deadline = Instant::now() + WAIT;
    let mut changed = None;
    while Instant::now() < deadline {
        let Some(m) = stream.next() else { break };
        if m["method"] == json!("notifications/tools/list_changed") {
            changed = Some(m);
            break;
        }
    }
    let changed = changed.unwrap_or_else(|| panic!("{}", gw.stderr.lock().unwrap()));
    assert_eq!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        json!("sub-1"),
        "{changed}"
    );

    // The gateway lists the tools itself and refuses the changed `add`.
    let deadline = Instant::now() + WAIT;
    let mut id = 100;
    loop {
        let r = call(&gw, json!(id), "add", json!({"a": 1, "b": 1}));
        if refused(&r) {
            assert!(r.to_string().contains("changed"), "{r}");
            break;
        }
        assert!(Instant::now() < deadline, "never refused: {r}");
        std::thread::sleep(Duration::from_millis(50));
        id += 1;
    }
    drop(stream);
    // Discovery still works once the stream is gone (the listen was cancelled, not the server).
    let r = post(&gw, &request(json!("d"), "server/discover", json!({})), &[]);
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
fn headers_that_disagree_with_the_body_are_refused_before_a_remote_server() {
    let tmp = TempDir::new().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let (mut upstream, url) = http_testserver(&["--exit-after", "60"]);
    let gw = HttpGateway::start(&base, &["--upstream", &url], true);
    // Says `echo` in its headers, calls `add` in its body.
    let call = request(
        json!(3),
        "tools/call",
        json!({"name": "add", "arguments": {"a": 1, "b": 2}}),
    );
    let r = post(&gw, &call, &[("Mcp-Name", "echo")]);
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(
        r.message(&json!(3))["error"]["code"],
        json!(-32020),
        "{r:?}"
    );
    // Refused before the judge: nothing was logged as a call, and an honest one goes through.
    let r = post(&gw, &call, &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(text_of(&r.message(&json!(3))).contains('3'), "{r:?}");
    drop(gw);
    let calls = records(&base.join("audit.sqlite"))
        .into_iter()
        .filter(|r| r["method"] == "tools/call" && r["event"] == "request")
        .count();
    assert_eq!(calls, 1);
    let _ = upstream.kill();
    let _ = upstream.wait();
}
