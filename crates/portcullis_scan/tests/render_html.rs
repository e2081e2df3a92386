//! The HTML renderer on hand-built reports: escaping, no secret, severity order, code frames,
//! and a clear page when there is nothing to report.
//!
//! Set `PORTCULLIS_HTML_DUMP=<folder>` to also write the sample pages there, for
//! `scripts/html-e2e.sh`.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use portcullis_scan::diagnostic::{Diagnostic, TraceStep};
use portcullis_scan::model::Transport;
use portcullis_scan::render::html;
use portcullis_scan::report::ServerSummary;
use portcullis_scan::source::SourceFile;
use portcullis_scan::span::Span;
use portcullis_scan::{Report, Severity};

use common::{SECRET, SECRET_MIDDLE, finding, rule, span_of};

fn server(file: &str, name: &str, transport: Transport) -> ServerSummary {
    ServerSummary {
        file: file.to_string(),
        client: "vscode",
        scope: "project",
        name: name.to_string(),
        transport,
        enabled: true,
    }
}

/// Findings of every severity but info, in two files, one of them with a secret; a message
/// carrying markup; a server name carrying markup.
fn sample_report() -> Report {
    let text = format!(
        "{{\n  \"servers\": {{\n    \"github\": {{\n      \"command\": \"github-mcp-server\",\n      \"env\": {{ \"GITHUB_TOKEN\": \"{SECRET}\" }}\n    }},\n    \"crm\": {{ \"url\": \"http://mcp.example.com/mcp\" }},\n    \"<img src=x onerror=alert(1)>\": {{ \"command\": \"x\" }}\n  }}\n}}\n"
    );
    let mut file = SourceFile::from_text(".vscode/mcp.json", &text);
    let secret = span_of(&file, SECRET);
    file.secret_spans.push(secret);
    let file = Arc::new(file);
    let url = span_of(&file, "http://mcp.example.com/mcp");
    let crm = span_of(&file, "\"crm\"");
    let odd = span_of(&file, "\"<img src=x onerror=alert(1)>\"");

    let broken = Arc::new(SourceFile::from_text(
        "my configs/.mcp.json",
        "{ \"mcpServers\": { \"fs\": { \"command\": \"npx\", }\n",
    ));

    let findings = vec![
        finding(
            Diagnostic::new(
                rule("PC201"),
                &file,
                secret,
                "`GITHUB_TOKEN` of server `github` holds a GitHub token `ghp_****j37H`",
            )
            .with_help("Use `${GITHUB_TOKEN}` and keep the value in the environment")
            .with_server("github")
            .with_severity(Severity::Critical),
        ),
        finding(
            Diagnostic::new(
                rule("PC209"),
                &file,
                url,
                "server `crm` is reached over unencrypted `http://` at `mcp.example.com`",
            )
            .with_server("crm")
            .with_trace(vec![
                TraceStep {
                    file: file.clone(),
                    span: crm,
                    message: "server `crm` is declared here".to_string(),
                },
                TraceStep {
                    file: file.clone(),
                    span: url,
                    message: "its URL uses `http://`".to_string(),
                },
            ]),
        ),
        finding(
            Diagnostic::new(
                rule("PC901"),
                &file,
                odd,
                "server name <script>alert('pwned')</script> & \"quotes\"",
            )
            .with_severity(Severity::Medium),
        ),
        finding(Diagnostic::new(
            rule("PC902"),
            &broken,
            span_of(&broken, ","),
            "`portcullis-ignore: plaintext-secret-in-config` suppresses nothing on line 1",
        )),
    ];
    Report {
        findings,
        servers: vec![
            server(".vscode/mcp.json", "github", Transport::Stdio),
            server(".vscode/mcp.json", "crm", Transport::StreamableHttp),
            server(
                ".vscode/mcp.json",
                "<img src=x onerror=alert(1)>",
                Transport::Stdio,
            ),
        ],
        files_scanned: 2,
        suppressed: 1,
        notes: vec!["1 file was skipped: `big.json` is too large".to_string()],
    }
}

fn dump(name: &str, page: &str) {
    if let Some(dir) = std::env::var_os("PORTCULLIS_HTML_DUMP") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("create dump folder");
        std::fs::write(dir.join(name), page).expect("write HTML dump");
    }
}

