//! The store against a real SQLite file.

#![allow(clippy::unwrap_used)]

use sotto_envelope::sign::Direction;
use sotto_store::{NewCase, NewMessage, Store, StoreError, SCHEMA_VERSION};
use sotto_wire::{CaseState, Day};

const DAY: &str = "2026-11-22";
const A: &str = "1111111111111111111111111";
const B: &str = "2222222222222222222222222";

/// [`DAY`] as the store takes it.
fn day() -> Day {
    Day::parse(DAY).unwrap()
}

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

/// Case `id` as a reporter opens it on the default desk: id, handle hash
/// and report all made of `id`, sealed to `recipients`.
fn new_case<'a>(id: u8, desk_id: i64, recipients: &'a [String], envelope: &'a [u8]) -> NewCase<'a> {
    NewCase {
        id: [id; 16],
        desk_id,
        handle_hash: [id; 32],
        reporter_x25519: "age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25",
        reporter_ed25519: &[9; 32],
        recipients,
        state: CaseState::Received,
        report: NewMessage {
            seq: 0,
            direction: Direction::FromReporter,
            author: None,
            envelope,
            envelope_hash: [1; 32],
            signature: &[2; 64],
        },
    }
}

fn open_case(store: &mut Store, id: u8, recipients: &[String]) -> [u8; 16] {
    let desk = store.ensure_desk("default", "", day()).unwrap();
    let env = envelope(id);
    store
        .insert_case(&new_case(id, desk.id, recipients, &env), day())
        .unwrap();
    [id; 16]
}

fn with_recipients(store: &mut Store) -> Vec<String> {
    let desk = store.ensure_desk("default", "", day()).unwrap();
    store.insert_recipient(desk.id, A, "card a", day()).unwrap();
    store.insert_recipient(desk.id, B, "card b", day()).unwrap();
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

#[test]
fn writes_from_many_connections_reach_every_reader_and_a_read_only_store_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut stores: Vec<Store> = (0..4).map(|_| Store::open(&path).unwrap()).collect();
    let recipients = with_recipients(&mut stores[0]);
    // Two threads write, each through a store of its own (one writing
    // connection underneath), and read each case back at once through
    // another store.
    std::thread::scope(|s| {
        for (t, pair) in stores.chunks_mut(2).enumerate() {
            let recipients = &recipients;
            s.spawn(move || {
                let [mine, other] = pair else { unreachable!() };
                for i in 0..10u8 {
                    let case = open_case(mine, 1 + t as u8 * 10 + i, recipients);
                    assert_eq!(other.case_by_id(&case).unwrap().id, case);
                }
            });
        }
    });
    let read_only = Store::open_read_only(&path).unwrap();
    assert_eq!(read_only.case_by_id(&[20; 16]).unwrap().id, [20; 16]);
    assert!(matches!(
        read_only.checkpoint(),
        Err(StoreError::Invalid(why)) if why.contains("read-only")
    ));
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
    assert_eq!(case.state.as_str(), "received");
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
    // A new id under a handle hash already taken.
    let again = NewCase {
        handle_hash: [5; 32],
        ..new_case(7, desk.id, &rs, &env)
    };
    assert!(matches!(
        store.insert_case(&again, day()),
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
        direction: Direction::FromDesk,
        author: Some(A),
        envelope: &env,
        envelope_hash: [3; 32],
        signature: &[4; 64],
    };
    assert!(matches!(
        store.insert_message(&id, &msg(0), day()),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.insert_message(&id, &msg(2), day()),
        Err(StoreError::Conflict(_))
    ));
    store.insert_message(&id, &msg(1), day()).unwrap();
    assert!(matches!(
        store.insert_message(&id, &msg(1), day()),
        Err(StoreError::Conflict(_))
    ));
    let case = store.case_by_id(&id).unwrap();
    assert_eq!(case.message_count, 2);
    assert_eq!(case.desk_updated_on, Some(day()));
}

#[test]
fn a_state_change_with_a_note_lands_together_and_shows_in_the_timeline() {
    let (_d, mut store) = open();
    let rs = with_recipients(&mut store);
    let id = open_case(&mut store, 5, &rs);
    let env = envelope(1);
    let note = NewMessage {
        seq: 1,
        direction: Direction::FromDesk,
        author: Some(A),
        envelope: &env,
        envelope_hash: [3; 32],
        signature: &[4; 64],
    };
    store
        .set_state(&id, CaseState::Acknowledged, A, Some(&note), day())
        .unwrap();
    // A stale note rolls the whole change back.
    assert!(store
        .set_state(&id, CaseState::Closed, A, Some(&note), day())
        .is_err());
    let timeline = store.timeline(&id).unwrap();
    let states: Vec<&str> = timeline.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, ["received", "acknowledged"]);
    assert_eq!(
        store.case_by_id(&id).unwrap().state.as_str(),
        "acknowledged"
    );
}

