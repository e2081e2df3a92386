//! Lowering a tree-sitter Python tree into the IR, statement by statement.
//!
//! Lowering is recursive over the syntax tree, so every entry point counts depth and, past
//! [`MAX_DEPTH`], stops recursing: the rest of that subtree becomes one `Unknown` over the names
//! it mentions (collected with an iterative walk), so taint still flows and a hostile file cannot
//! exhaust the stack. Chains that tree-sitter keeps flat but the IR nests (`elif`, `case`) are
//! bounded the same way.
//!
//! Expressions can bind names (`(x := f())`) and comprehension filters can call things; the IR
//! has no expression-level statements, so those are hoisted into `pending` and emitted just
//! before the statement that contains them.

use tree_sitter::Node;

use crate::code::ir::{
    Arg, BinOp, Block, BoolOp, Class, CmpOp, ExceptHandler, Expr, ExprKind, Function, FunctionId,
    Import, Param, ParamKind, Pattern, Stmt, StmtKind,
};
use crate::span::Span;

use super::strings::{Prefix, push_escape};

/// How many syntax levels are lowered structurally before a subtree is summarised.
pub(super) const MAX_DEPTH: usize = 200;
/// How many distinct names a summarised subtree keeps, so a huge one cannot allocate without
/// bound.
const MAX_OPAQUE_NAMES: usize = 4096;

/// Where definitions being lowered land.
#[derive(Debug, Clone)]
struct Scope {
    /// The function whose body is being lowered (0: the module).
    function: FunctionId,
    /// Qualified-name prefix for definitions here: empty at module level.
    prefix: String,
    /// Set while lowering a class body directly: `def`s there are methods.
    class: Option<usize>,
}

pub(super) struct Lowerer<'s> {
    src: &'s str,
    pub imports: Vec<Import>,
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    scope: Scope,
    depth: usize,
    /// Statements hoisted out of expressions, emitted before the enclosing statement.
    pending: Vec<Stmt>,
}

pub(super) fn span(node: Node) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

/// Named children without comments and line continuations, which tree-sitter can put anywhere.
/// Error regions the parser skipped are extras too, but they are kept: code is salvaged from them.
pub(super) fn named<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|n| n.is_error() || !n.is_extra())
        .collect()
}

/// All children (named or not) of one field, in order.
fn field<'t>(node: Node<'t>, name: &str) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.children_by_field_name(name, &mut cursor)
        .filter(|n| !n.is_extra())
        .collect()
}

fn is_statement(kind: &str) -> bool {
    matches!(
        kind,
        "expression_statement"
            | "return_statement"
            | "if_statement"
            | "for_statement"
            | "while_statement"
            | "try_statement"
            | "with_statement"
            | "function_definition"
            | "class_definition"
            | "decorated_definition"
            | "match_statement"
            | "raise_statement"
            | "pass_statement"
            | "break_statement"
            | "continue_statement"
            | "global_statement"
            | "nonlocal_statement"
            | "delete_statement"
            | "assert_statement"
            | "import_statement"
            | "import_from_statement"
            | "future_import_statement"
            | "print_statement"
            | "exec_statement"
            | "type_alias_statement"
    )
}

/// One arm of an if/elif or match chain, before nesting.
struct Branch {
    /// Hoisted statements from the test, run before it.
    pre: Block,
    test: Expr,
    then: Block,
    start: usize,
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
            pending: Vec::new(),
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

    /// The enclosing function for `Function::parent`: top-level definitions have none.
    fn parent(&self) -> Option<FunctionId> {
        (self.scope.function != 0).then_some(self.scope.function)
    }

    fn emit(&mut self, out: &mut Block, kind: StmtKind, span: Span) {
        out.append(&mut self.pending);
        out.push(Stmt { kind, span });
    }

    // ----- blocks and statements -----

    /// Lowers the statements under `node` (a `block` or the module). Hoisted statements never
    /// cross a block boundary.
    pub fn block(&mut self, node: Option<Node>) -> Block {
        match node {
            Some(node) => self.statements(&named(node)),
            None => Vec::new(),
        }
    }

    /// Lowers a run of statements as one block.
    pub fn statements(&mut self, nodes: &[Node]) -> Block {
        let saved = std::mem::take(&mut self.pending);
        let mut out = Vec::new();
        for child in nodes {
            self.stmt(*child, &mut out);
        }
        out.append(&mut self.pending);
        self.pending = saved;
        out
    }

    fn stmt(&mut self, node: Node, out: &mut Block) {
        if self.depth >= MAX_DEPTH {
            let e = self.opaque(node);
            self.emit(out, StmtKind::Expr(e), span(node));
            return;
        }
        self.depth += 1;
        self.stmt_inner(node, out);
        self.depth -= 1;
    }

    /// One small method per statement kind: in debug builds a single big `match` gets a frame
    /// of several kilobytes, and this function is on every level of the recursion.
    fn stmt_inner(&mut self, node: Node, out: &mut Block) {
        match node.kind() {
            "expression_statement" => self.expression_statement(node, out),
            "return_statement" => self.return_statement(node, out),
            "if_statement" => self.if_statement(node, out),
            "for_statement" => self.for_statement(node, out),
            "while_statement" => self.while_statement(node, out),
            "try_statement" => self.try_statement(node, out),
            "with_statement" => self.with_statement(node, out),
            "function_definition" => self.function_def(node, Vec::new(), out),
            "class_definition" => self.class_def(node, Vec::new(), out),
            "decorated_definition" => self.decorated(node, out),
            "match_statement" => self.match_statement(node, out),
            "raise_statement" => self.raise_statement(node, out),
            "assert_statement" => self.assert_statement(node, out),
            "import_statement" | "import_from_statement" => {
                self.import(node);
                self.emit(out, StmtKind::Other, span(node));
            }
            "break_statement" => self.emit(out, StmtKind::Break, span(node)),
            "continue_statement" => self.emit(out, StmtKind::Continue, span(node)),
            "pass_statement"
            | "global_statement"
            | "nonlocal_statement"
            | "delete_statement"
            | "future_import_statement"
            | "type_alias_statement" => self.emit(out, StmtKind::Other, span(node)),
            "ERROR" => self.error_statement(node, out),
            "block" => {
                let inner = self.block(Some(node));
                out.append(&mut self.pending);
                out.extend(inner);
            }
            _ => self.unknown_statement(node, out),
        }
    }

    fn expression_statement(&mut self, node: Node, out: &mut Block) {
        let sp = span(node);
        let children = named(node);
        match children.as_slice() {
            [one] if one.kind() == "assignment" => self.assignment(*one, sp, out),
            [one] if one.kind() == "augmented_assignment" => self.augmented(*one, sp, out),
            [one] => {
                let e = self.expr(*one);
                self.emit(out, StmtKind::Expr(e), sp);
            }
            many => {
                let items = many.iter().map(|c| self.expr(*c)).collect();
                self.emit(out, StmtKind::Expr(Expr::new(ExprKind::Seq(items), sp)), sp);
            }
        }
    }

    fn return_statement(&mut self, node: Node, out: &mut Block) {
        let value = named(node).first().map(|v| self.expr(*v));
        self.emit(out, StmtKind::Return(value), span(node));
    }

