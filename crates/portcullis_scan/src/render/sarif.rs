//! SARIF 2.1.0 for code scanning (GitHub and any other SARIF consumer), as a small serde model
//! rather than a crate: we emit a fixed subset, and owning the structs keeps the output exactly
//! what GitHub's ingestion and the Microsoft validator (`--rule-kind "Sarif;Gh"`) expect.
//!
//! Every rule is listed, not only those that fired, so code scanning can show rule help for a
//! rule before its first alert. No file text is copied into the log (no `snippet`, no
//! `contextRegion`); the one value derived from file text, `primaryLocationLineHash`, is computed
//! over the masked text so that it cannot leak a secret.
//!
//! Paths inside the working folder become relative URIs against `%SRCROOT%`; paths outside it
//! (`~/.cursor/mcp.json`) become absolute `file://` URIs. GitHub cannot show the latter and the
//! validator reports them (GH1006), which is right: such findings are not about the repository.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::registry::{Confidence, RuleMeta, Severity, all_rules};
use crate::report::Report;
use crate::source::SourceFile;
use crate::span::Span;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The `uriBaseId` of paths relative to the folder portcullis ran in.
const SRCROOT: &str = "%SRCROOT%";
/// GitHub truncates longer descriptions; we cut them ourselves so the cut is visible.
const MAX_DESCRIPTION_CHARS: usize = 1024;
/// The project's home page: the package's `repository`, when the manifest sets it.
const INFORMATION_URI: &str = if env!("CARGO_PKG_REPOSITORY").is_empty() {
    "https://github.com/portcullis-mcp/portcullis"
} else {
    env!("CARGO_PKG_REPOSITORY")
};

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation<'a>; 1],
    automation_details: AutomationDetails,
    original_uri_base_ids: BTreeMap<&'static str, UriBase>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: DefaultConfiguration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct DefaultConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: BorrowedText<'a>,
}

#[derive(Serialize)]
struct BorrowedText<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct AutomationDetails {
    id: &'static str,
}

#[derive(Serialize)]
struct UriBase {
    description: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: BorrowedText<'a>,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow<'a>>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow<'a> {
    thread_flows: [ThreadFlow<'a>; 1],
}

#[derive(Serialize)]
struct ThreadFlow<'a> {
    locations: Vec<ThreadFlowLocation<'a>>,
}

#[derive(Serialize)]
struct ThreadFlowLocation<'a> {
    location: StepLocation<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StepLocation<'a> {
    physical_location: PhysicalLocation,
    message: BorrowedText<'a>,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    severity: &'static str,
    confidence: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
}

/// Renders `report` as a SARIF 2.1.0 log with one run. Same report, same bytes.
pub fn render(report: &Report) -> String {
    let mut rules = all_rules();
    // A finding of a rule missing from the registry still needs a descriptor to point at.
    for finding in &report.findings {
        let rule = finding.diagnostic.rule;
        if !rules.iter().any(|r| r.code == rule.code) {
            rules.push(rule);
        }
    }
    let index: BTreeMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.code, i)).collect();

    let mut line_hashes = LineHashes::default();
    let results = report
        .findings
        .iter()
        .map(|finding| {
            let d = &finding.diagnostic;
            let mut partial_fingerprints = BTreeMap::new();
            partial_fingerprints.insert(
                "primaryLocationLineHash",
                line_hashes.get(&d.file, d.start().line),
            );
            partial_fingerprints.insert("portcullis/v1", finding.fingerprint.clone());
            SarifResult {
                rule_id: d.rule.code,
                rule_index: index[d.rule.code],
                level: level(d.severity),
                message: BorrowedText { text: &d.message },
                locations: [Location {
                    physical_location: physical_location(&d.file, d.span),
                }],
                partial_fingerprints,
                code_flows: code_flows(d),
                properties: ResultProperties {
                    severity: d.severity.as_str(),
                    confidence: d.confidence.as_str(),
                    server: d.server.as_deref(),
                    help: d.help.as_deref(),
                },
            }
        })
        .collect();

    let notifications = report
        .notes
        .iter()
        .map(|note| Notification {
            level: "note",
            message: BorrowedText { text: note },
        })
        .collect();

    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "portcullis",
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules: rules.iter().map(|r| rule(r)).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications,
            }],
            automation_details: AutomationDetails { id: "portcullis/" },
            original_uri_base_ids: BTreeMap::from([(
                SRCROOT,
                UriBase {
                    description: Text {
                        text: "The folder portcullis was run in.".to_string(),
                    },
                },
            )]),
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

