use std::collections::{BTreeSet, HashMap, HashSet};

use crate::code::ir::{
    BinOp, CmpOp, Expr, ExprKind, FunctionId, HandlerKind, Language, Module, Pattern, StmtKind,
};
use crate::code::structure::{FnKey, Structure, call_parts, for_each_expr, walk_own};
use crate::declare_rule;
use crate::diagnostic::{Diagnostic, TraceStep};
use crate::registry::RuleMeta;

declare_rule! {
    /// ## What it does
    /// Finds functions a tool reaches that call themselves (directly or through other functions)
    /// with nothing bounding how deep they go, when each level is fed by the outside world:
    /// - recursion over what the filesystem lists (`os.scandir`, `Path.iterdir`, `glob`,
    ///   `os.readlink`): directory walkers and link followers;
    /// - recursion over what the network returns (`requests`, `httpx`, `aiohttp`, `urlopen`):
    ///   crawlers following links;
    /// - tools re-entering the tool surface: a low-level `call_tool` dispatcher calling itself
    ///   (a `batch` tool running steps that may be batches), or tools calling each other.
    ///
    /// In TypeScript and JavaScript the same: functions and methods (`this.walk(...)`, `async`
    /// ones too) recursing over `fs.readdir`/`readdirSync`/`opendir`/`readlink` (`fs`,
    /// `fs/promises`, `fs-extra`), glob packages, or over what `fetch`, axios, got, undici or
    /// `http.get` return; a callback counts as called by the call it is passed to, so
    /// `Promise.all(entries.map(e => walk(...)))` and `fs.readdir(dir, (err, names) => ...)`
    /// recurse too.
    ///
    /// A depth counter that is compared or decremented (a parameter or variable named like
    /// `depth`, `level`, `limit`, `max_*`, `remaining`, `budget`, `hops`, `ttl`) or a visited set
    /// (`if p in seen: return` ... `seen.add(p)`; `seen.has(p)` ... `seen.add(p)` in TypeScript)
    /// counts as a bound. Recursion over data already in
    /// memory (walking a parsed JSON document, a tool deep-merging its own arguments) is bounded
    /// by that data and not reported. A depth argument that only grows and is never compared
    /// (indentation) is no bound.
    ///
    /// ## Why is this bad?
    /// The model chooses where the walk starts, and a prompt injection can choose for it: `/` or
    /// a home folder with a symlink loop, a site whose every page links to fresh pages. With
    /// no depth limit one tool call walks without end, fanning out at every level; Python stops
    /// at about a thousand frames with a `RecursionError`, but a walk that fans out exhausts
    /// time, memory and file handles long before (CWE-674, uncontrolled recursion). The server
    /// is unavailable for everyone while it runs, hence medium severity: availability, not data.
    ///
    /// ## Example
    /// ```python
    /// import os
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("files")
    ///
    /// def tree(path: str, indent: int = 0) -> list[str]:
    ///     lines = []
    ///     for entry in os.scandir(path):
    ///         lines.append(" " * indent + entry.name)
    ///         if entry.is_dir():
    ///             lines.extend(tree(entry.path, indent + 2))
    ///     return lines
    ///
    /// @mcp.tool()
    /// def list_tree(path: str) -> str:
    ///     return "\n".join(tree(path))
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import os
    /// from mcp.server.fastmcp import FastMCP
    ///
    /// mcp = FastMCP("files")
    ///
    /// def tree(path: str, depth: int = 0, max_depth: int = 4) -> list[str]:
    ///     if depth > max_depth:
    ///         return ["..."]
    ///     lines = []
    ///     for entry in os.scandir(path):
    ///         lines.append(" " * depth + entry.name)
    ///         if entry.is_dir(follow_symlinks=False):
    ///             lines.extend(tree(entry.path, depth + 1, max_depth))
    ///     return lines
    ///
    /// @mcp.tool()
    /// def list_tree(path: str) -> str:
    ///     return "\n".join(tree(path))
    /// ```
    /// Give every recursive walk a depth limit that is checked before recursing, do not follow
    /// symlinks (or keep a set of resolved paths already seen), and cap the total number of
    /// entries or pages as well.
    ///
    /// ## References
    /// - [CWE-674: Uncontrolled Recursion](https://cwe.mitre.org/data/definitions/674.html)
    /// - [CWE-400: Uncontrolled Resource Consumption](https://cwe.mitre.org/data/definitions/400.html)
    /// - [os.scandir and symlinks](https://docs.python.org/3/library/os.html#os.DirEntry.is_dir)
    pub static UNBOUNDED_RECURSION_FROM_HANDLER = {
        code: "PC121",
        name: "unbounded-recursion-from-handler",
        summary: "A tool reaches a recursive walk with no depth limit",
        severity: Medium,
        confidence: Medium,
        cwe: [674],
        target: Code,
    }
}

