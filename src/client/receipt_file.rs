//! The receipt file a reporter keeps beside the token, checked on its own
//! and against the log as published now.
//!
//! Version 2, written since receipts wait for the published log: the log's
//! *promise* for the case's opening (the leaf, signed by the log key,
//! naming no index and no size), given when the case opened; the size of
//! the published log the client saw just after; and, once the batch holding
//! the opening was published, the *receipt* (a published checkpoint, the
//! leaf's index, its inclusion proof), which the status check fetches and
//! adds. Version 1, written before: a receipt signed when the case opened,
//! at the log's size then. Both are read.

use serde::{Deserialize, Serialize};
use sotto_envelope::sign::Signature;
use sotto_tlog::leaf::{self, Event, Leaf};
use sotto_tlog::merkle::{self, Hash};
use sotto_tlog::{Checkpoint, NoteVerifier};
use sotto_wire::api::{LogPromise, Receipt};
use sotto_wire::Day;

use super::log::latest;
use super::{Api, ClientError};

/// The version of the receipt files this client writes.
pub const RECEIPT_FILE_VERSION: u32 = 2;

fn crypto(s: impl Into<String>) -> ClientError {
    ClientError::Crypto(s.into())
}

/// A receipt as the reporter keeps it, beside the token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFile {
    /// Format version: 2 (a promise, completed by a receipt once
    /// published), or 1 (a receipt signed at opening).
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
    /// Version 2: the log's promise to publish the opening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promise: Option<LogPromise>,
    /// Version 2: the size of the published log just after the promise was
    /// given. Every checkpoint published later is larger, and must hold
    /// the promised leaf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at_promise: Option<u64>,
    /// The receipt: in version 1 always; in version 2 once the batch
    /// holding the opening was published (null before).
    #[serde(default)]
    pub receipt: Option<Receipt>,
}

/// A receipt's checkpoint and the leaf's place in it.
#[derive(Debug, Clone)]
pub struct Included {
    /// The checkpoint the receipt holds.
    pub checkpoint: Checkpoint,
    /// The leaf's index.
    pub entry: u64,
    /// Whether that checkpoint was published (version 2) rather than
    /// signed for this reporter alone (version 1): a published log is never
    /// smaller than it later.
    pub published: bool,
}

/// What a verified receipt file says.
#[derive(Debug, Clone)]
pub struct VerifiedReceipt {
    /// The log key.
    pub verifier: NoteVerifier,
    /// The leaf's hash.
    pub leaf_hash: Hash,
    /// The case-opened leaf.
    pub leaf: Leaf,
    /// The receipt's checkpoint and index, if the file holds a receipt.
    pub included: Option<Included>,
}

/// The facts a case-opened leaf commits to.
#[derive(Debug, Clone)]
pub struct Opening<'a> {
    /// The case id.
    pub case: &'a [u8; 16],
    /// The desk's name.
    pub desk: &'a str,
}

