//! Speed and memory, measured: `cargo bench --bench sotto`.
//!
//! Plain timing loops (no framework), printed as a table that
//! docs/benchmarks.md quotes. The server part starts the real binary on a
//! free port and drives it with the real client over loopback.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sotto::client::{reporter, Api};
use sotto_envelope::keys::{DeskIdentity, DisplayName};
use sotto_envelope::token::Token;
use sotto_envelope::{decrypt, encrypt, pad, pow, sha256};

fn time<T>(label: &str, iterations: u32, mut f: impl FnMut() -> T) -> Duration {
    // One warm-up call, then the measured loop.
    black_box(f());
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    let per = start.elapsed() / iterations;
    println!("| {label:<48} | {:>12} |", format_duration(per));
    per
}

fn format_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}

fn crypto() {
    println!("| operation (one core) | time |\n|---|---|");
    let alice = DeskIdentity::generate(DisplayName::parse("Alice").unwrap());
    let token = Token::generate();
    let recipients = [alice.card().recipient, token.identity().recipient()];
    time("token: generate and derive handle + keys", 2000, || {
        let t = Token::generate();
        (t.handle(), t.identity(), t.signing_key().verifying_key())
    });
    time("token: parse the written form", 2000, || {
        Token::parse(&token.to_display()).unwrap()
    });
    for (label, size) in [
        ("1 KiB", 1024),
        ("64 KiB", 64 * 1024),
        ("1 MiB", 1 << 20),
        ("10 MiB", 10 << 20),
    ] {
        let plain = pad::pad(&vec![7u8; size]).unwrap();
        let iterations = if size >= 1 << 20 { 10 } else { 500 };
        time(
            &format!("encrypt {label} to 2 recipients"),
            iterations,
            || encrypt(&recipients, &plain).unwrap(),
        );
        let file = encrypt(&recipients, &plain).unwrap();
        time(&format!("decrypt {label}"), iterations, || {
            decrypt(std::slice::from_ref(alice.identity()), &file).unwrap()
        });
    }
    let file = encrypt(&recipients, &pad::pad(b"report").unwrap()).unwrap();
    let sk = token.signing_key();
    let case = sotto_envelope::sign::CaseId::generate();
    let dir = sotto_envelope::sign::Direction::FromReporter;
    time("Ed25519 sign an envelope", 2000, || {
        sk.sign_envelope(&case, 0, dir, &file)
    });
    let sig = sk.sign_envelope(&case, 0, dir, &file);
    let vk = sk.verifying_key();
    time("Ed25519 verify an envelope", 2000, || {
        vk.verify_envelope(&case, 0, dir, &file, &sig).unwrap()
    });
    let h = sha256(&file);
    for bits in [12u8, 18] {
        // Solving is random work: average over many challenges.
        let n = if bits > 16 { 20 } else { 200 };
        let mut i = 0u32;
        time(&format!("proof of work, {bits} bits (mean)"), n, || {
            i += 1;
            pow::solve(&format!("challenge-{i}"), &h, bits).unwrap()
        });
    }
}

