//! How a server is served: where it starts speaking HTTP (`mcp.run(transport="sse")`,
//! `mcp.streamable_http_app()`, `uvicorn.run`, `SseServerTransport`; in TypeScript and
//! JavaScript `new StreamableHTTPServerTransport(...)`, `new SSEServerTransport(...)`), which
//! host it binds (`host=`, `app.listen(port, host)`), and whether authentication and Host/Origin
//! validation are configured anywhere in its modules.
//!
//! One model for every language: the Python evidence is read here, the TypeScript/JavaScript
//! evidence in [`node`], both into the same [`Serving`].
//!
//! Read from the IR of one server's modules (a component of [`Structure`]). The trade-off is
//! the one every structural rule makes: evidence is recognised by names (`auth=`, a middleware
//! class called `BearerAuthMiddleware`, `app.use(requireBearerAuth(...))`), so a protection built
//! some other way is missed and a class named like one is believed. The rules lean towards
//! believing: a finding here says that nothing in the code looks like the protection.

mod node;

use crate::code::ir::{Expr, ExprKind, FunctionId, Language, Module, Pattern, StmtKind};
use crate::code::structure::{
    ServerCtor, ServerSdk, Structure, call_parts, env_default, for_each_expr, literal_str,
    positional,
};

/// A call that makes the server speak HTTP.
#[derive(Debug, Clone)]
pub struct HttpStart<'a> {
    pub module: usize,
    pub call: &'a Expr,
    /// As the user would recognise it: `mcp.run(transport="sse")`, `uvicorn.run`.
    pub what: String,
    /// `host=` given to this call, if any.
    pub host: Option<&'a Expr>,
    /// Whether the call builds the transport itself (its own `host=` decides the SDK's
    /// DNS-rebinding default) rather than serving an app built elsewhere (`uvicorn.run`).
    pub builds_transport: bool,
}

/// Where the server's bind address is set.
#[derive(Debug, Clone)]
pub struct HostSetting<'a> {
    pub module: usize,
    /// The value as written (a literal, a constant, an environment lookup).
    pub expr: &'a Expr,
    /// What it resolves to when that can be told: the literal, or the environment default.
    pub value: Option<String>,
    /// The value is the default of an environment lookup.
    pub from_env: bool,
    /// No host is given and `value` is the runtime's default: the call that binds, as the user
    /// would recognise it (`app.listen`).
    pub implicit: Option<String>,
}

impl HostSetting<'_> {
    /// `0.0.0.0`, `::` and friends: every interface of the machine.
    pub fn is_wildcard(&self) -> bool {
        self.value.as_deref().is_some_and(is_wildcard)
    }

    pub fn is_loopback(&self) -> bool {
        self.value.as_deref().is_some_and(is_loopback)
    }
}

pub fn is_wildcard(host: &str) -> bool {
    matches!(host.trim(), "0.0.0.0" | "::" | "[::]" | "" | "*" | "0")
}

pub fn is_loopback(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h == "localhost" || h == "::1" || h.starts_with("127.")
}

/// Something in the code that looks like a protection, and where.
#[derive(Debug, Clone)]
pub struct Evidence<'a> {
    pub module: usize,
    pub expr: &'a Expr,
}

/// `transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)`.
#[derive(Debug, Clone)]
pub struct DisabledCheck<'a> {
    pub module: usize,
    pub expr: &'a Expr,
    /// The setting as written: `enable_dns_rebinding_protection=False`.
    pub what: &'static str,
}

/// Why a transport's own Host/Origin validation, as configured, checks nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inert {
    /// `enableDnsRebindingProtection: false`.
    Off,
    /// `allowedHosts`/`allowedOrigins` without `enableDnsRebindingProtection: true`: the lists
    /// are ignored.
    ListsIgnored,
    /// `enableDnsRebindingProtection: true` with no `allowedHosts` or `allowedOrigins`: there is
    /// nothing to compare with.
    NothingListed,
}

/// A transport's validation configured so that it checks nothing. Unlike [`DisabledCheck`], it
/// only matters when nothing else (middleware) validates the headers.
#[derive(Debug, Clone)]
pub struct InertCheck<'a> {
    pub module: usize,
    pub expr: &'a Expr,
    pub why: Inert,
}

