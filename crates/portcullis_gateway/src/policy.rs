//! The gateway policy: a TOML file parsed strictly (`deny_unknown_fields`), then validated into
//! resolved types with no `Option`s. Every error points into the file (line and column) and
//! says what to do.
//!
//! Matching is first-match: the first `[[server]]` whose `name` glob matches the server, then
//! the first `[[server.tool]]` whose `name` glob matches the tool. What no rule names falls to
//! the server's `action`, then `[defaults] action`, which is `deny` in a policy file (least
//! privilege: a policy lists what it allows). Without a policy file the gateway allows every
//! call and only pins, redacts and audits ([`Policy::permissive`]).
//!
//! ```toml
//! version = 1
//!
//! [defaults]
//! action = "deny"          # tools no rule names
//! sampling = "deny"        # server-initiated sampling/createMessage
//! elicitation = "deny"     # server-initiated elicitation/create
//! max_in_flight = 256      # requests waiting for an answer at once; more are refused
//! ask_timeout_secs = 120   # how long a call under `action = "ask"` waits for the user
//!
//! [rate]                   # every call through this gateway
//! calls = 600
//! per_secs = 60
//! burst = 50
//!
//! [[server]]
//! name = "filesystem*"     # glob on the server name (`--name`, default the command's file name)
//! rate = { calls = 120, per_secs = 60 }
//!
//! [[server.tool]]
//! name = "read_*"
//! action = "allow"
//! paths = { roots = ["~/projects"] }   # which arguments: named, or inferred from inputSchema
//!
//! [[server.tool]]
//! name = "fetch"
//! action = "allow"
//! untrusted = true
//! injected_instructions = "block"   # block | warn (default) | off
//! urls = { args = ["url"], schemes = ["https"], hosts = ["*.example.com"] }
//! rate = { calls = 10, per_secs = 60, burst = 3 }
//!
//! [[server.tool]]
//! name = "delete_*"
//! action = "ask"           # ask the user (MCP elicitation, or an `input_required` result
//!                          # for a 2026-07-28-era client) before each call; refused on
//!                          # decline, cancel, timeout, or a client without elicitation
//!
//! [[server.tool]]
//! name = "edit_files"
//! action = "allow"
//! # `args` (and `patterns` keys) select arguments: a top-level name, a JSON pointer into
//! # nested values (`*` for every element or member; arrays are looked through), or a dotted
//! # key glob (`**` for any depth). See `checks::values_of`.
//! paths = { args = ["/options/files", "edits.*.path"], roots = ["~/projects"] }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::rate::RateSpec;

/// A policy that cannot be used, with where and what to do.
#[derive(Debug, thiserror::Error)]
pub struct PolicyError {
    pub file: PathBuf,
    /// 1-based line and column, when the error has a place in the file.
    pub position: Option<(usize, usize)>,
    pub message: String,
    pub help: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: ", self.file.display())?,
            None => write!(f, "{}: ", self.file.display())?,
        }
        write!(f, "{}", self.message)?;
        if !self.help.is_empty() {
            write!(f, "\n  help: {}", self.help)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
    /// Ask the user (MCP elicitation) before each call; refused unless they approve. Tool
    /// calls only.
    Ask,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinMode {
    /// A changed tool definition blocks calls to that tool until re-approved.
    Enforce,
    /// A changed definition becomes the new pin (as `--accept-changes`), and is audited.
    Accept,
}

/// What to do when a response's text carries instructions addressed to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// The response is replaced by a JSON-RPC error naming the rule.
    Block,
    /// The response goes on, marked with a warning, and the finding is audited.
    Warn,
    Off,
}

