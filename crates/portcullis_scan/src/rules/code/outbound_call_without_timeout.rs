use std::collections::HashMap;

use crate::code::ir::{Expr, ExprKind, FunctionId, Language, Module, Pattern, StmtKind};
use crate::code::structure::{
    Bindings, FnKey, Structure, call_parts, for_each_expr, has_spread, pattern_dotted, positional,
    strip_await,
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
    /// In TypeScript and JavaScript:
    /// - `fetch` (global, `undici.fetch`/`request`, `node-fetch`) without a `signal`: Node's
    ///   fetch has no overall deadline (undici only limits each wait for the headers or for the
    ///   next body chunk, 300 seconds each, so a server that trickles never ends). A signal
    ///   counts when it is `AbortSignal.timeout(...)`, passed through from elsewhere, or from an
    ///   `AbortController` whose `abort()` is called (a timer); one nothing aborts does not;
    /// - `axios` calls and `axios.create` instances with no `timeout` or `signal` in the request
    ///   or instance config, or with `timeout: 0` (axios's default is 0, no limit), unless
    ///   `axios.defaults.timeout` or `instance.defaults.timeout` is set;
    /// - `got` calls and `got.extend` instances without `timeout` (got has none by default);
    /// - `http`/`https` `request` and `get` without a `timeout` option, `.setTimeout(...)` on the
    ///   request, or a `signal`;
    /// - `child_process` `exec`, `execFile` (also promisified), `execSync`, `execFileSync`,
    ///   `spawnSync`, and execa, without `timeout` or with `timeout: 0` (their default);
    /// - `ky` with `timeout: false` (its default is 10 seconds);
    /// - a process started with `spawn` or `fork` (`child_process`, `cross-spawn`) whose end
    ///   the tool waits for (a `new Promise` settled on its `close`/`exit` event,
    ///   `await once(child, "exit")`, `for await` over its output, an awaited call given the
    ///   child) with no `timeout` or `signal` option (Node 15.13+ kill the child when `timeout`
    ///   runs out), no timer that kills it or settles the promise
    ///   (`setTimeout(() => child.kill(), ms)`), and no `Promise.race`/`pTimeout` around the
    ///   wait. A process started and left running is not reported: the tool does not wait.
    ///
    /// Options passed as a value that cannot be read (a parameter, a spread) are given the
    /// benefit of the doubt. A child returned to a caller that waits for it is not followed.
    ///
    /// Calls in code no handler reaches (start-up, scripts) are not reported. An `await` inside
    /// `asyncio.timeout(...)` or `asyncio.wait_for(...)` is bounded, and so is a promise raced
    /// against a timer (`Promise.race([work, timeout])`) or wrapped in `pTimeout`; a blocking
    /// call there is not (asyncio can only cancel at an `await`, and a race only settles one).
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
    /// `asyncio.timeout(...)`. In Node, pass `signal: AbortSignal.timeout(ms)` to `fetch` and
    /// `timeout` (milliseconds) to axios, got, `http.request` and `child_process` (`spawn`
    /// included), or kill a spawned child from a timer.
    ///
    /// ## References
    /// - [CWE-400: Uncontrolled Resource Consumption](https://cwe.mitre.org/data/definitions/400.html)
    /// - [Requests: timeouts](https://requests.readthedocs.io/en/latest/user/advanced/#timeouts)
    /// - [subprocess.run](https://docs.python.org/3/library/subprocess.html#subprocess.run)
    /// - [HTTPX: timeouts](https://www.python-httpx.org/advanced/timeouts/)
    /// - [aiohttp: ClientTimeout](https://docs.aiohttp.org/en/stable/client_quickstart.html#timeouts)
    /// - [AbortSignal.timeout](https://developer.mozilla.org/en-US/docs/Web/API/AbortSignal/timeout_static)
    /// - [axios: request config (`timeout`)](https://axios-http.com/docs/req_config)
    /// - [got: timeout options](https://github.com/sindresorhus/got/blob/main/documentation/6-timeout.md)
    /// - [child_process.exec (`timeout`)](https://nodejs.org/api/child_process.html#child_processexeccommand-options-callback)
    /// - [child_process.spawn (`timeout`, `signal`)](https://nodejs.org/api/child_process.html#child_processspawncommand-args-options)
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
    /// What to do, where the library's own words are needed (TypeScript/JavaScript).
    fix: Option<String>,
}

