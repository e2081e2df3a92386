//! Meta tests (CONVENTIONS.md, rule 9): the registry stays honest. Unique codes and names,
//! kebab-case names, code ranges by target, every doc has its sections, every rule has fixtures
//! with both kinds of annotation, each doc example fires and its fix does not, and the generated
//! docs are fresh.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{Annotation, annotations, fixtures_root};
use portcullis_scan::clients::{Environment, Platform};
use portcullis_scan::registry::{RuleMeta, Target, all_rules};
use portcullis_scan::render::rule_doc;
use portcullis_scan::settings::Settings;
use portcullis_scan::{ScanOptions, scan};

const SECTIONS: [&str; 5] = [
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "References",
];

#[test]
fn codes_and_names_are_unique_and_well_formed() {
    let rules = all_rules();
    let codes: BTreeSet<_> = rules.iter().map(|r| r.code).collect();
    let names: BTreeSet<_> = rules.iter().map(|r| r.name).collect();
    assert_eq!(codes.len(), rules.len(), "duplicate rule code");
    assert_eq!(names.len(), rules.len(), "duplicate rule name");
    for r in &rules {
        assert!(
            r.code.len() == 5
                && r.code.starts_with("PC")
                && r.code[2..].chars().all(|c| c.is_ascii_digit()),
            "{}",
            r.code
        );
        let kebab = r.name.split('-').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
        assert!(kebab, "{} is not kebab-case", r.name);
        for banned in ["no-", "avoid-", "insecure-"] {
            assert!(
                !r.name.starts_with(banned),
                "{} should name the hazard, not the fix",
                r.name
            );
        }
        let range = match r.target {
            Target::Code => '1',
            Target::Config => '2',
            Target::Tools => '3',
            Target::Supply => '4',
            Target::Scanner => '9',
        };
        assert_eq!(
            r.code.as_bytes()[2] as char,
            range,
            "{} has a code outside its target's range",
            r.name
        );
        assert!(
            !r.summary.is_empty() && !r.summary.ends_with('.'),
            "{}: summary",
            r.name
        );
        if r.target != Target::Scanner {
            assert!(!r.cwe.is_empty(), "{} names no CWE", r.name);
        }
    }
}

#[test]
fn every_doc_has_its_sections() {
    for r in all_rules() {
        for s in SECTIONS {
            let body = r.doc_section(s).unwrap_or_default();
            assert!(!body.is_empty(), "{} lacks `## {s}`", r.name);
        }
        assert!(
            r.doc_section("References").unwrap().contains("]("),
            "{}: references need links",
            r.name
        );
    }
}

#[test]
fn every_rule_has_fixtures_with_both_kinds_of_annotation() {
    for r in all_rules() {
        let dir = fixtures_root().join(r.name);
        assert!(
            dir.is_dir(),
            "{} has no fixtures at {}",
            r.name,
            dir.display()
        );
        let notes: Vec<_> = annotations(&dir)
            .into_iter()
            .flat_map(|(_, n)| n)
            .filter(|n| n.rule == r.name)
            .collect();
        assert!(
            notes.iter().any(|n| n.kind == Annotation::RuleId),
            "{} has no `ruleid:` fixture",
            r.name
        );
        assert!(
            notes.iter().any(|n| n.kind == Annotation::Ok),
            "{} has no `ok:` fixture",
            r.name
        );
    }
}

/// The first fenced block of a doc section: (language, file name, body).
fn fenced_block(section: &str) -> Option<(String, Option<String>, String)> {
    let start = section.find("```")?;
    let rest = &section[start + 3..];
    let (info, body) = rest.split_once('\n')?;
    let body = &body[..body.find("```")?];
    let mut words = info.split_whitespace();
    let lang = words.next().unwrap_or("").to_string();
    let file = words
        .find_map(|w| w.strip_prefix("file="))
        .map(str::to_string);
    Some((lang, file, body.to_string()))
}

fn scan_example(rule: &RuleMeta, lang: &str, file: Option<String>, body: &str) -> Option<usize> {
    let default = match lang {
        "json" | "jsonc" => ".mcp.json",
        "toml" => ".codex/config.toml",
        "yaml" | "yml" => ".continue/mcpServers/example.yaml",
        "python" => "server.py",
        "dockerfile" => "Dockerfile",
        "requirements" => "requirements.txt",
        // Any other language needs the file it stands for: ```text file=requirements.txt```.
        _ if file.is_some() => "",
        _ => return None,
    };
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join(file.as_deref().unwrap_or(default));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, body).unwrap();
    let mut settings = Settings::default();
    settings.select_only(&[rule.name.to_string()]).unwrap();
    let options = ScanOptions {
        paths: vec![dir.path().to_path_buf()],
        user_configs: false,
        env: Environment {
            home: Some(PathBuf::from("/nonexistent-home")),
            ..Environment::default()
        },
        platform: Platform::Linux,
        cwd: dir.path().to_path_buf(),
        settings,
        baseline: None,
        inline_suppressions: true,
        lock: None,
        live: Vec::new(),
        live_scan: false,
    };
    Some(
        scan(&options, &portcullis_scan::scan::Silent)
            .findings
            .len(),
    )
}

#[test]
fn doc_examples_fire_and_their_fixes_do_not() {
    for r in all_rules()
        .into_iter()
        .filter(|r| {
            matches!(
                r.target,
                Target::Config | Target::Code | Target::Supply | Target::Tools
            )
        })
        // Needs a lock to compare with: its fixture and the CLI tests cover it.
        .filter(|r| r.name != "tool-definition-changed")
    {
        let (lang, file, body) =
            fenced_block(&r.doc_section("Example").unwrap()).expect("an Example block");
        let fired = scan_example(r, &lang, file, &body)
            .unwrap_or_else(|| panic!("{}: example language `{lang}`", r.name));
        assert!(fired > 0, "{}: the doc example does not fire", r.name);
        let (lang, file, body) =
            fenced_block(&r.doc_section("Use instead").unwrap()).expect("a Use instead block");
        let fired = scan_example(r, &lang, file, &body)
            .unwrap_or_else(|| panic!("{}: fix language `{lang}`", r.name));
        assert_eq!(fired, 0, "{}: the doc's fix still fires", r.name);
    }
}

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules")
}

/// Generated docs must match the code. Regenerate with `cargo run -p portcullis_dev -- docs`.
#[test]
fn generated_rule_docs_are_fresh() {
    let mut stale = Vec::new();
    for r in all_rules() {
        let path = docs_dir().join(format!("{}.md", r.name));
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != rule_doc::markdown(r) {
            stale.push(path.display().to_string());
        }
    }
    let index = std::fs::read_to_string(docs_dir().join("README.md")).unwrap_or_default();
    if index != rule_doc::index(&all_rules()) {
        stale.push("docs/rules/README.md".into());
    }
    assert!(
        stale.is_empty(),
        "stale rule docs (run `cargo run -p portcullis_dev -- docs`):\n{}",
        stale.join("\n")
    );
}
