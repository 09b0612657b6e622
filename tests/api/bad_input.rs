//! Every wrong input gets a 4xx JSON error, the server stays healthy, and
//! nothing is stored.

use serde_json::{json, Value};
use sotto::client::reporter;
use sotto_envelope::keys::DeskIdentity;
use sotto_envelope::sign::{CaseId, Direction};
use sotto_envelope::token::Token;
use sotto_envelope::{encrypt, pow, sha256};
use sotto_wire::api::OpenCase;
use sotto_wire::content::{Content, Report, CONTENT_VERSION};

use crate::helpers::{raw, spawn_app, spawn_app_with, TestApp};

/// Rows in the tables a request could write to.
pub(crate) fn stored(app: &TestApp) -> (i64, i64, i64) {
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    let count = |t: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    (count("cases"), count("messages"), count("events"))
}

/// Asserts a 4xx JSON error with the given code, that the server is still
/// healthy, and that nothing was stored.
pub(crate) fn refused(
    app: &TestApp,
    before: (i64, i64, i64),
    got: (u16, Value),
    status: u16,
    code: &str,
) {
    let (s, body) = got;
    assert_eq!(s, status, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(stored(app), before, "a refused request stored something");
    assert_eq!(app.api.health().unwrap().status, "ok");
}

/// A valid case opening, as (handle header, body), with its parts.
pub(crate) struct Valid {
    pub(crate) token: Token,
    pub(crate) open: OpenCase,
}

impl Valid {
    pub(crate) fn handle(&self) -> String {
        self.token.handle().encode().to_string()
    }
    pub(crate) fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&self.open).unwrap()
    }
    fn json(&self) -> Value {
        serde_json::to_value(&self.open).unwrap()
    }
}

pub(crate) fn valid(app: &TestApp, alice: &DeskIdentity) -> Valid {
    let token = Token::generate();
    let challenge = app.api.challenge("default").unwrap();
    let case = CaseId::parse(&challenge.case).unwrap();
    let card = alice.card();
    let padded = Content::Report(Box::new(Report {
        v: CONTENT_VERSION,
        desk: "default".into(),
        text: "x".into(),
        urgent: false,
        record_only: false,
        when: String::new(),
        involved: String::new(),
        category: String::new(),
        lang: String::new(),
        links: vec![],
        attachments: vec![],
        recipients: vec![card.to_string()],
        reporter_x25519: token.identity().recipient().to_string(),
        reporter_ed25519: token.signing_key().verifying_key().to_string(),
    }))
    .to_padded()
    .unwrap();
    let envelope = encrypt(&[card.recipient, token.identity().recipient()], &padded).unwrap();
    let signature = token
        .signing_key()
        .sign_envelope(&case, 0, Direction::FromReporter, &envelope);
    let nonce = pow::solve(
        &challenge.challenge,
        &sha256(&envelope),
        challenge.difficulty,
    )
    .unwrap();
    Valid {
        open: OpenCase {
            desk: "default".into(),
            challenge: challenge.challenge,
            pow_nonce: nonce,
            reporter_x25519: token.identity().recipient().to_string(),
            reporter_ed25519: token.signing_key().verifying_key().to_string(),
            recipients: vec![card.fingerprint().id()],
            envelope,
            signature: signature.to_string(),
            record_only: false,
        },
        token,
    }
}

pub(crate) fn post_case(app: &TestApp, handle: &str, body: &[u8]) -> (u16, Value) {
    raw(
        app,
        "POST",
        "/v1/cases",
        &[
            ("sotto-handle", handle),
            ("content-type", "application/json"),
        ],
        body,
    )
}

#[test]
fn malformed_json_wrong_types_and_unknown_fields_are_refused() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let v = valid(&app, &alice);
    let before = stored(&app);
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), b"{not json"),
        400,
        "bad_json",
    );
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), b""),
        400,
        "bad_json",
    );
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), b"[]"),
        400,
        "bad_json",
    );
    let mut wrong_type = v.json();
    wrong_type["pow_nonce"] = json!("seven");
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), wrong_type.to_string().as_bytes()),
        400,
        "bad_json",
    );
    let mut unknown = v.json();
    unknown["ip_address"] = json!("10.0.0.1");
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), unknown.to_string().as_bytes()),
        400,
        "bad_json",
    );
    let mut not_b64 = v.json();
    not_b64["envelope"] = json!("%%%");
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), not_b64.to_string().as_bytes()),
        400,
        "bad_json",
    );
    // The untouched request still works afterwards.
    assert_eq!(post_case(&app, &v.handle(), &v.body()).0, 201);
}

