//! The TypeScript/JavaScript half of [`Serving`]: servers built on the official SDK and served
//! by express, Node's `http`, fastify or hono.
//!
//! - HTTP starts where the SDK's transport is built: `new StreamableHTTPServerTransport({...})`,
//!   `new SSEServerTransport(path, res)` (and v2's `NodeStreamableHTTPServerTransport`,
//!   `WebStandardStreamableHTTPServerTransport`). Those are what make an MCP server speak HTTP;
//!   an express app of a stdio server (a health page) is not.
//! - The host is what `listen` binds: `app.listen(port, host)`, `server.listen({ host, port })`,
//!   hono's `serve({ fetch, hostname })`. With no host, Node binds every interface (`::`) and
//!   fastify binds `localhost`; those defaults are recorded as implicit hosts.
//! - Host/Origin validation: the transport's `enableDnsRebindingProtection: true` with
//!   `allowedHosts`/`allowedOrigins` (the SDK checks nothing without both), the app helpers
//!   `createMcpExpressApp()` (loopback host or `allowedHosts`: they install host validation),
//!   middleware named like a Host check (`hostHeaderValidation`, `localhostHostValidation`), or
//!   a function that compares the `Origin` or `Host` header and answers 4xx. CORS is not one.
//! - Authentication: middleware registered with `use`, on a route or as a hook, named like
//!   authentication (`requireBearerAuth`, `passport.authenticate`, `expressjwt`, `authenticate`),
//!   or any function reading the `Authorization` or an API-key header of a request.
//!
//! The trade-off is the module's: names and shapes, not types. A `listen` counts on an object
//! built by express, `http.createServer`, fastify or koa, or, when the receiver cannot be
//! traced, in a module that imports one of them.

use std::collections::{HashMap, HashSet};

use super::{AUTH_WORDS, Evidence, HostSetting, HttpStart, Inert, InertCheck, ORIGIN_WORDS};
use super::{Serving, named_like};
use crate::code::ir::{
    Expr, ExprKind, FunctionId, Module, Pattern, StmtKind, each_stmt, walk_expr,
};
use crate::code::structure::{Bindings, call_parts, for_each_expr, positional, strip_await};

/// The SDK's HTTP server transports (v1 `@modelcontextprotocol/sdk`, v2 packages).
const TRANSPORTS: &[&str] = &[
    "StreamableHTTPServerTransport",
    "SSEServerTransport",
    "NodeStreamableHTTPServerTransport",
    "WebStandardStreamableHTTPServerTransport",
];

/// The SDK's app helpers that install Host validation by themselves for a loopback host.
const APP_HELPERS: &[&str] = &[
    "createMcpExpressApp",
    "createMcpFastifyApp",
    "createMcpHonoApp",
];

/// Methods that register middleware or a route handler.
const REGISTRATIONS: &[&str] = &[
    "use", "all", "get", "post", "put", "delete", "patch", "route", "addHook", "register",
];

/// Whether a call registers middleware or a route: `use` and `register` take anything; a route
/// method (`get`, `post`, `delete`, ...) and `addHook` take a path or hook name first, which
/// tells `app.get("/mcp", auth, handler)` from `tokens.get(token)` and `sessions.delete(id)`.
fn is_registration(method: &str, args: &[crate::code::ir::Arg]) -> bool {
    if !REGISTRATIONS.contains(&method) {
        return false;
    }
    if matches!(method, "use" | "register") {
        return true;
    }
    positional(args)
        .next()
        .is_some_and(|a| matches!(a.kind, ExprKind::Str(_) | ExprKind::Template(_)))
}

/// What serves the app, which decides what `listen` binds when given no host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framework {
    /// Node's `http.Server` and what wraps it (express, koa, connect): every interface.
    NodeHttp,
    /// Fastify: `localhost`.
    Fastify,
}

impl Framework {
    fn default_host(self) -> &'static str {
        match self {
            Framework::NodeHttp => "::",
            Framework::Fastify => "localhost",
        }
    }
}

/// The framework an app or server constructor's canonical path builds.
fn framework(path: &str) -> Option<Framework> {
    let last = path.rsplit('.').next().unwrap_or("");
    if path.starts_with("@modelcontextprotocol") {
        return match last {
            "createMcpExpressApp" => Some(Framework::NodeHttp),
            "createMcpFastifyApp" => Some(Framework::Fastify),
            _ => None,
        };
    }
    match path {
        "express"
        | "express.default"
        | "koa"
        | "connect"
        | "polka"
        | "http.createServer"
        | "https.createServer"
        | "http2.createServer"
        | "http2.createSecureServer"
        | "@hono.node-server.createAdaptorServer" => Some(Framework::NodeHttp),
        "fastify" | "fastify.default" | "fastify.fastify" => Some(Framework::Fastify),
        _ => None,
    }
}

