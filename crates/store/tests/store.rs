//! The store against a real SQLite file.

#![allow(clippy::unwrap_used)]

use sotto_store::{NewCase, NewMessage, Store, StoreError, SCHEMA_VERSION};

const DAY: &str = "2026-11-22";
const A: &str = "1111111111111111111111111";
const B: &str = "2222222222222222222222222";

fn envelope(tag: u8) -> Vec<u8> {
    let mut e = b"age-encryption.org/v1\n-> X25519 abc\n".to_vec();
    e.push(tag);
    e
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sotto.db")).unwrap();
    (dir, store)
}

fn open_case(store: &mut Store, id: u8, recipients: &[String]) -> [u8; 16] {
    let desk = store.ensure_desk("default", "", DAY).unwrap();
    let env = envelope(id);
    let case = [id; 16];
    store
        .insert_case(
            &NewCase {
                id: case,
                desk_id: desk.id,
                handle_hash: [id; 32],
                reporter_x25519: "age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25",
                reporter_ed25519: &[9; 32],
                recipients,
                state: "received",
                report: NewMessage {
                    seq: 0,
                    direction: "reporter",
                    author: None,
                    envelope: &env,
                    envelope_hash: [1; 32],
                    signature: &[2; 64],
                },
            },
            DAY,
        )
        .unwrap();
    case
}

fn with_recipients(store: &mut Store) -> Vec<String> {
    let desk = store.ensure_desk("default", "", DAY).unwrap();
    store.insert_recipient(desk.id, A, "card a", DAY).unwrap();
    store.insert_recipient(desk.id, B, "card b", DAY).unwrap();
    vec![A.to_owned(), B.to_owned()]
}

#[test]
fn a_new_database_has_the_current_schema_version_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite_version(&path);
    assert_eq!(conn, SCHEMA_VERSION);
    Store::open(&path).unwrap();
    Store::open_read_only(&path).unwrap();
}

fn rusqlite_version(path: &std::path::Path) -> i64 {
    // Read the header directly: user_version is the big-endian i32 at offset 60.
    let bytes = std::fs::read(path).unwrap();
    i64::from(i32::from_be_bytes(bytes[60..64].try_into().unwrap()))
}

#[test]
fn a_database_from_another_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    drop(Store::open(&path).unwrap());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[60..64].copy_from_slice(&99i32.to_be_bytes());
    std::fs::write(&path, bytes).unwrap();
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::SchemaVersion { found: 99, .. })
    ));
}

