//! Lowering a tree-sitter TypeScript/JavaScript tree into the IR, statement by statement.
//!
//! One lowering serves the three grammars (TypeScript, TSX, JavaScript): they share node kinds
//! for everything data flow needs, and TypeScript's own nodes (annotations, `as`, `satisfies`,
//! `!`, interfaces, type aliases) are either stripped to the expression they wrap or lowered to
//! nothing. Recursion is bounded at [`MAX_DEPTH`] syntax levels like the Python frontend's: past
//! it a subtree becomes one `Unknown` over the names it mentions, found with an iterative walk.
//!
//! Imports are resolved while lowering, in file order: ESM (`import x from`, `import {a as b}`,
//! `import * as ns`), TypeScript's `import x = require()`, CommonJS (`const x = require("m")`,
//! `const {a} = require("m")`, `require("m").a`) and `promisify(f)`, which only changes how `f`
//! returns. Package sources canonicalise to dotted paths (`node:fs/promises` -> `fs.promises`);
//! relative ones keep their `./` form without an extension, for the project to resolve.

use tree_sitter::Node;

use crate::code::ir::{
    Arg, BinOp, Block, BoolOp, Class, CmpOp, ExceptHandler, Expr, ExprKind, Function, FunctionId,
    Import, Param, ParamKind, Pattern, Stmt, StmtKind,
};
use crate::span::Span;

/// How many syntax levels are lowered structurally before a subtree is summarised.
pub(super) const MAX_DEPTH: usize = 200;
/// What one statement level counts for against [`MAX_DEPTH`].
const STMT_LEVEL: usize = 4;
/// How many names a summarised subtree keeps.
const MAX_OPAQUE_NAMES: usize = 4096;
/// Switch cases beyond this many are dropped: no hand-written dispatch has that many.
const MAX_CASES: usize = 5000;

#[derive(Debug, Clone)]
struct Scope {
    function: FunctionId,
    prefix: String,
    class: Option<usize>,
}

pub(super) struct Lowerer<'s> {
    src: &'s str,
    pub imports: Vec<Import>,
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    scope: Scope,
    depth: usize,
}

pub(super) fn span(node: Node) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

/// Named children without comments.
fn named<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|n| n.kind() != "comment" && n.kind() != "html_comment")
        .collect()
}

fn is_type_node(kind: &str) -> bool {
    matches!(
        kind,
        "type_annotation"
            | "type_arguments"
            | "type_parameters"
            | "predefined_type"
            | "type_identifier"
            | "generic_type"
            | "object_type"
            | "union_type"
            | "asserts_annotation"
            | "type_predicate_annotation"
    )
}

/// A package source as a dotted path, or a relative one without its extension.
pub(super) fn canonical_source(source: &str) -> String {
    let s = source.strip_prefix("node:").unwrap_or(source);
    let s = ["/index.js", "/index.ts", "/index.mjs", "/index.cjs"]
        .iter()
        .find_map(|suffix| {
            (s.starts_with('.') && s.ends_with(suffix))
                .then(|| &s[..s.len() - suffix.len() + "/index".len()])
        })
        .unwrap_or(s);
    let s = [".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"]
        .iter()
        .find_map(|ext| s.strip_suffix(ext))
        .unwrap_or(s);
    if s.starts_with("./") || s.starts_with("../") || s == "." || s == ".." {
        return s.to_string();
    }
    s.replace('/', ".")
}

impl<'s> Lowerer<'s> {
    pub fn new(src: &'s str, module: Function) -> Self {
        Lowerer {
            src,
            imports: Vec::new(),
            functions: vec![module],
            classes: Vec::new(),
            scope: Scope {
                function: 0,
                prefix: String::new(),
                class: None,
            },
            depth: 0,
        }
    }

