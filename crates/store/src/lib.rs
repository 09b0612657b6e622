//! Sotto's SQLite store.
//!
//! One method per query, named by what it does. The store never decrypts
//! and never sees a handle: callers pass keyed hashes, public keys,
//! envelopes, enums (as their wire strings) and UTC days (`YYYY-MM-DD`).
//! The schema is `schema.sql` at the repository root, embedded here; its
//! version is `PRAGMA user_version`.
//!
//! [`audit`] proves what a database holds; [`backup`] copies a live one and
//! checks a restored one.
//!
//! Every connection runs with WAL (reads never wait for writes), foreign
//! keys, `secure_delete` (freed pages are zeroed) and a busy timeout, so the
//! server and `sotto admin` can use one database at the same time.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use sotto_tlog::leaf::Kind;
use thiserror::Error;

pub mod audit;
pub mod backup;
pub mod detect;
mod log;
mod migrate;

pub use log::{CheckpointRow, EventRow};

/// The database's file name in a data directory.
pub const DB_FILE: &str = "sotto.db";

/// The schema, from the repository root.
pub const SCHEMA: &str = include_str!("../../../schema.sql");
/// The schema version this code reads and writes.
pub const SCHEMA_VERSION: i64 = 3;

/// What went wrong in the store.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No such row.
    #[error("not found")]
    NotFound,
    /// A row with that key exists, or the thread moved on (stale seq).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The case was erased under the retention policy: nothing can be
    /// added to it.
    #[error("the case was erased")]
    Erased,
    /// A value the store cannot use (a malformed day, an event that names a
    /// row that does not exist).
    #[error("invalid: {0}")]
    Invalid(&'static str),
    /// The database was written by another version of Sotto.
    #[error("database schema version {found}, this build reads version {expected}")]
    SchemaVersion {
        /// What the file says.
        found: i64,
        /// What this build needs.
        expected: i64,
    },
    /// SQLite failed (I/O, corruption, constraint).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, StoreError>;

/// A desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desk {
    /// Row id.
    pub id: i64,
    /// Public name.
    pub name: String,
    /// Public description.
    pub description: String,
}

/// A desk's own deadlines (`desk_deadlines`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeskDeadlines {
    /// Days to acknowledge a new report.
    pub acknowledge_days: i64,
    /// Days between updates owed to the reporter.
    pub update_days: i64,
    /// Months from the acknowledgement to the reporter's feedback.
    pub feedback_months: i64,
}

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
    pub added_on: String,
    /// Day removed, if removed.
    pub removed_on: Option<String>,
}

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
    pub opened_on: String,
    /// Latest state (wire string).
    pub state: String,
    /// Day of the latest event.
    pub updated_on: String,
    /// Day of the latest event by a desk member (a reply or a state change),
    /// if any: deadlines run from it.
    pub desk_updated_on: Option<String>,
    /// Day of the first reply or state change by a desk member, if any: the
    /// feedback deadline runs from it.
    pub desk_first_on: Option<String>,
    /// Number of messages (0 once erased).
    pub message_count: u64,
    /// When and where in the log the case was erased, if it was.
    pub erased: Option<Erasure>,
}

/// A case's erasure under the retention policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// Day erased.
    pub on_day: String,
    /// The case-erased leaf's index in the log.
    pub entry: u64,
}

/// A message to insert.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Position in the thread; must be the next one.
    pub seq: u64,
    /// `reporter` or `desk`.
    pub direction: &'a str,
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
    /// `reporter` or `desk`.
    pub direction: String,
    /// Author recipient id for desk messages.
    pub author: Option<String>,
    /// The age file.
    pub envelope: Vec<u8>,
    /// 64 bytes.
    pub signature: Vec<u8>,
    /// Day posted.
    pub posted_on: String,
}

/// One state in a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRow {
    /// The state entered.
    pub state: String,
    /// Day entered.
    pub on_day: String,
    /// Who set it: a recipient id, or None when it came with the report.
    pub recipient_id: Option<String>,
}

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
    /// The age file.
    pub envelope: Vec<u8>,
    /// 64 bytes.
    pub signature: Vec<u8>,
    /// Day shared.
    pub shared_on: String,
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
    pub state: &'a str,
    /// The report itself, seq 0.
    pub report: NewMessage<'a>,
}

