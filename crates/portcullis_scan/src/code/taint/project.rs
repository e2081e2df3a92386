//! A project: the modules analysed together, how calls between them resolve, and the rounds
//! of summaries that turn per-function facts into findings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;

use super::analyze::Analyzer;
use super::label::{Flags, Labels, Origin, Step};
use super::{Hit, HitKind};
use crate::code::catalog::{Catalog, SinkKind, SourceKind};
use crate::code::ir::{Expr, ExprKind, FunctionId, Language, Module, Pattern, StmtKind};
use crate::registry::Confidence;
use crate::span::Span;

/// Rounds of summaries before giving up on a fixpoint (call chains deeper than this lose
/// their outermost steps, nothing else).
const MAX_ROUNDS: usize = 6;

/// A function of the project: its module and its index there.
type FnKey = (usize, FunctionId);

/// What a function does with its parameters, as its callers see it.
#[derive(Debug, Clone, Default)]
pub(super) struct Summary {
    /// Hits reached from a parameter (label origin `Param`) or from a source inside.
    pub hits: Vec<Hit>,
    pub returns: Labels,
    pub return_sites: Vec<(Span, Labels)>,
    /// The program whose argument vector the function splices its `*args` into.
    pub argv_rest: Option<String>,
    /// What a normal return proves about each parameter.
    pub param_exits: Option<Vec<Option<super::analyze::ParamExit>>>,
    /// What a true and a false result prove about each parameter.
    pub predicate: Option<(Vec<super::analyze::Proof>, Vec<super::analyze::Proof>)>,
}

/// The parts of a summary its callers depend on, comparable between rounds.
type Fingerprint = (
    Vec<(HitKind, usize, Span, Vec<String>)>,
    Vec<String>,
    Option<String>,
    Option<Vec<Option<super::analyze::ParamExit>>>,
    String,
);

impl Summary {
    /// What callers depend on, to tell when rounds stop changing anything.
    fn fingerprint(&self) -> Fingerprint {
        let keys = |labels: &Labels| -> Vec<String> {
            labels.iter().map(|l| format!("{:?}", l.key())).collect()
        };
        let mut hits: Vec<_> = self
            .hits
            .iter()
            .map(|h| (h.kind, h.module, h.span, keys(&h.labels)))
            .collect();
        hits.sort();
        (
            hits,
            keys(&self.returns),
            self.argv_rest.clone(),
            self.param_exits.clone(),
            format!("{:?}", self.predicate),
        )
    }
}

/// The modules of one project.
pub struct Project {
    pub modules: Vec<Module>,
    /// Modules by name, apart per language family: a Python `runner` and a `runner.ts` beside
    /// it are different modules, and each language only imports its own.
    by_name: HashMap<(Family, String), usize>,
    /// Each module under every dotted suffix of its name (`pkg.utils.helper` under
    /// `utils.helper` and `helper`), the first module in order winning: imports of a project
    /// scanned from above its import root, found without a scan of every module per lookup.
    by_suffix: HashMap<(Family, String), usize>,
    functions: HashMap<(usize, String), FunctionId>,
    methods: HashMap<(usize, String, String), FunctionId>,
    classes: HashMap<(usize, String), usize>,
    /// Module-level names bound once to literal text (`BASE = "/srv/data/"`).
    constants: HashMap<(usize, String), String>,
    /// What module-level names and instance fields hold: a catalogued class
    /// (`httpx.AsyncClient`) or a project class (`@<module>:<Class>`).
    global_types: HashMap<(usize, String), String>,
    field_types: HashMap<(usize, String, String), String>,
    /// Module-level names and instance fields bound to a secret from the environment
    /// (`TOKEN = os.getenv("GITHUB_TOKEN")`), with where.
    global_secrets: HashMap<(usize, String), (Span, String)>,
    field_secrets: HashMap<(usize, String, String), (Span, String)>,
}

