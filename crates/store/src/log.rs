//! The transparency log in the database: every event row is a leaf, and
//! `log_nodes` holds the hash of every perfect subtree, appended in the same
//! transaction as the event. Proofs, roots, tiles and frontiers are read
//! from those rows; checkpoints are stored once signed.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sotto_envelope::sign::Direction;
use sotto_tlog::leaf::{self, Event, Kind, Leaf};
use sotto_tlog::merkle::{self, Frontier, Hash, ProofError};
use sotto_wire::{CaseState, Day};

use crate::{get_u64, Result, Store, StoreError};

/// An event as the `events` table holds it, besides its leaf. Unlike the
/// other rows, its values are kept as stored, not parsed: the auditor reads
/// it to report a planted or damaged value (a day that is not one, a state
/// Sotto never wrote), which a typed row would refuse to read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Position in the log, from 1 (leaf `seq - 1`), as stored: the auditor
    /// reads rows an operator may have tampered with, so it is not assumed
    /// positive.
    pub seq: i64,
    /// What happened.
    pub kind: String,
    /// Day, as stored (`YYYY-MM-DD` unless tampered with).
    pub on_day: String,
    /// Desk row id.
    pub desk_id: i64,
    /// Case id, if any.
    pub case_id: Option<Vec<u8>>,
    /// Recipient who acted or was added or removed.
    pub recipient_id: Option<String>,
    /// New state, for state changes, as stored.
    pub state: Option<String>,
    /// Message seq, for messages.
    pub message_seq: Option<i64>,
    /// SHA-256 of the envelope, for messages.
    pub envelope_hash: Option<Vec<u8>>,
    /// The stored leaf.
    pub leaf: Vec<u8>,
}

/// A published checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    /// Leaves covered.
    pub size: u64,
    /// The signed note.
    pub note: String,
    /// Day published.
    pub published_on: Day,
}

/// What an event to append says; its leaf is computed from it and the rows
/// it refers to.
pub(crate) struct NewEvent<'a> {
    pub kind: Kind,
    pub day: Day,
    pub desk_id: i64,
    pub case_id: Option<&'a [u8; 16]>,
    pub recipient_id: Option<&'a str>,
    pub state: Option<CaseState>,
    pub message_seq: Option<u64>,
    pub envelope_hash: Option<&'a [u8; 32]>,
}

impl<'a> NewEvent<'a> {
    /// A desk event: created, or a recipient added or removed.
    pub fn desk(kind: Kind, day: Day, desk_id: i64, recipient_id: Option<&'a str>) -> Self {
        Self {
            kind,
            day,
            desk_id,
            case_id: None,
            recipient_id,
            state: None,
            message_seq: None,
            envelope_hash: None,
        }
    }
}

fn invalid(what: &'static str) -> StoreError {
    StoreError::Invalid(what)
}

fn desk_name(conn: &Connection, desk_id: i64) -> Result<String> {
    conn.prepare_cached("SELECT name FROM desks WHERE id = ?1")?
        .query_row([desk_id], |r| r.get(0))
        .optional()?
        .ok_or(invalid("event names a desk that does not exist"))
}

fn case16(v: &[u8]) -> Result<[u8; 16]> {
    v.try_into().map_err(|_| invalid("case id is not 16 bytes"))
}

fn hash32(v: &[u8]) -> Result<[u8; 32]> {
    v.try_into().map_err(|_| invalid("hash is not 32 bytes"))
}

/// An event's day as stored, for the rows read untyped (the auditor's, a
/// migration's).
pub(crate) fn stored_day(on_day: &str) -> Result<Day> {
    Day::parse(on_day).ok_or(invalid("event day is not a day"))
}

