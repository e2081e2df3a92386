//! The gateway's robustness at the edges: a server whose descendants leave its process group
//! (`setsid`, a double-forked daemon), server messages that find no GET stream open, and batches
//! holding a call the user is asked about. Every server started here has a bounded lifetime and
//! every wait a deadline; a process a test starts that could outlive it is killed at the end.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "support/cli.rs"]
mod cli;
#[path = "support/http.rs"]
mod http;
#[path = "support/session.rs"]
mod session;
mod support;

use assert_cmd::cargo::CommandCargoExt;
use cli::{records_when, text_of, write_policy};
use http::{EventStream, HttpGateway};
use serde_json::{Value, json};
use support::testserver;
use tempfile::TempDir;

/// A shell server that leaves two processes outside its process group, then becomes the test
/// server: `sleep 300` in a session of its own (its parent is still the server), and `sleep
/// 301` double-forked (orphaned at once, as a daemon does). Their pids go to files in `$PC_DIR`.
const ESCAPING_SERVER: &str = r#"
setsid sleep 300 & echo $! > "$PC_DIR/setsid.$$"
setsid sh -c 'sleep 301 & echo $! > "$PC_DIR/daemon.$$"' &
exec "$PC_SERVER" --exit-after 60
"#;

fn escaping_server_command(dir: &Path) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        ESCAPING_SERVER.into(),
        dir.to_string_lossy().into_owned(),
    ]
}

/// Whether `pid` is a living `sleep` (not gone, not a zombie, not a reused pid).
#[cfg(target_os = "linux")]
fn sleeping(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .map(|(_, r)| r.trim_start().chars().next());
    stat.contains("(sleep)") && !matches!(state, Some(Some('Z' | 'X')))
}

