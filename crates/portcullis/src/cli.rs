//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Portcullis finds and stops the ways an MCP setup can hurt its user.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find MCP client configurations and report what is dangerous in them.
    ///
    /// With no PATH: every MCP client configuration of the current user on this machine, plus
    /// the current folder. With PATHs: the named files, and the folders walked.
    Scan(ScanArgs),
    /// Pin the tool, prompt and resource definitions of MCP servers in portcullis.lock.
    ///
    /// Walks the PATHs (default: the current folder) for tool dumps (`tools/list` results and
    /// live snapshots, recognised by their content), or asks live servers: `pin -- COMMAND
    /// ARGS...`, `pin URL`, or `pin --inspect` for the servers of your client configs. Writes,
    /// for each server, a sha256 of each definition and the definition itself with secrets
    /// redacted. `portcullis scan --locked` then fails on any change (a rug pull).
    Pin(PinArgs),
    /// Ask a live MCP server what it exposes, save that as a snapshot and scan it.
    ///
    /// `portcullis inspect [OPTIONS] -- COMMAND ARGS...` launches a stdio server, confined:
    /// scratch home and temp folder, no inherited environment beyond PATH and LANG, no network
    /// (Linux), a memory and a time limit. `portcullis inspect [OPTIONS] URL` reaches a
    /// streamable-HTTP (or older HTTP+SSE) server. Nothing is launched that you do not name.
    Inspect(InspectArgs),
    /// List the rules.
    Rules(RulesArgs),
    /// Run an MCP server through a policy-enforcing gateway (stdio or streamable HTTP).
    ///
    /// The client starts `portcullis gateway [OPTIONS] -- COMMAND ARGS...` in place of the
    /// server; portcullis starts the server and relays JSON-RPC both ways, enforcing the policy
    /// on tool calls, pinning tool definitions, redacting secrets in responses and recording
    /// every call in a hash-chained audit log. Nothing but protocol goes to standard output.
    ///
    /// With `--upstream URL` alone, the client still starts portcullis as a stdio server, and
    /// portcullis relays each message to that remote streamable-HTTP server.
    ///
    /// With `--listen 127.0.0.1:PORT` the gateway serves MCP streamable HTTP at `/mcp` instead,
    /// in front of `--upstream URL` or of `-- COMMAND ARGS...` (one server per session), with
    /// a bearer token and Host/Origin checks.
    Gateway(GatewayArgs),
    /// Read and check the gateway's audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Rewrite a client's MCP configuration so its servers run through the gateway.
    ///
    /// Each stdio server (or each one named with --server) becomes `portcullis gateway --name
    /// NAME [--policy FILE] -- COMMAND ARGS...`; `env`, secrets, comments and every other key
    /// stay where they were. Each streamable-HTTP server becomes a stdio entry running
    /// `portcullis gateway --name NAME --upstream URL`, its `headers` renamed `env` (values
    /// in place, read with --upstream-header-env, never on the command line); SSE, WebSocket
    /// and OAuth-signed-in servers are left as they are and reported. A backup is written
    /// beside the file first (`<file>.portcullis-<time>-<hash>.bak`, never overwritten).
    /// Wrapping twice changes nothing. With no TARGET: every user configuration found, and
    /// the project configurations in the current folder.
    Wrap(WrapArgs),
    /// Undo `portcullis wrap`: the file exactly as it was when it has not changed since,
    /// otherwise the wrapped entries unwrapped in place.
    Unwrap(UnwrapArgs),
    /// Write a starting gateway policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print one rule's documentation.
    Explain {
        /// The rule's code (PC201) or name (plaintext-secret-in-config).
        rule: String,
    },
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and folders to scan.
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = ["critical", "high", "medium", "low", "info"])]
    pub fail_on: Option<String>,

    /// Run only these rules (codes, names or code prefixes such as PC2), comma separated.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,

    /// Do not run these rules, comma separated.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,

    /// Settings file (default: portcullis.toml in the current folder or a parent).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,

    /// Hide findings recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record every current finding in FILE as the new baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Also scan the user's client configurations when PATHs are given.
    #[arg(long)]
    pub user_configs: bool,

    /// Scan only the named PATHs (or the current folder), not the user's configurations.
    #[arg(long, conflicts_with = "user_configs")]
    pub no_user_configs: bool,

    /// When to use colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Do not show progress on the terminal.
    #[arg(long, short)]
    pub quiet: bool,

    /// Compare tool dumps with portcullis.lock (in the scanned folder, else the current one) and
    /// report every changed, added or removed definition.
    #[arg(long)]
    pub locked: bool,

    /// Compare tool dumps with this lock file (implies --locked).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,

    /// Also launch (confined) or contact the MCP servers of the client configs found, list
    /// their tools, prompts and resources, and audit those with the rest. You are asked first,
    /// with the list of what will run; `--inspect=yes` (or `--yes`) agrees without asking.
    #[arg(
        long,
        value_name = "yes",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "ask",
        value_parser = ["ask", "yes"]
    )]
    pub inspect: Option<String>,

    #[command(flatten)]
    pub live: LiveArgs,
}

