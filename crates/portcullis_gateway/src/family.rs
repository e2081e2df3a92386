//! Every process a server started, found and stopped on Linux even when it left the server's
//! process group (`setsid`, `setpgid`, a daemon's double fork).
//!
//! The gateway makes itself a child subreaper ([`adopt_orphans`], `PR_SET_CHILD_SUBREAPER`): a
//! process orphaned below it is reparented to the gateway instead of init, so nothing a server
//! starts can leave the gateway's tree. A [`Family`] is the processes of one server: the server,
//! its process group and every descendant seen of them, remembered by pid *and* start time (a
//! reused pid is never taken for a member). Stopping a family first freezes it (SIGSTOP, round
//! after round until no member runs and no new one appeared, so none can fork away meanwhile),
//! then kills it (SIGKILL). Signals go through a pidfd checked against the start time, so a pid
//! reused between the scan and the signal is never hit. Adopted orphans that die are the
//! gateway's zombies: [`reap_adopted`] collects them (never a server's own pid, which tokio
//! waits for).
//!
//! With several servers in one gateway (the HTTP front), a process belongs to a server's family
//! by being seen in its tree, or, once orphaned and adopted by the gateway, by carrying the
//! server's mark in its environment ([`FAMILY_VAR`], set to a random value per server and
//! inherited by what it starts): a daemon that double-forks before any scan saw it is still
//! found. Trade-offs: a scan reads every `/proc/<pid>/stat`, so scans happen when a server is
//! stopped (and while it stops), not continuously; a process that both leaves the tree unseen and clears its
//! environment belongs to no family, and is stopped when the gateway exits ([`stop_all`])
//! rather than when its session ends. A process in uninterruptible sleep may not
//! freeze; after a bounded number of rounds it is killed anyway. Elsewhere than Linux every
//! function here does nothing, and only the server's process group is stopped
//! ([`crate::child`]).

use std::time::Duration;

/// The variable that marks a server's environment (and so its descendants') with its family.
pub const FAMILY_VAR: &str = "PORTCULLIS_GATEWAY_FAMILY";

/// Makes this process the subreaper of the processes it starts (Linux). Call it once, early,
/// in a process that is a gateway: it changes where every orphan below this process goes.
/// False when the kernel refused or the platform has no such thing.
pub fn adopt_orphans() -> bool {
    imp::adopt_orphans()
}

/// Marks `pid` as a process this gateway spawned itself (a server), whose exit status belongs
/// to its `Child` handle: [`reap_adopted`] leaves it alone.
pub fn register_spawned(pid: i32) {
    imp::register_spawned(pid);
}

/// Forgets a spawned process once its status was collected.
pub fn unregister_spawned(pid: i32) {
    imp::unregister_spawned(pid);
}

/// Collects the exit status of adopted orphans that died (zombies of this process that it did
/// not spawn), so they do not pile up in the process table.
pub fn reap_adopted() {
    imp::reap_adopted();
}

/// Reaps adopted orphans whenever a child of this process ends (SIGCHLD), and once a second in
/// case a signal was merged; runs until dropped.
pub async fn reap_forever() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut child = signal(SignalKind::child()).ok();
        loop {
            match child.as_mut() {
                Some(c) => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), c.recv()).await;
                }
                None => tokio::time::sleep(Duration::from_secs(1)).await,
            }
            reap_adopted();
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}

