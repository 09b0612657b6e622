//! The server's side of the transparency log: its key, checkpoints
//! published in batches, and receipts for new cases.
//!
//! Every event is a leaf the moment it is stored (the store appends leaf and
//! tree nodes in the event's transaction). What is batched is publication:
//! a checkpoint that covers a case event is signed and served only every
//! `--checkpoint-interval` seconds, so that watching the public checkpoint
//! dates no report more finely than the interval. Operator events (desks
//! and recipients) alone are published within a second: they date nobody. Tiles,
//! entries and proofs are served up to the published size only. A receipt
//! is a checkpoint signed for the reporter alone at the size right after
//! their case opened; it is never published, but every later checkpoint
//! must be consistent with it.

use sotto_envelope::sign::SigningKey;
use sotto_store::{Store, StoreError};
use sotto_tlog::note::NoteVerifier;
use sotto_tlog::Checkpoint;
use sotto_wire::api::Receipt;

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
    /// public log at once. Returns the new size, if it published.
    pub fn publish(
        &self,
        store: &mut Store,
        today: sotto_wire::Day,
        batch_due: bool,
    ) -> Result<Option<u64>, StoreError> {
        let size = store.log_size()?;
        let published = store.latest_checkpoint()?.map(|c| c.size);
        if published.is_some_and(|p| p >= size) {
            return Ok(None);
        }
        if !batch_due && store.case_events_after(published.unwrap_or(0))? > 0 {
            return Ok(None);
        }
        let note = self.sign(store, size)?;
        store.insert_checkpoint(size, &note, today)?;
        Ok(Some(size))
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

    /// A receipt for the leaf at `index`: a checkpoint signed now, for the
    /// reporter alone, of the whole log, and the leaf's inclusion proof.
    pub fn receipt(&self, store: &Store, index: u64) -> Result<Receipt, StoreError> {
        let size = store.log_size()?;
        let leaf = store
            .leaves(index, index + 1)?
            .pop()
            .ok_or(StoreError::NotFound)?;
        Ok(Receipt {
            leaf_index: index,
            leaf,
            checkpoint: self.sign(store, size)?,
            inclusion_proof: store.inclusion_proof(index, size)?,
        })
    }
}
