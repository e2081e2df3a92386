//! Finding MCP handlers in a lowered Python module, the ways the SDKs register them.
//!
//! Detection reads the IR, not the syntax tree, so it sees decorators and registration calls
//! with imports already known. It recognises:
//! - FastMCP (`mcp.server.fastmcp`, standalone `fastmcp`, and `MCPServer` of SDK v2):
//!   `@mcp.tool`, `@mcp.tool(...)`, `@mcp.resource("uri")`, `@mcp.prompt(...)`, and the same as
//!   calls (`mcp.tool()(fn)`, `mcp.add_tool(fn)`, `mcp.add_tool(Tool.from_function(fn))`).
//! - The low-level `Server` of SDK v1 (`@server.call_tool()`, `@server.read_resource()`,
//!   `@server.get_prompt()`) and of SDK v2 (`Server(on_call_tool=fn, ...)`).
//!
//! The trade-off is recall over certainty: a receiver counts when it is bound to a server
//! constructor anywhere in the file, annotated as one, imported from another module (the usual
//! `from .server import mcp`), a parameter of the enclosing function (`def register(mcp):`),
//! named like one, or when the file imports the SDK at all. How much to trust each case is the
//! engine's business; this only says where handlers are.

use std::collections::{HashMap, HashSet};

use crate::code::ir::{
    Arg, Block, Expr, ExprKind, Function, FunctionId, Handler, HandlerKind, Module, Param,
    ParamKind, Pattern, StmtKind,
};
use crate::span::Span;

/// What a receiver was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sdk {
    /// FastMCP / MCPServer: one function per tool.
    High,
    /// The low-level `Server`: one function for all tools.
    Low,
}

/// How a decorator or registration method names what it registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Tool,
    Resource,
    Prompt,
    CallTool,
    ReadResource,
    GetPrompt,
}

impl Method {
    fn from_decorator(name: &str) -> Option<Method> {
        Some(match name {
            "tool" => Method::Tool,
            "resource" => Method::Resource,
            "prompt" => Method::Prompt,
            "call_tool" => Method::CallTool,
            "read_resource" => Method::ReadResource,
            "get_prompt" => Method::GetPrompt,
            _ => return None,
        })
    }

    fn sdk(self) -> Sdk {
        match self {
            Method::Tool | Method::Resource | Method::Prompt => Sdk::High,
            Method::CallTool | Method::ReadResource | Method::GetPrompt => Sdk::Low,
        }
    }

    fn kind(self) -> HandlerKind {
        match self {
            Method::Tool => HandlerKind::Tool,
            Method::Resource | Method::ReadResource => HandlerKind::Resource,
            Method::Prompt | Method::GetPrompt => HandlerKind::Prompt,
            Method::CallTool => HandlerKind::CallTool,
        }
    }
}

struct Detector<'m> {
    module: &'m Module,
    imports: HashMap<&'m str, &'m str>,
    /// The file imports `mcp` or `fastmcp`.
    sdk_imported: bool,
    /// Dotted receivers (`mcp`, `self.server`) bound to a server, by SDK.
    receivers: HashMap<String, Sdk>,
    /// Functions by name, for resolving `add_tool(fn)`.
    by_name: HashMap<&'m str, Vec<FunctionId>>,
    handlers: Vec<Handler>,
    /// `(function, kind)` already registered: one handler each, however often it is registered.
    seen: HashSet<(FunctionId, u8)>,
    /// Loop variables over a literal list of functions, by the function the loop is in:
    /// `for fn in (read, write): mcp.tool()(fn)` registers both.
    loop_items: HashMap<(FunctionId, &'m str), Vec<&'m Expr>>,
}

pub(super) fn detect(module: &Module) -> Vec<Handler> {
    let imports: HashMap<&str, &str> = module
        .imports
        .iter()
        .map(|i| (i.local.as_str(), i.path.as_str()))
        .collect();
    let sdk_imported = module.imports.iter().any(|i| {
        let root = i.path.split('.').next().unwrap_or("");
        root == "mcp" || root == "fastmcp"
    });
    let mut d = Detector {
        module,
        imports,
        sdk_imported,
        receivers: HashMap::new(),
        by_name: HashMap::new(),
        handlers: Vec::new(),
        seen: HashSet::new(),
        loop_items: HashMap::new(),
    };
    for (id, f) in module.functions.iter().enumerate() {
        d.by_name.entry(f.name.as_str()).or_default().push(id);
    }
    d.collect_receivers();
    d.collect_loop_items();
    for (id, function) in module.functions.iter().enumerate() {
        for decorator in &function.decorators {
            d.decorator(id, function, decorator);
        }
    }
    for (id, function) in module.functions.iter().enumerate() {
        let mut calls = Vec::new();
        each_expr(&function.body, &mut |e| {
            if matches!(e.kind, ExprKind::Call { .. }) {
                calls.push(e);
            }
        });
        for call in calls {
            d.registration(id, call);
        }
    }
    d.handlers
}

