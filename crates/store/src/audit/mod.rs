//! `sotto audit db`: proves, read-only, that a database holds only what
//! `schema.sql` says, and that its history is the one the log signed.
//!
//! Every check explains what it found and why it matters. The checks:
//!
//! - **files**: the database, its `-wal` and `-shm`, and the key files
//!   beside it give no permission to the group or to others (on Unix);
//! - **schema**: exactly the tables, columns, indexes and triggers of
//!   `schema.sql` (compared statement by statement), at version 4;
//! - **values**: every value of every table has its column's shape (a hash
//!   is 32 bytes, a day is a real `YYYY-MM-DD`, an envelope is a complete
//!   age v1 file with only X25519 stanzas, a card parses, a replay tag's
//!   generation is 0 or 1…), and no value looks like an IP address, an
//!   e-mail address, a URL, a user agent or (outside the public names)
//!   prose;
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
//!
//! Each group lives in the module of its name: `files`, `schema`,
//! `values`, `log` (which also holds the recipients' roster, since it
//! replays the log) and `cases` (which also holds messages and shares).
//! This file runs them in one read transaction and collects what they find.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use sotto_tlog::NoteVerifier;

use crate::{StoreError, SCHEMA};

mod cases;
mod files;
mod log;
mod schema;
mod values;

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which group of checks: `files`, `schema`, `values`, `log`, `cases`,
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

/// Why a reader list matters; both the log's roster check and the cases'
/// reader check report under it.
const WHY_READERS: &str = "who can read future reports must be public: a recipient active on a desk without a logged addition could read reports unseen";

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
    files::check_files(&file, &mut a);
    // What schema.sql makes: the reference for both schema checks.
    let documented = Connection::open_in_memory()?;
    documented.execute_batch(SCHEMA)?;
    schema::check_schema(&conn, &documented, &mut a)?;
    let usable = schema::tables_usable(&conn, &documented)?;
    let rows = values::check_values(&conn, &mut a)?;
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
        let (size, checkpoint) = log::check_log(&conn, log_key, &mut a)?;
        report.log_size = size;
        report.checkpoint_size = checkpoint;
        cases::check_cases_and_messages(&conn, &mut a)?;
        cases::check_statuses(&conn, &mut a)?;
    }
    conn.execute_batch("COMMIT")?;
    report.findings = a.findings;
    Ok(report)
}
