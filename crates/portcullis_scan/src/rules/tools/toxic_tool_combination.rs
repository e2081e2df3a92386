use super::{Def, ToolContext};
use crate::declare_rule;
use crate::diagnostic::{Diagnostic, TraceStep};
use crate::registry::RuleMeta;
use crate::tools::pin::DefKind;

declare_rule! {
    /// ## What it does
    /// Looks at all the tools loaded together in one scan (every server of a client, or every
    /// dump named) and reports when they combine the three legs of a data theft: a tool that
    /// reads **private data** (files, mail, repositories, databases), a tool that takes in
    /// **untrusted content** (web pages, issues, incoming messages), and a tool that can
    /// **send data out** (post, email, upload, create an issue or comment). Tools are
    /// classified by the verbs and objects of their names.
    ///
    /// This is a risky setup, not poisoning: each tool may be honest. It is reported once per
    /// scan, at the tool that sends data out, at low confidence.
    ///
    /// ## Why is this bad?
    /// Text planted in the untrusted content (an issue on a public repository, a web page) can
    /// order the model to read the private data with the second tool and send it out with the
    /// third, all with the user's permissions: the "lethal trifecta" or toxic flow.
    ///
    /// ## Example
    /// ```json file=tools.json
    /// {"tools": [
    ///   {"name": "get_issue", "description": "Gets an issue of a public repository.", "inputSchema": {"type": "object"}},
    ///   {"name": "get_file_contents", "description": "Reads a file of a private repository.", "inputSchema": {"type": "object"}},
    ///   {"name": "create_pull_request", "description": "Opens a pull request.", "inputSchema": {"type": "object"}}
    /// ]}
    /// ```
    ///
    /// ## Use instead
    /// ```json file=tools.json
    /// {"tools": [
    ///   {"name": "get_issue", "description": "Gets an issue of a public repository.", "inputSchema": {"type": "object"}},
    ///   {"name": "get_file_contents", "description": "Reads a file of a private repository.", "inputSchema": {"type": "object"}}
    /// ]}
    /// ```
    /// Split such servers between sessions, keep the sending tool behind confirmation, or
    /// confine it with the gateway's policy.
    ///
    /// ## References
    /// - [CWE-1427: Improper Neutralization of Input Used for LLM Prompting](https://cwe.mitre.org/data/definitions/1427.html)
    /// - [Simon Willison: the lethal trifecta for AI agents](https://simonwillison.net/2025/Jun/16/the-lethal-trifecta/)
    /// - [Invariant Labs: GitHub MCP exploited, toxic agent flows](https://invariantlabs.ai/blog/mcp-github-vulnerability)
    pub static TOXIC_TOOL_COMBINATION = {
        code: "PC312",
        name: "toxic-tool-combination",
        summary: "Loaded tools together can read private data, take in untrusted content and send data out",
        severity: Medium,
        confidence: Low,
        cwe: [1427, 200],
        target: Tools,
    }
}

const READS: &[&str] = &[
    "read", "get", "list", "search", "query", "view", "show", "open", "download", "export", "fetch",
];
const PRIVATE: &[&str] = &[
    "file",
    "files",
    "contents",
    "email",
    "emails",
    "mail",
    "inbox",
    "document",
    "documents",
    "database",
    "db",
    "table",
    "tables",
    "rows",
    "records",
    "calendar",
    "contacts",
    "notes",
    "secret",
    "secrets",
    "credentials",
    "drive",
    "directory",
    "folder",
    "code",
    "private",
    "messages",
    "dm",
    "dms",
    "repository",
    "repo",
];
const UNTRUSTED_WORDS: &[&str] = &[
    "fetch", "browse", "browser", "scrape", "crawl", "navigate", "web", "url", "rss", "feed",
    "webpage",
];
const UNTRUSTED_OBJECTS: &[&str] = &[
    "issue", "issues", "comment", "comments", "page", "pages", "tweet", "tweets", "post", "posts",
    "email", "emails", "inbox", "message", "messages", "review", "reviews", "ticket", "tickets",
];
const SENDS: &[&str] = &[
    "send", "post", "publish", "upload", "email", "tweet", "webhook", "share", "forward", "reply",
    "push",
];
const CREATES: &[&str] = &["create", "add", "open", "comment", "submit", "write"];
const OUTWARD: &[&str] = &[
    "issue", "comment", "pr", "pull", "request", "gist", "message", "post", "tweet", "email",
    "review", "ticket",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Private,
    Untrusted,
    Sink,
}

fn roles(def: &Def<'_>) -> Vec<Role> {
    let w = crate::text::words(&def.name);
    let has = |set: &[&str]| w.iter().any(|x| set.contains(&x.as_str()));
    let mut out = Vec::new();
    if has(SENDS) || (has(CREATES) && has(OUTWARD)) {
        out.push(Role::Sink);
    }
    if has(UNTRUSTED_WORDS) || (has(READS) && has(UNTRUSTED_OBJECTS)) {
        out.push(Role::Untrusted);
    }
    if has(READS) && has(PRIVATE) {
        out.push(Role::Private);
    }
    out
}

fn label(def: &Def<'_>) -> String {
    format!("`{}` ({})", def.name, def.server_label())
}

fn diagnostic(sink: &Def<'_>, untrusted: &Def<'_>, private: &Def<'_>) -> Diagnostic {
    sink.diagnostic(
        &TOXIC_TOOL_COMBINATION,
        sink.name_span,
        format!(
            "{} can send data out, {} takes in untrusted content and {} reads private data: text planted in that content can chain them",
            label(sink),
            label(untrusted),
            label(private)
        ),
    )
    .with_help("Do not load these together in one session, require confirmation for the sending tool, or confine it with a gateway policy.")
    .with_trace(vec![
        TraceStep {
            file: untrusted.file.source.clone(),
            span: untrusted.name_span,
            message: "takes in untrusted content".into(),
        },
        TraceStep {
            file: private.file.source.clone(),
            span: private.name_span,
            message: "reads private data".into(),
        },
    ])
}

pub struct Rule;

impl super::ToolRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &TOXIC_TOOL_COMBINATION
    }

    fn check(&self, cx: &ToolContext<'_>, out: &mut Vec<Diagnostic>) {
        let tools: Vec<(&Def<'_>, Vec<Role>)> = cx
            .defs
            .iter()
            .filter(|d| d.kind == DefKind::Tool && !d.file.from_source)
            .map(|d| (d, roles(d)))
            .collect();
        let pick = |role: Role, not: &[*const Def<'_>]| {
            tools
                .iter()
                .find(|(d, r)| r.contains(&role) && !not.contains(&std::ptr::from_ref(*d)))
                .map(|(d, _)| *d)
        };
        // Three different tools, one per role.
        let Some(sink) = pick(Role::Sink, &[]) else {
            return;
        };
        let Some(untrusted) = pick(Role::Untrusted, &[std::ptr::from_ref(sink)]) else {
            return;
        };
        let Some(private) = pick(
            Role::Private,
            &[std::ptr::from_ref(sink), std::ptr::from_ref(untrusted)],
        ) else {
            return;
        };
        out.push(diagnostic(sink, untrusted, private));
    }
}