impl Verdict {
    fn sync(problem: Problem, what: &str, confidence: Confidence) -> Verdict {
        Verdict {
            problem,
            what: what.to_string(),
            confidence,
            awaitable: false,
            process: what.contains("subprocess") || what.ends_with("communicate"),
            fix: None,
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
    if let Some(fix) = &v.fix {
        let message = match v.problem {
            Problem::Disabled => {
                format!("`{what}` is told to wait without limit: {waits} hangs {handler}")
            }
            _ => format!("`{what}` has no timeout: {waits} hangs {handler}"),
        };
        return Diagnostic::new(
            &OUTBOUND_CALL_WITHOUT_TIMEOUT,
            &module.file,
            call.span,
            message,
        )
        .with_help(fix.clone())
        .with_confidence(v.confidence);
    }
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
        let node_defaults = NodeDefaults::of(s);
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
            let timed = match module.language {
                Language::Python => Vec::new(),
                Language::TypeScript | Language::JavaScript => timed_calls(module, f),
            };
            for call in calls {
                let verdict = match module.language {
                    Language::Python => judge(module, bindings, f, call, global_socket_timeout),
                    Language::TypeScript | Language::JavaScript => {
                        judge_node(module, bindings, f, call, &node_defaults, &timed)
                    }
                };
                let Some(v) = verdict else {
                    continue;
                };
                // asyncio can only cancel at an `await`, and `Promise.race` only settles an
                // await: a deadline bounds async calls alone.
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
        let Some((callee, args)) = call_parts(e) else {
            return;
        };
        match module.canonical(callee).as_deref() {
            // `pTimeout(promise, { milliseconds })` from p-timeout.
            Some("asyncio.wait_for" | "p-timeout" | "p-timeout.default") => {
                if let Some(first) = positional(args).next() {
                    out.push(first.span.start..first.span.end);
                }
            }
            // `Promise.race([work, timer])`: bounded when one of the racers is a timer.
            Some("Promise.race") => {
                if let Some(first) = positional(args).next()
                    && let ExprKind::Seq(racers) = &first.kind
                    && racers.iter().any(|r| is_timer(module, r, 0))
                {
                    out.extend(racers.iter().map(|r| r.span.start..r.span.end));
                }
            }
            _ => {}
        }
    });
    out
}

/// A racer that settles after a while: it calls `setTimeout` (a `new Promise` around a timer,
/// `timers/promises`'s `setTimeout`) or a function named like a timeout or a delay.
fn is_timer(module: &Module, e: &Expr, depth: usize) -> bool {
    let timer_name = |n: &str| {
        let lower = n.to_ascii_lowercase();
        ["timeout", "delay", "sleep", "timer", "deadline"]
            .iter()
            .any(|w| lower.contains(w))
    };
    let mut found = false;
    let mut nested: Vec<FunctionId> = Vec::new();
    let mut visit = |x: &Expr| match &x.kind {
        ExprKind::Function(id) => nested.push(*id),
        ExprKind::Name(n) | ExprKind::Attr { name: n, .. } if timer_name(n) => found = true,
        _ => {}
    };
    crate::code::ir::walk_expr(e, &mut visit);
    // The executor of `new Promise((_, reject) => setTimeout(reject, ms))` is a function of its
    // own; look a few levels in.
    if found || depth >= 4 {
        return found;
    }
    nested.into_iter().any(|id| {
        module.functions.get(id).is_some_and(|function| {
            function.body.iter().any(|st| {
                let mut own: Vec<&Expr> = Vec::new();
                crate::code::ir::walk_stmt(st, &mut |x| {
                    if matches!(
                        x.kind,
                        ExprKind::Name(_) | ExprKind::Attr { .. } | ExprKind::Function(_)
                    ) {
                        own.push(x);
                    }
                });
                own.iter().any(|x| is_timer(module, x, depth + 1))
            })
        })
    })
}

// ---- TypeScript and JavaScript ----

/// Timeouts set for a whole project: `axios.defaults.timeout = N` anywhere applies to every
/// axios call and instance.
struct NodeDefaults {
    axios_timeout: bool,
}

impl NodeDefaults {
    fn of(s: &Structure<'_>) -> NodeDefaults {
        let mut axios_timeout = false;
        for m in &s.project.modules {
            for f in &m.functions {
                crate::code::ir::each_stmt(&f.body, &mut |st| {
                    if let StmtKind::Assign {
                        target: Pattern::Attr(object, name),
                        value,
                    } = &st.kind
                        && name == "timeout"
                        && object
                            .dotted()
                            .is_some_and(|d| m.resolve_dotted(&d) == "axios.defaults")
                        && !no_limit(value)
                    {
                        axios_timeout = true;
                    }
                });
            }
        }
        NodeDefaults { axios_timeout }
    }
}

/// What an options object says about one key.
enum Opt<'a> {
    /// The key is not there (or there is no options object).
    Absent,
    /// The options are not a literal we can read (a parameter, a call, a spread): maybe.
    Unknown,
    Value(&'a Expr),
}

/// The value of `key` in an options argument: an object literal, or a name bound to one.
fn option<'a>(bindings: &Bindings<'a>, f: FunctionId, arg: Option<&'a Expr>, key: &str) -> Opt<'a> {
    let Some(arg) = arg else {
        return Opt::Absent;
    };
    let from_map = |entries: &'a [(Option<Expr>, Expr)]| -> Opt<'a> {
        if let Some((_, v)) = entries
            .iter()
            .rev()
            .find(|(k, _)| k.as_ref().and_then(Expr::as_str) == Some(key))
        {
            return Opt::Value(v);
        }
        if entries.iter().any(|(k, _)| k.is_none()) {
            return Opt::Unknown;
        }
        Opt::Absent
    };
    match &strip_await(arg).kind {
        ExprKind::Map(entries) => from_map(entries),
        // A URL or a string is not an options object.
        ExprKind::Str(_) | ExprKind::Template(_) | ExprKind::Binary { .. } => Opt::Absent,
        ExprKind::Name(_) | ExprKind::Attr { .. } => {
            let Some(dotted) = arg.dotted() else {
                return Opt::Unknown;
            };
            let values = bindings.values(f, &dotted);
            if values.is_empty() {
                return Opt::Unknown;
            }
            let mut out = Opt::Absent;
            for v in values {
                match &v.kind {
                    ExprKind::Map(entries) => match from_map(entries) {
                        Opt::Value(x) => return Opt::Value(x),
                        Opt::Unknown => out = Opt::Unknown,
                        Opt::Absent => {}
                    },
                    ExprKind::Str(_) | ExprKind::Template(_) | ExprKind::Binary { .. } => {}
                    ExprKind::Call { callee, is_new, .. }
                        if *is_new && callee.dotted().as_deref() == Some("URL") => {}
                    _ => out = Opt::Unknown,
                }
            }
            out
        }
        _ => Opt::Unknown,
    }
}

/// `0`, `null`, `undefined`, `false`, `Infinity`: no limit at all.
fn no_limit(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Num(n) => n.trim() == "0",
        ExprKind::Null | ExprKind::Bool(false) => true,
        ExprKind::Name(n) => n == "undefined" || n == "Infinity",
        _ => false,
    }
}