#[test]
fn a_case_is_found_by_its_handle_hash_with_its_report_and_state() {
    let (_d, mut store) = open();
    let rs = with_recipients(&mut store);
    let id = open_case(&mut store, 5, &rs);
    let case = store.case_by_handle(&[5; 32]).unwrap();
    assert_eq!(case.id, id);
    assert_eq!(case.state, "received");
    assert_eq!(case.message_count, 1);
    assert_eq!(case.desk_updated_on, None);
    assert!(matches!(
        store.case_by_handle(&[6; 32]),
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.messages(&id).unwrap()[0].envelope, envelope(5));
    assert_eq!(store.case_recipients(&id).unwrap(), rs);
}

#[test]
fn a_second_case_with_the_same_handle_or_id_is_a_conflict() {
    let (_d, mut store) = open();
    let rs = with_recipients(&mut store);
    open_case(&mut store, 5, &rs);
    let desk = store.desk_by_name("default").unwrap();
    let env = envelope(0);
    let again = NewCase {
        id: [7; 16],
        desk_id: desk.id,
        handle_hash: [5; 32],
        reporter_x25519: "age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25",
        reporter_ed25519: &[9; 32],
        recipients: &rs,
        state: "received",
        report: NewMessage {
            seq: 0,
            direction: "reporter",
            author: None,
            envelope: &env,
            envelope_hash: [1; 32],
            signature: &[2; 64],
        },
    };
    assert!(matches!(
        store.insert_case(&again, DAY),
        Err(StoreError::Conflict(_))
    ));
    // Nothing of the refused case was stored.
    assert!(matches!(
        store.case_by_id(&[7; 16]),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn messages_must_come_in_sequence() {
    let (_d, mut store) = open();
    let rs = with_recipients(&mut store);
    let id = open_case(&mut store, 5, &rs);
    let env = envelope(1);
    let msg = |seq| NewMessage {
        seq,
        direction: "desk",
        author: Some(A),
        envelope: &env,
        envelope_hash: [3; 32],
        signature: &[4; 64],
    };
    assert!(matches!(
        store.insert_message(&id, &msg(0), DAY),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.insert_message(&id, &msg(2), DAY),
        Err(StoreError::Conflict(_))
    ));
    store.insert_message(&id, &msg(1), DAY).unwrap();
    assert!(matches!(
        store.insert_message(&id, &msg(1), DAY),
        Err(StoreError::Conflict(_))
    ));
    let case = store.case_by_id(&id).unwrap();
    assert_eq!(case.message_count, 2);
    assert_eq!(case.desk_updated_on.as_deref(), Some(DAY));
}

#[test]
fn a_state_change_with_a_note_lands_together_and_shows_in_the_timeline() {
    let (_d, mut store) = open();
    let rs = with_recipients(&mut store);
    let id = open_case(&mut store, 5, &rs);
    let env = envelope(1);
    let note = NewMessage {
        seq: 1,
        direction: "desk",
        author: Some(A),
        envelope: &env,
        envelope_hash: [3; 32],
        signature: &[4; 64],
    };
    store
        .set_state(&id, "acknowledged", A, Some(&note), DAY)
        .unwrap();
    // A stale note rolls the whole change back.
    assert!(store.set_state(&id, "closed", A, Some(&note), DAY).is_err());
    let timeline = store.timeline(&id).unwrap();
    let states: Vec<&str> = timeline.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, ["received", "acknowledged"]);
    assert_eq!(store.case_by_id(&id).unwrap().state, "acknowledged");
}

#[test]
fn the_inbox_lists_only_cases_addressed_to_the_recipient() {
    let (_d, mut store) = open();
    let rs = with_recipients(&mut store);
    let both = open_case(&mut store, 1, &rs);
    let only_a = open_case(&mut store, 2, &[A.to_owned()]);
    let a: Vec<_> = store.inbox(A).unwrap().into_iter().map(|c| c.id).collect();
    let b: Vec<_> = store.inbox(B).unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(a.len(), 2);
    assert!(a.contains(&both) && a.contains(&only_a));
    assert_eq!(b, vec![both]);
}

#[test]
fn history_cannot_be_rewritten_through_sql() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut store = Store::open(&path).unwrap();
    let rs = with_recipients(&mut store);
    open_case(&mut store, 1, &rs);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    for sql in [
        "DELETE FROM events",
        "UPDATE events SET state = 'closed'",
        "DELETE FROM messages",
        "UPDATE messages SET envelope = x'00'",
        "DELETE FROM case_recipients",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(
            err.contains("append-only") || err.contains("fixed"),
            "{sql}: {err}"
        );
    }
}

#[test]
fn recipients_can_be_removed_and_return_with_both_logged() {
    let (_d, mut store) = open();
    with_recipients(&mut store);
    let desk = store.desk_by_name("default").unwrap();
    let before = store.event_count().unwrap();
    assert!(matches!(
        store.insert_recipient(desk.id, A, "card a", DAY),
        Err(StoreError::Conflict(_))
    ));
    store.remove_recipient(desk.id, A, DAY).unwrap();
    assert!(matches!(
        store.remove_recipient(desk.id, A, DAY),
        Err(StoreError::NotFound)
    ));
    let active: Vec<_> = store
        .active_recipients(desk.id)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(active, vec![B.to_owned()]);
    store.insert_recipient(desk.id, A, "card a", DAY).unwrap();
    assert_eq!(store.active_recipients(desk.id).unwrap().len(), 2);
    assert_eq!(store.event_count().unwrap(), before + 2);
}

#[test]
fn the_database_refuses_times_and_malformed_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut store = Store::open(&path).unwrap();
    // An exact time where a day belongs is refused by the schema itself.
    assert!(store.insert_desk("x", "", "2026-11-22T10:00:00Z").is_err());
    assert!(store.insert_desk("", "", DAY).is_err());
}
