//! The ombudsperson's caseload through the real CLI: the inbox sorted by
//! what needs action (with a clock the test moves), reports decrypted
//! locally into it, response templates in each language, and closings
//! the reporter sees.

use sotto::client::reporter;
use sotto_wire::CaseState;

use crate::helpers::{spawn_app_with, TestApp};

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn report(app: &TestApp, text: &str, urgent: bool, lang: &str) -> reporter::Submitted {
    reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: text.into(),
            urgent,
            lang: lang.into(),
            category: "harassment".into(),
            ..Default::default()
        },
    )
    .unwrap()
}

fn desk(app: &TestApp, args: &[&str], identity: &std::path::Path, env: &[(&str, &str)]) -> String {
    let mut all: Vec<&str> = vec!["desk"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--identity", identity.to_str().unwrap()]);
    let out = app.sotto_with(&all, None, env);
    assert!(out.status.success(), "sotto {all:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `sotto desk ARGS --identity KEY` expecting it to fail; returns what
/// it said.
fn desk_fails(
    app: &TestApp,
    args: &[&str],
    identity: &std::path::Path,
    env: &[(&str, &str)],
) -> String {
    let mut all: Vec<&str> = vec!["desk"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--identity", identity.to_str().unwrap()]);
    let out = app.sotto_with(&all, None, env);
    assert!(
        !out.status.success(),
        "sotto {all:?} succeeded: {}",
        text(&out)
    );
    text(&out)
}

#[test]
fn the_inbox_puts_urgent_then_late_acknowledgements_then_owed_updates_first() {
    let deadlines = [("SOTTO_ACKNOWLEDGE_DAYS", "7"), ("SOTTO_UPDATE_DAYS", "7")];
    let mut app = spawn_app_with(&deadlines);
    let alice = app.add_recipient("Alice");
    let key = app.identity_file(&alice);
    let late = report(&app, "Nobody answered me.\nSecond line.", false, "en");
    let owed = report(&app, "Acknowledged, then silence.", false, "de");
    let urgent = report(&app, "Someone is in danger right now.", true, "es");
    let closed = report(&app, "Already dealt with.", false, "");
    for (case, state) in [
        (&owed.opened.case, CaseState::Acknowledged),
        (&closed.opened.case, CaseState::Resolved),
    ] {
        sotto::client::desk::set_state(&app.api, &alice, case, state, None).unwrap();
    }

    // Ten days on: the acknowledgement (7 days) and the update (7 days)
    // are late; a report made today is not.
    let later = [
        deadlines[0],
        deadlines[1],
        ("SOTTO_CLOCK_OFFSET_DAYS", "10"),
    ];
    app.restart_with(&later);
    let fresh = report(&app, "Something new today.", false, "");
    let clock = [("SOTTO_CLOCK_OFFSET_DAYS", "10")];
    let json: serde_json::Value =
        serde_json::from_str(&desk(&app, &["inbox", "--json"], &key, &clock)).unwrap();
    let order: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        vec![
            urgent.opened.case.as_str(),
            late.opened.case.as_str(),
            owed.opened.case.as_str(),
            fresh.opened.case.as_str(),
            closed.opened.case.as_str(),
        ]
    );
    let rows = json.as_array().unwrap();
    let priorities: Vec<&str> = rows
        .iter()
        .map(|c| c["priority"].as_str().unwrap())
        .collect();
    assert_eq!(
        priorities,
        vec!["urgent", "unacknowledged", "update-owed", "rest", "rest"]
    );
    assert_eq!(rows[0]["lang"], "es");
    assert_eq!(rows[0]["category"], "harassment");
    assert_eq!(rows[0]["urgent"], true);
    assert_eq!(rows[1]["first_line"], "Nobody answered me.");
    assert_eq!(rows[1]["age_days"], 10);
    assert_eq!(rows[1]["late"], true);
    assert_eq!(rows[3]["late"], false);

    // The table, decrypted here: short ids, the first line, LATE marks.
    let table = desk(&app, &["inbox"], &key, &clock);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("CASE"), "{table}");
    assert!(
        lines[1].starts_with(&urgent.opened.case[..8]) && lines[1].contains("URGENT"),
        "{table}"
    );
    assert!(
        lines[1].contains("Someone is in danger right now."),
        "{table}"
    );
    assert!(
        lines[2].contains("LATE") && lines[2].contains(" 10d "),
        "{table}"
    );
    assert!(
        !table.contains("Second line."),
        "only the first line: {table}"
    );

    // A short id from the table is enough to open the case.
    let shown = desk(&app, &["show", &late.opened.case[..8]], &key, &clock);
    assert!(shown.contains("Second line."), "{shown}");
}

fn reporter_sees(app: &TestApp, done: &reporter::Submitted) -> (CaseState, String) {
    let view = reporter::status(&app.api, &done.token).unwrap();
    let last = view
        .messages
        .last()
        .and_then(|m| m.content.as_ref().ok())
        .map(|c| c.text().to_owned())
        .unwrap_or_default();
    (view.status.state, last)
}

#[test]
fn every_template_in_every_language_reaches_the_reporter_filled_in() {
    let app = spawn_app_with(&[("SOTTO_UPDATE_DAYS", "7")]);
    let alice = app.add_recipient("Alice Ombud");
    let key = app.identity_file(&alice);
    let out = app.sotto(&["desk", "templates"]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let names = [
        "acknowledge",
        "more-info",
        "close-resolved",
        "close-no-action",
        "close-record-only",
        "close-bad-faith",
    ];
    for name in names {
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with(name) && l.ends_with("de en es")),
            "{listed}"
        );
    }
    // Each language: the reporter's own by default, or the one asked for.
    let greeting = [("en", "Hello,"), ("es", "Hola:"), ("de", "Guten Tag,")];
    for (lang, hello) in greeting {
        for name in names {
            let done = report(&app, &format!("{name} in {lang}"), false, lang);
            let out = desk(
                &app,
                &["reply", &done.opened.case, "--template", name, "--yes"],
                &key,
                &[],
            );
            assert!(out.contains("Sent"), "{out}");
            let (_, said) = reporter_sees(&app, &done);
            assert!(said.starts_with(hello), "{lang} {name}: {said}");
            assert!(said.contains("Alice Ombud"), "{lang} {name}: {said}");
            assert!(!said.contains("{{"), "{lang} {name}: {said}");
        }
    }
    // --lang wins over the reporter's language; an unknown one falls back.
    let done = report(&app, "in Spanish, answered in German", false, "es");
    desk(
        &app,
        &[
            "reply",
            &done.opened.case,
            "--template",
            "acknowledge",
            "--lang",
            "de",
            "--yes",
        ],
        &key,
        &[],
    );
    assert!(reporter_sees(&app, &done).1.starts_with("Guten Tag,"));
    let done = report(&app, "in Arabic", false, "ar");
    let out = app.sotto_with(
        &[
            "desk",
            "reply",
            &done.opened.case,
            "--template",
            "acknowledge",
            "--yes",
            "--identity",
            key.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert!(out.status.success());
    assert!(text(&out).contains("using en"), "{}", text(&out));
    // The acknowledgement commits to the desk's update rhythm.
    let (_, said) = reporter_sees(&app, &done);
    assert!(said.contains("every 7 days"), "{said}");
}

#[test]
fn the_editor_opens_the_filled_template_and_what_it_saves_is_sent() {
    let app = spawn_app_with(&[]);
    let alice = app.add_recipient("Alice");
    let key = app.identity_file(&alice);
    let done = report(&app, "Please ask me things.", false, "en");
    // An "editor" that replaces the placeholder question.
    let script = app.work.path().join("editor.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nsed -i 's/\\[write your questions here\\]/Which day did it start?/' \"$1\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let editor = script.to_str().unwrap();
    desk(
        &app,
        &["reply", &done.opened.case, "--template", "more-info"],
        &key,
        &[("EDITOR", editor), ("VISUAL", editor)],
    );
    let (_, said) = reporter_sees(&app, &done);
    assert!(said.contains("- Which day did it start?"), "{said}");
    assert!(!said.contains("[write your questions here]"));

    // An editor that empties the file sends nothing.
    let empty = "sh -c ': > \"$1\"' sh";
    let reply = [
        "reply",
        done.opened.case.as_str(),
        "--template",
        "more-info",
    ];
    let said = desk_fails(&app, &reply, &key, &[("EDITOR", empty), ("VISUAL", empty)]);
    assert!(said.contains("nothing was sent"), "{said}");
    // No editor at all: a clear line, nothing sent.
    let said = desk_fails(&app, &reply, &key, &[("EDITOR", ""), ("VISUAL", "")]);
    assert!(said.contains("--yes"), "{said}");
    // An unknown template names the ones there are.
    let unknown = [
        "reply",
        done.opened.case.as_str(),
        "--template",
        "nonesuch",
        "--yes",
    ];
    let said = desk_fails(&app, &unknown, &key, &[]);
    assert!(said.contains("close-bad-faith"), "{said}");
    assert_eq!(
        reporter::status(&app.api, &done.token)
            .unwrap()
            .messages
            .len(),
        2
    );
}

#[test]
fn record_only_and_bad_faith_close_with_an_explanation_the_reporter_sees() {
    let app = spawn_app_with(&[]);
    let alice = app.add_recipient("Alice");
    let key = app.identity_file(&alice);
    for (state, template, says) in [
        ("record-only", "close-record-only", "for the record only"),
        ("bad-faith", "close-bad-faith", "not made in good faith"),
    ] {
        let done = report(&app, &format!("to be closed as {state}"), false, "en");
        let out = desk(
            &app,
            &[
                "set-state",
                &done.opened.case,
                state,
                "--template",
                template,
                "--yes",
            ],
            &key,
            &[],
        );
        assert!(out.contains(&format!("is now {state}")), "{out}");
        let (now, said) = reporter_sees(&app, &done);
        assert_eq!(now.as_str(), state);
        assert!(said.contains(says), "{said}");
        assert!(!now.is_open());
    }
}

/// A brigade: one complaint reworded many times (synonyms, case,
/// punctuation, a sentence added), as a coordinated flood looks.
fn flood(i: usize) -> String {
    let who = ["Carol", "carol", "CAROL", "Carol G."][i % 4];
    let did = ["banned", "blocked", "suspended", "banned"][i / 4 % 4];
    let extra = [
        "",
        " Please act now.",
        " This is unacceptable!",
        " Everyone saw it.",
        " I demand a response.",
    ][i % 5];
    format!(
        "The moderator {who} {did} our whole group from the forum for no reason at all, \
         deleted every post we wrote about the new release, and laughed about it in the \
         public chat while everyone watched.{extra}"
    )
}

#[test]
fn a_flood_of_reworded_reports_shows_as_one_group_and_genuine_ones_stay_apart() {
    let app = spawn_app_with(&[]);
    let alice = app.add_recipient("Alice");
    let key = app.identity_file(&alice);
    let genuine = [
        "Someone posted my home address in the off-topic thread last night.",
        "A maintainer keeps sending me private messages I asked them to stop.",
        "The release manager made a joke about my accent in the weekly call.",
        "Spam accounts are posting links to a fake download page in every thread.",
        "I saw the moderator Carol delete a post that broke no rule, and I think it was personal.",
    ];
    let mut flood_cases = Vec::new();
    for (i, g) in genuine.iter().enumerate() {
        report(&app, g, false, "en");
        for j in 0..4 {
            flood_cases.push(report(&app, &flood(i * 4 + j), false, "en").opened.case);
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&desk(&app, &["inbox", "--group", "--json"], &key, &[])).unwrap();
    let groups = json.as_array().unwrap();
    let counts: Vec<u64> = groups
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<u64>(), 25);
    let big: Vec<&serde_json::Value> = groups.iter().filter(|g| g["count"] != 1).collect();
    assert_eq!(big.len(), 1, "one group, not several: {counts:?}");
    let mut grouped: Vec<&str> = big[0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case"].as_str().unwrap())
        .collect();
    grouped.sort_unstable();
    let mut want: Vec<&str> = flood_cases.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(grouped, want, "exactly the flood");

    let table = desk(&app, &["inbox", "--group"], &key, &[]);
    assert!(table.contains("20 similar reports in all"), "{table}");
    assert_eq!(table.lines().count(), 1 + 6 + 1, "{table}");
}

#[test]
fn statistics_leave_out_every_figure_under_five_cases_and_hold_no_text() {
    let app = spawn_app_with(&[]);
    let alice = app.add_recipient("Alice");
    let key = app.identity_file(&alice);
    let mut cases = Vec::new();
    for i in 0..5 {
        cases.push(report(
            &app,
            &format!("SECRET-TEXT-{i} harassment case"),
            false,
            "en",
        ));
    }
    for i in 0..3 {
        reporter::submit(
            &app.api,
            &reporter::Submission {
                desk: "default".into(),
                text: format!("SECRET-TEXT-threat-{i}"),
                category: "threats".into(),
                lang: "es".into(),
                ..Default::default()
            },
        )
        .unwrap();
    }
    for c in &cases {
        sotto::client::desk::set_state(
            &app.api,
            &alice,
            &c.opened.case,
            CaseState::Acknowledged,
            None,
        )
        .unwrap();
    }
    let month = &sotto_wire::Day::today(0).to_string()[..7];
    let csv = desk(&app, &["stats"], &key, &[]);
    assert_eq!(
        csv,
        format!("month,category,state,language,count\n{month},harassment,acknowledged,en,5\n")
    );
    let acks = desk(&app, &["stats", "--table", "acknowledge"], &key, &[]);
    assert_eq!(
        acks,
        format!("month,acknowledged,p50_days,p90_days\n{month},5,0,0\n")
    );
    let json = desk(&app, &["stats", "--format", "json"], &key, &[]);
    assert!(!json.contains("SECRET-TEXT"), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["k"], 5);
    assert_eq!(v["suppressed_cells"], 1, "the three threats reports");
    assert_eq!(v["cells"].as_array().unwrap().len(), 1);
    // A range that holds none of them.
    let empty = desk(&app, &["stats", "--to", "2000-01-01"], &key, &[]);
    assert_eq!(empty, "month,category,state,language,count\n");
    let backwards = ["stats", "--from", "2026-12-01", "--to", "2026-01-01"];
    assert!(desk_fails(&app, &backwards, &key, &[]).contains("--from is after --to"));
    let said = desk_fails(&app, &["stats", "--from", "yesterday"], &key, &[]);
    assert!(said.contains("YYYY-MM-DD"), "{said}");
}

#[test]
fn hostile_attachment_names_are_saved_inside_the_folder_never_hidden_never_over_a_file() {
    let app = spawn_app_with(&[]);
    let alice = app.add_recipient("Alice");
    let key = app.identity_file(&alice);
    let names = [
        "../../.bashrc",
        "/etc/passwd",
        ".hidden",
        "CON",
        "report\u{202e}gpj.exe",
        "x.txt",
        "x.txt",
        "",
        "-rf",
    ];
    let attachments = names
        .iter()
        .enumerate()
        .map(|(i, n)| sotto_wire::content::Attachment {
            name: (*n).to_owned(),
            data: format!("content {i}").into_bytes(),
        })
        .collect();
    let done = reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: "files".into(),
            attachments,
            ..Default::default()
        },
    )
    .unwrap();
    let dir = app.work.path().join("saved");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("x.txt"), "mine, not the reporter's").unwrap();
    let out = desk(
        &app,
        &[
            "show",
            &done.opened.case,
            "--save-attachments",
            dir.to_str().unwrap(),
        ],
        &key,
        &[],
    );
    let mut saved: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    saved.sort();
    assert_eq!(
        saved,
        vec![
            "_CON",
            "attachment",
            "bashrc",
            "hidden",
            "passwd",
            "report_gpj.exe",
            "rf",
            "x (2).txt",
            "x (3).txt",
            "x.txt",
        ],
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("x.txt")).unwrap(),
        "mine, not the reporter's"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("bashrc")).unwrap(),
        "content 0"
    );
    assert!(!app.work.path().join(".bashrc").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("bashrc"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "never executable, never shared");
    }
}

