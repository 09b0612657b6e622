//! Writes that share one transaction.
//!
//! Under a flood of case openings the one writer ([`crate::writer`]) sets
//! the rate: each opening holds its turn for its transaction and its
//! commit, and every commit writes to the WAL each page its transaction
//! changed. Consecutive openings change some of the same pages (the last
//! leaf of the tables that grow in order, of the log and of its tree), and
//! a commit has a cost of its own, so one commit for several openings
//! costs less than one each.
//!
//! So a write that can wait for others queues here. The first to find no
//! batch under way leads: it takes the writes queued so far (at most
//! [`MOST`], its own among them), runs them in one transaction and commits
//! once. A write refused before it changed a row keeps its error and the
//! others go on. If one fails after changing rows, or the commit fails,
//! the transaction is rolled back and each write of the batch runs again
//! in a transaction of its own: a write that fails costs the others
//! nothing but that second run, and each gets its own answer.
//! (Savepoints would roll back only the failed write, but each copies
//! every page it changes to a journal first, which cost more than the
//! commits saved.) Writes that queued while a batch ran form the next
//! batch, led by the first of them to wake.
//!
//! A write may therefore run twice, so it must be a function of what it
//! reads in its transaction ([`Fn`], not [`FnOnce`]).
//!
//! Each write still waits, after its batch, for a sync that covers its
//! commit ([`crate::durable`]): sharing a transaction changes how many
//! commits there are, not when an answer may go out.

use std::ops::DerefMut;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::durable::Syncs;
use crate::{Result, StoreError};

/// The most writes one transaction takes: a bound on how long a batch
/// holds the writer, and so on how long a write waits behind one.
pub(crate) const MOST: usize = 64;

/// The writes waiting for a batch, of one database file.
#[derive(Default)]
pub(crate) struct Queue {
    waiting: Mutex<Waiting>,
    /// Signalled when a batch ends.
    ended: Condvar,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Waiting {
    writes: Vec<Arc<dyn Queued>>,
    /// Whether a batch is under way.
    leading: bool,
}

/// A queued write, whatever it returns.
trait Queued: Send + Sync {
    /// Runs the write in `tx` and keeps what it returned (the last run's);
    /// says whether it succeeded.
    fn run(&self, tx: &Transaction<'_>) -> bool;
    /// Ends it: its last run was committed as commit number `n`, or failed.
    fn settle(&self, n: u64);
    /// Ends it: its transaction failed, for `why`. A write that failed on
    /// its own keeps its own error.
    fn fail(&self, why: StoreError);
}

/// One write and what it returned.
struct Slot<F, T> {
    write: F,
    stage: Mutex<Stage<T>>,
}

enum Stage<T> {
    Queued,
    Ran(Result<T>),
    /// What it returned and the commit that holds it, or why it failed.
    Done(Result<(T, u64)>),
    Taken,
}

impl<F, T> Slot<F, T> {
    fn stage(&self) -> MutexGuard<'_, Stage<T>> {
        self.stage.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn done(&self) -> bool {
        matches!(*self.stage(), Stage::Done(_))
    }