/// How configured servers are inspected live (`--inspect`).
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Agree to launching or contacting the configured servers without being asked (for CI).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Give up on one server (and stop it) after SECS seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub inspect_timeout: f64,

    /// Let launched servers use the network.
    #[arg(long)]
    pub allow_network: bool,

    /// Address-space limit of each launched server, in MiB (0: none).
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub memory_limit: u64,
}

impl Default for LiveArgs {
    fn default() -> Self {
        LiveArgs {
            yes: false,
            inspect_timeout: 30.0,
            allow_network: false,
            memory_limit: 4096,
        }
    }
}

#[derive(Debug, Args)]
pub struct PinArgs {
    /// Files and folders holding tool dumps (default: the current folder, unless live servers
    /// are named), or the URL of a live HTTP server to pin.
    pub paths: Vec<PathBuf>,

    /// Where to write the lock (default: portcullis.lock in the current folder).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Pin what the MCP servers of the client configs found expose, live (asked first, as
    /// `scan --inspect`).
    #[arg(long)]
    pub inspect: bool,

    /// A stdio server to launch (confined) and pin, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,

    /// For a launched command: give it this variable, `KEY=VALUE` or `KEY`. Repeatable.
    #[arg(long = "env", short = 'e', value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,

    /// For a URL: an HTTP header, `'Name: value'`. Repeatable.
    #[arg(long = "header", short = 'H', value_name = "HEADER")]
    pub headers: Vec<String>,

    /// For a URL: send `Authorization: Bearer` with the token in this variable.
    #[arg(long, value_name = "VAR")]
    pub bearer_token_env: Option<String>,

    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The URL of an HTTP server; or give the command of a stdio server after `--`.
    #[arg(
        value_name = "URL",
        required_unless_present = "command",
        conflicts_with = "command"
    )]
    pub url: Option<String>,

    /// The command that starts a stdio server, and its arguments (after `--`).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,

    /// Write the snapshot (what the server exposes, as JSON) to FILE.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,

    /// Print what the server exposes (tools, prompts, resources) and stop; no scan.
    #[arg(long)]
    pub list: bool,

    /// An HTTP header for every request, `'Name: value'`; `${VAR}` in the value is read from
    /// the environment. Repeatable.
    #[arg(long = "header", short = 'H', value_name = "HEADER")]
    pub headers: Vec<String>,

    /// Send `Authorization: Bearer` with the token in this environment variable (default:
    /// PORTCULLIS_BEARER_TOKEN when it is set).
    #[arg(long, value_name = "VAR")]
    pub bearer_token_env: Option<String>,

    /// Give the launched server this variable: `KEY=VALUE` (`${VAR}` is read from your
    /// environment) or `KEY` (your value). Nothing else of your environment is passed on
    /// except PATH and LANG. Repeatable.
    #[arg(long = "env", short = 'e', value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,

    /// HTTP transport for a URL.
    #[arg(long, value_enum, default_value_t = InspectTransport::Auto)]
    pub transport: InspectTransport,

    /// Protocol era: `server/discover` (2026-07-28), `initialize` (up to 2025-11-25), or the
    /// first that works.
    #[arg(long, value_enum, default_value_t = InspectProtocol::Auto)]
    pub protocol: InspectProtocol,

    /// Let a launched server use the network.
    #[arg(long)]
    pub allow_network: bool,

    /// Address-space limit of a launched server, in MiB (0: none).
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub memory_limit: u64,

    /// Give up on the whole inspection (and stop the server) after SECS seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,

    /// Give up on one request after SECS seconds.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub request_timeout: f64,

    /// Give up connecting to an HTTP server after SECS seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub connect_timeout: f64,

    /// Output format of the scan.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = ["critical", "high", "medium", "low", "info"])]
    pub fail_on: Option<String>,

    /// Settings file (default: portcullis.toml in the current folder or a parent).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,

    /// When to use colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Do not show progress on the terminal.
    #[arg(long, short)]
    pub quiet: bool,

    /// Compare the server's definitions with portcullis.lock in the current folder and report
    /// every changed, added or removed one (a rug pull).
    #[arg(long)]
    pub locked: bool,

    /// Compare with this lock file (implies --locked).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectTransport {
    Auto,
    StreamableHttp,
    Sse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectProtocol {
    Auto,
    Legacy,
    Modern,
}

