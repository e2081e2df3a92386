//! The audit log: every call and decision, hash-chained so tampering shows, in SQLite (default)
//! or JSON lines; and the tool pins, in SQLite.
//!
//! Each record stores the hash of the record before it and its own hash: SHA-256 of the
//! canonical JSON of all its fields but `hash`. `verify` recomputes the chain and names the
//! first record that does not fit. Deleting records at the very end cannot be seen from the
//! chain alone (there is nothing after them); everything else can.
//!
//! Two ways in, one chain. [`AuditLog::append`] is write-ahead: it returns only once the record
//! is committed, so an accepted call is on record before it is forwarded. SQLite runs in WAL
//! mode with `synchronous=NORMAL`: a commit is a `write` into the WAL, no `fsync`, so the record
//! is in the operating system's hands and survives a crash or SIGKILL of the gateway, but a
//! power cut or kernel crash may lose the last records (`synchronous=FULL` would cost an fsync
//! per call). [`AuditLog::append_deferred`] queues a record (a completion, a refusal) and
//! returns at once; the queue is committed in the same transaction as the next write-ahead
//! record (group commit: under load one commit carries many records), or by a background thread
//! after [`LINGER`] when no call comes. A deferred record can therefore be lost if the process
//! dies within that window; the call's accepted record is already there. A deferred write that
//! fails is remembered and fails the next append, so the log still fails closed.
//!
//! WAL checkpoints (which `fsync`) run on the background thread, on their own connection, so
//! they never stall a call. SQLite appends read the previous hash and insert in one
//! `IMMEDIATE` transaction, so several gateways may share one database; JSON lines files must
//! have one writer each.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical::{sha256_hex, to_canonical};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    Sqlite,
    Jsonl,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("audit file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("audit log {path}: an earlier record could not be written ({message})")]
    Deferred { path: PathBuf, message: String },
    #[error("audit file {path}, line {line}: {message}")]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// What the gateway records; [`AuditLog::append`] adds the sequence number, time and hashes.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub server: String,
    /// `request`, `response`, `server-request`, `pin`, `message`.
    pub event: String,
    pub method: String,
    pub tool: Option<String>,
    pub request_id: Option<String>,
    /// Redacted before it gets here.
    pub arguments: Option<Value>,
    /// `accepted`, `refused`, `completed`, `failed`, `recorded`, `changed`, ...
    pub decision: String,
    pub rule: Option<String>,
    pub reason: Option<String>,
    pub latency_us: Option<u64>,
    pub request_bytes: Option<u64>,
    pub response_bytes: Option<u64>,
}

/// One record as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub seq: u64,
    pub time: String,
    pub server: String,
    pub event: String,
    pub method: String,
    pub tool: Option<String>,
    pub request_id: Option<String>,
    pub arguments: Option<Value>,
    pub decision: String,
    pub rule: Option<String>,
    pub reason: Option<String>,
    pub latency_us: Option<u64>,
    pub request_bytes: Option<u64>,
    pub response_bytes: Option<u64>,
    pub prev_hash: String,
    pub hash: String,
}

impl Record {
    /// The hash this record should carry: over every field but `hash`.
    pub fn compute_hash(&self) -> String {
        sha256_hex(self.canonical().as_bytes())
    }

