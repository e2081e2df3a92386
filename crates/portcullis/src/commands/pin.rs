//! `portcullis pin`: write portcullis.lock from tool dumps under the named paths, from a live
//! server named on the command line (`pin -- COMMAND ARGS`, `pin URL`), or from the servers of
//! the user's client configs (`pin --inspect`, asked first as `scan --inspect` does).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use portcullis_mcp::client::{self, HttpTransport};
use portcullis_scan::scan::ScanOptions;
use portcullis_scan::tools::ToolsFile;
use portcullis_scan::tools::live::tools_file;
use portcullis_scan::tools::pin::{LOCK_FILE, Lock, load_dumps};

use super::inspect::{TargetArgs, target_of};
use super::live;
use crate::cli::PinArgs;

pub fn run(args: &PinArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    let (urls, paths): (Vec<&PathBuf>, Vec<&PathBuf>) = args.paths.iter().partition(|p| {
        let p = p.to_string_lossy();
        p.starts_with("http://") || p.starts_with("https://")
    });
    for path in &paths {
        if !path.exists() {
            bail!("{} does not exist", path.display());
        }
    }
    if urls.len() > 1 || (!urls.is_empty() && !args.command.is_empty()) {
        bail!("name one live server at a time: a URL or a command after `--`");
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
    let named_live = !urls.is_empty() || !args.command.is_empty();
    let paths: Vec<PathBuf> = paths.into_iter().cloned().collect();

    let mut files: Vec<ToolsFile> = Vec::new();
    // Dumps: under the named paths, or the current folder when nothing live is asked for.
    if !paths.is_empty() || !(named_live || args.inspect) {
        let mut options = ScanOptions::new(paths.clone(), cwd.clone());
        options.user_configs = false;
        files.extend(load_dumps(&options));
    }
    if named_live {
        let target = target_of(&TargetArgs {
            command: &args.command,
            url: urls.first().and_then(|u| u.to_str()),
            env: &args.env,
            headers: &args.headers,
            bearer_token_env: args.bearer_token_env.as_deref(),
            transport: HttpTransport::Auto,
        })?;
        let options = live::options(&args.live)?;
        let source = target.masked_source();
        let snapshot = client::inspect(&target, &options)
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}",
                    e.to_string()
                        .replace("see --timeout", "see --inspect-timeout")
                )
            })
            .with_context(|| format!("cannot inspect `{source}`"))?;
        for note in snapshot.notes.iter().filter(|n| n.contains("NOT")) {
            anstream::eprintln!("warning: {note}");
        }
        // Known in the lock by its (masked) command line or URL.
        match tools_file(
            PathBuf::from(&source),
            source.clone(),
            &snapshot.to_pretty_string(),
        ) {
            Some(file) => files.push(file),
            None => bail!("`{source}` exposes no tools, prompts, resources or instructions"),
        }
    }
    if args.inspect {
        // The configs a scan would read: the user's and the current folder's, or the paths'.
        let options = ScanOptions::new(paths.clone(), cwd.clone());
        let (servers, notes) =
            super::scan::inspect_configured(&options, &args.live, false, "pin --inspect")?;
        for note in notes {
            anstream::eprintln!("note: {note}");
        }
        files.extend(servers.into_iter().filter_map(|s| s.tools));
    }
    if files.is_empty() {
        bail!(
            "nothing to pin: no MCP tool dumps found under {}{}",
            if paths.is_empty() {
                ".".to_string()
            } else {
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            if named_live || args.inspect {
                " and no live server could be read"
            } else {
                ": save a `tools/list` result or a live snapshot as JSON, or pin a live server \
                 (`pin -- COMMAND ARGS`, `pin URL`, `pin --inspect`)"
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
