//! Conditions as sanitizers: what an `if` test proves about a value on each side, and whether
//! that proof is enough. Weak proofs (a prefix without a separator, containment on an
//! unresolved path) are recorded as hits of their own where the check is.

use super::{Analyzer, State};
use crate::code::catalog::{Callee, Cleaned, PathOp, SinkKind};
use crate::code::ir::{
    Arg, BoolOp, CmpOp, Expr, ExprKind, Function, FunctionId, ParamKind, Stmt, StmtKind,
};
use crate::code::taint::label::{Flags, Label, Labels, Origin};
use crate::code::taint::{Broken, Hit, HitKind};
use crate::span::Span;

/// What a condition proves about a value on one side of a branch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Compared with a fixed set of values: clean for everything.
    Allowlisted,
    /// Cleaned for these kinds.
    Clean(Cleaned),
    /// `value.startswith(base)`: judged by what the value went through.
    Prefix { separator: bool },
    /// `is_relative_to`, `commonpath`: containment, judged by resolution.
    Contained,
    /// A flag to add (checks that matter only in combination).
    Flag(Flags),
    /// Equal to a value derived from these parameters of the function (a bit each): clean
    /// wherever the caller passes trusted values there, nothing inside the function.
    SameAs(u64),
}

#[derive(Debug, Clone)]
pub(super) struct Guard {
    pub target: Expr,
    pub effect: Effect,
    pub span: Span,
    pub what: String,
    /// Flags the value had where the check was made, beyond its own: a predicate that
    /// normalises its argument before checking it (`isInside(p)` checks `path.resolve(p)`).
    pub assume: Flags,
    /// Parameters (a bit each) that must be trusted at the call site for a predicate's proof
    /// to hold (`p === dir || p.startsWith(dir + sep)` proves containment only for trusted
    /// `dir`s).
    pub needs: u64,
}

impl Guard {
    /// Checks worth judging even where the logic cannot tell which side holds (inside `and`
    /// and `or`): containment and the weak checks that become findings.
    fn is_path_check(&self) -> bool {
        matches!(
            self.effect,
            Effect::Prefix { .. } | Effect::Contained | Effect::Flag(_)
        )
    }

    pub(super) fn same_as(&self, other: &Guard) -> bool {
        self.effect == other.effect && root_key(&self.target) == root_key(&other.target)
    }
}

type Sides = (Vec<Guard>, Vec<Guard>);

/// The flags that say what a value went through on the way to a check (not checks).
const PATH_FLAGS: Flags = Flags(Flags::RESOLVED.0 | Flags::NORMALIZED.0);

/// What the returns of a function (or of a callback read in place) prove, each side the
/// meet of every return on it; `None` while no return on that side was seen.
#[derive(Debug, Clone, Default)]
pub(super) struct Collector {
    /// The inlining depth whose returns this collects.
    pub level: usize,
    pub when_true: Option<Vec<Guard>>,
    pub when_false: Option<Vec<Guard>>,
}

/// What a predicate's result proves about one of its parameters, for its callers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Proof {
    pub param: usize,
    pub effect: Effect,
    pub assume: Flags,
    pub needs: u64,
}

/// What a check says about the variable at its root, if anything: `x in ALLOWED` cleans `x`;
/// `parsed.hostname in HOSTS` cleans the URL for requests only; `parsed.scheme in (...)`,
/// `p.suffix == ".md"` or `len(x) < 10` say nothing about the rest.
fn narrow(guard: &Guard) -> Option<Guard> {
    match (&guard.effect, &guard.target.kind) {
        (Effect::Allowlisted | Effect::SameAs(_), ExprKind::Name(_)) => Some(guard.clone()),
        (Effect::Allowlisted, ExprKind::Attr { .. })
            if guard.target.dotted().is_some_and(|d| is_field(&d)) =>
        {
            Some(guard.clone())
        }
        (Effect::Allowlisted, ExprKind::Attr { name, .. })
            if matches!(name.as_str(), "hostname" | "netloc" | "host") =>
        {
            Some(Guard {
                effect: Effect::Clean(Cleaned::of(&[SinkKind::Ssrf])),
                ..guard.clone()
            })
        }
        (Effect::Allowlisted | Effect::SameAs(_), _) => None,
        _ => Some(guard.clone()),
    }
}

/// What holds on either of two paths, each proving a list of guards.
fn meet_sides(a: Option<Vec<Guard>>, b: Option<Vec<Guard>>) -> Option<Vec<Guard>> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => {
            let mut out: Vec<Guard> = Vec::new();
            for ga in &a {
                for gb in b
                    .iter()
                    .filter(|gb| root_key(&gb.target) == root_key(&ga.target))
                {
                    let Some(effect) = meet_effect(&ga.effect, &gb.effect) else {
                        continue;
                    };
                    let mask = |e: &Effect| match e {
                        Effect::SameAs(m) => *m,
                        _ => 0,
                    };
                    let g = Guard {
                        effect,
                        assume: Flags(ga.assume.0 & gb.assume.0),
                        needs: ga.needs | gb.needs | mask(&ga.effect) | mask(&gb.effect),
                        ..ga.clone()
                    };
                    if !out.iter().any(|o| o.same_as(&g) && o.needs == g.needs) {
                        out.push(g);
                    }
                }
            }
            Some(out)
        }
    }
}

/// The weaker of two checks on one value (what holds whichever was made), if any.
fn meet_effect(a: &Effect, b: &Effect) -> Option<Effect> {
    use Effect::*;
    Some(match (a, b) {
        (SameAs(m), SameAs(n)) => SameAs(m | n),
        // Equal to a trusted value is the strongest proof: the other side decides.
        (SameAs(_) | Allowlisted, x) | (x, SameAs(_) | Allowlisted) => x.clone(),
        (x, y) if x == y => x.clone(),
        (Prefix { separator: s }, Prefix { separator: t }) => Prefix {
            separator: *s && *t,
        },
        (Contained, p @ Prefix { .. }) | (p @ Prefix { .. }, Contained) => p.clone(),
        (Clean(c), Clean(d)) if c.0 & d.0 != 0 => Clean(Cleaned(c.0 & d.0)),
        (Clean(c), p @ (Prefix { .. } | Contained))
        | (p @ (Prefix { .. } | Contained), Clean(c))
            if c.has(SinkKind::Path) =>
        {
            p.clone()
        }
        (Flag(f), Flag(g)) if f.0 & g.0 != 0 => Flag(Flags(f.0 & g.0)),
        _ => return None,
    })
}

/// The argument a call passes for parameter `i` of `callee`, as `map_args` binds them.
fn arg_for_param<'e>(
    callee: &Function,
    skip_receiver: bool,
    args: &'e [Arg],
    i: usize,
) -> Option<&'e Expr> {
    let _ = skip_receiver;
    let mut positional = callee
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == ParamKind::Normal)
        .map(|(i, _)| i);
    for a in args {
        if a.spread {
            return None;
        }
        let param = match &a.name {
            Some(name) => callee.params.iter().position(|p| p.name() == Some(name)),
            None => positional.next(),
        };
        if param == Some(i) {
            return Some(&a.value);
        }
    }
    None
}