/// Everything about how one server (component) is served.
pub struct Serving<'a> {
    pub servers: Vec<ServerCtor<'a>>,
    pub http: Vec<HttpStart<'a>>,
    pub hosts: Vec<HostSetting<'a>>,
    pub auth: Option<Evidence<'a>>,
    /// Host/Origin validation configured explicitly (settings or middleware).
    pub origin_check: Option<Evidence<'a>>,
    /// Validation switched off explicitly.
    pub origin_check_disabled: Option<DisabledCheck<'a>>,
    /// A transport's own validation configured to check nothing (TypeScript SDK options).
    pub origin_check_inert: Option<InertCheck<'a>>,
    /// HTTP is served from TypeScript/JavaScript but no bind (`listen`, `serve`) was found, so
    /// the host cannot be told; Python's SDKs default to loopback instead.
    pub bind_unknown: bool,
}

/// Words in a middleware, provider or dependency name that say it authenticates.
const AUTH_WORDS: &[&str] = &[
    "auth",
    "bearer",
    "token",
    "apikey",
    "api_key",
    "jwt",
    "oauth",
    "oidc",
    "credential",
    "signature",
    "hmac",
];

/// Words in a middleware name that say it validates the Host or Origin header. CORS is not
/// among them: it only decides what a browser may read, the request still reaches the tools.
const ORIGIN_WORDS: &[&str] = &[
    "origin",
    "trustedhost",
    "trusted_host",
    "allowedhost",
    "allowed_host",
    "hostvalidation",
    "host_validation",
    "hostcheck",
    "host_check",
    "rebinding",
    "transportsecurity",
    "hostheader",
    "host_header",
];

fn named_like(name: &str, words: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    words.iter().any(|w| lower.contains(w))
}

