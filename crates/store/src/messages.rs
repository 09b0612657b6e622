//! Messages (`messages`): a case's thread, one envelope per message, each
//! appended only at the next position and logged with its hash.

use rusqlite::params;
use sotto_envelope::sign::Direction;
use sotto_tlog::leaf::Kind;
use sotto_wire::Day;

use crate::direction::StoredDirection;
use crate::{case_desk, get_u64, log, Result, Store, StoreError};

/// A message to insert.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Position in the thread; must be the next one.
    pub seq: u64,
    /// Who wrote it: the reporter or a desk member.
    pub direction: Direction,
    /// Author recipient id for desk messages.
    pub author: Option<&'a str>,
    /// The age file.
    pub envelope: &'a [u8],
    /// Its SHA-256, for the event log.
    pub envelope_hash: [u8; 32],
    /// 64 bytes.
    pub signature: &'a [u8],
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// Position in the thread.
    pub seq: u64,
    /// Who wrote it: the reporter or a desk member.
    pub direction: Direction,
    /// Author recipient id for desk messages.
    pub author: Option<String>,
    /// The age file.
    pub envelope: Vec<u8>,
    /// 64 bytes.
    pub signature: Vec<u8>,
    /// Day posted.
    pub posted_on: Day,
}

impl Store {
    /// A case's messages in thread order.
    pub fn messages(&self, id: &[u8; 16]) -> Result<Vec<MessageRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, direction, author, envelope, signature, posted_on
             FROM messages WHERE case_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([&id[..]], |r| {
            Ok(MessageRow {
                seq: get_u64(r, 0)?,
                direction: r.get::<_, StoredDirection>(1)?.0,
                author: r.get(2)?,
                envelope: r.get(3)?,
                signature: r.get(4)?,
                posted_on: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One page of a case's thread: the messages after `after` (from the
    /// first without it), in order, for as long as their envelopes fit in
    /// `budget` bytes, and always at least one. A page never holds more
    /// than `budget` bytes of envelopes or one envelope, whichever is
    /// larger; an envelope that would not fit is not read.
    pub fn messages_page(
        &self,
        id: &[u8; 16],
        after: Option<u64>,
        budget: usize,
    ) -> Result<Vec<MessageRow>> {
        Ok(self
            .messages_page_within(id, after, budget, usize::MAX, usize::MAX)?
            .unwrap_or_default())
    }

    /// [`Store::messages_page`] of at most `limit` messages (at least one),
    /// or `None` as soon as the page turns out to hold more than `most`
    /// bytes of envelopes: a caller that must stay quick reads at most
    /// `most` bytes, then leaves the page to others.
    pub fn messages_page_within(
        &self,
        id: &[u8; 16],
        after: Option<u64>,
        budget: usize,
        most: usize,
        limit: usize,
    ) -> Result<Option<Vec<MessageRow>>> {
        let from = match after {
            None => 0,
            Some(seq) => i64::try_from(seq).map_or(i64::MAX, |s| s.saturating_add(1)),
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, direction, author, length(envelope), envelope, signature, posted_on
             FROM messages WHERE case_id = ?1 AND seq >= ?2 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![&id[..], from])?;
        let mut page = Vec::new();
        let mut used = 0usize;
        while let Some(r) = rows.next()? {
            let size = usize::try_from(get_u64(r, 3)?).unwrap_or(usize::MAX);
            if !page.is_empty() && (page.len() >= limit || used.saturating_add(size) > budget) {
                break;
            }
            used = used.saturating_add(size);
            if used > most {
                return Ok(None);
            }
            page.push(MessageRow {
                seq: get_u64(r, 0)?,
                direction: r.get::<_, StoredDirection>(1)?.0,
                author: r.get(2)?,
                envelope: r.get(4)?,
                signature: r.get(5)?,
                posted_on: r.get(6)?,
            });
        }
        Ok(Some(page))
    }

    /// How many messages `direction` posted to a case on `day`, and their
    /// envelopes' bytes in all: what a day's quota counts.
    pub fn posted_on(&self, case: &[u8; 16], day: Day, direction: Direction) -> Result<(u64, u64)> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT count(*), coalesce(sum(length(envelope)), 0)
             FROM messages WHERE case_id = ?1 AND posted_on = ?2 AND direction = ?3",
        )?;
        Ok(
            stmt.query_row(params![&case[..], day, StoredDirection(direction)], |r| {
                Ok((get_u64(r, 0)?, get_u64(r, 1)?))
            })?,
        )
    }

    /// Appends a message. `Conflict` if `seq` is not the next in the thread
    /// (someone else posted first, or a replay).
    pub fn insert_message(&mut self, case: &[u8; 16], m: &NewMessage<'_>, day: Day) -> Result<()> {
        self.write(|tx| {
            let desk_id = case_desk(tx, case)?;
            insert_message(tx, case, desk_id, m, day)
        })
    }

    /// Appends many messages, each to its case as [`Store::insert_message`]
    /// appends one, in order, in one transaction. All or none: if one is
    /// refused, none of the batch is stored.
    ///
    /// For filling a large database quickly (the load benchmark's follow-ups,
    /// `examples/load.rs`): one commit, and one wait for the disk, for the
    /// whole batch. The server stores each message in its own transaction.
    pub fn insert_messages(
        &mut self,
        messages: &[([u8; 16], NewMessage<'_>)],
        day: Day,
    ) -> Result<()> {
        self.write(|tx| {
            for (case, m) in messages {
                let desk_id = case_desk(tx, case)?;
                insert_message(tx, case, desk_id, m, day)?;
            }
            Ok(())
        })
    }
}

pub(crate) fn insert_message(
    tx: &rusqlite::Transaction<'_>,
    case: &[u8; 16],
    desk_id: i64,
    m: &NewMessage<'_>,
    day: Day,
) -> Result<()> {
    let next: u64 = tx
        .prepare_cached("SELECT count(*) FROM messages WHERE case_id = ?1")?
        .query_row([&case[..]], |r| get_u64(r, 0))?;
    if m.seq != next {
        return Err(StoreError::Conflict(
            "the thread has moved on: fetch it and sign again",
        ));
    }
    let seq =
        i64::try_from(m.seq).map_err(|_| StoreError::Conflict("sequence number out of range"))?;
    tx.prepare_cached(
        "INSERT INTO messages (case_id, seq, direction, author, envelope, signature, posted_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        &case[..],
        seq,
        StoredDirection(m.direction),
        m.author,
        m.envelope,
        m.signature,
        day
    ])?;
    log::append(
        tx,
        &log::NewEvent {
            kind: Kind::MessagePosted,
            day,
            desk_id,
            case_id: Some(case),
            recipient_id: m.author,
            state: None,
            message_seq: Some(m.seq),
            envelope_hash: Some(&m.envelope_hash),
        },
    )?;
    Ok(())
}
