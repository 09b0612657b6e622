//! Attacks on the service itself, each as a test: what one client with
//! nothing but HTTP once did to it cheaply, and must not do any more.
//! Loopback only, bounded in count and time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::bad_input::{post_case, refused, resign, stored, valid};
use crate::helpers::{raw, spawn_app, submit};

/// A header of `count` minimal stanzas (`-> a` and an empty body), a MAC
/// line, and no payload.
fn stanza_bomb(count: usize) -> Vec<u8> {
    let mut file = b"age-encryption.org/v1\n".to_vec();
    file.reserve(count * 6 + 48);
    for _ in 0..count {
        file.extend_from_slice(b"-> a\n\n");
    }
    file.extend_from_slice(b"--- ");
    file.extend_from_slice(&[b'A'; 43]);
    file.push(b'\n');
    file
}

#[test]
fn a_stanza_bomb_costs_the_server_no_more_than_its_upload() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let before = stored(&app);
    let v = valid(&app, &alice);
    // 2.8 million stanzas in 16 MiB, signed and with its proof of work
    // solved, so that only the envelope check can refuse it.
    let bomb = stanza_bomb(((16 << 20) - 100) / 6);
    assert!(bomb.len() <= 16 << 20);
    let bodies: Vec<Vec<u8>> = (0..13)
        .map(|_| serde_json::to_vec(&resign(&app, &v, bomb.clone())).unwrap())
        .collect();
    // What a request may cost is in proportion to what it uploads (the
    // body as received, rounded up to a power of two while it arrives, and
    // the envelope decoded from it), not to what its header describes.
    let bound = 3 * bodies[0].len() as u64;
    let idle = app.peak_rss();
    // One bomb once cost 390 MB.
    let got = post_case(&app, &v.handle(), &bodies[0]);
    refused(&app, before, got, 400, "bad_envelope");
    let one = app.peak_rss();
    assert!(
        one - idle <= bound,
        "one bomb took the server from {} to {} MiB",
        idle >> 20,
        one >> 20
    );
    // Twelve at once together once reached 3.8 GB.
    let answers: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = bodies[1..]
            .iter()
            .map(|body| s.spawn(|| post_case(&app, &v.handle(), body)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for got in answers {
        refused(&app, before, got, 400, "bad_envelope");
    }
    let twelve = app.peak_rss();
    assert!(
        twelve - idle <= 12 * bound,
        "twelve bombs took the server from {} to {} MiB",
        idle >> 20,
        twelve >> 20
    );
}

#[test]
fn a_captured_desk_request_cannot_be_replayed_after_a_restart() {
    let mut app = spawn_app();
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "a report for the desk");
    // A state change as Alice's client signs it, captured on its way.
    let path = format!("/v1/cases/{}/state", done.opened.case);
    let body = br#"{"state":"acknowledged"}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let nonce = [7u8; 16];
    let sig = alice
        .signing_key()
        .sign_request("POST", &path, now, &nonce, body)
        .to_string();
    let (id, ts) = (alice.card().fingerprint().id(), now.to_string());
    let nonce = URL_SAFE_NO_PAD.encode(nonce);
    let headers = [
        ("sotto-recipient", id.as_str()),
        ("sotto-timestamp", ts.as_str()),
        ("sotto-nonce", nonce.as_str()),
        ("sotto-signature", sig.as_str()),
    ];
    let (status, answer) = raw(&app, "POST", &path, &headers, body);
    assert_eq!(status, 200, "{answer}");
    let accepted = stored(&app);
    // The server stops and starts again inside the request's window: the
    // replay must still be recognised, and change nothing.
    app.restart_with(&[]);
    refused(
        &app,
        accepted,
        raw(&app, "POST", &path, &headers, body),
        401,
        "replayed_request",
    );
}
