//! Structural facts over a project's IR, for the rules that look at how a server is built
//! rather than at data flow: which modules make up one server, which functions its handlers
//! can reach, what a name or `self.attr` was bound to, which SDK a server constructor is from.
//!
//! The trade-off is the same as the handler detection's: names, not types. A call graph edge is
//! a reference by name (a call, or a function passed as a value to `to_thread` or `map`) that
//! resolves to a function of the project; a binding is the last assignment of a name in the
//! function, its enclosing functions, the class (`self.x`) or the module. Good enough to tell a
//! helper a tool calls from one it never does, not to follow dynamic dispatch.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet, VecDeque};

use crate::code::ir::{
    Arg, Expr, ExprKind, FunctionId, HandlerKind, Module, Pattern, Stmt, StmtKind, walk_expr,
    walk_stmt,
};
use crate::code::taint::Project;

/// A function of the project: its module and its index there.
pub type FnKey = (usize, FunctionId);

/// The SDK a server constructor comes from, which decides its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSdk {
    /// `mcp.server.fastmcp.FastMCP` (SDK v1): host and transport security in the constructor;
    /// recent versions turn DNS-rebinding protection on when the host is loopback.
    McpFastMcp,
    /// `MCPServer` of SDK v2: host and transport security passed to `run`/`*_app`, the same
    /// loopback default.
    McpServerV2,
    /// The standalone `fastmcp` package: no Host or Origin validation of its own.
    Standalone,
    /// The low-level `mcp.server.Server`, served through `SseServerTransport` or
    /// `StreamableHTTPSessionManager`.
    LowLevel,
    /// The TypeScript SDK's `McpServer` or low-level `Server` (`@modelcontextprotocol/sdk`).
    Node,
}

/// A server constructor call bound to a name: `mcp = FastMCP("notes", host="0.0.0.0")`.
#[derive(Debug, Clone, Copy)]
pub struct ServerCtor<'a> {
    pub module: usize,
    /// The receiver as written (`mcp`, `self.server`).
    pub receiver: &'a Pattern,
    pub call: &'a Expr,
    pub sdk: ServerSdk,
}

impl ServerCtor<'_> {
    pub fn receiver_dotted(&self) -> Option<String> {
        pattern_dotted(self.receiver)
    }
}