    fn for_statement(&mut self, node: Node, out: &mut Block) {
        let binding = node.child_by_field_name("left").map(|l| self.pattern(l));
        let iter = node.child_by_field_name("right").map(|r| self.expr(r));
        let body = self.block(node.child_by_field_name("body"));
        let orelse = self.else_block(node.child_by_field_name("alternative"));
        let kind = StmtKind::Loop {
            binding,
            iter,
            body,
            orelse,
        };
        self.emit(out, kind, span(node));
    }

    /// The test runs before every iteration: it goes first in the body, with whatever it
    /// hoists (`while (line := f.readline()):`).
    fn while_statement(&mut self, node: Node, out: &mut Block) {
        let saved = std::mem::take(&mut self.pending);
        let mut body = Vec::new();
        if let Some(cond) = node.child_by_field_name("condition") {
            let test = self.expr(cond);
            body.append(&mut self.pending);
            body.push(Stmt {
                span: test.span,
                kind: StmtKind::Expr(test),
            });
        }
        self.pending = saved;
        body.extend(self.block(node.child_by_field_name("body")));
        let orelse = self.else_block(node.child_by_field_name("alternative"));
        let kind = StmtKind::Loop {
            binding: None,
            iter: None,
            body,
            orelse,
        };
        self.emit(out, kind, span(node));
    }

    fn decorated(&mut self, node: Node, out: &mut Block) {
        let decorators: Vec<Expr> = named(node)
            .into_iter()
            .filter(|c| c.kind() == "decorator")
            .filter_map(|d| named(d).first().map(|e| self.expr(*e)))
            .collect();
        match node.child_by_field_name("definition") {
            Some(def) if def.kind() == "function_definition" => {
                self.function_def(def, decorators, out)
            }
            Some(def) if def.kind() == "class_definition" => self.class_def(def, decorators, out),
            _ => {
                let sp = span(node);
                self.emit(out, StmtKind::Expr(Expr::unknown(decorators, sp)), sp);
            }
        }
    }

    /// The `from` cause only chains exceptions; the raised value is what matters.
    fn raise_statement(&mut self, node: Node, out: &mut Block) {
        let cause = node.child_by_field_name("cause").map(|c| c.id());
        let value = named(node)
            .into_iter()
            .find(|c| Some(c.id()) != cause)
            .map(|v| self.expr(v));
        self.emit(out, StmtKind::Raise(value), span(node));
    }

    /// `assert t, m` is `if not t: raise m`: lowering it that way lets a guard written as an
    /// assert be recognised like any other (the span still starts at `assert`, for rules that
    /// want to flag validation that `python -O` strips).
    fn assert_statement(&mut self, node: Node, out: &mut Block) {
        let sp = span(node);
        let parts = named(node);
        let Some(test_node) = parts.first() else {
            self.emit(out, StmtKind::Other, sp);
            return;
        };
        let test = self.expr(*test_node);
        let message = parts.get(1).map(|m| self.expr(*m));
        let not = Expr::new(ExprKind::Not(Box::new(test.clone())), test.span);
        let then = vec![Stmt {
            kind: StmtKind::Raise(message),
            span: sp,
        }];
        let kind = StmtKind::If {
            test: not,
            then,
            orelse: Vec::new(),
        };
        self.emit(out, kind, sp);
    }

    /// Salvages what the parser recognised inside a broken region.
    fn error_statement(&mut self, node: Node, out: &mut Block) {
        for child in named(node) {
            if is_statement(child.kind()) || child.is_error() {
                self.stmt(child, out);
            } else if child.kind() != "identifier" {
                let e = self.expr(child);
                self.emit(out, StmtKind::Expr(e), span(child));
            }
        }
    }

    /// print/exec statements (Python 2) and anything newer than this grammar: keep the
    /// sub-expressions so nothing that flows through them is lost.
    fn unknown_statement(&mut self, node: Node, out: &mut Block) {
        let sp = span(node);
        let children: Vec<Expr> = named(node).into_iter().map(|c| self.expr(c)).collect();
        let kind = if children.is_empty() {
            StmtKind::Other
        } else {
            StmtKind::Expr(Expr::unknown(children, sp))
        };
        self.emit(out, kind, sp);
    }

    /// Lowers the `ERROR` children of a node (outside its blocks) as statements.
    fn salvage(&mut self, node: Node) -> Block {
        let errors: Vec<Node> = named(node).into_iter().filter(|c| c.is_error()).collect();
        if errors.is_empty() {
            return Vec::new();
        }
        self.statements(&errors)
    }

    fn else_block(&mut self, node: Option<Node>) -> Block {
        self.block(node.and_then(|e| e.child_by_field_name("body")))
    }

    /// `a = b = value`, `a, *b = value`, `x: int = value`.
    fn assignment(&mut self, node: Node, sp: Span, out: &mut Block) {
        let mut targets = Vec::new();
        let mut cur = node;
        let value = loop {
            targets.extend(cur.child_by_field_name("left"));
            match cur.child_by_field_name("right") {
                Some(right) if right.kind() == "assignment" => cur = right,
                other => break other,
            }
        };
        let Some(value) = value else {
            // `x: int` declares without binding.
            self.emit(out, StmtKind::Other, sp);
            return;
        };
        let value = self.expr(value);
        let patterns: Vec<Pattern> = targets.into_iter().map(|t| self.pattern(t)).collect();
        // Chained targets all receive the same object: read it back from the first target
        // instead of repeating the value (which may be a call).
        let again = patterns.first().and_then(pattern_as_expr);
        for (i, target) in patterns.into_iter().enumerate() {
            let value = match (&again, i) {
                (Some(first), 1..) => first.clone(),
                _ => value.clone(),
            };
            self.emit(out, StmtKind::Assign { target, value }, sp);
        }
    }

    /// `x += y` is `x = x + y`.
    fn augmented(&mut self, node: Node, sp: Span, out: &mut Block) {
        let (Some(left), Some(right)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            let e = self.opaque(node);
            self.emit(out, StmtKind::Expr(e), sp);
            return;
        };
        let op = match node.child_by_field_name("operator").map(|o| o.kind()) {
            Some("+=") => BinOp::Add,
            Some("%=") => BinOp::Mod,
            _ => BinOp::Other,
        };
        let target = self.pattern(left);
        let current = self.expr(left);
        let right = self.expr(right);
        let value = Expr::new(
            ExprKind::Binary {
                op,
                left: Box::new(current),
                right: Box::new(right),
            },
            span(node),
        );
        self.emit(out, StmtKind::Assign { target, value }, sp);
    }

    fn if_statement(&mut self, node: Node, out: &mut Block) {
        let mut branches = Vec::new();
        let mut orelse = Vec::new();
        if let Some(cond) = node.child_by_field_name("condition") {
            let test = self.expr(cond);
            let then = self.block(node.child_by_field_name("consequence"));
            branches.push(Branch {
                pre: Vec::new(), // stays in `pending`, emitted before the whole chain
                test,
                then,
                start: node.start_byte(),
            });
        }
        for alt in field(node, "alternative") {
            match alt.kind() {
                "elif_clause" => {
                    let saved = std::mem::take(&mut self.pending);
                    let test = alt
                        .child_by_field_name("condition")
                        .map_or_else(|| Expr::unknown(Vec::new(), span(alt)), |c| self.expr(c));
                    let pre = std::mem::replace(&mut self.pending, saved);
                    let then = self.block(alt.child_by_field_name("consequence"));
                    branches.push(Branch {
                        pre,
                        test,
                        then,
                        start: alt.start_byte(),
                    });
                }
                "else_clause" => orelse = self.block(alt.child_by_field_name("body")),
                _ => {}
            }
        }
        let chain = self.chain(branches, orelse, node.end_byte());
        out.append(&mut self.pending);
        out.extend(chain);
    }

