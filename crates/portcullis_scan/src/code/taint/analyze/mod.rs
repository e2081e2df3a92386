//! One function's analysis: abstract interpretation of its statements over taint labels.

use std::collections::HashMap;

pub(crate) mod guards;

pub(crate) use guards::Proof;

use super::label::{Flags, Label, Labels, Origin, Step};
use super::project::{Project, Summary};
use super::{Broken, Hit, HitKind, looks_secret, shape};
use crate::code::catalog::{ArgSel, Callee, Catalog, Cleaned, PathOp, SinkKind, SourceKind, When};
use crate::code::ir::{
    Arg, BinOp, BoolOp, Expr, ExprKind, Function, FunctionId, Module, ParamKind, Pattern, Stmt,
    StmtKind,
};
use crate::span::Span;

/// What analysing one function produced.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub hits: Vec<Hit>,
    pub returns: Labels,
    pub return_sites: Vec<(Span, Labels)>,
    /// The program whose argument vector this function splices its `*args` into.
    pub argv_rest: Option<String>,
    /// What every normal return proves about each parameter the function never reassigns:
    /// a helper that raises on a bad path cleans its caller's variable.
    pub param_exits: Option<Vec<Option<ParamExit>>>,
    /// What a true and a false result prove about the parameters: a predicate such as
    /// `isInside(p, roots)` guards its caller's `if`.
    pub predicate: Option<(Vec<Proof>, Vec<Proof>)>,
}

/// What a parameter is known to have passed when its function returns normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ParamExit {
    pub cleaned: Cleaned,
    pub flags: Flags,
    pub check: Option<Step>,
}

/// The flags that record a check a value passed (not a transformation of the value), so they
/// carry over to the caller's variable that was checked.
const CHECK_FLAGS: Flags = Flags(
    Flags::DOTDOT_CHECKED.0
        | Flags::ABS_CHECKED.0
        | Flags::PREFIX_CHECKED.0
        | Flags::BLOCKLISTED.0
        | Flags::DNS_RESOLVED.0
        | Flags::SIZE_CHECKED.0
        | Flags::WEAK_CONTAINED.0,
);

/// How a call's argument vector is built, for argument injection: the program and the labels
/// of elements that may start with `-`.
#[derive(Debug, Clone, Default)]
struct Argv {
    program: Option<String>,
    injectable: Labels,
    /// A literal `--` was seen: what follows cannot be an option.
    ended_options: bool,
    /// The last element was an option that takes a value (`-m`): the next one is that value,
    /// whatever it starts with.
    expects_value: bool,
    /// The first operand, when it is fixed text: `commit` in `git -C dir commit -m msg`.
    subcommand: Option<String>,
    /// An operand was seen, so the subcommand (if any) is known.
    past_subcommand: bool,
}

#[derive(Debug, Clone, Default)]
struct State {
    vars: HashMap<String, Labels>,
    /// Variables holding instances of catalogued classes (`client = httpx.AsyncClient()`).
    types: HashMap<String, String>,
    /// Variables computed from others (`parsed = urlparse(url)`): a check on one is a check on
    /// the other.
    derived: HashMap<String, Vec<String>>,
    argv: HashMap<String, Argv>,
    /// Variables holding the first word of another (`first = cmd.split()[0]`).
    first_word: HashMap<String, String>,
    /// SQL text held in a variable (`sql = "SELECT ..."`) or last run on a cursor
    /// (`cur.execute(sql)`), with holes as `?`.
    sql: HashMap<String, String>,
    /// Checks this path has passed (the `if`s it went through), for what a function's
    /// returns prove.
    facts: Vec<std::sync::Arc<guards::Guard>>,
    /// Variables holding a condition (`const ok = isInside(p)`), read where they are tested.
    conds: HashMap<String, Expr>,
    /// Variables computed from one other by calls of it alone (`real = normalize(resolved)`):
    /// the same path, so a containment check on one holds for the other.
    same: HashMap<String, String>,
    /// Variables holding the folder of another (`dir = path.dirname(p)`).
    parent_of: HashMap<String, String>,
    /// Variables that failed to resolve (in the handler of a `try` that resolved them):
    /// nothing exists there, so there is no link to follow.
    missing: Vec<String>,
}

impl State {
    fn get(&self, key: &str) -> Labels {
        self.vars.get(key).cloned().unwrap_or_default()
    }

    fn merge(&mut self, other: State) {
        for (k, v) in other.vars {
            self.vars.entry(k).or_default().extend(v);
        }
        for (k, v) in other.types {
            self.types.entry(k).or_insert(v);
        }
        for (k, v) in other.derived {
            self.derived.entry(k).or_insert(v);
        }
        for (k, v) in other.sql {
            self.sql.entry(k).or_insert(v);
        }
        for (k, v) in other.conds {
            self.conds.entry(k).or_insert(v);
        }
        for (k, v) in other.same {
            self.same.entry(k).or_insert(v);
        }
        for (k, v) in other.parent_of {
            self.parent_of.entry(k).or_insert(v);
        }
        self.missing.retain(|m| other.missing.contains(m));
        // A check holds after a join only when it held on both sides.
        self.facts.retain(|g| {
            other
                .facts
                .iter()
                .any(|o| o.same_as(g) && o.needs == g.needs)
        });
        for (k, v) in other.argv {
            let e = self.argv.entry(k).or_default();
            e.injectable.extend(v.injectable);
            e.program = e.program.take().or(v.program);
        }
    }
}

/// The class of an error bound by a `catch`/`except` clause.
const CAUGHT: &str = "\u{0}caught";

/// The program of an argument vector split from a model-chosen string: whatever the model says.
const SPLIT_PROGRAM: &str = "\u{0}split";

/// A call being evaluated: its expression, arguments and their labels.
struct CallSite<'c> {
    expr: &'c Expr,
    args: &'c [Arg],
    arg_labels: &'c [Labels],
    recv_labels: &'c Labels,
}

/// Nesting deeper than this is not followed (lambdas inside lambdas inside calls...).
const MAX_DEPTH: usize = 64;

pub(super) struct Analyzer<'a> {
    project: &'a Project,
    summaries: &'a HashMap<(usize, FunctionId), Summary>,
    module_index: usize,
    module: &'a Module,
    catalog: &'static Catalog,
    function: &'a Function,
    out: Outcome,
    depth: usize,
    /// Above zero while re-reading expressions already evaluated (argument vectors, guards):
    /// their sinks were recorded the first time.
    muted: usize,
    /// Above zero while analysing a lambda or callback in place: its returns are not this
    /// function's.
    inlining: usize,
    /// Which parameters the function assigns to somewhere, read once at its first return.
    reassigned: Option<Vec<bool>>,
    /// Functions of the project this one calls, for reachability.
    pub(super) calls: Vec<(usize, FunctionId)>,
    /// What returns prove: the function's own (first), and a callback's being read in place.
    collectors: Vec<guards::Collector>,
}

impl<'a> Analyzer<'a> {
    pub(super) fn new(
        project: &'a Project,
        summaries: &'a HashMap<(usize, FunctionId), Summary>,
        module_index: usize,
        function: FunctionId,
    ) -> Self {
        let module = &project.modules[module_index];
        Analyzer {
            project,
            summaries,
            module_index,
            module,
            catalog: project.catalog(module_index),
            function: &module.functions[function],
            out: Outcome::default(),
            depth: 0,
            muted: 0,
            inlining: 0,
            reassigned: None,
            calls: Vec::new(),
            collectors: vec![guards::Collector::default()],
        }
    }

    pub(super) fn run(mut self) -> (Outcome, Vec<(usize, FunctionId)>) {
        let mut state = State::default();
        for (i, param) in self.function.params.iter().enumerate() {
            if param.kind == ParamKind::Receiver {
                continue;
            }
            let name = param.name().unwrap_or("argument");
            let mut label = Label::new(
                Origin::Param(i),
                self.step(param.span, format!("parameter `{name}`")),
            );
            // The SDK validates handler arguments against their types: an `int` or a
            // `Literal["a", "b"]` cannot carry a payload.
            if self.is_sdk_handler() && param.annotation.as_ref().is_some_and(is_closed_type) {
                label.cleaned = Cleaned::ALL;
            }
            let labels = Labels(vec![label]);
            self.bind(&param.pattern, labels.clone(), &mut state);
            // `({ path, mode }) => ...`: each field is an argument of its own, named.
            if let Pattern::Object(fields) = &param.pattern {
                for (key, p) in fields {
                    let (Some(span), false) = (pattern_span(p), key == "...") else {
                        continue;
                    };
                    let field = Label {
                        trace: std::sync::Arc::new(vec![
                            self.step(span, format!("parameter `{key}`")),
                        ]),
                        ..labels.0[0].clone()
                    };
                    self.bind(p, Labels(vec![field]), &mut state);
                }
            }
            if self.is_sdk_handler()
                && let Some(shape) = &param.annotation
            {
                self.bind_shape(&param.pattern, shape, &labels, &mut state);
            }
            // `repo: git.Repo`: an annotated parameter is an instance of its class.
            if let (Some(name), Some(annotation)) = (param.name(), &param.annotation)
                && let Some(path) = self.canonical(annotation, &state)
                && let Some(class) = self.catalog.classes.iter().find(|c| **c == path)
            {
                state.types.insert(name.to_string(), class.to_string());
            }
        }
        let function: &'a Function = self.function;
        if !self.block(&function.body, &mut state) {
            self.note_exit(&state);
            self.note_bool_return(None, &mut state);
        }
        self.out.predicate = self.predicate_proofs();
        self.calls.sort_unstable();
        self.calls.dedup();
        (self.out, self.calls)
    }

    /// A handler parameter declared with an object shape (`{ path: z.string(), n: z.number() }`):
    /// each field is bound with what its declared type cleans, destructured (`{ path, n }`) or
    /// read as a field (`args.n`).
    fn bind_shape(&mut self, pattern: &Pattern, shape: &Expr, labels: &Labels, state: &mut State) {
        let ExprKind::Map(entries) = &shape.kind else {
            return;
        };
        for (key, ty) in entries {
            let Some(key) = key.as_ref().and_then(Expr::as_str) else {
                continue;
            };
            let cleaned = self.schema_cleans(ty, 0);
            if cleaned == Cleaned::NONE {
                continue;
            }
            let field = labels.clone().cleaned_for(cleaned);
            match pattern {
                Pattern::Object(fields) => {
                    for (k, p) in fields {
                        if k == key {
                            self.bind(p, field.clone(), state);
                        }
                    }
                }
                Pattern::Name(n, _) => {
                    state.vars.insert(format!("{n}.{key}"), field);
                }
                _ => {}
            }
        }
    }

