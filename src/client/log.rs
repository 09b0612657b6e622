//! The transparency log from the client's side: following it from a
//! verified position. (The receipt file and its checks are in
//! [`super::receipt_file`], re-exported here.)
//!
//! A client keeps a [`LogState`]: the log's key, the last checkpoint it
//! verified, that tree's frontier, and the replay of its leaves. To move on,
//! it fetches the latest checkpoint, checks the signature with the key it
//! already has, downloads the entry bundles that follow, appends every leaf
//! to the frontier and compares the root with the checkpoint's. If they
//! match, the old tree is a prefix of the new one (nothing was removed or
//! rewritten) and every new leaf is where the log says: no proof is needed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sotto_envelope::sign::Signature;
use sotto_tlog::leaf::{Event, Leaf};
use sotto_tlog::merkle::{self, Frontier, Hash};
use sotto_tlog::rosters::{Member, Rosters};
use sotto_tlog::tile;
use sotto_tlog::{Checkpoint, NoteVerifier, Replay};

use super::{Api, ClientError};

pub use super::receipt_file::{
    standing, verify_receipt, Included, Opening, ReceiptFile, ReceiptStanding, VerifiedReceipt,
    RECEIPT_FILE_VERSION,
};

fn crypto(s: impl Into<String>) -> ClientError {
    ClientError::Crypto(s.into())
}

/// A verified position in the log, as clients save it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogState {
    /// The log's verifier key (`name+id+base64`).
    pub key: String,
    /// The last checkpoint verified (a signed note).
    pub checkpoint: String,
    /// The frontier of that tree.
    #[serde(with = "sotto_wire::hashes")]
    pub frontier: Vec<Hash>,
    /// What the leaves up to there say (on a reporter's device, the
    /// rosters only).
    pub replay: Replay,
}

/// The result of following the log.
#[derive(Debug)]
pub struct Followed {
    /// The new position.
    pub state: LogState,
    /// The checkpoint it is at.
    pub checkpoint: Checkpoint,
    /// Leaves that are well-formed but should not happen.
    pub problems: Vec<String>,
}

/// The key in `state`, else the one pinned on `api`, else the one the
/// server announces (trusted on first use).
pub fn verifier(api: &Api, state: Option<&LogState>) -> Result<NoteVerifier, ClientError> {
    let key = match (state, api.log_key()) {
        (Some(s), _) => s.key.clone(),
        (None, Some(pinned)) => return Ok(pinned.clone()),
        (None, None) => api.log_info()?.key,
    };
    NoteVerifier::parse(&key).map_err(|e| crypto(format!("the log's key is malformed: {e}")))
}

/// Opens the log's latest published checkpoint with `v`.
pub fn latest(api: &Api, v: &NoteVerifier) -> Result<(String, Checkpoint), ClientError> {
    let note = api.checkpoint()?;
    let c = Checkpoint::open(&note, v).map_err(|e| {
        crypto(format!(
            "the log's checkpoint does not verify with the log key {v} ({e}): \
             the server changed its key or is forging checkpoints"
        ))
    })?;
    Ok((note, c))
}

