use crate::code::ir::Language;
use crate::code::structure::{ServerSdk, Structure};
use crate::code::transport::{Inert, Serving};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::registry::{Confidence, RuleMeta};
use crate::span::Span;

declare_rule! {
    /// ## What it does
    /// Finds MCP servers served over HTTP that validate neither the `Host` nor the `Origin`
    /// header:
    /// - FastMCP of the MCP Python SDK (1.23 and later) and SDK v2's `MCPServer` turn this
    ///   validation on by themselves when they are built with a loopback host, the default; with
    ///   `host="0.0.0.0"` they do not, unless `transport_security=TransportSecuritySettings(...)`
    ///   lists the allowed hosts and origins;
    /// - the standalone `fastmcp` package, the low-level `SseServerTransport` and
    ///   `StreamableHTTPSessionManager` without `security_settings=` validate nothing;
    /// - `TransportSecuritySettings(enable_dns_rebinding_protection=False)` turns it off;
    /// - the TypeScript SDK's `StreamableHTTPServerTransport` and `SSEServerTransport` validate
    ///   nothing unless built with `enableDnsRebindingProtection: true` and `allowedHosts` or
    ///   `allowedOrigins`: the lists alone are ignored, and the flag alone has nothing to compare
    ///   with. `enableDnsRebindingProtection: false` with no middleware is reported with high
    ///   confidence;
    /// - the TypeScript SDK's `createMcpExpressApp()` validates the Host header for its default
    ///   host `127.0.0.1` (or any loopback one) or when given `allowedHosts`; with
    ///   `host: "0.0.0.0"` and no `allowedHosts` it validates nothing.
    ///
    /// Middleware named like a Host or Origin check (`TrustedHostMiddleware`, `OriginMiddleware`,
    /// `hostHeaderValidation([...])`, `localhostHostValidation()`), an `@app.middleware("http")`
    /// function reading the `Origin` header, or a TypeScript function comparing
    /// `req.headers.origin` or `host` and answering 4xx counts as validation; CORS middleware
    /// does not, whatever its `origin` (it only decides what a browser may read back).
    ///
    /// ## Why is this bad?
    /// Through DNS rebinding, any web page the user opens can send requests to a server on their
    /// machine: the page's own host name is made to resolve to `127.0.0.1`, so the browser treats
    /// the server as same-origin and lets the page call its tools (CWE-1385, missing origin
    /// validation in WebSockets and their kin). The MCP specification requires servers to validate
    /// `Origin` on every connection for exactly this reason. Confidence is medium: which default
    /// applies depends on the SDK version installed, which the code does not say.
    ///
    /// ## Example
    /// ```python
    /// from fastmcp import FastMCP
    ///
    /// mcp = FastMCP("clipboard")
    ///
    /// @mcp.tool()
    /// def read_clipboard() -> str:
    ///     return "..."
    ///
    /// if __name__ == "__main__":
    ///     mcp.run(transport="http", host="127.0.0.1", port=8765)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from fastmcp import FastMCP
    /// from starlette.middleware import Middleware
    /// from starlette.middleware.trustedhost import TrustedHostMiddleware
    ///
    /// mcp = FastMCP("clipboard")
    ///
    /// @mcp.tool()
    /// def read_clipboard() -> str:
    ///     return "..."
    ///
    /// app = mcp.http_app(middleware=[
    ///     Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"]),
    /// ])
    /// ```
    /// With the MCP SDK's FastMCP, keep the default loopback host, or pass
    /// `transport_security=TransportSecuritySettings(allowed_hosts=[...], allowed_origins=[...])`
    /// naming the hosts and origins that may connect.
    ///
    /// ## References
    /// - [CWE-1385: Missing Origin Validation in WebSockets](https://cwe.mitre.org/data/definitions/1385.html)
    /// - [MCP: Transports, security warning](https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#security-warning)
    /// - [MCP Python SDK: transport security](https://github.com/modelcontextprotocol/python-sdk/blob/main/src/mcp/server/transport_security.py)
    /// - [Starlette: TrustedHostMiddleware](https://www.starlette.io/middleware/#trustedhostmiddleware)
    /// - [MCP TypeScript SDK (`createMcpExpressApp`, DNS rebinding protection)](https://github.com/modelcontextprotocol/typescript-sdk)
    pub static HTTP_TRANSPORT_WITHOUT_ORIGIN_CHECK = {
        code: "PC124",
        name: "http-transport-without-origin-check",
        summary: "An MCP server served over HTTP validates neither Host nor Origin",
        severity: Medium,
        confidence: Medium,
        cwe: [1385],
        target: Code,
    }
}

