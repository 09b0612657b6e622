//! Who reads for each desk at one checkpoint, signed by the log, so that a
//! client's first contact does not replay the whole log.
//!
//! A client that has never followed a log would otherwise read every entry
//! from the first to learn the desks' rosters: megabytes at a hundred
//! thousand cases. Instead the server sends, for its latest checkpoint:
//! - every desk the log created, and on each the readers added and not
//!   removed since;
//! - for each reader, their `recipient-added` leaf, its index, and an
//!   inclusion proof to the checkpoint's root;
//! - the log key's signature over the checkpoint's size and root and the
//!   desks with their readers' indexes:
//!   `"sotto/v1/sig/log-rosters" ‖ 0x00 ‖ len(origin) (u16 BE) ‖ origin ‖ body`,
//!   where `body` is [`Rosters::body`].
//!
//! What the client can check alone: every reader listed was added to that
//! desk by a public leaf of the log (the proof), and the summary is the
//! log's word (the signature). What it cannot: that no later leaf removed
//! one of them, or that a desk has no other reader. For those it has the
//! log key's signed word, which `sotto audit log` checks against the whole
//! replay: a summary that differs from the log is evidence against the
//! server. From that checkpoint on, the client follows the log entry by
//! entry as before.

use std::collections::BTreeMap;

use sotto_envelope::sign::{Signature, SigningKey};
use sotto_wire::Day;

use crate::leaf::{Event, Leaf};
use crate::merkle::{self, Hash};
use crate::note::NoteVerifier;

/// What is wrong with a roster summary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRosters {
    /// The log key did not sign it.
    #[error("the log's roster summary does not verify with the log key")]
    Signature,
    /// A reader's leaf is not their addition to that desk, or is not where
    /// the summary says in the checkpoint's tree.
    #[error("the log's roster summary lists a reader whose addition the log does not prove: {0}")]
    Member(&'static str),
}

/// A reader on a desk: where the log added them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The index of their `recipient-added` leaf.
    pub index: u64,
    /// That leaf.
    pub leaf: Vec<u8>,
    /// Its inclusion proof in the tree of the summary's size.
    pub proof: Vec<Hash>,
}

/// The desks' rosters at one tree size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rosters {
    /// The tree size.
    pub size: u64,
    /// The tree's root.
    pub root: Hash,
    /// Per desk commitment, its readers by recipient commitment.
    pub desks: BTreeMap<Hash, BTreeMap<Hash, Member>>,
}

impl Rosters {
    /// The rosters after the log's desk events (`desk-created`,
    /// `recipient-added`, `recipient-removed`), given in log order with
    /// their indexes; other events are ignored. Proofs are left empty.
    pub fn replay(size: u64, root: Hash, events: impl IntoIterator<Item = (u64, Vec<u8>)>) -> Self {
        let mut desks: BTreeMap<Hash, BTreeMap<Hash, Member>> = BTreeMap::new();
        for (index, bytes) in events {
            let Some(leaf) = Leaf::decode(&bytes) else {
                continue;
            };
            match leaf.event {
                Event::DeskCreated { desk } => {
                    desks.entry(desk).or_default();
                }
                Event::RecipientAdded { desk, recipient } => {
                    desks.entry(desk).or_default().insert(
                        recipient,
                        Member {
                            index,
                            leaf: bytes,
                            proof: Vec::new(),
                        },
                    );
                }
                Event::RecipientRemoved { desk, recipient } => {
                    if let Some(r) = desks.get_mut(&desk) {
                        r.remove(&recipient);
                    }
                }
                _ => {}
            }
        }
        Self { size, root, desks }
    }

    /// What the signature covers: `size (u64 BE) ‖ root ‖ desks (u32 BE)`,
    /// then per desk in byte order `desk ‖ readers (u32 BE)`, then per
    /// reader in byte order `recipient ‖ index (u64 BE)`.
    pub fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(44 + self.desks.len() * 36);
        b.extend_from_slice(&self.size.to_be_bytes());
        b.extend_from_slice(&self.root);
        b.extend_from_slice(&count(self.desks.len()));
        for (desk, readers) in &self.desks {
            b.extend_from_slice(desk);
            b.extend_from_slice(&count(readers.len()));
            for (recipient, m) in readers {
                b.extend_from_slice(recipient);
                b.extend_from_slice(&m.index.to_be_bytes());
            }
        }
        b
    }

    /// Signs the summary with the log key of the log `origin`.
    pub fn sign(&self, key: &SigningKey, origin: &str) -> Signature {
        key.sign_log_rosters(origin, &self.body())
    }

    /// Checks the signature with the log's verifier key (whose name is the
    /// origin), and that each reader's leaf is their addition to that desk
    /// and sits at their index in the tree. Returns, per desk, each reader
    /// with the day the log added them.
    pub fn verify(
        &self,
        v: &NoteVerifier,
        signature: &Signature,
    ) -> Result<BTreeMap<Hash, BTreeMap<Hash, Day>>, BadRosters> {
        v.key()
            .verify_log_rosters(v.name(), &self.body(), signature)
            .map_err(|_| BadRosters::Signature)?;
        let mut out = BTreeMap::new();
        for (desk, readers) in &self.desks {
            let days: &mut BTreeMap<Hash, Day> = out.entry(*desk).or_default();
            for (recipient, m) in readers {
                let leaf = Leaf::decode(&m.leaf).ok_or(BadRosters::Member("not a leaf"))?;
                let added = Event::RecipientAdded {
                    desk: *desk,
                    recipient: *recipient,
                };
                if leaf.event != added {
                    return Err(BadRosters::Member("the leaf is another event"));
                }
                merkle::verify_inclusion(
                    m.index,
                    self.size,
                    &merkle::leaf_hash(&m.leaf),
                    &m.proof,
                    &self.root,
                )
                .map_err(|_| BadRosters::Member("the inclusion proof fails"))?;
                days.insert(*recipient, leaf.day);
            }
        }
        Ok(out)
    }
}

