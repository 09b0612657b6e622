//! The browser's cryptography (`web/src/`) and the Rust code agree byte for
//! byte, proven with vectors in both directions:
//!
//! - `testdata/web/rust-vectors.json` is made here, by the Rust code; the
//!   JavaScript tests (`web/test/unit.test.mjs`) check every value.
//!   `SOTTO_UPDATE_VECTORS=1 cargo test web_vectors` rewrites it.
//! - `testdata/web/js-vectors.json` is made by the JavaScript code
//!   (`web/test/make-vectors.mjs`); this file checks it with the Rust code
//!   and, for its envelope, with pyrage.

use std::process::Command;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use sotto_envelope::keys::{DeskIdentity, DisplayName, RecipientCard};
use sotto_envelope::sign::{CaseId, Direction, Signature, SigningKey, VerifyingKey};
use sotto_envelope::token::Token;
use sotto_envelope::{pad, pow, sha256, Identity};
use sotto_tlog::leaf::{self, Event, Leaf};
use sotto_tlog::{merkle, Checkpoint, Hash, NoteVerifier};
use sotto_wire::content::Content;
use sotto_wire::Day;
use zeroize::Zeroizing;

fn path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/web")
        .join(name)
}

const TOKENS: [[u8; 16]; 4] = [
    *b"sotto test token",
    [0; 16],
    [0xff; 16],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
];

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn desk_identity() -> DeskIdentity {
    let secret = Identity::from_secret_bytes(&[9; 32]).to_encoded();
    let file = format!("# sotto-name: Alice Ombud\n{}\n", secret.as_str());
    DeskIdentity::from_file(&file, None).unwrap()
}

/// A perfect subtree of `leaves`, for the proofs.
fn subtree(leaves: &[Hash], level: u32, index: u64) -> Hash {
    if level == 0 {
        return leaves[index as usize];
    }
    merkle::node_hash(
        &subtree(leaves, level - 1, 2 * index),
        &subtree(leaves, level - 1, 2 * index + 1),
    )
}

fn hashes(v: &[Hash]) -> Value {
    v.iter().map(|h| STANDARD.encode(h)).collect()
}

