//! The gateway's robustness at the edges: a server whose descendants leave its process group
//! (`setsid`, a double-forked daemon), server messages that find no GET stream open, and batches
//! holding a call the user is asked about. Every server started here has a bounded lifetime and
//! every wait a deadline; a process a test starts that could outlive it is killed at the end.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;
#[path = "support/session.rs"]
mod session;

use assert_cmd::cargo::CommandCargoExt;
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
    let state = stat.rsplit_once(')').map(|(_, r)| r.trim_start().chars().next());
    stat.contains("(sleep)") && !matches!(state, Some(Some('Z' | 'X')))
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
                let pid = std::fs::read_to_string(e.path()).ok()?.trim().parse().ok()?;
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
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
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
    assert!(sleeping(setsid) && sleeping(daemon));
    let reply = gateway.call(3, "echo", serde_json::json!({"text": "hi"}));
    assert_eq!(session::text_of(&reply), Some("hi"), "{reply}");
    // Closing the client's side ends the gateway (the session's drop waits for it).
    drop(gateway);
    assert!(ends(setsid), "the setsid'ed child {setsid} outlived the gateway");
    assert!(ends(daemon), "the double-forked daemon {daemon} outlived the gateway");
}