#[test]
fn page_is_self_contained() {
    let page = html::render(&sample_report());
    dump("sample.html", &page);
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.contains("<title>Portcullis report</title>"));
    assert!(page.contains("<h1>Portcullis report</h1>"));
    assert!(page.contains("Content-Security-Policy"));
    assert!(page.contains("prefers-color-scheme: dark"));
    // Markup in the report's own text is escaped (checked below), so these would be real tags.
    for external in ["<script", "<link", "<img", "<iframe", "@import", "url("] {
        assert!(!page.contains(external), "page contains {external}");
    }
    assert!(page.ends_with("</html>\n"));
}

#[test]
fn markup_in_messages_and_names_is_escaped() {
    let page = html::render(&sample_report());
    assert!(page.contains(
        "server name &lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"
    ));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // Backticks become code, their content escaped.
    assert!(page.contains("<code>GITHUB_TOKEN</code> of server <code>github</code>"));
}

#[test]
fn no_secret_appears() {
    let page = html::render(&sample_report());
    assert!(!page.contains(SECRET));
    assert!(!page.contains(SECRET_MIDDLE));
    // The code frame shows the masked value, highlighted.
    let masked = format!("ghp_{}j37H", "*".repeat(SECRET.len() - 8));
    assert!(page.contains(&format!("<mark>{masked}</mark>")));
}

#[test]
fn findings_are_grouped_by_severity_most_severe_first() {
    let page = html::render(&sample_report());
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("{needle} in page"))
    };
    let critical = at("<h3 id=\"severity-critical\"");
    let high = at("<h3 id=\"severity-high\"");
    let medium = at("<h3 id=\"severity-medium\"");
    let low = at("<h3 id=\"severity-low\"");
    assert!(critical < high && high < medium && medium < low);
    assert!(!page.contains("id=\"severity-info\""));
    // Each finding sits under its severity.
    let pc201 = at("<code>PC201</code>");
    let pc209 = at("<code>PC209</code>");
    let pc902 = at("<code>PC902</code>");
    assert!(critical < pc201 && pc201 < high);
    assert!(high < pc209 && pc209 < medium);
    assert!(low < pc902);
}

#[test]
fn summary_counts_and_details() {
    let page = html::render(&sample_report());
    assert!(page.contains("<dt>Files scanned</dt><dd>2</dd>"));
    assert!(page.contains("<dt>MCP servers</dt><dd>3</dd>"));
    assert!(page.contains("<dt>Findings</dt><dd>4</dd>"));
    assert!(page.contains("<dt>Suppressed</dt><dd>1</dd>"));
    assert!(page.contains(">1 critical</span>"));
    assert!(page.contains(">0 info</span>"));
    assert!(page.contains("https://cwe.mitre.org/data/definitions/798.html"));
    assert!(page.contains("<code>.vscode/mcp.json:5:33</code>"));
    assert!(page.contains("<summary>Why is this bad?</summary>"));
    assert!(page.contains("<strong>Help:</strong> Use <code>${GITHUB_TOKEN}</code>"));
    assert!(page.contains("server <code>crm</code> is declared here"));
    assert!(page.contains("<td>streamable HTTP</td>"));
    assert!(page.contains("<code>big.json</code> is too large"));
}

#[test]
fn empty_report_says_no_findings() {
    let report = Report {
        files_scanned: 3,
        ..Report::default()
    };
    let page = html::render(&report);
    dump("empty.html", &page);
    assert!(page.contains("<p class=\"empty\">No findings."));
    assert!(page.contains("scanned 3 files and 0 MCP servers"));
    assert!(page.contains("No MCP servers were found."));
}

#[test]
fn long_spans_and_lines_stay_readable() {
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!("line {i}\n"));
    }
    text.push_str(&format!("{}NEEDLE{}\n", "a".repeat(5000), "b".repeat(5000)));
    let file = Arc::new(SourceFile::from_text("big.json", &text));
    let whole = Span::new(
        file.line_start(3).unwrap(),
        file.line_start(30).unwrap() + 3,
    );
    let needle = span_of(&file, "NEEDLE");
    let report = Report {
        findings: vec![
            finding(Diagnostic::new(rule("PC901"), &file, whole, "long")),
            finding(Diagnostic::new(rule("PC903"), &file, needle, "wide")),
        ],
        ..Report::default()
    };
    let page = html::render(&report);
    assert!(page.contains("… 20 more lines"));
    assert!(page.contains("<mark>NEEDLE</mark>"));
    assert!(page.len() < 40_000, "page is {} bytes", page.len());
}

#[test]
fn output_is_deterministic() {
    assert_eq!(
        html::render(&sample_report()),
        html::render(&sample_report())
    );
}