impl Analyzer<'_> {
    /// What a condition proves when true and when false.
    pub(super) fn guards(&mut self, test: &Expr, state: &mut State) -> Sides {
        let g = |target: &Expr, effect: Effect, what: &str| Guard {
            target: target.clone(),
            effect,
            span: test.span,
            what: what.to_string(),
            assume: Flags::default(),
            needs: 0,
        };
        match &test.kind {
            ExprKind::Not(inner) => {
                let (t, f) = self.guards(inner, state);
                (f, t)
            }
            // `a and b` holds when both do. When it fails one of them failed: what every
            // conjunct's failure proves holds (`s != "a" and s != "b"`), and a containment check
            // inside is what the code relies on, so it is kept and judged.
            ExprKind::Logical {
                op: BoolOp::And,
                values,
            } => {
                let sides: Vec<Sides> = values.iter().map(|v| self.guards(v, state)).collect();
                let t = sides.iter().flat_map(|s| s.0.iter().cloned()).collect();
                // `x and x.startswith("-")` failing on `x` means `x` is empty or None, which
                // passes any check on `x`: only the other conjuncts' failures say anything.
                let checked: Vec<Option<String>> = sides
                    .iter()
                    .flat_map(|s| s.1.iter().map(|g| root_key(&g.target)))
                    .collect();
                let says_something = |v: &Expr| {
                    let bare = matches!(v.kind, ExprKind::Name(_) | ExprKind::Attr { .. });
                    !(bare
                        && !checked.is_empty()
                        && checked.iter().all(|c| c.is_some() && *c == root_key(v)))
                };
                let failures = sides
                    .iter()
                    .zip(values)
                    .filter(|(_, v)| says_something(v))
                    .map(|(s, _)| &s.1);
                (t, either(failures))
            }
            ExprKind::Logical {
                op: BoolOp::Or,
                values,
            } => {
                let sides: Vec<Sides> = values.iter().map(|v| self.guards(v, state)).collect();
                let f = sides.iter().flat_map(|s| s.1.iter().cloned()).collect();
                (either(sides.iter().map(|s| &s.0)), f)
            }
            // `ipaddress.ip_address(host).is_private`: true means the host is refused.
            ExprKind::Attr { object, name, .. }
                if matches!(
                    name.as_str(),
                    "is_private"
                        | "is_loopback"
                        | "is_link_local"
                        | "is_reserved"
                        | "is_multicast"
                        | "is_unspecified"
                        | "is_global"
                ) =>
            {
                let target = match &object.kind {
                    ExprKind::Call { args, .. } => args.first().map(|a| a.value.clone()),
                    _ => Some((**object).clone()),
                };
                let Some(target) = target else {
                    return (vec![], vec![]);
                };
                let guard = g(&target, Effect::Flag(Flags::BLOCKLISTED), name);
                if name == "is_global" {
                    (vec![guard], vec![])
                } else {
                    (vec![], vec![guard])
                }
            }
            ExprKind::Compare { left, ops, rights } if ops.len() == 1 => {
                self.compare_guard(test, left, ops[0], &rights[0], state)
            }
            ExprKind::Call { callee, args, .. } => self.call_guard(test, callee, args, state),
            // `const ok = isInside(p); if (!ok) throw`: the variable holds the condition.
            ExprKind::Name(n) => match state.conds.get(n).cloned() {
                Some(cond) if self.depth < super::MAX_DEPTH => {
                    self.depth += 1;
                    let sides = self.guards(&cond, state);
                    self.depth -= 1;
                    sides
                }
                _ => (vec![], vec![]),
            },
            ExprKind::Await(inner) => self.guards(inner, state),
            _ => (vec![], vec![]),
        }
    }

    /// What a callback's returns prove when it returned true and when it returned false
    /// (`dirs.some(d => p.startsWith(d + sep))`), about the variables it closes over.
    fn callback_returns(&mut self, id: FunctionId, flowing: Labels, state: &mut State) -> Sides {
        self.collectors.push(Collector {
            level: self.inlining + 1,
            ..Collector::default()
        });
        self.quiet(|a| a.inline_function(id, flowing, state));
        let c = self.collectors.pop().unwrap_or_default();
        (
            c.when_true.unwrap_or_default(),
            c.when_false.unwrap_or_default(),
        )
    }

    /// A call to a project function whose summary says what its boolean result proves about
    /// its arguments (`if (!isInside(p, ROOTS)) throw`).
    fn predicate_guard(
        &mut self,
        test: &Expr,
        callee: &Expr,
        args: &[Arg],
        state: &mut State,
    ) -> Option<Sides> {
        let (module, function, skip_receiver) =
            self.project
                .resolve_call(self.module_index, self.function, callee)?;
        let (when_true, when_false) = self.summaries.get(&(module, function))?.predicate.clone()?;
        let callee_fn = &self.project.modules[module].functions[function];
        let mut side = |proofs: &[Proof], a: &mut Self| -> Vec<Guard> {
            let mut out = Vec::new();
            for p in proofs {
                let Some(target) = arg_for_param(callee_fn, skip_receiver, args, p.param) else {
                    continue;
                };
                let trusted = (0..64).filter(|j| p.needs & (1 << j) != 0).all(|j| {
                    arg_for_param(callee_fn, skip_receiver, args, j)
                        .is_none_or(|e| a.quiet(|a| a.eval(e, state)).is_empty())
                });
                if !trusted {
                    continue;
                }
                let effect = match p.effect {
                    Effect::SameAs(_) => Effect::Allowlisted,
                    ref e => e.clone(),
                };
                out.push(Guard {
                    target: target.clone(),
                    effect,
                    span: test.span,
                    what: callee_fn.name.clone(),
                    assume: p.assume,
                    needs: 0,
                });
            }
            out
        };
        let t = side(&when_true, self);
        let f = side(&when_false, self);
        Some((t, f))
    }

    /// Records what a `return` proves when the function (or the callback being read for a
    /// `some`/`every`) returns a true value and when it returns a false one.
    pub(super) fn note_bool_return(&mut self, value: Option<&Expr>, state: &mut State) {
        let level = self.inlining;
        if self.collectors.last().is_none_or(|c| c.level != level) {
            return;
        }
        let facts: Vec<Guard> = state.facts.iter().map(|g| (**g).clone()).collect();
        let (t, f) = match value.map(|v| &v.kind) {
            Some(ExprKind::Bool(true)) => (Some(facts), None),
            None | Some(ExprKind::Bool(false) | ExprKind::Null) => (None, Some(facts)),
            Some(ExprKind::Num(n)) if n == "0" => (None, Some(facts)),
            Some(_) => {
                let v = value.expect("matched Some");
                let (gt, gf) = self.quiet(|a| a.guards(v, state));
                let mut t = facts.clone();
                t.extend(gt);
                let mut f = facts;
                f.extend(gf);
                (Some(t), Some(f))
            }
        };
        // The function's own collector speaks of its parameters, for its callers.
        let to_params = level == 0;
        let t = t.map(|g| {
            if to_params {
                self.about_params(g, state)
            } else {
                g
            }
        });
        let f = f.map(|g| {
            if to_params {
                self.about_params(g, state)
            } else {
                g
            }
        });
        let Some(c) = self.collectors.last_mut() else {
            return;
        };
        c.when_true = meet_sides(c.when_true.take(), t);
        c.when_false = meet_sides(c.when_false.take(), f);
    }

    /// Guards restated about the parameters they check: a check on `resolved = path.resolve(p)`
    /// is a check on `p` that assumes what `path.resolve` did.
    fn about_params(&mut self, guards: Vec<Guard>, state: &State) -> Vec<Guard> {
        let function = self.function;
        let reassigned = self
            .reassigned
            .get_or_insert_with(|| {
                function
                    .params
                    .iter()
                    .map(|p| {
                        p.name()
                            .is_some_and(|n| super::reassigns(&function.body, n))
                    })
                    .collect()
            })
            .clone();
        let mut out = Vec::new();
        for g in guards {
            let Some(g) = narrow(&g) else { continue };
            let Some(mut root) = self.target_root(&g.target, state) else {
                continue;
            };
            let mut param = None;
            for _ in 0..16 {
                if let Some(i) = function
                    .params
                    .iter()
                    .position(|p| p.name() == Some(root.as_str()))
                {
                    param = Some(i);
                    break;
                }
                match state.same.get(&root) {
                    Some(r) => root = r.clone(),
                    None => break,
                }
            }
            let Some(i) = param else { continue };
            if reassigned[i] || function.params[i].kind != ParamKind::Normal {
                continue;
            }
            // What the value checked went through, beyond the parameter itself.
            let checked = self.target_root(&g.target, state).unwrap_or_default();
            let own: Vec<&Label> = state
                .vars
                .get(&checked)
                .map(|ls| ls.iter().filter(|l| l.origin == Origin::Param(i)).collect())
                .unwrap_or_default();
            let mut assume = own
                .iter()
                .fold(PATH_FLAGS, |acc, l| Flags(acc.0 & l.flags.0));
            if own.is_empty() {
                assume = Flags::default();
            }
            if self.resolves(&g.target) {
                assume = assume.with(Flags::RESOLVED).without(Flags::NORMALIZED);
            } else if self.path_op_in(&g.target, PathOp::Normalize) {
                assume = assume.with(Flags::NORMALIZED);
            }
            let name = function.params[i].name().unwrap_or_default().to_string();
            out.push(Guard {
                target: Expr::new(ExprKind::Name(name), g.target.span),
                assume: g.assume.with(assume),
                ..g
            });
        }
        out
    }

    /// The function's proofs, by parameter, for its summary.
    pub(super) fn predicate_proofs(&mut self) -> Option<(Vec<Proof>, Vec<Proof>)> {
        let c = self.collectors.first()?.clone();
        let function = self.function;
        let convert = |gs: Option<Vec<Guard>>| -> Vec<Proof> {
            gs.unwrap_or_default()
                .into_iter()
                .filter_map(|g| {
                    let ExprKind::Name(n) = &g.target.kind else {
                        return None;
                    };
                    let param = function.params.iter().position(|p| p.name() == Some(n))?;
                    let needs = g.needs
                        | match g.effect {
                            Effect::SameAs(m) => m,
                            _ => 0,
                        };
                    Some(Proof {
                        param,
                        effect: g.effect,
                        assume: g.assume,
                        needs,
                    })
                })
                .collect()
        };
        let t = convert(c.when_true);
        let f = convert(c.when_false);
        (!t.is_empty() || !f.is_empty()).then_some((t, f))
    }

    fn compare_guard(
        &mut self,
        test: &Expr,
        left: &Expr,
        op: CmpOp,
        right: &Expr,
        state: &mut State,
    ) -> Sides {
        let g = |target: &Expr, effect: Effect, what: &str| Guard {
            target: target.clone(),
            effect,
            span: test.span,
            what: what.to_string(),
            assume: Flags::default(),
            needs: 0,
        };
        // `os.path.commonpath([base, p]) == base`: containment of p.
        for (call, other) in [(left, right), (right, left)] {
            if let ExprKind::Call { callee, args, .. } = &call.kind
                && let Some(path) = self.canonical(callee, state)
                && matches!(path.as_str(), "os.path.commonpath" | "os.path.commonprefix")
            {
                let items: Vec<&Expr> = match args.first().map(|a| &a.value.kind) {
                    Some(ExprKind::Seq(items)) => items.iter().collect(),
                    _ => args.iter().map(|a| &a.value).collect(),
                };
                let other_root = root_key(other);
                let Some(target) = items.into_iter().find(|e| root_key(e) != other_root) else {
                    break;
                };
                let effect = if path.ends_with("commonpath") {
                    Effect::Contained
                } else {
                    // commonprefix compares characters: `/srv/data-evil` shares `/srv/data`.
                    Effect::Prefix { separator: false }
                };
                let guard = g(target, effect, "commonpath");
                return match op {
                    CmpOp::Eq => (vec![guard], vec![]),
                    CmpOp::NotEq => (vec![], vec![guard]),
                    _ => (vec![], vec![]),
                };
            }
        }
        match op {
            CmpOp::In | CmpOp::NotIn => {
                let holds_in = op == CmpOp::In;
                let flag = |e: &Expr, f: Flags, holds: bool| -> Sides {
                    let guard = g(e, Effect::Flag(f), "in");
                    if holds {
                        (vec![], vec![guard])
                    } else {
                        (vec![guard], vec![])
                    }
                };
                // `".." in path`: refused when true.
                if left.as_str() == Some("..") {
                    return flag(right, Flags::DOTDOT_CHECKED, holds_in);
                }
                // `"/" in name` refused: a single file name, which cannot leave the folder it is
                // joined onto.
                let separator = left.as_str().is_some_and(|s| s == "/" || s == "\\")
                    || left
                        .dotted()
                        .is_some_and(|d| self.catalog.separators.contains(&d.as_str()));
                if separator {
                    let guard = g(right, Effect::Clean(Cleaned::of(&[SinkKind::Path])), "in");
                    return if holds_in {
                        (vec![], vec![guard])
                    } else {
                        (vec![guard], vec![])
                    };
                }
                // `"localhost" in url`: refused when true.
                if left.as_str().is_some_and(looks_like_local_host) {
                    return flag(right, Flags::BLOCKLISTED, holds_in);
                }
                // A set the caller chose allows anything. One the server read (its own tables,
                // an operator's `ALLOWED_HOSTS` variable) still limits the value to what exists.
                let container = self.quiet(|a| a.eval(right, state));
                if container
                    .iter()
                    .any(|l| matches!(l.origin, Origin::Param(_)))
                {
                    return (vec![], vec![]);
                }
                let (target, allow) = match first_word_of(left) {
                    Some(root) => (root, Effect::Flag(Flags::PREFIX_CHECKED)),
                    None => (left.clone(), Effect::Allowlisted),
                };
                // In a set: allowed. Not in a set (and refused otherwise): a blocklist.
                let block = g(&target, Effect::Flag(Flags::BLOCKLISTED), "in");
                let allow = g(&target, allow, "in");
                if holds_in {
                    (vec![allow], vec![block])
                } else {
                    (vec![block], vec![allow])
                }
            }
            CmpOp::Eq | CmpOp::NotEq if right.as_str().is_some() || left.as_str().is_some() => {
                let (target, literal) = if left.as_str().is_some() {
                    (right, left.as_str())
                } else {
                    (left, right.as_str())
                };
                let (target, effect) = match first_word_of(target) {
                    Some(root) => (root, Effect::Flag(Flags::PREFIX_CHECKED)),
                    None => (target.clone(), Effect::Allowlisted),
                };
                let equal = vec![g(&target, effect, "==")];
                // `host == "localhost"` refused: a blocklist entry.
                let differ = if literal.is_some_and(looks_like_local_host) {
                    vec![g(&target, Effect::Flag(Flags::BLOCKLISTED), "==")]
                } else {
                    vec![]
                };
                if op == CmpOp::Eq {
                    (equal, differ)
                } else {
                    (differ, equal)
                }
            }
            // `p === base`, `host == configured_host`: equal to another value is as clean as
            // that value. Equal to one a parameter holds says so, for the function's callers.
            CmpOp::Eq | CmpOp::NotEq => {
                let mut equal = Vec::new();
                for (target, other) in [(left, right), (right, left)] {
                    if guard_root(target).is_none() {
                        continue;
                    }
                    let other_labels = self.quiet(|a| a.eval(other, state));
                    let effect = if other_labels.is_empty() {
                        Effect::Allowlisted
                    } else {
                        let mut mask = 0u64;
                        for l in other_labels.iter() {
                            match l.origin {
                                Origin::Param(i) if i < 64 => mask |= 1 << i,
                                _ => {
                                    mask = 0;
                                    break;
                                }
                            }
                        }
                        let target_labels = self.quiet(|a| a.eval(target, state));
                        let own = target_labels.iter().any(|l| {
                            matches!(l.origin, Origin::Param(i) if i < 64 && mask & (1 << i) != 0)
                        });
                        if mask == 0 || own {
                            continue;
                        }
                        Effect::SameAs(mask)
                    };
                    equal.push(g(target, effect, "=="));
                }
                if op == CmpOp::Eq {
                    (equal, vec![])
                } else {
                    (vec![], equal)
                }
            }
            CmpOp::Lt | CmpOp::LtE | CmpOp::Gt | CmpOp::GtE => {
                // A size compared with a bound: `getsize(p) > LIMIT` refused, or `<= LIMIT`
                // required. Either way round, reading after it is bounded.
                let mut size = Vec::new();
                for side in [left, right] {
                    if let Some(t) = size_target(side) {
                        size.push(g(&t, Effect::Flag(Flags::SIZE_CHECKED), "size"));
                    }
                }
                let bounded = [left, right]
                    .iter()
                    .any(|e| matches!(e.kind, ExprKind::Num(ref n) if n != "0"))
                    || [left, right].iter().any(|e| e.dotted().is_some());
                if bounded {
                    (size.clone(), size)
                } else {
                    (vec![], vec![])
                }
            }
            _ => (vec![], vec![]),
        }
    }

    fn call_guard(&mut self, test: &Expr, callee: &Expr, args: &[Arg], state: &mut State) -> Sides {
        let g = |target: &Expr, effect: Effect, what: &str| Guard {
            target: target.clone(),
            effect,
            span: test.span,
            what: what.into(),
            assume: Flags::default(),
            needs: 0,
        };
        let path = self.canonical(callee, state);
        if let ExprKind::Attr { object, name, .. } = &callee.kind {
            let m = name.as_str();
            if self.catalog.prefix_checks.contains(&m) {
                let Some(base) = args.first().map(|a| &a.value) else {
                    return (vec![], vec![]);
                };
                let literals: Vec<&str> = match &base.kind {
                    ExprKind::Seq(items) => items.iter().filter_map(Expr::as_str).collect(),
                    _ => base.as_str().into_iter().collect(),
                };
                // `x.startswith("-")`: refusing it keeps x from being an option.
                if literals.iter().any(|s| *s == "-" || *s == "--") {
                    return (
                        vec![],
                        vec![g(
                            object,
                            Effect::Clean(Cleaned::of(&[SinkKind::ArgInjection])),
                            m,
                        )],
                    );
                }
                // `x.startswith("/")`: refusing it keeps x relative.
                if literals.iter().any(|s| *s == "/" || *s == "\\") {
                    return (vec![], vec![g(object, Effect::Flag(Flags::ABS_CHECKED), m)]);
                }
                if !literals.is_empty() && literals.iter().all(|s| looks_like_local_host(s)) {
                    return (vec![], vec![g(object, Effect::Flag(Flags::BLOCKLISTED), m)]);
                }
                let separator = self.ends_with_separator(base);
                return (vec![g(object, Effect::Prefix { separator }, m)], vec![]);
            }
            if m == "is_absolute" {
                return (vec![], vec![g(object, Effect::Flag(Flags::ABS_CHECKED), m)]);
            }
            if matches!(
                m,
                "isdigit" | "isdecimal" | "isnumeric" | "isalnum" | "isidentifier" | "isalpha"
            ) {
                return (vec![g(object, Effect::Allowlisted, m)], vec![]);
            }
            // `NAME_RE.fullmatch(x)`, `NAME_RE.match(x)` with a compiled module constant.
            if matches!(m, "fullmatch" | "match")
                && let ExprKind::Name(re_name) = &object.kind
                && let Some(pattern) = self
                    .project
                    .constant(self.module_index, re_name)
                    .and_then(|c| c.strip_prefix(crate::code::taint::project::COMPILED_REGEX))
                && let Some(value) = args.first()
                && (m == "fullmatch" || pattern.ends_with('$') || pattern.ends_with("\\Z"))
                && let Some(cleans) = regex_cleans(pattern)
            {
                return (
                    vec![g(&value.value, Effect::Clean(cleans), "regex")],
                    vec![],
                );
            }
            // `/^[a-z0-9_-]+$/.test(x)`, `NAME_RE.test(x)`: a search, so only a pattern anchored
            // at both ends says what the whole value is.
            if m == "test"
                && let Some(pattern) = self.constant_text(object)
                && pattern.starts_with('^')
                && pattern.ends_with('$')
                && let Some(value) = args.first()
                && let Some(cleans) = regex_cleans(&pattern)
            {
                return (
                    vec![g(&value.value, Effect::Clean(cleans), "regex")],
                    vec![],
                );
            }
            if self
                .catalog
                .containment_checks
                .iter()
                .any(|c| matches!(c, Callee::Method(cm) if *cm == m))
            {
                return (vec![g(object, Effect::Contained, m)], vec![]);
            }
            // `dirs.some(d => p === d || p.startsWith(d + sep))`: what the callback's returns
            // prove about the values it closes over.
            if matches!(m, "some" | "every")
                && let Some(Arg {
                    value:
                        Expr {
                            kind: ExprKind::Function(id),
                            ..
                        },
                    ..
                }) = args.first()
            {
                let flowing = self.quiet(|a| a.eval(object, state));
                return self.callback_returns(*id, flowing, state);
            }
        }
        if let Some(sides) = self.predicate_guard(test, callee, args, state) {
            return sides;
        }
        match path.as_deref() {
            Some("os.path.isabs" | "path.isAbsolute" | "path.posix.isAbsolute") => {
                if let Some(a) = args.first() {
                    return (
                        vec![],
                        vec![g(&a.value, Effect::Flag(Flags::ABS_CHECKED), "isabs")],
                    );
                }
            }
            // `any(p.is_relative_to(r) for r in ROOTS)`: the generator's element is the check.
            Some("any" | "all") => {
                if let Some(ExprKind::Unknown(children)) = args.first().map(|a| &a.value.kind)
                    && let [element] = children.as_slice()
                {
                    let element = element.clone();
                    return self.guards(&element, state);
                }
            }
            Some("re.fullmatch" | "re.match") => {
                if let (Some(pattern), Some(value)) =
                    (args.first().and_then(|a| a.value.as_str()), args.get(1))
                {
                    let full = path.as_deref() == Some("re.fullmatch")
                        || pattern.ends_with('$')
                        || pattern.ends_with("\\Z");
                    if full && let Some(cleans) = regex_cleans(pattern) {
                        return (
                            vec![g(&value.value, Effect::Clean(cleans), "regex")],
                            vec![],
                        );
                    }
                }
            }
            _ => {}
        }
        (vec![], vec![])
    }

    /// `try: p.relative_to(base) except ValueError: raise`: after it, p is inside base.
    pub(super) fn try_guards(&self, body: &[Stmt]) -> Vec<Guard> {
        body.iter()
            .filter_map(|stmt| {
                let (StmtKind::Expr(e) | StmtKind::Assign { value: e, .. }) = &stmt.kind else {
                    return None;
                };
                let ExprKind::Call { callee, .. } = &e.kind else {
                    return None;
                };
                let ExprKind::Attr { object, name, .. } = &callee.kind else {
                    return None;
                };
                (name == "relative_to").then(|| Guard {
                    target: (**object).clone(),
                    effect: Effect::Contained,
                    span: e.span,
                    what: "relative_to".into(),
                    assume: Flags::default(),
                    needs: 0,
                })
            })
            .collect()
    }

    /// Whether a prefix ends with a path separator: literally, through a constant of the
    /// module, `base + os.sep`, or `os.path.join(base, "")`.
    fn ends_with_separator(&self, base: &Expr) -> bool {
        let is_sep = |e: &Expr| {
            e.dotted().is_some_and(|d| {
                self.catalog
                    .separators
                    .contains(&self.resolve_dotted(&d).as_str())
            })
        };
        if let Some(text) = self.constant_text(base) {
            return text.ends_with('/') || text.ends_with('\\');
        }
        // `p.startsWith(path.sep)`: the prefix is the separator itself (the root folder).
        if is_sep(base) {
            return true;
        }
        match &base.kind {
            ExprKind::Binary { right, .. } => is_sep(right) || self.ends_with_separator(right),
            ExprKind::Template(parts) => parts
                .last()
                .is_some_and(|p| is_sep(p) || self.ends_with_separator(p)),
            // `os.path.join(base, "")` adds the separator.
            // `base.replace(/\\?$/, "\\")`: the end of the prefix replaced with a separator.
            ExprKind::Call { callee, args, .. } if matches!(&callee.kind, ExprKind::Attr { name, .. } if name == "replace") =>
            {
                let anchored = args
                    .first()
                    .and_then(|a| self.constant_text(&a.value))
                    .is_some_and(|p| p.ends_with('$'));
                let sep = args.get(1).is_some_and(|a| {
                    is_sep(&a.value)
                        || self
                            .constant_text(&a.value)
                            .is_some_and(|t| t.ends_with('/') || t.ends_with('\\'))
                });
                anchored && sep
            }
            ExprKind::Call { args, .. } => args.last().and_then(|a| a.value.as_str()) == Some(""),
            // A tuple of prefixes: all must end with one.
            ExprKind::Seq(items) => {
                !items.is_empty() && items.iter().all(|i| self.ends_with_separator(i))
            }
            _ => false,
        }
    }

    pub(super) fn apply(&mut self, guards: &[Guard], state: &mut State) {
        for guard in guards {
            // An allowlist says something about exactly what it compared: `x in ALLOWED` cleans
            // `x`; `parsed.hostname in HOSTS` cleans the URL for requests only; `parsed.scheme
            // in (...)` or `len(x) < 10` say nothing about the rest.
            let Some(narrowed) = narrow(guard) else {
                continue;
            };
            let guard = &narrowed;
            if matches!(guard.effect, Effect::SameAs(_)) {
                continue;
            }
            let Some(root) = self.target_root(&guard.target, state) else {
                continue;
            };
            let mut targets = vec![root.clone()];
            // A check on a value computed from another says something about that other only
            // when it is about the same thing: a host refused or required (`parsed.hostname`),
            // a blocklist, a `..` test. Allowlisting `first = cmd.split()[0]` allows no `cmd`.
            let carries_over = matches!(guard.effect, Effect::Flag(_))
                || guard.effect == Effect::Clean(Cleaned::of(&[SinkKind::Ssrf]));
            if carries_over && let Some(parents) = state.derived.get(&root) {
                targets.extend(parents.iter().cloned());
            }
            let mut missing_children: Vec<String> = Vec::new();
            // `real = normalize(await fs.realpath(p))` checked: a containment check on a
            // value computed from one other alone, by a call of it, holds for that other.
            if matches!(
                guard.effect,
                Effect::Contained | Effect::Prefix { .. } | Effect::Clean(_)
            ) {
                let mut r = root.clone();
                for _ in 0..16 {
                    // The folder of a path that does not exist (its resolution failed), checked
                    // after resolving: the path is inside too, and no link of its own leads out.
                    if let Some(child) = state.parent_of.get(&r)
                        && state.missing.contains(child)
                        && !missing_children.contains(child)
                    {
                        missing_children.push(child.clone());
                    }
                    match state.same.get(&r) {
                        Some(parent) if !targets.contains(parent) => {
                            targets.push(parent.clone());
                            r = parent.clone();
                        }
                        _ => break,
                    }
                }
            }
            // `first = cmd.split()[0]; if first in ALLOWED`: `cmd` passed a first-word check.
            if let (Effect::Allowlisted, Some(whole)) =
                (&guard.effect, state.first_word.get(&root).cloned())
            {
                let flag = Guard {
                    effect: Effect::Flag(Flags::PREFIX_CHECKED),
                    ..guard.clone()
                };
                if let Some(labels) = state.vars.get(&whole).cloned() {
                    let mut out = Labels::default();
                    for l in labels.0 {
                        out.add(self.judge(l, &flag));
                    }
                    state.vars.insert(whole, out);
                }
            }
            // `Path(p).resolve().is_relative_to(base)`: the check resolved `p` itself, so it
            // judges `p` as resolved, though `p` keeps its own flags.
            let resolved_inline = matches!(guard.effect, Effect::Contained | Effect::Prefix { .. })
                && self.resolves(&guard.target);
            let resolved_parent = self.resolves_to_check(guard, &targets, state);
            for child in missing_children.into_iter().filter(|_| resolved_parent) {
                if let Some(labels) = state.vars.get(&child).cloned() {
                    let cleaned = labels.map(|l| Label {
                        cleaned: l.cleaned.with(Cleaned::of(&[SinkKind::Path])),
                        flags: l.flags.without(Flags::WEAK_CONTAINED),
                        ..l
                    });
                    state.vars.insert(child, cleaned);
                }
            }
            for (n, target) in targets.into_iter().enumerate() {
                // What the checked value went through, a predicate's own normalisation
                // included; the values it was computed from are judged by their own flags.
                let assume = if n == 0 {
                    guard.assume
                } else {
                    Flags::default()
                };
                let Some(labels) = state.vars.get(&target).cloned() else {
                    continue;
                };
                let mut out = Labels::default();
                for l in labels.0 {
                    let orig = l.flags;
                    let assumed = if resolved_inline || assume.has(Flags::RESOLVED) {
                        orig.with(Flags::RESOLVED).without(Flags::NORMALIZED)
                    } else {
                        orig.with(assume)
                    };
                    let judged = if assumed == orig || orig.has(Flags::RESOLVED) {
                        self.judge(l, guard)
                    } else {
                        // Judged as the check saw it; keeps what the check added, not what
                        // was assumed.
                        let j = self.judge(
                            Label {
                                flags: assumed,
                                ..l
                            },
                            guard,
                        );
                        let added = Flags(j.flags.0 & !assumed.0);
                        Label {
                            flags: orig.with(added),
                            ..j
                        }
                    };
                    out.add(judged);
                }
                state.vars.insert(target, out);
            }
        }
    }

    /// Whether a containment check is made on a resolved value: the checked value or one of
    /// those it was computed from holds only resolved labels, or the check resolves inline.
    fn resolves_to_check(&self, guard: &Guard, targets: &[String], state: &State) -> bool {
        if !matches!(
            guard.effect,
            Effect::Contained | Effect::Prefix { separator: true }
        ) {
            return false;
        }
        guard.assume.has(Flags::RESOLVED)
            || self.resolves(&guard.target)
            || targets.iter().any(|t| {
                state.vars.get(t).is_some_and(|ls| {
                    !ls.is_empty() && ls.iter().all(|l| l.flags.has(Flags::RESOLVED))
                })
            })
    }

    /// Whether an expression passes its value through a path function doing `op` on its way
    /// (`os.path.abspath(p)`, `path.resolve(p)` for `Normalize`).
    fn path_op_in(&self, e: &Expr, op: PathOp) -> bool {
        let ExprKind::Call { callee, args, .. } = &e.kind else {
            return false;
        };
        let path = callee.dotted().map(|d| self.resolve_dotted(&d));
        let method = match &callee.kind {
            ExprKind::Attr { name, .. } => Some(name.as_str()),
            _ => None,
        };
        self.catalog.path_fns.iter().any(|f| {
            f.op == op
                && match f.callee {
                    Callee::Path(p) => path.as_deref() == Some(p),
                    Callee::Method(m) => method == Some(m),
                }
        }) || match &callee.kind {
            ExprKind::Attr { object, .. } if path.is_none() => self.path_op_in(object, op),
            _ => args.first().is_some_and(|a| self.path_op_in(&a.value, op)),
        }
    }

    /// The variable a check is about, knowing which names are variables: in
    /// `os.path.abspath(p).startswith(base)` it is `p`, not the module `os`; in
    /// `path.resolve(base, p)` it is `p`, the segment that decides where the result is (an
    /// absolute `p` replaces `base`).
    fn target_root(&self, e: &Expr, state: &State) -> Option<String> {
        if let ExprKind::Call { callee, args, .. } = &e.kind
            && let ExprKind::Attr { object, .. } = &callee.kind
            && let Some(r) = guard_root(object)
            && !state.vars.contains_key(&r)
            && !r.starts_with("self.")
            && let Some(first) = args.first()
        {
            let path = callee.dotted().map(|d| self.resolve_dotted(&d));
            let resolves_segments = self.catalog.path_fns.iter().any(|f| {
                f.op != PathOp::Join
                    && matches!(f.callee, Callee::Path(p) if path.as_deref() == Some(p))
            });
            let last = args.iter().rev().find(|a| {
                !a.spread
                    && a.name.is_none()
                    && !matches!(
                        a.value.kind,
                        ExprKind::Str(_) | ExprKind::Num(_) | ExprKind::Bool(_) | ExprKind::Null
                    )
            });
            let segment = match last {
                Some(last) if resolves_segments => last,
                _ => first,
            };
            return self.target_root(&segment.value, state);
        }
        guard_root(e)
    }

    /// Whether an expression resolves links on its way (`Path(p).resolve()`,
    /// `str(os.path.realpath(p))`).
    fn resolves(&self, e: &Expr) -> bool {
        let ExprKind::Call { callee, args, .. } = &e.kind else {
            return false;
        };
        let method = match &callee.kind {
            ExprKind::Attr { name, .. } => Some(name.as_str()),
            _ => None,
        };
        let path = callee.dotted().map(|d| self.resolve_dotted(&d));
        let is_resolve = self.catalog.path_fns.iter().any(|f| {
            f.op == PathOp::Resolve
                && match f.callee {
                    Callee::Path(p) => path.as_deref() == Some(p),
                    Callee::Method(m) => method == Some(m),
                }
        });
        is_resolve
            || match &callee.kind {
                ExprKind::Attr { object, .. } => self.resolves(object),
                _ => args.first().is_some_and(|a| self.resolves(&a.value)),
            }
    }

    /// A label after passing a check; weak checks become findings of their own here.
    fn judge(&mut self, l: Label, guard: &Guard) -> Label {
        let path_clean = |l: &Label| Label {
            // Containment of the archive's own path says nothing about its members.
            cleaned: l.cleaned.with(Cleaned::of(&[SinkKind::Path])),
            ..l.clone()
        };
        let check = Some(self.step(
            guard.span,
            format!("checked with `{}`", self.short(guard.span)),
        ));
        // Contained once normalised but with links unresolved: a finding where it is used
        // as a path, unless a later check (after `realpath`) contains it for good.
        let weak = |l: Label| Label {
            flags: l.flags.with(Flags::WEAK_CONTAINED),
            check: check.clone(),
            ..l
        };
        match guard.effect {
            Effect::SameAs(_) => l,
            Effect::Allowlisted => Label {
                cleaned: Cleaned::ALL,
                ..l
            },
            Effect::Clean(c) => Label {
                cleaned: l.cleaned.with(c),
                ..l
            },
            Effect::Flag(f) => Label {
                flags: l.flags.with(f),
                check,
                ..l
            },
            Effect::Prefix { separator } => {
                if l.flags.has(Flags::RESOLVED) {
                    if !separator {
                        self.broken(Broken::PrefixBypass, guard, &l);
                    }
                    path_clean(&l)
                } else if l.flags.has(Flags::NORMALIZED) {
                    weak(l)
                } else {
                    Label {
                        flags: l.flags.with(Flags::PREFIX_CHECKED),
                        check,
                        ..l
                    }
                }
            }
            Effect::Contained => {
                if l.flags.has(Flags::RESOLVED) {
                    path_clean(&l)
                } else if l.flags.has(Flags::NORMALIZED) {
                    weak(l)
                } else {
                    l
                }
            }
        }
    }

    fn broken(&mut self, kind: Broken, guard: &Guard, l: &Label) {
        if l.cleaned.has(SinkKind::Path) {
            return;
        }
        let step = self.step(
            guard.span,
            format!("checked with `{}`", self.short(guard.span)),
        );
        let labels = Labels(vec![l.step(step)]);
        self.push_hit(Hit {
            kind: HitKind::Broken(kind),
            module: self.module_index,
            span: guard.span,
            what: guard.what.clone(),
            labels,
            fixed: None,
        });
    }

    pub(super) fn flag_var(&self, root: &str, flag: Flags, state: &mut State) {
        let mut targets = vec![root.to_string()];
        if let Some(parents) = state.derived.get(root) {
            targets.extend(parents.iter().cloned());
        }
        for t in targets {
            if let Some(labels) = state.vars.get(&t).cloned() {
                state.vars.insert(t, labels.with_flags(flag));
            }
        }
    }
}

