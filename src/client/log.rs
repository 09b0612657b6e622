//! The transparency log from the client's side: following it from a
//! verified position, and checking receipts.
//!
//! A client keeps a [`LogState`]: the log's key, the last checkpoint it
//! verified, that tree's frontier, and the replay of its leaves. To move on,
//! it fetches the latest checkpoint, checks the signature with the key it
//! already has, downloads the entry bundles that follow, appends every leaf
//! to the frontier and compares the root with the checkpoint's. If they
//! match, the old tree is a prefix of the new one (nothing was removed or
//! rewritten) and every new leaf is where the log says: no proof is needed.

use serde::{Deserialize, Serialize};
use sotto_tlog::leaf::{self, Event, Leaf};
use sotto_tlog::merkle::{self, Frontier, Hash};
use sotto_tlog::tile;
use sotto_tlog::{Checkpoint, NoteVerifier, Replay};
use sotto_wire::api::Receipt;
use sotto_wire::Day;

use super::{Api, ClientError};

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
    /// What the leaves up to there say.
    pub replay: Replay,
}

/// The result of following the log.
#[derive(Debug)]
pub struct Followed {
    /// The new position.
    pub state: LogState,
    /// The checkpoint it is at.
    pub checkpoint: Checkpoint,
    /// The leaves read, with their indexes.
    pub leaves: Vec<(u64, Leaf)>,
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
    let mut leaves = Vec::new();
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
                Some(l) => {
                    problems.extend(replay.apply(&l));
                    leaves.push((index, l));
                }
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
        leaves,
        problems,
    })
}

/// A receipt as the reporter keeps it, beside the token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFile {
    /// Format version, 1.
    pub version: u32,
    /// The server it came from.
    pub server: String,
    /// The case id.
    pub case: String,
    /// The desk.
    pub desk: String,
    /// Day opened.
    pub opened: Day,
    /// The log's verifier key when the case opened.
    pub log_key: String,
    /// The receipt.
    pub receipt: Receipt,
}

/// What a verified receipt says.
#[derive(Debug, Clone)]
pub struct VerifiedReceipt {
    /// The log key.
    pub verifier: NoteVerifier,
    /// The checkpoint signed for the receipt.
    pub checkpoint: Checkpoint,
    /// The leaf's hash.
    pub leaf_hash: Hash,
    /// The case-opened leaf.
    pub leaf: Leaf,
}

/// The facts a case-opened leaf commits to.
#[derive(Debug, Clone)]
pub struct Opening<'a> {
    /// The case id.
    pub case: &'a [u8; 16],
    /// The desk's name.
    pub desk: &'a str,
}

/// Checks a receipt on its own: the checkpoint's signature, the leaf's
/// form, that it opens `expected`'s case at its desk, and the inclusion
/// proof.
pub fn verify_receipt(
    file: &ReceiptFile,
    expected: &Opening<'_>,
) -> Result<VerifiedReceipt, String> {
    let verifier = NoteVerifier::parse(&file.log_key)
        .map_err(|e| format!("the receipt's log key is malformed ({e})"))?;
    let r = &file.receipt;
    let checkpoint = Checkpoint::open(&r.checkpoint, &verifier)
        .map_err(|e| format!("the receipt's checkpoint does not verify ({e})"))?;
    let leaf = Leaf::decode(&r.leaf).ok_or("the receipt's leaf is malformed")?;
    match &leaf.event {
        Event::CaseOpened { case, desk, .. }
            if *case == leaf::case_commitment(expected.case)
                && *desk == leaf::desk_commitment(expected.desk) => {}
        _ => return Err("the receipt's leaf is not the opening of this case at this desk".into()),
    }
    let leaf_hash = merkle::leaf_hash(&r.leaf);
    merkle::verify_inclusion(
        r.leaf_index,
        checkpoint.size,
        &leaf_hash,
        &r.inclusion_proof,
        &checkpoint.root,
    )
    .map_err(|_| "the receipt's inclusion proof does not verify".to_owned())?;
    Ok(VerifiedReceipt {
        verifier,
        checkpoint,
        leaf_hash,
        leaf,
    })
}

/// Where a receipt stands against the log as published now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptStanding {
    /// The published log holds the case's opening, and is consistent with
    /// the receipt's checkpoint.
    Included {
        /// The entry.
        entry: u64,
        /// The published size checked against.
        size: u64,
    },
    /// The receipt's checkpoint is newer than the latest published one
    /// (checkpoints are published in batches); checked next time.
    NotYetPublished {
        /// The entry.
        entry: u64,
        /// The published size.
        published: u64,
    },
}

/// Checks a verified receipt against the latest published checkpoint: the
/// log must still hold the leaf, and must extend the receipt's tree.
pub fn standing(
    api: &Api,
    v: &VerifiedReceipt,
    entry: u64,
) -> Result<ReceiptStanding, ClientError> {
    let (_, now) = latest(api, &v.verifier)?;
    let old = &v.checkpoint;
    if now.size < old.size {
        return Ok(ReceiptStanding::NotYetPublished {
            entry,
            published: now.size,
        });
    }
    let consistent = if now.size == old.size {
        now.root == old.root
    } else {
        let p = api.consistency_proof(old.size, now.size)?;
        merkle::verify_consistency(old.size, now.size, &old.root, &now.root, &p.proof).is_ok()
    };
    if !consistent {
        return Err(crypto(format!(
            "the log is not consistent with your receipt: the tree of {} entries your receipt \
             was signed for is not part of today's log. The log was rewritten",
            old.size
        )));
    }
    let p = api.inclusion_proof(entry, now.size)?;
    merkle::verify_inclusion(entry, now.size, &v.leaf_hash, &p.proof, &now.root).map_err(|_| {
        crypto(format!(
            "the log no longer proves that your case was opened (entry {entry}): it was rewritten"
        ))
    })?;
    Ok(ReceiptStanding::Included {
        entry,
        size: now.size,
    })
}