/// Why nothing validates the headers.
enum Why<'a> {
    /// `enable_dns_rebinding_protection=False`: the setting as written.
    Disabled(&'a str),
    /// The SDK's own protection is off because the host is not loopback.
    HostNotLoopback(&'a str),
    /// The SDK or transport has none.
    NoneInSdk(&'a str),
    /// A TypeScript SDK transport whose options check nothing, and no middleware does.
    Inert(Inert),
    /// A TypeScript SDK transport (named) built with no validation, and no middleware.
    NodeTransport(&'a str),
}

fn diagnostic(
    s: &Structure<'_>,
    serving: &Serving<'_>,
    module: usize,
    span: Span,
    why: Why<'_>,
) -> Diagnostic {
    let server = serving.server_name();
    let (message, confidence) = match why {
        Why::Disabled(what) => (
            format!(
                "{server} turns its Host and Origin validation off (`{what}`): any web page can reach its tools through DNS rebinding"
            ),
            Confidence::High,
        ),
        Why::HostNotLoopback(host) => (
            format!(
                "{server} is built with host `{host}`, so the SDK's Host and Origin validation stays off and no `transport_security=` sets it: a web page can reach its tools through DNS rebinding"
            ),
            Confidence::Medium,
        ),
        Why::NoneInSdk(what) => (
            format!(
                "{server} is served over HTTP through {what}, which validates neither Host nor Origin: a web page can reach its tools through DNS rebinding"
            ),
            Confidence::Medium,
        ),
        Why::Inert(Inert::Off) => (
            format!(
                "{server} turns its transport's Host and Origin validation off (`enableDnsRebindingProtection: false`) and no middleware validates them: any web page can reach its tools through DNS rebinding"
            ),
            Confidence::High,
        ),
        Why::Inert(Inert::ListsIgnored) => (
            format!(
                "{server} lists allowed hosts or origins for its transport without `enableDnsRebindingProtection: true`, so the SDK ignores them and validates neither Host nor Origin: a web page can reach its tools through DNS rebinding"
            ),
            Confidence::High,
        ),
        Why::Inert(Inert::NothingListed) => (
            format!(
                "{server} turns on `enableDnsRebindingProtection` with no `allowedHosts` or `allowedOrigins`, so the SDK has nothing to compare with and validates neither header: a web page can reach its tools through DNS rebinding"
            ),
            Confidence::High,
        ),
        Why::NodeTransport(what) => (
            format!(
                "{server} is served over HTTP through `{what}` with no Host or Origin validation (no `enableDnsRebindingProtection` with `allowedHosts`, no `createMcpExpressApp()` or host-checking middleware): a web page can reach its tools through DNS rebinding"
            ),
            Confidence::Medium,
        ),
    };
    let file = &s.module(module).file;
    let help = if s.module(module).language == Language::Python {
        "Pass `transport_security=TransportSecuritySettings(allowed_hosts=[...], allowed_origins=[...])` (MCP SDK), or add Host/Origin-checking middleware such as Starlette's `TrustedHostMiddleware`; answer a foreign `Origin` with 403."
    } else {
        "Build the app with the SDK's `createMcpExpressApp()` (it validates the Host header for a loopback host) or add `hostHeaderValidation([...])` middleware, or give the transport `enableDnsRebindingProtection: true` with `allowedHosts` and `allowedOrigins`; answer a foreign `Origin` with 403."
    };
    Diagnostic::new(&HTTP_TRANSPORT_WITHOUT_ORIGIN_CHECK, file, span, message)
        .with_help(help)
        .with_confidence(confidence)
}

pub struct Rule;

impl super::ProjectRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &HTTP_TRANSPORT_WITHOUT_ORIGIN_CHECK
    }

    fn check(&self, s: &Structure<'_>, out: &mut Vec<Diagnostic>) {
        for component in s.server_components() {
            let serving = Serving::of(s, component);
            let Some(start) = serving.http.first() else {
                continue;
            };
            if let Some(off) = &serving.origin_check_disabled {
                out.push(diagnostic(
                    s,
                    &serving,
                    off.module,
                    off.expr.span,
                    Why::Disabled(off.what),
                ));
                continue;
            }
            if serving.origin_check.is_some() || serving.sdk_protects(s) {
                continue;
            }
            if let Some(inert) = &serving.origin_check_inert {
                out.push(diagnostic(
                    s,
                    &serving,
                    inert.module,
                    inert.expr.span,
                    Why::Inert(inert.why),
                ));
                continue;
            }
            let why = if s.module(start.module).language != Language::Python {
                Why::NodeTransport(&start.what)
            } else {
                match serving.sdk() {
                    Some(ServerSdk::McpFastMcp | ServerSdk::McpServerV2) => {
                        let host = serving
                            .hosts
                            .iter()
                            .find(|h| !h.is_loopback())
                            .and_then(|h| h.value.as_deref())
                            .unwrap_or("a host read at run time");
                        Why::HostNotLoopback(host)
                    }
                    Some(ServerSdk::Standalone) => {
                        Why::NoneInSdk("the standalone `fastmcp` package")
                    }
                    Some(ServerSdk::LowLevel | ServerSdk::Node) | None => {
                        Why::NoneInSdk("a transport built without `security_settings=`")
                    }
                }
            };
            out.push(diagnostic(s, &serving, start.module, start.call.span, why));
        }
    }
}
