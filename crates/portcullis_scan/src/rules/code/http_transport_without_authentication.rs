use crate::code::ir::Language;
use crate::code::structure::Structure;
use crate::code::transport::{HttpStart, Serving};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::registry::{RuleMeta, Severity};

declare_rule! {
    /// ## What it does
    /// Finds MCP servers served over HTTP (`mcp.run(transport="streamable-http")`, `"sse"` or
    /// `"http"`, `mcp.streamable_http_app()`, `mcp.sse_app()`, `uvicorn.run`, the low-level
    /// `SseServerTransport` and `StreamableHTTPSessionManager`) with no authentication anywhere in
    /// the server's code: no `auth=`, `token_verifier=` or `auth_server_provider=` given to the
    /// server, no middleware or dependency named like authentication (`BearerAuthMiddleware`,
    /// `RequireAuthMiddleware`, `Depends(verify_api_key)`), no `@app.middleware("http")` function
    /// reading an `Authorization` or API-key header.
    ///
    /// In TypeScript and JavaScript: the SDK's `new StreamableHTTPServerTransport(...)` or
    /// `new SSEServerTransport(path, res)` (served by express, `http.createServer`, fastify or
    /// hono) with no `requireBearerAuth(...)` or `mcpAuthRouter(...)`, no middleware named like
    /// authentication registered with `app.use`, on the route or as a hook
    /// (`passport.authenticate("bearer")`, `expressjwt(...)`, `authenticate`), and no function
    /// reading the request's `Authorization` or API-key header (`req.headers.authorization`,
    /// `req.get("x-api-key")`). Middleware registered with `app.use` after the MCP route does not
    /// count: express runs middleware in registration order, so it never sees an MCP request.
    ///
    /// The finding is high when anything beyond the machine or a web page may reach the server
    /// (a host that is not loopback or cannot be told from the code, or no `Host`/`Origin`
    /// validation), and medium when it listens on loopback with that validation on: then only
    /// local processes can call it. Node's `app.listen(port)` with no host binds every
    /// interface, so a TypeScript server is medium only when `listen` is given a loopback host.
    ///
    /// ## Why is this bad?
    /// Whoever can send an HTTP request to the endpoint can list and call every tool with the
    /// server's rights: run its commands, read its files, use its API tokens (CWE-306, missing
    /// authentication for a critical function). The MCP specification says HTTP servers should
    /// authenticate every connection; on a shared network, in a container with a published port,
    /// or through DNS rebinding from a web page, "it only runs locally" does not hold.
    ///
    /// ## Example
    /// ```python
    /// import subprocess
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("deploy")
    ///
    /// @mcp.tool()
    /// def restart(service: str) -> str:
    ///     return subprocess.run(["systemctl", "restart", service], capture_output=True, text=True, timeout=30).stdout
    ///
    /// if __name__ == "__main__":
    ///     mcp.run(transport="streamable-http")
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import subprocess
    /// from mcp.server.auth.settings import AuthSettings
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// from .auth import IntrospectionTokenVerifier
    ///
    /// mcp = FastMCP(
    ///     "deploy",
    ///     token_verifier=IntrospectionTokenVerifier("https://auth.example.com/introspect"),
    ///     auth=AuthSettings(
    ///         issuer_url="https://auth.example.com",
    ///         resource_server_url="https://deploy.example.com/mcp",
    ///         required_scopes=["deploy"],
    ///     ),
    /// )
    ///
    /// @mcp.tool()
    /// def restart(service: str) -> str:
    ///     return subprocess.run(["systemctl", "restart", service], capture_output=True, text=True, timeout=30).stdout
    ///
    /// if __name__ == "__main__":
    ///     mcp.run(transport="streamable-http")
    /// ```
    /// Configure the SDK's authorization (a token verifier and `AuthSettings`), or put the app
    /// behind middleware that checks a bearer token. A server that only ever needs one local
    /// client is safer on stdio, which needs no authentication because nothing else can connect.
    ///
    /// ## References
    /// - [CWE-306: Missing Authentication for Critical Function](https://cwe.mitre.org/data/definitions/306.html)
    /// - [MCP: Authorization](https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization)
    /// - [MCP: Security Best Practices](https://modelcontextprotocol.io/specification/2025-06-18/basic/security_best_practices)
    /// - [MCP Python SDK: authentication](https://github.com/modelcontextprotocol/python-sdk#authentication)
    /// - [MCP TypeScript SDK (`requireBearerAuth`, server authorization)](https://github.com/modelcontextprotocol/typescript-sdk)
    pub static HTTP_TRANSPORT_WITHOUT_AUTHENTICATION = {
        code: "PC122",
        name: "http-transport-without-authentication",
        summary: "An MCP server is served over HTTP with no authentication",
        severity: High,
        confidence: Medium,
        cwe: [306],
        target: Code,
    }
}

fn diagnostic(
    s: &Structure<'_>,
    serving: &Serving<'_>,
    start: &HttpStart<'_>,
    local_only: bool,
) -> Diagnostic {
    let server = serving.server_name();
    let reach = if local_only {
        "any process on this machine"
    } else {
        "anyone who can reach it"
    };
    let message = format!(
        "{server} is served over HTTP (`{}`) with no authentication: {reach} can call its tools",
        start.what
    );
    let module = s.module(start.module);
    let help = if module.language == Language::Python {
        "Give the server a token verifier and `AuthSettings` (`FastMCP(..., token_verifier=..., auth=AuthSettings(...))`, or `auth=` in standalone FastMCP), or put the app behind bearer-token middleware; a server for one local client is safer on stdio."
    } else {
        "Put the MCP route behind the SDK's `requireBearerAuth({ verifier })` (`app.post(\"/mcp\", requireBearerAuth(...), handler)` or `app.use(...)` before the route), or middleware that checks the `Authorization` header and answers 401; a server for one local client is safer on stdio."
    };
    let d = Diagnostic::new(
        &HTTP_TRANSPORT_WITHOUT_AUTHENTICATION,
        &module.file,
        start.call.span,
        message,
    )
    .with_help(help);
    if local_only {
        d.with_severity(Severity::Medium)
    } else {
        d
    }
}

pub struct Rule;

impl super::ProjectRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &HTTP_TRANSPORT_WITHOUT_AUTHENTICATION
    }

    fn check(&self, s: &Structure<'_>, out: &mut Vec<Diagnostic>) {
        for component in s.server_components() {
            let serving = Serving::of(s, component);
            let Some(start) = serving.http.first() else {
                continue;
            };
            if serving.auth.is_some() {
                continue;
            }
            // Only local processes can reach it when every host it is given is loopback (none
            // given is the Python SDKs' loopback default; Node binds every interface) and
            // Host/Origin validation keeps web pages out.
            let loopback = serving.loopback_only();
            let validated = (serving.origin_check.is_some() || serving.sdk_protects(s))
                && serving.origin_check_disabled.is_none();
            out.push(diagnostic(s, &serving, start, validated && loopback));
        }
    }
}