/// The leaf an event must have, computed from the event row and the rows it
/// refers to: the desk's name, and for a case opening the case row and its
/// recipients (a case-opened event carries the report's envelope hash).
#[allow(clippy::too_many_arguments)]
pub(crate) fn leaf_for(
    conn: &Connection,
    kind: Kind,
    day: Day,
    desk_id: i64,
    case_id: Option<&[u8]>,
    recipient_id: Option<&str>,
    state: Option<CaseState>,
    message_seq: Option<i64>,
    envelope_hash: Option<&[u8]>,
) -> Result<Leaf> {
    let case = || -> Result<[u8; 16]> { case16(case_id.ok_or(invalid("event lacks its case"))?) };
    let recipient = || recipient_id.ok_or(invalid("event lacks its recipient"));
    let event = match kind {
        Kind::DeskCreated => Event::DeskCreated {
            desk: leaf::desk_commitment(&desk_name(conn, desk_id)?),
        },
        Kind::RecipientAdded => Event::RecipientAdded {
            desk: leaf::desk_commitment(&desk_name(conn, desk_id)?),
            recipient: leaf::recipient_commitment(recipient()?),
        },
        Kind::RecipientRemoved => Event::RecipientRemoved {
            desk: leaf::desk_commitment(&desk_name(conn, desk_id)?),
            recipient: leaf::recipient_commitment(recipient()?),
        },
        Kind::CaseOpened => {
            let id = case()?;
            let (x25519, ed25519): (String, Vec<u8>) = conn
                .prepare_cached(
                    "SELECT reporter_x25519, reporter_ed25519 FROM cases WHERE id = ?1",
                )?
                .query_row([&id[..]], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or(invalid(
                    "a case-opened event names a case that does not exist",
                ))?;
            let readers: Vec<String> = conn
                .prepare_cached(
                    "SELECT recipient_id FROM case_recipients WHERE case_id = ?1 ORDER BY recipient_id",
                )?
                .query_map([&id[..]], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let report =
                hash32(envelope_hash.ok_or(invalid("case-opened event lacks the report's hash"))?)?;
            Event::CaseOpened {
                desk: leaf::desk_commitment(&desk_name(conn, desk_id)?),
                case: leaf::case_commitment(&id),
                report: leaf::message_commitment(&id, 0, Direction::FromReporter, &report),
                readers: leaf::readers_commitment(&readers),
                reporter: leaf::reporter_commitment(&x25519, &hash32(&ed25519)?),
            }
        }
        Kind::MessagePosted => {
            let id = case()?;
            let seq = message_seq
                .and_then(|s| u64::try_from(s).ok())
                .ok_or(invalid("message event lacks its seq"))?;
            let direction = if recipient_id.is_some() {
                Direction::FromDesk
            } else {
                Direction::FromReporter
            };
            let h = hash32(envelope_hash.ok_or(invalid("message event lacks its hash"))?)?;
            Event::MessagePosted {
                case: leaf::case_commitment(&id),
                message: leaf::message_commitment(&id, seq, direction, &h),
            }
        }
        Kind::StateChanged => Event::StateChanged {
            case: leaf::case_commitment(&case()?),
            state: state.ok_or(invalid("state event lacks a valid state"))?,
        },
        Kind::CaseShared => Event::CaseShared {
            case: leaf::case_commitment(&case()?),
            recipient: leaf::recipient_commitment(recipient()?),
        },
        Kind::CaseErased => Event::CaseErased {
            case: leaf::case_commitment(&case()?),
        },
    };
    Ok(Leaf { day, event })
}

/// Every event row, in order.
pub(crate) fn event_rows(conn: &Connection) -> rusqlite::Result<Vec<EventRow>> {
    conn.prepare_cached(
        "SELECT seq, kind, on_day, desk_id, case_id, recipient_id, state, message_seq,
                envelope_hash, leaf
         FROM events ORDER BY seq",
    )?
    .query_map([], |r| {
        Ok(EventRow {
            seq: r.get(0)?,
            kind: r.get(1)?,
            on_day: r.get(2)?,
            desk_id: r.get(3)?,
            case_id: r.get(4)?,
            recipient_id: r.get(5)?,
            state: r.get(6)?,
            message_seq: r.get(7)?,
            envelope_hash: r.get(8)?,
            leaf: r.get(9)?,
        })
    })?
    .collect()
}

/// The leaf the other rows of the database say an event row must have.
pub(crate) fn expected_leaf(conn: &Connection, e: &EventRow) -> Result<Leaf> {
    let kind = Kind::parse(&e.kind).ok_or(invalid("unknown event kind"))?;
    leaf_for(
        conn,
        kind,
        stored_day(&e.on_day)?,
        e.desk_id,
        e.case_id.as_deref(),
        e.recipient_id.as_deref(),
        // A state that does not parse is as good as none: a state-changed
        // event without one has no leaf; other kinds carry none.
        e.state.as_deref().and_then(CaseState::parse),
        e.message_seq,
        e.envelope_hash.as_deref(),
    )
}

fn node(conn: &Connection, level: u32, idx: u64) -> rusqlite::Result<Hash> {
    let idx = i64::try_from(idx).map_err(|_| rusqlite::Error::QueryReturnedNoRows)?;
    let v: Vec<u8> = conn
        .prepare_cached("SELECT hash FROM log_nodes WHERE level = ?1 AND idx = ?2")?
        .query_row(params![level, idx], |r| r.get(0))?;
    v.as_slice().try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Blob,
            "hash length".into(),
        )
    })
}

