//! A file read once into memory, with a line index for turning byte offsets into positions.

use std::path::{Path, PathBuf};

use crate::span::Span;

/// A 1-based line and 1-based column counted in Unicode scalar values (SARIF `unicodeCodePoints`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// One scanned file: where it is, how to name it in reports, and its text.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as found on disk.
    pub path: PathBuf,
    /// The path as shown in reports: relative to the working folder when inside it, `~/...` when
    /// under the home folder, absolute otherwise. Non-UTF-8 bytes are replaced, never dropped.
    pub display: String,
    pub text: String,
    line_starts: Vec<usize>,
    /// Byte ranges that hold secrets; every renderer masks them in code frames.
    pub secret_spans: Vec<Span>,
}

impl SourceFile {
    pub fn new(path: PathBuf, display: String, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path,
            display,
            text,
            line_starts,
            secret_spans: Vec::new(),
        }
    }

    /// A source with no file behind it (tests, synthesized documents).
    pub fn from_text(name: &str, text: &str) -> Self {
        SourceFile::new(PathBuf::from(name), name.to_string(), text.to_string())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The 1-based line and column of a byte offset; offsets past the end clamp to the end.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = self.line_starts[line_index];
        let prefix = self.text.get(line_start..offset).unwrap_or("");
        LineCol {
            line: line_index + 1,
            column: prefix.chars().count() + 1,
        }
    }

    /// Byte offset of the first character of a 1-based line.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(start) = self.line_start(line) else {
            return "";
        };
        let end = self.line_start(line + 1).unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Converts a character index (as YAML parsers report) into a byte offset.
    pub fn char_to_byte(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(b, _)| b)
    }

    /// One range of the text with secrets starred out, as in [`SourceFile::masked_text`], without
    /// copying the whole file.
    pub fn masked_slice(&self, span: Span) -> String {
        let Some(slice) = self.text.get(span.range()) else {
            return String::new();
        };
        let mut out = slice.to_string();
        for secret in self
            .secret_spans
            .iter()
            .filter(|s| s.start < span.end && span.start < s.end)
        {
            // Mask the whole secret, then keep the part inside this range.
            let Some(whole) = self.text.get(secret.range()) else {
                continue;
            };
            let masked = crate::secrets::mask_keep_len(whole);
            let from = secret.start.max(span.start);
            let to = secret.end.min(span.end);
            if let Some(part) = masked.get(from - secret.start..to - secret.start) {
                out.replace_range(from - span.start..to - span.start, part);
            }
        }
        out
    }

    /// The text with the middle of every secret span starred out, for code frames. Byte offsets
    /// are kept, so annotations computed on the original text still land in the right place.
    pub fn masked_text(&self) -> std::borrow::Cow<'_, str> {
        if self.secret_spans.is_empty() {
            return std::borrow::Cow::Borrowed(&self.text);
        }
        let mut out = self.text.clone();
        for span in &self.secret_spans {
            if let Some(secret) = self.text.get(span.range()) {
                out.replace_range(span.range(), &crate::secrets::mask_keep_len(secret));
            }
        }
        std::borrow::Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_from_one() {
        let f = SourceFile::from_text("x", "ab\nçd\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        assert_eq!(f.line_col(5), LineCol { line: 2, column: 2 });
        assert_eq!(f.line_text(2), "çd");
        assert_eq!(f.line_col(999), LineCol { line: 3, column: 1 });
    }
}