/// What feeds each level of the recursion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Feed {
    Filesystem,
    Network,
    /// Handlers calling handlers.
    Tools,
}

fn diagnostic(
    s: &Structure<'_>,
    cycle: &[FnKey],
    site: &Expr,
    feed: Feed,
    via: Option<&str>,
) -> Diagnostic {
    let module = s.module(cycle[0].0);
    // `buildTree` rather than `<lambda>.buildTree` for a helper inside an anonymous handler.
    let name = |k: &FnKey| {
        let mut shown = s.module(k.0).functions[k.1].qualname.as_str();
        while let Some(rest) = shown.strip_prefix("<lambda>.") {
            shown = rest;
        }
        shown.to_owned()
    };
    let who = if cycle.len() == 1 {
        format!("`{}` calls itself", name(&cycle[0]))
    } else {
        let names: Vec<String> = cycle.iter().map(|k| format!("`{}`", name(k))).collect();
        format!("{} call each other", names.join(" and "))
    };
    let what = match feed {
        Feed::Filesystem => " on what the filesystem returns",
        Feed::Network => " on what the network returns",
        Feed::Tools => "",
    };
    let message = match (feed, via) {
        (Feed::Tools, None) => {
            format!("{who} with no depth limit: the arguments decide how deep tool calls nest")
        }
        (_, Some(via)) => format!("{who}{what} with no depth limit; {via} reaches it"),
        (_, None) => format!("{who}{what} with no depth limit"),
    };
    let help = match feed {
        Feed::Tools => {
            "Give the handler a depth or call budget that is checked before it calls a tool again, or refuse nested calls."
        }
        Feed::Filesystem if module.language == Language::Python => {
            "Pass a depth that is checked before recursing (`if depth > MAX_DEPTH: return`), do not follow symlinks, and cap the number of entries."
        }
        Feed::Filesystem => {
            "Pass a depth that is checked before recursing (`if (depth > MAX_DEPTH) return;`), do not follow symlinks (read entries with `withFileTypes: true` and skip `isSymbolicLink()`, or `lstat`), and cap the number of entries."
        }
        Feed::Network => {
            "Pass a depth that is checked before following links, keep a set of pages already seen, and cap the number of pages."
        }
    };
    let mut d = Diagnostic::new(
        &UNBOUNDED_RECURSION_FROM_HANDLER,
        &module.file,
        site.span,
        message,
    )
    .with_help(help);
    if cycle.len() > 1 {
        d = d.with_trace(
            cycle
                .iter()
                .map(|k| TraceStep {
                    file: module_file(s, k.0),
                    span: s.module(k.0).functions[k.1].name_span,
                    message: format!("`{}` is part of the cycle", name(k)),
                })
                .collect(),
        );
    }
    d
}

fn module_file(s: &Structure<'_>, m: usize) -> std::sync::Arc<crate::source::SourceFile> {
    std::sync::Arc::clone(&s.module(m).file)
}

/// Words that make a name a bound when it is compared: `depth`, `max_depth`, `remaining`.
const LIMIT_WORDS: &[&str] = &[
    "depth",
    "level",
    "limit",
    "max",
    "remaining",
    "budget",
    "hop",
    "ttl",
    "fuel",
    "recurs",
    "left",
];

