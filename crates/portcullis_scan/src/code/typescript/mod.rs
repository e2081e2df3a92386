//! The TypeScript/JavaScript frontend: parses a file with the grammar its extension calls for
//! (TypeScript, TSX, or JavaScript, which also reads JSX), lowers it into the language-neutral
//! IR ([`crate::code::ir`]) and finds its MCP handlers.
//!
//! The top level of a file is function 0 (`<module>`); every function, arrow function and
//! method is a function of its own. A module's name is its path relative to the project root
//! without the extension (`src/tools/exec`), with `/`, so relative imports (`../lib/index.js`)
//! resolve by path in the project.
//!
//! The trade-off: this is a syntactic lowering of one file, like the Python frontend. Types are
//! stripped (only `number`/`boolean` parameter annotations and zod schemas are read), and
//! `this.x` fields are known when assigned in the class. A file with syntax errors is lowered
//! around them: tree-sitter's JavaScript grammars recover well, and an `ERROR` region is mined
//! for statements. Recursion is bounded (see `lower`), so no input can exhaust the stack.

mod handlers;
mod lower;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::path::{Component, Path};
use std::sync::Arc;

use crate::code::ir::{Function, Language, Module};
use crate::source::SourceFile;
use crate::span::Span;

/// Which tree-sitter grammar reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    TypeScript,
    Tsx,
    JavaScript,
}

impl Grammar {
    /// The grammar for a path's extension; `None` for files that are not source (`.d.ts`).
    pub fn of(path: &Path) -> Option<Grammar> {
        let name = path.file_name()?.to_str()?;
        if name.ends_with(".d.ts") || name.ends_with(".d.mts") || name.ends_with(".d.cts") {
            return None;
        }
        match path.extension()?.to_str()? {
            "ts" | "mts" | "cts" => Some(Grammar::TypeScript),
            "tsx" => Some(Grammar::Tsx),
            "js" | "jsx" | "mjs" | "cjs" => Some(Grammar::JavaScript),
            _ => None,
        }
    }

    pub fn language(self) -> Language {
        match self {
            Grammar::TypeScript | Grammar::Tsx => Language::TypeScript,
            Grammar::JavaScript => Language::JavaScript,
        }
    }
}

thread_local! {
    /// One parser per grammar per (rayon) thread.
    static PARSERS: RefCell<[Option<tree_sitter::Parser>; 3]> = const { RefCell::new([None, None, None]) };
}

/// Parses source with tree-sitter. `None` only if the parser could not be set up.
pub fn parse(text: &str, grammar: Grammar) -> Option<tree_sitter::Tree> {
    PARSERS.with(|cell| {
        let mut slots = cell.borrow_mut();
        let index = grammar as usize;
        let slot = slots.get_mut(index)?;
        if slot.is_none() {
            let mut parser = tree_sitter::Parser::new();
            let language: tree_sitter::Language = match grammar {
                Grammar::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
                Grammar::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
                Grammar::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            };
            parser.set_language(&language).ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(text, None)
    })
}

/// Lowers a parsed file into the IR. `tree` must come from [`parse`] on `file.text`.
pub fn lower(
    file: Arc<SourceFile>,
    module_name: &str,
    grammar: Grammar,
    tree: &tree_sitter::Tree,
) -> Module {
    let root = tree.root_node();
    let whole = Span::new(0, file.text.len());
    let top = Function {
        name: "<module>".to_string(),
        qualname: "<module>".to_string(),
        span: whole,
        name_span: Span::new(0, 0),
        params: Vec::new(),
        body: Vec::new(),
        decorators: Vec::new(),
        is_async: false,
        class: None,
        parent: None,
    };
    let (imports, functions, classes) = {
        let mut lowerer = lower::Lowerer::new(&file.text, top);
        let body = lowerer.block(Some(root));
        if let Some(top) = lowerer.functions.first_mut() {
            top.body = body;
        }
        (lowerer.imports, lowerer.functions, lowerer.classes)
    };
    let syntax_errors = if root.has_error() {
        syntax_errors(root)
    } else {
        Vec::new()
    };
    let mut module = Module {
        file,
        language: grammar.language(),
        name: module_name.to_string(),
        imports,
        functions,
        classes,
        handlers: Vec::new(),
        syntax_errors,
    };
    handlers::detect(&mut module);
    module
}

/// The spans of `ERROR` and `MISSING` nodes, outermost first, found without recursion.
fn syntax_errors(root: tree_sitter::Node) -> Vec<Span> {
    const MAX_ERRORS: usize = 100;
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if out.len() >= MAX_ERRORS {
            break;
        }
        if n.is_error() || n.is_missing() {
            out.push(lower::span(n));
            continue;
        }
        if n.has_error() {
            let mut cursor = n.walk();
            let children: Vec<_> = n.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
    }
    out.sort_by_key(|s| s.start);
    out
}

/// The module name of a file relative to its project root: `src/tools/exec.ts` ->
/// `src/tools/exec`, `lib/index.js` -> `lib/index`.
pub fn module_name(relative_path: &Path) -> String {
    let mut parts: Vec<String> = relative_path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if let Some(last) = parts.last_mut()
        && let Some((stem, _)) = last.rsplit_once('.')
    {
        *last = stem.to_string();
    }
    parts.join("/")
}

/// Whether a file is a bundle or minified build output rather than server source: its name
/// says so, or its lines are far longer than anyone writes by hand.
pub fn minified_reason(path: &Path, text: &str) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name.contains(".min.") || name.ends_with(".bundle.js") {
        return Some(format!("`{name}` is a minified bundle"));
    }
    const LONG_LINE: usize = 2_000;
    let lines = text.lines().count().max(1);
    let longest = text.lines().map(str::len).max().unwrap_or(0);
    if longest > LONG_LINE * 5 || (text.len() / lines > 500 && longest > LONG_LINE) {
        return Some(format!(
            "`{name}` looks generated or minified (a line of {longest} characters)"
        ));
    }
    None
}

/// Whether a JavaScript file is the compiled output of the project's own TypeScript: under
/// `dist`, `build` or `out` of a project with a `tsconfig.json`. Its sources are scanned; the
/// copy would only repeat their findings. A package that ships only its build (no
/// `tsconfig.json`) is still scanned.
pub fn is_build_output(root: &Path, relative: &Path) -> bool {
    let js = relative
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "js" | "mjs" | "cjs" | "jsx"));
    if !js {
        return false;
    }
    let mut dir = root.to_path_buf();
    for component in relative.components() {
        let Component::Normal(part) = component else {
            continue;
        };
        if matches!(part.to_str(), Some("dist" | "build" | "out"))
            && dir.join("tsconfig.json").is_file()
        {
            return true;
        }
        dir.push(part);
    }
    false
}
