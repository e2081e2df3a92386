//! The scan pipeline: find files, load each once in parallel, run every rule over the loaded
//! model, then apply suppressions, settings and the baseline in one place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::baseline::Baseline;
use crate::clients::{Environment, Platform};
use crate::code::ir::Module;
use crate::code::load::comment_leaders;
use crate::code::taint::{Project, analyze_project};
use crate::diagnostic::Diagnostic;
use crate::discover::{Discovery, WalkProblem, dedupe};
use crate::load::{FileTask, Loaded, load};
use crate::model::ConfigFile;
use crate::registry::find_rule;
use crate::report::{Finding, Report, ServerSummary};
use crate::rules::config::RULES as CONFIG_RULES;
use crate::rules::scanner::UNUSED_SUPPRESSION;
use crate::settings::Settings;
use crate::source::SourceFile;
use crate::suppress;

/// Progress callbacks, for a spinner on a terminal. Called from several threads.
pub trait Progress: Sync {
    fn found(&self, _files: usize) {}
    fn scanned(&self, _files: usize, _servers: usize) {}
}

/// No progress display.
pub struct Silent;
impl Progress for Silent {}

/// What to scan and how.
pub struct ScanOptions {
    /// Files and folders named by the user. Empty means: the user's configs and `cwd`.
    pub paths: Vec<PathBuf>,
    /// Also look in the user's client config locations (the default when no path is named).
    pub user_configs: bool,
    pub env: Environment,
    pub platform: Platform,
    pub cwd: PathBuf,
    pub settings: Settings,
    pub baseline: Option<Baseline>,
    /// Honour `portcullis-ignore` comments in the scanned files. Off for code the user did not
    /// write (a downloaded package), whose author could silence its own findings.
    pub inline_suppressions: bool,
    /// Pinned tool definitions to compare with (`scan --locked`).
    pub lock: Option<crate::tools::pin::Lock>,
    /// Snapshots of configured servers, read live by the caller (`scan --inspect`).
    pub live: Vec<crate::tools::live::LiveServer>,
    /// The caller inspected the configured servers live, whether or not any answered.
    pub live_scan: bool,
}

impl ScanOptions {
    /// Options for scanning `paths` from `cwd` with the process environment.
    pub fn new(paths: Vec<PathBuf>, cwd: PathBuf) -> Self {
        let user_configs = paths.is_empty();
        ScanOptions {
            paths,
            user_configs,
            env: Environment::from_process(),
            platform: Platform::current(),
            cwd,
            settings: Settings::default(),
            baseline: None,
            inline_suppressions: true,
            lock: None,
            live: Vec::new(),
            live_scan: false,
        }
    }
}

