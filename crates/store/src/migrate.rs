//! Schema migrations, each in one transaction: a database is either fully
//! migrated or untouched.
//!
//! Version 1 (the core flow) had no transparency log. Version 2 adds the
//! `leaf` column to `events`, the `log_nodes` and `checkpoints` tables and
//! their triggers, and lets a case's messages be deleted once its erasure is
//! logged. The old events are replayed in order into the new table, so the
//! log starts with the whole history. Version 3 adds per-desk deadlines,
//! the recipients each case's reporter left out, and shared cases; the
//! left-out recipients of older cases are worked out from the desk's roster
//! on the day each opened (see [`v2_to_v3`]). Version 4 adds the replay
//! guard's `seen_requests`, empty. Version 5 adds `case_status`, filled
//! from the events; version 6 the index of the desks' own events; version 7
//! rebuilds `messages` and `case_shares` as rowid tables; version 8 adds
//! the index a case's timeline is read from. Every
//! new object is created from its
//! own statement in `schema.sql`, so a migrated database has exactly the
//! schema of a new one (`sotto audit db` checks that).

use rusqlite::{params, Connection, Transaction, TransactionBehavior};
use sotto_tlog::leaf::Kind;
use sotto_wire::CaseState;

use crate::cases::DERIVED_STATUS;
use crate::{log, Result, StoreError, SCHEMA};

/// Objects that version 2 creates or replaces, in creation order.
const V2_OBJECTS: &[&str] = &[
    "events",
    "events_by_case",
    "log_nodes",
    "checkpoints",
    "events_are_append_only_update",
    "events_are_append_only_delete",
    "messages_are_append_only_delete",
    "log_nodes_are_append_only_update",
    "log_nodes_are_append_only_delete",
    "checkpoints_are_append_only_update",
    "checkpoints_are_append_only_delete",
];

/// A version-1 event row.
struct OldEvent {
    seq: i64,
    kind: String,
    on_day: String,
    desk_id: i64,
    case_id: Option<Vec<u8>>,
    recipient_id: Option<String>,
    state: Option<String>,
    message_seq: Option<i64>,
    envelope_hash: Option<Vec<u8>>,
}

/// Creates `names`, in order, each from its own statement in `schema.sql`,
/// so a migrated database has exactly the schema of a new one.
fn create_objects(tx: &Transaction<'_>, names: &[&str]) -> Result<()> {
    let schema = Connection::open_in_memory()?;
    schema.execute_batch(SCHEMA)?;
    for name in names {
        let sql: String = schema.query_row(
            "SELECT sql FROM sqlite_master WHERE name = ?1",
            [name],
            |r| r.get(0),
        )?;
        tx.execute_batch(&sql)?;
    }
    Ok(())
}

