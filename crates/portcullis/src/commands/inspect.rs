//! `portcullis inspect`: ask one live MCP server what it exposes, save the snapshot, scan it.
//!
//! The server is only ever the one the user names (a command after `--`, or a URL). The
//! snapshot is scanned through `scan` itself, so formats, `--fail-on` and exit codes are the
//! same; an inspection that fails is a failure of the tool (exit 2).

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use portcullis_mcp::Snapshot;
use portcullis_mcp::client::{
    self, ClientVariables, Confinement, HttpTransport, LaunchSpec, Options, Protocol, Target,
    resolve_references,
};
use serde_json::Value;

use crate::cli::{Format, InspectArgs, InspectProtocol, InspectTransport, LiveArgs, ScanArgs};
use crate::output;

/// The variable read for a bearer token when `--bearer-token-env` is not given.
const DEFAULT_TOKEN_VAR: &str = "PORTCULLIS_BEARER_TOKEN";

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let target = target(&args)?;
    let options = options(&args)?;
    let source = target.masked_source();
    let snapshot =
        client::inspect(&target, &options).with_context(|| format!("cannot inspect `{source}`"))?;
    for note in &snapshot.notes {
        if note.contains("NOT") {
            anstream::eprintln!("warning: {note}");
        }
    }
    let text = snapshot.to_pretty_string();
    if let Some(path) = &args.save {
        std::fs::write(path, &text)
            .with_context(|| format!("cannot write the snapshot to {}", path.display()))?;
    }
    if args.list {
        output::write(&summary(&snapshot), args.output.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.format == Format::Text && args.output.is_none() {
        output::write(&summary(&snapshot), None)?;
    }
    // The scan reads files: the saved snapshot, or a temporary copy.
    let temp = tempfile::Builder::new()
        .prefix("portcullis-snapshot-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let path = match &args.save {
        Some(path) => path.clone(),
        None => {
            let path = temp.path().join("snapshot.json");
            std::fs::write(&path, &text).context("cannot write the snapshot")?;
            path
        }
    };
    super::scan::run(ScanArgs {
        paths: vec![path],
        format: args.format,
        output: args.output,
        fail_on: args.fail_on,
        select: Vec::new(),
        ignore: Vec::new(),
        settings: args.settings,
        baseline: None,
        write_baseline: None,
        user_configs: false,
        no_user_configs: true,
        color: args.color,
        quiet: args.quiet,
        locked: args.locked,
        lock: args.lock,
        inspect: None,
        live: LiveArgs::default(),
    })
}

fn target(args: &InspectArgs) -> anyhow::Result<Target> {
    target_of(&TargetArgs {
        command: &args.command,
        url: args.url.as_deref(),
        env: &args.env,
        headers: &args.headers,
        bearer_token_env: args.bearer_token_env.as_deref(),
        transport: match args.transport {
            InspectTransport::Auto => HttpTransport::Auto,
            InspectTransport::StreamableHttp => HttpTransport::StreamableHttp,
            InspectTransport::Sse => HttpTransport::Sse,
        },
    })
}

/// A server the user names on the command line: a command (after `--`) or a URL.
pub(super) struct TargetArgs<'a> {
    pub command: &'a [String],
    pub url: Option<&'a str>,
    pub env: &'a [String],
    pub headers: &'a [String],
    pub bearer_token_env: Option<&'a str>,
    pub transport: HttpTransport,
}

pub(super) fn target_of(args: &TargetArgs<'_>) -> anyhow::Result<Target> {
    let lookup = |name: &str| std::env::var(name).ok();
    if let Some((program, rest)) = args.command.split_first() {
        if !args.headers.is_empty() || args.bearer_token_env.is_some() {
            bail!("--header and --bearer-token-env are for URLs, not launched commands");
        }
        let mut env = Vec::new();
        for item in args.env {
            let (key, value) = match item.split_once('=') {
                Some((key, value)) => {
                    let resolved = resolve_references(value, &lookup, &ClientVariables::default());
                    if !resolved.unset.is_empty() {
                        bail!(
                            "--env {key}: {} not set in your environment",
                            resolved.unset.join(", ")
                        );
                    }
                    (key.to_string(), resolved.value)
                }
                None => match std::env::var(item) {
                    Ok(value) => (item.to_string(), value),
                    Err(_) => bail!("--env {item}: {item} is not set in your environment"),
                },
            };
            if key.is_empty() || key.contains(['\0', '=']) {
                bail!("--env `{item}` is not KEY=VALUE");
            }
            env.push((key, value));
        }
        return Ok(Target::Stdio(LaunchSpec {
            program: program.clone(),
            args: rest.to_vec(),
            env,
            cwd: None,
        }));
    }
    let Some(url) = args.url else {
        bail!("name a server: a URL, or a command after `--`");
    };
    if !args.env.is_empty() {
        bail!("--env is for launched commands; a URL's server runs elsewhere");
    }
    let parsed = url::Url::parse(url)
        .with_context(|| format!("`{url}` is not a URL (for a command, put it after `--`)"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("`{url}`: only http:// and https:// URLs can be inspected");
    }
    let mut headers = Vec::new();
    for header in args.headers {
        let Some((name, value)) = header.split_once(':') else {
            bail!("--header `{header}` is not `Name: value`");
        };
        let name = name.trim();
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c.is_control()) {
            bail!("--header `{name}` is not a header name");
        }
        let resolved = resolve_references(value.trim(), &lookup, &ClientVariables::default());
        if !resolved.unset.is_empty() {
            bail!(
                "--header {name}: {} not set in your environment",
                resolved.unset.join(", ")
            );
        }
        let value = resolved.value;
        if value.contains(['\r', '\n']) {
            bail!("--header {name}: the value holds a line break");
        }
        headers.push((name.to_string(), value));
    }
    let token = match args.bearer_token_env {
        Some(var) => Some(
            std::env::var(var)
                .with_context(|| format!("--bearer-token-env {var}: {var} is not set"))?,
        ),
        None => std::env::var(DEFAULT_TOKEN_VAR)
            .ok()
            .filter(|t| !t.is_empty()),
    };
    if let Some(token) = token {
        if headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            bail!("both a bearer token and an Authorization header were given; keep one");
        }
        if token.contains(['\r', '\n']) {
            bail!("the bearer token holds a line break");
        }
        let local = parsed.host_str().is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
                || h == "[::1]"
        });
        if parsed.scheme() == "http" && !local {
            anstream::eprintln!(
                "warning: sending a bearer token over plain http:// to another machine; anyone \
                 on the way can read it"
            );
        }
        headers.push(("Authorization".to_string(), format!("Bearer {token}")));
    }
    Ok(Target::Http {
        url: url.to_string(),
        headers,
        transport: args.transport,
    })
}

