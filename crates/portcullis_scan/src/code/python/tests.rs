//! Tests of the Python frontend: they assert on the IR's structure through small finders, not
//! on Debug dumps, so they say what the engine may rely on.

use std::path::Path;
use std::sync::Arc;

use super::{lower, module_name, parse};
use crate::code::ir::{
    Arg, BinOp, Block, BoolOp, CmpOp, Expr, ExprKind, Function, Handler, HandlerKind, Module,
    ParamKind, Pattern, Stmt, StmtKind,
};
use crate::source::SourceFile;
use crate::span::Span;

// ----- helpers -----

fn lower_src(src: &str) -> Module {
    let file = Arc::new(SourceFile::from_text("server.py", src));
    let tree = parse(src).expect("parser");
    lower(file, "server", &tree)
}

fn text(m: &Module, span: Span) -> &str {
    &m.file.text[span.range()]
}

fn func<'m>(m: &'m Module, qualname: &str) -> &'m Function {
    m.functions
        .iter()
        .find(|f| f.qualname == qualname)
        .unwrap_or_else(|| panic!("no function {qualname}"))
}

fn func_id(m: &Module, qualname: &str) -> usize {
    m.functions
        .iter()
        .position(|f| f.qualname == qualname)
        .unwrap_or_else(|| panic!("no function {qualname}"))
}

fn handler<'m>(m: &'m Module, qualname: &str) -> &'m Handler {
    let id = func_id(m, qualname);
    m.handlers
        .iter()
        .find(|h| h.function == id)
        .unwrap_or_else(|| panic!("{qualname} is not a handler"))
}

fn is_handler(m: &Module, qualname: &str) -> bool {
    let id = func_id(m, qualname);
    m.handlers.iter().any(|h| h.function == id)
}

/// Every statement, depth first, including nested blocks.
fn stmts(block: &Block) -> Vec<&Stmt> {
    let mut out = Vec::new();
    crate::code::ir::each_stmt(block, &mut |s| out.push(s));
    out
}

