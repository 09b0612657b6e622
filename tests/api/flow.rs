//! The whole flow, from a reporter's first report to an ombudsperson's reply
//! that the reporter reads.

use sotto::client::{desk, reporter};
use sotto_envelope::DecryptError;
use sotto_wire::content::{Attachment, Content};
use sotto_wire::CaseState;

use crate::helpers::spawn_app;

fn submission(text: &str, exclude: &[&str]) -> reporter::Submission {
    reporter::Submission {
        desk: "default".into(),
        text: text.into(),
        exclude: exclude.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn an_excluded_recipient_never_sees_the_case_and_the_other_replies() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice Ombud");
    let bob = app.add_recipient("Bob Moderator");

    // The reporter sees both before submitting, with fingerprints.
    let info = app.api.desk("default").unwrap();
    let names: Vec<_> = info.recipients.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Alice Ombud") && names.contains(&"Bob Moderator"));

    // Excluded by fingerprint, spaces and all.
    let bob_fp = bob.card().fingerprint().to_string();
    let done =
        reporter::submit(&app.api, &submission("Bob deleted my posts.", &[&bob_fp])).unwrap();
    assert_eq!(done.opened.state, CaseState::Received);
    assert_eq!(done.recipients.len(), 1);
    assert_eq!(done.excluded[0].name, "Bob Moderator");
    let case = done.opened.case.clone();

    // Bob: not in his inbox, not reachable, not decryptable.
    assert!(desk::inbox(&app.api, &bob).unwrap().cases.is_empty());
    let err = desk::show(&app.api, &bob, &case).unwrap_err();
    assert_eq!(err.code(), Some("unknown_case"));
    let view = desk::show(&app.api, &alice, &case).unwrap();
    let envelope = &view.case.messages[0].envelope;
    assert_eq!(
        sotto_envelope::decrypt(std::slice::from_ref(bob.identity()), envelope).unwrap_err(),
        DecryptError::NoMatchingKeys
    );

    // Alice: in her inbox, reads it verified, replies.
    let inbox = desk::inbox(&app.api, &alice).unwrap();
    assert_eq!(inbox.cases.len(), 1);
    assert_eq!(inbox.cases[0].case, case);
    assert!(view.warnings.is_empty(), "{:?}", view.warnings);
    assert_eq!(
        view.messages[0].content.as_ref().unwrap().text(),
        "Bob deleted my posts."
    );
    desk::reply(
        &app.api,
        &alice,
        &case,
        "Thank you for telling us. We will review this.",
        vec![],
    )
    .unwrap();
    desk::set_state(
        &app.api,
        &alice,
        &case,
        CaseState::InReview,
        Some("We are looking into it."),
    )
    .unwrap();

    // The reporter, with nothing but the token, reads the verified reply.
    let token = sotto_envelope::token::Token::parse(&done.token.to_display()).unwrap();
    let view = reporter::status(&app.api, &token).unwrap();
    assert_eq!(view.status.state, CaseState::InReview);
    let states: Vec<_> = view.status.timeline.iter().map(|t| t.state).collect();
    assert_eq!(states, [CaseState::Received, CaseState::InReview]);
    assert!(view.status.next_update_due.is_some());
    assert_eq!(view.refused().count(), 0);
    let texts: Vec<_> = view
        .messages
        .iter()
        .map(|m| m.content.as_ref().unwrap().text())
        .collect();
    assert_eq!(
        texts,
        [
            "Bob deleted my posts.",
            "Thank you for telling us. We will review this.",
            "We are looking into it."
        ]
    );
    assert_eq!(view.messages[1].author.as_deref(), Some("Alice Ombud"));

    // The reporter answers; Alice reads it; Bob still cannot.
    reporter::reply(&app.api, &token, "It happened again today.", vec![]).unwrap();
    let view = desk::show(&app.api, &alice, &case).unwrap();
    assert_eq!(
        view.messages[3].content.as_ref().unwrap().text(),
        "It happened again today."
    );
    assert_eq!(
        desk::show(&app.api, &bob, &case).unwrap_err().code(),
        Some("unknown_case")
    );
}

#[test]
fn attachments_travel_inside_the_envelope_both_ways() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let mut s = submission("see attached", &[]);
    s.attachments = vec![Attachment {
        name: "screenshot.png".into(),
        data: (0..200_000u32).map(|i| (i % 253) as u8).collect(),
    }];
    s.links = vec!["https://example.org/thread/42".into()];
    s.urgent = true;
    let done = reporter::submit(&app.api, &s).unwrap();
    let view = desk::show(&app.api, &alice, &done.opened.case).unwrap();
    let Content::Report(r) = view.messages[0].content.as_ref().unwrap() else {
        panic!("not a report")
    };
    assert!(r.urgent);
    assert_eq!(r.links, ["https://example.org/thread/42"]);
    assert_eq!(r.attachments[0].data, s.attachments[0].data);
    desk::reply(
        &app.api,
        &alice,
        &done.opened.case,
        "our policy",
        vec![Attachment {
            name: "policy.pdf".into(),
            data: b"%PDF-1.4".to_vec(),
        }],
    )
    .unwrap();
    let view = reporter::status(&app.api, &done.token).unwrap();
    assert_eq!(
        view.messages[1].content.as_ref().unwrap().attachments()[0].data,
        b"%PDF-1.4"
    );
}

#[test]
fn a_record_only_report_opens_as_record_only_with_no_deadline() {
    let app = spawn_app();
    app.add_recipient("Alice");
    let mut s = submission("for your records", &[]);
    s.record_only = true;
    let done = reporter::submit(&app.api, &s).unwrap();
    assert_eq!(done.opened.state, CaseState::RecordOnly);
    assert_eq!(done.opened.next_update_due, None);
    let view = reporter::status(&app.api, &done.token).unwrap();
    assert_eq!(view.status.state, CaseState::RecordOnly);
}

#[test]
fn deadlines_follow_the_handlers_actions() {
    let app = spawn_app_offset();
    let alice = app.add_recipient("Alice");
    let done = reporter::submit(&app.api, &submission("x", &[])).unwrap();
    // Acknowledge within 7 days of opening (the EU directive's default).
    assert_eq!(
        done.opened.next_update_due,
        Some(done.opened.opened.plus(7))
    );
    let changed = desk::set_state(
        &app.api,
        &alice,
        &done.opened.case,
        CaseState::Acknowledged,
        None,
    )
    .unwrap();
    // Then an update every 7 days from the handler's last action.
    assert_eq!(changed.next_update_due, Some(done.opened.opened.plus(7)));
    let closed =
        desk::set_state(&app.api, &alice, &done.opened.case, CaseState::Closed, None).unwrap();
    assert_eq!(closed.next_update_due, None);
}

fn spawn_app_offset() -> crate::helpers::TestApp {
    // A server whose calendar runs 30 days ahead: dates come from the
    // server's clock, never the client's.
    let app = crate::helpers::spawn_app_with(&[("SOTTO_CLOCK_OFFSET_DAYS", "30")]);
    let _ = &app;
    app
}

#[test]
fn a_reporter_cannot_exclude_everyone_or_name_a_stranger() {
    let app = spawn_app();
    app.add_recipient("Alice");
    let err = reporter::submit(&app.api, &submission("x", &["alice"])).unwrap_err();
    assert!(err.to_string().contains("nobody would receive"), "{err}");
    let err = reporter::submit(&app.api, &submission("x", &["Mallory"])).unwrap_err();
    assert!(err.to_string().contains("Mallory"), "{err}");
}
