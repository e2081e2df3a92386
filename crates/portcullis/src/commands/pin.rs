//! `portcullis pin`: write portcullis.lock from the tool dumps under the named paths.

use std::process::ExitCode;

use anyhow::{Context, bail};
use portcullis_scan::scan::ScanOptions;
use portcullis_scan::tools::pin::{LOCK_FILE, Lock, load_dumps};

use crate::cli::PinArgs;

pub fn run(args: &PinArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    for path in &args.paths {
        if !path.exists() {
            bail!("{} does not exist", path.display());
        }
    }
    let output = args.output.clone().unwrap_or_else(|| cwd.join(LOCK_FILE));
    let output = if output.is_absolute() {
        output
    } else {
        cwd.join(output)
    };
    let base = output
        .parent()
        .map_or_else(|| cwd.clone(), std::path::Path::to_path_buf);
    let mut options = ScanOptions::new(args.paths.clone(), cwd);
    options.user_configs = false;
    let files = load_dumps(&options);
    if files.is_empty() {
        bail!(
            "no MCP tool dumps found under {}: save a `tools/list` result or a live snapshot as JSON first",
            if args.paths.is_empty() {
                ".".to_string()
            } else {
                args.paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
    let refs: Vec<_> = files.iter().collect();
    let lock = Lock::from_files(&refs, &base);
    std::fs::write(&output, lock.to_toml())
        .with_context(|| format!("cannot write {}", output.display()))?;
    let definitions: usize = lock
        .servers
        .iter()
        .map(|s| s.tools.len() + s.prompts.len() + s.resources.len())
        .sum();
    anstream::eprintln!(
        "pinned {definitions} definitions of {} servers in {}",
        lock.servers.len(),
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}