/// What names and attributes were bound to: per function for names (through [`Bindings`]),
/// and anywhere in the module for `this.app`, which is assigned in one method and used in
/// another.
struct Values<'a> {
    bindings: Bindings<'a>,
    anywhere: HashMap<String, Vec<&'a Expr>>,
}

impl<'a> Values<'a> {
    fn new(module: &'a Module) -> Self {
        let mut anywhere: HashMap<String, Vec<&'a Expr>> = HashMap::new();
        for function in &module.functions {
            each_stmt(&function.body, &mut |st| {
                if let StmtKind::Assign { target, value } = &st.kind
                    && let Some(d) = crate::code::structure::pattern_dotted(target)
                {
                    anywhere.entry(d).or_default().push(strip_await(value));
                }
            });
        }
        Values {
            bindings: Bindings::new(module),
            anywhere,
        }
    }

    fn of(&self, f: FunctionId, dotted: &str) -> Option<&'a Expr> {
        self.bindings
            .values(f, dotted)
            .last()
            .copied()
            .or_else(|| self.anywhere.get(dotted).and_then(|v| v.last().copied()))
    }

    /// What an expression holds, following names (`HOST`), attributes (`this.app`) and keys of
    /// object literals (`config.host`) a few steps.
    fn resolve(&self, f: FunctionId, e: &'a Expr) -> &'a Expr {
        let mut current = strip_await(e);
        for _ in 0..4 {
            let next = match &current.kind {
                ExprKind::Name(_) | ExprKind::Attr { .. } => {
                    current.dotted().and_then(|d| self.of(f, &d)).or_else(|| {
                        let ExprKind::Attr { object, name, .. } = &current.kind else {
                            return None;
                        };
                        let object = object.dotted().and_then(|d| self.of(f, &d))?;
                        map_get(object, name)
                    })
                }
                _ => None,
            };
            match next {
                Some(n) if !std::ptr::eq(n, current) => current = strip_await(n),
                _ => break,
            }
        }
        current
    }
}

/// The value of key `key` in an object literal.
fn map_get<'a>(e: &'a Expr, key: &str) -> Option<&'a Expr> {
    let ExprKind::Map(entries) = &e.kind else {
        return None;
    };
    entries
        .iter()
        .rev()
        .find(|(k, _)| k.as_ref().and_then(Expr::as_str) == Some(key))
        .map(|(_, v)| v)
}

/// An object literal with a spread (`{ ...defaults, port }`) may hold any key.
fn has_spread(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Map(entries) if entries.iter().any(|(k, _)| k.is_none()))
}

pub(super) fn scan_module<'a>(serving: &mut Serving<'a>, module: &'a Module, m: usize) {
    let values = Values::new(module);
    // `app = express()`, `this.server = http.createServer(app)`: what each name serves with.
    let mut apps: HashMap<String, Framework> = HashMap::new();
    for (name, vs) in &values.anywhere {
        if let Some(fw) = vs.iter().find_map(|v| {
            let (callee, _) = call_parts(v)?;
            framework(&module.canonical(callee)?)
        }) {
            apps.insert(name.clone(), fw);
        }
    }
    // A receiver that cannot be traced (an app passed in as a parameter) is believed to be an
    // HTTP server when the module imports a framework.
    let imported = module
        .imports
        .iter()
        .filter_map(|i| framework(&i.path).or_else(|| imported_framework(&i.path)))
        .fold(None, |acc: Option<Framework>, fw| match acc {
            Some(Framework::NodeHttp) => acc,
            _ => Some(fw),
        });
    let mut context = Context {
        module,
        m,
        values: &values,
        apps: &apps,
        imported,
        late: HashSet::new(),
        late_functions: HashSet::new(),
    };
    context.find_late_middleware();
    for (f, call) in module.calls() {
        context.call(serving, f, call);
    }
    for f in 0..module.functions.len() {
        context.header_checks(serving, f);
    }
}

