//! `sotto audit db`: proves, read-only, that a database holds only what
//! `schema.sql` says, and that its history is the one the log signed.
//!
//! Every check explains what it found and why it matters. The checks:
//!
//! - **schema**: exactly the tables, columns, indexes and triggers of
//!   `schema.sql` (compared statement by statement), at version 3;
//! - **values**: every value of every table has its column's shape (a hash
//!   is 32 bytes, a day is a real `YYYY-MM-DD`, an envelope is a complete
//!   age v1 file with only X25519 stanzas, a card parses…), and no value
//!   looks like an IP address, an e-mail address, a URL, a user agent or
//!   (outside the public names) prose;
//! - **log**: the events are numbered 1, 2, 3… with no gap; each leaf is
//!   well formed and exactly what the other rows say it must be; the stored
//!   tree is the tree of the leaves; every stored checkpoint's root is the
//!   root of the leaves it covers, and its signature verifies with the
//!   log's key when one is given; the leaves replay without contradiction;
//! - **cases**, **messages**, **recipients**: every case has its opening
//!   event and every opening its case; every message has its event with the
//!   envelope's hash, and a signature that verifies; every message event
//!   has its message unless the case was erased; each share matches its
//!   logged `case-shared` event, is signed by the reporter or a reader of
//!   the case, and never goes to a recipient the reporter left out; each
//!   desk's active recipients are exactly those the log added and did not
//!   remove.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use sotto_envelope::keys::RecipientCard;
use sotto_envelope::sign::{CaseId, Direction, Signature, VerifyingKey};
use sotto_tlog::leaf::{self, Kind, Leaf};
use sotto_tlog::merkle::{self, Frontier, Hash};
use sotto_tlog::{Checkpoint, NoteVerifier, Replay};

use crate::detect;
use crate::{log, StoreError, SCHEMA, SCHEMA_VERSION};

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which group of checks: `schema`, `values`, `log`, `cases`,
    /// `messages`, `recipients`.
    pub check: &'static str,
    /// Where: a table and row, or an object.
    pub place: String,
    /// What was found.
    pub found: String,
    /// Why it matters.
    pub why: &'static str,
}

/// What the audit found, and what it looked at.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
    /// Leaves in the log.
    pub log_size: u64,
    /// The latest stored checkpoint's size.
    pub checkpoint_size: Option<u64>,
    /// Whether checkpoint signatures were checked (a key was given).
    pub signatures_checked: bool,
    /// Everything wrong; empty when the database passes.
    pub findings: Vec<Finding>,
}

const WHY_SCHEMA: &str = "the schema is the list of what may be stored; anything else could hold identifying data, and a changed trigger lets history be rewritten";
const WHY_IDENTIFYING: &str = "the server must store nothing that identifies a reporter: no address, no e-mail, no link, no client software, no plaintext";
const WHY_SHAPE: &str = "each column holds one documented kind of value; anything else is data that should not be there, or damage";
const WHY_LOG: &str = "the log is what reporters and auditors were promised: a leaf that differs from the database, or a tree that differs from the leaves, means history was changed after it was signed";
const WHY_CASE: &str = "a case whose row or events went missing was deleted or hidden; reporters and auditors can prove it from the log";
const WHY_MESSAGE: &str = "a message must be exactly the envelope its author signed and the log recorded; anything else was altered, added or removed behind their back";
const WHY_READERS: &str = "who can read future reports must be public: a recipient active on a desk without a logged addition could read reports unseen";

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

/// Every column of schema version 3: its shape and whether it may be NULL.
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
        _ => return None,
    })
}

/// Collects findings.
struct Audit {
    findings: Vec<Finding>,
}