fn server() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sotto"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .env("SOTTO_POW_DIFFICULTY", "8")
        .env("SOTTO_CHECKPOINT_INTERVAL", "1")
        .env("SOTTO_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let pid = child.id();
    let alice = DeskIdentity::generate(DisplayName::parse("Alice").unwrap());
    let status = Command::new(env!("CARGO_BIN_EXE_sotto"))
        .args(["admin", "add-recipient", "--data"])
        .arg(data.path())
        .args(["--card", &alice.card().to_string()])
        .output()
        .unwrap();
    assert!(status.status.success());
    let api = Api::new(&url).unwrap();
    let rss = || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM"))
                    .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_owned())
            })
            .unwrap_or_else(|| "?".into())
    };
    println!("\n| server, over loopback, one client | time |\n|---|---|");
    println!(
        "| {:<48} | {:>9} KiB |",
        "peak resident memory after start",
        rss()
    );
    // A returning reporter's device: the log is checked from where it was
    // last seen, not from its start (the first contact is measured below).
    let known = data.path().join("known-servers.json");
    let submission = reporter::Submission {
        desk: "default".into(),
        text: "a report of a few sentences ".repeat(10),
        known: Some(known),
        ..Default::default()
    };
    let mut tokens = Vec::new();
    time(
        "submit a 1 KiB report (8-bit PoW), client included",
        200,
        || {
            let done = reporter::submit(&api, &submission).unwrap();
            tokens.push(done.token);
        },
    );
    let handle = tokens[0].handle();
    time(
        "status poll (GET /v1/reporter/case), one message",
        1000,
        || api.reporter_status(&handle).unwrap(),
    );
    time("desk inbox with 200 cases", 50, || {
        api.inbox(&alice).unwrap()
    });
    // Let the last batch of case events be published.
    std::thread::sleep(Duration::from_millis(2100));
    time("first contact: the signed rosters, then follow", 20, || {
        let v = sotto::client::log::verifier(&api, None).unwrap();
        let begun = sotto::client::log::first_contact(&api, &v).unwrap();
        sotto::client::log::follow(&api, &v, begun.as_ref(), sotto_tlog::Replay::rosters()).unwrap()
    });
    time(
        "the whole log (600+ entries), as an auditor's first run",
        20,
        || {
            let v = sotto::client::log::verifier(&api, None).unwrap();
            sotto::client::log::follow(&api, &v, None, sotto_tlog::Replay::new(7)).unwrap()
        },
    );
    println!(
        "| {:<48} | {:>9} KiB |",
        "peak resident memory after 200 cases",
        rss()
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// The transparency log at scale, in process: a database of 10,000 cases
/// (30,000 leaves) built through the store, then proofs, a client's replay
/// and a full database audit over it.
fn tlog() {
    use sotto_envelope::sign::{CaseId, Direction, SigningKey};
    use sotto_store::{NewCase, NewMessage, Store};
    use sotto_tlog::merkle::{self, Frontier};
    use sotto_tlog::{Checkpoint, Leaf, NoteVerifier, Replay};

    const CASES: u32 = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut store = Store::open(&path).unwrap();
    let day = sotto_wire::Day::parse("2026-11-22").unwrap();
    let desk = store.ensure_desk("default", "", day).unwrap();
    let alice = DeskIdentity::generate(DisplayName::parse("Alice").unwrap());
    let card = alice.card();
    let id = card.fingerprint().id();
    store
        .insert_recipient(desk.id, &id, &card.to_string(), day)
        .unwrap();
    let readers = vec![id.clone()];
    let plain = pad::pad(b"a report").unwrap();
    println!("\n| transparency log, {CASES} cases | time |\n|---|---|");
    let mut cases = Vec::new();
    for _ in 0..CASES {
        let token = Token::generate();
        let envelope = encrypt(&[card.recipient, token.identity().recipient()], &plain).unwrap();
        let case = CaseId::generate();
        let sig = token
            .signing_key()
            .sign_envelope(&case, 0, Direction::FromReporter, &envelope);
        cases.push((token, case, envelope, sig));
    }
    let start = Instant::now();
    for (i, (token, case, envelope, sig)) in cases.iter().enumerate() {
        let mut handle = [0u8; 32];
        handle[..4].copy_from_slice(&(i as u32).to_be_bytes());
        store
            .insert_case(
                &NewCase {
                    id: case.0,
                    desk_id: desk.id,
                    handle_hash: handle,
                    reporter_x25519: &token.identity().recipient().to_string(),
                    reporter_ed25519: &token.signing_key().verifying_key().0,
                    recipients: &readers,
                    state: sotto_wire::CaseState::Received,
                    report: NewMessage {
                        seq: 0,
                        direction: Direction::FromReporter,
                        author: None,
                        envelope,
                        envelope_hash: sha256(envelope),
                        signature: &sig.0,
                    },
                },
                day,
            )
            .unwrap();
    }
    let per = start.elapsed() / CASES;
    println!(
        "| {:<48} | {:>12} |",
        "store: open a case (3 leaves + tree, one transaction)",
        format_duration(per)
    );
    let size = store.log_size().unwrap();
    time(&format!("root of {size} leaves, from SQLite"), 1000, || {
        store.log_root(size).unwrap()
    });
    time("inclusion proof, from SQLite", 1000, || {
        store.inclusion_proof(size / 2, size).unwrap()
    });
    time("consistency proof, from SQLite", 1000, || {
        store.consistency_proof(size / 3, size).unwrap()
    });
    let leaves = store.leaves(0, size).unwrap();
    let bytes: usize = leaves.iter().map(|l| l.len() + 2).sum();
    let replayed = time(
        &format!("client: check and replay all {size} leaves"),
        5,
        || {
            let mut f = Frontier::new();
            let mut r = Replay::new(7);
            for l in &leaves {
                f.push(merkle::leaf_hash(l)).unwrap();
                r.apply(&Leaf::decode(l).unwrap());
            }
            (f.root(), r)
        },
    );
    let _ = replayed;
    let (mut r, mut rosters) = (Replay::new(7), Replay::rosters());
    for l in &leaves {
        r.apply(&Leaf::decode(l).unwrap());
        rosters.apply(&Leaf::decode(l).unwrap());
    }
    println!(
        "| {:<48} | {:>9} KiB |",
        "entry bundles to download for the whole log",
        bytes / 1024
    );
    println!(
        "| {:<48} | {:>9} KiB |",
        "replay state an auditor keeps (JSON)",
        serde_json::to_vec(&r).unwrap().len() / 1024
    );
    println!(
        "| {:<48} | {:>9} B   |",
        "replay state a reporter's device keeps (JSON)",
        serde_json::to_vec(&rosters).unwrap().len()
    );
    let summary = time(
        "roster summary, from SQLite (desk events, proofs)",
        100,
        || {
            let mut s = sotto_tlog::Rosters::replay(
                size,
                store.log_root(size).unwrap(),
                store.desk_events(size).unwrap(),
            );
            for readers in s.desks.values_mut() {
                for m in readers.values_mut() {
                    m.proof = store.inclusion_proof(m.index, size).unwrap();
                }
            }
            s
        },
    );
    let _ = summary;
    let key = SigningKey::log_key(&[9; 32]);
    let note = Checkpoint {
        origin: "bench/log".into(),
        size,
        root: store.log_root(size).unwrap(),
    }
    .sign(&key)
    .unwrap();
    store.insert_checkpoint(size, &note, day).unwrap();
    let v = NoteVerifier::new("bench/log", key.verifying_key()).unwrap();
    drop(store);
    let start = Instant::now();
    let report = sotto_store::audit::audit(&path, Some(&v)).unwrap();
    assert!(report.findings.is_empty(), "{:?}", &report.findings[..1]);
    println!(
        "| {:<48} | {:>12} |",
        format!("audit db: {CASES} cases, every check"),
        format_duration(start.elapsed())
    );
    println!(
        "| {:<48} | {:>9} KiB |",
        "database size",
        std::fs::metadata(&path)
            .map(|m| m.len() / 1024)
            .unwrap_or(0)
            + std::fs::metadata(path.with_extension("db-wal"))
                .map(|m| m.len() / 1024)
                .unwrap_or(0)
    );
}

fn main() {
    // `cargo test --benches` runs this binary with `--bench`-less args; keep it quick then.
    if std::env::args().any(|a| a == "--bench") {
        crypto();
        server();
        tlog();
    }
}
