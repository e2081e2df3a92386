//! Developer tools: `docs` writes `docs/rules/*.md` from the rule declarations; `parse-only`
//! parses every Python, TypeScript and JavaScript file under a folder with tree-sitter and
//! nothing else, the baseline the scan's speed is compared with (scripts/bench-code.sh,
//! scripts/bench-code-ts.sh); `poisoning FILE.jsonl` measures the tool-metadata rules on
//! labelled tool definitions (scripts/poisoning-score.sh).

mod poisoning;

use std::path::PathBuf;

use anyhow::{Context, bail};
use portcullis_scan::code::typescript::Grammar;
use portcullis_scan::registry::all_rules;
use portcullis_scan::render::rule_doc;

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "docs" => write_docs(),
        "parse-only" => parse_only(std::env::args().skip(2).map(PathBuf::from).collect()),
        "poisoning" => poisoning::run(std::env::args().skip(2).map(PathBuf::from).collect()),
        _ => bail!(
            "usage: portcullis_dev docs | portcullis_dev parse-only DIR... | portcullis_dev poisoning FILE.jsonl..."
        ),
    }
}

fn write_docs() -> anyhow::Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    std::fs::create_dir_all(&dir)?;
    let rules = all_rules();
    // Remove pages of rules that no longer exist, so the folder mirrors the registry.
    for entry in std::fs::read_dir(&dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md")
            && name != "README.md"
            && !rules.iter().any(|r| format!("{}.md", r.name) == name)
        {
            std::fs::remove_file(entry.path())?;
        }
    }
    for r in &rules {
        let path = dir.join(format!("{}.md", r.name));
        std::fs::write(&path, rule_doc::markdown(r))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    std::fs::write(dir.join("README.md"), rule_doc::index(&rules))?;
    Ok(())
}

/// Parses every source file under `roots` (`.py`, and the TypeScript/JavaScript extensions
/// without `.d.ts`), in parallel, walking as the scan walks; prints counts.
fn parse_only(roots: Vec<PathBuf>) -> anyhow::Result<()> {
    use rayon::prelude::*;
    let mut files = Vec::new();
    for root in &roots {
        for entry in ignore::WalkBuilder::new(root)
            .hidden(false)
            .require_git(false)
            .build()
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "py") || Grammar::of(path).is_some() {
                files.push(entry.into_path());
            }
        }
    }
    let (parsed, lines) = files
        .par_iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let ok = match Grammar::of(path) {
                Some(grammar) => portcullis_scan::code::typescript::parse(&text, grammar).is_some(),
                None => portcullis_scan::code::python::parse(&text).is_some(),
            };
            (usize::from(ok), text.lines().count())
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let mut out = std::io::stdout().lock();
    use std::io::Write as _;
    writeln!(
        out,
        "parsed {parsed} of {} files, {lines} lines",
        files.len()
    )?;
    Ok(())
}