fn rule(meta: &RuleMeta) -> Rule {
    let doc = meta.doc();
    let doc = doc.trim();
    let full = meta
        .doc_section("What it does")
        .filter(|s| !s.is_empty())
        .map_or_else(|| meta.summary.to_string(), |s| unwrap_lines(&s));
    let help = if doc.is_empty() {
        meta.summary.to_string()
    } else {
        doc.to_string()
    };
    let mut tags = vec!["security".to_string()];
    tags.extend(meta.cwe.iter().map(|c| format!("external/cwe/cwe-{c}")));
    Rule {
        id: meta.code,
        name: pascal_case(meta.name),
        short_description: Text {
            text: truncate(meta.summary),
        },
        full_description: Text {
            text: truncate(&full),
        },
        help: Help {
            text: help.clone(),
            markdown: help,
        },
        default_configuration: DefaultConfiguration {
            level: level(meta.severity),
        },
        properties: RuleProperties {
            tags,
            precision: precision(meta.confidence),
            security_severity: meta.severity.security_score(),
        },
    }
}

/// `plaintext-secret-in-config` → `PlaintextSecretInConfig`, the "friendly name" form the SARIF
/// validator asks for (SARIF2012) and that must differ from the `id` (SARIF1001).
pub fn pascal_case(kebab: &str) -> String {
    kebab
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Joins the hard-wrapped lines of each paragraph (doc comments wrap at 100 columns), keeping
/// blank lines, list items and code fences on lines of their own: `fullDescription` is plain
/// text, shown as it is.
fn unwrap_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_fence = false;
    let mut prev_blank = true;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let fence = trimmed.starts_with("```");
        let own_line = in_fence
            || fence
            || trimmed.is_empty()
            || prev_blank
            || trimmed.starts_with("- ")
            || trimmed.starts_with("* ")
            || trimmed.starts_with('|');
        if !out.is_empty() {
            out.push(if own_line { '\n' } else { ' ' });
        }
        out.push_str(if own_line { line } else { trimmed });
        if fence {
            in_fence = !in_fence;
        }
        prev_blank = trimmed.is_empty() || (fence && !in_fence);
    }
    out
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_DESCRIPTION_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_DESCRIPTION_CHARS - 1).collect();
    out.push('…');
    out
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn precision(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

fn physical_location(file: &SourceFile, span: Span) -> PhysicalLocation {
    let start = file.line_col(span.start);
    let end = file.line_col(span.end.max(span.start));
    PhysicalLocation {
        artifact_location: artifact_location(file),
        region: Region {
            start_line: start.line,
            start_column: start.column,
            end_line: end.line,
            end_column: end.column,
        },
    }
}

fn code_flows(d: &Diagnostic) -> Vec<CodeFlow<'_>> {
    if d.trace.is_empty() {
        return Vec::new();
    }
    let locations = d
        .trace
        .iter()
        .map(|step| ThreadFlowLocation {
            location: StepLocation {
                physical_location: physical_location(&step.file, step.span),
                message: BorrowedText {
                    text: &step.message,
                },
            },
        })
        .collect();
    vec![CodeFlow {
        thread_flows: [ThreadFlow { locations }],
    }]
}

