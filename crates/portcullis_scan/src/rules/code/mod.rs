//! Rules over MCP server code (`PC1xx`). The taint engine finds the flows; each rule here
//! names one kind of flow and words it. One rule, one file.

mod archive_extraction_without_member_checks;
mod argument_injection_from_tool_argument;
mod code_evaluation_of_tool_argument;
mod command_allowlist_checks_only_prefix;
mod containment_check_without_resolving_links;
mod dangerous_tools_without_rate_limit;
mod dotdot_check_misses_absolute_paths;
mod environment_returned_to_model;
mod host_blocklist_without_dns_resolution;
mod http_transport_beyond_loopback;
mod http_transport_without_authentication;
mod http_transport_without_origin_check;
mod outbound_call_without_timeout;
mod partial_shell_escaping;
mod path_traversal_from_tool_argument;
mod prefix_check_without_separator;
mod request_to_tool_chosen_url;
mod shell_command_from_tool_argument;
mod sql_built_from_tool_argument;
mod stack_trace_returned_to_model;
mod template_from_tool_argument;
mod tool_calls_not_logged;
mod unbounded_read_of_tool_chosen_file;
mod unbounded_recursion_from_handler;
mod unsafe_deserialization_of_tool_argument;
mod untrusted_content_returned_unmarked;

use std::sync::Arc;

use crate::code::catalog::Fixed;
use crate::code::ir::{HandlerKind, Language};
use crate::code::taint::{Finding, HitKind, Project};
use crate::diagnostic::{Diagnostic, TraceStep};
use crate::registry::RuleMeta;
use crate::supply::node::{Installed, NodeProjects};

/// What a rule needs to word a flow.
pub struct Flow<'a> {
    pub finding: &'a Finding,
    /// The tool parameter the flow starts from (`path`), when it starts from one.
    pub param: Option<&'a str>,
    /// The tool (handler) name, when known.
    pub tool: Option<&'a str>,
    /// The call or check where the harm happens (`subprocess.run`, `startswith`).
    pub what: &'a str,
    /// The source text of each trace step, for details messages leave out.
    pub step_texts: Vec<&'a str>,
    /// The language of the file the finding is in, for help worded in its terms.
    pub language: Language,
    /// For a sink that is one only in some releases of its library: why the one installed is
    /// not known to be safe.
    pub release: Option<Release>,
}

/// Why a sink that some releases of its library make safe is still reported.
#[derive(Debug, Clone)]
pub enum Release {
    /// No release of the library is safe.
    NoneFixed(&'static Fixed),
    /// The release installed (pinned, or the lowest the range admits) is not safe.
    Unfixed(&'static Fixed, Installed),
    /// Which release is installed cannot be told, and some are not safe.
    Unknown(&'static Fixed, String),
}

impl Release {
    /// The judgement of `installed` against `fixed`; `None` when the release is safe.
    pub fn judge(fixed: &'static Fixed, installed: Installed) -> Option<Release> {
        if fixed.releases.is_empty() {
            return Some(Release::NoneFixed(fixed));
        }
        match installed {
            Installed::Locked { ref version, .. } if fixed.covers(version) => None,
            Installed::Range { ref lowest, .. } if fixed.covers(lowest) => None,
            Installed::Unknown(why) => Some(Release::Unknown(fixed, why)),
            other => Some(Release::Unfixed(fixed, other)),
        }
    }

    pub fn fixed(&self) -> &'static Fixed {
        match self {
            Release::NoneFixed(f) | Release::Unfixed(f, _) | Release::Unknown(f, _) => f,
        }
    }

    /// "`adm-zip` 0.4.16 (pinned by `package-lock.json`)", "`adm-zip` `^0.4.7`, which admits
    /// 0.4.7,", or "`adm-zip`".
    pub fn installed(&self) -> String {
        let package = self.fixed().package;
        match self {
            Release::Unfixed(_, Installed::Locked { version, lockfile }) => {
                format!("`{package}` {version} (pinned by `{lockfile}`)")
            }
            Release::Unfixed(_, Installed::Range { spec, lowest }) => {
                format!("`{package}` `{spec}`, which admits {lowest},")
            }
            _ => format!("`{package}`"),
        }
    }

    /// The release to upgrade to, when one is safe.
    pub fn upgrade_to(&self) -> Option<&'static str> {
        let version = match self {
            Release::Unfixed(_, Installed::Locked { version, .. }) => Some(version),
            Release::Unfixed(_, Installed::Range { lowest, .. }) => Some(lowest),
            _ => None,
        };
        self.fixed().upgrade_from(version)
    }
}

impl Flow<'_> {
    /// Help worded for the finding's language: Python names, or Node's for TypeScript and
    /// JavaScript.
    pub fn by_language(&self, python: &str, node: &str) -> String {
        match self.language {
            Language::Python => python.to_string(),
            Language::TypeScript | Language::JavaScript => node.to_string(),
        }
    }

    /// "tool argument `path` of `read_file`", "resource parameter `path` of `file:///{path}`",
    /// "tool argument `arguments["path"]`" for low-level dispatch, or "a value".
    pub fn subject(&self) -> String {
        let what = match self.finding.handler_kind {
            Some(HandlerKind::Resource) => "resource parameter",
            Some(HandlerKind::Prompt) => "prompt argument",
            Some(HandlerKind::Tool | HandlerKind::CallTool) => "tool argument",
            None => "argument",
        };
        let param = match (self.finding.handler_kind, self.param) {
            // `call_tool(name, arguments)`: name the key the tool reads.
            (Some(HandlerKind::CallTool), Some(p)) => self
                .dispatched_key(p)
                .map_or(format!("`{p}`"), |k| format!("`{p}[\"{k}\"]`")),
            (_, Some(p)) => format!("`{p}`"),
            (_, None) => return "a value".to_string(),
        };
        match self.tool {
            Some(t) => format!("{what} {param} of `{t}`"),
            None => format!("{what} {param}"),
        }
    }

