//! The transparency log end to end: an honest server passes both audits;
//! then, one at a time, each way an operator could suppress or rewrite a
//! report, or slip in a reader, is caught by the auditor, and a deleted or
//! rewritten case by the reporter's own status check.

use std::path::Path;
use std::process::Output;

use rusqlite::Connection;
use sotto::client::log::ReceiptFile;
use sotto::client::{desk, reporter};
use sotto_envelope::keys::{DeskIdentity, DisplayName};
use sotto_envelope::sign::{CaseId, SigningKey};
use sotto_tlog::merkle::{self, Frontier};
use sotto_tlog::Checkpoint;
use sotto_wire::CaseState;
use zeroize::Zeroizing;

use crate::helpers::{lossy_proxy, printed_token, spawn_app, spawn_app_with, submit, TestApp};

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A server with a little of everything: readers added and removed, a case
/// handled to the end, a record-only report and one in bad faith.
fn busy_app(env: &[(&str, &str)]) -> (TestApp, DeskIdentity, reporter::Submitted) {
    let app = spawn_app_with(env);
    let alice = app.add_recipient("Alice Ombud");
    let bob = app.add_recipient("Bob Moderator");
    let main = submit(&app, "A moderator has been sending me threats.");
    let case = main.opened.case.clone();
    desk::reply(&app.api, &alice, &case, "Thank you; we are on it.", vec![]).unwrap();
    desk::set_state(&app.api, &alice, &case, CaseState::Acknowledged, None).unwrap();
    reporter::reply(&app.api, &main.token, "Here is more.", vec![]).unwrap();
    desk::set_state(
        &app.api,
        &alice,
        &case,
        CaseState::Resolved,
        Some("Dealt with."),
    )
    .unwrap();
    reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: "For the record only.".into(),
            record_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let spam = submit(&app, "Brigade text.");
    desk::set_state(
        &app.api,
        &alice,
        &spam.opened.case,
        CaseState::BadFaith,
        None,
    )
    .unwrap();
    let out = app.sotto(&[
        "admin",
        "remove-recipient",
        "--data",
        app.data_dir().to_str().unwrap(),
        "--recipient",
        &bob.card().fingerprint().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    app.wait_for_checkpoint();
    (app, alice, main)
}

fn log_key(app: &TestApp) -> String {
    app.api.log_info().unwrap().key
}

fn audit_db(app: &TestApp) -> Output {
    let key = log_key(app);
    app.sotto(&[
        "audit",
        "db",
        app.data_dir().to_str().unwrap(),
        "--log-key",
        &key,
    ])
}

fn audit_log(app: &TestApp, state: &Path) -> Output {
    app.sotto(&["audit", "log", "--state", state.to_str().unwrap(), "--json"])
}

fn db(app: &TestApp) -> Connection {
    Connection::open(app.db_path()).unwrap()
}

/// Asserts that a command failed and said `needle`.
fn caught(out: &Output, needle: &str) {
    let t = text(out);
    assert!(!out.status.success(), "not caught: {t}");
    assert!(t.contains(needle), "caught, but without {needle:?}: {t}");
}

/// The reporter's receipt file, complete: the promise kept at submission,
/// with the receipt the server gives once the batch holding the case is
/// published (what `report status --receipt` writes into the file).
fn full_receipt(app: &TestApp, done: &reporter::Submitted) -> ReceiptFile {
    app.wait_for_checkpoint();
    let status = app.api.reporter_status(&done.token.handle()).unwrap();
    let report =
        reporter::check_receipt(&app.api, &done.token, &done.receipt, Some(&status)).unwrap();
    let full = report
        .upgraded
        .expect("once the batch is published, the promise completes into a receipt");
    assert_eq!(full.promise, done.receipt.promise);
    full
}

fn save_receipt(app: &TestApp, done: &reporter::Submitted) -> std::path::PathBuf {
    let path = app
        .work
        .path()
        .join(format!("{}.receipt", done.opened.case));
    std::fs::write(&path, serde_json::to_vec(&full_receipt(app, done)).unwrap()).unwrap();
    path
}

/// `sotto report status --receipt` as the reporter runs it.
fn reporter_status(app: &TestApp, done: &reporter::Submitted, receipt: &Path) -> Output {
    let token = done.token.to_display();
    app.sotto_with(
        &["report", "status", "--receipt", receipt.to_str().unwrap()],
        None,
        &[("SOTTO_TOKEN", token.as_str())],
    )
}

#[test]
fn an_honest_server_passes_both_audits_and_its_figures_are_the_logs() {
    let (app, _alice, main) = busy_app(&[]);
    let out = audit_db(&app);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("No findings"), "{}", text(&out));

    let state = app.work.path().join("audit.json");
    let out = audit_log(&app, &state);
    assert!(out.status.success(), "{}", text(&out));
    let first: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first["key_source"], "trusted-on-first-use");
    assert_eq!(first["findings"], serde_json::json!([]));
    assert_eq!(first["size"], first["new_entries"]);
    assert_eq!(first["rosters_compared"], true, "the signed rosters agree");

    // The published figures are exactly those the log gives.
    let published = app.api.transparency().unwrap();
    let month = &published.months[0];
    assert_eq!(
        (
            month.received,
            month.acknowledged_in_time,
            month.resolved,
            month.record_only,
            month.bad_faith
        ),
        (3, 2, 1, 1, 1)
    );
    let derived = &first["months"][&month.month];
    assert_eq!(derived["received"], 3);
    assert_eq!(derived["resolved"], 1);
    assert_eq!(derived["bad_faith"], 1);
    assert_eq!(first["kinds"]["recipient-removed"][&month.month], 1);

    // The page says the same, with no script and a strict policy.
    let (status, _) = crate::helpers::raw(&app, "GET", "/transparency", &[], b"");
    assert_eq!(status, 200);

    // A second run checks only what is new, from the saved state.
    submit(&app, "Another report.");
    app.wait_for_checkpoint();
    let out = audit_log(&app, &state);
    assert!(out.status.success(), "{}", text(&out));
    let second: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(second["key_source"], "saved");
    assert_eq!(second["previous_size"], first["size"]);
    assert_eq!(
        second["new_entries"], 3,
        "case-opened, message-posted, state-changed"
    );

    // And the reporter's receipt still stands.
    let receipt = save_receipt(&app, &main);
    let out = reporter_status(&app, &main, &receipt);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("still in the public log"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_deleted_case_is_caught_by_the_auditor_and_by_its_reporter() {
    let (app, _alice, main) = busy_app(&[]);
    let receipt = save_receipt(&app, &main);
    let id = CaseId::parse(&main.opened.case).unwrap();
    let conn = db(&app);
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DROP TRIGGER messages_are_append_only_delete;
         DROP TRIGGER case_recipients_are_fixed_delete;",
    )
    .unwrap();
    for table in ["messages", "case_recipients"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE case_id = ?1"),
            [&id.0[..]],
        )
        .unwrap();
    }
    conn.execute("DELETE FROM cases WHERE id = ?1", [&id.0[..]])
        .unwrap();

    caught(&audit_db(&app), "its row is gone: the case was deleted");
    let out = reporter_status(&app, &main, &receipt);
    caught(&out, "deleted behind your back");
}