impl<'m> Detector<'m> {
    /// `FastMCP` -> `mcp.server.fastmcp.FastMCP` through the imports.
    fn resolve(&self, dotted: &str) -> String {
        let (root, rest) = dotted.split_once('.').unwrap_or((dotted, ""));
        match self.imports.get(root) {
            Some(path) if rest.is_empty() => (*path).to_string(),
            Some(path) => format!("{path}.{rest}"),
            None => dotted.to_string(),
        }
    }

    /// Which SDK a constructor or annotation names, if any.
    fn server_type(&self, e: &Expr) -> Option<Sdk> {
        let resolved = self.resolve(&e.dotted()?);
        let last = resolved.rsplit('.').next().unwrap_or("");
        match last {
            "FastMCP" | "MCPServer" => Some(Sdk::High),
            "Server" if resolved.starts_with("mcp.") || self.sdk_imported => Some(Sdk::Low),
            _ => None,
        }
    }

    fn collect_receivers(&mut self) {
        let mut found = Vec::new();
        for function in &self.module.functions {
            for p in &function.params {
                if let (Some(name), Some(annotation)) = (p.name(), &p.annotation)
                    && let Some(sdk) = self.server_type(strip_optional(annotation))
                {
                    found.push((name.to_string(), sdk));
                }
            }
            crate::code::ir::each_stmt(&function.body, &mut |s| {
                if let StmtKind::Assign { target, value } = &s.kind
                    && let ExprKind::Call { callee, .. } = &strip_await(value).kind
                    && let Some(sdk) = self.server_type(callee)
                    && let Some(name) = pattern_dotted(target)
                {
                    found.push((name, sdk));
                }
            });
        }
        self.receivers.extend(found);
    }

    /// Whether `object.method(...)` plausibly registers with an MCP server.
    fn plausible_receiver(&self, object: &Expr, sdk: Sdk, context: FunctionId) -> bool {
        let Some(dotted) = object.dotted() else {
            // `get_server().tool()`: only on the word of the imports.
            return self.sdk_imported;
        };
        if let Some(known) = self.receivers.get(&dotted) {
            return *known == sdk;
        }
        if self.sdk_imported {
            return true;
        }
        let root = dotted.split('.').next().unwrap_or("");
        self.imports.contains_key(root)
            || root.to_ascii_lowercase().contains("mcp")
            || self.is_param_in_scope(root, context)
    }

    /// `def register(mcp): @mcp.tool() ...`: the receiver is a parameter of an enclosing function.
    fn is_param_in_scope(&self, name: &str, mut function: FunctionId) -> bool {
        // Parents always have smaller ids, so this terminates.
        loop {
            let Some(f) = self.module.functions.get(function) else {
                return false;
            };
            if f.params.iter().any(|p| p.name() == Some(name)) {
                return true;
            }
            match f.parent {
                Some(parent) if parent < function => function = parent,
                _ => return false,
            }
        }
    }

    fn decorator(&mut self, id: FunctionId, function: &Function, decorator: &Expr) {
        let (target, call) = match &decorator.kind {
            ExprKind::Call { callee, args, .. } => (callee.as_ref(), Some(args.as_slice())),
            _ => (decorator, None),
        };
        let ExprKind::Attr { object, name, .. } = &target.kind else {
            return;
        };
        let Some(method) = Method::from_decorator(name) else {
            return;
        };
        // The decorator is evaluated in the scope that defines the function.
        let context = function.parent.unwrap_or(0);
        if !self.plausible_receiver(object, method.sdk(), context) {
            return;
        }
        self.add(id, method, call, decorator.span);
    }

