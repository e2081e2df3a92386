//! The Python frontend: parses a file with tree-sitter, lowers it into the language-neutral IR
//! ([`crate::code::ir`]) and finds its MCP handlers.
//!
//! The top level of a file is function 0 (`<module>`); every `def`, method and lambda is a
//! function of its own, with its parent (the enclosing function; `None` at module level) and
//! class recorded. Constructs the IR has no word for are lowered to `Unknown` over their parts
//! (comprehensions, slices, unary operators, `yield`) or `Other` (`pass`, `global`, `del`), so
//! data still flows through them; names bound inside expressions (`:=`) and comprehension
//! filters are hoisted into statements just before the one that contains them.
//!
//! Broken files are lowered around their errors: `ERROR` regions are mined for statements, and
//! when one error swallows the definitions after it, those are re-parsed on their own (the
//! `recover` module). The spans of what could not be parsed are kept in `syntax_errors`.
//!
//! The trade-off: this is a syntactic lowering of one file. Nothing is resolved across files or
//! through types, a class body is folded into the enclosing scope as attribute assignments
//! (`C.x = ...`), and handler detection prefers recall (the `handlers` module). Recursion is
//! bounded at 200 syntax levels, past which a subtree is summarised by the names it reads, so
//! no input can exhaust the stack (about 3 KiB a level in a debug build, far less in release);
//! tree-sitter itself parses without recursion.

mod handlers;
mod lower;
mod recover;
mod strings;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::path::{Component, Path};
use std::sync::Arc;

use crate::code::ir::{self, Function, Language, Module};
use crate::source::SourceFile;
use crate::span::Span;

thread_local! {
    /// Parsers are not `Sync` and cost an allocation to set up: one per (rayon) thread.
    static PARSER: RefCell<Option<tree_sitter::Parser>> = const { RefCell::new(None) };
}

/// Parses Python source with tree-sitter. `None` only if the parser could not be set up; a
/// file with syntax errors still yields a tree (with `ERROR` and `MISSING` nodes).
pub fn parse(text: &str) -> Option<tree_sitter::Tree> {
    with_parser(|parser| parser.parse(text, None))
}

/// Parses only `range` of `text`; node offsets stay those of the whole text.
fn parse_range(text: &str, range: tree_sitter::Range) -> Option<tree_sitter::Tree> {
    with_parser(|parser| {
        parser.set_included_ranges(&[range]).ok()?;
        let tree = parser.parse(text, None);
        // An empty list means the whole document again, and is always accepted.
        let _ = parser.set_included_ranges(&[]);
        tree
    })
}

fn with_parser<T>(f: impl FnOnce(&mut tree_sitter::Parser) -> Option<T>) -> Option<T> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = tree_sitter::Parser::new();
            parser
                .set_language(&tree_sitter_python::LANGUAGE.into())
                .ok()?;
            *slot = Some(parser);
        }
        f(slot.as_mut()?)
    })
}

/// Lowers a parsed file into the IR. `module_name` is the dotted module name (`pkg.utils`).
/// `tree` must come from [`parse`] on `file.text`.
pub fn lower(file: Arc<SourceFile>, module_name: &str, tree: &tree_sitter::Tree) -> Module {
    let root = tree.root_node();
    let (imports, functions, classes, syntax_errors) = {
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
        let mut lowerer = lower::Lowerer::new(&file.text, top);
        let mut errors = Vec::new();
        let body = if root.has_error() {
            recover::lower_top_level(&mut lowerer, &file.text, tree, &mut errors)
        } else {
            lowerer.block(Some(root))
        };
        if let Some(top) = lowerer.functions.first_mut() {
            top.body = body;
        }
        (lowerer.imports, lowerer.functions, lowerer.classes, errors)
    };
    let mut module = Module {
        file,
        language: Language::Python,
        name: module_name.to_string(),
        imports,
        functions,
        classes,
        handlers: Vec::new(),
        syntax_errors,
    };
    module.handlers = handlers::detect(&module);
    module
}

/// Parses and lowers in one step; `None` only if the parser could not be set up.
pub fn parse_and_lower(file: Arc<SourceFile>, module_name: &str) -> Option<ir::Module> {
    let tree = parse(&file.text)?;
    Some(lower(file, module_name, &tree))
}

/// The dotted module name of a file relative to its project root: `pkg/utils.py` ->
/// `pkg.utils`, `pkg/__init__.py` -> `pkg`, `src/pkg/utils.py` -> `pkg.utils`.
///
/// A leading `src` folder is taken for a source root (the src layout); a project that really
/// imports `src.pkg` loses the prefix, which only costs a missed cross-file resolution.
pub fn module_name(relative_path: &Path) -> String {
    let mut parts: Vec<String> = relative_path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if let Some(last) = parts.last_mut() {
        for extension in [".py", ".pyi", ".pyw"] {
            if let Some(stem) = last.strip_suffix(extension) {
                *last = stem.to_string();
                break;
            }
        }
    }
    if parts.last().is_some_and(|p| p == "__init__") {
        parts.pop();
    }
    if parts.len() > 1 && parts.first().is_some_and(|p| p == "src") {
        parts.remove(0);
    }
    parts.join(".")
}