/// Every value of the Rust vectors that does not depend on randomness.
fn deterministic() -> Value {
    let tokens: Vec<Value> = TOKENS
        .iter()
        .map(|b| {
            let t = Token::from_bytes(*b);
            json!({
                "bytes": hex(b),
                "display": t.to_display().as_str(),
                "handle": t.handle().encode().as_str(),
                "identity": t.identity().to_encoded().as_str(),
                "recipient": t.identity().recipient().to_string(),
                "ed25519": t.signing_key().verifying_key().to_string(),
            })
        })
        .collect();

    let token = Token::from_bytes(TOKENS[0]);
    let case = CaseId([7; 16]);
    let envelope = b"these bytes stand for an envelope".to_vec();
    let signature = token
        .signing_key()
        .sign_envelope(&case, 3, Direction::FromReporter, &envelope);
    let share_reader = "1234512345123451234512345";
    let share = token
        .signing_key()
        .sign_share(&case, share_reader, 4, &envelope);

    let padding: Vec<Value> = [
        0usize, 1, 1004, 1005, 2000, 4096, 65_536, 100_000, 1_000_000,
    ]
    .iter()
    .map(|&n| json!({"len": n, "padded": pad::padded_len(n)}))
    .collect();
    let sample = br#"{"kind":"message","v":1,"text":"h\u00e9llo \u0645\u0631\u062d\u0628\u0627","attachments":[]}"#;

    let desk = desk_identity();
    let card = desk.card();
    let challenge = "sotto-vector-challenge";
    let envelope_hash = sha256(b"an envelope");

    let reporter_x = token.identity().recipient().to_string();
    let reporter_ed = token.signing_key().verifying_key();
    let id = card.fingerprint().id();
    let opened = Leaf {
        day: Day::parse("2026-11-22").unwrap(),
        event: Event::CaseOpened {
            desk: leaf::desk_commitment("default"),
            case: leaf::case_commitment(&case.0),
            report: leaf::message_commitment(&case.0, 0, Direction::FromReporter, &envelope_hash),
            readers: leaf::readers_commitment(std::slice::from_ref(&id)),
            reporter: leaf::reporter_commitment(&reporter_x, &reporter_ed.0),
        },
    };
    let added = Leaf {
        day: Day::parse("2026-11-01").unwrap(),
        event: Event::RecipientAdded {
            desk: leaf::desk_commitment("default"),
            recipient: leaf::recipient_commitment(&id),
        },
    };
    let leaves: Vec<Vec<u8>> = (0..5u8)
        .map(|i| match i {
            1 => added.encode(),
            3 => opened.encode(),
            _ => vec![i; 40],
        })
        .collect();
    let leaf_hashes: Vec<Hash> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();
    let mut nodes =
        |level: u32, index: u64| -> Result<Hash, ()> { Ok(subtree(&leaf_hashes, level, index)) };
    let root3 = merkle::root(3, &mut nodes).unwrap();
    let root5 = merkle::root(5, &mut nodes).unwrap();
    let origin = "example.org/sotto";
    // A key whose base64 holds a "+", which a naive split of the verifier
    // key `name+id+base64` would cut.
    let log_key = (0..=255u8)
        .map(|b| SigningKey::from_seed(Zeroizing::new([b; 32])))
        .find(|k| {
            let v = NoteVerifier::new(origin, k.verifying_key())
                .unwrap()
                .to_string();
            v.splitn(3, '+').nth(2).is_some_and(|key| key.contains('+'))
        })
        .unwrap();
    let note = |size: u64, root: Hash| {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
        }
        .sign(&log_key)
        .unwrap()
    };
    let verifier = NoteVerifier::new(origin, log_key.verifying_key()).unwrap();

    json!({
        "about": "Made by the Rust code (tests/api/web_vectors.rs); checked by web/test/unit.test.mjs.",
        "tokens": tokens,
        "signature": {
            "token": hex(&TOKENS[0]),
            "case": case.to_string(),
            "seq": 3,
            "direction": 1,
            "envelope": STANDARD.encode(&envelope),
            "signature": signature.to_string(),
        },
        "share": {
            "reader": share_reader,
            "upto": 4,
            "signature": share.to_string(),
        },
        "padding": padding,
        "padded_sample": {
            "json": String::from_utf8(sample.to_vec()).unwrap(),
            "padded": STANDARD.encode(pad::pad(sample).unwrap().as_slice()),
        },
        "card": {
            "line": card.to_string(),
            "fingerprint": card.fingerprint().to_string(),
            "id": id,
        },
        "pow": {
            "challenge": challenge,
            "envelope_hash": hex(&envelope_hash),
            "difficulty": 12,
            "nonce": pow::solve(challenge, &envelope_hash, 12).unwrap(),
        },
        "log": {
            "desk": {"name": "default", "commitment": hex(&leaf::desk_commitment("default"))},
            "recipient": {"id": id, "commitment": hex(&leaf::recipient_commitment(&id))},
            "case": {"case": case.to_string(), "commitment": hex(&leaf::case_commitment(&case.0))},
            "message": {
                "case": case.to_string(), "seq": 0, "direction": 1,
                "envelope_hash": hex(&envelope_hash),
                "commitment": hex(&leaf::message_commitment(&case.0, 0, Direction::FromReporter, &envelope_hash)),
            },
            "readers": {
                "ids": ["2222222222222222222222222", "1111111111111111111111111", "1111111111111111111111111"],
                "commitment": hex(&leaf::readers_commitment(&[
                    "2222222222222222222222222".into(),
                    "1111111111111111111111111".into(),
                    "1111111111111111111111111".into(),
                ])),
            },
            "reporter": {
                "x25519": reporter_x,
                "ed25519": reporter_ed.to_string(),
                "commitment": hex(&leaf::reporter_commitment(&reporter_x, &reporter_ed.0)),
            },
            "leaves": leaves.iter().map(|l| STANDARD.encode(l)).collect::<Vec<_>>(),
            "verifier": verifier.to_string(),
            "checkpoint3": note(3, root3),
            "checkpoint5": note(5, root5),
            "inclusion": {"index": 3, "size": 5, "proof": hashes(&merkle::inclusion_proof(3, 5, &mut nodes).unwrap())},
            "consistency": {"from": 3, "to": 5, "proof": hashes(&merkle::consistency_proof(3, 5, &mut nodes).unwrap())},
            "promise": {
                "leaf": STANDARD.encode(&leaves[3]),
                "signature": sotto_tlog::promise::sign(&log_key, origin, &leaves[3]).to_string(),
            },
        },
    })
}