    /// Loop variables bound to the items of a literal sequence, written in the loop header or
    /// assigned to a name earlier in the same function or at the top level.
    fn collect_loop_items(&mut self) {
        let functions = &self.module.functions;
        let sequence_of = |function: FunctionId, name: &str| -> Option<&'m [Expr]> {
            let mut found = None;
            for scope in [function, 0] {
                crate::code::ir::each_stmt(&functions.get(scope)?.body, &mut |stmt| {
                    if let StmtKind::Assign {
                        target: Pattern::Name(n, _),
                        value,
                    } = &stmt.kind
                        && n == name
                        && let ExprKind::Seq(items) = &value.kind
                    {
                        found = Some(items.as_slice());
                    }
                });
                if found.is_some() {
                    break;
                }
            }
            found
        };
        for (id, function) in functions.iter().enumerate() {
            crate::code::ir::each_stmt(&function.body, &mut |stmt| {
                let StmtKind::Loop {
                    binding: Some(Pattern::Name(var, _)),
                    iter: Some(iter),
                    ..
                } = &stmt.kind
                else {
                    return;
                };
                let items = match &iter.kind {
                    ExprKind::Seq(items) => Some(items.as_slice()),
                    ExprKind::Name(name) => sequence_of(id, name),
                    _ => None,
                };
                if let Some(items) = items {
                    self.loop_items
                        .insert((id, var.as_str()), items.iter().collect());
                }
            });
        }
    }

    /// `mcp.tool()(fn)`, `mcp.add_tool(fn)`, `Server(on_call_tool=fn)`.
    fn registration(&mut self, context: FunctionId, call: &Expr) {
        let ExprKind::Call { callee, args, .. } = &call.kind else {
            return;
        };
        // `mcp.tool(...)(fn)`.
        if let ExprKind::Call {
            callee: inner,
            args: inner_args,
            ..
        } = &callee.kind
            && let ExprKind::Attr { object, name, .. } = &inner.kind
            && let Some(method) = Method::from_decorator(name)
            && let Some(first) = positional(args).next()
            && self.plausible_receiver(object, method.sdk(), context)
        {
            for function in self.resolve_functions(first, context) {
                self.add(function, method, Some(inner_args), call.span);
            }
            return;
        }
        // `mcp.add_tool(fn, name=...)`, `mcp.add_tool(Tool.from_function(fn))`.
        if let ExprKind::Attr { object, name, .. } = &callee.kind {
            let method = match name.as_str() {
                "add_tool" => Method::Tool,
                "add_prompt" => Method::Prompt,
                "add_resource" => Method::Resource,
                _ => return self.lowlevel_constructor(context, call),
            };
            let Some(first) = positional(args).next() else {
                return;
            };
            // Names may sit on the `from_function` call or on the registration.
            let naming = match &first.kind {
                ExprKind::Call { args: inner, .. } if is_from_function(first) => inner.as_slice(),
                _ => args.as_slice(),
            };
            if self.plausible_receiver(object, Sdk::High, context) {
                for function in self.resolve_functions(first, context) {
                    self.add(function, method, Some(naming), call.span);
                }
            }
            return;
        }
        self.lowlevel_constructor(context, call);
    }

    /// SDK v2: `Server("name", on_call_tool=handle_call_tool, ...)`.
    fn lowlevel_constructor(&mut self, context: FunctionId, call: &Expr) {
        let ExprKind::Call { callee, args, .. } = &call.kind else {
            return;
        };
        if self.server_type(callee) != Some(Sdk::Low) {
            return;
        }
        for arg in args {
            let method = match arg.name.as_deref() {
                Some("on_call_tool") => Method::CallTool,
                Some("on_read_resource") => Method::ReadResource,
                Some("on_get_prompt") => Method::GetPrompt,
                _ => continue,
            };
            if let Some(function) = self.resolve_function(&arg.value, context) {
                self.add(function, method, None, call.span);
            }
        }
    }

    fn add(&mut self, id: FunctionId, method: Method, args: Option<&[Arg]>, span: Span) {
        let kind = method.kind();
        if !self.seen.insert((id, kind as u8)) {
            return;
        }
        let Some(function) = self.module.functions.get(id) else {
            return;
        };
        let keyword = |key: &str| {
            args.into_iter()
                .flatten()
                .find(|a| a.name.as_deref() == Some(key))
                .and_then(|a| a.value.as_str())
        };
        let first_str = args
            .and_then(|a| positional(a).next())
            .and_then(|e| e.as_str());
        let name = match method {
            Method::Tool | Method::Prompt => Some(
                keyword("name")
                    .or(first_str)
                    .unwrap_or(&function.name)
                    .to_string(),
            ),
            // The URI template says more about a resource than its function name.
            Method::Resource => Some(
                keyword("uri")
                    .or(first_str)
                    .or(keyword("name"))
                    .unwrap_or(&function.name)
                    .to_string(),
            ),
            // One function serves every name.
            Method::CallTool | Method::ReadResource | Method::GetPrompt => None,
        };
        let normal: Vec<usize> = function
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == ParamKind::Normal)
            .map(|(i, _)| i)
            .collect();
        let tainted_params = match method {
            Method::Tool | Method::Resource | Method::Prompt => normal
                .into_iter()
                .filter(|i| function.params.get(*i).is_some_and(|p| !is_context(p)))
                .collect(),
            // v1 `(name, arguments)`, v2 `(ctx, params)`: the second either way.
            Method::CallTool | Method::GetPrompt => normal
                .get(1)
                .or(normal.last())
                .copied()
                .into_iter()
                .collect(),
            // v1 `(uri)`, v2 `(ctx, params)`.
            Method::ReadResource => {
                let at = if normal.len() >= 2 { 1 } else { 0 };
                normal.get(at).copied().into_iter().collect()
            }
        };
        self.handlers.push(Handler {
            function: id,
            kind,
            name,
            span,
            tainted_params,
            imported_callback: false,
        });
    }

    /// The functions a registration passes: one, or each item of the list a loop variable
    /// runs over.
    fn resolve_functions(&self, e: &Expr, context: FunctionId) -> Vec<FunctionId> {
        if let ExprKind::Name(name) = &e.kind
            && let Some(items) = self.loop_items.get(&(context, name.as_str()))
        {
            return items
                .iter()
                .filter_map(|item| self.resolve_function(item, context))
                .collect();
        }
        self.resolve_function(e, context).into_iter().collect()
    }

    /// The function a registration passes: a name, `self.method`, a lambda, or
    /// `Tool.from_function(fn)`.
    fn resolve_function(&self, e: &Expr, context: FunctionId) -> Option<FunctionId> {
        let functions = &self.module.functions;
        match &e.kind {
            ExprKind::Function(id) => Some(*id),
            ExprKind::Name(name) => {
                // Prefer a function defined in the same scope, then a top-level one.
                let candidates: Vec<(FunctionId, &Function)> = self
                    .by_name
                    .get(name.as_str())?
                    .iter()
                    .filter_map(|id| Some((*id, functions.get(*id)?)))
                    .filter(|(_, f)| f.class.is_none())
                    .collect();
                let here = (context != 0).then_some(context);
                candidates
                    .iter()
                    .find(|(_, f)| f.parent == here)
                    .or_else(|| candidates.iter().find(|(_, f)| f.parent.is_none()))
                    .or_else(|| candidates.first())
                    .map(|(id, _)| *id)
            }
            ExprKind::Attr { object, name, .. } => {
                let class = match &object.kind {
                    ExprKind::Name(n) if n == "self" || n == "cls" => self.class_of(context),
                    ExprKind::Name(n) => self.module.classes.iter().position(|c| c.name == *n),
                    _ => None,
                }?;
                self.module
                    .classes
                    .get(class)?
                    .methods
                    .iter()
                    .copied()
                    .find(|m| functions.get(*m).is_some_and(|f| f.name == *name))
            }
            ExprKind::Call { args, .. } if is_from_function(e) => {
                self.resolve_function(positional(args).next()?, context)
            }
            _ => None,
        }
    }

    /// The class of the method a function is, or is nested in.
    fn class_of(&self, mut function: FunctionId) -> Option<usize> {
        loop {
            let f = self.module.functions.get(function)?;
            if let Some(class) = f.class {
                return Some(class);
            }
            match f.parent {
                Some(parent) if parent < function => function = parent,
                _ => return None,
            }
        }
    }
}

