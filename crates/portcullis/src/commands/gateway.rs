//! `portcullis gateway`: runs an MCP server through the policy-enforcing gateway, over stdio or
//! (with `--listen`) streamable HTTP, in front of a server it starts (`-- COMMAND ARGS`) or a
//! remote one (`--upstream URL`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use portcullis_gateway::audit::{self, AuditFormat, AuditLog, PinStore};
use portcullis_gateway::http::{HttpOptions, Upstream, run_http};
use portcullis_gateway::judge::EngineOptions;
use portcullis_gateway::remote::{RemoteOptions, run_remote_stdio};
use portcullis_gateway::{GatewayOptions, Policy, datadir, run_stdio};

use crate::cli::{AuditFormatArg, GatewayArgs};

pub fn run(args: GatewayArgs) -> anyhow::Result<ExitCode> {
    if args.command.is_empty() && args.upstream.is_none() {
        bail!(
            "no server to front: give its command after `--` (`portcullis gateway -- COMMAND ARGS...`), \
             or --upstream URL"
        );
    }
    if let Some(listen) = args.listen
        && !listen.ip().is_loopback()
        && !args.allow_remote
    {
        bail!(
            "refusing to listen on {listen}: it is not a loopback address, so other machines could reach \
             the gateway; pass --allow-remote if that is intended (clients still need the bearer token)"
        );
    }
    // Fail closed: no policy, no gateway.
    let policy = match &args.policy {
        Some(path) => Policy::load(path).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => Policy::permissive(),
    };
    let (audit_path, format) = audit_location(args.audit.clone(), args.audit_format)?;
    let audit = AuditLog::open(&audit_path, format).with_context(|| {
        format!(
            "cannot open the audit log {}; pass --audit FILE with a writable place",
            audit_path.display()
        )
    })?;
    let pins = PinStore::open_for(&audit_path, format)
        .with_context(|| format!("cannot open the tool pins next to {}", audit_path.display()))?;
    let name = match (&args.name, args.command.first(), &args.upstream) {
        (Some(name), _, _) => name.clone(),
        (None, Some(program), _) => Path::new(program)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "server".into()),
        (None, None, Some(url)) => url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "server".into()),
        (None, None, None) => "server".into(),
    };
    let max_in_flight = args.max_in_flight.map(|n| n as usize);
    let upstream_url = args.upstream.clone();
    if let (None, Some(url)) = (args.listen, upstream_url) {
        let (url, headers) = upstream_of(url, &args)?;
        let code = run_remote_stdio(RemoteOptions {
            engine: EngineOptions {
                server_name: name,
                policy,
                audit,
                pins,
                accept_changes: args.accept_changes,
                max_in_flight,
            },
            url,
            headers,
        })?;
        return Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)));
    }
    let Some(listen) = args.listen else {
        let code = run_stdio(GatewayOptions {
            server_name: name,
            command: args.command,
            policy,
            audit,
            pins,
            accept_changes: args.accept_changes,
            max_in_flight,
        })?;
        return Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)));
    };
    let upstream = match args.upstream.clone() {
        Some(url) => {
            let (url, headers) = upstream_of(url, &args)?;
            Upstream::Url { url, headers }
        }
        None => Upstream::Command(args.command),
    };
    let (token, generated) = match &args.bearer_token_env {
        Some(var) => {
            let token = std::env::var(var)
                .with_context(|| format!("--bearer-token-env: the variable `{var}` is not set"))?;
            if token.trim().len() < 16 {
                bail!(
                    "--bearer-token-env: the token in `{var}` is shorter than 16 characters; use a long random one"
                );
            }
            (token.trim().to_string(), false)
        }
        None => (generate_token()?, true),
    };
    let shown = token.clone();
    let code = run_http(
        EngineOptions {
            server_name: name,
            policy,
            audit,
            pins,
            accept_changes: args.accept_changes,
            max_in_flight,
        },
        HttpOptions {
            listen,
            upstream,
            token,
            allowed_hosts: args.allow_host,
            allowed_origins: args.allow_origin,
            max_sessions: args.max_sessions,
        },
        move |addr| {
            let mut line = format!("portcullis gateway: listening on http://{addr}/mcp");
            if generated {
                // Shown once, here; it is not written anywhere else.
                line.push_str(&format!("\nportcullis gateway: bearer token: {shown}"));
            }
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{line}");
            }
        },
    )?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// The upstream URL, checked, and the headers to send it: `--upstream-header`,
/// `--upstream-header-env` and `--upstream-bearer-env`. No error quotes a header value.
fn upstream_of(url: String, args: &GatewayArgs) -> anyhow::Result<(String, Vec<(String, String)>)> {
    let parsed =
        url::Url::parse(&url).with_context(|| "--upstream is not a valid URL".to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("--upstream must be an http:// or https:// URL");
    }
    let mut headers = Vec::new();
    for h in &args.upstream_header {
        let Some((k, v)) = h.split_once(':') else {
            bail!("--upstream-header takes `Name: value` (the value is not shown here)");
        };
        headers.push(checked_header("--upstream-header", k, v.trim())?);
    }
    for h in &args.upstream_header_env {
        let Some((k, var)) = h.split_once(':').or_else(|| h.split_once('=')) else {
            bail!("--upstream-header-env takes `Name: VARIABLE`, not `{h}`");
        };
        let var = var.trim();
        let value = std::env::var(var).with_context(|| {
            format!(
                "--upstream-header-env: the variable `{var}` (for the header `{}`) is not set",
                k.trim()
            )
        })?;
        if value.trim().is_empty() {
            bail!(
                "--upstream-header-env: the variable `{var}` (for the header `{}`) is empty",
                k.trim()
            );
        }
        headers.push(checked_header("--upstream-header-env", k, value.trim())?);
    }
    if let Some(var) = &args.upstream_bearer_env {
        let token = std::env::var(var)
            .with_context(|| format!("--upstream-bearer-env: the variable `{var}` is not set"))?;
        headers.push(checked_header(
            "--upstream-bearer-env",
            "Authorization",
            &format!("Bearer {}", token.trim()),
        )?);
    }
    Ok((url, headers))
}

/// A header name and value that HTTP can carry (no line breaks smuggled into the request).
fn checked_header(flag: &str, name: &str, value: &str) -> anyhow::Result<(String, String)> {
    let name = name.trim();
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        bail!("{flag}: `{name}` is not a valid header name");
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        bail!("{flag}: the value for `{name}` is not a valid header value (it is not shown here)");
    }
    Ok((name.to_string(), value.to_string()))
}

/// 32 random bytes from the operating system, as hex.
fn generate_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot make a bearer token: {e}; pass --bearer-token-env"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
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
