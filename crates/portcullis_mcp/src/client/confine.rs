//! Confinement of a launched stdio server: what it can see of the user and the machine.
//!
//! Applied to every server portcullis launches (and portcullis launches one only when the user
//! names it): a scratch home, temp and working folder, removed afterwards; an environment of
//! only what the user passes plus `PATH` and `LANG` (no inherited tokens); its own process
//! group, killed at the end; a memory limit (address space); and on Linux no network, through
//! a new user and network namespace, unless `allow_network`. Where the platform cannot do one
//! of these, a note says so and it goes into the snapshot. What this is not: a file-system
//! sandbox. The server can still read what the user can read outside its scratch folders.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::LaunchSpec;

/// How tightly a launched server is held.
#[derive(Debug, Clone, PartialEq)]
pub struct Confinement {
    /// Let the server use the network (no network namespace).
    pub allow_network: bool,
    /// Address-space limit in bytes; `None` for no limit.
    pub memory_limit: Option<u64>,
}

impl Default for Confinement {
    fn default() -> Self {
        Confinement {
            allow_network: false,
            memory_limit: Some(4 << 30),
        }
    }
}

/// The scratch folders of one launch; removed when dropped.
pub(crate) struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> std::io::Result<Scratch> {
        let dir = tempfile::Builder::new()
            .prefix("portcullis-inspect-")
            .tempdir()?;
        for sub in ["home", "tmp", "work"] {
            std::fs::create_dir(dir.path().join(sub))?;
        }
        Ok(Scratch { dir })
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    pub fn home(&self) -> PathBuf {
        self.path("home")
    }
}

/// Fills in `command`'s environment and folders: the environment is what the user or the
/// configuration gives the server (already resolved), the working folder the one the
/// configuration names or a scratch one.
pub(crate) fn prepare(command: &mut Command, scratch: &Scratch, spec: &LaunchSpec) {
    command.env_clear();
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    command.env("PATH", path);
    command.env(
        "LANG",
        std::env::var_os("LANG").unwrap_or_else(|| "C.UTF-8".into()),
    );
    let home = scratch.home();
    let tmp = scratch.path("tmp");
    command.env("HOME", &home);
    command.env("TMPDIR", &tmp);
    if cfg!(windows) {
        // Windows programs find their profile and temp folder through these.
        for key in ["USERPROFILE", "APPDATA", "LOCALAPPDATA"] {
            command.env(key, &home);
        }
        for key in ["TEMP", "TMP"] {
            command.env(key, &tmp);
        }
        if let Some(root) = std::env::var_os("SystemRoot") {
            command.env("SystemRoot", root);
        }
    }
    for (key, value) in &spec.env {
        command.env(key, value);
    }
    match &spec.cwd {
        Some(cwd) => command.current_dir(cwd),
        None => command.current_dir(scratch.path("work")),
    };
}

/// The notes every launch gets, whatever the platform.
pub(crate) fn common_notes(spec: &LaunchSpec) -> Vec<String> {
    let mut names: Vec<&str> = spec.env.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    vec![
        match &spec.cwd {
            None => {
                "home, temp and working folder: scratch folders, removed afterwards".to_string()
            }
            Some(cwd) => format!(
                "home and temp folder: scratch folders, removed afterwards; working folder: {} \
                 (the config's `cwd`), NOT a scratch folder: the server can write there",
                cwd.display()
            ),
        },
        if names.is_empty() {
            "environment: only PATH and LANG were passed on".to_string()
        } else {
            format!(
                "environment: only PATH, LANG and the variables given ({}) were passed on",
                names.join(", ")
            )
        },
        "file system: not confined; the server could read what your user can read outside its \
         scratch folders"
            .to_string(),
    ]
}

/// Variables clients define themselves (VS Code, Cursor): not environment references.
const CLIENT_VARIABLES: &[&str] = &[
    "workspaceFolder",
    "workspaceFolderBasename",
    "userHome",
    "pathSeparator",
    "cwd",
    "file",
    "fileDirname",
    "extensionPath",
    "CLAUDE_PLUGIN_ROOT",
    "__dirname",
];