/// Rules about path arguments: every such argument must resolve inside one of `roots`.
#[derive(Debug, Clone)]
pub struct PathRule {
    /// Argument selectors (names, JSON pointers, dotted key globs: `checks::values_of`);
    /// `None`: inferred from the tool's `inputSchema`, nested properties included.
    pub args: Option<Vec<String>>,
    /// Canonical (symlinks resolved) roots.
    pub roots: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct UrlRule {
    pub args: Option<Vec<String>>,
    pub schemes: Vec<String>,
    /// Host globs; `None`: any host that is not private.
    pub hosts: Option<globset::GlobSet>,
    /// Allow private, loopback and link-local destinations (off by default).
    pub allow_private: bool,
}

#[derive(Debug, Clone)]
pub struct CommandRule {
    pub args: Option<Vec<String>>,
    /// Programs allowed as the first word, compared exactly.
    pub allow: Vec<String>,
}

/// Everything that applies to one tool, resolved from its rule, its server and the defaults.
#[derive(Debug, Clone)]
pub struct ToolRules {
    /// Names the rule that decided, for refusals and the audit log:
    /// `server "fs" tool "read_*" (policy.toml:12)`, or `defaults`.
    pub label: String,
    pub action: Action,
    pub rate: Option<RateSpec>,
    pub paths: Option<PathRule>,
    pub urls: Option<UrlRule>,
    pub commands: Option<CommandRule>,
    pub max_string_len: Option<usize>,
    /// Argument name to a regex its (string) value must match whole.
    pub patterns: Vec<(String, Regex)>,
    pub untrusted: bool,
    pub redact_secrets: bool,
    pub max_response_bytes: usize,
    /// Injected-instruction detection in responses (`injected_instructions`).
    pub injected_instructions: Detection,
}

#[derive(Debug, Clone)]
struct ToolPolicy {
    glob: GlobMatcher,
    rules: ToolRules,
}

/// The part of the policy for the one server this gateway fronts.
#[derive(Debug, Clone)]
pub struct ServerPolicy {
    pub label: String,
    pub action: Action,
    pub resources: Action,
    pub prompts: Action,
    pub sampling: Action,
    pub elicitation: Action,
    pub rate: Option<RateSpec>,
    base: ToolRules,
    tools: Vec<ToolPolicy>,
}

impl ServerPolicy {
    /// The rules for `tool`: the first matching tool rule, or the server's defaults.
    pub fn tool(&self, tool: &str) -> &ToolRules {
        self.tools
            .iter()
            .find(|t| t.glob.is_match(tool))
            .map(|t| &t.rules)
            .unwrap_or(&self.base)
    }
}

#[derive(Debug, Clone)]
struct ServerEntry {
    glob: GlobMatcher,
    policy: ServerPolicy,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub rate: Option<RateSpec>,
    pub pins: PinMode,
    pub max_message_bytes: usize,
    pub request_timeout_secs: f64,
    /// Requests waiting for an answer at once, over all sessions; more are refused.
    pub max_in_flight: usize,
    /// How long a call under `action = "ask"` waits for the user's answer before it is refused.
    pub ask_timeout_secs: f64,
    servers: Vec<ServerEntry>,
    fallback: ServerPolicy,
}

pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 << 20;
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 << 20;
pub const DEFAULT_REQUEST_TIMEOUT_SECS: f64 = 300.0;
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
pub const DEFAULT_ASK_TIMEOUT_SECS: f64 = 120.0;

impl Policy {
    /// No policy file: every call is allowed; pins, redaction and the audit log still apply.
    pub fn permissive() -> Policy {
        let base = ToolRules {
            label: "no policy (allow all)".into(),
            action: Action::Allow,
            rate: None,
            paths: None,
            urls: None,
            commands: None,
            max_string_len: None,
            patterns: Vec::new(),
            untrusted: false,
            redact_secrets: true,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            injected_instructions: Detection::Warn,
        };
        Policy {
            rate: None,
            pins: PinMode::Enforce,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            ask_timeout_secs: DEFAULT_ASK_TIMEOUT_SECS,
            servers: Vec::new(),
            fallback: ServerPolicy {
                label: base.label.clone(),
                action: Action::Allow,
                resources: Action::Allow,
                prompts: Action::Allow,
                sampling: Action::Allow,
                elicitation: Action::Allow,
                rate: None,
                base,
                tools: Vec::new(),
            },
        }
    }

    /// The policy for the server named `name`: the first `[[server]]` that matches, or the
    /// defaults.
    pub fn server(&self, name: &str) -> &ServerPolicy {
        self.servers
            .iter()
            .find(|s| s.glob.is_match(name))
            .map(|s| &s.policy)
            .unwrap_or(&self.fallback)
    }

