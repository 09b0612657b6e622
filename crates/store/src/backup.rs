//! Online copies of the database, and the checks a restored copy passes.
//!
//! [`snapshot`] copies a live database with SQLite's online backup API into
//! memory, beside a running server: the copy is one consistent state,
//! whatever the server writes meanwhile. [`check`] opens a restored file and
//! says whether a server can use it. Neither decrypts anything: the copy
//! holds what the database holds (ciphertext, keyed hashes, public keys,
//! enums and days).

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::serialize::{Data, OwnedData};
use rusqlite::{Connection, OpenFlags, OptionalExtension, MAIN_DB};

use crate::{Result, StoreError, SCHEMA_VERSION};

/// The oldest schema a backup can hold: `sotto admin backup` came with
/// version 3, and [`snapshot`] copies only the version it reads.
pub const FIRST_BACKUP_VERSION: i64 = 3;

/// How often a copy waits out a lock before giving up (with the busy
/// timeout, about a minute in all).
const BUSY_RETRIES: u32 = 10;

/// A consistent copy of the database, as the bytes of a database file.
#[derive(Debug)]
pub struct Snapshot {
    /// The database file's bytes.
    pub bytes: Bytes,
    /// Cases in the copy.
    pub cases: u64,
    /// Entries of the log in the copy.
    pub log_size: u64,
}

/// What a restored database holds, once it passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// `PRAGMA user_version`.
    pub schema_version: i64,
    /// Cases.
    pub cases: u64,
    /// Entries of the log.
    pub log_size: u64,
    /// The latest published checkpoint (its signed note), if any: the
    /// caller checks it against the server key restored beside it.
    pub checkpoint: Option<(u64, String)>,
}

/// A database file's bytes, kept where SQLite wrote them: a database can be
/// large, and a backup should not hold more copies of it than it must.
pub struct Bytes(Inner);

enum Inner {
    Sqlite(OwnedData),
    Copied(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Inner::Sqlite(d) => d,
            Inner::Copied(v) => v,
        }
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.len())
    }
}

fn open_read_only(path: &Path) -> Result<Connection> {
    // Read-only, so a mistyped path is an error, not a new empty database.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

fn count(conn: &Connection, sql: &str) -> Result<u64> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
    u64::try_from(n).map_err(|_| StoreError::Invalid("a negative count"))
}

/// Copies the database at `path` (the server may be running) into memory.
///
/// The copy is one step of the online backup API over every page: the
/// step holds one read transaction, so with WAL the server's writers go on
/// and the copy is the state at the step's start. A copy in several steps
/// would start over each time another connection writes, and could chase a
/// busy server for ever. The copy must pass `PRAGMA quick_check` before it
/// is returned, so a damaged database is found when it is backed up, not
/// when it is needed.
pub fn snapshot(path: &Path) -> Result<Snapshot> {
    let src = open_read_only(path)?;
    let found = version(&src)?;
    if found != SCHEMA_VERSION {
        return Err(StoreError::SchemaVersion {
            found,
            expected: SCHEMA_VERSION,
        });
    }
    let mut dst = Connection::open_in_memory()?;
    {
        let backup = Backup::new(&src, &mut dst)?;
        let mut waits = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => continue,
                // The busy timeout already waited; wait a little more, then
                // say so rather than hang.
                StepResult::Busy | StepResult::Locked if waits < BUSY_RETRIES => {
                    waits += 1;
                    std::thread::sleep(Duration::from_millis(500));
                }
                _ => return Err(StoreError::Conflict("the database stayed locked")),
            }
        }
    }
    if !quick_check(&dst)? {
        return Err(StoreError::Invalid(
            "the database fails SQLite's quick_check: it is damaged",
        ));
    }
    let cases = count(&dst, "SELECT count(*) FROM cases")?;
    let log_size = crate::log::size(&dst)?;
    let bytes = match dst.serialize(MAIN_DB)? {
        Data::Owned(d) => Bytes(Inner::Sqlite(d)),
        // Only a database SQLite keeps in one buffer is shared, and an
        // in-memory one is not; copied all the same if it ever is.
        Data::Shared(d) => Bytes(Inner::Copied(d.to_vec())),
    };
    Ok(Snapshot {
        bytes,
        cases,
        log_size,
    })
}

fn quick_check(conn: &Connection) -> Result<bool> {
    pragma_ok(conn, "PRAGMA quick_check")
}

/// Whether a check pragma answered exactly one row, `ok`.
fn pragma_ok(conn: &Connection, pragma: &str) -> Result<bool> {
    let mut stmt = conn.prepare(pragma)?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows == ["ok"])
}

/// Checks the restored database at `path`, without changing it: SQLite's full
/// `integrity_check`, every foreign key, a schema version this build reads
/// (an older one is migrated when the server starts; a newer one is
/// refused), and the tables a server needs. Returns what it holds.
pub fn check(path: &Path) -> Result<Checked> {
    // Read-write but never written, and never created: a read-only
    // connection to a WAL file leaves its -wal and -shm behind, the last
    // read-write one removes them when it closes.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // A file that is not a database fails here, with SQLite's own words.
    let schema_version = version(&conn)?;
    if !(FIRST_BACKUP_VERSION..=SCHEMA_VERSION).contains(&schema_version) {
        return Err(StoreError::SchemaVersion {
            found: schema_version,
            expected: SCHEMA_VERSION,
        });
    }
    if !pragma_ok(&conn, "PRAGMA integrity_check")? {
        return Err(StoreError::Invalid(
            "the database fails SQLite's integrity_check: it is damaged",
        ));
    }
    let dangling = conn
        .prepare("PRAGMA foreign_key_check")?
        .query_map([], |_| Ok(()))?
        .count();
    if dangling > 0 {
        return Err(StoreError::Invalid(
            "the database fails SQLite's foreign_key_check: rows point at rows that are gone",
        ));
    }
    let cases = count(&conn, "SELECT count(*) FROM cases")?;
    let log_size = crate::log::size(&conn)?;
    let checkpoint = conn
        .query_row(
            "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?
        .map(|(size, note)| {
            u64::try_from(size)
                .map(|s| (s, note))
                .map_err(|_| StoreError::Invalid("a negative checkpoint size"))
        })
        .transpose()?;
    Ok(Checked {
        schema_version,
        cases,
        log_size,
        checkpoint,
    })
}