    /// What a schema builder chain (`z.string().regex(/^[a-z]+$/).optional()`) keeps out.
    fn schema_cleans(&self, ty: &Expr, depth: usize) -> Cleaned {
        let schemas = &self.catalog.schemas;
        if depth > 16 || schemas.roots.is_empty() {
            return Cleaned::NONE;
        }
        let ExprKind::Call { callee, args, .. } = &ty.kind else {
            return Cleaned::NONE;
        };
        let ExprKind::Attr { object, name, .. } = &callee.kind else {
            return Cleaned::NONE;
        };
        let inner = self.schema_cleans(object, depth + 1);
        let from_root = object.dotted().is_some_and(|d| {
            let resolved = self.resolve_dotted(&d);
            schemas
                .roots
                .iter()
                .any(|r| resolved == *r || resolved.starts_with(&format!("{r}.")))
        });
        let is_builder =
            from_root || inner != Cleaned::NONE || matches!(object.kind, ExprKind::Call { .. });
        if !is_builder {
            return Cleaned::NONE;
        }
        let closed_name = |n: &str| schemas.closed.contains(&n);
        // `z.coerce.number()`: the builder's name with its namespace.
        let qualified = match &object.kind {
            ExprKind::Attr { name: ns, .. } => format!("{ns}.{name}"),
            _ => name.clone(),
        };
        if closed_name(name) || closed_name(&qualified) {
            return Cleaned::ALL;
        }
        if schemas.patterns.contains(&name.as_str())
            && let Some(pattern) = args.first().and_then(|a| self.constant_text(&a.value))
            && pattern.starts_with('^')
            && pattern.ends_with('$')
            && let Some(c) = guards::regex_cleans(&pattern)
        {
            return inner.with(c);
        }
        inner
    }

    /// Whether this function is a high-level handler whose arguments the SDK validates by type.
    fn is_sdk_handler(&self) -> bool {
        let id = self
            .module
            .functions
            .iter()
            .position(|f| std::ptr::eq(f, self.function));
        self.module
            .handlers
            .iter()
            .any(|h| Some(h.function) == id && h.kind != crate::code::ir::HandlerKind::CallTool)
    }