fn positional(args: &[Arg]) -> impl Iterator<Item = &Expr> {
    args.iter()
        .filter(|a| a.name.is_none() && !a.spread)
        .map(|a| &a.value)
}

/// `Tool.from_function(fn, ...)`, `FunctionTool.from_function(...)`.
fn is_from_function(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Call { callee, .. }
        if matches!(&callee.kind, ExprKind::Attr { name, .. } if name == "from_function"))
}

fn strip_await(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Await(inner) => inner,
        _ => e,
    }
}

/// `Optional[X]`, `X | None`, `Annotated[X, ...]` -> `X`.
fn strip_optional(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Subscript { object, index } => {
            let wrapper = object.dotted().unwrap_or_default();
            let wrapper = wrapper.rsplit('.').next().unwrap_or("");
            match (wrapper, &index.kind) {
                ("Optional", _) => strip_optional(index),
                ("Annotated", ExprKind::Seq(items)) => items.first().map_or(e, strip_optional),
                _ => e,
            }
        }
        ExprKind::Binary { left, right, .. } => match right.kind {
            ExprKind::Null => strip_optional(left),
            _ => e,
        },
        _ => e,
    }
}

/// The SDK-injected request context, which the model does not choose.
fn is_context(p: &Param) -> bool {
    match &p.annotation {
        Some(a) => annotation_is_context(a),
        None => p.name() == Some("ctx"),
    }
}