/// A call's positional arguments that are not callbacks.
fn values(args: &[crate::code::ir::Arg]) -> Vec<&Expr> {
    positional(args)
        .filter(|e| !matches!(e.kind, ExprKind::Function(_)))
        .collect()
}

/// Whether the argument at `i` is an argument list (`execFile("git", ["log"])`), so the
/// options come after it.
fn is_argv(bindings: &Bindings<'_>, f: FunctionId, e: Option<&&Expr>) -> bool {
    let Some(e) = e else {
        return false;
    };
    match &e.kind {
        ExprKind::Seq(_) => true,
        _ => e.dotted().is_some_and(|d| {
            bindings
                .values(f, &d)
                .iter()
                .any(|v| matches!(v.kind, ExprKind::Seq(_)))
        }),
    }
}

const AXIOS_METHODS: &[&str] = &[
    "get",
    "delete",
    "head",
    "options",
    "post",
    "put",
    "patch",
    "postForm",
    "putForm",
    "patchForm",
    "request",
];
const GOT_METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "stream", "paginate",
];

/// Where an axios call's config is: `axios.get(url, config)`, `axios.post(url, data, config)`,
/// `axios.request(config)`, `axios(config)` or `axios(url, config)`.
fn axios_config<'a>(method: Option<&str>, args: &[&'a Expr]) -> Option<&'a Expr> {
    let i = match method {
        Some("request") => 0,
        Some("post" | "put" | "patch" | "postForm" | "putForm" | "patchForm") => 2,
        Some(_) => 1,
        None => {
            if matches!(args.first().map(|a| &a.kind), Some(ExprKind::Map(_))) {
                0
            } else {
                1
            }
        }
    };
    args.get(i).copied()
}

