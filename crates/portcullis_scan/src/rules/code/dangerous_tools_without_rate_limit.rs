use crate::code::ir::Module;
use crate::code::structure::{Effect, ServerCtor, Structure, call_parts};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::registry::RuleMeta;

declare_rule! {
    /// ## What it does
    /// Finds MCP servers with tools that run commands, write or delete files, or make network
    /// requests (in the handler or a function it calls), and no rate or concurrency limit
    /// anywhere in the server's code: no `slowapi`, `limits`, `ratelimit`, `aiolimiter` or
    /// `pyrate_limiter`, no `asyncio`/`anyio`/`threading` semaphore or capacity limiter, no
    /// class, function or middleware named like a rate limiter, throttle or token bucket
    /// (FastMCP's `RateLimitingMiddleware` included); in TypeScript and JavaScript, no
    /// `express-rate-limit`, `rate-limiter-flexible`, `bottleneck`, `p-limit`, `p-queue` or
    /// `p-throttle`. One finding per server, on its constructor.
    ///
    /// ## Why is this bad?
    /// An agent in a loop, or one steered by a prompt injection, calls tools as fast as it
    /// likes: thousands of commands, file writes or outbound requests a minute, each with the
    /// server's rights, until the disk fills, an API key is banned or a bill arrives
    /// (CWE-770, allocation of resources without limits). A limit turns a runaway loop into an
    /// error the user notices. The finding is low severity and low confidence: a gateway or the
    /// client may enforce limits the code cannot show, and many servers are fine without one.
    ///
    /// ## Example
    /// ```python
    /// import subprocess
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("builder")
    ///
    /// @mcp.tool()
    /// def build(target: str) -> str:
    ///     return subprocess.run(["make", "--", target], capture_output=True, text=True, timeout=600).stdout
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import asyncio
    /// import subprocess
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("builder")
    /// builds = asyncio.Semaphore(2)
    ///
    /// @mcp.tool()
    /// async def build(target: str) -> str:
    ///     async with builds:
    ///         proc = await asyncio.to_thread(
    ///             subprocess.run, ["make", "--", target], capture_output=True, text=True, timeout=600
    ///         )
    ///     return proc.stdout
    /// ```
    /// Bound how many dangerous calls run at once (a semaphore) or how many run per minute (a
    /// token bucket, `aiolimiter.AsyncLimiter`, standalone FastMCP's `RateLimitingMiddleware`),
    /// or enforce limits in a gateway in front of the server and suppress this finding.
    ///
    /// ## References
    /// - [CWE-770: Allocation of Resources Without Limits or Throttling](https://cwe.mitre.org/data/definitions/770.html)
    /// - [OWASP API Security: Unrestricted Resource Consumption](https://owasp.org/API-Security/editions/2023/en/0xa4-unrestricted-resource-consumption/)
    /// - [FastMCP: rate limiting middleware](https://gofastmcp.com/servers/middleware#rate-limiting)
    pub static DANGEROUS_TOOLS_WITHOUT_RATE_LIMIT = {
        code: "PC125",
        name: "dangerous-tools-without-rate-limit",
        summary: "Tools that run commands, write files or make requests have no rate limit",
        severity: Low,
        confidence: Low,
        cwe: [770],
        target: Code,
    }
}

fn diagnostic(
    s: &Structure<'_>,
    server: &ServerCtor<'_>,
    dangerous: &[(String, Effect)],
) -> Diagnostic {
    let name = server
        .receiver_dotted()
        .map_or_else(|| "the server".to_string(), |r| format!("`{r}`"));
    let mut kinds: Vec<Effect> = dangerous.iter().map(|(_, d)| *d).collect();
    kinds.sort();
    kinds.dedup();
    let verbs: Vec<&str> = kinds.iter().map(|k| k.verb()).collect();
    let verbs = match verbs.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => verbs.join(""),
    };
    let mut tools: Vec<String> = dangerous.iter().map(|(t, _)| format!("`{t}`")).collect();
    tools.dedup();
    let more = tools.len().saturating_sub(3);
    tools.truncate(3);
    let list = if more > 0 {
        format!("{} and {more} more", tools.join(", "))
    } else {
        tools.join(", ")
    };
    Diagnostic::new(
        &DANGEROUS_TOOLS_WITHOUT_RATE_LIMIT,
        &s.module(server.module).file,
        server.call.span,
        format!(
            "{name} has tools that {verbs} ({list}) and no rate or concurrency limit anywhere: a looping or injected agent can call them without end"
        ),
    )
    .with_help("Bound the dangerous tools with a semaphore or a rate limiter (`aiolimiter.AsyncLimiter`, FastMCP's `RateLimitingMiddleware`), or enforce limits in a gateway and suppress this.")
}

pub struct Rule;

impl super::ProjectRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &DANGEROUS_TOOLS_WITHOUT_RATE_LIMIT
    }

    fn check(&self, s: &Structure<'_>, out: &mut Vec<Diagnostic>) {
        for component in s.server_components() {
            let Some(server) = s.component_servers(component).into_iter().next() else {
                continue;
            };
            if component.iter().any(|&m| has_rate_limit(s.module(m))) {
                continue;
            }
            let mut dangerous = Vec::new();
            for &m in component {
                for (h, handler) in s.module(m).handlers.iter().enumerate() {
                    if let Some(d) = s.effect_reached((m, handler.function)) {
                        dangerous.push((s.handler_name((m, h)), d));
                    }
                }
            }
            if !dangerous.is_empty() {
                out.push(diagnostic(s, &server, &dangerous));
            }
        }
    }
}

/// Packages whose import means the author limits rates.
const LIMIT_PACKAGES: &[&str] = &[
    "slowapi",
    "limits",
    "ratelimit",
    "ratelimiter",
    "aiolimiter",
    "pyrate_limiter",
    "token_bucket",
    "asyncio_throttle",
    "throttled",
    // Node
    "express-rate-limit",
    "rate-limiter-flexible",
    "bottleneck",
    "p-limit",
    "p-queue",
    "p-throttle",
];

/// Words in a name that make it a limiter.
const LIMIT_WORDS: &[&str] = &[
    "ratelimit",
    "rate_limit",
    "limiter",
    "throttl",
    "tokenbucket",
    "token_bucket",
    "leakybucket",
    "leaky_bucket",
];

fn has_rate_limit(module: &Module) -> bool {
    let limiter_name = |n: &str| {
        let lower = n.to_ascii_lowercase();
        LIMIT_WORDS.iter().any(|w| lower.contains(w))
    };
    if module.imports.iter().any(|i| {
        LIMIT_PACKAGES.contains(&i.path.split('.').next().unwrap_or(""))
            || limiter_name(&i.path)
            || limiter_name(&i.local)
    }) {
        return true;
    }
    if module.classes.iter().any(|c| limiter_name(&c.name))
        || module.functions.iter().any(|f| limiter_name(&f.name))
    {
        return true;
    }
    module.calls().iter().any(|(_, c)| {
        call_parts(c)
            .and_then(|(callee, _)| module.canonical(callee))
            .is_some_and(|p| {
                matches!(
                    p.as_str(),
                    "asyncio.Semaphore"
                        | "asyncio.BoundedSemaphore"
                        | "anyio.Semaphore"
                        | "anyio.CapacityLimiter"
                        | "anyio.to_thread.current_default_thread_limiter"
                        | "threading.Semaphore"
                        | "threading.BoundedSemaphore"
                        | "trio.Semaphore"
                        | "trio.CapacityLimiter"
                        | "async-sema.Sema"
                ) || limiter_name(&p)
            })
    })
}
