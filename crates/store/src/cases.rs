//! Cases (`cases`, `case_recipients`, `case_excluded`): opening one,
//! finding one, who reads it, its states, an inbox, and erasure under the
//! retention policy. A case's state and dates are derived from the event
//! log, never stored beside it.

use rusqlite::{params, Connection, OptionalExtension};
use sotto_envelope::sign::Direction;
use sotto_tlog::leaf::Kind;
use sotto_wire::{CaseState, Day};

use crate::desks::DeskDeadlines;
use crate::messages::{insert_message, NewMessage};
use crate::recipients::{recipient_row, RecipientRow};
use crate::{case_desk, get_u64, log, Result, Store, StoreError};

/// A case, with its current state derived from the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    /// 16 random bytes.
    pub id: [u8; 16],
    /// The desk's name.
    pub desk: String,
    /// The desk's row id.
    pub desk_id: i64,
    /// `age1…`.
    pub reporter_x25519: String,
    /// 32 bytes.
    pub reporter_ed25519: Vec<u8>,
    /// Day opened.
    pub opened_on: Day,
    /// Latest state.
    pub state: CaseState,
    /// Day of the latest event.
    pub updated_on: Day,
    /// Day of the latest event by a desk member (a reply or a state change),
    /// if any: deadlines run from it.
    pub desk_updated_on: Option<Day>,
    /// Day of the first reply or state change by a desk member, if any: the
    /// feedback deadline runs from it.
    pub desk_first_on: Option<Day>,
    /// Number of messages (0 once erased).
    pub message_count: u64,
    /// When and where in the log the case was erased, if it was.
    pub erased: Option<Erasure>,
    /// The log position of the case's latest event: every change to the
    /// case (a message, a share, a state, its erasure) is an event, so this
    /// changes whenever the case does.
    pub version: u64,
    /// The desk's own deadlines, if it has any (else the server's
    /// defaults hold): read with the row, for the dates owed on it.
    pub desk_deadlines: Option<DeskDeadlines>,
}

/// What a case's entity tag is made of: enough to tell whether it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseVersion {
    /// 16 random bytes.
    pub id: [u8; 16],
    /// The log position of the case's latest event (see [`CaseRow::version`]).
    pub version: u64,
    /// Where in the log the case was erased, if it was.
    pub erased_entry: Option<u64>,
    /// The desk's own deadlines (see [`CaseRow::desk_deadlines`]).
    pub desk_deadlines: Option<DeskDeadlines>,
}

impl CaseRow {
    /// What the row's entity tag is made of.
    pub fn case_version(&self) -> CaseVersion {
        CaseVersion {
            id: self.id,
            version: self.version,
            erased_entry: self.erased.as_ref().map(|e| e.entry),
            desk_deadlines: self.desk_deadlines,
        }
    }
}

/// A case's erasure under the retention policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// Day erased.
    pub on_day: Day,
    /// The case-erased leaf's index in the log.
    pub entry: u64,
}

/// One state in a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRow {
    /// The state entered.
    pub state: CaseState,
    /// Day entered.
    pub on_day: Day,
    /// Who set it: a recipient id, or None when it came with the report.
    pub recipient_id: Option<String>,
}

/// A case to open.
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    /// 16 random bytes.
    pub id: [u8; 16],
    /// Desk row id.
    pub desk_id: i64,
    /// Keyed hash of the handle.
    pub handle_hash: [u8; 32],
    /// `age1…`.
    pub reporter_x25519: &'a str,
    /// 32 bytes.
    pub reporter_ed25519: &'a [u8],
    /// Chosen recipient ids (active recipients of the desk).
    pub recipients: &'a [String],
    /// First state: `received`, or `record-only`.
    pub state: CaseState,
    /// The report itself, seq 0.
    pub report: NewMessage<'a>,
}

