//! Keeping one syntax error from swallowing the rest of a file.
//!
//! Tree-sitter's error recovery is local, but an unclosed bracket or a half-written signature
//! can make it glue every following definition into one `ERROR` region, and the functions and
//! handlers in it would be lost. When the tree has errors, the file is cut at lines that start a
//! top-level definition (`def`, `async def`, `class`, a decorator, at column 0), but only where
//! such a line falls inside a broken top-level node, and each broken piece is parsed again on
//! its own (with tree-sitter's included ranges, so offsets stay those of the file). Intact
//! top-level statements are used as the first parse made them.
//!
//! The trade-off: a cut inside a broken multi-line string or bracket can add errors of its own,
//! but only in a region that was already broken.

use tree_sitter::{Node, Point, Range, Tree};

use crate::code::ir::Block;
use crate::span::Span;

use super::lower::{Lowerer, named, syntax_errors};

/// Lowers the module's top level from a tree with errors, re-parsing broken regions piecewise.
pub(super) fn lower_top_level(
    lowerer: &mut Lowerer,
    text: &str,
    tree: &Tree,
    errors: &mut Vec<Span>,
) -> Block {
    let root = tree.root_node();
    let top = named(root);
    let mut bounds = cuts(text, &top);
    if bounds.is_empty() {
        // Nothing swallowed: tree-sitter's own recovery is as good as it gets.
        errors.extend(syntax_errors(root));
        return lowerer.statements(&top);
    }
    bounds.push(Cut {
        offset: text.len(),
        point: end_point(text),
    });
    let mut body = Vec::new();
    let mut start = Cut {
        offset: 0,
        point: Point { row: 0, column: 0 },
    };
    // Top-level nodes are in order and do not overlap: one forward pass finds each piece's.
    let mut first = 0;
    for end in bounds {
        if end.offset <= start.offset {
            continue;
        }
        let (from, to) = (start.offset, end.offset);
        while top.get(first).is_some_and(|n| n.end_byte() <= from) {
            first += 1;
        }
        let inside: Vec<Node> = top
            .iter()
            .skip(first)
            .take_while(|n| n.start_byte() < to)
            .copied()
            .collect();
        let intact = inside
            .iter()
            .all(|n| !n.has_error() && n.start_byte() >= from && n.end_byte() <= to);
        let reparsed = if intact {
            None
        } else {
            super::parse_range(
                text,
                Range {
                    start_byte: from,
                    end_byte: to,
                    start_point: start.point,
                    end_point: end.point,
                },
            )
        };
        match &reparsed {
            Some(piece) => {
                errors.extend(syntax_errors(piece.root_node()));
                body.extend(lowerer.block(Some(piece.root_node())));
            }
            None => {
                errors.extend(inside.iter().flat_map(|n| syntax_errors(*n)));
                body.extend(lowerer.statements(&inside));
            }
        }
        start = end;
    }
    body
}

#[derive(Debug, Clone, Copy)]
struct Cut {
    offset: usize,
    point: Point,
}

/// Where a broken region is cut: column-0 definitions and decorators (a decorated definition is
/// cut before its first decorator) that fall inside a top-level node with errors.
fn cuts(text: &str, top: &[Node]) -> Vec<Cut> {
    let mut cuts = Vec::new();
    let mut offset = 0;
    let mut in_decorators = false;
    for (row, line) in text.split_inclusive('\n').enumerate() {
        let starts_def = ["def ", "async def ", "class "]
            .iter()
            .any(|k| line.starts_with(k));
        let decorator = line.starts_with('@');
        if (starts_def || decorator) && !in_decorators {
            // The node starting last before this line is the only one that can contain it.
            let before = top.partition_point(|n| n.start_byte() < offset);
            let broken = before
                .checked_sub(1)
                .and_then(|i| top.get(i))
                .is_some_and(|n| offset < n.end_byte() && n.has_error());
            if broken {
                cuts.push(Cut {
                    offset,
                    point: Point { row, column: 0 },
                });
            }
        }
        if decorator {
            in_decorators = true;
        } else if starts_def {
            in_decorators = false;
        }
        offset += line.len();
    }
    cuts
}

fn end_point(text: &str) -> Point {
    let row = text.bytes().filter(|b| *b == b'\n').count();
    let column = text.len() - text.rfind('\n').map_or(0, |i| i + 1);
    Point { row, column }
}