/// Facts shared by the structural rules, computed once per rule run.
pub struct Structure<'p> {
    pub project: &'p Project,
    by_name: HashMap<&'p str, usize>,
    /// Modules grouped by imports between them: one server (or one library) each.
    components: Vec<Vec<usize>>,
    /// Functions by (module, enclosing function, name); module-level ones under function 0.
    functions: HashMap<(usize, FunctionId, &'p str), FunctionId>,
    /// Classes by (module, name).
    classes: HashMap<(usize, &'p str), usize>,
    /// `name = Class(...)` by (module, function, name): the class name.
    instances: HashMap<(usize, FunctionId, &'p str), &'p str>,
    /// The functions each function refers to, computed once on first use.
    references: OnceCell<HashMap<FnKey, Vec<FnKey>>>,
    /// The effect of each function's own body, computed once on first use.
    effects: OnceCell<HashMap<FnKey, Effect>>,
}

impl<'p> Structure<'p> {
    pub fn new(project: &'p Project) -> Self {
        let mut by_name = HashMap::new();
        for (i, m) in project.modules.iter().enumerate() {
            by_name.entry(m.name.as_str()).or_insert(i);
        }
        let mut functions = HashMap::new();
        let mut classes = HashMap::new();
        let mut instances = HashMap::new();
        for (m, module) in project.modules.iter().enumerate() {
            for (id, f) in module.functions.iter().enumerate().skip(1) {
                if f.class.is_none() {
                    functions
                        .entry((m, f.parent.unwrap_or(0), f.name.as_str()))
                        .or_insert(id);
                }
            }
            for (c, class) in module.classes.iter().enumerate() {
                classes.entry((m, class.name.as_str())).or_insert(c);
            }
            for (id, f) in module.functions.iter().enumerate() {
                crate::code::ir::each_stmt(&f.body, &mut |st| {
                    if let StmtKind::Assign {
                        target: Pattern::Name(n, _),
                        value,
                    } = &st.kind
                        && let ExprKind::Call { callee, .. } = &strip_await(value).kind
                        && let ExprKind::Name(class) = &callee.kind
                    {
                        instances.insert((m, id, n.as_str()), class.as_str());
                    }
                });
            }
        }
        let mut s = Structure {
            project,
            by_name,
            components: Vec::new(),
            functions,
            classes,
            instances,
            references: OnceCell::new(),
            effects: OnceCell::new(),
        };
        s.components = s.group_by_imports();
        s
    }

    /// A module-level function of module `m`.
    fn top_level(&self, m: usize, name: &str) -> Option<FunctionId> {
        self.functions.get(&(m, 0, name)).copied()
    }

    /// The method `name` of class `class` of module `m`.
    fn method(&self, m: usize, class: &str, name: &str) -> Option<FunctionId> {
        let c = *self.classes.get(&(m, class))?;
        method(self.module(m), c, name)
    }

    pub fn module(&self, m: usize) -> &'p Module {
        &self.project.modules[m]
    }

    /// Groups of modules connected by imports, in module order. Two servers scanned from one
    /// root stay apart unless one imports the other.
    pub fn components(&self) -> &[Vec<usize>] {
        &self.components
    }

    /// The components that hold at least one MCP handler.
    pub fn server_components(&self) -> impl Iterator<Item = &[usize]> {
        self.components
            .iter()
            .filter(|c| c.iter().any(|&m| !self.module(m).handlers.is_empty()))
            .map(Vec::as_slice)
    }

    fn group_by_imports(&self) -> Vec<Vec<usize>> {
        let n = self.project.modules.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for m in 0..n {
            for import in &self.module(m).imports {
                if let Some(t) = self.import_module(m, &import.path) {
                    let (a, b) = (find(&mut parent, m), find(&mut parent, t));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
            }
        }
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut index: HashMap<usize, usize> = HashMap::new();
        for m in 0..n {
            let root = find(&mut parent, m);
            let g = *index.entry(root).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(m);
        }
        groups
    }

    /// The project module an import refers to: the module itself (`from . import utils`,
    /// `import pkg.utils`) or the module holding the imported name (`from .utils import f`).
    pub fn import_module(&self, from: usize, path: &str) -> Option<usize> {
        self.module_by_path(from, path)
            .or_else(|| {
                let (module, _) = path.rsplit_once('.')?;
                if module.is_empty() {
                    // `from . import x`: the package itself.
                    return self.module_by_path(from, ".");
                }
                self.module_by_path(from, module)
            })
            .filter(|&t| t != from)
    }

    /// A module by its dotted path, relative (`.utils`) to `from`'s package or absolute.
    fn module_by_path(&self, from: usize, path: &str) -> Option<usize> {
        let current = &self.module(from).name;
        if let Some(rel) = path.strip_prefix('.') {
            let mut package: Vec<&str> = current.split('.').collect();
            package.pop();
            let mut rest = rel;
            while let Some(r) = rest.strip_prefix('.') {
                package.pop();
                rest = r;
            }
            let full = match (package.is_empty(), rest.is_empty()) {
                (_, true) => package.join("."),
                (true, false) => rest.to_string(),
                (false, false) => format!("{}.{rest}", package.join(".")),
            };
            return self.by_name.get(full.as_str()).copied();
        }
        if let Some(&m) = self.by_name.get(path) {
            return Some(m);
        }
        // Scanned from above the import root: a module whose name ends with the path, the one
        // sharing the most of `from`'s package first.
        let suffix = format!(".{path}");
        self.by_name
            .iter()
            .filter(|(n, _)| n.ends_with(&suffix))
            .max_by_key(|&(n, &i)| (common_prefix(n, current), std::cmp::Reverse(i)))
            .map(|(_, &i)| i)
    }

    /// The project function a name or `self.method` refers to from inside `caller`.
    pub fn resolve_function(&self, m: usize, caller: FunctionId, expr: &Expr) -> Option<FnKey> {
        let module = self.module(m);
        match &expr.kind {
            ExprKind::Name(name) => {
                // A function nested in the caller or one of its parents, then a module-level one.
                let mut scope = Some(caller);
                let mut hops = 0;
                while let Some(s) = scope {
                    if let Some(&id) = self.functions.get(&(m, s, name.as_str())) {
                        return Some((m, id));
                    }
                    scope = module.functions.get(s).and_then(|f| f.parent);
                    hops += 1;
                    if hops > module.functions.len() {
                        break;
                    }
                }
                if let Some(id) = self.top_level(m, name) {
                    return Some((m, id));
                }
                let (target, function) = self.imported(m, name)?;
                self.top_level(target, function).map(|id| (target, id))
            }
            ExprKind::Attr { object, name, .. } => {
                // `new Crawler().crawl(url)`, `Pager(token).page(who)`: a method of a class
                // of this module, on an instance made on the spot.
                if let ExprKind::Call { callee, .. } = &strip_await(object).kind
                    && let ExprKind::Name(class) = &callee.kind
                    && self.classes.contains_key(&(m, class.as_str()))
                {
                    return self.method(m, class, name).map(|id| (m, id));
                }
                let ExprKind::Name(base) = &object.kind else {
                    return None;
                };
                if base == "self" || base == "cls" || base == "this" {
                    // A lambda or arrow function sees the `this`/`self` of its method.
                    let mut f = module.functions.get(caller)?;
                    let mut class = f.class;
                    for _ in 0..32 {
                        if class.is_some() {
                            break;
                        }
                        f = module.functions.get(f.parent?)?;
                        class = f.class;
                    }
                    return method(module, class?, name).map(|id| (m, id));
                }
                if self.classes.contains_key(&(m, base.as_str())) {
                    return self.method(m, base, name).map(|id| (m, id));
                }
                // `pager = Pager(...)` then `pager.page(...)`, in the caller or at module level;
                // the class defined here or imported from another module of the project.
                let class = self
                    .instances
                    .get(&(m, caller, base.as_str()))
                    .or_else(|| self.instances.get(&(m, 0, base.as_str())));
                if let Some(&class) = class {
                    if self.classes.contains_key(&(m, class)) {
                        return self.method(m, class, name).map(|id| (m, id));
                    }
                    let (target, class) = self.imported(m, class)?;
                    return self.method(target, class, name).map(|id| (target, id));
                }
                let import = module.imports.iter().rev().find(|i| &i.local == base)?;
                let target = self.module_by_path(m, &import.path)?;
                self.top_level(target, name).map(|id| (target, id))
            }
            ExprKind::Function(id) => Some((m, *id)),
            _ => None,
        }
    }

    /// `from .utils import helper`: the project module and the name there that `local` is.
    fn imported<'n>(&self, m: usize, local: &str) -> Option<(usize, &'n str)>
    where
        'p: 'n,
    {
        let import = self
            .module(m)
            .imports
            .iter()
            .rev()
            .find(|i| i.local == local)?;
        let (path, name) = import.path.rsplit_once('.')?;
        let target = if path.is_empty() {
            self.module_by_path(m, ".")?
        } else {
            self.module_by_path(m, path)?
        };
        Some((target, name))
    }

    /// The functions `f` calls, with the call expression.
    pub fn calls_from(&self, (m, f): FnKey) -> Vec<(FnKey, &'p Expr)> {
        let mut out = Vec::new();
        for_each_expr(self.module(m), f, &mut |e| {
            if let ExprKind::Call { callee, .. } = &e.kind
                && let Some(target) = self.resolve_function(m, f, callee)
            {
                out.push((target, e));
            }
        });
        out
    }

    /// The functions `f` refers to by name: calls, and functions passed as values
    /// (`asyncio.to_thread(helper, x)`, `executor.submit(walk, p)`, lambdas).
    pub fn references_from(&self, key: FnKey) -> &[FnKey] {
        let all = self.references.get_or_init(|| {
            let mut all = HashMap::new();
            for (m, module) in self.project.modules.iter().enumerate() {
                for f in 0..module.functions.len() {
                    let mut out = Vec::new();
                    for_each_expr(module, f, &mut |e| {
                        if matches!(
                            e.kind,
                            ExprKind::Name(_) | ExprKind::Attr { .. } | ExprKind::Function(_)
                        ) && let Some(target) = self.resolve_function(m, f, e)
                            && target != (m, f)
                            && !out.contains(&target)
                        {
                            out.push(target);
                        }
                    });
                    all.insert((m, f), out);
                }
            }
            all
        });
        all.get(&key).map(Vec::as_slice).unwrap_or_default()
    }

    /// Every function a handler can reach, with the handler (module, handler index) that
    /// reaches it first. Handlers reach themselves.
    pub fn reachable_from_handlers(&self) -> HashMap<FnKey, (usize, usize)> {
        let mut reached: HashMap<FnKey, (usize, usize)> = HashMap::new();
        let mut queue = VecDeque::new();
        for (m, module) in self.project.modules.iter().enumerate() {
            for (h, handler) in module.handlers.iter().enumerate() {
                let key = (m, handler.function);
                if let std::collections::hash_map::Entry::Vacant(v) = reached.entry(key) {
                    v.insert((m, h));
                    queue.push_back(key);
                }
            }
        }
        while let Some(key) = queue.pop_front() {
            let origin = reached[&key];
            for &next in self.references_from(key) {
                if let std::collections::hash_map::Entry::Vacant(v) = reached.entry(next) {
                    v.insert(origin);
                    queue.push_back(next);
                }
            }
        }
        reached
    }

    /// The tool name of a handler, for messages.
    pub fn handler_name(&self, (m, h): (usize, usize)) -> String {
        let module = self.module(m);
        let handler = &module.handlers[h];
        handler
            .name
            .clone()
            .unwrap_or_else(|| module.functions[handler.function].name.clone())
    }

    /// "tool `search`", "resource `notes`", "handler `call_tool`": a handler, for messages.
    pub fn handler_label(&self, (m, h): (usize, usize)) -> String {
        let name = self.handler_name((m, h));
        match self.module(m).handlers[h].kind {
            HandlerKind::Tool => format!("tool `{name}`"),
            HandlerKind::Resource => format!("resource `{name}`"),
            HandlerKind::Prompt => format!("prompt `{name}`"),
            // An anonymous `tools/call` handler (`setRequestHandler(CallToolRequestSchema, ...)`).
            HandlerKind::CallTool if name.starts_with('<') => {
                "the `tools/call` handler".to_string()
            }
            HandlerKind::CallTool => format!("handler `{name}`"),
        }
    }

    /// The most consequential effect a function, or any function it reaches, has.
    pub fn effect_reached(&self, start: FnKey) -> Option<Effect> {
        let effects = self.effects.get_or_init(|| {
            let mut all = HashMap::new();
            for (m, module) in self.project.modules.iter().enumerate() {
                let bindings = Bindings::new(module);
                for f in 0..module.functions.len() {
                    let mut worst: Option<Effect> = None;
                    for_each_expr(module, f, &mut |e| {
                        if let Some(d) =
                            effect_of(module, e).or_else(|| receiver_effect(&bindings, f, e))
                        {
                            worst = Some(worst.map_or(d, |w| w.min(d)));
                        }
                    });
                    if let Some(w) = worst {
                        all.insert((m, f), w);
                    }
                }
            }
            all
        });
        let mut seen = HashSet::from([start]);
        let mut queue = VecDeque::from([start]);
        let mut worst: Option<Effect> = None;
        while let Some(key) = queue.pop_front() {
            if let Some(&d) = effects.get(&key) {
                worst = Some(worst.map_or(d, |w| w.min(d)));
            }
            for &next in self.references_from(key) {
                if seen.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        worst
    }

    /// The server constructors bound in a module, in source order.
    pub fn servers(&self, m: usize) -> Vec<ServerCtor<'p>> {
        let module = self.module(m);
        let mut out = Vec::new();
        for f in 0..module.functions.len() {
            crate::code::ir::each_stmt(&module.functions[f].body, &mut |s| {
                if let StmtKind::Assign { target, value } = &s.kind
                    && let ExprKind::Call { callee, .. } = &strip_await(value).kind
                    && let Some(sdk) = server_sdk(module, callee)
                {
                    out.push(ServerCtor {
                        module: m,
                        receiver: target,
                        call: strip_await(value),
                        sdk,
                    });
                }
            });
        }
        out.sort_by_key(|s| s.call.span.start);
        out
    }

    /// The server constructors of a component, in module then source order.
    pub fn component_servers(&self, component: &[usize]) -> Vec<ServerCtor<'p>> {
        component.iter().flat_map(|&m| self.servers(m)).collect()
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.split('.')
        .zip(b.split('.'))
        .take_while(|(x, y)| x == y)
        .count()
}

fn method(module: &Module, class: usize, name: &str) -> Option<FunctionId> {
    module
        .classes
        .get(class)?
        .methods
        .iter()
        .copied()
        .find(|&id| module.functions.get(id).is_some_and(|f| f.name == name))
}

/// Which SDK a constructor call's callee names, if it builds an MCP server.
pub fn server_sdk(module: &Module, callee: &Expr) -> Option<ServerSdk> {
    let path = module.canonical(callee)?;
    let last = path.rsplit('.').next().unwrap_or("");
    let root = path.split('.').next().unwrap_or("");
    match last {
        "FastMCP" if root == "fastmcp" => Some(ServerSdk::Standalone),
        "FastMCP" => Some(ServerSdk::McpFastMcp),
        "MCPServer" => Some(ServerSdk::McpServerV2),
        "Server" if path.starts_with("mcp.server") => Some(ServerSdk::LowLevel),
        // Module paths are canonicalised with dots: `@modelcontextprotocol.sdk.server.mcp`.
        "McpServer" | "Server" if path.starts_with("@modelcontextprotocol.sdk") => {
            Some(ServerSdk::Node)
        }
        _ => None,
    }
}

/// Visits every expression of a function's body and decorators.
pub fn for_each_expr<'a>(module: &'a Module, f: FunctionId, visit: &mut dyn FnMut(&'a Expr)) {
    let Some(function) = module.functions.get(f) else {
        return;
    };
    for stmt in &function.body {
        walk_stmt(stmt, visit);
    }
    for d in &function.decorators {
        walk_expr(d, visit);
    }
}

/// Visits the expressions a statement holds itself: not those of the blocks nested in it.
pub fn walk_own<'a>(stmt: &'a Stmt, visit: &mut dyn FnMut(&'a Expr)) {
    match &stmt.kind {
        StmtKind::Assign { value, .. } => visit(value),
        StmtKind::Expr(e) | StmtKind::Return(Some(e)) | StmtKind::Raise(Some(e)) => visit(e),
        StmtKind::If { test, .. } => visit(test),
        StmtKind::Loop { iter: Some(i), .. } => visit(i),
        StmtKind::With { items, .. } => items.iter().for_each(|(e, _)| visit(e)),
        _ => {}
    }
}

/// `await x` -> `x`.
pub fn strip_await(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Await(inner) => strip_await(inner),
        _ => e,
    }
}

/// The callee and arguments of a call.
pub fn call_parts(e: &Expr) -> Option<(&Expr, &[Arg])> {
    match &e.kind {
        ExprKind::Call { callee, args, .. } => Some((callee, args)),
        _ => None,
    }
}

/// A call's positional arguments (spreads excluded).
pub fn positional(args: &[Arg]) -> impl Iterator<Item = &Expr> {
    args.iter()
        .filter(|a| a.name.is_none() && !a.spread)
        .map(|a| &a.value)
}

/// Whether a call passes `*args` or `**kwargs`, which may hold any keyword.
pub fn has_spread(args: &[Arg]) -> bool {
    args.iter().any(|a| a.spread)
}

/// `mcp`, `self.server`: what an assignment binds, as a dotted name.
pub fn pattern_dotted(p: &Pattern) -> Option<String> {
    match p {
        Pattern::Name(n, _) => Some(n.clone()),
        Pattern::Attr(object, name) => object.dotted().map(|o| format!("{o}.{name}")),
        _ => None,
    }
}

/// What names and attributes were bound to, per function, class and module: enough to know
/// that `session` is a `requests.Session()` or `proc` a `subprocess.Popen(...)`.
pub struct Bindings<'a> {
    module: &'a Module,
    /// (function, dotted name) -> values, for names; (usize::MAX - class, name) for `self.x`.
    values: HashMap<(usize, String), Vec<&'a Expr>>,
}