fn limit_like(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    LIMIT_WORDS.iter().any(|w| lower.contains(w))
}

pub struct Rule;

impl super::ProjectRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &UNBOUNDED_RECURSION_FROM_HANDLER
    }

    fn check(&self, s: &Structure<'_>, out: &mut Vec<Diagnostic>) {
        let reached = s.reachable_from_handlers();
        let mut nodes: Vec<FnKey> = reached.keys().copied().collect();
        nodes.sort();
        let mut edges: HashMap<FnKey, Vec<(FnKey, &Expr)>> = HashMap::new();
        for &k in &nodes {
            let mut out: Vec<(FnKey, &Expr)> = s
                .calls_from(k)
                .into_iter()
                .filter(|(t, _)| reached.contains_key(t))
                .collect();
            // A function passed to a call is called by it: `entries.map(e => walk(e))`,
            // `fs.readdir(dir, (err, names) => ...)`. The call stands for the edge.
            for (t, call) in callbacks(s.module(k.0), k.1) {
                let t = (k.0, t);
                if reached.contains_key(&t) && !out.iter().any(|(o, _)| *o == t) {
                    out.push((t, call));
                }
            }
            edges.insert(k, out);
        }
        let handlers: HashMap<FnKey, HandlerKind> = s
            .project
            .modules
            .iter()
            .enumerate()
            .flat_map(|(m, module)| {
                module
                    .handlers
                    .iter()
                    .map(move |h| ((m, h.function), h.kind))
            })
            .collect();
        for scc in strongly_connected(&nodes, &edges) {
            let members: BTreeSet<FnKey> = scc.iter().copied().collect();
            let recursive = scc.len() > 1 || edges[&scc[0]].iter().any(|(t, _)| *t == scc[0]);
            if !recursive || members.iter().any(|&k| bounded(s, k, &members, &edges)) {
                continue;
            }
            // The recursive call sites, in order, with what feeds them.
            let mut sites: Vec<(FnKey, &Expr, Option<Feed>)> = Vec::new();
            for &k in &members {
                let feeds = external_feeds(s.module(k.0), k.1);
                for (t, call) in &edges[&k] {
                    if members.contains(t) {
                        sites.push((k, call, feeds.get(&call.span.start).copied()));
                    }
                }
            }
            // Re-entering the tool surface: a `call_tool` dispatcher calling itself, or tools
            // calling each other. A tool recursing into parts of its own argument is structural
            // recursion like any helper's.
            let in_cycle: Vec<HandlerKind> = members
                .iter()
                .filter_map(|k| handlers.get(k).copied())
                .collect();
            let reenters_tools = in_cycle.len() > 1 || in_cycle.contains(&HandlerKind::CallTool);
            let Some((_, site, feed)) = sites
                .iter()
                .find(|(_, _, f)| f.is_some())
                .or_else(|| sites.first().filter(|_| reenters_tools))
                .copied()
            else {
                // Recursion over data already in memory: bounded by that data.
                continue;
            };
            let feed = feed.unwrap_or(Feed::Tools);
            let first = *members.iter().next().unwrap_or(&scc[0]);
            let origin = reached[&first];
            // A handler in the cycle needs no "reached from" of its own.
            let via = in_cycle.is_empty().then(|| s.handler_label(origin));
            let cycle: Vec<FnKey> = members.iter().copied().collect();
            out.push(diagnostic(s, &cycle, site, feed, via.as_deref()));
        }
    }
}