#[test]
fn bad_handles_are_refused() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let v = valid(&app, &alice);
    let before = stored(&app);
    refused(
        &app,
        before,
        raw(&app, "POST", "/v1/cases", &[], &v.body()),
        401,
        "missing_handle",
    );
    for bad in ["", "short", "!!!!", &"A".repeat(44), &"A".repeat(42)] {
        refused(
            &app,
            before,
            post_case(&app, bad, &v.body()),
            401,
            "bad_handle",
        );
    }
    let (s, body) = raw(
        &app,
        "GET",
        "/v1/reporter/case",
        &[("sotto-handle", &Token::generate().handle().encode())],
        b"",
    );
    assert_eq!((s, body["error"].as_str()), (404, Some("unknown_case")));
}

#[test]
fn truncated_or_tampered_envelopes_and_bad_signatures_are_refused() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let before = stored(&app);

    // Truncated: the signature and proof of work are redone over the
    // truncated bytes, so only the envelope check can refuse it.
    let v = valid(&app, &alice);
    let mut t = v.open.clone();
    t.envelope.truncate(10);
    let resigned = resign(&app, &v, t.envelope.clone());
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&resigned).unwrap()),
        400,
        "bad_envelope",
    );

    // A byte flipped after signing: the signature (or proof of work) fails.
    let mut flipped = v.open.clone();
    let mid = flipped.envelope.len() / 2;
    flipped.envelope[mid] ^= 1;
    let got = post_case(&app, &v.handle(), &serde_json::to_vec(&flipped).unwrap());
    assert!(
        ["bad_signature", "bad_proof_of_work"].contains(&got.1["error"].as_str().unwrap()),
        "{}",
        got.1
    );
    refused(
        &app,
        before,
        got.clone(),
        400,
        got.1["error"].as_str().unwrap(),
    );

    // A signature by another key, and one that is not a signature at all.
    let mut other = v.open.clone();
    other.signature = Token::generate()
        .signing_key()
        .sign_envelope(
            &CaseId([0; 16]),
            0,
            Direction::FromReporter,
            &other.envelope,
        )
        .to_string();
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&other).unwrap()),
        400,
        "bad_signature",
    );
    let mut garbage = v.open.clone();
    garbage.signature = "abc".into();
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&garbage).unwrap()),
        400,
        "bad_signature",
    );
}

/// The same request with a new envelope, signed and solved again.
pub(crate) fn resign(app: &TestApp, v: &Valid, envelope: Vec<u8>) -> OpenCase {
    let challenge = app.api.challenge("default").unwrap();
    let case = CaseId::parse(&challenge.case).unwrap();
    let sig = v
        .token
        .signing_key()
        .sign_envelope(&case, 0, Direction::FromReporter, &envelope);
    let nonce = pow::solve(
        &challenge.challenge,
        &sha256(&envelope),
        challenge.difficulty,
    )
    .unwrap();
    OpenCase {
        challenge: challenge.challenge,
        pow_nonce: nonce,
        signature: sig.to_string(),
        envelope,
        ..v.open.clone()
    }
}

#[test]
fn unknown_or_excluded_recipients_are_refused() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let bob = app.add_recipient("Bob");
    let before = stored(&app);
    let v = valid(&app, &alice);
    let mut stranger = v.open.clone();
    stranger.recipients = vec!["9".repeat(25)];
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&stranger).unwrap()),
        400,
        "unknown_recipient",
    );
    let mut none = v.open.clone();
    none.recipients = vec![];
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&none).unwrap()),
        400,
        "no_recipients",
    );
    let mut twice = v.open.clone();
    twice.recipients = vec![
        alice.card().fingerprint().id(),
        alice.card().fingerprint().id(),
    ];
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&twice).unwrap()),
        400,
        "bad_recipients",
    );
    // Listing Bob while the envelope holds one recipient stanza (Alice's):
    // the count no longer matches.
    let mut more = v.open.clone();
    more.recipients = vec![
        alice.card().fingerprint().id(),
        bob.card().fingerprint().id(),
    ];
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&more).unwrap()),
        400,
        "bad_envelope",
    );

    // Bob, excluded from a real case, can neither read nor write it.
    let done = reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: "x".into(),
            exclude: vec!["Bob".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let before = stored(&app);
    let err = sotto::client::desk::set_state(
        &app.api,
        &bob,
        &done.opened.case,
        sotto_wire::CaseState::Closed,
        None,
    )
    .unwrap_err();
    assert_eq!(err.code(), Some("unknown_case"));
    assert_eq!(stored(&app), before);
}