/// Number of events, which is the tree size.
pub(crate) fn size(conn: &Connection) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM events")?
        .query_row([], |r| get_u64(r, 0))?)
}

/// Appends an event and its leaf and tree nodes; returns its leaf index.
pub(crate) fn append(tx: &Transaction<'_>, e: &NewEvent<'_>) -> Result<u64> {
    let index = size(tx)?;
    let seq = i64::try_from(index + 1).map_err(|_| invalid("the log is full"))?;
    let message_seq = e
        .message_seq
        .map(i64::try_from)
        .transpose()
        .map_err(|_| invalid("message seq out of range"))?;
    // A case opening's leaf reads the case row and its recipients, which
    // the caller inserted just before.
    let leaf = leaf_for(
        tx,
        e.kind,
        e.day,
        e.desk_id,
        e.case_id.map(|c| &c[..]),
        e.recipient_id,
        e.state,
        message_seq,
        e.envelope_hash.map(|h| &h[..]),
    )?
    .encode();
    tx.prepare_cached(
        "INSERT INTO events (seq, kind, on_day, desk_id, case_id, recipient_id, state,
                             message_seq, envelope_hash, leaf)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        seq,
        e.kind.as_str(),
        e.day,
        e.desk_id,
        e.case_id.map(|c| &c[..]),
        e.recipient_id,
        e.state,
        message_seq,
        e.envelope_hash.map(|h| &h[..]),
        leaf
    ])?;
    append_leaf(tx, index, &leaf)?;
    Ok(index)
}

/// Stores the tree nodes leaf `index` completes.
pub(crate) fn append_leaf(conn: &Connection, index: u64, leaf: &[u8]) -> Result<()> {
    let nodes = merkle::appended(index, merkle::leaf_hash(leaf), &mut |l, i| node(conn, l, i))?;
    for (level, idx, hash) in nodes {
        let idx = i64::try_from(idx).map_err(|_| invalid("the log is full"))?;
        conn.prepare_cached("INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")?
            .execute(params![level, idx, &hash[..]])?;
    }
    Ok(())
}

fn proof_error(e: ProofError<rusqlite::Error>) -> StoreError {
    match e {
        ProofError::OutOfRange => StoreError::NotFound,
        ProofError::Source(e) => e.into(),
    }
}

impl Store {
    /// Number of leaves in the log (events so far).
    pub fn log_size(&self) -> Result<u64> {
        size(&self.conn)
    }

