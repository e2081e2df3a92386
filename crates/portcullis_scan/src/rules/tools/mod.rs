//! Rules over tool metadata (`PC3xx`): what servers tell the model about their tools, prompts
//! and resources. The analysis of each definition ([`crate::tools::analyze`]) runs once per scan
//! and is shared by every rule through [`ToolContext`].

mod annotation_contradicts_tool;
mod exfiltration_parameter_in_tool_schema;
mod instructions_in_tool_description;
mod instructions_in_tool_schema;
mod invisible_characters_in_tool_metadata;
mod sensitive_path_in_tool_description;
mod tool_definition_changed;
mod tool_name_collision;
mod tool_preference_manipulation;
mod tool_shadows_other_tools;
mod toxic_tool_combination;
mod unconstrained_dangerous_parameter;

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::registry::RuleMeta;
use crate::span::Span;
use crate::tools::analyze::{Cue, Evidence, Origin, analyze};
use crate::tools::pin::{DefKind, Lock};
use crate::tools::{Field, FieldKind, ServerSnapshot, Tool, ToolsFile};

/// A rule over the tool metadata of a whole scan.
pub trait ToolRule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &ToolContext<'_>, out: &mut Vec<Diagnostic>);
}

/// Every tools rule.
pub static RULES: &[&dyn ToolRule] = &[
    &instructions_in_tool_description::Rule,
    &instructions_in_tool_schema::Rule,
    &sensitive_path_in_tool_description::Rule,
    &invisible_characters_in_tool_metadata::Rule,
    &tool_shadows_other_tools::Rule,
    &exfiltration_parameter_in_tool_schema::Rule,
    &tool_preference_manipulation::Rule,
    &tool_name_collision::Rule,
    &annotation_contradicts_tool::Rule,
    &unconstrained_dangerous_parameter::Rule,
    &tool_definition_changed::Rule,
    &toxic_tool_combination::Rule,
];

/// At most this many tool names are looked for in other tools' text.
const MAX_SHADOW_NAMES: usize = 512;

/// The lower-severity "risky schema" group: risky setups, not poisoning; counted apart in
/// measurements.
pub const RISKY_SCHEMA: &[&str] = &[
    "unconstrained-dangerous-parameter",
    "toxic-tool-combination",
];

/// One definition (tool, prompt, resource, or server instructions) with its analysis.
pub struct Def<'a> {
    pub file: &'a ToolsFile,
    pub server: &'a ServerSnapshot,
    pub kind: DefKind,
    pub name: String,
    pub name_span: Span,
    pub tool: Option<&'a Tool>,
    pub fields: Vec<Field<'a>>,
    pub evidence: Vec<Evidence>,
}

impl Def<'_> {
    /// `tool `x``, `prompt `x``, or `the instructions of server `s``.
    pub fn what(&self) -> String {
        match self.kind {
            DefKind::Instructions => format!("the `instructions` field of server `{}`", self.name),
            k => format!("{} `{}`", k.as_str(), self.name),
        }
    }

    pub fn server_label(&self) -> String {
        self.server.label(&self.file.source)
    }

    pub fn diagnostic(&self, rule: &'static RuleMeta, span: Span, message: String) -> Diagnostic {
        Diagnostic::new(rule, &self.file.source, span, message).with_server(self.server_label())
    }

    /// The strongest evidence among `cues`, if any.
    pub fn strongest(&self, cues: &[Cue], min: u8) -> Option<&Evidence> {
        self.evidence
            .iter()
            .filter(|e| cues.contains(&e.cue) && e.strength >= min)
            .max_by(|a, b| {
                a.strength
                    .cmp(&b.strength)
                    .then(b.field.cmp(&a.field))
                    .then(b.cue.cmp(&a.cue))
            })
    }
}

/// Everything the tools rules read: the dumps of this scan, each definition analysed once,
/// and the lock to compare with.
pub struct ToolContext<'a> {
    pub files: &'a [&'a ToolsFile],
    pub defs: Vec<Def<'a>>,
    pub lock: Option<&'a Lock>,
    /// The folder lock paths are relative to.
    pub base: &'a Path,
    /// The user asked for the configured servers to be inspected live (`scan --inspect`):
    /// servers pinned live are then looked for, and one not seen (gone, or failing to start)
    /// is a change, even when no server could be inspected at all.
    pub live_scan: bool,
}

