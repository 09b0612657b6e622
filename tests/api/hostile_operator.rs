//! An operator with full access to the server's files cannot read, forge or
//! quietly widen a case: the clients catch what the server cannot stop.

use sotto::client::desk::LogCheck;
use sotto::client::{desk, reporter};
use sotto_envelope::keys::{DeskIdentity, DisplayName};
use sotto_envelope::sign::{CaseId, Direction};
use sotto_wire::api::PostMessage;
use sotto_wire::content::{Content, Note, CONTENT_VERSION};

use crate::helpers::{spawn_app, submit};

#[test]
fn a_key_that_is_not_registered_cannot_use_the_desk_api() {
    let app = spawn_app();
    app.add_recipient("Alice");
    let done = submit(&app, "report");
    let mallory = DeskIdentity::generate(DisplayName::parse("Mallory").unwrap());
    assert_eq!(
        desk::inbox(&app.api, &mallory).unwrap_err().code(),
        Some("unknown_recipient")
    );
    assert_eq!(
        desk::reply(&app.api, &mallory, &done.opened.case, "forged", vec![])
            .unwrap_err()
            .code(),
        Some("unknown_recipient")
    );
}

#[test]
fn a_recipient_smuggled_into_a_case_is_refused_by_the_reporter_and_flagged_to_colleagues() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "the report");
    let case = CaseId::parse(&done.opened.case).unwrap();

    // The operator registers Mallory and writes her into the case directly.
    let mallory = app.add_recipient("Mallory");
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    conn.execute(
        "INSERT INTO case_recipients (case_id, recipient_id) VALUES (?1, ?2)",
        rusqlite::params![&case.0[..], mallory.card().fingerprint().id()],
    )
    .unwrap();

    // Mallory cannot read the report: it was never encrypted to her.
    let view = desk::show(&app.api, &mallory, &done.opened.case).unwrap();
    assert!(view.messages[0].content.is_err());
    // Her own client will not reply to a report it cannot verify...
    let err = desk::reply(&app.api, &mallory, &done.opened.case, "hi", vec![]).unwrap_err();
    assert!(err.to_string().contains("cannot reply"), "{err}");
    // ...so she crafts the reply by hand, to the reporter key the server
    // gives her, and the server takes it since its database says she belongs.
    let padded = Content::Message(Note {
        v: CONTENT_VERSION,
        text: "Please send me your real name.".into(),
        attachments: vec![],
    })
    .to_padded()
    .unwrap();
    let reporter_key = sotto_envelope::Recipient::parse(&view.case.reporter_x25519).unwrap();
    let to = [
        reporter_key,
        alice.card().recipient,
        mallory.card().recipient,
    ];
    let envelope = sotto_envelope::encrypt(&to, &padded).unwrap();
    let sig = mallory
        .signing_key()
        .sign_envelope(&case, 1, Direction::FromDesk, &envelope);
    let msg = PostMessage {
        seq: 1,
        envelope,
        signature: sig.to_string(),
    };
    app.api
        .desk_post(&mallory, &done.opened.case, &msg)
        .unwrap();

    // ...but the reporter's client checks replies against the readers sealed
    // inside the report, and refuses hers.
    let view = reporter::status(&app.api, &done.token).unwrap();
    assert_eq!(view.messages.len(), 2);
    let refused = view.messages[1].content.as_ref().unwrap_err();
    assert!(
        refused.contains("not one of this case's recipients"),
        "{refused}"
    );
    // And Alice is warned that someone was added behind the reporter's back.
    let view = desk::show(&app.api, &alice, &done.opened.case).unwrap();
    assert!(
        view.warnings
            .iter()
            .any(|w| w.contains("Mallory") && w.contains("did not choose")),
        "{:?}",
        view.warnings
    );
}

