//! Tests of the TypeScript/JavaScript frontend: the IR's structure through small finders, the
//! handlers found, flows through the engine across modules, and that no input makes it panic.

use std::path::Path;
use std::sync::Arc;

use super::{Grammar, lower, minified_reason, module_name, parse};
use crate::code::catalog::SinkKind;
use crate::code::ir::{
    BoolOp, CmpOp, ExprKind, Function, HandlerKind, Module, ParamKind, Pattern, StmtKind,
};
use crate::code::taint::{HitKind, Project, analyze_project};
use crate::source::SourceFile;

fn lower_as(path: &str, src: &str) -> Module {
    let grammar = Grammar::of(Path::new(path)).expect("a source extension");
    let file = Arc::new(SourceFile::from_text(path, src));
    let tree = parse(src, grammar).expect("parser");
    lower(file, &module_name(Path::new(path)), grammar, &tree)
}

fn lower_ts(src: &str) -> Module {
    lower_as("server.ts", src)
}

fn func<'m>(m: &'m Module, qualname: &str) -> &'m Function {
    m.functions
        .iter()
        .find(|f| f.qualname == qualname)
        .unwrap_or_else(|| panic!("no function {qualname}"))
}

fn import_path<'m>(m: &'m Module, local: &str) -> &'m str {
    m.imports
        .iter()
        .rev()
        .find(|i| i.local == local)
        .map(|i| i.path.as_str())
        .unwrap_or_else(|| panic!("no import {local}"))
}

fn calls(m: &Module) -> Vec<String> {
    m.calls()
        .into_iter()
        .filter_map(|(_, e)| match &e.kind {
            ExprKind::Call { callee, .. } => m.canonical(callee),
            _ => None,
        })
        .collect()
}

/// Kinds and lines of the flows the engine finds in a project of (path, source) files.
fn flows(files: &[(&str, &str)]) -> Vec<(HitKind, usize)> {
    let modules = files.iter().map(|(p, s)| lower_as(p, s)).collect();
    let project = Project::new(modules);
    analyze_project(&project)
        .into_iter()
        .map(|f| {
            let line = project.modules[f.module].file.line_col(f.span.start).line;
            (f.kind, line)
        })
        .collect()
}

fn has(found: &[(HitKind, usize)], kind: SinkKind, line: usize) -> bool {
    found.contains(&(HitKind::Sink(kind), line))
}

// ----- grammars and names -----

#[test]
fn extensions_pick_grammars_and_skip_declarations() {
    assert_eq!(Grammar::of(Path::new("a.ts")), Some(Grammar::TypeScript));
    assert_eq!(Grammar::of(Path::new("a.mts")), Some(Grammar::TypeScript));
    assert_eq!(Grammar::of(Path::new("a.tsx")), Some(Grammar::Tsx));
    assert_eq!(Grammar::of(Path::new("a.cjs")), Some(Grammar::JavaScript));
    assert_eq!(Grammar::of(Path::new("a.jsx")), Some(Grammar::JavaScript));
    assert_eq!(Grammar::of(Path::new("types.d.ts")), None);
    assert_eq!(Grammar::of(Path::new("a.py")), None);
    assert_eq!(
        module_name(Path::new("src/tools/exec.ts")),
        "src/tools/exec"
    );
}

#[test]
fn minified_files_are_recognised() {
    assert!(minified_reason(Path::new("dist/app.min.js"), "x").is_some());
    let long = format!("var a={};", "x".repeat(20_000));
    assert!(minified_reason(Path::new("bundle.js"), &long).is_some());
    let normal = "const a = 1;\n".repeat(1000);
    assert!(minified_reason(Path::new("server.js"), &normal).is_none());
}

// ----- imports -----

