//! Backups under load: `sotto admin backup` taken while reports arrive,
//! restored with `sotto admin restore` into a new directory, is the same
//! service: `audit db` passes on it, a token made before the backup opens
//! its case on a server started there, and the auditor's saved state finds
//! the restored log consistent. Every bad input gets one clear line, and the
//! file is a standard age file that pyrage opens.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sotto::client::{reporter, Api};
use sotto_envelope::Identity;

use crate::helpers::{spawn_app, submit, TestApp};

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts that a command failed with exactly one line, `error: …`, that
/// says `needle`, and printed nothing else.
fn refused(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "not refused: {}", text(out));
    assert!(out.stdout.is_empty(), "{}", text(out));
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "without {needle:?}: {err}");
}

/// The operator's offline key, as age-keygen writes it.
fn operator_key(dir: &Path, name: &str) -> (Identity, PathBuf) {
    let id = Identity::generate();
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "# created: 2026-12-01\n# public key: {}\n{}\n",
            id.recipient(),
            id.to_encoded().as_str()
        ),
    )
    .unwrap();
    (id, path)
}

fn backup(app: &TestApp, data: &Path, to: &Path, recipient: &str) -> Output {
    app.sotto(&[
        "admin",
        "backup",
        "--data",
        data.to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
        "--recipient",
        recipient,
    ])
}

fn restore(app: &TestApp, file: &Path, identity: &Path, target: &Path) -> Output {
    app.sotto(&[
        "admin",
        "restore",
        file.to_str().unwrap(),
        "--identity",
        identity.to_str().unwrap(),
        "--data",
        target.to_str().unwrap(),
    ])
}

