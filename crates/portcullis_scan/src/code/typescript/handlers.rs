//! Finding MCP handlers in a lowered TypeScript/JavaScript module, the ways the SDKs register
//! them:
//! - the official SDK's `McpServer`: `server.tool(name, [description], [schema], [annotations],
//!   cb)`, `server.registerTool(name, { inputSchema, ... }, cb)`, `prompt`/`registerPrompt`,
//!   `resource`/`registerResource` (a `ResourceTemplate`'s variables are model-chosen);
//! - its low-level `Server`: `server.setRequestHandler(CallToolRequestSchema, async (request)
//!   => ...)`, one function for every tool, dispatching on `request.params.name`;
//! - FastMCP for TypeScript: `server.addTool({ name, parameters, execute })`.
//!
//! The callback may be written inline, named (`handleRead`, a function or a `const` arrow of
//! the module, or a method: `this.handleRead.bind(this)`), or imported from another module.
//! An imported callback gets a small synthetic handler here that calls it, so the engine's
//! cross-module summaries carry the flow, and the handler is still a function of this module.
//!
//! The zod shape of a tool's schema (inline, `z.object({...})`, or a module constant) becomes
//! the annotation of the callback's arguments parameter: the engine reads which fields are
//! closed types (`z.number()`, `z.enum([...])`) or restricted by a pattern.
//!
//! The trade-off is recall: a receiver counts when the file imports an MCP SDK or the receiver
//! is named like a server (`server`, `mcp`, `this.server`).

use std::collections::HashSet;

use crate::code::ir::{
    Arg, Expr, ExprKind, Function, FunctionId, Handler, HandlerKind, Module, Param, ParamKind,
    Pattern, Stmt, StmtKind,
};
use crate::span::Span;

/// How forwarders made for imported callbacks are named.
const SYNTHETIC: &str = "<registered ";

/// What a registration found: the callback and how to read it.
struct Found {
    callback: Expr,
    kind: HandlerKind,
    name: Option<String>,
    span: Span,
    schema: Option<Expr>,
    /// Parameters of the callback that carry model-chosen values.
    tainted: Vec<usize>,
    /// The function the registration is in (for `this.method` callbacks).
    site: FunctionId,
}

pub(super) fn detect(module: &mut Module) {
    let sdk_imported = module.imports.iter().any(|i| {
        i.path.starts_with("@modelcontextprotocol")
            || i.path.starts_with("fastmcp")
            || i.path.starts_with("mcp-framework")
    });
    let mut found = Vec::new();
    for (site, call) in module.calls() {
        if let Some(f) = registration(module, site, call, sdk_imported) {
            found.push(f);
        }
    }
    let mut seen: HashSet<(FunctionId, u8)> = HashSet::new();
    for f in found {
        let Some(function) = callback_function(module, &f) else {
            continue;
        };
        if !seen.insert((function, f.kind as u8)) {
            continue;
        }
        let params = module
            .functions
            .get(function)
            .map(|x| x.params.len())
            .unwrap_or(0);
        let tainted: Vec<usize> = f.tainted.iter().copied().filter(|&i| i < params).collect();
        if let Some(shape) = f.schema.as_ref().and_then(|s| shape_of(module, s, 0))
            && let Some(p) = module
                .functions
                .get_mut(function)
                .and_then(|x| x.params.first_mut())
        {
            // The schema is what the SDK enforces; a TypeScript type on the callback is not
            // checked at run time.
            p.annotation = Some(shape);
        }
        let imported_callback = module
            .functions
            .get(function)
            .is_some_and(|x| x.name.starts_with(SYNTHETIC));
        module.handlers.push(Handler {
            function,
            kind: f.kind,
            name: f.name,
            span: f.span,
            tainted_params: tainted,
            imported_callback,
        });
    }
}

fn positional(args: &[Arg]) -> Vec<&Expr> {
    args.iter()
        .filter(|a| a.name.is_none() && !a.spread)
        .map(|a| &a.value)
        .collect()
}