/// Runs a scan. Problems with individual files are findings or notes; this never fails.
pub fn scan(options: &ScanOptions, progress: &dyn Progress) -> Report {
    let discovery = Discovery {
        env: &options.env,
        platform: options.platform,
        cwd: &options.cwd,
        exclude: options.settings.exclude.as_ref(),
    };
    let problems = Mutex::new(Vec::<WalkProblem>::new());
    let mut tasks = Vec::new();
    if options.user_configs {
        tasks.extend(discovery.user_configs());
    }
    let roots = if options.paths.is_empty() {
        vec![options.cwd.clone()]
    } else {
        options.paths.clone()
    };
    for root in &roots {
        let root = if root.is_absolute() {
            root.clone()
        } else {
            options.cwd.join(root)
        };
        tasks.extend(discovery.walk(&root, &problems));
    }
    let tasks = dedupe(tasks);
    progress.found(tasks.len());

    let home = options.env.home.as_deref();
    let done = AtomicUsize::new(0);
    let servers = AtomicUsize::new(0);
    let loaded: Vec<Loaded> = tasks
        .par_iter()
        .map(|task: &FileTask| {
            let loaded = load(task, home);
            let n = loaded.config.as_ref().map_or(0, |c| c.servers.len());
            progress.scanned(
                done.fetch_add(1, Ordering::Relaxed) + 1,
                servers.fetch_add(n, Ordering::Relaxed) + n,
            );
            loaded
        })
        .collect();

    let mut report = Report {
        files_scanned: tasks.len(),
        ..Report::default()
    };
    let mut diagnostics = Vec::new();
    let mut configs = Vec::new();
    let mut projects: BTreeMap<PathBuf, Vec<Module>> = BTreeMap::new();
    let mut supply = Vec::new();
    let mut tool_files = Vec::new();
    for (l, task) in loaded.into_iter().zip(&tasks) {
        diagnostics.extend(l.diagnostics);
        tool_files.extend(l.tools);
        report.notes.extend(l.notes);
        configs.extend(l.config);
        supply.extend(l.supply);
        if let Some(module) = l.module {
            projects.entry(task.root.clone()).or_default().push(module);
        }
    }
    for p in problems.into_inner().unwrap_or_else(|p| p.into_inner()) {
        report
            .notes
            .push(format!("{}: {}", discovery.display(&p.path), p.message));
    }
    diagnostics.extend(run_config_rules(&configs, &options.settings));
    report.servers = summarize(&configs);
    let mut sources: BTreeMap<String, (Arc<SourceFile>, &'static [&'static str])> = configs
        .iter()
        .map(|c| {
            (
                c.source.display.clone(),
                (Arc::clone(&c.source), c.format.comment_leaders()),
            )
        })
        .collect();
    for f in &supply {
        sources.insert(
            f.source.display.clone(),
            (Arc::clone(&f.source), f.kind.comment_leaders()),
        );
    }
    diagnostics.extend(run_supply_rules(&supply, &options.settings));
    for f in &tool_files {
        sources.insert(
            f.source.display.clone(),
            (
                Arc::clone(&f.source),
                crate::document::Format::Json.comment_leaders(),
            ),
        );
    }
    // Which releases of npm packages the code's projects install, for sinks safe in some.
    let node_projects = crate::supply::node::NodeProjects::new(&supply);
    for modules in projects.into_values() {
        for m in &modules {
            sources.insert(
                m.file.display.clone(),
                (Arc::clone(&m.file), comment_leaders(m.language)),
            );
        }
        // Tool metadata written in the source, audited with the dumps below.
        tool_files.extend(modules.iter().filter_map(crate::tools::snapshot_of_module));
        let project = Project::new(modules);
        let findings = analyze_project(&project);
        diagnostics.extend(crate::rules::code::diagnostics(
            &project,
            &findings,
            &node_projects,
        ));
        let project_rules: Vec<_> = crate::rules::code::PROJECT_RULES
            .iter()
            .filter(|r| options.settings.is_enabled(r.meta()))
            .collect();
        if !project_rules.is_empty() {
            let structure = crate::code::structure::Structure::new(&project);
            for rule in project_rules {
                rule.check(&structure, &mut diagnostics);
            }
        }
    }
    diagnostics.extend(crate::tools::live::run_tool_rules(&tool_files, options));
    let (findings, suppressed) = sink(diagnostics, &sources, options);
    report.findings = findings;
    report.suppressed = suppressed;
    report
}

/// The folder paths in the lock are relative to: the lock's own folder, else the working one.
pub fn lock_base(options: &ScanOptions) -> PathBuf {
    options
        .lock
        .as_ref()
        .and_then(|l| l.source.as_ref())
        .and_then(|s| s.path.parent().map(std::path::Path::to_path_buf))
        .unwrap_or_else(|| options.cwd.clone())
}

/// Runs every enabled supply-chain rule, per file in parallel.
fn run_supply_rules(files: &[crate::supply::SupplyFile], settings: &Settings) -> Vec<Diagnostic> {
    let rules: Vec<_> = crate::rules::supply::RULES
        .iter()
        .filter(|r| settings.is_enabled(r.meta()))
        .collect();
    files
        .par_iter()
        .flat_map_iter(|file| {
            let mut out = Vec::new();
            for rule in &rules {
                rule.check(file, &mut out);
            }
            out
        })
        .collect()
}

/// Runs every enabled config rule: per file in parallel, then across files.
pub fn run_config_rules(configs: &[ConfigFile], settings: &Settings) -> Vec<Diagnostic> {
    let rules: Vec<_> = CONFIG_RULES
        .iter()
        .filter(|r| settings.is_enabled(r.meta()))
        .collect();
    let mut out: Vec<Diagnostic> = configs
        .par_iter()
        .flat_map_iter(|file| {
            let mut out = Vec::new();
            for rule in &rules {
                rule.check_file(file, &mut out);
            }
            out
        })
        .collect();
    let all: Vec<&ConfigFile> = configs.iter().collect();
    for rule in &rules {
        rule.check_all(&all, &mut out);
    }
    out
}

fn summarize(configs: &[ConfigFile]) -> Vec<ServerSummary> {
    configs
        .iter()
        .flat_map(|c| {
            c.servers.iter().map(|s| ServerSummary {
                file: c.source.display.clone(),
                client: c.client.id(),
                scope: c.scope.as_str(),
                name: s.name.value.clone(),
                transport: s.transport,
                enabled: s.enabled,
            })
        })
        .collect()
}

