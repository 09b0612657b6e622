//! A case read in pages, and not read at all when nothing changed: the
//! `ETag` and `If-None-Match` of the two case routes, `?after=SEQ`, the
//! clients joining pages, and what each asker is sent of a share.

use sotto::client::desk;
use sotto::client::reporter;
use sotto_envelope::keys::DeskIdentity;
use sotto_envelope::token::Token;

use crate::helpers::{raw_response, spawn_app, spawn_app_with, submit, TestApp};

/// `GET /v1/reporter/case` with the token's handle and `extra` headers:
/// the status, the `ETag`, and the body.
fn poll(
    app: &TestApp,
    token: &Token,
    query: &str,
    extra: &[(&str, &str)],
) -> (u16, Option<String>, Vec<u8>) {
    let handle = token.handle().encode().to_string();
    let mut headers = vec![("sotto-handle", handle.as_str())];
    headers.extend_from_slice(extra);
    let (status, headers, body) = raw_response(
        app,
        "GET",
        &format!("/v1/reporter/case{query}"),
        &headers,
        b"",
    );
    let etag = headers
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("etag"))
        .map(|(_, v)| v);
    (status, etag, body)
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

/// A case of five messages: "first", then "follow-up N" from the reporter
/// and "answer N" from `alice`, for N of 1 and 2. Its token and id.
fn five_messages(app: &TestApp, alice: &DeskIdentity) -> (Token, String) {
    let done = submit(app, "first");
    let (token, case) = (done.token, done.opened.case);
    for n in 1..=2 {
        reporter::reply(&app.api, &token, &format!("follow-up {n}"), vec![]).unwrap();
        desk::reply(&app.api, alice, &case, &format!("answer {n}"), vec![]).unwrap();
    }
    (token, case)
}

#[test]
fn a_poll_that_finds_nothing_new_is_a_304_and_any_change_is_not() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "first");
    let token = done.token;
    let case = done.opened.case;

    let (status, tag, body) = poll(&app, &token, "", &[]);
    assert_eq!(status, 200);
    let tag = tag.expect("an ETag");
    assert_eq!(json(&body)["message_count"], 1);

    // Nothing changed: a 304, no body, the same tag.
    let (status, again, body) = poll(&app, &token, "", &[("if-none-match", &tag)]);
    assert_eq!((status, again.as_deref()), (304, Some(tag.as_str())));
    assert!(body.is_empty());
    // The tag stands for the case, not the page; `*` and lists work too.
    let (status, _, _) = poll(&app, &token, "?after=0", &[("if-none-match", &tag)]);
    assert_eq!(status, 304);
    let list = format!("\"other\", W/{tag}");
    assert_eq!(poll(&app, &token, "", &[("if-none-match", &list)]).0, 304);
    assert_eq!(poll(&app, &token, "", &[("if-none-match", "*")]).0, 304);
    assert_eq!(
        poll(&app, &token, "", &[("if-none-match", "\"stale\"")]).0,
        200
    );

    // A reply changes the case: a 200 with the new message alone after
    // what the client holds, and a new tag.
    desk::reply(&app.api, &alice, &case, "we are on it", vec![]).unwrap();
    let (status, new_tag, body) = poll(&app, &token, "?after=0", &[("if-none-match", &tag)]);
    assert_eq!(status, 200);
    let new_tag = new_tag.unwrap();
    assert_ne!(new_tag, tag);
    let page = json(&body);
    assert_eq!(page["message_count"], 2);
    let seqs: Vec<u64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1]);

    // So does a state change with no message.
    desk::set_state(
        &app.api,
        &alice,
        &case,
        sotto_wire::CaseState::Acknowledged,
        None,
    )
    .unwrap();
    let (status, third, _) = poll(&app, &token, "?after=1", &[("if-none-match", &new_tag)]);
    assert_eq!(status, 200);
    assert_ne!(third.unwrap(), new_tag);

    // A reader's tag is their own, and works the same way.
    let page = app.api.desk_case_page(&alice, &case, Some(1)).unwrap();
    assert!(page.messages.is_empty());
    assert_eq!(page.message_count, 2);

    // An unknown handle is a 404, tag or not.
    let stranger = Token::generate();
    assert_eq!(
        poll(&app, &stranger, "", &[("if-none-match", &new_tag)]).0,
        404
    );
}

