//! Attacks on the service itself, each as a test: what one client with
//! nothing but HTTP once did to it cheaply, and must not do any more.
//! Loopback only, bounded in count and time.

use crate::bad_input::{post_case, refused, resign, stored, valid};
use crate::helpers::{spawn_app, spawn_app_with};

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

/// What one flood post got: its status and whether it said when to come
/// back, or why it got nothing.
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
            let _ = res.body_mut().read_to_vec();
            let retry_after = res.headers().get("retry-after").is_some();
            Ok((res.status().as_u16(), retry_after))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `probe` on a thread of its own and waits at most `limit` for it:
/// how long it took, or `None` if it was not answered in time.
fn within<T: Send + 'static>(
    limit: std::time::Duration,
    probe: impl FnOnce() -> T + Send + 'static,
) -> Option<(T, std::time::Duration)> {
    let (tx, rx) = std::sync::mpsc::channel();
    let started = std::time::Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(probe());
    });
    rx.recv_timeout(limit)
        .ok()
        .map(|out| (out, started.elapsed()))
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
    const ANSWER_WITHIN: Duration = Duration::from_secs(2);

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
    // desk's inbox are each answered within two seconds.
    let mut probes = 0;
    let mut slowest = Duration::ZERO;
    while running.load(Ordering::SeqCst) > 0 || probes == 0 {
        let api = app.api.clone();
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
        .unwrap_or_else(|| {
            panic!(
                "an honest report was not answered within {ANSWER_WITHIN:?}, {:?} into the flood",
                flood_started.elapsed()
            )
        });
        sent.expect("an honest report during the flood");
        slowest = slowest.max(took);
        let (api, me) = (app.api.clone(), alice.clone());
        let (inbox, took) = within(ANSWER_WITHIN, move || {
            sotto::client::desk::inbox(&api, &me)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .unwrap_or_else(|| {
            panic!(
                "the desk's inbox was not answered within {ANSWER_WITHIN:?}, {:?} into the flood",
                flood_started.elapsed()
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
                Ok((status, retry)) => {
                    panic!("a flood post got {status} (Retry-After: {retry})")
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
