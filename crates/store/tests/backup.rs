//! Online copies of a real SQLite file, taken while another connection
//! writes, and the checks a restored copy must pass.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use sotto_envelope::sign::Direction;
use sotto_store::backup::{check, snapshot};
use sotto_store::{NewCase, NewMessage, Store, StoreError, SCHEMA_VERSION};
use sotto_wire::{CaseState, Day};

const DAY: &str = "2026-11-22";
const A: &str = "1111111111111111111111111";

/// [`DAY`] as the store takes it.
fn day() -> Day {
    Day::parse(DAY).unwrap()
}

fn open_case(store: &mut Store, n: u64) {
    let desk = store.desk_by_name("default").unwrap();
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&n.to_be_bytes());
    let mut handle = [0u8; 32];
    handle[..8].copy_from_slice(&n.to_be_bytes());
    let env = format!("age-encryption.org/v1\n-> X25519 {n}\n").into_bytes();
    store
        .insert_case(
            &NewCase {
                id,
                desk_id: desk.id,
                handle_hash: handle,
                reporter_x25519: "age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25",
                reporter_ed25519: &[9; 32],
                recipients: &[A.to_owned()],
                state: CaseState::Received,
                report: NewMessage {
                    seq: 0,
                    direction: Direction::FromReporter,
                    author: None,
                    envelope: &env,
                    envelope_hash: [1; 32],
                    signature: &[2; 64],
                },
            },
            day(),
        )
        .unwrap();
}

fn new_db(path: &Path) -> Store {
    let mut store = Store::open(path).unwrap();
    let desk = store.ensure_desk("default", "", day()).unwrap();
    store.insert_recipient(desk.id, A, "card a", day()).unwrap();
    store
}

#[test]
fn a_copy_taken_while_another_connection_writes_is_one_consistent_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut store = new_db(&path);
    for n in 0..20 {
        open_case(&mut store, n);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(20));
    let writer = {
        let (stop, written, path) = (Arc::clone(&stop), Arc::clone(&written), path.clone());
        std::thread::spawn(move || {
            let mut store = Store::open(&path).unwrap();
            while !stop.load(Ordering::SeqCst) {
                let n = written.load(Ordering::SeqCst);
                open_case(&mut store, n);
                written.store(n + 1, Ordering::SeqCst);
            }
        })
    };
    // On a loaded machine the writer may not have started yet: copy only
    // once it writes, and between copies let it write again.
    let wait_for = |n: u64| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while written.load(Ordering::SeqCst) < n {
            assert!(
                std::time::Instant::now() < deadline,
                "the writer never wrote"
            );
            std::thread::yield_now();
        }
    };
    let mut copies = Vec::new();
    for _ in 0..5 {
        wait_for(written.load(Ordering::SeqCst) + 1);
        let before = written.load(Ordering::SeqCst);
        let snap = snapshot(&path).unwrap();
        // A case may be committed before the writer counts it: one more.
        let after = written.load(Ordering::SeqCst) + 1;
        assert!((before..=after).contains(&snap.cases), "{before} {snap:?}");
        copies.push(snap);
    }
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    assert!(
        written.load(Ordering::SeqCst) > 20,
        "the writer never wrote"
    );

    for (i, snap) in copies.iter().enumerate() {
        let restored = dir.path().join(format!("restored-{i}.db"));
        std::fs::write(&restored, &snap.bytes).unwrap();
        let checked = check(&restored).unwrap();
        assert_eq!(checked.cases, snap.cases);
        assert_eq!(checked.log_size, snap.log_size);
        assert_eq!(checked.schema_version, SCHEMA_VERSION);
        // A desk and a recipient event, then three per case (opened, its
        // report posted, its first state): the log and the cases were
        // copied at the same instant.
        assert_eq!(checked.log_size, 2 + 3 * snap.cases);
        // The server's own connection opens it and reads every case.
        let reopened = Store::open(&restored).unwrap();
        assert_eq!(reopened.event_count().unwrap(), snap.log_size);
    }
}

#[test]
fn a_file_that_is_not_a_database_or_a_damaged_one_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
    assert!(check(&garbage).is_err());

    let path = dir.path().join("sotto.db");
    let mut store = new_db(&path);
    for n in 0..200 {
        open_case(&mut store, n);
    }
    drop(store);
    let good = snapshot(&path).unwrap().bytes.to_vec();
    // Scribble over the start of a page deep in the file (a b-tree page's
    // header, or the next-page pointer of an overflow or freelist page):
    // SQLite's own checks find it.
    let page = usize::from(u16::from_be_bytes([good[16], good[17]]));
    let mut bytes = good.clone();
    let at = bytes.len() / page / 2 * page;
    for b in &mut bytes[at..at + 12] {
        *b = 0x5a;
    }
    let damaged = dir.path().join("damaged.db");
    std::fs::write(&damaged, &bytes).unwrap();
    let err = check(&damaged).unwrap_err();
    let said = err.to_string();
    assert!(
        said.contains("damaged") || said.contains("malformed"),
        "{said}"
    );
    // The same bytes undamaged pass, and leave no -wal or -shm behind.
    let fine = dir.path().join("fine.db");
    std::fs::write(&fine, &good).unwrap();
    assert_eq!(check(&fine).unwrap().cases, 200);
    assert!(!dir.path().join("fine.db-wal").exists());
    assert!(!dir.path().join("fine.db-shm").exists());
}

#[test]
fn a_copy_from_a_newer_schema_is_refused_by_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    drop(new_db(&path));
    let mut bytes = snapshot(&path).unwrap().bytes.to_vec();
    bytes[60..64].copy_from_slice(&99i32.to_be_bytes());
    let newer = dir.path().join("newer.db");
    std::fs::write(&newer, &bytes).unwrap();
    assert!(matches!(
        check(&newer),
        Err(StoreError::SchemaVersion { found: 99, .. })
    ));
    // And a live database of another version is not copied at all.
    std::fs::write(&path, &bytes).unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("sotto.db{suffix}")));
    }
    assert!(matches!(
        snapshot(&path),
        Err(StoreError::SchemaVersion { found: 99, .. })
    ));
}

#[test]
fn a_missing_database_is_an_error_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    assert!(snapshot(&path).is_err());
    assert!(check(&path).is_err());
    assert!(!path.exists());
}