/// Where a file is, as SARIF wants it: relative to `%SRCROOT%` when the report shows it relative
/// to the working folder, an absolute `file://` URI otherwise (`~/…` is expanded from `path`).
fn artifact_location(file: &SourceFile) -> ArtifactLocation {
    let display = file.display.replace('\\', "/");
    let outside = display.starts_with("~/") || Path::new(&file.display).is_absolute();
    if outside
        && file.path.is_absolute()
        && let Ok(url) = url::Url::from_file_path(&file.path)
    {
        return ArtifactLocation {
            uri: url.to_string(),
            uri_base_id: None,
        };
    }
    let relative = display.trim_start_matches("./").trim_start_matches('/');
    ArtifactLocation {
        uri: encode_relative(relative),
        uri_base_id: Some(SRCROOT),
    }
}

/// Percent-encodes a relative path for a URI reference: every byte but the RFC 3986 unreserved
/// characters and `/`. Encoding `:` also keeps a first segment from reading as a scheme.
fn encode_relative(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// GitHub's `primaryLocationLineHash` for each line of each file, computed once per file.
#[derive(Default)]
struct LineHashes {
    by_file: BTreeMap<usize, (Arc<SourceFile>, Vec<String>)>,
}

impl LineHashes {
    fn get(&mut self, file: &Arc<SourceFile>, line: usize) -> String {
        let key = Arc::as_ptr(file) as usize;
        let (_, hashes) = self.by_file.entry(key).or_insert_with(|| {
            // Holding the Arc keeps the address from being reused by another file meanwhile.
            (Arc::clone(file), line_hashes(&hash_input(file)))
        });
        hashes
            .get(line.saturating_sub(1))
            .cloned()
            .unwrap_or_else(|| "0:1".to_string())
    }
}

/// The masked text with the original line breaks restored. Hashing masked text keeps a secret
/// out of the fingerprint: GitHub's hash is linear in the characters it covers, so over the raw
/// text a short secret could be recovered from it. Masking swaps each byte of a secret for an
/// ASCII `*`, so restoring the (ASCII) line breaks byte for byte keeps the text valid UTF-8 and
/// its lines where the line index puts them, even if a secret spans lines.
fn hash_input(file: &SourceFile) -> String {
    let masked = file.masked_text();
    if file.secret_spans.is_empty() {
        return masked.into_owned();
    }
    let mut bytes = masked.into_owned().into_bytes();
    for (i, &b) in file.text.as_bytes().iter().enumerate() {
        if matches!(b, b'\n' | b'\r') && i < bytes.len() {
            bytes[i] = b;
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Window of the rolling hash, in UTF-16 code units (as in github/codeql-action).
const BLOCK_SIZE: usize = 100;
const HASH_MOD: i64 = 37;
const EOF: i64 = 65535;

/// The hash GitHub's `upload-sarif` action computes when a result has no
/// `primaryLocationLineHash` (github/codeql-action, `src/fingerprints.ts`): for each line, a
/// polynomial rolling hash (base 37, wrapping 64-bit) of the next 100 UTF-16 code units of the
/// file from the line's start, skipping spaces and tabs, with `\r\n` and `\r` read as `\n` and a
/// sentinel at the end of the file; written in lowercase hex with no leading zeros, then `:` and
/// how many lines so far in the file had the same hash. Index `i` holds line `i + 1`.
pub fn line_hashes(text: &str) -> Vec<String> {
    let first_mod = (0..BLOCK_SIZE).fold(1i64, |m, _| m.wrapping_mul(HASH_MOD));
    let mut window = [0i64; BLOCK_SIZE];
    let mut line_numbers = [0usize; BLOCK_SIZE]; // 0: no line starts at this slot
    let mut hash = 0i64;
    let mut index = 0usize;
    let mut line_number = 0usize;
    let mut line_start = true;
    let mut prev_cr = false;
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    let mut out: Vec<String> = Vec::new();

    let mut emit = |line: usize, hash: i64, out: &mut Vec<String>| {
        let value = hash as u64;
        let n = counts.entry(value).or_insert(0);
        *n += 1;
        // Lines are emitted in order, once each.
        if out.len() < line {
            out.resize(line, String::new());
        }
        out[line - 1] = format!("{value:x}:{n}");
    };

    let units = text.encode_utf16().map(i64::from).chain([EOF]);
    for unit in units {
        let mut current = unit;
        if current == i64::from(b' ') || current == i64::from(b'\t') {
            prev_cr = false;
            continue;
        }
        if prev_cr && current == i64::from(b'\n') {
            prev_cr = false;
            continue;
        }
        if current == i64::from(b'\r') {
            current = i64::from(b'\n');
            prev_cr = true;
        } else {
            prev_cr = false;
        }
        if line_numbers[index] != 0 {
            emit(line_numbers[index], hash, &mut out);
            line_numbers[index] = 0;
        }
        if line_start {
            line_start = false;
            line_number += 1;
            line_numbers[index] = line_number;
        }
        if current == i64::from(b'\n') {
            line_start = true;
        }
        hash = roll(hash, &mut window, &mut index, current, first_mod);
    }
    for _ in 0..BLOCK_SIZE {
        if line_numbers[index] != 0 {
            emit(line_numbers[index], hash, &mut out);
            line_numbers[index] = 0;
        }
        hash = roll(hash, &mut window, &mut index, 0, first_mod);
    }
    out
}

fn roll(
    hash: i64,
    window: &mut [i64; BLOCK_SIZE],
    index: &mut usize,
    current: i64,
    first_mod: i64,
) -> i64 {
    let begin = window[*index];
    window[*index] = current;
    *index = (*index + 1) % BLOCK_SIZE;
    HASH_MOD
        .wrapping_mul(hash)
        .wrapping_add(current)
        .wrapping_sub(first_mod.wrapping_mul(begin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_case_of_kebab_names() {
        assert_eq!(
            pascal_case("plaintext-secret-in-config"),
            "PlaintextSecretInConfig"
        );
        assert_eq!(pascal_case("unparseable-file"), "UnparseableFile");
    }

    #[test]
    fn descriptions_are_unwrapped_paragraphs() {
        assert_eq!(
            unwrap_lines("Finds a\nthing.\n\nAlso:\n- one\n- two\n```\na\nb\n```\nafter"),
            "Finds a thing.\n\nAlso:\n- one\n- two\n```\na\nb\n```\nafter"
        );
    }

    #[test]
    fn relative_paths_are_percent_encoded() {
        assert_eq!(encode_relative(".vscode/mcp.json"), ".vscode/mcp.json");
        assert_eq!(encode_relative("my dir/a#b.json"), "my%20dir/a%23b.json");
        assert_eq!(encode_relative("c:x/é"), "c%3Ax/%C3%A9");
    }

    #[test]
    fn line_hashes_ignore_whitespace_and_line_endings() {
        let a = line_hashes("a b\n  c\n");
        let b = line_hashes("ab\r\nc\r\n");
        assert_eq!(a, b);
        assert_eq!(a.len(), 3); // the empty line after the last newline
    }

    #[test]
    fn line_hashes_match_github_values() {
        // Expected values from github/codeql-action's `hash` (src/fingerprints.ts), transcribed
        // to JavaScript and run under Node with the same `long` arithmetic.
        assert_eq!(line_hashes(""), ["c129715d7a2bc9a3:1"]);
        assert_eq!(
            line_hashes("a\n"),
            ["243cbaa4685aab12:1", "c129715d7a2bc9a3:1"]
        );
        assert_eq!(
            line_hashes("a b\r\n\tc\rd\n\n\n"),
            [
                "7b989930b3134c8f:1",
                "acf127df27d526d6:1",
                "6eb143f4a9d4361d:1",
                "5b5d4caf73a13177:1",
                "3c5bef55b72b93c9:1",
                "c129715d7a2bc9a3:1"
            ]
        );
    }

    #[test]
    fn repeated_lines_count_occurrences() {
        // Lines far from the end whose next 100 characters are the same hash alike.
        let hashes = line_hashes(&"x\n".repeat(200));
        let (first, n) = hashes[0].split_once(':').unwrap();
        assert_eq!(n, "1");
        assert_eq!(hashes[1], format!("{first}:2"));
        assert_ne!(hashes[199].split_once(':').unwrap().0, first);
    }
}
