//! Sotto's SQLite store.
//!
//! One method per query, named by what it does. The store never decrypts
//! and never sees a handle: callers pass keyed hashes, public keys,
//! envelopes, enums and UTC days. Days, case states and message directions
//! cross the boundary typed ([`sotto_wire::Day`], [`sotto_wire::CaseState`],
//! [`sotto_envelope::sign::Direction`]) and are stored as their wire text
//! (`YYYY-MM-DD`, `in-review`, `desk`): a stored value is parsed once, where
//! it is read, and one that does not parse is a [`StoreError::Sqlite`].
//! The schema is `schema.sql` at the repository root, embedded here; its
//! version is `PRAGMA user_version`.
//!
//! This file opens the database and holds what every table family shares:
//! [`Store`], [`StoreError`] and the write transaction. The queries are
//! `impl Store` blocks, one file per table family:
//!
//! - `desks`: desks and their own deadlines;
//! - `recipients`: who reads for each desk;
//! - `cases`: opening, finding and erasing cases, their readers, states and
//!   the inbox;
//! - `shares`: a case handed on to one more reader;
//! - `messages`: a case's thread;
//! - `log`: the transparency log's events, tree and checkpoints;
//! - `seen`: the replay guard's keyed hashes of accepted desk requests.
//!
//! Beside them: [`audit`] proves what a database holds; [`backup`] copies a
//! live one and checks a restored one; [`detect`] recognises values that
//! must never be stored; `migrate` brings an older schema up to date;
//! `direction` stores a message's direction; `writer` is the one
//! connection every write of the process goes through, `shared` lets the
//! writes that come in floods (case openings) share its transactions, and
//! `durable` the group commit that makes each write durable before it
//! returns.
//!
//! Every connection runs with WAL (reads never wait for writes), foreign
//! keys, `secure_delete` (freed pages are zeroed) and a busy timeout, so the
//! server and `sotto admin` can use one database at the same time.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use thiserror::Error;

pub mod audit;
pub mod backup;
mod cases;
mod desks;
pub mod detect;
mod direction;
mod durable;
mod log;
mod messages;
mod migrate;
mod recipients;
mod seen;
mod shared;
mod shares;
mod writer;

pub use cases::{CaseRow, CaseVersion, Erasure, NewCase, OpenedCase, StateRow};
pub use desks::{Desk, DeskDeadlines};
pub use log::{CheckpointRow, EventRow};
pub use messages::{MessageRow, NewMessage};
pub use recipients::RecipientRow;
pub use seen::Generation;
pub use shares::{NewShare, ShareRow};
pub use writer::Changes;

/// The database's file name in a data directory.
pub const DB_FILE: &str = "sotto.db";
/// The pepper's file name, beside the database (never in it).
pub const PEPPER_FILE: &str = "pepper.key";
/// The server secret's file name, beside the database.
pub const SERVER_KEY_FILE: &str = "server.key";
/// What SQLite adds to the database's name for its write-ahead log and its
/// shared-memory index.
pub const SQLITE_SIDE_FILES: [&str; 2] = ["-wal", "-shm"];

/// The schema, from the repository root.
pub const SCHEMA: &str = include_str!("../../../schema.sql");
/// The schema version this code reads and writes.
pub const SCHEMA_VERSION: i64 = 8;