#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// The policy file (TOML). Without one every call is allowed, and tool pins, secret
    /// redaction and the audit log still apply. A policy that cannot be read stops startup.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// The server's name, matched against the policy's `[[server]] name` globs and recorded in
    /// the audit log (default: the command's file name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The audit log (default: audit.sqlite in the user's data folder, shared by all gateways).
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,

    /// The audit log's format (default: from the file name, `.jsonl` for JSON lines).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub audit_format: Option<AuditFormatArg>,

    /// Approve changed tool definitions: they become the new pins (the change is audited).
    #[arg(long)]
    pub accept_changes: bool,

    /// Requests waiting for an answer at once (default: the policy's `max_in_flight`, 256);
    /// more are refused with a JSON-RPC error.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight: Option<u32>,

    /// Serve MCP streamable HTTP on this address (at `/mcp`) instead of stdio. Loopback only
    /// unless --allow-remote.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,

    /// Front this streamable-HTTP MCP endpoint instead of starting a server: over stdio (the
    /// client starts the gateway), or over HTTP with --listen.
    #[arg(long, value_name = "URL", conflicts_with = "command")]
    pub upstream: Option<String>,

    /// A header for the upstream, `Name: value` (repeatable). Never logged, but visible to
    /// other users in the process list: give secrets with --upstream-header-env.
    #[arg(long, value_name = "HEADER", requires = "upstream")]
    pub upstream_header: Vec<String>,

    /// A header for the upstream whose value is read from an environment variable,
    /// `Name: VAR` (repeatable), e.g. `Authorization: GITHUB_AUTH` with GITHUB_AUTH set to
    /// `Bearer ...`.
    #[arg(long, value_name = "HEADER", requires = "upstream")]
    pub upstream_header_env: Vec<String>,

    /// Send `Authorization: Bearer` with the value of this variable to the upstream.
    #[arg(long, value_name = "VAR", requires = "upstream")]
    pub upstream_bearer_env: Option<String>,

    /// HTTP mode: the token clients must send as `Authorization: Bearer`, read from this
    /// variable. Without it a random token is made and printed once to standard error.
    #[arg(long, value_name = "VAR", requires = "listen")]
    pub bearer_token_env: Option<String>,

    /// HTTP mode: listen on a non-loopback address (the bearer token is still required).
    #[arg(long, requires = "listen")]
    pub allow_remote: bool,

    /// HTTP mode: also accept this `Host` header value, `name:port` (repeatable).
    #[arg(long, value_name = "HOST", requires = "listen")]
    pub allow_host: Vec<String>,

    /// HTTP mode: also accept requests with this `Origin`, e.g. `https://app.example` (repeatable).
    #[arg(long, value_name = "ORIGIN", requires = "listen")]
    pub allow_origin: Vec<String>,

    /// HTTP mode: sessions open at once (default 16; with a local server, one process each).
    #[arg(long, value_name = "N", default_value_t = 16, requires = "listen")]
    pub max_sessions: usize,

    /// The server command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct WrapArgs {
    /// A client (claude-desktop, claude-code, cursor, vscode, windsurf, gemini-cli, codex,
    /// zed, ...) or a configuration file.
    #[arg(value_name = "CLIENT|CONFIG")]
    pub target: Option<String>,

    /// Wrap only this server (repeatable).
    #[arg(long, value_name = "NAME")]
    pub server: Vec<String>,

    /// The policy the wrapped servers run under (checked now, written as an absolute path).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// The audit log the wrapped servers write (default: the gateway's default).
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,

    /// Show the change as a diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// The portcullis program the client should start (default: this one, by absolute path).
    #[arg(long, value_name = "PATH")]
    pub gateway_program: Option<String>,
}

