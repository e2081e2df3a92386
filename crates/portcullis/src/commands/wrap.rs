//! `portcullis wrap` and `portcullis unwrap`: run a client's MCP servers (stdio, and remote
//! streamable-HTTP ones: see [`edit`]) through the gateway by rewriting the client's
//! configuration, and restore it.
//!
//! Every rewrite keeps a backup next to the file, named
//! `<file>.portcullis-<UTC time>[-n]-<hash>.bak`, created new and never overwritten; `<hash>`
//! is the start of the SHA-256 of the file as wrap wrote it. `unwrap` puts a backup back byte
//! for byte when the file still has exactly that hash (nobody changed it since), following
//! the chain back through earlier wraps; otherwise, or for named servers only, it unwraps the
//! entries in place. Files are replaced atomically (write beside, then rename), through
//! symlinks, keeping their permissions.

pub(super) mod edit;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use portcullis_scan::clients::{
    Client, Environment, Platform, Scope, classify_path, home_of, user_config_candidates,
};
use sha2::{Digest, Sha256};

use crate::cli::{UnwrapArgs, WrapArgs};
use edit::{EntryReport, GatewayCommand, Outcome, Parsed};

/// Project-level configuration files, relative to the current folder, that wrap and unwrap
/// look at besides the user's own.
const PROJECT_FILES: &[&str] = &[
    ".mcp.json",
    ".cursor/mcp.json",
    ".vscode/mcp.json",
    ".vscode/settings.json",
    ".gemini/settings.json",
    ".zed/settings.json",
    ".roo/mcp.json",
    ".amazonq/mcp.json",
    ".kiro/settings/mcp.json",
];

/// A configuration file to rewrite.
pub(super) struct Target {
    pub path: PathBuf,
    pub client: Option<Client>,
    /// Named by the user: problems with it are errors, not notes.
    pub explicit: bool,
}

