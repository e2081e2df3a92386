//! The real binary on small trees: discovery with a fake home, exit codes, formats, baselines,
//! settings, and hostile input that must not stop a scan.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

const TOKEN: &str = "ghp_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa";

/// `portcullis` with a clean environment: only `HOME` (fake) and `PATH`.
fn portcullis(home: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("portcullis").unwrap();
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(cwd);
    cmd
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(output)))
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}@{}",
                f["code"].as_str().unwrap(),
                f["path"].as_str().unwrap()
            )
        })
        .collect()
}

/// A fake home with configs of several clients, and a project folder.
fn machine() -> (TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = TempDir::new().unwrap();
    let home = tmp.path().join("home");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    write(
        &home,
        ".cursor/mcp.json",
        &format!(
            r#"{{"mcpServers": {{"gh": {{"command": "gh-mcp", "env": {{"GITHUB_TOKEN": "{TOKEN}"}}}}}}}}"#
        ),
    );
    write(
        &home,
        ".config/Claude/claude_desktop_config.json",
        r#"{"mcpServers": {"crm": {"command": "crm-mcp"}}}"#,
    );
    write(
        &home,
        ".codex/config.toml",
        "[mcp_servers.docs]\nurl = \"http://docs.example.com/mcp\"\n",
    );
    write(
        &home,
        ".config/goose/config.yaml",
        "extensions:\n  dev:\n    type: builtin\n    enabled: true\n",
    );
    write(
        &home,
        ".claude.json",
        r#"{"projects": {"/p": {"mcpServers": {"local": {"command": "x"}}}}}"#,
    );
    write(
        &project,
        ".vscode/mcp.json",
        "{\n  // workspace servers\n  \"servers\": {\"remote\": {\"type\": \"http\", \"url\": \"http://api.example.com/mcp\"}},\n}\n",
    );
    (tmp, home, project)
}

