//! The server process a gateway starts: spawned as the leader of its own process group, so that
//! on shutdown, crash or timeout the gateway stops the server *and* whatever it started
//! (a wrapper script's interpreter, `npx`'s node, a helper left running in the background).
//!
//! A child that makes its own session or group (`setsid`, a daemon) leaves the group: on Linux
//! the server's [`Family`] (every process seen in its tree, which cannot leave the gateway's
//! tree once the gateway is a subreaper, see [`crate::family`]) is stopped with it. On other
//! Unix systems only the group is stopped, so such a child outlives the gateway; elsewhere only
//! the direct child is killed.

use std::ffi::OsString;
use std::time::Duration;

use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::family::{self, Family, Signal};

/// A started server: its pipes are taken by the caller; dropping it kills the whole group.
pub struct ServerProcess {
    child: Child,
    /// The process group id (the child's pid), on Unix.
    group: Option<i32>,
    /// Everything it started, also outside its group (Linux).
    family: Option<Family>,
    /// Whether its exit status was collected (its pid may then be reused).
    reaped: bool,
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
    /// this server), in a new process group, its environment marked with its family
    /// ([`family::FAMILY_VAR`]).
    pub fn spawn(
        command: &[OsString],
    ) -> Result<(ServerProcess, ChildStdin, ChildStdout), SpawnError> {
        let (program, args) = command.split_first().ok_or(SpawnError::NoCommand)?;
        let mark = crate::http::random_id();
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env(family::FAMILY_VAR, &mark)
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
        if let Some(pid) = group {
            family::register_spawned(pid);
        }
        let family = group.map(|pid| Family::of_server(pid, &mark));
        Ok((
            ServerProcess {
                child,
                group,
                family,
                reaped: false,
            },
            stdin,
            stdout,
        ))
    }

    /// Waits up to `limit` for the server itself to exit; its status, if it did.
    pub async fn wait_for(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(Ok(status)) => self.collected(Some(status)),
            _ => None,
        }
    }

    /// Notes that the server's status was collected: its pid is no longer ours.
    fn collected(
        &mut self,
        status: Option<std::process::ExitStatus>,
    ) -> Option<std::process::ExitStatus> {
        if status.is_some() && !self.reaped {
            self.reaped = true;
            if let Some(pid) = self.group {
                family::unregister_spawned(pid);
            }
        }
        status
    }

    /// Notes the processes the server has started so far (its family), so that they are
    /// stopped with it even after they leave its tree (it is called while the server stops).
    pub fn track(&mut self) {
        if let Some(f) = &mut self.family {
            f.track();
        }
    }

    /// Waits for the server itself to exit (cancel-safe). Its children may still run and hold
    /// its output open, so a relay watches this as well as the end of the output.
    pub async fn exited(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.wait().await.ok();
        self.collected(status)
    }

    /// Whether the server itself has exited, without waiting.
    pub fn try_exited(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.try_wait().ok().flatten();
        self.collected(status)
    }

    /// SIGKILL to the server, every process in its group and the rest of its family, now.
    pub fn kill_group(&mut self) {
        self.signal_group(Signal::Kill);
        if let Some(f) = &mut self.family {
            f.kill_all();
        }
        let _ = self.child.start_kill();
    }

    /// Stops the server and what it started: SIGTERM to its group and family, up to `grace`
    /// for the server to exit (its family tracked meanwhile, so what it starts or orphans while
    /// stopping is not missed), then SIGKILL to all that is left (also when the server had
    /// already exited, for the children it left behind).
    pub async fn stop(&mut self, grace: Duration) {
        if self.try_exited().is_none() {
            self.signal_group(Signal::Term);
            if let Some(f) = &mut self.family {
                f.signal_all(Signal::Term);
            }
            let deadline = tokio::time::Instant::now() + grace;
            loop {
                self.track();
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    let _ = self.child.start_kill();
                    break;
                }
                if self
                    .wait_for(left.min(Duration::from_millis(50)))
                    .await
                    .is_some()
                {
                    break;
                }
            }
        }
        self.kill_group();
        let _ = self.wait_for(Duration::from_secs(2)).await;
        family::reap_adopted();
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

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // However the gateway ends, nothing it started outlives it.
        self.kill_group();
    }
}