/// The configuration files `target` names (a file, a client, or every one found); none found
/// is not an error here.
pub(super) fn targets(target: Option<&str>) -> anyhow::Result<Vec<Target>> {
    let env = Environment::from_process();
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    if let Some(t) = target {
        let path = Path::new(t);
        if path.is_file() {
            return Ok(vec![Target {
                path: path.to_path_buf(),
                client: None,
                explicit: true,
            }]);
        }
        if Client::from_id(t).is_none() {
            bail!(
                "`{t}` is neither a file nor a client; name a config file or one of: {}",
                Client::ALL
                    .iter()
                    .filter(|c| **c != Client::Generic)
                    .map(|c| c.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let wanted = target.and_then(Client::from_id);
    let mut out: Vec<Target> = Vec::new();
    let mut add = |path: PathBuf, client: Client| {
        if wanted.is_none_or(|w| w == client)
            && path.is_file()
            && !out.iter().any(|t| same_file(&t.path, &path))
        {
            out.push(Target {
                path,
                client: Some(client),
                explicit: false,
            });
        }
    };
    for c in user_config_candidates(&env, Platform::current()) {
        // Managed files belong to an administrator: not ours to rewrite.
        if c.scope != Scope::Managed {
            add(c.path, c.client);
        }
    }
    for rel in PROJECT_FILES {
        let path = cwd.join(rel);
        if let Some(c) = classify_path(&path, home_of(&env)) {
            add(path, c.client);
        }
    }
    Ok(out)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// A file's bytes split into an optional UTF-8 byte-order mark and its text.
pub(super) struct Content {
    pub bom: bool,
    pub text: String,
}

pub(super) fn read(path: &Path) -> Result<Content, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("it cannot be read ({e})"))?;
    content_of(&bytes)
}

fn content_of(bytes: &[u8]) -> Result<Content, String> {
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let text = std::str::from_utf8(body).map_err(|_| "it is not UTF-8 text".to_string())?;
    Ok(Content {
        bom,
        text: text.to_string(),
    })
}

fn bytes_of(bom: bool, text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 3);
    if bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    out.extend_from_slice(text.as_bytes());
    out
}

fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The gateway command wrapped entries run: this executable, by absolute path (clients start
/// servers with a minimal PATH), and the options as absolute paths (clients start them in a
/// folder of their choosing).
fn gateway_command(args: &WrapArgs) -> anyhow::Result<GatewayCommand> {
    let program = match &args.gateway_program {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .context("cannot tell where this portcullis is; pass --gateway-program PATH")?
            .to_string_lossy()
            .into_owned(),
    };
    let mut options = Vec::new();
    for (flag, path) in [("--policy", &args.policy), ("--audit", &args.audit)] {
        if let Some(path) = path {
            let absolute = std::path::absolute(path)
                .with_context(|| format!("cannot make {} absolute", path.display()))?;
            if flag == "--policy" {
                // Fail now rather than when the client starts the server.
                portcullis_gateway::Policy::load(&absolute).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            options.push(flag.to_string());
            options.push(absolute.to_string_lossy().into_owned());
        }
    }
    Ok(GatewayCommand { program, options })
}

/// The targets, or an error saying none was found.
fn some_targets(target: Option<&str>) -> anyhow::Result<Vec<Target>> {
    let found = targets(target)?;
    if found.is_empty() {
        match target.and_then(Client::from_id) {
            Some(c) => bail!(
                "no {} configuration was found (user files, or project files in this folder); name the file instead",
                c.display_name()
            ),
            None => bail!("no MCP client configuration was found; name the file"),
        }
    }
    Ok(found)
}

pub fn run_wrap(args: WrapArgs) -> anyhow::Result<ExitCode> {
    let gateway = gateway_command(&args)?;
    let targets = some_targets(args.target.as_deref())?;
    let env = Environment::from_process();
    let mut failed = false;
    let mut matched = Vec::new();
    for target in &targets {
        let display = display(&target.path, &env);
        let (content, parsed) = match load(target, &env) {
            Ok(x) => x,
            Err(why) => {
                failed |= target.explicit;
                eprintln(&format!("{display}: not changed: {why}"));
                continue;
            }
        };
        let plan = edit::plan_wrap(&parsed, &gateway, &args.server);
        matched.extend(plan.entries.iter().map(|e| e.name.clone()));
        if parsed.servers.is_empty() && target.explicit {
            eprintln(&format!("{display}: no MCP servers found; nothing to wrap"));
        }
        if plan.entries.is_empty() {
            continue;
        }
        let new_text = edit::apply(&content.text, &plan.edits);
        print_report(&display, parsed.client, &plan.entries, "wrapped");
        if new_text == content.text {
            outln("  nothing to change");
            continue;
        }
        if args.dry_run {
            print_diff(&display, &content.text, &new_text);
            continue;
        }
        // The edit must leave a file the client can still read, with every entry wrapped.
        let check = edit::parse(
            &target.path,
            new_text.clone(),
            Some(parsed.client),
            home_of(&env),
        )
        .map_err(|e| {
            anyhow::anyhow!(
                "{display}: the rewritten file would not parse ({}); nothing was changed",
                e.0
            )
        })?;
        if !edit::plan_wrap(&check, &gateway, &args.server)
            .edits
            .is_empty()
        {
            bail!("{display}: the rewrite did not take; nothing was changed");
        }
        let new_bytes = bytes_of(content.bom, &new_text);
        let backup = write_backup(
            &target.path,
            &bytes_of(content.bom, &content.text),
            &new_bytes,
        )?;
        write_atomic(&target.path, &new_bytes)?;
        outln(&format!("  backup: {}", display_path(&backup, &env)));
    }
    warn_unmatched(&args.server, &matched);
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn run_unwrap(args: UnwrapArgs) -> anyhow::Result<ExitCode> {
    let targets = some_targets(args.target.as_deref())?;
    let env = Environment::from_process();
    let mut failed = false;
    let mut matched = Vec::new();
    for target in &targets {
        let display = display(&target.path, &env);
        let content = match read(&target.path) {
            Ok(c) => c,
            Err(why) => {
                failed |= target.explicit;
                eprintln(&format!("{display}: not changed: {why}"));
                continue;
            }
        };
        // Byte for byte first: back through the backups while the file is what wrap wrote.
        let original = bytes_of(content.bom, &content.text);
        let mut restored = original.clone();
        let mut used = Vec::new();
        if args.server.is_empty() {
            let backups = backups_of(&target.path);
            while let Some(b) = backups
                .iter()
                .find(|b| b.hash == short_hash(&restored) && !used.contains(&b.path))
            {
                match std::fs::read(&b.path) {
                    Ok(bytes) => restored = bytes,
                    Err(e) => {
                        eprintln(&format!(
                            "{display}: backup {} cannot be read ({e})",
                            b.path.display()
                        ));
                        break;
                    }
                }
                used.push(b.path.clone());
            }
        }
        let restored_content = match content_of(&restored) {
            Ok(c) => c,
            Err(why) => {
                eprintln(&format!("{display}: not changed: its backup: {why}"));
                failed = true;
                continue;
            }
        };
        // Then whatever is still wrapped (changed since, or named servers), in place.
        let parsed = match edit::parse(
            &target.path,
            restored_content.text.clone(),
            target.client,
            home_of(&env),
        ) {
            Ok(p) => p,
            Err(why) => {
                failed |= target.explicit;
                eprintln(&format!("{display}: not changed: {}", why.0));
                continue;
            }
        };
        let plan = edit::plan_unwrap(&parsed, &args.server);
        matched.extend(plan.entries.iter().map(|e| e.name.clone()));
        let final_text = edit::apply(&restored_content.text, &plan.edits);
        let final_bytes = bytes_of(restored_content.bom, &final_text);
        if final_bytes == original {
            if !plan.entries.is_empty() {
                print_report(&display, parsed.client, &plan.entries, "unwrapped");
                outln("  nothing to change");
            }
            continue;
        }
        if let Some(b) = used.last() {
            outln(&format!(
                "{display} ({}): restored byte for byte from {}",
                parsed.client.display_name(),
                display_path(b, &env)
            ));
            if !plan.edits.is_empty() {
                print_report(
                    &display,
                    parsed.client,
                    &plan.entries,
                    "then unwrapped in place",
                );
            }
        } else {
            print_report(&display, parsed.client, &plan.entries, "unwrapped in place");
        }
        if args.dry_run {
            print_diff(&display, &content.text, &final_text);
            continue;
        }
        // The state being replaced is kept too: unwrap never loses a file either.
        let backup = write_backup(&target.path, &original, &final_bytes)?;
        write_atomic(&target.path, &final_bytes)?;
        outln(&format!("  backup: {}", display_path(&backup, &env)));
    }
    warn_unmatched(&args.server, &matched);
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn load(target: &Target, env: &Environment) -> Result<(Content, Parsed), String> {
    let content = read(&target.path)?;
    let parsed = edit::parse(
        &target.path,
        content.text.clone(),
        target.client,
        home_of(env),
    )
    .map_err(|e| e.0)?;
    Ok((content, parsed))
}

fn warn_unmatched(wanted: &[String], matched: &[String]) {
    for name in wanted {
        if !matched.contains(name) {
            eprintln(&format!("warning: no server named `{name}` was found"));
        }
    }
}

fn print_report(display: &str, client: Client, entries: &[EntryReport], verb: &str) {
    outln(&format!("{display} ({})", client.display_name()));
    for e in entries {
        let name = match &e.project {
            Some(p) => format!("{} (project {p})", e.name),
            None => e.name.clone(),
        };
        match &e.outcome {
            Outcome::Changed => outln(&format!("  {verb}: {name}")),
            Outcome::Unchanged(why) => outln(&format!("  {why}: {name}")),
            Outcome::Skipped(why) => outln(&format!("  left unchanged: {name}: {why}")),
        }
    }
}

/// A unified diff, secrets masked (the file may hold tokens in `env`).
fn print_diff(display: &str, old: &str, new: &str) {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(display, &format!("{display} (after)"))
        .to_string();
    outln(&portcullis_scan::tools::mask_secrets(&text));
}

fn display(path: &Path, env: &Environment) -> String {
    display_path(path, env)
}

pub(super) fn display_path(path: &Path, env: &Environment) -> String {
    match home_of(env).and_then(|h| path.strip_prefix(h).ok()) {
        Some(rest) => format!("~/{}", rest.display()),
        None => path.display().to_string(),
    }
}

fn outln(text: &str) {
    anstream::println!("{text}");
}

fn eprintln(text: &str) {
    anstream::eprintln!("{text}");
}

// ---- backups ----

struct Backup {
    path: PathBuf,
    hash: String,
}

/// The file to change: a symlink's target, so the link itself survives the rename.
fn real_path(path: &Path) -> anyhow::Result<PathBuf> {
    std::fs::canonicalize(path).with_context(|| format!("cannot resolve {}", path.display()))
}

/// UTC `YYYYMMDDTHHMMSSZ`.
fn stamp() -> String {
    let rfc = portcullis_gateway::time::now_rfc3339();
    let digits: String = rfc.chars().take(19).filter(char::is_ascii_digit).collect();
    format!(
        "{}T{}Z",
        &digits[..8.min(digits.len())],
        digits.get(8..).unwrap_or("")
    )
}

/// Writes `content` (the file before the change) as a new backup beside the file, named with
/// the hash of `after` (the file after it). Never overwrites a backup.
fn write_backup(path: &Path, content: &[u8], after: &[u8]) -> anyhow::Result<PathBuf> {
    let real = real_path(path)?;
    let dir = real.parent().unwrap_or(Path::new("."));
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stamp = stamp();
    let hash = short_hash(after);
    for n in 0..1000 {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        };
        let backup = dir.join(format!("{name}.portcullis-{stamp}{suffix}-{hash}.bak"));
        let mut file = match std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(&backup)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot write the backup {}", backup.display()));
            }
        };
        copy_permissions(&real, &backup);
        file.write_all(content)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write the backup {}", backup.display()))?;
        return Ok(backup);
    }
    bail!("cannot find a free backup name beside {}", real.display())
}

/// The backups of `path`, newest first.
fn backups_of(path: &Path) -> Vec<Backup> {
    let Ok(real) = real_path(path) else {
        return Vec::new();
    };
    let dir = real.parent().unwrap_or(Path::new("."));
    let prefix = format!(
        "{}.portcullis-",
        real.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    );
    let mut found: Vec<(String, u32, Backup)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let middle = name.strip_prefix(&prefix)?.strip_suffix(".bak")?;
            let parts: Vec<&str> = middle.split('-').collect();
            let (stamp, n, hash) = match parts.as_slice() {
                [stamp, hash] => (*stamp, 0, *hash),
                [stamp, n, hash] => (*stamp, n.parse().ok()?, *hash),
                _ => return None,
            };
            Some((
                stamp.to_string(),
                n,
                Backup {
                    path: e.path(),
                    hash: hash.to_string(),
                },
            ))
        })
        .collect();
    found.sort_by(|a, b| (&b.0, b.1).cmp(&(&a.0, a.1)));
    found.into_iter().map(|(_, _, b)| b).collect()
}

#[cfg(unix)]
fn copy_permissions(from: &Path, to: &Path) {
    if let Ok(meta) = std::fs::metadata(from) {
        let _ = std::fs::set_permissions(to, meta.permissions());
    }
}

#[cfg(not(unix))]
fn copy_permissions(_from: &Path, _to: &Path) {}

/// Replaces the file's content atomically: a sibling temporary file, then a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let real = real_path(path)?;
    let dir = real.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".portcullis-wrap-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write beside {}", real.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write beside {}", real.display()))?;
    copy_permissions(&real, tmp.path());
    tmp.persist(&real)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", real.display()))?;
    Ok(())
}