    /// Evaluates without recording hits (for expressions already evaluated once).
    fn quiet<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.muted += 1;
        let out = f(self);
        self.muted -= 1;
        out
    }

    fn push_hit(&mut self, hit: Hit) {
        if self.muted == 0 {
            self.out.hits.push(hit);
        }
    }

    fn step(&self, span: Span, message: String) -> Step {
        Step {
            module: self.module_index,
            span,
            message,
        }
    }

    fn text(&self, span: Span) -> &str {
        self.module.file.text.get(span.range()).unwrap_or("")
    }

    fn short(&self, span: Span) -> String {
        let t = self.text(span);
        let first = t.lines().next().unwrap_or("");
        if first.chars().count() > 60 || t.contains('\n') {
            format!("{}…", first.chars().take(60).collect::<String>())
        } else {
            first.to_string()
        }
    }

    // ---- statements ----

    /// Runs a block; returns whether it always leaves (return, raise, break, continue).
    fn block(&mut self, block: &[Stmt], state: &mut State) -> bool {
        for stmt in block {
            if self.stmt(stmt, state) {
                return true;
            }
        }
        false
    }

    fn stmt(&mut self, stmt: &Stmt, state: &mut State) -> bool {
        match &stmt.kind {
            StmtKind::Assign { target, value } => {
                let labels = self.eval(value, state);
                let argv = match &value.kind {
                    ExprKind::Seq(items) => Some(self.quiet(|a| a.argv_of(items, state))),
                    _ => self.split_source(value, state).map(|s| {
                        let injectable = self.quiet(|a| a.eval(s, state));
                        Argv {
                            program: Some(SPLIT_PROGRAM.into()),
                            injectable,
                            ..Argv::default()
                        }
                    }),
                };
                let labels = if labels.is_empty() {
                    labels
                } else {
                    labels.step(&self.step(
                        stmt.span,
                        format!("assigned in `{}`", self.short(stmt.span)),
                    ))
                };
                self.remember_shape(target, value, state);
                self.bind(target, labels, state);
                if let Pattern::Name(name, _) = target {
                    if is_condition(value) {
                        state.conds.insert(name.clone(), value.clone());
                    }
                    if let Some(from) = self.single_source(value, 0).filter(|f| f != name) {
                        state.same.insert(name.clone(), from);
                    }
                    if let Some(of) = self.dirname_of(value) {
                        state.parent_of.insert(name.clone(), of);
                    }
                }
                if let (Some(argv), Pattern::Name(n, _)) = (argv, target) {
                    state.argv.insert(n.clone(), argv);
                }
                false
            }
            StmtKind::Expr(e) => {
                self.eval(e, state);
                false
            }
            StmtKind::Return(value) => {
                if let Some(v) = value {
                    let labels = self.eval(v, state);
                    if !labels.is_empty() {
                        let labels = labels.step(&self.step(stmt.span, "returned".into()));
                        self.out.returns.extend(labels.clone());
                        self.out.return_sites.push((stmt.span, labels));
                    }
                }
                self.note_exit(state);
                self.note_bool_return(value.as_ref(), state);
                true
            }
            StmtKind::If { test, then, orelse } => {
                self.eval(test, state);
                let (when_true, when_false) = self.quiet(|a| a.guards(test, state));
                let mut then_state = state.clone();
                self.apply(&when_true, &mut then_state);
                note_facts(&mut then_state, when_true);
                let then_leaves = self.block(then, &mut then_state);
                let mut else_state = std::mem::take(state);
                self.apply(&when_false, &mut else_state);
                note_facts(&mut else_state, when_false);
                let else_leaves = self.block(orelse, &mut else_state);
                *state = match (then_leaves, else_leaves) {
                    (true, true) => {
                        *state = else_state;
                        return true;
                    }
                    (true, false) => else_state,
                    (false, true) => then_state,
                    (false, false) => {
                        then_state.merge(else_state);
                        then_state
                    }
                };
                false
            }
            StmtKind::Loop {
                binding,
                iter,
                body,
                orelse,
            } => {
                if let (Some(binding), Some(iter)) = (binding, iter) {
                    let labels = self.eval(iter, state);
                    self.bind(binding, labels, state);
                }
                // Twice, so values carried around the loop reach the top; then merged with
                // the state before it, since the body may not run at all.
                let mut looped = state.clone();
                self.block(body, &mut looped);
                self.block(body, &mut looped);
                state.merge(looped);
                self.block(orelse, state);
                false
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                let before = state.clone();
                let body_leaves = self.block(body, state);
                let after_body = state.clone();
                let mut merged = if body_leaves {
                    None
                } else {
                    Some(after_body.clone())
                };
                let mut handlers_leave = true;
                let resolved = self.resolved_in(body);
                for h in handlers {
                    // An exception can come from anywhere in the body.
                    let mut hs = before.clone();
                    hs.merge(after_body.clone());
                    hs.missing.extend(resolved.iter().cloned());
                    if let Some(b) = &h.binding {
                        self.bind(b, Labels::default(), &mut hs);
                        if let Pattern::Name(n, _) = b {
                            hs.types.insert(n.clone(), CAUGHT.into());
                        }
                    }
                    if !self.block(&h.body, &mut hs) {
                        handlers_leave = false;
                        match &mut merged {
                            Some(m) => m.merge(hs),
                            None => merged = Some(hs),
                        }
                    }
                }
                let leaves = merged.is_none();
                *state = merged.unwrap_or(after_body);
                // `try: p.relative_to(base) except ValueError: raise`: only a contained p
                // gets past.
                if handlers_leave && !handlers.is_empty() && !leaves {
                    let guards = self.try_guards(body);
                    self.apply(&guards, state);
                }
                if !leaves {
                    self.block(orelse, state);
                }
                self.block(finally, state) || leaves
            }
            StmtKind::With { items, body } => {
                for (e, binding) in items {
                    let labels = self.eval(e, state);
                    if let Some(b) = binding {
                        if let (Pattern::Name(n, _), Some(class)) = (b, self.class_of(e, state)) {
                            state.types.insert(n.clone(), class);
                        }
                        self.bind(b, labels, state);
                    }
                }
                self.block(body, state)
            }
            StmtKind::Raise(e) => {
                if let Some(e) = e {
                    self.eval(e, state);
                }
                true
            }
            StmtKind::Break | StmtKind::Continue => true,
            StmtKind::Def { .. } | StmtKind::Other => false,
        }
    }

    fn bind(&mut self, pattern: &Pattern, labels: Labels, state: &mut State) {
        match pattern {
            Pattern::Name(n, _) => {
                state.vars.insert(n.clone(), labels);
                state.argv.remove(n);
                state.conds.remove(n);
                state.same.remove(n);
                state.parent_of.remove(n);
                if !state.facts.is_empty() {
                    state
                        .facts
                        .retain(|g| guards::guard_root(&g.target).as_deref() != Some(n.as_str()));
                }
            }
            Pattern::Sequence(items) => items
                .iter()
                .for_each(|p| self.bind(p, labels.clone(), state)),
            Pattern::Object(fields) => fields
                .iter()
                .for_each(|(_, p)| self.bind(p, labels.clone(), state)),
            Pattern::Rest(p) => self.bind(p, labels, state),
            Pattern::Default(p, default) => {
                let d = self.eval(default, state);
                self.bind(p, labels.union(d), state);
            }
            Pattern::Attr(object, name) => {
                if let Some(root) = object.dotted() {
                    state.vars.insert(format!("{root}.{name}"), labels);
                }
            }
            Pattern::Subscript(object, _) => {
                if let Some(root) = root_name(object) {
                    state.vars.entry(root).or_default().extend(labels);
                }
            }
            Pattern::Ignore => {}
        }
    }

    /// Records what an assignment makes of a name beyond its taint: its class, what it was
    /// computed from, and an argument vector's shape.
    fn remember_shape(&mut self, target: &Pattern, value: &Expr, state: &mut State) {
        // `const { hostname } = new URL(url)`: each name is computed from the value's roots.
        if let Pattern::Object(fields) = target {
            let mut roots = Vec::new();
            collect_roots(value, &mut roots);
            for (_, p) in fields {
                if let Pattern::Name(n, _) = p {
                    let mut r = roots.clone();
                    r.retain(|x| x != n);
                    if r.is_empty() {
                        state.derived.remove(n);
                    } else {
                        state.derived.insert(n.clone(), r);
                    }
                }
            }
            return;
        }
        let Pattern::Name(name, _) = target else {
            return;
        };
        match self.class_of(value, state) {
            Some(class) => {
                state.types.insert(name.clone(), class);
            }
            None => {
                state.types.remove(name);
            }
        }
        match guards::first_word_root(value) {
            Some(root) => {
                state.first_word.insert(name.clone(), root);
            }
            None => {
                state.first_word.remove(name);
            }
        }
        match self.sql_text(value, state) {
            Some(sql) => {
                state.sql.insert(name.clone(), sql);
            }
            None => {
                state.sql.remove(name);
            }
        }
        let mut roots = Vec::new();
        collect_roots(value, &mut roots);
        roots.retain(|r| r != name);
        if roots.is_empty() {
            state.derived.remove(name);
        } else {
            state.derived.insert(name.clone(), roots);
        }
    }

    // ---- expressions ----

    fn eval(&mut self, expr: &Expr, state: &mut State) -> Labels {
        if self.depth > MAX_DEPTH {
            return Labels::default();
        }
        self.depth += 1;
        let labels = self.eval_inner(expr, state);
        self.depth -= 1;
        labels
    }

    fn eval_inner(&mut self, expr: &Expr, state: &mut State) -> Labels {
        match &expr.kind {
            ExprKind::Name(n)
                if !state.vars.contains_key(n)
                    && self.project.global_secret(self.module_index, n).is_some() =>
            {
                let (module, (span, var)) = self
                    .project
                    .global_secret(self.module_index, n)
                    .map(|(m, found)| (m, found.clone()))
                    .unwrap_or_default();
                Labels(vec![Label::new(
                    Origin::Source(SourceKind::Environment),
                    Step {
                        module,
                        span,
                        message: format!("the environment variable `{var}`"),
                    },
                )])
            }
            ExprKind::Name(n) => {
                let mut labels = state.get(n);
                if let Some(kind) = self.source_name(n) {
                    labels.add(Label::new(
                        Origin::Source(kind),
                        self.step(expr.span, format!("`{n}`")),
                    ));
                }
                labels
            }
            // A response's status says nothing the responder wrote.
            ExprKind::Attr { name, .. }
                if matches!(
                    name.as_str(),
                    "status_code"
                        | "status"
                        | "ok"
                        | "reason"
                        | "elapsed"
                        | "is_success"
                        | "is_error"
                        | "encoding"
                ) =>
            {
                Labels::default()
            }
            // `process.env.NAME`: one variable, sensitive when its name says so.
            ExprKind::Attr { object, name, .. }
                if object.dotted().is_some_and(|d| {
                    self.source_name(&self.resolve_dotted(&d)) == Some(SourceKind::Environment)
                }) =>
            {
                let key = Expr::new(ExprKind::Str(name.clone()), expr.span);
                self.env_var(Some(&key), expr.span, state)
            }
            // `err.stack` of a caught error: its stack trace.
            ExprKind::Attr { object, name, .. }
                if self.catalog.error_detail_attrs.contains(&name.as_str())
                    && self.is_caught(object, state) =>
            {
                Labels(vec![Label::new(
                    Origin::Source(SourceKind::ErrorDetail),
                    self.step(expr.span, format!("`{}`", self.short(expr.span))),
                )])
            }
            ExprKind::Attr { object, name, .. } => {
                if let Some(path) = expr.dotted() {
                    let resolved = self.resolve_dotted(&path);
                    if let Some(kind) = self.source_name(&resolved) {
                        return Labels(vec![Label::new(
                            Origin::Source(kind),
                            self.step(expr.span, format!("`{path}`")),
                        )]);
                    }
                    if let Some(field) = state.vars.get(&path) {
                        return field.clone();
                    }
                    if let Some(field) = path
                        .strip_prefix("self.")
                        .or_else(|| path.strip_prefix("this."))
                        && let Some(class) =
                            self.function.class.and_then(|c| self.module.classes.get(c))
                        && let Some((span, var)) = self
                            .project
                            .field_secret(self.module_index, &class.name, field)
                            .cloned()
                    {
                        return Labels(vec![Label::new(
                            Origin::Source(SourceKind::Environment),
                            self.step(span, format!("the environment variable `{var}`")),
                        )]);
                    }
                }
                let labels = self.eval(object, state);
                structured_field(labels, name)
            }
            ExprKind::Subscript { object, index } => {
                // A single environment variable is only sensitive when its name says so.
                if let Some(path) = object.dotted()
                    && self.source_name(&self.resolve_dotted(&path))
                        == Some(SourceKind::Environment)
                {
                    return self.env_var(Some(index), expr.span, state);
                }
                self.eval(index, state);
                let labels = self.eval(object, state);
                match index.as_str() {
                    Some(field) => structured_field(labels, field),
                    None => labels,
                }
            }
            ExprKind::Call { callee, args, .. } => self.call(expr, callee, args, state),
            ExprKind::Str(_) | ExprKind::Num(_) | ExprKind::Bool(_) | ExprKind::Null => {
                Labels::default()
            }
            ExprKind::Template(parts) => {
                let parts: Vec<&Expr> = parts.iter().collect();
                self.build_string(&parts, state)
            }
            ExprKind::Binary { op, left, right } => {
                let stringy = is_stringy(left)
                    || (*op == BinOp::Mod && is_stringy(left))
                    || is_stringy(right);
                if stringy {
                    return self.build_string(&[left.as_ref(), right.as_ref()], state);
                }
                let labels = self.eval(left, state).union(self.eval(right, state));
                // `Path(base) / name` is a path object: reading it reads a file.
                let path_object = [left, right].iter().any(|e| {
                    matches!(&e.kind, ExprKind::Call { callee, .. } if self.canonical(callee, state).is_some_and(|p| p.ends_with("pathlib.Path") || p.ends_with("PurePath")))
                }) || labels.iter().any(|l| l.flags.has(Flags::FILE));
                if path_object {
                    labels.with_flags(Flags::FILE)
                } else {
                    labels
                }
            }
            ExprKind::Compare { left, rights, .. } => {
                self.eval(left, state);
                for r in rights {
                    self.eval(r, state);
                }
                Labels::default()
            }
            ExprKind::Logical { values, .. } => {
                let mut labels = Labels::default();
                for v in values {
                    labels.extend(self.eval(v, state));
                }
                labels
            }
            ExprKind::Not(e) => {
                self.eval(e, state);
                Labels::default()
            }
            ExprKind::Conditional { test, then, orelse } => {
                self.eval(test, state);
                self.eval(then, state).union(self.eval(orelse, state))
            }
            ExprKind::Seq(items) => {
                let mut labels = Labels::default();
                for i in items {
                    labels.extend(self.eval(i, state));
                }
                labels
            }
            ExprKind::Map(entries) => {
                let mut labels = Labels::default();
                for (k, v) in entries {
                    if let Some(k) = k {
                        self.eval(k, state);
                    }
                    labels.extend(self.eval(v, state));
                }
                labels
            }
            ExprKind::Spread(e) | ExprKind::Await(e) => self.eval(e, state),
            ExprKind::Function(id) => {
                // A callback sees what its enclosing function sees.
                self.inline_function(*id, Labels::default(), state)
            }
            ExprKind::Unknown(children) => {
                let mut labels = Labels::default();
                for c in children {
                    labels.extend(self.eval(c, state));
                }
                labels
            }
        }
    }

    /// An f-string, template literal, `%` or `+` over strings: the holes' labels, marked as
    /// embedded, with what the literal text around them implies.
    fn build_string(&mut self, parts: &[&Expr], state: &mut State) -> Labels {
        let mut labels = Labels::default();
        // What precedes the holes: `https://api.example.com/`, `/path/` (relative to a
        // client's base URL), or a server-chosen value followed by `/...`.
        let mut prefix = String::new();
        let mut untainted_value_first = false;
        let mut literal_text = String::new();
        let mut host_fixed = false;
        for (i, part) in parts.iter().enumerate() {
            if let Some(s) = part.as_str() {
                literal_text.push_str(s);
                prefix.push_str(s);
                continue;
            }
            let mut hole = self.eval(part, state);
            if hole.is_empty() {
                untainted_value_first |= i == 0;
                // Keep the shape: a value the server chose stands for a scheme and host.
                prefix.push('\u{0}');
                continue;
            }
            host_fixed |= host_is_fixed(&prefix)
                || prefix.starts_with('/')
                || (untainted_value_first && prefix.trim_start_matches('\u{0}').starts_with('/'));
            if host_fixed {
                hole = hole.with_flags(Flags::HOST_FIXED);
            }
            // Pasted after something (`f"{BASE}/{name}"`): an absolute value cannot discard
            // what comes before it, as `os.path.join` would.
            if !prefix.is_empty() {
                hole = hole.with_flags(Flags::ABS_CHECKED);
            }
            prefix.push('\u{1}');
            labels.extend(hole);
        }
        if labels.is_empty() {
            return labels;
        }
        let mut flags = Flags::default();
        if !literal_text.trim().is_empty() {
            flags = flags.with(Flags::EMBEDDED);
        }
        if marks_untrusted(&literal_text) {
            flags = flags.with(Flags::MARKED);
        }
        labels.with_flags(flags)
    }

    /// The value of an environment variable: a source when its name says it is a secret, and
    /// when the name itself is data (`os.environ.get(name)`), whatever that data can name.
    fn env_var(&mut self, key: Option<&Expr>, span: Span, state: &mut State) -> Labels {
        let Some(key) = key else {
            return Labels::default();
        };
        match key.as_str() {
            Some(n) if looks_secret(n) => Labels(vec![Label::new(
                Origin::Source(SourceKind::Environment),
                self.step(span, format!("the environment variable `{n}`")),
            )]),
            Some(_) => Labels::default(),
            None => {
                let step = self.step(span, "names the environment variable read".to_string());
                self.quiet(|a| a.eval(key, state))
                    .with_flags(Flags::ENV_LOOKUP)
                    .step(&step)
            }
        }
    }

    fn call(&mut self, expr: &Expr, callee: &Expr, args: &[Arg], state: &mut State) -> Labels {
        let receiver = match &callee.kind {
            ExprKind::Attr { object, .. } => Some(object.as_ref()),
            _ => None,
        };
        let method = match &callee.kind {
            ExprKind::Attr { name, .. } => Some(name.as_str()),
            _ => None,
        };
        let path = self.canonical(callee, state);
        let recv_labels = match receiver {
            Some(r) => self.eval(r, state),
            None => Labels::default(),
        };
        // Callbacks passed to a call see the call's data (`items.map(x => exec(x))`).
        let flowing = recv_labels.clone();
        let mut arg_labels: Vec<Labels> = Vec::with_capacity(args.len());
        for a in args {
            let l = match &a.value.kind {
                ExprKind::Function(id) => self.inline_function(*id, flowing.clone(), state),
                _ => self.eval(&a.value, state),
            };
            arg_labels.push(l);
        }
        let matches = |c: &Callee| match c {
            Callee::Path(p) => path.as_deref() == Some(*p),
            Callee::Method(m) => method == Some(*m),
        };

        // Environment lookups by name, and sources.
        if matches!(path.as_deref(), Some("os.getenv" | "os.environ.get")) {
            return self.env_var(args.first().map(|a| &a.value), expr.span, state);
        }
        if receiver.is_some()
            && method == Some("get")
            && receiver
                .and_then(Expr::dotted)
                .map(|p| self.resolve_dotted(&p))
                .as_deref()
                == Some("os.environ")
        {
            return self.env_var(args.first().map(|a| &a.value), expr.span, state);
        }

        // Sinks.
        // A relative import's path (`../db.db.prepare`) says less than the code's own name.
        let call_text = path
            .clone()
            .filter(|p| !p.starts_with('.'))
            .or_else(|| path.as_ref().and_then(|_| callee.dotted()))
            .unwrap_or_else(|| method.map(|m| format!(".{m}")).unwrap_or_default());
        for sink in self.catalog.sinks.iter().filter(|s| matches(&s.callee)) {
            if !self.condition_holds(sink.when, expr)
                || self.is_safe_variant(sink.kind, receiver, args, state)
            {
                continue;
            }
            if sink.kind == SinkKind::ArgInjection {
                if expr.keyword("shell").is_some_and(Expr::is_true) {
                    continue;
                }
                let argv_items: Option<Vec<Expr>> = match sink.arg {
                    ArgSel::At(i, kw) => args
                        .iter()
                        .find(|a| a.name.as_deref() == Some(kw))
                        .or_else(|| args.iter().filter(|a| a.name.is_none()).nth(i))
                        .and_then(|a| match &a.value.kind {
                            ExprKind::Seq(items) => Some(items.clone()),
                            _ => None,
                        }),
                    ArgSel::Argv(p, l) => program_and_list(args, p, l),
                    _ => None,
                };
                if let Some(script) = argv_items
                    .as_deref()
                    .and_then(|items| self.shell_in_argv(items))
                {
                    let labels = self.quiet(|a| a.eval(script, state));
                    self.record_sink(SinkKind::Shell, expr.span, &call_text, labels, When::Always);
                    continue;
                }
                let injectable = self.quiet(|a| a.argv_labels(sink.arg, args, state));
                self.record_sink(
                    SinkKind::ArgInjection,
                    expr.span,
                    &call_text,
                    injectable,
                    sink.when,
                );
                continue;
            }
            let labels = match sink.arg {
                ArgSel::Receiver => recv_labels.clone(),
                ArgSel::Any => arg_labels
                    .iter()
                    .cloned()
                    .fold(Labels::default(), Labels::union),
                ArgSel::At(i, kw) => select_arg(args, &arg_labels, i, kw),
                ArgSel::Argv(p, l) => {
                    select_arg(args, &arg_labels, p, "").union(select_arg(args, &arg_labels, l, ""))
                }
            };
            self.record_sink_in(
                sink.kind, expr.span, &call_text, labels, sink.when, sink.fixed,
            );
        }

        // Command objects: `repo.git.show(rev)` runs `git show rev`; its positional arguments
        // are an argument vector after the subcommand.
        if let ExprKind::Attr {
            object, name: sub, ..
        } = &callee.kind
            && let Some(program) = self.command_object(object, state)
            && self.has_options(Some(program))
        {
            let mut argv = Argv {
                program: Some(program.to_string()),
                subcommand: Some(sub.clone()),
                past_subcommand: true,
                ..Argv::default()
            };
            for (a, labels) in args.iter().zip(&arg_labels) {
                if a.name.is_none() {
                    self.argv_push(&mut argv, &a.value, Some(labels.clone()), state);
                }
            }
            self.record_sink(
                SinkKind::ArgInjection,
                expr.span,
                &format!("{program} {sub}"),
                argv.injectable,
                When::Always,
            );
        }

        // Unbounded reads: a whole file read into memory, from a model-chosen path. A read on
        // the receiver counts only on what was opened as a file when the catalog says so
        // (`read()` is also a method of pipes and sockets).
        for w in self
            .catalog
            .whole_reads
            .iter()
            .filter(|w| matches(&w.callee))
        {
            if let Some(i) = w.size_arg {
                let positional: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
                let unbounded = positional.len() <= i
                    || !positional[i].value.span.is_empty()
                        && self.text(positional[i].value.span).trim() == "-1";
                if !unbounded {
                    continue;
                }
            }
            let (named, on_receiver) = match w.arg {
                ArgSel::Receiver => (recv_labels.clone(), true),
                ArgSel::At(i, kw) => (select_arg(args, &arg_labels, i, kw), false),
                ArgSel::Any | ArgSel::Argv(..) => continue,
            };
            let needs_file = on_receiver && w.file_only;
            let labels: Labels = Labels(
                named
                    .iter()
                    // Any file path, contained or not: the hazard is the size. An
                    // allowlisted value names a file the server chose; a pipe or a socket is
                    // not a file.
                    .filter(|l| {
                        !l.flags.has(Flags::SIZE_CHECKED)
                            && !l.cleaned.is_all()
                            && (!needs_file || l.flags.has(Flags::FILE))
                    })
                    .cloned()
                    .collect(),
            );
            if !labels.is_empty() && !matches!(labels.0[0].origin, Origin::Source(_)) {
                self.push_hit(Hit {
                    kind: HitKind::UnboundedRead,
                    module: self.module_index,
                    span: expr.span,
                    what: call_text.clone(),
                    labels,
                    fixed: None,
                });
                break;
            }
        }

        // DNS resolution of a host makes a blocklist meaningful.
        if matches!(
            path.as_deref(),
            Some(
                "socket.getaddrinfo"
                    | "socket.gethostbyname"
                    | "socket.gethostbyname_ex"
                    | "dns.lookup"
                    | "dns.promises.lookup"
                    | "dns.resolve"
                    | "dns.resolve4"
                    | "dns.promises.resolve4"
            )
        ) && let Some(root) = args.first().and_then(|a| root_name(&a.value))
        {
            self.flag_var(&root, Flags::DNS_RESOLVED, state);
        }

        // What the call returns.
        let all_args = arg_labels
            .iter()
            .cloned()
            .fold(Labels::default(), Labels::union);
        if let Some(s) = self.catalog.sanitizers.iter().find(|s| matches(&s.callee)) {
            return all_args
                .union(recv_labels)
                .cleaned_for(Cleaned::of(s.cleans));
        }
        if self.catalog.opaque.iter().any(&matches) {
            return Labels::default();
        }
        // `text(f"...")` was reported as SQL; the statement it returns is the same SQL.
        if self.catalog.sinks.iter().any(|s| {
            s.kind == SinkKind::Sql && matches!(s.callee, Callee::Path(_)) && matches(&s.callee)
        }) {
            return all_args.cleaned_for(Cleaned::of(&[SinkKind::Sql]));
        }
        // Opening a file: reads of the result are file reads.
        if self.catalog.file_openers.iter().any(&matches)
            // `note.open()`: strings have no `open`; paths (and archives) do.
            || (method == Some("open") && !recv_labels.is_empty())
        {
            return all_args.union(recv_labels).with_flags(Flags::FILE);
        }
        // Rows of a query: untrusted content, free text unless the query says otherwise.
        let query = self.query_of(method, receiver, args, state);
        if let (Some(m), Some(ExprKind::Name(cursor)), Some(sql)) =
            (method, receiver.map(|r| &r.kind), &query)
            && self.catalog.row_methods.contains(&m)
        {
            state.sql.insert(cursor.clone(), sql.clone());
        }
        let returns_rows = method.is_some_and(|m| self.catalog.row_methods.contains(&m))
            && query.as_deref().is_some_and(shape::reads_rows);
        if let Some(kind) = self
            .catalog
            .sources
            .iter()
            .find(|s| matches(&s.callee))
            .map(|s| s.kind)
            .or(returns_rows.then_some(SourceKind::UntrustedContent))
        {
            let mut label = Label::new(
                Origin::Source(kind),
                self.step(expr.span, format!("`{call_text}`")),
            );
            if query.as_deref().is_some_and(shape::query_is_structured) {
                label.flags = label.flags.with(Flags::STRUCTURED);
            }
            return Labels(vec![label]);
        }
        if let Some(f) = self.catalog.path_fns.iter().find(|f| matches(&f.callee)) {
            let base = all_args.union(recv_labels);
            // A resolved path is absolute: it starts with `/`, never with `-`. (A normalised
            // one need not be: `normpath("-x")` is `-x`.)
            let absolute = Cleaned::of(&[SinkKind::ArgInjection]);
            return match f.op {
                PathOp::Resolve => base.map(|l| Label {
                    flags: l.flags.with(Flags::RESOLVED).without(Flags::NORMALIZED),
                    cleaned: l.cleaned.with(absolute),
                    ..l
                }),
                PathOp::Normalize => base.map(|l| {
                    let flags = if l.flags.has(Flags::RESOLVED) {
                        l.flags
                    } else {
                        l.flags.with(Flags::NORMALIZED)
                    };
                    Label { flags, ..l }
                }),
                // A joined path is no longer resolved: the joined part may climb out.
                PathOp::Join => base.map(|l| Label {
                    flags: l.flags.without(Flags::RESOLVED).without(Flags::NORMALIZED),
                    ..l
                }),
            };
        }
        // Hand-made escaping: a metacharacter replaced, or whatever a loop over a list of them
        // names replaced by nothing (`for bad in ";&|": host = host.replace(bad, "")`).
        let hand_escaped = |a: &[Arg]| match (
            a.first().map(|x| &x.value),
            a.get(1).and_then(|x| x.value.as_str()),
        ) {
            (Some(first), _) if first.as_str().is_some_and(has_shell_meta) => true,
            (Some(first), Some("")) => matches!(first.kind, ExprKind::Name(_)),
            _ => false,
        };
        // `JSON.stringify(x)` as shell quoting: double quotes leave `$(...)` live.
        if path
            .as_deref()
            .is_some_and(|p| self.catalog.foreign_quoting.contains(&p))
            && let Some(first) = arg_labels.first()
        {
            return first.clone().with_flags(Flags::PARTIAL_ESCAPE);
        }
        // `util.inspect(err)` renders a caught error with its stack.
        if path
            .as_deref()
            .is_some_and(|p| self.catalog.error_renderers.contains(&p))
            && args
                .first()
                .is_some_and(|a| self.is_caught(&a.value, state))
        {
            return Labels(vec![Label::new(
                Origin::Source(SourceKind::ErrorDetail),
                self.step(expr.span, format!("`{}`", self.short(expr.span))),
            )]);
        }
        if method == Some("replace") && hand_escaped(args) {
            return recv_labels.with_flags(Flags::PARTIAL_ESCAPE);
        }
        if matches!(method, Some("format"))
            && receiver.is_some_and(|r| r.as_str().is_some_and(|s| !s.trim().is_empty()))
        {
            let parts: Vec<&Expr> = receiver
                .into_iter()
                .chain(args.iter().map(|a| &a.value))
                .collect();
            return self.quiet(|a| a.build_string(&parts, state));
        }
        // Growing a container: `items.append(x)` taints `items`.
        if let (
            Some(
                "append" | "extend" | "insert" | "add" | "update" | "appendleft" | "setdefault"
                | "push" | "unshift",
            ),
            Some(ExprKind::Name(list)),
        ) = (method, receiver.map(|r| &r.kind))
        {
            state
                .vars
                .entry(list.clone())
                .or_default()
                .extend(all_args_of(&arg_labels));
        }
        // Growing an argument vector: `cmd.append(x)`, `cmd.extend([...])`.
        if let (Some("append" | "extend" | "insert" | "push"), Some(ExprKind::Name(list))) =
            (method, receiver.map(|r| &r.kind))
            && let Some(mut argv) = state.argv.remove(list)
        {
            for a in args {
                let items = match &a.value.kind {
                    ExprKind::Seq(items) => items.clone(),
                    _ => vec![a.value.clone()],
                };
                for item in &items {
                    self.argv_push(&mut argv, item, None, state);
                }
            }
            state.argv.insert(list.clone(), argv);
        }
        if matches!(method, Some("join")) && receiver.is_some_and(|r| r.as_str().is_some()) {
            return all_args.with_flags(Flags::EMBEDDED);
        }
        let typed = match (&callee.kind, receiver.and_then(|r| self.class_of(r, state))) {
            (ExprKind::Attr { name, .. }, Some(ty)) => self
                .project
                .method_of_type(&ty, name)
                .map(|(m, f)| (m, f, true)),
            _ => None,
        };
        if let Some((module, function, skip_receiver)) = typed.or_else(|| {
            self.project
                .resolve_call(self.module_index, self.function, callee)
        }) {
            self.calls.push((module, function));
            let site = CallSite {
                expr,
                args,
                arg_labels: &arg_labels,
                recv_labels: &recv_labels,
            };
            return self.apply_summary(&site, (module, function), skip_receiver, state);
        }
        // Unknown: the result carries everything that went in, except credentials handed to
        // a client (`headers=`, `api_key=`, a connection string to `create_pool`) or the
        // environment handed to a child (`env=`): they authenticate or configure the call, they
        // are not its result. Options objects (`{ env: {...process.env}, headers }`) are read
        // the same way, key by key.
        let connects = path
            .as_deref()
            .or(method)
            .and_then(|p| p.rsplit('.').next())
            .is_some_and(|last| {
                self.catalog
                    .connectors
                    .iter()
                    .any(|c| match c.strip_prefix('*') {
                        Some(suffix) => last.ends_with(suffix),
                        None => last == *c,
                    })
            });
        let credential =
            |n: &str| looks_secret(n) || matches!(n, "headers" | "auth" | "cookies" | "env");
        let mut out = recv_labels;
        for (a, l) in args.iter().zip(arg_labels) {
            let named_credential = connects || a.name.as_deref().is_some_and(credential);
            let options_credentials = match &a.value.kind {
                ExprKind::Map(entries)
                    if entries.iter().any(|(k, _)| {
                        k.as_ref().and_then(Expr::as_str).is_some_and(credential)
                    }) =>
                {
                    Some(entries)
                }
                _ => None,
            };
            if let Some(entries) = options_credentials {
                for (k, v) in entries {
                    let is_credential = k.as_ref().and_then(Expr::as_str).is_some_and(credential);
                    for label in self.quiet(|an| an.eval(v, state)).0 {
                        if !(is_credential
                            && label.origin == Origin::Source(SourceKind::Environment))
                        {
                            out.add(label);
                        }
                    }
                }
                continue;
            }
            for label in l.0 {
                if !(named_credential && label.origin == Origin::Source(SourceKind::Environment)) {
                    out.add(label);
                }
            }
        }
        out
    }

    /// Safe variants of catalogued sinks: a sandboxed template environment, `compile` to an
    /// AST only.
    fn is_safe_variant(
        &self,
        kind: SinkKind,
        receiver: Option<&Expr>,
        args: &[Arg],
        state: &State,
    ) -> bool {
        match kind {
            SinkKind::Template => receiver.is_some_and(|r| {
                self.class_of(r, state)
                    .is_some_and(|c| c.contains("Sandboxed"))
                    || self.text(r.span).contains("Sandboxed")
            }),
            SinkKind::CodeEval => args
                .iter()
                .any(|a| self.text(a.value.span).contains("PyCF_ONLY_AST")),
            // The members were chosen by the code (`members=` after checking each one), or
            // `zipfile`, which strips `..` and absolute parts from member names itself.
            SinkKind::Archive => {
                args.iter().any(|a| a.name.as_deref() == Some("members"))
                    || receiver
                        .and_then(|r| self.class_of(r, state))
                        .is_some_and(|c| c == "zipfile.ZipFile")
            }
            _ => false,
        }
    }

    fn condition_holds(&self, when: When, call: &Expr) -> bool {
        match when {
            When::Always | When::Built => true,
            When::KeywordTrue(k) => call.keyword(k).is_some_and(Expr::is_true),
            When::KeywordNotTrue(k) => !call.keyword(k).is_some_and(Expr::is_true),
            When::KeywordNotSafe(k, safe) => {
                let is_safe = |v: &Expr| {
                    let text = v.as_str().map(str::to_string).or_else(|| v.dotted());
                    text.is_some_and(|t| {
                        safe.iter()
                            .any(|s| *s == t || t.ends_with(&format!(".{s}")))
                    })
                };
                match call.keyword(k) {
                    Some(v) => !is_safe(v),
                    // Passed by position (`yaml.load(text, yaml.SafeLoader)`).
                    None => match &call.kind {
                        ExprKind::Call { args, .. } => !args
                            .iter()
                            .filter(|a| a.name.is_none())
                            .skip(1)
                            .any(|a| is_safe(&a.value)),
                        _ => true,
                    },
                }
            }
        }
    }

    fn record_sink(&mut self, kind: SinkKind, span: Span, what: &str, labels: Labels, when: When) {
        self.record_sink_in(kind, span, what, labels, when, None);
    }

    /// `record_sink` for a sink that is one only in some releases of its library.
    fn record_sink_in(
        &mut self,
        kind: SinkKind,
        span: Span,
        what: &str,
        labels: Labels,
        when: When,
        fixed: Option<&'static crate::code::catalog::Fixed>,
    ) {
        let reach = self.step(span, format!("reaches `{what}`"));
        for l in labels.0 {
            if matches!(when, When::Built) && !l.flags.has(Flags::EMBEDDED) {
                continue;
            }
            if let Some(hit) = classify(kind, l, &reach, what) {
                let fixed = if matches!(hit.kind, HitKind::Sink(_)) {
                    fixed
                } else {
                    None
                };
                self.push_hit(Hit { fixed, ..hit });
            }
        }
    }

    /// The labels of argument-vector elements that may start with `-`, or of a string split
    /// into an argument vector.
    fn argv_labels(&mut self, sel: ArgSel, args: &[Arg], state: &mut State) -> Labels {
        let items: Vec<Expr> = match sel {
            ArgSel::Any => args
                .iter()
                .filter(|a| a.name.is_none())
                .map(|a| a.value.clone())
                .collect(),
            ArgSel::At(i, kw) => {
                let Some(arg) = args
                    .iter()
                    .find(|a| a.name.as_deref() == Some(kw))
                    .or_else(|| args.iter().filter(|a| a.name.is_none()).nth(i))
                else {
                    return Labels::default();
                };
                match &arg.value.kind {
                    ExprKind::Seq(items) => items.clone(),
                    ExprKind::Name(n) => {
                        return match state.argv.get(n) {
                            Some(argv) if self.has_options(argv.program.as_deref()) => {
                                argv.injectable.clone()
                            }
                            _ => Labels::default(),
                        };
                    }
                    // `cmd.split()`, `shlex.split(cmd)`: a model-chosen string becomes the
                    // whole argument vector, program included.
                    ExprKind::Call { .. } => {
                        return match self.split_source(&arg.value, state) {
                            Some(s) => self.eval(s, state),
                            None => Labels::default(),
                        };
                    }
                    _ => return Labels::default(),
                }
            }
            ArgSel::Argv(p, l) => match program_and_list(args, p, l) {
                Some(items) => items,
                None => {
                    // `spawn("git", argv)` with `argv` built before: its elements, judged
                    // with the program named here.
                    let positional: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
                    let program = positional.get(p).and_then(|a| self.constant_text(&a.value));
                    return match positional.get(l).map(|a| &a.value.kind) {
                        Some(ExprKind::Name(n)) => match state.argv.get(n) {
                            Some(argv) if self.has_options(program.as_deref()) => {
                                argv.injectable.clone()
                            }
                            _ => Labels::default(),
                        },
                        Some(ExprKind::Call { .. }) => match positional
                            .get(l)
                            .and_then(|a| self.split_source(&a.value, state))
                        {
                            Some(s) if self.has_options(program.as_deref()) => self.eval(s, state),
                            _ => Labels::default(),
                        },
                        _ => Labels::default(),
                    };
                }
            },
            ArgSel::Receiver => return Labels::default(),
        };
        let argv = self.argv_of(&items, state);
        if self.has_options(argv.program.as_deref()) {
            argv.injectable
        } else {
            Labels::default()
        }
    }

    /// The string an argument vector is split from: `cmd.split()` or `shlex.split(cmd)`.
    fn split_source<'e>(&self, e: &'e Expr, state: &State) -> Option<&'e Expr> {
        let ExprKind::Call { callee, args, .. } = &e.kind else {
            return None;
        };
        if self.canonical(callee, state).as_deref() == Some("shlex.split") {
            return args.first().map(|a| &a.value);
        }
        match &callee.kind {
            ExprKind::Attr { name, object, .. } if name == "split" => Some(object),
            _ => None,
        }
    }

    /// `["bash", "-c", command]`: the command string a shell in an argument vector runs.
    fn shell_in_argv<'e>(&self, items: &'e [Expr]) -> Option<&'e Expr> {
        let program = crate::model::program_name(items.first()?.as_str()?);
        if !matches!(
            program,
            "sh" | "bash" | "zsh" | "dash" | "ksh" | "fish" | "pwsh" | "powershell" | "cmd"
        ) {
            return None;
        }
        let at = items.iter().position(|e| {
            matches!(
                e.as_str(),
                Some("-c" | "-lc" | "-ic" | "/c" | "/C" | "-Command" | "-command")
            )
        })?;
        items.get(at + 1)
    }

    fn has_options(&self, program: Option<&str>) -> bool {
        if program == Some(SPLIT_PROGRAM) {
            return true;
        }
        program.is_some_and(|p| {
            let p = crate::model::program_name(p);
            self.catalog.option_programs.contains(&p)
        })
    }

    fn argv_of(&mut self, items: &[Expr], state: &mut State) -> Argv {
        let mut argv = Argv {
            // A literal, or a module constant naming the program (`RG = shutil.which("rg")`).
            program: items.first().and_then(|e| self.constant_text(e)),
            ..Argv::default()
        };
        for item in items.iter().skip(1) {
            let labels = self.eval(item, state);
            if let ExprKind::Spread(inner) = &item.kind
                && self.is_own_rest(inner)
                && self.has_options(argv.program.as_deref())
            {
                self.out.argv_rest.clone_from(&argv.program);
            }
            self.argv_push(&mut argv, item, Some(labels), state);
        }
        argv
    }

    /// Adds one element to an argument vector: it can inject an option unless options ended,
    /// it starts with fixed text, or it is the value of the option before it.
    /// Returns whether it can. `labels` are the element's when the caller has evaluated it
    /// already; otherwise it is evaluated (quietly) only if it can inject.
    fn argv_push(
        &mut self,
        argv: &mut Argv,
        item: &Expr,
        labels: Option<Labels>,
        state: &mut State,
    ) -> bool {
        let text = self.constant_text(item);
        if matches!(text.as_deref(), Some("--" | "--end-of-options")) {
            argv.ended_options = true;
        }
        let is_value = argv.expects_value;
        let injects = !argv.ended_options && !is_value && !starts_with_fixed_text(item);
        if injects {
            let labels = labels.unwrap_or_else(|| self.quiet(|an| an.eval(item, state)));
            argv.injectable.extend(labels);
        }
        if !is_value
            && !argv.past_subcommand
            && !text.as_deref().is_some_and(|t| t.starts_with('-'))
        {
            argv.past_subcommand = true;
            argv.subcommand = text.clone();
        }
        argv.expects_value =
            !is_value && text.as_deref().is_some_and(|t| self.takes_value(argv, t));
        injects
    }

    /// The SQL a row-reading call runs or reads the rows of: its own first argument
    /// (`conn.execute(sql)`, `pool.fetch(sql)`), the call it is chained on
    /// (`conn.execute(sql).fetchall()`), or what last ran on its cursor (`cur.fetchall()`).
    fn query_of(
        &self,
        method: Option<&str>,
        receiver: Option<&Expr>,
        args: &[Arg],
        state: &State,
    ) -> Option<String> {
        let method = method?;
        if !self.catalog.row_methods.contains(&method) {
            return None;
        }
        if let Some(sql) = args
            .first()
            .filter(|a| a.name.is_none())
            .and_then(|a| self.sql_text(&a.value, state))
        {
            return Some(sql);
        }
        match receiver.map(|r| &r.kind) {
            Some(ExprKind::Call { callee, args, .. }) => {
                let inner = match &callee.kind {
                    ExprKind::Attr { name, object, .. } => Some((name.as_str(), object.as_ref())),
                    _ => None,
                };
                self.query_of(inner.map(|i| i.0), inner.map(|i| i.1), args, state)
            }
            Some(ExprKind::Name(cursor)) => state.sql.get(cursor).cloned(),
            _ => None,
        }
    }

    /// The text of a SQL statement as written, holes as `?`: a literal, an f-string, a
    /// concatenation, a variable holding one, or SQLAlchemy's `text(...)` of one. `None` when
    /// it does not read as SQL.
    fn sql_text(&self, e: &Expr, state: &State) -> Option<String> {
        fn build(a: &Analyzer<'_>, e: &Expr, state: &State, out: &mut String) {
            match &e.kind {
                ExprKind::Str(s) => out.push_str(s),
                ExprKind::Template(parts) => parts.iter().for_each(|p| build(a, p, state, out)),
                ExprKind::Binary {
                    op: BinOp::Add,
                    left,
                    right,
                } => {
                    build(a, left, state, out);
                    build(a, right, state, out);
                }
                ExprKind::Name(n) => match state.sql.get(n) {
                    Some(sql) => out.push_str(sql),
                    None => out.push_str(a.constant_text(e).as_deref().unwrap_or("?")),
                },
                _ => out.push('?'),
            }
        }
        let e = match &e.kind {
            ExprKind::Call { callee, args, .. }
                if callee
                    .dotted()
                    .is_some_and(|d| d == "text" || d.ends_with(".text"))
                    && args.len() == 1 =>
            {
                &args[0].value
            }
            _ => e,
        };
        if !matches!(
            e.kind,
            ExprKind::Str(_) | ExprKind::Template(_) | ExprKind::Binary { .. } | ExprKind::Name(_)
        ) {
            return None;
        }
        let mut out = String::new();
        build(self, e, state, &mut out);
        shape::is_sql(&out).then_some(out)
    }

    /// Whether `flag` takes the next element as its value, as an option of the program itself
    /// (`git -C`) or of its subcommand (`git commit -m`).
    fn takes_value(&self, argv: &Argv, flag: &str) -> bool {
        let Some(program) = argv.program.as_deref().map(crate::model::program_name) else {
            return false;
        };
        let with_subcommand = argv
            .subcommand
            .as_deref()
            .map(|sub| format!("{program} {sub}"));
        self.catalog.option_values.iter().any(|(key, flags)| {
            (*key == program || Some(*key) == with_subcommand.as_deref()) && flags.contains(&flag)
        })
    }

    /// `args` when it names this function's `*args` parameter.
    fn is_own_rest(&self, e: &Expr) -> bool {
        let ExprKind::Name(n) = &e.kind else {
            return false;
        };
        self.function
            .params
            .iter()
            .any(|p| p.kind == ParamKind::Rest && p.name() == Some(n.as_str()))
    }

    /// Arguments a call passes into a helper's `*args` that the helper splices into an
    /// argument vector of `program`, judged where they are written: after `--`, with fixed
    /// text in front, or as an option's value they cannot inject an option.
    fn clean_spliced_args(
        &mut self,
        program: &str,
        callee: &Function,
        args: &[Arg],
        arg_labels: &[Labels],
        state: &mut State,
    ) -> Vec<Labels> {
        let fixed_params = callee
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::Normal)
            .count();
        let mut argv = Argv {
            program: Some(program.to_string()),
            ..Argv::default()
        };
        let mut out = arg_labels.to_vec();
        let mut positional = 0;
        for (a, labels) in args.iter().zip(out.iter_mut()) {
            if a.name.is_some() {
                continue;
            }
            if a.spread {
                // A forwarded `*args`: judged where it was written, by the caller's callers.
                if self.is_own_rest(&a.value) {
                    self.out.argv_rest = Some(program.to_string());
                }
                argv.expects_value = false;
                continue;
            }
            positional += 1;
            if positional <= fixed_params {
                continue;
            }
            if !self.argv_push(&mut argv, &a.value, Some(labels.clone()), state) {
                *labels =
                    std::mem::take(labels).cleaned_for(Cleaned::of(&[SinkKind::ArgInjection]));
            }
        }
        out
    }

    fn apply_summary(
        &mut self,
        site: &CallSite<'_>,
        (module, function): (usize, FunctionId),
        skip_receiver: bool,
        state: &mut State,
    ) -> Labels {
        let Some(summary) = self.summaries.get(&(module, function)) else {
            return site
                .arg_labels
                .iter()
                .cloned()
                .fold(site.recv_labels.clone(), Labels::union);
        };
        let callee = &self.project.modules[module].functions[function];
        let spliced;
        let arg_labels = match &summary.argv_rest {
            Some(program) => {
                spliced =
                    self.clean_spliced_args(program, callee, site.args, site.arg_labels, state);
                spliced.as_slice()
            }
            None => site.arg_labels,
        };
        let param_labels = map_args(
            callee,
            skip_receiver,
            site.args,
            arg_labels,
            site.recv_labels,
        );
        let call_step = self.step(site.expr.span, format!("passed to `{}`", callee.qualname));
        let instantiate = |summary_labels: &Labels| -> Labels {
            let mut out = Labels::default();
            for sl in summary_labels.iter() {
                match sl.origin {
                    Origin::Param(i) => {
                        for al in param_labels.get(i).map(|l| l.0.as_slice()).unwrap_or(&[]) {
                            let mut trace = (*al.trace).clone();
                            trace.push(call_step.clone());
                            trace.extend(sl.trace.iter().skip(1).cloned());
                            out.add(Label {
                                origin: al.origin,
                                cleaned: al.cleaned.with(sl.cleaned),
                                flags: al.flags.with(sl.flags),
                                trace: std::sync::Arc::new(trace),
                                check: sl.check.clone().or_else(|| al.check.clone()),
                            });
                        }
                    }
                    Origin::Source(_) => out.add(sl.clone()),
                }
            }
            out
        };
        for hit in &summary.hits {
            let params_only = Labels(
                hit.labels
                    .iter()
                    .filter(|l| matches!(l.origin, Origin::Param(_)))
                    .cloned()
                    .collect(),
            );
            let labels = instantiate(&params_only);
            if let HitKind::Sink(kind) = hit.kind {
                // Judged again with the caller's checks: a `..` test in the tool makes the
                // helper's plain path sink a weak-check finding.
                for l in labels.0 {
                    let mut trace = (*l.trace).clone();
                    let Some(reach) = trace.pop() else { continue };
                    let l = Label {
                        trace: std::sync::Arc::new(trace),
                        ..l
                    };
                    if let Some(hit) = classify(kind, l, &reach, &hit.what) {
                        self.push_hit(hit);
                    }
                }
                continue;
            }
            let labels = Labels(
                labels
                    .0
                    .into_iter()
                    .filter(|l| hit_still_applies(hit.kind, l))
                    .collect(),
            );
            if !labels.is_empty() {
                self.push_hit(Hit {
                    labels,
                    ..hit.clone()
                });
            }
        }
        if let Some(exits) = &summary.param_exits {
            self.apply_param_exits(exits, callee, site.args, state);
        }
        instantiate(&summary.returns)
    }

    /// Records what this normal return proves about the parameters, keeping only what every
    /// return proves.
    fn note_exit(&mut self, state: &State) {
        if self.inlining > 0 {
            return;
        }
        let function = self.function;
        let reassigned = self.reassigned.get_or_insert_with(|| {
            function
                .params
                .iter()
                .map(|p| p.name().is_some_and(|n| reassigns(&function.body, n)))
                .collect()
        });
        let exits: Vec<Option<ParamExit>> = function
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let name = p.name()?;
                if reassigned[i] {
                    return None;
                }
                let own: Vec<&Label> = state
                    .vars
                    .get(name)?
                    .iter()
                    .filter(|l| l.origin == Origin::Param(i))
                    .collect();
                let first = own.first()?;
                Some(ParamExit {
                    cleaned: own
                        .iter()
                        .fold(Cleaned::ALL, |acc, l| Cleaned(acc.0 & l.cleaned.0)),
                    flags: own
                        .iter()
                        .fold(CHECK_FLAGS, |acc, l| Flags(acc.0 & l.flags.0)),
                    check: first.check.clone(),
                })
            })
            .collect();
        self.out.param_exits = Some(match self.out.param_exits.take() {
            None => exits,
            Some(before) => before
                .into_iter()
                .zip(exits)
                .map(|(a, b)| match (a, b) {
                    (Some(a), Some(b)) => Some(ParamExit {
                        cleaned: Cleaned(a.cleaned.0 & b.cleaned.0),
                        flags: Flags(a.flags.0 & b.flags.0),
                        check: a.check.or(b.check),
                    }),
                    _ => None,
                })
                .collect(),
        });
    }

    /// Applies a callee's parameter postconditions to the caller's variables passed whole
    /// (`validate(path)` then `open(path)`).
    fn apply_param_exits(
        &self,
        exits: &[Option<ParamExit>],
        callee: &Function,
        args: &[Arg],
        state: &mut State,
    ) {
        let mut positional = callee
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == ParamKind::Normal)
            .map(|(i, _)| i);
        for a in args {
            if a.spread {
                break;
            }
            let param = match &a.name {
                Some(name) => callee.params.iter().position(|p| p.name() == Some(name)),
                None => positional.next(),
            };
            let (Some(i), ExprKind::Name(var)) = (param, &a.value.kind) else {
                continue;
            };
            let Some(Some(exit)) = exits.get(i) else {
                continue;
            };
            if exit.cleaned == Cleaned::NONE && exit.flags == Flags::default() {
                continue;
            }
            if let Some(labels) = state.vars.get_mut(var) {
                *labels = std::mem::take(labels).map(|l| Label {
                    cleaned: l.cleaned.with(exit.cleaned),
                    flags: l.flags.with(exit.flags),
                    check: l.check.or_else(|| exit.check.clone()),
                    ..l
                });
            }
        }
    }

    /// Analyses a lambda or callback in place, its parameters bound to `flowing`.
    fn inline_function(&mut self, id: FunctionId, flowing: Labels, state: &mut State) -> Labels {
        let module: &'a Module = self.module;
        let Some(f) = module.functions.get(id) else {
            return Labels::default();
        };
        if self.depth > MAX_DEPTH / 2 {
            return Labels::default();
        }
        let mut inner = state.clone();
        for p in &f.params {
            self.bind(&p.pattern, flowing.clone(), &mut inner);
        }
        let saved_returns = std::mem::take(&mut self.out.returns);
        let saved_sites = std::mem::take(&mut self.out.return_sites);
        let body = &f.body;
        self.depth += 1;
        self.inlining += 1;
        self.block(body, &mut inner);
        self.inlining -= 1;
        self.depth -= 1;
        let returned = std::mem::replace(&mut self.out.returns, saved_returns);
        self.out.return_sites = saved_sites;
        returned
    }

    /// The one variable a value is computed from by calls that keep it the same path
    /// (`path.resolve(p)`, `normalizePath(await fs.realpath(p))`, `p.trim()`, a project
    /// helper of `p` alone, `isAbs ? path.resolve(p) : helper(p)`, `path.resolve(base, p)`), so
    /// that a containment check on the value holds for the variable. `path.join(base, p)` and
    /// `dirname(p)` do not.
    fn single_source(&self, e: &Expr, depth: usize) -> Option<String> {
        if depth > 16 {
            return None;
        }
        match &e.kind {
            ExprKind::Name(n) => Some(n.clone()),
            ExprKind::Await(inner) => self.single_source(inner, depth + 1),
            ExprKind::Conditional { then, orelse, .. } => {
                let a = self.single_source(then, depth + 1)?;
                (self.single_source(orelse, depth + 1)? == a).then_some(a)
            }
            ExprKind::Call { callee, args, .. } => {
                let non_literal: Vec<&Arg> = args
                    .iter()
                    .filter(|a| {
                        !matches!(
                            a.value.kind,
                            ExprKind::Str(_)
                                | ExprKind::Num(_)
                                | ExprKind::Bool(_)
                                | ExprKind::Null
                        )
                    })
                    .collect();
                let path = callee.dotted().map(|d| self.resolve_dotted(&d));
                let keeps_path = |a: &Self| {
                    let path = path.as_deref();
                    a.catalog.path_fns.iter().any(|f| {
                        f.op != PathOp::Join
                            && matches!(f.callee, Callee::Path(p) if Some(p) == path)
                    }) || matches!(
                        path,
                        Some("str" | "String" | "Path" | "pathlib.Path" | "os.fspath")
                    ) || a
                        .project
                        .resolve_call(a.module_index, a.function, callee)
                        .is_some()
                };
                // `path.resolve(base, p)`: the result is `p` when `p` is absolute and `p`
                // under `base` otherwise, so containment of the result holds for `p` (the
                // bases keep their own labels). Joins are not: `path.join(base, "/etc")` is
                // under `base`, `/etc` is not.
                let resolves_last = |a: &Self| {
                    let path = path.as_deref();
                    a.catalog.path_fns.iter().any(|f| {
                        f.op != PathOp::Join
                            && matches!(f.callee, Callee::Path(p) if Some(p) == path)
                    })
                };
                match (&callee.kind, non_literal.as_slice()) {
                    // A function of one value.
                    (_, [one]) if !one.spread && keeps_path(self) => {
                        self.single_source(&one.value, depth + 1)
                    }
                    (_, [.., last])
                        if non_literal.iter().all(|a| !a.spread && a.name.is_none())
                            && resolves_last(self) =>
                    {
                        self.single_source(&last.value, depth + 1)
                    }
                    // A method of the value with nothing else in it (`p.trim()`,
                    // `Path(p).resolve()`).
                    (ExprKind::Attr { object, .. }, []) => self.single_source(object, depth + 1),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `path.dirname(p)`, `os.path.dirname(p)`, `p.parent`: the variable whose folder this is.
    fn dirname_of(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Await(inner) => self.dirname_of(inner),
            ExprKind::Attr { object, name, .. } if name == "parent" => {
                self.single_source(object, 0)
            }
            ExprKind::Call { callee, args, .. } => {
                let path = self.resolve_dotted(&callee.dotted()?);
                if !matches!(
                    path.as_str(),
                    "path.dirname" | "path.posix.dirname" | "os.path.dirname"
                ) {
                    return None;
                }
                self.single_source(&args.first()?.value, 0)
            }
            _ => None,
        }
    }

    /// The variables a block resolves (`realpath(p)`, `Path(p).resolve(strict=True)`), first
    /// arguments of the catalog's resolving path functions.
    fn resolved_in(&self, body: &[Stmt]) -> Vec<String> {
        let mut out = Vec::new();
        for stmt in body {
            crate::code::ir::walk_stmt(stmt, &mut |e| {
                if let ExprKind::Call { callee, args, .. } = &e.kind {
                    let path = callee.dotted().map(|d| self.resolve_dotted(&d));
                    let resolves = self.catalog.path_fns.iter().any(|f| {
                        f.op == PathOp::Resolve
                            && matches!(f.callee, Callee::Path(p) if Some(p) == path.as_deref())
                    });
                    if resolves
                        && let Some(v) = args.first().and_then(|a| self.single_source(&a.value, 0))
                    {
                        out.push(v);
                    }
                }
            });
        }
        out
    }

    // ---- names ----

    /// The canonical path of a callee after resolving imports and known instance classes.
    fn canonical(&self, callee: &Expr, state: &State) -> Option<String> {
        match &callee.kind {
            ExprKind::Name(n) => Some(self.resolve_dotted(n)),
            ExprKind::Attr { object, name, .. } => {
                if let ExprKind::Name(r) = &object.kind
                    && let Some(class) = state.types.get(r)
                {
                    return Some(format!("{class}.{name}"));
                }
                if let Some(class) = self.class_of(object, state) {
                    return Some(format!("{class}.{name}"));
                }
                let base = object.dotted()?;
                Some(format!("{}.{name}", self.resolve_dotted(&base)))
            }
            _ => None,
        }
    }

    /// The text an expression always has, when the module fixes it: a literal, a module
    /// constant, or these joined (`BASE + "/"`, `os.path.join(BASE, "")`).
    fn constant_text(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Str(s) => Some(s.clone()),
            ExprKind::Name(n) => self
                .project
                .constant(self.module_index, n)
                .map(str::to_string),
            ExprKind::Binary {
                op: BinOp::Add,
                left,
                right,
            } => Some(self.constant_text(left)? + &self.constant_text(right)?),
            ExprKind::Template(parts) => parts.iter().map(|p| self.constant_text(p)).collect(),
            ExprKind::Call { callee, args, .. } => {
                let path = self.resolve_dotted(&callee.dotted()?);
                match path.as_str() {
                    "os.path.join" if args.last().and_then(|a| a.value.as_str()) == Some("") => {
                        let base = self.constant_text(&args.first()?.value)?;
                        Some(format!("{}/", base.trim_end_matches('/')))
                    }
                    // These drop a trailing separator.
                    "os.path.realpath" | "os.path.abspath" | "os.path.normpath" | "str" => {
                        let inner = self.constant_text(&args.first()?.value)?;
                        Some(if path == "str" {
                            inner
                        } else {
                            inner.trim_end_matches('/').to_string()
                        })
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `sp.run` with `import subprocess as sp` is `subprocess.run`.
    fn resolve_dotted(&self, dotted: &str) -> String {
        self.module.resolve_dotted(dotted)
    }

    /// The catalogued class an expression is an instance of: a constructor call, or a name
    /// already known to hold one.
    /// The program an object runs commands of: GitPython's `repo.git` runs `git`.
    fn command_object(&self, e: &Expr, state: &State) -> Option<&'static str> {
        let (owner, attribute) = match &e.kind {
            ExprKind::Attr { object, name, .. } => (object.as_ref(), name.as_str()),
            _ => (e, ""),
        };
        let class = self.class_of(owner, state)?;
        self.catalog
            .command_objects
            .iter()
            .find(|(c, a, _)| *c == class && *a == attribute)
            .map(|(_, _, program)| *program)
    }

    fn class_of(&self, e: &Expr, state: &State) -> Option<String> {
        match &e.kind {
            ExprKind::Call { callee, .. } => {
                let path = self.canonical(callee, state)?;
                self.catalog
                    .classes
                    .iter()
                    .find(|c| **c == path)
                    .map(|c| c.to_string())
                    .or_else(|| self.project.project_class(self.module_index, callee))
            }
            ExprKind::Name(n) => state.types.get(n).cloned().or_else(|| {
                (!state.vars.contains_key(n))
                    .then(|| self.project.global_type(self.module_index, n).cloned())
                    .flatten()
            }),
            ExprKind::Attr { object, name, .. } if matches!(&object.kind, ExprKind::Name(s) if super::project::is_receiver(s)) =>
            {
                let class = self
                    .function
                    .class
                    .and_then(|c| self.module.classes.get(c))?;
                self.project
                    .field_type(self.module_index, &class.name, name)
                    .cloned()
            }
            ExprKind::Await(inner) => self.class_of(inner, state),
            _ => None,
        }
    }

    /// Whether an expression names the error a `catch`/`except` clause bound.
    fn is_caught(&self, e: &Expr, state: &State) -> bool {
        matches!(&e.kind, ExprKind::Name(n) if state.types.get(n).is_some_and(|t| t == CAUGHT))
    }

    fn source_name(&self, path: &str) -> Option<SourceKind> {
        self.catalog
            .source_names
            .iter()
            .find(|(n, _)| *n == path)
            .map(|(_, k)| *k)
    }
}

/// What a tainted value reaching a sink is: the plain hazard, or, when it passed a weak check,
/// the weak check (reported where the check is, with the sink as the last step). `None` when
/// it does not reach the sink at all.
fn classify(kind: SinkKind, l: Label, reach: &Step, what: &str) -> Option<Hit> {
    if !l.reaches(kind) || (kind == SinkKind::Ssrf && l.flags.has(Flags::HOST_FIXED)) {
        return None;
    }
    let f = l.flags;
    let broken = match kind {
        SinkKind::Path if f.has(Flags::WEAK_CONTAINED) => Some(Broken::SymlinkEscape),
        SinkKind::Path if f.has(Flags::DOTDOT_CHECKED) && f.has(Flags::ABS_CHECKED) => return None,
        SinkKind::Path if f.has(Flags::DOTDOT_CHECKED) => Some(Broken::DotDotOnly),
        SinkKind::Shell if f.has(Flags::PREFIX_CHECKED) => Some(Broken::ShellPrefixAllowlist),
        SinkKind::Shell if f.has(Flags::PARTIAL_ESCAPE) => Some(Broken::PartialShellEscape),
        SinkKind::Ssrf if f.has(Flags::BLOCKLISTED) && f.has(Flags::DNS_RESOLVED) => return None,
        SinkKind::Ssrf if f.has(Flags::BLOCKLISTED) => Some(Broken::BlocklistWithoutDns),
        _ => None,
    };
    match (broken, l.check.clone()) {
        (Some(b), Some(check)) => {
            let mut trace = (*l.trace).clone();
            trace.push(check.clone());
            trace.push(reach.clone());
            let label = Label {
                trace: std::sync::Arc::new(trace),
                ..l
            };
            Some(Hit {
                kind: HitKind::Broken(b),
                module: check.module,
                span: check.span,
                what: what.to_string(),
                labels: Labels(vec![label]),
                fixed: None,
            })
        }
        (Some(b), None) => Some(Hit {
            kind: HitKind::Broken(b),
            module: reach.module,
            span: reach.span,
            what: what.to_string(),
            labels: Labels(vec![l.step(reach.clone())]),
            fixed: None,
        }),
        (None, _) => Some(Hit {
            kind: HitKind::Sink(kind),
            module: reach.module,
            span: reach.span,
            what: what.to_string(),
            labels: Labels(vec![l.step(reach.clone())]),
            fixed: None,
        }),
    }
}

/// Types whose values carry no text a payload could hide in: numbers, booleans, dates,
/// `Literal[...]`, and those made optional or annotated.
fn is_closed_type(annotation: &Expr) -> bool {
    match &annotation.kind {
        ExprKind::Name(n) => matches!(
            n.as_str(),
            "int" | "float" | "bool" | "datetime" | "date" | "UUID" | "Decimal"
        ),
        ExprKind::Attr { name, .. } => {
            matches!(name.as_str(), "datetime" | "date" | "UUID" | "Decimal")
        }
        ExprKind::Subscript { object, index } => match object
            .dotted()
            .as_deref()
            .map(|d| d.rsplit('.').next().unwrap_or(d))
        {
            Some("Literal") => true,
            Some("Optional") => is_closed_type(index),
            // `Annotated[int, Field(ge=1)]`: the first element is the type.
            Some("Annotated") => match &index.kind {
                ExprKind::Seq(items) => items.first().is_some_and(is_closed_type),
                _ => is_closed_type(index),
            },
            _ => false,
        },
        // `int | None`
        ExprKind::Binary { left, right, .. } => {
            (is_closed_type(left) || matches!(left.kind, ExprKind::Null))
                && (is_closed_type(right) || matches!(right.kind, ExprKind::Null))
        }
        ExprKind::Null => false,
        _ => false,
    }
}

fn all_args_of(labels: &[Labels]) -> Labels {
    labels
        .iter()
        .cloned()
        .fold(Labels::default(), Labels::union)
}

/// Labels of the parameter each argument binds, by position and keyword.
fn map_args(
    callee: &Function,
    skip_receiver: bool,
    args: &[Arg],
    arg_labels: &[Labels],
    recv: &Labels,
) -> Vec<Labels> {
    let mut out = vec![Labels::default(); callee.params.len()];
    let params: Vec<usize> = (0..callee.params.len())
        .filter(|&i| !(skip_receiver && callee.params[i].kind == ParamKind::Receiver))
        .collect();
    if !skip_receiver
        && let Some(i) = callee
            .params
            .iter()
            .position(|p| p.kind == ParamKind::Receiver)
    {
        out[i] = recv.clone();
    }
    let mut positional = params
        .iter()
        .copied()
        .filter(|&i| callee.params[i].kind == ParamKind::Normal);
    let rest = callee.params.iter().position(|p| p.kind == ParamKind::Rest);
    let kwrest = callee
        .params
        .iter()
        .position(|p| p.kind == ParamKind::KeywordRest);
    for (a, labels) in args.iter().zip(arg_labels) {
        let target = match (&a.name, a.spread) {
            (Some(name), _) => callee
                .params
                .iter()
                .position(|p| p.name() == Some(name.as_str()))
                .or(kwrest),
            (None, true) => {
                // `*args` may fill any remaining parameter.
                for i in params.iter().copied() {
                    out[i].extend(labels.clone());
                }
                continue;
            }
            (None, false) => positional.next().or(rest),
        };
        if let Some(i) = target {
            out[i].extend(labels.clone());
        }
    }
    out
}

/// Whether a hit found in a callee still applies after the caller's cleaning.
fn hit_still_applies(kind: HitKind, l: &Label) -> bool {
    match kind {
        HitKind::Sink(k) => l.reaches(k),
        HitKind::Broken(_) | HitKind::UnboundedRead => {
            l.reaches(SinkKind::Path) || l.reaches(SinkKind::Shell)
        }
        HitKind::Exposure(_) => true,
    }
}

fn select_arg(args: &[Arg], labels: &[Labels], index: usize, keyword: &str) -> Labels {
    if let Some(i) = args.iter().position(|a| a.name.as_deref() == Some(keyword)) {
        return labels[i].clone();
    }
    let mut positional = 0;
    let mut out = Labels::default();
    for (a, l) in args.iter().zip(labels) {
        if a.name.is_some() {
            continue;
        }
        if a.spread || positional == index {
            out.extend(l.clone());
        }
        if !a.spread {
            positional += 1;
        }
    }
    out
}

/// Whether a block assigns to `name` anywhere (then what a return proves about it is about a
/// new value, not the caller's).
fn reassigns(block: &[Stmt], name: &str) -> bool {
    fn binds(p: &Pattern, name: &str) -> bool {
        match p {
            Pattern::Name(n, _) => n == name,
            Pattern::Sequence(items) => items.iter().any(|i| binds(i, name)),
            Pattern::Object(items) => items.iter().any(|(_, i)| binds(i, name)),
            Pattern::Rest(inner) | Pattern::Default(inner, _) => binds(inner, name),
            Pattern::Attr(..) | Pattern::Subscript(..) | Pattern::Ignore => false,
        }
    }
    let mut found = false;
    crate::code::ir::each_stmt(block, &mut |stmt| {
        found |= match &stmt.kind {
            StmtKind::Assign { target, .. } => binds(target, name),
            StmtKind::Loop {
                binding: Some(b), ..
            } => binds(b, name),
            StmtKind::With { items, .. } => items
                .iter()
                .any(|(_, p)| p.as_ref().is_some_and(|p| binds(p, name))),
            _ => false,
        };
    });
    found
}

/// Where a pattern binds its name.
fn pattern_span(p: &Pattern) -> Option<Span> {
    match p {
        Pattern::Name(_, span) => Some(*span),
        Pattern::Default(inner, _) => pattern_span(inner),
        _ => None,
    }
}

/// `spawn(program, [a, b])`: the program and the list's elements as one argument vector.
fn program_and_list(args: &[Arg], program: usize, list: usize) -> Option<Vec<Expr>> {
    let positional: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
    let program = positional.get(program)?;
    let ExprKind::Seq(items) = &positional.get(list)?.value.kind else {
        return None;
    };
    let mut out = Vec::with_capacity(items.len() + 1);
    out.push(program.value.clone());
    out.extend(items.iter().cloned());
    Some(out)
}

/// Adds the checks a branch proves to its state's facts (bounded: only predicates read them).
fn note_facts(state: &mut State, guards: Vec<guards::Guard>) {
    for g in guards {
        if state.facts.len() >= 32 {
            break;
        }
        state.facts.push(std::sync::Arc::new(g));
    }
}

/// Whether an expression is a test whose result a variable may hold for a later `if`.
fn is_condition(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Compare { .. } | ExprKind::Not(_) | ExprKind::Call { .. } => true,
        ExprKind::Logical { op, values } => *op != BoolOp::Coalesce && !values.is_empty(),
        ExprKind::Await(inner) => is_condition(inner),
        _ => false,
    }
}

fn root_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(n) => Some(n.clone()),
        ExprKind::Attr { object, .. } | ExprKind::Subscript { object, .. } => root_name(object),
        _ => None,
    }
}

fn collect_roots(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Name(n) => out.push(n.clone()),
        ExprKind::Attr { object, .. } | ExprKind::Subscript { object, .. } => {
            collect_roots(object, out)
        }
        ExprKind::Call { callee, args, .. } => {
            if let ExprKind::Attr { object, .. } = &callee.kind {
                collect_roots(object, out);
            }
            for a in args {
                collect_roots(&a.value, out);
            }
        }
        ExprKind::Await(inner) => collect_roots(inner, out),
        ExprKind::Logical { values, .. } => values.iter().for_each(|v| collect_roots(v, out)),
        ExprKind::Conditional { then, orelse, .. } => {
            collect_roots(then, out);
            collect_roots(orelse, out);
        }
        _ => {}
    }
}

fn is_stringy(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Str(_) | ExprKind::Template(_))
}