#[test]
fn wrong_reused_or_expired_proofs_of_work_are_refused() {
    let app = spawn_app_with(&[("SOTTO_POW_DIFFICULTY", "12")]);
    let alice = app.add_recipient("Alice");
    let before = stored(&app);
    let v = valid(&app, &alice);
    let mut wrong = v.open.clone();
    // Find a nonce that does not solve it (most don't at 12 bits).
    wrong.pow_nonce = (0..)
        .find(|n| !pow::verify(&wrong.challenge, &sha256(&wrong.envelope), 12, *n))
        .unwrap();
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&wrong).unwrap()),
        400,
        "bad_proof_of_work",
    );
    let mut forged = v.open.clone();
    forged.challenge.replace_range(..4, "AAAA");
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&forged).unwrap()),
        400,
        "bad_challenge",
    );
    let mut other_desk = v.open.clone();
    other_desk.desk = "elsewhere".into();
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&other_desk).unwrap()),
        400,
        "bad_challenge",
    );

    // Used once: fine. Used again (another token): refused, nothing stored.
    assert_eq!(post_case(&app, &v.handle(), &v.body()).0, 201);
    let after_first = stored(&app);
    let again = Token::generate().handle().encode().to_string();
    refused(
        &app,
        after_first,
        post_case(&app, &again, &v.body()),
        409,
        "already_used",
    );

    // Expired.
    let short = spawn_app_with(&[("SOTTO_CHALLENGE_TTL", "1")]);
    let alice = short.add_recipient("Alice");
    let v = valid(&short, &alice);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let before = stored(&short);
    refused(
        &short,
        before,
        post_case(&short, &v.handle(), &v.body()),
        400,
        "challenge_expired",
    );
}

#[test]
fn oversized_bodies_and_envelopes_are_refused() {
    let app = spawn_app_with(&[("SOTTO_MAX_ENVELOPE_BYTES", "100000")]);
    let alice = app.add_recipient("Alice");
    let before = stored(&app);
    let v = valid(&app, &alice);
    let huge = vec![b' '; 400_000];
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &huge),
        413,
        "too_large",
    );
    let big = resign(&app, &v, {
        let mut e = v.open.envelope.clone();
        e.resize(120_000, 0);
        e
    });
    refused(
        &app,
        before,
        post_case(&app, &v.handle(), &serde_json::to_vec(&big).unwrap()),
        413,
        "too_large",
    );
    // The client refuses before uploading.
    let err = reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: "x".repeat(150_000),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("at most 100000"), "{err}");
}

#[test]
fn replayed_stale_and_unsigned_desk_requests_are_refused() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let before = stored(&app);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let nonce = "AAAAAAAAAAAAAAAAAAAAAA";
    let signed = |ts: u64| {
        let sig = alice
            .signing_key()
            .sign_request("GET", "/v1/inbox", ts, &[0; 16], b"");
        (
            alice.card().fingerprint().id(),
            ts.to_string(),
            sig.to_string(),
        )
    };
    let (id, ts, sig) = signed(now);
    let headers = [
        ("sotto-recipient", id.as_str()),
        ("sotto-timestamp", ts.as_str()),
        ("sotto-nonce", nonce),
        ("sotto-signature", sig.as_str()),
    ];
    assert_eq!(raw(&app, "GET", "/v1/inbox", &headers, b"").0, 200);
    refused(
        &app,
        before,
        raw(&app, "GET", "/v1/inbox", &headers, b""),
        401,
        "replayed_request",
    );
    let (id, ts, sig) = signed(now - 3600);
    let stale = [
        ("sotto-recipient", id.as_str()),
        ("sotto-timestamp", ts.as_str()),
        ("sotto-nonce", nonce),
        ("sotto-signature", sig.as_str()),
    ];
    refused(
        &app,
        before,
        raw(&app, "GET", "/v1/inbox", &stale, b""),
        401,
        "stale_request",
    );
    refused(
        &app,
        before,
        raw(&app, "GET", "/v1/inbox", &[], b""),
        401,
        "missing_signature",
    );
    // Signed for another path.
    let (id, ts, _) = signed(now + 1);
    let other = alice
        .signing_key()
        .sign_request("GET", "/v1/cases", now + 1, &[0; 16], b"")
        .to_string();
    let wrong = [
        ("sotto-recipient", id.as_str()),
        ("sotto-timestamp", ts.as_str()),
        ("sotto-nonce", nonce),
        ("sotto-signature", other.as_str()),
    ];
    refused(
        &app,
        before,
        raw(&app, "GET", "/v1/inbox", &wrong, b""),
        401,
        "bad_signature",
    );
}

#[test]
fn unknown_routes_methods_and_ids_get_json_errors() {
    let app = spawn_app();
    let before = stored(&app);
    refused(
        &app,
        before,
        raw(&app, "GET", "/nope", &[], b""),
        404,
        "not_found",
    );
    refused(
        &app,
        before,
        raw(&app, "GET", "/v1/desks/nope", &[], b""),
        404,
        "unknown_desk",
    );
    refused(
        &app,
        before,
        raw(&app, "POST", "/v1/desks/nope/challenge", &[], b""),
        404,
        "unknown_desk",
    );
    refused(
        &app,
        before,
        raw(&app, "DELETE", "/v1/cases", &[], b""),
        405,
        "method_not_allowed",
    );
    refused(
        &app,
        before,
        raw(&app, "PUT", "/v1/health", &[], b"x"),
        405,
        "method_not_allowed",
    );
}
