//! `portcullis audit follow`: the records appended to an audit log, as they are committed, like
//! `tail -f`. The log is written by another process (a gateway); this side only reads.
//!
//! SQLite is polled by `seq`, the table's rowid: each poll is one `SELECT ... WHERE seq > last`,
//! which in WAL mode sees every committed transaction without ever blocking the writer. JSON
//! lines are polled by byte offset, holding back a last line that is not finished yet. The
//! trade-off is latency against wake-ups: a record shows up at most one poll interval after
//! its commit (deferred records are committed within milliseconds, see [`crate::audit`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::audit::{AuditError, AuditFormat, RECORD_COLUMNS, Record, record_of_row};

/// Where following starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The last N records already there, then the new ones.
    Last(usize),
    /// The records after this sequence number.
    AfterSeq(u64),
    /// The records from this time on (an RFC 3339 prefix such as `2026-05-01T12`, UTC).
    Since(String),
}

/// Why following ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// SIGINT (2) or SIGTERM (15).
    Signal(i32),
    /// The output was closed (the reader of a pipe went away).
    OutputClosed,
}

/// Reads what was appended to an audit log since the last read.
pub struct Follower {
    path: PathBuf,
    source: Source,
    /// Records read at the start and not handed out yet.
    backlog: Vec<Record>,
}

enum Source {
    Sqlite {
        conn: Connection,
        last: u64,
    },
    Jsonl {
        offset: u64,
        partial: Vec<u8>,
        line: usize,
    },
}

/// At most this many records are read per poll, so a huge backlog streams in pieces.
const BATCH: usize = 1000;

impl Follower {
    pub fn open(path: &Path, format: AuditFormat, start: &Start) -> Result<Follower, AuditError> {
        if !path.exists() {
            return Err(AuditError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let sqlite_err = |source| AuditError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        match format {
            AuditFormat::Sqlite => {
                let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .map_err(sqlite_err)?;
                conn.busy_timeout(Duration::from_secs(5))
                    .map_err(sqlite_err)?;
                let max: Option<i64> = conn
                    .query_row("SELECT max(seq) FROM audit", [], |r| r.get(0))
                    .map_err(sqlite_err)?;
                let max = max.unwrap_or(0).max(0) as u64;
                let last = match start {
                    Start::AfterSeq(n) => *n,
                    Start::Last(0) => max,
                    Start::Last(n) => conn
                        .query_row(
                            "SELECT seq FROM audit ORDER BY seq DESC LIMIT 1 OFFSET ?1",
                            params![(*n as i64) - 1],
                            |r| r.get::<_, i64>(0),
                        )
                        .optional()
                        .map_err(sqlite_err)?
                        .map_or(0, |s| (s.max(1) - 1) as u64),
                    Start::Since(time) => conn
                        .query_row(
                            "SELECT min(seq) FROM audit WHERE time >= ?1",
                            params![time],
                            |r| r.get::<_, Option<i64>>(0),
                        )
                        .map_err(sqlite_err)?
                        .map_or(max, |s| (s.max(1) - 1) as u64),
                };
                Ok(Follower {
                    path: path.to_path_buf(),
                    source: Source::Sqlite { conn, last },
                    backlog: Vec::new(),
                })
            }
            AuditFormat::Jsonl => {
                let mut follower = Follower {
                    path: path.to_path_buf(),
                    source: Source::Jsonl {
                        offset: 0,
                        partial: Vec::new(),
                        line: 0,
                    },
                    backlog: Vec::new(),
                };
                // The whole file once: JSON lines have no index to seek by record.
                let mut all = Vec::new();
                loop {
                    let got = follower.poll_jsonl()?;
                    if got.is_empty() {
                        break;
                    }
                    all.extend(got);
                }
                follower.backlog = match start {
                    Start::Last(n) => all.split_off(all.len().saturating_sub(*n)),
                    Start::AfterSeq(n) => all.into_iter().filter(|r| r.seq > *n).collect(),
                    Start::Since(t) => all.into_iter().filter(|r| r.time >= *t).collect(),
                };
                Ok(follower)
            }
        }
    }

    /// The records committed since the last call (at most a batch), in order.
    pub fn poll(&mut self) -> Result<Vec<Record>, AuditError> {
        if !self.backlog.is_empty() {
            return Ok(std::mem::take(&mut self.backlog));
        }
        match &self.source {
            Source::Sqlite { .. } => self.poll_sqlite(),
            Source::Jsonl { .. } => self.poll_jsonl(),
        }
    }

    fn poll_sqlite(&mut self) -> Result<Vec<Record>, AuditError> {
        let Source::Sqlite { conn, last } = &mut self.source else {
            return Ok(Vec::new());
        };
        let err = |source| AuditError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))
            .map_err(err)?;
        let rows = stmt
            .query_map(params![*last as i64, BATCH as i64], record_of_row)
            .map_err(err)?;
        let records = rows.collect::<Result<Vec<_>, _>>().map_err(err)?;
        if let Some(r) = records.last() {
            *last = r.seq;
        }
        Ok(records)
    }