fn map_get<'e>(map: &'e Expr, key: &str) -> Option<&'e Expr> {
    match &map.kind {
        ExprKind::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_ref().and_then(Expr::as_str) == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn looks_like_server(receiver: &Expr) -> bool {
    let text = match &receiver.kind {
        ExprKind::Name(n) => n.to_ascii_lowercase(),
        ExprKind::Attr { name, .. } => name.to_ascii_lowercase(),
        _ => return false,
    };
    text.contains("server") || text.contains("mcp")
}

fn registration(module: &Module, site: FunctionId, call: &Expr, sdk: bool) -> Option<Found> {
    let ExprKind::Call { callee, args, .. } = &call.kind else {
        return None;
    };
    let ExprKind::Attr { object, name, .. } = &callee.kind else {
        return None;
    };
    if !sdk && !looks_like_server(object) {
        return None;
    }
    let pos = positional(args);
    let found = |callback: &Expr, kind, name: Option<String>, schema: Option<Expr>, tainted| {
        Some(Found {
            callback: callback.clone(),
            kind,
            name,
            span: call.span,
            schema,
            tainted,
            site,
        })
    };
    match name.as_str() {
        "tool" | "prompt" => {
            let tool_name = pos.first()?.as_str()?.to_string();
            let callback = *pos.last()?;
            if pos.len() < 2 || !is_callable(callback) {
                return None;
            }
            // The schema is the first argument between the name and the callback that is not
            // a description.
            let schema = pos[1..pos.len() - 1]
                .iter()
                .find(|e| e.as_str().is_none())
                .map(|e| (*e).clone());
            let tainted = if schema.is_some() { vec![0] } else { vec![] };
            let kind = if name == "tool" {
                HandlerKind::Tool
            } else {
                HandlerKind::Prompt
            };
            found(callback, kind, Some(tool_name), schema, tainted)
        }
        "registerTool" | "registerPrompt" => {
            let tool_name = pos.first()?.as_str()?.to_string();
            let callback = *pos.last()?;
            if pos.len() < 3 || !is_callable(callback) {
                return None;
            }
            let key = if name == "registerTool" {
                "inputSchema"
            } else {
                "argsSchema"
            };
            let config = resolve_name(module, pos[1]);
            let schema = map_get(config, key).cloned();
            let tainted = if schema.is_some() { vec![0] } else { vec![] };
            let kind = if name == "registerTool" {
                HandlerKind::Tool
            } else {
                HandlerKind::Prompt
            };
            found(callback, kind, Some(tool_name), schema, tainted)
        }
        "resource" | "registerResource" => {
            let res_name = pos.first()?.as_str().map(str::to_string);
            let callback = *pos.last()?;
            if pos.len() < 3 || !is_callable(callback) {
                return None;
            }
            // A fixed URI gives the model nothing to choose; a template's variables it does.
            let tainted = if pos[1].as_str().is_some() {
                vec![]
            } else {
                vec![0, 1]
            };
            found(callback, HandlerKind::Resource, res_name, None, tainted)
        }
        "setRequestHandler" => {
            let schema = pos.first()?.dotted()?;
            let last = schema.rsplit('.').next().unwrap_or(&schema);
            let kind = match last {
                "CallToolRequestSchema" => HandlerKind::CallTool,
                "ReadResourceRequestSchema" => HandlerKind::Resource,
                "GetPromptRequestSchema" => HandlerKind::Prompt,
                _ => return None,
            };
            let callback = *pos.get(1)?;
            if !is_callable(callback) {
                return None;
            }
            found(callback, kind, None, None, vec![0])
        }
        // FastMCP: `server.addTool({ name, parameters, execute })`.
        "addTool" | "addPrompt" | "addResourceTemplate" => {
            let config = *pos.first()?;
            let key = if name == "addTool" { "execute" } else { "load" };
            let callback = map_get(config, key)?;
            let tool_name = map_get(config, "name")
                .and_then(Expr::as_str)
                .map(str::to_string);
            let (kind, schema_key) = match name.as_str() {
                "addTool" => (HandlerKind::Tool, "parameters"),
                "addPrompt" => (HandlerKind::Prompt, "arguments"),
                _ => (HandlerKind::Resource, "arguments"),
            };
            let schema = map_get(config, schema_key).cloned();
            found(callback, kind, tool_name, schema, vec![0])
        }
        _ => None,
    }
}

fn is_callable(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Function(_) | ExprKind::Name(_) | ExprKind::Attr { .. } => true,
        ExprKind::Call { callee, .. } => {
            matches!(&callee.kind, ExprKind::Attr { name, .. } if name == "bind")
        }
        _ => false,
    }
}