/// The server answers a poll that finds nothing new from memory
/// (`sotto::routes::fresh::Recall`). A change made by another process,
/// here the operator's `sotto admin set-deadlines` beside the running
/// server, must still end the `304`s: the reporter sees the new date due
/// within seconds.
#[test]
fn a_change_made_beside_the_server_ends_its_304s() {
    let app = spawn_app();
    app.add_recipient("Alice");
    let done = submit(&app, "first");
    let opened = done.opened.opened;
    // Published: the server has nothing left to write of its own, which
    // would end the 304s too.
    app.wait_for_checkpoint();
    let (status, tag, body) = poll(&app, &done.token, "", &[]);
    assert_eq!(status, 200);
    let tag = tag.unwrap();
    assert_eq!(json(&body)["next_update_due"], opened.plus(7).to_string());
    for _ in 0..3 {
        assert_eq!(
            poll(&app, &done.token, "", &[("if-none-match", &tag)]).0,
            304
        );
    }

    let out = app.admin(&["set-deadlines", "--acknowledge-days", "3"]);
    assert!(out.status.success(), "{out:?}");

    let waited = std::time::Instant::now();
    let (status, new_tag, body) = loop {
        let answer = poll(&app, &done.token, "", &[("if-none-match", &tag)]);
        if answer.0 != 304 || waited.elapsed() > std::time::Duration::from_secs(10) {
            break answer;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status, 200, "still 304 after {:?}", waited.elapsed());
    assert_ne!(new_tag.unwrap(), tag);
    assert_eq!(json(&body)["next_update_due"], opened.plus(3).to_string());
}

#[test]
fn a_bad_page_query_is_a_clear_400() {
    let app = spawn_app();
    app.add_recipient("Alice");
    let token = submit(&app, "first").token;
    for query in [
        "?after=x",
        "?after=",
        "?after=-1",
        "?after=99999999999999999999999",
        "?after=1&after=2",
        "?afterr=1",
        "?page=2",
        "?limit=0",
        "?limit=",
        "?limit=-1",
        "?limit=1&limit=2",
        "?after=0&limit=one",
    ] {
        let (status, _, body) = poll(&app, &token, query, &[]);
        assert_eq!(status, 400, "{query}");
        assert_eq!(json(&body)["error"], "bad_query", "{query}");
    }
    // Past the end is an empty page, not an error.
    let (status, _, body) = poll(&app, &token, "?after=40", &[]);
    assert_eq!(status, 200);
    assert_eq!(json(&body)["messages"], serde_json::json!([]));
}

#[test]
fn a_long_thread_comes_in_pages_and_every_client_reads_it_whole() {
    // A page of one byte: every message goes alone.
    let app = spawn_app_with(&[("SOTTO_PAGE_BYTES", "1")]);
    let alice = app.add_recipient("Alice");
    let (token, case) = five_messages(&app, &alice);
    let first = app.api.reporter_page(&token.handle(), None).unwrap();
    assert_eq!((first.messages.len(), first.message_count), (1, 5));

    // The reporter's client and the desk's read all five, checked.
    let view = reporter::status(&app.api, &token).unwrap();
    let texts: Vec<String> = view
        .messages
        .iter()
        .map(|m| m.content.as_ref().unwrap().text().to_owned())
        .collect();
    assert_eq!(
        texts,
        [
            "first",
            "follow-up 1",
            "answer 1",
            "follow-up 2",
            "answer 2"
        ]
    );
    let shown = desk::show(&app.api, &alice, &case).unwrap();
    assert_eq!(shown.messages.len(), 5);
    assert!(shown.messages.iter().all(|m| m.content.is_ok()));
    // One page from the middle, read against the report's recipients.
    let page = reporter::status_page(&app.api, &token, Some(2)).unwrap();
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].seq, 3);
    assert_eq!(
        page.messages[0].content.as_ref().unwrap().text(),
        "follow-up 2"
    );
    // The CLI too.
    let shown = token.to_display().to_string();
    let cli = app.sotto_with(
        &["report", "status", "--json"],
        None,
        &[("SOTTO_TOKEN", &shown)],
    );
    let out = String::from_utf8_lossy(&cli.stdout);
    assert!(cli.status.success(), "{out}");
    assert!(out.contains("answer 2"), "{out}");
}