impl<'a> Bindings<'a> {
    pub fn new(module: &'a Module) -> Self {
        let mut values: HashMap<(usize, String), Vec<&'a Expr>> = HashMap::new();
        for (f, function) in module.functions.iter().enumerate() {
            crate::code::ir::each_stmt(&function.body, &mut |s| {
                let pairs: Vec<(&'a Pattern, &'a Expr)> = match &s.kind {
                    StmtKind::Assign { target, value } => vec![(target, value)],
                    StmtKind::With { items, .. } => items
                        .iter()
                        .filter_map(|(e, p)| p.as_ref().map(|p| (p, e)))
                        .collect(),
                    _ => Vec::new(),
                };
                for (pattern, value) in pairs {
                    let Some(name) = pattern_dotted(pattern) else {
                        continue;
                    };
                    let scope = match (name.split_once('.'), class_of(module, f)) {
                        (Some(("self" | "cls" | "this", _)), Some(c)) => usize::MAX - c,
                        _ => f,
                    };
                    values
                        .entry((scope, name))
                        .or_default()
                        .push(strip_await(value));
                }
            });
        }
        Bindings { module, values }
    }

    /// Every value `dotted` may hold inside function `f`: bound there, in an enclosing
    /// function, on the class (`self.x`) or at module level.
    pub fn values(&self, f: FunctionId, dotted: &str) -> Vec<&'a Expr> {
        let function = self.module.functions.get(f);
        if dotted.starts_with("self.") || dotted.starts_with("cls.") || dotted.starts_with("this.")
        {
            let Some(c) = function.and_then(|_| class_of(self.module, f)) else {
                return Vec::new();
            };
            return self
                .values
                .get(&(usize::MAX - c, dotted.to_string()))
                .cloned()
                .unwrap_or_default();
        }
        let mut scope = Some(f);
        let mut seen = HashSet::new();
        while let Some(s) = scope {
            if !seen.insert(s) {
                break;
            }
            if let Some(v) = self.values.get(&(s, dotted.to_string())) {
                return v.clone();
            }
            scope = self.module.functions.get(s).and_then(|f| f.parent);
            if scope.is_none() && s != 0 {
                scope = Some(0);
            }
        }
        Vec::new()
    }

    /// The canonical callee of every constructor call `dotted` may hold inside `f`.
    pub fn constructors(&self, f: FunctionId, dotted: &str) -> Vec<String> {
        self.values(f, dotted)
            .into_iter()
            .filter_map(|v| {
                let (callee, _) = call_parts(v)?;
                self.module.canonical(callee)
            })
            .collect()
    }
}