    /// What it returned, once done. A write that is not done by the end of
    /// the batch its writer led was taken by a batch that never ended (a
    /// leader that panicked): it was rolled back with that transaction.
    fn take(&self) -> Result<(T, u64)> {
        match std::mem::replace(&mut *self.stage(), Stage::Taken) {
            Stage::Done(out) => out,
            _ => Err(StoreError::Abandoned),
        }
    }
}

impl<F, T> Queued for Slot<F, T>
where
    F: Fn(&Transaction<'_>) -> Result<T> + Send + Sync,
    T: Send,
{
    fn run(&self, tx: &Transaction<'_>) -> bool {
        let out = (self.write)(tx);
        let ok = out.is_ok();
        *self.stage() = Stage::Ran(out);
        ok
    }

    fn settle(&self, n: u64) {
        let mut stage = self.stage();
        *stage = Stage::Done(match std::mem::replace(&mut *stage, Stage::Taken) {
            Stage::Ran(out) => out.map(|out| (out, n)),
            // Every write of a batch runs before its commit.
            _ => Err(StoreError::Abandoned),
        });
    }

    fn fail(&self, why: StoreError) {
        let mut stage = self.stage();
        *stage = Stage::Done(match std::mem::replace(&mut *stage, Stage::Taken) {
            Stage::Ran(Err(own)) => Err(own),
            _ => Err(why),
        });
    }
}

/// Ends the batch under way however its leader leaves, a panic included,
/// so that the writes queued meanwhile get a leader.
struct Leading<'a>(&'a Queue);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        self.0.lock().leading = false;
        self.0.ended.notify_all();
    }
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `write` and returns what it returned with the number of the
    /// commit that holds it, once that commit is made (not yet synced).
    /// A batch's leader calls `turn` for the writing connection (the
    /// writer's turn, [`crate::writer`]).
    pub(crate) fn write<T, F, C>(
        &self,
        turn: impl FnOnce() -> C,
        syncs: &Syncs,
        write: F,
    ) -> Result<(T, u64)>
    where
        F: Fn(&Transaction<'_>) -> Result<T> + Send + Sync + 'static,
        T: Send + 'static,
        C: DerefMut<Target = Connection>,
    {
        let slot = Arc::new(Slot {
            write,
            stage: Mutex::new(Stage::Queued),
        });
        let mut waiting = self.lock();
        waiting.writes.push(Arc::clone(&slot) as Arc<dyn Queued>);
        loop {
            if slot.done() {
                break;
            }
            if !waiting.leading {
                waiting.leading = true;
                let batch = take(&mut waiting.writes, &slot);
                drop(waiting);
                let leading = Leading(self);
                // Empty only when its own write went with an abandoned
                // batch: no turn to take then.
                if !batch.is_empty() {
                    run(turn(), syncs, &batch);
                }
                drop(leading);
                // Its own write was in this batch, or in one that was
                // abandoned: either way, it is over.
                return slot.take();
            }
            waiting = self
                .ended
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
        }
        drop(waiting);
        slot.take()
    }

    /// How many writes wait for a batch.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().writes.len()
    }
}

/// The next batch: the first [`MOST`] writes queued, `own` among them if
/// it is still queued (behind as many others, it takes the last place).
fn take<T: ?Sized>(writes: &mut Vec<Arc<dyn Queued>>, own: &Arc<T>) -> Vec<Arc<dyn Queued>> {
    let mine = writes
        .iter()
        .position(|w| std::ptr::addr_eq(Arc::as_ptr(w), Arc::as_ptr(own)));
    match mine {
        Some(i) if i >= MOST => {
            let mine = writes.remove(i);
            let mut batch: Vec<_> = writes.drain(..MOST - 1).collect();
            batch.push(mine);
            batch
        }
        _ => writes.drain(..writes.len().min(MOST)).collect(),
    }
}

/// Runs `batch` at one turn of the writer: in one transaction, or if that
/// fails, each write in its own. Settles each.
fn run(mut conn: impl DerefMut<Target = Connection>, syncs: &Syncs, batch: &[Arc<dyn Queued>]) {
    match commit(&mut conn, syncs, batch) {
        Ok(n) => {
            // The next writer goes on while these wait for the disk.
            drop(conn);
            for write in batch {
                write.settle(n);
            }
        }
        Err(why) if batch.len() == 1 => batch[0].fail(why),
        Err(_) => {
            for write in batch {
                match commit(&mut conn, syncs, std::slice::from_ref(write)) {
                    Ok(n) => write.settle(n),
                    Err(why) => write.fail(why),
                }
            }
        }
    }
}

