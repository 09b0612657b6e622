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
//! The connection lives as long as some [`crate::Store`] of this process
//! has the file open, and closes with the last of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use rusqlite::Connection;

use crate::Result;

/// The writing connection of one database file.
#[derive(Debug)]
pub(crate) struct Writer {
    conn: Mutex<Connection>,
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
        let w = Arc::new(Self {
            conn: Mutex::new(open()?),
        });
        // Forget the files whose stores are all closed.
        all.retain(|_, w| w.strong_count() > 0);
        all.insert(db, Arc::downgrade(&w));
        Ok(w)
    }

    /// Waits for the writer's turn: the connection, for this write alone.
    pub(crate) fn turn(&self) -> MutexGuard<'_, Connection> {
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
}