/// How a timeout or signal in an options object bounds a call.
enum Bound {
    Yes,
    No,
    Disabled,
    Unknown,
}

/// Judges `timeout` (and `signal`) in an options object. `signal` bounds unless it comes from
/// an `AbortController` whose `abort` is never called.
fn bound_by(
    module: &Module,
    bindings: &Bindings<'_>,
    f: FunctionId,
    opts: Option<&Expr>,
    keys: &[&str],
) -> Bound {
    let mut unknown = false;
    for key in keys {
        match option(bindings, f, opts, key) {
            Opt::Value(v) if *key == "signal" => {
                if no_limit(v) || never_aborted(module, bindings, f, v) {
                    continue;
                }
                return Bound::Yes;
            }
            Opt::Value(v) => {
                return if no_limit(v) {
                    Bound::Disabled
                } else {
                    Bound::Yes
                };
            }
            Opt::Unknown => unknown = true,
            Opt::Absent => {}
        }
    }
    if unknown { Bound::Unknown } else { Bound::No }
}

/// `controller.signal` of a `new AbortController()` whose `abort` nothing in the module calls
/// (no timer, no handler): a signal that never fires.
fn never_aborted(module: &Module, bindings: &Bindings<'_>, f: FunctionId, signal: &Expr) -> bool {
    let ExprKind::Attr { object, name, .. } = &signal.kind else {
        return false;
    };
    let Some(controller) = object.dotted() else {
        return false;
    };
    if name != "signal"
        || !bindings
            .constructors(f, &controller)
            .iter()
            .any(|c| c == "AbortController")
    {
        return false;
    }
    // Aborted in this function or a function nested in it (a timer's callback).
    let inside = |mut g: FunctionId| {
        for _ in 0..64 {
            if g == f {
                return true;
            }
            match module.functions.get(g).and_then(|x| x.parent) {
                Some(p) => g = p,
                None => return false,
            }
        }
        false
    };
    let mut aborted = false;
    for g in (0..module.functions.len()).filter(|&g| inside(g)) {
        for_each_expr(module, g, &mut |e| {
            if let ExprKind::Attr { object, name, .. } = &e.kind
                && name == "abort"
                && object.dotted().as_deref() == Some(controller.as_str())
            {
                aborted = true;
            }
        });
    }
    !aborted
}

fn node_verdict(
    bound: Bound,
    what: &str,
    fix: &str,
    process: bool,
    awaitable: bool,
    confidence: Confidence,
) -> Option<Verdict> {
    let problem = match bound {
        Bound::Yes | Bound::Unknown => return None,
        Bound::No => Problem::Missing,
        Bound::Disabled => Problem::Disabled,
    };
    Some(Verdict {
        problem,
        what: what.to_string(),
        confidence,
        awaitable,
        process,
        fix: Some(fix.to_string()),
    })
}

const FETCH_FIX: &str = "Pass `signal: AbortSignal.timeout(ms)`; Node's `fetch` has no overall deadline (undici only limits each wait for headers or for the next body chunk, 300 s each, so a slow trickle never ends).";
const AXIOS_FIX: &str = "Pass `timeout` (milliseconds) or a `signal` in the request config, in the `axios.create` config, or set `axios.defaults.timeout`; axios's default is 0, no limit.";
const GOT_FIX: &str =
    "Pass `timeout: { request: ms }` (or a `signal`); got has no timeout by default.";
const HTTP_FIX: &str = "Pass `timeout` in the options (or call `req.setTimeout(ms)`) and destroy the request when it fires, or pass a `signal`.";
const PROCESS_FIX: &str = "Pass `timeout` (milliseconds) in the options; `child_process` and execa wait forever by default (`timeout: 0`).";
const KY_FIX: &str = "Keep ky's default (10 s) or set a finite `timeout` instead of `false`.";