impl Project {
    pub fn new(mut modules: Vec<Module>) -> Project {
        adopt_forwarded_handlers(&mut modules);
        let mut by_name = HashMap::new();
        let mut functions = HashMap::new();
        let mut methods = HashMap::new();
        let mut classes = HashMap::new();
        for (m, module) in modules.iter().enumerate() {
            by_name
                .entry((Family::of(module.language), module.name.clone()))
                .or_insert(m);
            for (id, f) in module.functions.iter().enumerate().skip(1) {
                match f.class {
                    Some(c) => {
                        if let Some(class) = module.classes.get(c) {
                            methods.insert((m, class.name.clone(), f.name.clone()), id);
                        }
                    }
                    None if f.parent.is_none_or(|p| p == 0) => {
                        functions.insert((m, f.name.clone()), id);
                    }
                    None => {}
                }
            }
            for (c, class) in module.classes.iter().enumerate() {
                classes.insert((m, class.name.clone()), c);
            }
        }
        let mut by_suffix = HashMap::new();
        for (m, module) in modules.iter().enumerate() {
            let family = Family::of(module.language);
            for (i, _) in module.name.match_indices('.') {
                by_suffix
                    .entry((family, module.name[i + 1..].to_string()))
                    .or_insert(m);
            }
        }
        let constants = module_constants(&modules);
        let mut project = Project {
            by_suffix,
            global_types: HashMap::new(),
            field_types: HashMap::new(),
            global_secrets: HashMap::new(),
            field_secrets: HashMap::new(),
            constants,
            modules,
            by_name,
            functions,
            methods,
            classes,
        };
        project.collect_bindings();
        project
    }

    /// Reads what module-level names and `self.` fields are bound to, once, from the IR.
    fn collect_bindings(&mut self) {
        for m in 0..self.modules.len() {
            let module = &self.modules[m];
            let mut globals = Vec::new();
            let mut fields = Vec::new();
            if let Some(top) = module.functions.first() {
                for stmt in &top.body {
                    if let StmtKind::Assign {
                        target: Pattern::Name(n, _),
                        value,
                    } = &stmt.kind
                    {
                        globals.push((n.clone(), value, stmt.span));
                    }
                }
            }
            for f in &module.functions {
                let Some(class) = f.class.and_then(|c| module.classes.get(c)) else {
                    continue;
                };
                for stmt in &f.body {
                    if let StmtKind::Assign {
                        target: Pattern::Attr(object, field),
                        value,
                    } = &stmt.kind
                        && matches!(&object.kind, ExprKind::Name(s) if is_receiver(s))
                    {
                        fields.push((class.name.clone(), field.clone(), value, stmt.span));
                    }
                }
            }
            let mut global_types = Vec::new();
            let mut global_secrets = Vec::new();
            for (name, value, span) in globals {
                if let Some(t) = self.type_of(m, value) {
                    global_types.push(((m, name.clone()), t));
                }
                if let Some(var) = env_secret(module, value) {
                    global_secrets.push(((m, name), (span, var)));
                }
            }
            let mut field_types = Vec::new();
            let mut field_secrets = Vec::new();
            for (class, field, value, span) in fields {
                if let Some(t) = self.type_of(m, value) {
                    field_types.push(((m, class.clone(), field.clone()), t));
                }
                if let Some(var) = env_secret(module, value) {
                    field_secrets.push(((m, class, field), (span, var)));
                }
            }
            self.global_types.extend(global_types);
            self.global_secrets.extend(global_secrets);
            self.field_types.extend(field_types);
            self.field_secrets.extend(field_secrets);
        }
    }

    /// The class of what a constructor call makes: catalogued or of this project.
    pub(super) fn type_of(&self, module: usize, value: &Expr) -> Option<String> {
        let ExprKind::Call { callee, .. } = &value.kind else {
            return match &value.kind {
                ExprKind::Await(inner) => self.type_of(module, inner),
                _ => None,
            };
        };
        let path = self.modules[module].canonical(callee)?;
        if let Some(c) = self.catalog(module).classes.iter().find(|c| **c == path) {
            return Some(c.to_string());
        }
        self.project_class(module, callee)
    }

    /// `@<module>:<Class>` when `callee` names a class of the project.
    pub(super) fn project_class(&self, module: usize, callee: &Expr) -> Option<String> {
        let ExprKind::Name(name) = &callee.kind else {
            return None;
        };
        if self.classes.contains_key(&(module, name.clone())) {
            return Some(format!("@{module}:{name}"));
        }
        let import = self.modules[module]
            .imports
            .iter()
            .rev()
            .find(|i| &i.local == name)?;
        let (target, class) = self.resolve_import_path(module, &import.path)?;
        self.classes
            .contains_key(&(target, class.clone()))
            .then(|| format!("@{target}:{class}"))
    }

