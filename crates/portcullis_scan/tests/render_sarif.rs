//! The SARIF renderer on hand-built reports: structure GitHub code scanning relies on, every rule
//! listed, regions in code points, fingerprints, and no secret anywhere in the log.
//!
//! Set `PORTCULLIS_SARIF_DUMP=<folder>` to also write the sample logs there, for
//! `scripts/validate-sarif.sh`.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use portcullis_scan::diagnostic::{Diagnostic, TraceStep};
use portcullis_scan::registry;
use portcullis_scan::render::sarif;
use portcullis_scan::source::SourceFile;
use portcullis_scan::span::Span;
use portcullis_scan::{Report, Severity};

use common::{SECRET, SECRET_MIDDLE, finding, rule, span_of};
use serde_json::Value;

/// A config with a literal token (and `é` before it, so columns differ from bytes) and a
/// plain-HTTP remote, plus an unparseable file in a folder with a space in its name.
fn sample_report() -> Report {
    let text = format!(
        "{{\n  \"servers\": {{\n    \"github\": {{\n      \"command\": \"github-mcp-server\",\n      \"env\": {{ \"NOTE_é\": \"x\", \"GITHUB_TOKEN\": \"{SECRET}\" }}\n    }},\n    \"crm\": {{ \"url\": \"http://mcp.example.com/mcp\" }}\n  }}\n}}\n"
    );
    let mut file = SourceFile::from_text(".vscode/mcp.json", &text);
    let secret = span_of(&file, SECRET);
    file.secret_spans.push(secret);
    let file = Arc::new(file);
    let url = span_of(&file, "http://mcp.example.com/mcp");
    let crm = span_of(&file, "\"crm\"");

    let broken = Arc::new(SourceFile::from_text(
        "my configs/.mcp.json",
        "{ \"mcpServers\": { \"fs\": { \"command\": \"npx\", }\n",
    ));
    let broken_at = span_of(&broken, ",");

    let findings = vec![
        finding(
            Diagnostic::new(
                rule("PC201"),
                &file,
                secret,
                "`GITHUB_TOKEN` of server `github` holds a GitHub token `ghp_****j37H`",
            )
            .with_help("Use `${GITHUB_TOKEN}` and keep the value in the environment")
            .with_server("github"),
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
        finding(Diagnostic::new(
            rule("PC901"),
            &broken,
            broken_at,
            "`my configs/.mcp.json` is not valid JSON: trailing comma",
        )),
    ];
    Report {
        findings,
        servers: Vec::new(),
        files_scanned: 2,
        suppressed: 0,
        notes: vec!["1 file was skipped: too large".to_string()],
    }
}

fn parse(sarif: &str) -> Value {
    serde_json::from_str(sarif).expect("SARIF output is JSON")
}

fn dump(name: &str, sarif: &str) {
    if let Some(dir) = std::env::var_os("PORTCULLIS_SARIF_DUMP") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("create dump folder");
        std::fs::write(dir.join(name), sarif).expect("write SARIF dump");
    }
}