/// Whether a TypeScript/JavaScript call can wait forever, and what to call it.
fn judge_node(
    module: &Module,
    bindings: &Bindings<'_>,
    f: FunctionId,
    call: &Expr,
    defaults: &NodeDefaults,
    timed: &[usize],
) -> Option<Verdict> {
    let (callee, args) = call_parts(call)?;
    if has_spread(args) {
        return None;
    }
    let vals = values(args);
    let path = module.canonical(callee).unwrap_or_default();
    let (root, last) = path.rsplit_once('.').unwrap_or((path.as_str(), ""));
    let medium = Confidence::Medium;
    // `fetch`: only a signal ends it (node-fetch 2 also had a `timeout` option).
    if matches!(
        path.as_str(),
        "fetch"
            | "globalThis.fetch"
            | "undici.fetch"
            | "undici.request"
            | "node-fetch"
            | "node-fetch.default"
            | "cross-fetch"
    ) {
        let bound = bound_by(
            module,
            bindings,
            f,
            vals.get(1).copied(),
            &["signal", "timeout"],
        );
        return node_verdict(bound, &path, FETCH_FIX, false, true, medium);
    }
    // axios, and instances made by `axios.create`.
    let axios_call = match (path.as_str(), root, last) {
        ("axios", _, _) | ("axios.default", _, _) => Some((None, None)),
        (_, "axios", m) if AXIOS_METHODS.contains(&m) => Some((Some(m), None)),
        _ => instance(module, bindings, f, callee, "axios.create", AXIOS_METHODS),
    };
    if let Some((method, created)) = axios_call {
        let config = axios_config(method, &vals);
        let mut bound = bound_by(module, bindings, f, config, &["timeout", "signal"]);
        if matches!(bound, Bound::No) {
            if let Some((create, receiver)) = &created {
                let create_opts = call_parts(create)
                    .map(|(_, a)| values(a))
                    .and_then(|v| v.first().copied());
                bound = bound_by(module, bindings, f, create_opts, &["timeout", "signal"]);
                if matches!(bound, Bound::No) && sets_defaults_timeout(module, receiver) {
                    bound = Bound::Yes;
                }
            }
            if matches!(bound, Bound::No) && defaults.axios_timeout {
                bound = Bound::Yes;
            }
        }
        let what = display(callee, &path, created.is_some());
        return node_verdict(bound, &what, AXIOS_FIX, false, true, Confidence::High);
    }
    // got, and instances made by `got.extend`.
    let got_call = match (path.as_str(), root, last) {
        ("got", _, _) | ("got.default", _, _) => Some((None, None)),
        (_, "got", m) if GOT_METHODS.contains(&m) => Some((Some(m), None)),
        _ => instance(module, bindings, f, callee, "got.extend", GOT_METHODS),
    };
    if let Some((_, created)) = got_call {
        let opts = if matches!(vals.first().map(|a| &a.kind), Some(ExprKind::Map(_))) {
            vals.first().copied()
        } else {
            vals.get(1).copied()
        };
        let mut bound = bound_by(module, bindings, f, opts, &["timeout", "signal"]);
        if matches!(bound, Bound::No)
            && let Some((extend, _)) = created
        {
            let extend_opts = call_parts(extend)
                .map(|(_, a)| values(a))
                .and_then(|v| v.first().copied());
            bound = bound_by(module, bindings, f, extend_opts, &["timeout", "signal"]);
        }
        let what = display(callee, &path, created.is_some());
        return node_verdict(bound, &what, GOT_FIX, false, true, Confidence::High);
    }
    match (root, last) {
        ("http" | "https", "request" | "get") => {
            if timed.contains(&call.span.start) {
                return None;
            }
            // `(url, options, callback)` or `(options, callback)`.
            let opts = if vals.len() >= 2 {
                vals.get(1)
            } else {
                vals.first()
            };
            let bound = bound_by(module, bindings, f, opts.copied(), &["timeout", "signal"]);
            node_verdict(bound, &path, HTTP_FIX, false, true, Confidence::High)
        }
        ("child_process", "exec" | "execSync") | ("execa", "execaCommand" | "execaCommandSync") => {
            let bound = bound_by(
                module,
                bindings,
                f,
                vals.get(1).copied(),
                &["timeout", "signal"],
            );
            let sync = last.ends_with("Sync");
            node_verdict(bound, &path, PROCESS_FIX, true, !sync, Confidence::High)
        }
        ("child_process", "execFile" | "execFileSync" | "spawnSync")
        | ("execa", "execa" | "execaSync")
        | ("execa", "") => {
            let at = if is_argv(bindings, f, vals.get(1)) {
                2
            } else {
                1
            };
            let bound = bound_by(
                module,
                bindings,
                f,
                vals.get(at).copied(),
                &["timeout", "signal"],
            );
            let sync = last.ends_with("Sync");
            node_verdict(bound, &path, PROCESS_FIX, true, !sync, Confidence::High)
        }
        ("child_process", "spawn" | "fork") | ("cross-spawn", "" | "spawn") => {
            judge_spawn(module, bindings, f, call, &path, &vals)
        }
        ("ky", m) if m.is_empty() || GOT_METHODS.contains(&m) => {
            match bound_by(module, bindings, f, vals.get(1).copied(), &["timeout"]) {
                Bound::Disabled => node_verdict(
                    Bound::Disabled,
                    &path,
                    KY_FIX,
                    false,
                    true,
                    Confidence::High,
                ),
                _ => None,
            }
        }
        _ => None,
    }
}

