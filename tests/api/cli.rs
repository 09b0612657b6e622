//! The command-line contract the docs and the walkthrough rely on.

use crate::helpers::spawn_app;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_walkthrough_works_end_to_end_through_the_cli() {
    let app = spawn_app();
    let data = app.data_dir();
    let data = data.to_str().unwrap();

    // keygen: writes a 0600 identity, prints one card line, refuses to overwrite.
    let out = app.sotto(&[
        "desk",
        "keygen",
        "--name",
        "Alice Ombud",
        "--identity",
        "alice.key",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let card = stdout(&out).trim().to_owned();
    assert!(
        card.starts_with("sotto-card-v1 age1") && card.ends_with("Alice Ombud"),
        "{card}"
    );
    assert_eq!(stdout(&out).lines().count(), 1);
    let key_path = app.work.path().join("alice.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let again = app.sotto(&[
        "desk",
        "keygen",
        "--name",
        "Alice Ombud",
        "--identity",
        "alice.key",
    ]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("not overwriting"),
        "{}",
        stderr(&again)
    );
    assert_eq!(stderr(&again).lines().count(), 1);

    // add-recipient and list-recipients, beside the running server.
    let out = app.sotto(&["admin", "add-recipient", "--data", data, "--card", &card]);
    assert!(out.status.success(), "{}", stderr(&out));
    app.wait_for_checkpoint();
    let out = app.sotto(&["admin", "list-recipients", "--data", data]);
    assert!(stdout(&out).contains("Alice Ombud"), "{}", stdout(&out));

    // submit: the token is printed once, with the advice to keep it.
    let out = app.sotto_with(
        &["report", "submit"],
        Some("Someone threatened me in chat."),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Keep it"), "{text}");
    assert!(text.contains("Alice Ombud"), "{text}");
    let token = text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 39 && l.matches('-').count() == 7)
        .expect("the token line")
        .to_owned();

    // inbox --json lists the case; show decrypts it.
    let out = app.sotto(&["desk", "inbox", "--identity", "alice.key", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let inbox: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let case = inbox[0]["case"].as_str().unwrap().to_owned();
    let out = app.sotto(&["desk", "show", &case, "--identity", "alice.key"]);
    assert!(
        stdout(&out).contains("Someone threatened me in chat."),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("signature verified"));

    // reply and set-state with a note.
    let out = app.sotto_with(
        &["desk", "reply", &case, "--identity", "alice.key"],
        Some("We hear you."),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = app.sotto_with(
        &[
            "desk",
            "set-state",
            &case,
            "in-review",
            "--identity",
            "alice.key",
            "--note",
        ],
        Some("Reviewing now."),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // status with the token from the environment, never argv.
    let out = app.sotto_with(&["report", "status"], None, &[("SOTTO_TOKEN", &token)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "in review",
        "We hear you.",
        "Reviewing now.",
        "Alice Ombud",
        "signature verified",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(!text.contains("NOT SHOWN"), "{text}");
}

#[test]
fn errors_are_one_clear_line_and_a_failure_exit() {
    let app = spawn_app();
    // (arguments, stdin, environment, what the one line must mention)
    type Case<'a> = (
        Vec<&'a str>,
        Option<&'a str>,
        Vec<(&'a str, &'a str)>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            vec!["report", "status"],
            None,
            vec![("SOTTO_TOKEN", "not-a-token")],
            "token",
        ),
        (
            vec!["report", "status"],
            None,
            vec![("SOTTO_TOKEN", "qqqq-qqqq-qqqq-qqqq-qqqq-qqqq-qqqq-qqqq")],
            "typo",
        ),
        (vec!["report", "submit"], Some("   "), vec![], "empty"),
        (
            vec!["report", "submit"],
            Some("x"),
            vec![],
            "no recipients left",
        ),
        (
            vec!["report", "submit", "--desk", "nope"],
            Some("x"),
            vec![],
            "no desk",
        ),
        (
            vec!["desk", "inbox", "--identity", "missing.key"],
            None,
            vec![],
            "missing.key",
        ),
        (
            vec!["desk", "set-state", "abc", "sleeping", "--identity", "x"],
            None,
            vec![],
            "unknown state",
        ),
        (
            vec!["admin", "add-recipient", "--card", "nonsense"],
            None,
            vec![],
            "card",
        ),
        (
            vec!["report", "submit", "--server", "http://127.0.0.1:9"],
            Some("x"),
            vec![],
            "cannot reach",
        ),
    ];
    for (args, stdin, env, want) in cases {
        let out = app.sotto_with(&args, stdin, &env);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.to_lowercase().contains(want), "{args:?}: {err}");
    }
}