/// A name bound once at module level, or the expression itself.
fn resolve_name<'m>(module: &'m Module, e: &'m Expr) -> &'m Expr {
    let ExprKind::Name(n) = &e.kind else {
        return e;
    };
    module
        .functions
        .first()
        .and_then(|top| {
            top.body.iter().rev().find_map(|s| match &s.kind {
                StmtKind::Assign {
                    target: Pattern::Name(t, _),
                    value,
                } if t == n => Some(value),
                _ => None,
            })
        })
        .unwrap_or(e)
}

/// The object shape of a schema: an object literal, `z.object({...})` with modifiers, or a
/// module constant holding one.
fn shape_of(module: &Module, schema: &Expr, depth: usize) -> Option<Expr> {
    if depth > 8 {
        return None;
    }
    let schema = resolve_name(module, schema);
    match &schema.kind {
        ExprKind::Map(_) => Some(schema.clone()),
        ExprKind::Call { callee, args, .. } => match &callee.kind {
            ExprKind::Attr { object, name, .. } if name == "object" || name == "strictObject" => {
                shape_of(module, &args.first()?.value, depth + 1)
                    .or_else(|| shape_of(module, object, depth + 1))
            }
            // `.strict()`, `.describe()`, `.passthrough()`...: the same shape.
            ExprKind::Attr { object, .. } => shape_of(module, object, depth + 1),
            _ => None,
        },
        ExprKind::Attr { object, name, .. } if name == "shape" => {
            shape_of(module, object, depth + 1)
        }
        _ => None,
    }
}

/// The function a registration's callback is, making one for an imported callback.
fn callback_function(module: &mut Module, f: &Found) -> Option<FunctionId> {
    let callback = match &f.callback.kind {
        // `this.handle.bind(this)`: the method.
        ExprKind::Call { callee, .. } => match &callee.kind {
            ExprKind::Attr { object, .. } => object.as_ref(),
            _ => return None,
        },
        _ => &f.callback,
    };
    match &callback.kind {
        ExprKind::Function(id) => Some(*id),
        ExprKind::Name(n) => {
            let local = module
                .functions
                .iter()
                .position(|x| &x.name == n && x.class.is_none() && x.parent.is_none_or(|p| p == 0));
            match local {
                Some(id) => Some(id),
                None if module.imports.iter().any(|i| &i.local == n) => {
                    Some(synthesize(module, callback.clone(), f))
                }
                None => None,
            }
        }
        ExprKind::Attr { object, name, .. } => {
            if matches!(&object.kind, ExprKind::Name(s) if s == "this") {
                let class = module.functions.get(f.site)?.class?;
                let methods = module.classes.get(class)?.methods.clone();
                return methods
                    .into_iter()
                    .find(|&m| module.functions.get(m).is_some_and(|x| &x.name == name));
            }
            let root = callback.dotted()?;
            let head = root.split('.').next()?;
            module
                .imports
                .iter()
                .any(|i| i.local == head)
                .then(|| synthesize(module, callback.clone(), f))
        }
        _ => None,
    }
}

/// A handler that passes its arguments to an imported callback.
fn synthesize(module: &mut Module, callee: Expr, f: &Found) -> FunctionId {
    let id = module.functions.len();
    let sp = f.span;
    let names = ["args", "extra"];
    let params: Vec<Param> = names
        .iter()
        .map(|n| Param {
            pattern: Pattern::Name((*n).to_string(), callee.span),
            kind: ParamKind::Normal,
            annotation: None,
            default: None,
            span: callee.span,
        })
        .collect();
    let call = Expr::new(
        ExprKind::Call {
            callee: Box::new(callee.clone()),
            args: names
                .iter()
                .map(|n| Arg {
                    name: None,
                    value: Expr::new(ExprKind::Name((*n).to_string()), callee.span),
                    spread: false,
                })
                .collect(),
            is_new: false,
        },
        callee.span,
    );
    let name = format!("{SYNTHETIC}{}>", callee.dotted().unwrap_or_default());
    module.functions.push(Function {
        name: name.clone(),
        qualname: name,
        span: sp,
        name_span: callee.span,
        params,
        body: vec![Stmt {
            kind: StmtKind::Return(Some(call)),
            span: callee.span,
        }],
        decorators: Vec::new(),
        is_async: true,
        class: None,
        // Nested in the module, so it is not mistaken for a function others can import.
        parent: Some(0),
    });
    id
}