/// A [`NewCase`] with its own copy of every value, for whichever writer
/// leads the batch it joins.
struct OwnedCase {
    id: [u8; 16],
    desk_id: i64,
    handle_hash: [u8; 32],
    reporter_x25519: String,
    reporter_ed25519: Vec<u8>,
    recipients: Vec<String>,
    state: CaseState,
    seq: u64,
    direction: Direction,
    author: Option<String>,
    envelope: Vec<u8>,
    envelope_hash: [u8; 32],
    signature: Vec<u8>,
}

impl From<&NewCase<'_>> for OwnedCase {
    fn from(c: &NewCase<'_>) -> Self {
        Self {
            id: c.id,
            desk_id: c.desk_id,
            handle_hash: c.handle_hash,
            reporter_x25519: c.reporter_x25519.to_owned(),
            reporter_ed25519: c.reporter_ed25519.to_owned(),
            recipients: c.recipients.to_owned(),
            state: c.state,
            seq: c.report.seq,
            direction: c.report.direction,
            author: c.report.author.map(str::to_owned),
            envelope: c.report.envelope.to_owned(),
            envelope_hash: c.report.envelope_hash,
            signature: c.report.signature.to_owned(),
        }
    }
}

impl OwnedCase {
    fn borrow(&self) -> NewCase<'_> {
        NewCase {
            id: self.id,
            desk_id: self.desk_id,
            handle_hash: self.handle_hash,
            reporter_x25519: &self.reporter_x25519,
            reporter_ed25519: &self.reporter_ed25519,
            recipients: &self.recipients,
            state: self.state,
            report: NewMessage {
                seq: self.seq,
                direction: self.direction,
                author: self.author.as_deref(),
                envelope: &self.envelope,
                envelope_hash: self.envelope_hash,
                signature: &self.signature,
            },
        }
    }
}

