//! The reporter's pages over plain HTTP (the browser tests in
//! `web/test/e2e.test.mjs` drive them in Chromium): languages, headers, the
//! served script's hash, the forms' answers to bad input, and the
//! no-JavaScript path leaving nothing behind.

use sotto_envelope::token::Token;

use crate::helpers::{
    contains, files_under, raw_response, spawn_app, spawn_app_with, submit, TestApp,
};

struct Page {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Page {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn request(app: &TestApp, method: &str, path: &str, kind: Option<&str>, body: &[u8]) -> Page {
    let headers: Vec<(&str, &str)> = kind.map(|k| ("content-type", k)).into_iter().collect();
    let (status, headers, body) = raw_response(app, method, path, &headers, body);
    Page {
        status,
        headers,
        body,
    }
}

const BOUNDARY: &str = "sotto-test-boundary-0123456789";

/// A multipart form: text fields, and files as (name, bytes).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, value) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (name, data) in files {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Page {
    let kind = format!("multipart/form-data; boundary={BOUNDARY}");
    request(app, "POST", path, Some(&kind), &multipart(fields, files))
}

fn token_in(page: &Page) -> String {
    let text = page.text();
    let start = text
        .find("<output id=\"token\"")
        .expect("a token on the page");
    let after = &text[start..];
    let open = after.find('>').unwrap() + 1;
    let close = after.find("</output>").unwrap();
    after[open..close].to_owned()
}

#[test]
fn every_page_answers_in_each_language_with_the_security_headers_and_no_cookie() {
    let app = spawn_app();
    app.add_recipient("Alice");
    for lang in ["en", "es", "de", "ar"] {
        for path in ["/", "/desk/default", "/status"] {
            let p = request(&app, "GET", &format!("{path}?lang={lang}"), None, b"");
            assert_eq!(p.status, 200, "{path} {lang}");
            let dir = if lang == "ar" { "rtl" } else { "ltr" };
            assert!(
                p.text()
                    .contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")),
                "{path} {lang}"
            );
            let csp = p.header("content-security-policy").unwrap();
            assert!(csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"));
            assert!(!csp.contains("unsafe"), "{csp}");
            assert_eq!(p.header("referrer-policy"), Some("no-referrer"));
            assert_eq!(p.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(p.header("cache-control"), Some("no-store"));
            assert!(p.header("set-cookie").is_none());
            assert!(!p.text().contains("<script>"), "no inline script");
            assert!(
                !p.text().contains("http://") && !p.text().contains("https://"),
                "nothing from another origin on {path} {lang}"
            );
        }
    }
    // The reader's language comes from the browser when not chosen.
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let mut res = agent
        .get(format!("{}/status", app.url))
        .header("accept-language", "fr-CH, de;q=0.9")
        .call()
        .unwrap();
    assert!(res
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("<html lang=\"de\""));
}

#[test]
fn the_served_script_is_the_one_whose_hash_every_page_and_desk_shows() {
    let app = spawn_app();
    app.add_recipient("Alice");
    let script = request(&app, "GET", "/static/sotto.js", None, b"");
    assert_eq!(script.status, 200);
    assert!(script
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    let hash: String = sotto_envelope::sha256(&script.body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(app.api.desk("default").unwrap().web_bundle_sha256, hash);
    assert!(request(&app, "GET", "/", None, b"").text().contains(&hash));
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/web.md")).unwrap();
    assert!(
        docs.contains(&hash),
        "docs/web.md names another bundle hash than the one served: update it to {hash}"
    );
    assert_eq!(
        request(&app, "GET", "/static/other.js", None, b"").status,
        404
    );
}

#[test]
fn bad_form_input_gets_a_clear_4xx_page_and_stores_nothing() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let alice_id = alice.card().fingerprint().id();
    let cases = |app: &TestApp| -> i64 {
        rusqlite::Connection::open(app.db_path())
            .unwrap()
            .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
            .unwrap()
    };
    let report = "/desk/default/report";
    let checks: Vec<(Page, u16, &str)> = vec![
        (
            post_form(&app, report, &[("text", "  "), ("reader", &alice_id)], &[]),
            400,
            "Please write what happened",
        ),
        (
            post_form(&app, report, &[("text", "x")], &[]),
            400,
            "Nobody would read this report",
        ),
        (
            post_form(
                &app,
                report,
                &[("text", "x"), ("reader", "1234512345123451234512345")],
                &[],
            ),
            400,
            "list of readers changed",
        ),
        (
            post_form(&app, "/desk/nonesuch/report?lang=de", &[("text", "x")], &[]),
            404,
            "Es gibt keine Meldestelle",
        ),
        (
            request(
                &app,
                "POST",
                report,
                Some("application/json"),
                b"{\"text\":\"x\"}",
            ),
            400,
            "",
        ),
        (
            request(
                &app,
                "POST",
                report,
                Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
                b"--garbage",
            ),
            400,
            "",
        ),
        (
            request(
                &app,
                "POST",
                "/status",
                Some("application/x-www-form-urlencoded"),
                b"token=abc",
            ),
            400,
            "exactly 32 characters",
        ),
        (
            request(
                &app,
                "POST",
                "/status",
                Some("application/x-www-form-urlencoded"),
                b"token=b%C3%A9",
            ),
            400,
            "only 0, 2-9",
        ),
        (
            request(
                &app,
                "POST",
                "/status",
                Some("application/x-www-form-urlencoded"),
                format!("token={}", Token::generate().to_display().as_str()).as_bytes(),
            ),
            400,
            "No case has this token",
        ),
        (
            request(&app, "POST", "/status", Some("text/plain"), b"token"),
            415,
            "wrong content type",
        ),
        (
            post_form(
                &app,
                "/status/reply",
                &[("token", "nope"), ("text", "x")],
                &[],
            ),
            400,
            "32 characters",
        ),
        (
            request(&app, "GET", "/desk/nonesuch?lang=es", None, b""),
            404,
            "No hay",
        ),
        (request(&app, "GET", "/desk/%FF%FE", None, b""), 404, ""),
    ];
    for (i, (page, status, says)) in checks.iter().enumerate() {
        assert_eq!(page.status, *status, "check {i}: {}", page.text());
        assert!(page.text().contains(says), "check {i}: {}", page.text());
        assert!(
            page.header("content-type")
                .is_some_and(|k| k.starts_with("text/html") || k.starts_with("application/json")),
            "check {i}"
        );
    }
    assert_eq!(cases(&app), 0, "nothing was stored");
    // A form larger than the desk accepts is refused before any work.
    let big = vec![7u8; 17 * 1024 * 1024];
    let page = post_form(
        &app,
        report,
        &[("text", "x"), ("reader", &alice_id)],
        &[("big.bin", &big)],
    );
    assert!((400..500).contains(&page.status), "{}", page.status);
    assert_eq!(cases(&app), 0);
    // So is a form of many empty parts.
    let many: Vec<(&str, &str)> = (0..300).map(|_| ("x", "")).collect();
    let page = post_form(&app, report, &many, &[]);
    assert_eq!(page.status, 400);
    assert!(page.text().contains("larger than this desk accepts"));
}

#[test]
fn a_report_without_javascript_works_and_leaves_no_text_or_token_on_disk_or_in_logs() {
    const CANARY: &str = "NOJS-CANARY-5d1e-in-every-field";
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let bob = app.add_recipient("Bob");
    let page = post_form(
        &app,
        "/desk/default/report?lang=de",
        &[
            ("text", &format!("what happened {CANARY}")),
            ("when", &format!("when {CANARY}")),
            (
                "links",
                &format!("https://x.example/{CANARY}\n\n https://y.example/ "),
            ),
            ("involved", &format!("who {CANARY}")),
            ("urgent", "1"),
            ("reader", &alice.card().fingerprint().id()),
        ],
        &[(&format!("{CANARY}.txt"), CANARY.as_bytes())],
    );
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("<html lang=\"de\""));
    let shown = token_in(&page);
    let token = Token::parse(&shown).unwrap();

    // The reporter's own client reads it as sealed: Alice only, every field.
    let view = sotto::client::reporter::status(&app.api, &token).unwrap();
    assert_eq!(view.recipients.len(), 1);
    assert_eq!(view.recipients[0].name.as_str(), "Alice");
    let case = view.status.case.clone();
    let thread = sotto::client::desk::show(&app.api, &alice, &case).unwrap();
    match thread.messages[0].content.as_ref().unwrap() {
        sotto_wire::content::Content::Report(r) => {
            assert!(r.urgent && !r.record_only);
            assert_eq!(r.when, format!("when {CANARY}"));
            assert_eq!(r.involved, format!("who {CANARY}"));
            assert_eq!(
                r.links,
                vec![
                    format!("https://x.example/{CANARY}"),
                    "https://y.example/".into()
                ]
            );
            assert_eq!(r.attachments[0].data, CANARY.as_bytes());
        }
        other => panic!("{other:?}"),
    }
    assert!(sotto::client::desk::show(&app.api, &bob, &case).is_err());

    // The status page and a reply, through the forms.
    let status = request(
        &app,
        "POST",
        "/status",
        Some("application/x-www-form-urlencoded"),
        format!("token={}", shown).as_bytes(),
    );
    assert_eq!(status.status, 200);
    assert!(status.text().contains(&format!("what happened {CANARY}")));
    let reply = post_form(
        &app,
        "/status/reply",
        &[("token", &shown), ("text", &format!("reply {CANARY}"))],
        &[],
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains(&format!("reply {CANARY}")));
    assert_eq!(
        sotto::client::reporter::status(&app.api, &token)
            .unwrap()
            .messages
            .len(),
        2
    );

    // The saved file (a data: link without JavaScript) holds the token and
    // a receipt the CLI checks too.
    let text = page.text();
    let start = text.find("base64,").unwrap() + "base64,".len();
    let end = start + text[start..].find('"').unwrap();
    let file = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &text[start..end],
    )
    .unwrap();
    let file = String::from_utf8(file).unwrap();
    assert!(file.contains(&format!("token: {shown}")));
    let saved = app.work.path().join("sotto-token.txt");
    std::fs::write(&saved, &file).unwrap();
    app.wait_for_checkpoint();
    let out = app.sotto_with(
        &["report", "status", "--receipt", saved.to_str().unwrap()],
        None,
        &[("SOTTO_TOKEN", &shown)],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("still in the public log"), "{said}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("WARNING"));

    // Nothing of it on disk or in the debug log.
    let mut needles: Vec<(&str, Vec<u8>)> = vec![
        ("canary", CANARY.as_bytes().to_vec()),
        ("token", shown.clone().into_bytes()),
        ("token (compact)", shown.replace('-', "").into_bytes()),
        ("handle", token.handle().encode().as_bytes().to_vec()),
    ];
    needles.push(("handle (raw)", token.handle().as_bytes().to_vec()));
    for file in files_under(&app.data_dir()) {
        let bytes = std::fs::read(&file).unwrap();
        for (label, n) in &needles {
            assert!(!contains(&bytes, n), "{label} in {}", file.display());
        }
    }
    let logs = app.logs();
    assert!(logs.contains("starting"));
    for (label, n) in &needles {
        assert!(!contains(logs.as_bytes(), n), "{label} in the log");
    }
}

#[test]
fn without_javascript_a_long_thread_shows_one_page_at_a_time() {
    // A page of one byte: every message goes alone.
    let app = spawn_app_with(&[("SOTTO_PAGE_BYTES", "1")]);
    let alice = app.add_recipient("Alice");
    let done = submit(&app, "the report itself");
    let (token, case) = (done.token, done.opened.case);
    sotto::client::desk::reply(&app.api, &alice, &case, "first answer", vec![]).unwrap();
    sotto::client::reporter::reply(&app.api, &token, "my follow-up", vec![]).unwrap();
    let shown = token.to_display().to_string();
    let status = |extra: &str| {
        request(
            &app,
            "POST",
            "/status",
            Some("application/x-www-form-urlencoded"),
            format!("token={shown}{extra}").as_bytes(),
        )
    };

    let first = status("");
    assert_eq!(first.status, 200);
    let text = first.text();
    assert!(text.contains("the report itself"));
    assert!(!text.contains("first answer"));
    assert!(text.contains("Messages 1 to 1 of 3."), "{text}");
    assert!(text.contains("<input type=\"hidden\" name=\"after\" value=\"0\">"));
    let later = "<button type=\"submit\">Show later messages</button>";
    let start = "<button type=\"submit\">Back to the first messages</button>";
    assert!(text.contains(later));
    assert!(!text.contains(start));

    let second = status("&after=0");
    assert_eq!(second.status, 200);
    let text = second.text();
    assert!(text.contains("first answer"), "{text}");
    assert!(!text.contains("the report itself"));
    assert!(text.contains("Messages 2 to 2 of 3."));
    assert!(text.contains(start) && text.contains(later));
    assert!(text.contains("value=\"1\">"), "a way on to the third");

    let last = status("&after=1");
    let text = last.text();
    assert!(text.contains("my follow-up"));
    assert!(text.contains(start) && !text.contains(later));

    // A reply shows the page that holds it.
    let reply = post_form(
        &app,
        "/status/reply",
        &[("token", &shown), ("text", "one more thing")],
        &[],
    );
    assert_eq!(reply.status, 200);
    let text = reply.text();
    assert!(text.contains("one more thing"));
    assert!(text.contains("Messages 4 to 4 of 4."), "{text}");

    let bad = status("&after=soon");
    assert_eq!(bad.status, 400);
    assert!(bad
        .text()
        .contains("That page of the thread does not exist."));
}