#[test]
fn an_altered_envelope_is_caught_by_the_auditor_and_by_its_reporter() {
    let (app, _alice, main) = busy_app(&[]);
    let receipt = save_receipt(&app, &main);
    let id = CaseId::parse(&main.opened.case).unwrap();
    // The operator puts another well-formed envelope in place of the report.
    let conn = db(&app);
    conn.execute_batch("DROP TRIGGER messages_are_append_only_update;")
        .unwrap();
    conn.execute(
        "UPDATE messages SET envelope = (SELECT envelope FROM messages WHERE case_id = ?1 AND seq = 1)
         WHERE case_id = ?1 AND seq = 0",
        [&id.0[..]],
    )
    .unwrap();

    caught(
        &audit_db(&app),
        "the envelope is not the one the log recorded",
    );
    let out = reporter_status(&app, &main, &receipt);
    caught(&out, "it was replaced");
}

#[test]
fn a_dropped_log_leaf_is_caught_by_the_auditor() {
    let (app, _alice, _main) = busy_app(&[]);
    let conn = db(&app);
    conn.execute_batch(
        "DROP TRIGGER events_are_append_only_delete;
         DELETE FROM events WHERE seq = (SELECT min(seq) FROM events WHERE kind = 'state-changed');",
    )
    .unwrap();
    let out = audit_db(&app);
    caught(&out, "is missing: removed from the log");
    caught(&out, "but only 18 are stored: leaves were removed");
}

#[test]
fn an_address_or_an_email_planted_in_any_column_is_caught() {
    let (app, _alice, main) = busy_app(&[]);
    let id = CaseId::parse(&main.opened.case).unwrap();
    let conn = db(&app);
    conn.execute(
        "UPDATE desks SET description = 'reports from 192.168.1.20'",
        [],
    )
    .unwrap();
    let out = audit_db(&app);
    caught(&out, "desks.description");
    caught(&out, "holds an IP address");

    // In a hash column too, past the schema's own checks.
    conn.execute_batch("DROP TRIGGER cases_are_fixed; PRAGMA ignore_check_constraints = ON;")
        .unwrap();
    conn.execute(
        "UPDATE cases SET handle_hash = CAST('whistle@example.org' AS BLOB) WHERE id = ?1",
        [&id.0[..]],
    )
    .unwrap();
    let out = audit_db(&app);
    caught(&out, "cases.handle_hash");
    caught(&out, "holds an e-mail address");
}

