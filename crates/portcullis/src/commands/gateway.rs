//! `portcullis gateway`: runs a stdio MCP server through the policy-enforcing gateway.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use portcullis_gateway::audit::{self, AuditFormat, AuditLog, PinStore};
use portcullis_gateway::{GatewayOptions, Policy, datadir, run_stdio};

use crate::cli::{AuditFormatArg, GatewayArgs};

pub fn run(args: GatewayArgs) -> anyhow::Result<ExitCode> {
    // Fail closed: no policy, no gateway.
    let policy = match &args.policy {
        Some(path) => Policy::load(path).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => Policy::permissive(),
    };
    let (audit_path, format) = audit_location(args.audit, args.audit_format)?;
    let audit = AuditLog::open(&audit_path, format).with_context(|| {
        format!(
            "cannot open the audit log {}; pass --audit FILE with a writable place",
            audit_path.display()
        )
    })?;
    let pins = PinStore::open_for(&audit_path, format)
        .with_context(|| format!("cannot open the tool pins next to {}", audit_path.display()))?;
    let name = args.name.unwrap_or_else(|| {
        Path::new(&args.command[0])
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "server".into())
    });
    let code = run_stdio(GatewayOptions {
        server_name: name,
        command: args.command,
        policy,
        audit,
        pins,
        accept_changes: args.accept_changes,
    })?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// The audit file and its format, from the flags or the defaults.
pub fn audit_location(
    path: Option<PathBuf>,
    format: Option<AuditFormatArg>,
) -> anyhow::Result<(PathBuf, AuditFormat)> {
    let path = match path {
        Some(p) => p,
        None => datadir::default_audit_path()
            .context("no data folder is known (HOME is not set); pass --audit FILE")?,
    };
    let format = match format {
        Some(AuditFormatArg::Sqlite) => AuditFormat::Sqlite,
        Some(AuditFormatArg::Jsonl) => AuditFormat::Jsonl,
        None => audit::format_of(&path),
    };
    Ok((path, format))
}
