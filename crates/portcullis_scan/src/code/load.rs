//! Loading one source file: read once, parse once with tree-sitter, lower once into the IR.
//! A file with syntax errors is lowered where it parses and reported.

use std::path::Path;
use std::sync::Arc;

use crate::code::ir::{Language, Module};
use crate::code::{python, typescript};
use crate::diagnostic::Diagnostic;
use crate::registry::Severity;
use crate::rules::scanner::UNPARSEABLE_FILE;
use crate::source::SourceFile;

/// Source files larger than this are generated or vendored, not server code worth the time.
pub const MAX_SOURCE_BYTES: u64 = 4 * 1024 * 1024;

/// The language a file is written in, by its extension.
pub fn language_of(path: &Path) -> Option<Language> {
    match path.extension()?.to_str()? {
        "py" => Some(Language::Python),
        _ => typescript::Grammar::of(path).map(typescript::Grammar::language),
    }
}

/// The comment leaders of a language, for inline suppressions and fixture annotations.
pub fn comment_leaders(language: Language) -> &'static [&'static str] {
    match language {
        Language::Python => &["#"],
        Language::TypeScript | Language::JavaScript => &["//", "/*"],
    }
}

/// Parses and lowers one file. `root` is the folder module names are relative to.
pub fn load_module(
    file: SourceFile,
    root: &Path,
    language: Language,
) -> (Option<Module>, Vec<Diagnostic>) {
    let relative = file
        .path
        .strip_prefix(root)
        .unwrap_or(&file.path)
        .to_path_buf();
    let file = Arc::new(file);
    let (module, language_name) = match language {
        Language::Python => {
            let Some(tree) = python::parse(&file.text) else {
                return (None, Vec::new());
            };
            let module = python::lower(Arc::clone(&file), &python::module_name(&relative), &tree);
            (module, "Python will refuse to import")
        }
        Language::TypeScript | Language::JavaScript => {
            let Some(grammar) = typescript::Grammar::of(&file.path) else {
                return (None, Vec::new());
            };
            if typescript::is_build_output(root, &relative) {
                return (None, Vec::new());
            }
            if let Some(reason) = typescript::minified_reason(&file.path, &file.text) {
                let diagnostic = Diagnostic::new(
                    &UNPARSEABLE_FILE,
                    &file,
                    crate::span::Span::new(0, 0),
                    format!("{reason}; it was not analysed as server source"),
                )
                .with_severity(Severity::Low)
                .with_help(
                    "Scan the project's sources rather than its build output, or exclude the file.",
                );
                return (None, vec![diagnostic]);
            }
            let Some(tree) = typescript::parse(&file.text, grammar) else {
                return (None, Vec::new());
            };
            let module = typescript::lower(
                Arc::clone(&file),
                &typescript::module_name(&relative),
                grammar,
                &tree,
            );
            let name = if language == Language::TypeScript {
                "TypeScript will refuse to compile"
            } else {
                "Node will refuse to load"
            };
            (module, name)
        }
    };
    let mut diagnostics = Vec::new();
    if let Some(first) = module.syntax_errors.first() {
        let line = file.line_col(first.start).line;
        diagnostics.push(
            Diagnostic::new(
                &UNPARSEABLE_FILE,
                &file,
                *first,
                format!(
                    "`{}` has a syntax error on line {line}; the rest of the file was analysed",
                    file.display
                ),
            )
            .with_severity(Severity::Low)
            .with_help(format!("Fix the syntax: {language_name} this file, and code near the error may be missed by the analysis.")),
        );
    }
    (Some(module), diagnostics)
}
