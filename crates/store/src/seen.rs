//! The replay guard's table, `seen_requests`: keyed hashes of the signed
//! desk requests the server accepted, so that a captured request works
//! once, even across a restart.
//!
//! A row holds a 32-byte tag and one of two generations, never a time. The
//! server (`src/auth.rs`) inserts into the current generation and, once per
//! period of two request windows, deletes the older one and starts filling
//! it again: every tag stays at least one period, longer than any request
//! stays fresh.

use rusqlite::params;

use crate::{get_u64, Result, Store};

/// One of the replay guard's two generations, stored as 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// Stored as 0.
    Zero,
    /// Stored as 1.
    One,
}

impl Generation {
    /// The other generation.
    pub fn other(self) -> Self {
        match self {
            Generation::Zero => Generation::One,
            Generation::One => Generation::Zero,
        }
    }

    fn stored(self) -> i64 {
        match self {
            Generation::Zero => 0,
            Generation::One => 1,
        }
    }
}

impl Store {
    /// Records `tag` in `generation`. False if the tag is already there, in
    /// either generation: the request was seen before. One statement, so
    /// two connections racing with the same tag cannot both get true.
    ///
    /// It does not wait for a sync of its own: every signed request writes
    /// one, and a sync each would cost a desk's read as much as a new case.
    /// The next case event's sync (see `durable`) covers it; a power cut
    /// can forget the tags since, which lets a request captured in those
    /// moments be replayed once after it.
    pub fn remember_request(&self, tag: &[u8; 32], generation: Generation) -> Result<bool> {
        let added = self
            .writer()?
            .turn()
            .prepare_cached(
                "INSERT INTO seen_requests (tag, generation) VALUES (?1, ?2)
             ON CONFLICT (tag) DO NOTHING",
            )?
            .execute(params![&tag[..], generation.stored()])?;
        Ok(added == 1)
    }

    /// Deletes every tag of `generation`; returns how many there were.
    pub fn forget_requests(&self, generation: Generation) -> Result<u64> {
        let gone = self
            .writer()?
            .turn()
            .prepare_cached("DELETE FROM seen_requests WHERE generation = ?1")?
            .execute([generation.stored()])?;
        Ok(gone as u64)
    }

    /// How many tags `generation` holds.
    pub fn remembered_requests(&self, generation: Generation) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM seen_requests WHERE generation = ?1",
            [generation.stored()],
            |r| get_u64(r, 0),
        )?)
    }
}