/// The values a client gives its own variables for one config entry. A variable without a
/// value here (`${workspaceFolder}` in the user's own config, `${input:key}`) is passed on as
/// written, as no client would.
#[derive(Debug, Clone, Default)]
pub struct ClientVariables {
    /// The project folder (`${workspaceFolder}`).
    pub workspace: Option<PathBuf>,
    /// The user's home folder (`${userHome}`).
    pub home: Option<PathBuf>,
}

impl ClientVariables {
    fn value(&self, name: &str) -> Option<String> {
        let text = |p: &Path| p.to_string_lossy().into_owned();
        match name {
            "workspaceFolder" => self.workspace.as_deref().map(text),
            "workspaceFolderBasename" => self
                .workspace
                .as_deref()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned()),
            "userHome" => self.home.as_deref().map(text),
            "pathSeparator" => Some(std::path::MAIN_SEPARATOR.to_string()),
            _ => None,
        }
    }
}

/// A value with its references resolved.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resolved {
    pub value: String,
    /// Environment variables that are not set (replaced by nothing, or by their default).
    pub unset: Vec<String>,
    /// Client variables with no value here, passed on as written (`${input:key}`).
    pub unresolved: Vec<String>,
}

/// Resolves `${VAR}`, `${env:VAR}` and `${VAR:-default}` references from `lookup`, and the
/// client's own variables (`${workspaceFolder}`, `${userHome}`) from `client`, as clients do
/// when they launch a configured server.
pub fn resolve_references(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    client: &ClientVariables,
) -> Resolved {
    let mut resolved = Resolved {
        value: String::with_capacity(value.len()),
        ..Resolved::default()
    };
    let out = &mut resolved.value;
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let written = &rest[start..start + 2 + end + 1];
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        let name = name.strip_prefix("env:").unwrap_or(name);
        let is_env_name =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        // `${workspaceFolder}`, `${input:key}`, `${config:x}`: the client's, not the environment's.
        let of_client = CLIENT_VARIABLES.contains(&inner)
            || (default.is_none() && inner.contains(':') && !inner.starts_with("env:"));
        if of_client {
            match client.value(inner) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push_str(written);
                    resolved.unresolved.push(written.to_owned());
                }
            }
        } else if !is_env_name {
            out.push_str(written);
        } else {
            match lookup(name) {
                Some(v) if !(v.is_empty() && default.is_some()) => out.push_str(&v),
                _ => {
                    if let Some(default) = default {
                        out.push_str(default);
                    } else {
                        resolved.unset.push(name.to_owned());
                    }
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    resolved
}

#[cfg(unix)]
mod unix {
    //! Process group, resource limits and (Linux) namespaces, set up in the child between
    //! `fork` and `exec`. Only async-signal-safe system calls happen there.

    use std::os::unix::process::CommandExt;
    use std::process::Command;

    use super::Confinement;

    /// What `pre_exec` attempts.
    #[derive(Clone, Copy)]
    pub struct Plan {
        pub memory_limit: Option<u64>,
        pub new_network: bool,
    }

    impl Plan {
        pub fn of(confinement: &Confinement) -> Plan {
            Plan {
                memory_limit: confinement.memory_limit,
                new_network: !confinement.allow_network && cfg!(target_os = "linux"),
            }
        }
    }

    #[allow(unsafe_code)]
    pub fn apply(command: &mut Command, plan: Plan) {
        // SAFETY: the closure runs in the forked child before `exec` and only makes system
        // calls (setsid, prctl, setrlimit, unshare), which are async-signal-safe; it allocates
        // nothing and touches no lock.
        unsafe {
            command.pre_exec(move || {
                // Its own process group, so that everything it starts can be stopped at once.
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                #[cfg(target_os = "linux")]
                {
                    // Dies with portcullis, even if portcullis is killed.
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                }
                let no_core = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::setrlimit(libc::RLIMIT_CORE, &no_core);
                if let Some(bytes) = plan.memory_limit {
                    let limit = libc::rlimit {
                        rlim_cur: bytes as libc::rlim_t,
                        rlim_max: bytes as libc::rlim_t,
                    };
                    libc::setrlimit(libc::RLIMIT_AS, &limit);
                }
                #[cfg(target_os = "linux")]
                if plan.new_network && libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) == -1
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }

    /// Whether a launch error is the namespace being refused, not the program failing.
    pub fn is_namespace_refusal(err: &std::io::Error) -> bool {
        matches!(
            err.raw_os_error(),
            Some(libc::EPERM | libc::EINVAL | libc::ENOSPC | libc::EUSERS | libc::ENOSYS)
        )
    }

    /// Ends the whole process group: a polite signal, then a forceful one.
    #[allow(unsafe_code)]
    pub fn signal_group(pid: u32, forceful: bool) {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return;
        };
        let signal = if forceful {
            libc::SIGKILL
        } else {
            libc::SIGTERM
        };
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

#[cfg(unix)]
pub(crate) use unix::{Plan, apply, is_namespace_refusal, signal_group};

/// Notes on what the platform could not confine, given what `pre_exec` was asked to do.
pub(crate) fn platform_notes(confinement: &Confinement, network_denied: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if confinement.allow_network {
        notes.push("network: allowed (--allow-network)".to_string());
    } else if network_denied {
        notes.push("network: denied (new user and network namespace)".to_string());
    } else if cfg!(target_os = "linux") {
        notes.push(
            "network: NOT confined: this system refuses unprivileged user namespaces, so the \
             server could use the network; run portcullis in a container or VM without network \
             to be sure"
                .to_string(),
        );
    } else {
        notes.push(format!(
            "network: NOT confined: portcullis cannot deny the network on {}; run it in a VM or \
             container without network to be sure",
            std::env::consts::OS
        ));
    }
    match confinement.memory_limit {
        Some(_) if cfg!(target_os = "macos") || cfg!(windows) => notes.push(format!(
            "memory: NOT limited on {} (the address-space limit is not enforced there)",
            std::env::consts::OS
        )),
        Some(bytes) => notes.push(format!(
            "memory: limited to {} MiB of address space",
            bytes >> 20
        )),
        None => notes.push("memory: not limited (--memory-limit 0)".to_string()),
    }
    if cfg!(unix) {
        notes.push("time: its process group is killed when the inspection ends".to_string());
    } else {
        notes.push(
            "time: the server is killed when the inspection ends, but processes it started \
             may outlive it on this platform"
                .to_string(),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{ClientVariables, resolve_references};

    fn lookup(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("t0k".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn references_resolve_from_the_environment() {
        let none = ClientVariables::default();
        let r = |v: &str| {
            let r = resolve_references(v, &lookup, &none);
            (r.value, r.unset)
        };
        assert_eq!(r("Bearer ${TOKEN}"), ("Bearer t0k".into(), vec![]));
        assert_eq!(r("${env:TOKEN}/x"), ("t0k/x".into(), vec![]));
        assert_eq!(r("${NOPE:-dflt}"), ("dflt".into(), vec![]));
        assert_eq!(r("${EMPTY:-dflt}"), ("dflt".into(), vec![]));
        assert_eq!(r("a${NOPE}b"), ("ab".into(), vec!["NOPE".to_string()]));
        assert_eq!(
            r("unterminated ${TOKEN"),
            ("unterminated ${TOKEN".into(), vec![])
        );
    }

    #[test]
    fn client_variables_resolve_from_the_entry_or_stay_as_written() {
        let client = ClientVariables {
            workspace: Some(PathBuf::from("/src/app")),
            home: Some(PathBuf::from("/home/u")),
        };
        let r = resolve_references(
            "${workspaceFolder}/data ${workspaceFolderBasename} ${userHome}",
            &lookup,
            &client,
        );
        assert_eq!(r.value, "/src/app/data app /home/u");
        assert!(r.unset.is_empty() && r.unresolved.is_empty());

        // Outside a workspace, and for inputs the client would prompt for: passed as written,
        // and said; never looked up in the environment.
        let r = resolve_references(
            "${workspaceFolder}/x ${input:key} ${TOKEN}",
            &|_| Some("env".into()),
            &ClientVariables::default(),
        );
        assert_eq!(r.value, "${workspaceFolder}/x ${input:key} env");
        assert_eq!(r.unresolved, ["${workspaceFolder}", "${input:key}"]);
        assert!(r.unset.is_empty());
    }
}
