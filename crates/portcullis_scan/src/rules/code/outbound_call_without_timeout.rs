use std::collections::HashMap;

use crate::code::ir::{Expr, ExprKind, FunctionId, Module, StmtKind};
use crate::code::structure::{
    Bindings, FnKey, Structure, call_parts, for_each_expr, has_spread, positional, strip_await,
};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::registry::{Confidence, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Finds network requests and child processes started by an MCP tool (a handler, or a
    /// function a handler calls) that can wait forever:
    /// - `requests.get`/`post`/`request`/... and the methods of a `requests.Session` without
    ///   `timeout=` (requests has no default timeout);
    /// - `urllib.request.urlopen` without a timeout (it waits as long as the socket default,
    ///   which is forever unless `socket.setdefaulttimeout` was called);
    /// - `subprocess.run`/`call`/`check_call`/`check_output` without `timeout=`,
    ///   `Popen.communicate()` without one, `subprocess.getoutput` (which cannot have one), and
    ///   `communicate()` of an `asyncio` subprocess outside `asyncio.wait_for` or
    ///   `asyncio.timeout`;
    /// - timeouts switched off explicitly where the library has a sane default:
    ///   `httpx` with `timeout=None` (its default is 5 seconds), `aiohttp.ClientSession(timeout=None)`
    ///   and an `aiohttp.ClientTimeout()` with no limit set (the session default is 5 minutes).
    ///
    /// Calls in code no handler reaches (start-up, scripts) are not reported. An `await` inside
    /// `asyncio.timeout(...)` or `asyncio.wait_for(...)` is bounded; a blocking call there is not
    /// (asyncio can only cancel at an `await`).
    ///
    /// ## Why is this bad?
    /// A tool call that never returns holds the client's request open, and often the whole
    /// server: FastMCP runs synchronous tools on its event loop, so one request stuck on a slow
    /// or malicious host (a tarpit, a URL the model was talked into fetching) or one command
    /// waiting on input stops every other tool until the process is killed. The harm is to
    /// availability only, hence the low severity (CWE-400, uncontrolled resource consumption:
    /// each stuck call also keeps a socket, a thread or a process).
    ///
    /// ## Example
    /// ```python
    /// import requests
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("status")
    ///
    /// @mcp.tool()
    /// def service_status(service: str) -> str:
    ///     resp = requests.get(f"https://status.example.com/api/{service}.json")
    ///     return resp.json()["status"]
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import requests
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("status")
    ///
    /// @mcp.tool()
    /// def service_status(service: str) -> str:
    ///     resp = requests.get(f"https://status.example.com/api/{service}.json", timeout=10)
    ///     return resp.json()["status"]
    /// ```
    /// Pass a timeout to every request and command a tool makes (`timeout=(3.05, 30)` gives
    /// requests separate connect and read limits); for asyncio, wrap the await in
    /// `asyncio.timeout(...)`.
    ///
    /// ## References
    /// - [CWE-400: Uncontrolled Resource Consumption](https://cwe.mitre.org/data/definitions/400.html)
    /// - [Requests: timeouts](https://requests.readthedocs.io/en/latest/user/advanced/#timeouts)
    /// - [subprocess.run](https://docs.python.org/3/library/subprocess.html#subprocess.run)
    /// - [HTTPX: timeouts](https://www.python-httpx.org/advanced/timeouts/)
    /// - [aiohttp: ClientTimeout](https://docs.aiohttp.org/en/stable/client_quickstart.html#timeouts)
    pub static OUTBOUND_CALL_WITHOUT_TIMEOUT = {
        code: "PC120",
        name: "outbound-call-without-timeout",
        summary: "A network request or child process started by a tool has no timeout",
        severity: Low,
        confidence: High,
        cwe: [400],
        target: Code,
    }
}

/// What is wrong with one call, and whether an asyncio deadline around it would bound it.
struct Verdict {
    problem: Problem,
    what: String,
    confidence: Confidence,
    awaitable: bool,
    /// A child process rather than a network request, for the wording.
    process: bool,
}

impl Verdict {
    fn sync(problem: Problem, what: &str, confidence: Confidence) -> Verdict {
        Verdict {
            problem,
            what: what.to_string(),
            confidence,
            awaitable: false,
            process: what.contains("subprocess") || what.ends_with("communicate"),
        }
    }

    fn awaitable(problem: Problem, what: &str, confidence: Confidence) -> Verdict {
        Verdict {
            awaitable: true,
            ..Verdict::sync(problem, what, confidence)
        }
    }
}

/// What is wrong with one call.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Problem {
    /// No timeout given where the library waits forever by default.
    Missing,
    /// `timeout=None` (or a timeout object with no limit) where the default was finite.
    Disabled,
    /// An API with no timeout parameter at all.
    Impossible,
    /// An awaited call outside any asyncio deadline.
    NoDeadline,
}

