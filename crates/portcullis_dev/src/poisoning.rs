//! `portcullis_dev poisoning FILE.jsonl...`: runs the tools rules on each labelled row (as a
//! one-tool dump) and prints detection per attack type and per source, false alarms on benign
//! rows, the risky-schema group counted apart, with and without the rows whose name is empty,
//! and the misses and false alarms by id.
//!
//! Row format (shared/data/README.md): `{"id", "source", "label", "attack", "tool"}`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use portcullis_scan::document::{Format, parse};
use portcullis_scan::rules::tools::{RISKY_SCHEMA, ToolContext, run as run_rules};
use portcullis_scan::source::SourceFile;
use portcullis_scan::tools::{ToolsFile, snapshots_of};

struct Row {
    id: String,
    source: String,
    malicious: bool,
    attack: String,
    empty_name: bool,
    /// Poisoning rules that fired.
    poisoning: Vec<&'static str>,
    /// Risky-schema rules that fired.
    risky: Vec<&'static str>,
}

pub fn run(files: Vec<PathBuf>) -> anyhow::Result<()> {
    if files.is_empty() {
        bail!("usage: portcullis_dev poisoning FILE.jsonl...");
    }
    let mut out = String::new();
    for file in &files {
        let rows = score(file)?;
        report(file, &rows, &mut out);
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

fn score(path: &Path) -> anyhow::Result<Vec<Row>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", path.display(), n + 1))?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let tool = v.get("tool").cloned().unwrap_or_default();
        let name = tool.get("name").and_then(|x| x.as_str()).unwrap_or("");
        let dump = serde_json::json!({ "tools": [tool] }).to_string();
        let (poisoning, risky) = fired(&s("id"), &dump);
        rows.push(Row {
            id: s("id"),
            source: s("source").split('@').next().unwrap_or("").to_string(),
            malicious: s("label") == "malicious",
            attack: s("attack"),
            empty_name: name.is_empty(),
            poisoning,
            risky,
        });
    }
    Ok(rows)
}

/// The rules that fire on one dump, split into poisoning and risky schema.
fn fired(id: &str, dump: &str) -> (Vec<&'static str>, Vec<&'static str>) {
    let Ok(doc) = parse(dump, Format::Json) else {
        return (Vec::new(), Vec::new());
    };
    let Some(servers) = snapshots_of(&doc) else {
        return (Vec::new(), Vec::new());
    };
    let file = ToolsFile {
        from_source: false,
        source: Arc::new(SourceFile::from_text(&format!("{id}.json"), dump)),
        document: doc,
        servers,
    };
    let files = [&file];
    let cx = ToolContext::new(&files, None, Path::new("."));
    let mut names: Vec<&'static str> = run_rules(&cx, &|_| true)
        .iter()
        .map(|d| d.rule.name)
        .collect();
    names.sort_unstable();
    names.dedup();
    names.into_iter().partition(|n| !RISKY_SCHEMA.contains(n))
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * n as f64 / d as f64)
    }
}

fn report(path: &Path, rows: &[Row], out: &mut String) {
    let _ = writeln!(out, "# {}\n", path.display());
    for (title, keep_empty) in [("all rows", true), ("without empty-name rows", false)] {
        let rows: Vec<&Row> = rows
            .iter()
            .filter(|r| keep_empty || !r.empty_name)
            .collect();
        let _ = writeln!(out, "## {title} ({} rows)\n", rows.len());
        let _ = writeln!(
            out,
            "| attack | rows | detected | rate |\n|---|---:|---:|---:|"
        );
        let mut by_attack: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.malicious) {
            let e = by_attack.entry(&r.attack).or_default();
            e.0 += 1;
            e.1 += usize::from(!r.poisoning.is_empty());
        }
        for (attack, (n, d)) in &by_attack {
            let note = if *attack == "name-collision" {
                " (scored apart)"
            } else {
                ""
            };
            let _ = writeln!(out, "| {attack}{note} | {n} | {d} | {} |", pct(*d, *n));
        }
        let scored: Vec<&&Row> = rows
            .iter()
            .filter(|r| r.malicious && r.attack != "name-collision")
            .collect();
        let hit = scored.iter().filter(|r| !r.poisoning.is_empty()).count();
        let _ = writeln!(
            out,
            "| **all but name-collision** | {} | {hit} | **{}** |\n",
            scored.len(),
            pct(hit, scored.len())
        );
        let _ = writeln!(
            out,
            "| source | malicious | detected | rate | benign | false alarms | rate | risky-schema on benign |\n|---|---:|---:|---:|---:|---:|---:|---:|"
        );
        let mut by_source: BTreeMap<&str, [usize; 5]> = BTreeMap::new();
        for r in &rows {
            let e = by_source.entry(&r.source).or_default();
            if r.malicious {
                if r.attack != "name-collision" {
                    e[0] += 1;
                    e[1] += usize::from(!r.poisoning.is_empty());
                }
            } else {
                e[2] += 1;
                e[3] += usize::from(!r.poisoning.is_empty());
                e[4] += usize::from(!r.risky.is_empty());
            }
        }
        let mut total = [0usize; 5];
        for (source, e) in &by_source {
            for (t, v) in total.iter_mut().zip(e) {
                *t += v;
            }
            let _ = writeln!(
                out,
                "| {source} | {} | {} | {} | {} | {} | {} | {} |",
                e[0],
                e[1],
                pct(e[1], e[0]),
                e[2],
                e[3],
                pct(e[3], e[2]),
                e[4]
            );
        }
        let _ = writeln!(
            out,
            "| **total** | {} | {} | **{}** | {} | {} | **{}** | {} ({}) |\n",
            total[0],
            total[1],
            pct(total[1], total[0]),
            total[2],
            total[3],
            pct(total[3], total[2]),
            total[4],
            pct(total[4], total[2])
        );
    }
    let mut by_rule: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in rows {
        for name in r.poisoning.iter().chain(&r.risky) {
            let e = by_rule.entry(name).or_default();
            if r.malicious {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }
    let _ = writeln!(out, "| rule | on malicious | on benign |\n|---|---:|---:|");
    for (name, (m, b)) in &by_rule {
        let _ = writeln!(out, "| {name} | {m} | {b} |");
    }
    let _ = writeln!(out, "\nmisses (malicious, no poisoning rule fired):");
    for r in rows
        .iter()
        .filter(|r| r.malicious && r.poisoning.is_empty())
    {
        let _ = writeln!(out, "- {} {} ({})", r.id, r.attack, r.source);
    }
    let _ = writeln!(out, "\nfalse alarms (benign, a poisoning rule fired):");
    for r in rows
        .iter()
        .filter(|r| !r.malicious && !r.poisoning.is_empty())
    {
        let _ = writeln!(out, "- {} {} ({})", r.id, r.poisoning.join(", "), r.source);
    }
    out.push('\n');
}