#[test]
fn scan_without_arguments_finds_the_users_configs_and_the_project() {
    let (_tmp, home, project) = machine();
    let out = portcullis(&home, &project)
        .args(["scan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out.stdout);
    let clients: Vec<&str> = report["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["client"].as_str().unwrap())
        .collect();
    for client in [
        "cursor",
        "claude-desktop",
        "codex",
        "goose",
        "claude-code",
        "vscode",
    ] {
        assert!(
            clients.contains(&client),
            "{client} not discovered: {clients:?}"
        );
    }
    let found = codes(&report);
    assert!(
        found.contains(&"PC201@~/.cursor/mcp.json".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"PC209@~/.codex/config.toml".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"PC209@.vscode/mcp.json".to_string()),
        "{found:?}"
    );
}

#[test]
fn named_paths_skip_the_users_configs_unless_asked() {
    let (_tmp, home, project) = machine();
    let out = portcullis(&home, &project)
        .args(["scan", ".", "--format", "json"])
        .output()
        .unwrap();
    let report = json_of(&out.stdout);
    assert!(
        codes(&report).iter().all(|c| !c.contains("~/")),
        "{:?}",
        codes(&report)
    );
    let out = portcullis(&home, &project)
        .args(["scan", ".", "--user-configs", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        codes(&json_of(&out.stdout))
            .iter()
            .any(|c| c.contains("~/.cursor"))
    );
}

#[test]
fn exit_codes_follow_fail_on() {
    let (_tmp, home, project) = machine();
    portcullis(&home, &project)
        .args(["scan", ".", "--fail-on", "critical"])
        .assert()
        .code(0);
    portcullis(&home, &project)
        .args(["scan", ".", "--fail-on", "high"])
        .assert()
        .code(1);
    let clean = TempDir::new().unwrap();
    write(
        clean.path(),
        ".mcp.json",
        r#"{"mcpServers": {"time": {"command": "uvx", "args": ["mcp-server-time==2025.9.25"]}}}"#,
    );
    portcullis(&home, clean.path())
        .args(["scan", "."])
        .assert()
        .code(0);
    portcullis(&home, clean.path())
        .args(["scan", "does-not-exist"])
        .assert()
        .code(2);
    portcullis(&home, clean.path())
        .args(["scan", ".", "--select", "no-such-rule"])
        .assert()
        .code(2);
}

#[test]
fn no_format_prints_a_secret_whole() {
    let (_tmp, home, project) = machine();
    for format in ["text", "json", "sarif", "html"] {
        let out = portcullis(&home, &project)
            .args(["scan", "--format", format])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("PC201") || stdout.contains("plaintext-secret-in-config"),
            "{format}: {stdout}"
        );
        assert!(
            !stdout.contains(TOKEN) && !stdout.contains(&TOKEN[4..30]),
            "{format} leaks the secret:\n{stdout}"
        );
        assert!(!String::from_utf8_lossy(&out.stderr).contains(&TOKEN[4..30]));
    }
}

#[test]
fn text_output_has_a_code_frame_and_no_colour_in_a_pipe() {
    let (_tmp, home, project) = machine();
    let out = portcullis(&home, &project)
        .args(["scan", "."])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(".vscode/mcp.json:3:"), "{stdout}");
    assert!(
        stdout.contains("\"url\": \"http://api.example.com/mcp\""),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{1b}'), "colour codes in a pipe");
    assert!(
        out.stderr.is_empty(),
        "progress or noise on stderr in a pipe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_broken_file_is_reported_and_the_scan_goes_on() {
    let tmp = TempDir::new().unwrap();
    write(
        tmp.path(),
        ".cursor/mcp.json",
        "{\"mcpServers\": {\"a\": {\"command\": \"x\",, }}}",
    );
    write(
        tmp.path(),
        ".mcp.json",
        r#"{"mcpServers": {"r": {"url": "http://remote.example.com/mcp"}}}"#,
    );
    std::fs::write(tmp.path().join("binary.json"), b"\x00\x01mcpServers\x00").unwrap();
    write(
        tmp.path(),
        ".vscode/mcp.json",
        &format!("{{\"servers\": {}}}", "[".repeat(200_000)),
    );
    let out = portcullis(tmp.path(), tmp.path())
        .args(["scan", ".", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let found = codes(&json_of(&out.stdout));
    assert!(
        found.contains(&"PC901@.cursor/mcp.json".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"PC901@.vscode/mcp.json".to_string()),
        "{found:?}"
    );
    assert!(found.contains(&"PC209@.mcp.json".to_string()), "{found:?}");
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_non_utf8_names_do_not_stop_a_scan() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = TempDir::new().unwrap();
    std::os::unix::fs::symlink(tmp.path(), tmp.path().join("loop")).unwrap();
    let odd = tmp.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    write(
        &odd,
        ".mcp.json",
        r#"{"mcpServers": {"r": {"url": "http://remote.example.com/mcp"}}}"#,
    );
    let out = portcullis(tmp.path(), tmp.path())
        .args(["scan", ".", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        codes(&json_of(&out.stdout))
            .iter()
            .any(|c| c.starts_with("PC209@caf"))
    );
}

#[test]
fn baselines_hide_known_findings_and_only_those() {
    let (_tmp, home, project) = machine();
    let baseline = project.join("baseline.json");
    portcullis(&home, &project)
        .args(["scan", ".", "--write-baseline"])
        .arg(&baseline)
        .assert()
        .code(1);
    portcullis(&home, &project)
        .args(["scan", ".", "--baseline"])
        .arg(&baseline)
        .assert()
        .code(0);
    write(
        &project,
        ".mcp.json",
        r#"{"mcpServers": {"new": {"url": "http://new.example.com/mcp"}}}"#,
    );
    let out = portcullis(&home, &project)
        .args(["scan", ".", "--format", "json", "--baseline"])
        .arg(&baseline)
        .output()
        .unwrap();
    assert_eq!(codes(&json_of(&out.stdout)), vec!["PC209@.mcp.json"]);
}

#[test]
fn settings_and_inline_suppressions_apply() {
    let (_tmp, home, project) = machine();
    write(
        &project,
        "portcullis.toml",
        "[rules]\nignore = [\"cleartext-remote-transport\"]\n",
    );
    portcullis(&home, &project)
        .args(["scan", "."])
        .assert()
        .code(0);
    write(&project, "portcullis.toml", "[rules]\nignor = []\n");
    let out = portcullis(&home, &project)
        .args(["scan", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("portcullis.toml"),
        "the error names the file"
    );
    std::fs::remove_file(project.join("portcullis.toml")).unwrap();
    write(
        &project,
        ".vscode/mcp.json",
        "{\"servers\": {\"remote\": {\"type\": \"http\",\n  // portcullis-ignore: PC209 -- lab server\n  \"url\": \"http://api.example.com/mcp\"}}}\n",
    );
    portcullis(&home, &project)
        .args(["scan", "."])
        .assert()
        .code(0);
}

#[test]
fn rules_and_explain() {
    let tmp = TempDir::new().unwrap();
    let out = portcullis(tmp.path(), tmp.path())
        .arg("rules")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PC201")
            && text.contains("plaintext-secret-in-config")
            && text.contains("CWE-798")
    );
    let out = portcullis(tmp.path(), tmp.path())
        .args(["explain", "PC209"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("# cleartext-remote-transport (PC209)")
            && text.contains("## Why is this bad?")
    );
    portcullis(tmp.path(), tmp.path())
        .args(["explain", "nope"])
        .assert()
        .code(2);
}

/// Every provider token written in the fixture files.
fn fixture_tokens(dir: &Path) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            for prefix in [
                "ghp_",
                "github_pat_",
                "sk-ant-api03-",
                "xoxb-",
                "hf_",
                "sk_live_",
            ] {
                for (at, _) in text.match_indices(prefix) {
                    let token: String = text[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                        .collect();
                    if token.len() >= 30 {
                        tokens.push(token);
                    }
                }
            }
        }
    }
    tokens
}

/// Every fixture in every format: nothing panics, and none of the tokens the fixtures hold (in
/// every place a config can hold one) appears whole, nor its middle.
#[test]
fn every_format_renders_the_fixtures_without_leaking_a_token() {
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../portcullis_scan/resources/fixtures");
    let tokens = fixture_tokens(&fixtures);
    assert!(
        tokens.len() >= 5,
        "the fixtures hold tokens to look for: {tokens:?}"
    );
    let tmp = TempDir::new().unwrap();
    for format in ["text", "json", "sarif", "html"] {
        let out = portcullis(tmp.path(), tmp.path())
            .args(["scan", "--no-user-configs", "--format", format])
            .arg(&fixtures)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        for token in &tokens {
            assert!(
                !text.contains(&token[8..32]),
                "{format} shows the token {}…",
                &token[..8]
            );
        }
    }
}