#[test]
fn an_address_planted_in_each_kind_of_column_is_caught() {
    // Text, blob, day, id and public-name columns, each in its own database.
    let plants = [
        ("events", "on_day", "'10.20.30.40'", "holds an IP address"),
        (
            "events",
            "envelope_hash",
            "CAST('from 10.20.30.40 today....' AS BLOB)",
            "holds an IP address",
        ),
        (
            "messages",
            "author",
            "'reporter@example.org'",
            "holds an e-mail address",
        ),
        (
            "messages",
            "signature",
            "CAST('https://example.org/who-reported' AS BLOB)",
            "holds a URL",
        ),
        (
            "recipients",
            "card",
            "'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101'",
            "holds a browser",
        ),
        (
            "checkpoints",
            "note",
            "'ip 2001:db8::7 saw it'",
            "holds an IP address",
        ),
        (
            "case_recipients",
            "recipient_id",
            "'she wrote that she was afraid'",
            "holds readable prose",
        ),
    ];
    for (table, column, value, finding) in plants {
        let (app, _alice, _main) = busy_app(&[]);
        let conn = db(&app);
        let triggers: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for t in triggers {
            conn.execute_batch(&format!("DROP TRIGGER {t};")).unwrap();
        }
        conn.execute_batch("PRAGMA ignore_check_constraints = ON; PRAGMA foreign_keys = OFF;")
            .unwrap();
        let n = conn
            .execute(
                &format!(
                    "UPDATE {table} SET {column} = {value}
                     WHERE rowid = (SELECT min(rowid) FROM {table} WHERE {column} IS NOT NULL)"
                ),
                [],
            )
            .or_else(|_| {
                // WITHOUT ROWID tables: any one row.
                conn.execute(
                    &format!(
                        "UPDATE {table} SET {column} = {value}
                         WHERE {column} = (SELECT {column} FROM {table} WHERE {column} IS NOT NULL LIMIT 1)"
                    ),
                    [],
                )
            })
            .unwrap();
        assert!(n >= 1, "nothing planted in {table}.{column}");
        let out = audit_db(&app);
        caught(&out, &format!("{table}.{column}"));
        caught(&out, finding);
    }
}

#[test]
fn an_added_column_is_caught() {
    let (app, _alice, _main) = busy_app(&[]);
    db(&app)
        .execute_batch("ALTER TABLE cases ADD COLUMN client_ip TEXT;")
        .unwrap();
    caught(
        &audit_db(&app),
        "table cases: defined differently from schema.sql",
    );
}

#[test]
fn a_forged_checkpoint_signature_is_caught_by_both_audits() {
    let (app, _alice, _main) = busy_app(&[]);
    let state = app.work.path().join("audit.json");
    assert!(audit_log(&app, &state).status.success());
    // A checkpoint for a bigger tree, signed by a key that is not the log's.
    let forger = SigningKey::from_seed(Zeroizing::new([7; 32]));
    let conn = db(&app);
    let size: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    let forged = Checkpoint {
        origin: "localhost/sotto".into(),
        size: size as u64 + 5,
        root: [0; 32],
    }
    .sign(&forger)
    .unwrap();
    conn.execute(
        "INSERT INTO checkpoints (size, note, published_on) VALUES (?1, ?2, '2026-01-01')",
        rusqlite::params![size + 5, forged],
    )
    .unwrap();
    caught(&audit_db(&app), "does not verify with the log's key");
    caught(&audit_log(&app, &state), "does not verify with the log key");
}