fn diagnostic(module: &Module, call: &Expr, v: &Verdict, handler: &str) -> Diagnostic {
    let what = &v.what;
    let (waits, fix) = if v.process {
        (
            "a command that never exits",
            format!(
                "Pass `timeout=` (seconds) to `{what}` and handle `subprocess.TimeoutExpired`."
            ),
        )
    } else {
        (
            "a host that never answers",
            if what.contains("urlopen") {
                format!("Pass `timeout=` (seconds) to `{what}`.")
            } else {
                format!(
                    "Pass `timeout=` (seconds) to `{what}`; `timeout=(connect, read)` bounds both phases."
                )
            },
        )
    };
    let (message, help) = match v.problem {
        Problem::Missing => (
            format!("`{what}` has no timeout: {waits} hangs {handler}"),
            fix,
        ),
        Problem::Disabled => (
            format!("`{what}` is told to wait without limit (`None`): {waits} hangs {handler}"),
            "Keep the library's default or set a finite timeout in seconds instead of `None`."
                .to_string(),
        ),
        Problem::Impossible => (
            format!("`{what}` cannot be given a timeout: {waits} hangs {handler}"),
            "Use `subprocess.run(..., capture_output=True, text=True, timeout=...)` instead."
                .to_string(),
        ),
        Problem::NoDeadline => (
            format!("`{what}()` is awaited with no deadline: {waits} hangs {handler}"),
            format!(
                "Wrap it: `await asyncio.wait_for({what}(), timeout=...)` or `async with asyncio.timeout(...)`, and kill the process on timeout."
            ),
        ),
    };
    Diagnostic::new(
        &OUTBOUND_CALL_WITHOUT_TIMEOUT,
        &module.file,
        call.span,
        message,
    )
    .with_help(help)
    .with_confidence(v.confidence)
}

const HTTP_METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "request",
];

pub struct Rule;

impl super::ProjectRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &OUTBOUND_CALL_WITHOUT_TIMEOUT
    }

    fn check(&self, s: &Structure<'_>, out: &mut Vec<Diagnostic>) {
        let reached = s.reachable_from_handlers();
        let global_socket_timeout = s.project.modules.iter().any(|m| {
            m.calls().iter().any(|(_, c)| {
                call_parts(c)
                    .and_then(|(callee, _)| m.canonical(callee))
                    .as_deref()
                    == Some("socket.setdefaulttimeout")
            })
        });
        let mut keys: Vec<(&FnKey, &(usize, usize))> = reached.iter().collect();
        keys.sort();
        let mut per_module: HashMap<usize, Bindings<'_>> = HashMap::new();
        for (&(m, f), &origin) in keys {
            let module = s.module(m);
            let bindings = per_module.entry(m).or_insert_with(|| Bindings::new(module));
            let tool = s.handler_label(origin);
            let deadlines = deadline_regions(module, f);
            let mut calls = Vec::new();
            for_each_expr(module, f, &mut |e| {
                if matches!(e.kind, ExprKind::Call { .. }) {
                    calls.push(e);
                }
            });
            for call in calls {
                let Some(v) = judge(module, bindings, f, call, global_socket_timeout) else {
                    continue;
                };
                // asyncio can only cancel at an `await`: a deadline bounds async calls alone.
                let bounded = deadlines
                    .iter()
                    .any(|r| r.start <= call.span.start && call.span.end <= r.end);
                if bounded && v.awaitable {
                    continue;
                }
                out.push(diagnostic(module, call, &v, &tool));
            }
        }
    }
}