    /// Reads and validates a policy file. Relative roots are relative to the file's folder.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            file: path.to_path_buf(),
            position: None,
            message: format!("cannot read the policy: {e}"),
            help: "check the path given to --policy; the gateway does not start without its policy"
                .into(),
        })?;
        Policy::parse(&text, path)
    }

    pub fn parse(text: &str, file: &Path) -> Result<Policy, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let span = e.span();
            PolicyError {
                file: file.to_path_buf(),
                position: span.map(|s| line_col(text, s.start)),
                message: e.message().trim().to_string(),
                help: "see the policy format in `portcullis gateway --help`".into(),
            }
        })?;
        let base_dir = file
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Resolver {
            text,
            file,
            base_dir,
        }
        .resolve(raw)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

// ---- raw, as written ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Spanned<u32>,
    #[serde(default)]
    defaults: RawDefaults,
    rate: Option<Spanned<RawRate>>,
    #[serde(default)]
    server: Vec<RawServer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    action: Option<Spanned<String>>,
    resources: Option<Spanned<String>>,
    prompts: Option<Spanned<String>>,
    sampling: Option<Spanned<String>>,
    elicitation: Option<Spanned<String>>,
    pins: Option<Spanned<String>>,
    redact_secrets: Option<bool>,
    untrusted: Option<bool>,
    max_response_bytes: Option<usize>,
    max_message_bytes: Option<Spanned<usize>>,
    request_timeout_secs: Option<Spanned<f64>>,
    max_in_flight: Option<Spanned<usize>>,
    ask_timeout_secs: Option<Spanned<f64>>,
    max_string_len: Option<usize>,
    injected_instructions: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    name: Spanned<String>,
    action: Option<Spanned<String>>,
    resources: Option<Spanned<String>>,
    prompts: Option<Spanned<String>>,
    sampling: Option<Spanned<String>>,
    elicitation: Option<Spanned<String>>,
    rate: Option<Spanned<RawRate>>,
    redact_secrets: Option<bool>,
    untrusted: Option<bool>,
    max_response_bytes: Option<usize>,
    max_string_len: Option<usize>,
    injected_instructions: Option<Spanned<String>>,
    paths: Option<RawPaths>,
    urls: Option<RawUrls>,
    commands: Option<RawCommands>,
    #[serde(default)]
    tool: Vec<RawTool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTool {
    name: Spanned<String>,
    action: Option<Spanned<String>>,
    rate: Option<Spanned<RawRate>>,
    redact_secrets: Option<bool>,
    untrusted: Option<bool>,
    max_response_bytes: Option<usize>,
    max_string_len: Option<usize>,
    injected_instructions: Option<Spanned<String>>,
    paths: Option<RawPaths>,
    urls: Option<RawUrls>,
    commands: Option<RawCommands>,
    #[serde(default)]
    patterns: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRate {
    calls: u32,
    per_secs: f64,
    burst: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaths {
    args: Option<Vec<String>>,
    roots: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUrls {
    args: Option<Vec<String>>,
    schemes: Option<Vec<String>>,
    hosts: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    allow_private: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommands {
    args: Option<Vec<String>>,
    allow: Vec<String>,
}

// ---- validation ----

struct Resolver<'a> {
    text: &'a str,
    file: &'a Path,
    base_dir: PathBuf,
}

impl Resolver<'_> {
    fn err(&self, span: Range<usize>, message: String, help: &str) -> PolicyError {
        PolicyError {
            file: self.file.to_path_buf(),
            position: Some(line_col(self.text, span.start)),
            message,
            help: help.to_string(),
        }
    }

    fn line(&self, span: Range<usize>) -> usize {
        line_col(self.text, span.start).0
    }

    /// A tool call's action: `allow`, `deny` or `ask`.
    fn action(&self, value: &Spanned<String>) -> Result<Action, PolicyError> {
        match value.get_ref().as_str() {
            "ask" => Ok(Action::Ask),
            _ => self.plain_action(value, "action"),
        }
    }

    /// The action of `resources`, `prompts`, `sampling`, `elicitation`: `allow` or `deny`.
    fn plain_action(&self, value: &Spanned<String>, key: &str) -> Result<Action, PolicyError> {
        match value.get_ref().as_str() {
            "allow" => Ok(Action::Allow),
            "deny" => Ok(Action::Deny),
            "ask" => Err(self.err(
                value.span(),
                format!("`{key} = \"ask\"` is not supported: the gateway asks the user about tool calls only"),
                "use `allow` or `deny` here; `ask` goes in a tool rule's (or a server's) `action`",
            )),
            other => Err(self.err(
                value.span(),
                format!("unknown action `{other}`"),
                if key == "action" {
                    "use `allow`, `deny` or `ask`"
                } else {
                    "use `allow` or `deny`"
                },
            )),
        }
    }

    fn opt_action(
        &self,
        value: &Option<Spanned<String>>,
        inherited: Action,
    ) -> Result<Action, PolicyError> {
        value.as_ref().map_or(Ok(inherited), |v| self.action(v))
    }

    fn opt_plain_action(
        &self,
        value: &Option<Spanned<String>>,
        key: &str,
        inherited: Action,
    ) -> Result<Action, PolicyError> {
        value
            .as_ref()
            .map_or(Ok(inherited), |v| self.plain_action(v, key))
    }

    fn detection(
        &self,
        value: &Option<Spanned<String>>,
        inherited: Detection,
    ) -> Result<Detection, PolicyError> {
        let Some(value) = value else {
            return Ok(inherited);
        };
        match value.get_ref().as_str() {
            "block" => Ok(Detection::Block),
            "warn" => Ok(Detection::Warn),
            "off" => Ok(Detection::Off),
            other => Err(self.err(
                value.span(),
                format!("unknown `injected_instructions` setting `{other}`"),
                "use `block` (refuse the response), `warn` (mark it and audit) or `off`",
            )),
        }
    }

    fn rate(&self, raw: &Option<Spanned<RawRate>>) -> Result<Option<RateSpec>, PolicyError> {
        let Some(raw) = raw else { return Ok(None) };
        let r = raw.get_ref();
        if r.calls == 0 || !(r.per_secs.is_finite() && r.per_secs > 0.0) {
            return Err(self.err(
                raw.span(),
                "a rate needs `calls` above 0 and `per_secs` above 0".into(),
                "write e.g. `rate = { calls = 60, per_secs = 60, burst = 10 }`; to forbid a tool use `action = \"deny\"`",
            ));
        }
        let burst = r.burst.unwrap_or(r.calls);
        if burst == 0 {
            return Err(self.err(
                raw.span(),
                "`burst` must be at least 1".into(),
                "leave it out to allow `calls` at once",
            ));
        }
        Ok(Some(RateSpec {
            calls: r.calls,
            per_secs: r.per_secs,
            burst,
        }))
    }

    fn glob(&self, value: &Spanned<String>) -> Result<GlobMatcher, PolicyError> {
        GlobBuilder::new(value.get_ref())
            .literal_separator(false)
            .build()
            .map(|g| g.compile_matcher())
            .map_err(|e| {
                self.err(
                    value.span(),
                    format!("invalid glob `{}`: {e}", value.get_ref()),
                    "use `*` for any run of characters and `?` for one",
                )
            })
    }

    fn paths(&self, raw: &Option<RawPaths>) -> Result<Option<PathRule>, PolicyError> {
        let Some(raw) = raw else { return Ok(None) };
        let mut roots = Vec::new();
        for root in &raw.roots {
            let text = root.get_ref();
            let expanded = expand_home(text);
            let joined = if expanded.is_absolute() {
                expanded
            } else {
                self.base_dir.join(expanded)
            };
            // The root is canonicalised too, so `/tmp` -> `/private/tmp` on macOS and a root
            // that is itself a link compares against where it points.
            let canonical = std::fs::canonicalize(&joined).map_err(|e| {
                self.err(
                    root.span(),
                    format!("root `{text}` cannot be resolved: {e}"),
                    "create the folder or fix the path; relative roots are relative to the policy file",
                )
            })?;
            roots.push(canonical);
        }
        if roots.is_empty() {
            return Err(PolicyError {
                file: self.file.to_path_buf(),
                position: None,
                message: "`paths` has no `roots`: no path argument could ever be allowed".into(),
                help: "list the folders the tool may touch, or deny the tool".into(),
            });
        }
        Ok(Some(PathRule {
            args: raw.args.clone(),
            roots,
        }))
    }

    fn urls(&self, raw: &Option<RawUrls>) -> Result<Option<UrlRule>, PolicyError> {
        let Some(raw) = raw else { return Ok(None) };
        let hosts = match &raw.hosts {
            None => None,
            Some(list) => {
                let mut set = globset::GlobSetBuilder::new();
                for h in list {
                    let glob = GlobBuilder::new(&h.get_ref().to_ascii_lowercase())
                        .case_insensitive(true)
                        .build()
                        .map_err(|e| {
                            self.err(
                                h.span(),
                                format!("invalid host glob `{}`: {e}", h.get_ref()),
                                "write a host name such as `api.example.com` or `*.example.com`",
                            )
                        })?;
                    set.add(glob);
                }
                Some(set.build().map_err(|e| PolicyError {
                    file: self.file.to_path_buf(),
                    position: None,
                    message: format!("invalid host globs: {e}"),
                    help: String::new(),
                })?)
            }
        };
        Ok(Some(UrlRule {
            args: raw.args.clone(),
            schemes: raw
                .schemes
                .clone()
                .unwrap_or_else(|| vec!["https".into(), "http".into()])
                .into_iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            hosts,
            allow_private: raw.allow_private,
        }))
    }

    fn resolve(&self, raw: RawPolicy) -> Result<Policy, PolicyError> {
        if *raw.version.get_ref() != 1 {
            return Err(self.err(
                raw.version.span(),
                format!("unsupported policy version {}", raw.version.get_ref()),
                "this portcullis reads `version = 1`",
            ));
        }
        let d = &raw.defaults;
        let pins = match &d.pins {
            None => PinMode::Enforce,
            Some(v) => match v.get_ref().as_str() {
                "enforce" => PinMode::Enforce,
                "accept" => PinMode::Accept,
                other => {
                    return Err(self.err(
                        v.span(),
                        format!("unknown pin mode `{other}`"),
                        "use `enforce` (changed tools are blocked) or `accept` (changes become the new pins)",
                    ));
                }
            },
        };
        let max_message_bytes = match &d.max_message_bytes {
            None => DEFAULT_MAX_MESSAGE_BYTES,
            Some(v) if *v.get_ref() >= 1024 => *v.get_ref(),
            Some(v) => {
                return Err(self.err(
                    v.span(),
                    "`max_message_bytes` below 1024 would refuse every message".into(),
                    "use at least 1024",
                ));
            }
        };
        let request_timeout_secs = match &d.request_timeout_secs {
            None => DEFAULT_REQUEST_TIMEOUT_SECS,
            Some(v) if v.get_ref().is_finite() && *v.get_ref() > 0.0 => *v.get_ref(),
            Some(v) => {
                return Err(self.err(
                    v.span(),
                    "`request_timeout_secs` must be above 0".into(),
                    "use e.g. 300",
                ));
            }
        };
        let max_in_flight = match &d.max_in_flight {
            None => DEFAULT_MAX_IN_FLIGHT,
            Some(v) if *v.get_ref() >= 1 => *v.get_ref(),
            Some(v) => {
                return Err(self.err(
                    v.span(),
                    "`max_in_flight` of 0 would refuse every request".into(),
                    "use at least 1",
                ));
            }
        };
        let ask_timeout_secs = match &d.ask_timeout_secs {
            None => DEFAULT_ASK_TIMEOUT_SECS,
            Some(v) if v.get_ref().is_finite() && *v.get_ref() > 0.0 => *v.get_ref(),
            Some(v) => {
                return Err(self.err(
                    v.span(),
                    "`ask_timeout_secs` must be above 0".into(),
                    "use e.g. 120 (seconds the user has to answer before the call is refused)",
                ));
            }
        };
        let default_action = self.opt_action(&d.action, Action::Deny)?;
        let base = ToolRules {
            label: "defaults".into(),
            action: default_action,
            rate: None,
            paths: None,
            urls: None,
            commands: None,
            max_string_len: d.max_string_len,
            patterns: Vec::new(),
            untrusted: d.untrusted.unwrap_or(false),
            redact_secrets: d.redact_secrets.unwrap_or(true),
            max_response_bytes: d.max_response_bytes.unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            injected_instructions: self.detection(&d.injected_instructions, Detection::Warn)?,
        };
        let fallback = ServerPolicy {
            label: "defaults".into(),
            action: default_action,
            resources: self.opt_plain_action(&d.resources, "resources", Action::Allow)?,
            prompts: self.opt_plain_action(&d.prompts, "prompts", Action::Allow)?,
            sampling: self.opt_plain_action(&d.sampling, "sampling", Action::Deny)?,
            elicitation: self.opt_plain_action(&d.elicitation, "elicitation", Action::Deny)?,
            rate: None,
            base,
            tools: Vec::new(),
        };
        let mut servers = Vec::new();
        for s in &raw.server {
            servers.push(self.server(s, &fallback)?);
        }
        Ok(Policy {
            rate: self.rate(&raw.rate)?,
            pins,
            max_message_bytes,
            request_timeout_secs,
            max_in_flight,
            ask_timeout_secs,
            servers,
            fallback,
        })
    }

    fn server(&self, s: &RawServer, fallback: &ServerPolicy) -> Result<ServerEntry, PolicyError> {
        let glob = self.glob(&s.name)?;
        let label = format!(
            "server \"{}\" ({}:{})",
            s.name.get_ref(),
            self.file.display(),
            self.line(s.name.span())
        );
        let action = self.opt_action(&s.action, fallback.action)?;
        let fb = &fallback.base;
        let base = ToolRules {
            label: label.clone(),
            action,
            rate: None,
            paths: self.paths(&s.paths)?,
            urls: self.urls(&s.urls)?,
            commands: s.commands.as_ref().map(|c| CommandRule {
                args: c.args.clone(),
                allow: c.allow.clone(),
            }),
            max_string_len: s.max_string_len.or(fb.max_string_len),
            patterns: Vec::new(),
            untrusted: s.untrusted.unwrap_or(fb.untrusted),
            redact_secrets: s.redact_secrets.unwrap_or(fb.redact_secrets),
            max_response_bytes: s.max_response_bytes.unwrap_or(fb.max_response_bytes),
            injected_instructions: self
                .detection(&s.injected_instructions, fb.injected_instructions)?,
        };
        let mut tools = Vec::new();
        for t in &s.tool {
            tools.push(self.tool(t, &base)?);
        }
        Ok(ServerEntry {
            glob,
            policy: ServerPolicy {
                label,
                action,
                resources: self.opt_plain_action(&s.resources, "resources", fallback.resources)?,
                prompts: self.opt_plain_action(&s.prompts, "prompts", fallback.prompts)?,
                sampling: self.opt_plain_action(&s.sampling, "sampling", fallback.sampling)?,
                elicitation: self.opt_plain_action(
                    &s.elicitation,
                    "elicitation",
                    fallback.elicitation,
                )?,
                rate: self.rate(&s.rate)?,
                base,
                tools,
            },
        })
    }

    fn tool(&self, t: &RawTool, server: &ToolRules) -> Result<ToolPolicy, PolicyError> {
        let glob = self.glob(&t.name)?;
        let mut patterns = Vec::new();
        for (arg, pattern) in &t.patterns {
            let re = Regex::new(&format!("^(?:{})$", pattern.get_ref())).map_err(|e| {
                self.err(
                    pattern.span(),
                    format!("invalid pattern for `{arg}`: {e}"),
                    "write a Rust regex; it must match the whole value",
                )
            })?;
            patterns.push((arg.clone(), re));
        }
        let paths = match &t.paths {
            Some(_) => self.paths(&t.paths)?,
            None => server.paths.clone(),
        };
        let urls = match &t.urls {
            Some(_) => self.urls(&t.urls)?,
            None => server.urls.clone(),
        };
        let commands = match &t.commands {
            Some(c) => Some(CommandRule {
                args: c.args.clone(),
                allow: c.allow.clone(),
            }),
            None => server.commands.clone(),
        };
        Ok(ToolPolicy {
            glob,
            rules: ToolRules {
                label: format!(
                    "tool \"{}\" ({}:{})",
                    t.name.get_ref(),
                    self.file.display(),
                    self.line(t.name.span())
                ),
                action: self.opt_action(&t.action, server.action)?,
                rate: self.rate(&t.rate)?,
                paths,
                urls,
                commands,
                max_string_len: t.max_string_len.or(server.max_string_len),
                patterns,
                untrusted: t.untrusted.unwrap_or(server.untrusted),
                redact_secrets: t.redact_secrets.unwrap_or(server.redact_secrets),
                max_response_bytes: t.max_response_bytes.unwrap_or(server.max_response_bytes),
                injected_instructions: self
                    .detection(&t.injected_instructions, server.injected_instructions)?,
            },
        })
    }
}

fn expand_home(text: &str) -> PathBuf {
    if let Some(rest) = text.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse(text, Path::new("policy.toml"))
    }

    #[test]
    fn first_match_and_inheritance() {
        let p = parse(
            r#"
version = 1
[defaults]
action = "deny"
[[server]]
name = "fs*"
action = "allow"
[[server.tool]]
name = "delete_*"
action = "deny"
[[server.tool]]
name = "*"
rate = { calls = 5, per_secs = 1 }
"#,
        )
        .unwrap();
        let fs = p.server("fs-main");
        assert_eq!(fs.tool("delete_file").action, Action::Deny);
        assert!(fs.tool("delete_file").label.contains("policy.toml:9"));
        assert_eq!(fs.tool("read").action, Action::Allow);
        assert_eq!(fs.tool("read").rate.unwrap().burst, 5);
        assert_eq!(p.server("other").tool("read").action, Action::Deny);
        assert_eq!(p.server("other").sampling, Action::Deny);
    }

    #[test]
    fn errors_point_into_the_file() {
        let e = parse("version = 1\n[defaults]\nactoin = \"deny\"\n").unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(3), "{e}");
        assert!(e.to_string().contains("actoin"), "{e}");

        let e = parse("version = 1\n[[server]]\nname = \"x\"\nsampling = \"ask\"\n").unwrap_err();
        assert_eq!(e.position, Some((4, 12)), "{e}");
        assert!(e.message.contains("tool calls only"), "{e}");

        let e = parse("version = 1\n[defaults]\nask_timeout_secs = 0\n").unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(3), "{e}");

        let e = parse("version = 1\n[[server]]\nname = \"x\"\n[[server.tool]]\nname = \"t\"\npatterns = { a = \"(\" }\n").unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(6), "{e}");

        let e = parse("version = 2\n").unwrap_err();
        assert_eq!(e.position, Some((1, 11)));

        let e = parse("version = 1\n[rate]\ncalls = 0\nper_secs = 1\n").unwrap_err();
        assert!(e.message.contains("calls"), "{e}");

        let e = parse(
            "version = 1\n[[server]]\nname = \"x\"\npaths = { roots = [\"/no/such/root/x\"] }\n",
        )
        .unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(4), "{e}");
    }

    #[test]
    fn ask_is_a_tool_action() {
        let p = parse(
            "version = 1\n[defaults]\nask_timeout_secs = 30\n[[server]]\nname = \"*\"\naction = \"ask\"\n[[server.tool]]\nname = \"read\"\naction = \"allow\"\n",
        )
        .unwrap();
        assert_eq!(p.ask_timeout_secs, 30.0);
        assert_eq!(p.server("fs").tool("write").action, Action::Ask);
        assert_eq!(p.server("fs").tool("read").action, Action::Allow);
        assert_eq!(p.server("fs").elicitation, Action::Deny);
        assert_eq!(
            parse("version = 1\n").unwrap().ask_timeout_secs,
            DEFAULT_ASK_TIMEOUT_SECS
        );
    }

    #[test]
    fn unreadable_file_is_an_error() {
        let e = Policy::load(Path::new("/no/such/policy.toml")).unwrap_err();
        assert!(e.to_string().contains("cannot read the policy"));
    }
}