/// Rewrites leaf `seq` of the log and re-signs it with the real key, as an
/// operator who holds server.key could: the tree is rebuilt, the new
/// checkpoint verifies. Only consistency with earlier checkpoints can tell.
fn rewrite_history(app: &TestApp, seq: i64) {
    let conn = db(app);
    conn.execute_batch(
        "DROP TRIGGER events_are_append_only_update;
         DROP TRIGGER log_nodes_are_append_only_delete;
         DROP TRIGGER checkpoints_are_append_only_delete;",
    )
    .unwrap();
    let mut leaf: Vec<u8> = conn
        .query_row("SELECT leaf FROM events WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .unwrap();
    let last = leaf.len() - 1;
    leaf[last] ^= 1;
    conn.execute(
        "UPDATE events SET leaf = ?1 WHERE seq = ?2",
        rusqlite::params![leaf, seq],
    )
    .unwrap();
    let leaves: Vec<Vec<u8>> = conn
        .prepare("SELECT leaf FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    conn.execute("DELETE FROM log_nodes", []).unwrap();
    let mut nodes = std::collections::HashMap::new();
    let mut frontier = Frontier::new();
    for (i, l) in leaves.iter().enumerate() {
        let h = merkle::leaf_hash(l);
        frontier.push(h).unwrap();
        for (lv, n, h) in merkle::appended(i as u64, h, &mut |a, b| {
            nodes.get(&(a, b)).copied().ok_or(())
        })
        .unwrap()
        {
            nodes.insert((lv, n), h);
            conn.execute(
                "INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)",
                rusqlite::params![lv, n as i64, &h[..]],
            )
            .unwrap();
        }
    }
    let secret: [u8; 32] = std::fs::read(app.data_dir().join("server.key"))
        .unwrap()
        .try_into()
        .unwrap();
    let note = Checkpoint {
        origin: "localhost/sotto".into(),
        size: leaves.len() as u64,
        root: frontier.root(),
    }
    .sign(&SigningKey::log_key(&secret))
    .unwrap();
    conn.execute(
        "INSERT OR REPLACE INTO checkpoints (size, note, published_on) VALUES (?1, ?2, '2026-01-01')",
        rusqlite::params![leaves.len() as i64, note],
    )
    .unwrap();
}

#[test]
fn a_checkpoint_inconsistent_with_an_earlier_one_is_caught_by_the_auditor_and_the_reporter() {
    let (app, _alice, main) = busy_app(&[]);
    let receipt = save_receipt(&app, &main);
    let state = app.work.path().join("audit.json");
    assert!(audit_log(&app, &state).status.success());
    // The history before the reporter's case is rewritten and re-signed
    // with the real key: each checkpoint verifies on its own.
    rewrite_history(&app, 2);
    caught(&audit_log(&app, &state), "INCONSISTENT");
    let out = reporter_status(&app, &main, &receipt);
    caught(&out, "not consistent with your receipt");
}

#[test]
fn a_recipient_added_behind_the_logs_back_is_caught_and_a_logged_one_is_named() {
    let (app, _alice, _main) = busy_app(&[]);
    let known = app.work.path().join("known-servers.json");
    // The reporter's device has reported here before.
    let send = |accept: bool| {
        let mut args = vec!["report", "submit", "--json"];
        if accept {
            args.push("--accept-readers");
        }
        app.sotto_with(
            &args,
            Some("A report."),
            &[("SOTTO_KNOWN", known.to_str().unwrap())],
        )
    };
    let out = send(false);
    assert!(out.status.success(), "{}", text(&out));

    // A legitimate, logged addition: the next report names her first, and
    // waits for the reporter to accept.
    let carol = app.add_recipient("Carol Newcomer");
    let out = send(false);
    caught(&out, "Carol Newcomer");
    caught(&out, "since you last reported there");
    let out = send(true);
    assert!(out.status.success(), "{}", text(&out));
    let sent: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sent["recipients"].as_array().unwrap().len(), 2);
    let out = send(false);
    assert!(
        out.status.success(),
        "accepted once, not asked again: {}",
        text(&out)
    );
    assert!(!carol.card().to_string().is_empty());

    // An addition behind the log's back: written into the database only.
    let mallory = DeskIdentity::generate(DisplayName::parse("Mallory").unwrap());
    let card = mallory.card();
    db(&app)
        .execute(
            "INSERT INTO recipients (desk_id, id, card, added_on) VALUES (1, ?1, ?2, '2026-11-22')",
            rusqlite::params![card.fingerprint().id(), card.to_string()],
        )
        .unwrap();
    caught(&audit_db(&app), "the log never added them");
    let state = app.work.path().join("audit.json");
    caught(
        &audit_log(&app, &state),
        "as a reader, but the log never added them",
    );
    let out = send(false);
    caught(&out, "the public log does not show them");
    caught(&out, "Mallory");
    // So does a device that never reported here: it starts from the log's
    // signed rosters, which come from the log, not from that table.
    let fresh = app.work.path().join("fresh-known.json");
    let out = app.sotto_with(
        &["report", "submit", "--json"],
        Some("A report."),
        &[("SOTTO_KNOWN", fresh.to_str().unwrap())],
    );
    caught(&out, "the public log does not show them");
    caught(&out, "Mallory");
}

#[test]
fn a_first_contact_starts_from_the_signed_rosters_and_remembers_kilobytes() {
    let (app, alice, _main) = busy_app(&[]);
    for i in 0..30 {
        submit(&app, &format!("Report {i}."));
    }
    app.wait_for_checkpoint();
    let v = sotto_tlog::NoteVerifier::parse(&log_key(&app)).unwrap();
    let from_start = sotto::client::log::follow(&app.api, &v, None, sotto_tlog::Replay::rosters())
        .unwrap()
        .state;
    let summary = sotto::client::log::first_contact(&app.api, &v)
        .unwrap()
        .expect("the server offers its rosters");
    // The same rosters as the whole log gives: Alice, and not Bob, who was
    // removed; at the same checkpoint, with the same tree.
    assert_eq!(summary.replay.desks(), from_start.replay.desks());
    assert_eq!(summary.checkpoint, from_start.checkpoint);
    assert_eq!(summary.frontier, from_start.frontier);
    let default = sotto_tlog::leaf::desk_commitment("default");
    let roster = summary.replay.roster(&default);
    let alice_id = sotto_tlog::leaf::recipient_commitment(&alice.card().fingerprint().id());
    assert_eq!(roster.keys().collect::<Vec<_>>(), [&alice_id]);

    // A device that never reported here reports, then reports again after
    // more cases: what it remembers does not grow with them.
    let known = app.work.path().join("known-servers.json");
    let send = || {
        let out = app.sotto_with(
            &["report", "submit", "--json"],
            Some("A report."),
            &[("SOTTO_KNOWN", known.to_str().unwrap())],
        );
        assert!(out.status.success(), "{}", text(&out));
        std::fs::metadata(&known).unwrap().len()
    };
    let first = send();
    for i in 0..30 {
        submit(&app, &format!("More {i}."));
    }
    app.wait_for_checkpoint();
    let second = send();
    assert!(first < 4096, "{first} bytes remembered");
    // The leaf count and checkpoint grow by a few digits, the frontier by at
    // most a hash or two; the cases add nothing.
    assert!(second < first + 200, "{first} then {second} bytes");
}

#[test]
fn a_roster_summary_whose_frontier_does_not_add_up_is_refused() {
    use std::io::{Read, Write};
    let (app, _alice, _main) = busy_app(&[]);
    submit(&app, "A report.");
    app.wait_for_checkpoint();
    let v = sotto_tlog::NoteVerifier::parse(&log_key(&app)).unwrap();
    let (status, mut summary) = crate::helpers::raw(&app, "GET", "/v1/log/rosters", &[], b"");
    assert_eq!(status, 200, "{summary}");
    // A server that signs its rosters honestly but hands out another tree
    // to follow from: the checkpoint's root does not come out of it.
    let first = summary["frontier"][0].as_str().unwrap().to_owned();
    let other = if first.starts_with('A') { "B" } else { "A" };
    summary["frontier"][0] = format!("{other}{}", &first[1..]).into();
    let body = summary.to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            let mut head = [0u8; 4096];
            let _ = client.read(&mut head);
            let _ = write!(
                client,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let lying = sotto::client::Api::new(&url).unwrap();
    let e = sotto::client::log::first_contact(&lying, &v).unwrap_err();
    assert!(e.to_string().contains("frontier does not add up"), "{e}");
    // The honest summary passes the same check.
    assert!(sotto::client::log::first_contact(&app.api, &v)
        .unwrap()
        .is_some());
}

#[test]
fn a_receipt_is_kept_and_checked_even_before_the_next_checkpoint() {
    let app = spawn_app_with(&[("SOTTO_CHECKPOINT_INTERVAL", "3600")]);
    app.add_recipient("Alice Ombud");
    let receipt = app.work.path().join("receipt.json");
    let out = app.sotto_with(
        &["report", "submit", "--receipt", receipt.to_str().unwrap()],
        Some("Something happened."),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("signed receipt is in"),
        "{}",
        text(&out)
    );
    let file: ReceiptFile = serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    assert_eq!(file.server, app.url);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&receipt).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = printed_token(&text(&out));
    // The case event waits for the hourly batch: not yet public.
    let out = app.sotto_with(
        &["report", "status", "--receipt", receipt.to_str().unwrap()],
        None,
        &[("SOTTO_TOKEN", &token)],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("does not cover it yet"),
        "{}",
        text(&out)
    );
    // A receipt is never overwritten.
    let again = app.sotto_with(
        &["report", "submit", "--receipt", receipt.to_str().unwrap()],
        Some("Again."),
        &[],
    );
    caught(&again, "not overwriting a receipt");
}

#[test]
fn a_server_refuses_to_start_under_another_log_origin() {
    let app = spawn_app();
    drop(app.api.log_info().unwrap());
    let out = std::process::Command::new(crate::helpers::sotto_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-origin",
            "elsewhere.example/log",
            "--data",
        ])
        .arg(app.data_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("--log-origin \"localhost/sotto\""),
        "{}",
        text(&out)
    );
}