impl<'a> Serving<'a> {
    pub fn of(s: &Structure<'a>, component: &[usize]) -> Serving<'a> {
        let servers = s.component_servers(component);
        let mut serving = Serving {
            servers,
            http: Vec::new(),
            hosts: Vec::new(),
            auth: None,
            origin_check: None,
            origin_check_disabled: None,
            origin_check_inert: None,
            bind_unknown: false,
        };
        let mut node_http = false;
        for &m in component {
            let module = s.module(m);
            match module.language {
                Language::Python => {
                    for f in 0..module.functions.len() {
                        serving.scan_function(module, m, f);
                    }
                }
                Language::TypeScript | Language::JavaScript => {
                    let before = serving.http.len();
                    node::scan_module(&mut serving, module, m);
                    node_http |= serving.http.len() > before;
                }
            }
        }
        // A Node server's bind is `listen`, read above; its constructor holds no host or auth.
        serving.bind_unknown = node_http && serving.hosts.is_empty();
        for ctor in serving.servers.clone() {
            if ctor.sdk == ServerSdk::Node {
                continue;
            }
            let module = s.module(ctor.module);
            if let Some(host) = ctor.call.keyword("host") {
                serving.hosts.push(host_setting(module, ctor.module, host));
            }
            for key in [
                "auth",
                "token_verifier",
                "auth_server_provider",
                "auth_provider",
            ] {
                if let Some(v) = ctor.call.keyword(key)
                    && !matches!(v.kind, ExprKind::Null)
                {
                    serving.auth.get_or_insert(Evidence {
                        module: ctor.module,
                        expr: v,
                    });
                }
            }
        }
        serving.http.sort_by_key(|h| (h.module, h.call.span.start));
        serving.hosts.sort_by_key(|h| (h.module, h.expr.span.start));
        serving
    }

    fn scan_function(&mut self, module: &'a Module, m: usize, f: FunctionId) {
        let function = &module.functions[f];
        // `mcp.settings.host = "0.0.0.0"`, `mcp.settings.auth = ...`.
        crate::code::ir::each_stmt(&function.body, &mut |st| {
            if let StmtKind::Assign {
                target: Pattern::Attr(object, attr),
                value,
            } = &st.kind
            {
                let on_settings = object
                    .dotted()
                    .is_some_and(|d| d.ends_with("settings") || self.is_receiver(module, &d));
                if on_settings && attr == "host" {
                    self.hosts.push(host_setting(module, m, value));
                }
                if on_settings && attr == "auth" && !matches!(value.kind, ExprKind::Null) {
                    self.auth.get_or_insert(Evidence {
                        module: m,
                        expr: value,
                    });
                }
            }
        });
        // `@app.middleware("http") async def check_api_key(request, call_next): ...`
        for d in &function.decorators {
            if let Some((callee, _)) = call_parts(d)
                && let ExprKind::Attr { name, .. } = &callee.kind
                && name == "middleware"
            {
                let text = strings_of(module, f).to_ascii_lowercase();
                if named_like(&function.name, AUTH_WORDS)
                    || ["authorization", "x-api-key", "api_key", "bearer"]
                        .iter()
                        .any(|w| text.contains(w))
                {
                    self.auth.get_or_insert(Evidence { module: m, expr: d });
                }
                if named_like(&function.name, ORIGIN_WORDS)
                    || text.contains("origin")
                    || text.contains("allowed_hosts")
                {
                    self.origin_check
                        .get_or_insert(Evidence { module: m, expr: d });
                }
            }
        }
        let mut calls = Vec::new();
        for_each_expr(module, f, &mut |e| {
            if matches!(e.kind, ExprKind::Call { .. }) {
                calls.push(e);
            }
        });
        for call in calls {
            self.call(module, m, call);
        }
    }

    fn is_receiver(&self, module: &Module, dotted: &str) -> bool {
        self.servers.iter().any(|s| {
            s.receiver_dotted().as_deref() == Some(dotted)
                || module.imports.iter().any(|i| {
                    i.local == dotted
                        && s.receiver_dotted()
                            .is_some_and(|r| i.path.rsplit('.').next() == Some(r.as_str()))
                })
        })
    }

    fn call(&mut self, module: &'a Module, m: usize, call: &'a Expr) {
        let Some((callee, args)) = call_parts(call) else {
            return;
        };
        let path = module.canonical(callee).unwrap_or_default();
        let method = match &callee.kind {
            ExprKind::Attr { name, .. } => name.as_str(),
            _ => "",
        };
        let receiver = match &callee.kind {
            ExprKind::Attr { object, .. } => object.dotted().unwrap_or_default(),
            _ => String::new(),
        };
        let host = call.keyword("host");
        let start = |what: String, builds_transport: bool| HttpStart {
            module: m,
            call,
            what,
            host,
            builds_transport,
        };
        match method {
            "run" | "run_async" if !path.starts_with("uvicorn") && !path.starts_with("asyncio") => {
                let transport = call
                    .keyword("transport")
                    .or_else(|| positional(args).next());
                if let Some(t) = transport.and_then(|t| transport_value(module, t))
                    && matches!(
                        t.as_str(),
                        "sse" | "streamable-http" | "streamable_http" | "http"
                    )
                {
                    self.http.push(start(
                        format!("{receiver}.{method}(transport=\"{t}\")"),
                        true,
                    ));
                    if let Some(h) = host {
                        self.hosts.push(host_setting(module, m, h));
                    }
                }
            }
            "run_sse_async" | "run_streamable_http_async" | "run_http_async" => {
                self.http.push(start(format!("{receiver}.{method}"), true));
                if let Some(h) = host {
                    self.hosts.push(host_setting(module, m, h));
                }
            }
            "sse_app" | "streamable_http_app" | "http_app" => {
                self.http.push(start(format!("{receiver}.{method}"), true));
            }
            _ => {}
        }
        match path.as_str() {
            "uvicorn.run" | "uvicorn.Config" | "hypercorn.Config" => {
                self.http.push(start(path.clone(), false));
                if let Some(h) = host {
                    self.hosts.push(host_setting(module, m, h));
                }
            }
            "mcp.server.sse.SseServerTransport"
            | "mcp.server.streamable_http_manager.StreamableHTTPSessionManager" => {
                let name = path.rsplit('.').next().unwrap_or(&path).to_string();
                self.http.push(start(name, true));
                if let Some(v) = call.keyword("security_settings") {
                    self.security_settings(module, m, v);
                }
            }
            _ => {}
        }
        if let Some(v) = call.keyword("transport_security") {
            self.security_settings(module, m, v);
        }
        // Middleware: `Middleware(Cls, ...)`, `app.add_middleware(Cls, ...)`,
        // `mcp.add_middleware(Cls(...))`, `Depends(verify_token)`.
        let last = path.rsplit('.').next().unwrap_or("");
        let named: Option<String> = if last == "Middleware" || method == "add_middleware" {
            args.first().and_then(|a| {
                let v = &a.value;
                call_parts(v)
                    .map(|(c, _)| c)
                    .unwrap_or(v)
                    .dotted()
                    .map(|d| module.resolve_dotted(&d))
            })
        } else if last == "Depends" || last == "Security" {
            args.first()
                .and_then(|a| a.value.dotted())
                .map(|d| module.resolve_dotted(&d))
        } else {
            None
        };
        if let Some(name) = named {
            let short = name.rsplit('.').next().unwrap_or(&name);
            if named_like(short, AUTH_WORDS) {
                self.auth.get_or_insert(Evidence {
                    module: m,
                    expr: call,
                });
            }
            if named_like(short, ORIGIN_WORDS) {
                self.origin_check.get_or_insert(Evidence {
                    module: m,
                    expr: call,
                });
            }
        }
    }

    /// `TransportSecuritySettings(...)`, passed directly or through a name.
    fn security_settings(&mut self, module: &'a Module, m: usize, value: &'a Expr) {
        if matches!(value.kind, ExprKind::Null) {
            return;
        }
        let settings = match &value.kind {
            ExprKind::Name(n) => module_binding(module, n).unwrap_or(value),
            _ => value,
        };
        if let Some(flag) = settings.keyword("enable_dns_rebinding_protection")
            && matches!(flag.kind, ExprKind::Bool(false))
        {
            self.origin_check_disabled.get_or_insert(DisabledCheck {
                module: m,
                expr: flag,
                what: "enable_dns_rebinding_protection=False",
            });
            return;
        }
        self.origin_check.get_or_insert(Evidence {
            module: m,
            expr: value,
        });
    }

    /// The SDK of the component's first server, if there is one.
    pub fn sdk(&self) -> Option<ServerSdk> {
        self.servers.first().map(|s| s.sdk)
    }

    /// Whether the SDK turns its DNS-rebinding protection on by itself: FastMCP of the MCP SDK
    /// (1.23 and later) and `MCPServer` do when the host the transport is built with is
    /// loopback, which is the default.
    pub fn sdk_protects(&self, s: &Structure<'_>) -> bool {
        let Some(server) = self.servers.first() else {
            return false;
        };
        let host_is_loopback = |e: Option<&Expr>, m: usize| {
            e.is_none_or(|e| host_setting(s.module(m), m, e).is_loopback())
        };
        match server.sdk {
            ServerSdk::McpFastMcp => host_is_loopback(server.call.keyword("host"), server.module),
            ServerSdk::McpServerV2 => self
                .http
                .iter()
                .filter(|h| h.builds_transport)
                .all(|h| host_is_loopback(h.host, h.module)),
            ServerSdk::Standalone | ServerSdk::LowLevel | ServerSdk::Node => false,
        }
    }

    /// Whether only this machine can connect: every host the server is given is loopback (none
    /// given is the Python SDKs' loopback default), and where it binds is known.
    pub fn loopback_only(&self) -> bool {
        !self.bind_unknown && self.hosts.iter().all(|h| h.is_loopback())
    }

    /// The place the server is described from in messages: `mcp`, or "the server".
    pub fn server_name(&self) -> String {
        self.servers
            .first()
            .and_then(|s| s.receiver_dotted())
            .map_or_else(|| "the server".to_string(), |r| format!("`{r}`"))
    }
}

fn host_setting<'a>(module: &Module, m: usize, e: &'a Expr) -> HostSetting<'a> {
    if let Some(v) = literal_str(module, e) {
        return HostSetting {
            module: m,
            expr: e,
            value: Some(v),
            from_env: false,
            implicit: None,
        };
    }
    // `HOST = os.getenv("HOST", "0.0.0.0")` at module level, then `host=HOST`.
    let lookup = match &e.kind {
        ExprKind::Name(n) => module_binding(module, n).unwrap_or(e),
        _ => e,
    };
    let default = env_default(module, lookup).and_then(|d| literal_str(module, d));
    HostSetting {
        module: m,
        expr: e,
        from_env: default.is_some(),
        value: default,
        implicit: None,
    }
}

/// `"sse"`, a constant holding it, or the default of an environment lookup.
fn transport_value(module: &Module, e: &Expr) -> Option<String> {
    let lookup = match &e.kind {
        ExprKind::Name(n) => module_binding(module, n).unwrap_or(e),
        _ => e,
    };
    literal_str(module, e)
        .or_else(|| env_default(module, lookup).and_then(|d| literal_str(module, d)))
}

/// The value a module-level name is assigned.
fn module_binding<'a>(module: &'a Module, name: &str) -> Option<&'a Expr> {
    module
        .functions
        .first()?
        .body
        .iter()
        .rev()
        .find_map(|s| match &s.kind {
            StmtKind::Assign {
                target: Pattern::Name(n, _),
                value,
            } if n == name => Some(value),
            _ => None,
        })
}

/// Every string literal in a function, joined: enough to see which headers it reads.
fn strings_of(module: &Module, f: FunctionId) -> String {
    let mut out = String::new();
    for_each_expr(module, f, &mut |e| {
        if let ExprKind::Str(s) = &e.kind {
            out.push_str(s);
            out.push(' ');
        }
    });
    out
}