    /// The method `name` of a project class type (`@<module>:<Class>`).
    pub(super) fn method_of_type(&self, ty: &str, name: &str) -> Option<(usize, FunctionId)> {
        let (module, class) = ty.strip_prefix('@')?.split_once(':')?;
        let module: usize = module.parse().ok()?;
        self.methods
            .get(&(module, class.to_string(), name.to_string()))
            .map(|&f| (module, f))
    }

    pub(super) fn global_type(&self, module: usize, name: &str) -> Option<&String> {
        self.global_types.get(&(module, name.to_string()))
    }

    pub(super) fn field_type(&self, module: usize, class: &str, field: &str) -> Option<&String> {
        self.field_types
            .get(&(module, class.to_string(), field.to_string()))
    }

    /// A module-level name bound to a secret from the environment, here or where it was
    /// imported from (`from .config import GITHUB_TOKEN`), with that module.
    pub(super) fn global_secret(
        &self,
        module: usize,
        name: &str,
    ) -> Option<(usize, &(Span, String))> {
        if let Some(found) = self.global_secrets.get(&(module, name.to_string())) {
            return Some((module, found));
        }
        let import = self.modules[module]
            .imports
            .iter()
            .rev()
            .find(|i| i.local == name)?;
        let (target, original) = self.resolve_import_path(module, &import.path)?;
        self.global_secrets
            .get(&(target, original))
            .map(|found| (target, found))
    }

    pub(super) fn field_secret(
        &self,
        module: usize,
        class: &str,
        field: &str,
    ) -> Option<&(Span, String)> {
        self.field_secrets
            .get(&(module, class.to_string(), field.to_string()))
    }

    /// The literal text a module-level name is bound to, if it is bound once to one.
    pub(super) fn constant(&self, module: usize, name: &str) -> Option<&str> {
        self.constants
            .get(&(module, name.to_string()))
            .map(String::as_str)
    }

    pub(super) fn catalog(&self, module: usize) -> &'static Catalog {
        match self.modules[module].language {
            Language::Python => &crate::code::catalog::python::PYTHON,
            Language::TypeScript | Language::JavaScript => {
                &crate::code::catalog::typescript::TYPESCRIPT
            }
        }
    }

    /// The project function a call goes to, and whether its receiver parameter is bound by
    /// the call's receiver (`self.helper(x)`, `obj.method(x)`).
    pub(super) fn resolve_call(
        &self,
        module: usize,
        caller: &crate::code::ir::Function,
        callee: &Expr,
    ) -> Option<(usize, FunctionId, bool)> {
        let m = &self.modules[module];
        match &callee.kind {
            ExprKind::Name(name) => {
                // A function nested in the caller, then one of the module, then an import.
                if let Some(id) = m.functions.iter().position(|f| {
                    &f.name == name
                        && f.parent.is_some()
                        && f.parent != Some(0)
                        && f.class.is_none()
                        && m.functions
                            .get(f.parent.unwrap_or(0))
                            .is_some_and(|p| p.qualname == caller.qualname)
                }) {
                    return Some((module, id, false));
                }
                if let Some(&id) = self.functions.get(&(module, name.clone())) {
                    return Some((module, id, false));
                }
                let import = m.imports.iter().rev().find(|i| &i.local == name)?;
                let (target_module, function) = self.resolve_import_path(module, &import.path)?;
                self.functions
                    .get(&(target_module, function))
                    .map(|&id| (target_module, id, false))
            }
            ExprKind::Attr { object, name, .. } => {
                let ExprKind::Name(base) = &object.kind else {
                    return None;
                };
                // A lambda or arrow function sees the `this`/`self` of the method it is in.
                let enclosing_class = || {
                    let mut f = caller;
                    for _ in 0..32 {
                        if f.class.is_some() {
                            return f.class;
                        }
                        f = m.functions.get(f.parent?)?;
                    }
                    None
                };
                if (base == "self" || base == "cls" || base == "this")
                    && let Some(class) = enclosing_class().and_then(|c| m.classes.get(c))
                {
                    return self
                        .methods
                        .get(&(module, class.name.clone(), name.clone()))
                        .map(|&id| (module, id, true));
                }
                if self.classes.contains_key(&(module, base.clone())) {
                    return self
                        .methods
                        .get(&(module, base.clone(), name.clone()))
                        .map(|&id| (module, id, false));
                }
                let import = m.imports.iter().rev().find(|i| &i.local == base)?;
                let target = self.module_by_path(module, &import.path)?;
                self.functions
                    .get(&(target, name.clone()))
                    .map(|&id| (target, id, false))
            }
            _ => None,
        }
    }

    /// `pkg.utils.helper` -> (the module `pkg.utils`, `helper`); `./utils.helper` -> (the
    /// module at `./utils`, `helper`).
    fn resolve_import_path(&self, from: usize, path: &str) -> Option<(usize, String)> {
        let (module_path, function) = path.rsplit_once('.')?;
        let module = self.module_by_path(from, module_path)?;
        Some((module, function.to_string()))
    }

    /// A module by its dotted path, relative (`.utils`) to `from`'s package or absolute, or by
    /// a file path relative to `from`'s folder (`./utils`, `../lib/index`), as JavaScript
    /// imports name modules.
    fn module_by_path(&self, from: usize, path: &str) -> Option<usize> {
        let family = Family::of(self.modules[from].language);
        if is_file_relative(path) {
            let full = join_relative(&self.modules[from].name, path);
            return self
                .by_name
                .get(&(family, full.clone()))
                .or_else(|| self.by_name.get(&(family, format!("{full}/index"))))
                .copied();
        }
        if let Some(rel) = path.strip_prefix('.') {
            let current = &self.modules[from].name;
            let mut package: Vec<&str> = current.split('.').collect();
            package.pop();
            let mut rest = rel;
            while let Some(r) = rest.strip_prefix('.') {
                package.pop();
                rest = r;
            }
            let full = if rest.is_empty() {
                package.join(".")
            } else if package.is_empty() {
                rest.to_string()
            } else {
                format!("{}.{rest}", package.join("."))
            };
            return self.by_name.get(&(family, full)).copied();
        }
        self.by_name
            .get(&(family, path.to_string()))
            .copied()
            // Projects are often scanned from above their import root: match a suffix.
            .or_else(|| self.by_suffix.get(&(family, path.to_string())).copied())
    }
}