const SPAWN_FIX: &str = "Pass `timeout` (milliseconds, Node 15.13+) or `signal: AbortSignal.timeout(ms)` in the options, or kill the child from a timer (`setTimeout(() => child.kill(), ms)`, cleared on exit); the tool waits for a process that may never exit.";

/// `spawn`/`fork` return at once: the process only hangs the tool when the tool waits for its
/// end (a promise settled on `close`/`exit`, `await once(child, "exit")`, `for await` over its
/// output, an awaited call given the child) with neither a `timeout`/`signal` option nor a
/// timer that kills the child (or settles the promise), nor a deadline around the wait.
fn judge_spawn(
    module: &Module,
    bindings: &Bindings<'_>,
    f: FunctionId,
    call: &Expr,
    path: &str,
    vals: &[&Expr],
) -> Option<Verdict> {
    let at = if is_argv(bindings, f, vals.get(1)) {
        2
    } else {
        1
    };
    let bound = bound_by(
        module,
        bindings,
        f,
        vals.get(at).copied(),
        &["timeout", "signal"],
    );
    let problem = match bound {
        Bound::Yes | Bound::Unknown => return None,
        Bound::No => Problem::Missing,
        Bound::Disabled => Problem::Disabled,
    };
    let region = enclosing_tree(module, f);
    let child = ChildRefs::of(module, f, call);
    // `new Promise(executor)` in the region: the executors and the names of their parameters.
    let mut executors: Vec<FunctionId> = Vec::new();
    let mut settlers: Vec<String> = Vec::new();
    for &g in &region {
        for_each_expr(module, g, &mut |e| {
            if let ExprKind::Call {
                callee,
                args,
                is_new: true,
            } = &e.kind
                && callee.dotted().as_deref() == Some("Promise")
            {
                for a in positional(args) {
                    if let ExprKind::Function(id) = a.kind {
                        executors.push(id);
                        if let Some(x) = module.functions.get(id) {
                            settlers
                                .extend(x.params.iter().filter_map(|p| p.name()).map(String::from));
                        }
                    }
                }
            }
        });
    }
    let in_executor = |g: FunctionId| ancestors(module, g).any(|a| executors.contains(&a));
    // Where the tool waits for the process, by function.
    let mut waits: Vec<(FunctionId, std::ops::Range<usize>)> = Vec::new();
    let mut timer = false;
    for &g in &region {
        for_each_expr(module, g, &mut |e| match &e.kind {
            ExprKind::Call { callee, args, .. } => {
                if let ExprKind::Attr { object, name, .. } = &callee.kind
                    && matches!(
                        name.as_str(),
                        "on" | "once" | "addListener" | "prependListener" | "prependOnceListener"
                    )
                    && positional(args)
                        .next()
                        .and_then(Expr::as_str)
                        .is_some_and(|ev| matches!(ev, "close" | "exit" | "end" | "finish"))
                    && child.refers(object)
                    && in_executor(g)
                {
                    waits.push((g, e.span.start..e.span.end));
                }
                let timer_callee = callee.dotted().is_some_and(|d| {
                    let last = d.rsplit('.').next().unwrap_or(&d);
                    matches!(last, "setTimeout" | "setInterval")
                });
                if timer_callee
                    && positional(args)
                        .next()
                        .is_some_and(|cb| ends_process(module, cb, &settlers, 0))
                {
                    timer = true;
                }
            }
            ExprKind::Await(inner) => {
                let inner = strip_await(inner);
                if let Some((_, args)) = call_parts(inner)
                    && inner.span != call.span
                    && args.iter().any(|a| child.refers(&a.value))
                {
                    waits.push((g, e.span.start..e.span.end));
                }
            }
            _ => {}
        });
        if let Some(function) = module.functions.get(g) {
            crate::code::ir::each_stmt(&function.body, &mut |st| {
                if let StmtKind::Loop { iter: Some(it), .. } = &st.kind {
                    let over_child = child.refers(it)
                        || it.dotted().is_some_and(|d| {
                            bindings.values(g, &d).iter().any(|v| child.refers(v))
                        });
                    if over_child {
                        waits.push((g, st.span.start..st.span.end));
                    }
                }
            });
        }
    }
    if waits.is_empty() || timer {
        return None;
    }
    // A wait inside `Promise.race([.., timer])` or `pTimeout(..)`, or in an executor passed
    // there, is bounded.
    let deadlines: Vec<std::ops::Range<usize>> = region
        .iter()
        .flat_map(|&h| deadline_regions(module, h))
        .collect();
    let within =
        |start: usize, end: usize| deadlines.iter().any(|r| r.start <= start && end <= r.end);
    let bounded = waits.iter().all(|(g, w)| {
        within(w.start, w.end)
            || ancestors(module, *g).any(|a| {
                a != 0
                    && module
                        .functions
                        .get(a)
                        .is_some_and(|x| within(x.span.start, x.span.end))
            })
    });
    if bounded {
        return None;
    }
    Some(Verdict {
        problem,
        what: path.to_string(),
        confidence: Confidence::Medium,
        awaitable: true,
        process: true,
        fix: Some(SPAWN_FIX.to_string()),
    })
}