/// What holds whichever of several sides is taken: the guards all of them prove, plus every
/// path check (judged wherever it is).
fn either<'a>(sides: impl Iterator<Item = &'a Vec<Guard>> + Clone) -> Vec<Guard> {
    let all: Vec<&Vec<Guard>> = sides.collect();
    let mut out: Vec<Guard> = all
        .iter()
        .flat_map(|s| s.iter().filter(|g| g.is_path_check()).cloned())
        .collect();
    if let Some((first, rest)) = all.split_first() {
        for g in first.iter() {
            if !g.is_path_check() && rest.iter().all(|s| s.iter().any(|o| o.same_as(g))) {
                out.push(g.clone());
            }
        }
    }
    out
}

/// `self.x`: a field of the instance.
fn is_field(dotted: &str) -> bool {
    dotted.starts_with("self.") && dotted.matches('.').count() == 1
}

fn root_key(e: &Expr) -> Option<String> {
    guard_root(e)
}

/// The variable a check is about: `x`, `self.x`, `parsed.hostname` -> `parsed`.
pub(super) fn guard_root(e: &Expr) -> Option<String> {
    let root = match &e.kind {
        ExprKind::Name(n) => Some(n.clone()),
        ExprKind::Attr { object, .. } => e.dotted().or_else(|| guard_root(object)),
        ExprKind::Call { callee, args, .. } => match &callee.kind {
            // `str(p)`, `Path(p).resolve()`: about p.
            ExprKind::Attr { object, .. } => guard_root(object),
            _ => args.first().and_then(|a| guard_root(&a.value)),
        },
        ExprKind::Subscript { object, .. } => guard_root(object),
        ExprKind::Await(inner) => guard_root(inner),
        _ => None,
    }?;
    if root.starts_with("self.") {
        let mut parts = root.splitn(3, '.');
        return Some(format!("self.{}", parts.nth(1).unwrap_or("")));
    }
    Some(root.split('.').next().unwrap_or(&root).to_string())
}