#[test]
fn the_inbox_lists_only_cases_addressed_to_the_recipient() {
    let (_d, mut store) = open();
    let rs = with_recipients(&mut store);
    let both = open_case(&mut store, 1, &rs);
    let only_a = open_case(&mut store, 2, &[A.to_owned()]);
    let a: Vec<_> = store
        .inbox(A, None, 1000)
        .unwrap()
        .into_iter()
        .map(|(c, _)| c.id)
        .collect();
    let b: Vec<_> = store
        .inbox(B, None, 1000)
        .unwrap()
        .into_iter()
        .map(|(c, _)| c.id)
        .collect();
    assert_eq!(a.len(), 2);
    assert!(a.contains(&both) && a.contains(&only_a));
    assert_eq!(b, vec![both]);
}

#[test]
fn the_inbox_pages_go_on_from_the_last_case_without_repeating_one() {
    let (_d, mut store) = open();
    let rs = with_recipients(&mut store);
    let mut opened: Vec<[u8; 16]> = (1..=5).map(|n| open_case(&mut store, n, &rs)).collect();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.inbox(A, after, 2).unwrap();
        assert!(page.len() <= 2);
        let Some((last, _)) = page.last() else { break };
        after = Some((last.opened_on, last.id));
        seen.extend(page.iter().map(|(c, _)| c.id));
    }
    assert_eq!(seen.len(), 5, "every case once");
    seen.sort();
    opened.sort();
    assert_eq!(seen, opened);
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
        store.insert_recipient(desk.id, A, "card a", day()),
        Err(StoreError::Conflict(_))
    ));
    store.remove_recipient(desk.id, A, day()).unwrap();
    assert!(matches!(
        store.remove_recipient(desk.id, A, day()),
        Err(StoreError::NotFound)
    ));
    let active: Vec<_> = store
        .active_recipients(desk.id)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(active, vec![B.to_owned()]);
    store.insert_recipient(desk.id, A, "card a", day()).unwrap();
    assert_eq!(store.active_recipients(desk.id).unwrap().len(), 2);
    assert_eq!(store.event_count().unwrap(), before + 2);
}

#[test]
fn the_database_refuses_times_and_malformed_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut store = Store::open(&path).unwrap();
    // An exact time where a day belongs is refused by the schema itself
    // (the store's own methods cannot even express one: they take a Day).
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert!(conn
        .execute(
            "INSERT INTO desks (name, description, created_on) VALUES ('x', '', '2026-11-22T10:00:00Z')",
            [],
        )
        .is_err());
    assert!(store.insert_desk("", "", day()).is_err());
}

#[test]
fn a_planted_day_or_state_is_an_error_where_it_is_read_and_a_finding_for_the_auditor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut store = Store::open(&path).unwrap();
    let rs = with_recipients(&mut store);
    let id = open_case(&mut store, 5, &rs);
    let conn = rusqlite::Connection::open(&path).unwrap();
    // A day of the right shape that is no day passes the schema's GLOB.
    conn.execute_batch(
        "DROP TRIGGER cases_are_fixed;
         UPDATE cases SET opened_on = '2026-13-45';",
    )
    .unwrap();
    let bad_read = |r: Result<_, StoreError>| {
        matches!(
            r,
            Err(StoreError::Sqlite(
                rusqlite::Error::FromSqlConversionFailure(..)
            ))
        )
    };
    assert!(bad_read(store.case_by_id(&id).map(|_| ())));
    assert!(bad_read(store.inbox(A, None, 1000).map(|_| ())));

    conn.execute_batch(
        "DROP TRIGGER events_are_append_only_update;
         PRAGMA ignore_check_constraints = ON;
         UPDATE events SET state = 'open' WHERE state IS NOT NULL;",
    )
    .unwrap();
    assert!(bad_read(store.timeline(&id).map(|_| ())));
    // The auditor reads the same rows untyped, and reports them.
    drop(store);
    let report = sotto_store::audit::audit(&path, None).unwrap();
    let found = |place: &str| report.findings.iter().any(|f| f.place.contains(place));
    assert!(found("cases.opened_on"), "{:#?}", report.findings);
    assert!(found("events.state"), "{:#?}", report.findings);
}