/// Waits up to 10 s for `pid` to be a living `sleep` (it may still be `setsid` or `sh`, about
/// to exec it).
#[cfg(target_os = "linux")]
fn wait_sleeping(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sleeping(pid) {
        assert!(Instant::now() < deadline, "{pid} never became `sleep`");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits up to 10 s for `pid` to stop being a living `sleep`.
#[cfg(target_os = "linux")]
fn ends(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !sleeping(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The pids in the files `prefix.*` of `dir`, once there are `count` of them (bounded wait).
fn pid_files(dir: &Path, prefix: &str, count: usize) -> Vec<(String, i32)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut found: Vec<(String, i32)> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let suffix = name.strip_prefix(prefix)?.strip_prefix('.')?.to_string();
                let pid = std::fs::read_to_string(e.path())
                    .ok()?
                    .trim()
                    .parse()
                    .ok()?;
                Some((suffix, pid))
            })
            .collect();
        if found.len() >= count {
            found.sort();
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "only {} `{prefix}` pid files in {}",
            found.len(),
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills the sleeps a failed test would leave behind.
struct Cleanup(Vec<i32>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        for pid in &self.0 {
            if sleeping(*pid) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn stdio_descendants_outside_the_group_end_with_the_gateway() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let mut cmd = Command::cargo_bin("portcullis").unwrap();
    cmd.arg("gateway")
        .arg("--audit")
        .arg(dir.join("audit.sqlite"))
        .arg("--")
        .args(escaping_server_command(dir))
        .env("PC_DIR", dir)
        .env("PC_SERVER", testserver())
        .current_dir(dir);
    let mut gateway = session::Session::start(cmd);
    gateway.handshake();
    let setsid = pid_files(dir, "setsid", 1)[0].1;
    let daemon = pid_files(dir, "daemon", 1)[0].1;
    let _cleanup = Cleanup(vec![setsid, daemon]);
    wait_sleeping(setsid);
    wait_sleeping(daemon);
    let reply = gateway.call(3, "echo", serde_json::json!({"text": "hi"}));
    assert_eq!(session::text_of(&reply), Some("hi"), "{reply}");
    // Closing the client's side ends the gateway (the session's drop waits for it).
    drop(gateway);
    assert!(
        ends(setsid),
        "the setsid'ed child {setsid} outlived the gateway"
    );
    assert!(
        ends(daemon),
        "the double-forked daemon {daemon} outlived the gateway"
    );
}

// ---- HTTP: sessions own what their server started ----

#[cfg(target_os = "linux")]
#[test]
fn http_a_session_stops_what_its_server_started_and_the_gateway_the_rest() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let mut args: Vec<String> = vec!["--".into()];
    args.extend(escaping_server_command(dir));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The server's environment comes from the gateway's.
    let env = [
        ("PC_DIR", dir.to_string_lossy().into_owned()),
        ("PC_SERVER", testserver().to_string_lossy().into_owned()),
    ];
    let mut gw = HttpGateway::start_with_env(dir, &args, &env);
    let first = gw.initialize();
    let one = pid_files(dir, "setsid", 1);
    let one_daemon = pid_files(dir, "daemon", 1);
    let second = gw.initialize();
    let both = pid_files(dir, "setsid", 2);
    let both_daemons = pid_files(dir, "daemon", 2);
    let all: Vec<i32> = both.iter().chain(&both_daemons).map(|(_, p)| *p).collect();
    let _cleanup = Cleanup(all.clone());
    let (first_setsid, first_daemon) = (one[0].1, one_daemon[0].1);
    let second_setsid = both.iter().find(|(_, p)| *p != first_setsid).unwrap().1;
    let second_daemon = both_daemons
        .iter()
        .find(|(_, p)| *p != first_daemon)
        .unwrap()
        .1;
    all.iter().for_each(|p| wait_sleeping(*p));
    let r = gw.send("DELETE", &[("Mcp-Session-Id", &second)], "");
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        ends(second_setsid),
        "the ended session's setsid'ed child lives on"
    );
    assert!(ends(second_daemon), "the ended session's daemon lives on");
    assert!(
        sleeping(first_setsid) && sleeping(first_daemon),
        "ending one session stopped another's processes"
    );
    let reply = gw.call(&first, 5, "echo", json!({"text": "still here"}));
    assert_eq!(text_of(&reply), "still here");
    gw.stop();
    assert!(
        ends(first_setsid),
        "the setsid'ed child outlived the gateway"
    );
    assert!(ends(first_daemon), "the daemon outlived the gateway");
}

// ---- HTTP: the server's own messages wait for the GET stream ----

#[test]
fn http_server_messages_wait_for_a_get_stream_and_requests_do_not_wait_forever() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let policy = write_policy(
        dir,
        "version = 1\n[defaults]\naction = \"allow\"\nsampling = \"allow\"\nrequest_timeout_secs = 6\n",
    );
    let server = testserver().to_string_lossy().into_owned();
    let gw = HttpGateway::start(
        dir,
        &["--policy", &policy, "--", &server, "--exit-after", "60"],
        false,
    );
    let sid = gw.initialize_with(json!({"sampling": {}}));
    // No GET stream is open: the log messages are kept for it.
    assert_eq!(
        text_of(&gw.call(&sid, 1, "notify", json!({"count": 3}))),
        "sent 3"
    );
    let mut stream = EventStream::get(&gw, &sid, None);
    let mut ids = Vec::new();
    for n in 1..=3 {
        let (id, msg) = stream.next_event().expect("a kept message");
        assert_eq!(msg["method"], "notifications/message", "{msg}");
        assert_eq!(msg["params"]["data"], format!("message {n} of 3"), "{msg}");
        ids.push(id.expect("an event id"));
    }
    drop(stream);
    // The client lost its stream after the first event: resuming gets the rest again.
    let mut resumed = EventStream::get(&gw, &sid, Some(&ids[0]));
    for n in 2..=3 {
        let (id, msg) = resumed.next_event().expect("a resumed message");
        assert_eq!(msg["params"]["data"], format!("message {n} of 3"), "{msg}");
        assert_eq!(id.as_deref(), Some(ids[n - 1].as_str()));
    }
    drop(resumed);
    // A server request with no GET stream to take it: the server gets an error in time to
    // answer the call it was working on, and the audit log says why.
    let reply = gw.call(&sid, 2, "sample", json!({"text": "write a poem"}));
    let text = text_of(&reply);
    assert!(
        text.starts_with("error: ") && text.contains("could not deliver"),
        "{reply}"
    );
    let failed = |r: &Value| r["event"] == "server-request" && r["decision"] == "failed";
    let undelivered = records_when(&gw.audit, |recs| recs.iter().any(failed))
        .into_iter()
        .find(failed)
        .expect("the undelivered request is on record");
    assert_eq!(undelivered["method"], "sampling/createMessage");
    assert!(
        undelivered["reason"]
            .as_str()
            .unwrap()
            .contains("GET stream"),
        "{undelivered}"
    );
    // With a GET stream open, the request reaches the client, and its answer the server.
    let mut stream = EventStream::get(&gw, &sid, None);
    let caller = {
        let addr = gw.addr.clone();
        let token = gw.token.clone();
        let sid = sid.clone();
        std::thread::spawn(move || {
            let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                              "params": {"name": "sample", "arguments": {"text": "hi"}}})
            .to_string();
            http::raw_request(
                &addr,
                "POST",
                "/mcp",
                &[
                    ("Host", addr.as_str()),
                    ("Authorization", &format!("Bearer {token}")),
                    ("Content-Type", "application/json"),
                    ("Accept", "application/json, text/event-stream"),
                    ("Mcp-Session-Id", &sid),
                ],
                body.as_bytes(),
            )
        })
    };
    let (_, request) = stream.next_event().expect("the sampling request");
    assert_eq!(request["method"], "sampling/createMessage", "{request}");
    let r = gw.post(
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": request["id"], "result": {
            "role": "assistant", "model": "test",
            "content": {"type": "text", "text": "a poem"}}}),
    );
    assert_eq!(r.status, 202, "{r:?}");
    let answer = caller.join().unwrap().message(&json!(3));
    assert_eq!(text_of(&answer), "a poem", "{answer}");
}

