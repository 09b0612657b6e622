//! The server's side of the transparency log: its key, checkpoints
//! published in batches, and receipts for new cases.
//!
//! Every event is a leaf the moment it is stored (the store appends leaf and
//! tree nodes in the event's transaction). What is batched is publication:
//! a checkpoint that covers a case event is signed and served only every
//! `--checkpoint-interval` seconds, so that watching the public checkpoint
//! dates no report more finely than the interval. Operator events (desks
//! and recipients) alone are published within a second: they date nobody. Tiles,
//! entries and proofs are served up to the published size only, and so is
//! every index any route names.
//!
//! A new case gets a *promise* at once: its opening leaf, signed by the
//! log key with no index and no size. Its *receipt* (the latest published
//! checkpoint, the leaf's index and its inclusion proof) exists only once
//! a published checkpoint covers the leaf: a receipt at the current size
//! would show a reporter polling their own how many entries others added
//! since, to the second.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sotto_envelope::sign::SigningKey;
use sotto_store::{Store, StoreError};
use sotto_tlog::note::NoteVerifier;
use sotto_tlog::Checkpoint;
use sotto_wire::api::{LogPromise, LogRosterDesk, LogRosterReader, LogRosters, Receipt};

/// The log's signing key and identity.
pub struct Log {
    key: SigningKey,
    verifier: NoteVerifier,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("verifier", &self.verifier)
            .finish()
    }
}

/// Why the log cannot be used as configured.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The origin is not a valid key name.
    #[error("--log-origin {0:?}: an origin is a host and path without spaces or '+', e.g. reports.example.org/sotto")]
    BadOrigin(String),
    /// The stored checkpoints were made under another origin: clients have
    /// pinned it, so it cannot change.
    #[error("the log was started with --log-origin {0:?} and its origin cannot change (clients pin it): start the server with --log-origin {0:?}")]
    OtherOrigin(String),
    /// The stored checkpoints were signed by another key.
    #[error("the log's checkpoints were signed with another server.key than the one in the data directory: restore the server.key the log was started with")]
    OtherKey,
    /// The database.
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

impl Log {
    /// The log of the server whose secret is `server_secret`.
    pub fn new(server_secret: &[u8; 32], origin: &str) -> Result<Self, LogError> {
        let key = SigningKey::log_key(server_secret);
        let verifier = NoteVerifier::new(origin, key.verifying_key())
            .map_err(|_| LogError::BadOrigin(origin.to_owned()))?;
        Ok(Self { key, verifier })
    }

    /// The verifier key clients pin.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The origin.
    pub fn origin(&self) -> &str {
        self.verifier.name()
    }

    /// Signs a checkpoint of the first `size` leaves.
    fn sign(&self, store: &Store, size: u64) -> Result<String, StoreError> {
        let c = Checkpoint {
            origin: self.origin().to_owned(),
            size,
            root: store.log_root(size)?,
        };
        c.sign(&self.key)
            .map_err(|_| StoreError::Invalid("checkpoint could not be signed"))
    }

    /// Who reads for each desk at the latest published checkpoint, with
    /// each reader's addition proven and the whole signed
    /// (`sotto_tlog::rosters`). Reads the desks' own events only, so its
    /// cost follows the roster changes, not the cases. `None` before the
    /// first checkpoint.
    pub fn rosters(&self, store: &Store) -> Result<Option<LogRosters>, StoreError> {
        let Some(latest) = store.latest_checkpoint()? else {
            return Ok(None);
        };
        let size = latest.size;
        let mut r =
            sotto_tlog::Rosters::replay(size, store.log_root(size)?, store.desk_events(size)?);
        for readers in r.desks.values_mut() {
            for m in readers.values_mut() {
                m.proof = store.inclusion_proof(m.index, size)?;
            }
        }
        let signature = r.sign(&self.key, self.origin()).to_string();
        let frontier = store.frontier(size)?.hashes().to_vec();
        let desks = r
            .desks
            .into_iter()
            .map(|(desk, readers)| LogRosterDesk {
                desk: desk.to_vec(),
                readers: readers
                    .into_values()
                    .map(|m| LogRosterReader {
                        index: m.index,
                        leaf: m.leaf,
                        proof: m.proof,
                    })
                    .collect(),
            })
            .collect();
        Ok(Some(LogRosters {
            checkpoint: latest.note,
            frontier,
            desks,
            signature,
        }))
    }

    /// Refuses to go on where the stored checkpoints were made under another
    /// origin or key: clients pinned that identity.
    pub fn check_identity(&self, store: &Store) -> Result<(), LogError> {
        let Some(latest) = store.latest_checkpoint()? else {
            return Ok(());
        };
        if self.verifier.open(&latest.note).is_ok() {
            return Ok(());
        }
        let stored = latest.note.lines().next().unwrap_or("").to_owned();
        let same_key = NoteVerifier::new(&stored, *self.verifier.key())
            .is_ok_and(|v| v.open(&latest.note).is_ok());
        Err(if same_key {
            LogError::OtherOrigin(stored)
        } else {
            LogError::OtherKey
        })
    }