    fn poll_jsonl(&mut self) -> Result<Vec<Record>, AuditError> {
        let path = self.path.clone();
        let Source::Jsonl {
            offset,
            partial,
            line,
        } = &mut self.source
        else {
            return Ok(Vec::new());
        };
        let io = |source| AuditError::Io {
            path: path.clone(),
            source,
        };
        let mut file = File::open(&path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len < *offset {
            // Truncated or replaced: start over from its beginning.
            *offset = 0;
            partial.clear();
        }
        file.seek(SeekFrom::Start(*offset)).map_err(io)?;
        let mut chunk = Vec::new();
        // Bounded per poll: a huge file is read in pieces.
        (&mut file)
            .take(16 << 20)
            .read_to_end(&mut chunk)
            .map_err(io)?;
        *offset += chunk.len() as u64;
        partial.extend_from_slice(&chunk);
        let Some(end) = partial.iter().rposition(|&b| b == b'\n') else {
            return Ok(Vec::new());
        };
        let complete: Vec<u8> = partial.drain(..=end).collect();
        let mut out = Vec::new();
        // `complete` ends with its newline: every piece but the empty last one is a line.
        for text in complete[..end].split(|&b| b == b'\n') {
            *line += 1;
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            out.push(
                serde_json::from_slice(text).map_err(|e| AuditError::Format {
                    path: path.clone(),
                    line: *line,
                    message: e.to_string(),
                })?,
            );
        }
        Ok(out)
    }
}

/// Hands each new record to `emit` every `interval` until SIGINT/SIGTERM, or until `emit`
/// fails with a broken pipe or the output is seen closed while idle. Other failures of
/// `emit`, and of reading the log, end it with an error.
pub fn follow(
    mut follower: Follower,
    interval: Duration,
    mut emit: impl FnMut(&[Record]) -> std::io::Result<()>,
) -> Result<End, FollowError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(FollowError::Runtime)?;
    runtime.block_on(async {
        let stop = crate::relay::stop_signal();
        tokio::pin!(stop);
        loop {
            loop {
                let records = follower.poll()?;
                if records.is_empty() {
                    break;
                }
                match emit(&records) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                        return Ok(End::OutputClosed);
                    }
                    Err(e) => return Err(FollowError::Output(e)),
                }
            }
            if stdout_closed() {
                return Ok(End::OutputClosed);
            }
            tokio::select! {
                signal = &mut stop => return Ok(End::Signal(signal)),
                () = tokio::time::sleep(interval) => {}
            }
        }
    })
}

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("cannot write the records: {0}")]
    Output(std::io::Error),
    #[error("cannot start the follower's runtime: {0}")]
    Runtime(std::io::Error),
}

/// Whether standard output is a pipe whose reader went away (seen without writing, so an idle
/// follower notices too). Never true for a terminal or a file.
#[cfg(unix)]
fn stdout_closed() -> bool {
    let mut fd = libc::pollfd {
        fd: 1,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, a zero timeout; poll only reads and writes that struct.
    let n = unsafe { libc::poll(&mut fd, 1, 0) };
    n > 0 && fd.revents & (libc::POLLERR | libc::POLLHUP) != 0
}

#[cfg(not(unix))]
fn stdout_closed() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditLog, Entry};

    fn entry(n: u64) -> Entry {
        Entry {
            server: "s".into(),
            event: "request".into(),
            method: "tools/call".into(),
            tool: Some(format!("t{n}")),
            decision: "accepted".into(),
            ..Entry::default()
        }
    }

    fn seqs(records: &[Record]) -> Vec<u64> {
        records.iter().map(|r| r.seq).collect()
    }

    fn follows(format: AuditFormat, name: &str) {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join(name);
        let mut log = AuditLog::open(&path, format).unwrap();
        for n in 1..=5 {
            log.append(entry(n)).unwrap();
        }
        let mut f = Follower::open(&path, format, &Start::Last(2)).unwrap();
        assert_eq!(seqs(&f.poll().unwrap()), [4, 5]);
        assert!(f.poll().unwrap().is_empty());
        log.append(entry(6)).unwrap();
        log.append(entry(7)).unwrap();
        assert_eq!(seqs(&f.poll().unwrap()), [6, 7]);
        let mut f = Follower::open(&path, format, &Start::AfterSeq(5)).unwrap();
        assert_eq!(seqs(&f.poll().unwrap()), [6, 7]);
        let mut f = Follower::open(&path, format, &Start::Last(100)).unwrap();
        assert_eq!(seqs(&f.poll().unwrap()), [1, 2, 3, 4, 5, 6, 7]);
        let mut f = Follower::open(&path, format, &Start::Since("9999".into())).unwrap();
        assert!(f.poll().unwrap().is_empty());
        let mut f = Follower::open(&path, format, &Start::Since("2000".into())).unwrap();
        assert_eq!(f.poll().unwrap().len(), 7);
    }

    #[test]
    fn follows_sqlite_by_seq() {
        follows(AuditFormat::Sqlite, "audit.sqlite");
    }

    #[test]
    fn follows_jsonl_by_offset_and_waits_for_whole_lines() {
        follows(AuditFormat::Jsonl, "audit.jsonl");
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("half.jsonl");
        std::fs::write(&path, "").unwrap();
        let mut f = Follower::open(&path, AuditFormat::Jsonl, &Start::Last(10)).unwrap();
        let mut log = AuditLog::open(&path, AuditFormat::Jsonl).unwrap();
        log.append(entry(1)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        // A line written in two pieces is read once it is whole.
        let (head, tail) = text.split_at(text.len() / 2);
        std::fs::write(&path, head).unwrap();
        assert!(f.poll().unwrap().is_empty());
        std::fs::write(&path, format!("{head}{tail}")).unwrap();
        assert_eq!(seqs(&f.poll().unwrap()), [1]);
    }

    #[test]
    fn a_missing_log_is_an_error() {
        let e = Follower::open(
            Path::new("/no/such/audit.sqlite"),
            AuditFormat::Sqlite,
            &Start::Last(1),
        );
        assert!(e.is_err());
    }
}