#[test]
fn a_client_that_needs_only_the_report_downloads_no_more_of_the_thread() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let (token, case) = five_messages(&app, &alice);
    // `limit=1`: the report alone, with the case's figures, under the
    // case's one tag.
    let (status, whole_tag, whole) = poll(&app, &token, "", &[]);
    assert_eq!(status, 200);
    let (status, tag, body) = poll(&app, &token, "?limit=1", &[]);
    assert_eq!(status, 200);
    assert_eq!(tag, whole_tag);
    let (whole, body) = (json(&whole), json(&body));
    assert_eq!(body["message_count"], 5);
    assert_eq!(body["messages"], serde_json::json!([whole["messages"][0]]));
    // From the middle, two.
    let (_, _, body) = poll(&app, &token, "?after=1&limit=2", &[]);
    let seqs: Vec<_> = json(&body)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 3]);
    // A reader may ask the same.
    let path = format!("/v1/cases/{case}?limit=1");
    let signed = app.api.signed_headers(&alice, "GET", &path, b"");
    let headers: Vec<(&str, &str)> = signed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = raw_response(&app, "GET", &path, &headers, b"");
    assert_eq!(status, 200);
    let body = json(&body);
    assert_eq!(
        (
            body["message_count"].as_u64(),
            body["messages"][0]["seq"].as_u64()
        ),
        (Some(5), Some(0))
    );
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
    // So does the desk's client where the report is all it needs (the
    // inbox's triage, a template's language).
    let (dc, report) = desk::opened_report(&app.api, &alice, &case).unwrap();
    assert_eq!((dc.messages.len(), dc.message_count), (1, 5));
    assert_eq!(report.unwrap().text, "first");

    // The report alone names the readers and counts the thread: enough
    // for a follow-up, sealed to Alice and numbered after the five.
    let view = reporter::report_only(&app.api, &token).unwrap();
    assert_eq!(view.messages.len(), 1);
    assert_eq!(view.status.message_count, 5);
    assert_eq!(view.recipients.len(), 1);
    let posted = reporter::reply(&app.api, &token, "follow-up 3", vec![]).unwrap();
    assert_eq!(posted.seq, 5);
    let shown = desk::show(&app.api, &alice, &case).unwrap();
    assert_eq!(
        shown.messages[5].content.as_ref().unwrap().text(),
        "follow-up 3"
    );
}

#[test]
fn a_share_is_sent_whole_only_to_the_reader_it_is_sealed_to() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let added = app.admin(&["add-desk", "--name", "independent"]);
    assert!(added.status.success());
    let carol = app.add_recipient_to("independent", "Carol");
    let done = submit(&app, "for Alice, then Carol");
    let (token, case) = (done.token, done.opened.case);
    desk::share(
        &app.api,
        &alice,
        &case,
        &carol.card(),
        Some("independent"),
        "",
        true,
    )
    .unwrap();
    let reporter_view = app.api.reporter_page(&token.handle(), None).unwrap();
    let alice_view = app.api.desk_case_page(&alice, &case, None).unwrap();
    let carol_view = app.api.desk_case_page(&carol, &case, None).unwrap();
    for (who, shares) in [
        ("the reporter", &reporter_view.shares),
        ("Alice", &alice_view.shares),
    ] {
        assert_eq!(shares.len(), 1, "{who}");
        assert!(shares[0].envelope.is_none(), "{who} got Carol's copy");
        assert!(!shares[0].envelope_sha256.is_empty());
    }
    assert!(carol_view.shares[0].envelope.is_some());
    // Each still checks who shared, from the hash alone.
    let view = reporter::status(&app.api, &token).unwrap();
    assert_eq!(view.shared.len(), 1);
    assert_eq!(view.shared[0].by.as_deref(), Some("Alice"));
    assert!(view.warnings.is_empty(), "{:?}", view.warnings);
    let carol_reads = desk::show(&app.api, &carol, &case).unwrap();
    assert_eq!(
        carol_reads.messages[0].content.as_ref().unwrap().text(),
        "for Alice, then Carol"
    );
}