/// The one place findings are filtered: rule selection, severity overrides, inline
/// suppressions, allow entries and the baseline. Unused inline suppressions become findings.
fn sink(
    mut diagnostics: Vec<Diagnostic>,
    files: &BTreeMap<String, (Arc<SourceFile>, &'static [&'static str])>,
    options: &ScanOptions,
) -> (Vec<Finding>, usize) {
    let settings = &options.settings;
    diagnostics.retain(|d| settings.is_enabled(d.rule));
    for d in &mut diagnostics {
        if let Some(&sev) = settings.severity_overrides.get(d.rule.code) {
            d.severity = sev;
        }
    }
    diagnostics.sort_by_key(Diagnostic::sort_key);

    let mut suppressed = 0;
    let mut kept = Vec::new();
    // Inline suppressions, per file; remember which ones were used.
    let mut used: BTreeSet<(String, usize)> = BTreeSet::new();
    let inline: BTreeMap<&String, Vec<suppress::Suppression>> = files
        .iter()
        .filter(|_| options.inline_suppressions)
        .map(|(name, (file, leaders))| (name, suppress::find(file, leaders)))
        .collect();
    for d in diagnostics {
        let line = d.start().line;
        let hit = inline.get(&d.file.display).and_then(|list| {
            list.iter().find(|s| {
                s.target_line == line
                    && s.rules
                        .iter()
                        .any(|r| r == d.rule.name || r.eq_ignore_ascii_case(d.rule.code))
            })
        });
        if let Some(s) = hit {
            used.insert((d.file.display.clone(), s.comment_line));
            suppressed += 1;
            continue;
        }
        let allowed = settings.allows.iter().any(|a| {
            a.rule.code == d.rule.code
                && a.paths.as_ref().is_none_or(|p| p.is_match(&d.file.display))
                && a.server
                    .as_ref()
                    .is_none_or(|s| d.server.as_ref() == Some(s))
        });
        if allowed {
            suppressed += 1;
            continue;
        }
        kept.push(d);
    }
    if settings.is_enabled(&UNUSED_SUPPRESSION) {
        for (name, list) in &inline {
            let Some((file, _)) = files.get(*name) else {
                continue;
            };
            for s in list
                .iter()
                .filter(|s| !used.contains(&((*name).clone(), s.comment_line)))
            {
                if let Some(d) = unused_suppression(file, s, settings) {
                    kept.push(d);
                }
            }
        }
        kept.sort_by_key(Diagnostic::sort_key);
    }

    let mut occurrences: BTreeMap<(String, String), usize> = BTreeMap::new();
    let baseline = options.baseline.as_ref().map(Baseline::fingerprints);
    let mut findings = Vec::new();
    for d in kept {
        let base = d.fingerprint(0);
        let n = occurrences
            .entry((d.file.display.clone(), base))
            .or_insert(0);
        let fingerprint = d.fingerprint(*n);
        *n += 1;
        if baseline
            .as_ref()
            .is_some_and(|b| b.contains(fingerprint.as_str()))
        {
            suppressed += 1;
            continue;
        }
        findings.push(Finding {
            diagnostic: d,
            fingerprint,
        });
    }
    (findings, suppressed)
}

/// The finding for a suppression that suppressed nothing. A suppression of a rule that did not
/// run this time says nothing either way and is left alone; one naming no rule is reported.
fn unused_suppression(
    file: &Arc<SourceFile>,
    s: &suppress::Suppression,
    settings: &Settings,
) -> Option<Diagnostic> {
    let unknown: Vec<&str> = s
        .rules
        .iter()
        .filter(|r| find_rule(r).is_none())
        .map(String::as_str)
        .collect();
    let message = if !unknown.is_empty() {
        format!(
            "`portcullis-ignore: {}` names no rule: `{}`",
            s.rules.join(", "),
            unknown.join("`, `")
        )
    } else if s
        .rules
        .iter()
        .filter_map(|r| find_rule(r))
        .any(|r| settings.is_enabled(r))
    {
        format!(
            "`portcullis-ignore: {}` suppresses nothing on line {}",
            s.rules.join(", "),
            s.target_line
        )
    } else {
        return None;
    };
    let span = crate::span::Span::new(s.comment_start, s.comment_end);
    Some(
        Diagnostic::new(&UNUSED_SUPPRESSION, file, span, message).with_help(
            "Remove the comment, or correct the rule name (`portcullis rules` lists them).",
        ),
    )
}

/// A baseline accepting every finding of `report`.
pub fn baseline_of(report: &Report) -> Baseline {
    let mut findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| crate::baseline::BaselineEntry {
            rule: f.diagnostic.rule.name.to_string(),
            path: f.diagnostic.file.display.clone(),
            fingerprint: f.fingerprint.clone(),
        })
        .collect();
    findings.sort();
    Baseline {
        version: crate::baseline::VERSION,
        findings,
    }
}