/// What went wrong in the store.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No such row.
    #[error("not found")]
    NotFound,
    /// A row with that key exists, or the thread moved on (stale seq).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The case was erased under the retention policy: nothing can be
    /// added to it.
    #[error("the case was erased")]
    Erased,
    /// A value the store cannot use (a malformed day, an event that names a
    /// row that does not exist).
    #[error("invalid: {0}")]
    Invalid(&'static str),
    /// The database was written by another version of Sotto.
    #[error("database schema version {found}, this build reads version {expected}")]
    SchemaVersion {
        /// What the file says.
        found: i64,
        /// What this build needs.
        expected: i64,
    },
    /// SQLite failed (I/O, corruption, constraint).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The write-ahead log could not be synced to disk after a commit: the
    /// write is in the log but may not survive a power cut.
    #[error("syncing the write-ahead log failed: {0}")]
    Sync(std::io::Error),
    /// The transaction this write was to share with others was abandoned
    /// halfway (a panic in another write): nothing of it was stored.
    #[error("the write was abandoned with the transaction it shared")]
    Abandoned,
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, StoreError>;

/// A connection to the database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// The group commit of this database's writes (see [`durable`]).
    syncs: std::sync::Arc<durable::Syncs>,
    /// The connection every write of this process goes through (see
    /// [`writer`]); none when opened read-only.
    writer: Option<std::sync::Arc<writer::Writer>>,
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    plan_once(conn)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(())
}

/// One query plan per statement, whatever values are bound (SQLite's
/// "query planner stability guarantee"). Without it SQLite marks a
/// statement to be prepared again whenever a bound value might change the
/// best plan, and with the bundled build's STAT4 that is nearly every
/// statement with a parameter (a partial index, a range, a join): the
/// statement cache then parses each query anew on every use. Profiled, that
/// was 40% of a full status read. The plans are the same either way
/// (checked with `EXPLAIN QUERY PLAN`): each query here has one index that
/// fits whatever the values.
fn plan_once(conn: &Connection) -> Result<()> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // Room for every statement the store prepares (about 50), so that none
    // is pushed out and parsed again (rusqlite keeps 16 by default).
    conn.set_prepared_statement_cache_capacity(STATEMENTS);
    Ok(())
}

/// How many prepared statements each connection keeps.
const STATEMENTS: usize = 128;

