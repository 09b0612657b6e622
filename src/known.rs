//! What the server answers from memory, without reading the database:
//! whether it may know a handle at all ([`KnownHandles`]), and the tags of
//! the cases each worker answered lately ([`Recall`]).
//!
//! A brigade of pollers sends two kinds of request over and over: handles
//! that name no case, and polls of a case that has not changed. Each used
//! to cost a read transaction, whose shared-memory locks the two workers
//! fought over (docs/benchmarks.md, profile item 13). Now neither reads
//! the database:
//!
//! - An unknown handle is one whose keyed hash is not in the set of every
//!   case's, which the server loads as it starts and adds each new case to
//!   before that case's commit. A `404` at once.
//! - A poll whose `If-None-Match` holds the tag this worker last made for
//!   that case is a `304`, if nothing was written to the database since.
//!   Every write of the server passes through one connection, which counts
//!   them; a write of another process (`sotto admin set-deadlines`, beside
//!   the server) is counted within a second ([`sotto_store::Changes`]).
//!
//! Both hold only keyed hashes of handles, as the database does, and only
//! in memory. Cases are opened only through the server (`POST /v1/cases`),
//! so the set misses none; a restore is made into a new data directory
//! that a server then starts on.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{PoisonError, RwLock};

use sotto_store::{Changes, Store, StoreError};

use crate::routes::fresh::CaseTag;

/// The handle hashes of every case, by their first eight bytes: a filter
/// that may say yes to a handle no case has (one in 2^64 for a random one,
/// or one whose opening was refused after it was added), never no to one
/// that a case has. Cases are never deleted, so nothing leaves it. Eight
/// bytes a case and the table's own: about 1.2 MB for 100,000 cases.
#[derive(Debug, Default)]
pub struct KnownHandles(RwLock<HashSet<u64>>);

impl KnownHandles {
    /// Every case's handle hash in `store`.
    pub fn load(store: &Store) -> Result<Self, StoreError> {
        let mut set = HashSet::new();
        store.each_handle_hash(|hash| {
            set.insert(key(hash));
        })?;
        Ok(Self(RwLock::new(set)))
    }

    /// Adds a handle hash: before the commit of the case it opens, so no
    /// poll can find the case written and its handle unknown.
    pub fn add(&self, hash: &[u8; 32]) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key(hash));
    }

    /// False if no case has this handle hash; true if one may.
    pub fn may_know(&self, hash: &[u8; 32]) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&key(hash))
    }
}

/// The set's key: the hash's first eight bytes. The hash is an HMAC under
/// the server's pepper, so these are as good as random, and no one
/// without the pepper can choose handles whose keys collide.
fn key(hash: &[u8; 32]) -> u64 {
    let mut first = [0; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(first)
}

/// The most tags one worker keeps: a worker that would keep more starts
/// again from none. 44 bytes a tag: about 3 MiB a worker when full.
const RECALLED: usize = 56 << 10;

/// The tags one worker made lately, by handle hash, all made while the
/// change count was `under`.
#[derive(Debug, Default)]
struct Tags {
    under: u64,
    tags: HashMap<[u8; 32], CaseTag>,
}

thread_local! {
    static TAGS: RefCell<Tags> = RefCell::new(Tags::default());
}

/// This worker's memory of the tags it made, as of one moment: take it
/// before reading the database, so that whatever is read after is at
/// least as new as the count it is kept under.
#[derive(Debug, Clone, Copy)]
pub struct Recall {
    changes: u64,
}

impl Recall {
    /// The memory as of now.
    pub fn now(changes: &Changes) -> Self {
        Self {
            changes: changes.now(),
        }
    }

    /// The tag last made on this worker for the case of `hash`, if nothing
    /// was written since.
    pub fn tag(self, hash: &[u8; 32]) -> Option<CaseTag> {
        TAGS.with(|t| {
            let t = t.borrow();
            (t.under == self.changes)
                .then(|| t.tags.get(hash).copied())
                .flatten()
        })
    }

    /// Keeps `tag`, made from reads that began after this recall, for the
    /// case of `hash`. A tag made under an older count than the worker's
    /// newest is not kept: a write may have come between.
    pub fn keep(self, hash: &[u8; 32], tag: CaseTag) {
        TAGS.with(|t| {
            let mut t = t.borrow_mut();
            if self.changes < t.under {
                return;
            }
            if self.changes > t.under || t.tags.len() >= RECALLED {
                t.tags.clear();
                t.under = self.changes;
            }
            t.tags.insert(*hash, tag);
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn tag(n: u8) -> CaseTag {
        CaseTag::from_digest(&[n; 32])
    }

    #[test]
    fn a_tag_is_recalled_only_while_nothing_was_written() {
        // Each test runs on its own thread, with its own memory.
        let (a, b) = ([1; 32], [2; 32]);
        let first = Recall { changes: 5 };
        assert_eq!(first.tag(&a), None);
        first.keep(&a, tag(1));
        assert_eq!(first.tag(&a), Some(tag(1)));
        assert_eq!(first.tag(&b), None, "by handle");

        // A write: nothing made before it is recalled.
        let written = Recall { changes: 6 };
        assert_eq!(written.tag(&a), None);
        // A tag read before that write, kept after a newer one: not kept.
        written.keep(&b, tag(2));
        first.keep(&a, tag(3));
        assert_eq!(written.tag(&a), None);
        assert_eq!(written.tag(&b), Some(tag(2)));
    }

    #[test]
    fn a_full_memory_starts_again_from_none() {
        let now = Recall { changes: 1 };
        for n in 0..RECALLED {
            let mut hash = [0; 32];
            hash[..8].copy_from_slice(&(n as u64).to_le_bytes());
            now.keep(&hash, tag(1));
        }
        let first = [0; 32];
        assert_eq!(now.tag(&first), Some(tag(1)));
        now.keep(&[0xff; 32], tag(2));
        assert_eq!(now.tag(&first), None);
        assert_eq!(now.tag(&[0xff; 32]), Some(tag(2)));
        TAGS.with(|t| assert_eq!(t.borrow().tags.len(), 1));
    }

    #[test]
    fn a_handle_is_known_once_its_case_is_or_is_being_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sotto.db");
        let store = Store::open(&path).unwrap();
        let known = KnownHandles::load(&store).unwrap();
        let hash = [7; 32];
        assert!(!known.may_know(&hash));
        known.add(&hash);
        assert!(known.may_know(&hash));
        // Only the first eight bytes count: a filter, not an authority.
        let mut near = hash;
        near[31] ^= 1;
        assert!(known.may_know(&near));
        near[0] ^= 1;
        assert!(!known.may_know(&near));
    }
}