/// `g` and the functions it is nested in, innermost first.
fn ancestors(module: &Module, g: FunctionId) -> impl Iterator<Item = FunctionId> + '_ {
    let mut next = Some(g);
    let mut steps = 0;
    std::iter::from_fn(move || {
        let cur = next?;
        steps += 1;
        next = module
            .functions
            .get(cur)
            .and_then(|x| x.parent)
            .filter(|_| steps < 64);
        Some(cur)
    })
}

/// The outermost function (below the module's top level) that holds `f`, and every function
/// nested in it: where a process started in `f` is waited on and timed.
fn enclosing_tree(module: &Module, f: FunctionId) -> Vec<FunctionId> {
    let top = ancestors(module, f)
        .take_while(|&a| a != 0)
        .last()
        .unwrap_or(f);
    (0..module.functions.len())
        .filter(|&g| ancestors(module, g).any(|a| a == top))
        .collect()
}

/// How code refers to a spawned process: the names its result was bound to (`child`,
/// `this.proc`, or `stdout` destructured from it), or the call itself (`spawn(..).on(..)`).
struct ChildRefs {
    names: Vec<String>,
    call: crate::span::Span,
}

impl ChildRefs {
    fn of(module: &Module, f: FunctionId, call: &Expr) -> ChildRefs {
        let mut names = Vec::new();
        if let Some(function) = module.functions.get(f) {
            crate::code::ir::each_stmt(&function.body, &mut |st| {
                if let StmtKind::Assign { target, value } = &st.kind
                    && strip_await(value).span == call.span
                {
                    bound_names(target, &mut names);
                }
            });
        }
        ChildRefs {
            names,
            call: call.span,
        }
    }

    /// Whether `e` mentions the process (not inside nested functions).
    fn refers(&self, e: &Expr) -> bool {
        let mut found = false;
        crate::code::ir::walk_expr(e, &mut |x| {
            if x.span == self.call || x.dotted().is_some_and(|d| self.names.contains(&d)) {
                found = true;
            }
        });
        found
    }
}

fn bound_names(p: &Pattern, out: &mut Vec<String>) {
    match p {
        Pattern::Sequence(items) => items.iter().for_each(|i| bound_names(i, out)),
        Pattern::Object(items) => items.iter().for_each(|(_, i)| bound_names(i, out)),
        Pattern::Rest(i) | Pattern::Default(i, _) => bound_names(i, out),
        _ => out.extend(pattern_dotted(p)),
    }
}