#[test]
fn esm_imports_canonicalise_like_python_paths() {
    let m = lower_ts(
        r#"
import { exec as run, spawn } from "node:child_process";
import cp from "child_process";
import * as fsp from "fs/promises";
import { promises as fs2 } from "fs";
import path = require("path");
import { helper } from "./utils.js";
import def from "../lib/index.js";
cp.exec("x");
run("y");
"#,
    );
    assert_eq!(import_path(&m, "run"), "child_process.exec");
    assert_eq!(import_path(&m, "spawn"), "child_process.spawn");
    assert_eq!(import_path(&m, "cp"), "child_process");
    assert_eq!(import_path(&m, "fsp"), "fs.promises");
    assert_eq!(import_path(&m, "fs2"), "fs.promises");
    assert_eq!(import_path(&m, "path"), "path");
    assert_eq!(import_path(&m, "helper"), "./utils.helper");
    assert_eq!(import_path(&m, "def"), "../lib/index");
    assert_eq!(calls(&m), vec!["child_process.exec", "child_process.exec"]);
}

#[test]
fn commonjs_requires_and_promisify_are_imports() {
    let m = lower_as(
        "server.cjs",
        r#"
const cp = require("child_process");
const { execSync, spawn: sp } = require("node:child_process");
const fsp = require("fs").promises;
const util = require("util");
const execAsync = util.promisify(cp.exec);
execAsync("a");
"#,
    );
    assert_eq!(import_path(&m, "cp"), "child_process");
    assert_eq!(import_path(&m, "execSync"), "child_process.execSync");
    assert_eq!(import_path(&m, "sp"), "child_process.spawn");
    assert_eq!(import_path(&m, "fsp"), "fs.promises");
    assert_eq!(import_path(&m, "execAsync"), "child_process.exec");
    assert_eq!(calls(&m), vec!["child_process.exec"]);
}

// ----- statements and expressions -----

#[test]
fn switch_becomes_an_if_chain_on_the_value() {
    let m = lower_ts(
        r#"
function dispatch(name: string) {
  switch (name) {
    case "a":
    case "b":
      return 1;
    case "c": {
      doC();
      break;
    }
    default:
      throw new Error("unknown");
  }
}
"#,
    );
    let f = func(&m, "dispatch");
    let arms: Vec<(&crate::code::ir::Expr, &crate::code::ir::Block)> = f
        .body
        .iter()
        .filter_map(|s| match &s.kind {
            StmtKind::If { test, then, .. } => Some((test, then)),
            _ => None,
        })
        .collect();
    assert_eq!(arms.len(), 2, "{:?}", f.body);
    let ExprKind::Logical {
        op: BoolOp::Or,
        values,
    } = &arms[0].0.kind
    else {
        panic!("fallthrough cases are or-ed: {:?}", arms[0].0.kind);
    };
    assert_eq!(values.len(), 2);
    assert!(matches!(arms[0].1[0].kind, StmtKind::Return(_)));
    // The case's own `break` is dropped: it leaves the switch, not the function.
    assert!(arms[1].1.iter().all(|s| !matches!(s.kind, StmtKind::Break)));
    // The default runs when no case returned.
    assert!(matches!(
        f.body.last().map(|s| &s.kind),
        Some(StmtKind::Raise(_))
    ));
}

#[test]
fn types_are_stripped_and_templates_kept() {
    let m = lower_ts(
        r#"
const a = (x as string)!;
const b = `ls ${a} -l`;
const c = y ?? "d";
const d = obj?.inner?.call(z satisfies string);
"#,
    );
    let top = &m.functions[0].body;
    let value = |i: usize| match &top[i].kind {
        StmtKind::Assign { value, .. } => value,
        other => panic!("{other:?}"),
    };
    assert!(matches!(&value(0).kind, ExprKind::Name(n) if n == "x"));
    let ExprKind::Template(parts) = &value(1).kind else {
        panic!("template");
    };
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0].as_str(), Some("ls "));
    assert!(matches!(
        value(2).kind,
        ExprKind::Logical {
            op: BoolOp::Coalesce,
            ..
        }
    ));
    let ExprKind::Call { args, .. } = &value(3).kind else {
        panic!("call");
    };
    assert!(matches!(&args[0].value.kind, ExprKind::Name(n) if n == "z"));
}

#[test]
fn destructuring_with_defaults_and_rest() {
    let m = lower_ts("function f({ a, b: c = 1, ...rest }: Args, [x, ...ys] = []) {}");
    let f = func(&m, "f");
    let Pattern::Object(fields) = &f.params[0].pattern else {
        panic!("object pattern");
    };
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a", "b", "..."]);
    assert!(matches!(fields[1].1, Pattern::Default(..)));
    assert!(matches!(f.params[1].pattern, Pattern::Sequence(_)));
    assert!(f.params[1].default.is_some());
}