/// Runs `writes` in one transaction and commits it; returns the commit's
/// number, or rolls it back at the first failure that changed a row.
fn commit(conn: &mut Connection, syncs: &Syncs, writes: &[Arc<dyn Queued>]) -> Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for write in writes {
        let before = tx.total_changes();
        if write.run(&tx) {
            continue;
        }
        // A write refused before it changed a row (an opening whose case or
        // handle is taken) leaves nothing to undo: its error stands, and
        // the others go on. So a flood of refused writes cannot make every
        // batch run twice.
        if tx.total_changes() == before && !tx.is_autocommit() {
            continue;
        }
        // Rolled back; the write keeps its own error (see `fail`).
        return Err(StoreError::Abandoned);
    }
    tx.commit()?;
    Ok(syncs.committed())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    type Write = Box<dyn Fn(&Transaction<'_>) -> Result<i64> + Send + Sync>;

    /// A store whose database has one table.
    fn table() -> (tempfile::TempDir, crate::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("sotto.db")).unwrap();
        store
            .writer()
            .unwrap()
            .lock()
            .execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)")
            .unwrap();
        (dir, store)
    }

    fn insert(k: i64) -> Write {
        Box::new(move |tx| {
            tx.execute("INSERT INTO t (k) VALUES (?1)", [k])?;
            if k < 0 {
                return Err(StoreError::Invalid("a negative key"));
            }
            Ok(k * 10)
        })
    }

    fn keys(store: &crate::Store) -> Vec<i64> {
        let conn = store.writer().unwrap().lock();
        let mut stmt = conn.prepare("SELECT k FROM t ORDER BY k").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    fn until(what: impl Fn() -> bool) {
        let start = Instant::now();
        while !what() {
            assert!(start.elapsed() < Duration::from_secs(10), "never happened");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Runs `writes` as one batch: while the writer is busy, a first write
    /// leads a batch of its own and waits for the turn, and `writes` all
    /// queue behind it. Returns the first's commit and their outcomes.
    fn behind_a_batch(store: &crate::Store, writes: Vec<Write>) -> (u64, Vec<Result<(i64, u64)>>) {
        let writer = store.writer().unwrap();
        let queue = writer.queue();
        let syncs = &*store.syncs;
        std::thread::scope(|s| {
            let busy = writer.turn();
            let first = s.spawn(|| queue.write(|| writer.turn(), syncs, |_| Ok(0)));
            until(|| queue.lock().leading && queue.len() == 0);
            let n = writes.len();
            let writes: Vec<_> = writes
                .into_iter()
                .map(|w| s.spawn(move || queue.write(|| writer.turn(), syncs, w)))
                .collect();
            until(|| queue.len() == n);
            drop(busy);
            let (_, first) = first.join().unwrap().unwrap();
            (
                first,
                writes.into_iter().map(|h| h.join().unwrap()).collect(),
            )
        })
    }

    #[test]
    fn writes_queued_together_share_one_commit() {
        let (_dir, store) = table();
        let before = store.syncs.commits();
        let (first, outcomes) = behind_a_batch(&store, vec![insert(2), insert(4)]);

        let (two, four) = (outcomes[0].as_ref().unwrap(), outcomes[1].as_ref().unwrap());
        assert_eq!((two.0, four.0), (20, 40), "each gets its own answer");
        assert_eq!(two.1, four.1, "one commit holds both");
        assert!(first < two.1);
        assert_eq!(store.syncs.commits() - before, 2, "two commits in all");
        assert_eq!(keys(&store), [2, 4]);
    }

    #[test]
    fn a_write_refused_before_it_changed_anything_leaves_the_batch_as_it_was() {
        let (_dir, store) = table();
        let before = store.syncs.commits();
        let refused: Write = Box::new(|tx| {
            let _taken: i64 = tx.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
            Err(StoreError::Conflict("taken"))
        });
        let (_, outcomes) = behind_a_batch(&store, vec![insert(2), refused, insert(4)]);

        let (two, four) = (outcomes[0].as_ref().unwrap(), outcomes[2].as_ref().unwrap());
        assert_eq!((two.0, four.0), (20, 40));
        assert_eq!(two.1, four.1, "still one commit");
        assert!(matches!(outcomes[1], Err(StoreError::Conflict("taken"))));
        assert_eq!(
            store.syncs.commits() - before,
            2,
            "the first's, and the batch"
        );
        assert_eq!(keys(&store), [2, 4]);
    }

    #[test]
    fn a_write_that_fails_after_changing_rows_sends_its_batch_to_run_one_by_one() {
        let (_dir, store) = table();
        let (_, outcomes) = behind_a_batch(&store, vec![insert(2), insert(-3), insert(4)]);

        let (two, four) = (outcomes[0].as_ref().unwrap(), outcomes[2].as_ref().unwrap());
        assert_eq!((two.0, four.0), (20, 40));
        assert_ne!(two.1, four.1, "run again, each in its own transaction");
        assert!(
            matches!(outcomes[1], Err(StoreError::Invalid("a negative key"))),
            "the failed write gets its own error: {:?}",
            outcomes[1]
        );
        assert_eq!(keys(&store), [2, 4], "the failed write stored nothing");
    }

    #[test]
    fn more_writes_than_a_batch_takes_all_land_in_as_many_batches_as_needed() {
        let (_dir, store) = table();
        let before = store.syncs.commits();
        let n = i64::try_from(MOST).unwrap() + 6;
        let (_, outcomes) = behind_a_batch(&store, (1..=n).map(insert).collect());
        for (k, out) in (1..=n).zip(&outcomes) {
            assert_eq!(out.as_ref().unwrap().0, k * 10);
        }
        assert_eq!(keys(&store), (1..=n).collect::<Vec<_>>());
        assert_eq!(
            store.syncs.commits() - before,
            3,
            "the first's, and two batches"
        );
    }

    #[test]
    fn a_leader_queued_behind_a_full_batch_takes_its_own_write_along() {
        let slots: Vec<Arc<dyn Queued>> = (0..MOST + 5)
            .map(|_| {
                let write: Write = Box::new(|_| Ok(0));
                Arc::new(Slot {
                    write,
                    stage: Mutex::new(Stage::Queued),
                }) as Arc<dyn Queued>
            })
            .collect();
        let at = |i: usize| Arc::as_ptr(&slots[i]);
        let mut writes = slots.clone();
        let own = Arc::clone(&slots[MOST + 2]);
        let batch = take(&mut writes, &own);
        assert_eq!(batch.len(), MOST);
        assert!(std::ptr::addr_eq(
            Arc::as_ptr(&batch[MOST - 1]),
            at(MOST + 2)
        ));
        assert!((0..MOST - 1).all(|i| std::ptr::addr_eq(Arc::as_ptr(&batch[i]), at(i))));
        let left: Vec<_> = writes.iter().map(Arc::as_ptr).collect();
        let expected = [MOST - 1, MOST, MOST + 1, MOST + 3, MOST + 4].map(at);
        assert!(left
            .iter()
            .zip(&expected)
            .all(|(a, b)| std::ptr::addr_eq(*a, *b)));
        assert_eq!(left.len(), 5);

        // Among the first: the first in the order they came.
        let mut writes = slots.clone();
        let batch = take(&mut writes, &Arc::clone(&slots[3]));
        assert!((0..MOST).all(|i| std::ptr::addr_eq(Arc::as_ptr(&batch[i]), at(i))));
        assert_eq!(writes.len(), 5);
    }

    #[test]
    fn a_write_alone_runs_once_even_when_it_fails() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (_dir, store) = table();
        let writer = store.writer().unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let out = writer.queue().write(
            || writer.turn(),
            &store.syncs,
            move |tx| {
                counted.fetch_add(1, Ordering::Relaxed);
                insert(-1)(tx)
            },
        );
        assert!(matches!(out, Err(StoreError::Invalid(_))), "{out:?}");
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        assert!(keys(&store).is_empty());
    }

    #[test]
    fn a_commit_that_fails_costs_only_the_write_that_broke_it() {
        let (_dir, store) = table();
        // A deferred constraint that the second write breaks: the write
        // itself succeeds, the commit fails.
        store
            .writer()
            .unwrap()
            .lock()
            .execute_batch(
                "CREATE TABLE d (k INTEGER PRIMARY KEY,
                                 r INTEGER REFERENCES t(k) DEFERRABLE INITIALLY DEFERRED)",
            )
            .unwrap();
        let dangling: Write = Box::new(|tx| {
            tx.execute_batch("INSERT INTO d (k, r) VALUES (1, 99)")?;
            Ok(0)
        });
        let (_, outcomes) = behind_a_batch(&store, vec![insert(7), dangling, insert(8)]);
        assert_eq!(outcomes[0].as_ref().unwrap().0, 70);
        assert_eq!(outcomes[2].as_ref().unwrap().0, 80);
        assert!(
            matches!(&outcomes[1], Err(StoreError::Sqlite(e)) if e.to_string().contains("FOREIGN KEY")),
            "{:?}",
            outcomes[1]
        );
        assert_eq!(keys(&store), [7, 8]);
    }

    #[test]
    fn many_writers_at_once_each_land_once_with_their_own_answer() {
        let (_dir, store) = table();
        let (writer, syncs) = (store.writer().unwrap(), &*store.syncs);
        std::thread::scope(|s| {
            for t in 0..8 {
                s.spawn(move || {
                    for i in 0..50 {
                        let k = t * 1000 + i;
                        let (out, n) = writer
                            .queue()
                            .write(|| writer.turn(), syncs, insert(k))
                            .unwrap();
                        assert_eq!(out, k * 10);
                        syncs.wait(n).unwrap();
                    }
                });
            }
        });
        let keys = keys(&store);
        assert_eq!(keys.len(), 400);
        assert!((0..8).all(|t| (0..50).all(|i| keys.binary_search(&(t * 1000 + i)).is_ok())));
    }
}
