//! Helpers shared by the CLI tests that run `portcullis` and its gateway: running the binary
//! (in a fake HOME too), writing a policy, reading the audit log, reading answers, and waiting
//! for a process to go. Included with `#[path]` by the test files that need it; every wait has
//! a deadline.

// Each test file uses a different part.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
#[cfg(unix)]
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{Value, json};

/// Runs `portcullis ARGS` and returns its output.
pub fn portcullis(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("portcullis")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

/// Runs `cmd`, asserting it succeeds; its standard output.
pub fn ok(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A temporary HOME and project folder (canonical paths), gone with the value.
pub struct FakeHome {
    _tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub project: PathBuf,
}

impl FakeHome {
    pub fn new() -> FakeHome {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let home = root.join("home");
        let project = root.join("project");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        FakeHome {
            _tmp: tmp,
            home,
            project,
        }
    }

    /// `portcullis` run in the project with this HOME, and none of the variables that would
    /// point a client's configuration elsewhere.
    pub fn portcullis(&self) -> Command {
        let mut cmd = Command::cargo_bin("portcullis").unwrap();
        cmd.current_dir(&self.project).env("HOME", &self.home);
        for var in [
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
            "CODEX_HOME",
            "CLAUDE_CONFIG_DIR",
            "APPDATA",
            "USERPROFILE",
            "CLINE_DIR",
            "CLINE_MCP_SETTINGS_PATH",
            "OPENCODE_CONFIG",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }
}

/// Writes `text` as `policy.toml` in `dir`; its path.
pub fn write_policy(dir: &Path, text: &str) -> String {
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Every record of the audit log, as `portcullis audit export` writes them.
pub fn records(audit: &Path) -> Vec<Value> {
    let out = portcullis(&["audit", "export", "--audit", audit.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The audit log's records once `done` holds for them, or as they are after 10 s. Completion
/// and refusal records are written a moment after the answer (deferred, see audit.rs), so a
/// test that looks for one right after its answer waits for it.
pub fn records_when(audit: &Path, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let recs = records(audit);
        if done(&recs) || std::time::Instant::now() > deadline {
            return recs;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Asserts `portcullis audit verify` finds the hash chain intact.
pub fn assert_chain_holds(audit: &Path) {
    let out = portcullis(&["audit", "verify", "--audit", audit.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The text of a `tools/call` result; panics on anything else.
pub fn text_of(response: &Value) -> &str {
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("not a text result: {response}"))
}

/// Whether the gateway refused the request by policy (its error code).
pub fn refused(response: &Value) -> bool {
    response["error"]["code"] == json!(-32001)
}

/// Whether process `pid` still runs (a zombie waiting to be reaped does not).
#[cfg(unix)]
pub fn running(pid: &str) -> bool {
    let out = Command::new("ps")
        .args(["-o", "stat=", "-p", pid])
        .output()
        .unwrap();
    let stat = String::from_utf8_lossy(&out.stdout);
    out.status.success() && !stat.trim().is_empty() && !stat.trim().starts_with('Z')
}

/// Waits (bounded) for `pid` to be gone; whether it went.
#[cfg(unix)]
pub fn gone(pid: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !running(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