    /// Publishes a checkpoint if the log grew since the last one. Before
    /// the batch interval is over (`batch_due` false) it publishes only if
    /// every new leaf is an operator's (a desk or a recipient change): those
    /// date no report, and a reader added to a desk should show in the
    /// public log at once. A checkpoint always covers the whole log as it is
    /// when stored (an event stored meanwhile makes it start again), so one
    /// published after a promise holds the promised leaf. Returns the new
    /// size, if it published.
    pub fn publish(
        &self,
        store: &mut Store,
        today: sotto_wire::Day,
        batch_due: bool,
    ) -> Result<Option<u64>, StoreError> {
        let mut attempts = 0;
        loop {
            let size = store.log_size()?;
            let published = store.latest_checkpoint()?.map(|c| c.size);
            if published.is_some_and(|p| p >= size) {
                return Ok(None);
            }
            if !batch_due && store.case_events_after(published.unwrap_or(0))? > 0 {
                return Ok(None);
            }
            let note = self.sign(store, size)?;
            match store.publish_checkpoint(size, &note, today) {
                Err(StoreError::Conflict(_)) if attempts < 8 => attempts += 1,
                done => return done.map(|()| Some(size)),
            }
        }
    }

    /// Erases the envelopes of resolved and closed cases quiet for
    /// `retention_days` (see `sotto serve --retention-days`). Returns how
    /// many were erased.
    pub fn apply_retention(
        store: &mut Store,
        today: sotto_wire::Day,
        retention_days: u32,
    ) -> Result<usize, StoreError> {
        if retention_days == 0 {
            return Ok(0);
        }
        let cutoff = today.plus(-i64::from(retention_days));
        let due = store.cases_to_erase(cutoff)?;
        for case in &due {
            store.erase_case(case, today)?;
        }
        Ok(due.len())
    }

    /// The size of the latest published checkpoint (0 before the first).
    pub fn published_size(store: &Store) -> Result<u64, StoreError> {
        Ok(store.latest_checkpoint()?.map_or(0, |c| c.size))
    }

    /// The promise to publish the leaf at `index`: the leaf and the log
    /// key's signature over the origin and its hash. Neither names `index`
    /// nor the log's size. (Ed25519 is deterministic: asking again gives
    /// the same promise.)
    pub fn promise(&self, store: &Store, index: u64) -> Result<LogPromise, StoreError> {
        let leaf = store
            .leaves(index, index + 1)?
            .pop()
            .ok_or(StoreError::NotFound)?;
        Ok(self.promise_for(leaf))
    }

    /// [`Self::promise`] for a leaf already in hand.
    pub fn promise_for(&self, leaf: Vec<u8>) -> LogPromise {
        let signature = sotto_tlog::promise::sign(&self.key, self.origin(), &leaf);
        LogPromise {
            leaf,
            signature: signature.to_string(),
        }
    }

    /// The receipt for the leaf at `index`, once a published checkpoint
    /// covers it: the latest published checkpoint, as everyone sees it, and
    /// the leaf's inclusion proof in it. `None` before.
    pub fn receipt(store: &Store, index: u64) -> Result<Option<Receipt>, StoreError> {
        let Some(latest) = store.latest_checkpoint()? else {
            return Ok(None);
        };
        if index >= latest.size {
            return Ok(None);
        }
        let leaf = store
            .leaves(index, index + 1)?
            .pop()
            .ok_or(StoreError::NotFound)?;
        Ok(Some(Receipt {
            leaf_index: index,
            leaf,
            inclusion_proof: store.inclusion_proof(index, latest.size)?,
            checkpoint: latest.note,
        }))
    }

    /// `index` if a published checkpoint covers it, else `None`: what a
    /// route may say about a leaf.
    pub fn published_index(store: &Store, index: u64) -> Result<Option<u64>, StoreError> {
        Ok((index < Self::published_size(store)?).then_some(index))
    }
}

/// When the next batch of case events is due. The publisher restarts it at
/// each batch; the routes tell a reporter how long their receipt waits.
/// The schedule is the same for everyone and runs whether or not anything
/// waits, so telling it dates nobody's report.
#[derive(Debug)]
pub struct BatchClock {
    interval: Duration,
    started: Mutex<Instant>,
}

impl BatchClock {
    /// A clock whose first batch is due one `interval` from now.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            started: Mutex::new(Instant::now()),
        }
    }

    fn elapsed(&self) -> Duration {
        self.started
            .lock()
            .map_or(self.interval, |started| started.elapsed())
    }

    /// Whether the batch is due.
    pub fn due(&self) -> bool {
        self.elapsed() >= self.interval
    }

    /// Starts the next batch's interval.
    pub fn restart(&self) {
        if let Ok(mut started) = self.started.lock() {
            *started = Instant::now();
        }
    }

    /// Whole seconds until the batch is due: at least 1 (the publisher
    /// looks once a second), at most the interval.
    pub fn seconds_left(&self) -> u64 {
        let left = self.interval.saturating_sub(self.elapsed());
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        secs.clamp(1, self.interval.as_secs().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_to_the_next_batch_stays_within_one_interval() {
        let clock = BatchClock::new(Duration::from_secs(300));
        assert!(!clock.due());
        assert!((299..=300).contains(&clock.seconds_left()));
        let clock = BatchClock::new(Duration::ZERO);
        assert!(clock.due());
        assert_eq!(clock.seconds_left(), 1);
    }
}
