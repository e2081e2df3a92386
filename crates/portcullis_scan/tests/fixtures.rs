//! The fixture harness (CONVENTIONS.md, rule 7): every rule's fixtures are scanned, and that
//! rule's findings must land exactly on the lines annotated `ruleid:` (or `todook:`),
//! never on `ok:` or `todoruleid:` lines, and nowhere else. A snapshot of the rendered findings
//! sits beside each rule's fixtures.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Annotation, annotations, fixture_dirs, scan_fixture_dir};
use portcullis_scan::registry::find_rule;
use portcullis_scan::render::{RenderOptions, text};

#[test]
fn every_fixture_matches_its_annotations() {
    let mut failures = Vec::new();
    let mut snapshots = Vec::new();
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some(rule) = find_rule(&name) else {
            failures.push(format!("{name}: fixture folder names no rule"));
            continue;
        };
        let report = scan_fixture_dir(&dir, rule);
        for (file, notes) in annotations(&dir) {
            let found: BTreeSet<usize> = report
                .findings
                .iter()
                .filter(|f| {
                    Path::new(&f.diagnostic.file.display) == file.strip_prefix(&dir).unwrap()
                })
                .map(|f| f.diagnostic.start().line)
                .collect();
            let shown = file.strip_prefix(&dir).unwrap().display().to_string();
            let lines_of = |kind: Annotation| -> BTreeSet<usize> {
                notes
                    .iter()
                    .filter(|n| n.kind == kind && n.rule == rule.name)
                    .map(|n| n.line)
                    .collect()
            };
            let (want, ok, todo_miss, todo_false) = (
                lines_of(Annotation::RuleId),
                lines_of(Annotation::Ok),
                lines_of(Annotation::TodoRuleId),
                lines_of(Annotation::TodoOk),
            );
            for line in want.difference(&found) {
                failures.push(format!(
                    "{name}/{shown}:{line}: expected a finding, got none"
                ));
            }
            for line in found
                .iter()
                .filter(|l| !want.contains(l) && !todo_false.contains(l))
            {
                let why = if ok.contains(line) {
                    "annotated ok"
                } else if todo_miss.contains(line) {
                    "a todoruleid now found: promote it to ruleid"
                } else {
                    "unannotated"
                };
                failures.push(format!("{name}/{shown}:{line}: unexpected finding ({why})"));
            }
            for line in todo_false.difference(&found) {
                failures.push(format!(
                    "{name}/{shown}:{line}: todook no longer fires: make it ok"
                ));
            }
        }
        snapshots.push((
            name,
            text::render(
                &report,
                &RenderOptions {
                    color: false,
                    width: 100,
                },
            ),
        ));
    }
    assert!(
        failures.is_empty(),
        "fixture failures:\n{}",
        failures.join("\n")
    );
    let snapshot_dir = common::fixtures_root().join("../snapshots");
    for (name, rendered) in snapshots {
        insta::with_settings!({ snapshot_path => &snapshot_dir, prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, rendered);
        });
    }
}
