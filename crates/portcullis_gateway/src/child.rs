//! The server process a gateway starts: spawned as the leader of its own process group, so that
//! on shutdown, crash or timeout the gateway stops the server *and* whatever it started
//! (a wrapper script's interpreter, `npx`'s node, a helper left running in the background).
//!
//! The trade-off: a process group is what a Unix kernel can kill in one call, but a child that
//! makes its own session or group (`setsid`, a daemon) leaves it; only a container or cgroup
//! closes that. On other systems only the direct child is killed.

use std::ffi::OsString;
use std::time::Duration;

use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// A started server: its pipes are taken by the caller; dropping it kills the whole group.
pub struct ServerProcess {
    child: Child,
    /// The process group id (the child's pid), on Unix.
    group: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("no server command given")]
    NoCommand,
    #[error("cannot start the server `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
}

impl ServerProcess {
    /// Starts `command` with piped stdin and stdout and inherited stderr (the client's log of
    /// this server), in a new process group.
    pub fn spawn(
        command: &[OsString],
    ) -> Result<(ServerProcess, ChildStdin, ChildStdout), SpawnError> {
        let (program, args) = command.split_first().ok_or(SpawnError::NoCommand)?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd.spawn().map_err(|source| SpawnError::Spawn {
            command: program.to_string_lossy().into_owned(),
            source,
        })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            // Both were asked for as pipes; without them there is nothing to relay.
            let _ = child.start_kill();
            return Err(SpawnError::Spawn {
                command: program.to_string_lossy().into_owned(),
                source: std::io::Error::other("the server's pipes could not be opened"),
            });
        };
        let group = child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .filter(|pid| *pid > 0);
        Ok((ServerProcess { child, group }, stdin, stdout))
    }

    /// Waits up to `limit` for the server itself to exit; its status, if it did.
    pub async fn wait_for(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(Ok(status)) => Some(status),
            _ => None,
        }
    }

    /// Waits for the server itself to exit (cancel-safe). Its children may still run and hold
    /// its output open, so a relay watches this as well as the end of the output.
    pub async fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.wait().await.ok()
    }

    /// Whether the server itself has exited, without waiting.
    pub fn try_exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL to the server and every process in its group, now.
    pub fn kill_group(&mut self) {
        self.signal_group(Signal::Kill);
        let _ = self.child.start_kill();
    }

    /// Stops the server and its group: SIGTERM, up to `grace` for the server to exit, then
    /// SIGKILL to every process still in the group (also when the server had already exited,
    /// for the children it left behind).
    pub async fn stop(&mut self, grace: Duration) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.signal_group(Signal::Term);
            if self.wait_for(grace).await.is_none() {
                let _ = self.child.start_kill();
            }
        }
        self.signal_group(Signal::Kill);
        let _ = self.wait_for(Duration::from_secs(2)).await;
    }

    fn signal_group(&self, signal: Signal) {
        #[cfg(unix)]
        if let Some(group) = self.group {
            let sig = match signal {
                Signal::Term => libc::SIGTERM,
                Signal::Kill => libc::SIGKILL,
            };
            // SAFETY: killpg only sends a signal; an empty or foreign group gives an error
            // (ESRCH/EPERM), which there is nothing to do about.
            #[allow(unsafe_code)]
            unsafe {
                libc::killpg(group, sig);
            }
        }
        #[cfg(not(unix))]
        let _ = (self.group, signal);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Term,
    Kill,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // However the gateway ends, nothing it started outlives it.
        self.signal_group(Signal::Kill);
        let _ = self.child.start_kill();
    }
}