/// Checks a receipt file on its own: the promise's signature, the
/// receipt's checkpoint and inclusion proof, that both are for the same
/// leaf, the leaf's form, and that it opens `expected`'s case at its desk.
pub fn verify_receipt(
    file: &ReceiptFile,
    expected: &Opening<'_>,
) -> Result<VerifiedReceipt, String> {
    let verifier = NoteVerifier::parse(&file.log_key)
        .map_err(|e| format!("the receipt's log key is malformed ({e})"))?;
    let leaf_bytes = match (file.version, &file.promise, &file.receipt) {
        (1, None, Some(r)) => &r.leaf,
        (2, Some(p), r) => {
            let signature =
                Signature::parse(&p.signature).ok_or("the log's promise is malformed")?;
            sotto_tlog::promise::verify(&verifier, &p.leaf, &signature)
                .map_err(|_| "the log's promise does not verify with the log key")?;
            if r.as_ref().is_some_and(|r| r.leaf != p.leaf) {
                return Err(
                    "the receipt is for another entry than the one the log promised".into(),
                );
            }
            &p.leaf
        }
        (1 | 2, _, _) => return Err("the receipt file is incomplete".into()),
        (v, _, _) => {
            return Err(format!(
                "a receipt file of version {v}, which this sotto does not know: update it"
            ))
        }
    };
    let leaf = Leaf::decode(leaf_bytes).ok_or("the receipt's leaf is malformed")?;
    match &leaf.event {
        Event::CaseOpened { case, desk, .. }
            if *case == leaf::case_commitment(expected.case)
                && *desk == leaf::desk_commitment(expected.desk) => {}
        _ => return Err("the receipt's leaf is not the opening of this case at this desk".into()),
    }
    let leaf_hash = merkle::leaf_hash(leaf_bytes);
    let included = match &file.receipt {
        None => None,
        Some(r) => {
            let checkpoint = Checkpoint::open(&r.checkpoint, &verifier)
                .map_err(|e| format!("the receipt's checkpoint does not verify ({e})"))?;
            merkle::verify_inclusion(
                r.leaf_index,
                checkpoint.size,
                &leaf_hash,
                &r.inclusion_proof,
                &checkpoint.root,
            )
            .map_err(|_| "the receipt's inclusion proof does not verify".to_owned())?;
            Some(Included {
                checkpoint,
                entry: r.leaf_index,
                published: file.version >= 2,
            })
        }
    };
    Ok(VerifiedReceipt {
        verifier,
        leaf_hash,
        leaf,
        included,
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
    /// The batch holding the opening is not published yet; checked next
    /// time.
    NotYetPublished {
        /// The entry, if known (a version 1 receipt names it; a promise
        /// does not).
        entry: Option<u64>,
        /// The published size.
        published: u64,
        /// Seconds until the next batch is due, if the server said.
        receipt_after_seconds: Option<u64>,
    },
    /// The log promised to publish the opening, has published a checkpoint
    /// since, and the server cannot show the opening in it.
    PromiseBroken {
        /// The published size.
        published: u64,
    },
}

/// The size of the latest published checkpoint, opened with `v`; 0 before
/// the first.
pub fn published_size(api: &Api, v: &NoteVerifier) -> Result<u64, ClientError> {
    match latest(api, v) {
        Ok((_, c)) => Ok(c.size),
        Err(ClientError::Server { status: 404, .. }) => Ok(0),
        Err(e) => Err(e),
    }
}

/// Checks a verified receipt against the latest published checkpoint: the
/// log must still hold the leaf, and must extend the receipt's tree.
pub fn standing(api: &Api, v: &VerifiedReceipt) -> Result<ReceiptStanding, ClientError> {
    let Some(inc) = &v.included else {
        return Ok(ReceiptStanding::NotYetPublished {
            entry: None,
            published: published_size(api, &v.verifier)?,
            receipt_after_seconds: None,
        });
    };
    let entry = inc.entry;
    let (_, now) = latest(api, &v.verifier)?;
    let old = &inc.checkpoint;
    if now.size < old.size && !inc.published {
        return Ok(ReceiptStanding::NotYetPublished {
            entry: Some(entry),
            published: now.size,
            receipt_after_seconds: None,
        });
    }
    if now.size < old.size {
        return Err(crypto(format!(
            "the log's latest checkpoint ({} entries) is older than the published one your \
             receipt holds ({} entries): the log was rolled back, or the server shows you a fork",
            now.size, old.size
        )));
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

#[cfg(test)]
mod tests {
    use super::*;
    use sotto_envelope::sign::SigningKey;
    use zeroize::Zeroizing;

    const ORIGIN: &str = "example.org/sotto";

    fn opening_leaf() -> Leaf {
        Leaf {
            day: Day::parse("2026-11-22").unwrap(),
            event: Event::CaseOpened {
                desk: leaf::desk_commitment("default"),
                case: leaf::case_commitment(&[7; 16]),
                report: [1; 32],
                readers: [2; 32],
                reporter: [3; 32],
            },
        }
    }

    fn promised(key: &SigningKey, leaf: &[u8]) -> ReceiptFile {
        let v = NoteVerifier::new(ORIGIN, key.verifying_key()).unwrap();
        ReceiptFile {
            version: 2,
            server: "http://127.0.0.1:1".into(),
            case: "07".repeat(16),
            desk: "default".into(),
            opened: Day::parse("2026-11-22").unwrap(),
            log_key: v.to_string(),
            promise: Some(LogPromise {
                leaf: leaf.to_vec(),
                signature: sotto_tlog::promise::sign(key, ORIGIN, leaf).to_string(),
            }),
            published_at_promise: Some(4),
            receipt: None,
        }
    }

    fn opening() -> Opening<'static> {
        Opening {
            case: &[7; 16],
            desk: "default",
        }
    }

    #[test]
    fn a_promise_alone_verifies_and_names_no_entry() {
        let key = SigningKey::from_seed(Zeroizing::new([1; 32]));
        let file = promised(&key, &opening_leaf().encode());
        let v = verify_receipt(&file, &opening()).unwrap();
        assert!(v.included.is_none());
        assert_eq!(v.leaf, opening_leaf());
        // It round-trips through its JSON.
        let back: ReceiptFile =
            serde_json::from_str(&serde_json::to_string(&file).unwrap()).unwrap();
        assert_eq!(back, file);
    }

    #[test]
    fn a_promise_by_another_key_or_for_another_case_is_refused() {
        let key = SigningKey::from_seed(Zeroizing::new([1; 32]));
        let mut file = promised(&key, &opening_leaf().encode());
        let other = SigningKey::from_seed(Zeroizing::new([2; 32]));
        file.log_key = NoteVerifier::new(ORIGIN, other.verifying_key())
            .unwrap()
            .to_string();
        let why = verify_receipt(&file, &opening()).unwrap_err();
        assert!(why.contains("does not verify"), "{why}");

        let file = promised(&key, &opening_leaf().encode());
        let why = verify_receipt(
            &file,
            &Opening {
                case: &[8; 16],
                desk: "default",
            },
        )
        .unwrap_err();
        assert!(why.contains("not the opening of this case"), "{why}");
    }

    #[test]
    fn a_receipt_for_another_leaf_than_the_promised_one_is_refused() {
        let key = SigningKey::from_seed(Zeroizing::new([1; 32]));
        let mut file = promised(&key, &opening_leaf().encode());
        let other = vec![9u8; 40];
        let root = merkle::leaf_hash(&other);
        file.receipt = Some(Receipt {
            leaf_index: 0,
            leaf: other,
            checkpoint: Checkpoint {
                origin: ORIGIN.into(),
                size: 1,
                root,
            }
            .sign(&key)
            .unwrap(),
            inclusion_proof: vec![],
        });
        let why = verify_receipt(&file, &opening()).unwrap_err();
        assert!(
            why.contains("another entry than the one the log promised"),
            "{why}"
        );
    }

    #[test]
    fn a_file_of_an_unknown_version_or_without_its_parts_is_refused() {
        let key = SigningKey::from_seed(Zeroizing::new([1; 32]));
        let mut file = promised(&key, &opening_leaf().encode());
        file.version = 3;
        assert!(verify_receipt(&file, &opening())
            .unwrap_err()
            .contains("version 3"));
        file.version = 1;
        assert!(verify_receipt(&file, &opening())
            .unwrap_err()
            .contains("incomplete"));
    }
}
