//! Supply-chain and deployment files a server ships with: container files and dependency
//! manifests. Recognised by name, read once as text; each rule parses what it needs.
//! [`node`] tells which release of an npm package a project installs, for code rules whose
//! verdict depends on it.

pub mod node;

use std::path::Path;
use std::sync::Arc;

use crate::source::SourceFile;

/// The kinds of supply-chain files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SupplyKind {
    /// `Dockerfile`, `Containerfile`, `*.dockerfile`, `Dockerfile.*`.
    Dockerfile,
    /// `requirements*.txt`, `constraints*.txt`.
    Requirements,
    /// `pyproject.toml`.
    Pyproject,
    /// `Pipfile`.
    Pipfile,
    /// `package.json`.
    PackageJson,
}

impl SupplyKind {
    /// The kind a file name implies.
    pub fn of(path: &Path) -> Option<SupplyKind> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        match name.as_str() {
            "dockerfile" | "containerfile" => Some(SupplyKind::Dockerfile),
            n if n.starts_with("dockerfile.") || n.ends_with(".dockerfile") => {
                Some(SupplyKind::Dockerfile)
            }
            n if (n.starts_with("requirements") || n.starts_with("constraints"))
                && n.ends_with(".txt") =>
            {
                Some(SupplyKind::Requirements)
            }
            "pyproject.toml" => Some(SupplyKind::Pyproject),
            "pipfile" => Some(SupplyKind::Pipfile),
            "package.json" => Some(SupplyKind::PackageJson),
            _ => None,
        }
    }

    /// Comment leaders, for suppressions and fixture annotations.
    pub fn comment_leaders(self) -> &'static [&'static str] {
        match self {
            SupplyKind::PackageJson => &["//"],
            _ => &["#"],
        }
    }
}

/// One supply-chain file.
#[derive(Debug)]
pub struct SupplyFile {
    pub source: Arc<SourceFile>,
    pub kind: SupplyKind,
    /// Lock files found beside it (`uv.lock`, `poetry.lock`, `package-lock.json`, ...), by name,
    /// and in the folders above it up to the scan root, by relative path (`../../uv.lock`):
    /// a workspace member is governed by the lockfile at the workspace root.
    pub siblings: Vec<String>,
}

impl SupplyFile {
    /// Whether one of the lock files named is beside the manifest or above it.
    pub fn has_lock(&self, names: &[&str]) -> bool {
        self.lock(names).is_some()
    }

    /// The first lock file found among `names`, nearest first, as recorded in `siblings`.
    pub fn lock(&self, names: &[&str]) -> Option<&str> {
        self.siblings
            .iter()
            .find(|s| names.contains(&s.rsplit('/').next().unwrap_or(s)))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        assert_eq!(
            SupplyKind::of(Path::new("a/Dockerfile")),
            Some(SupplyKind::Dockerfile)
        );
        assert_eq!(
            SupplyKind::of(Path::new("Dockerfile.prod")),
            Some(SupplyKind::Dockerfile)
        );
        assert_eq!(
            SupplyKind::of(Path::new("requirements-dev.txt")),
            Some(SupplyKind::Requirements)
        );
        assert_eq!(
            SupplyKind::of(Path::new("pyproject.toml")),
            Some(SupplyKind::Pyproject)
        );
        assert_eq!(SupplyKind::of(Path::new("notes.txt")), None);
    }
}