impl Audit {
    fn add(
        &mut self,
        check: &'static str,
        place: impl Into<String>,
        found: impl Into<String>,
        why: &'static str,
    ) {
        self.findings.push(Finding {
            check,
            place: place.into(),
            found: found.into(),
            why,
        });
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Audits the database at `path` (a `sotto.db`, or a data directory that
/// holds one), read-only, in one read transaction. `log_key` checks the
/// checkpoints' signatures.
pub fn audit(path: &Path, log_key: Option<&NoteVerifier>) -> Result<Report, StoreError> {
    let file = if path.is_dir() {
        path.join(crate::DB_FILE)
    } else {
        path.to_owned()
    };
    if !file.is_file() {
        return Err(StoreError::Invalid(
            "no database there: give a sotto.db file or a data directory",
        ));
    }
    let conn = Connection::open_with_flags(
        &file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // One snapshot for every query, even beside a running server.
    conn.execute_batch("BEGIN")?;
    let mut a = Audit {
        findings: Vec::new(),
    };
    // What schema.sql makes: the reference for both schema checks.
    let documented = Connection::open_in_memory()?;
    documented.execute_batch(SCHEMA)?;
    check_schema(&conn, &documented, &mut a)?;
    let usable = tables_usable(&conn, &documented)?;
    let rows = check_values(&conn, &mut a)?;
    let mut report = Report {
        rows,
        log_size: 0,
        checkpoint_size: None,
        signatures_checked: log_key.is_some(),
        findings: Vec::new(),
    };
    // The cross-checks read the documented tables and columns; without
    // them they could not run (the schema findings say what is missing).
    if usable {
        let (size, checkpoint) = check_log(&conn, log_key, &mut a)?;
        report.log_size = size;
        report.checkpoint_size = checkpoint;
        check_cases_and_messages(&conn, &mut a)?;
    }
    conn.execute_batch("COMMIT")?;
    report.findings = a.findings;
    Ok(report)
}

fn objects(conn: &Connection) -> rusqlite::Result<BTreeMap<(String, String), String>> {
    let mut stmt = conn.prepare(
        "SELECT type, name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
    )?;
    let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
    rows.collect()
}

fn normalize(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether every documented table exists with every documented column.
fn tables_usable(conn: &Connection, mem: &Connection) -> Result<bool, StoreError> {
    let columns = |c: &Connection, t: &str| -> rusqlite::Result<BTreeSet<String>> {
        c.prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))?
            .query_map([], |r| r.get(0))?
            .collect()
    };
    let tables: Vec<String> = mem
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for t in tables {
        if !columns(mem, &t)?.is_subset(&columns(conn, &t)?) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn check_schema(
    conn: &Connection,
    documented: &Connection,
    a: &mut Audit,
) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != SCHEMA_VERSION {
        a.add(
            "schema",
            "PRAGMA user_version",
            format!("version {version}, expected {SCHEMA_VERSION}"),
            WHY_SCHEMA,
        );
    }
    let want = objects(documented)?;
    let have = objects(conn)?;
    for ((kind, name), sql) in &have {
        match want.get(&(kind.clone(), name.clone())) {
            None => {
                a.add(
                    "schema",
                    format!("{kind} {name}"),
                    format!("a {kind} that schema.sql does not define"),
                    WHY_SCHEMA,
                );
            }
            Some(w) if normalize(w) != normalize(sql) => {
                a.add(
                    "schema",
                    format!("{kind} {name}"),
                    format!("defined differently from schema.sql: {}", normalize(sql)),
                    WHY_SCHEMA,
                );
            }
            Some(_) => {}
        }
    }
    for (kind, name) in want.keys() {
        if !have.contains_key(&(kind.clone(), name.clone())) {
            a.add(
                "schema",
                format!("{kind} {name}"),
                format!("the {kind} is missing"),
                WHY_SCHEMA,
            );
        }
    }
    Ok(())
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
        (Envelope, ValueRef::Blob(b)) => match sotto_envelope::inspect(b) {
            Ok(h) if h.other_stanzas == 0 && h.x25519_stanzas > 0 => None,
            Ok(_) => Some("an age file with stanzas other than X25519".into()),
            Err(e) => Some(format!("not a well-formed age v1 file ({e})")),
        },
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
    }
}

fn check_values(conn: &Connection, a: &mut Audit) -> Result<BTreeMap<String, u64>, StoreError> {
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

/// Returns the log size and the latest checkpoint's size.
fn check_log(
    conn: &Connection,
    key: Option<&NoteVerifier>,
    a: &mut Audit,
) -> Result<(u64, Option<u64>), StoreError> {
    let events = log::event_rows(conn)?;
    let mut frontier = Frontier::new();
    let mut roots: Vec<Hash> = vec![merkle::EMPTY_ROOT];
    let mut computed: HashMap<(u32, u64), Hash> = HashMap::new();
    let mut replay = Replay::new(0);
    let mut next_seq = 1i64;
    for (i, e) in events.iter().enumerate() {
        let place = format!("events, seq {}", e.seq);
        if e.seq != next_seq {
            let gap = if e.seq == next_seq + 1 {
                format!("event {next_seq} is missing: removed from the log")
            } else {
                format!(
                    "events {next_seq} to {} are missing: removed from the log",
                    e.seq - 1
                )
            };
            a.add("log", "events", gap, WHY_LOG);
        }
        next_seq = e.seq + 1;
        let index = i as u64;
        let leaf = Leaf::decode(&e.leaf);
        match (&leaf, Kind::parse(&e.kind)) {
            (Some(l), Some(kind)) if l.event.kind() == kind => {
                let expected = log::expected_leaf(conn, e);
                match expected {
                    Ok(x) if x == *l => {}
                    Ok(_) => a.add("log", &place, format!(
                        "the leaf does not match the database: the {} rows it commits to were changed after it was logged",
                        e.kind
                    ), WHY_LOG),
                    Err(err) => a.add("log", &place, format!("the leaf cannot be checked: {err}"), WHY_LOG),
                }
                for p in replay.apply(l) {
                    a.add("log", &place, p, WHY_LOG);
                }
            }
            _ => {
                replay.size += 1;
                a.add(
                    "log",
                    &place,
                    "the leaf is malformed or of another kind than the event",
                    WHY_LOG,
                );
            }
        }
        let h = merkle::leaf_hash(&e.leaf);
        let nodes = merkle::appended(index, h, &mut |l, n| {
            computed.get(&(l, n)).copied().ok_or(())
        });
        if let Ok(nodes) = nodes {
            for (l, n, h) in nodes {
                computed.insert((l, n), h);
            }
        }
        frontier.push(h);
        roots.push(frontier.root());
    }
    let size = events.len() as u64;
    // The stored tree must be the tree of the stored leaves.
    let mut stored = 0u64;
    let mut stmt = conn.prepare("SELECT level, idx, hash FROM log_nodes")?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        stored += 1;
        let (level, idx, hash): (i64, i64, Vec<u8>) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let want = u32::try_from(level)
            .ok()
            .zip(u64::try_from(idx).ok())
            .and_then(|k| computed.get(&k));
        if want.map(|w| &w[..]) != Some(&hash[..]) {
            a.add(
                "log",
                format!("log_nodes, level {level} idx {idx}"),
                "a tree hash that is not the hash of the stored leaves",
                WHY_LOG,
            );
        }
    }
    if stored != computed.len() as u64 {
        a.add(
            "log",
            "log_nodes",
            format!(
                "{stored} tree hashes stored, {} expected for {size} leaves",
                computed.len()
            ),
            WHY_LOG,
        );
    }
    // Every checkpoint must be a root of these leaves, signed by the log.
    let mut latest = None;
    let mut stmt = conn.prepare("SELECT size, note FROM checkpoints ORDER BY size")?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let (csize, note): (i64, String) = (r.get(0)?, r.get(1)?);
        let place = format!("checkpoints, size {csize}");
        latest = u64::try_from(csize).ok();
        let body = match key {
            Some(k) => match Checkpoint::open(&note, k) {
                Ok(c) => Some(c),
                Err(e) => {
                    a.add(
                        "log",
                        &place,
                        format!("the signature does not verify with the log's key ({e}): forged"),
                        WHY_LOG,
                    );
                    None
                }
            },
            None => note
                .rsplit_once("\n\n")
                .and_then(|(b, _)| Checkpoint::parse_text(&format!("{b}\n")).ok()),
        };
        let Some(c) = body else { continue };
        if i64::try_from(c.size).ok() != Some(csize) {
            a.add(
                "log",
                &place,
                "the note names another size than its row",
                WHY_LOG,
            );
        }
        match roots.get(c.size as usize) {
            Some(root) if *root == c.root => {}
            Some(_) => a.add("log", &place, "the signed root is not the root of the stored leaves: leaves were changed, removed or inserted after it was signed", WHY_LOG),
            None => a.add("log", &place, format!("signed for {} leaves, but only {size} are stored: leaves were removed", c.size), WHY_LOG),
        }
    }
    if latest.is_none() {
        a.add(
            "log",
            "checkpoints",
            "no checkpoint was ever published",
            WHY_LOG,
        );
    }
    // Each desk's active recipients are the log's roster.
    let desks: Vec<(i64, String)> = conn
        .prepare("SELECT id, name FROM desks")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, name) in desks {
        let roster = replay.roster(&leaf::desk_commitment(&name));
        let active: Vec<String> = conn
            .prepare("SELECT id FROM recipients WHERE desk_id = ?1 AND removed_on IS NULL")?
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let active_set: BTreeSet<Hash> = active
            .iter()
            .map(|r| leaf::recipient_commitment(r))
            .collect();
        for r in &active {
            if !roster.contains_key(&leaf::recipient_commitment(r)) {
                a.add(
                    "recipients",
                    format!("recipients, desk {name}, id {r}"),
                    "active on the desk, but the log never added them (or logged their removal)",
                    WHY_READERS,
                );
            }
        }
        for k in roster.keys() {
            if !active_set.contains(k) {
                a.add("recipients", format!("desk {name}"), "the log shows a recipient on this desk whom the database does not list as active", WHY_READERS);
            }
        }
    }
    Ok((size, latest))
}

fn check_cases_and_messages(conn: &Connection, a: &mut Audit) -> Result<(), StoreError> {
    // Opening events and case rows, both ways.
    let opened: BTreeSet<Vec<u8>> = conn
        .prepare("SELECT case_id FROM events WHERE kind = 'case-opened' AND case_id IS NOT NULL")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let cases: BTreeMap<Vec<u8>, (Vec<u8>, i64)> = conn
        .prepare("SELECT id, reporter_ed25519, desk_id FROM cases")?
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &opened {
        if !cases.contains_key(id) {
            a.add(
                "cases",
                format!("case {}", hex(id)),
                "the log shows it opened, but its row is gone: the case was deleted",
                WHY_CASE,
            );
        }
    }
    for id in cases.keys() {
        if !opened.contains(id) {
            a.add(
                "cases",
                format!("case {}", hex(id)),
                "a case row with no opening in the log: added behind the log's back",
                WHY_CASE,
            );
        }
    }
    let erased: BTreeSet<Vec<u8>> = conn
        .prepare("SELECT case_id FROM events WHERE kind = 'case-erased'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // Message events by (case, seq): the envelope's hash.
    let mut logged: BTreeMap<(Vec<u8>, i64), Vec<u8>> = conn
        .prepare(
            "SELECT case_id, message_seq, envelope_hash FROM events WHERE kind = 'message-posted'",
        )?
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
        .filter_map(|r| r.ok())
        .collect();
    let cards: HashMap<(i64, String), String> = conn
        .prepare("SELECT desk_id, id, card FROM recipients")?
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let readers: HashMap<Vec<u8>, usize> = conn
        .prepare("SELECT case_id, count(*) FROM case_recipients GROUP BY case_id")?
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?
        .collect::<rusqlite::Result<_>>()?;
    let shares: Shares = conn
        .prepare(
            "SELECT case_id, recipient_id, desk_id, shared_by, upto, envelope, signature
             FROM case_shares",
        )?
        .query_map([], |r| {
            Ok((
                (r.get(0)?, r.get(1)?),
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    // The card of a reader of a case: on its desk, or on the desk it was
    // shared to them through.
    let card_of = |case: &Vec<u8>, desk_id: i64, id: &String| -> Option<RecipientCard> {
        cards
            .get(&(desk_id, id.clone()))
            .or_else(|| {
                shares
                    .get(&(case.clone(), id.clone()))
                    .and_then(|s| cards.get(&(s.0, id.clone())))
            })
            .and_then(|c| RecipientCard::parse(c).ok())
    };
    check_shares(conn, a, &shares, &cases, &erased, &card_of)?;
    let mut stmt = conn.prepare(
        "SELECT case_id, seq, direction, author, envelope, signature FROM messages ORDER BY case_id, seq",
    )?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let case: Vec<u8> = r.get(0)?;
        let seq: i64 = r.get(1)?;
        let direction: String = r.get(2)?;
        let author: Option<String> = r.get(3)?;
        let envelope: Vec<u8> = r.get(4)?;
        let signature: Vec<u8> = r.get(5)?;
        let place = format!("messages, case {} seq {seq}", hex(&case));
        let hash = sotto_envelope::sha256(&envelope);
        match logged.remove(&(case.clone(), seq)) {
            None => a.add(
                "messages",
                &place,
                "a message the log never recorded: added behind the log's back",
                WHY_MESSAGE,
            ),
            Some(h) if h != hash => a.add(
                "messages",
                &place,
                "the envelope is not the one the log recorded: it was altered",
                WHY_MESSAGE,
            ),
            Some(_) => {}
        }
        if let Ok(h) = sotto_envelope::inspect(&envelope) {
            if let Some(n) = readers.get(&case) {
                // Those it was sealed to, and those it was shared with before.
                let n = n + shares
                    .iter()
                    .filter(|((c, _), s)| *c == case && s.2 <= seq)
                    .count();
                if h.x25519_stanzas != n + 1 {
                    a.add(
                        "messages",
                        &place,
                        format!(
                            "encrypted to {} keys, but the case has {n} readers and the reporter",
                            h.x25519_stanzas
                        ),
                        WHY_MESSAGE,
                    );
                }
            }
        }
        // The signature, with the reporter's or the author's key.
        let Some((reporter_key, desk_id)) = cases.get(&case) else {
            continue;
        };
        let key = match (Direction::parse(&direction), &author) {
            (Some(Direction::FromReporter), _) => VerifyingKey::from_slice(reporter_key).ok(),
            (Some(Direction::FromDesk), Some(id)) => {
                card_of(&case, *desk_id, id).map(|c| c.verifying_key)
            }
            _ => None,
        };
        let verified = match (
            key,
            Direction::parse(&direction),
            <[u8; 16]>::try_from(case.as_slice()),
            u64::try_from(seq),
        ) {
            (Some(k), Some(d), Ok(c), Ok(s)) => Signature::from_slice(&signature)
                .is_some_and(|sig| k.verify_envelope(&CaseId(c), s, d, &envelope, &sig).is_ok()),
            _ => false,
        };
        if !verified {
            a.add(
                "messages",
                &place,
                "the signature does not verify with its author's key",
                WHY_MESSAGE,
            );
        }
    }
    for ((case, seq), _) in logged {
        if !erased.contains(&case) {
            a.add(
                "messages",
                format!("case {} seq {seq}", hex(&case)),
                "the log recorded this message, but it is gone and the case was not erased",
                WHY_MESSAGE,
            );
        }
    }
    // Reader ids must be recipients of the case's desk.
    let mut stmt = conn.prepare(
        "SELECT cr.case_id, cr.recipient_id FROM case_recipients cr
         LEFT JOIN cases c ON c.id = cr.case_id
         LEFT JOIN recipients r ON r.desk_id = c.desk_id AND r.id = cr.recipient_id
         WHERE r.id IS NULL",
    )?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let (case, id): (Vec<u8>, String) = (r.get(0)?, r.get(1)?);
        a.add(
            "cases",
            format!("case_recipients, case {} id {id}", hex(&case)),
            "a reader who is no recipient of the case's desk",
            WHY_READERS,
        );
    }
    Ok(())
}

/// Shares: (case, reader) → (desk, sharer, upto, envelope, signature).
type Shares = BTreeMap<(Vec<u8>, String), (i64, Option<String>, i64, Vec<u8>, Vec<u8>)>;
/// The card of a case's reader: (case, case's desk, recipient id).
type CardOf<'a> = dyn Fn(&Vec<u8>, i64, &String) -> Option<RecipientCard> + 'a;

/// Each share must be the one the log recorded (reader, length and the
/// envelope's hash), signed by the reporter or a reader of the case, and
/// never to a recipient the reporter left out; each logged share must still
/// be there unless its case was erased.
fn check_shares(
    conn: &Connection,
    a: &mut Audit,
    shares: &Shares,
    cases: &BTreeMap<Vec<u8>, (Vec<u8>, i64)>,
    erased: &BTreeSet<Vec<u8>>,
    card_of: &CardOf<'_>,
) -> Result<(), StoreError> {
    type Logged = BTreeMap<(Vec<u8>, String), (Option<i64>, Option<Vec<u8>>)>;
    let mut logged: Logged = conn
        .prepare(
            "SELECT case_id, recipient_id, message_seq, envelope_hash FROM events
             WHERE kind = 'case-shared'",
        )?
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))?
        .filter_map(|r| r.ok())
        .collect();
    let excluded: BTreeSet<(Vec<u8>, String)> = conn
        .prepare("SELECT case_id, recipient_id FROM case_excluded")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    const WHY_SHARE: &str = "a case is read only by those the reporter chose and those a reader handed it on to, openly; a share the log did not record, or one to a recipient the reporter left out, gives the case to someone behind their back";
    for ((case, reader), (_, by, upto, envelope, signature)) in shares {
        let place = format!("case_shares, case {} reader {reader}", hex(case));
        let hash = sotto_envelope::sha256(envelope);
        match logged.remove(&(case.clone(), reader.clone())) {
            Some((Some(n), Some(h))) if n == *upto && h == hash => {}
            Some(_) => a.add(
                "cases",
                &place,
                "the share is not the one the log recorded",
                WHY_SHARE,
            ),
            None => a.add("cases", &place, "a share the log never recorded", WHY_SHARE),
        }
        if excluded.contains(&(case.clone(), reader.clone())) {
            a.add(
                "cases",
                &place,
                "shared with a recipient the reporter left out",
                WHY_SHARE,
            );
        }
        let Some((reporter_key, desk_id)) = cases.get(case) else {
            continue;
        };
        let key = match by {
            None => VerifyingKey::from_slice(reporter_key).ok(),
            Some(id) => card_of(case, *desk_id, id).map(|c| c.verifying_key),
        };
        let verified = match (
            key,
            <[u8; 16]>::try_from(case.as_slice()),
            u64::try_from(*upto),
        ) {
            (Some(k), Ok(c), Ok(n)) => Signature::from_slice(signature).is_some_and(|sig| {
                k.verify_share(&CaseId(c), reader, n, envelope, &sig)
                    .is_ok()
            }),
            _ => false,
        };
        if !verified {
            a.add(
                "cases",
                &place,
                "the share's signature does not verify with its sharer's key",
                WHY_SHARE,
            );
        }
    }
    for ((case, reader), _) in logged {
        if !erased.contains(&case) {
            a.add(
                "cases",
                format!("case {} reader {reader}", hex(&case)),
                "the log recorded this share, but it is gone and the case was not erased",
                WHY_SHARE,
            );
        }
    }
    Ok(())
}