/// Whether a function serves MCP itself: builds a transport or hands it the request.
fn serves_mcp(module: &Module, f: FunctionId) -> bool {
    let mut found = false;
    for_each_expr(module, f, &mut |e| {
        if let Some((callee, _)) = call_parts(e) {
            found |= match &callee.kind {
                ExprKind::Attr { name, .. } => {
                    matches!(name.as_str(), "handleRequest" | "handlePostMessage")
                }
                _ => module
                    .canonical(callee)
                    .is_some_and(|p| TRANSPORTS.iter().any(|t| p.ends_with(t))),
            };
        }
    });
    found
}

/// The module function an argument names: an inline function, or one defined by name.
fn function_of(module: &Module, e: &Expr) -> Option<FunctionId> {
    match &e.kind {
        ExprKind::Function(id) => Some(*id),
        ExprKind::Name(n) => module
            .functions
            .iter()
            .position(|f| f.class.is_none() && &f.name == n),
        _ => None,
    }
}

/// A framework an import names without being a constructor call's path (`import http from
/// "node:http"`, `import { Hono } from "hono"`).
fn imported_framework(path: &str) -> Option<Framework> {
    let root = path.split('.').next().unwrap_or("");
    match root {
        "express" | "http" | "https" | "http2" | "koa" | "connect" | "polka" => {
            Some(Framework::NodeHttp)
        }
        "fastify" => Some(Framework::Fastify),
        _ if path.starts_with("@hono.node-server") => Some(Framework::NodeHttp),
        _ => None,
    }
}

struct Context<'a, 'v> {
    module: &'a Module,
    m: usize,
    values: &'v Values<'a>,
    apps: &'v HashMap<String, Framework>,
    imported: Option<Framework>,
    /// `app.use(...)` calls (by span start) registered after the MCP route on the same app in
    /// the same function: express runs middleware in registration order, so they never see an
    /// MCP request.
    late: HashSet<usize>,
    /// The functions those calls register.
    late_functions: HashSet<FunctionId>,
}