    /// The canonical JSON of every field but `hash` (keys sorted, no whitespace): the bytes
    /// [`to_canonical`] makes of the record as a JSON object, written directly, because every
    /// record is hashed on the gateway's hot path and going through a `Value` cost more than
    /// the rest of the call.
    fn canonical(&self) -> String {
        fn text(out: &mut String, s: &str) {
            out.push_str(&serde_json::to_string(s).unwrap_or_default());
        }
        fn opt_text(out: &mut String, s: Option<&str>) {
            match s {
                Some(s) => text(out, s),
                None => out.push_str("null"),
            }
        }
        fn opt_number(out: &mut String, n: Option<u64>) {
            match n {
                Some(n) => out.push_str(&n.to_string()),
                None => out.push_str("null"),
            }
        }
        let mut out = String::with_capacity(512);
        // In byte order of the names, as `to_canonical` sorts them.
        out.push_str("{\"arguments\":");
        match &self.arguments {
            Some(v) => out.push_str(&to_canonical(v)),
            None => out.push_str("null"),
        }
        out.push_str(",\"decision\":");
        text(&mut out, &self.decision);
        out.push_str(",\"event\":");
        text(&mut out, &self.event);
        out.push_str(",\"latency_us\":");
        opt_number(&mut out, self.latency_us);
        out.push_str(",\"method\":");
        text(&mut out, &self.method);
        out.push_str(",\"prev_hash\":");
        text(&mut out, &self.prev_hash);
        out.push_str(",\"reason\":");
        opt_text(&mut out, self.reason.as_deref());
        out.push_str(",\"request_bytes\":");
        opt_number(&mut out, self.request_bytes);
        out.push_str(",\"request_id\":");
        opt_text(&mut out, self.request_id.as_deref());
        out.push_str(",\"response_bytes\":");
        opt_number(&mut out, self.response_bytes);
        out.push_str(",\"rule\":");
        opt_text(&mut out, self.rule.as_deref());
        out.push_str(",\"seq\":");
        out.push_str(&self.seq.to_string());
        out.push_str(",\"server\":");
        text(&mut out, &self.server);
        out.push_str(",\"time\":");
        text(&mut out, &self.time);
        out.push_str(",\"tool\":");
        opt_text(&mut out, self.tool.as_deref());
        out.push('}');
        out
    }
}

enum Backend {
    Sqlite(Connection),
    Jsonl { file: File, last: (u64, String) },
}

/// How long a deferred record may wait for a write-ahead record to carry it before the
/// background thread commits it alone.
pub const LINGER: Duration = Duration::from_millis(2);
/// How long after the last deferred record the background thread keeps looking by itself.
const KEEP_AWAKE: Duration = Duration::from_millis(50);
/// A queue this long is committed by the caller at once: memory stays bounded under load.
const MAX_QUEUE: usize = 512;
/// Records committed between two background WAL checkpoints (about one page each at most).
const CHECKPOINT_EVERY: u64 = 1000;

/// What the writer and the background thread share.
struct Inner {
    backend: Backend,
    /// Deferred records not committed yet, with the time they happened.
    queue: Vec<(Entry, String)>,
    /// When the oldest queued record was queued.
    oldest: Option<Instant>,
    /// The background thread waits for work with no deadline: a queued record must wake it.
    idle: bool,
    /// When the last deferred record was queued.
    last_queued: Option<Instant>,
    /// Why the last background commit failed; fails every append until a commit succeeds.
    failed: Option<String>,
    committed_since_checkpoint: u64,
    stop: bool,
}

struct Shared {
    path: PathBuf,
    inner: Mutex<Inner>,
    wake: Condvar,
}