/// The case `sql` ([`CASE_BY_ID`] or [`CASE_BY_HANDLE`]) finds.
fn case_where(conn: &Connection, sql: &str, key: &[u8]) -> Result<CaseRow> {
    conn.prepare_cached(sql)?
        .query_row([key], case_row)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// A case just opened, as its opening transaction left it.
#[derive(Debug, Clone)]
pub struct OpenedCase {
    /// The log index of its case-opened leaf.
    pub index: u64,
    /// That leaf.
    pub leaf: Vec<u8>,
    /// The case's row.
    pub row: CaseRow,
}

impl Store {
    /// Opens a case: the case row, its recipients, the report as message 0,
    /// and the events, in one transaction. `Conflict` if the id or handle
    /// hash is taken. Returns the log index of the case-opened leaf.
    pub fn insert_case(&mut self, c: &NewCase<'_>, day: Day) -> Result<u64> {
        self.write(|tx| open_case(tx, c, day))
    }

    /// [`Store::insert_case`], and the case's row and leaf read back in the
    /// same transaction, on the writing connection: its cache holds the
    /// pages just written, where another connection's would have been
    /// emptied by the commit and read them again from the file.
    ///
    /// Openings come in floods: each shares its transaction with those that
    /// queued while the one before ran (the store's `shared` module), and
    /// a case that fails its checks costs the others nothing.
    pub fn open_case(&mut self, c: &NewCase<'_>, day: Day) -> Result<OpenedCase> {
        let c = OwnedCase::from(c);
        self.write_shared(move |tx| {
            let c = c.borrow();
            let index = open_case(tx, &c, day)?;
            let seq = i64::try_from(index + 1).map_err(|_| StoreError::NotFound)?;
            let leaf = tx
                .prepare_cached("SELECT leaf FROM events WHERE seq = ?1")?
                .query_row([seq], |r| r.get(0))?;
            let row = case_where(tx, CASE_BY_ID, &c.id)?;
            Ok(OpenedCase { index, leaf, row })
        })
    }

    /// Opens many cases in one transaction, each as [`Store::insert_case`]
    /// opens one, in order; returns the log index of each case-opened leaf.
    /// All or none: if one conflicts, no case of the batch is stored.
    ///
    /// For filling a large database quickly (the load benchmark's 100,000
    /// cases, `examples/load.rs`): one commit, and one wait for the disk,
    /// for the whole batch instead of one for each case. The server opens
    /// each case with [`Store::open_case`]: it shares a transaction only
    /// with the openings that queued beside it, and a failed one costs the
    /// others nothing.
    pub fn insert_cases(&mut self, cases: &[NewCase<'_>], day: Day) -> Result<Vec<u64>> {
        self.write(|tx| cases.iter().map(|c| open_case(tx, c, day)).collect())
    }

    /// The case whose handle hashes to `handle_hash` (one indexed lookup).
    pub fn case_by_handle(&self, handle_hash: &[u8; 32]) -> Result<CaseRow> {
        case_where(&self.conn, CASE_BY_HANDLE, handle_hash)
    }

    /// Calls `f` with the handle hash of every case, in the order of the
    /// handle index (one scan of it, which a server makes once, as it
    /// starts).
    pub fn each_handle_hash(&self, mut f: impl FnMut(&[u8; 32])) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT handle_hash FROM cases ORDER BY handle_hash")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let hash: [u8; 32] = row.get(0)?;
            f(&hash);
        }
        Ok(())
    }

    /// The case with this id.
    pub fn case_by_id(&self, id: &[u8; 16]) -> Result<CaseRow> {
        case_where(&self.conn, CASE_BY_ID, id)
    }

    /// Recipient ids a case was addressed to.
    pub fn case_recipients(&self, id: &[u8; 16]) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT recipient_id FROM case_recipients WHERE case_id = ?1 ORDER BY recipient_id",
        )?;
        let rows = stmt.query_map([&id[..]], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every reader of a case: those it was sealed to when it opened, then
    /// those it was shared with. Replies must be sealed to all of them.
    pub fn case_readers(&self, id: &[u8; 16]) -> Result<Vec<String>> {
        let mut out = self.case_recipients(id)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT recipient_id FROM case_shares WHERE case_id = ?1 ORDER BY recipient_id",
        )?;
        let shared = stmt.query_map([&id[..]], |r| r.get(0))?;
        for reader in shared {
            out.push(reader?);
        }
        Ok(out)
    }

    /// Recipient ids the reporter left out of a case: never to be added.
    pub fn case_excluded(&self, id: &[u8; 16]) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT recipient_id FROM case_excluded WHERE case_id = ?1 ORDER BY recipient_id",
        )?;
        let rows = stmt.query_map([&id[..]], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The cards of a case's recipients, as registered on its desk (also
    /// those removed from the desk since).
    pub fn case_recipient_rows(&self, id: &[u8; 16]) -> Result<Vec<RecipientRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, d.name, r.card, r.added_on, r.removed_on
             FROM case_recipients cr
             JOIN cases c ON c.id = cr.case_id
             JOIN recipients r ON r.desk_id = c.desk_id AND r.id = cr.recipient_id
             JOIN desks d ON d.id = c.desk_id
             WHERE cr.case_id = ?1 ORDER BY r.id",
        )?;
        let rows = stmt.query_map([&id[..]], recipient_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A case's states in order.
    pub fn timeline(&self, id: &[u8; 16]) -> Result<Vec<StateRow>> {
        let mut stmt = self.conn.prepare_cached(TIMELINE)?;
        let rows = stmt.query_map([&id[..]], |r| {
            Ok(StateRow {
                state: r.get(0)?,
                on_day: r.get(1)?,
                recipient_id: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a state change by a recipient, with an optional note
    /// message, in one transaction.
    pub fn set_state(
        &mut self,
        case: &[u8; 16],
        state: CaseState,
        recipient_id: &str,
        note: Option<&NewMessage<'_>>,
        day: Day,
    ) -> Result<()> {
        self.write(|tx| {
            let desk_id = case_desk(tx, case)?;
            if let Some(m) = note {
                insert_message(tx, case, desk_id, m, day)?;
            }
            insert_state(tx, case, desk_id, state, Some(recipient_id), day)
        })
    }

    /// Erases a case's envelopes under the retention policy: the erasure is
    /// logged first, then the messages go (their events and leaves stay).
    /// Returns the case-erased leaf's index. `Erased` if it already was.
    pub fn erase_case(&mut self, case: &[u8; 16], day: Day) -> Result<u64> {
        self.write(|tx| {
            let desk_id = case_desk(tx, case)?;
            let index = log::append(
                tx,
                &log::NewEvent {
                    kind: Kind::CaseErased,
                    day,
                    desk_id,
                    case_id: Some(case),
                    recipient_id: None,
                    state: None,
                    message_seq: None,
                    envelope_hash: None,
                },
            )?;
            tx.prepare_cached("DELETE FROM messages WHERE case_id = ?1")?
                .execute([&case[..]])?;
            tx.prepare_cached("DELETE FROM case_shares WHERE case_id = ?1")?
                .execute([&case[..]])?;
            Ok(index)
        })
    }

    /// Cases the retention policy erases: resolved or closed (record-only
    /// and bad-faith cases are records, kept), quiet since `cutoff` or
    /// before, and not erased yet.
    pub fn cases_to_erase(&self, cutoff: Day) -> Result<Vec<[u8; 16]>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT case_id FROM case_status
             WHERE erased_entry IS NULL AND state IN ('resolved', 'closed') AND updated_on <= ?1",
        )?;
        let rows = stmt.query_map([cutoff], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for id in rows {
            out.push(
                <[u8; 16]>::try_from(id?.as_slice())
                    .map_err(|_| StoreError::Invalid("case id is not 16 bytes"))?,
            );
        }
        Ok(out)
    }

    /// Cases addressed or shared to a recipient, newest first (by the day
    /// opened, then by id), each with the desk through which they read it
    /// (the case's own, or the one they were shared to): at most `limit`
    /// of them, after the case `after` names (its day opened and id).
    pub fn inbox(
        &self,
        recipient_id: &str,
        after: Option<(Day, [u8; 16])>,
        limit: usize,
    ) -> Result<Vec<(CaseRow, String)>> {
        let sql = "SELECT c.id, c.opened_on, d.name FROM case_recipients cr
                   JOIN cases c ON c.id = cr.case_id
                   JOIN desks d ON d.id = c.desk_id
                   WHERE cr.recipient_id = ?1
                     AND (?2 IS NULL OR c.opened_on < ?2 OR (c.opened_on = ?2 AND c.id > ?3))
                   UNION ALL
                   SELECT c.id, c.opened_on, d.name FROM case_shares s
                   JOIN cases c ON c.id = s.case_id
                   JOIN desks d ON d.id = s.desk_id
                   WHERE s.recipient_id = ?1
                     AND (?2 IS NULL OR c.opened_on < ?2 OR (c.opened_on = ?2 AND c.id > ?3))
                   ORDER BY 2 DESC, 1
                   LIMIT ?4";
        let (day, id) = match &after {
            Some((day, id)) => (Some(*day), Some(&id[..])),
            None => (None, None),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let page: Vec<(Vec<u8>, String)> = self
            .conn
            .prepare_cached(sql)?
            .query_map(params![recipient_id, day, id, limit], |r| {
                Ok((r.get(0)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(page.len());
        for (id, through) in page {
            let id: [u8; 16] = id
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::Invalid("a case id of the wrong length"))?;
            out.push((self.case_by_id(&id)?, through));
        }
        Ok(out)
    }
}

/// A case's states in order ([`Store::timeline`]).
const TIMELINE: &str = "SELECT state, on_day, recipient_id
                        FROM events INDEXED BY events_states_by_case
                        WHERE case_id = ?1 AND kind = 'state-changed' ORDER BY seq";

/// The query [`case_row`] reads a case with, where `$filter` (on `c`, with
/// one parameter) holds: its columns over `cases c` joined with `desks d`,
/// `case_status s` (the state and dates the triggers keep from the
/// append-only event log, see [`DERIVED_STATUS`]) and the desk's own
/// deadlines `dd`, if it has any. A literal, so that a lookup builds no
/// string to find its statement in the cache.
macro_rules! case_select {
    ($filter:literal) => {
        concat!(
            "SELECT c.id, d.name, c.desk_id, c.reporter_x25519, c.reporter_ed25519, c.opened_on,
                    s.state, s.updated_on, s.desk_updated_on, s.desk_first_on, s.message_count,
                    s.erased_on, s.erased_entry, s.version,
                    dd.acknowledge_days, dd.update_days, dd.feedback_months
             FROM cases c JOIN desks d ON d.id = c.desk_id
                          JOIN case_status s ON s.case_id = c.id
                          LEFT JOIN desk_deadlines dd ON dd.desk_id = c.desk_id
             WHERE ",
            $filter
        )
    };
}

/// A case by its id.
const CASE_BY_ID: &str = case_select!("c.id = ?1");

/// A case by the keyed hash of its handle.
const CASE_BY_HANDLE: &str = case_select!("c.handle_hash = ?1");

/// Each case's `case_status` row, worked out from its events and messages
/// (the columns in the table's order): what the schema's triggers keep, as
/// the migration to version 5 fills it and as the auditor checks it. A case
/// with no event has none (the auditor reports such a case row anyway).
pub(crate) const DERIVED_STATUS: &str = "SELECT c.id,
            (SELECT state FROM events e WHERE e.case_id = c.id AND e.kind = 'state-changed'
               ORDER BY e.seq DESC LIMIT 1),
            (SELECT on_day FROM events e WHERE e.case_id = c.id ORDER BY e.seq DESC LIMIT 1),
            (SELECT on_day FROM events e WHERE e.case_id = c.id AND e.recipient_id IS NOT NULL
               AND e.kind IN ('message-posted', 'state-changed') ORDER BY e.seq DESC LIMIT 1),
            (SELECT on_day FROM events e WHERE e.case_id = c.id AND e.recipient_id IS NOT NULL
               AND e.kind IN ('message-posted', 'state-changed') ORDER BY e.seq LIMIT 1),
            (SELECT count(*) FROM messages m WHERE m.case_id = c.id),
            (SELECT on_day FROM events e WHERE e.case_id = c.id AND e.kind = 'case-erased'),
            (SELECT seq - 1 FROM events e WHERE e.case_id = c.id AND e.kind = 'case-erased'),
            (SELECT max(seq) FROM events e WHERE e.case_id = c.id)
     FROM cases c WHERE EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.id)";

fn case_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
    let id: Vec<u8> = r.get(0)?;
    let id: [u8; 16] = id.as_slice().try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            "case id length".into(),
        )
    })?;
    Ok(CaseRow {
        id,
        desk: r.get(1)?,
        desk_id: r.get(2)?,
        reporter_x25519: r.get(3)?,
        reporter_ed25519: r.get(4)?,
        opened_on: r.get(5)?,
        state: r.get(6)?,
        updated_on: r.get(7)?,
        desk_updated_on: r.get(8)?,
        desk_first_on: r.get(9)?,
        message_count: get_u64(r, 10)?,
        erased: match (r.get::<_, Option<Day>>(11)?, r.get::<_, Option<i64>>(12)?) {
            (Some(on_day), Some(entry)) => Some(Erasure {
                on_day,
                entry: u64::try_from(entry)
                    .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(12, entry))?,
            }),
            _ => None,
        },
        version: get_u64(r, 13)?,
        desk_deadlines: match (r.get(14)?, r.get(15)?, r.get(16)?) {
            (Some(acknowledge_days), Some(update_days), Some(feedback_months)) => {
                Some(DeskDeadlines {
                    acknowledge_days,
                    update_days,
                    feedback_months,
                })
            }
            _ => None,
        },
    })
}

/// Opens a case within `tx`: see [`Store::insert_case`].
fn open_case(tx: &rusqlite::Transaction<'_>, c: &NewCase<'_>, day: Day) -> Result<u64> {
    let taken: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM cases WHERE id = ?1 OR handle_hash = ?2)")?
        .query_row(params![&c.id[..], &c.handle_hash[..]], |r| r.get(0))?;
    if taken {
        return Err(StoreError::Conflict("that case or token is already in use"));
    }
    tx.prepare_cached(
        "INSERT INTO cases (id, desk_id, handle_hash, reporter_x25519, reporter_ed25519,
                            opened_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        &c.id[..],
        c.desk_id,
        &c.handle_hash[..],
        c.reporter_x25519,
        c.reporter_ed25519,
        day
    ])?;
    for r in c.recipients {
        tx.prepare_cached("INSERT INTO case_recipients (case_id, recipient_id) VALUES (?1, ?2)")?
            .execute(params![&c.id[..], r])?;
    }
    // Whoever the desk offered and the reporter did not choose can
    // never be added later.
    tx.prepare_cached(
        "INSERT INTO case_excluded (case_id, recipient_id)
         SELECT ?1, r.id FROM recipients r
         WHERE r.desk_id = ?2 AND r.removed_on IS NULL
           AND NOT EXISTS (SELECT 1 FROM case_recipients cr
                           WHERE cr.case_id = ?1 AND cr.recipient_id = r.id)",
    )?
    .execute(params![&c.id[..], c.desk_id])?;
    let index = log::append(
        tx,
        &log::NewEvent {
            kind: Kind::CaseOpened,
            day,
            desk_id: c.desk_id,
            case_id: Some(&c.id),
            recipient_id: None,
            state: None,
            message_seq: None,
            envelope_hash: Some(&c.report.envelope_hash),
        },
    )?;
    insert_message(tx, &c.id, c.desk_id, &c.report, day)?;
    insert_state(tx, &c.id, c.desk_id, c.state, None, day)?;
    Ok(index)
}