fn options(args: &InspectArgs) -> anyhow::Result<Options> {
    let secs = |name: &str, v: f64| -> anyhow::Result<Duration> {
        if v.is_finite() && v > 0.0 && v <= 86_400.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            bail!("{name} must be a number of seconds above 0")
        }
    };
    Ok(Options {
        protocol: match args.protocol {
            InspectProtocol::Auto => Protocol::Auto,
            InspectProtocol::Legacy => Protocol::Legacy,
            InspectProtocol::Modern => Protocol::Modern,
        },
        connect_timeout: secs("--connect-timeout", args.connect_timeout)?,
        request_timeout: secs("--request-timeout", args.request_timeout)?,
        total_timeout: secs("--timeout", args.timeout)?,
        confinement: Confinement {
            allow_network: args.allow_network,
            memory_limit: (args.memory_limit > 0)
                .then(|| args.memory_limit.saturating_mul(1 << 20)),
        },
        ..Options::default()
    })
}

/// What the server exposes, for people: names and the first line of each description, with
/// invisible characters shown.
fn summary(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let field = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let name =
        field(snapshot.server_info.as_ref(), "name").unwrap_or_else(|| "(unnamed server)".into());
    let version = field(snapshot.server_info.as_ref(), "version").unwrap_or_default();
    let _ = writeln!(
        out,
        "{} {} (protocol {}, {})",
        visible(&name),
        visible(&version),
        snapshot.protocol_version.as_deref().unwrap_or("?"),
        snapshot.transport.map(|t| t.as_str()).unwrap_or("?"),
    );
    let _ = writeln!(out, "source: {}", snapshot.source);
    if let Some(instructions) = &snapshot.instructions {
        let _ = writeln!(out, "instructions: {}", first_line(instructions));
    }
    let sections = [
        ("tools", "tools", "name"),
        ("prompts", "prompts", "name"),
        ("resources", "resources", "uri"),
        ("resourceTemplates", "resource templates", "uriTemplate"),
    ];
    for (key, title, id) in sections {
        if let Some(error) = snapshot.errors.get(key) {
            let _ = writeln!(out, "\n{title}: failed: {error}");
            continue;
        }
        let Some(items) = snapshot.list(key) else {
            continue;
        };
        let _ = writeln!(out, "\n{title} ({}):", items.len());
        let rows: Vec<(String, String)> = items
            .iter()
            .map(|item| {
                let ident = field(Some(item), id).unwrap_or_else(|| "(no name)".into());
                let text = field(Some(item), "description")
                    .or_else(|| field(Some(item), "name").filter(|_| id != "name"))
                    .unwrap_or_default();
                (visible(&ident), first_line(&text))
            })
            .collect();
        let width = rows
            .iter()
            .map(|(n, _)| n.chars().count())
            .max()
            .unwrap_or(0)
            .min(40);
        for (ident, text) in rows {
            let _ = writeln!(out, "  {ident:<width$}  {text}");
        }
    }
    if !snapshot.relisted.is_empty() {
        let keys: Vec<&str> = snapshot.relisted.keys().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "\nchanged while inspected: {} (the server said so and listed them differently)",
            keys.join(", ")
        );
    }
    if !snapshot.notes.is_empty() {
        let _ = writeln!(out, "\nconfinement:");
        for note in &snapshot.notes {
            let _ = writeln!(out, "  {note}");
        }
    }
    out.push('\n');
    out
}

/// The first line, at most 100 characters, invisible characters shown as `\u{..}`.
fn first_line(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let shown = visible(line.trim());
    let more = text.trim().lines().count() > 1;
    let mut cut: String = shown.chars().take(100).collect();
    if more || shown.chars().count() > 100 {
        cut.push('…');
    }
    cut
}

fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let invisible = c.is_control()
            || matches!(c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0xFEFF | 0xE0000..=0xE007F);
        if invisible {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{first_line, visible};

    #[test]
    fn invisible_characters_are_shown() {
        assert_eq!(visible("a\u{200B}b\u{E0041}"), "a\\u{200b}b\\u{e0041}");
        assert_eq!(first_line("\nAdds.\n\n<IMPORTANT>"), "Adds.…");
    }
}
