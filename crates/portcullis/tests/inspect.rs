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
use serde_json::{Value, json};
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

    // Over stdio the server says `list_changed` during the inspection, and the snapshot keeps
    // the second listing: in the initialize era to the session, in the 2026-07-28 era only on
    // the `subscriptions/listen` stream that the inspection opens before listing.
    for (protocol, version) in [("legacy", "2025-11-25"), ("modern", "2026-07-28")] {
        let save = dir.path().join(format!("{protocol}.json"));
        let out = inspect_stdio(
            &[
                "--protocol",
                protocol,
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
        assert_eq!(snap["protocolVersion"], version, "{snap}");
        assert_eq!(description(&snap, "add"), "Adds two numbers.");
        let ours = &snap["portcullis"];
        let heard = ours["notifications"].as_array().unwrap();
        assert!(
            heard.contains(&json!("notifications/tools/list_changed")),
            "{ours}"
        );
        let relisted = ours["relisted"]["tools"].as_array().unwrap();
        let add = relisted.iter().find(|t| t["name"] == "add").unwrap();
        assert!(add["description"].as_str().unwrap().contains("<IMPORTANT>"));
        assert!(String::from_utf8_lossy(&out.stdout).contains("changed while inspected: tools"));
    }
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

/// A fake home whose Cursor config names `servers` (name, args for the test server).
fn fake_home(servers: &[(&str, &[&str])]) -> tempfile::TempDir {
    let home = tempfile::TempDir::new().unwrap();
    std::fs::create_dir_all(home.path().join(".cursor")).unwrap();
    std::fs::create_dir_all(home.path().join("work")).unwrap();
    let entries: serde_json::Map<String, Value> = servers
        .iter()
        .map(|(name, args)| {
            let mut args: Vec<&str> = args.to_vec();
            args.extend(["--exit-after", "30"]);
            (
                name.to_string(),
                serde_json::json!({"command": testserver(), "args": args}),
            )
        })
        .collect();
    write_config(home.path(), &serde_json::json!({ "mcpServers": entries }));
    home
}

fn write_config(home: &Path, config: &Value) {
    std::fs::write(
        home.join(".cursor/mcp.json"),
        serde_json::to_string_pretty(config).unwrap(),
    )
    .unwrap();
}

/// `portcullis` as a user with `home`, in `home/work`, stdin not a terminal.
fn as_user(home: &Path) -> Command {
    let mut cmd = portcullis();
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(home.join("work"))
        .stdin(Stdio::null());
    cmd
}

#[test]
fn scan_inspect_audits_configured_servers_at_their_config_entries() {
    let home = fake_home(&[
        ("calc", &["--tools", "poisoned"]),
        ("plain", &[]),
        ("broken", &["--misbehave", "crash"]),
    ]);
    let out = as_user(home.path())
        .args([
            "scan",
            "--inspect=yes",
            "--format",
            "json",
            "--inspect-timeout",
            "20",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for code in ["PC301", "PC303", "PC304", "PC306"] {
        assert!(rules.contains(&code), "{code} missing: {rules:?}");
    }
    // Every live finding points at the entry of the server that said it.
    let config = std::fs::read_to_string(home.path().join(".cursor/mcp.json")).unwrap();
    let calc_line = config.lines().position(|l| l.contains("\"calc\"")).unwrap() + 1;
    for f in findings.iter().filter(|f| f["code"] == "PC301") {
        assert_eq!(f["path"], "~/.cursor/mcp.json", "{f}");
        assert_eq!(f["start"]["line"], calc_line, "{f}");
        assert_eq!(f["server"], "calc", "{f}");
    }
    // The clean server is not blamed for the poisoned one's text.
    assert!(
        !findings
            .iter()
            .any(|f| f["server"] == "plain" && f["code"] == "PC301"),
        "{findings:?}"
    );
    // The crashing server is a note, not a failure of the scan.
    let notes = report["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("server `broken` could not be inspected")),
        "{notes:?}"
    );
}

#[test]
fn scan_inspect_launches_nothing_without_consent() {
    let home = tempfile::TempDir::new().unwrap();
    std::fs::create_dir_all(home.path().join(".cursor")).unwrap();
    std::fs::create_dir_all(home.path().join("work")).unwrap();
    let marker = home.path().join("launched");
    write_config(
        home.path(),
        &serde_json::json!({"mcpServers": {"probe": {
            "command": "sh", "args": ["-c", format!("touch '{}'", marker.display())]
        }}}),
    );
    let out = as_user(home.path())
        .args(["scan", "--inspect"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    // The list says exactly what would have run.
    assert!(stderr.contains("launch   sh -c"), "{stderr}");
    assert!(!marker.exists(), "a server was launched without consent");
    // Without --inspect nothing is launched either, and with --yes it is.
    as_user(home.path()).args(["scan"]).output().unwrap();
    assert!(!marker.exists());
    as_user(home.path())
        .args(["scan", "--inspect", "--yes", "--inspect-timeout", "5"])
        .output()
        .unwrap();
    assert!(marker.exists(), "--yes agreed, the command should have run");
}

#[test]
fn live_pins_catch_a_rug_pull_in_the_locked_live_scan() {
    let home = fake_home(&[("calc", &[])]);
    let work = home.path().join("work");
    let out = as_user(home.path())
        .args(["pin", "--inspect", "--yes", "--inspect-timeout", "20"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lock = std::fs::read_to_string(work.join("portcullis.lock")).unwrap();
    assert!(lock.contains("mcp.json#calc"), "{lock}");
    assert!(lock.contains("name = \"add\""), "{lock}");
    // Same server, same definitions: the locked live scan passes.
    let locked = |home: &Path| {
        as_user(home)
            .args([
                "scan",
                "--inspect=yes",
                "--locked",
                "--select",
                "PC311",
                "--color",
                "never",
                "--inspect-timeout",
                "20",
            ])
            .output()
            .unwrap()
    };
    let out = locked(home.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The server now serves other definitions under the same names: a rug pull.
    let mut config: Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join(".cursor/mcp.json")).unwrap(),
    )
    .unwrap();
    config["mcpServers"]["calc"]["args"] =
        serde_json::json!(["--tools", "poisoned", "--exit-after", "30"]);
    write_config(home.path(), &config);
    let out = locked(home.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("tool `add` of server"), "{stdout}");
    assert!(stdout.contains("changed since it was pinned"), "{stdout}");
    assert!(stdout.contains("description was: `"), "{stdout}");
    assert!(stdout.contains("description now: `"), "{stdout}");
    assert!(stdout.contains("~/.cursor/mcp.json"), "{stdout}");

    // A pinned server that no longer starts is not a pass, even when it was the only one.
    config["mcpServers"]["calc"]["args"] = serde_json::json!(["--misbehave", "crash"]);
    write_config(home.path(), &config);
    let out = locked(home.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("is pinned in portcullis.lock but was not found in this scan"),
        "{stdout}"
    );
    assert!(stdout.contains("could not be inspected"), "{stdout}");
}

#[test]
fn pin_a_named_live_server() {
    let dir = tempfile::TempDir::new().unwrap();
    let lock = dir.path().join("portcullis.lock");
    let out = portcullis()
        .current_dir(dir.path())
        .args(["pin", "--inspect-timeout", "20", "-o"])
        .arg(&lock)
        .arg("--")
        .arg(testserver())
        .args(["--exit-after", "30"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(
        text.contains("portcullis-testserver --exit-after 30"),
        "{text}"
    );
    assert!(text.contains("[[server.tool]]"), "{text}");
}

#[test]
fn scan_inspect_gives_each_server_its_own_time_limit() {
    let home = fake_home(&[
        ("stuck", &["--misbehave", "hang"]),
        ("calc", &["--tools", "poisoned"]),
    ]);
    let out = as_user(home.path())
        .args([
            "scan",
            "--inspect=yes",
            "--format",
            "json",
            "--inspect-timeout",
            "4",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The hanging server is given up on and said so; the other one is still audited.
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("server `stuck` could not be inspected")),
        "{notes:?}"
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["server"] == "calc" && f["code"] == "PC301")
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn scan_inspect_gives_project_servers_their_workspace_and_cwd() {
    // A project config, as VS Code reads it: `${workspaceFolder}` is the project, a relative
    // `cwd` is under it, and the server starts there rather than in a scratch folder.
    let home = tempfile::TempDir::new().unwrap();
    let project = home.path().join("work");
    std::fs::create_dir_all(project.join(".vscode")).unwrap();
    std::fs::create_dir_all(project.join("tools")).unwrap();
    let script = format!(
        "pwd > \"${{workspaceFolder}}/seen\" && exec '{}' --exit-after 30",
        testserver().display()
    );
    std::fs::write(
        project.join(".vscode/mcp.json"),
        serde_json::to_string_pretty(&serde_json::json!({"servers": {"probe": {
            "command": "sh",
            "args": ["-c", script],
            "cwd": "tools",
            "env": {"KEY": "${input:api-key}"}
        }}}))
        .unwrap(),
    )
    .unwrap();
    let out = as_user(home.path())
        .args(["scan", "--inspect=yes", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{stderr}");
    let seen = std::fs::read_to_string(project.join("seen")).unwrap();
    assert_eq!(
        Path::new(seen.trim()).canonicalize().unwrap(),
        project.join("tools").canonicalize().unwrap()
    );
    // The consent list says where it runs; the notes say what the client alone could fill in.
    assert!(stderr.contains("(the config's cwd)"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("${input:api-key} has no value outside the client"),
        "{notes}"
    );
    assert!(notes.contains("NOT a scratch folder"), "{notes}");
    assert!(
        notes.contains("inspected 1 configured server live"),
        "{notes}"
    );
}