#[test]
fn a_reporter_key_swapped_in_the_database_does_not_divert_replies() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "the report");
    let case = CaseId::parse(&done.opened.case).unwrap();
    // The operator puts a key of their own in place of the reporter's.
    let operator = sotto_envelope::Identity::generate();
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    conn.execute_batch("DROP TRIGGER cases_are_fixed").unwrap();
    conn.execute(
        "UPDATE cases SET reporter_x25519 = ?1 WHERE id = ?2",
        rusqlite::params![operator.recipient().to_string(), &case.0[..]],
    )
    .unwrap();
    // Alice is warned, and her reply goes to the key sealed in the report.
    let view = desk::show(&app.api, &alice, &done.opened.case).unwrap();
    assert!(
        view.warnings
            .iter()
            .any(|w| w.contains("reporter's keys differs")),
        "{:?}",
        view.warnings
    );
    desk::reply(
        &app.api,
        &alice,
        &done.opened.case,
        "only for the reporter",
        vec![],
    )
    .unwrap();
    let reply: Vec<u8> = conn
        .query_row(
            "SELECT envelope FROM messages WHERE case_id = ?1 AND seq = 1",
            [&case.0[..]],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sotto_envelope::decrypt(std::slice::from_ref(&operator), &reply).is_err());
    let view = reporter::status(&app.api, &done.token).unwrap();
    assert_eq!(
        view.messages[1].content.as_ref().unwrap().text(),
        "only for the reporter"
    );
    // And an auditor sees the case row no longer matches its logged opening.
    let audit = app.sotto(&["audit", "db", app.data_dir().to_str().unwrap()]);
    assert!(!audit.status.success());
    let out = String::from_utf8_lossy(&audit.stdout);
    assert!(
        out.contains("the case-opened rows it commits to were changed"),
        "{out}"
    );
}

#[test]
fn a_reply_forged_in_the_database_fails_its_signature_check() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "the report");
    let case = CaseId::parse(&done.opened.case).unwrap();
    // A real reply by Alice, so the envelope is well formed...
    desk::reply(&app.api, &alice, &done.opened.case, "genuine", vec![]).unwrap();
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    let envelope: Vec<u8> = conn
        .query_row(
            "SELECT envelope FROM messages WHERE case_id = ?1 AND seq = 1",
            [&case.0[..]],
            |r| r.get(0),
        )
        .unwrap();
    // ...replayed by the operator as message 2, with a signature made by a
    // key of the operator's own but Alice's name on it.
    let operator = DeskIdentity::generate(DisplayName::parse("Alice").unwrap());
    let sig = operator
        .signing_key()
        .sign_envelope(&case, 2, Direction::FromDesk, &envelope);
    conn.execute(
        "INSERT INTO messages (case_id, seq, direction, author, envelope, signature, posted_on)
         VALUES (?1, 2, 'desk', ?2, ?3, ?4, '2026-01-01')",
        rusqlite::params![
            &case.0[..],
            alice.card().fingerprint().id(),
            envelope,
            &sig.0[..]
        ],
    )
    .unwrap();
    let view = reporter::status(&app.api, &done.token).unwrap();
    assert!(view.messages[1].content.is_ok());
    let refused = view.messages[2].content.as_ref().unwrap_err();
    assert!(refused.contains("signature does not verify"), "{refused}");
}

#[test]
fn a_replayed_or_reordered_message_is_refused_by_the_client() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "the report");
    let case = CaseId::parse(&done.opened.case).unwrap();
    desk::reply(&app.api, &alice, &done.opened.case, "first reply", vec![]).unwrap();
    // The operator copies Alice's genuinely signed message 1 to position 2.
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    conn.execute(
        "INSERT INTO messages (case_id, seq, direction, author, envelope, signature, posted_on)
         SELECT case_id, 2, direction, author, envelope, signature, posted_on
         FROM messages WHERE case_id = ?1 AND seq = 1",
        [&case.0[..]],
    )
    .unwrap();
    let view = reporter::status(&app.api, &done.token).unwrap();
    assert!(view.messages[1].content.is_ok());
    // Signed as message 1: it does not verify in position 2.
    assert!(view.messages[2].content.is_err());
}