#[test]
fn includes_is_membership() {
    let m = lower_ts(r#"if (ALLOWED.includes(cmd) && !p.includes("..")) { go(); }"#);
    let StmtKind::If { test, .. } = &m.functions[0].body[0].kind else {
        panic!("if");
    };
    let ExprKind::Logical { values, .. } = &test.kind else {
        panic!("and");
    };
    assert!(matches!(
        &values[0].kind,
        ExprKind::Compare { left, ops, .. } if ops == &[CmpOp::In] && matches!(&left.kind, ExprKind::Name(n) if n == "cmd")
    ));
    let ExprKind::Not(inner) = &values[1].kind else {
        panic!("not");
    };
    assert!(matches!(
        &inner.kind,
        ExprKind::Compare { left, .. } if left.as_str() == Some("..")
    ));
}

#[test]
fn classes_have_methods_fields_and_arrow_methods() {
    let m = lower_ts(
        r#"
class Wrapper {
  private client = new Client();
  handle = async (args: any) => run(args);
  constructor(private root: string) { this.x = 1; }
  async go(p: string) { return this.client.get(p); }
}
"#,
    );
    let class = &m.classes[0];
    assert_eq!(class.name, "Wrapper");
    for name in ["handle", "constructor", "go"] {
        let f = func(&m, &format!("Wrapper.{name}"));
        assert_eq!(f.class, Some(0), "{name}");
    }
    // The field initialiser runs first in the constructor.
    let ctor = func(&m, "Wrapper.constructor");
    assert!(matches!(
        &ctor.body[0].kind,
        StmtKind::Assign { target: Pattern::Attr(o, f), .. } if f == "client" && matches!(&o.kind, ExprKind::Name(n) if n == "this")
    ));
}

#[test]
fn rest_parameters_and_number_annotations() {
    let m = lower_ts("function f(n: number, ...rest: string[]) {}");
    let f = func(&m, "f");
    assert_eq!(f.params[1].kind, ParamKind::Rest);
    assert!(matches!(
        f.params[0].annotation.as_ref().map(|a| &a.kind),
        Some(ExprKind::Name(n)) if n == "float"
    ));
}

// ----- handlers -----

#[test]
fn the_three_registration_styles_are_handlers() {
    let m = lower_ts(
        r#"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { handleFetch } from "./tools/fetch.js";
const server = new McpServer({ name: "x", version: "1" });
server.tool("a", "desc", { p: z.string() }, async ({ p }) => ({ content: [] }));
server.tool("ping", async () => ({ content: [] }));
server.registerTool("b", { inputSchema: { q: z.number() } }, async (args) => ({ content: [] }));
server.tool("c", { url: z.string() }, handleFetch);
const low = new Server({ name: "y", version: "1" }, { capabilities: {} });
low.setRequestHandler(CallToolRequestSchema, async (request) => {
  switch (request.params.name) { case "x": return {}; }
});
"#,
    );
    let names: Vec<(Option<&str>, HandlerKind, Vec<usize>)> = m
        .handlers
        .iter()
        .map(|h| (h.name.as_deref(), h.kind, h.tainted_params.clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            (Some("a"), HandlerKind::Tool, vec![0]),
            (Some("ping"), HandlerKind::Tool, vec![]),
            (Some("b"), HandlerKind::Tool, vec![0]),
            (Some("c"), HandlerKind::Tool, vec![0]),
            (None, HandlerKind::CallTool, vec![0]),
        ]
    );
    // The schema is the arguments parameter's annotation, for the engine to read.
    let b = m.handlers[2].function;
    assert!(matches!(
        m.functions[b].params[0]
            .annotation
            .as_ref()
            .map(|a| &a.kind),
        Some(ExprKind::Map(_))
    ));
}

#[test]
fn methods_bound_in_a_wrapping_class_are_handlers() {
    let m = lower_ts(
        r#"
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema } from "@modelcontextprotocol/sdk/types.js";
class MyServer {
  private server = new Server({ name: "s", version: "1" });
  constructor() {
    this.server.setRequestHandler(CallToolRequestSchema, this.handleCall.bind(this));
  }
  async handleCall(request: any) { return {}; }
}
"#,
    );
    assert_eq!(m.handlers.len(), 1);
    assert_eq!(
        m.functions[m.handlers[0].function].qualname,
        "MyServer.handleCall"
    );
}

