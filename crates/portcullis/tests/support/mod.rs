//! Support shared by the CLI tests that talk to a real MCP server.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The `portcullis-testserver` binary of this build. `cargo test --workspace` builds it; when
/// it is missing or older than its sources (a test run of this crate alone), it is built with
/// the same profile and target folder. It is not built every time: a `-p` build resolves
/// features differently and would compile its dependencies a second time.
pub fn testserver() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        // target/<profile>/deps/<test>-<hash>
        let exe = std::env::current_exe().expect("test executable");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let target_dir = profile_dir.parent().expect("target folder");
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev".to_string(),
            Some(other) => other.to_string(),
        };
        let path = profile_dir.join(format!(
            "portcullis-testserver{}",
            std::env::consts::EXE_SUFFIX
        ));
        let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../portcullis_testserver");
        if path.exists() && modified(&path) >= newest(&sources) {
            return path;
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "portcullis_testserver",
                "--bin",
                "portcullis-testserver",
                "--profile",
                &profile,
                "--target-dir",
            ])
            .arg(target_dir)
            .status()
            .expect("run cargo build for the test server");
        assert!(status.success(), "cannot build portcullis-testserver");
        assert!(path.exists(), "{} missing", path.display());
        path
    })
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::UNIX_EPOCH)
}

/// The newest modification time of the files under `dir`.
fn newest(dir: &Path) -> std::time::SystemTime {
    let mut latest = modified(dir);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let time = if path.is_dir() {
            newest(&path)
        } else {
            modified(&path)
        };
        latest = latest.max(time);
    }
    latest
}

/// The test server over streamable HTTP on 127.0.0.1, with `args` added (`--exit-after`,
/// `--require-token`, `--rug-pull`...); returns it and the URL it serves.
#[allow(dead_code)] // Not every test file that includes this module starts one.
pub fn http_testserver(args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut server = Command::new(testserver())
        .args(["--transport", "http"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the test server");
    let mut url = String::new();
    std::io::BufReader::new(server.stdout.take().expect("its stdout"))
        .read_line(&mut url)
        .expect("the test server's URL");
    let url = url.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (server, url)
}