// ---- the transparency log ----

use sotto_tlog::merkle::{self, Frontier};
use sotto_tlog::{Kind, Leaf};

/// A few of every event kind the server writes.
fn busy_store(store: &mut Store) -> [u8; 16] {
    let rs = with_recipients(store);
    let id = open_case(store, 5, &rs);
    let env = envelope(1);
    let note = NewMessage {
        seq: 1,
        direction: Direction::FromDesk,
        author: Some(A),
        envelope: &env,
        envelope_hash: [3; 32],
        signature: &[4; 64],
    };
    store
        .set_state(&id, CaseState::Acknowledged, A, Some(&note), day())
        .unwrap();
    let desk = store.desk_by_name("default").unwrap();
    store.remove_recipient(desk.id, B, day()).unwrap();
    id
}

#[test]
fn every_event_is_a_leaf_and_the_stored_tree_matches_the_leaves() {
    let (_d, mut store) = open();
    busy_store(&mut store);
    let events = store.events().unwrap();
    let size = store.log_size().unwrap();
    assert_eq!(size, events.len() as u64);
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "desk-created",
            "recipient-added",
            "recipient-added",
            "case-opened",
            "message-posted",
            "state-changed",
            "message-posted",
            "state-changed",
            "recipient-removed"
        ]
    );
    let mut frontier = Frontier::new();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1);
        // The leaf parses, and is exactly what the other rows say it must be.
        let leaf = Leaf::decode(&e.leaf).unwrap();
        assert_eq!(leaf.event.kind(), Kind::parse(&e.kind).unwrap());
        assert_eq!(store.expected_leaf(e).unwrap(), leaf);
        frontier.push(merkle::leaf_hash(&e.leaf)).unwrap();
        assert_eq!(store.log_root(i as u64 + 1).unwrap(), frontier.root());
        assert_eq!(store.frontier(i as u64 + 1).unwrap(), frontier);
    }
    let leaves = store.leaves(2, size).unwrap();
    assert_eq!(leaves.len() as u64, size - 2);
    assert_eq!(leaves[0], events[2].leaf);
    assert!(matches!(
        store.leaves(0, size + 1),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn stored_proofs_verify_against_stored_roots() {
    let (_d, mut store) = open();
    busy_store(&mut store);
    let size = store.log_size().unwrap();
    let root = store.log_root(size).unwrap();
    for (i, e) in store.events().unwrap().iter().enumerate() {
        let proof = store.inclusion_proof(i as u64, size).unwrap();
        let leaf = merkle::leaf_hash(&e.leaf);
        merkle::verify_inclusion(i as u64, size, &leaf, &proof, &root).unwrap();
    }
    for old in 1..size {
        let proof = store.consistency_proof(old, size).unwrap();
        let old_root = store.log_root(old).unwrap();
        merkle::verify_consistency(old, size, &old_root, &root, &proof).unwrap();
    }
    assert!(matches!(
        store.inclusion_proof(size, size),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.consistency_proof(1, size + 1),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn checkpoints_are_kept_once_per_size_and_only_for_leaves_that_exist() {
    let (_d, mut store) = open();
    busy_store(&mut store);
    assert_eq!(store.latest_checkpoint().unwrap(), None);
    store.insert_checkpoint(3, "note 3", day()).unwrap();
    store.insert_checkpoint(7, "note 7", day()).unwrap();
    assert!(matches!(
        store.insert_checkpoint(7, "again", day()),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.insert_checkpoint(1000, "future", day()),
        Err(StoreError::Conflict(_))
    ));
    let latest = store.latest_checkpoint().unwrap().unwrap();
    assert_eq!((latest.size, latest.note.as_str()), (7, "note 7"));
}

#[test]
fn a_published_checkpoint_covers_the_whole_log_as_it_is_when_stored() {
    let (_d, mut store) = open();
    busy_store(&mut store);
    let size = store.log_size().unwrap();
    // Read before an event that was stored since: refused, so a checkpoint
    // published after an event never leaves it out.
    assert!(matches!(
        store.publish_checkpoint(size - 1, "stale", day()),
        Err(StoreError::Conflict(_))
    ));
    store.publish_checkpoint(size, "whole", day()).unwrap();
    assert_eq!(store.latest_checkpoint().unwrap().unwrap().size, size);
}

#[test]
fn the_log_cannot_be_rewritten_through_sql() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut store = Store::open(&path).unwrap();
    busy_store(&mut store);
    store.insert_checkpoint(2, "note", day()).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    for sql in [
        "UPDATE events SET leaf = leaf",
        "DELETE FROM log_nodes",
        "UPDATE log_nodes SET hash = hash",
        "DELETE FROM checkpoints",
        "UPDATE checkpoints SET note = 'x'",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
}

/// What the version-1 code wrote for the same operations as `busy_store`.
fn write_v1(conn: &rusqlite::Connection) {
    conn.execute_batch(include_str!("testdata/schema_v1.sql"))
        .unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    let env = envelope(5);
    let note = envelope(1);
    conn.execute_batch(&format!(
        "INSERT INTO desks (name, description, created_on) VALUES ('default', '', '{DAY}');
         INSERT INTO events (kind, on_day, desk_id) VALUES ('desk-created', '{DAY}', 1);
         INSERT INTO recipients (desk_id, id, card, added_on) VALUES (1, '{A}', 'card a', '{DAY}');
         INSERT INTO events (kind, on_day, desk_id, recipient_id) VALUES ('recipient-added', '{DAY}', 1, '{A}');
         INSERT INTO recipients (desk_id, id, card, added_on) VALUES (1, '{B}', 'card b', '{DAY}');
         INSERT INTO events (kind, on_day, desk_id, recipient_id) VALUES ('recipient-added', '{DAY}', 1, '{B}');"
    ))
    .unwrap();
    let case = [5u8; 16];
    conn.execute(
        "INSERT INTO cases (id, desk_id, handle_hash, reporter_x25519, reporter_ed25519, opened_on)
         VALUES (?1, 1, ?2, 'age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25', ?3, ?4)",
        rusqlite::params![&case[..], &[5u8; 32][..], &[9u8; 32][..], DAY],
    )
    .unwrap();
    for r in [A, B] {
        conn.execute(
            "INSERT INTO case_recipients (case_id, recipient_id) VALUES (?1, ?2)",
            rusqlite::params![&case[..], r],
        )
        .unwrap();
    }
    let ev = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
        conn.execute(sql, p).unwrap();
    };
    ev(
        "INSERT INTO events (kind, on_day, desk_id, case_id) VALUES ('case-opened', ?1, 1, ?2)",
        &[&DAY, &&case[..]],
    );
    ev(
        "INSERT INTO messages (case_id, seq, direction, author, envelope, signature, posted_on)
         VALUES (?1, 0, 'reporter', NULL, ?2, ?3, ?4)",
        &[&&case[..], &env, &&[2u8; 64][..], &DAY],
    );
    ev(
        "INSERT INTO events (kind, on_day, desk_id, case_id, recipient_id, message_seq, envelope_hash)
         VALUES ('message-posted', ?1, 1, ?2, NULL, 0, ?3)",
        &[&DAY, &&case[..], &&[1u8; 32][..]],
    );
    ev(
        "INSERT INTO events (kind, on_day, desk_id, case_id, recipient_id, state)
         VALUES ('state-changed', ?1, 1, ?2, NULL, 'received')",
        &[&DAY, &&case[..]],
    );
    ev(
        "INSERT INTO messages (case_id, seq, direction, author, envelope, signature, posted_on)
         VALUES (?1, 1, 'desk', ?2, ?3, ?4, ?5)",
        &[&&case[..], &A, &note, &&[4u8; 64][..], &DAY],
    );
    ev(
        "INSERT INTO events (kind, on_day, desk_id, case_id, recipient_id, message_seq, envelope_hash)
         VALUES ('message-posted', ?1, 1, ?2, ?3, 1, ?4)",
        &[&DAY, &&case[..], &A, &&[3u8; 32][..]],
    );
    ev(
        "INSERT INTO events (kind, on_day, desk_id, case_id, recipient_id, state)
         VALUES ('state-changed', ?1, 1, ?2, ?3, 'acknowledged')",
        &[&DAY, &&case[..], &A],
    );
    conn.execute_batch(&format!(
        "UPDATE recipients SET removed_on = '{DAY}' WHERE id = '{B}';
         INSERT INTO events (kind, on_day, desk_id, recipient_id) VALUES ('recipient-removed', '{DAY}', 1, '{B}');"
    ))
    .unwrap();
}

#[test]
fn a_version_1_database_migrates_to_the_log_a_new_one_would_have() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v1.db");
    write_v1(&rusqlite::Connection::open(&old).unwrap());
    let migrated = Store::open(&old).unwrap();
    let version: i64 = rusqlite::Connection::open(&old)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);

    // The same history written by this version gives the same leaves. The
    // v1 fixture's report envelope is envelope(5), and its hash is what the
    // migration puts in the case-opened event.
    let (_d, mut fresh) = open();
    let rs = with_recipients(&mut fresh);
    let desk = fresh.desk_by_name("default").unwrap();
    let env = envelope(5);
    let note_env = envelope(1);
    fresh
        .insert_case(&new_case(5, desk.id, &rs, &env), day())
        .unwrap();
    fresh
        .set_state(
            &[5; 16],
            CaseState::Acknowledged,
            A,
            Some(&NewMessage {
                seq: 1,
                direction: Direction::FromDesk,
                author: Some(A),
                envelope: &note_env,
                envelope_hash: [3; 32],
                signature: &[4; 64],
            }),
            day(),
        )
        .unwrap();
    fresh.remove_recipient(desk.id, B, day()).unwrap();

    let a = migrated.events().unwrap();
    let b = fresh.events().unwrap();
    assert_eq!(a.len(), b.len());
    for (m, f) in a.iter().zip(&b) {
        assert_eq!(m.kind, f.kind);
        if m.kind == "case-opened" {
            // The migration hashes the stored report; this test's fresh
            // store was handed a placeholder hash instead.
            let real = sotto_envelope::sha256(&envelope(5));
            assert_eq!(m.envelope_hash.as_deref(), Some(&real[..]));
            assert_eq!(
                migrated.expected_leaf(m).unwrap(),
                Leaf::decode(&m.leaf).unwrap()
            );
        } else {
            assert_eq!(m.leaf, f.leaf, "{}", m.kind);
        }
    }
    let size = migrated.log_size().unwrap();
    let mut frontier = Frontier::new();
    for e in &a {
        frontier.push(merkle::leaf_hash(&e.leaf)).unwrap();
    }
    assert_eq!(migrated.log_root(size).unwrap(), frontier.root());

    // The schema is exactly that of a new database.
    let fresh_path = dir.path().join("new.db");
    drop(Store::open(&fresh_path).unwrap());
    assert_eq!(schema_of(&old), schema_of(&fresh_path));
    // And the history is as protected as in a new one.
    let conn = rusqlite::Connection::open(&old).unwrap();
    assert!(conn.execute("DELETE FROM events", []).is_err());
}

fn schema_of(path: &std::path::Path) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn a_version_2_database_migrates_and_keeps_left_out_recipients_out() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v2.db");
    {
        let conn = rusqlite::Connection::open(&old).unwrap();
        conn.execute_batch(include_str!("testdata/schema_v2.sql"))
            .unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        // A and B were on the desk when the case opened; the reporter chose
        // A only. C joined the day after and was never offered.
        conn.execute_batch(&format!(
            "INSERT INTO desks (name, description, created_on) VALUES ('default', '', '{DAY}');
             INSERT INTO recipients (desk_id, id, card, added_on) VALUES (1, '{A}', 'card a', '{DAY}');
             INSERT INTO recipients (desk_id, id, card, added_on) VALUES (1, '{B}', 'card b', '{DAY}');
             INSERT INTO recipients (desk_id, id, card, added_on)
                 VALUES (1, '3333333333333333333333333', 'card c', '2026-11-23');"
        ))
        .unwrap();
        conn.execute(
            "INSERT INTO cases (id, desk_id, handle_hash, reporter_x25519, reporter_ed25519, opened_on)
             VALUES (?1, 1, ?2, 'age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25', ?3, ?4)",
            rusqlite::params![&[5u8; 16][..], &[5u8; 32][..], &[9u8; 32][..], DAY],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO case_recipients (case_id, recipient_id) VALUES (?1, ?2)",
            rusqlite::params![&[5u8; 16][..], A],
        )
        .unwrap();
    }
    let migrated = Store::open(&old).unwrap();
    assert_eq!(
        migrated.case_excluded(&[5; 16]).unwrap(),
        vec![B.to_owned()]
    );
    assert_eq!(migrated.desk_deadlines(1).unwrap(), None);
    drop(migrated);
    let fresh_path = dir.path().join("new.db");
    drop(Store::open(&fresh_path).unwrap());
    assert_eq!(schema_of(&old), schema_of(&fresh_path));
    let conn = rusqlite::Connection::open(&old).unwrap();
    assert!(conn.execute("DELETE FROM case_excluded", []).is_err());
}

#[test]
fn a_new_case_records_whom_the_reporter_left_out_and_desks_keep_their_deadlines() {
    let (_d, mut store) = open();
    with_recipients(&mut store);
    let case = open_case(&mut store, 7, &[A.to_owned()]);
    assert_eq!(store.case_excluded(&case).unwrap(), vec![B.to_owned()]);
    let desk = store.desk_by_name("default").unwrap();
    let d = sotto_store::DeskDeadlines {
        acknowledge_days: 3,
        update_days: 14,
        feedback_months: 2,
    };
    store.set_desk_deadlines(desk.id, &d).unwrap();
    assert_eq!(store.desk_deadlines(desk.id).unwrap(), Some(d));
    let later = sotto_store::DeskDeadlines {
        acknowledge_days: 5,
        ..d
    };
    store.set_desk_deadlines(desk.id, &later).unwrap();
    assert_eq!(store.desk_deadlines(desk.id).unwrap(), Some(later));
    let zero = sotto_store::DeskDeadlines {
        acknowledge_days: 0,
        ..d
    };
    assert!(store.set_desk_deadlines(desk.id, &zero).is_err());
}

#[test]
fn a_case_status_follows_its_events_and_a_planted_one_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut store = Store::open(&path).unwrap();
    let id = busy_store(&mut store);
    let later = Day::parse("2026-11-25").unwrap();
    let env = envelope(2);
    store
        .insert_message(
            &id,
            &NewMessage {
                seq: 2,
                direction: Direction::FromReporter,
                author: None,
                envelope: &env,
                envelope_hash: [5; 32],
                signature: &[6; 64],
            },
            later,
        )
        .unwrap();
    let row = store.case_by_id(&id).unwrap();
    assert_eq!(row.state, CaseState::Acknowledged);
    assert_eq!(row.message_count, 3);
    assert_eq!(row.updated_on, later);
    assert_eq!(row.desk_first_on, Some(day()));
    assert_eq!(row.desk_updated_on, Some(day()));
    assert!(row.erased.is_none());

    let erased_at = store.erase_case(&id, later).unwrap();
    let row = store.case_by_id(&id).unwrap();
    assert_eq!(row.message_count, 0);
    let erasure = row.erased.unwrap();
    assert_eq!((erasure.on_day, erasure.entry), (later, erased_at));
    assert_eq!(row.version, erased_at + 1);
    drop(store);
    let clean = sotto_store::audit::audit(&path, None).unwrap();
    assert!(
        !clean.findings.iter().any(|f| f.found.contains("status")),
        "{:#?}",
        clean.findings
    );

    // An operator who rewrites a status (to show a case as resolved, say)
    // is caught: the auditor works it out again from the events.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE case_status SET state = 'resolved'", [])
        .unwrap();
    let report = sotto_store::audit::audit(&path, None).unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.found.contains("stored status differs")),
        "{:#?}",
        report.findings
    );
}

