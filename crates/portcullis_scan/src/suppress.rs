//! Inline suppressions: `portcullis-ignore: <rule>[, <rule>...] [-- reason]` in a comment.
//!
//! A comment on a line of its own covers the next line that is not a comment; a comment after
//! code covers its own line. Rules are named by name or code. Suppressions that cover nothing
//! are reported, so they cannot linger and hide the next real finding.

use crate::source::SourceFile;

const MARKER: &str = "portcullis-ignore:";

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// 1-based line of the comment itself.
    pub comment_line: usize,
    /// Byte range of the comment text, for reporting it when unused.
    pub comment_start: usize,
    pub comment_end: usize,
    /// 1-based line it covers.
    pub target_line: usize,
    /// Rule names or codes it names.
    pub rules: Vec<String>,
    pub reason: Option<String>,
}

/// Finds suppression comments in a file, given the comment leaders its format allows.
pub fn find(file: &SourceFile, leaders: &[&str]) -> Vec<Suppression> {
    let mut found = Vec::new();
    for line_no in 1..=file.line_count() {
        let line = file.line_text(line_no);
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        let Some(leader_at) = leaders.iter().filter_map(|l| line[..at].rfind(l)).max() else {
            continue;
        };
        let code_before = line[..leader_at].trim();
        let rest = &line[at + MARKER.len()..];
        let rest = rest.trim_end_matches("*/").trim();
        let (list, reason) = match rest.split_once("--") {
            Some((list, reason)) => (
                list,
                Some(reason.trim().to_string()).filter(|r| !r.is_empty()),
            ),
            None => (rest, None),
        };
        let rules: Vec<String> = list
            .split([',', ' '])
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect();
        if rules.is_empty() {
            continue;
        }
        let target_line = if code_before.is_empty() || code_before == "," {
            next_code_line(file, line_no, leaders)
        } else {
            line_no
        };
        let start = file.line_start(line_no).unwrap_or(0) + leader_at;
        found.push(Suppression {
            comment_line: line_no,
            comment_start: start,
            comment_end: file.line_start(line_no).unwrap_or(0) + line.len(),
            target_line,
            rules,
            reason,
        });
    }
    found
}

fn next_code_line(file: &SourceFile, after: usize, leaders: &[&str]) -> usize {
    (after + 1..=file.line_count())
        .find(|&n| {
            let t = file.line_text(n).trim_start();
            !t.is_empty() && !leaders.iter().any(|l| t.starts_with(l))
        })
        .unwrap_or(after + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_own_line_and_trailing_comments() {
        let f = SourceFile::from_text(
            "x.jsonc",
            "{\n  // portcullis-ignore: plaintext-secret-in-config, PC209 -- demo key\n  // other\n  \"a\": 1, // portcullis-ignore: PC202\n}\n",
        );
        let s = find(&f, &["//", "/*"]);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].target_line, 4);
        assert_eq!(s[0].rules, vec!["plaintext-secret-in-config", "PC209"]);
        assert_eq!(s[0].reason.as_deref(), Some("demo key"));
        assert_eq!(s[1].target_line, 4);
    }

    #[test]
    fn ignores_the_marker_outside_comments() {
        let f = SourceFile::from_text("x.yaml", "name: \"portcullis-ignore: PC201\"\n");
        assert!(find(&f, &["#"]).is_empty());
    }
}
