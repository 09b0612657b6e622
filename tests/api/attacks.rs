//! Attacks on the service itself, each as a test: what one client with
//! nothing but HTTP once did to it cheaply, and must not do any more.
//! Loopback only, bounded in count and time.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::bad_input::{post_case, refused, resign, stored, valid};
use crate::helpers::{raw, spawn_app, spawn_app_with, submit, TestApp};

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

/// Opens a connection and sends `head` and the start of a body, then
/// nothing more.
fn stall(app: &TestApp, head: &str, start: &[u8]) -> TcpStream {
    let addr = app.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(start).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Everything the server sends on `s` until it closes it.
fn answer(mut s: TcpStream) -> String {
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

/// A handle nobody holds, so that the body is read.
fn handle() -> String {
    sotto_envelope::token::Token::generate()
        .handle()
        .encode()
        .to_string()
}

/// The head of a case opening that announces a megabyte, under a handle
/// nobody holds.
fn slow_case_head() -> String {
    format!(
        "POST /v1/cases HTTP/1.1\r\nHost: x\r\nsotto-handle: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n",
        handle()
    )
}

/// File descriptors the server holds open.
fn open_files(app: &TestApp) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", app.pid()))
        .unwrap()
        .count()
}

#[test]
fn a_body_that_stops_arriving_is_answered_408_and_its_connection_closed() {
    let app = spawn_app_with(&[("SOTTO_READ_TIMEOUT", "2")]);
    let before = stored(&app);
    // Full headers announcing a megabyte, five bytes, then silence: once
    // held for good.
    let started = Instant::now();
    let s = stall(&app, &slow_case_head(), b"{\"a\":");
    let got = answer(s);
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("\"request_timeout\""), "{got}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // A no-JavaScript form with its last bytes cut once hung for good.
    let form =
        "--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nwhat happened\r\n--b--\r\n";
    let head = format!(
        "POST /desk/default/report HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n\r\n",
        form.len()
    );
    let got = answer(stall(&app, &head, &form.as_bytes()[..form.len() - 10]));
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert_eq!(stored(&app), before, "a cut request stored something");
}

#[test]
fn a_slow_body_flood_is_shed_and_honest_reporters_get_through() {
    let app = spawn_app_with(&[("SOTTO_READ_TIMEOUT", "2")]);
    app.add_recipient("Alice");
    let baseline = open_files(&app);
    // 1,050 of these once stopped the whole server; here 300, bounded by
    // this test's own open-file limit.
    let head = &slow_case_head();
    let stalled: Vec<TcpStream> = (0..300).map(|_| stall(&app, head, b"{")).collect();
    // While they hang, a reporter still gets through.
    let done = submit(&app, "still heard");
    assert!(!done.token.to_display().is_empty());
    // And after the read timeout, the server holds none of them.
    let answers: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = stalled
            .into_iter()
            .map(|c| s.spawn(move || answer(c)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let timed_out = answers
        .iter()
        .filter(|a| a.starts_with("HTTP/1.1 408"))
        .count();
    assert_eq!(timed_out, 300, "every stalled request is answered 408");
    let deadline = Instant::now() + Duration::from_secs(10);
    while open_files(&app) > baseline + 8 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        open_files(&app) <= baseline + 8,
        "the server still holds {} files (baseline {baseline})",
        open_files(&app)
    );
}

/// Sends `request` on a fresh connection and returns the status line.
fn status_line(app: &TestApp, request: &[u8]) -> String {
    let addr = app.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // The server may answer and close before it has read everything.
    let _ = s.write_all(request);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

#[test]
fn requests_the_parser_refuses_get_a_4xx_and_no_line_each_in_the_diagnostics() {
    let app = spawn_app();
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000));
    let long_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let cases: [&[u8]; 4] = [
        b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
        long_uri.as_bytes(),
        long_header.as_bytes(),
        b"POST /v1/cases HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ];
    // A small flood of each: once one dated ERROR line per connection.
    for request in cases {
        for _ in 0..25 {
            let line = status_line(&app, request);
            assert!(
                line.starts_with("HTTP/1.1 4"),
                "{line:?} for {:?}",
                String::from_utf8_lossy(&request[..40])
            );
        }
    }
    assert_eq!(app.api.health().unwrap().status, "ok");
    let logs = app.logs();
    let lines = logs.lines().filter(|l| l.contains("actix_http")).count();
    assert_eq!(lines, 0, "{logs}");
}

#[test]
fn head_works_wherever_get_does() {
    let app = spawn_app();
    for path in [
        "/v1/health",
        "/",
        "/transparency",
        "/log/checkpoint",
        "/v1/desks/default",
    ] {
        let get = status_line(
            &app,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let addr = app.url.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(
            format!("HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let mut got = String::new();
        s.read_to_string(&mut got).unwrap();
        let (head, body) = got.split_once("\r\n\r\n").unwrap();
        assert_eq!(head.lines().next().unwrap(), get, "HEAD {path}");
        assert!(body.is_empty(), "HEAD {path} sent a body");
    }
    // Where GET is not a route, neither is HEAD.
    let line = status_line(
        &app,
        b"HEAD /v1/cases HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(line.starts_with("HTTP/1.1 405"), "{line}");
}

#[test]
fn follow_ups_are_not_free_a_case_has_a_daily_quota() {
    use sotto::client::reporter::reply;
    use sotto::client::ClientError;
    use sotto_wire::content::Attachment;

    let mut app = spawn_app_with(&[
        ("SOTTO_FOLLOW_UPS_PER_DAY", "3"),
        ("SOTTO_FOLLOW_UP_BYTES_PER_DAY", "400000"),
    ]);
    app.add_recipient("Alice");
    let done = submit(&app, "the opening counts as one");
    let token = done.token;
    for n in 1..=2 {
        reply(&app.api, &token, &format!("follow-up {n}"), vec![]).unwrap();
    }
    let before = stored(&app);
    let err = reply(&app.api, &token, "one too many", vec![]).unwrap_err();
    match &err {
        ClientError::Server { status, code, .. } => {
            assert_eq!(
                (*status, code.as_str()),
                (429, "too_many_follow_ups"),
                "{err}"
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(stored(&app), before, "a refused follow-up stored something");
    // The answer says when to come back: the next day, at most a day away.
    let (status, headers, _) = crate::helpers::raw_response(
        &app,
        "POST",
        "/v1/reporter/case/messages",
        &[
            ("sotto-handle", token.handle().encode().as_ref()),
            ("content-type", "application/json"),
        ],
        format!(
            r#"{{"seq":3,"envelope":"","signature":"{}"}}"#,
            "A".repeat(86)
        )
        .as_bytes(),
    );
    assert_eq!(status, 429);
    let retry: u64 = headers
        .iter()
        .find(|(k, _)| k == "retry-after")
        .map(|(_, v)| v.parse().unwrap())
        .expect("Retry-After");
    assert!((1..=86_400).contains(&retry), "{retry}");

    // The next day the quota is new; bytes count as well as messages.
    app.restart_with(&[
        ("SOTTO_FOLLOW_UPS_PER_DAY", "3"),
        ("SOTTO_FOLLOW_UP_BYTES_PER_DAY", "400000"),
        ("SOTTO_CLOCK_OFFSET_DAYS", "1"),
    ]);
    reply(&app.api, &token, "a day later", vec![]).unwrap();
    let big = Attachment {
        name: "evidence.bin".into(),
        data: vec![7; 300_000],
    };
    let err = reply(&app.api, &token, "too much at once", vec![big]).unwrap_err();
    assert!(
        matches!(&err, ClientError::Server { status: 429, code, .. } if code == "too_many_follow_ups"),
        "{err}"
    );
}

/// Twelve follow-ups of nearly 16 MiB each (the largest envelope), posted
/// as the reporter: a 200 MB thread. Returns the token.
fn a_200_mb_thread(app: &TestApp) -> sotto_envelope::token::Token {
    use sotto_envelope::sign::{CaseId, Direction};
    use sotto_wire::api::PostMessage;

    let alice = app.add_recipient("Alice");
    let done = submit(app, "the report of a long case");
    let token = done.token;
    let case = CaseId::parse(&done.opened.case).unwrap();
    let plaintext: Vec<u8> = (0..(16 << 20) - (16 << 10))
        .map(|i| (i % 251) as u8)
        .collect();
    let envelope = sotto_envelope::encrypt(
        &[alice.card().recipient, token.identity().recipient()],
        &plaintext,
    )
    .unwrap();
    assert!(envelope.len() <= 16 << 20);
    for seq in 1..=12 {
        let signature =
            token
                .signing_key()
                .sign_envelope(&case, seq, Direction::FromReporter, &envelope);
        app.api
            .reporter_post(
                &token.handle(),
                &PostMessage {
                    seq,
                    envelope: envelope.clone(),
                    signature: signature.to_string(),
                },
            )
            .unwrap();
    }
    token
}

#[test]
fn a_200_mb_thread_is_read_in_pages_with_bounded_memory() {
    let app = spawn_app_with(&[
        ("SOTTO_FOLLOW_UP_BYTES_PER_DAY", "1073741824"),
        // As deploy/sotto.service runs it: with glibc's default arenas, what
        // a process keeps of freed 30 MB buffers varies from run to run.
        ("MALLOC_ARENA_MAX", "2"),
    ]);
    let token = a_200_mb_thread(&app);
    let handle = token.handle();
    // What one answer may cost: one envelope read from the database, and
    // its JSON (base64) growing into a buffer that doubles. The thread is
    // fifteen times that.
    let bound: u64 = 3 * (22 << 20);
    let idle = app.peak_rss();
    // Once, one read of this thread cost the server about 485 MB.
    let whole = app.api.reporter_status(&handle).unwrap();
    assert_eq!(whole.message_count, 13);
    assert_eq!(whole.messages.len(), 13);
    let one = app.peak_rss();
    assert!(
        one - idle <= bound,
        "one reader took the server from {} to {} MiB",
        idle >> 20,
        one >> 20
    );
    // A page holds no more than fits, or one envelope alone: the client
    // asked for each.
    let first = app.api.reporter_page(&handle, None).unwrap();
    assert_eq!(first.messages.len(), 1, "the report; the next does not fit");
    let second = app.api.reporter_page(&handle, Some(0)).unwrap();
    assert_eq!(second.messages.len(), 1, "one large follow-up alone");
    assert_eq!(second.messages[0].seq, 1);
    // Four at once once reached 1.6 GB.
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..4)
            .map(|_| s.spawn(|| app.api.reporter_status(&handle).unwrap().messages.len()))
            .collect();
        for r in readers {
            assert_eq!(r.join().unwrap(), 13);
        }
    });
    let four = app.peak_rss();
    eprintln!(
        "200 MB thread: idle peak {} MiB, one reader {} MiB, four {} MiB",
        idle >> 20,
        one >> 20,
        four >> 20
    );
    assert!(
        four - idle <= 4 * bound,
        "four readers took the server from {} to {} MiB",
        idle >> 20,
        four >> 20
    );
}

#[test]
fn a_flood_of_new_cases_raises_the_proof_of_work_and_quiet_lowers_it() {
    let app = spawn_app_with(&[
        ("SOTTO_POW_DIFFICULTY", "4"),
        ("SOTTO_POW_MAX_DIFFICULTY", "6"),
        ("SOTTO_POW_TARGET_PER_MINUTE", "2"),
        ("SOTTO_POW_WINDOW_SECONDS", "2"),
    ]);
    app.add_recipient("Alice");
    let asked = || app.api.challenge("default").unwrap().difficulty;
    let shown = || app.api.desk("default").unwrap().proof_of_work;
    assert_eq!(asked(), 4);
    // Six at once: however the server's windows fall, one of them holds
    // more than the target of two.
    let start = Instant::now();
    for n in 0..6 {
        submit(&app, &format!("flood {n}"));
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "the flood took two windows or fewer"
    );
    std::thread::sleep(Duration::from_millis(2100));
    // Twice the work (or four times) for every new reporter, and the desk
    // says so. (A quiet window may close between the two reads.)
    let pow = shown();
    assert!((5..=6).contains(&pow.difficulty), "{pow:?}");
    assert_eq!(pow.usual_difficulty, Some(4));
    let asked_now = asked();
    assert!(
        asked_now + 1 >= pow.difficulty && asked_now >= 5 - 1,
        "{asked_now}"
    );
    // A report still goes through, at the higher difficulty.
    submit(&app, "an honest reporter in the flood");
    // Quiet windows later it is back where it was.
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(asked(), 4);
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

#[test]
fn lists_in_requests_and_readers_of_a_desk_stop_at_the_limit() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let before = stored(&app);
    // A case naming 65 readers is refused while its JSON is read.
    let v = valid(&app, &alice);
    let mut body = serde_json::to_value(&v.open).unwrap();
    body["recipients"] = serde_json::json!(vec!["1234567890123456789012345"; 65]);
    let got = post_case(&app, &v.handle(), &serde_json::to_vec(&body).unwrap());
    assert!(
        got.1["message"].as_str().unwrap().contains("at most 64"),
        "{}",
        got.1
    );
    refused(&app, before, got, 400, "bad_json");

    // A desk takes 64 readers and refuses the 65th, in one line.
    let add = |name: &str| {
        let id = sotto_envelope::keys::DeskIdentity::generate(
            sotto_envelope::keys::DisplayName::parse(name).unwrap(),
        );
        app.sotto(&[
            "admin",
            "add-recipient",
            "--data",
            app.data_dir().to_str().unwrap(),
            "--desk",
            "default",
            "--card",
            &id.card().to_string(),
        ])
    };
    for n in 1..64 {
        assert!(add(&format!("Reader {n}")).status.success());
    }
    let out = add("One Too Many");
    assert!(!out.status.success());
    let err = crate::helpers::stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("64 readers"), "{err}");
    app.wait_for_checkpoint();
    assert_eq!(app.api.desk("default").unwrap().recipients.len(), 64);

    // A case has at most 64 readers too: one sealed to the whole desk
    // cannot be shared with one more.
    let done = submit(&app, "to every reader");
    assert_eq!(done.recipients.len(), 64);
    let added = app.admin(&["add-desk", "--name", "independent"]);
    assert!(added.status.success());
    let carol = app.add_recipient_to("independent", "Carol");
    let before = stored(&app);
    let err = sotto::client::desk::share(
        &app.api,
        &alice,
        &done.opened.case,
        &carol.card(),
        Some("independent"),
        "",
        true,
    )
    .unwrap_err();
    assert!(
        matches!(&err, sotto::client::ClientError::Server { status: 409, code, .. } if code == "too_many_readers"),
        "{err}"
    );
    assert_eq!(stored(&app), before);
}

/// The boundary of the no-JavaScript form posts below.
const BOUNDARY: &str = "sotto-flood-boundary-0123456789";

/// A multipart form as a browser without JavaScript sends it.
fn nojs_form(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, value) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

/// What one flood post got: its status and whether it was the busy page
/// that says when to come back, or why it got nothing.
type Answer = Result<(u16, bool), String>;

/// Posts the no-JavaScript report form once, giving up after 30 seconds.
fn post_nojs(agent: &ureq::Agent, url: &str, form: &[u8]) -> Answer {
    let res = agent
        .post(url)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .send(form);
    match res {
        Ok(mut res) => {
            let retry_after = res.headers().get("retry-after").is_some();
            let page = res.body_mut().read_to_string().unwrap_or_default();
            // A refusal is the small page: it says so, and carries no
            // script (nor its catalog) for a flood to download.
            let told_busy =
                retry_after && page.contains("The server is busy") && !page.contains("<script");
            Ok((res.status().as_u16(), told_busy))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `probe` on a thread of its own and waits at most `limit` for it:
/// its answer and how long it took. Past `limit`, it waits up to a minute
/// more, so that the failure says whether the probe was slow (and how
/// slow) or stuck.
fn within<T: Send + 'static>(
    limit: std::time::Duration,
    probe: impl FnOnce() -> T + Send + 'static,
) -> Result<(T, std::time::Duration), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let started = std::time::Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(probe());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => Ok((out, started.elapsed())),
        Err(_) => Err(match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(_) => format!("answered only after {:?}", started.elapsed()),
            Err(_) => format!("still unanswered after {:?}", started.elapsed()),
        }),
    }
}

#[test]
fn a_no_js_report_flood_leaves_reporters_and_desks_answered() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::{Duration, Instant};

    // 500 browsers at once, each posting the form three times in a row,
    // to a server with one worker: once 520 such posts left it silent for
    // two minutes, and 1,100 stopped every database route for four.
    const FLOODERS: usize = 500;
    const POSTS: usize = 3;
    // Seconds, not minutes: the failure this guards against left the
    // server silent for minutes. It was 2 s until three CI runs (of six,
    // 2026-12-04) took longer for the first honest report, always about
    // 0.5 s into the flood, when 500 connections reach the one debug
    // worker at once; the cause is not yet found (issue 14's note). A
    // failure says how long the probe took in the end, or that it never
    // came back.
    const ANSWER_WITHIN: Duration = Duration::from_secs(5);

    let app = spawn_app_with(&[("SOTTO_WORKERS", "1")]);
    let alice = app.add_recipient("Alice");
    let reader = alice.card().fingerprint().id();
    let form = Arc::new(nojs_form(&[
        ("text", "one of many identical reports"),
        ("reader", &reader),
    ]));
    let url = format!("{}/desk/default/report", app.url);

    let start = Arc::new(Barrier::new(FLOODERS + 1));
    let running = Arc::new(AtomicUsize::new(FLOODERS));
    let flood_started = Instant::now();
    let flooders: Vec<_> = (0..FLOODERS)
        .map(|_| {
            let (start, running, form, url) = (
                Arc::clone(&start),
                Arc::clone(&running),
                Arc::clone(&form),
                url.clone(),
            );
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(30)))
                        .build()
                        .into();
                    start.wait();
                    let answers: Vec<Answer> =
                        (0..POSTS).map(|_| post_nojs(&agent, &url, &form)).collect();
                    running.fetch_sub(1, Ordering::SeqCst);
                    answers
                })
                .unwrap()
        })
        .collect();
    start.wait();

    // Throughout the flood, an honest reporter through the API and a
    // desk's inbox are each answered within a few seconds.
    let mut probes = 0;
    let mut slowest = Duration::ZERO;
    while running.load(Ordering::SeqCst) > 0 || probes == 0 {
        let api = app.api.clone();
        let asked = flood_started.elapsed();
        let (sent, took) = within(ANSWER_WITHIN, move || {
            sotto::client::reporter::submit(
                &api,
                &sotto::client::reporter::Submission {
                    desk: "default".into(),
                    text: "an honest report during the flood".into(),
                    ..Default::default()
                },
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        })
        .unwrap_or_else(|late| {
            panic!(
                "an honest report asked {asked:?} into the flood was not answered within \
                 {ANSWER_WITHIN:?}: {late}"
            )
        });
        sent.expect("an honest report during the flood");
        slowest = slowest.max(took);
        let (api, me) = (app.api.clone(), alice.clone());
        let asked = flood_started.elapsed();
        let (inbox, took) = within(ANSWER_WITHIN, move || {
            sotto::client::desk::inbox(&api, &me)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .unwrap_or_else(|late| {
            panic!(
                "the desk's inbox asked {asked:?} into the flood was not answered within \
                 {ANSWER_WITHIN:?}: {late}"
            )
        });
        inbox.expect("the inbox during the flood");
        slowest = slowest.max(took);
        probes += 1;
    }

    // Every post was answered: sealed (200), or told the server is busy
    // and when to come back (503 with Retry-After). No other error, and
    // no post left hanging.
    let mut sealed = 0;
    let mut busy = 0;
    let mut posts = 0;
    for f in flooders {
        for answer in f.join().unwrap() {
            posts += 1;
            match answer {
                Ok((200, _)) => sealed += 1,
                Ok((503, true)) => busy += 1,
                Ok((status, told_busy)) => {
                    panic!("a flood post got {status} (Retry-After and the busy page: {told_busy})")
                }
                Err(e) => panic!("a flood post got no answer: {e}"),
            }
        }
    }
    eprintln!(
        "no-JS flood: {posts} posts in {:?}, {sealed} sealed, {busy} busy; \
         {probes} rounds of honest probes, the slowest answered in {slowest:?}",
        flood_started.elapsed(),
    );
    assert_eq!(posts, FLOODERS * POSTS);
    assert!(
        sealed > 0,
        "the flood's own reports are sealed while there is room"
    );
}

#[test]
fn a_no_js_report_whose_browser_left_is_never_sealed() {
    use std::io::Write;
    use std::time::Duration;

    const LEFT: usize = 20;
    let app = spawn_app_with(&[("SOTTO_NOJS_CONCURRENCY", "1"), ("SOTTO_NOJS_QUEUE", "64")]);
    let alice = app.add_recipient("Alice");
    let form = nojs_form(&[
        ("text", "sent, and then the tab was closed"),
        ("reader", &alice.card().fingerprint().id()),
    ]);
    // A browser that waits for the answer gets its report sealed.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/desk/default/report", app.url);
    assert_eq!(post_nojs(&agent, &url, &form), Ok((200, false)));
    let (waited, _, _) = stored(&app);
    assert_eq!(waited, 1);

    // Twenty that send the whole form and close the connection at once.
    let addr = app.url.trim_start_matches("http://").to_owned();
    for _ in 0..LEFT {
        let mut conn = std::net::TcpStream::connect(&addr).unwrap();
        let head = format!(
            "POST /desk/default/report HTTP/1.1\r\nhost: {addr}\r\n\
             content-type: multipart/form-data; boundary={BOUNDARY}\r\n\
             content-length: {}\r\n\r\n",
            form.len()
        );
        conn.write_all(head.as_bytes()).unwrap();
        conn.write_all(&form).unwrap();
    }
    // Time enough to seal all twenty one after the other, had they run.
    std::thread::sleep(Duration::from_secs(4));
    let (cases, _, _) = stored(&app);
    assert!(
        cases - waited <= 1,
        "{} of {LEFT} reports were sealed for browsers that had left",
        cases - waited
    );
    // And the server still seals for those who wait.
    assert_eq!(post_nojs(&agent, &url, &form), Ok((200, false)));
}

/// Every tree size and leaf index in what a client was shown: numbers
/// under the keys the API names them by, and the size line of any signed
/// checkpoint.
fn log_numbers(v: &serde_json::Value, key: &str, out: &mut Vec<(String, u64)>) {
    use serde_json::Value;
    const KEYS: [&str; 6] = [
        "leaf_index",
        "entry",
        "entries",
        "opened_entry",
        "size",
        "checked_size",
    ];
    match v {
        Value::Number(n) if KEYS.contains(&key) => out.push((key.to_owned(), n.as_u64().unwrap())),
        Value::String(s) if s.starts_with("localhost/sotto\n") => {
            let size = s.lines().nth(1).and_then(|l| l.parse().ok()).unwrap();
            out.push((format!("{key} (checkpoint)"), size));
        }
        Value::Array(a) => a.iter().for_each(|x| log_numbers(x, key, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| log_numbers(x, k, out)),
        _ => {}
    }
}

/// What a spy with `token` sees of their own case: its status and its
/// receipt route, without what only says when the next batch is due.
fn spy_view(app: &TestApp, token: &sotto_envelope::token::Token) -> serde_json::Value {
    let handle = token.handle().encode();
    let headers = [("sotto-handle", handle.as_str())];
    let (s, status) = crate::helpers::raw(app, "GET", "/v1/reporter/case", &headers, b"");
    assert_eq!(s, 200, "{status}");
    let (s, mut receipt) =
        crate::helpers::raw(app, "GET", "/v1/reporter/case/receipt", &headers, b"");
    assert_eq!(s, 200, "{receipt}");
    if let Some(o) = receipt.as_object_mut() {
        o.remove("receipt_after_seconds");
    }
    serde_json::json!({"status": status, "receipt": receipt})
}

#[test]
fn a_spy_polling_their_own_receipt_and_openings_sees_no_size_before_it_is_published() {
    let app = spawn_app_with(&[("SOTTO_CHECKPOINT_INTERVAL", "5")]);
    let alice = app.add_recipient("Alice");
    let spy = submit(&app, "The spy's own case, published long ago.");
    for _round in 0..4 {
        // Right after a batch: the round fits in the next interval, or is
        // run again.
        app.wait_for_checkpoint();
        let published = app.api.log_info().unwrap().size;
        let mut seen = Vec::new();
        let before = spy_view(&app, &spy.token);
        // Someone else reports, within the same batch.
        submit(&app, "Someone else's report.");
        let after = spy_view(&app, &spy.token);
        // The spy opens a second case, and polls it while a third person
        // reports.
        let second = submit(&app, "The spy opens another case.");
        let opened = serde_json::to_value(&second.opened).unwrap();
        let pending = spy_view(&app, &second.token);
        submit(&app, "A third person's report.");
        let pending_after = spy_view(&app, &second.token);
        // A curious handler reads the new case too.
        let desk_view = sotto::client::desk::show(&app.api, &alice, &second.opened.case).unwrap();
        let handler = serde_json::to_value(&desk_view.case).unwrap();
        if app.api.log_info().unwrap().size != published {
            continue; // a batch was published mid-round: no conclusion
        }
        for v in [&before, &after, &opened, &pending, &pending_after, &handler] {
            log_numbers(v, "", &mut seen);
        }
        let beyond: Vec<_> = seen.iter().filter(|(_, n)| *n > published).collect();
        assert!(
            beyond.is_empty(),
            "the published log has {published} entries, yet the spy was shown {beyond:?}"
        );
        assert!(
            seen.iter().all(
                |(k, n)| !(k == "leaf_index" || k == "entry" || k == "opened_entry")
                    || *n < published
            ),
            "an index of an unpublished entry: {seen:?}"
        );
        assert_eq!(
            before, after,
            "the spy's view changed when someone else reported"
        );
        assert_eq!(
            pending, pending_after,
            "the spy's new case looked different after someone else reported"
        );
        assert_eq!(pending["receipt"]["receipt"], serde_json::Value::Null);

        // Once the batch is published, the receipt is whole, at the
        // published size and no further.
        app.wait_for_checkpoint();
        let published = app.api.log_info().unwrap().size;
        let whole = spy_view(&app, &second.token);
        let receipt = &whole["receipt"]["receipt"];
        assert!(receipt.is_object(), "{whole}");
        let mut seen = Vec::new();
        log_numbers(&whole, "", &mut seen);
        assert!(seen.iter().all(|(_, n)| *n <= published), "{seen:?}");
        assert!(receipt["leaf_index"].as_u64().unwrap() < published);
        return;
    }
    panic!("no round fitted in one batch interval of 5 s");
}
