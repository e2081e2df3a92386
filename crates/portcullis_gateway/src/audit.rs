//! The audit log: every call and decision, hash-chained so tampering shows, in SQLite (default)
//! or JSON lines; and the tool pins, in SQLite.
//!
//! Each record stores the hash of the record before it and its own hash: SHA-256 of the
//! canonical JSON of all its fields but `hash`. `verify` recomputes the chain and names the
//! first record that does not fit. Deleting records at the very end cannot be seen from the
//! chain alone (there is nothing after them); everything else can.
//!
//! Write-ahead: [`AuditLog::append`] returns only once the record is committed (SQLite in WAL
//! mode with `synchronous=NORMAL`, or a flushed `write` for JSON lines), so the record is in
//! the operating system's hands before the call is forwarded: a SIGKILL of the gateway cannot
//! lose it (a power cut may lose the last records; `synchronous=FULL` would cost an fsync per
//! call). SQLite appends read the previous hash and insert in one `IMMEDIATE` transaction, so
//! several gateways may share one database; JSON lines files must have one writer each.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
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
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.remove("hash");
        }
        sha256_hex(to_canonical(&value).as_bytes())
    }
}

enum Backend {
    Sqlite(Connection),
    Jsonl { file: File, last: (u64, String) },
}

pub struct AuditLog {
    path: PathBuf,
    backend: Backend,
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
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    conn.execute_batch(SCHEMA).map_err(err)?;
    Ok(conn)
}

impl AuditLog {
    pub fn open(path: &Path, format: AuditFormat) -> Result<AuditLog, AuditError> {
        let backend = match format {
            AuditFormat::Sqlite => Backend::Sqlite(open_db(path)?),
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
                Backend::Jsonl { file, last }
            }
        };
        Ok(AuditLog {
            path: path.to_path_buf(),
            backend,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and returns its sequence number once it is committed.
    pub fn append(&mut self, entry: Entry) -> Result<u64, AuditError> {
        let path = self.path.clone();
        match &mut self.backend {
            Backend::Sqlite(conn) => {
                let err = |source| AuditError::Sqlite {
                    path: path.clone(),
                    source,
                };
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(err)?;
                let last: Option<(u64, String)> = tx
                    .query_row(
                        "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                        [],
                        |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
                    )
                    .optional()
                    .map_err(err)?;
                let record = seal(entry, last.as_ref());
                tx.prepare_cached(
                    "INSERT INTO audit (seq, time, server, event, method, tool, request_id, \
                     arguments, decision, rule, reason, latency_us, request_bytes, \
                     response_bytes, prev_hash, hash) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                )
                .and_then(|mut stmt| {
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
                    ])
                })
                .map_err(err)?;
                tx.commit().map_err(err)?;
                Ok(record.seq)
            }
            Backend::Jsonl { file, last } => {
                let record = seal(entry, Some(&*last).filter(|l| l.0 > 0));
                let mut line = serde_json::to_string(&record).unwrap_or_default();
                line.push('\n');
                file.write_all(line.as_bytes())
                    .and_then(|_| file.flush())
                    .map_err(|source| AuditError::Io { path, source })?;
                *last = (record.seq, record.hash.clone());
                Ok(record.seq)
            }
        }
    }
}

fn seal(entry: Entry, last: Option<&(u64, String)>) -> Record {
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash.clone()),
        None => (1, GENESIS.to_string()),
    };
    let mut record = Record {
        seq,
        time: crate::time::now_rfc3339(),
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
                .prepare(
                    "SELECT seq, time, server, event, method, tool, request_id, arguments, \
                     decision, rule, reason, latency_us, request_bytes, response_bytes, \
                     prev_hash, hash FROM audit ORDER BY seq",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map([], |r| {
                    let arguments: Option<String> = r.get(7)?;
                    Ok(Record {
                        seq: r.get::<_, i64>(0)? as u64,
                        time: r.get(1)?,
                        server: r.get(2)?,
                        event: r.get(3)?,
                        method: r.get(4)?,
                        tool: r.get(5)?,
                        request_id: r.get(6)?,
                        // Unparsable stored arguments become a string, so the hash fails.
                        arguments: arguments
                            .map(|a| serde_json::from_str(&a).unwrap_or(Value::String(a))),
                        decision: r.get(8)?,
                        rule: r.get(9)?,
                        reason: r.get(10)?,
                        latency_us: r.get::<_, Option<i64>>(11)?.map(|v| v as u64),
                        request_bytes: r.get::<_, Option<i64>>(12)?.map(|v| v as u64),
                        response_bytes: r.get::<_, Option<i64>>(13)?.map(|v| v as u64),
                        prev_hash: r.get(14)?,
                        hash: r.get(15)?,
                    })
                })
                .map_err(err)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn pins_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let pins = PinStore::open_for(&tmp.path().join("a.sqlite"), AuditFormat::Sqlite).unwrap();
        assert_eq!(pins.get("s", "t").unwrap(), None);
        pins.set("s", "t", "sha256:1").unwrap();
        pins.set("s", "t", "sha256:2").unwrap();
        assert_eq!(pins.get("s", "t").unwrap().as_deref(), Some("sha256:2"));
    }
}
