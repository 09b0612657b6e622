//! The one connection that writes.
//!
//! Every write of this process to a database file goes through one
//! connection, taken in turn: writers wait on its lock, in the order they
//! came, not in SQLite's busy loop (which sleeps, retries and, under load,
//! gives up with "database is locked").
//!
//! Why one connection and not whichever the writer holds: in WAL mode, a
//! connection that finds the database changed by another connection since
//! its last transaction empties its page cache. Writes spread over a pool
//! of connections each started with an empty cache, and read back from the
//! operating system the pages the write before had just written. The one
//! writer makes every change itself, so what it wrote stays in its cache.
//!
//! Because every write passes here, the writer also counts them: see
//! [`Changes`].
//!
//! The connection lives as long as some [`crate::Store`] of this process
//! has the file open, and closes with the last of them.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use rusqlite::Connection;

use crate::shared::Queue;
use crate::Result;

/// The writing connection of one database file.
#[derive(Debug)]
pub(crate) struct Writer {
    conn: Mutex<Connection>,
    /// How many turns have ended, plus how many times another process's
    /// writes were noticed.
    changes: AtomicU64,
    /// `PRAGMA data_version` on `conn` when last asked: it moves only when
    /// another connection commits, and every write of this process is on
    /// `conn`, so only when another process wrote.
    outside: AtomicI64,
    /// Writes waiting to share a transaction (see [`crate::shared`]).
    queue: Queue,
}

/// A turn at the writer: its connection, and when the turn ends, one more
/// change counted. The count moves after the write's commit (the turn's
/// transaction borrows the connection, so it has ended by then).
pub(crate) struct Turn<'a> {
    conn: MutexGuard<'a, Connection>,
    changes: &'a AtomicU64,
}

impl Deref for Turn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for Turn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.changes.fetch_add(1, Ordering::Release);
    }
}

/// A count that moves whenever the database may have changed: each time a
/// write of this process ends, and each time [`Changes::notice_outside`]
/// finds that another process wrote (`sotto admin`, run beside the
/// server). Something read from the database stays true while the count
/// it was read under stays: read the count first, then the database.
#[derive(Debug, Clone)]
pub struct Changes(Arc<Writer>);

impl Changes {
    pub(crate) fn of(writer: Arc<Writer>) -> Self {
        Self(writer)
    }

    /// The count now.
    pub fn now(&self) -> u64 {
        self.0.changes.load(Ordering::Acquire)
    }

    /// Asks SQLite whether another process has written since the last
    /// time, and if so moves the count. Returns whether it did. Until this
    /// runs, the count misses such writes: a server calls it every second.
    pub fn notice_outside(&self) -> Result<bool> {
        let conn = self.0.lock();
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let before = self.0.outside.swap(version, Ordering::AcqRel);
        let moved = before != version;
        if moved {
            self.0.changes.fetch_add(1, Ordering::Release);
        }
        Ok(moved)
    }
}

impl Writer {
    /// The writer of the database at `db`, opened with `open` if this
    /// process has none open. The file is known by its canonical path, so
    /// two spellings of one path share one writer.
    pub(crate) fn of(db: &Path, open: impl FnOnce() -> Result<Connection>) -> Result<Arc<Self>> {
        static ALL: Mutex<BTreeMap<PathBuf, Weak<Writer>>> = Mutex::new(BTreeMap::new());
        let db = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_owned());
        let mut all = ALL.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = all.get(&db).and_then(Weak::upgrade) {
            return Ok(w);
        }
        let conn = open()?;
        let outside = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let w = Arc::new(Self {
            conn: Mutex::new(conn),
            changes: AtomicU64::new(0),
            outside: AtomicI64::new(outside),
            queue: Queue::default(),
        });
        // Forget the files whose stores are all closed.
        all.retain(|_, w| w.strong_count() > 0);
        all.insert(db, Arc::downgrade(&w));
        Ok(w)
    }

    /// Waits for the writer's turn: the connection, for this write alone.
    pub(crate) fn turn(&self) -> Turn<'_> {
        Turn {
            conn: self.conn.lock().unwrap_or_else(PoisonError::into_inner),
            changes: &self.changes,
        }
    }

    /// The writes waiting to share a transaction.
    pub(crate) fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The connection, for what changes no row (a checkpoint, a question):
    /// waits as [`Writer::turn`] does, and counts no change.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_of_one_file_share_one_writer_while_any_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
        // As `Store::open` does, the file exists before its writer opens.
        std::fs::write(&a, b"").unwrap();
        std::fs::write(&b, b"").unwrap();
        let opened = std::cell::Cell::new(0);
        let open = |p: &Path| {
            opened.set(opened.get() + 1);
            Ok(Connection::open(p)?)
        };
        let first = Writer::of(&a, || open(&a)).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let spelled = dir.path().join("sub").join("..").join("a.db");
        let again = Writer::of(&spelled, || open(&a)).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "one writer, however spelled");
        let other = Writer::of(&b, || open(&b)).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(opened.get(), 2);
        drop((first, again));
        // Closed with its last store: the next store opens it again.
        let reopened = Writer::of(&a, || open(&a)).unwrap();
        assert_eq!(opened.get(), 3);
        drop((reopened, other));
    }

    #[test]
    fn the_count_moves_with_every_write_and_with_another_process_s_once_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sotto.db");
        let mut one = crate::Store::open(&path).unwrap();
        let other = crate::Store::open(&path).unwrap();
        let changes = other.changes().unwrap();
        let day = sotto_wire::Day::parse("2026-12-04").unwrap();

        let before = changes.now();
        one.insert_desk("support", "", day).unwrap();
        let written = changes.now();
        assert!(
            written > before,
            "a write through one store moves the count all see"
        );
        one.desk_by_name("support").unwrap();
        assert_eq!(changes.now(), written, "a read moves nothing");
        assert!(
            !changes.notice_outside().unwrap(),
            "this process's own writes are not outside"
        );

        // Another process: a connection of its own, not the writer.
        let outside = Connection::open(&path).unwrap();
        outside
            .execute(
                "UPDATE desks SET description = 'moved' WHERE name = 'support'",
                [],
            )
            .unwrap();
        assert_eq!(changes.now(), written, "not seen until asked");
        assert!(changes.notice_outside().unwrap());
        let noticed = changes.now();
        assert!(noticed > written);
        assert!(!changes.notice_outside().unwrap(), "noticed once");
        assert_eq!(changes.now(), noticed);
    }
}