fn annotation_is_context(e: &Expr) -> bool {
    let is_context_name = |name: &str| {
        let last = name.rsplit('.').next().unwrap_or("");
        matches!(last, "Context" | "RequestContext" | "ServerRequestContext")
    };
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Attr { .. } => {
            e.dotted().is_some_and(|d| is_context_name(&d))
        }
        // A forward reference: `ctx: "Context"`.
        ExprKind::Str(s) => is_context_name(s),
        // `Context[ServerSession, None]`, `Optional[Context]`, `Annotated[Context, ...]`.
        ExprKind::Subscript { object, .. } => {
            let inner = strip_optional(e);
            annotation_is_context(object)
                || (!std::ptr::eq(inner, e) && annotation_is_context(inner))
        }
        // `Context | None`.
        ExprKind::Binary { left, right, .. } => {
            annotation_is_context(left) || annotation_is_context(right)
        }
        _ => false,
    }
}

/// `mcp` for `mcp = ...`, `self.mcp` for `self.mcp = ...`.
fn pattern_dotted(p: &Pattern) -> Option<String> {
    match p {
        Pattern::Name(n, _) => Some(n.clone()),
        Pattern::Attr(object, name) => Some(format!("{}.{name}", object.dotted()?)),
        _ => None,
    }
}

/// Every expression (and sub-expression) in a block's statements.
fn each_expr<'a>(block: &'a Block, f: &mut dyn FnMut(&'a Expr)) {
    crate::code::ir::each_stmt(block, &mut |stmt| {
        let mut roots: Vec<&'a Expr> = Vec::new();
        match &stmt.kind {
            StmtKind::Assign { value, .. } => roots.push(value),
            StmtKind::Expr(e) => roots.push(e),
            StmtKind::Return(e) | StmtKind::Raise(e) => roots.extend(e.as_ref()),
            StmtKind::If { test, .. } => roots.push(test),
            StmtKind::Loop { iter, .. } => roots.extend(iter.as_ref()),
            StmtKind::With { items, .. } => roots.extend(items.iter().map(|(e, _)| e)),
            _ => {}
        }
        for root in roots {
            visit_expr(root, f);
        }
    });
}

fn visit_expr<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Attr { object, .. } => visit_expr(object, f),
        ExprKind::Subscript { object, index } => {
            visit_expr(object, f);
            visit_expr(index, f);
        }
        ExprKind::Call { callee, args, .. } => {
            visit_expr(callee, f);
            for a in args {
                visit_expr(&a.value, f);
            }
        }
        ExprKind::Binary { left, right, .. } => {
            visit_expr(left, f);
            visit_expr(right, f);
        }
        ExprKind::Compare { left, rights, .. } => {
            visit_expr(left, f);
            for r in rights {
                visit_expr(r, f);
            }
        }
        ExprKind::Not(inner) | ExprKind::Spread(inner) | ExprKind::Await(inner) => {
            visit_expr(inner, f)
        }
        ExprKind::Conditional { test, then, orelse } => {
            visit_expr(test, f);
            visit_expr(then, f);
            visit_expr(orelse, f);
        }
        ExprKind::Template(items)
        | ExprKind::Seq(items)
        | ExprKind::Unknown(items)
        | ExprKind::Logical { values: items, .. } => {
            for i in items {
                visit_expr(i, f);
            }
        }
        ExprKind::Map(entries) => {
            for (k, v) in entries {
                if let Some(k) = k {
                    visit_expr(k, f);
                }
                visit_expr(v, f);
            }
        }
        ExprKind::Name(_)
        | ExprKind::Str(_)
        | ExprKind::Num(_)
        | ExprKind::Bool(_)
        | ExprKind::Null
        | ExprKind::Function(_) => {}
    }
}