pub struct AuditLog {
    shared: Arc<Shared>,
    background: Option<JoinHandle<()>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    server TEXT NOT NULL,
    event TEXT NOT NULL,
    method TEXT NOT NULL,
    tool TEXT,
    request_id TEXT,
    arguments TEXT,
    decision TEXT NOT NULL,
    rule TEXT,
    reason TEXT,
    latency_us INTEGER,
    request_bytes INTEGER,
    response_bytes INTEGER,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pins (
    server TEXT NOT NULL,
    tool TEXT NOT NULL,
    hash TEXT NOT NULL,
    time TEXT NOT NULL,
    PRIMARY KEY (server, tool)
);
";

fn open_db(path: &Path) -> Result<Connection, AuditError> {
    let err = |source| AuditError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| AuditError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let conn = Connection::open(path).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    conn.execute_batch(SCHEMA).map_err(err)?;
    Ok(conn)
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // A panic while holding the lock leaves a consistent queue (records are removed only after
    // their commit), so the log stays usable.
    inner.lock().unwrap_or_else(|e| e.into_inner())
}

impl AuditLog {
    pub fn open(path: &Path, format: AuditFormat) -> Result<AuditLog, AuditError> {
        let (backend, checkpointer) = match format {
            AuditFormat::Sqlite => {
                let conn = open_db(path)?;
                // Checkpoints are the background thread's job (see the module docs).
                conn.pragma_update(None, "wal_autocheckpoint", 0)
                    .map_err(|source| AuditError::Sqlite {
                        path: path.to_path_buf(),
                        source,
                    })?;
                (Backend::Sqlite(conn), Some(open_db(path)?))
            }
            AuditFormat::Jsonl => {
                let io = |source| AuditError::Io {
                    path: path.to_path_buf(),
                    source,
                };
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                let mut file = File::options()
                    .create(true)
                    .read(true)
                    .append(true)
                    .open(path)
                    .map_err(io)?;
                let last = last_jsonl(&mut file, path)?;
                (Backend::Jsonl { file, last }, None)
            }
        };
        let shared = Arc::new(Shared {
            path: path.to_path_buf(),
            inner: Mutex::new(Inner {
                backend,
                queue: Vec::new(),
                oldest: None,
                idle: false,
                last_queued: None,
                failed: None,
                committed_since_checkpoint: 0,
                stop: false,
            }),
            wake: Condvar::new(),
        });
        let for_thread = shared.clone();
        let background = std::thread::Builder::new()
            .name("portcullis-audit".into())
            .spawn(move || background(&for_thread, checkpointer))
            .map_err(|source| AuditError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(AuditLog {
            shared,
            background: Some(background),
        })
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Appends one record and returns its sequence number once it is committed, together with
    /// every deferred record queued before it (in order, in one transaction).
    pub fn append(&mut self, entry: Entry) -> Result<u64, AuditError> {
        let mut inner = lock(&self.shared.inner);
        let time = crate::time::now_rfc3339();
        let seq = commit(&self.shared.path, &mut inner, Some((entry, time)))?;
        if inner.idle && inner.committed_since_checkpoint >= CHECKPOINT_EVERY {
            self.shared.wake.notify_one();
        }
        Ok(seq.unwrap_or_default())
    }

    /// Queues one record to be committed soon, off the caller's path (see the module docs).
    /// Fails, without queueing, when an earlier commit failed and none has succeeded since.
    pub fn append_deferred(&self, entry: Entry) -> Result<(), AuditError> {
        let mut inner = lock(&self.shared.inner);
        if let Some(why) = &inner.failed {
            return Err(AuditError::Deferred {
                path: self.shared.path.clone(),
                message: why.clone(),
            });
        }
        inner.queue.push((entry, crate::time::now_rfc3339()));
        let now = Instant::now();
        inner.last_queued = Some(now);
        if inner.queue.len() == 1 {
            inner.oldest = Some(now);
        }
        if inner.queue.len() >= MAX_QUEUE {
            commit(&self.shared.path, &mut inner, None)?;
        } else if inner.idle {
            // Only an idle thread is woken: under load it is already waiting on a deadline,
            // and a wake-up per call would cost more than the commit it saves.
            self.shared.wake.notify_one();
        }
        Ok(())
    }

    /// Commits every deferred record now.
    pub fn flush(&self) -> Result<(), AuditError> {
        commit(&self.shared.path, &mut lock(&self.shared.inner), None).map(|_| ())
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        lock(&self.shared.inner).stop = true;
        self.shared.wake.notify_one();
        if let Some(handle) = self.background.take() {
            // The thread commits what is queued before it ends.
            let _ = handle.join();
        }
    }
}

/// Commits the queue and then `entry` (if any) in one transaction; returns `entry`'s sequence
/// number. On failure nothing is removed from the queue, so a later commit retries it.
fn commit(
    path: &Path,
    inner: &mut Inner,
    entry: Option<(Entry, String)>,
) -> Result<Option<u64>, AuditError> {
    if inner.queue.is_empty() && entry.is_none() {
        return Ok(None);
    }
    let batch = inner.queue.iter().cloned().chain(entry);
    let result = match &mut inner.backend {
        Backend::Sqlite(conn) => commit_sqlite(conn, batch).map_err(|source| AuditError::Sqlite {
            path: path.to_path_buf(),
            source,
        }),
        Backend::Jsonl { file, last } => {
            commit_jsonl(file, last, batch).map_err(|source| AuditError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    match result {
        Ok((count, seq)) => {
            inner.queue.clear();
            inner.oldest = None;
            inner.failed = None;
            if matches!(inner.backend, Backend::Sqlite(_)) {
                inner.committed_since_checkpoint += count;
            }
            Ok(seq)
        }
        Err(e) => {
            inner.failed = Some(e.to_string());
            Err(e)
        }
    }
}

/// Seals and inserts `batch` in one `IMMEDIATE` transaction; returns how many and the last
/// sequence number. Every statement, `BEGIN` and `COMMIT` included, is prepared once and
/// cached: parsing SQL was a visible share of each call's cost.
fn commit_sqlite(
    conn: &mut Connection,
    batch: impl Iterator<Item = (Entry, String)>,
) -> rusqlite::Result<(u64, Option<u64>)> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    match insert_batch(conn, batch) {
        Ok(done) => match conn.prepare_cached("COMMIT")?.execute([]) {
            Ok(_) => Ok(done),
            Err(e) => {
                let _ = conn
                    .prepare_cached("ROLLBACK")
                    .and_then(|mut s| s.execute([]));
                Err(e)
            }
        },
        Err(e) => {
            let _ = conn
                .prepare_cached("ROLLBACK")
                .and_then(|mut s| s.execute([]));
            Err(e)
        }
    }
}

fn insert_batch(
    conn: &Connection,
    batch: impl Iterator<Item = (Entry, String)>,
) -> rusqlite::Result<(u64, Option<u64>)> {
    let mut last: Option<(u64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
        .optional()?;
    let mut count = 0;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO audit (seq, time, server, event, method, tool, request_id, \
         arguments, decision, rule, reason, latency_us, request_bytes, \
         response_bytes, prev_hash, hash) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?;
    for (entry, time) in batch {
        let record = seal(entry, last.as_ref(), time);
        stmt.execute(params![
            record.seq as i64,
            record.time,
            record.server,
            record.event,
            record.method,
            record.tool,
            record.request_id,
            record.arguments.as_ref().map(Value::to_string),
            record.decision,
            record.rule,
            record.reason,
            record.latency_us.map(|v| v as i64),
            record.request_bytes.map(|v| v as i64),
            record.response_bytes.map(|v| v as i64),
            record.prev_hash,
            record.hash,
        ])?;
        last = Some((record.seq, record.hash));
        count += 1;
    }
    Ok((count, last.map(|l| l.0)))
}

/// Writes `batch` as lines with one `write`; the chain head moves only once it is written.
fn commit_jsonl(
    file: &mut File,
    last: &mut (u64, String),
    batch: impl Iterator<Item = (Entry, String)>,
) -> std::io::Result<(u64, Option<u64>)> {
    let mut head = last.clone();
    let mut text = String::new();
    let mut count = 0;
    for (entry, time) in batch {
        let record = seal(entry, Some(&head).filter(|l| l.0 > 0), time);
        text.push_str(&serde_json::to_string(&record).unwrap_or_default());
        text.push('\n');
        head = (record.seq, record.hash);
        count += 1;
    }
    file.write_all(text.as_bytes())?;
    file.flush()?;
    *last = head;
    Ok((count, Some(last.0)))
}

/// The background thread: commits deferred records no write-ahead record picked up within
/// [`LINGER`] of being queued, and checkpoints the WAL on its own connection.
fn background(shared: &Shared, checkpointer: Option<Connection>) {
    let due = |inner: &Inner| {
        checkpointer.is_some() && inner.committed_since_checkpoint >= CHECKPOINT_EVERY
    };
    let mut inner = lock(&shared.inner);
    loop {
        if inner.stop {
            // Commits what is queued (unless writing is failing) before the log closes.
            if inner.failed.is_none() {
                let _ = commit(&shared.path, &mut inner, None);
            }
            drop(inner);
            if let Some(conn) = &checkpointer {
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
            return;
        }
        if due(&inner) {
            inner.committed_since_checkpoint = 0;
            drop(inner);
            if let Some(conn) = &checkpointer {
                // PASSIVE: copies what it can without waiting for readers or the writer.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
            inner = lock(&shared.inner);
            continue;
        }
        match inner.oldest.map(|t| t.elapsed()) {
            // While records keep coming, look every LINGER instead of being woken for each:
            // a wake-up per call cost the caller a system call and a context switch.
            None if inner.last_queued.is_some_and(|t| t.elapsed() < KEEP_AWAKE) => {
                inner = shared
                    .wake
                    .wait_timeout(inner, LINGER)
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            None => {
                inner.idle = true;
                inner = shared.wake.wait(inner).unwrap_or_else(|e| e.into_inner());
                inner.idle = false;
            }
            Some(age) if age < LINGER => {
                inner = shared
                    .wake
                    .wait_timeout(inner, LINGER - age)
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            Some(_) => {
                if commit(&shared.path, &mut inner, None).is_err() {
                    // Retry later rather than spin; appends report the failure meanwhile.
                    inner = shared
                        .wake
                        .wait_timeout(inner, Duration::from_millis(50))
                        .map(|(guard, _)| guard)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
            }
        }
    }
}

fn seal(entry: Entry, last: Option<&(u64, String)>, time: String) -> Record {
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash.clone()),
        None => (1, GENESIS.to_string()),
    };
    let mut record = Record {
        seq,
        time,
        server: entry.server,
        event: entry.event,
        method: entry.method,
        tool: entry.tool,
        request_id: entry.request_id,
        arguments: entry.arguments,
        decision: entry.decision,
        rule: entry.rule,
        reason: entry.reason,
        latency_us: entry.latency_us,
        request_bytes: entry.request_bytes,
        response_bytes: entry.response_bytes,
        prev_hash,
        hash: String::new(),
    };
    record.hash = record.compute_hash();
    record
}

/// The last record's sequence number and hash, from the end of a JSON lines file.
fn last_jsonl(file: &mut File, path: &Path) -> Result<(u64, String), AuditError> {
    let io = |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = file.metadata().map_err(io)?.len();
    let start = len.saturating_sub(1 << 20);
    file.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).map_err(io)?;
    let text = String::from_utf8_lossy(&tail);
    let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) else {
        return Ok((0, GENESIS.to_string()));
    };
    let record: Record = serde_json::from_str(line).map_err(|e| AuditError::Format {
        path: path.to_path_buf(),
        line: 0,
        message: format!("the last record cannot be read ({e}); the chain cannot be continued"),
    })?;
    Ok((record.seq, record.hash))
}

/// Guesses the format from the file name: `.jsonl`/`.json`/`.ndjson` are JSON lines.
pub fn format_of(path: &Path) -> AuditFormat {
    match path.extension().and_then(|e| e.to_str()) {
        Some("jsonl" | "json" | "ndjson") => AuditFormat::Jsonl,
        _ => AuditFormat::Sqlite,
    }
}

/// Every record, in order.
pub fn read_records(path: &Path, format: AuditFormat) -> Result<Vec<Record>, AuditError> {
    if !path.exists() {
        return Err(AuditError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    match format {
        AuditFormat::Sqlite => {
            let err = |source| AuditError::Sqlite {
                path: path.to_path_buf(),
                source,
            };
            let conn =
                Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .map_err(err)?;
            let mut stmt = conn
                .prepare(&format!("SELECT {RECORD_COLUMNS} FROM audit ORDER BY seq"))
                .map_err(err)?;
            let rows = stmt.query_map([], record_of_row).map_err(err)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(err)
        }
        AuditFormat::Jsonl => {
            let file = File::open(path).map_err(|source| AuditError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let mut out = Vec::new();
            for (i, line) in BufReader::new(file).lines().enumerate() {
                let line = line.map_err(|source| AuditError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                if line.trim().is_empty() {
                    continue;
                }
                out.push(serde_json::from_str(&line).map_err(|e| AuditError::Format {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message: e.to_string(),
                })?);
            }
            Ok(out)
        }
    }
}

/// The outcome of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub records: usize,
    /// The first record that does not fit, and why.
    pub first_broken: Option<(u64, String)>,
}

pub fn verify(records: &[Record]) -> Verification {
    let mut prev = GENESIS.to_string();
    for (expected_seq, r) in (1u64..).zip(records) {
        let broken = if r.seq != expected_seq {
            Some(format!(
                "sequence number {} where {expected_seq} was expected (records removed or reordered)",
                r.seq
            ))
        } else if r.prev_hash != prev {
            Some("its previous-record hash does not match the record before it".to_string())
        } else if r.compute_hash() != r.hash {
            Some("its content does not match its hash (the record was changed)".to_string())
        } else {
            None
        };
        if let Some(why) = broken {
            return Verification {
                records: records.len(),
                first_broken: Some((r.seq, why)),
            };
        }
        prev = r.hash.clone();
    }
    Verification {
        records: records.len(),
        first_broken: None,
    }
}

/// Tool pins: the definition hash of each tool of each server, first recorded on first use.
pub struct PinStore {
    path: PathBuf,
    conn: Connection,
}

impl PinStore {
    /// Pins live in the audit database; next to a JSON lines audit file, in `<file>.pins.sqlite`.
    pub fn open_for(audit_path: &Path, format: AuditFormat) -> Result<PinStore, AuditError> {
        let path = match format {
            AuditFormat::Sqlite => audit_path.to_path_buf(),
            AuditFormat::Jsonl => {
                let mut p = audit_path.as_os_str().to_os_string();
                p.push(".pins.sqlite");
                PathBuf::from(p)
            }
        };
        let conn = open_db(&path)?;
        Ok(PinStore { path, conn })
    }

    pub fn get(&self, server: &str, tool: &str) -> Result<Option<String>, AuditError> {
        self.conn
            .prepare_cached("SELECT hash FROM pins WHERE server = ?1 AND tool = ?2")
            .and_then(|mut s| s.query_row(params![server, tool], |r| r.get(0)).optional())
            .map_err(|source| AuditError::Sqlite {
                path: self.path.clone(),
                source,
            })
    }

    pub fn set(&self, server: &str, tool: &str, hash: &str) -> Result<(), AuditError> {
        self.conn
            .prepare_cached(
                "INSERT INTO pins (server, tool, hash, time) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (server, tool) DO UPDATE SET hash = excluded.hash, time = excluded.time",
            )
            .and_then(|mut s| s.execute(params![server, tool, hash, crate::time::now_rfc3339()]))
            .map(|_| ())
            .map_err(|source| AuditError::Sqlite {
                path: self.path.clone(),
                source,
            })
    }
}

/// The columns of a [`Record`], in the order [`record_of_row`] reads them.
pub(crate) const RECORD_COLUMNS: &str = "seq, time, server, event, method, tool, request_id, \
    arguments, decision, rule, reason, latency_us, request_bytes, response_bytes, prev_hash, hash";

/// A record from a row of `SELECT {RECORD_COLUMNS}`. Unparsable stored arguments become a
/// string, so the record's hash no longer matches and verification says so.
pub(crate) fn record_of_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    let arguments: Option<String> = r.get(7)?;
    Ok(Record {
        seq: r.get::<_, i64>(0)? as u64,
        time: r.get(1)?,
        server: r.get(2)?,
        event: r.get(3)?,
        method: r.get(4)?,
        tool: r.get(5)?,
        request_id: r.get(6)?,
        arguments: arguments.map(|a| serde_json::from_str(&a).unwrap_or(Value::String(a))),
        decision: r.get(8)?,
        rule: r.get(9)?,
        reason: r.get(10)?,
        latency_us: r.get::<_, Option<i64>>(11)?.map(|v| v as u64),
        request_bytes: r.get::<_, Option<i64>>(12)?.map(|v| v as u64),
        response_bytes: r.get::<_, Option<i64>>(13)?.map(|v| v as u64),
        prev_hash: r.get(14)?,
        hash: r.get(15)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The record's canonical bytes are those of the generic path (the record as a JSON value,
    /// `hash` removed, canonicalised), so logs written before and after verify alike, and a
    /// field added to `Record` but not to `canonical` fails here.
    #[test]
    fn the_direct_canonical_form_is_the_generic_one() {
        let generic = |r: &Record| {
            let mut value = serde_json::to_value(r).unwrap();
            value.as_object_mut().unwrap().remove("hash");
            to_canonical(&value)
        };
        let mut full = seal(
            entry(7),
            Some(&(6, "ab".repeat(32))),
            "2024-01-01T00:00:00.000001Z".into(),
        );
        full.reason = Some("quote \" backslash \\ tab \t nul \u{0} é \u{202e} 😀".into());
        full.rule = Some("r".into());
        full.latency_us = Some(u64::MAX);
        full.request_bytes = Some(0);
        full.response_bytes = Some(12);
        full.arguments =
            Some(json!({"z": [1, -2.5, 1e300, null, true, {"b": "\n", "a": {}}], "a": "x"}));
        let mut empty = seal(Entry::default(), None, String::new());
        empty.arguments = None;
        for r in [&full, &empty] {
            assert_eq!(r.canonical(), generic(r));
            assert_eq!(r.compute_hash(), sha256_hex(generic(r).as_bytes()));
        }
    }

    fn entry(n: u64) -> Entry {
        Entry {
            server: "s".into(),
            event: "request".into(),
            method: "tools/call".into(),
            tool: Some("echo".into()),
            request_id: Some(n.to_string()),
            arguments: Some(json!({"text": format!("hi {n}"), "f": 1.5})),
            decision: "accepted".into(),
            ..Entry::default()
        }
    }

    #[test]
    fn chain_verifies_and_tampering_shows_sqlite() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a/audit.sqlite");
        {
            let mut log = AuditLog::open(&path, AuditFormat::Sqlite).unwrap();
            for n in 0..3 {
                log.append(entry(n)).unwrap();
            }
        }
        // Reopening continues the chain.
        AuditLog::open(&path, AuditFormat::Sqlite)
            .unwrap()
            .append(entry(9))
            .unwrap();
        let records = read_records(&path, AuditFormat::Sqlite).unwrap();
        assert_eq!(records.len(), 4);
        assert_eq!(verify(&records).first_broken, None);

        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE audit SET decision = 'refused' WHERE seq = 2", [])
            .unwrap();
        let v = verify(&read_records(&path, AuditFormat::Sqlite).unwrap());
        assert_eq!(v.first_broken.map(|b| b.0), Some(2));

        conn.execute("UPDATE audit SET decision = 'accepted' WHERE seq = 2", [])
            .unwrap();
        conn.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
        let v = verify(&read_records(&path, AuditFormat::Sqlite).unwrap());
        assert_eq!(v.first_broken.map(|b| b.0), Some(4));
    }

    #[test]
    fn chain_verifies_and_tampering_shows_jsonl() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("audit.jsonl");
        {
            let mut log = AuditLog::open(&path, AuditFormat::Jsonl).unwrap();
            log.append(entry(1)).unwrap();
            log.append(entry(2)).unwrap();
        }
        AuditLog::open(&path, AuditFormat::Jsonl)
            .unwrap()
            .append(entry(3))
            .unwrap();
        let records = read_records(&path, AuditFormat::Jsonl).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(verify(&records).first_broken, None);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("hi 2", "hi 7", 1)).unwrap();
        let v = verify(&read_records(&path, AuditFormat::Jsonl).unwrap());
        assert_eq!(v.first_broken.map(|b| b.0), Some(2));
    }

    #[test]
    fn deferred_records_ride_the_next_commit_or_the_background_thread() {
        for (name, format) in [
            ("a.sqlite", AuditFormat::Sqlite),
            ("a.jsonl", AuditFormat::Jsonl),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join(name);
            let mut log = AuditLog::open(&path, format).unwrap();
            log.append(entry(1)).unwrap();
            let mut done = entry(1);
            done.event = "response".into();
            done.decision = "completed".into();
            log.append_deferred(done).unwrap();
            // Committed together with the next write-ahead record, in order.
            assert_eq!(log.append(entry(2)).unwrap(), 3);
            let events: Vec<String> = read_records(&path, format)
                .unwrap()
                .into_iter()
                .map(|r| format!("{}:{}", r.event, r.request_id.unwrap_or_default()))
                .collect();
            assert_eq!(events, ["request:1", "response:1", "request:2"], "{name}");

            // Alone, the background thread commits it (bounded wait, no timing assertion).
            log.append_deferred(entry(3)).unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while read_records(&path, format).unwrap().len() < 4 {
                assert!(Instant::now() < deadline, "{name}: never committed");
                std::thread::sleep(Duration::from_millis(5));
            }
            // And dropping the log commits what is still queued.
            log.append_deferred(entry(4)).unwrap();
            log.append_deferred(entry(5)).unwrap();
            drop(log);
            let records = read_records(&path, format).unwrap();
            assert_eq!(records.len(), 6, "{name}");
            assert_eq!(verify(&records).first_broken, None, "{name}");
        }
    }

    #[test]
    fn a_long_queue_is_committed_by_the_caller() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.sqlite");
        let log = AuditLog::open(&path, AuditFormat::Sqlite).unwrap();
        for n in 0..(MAX_QUEUE as u64 * 2 + 3) {
            log.append_deferred(entry(n)).unwrap();
        }
        assert!(lock(&log.shared.inner).queue.len() < MAX_QUEUE);
        log.flush().unwrap();
        let records = read_records(&path, AuditFormat::Sqlite).unwrap();
        assert_eq!(records.len(), MAX_QUEUE * 2 + 3);
        assert_eq!(verify(&records).first_broken, None);
    }

    #[test]
    fn pins_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let pins = PinStore::open_for(&tmp.path().join("a.sqlite"), AuditFormat::Sqlite).unwrap();
        assert_eq!(pins.get("s", "t").unwrap(), None);
        pins.set("s", "t", "sha256:1").unwrap();
        pins.set("s", "t", "sha256:2").unwrap();
        assert_eq!(pins.get("s", "t").unwrap().as_deref(), Some("sha256:2"));
    }
}