#[test]
fn fastmcp_add_tool_is_a_handler() {
    let m = lower_ts(
        r#"
import { FastMCP } from "fastmcp";
const server = new FastMCP({ name: "f" });
server.addTool({ name: "run", parameters: z.object({ cmd: z.string() }), execute: async (args) => "" });
"#,
    );
    assert_eq!(m.handlers.len(), 1);
    assert_eq!(m.handlers[0].name.as_deref(), Some("run"));
}

// ----- flows through the engine -----

const HEADER: &str = r#"import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { exec, spawn } from "child_process";
const server = new McpServer({ name: "x", version: "1" });
"#;

#[test]
fn shell_flows_and_zod_closed_types() {
    let src = format!(
        "{HEADER}server.tool(\"t\", {{ cmd: z.string(), n: z.number(), mode: z.enum([\"a\", \"b\"]) }}, async ({{ cmd, n, mode }}) => {{
  exec(`ls ${{cmd}}`);
  exec(`head -n ${{n}} ${{mode}}`);
  spawn(\"ls\", [cmd], {{ shell: true }});
  spawn(\"ls\", [cmd]);
  return {{ content: [] }};
}});
"
    );
    let found = flows(&[("server.ts", &src)]);
    assert!(has(&found, SinkKind::Shell, 6), "{found:?}");
    assert!(!has(&found, SinkKind::Shell, 7), "{found:?}");
    assert!(has(&found, SinkKind::Shell, 8), "{found:?}");
    assert!(!has(&found, SinkKind::Shell, 9), "{found:?}");
}

#[test]
fn zod_regex_cleans_what_it_excludes() {
    let src = format!(
        "{HEADER}server.tool(\"t\", {{ name: z.string().regex(/^[a-z0-9_]+$/), loose: z.string().regex(/[a-z]+/) }}, async (args) => {{
  exec(`echo ${{args.name}}`);
  exec(`echo ${{args.loose}}`);
  return {{ content: [] }};
}});
"
    );
    let found = flows(&[("server.ts", &src)]);
    assert!(!has(&found, SinkKind::Shell, 6), "{found:?}");
    assert!(has(&found, SinkKind::Shell, 7), "{found:?}");
}

#[test]
fn flows_cross_modules_through_relative_imports() {
    let server = format!(
        "{HEADER}import {{ runIt }} from \"./lib/run.js\";
import {{ handleRead }} from \"./tools/index.js\";
server.tool(\"t\", {{ cmd: z.string() }}, async ({{ cmd }}) => runIt(cmd));
server.tool(\"r\", {{ path: z.string() }}, handleRead);
"
    );
    let run = "import { execSync } from \"node:child_process\";\nexport function runIt(c: string) {\n  return execSync(c);\n}\n";
    let read = "import fs from \"fs\";\nexport const handleRead = async ({ path }: { path: string }) => {\n  return fs.readFileSync(path, \"utf8\");\n};\n";
    let found = flows(&[
        ("src/server.ts", &server),
        ("src/lib/run.ts", run),
        ("src/tools/index.ts", read),
    ]);
    assert!(has(&found, SinkKind::Shell, 3), "{found:?}");
    assert!(has(&found, SinkKind::Path, 3), "{found:?}");
}

#[test]
fn call_tool_dispatch_reads_arguments() {
    let src = r#"
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { execSync } from "child_process";
const server = new Server({ name: "s", version: "1" }, { capabilities: { tools: {} } });
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  const { name, arguments: args } = request.params;
  switch (name) {
    case "run": {
      const { command } = args as { command: string };
      return { content: [{ type: "text", text: execSync(command).toString() }] };
    }
    case "safe":
      return { content: [{ type: "text", text: execSync("uptime").toString() }] };
  }
  throw new Error("unknown tool");
});
"#;
    let found = flows(&[("server.ts", src)]);
    assert!(has(&found, SinkKind::Shell, 11), "{found:?}");
    assert!(!has(&found, SinkKind::Shell, 14), "{found:?}");
}