// ---- batches holding a call the user is asked about ----

const BATCH_ASK_POLICY: &str = r#"
version = 1
[defaults]
action = "allow"
ask_timeout_secs = 10
[[server]]
name = "*"
[[server.tool]]
name = "add"
action = "ask"
[[server.tool]]
name = "send_report"
action = "deny"
"#;

/// A stdio server that answers batches, which the SDK's servers do not (2025-06-18 removed
/// them): `initialize` with its own id, a batch with the answer to call 11, call 10 alone.
/// Scripted for the batch below; it reads until its input closes.
const BATCH_SERVER: &str = r#"
while IFS= read -r line; do
  case "$line" in
    *'"method":"initialize"'*)
      id=$(printf '%s' "$line" | sed 's/.*"id":\([0-9]*\).*/\1/')
      printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-03-26","capabilities":{"tools":{}},"serverInfo":{"name":"batch-sh","version":"1"}}}\n' "$id" ;;
    '['*'"id":11'*)
      printf '[{"jsonrpc":"2.0","id":11,"result":{"content":[{"type":"text","text":"in the batch"}]}}]\n' ;;
    *'"id":10'*'"tools/call"'*|*'"tools/call"'*'"id":10'*)
      printf '{"jsonrpc":"2.0","id":10,"result":{"content":[{"type":"text","text":"3"}]}}\n' ;;
  esac
done
"#;

/// A batch of three calls: 10 held for the user, 11 allowed, 12 refused, and a notification.
fn asking_batch() -> Value {
    let call = |id: i64, name: &str, args: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": name, "arguments": args}})
    };
    json!([
        call(10, "add", json!({"a": 1, "b": 2})),
        call(11, "echo", json!({"text": "in the batch"})),
        call(12, "send_report", json!({})),
        {"jsonrpc": "2.0", "method": "notifications/progress",
         "params": {"progressToken": "none", "progress": 1}},
    ])
}

fn approve(question: &Value) -> Value {
    json!({"jsonrpc": "2.0", "id": question["id"],
           "result": {"action": "accept", "content": {"approve": true}}})
}

/// The batch's answer: one array with exactly the answers to 10, 11 and 12.
fn check_batch_answer(answer: &Value) {
    let items = answer
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {answer}"));
    let mut ids: Vec<i64> = items.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, vec![10, 11, 12], "{answer}");
    let by = |id: i64| items.iter().find(|m| m["id"] == json!(id)).unwrap();
    assert_eq!(text_of(by(10)), "3", "{answer}");
    assert_eq!(text_of(by(11)), "in the batch", "{answer}");
    assert_eq!(by(12)["error"]["code"], json!(-32001), "{answer}");
}

#[test]
fn stdio_a_batch_with_a_held_call_is_answered_with_one_array() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let policy = write_policy(dir, BATCH_ASK_POLICY);
    let mut cmd = Command::cargo_bin("portcullis").unwrap();
    cmd.args(["gateway", "--policy", &policy, "--audit"])
        .arg(dir.join("audit.sqlite"))
        .args(["--", "sh", "-c", BATCH_SERVER])
        .current_dir(dir);
    let mut gw = session::Session::start(cmd);
    let init = gw.request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-03-26", "capabilities": {"elicitation": {}},
               "clientInfo": {"name": "batch-test", "version": "1"}}),
    );
    assert!(init.get("result").is_some(), "{init}");
    gw.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    gw.send(&asking_batch());
    let question = gw.next(Duration::from_secs(20)).expect("the question");
    assert_eq!(question["method"], "elicitation/create", "{question}");
    // Nothing of the batch is answered while the user has not: the allowed call's and the
    // refused call's answers wait for the held one.
    assert_eq!(gw.next(Duration::from_millis(800)), None);
    gw.send(&approve(&question));
    let answer = gw
        .next(Duration::from_secs(20))
        .expect("the batch's answer");
    check_batch_answer(&answer);
    assert_eq!(
        gw.next(Duration::from_millis(300)),
        None,
        "answers outside the array"
    );
}

#[test]
fn http_a_batch_with_a_held_call_is_answered_with_one_array() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let policy = write_policy(dir, BATCH_ASK_POLICY);
    let gw = HttpGateway::start(
        dir,
        &["--policy", &policy, "--", "sh", "-c", BATCH_SERVER],
        false,
    );
    let sid = gw.initialize_with(json!({"elicitation": {}}));
    let mut stream = EventStream::post(&gw, &sid, &asking_batch());
    let question = stream.next().expect("the question");
    assert_eq!(question["method"], "elicitation/create", "{question}");
    let r = gw.post(Some(&sid), &approve(&question));
    assert_eq!(r.status, 202, "{r:?}");
    let answer = stream.next().expect("the batch's answer");
    check_batch_answer(&answer);
    assert_eq!(stream.next(), None, "answers outside the array");
}