/// Where a device that has never followed the log starts: the desks'
/// rosters at the latest checkpoint, from the log's signed summary
/// (`sotto_tlog::rosters`), instead of every entry since the first. The
/// checkpoint is verified with `v`, then the summary's signature, each
/// reader's addition (their leaf and its inclusion proof), and the tree's
/// frontier at that size, which comes with the summary, against the
/// checkpoint's root, so that the log can be followed from there entry by
/// entry: one request in all. Its cost follows the desks
/// and readers, not the cases. `None` from a server that does not offer the
/// summary: follow from the start.
pub fn first_contact(api: &Api, v: &NoteVerifier) -> Result<Option<LogState>, ClientError> {
    let got = match api.log_rosters() {
        Ok(got) => got,
        Err(ClientError::Server { status: 404, .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let checkpoint = Checkpoint::open(&got.checkpoint, v).map_err(|e| {
        crypto(format!(
            "the checkpoint of the log's roster summary does not verify with the log key {v} ({e})"
        ))
    })?;
    let malformed = |what: &str| crypto(format!("the log's roster summary is malformed: {what}"));
    let mut desks = BTreeMap::new();
    for d in &got.desks {
        let desk = Hash::try_from(d.desk.as_slice()).map_err(|_| malformed("a desk"))?;
        let mut readers = BTreeMap::new();
        for r in &d.readers {
            let Some(Leaf {
                event: Event::RecipientAdded { recipient, .. },
                ..
            }) = Leaf::decode(&r.leaf)
            else {
                return Err(malformed("a reader's leaf is no addition"));
            };
            let member = Member {
                index: r.index,
                leaf: r.leaf.clone(),
                proof: r.proof.clone(),
            };
            if readers.insert(recipient, member).is_some() {
                return Err(malformed("a reader is listed twice"));
            }
        }
        if desks.insert(desk, readers).is_some() {
            return Err(malformed("a desk is listed twice"));
        }
    }
    let rosters = Rosters {
        size: checkpoint.size,
        root: checkpoint.root,
        desks,
    };
    let signature = Signature::parse(&got.signature).ok_or_else(|| malformed("the signature"))?;
    let days = rosters
        .verify(v, &signature)
        .map_err(|e| crypto(format!("{e}: the server shows readers the log does not")))?;
    let frontier = Frontier::from_parts(checkpoint.size, got.frontier)
        .filter(|f| f.root() == checkpoint.root)
        .ok_or_else(|| crypto("the log's frontier does not add up to its signed checkpoint"))?;
    Ok(Some(LogState {
        key: v.to_string(),
        checkpoint: got.checkpoint,
        frontier: frontier.hashes().to_vec(),
        replay: Replay::from_rosters(checkpoint.size, &days),
    }))
}

/// Follows the log from `from` (or from its start) to its latest published
/// checkpoint, checking the signature with `v`, every leaf, and the root.
/// `fresh` is the replay to start from when there is no saved state.
pub fn follow(
    api: &Api,
    v: &NoteVerifier,
    from: Option<&LogState>,
    fresh: Replay,
) -> Result<Followed, ClientError> {
    if let Some(s) = from {
        if s.key != v.to_string() {
            return Err(crypto(format!(
                "the log's key is {v}, but it was {} when last checked:                  a log does not change its key; this one was replaced",
                s.key
            )));
        }
    }
    let (note, checkpoint) = latest(api, v)?;
    let (mut frontier, mut replay) = match from {
        Some(s) => {
            let old = Checkpoint::open(&s.checkpoint, v)
                .map_err(|e| crypto(format!("the saved checkpoint does not verify: {e}")))?;
            let f = Frontier::from_parts(old.size, s.frontier.clone())
                .filter(|f| f.root() == old.root)
                .ok_or_else(|| crypto("the saved log state is damaged; remove it to start over"))?;
            if checkpoint.size < old.size {
                return Err(crypto(format!(
                    "the log shrank from {} to {} entries since it was last checked: \
                     entries were removed",
                    old.size, checkpoint.size
                )));
            }
            (f, s.replay.clone())
        }
        None => (Frontier::new(), fresh),
    };
    let start = frontier.size();
    let mut problems = Vec::new();
    for bundle in tile::bundles(start, checkpoint.size, checkpoint.size) {
        let data = api.tile(&bundle)?;
        let entries = tile::decode_bundle(&data)
            .filter(|e| e.len() == usize::from(bundle.width))
            .ok_or_else(|| crypto(format!("the log's {bundle} is malformed")))?;
        for (i, e) in entries.iter().enumerate() {
            let index = bundle.first() + i as u64;
            if index < start || index >= checkpoint.size {
                continue;
            }
            frontier
                .push(merkle::leaf_hash(e))
                .ok_or_else(|| crypto("the log is too large"))?;
            match Leaf::decode(e) {
                Some(l) => problems.extend(replay.apply(&l)),
                None => {
                    // Counted in the tree, so the root still checks; the
                    // replay cannot use it.
                    replay.size += 1;
                    problems.push(format!("leaf {index}: not a well-formed Sotto leaf"));
                }
            }
        }
    }
    if frontier.size() != checkpoint.size || frontier.root() != checkpoint.root {
        return Err(crypto(
            "the log's entries do not add up to its signed checkpoint: \
             the log was rewritten since it was last checked, or the server shows a forked view",
        ));
    }
    Ok(Followed {
        state: LogState {
            key: v.to_string(),
            checkpoint: note,
            frontier: frontier.hashes().to_vec(),
            replay,
        },
        checkpoint,
        problems,
    })
}