/// The number before `what` in a line: `12 cases` gives 12.
fn number_before(line: &str, what: &str) -> u64 {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.trim_end_matches([',', '.', ';']) == what)
        .unwrap_or_else(|| panic!("no {what:?} in {line}"));
    words[at - 1].parse().unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_backup_taken_while_reports_arrive_restores_to_the_same_service() {
    let mut app = spawn_app();
    app.add_recipient("Alice Ombud");
    let before = submit(&app, "Sent before the backup.");
    app.wait_for_checkpoint();
    let log_key = app.api.log_info().unwrap().key;

    // What outsiders hold from before the backup: the auditor's state and
    // the reporter's token and receipt.
    let state = app.work.path().join("audit.json");
    let out = app.sotto(&["audit", "log", "--state", state.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let audited: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let receipt = app.work.path().join("before.receipt");
    std::fs::write(&receipt, serde_json::to_vec(&before.receipt).unwrap()).unwrap();

    // Reports keep arriving from another thread while the backup runs.
    let (_op, key) = operator_key(app.work.path(), "operator.key");
    let recipient = std::fs::read_to_string(&key).unwrap();
    let recipient = recipient
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let load = {
        let (stop, sent, url) = (Arc::clone(&stop), Arc::clone(&sent), app.url.clone());
        std::thread::spawn(move || {
            let api = Api::new(&url).unwrap();
            while !stop.load(Ordering::SeqCst) {
                reporter::submit(
                    &api,
                    &reporter::Submission {
                        desk: "default".into(),
                        text: "Sent while the backup runs.".into(),
                        ..Default::default()
                    },
                )
                .unwrap();
                sent.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    wait_until("reports under way", || sent.load(Ordering::SeqCst) >= 2);
    let sent_before = sent.load(Ordering::SeqCst);
    let file = app.work.path().join("sotto.backup.age");
    let out = backup(&app, &app.data_dir(), &file, &recipient);
    let sent_after = sent.load(Ordering::SeqCst);
    wait_until("reports after the backup", || {
        sent.load(Ordering::SeqCst) >= sent_after + 2
    });
    stop.store(true, Ordering::SeqCst);
    load.join().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.starts_with("Backed up "), "{said}");
    let sealed = std::fs::read(&file).unwrap();
    assert!(sealed.starts_with(b"age-encryption.org/v1\n-> X25519 "));
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);

    // Restored into a directory that does not exist yet.
    let restored = tempfile::tempdir().unwrap();
    let target = restored.path().join("data");
    let out = restore(&app, &file, &key, &target);
    assert!(out.status.success(), "{}", text(&out));
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(line.lines().count(), 1, "{line}");
    let cases = number_before(&line, "cases");
    // The copy is one instant between the backup's start and its end: the
    // report from before, the ones sent before it started, and at most the
    // ones sent until it ended (one more may have been stored, not counted).
    assert!(
        (1 + sent_before..=2 + sent_after).contains(&cases),
        "{cases} cases, {sent_before} sent before, {sent_after} after: {line}"
    );
    assert!(
        sent.load(Ordering::SeqCst) + 1 > cases,
        "later reports are not in it"
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&target), 0o700);
        for f in ["sotto.db", "pepper.key", "server.key"] {
            assert_eq!(mode(&target.join(f)), 0o600, "{f}");
        }
    }
    for f in ["pepper.key", "server.key"] {
        assert_eq!(
            std::fs::read(target.join(f)).unwrap(),
            std::fs::read(app.data_dir().join(f)).unwrap(),
            "{f}"
        );
    }

    // The auditor's proof of what the database holds passes on it.
    let out = app.sotto(&[
        "audit",
        "db",
        target.to_str().unwrap(),
        "--log-key",
        &log_key,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("No findings"), "{}", text(&out));

    // A second restore there is refused, and leaves it as it was.
    let db_before = std::fs::read(target.join("sotto.db")).unwrap();
    refused(
        &restore(&app, &file, &key, &target),
        "is not an empty directory",
    );
    assert_eq!(std::fs::read(target.join("sotto.db")).unwrap(), db_before);

    // A server started on the restored directory (the old one stops).
    let old = std::mem::replace(&mut app.data, restored);
    app.restart_with(&[]);
    assert_eq!(app.api.log_info().unwrap().key, log_key, "the same log key");

    // The token from before the backup opens its case, and its receipt
    // still stands.
    let token = before.token.to_display();
    let out = app.sotto_with(
        &[
            "report",
            "status",
            "--receipt",
            receipt.to_str().unwrap(),
            "--json",
        ],
        None,
        &[("SOTTO_TOKEN", token.as_str())],
    );
    assert!(out.status.success(), "{}", text(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["case"], before.opened.case.as_str());
    assert_eq!(status["warnings"], serde_json::json!([]), "{status}");

    // The auditor's state from before the backup finds the restored log
    // consistent. (The restored server is the same service; only the test
    // gives it a new port, so the state is pointed at it.)
    app.wait_for_checkpoint();
    let mut saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    saved["server"] = serde_json::Value::String(app.url.clone());
    std::fs::write(&state, serde_json::to_vec(&saved).unwrap()).unwrap();
    let out = app.sotto(&["audit", "log", "--state", state.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]), "{report}");
    assert_eq!(report["key_source"], "saved");
    assert_eq!(report["previous_size"], audited["size"]);
    assert!(report["size"].as_u64().unwrap() > audited["size"].as_u64().unwrap());
    drop(old);
}

#[test]
fn every_bad_input_gets_one_clear_line_and_changes_nothing() {
    let app = spawn_app();
    app.add_recipient("Alice Ombud");
    submit(&app, "A report to back up.");
    let work = app.work.path();
    let (op, key) = operator_key(work, "operator.key");
    let recipient = op.recipient().to_string();
    let file = work.join("b.age");
    let out = backup(&app, &app.data_dir(), &file, &recipient);
    assert!(out.status.success(), "{}", text(&out));
    let sealed = std::fs::read(&file).unwrap();

    // Backups.
    refused(
        &backup(&app, &app.data_dir(), &file, &recipient),
        "exists already",
    );
    assert_eq!(std::fs::read(&file).unwrap(), sealed, "not replaced");
    let next = work.join("next.age");
    refused(
        &backup(&app, &app.data_dir(), &next, "age1notakey"),
        "--recipient: not an age X25519 recipient",
    );
    refused(
        &backup(&app, &app.data_dir(), &next, op.to_encoded().as_str()),
        "that is a secret key",
    );
    let nowhere = work.join("no-such-dir");
    refused(
        &backup(&app, &nowhere, &next, &recipient),
        "no Sotto data directory there",
    );
    assert!(!nowhere.exists(), "a backup creates no data directory");
    let keyless = work.join("keyless");
    std::fs::create_dir(&keyless).unwrap();
    std::fs::copy(app.db_path(), keyless.join("sotto.db")).unwrap();
    refused(&backup(&app, &keyless, &next, &recipient), "pepper.key");
    assert!(!keyless.join("pepper.key").exists(), "no key is made up");
    let broken = work.join("broken");
    std::fs::create_dir(&broken).unwrap();
    for f in ["pepper.key", "server.key"] {
        std::fs::copy(app.data_dir().join(f), broken.join(f)).unwrap();
    }
    std::fs::write(broken.join("sotto.db"), vec![0x42u8; 8192]).unwrap();
    refused(&backup(&app, &broken, &next, &recipient), "sotto.db");
    assert!(!next.exists());
    let leftovers: Vec<_> = std::fs::read_dir(work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new(), "no temporary file is left");

    // Restores: none of these creates the target.
    let target = work.join("restored");
    let (_other, other_key) = operator_key(work, "other.key");
    refused(
        &restore(&app, &file, &other_key, &target),
        "does not open it",
    );
    let mut flipped = sealed.clone();
    let at = sealed.len() - 1000;
    flipped[at] ^= 0x01;
    let flipped_file = work.join("flipped.age");
    std::fs::write(&flipped_file, &flipped).unwrap();
    refused(
        &restore(&app, &flipped_file, &key, &target),
        "damaged, truncated or altered",
    );
    // A flipped byte in the header's MAC line.
    let mac_line = sealed.windows(4).position(|w| w == b"--- ").unwrap();
    let mut flipped = sealed.clone();
    flipped[mac_line + 10] ^= 0x01;
    std::fs::write(&flipped_file, &flipped).unwrap();
    refused(&restore(&app, &flipped_file, &key, &target), "flipped.age");
    let truncated = work.join("truncated.age");
    std::fs::write(&truncated, &sealed[..sealed.len() - 100]).unwrap();
    refused(
        &restore(&app, &truncated, &key, &target),
        "damaged, truncated or altered",
    );
    refused(
        &restore(&app, &key, &key, &target),
        "not a Sotto backup (not a binary age file)",
    );
    let stranger = work.join("stranger.age");
    std::fs::write(
        &stranger,
        sotto_envelope::encrypt(&[op.recipient()], b"holiday photos").unwrap(),
    )
    .unwrap();
    refused(
        &restore(&app, &stranger, &key, &target),
        "not a Sotto backup",
    );
    refused(
        &restore(&app, &file, &file, &target),
        "not an age identity file",
    );
    refused(
        &restore(&app, &work.join("missing.age"), &key, &target),
        "missing.age",
    );
    assert!(!target.exists(), "a failed restore leaves no directory");

    let occupied = work.join("occupied");
    std::fs::create_dir(&occupied).unwrap();
    std::fs::write(occupied.join("notes.txt"), "mine").unwrap();
    refused(
        &restore(&app, &file, &key, &occupied),
        "is not an empty directory",
    );
    assert_eq!(
        std::fs::read_to_string(occupied.join("notes.txt")).unwrap(),
        "mine"
    );
    refused(
        &restore(&app, &file, &key, &occupied.join("notes.txt")),
        "is not an empty directory",
    );

    // An empty directory is fine (an operator may have made it with the
    // right owner already).
    let empty = work.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = restore(&app, &file, &key, &empty);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 case,"), "{}", text(&out));
}

#[test]
fn the_backup_is_a_standard_age_file_that_pyrage_opens() {
    let python = crate::pyrage_db::python();
    let app = spawn_app();
    app.add_recipient("Alice Ombud");
    let (op, key) = operator_key(app.work.path(), "operator.key");
    let file = app.work.path().join("b.age");
    let out = backup(&app, &app.data_dir(), &file, &op.recipient().to_string());
    assert!(out.status.success(), "{}", text(&out));
    // Decrypt with pyrage, then read the container as docs/cli.md describes
    // it: a header line, then the first entry is the SQLite database.
    let script = r#"
import sys, pyrage
ident = pyrage.x25519.Identity.from_str(
    [l for l in open(sys.argv[2]).read().splitlines() if l.startswith("AGE-SECRET-KEY-1")][0])
p = pyrage.decrypt(open(sys.argv[1], "rb").read(), [ident])
header, rest = p.split(b"\n", 1)
n = rest[0]
name = rest[1:1 + n]
size = int.from_bytes(rest[1 + n:9 + n], "big")
data = rest[9 + n:9 + n + size]
print(header.decode(), name.decode(), data[:16] == b"SQLite format 3\x00")
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(&file)
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    let words: Vec<&str> = said.split_whitespace().collect();
    assert_eq!(words[0], "sotto-backup/v1");
    assert!(sotto_wire::Day::parse(words[1]).is_some(), "{said}");
    assert_eq!(&words[2..], ["sotto.db", "True"], "{said}");
}
