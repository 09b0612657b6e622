//! The replay guard's table against a real SQLite file: a tag works once,
//! whichever connection asks; generations are forgotten one at a time; a
//! version-3 database gains the table; the auditor knows its values.

#![allow(clippy::unwrap_used)]

use sotto_store::{Generation, Store, SCHEMA_VERSION};

/// What the auditor says of the schema and the values (an empty database
/// has no checkpoint yet, which the log check reports).
fn schema_and_values(path: &std::path::Path) -> Vec<sotto_store::audit::Finding> {
    let report = sotto_store::audit::audit(path, None).unwrap();
    report
        .findings
        .into_iter()
        .filter(|f| f.check == "schema" || f.check == "values")
        .collect()
}

fn open() -> (tempfile::TempDir, std::path::PathBuf, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let store = Store::open(&path).unwrap();
    (dir, path, store)
}

#[test]
fn a_tag_is_remembered_once_in_either_generation_and_by_any_connection() {
    let (_d, path, store) = open();
    assert!(store.remember_request(&[1; 32], Generation::Zero).unwrap());
    assert!(!store.remember_request(&[1; 32], Generation::Zero).unwrap());
    assert!(!store.remember_request(&[1; 32], Generation::One).unwrap());
    // Another connection (another worker, or the server after a restart).
    let other = Store::open(&path).unwrap();
    assert!(!other.remember_request(&[1; 32], Generation::One).unwrap());
    assert!(other.remember_request(&[2; 32], Generation::One).unwrap());
    assert_eq!(store.remembered_requests(Generation::Zero).unwrap(), 1);
    assert_eq!(store.remembered_requests(Generation::One).unwrap(), 1);
}

#[test]
fn forgetting_a_generation_keeps_the_other() {
    let (_d, _p, store) = open();
    for i in 0..3 {
        assert!(store.remember_request(&[i; 32], Generation::Zero).unwrap());
    }
    assert!(store.remember_request(&[9; 32], Generation::One).unwrap());
    assert_eq!(store.forget_requests(Generation::Zero).unwrap(), 3);
    assert_eq!(store.remembered_requests(Generation::Zero).unwrap(), 0);
    assert!(!store.remember_request(&[9; 32], Generation::Zero).unwrap());
    // A forgotten tag can be recorded again: its request is long stale.
    assert!(store.remember_request(&[0; 32], Generation::One).unwrap());
}

#[test]
fn the_table_refuses_times_and_raw_signatures() {
    let (_d, path, store) = open();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let insert = |tag: &[u8], generation: i64| {
        conn.execute(
            "INSERT INTO seen_requests (tag, generation) VALUES (?1, ?2)",
            rusqlite::params![tag, generation],
        )
    };
    assert!(insert(&[1; 32], 1_798_000_000).is_err(), "a Unix time");
    assert!(insert(&[1; 64], 0).is_err(), "a signature as it came");
    insert(&[1; 32], 1).unwrap();
}

#[test]
fn the_auditor_flags_a_time_or_a_signature_planted_in_the_table() {
    let (_d, path, store) = open();
    assert!(store.remember_request(&[7; 32], Generation::One).unwrap());
    drop(store);
    let clean = sotto_store::audit::audit(&path, None).unwrap();
    assert_eq!(clean.rows["seen_requests"], 1);
    assert_eq!(schema_and_values(&path), vec![]);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA ignore_check_constraints = ON;
         INSERT INTO seen_requests (tag, generation) VALUES (zeroblob(32), 1798000000);
         INSERT INTO seen_requests (tag, generation) VALUES (zeroblob(64), 0);",
    )
    .unwrap();
    drop(conn);
    let findings = schema_and_values(&path);
    let found = |what: &str| {
        findings.iter().any(|f| {
            f.check == "values" && f.place.starts_with("seen_requests.") && f.found == what
        })
    };
    assert!(found("not a generation (0 or 1)"), "{findings:#?}");
    assert!(found("not 32 bytes"), "{findings:#?}");
}

#[test]
fn a_version_3_database_migrates_to_an_empty_replay_table() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v3.db");
    {
        let conn = rusqlite::Connection::open(&old).unwrap();
        conn.execute_batch(include_str!("testdata/schema_v3.sql"))
            .unwrap();
        conn.pragma_update(None, "user_version", 3).unwrap();
    }
    let migrated = Store::open(&old).unwrap();
    assert_eq!(migrated.remembered_requests(Generation::Zero).unwrap(), 0);
    assert!(migrated
        .remember_request(&[3; 32], Generation::Zero)
        .unwrap());
    drop(migrated);
    let conn = rusqlite::Connection::open(&old).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    drop(conn);
    // Exactly the schema of a new database, as the auditor sees it.
    assert_eq!(schema_and_values(&old), vec![]);
}