#[test]
fn the_referral_directory_is_validated_published_whole_and_filtered_by_the_reporter() {
    let app = spawn_app_with(&[]);
    app.add_recipient("Alice");
    let data = app.data_dir();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/resources.example.json");
    // A mistake is one clear line naming the entry and the field.
    let bad = app.work.path().join("bad.json");
    std::fs::write(
        &bad,
        std::fs::read_to_string(example)
            .unwrap()
            .replace("\"regions\": [\"DE\"]", "\"regions\": [\"Germany\"]"),
    )
    .unwrap();
    let out = app.sotto(&[
        "admin",
        "resources",
        "import",
        "--data",
        data.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("entry 3 (\"HateAid\"): regions: \"Germany\" is not a region"),
        "{}",
        text(&out)
    );
    assert!(
        app.api.resources("default").unwrap().entries.is_empty(),
        "nothing published"
    );
    let out = app.sotto(&[
        "admin",
        "resources",
        "import",
        "--data",
        data.to_str().unwrap(),
        "--desk",
        "nonesuch",
        example,
    ]);
    assert!(
        text(&out).contains("no desk named \"nonesuch\""),
        "{}",
        text(&out)
    );

    let out = app.sotto(&[
        "admin",
        "resources",
        "import",
        "--data",
        data.to_str().unwrap(),
        example,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let served = app.api.resources("default").unwrap();
    assert_eq!(served.entries.len(), 4, "the whole directory, unfiltered");

    // The reporter's CLI filters on its own machine: German, Germany,
    // harassment.
    let done = reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: "Ich werde belästigt.".into(),
            lang: "de".into(),
            category: "harassment".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let token = done.token.to_display().to_string();
    let out = app.sotto_with(
        &["report", "status", "--region", "DE"],
        None,
        &[("SOTTO_TOKEN", &token)],
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("HateAid: https://hateaid.org"), "{said}");
    assert!(!said.contains("Cyber Civil Rights"), "{said}");
    assert!(!said.contains("Right To Be"), "English only: {said}");
}

#[test]
fn a_report_cannot_drive_the_handlers_terminal() {
    let app = spawn_app_with(&[]);
    let alice = app.add_recipient("Alice");
    let key = app.identity_file(&alice);
    // Clear the screen, move up and rewrite a line, and reverse text.
    let hostile = "\u{1b}[2J\u{1b}[1A#1 from Alice, signature verified\u{7} \u{202e}txt.exe";
    let done = reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: hostile.into(),
            when: "\u{1b}]0;title\u{7}".into(),
            links: vec!["https://x.example/\u{1b}[31m".into()],
            ..Default::default()
        },
    )
    .unwrap();
    for args in [vec!["show", done.opened.case.as_str()], vec!["inbox"]] {
        let out = desk(&app, &args, &key, &[]);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'),
            "{out:?}"
        );
        assert!(out.contains("\\u{1b}[2J"), "{out}");
    }
    let out = app.sotto_with(
        &["report", "status"],
        None,
        &[("SOTTO_TOKEN", done.token.to_display().as_str())],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        !said.contains('\u{1b}') && said.contains("\\u{202e}txt.exe"),
        "{said:?}"
    );
}

