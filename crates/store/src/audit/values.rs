//! The values check: every value of every table has its column's shape,
//! and none looks like something identifying (an address, an e-mail, a
//! link, a user agent, prose outside the public names).

use std::collections::BTreeMap;

use rusqlite::types::ValueRef;
use rusqlite::Connection;
use sotto_envelope::keys::RecipientCard;
use sotto_tlog::Checkpoint;

use super::Audit;
use crate::{detect, StoreError};

const WHY_IDENTIFYING: &str = "the server must store nothing that identifies a reporter: no address, no e-mail, no link, no client software, no plaintext";
const WHY_SHAPE: &str = "each column holds one documented kind of value; anything else is data that should not be there, or damage";

/// The shape a column's values must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Int,
    Bytes(usize),
    Day,
    Digits25,
    Age1,
    Card,
    Envelope,
    Leaf,
    Note,
    PublicText,
    Enum(&'static [&'static str]),
    Generation,
}

const KINDS: &[&str] = &[
    "desk-created",
    "recipient-added",
    "recipient-removed",
    "case-opened",
    "message-posted",
    "state-changed",
    "case-shared",
    "case-erased",
];
const DIRECTIONS: &[&str] = &["reporter", "desk"];
const STATES: &[&str] = &[
    "received",
    "acknowledged",
    "in-review",
    "needs-info",
    "resolved",
    "closed",
    "record-only",
    "bad-faith",
];