/// The class whose `self`/`this` a function sees: its own, or for a lambda or arrow function
/// that of the method it is in.
fn class_of(module: &Module, f: FunctionId) -> Option<usize> {
    let mut function = module.functions.get(f)?;
    for _ in 0..32 {
        if function.class.is_some() {
            return function.class;
        }
        function = module.functions.get(function.parent?)?;
    }
    None
}

/// The literal text of an expression: a string, or a name bound once at module level to one.
pub fn literal_str(module: &Module, e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Str(s) => Some(s.clone()),
        ExprKind::Name(n) => {
            let top = module.functions.first()?;
            let mut found = None;
            let mut count = 0;
            for s in &top.body {
                if let StmtKind::Assign {
                    target: Pattern::Name(t, _),
                    value,
                } = &s.kind
                    && t == n
                {
                    count += 1;
                    found = value.as_str().map(str::to_string);
                }
            }
            if count == 1 { found } else { None }
        }
        _ => None,
    }
}

/// `os.environ.get("HOST", "0.0.0.0")`, `os.getenv("HOST", "0.0.0.0")`: the default.
pub fn env_default<'a>(module: &Module, e: &'a Expr) -> Option<&'a Expr> {
    let (callee, args) = call_parts(e)?;
    let path = module.canonical(callee)?;
    if !matches!(path.as_str(), "os.getenv" | "os.environ.get") {
        return None;
    }
    positional(args).nth(1).or_else(|| {
        args.iter()
            .find(|a| a.name.as_deref() == Some("default"))
            .map(|a| &a.value)
    })
}