#[test]
fn a_report_replaced_wholesale_is_caught_by_the_handlers_client_through_the_log() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "the real report");
    app.wait_for_checkpoint();
    let case = CaseId::parse(&done.opened.case).unwrap();
    let view = desk::show(&app.api, &alice, &done.opened.case).unwrap();
    assert!(
        matches!(view.log, LogCheck::Verified { .. }),
        "{:?}",
        view.log
    );

    // The operator writes a report of their own, sealed to Alice, signed by
    // a key they hold and naming that key inside: on its own, it verifies.
    let fake = sotto_envelope::token::Token::generate();
    let content = Content::Report(Box::new(sotto_wire::content::Report {
        v: CONTENT_VERSION,
        desk: "default".into(),
        text: "A report the operator wrote.".into(),
        urgent: false,
        record_only: false,
        when: String::new(),
        involved: String::new(),
        category: String::new(),
        lang: String::new(),
        links: vec![],
        attachments: vec![],
        recipients: vec![alice.card().to_string()],
        reporter_x25519: fake.identity().recipient().to_string(),
        reporter_ed25519: fake.signing_key().verifying_key().to_string(),
    }));
    let to = [alice.card().recipient, fake.identity().recipient()];
    let envelope = sotto_envelope::encrypt(&to, &content.to_padded().unwrap()).unwrap();
    let sig = fake
        .signing_key()
        .sign_envelope(&case, 0, Direction::FromReporter, &envelope);
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    conn.execute_batch(
        "DROP TRIGGER messages_are_append_only_update; DROP TRIGGER cases_are_fixed;",
    )
    .unwrap();
    conn.execute(
        "UPDATE messages SET envelope = ?1, signature = ?2 WHERE case_id = ?3 AND seq = 0",
        rusqlite::params![envelope, &sig.0[..], &case.0[..]],
    )
    .unwrap();
    conn.execute(
        "UPDATE cases SET reporter_x25519 = ?1, reporter_ed25519 = ?2 WHERE id = ?3",
        rusqlite::params![
            fake.identity().recipient().to_string(),
            &fake.signing_key().verifying_key().0[..],
            &case.0[..]
        ],
    )
    .unwrap();

    // The forgery reads as a verified report, but the log recorded another
    // opening: the handler is warned, and cannot reply to the operator.
    let view = desk::show(&app.api, &alice, &done.opened.case).unwrap();
    assert_eq!(
        view.messages[0].content.as_ref().unwrap().text(),
        "A report the operator wrote."
    );
    assert_eq!(view.log, LogCheck::Failed);
    assert!(
        view.warnings
            .iter()
            .any(|w| w.contains("may have been replaced")),
        "{:?}",
        view.warnings
    );
    let err = desk::reply(&app.api, &alice, &done.opened.case, "to whom?", vec![]).unwrap_err();
    assert!(err.to_string().contains("cannot reply"), "{err}");
}

#[test]
fn a_log_key_the_community_published_is_enforced() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "a report");
    app.wait_for_checkpoint();
    // A key that is not the log's: the handler's client refuses to confirm
    // the opening, and so to reply.
    let other = sotto_envelope::sign::SigningKey::from_seed(zeroize::Zeroizing::new([3; 32]));
    let wrong = sotto_tlog::NoteVerifier::new("localhost/sotto", other.verifying_key()).unwrap();
    let api = app.api.clone().with_log_key(wrong);
    let view = desk::show(&api, &alice, &done.opened.case).unwrap();
    assert_eq!(view.log, LogCheck::Failed);
    assert!(
        view.warnings
            .iter()
            .any(|w| w.contains("does not verify with the log key")),
        "{:?}",
        view.warnings
    );
    // The right one works.
    let right = sotto_tlog::NoteVerifier::parse(&app.api.log_info().unwrap().key).unwrap();
    let api = app.api.clone().with_log_key(right);
    let view = desk::show(&api, &alice, &done.opened.case).unwrap();
    assert!(matches!(view.log, LogCheck::Verified { .. }));
}