/// Stops every descendant of this process: SIGTERM, up to `grace` for them to exit, then the
/// freeze-and-kill of [`Family::kill_all`], then reaps them. For the gateway's exit, after each
/// server was stopped: it catches what left its server's tree unseen.
pub async fn stop_all(grace: Duration) {
    let mut all = Family::descendants_of_self();
    if all.members_now().is_empty() {
        return;
    }
    all.signal_all(Signal::Term);
    let deadline = tokio::time::Instant::now() + grace;
    while tokio::time::Instant::now() < deadline && !all.members_now().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    all.kill_all();
    // The killed need a moment to become zombies; reap what is there, boundedly.
    for _ in 0..25 {
        reap_adopted();
        if all.members_now().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Term,
    Kill,
}

/// The processes that belong to one server (see the module doc).
#[derive(Debug)]
pub struct Family {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    inner: imp::Family,
}

impl Family {
    /// The family of the server with pid `root`, which leads its own process group and was
    /// started with `FAMILY_VAR=mark` in its environment.
    pub fn of_server(root: i32, mark: &str) -> Family {
        Family {
            inner: imp::Family::new(root, Some(format!("{FAMILY_VAR}={mark}"))),
        }
    }

    /// Every descendant of this process (not itself).
    fn descendants_of_self() -> Family {
        Family {
            inner: imp::Family::new(std::process::id() as i32, None),
        }
    }

    /// Scans for the family's members now, remembering new ones; returns how many are alive
    /// (not zombies).
    pub fn track(&mut self) -> usize {
        self.inner.scan().len()
    }

    fn members_now(&mut self) -> Vec<i32> {
        self.inner.scan()
    }

    /// Sends `signal` to every member alive now.
    pub fn signal_all(&mut self, signal: Signal) {
        self.inner.signal_all(signal);
    }

    /// Freezes every member (so none forks away), then kills them all. Bounded: a member that
    /// does not freeze within the rounds is killed with the rest.
    pub fn kill_all(&mut self) {
        self.inner.kill_all();
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::collections::{HashMap, HashSet};
    use std::sync::Mutex;
    use std::time::Duration;

    use super::Signal;

    /// Freeze rounds before killing regardless (each is a scan and a few signals).
    const FREEZE_ROUNDS: usize = 50;

    static SPAWNED: Mutex<Option<HashSet<i32>>> = Mutex::new(None);

    fn spawned() -> std::sync::MutexGuard<'static, Option<HashSet<i32>>> {
        SPAWNED.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn adopt_orphans() -> bool {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag of this process.
        #[allow(unsafe_code)]
        let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
        r == 0
    }

    pub fn register_spawned(pid: i32) {
        spawned().get_or_insert_with(HashSet::new).insert(pid);
    }

    pub fn unregister_spawned(pid: i32) {
        if let Some(set) = spawned().as_mut() {
            set.remove(&pid);
        }
    }

    pub fn reap_adopted() {
        let me = std::process::id() as i32;
        let zombies: Vec<i32> = snapshot()
            .into_values()
            .filter(|p| p.ppid == me && p.dead())
            .map(|p| p.pid)
            .collect();
        if zombies.is_empty() {
            return;
        }
        let guard = spawned();
        for pid in zombies {
            if guard.as_ref().is_some_and(|s| s.contains(&pid)) {
                continue;
            }
            let mut status = 0;
            // SAFETY: waitpid on one specific zombie child that no `Child` handle owns.
            #[allow(unsafe_code)]
            unsafe {
                libc::waitpid(pid, &mut status, libc::WNOHANG);
            }
        }
    }

    /// One process as `/proc/<pid>/stat` shows it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Proc {
        pub pid: i32,
        pub ppid: i32,
        pub pgrp: i32,
        /// Clock ticks after boot: with the pid, the process's identity.
        pub start: u64,
        pub state: u8,
    }

    impl Proc {
        pub fn dead(&self) -> bool {
            matches!(self.state, b'Z' | b'X' | b'x')
        }

        fn stopped(&self) -> bool {
            matches!(self.state, b'T' | b't')
        }
    }

    /// Parses a `stat` line: `pid (comm) S ppid pgrp session ... starttime(22nd field) ...`.
    /// The command name may hold spaces and parentheses, so fields are counted after the last `)`.
    pub fn parse_stat(text: &str) -> Option<Proc> {
        let (head, rest) = text.rsplit_once(')')?;
        let pid = head.split_once(" (")?.0.trim().parse().ok()?;
        let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
        Some(Proc {
            pid,
            state: *fields.first()?.as_bytes().first()?,
            ppid: fields.get(1)?.parse().ok()?,
            pgrp: fields.get(2)?.parse().ok()?,
            start: fields.get(19)?.parse().ok()?,
        })
    }

    fn read_stat(pid: i32) -> Option<Proc> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        parse_stat(&text)
    }

    /// Every process now, by pid. Processes that end during the walk are simply missing.
    fn snapshot() -> HashMap<i32, Proc> {
        let mut out = HashMap::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return out;
        };
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            if let Some(p) = read_stat(pid) {
                out.insert(pid, p);
            }
        }
        out
    }

    #[derive(Debug)]
    pub struct Family {
        root: i32,
        /// Whether the root itself (a server) is a member, and its group with it.
        with_root: bool,
        /// `FAMILY_VAR=value`: the environment entry of the server's descendants.
        mark: Option<Vec<u8>>,
        /// The root's start time, so that its pid, once reused, is not taken for it.
        root_start: Option<u64>,
        /// Members seen, by pid, with their start time.
        members: HashMap<i32, u64>,
    }

    impl Family {
        /// A server's family (`mark`: its environment entry), or with `None` every descendant
        /// of `root` but itself.
        pub fn new(root: i32, mark: Option<String>) -> Family {
            Family {
                root,
                with_root: mark.is_some(),
                mark: mark.map(String::into_bytes),
                root_start: read_stat(root).map(|p| p.start),
                members: HashMap::new(),
            }
        }

        /// Whether an orphan the gateway adopted carries this family's mark.
        fn marked(&self, pid: i32) -> bool {
            let Some(mark) = &self.mark else { return false };
            if spawned().as_ref().is_some_and(|s| s.contains(&pid)) {
                return false;
            }
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|entry| entry == &mark[..]))
        }

        /// The members alive now (zombies excluded), remembering new ones and forgetting the
        /// gone.
        fn scan_procs(&mut self) -> Vec<Proc> {
            let procs = snapshot();
            let me = std::process::id() as i32;
            let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
            for p in procs.values() {
                children.entry(p.ppid).or_default().push(p.pid);
            }
            let mut found: HashSet<i32> = HashSet::new();
            let mut queue: Vec<i32> = Vec::new();
            for p in procs.values() {
                let known = self.members.get(&p.pid) == Some(&p.start);
                let seed = known
                    || (self.with_root
                        && ((p.pid == self.root && Some(p.start) == self.root_start)
                            // A group id is not handed out as a pid while the group lives.
                            || p.pgrp == self.root))
                    || (p.ppid == me && !p.dead() && self.marked(p.pid));
                if seed && p.pid != me {
                    queue.push(p.pid);
                }
            }
            if !self.with_root {
                queue.extend(children.get(&self.root).into_iter().flatten());
            }
            while let Some(pid) = queue.pop() {
                if pid == me || !found.insert(pid) {
                    continue;
                }
                queue.extend(children.get(&pid).into_iter().flatten());
            }
            self.members = found
                .iter()
                .filter_map(|pid| procs.get(pid).map(|p| (p.pid, p.start)))
                .collect();
            found
                .iter()
                .filter_map(|pid| procs.get(pid))
                .filter(|p| !p.dead())
                .copied()
                .collect()
        }

        pub fn scan(&mut self) -> Vec<i32> {
            self.scan_procs().iter().map(|p| p.pid).collect()
        }

        pub fn signal_all(&mut self, signal: Signal) {
            let sig = match signal {
                Signal::Term => libc::SIGTERM,
                Signal::Kill => libc::SIGKILL,
            };
            for p in self.scan_procs() {
                send(&p, sig);
            }
        }

        pub fn kill_all(&mut self) {
            for _ in 0..FREEZE_ROUNDS {
                let live = self.scan_procs();
                let running: Vec<&Proc> = live.iter().filter(|p| !p.stopped()).collect();
                if running.is_empty() {
                    break;
                }
                for p in running {
                    send(p, libc::SIGSTOP);
                }
                // A stop takes effect when the process next runs: let it.
                std::thread::sleep(Duration::from_millis(1));
            }
            for p in self.scan_procs() {
                send(&p, libc::SIGKILL);
            }
        }
    }

    /// Sends `sig` to `p` if the pid still names the same process: through a pidfd (no pid
    /// reuse between the check and the signal), else with kill after the check.
    fn send(p: &Proc, sig: libc::c_int) {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        #[allow(unsafe_code)]
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, p.pid, 0) };
        let same = || read_stat(p.pid).is_some_and(|q| q.start == p.start);
        if fd >= 0 {
            let fd = fd as libc::c_int;
            if same() {
                // SAFETY: the descriptor is ours and open; a null siginfo is allowed.
                #[allow(unsafe_code)]
                unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        fd,
                        sig,
                        std::ptr::null::<libc::siginfo_t>(),
                        0,
                    );
                }
            }
            // SAFETY: closes the descriptor opened above, once.
            #[allow(unsafe_code)]
            unsafe {
                libc::close(fd);
            }
        } else if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) && same() {
            // SAFETY: kill only sends a signal.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(p.pid, sig);
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stat_lines_with_odd_names_parse() {
            let line =
                "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 95 0 0 0 0 0 0 0 20 0 1 0 123456 2 3\n";
            let p = parse_stat(line).unwrap();
            assert_eq!(
                p,
                Proc {
                    pid: 4242,
                    ppid: 1,
                    pgrp: 4242,
                    start: 123456,
                    state: b'S'
                }
            );
            assert!(parse_stat("garbage").is_none());
            assert!(parse_stat("1 (x) S 0").is_none());
        }

        #[test]
        fn this_process_is_seen() {
            let me = read_stat(std::process::id() as i32).unwrap();
            assert_eq!(me.pid, std::process::id() as i32);
            assert!(!me.dead());
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::Signal;

    pub fn adopt_orphans() -> bool {
        false
    }
    pub fn register_spawned(_pid: i32) {}
    pub fn unregister_spawned(_pid: i32) {}
    pub fn reap_adopted() {}

    #[derive(Debug)]
    pub struct Family;

    impl Family {
        pub fn new(_root: i32, _mark: Option<String>) -> Family {
            Family
        }
        pub fn scan(&mut self) -> Vec<i32> {
            Vec::new()
        }
        pub fn signal_all(&mut self, _signal: Signal) {}
        pub fn kill_all(&mut self) {}
    }
}
