//! The test server starts, answers `initialize` on stdio, and stops by itself. (Having an
//! integration test also makes `cargo test --workspace` build the binary, which portcullis's
//! own tests then launch.)

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn answers_initialize_on_stdio_and_stops_by_itself() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis-testserver"))
        .args(["--exit-after", "10"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\
              \"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}\n",
        )
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\"serverInfo\":{\"name\":\"portcullis-testserver\""),
        "{text}"
    );
}
