//! `portcullis scan`: find configurations, report findings, exit 0/1/2.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use portcullis_scan::baseline::Baseline;
use portcullis_scan::render::{OutputFormat, RenderOptions, render};
use portcullis_scan::scan::{Progress, ScanOptions, baseline_of, scan};
use portcullis_scan::settings::Settings;
use portcullis_scan::tools::live::{LiveServer, configured_servers};
use portcullis_scan::tools::pin::{LOCK_FILE, Lock};
use portcullis_scan::{Report, Severity};

use super::live;
use crate::cli::{ColorChoice, Format, LiveArgs, ScanArgs};
use crate::{output, targets};

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    let settings_path = args.settings.clone().or_else(|| Settings::discover(&cwd));
    let mut settings = match &settings_path {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    if !args.select.is_empty() {
        settings
            .select_only(&args.select)
            .map_err(anyhow::Error::msg)?;
    }
    settings.ignore(&args.ignore).map_err(anyhow::Error::msg)?;
    if let Some(level) = &args.fail_on {
        settings.fail_on = level.parse::<Severity>().map_err(anyhow::Error::msg)?;
    }
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    let (paths, packages) = targets::split(&args.paths)?;
    for path in &paths {
        if !path.exists() && path.symlink_metadata().is_err() {
            bail!("{} does not exist", path.display());
        }
    }
    let lock = if args.locked || args.lock.is_some() {
        let path = args.lock.clone().unwrap_or_else(|| {
            let folder = paths
                .iter()
                .find(|p| p.is_dir())
                .cloned()
                .unwrap_or_else(|| cwd.clone());
            folder.join(LOCK_FILE)
        });
        if !path.is_file() {
            bail!(
                "{} does not exist: run `portcullis pin` to create it, or name another with --lock",
                path.display()
            );
        }
        let path = if path.is_absolute() {
            path
        } else {
            cwd.join(path)
        };
        Some(Lock::load(&path)?)
    } else {
        None
    };
    let show_progress = !args.quiet && output::stderr_is_terminal();
    // Every package is fetched before anything is scanned: a download that fails stops the
    // command (exit 2) before a partial report is printed.
    let fetched = packages
        .iter()
        .map(|p| targets::fetch(p, show_progress))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let user_configs = (args.paths.is_empty() || args.user_configs) && !args.no_user_configs;
    // Live servers are inspected before the scan, so that the question comes before any
    // progress display and the snapshots are audited with everything else.
    let (mut live, live_notes) = match &args.inspect {
        Some(consent) => {
            let mut options = ScanOptions::new(paths.clone(), cwd.clone());
            options.user_configs = user_configs;
            options.settings = settings.clone();
            inspect_configured(&options, &args.live, consent == "yes", "scan --inspect")?
        }
        None => (Vec::new(), Vec::new()),
    };
    let fail_on = settings.fail_on;
    let spinner = Spinner::new(show_progress);
    let mut report = Report::default();
    if fetched.is_empty() || !paths.is_empty() || user_configs {
        // The scanner reads "no path" as "the current folder"; with only packages named, give
        // it an empty folder so that `--user-configs` adds the user's configs and nothing else.
        let empty = if paths.is_empty() && !fetched.is_empty() {
            Some(tempfile::TempDir::new().context("cannot create a temporary folder")?)
        } else {
            None
        };
        let paths = match &empty {
            Some(dir) => vec![dir.path().to_path_buf()],
            None => paths,
        };
        let mut options = ScanOptions::new(paths, cwd);
        options.user_configs = user_configs;
        options.settings = settings.clone();
        options.baseline = baseline.clone();
        options.lock = lock.clone();
        options.live = std::mem::take(&mut live);
        options.live_scan = args.inspect.is_some();
        report = scan(&options, &spinner);
    }
    report.notes.extend(live_notes);
    for package in &fetched {
        let mut options = package.scan_options();
        options.settings = settings.clone();
        options.baseline = baseline.clone();
        package.merge(&mut report, scan(&options, &spinner));
    }
    spinner.finish();

    for note in &report.notes {
        anstream::eprintln!("note: {note}");
    }
    if let Some(path) = &args.write_baseline {
        std::fs::write(path, baseline_of(&report).to_json())
            .with_context(|| format!("cannot write the baseline to {}", path.display()))?;
    }

    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && output::stdout_is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let width = if output::stdout_is_terminal() {
        terminal_width().unwrap_or(100)
    } else {
        100
    };
    let format = match args.format {
        Format::Text => OutputFormat::Text,
        Format::Json => OutputFormat::Json,
        Format::Sarif => OutputFormat::Sarif,
        Format::Html => OutputFormat::Html,
    };
    output::write(
        &render(&report, format, &RenderOptions { color, width }),
        args.output.as_deref(),
    )?;
    Ok(if report.fails(fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Finds the servers of the client configs a scan with `options` reads, asks the user, and
/// inspects them: the snapshots, and notes on what could not be inspected or confined.
pub(super) fn inspect_configured(
    options: &ScanOptions,
    args: &LiveArgs,
    agreed: bool,
    what: &str,
) -> anyhow::Result<(Vec<LiveServer>, Vec<String>)> {
    let limits = live::options(args)?;
    let plan = live::plan(configured_servers(options));
    if plan.planned.is_empty() {
        let mut notes = plan.skipped;
        notes.push(format!(
            "{what}: no MCP server to inspect in the client configs found"
        ));
        return Ok((Vec::new(), notes));
    }
    live::consent(&plan, &limits, agreed || args.yes, what)?;
    let results = live::inspect_all(&plan, &limits);
    Ok(live::collect(plan, results))
}

fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS").ok()?.parse().ok()
}

/// Progress on a terminal's standard error; nothing at all when it is not a terminal.
struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    fn new(enabled: bool) -> Self {
        let bar = enabled.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            // A scan that ends at once shows nothing; a slower one shows progress.
            bar.enable_steady_tick(Duration::from_millis(120));
            bar.set_message("looking for MCP configurations…");
            bar
        });
        Spinner { bar }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Spinner {
    fn found(&self, files: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("found {files} files to check"));
        }
    }

    fn scanned(&self, files: usize, servers: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("scanned {files} files, {servers} MCP servers"));
        }
    }
}
