//! Confinement of a launched stdio server: what it can see of the user and the machine.
//!
//! Applied to every server portcullis launches (and portcullis launches one only when the user
//! names it): a scratch home, temp and working folder, removed afterwards; an environment of
//! only what the user passes plus `PATH` and `LANG` (no inherited tokens); its own process
//! group, killed at the end; a memory limit (address space); and on Linux no network, through
//! a new user and network namespace, unless `allow_network`. Where the platform cannot do one
//! of these, a note says so and it goes into the snapshot. What this is not: a file-system
//! sandbox. The server can still read what the user can read outside its scratch folders.

use std::path::PathBuf;
use std::process::Command;

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

/// Fills in `command`'s environment and folders. `env` is what the user or the configuration
/// gives the server, already resolved.
pub(crate) fn prepare(command: &mut Command, scratch: &Scratch, env: &[(String, String)]) {
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
    for (key, value) in env {
        command.env(key, value);
    }
    command.current_dir(scratch.path("work"));
}

/// The notes every launch gets, whatever the platform.
pub(crate) fn common_notes(env: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    vec![
        "home, temp and working folder: scratch folders, removed afterwards".to_string(),
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

/// Resolves `${VAR}`, `${env:VAR}` and `${VAR:-default}` references from `lookup`, as clients
/// do when they launch a configured server. Returns the value and the names that were unset
/// (replaced by nothing, or by their default).
pub fn resolve_references(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<String>) {
    let mut out = String::with_capacity(value.len());
    let mut missing = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        let name = name.strip_prefix("env:").unwrap_or(name);
        let valid = !name.is_empty()
            && !CLIENT_VARIABLES.contains(&name)
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            // `${input:x}`, `${workspaceFolder}`…: not environment references; left alone.
            out.push_str(&rest[start..start + 2 + end + 1]);
        } else {
            match lookup(name) {
                Some(v) if !(v.is_empty() && default.is_some()) => out.push_str(&v),
                _ => {
                    if let Some(default) = default {
                        out.push_str(default);
                    } else {
                        missing.push(name.to_owned());
                    }
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    (out, missing)
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
    use super::resolve_references;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("t0k".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn references_resolve_from_the_environment() {
        let r = |v: &str| resolve_references(v, &lookup);
        assert_eq!(r("Bearer ${TOKEN}"), ("Bearer t0k".into(), vec![]));
        assert_eq!(r("${env:TOKEN}/x"), ("t0k/x".into(), vec![]));
        assert_eq!(r("${NOPE:-dflt}"), ("dflt".into(), vec![]));
        assert_eq!(r("${EMPTY:-dflt}"), ("dflt".into(), vec![]));
        assert_eq!(r("a${NOPE}b"), ("ab".into(), vec!["NOPE".to_string()]));
        assert_eq!(
            r("${workspaceFolder}/x ${input:key}"),
            ("${workspaceFolder}/x ${input:key}".into(), vec![])
        );
        assert_eq!(
            r("unterminated ${TOKEN"),
            ("unterminated ${TOKEN".into(), vec![])
        );
    }
}