fn insert_state(
    tx: &rusqlite::Transaction<'_>,
    case: &[u8; 16],
    desk_id: i64,
    state: CaseState,
    recipient_id: Option<&str>,
    day: Day,
) -> Result<()> {
    log::append(
        tx,
        &log::NewEvent {
            kind: Kind::StateChanged,
            day,
            desk_id,
            case_id: Some(case),
            recipient_id,
            state: Some(state),
            message_seq: None,
            envelope_hash: None,
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::messages::NewMessage;
    use rusqlite::StatementStatus;
    use sotto_envelope::sign::Direction;

    fn open_case(store: &mut Store, desk_id: i64, n: u8) {
        let envelope = b"age-encryption.org/v1\n-> X25519 abc\n".to_vec();
        store
            .insert_case(
                &NewCase {
                    id: [n; 16],
                    desk_id,
                    handle_hash: [n; 32],
                    reporter_x25519:
                        "age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25",
                    reporter_ed25519: &[9; 32],
                    recipients: &[],
                    state: CaseState::Received,
                    report: NewMessage {
                        seq: 0,
                        direction: Direction::FromReporter,
                        author: None,
                        envelope: &envelope,
                        envelope_hash: [1; 32],
                        signature: &[2; 64],
                    },
                },
                Day::parse("2026-12-04").unwrap(),
            )
            .unwrap();
    }

    /// A batch opens the same cases, with the same log, as one call each;
    /// a batch with one case taken stores none of them.
    #[test]
    fn a_batch_of_cases_is_the_cases_one_by_one_or_none() {
        let day = Day::parse("2026-12-04").unwrap();
        let envelope = b"age-encryption.org/v1\n-> X25519 abc\n".to_vec();
        let new_case = |desk_id, n: u8| NewCase {
            id: [n; 16],
            desk_id,
            handle_hash: [n; 32],
            reporter_x25519: "age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25",
            reporter_ed25519: &[9; 32],
            recipients: &[],
            state: CaseState::Received,
            report: NewMessage {
                seq: 0,
                direction: Direction::FromReporter,
                author: None,
                envelope: &envelope,
                envelope_hash: [n; 32],
                signature: &[2; 64],
            },
        };
        let follow_up = NewMessage {
            seq: 1,
            direction: Direction::FromReporter,
            author: None,
            envelope: &envelope,
            envelope_hash: [7; 32],
            signature: &[2; 64],
        };
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let [mut one, mut batch] =
            [&dirs[0], &dirs[1]].map(|d| Store::open(&d.path().join("sotto.db")).unwrap());
        let desk = one.ensure_desk("default", "", day).unwrap();
        batch.ensure_desk("default", "", day).unwrap();
        let mut indexes = Vec::new();
        for n in 1..=3 {
            indexes.push(one.insert_case(&new_case(desk.id, n), day).unwrap());
        }
        for n in 1..=3 {
            one.insert_message(&[n; 16], &follow_up, day).unwrap();
        }
        let cases: Vec<_> = (1..=3).map(|n| new_case(desk.id, n)).collect();
        assert_eq!(batch.insert_cases(&cases, day).unwrap(), indexes);
        let follow_ups: Vec<_> = (1..=3).map(|n| ([n; 16], follow_up.clone())).collect();
        batch.insert_messages(&follow_ups, day).unwrap();
        let size = one.log_size().unwrap();
        assert_eq!(batch.log_size().unwrap(), size);
        assert_eq!(batch.log_root(size).unwrap(), one.log_root(size).unwrap());
        for n in 1..=3 {
            assert_eq!(
                batch.case_by_handle(&[n; 32]).unwrap(),
                one.case_by_handle(&[n; 32]).unwrap()
            );
        }
        let taken = [new_case(desk.id, 4), new_case(desk.id, 2)];
        assert!(matches!(
            batch.insert_cases(&taken, day),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            batch.case_by_handle(&[4; 32]),
            Err(StoreError::NotFound)
        ));
    }

    /// A cached statement is parsed once: reading other cases with it
    /// binds other values, and must not make SQLite parse it again (see
    /// `plan_once`).
    #[test]
    fn reading_case_after_case_does_not_parse_the_queries_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("sotto.db")).unwrap();
        let desk = store
            .ensure_desk("default", "", Day::parse("2026-12-04").unwrap())
            .unwrap();
        for n in 1..=3 {
            open_case(&mut store, desk.id, n);
        }
        for n in [1, 2, 3, 1, 2, 3] {
            let row = store.case_by_handle(&[n; 32]).unwrap();
            assert_eq!(store.timeline(&row.id).unwrap().len(), 1);
            assert_eq!(
                store.messages_page(&row.id, None, 1 << 20).unwrap().len(),
                1
            );
        }
        for sql in [CASE_BY_HANDLE, TIMELINE] {
            let stmt = store.conn.prepare_cached(sql).unwrap();
            assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0, "{sql}");
        }
    }

    #[test]
    fn every_case_s_handle_hash_is_listed_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("sotto.db")).unwrap();
        let mut listed = Vec::new();
        store.each_handle_hash(|h| listed.push(*h)).unwrap();
        assert!(listed.is_empty());
        let desk = store
            .ensure_desk("default", "", Day::parse("2026-12-04").unwrap())
            .unwrap();
        for n in [3, 1, 2] {
            open_case(&mut store, desk.id, n);
        }
        store.each_handle_hash(|h| listed.push(*h)).unwrap();
        assert_eq!(listed, [[1; 32], [2; 32], [3; 32]]);
    }
}
