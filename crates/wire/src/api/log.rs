//! The bodies about the transparency log: following it (`/v1/log…`), and a
//! reporter's promise and receipt for their case's opening.

use serde::{Deserialize, Serialize};

/// The log's promise that a leaf will be in its next published checkpoint:
/// the leaf, and the log key's signature over the origin and the leaf's
/// hash (docs/transparency.md, section 7). No index, no tree size.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LogPromise {
    /// The case-opened leaf (docs/transparency.md).
    #[serde(with = "crate::b64")]
    pub leaf: Vec<u8>,
    /// The log key's Ed25519 signature (base64url) over
    /// `"sotto/v1/sig/log-promise" ‖ 0x00 ‖ len(origin) (u16 BE) ‖ origin ‖ leaf hash`.
    pub signature: String,
}

/// `GET /v1/reporter/case/receipt`: the promise, and the full receipt once
/// the batch holding the opening is published.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CaseReceipt {
    /// The log's promise for the case's opening (the same as at opening).
    pub promise: LogPromise,
    /// The receipt, or null while the opening waits for its batch.
    pub receipt: Option<Receipt>,
    /// While the receipt is null: seconds until the next batch is due, at
    /// most the checkpoint interval. Null once it is there.
    pub receipt_after_seconds: Option<u64>,
}

/// A signed receipt: the case-opened leaf, a published checkpoint of the
/// log that covers it, and the proof that it does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The leaf's position in the log, from 0.
    pub leaf_index: u64,
    /// The leaf itself (docs/transparency.md).
    #[serde(with = "crate::b64")]
    pub leaf: Vec<u8>,
    /// A C2SP checkpoint, as a signed note, of a tree that holds the leaf:
    /// the latest published one when the receipt was asked for.
    pub checkpoint: String,
    /// The inclusion proof of the leaf in that tree.
    #[serde(with = "crate::hashes")]
    pub inclusion_proof: Vec<[u8; 32]>,
}

/// `GET /v1/log`: what a client needs to follow the transparency log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogInfo {
    /// The origin line of every checkpoint.
    pub origin: String,
    /// The verifier key of the checkpoints, `name+id+base64(0x01 ‖ key)`.
    pub key: String,
    /// Leaves in the latest published checkpoint.
    pub size: u64,
    /// Seconds between published checkpoints.
    pub checkpoint_interval_seconds: u64,
    /// Days handlers have to acknowledge a report (for the statistics).
    pub acknowledge_days: i64,
    /// Desks with an acknowledgement deadline of their own: name → days.
    #[serde(default)]
    pub desk_acknowledge_days: std::collections::BTreeMap<String, i64>,
    /// Where the C2SP tlog-tiles resources are: `<prefix>/checkpoint`,
    /// `<prefix>/tile/…`.
    pub prefix: String,
}

/// `GET /v1/log/inclusion`: an inclusion proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The leaf index.
    pub index: u64,
    /// The tree size.
    pub size: u64,
    /// The audit path, leaf side first.
    #[serde(with = "crate::hashes")]
    pub proof: Vec<[u8; 32]>,
}

/// `GET /v1/log/consistency`: a consistency proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The older tree size.
    pub from: u64,
    /// The newer tree size.
    pub to: u64,
    /// The proof.
    #[serde(with = "crate::hashes")]
    pub proof: Vec<[u8; 32]>,
}

/// `GET /v1/log/frontier`: the perfect subtrees that make up a tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFrontier {
    /// The tree size.
    pub size: u64,
    /// One hash per set bit of `size`, largest subtree first.
    #[serde(with = "crate::hashes")]
    pub hashes: Vec<[u8; 32]>,
}

/// `GET /v1/log/rosters`: who reads for each desk at the latest published
/// checkpoint, signed by the log key, so that a client's first contact
/// need not replay the whole log (docs/transparency.md, section 7).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRosters {
    /// The checkpoint the rosters are at (a signed note).
    pub checkpoint: String,
    /// The frontier at the checkpoint's size, as `GET /v1/log/frontier`
    /// answers it: where a client follows the log from. Not signed: it
    /// must add up to the checkpoint's root.
    #[serde(with = "crate::hashes")]
    pub frontier: Vec<[u8; 32]>,
    /// Every desk the log created, in byte order of its commitment.
    pub desks: Vec<LogRosterDesk>,
    /// The log key's Ed25519 signature (base64url) over
    /// `"sotto/v1/sig/log-rosters" ‖ 0x00 ‖ len(origin) (u16 BE) ‖ origin ‖ body`
    /// (the body: docs/transparency.md).
    pub signature: String,
}

/// One desk of [`LogRosters`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRosterDesk {
    /// The desk's commitment (docs/transparency.md, section 2).
    #[serde(with = "crate::b64")]
    pub desk: Vec<u8>,
    /// Its readers at the checkpoint, in byte order of their commitment.
    pub readers: Vec<LogRosterReader>,
}

/// One reader of a [`LogRosterDesk`]: where the log added them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRosterReader {
    /// The index of their `recipient-added` leaf.
    pub index: u64,
    /// That leaf.
    #[serde(with = "crate::b64")]
    pub leaf: Vec<u8>,
    /// Its inclusion proof in the checkpoint's tree, leaf side first.
    #[serde(with = "crate::hashes")]
    pub proof: Vec<[u8; 32]>,
}