#[test]
fn log_resources_are_served_only_up_to_the_published_checkpoint() {
    let app = spawn_app();
    app.add_recipient("Alice Ombud");
    let size = app.api.log_info().unwrap().size;
    assert!(size >= 2);
    let (s, _) = crate::helpers::raw(&app, "GET", "/log/tile/entries/000.p/1", &[], b"");
    assert_eq!(s, 200);
    let beyond = format!("/log/tile/entries/000.p/{}", size + 1);
    let (s, body) = crate::helpers::raw(&app, "GET", &beyond, &[], b"");
    assert_eq!(
        (s, body["error"].as_str()),
        (404, Some("beyond_checkpoint"))
    );
    let (s, body) = crate::helpers::raw(&app, "GET", "/log/tile/0/0", &[], b"");
    assert_eq!((s, body["error"].as_str()), (404, Some("bad_tile")));
    for bad in [
        "/v1/log/inclusion?index=0",
        "/v1/log/inclusion?index=x&size=1",
        "/v1/log/inclusion?index=5&size=1",
        "/v1/log/consistency?from=0&to=1",
        "/v1/log/frontier?size=99999999999999999999999",
    ] {
        let (s, body) = crate::helpers::raw(&app, "GET", bad, &[], b"");
        assert_eq!(
            (s, body["error"].as_str()),
            (400, Some("bad_query")),
            "{bad}"
        );
    }
    let (s, body) = crate::helpers::raw(&app, "GET", "/v1/log/frontier?size=999", &[], b"");
    assert_eq!(
        (s, body["error"].as_str()),
        (404, Some("beyond_checkpoint"))
    );
}