/// Whether a function of the cycle bounds the recursion: a limit-like name compared, a
/// limit-like argument decremented on the way down, or a visited set checked and filled.
fn bounded(
    s: &Structure<'_>,
    (m, f): FnKey,
    members: &BTreeSet<FnKey>,
    edges: &HashMap<FnKey, Vec<(FnKey, &Expr)>>,
) -> bool {
    let module = s.module(m);
    let function = &module.functions[f];
    let mut compared = false;
    let mut membership: Vec<String> = Vec::new();
    let mut filled: HashSet<String> = HashSet::new();
    let mut visit = |e: &Expr| match &e.kind {
        ExprKind::Compare { left, ops, rights } => {
            if mentions_limit(left) || rights.iter().any(mentions_limit) {
                compared = true;
            }
            for (op, right) in ops.iter().zip(rights) {
                if matches!(op, CmpOp::In | CmpOp::NotIn)
                    && let Some(d) = right.dotted()
                {
                    membership.push(d);
                }
            }
        }
        ExprKind::Call { callee, .. } => {
            if let ExprKind::Attr { object, name, .. } = &callee.kind
                && let Some(d) = object.dotted()
            {
                match name.as_str() {
                    "add" | "append" | "update" | "setdefault" | "push" | "set" => {
                        filled.insert(d);
                    }
                    // `seen.has(p)`, `visited.includes(p)`: a membership test by method.
                    "has" | "includes" | "contains" => membership.push(d),
                    _ => {}
                }
            }
        }
        _ => {}
    };
    for stmt in &function.body {
        crate::code::ir::walk_stmt(stmt, &mut visit);
    }
    // `if depth:` / `while remaining:` test a limit without a comparison.
    crate::code::ir::each_stmt(&function.body, &mut |st| {
        if let StmtKind::If { test, .. } = &st.kind
            && mentions_limit(test)
        {
            compared = true;
        }
    });
    if compared || membership.iter().any(|d| filled.contains(d)) {
        return true;
    }
    // `walk(child, depth - 1)`: counted down on the way in.
    edges[&(m, f)]
        .iter()
        .filter(|(t, _)| members.contains(t))
        .any(|(_, call)| {
            call_parts(call).is_some_and(|(_, args)| {
                args.iter().any(|a| {
                    matches!(&a.value.kind, ExprKind::Binary { op: BinOp::Other, left, .. }
                        if left.dotted().is_some_and(|d| limit_like(d.rsplit('.').next().unwrap_or(&d))))
                })
            })
        })
}

fn mentions_limit(e: &Expr) -> bool {
    let mut found = false;
    crate::code::ir::walk_expr(e, &mut |x| match &x.kind {
        ExprKind::Name(n) if limit_like(n) => found = true,
        ExprKind::Attr { name, .. } if limit_like(name) => found = true,
        _ => {}
    });
    found
}

/// For each call in a function whose arguments come from the filesystem or the network (by
/// the call's start offset), what feeds it.
fn external_feeds(module: &Module, f: FunctionId) -> HashMap<usize, Feed> {
    let function = &module.functions[f];
    let (external, bound) = external_names(module, f, 0);
    let assigned: HashSet<&str> = bound
        .iter()
        .flat_map(|(t, _)| t.iter().map(String::as_str))
        .chain(function.params.iter().filter_map(|p| p.name()))
        .collect();
    let mut out = HashMap::new();
    crate::code::ir::each_stmt(&function.body, &mut |st| {
        // The statement as a whole: a comprehension binds its variable from its own iterable.
        let mut own: Vec<&Expr> = Vec::new();
        walk_own(st, &mut |e| own.push(e));
        let statement_feed = own
            .iter()
            .filter_map(|e| feed_of(module, e, &external))
            .min();
        for e in &own {
            crate::code::ir::walk_expr(e, &mut |x| {
                let Some((_, args)) = call_parts(x) else {
                    return;
                };
                let direct = args
                    .iter()
                    .filter_map(|a| feed_of(module, &a.value, &external))
                    .min();
                let comprehension = args.iter().any(|a| {
                    let mut free = false;
                    crate::code::ir::walk_expr(&a.value, &mut |n| {
                        if let ExprKind::Name(n) = &n.kind
                            && !assigned.contains(n.as_str())
                            && module.imports.iter().all(|i| &i.local != n)
                        {
                            free = true;
                        }
                    });
                    free
                });
                if let Some(feed) = direct.or(statement_feed.filter(|_| comprehension)) {
                    out.insert(x.span.start, feed);
                }
            });
        }
    });
    out
}

