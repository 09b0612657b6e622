//! Shares (`case_shares`): a case's thread so far, sealed to one more
//! reader by the reporter or by a reader of the case, and logged.

use rusqlite::params;
use sotto_tlog::leaf::Kind;
use sotto_wire::Day;

use crate::recipients::{recipient_row, RecipientRow};
use crate::{case_desk, get_u64, log, Result, Store, StoreError};

/// A share to record: a case's thread so far, sealed to one more reader.
#[derive(Debug, Clone)]
pub struct NewShare<'a> {
    /// The new reader's recipient id.
    pub reader: &'a str,
    /// The desk they read for (they must be active on it).
    pub desk_id: i64,
    /// Who shared: a reader of the case, or `None` for the reporter.
    pub shared_by: Option<&'a str>,
    /// The thread's length the share holds; must be the thread's length now.
    pub upto: u64,
    /// The age file.
    pub envelope: &'a [u8],
    /// 64 bytes.
    pub signature: &'a [u8],
}

/// A recorded share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareRow {
    /// The new reader, as registered on the desk they read for.
    pub reader: RecipientRow,
    /// Who shared: a recipient id, or `None` for the reporter.
    pub shared_by: Option<String>,
    /// Messages the share holds.
    pub upto: u64,
    /// The age file's SHA-256, as its log entry records it.
    pub envelope_sha256: [u8; 32],
    /// The age file: read only for the reader it was sealed to.
    pub envelope: Option<Vec<u8>>,
    /// 64 bytes.
    pub signature: Vec<u8>,
    /// Day shared.
    pub shared_on: Day,
}

impl Store {
    /// Shares a case with one more reader (and logs it as `case-shared`).
    /// Refused: `Erased`; `Conflict` when the thread moved on, or the reader
    /// already reads the case; `Invalid` when the reporter left the reader
    /// out, or the reader is not active on `desk_id`. Returns the leaf
    /// index.
    pub fn insert_share(&mut self, case: &[u8; 16], s: &NewShare<'_>, day: Day) -> Result<u64> {
        self.write(|tx| insert_share(tx, case, s, day))
    }

    /// The reporter's escalation: shares a case with readers of another
    /// desk, and records the readers of that desk they left out (who can
    /// never be added), in one transaction. Refused like
    /// [`Store::insert_share`], for any one of them. Returns the leaf
    /// indexes.
    pub fn escalate(
        &mut self,
        case: &[u8; 16],
        shares: &[NewShare<'_>],
        left_out: &[String],
        day: Day,
    ) -> Result<Vec<u64>> {
        self.write(|tx| {
            for r in left_out {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO case_excluded (case_id, recipient_id) VALUES (?1, ?2)",
                )?
                .execute(params![&case[..], r])?;
            }
            shares
                .iter()
                .map(|s| insert_share(tx, case, s, day))
                .collect()
        })
    }

    /// The readers a case was shared with, oldest first, with the envelope
    /// of the share sealed to `open_for` only: a share is as large as the
    /// thread it copies, and nobody else can open it.
    ///
    /// The shares lead (`CROSS JOIN` fixes the order): most cases have
    /// none, and led by `events` in seq order, SQLite read every event of
    /// the case to find none (9% of a full status).
    pub fn case_shares(&self, id: &[u8; 16], open_for: Option<&str>) -> Result<Vec<ShareRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, d.name, r.card, r.added_on, r.removed_on,
                    s.shared_by, s.upto, e.envelope_hash,
                    CASE WHEN s.recipient_id = ?2 THEN s.envelope END,
                    s.signature, s.shared_on
             FROM case_shares s
             CROSS JOIN events e ON e.case_id = s.case_id AND e.kind = 'case-shared'
                                AND e.recipient_id = s.recipient_id
             JOIN recipients r ON r.desk_id = s.desk_id AND r.id = s.recipient_id
             JOIN desks d ON d.id = s.desk_id
             WHERE s.case_id = ?1
             ORDER BY e.seq",
        )?;
        let rows = stmt.query_map(params![&id[..], open_for], |r| {
            let hash: Vec<u8> = r.get(7)?;
            Ok(ShareRow {
                reader: recipient_row(r)?,
                shared_by: r.get(5)?,
                upto: get_u64(r, 6)?,
                envelope_sha256: hash.as_slice().try_into().map_err(|_| {
                    rusqlite::Error::FromSqlConversionFailure(
                        7,
                        rusqlite::types::Type::Blob,
                        "envelope hash length".into(),
                    )
                })?,
                envelope: r.get(8)?,
                signature: r.get(9)?,
                shared_on: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn insert_share(
    tx: &rusqlite::Transaction<'_>,
    case: &[u8; 16],
    s: &NewShare<'_>,
    day: Day,
) -> Result<u64> {
    let case_desk_id = case_desk(tx, case)?;
    let (excluded, reading, active, messages): (bool, bool, bool, u64) = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM case_excluded WHERE case_id = ?1 AND recipient_id = ?2),
                EXISTS (SELECT 1 FROM case_recipients WHERE case_id = ?1 AND recipient_id = ?2)
                OR EXISTS (SELECT 1 FROM case_shares WHERE case_id = ?1 AND recipient_id = ?2),
                EXISTS (SELECT 1 FROM recipients WHERE desk_id = ?3 AND id = ?2
                        AND removed_on IS NULL),
                (SELECT count(*) FROM messages WHERE case_id = ?1)",
        )?
        .query_row(params![&case[..], s.reader, s.desk_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, get_u64(r, 3)?))
        })?;
    if excluded {
        return Err(StoreError::Invalid("the reporter left this recipient out"));
    }
    if reading {
        return Err(StoreError::Conflict(
            "that recipient already reads this case",
        ));
    }
    if !active {
        return Err(StoreError::Invalid(
            "that recipient is not active on that desk",
        ));
    }
    if s.upto != messages {
        return Err(StoreError::Conflict(
            "the thread has moved on: fetch it and share again",
        ));
    }
    let upto =
        i64::try_from(s.upto).map_err(|_| StoreError::Conflict("sequence number out of range"))?;
    tx.prepare_cached(
        "INSERT INTO case_shares (case_id, recipient_id, desk_id, shared_by, upto, envelope,
                                  signature, shared_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        &case[..],
        s.reader,
        s.desk_id,
        s.shared_by,
        upto,
        s.envelope,
        s.signature,
        day
    ])?;
    log::append(
        tx,
        &log::NewEvent {
            kind: Kind::CaseShared,
            day,
            desk_id: case_desk_id,
            case_id: Some(case),
            recipient_id: Some(s.reader),
            state: None,
            message_seq: Some(s.upto),
            envelope_hash: Some(&sotto_envelope::sha256(s.envelope)),
        },
    )
}