/// A handler registered with an imported callback (`server.tool("x", schema, handleX)` with
/// `handleX` imported; its function only forwards its parameters there) hands its registration
/// to that function, with the registration's parameter annotation (its schema): the SDK calls
/// it with the values it validated. Findings then start at the callback's own parameters.
fn adopt_forwarded_handlers(modules: &mut [Module]) {
    let mut adopted: Vec<(usize, FunctionId, crate::code::ir::Handler, Option<Expr>)> = Vec::new();
    let mut forwarders: Vec<(usize, FunctionId)> = Vec::new();
    for (m, module) in modules.iter().enumerate() {
        for handler in module.handlers.iter().filter(|h| h.imported_callback) {
            let Some(f) = module.functions.get(handler.function) else {
                continue;
            };
            let [stmt] = f.body.as_slice() else {
                continue;
            };
            let StmtKind::Return(Some(call)) = &stmt.kind else {
                continue;
            };
            let ExprKind::Call { callee, args, .. } = &call.kind else {
                continue;
            };
            let forwards = args.len() == f.params.len()
                && args.iter().zip(&f.params).all(|(a, p)| {
                    matches!((&a.value.kind, p.name()), (ExprKind::Name(n), Some(pn)) if n == pn)
                });
            let Some(dotted) = callee.dotted() else {
                continue;
            };
            if !forwards {
                continue;
            }
            let path = module.resolve_dotted(&dotted);
            let Some((module_path, name)) = path.rsplit_once('.') else {
                continue;
            };
            let family = Family::of(module.language);
            let Some(target) = modules.iter().position(|m| {
                Family::of(m.language) == family && import_names(module, m, module_path)
            }) else {
                continue;
            };
            let Some(fid) = modules[target].functions.iter().position(|g| {
                g.name == name && g.class.is_none() && g.parent.is_none_or(|p| p == 0)
            }) else {
                continue;
            };
            // Names in the schema (`z.number()`) mean what the registering module imported.
            let annotation = f
                .params
                .first()
                .and_then(|p| p.annotation.clone())
                .map(|mut a| {
                    resolve_names(&mut a, module, 0);
                    a
                });
            adopted.push((target, fid, handler.clone(), annotation));
            forwarders.push((m, handler.function));
        }
    }
    // The forwarder is no longer a handler of its own: its parameters are the callback's.
    for (m, f) in forwarders {
        modules[m].handlers.retain(|h| h.function != f);
    }
    for (target, fid, handler, annotation) in adopted {
        let module = &mut modules[target];
        let Some(f) = module.functions.get_mut(fid) else {
            continue;
        };
        // The registration's schema is what the SDK enforces; a type written on the callback
        // (`{ id }: { id: number }`) is not checked at run time.
        if let (Some(p), Some(a)) = (f.params.first_mut(), annotation) {
            p.annotation = Some(a);
        }
        let span = f.name_span;
        let params = f.params.len();
        if module.handlers.iter().any(|h| h.function == fid) {
            continue;
        }
        module.handlers.push(crate::code::ir::Handler {
            function: fid,
            span,
            tainted_params: handler
                .tainted_params
                .iter()
                .copied()
                .filter(|&i| i < params)
                .collect(),
            imported_callback: false,
            ..handler
        });
    }
}