/// Every expression in a block, depth first, including those in patterns and annotations.
fn exprs(block: &Block) -> Vec<&Expr> {
    let mut out = Vec::new();
    for s in stmts(block) {
        match &s.kind {
            StmtKind::Assign { target, value } => {
                pattern_exprs(target, &mut out);
                expr_tree(value, &mut out);
            }
            StmtKind::Expr(e) => expr_tree(e, &mut out),
            StmtKind::Return(e) | StmtKind::Raise(e) => {
                if let Some(e) = e {
                    expr_tree(e, &mut out);
                }
            }
            StmtKind::If { test, .. } => expr_tree(test, &mut out),
            StmtKind::Loop { iter, binding, .. } => {
                if let Some(e) = iter {
                    expr_tree(e, &mut out);
                }
                if let Some(p) = binding {
                    pattern_exprs(p, &mut out);
                }
            }
            StmtKind::With { items, .. } => {
                for (e, p) in items {
                    expr_tree(e, &mut out);
                    if let Some(p) = p {
                        pattern_exprs(p, &mut out);
                    }
                }
            }
            StmtKind::Try { handlers, .. } => {
                for h in handlers {
                    if let Some(t) = &h.types {
                        expr_tree(t, &mut out);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn pattern_exprs<'a>(p: &'a Pattern, out: &mut Vec<&'a Expr>) {
    match p {
        Pattern::Attr(e, _) => expr_tree(e, out),
        Pattern::Subscript(a, b) => {
            expr_tree(a, out);
            expr_tree(b, out);
        }
        Pattern::Sequence(items) => items.iter().for_each(|i| pattern_exprs(i, out)),
        Pattern::Rest(inner) | Pattern::Default(inner, _) => pattern_exprs(inner, out),
        Pattern::Object(items) => items.iter().for_each(|(_, i)| pattern_exprs(i, out)),
        Pattern::Name(..) | Pattern::Ignore => {}
    }
}

fn expr_tree<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    out.push(e);
    let mut children: Vec<&'a Expr> = Vec::new();
    match &e.kind {
        ExprKind::Attr { object, .. } => children.push(object),
        ExprKind::Subscript { object, index } => children.extend([&**object, &**index]),
        ExprKind::Call { callee, args, .. } => {
            children.push(callee);
            children.extend(args.iter().map(|a| &a.value));
        }
        ExprKind::Binary { left, right, .. } => children.extend([&**left, &**right]),
        ExprKind::Compare { left, rights, .. } => {
            children.push(left);
            children.extend(rights);
        }
        ExprKind::Not(x) | ExprKind::Spread(x) | ExprKind::Await(x) => children.push(x),
        ExprKind::Conditional { test, then, orelse } => {
            children.extend([&**test, &**then, &**orelse])
        }
        ExprKind::Template(items)
        | ExprKind::Seq(items)
        | ExprKind::Unknown(items)
        | ExprKind::Logical { values: items, .. } => children.extend(items),
        ExprKind::Map(entries) => {
            for (k, v) in entries {
                children.extend(k.as_ref());
                children.push(v);
            }
        }
        _ => {}
    }
    for c in children {
        expr_tree(c, out);
    }
}

/// The first call in a function whose callee is the dotted name `callee`.
fn call<'m>(f: &'m Function, callee: &str) -> &'m Expr {
    exprs(&f.body)
        .into_iter()
        .find(|e| matches!(&e.kind, ExprKind::Call { callee: c, .. } if c.dotted().as_deref() == Some(callee)))
        .unwrap_or_else(|| panic!("no call to {callee} in {}", f.qualname))
}

fn call_args(e: &Expr) -> &[Arg] {
    match &e.kind {
        ExprKind::Call { args, .. } => args,
        other => panic!("not a call: {other:?}"),
    }
}

/// The value assigned to a plain name in a block (first assignment).
fn assigned<'a>(block: &'a Block, name: &str) -> &'a Expr {
    stmts(block)
        .into_iter()
        .find_map(|s| match &s.kind {
            StmtKind::Assign {
                target: Pattern::Name(n, _),
                value,
            } if n == name => Some(value),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no assignment to {name}"))
}

fn name_of(e: &Expr) -> &str {
    match &e.kind {
        ExprKind::Name(n) => n,
        other => panic!("not a name: {other:?}"),
    }
}

fn strs(items: &[Expr]) -> Vec<Option<&str>> {
    items.iter().map(|e| e.as_str()).collect()
}

/// Names anywhere under an expression.
fn names_in(e: &Expr) -> Vec<&str> {
    let mut all = Vec::new();
    expr_tree(e, &mut all);
    all.into_iter()
        .filter_map(|e| match &e.kind {
            ExprKind::Name(n) => Some(n.as_str()),
            _ => None,
        })
        .collect()
}

/// Every span in the module, for boundary checks.
fn all_spans(m: &Module) -> Vec<Span> {
    let mut spans = Vec::new();
    spans.extend(m.imports.iter().map(|i| i.span));
    spans.extend(m.syntax_errors.iter().copied());
    spans.extend(m.handlers.iter().map(|h| h.span));
    for c in &m.classes {
        spans.push(c.span);
    }
    for f in &m.functions {
        spans.extend([f.span, f.name_span]);
        let mut es: Vec<&Expr> = f.decorators.iter().collect();
        for p in &f.params {
            spans.push(p.span);
            if let Pattern::Name(_, s) = &p.pattern {
                spans.push(*s);
            }
            es.extend(p.annotation.iter());
            es.extend(p.default.iter());
        }
        spans.extend(stmts(&f.body).iter().map(|s| s.span));
        for e in es {
            let mut sub = Vec::new();
            expr_tree(e, &mut sub);
            spans.extend(sub.iter().map(|x| x.span));
        }
        for e in exprs(&f.body) {
            spans.push(e.span);
            if let ExprKind::Attr { name_span, .. } = &e.kind {
                spans.push(*name_span);
            }
        }
    }
    spans
}

// ----- FastMCP -----

const FASTMCP_SERVER: &str = r#""""A small file server, written the way the SDK examples write them."""
import asyncio
import os
from typing import Annotated, Literal

from pydantic import Field
from mcp.server.fastmcp import FastMCP, Context

mcp = FastMCP("files")
BASE = os.environ.get("FILES_BASE", "/srv/files")


@mcp.tool()
def read_file(
    path: Annotated[str, Field(description="Path relative to the base")],
    ctx: Context,
) -> str:
    """Read a file."""
    full = os.path.join(BASE, path)
    with open(full, encoding="utf-8") as f:
        return f.read()


@mcp.tool(name="run", description="Run a command")
async def run_command(command: str, mode: Literal["fast", "slow"] = "fast", *, timeout: int = 10) -> str:
    proc = await asyncio.create_subprocess_shell(f"{command} --mode={mode}")
    out, err = await proc.communicate()
    return out.decode()


@mcp.resource("file://{name}")
def file_resource(name: str) -> str:
    return open(os.path.join(BASE, name)).read()


@mcp.prompt
def review(code: str, ctx) -> str:
    return "Review this:\n%s" % code


def helper(x):
    return x


if __name__ == "__main__":
    mcp.run()
"#;

#[test]
fn fastmcp_handlers() {
    let m = lower_src(FASTMCP_SERVER);
    assert!(m.syntax_errors.is_empty(), "{:?}", m.syntax_errors);

    let h = handler(&m, "read_file");
    assert_eq!(h.kind, HandlerKind::Tool);
    assert_eq!(h.name.as_deref(), Some("read_file"));
    assert_eq!(h.tainted_params, vec![0], "ctx: Context is not a source");
    assert_eq!(text(&m, h.span), "mcp.tool()");

    let h = handler(&m, "run_command");
    assert_eq!(h.name.as_deref(), Some("run"));
    assert_eq!(
        h.tainted_params,
        vec![0, 1, 2],
        "keyword-only params are sources"
    );

    let h = handler(&m, "file_resource");
    assert_eq!(h.kind, HandlerKind::Resource);
    assert_eq!(h.name.as_deref(), Some("file://{name}"));
    assert_eq!(h.tainted_params, vec![0]);

    let h = handler(&m, "review");
    assert_eq!(h.kind, HandlerKind::Prompt);
    assert_eq!(text(&m, h.span), "mcp.prompt");
    assert_eq!(
        h.tainted_params,
        vec![0],
        "an unannotated `ctx` is the context"
    );

    assert!(!is_handler(&m, "helper"));
    assert_eq!(m.handlers.len(), 4);
}

#[test]
fn fastmcp_structure() {
    let m = lower_src(FASTMCP_SERVER);
    let top = &m.functions[0];
    assert_eq!(top.qualname, "<module>");
    assert_eq!(top.span, Span::new(0, FASTMCP_SERVER.len()));

    let import = |local: &str| {
        m.imports
            .iter()
            .find(|i| i.local == local)
            .map(|i| i.path.as_str())
    };
    assert_eq!(import("FastMCP"), Some("mcp.server.fastmcp.FastMCP"));
    assert_eq!(import("Annotated"), Some("typing.Annotated"));
    assert_eq!(import("os"), Some("os"));

    // `mcp = FastMCP("files")`.
    let value = assigned(&top.body, "mcp");
    let ExprKind::Call { callee, args, .. } = &value.kind else {
        panic!("{value:?}")
    };
    assert_eq!(callee.dotted().as_deref(), Some("FastMCP"));
    assert_eq!(args[0].value.as_str(), Some("files"));

    // Annotations are expressions: `Annotated[str, Field(description=...)]`.
    let read = func(&m, "read_file");
    assert_eq!(read.params.len(), 2);
    let ann = read.params[0].annotation.as_ref().expect("annotation");
    let ExprKind::Subscript { object, index } = &ann.kind else {
        panic!("{ann:?}")
    };
    assert_eq!(object.dotted().as_deref(), Some("Annotated"));
    let ExprKind::Seq(items) = &index.kind else {
        panic!("{index:?}")
    };
    assert_eq!(items[0].dotted().as_deref(), Some("str"));
    assert_eq!(
        items[1].keyword("description").and_then(|d| d.as_str()),
        Some("Path relative to the base")
    );
    assert_eq!(text(&m, read.name_span), "read_file");
    assert_eq!(read.decorators.len(), 1);

    // `with open(full, ...) as f: return f.read()`.
    let with = stmts(&read.body)
        .into_iter()
        .find_map(|s| match &s.kind {
            StmtKind::With { items, body } => Some((items, body)),
            _ => None,
        })
        .expect("with");
    assert_eq!(
        with.0[0].0.keyword("encoding").and_then(|e| e.as_str()),
        Some("utf-8")
    );
    assert!(matches!(&with.0[0].1, Some(Pattern::Name(n, _)) if n == "f"));
    assert!(matches!(with.1[0].kind, StmtKind::Return(Some(_))));

    // `Literal["fast", "slow"]`, a default, keyword-only `timeout`.
    let run = func(&m, "run_command");
    assert!(run.is_async);
    let ann = run.params[1].annotation.as_ref().expect("annotation");
    let ExprKind::Subscript { index, .. } = &ann.kind else {
        panic!("{ann:?}")
    };
    let ExprKind::Seq(items) = &index.kind else {
        panic!("{index:?}")
    };
    assert_eq!(strs(items), vec![Some("fast"), Some("slow")]);
    assert_eq!(
        run.params[1].default.as_ref().and_then(|d| d.as_str()),
        Some("fast")
    );
    assert_eq!(run.params[2].name(), Some("timeout"));
    assert_eq!(run.params[2].kind, ParamKind::Normal);

    // The f-string: holes are the expressions, literal pieces are strings.
    let shell = call(run, "asyncio.create_subprocess_shell");
    let ExprKind::Template(pieces) = &call_args(shell)[0].value.kind else {
        panic!("{shell:?}")
    };
    assert_eq!(name_of(&pieces[0]), "command");
    assert_eq!(pieces[1].as_str(), Some(" --mode="));
    assert_eq!(name_of(&pieces[2]), "mode");
    // It sits under an await, as the right side of a tuple assignment.
    let unpack = stmts(&run.body)
        .into_iter()
        .find_map(|s| match &s.kind {
            StmtKind::Assign {
                target: Pattern::Sequence(items),
                value,
            } => Some((items, value)),
            _ => None,
        })
        .expect("tuple assignment");
    assert_eq!(unpack.0.len(), 2);
    assert!(matches!(unpack.1.kind, ExprKind::Await(_)));

    // `"Review this:\n%s" % code`.
    let review = func(&m, "review");
    let StmtKind::Return(Some(ret)) = &review.body[0].kind else {
        panic!("{:?}", review.body)
    };
    let ExprKind::Binary { op, left, right } = &ret.kind else {
        panic!("{ret:?}")
    };
    assert_eq!(*op, BinOp::Mod);
    assert_eq!(left.as_str(), Some("Review this:\n%s"));
    assert_eq!(name_of(right), "code");

    // `if __name__ == "__main__":` at the end of the module.
    let last = top.body.last().expect("statements");
    let StmtKind::If { test, then, .. } = &last.kind else {
        panic!("{last:?}")
    };
    let ExprKind::Compare { ops, rights, .. } = &test.kind else {
        panic!("{test:?}")
    };
    assert_eq!(ops, &[CmpOp::Eq]);
    assert_eq!(rights[0].as_str(), Some("__main__"));
    assert!(matches!(then[0].kind, StmtKind::Expr(_)));
    // Top-level `def`s are bound in the module body.
    assert!(top.body.iter().any(|s| matches!(&s.kind,
        StmtKind::Def { name, function: Some(id) } if name == "helper" && *id == func_id(&m, "helper"))));
}

#[test]
fn standalone_fastmcp_and_registration_calls() {
    let m = lower_src(
        r#"
from fastmcp import FastMCP, Context
from fastmcp.tools import Tool

app = FastMCP(name="standalone")

@app.tool
def bare(query: str, ctx: Context) -> list[str]:
    return []

@app.tool("custom_name")
def positional_name(a: int, b: "Context") -> int:
    return a

def by_call(url: str) -> str:
    return url

def by_add(cmd: str) -> str:
    return cmd

def by_tool_object(sql: str) -> str:
    return sql

app.tool(name="fetch")(by_call)
app.add_tool(by_add)
app.add_tool(Tool.from_function(by_tool_object, name="query"))

def register(server):
    @server.tool()
    def inner(q: str) -> str:
        return q
"#,
    );
    let h = handler(&m, "bare");
    assert_eq!(h.tainted_params, vec![0]);
    assert_eq!(text(&m, h.span), "app.tool");
    assert_eq!(
        handler(&m, "positional_name").name.as_deref(),
        Some("custom_name")
    );
    assert_eq!(
        handler(&m, "positional_name").tainted_params,
        vec![0],
        "forward ref \"Context\""
    );
    let h = handler(&m, "by_call");
    assert_eq!(h.name.as_deref(), Some("fetch"));
    assert_eq!(text(&m, h.span), r#"app.tool(name="fetch")(by_call)"#);
    assert_eq!(handler(&m, "by_add").name.as_deref(), Some("by_add"));
    assert_eq!(handler(&m, "by_tool_object").name.as_deref(), Some("query"));
    // A receiver that is a parameter of the enclosing function.
    let h = handler(&m, "register.inner");
    assert_eq!(h.tainted_params, vec![0]);
    assert_eq!(
        func(&m, "register.inner").parent,
        Some(func_id(&m, "register"))
    );
}

#[test]
fn receivers_from_other_modules_and_non_mcp_decorators() {
    // `tools.py` of a package whose server lives in `server.py`.
    let m = lower_src(
        r#"
from .server import mcp
import functools

@mcp.tool()
def search(term: str) -> str:
    return term

@functools.lru_cache(maxsize=128)
def cached(key: str) -> str:
    return key
"#,
    );
    assert_eq!(handler(&m, "search").tainted_params, vec![0]);
    assert!(!is_handler(&m, "cached"));
    let dec = &func(&m, "cached").decorators[0];
    assert_eq!(
        dec.keyword("maxsize")
            .map(|e| &e.kind)
            .and_then(|k| match k {
                ExprKind::Num(n) => Some(n.as_str()),
                _ => None,
            }),
        Some("128")
    );

    // No SDK import, no known receiver: a web framework's decorators are not tools.
    let m = lower_src(
        r#"
router = make_router()

@router.tool()
def not_mcp(x):
    return x

@router.get("/items/{id}")
def get_item(id: str):
    return id
"#,
    );
    assert!(m.handlers.is_empty(), "{:?}", m.handlers);
}

#[test]
fn handlers_registered_in_a_loop() {
    let m = lower_src(
        r#"
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("tools")
TOOLS = [read_file, write_file]

def read_file(path: str) -> str: ...
def write_file(path: str, text: str) -> None: ...
def delete_file(path: str) -> None: ...
def helper(x): ...

for fn in TOOLS:
    mcp.tool()(fn)

class Notebooks:
    def __init__(self):
        self.mcp = FastMCP("nb")
        for method in (self.run, self.export):
            self.mcp.add_tool(method)

    def run(self, code: str) -> str: ...
    def export(self, name: str) -> str: ...
    def private(self, x): ...

def register(server):
    for f in make_tools():
        server.tool()(f)
"#,
    );
    for registered in [
        "read_file",
        "write_file",
        "Notebooks.run",
        "Notebooks.export",
    ] {
        assert!(is_handler(&m, registered), "{registered}");
    }
    for not_registered in ["delete_file", "helper", "Notebooks.private"] {
        assert!(!is_handler(&m, not_registered), "{not_registered}");
    }
}

// ----- low-level server -----

const LOWLEVEL_SERVER: &str = r#"
import json
import subprocess
import mcp.server.stdio
from mcp.server.lowlevel import Server
from mcp.types import TextContent, Tool

server = Server("files")


@server.list_tools()
async def list_tools() -> list[Tool]:
    return [Tool(name="read_file", description="Read a file", inputSchema={"type": "object"})]


@server.call_tool()
async def call_tool(name: str, arguments: dict | None) -> list[TextContent]:
    if name == "read_file":
        path = arguments["path"]
        with open(path) as f:
            return [TextContent(type="text", text=f.read())]
    elif name == "run":
        cmd = arguments.get("cmd", "")
        out = subprocess.run(cmd, shell=True, capture_output=True)
        return [TextContent(type="text", text=out.stdout.decode())]
    else:
        raise ValueError(f"Unknown tool: {name}")


@server.read_resource()
async def read_resource(uri) -> str:
    return open(str(uri)[7:]).read()


@server.get_prompt()
async def get_prompt(name: str, arguments: dict[str, str] | None):
    return arguments


async def main():
    async with mcp.server.stdio.stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
"#;

#[test]
fn lowlevel_handlers() {
    let m = lower_src(LOWLEVEL_SERVER);
    let h = handler(&m, "call_tool");
    assert_eq!(h.kind, HandlerKind::CallTool);
    assert_eq!(h.tainted_params, vec![1]);
    assert_eq!(h.name, None);
    assert_eq!(text(&m, h.span), "server.call_tool()");
    assert!(!is_handler(&m, "list_tools"), "listing is not a source");
    let h = handler(&m, "read_resource");
    assert_eq!(h.kind, HandlerKind::Resource);
    assert_eq!(h.tainted_params, vec![0]);
    let h = handler(&m, "get_prompt");
    assert_eq!(h.kind, HandlerKind::Prompt);
    assert_eq!(h.tainted_params, vec![1]);
    assert!(!is_handler(&m, "main"));
    assert_eq!(m.handlers.len(), 3);
}

#[test]
fn lowlevel_dispatch_shape() {
    let m = lower_src(LOWLEVEL_SERVER);
    let f = func(&m, "call_tool");
    assert_eq!(f.body.len(), 1);
    let StmtKind::If { test, then, orelse } = &f.body[0].kind else {
        panic!("{:?}", f.body)
    };
    let ExprKind::Compare { left, ops, rights } = &test.kind else {
        panic!("{test:?}")
    };
    assert_eq!(name_of(left), "name");
    assert_eq!(ops, &[CmpOp::Eq]);
    assert_eq!(rights[0].as_str(), Some("read_file"));
    // `path = arguments["path"]`.
    let path = assigned(then, "path");
    let ExprKind::Subscript { object, index } = &path.kind else {
        panic!("{path:?}")
    };
    assert_eq!(name_of(object), "arguments");
    assert_eq!(index.as_str(), Some("path"));
    // `elif` is an `If` alone in the `orelse`; its own `else` raises.
    let [elif] = orelse.as_slice() else {
        panic!("{orelse:?}")
    };
    let StmtKind::If {
        test,
        then,
        orelse: last,
    } = &elif.kind
    else {
        panic!("{elif:?}")
    };
    assert!(text(&m, elif.span).starts_with("elif name == \"run\""));
    assert!(
        matches!(&test.kind, ExprKind::Compare { rights, .. } if rights[0].as_str() == Some("run"))
    );
    let run = call(f, "subprocess.run");
    assert!(run.keyword("shell").is_some_and(Expr::is_true));
    assert_eq!(names_in(&call_args(run)[0].value), vec!["cmd"]);
    assert!(matches!(assigned(then, "cmd").kind, ExprKind::Call { .. }));
    assert!(
        matches!(&last[0].kind, StmtKind::Raise(Some(e)) if matches!(&e.kind, ExprKind::Call { .. }))
    );

    // `async with ... as (read, write)` binds a sequence.
    let main = func(&m, "main");
    let StmtKind::With { items, .. } = &main.body[0].kind else {
        panic!("{:?}", main.body)
    };
    assert!(matches!(&items[0].1, Some(Pattern::Sequence(p)) if p.len() == 2));
}

#[test]
fn lowlevel_match_dispatch_and_sdk_v2() {
    let m = lower_src(
        r#"
from mcp.server import Server

async def handle_call_tool(ctx, params):
    match params.name:
        case "read_file":
            return open(params.arguments["path"]).read()
        case "a" | "b" if params.arguments:
            pass
        case {"cmd": cmd}:
            return cmd
        case _:
            raise ValueError(params.name)

server = Server("v2", on_call_tool=handle_call_tool)
"#,
    );
    let h = handler(&m, "handle_call_tool");
    assert_eq!(h.kind, HandlerKind::CallTool);
    assert_eq!(h.tainted_params, vec![1]);

    let f = func(&m, "handle_call_tool");
    let StmtKind::If { test, orelse, .. } = &f.body[0].kind else {
        panic!("{:?}", f.body)
    };
    let ExprKind::Compare { left, rights, .. } = &test.kind else {
        panic!("{test:?}")
    };
    assert_eq!(left.dotted().as_deref(), Some("params.name"));
    assert_eq!(rights[0].as_str(), Some("read_file"));
    // The union with a guard: `(subject == "a" or subject == "b") and guard`.
    let StmtKind::If { test, orelse, .. } = &orelse[0].kind else {
        panic!("{orelse:?}")
    };
    let ExprKind::Logical {
        op: BoolOp::And,
        values,
    } = &test.kind
    else {
        panic!("{test:?}")
    };
    assert!(
        matches!(&values[0].kind, ExprKind::Logical { op: BoolOp::Or, values } if values.len() == 2)
    );
    // The mapping pattern binds `cmd` from the subject.
    let StmtKind::If { then, orelse, .. } = &orelse[0].kind else {
        panic!("{orelse:?}")
    };
    assert_eq!(
        assigned(then, "cmd").dotted().as_deref(),
        Some("params.name")
    );
    // `case _:` is the final else.
    assert!(matches!(&orelse[0].kind, StmtKind::Raise(Some(_))));
}

// ----- classes -----

#[test]
fn class_based_server() {
    let m = lower_src(
        r#"
import os
from mcp.server.fastmcp import FastMCP, Context
from mcp.server.lowlevel import Server

class FileServer(BaseServer, metaclass=Meta):
    """Serves files from a root."""
    root = "/srv"
    DEFAULTS, LIMITS = {}, {}

    def __init__(self, root: str):
        self.root = root
        self.mcp = FastMCP("files")
        self.mcp.tool()(self.read_file)
        self.mcp.add_tool(self.list_dir, name="ls")
        self.mcp.tool(name="grep")(self.grep)
        self.server = Server("low")

        @self.server.call_tool()
        async def handle(name, arguments):
            return await self.dispatch(name, arguments)

    def read_file(self, path: str) -> str:
        return open(os.path.join(self.root, path)).read()

    def list_dir(self, path: str = ".") -> list[str]:
        return os.listdir(path)

    async def grep(self, pattern: str, ctx: Context) -> str:
        return pattern

    @staticmethod
    def util(x):
        return x

    @classmethod
    def create(cls, root):
        return cls(root)
"#,
    );
    assert_eq!(m.classes.len(), 1);
    let class = &m.classes[0];
    assert_eq!(class.name, "FileServer");
    assert_eq!(class.bases.len(), 1, "metaclass= is not a base");
    let methods: Vec<&str> = class
        .methods
        .iter()
        .map(|id| m.functions[*id].name.as_str())
        .collect();
    assert_eq!(
        methods,
        [
            "__init__",
            "read_file",
            "list_dir",
            "grep",
            "util",
            "create"
        ]
    );

    let read = func(&m, "FileServer.read_file");
    assert_eq!(read.class, Some(0));
    assert_eq!(read.parent, None);
    assert_eq!(read.params[0].kind, ParamKind::Receiver);
    assert_eq!(
        func(&m, "FileServer.util").params[0].kind,
        ParamKind::Normal
    );
    assert_eq!(
        func(&m, "FileServer.create").params[0].kind,
        ParamKind::Receiver
    );

    let h = handler(&m, "FileServer.read_file");
    assert_eq!(
        (h.kind, h.name.as_deref()),
        (HandlerKind::Tool, Some("read_file"))
    );
    assert_eq!(h.tainted_params, vec![1]);
    assert_eq!(
        handler(&m, "FileServer.list_dir").name.as_deref(),
        Some("ls")
    );
    let h = handler(&m, "FileServer.grep");
    assert_eq!(h.name.as_deref(), Some("grep"));
    assert_eq!(h.tainted_params, vec![1]);
    let h = handler(&m, "FileServer.__init__.handle");
    assert_eq!(h.kind, HandlerKind::CallTool);
    assert_eq!(
        func(&m, "FileServer.__init__.handle").parent,
        Some(func_id(&m, "FileServer.__init__"))
    );
    assert!(!is_handler(&m, "FileServer.util"));

    // The class body's bindings are class attributes, bound in the module; methods are not
    // module-level names.
    let top = &m.functions[0];
    assert!(top.body.iter().any(|s| matches!(&s.kind,
        StmtKind::Def { name, function: None } if name == "FileServer")));
    assert!(!top.body.iter().any(|s| matches!(&s.kind,
        StmtKind::Def { name, .. } if name == "read_file")));
    let root = top
        .body
        .iter()
        .find_map(|s| match &s.kind {
            StmtKind::Assign {
                target: Pattern::Attr(object, attr),
                value,
            } if attr == "root" => Some((object, value)),
            _ => None,
        })
        .expect("FileServer.root");
    assert_eq!(name_of(root.0), "FileServer");
    assert_eq!(root.1.as_str(), Some("/srv"));
    assert!(top.body.iter().any(|s| matches!(&s.kind,
        StmtKind::Assign { target: Pattern::Sequence(items), .. }
            if matches!(&items[0], Pattern::Attr(_, a) if a == "DEFAULTS"))));
    // `self.root = root` in `__init__` is an attribute assignment.
    let init = func(&m, "FileServer.__init__");
    assert!(matches!(&init.body[0].kind,
        StmtKind::Assign { target: Pattern::Attr(object, attr), .. }
            if attr == "root" && name_of(object) == "self"));
}

#[test]
fn nested_functions_lambdas_and_qualnames() {
    let m = lower_src(
        r#"
def outer(a):
    def inner(b):
        return b + a
    key = lambda item, *rest: item[a]
    class Local:
        def method(self):
            return 1
    return inner(key)
"#,
    );
    let outer = func_id(&m, "outer");
    let inner = func(&m, "outer.inner");
    assert_eq!(inner.parent, Some(outer));
    let lambda = func(&m, "outer.<lambda>");
    assert_eq!(lambda.parent, Some(outer));
    assert_eq!(lambda.params[1].kind, ParamKind::Rest);
    assert!(
        matches!(&lambda.body[0].kind, StmtKind::Return(Some(e)) if matches!(e.kind, ExprKind::Subscript { .. }))
    );
    let ExprKind::Function(id) = &assigned(&m.functions[outer].body, "key").kind else {
        panic!()
    };
    assert_eq!(m.functions[*id].name, "<lambda>");
    let method = func(&m, "outer.Local.method");
    assert_eq!(method.parent, Some(outer));
    assert_eq!(method.class, Some(0));
    let body = &m.functions[outer].body;
    assert!(matches!(&body[0].kind, StmtKind::Def { name, function: Some(_) } if name == "inner"));
}

// ----- imports -----

#[test]
fn imports_keep_relative_paths() {
    let m = lower_src(
        r#"
from . import utils
from .utils import helper as h, other
from ..pkg.mod import thing
from .. import sibling
import os.path
import a.b as c, d
from x import *
from __future__ import annotations

def late():
    from .lazy import loaded
    import json
    return loaded
"#,
    );
    let got: Vec<(&str, &str)> = m
        .imports
        .iter()
        .map(|i| (i.local.as_str(), i.path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("utils", ".utils"),
            ("h", ".utils.helper"),
            ("other", ".utils.other"),
            ("thing", "..pkg.mod.thing"),
            ("sibling", "..sibling"),
            ("os", "os"),
            ("c", "a.b"),
            ("d", "d"),
            ("*", "x"),
            ("loaded", ".lazy.loaded"),
            ("json", "json"),
        ]
    );
    let h = m.imports.iter().find(|i| i.local == "h").expect("h");
    assert_eq!(text(&m, h.span), "helper as h");
    // Imports inside functions leave a statement behind.
    assert!(matches!(func(&m, "late").body[0].kind, StmtKind::Other));
}

#[test]
fn module_names() {
    assert_eq!(module_name(Path::new("pkg/utils.py")), "pkg.utils");
    assert_eq!(module_name(Path::new("src/pkg/utils.py")), "pkg.utils");
    assert_eq!(module_name(Path::new("pkg/__init__.py")), "pkg");
    assert_eq!(module_name(Path::new("src/pkg/__init__.py")), "pkg");
    assert_eq!(module_name(Path::new("server.py")), "server");
    assert_eq!(module_name(Path::new("src.py")), "src");
    assert_eq!(module_name(Path::new("./a/b/stubs.pyi")), "a.b.stubs");
}

// ----- strings -----

#[test]
fn strings_and_formatting() {
    let m = lower_src(
        r#"
a = "plain\tTab\x41\u00e9"
b = 'implicit ' "concat" '''enation'''
c = b"bytes\x00\xff"
d = r"raw\n\d"
e = f"{user!r:>{width}} says {{hi}} {x.y[0] + 1}" ' tail'
f = "cmd %s %d" % (arg, n)
g = "{} and {name}".format(first, name=second)
h = rf"C:\dir\{name}"
i = "" f""
"#,
    );
    let body = &m.functions[0].body;
    assert_eq!(assigned(body, "a").as_str(), Some("plain\tTabAé"));
    assert_eq!(assigned(body, "b").as_str(), Some("implicit concatenation"));
    assert_eq!(assigned(body, "c").as_str(), Some("bytes\u{0}\u{ff}"));
    assert_eq!(assigned(body, "d").as_str(), Some("raw\\n\\d"));
    assert_eq!(assigned(body, "i").as_str(), Some(""));

    let ExprKind::Template(pieces) = &assigned(body, "e").kind else {
        panic!()
    };
    assert_eq!(
        name_of(&pieces[0]),
        "user",
        "conversions and format specs are dropped"
    );
    assert_eq!(pieces[1].as_str(), Some(" says {hi} "));
    assert!(matches!(
        pieces[2].kind,
        ExprKind::Binary { op: BinOp::Add, .. }
    ));
    assert_eq!(
        pieces[3].as_str(),
        Some(" tail"),
        "implicit concatenation joins the template"
    );
    assert_eq!(pieces.len(), 4);

    let ExprKind::Binary {
        op: BinOp::Mod,
        left,
        right,
    } = &assigned(body, "f").kind
    else {
        panic!()
    };
    assert_eq!(left.as_str(), Some("cmd %s %d"));
    assert!(matches!(&right.kind, ExprKind::Seq(items) if items.len() == 2));

    // `.format` is a method call on the string.
    let g = assigned(body, "g");
    let ExprKind::Call { callee, args, .. } = &g.kind else {
        panic!()
    };
    let ExprKind::Attr {
        object,
        name,
        name_span,
    } = &callee.kind
    else {
        panic!()
    };
    assert_eq!(name, "format");
    assert_eq!(text(&m, *name_span), "format");
    assert_eq!(object.as_str(), Some("{} and {name}"));
    assert_eq!(args[1].name.as_deref(), Some("name"));

    let ExprKind::Template(pieces) = &assigned(body, "h").kind else {
        panic!()
    };
    assert_eq!(pieces[0].as_str(), Some("C:\\dir\\"));
    // Literal pieces keep their own spans.
    assert_eq!(text(&m, pieces[0].span), "C:\\dir\\");
}

// ----- statements and expressions -----

#[test]
fn statements() {
    let m = lower_src(
        r#"
def f(items, data, path):
    total = 0
    total += len(items)
    msg %= data
    a = b = get(path)
    if (n := len(path)) > 3:
        pass
    while (chunk := stream.read(n)):
        use(chunk)
    for i, (k, v) in enumerate(data.items()):
        continue
    else:
        done()
    try:
        risky(path)
    except (OSError, ValueError) as err:
        log(err)
    except KeyError:
        raise
    else:
        ok()
    finally:
        cleanup()
    with open(path) as src, lock:
        pass
    assert path.startswith("/srv/"), "outside"
    global counter
    del data[0]
    raise RuntimeError("bad") from err
"#,
    );
    let f = func(&m, "f");
    let body = &f.body;
    let kinds: Vec<&str> = body
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Assign { .. } => "assign",
            StmtKind::Expr(_) => "expr",
            StmtKind::If { .. } => "if",
            StmtKind::Loop { .. } => "loop",
            StmtKind::Try { .. } => "try",
            StmtKind::With { .. } => "with",
            StmtKind::Raise(_) => "raise",
            StmtKind::Other => "other",
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "assign", "assign", "assign", "assign", "assign", // total, +=, %=, a, b
            "assign", "if", // walrus hoisted before the if
            "loop", "loop", "try", "with", "if", "other", "other", "raise",
        ]
    );

    // `total += len(items)` is `total = total + len(items)`.
    let StmtKind::Assign { target, value } = &body[1].kind else {
        panic!()
    };
    assert!(matches!(target, Pattern::Name(n, _) if n == "total"));
    let ExprKind::Binary {
        op: BinOp::Add,
        left,
        ..
    } = &value.kind
    else {
        panic!("{value:?}")
    };
    assert_eq!(name_of(left), "total");
    assert!(
        matches!(&body[2].kind, StmtKind::Assign { value, .. } if matches!(value.kind, ExprKind::Binary { op: BinOp::Mod, .. }))
    );

    // `a = b = get(path)`: the call once, then `b` reads `a`.
    assert!(
        matches!(&body[3].kind, StmtKind::Assign { target: Pattern::Name(n, _), value } if n == "a" && matches!(value.kind, ExprKind::Call { .. }))
    );
    assert!(
        matches!(&body[4].kind, StmtKind::Assign { target: Pattern::Name(n, _), value } if n == "b" && name_of(value) == "a")
    );

    // The walrus binds before the test, which reads the name.
    assert!(
        matches!(&body[5].kind, StmtKind::Assign { target: Pattern::Name(n, _), .. } if n == "n")
    );
    let StmtKind::If { test, .. } = &body[6].kind else {
        panic!()
    };
    assert!(
        matches!(&test.kind, ExprKind::Compare { left, ops, .. } if name_of(left) == "n" && ops == &[CmpOp::Gt])
    );

    // `while`: the hoisted binding and the test open the body.
    let StmtKind::Loop {
        binding: None,
        iter: None,
        body: loop_body,
        ..
    } = &body[7].kind
    else {
        panic!("{:?}", body[7])
    };
    assert!(
        matches!(&loop_body[0].kind, StmtKind::Assign { target: Pattern::Name(n, _), .. } if n == "chunk")
    );
    assert!(matches!(&loop_body[1].kind, StmtKind::Expr(e) if name_of(e) == "chunk"));
    assert!(matches!(&loop_body[2].kind, StmtKind::Expr(_)));

    // `for i, (k, v) in ...: ... else: ...`.
    let StmtKind::Loop {
        binding: Some(Pattern::Sequence(parts)),
        iter: Some(_),
        orelse,
        ..
    } = &body[8].kind
    else {
        panic!("{:?}", body[8])
    };
    assert!(matches!(&parts[1], Pattern::Sequence(inner) if inner.len() == 2));
    assert_eq!(orelse.len(), 1);

    let StmtKind::Try {
        body: try_body,
        handlers,
        orelse,
        finally,
    } = &body[9].kind
    else {
        panic!()
    };
    assert_eq!((try_body.len(), orelse.len(), finally.len()), (1, 1, 1));
    assert!(matches!(&handlers[0].binding, Some(Pattern::Name(n, _)) if n == "err"));
    assert!(
        matches!(&handlers[0].types, Some(e) if matches!(&e.kind, ExprKind::Seq(t) if t.len() == 2))
    );
    assert!(handlers[1].binding.is_none());
    assert!(matches!(handlers[1].body[0].kind, StmtKind::Raise(None)));

    let StmtKind::With { items, .. } = &body[10].kind else {
        panic!()
    };
    assert_eq!(items.len(), 2);
    assert!(items[1].1.is_none());

    // `assert t, m` is `if not t: raise m`.
    let StmtKind::If { test, then, orelse } = &body[11].kind else {
        panic!()
    };
    assert!(
        matches!(&test.kind, ExprKind::Not(inner) if matches!(inner.kind, ExprKind::Call { .. }))
    );
    assert!(matches!(&then[0].kind, StmtKind::Raise(Some(msg)) if msg.as_str() == Some("outside")));
    assert!(orelse.is_empty());
    assert!(text(&m, body[11].span).starts_with("assert"));

    // `raise X from err` raises X.
    assert!(
        matches!(&body[14].kind, StmtKind::Raise(Some(e)) if matches!(&e.kind, ExprKind::Call { callee, .. } if name_of(callee) == "RuntimeError"))
    );
}

#[test]
fn expressions() {
    let m = lower_src(
        r#"
def f(a, b, c, xs, opts):
    chained = a < b <= c
    member = a not in xs
    identity = a is not None
    logic = a and b and c or not a
    pick = a if b else c
    d = {"k": a, **opts}
    s = {a, *xs}
    call = g(a, *xs, key=b, **opts)
    comp = [x.upper() for x in xs if check(x)]
    gen = sum(len(x) for x in xs)
    dcomp = {k: v for k, v in opts.items()}
    sl = xs[1:b]
    neg = -a
    awaited = await fetch(a)
    power = a ** b
    return chained
"#,
    );
    let body = &func(&m, "f").body;
    let ExprKind::Compare { left, ops, rights } = &assigned(body, "chained").kind else {
        panic!()
    };
    assert_eq!(name_of(left), "a");
    assert_eq!(ops, &[CmpOp::Lt, CmpOp::LtE]);
    assert_eq!(rights.len(), 2);
    assert!(
        matches!(&assigned(body, "member").kind, ExprKind::Compare { ops, .. } if ops == &[CmpOp::NotIn])
    );
    assert!(
        matches!(&assigned(body, "identity").kind, ExprKind::Compare { ops, rights, .. } if ops == &[CmpOp::IsNot] && matches!(rights[0].kind, ExprKind::Null))
    );

    // `a and b and c or not a` is `Or[And[a, b, c], Not a]`.
    let ExprKind::Logical {
        op: BoolOp::Or,
        values,
    } = &assigned(body, "logic").kind
    else {
        panic!()
    };
    assert!(
        matches!(&values[0].kind, ExprKind::Logical { op: BoolOp::And, values } if values.len() == 3)
    );
    assert!(matches!(values[1].kind, ExprKind::Not(_)));

    assert!(
        matches!(&assigned(body, "pick").kind, ExprKind::Conditional { test, then, orelse }
        if name_of(test) == "b" && name_of(then) == "a" && name_of(orelse) == "c")
    );

    let ExprKind::Map(entries) = &assigned(body, "d").kind else {
        panic!()
    };
    assert_eq!(entries[0].0.as_ref().and_then(|k| k.as_str()), Some("k"));
    assert!(entries[1].0.is_none(), "a spread has no key");
    assert_eq!(name_of(&entries[1].1), "opts");
    assert!(
        matches!(&assigned(body, "s").kind, ExprKind::Seq(items) if matches!(items[1].kind, ExprKind::Spread(_)))
    );

    let args = call_args(assigned(body, "call"));
    let shape: Vec<(Option<&str>, bool)> =
        args.iter().map(|a| (a.name.as_deref(), a.spread)).collect();
    assert_eq!(
        shape,
        [
            (None, false),
            (None, true),
            (Some("key"), false),
            (None, true)
        ]
    );

    // Comprehensions bind their variables to what they iterate, hoisted before the statement
    // with their filters; the result is the element.
    let comp = assigned(body, "comp");
    assert!(matches!(comp.kind, ExprKind::Unknown(_)));
    assert!(names_in(comp).contains(&"x"));
    assert!(!names_in(comp).contains(&"check"));
    assert!(matches!(
        &assigned(body, "x").kind,
        ExprKind::Name(n) if n == "xs"
    ));
    assert!(
        stmts(body).iter().any(|s| matches!(&s.kind,
            StmtKind::Assign { target: Pattern::Sequence(items), .. } if items.len() == 2)),
        "`for k, v in ...` binds both"
    );
    assert!(
        stmts(body)
            .iter()
            .any(|s| matches!(&s.kind, StmtKind::Expr(e)
        if matches!(&e.kind, ExprKind::Call { callee, .. } if name_of(callee) == "check")))
    );
    let generator = call_args(assigned(body, "gen"));
    assert!(matches!(generator[0].value.kind, ExprKind::Unknown(_)));
    assert!(names_in(&generator[0].value).contains(&"x"));
    assert!(names_in(assigned(body, "dcomp")).contains(&"v"));

    let ExprKind::Subscript { index, .. } = &assigned(body, "sl").kind else {
        panic!()
    };
    assert!(matches!(index.kind, ExprKind::Unknown(_)));
    assert!(matches!(&assigned(body, "neg").kind, ExprKind::Unknown(x) if name_of(&x[0]) == "a"));
    assert!(matches!(assigned(body, "awaited").kind, ExprKind::Await(_)));
    assert!(matches!(
        assigned(body, "power").kind,
        ExprKind::Binary {
            op: BinOp::Other,
            ..
        }
    ));
}

// ----- broken and hostile input -----

#[test]
fn syntax_errors_keep_the_rest() {
    let src = r#"from mcp.server.fastmcp import FastMCP
import subprocess
mcp = FastMCP("broken")

@mcp.tool()
def good_before(a: str) -> str:
    return a

def broken(a:
    return a

@mcp.tool()
def good_after(b: str) -> str:
    x = [1, 2
    return subprocess.run(b, shell=True)

@mcp.tool()
def last(c: str) -> str:
    return c +
"#;
    let m = lower_src(src);
    assert!(!m.syntax_errors.is_empty());
    for e in &m.syntax_errors {
        assert!(e.end <= src.len());
    }
    for name in ["good_before", "good_after", "last"] {
        let h = handler(&m, name);
        assert_eq!(h.tainted_params, vec![0], "{name}");
    }
    // The call in the broken body is still there, with its keyword.
    let run = exprs(&func(&m, "good_after").body)
        .into_iter()
        .find(|e| matches!(&e.kind, ExprKind::Call { callee, .. } if matches!(&callee.kind, ExprKind::Attr { name, .. } if name == "run")))
        .expect("the call survives");
    assert!(run.keyword("shell").is_some_and(Expr::is_true));
    assert!(
        m.syntax_errors
            .iter()
            .any(|e| text(&m, *e).contains("x = [1, 2")
                || src[e.start..].starts_with("x = [1, 2")
                || (e.start <= src.find("[1, 2").unwrap_or(0)
                    && src.find("[1, 2").unwrap_or(0) <= e.end))
    );
}

#[test]
fn garbage_does_not_panic() {
    for src in [
        "",
        "\n\n",
        "def",
        "class :",
        "@",
        "@mcp.tool(\ndef f(",
        "x = (((",
        "f'{'",
        "lambda: (yield)",
        "match x:\n case {**rest, 1: y}: pass",
        "async with a as b: await c",
        "def f(*, **k): return [*a, **b]",
        "print 'py2'\nexec code in ns",
        "x: int\ntype X = int\ndef g[T](a: T) -> T: ...",
        "try:\n pass\nexcept* (A, B) as eg:\n pass",
        "\u{feff}x = 1\r\ny = 2\r\n",
        "if a:\npass",
        "\0\0\0",
    ] {
        let m = lower_src(src);
        assert!(!m.functions.is_empty(), "{src:?}");
    }
}

#[test]
fn deep_nesting_is_bounded() {
    let depth = 100_000;
    let cases = [
        format!("x = {}y{}\n", "(".repeat(depth), ")".repeat(depth)),
        format!("x = {}y{}\n", "[".repeat(depth), "]".repeat(depth)),
        format!("x = {}\n", vec!["y"; depth].join(" + ")),
        format!("x = {}\n", vec!["y"; depth].join(" or ")),
        format!("x = y{}\n", ".a".repeat(depth)),
        format!("x = {}y{}\n", "f(".repeat(depth), ")".repeat(depth)),
        format!("x = {}y\n", "not ".repeat(depth)),
    ];
    // Lower on a small stack: the bound must hold well below the 2 MiB threads get.
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            for src in &cases {
                let m = lower_src(src);
                let value = assigned(&m.functions[0].body, "x");
                assert!(
                    names_in(value).contains(&"y"),
                    "taint still flows out of the deep part"
                );
            }
        })
        .expect("thread");
    assert!(handle.join().is_ok());

    // Deeply nested blocks and long elif chains.
    let mut nested = String::new();
    for i in 0..1_000 {
        nested.push_str(&" ".repeat(i));
        nested.push_str("if a:\n");
    }
    nested.push_str(&" ".repeat(1_000));
    nested.push_str("sink(y)\n");
    let mut elifs = String::from("if a == 0:\n    pass\n");
    for i in 1..20_000 {
        elifs.push_str(&format!("elif a == {i}:\n    sink(y)\n"));
    }
    elifs.push_str("else:\n    pass\n");
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            for src in [&nested, &elifs] {
                let m = lower_src(src);
                let names: Vec<&str> = exprs(&m.functions[0].body)
                    .into_iter()
                    .flat_map(names_in)
                    .collect();
                assert!(names.contains(&"y"));
            }
        })
        .expect("thread");
    assert!(handle.join().is_ok());
}