/// A timer callback that ends the wait: it kills (`child.kill()`, `process.kill(pid)`,
/// `treeKill(pid)`), aborts or destroys something, or settles the promise the tool awaits
/// (`reject`): directly, as a function passed by name, or in a function it holds.
fn ends_process(module: &Module, cb: &Expr, settlers: &[String], depth: usize) -> bool {
    let ends = |name: &str| {
        name.to_ascii_lowercase().contains("kill")
            || matches!(name, "abort" | "destroy")
            || settlers.iter().any(|s| s == name)
    };
    let mut found = false;
    let mut nested: Vec<FunctionId> = Vec::new();
    crate::code::ir::walk_expr(cb, &mut |x| match &x.kind {
        ExprKind::Function(id) => nested.push(*id),
        ExprKind::Name(n) | ExprKind::Attr { name: n, .. } if ends(n) => found = true,
        _ => {}
    });
    if found || depth >= 4 {
        return found;
    }
    nested.into_iter().any(|id| {
        let mut own: Vec<&Expr> = Vec::new();
        for_each_expr(module, id, &mut |x| {
            if matches!(
                x.kind,
                ExprKind::Name(_) | ExprKind::Attr { .. } | ExprKind::Function(_)
            ) {
                own.push(x);
            }
        });
        own.iter()
            .any(|x| ends_process(module, x, settlers, depth + 1))
    })
}

/// `api.get(...)`/`api(...)` where `api` holds what `factory` (`axios.create`, `got.extend`)
/// returned: the method called (none for a call of the instance itself) and the factory call
/// with the instance's name.
#[allow(clippy::type_complexity)]
fn instance<'a>(
    module: &Module,
    bindings: &Bindings<'a>,
    f: FunctionId,
    callee: &'a Expr,
    factory: &str,
    methods: &[&str],
) -> Option<(Option<&'a str>, Option<(&'a Expr, String)>)> {
    let (receiver, method) = match &callee.kind {
        ExprKind::Attr { object, name, .. } if methods.contains(&name.as_str()) => {
            (object.dotted()?, Some(name.as_str()))
        }
        ExprKind::Name(n) => (n.clone(), None),
        _ => return None,
    };
    let made = bindings.values(f, &receiver).into_iter().find(|v| {
        call_parts(v)
            .and_then(|(c, _)| module.canonical(c))
            .as_deref()
            == Some(factory)
    })?;
    Some((method, Some((made, receiver))))
}

/// `api.defaults.timeout = N` anywhere in the module.
fn sets_defaults_timeout(module: &Module, receiver: &str) -> bool {
    let want = format!("{receiver}.defaults");
    let mut found = false;
    for function in &module.functions {
        crate::code::ir::each_stmt(&function.body, &mut |st| {
            if let StmtKind::Assign {
                target: Pattern::Attr(object, name),
                value,
            } = &st.kind
                && name == "timeout"
                && object.dotted().as_deref() == Some(want.as_str())
                && !no_limit(value)
            {
                found = true;
            }
        });
    }
    found
}

/// How a call is named in messages: its canonical path for library functions, as written
/// for methods of instances (`api.get`).
fn display(callee: &Expr, path: &str, instance: bool) -> String {
    match callee.dotted() {
        Some(written) if instance => written,
        _ => path.to_string(),
    }
}

/// Calls whose result has `.setTimeout(...)` called on it, directly or through the name it
/// was assigned to: `https.get(url).setTimeout(5000)`, `req = http.request(o); req.setTimeout(..)`.
fn timed_calls(module: &Module, f: FunctionId) -> Vec<usize> {
    let Some(function) = module.functions.get(f) else {
        return Vec::new();
    };
    let mut assigned: Vec<(String, usize)> = Vec::new();
    crate::code::ir::each_stmt(&function.body, &mut |st| {
        if let StmtKind::Assign {
            target: Pattern::Name(n, _),
            value,
        } = &st.kind
            && matches!(strip_await(value).kind, ExprKind::Call { .. })
        {
            assigned.push((n.clone(), strip_await(value).span.start));
        }
    });
    let mut out = Vec::new();
    for_each_expr(module, f, &mut |e| {
        if let Some((callee, _)) = call_parts(e)
            && let ExprKind::Attr { object, name, .. } = &callee.kind
            && name == "setTimeout"
        {
            match &strip_await(object).kind {
                ExprKind::Call { .. } => out.push(strip_await(object).span.start),
                ExprKind::Name(n) => {
                    out.extend(assigned.iter().filter(|(a, _)| a == n).map(|(_, s)| *s))
                }
                _ => {}
            }
        }
    });
    out
}