/// A fresh envelope, sealed by the Rust code to the desk identity and to
/// the first token, holding `padded_sample`.
fn envelope_vector() -> Value {
    let token = Token::from_bytes(TOKENS[0]);
    let content = Content::from_padded(&pad::pad(br#"{"kind":"message","v":1,"text":"sealed by Rust","attachments":[{"name":"a.bin","data":"AAEC"}]}"#).unwrap()).unwrap();
    let padded = content.to_padded().unwrap();
    let envelope = sotto_envelope::encrypt(
        &[
            desk_identity().identity().recipient(),
            token.identity().recipient(),
        ],
        &padded,
    )
    .unwrap();
    json!({
        "desk_identity": desk_identity().identity().to_encoded().as_str(),
        "token": hex(&TOKENS[0]),
        "text": "sealed by Rust",
        "envelope": STANDARD.encode(envelope),
    })
}

#[test]
fn the_rust_vectors_for_the_browser_are_current() {
    let file = path("rust-vectors.json");
    let want = deterministic();
    if std::env::var_os("SOTTO_UPDATE_VECTORS").is_some() {
        let mut all = want.clone();
        all["envelope"] = envelope_vector();
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, serde_json::to_string_pretty(&all).unwrap() + "\n").unwrap();
    }
    let committed: Value = serde_json::from_slice(
        &std::fs::read(&file)
            .expect("testdata/web/rust-vectors.json: run with SOTTO_UPDATE_VECTORS=1"),
    )
    .unwrap();
    let mut rest = committed.clone();
    let envelope = rest
        .as_object_mut()
        .unwrap()
        .remove("envelope")
        .expect("the vectors hold an envelope");
    assert_eq!(
        rest, want,
        "the Rust code no longer makes testdata/web/rust-vectors.json: if the change is intended, \
         rerun with SOTTO_UPDATE_VECTORS=1 and check the JavaScript still agrees"
    );
    // The committed envelope still opens with the Rust code.
    let id = Identity::parse(envelope["desk_identity"].as_str().unwrap()).unwrap();
    let bytes = STANDARD
        .decode(envelope["envelope"].as_str().unwrap())
        .unwrap();
    let padded = sotto_envelope::decrypt(&[id], &bytes).unwrap();
    assert_eq!(
        Content::from_padded(&padded).unwrap().text(),
        "sealed by Rust"
    );
}

fn bytes16(s: &str) -> [u8; 16] {
    let v: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    v.try_into().unwrap()
}

#[test]
fn the_browsers_vectors_check_out_in_rust() {
    let js: Value = serde_json::from_slice(
        &std::fs::read(path("js-vectors.json")).expect("testdata/web/js-vectors.json"),
    )
    .unwrap();
    // Tokens: the browser's written form parses here, and derives the same.
    let tokens = js["tokens"].as_array().unwrap();
    assert!(tokens.len() >= 4);
    for t in tokens {
        let token = Token::from_bytes(bytes16(t["bytes"].as_str().unwrap()));
        assert_eq!(token.to_display().as_str(), t["display"]);
        assert!(Token::parse(t["display"].as_str().unwrap()).unwrap() == token);
        assert_eq!(token.handle().encode().as_str(), t["handle"]);
        assert_eq!(token.identity().recipient().to_string(), t["recipient"]);
        assert_eq!(
            token.signing_key().verifying_key().to_string(),
            t["ed25519"]
        );
    }
    // A signature made in JavaScript verifies here, and is the one Rust makes.
    let s = &js["signature"];
    let token = Token::from_bytes(bytes16(s["token"].as_str().unwrap()));
    let case = CaseId::parse(s["case"].as_str().unwrap()).unwrap();
    let envelope = STANDARD.decode(s["envelope"].as_str().unwrap()).unwrap();
    let sig = Signature::parse(s["signature"].as_str().unwrap()).unwrap();
    let seq = s["seq"].as_u64().unwrap();
    token
        .signing_key()
        .verifying_key()
        .verify_envelope(&case, seq, Direction::FromReporter, &envelope, &sig)
        .unwrap();
    assert_eq!(
        token
            .signing_key()
            .sign_envelope(&case, seq, Direction::FromReporter, &envelope)
            .to_string(),
        s["signature"]
    );
    // A log promise the browser's code signed (with a test key: only the
    // log signs promises) verifies here, and is the one Rust signs.
    let p = &js["promise"];
    let key = SigningKey::from_seed(Zeroizing::new(
        (0..64)
            .step_by(2)
            .map(|i| u8::from_str_radix(&p["seed"].as_str().unwrap()[i..i + 2], 16).unwrap())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap(),
    ));
    let origin = p["origin"].as_str().unwrap();
    let leaf = STANDARD.decode(p["leaf"].as_str().unwrap()).unwrap();
    let sig = Signature::parse(p["signature"].as_str().unwrap()).unwrap();
    let v = NoteVerifier::new(origin, key.verifying_key()).unwrap();
    sotto_tlog::promise::verify(&v, &leaf, &sig).unwrap();
    assert_eq!(
        sotto_tlog::promise::sign(&key, origin, &leaf).to_string(),
        p["signature"]
    );
    // Padding: the browser's padded sample is canonical here.
    let padded = STANDARD
        .decode(js["padded_sample"]["padded"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        pad::unpad(&padded).unwrap(),
        js["padded_sample"]["json"].as_str().unwrap().as_bytes()
    );
    // The browser's proof of work is valid here.
    let p = &js["pow"];
    let hash: [u8; 32] = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&p["envelope_hash"].as_str().unwrap()[i..i + 2], 16).unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    assert!(pow::verify(
        p["challenge"].as_str().unwrap(),
        &hash,
        p["difficulty"].as_u64().unwrap() as u8,
        p["nonce"].as_u64().unwrap()
    ));
    // A report sealed and signed by the browser's code opens here with the
    // desk's identity and with the token's, and its content reads.
    let e = &js["report"];
    let envelope = STANDARD.decode(e["envelope"].as_str().unwrap()).unwrap();
    let desk = Identity::parse(e["desk_identity"].as_str().unwrap()).unwrap();
    let token = Token::from_bytes(bytes16(e["token"].as_str().unwrap()));
    for id in [desk, token.identity()] {
        let padded = sotto_envelope::decrypt(&[id], &envelope).unwrap();
        match Content::from_padded(&padded).unwrap() {
            Content::Report(r) => {
                assert_eq!(r.text, e["text"].as_str().unwrap());
                assert_eq!(r.reporter_x25519, token.identity().recipient().to_string());
                assert_eq!(r.when, "last Tuesday");
                assert_eq!(r.attachments[0].data, vec![0, 1, 2, 253, 254, 255]);
                let card = RecipientCard::parse(&r.recipients[0]).unwrap();
                assert_eq!(card.name, DisplayName::parse("Alice Ombud").unwrap());
            }
            other => panic!("not a report: {other:?}"),
        }
    }
    let case = CaseId::parse(e["case"].as_str().unwrap()).unwrap();
    let sig = Signature::parse(e["signature"].as_str().unwrap()).unwrap();
    VerifyingKey::parse(&token.signing_key().verifying_key().to_string())
        .unwrap()
        .verify_envelope(&case, 0, Direction::FromReporter, &envelope, &sig)
        .unwrap();
    // And pyrage, an independent age implementation, opens it too.
    let python = crate::pyrage_db::python();
    let out = Command::new(python)
        .args([
            "-c",
            "import sys, base64, pyrage\n\
             p = pyrage.decrypt(base64.b64decode(sys.argv[1]), [pyrage.x25519.Identity.from_str(sys.argv[2])])\n\
             print(p[:16].decode(), end='')",
            e["envelope"].as_str().unwrap(),
            e["desk_identity"].as_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sotto/v1/padded\n");
}