impl Store {
    /// Opens (creating if needed) the database at `path`. A new database
    /// file is made mode 0600, and so are its `-wal` and `-shm`: SQLite
    /// gives them the database file's mode.
    pub fn open(path: &Path) -> Result<Self> {
        create_private(path);
        let conn = Connection::open(path)?;
        configure(&conn)?;
        // WAL is a property of the file; setting it again is harmless.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        let mut store = Self {
            conn,
            syncs: durable::Syncs::of(path),
            writer: None,
        };
        store.migrate()?;
        store.writer = Some(writer::Writer::of(path, || {
            let conn = Connection::open(path)?;
            configure(&conn)?;
            // NORMAL: a commit writes the WAL without syncing it; the
            // writer then waits for a sync that covers it before it
            // returns, one sync for every commit made meanwhile (see
            // `durable`). So a case whose receipt went out survives a power
            // cut, at far fewer syncs than FULL's one a commit.
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            Ok(conn)
        })?);
        Ok(store)
    }

    /// Opens an existing database read-only (auditors, listings).
    pub fn open_read_only(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        plan_once(&conn)?;
        let store = Self {
            conn,
            syncs: durable::Syncs::of(path),
            writer: None,
        };
        let found = store.version()?;
        if found != SCHEMA_VERSION {
            return Err(StoreError::SchemaVersion {
                found,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(store)
    }

    /// Runs `f`'s reads in one read transaction on this connection: they
    /// all see one state of the database, and SQLite takes its shared locks
    /// once for them rather than once a statement (each lock is a mutex and
    /// often an `fcntl`, shared by every connection of the process: a
    /// status makes about eight queries). For reads only: a write goes
    /// through the writing connection, and this snapshot would not show it
    /// to `f`. The transaction ends when `f` returns, or unwinds.
    pub fn snapshot<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Self) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        /// Ends the read transaction when dropped: a rollback, for it has
        /// nothing to keep.
        struct Reading<'a>(&'a Connection);
        impl Drop for Reading<'_> {
            fn drop(&mut self) {
                if let Ok(mut end) = self.0.prepare_cached("ROLLBACK") {
                    let _ = end.execute([]);
                }
            }
        }
        // Both statements cached: a poll makes two queries, and parsing
        // BEGIN and ROLLBACK anew would cost about as much.
        self.conn
            .prepare_cached("BEGIN")
            .and_then(|mut begin| begin.execute([]))
            .map_err(StoreError::from)?;
        let _reading = Reading(&self.conn);
        f(self)
    }

    /// Copies the write-ahead log into the database and empties it
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`). SQLite's own checkpoints after
    /// each commit cannot restart the log while readers keep older
    /// snapshots open, so under steady load the log grows without end; this
    /// waits (up to the busy timeout) for a moment when every reader is on
    /// the newest snapshot. Returns whether it had to give up, busy.
    pub fn checkpoint(&self) -> Result<bool> {
        // Between two writes of this process, not in their way. It moves
        // pages, not rows: no change to count.
        let busy: i64 =
            self.writer()?
                .lock()
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        Ok(busy != 0)
    }

    /// The count of the database's changes (see [`Changes`]), shared by
    /// every store of this process on the same file.
    pub fn changes(&self) -> Result<Changes> {
        self.writer
            .clone()
            .map(Changes::of)
            .ok_or(StoreError::Invalid("the database was opened read-only"))
    }

    /// The connection every write goes through.
    fn writer(&self) -> Result<&writer::Writer> {
        self.writer
            .as_deref()
            .ok_or(StoreError::Invalid("the database was opened read-only"))
    }

    fn version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn migrate(&self) -> Result<()> {
        match self.version()? {
            0 => {
                let tx = self.conn.unchecked_transaction()?;
                tx.execute_batch(SCHEMA)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
                tx.commit()?;
                Ok(())
            }
            found @ 1..SCHEMA_VERSION => migrate::run(&self.conn, found),
            SCHEMA_VERSION => Ok(()),
            found => Err(StoreError::SchemaVersion {
                found,
                expected: SCHEMA_VERSION,
            }),
        }
    }

    fn write<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        // One writer at a time in this process, on its one connection, in
        // the order they came (see `writer`). IMMEDIATE still takes SQLite's
        // write lock up front, for writers in other processes (`sotto
        // admin`), which queue on the busy timeout.
        let mut conn = self.writer()?.turn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        let commit = self.syncs.committed();
        // The next writer goes on while this one waits for the disk.
        drop(conn);
        self.syncs.wait(commit)?;
        Ok(out)
    }

    /// [`Store::write`], in a transaction shared with the writes that
    /// queue meanwhile (see [`shared`]): for writes that come in floods.
    /// `f` may run twice, the first run rolled back.
    fn write_shared<T: Send + 'static>(
        &mut self,
        f: impl Fn(&rusqlite::Transaction<'_>) -> Result<T> + Send + Sync + 'static,
    ) -> Result<T> {
        let writer = self.writer()?;
        let (out, commit) = writer.queue().write(|| writer.turn(), &self.syncs, f)?;
        self.syncs.wait(commit)?;
        Ok(out)
    }
}

/// Creates `path` empty, mode 0600, if nothing is there: SQLite would make
/// it 0644 less the umask, readable by every account on the machine. An
/// empty file is a new database to SQLite. Any failure is left for SQLite
/// to report, in its words, when it opens the path.
fn create_private(path: &Path) {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let _ = opts.open(path);
}

/// SQLite integers are i64; counts and sequence numbers are never negative.
pub(crate) fn get_u64(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let v: i64 = r.get(idx)?;
    u64::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, v))
}

/// The desk of a case that can still be written to. Every write to a case
/// (a message, a share, a state, its erasure) starts here, so an erased case
/// refuses them all alike.
pub(crate) fn case_desk(tx: &rusqlite::Transaction<'_>, case: &[u8; 16]) -> Result<i64> {
    let (desk, erased): (i64, bool) = tx
        .prepare_cached(
            "SELECT desk_id, EXISTS (SELECT 1 FROM events
                                     WHERE case_id = ?1 AND kind = 'case-erased')
             FROM cases WHERE id = ?1",
        )?
        .query_row([&case[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or(StoreError::NotFound)?;
    if erased {
        return Err(StoreError::Erased);
    }
    Ok(desk)
}