#[test]
fn unicode_spans_are_char_boundaries() {
    let src = r#"# -*- coding: utf-8 -*-
"""Ünïcödé 服务器 🚀"""
from mcp.server.fastmcp import FastMCP
mcp = FastMCP("файлы")

@mcp.tool(name="読む")
def 読む(パス: str, 𝔫: int = 1) -> str:
    """読み込み 📄"""
    msg = f"ファイル {パス} を読む 🚀{𝔫}"
    return open(パス).read() + msg  # コメント ✓

class Ω:
    ä = "ü"
    def método(self, ñ): return ñ
"#;
    let m = lower_src(src);
    assert!(m.syntax_errors.is_empty(), "{:?}", m.syntax_errors);
    for span in all_spans(&m) {
        assert!(span.start <= span.end && span.end <= src.len(), "{span:?}");
        assert!(
            src.is_char_boundary(span.start) && src.is_char_boundary(span.end),
            "{span:?}"
        );
    }
    let f = func(&m, "読む");
    assert_eq!(text(&m, f.name_span), "読む");
    assert_eq!(f.params[0].name(), Some("パス"));
    let h = handler(&m, "読む");
    assert_eq!(h.name.as_deref(), Some("読む"));
    assert_eq!(h.tainted_params, vec![0, 1]);
    let ExprKind::Template(pieces) = &assigned(&f.body, "msg").kind else {
        panic!()
    };
    assert_eq!(pieces[0].as_str(), Some("ファイル "));
    assert_eq!(text(&m, pieces[0].span), "ファイル ");
    assert_eq!(name_of(&pieces[1]), "パス");
    assert_eq!(func(&m, "Ω.método").params[1].name(), Some("ñ"));
    let value = assigned(&m.functions[0].body, "mcp");
    assert_eq!(call_args(value)[0].value.as_str(), Some("файлы"));
}