/// The database at `migrated` has exactly the schema of a new one, and
/// the auditor finds in it what it finds in `native`, the same database
/// never migrated (these tests' envelopes and signatures are placeholders,
/// which it reports in both).
fn assert_migrated_as_never(migrated: &std::path::Path, native: &std::path::Path) {
    assert_eq!(schema_of(migrated), schema_of(native));
    let audited = |path| sotto_store::audit::audit(path, None).unwrap().findings;
    assert!(!audited(migrated).iter().any(|f| f.check == "schema"));
    assert_eq!(audited(migrated), audited(native));
}

/// Turns the database at `path` back into version 6, whose `messages` and
/// `case_shares` had no rowid: each table and the objects on it as
/// `testdata/schema_v6.sql` defined them, holding the same rows.
fn as_version_6(path: &std::path::Path) {
    let v6 = rusqlite::Connection::open_in_memory().unwrap();
    v6.execute_batch(include_str!("testdata/schema_v6.sql"))
        .unwrap();
    let sql = |name: &str| -> String {
        v6.query_row(
            "SELECT sql FROM sqlite_master WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
    };
    // The indexes and triggers on a table (its autoindex has no SQL).
    let on = |table: &str| -> Vec<String> {
        v6.prepare(
            "SELECT name FROM sqlite_master
             WHERE tbl_name = ?1 AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        )
        .unwrap()
        .query_map([table], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    };
    let conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    // The indexes of later versions.
    let later: Vec<String> = tx
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<Vec<String>>>()
        .unwrap()
        .into_iter()
        .filter(|name| {
            v6.query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = ?1",
                [name],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
                == 0
        })
        .collect();
    assert!(!later.is_empty(), "version 8 added an index");
    for name in later {
        tx.execute_batch(&format!("DROP INDEX {name}")).unwrap();
    }
    for table in ["messages", "case_shares"] {
        tx.execute_batch(&format!(
            "CREATE TEMP TABLE old AS SELECT * FROM {table}; DROP TABLE {table};"
        ))
        .unwrap();
        tx.execute_batch(&sql(table)).unwrap();
        tx.execute_batch(&format!(
            "INSERT INTO {table} SELECT * FROM temp.old; DROP TABLE temp.old;"
        ))
        .unwrap();
        for o in on(table) {
            tx.execute_batch(&sql(&o)).unwrap();
        }
    }
    tx.pragma_update(None, "user_version", 6).unwrap();
    tx.commit().unwrap();
}

#[test]
fn a_version_6_database_migrates_to_rowid_tables_and_keeps_every_message_and_share() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v6.db");
    let (id, messages, shares) = {
        let mut store = Store::open(&old).unwrap();
        let id = busy_store(&mut store);
        // A reader who joined after the case opened, so was never left
        // out, is shared the thread so far.
        let desk = store.desk_by_name("default").unwrap();
        let c = "3333333333333333333333333";
        store.insert_recipient(desk.id, c, "card c", day()).unwrap();
        let thread = envelope(7);
        store
            .insert_share(
                &id,
                &sotto_store::NewShare {
                    reader: c,
                    desk_id: desk.id,
                    shared_by: Some(A),
                    upto: 2,
                    envelope: &thread,
                    signature: &[8; 64],
                },
                day(),
            )
            .unwrap();
        (
            id,
            store.messages(&id).unwrap(),
            store.case_shares(&id, Some(c)).unwrap(),
        )
    };
    assert_eq!((messages.len(), shares.len()), (2, 1));
    // The same database never migrated, to audit beside the migrated one.
    let native = dir.path().join("native.db");
    std::fs::copy(&old, &native).unwrap();
    as_version_6(&old);
    let conn = rusqlite::Connection::open(&old).unwrap();
    assert!(
        conn.prepare("SELECT rowid FROM messages").is_err(),
        "the fixture's messages have no rowid"
    );
    drop(conn);

    let migrated = Store::open(&old).unwrap();
    assert_eq!(migrated.messages(&id).unwrap(), messages);
    assert_eq!(
        migrated
            .case_shares(&id, Some("3333333333333333333333333"))
            .unwrap(),
        shares
    );
    // The copied messages were not counted again.
    assert_eq!(migrated.case_by_id(&id).unwrap().message_count, 2);
    drop(migrated);
    assert_eq!(rusqlite_version(&old), SCHEMA_VERSION);

    assert_migrated_as_never(&old, &native);

    // The thread is as protected as before, and a new message counts.
    let conn = rusqlite::Connection::open(&old).unwrap();
    assert!(conn.execute("UPDATE messages SET seq = seq", []).is_err());
    assert!(conn.execute("DELETE FROM case_shares", []).is_err());
    drop(conn);
    let mut store = Store::open(&old).unwrap();
    let env = envelope(9);
    store
        .insert_message(
            &id,
            &NewMessage {
                seq: 2,
                direction: Direction::FromReporter,
                author: None,
                envelope: &env,
                envelope_hash: [5; 32],
                signature: &[6; 64],
            },
            day(),
        )
        .unwrap();
    assert_eq!(store.case_by_id(&id).unwrap().message_count, 3);
}

#[test]
fn reads_in_a_snapshot_see_one_state_of_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut writer = Store::open(&path).unwrap();
    let reader = Store::open(&path).unwrap();
    let rs = with_recipients(&mut writer);
    let id = open_case(&mut writer, 5, &rs);
    let env = envelope(2);
    let follow_up = NewMessage {
        seq: 1,
        direction: Direction::FromReporter,
        author: None,
        envelope: &env,
        envelope_hash: [5; 32],
        signature: &[6; 64],
    };
    // A message posted while a status is being read does not show in half
    // of it: the count and the thread stay as they were until it ends.
    reader
        .snapshot(|r| {
            assert_eq!(r.case_by_id(&id)?.message_count, 1);
            writer.insert_message(&id, &follow_up, day())?;
            assert_eq!(r.case_by_id(&id)?.message_count, 1);
            assert_eq!(r.messages(&id)?.len(), 1);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    assert_eq!(reader.case_by_id(&id).unwrap().message_count, 2);
    assert_eq!(reader.messages(&id).unwrap().len(), 2);
}

#[test]
fn an_opened_case_comes_back_as_any_later_read_finds_it() {
    let (_d, mut store) = open();
    let rs = with_recipients(&mut store);
    let desk = store.desk_by_name("default").unwrap();
    let env = envelope(6);
    let record_only = NewCase {
        state: CaseState::RecordOnly,
        ..new_case(6, desk.id, &rs, &env)
    };
    let opened = store.open_case(&record_only, day()).unwrap();
    assert_eq!(opened.row, store.case_by_id(&[6; 16]).unwrap());
    assert_eq!(opened.row.state, CaseState::RecordOnly);
    assert_eq!(
        opened.leaf,
        store.leaves(opened.index, opened.index + 1).unwrap()[0]
    );
}

#[test]
fn a_version_7_database_gains_the_timeline_index_and_reads_the_same_timelines() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v7.db");
    let (id, timeline) = {
        let mut store = Store::open(&old).unwrap();
        let id = busy_store(&mut store);
        (id, store.timeline(&id).unwrap())
    };
    assert!(timeline.len() > 1, "{timeline:?}");
    let native = dir.path().join("native.db");
    std::fs::copy(&old, &native).unwrap();
    let conn = rusqlite::Connection::open(&old).unwrap();
    conn.execute_batch("DROP INDEX events_states_by_case; PRAGMA user_version = 7;")
        .unwrap();
    drop(conn);

    let migrated = Store::open(&old).unwrap();
    assert_eq!(migrated.timeline(&id).unwrap(), timeline);
    drop(migrated);
    assert_eq!(rusqlite_version(&old), SCHEMA_VERSION);
    assert_migrated_as_never(&old, &native);
}