#[test]
fn retention_erases_resolved_cases_logs_it_and_keeps_the_records() {
    let retention = [("SOTTO_RETENTION_DAYS", "30")];
    let mut app = spawn_app_with(&retention);
    let alice = app.add_recipient("Alice Ombud");
    let done = submit(&app, "Handled, and over.");
    let case = done.opened.case.clone();
    desk::set_state(&app.api, &alice, &case, CaseState::Resolved, Some("Done.")).unwrap();
    let record = reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: "For the record.".into(),
            record_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let open = submit(&app, "Still being looked at.");
    app.wait_for_checkpoint();
    let receipt = save_receipt(&app, &done);

    // A month and a day later, the server erases the resolved case only.
    app.restart_with(&[
        ("SOTTO_RETENTION_DAYS", "30"),
        ("SOTTO_CLOCK_OFFSET_DAYS", "31"),
    ]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        let s = app.api.reporter_status(&done.token.handle()).unwrap();
        if s.erased.is_some() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "never erased");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.messages.is_empty());
    for kept in [&record, &open] {
        let s = app.api.reporter_status(&kept.token.handle()).unwrap();
        assert!(s.erased.is_none() && !s.messages.is_empty());
    }
    // Its envelopes are gone from the database; its history is not.
    let id = CaseId::parse(&case).unwrap();
    let conn = db(&app);
    let (messages, events): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM messages WHERE case_id = ?1),
                    (SELECT count(*) FROM events WHERE case_id = ?1)",
            [&id.0[..]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((messages, events), (0, 6));

    // The reporter is told, and their client finds the erasure in the log.
    app.wait_for_checkpoint();
    let out = reporter_status(&app, &done, &receipt);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("was erased on"), "{}", text(&out));
    // Nothing more can be added, by either side.
    let err = reporter::reply(&app.api, &done.token, "one more thing", vec![]).unwrap_err();
    assert!(err.to_string().contains("was erased on"), "{err}");
    let (s, body) = crate::helpers::raw(
        &app,
        "POST",
        "/v1/reporter/case/messages",
        &[("sotto-handle", done.token.handle().encode().as_str())],
        format!(
            r#"{{"seq":0,"envelope":"","signature":"{}"}}"#,
            "A".repeat(86)
        )
        .as_bytes(),
    );
    assert_eq!((s, body["error"].as_str()), (410, Some("case_erased")));
    let err = desk::set_state(&app.api, &alice, &case, CaseState::InReview, None).unwrap_err();
    assert_eq!(err.code(), Some("case_erased"), "{err}");
    let view = desk::show(&app.api, &alice, &case).unwrap();
    assert!(
        view.case.erased.is_some() && view.warnings.is_empty(),
        "{:?}",
        view.warnings
    );

    // Both audits pass: an erasure is a logged event, not a deletion.
    let out = audit_db(&app);
    assert!(out.status.success(), "{}", text(&out));
    let out = audit_log(&app, &app.work.path().join("audit.json"));
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let erased_month = status.erased.unwrap().on.to_string()[..7].to_owned();
    assert_eq!(report["kinds"]["case-erased"][&erased_month], 1);
}