/// Whether a call can wait forever, and what to call it.
fn judge(
    module: &Module,
    bindings: &Bindings<'_>,
    f: FunctionId,
    call: &Expr,
    global_socket_timeout: bool,
) -> Option<Verdict> {
    let (callee, args) = call_parts(call)?;
    let timeout = args
        .iter()
        .find(|a| a.name.as_deref() == Some("timeout"))
        .map(|a| &a.value);
    let is_none = |e: Option<&Expr>| e.is_some_and(|e| matches!(e.kind, ExprKind::Null));
    let missing = timeout.is_none() && !has_spread(args);
    let path = module.canonical(callee);
    if let Some(path) = path.as_deref() {
        let (prefix, last) = path.rsplit_once('.').unwrap_or(("", path));
        match (prefix, last) {
            ("requests" | "requests.api", m) if HTTP_METHODS.contains(&m) => {
                return verdict(missing, is_none(timeout), path, Confidence::High);
            }
            ("urllib.request" | "urllib2", "urlopen") => {
                let third = positional(args).nth(2).is_some();
                let missing = missing && !third && !global_socket_timeout;
                return verdict(missing, is_none(timeout), path, Confidence::High);
            }
            ("subprocess", "run" | "call" | "check_call" | "check_output") => {
                return verdict(missing, is_none(timeout), path, Confidence::High);
            }
            ("subprocess", "getoutput" | "getstatusoutput") => {
                return Some(Verdict::sync(Problem::Impossible, path, Confidence::High));
            }
            ("httpx", m) if HTTP_METHODS.contains(&m) || m == "stream" || m == "Client" => {
                return is_none(timeout)
                    .then(|| Verdict::sync(Problem::Disabled, path, Confidence::High));
            }
            ("httpx", "AsyncClient") | ("aiohttp", "ClientSession") => {
                return is_none(timeout)
                    .then(|| Verdict::awaitable(Problem::Disabled, path, Confidence::High));
            }
            ("httpx", "Timeout") => {
                let unlimited = !args.is_empty() && args.iter().all(is_null_arg);
                return unlimited.then(|| Verdict::sync(Problem::Disabled, path, Confidence::High));
            }
            ("aiohttp", "ClientTimeout") => {
                let unlimited = args.iter().all(is_null_arg);
                return unlimited
                    .then(|| Verdict::awaitable(Problem::Disabled, path, Confidence::High));
            }
            _ => {}
        }
    }
    // A method of something built earlier: `session.get(...)`, `proc.communicate()`.
    let ExprKind::Attr { object, name, .. } = &callee.kind else {
        return None;
    };
    let made_by: Vec<String> = match &strip_await(object).kind {
        ExprKind::Call { callee: inner, .. } => module.canonical(inner).into_iter().collect(),
        _ => {
            let dotted = object.dotted()?;
            bindings.constructors(f, &dotted)
        }
    };
    let made = |names: &[&str]| made_by.iter().any(|c| names.contains(&c.as_str()));
    let receiver = object.dotted().unwrap_or_else(|| "session".to_string());
    if HTTP_METHODS.contains(&name.as_str())
        && made(&[
            "requests.Session",
            "requests.session",
            "requests.sessions.Session",
        ])
    {
        // A session given a default timeout through a mounted adapter is beyond a name-based
        // look; a module that mounts adapters is given the benefit of the doubt.
        if mounts_adapters(module) {
            return None;
        }
        let what = format!("{receiver}.{name}");
        return verdict(missing, is_none(timeout), &what, Confidence::Medium);
    }
    if (HTTP_METHODS.contains(&name.as_str()) || name == "stream")
        && made(&["httpx.Client", "httpx.AsyncClient"])
        && is_none(timeout)
    {
        let what = format!("{receiver}.{name}");
        return Some(Verdict {
            awaitable: made(&["httpx.AsyncClient"]),
            ..Verdict::sync(Problem::Disabled, &what, Confidence::Medium)
        });
    }
    if name == "communicate" {
        let what = format!("{receiver}.communicate");
        if made(&["subprocess.Popen"]) {
            // `p.kill()` then `p.communicate()`: the documented way to reap after a timeout.
            if killed_before(module, f, &receiver, call) {
                return None;
            }
            let second = positional(args).nth(1).is_some();
            return verdict(
                missing && !second,
                is_none(timeout),
                &what,
                Confidence::Medium,
            );
        }
        if made(&[
            "asyncio.create_subprocess_exec",
            "asyncio.create_subprocess_shell",
        ]) {
            return Some(Verdict::awaitable(
                Problem::NoDeadline,
                &what,
                Confidence::Medium,
            ));
        }
    }
    None
}