#[test]
fn argv_built_before_the_call_and_option_ends() {
    let src = format!(
        "{HEADER}server.tool(\"g\", {{ r: z.string() }}, async ({{ r }}) => {{
  const argv = [\"log\", \"--oneline\"];
  argv.push(r);
  spawn(\"git\", argv);
  spawn(\"git\", [\"log\", \"--\", r]);
  return {{ content: [] }};
}});
"
    );
    let found = flows(&[("server.ts", &src)]);
    assert!(has(&found, SinkKind::ArgInjection, 8), "{found:?}");
    assert!(!has(&found, SinkKind::ArgInjection, 9), "{found:?}");
}

// ----- robustness -----

#[test]
fn no_input_makes_lowering_panic() {
    let deep_parens = format!("const x = {}1{};", "(".repeat(5000), ")".repeat(5000));
    let deep_arrays = format!("const x = {}1{};", "[".repeat(3000), "]".repeat(3000));
    let deep_calls = format!("{}x{}", "f(".repeat(3000), ")".repeat(3000));
    let deep_blocks = format!("{}x();{}", "if (a) {".repeat(2000), "}".repeat(2000));
    let huge_template = format!("const t = `{}`;", "${a}b".repeat(50_000));
    let long_switch = format!(
        "switch (x) {{ {} }}",
        (0..2000)
            .map(|i| format!("case {i}: f({i});"))
            .collect::<String>()
    );
    let samples: Vec<(&str, String)> = vec![
        ("a.ts", deep_parens),
        ("a.js", deep_arrays),
        ("a.ts", deep_calls),
        ("a.ts", deep_blocks),
        ("a.ts", huge_template),
        ("a.js", long_switch),
        ("a.tsx", "const C = () => <div onClick={() => exec(x)}>{y}<B {...p} /></div>;".into()),
        ("a.jsx", "export default () => <><A b={`${c}`} /></>;".into()),
        ("a.ts", "@Component({a: 1}) class A { @Input() x: string; @Get() m(@Param() p) {} }".into()),
        ("a.ts", "function (( { ".into()),
        ("a.ts", "const = ;; }}} server.tool(\"x\", async ({a}) => exec(a)".into()),
        ("a.js", "import { from 'x'; require(); new; `${".into()),
        ("a.ts", "enum E { A = 1 } interface I { x: number } type T = A | B; declare module 'm' { export function f(): void; }".into()),
        ("a.ts", "label: for (const [k, v] of Object.entries(o)) { continue label; } for (k in o) {} do { x++ } while (y)".into()),
        ("a.mjs", "a ||= b; a &&= c; a ??= d; a += `${e}`; [a, b] = [b, a]; ({ a } = o);".into()),
        ("a.ts", "\u{feff}#!/usr/bin/env node\nconst s = '\\u{1F600}\\x41\\\n';".into()),
    ];
    for (path, src) in samples {
        let m = lower_as(path, &src);
        // Lowered, with the module function present.
        assert!(!m.functions.is_empty(), "{path}");
        // And analysed.
        let _ = analyze_project(&Project::new(vec![m]));
    }
}

#[test]
fn syntax_errors_are_kept() {
    let m = lower_ts("const a = ;\nserver.tool(\"x\", async () => 1);\n");
    assert!(!m.syntax_errors.is_empty());
    let clean = lower_ts("const a = 1;\n");
    assert!(clean.syntax_errors.is_empty());
}

#[test]
fn compiled_output_of_a_typescript_project_is_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("pkg/dist")).expect("mkdir");
    // No tsconfig: a package that ships only its build is scanned.
    assert!(!super::is_build_output(
        root,
        Path::new("pkg/dist/index.js")
    ));
    std::fs::write(root.join("pkg/tsconfig.json"), "{}").expect("write");
    assert!(super::is_build_output(root, Path::new("pkg/dist/index.js")));
    assert!(!super::is_build_output(root, Path::new("pkg/src/index.ts")));
    assert!(!super::is_build_output(root, Path::new("pkg/src/index.js")));
}
