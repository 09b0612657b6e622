//! A canary goes through every path; afterwards neither the data directory
//! (database, WAL, SHM, keys) nor the server's debug-level log holds the
//! canary, the token, the handle, or the client address and user agent
//! sent in headers.

use sotto::client::{desk, reporter};
use sotto_envelope::token::Token;
use sotto_wire::content::Attachment;
use sotto_wire::CaseState;

use crate::helpers::{contains, files_under, raw, spawn_app};

const CANARY: &str = "CANARY-7f3a9c2e-in-every-path";
const CLIENT_IP: &str = "203.0.113.77";
const AGENT: &str = "CanaryBrowser/9.9 (Reporter's Laptop)";
const REFERER: &str = "https://canary-referer.example/page";

#[test]
fn no_canary_token_handle_address_or_agent_reaches_disk_or_logs() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let bob = app.add_recipient("Bob");

    // Through the client library: report, attachment, link, follow-up.
    let done = reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: format!("report {CANARY}"),
            links: vec![format!("https://example.org/{CANARY}")],
            attachments: vec![Attachment {
                name: format!("{CANARY}.txt"),
                data: CANARY.as_bytes().to_vec(),
            }],
            urgent: true,
            ..Default::default()
        },
    )
    .unwrap();
    let case = done.opened.case.clone();
    reporter::reply(
        &app.api,
        &done.token,
        &format!("follow-up {CANARY}"),
        vec![],
    )
    .unwrap();
    desk::reply(&app.api, &alice, &case, &format!("reply {CANARY}"), vec![]).unwrap();
    desk::set_state(
        &app.api,
        &bob,
        &case,
        CaseState::NeedsInfo,
        Some(&format!("note {CANARY}")),
    )
    .unwrap();

    // Through the CLI: a second report and the reporter's reply.
    let out = app.sotto_with(
        &[
            "report",
            "submit",
            "--json",
            "--link",
            &format!("https://x.example/{CANARY}"),
        ],
        Some(&format!("cli report {CANARY}")),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli_token = Token::parse(json["token"].as_str().unwrap()).unwrap();
    let out = app.sotto_with(
        &["report", "reply"],
        Some(&format!("cli follow-up {CANARY}")),
        &[("SOTTO_TOKEN", json["token"].as_str().unwrap())],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Requests carrying identifying headers, good and bad.
    let handle = done.token.handle().encode().to_string();
    let identifying = [
        ("x-forwarded-for", CLIENT_IP),
        ("x-real-ip", CLIENT_IP),
        ("forwarded", "for=203.0.113.77"),
        ("user-agent", AGENT),
        ("referer", REFERER),
    ];
    let mut with_handle = identifying.to_vec();
    with_handle.push(("sotto-handle", &handle));
    let (status, _) = raw(&app, "GET", "/v1/reporter/case", &with_handle, b"");
    assert_eq!(status, 200);
    let (status, _) = raw(
        &app,
        "POST",
        "/v1/desks/default/challenge",
        &identifying,
        b"",
    );
    assert_eq!(status, 200);
    let (status, _) = raw(
        &app,
        "POST",
        "/v1/cases",
        &with_handle,
        format!("{{\"text\":\"{CANARY}\"}}").as_bytes(),
    );
    assert_eq!(status, 400);
    let (status, _) = raw(
        &app,
        "POST",
        "/v1/reporter/case/messages",
        &with_handle,
        CANARY.as_bytes(),
    );
    assert_eq!(status, 400);
    let (status, _) = raw(&app, "GET", &format!("/v1/{CANARY}"), &identifying, b"");
    assert_eq!(status, 404);

    // Every secret and identifying value, in every form it could take.
    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("canary".into(), CANARY.as_bytes().to_vec()),
        ("client address".into(), CLIENT_IP.as_bytes().to_vec()),
        ("user agent".into(), AGENT.as_bytes().to_vec()),
        ("user agent (product)".into(), b"CanaryBrowser".to_vec()),
        ("referer".into(), b"canary-referer".to_vec()),
    ];
    for (label, t) in [("token", &done.token), ("cli token", &cli_token)] {
        let shown = t.to_display().to_string();
        needles.push((format!("{label} (written)"), shown.clone().into_bytes()));
        needles.push((
            format!("{label} (compact)"),
            shown.replace('-', "").into_bytes(),
        ));
        needles.push((
            format!("{label} (first group pair)"),
            shown.as_bytes()[..9].to_vec(),
        ));
        let h = t.handle();
        needles.push((
            format!("{label} handle (base64url)"),
            h.encode().as_bytes().to_vec(),
        ));
        needles.push((format!("{label} handle (raw)"), h.as_bytes().to_vec()));
    }

    let files = files_under(&app.data_dir());
    let names: Vec<_> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "sotto.db"), "{names:?}");
    assert!(names.iter().any(|n| n == "pepper.key"), "{names:?}");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for (label, needle) in &needles {
            assert!(
                !contains(&bytes, needle),
                "{label} found in {}",
                file.display()
            );
        }
    }
    let logs = app.logs();
    assert!(
        logs.contains("starting"),
        "the debug log was captured: {logs}"
    );
    for (label, needle) in &needles {
        assert!(
            !contains(logs.as_bytes(), needle),
            "{label} found in the log:\n{logs}"
        );
    }
    // And no exact times in the log: no HH:MM:SS anywhere.
    let has_clock = logs.as_bytes().windows(8).any(|w| {
        w[2] == b':'
            && w[5] == b':'
            && w.iter()
                .enumerate()
                .all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit())
    });
    assert!(!has_clock, "a time of day in the log:\n{logs}");
}