    fn text(&self, node: Node) -> &'s str {
        self.src.get(node.byte_range()).unwrap_or("")
    }

    fn qualify(&self, name: &str) -> String {
        if self.scope.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.scope.prefix)
        }
    }

    fn import(&mut self, local: &str, path: String, at: Node) {
        if local.is_empty() {
            return;
        }
        self.imports.push(Import {
            local: local.to_string(),
            path,
            span: span(at),
        });
    }

    // ---- statements ----

    pub fn block(&mut self, node: Option<Node>) -> Block {
        let mut out = Vec::new();
        if let Some(node) = node {
            if node.kind() == "statement_block" || node.kind() == "program" || node.is_error() {
                for child in named(node) {
                    self.stmt_into(child, &mut out);
                }
            } else {
                self.stmt_into(node, &mut out);
            }
        }
        out
    }

    fn stmt_into(&mut self, node: Node, out: &mut Block) {
        if self.depth > MAX_DEPTH {
            out.push(Stmt {
                kind: StmtKind::Expr(self.opaque(node)),
                span: span(node),
            });
            return;
        }
        // A statement level costs several expression levels of stack (its frame is larger):
        // counting it as such keeps 50 nested blocks, far more than code has, within bounds.
        self.depth += STMT_LEVEL;
        self.stmt_inner(node, out);
        self.depth -= STMT_LEVEL;
    }

    fn push(out: &mut Block, kind: StmtKind, node: Node) {
        out.push(Stmt {
            kind,
            span: span(node),
        });
    }

    fn stmt_inner(&mut self, node: Node, out: &mut Block) {
        let sp = span(node);
        match node.kind() {
            "expression_statement" => {
                for child in named(node) {
                    self.expression_statement(child, out);
                }
            }
            "lexical_declaration" | "variable_declaration" => {
                for d in named(node) {
                    if d.kind() == "variable_declarator" {
                        self.declarator(d, out);
                    }
                }
            }
            "return_statement" => {
                let value = named(node).first().map(|e| self.expr(*e));
                Self::push(out, StmtKind::Return(value), node);
            }
            "throw_statement" => {
                let value = named(node).first().map(|e| self.expr(*e));
                Self::push(out, StmtKind::Raise(value), node);
            }
            "if_statement" => {
                let test = self.field_expr(node, "condition");
                let then = self.block(node.child_by_field_name("consequence"));
                let orelse = match node.child_by_field_name("alternative") {
                    Some(alt) => {
                        let mut b = Vec::new();
                        for c in named(alt) {
                            self.stmt_into(c, &mut b);
                        }
                        b
                    }
                    None => Vec::new(),
                };
                Self::push(out, StmtKind::If { test, then, orelse }, node);
            }
            "for_statement" => {
                if let Some(init) = node.child_by_field_name("initializer") {
                    if init.kind().ends_with("declaration") {
                        self.stmt_into(init, out);
                    } else if init.kind() != "empty_statement" {
                        self.expression_statement(init, out);
                    }
                }
                let mut body = Vec::new();
                if let Some(c) = node.child_by_field_name("condition")
                    && c.is_named()
                    && c.kind() != "empty_statement"
                {
                    let e = self.expr(c);
                    body.push(Stmt {
                        kind: StmtKind::Expr(e),
                        span: span(c),
                    });
                }
                body.extend(self.block(node.child_by_field_name("body")));
                if let Some(inc) = node.child_by_field_name("increment") {
                    self.expression_statement(inc, &mut body);
                }
                Self::push(
                    out,
                    StmtKind::Loop {
                        binding: None,
                        iter: None,
                        body,
                        orelse: Vec::new(),
                    },
                    node,
                );
            }
            "for_in_statement" => {
                let binding = node
                    .child_by_field_name("left")
                    .map(|l| self.pattern(l))
                    .unwrap_or(Pattern::Ignore);
                let iter = node.child_by_field_name("right").map(|r| self.expr(r));
                let body = self.block(node.child_by_field_name("body"));
                Self::push(
                    out,
                    StmtKind::Loop {
                        binding: Some(binding),
                        iter,
                        body,
                        orelse: Vec::new(),
                    },
                    node,
                );
            }
            "while_statement" | "do_statement" => {
                let test = self.field_expr(node, "condition");
                let mut body = vec![Stmt {
                    span: test.span,
                    kind: StmtKind::Expr(test),
                }];
                body.extend(self.block(node.child_by_field_name("body")));
                Self::push(
                    out,
                    StmtKind::Loop {
                        binding: None,
                        iter: None,
                        body,
                        orelse: Vec::new(),
                    },
                    node,
                );
            }
            "try_statement" => {
                let body = self.block(node.child_by_field_name("body"));
                let mut handlers = Vec::new();
                if let Some(h) = node.child_by_field_name("handler") {
                    handlers.push(ExceptHandler {
                        binding: h.child_by_field_name("parameter").map(|p| self.pattern(p)),
                        types: None,
                        body: self.block(h.child_by_field_name("body")),
                        span: span(h),
                    });
                }
                let finally = node
                    .child_by_field_name("finalizer")
                    .map(|f| self.block(f.child_by_field_name("body")))
                    .unwrap_or_default();
                Self::push(
                    out,
                    StmtKind::Try {
                        body,
                        handlers,
                        orelse: Vec::new(),
                        finally,
                    },
                    node,
                );
            }
            "switch_statement" => self.switch(node, out),
            "statement_block" => {
                for c in named(node) {
                    self.stmt_into(c, out);
                }
            }
            "labeled_statement" => {
                if let Some(body) = node.child_by_field_name("body") {
                    self.stmt_into(body, out);
                }
            }
            "break_statement" => Self::push(out, StmtKind::Break, node),
            "continue_statement" => Self::push(out, StmtKind::Continue, node),
            "function_declaration" | "generator_function_declaration" => {
                let id = self.function(node);
                let name = self.functions[id].name.clone();
                Self::push(
                    out,
                    StmtKind::Def {
                        name,
                        function: Some(id),
                    },
                    node,
                );
            }
            "class_declaration" | "abstract_class_declaration" | "class" => {
                let name = self.class(node);
                Self::push(
                    out,
                    StmtKind::Def {
                        name,
                        function: None,
                    },
                    node,
                );
            }
            "import_statement" => self.import_statement(node),
            "export_statement" => {
                if let Some(d) = node.child_by_field_name("declaration") {
                    self.stmt_into(d, out);
                } else if let Some(v) = node.child_by_field_name("value") {
                    let e = self.expr(v);
                    Self::push(out, StmtKind::Expr(e), node);
                } else {
                    for c in named(node) {
                        if !matches!(c.kind(), "export_clause" | "string" | "namespace_export") {
                            self.stmt_into(c, out);
                        }
                    }
                }
            }
            "ambient_declaration" | "module" | "internal_module" => {
                if let Some(b) = node.child_by_field_name("body") {
                    for c in named(b) {
                        self.stmt_into(c, out);
                    }
                }
            }
            "ERROR" => {
                for c in named(node) {
                    if c.kind().ends_with("statement")
                        || c.kind().ends_with("declaration")
                        || c.kind() == "ERROR"
                    {
                        self.stmt_into(c, out);
                    } else {
                        let e = self.expr(c);
                        out.push(Stmt {
                            kind: StmtKind::Expr(e),
                            span: span(c),
                        });
                    }
                }
            }
            "empty_statement"
            | "debugger_statement"
            | "comment"
            | "hash_bang_line"
            | "type_alias_declaration"
            | "interface_declaration"
            | "enum_declaration"
            | "function_signature"
            | "import_alias" => Self::push(out, StmtKind::Other, node),
            _ => {
                let e = self.expr(node);
                out.push(Stmt {
                    kind: StmtKind::Expr(e),
                    span: sp,
                });
            }
        }
    }

    fn expression_statement(&mut self, node: Node, out: &mut Block) {
        match node.kind() {
            "assignment_expression" => {
                let target = node
                    .child_by_field_name("left")
                    .map(|l| self.pattern(l))
                    .unwrap_or(Pattern::Ignore);
                let Some(right) = node.child_by_field_name("right") else {
                    return;
                };
                // `module.exports = {...}`, `exports.x = ...`: plain assignments.
                if let Some(path) = self.require_path(right)
                    && let Pattern::Name(n, _) = &target
                {
                    let n = n.clone();
                    self.import(&n, path, node);
                    return;
                }
                let value = self.expr(right);
                Self::push(out, StmtKind::Assign { target, value }, node);
            }
            "augmented_assignment_expression" => {
                let (Some(l), Some(r)) = (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ) else {
                    return;
                };
                let op = node
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                let left = self.expr(l);
                let right = self.expr(r);
                let value = match op {
                    "+=" => Expr::new(
                        ExprKind::Binary {
                            op: BinOp::Add,
                            left: Box::new(left),
                            right: Box::new(right),
                        },
                        span(node),
                    ),
                    "||=" | "&&=" | "??=" => Expr::new(
                        ExprKind::Logical {
                            op: BoolOp::Or,
                            values: vec![left, right],
                        },
                        span(node),
                    ),
                    _ => Expr::unknown(vec![left, right], span(node)),
                };
                let target = self.pattern(l);
                Self::push(out, StmtKind::Assign { target, value }, node);
            }
            "sequence_expression" => {
                for c in named(node) {
                    self.expression_statement(c, out);
                }
            }
            "parenthesized_expression" if named(node).len() == 1 => {
                if let Some(c) = named(node).first() {
                    self.expression_statement(*c, out);
                }
            }
            _ => {
                let e = self.expr(node);
                Self::push(out, StmtKind::Expr(e), node);
            }
        }
    }

    fn declarator(&mut self, d: Node, out: &mut Block) {
        let Some(name) = d.child_by_field_name("name") else {
            return;
        };
        let Some(value) = d.child_by_field_name("value") else {
            return;
        };
        // CommonJS imports and `promisify`: bindings, not data.
        if let Some(path) = self.require_path(value).or_else(|| self.promisified(value)) {
            match name.kind() {
                "identifier" => {
                    let local = self.text(name).to_string();
                    self.import(&local, path, d);
                    return;
                }
                "object_pattern" => {
                    for p in named(name) {
                        match p.kind() {
                            "shorthand_property_identifier_pattern" => {
                                let n = self.text(p).to_string();
                                self.import(&n, format!("{path}.{n}"), p);
                            }
                            "pair_pattern" => {
                                if let (Some(k), Some(v)) =
                                    (p.child_by_field_name("key"), p.child_by_field_name("value"))
                                    && v.kind() == "identifier"
                                {
                                    let key = self.property_name(k);
                                    let local = self.text(v).to_string();
                                    self.import(&local, format!("{path}.{key}"), p);
                                }
                            }
                            _ => {}
                        }
                    }
                    return;
                }
                _ => {}
            }
        }
        let target = self.pattern(name);
        let value = self.expr(value);
        // `const handleRead = async (args) => ...` is the function `handleRead`.
        if let (ExprKind::Function(id), Pattern::Name(n, _)) = (&value.kind, &target) {
            let qualname = self.qualify(n);
            if let Some(f) = self.functions.get_mut(*id)
                && f.name == "<lambda>"
            {
                f.name = n.clone();
                f.qualname = qualname;
            }
        }
        Self::push(out, StmtKind::Assign { target, value }, d);
    }

    /// `require("m")`, `require("m").a.b`, `await import("m")`: the import path.
    fn require_path(&self, node: Node) -> Option<String> {
        self.require_path_at(node, 0)
    }

    fn require_path_at(&self, node: Node, depth: usize) -> Option<String> {
        if depth > 16 {
            return None;
        }
        match node.kind() {
            "call_expression" => {
                let f = node.child_by_field_name("function")?;
                if f.kind() != "identifier" || self.text(f) != "require" {
                    return None;
                }
                let args = node.child_by_field_name("arguments")?;
                let first = *named(args).first()?;
                if first.kind() != "string" || named(args).len() != 1 {
                    return None;
                }
                Some(canonical_source(&self.string_value(first)))
            }
            "member_expression" => {
                let object = node.child_by_field_name("object")?;
                let property = node.child_by_field_name("property")?;
                Some(format!(
                    "{}.{}",
                    self.require_path_at(object, depth + 1)?,
                    self.text(property)
                ))
            }
            "parenthesized_expression" => self.require_path_at(*named(node).first()?, depth + 1),
            _ => None,
        }
    }

    /// `promisify(exec)`, `util.promisify(cp.execFile)`: the path of what was promisified.
    fn promisified(&self, node: Node) -> Option<String> {
        if node.kind() != "call_expression" {
            return None;
        }
        let f = node.child_by_field_name("function")?;
        let dotted = self.dotted_text(f)?;
        let resolved = self.resolve(&dotted);
        if resolved != "util.promisify" {
            return None;
        }
        let args = node.child_by_field_name("arguments")?;
        let first = *named(args).first()?;
        let inner = self.dotted_text(first)?;
        Some(self.resolve(&inner))
    }

    /// `a.b.c` as text, for chains of at most a few names.
    fn dotted_text(&self, node: Node) -> Option<String> {
        let mut parts = Vec::new();
        let mut n = node;
        while n.kind() == "member_expression" && parts.len() < 16 {
            parts.push(self.text(n.child_by_field_name("property")?));
            n = n.child_by_field_name("object")?;
        }
        if n.kind() != "identifier" {
            return None;
        }
        parts.push(self.text(n));
        parts.reverse();
        Some(parts.join("."))
    }

    fn resolve(&self, dotted: &str) -> String {
        crate::code::ir::resolve_through(&self.imports, dotted)
    }

    fn import_statement(&mut self, node: Node) {
        let path = node
            .child_by_field_name("source")
            .map(|source| canonical_source(&self.string_value(source)))
            .unwrap_or_default();
        for c in named(node) {
            match c.kind() {
                "import_clause" if !path.is_empty() => {
                    for part in named(c) {
                        match part.kind() {
                            // A default import: the module's default export, which for
                            // CommonJS packages is the module itself.
                            "identifier" => {
                                let local = self.text(part).to_string();
                                self.import(&local, path.clone(), part);
                            }
                            "namespace_import" => {
                                if let Some(id) = named(part).last() {
                                    let local = self.text(*id).to_string();
                                    self.import(&local, path.clone(), part);
                                }
                            }
                            "named_imports" => {
                                for spec in named(part) {
                                    if spec.kind() != "import_specifier" {
                                        continue;
                                    }
                                    let Some(n) = spec.child_by_field_name("name") else {
                                        continue;
                                    };
                                    let name = if n.kind() == "string" {
                                        self.string_value(n)
                                    } else {
                                        self.text(n).to_string()
                                    };
                                    let local = spec
                                        .child_by_field_name("alias")
                                        .map(|a| self.text(a).to_string())
                                        .unwrap_or_else(|| name.clone());
                                    self.import(&local, format!("{path}.{name}"), spec);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                "import_require_clause" => {
                    if let Some(id) = named(c).into_iter().find(|n| n.kind() == "identifier") {
                        let local = self.text(id).to_string();
                        let p = c
                            .child_by_field_name("source")
                            .map(|s| canonical_source(&self.string_value(s)))
                            .unwrap_or_else(|| path.clone());
                        self.import(&local, p, c);
                    }
                }
                _ => {}
            }
        }
    }

    /// `switch (v) { case "a": ...; case "b": case "c": ...; default: ... }` as an `if` chain
    /// on `v == "a"`, so dispatch on a tool name reads like Python's.
    fn switch(&mut self, node: Node, out: &mut Block) {
        let value = self.field_expr(node, "value");
        let Some(body) = node.child_by_field_name("body") else {
            return;
        };
        let mut arms: Vec<(Option<Vec<Expr>>, Block, Span)> = Vec::new();
        let mut pending: Vec<Expr> = Vec::new();
        for case in named(body).into_iter().take(MAX_CASES) {
            let is_default = case.kind() == "switch_default";
            let test = case.child_by_field_name("value").map(|v| self.expr(v));
            let mut stmts = Vec::new();
            let mut cursor = case.walk();
            let bodies: Vec<Node> = case
                .children_by_field_name("body", &mut cursor)
                .filter(|n| n.is_named() && n.kind() != "comment")
                .collect();
            for s in bodies {
                self.stmt_into(s, &mut stmts);
            }
            // The `break` that ends a case (after its statements, or in its block) leaves the
            // switch, not the function.
            stmts.retain(|s| !matches!(s.kind, StmtKind::Break));
            if let Some(t) = test {
                pending.push(t);
            }
            if stmts.is_empty() && !is_default {
                continue; // falls through to the next case
            }
            let tests = if is_default {
                None
            } else {
                Some(std::mem::take(&mut pending))
            };
            arms.push((tests, stmts, span(case)));
        }
        // Each case is an `if` of its own rather than an `else` of the previous one, so a
        // switch of any length nests one level: cases usually return, and when one does not
        // the state after it merges with the others, which only over-approximates.
        let default = arms
            .iter()
            .position(|a| a.0.is_none())
            .map(|pos| arms.remove(pos).1);
        for (tests, then, sp) in arms {
            let compares: Vec<Expr> = tests
                .unwrap_or_default()
                .into_iter()
                .map(|t| {
                    let s = Span::new(value.span.start.min(t.span.start), t.span.end);
                    Expr::new(
                        ExprKind::Compare {
                            left: Box::new(value.clone()),
                            ops: vec![CmpOp::Eq],
                            rights: vec![t],
                        },
                        s,
                    )
                })
                .collect();
            let test = match compares.len() {
                1 => compares.into_iter().next().unwrap_or_else(|| value.clone()),
                _ => Expr::new(
                    ExprKind::Logical {
                        op: BoolOp::Or,
                        values: compares,
                    },
                    sp,
                ),
            };
            out.push(Stmt {
                kind: StmtKind::If {
                    test,
                    then,
                    orelse: Vec::new(),
                },
                span: sp,
            });
        }
        match default {
            Some(d) => out.extend(d),
            None => out.push(Stmt {
                span: value.span,
                kind: StmtKind::Expr(value),
            }),
        }
    }

    // ---- definitions ----

    /// Lowers a function, arrow function or method; returns its id.
    pub fn function(&mut self, node: Node) -> FunctionId {
        let name_node = node.child_by_field_name("name");
        let name = match name_node {
            Some(n) => self.property_name(n),
            None => "<lambda>".to_string(),
        };
        let is_async = {
            let mut cursor = node.walk();
            node.children(&mut cursor).any(|c| c.kind() == "async")
        };
        let id = self.functions.len();
        let qualname = self.qualify(&name);
        let class = if node.kind() == "method_definition" {
            self.scope.class
        } else {
            None
        };
        let parent = if self.scope.function == 0 && self.scope.class.is_none() {
            None
        } else {
            Some(self.scope.function)
        };
        // Top-level functions have no parent, like Python's.
        let parent = if self.scope.function == 0 && class.is_some() {
            None
        } else {
            parent
        };
        let decorators = Vec::new();
        self.functions.push(Function {
            name,
            qualname: qualname.clone(),
            span: span(node),
            name_span: name_node.map(span).unwrap_or_else(|| {
                let s = span(node);
                Span::new(s.start, s.start)
            }),
            params: Vec::new(),
            body: Vec::new(),
            decorators,
            is_async,
            class,
            parent,
        });
        let saved = std::mem::replace(
            &mut self.scope,
            Scope {
                function: id,
                prefix: qualname,
                class: None,
            },
        );
        let params = self.params(node);
        let body = match node.child_by_field_name("body") {
            Some(b) if b.kind() == "statement_block" => self.block(Some(b)),
            Some(b) => {
                let e = self.expr(b);
                vec![Stmt {
                    span: e.span,
                    kind: StmtKind::Return(Some(e)),
                }]
            }
            None => Vec::new(),
        };
        self.scope = saved;
        if let Some(f) = self.functions.get_mut(id) {
            f.params = params;
            f.body = body;
        }
        id
    }

    fn params(&mut self, node: Node) -> Vec<Param> {
        if let Some(p) = node.child_by_field_name("parameter") {
            return vec![Param {
                pattern: self.pattern(p),
                kind: ParamKind::Normal,
                annotation: None,
                default: None,
                span: span(p),
            }];
        }
        let Some(list) = node.child_by_field_name("parameters") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for p in named(list) {
            let (pat_node, annotation, default) = match p.kind() {
                "required_parameter" | "optional_parameter" => (
                    p.child_by_field_name("pattern"),
                    p.child_by_field_name("type")
                        .and_then(|t| named(t).first().copied())
                        .map(|t| self.type_expr(t)),
                    p.child_by_field_name("value").map(|v| self.expr(v)),
                ),
                "assignment_pattern" => (
                    p.child_by_field_name("left"),
                    None,
                    p.child_by_field_name("right").map(|v| self.expr(v)),
                ),
                "decorator" => continue,
                _ => (Some(p), None, None),
            };
            let Some(pat_node) = pat_node else { continue };
            // TypeScript's `this: Type` declares the receiver's type; it is not an argument.
            if pat_node.kind() == "this" {
                continue;
            }
            let kind = if pat_node.kind() == "rest_pattern" {
                ParamKind::Rest
            } else {
                ParamKind::Normal
            };
            let pattern = match kind {
                ParamKind::Rest => named(pat_node)
                    .first()
                    .map(|n| self.pattern(*n))
                    .unwrap_or(Pattern::Ignore),
                _ => self.pattern(pat_node),
            };
            out.push(Param {
                pattern,
                kind,
                annotation,
                default,
                span: span(p),
            });
        }
        out
    }

    /// A type as an expression, for the few that matter (`number`, `boolean`, literal unions).
    fn type_expr(&self, node: Node) -> Expr {
        let sp = span(node);
        match node.kind() {
            "predefined_type" => {
                let t = self.text(node);
                let name = match t {
                    "number" | "bigint" => "float",
                    "boolean" => "bool",
                    other => other,
                };
                Expr::new(ExprKind::Name(name.to_string()), sp)
            }
            _ => Expr::new(ExprKind::Name(self.text(node).to_string()), sp),
        }
    }

    /// Lowers a class: methods become functions, field initialisers run at the start of the
    /// constructor (`this.x = ...`), as JavaScript runs them.
    fn class(&mut self, node: Node) -> String {
        let name = node
            .child_by_field_name("name")
            .map(|n| self.text(n).to_string())
            .unwrap_or_else(|| "<class>".to_string());
        let index = self.classes.len();
        let mut bases = Vec::new();
        for c in named(node) {
            if c.kind() == "class_heritage" {
                for h in named(c) {
                    for b in named(h) {
                        if !is_type_node(b.kind()) {
                            bases.push(self.expr(b));
                        }
                    }
                    if h.kind() == "identifier" || h.kind() == "member_expression" {
                        bases.push(self.expr(h));
                    }
                }
            }
        }
        self.classes.push(Class {
            name: name.clone(),
            span: span(node),
            bases,
            decorators: Vec::new(),
            methods: Vec::new(),
        });
        let class_scope = Scope {
            function: self.scope.function,
            prefix: self.qualify(&name),
            class: Some(index),
        };
        let saved = std::mem::replace(&mut self.scope, class_scope);
        let mut fields: Block = Vec::new();
        let mut constructor = None;
        if let Some(body) = node.child_by_field_name("body") {
            for member in named(body) {
                match member.kind() {
                    "method_definition" => {
                        let id = self.function(member);
                        if self.functions[id].name == "constructor" {
                            constructor = Some(id);
                        }
                        if let Some(c) = self.classes.get_mut(index) {
                            c.methods.push(id);
                        }
                    }
                    "public_field_definition" | "field_definition" => {
                        let key = member
                            .child_by_field_name("name")
                            .or_else(|| member.child_by_field_name("property"));
                        let (Some(key), Some(value)) = (key, member.child_by_field_name("value"))
                        else {
                            continue;
                        };
                        let field = self.property_name(key);
                        // An arrow function field is a method.
                        if matches!(value.kind(), "arrow_function" | "function_expression") {
                            let id = self.function(value);
                            let qualname = self.qualify(&field);
                            if let Some(f) = self.functions.get_mut(id) {
                                f.name = field.clone();
                                f.qualname = qualname;
                                f.class = Some(index);
                                f.parent = None;
                            }
                            if let Some(c) = self.classes.get_mut(index) {
                                c.methods.push(id);
                            }
                            continue;
                        }
                        let value = self.expr(value);
                        fields.push(Stmt {
                            kind: StmtKind::Assign {
                                target: Pattern::Attr(
                                    Box::new(Expr::new(ExprKind::Name("this".into()), span(key))),
                                    field,
                                ),
                                value,
                            },
                            span: span(member),
                        });
                    }
                    _ => {}
                }
            }
        }
        self.scope = saved;
        if !fields.is_empty() {
            match constructor {
                Some(id) => {
                    if let Some(f) = self.functions.get_mut(id) {
                        let rest = std::mem::take(&mut f.body);
                        f.body = fields;
                        f.body.extend(rest);
                    }
                }
                None => {
                    let id = self.functions.len();
                    self.functions.push(Function {
                        name: "constructor".into(),
                        qualname: format!("{}.constructor", self.qualify(&name)),
                        span: span(node),
                        name_span: Span::new(span(node).start, span(node).start),
                        params: Vec::new(),
                        body: fields,
                        decorators: Vec::new(),
                        is_async: false,
                        class: Some(index),
                        parent: None,
                    });
                    if let Some(c) = self.classes.get_mut(index) {
                        c.methods.push(id);
                    }
                }
            }
        }
        name
    }

    fn property_name(&self, node: Node) -> String {
        match node.kind() {
            "string" => self.string_value(node),
            "computed_property_name" => self.text(node).to_string(),
            _ => self.text(node).to_string(),
        }
    }

    // ---- patterns ----

    fn pattern(&mut self, node: Node) -> Pattern {
        if self.depth > MAX_DEPTH {
            return Pattern::Ignore;
        }
        self.depth += 1;
        let p = self.pattern_inner(node);
        self.depth -= 1;
        p
    }

    fn pattern_inner(&mut self, node: Node) -> Pattern {
        match node.kind() {
            "identifier" | "shorthand_property_identifier_pattern" => {
                Pattern::Name(self.text(node).to_string(), span(node))
            }
            "this" => Pattern::Name("this".into(), span(node)),
            "object_pattern" => {
                let mut fields = Vec::new();
                for p in named(node) {
                    match p.kind() {
                        "shorthand_property_identifier_pattern" => {
                            let n = self.text(p).to_string();
                            fields.push((n.clone(), Pattern::Name(n, span(p))));
                        }
                        "pair_pattern" => {
                            let key = p
                                .child_by_field_name("key")
                                .map(|k| self.property_name(k))
                                .unwrap_or_default();
                            let value = p
                                .child_by_field_name("value")
                                .map(|v| self.pattern(v))
                                .unwrap_or(Pattern::Ignore);
                            fields.push((key, value));
                        }
                        "object_assignment_pattern" => {
                            let Some(left) = p.child_by_field_name("left") else {
                                continue;
                            };
                            let key = self.text(left).to_string();
                            let inner = self.pattern(left);
                            let default = p
                                .child_by_field_name("right")
                                .map(|r| self.expr(r))
                                .unwrap_or_else(|| Expr::new(ExprKind::Null, span(p)));
                            fields
                                .push((key, Pattern::Default(Box::new(inner), Box::new(default))));
                        }
                        "rest_pattern" => {
                            let inner = named(p)
                                .first()
                                .map(|n| self.pattern(*n))
                                .unwrap_or(Pattern::Ignore);
                            fields.push(("...".into(), Pattern::Rest(Box::new(inner))));
                        }
                        _ => {}
                    }
                }
                Pattern::Object(fields)
            }
            "array_pattern" => {
                Pattern::Sequence(named(node).iter().map(|p| self.pattern(*p)).collect())
            }
            "assignment_pattern" => {
                let inner = node
                    .child_by_field_name("left")
                    .map(|l| self.pattern(l))
                    .unwrap_or(Pattern::Ignore);
                let default = node
                    .child_by_field_name("right")
                    .map(|r| self.expr(r))
                    .unwrap_or_else(|| Expr::new(ExprKind::Null, span(node)));
                Pattern::Default(Box::new(inner), Box::new(default))
            }
            "rest_pattern" => Pattern::Rest(Box::new(
                named(node)
                    .first()
                    .map(|n| self.pattern(*n))
                    .unwrap_or(Pattern::Ignore),
            )),
            "member_expression" => {
                let object = node
                    .child_by_field_name("object")
                    .map(|o| self.expr(o))
                    .unwrap_or_else(|| Expr::new(ExprKind::Null, span(node)));
                let name = node
                    .child_by_field_name("property")
                    .map(|p| self.text(p).to_string())
                    .unwrap_or_default();
                Pattern::Attr(Box::new(object), name)
            }
            "subscript_expression" => {
                let object = self.field_expr(node, "object");
                let index = self.field_expr(node, "index");
                Pattern::Subscript(Box::new(object), Box::new(index))
            }
            "parenthesized_expression" | "non_null_expression" | "as_expression" => {
                match named(node).first() {
                    Some(n) => self.pattern(*n),
                    None => Pattern::Ignore,
                }
            }
            _ => Pattern::Ignore,
        }
    }

    // ---- expressions ----

    fn field_expr(&mut self, node: Node, name: &str) -> Expr {
        match node.child_by_field_name(name) {
            Some(n) => self.expr(n),
            None => Expr::new(ExprKind::Null, span(node)),
        }
    }

    pub fn expr(&mut self, node: Node) -> Expr {
        if self.depth > MAX_DEPTH {
            return self.opaque(node);
        }
        self.depth += 1;
        let e = self.expr_inner(node);
        self.depth -= 1;
        e
    }

    fn children_exprs(&mut self, node: Node) -> Vec<Expr> {
        named(node)
            .into_iter()
            .filter(|c| !is_type_node(c.kind()))
            .map(|c| self.expr(c))
            .collect()
    }

    fn expr_inner(&mut self, node: Node) -> Expr {
        let sp = span(node);
        let kind = match node.kind() {
            "identifier" | "shorthand_property_identifier" | "private_property_identifier" => {
                ExprKind::Name(self.text(node).to_string())
            }
            "this" => ExprKind::Name("this".into()),
            "super" => ExprKind::Name("super".into()),
            "undefined" | "null" => ExprKind::Null,
            "true" => ExprKind::Bool(true),
            "false" => ExprKind::Bool(false),
            "number" => ExprKind::Num(self.text(node).to_string()),
            "string" => ExprKind::Str(self.string_value(node)),
            "regex" => ExprKind::Str(
                node.child_by_field_name("pattern")
                    .map(|p| self.text(p).to_string())
                    .unwrap_or_default(),
            ),
            "template_string" => self.template(node),
            "member_expression" => {
                let object = self.field_expr(node, "object");
                match node.child_by_field_name("property") {
                    Some(p) => ExprKind::Attr {
                        object: Box::new(object),
                        name: self.text(p).to_string(),
                        name_span: span(p),
                    },
                    None => return object,
                }
            }
            "subscript_expression" => {
                let object = self.field_expr(node, "object");
                let index = self.field_expr(node, "index");
                ExprKind::Subscript {
                    object: Box::new(object),
                    index: Box::new(index),
                }
            }
            "call_expression" => return self.call(node, false),
            "new_expression" => return self.call(node, true),
            "await_expression" => match named(node).first() {
                Some(c) => ExprKind::Await(Box::new(self.expr(*c))),
                None => ExprKind::Null,
            },
            "parenthesized_expression" => {
                let mut inner: Vec<Expr> = self.children_exprs(node);
                return match inner.len() {
                    1 => inner.pop().unwrap_or_else(|| Expr::new(ExprKind::Null, sp)),
                    _ => Expr::unknown(inner, sp),
                };
            }
            // Types are stripped: the value is what flows.
            "as_expression" | "satisfies_expression" | "non_null_expression" | "type_assertion" => {
                let inner = named(node)
                    .into_iter()
                    .filter(|c| !is_type_node(c.kind()))
                    .find(|c| node.kind() != "type_assertion" || !c.kind().ends_with("type"));
                return match inner {
                    Some(c) if node.kind() == "type_assertion" => {
                        let last = named(node).last().copied().unwrap_or(c);
                        self.expr(last)
                    }
                    Some(c) => self.expr(c),
                    None => Expr::new(ExprKind::Null, sp),
                };
            }
            "binary_expression" => return self.binary(node),
            "unary_expression" => {
                let op = node
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                let arg = self.field_expr(node, "argument");
                match op {
                    "!" => ExprKind::Not(Box::new(arg)),
                    _ => ExprKind::Unknown(vec![arg]),
                }
            }
            "ternary_expression" => ExprKind::Conditional {
                test: Box::new(self.field_expr(node, "condition")),
                then: Box::new(self.field_expr(node, "consequence")),
                orelse: Box::new(self.field_expr(node, "alternative")),
            },
            "array" => ExprKind::Seq(self.children_exprs(node)),
            "object" => self.object(node),
            "spread_element" => match named(node).first() {
                Some(c) => ExprKind::Spread(Box::new(self.expr(*c))),
                None => ExprKind::Null,
            },
            "arrow_function" | "function_expression" | "function" | "generator_function" => {
                ExprKind::Function(self.function(node))
            }
            "class" => {
                self.class(node);
                ExprKind::Unknown(Vec::new())
            }
            "assignment_expression" => {
                // An assignment inside an expression: its value flows on.
                let right = self.field_expr(node, "right");
                return right;
            }
            _ => ExprKind::Unknown(self.children_exprs(node)),
        };
        Expr::new(kind, sp)
    }

    #[inline(never)]
    fn object(&mut self, node: Node) -> ExprKind {
        let mut entries = Vec::new();
        for p in named(node) {
            match p.kind() {
                "pair" => {
                    let key = match p.child_by_field_name("key") {
                        Some(k) if k.kind() == "computed_property_name" => match named(k).first() {
                            Some(inner) => self.expr(*inner),
                            None => Expr::new(ExprKind::Null, span(k)),
                        },
                        Some(k) => Expr::new(ExprKind::Str(self.property_name(k)), span(k)),
                        None => Expr::new(ExprKind::Null, span(p)),
                    };
                    let value = self.field_expr(p, "value");
                    entries.push((Some(key), value));
                }
                "shorthand_property_identifier" => {
                    let n = self.text(p).to_string();
                    entries.push((
                        Some(Expr::new(ExprKind::Str(n.clone()), span(p))),
                        Expr::new(ExprKind::Name(n), span(p)),
                    ));
                }
                "spread_element" => {
                    let inner = match named(p).first() {
                        Some(c) => self.expr(*c),
                        None => Expr::new(ExprKind::Null, span(p)),
                    };
                    entries.push((None, inner));
                }
                "method_definition" => {
                    let key = p
                        .child_by_field_name("name")
                        .map(|k| self.property_name(k))
                        .unwrap_or_default();
                    let id = self.function(p);
                    entries.push((
                        Some(Expr::new(ExprKind::Str(key), span(p))),
                        Expr::new(ExprKind::Function(id), span(p)),
                    ));
                }
                _ => {}
            }
        }
        ExprKind::Map(entries)
    }

    #[inline(never)]
    fn binary(&mut self, node: Node) -> Expr {
        let sp = span(node);
        let op = node
            .child_by_field_name("operator")
            .map(|o| self.text(o))
            .unwrap_or("");
        let left = self.field_expr(node, "left");
        let right = self.field_expr(node, "right");
        let cmp = |op: CmpOp, left: Expr, right: Expr| ExprKind::Compare {
            left: Box::new(left),
            ops: vec![op],
            rights: vec![right],
        };
        let kind = match op {
            "+" => ExprKind::Binary {
                op: BinOp::Add,
                left: Box::new(left),
                right: Box::new(right),
            },
            "&&" | "||" | "??" => {
                let bop = match op {
                    "&&" => BoolOp::And,
                    "||" => BoolOp::Or,
                    _ => BoolOp::Coalesce,
                };
                // Flatten `a || b || c`.
                let mut values = Vec::new();
                for side in [left, right] {
                    match side.kind {
                        ExprKind::Logical { op: o, values: v } if o == bop => values.extend(v),
                        _ => values.push(side),
                    }
                }
                ExprKind::Logical { op: bop, values }
            }
            "==" | "===" => cmp(CmpOp::Eq, left, right),
            "!=" | "!==" => cmp(CmpOp::NotEq, left, right),
            "<" => cmp(CmpOp::Lt, left, right),
            ">" => cmp(CmpOp::Gt, left, right),
            "<=" => cmp(CmpOp::LtE, left, right),
            ">=" => cmp(CmpOp::GtE, left, right),
            // `key in obj` asks about a key, not a value: nothing is proven about `key`'s text
            // beyond membership, as with Python's `in`.
            "in" => cmp(CmpOp::In, left, right),
            "instanceof" => cmp(CmpOp::Is, left, right),
            _ => ExprKind::Binary {
                op: BinOp::Other,
                left: Box::new(left),
                right: Box::new(right),
            },
        };
        Expr::new(kind, sp)
    }

    #[inline(never)]
    fn call(&mut self, node: Node, is_new: bool) -> Expr {
        let sp = span(node);
        let callee_node = node
            .child_by_field_name("function")
            .or_else(|| node.child_by_field_name("constructor"));
        let callee = match callee_node {
            Some(c) if c.kind() == "import" => Expr::new(ExprKind::Name("import".into()), span(c)),
            Some(c) => self.expr(c),
            None => Expr::new(ExprKind::Null, sp),
        };
        let mut args = Vec::new();
        if let Some(a) = node.child_by_field_name("arguments") {
            if a.kind() == "template_string" {
                // A tagged template: the tag receives the pieces and the values apart.
                let t = self.expr(a);
                args.push(Arg {
                    name: None,
                    value: t,
                    spread: false,
                });
            } else {
                for c in named(a) {
                    if c.kind() == "spread_element" {
                        let inner = match named(c).first() {
                            Some(i) => self.expr(*i),
                            None => continue,
                        };
                        args.push(Arg {
                            name: None,
                            value: inner,
                            spread: true,
                        });
                    } else {
                        let value = self.expr(c);
                        args.push(Arg {
                            name: None,
                            value,
                            spread: false,
                        });
                    }
                }
            }
        }
        // `x.includes(y)` and `set.has(y)` test membership: `y in x`, so allowlists and `..`
        // checks read as they do in Python. `s.includes("..")` is `".." in s`.
        if !is_new
            && args.len() == 1
            && !args[0].spread
            && let ExprKind::Attr { object, name, .. } = &callee.kind
            && matches!(name.as_str(), "includes" | "has")
        {
            let needle = args[0].value.clone();
            return Expr::new(
                ExprKind::Compare {
                    left: Box::new(needle),
                    ops: vec![CmpOp::In],
                    rights: vec![(**object).clone()],
                },
                sp,
            );
        }
        Expr::new(
            ExprKind::Call {
                callee: Box::new(callee),
                args,
                is_new,
            },
            sp,
        )
    }

    #[inline(never)]
    fn template(&mut self, node: Node) -> ExprKind {
        let mut parts: Vec<Expr> = Vec::new();
        let mut text = String::new();
        let mut text_start = node.start_byte();
        let mut cursor = node.walk();
        for c in node.named_children(&mut cursor) {
            match c.kind() {
                "string_fragment" => text.push_str(self.text(c)),
                "escape_sequence" => push_escape(self.text(c), &mut text),
                "template_substitution" => {
                    if !text.is_empty() {
                        parts.push(Expr::new(
                            ExprKind::Str(std::mem::take(&mut text)),
                            Span::new(text_start, c.start_byte()),
                        ));
                    }
                    let inner: Vec<Expr> = self.children_exprs(c);
                    let e = if inner.len() == 1 {
                        inner
                            .into_iter()
                            .next()
                            .unwrap_or_else(|| Expr::new(ExprKind::Null, span(c)))
                    } else {
                        Expr::unknown(inner, span(c))
                    };
                    parts.push(e);
                    text_start = c.end_byte();
                }
                _ => {}
            }
        }
        let has_holes = parts.iter().any(|p| p.as_str().is_none());
        if !has_holes {
            let mut all: String = parts.iter().filter_map(|p| p.as_str()).collect();
            all.push_str(&text);
            return ExprKind::Str(all);
        }
        if !text.is_empty() {
            parts.push(Expr::new(
                ExprKind::Str(text),
                Span::new(text_start, node.end_byte()),
            ));
        }
        ExprKind::Template(parts)
    }

    pub fn string_value(&self, node: Node) -> String {
        let mut out = String::new();
        let mut cursor = node.walk();
        for c in node.named_children(&mut cursor) {
            match c.kind() {
                "string_fragment" => out.push_str(self.text(c)),
                "escape_sequence" => push_escape(self.text(c), &mut out),
                _ => {}
            }
        }
        out
    }

    /// A subtree past the depth limit: the names it mentions, found without recursion.
    fn opaque(&self, node: Node) -> Expr {
        let mut names = Vec::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if names.len() >= MAX_OPAQUE_NAMES {
                break;
            }
            if n.kind() == "identifier" {
                names.push(Expr::new(ExprKind::Name(self.text(n).to_string()), span(n)));
                continue;
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor));
        }
        Expr::unknown(names, span(node))
    }
}

/// Appends what a JavaScript escape sequence stands for.
fn push_escape(seq: &str, out: &mut String) {
    let mut chars = seq.chars();
    if chars.next() != Some('\\') {
        out.push_str(seq);
        return;
    }
    match chars.next() {
        Some('n') => out.push('\n'),
        Some('t') => out.push('\t'),
        Some('r') => out.push('\r'),
        Some('0') => out.push('\0'),
        Some('\n') => {}
        Some(c @ ('u' | 'x')) => {
            let hex: String = chars.filter(|c| c.is_ascii_hexdigit()).collect();
            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                Some(ch) => out.push(ch),
                None => {
                    out.push('\\');
                    out.push(c);
                }
            }
        }
        Some(c) => out.push(c),
        None => out.push('\\'),
    }
}