#[test]
fn a_reporter_who_kept_no_receipt_can_get_one_later() {
    let app = spawn_app();
    app.add_recipient("Alice Ombud");
    let done = submit(&app, "Sent without --receipt.");
    app.wait_for_checkpoint();
    let token = done.token.to_display();
    let path = app.work.path().join("later.receipt");
    let out = app.sotto_with(
        &["report", "receipt", "--receipt", path.to_str().unwrap()],
        None,
        &[("SOTTO_TOKEN", token.as_str())],
    );
    assert!(out.status.success(), "{}", text(&out));
    let file: ReceiptFile = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(file.case, done.opened.case);
    assert_eq!(file.promise, done.receipt.promise);
    assert_eq!(
        file.receipt.unwrap().leaf_index,
        full_receipt(&app, &done).receipt.unwrap().leaf_index
    );
    let out = reporter_status(&app, &done, &path);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("still in the public log"),
        "{}",
        text(&out)
    );
    // Never over an existing file.
    let out = app.sotto_with(
        &["report", "receipt", "--receipt", path.to_str().unwrap()],
        None,
        &[("SOTTO_TOKEN", token.as_str())],
    );
    caught(&out, "not overwriting a receipt");
}

#[test]
fn an_upload_whose_answer_is_lost_still_gives_the_reporter_their_token() {
    let app = spawn_app();
    app.add_recipient("Alice Ombud");
    let via = sotto::client::Api::new(&lossy_proxy(&app.url)).unwrap();
    let done = reporter::submit(
        &via,
        &reporter::Submission {
            desk: "default".into(),
            text: "The answer to this upload never arrives.".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
    // The case exists, the token reaches it, and the receipt checks out.
    let view = reporter::status(&app.api, &done.token).unwrap();
    assert_eq!(view.status.case, done.opened.case);
    assert_eq!(
        view.messages[0].content.as_ref().unwrap().text(),
        "The answer to this upload never arrives."
    );
}

#[test]
fn a_report_dropped_from_the_log_before_its_batch_is_caught_by_the_reporters_promise() {
    let app = spawn_app_with(&[("SOTTO_CHECKPOINT_INTERVAL", "3600")]);
    app.add_recipient("Alice Ombud");
    let receipt = app.work.path().join("promise.json");
    let out = app.sotto_with(
        &["report", "submit", "--receipt", receipt.to_str().unwrap()],
        Some("Please do not let this disappear."),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let token = printed_token(&text(&out));
    let file: ReceiptFile = serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    assert!(file.promise.is_some() && file.receipt.is_none());
    let promised_at = file.published_at_promise.unwrap();

    // Before the hourly batch, the operator takes the case out of the
    // database and out of the log (its leaves and their tree nodes), and
    // lets the log move on: the next checkpoint is consistent with every
    // earlier one, so an auditor following the log sees nothing wrong.
    let id = CaseId::parse(&file.case).unwrap();
    let conn = db(&app);
    let first: i64 = conn
        .query_row(
            "SELECT min(seq) - 1 FROM events WHERE case_id = ?1",
            [&id.0[..]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(first as u64, promised_at, "the case waits for its batch");
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DROP TRIGGER messages_are_append_only_delete;
         DROP TRIGGER case_recipients_are_fixed_delete;
         DROP TRIGGER events_are_append_only_delete;
         DROP TRIGGER log_nodes_are_append_only_delete;",
    )
    .unwrap();
    for table in ["messages", "case_recipients", "case_status", "events"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE case_id = ?1"),
            [&id.0[..]],
        )
        .unwrap();
    }
    conn.execute("DELETE FROM cases WHERE id = ?1", [&id.0[..]])
        .unwrap();
    conn.execute(
        "DELETE FROM log_nodes WHERE ((idx + 1) << level) > ?1",
        [first],
    )
    .unwrap();
    // And puts the triggers back as the schema has them.
    let schema =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.sql")).unwrap();
    for trigger in [
        "messages_are_append_only_delete",
        "case_recipients_are_fixed_delete",
        "events_are_append_only_delete",
        "log_nodes_are_append_only_delete",
    ] {
        let start = schema.find(&format!("CREATE TRIGGER {trigger} ")).unwrap();
        let end = start + schema[start..].find("END;").unwrap() + "END;".len();
        conn.execute_batch(&schema[start..end]).unwrap();
    }
    drop(conn);
    app.add_recipient("Bob Newcomer");
    let published = app.api.log_info().unwrap().size;
    assert!(published > promised_at);
    let state = app.work.path().join("audit.json");
    let out = audit_log(&app, &state);
    assert!(
        out.status.success(),
        "the public log alone cannot tell: {}",
        text(&out)
    );
    let out = audit_db(&app);
    assert!(out.status.success(), "nor can the database: {}", text(&out));

    // The reporter's promise can.
    let out = app.sotto_with(
        &[
            "report",
            "status",
            "--receipt",
            receipt.to_str().unwrap(),
            "--json",
        ],
        None,
        &[("SOTTO_TOKEN", &token)],
    );
    caught(&out, "deleted behind your back");
    caught(&out, "promised on");
    caught(&out, "does not show your report");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["log"]["standing"], "promise-broken");
    assert_eq!(report["log"]["entry"], serde_json::Value::Null);
    assert_eq!(report["log"]["checked_size"], published);
}

#[test]
fn a_promise_completes_into_a_receipt_in_the_reporters_file_once_published() {
    let app = spawn_app();
    app.add_recipient("Alice Ombud");
    let receipt = app.work.path().join("kept.json");
    let out = app.sotto_with(
        &[
            "report",
            "submit",
            "--receipt",
            receipt.to_str().unwrap(),
            "--json",
        ],
        Some("Kept as a promise first."),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let sent: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        sent.get("log_entry").is_none(),
        "no entry is known yet: {sent}"
    );
    assert!(sent["receipt_after_seconds"].as_u64().unwrap() <= 1);
    assert_eq!(sent["receipt"]["receipt"], serde_json::Value::Null);
    let token = sent["token"].as_str().unwrap().to_owned();
    let before: ReceiptFile = serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    app.wait_for_checkpoint();

    let status = |json: bool| {
        let mut args = vec!["report", "status", "--receipt", receipt.to_str().unwrap()];
        if json {
            args.push("--json");
        }
        app.sotto_with(&args, None, &[("SOTTO_TOKEN", token.as_str())])
    };
    let out = status(true);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["log"]["standing"], "included");
    assert_eq!(report["log"]["completed"], true);
    let after: ReceiptFile = serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    assert_eq!(
        after.promise, before.promise,
        "the promise is kept beside the receipt"
    );
    let full = after.receipt.as_ref().expect("completed with its receipt");
    assert_eq!(report["log"]["entry"], full.leaf_index);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&receipt).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // From then on it is checked like any receipt, and left as it is.
    let out = status(false);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("still in the public log"),
        "{}",
        text(&out)
    );
    assert!(
        !text(&out).contains("now holds the full receipt"),
        "{}",
        text(&out)
    );
    let again: ReceiptFile = serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    assert_eq!(again, after);
}