/// Runs `sotto admin ARGS --data DIR`; returns success and what it said.
fn admin(app: &TestApp, args: &[&str]) -> (bool, String) {
    let out = app.admin(args);
    (out.status.success(), text(&out))
}

#[test]
fn each_desk_keeps_its_own_deadlines_and_the_reporter_is_told_when_they_pass() {
    let mut app = spawn_app_with(&[]);
    let alice = app.add_recipient("Alice");
    let (ok, said) = admin(&app, &["add-desk", "--name", "volunteers"]);
    assert!(ok, "{said}");
    let bob = app.add_recipient_to("volunteers", "Bob");

    // Bad settings are refused in one line, and change nothing.
    for bad in [
        vec!["set-deadlines", "--desk", "volunteers"],
        vec![
            "set-deadlines",
            "--desk",
            "volunteers",
            "--acknowledge-days",
            "0",
        ],
        vec![
            "set-deadlines",
            "--desk",
            "volunteers",
            "--feedback-months",
            "13",
        ],
        vec!["set-deadlines", "--desk", "nowhere", "--update-days", "3"],
        vec!["set-deadlines", "--reset", "--update-days", "3"],
    ] {
        let (ok, said) = admin(&app, &bad);
        assert!(!ok, "{bad:?}: {said}");
        assert!(!said.contains("panicked"), "{said}");
    }
    assert_eq!(
        app.api
            .desk("volunteers")
            .unwrap()
            .deadlines
            .acknowledge_days,
        7
    );
    let (ok, said) = admin(
        &app,
        &[
            "set-deadlines",
            "--desk",
            "volunteers",
            "--acknowledge-days",
            "14",
            "--update-days",
            "14",
            "--feedback-months",
            "6",
        ],
    );
    assert!(ok && said.contains("longer than the EU"), "{said}");
    let d = app.api.desk("volunteers").unwrap().deadlines;
    assert_eq!(
        (d.acknowledge_days, d.update_days, d.feedback_months),
        (14, 14, 6)
    );
    let d = app.api.desk("default").unwrap().deadlines;
    assert_eq!(
        (d.acknowledge_days, d.update_days, d.feedback_months),
        (7, 7, 3)
    );
    let (_, listed) = admin(&app, &["list-recipients"]);
    assert!(
        listed.contains("acknowledge 14 days, update every 14 days, feedback 6 months"),
        "{listed}"
    );

    let here = report(&app, "At the default desk.", false, "en");
    let there = reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "volunteers".into(),
            text: "At the volunteers' desk.".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let opened = here.opened.opened;
    let s = reporter::status(&app.api, &here.token).unwrap().status;
    assert_eq!(s.next_update_due, Some(opened.plus(7)));
    assert_eq!(s.feedback_due, Some(opened.plus(7).plus_months(3)));
    let s = reporter::status(&app.api, &there.token).unwrap().status;
    assert_eq!(s.next_update_due, Some(opened.plus(14)));
    assert_eq!(s.feedback_due, Some(opened.plus(14).plus_months(6)));

    // Acknowledged on the day: feedback runs from the acknowledgement.
    sotto::client::desk::set_state(
        &app.api,
        &bob,
        &there.opened.case,
        CaseState::Acknowledged,
        None,
    )
    .unwrap();
    let s = reporter::status(&app.api, &there.token).unwrap().status;
    assert_eq!(s.feedback_due, Some(opened.plus_months(6)));

    // Ten days on, the default desk is late and says so to its reporter and
    // its handler; the volunteers' acknowledgement is not due yet.
    let clock = [("SOTTO_CLOCK_OFFSET_DAYS", "10")];
    app.restart_with(&clock);
    let status = |token: &str| {
        let out = app.sotto_with(
            &["report", "status"],
            None,
            &[("SOTTO_TOKEN", token), clock[0]],
        );
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    let late = status(&here.token.to_display());
    assert!(
        late.contains(&format!(
            "owed you news by {}: they are late (3 days)",
            opened.plus(7)
        )),
        "{late}"
    );
    assert!(
        late.contains(&format!(
            "feedback on what was done by {}",
            opened.plus(7).plus_months(3)
        )),
        "{late}"
    );
    let fine = status(&there.token.to_display());
    assert!(!fine.contains("late"), "{fine}");
    let shown = desk(
        &app,
        &["show", &here.opened.case],
        &app.identity_file(&alice),
        &clock,
    );
    assert!(
        shown.contains(&format!("due by {} (LATE)", opened.plus(7))),
        "{shown}"
    );

    // The public figures measure each desk against its own deadline.
    let figures = app.api.transparency().unwrap();
    assert_eq!(
        figures.desk_acknowledge_days,
        std::collections::BTreeMap::from([("volunteers".to_owned(), 14)])
    );

    // Back to the server's defaults.
    let (ok, said) = admin(&app, &["set-deadlines", "--desk", "volunteers", "--reset"]);
    assert!(ok, "{said}");
    assert_eq!(
        app.api
            .desk("volunteers")
            .unwrap()
            .deadlines
            .acknowledge_days,
        7
    );
}

#[test]
fn a_case_is_shared_onward_but_never_with_a_reader_the_reporter_left_out() {
    let app = spawn_app_with(&[]);
    let alice = app.add_recipient("Alice");
    let bob = app.add_recipient("Bob");
    let (ok, said) = admin(&app, &["add-desk", "--name", "independent"]);
    assert!(ok, "{said}");
    let carol = app.add_recipient_to("independent", "Carol");
    let (alice_key, bob_key, carol_key) = (
        app.identity_file(&alice),
        app.identity_file(&bob),
        app.identity_file(&carol),
    );
    // The reporter leaves Bob out: he is the one they report.
    let done = reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: "Bob deleted my answers after I disagreed with him.".into(),
            exclude: vec!["Bob".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let case = done.opened.case.clone();
    sotto::client::desk::reply(
        &app.api,
        &alice,
        &case,
        "We are looking into it.",
        Vec::new(),
    )
    .unwrap();

    // Nobody can hand the case to Bob, not even a reader of it.
    let bob_card = bob.card().to_string();
    let refused = desk_fails(
        &app,
        &["share", &case, "--card", &bob_card],
        &alice_key,
        &[],
    );
    assert!(refused.contains("left this recipient out"), "{refused}");
    assert_eq!(refused.trim().lines().count(), 1, "{refused}");
    // Carol, of another desk, cannot share what she cannot read.
    let carol_card = carol.card().to_string();
    let not_hers = desk_fails(
        &app,
        &["share", &case, "--card", &carol_card],
        &carol_key,
        &[],
    );
    assert!(not_hers.contains("no case with that id"), "{not_hers}");

    // Alice escalates to Carol.
    let shared = desk(
        &app,
        &[
            "share",
            &case[..8],
            "--card",
            &carol_card,
            "--note",
            "Needs someone outside the team.",
        ],
        &alice_key,
        &[],
    );
    assert!(
        shared.contains("Shared case") && shared.contains("Carol"),
        "{shared}"
    );
    let again = desk_fails(
        &app,
        &["share", &case, "--card", &carol_card],
        &alice_key,
        &[],
    );
    assert!(again.contains("already reads"), "{again}");

    // Carol finds it in her inbox and reads the thread so far, as Alice
    // shared it, with the authors' signatures checked.
    let inbox = desk(&app, &["inbox"], &carol_key, &[]);
    assert!(
        inbox.contains(&case[..8]) && inbox.contains("Bob deleted"),
        "{inbox}"
    );
    let shown = desk(&app, &["show", &case], &carol_key, &[]);
    assert!(shown.contains("Bob deleted my answers"), "{shown}");
    assert!(shown.contains("We are looking into it."), "{shown}");
    assert!(
        shown.contains("text as Alice shared it with you"),
        "{shown}"
    );
    assert!(
        shown.contains("Shared on") && shown.contains("by Alice with Carol"),
        "{shown}"
    );
    assert!(!shown.contains("NOT SHOWN"), "{shown}");

    // Carol answers; the reporter reads her (her share was signed by a
    // reader they chose) and sees the share; their follow-up reaches
    // Alice and Carol, and still not Bob.
    sotto::client::desk::reply(
        &app.api,
        &carol,
        &case,
        "I handle this from now on.",
        Vec::new(),
    )
    .unwrap();
    let view = reporter::status(&app.api, &done.token).unwrap();
    assert!(view.warnings.is_empty(), "{:?}", view.warnings);
    assert_eq!(view.shared.len(), 1);
    assert_eq!(view.shared[0].by.as_deref(), Some("Alice"));
    let last = view.messages.last().unwrap();
    assert_eq!(last.author.as_deref(), Some("Carol"));
    assert_eq!(
        last.content.as_ref().unwrap().text(),
        "I handle this from now on."
    );
    let out = app.sotto_with(
        &["report", "status"],
        None,
        &[("SOTTO_TOKEN", &done.token.to_display())],
    );
    assert!(text(&out).contains("by Alice with Carol"), "{}", text(&out));
    let out = app.sotto_with(
        &["report", "status", "--json"],
        None,
        &[("SOTTO_TOKEN", &done.token.to_display())],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["shared"][0]["name"], "Carol");
    assert_eq!(json["shared"][0]["by"], "Alice");
    assert_eq!(json["shared"][0]["desk"], "independent");
    reporter::reply(&app.api, &done.token, "Thank you both.", Vec::new()).unwrap();
    for key in [&alice_key, &carol_key] {
        let shown = desk(&app, &["show", &case], key, &[]);
        assert!(shown.contains("Thank you both."), "{shown}");
    }
    desk_fails(&app, &["show", &case], &bob_key, &[]);

    // The share is one logged event, and the database still holds only
    // what the schema allows, every row matching the log.
    app.wait_for_checkpoint();
    let audit = app.sotto(&["audit", "db", app.data_dir().to_str().unwrap()]);
    assert!(audit.status.success(), "{}", text(&audit));
    let conn = rusqlite::Connection::open(app.db_path()).unwrap();
    let shares: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE kind = 'case-shared'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(shares, 1);
}

#[test]
fn a_reporter_escalates_an_unacknowledged_case_to_another_desk() {
    let mut app = spawn_app_with(&[]);
    let alice = app.add_recipient("Alice");
    let (ok, said) = admin(&app, &["add-desk", "--name", "independent"]);
    assert!(ok, "{said}");
    let carol = app.add_recipient_to("independent", "Carol");
    let dave = app.add_recipient_to("independent", "Dave");
    let done = report(
        &app,
        "The moderators ignore what happened to me.",
        false,
        "en",
    );
    let token = done.token.to_display();

    // Within the deadline, or to the same desk: refused in one line.
    let due = done.opened.opened.plus(7);
    let (ok, said) = escalate(
        &app,
        &token,
        &["--desk", "independent", "--accept-readers"],
        "0",
    );
    assert!(!ok, "{said}");
    assert!(
        said.contains(&format!("has until {due}")) && said.contains(&due.plus(1).to_string()),
        "{said}"
    );
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    let (ok, said) = escalate(
        &app,
        &token,
        &["--desk", "default", "--accept-readers"],
        "8",
    );
    assert!(!ok && said.contains("already at desk default"), "{said}");

    // A day past the deadline, nobody acted: the reporter hands the case to
    // Carol, leaving Dave out.
    app.restart_with(&[("SOTTO_CLOCK_OFFSET_DAYS", "8")]);
    let (ok, said) = escalate(
        &app,
        &token,
        &[
            "--desk",
            "independent",
            "--exclude",
            "Dave",
            "--accept-readers",
        ],
        "8",
    );
    assert!(ok, "{said}");
    assert!(
        said.contains("Escalated your case to desk independent: Carol"),
        "{said}"
    );
    assert!(
        said.contains("Left out, and never to be added: Dave"),
        "{said}"
    );

    // Carol reads the report (as the reporter shared it) and acknowledges.
    let clock = [("SOTTO_CLOCK_OFFSET_DAYS", "8")];
    let carol_key = app.identity_file(&carol);
    let inbox = desk(&app, &["inbox"], &carol_key, &clock);
    assert!(inbox.contains("The moderators ignore"), "{inbox}");
    let shown = desk(&app, &["show", &done.opened.case], &carol_key, &clock);
    assert!(
        shown.contains("text as the reporter shared it with you"),
        "{shown}"
    );
    assert!(
        shown.contains("Shared on") && shown.contains("by the reporter with Carol"),
        "{shown}"
    );
    sotto::client::desk::set_state(
        &app.api,
        &carol,
        &done.opened.case,
        CaseState::Acknowledged,
        Some("I received your report and will look into it."),
    )
    .unwrap();
    let view = reporter::status(&app.api, &done.token).unwrap();
    assert_eq!(view.status.state, CaseState::Acknowledged);
    let last = view.messages.last().unwrap();
    assert_eq!(last.author.as_deref(), Some("Carol"));
    assert!(last.content.is_ok());
    // Alice, of the first desk, still reads the case and Carol's answer.
    let alice_sees = desk(
        &app,
        &["show", &done.opened.case],
        &app.identity_file(&alice),
        &clock,
    );
    assert!(
        alice_sees.contains("I received your report"),
        "{alice_sees}"
    );

    // Dave stays out: he cannot read it, and nobody can share it with him.
    desk_fails(
        &app,
        &["show", &done.opened.case],
        &app.identity_file(&dave),
        &clock,
    );
    let dave_card = dave.card().to_string();
    let refused = desk_fails(
        &app,
        &["share", &done.opened.case, "--card", &dave_card],
        &carol_key,
        &clock,
    );
    assert!(refused.contains("left this recipient out"), "{refused}");
    // Once acknowledged, there is nothing to escalate.
    let (ok, said) = escalate(
        &app,
        &token,
        &["--desk", "independent", "--accept-readers"],
        "8",
    );
    assert!(!ok && said.contains("yours is acknowledged"), "{said}");

    app.wait_for_checkpoint();
    let audit = app.sotto(&["audit", "db", app.data_dir().to_str().unwrap()]);
    assert!(audit.status.success(), "{}", text(&audit));
}

/// Runs `sotto report escalate ARGS` with the token and a clock offset.
fn escalate(app: &TestApp, token: &str, args: &[&str], clock: &str) -> (bool, String) {
    let mut all = vec!["report", "escalate"];
    all.extend_from_slice(args);
    let out = app.sotto_with(
        &all,
        None,
        &[("SOTTO_TOKEN", token), ("SOTTO_CLOCK_OFFSET_DAYS", clock)],
    );
    (out.status.success(), text(&out))
}