#[test]
fn log_has_one_run_with_the_tool_and_every_rule() {
    let out = sarif::render(&sample_report());
    dump("sample.sarif", &out);
    let log = parse(&out);
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["automationDetails"]["id"], "portcullis/");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert_eq!(
        run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"],
        "1 file was skipped: too large"
    );
    assert!(run["originalUriBaseIds"]["%SRCROOT%"].is_object());

    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "portcullis");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );

    let rules = driver["rules"].as_array().expect("rules");
    let all = registry::all_rules();
    assert_eq!(rules.len(), all.len());
    for (descriptor, meta) in rules.iter().zip(&all) {
        assert_eq!(descriptor["id"], meta.code);
        let name = descriptor["name"].as_str().unwrap();
        assert!(
            name.chars().next().unwrap().is_ascii_uppercase() && !name.contains('-'),
            "{name} is PascalCase"
        );
        assert_eq!(descriptor["shortDescription"]["text"], meta.summary);
        let full = descriptor["fullDescription"]["text"].as_str().unwrap();
        assert!(!full.is_empty() && full.chars().count() <= 1024);
        // The "What it does" section, its hard-wrapped lines joined.
        let what = meta.doc_section("What it does").unwrap_or_default();
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        // Cut at GitHub's 1024-character limit with an ellipsis when longer.
        match words(full).strip_suffix('…') {
            Some(cut) => assert!(words(&what).starts_with(cut.trim_end()), "{}", meta.code),
            None => assert_eq!(words(full), words(&what), "{}", meta.code),
        }
        let help = descriptor["help"]["markdown"].as_str().unwrap();
        assert!(help.contains("## Why is this bad?"), "{}", meta.code);
        assert_eq!(descriptor["help"]["text"], help);
        let tags: Vec<&str> = descriptor["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"security"));
        for cwe in meta.cwe {
            assert!(tags.contains(&format!("external/cwe/cwe-{cwe}").as_str()));
        }
        assert_eq!(
            descriptor["properties"]["security-severity"],
            meta.severity.security_score()
        );
        assert_eq!(
            descriptor["properties"]["precision"],
            meta.confidence.as_str()
        );
    }
    let pc201 = rules.iter().find(|r| r["id"] == "PC201").unwrap();
    assert_eq!(pc201["name"], "PlaintextSecretInConfig");
    assert_eq!(pc201["defaultConfiguration"]["level"], "error");
    assert_eq!(
        pc201["properties"]["tags"],
        serde_json::json!(["security", "external/cwe/cwe-798"])
    );
}

