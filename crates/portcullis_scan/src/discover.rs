//! Finding the files to scan: the user's client configs, and the files under named folders.
//!
//! Folders are walked with the `ignore` crate (parallel, `.gitignore`-aware) with hidden entries
//! included, because client configs live in dot-folders (`.vscode`, `.cursor`, `.gemini`...).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use globset::GlobSet;

use crate::clients::{
    Environment, Platform, classify_path, user_config_candidates, user_config_folders,
};
use crate::document::Format;
use crate::load::FileTask;

/// Folders never worth walking: version control, dependency trees, build output.
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    "target",
    ".tox",
    ".mypy_cache",
];

/// Where to look, and how to name what is found.
pub struct Discovery<'a> {
    pub env: &'a Environment,
    pub platform: Platform,
    pub cwd: &'a Path,
    pub exclude: Option<&'a GlobSet>,
}

/// Something found while walking that is not a file to scan but worth telling the user.
#[derive(Debug, Clone)]
pub struct WalkProblem {
    pub path: PathBuf,
    pub message: String,
}

impl Discovery<'_> {
    /// The user's configurations that exist on this machine.
    pub fn user_configs(&self) -> Vec<FileTask> {
        let mut tasks = Vec::new();
        for c in user_config_candidates(self.env, self.platform) {
            if c.path.is_file() {
                tasks.push(FileTask {
                    display: self.display(&c.path),
                    root: c.path.parent().map(Path::to_path_buf).unwrap_or_default(),
                    path: c.path,
                    known: Some((c.client, c.scope)),
                    explicit: false,
                });
            }
        }
        for (dir, client, scope) in user_config_folders(self.env) {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                // Extensions keep their manifest one level down.
                let path = if path.is_dir() {
                    path.join("gemini-extension.json")
                } else {
                    path
                };
                if path.is_file() && Format::from_file_name(&path.to_string_lossy()).is_some() {
                    tasks.push(FileTask {
                        display: self.display(&path),
                        root: dir.clone(),
                        path,
                        known: Some((client, scope)),
                        explicit: false,
                    });
                }
            }
        }
        tasks
    }

    /// Files under `root` that may be client configurations. A file named directly is always
    /// returned.
    pub fn walk(&self, root: &Path, problems: &Mutex<Vec<WalkProblem>>) -> Vec<FileTask> {
        if root.is_file() || !root.exists() {
            return vec![FileTask {
                path: root.to_path_buf(),
                display: self.display(root),
                root: root.parent().map(Path::to_path_buf).unwrap_or_default(),
                known: None,
                explicit: true,
            }];
        }
        let found = Mutex::new(Vec::new());
        let home = self.env.home.as_deref();
        ignore::WalkBuilder::new(root)
            .hidden(false)
            .follow_links(false)
            .require_git(false)
            .filter_entry(|e| {
                !(e.file_type().is_some_and(|t| t.is_dir())
                    && SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref()))
            })
            .build_parallel()
            .run(|| {
                Box::new(|entry| {
                    match entry {
                        Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                            let path = e.path();
                            let wanted = classify_path(path, home).is_some()
                                || Format::from_file_name(&e.file_name().to_string_lossy())
                                    .is_some()
                                || crate::code::load::language_of(path).is_some()
                                || crate::supply::SupplyKind::of(path).is_some();
                            let excluded = self
                                .exclude
                                .is_some_and(|x| x.is_match(self.relative(path)));
                            if wanted && !excluded {
                                found
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .push(path.to_path_buf());
                            }
                        }
                        Ok(_) => {}
                        Err(err) => {
                            problems
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(WalkProblem {
                                    path: err_path(&err).unwrap_or_else(|| root.to_path_buf()),
                                    message: err.to_string(),
                                })
                        }
                    }
                    ignore::WalkState::Continue
                })
            });
        let mut paths = found.into_inner().unwrap_or_else(|p| p.into_inner());
        paths.sort();
        paths
            .into_iter()
            .map(|path| FileTask {
                display: self.display(&path),
                root: root.to_path_buf(),
                path,
                known: None,
                explicit: false,
            })
            .collect()
    }

    fn relative<'p>(&self, path: &'p Path) -> &'p Path {
        path.strip_prefix(self.cwd).unwrap_or(path)
    }

    /// How a path is shown: relative to the working folder, `~/...` under home, else as is.
    pub fn display(&self, path: &Path) -> String {
        if let Ok(rel) = path.strip_prefix(self.cwd)
            && !rel.as_os_str().is_empty()
        {
            return rel.to_string_lossy().into_owned();
        }
        if let Some(home) = self.env.home.as_deref()
            && let Ok(rel) = path.strip_prefix(home)
        {
            return format!("~/{}", rel.to_string_lossy());
        }
        path.to_string_lossy().into_owned()
    }
}

fn err_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } => err_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// Drops the second and later tasks for the same file (a config both discovered and walked).
pub fn dedupe(tasks: Vec<FileTask>) -> Vec<FileTask> {
    let mut seen: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut out: Vec<FileTask> = Vec::new();
    for task in tasks {
        let key = std::fs::canonicalize(&task.path).unwrap_or_else(|_| task.path.clone());
        match seen.get(&key) {
            // Discovery knows the client for sure; keep that knowledge, and explicitness.
            Some(&i) => {
                out[i].explicit |= task.explicit;
                if out[i].known.is_none() {
                    out[i].known = task.known;
                }
            }
            None => {
                seen.insert(key, out.len());
                out.push(task);
            }
        }
    }
    out
}
