//! Recipients (`recipients`): who reads for a desk, from when, and until
//! when. Adding and removing one is logged, so the roster is public.

use rusqlite::{params, OptionalExtension};
use sotto_tlog::leaf::Kind;
use sotto_wire::Day;

use crate::{log, Result, Store, StoreError};

/// A recipient registered on a desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRow {
    /// Fingerprint digits.
    pub id: String,
    /// The desk's name.
    pub desk: String,
    /// The card line.
    pub card: String,
    /// Day added.
    pub added_on: Day,
    /// Day removed, if removed.
    pub removed_on: Option<Day>,
}

impl Store {
    /// Registers a recipient on a desk (and logs it). `Conflict` if already active there.
    pub fn insert_recipient(&mut self, desk_id: i64, id: &str, card: &str, day: Day) -> Result<()> {
        self.write(|tx| {
            let existing: Option<Option<String>> = tx
                .query_row(
                    "SELECT removed_on FROM recipients WHERE desk_id = ?1 AND id = ?2",
                    params![desk_id, id],
                    |r| r.get(0),
                )
                .optional()?;
            match existing {
                Some(None) => return Err(StoreError::Conflict("that recipient is already on this desk")),
                // Removed before: a recipient who comes back keeps one row,
                // and both the removal and the return stay in the event log.
                Some(Some(_)) => {
                    tx.execute(
                        "UPDATE recipients SET card = ?3, added_on = ?4, removed_on = NULL
                         WHERE desk_id = ?1 AND id = ?2",
                        params![desk_id, id, card, day],
                    )?;
                }
                None => {
                    tx.execute(
                        "INSERT INTO recipients (desk_id, id, card, added_on) VALUES (?1, ?2, ?3, ?4)",
                        params![desk_id, id, card, day],
                    )?;
                }
            }
            log::append(
                tx,
                &log::NewEvent::desk(Kind::RecipientAdded, day, desk_id, Some(id)),
            )?;
            Ok(())
        })
    }

    /// Removes a recipient from a desk (and logs it): they receive no new
    /// cases. Cases already addressed to them stay readable by them, since
    /// they hold the key the envelopes were sealed to.
    pub fn remove_recipient(&mut self, desk_id: i64, id: &str, day: Day) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE recipients SET removed_on = ?3
                 WHERE desk_id = ?1 AND id = ?2 AND removed_on IS NULL",
                params![desk_id, id, day],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            log::append(
                tx,
                &log::NewEvent::desk(Kind::RecipientRemoved, day, desk_id, Some(id)),
            )?;
            Ok(())
        })
    }

    /// Recipients of every desk (active and removed), by desk then id.
    pub fn recipients(&self) -> Result<Vec<RecipientRow>> {
        self.recipients_where("1 = 1", params![])
    }

    /// Active recipients of one desk.
    pub fn active_recipients(&self, desk_id: i64) -> Result<Vec<RecipientRow>> {
        self.recipients_where("r.desk_id = ?1 AND r.removed_on IS NULL", params![desk_id])
    }

    fn recipients_where(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<RecipientRow>> {
        let sql = format!(
            "SELECT r.id, d.name, r.card, r.added_on, r.removed_on
             FROM recipients r JOIN desks d ON d.id = r.desk_id
             WHERE {filter} ORDER BY d.name, r.added_on, r.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(args, recipient_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

pub(crate) fn recipient_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecipientRow> {
    Ok(RecipientRow {
        id: r.get(0)?,
        desk: r.get(1)?,
        card: r.get(2)?,
        added_on: r.get(3)?,
        removed_on: r.get(4)?,
    })
}