    /// "`read_file`", or "the `call_tool` handler" when the handler dispatches many tools.
    pub fn handler(&self) -> String {
        match (self.tool, self.finding.handler_kind) {
            (Some(t), _) => format!("`{t}`"),
            (None, Some(HandlerKind::CallTool)) => "the `call_tool` handler".to_string(),
            (None, _) => "this handler".to_string(),
        }
    }

    /// `path` in a trace step reading `arguments["path"]` or `arguments.get("path")`.
    fn dispatched_key(&self, param: &str) -> Option<String> {
        let messages = self.finding.trace.iter().map(|s| s.message.as_str());
        messages
            .chain(self.step_texts.iter().copied())
            .find_map(|m| {
                let (at, quoted) = [
                    format!("{param}[\""),
                    format!("{param}['"),
                    format!("{param}.get(\""),
                    format!("{param}.get('"),
                    // JavaScript: `request.params.arguments.path`, `args?.path`.
                    format!("{param}.params.arguments."),
                    format!("{param}.params.arguments?."),
                    format!("{param}.params.arguments[\""),
                ]
                .iter()
                .find_map(|p| {
                    m.find(p.as_str())
                        .map(|i| (i + p.len(), p.ends_with(['"', '\''])))
                })?;
                let rest = &m[at..];
                let end = if quoted {
                    rest.find(['"', '\''])?
                } else {
                    rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                        .unwrap_or(rest.len())
                };
                (end > 0).then(|| rest[..end].to_string())
            })
    }
}

/// A rule reporting one kind of flow.
pub struct TaintRule {
    pub meta: &'static RuleMeta,
    pub kind: HitKind,
    /// The message and the help.
    pub describe: fn(&Flow<'_>) -> (String, String),
}

/// Every rule over flows.
pub static RULES: &[&TaintRule] = &[
    &shell_command_from_tool_argument::RULE,
    &argument_injection_from_tool_argument::RULE,
    &code_evaluation_of_tool_argument::RULE,
    &unsafe_deserialization_of_tool_argument::RULE,
    &template_from_tool_argument::RULE,
    &path_traversal_from_tool_argument::RULE,
    &archive_extraction_without_member_checks::RULE,
    &request_to_tool_chosen_url::RULE,
    &sql_built_from_tool_argument::RULE,
    &environment_returned_to_model::RULE,
    &stack_trace_returned_to_model::RULE,
    &untrusted_content_returned_unmarked::RULE,
    &unbounded_read_of_tool_chosen_file::RULE,
    &prefix_check_without_separator::RULE,
    &containment_check_without_resolving_links::RULE,
    &dotdot_check_misses_absolute_paths::RULE,
    &command_allowlist_checks_only_prefix::RULE,
    &partial_shell_escaping::RULE,
    &host_blocklist_without_dns_resolution::RULE,
];

/// A rule over a whole project's code that is not a flow: missing timeouts, rate limits,
/// logging, transport protection. Reads the IR; never re-parses.
pub trait ProjectRule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// Checks a project through facts computed once for all these rules.
    fn check(&self, structure: &crate::code::structure::Structure<'_>, out: &mut Vec<Diagnostic>);
}

/// Every rule over a project's structure.
pub static PROJECT_RULES: &[&dyn ProjectRule] = &[
    &outbound_call_without_timeout::Rule,
    &unbounded_recursion_from_handler::Rule,
    &http_transport_without_authentication::Rule,
    &http_transport_beyond_loopback::Rule,
    &http_transport_without_origin_check::Rule,
    &dangerous_tools_without_rate_limit::Rule,
    &tool_calls_not_logged::Rule,
];

/// Turns the engine's findings into diagnostics. A sink safe in some releases of its library is
/// judged by the release the project installs, as `node` tells it.
pub fn diagnostics(
    project: &Project,
    findings: &[Finding],
    node: &NodeProjects<'_>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for f in findings {
        let Some(rule) = RULES.iter().find(|r| r.kind == f.kind) else {
            continue;
        };
        let file = Arc::clone(&project.modules[f.module].file);
        let release = match f.fixed {
            Some(fixed) => match Release::judge(fixed, node.installed(&file.path, fixed.package)) {
                Some(r) => Some(r),
                None => continue,
            },
            None => None,
        };
        let param = f
            .trace
            .first()
            .and_then(|s| s.message.strip_prefix("parameter `"))
            .and_then(|m| m.strip_suffix('`'));
        let step_texts = f
            .trace
            .iter()
            .filter_map(|s| project.modules[s.module].file.text.get(s.span.range()))
            .collect();
        let flow = Flow {
            finding: f,
            param,
            tool: f.handler.as_deref(),
            what: &f.what,
            step_texts,
            language: project.modules[f.module].language,
            release,
        };
        let (message, help) = (rule.describe)(&flow);
        let trace = f
            .trace
            .iter()
            .map(|s| TraceStep {
                file: Arc::clone(&project.modules[s.module].file),
                span: s.span,
                message: s.message.clone(),
            })
            .collect();
        out.push(
            Diagnostic::new(rule.meta, &file, f.span, message)
                .with_help(help)
                .with_confidence(f.confidence.min(rule.meta.confidence))
                .with_trace(trace),
        );
    }
    out
}