#[test]
fn a_receipt_file_from_before_promises_is_still_read_and_checked() {
    let mut app = spawn_app_with(&[("SOTTO_CHECKPOINT_INTERVAL", "3600")]);
    app.add_recipient("Alice Ombud");
    let done = submit(&app, "Kept with an old client.");
    // What an older server answered: a checkpoint of the whole log, signed
    // at opening for this reporter alone, and the leaf's proof in it.
    let conn = db(&app);
    let size: u64 = conn
        .query_row("SELECT max(seq) FROM events", [], |r| r.get::<_, i64>(0))
        .unwrap() as u64;
    let id = CaseId::parse(&done.opened.case).unwrap();
    let index: u64 = conn
        .query_row(
            "SELECT min(seq) - 1 FROM events WHERE case_id = ?1",
            [&id.0[..]],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64;
    let mut nodes = |level: u32, idx: u64| -> Result<sotto_tlog::Hash, ()> {
        conn.query_row(
            "SELECT hash FROM log_nodes WHERE level = ?1 AND idx = ?2",
            rusqlite::params![level, idx as i64],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .map_err(drop)
        .and_then(|h| h.try_into().map_err(drop))
    };
    let root = merkle::root(size, &mut nodes).unwrap();
    let proof = merkle::inclusion_proof(index, size, &mut nodes).unwrap();
    let secret: [u8; 32] = std::fs::read(app.data_dir().join("server.key"))
        .unwrap()
        .try_into()
        .unwrap();
    let checkpoint = Checkpoint {
        origin: "localhost/sotto".into(),
        size,
        root,
    }
    .sign(&SigningKey::log_key(&secret))
    .unwrap();
    let promise = done.receipt.promise.clone().unwrap();
    let old = ReceiptFile {
        version: 1,
        promise: None,
        published_at_promise: None,
        receipt: Some(sotto_wire::api::Receipt {
            leaf_index: index,
            leaf: promise.leaf,
            checkpoint,
            inclusion_proof: proof,
        }),
        ..done.receipt.clone()
    };
    drop(conn);
    let path = app.work.path().join("old.receipt");
    std::fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();

    // Before the batch: its entry, not yet covered by the public log.
    let out = reporter_status(&app, &done, &path);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "your case is entry {index}; the public log's latest checkpoint"
        )),
        "{}",
        text(&out)
    );
    // After it (a restart publishes what waits): included and consistent,
    // and the file is left as it was.
    app.restart_with(&[("SOTTO_CHECKPOINT_INTERVAL", "3600")]);
    app.wait_for_checkpoint();
    let out = reporter_status(&app, &done, &path);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("still in the public log"),
        "{}",
        text(&out)
    );
    let kept: ReceiptFile = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(kept, old);
}
