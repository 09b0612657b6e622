//! The handles the server knows, in memory: a handle that names no case
//! is turned away without reading the database.
//!
//! A brigade of pollers sends two kinds of request over and over: handles
//! that name no case, and polls of a case that has not changed. Each used
//! to cost a read transaction, whose shared-memory locks the two workers
//! fought over (docs/benchmarks.md, profile item 13). Now neither reads
//! the database. An unknown handle is one whose keyed hash is not in the
//! set of every case's, which the server loads as it starts and adds each
//! new case to before that case's commit: a `404` at once. (The poll is a
//! `304` from the worker's memory of its tags: [`crate::routes::fresh`].)
//!
//! The set holds only keyed hashes of handles, as the database does, and
//! only in memory. Cases are opened only through the server (`POST
//! /v1/cases`), so it misses none; a restore is made into a new data
//! directory that a server then starts on.

use std::collections::HashSet;
use std::sync::{PoisonError, RwLock};

use sotto_store::{Store, StoreError};

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

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