    /// Number of events in the log.
    pub fn event_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM events")?
            .query_row([], |r| get_u64(r, 0))?)
    }

    /// The root hash of the first `size` leaves. `NotFound` past the end.
    pub fn log_root(&self, size: u64) -> Result<Hash> {
        if size > self.log_size()? {
            return Err(StoreError::NotFound);
        }
        Ok(merkle::root(size, &mut |l, i| node(&self.conn, l, i))?)
    }

    /// Inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        if size > self.log_size()? {
            return Err(StoreError::NotFound);
        }
        merkle::inclusion_proof(index, size, &mut |l, i| node(&self.conn, l, i))
            .map_err(proof_error)
    }

    /// Consistency proof from the tree of `old` leaves to that of `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        if new > self.log_size()? {
            return Err(StoreError::NotFound);
        }
        merkle::consistency_proof(old, new, &mut |l, i| node(&self.conn, l, i)).map_err(proof_error)
    }

    /// The frontier of the first `size` leaves.
    pub fn frontier(&self, size: u64) -> Result<Frontier> {
        if size > self.log_size()? {
            return Err(StoreError::NotFound);
        }
        Ok(Frontier::read(size, &mut |l, i| node(&self.conn, l, i))?)
    }

    /// `count` hashes of tree level `level` from subtree `from` (a tile).
    pub fn log_hashes(&self, level: u32, from: u64, count: u64) -> Result<Vec<Hash>> {
        let from = i64::try_from(from).map_err(|_| StoreError::NotFound)?;
        let count = i64::try_from(count).map_err(|_| StoreError::NotFound)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT hash FROM log_nodes WHERE level = ?1 AND idx >= ?2 AND idx < ?2 + ?3 ORDER BY idx",
        )?;
        let rows = stmt.query_map(params![level, from, count], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(hash32(&r?)?);
        }
        if out.len() as i64 != count {
            return Err(StoreError::NotFound);
        }
        Ok(out)
    }

    /// The desks' own leaves (created, reader added, reader removed) among
    /// the first `size`, with their 0-based indexes, in order. Through the
    /// index `events_of_desks`: as many rows as roster changes, whatever the
    /// number of cases.
    pub fn desk_events(&self, size: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        let size = i64::try_from(size).map_err(|_| StoreError::NotFound)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq - 1, leaf FROM events INDEXED BY events_of_desks
             WHERE case_id IS NULL AND seq <= ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![size], |r| Ok((get_u64(r, 0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Leaves `from..to` (0-based), in order.
    pub fn leaves(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>> {
        let (from, to) = (
            i64::try_from(from).map_err(|_| StoreError::NotFound)?,
            i64::try_from(to).map_err(|_| StoreError::NotFound)?,
        );
        let mut stmt = self
            .conn
            .prepare_cached("SELECT leaf FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq")?;
        let rows = stmt.query_map(params![from, to], |r| r.get(0))?;
        let out: Vec<Vec<u8>> = rows.collect::<rusqlite::Result<_>>()?;
        if out.len() as i64 != to - from {
            return Err(StoreError::NotFound);
        }
        Ok(out)
    }

    /// How many case events (not desk or recipient changes) follow the
    /// first `size` leaves.
    pub fn case_events_after(&self, size: u64) -> Result<u64> {
        let size = i64::try_from(size).map_err(|_| StoreError::NotFound)?;
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM events WHERE seq > ?1 AND case_id IS NOT NULL")?
            .query_row([size], |r| get_u64(r, 0))?)
    }

    /// Leaf indexes of a case's events, in order.
    pub fn case_leaf_indexes(&self, case: &[u8; 16]) -> Result<Vec<u64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq - 1 FROM events WHERE case_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([&case[..]], |r| get_u64(r, 0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every event row, in order (auditors, statistics).
    pub fn events(&self) -> Result<Vec<EventRow>> {
        Ok(event_rows(&self.conn)?)
    }

    /// The leaf the database's other rows say an event must have.
    pub fn expected_leaf(&self, e: &EventRow) -> Result<Leaf> {
        expected_leaf(&self.conn, e)
    }

    /// The latest published checkpoint, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT size, note, published_on FROM checkpoints ORDER BY size DESC LIMIT 1",
            )?
            .query_row([], |r| {
                Ok(CheckpointRow {
                    size: get_u64(r, 0)?,
                    note: r.get(1)?,
                    published_on: r.get(2)?,
                })
            })
            .optional()?)
    }

    /// Stores a published checkpoint. `Conflict` if one of that size exists
    /// or the log is not that large.
    pub fn insert_checkpoint(&mut self, size: u64, note: &str, day: Day) -> Result<()> {
        self.insert_checkpoint_if(size, note, day, |stored| size <= stored)
    }

    /// Stores a published checkpoint of the whole log as it is now:
    /// `Conflict` if an event was stored after `size` was read. So every
    /// published checkpoint holds every event stored before it, which is
    /// what a reporter's promise (docs/transparency.md, section 7) counts
    /// on: a checkpoint published after the promise holds its leaf.
    pub fn publish_checkpoint(&mut self, size: u64, note: &str, day: Day) -> Result<()> {
        self.insert_checkpoint_if(size, note, day, |stored| size == stored)
    }

    fn insert_checkpoint_if(
        &mut self,
        size: u64,
        note: &str,
        day: Day,
        fits: impl FnOnce(u64) -> bool,
    ) -> Result<()> {
        self.write(|tx| {
            if !fits(self::size(tx)?) {
                return Err(StoreError::Conflict("the log is not that size"));
            }
            let size = i64::try_from(size).map_err(|_| invalid("size out of range"))?;
            let n = tx.prepare_cached("INSERT OR IGNORE INTO checkpoints (size, note, published_on) VALUES (?1, ?2, ?3)")?.execute(params![size, note, day],
            )?;
            if n == 0 {
                return Err(StoreError::Conflict("a checkpoint of that size exists"));
            }
            Ok(())
        })
    }
}