/// A connection to the database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        configure(&conn)?;
        // WAL is a property of the file; setting it again is harmless.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let store = Self { conn };
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing database read-only (auditors, listings).
    pub fn open_read_only(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let store = Self { conn };
        let found = store.version()?;
        if found != SCHEMA_VERSION {
            return Err(StoreError::SchemaVersion {
                found,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(store)
    }

    fn version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn migrate(&self) -> Result<()> {
        match self.version()? {
            0 => {
                let tx = self.conn.unchecked_transaction()?;
                tx.execute_batch(SCHEMA)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
                tx.commit()?;
                Ok(())
            }
            1 => {
                migrate::v1_to_v2(&self.conn)?;
                migrate::v2_to_v3(&self.conn)
            }
            2 => migrate::v2_to_v3(&self.conn),
            SCHEMA_VERSION => Ok(()),
            found => Err(StoreError::SchemaVersion {
                found,
                expected: SCHEMA_VERSION,
            }),
        }
    }

    fn write<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        // IMMEDIATE takes the write lock up front, so two writers queue on the
        // busy timeout instead of failing when a read upgrades to a write.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    // ---- desks ----

    /// All desks, by name.
    pub fn desks(&self) -> Result<Vec<Desk>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, description FROM desks ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(Desk {
                id: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The desk with this name.
    pub fn desk_by_name(&self, name: &str) -> Result<Desk> {
        self.conn
            .prepare_cached("SELECT id, name, description FROM desks WHERE name = ?1")?
            .query_row([name], |r| {
                Ok(Desk {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    description: r.get(2)?,
                })
            })
            .optional()?
            .ok_or(StoreError::NotFound)
    }

    /// Creates a desk (and logs it). `Conflict` if the name is taken.
    pub fn insert_desk(&mut self, name: &str, description: &str, day: &str) -> Result<Desk> {
        self.write(|tx| {
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM desks WHERE name = ?1)",
                [name],
                |r| r.get(0),
            )?;
            if taken {
                return Err(StoreError::Conflict("a desk with that name exists"));
            }
            tx.execute(
                "INSERT INTO desks (name, description, created_on) VALUES (?1, ?2, ?3)",
                params![name, description, day],
            )?;
            let id = tx.last_insert_rowid();
            log::append(tx, &log::NewEvent::desk(Kind::DeskCreated, day, id, None))?;
            Ok(Desk {
                id,
                name: name.to_owned(),
                description: description.to_owned(),
            })
        })
    }

    /// The desk with this name, created if missing (the `default` desk on first start).
    pub fn ensure_desk(&mut self, name: &str, description: &str, day: &str) -> Result<Desk> {
        match self.desk_by_name(name) {
            Err(StoreError::NotFound) => self.insert_desk(name, description, day),
            other => other,
        }
    }

    /// A desk's own deadlines, if the operator set them.
    pub fn desk_deadlines(&self, desk_id: i64) -> Result<Option<DeskDeadlines>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT acknowledge_days, update_days, feedback_months
                 FROM desk_deadlines WHERE desk_id = ?1",
            )?
            .query_row([desk_id], |r| {
                Ok(DeskDeadlines {
                    acknowledge_days: r.get(0)?,
                    update_days: r.get(1)?,
                    feedback_months: r.get(2)?,
                })
            })
            .optional()?)
    }

    /// Takes a desk back to the server's default deadlines.
    pub fn clear_desk_deadlines(&mut self, desk_id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM desk_deadlines WHERE desk_id = ?1", [desk_id])?;
            Ok(())
        })
    }

    /// Every desk with deadlines of its own, by name.
    pub fn all_desk_deadlines(&self) -> Result<Vec<(String, DeskDeadlines)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.name, x.acknowledge_days, x.update_days, x.feedback_months
             FROM desk_deadlines x JOIN desks d ON d.id = x.desk_id ORDER BY d.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                DeskDeadlines {
                    acknowledge_days: r.get(1)?,
                    update_days: r.get(2)?,
                    feedback_months: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sets a desk's deadlines, replacing those before. They apply to every
    /// open case of the desk from now on (they are settings, not history).
    pub fn set_desk_deadlines(&mut self, desk_id: i64, d: &DeskDeadlines) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO desk_deadlines (desk_id, acknowledge_days, update_days, feedback_months)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (desk_id) DO UPDATE SET acknowledge_days = ?2, update_days = ?3,
                                                     feedback_months = ?4",
                params![desk_id, d.acknowledge_days, d.update_days, d.feedback_months],
            )?;
            Ok(())
        })
    }

    // ---- recipients ----

    /// Registers a recipient on a desk (and logs it). `Conflict` if already active there.
    pub fn insert_recipient(
        &mut self,
        desk_id: i64,
        id: &str,
        card: &str,
        day: &str,
    ) -> Result<()> {
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
    pub fn remove_recipient(&mut self, desk_id: i64, id: &str, day: &str) -> Result<()> {
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

    // ---- cases ----

    /// Opens a case: the case row, its recipients, the report as message 0,
    /// and the events, in one transaction. `Conflict` if the id or handle
    /// hash is taken. Returns the log index of the case-opened leaf.
    pub fn insert_case(&mut self, c: &NewCase<'_>, day: &str) -> Result<u64> {
        self.write(|tx| {
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM cases WHERE id = ?1 OR handle_hash = ?2)",
                params![&c.id[..], &c.handle_hash[..]],
                |r| r.get(0),
            )?;
            if taken {
                return Err(StoreError::Conflict("that case or token is already in use"));
            }
            tx.execute(
                "INSERT INTO cases (id, desk_id, handle_hash, reporter_x25519, reporter_ed25519, opened_on)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    &c.id[..],
                    c.desk_id,
                    &c.handle_hash[..],
                    c.reporter_x25519,
                    c.reporter_ed25519,
                    day
                ],
            )?;
            for r in c.recipients {
                tx.execute(
                    "INSERT INTO case_recipients (case_id, recipient_id) VALUES (?1, ?2)",
                    params![&c.id[..], r],
                )?;
            }
            // Whoever the desk offered and the reporter did not choose can
            // never be added later.
            tx.execute(
                "INSERT INTO case_excluded (case_id, recipient_id)
                 SELECT ?1, r.id FROM recipients r
                 WHERE r.desk_id = ?2 AND r.removed_on IS NULL
                   AND NOT EXISTS (SELECT 1 FROM case_recipients cr
                                   WHERE cr.case_id = ?1 AND cr.recipient_id = r.id)",
                params![&c.id[..], c.desk_id],
            )?;
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
        })
    }

    fn case_where(&self, filter: &str, key: &[u8]) -> Result<CaseRow> {
        let sql =
            format!("{CASE_COLUMNS} FROM cases c JOIN desks d ON d.id = c.desk_id WHERE {filter}");
        self.conn
            .prepare_cached(&sql)?
            .query_row([key], case_row)
            .optional()?
            .ok_or(StoreError::NotFound)
    }

    /// The case whose handle hashes to `handle_hash` (one indexed lookup).
    pub fn case_by_handle(&self, handle_hash: &[u8; 32]) -> Result<CaseRow> {
        self.case_where("c.handle_hash = ?1", handle_hash)
    }

    /// The case with this id.
    pub fn case_by_id(&self, id: &[u8; 16]) -> Result<CaseRow> {
        self.case_where("c.id = ?1", id)
    }

    /// Recipient ids a case was addressed to.
    pub fn case_recipients(&self, id: &[u8; 16]) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT recipient_id FROM case_recipients WHERE case_id = ?1 ORDER BY recipient_id",
        )?;
        let rows = stmt.query_map([&id[..]], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Shares a case with one more reader (and logs it as `case-shared`).
    /// Refused: `Erased`; `Conflict` when the thread moved on, or the reader
    /// already reads the case; `Invalid` when the reporter left the reader
    /// out, or the reader is not active on `desk_id`. Returns the leaf
    /// index.
    pub fn insert_share(&mut self, case: &[u8; 16], s: &NewShare<'_>, day: &str) -> Result<u64> {
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
        day: &str,
    ) -> Result<Vec<u64>> {
        self.write(|tx| {
            for r in left_out {
                tx.execute(
                    "INSERT OR IGNORE INTO case_excluded (case_id, recipient_id) VALUES (?1, ?2)",
                    params![&case[..], r],
                )?;
            }
            shares
                .iter()
                .map(|s| insert_share(tx, case, s, day))
                .collect()
        })
    }

    /// The readers a case was shared with, oldest first.
    pub fn case_shares(&self, id: &[u8; 16]) -> Result<Vec<ShareRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, d.name, r.card, r.added_on, r.removed_on,
                    s.shared_by, s.upto, s.envelope, s.signature, s.shared_on
             FROM case_shares s
             JOIN recipients r ON r.desk_id = s.desk_id AND r.id = s.recipient_id
             JOIN desks d ON d.id = s.desk_id
             WHERE s.case_id = ?1
             ORDER BY (SELECT e.seq FROM events e WHERE e.case_id = s.case_id
                       AND e.kind = 'case-shared' AND e.recipient_id = s.recipient_id)",
        )?;
        let rows = stmt.query_map([&id[..]], |r| {
            Ok(ShareRow {
                reader: recipient_row(r)?,
                shared_by: r.get(5)?,
                upto: get_u64(r, 6)?,
                envelope: r.get(7)?,
                signature: r.get(8)?,
                shared_on: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every reader of a case: those it was sealed to when it opened, then
    /// those it was shared with. Replies must be sealed to all of them.
    pub fn case_readers(&self, id: &[u8; 16]) -> Result<Vec<String>> {
        let mut out = self.case_recipients(id)?;
        out.extend(self.case_shares(id)?.into_iter().map(|s| s.reader.id));
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

    /// A case's messages in thread order.
    pub fn messages(&self, id: &[u8; 16]) -> Result<Vec<MessageRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, direction, author, envelope, signature, posted_on
             FROM messages WHERE case_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([&id[..]], |r| {
            Ok(MessageRow {
                seq: get_u64(r, 0)?,
                direction: r.get(1)?,
                author: r.get(2)?,
                envelope: r.get(3)?,
                signature: r.get(4)?,
                posted_on: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A case's states in order.
    pub fn timeline(&self, id: &[u8; 16]) -> Result<Vec<StateRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT state, on_day, recipient_id FROM events
             WHERE case_id = ?1 AND kind = 'state-changed' ORDER BY seq",
        )?;
        let rows = stmt.query_map([&id[..]], |r| {
            Ok(StateRow {
                state: r.get(0)?,
                on_day: r.get(1)?,
                recipient_id: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Appends a message. `Conflict` if `seq` is not the next in the thread
    /// (someone else posted first, or a replay).
    pub fn insert_message(&mut self, case: &[u8; 16], m: &NewMessage<'_>, day: &str) -> Result<()> {
        self.write(|tx| {
            let desk_id = case_desk(tx, case)?;
            insert_message(tx, case, desk_id, m, day)
        })
    }

    /// Records a state change by a recipient, with an optional note
    /// message, in one transaction.
    pub fn set_state(
        &mut self,
        case: &[u8; 16],
        state: &str,
        recipient_id: &str,
        note: Option<&NewMessage<'_>>,
        day: &str,
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
    pub fn erase_case(&mut self, case: &[u8; 16], day: &str) -> Result<u64> {
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
            tx.execute("DELETE FROM messages WHERE case_id = ?1", [&case[..]])?;
            tx.execute("DELETE FROM case_shares WHERE case_id = ?1", [&case[..]])?;
            Ok(index)
        })
    }

    /// Cases the retention policy erases: resolved or closed (record-only
    /// and bad-faith cases are records, kept), quiet since `cutoff` or
    /// before, and not erased yet.
    pub fn cases_to_erase(&self, cutoff: &str) -> Result<Vec<[u8; 16]>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id FROM cases c
             WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.id AND e.kind = 'case-erased')
               AND (SELECT state FROM events e WHERE e.case_id = c.id AND e.kind = 'state-changed'
                    ORDER BY e.seq DESC LIMIT 1) IN ('resolved', 'closed')
               AND (SELECT on_day FROM events e WHERE e.case_id = c.id
                    ORDER BY e.seq DESC LIMIT 1) <= ?1",
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

    /// Cases addressed or shared to a recipient, newest first, each with
    /// the desk through which they read it (the case's own, or the one they
    /// were shared to).
    pub fn inbox(&self, recipient_id: &str) -> Result<Vec<(CaseRow, String)>> {
        let sql = format!(
            "{CASE_COLUMNS}, d.name FROM case_recipients cr
             JOIN cases c ON c.id = cr.case_id
             JOIN desks d ON d.id = c.desk_id
             WHERE cr.recipient_id = ?1
             UNION ALL
             {CASE_COLUMNS}, (SELECT name FROM desks WHERE id = s.desk_id) FROM case_shares s
             JOIN cases c ON c.id = s.case_id
             JOIN desks d ON d.id = c.desk_id
             WHERE s.recipient_id = ?1
             ORDER BY 6 DESC, 1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([recipient_id], |r| Ok((case_row(r)?, r.get(13)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Number of events in the log.
    pub fn event_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| get_u64(r, 0))?)
    }
}

/// The columns [`case_row`] reads, over `cases c` joined with `desks d`:
/// the state and dates are derived from the append-only event log.
const CASE_COLUMNS: &str =
    "SELECT c.id, d.name, c.desk_id, c.reporter_x25519, c.reporter_ed25519, c.opened_on,
               (SELECT state FROM events e WHERE e.case_id = c.id AND e.kind = 'state-changed'
                  ORDER BY e.seq DESC LIMIT 1),
               (SELECT on_day FROM events e WHERE e.case_id = c.id ORDER BY e.seq DESC LIMIT 1),
               (SELECT on_day FROM events e WHERE e.case_id = c.id AND e.recipient_id IS NOT NULL
                  AND e.kind IN ('message-posted', 'state-changed') ORDER BY e.seq DESC LIMIT 1),
               (SELECT on_day FROM events e WHERE e.case_id = c.id AND e.recipient_id IS NOT NULL
                  AND e.kind IN ('message-posted', 'state-changed') ORDER BY e.seq LIMIT 1),
               (SELECT count(*) FROM messages m WHERE m.case_id = c.id),
               (SELECT on_day FROM events e WHERE e.case_id = c.id AND e.kind = 'case-erased'),
               (SELECT seq - 1 FROM events e WHERE e.case_id = c.id AND e.kind = 'case-erased')";

fn recipient_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecipientRow> {
    Ok(RecipientRow {
        id: r.get(0)?,
        desk: r.get(1)?,
        card: r.get(2)?,
        added_on: r.get(3)?,
        removed_on: r.get(4)?,
    })
}

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
        erased: match (
            r.get::<_, Option<String>>(11)?,
            r.get::<_, Option<i64>>(12)?,
        ) {
            (Some(on_day), Some(entry)) => Some(Erasure {
                on_day,
                entry: u64::try_from(entry)
                    .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(12, entry))?,
            }),
            _ => None,
        },
    })
}

/// SQLite integers are i64; counts and sequence numbers are never negative.
pub(crate) fn get_u64(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let v: i64 = r.get(idx)?;
    u64::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, v))
}

/// The desk of a case that can still be written to.
fn case_desk(tx: &rusqlite::Transaction<'_>, case: &[u8; 16]) -> Result<i64> {
    let (desk, erased): (i64, bool) = tx
        .query_row(
            "SELECT desk_id, EXISTS (SELECT 1 FROM events
                                     WHERE case_id = ?1 AND kind = 'case-erased')
             FROM cases WHERE id = ?1",
            [&case[..]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(StoreError::NotFound)?;
    if erased {
        return Err(StoreError::Erased);
    }
    Ok(desk)
}

fn insert_message(
    tx: &rusqlite::Transaction<'_>,
    case: &[u8; 16],
    desk_id: i64,
    m: &NewMessage<'_>,
    day: &str,
) -> Result<()> {
    let next: u64 = tx.query_row(
        "SELECT count(*) FROM messages WHERE case_id = ?1",
        [&case[..]],
        |r| get_u64(r, 0),
    )?;
    if m.seq != next {
        return Err(StoreError::Conflict(
            "the thread has moved on: fetch it and sign again",
        ));
    }
    let seq =
        i64::try_from(m.seq).map_err(|_| StoreError::Conflict("sequence number out of range"))?;
    tx.execute(
        "INSERT INTO messages (case_id, seq, direction, author, envelope, signature, posted_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            &case[..],
            seq,
            m.direction,
            m.author,
            m.envelope,
            m.signature,
            day
        ],
    )?;
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

fn insert_state(
    tx: &rusqlite::Transaction<'_>,
    case: &[u8; 16],
    desk_id: i64,
    state: &str,
    recipient_id: Option<&str>,
    day: &str,
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

fn insert_share(
    tx: &rusqlite::Transaction<'_>,
    case: &[u8; 16],
    s: &NewShare<'_>,
    day: &str,
) -> Result<u64> {
    let case_desk_id = case_desk(tx, case)?;
    let (excluded, reading, active, messages): (bool, bool, bool, u64) = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM case_excluded WHERE case_id = ?1 AND recipient_id = ?2),
                EXISTS (SELECT 1 FROM case_recipients WHERE case_id = ?1 AND recipient_id = ?2)
                OR EXISTS (SELECT 1 FROM case_shares WHERE case_id = ?1 AND recipient_id = ?2),
                EXISTS (SELECT 1 FROM recipients WHERE desk_id = ?3 AND id = ?2
                        AND removed_on IS NULL),
                (SELECT count(*) FROM messages WHERE case_id = ?1)",
        params![&case[..], s.reader, s.desk_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, get_u64(r, 3)?)),
    )?;
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
    tx.execute(
        "INSERT INTO case_shares (case_id, recipient_id, desk_id, shared_by, upto, envelope,
                                  signature, shared_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            &case[..],
            s.reader,
            s.desk_id,
            s.shared_by,
            upto,
            s.envelope,
            s.signature,
            day
        ],
    )?;
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