    /// Nests branches as `If { orelse: [If ..] }`. Past the depth budget the remaining arms are
    /// laid out flat, which loses only their mutual exclusion.
    fn chain(&self, branches: Vec<Branch>, orelse: Block, end: usize) -> Block {
        let limit = MAX_DEPTH.saturating_sub(self.depth).max(1);
        let mut branches = branches;
        let flat_arms = if branches.len() > limit {
            branches.split_off(limit)
        } else {
            Vec::new()
        };
        let mut tail = Vec::new();
        for b in flat_arms {
            tail.extend(b.pre);
            tail.push(Stmt {
                kind: StmtKind::If {
                    test: b.test,
                    then: b.then,
                    orelse: Vec::new(),
                },
                span: Span::new(b.start, end),
            });
        }
        tail.extend(orelse);
        for b in branches.into_iter().rev() {
            let mut block = b.pre;
            block.push(Stmt {
                kind: StmtKind::If {
                    test: b.test,
                    then: b.then,
                    orelse: tail,
                },
                span: Span::new(b.start, end),
            });
            tail = block;
        }
        tail
    }

    fn try_statement(&mut self, node: Node, out: &mut Block) {
        let body = self.block(node.child_by_field_name("body"));
        let mut handlers = Vec::new();
        let mut orelse = Vec::new();
        let mut finally = Vec::new();
        for child in named(node) {
            match child.kind() {
                "except_clause" | "except_group_clause" => handlers.push(self.except(child)),
                "else_clause" => orelse = self.block(child.child_by_field_name("body")),
                "finally_clause" => {
                    finally = self.block(named(child).into_iter().find(|c| c.kind() == "block"))
                }
                _ => {}
            }
        }
        self.emit(
            out,
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            },
            span(node),
        );
    }

    fn except(&mut self, node: Node) -> ExceptHandler {
        let values = field(node, "value");
        let mut binding = node.child_by_field_name("alias").map(|a| self.pattern(a));
        let types = match values.as_slice() {
            [] => None,
            [v] if v.kind() == "as_pattern" => {
                if let Some(alias) = v.child_by_field_name("alias") {
                    binding = Some(self.pattern(alias));
                }
                named(*v).first().map(|t| self.expr(*t))
            }
            [v] => Some(self.expr(*v)),
            // Python 2 `except E, e`.
            [v, b, ..] => {
                binding = binding.or_else(|| Some(self.pattern(*b)));
                Some(self.expr(*v))
            }
        };
        // A walrus in an exception type is absurd but legal: keep it with the handler.
        let mut body = std::mem::take(&mut self.pending);
        body.extend(self.block(named(node).into_iter().find(|c| c.kind() == "block")));
        ExceptHandler {
            binding,
            types,
            body,
            span: span(node),
        }
    }

    fn with_statement(&mut self, node: Node, out: &mut Block) {
        let mut items = Vec::new();
        let clauses = named(node)
            .into_iter()
            .filter(|c| c.kind() == "with_clause");
        for item in clauses.flat_map(named) {
            if item.kind() != "with_item" {
                continue;
            }
            let Some(value) = item.child_by_field_name("value") else {
                continue;
            };
            if value.kind() == "as_pattern" {
                let expr = named(value)
                    .first()
                    .map_or_else(|| Expr::unknown(Vec::new(), span(value)), |e| self.expr(*e));
                let binding = value.child_by_field_name("alias").map(|a| self.pattern(a));
                items.push((expr, binding));
            } else {
                items.push((self.expr(value), None));
            }
        }
        let body = self.block(node.child_by_field_name("body"));
        self.emit(out, StmtKind::With { items, body }, span(node));
    }

    fn match_statement(&mut self, node: Node, out: &mut Block) {
        let sp = span(node);
        let subjects: Vec<Expr> = field(node, "subject")
            .into_iter()
            .filter(|s| s.is_named())
            .map(|s| self.expr(s))
            .collect();
        let mut subject = match subjects.len() {
            1 => subjects
                .into_iter()
                .next()
                .unwrap_or_else(|| Expr::unknown(Vec::new(), sp)),
            _ => Expr::new(ExprKind::Seq(subjects), sp),
        };
        // The subject is evaluated once but read by every case: when it is not a plain
        // reference, bind it to a name no Python code can spell so calls are not repeated.
        if !matches!(
            subject.kind,
            ExprKind::Name(_) | ExprKind::Attr { .. } | ExprKind::Subscript { .. }
        ) {
            let s = subject.span;
            let target = Pattern::Name("<match>".to_string(), s);
            self.emit(
                out,
                StmtKind::Assign {
                    target,
                    value: subject,
                },
                s,
            );
            subject = Expr::new(ExprKind::Name("<match>".to_string()), s);
        }
        let mut branches = Vec::new();
        let mut orelse = Vec::new();
        let body = node.child_by_field_name("body");
        let cases = body.map(named).unwrap_or_default();
        for case in cases.into_iter().filter(|c| c.kind() == "case_clause") {
            let patterns: Vec<Node> = named(case)
                .into_iter()
                .filter(|c| c.kind() == "case_pattern")
                .collect();
            let saved = std::mem::take(&mut self.pending);
            let guard = case
                .child_by_field_name("guard")
                .and_then(|g| named(g).first().copied())
                .map(|g| self.expr(g));
            let pre = std::mem::replace(&mut self.pending, saved);
            let mut then = Vec::new();
            let mut captures = Vec::new();
            for p in &patterns {
                self.captures(*p, &mut captures);
            }
            for (name, s) in captures {
                then.push(Stmt {
                    kind: StmtKind::Assign {
                        target: Pattern::Name(name, s),
                        value: subject.clone(),
                    },
                    span: s,
                });
            }
            then.extend(self.block(case.child_by_field_name("consequence")));
            let irrefutable = patterns.len() == 1 && patterns.iter().all(|p| is_irrefutable(*p));
            if irrefutable && guard.is_none() {
                orelse = then;
                break; // later cases are unreachable (Python rejects them)
            }
            let test = match (patterns.as_slice(), guard) {
                ([p], guard) => {
                    let t = self
                        .case_test(&subject, *p)
                        .unwrap_or_else(|| Expr::unknown(vec![subject.clone()], span(*p)));
                    match guard {
                        Some(g) => {
                            let s = span(case);
                            Expr::new(
                                ExprKind::Logical {
                                    op: BoolOp::And,
                                    values: vec![t, g],
                                },
                                s,
                            )
                        }
                        None => t,
                    }
                }
                (_, guard) => {
                    let mut parts = vec![subject.clone()];
                    parts.extend(guard);
                    Expr::unknown(parts, span(case))
                }
            };
            branches.push(Branch {
                pre,
                test,
                then,
                start: case.start_byte(),
            });
        }
        let chain = self.chain(branches, orelse, node.end_byte());
        out.append(&mut self.pending);
        out.extend(chain);
    }

    /// A test for literal and value patterns (`case "read_file":`, `case Color.RED | 3:`), so
    /// dispatch on a tool name reads like `if name == "read_file"`.
    fn case_test(&mut self, subject: &Expr, node: Node) -> Option<Expr> {
        let sp = span(node);
        let inner = match node.kind() {
            "case_pattern" => *named(node).first()?,
            _ => node,
        };
        match inner.kind() {
            "string" | "concatenated_string" | "integer" | "float" | "true" | "false" | "none" => {
                let literal = self.expr(inner);
                Some(compare_eq(subject, literal, sp))
            }
            "dotted_name" if named(inner).len() > 1 => {
                let value = self.dotted_expr(inner)?;
                Some(compare_eq(subject, value, sp))
            }
            "union_pattern" => {
                let values = named(inner)
                    .into_iter()
                    .map(|alt| self.case_test(subject, alt))
                    .collect::<Option<Vec<_>>>()?;
                Some(Expr::new(
                    ExprKind::Logical {
                        op: BoolOp::Or,
                        values,
                    },
                    sp,
                ))
            }
            _ => None,
        }
    }

    /// `Color.RED` in a pattern, as an attribute chain.
    fn dotted_expr(&self, node: Node) -> Option<Expr> {
        let mut parts = named(node).into_iter();
        let first = parts.next()?;
        let mut e = Expr::new(ExprKind::Name(self.text(first).to_string()), span(first));
        for part in parts {
            e = Expr::new(
                ExprKind::Attr {
                    object: Box::new(e),
                    name: self.text(part).to_string(),
                    name_span: span(part),
                },
                Span::new(node.start_byte(), part.end_byte()),
            );
        }
        Some(e)
    }

    /// Names a case pattern binds: bare names, `*rest`, `**rest`, `as name`.
    fn captures(&self, node: Node, out: &mut Vec<(String, Span)>) {
        // Patterns nest shallowly in practice, but they come from the input: walk iteratively.
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            let children = named(n);
            match n.kind() {
                "dotted_name" => {
                    if let [one] = children.as_slice() {
                        let name = self.text(*one);
                        if name != "_" {
                            out.push((name.to_string(), span(*one)));
                        }
                    }
                }
                "splat_pattern" => {
                    for c in children.iter().filter(|c| c.kind() == "identifier") {
                        let name = self.text(*c);
                        if name != "_" {
                            out.push((name.to_string(), span(*c)));
                        }
                    }
                }
                "as_pattern" => {
                    let mut rest = children;
                    if rest.last().is_some_and(|c| c.kind() == "identifier")
                        && let Some(alias) = rest.pop()
                    {
                        out.push((self.text(alias).to_string(), span(alias)));
                    }
                    stack.extend(rest.into_iter().rev());
                }
                // `Point(x=0)`: the class name and keywords are not captures.
                "class_pattern" => {
                    stack.extend(children.into_iter().skip(1).rev());
                }
                "keyword_pattern" => {
                    stack.extend(children.into_iter().skip(1).rev());
                }
                "dict_pattern" => {
                    let keys: Vec<usize> = field(n, "key").iter().map(|k| k.id()).collect();
                    stack.extend(
                        children
                            .into_iter()
                            .filter(|c| !keys.contains(&c.id()))
                            .rev(),
                    );
                }
                "string" | "concatenated_string" | "integer" | "float" | "complex_pattern" => {}
                _ => stack.extend(children.into_iter().rev()),
            }
        }
    }

    // ----- definitions -----

    fn function_def(&mut self, node: Node, decorators: Vec<Expr>, out: &mut Block) {
        let sp = span(node);
        let name_node = node.child_by_field_name("name");
        let name = name_node.map_or("<error>", |n| self.text(n)).to_string();
        let name_span = name_node.map_or(Span::new(sp.start, sp.start), span);
        let mut cursor = node.walk();
        let is_async = node.children(&mut cursor).any(|c| c.kind() == "async");
        let class = self.scope.class;
        let is_static = decorators.iter().any(|d| {
            d.dotted()
                .is_some_and(|n| n == "staticmethod" || n.ends_with(".staticmethod"))
        });
        let id = self.functions.len();
        let qualname = self.qualify(&name);
        self.functions.push(Function {
            name: name.clone(),
            qualname: qualname.clone(),
            span: sp,
            name_span,
            params: Vec::new(),
            body: Vec::new(),
            decorators,
            is_async,
            class,
            parent: self.parent(),
        });
        // Defaults and annotations are evaluated where the def is, not inside it.
        let params = self.params(
            node.child_by_field_name("parameters"),
            class.is_some() && !is_static,
        );
        let outer = std::mem::replace(
            &mut self.scope,
            Scope {
                function: id,
                prefix: qualname,
                class: None,
            },
        );
        // Broken code around the body (`x = [1, 2` on the first line) ends up in ERROR
        // children of the definition itself: it belongs to the body.
        let mut body = self.salvage(node);
        body.extend(self.block(node.child_by_field_name("body")));
        self.scope = outer;
        if let Some(f) = self.functions.get_mut(id) {
            f.params = params;
            f.body = body;
        }
        if let Some(c) = class.and_then(|c| self.classes.get_mut(c)) {
            c.methods.push(id);
        }
        self.emit(
            out,
            StmtKind::Def {
                name,
                function: Some(id),
            },
            sp,
        );
    }

    fn class_def(&mut self, node: Node, decorators: Vec<Expr>, out: &mut Block) {
        let sp = span(node);
        let name_node = node.child_by_field_name("name");
        let name = name_node.map_or("<error>", |n| self.text(n)).to_string();
        let name_span = name_node.map_or(sp, span);
        // Keyword arguments (`metaclass=`) are not bases.
        let bases = node
            .child_by_field_name("superclasses")
            .map(named)
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.kind() != "keyword_argument")
            .map(|b| self.expr(b))
            .collect();
        let index = self.classes.len();
        self.classes.push(Class {
            name: name.clone(),
            span: sp,
            bases,
            decorators,
            methods: Vec::new(),
        });
        let inner = Scope {
            function: self.scope.function,
            prefix: self.qualify(&name),
            class: Some(index),
        };
        let outer = std::mem::replace(&mut self.scope, inner);
        let body = self.block(node.child_by_field_name("body"));
        self.scope = outer;
        self.emit(
            out,
            StmtKind::Def {
                name: name.clone(),
                function: None,
            },
            sp,
        );
        // The class body runs in the enclosing function; what it binds are class attributes.
        let class_ref = Expr::new(ExprKind::Name(name), name_span);
        out.extend(rebind_to_class(body, &class_ref));
    }

    fn params(&mut self, node: Option<Node>, method: bool) -> Vec<Param> {
        let mut params = Vec::new();
        for p in node.map(named).unwrap_or_default() {
            let sp = span(p);
            let (target, kind, annotation, default) = match p.kind() {
                "identifier" => (Some(p), ParamKind::Normal, None, None),
                "typed_parameter" => {
                    let inner = named(p)
                        .into_iter()
                        .find(|c| c.kind() != "type" && c.is_named());
                    let annotation = p.child_by_field_name("type").map(|t| self.expr(t));
                    match inner {
                        Some(i) if i.kind() == "list_splat_pattern" => {
                            (named(i).first().copied(), ParamKind::Rest, annotation, None)
                        }
                        Some(i) if i.kind() == "dictionary_splat_pattern" => (
                            named(i).first().copied(),
                            ParamKind::KeywordRest,
                            annotation,
                            None,
                        ),
                        other => (other, ParamKind::Normal, annotation, None),
                    }
                }
                "default_parameter" | "typed_default_parameter" => {
                    let annotation = p.child_by_field_name("type").map(|t| self.expr(t));
                    let default = p.child_by_field_name("value").map(|v| self.expr(v));
                    (
                        p.child_by_field_name("name"),
                        ParamKind::Normal,
                        annotation,
                        default,
                    )
                }
                "list_splat_pattern" => (named(p).first().copied(), ParamKind::Rest, None, None),
                "dictionary_splat_pattern" => (
                    named(p).first().copied(),
                    ParamKind::KeywordRest,
                    None,
                    None,
                ),
                "tuple_pattern" => (Some(p), ParamKind::Normal, None, None),
                // `/`, `*` separators, errors.
                _ => continue,
            };
            let pattern = target.map_or(Pattern::Ignore, |t| self.pattern(t));
            params.push(Param {
                pattern,
                kind,
                annotation,
                default,
                span: sp,
            });
        }
        // The first positional parameter of a method is the instance (or class), whatever its name.
        if method
            && let Some(first) = params.first_mut()
            && first.kind == ParamKind::Normal
        {
            first.kind = ParamKind::Receiver;
        }
        params
    }

    fn import(&mut self, node: Node) {
        if node.kind() == "import_statement" {
            for name in field(node, "name") {
                match name.kind() {
                    // `import a.b` binds `a`.
                    "dotted_name" => {
                        if let Some(first) = named(name).first() {
                            let local = self.text(*first).to_string();
                            self.imports.push(Import {
                                path: local.clone(),
                                local,
                                span: span(name),
                            });
                        }
                    }
                    "aliased_import" => {
                        let path = name
                            .child_by_field_name("name")
                            .map(|n| self.dotted(n))
                            .unwrap_or_default();
                        if let Some(alias) = name.child_by_field_name("alias") {
                            self.imports.push(Import {
                                local: self.text(alias).to_string(),
                                path,
                                span: span(name),
                            });
                        }
                    }
                    _ => {}
                }
            }
            return;
        }
        let module = node
            .child_by_field_name("module_name")
            .map(|m| match m.kind() {
                "relative_import" => {
                    // Leading dots as written, then the module if any.
                    let mut path = String::new();
                    for part in named(m) {
                        match part.kind() {
                            "import_prefix" => path.push_str(self.text(part).trim()),
                            "dotted_name" => path.push_str(&self.dotted(part)),
                            _ => {}
                        }
                    }
                    path
                }
                _ => self.dotted(m),
            })
            .unwrap_or_default();
        let join = |name: &str| {
            if module.ends_with('.') || module.is_empty() {
                format!("{module}{name}")
            } else {
                format!("{module}.{name}")
            }
        };
        let mut cursor = node.walk();
        if node
            .named_children(&mut cursor)
            .any(|c| c.kind() == "wildcard_import")
        {
            self.imports.push(Import {
                local: "*".to_string(),
                path: module.clone(),
                span: span(node),
            });
        }
        for name in field(node, "name") {
            let (path, local) = match name.kind() {
                "dotted_name" => {
                    let dotted = self.dotted(name);
                    (join(&dotted), dotted)
                }
                "aliased_import" => {
                    let Some(alias) = name.child_by_field_name("alias") else {
                        continue;
                    };
                    let original = name
                        .child_by_field_name("name")
                        .map(|n| self.dotted(n))
                        .unwrap_or_default();
                    (join(&original), self.text(alias).to_string())
                }
                _ => continue,
            };
            self.imports.push(Import {
                local,
                path,
                span: span(name),
            });
        }
    }

    /// A `dotted_name` without any whitespace or comments between its parts.
    fn dotted(&self, node: Node) -> String {
        named(node)
            .into_iter()
            .map(|p| self.text(p))
            .collect::<Vec<_>>()
            .join(".")
    }

    // ----- patterns -----

    fn pattern(&mut self, node: Node) -> Pattern {
        if self.depth >= MAX_DEPTH {
            return Pattern::Ignore;
        }
        self.depth += 1;
        let p = match node.kind() {
            "identifier" => Pattern::Name(self.text(node).to_string(), span(node)),
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list"
            | "expression_list" => {
                Pattern::Sequence(named(node).into_iter().map(|c| self.pattern(c)).collect())
            }
            "list_splat_pattern" | "list_splat" => match named(node).first() {
                Some(inner) => Pattern::Rest(Box::new(self.pattern(*inner))),
                None => Pattern::Ignore,
            },
            "attribute" => match (
                node.child_by_field_name("object"),
                node.child_by_field_name("attribute"),
            ) {
                (Some(object), Some(attr)) => {
                    Pattern::Attr(Box::new(self.expr(object)), self.text(attr).to_string())
                }
                _ => Pattern::Ignore,
            },
            "subscript" => match node.child_by_field_name("value") {
                Some(object) => {
                    let object = self.expr(object);
                    let index = self.subscript_index(node);
                    Pattern::Subscript(Box::new(object), Box::new(index))
                }
                None => Pattern::Ignore,
            },
            "parenthesized_expression" | "as_pattern_target" => match named(node).first() {
                Some(inner) => self.pattern(*inner),
                None => Pattern::Ignore,
            },
            _ => Pattern::Ignore,
        };
        self.depth -= 1;
        p
    }

    // ----- expressions -----

    pub fn expr(&mut self, node: Node) -> Expr {
        if self.depth >= MAX_DEPTH {
            return self.opaque(node);
        }
        self.depth += 1;
        let e = self.expr_inner(node);
        self.depth -= 1;
        e
    }

    /// A thin dispatcher, for the same stack reason as [`Lowerer::stmt_inner`]: every arm is a
    /// call whose result is returned directly.
    fn expr_inner(&mut self, node: Node) -> Expr {
        if node.is_missing() {
            return Expr::unknown(Vec::new(), span(node));
        }
        match node.kind() {
            "identifier" => self.leaf(node, ExprKind::Name(self.text(node).to_string())),
            "integer" | "float" => self.leaf(node, ExprKind::Num(self.text(node).to_string())),
            "true" => self.leaf(node, ExprKind::Bool(true)),
            "false" => self.leaf(node, ExprKind::Bool(false)),
            "none" => self.leaf(node, ExprKind::Null),
            "attribute" => self.attribute(node),
            "subscript" => self.subscript(node),
            "call" => self.call(node),
            "string" | "concatenated_string" => self.string(node),
            "binary_operator" => self.binary(node),
            "comparison_operator" => self.comparison(node),
            "boolean_operator" => self.boolean(node),
            "not_operator" => self.not(node),
            "conditional_expression" => self.conditional(node),
            "named_expression" => self.walrus(node),
            "lambda" => {
                let id = self.lambda(node);
                self.leaf(node, ExprKind::Function(id))
            }
            "list" | "tuple" | "set" | "expression_list" | "pattern_list" | "tuple_pattern"
            | "list_pattern" => self.sequence(node),
            "dictionary" => self.dictionary(node),
            "list_splat"
            | "parenthesized_list_splat"
            | "dictionary_splat"
            | "list_splat_pattern"
            | "dictionary_splat_pattern"
            | "splat_type" => self.spread(node),
            "list_comprehension"
            | "set_comprehension"
            | "generator_expression"
            | "dictionary_comprehension" => self.comprehension(node),
            "await" => self.await_expr(node),
            // Parentheses and annotation wrappers carry nothing of their own.
            "parenthesized_expression" | "type" | "as_pattern_target" => {
                self.first_child_expr(node)
            }
            "generic_type" => self.generic_type(node),
            "member_type" => self.member_type(node),
            "union_type" => self.union_type(node),
            // Outside an argument list, i.e. in broken code.
            "keyword_argument" => self.fields_unknown(node, &["value"]),
            "as_pattern" => self.first_unknown(node),
            // yield, slices, unary operators, ellipsis, ERROR and anything unforeseen.
            _ => self.children_unknown(node),
        }
    }

    fn leaf(&self, node: Node, kind: ExprKind) -> Expr {
        Expr::new(kind, span(node))
    }

    fn attribute(&mut self, node: Node) -> Expr {
        let (Some(object), Some(attr)) = (
            node.child_by_field_name("object"),
            node.child_by_field_name("attribute"),
        ) else {
            return self.children_unknown(node);
        };
        let object = Box::new(self.expr(object));
        let kind = ExprKind::Attr {
            object,
            name: self.text(attr).to_string(),
            name_span: span(attr),
        };
        Expr::new(kind, span(node))
    }

    fn subscript(&mut self, node: Node) -> Expr {
        let Some(object) = node.child_by_field_name("value") else {
            return self.children_unknown(node);
        };
        let object = Box::new(self.expr(object));
        let index = Box::new(self.subscript_index(node));
        Expr::new(ExprKind::Subscript { object, index }, span(node))
    }

    fn binary(&mut self, node: Node) -> Expr {
        let (Some(left), Some(right)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return self.children_unknown(node);
        };
        let op = match node.child_by_field_name("operator").map(|o| o.kind()) {
            Some("+") => BinOp::Add,
            Some("%") => BinOp::Mod,
            _ => BinOp::Other,
        };
        let left = Box::new(self.expr(left));
        let right = Box::new(self.expr(right));
        Expr::new(ExprKind::Binary { op, left, right }, span(node))
    }

    fn not(&mut self, node: Node) -> Expr {
        let Some(arg) = node.child_by_field_name("argument") else {
            return self.children_unknown(node);
        };
        let inner = Box::new(self.expr(arg));
        Expr::new(ExprKind::Not(inner), span(node))
    }

    fn conditional(&mut self, node: Node) -> Expr {
        let [then, test, orelse] = named(node)[..] else {
            return self.children_unknown(node);
        };
        let then = Box::new(self.expr(then));
        let test = Box::new(self.expr(test));
        let orelse = Box::new(self.expr(orelse));
        Expr::new(ExprKind::Conditional { test, then, orelse }, span(node))
    }

    /// `(x := value)`: bind first (hoisted before the statement), then read the name.
    fn walrus(&mut self, node: Node) -> Expr {
        let (Some(name), Some(value)) = (
            node.child_by_field_name("name"),
            node.child_by_field_name("value"),
        ) else {
            return self.children_unknown(node);
        };
        let value = self.expr(value);
        let ident = self.text(name).to_string();
        let sp = span(node);
        self.pending.push(Stmt {
            kind: StmtKind::Assign {
                target: Pattern::Name(ident.clone(), span(name)),
                value,
            },
            span: sp,
        });
        Expr::new(ExprKind::Name(ident), sp)
    }

    fn sequence(&mut self, node: Node) -> Expr {
        let items = named(node).into_iter().map(|c| self.expr(c)).collect();
        Expr::new(ExprKind::Seq(items), span(node))
    }

    fn dictionary(&mut self, node: Node) -> Expr {
        let mut entries = Vec::new();
        for item in named(node) {
            let entry = match item.kind() {
                "pair" => {
                    // A pair without a key only comes from broken input: keep the value.
                    let key = item
                        .child_by_field_name("key")
                        .map_or_else(|| Expr::unknown(Vec::new(), span(item)), |k| self.expr(k));
                    let value = item
                        .child_by_field_name("value")
                        .map_or_else(|| Expr::unknown(Vec::new(), span(item)), |v| self.expr(v));
                    (Some(key), value)
                }
                "dictionary_splat" => (None, self.first_child_expr(item)),
                _ => {
                    let value = self.expr(item);
                    (Some(Expr::unknown(Vec::new(), value.span)), value)
                }
            };
            entries.push(entry);
        }
        Expr::new(ExprKind::Map(entries), span(node))
    }

    fn spread(&mut self, node: Node) -> Expr {
        let inner = Box::new(self.first_child_expr(node));
        Expr::new(ExprKind::Spread(inner), span(node))
    }

    fn await_expr(&mut self, node: Node) -> Expr {
        let inner = Box::new(self.first_child_expr(node));
        Expr::new(ExprKind::Await(inner), span(node))
    }

    /// `list[int]`, `Annotated[str, Field(...)]` in annotations: subscripts, as in the AST.
    fn generic_type(&mut self, node: Node) -> Expr {
        let sp = span(node);
        let children = named(node);
        let Some(head) = children.first() else {
            return Expr::unknown(Vec::new(), sp);
        };
        let object = Box::new(self.expr(*head));
        let params: Vec<Node> = children.get(1).map(|tp| named(*tp)).unwrap_or_default();
        let index = match params.as_slice() {
            [one] => self.expr(*one),
            many => {
                let items = many.iter().map(|p| self.expr(*p)).collect();
                let s = children.get(1).map_or(sp, |tp| span(*tp));
                Expr::new(ExprKind::Seq(items), s)
            }
        };
        let index = Box::new(index);
        Expr::new(ExprKind::Subscript { object, index }, sp)
    }

    /// `a.B` in newer annotation grammars.
    fn member_type(&mut self, node: Node) -> Expr {
        let [object, attr] = named(node)[..] else {
            return self.children_unknown(node);
        };
        let object = Box::new(self.expr(object));
        let kind = ExprKind::Attr {
            object,
            name: self.text(attr).to_string(),
            name_span: span(attr),
        };
        Expr::new(kind, span(node))
    }

    fn union_type(&mut self, node: Node) -> Expr {
        let [left, right] = named(node)[..] else {
            return self.children_unknown(node);
        };
        let left = Box::new(self.expr(left));
        let right = Box::new(self.expr(right));
        let kind = ExprKind::Binary {
            op: BinOp::Other,
            left,
            right,
        };
        Expr::new(kind, span(node))
    }

    fn fields_unknown(&mut self, node: Node, fields: &[&str]) -> Expr {
        let children = fields
            .iter()
            .filter_map(|f| node.child_by_field_name(f))
            .map(|c| self.expr(c))
            .collect();
        Expr::unknown(children, span(node))
    }

    fn first_unknown(&mut self, node: Node) -> Expr {
        let inner: Vec<Expr> = named(node)
            .first()
            .map(|i| self.expr(*i))
            .into_iter()
            .collect();
        Expr::unknown(inner, span(node))
    }

    fn first_child_expr(&mut self, node: Node) -> Expr {
        match named(node).first() {
            Some(inner) => self.expr(*inner),
            None => Expr::unknown(Vec::new(), span(node)),
        }
    }

    fn children_unknown(&mut self, node: Node) -> Expr {
        let children = named(node).into_iter().map(|c| self.expr(c)).collect();
        Expr::unknown(children, span(node))
    }

    /// `x[i]` indexes with `i`; `x[i, j]` with the tuple; slices are `Unknown` over their bounds.
    fn subscript_index(&mut self, node: Node) -> Expr {
        let indices = field(node, "subscript");
        match indices.as_slice() {
            [one] => self.expr(*one),
            many => {
                let sp = match (many.first(), many.last()) {
                    (Some(a), Some(b)) => Span::new(a.start_byte(), b.end_byte()),
                    _ => span(node),
                };
                let items = many.iter().map(|i| self.expr(*i)).collect();
                Expr::new(ExprKind::Seq(items), sp)
            }
        }
    }

    fn call(&mut self, node: Node) -> Expr {
        let sp = span(node);
        let Some(function) = node.child_by_field_name("function") else {
            return self.children_unknown(node);
        };
        let callee = self.expr(function);
        let mut args = Vec::new();
        if let Some(arguments) = node.child_by_field_name("arguments") {
            if arguments.kind() == "generator_expression" {
                // `f(x for x in y)`: one positional generator.
                args.push(Arg {
                    name: None,
                    value: self.expr(arguments),
                    spread: false,
                });
            } else {
                for a in named(arguments) {
                    let arg = match a.kind() {
                        "keyword_argument" => Arg {
                            name: a
                                .child_by_field_name("name")
                                .map(|n| self.text(n).to_string()),
                            value: a.child_by_field_name("value").map_or_else(
                                || Expr::unknown(Vec::new(), span(a)),
                                |v| self.expr(v),
                            ),
                            spread: false,
                        },
                        "list_splat" | "dictionary_splat" => Arg {
                            name: None,
                            value: self.first_child_expr(a),
                            spread: true,
                        },
                        _ => Arg {
                            name: None,
                            value: self.expr(a),
                            spread: false,
                        },
                    };
                    args.push(arg);
                }
            }
        }
        Expr::new(
            ExprKind::Call {
                callee: Box::new(callee),
                args,
                is_new: false,
            },
            sp,
        )
    }

    /// `a < b <= c` is one comparison with two operators; `not in` and `is not` are one operator.
    fn comparison(&mut self, node: Node) -> Expr {
        let sp = span(node);
        let mut operands = Vec::new();
        let mut ops = Vec::new();
        let mut cursor = node.walk();
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if cursor.field_name() == Some("operators") {
                    ops.push(match child.kind() {
                        "==" => CmpOp::Eq,
                        "!=" | "<>" => CmpOp::NotEq,
                        "in" => CmpOp::In,
                        "not in" => CmpOp::NotIn,
                        "is" => CmpOp::Is,
                        "is not" => CmpOp::IsNot,
                        "<" => CmpOp::Lt,
                        ">" => CmpOp::Gt,
                        "<=" => CmpOp::LtE,
                        _ => CmpOp::GtE,
                    });
                } else if child.is_named() && !child.is_extra() {
                    operands.push(child);
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        let mut lowered: Vec<Expr> = operands.into_iter().map(|o| self.expr(o)).collect();
        if lowered.len() != ops.len() + 1 || ops.is_empty() {
            return Expr::unknown(lowered, sp);
        }
        let left = lowered.remove(0);
        Expr::new(
            ExprKind::Compare {
                left: Box::new(left),
                ops,
                rights: lowered,
            },
            sp,
        )
    }

    /// `a and b and c` is one `Logical` with three values. Tree-sitter nests it to the left;
    /// the spine is followed with a loop so a long chain costs no recursion.
    fn boolean(&mut self, node: Node) -> Expr {
        fn op_of<'t>(n: Node<'t>) -> Option<&'t str> {
            n.child_by_field_name("operator").map(|o| o.kind())
        }
        let op = op_of(node);
        let mut rights = Vec::new();
        let mut cur = node;
        let leftmost = loop {
            rights.extend(cur.child_by_field_name("right"));
            match cur.child_by_field_name("left") {
                Some(left) if left.kind() == "boolean_operator" && op_of(left) == op => cur = left,
                other => break other,
            }
        };
        let mut values: Vec<Expr> = leftmost.into_iter().map(|l| self.expr(l)).collect();
        values.extend(rights.into_iter().rev().map(|r| self.expr(r)));
        let op = if op == Some("or") {
            BoolOp::Or
        } else {
            BoolOp::And
        };
        Expr::new(ExprKind::Logical { op, values }, span(node))
    }

    fn lambda(&mut self, node: Node) -> FunctionId {
        let sp = span(node);
        let id = self.functions.len();
        let qualname = self.qualify("<lambda>");
        let keyword = node.child(0).map_or(sp, span);
        self.functions.push(Function {
            name: "<lambda>".to_string(),
            qualname: qualname.clone(),
            span: sp,
            name_span: keyword,
            params: Vec::new(),
            body: Vec::new(),
            decorators: Vec::new(),
            is_async: false,
            class: None,
            parent: self.parent(),
        });
        let params = self.params(node.child_by_field_name("parameters"), false);
        let outer = std::mem::replace(
            &mut self.scope,
            Scope {
                function: id,
                prefix: qualname,
                class: None,
            },
        );
        let outer_pending = std::mem::take(&mut self.pending);
        let value = node.child_by_field_name("body").map(|b| self.expr(b));
        let mut body = std::mem::replace(&mut self.pending, outer_pending);
        self.scope = outer;
        let return_span = value.as_ref().map_or(sp, |v| v.span);
        body.push(Stmt {
            kind: StmtKind::Return(value),
            span: return_span,
        });
        if let Some(f) = self.functions.get_mut(id) {
            f.params = params;
            f.body = body;
        }
        id
    }

    /// A comprehension binds each loop variable to the items of its iterable, as a `for` would:
    /// the bindings are hoisted as assignments (`r = rows`), so the element sees what each
    /// variable holds (`float(r["value"])` is a number, `r["body"]` is the row's text) and the
    /// result is `Unknown` over the element alone. Filters decide which items pass but do not
    /// flow into them; they are hoisted as expression statements so calls in them are still
    /// seen. (Python gives comprehension variables their own scope; hoisting them into the
    /// function's is a simplification that only matters when a name is reused.)
    fn comprehension(&mut self, node: Node) -> Expr {
        for clause in named(node) {
            match clause.kind() {
                "for_in_clause" => {
                    let target = clause.child_by_field_name("left").map(|l| self.pattern(l));
                    let iterables: Vec<Expr> = field(clause, "right")
                        .into_iter()
                        .filter(|n| n.is_named())
                        .map(|n| self.expr(n))
                        .collect();
                    let value = match <[Expr; 1]>::try_from(iterables) {
                        Ok([one]) => one,
                        Err(many) => Expr::unknown(many, span(clause)),
                    };
                    self.pending.push(Stmt {
                        span: span(clause),
                        kind: StmtKind::Assign {
                            target: target.unwrap_or(Pattern::Ignore),
                            value,
                        },
                    });
                }
                "if_clause" => {
                    if let Some(test) = named(clause).first() {
                        let e = self.expr(*test);
                        self.pending.push(Stmt {
                            span: e.span,
                            kind: StmtKind::Expr(e),
                        });
                    }
                }
                _ => {}
            }
        }
        let mut children = Vec::new();
        if let Some(body) = node.child_by_field_name("body") {
            if body.kind() == "pair" {
                for part in ["key", "value"] {
                    if let Some(p) = body.child_by_field_name(part) {
                        children.push(self.expr(p));
                    }
                }
            } else {
                children.push(self.expr(body));
            }
        }
        Expr::unknown(children, span(node))
    }

    /// Strings: plain and implicitly concatenated literals become one `Str` with the decoded
    /// value; with any interpolation they become a `Template` of literal pieces and holes.
    fn string(&mut self, node: Node) -> Expr {
        let sp = span(node);
        let parts = if node.kind() == "concatenated_string" {
            named(node)
        } else {
            vec![node]
        };
        let mut pieces: Vec<Expr> = Vec::new();
        let mut has_holes = false;
        let push_lit = |pieces: &mut Vec<Expr>, text: String, s: Span| {
            if let Some(Expr {
                kind: ExprKind::Str(prev),
                span: prev_span,
            }) = pieces.last_mut()
            {
                prev.push_str(&text);
                *prev_span = prev_span.cover(s);
            } else {
                pieces.push(Expr::new(ExprKind::Str(text), s));
            }
        };
        for part in parts {
            let mut prefix = Prefix::default();
            let mut cursor = part.walk();
            let children: Vec<Node> = part.children(&mut cursor).collect();
            for child in children {
                match child.kind() {
                    "string_start" => prefix = Prefix::parse(self.text(child)),
                    "string_content" => {
                        let text = self.string_content(child, prefix);
                        push_lit(&mut pieces, text, span(child));
                    }
                    "interpolation" => {
                        has_holes = true;
                        let hole = match child.child_by_field_name("expression") {
                            Some(e) => self.expr(e),
                            None => Expr::unknown(Vec::new(), span(child)),
                        };
                        pieces.push(hole);
                    }
                    _ => {}
                }
            }
        }
        if has_holes {
            return Expr::new(ExprKind::Template(pieces), sp);
        }
        let value = pieces
            .into_iter()
            .filter_map(|p| match p.kind {
                ExprKind::Str(s) => Some(s),
                _ => None,
            })
            .collect();
        Expr::new(ExprKind::Str(value), sp)
    }

    fn string_content(&self, node: Node, prefix: Prefix) -> String {
        let mut out = String::new();
        let mut at = node.start_byte();
        let mut cursor = node.walk();
        for escape in node.children(&mut cursor) {
            out.push_str(self.src.get(at..escape.start_byte()).unwrap_or(""));
            let text = self.text(escape);
            match escape.kind() {
                // `{{` / `}}` in f-strings.
                "escape_interpolation" => out.push_str(text.get(..1).unwrap_or("")),
                "escape_sequence" if !prefix.raw => push_escape(text, prefix.bytes, &mut out),
                _ => out.push_str(text),
            }
            at = escape.end_byte();
        }
        out.push_str(self.src.get(at..node.end_byte()).unwrap_or(""));
        out
    }

    /// Past the depth budget: the subtree becomes `Unknown` over the distinct names it reads
    /// (taint flows by name, so repeats add nothing), found with an explicit cursor walk instead
    /// of recursion.
    fn opaque(&self, node: Node) -> Expr {
        let mut seen = std::collections::HashSet::new();
        let mut names = Vec::new();
        let mut cursor = node.walk();
        'walk: loop {
            let n = cursor.node();
            // Attribute names and keyword names are not variables.
            let is_label = matches!(cursor.field_name(), Some("attribute" | "name"));
            if n.kind() == "identifier" && !is_label && names.len() < MAX_OPAQUE_NAMES {
                let name = self.text(n);
                if seen.insert(name) {
                    names.push(Expr::new(ExprKind::Name(name.to_string()), span(n)));
                }
            }
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
            }
        }
        Expr::unknown(names, span(node))
    }
}

