//! `portcullis inspect` against the workspace's test MCP server (`portcullis-testserver`), over
//! stdio and over streamable HTTP on 127.0.0.1. Every server started here has a bounded
//! lifetime (`--exit-after`) and every inspection a bounded timeout.
//!
//! The test server is a binary of another workspace crate, which `CARGO_BIN_EXE_*` cannot name.
//! `cargo test --workspace` builds it (for the test server's own integration test) next to this
//! test's binary, and it is used as it is. When it is missing or older than its sources (`cargo
//! test -p portcullis` from a clean checkout), the first test that needs it runs `cargo build -p
//! portcullis_testserver` with this run's cargo, profile and target folder. Not building it
//! unconditionally matters: `-p` resolves features differently from `--workspace`, so that
//! build would compile the rmcp stack a second time.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

mod support;

use assert_cmd::prelude::*;
use serde_json::Value;
use support::testserver;

fn portcullis() -> Command {
    let mut cmd = Command::cargo_bin("portcullis").unwrap();
    cmd.env_remove("PORTCULLIS_BEARER_TOKEN");
    cmd
}

/// `portcullis inspect <args> -- portcullis-testserver <server args> --exit-after 30`.
fn inspect_stdio(args: &[&str], server: &[&str]) -> Command {
    let mut cmd = portcullis();
    cmd.arg("inspect")
        .args(["--timeout", "20", "--request-timeout", "10"])
        .args(args)
        .arg("--")
        .arg(testserver())
        .args(server)
        .args(["--exit-after", "30"]);
    cmd
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn names(snapshot: &Value, key: &str) -> Vec<String> {
    snapshot[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {snapshot:#}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn description(snapshot: &Value, tool: &str) -> String {
    snapshot["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == tool)
        .and_then(|t| t["description"].as_str())
        .unwrap()
        .to_string()
}

/// A test server on HTTP, killed when dropped.
struct HttpServer {
    child: Child,
    url: String,
}

impl HttpServer {
    fn start(args: &[&str]) -> HttpServer {
        let mut child = Command::new(testserver())
            .args([
                "--transport",
                "http",
                "--listen",
                "127.0.0.1:0",
                "--exit-after",
                "30",
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
        HttpServer { child, url }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn stdio_server_is_saved_with_every_page_of_every_list() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("snap.json");
    let out = inspect_stdio(&["--save", save.to_str().unwrap()], &["--page-size", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let snap = read_json(&save);
    assert_eq!(snap["portcullis"]["snapshot"], 1);
    assert_eq!(snap["portcullis"]["transport"], "stdio");
    assert!(
        snap["portcullis"]["source"]
            .as_str()
            .unwrap()
            .ends_with("portcullis-testserver --page-size 1 --exit-after 30")
    );
    assert_eq!(snap["protocolVersion"], "2026-07-28");
    assert_eq!(snap["serverInfo"]["name"], "portcullis-testserver");
    assert_eq!(names(&snap, "tools"), ["echo", "add"]);
    assert_eq!(names(&snap, "prompts"), ["summarize"]);
    assert_eq!(names(&snap, "resources"), ["notes", "todo"]);
    assert_eq!(names(&snap, "resourceTemplates"), ["logs"]);
    // The keys come in the documented order.
    let keys: Vec<&String> = snap.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "portcullis",
            "protocolVersion",
            "serverInfo",
            "capabilities",
            "instructions",
            "tools",
            "prompts",
            "resources",
            "resourceTemplates"
        ]
    );
    // The text output starts with the summary.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("tools (2):"), "{stdout}");
    assert!(stdout.contains("  echo  Echoes the text back."), "{stdout}");
}

#[test]
fn the_initialize_era_is_spoken_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("snap.json");
    inspect_stdio(
        &[
            "--protocol",
            "legacy",
            "--save",
            save.to_str().unwrap(),
            "--list",
        ],
        &[],
    )
    .assert()
    .success();
    let snap = read_json(&save);
    assert_eq!(snap["protocolVersion"], "2025-11-25");
    assert_eq!(names(&snap, "tools"), ["echo", "add"]);
}

#[test]
fn poisoned_tools_are_kept_as_sent_and_listed_visibly() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("snap.json");
    let out = inspect_stdio(
        &["--save", save.to_str().unwrap(), "--list"],
        &["--tools", "poisoned"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let snap = read_json(&save);
    assert_eq!(names(&snap, "tools"), ["echo", "add", "send_report"]);
    assert!(description(&snap, "add").contains("<IMPORTANT>"));
    assert!(description(&snap, "add").contains("~/.ssh/id_rsa"));
    assert!(description(&snap, "echo").contains('\u{E0069}'));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\\u{200b}\\u{e0001}\\u{e0069}"), "{stdout}");
}

#[test]
fn streamable_http_on_loopback() {
    let server = HttpServer::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("snap.json");
    portcullis()
        .args([
            "inspect",
            "--timeout",
            "20",
            "--save",
            save.to_str().unwrap(),
        ])
        .arg(&server.url)
        .assert()
        .success();
    let snap = read_json(&save);
    assert_eq!(snap["portcullis"]["transport"], "streamable-http");
    assert_eq!(snap["portcullis"]["source"], server.url.as_str());
    assert_eq!(snap["protocolVersion"], "2026-07-28");
    assert_eq!(names(&snap, "tools"), ["echo", "add"]);
    // A launched server gets notes about its confinement; a remote one does not.
    assert!(snap["portcullis"].get("notes").is_none());
}

#[test]
fn streamable_http_in_the_initialize_era() {
    let server = HttpServer::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("snap.json");
    portcullis()
        .args(["inspect", "--protocol", "legacy", "--list", "--save"])
        .arg(&save)
        .arg(&server.url)
        .assert()
        .success();
    let snap = read_json(&save);
    assert_eq!(snap["protocolVersion"], "2025-11-25");
    assert_eq!(names(&snap, "tools"), ["echo", "add"]);
}

#[test]
fn bearer_token_comes_from_the_environment() {
    let server = HttpServer::start(&["--require-token", "s3cret-token-value"]);
    let out = portcullis()
        .args(["inspect", "--list", "--timeout", "20"])
        .arg(&server.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401"), "{stderr}");
    assert!(stderr.contains("--bearer-token-env"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("snap.json");
    let out = portcullis()
        .args(["inspect", "--bearer-token-env", "MY_MCP_TOKEN", "--save"])
        .arg(&save)
        .arg(&server.url)
        .env("MY_MCP_TOKEN", "s3cret-token-value")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(names(&read_json(&save), "tools"), ["echo", "add"]);
    let everything = format!(
        "{}{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&save).unwrap()
    );
    assert!(!everything.contains("s3cret"), "{everything}");

    // The same through a header whose value names the variable.
    portcullis()
        .args([
            "inspect",
            "--list",
            "--header",
            "Authorization: Bearer ${MY_MCP_TOKEN}",
        ])
        .arg(&server.url)
        .env("MY_MCP_TOKEN", "s3cret-token-value")
        .assert()
        .success();
}

#[test]
fn a_rug_pull_shows_in_the_second_listing() {
    // Over HTTP the server's state outlives a session: the second inspection sees the change.
    let server = HttpServer::start(&["--rug-pull"]);
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.json");
    let second = dir.path().join("second.json");
    for save in [&first, &second] {
        portcullis()
            .args(["inspect", "--list", "--save"])
            .arg(save)
            .arg(&server.url)
            .assert()
            .success();
    }
    let (first, second) = (read_json(&first), read_json(&second));
    assert_eq!(description(&first, "add"), "Adds two numbers.");
    assert!(description(&second, "add").contains("<IMPORTANT>"));

    // Over stdio, in the initialize era, the server says `list_changed` during the inspection,
    // and the snapshot keeps the second listing.
    let save = dir.path().join("stdio.json");
    let out = inspect_stdio(
        &[
            "--protocol",
            "legacy",
            "--list",
            "--save",
            save.to_str().unwrap(),
        ],
        &["--rug-pull"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let snap = read_json(&save);
    assert_eq!(description(&snap, "add"), "Adds two numbers.");
    let ours = &snap["portcullis"];
    assert_eq!(ours["notifications"][0], "notifications/tools/list_changed");
    let relisted = ours["relisted"]["tools"].as_array().unwrap();
    let add = relisted.iter().find(|t| t["name"] == "add").unwrap();
    assert!(add["description"].as_str().unwrap().contains("<IMPORTANT>"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("changed while inspected: tools"));
}

fn failure(server: &[&str]) -> String {
    let out = portcullis()
        .args([
            "inspect",
            "--list",
            "--timeout",
            "6",
            "--request-timeout",
            "2",
            "--",
        ])
        .arg(testserver())
        .args(server)
        .args(["--exit-after", "30"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_server_that_hangs_is_timed_out() {
    let stderr = failure(&["--misbehave", "hang"]);
    assert!(
        stderr.contains("did not answer `initialize` within 2 s"),
        "{stderr}"
    );
}

#[test]
fn a_server_that_crashes_is_a_clear_failure() {
    let stderr = failure(&["--misbehave", "crash"]);
    assert!(
        stderr.contains("the server exited (exit status: 3)"),
        "{stderr}"
    );
    assert!(stderr.contains("crashing on purpose"), "{stderr}");
}

#[test]
fn garbage_and_huge_messages_are_refused() {
    let stderr = failure(&["--misbehave", "garbage"]);
    assert!(stderr.contains("not JSON-RPC"), "{stderr}");
    assert!(stderr.contains("Welcome to the server!"), "{stderr}");
    let stderr = failure(&["--misbehave", "huge"]);
    assert!(stderr.contains("larger than 16 MiB"), "{stderr}");
}

#[test]
fn a_missing_program_and_an_unreachable_url_fail_clearly() {
    let out = portcullis()
        .args(["inspect", "--", "/nonexistent/portcullis-no-such-server"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot start"));
    // A port nothing listens on: bind one, learn it, close it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = portcullis()
        .args(["inspect", "--connect-timeout", "2"])
        .arg(format!("http://127.0.0.1:{port}/mcp"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}

/// What the server reported about its environment, from its instructions.
fn environment(snapshot: &Value) -> Value {
    serde_json::from_str(snapshot["instructions"].as_str().unwrap()).unwrap()
}

#[test]
fn a_launched_server_is_confined() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let probe = listener.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("snap.json");
    let out = inspect_stdio(
        &[
            "--list",
            "--save",
            save.to_str().unwrap(),
            "--env",
            "GIVEN=yes",
            "--env",
            "FROM_PARENT=${PARENT_VALUE}",
        ],
        &["--report-env", "--probe-connect", &probe],
    )
    .env("PORTCULLIS_SECRET_IN_PARENT", "leak")
    .env("PARENT_VALUE", "resolved")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let snap = read_json(&save);
    let env = environment(&snap);
    let names: Vec<&str> = env["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!names.contains(&"PORTCULLIS_SECRET_IN_PARENT"), "{names:?}");
    assert!(!names.contains(&"PARENT_VALUE"), "{names:?}");
    assert!(
        names.contains(&"GIVEN") && names.contains(&"FROM_PARENT"),
        "{names:?}"
    );
    assert!(names.len() <= 6, "{names:?}"); // PATH, LANG, HOME, TMPDIR and the two given

    let home = PathBuf::from(env["home"].as_str().unwrap());
    assert_ne!(Some(home.as_os_str()), std::env::var_os("HOME").as_deref());
    assert!(home.ends_with("home"), "{home:?}");
    assert!(
        home.parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("portcullis-inspect-")
    );
    assert_eq!(
        Path::new(env["tmpdir"].as_str().unwrap()).parent(),
        home.parent()
    );
    assert!(!home.exists(), "the scratch folders are removed afterwards");

    let notes: Vec<&str> = snap["portcullis"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let network = env["network"].as_str().unwrap();
    if notes.iter().any(|n| n.starts_with("network: denied")) {
        assert!(network.starts_with("failed"), "{network}");
    } else {
        // No unprivileged user namespaces here: the output must say so.
        assert!(
            notes.iter().any(|n| n.starts_with("network: NOT confined")),
            "{notes:?}"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("warning: network: NOT confined"));
    }
    assert!(notes.iter().any(|n| n.starts_with("memory:")), "{notes:?}");

    // With --allow-network it connects.
    let out = inspect_stdio(
        &[
            "--list",
            "--allow-network",
            "--save",
            save.to_str().unwrap(),
        ],
        &["--report-env", "--probe-connect", &probe],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(environment(&read_json(&save))["network"], "connected");
}

#[test]
fn the_test_server_refuses_to_listen_beyond_loopback() {
    let out = Command::new(testserver())
        .args([
            "--transport",
            "http",
            "--listen",
            "0.0.0.0:0",
            "--exit-after",
            "5",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback addresses only"));
}

#[test]
fn inspect_needs_a_server() {
    portcullis().arg("inspect").assert().code(2);
    portcullis()
        .args(["inspect", "not a url"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a URL"));
}

/// The codes of a JSON report's findings, sorted and deduplicated.
fn codes(stdout: &[u8]) -> Vec<String> {
    let report: Value = serde_json::from_slice(stdout).unwrap();
    let mut codes: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

#[test]
fn a_poisoned_server_is_reported_and_a_clean_one_is_not() {
    let out = inspect_stdio(&["--format", "json"], &["--tools", "poisoned"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let found = codes(&out.stdout);
    for code in ["PC301", "PC303", "PC304", "PC306"] {
        assert!(found.iter().any(|c| c == code), "{code} missing: {found:?}");
    }
    let clean = inspect_stdio(&["--format", "json"], &["--tools", "clean"])
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");
    assert_eq!(codes(&clean.stdout), Vec::<String>::new());
}

#[test]
fn a_rug_pull_after_pinning_fails_the_locked_inspection() {
    let server = HttpServer::start(&["--rug-pull"]);
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.json");
    let lock = dir.path().join("portcullis.lock");
    portcullis()
        .args(["inspect", "--list", "--save"])
        .arg(&first)
        .arg(&server.url)
        .assert()
        .success();
    portcullis()
        .arg("pin")
        .arg(&first)
        .arg("-o")
        .arg(&lock)
        .assert()
        .success();
    // The server has changed `add` since the first listing.
    let out = portcullis()
        .args(["inspect", "--format", "json", "--lock"])
        .arg(&lock)
        .arg(&server.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        codes(&out.stdout).iter().any(|c| c == "PC311"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
