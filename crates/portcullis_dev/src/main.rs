//! Developer generators: `docs` writes `docs/rules/*.md` from the rule declarations.

use std::path::PathBuf;

use anyhow::{Context, bail};
use portcullis_scan::registry::all_rules;
use portcullis_scan::render::rule_doc;

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "docs" => write_docs(),
        _ => bail!("usage: portcullis_dev docs"),
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