impl<'a> Context<'a, '_> {
    fn find_late_middleware(&mut self) {
        let module = self.module;
        let mut routes: Vec<(FunctionId, String, usize)> = Vec::new();
        let mut uses: Vec<(FunctionId, String, &Expr)> = Vec::new();
        for (f, call) in module.calls() {
            let Some((callee, args)) = call_parts(call) else {
                continue;
            };
            let ExprKind::Attr { object, name, .. } = &callee.kind else {
                continue;
            };
            let Some(receiver) = object.dotted() else {
                continue;
            };
            if !is_registration(name, args) {
                continue;
            }
            let mcp = args
                .iter()
                .filter_map(|a| function_of(module, &a.value))
                .any(|g| serves_mcp(module, g));
            if mcp {
                routes.push((f, receiver.clone(), call.span.start));
            } else if name == "use" {
                uses.push((f, receiver, call));
            }
        }
        for (f, receiver, call) in uses {
            let late = routes
                .iter()
                .any(|(rf, rr, start)| *rf == f && *rr == receiver && *start < call.span.start);
            if late && let Some((_, args)) = call_parts(call) {
                self.late.insert(call.span.start);
                self.late_functions
                    .extend(args.iter().filter_map(|a| function_of(module, &a.value)));
            }
        }
    }

    fn call(&self, serving: &mut Serving<'a>, f: FunctionId, call: &'a Expr) {
        let Some((callee, args)) = call_parts(call) else {
            return;
        };
        let path = self.module.canonical(callee).unwrap_or_default();
        let last = path.rsplit('.').next().unwrap_or("");
        let sdk = path.starts_with("@modelcontextprotocol");
        if sdk && TRANSPORTS.contains(&last) {
            serving.http.push(HttpStart {
                module: self.m,
                call,
                what: last.to_string(),
                host: None,
                builds_transport: true,
            });
            // `new SSEServerTransport(endpoint, res, options)`, `new StreamableHTTP...(options)`.
            let options = if last == "SSEServerTransport" {
                positional(args).nth(2)
            } else {
                positional(args).next()
            };
            if let Some(o) = options {
                self.transport_options(serving, self.values.resolve(f, o));
            }
            return;
        }
        if sdk && APP_HELPERS.contains(&last) {
            if self.app_helper_protects(f, args) {
                serving.origin_check.get_or_insert(Evidence {
                    module: self.m,
                    expr: call,
                });
            }
            return;
        }
        if path == "@hono.node-server.serve" {
            let options = positional(args).next().map(|o| self.values.resolve(f, o));
            self.bind(
                serving,
                f,
                callee,
                Framework::NodeHttp,
                options,
                "hostname",
                None,
            );
            return;
        }
        let ExprKind::Attr { object, name, .. } = &callee.kind else {
            return;
        };
        if name == "listen" {
            if let Some(fw) = self.receiver_framework(object) {
                self.listen(serving, f, callee, fw, args);
            }
            return;
        }
        if is_registration(name, args) && !self.late.contains(&call.span.start) {
            for arg in args.iter().filter(|a| !a.spread) {
                self.middleware(serving, f, &arg.value);
            }
        }
    }

    /// What the object `listen` is called on serves with.
    fn receiver_framework(&self, object: &Expr) -> Option<Framework> {
        let object = strip_await(object);
        if let Some((callee, _)) = call_parts(object) {
            // `express().listen(...)`, `http.createServer(app).listen(...)`.
            if let Some(fw) = self.module.canonical(callee).and_then(|p| framework(&p)) {
                return Some(fw);
            }
        }
        if let Some(fw) = object.dotted().and_then(|d| self.apps.get(&d)) {
            return Some(*fw);
        }
        self.imported
    }

    /// `listen(port)`, `listen(port, host, cb)`, `listen({ port, host })`, `listen(cb)`;
    /// `listen("/run/app.sock")` binds a socket file, no interface.
    fn listen(
        &self,
        serving: &mut Serving<'a>,
        f: FunctionId,
        callee: &'a Expr,
        fw: Framework,
        args: &'a [crate::code::ir::Arg],
    ) {
        let mut given = positional(args);
        let first = given.next().map(|e| self.values.resolve(f, e));
        match first.map(|e| &e.kind) {
            Some(ExprKind::Map(_)) => {
                if first.and_then(|o| map_get(o, "path")).is_some() {
                    return;
                }
                self.bind(serving, f, callee, fw, first, "host", None);
            }
            Some(ExprKind::Str(s)) if s.trim().parse::<u16>().is_err() => {}
            Some(ExprKind::Function(_)) | None => {
                self.bind(serving, f, callee, fw, None, "host", None);
            }
            Some(_) => {
                let host = given.next().filter(|h| {
                    !matches!(
                        self.values.resolve(f, h).kind,
                        ExprKind::Function(_) | ExprKind::Num(_)
                    )
                });
                self.bind(serving, f, callee, fw, None, "host", host);
            }
        }
    }

    /// Records the host a bind uses: `host` given positionally, the `key` of an options
    /// object, or the framework's default.
    #[allow(clippy::too_many_arguments)]
    fn bind(
        &self,
        serving: &mut Serving<'a>,
        f: FunctionId,
        callee: &'a Expr,
        fw: Framework,
        options: Option<&'a Expr>,
        key: &str,
        host: Option<&'a Expr>,
    ) {
        if options.is_some_and(|o| !matches!(o.kind, ExprKind::Map(_))) {
            // Options the code builds elsewhere: the host cannot be told.
            serving.hosts.push(HostSetting {
                module: self.m,
                expr: callee,
                value: None,
                from_env: false,
                implicit: None,
            });
            return;
        }
        let host = host.or_else(|| options.and_then(|o| map_get(o, key)));
        match host {
            Some(h) => serving.hosts.push(self.host_setting(f, h)),
            None if options.is_some_and(has_spread) => serving.hosts.push(HostSetting {
                module: self.m,
                expr: callee,
                value: None,
                from_env: false,
                implicit: None,
            }),
            None => serving.hosts.push(HostSetting {
                module: self.m,
                expr: callee,
                value: Some(fw.default_host().to_string()),
                from_env: false,
                implicit: Some(callee.dotted().unwrap_or_else(|| "listen".to_string())),
            }),
        }
    }

    /// A host as written: a literal, a constant, `process.env.HOST ?? "127.0.0.1"`.
    fn host_setting(&self, f: FunctionId, e: &'a Expr) -> HostSetting<'a> {
        let resolved = self.values.resolve(f, e);
        let (value, from_env) = match &resolved.kind {
            ExprKind::Str(s) => (Some(s.clone()), false),
            ExprKind::Logical { values, .. } => {
                let default = values
                    .last()
                    .map(|d| self.values.resolve(f, d))
                    .and_then(Expr::as_str);
                let env = values
                    .first()
                    .is_some_and(|v| is_env_read(self.values.resolve(f, v)));
                match default {
                    Some(d) if env && values.len() >= 2 => (Some(d.to_string()), true),
                    _ => (None, false),
                }
            }
            _ => (None, false),
        };
        HostSetting {
            module: self.m,
            expr: e,
            value,
            from_env,
            implicit: None,
        }
    }

    /// The transport's own Host/Origin validation: on only with `enableDnsRebindingProtection`
    /// and a list to compare with (SDK v1's `validateRequestHeaders`).
    fn transport_options(&self, serving: &mut Serving<'a>, options: &'a Expr) {
        if !matches!(options.kind, ExprKind::Map(_)) {
            return;
        }
        let enable = map_get(options, "enableDnsRebindingProtection");
        let lists: Vec<&Expr> = ["allowedHosts", "allowedOrigins"]
            .iter()
            .filter_map(|k| map_get(options, k))
            .collect();
        let listed = lists.iter().any(|l| {
            !matches!(&l.kind, ExprKind::Null)
                && !matches!(&l.kind, ExprKind::Seq(v) if v.is_empty())
        });
        let inert = |expr: &'a Expr, why: Inert| InertCheck {
            module: self.m,
            expr,
            why,
        };
        match enable {
            Some(e) if matches!(e.kind, ExprKind::Bool(false)) => {
                serving
                    .origin_check_inert
                    .get_or_insert(inert(e, Inert::Off));
            }
            Some(e) if listed => {
                serving.origin_check.get_or_insert(Evidence {
                    module: self.m,
                    expr: e,
                });
            }
            Some(e) => {
                serving
                    .origin_check_inert
                    .get_or_insert(inert(e, Inert::NothingListed));
            }
            None if has_spread(options) => {}
            None => {
                if let Some(l) = lists.first() {
                    serving
                        .origin_check_inert
                        .get_or_insert(inert(l, Inert::ListsIgnored));
                }
            }
        }
    }

    /// `createMcpExpressApp()` installs `localhostHostValidation()` for its default host
    /// (`127.0.0.1`) or any loopback one, and `hostHeaderValidation(allowedHosts)` when given
    /// the list; for `0.0.0.0` without a list it validates nothing.
    fn app_helper_protects(&self, f: FunctionId, args: &'a [crate::code::ir::Arg]) -> bool {
        let Some(options) = positional(args).next().map(|o| self.values.resolve(f, o)) else {
            return true;
        };
        if !matches!(options.kind, ExprKind::Map(_)) {
            return false;
        }
        if map_get(options, "allowedHosts").is_some() {
            return true;
        }
        match map_get(options, "host") {
            Some(h) => self.host_setting(f, h).is_loopback(),
            None => !has_spread(options),
        }
    }

    /// A middleware or route argument: `requireBearerAuth({...})`, `authenticate`,
    /// `hostHeaderValidation([...])`, or a name bound to one of those.
    fn middleware(&self, serving: &mut Serving<'a>, f: FunctionId, arg: &'a Expr) {
        let resolved = self.values.resolve(f, arg);
        let mut names: Vec<String> = Vec::new();
        for e in [arg, resolved] {
            let named = call_parts(e).map_or(e, |(callee, _)| callee);
            if let Some(d) = self.module.canonical(named) {
                names.push(d.rsplit('.').next().unwrap_or(&d).to_string());
            }
        }
        // CORS decides what a browser may read back; the request still reaches the tools.
        if names
            .iter()
            .any(|n| n.to_ascii_lowercase().contains("cors"))
        {
            return;
        }
        if names.iter().any(|n| named_like(n, AUTH_WORDS)) {
            serving.auth.get_or_insert(Evidence {
                module: self.m,
                expr: arg,
            });
        }
        if names.iter().any(|n| named_like(n, ORIGIN_WORDS)) {
            serving.origin_check.get_or_insert(Evidence {
                module: self.m,
                expr: arg,
            });
        }
    }

    /// Reads of request headers in one function: the `Authorization` or an API-key header is
    /// authentication; the `Origin` or `Host` header compared with something, in a function
    /// that answers 4xx, is Host/Origin validation.
    fn header_checks(&self, serving: &mut Serving<'a>, f: FunctionId) {
        let Some(function) = self.module.functions.get(f) else {
            return;
        };
        // `const origin = req.headers.origin`, `const { origin } = req.headers`.
        let mut bound: HashSet<&str> = HashSet::new();
        each_stmt(&function.body, &mut |st| {
            let StmtKind::Assign { target, value } = &st.kind else {
                return;
            };
            match target {
                Pattern::Name(n, _)
                    if header_value(value).is_some_and(|h| is_origin_header(&h)) =>
                {
                    bound.insert(n);
                }
                Pattern::Object(keys) if is_headers(strip_await(value)) => {
                    for (key, p) in keys {
                        let inner = match p {
                            Pattern::Default(inner, _) => inner.as_ref(),
                            other => other,
                        };
                        if is_origin_header(&key.to_ascii_lowercase())
                            && let Pattern::Name(n, _) = inner
                        {
                            bound.insert(n);
                        }
                    }
                }
                _ => {}
            }
        });
        let mut rejects = false;
        let mut compared: Option<&'a Expr> = None;
        let late = self.late_functions.contains(&f);
        for_each_expr(self.module, f, &mut |e| {
            if let Some(h) = header_read(e)
                && is_auth_header(&h)
                && !late
            {
                serving.auth.get_or_insert(Evidence {
                    module: self.m,
                    expr: e,
                });
            }
            match &e.kind {
                ExprKind::Num(n) if matches!(n.as_str(), "400" | "401" | "403" | "421") => {
                    rejects = true;
                }
                ExprKind::Compare { .. } if compared.is_none() => {
                    let mut hit = false;
                    walk_expr(e, &mut |x| {
                        hit |= header_read(x).is_some_and(|h| is_origin_header(&h))
                            || matches!(&x.kind, ExprKind::Name(n) if bound.contains(n.as_str()));
                    });
                    if hit {
                        compared = Some(e);
                    }
                }
                _ => {}
            }
        });
        if rejects
            && !late
            && let Some(e) = compared
        {
            serving.origin_check.get_or_insert(Evidence {
                module: self.m,
                expr: e,
            });
        }
    }
}