/// Replaces each name in an expression by the path it is imported as in `module`, so the
/// expression means the same in another module.
fn resolve_names(e: &mut Expr, module: &Module, depth: usize) {
    if depth > 64 {
        return;
    }
    match &mut e.kind {
        ExprKind::Name(n) => *n = module.resolve_dotted(n),
        ExprKind::Attr { object, .. } => resolve_names(object, module, depth + 1),
        ExprKind::Call { callee, args, .. } => {
            resolve_names(callee, module, depth + 1);
            for a in args {
                resolve_names(&mut a.value, module, depth + 1);
            }
        }
        ExprKind::Map(entries) => {
            for (_, v) in entries {
                resolve_names(v, module, depth + 1);
            }
        }
        ExprKind::Seq(items) => {
            for i in items {
                resolve_names(i, module, depth + 1);
            }
        }
        _ => {}
    }
}

/// Whether `path`, as imported by `from`, names module `m`: a JavaScript relative path
/// (`./tools/notes`, with an `index` fallback) or a dotted Python module name.
fn import_names(from: &Module, m: &Module, path: &str) -> bool {
    if is_file_relative(path) {
        let full = join_relative(&from.name, path);
        return m.name == full || m.name == format!("{full}/index");
    }
    m.name == path
}

/// `./utils`, `../lib/index`: a module named by its file path, as JavaScript imports do.
fn is_file_relative(path: &str) -> bool {
    path.starts_with("./") || path.starts_with("../") || path == "." || path == ".."
}