#[test]
fn the_inbox_comes_in_pages_and_the_desk_reads_them_all() {
    let app = spawn_app_with(&[("SOTTO_POW_TARGET_PER_MINUTE", "1000000")]);
    let alice = app.add_recipient("Alice");
    let shared = sotto::client::readers::SharedLog::default();
    let mut opened = Vec::new();
    for n in 0..205 {
        let done = reporter::submit(
            &app.api,
            &reporter::Submission {
                desk: "default".into(),
                text: format!("report {n}"),
                shared_log: Some(shared.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        opened.push(done.opened.case);
    }
    let first = app.api.inbox_page(&alice, None).unwrap();
    assert_eq!(first.cases.len(), 200);
    let next = first.next.clone().expect("a next page");
    let second = app.api.inbox_page(&alice, Some(&next)).unwrap();
    assert_eq!(second.cases.len(), 5);
    assert_eq!(second.next, None);
    // Every case once, whatever the page.
    let mut all = desk::inbox(&app.api, &alice).unwrap().cases;
    assert_eq!(all.len(), 205);
    all.sort_by(|a, b| a.case.cmp(&b.case));
    all.dedup_by(|a, b| a.case == b.case);
    assert_eq!(all.len(), 205);
    opened.sort();
    let listed: Vec<String> = all.into_iter().map(|e| e.case).collect();
    assert_eq!(listed, opened);
    // A cursor that is not one is a clear 400.
    for bad in ["yesterday", "2026-12-03", "2026-12-03.xyz", "x.y"] {
        let err = app.api.inbox_page(&alice, Some(bad)).unwrap_err();
        assert!(
            matches!(&err, sotto::client::ClientError::Server { status: 400, code, .. } if code == "bad_query"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn a_page_too_large_for_the_worker_is_read_on_the_pool_with_the_same_tag() {
    // A status whose page holds more than 64 KiB of envelopes is read on
    // the blocking pool, a smaller one on the HTTP worker: the reporter
    // cannot tell which, the answers and the tag are the same.
    let app = spawn_app();
    app.add_recipient("Alice");
    let done = submit(&app, "first");
    let token = done.token;
    let photo = sotto_wire::content::Attachment {
        name: "photo.jpg".into(),
        data: vec![0x5a; 100 << 10],
    };
    reporter::reply(&app.api, &token, "with a photo", vec![photo]).unwrap();
    reporter::reply(&app.api, &token, "and a last word", vec![]).unwrap();

    let (status, whole_tag, body) = poll(&app, &token, "", &[]);
    assert_eq!(status, 200);
    let whole = json(&body);
    let seqs = |v: &serde_json::Value| -> Vec<u64> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&whole), [0, 1, 2]);
    assert!(whole["messages"][1]["envelope"].as_str().unwrap().len() > 100 << 10);
    let (status, last_tag, body) = poll(&app, &token, "?after=1", &[]);
    assert_eq!(status, 200);
    assert_eq!(seqs(&json(&body)), [2]);
    assert_eq!(whole_tag, last_tag);
    // Both answer a current tag with a 304.
    let tag = whole_tag.unwrap();
    for query in ["", "?after=1"] {
        let (status, _, _) = poll(&app, &token, query, &[("if-none-match", &tag)]);
        assert_eq!(status, 304, "{query}");
    }
    // And the client reads the thread whole, checked.
    let view = reporter::status(&app.api, &token).unwrap();
    assert_eq!(view.messages.len(), 3);
    assert_eq!(
        view.messages[1].content.as_ref().unwrap().attachments()[0]
            .data
            .len(),
        100 << 10
    );
}

#[test]
fn the_cli_watches_a_case_and_shows_only_what_is_new() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "the first report");
    let shown = done.token.to_display().to_string();
    let mut child = Command::new(crate::helpers::sotto_bin())
        .args(["report", "status", "--watch", "1"])
        .current_dir(app.work.path())
        .env("SOTTO_SERVER", &app.url)
        .env("SOTTO_TOKEN", &shown)
        .env_remove("SOTTO_IDENTITY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, seen) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |out: &mut Vec<String>, text: &str| {
        let until = Instant::now() + Duration::from_secs(30);
        while !out.iter().any(|l| l.contains(text)) {
            let left = until.saturating_duration_since(Instant::now());
            match seen.recv_timeout(left) {
                Ok(line) => out.push(line),
                Err(_) => panic!("no {text:?} in {out:#?}"),
            }
        }
    };
    let mut out = Vec::new();
    wait_for(&mut out, "the first report");
    let before = out.len();
    desk::reply(
        &app.api,
        &alice,
        &done.opened.case,
        "an answer while you watch",
        vec![],
    )
    .unwrap();
    wait_for(&mut out, "an answer while you watch");
    let _ = child.kill();
    let _ = child.wait();
    // The change shows the new message, and not the thread again.
    let change = out[before..].join("\n");
    assert!(change.contains("Changed:"), "{change}");
    assert!(!change.contains("the first report"), "{change}");
}

#[test]
fn a_watch_downloads_nothing_when_nothing_changed_and_only_what_is_new_after() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "first");
    let (token, case) = (done.token, done.opened.case);
    let handle = token.handle();
    let mut watch = reporter::Watch::default();
    let looked = watch
        .look(&app.api, &handle)
        .unwrap()
        .expect("the whole case");
    assert_eq!((looked.from, looked.status.messages.len()), (0, 1));
    watch.read(&token, looked).unwrap();
    // Nothing changed: the server answers 304, nothing is downloaded.
    assert!(watch.look(&app.api, &handle).unwrap().is_none());

    desk::reply(&app.api, &alice, &case, "answer", vec![]).unwrap();
    let looked = watch.look(&app.api, &handle).unwrap().expect("a change");
    assert_eq!(looked.from, 1);
    let view = watch.read(&token, looked).unwrap();
    let texts: Vec<&str> = view
        .messages
        .iter()
        .map(|m| m.content.as_ref().unwrap().text())
        .collect();
    assert_eq!(texts, ["answer"]);
    assert!(watch.look(&app.api, &handle).unwrap().is_none());
}