/// `process.env.HOST`, `process.env["HOST"]`, `Bun.env.HOST`, `Deno.env.get("HOST")`.
fn is_env_read(e: &Expr) -> bool {
    let base = match &e.kind {
        ExprKind::Subscript { object, .. } => object.dotted(),
        ExprKind::Attr { object, .. } => object.dotted(),
        ExprKind::Call { callee, .. } => callee
            .dotted()
            .and_then(|d| d.strip_suffix(".get").map(str::to_string)),
        _ => None,
    };
    base.is_some_and(|b| {
        matches!(
            b.as_str(),
            "process.env" | "Bun.env" | "Deno.env" | "import.meta.env"
        )
    })
}

/// `req.headers`, `request.headers`, `headers`.
fn is_headers(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Attr { name, .. } => name == "headers",
        ExprKind::Name(n) => n == "headers",
        _ => false,
    }
}

/// The header a request header read names, lowercased: `req.headers.authorization`,
/// `req.headers["x-api-key"]`, `request.headers.get("origin")`, `req.header("Authorization")`,
/// `req.get("origin")`, `c.req.header("authorization")`.
fn header_read(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Attr { object, name, .. } if is_headers(object) => {
            Some(name.to_ascii_lowercase())
        }
        ExprKind::Subscript { object, index } if is_headers(object) => {
            index.as_str().map(str::to_ascii_lowercase)
        }
        ExprKind::Call { callee, args, .. } if args.len() == 1 => {
            let ExprKind::Attr { object, name, .. } = &callee.kind else {
                return None;
            };
            let request = object.dotted().is_some_and(|d| {
                let last = d.rsplit('.').next().unwrap_or("");
                matches!(last, "req" | "request")
            });
            let reads = name == "header" || (name == "get" && (is_headers(object) || request));
            if reads {
                args[0].value.as_str().map(str::to_ascii_lowercase)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The header a value holds as it is: a read, with a default (`?? ""`) or normalised
/// (`.toLowerCase()`). A value merely built from one (`new URL(..., req.headers.host)`) is not.
fn header_value(e: &Expr) -> Option<String> {
    let mut current = strip_await(e);
    for _ in 0..8 {
        if let Some(h) = header_read(current) {
            return Some(h);
        }
        current = match &current.kind {
            ExprKind::Logical { values, .. } => values.first()?,
            ExprKind::Call { callee, .. } => match &callee.kind {
                ExprKind::Attr { object, name, .. }
                    if matches!(name.as_str(), "toLowerCase" | "trim" | "toString") =>
                {
                    object
                }
                _ => return None,
            },
            _ => return None,
        };
    }
    None
}

fn is_auth_header(h: &str) -> bool {
    h == "authorization"
        || h == "proxy-authorization"
        || h.contains("api-key")
        || h.contains("apikey")
        || h.contains("api_key")
        || h.contains("token")
        || h.starts_with("x-auth")
}

fn is_origin_header(h: &str) -> bool {
    matches!(h, "origin" | "host")
}