/// The module name a file-relative import means from module `from` (`src/a` + `../lib/b` ->
/// `lib/b`).
fn join_relative(from: &str, path: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for piece in path.split('/') {
        match piece {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Languages that import each other's modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    Python,
    JavaScript,
}

impl Family {
    fn of(language: Language) -> Family {
        match language {
            Language::Python => Family::Python,
            Language::TypeScript | Language::JavaScript => Family::JavaScript,
        }
    }
}

/// The names a method's receiver goes by: Python's `self`, JavaScript's `this`.
pub(super) fn is_receiver(name: &str) -> bool {
    matches!(name, "self" | "this")
}

/// `os.getenv("X")`, `os.environ["X"]`, `os.environ.get("X")` with a secret-like name X.
fn env_secret(module: &Module, value: &Expr) -> Option<String> {
    let name = match &value.kind {
        ExprKind::Call { callee, args, .. } => {
            let path = module.canonical(callee)?;
            if !matches!(path.as_str(), "os.getenv" | "os.environ.get") {
                return None;
            }
            args.first()?.value.as_str()?
        }
        ExprKind::Subscript { object, index }
            if matches!(
                module.canonical(object).as_deref(),
                Some("os.environ" | "process.env")
            ) =>
        {
            index.as_str()?
        }
        // `process.env.GITHUB_TOKEN`, `process.env.X ?? ""`.
        ExprKind::Attr { object, name, .. }
            if module.canonical(object).as_deref() == Some("process.env") =>
        {
            name.as_str()
        }
        ExprKind::Logical { values, .. } => {
            return values.iter().find_map(|v| env_secret(module, v));
        }
        _ => return None,
    };
    super::looks_secret(name).then(|| name.to_string())
}

/// `"rg"` or `shutil.which("rg")`: a program named by a literal.
fn program_literal(module: &Module, e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Str(s) => Some(s.clone()),
        ExprKind::Call { callee, args, .. }
            if module.canonical(callee).as_deref() == Some("shutil.which") =>
        {
            args.first()
                .and_then(|a| a.value.as_str())
                .map(str::to_string)
        }
        // `os.environ.get("KUBECTL", "kubectl")`: the program unless the operator says
        // otherwise.
        ExprKind::Call { callee, args, .. }
            if matches!(
                module.canonical(callee).as_deref(),
                Some("os.environ.get" | "os.getenv")
            ) =>
        {
            args.get(1)
                .and_then(|a| a.value.as_str())
                .filter(|p| !p.is_empty() && !p.contains(char::is_whitespace))
                .map(str::to_string)
        }
        _ => None,
    }
}

/// Marks a module constant that holds a compiled regular expression's pattern.
pub(super) const COMPILED_REGEX: &str = "\u{0}re:";

/// Names each module binds exactly once, at top level, to a literal string.
fn module_constants(modules: &[Module]) -> HashMap<(usize, String), String> {
    let mut out = HashMap::new();
    for (m, module) in modules.iter().enumerate() {
        let Some(top) = module.functions.first() else {
            continue;
        };
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for stmt in &top.body {
            if let crate::code::ir::StmtKind::Assign {
                target: crate::code::ir::Pattern::Name(n, _),
                value,
            } = &stmt.kind
            {
                *counts.entry(n.as_str()).or_default() += 1;
                let text = match &value.kind {
                    ExprKind::Str(s) => Some(s.clone()),
                    // `NAME_RE = re.compile(r"...")`: kept as the pattern, marked.
                    ExprKind::Call { callee, args, .. }
                        if module.canonical(callee).as_deref() == Some("re.compile") =>
                    {
                        args.first()
                            .and_then(|a| a.value.as_str())
                            .map(|p| format!("{COMPILED_REGEX}{p}"))
                    }
                    // `shutil.which("rg") or "rg"`: the program's name.
                    ExprKind::Logical { values, .. } => {
                        values.iter().find_map(|v| program_literal(module, v))
                    }
                    ExprKind::Call { .. } if program_literal(module, value).is_some() => {
                        program_literal(module, value)
                    }
                    ExprKind::Binary { left, right, .. } => match (left.as_str(), right.as_str()) {
                        (Some(a), Some(b)) => Some(format!("{a}{b}")),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(t) = text {
                    out.insert((m, n.clone()), t);
                }
            }
        }
        out.retain(|(mm, n), _| *mm != m || counts.get(n.as_str()) == Some(&1));
    }
    out
}

/// What a code finding is.
pub type FindingKind = HitKind;

/// A flow worth reporting, with its whole trace.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: FindingKind,
    pub module: usize,
    pub span: Span,
    pub what: String,
    pub trace: Vec<Step>,
    pub confidence: Confidence,
    /// The handler the flow starts in, with its tool name when known.
    pub handler: Option<String>,
    /// What kind of handler it is (tool, resource, prompt, low-level dispatch).
    pub handler_kind: Option<crate::code::ir::HandlerKind>,
    /// The releases of the sink's library that are safe, when that depends on the release.
    pub fixed: Option<&'static crate::code::catalog::Fixed>,
}

/// Runs the engine over a project and returns its findings, deterministic and deduplicated.
pub fn analyze_project(project: &Project) -> Vec<Finding> {
    let keys: Vec<(usize, FunctionId)> = project
        .modules
        .iter()
        .enumerate()
        .flat_map(|(m, module)| (0..module.functions.len()).map(move |f| (m, f)))
        .collect();
    let mut summaries: HashMap<(usize, FunctionId), Summary> = HashMap::new();
    let mut edges: HashMap<(usize, FunctionId), Vec<(usize, FunctionId)>> = HashMap::new();
    // The first round analyses every function; each later round only the callers of functions
    // whose summary changed, since nothing else can change.
    let mut work: Vec<FnKey> = keys.clone();
    for _ in 0..MAX_ROUNDS {
        let results: Vec<(FnKey, Summary, Vec<FnKey>)> = work
            .par_iter()
            .map(|&(m, f)| {
                let (outcome, calls) = Analyzer::new(project, &summaries, m, f).run();
                (
                    (m, f),
                    Summary {
                        hits: outcome.hits,
                        returns: outcome.returns,
                        return_sites: outcome.return_sites,
                        argv_rest: outcome.argv_rest,
                        param_exits: outcome.param_exits,
                        predicate: outcome.predicate,
                    },
                    calls,
                )
            })
            .collect();
        let changed: BTreeSet<FnKey> = results
            .iter()
            .filter(|(k, s, _)| {
                summaries
                    .get(k)
                    .is_none_or(|old| old.fingerprint() != s.fingerprint())
            })
            .map(|(k, _, _)| *k)
            .collect();
        for (k, s, c) in results {
            summaries.insert(k, s);
            edges.insert(k, c);
        }
        if changed.is_empty() {
            break;
        }
        work = edges
            .iter()
            .filter(|(_, callees)| callees.iter().any(|c| changed.contains(c)))
            .map(|(k, _)| *k)
            .collect();
        work.sort_unstable();
        if work.is_empty() {
            break;
        }
    }

    let mut findings = Chosen::default();
    let mut keep = |f: Finding| findings.offer(f);

    // Flows from handler parameters: the model chooses these values.
    let mut reachable: BTreeSet<(usize, FunctionId)> = BTreeSet::new();
    for (m, module) in project.modules.iter().enumerate() {
        for handler in &module.handlers {
            let key = (m, handler.function);
            mark_reachable(key, &edges, &mut reachable);
            let Some(summary) = summaries.get(&key) else {
                continue;
            };
            for hit in &summary.hits {
                for label in hit.labels.iter() {
                    if let Origin::Param(i) = label.origin
                        && handler.tainted_params.contains(&i)
                    {
                        keep(Finding {
                            kind: hit.kind,
                            module: hit.module,
                            span: hit.span,
                            what: hit.what.clone(),
                            trace: label.trace.to_vec(),
                            confidence: Confidence::High,
                            handler: handler.name.clone(),
                            handler_kind: Some(handler.kind),
                            fixed: hit.fixed,
                        });
                    }
                }
            }
            // What the handler hands back to the model.
            for (span, labels) in &summary.return_sites {
                for label in labels.iter() {
                    let kind = match label.origin {
                        Origin::Source(kind) => kind,
                        // The model chose which environment variable to read.
                        Origin::Param(i)
                            if label.flags.has(Flags::ENV_LOOKUP)
                                && handler.tainted_params.contains(&i) =>
                        {
                            SourceKind::Environment
                        }
                        Origin::Param(_) => continue,
                    };
                    // `bool(os.getenv(...))`, `int(row[0])`: nothing of the content is left.
                    if label.cleaned.is_all() {
                        continue;
                    }
                    if kind == SourceKind::UntrustedContent
                        && (label.flags.has(Flags::MARKED) || label.flags.has(Flags::STRUCTURED))
                    {
                        continue;
                    }
                    keep(Finding {
                        kind: HitKind::Exposure(kind),
                        module: m,
                        span: *span,
                        what: String::new(),
                        trace: label.trace.to_vec(),
                        confidence: if kind == SourceKind::UntrustedContent {
                            Confidence::Medium
                        } else {
                            Confidence::High
                        },
                        handler: handler.name.clone(),
                        handler_kind: Some(handler.kind),
                        fixed: None,
                    });
                }
            }
        }
    }

    // The generic rules below are for MCP servers: a project with no handler at all (a
    // library, a web framework) is not one, and its parameters are not a model's choice.
    let is_server = project.modules.iter().any(|m| !m.handlers.is_empty());
    for (&(m, f), summary) in summaries.iter().filter(|_| is_server) {
        let in_handler_reach = reachable.contains(&(m, f));
        for hit in &summary.hits {
            for label in hit.labels.iter() {
                match label.origin {
                    // Untrusted content doing harm inside the server (a fetched page into eval).
                    Origin::Source(SourceKind::UntrustedContent)
                        if matches!(hit.kind, HitKind::Sink(_)) =>
                    {
                        keep(Finding {
                            kind: hit.kind,
                            module: hit.module,
                            span: hit.span,
                            what: hit.what.clone(),
                            trace: label.trace.to_vec(),
                            confidence: Confidence::Medium,
                            handler: None,
                            handler_kind: None,
                            fixed: hit.fixed,
                        })
                    }
                    // Code no handler reaches: still dangerous where any caller's value is.
                    Origin::Param(_)
                        if !in_handler_reach
                            && matches!(
                                hit.kind,
                                HitKind::Sink(
                                    SinkKind::Shell | SinkKind::CodeEval | SinkKind::Deserialize
                                )
                            ) =>
                    {
                        let _ = m;
                        keep(Finding {
                            kind: hit.kind,
                            module: hit.module,
                            span: hit.span,
                            what: hit.what.clone(),
                            trace: label.trace.to_vec(),
                            confidence: Confidence::Low,
                            handler: None,
                            handler_kind: None,
                            fixed: hit.fixed,
                        })
                    }
                    _ => {}
                }
            }
        }
    }
    findings.into_findings()
}

/// One finding per sink (kind and place), whichever flow is offered first: the summaries are
/// visited in hash order and several flows often reach one sink, so the choice among them
/// must not depend on the order they come in.
#[derive(Default)]
struct Chosen(BTreeMap<(HitKind, usize, usize, usize), Finding>);

impl Chosen {
    fn offer(&mut self, f: Finding) {
        let key = (f.kind, f.module, f.span.start, f.span.end);
        match self.0.get(&key) {
            Some(old) if !preferred(&f, old) => {}
            _ => {
                self.0.insert(key, f);
            }
        }
    }

    fn into_findings(self) -> Vec<Finding> {
        self.0.into_values().collect()
    }
}

/// Whether `new` is shown rather than `old` for the same sink: the surer, then the shorter
/// trace, then the trace that starts (and goes on) earliest in the files, then the handler.
fn preferred(new: &Finding, old: &Finding) -> bool {
    let rank = |f: &Finding| {
        (
            std::cmp::Reverse(f.confidence),
            f.trace.len(),
            f.trace
                .iter()
                .map(|s| (s.module, s.span.start, s.span.end, s.message.clone()))
                .collect::<Vec<_>>(),
            f.handler.clone(),
        )
    };
    rank(new) < rank(old)
}

fn mark_reachable(
    from: (usize, FunctionId),
    edges: &HashMap<(usize, FunctionId), Vec<(usize, FunctionId)>>,
    seen: &mut BTreeSet<(usize, FunctionId)>,
) {
    let mut stack = vec![from];
    while let Some(k) = stack.pop() {
        if seen.insert(k) {
            stack.extend(edges.get(&k).into_iter().flatten().copied());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::catalog::SinkKind;

    fn finding(param: &str, steps: &[(usize, usize)], confidence: Confidence) -> Finding {
        Finding {
            kind: HitKind::Sink(SinkKind::CodeEval),
            module: 0,
            span: Span::new(500, 520),
            what: "require".to_string(),
            trace: steps
                .iter()
                .map(|&(start, end)| Step {
                    module: 0,
                    span: Span::new(start, end),
                    message: format!("parameter `{param}`"),
                })
                .collect(),
            confidence,
            handler: None,
            handler_kind: None,
            fixed: None,
        }
    }

    fn chosen(offers: Vec<Finding>) -> Vec<Finding> {
        let mut c = Chosen::default();
        for f in offers {
            c.offer(f);
        }
        c.into_findings()
    }

    #[test]
    fn the_flow_shown_for_a_sink_does_not_depend_on_the_order_found() {
        let cases = [
            // Two traces of one length: the one earlier in the file.
            (
                finding("cwd", &[(100, 103), (120, 140)], Confidence::Low),
                finding("file", &[(60, 64), (120, 140)], Confidence::Low),
                "file",
            ),
            // The shorter trace, wherever it starts.
            (
                finding("cwd", &[(100, 103)], Confidence::Low),
                finding("file", &[(60, 64), (120, 140)], Confidence::Low),
                "cwd",
            ),
            // The surer flow, however long.
            (
                finding("cwd", &[(100, 103)], Confidence::Low),
                finding("file", &[(60, 64), (120, 140)], Confidence::High),
                "file",
            ),
        ];
        for (a, b, want) in cases {
            for offers in [vec![a.clone(), b.clone()], vec![b.clone(), a.clone()]] {
                let got = chosen(offers);
                assert_eq!(got.len(), 1);
                assert_eq!(
                    got[0].trace[0].message,
                    format!("parameter `{want}`"),
                    "whichever flow is found first"
                );
            }
        }
    }
}