/// Every column of schema version 4: its shape and whether it may be NULL.
fn shape(table: &str, column: &str) -> Option<(Shape, bool)> {
    use Shape::*;
    Some(match (table, column) {
        ("desks", "id") => (Int, false),
        ("desks", "name") | ("desks", "description") => (PublicText, false),
        ("desks", "created_on") => (Day, false),
        ("recipients", "desk_id") => (Int, false),
        ("recipients", "id") => (Digits25, false),
        ("recipients", "card") => (Card, false),
        ("recipients", "added_on") => (Day, false),
        ("recipients", "removed_on") => (Day, true),
        ("desk_deadlines", "desk_id")
        | ("desk_deadlines", "acknowledge_days")
        | ("desk_deadlines", "update_days")
        | ("desk_deadlines", "feedback_months") => (Int, false),
        ("case_excluded", "case_id") => (Bytes(16), false),
        ("case_excluded", "recipient_id") => (Digits25, false),
        ("case_shares", "case_id") => (Bytes(16), false),
        ("case_shares", "recipient_id") => (Digits25, false),
        ("case_shares", "desk_id") | ("case_shares", "upto") => (Int, false),
        ("case_shares", "shared_by") => (Digits25, true),
        ("case_shares", "envelope") => (Envelope, false),
        ("case_shares", "signature") => (Bytes(64), false),
        ("case_shares", "shared_on") => (Day, false),
        ("cases", "id") => (Bytes(16), false),
        ("cases", "desk_id") => (Int, false),
        ("cases", "handle_hash") => (Bytes(32), false),
        ("cases", "reporter_x25519") => (Age1, false),
        ("cases", "reporter_ed25519") => (Bytes(32), false),
        ("cases", "opened_on") => (Day, false),
        ("case_recipients", "case_id") => (Bytes(16), false),
        ("case_recipients", "recipient_id") => (Digits25, false),
        ("messages", "case_id") => (Bytes(16), false),
        ("messages", "seq") => (Int, false),
        ("messages", "direction") => (Enum(DIRECTIONS), false),
        ("messages", "author") => (Digits25, true),
        ("messages", "envelope") => (Envelope, false),
        ("messages", "signature") => (Bytes(64), false),
        ("messages", "posted_on") => (Day, false),
        ("events", "seq") | ("events", "desk_id") => (Int, false),
        ("events", "kind") => (Enum(KINDS), false),
        ("events", "on_day") => (Day, false),
        ("events", "case_id") => (Bytes(16), true),
        ("events", "recipient_id") => (Digits25, true),
        ("events", "state") => (Enum(STATES), true),
        ("events", "message_seq") => (Int, true),
        ("events", "envelope_hash") => (Bytes(32), true),
        ("events", "leaf") => (Leaf, false),
        ("log_nodes", "level") | ("log_nodes", "idx") => (Int, false),
        ("log_nodes", "hash") => (Bytes(32), false),
        ("checkpoints", "size") => (Int, false),
        ("checkpoints", "note") => (Note, false),
        ("checkpoints", "published_on") => (Day, false),
        ("case_status", "case_id") => (Bytes(16), false),
        ("case_status", "state") => (Enum(STATES), true),
        ("case_status", "updated_on") => (Day, false),
        ("case_status", "desk_updated_on")
        | ("case_status", "desk_first_on")
        | ("case_status", "erased_on") => (Day, true),
        ("case_status", "message_count") | ("case_status", "version") => (Int, false),
        ("case_status", "erased_entry") => (Int, true),
        ("seen_requests", "tag") => (Bytes(32), false),
        ("seen_requests", "generation") => (Generation, false),
        _ => return None,
    })
}
/// Checks one value against its shape; returns what is wrong.
fn wrong_shape(shape: Shape, nullable: bool, v: ValueRef<'_>) -> Option<String> {
    use Shape::*;
    match (shape, v) {
        (_, ValueRef::Null) if nullable => None,
        (_, ValueRef::Null) => Some("NULL where a value belongs".into()),
        (Int, ValueRef::Integer(i)) if i >= 0 => None,
        (Int, _) => Some("not a non-negative integer".into()),
        (Bytes(n), ValueRef::Blob(b)) if b.len() == n => None,
        (Bytes(n), _) => Some(format!("not {n} bytes")),
        (Day, ValueRef::Text(t))
            if std::str::from_utf8(t)
                .ok()
                .and_then(sotto_wire::Day::parse)
                .is_some() =>
        {
            None
        }
        (Day, _) => Some("not a day (YYYY-MM-DD)".into()),
        (Digits25, ValueRef::Text(t)) if t.len() == 25 && t.iter().all(u8::is_ascii_digit) => None,
        (Digits25, _) => Some("not a recipient id (25 digits)".into()),
        (Age1, ValueRef::Text(t)) => match std::str::from_utf8(t)
            .ok()
            .map(sotto_envelope::Recipient::parse)
        {
            Some(Ok(r)) if r.to_string().as_bytes() == t => None,
            _ => Some("not a canonical age1… public key".into()),
        },
        (Age1, _) => Some("not an age1… public key".into()),
        (Card, ValueRef::Text(t)) => match std::str::from_utf8(t).ok().map(RecipientCard::parse) {
            Some(Ok(c)) if c.to_string().as_bytes() == t => None,
            _ => Some("not a canonical recipient card".into()),
        },
        (Card, _) => Some("not a recipient card".into()),
        (Envelope, ValueRef::Blob(b)) => {
            match sotto_envelope::inspect(b, sotto_envelope::MAX_STANZAS) {
                Ok(h) if h.other_stanzas == 0 && h.x25519_stanzas > 0 => None,
                Ok(_) => Some("an age file with stanzas other than X25519".into()),
                Err(e) => Some(format!("not a well-formed age v1 file ({e})")),
            }
        }
        (Envelope, _) => Some("not an age file".into()),
        (Leaf, ValueRef::Blob(b)) if sotto_tlog::Leaf::decode(b).is_some() => None,
        (Leaf, _) => Some("not a well-formed log leaf".into()),
        (Note, ValueRef::Text(t)) => {
            let text = std::str::from_utf8(t).unwrap_or("");
            let body = text.rsplit_once("\n\n").map(|(b, _)| format!("{b}\n"));
            match body.as_deref().map(Checkpoint::parse_text) {
                Some(Ok(_)) => None,
                _ => Some("not a signed checkpoint".into()),
            }
        }
        (Note, _) => Some("not a signed checkpoint".into()),
        (PublicText, ValueRef::Text(_)) => None,
        (PublicText, _) => Some("not text".into()),
        (Enum(allowed), ValueRef::Text(t)) if allowed.iter().any(|x| x.as_bytes() == t) => None,
        (Enum(_), _) => Some("not one of the column's documented values".into()),
        // A replay tag's generation is 0 or 1: a larger number could be a
        // time (a Unix second dates a desk's action).
        (Generation, ValueRef::Integer(0 | 1)) => None,
        (Generation, _) => Some("not a generation (0 or 1)".into()),
    }
}
pub(super) fn check_values(
    conn: &Connection,
    a: &mut Audit,
) -> Result<BTreeMap<String, u64>, StoreError> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut rows = BTreeMap::new();
    for table in tables {
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        let mut stmt = conn.prepare(&format!("SELECT * FROM {quoted}"))?;
        let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let mut q = stmt.query([])?;
        let mut n = 0u64;
        while let Some(row) = q.next()? {
            n += 1;
            for (i, column) in columns.iter().enumerate() {
                let v = row.get_ref(i)?;
                let place = format!("{table}.{column}, row {n}");
                let spec = shape(&table, column);
                let looks = match v {
                    ValueRef::Text(t) => detect::text(
                        &String::from_utf8_lossy(t),
                        spec.is_some_and(|(s, _)| matches!(s, Shape::PublicText | Shape::Card)),
                    ),
                    ValueRef::Blob(b) if spec.map(|(s, _)| s) != Some(Shape::Envelope) => {
                        detect::binary(b)
                    }
                    _ => None,
                };
                if let Some(looks) = looks {
                    a.add(
                        "values",
                        place,
                        format!("holds {}", looks.describe()),
                        WHY_IDENTIFYING,
                    );
                    continue;
                }
                if let Some((shape, nullable)) = spec {
                    if let Some(what) = wrong_shape(shape, nullable, v) {
                        a.add("values", place, what, WHY_SHAPE);
                    }
                }
            }
        }
        rows.insert(table, n);
    }
    Ok(rows)
}
