//! Where the gateway keeps its audit database by default: the user's data folder.

use std::path::PathBuf;

/// `$XDG_DATA_HOME/portcullis` or `~/.local/share/portcullis` on Linux and other Unix,
/// `~/Library/Application Support/portcullis` on macOS, `%APPDATA%\portcullis` on Windows.
/// `None` when no home folder is known.
pub fn data_dir() -> Option<PathBuf> {
    let base = if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"))
    } else {
        std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
    }?;
    Some(base.join("portcullis"))
}

/// The default audit database: `<data dir>/audit.sqlite`.
pub fn default_audit_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join("audit.sqlite"))
}