#[test]
fn results_point_at_the_span_in_code_points() {
    let report = sample_report();
    let log = parse(&sarif::render(&report));
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);

    for (result, finding) in results.iter().zip(&report.findings) {
        let d = &finding.diagnostic;
        assert_eq!(result["ruleId"], d.rule.code);
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], d.rule.code);
        assert_eq!(result["message"]["text"], d.message.as_str());
        assert_eq!(result["properties"]["severity"], d.severity.as_str());
        assert_eq!(result["properties"]["confidence"], d.confidence.as_str());
        assert_eq!(
            result["partialFingerprints"]["portcullis/v1"],
            finding.fingerprint.as_str()
        );
        let line_hash = result["partialFingerprints"]["primaryLocationLineHash"]
            .as_str()
            .unwrap();
        let (hex, n) = line_hash.split_once(':').unwrap();
        assert!(!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(n.parse::<usize>().unwrap() >= 1);
    }

    let secret = &results[0];
    assert_eq!(secret["level"], "error");
    let location = &secret["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], ".vscode/mcp.json");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    // Line 5 is `      "env": { "NOTE_é": "x", "GITHUB_TOKEN": "ghp_…" }`: the token starts
    // at code point 46 (byte 47, because `é` is two bytes).
    let line = report.findings[0].diagnostic.file.line_text(5);
    let byte_col = line.find(SECRET).unwrap() + 1;
    let col = line[..byte_col - 1].chars().count() + 1;
    assert_eq!(col + 1, byte_col);
    assert_eq!(
        location["region"],
        serde_json::json!({
            "startLine": 5, "startColumn": col,
            "endLine": 5, "endColumn": col + SECRET.chars().count(),
        })
    );
    assert_eq!(secret["properties"]["server"], "github");
    assert!(secret.get("codeFlows").is_none());

    let cleartext = &results[1];
    assert_eq!(cleartext["level"], "error");
    let steps = cleartext["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(
        steps[0]["location"]["message"]["text"],
        "server `crm` is declared here"
    );
    assert_eq!(
        steps[1]["location"]["physicalLocation"]["region"]["startLine"],
        7
    );

    let broken = &results[2];
    assert_eq!(broken["level"], "warning");
    assert_eq!(
        broken["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "my%20configs/.mcp.json"
    );
}

#[test]
fn levels_follow_severity() {
    let file = Arc::new(SourceFile::from_text("a.json", "{}\n"));
    let expected = [
        (Severity::Critical, "error"),
        (Severity::High, "error"),
        (Severity::Medium, "warning"),
        (Severity::Low, "note"),
        (Severity::Info, "note"),
    ];
    let findings = expected
        .iter()
        .map(|(severity, _)| {
            finding(
                Diagnostic::new(rule("PC901"), &file, Span::new(0, 2), "x")
                    .with_severity(*severity),
            )
        })
        .collect();
    let report = Report {
        findings,
        ..Report::default()
    };
    let log = parse(&sarif::render(&report));
    for (result, (severity, level)) in log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(expected)
    {
        assert_eq!(result["level"], level, "{severity}");
    }
}

#[test]
fn no_secret_appears_anywhere() {
    let out = sarif::render(&sample_report());
    assert!(!out.contains(SECRET));
    assert!(!out.contains(SECRET_MIDDLE));
    assert!(!out.contains("\"snippet\""));
    assert!(!out.contains("\"contextRegion\""));
}

#[test]
fn line_hash_does_not_depend_on_the_secret() {
    // Computed over masked text: two secrets with the same ends and length hash alike, so the
    // fingerprint reveals nothing about the hidden middle.
    let render_with = |secret: &str| {
        let text = format!("{{ \"env\": {{ \"TOKEN\": \"{secret}\" }} }}\n");
        let mut file = SourceFile::from_text("a.json", &text);
        let span = span_of(&file, secret);
        file.secret_spans.push(span);
        let file = Arc::new(file);
        let report = Report {
            findings: vec![finding(Diagnostic::new(rule("PC201"), &file, span, "m"))],
            ..Report::default()
        };
        parse(&sarif::render(&report))["runs"][0]["results"][0]["partialFingerprints"]
            ["primaryLocationLineHash"]
            .clone()
    };
    assert_eq!(
        render_with(SECRET),
        render_with("ghp_00000000000000000000000000000000j37H")
    );
}

#[test]
fn paths_outside_the_working_folder_are_file_uris() {
    let home = Arc::new(SourceFile::new(
        PathBuf::from("/home/dev/.cursor/my mcp.json"),
        "~/.cursor/my mcp.json".to_string(),
        "{}\n".to_string(),
    ));
    let absolute = Arc::new(SourceFile::new(
        PathBuf::from("/etc/mcp/config.json"),
        "/etc/mcp/config.json".to_string(),
        "{}\n".to_string(),
    ));
    let report = Report {
        findings: vec![
            finding(Diagnostic::new(rule("PC901"), &home, Span::new(0, 1), "x")),
            finding(Diagnostic::new(
                rule("PC901"),
                &absolute,
                Span::new(0, 1),
                "x",
            )),
        ],
        ..Report::default()
    };
    let out = sarif::render(&report);
    dump("outside.sarif", &out);
    let log = parse(&out);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let artifact = |i: usize| &results[i]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(artifact(0)["uri"], "file:///home/dev/.cursor/my%20mcp.json");
    assert!(artifact(0).get("uriBaseId").is_none());
    assert_eq!(artifact(1)["uri"], "file:///etc/mcp/config.json");
}

#[test]
fn output_is_deterministic() {
    assert_eq!(
        sarif::render(&sample_report()),
        sarif::render(&sample_report())
    );
}

#[test]
fn empty_report_is_a_valid_log_with_every_rule() {
    let out = sarif::render(&Report::default());
    dump("empty.sarif", &out);
    let log = parse(&out);
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        registry::all_rules().len()
    );
}

/// The log of a small report, with the rule list cut to the rules that fired so that adding a
/// rule elsewhere does not churn this snapshot (the full list is checked above; `ruleIndex`
/// still counts in the full list).
#[test]
fn snapshot_of_a_small_report() {
    let out = sarif::render(&sample_report());
    let mut log = parse(&out);
    let fired: Vec<Value> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].clone())
        .collect();
    let driver = &mut log["runs"][0]["tool"]["driver"];
    let rules = driver["rules"].as_array_mut().unwrap();
    rules.retain(|r| fired.contains(&r["id"]));
    driver["semanticVersion"] = Value::from("[version]");
    insta::assert_snapshot!(serde_json::to_string_pretty(&log).unwrap());
}