/// Names bound from outside data in a function, to a fixpoint (`entries = os.scandir(p)`,
/// `for e in entries`), with every binding the function makes.
#[allow(clippy::type_complexity)]
fn external_names(
    module: &Module,
    f: FunctionId,
    depth: usize,
) -> (HashMap<String, Feed>, Vec<(Vec<String>, &Expr)>) {
    let function = &module.functions[f];
    let mut bound: Vec<(Vec<String>, &Expr)> = Vec::new();
    crate::code::ir::each_stmt(&function.body, &mut |st| match &st.kind {
        StmtKind::Assign { target, value } => bound.push((names(target), value)),
        StmtKind::Loop {
            binding: Some(b),
            iter: Some(i),
            ..
        } => bound.push((names(b), i)),
        StmtKind::With { items, .. } => {
            for (e, p) in items {
                if let Some(p) = p {
                    bound.push((names(p), e));
                }
            }
        }
        _ => {}
    });
    let mut external: HashMap<String, Feed> = HashMap::new();
    // A callback of a call fed from outside receives what it feeds:
    // `entries.map(e => ...)`, `fs.readdir(dir, (err, names) => ...)`.
    if let Some(feed) = callback_feed(module, f, depth) {
        for p in &function.params {
            for n in names(&p.pattern) {
                external.insert(n, feed);
            }
        }
    }
    loop {
        let mut changed = false;
        for (targets, value) in &bound {
            if let Some(feed) = feed_of(module, value, &external) {
                for t in targets {
                    if !external.contains_key(t) {
                        external.insert(t.clone(), feed);
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    (external, bound)
}

/// What feeds the call a function is passed to as a callback, in the function it is written
/// in: the call's receiver, callee or other arguments listing the filesystem or fetching.
fn callback_feed(module: &Module, f: FunctionId, depth: usize) -> Option<Feed> {
    const MAX_NESTING: usize = 8;
    if depth >= MAX_NESTING {
        return None;
    }
    let parent = module.functions.get(f)?.parent?;
    let mut calls: Vec<&Expr> = Vec::new();
    for_each_expr(module, parent, &mut |e| {
        if let Some((_, args)) = call_parts(e)
            && args
                .iter()
                .any(|a| matches!(a.value.kind, ExprKind::Function(id) if id == f))
        {
            calls.push(e);
        }
    });
    if calls.is_empty() {
        return None;
    }
    let (external, _) = external_names(module, parent, depth + 1);
    calls
        .into_iter()
        .filter_map(|c| feed_of(module, c, &external))
        .min()
}

/// The functions written inline as arguments of a function's calls, with the call.
fn callbacks(module: &Module, f: FunctionId) -> Vec<(FunctionId, &Expr)> {
    let mut out = Vec::new();
    for_each_expr(module, f, &mut |e| {
        if let Some((_, args)) = call_parts(e) {
            for a in args {
                if let ExprKind::Function(id) = a.value.kind {
                    out.push((id, e));
                }
            }
        }
    });
    out
}

fn names(p: &Pattern) -> Vec<String> {
    match p {
        Pattern::Name(n, _) => vec![n.clone()],
        Pattern::Sequence(items) => items.iter().flat_map(names).collect(),
        Pattern::Object(items) => items.iter().flat_map(|(_, p)| names(p)).collect(),
        Pattern::Rest(p) | Pattern::Default(p, _) => names(p),
        _ => Vec::new(),
    }
}

/// Whether an expression lists the filesystem, fetches from the network, or uses a name that
/// was bound from either.
fn feed_of(module: &Module, e: &Expr, external: &HashMap<String, Feed>) -> Option<Feed> {
    let mut found: Option<Feed> = None;
    let mut note = |f: Feed| found = Some(found.map_or(f, |g| g.min(f)));
    crate::code::ir::walk_expr(e, &mut |x| match &x.kind {
        ExprKind::Name(n) => {
            if let Some(&f) = external.get(n) {
                note(f);
            }
        }
        ExprKind::Call { callee, .. } => {
            if let Some(path) = module.canonical(callee) {
                let fs = [
                    "os.listdir",
                    "os.scandir",
                    "os.walk",
                    "os.fwalk",
                    "os.readlink",
                    "glob.glob",
                    "glob.iglob",
                    // Node: `fs`, `fs/promises`, `fs-extra`, glob packages.
                    "fs.readdir",
                    "fs.readdirSync",
                    "fs.opendir",
                    "fs.opendirSync",
                    "fs.readlink",
                    "fs.readlinkSync",
                    "fs.promises.readdir",
                    "fs.promises.opendir",
                    "fs.promises.readlink",
                    "fs-extra.readdir",
                    "fs-extra.readdirSync",
                    "glob",
                    "glob.sync",
                    "glob.globSync",
                    "fast-glob",
                    "fast-glob.sync",
                ];
                let net = ["requests.", "httpx.", "urllib.request.", "aiohttp."];
                let node_net_roots = ["axios", "got", "undici", "node-fetch", "ky", "superagent"];
                let root = path.split('.').next().unwrap_or("");
                if fs.contains(&path.as_str()) {
                    note(Feed::Filesystem);
                } else if net.iter().any(|p| path.starts_with(p))
                    || node_net_roots.contains(&root)
                    || matches!(
                        path.as_str(),
                        "fetch"
                            | "globalThis.fetch"
                            | "http.get"
                            | "http.request"
                            | "https.get"
                            | "https.request"
                    )
                {
                    note(Feed::Network);
                }
            }
            if let ExprKind::Attr { name, .. } = &callee.kind
                && matches!(
                    name.as_str(),
                    "iterdir" | "rglob" | "glob" | "scandir" | "listdir" | "readlink"
                )
            {
                note(Feed::Filesystem);
            }
        }
        _ => {}
    });
    found
}

/// Tarjan's strongly connected components, iteratively (a long call chain must not exhaust the
/// stack), in a stable order.
fn strongly_connected(
    nodes: &[FnKey],
    edges: &HashMap<FnKey, Vec<(FnKey, &Expr)>>,
) -> Vec<Vec<FnKey>> {
    let succ = |v: &FnKey| -> Vec<FnKey> {
        edges
            .get(v)
            .map(|e| e.iter().map(|(t, _)| *t).collect())
            .unwrap_or_default()
    };
    let mut index: HashMap<FnKey, usize> = HashMap::new();
    let mut low: HashMap<FnKey, usize> = HashMap::new();
    let mut on_stack: HashSet<FnKey> = HashSet::new();
    let mut stack: Vec<FnKey> = Vec::new();
    let mut out: Vec<Vec<FnKey>> = Vec::new();
    let mut next = 0;
    for &root in nodes {
        if index.contains_key(&root) {
            continue;
        }
        // (node, its successors, how many of them were visited)
        let mut work: Vec<(FnKey, Vec<FnKey>, usize)> = Vec::new();
        index.insert(root, next);
        low.insert(root, next);
        next += 1;
        stack.push(root);
        on_stack.insert(root);
        work.push((root, succ(&root), 0));
        while let Some((v, succs, i)) = work.last_mut() {
            let v = *v;
            if let Some(&w) = succs.get(*i) {
                *i += 1;
                if let std::collections::hash_map::Entry::Vacant(e) = index.entry(w) {
                    e.insert(next);
                    low.insert(w, next);
                    next += 1;
                    stack.push(w);
                    on_stack.insert(w);
                    work.push((w, succ(&w), 0));
                } else if on_stack.contains(&w) {
                    let m = low[&v].min(index[&w]);
                    low.insert(v, m);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _, _)) = work.last() {
                let m = low[parent].min(low[&v]);
                low.insert(*parent, m);
            }
            if low[&v] == index[&v] {
                let mut scc = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack.remove(&w);
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                scc.sort();
                out.push(scc);
            }
        }
    }
    out.sort();
    out
}
