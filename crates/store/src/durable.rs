//! Group commit: many commits, one sync.
//!
//! A write must reach the disk before its answer goes out: a reporter who
//! holds a receipt must find their case after a power cut. SQLite's
//! `synchronous=FULL` syncs the write-ahead log at every commit, and as
//! writers take turns, one sync each bounds the rate of new cases by the
//! disk's sync time. Instead, connections commit with `NORMAL` (the WAL
//! is written, not synced), and each writer, after its commit and once it
//! has let the next writer in, waits here until the WAL has been synced
//! past its commit. The first to wait syncs the file for everyone who
//! committed before it looked, while later writers commit; they are
//! covered by the next sync.
//!
//! Syncing the WAL file from another descriptor is enough: `fdatasync`
//! flushes the file, whoever wrote it. When SQLite checkpoints, it syncs
//! the WAL before and the database after (also under `NORMAL`), so frames
//! moved into the database are durable there; a WAL already removed has
//! nothing left to sync.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::{Result, StoreError};

/// The commits of one database file, and how far its WAL is synced.
#[derive(Debug, Default)]
pub(crate) struct Syncs {
    wal: PathBuf,
    state: Mutex<Progress>,
    synced: Condvar,
}

#[derive(Debug, Default)]
struct Progress {
    /// Commits done, in order.
    committed: u64,
    /// Commits the last sync covers.
    synced: u64,
    /// Whether a writer is syncing now.
    syncing: bool,
}

impl Syncs {
    /// The one tracker of the database at `db`, shared by every connection
    /// of this process to it.
    pub(crate) fn of(db: &Path) -> Arc<Self> {
        static ALL: Mutex<BTreeMap<PathBuf, Arc<Syncs>>> = Mutex::new(BTreeMap::new());
        let mut all = ALL.lock().unwrap_or_else(PoisonError::into_inner);
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        Arc::clone(all.entry(db.to_owned()).or_insert_with(|| {
            Arc::new(Self {
                wal: wal.into(),
                ..Self::default()
            })
        }))
    }

    /// Counts a commit just made; returns its number. Called while the
    /// writer still holds its turn, so numbers follow the commits' order.
    pub(crate) fn committed(&self) -> u64 {
        let mut p = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        p.committed += 1;
        p.committed
    }

    /// How many commits were counted.
    #[cfg(test)]
    pub(crate) fn commits(&self) -> u64 {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .committed
    }

    /// Returns once the WAL is synced past commit `n`, syncing it if no
    /// other writer is.
    pub(crate) fn wait(&self, n: u64) -> Result<()> {
        let mut p = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if p.synced >= n {
                return Ok(());
            }
            if p.syncing {
                p = self.synced.wait(p).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            p.syncing = true;
            let target = p.committed;
            drop(p);
            let done = self.sync_wal();
            p = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            p.syncing = false;
            if done.is_ok() {
                p.synced = p.synced.max(target);
            }
            self.synced.notify_all();
            done?;
        }
    }

    fn sync_wal(&self) -> Result<()> {
        match std::fs::File::open(&self.wal) {
            Ok(f) => f.sync_data().map_err(StoreError::Sync),
            // Checkpointed and removed: the database file holds it, synced.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::Sync(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_writer_returns_once_a_sync_covers_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sotto.db");
        std::fs::write(dir.path().join("sotto.db-wal"), b"frames").unwrap();
        let syncs = Syncs::of(&db);
        assert!(Arc::ptr_eq(&syncs, &Syncs::of(&db)), "one per database");
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..50 {
                        let n = syncs.committed();
                        syncs.wait(n).unwrap();
                        let p = syncs.state.lock().unwrap();
                        assert!(p.synced >= n);
                    }
                });
            }
        });
        let p = syncs.state.lock().unwrap();
        assert_eq!((p.committed, p.synced), (400, 400));
        assert!(!p.syncing);
    }

    #[test]
    fn a_wal_already_checkpointed_away_has_nothing_to_sync() {
        let dir = tempfile::tempdir().unwrap();
        let syncs = Syncs::of(&dir.path().join("gone.db"));
        let n = syncs.committed();
        syncs.wait(n).unwrap();
    }
}