/// Whether an argument-vector element starts with literal text that is not an option dash:
/// `f"--branch={b}"` or `"refs/" + b` cannot become an option.
/// A field read from untrusted content by a name that says it is an id, a number, a state or
/// a date (`item["id"]`, `user.login`) holds no free text.
fn structured_field(labels: Labels, field: &str) -> Labels {
    if labels.is_empty() || !shape::field_is_structured(field) {
        return labels;
    }
    labels.map(|l| match l.origin {
        Origin::Source(SourceKind::UntrustedContent) => Label {
            flags: l.flags.with(Flags::STRUCTURED),
            ..l
        },
        _ => l,
    })
}

fn starts_with_fixed_text(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Str(_) => true,
        ExprKind::Template(parts) => parts
            .first()
            .and_then(Expr::as_str)
            .is_some_and(|s| !s.is_empty()),
        ExprKind::Binary { left, .. } => {
            starts_with_fixed_text(left) && !left.as_str().is_some_and(str::is_empty)
        }
        _ => false,
    }
}

/// `https://api.example.com/...`: a scheme, a host and the start of a path.
fn host_is_fixed(prefix: &str) -> bool {
    let Some((_, rest)) = prefix.split_once("://") else {
        return false;
    };
    rest.find('/').is_some_and(|slash| slash > 0)
}

fn has_shell_meta(s: &str) -> bool {
    s.chars().any(|c| ";&|`$<>(){}\n\\\"'*?!#~".contains(c))
}

fn marks_untrusted(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "untrusted",
        "do not follow",
        "external content",
        "not instructions",
        "treat it as data",
        "<document",
        "<content",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_hosts() {
        assert!(host_is_fixed("https://api.github.com/repos/"));
        assert!(!host_is_fixed("https://"));
        assert!(!host_is_fixed("http://{host}"));
    }
}