#[derive(Debug, Args)]
pub struct UnwrapArgs {
    /// A client or a configuration file (default: every one found, as for wrap).
    #[arg(value_name = "CLIENT|CONFIG")]
    pub target: Option<String>,

    /// Unwrap only this server, in place (repeatable).
    #[arg(long, value_name = "NAME")]
    pub server: Vec<String>,

    /// Show the change as a diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Write a starting policy for the configured servers, with comments that explain it.
    ///
    /// Per server: folders for path arguments (the directories among its arguments, else its
    /// working folder), hosts for URL arguments (those its configuration names, else any
    /// public host), a rate limit, and, from a tool dump (`portcullis inspect --save`), one
    /// rule per tool: allowed, or denied when it looks destructive (delete, drop, rm, write,
    /// exec, ... or `destructiveHint`). Review it before use.
    Init(PolicyInitArgs),
}

#[derive(Debug, Args)]
pub struct PolicyInitArgs {
    /// A client or a configuration file (default: every configuration found, as for scan).
    #[arg(value_name = "CLIENT|CONFIG")]
    pub target: Option<String>,

    /// A tool dump (`portcullis inspect --save FILE`, or a saved `tools/list` result), as
    /// `SERVER=FILE` or `FILE` (matched by the server's name). Repeatable.
    #[arg(long = "tools", value_name = "[SERVER=]FILE")]
    pub tools: Vec<String>,

    /// Write the policy to FILE (default: standard output). An existing file is not replaced
    /// unless --force.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormatArg {
    Sqlite,
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List the records.
    List(AuditListArgs),
    /// Recompute the hash chain; exit 1 and name the first broken record if it does not hold.
    Verify(AuditFileArgs),
    /// Write every record as JSON lines.
    Export(AuditExportArgs),
    /// Print the last records, then each new one as the gateway commits it (like `tail -f`),
    /// until interrupted or the output is closed.
    Follow(AuditFollowArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FollowFormat {
    /// One line per record, as `audit list`.
    Text,
    /// One JSON object per line, as `audit export`.
    Json,
}

#[derive(Debug, Args)]
pub struct AuditFollowArgs {
    #[command(flatten)]
    pub file: AuditFileArgs,

    /// Start with the last N records already there.
    #[arg(
        long,
        short = 'n',
        value_name = "N",
        default_value_t = 10,
        conflicts_with = "since"
    )]
    pub last: usize,

    /// Start after record SEQ (a number), or from TIME on (RFC 3339, UTC, a prefix such as
    /// `2026-05-01T12` will do).
    #[arg(long, value_name = "SEQ|TIME")]
    pub since: Option<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FollowFormat::Text)]
    pub format: FollowFormat,

    /// How often to look for new records, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub interval_ms: u64,
}

#[derive(Debug, Args)]
pub struct AuditFileArgs {
    /// The audit log (default: the gateway's default).
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,

    /// The audit log's format (default: from the file name).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub audit_format: Option<AuditFormatArg>,
}

#[derive(Debug, Args)]
pub struct AuditListArgs {
    #[command(flatten)]
    pub file: AuditFileArgs,

    /// Only the last N records.
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,
}

#[derive(Debug, Args)]
pub struct AuditExportArgs {
    #[command(flatten)]
    pub file: AuditFileArgs,

    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