/// A consequential thing a tool does: what rate limits and audit logs are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    Commands,
    Files,
    Network,
}

impl Effect {
    pub fn verb(self) -> &'static str {
        match self {
            Effect::Commands => "run commands",
            Effect::Files => "write or delete files",
            Effect::Network => "make network requests",
        }
    }
}

/// A method called on something built by a library with effects: `self.session.get(...)` on
/// a `requests.Session()`, `proc.communicate()` on a `subprocess.Popen(...)`.
fn receiver_effect(bindings: &Bindings<'_>, f: FunctionId, e: &Expr) -> Option<Effect> {
    let (callee, _) = call_parts(e)?;
    let ExprKind::Attr { object, .. } = &callee.kind else {
        return None;
    };
    let dotted = object.dotted()?;
    bindings.constructors(f, &dotted).iter().find_map(|c| {
        let root = c.split('.').next().unwrap_or("");
        match root {
            "requests" | "httpx" | "aiohttp" | "smtplib" | "ftplib" | "paramiko" | "axios"
            | "got" | "undici" | "ky" | "nodemailer" | "ssh2" => Some(Effect::Network),
            "subprocess" => Some(Effect::Commands),
            _ => None,
        }
    })
}

fn effect_of(module: &Module, e: &Expr) -> Option<Effect> {
    let (callee, args) = call_parts(e)?;
    let path = module.canonical(callee).unwrap_or_default();
    let root = path.split('.').next().unwrap_or("");
    if root == "subprocess"
        || matches!(
            path.as_str(),
            "os.system"
                | "os.popen"
                | "asyncio.create_subprocess_exec"
                | "asyncio.create_subprocess_shell"
        )
        || path.starts_with("os.exec")
        || path.starts_with("os.spawn")
    {
        return Some(Effect::Commands);
    }
    if matches!(
        path.as_str(),
        "shutil.rmtree"
            | "shutil.move"
            | "shutil.copy"
            | "shutil.copy2"
            | "shutil.copyfile"
            | "shutil.copytree"
            | "os.remove"
            | "os.unlink"
            | "os.rmdir"
            | "os.rename"
            | "os.replace"
            | "os.makedirs"
            | "shutil.make_archive"
            | "shutil.unpack_archive"
    ) {
        return Some(Effect::Files);
    }
    // Node: child processes, writes through `fs`, outbound requests.
    if matches!(root, "child_process" | "execa" | "cross-spawn" | "shelljs") {
        return Some(Effect::Commands);
    }
    let last = path.rsplit('.').next().unwrap_or("");
    if matches!(root, "fs" | "fs-extra")
        && matches!(
            last.trim_end_matches("Sync"),
            "writeFile"
                | "appendFile"
                | "unlink"
                | "rm"
                | "rmdir"
                | "rename"
                | "mkdir"
                | "copyFile"
                | "cp"
                | "truncate"
                | "symlink"
                | "createWriteStream"
                | "outputFile"
                | "remove"
                | "move"
                | "emptyDir"
                | "writeJson"
        )
    {
        return Some(Effect::Files);
    }
    // Archive extraction writes every member.
    if matches!(
        path.as_str(),
        "tar.x" | "tar.extract" | "extract-zip" | "decompress" | "unzipper.Extract"
    ) || matches!(&callee.kind, ExprKind::Attr { name, .. }
        if matches!(name.as_str(), "extractAllTo" | "extractEntryTo" | "extractAllToAsync"))
    {
        return Some(Effect::Files);
    }
    if matches!(
        root,
        "axios" | "got" | "undici" | "node-fetch" | "ky" | "superagent" | "needle" | "nodemailer"
    ) || matches!(
        path.as_str(),
        "fetch" | "globalThis.fetch" | "http.request" | "https.request" | "http.get" | "https.get"
    ) || path == "net.connect"
        || path == "net.createConnection"
    {
        return Some(Effect::Network);
    }
    if path == "open" || path == "io.open" || path == "aiofiles.open" {
        let mode = positional(args)
            .nth(1)
            .or_else(|| call_keyword(args, "mode"))
            .and_then(Expr::as_str);
        if mode.is_some_and(|m| m.contains(['w', 'a', 'x', '+'])) {
            return Some(Effect::Files);
        }
    }
    if let ExprKind::Attr { name, .. } = &callee.kind
        && matches!(
            name.as_str(),
            "write_text" | "write_bytes" | "unlink" | "rmdir" | "rmtree"
        )
    {
        return Some(Effect::Files);
    }
    if ["requests", "httpx", "aiohttp", "smtplib"].contains(&root)
        || path.starts_with("urllib.request.")
        || path.starts_with("http.client.")
        || path == "socket.create_connection"
    {
        return Some(Effect::Network);
    }
    None
}

fn call_keyword<'a>(args: &'a [crate::code::ir::Arg], name: &str) -> Option<&'a Expr> {
    args.iter()
        .find(|a| a.name.as_deref() == Some(name))
        .map(|a| &a.value)
}
