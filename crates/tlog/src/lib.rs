//! Sotto's transparency log, pure: no I/O, no clock, no database.
//!
//! - [`merkle`]: RFC 6962 / RFC 9162 tree hashing, inclusion and consistency
//!   proofs (made and checked), and the frontier a client keeps.
//! - [`note`]: C2SP signed notes with Ed25519, and verifier keys.
//! - [`checkpoint`]: C2SP tlog-checkpoint tree heads.
//! - [`tile`]: C2SP tlog-tiles paths and entry bundles.
//! - [`leaf`]: what one leaf holds: an event kind, a day and hashes.
//! - [`promise`]: the log's signed promise to publish a leaf in its next
//!   batch, without naming its index or the tree's size.
//! - [`replay`]: what a run of leaves says: desk rosters, statistics, and
//!   anything that should not happen.
//!
//! The server appends leaves and signs checkpoints with these; the
//! reporter's client, `sotto audit` and any third party check them with the
//! same code. docs/transparency.md specifies the formats.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkpoint;
pub mod leaf;
pub mod merkle;
pub mod note;
pub mod promise;
pub mod replay;
pub mod rosters;
pub mod tile;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use leaf::{Event, Kind, Leaf};
pub use merkle::{Frontier, Hash};
pub use note::{NoteError, NoteVerifier};
pub use replay::Replay;
pub use rosters::Rosters;