impl<'a> ToolContext<'a> {
    pub fn new(files: &'a [&'a ToolsFile], lock: Option<&'a Lock>, base: &'a Path) -> Self {
        // Names other tools may be shadowed by, bounded so that a hostile dump with many
        // thousands of tools cannot make the analysis quadratic.
        let mut all_names: Vec<&str> = files
            .iter()
            .flat_map(|f| f.servers.iter())
            .flat_map(|s| s.tools.iter().map(|t| t.name.value.as_str()))
            .collect();
        all_names.sort_unstable();
        all_names.dedup();
        all_names.truncate(MAX_SHADOW_NAMES);
        let mut defs = Vec::new();
        for file in files {
            for server in &file.servers {
                if let Some(i) = &server.instructions {
                    let fields = vec![Field {
                        kind: FieldKind::Instructions,
                        path: "instructions".into(),
                        text: &i.value,
                        span: i.span,
                    }];
                    let name = server.label(&file.source);
                    let evidence = analyze(&fields, &name, &all_names);
                    defs.push(Def {
                        file,
                        server,
                        kind: DefKind::Instructions,
                        name,
                        name_span: i.span,
                        tool: None,
                        fields,
                        evidence,
                    });
                }
                for t in &server.tools {
                    let fields = t.fields();
                    let evidence = analyze(&fields, &t.name.value, &all_names);
                    defs.push(Def {
                        file,
                        server,
                        kind: DefKind::Tool,
                        name: t.name.value.clone(),
                        name_span: t.name.span,
                        tool: Some(t),
                        fields,
                        evidence,
                    });
                }
                for p in &server.prompts {
                    let fields = p.fields();
                    let evidence = analyze(&fields, &p.name.value, &all_names);
                    defs.push(Def {
                        file,
                        server,
                        kind: DefKind::Prompt,
                        name: p.name.value.clone(),
                        name_span: p.name.span,
                        tool: None,
                        fields,
                        evidence,
                    });
                }
                for r in &server.resources {
                    let fields = r.fields();
                    let evidence = analyze(&fields, &r.name.value, &all_names);
                    defs.push(Def {
                        file,
                        server,
                        kind: DefKind::Resource,
                        name: r.name.value.clone(),
                        name_span: r.name.span,
                        tool: None,
                        fields,
                        evidence,
                    });
                }
            }
        }
        ToolContext {
            files,
            defs,
            lock,
            base,
            live_scan: false,
        }
    }
}

/// Runs every enabled tools rule.
pub fn run(cx: &ToolContext<'_>, enabled: &dyn Fn(&RuleMeta) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in RULES.iter().filter(|r| enabled(r.meta())) {
        rule.check(cx, &mut out);
    }
    out
}

/// The cues of hidden instructions (everything but shadowing, preference and parameters,
/// which have rules of their own).
pub const INSTRUCTION_CUES: &[Cue] = &[
    Cue::Override,
    Cue::Secrecy,
    Cue::RunCommand,
    Cue::ReadSensitive,
    Cue::SendOut,
    Cue::ChangeArguments,
    Cue::Deceive,
    Cue::Privilege,
    Cue::Harvesting,
];

/// What an instruction cue orders, for messages.
pub(crate) fn cue_words(e: &Evidence) -> String {
    let target = e.target.as_deref().unwrap_or("");
    match e.cue {
        Cue::Override => "tells the model to drop its instructions".into(),
        Cue::Secrecy => "tells the model to keep something from the user".into(),
        Cue::RunCommand => format!("orders the model to run `{target}`"),
        Cue::ReadSensitive => format!("orders the model to read `{target}`"),
        Cue::SendOut => format!("orders the model to send `{target}` out"),
        Cue::ChangeArguments => "changes what the user asked for behind their back".into(),
        Cue::Deceive => "tells the model to mislead the user".into(),
        Cue::Privilege => format!("tells the model to drop its checks (`{target}`)"),
        Cue::Harvesting => format!("says it sends `{target}` away"),
        Cue::OtherTool => format!("changes how `{target}` is used"),
        Cue::Preference => "pushes the model to prefer it".into(),
        Cue::ExfilParameter => format!("asks for `{target}`"),
    }
}

/// Where hidden text came from, for messages: empty when it was in plain sight.
pub(crate) fn origin_words(o: &Origin) -> String {
    match o {
        Origin::Visible => String::new(),
        Origin::Tags => " (hidden in invisible Unicode tag characters)".into(),
        Origin::Decoded(enc) => format!(" (hidden as {} text)", enc.as_str()),
    }
}

/// The text shown for evidence, with secrets masked.
pub(crate) fn shown(e: &Evidence) -> String {
    mask_secrets(&e.excerpt)
}

/// Masks anything a secret detector recognises in `text`.
pub(crate) fn mask_secrets(text: &str) -> String {
    crate::tools::mask_secrets(text)
}
