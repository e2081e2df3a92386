//! The language-neutral facts a frontend lowers source code into, and the taint engine reads.
//!
//! A frontend turns one file's syntax tree into a [`Module`]: its imports, its functions (with
//! parameters and bodies as statements and expressions), its classes, and which functions are MCP
//! handlers. Everything language-specific stays in the frontend and the catalog; the engine only
//! ever sees these types. The trade-off: the IR keeps only what data flow needs (names, calls,
//! string building, containers, control structure), so a construct the IR cannot express is
//! lowered to [`ExprKind::Unknown`] over its children — taint still flows through it, precision
//! is lost, nothing is dropped.

use std::sync::Arc;

use crate::source::SourceFile;
use crate::span::Span;

/// Index of a function in [`Module::functions`]. Function 0 is the module's top level.
pub type FunctionId = usize;

/// The languages with a frontend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    TypeScript,
    JavaScript,
}

/// One source file, lowered.
#[derive(Debug)]
pub struct Module {
    pub file: Arc<SourceFile>,
    pub language: Language,
    /// The module's own dotted name within its project (`pkg.utils`, `src/utils`), used to
    /// resolve imports between the files of one project.
    pub name: String,
    pub imports: Vec<Import>,
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    pub handlers: Vec<Handler>,
    /// Places the parser could not make sense of; the rest of the file is still analysed.
    pub syntax_errors: Vec<Span>,
}

impl Module {
    /// The dotted path an expression names after resolving this module's imports:
    /// `sp.run` with `import subprocess as sp` is `subprocess.run`. `None` for anything that is
    /// not a plain chain of names.
    pub fn canonical(&self, expr: &Expr) -> Option<String> {
        let dotted = expr.dotted()?;
        Some(self.resolve_dotted(&dotted))
    }

    /// Resolves the first component of a dotted name through the imports.
    pub fn resolve_dotted(&self, dotted: &str) -> String {
        resolve_through(&self.imports, dotted)
    }

    /// Every call expression in the module's functions, with the function it is in.
    pub fn calls<'a>(&'a self) -> Vec<(FunctionId, &'a Expr)> {
        let mut out: Vec<(FunctionId, &'a Expr)> = Vec::new();
        for (id, f) in self.functions.iter().enumerate() {
            let mut visit = |e: &'a Expr| {
                if matches!(e.kind, ExprKind::Call { .. }) {
                    out.push((id, e));
                }
            };
            for stmt in &f.body {
                walk_stmt(stmt, &mut visit);
            }
            for d in &f.decorators {
                walk_expr(d, &mut visit);
            }
        }
        out
    }
}

/// Resolves the first component of a dotted name through `imports` (the last binding of a
/// name wins): `sp.run` with `import subprocess as sp` is `subprocess.run`.
pub fn resolve_through(imports: &[Import], dotted: &str) -> String {
    let (head, rest) = dotted
        .split_once('.')
        .map_or((dotted, None), |(h, r)| (h, Some(r)));
    let resolved = imports
        .iter()
        .rev()
        .find(|i| i.local == head)
        .map_or(head, |i| i.path.as_str());
    match rest {
        Some(r) => format!("{resolved}.{r}"),
        None => resolved.to_string(),
    }
}

/// Visits a block's statements and every statement nested in them (not nested functions).
pub fn each_stmt<'a>(block: &'a [Stmt], visit: &mut dyn FnMut(&'a Stmt)) {
    for stmt in block {
        visit(stmt);
        match &stmt.kind {
            StmtKind::If { then, orelse, .. } => {
                each_stmt(then, visit);
                each_stmt(orelse, visit);
            }
            StmtKind::Loop { body, orelse, .. } => {
                each_stmt(body, visit);
                each_stmt(orelse, visit);
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                each_stmt(body, visit);
                for h in handlers {
                    each_stmt(&h.body, visit);
                }
                each_stmt(orelse, visit);
                each_stmt(finally, visit);
            }
            StmtKind::With { body, .. } => each_stmt(body, visit),
            _ => {}
        }
    }
}

/// Visits every expression under a statement (not into nested function bodies, which are
/// functions of their own).
pub fn walk_stmt<'a>(stmt: &'a Stmt, visit: &mut dyn FnMut(&'a Expr)) {
    let block =
        |b: &'a [Stmt], visit: &mut dyn FnMut(&'a Expr)| b.iter().for_each(|s| walk_stmt(s, visit));
    match &stmt.kind {
        StmtKind::Assign { value, .. } => walk_expr(value, visit),
        StmtKind::Expr(e) | StmtKind::Return(Some(e)) | StmtKind::Raise(Some(e)) => {
            walk_expr(e, visit)
        }
        StmtKind::If { test, then, orelse } => {
            walk_expr(test, visit);
            block(then, visit);
            block(orelse, visit);
        }
        StmtKind::Loop {
            iter, body, orelse, ..
        } => {
            if let Some(i) = iter {
                walk_expr(i, visit);
            }
            block(body, visit);
            block(orelse, visit);
        }
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        } => {
            block(body, visit);
            for h in handlers {
                block(&h.body, visit);
            }
            block(orelse, visit);
            block(finally, visit);
        }
        StmtKind::With { items, body } => {
            for (e, _) in items {
                walk_expr(e, visit);
            }
            block(body, visit);
        }
        _ => {}
    }
}

