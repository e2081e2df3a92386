//! Shared by the fixture harness and the meta tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use portcullis_scan::clients::{Environment, Platform};
use portcullis_scan::registry::RuleMeta;
use portcullis_scan::settings::Settings;
use portcullis_scan::{Report, ScanOptions, scan};

pub fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("resources/fixtures")
}

/// One folder per rule, named after it.
pub fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_root())
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Every file under `dir`, hidden ones included.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p)
            } else {
                out.push(p)
            }
        }
    }
    out.sort();
    out
}

/// Scans a fixture folder as one project with a fake home, and keeps only `rule`'s findings.
/// Every rule runs, so suppressions of other rules in the fixture are used, as in a real scan.
/// A `portcullis.lock` in the folder is compared with, as `scan --locked` does.
pub fn scan_fixture_dir(dir: &Path, rule: &RuleMeta) -> Report {
    let lock_path = dir.join(portcullis_scan::tools::pin::LOCK_FILE);
    let lock = lock_path
        .is_file()
        .then(|| portcullis_scan::tools::pin::Lock::load(&lock_path).expect("fixture lock"));
    let settings = Settings::default();
    let options = ScanOptions {
        paths: vec![dir.to_path_buf()],
        user_configs: false,
        env: Environment {
            home: Some(PathBuf::from("/nonexistent-home")),
            ..Environment::default()
        },
        platform: Platform::Linux,
        cwd: dir.to_path_buf(),
        settings,
        baseline: None,
        inline_suppressions: true,
        lock,
        live: Vec::new(),
        live_scan: false,
    };
    let mut report = scan(&options, &portcullis_scan::scan::Silent);
    report
        .findings
        .retain(|f| f.diagnostic.rule.code == rule.code);
    report
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Annotation {
    RuleId,
    Ok,
    TodoRuleId,
    TodoOk,
}

#[derive(Debug, Clone)]
pub struct Note {
    pub kind: Annotation,
    pub rule: String,
    /// The 1-based line the annotation describes.
    pub line: usize,
}

/// The annotations of every file under `dir`. An annotation comment describes the next line
/// that is not itself an annotation.
pub fn annotations(dir: &Path) -> Vec<(PathBuf, Vec<Note>)> {
    files_under(dir)
        .into_iter()
        .map(|file| {
            let text =
                String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
            let lines: Vec<&str> = text.lines().collect();
            let mut notes = Vec::new();
            let mut pending: Vec<(Annotation, String)> = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                if let Some(found) = parse_annotation(line) {
                    pending.extend(found);
                    continue;
                }
                for (kind, rule) in pending.drain(..) {
                    notes.push(Note {
                        kind,
                        rule,
                        line: i + 1,
                    });
                }
            }
            (file, notes)
        })
        .collect()
}

fn parse_annotation(line: &str) -> Option<Vec<(Annotation, String)>> {
    let t = line.trim_start();
    let body = t.strip_prefix("//").or_else(|| t.strip_prefix('#'))?.trim();
    let (kind, rest) = [
        ("todoruleid:", Annotation::TodoRuleId),
        ("todook:", Annotation::TodoOk),
        ("ruleid:", Annotation::RuleId),
        ("ok:", Annotation::Ok),
    ]
    .into_iter()
    .find_map(|(p, k)| body.strip_prefix(p).map(|r| (k, r)))?;
    Some(
        rest.split(',')
            .map(|r| (kind, r.trim().to_string()))
            .filter(|(_, r)| !r.is_empty())
            .collect(),
    )
}

/// A GitHub-token-shaped secret for renderer tests (not a real token).
pub const SECRET: &str = "ghp_pLIix6MEOLeMa61EqJomTEI1JEzO3joOj37H";
/// The part of the secret that masking hides; it must never be printed.
pub const SECRET_MIDDLE: &str = "pLIix6MEOLeMa61EqJomTEI1JEzO3joO";

pub fn rule(code: &str) -> &'static portcullis_scan::registry::RuleMeta {
    portcullis_scan::registry::find_rule(code)
        .unwrap_or_else(|| panic!("rule {code} is registered"))
}

pub fn span_of(
    file: &portcullis_scan::source::SourceFile,
    needle: &str,
) -> portcullis_scan::span::Span {
    let start = file.text.find(needle).expect("needle in text");
    portcullis_scan::span::Span::new(start, start + needle.len())
}

pub fn finding(d: portcullis_scan::diagnostic::Diagnostic) -> portcullis_scan::Finding {
    let fingerprint = d.fingerprint(0);
    portcullis_scan::Finding {
        diagnostic: d,
        fingerprint,
    }
}
