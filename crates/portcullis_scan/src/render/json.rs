//! JSON for programs. The schema is versioned (`version`) and documented in `docs/json-output.md`;
//! fields are only ever added within a version.

use serde::Serialize;

use crate::report::Report;

/// Version of the JSON output schema.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    tool: JsonTool,
    summary: JsonSummary,
    findings: Vec<JsonFinding<'a>>,
    servers: &'a [crate::report::ServerSummary],
    notes: &'a [String],
}

#[derive(Serialize)]
struct JsonTool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonSummary {
    files_scanned: usize,
    servers: usize,
    findings: usize,
    suppressed: usize,
    by_severity: std::collections::BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'static str,
    rule: &'static str,
    severity: &'static str,
    confidence: &'static str,
    cwe: Vec<String>,
    message: &'a str,
    help: Option<&'a str>,
    path: &'a str,
    server: Option<&'a str>,
    start: crate::source::LineCol,
    end: crate::source::LineCol,
    fingerprint: &'a str,
    trace: Vec<JsonStep<'a>>,
}

#[derive(Serialize)]
struct JsonStep<'a> {
    message: &'a str,
    path: &'a str,
    start: crate::source::LineCol,
    end: crate::source::LineCol,
}

pub fn render(report: &Report) -> String {
    let findings = report
        .findings
        .iter()
        .map(|f| {
            let d = &f.diagnostic;
            JsonFinding {
                code: d.rule.code,
                rule: d.rule.name,
                severity: d.severity.as_str(),
                confidence: d.confidence.as_str(),
                cwe: d.rule.cwe.iter().map(|c| format!("CWE-{c}")).collect(),
                message: &d.message,
                help: d.help.as_deref(),
                path: &d.file.display,
                server: d.server.as_deref(),
                start: d.start(),
                end: d.end(),
                fingerprint: &f.fingerprint,
                trace: d
                    .trace
                    .iter()
                    .map(|s| JsonStep {
                        message: &s.message,
                        path: &s.file.display,
                        start: s.file.line_col(s.span.start),
                        end: s.file.line_col(s.span.end),
                    })
                    .collect(),
            }
        })
        .collect();
    let json = JsonReport {
        version: SCHEMA_VERSION,
        tool: JsonTool {
            name: "portcullis",
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: JsonSummary {
            files_scanned: report.files_scanned,
            servers: report.servers.len(),
            findings: report.findings.len(),
            suppressed: report.suppressed,
            by_severity: report
                .count_by_severity()
                .into_iter()
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
        },
        findings,
        servers: &report.servers,
        notes: &report.notes,
    };
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
}