/// `cmd.split()[0]`, `shlex.split(cmd)[0]`: a check on the first word of `cmd`.
fn first_word_of(e: &Expr) -> Option<Expr> {
    let ExprKind::Subscript { object, index } = &e.kind else {
        return None;
    };
    if !matches!(index.kind, ExprKind::Num(ref n) if n == "0") {
        return None;
    }
    let ExprKind::Call { callee, args, .. } = &object.kind else {
        return None;
    };
    match &callee.kind {
        // `shlex.split(cmd)`: a module function; the string is its argument.
        ExprKind::Attr { name, .. }
            if name == "split" && callee.dotted().is_some_and(|d| d.ends_with("shlex.split")) =>
        {
            args.first().map(|a| a.value.clone())
        }
        // `cmd.split()`: a method of the string.
        ExprKind::Attr { object, name, .. } if name == "split" => Some((**object).clone()),
        _ => None,
    }
}

/// The variable whose first word an expression is (`cmd.split()[0]` -> `cmd`).
pub(super) fn first_word_root(e: &Expr) -> Option<String> {
    guard_root(&first_word_of(e)?)
}

/// `os.path.getsize(p)`, `p.stat().st_size`, `len(data)`: what a size comparison is about.
fn size_target(e: &Expr) -> Option<Expr> {
    match &e.kind {
        ExprKind::Call { callee, args, .. }
            if callee
                .dotted()
                .is_some_and(|d| d.ends_with("getsize") || d == "len") =>
        {
            args.first().map(|a| a.value.clone())
        }
        // `os.stat(p).st_size`, `Path(p).stat().st_size`, `(await fs.stat(p)).size`,
        // `fs.statSync(p).size`, `Bun.file(p).size`: the size of what the call was given, or of
        // its receiver when it was given nothing; `st.size` of a name bound to one (the check
        // carries over to what the name was computed from).
        ExprKind::Attr { object, name, .. } if name == "st_size" || name == "size" => {
            let object = match &object.kind {
                ExprKind::Await(inner) => inner,
                _ => object,
            };
            match &object.kind {
                ExprKind::Call { callee, args, .. } => {
                    match (args.iter().find(|a| a.name.is_none()), &callee.kind) {
                        (Some(first), _) => Some(first.value.clone()),
                        (None, ExprKind::Attr { object, .. }) => Some((**object).clone()),
                        (None, _) => None,
                    }
                }
                ExprKind::Name(_) => Some((**object).clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `localhost`, `127.0.0.1`, `169.254.169.254`, `10.`: what host blocklists list.
pub(super) fn looks_like_local_host(s: &str) -> bool {
    let s = s.trim().to_ascii_lowercase();
    s.contains("localhost")
        || s.starts_with("127.")
        || s.starts_with("169.254")
        || s.starts_with("10.")
        || s.starts_with("192.168.")
        || s.starts_with("172.16.")
        || s.starts_with("0.0.0.0")
        || s == "::1"
        || s == "[::1]"
        || s.contains("metadata.google.internal")
}

/// The characters a regular expression's single character class allows, roughly: `\w`, `\d`
/// and `\s` expanded, ranges kept as their ends (enough to tell which metacharacters are in).
fn class_chars(class: &str) -> String {
    // Read into single characters first (escapes expanded), then join ranges: a `-` between
    // two characters is a range, not a dash.
    let mut items: Vec<String> = Vec::new();
    let mut chars = class.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('w') => items.push("azAZ09_".into()),
                Some('d') => items.push("09".into()),
                Some('s') => items.push(" \t\n".into()),
                Some(other) => items.push(format!("\\{other}")),
                None => {}
            }
        } else {
            items.push(c.to_string());
        }
    }
    let mut out = String::new();
    // A `-` right after a range (`[0-9-.]`) or a class escape (`[\w-]`) is a dash.
    let mut range_end = None;
    for (i, item) in items.iter().enumerate() {
        let single = |x: &String| x.chars().count() == 1 || x.starts_with('\\');
        let is_range_dash = item == "-"
            && i > 0
            && i + 1 < items.len()
            && range_end != Some(i - 1)
            && single(&items[i - 1])
            && single(&items[i + 1]);
        if is_range_dash {
            range_end = Some(i + 1);
            continue;
        }
        out.push_str(item.strip_prefix('\\').unwrap_or(item));
    }
    out
}

/// What a full-match regular expression made of one character class keeps out: `^[a-z0-9_-]+$`
/// keeps shell metacharacters, quotes and path separators out; `[\w().,]+` still allows
/// `__import__("os")`, so it cleans nothing for code.
pub(super) fn regex_cleans(pattern: &str) -> Option<Cleaned> {
    // Callers only pass patterns that must match the whole value (`fullmatch`, or `match`
    // ending in `$`); a leading `^` changes nothing then.
    let anchored = pattern.strip_prefix('^').unwrap_or(pattern);
    let p = anchored
        .strip_suffix("\\Z")
        .or_else(|| anchored.strip_suffix('$'))
        .unwrap_or(anchored);
    let Some(units) = regex_units(p) else {
        // Groups, alternation or `.`: too much to read for the characters allowed, but the
        // first character alone still says whether the value can be an option
        // (`^(@[a-z0-9-~]+\/)?[a-z0-9~][a-z0-9-._~]*$`, an npm package name).
        let (first, nullable) = first_chars(p)?;
        return (!nullable && !first.contains('-')).then(|| Cleaned::of(&[SinkKind::ArgInjection]));
    };
    let chars: String = units.iter().map(|u| u.chars.as_str()).collect();
    let has_any = |set: &str| set.chars().any(|c| chars.contains(c));
    let letters = chars.chars().any(|c| c.is_ascii_alphabetic()) || chars.contains('_');
    let mut kinds = Vec::new();
    if !has_any(";&|`$<>(){}\"' \n*?\\") {
        kinds.push(SinkKind::Shell);
    }
    if !has_any("/\\.") {
        kinds.push(SinkKind::Path);
    }
    if !has_any(":/@") {
        kinds.push(SinkKind::Ssrf);
    }
    // The first character decides whether the value can be an option.
    if units
        .first()
        .is_some_and(|u| !u.optional && !u.chars.contains('-'))
    {
        kinds.push(SinkKind::ArgInjection);
    }
    if !has_any("'\";\\=() -") {
        kinds.push(SinkKind::Sql);
    }
    if !letters {
        kinds.push(SinkKind::CodeEval);
    }
    if !has_any("{}%<>") {
        kinds.push(SinkKind::Template);
    }
    Some(Cleaned::of(&kinds))
}

/// One element of a simple regular expression: the characters it allows, and whether it may
/// match nothing.
struct Unit {
    chars: String,
    optional: bool,
}

/// Reads a pattern made only of character classes, `\w`/`\d`/`\s`, escaped and plain literal
/// characters, each with an optional quantifier. Anything else (groups, `.`, alternation) is
/// not understood, and nothing is cleaned.
fn regex_units(p: &str) -> Option<Vec<Unit>> {
    let mut units = Vec::new();
    let mut rest = p;
    while let Some(c) = rest.chars().next() {
        let (chars, used) = match c {
            '[' => {
                let end = rest.find(']')?;
                let raw = &rest[1..end];
                if raw.starts_with('^') {
                    return None;
                }
                (class_chars(raw), end + 1)
            }
            '\\' => {
                let next = rest[1..].chars().next()?;
                (
                    class_chars(&rest[..1 + next.len_utf8()]),
                    1 + next.len_utf8(),
                )
            }
            '.' | '(' | ')' | '|' | '^' | '$' => return None,
            other => (other.to_string(), other.len_utf8()),
        };
        rest = &rest[used..];
        let optional = match rest.chars().next() {
            Some('*' | '?') => {
                rest = &rest[1..];
                true
            }
            Some('+') => {
                rest = &rest[1..];
                false
            }
            Some('{') => {
                let end = rest.find('}')?;
                let zero = rest[1..end].starts_with('0') || rest[1..end].starts_with(',');
                rest = &rest[end + 1..];
                zero
            }
            _ => false,
        };
        units.push(Unit { chars, optional });
    }
    (!units.is_empty()).then_some(units)
}

/// The characters a full-match regular expression's value can start with, and whether it can
/// be empty: read through groups (`(..)`, `(?:..)`, `(?<name>..)`), alternation inside them,
/// classes, escapes and quantifiers. `None` for what it does not follow (`.` anywhere first,
/// lookarounds, back references, negated classes, alternation at the top level, where `^a|b$`
/// anchors each side alone).
fn first_chars(p: &str) -> Option<(String, bool)> {
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let (set, nullable) = first_of_alternation(&chars, &mut i, 0)?;
    // Stopped early on an unbalanced `)`, or found `|` at the top level.
    if i < chars.len() || set.1 {
        return None;
    }
    Some((set.0, nullable))
}

/// First characters of `a|b|..` up to the closing `)` (consumed) or the end; the flag in the
/// set says an alternation was seen.
#[allow(clippy::type_complexity)]
fn first_of_alternation(
    chars: &[char],
    i: &mut usize,
    depth: usize,
) -> Option<((String, bool), bool)> {
    if depth > 16 {
        return None;
    }
    let mut all = String::new();
    let mut nullable = false;
    let mut alternation = false;
    loop {
        let (first, null) = first_of_sequence(chars, i, depth)?;
        all.push_str(&first);
        nullable |= null;
        match chars.get(*i) {
            Some('|') => {
                alternation = true;
                *i += 1;
            }
            Some(')') if depth > 0 => {
                *i += 1;
                return Some(((all, false), nullable));
            }
            Some(_) => return None,
            None if depth == 0 => return Some(((all, alternation), nullable)),
            None => return None,
        }
    }
}

/// First characters of a sequence of atoms, up to `|`, `)` or the end; the atoms after the
/// first that cannot be empty are skipped, checked only for what is not followed.
fn first_of_sequence(chars: &[char], i: &mut usize, depth: usize) -> Option<(String, bool)> {
    let mut first = String::new();
    let mut nullable = true;
    while let Some(&c) = chars.get(*i) {
        let atom: Option<String> = match c {
            '|' | ')' => break,
            '^' if *i == 0 => {
                *i += 1;
                continue;
            }
            '$' if *i + 1 == chars.len() => {
                *i += 1;
                continue;
            }
            '[' => {
                let end = chars[*i..].iter().position(|&x| x == ']')? + *i;
                let raw: String = chars[*i + 1..end].iter().collect();
                if raw.starts_with('^') {
                    return None;
                }
                *i = end + 1;
                Some(class_chars(&raw))
            }
            '\\' => {
                let next = *chars.get(*i + 1)?;
                if next.is_ascii_digit() || matches!(next, 'k' | 'b' | 'B') {
                    return None;
                }
                *i += 2;
                Some(class_chars(&format!("\\{next}")))
            }
            '(' => {
                *i += 1;
                if chars.get(*i) == Some(&'?') {
                    match (chars.get(*i + 1), chars.get(*i + 2)) {
                        (Some(':'), _) => *i += 2,
                        (Some('<'), Some(n)) if *n != '=' && *n != '!' => {
                            *i += chars[*i..].iter().position(|&x| x == '>')? + 1;
                        }
                        _ => return None,
                    }
                }
                let ((set, _), null) = first_of_alternation(chars, i, depth + 1)?;
                if null {
                    // A group that can be empty: its first characters and those of what
                    // follows.
                    quantifier(chars, i)?;
                    if nullable {
                        first.push_str(&set);
                    }
                    continue;
                }
                Some(set)
            }
            '.' => {
                *i += 1;
                None
            }
            '^' | '$' => return None,
            other => {
                *i += 1;
                Some(other.to_string())
            }
        };
        let optional = quantifier(chars, i)?;
        match atom {
            Some(set) if nullable => {
                first.push_str(&set);
                nullable = optional;
            }
            // `.` (any character): fatal only where it can come first.
            None if nullable => return None,
            _ => {}
        }
    }
    Some((first, nullable))
}

/// Consumes a quantifier; whether it allows zero repetitions.
fn quantifier(chars: &[char], i: &mut usize) -> Option<bool> {
    let optional = match chars.get(*i) {
        Some('*' | '?') => {
            *i += 1;
            true
        }
        Some('+') => {
            *i += 1;
            false
        }
        Some('{') => {
            let end = chars[*i..].iter().position(|&x| x == '}')? + *i;
            let body: String = chars[*i + 1..end].iter().collect();
            *i = end + 1;
            body.starts_with('0') || body.starts_with(',')
        }
        _ => false,
    };
    // A lazy or possessive marker changes nothing here.
    if matches!(chars.get(*i), Some('?' | '+')) {
        *i += 1;
    }
    Some(optional)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meet_keeps_the_weaker_check() {
        let sep = Effect::Prefix { separator: true };
        let bare = Effect::Prefix { separator: false };
        // Equal to a trusted value on one path, a prefix check on the other: the prefix check.
        assert_eq!(meet_effect(&Effect::SameAs(2), &sep), Some(sep.clone()));
        assert_eq!(meet_effect(&Effect::Allowlisted, &sep), Some(sep.clone()));
        assert_eq!(meet_effect(&sep, &bare), Some(bare.clone()));
        assert_eq!(meet_effect(&Effect::Contained, &sep), Some(sep.clone()));
        let path = Effect::Clean(Cleaned::of(&[SinkKind::Path]));
        let shell = Effect::Clean(Cleaned::of(&[SinkKind::Shell]));
        assert_eq!(meet_effect(&path, &shell), None);
        assert_eq!(
            meet_effect(&path, &Effect::Contained),
            Some(Effect::Contained)
        );
        assert_eq!(
            meet_effect(&Effect::Flag(Flags::DOTDOT_CHECKED), &sep),
            None
        );
    }

    #[test]
    fn meet_of_sides_needs_every_path_and_records_parameters() {
        let g = |name: &str, effect: Effect| Guard {
            target: Expr::new(ExprKind::Name(name.into()), Span::default()),
            effect,
            span: Span::default(),
            what: String::new(),
            assume: Flags::NORMALIZED,
            needs: 0,
        };
        let sep = Effect::Prefix { separator: true };
        // No return seen on a side yet: the other side's proof stands.
        assert_eq!(
            meet_sides(None, Some(vec![g("p", sep.clone())]))
                .unwrap()
                .len(),
            1
        );
        // A path that proves nothing about `p` drops the proof.
        assert!(
            meet_sides(
                Some(vec![g("p", sep.clone())]),
                Some(vec![g("q", sep.clone())])
            )
            .unwrap()
            .is_empty()
        );
        // `p === dir` on one path, `p.startsWith(dir + sep)` on the other: needs `dir` trusted.
        let met = meet_sides(
            Some(vec![g("p", Effect::SameAs(1 << 1))]),
            Some(vec![g("p", sep.clone())]),
        )
        .unwrap();
        assert_eq!(met.len(), 1);
        assert_eq!(met[0].effect, sep);
        assert_eq!(met[0].needs, 1 << 1);
        assert_eq!(met[0].assume, Flags::NORMALIZED);
    }

    #[test]
    fn regex_cleaning_reads_the_class() {
        let c = regex_cleans("^[A-Za-z0-9_]+$").unwrap();
        assert!(
            c.has(SinkKind::Shell)
                && c.has(SinkKind::Path)
                && c.has(SinkKind::ArgInjection)
                && c.has(SinkKind::Sql)
        );
        assert!(!c.has(SinkKind::CodeEval));
        let c = regex_cleans("^[A-Za-z0-9_./-]+$").unwrap();
        assert!(!c.has(SinkKind::Path) && !c.has(SinkKind::ArgInjection));
        let c = regex_cleans(r"[\w().,]+").unwrap();
        assert!(!c.has(SinkKind::CodeEval) && !c.has(SinkKind::Shell));
        let c = regex_cleans(r"^[0-9+*/ .]+$").unwrap();
        assert!(c.has(SinkKind::CodeEval));
        // Beyond the classes the characters are not read; the first one still is.
        let c = regex_cleans("^a.*$").unwrap();
        assert!(c.has(SinkKind::ArgInjection) && !c.has(SinkKind::Shell));
        assert!(regex_cleans("^.*$").is_none());
        let npm = r"^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9~][a-z0-9-._~]*$";
        assert_eq!(
            regex_cleans(npm),
            Some(Cleaned::of(&[SinkKind::ArgInjection]))
        );
        // The group may be empty and what follows may start with `-`.
        assert!(regex_cleans(r"^(@[a-z]+\/)?[-a-z]+$").is_none());
        // A group that can start with `-`.
        assert!(regex_cleans(r"^(-|[a-z])[a-z]*$").is_none());
        assert_eq!(
            regex_cleans(r"^(?:v|release-)\d+(\.\d+)*$"),
            Some(Cleaned::of(&[SinkKind::ArgInjection]))
        );
        // Top-level alternation anchors each side alone.
        assert!(regex_cleans(r"^[a-z]+|-x$").is_none());
        assert!(regex_cleans(r"^(?=x)[a-z]+$").is_none());
        let c = regex_cleans(r"^[A-Za-z0-9_][\w./]*$").unwrap();
        assert!(c.has(SinkKind::ArgInjection) && !c.has(SinkKind::Path));
        let c = regex_cleans(r"^[-\w]+$").unwrap();
        assert!(!c.has(SinkKind::ArgInjection));
        // A dash after a range or a class escape is a dash.
        let c = regex_cleans(r"^[a-z0-9-._~]+$").unwrap();
        assert!(!c.has(SinkKind::ArgInjection));
        let c = regex_cleans(r"^[\w-]+$").unwrap();
        assert!(!c.has(SinkKind::ArgInjection));
    }

    #[test]
    fn local_hosts() {
        assert!(
            looks_like_local_host("localhost")
                && looks_like_local_host("169.254.169.254")
                && looks_like_local_host("10.")
        );
        assert!(!looks_like_local_host("example.com"));
    }
}