/// A step from one version to the next: what it changes, within the
/// transaction [`run`] gives it.
type Step = fn(&Transaction<'_>) -> Result<()>;

/// The steps, the first from version 1, the last to the current one.
const STEPS: [Step; 7] = [
    v1_to_v2, v2_to_v3, v3_to_v4, v4_to_v5, v5_to_v6, v6_to_v7, v7_to_v8,
];
const _: () = assert!(STEPS.len() as i64 == crate::SCHEMA_VERSION - 1);

/// Migrates a database found at version `found` (1 or later, older than
/// [`crate::SCHEMA_VERSION`]). Each step is its own transaction, which
/// first checks the version it starts from (another process may have
/// migrated while this one waited for the lock) and ends by setting the
/// next: a crash between two steps resumes at the next one.
pub(crate) fn run(conn: &Connection, found: i64) -> Result<()> {
    for (from, step) in (1..).zip(STEPS) {
        if from < found {
            continue;
        }
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version != from {
            continue;
        }
        step(&tx)?;
        tx.pragma_update(None, "user_version", from + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn v1_to_v2(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(
        "DROP TRIGGER events_are_append_only_update;
         DROP TRIGGER events_are_append_only_delete;
         DROP TRIGGER messages_are_append_only_delete;
         DROP INDEX events_by_case;
         ALTER TABLE events RENAME TO events_v1;",
    )?;
    create_objects(tx, V2_OBJECTS)?;
    let old: Vec<OldEvent> = tx
        .prepare(
            "SELECT seq, kind, on_day, desk_id, case_id, recipient_id, state, message_seq,
                    envelope_hash
             FROM events_v1 ORDER BY seq",
        )?
        .query_map([], |r| {
            Ok(OldEvent {
                seq: r.get(0)?,
                kind: r.get(1)?,
                on_day: r.get(2)?,
                desk_id: r.get(3)?,
                case_id: r.get(4)?,
                recipient_id: r.get(5)?,
                state: r.get(6)?,
                message_seq: r.get(7)?,
                envelope_hash: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (i, e) in old.iter().enumerate() {
        if e.seq != i as i64 + 1 {
            return Err(StoreError::Invalid(
                "the version 1 event log has a gap; restore the database from a backup",
            ));
        }
        let kind = Kind::parse(&e.kind).ok_or(StoreError::Invalid("unknown event kind"))?;
        // Version 1 kept the report's hash on its message event only; the
        // case-opened event carries it from version 2 on.
        let envelope_hash = match kind {
            Kind::CaseOpened => {
                let envelope: Vec<u8> = tx.query_row(
                    "SELECT envelope FROM messages WHERE case_id = ?1 AND seq = 0",
                    [&e.case_id],
                    |r| r.get(0),
                )?;
                Some(sotto_envelope::sha256(&envelope).to_vec())
            }
            _ => e.envelope_hash.clone(),
        };
        // The old row is copied as it is; only its leaf reads it typed.
        let leaf = log::leaf_for(
            tx,
            kind,
            log::stored_day(&e.on_day)?,
            e.desk_id,
            e.case_id.as_deref(),
            e.recipient_id.as_deref(),
            e.state.as_deref().and_then(CaseState::parse),
            e.message_seq,
            envelope_hash.as_deref(),
        )?
        .encode();
        tx.execute(
            "INSERT INTO events (seq, kind, on_day, desk_id, case_id, recipient_id, state,
                                 message_seq, envelope_hash, leaf)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                e.seq,
                e.kind,
                e.on_day,
                e.desk_id,
                e.case_id,
                e.recipient_id,
                e.state,
                e.message_seq,
                envelope_hash,
                leaf
            ],
        )?;
        log::append_leaf(tx, i as u64, &leaf)?;
    }
    tx.execute_batch("DROP TABLE events_v1;")?;
    Ok(())
}

/// Objects that version 3 creates, in creation order.
const V3_OBJECTS: &[&str] = &[
    "desk_deadlines",
    "case_excluded",
    "case_shares",
    "case_shares_by_recipient",
    "case_shares_are_append_only_update",
    "case_shares_are_append_only_delete",
    "case_excluded_is_fixed_update",
    "case_excluded_is_fixed_delete",
];

/// Version 2 did not record whom a reporter left out. The migration counts
/// as left out every recipient of the case's desk who was on it on the day
/// the case opened and is not among its readers. The roster keeps only a
/// recipient's latest addition and removal, so this errs towards leaving
/// out: a recipient added or removed that very day counts as offered.
fn v2_to_v3(tx: &Transaction<'_>) -> Result<()> {
    create_objects(tx, V3_OBJECTS)?;
    tx.execute_batch(
        "INSERT INTO case_excluded (case_id, recipient_id)
         SELECT c.id, r.id FROM cases c JOIN recipients r ON r.desk_id = c.desk_id
         WHERE r.added_on <= c.opened_on
           AND (r.removed_on IS NULL OR r.removed_on >= c.opened_on)
           AND NOT EXISTS (SELECT 1 FROM case_recipients cr
                           WHERE cr.case_id = c.id AND cr.recipient_id = r.id);",
    )?;
    Ok(())
}

/// Version 4 keeps the replay guard in the database (`seen_requests`). It
/// starts empty: the guard of the server that ran version 3 lived in its
/// memory, and went with it.
fn v3_to_v4(tx: &Transaction<'_>) -> Result<()> {
    create_objects(tx, &["seen_requests"])
}

/// Version 4 to 5: `case_status` and the triggers that keep it, filled
/// from the events and messages already stored.
fn v4_to_v5(tx: &Transaction<'_>) -> Result<()> {
    create_objects(
        tx,
        &[
            "case_status",
            "case_status_follows_events",
            "case_status_counts_messages",
            "case_status_counts_erased_messages",
        ],
    )?;
    tx.execute_batch(&format!(
        "INSERT INTO case_status (case_id, state, updated_on, desk_updated_on, desk_first_on,
                                  message_count, erased_on, erased_entry, version)
         {DERIVED_STATUS}"
    ))?;
    Ok(())
}

/// Version 5 to 6: the index of the desks' own events, which the roster
/// summary reads (`Store::desk_events`).
fn v5_to_v6(tx: &Transaction<'_>) -> Result<()> {
    create_objects(tx, &["events_of_desks"])
}

/// The tables that version 7 rebuilds with a rowid, each with the columns
/// it copies, its key, and the objects on it (created after the copy, so
/// that the counting trigger does not count the copied messages again).
const V7_TABLES: &[(&str, &str, &str, &[&str])] = &[
    (
        "messages",
        "case_id, seq, direction, author, envelope, signature, posted_on",
        "case_id, seq",
        &[
            "messages_are_append_only_update",
            "messages_are_append_only_delete",
            "case_status_counts_messages",
            "case_status_counts_erased_messages",
        ],
    ),
    (
        "case_shares",
        "case_id, recipient_id, desk_id, shared_by, upto, envelope, signature, shared_on",
        "case_id, recipient_id",
        &[
            "case_shares_by_recipient",
            "case_shares_are_append_only_update",
            "case_shares_are_append_only_delete",
        ],
    ),
];

/// Version 6 to 7: `messages` and `case_shares` were `WITHOUT ROWID`, so
/// the interior pages of their B-trees held whole rows, envelopes
/// included, and every lookup read envelopes' overflow pages on its way
/// down (docs/benchmarks.md). Each is copied aside, dropped, created again
/// from `schema.sql` and filled in its key's order; the copy is a
/// temporary table, dropped once copied back. Dropping
/// fires no trigger, and no table refers to either. With `secure_delete`
/// the old pages are zeroed before the new rows reuse them. 0.7 s for a
/// 10,000-case database of 105 MiB.
fn v6_to_v7(tx: &Transaction<'_>) -> Result<()> {
    for (table, columns, key, objects) in V7_TABLES {
        tx.execute_batch(&format!(
            "CREATE TEMP TABLE v6_{table} AS SELECT {columns} FROM main.{table} ORDER BY {key};
             DROP TABLE main.{table};"
        ))?;
        create_objects(tx, &[table])?;
        tx.execute_batch(&format!(
            "INSERT INTO main.{table} ({columns}) SELECT {columns} FROM temp.v6_{table} ORDER BY rowid;
             DROP TABLE temp.v6_{table};"
        ))?;
        create_objects(tx, objects)?;
    }
    Ok(())
}

/// Version 7 to 8: the index a case's timeline is read from alone
/// (`events_states_by_case`), built from the events there are.
fn v7_to_v8(tx: &Transaction<'_>) -> Result<()> {
    create_objects(tx, &["events_states_by_case"])
}