fn count(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{desk_commitment, recipient_commitment};
    use zeroize::Zeroizing;

    fn leaf(event: Event) -> Vec<u8> {
        Leaf {
            day: Day::parse("2026-03-04").unwrap(),
            event,
        }
        .encode()
    }

    /// A log of these leaves, its summary signed, and the verifier.
    fn signed(leaves: &[Vec<u8>]) -> (Rosters, Signature, NoteVerifier) {
        let key = SigningKey::from_seed(Zeroizing::new([9; 32]));
        let v = NoteVerifier::new("example.org/sotto", key.verifying_key()).unwrap();
        let hashes: Vec<Hash> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();
        let size = leaves.len() as u64;
        let mut nodes = |level: u32, i: u64| -> Result<Hash, std::convert::Infallible> {
            // A subtree's hash, from the leaf hashes.
            let width = 1u64 << level;
            let first = (i * width) as usize;
            let last = ((i + 1) * width).min(size) as usize;
            let mut f = merkle::Frontier::new();
            for h in &hashes[first..last] {
                f.push(*h);
            }
            Ok(f.root())
        };
        let root = merkle::root(size, &mut nodes).unwrap();
        let mut r = Rosters::replay(
            size,
            root,
            leaves
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, l)| (i as u64, l)),
        );
        for readers in r.desks.values_mut() {
            for m in readers.values_mut() {
                m.proof = merkle::inclusion_proof(m.index, size, &mut nodes).unwrap();
            }
        }
        let sig = r.sign(&key, "example.org/sotto");
        (r, sig, v)
    }

    #[test]
    fn a_summary_lists_the_readers_added_and_not_removed_with_their_days() {
        let (desk, other) = (desk_commitment("default"), desk_commitment("staff"));
        let (a, b) = (recipient_commitment("1"), recipient_commitment("2"));
        let leaves = [
            leaf(Event::DeskCreated { desk }),
            leaf(Event::DeskCreated { desk: other }),
            leaf(Event::RecipientAdded { desk, recipient: a }),
            leaf(Event::RecipientAdded { desk, recipient: b }),
            leaf(Event::RecipientRemoved { desk, recipient: a }),
        ];
        let (r, sig, v) = signed(&leaves);
        let days = r.verify(&v, &sig).unwrap();
        let day = Day::parse("2026-03-04").unwrap();
        assert_eq!(days[&desk], BTreeMap::from([(b, day)]));
        assert!(days[&other].is_empty(), "a desk with nobody is listed");
        assert_eq!(r.desks[&desk][&b].index, 3);
        // What a client then follows the log with.
        let replay = crate::Replay::from_rosters(r.size, &days);
        assert_eq!(replay.desks(), days);
        assert_eq!(replay.size, 5);
    }

    #[test]
    fn a_summary_that_hides_a_removal_or_adds_a_reader_fails() {
        let desk = desk_commitment("default");
        let (a, b) = (recipient_commitment("1"), recipient_commitment("2"));
        let leaves = [
            leaf(Event::DeskCreated { desk }),
            leaf(Event::RecipientAdded { desk, recipient: a }),
            leaf(Event::RecipientRemoved { desk, recipient: a }),
        ];
        let (r, sig, v) = signed(&leaves);
        // Keeping a removed reader on the list changes what was signed.
        let mut kept = r.clone();
        kept.desks.get_mut(&desk).unwrap().insert(
            a,
            Member {
                index: 1,
                leaf: leaves[1].clone(),
                proof: Vec::new(),
            },
        );
        assert_eq!(kept.verify(&v, &sig), Err(BadRosters::Signature));
        // A reader the log never added cannot be proven, even when signed.
        let key = SigningKey::from_seed(Zeroizing::new([9; 32]));
        let mut planted = r.clone();
        planted.desks.get_mut(&desk).unwrap().insert(
            b,
            Member {
                index: 1,
                leaf: leaves[1].clone(),
                proof: Vec::new(),
            },
        );
        let resigned = planted.sign(&key, "example.org/sotto");
        assert_eq!(
            planted.verify(&v, &resigned),
            Err(BadRosters::Member("the leaf is another event"))
        );
        let mut unproven = r.clone();
        let leaf_b = leaf(Event::RecipientAdded { desk, recipient: b });
        unproven.desks.get_mut(&desk).unwrap().insert(
            b,
            Member {
                index: 1,
                leaf: leaf_b,
                proof: Vec::new(),
            },
        );
        let resigned = unproven.sign(&key, "example.org/sotto");
        assert_eq!(
            unproven.verify(&v, &resigned),
            Err(BadRosters::Member("the inclusion proof fails"))
        );
        // Another log's key does not verify it.
        let other = SigningKey::from_seed(Zeroizing::new([8; 32]));
        let v2 = NoteVerifier::new("example.org/sotto", other.verifying_key()).unwrap();
        assert_eq!(r.verify(&v2, &sig), Err(BadRosters::Signature));
    }
}