fn compare_eq(subject: &Expr, value: Expr, sp: Span) -> Expr {
    Expr::new(
        ExprKind::Compare {
            left: Box::new(subject.clone()),
            ops: vec![CmpOp::Eq],
            rights: vec![value],
        },
        sp,
    )
}

/// `case _:` and `case name:` match anything.
fn is_irrefutable(node: Node) -> bool {
    let children = named(node);
    match children.as_slice() {
        [] => true,
        [inner] if inner.kind() == "dotted_name" => named(*inner).len() == 1,
        _ => false,
    }
}

/// Reads a simple assignment target back as an expression.
fn pattern_as_expr(pattern: &Pattern) -> Option<Expr> {
    match pattern {
        Pattern::Name(n, s) => Some(Expr::new(ExprKind::Name(n.clone()), *s)),
        Pattern::Attr(object, name) => Some(Expr::new(
            ExprKind::Attr {
                object: object.clone(),
                name: name.clone(),
                name_span: object.span,
            },
            object.span,
        )),
        Pattern::Subscript(object, index) => Some(Expr::new(
            ExprKind::Subscript {
                object: object.clone(),
                index: index.clone(),
            },
            object.span.cover(index.span),
        )),
        _ => None,
    }
}

/// Rewrites what a class body binds (`x = 1`, `for x in ..`) into attributes of the class
/// (`C.x = 1`) and drops its `def`s, which are the class's methods, not locals of the
/// enclosing function.
fn rebind_to_class(block: Block, class: &Expr) -> Block {
    let rebind = |p: Pattern| rebind_pattern(p, class);
    block
        .into_iter()
        .filter_map(|stmt| {
            let kind = match stmt.kind {
                StmtKind::Def { .. } => return None,
                StmtKind::Assign { target, value } => StmtKind::Assign {
                    target: rebind(target),
                    value,
                },
                StmtKind::If { test, then, orelse } => StmtKind::If {
                    test,
                    then: rebind_to_class(then, class),
                    orelse: rebind_to_class(orelse, class),
                },
                StmtKind::Loop {
                    binding,
                    iter,
                    body,
                    orelse,
                } => StmtKind::Loop {
                    binding: binding.map(rebind),
                    iter,
                    body: rebind_to_class(body, class),
                    orelse: rebind_to_class(orelse, class),
                },
                StmtKind::Try {
                    body,
                    handlers,
                    orelse,
                    finally,
                } => StmtKind::Try {
                    body: rebind_to_class(body, class),
                    handlers: handlers
                        .into_iter()
                        .map(|h| ExceptHandler {
                            body: rebind_to_class(h.body, class),
                            ..h
                        })
                        .collect(),
                    orelse: rebind_to_class(orelse, class),
                    finally: rebind_to_class(finally, class),
                },
                StmtKind::With { items, body } => StmtKind::With {
                    items,
                    body: rebind_to_class(body, class),
                },
                other => other,
            };
            Some(Stmt {
                kind,
                span: stmt.span,
            })
        })
        .collect()
}

fn rebind_pattern(pattern: Pattern, class: &Expr) -> Pattern {
    match pattern {
        Pattern::Name(name, _) => Pattern::Attr(Box::new(class.clone()), name),
        Pattern::Sequence(items) => Pattern::Sequence(
            items
                .into_iter()
                .map(|p| rebind_pattern(p, class))
                .collect(),
        ),
        Pattern::Rest(inner) => Pattern::Rest(Box::new(rebind_pattern(*inner, class))),
        other => other,
    }
}

/// Spans of the places tree-sitter could not parse: outermost `ERROR` nodes and inserted
/// `MISSING` tokens. Iterative, and only descends where an error is known to be.
pub(super) fn syntax_errors(root: Node) -> Vec<Span> {
    let mut errors = Vec::new();
    if !root.has_error() {
        return errors;
    }
    let mut cursor = root.walk();
    'walk: loop {
        let n = cursor.node();
        let descend = if n.is_error() || n.is_missing() {
            errors.push(span(n));
            false
        } else {
            n.has_error()
        };
        if descend && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    errors
}