/// Visits an expression and every expression inside it, depth first.
pub fn walk_expr<'a>(expr: &'a Expr, visit: &mut dyn FnMut(&'a Expr)) {
    // An explicit stack: expressions can nest deeply.
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        visit(e);
        match &e.kind {
            ExprKind::Attr { object, .. } => stack.push(object),
            ExprKind::Subscript { object, index } => {
                stack.push(object);
                stack.push(index);
            }
            ExprKind::Call { callee, args, .. } => {
                stack.push(callee);
                stack.extend(args.iter().map(|a| &a.value));
            }
            ExprKind::Template(parts) | ExprKind::Seq(parts) | ExprKind::Unknown(parts) => {
                stack.extend(parts.iter())
            }
            ExprKind::Binary { left, right, .. } => {
                stack.push(left);
                stack.push(right);
            }
            ExprKind::Compare { left, rights, .. } => {
                stack.push(left);
                stack.extend(rights.iter());
            }
            ExprKind::Logical { values, .. } => stack.extend(values.iter()),
            ExprKind::Not(e) | ExprKind::Spread(e) | ExprKind::Await(e) => stack.push(e),
            ExprKind::Conditional { test, then, orelse } => {
                stack.push(test);
                stack.push(then);
                stack.push(orelse);
            }
            ExprKind::Map(entries) => {
                for (k, v) in entries {
                    if let Some(k) = k {
                        stack.push(k);
                    }
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
}

/// `import a.b as c`, `from a import b`, `import { b } from "a"`: a local name bound to a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The name bound in this module.
    pub local: String,
    /// What it refers to: a dotted path (`subprocess.run`, `os`), or for relative imports the
    /// module path as written (`.utils.helper`, `./utils.helper`).
    pub path: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub span: Span,
    pub bases: Vec<Expr>,
    pub decorators: Vec<Expr>,
    pub methods: Vec<FunctionId>,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    /// `Class.method` for methods, `outer.inner` for nested functions.
    pub qualname: String,
    pub span: Span,
    pub name_span: Span,
    pub params: Vec<Param>,
    pub body: Block,
    pub decorators: Vec<Expr>,
    pub is_async: bool,
    pub class: Option<usize>,
    pub parent: Option<FunctionId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Normal,
    /// `self`/`cls` of a method.
    Receiver,
    /// `*args`, `...rest`.
    Rest,
    /// `**kwargs`.
    KeywordRest,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub pattern: Pattern,
    pub kind: ParamKind,
    /// The type annotation as written (`str`, `Literal["a", "b"]`, `int`), for sources and
    /// sanitizers that depend on types.
    pub annotation: Option<Expr>,
    pub default: Option<Expr>,
    pub span: Span,
}

impl Param {
    /// The parameter's name when it binds a single name.
    pub fn name(&self) -> Option<&str> {
        match &self.pattern {
            Pattern::Name(n, _) => Some(n),
            _ => None,
        }
    }
}

pub type Block = Vec<Stmt>;

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    /// `target = value`; augmented assignments are lowered to `x = x op value`.
    Assign {
        target: Pattern,
        value: Expr,
    },
    Expr(Expr),
    Return(Option<Expr>),
    If {
        test: Expr,
        then: Block,
        orelse: Block,
    },
    /// `for binding in iter`, `while test` (binding and iter `None`, test first in `body`
    /// as an expression statement).
    Loop {
        binding: Option<Pattern>,
        iter: Option<Expr>,
        body: Block,
        orelse: Block,
    },
    Try {
        body: Block,
        handlers: Vec<ExceptHandler>,
        orelse: Block,
        finally: Block,
    },
    With {
        items: Vec<(Expr, Option<Pattern>)>,
        body: Block,
    },
    Raise(Option<Expr>),
    /// A nested function or class definition binding `name`.
    Def {
        name: String,
        function: Option<FunctionId>,
    },
    Break,
    Continue,
    /// Anything else (pass, global, assert without effect on data): nothing flows.
    Other,
}

#[derive(Debug, Clone)]
pub struct ExceptHandler {
    pub binding: Option<Pattern>,
    pub types: Option<Expr>,
    pub body: Block,
    pub span: Span,
}

/// What an assignment or parameter binds.
#[derive(Debug, Clone)]
pub enum Pattern {
    Name(String, Span),
    /// `a, b = ...`, `[a, b] = ...`.
    Sequence(Vec<Pattern>),
    /// `{ a, b: c } = ...` (JavaScript destructuring): key and what it binds.
    Object(Vec<(String, Pattern)>),
    /// `x.attr = ...`.
    Attr(Box<Expr>, String),
    /// `x[i] = ...`.
    Subscript(Box<Expr>, Box<Expr>),
    /// `*rest`, `...rest`.
    Rest(Box<Pattern>),
    /// A pattern with a default (`{ a = 1 }`): binds like the inner pattern.
    Default(Box<Pattern>, Box<Expr>),
    Ignore,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    /// Python `%`: string formatting when the left side is a string.
    Mod,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    In,
    NotIn,
    Is,
    IsNot,
    Lt,
    Gt,
    LtE,
    GtE,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolOp {
    And,
    Or,
    /// JavaScript `??`.
    Coalesce,
}

#[derive(Debug, Clone)]
pub struct Arg {
    /// Keyword name (`shell=True`); `None` for positional.
    pub name: Option<String>,
    pub value: Expr,
    /// `*args`, `**kwargs`, `...spread`.
    pub spread: bool,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Name(String),
    Attr {
        object: Box<Expr>,
        name: String,
        name_span: Span,
    },
    Subscript {
        object: Box<Expr>,
        index: Box<Expr>,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
        is_new: bool,
    },
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    /// f-strings and template literals: literal pieces as `Str`, holes as expressions.
    Template(Vec<Expr>),
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Compare {
        left: Box<Expr>,
        ops: Vec<CmpOp>,
        rights: Vec<Expr>,
    },
    Logical {
        op: BoolOp,
        values: Vec<Expr>,
    },
    Not(Box<Expr>),
    Conditional {
        test: Box<Expr>,
        then: Box<Expr>,
        orelse: Box<Expr>,
    },
    /// Lists, tuples, sets, arrays.
    Seq(Vec<Expr>),
    /// Dicts and object literals; a `None` key is a spread (`**d`, `...o`).
    Map(Vec<(Option<Expr>, Expr)>),
    /// `*x` / `...x` inside a sequence or call.
    Spread(Box<Expr>),
    /// A lambda or arrow function.
    Function(FunctionId),
    Await(Box<Expr>),
    /// Anything else, with its sub-expressions: taint flows through, precision is lost.
    Unknown(Vec<Expr>),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    pub fn unknown(children: Vec<Expr>, span: Span) -> Self {
        Expr {
            kind: ExprKind::Unknown(children),
            span,
        }
    }

    /// The literal string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A dotted name (`os.path.join`) if this is a plain chain of names and attributes.
    pub fn dotted(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Name(n) => Some(n.clone()),
            ExprKind::Attr { object, name, .. } => object.dotted().map(|o| format!("{o}.{name}")),
            _ => None,
        }
    }

    /// The keyword argument `name` of a call expression: a keyword argument (`shell=True`), or
    /// a key of an options object passed last (`spawn(cmd, args, { shell: true })`), which is
    /// how languages without keyword arguments pass them.
    pub fn keyword(&self, name: &str) -> Option<&Expr> {
        let ExprKind::Call { args, .. } = &self.kind else {
            return None;
        };
        if let Some(a) = args.iter().find(|a| a.name.as_deref() == Some(name)) {
            return Some(&a.value);
        }
        let last = args.iter().rev().find(|a| a.name.is_none())?;
        if last.spread {
            return None;
        }
        match &last.value.kind {
            ExprKind::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_ref().and_then(Expr::as_str) == Some(name))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this is the literal `True`/`true`.
    pub fn is_true(&self) -> bool {
        matches!(self.kind, ExprKind::Bool(true))
    }
}

/// What an MCP handler exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HandlerKind {
    Tool,
    Resource,
    Prompt,
    /// A low-level `call_tool` handler that dispatches on the tool name.
    CallTool,
}

/// A function an MCP SDK calls with model-chosen arguments.
#[derive(Debug, Clone)]
pub struct Handler {
    pub function: FunctionId,
    pub kind: HandlerKind,
    /// The tool name when known (decorator argument, registration name, or function name).
    pub name: Option<String>,
    /// Where it is registered (the decorator or registration call), for traces.
    pub span: Span,
    /// Parameters that carry model-chosen values: by index into `params`. For `CallTool`
    /// handlers, the arguments parameter.
    pub tainted_params: Vec<usize>,
    /// The registered callback is a function imported from another module: `function` only
    /// forwards its parameters there, and the project makes that function the handler.
    pub imported_callback: bool,
}