fn verdict(missing: bool, none: bool, what: &str, confidence: Confidence) -> Option<Verdict> {
    let problem = if none {
        Problem::Disabled
    } else if missing {
        Problem::Missing
    } else {
        return None;
    };
    Some(Verdict::sync(problem, what, confidence))
}

/// Whether `receiver.kill()` or `.terminate()` is called earlier in the function.
fn killed_before(module: &Module, f: FunctionId, receiver: &str, call: &Expr) -> bool {
    let mut found = false;
    for_each_expr(module, f, &mut |e| {
        if e.span.start < call.span.start
            && let Some((callee, _)) = call_parts(e)
            && let ExprKind::Attr { object, name, .. } = &callee.kind
            && matches!(name.as_str(), "kill" | "terminate")
            && object.dotted().as_deref() == Some(receiver)
        {
            found = true;
        }
    });
    found
}

fn is_null_arg(a: &crate::code::ir::Arg) -> bool {
    !a.spread && matches!(a.value.kind, ExprKind::Null)
}

/// `session.mount("https://", TimeoutAdapter(...))` anywhere in the module.
fn mounts_adapters(module: &Module) -> bool {
    module.calls().iter().any(|(_, c)| {
        matches!(call_parts(c), Some((callee, _)) if matches!(&callee.kind, ExprKind::Attr { name, .. } if name == "mount"))
    })
}

/// Byte ranges where an `await` has a deadline: the body of `async with asyncio.timeout(..)`
/// (and anyio/trio/async_timeout equivalents), and the awaitable passed to `asyncio.wait_for`.
fn deadline_regions(module: &Module, f: FunctionId) -> Vec<std::ops::Range<usize>> {
    const SCOPES: &[&str] = &[
        "asyncio.timeout",
        "asyncio.timeout_at",
        "anyio.fail_after",
        "anyio.move_on_after",
        "async_timeout.timeout",
        "trio.fail_after",
        "trio.move_on_after",
    ];
    let mut out = Vec::new();
    let Some(function) = module.functions.get(f) else {
        return out;
    };
    crate::code::ir::each_stmt(&function.body, &mut |s| {
        if let StmtKind::With { items, .. } = &s.kind
            && items.iter().any(|(e, _)| {
                call_parts(strip_await(e))
                    .and_then(|(c, _)| module.canonical(c))
                    .is_some_and(|p| SCOPES.contains(&p.as_str()))
            })
        {
            out.push(s.span.start..s.span.end);
        }
    });
    for_each_expr(module, f, &mut |e| {
        if let Some((callee, args)) = call_parts(e)
            && module.canonical(callee).as_deref() == Some("asyncio.wait_for")
            && let Some(first) = positional(args).next()
        {
            out.push(first.span.start..first.span.end);
        }
    });
    out
}
