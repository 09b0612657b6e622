//! The command-line contract the docs and the walkthrough rely on.

use crate::helpers::{printed_token, spawn_app, stderr, stdout};

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
    let token = printed_token(&text);

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

/// Runs the CLI with its standard output read by nobody: the reader is
/// gone before the command prints its first line, as with `| head -0`
/// (and as with `| head -1` or `| grep -q`, for the lines after the first).
fn sotto_into_a_closed_pipe(app: &crate::helpers::TestApp, args: &[&str]) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(crate::helpers::sotto_bin())
        .args(args)
        .current_dir(app.work.path())
        .env("SOTTO_SERVER", &app.url)
        .env("SOTTO_KNOWN", app.work.path().join("known-servers.json"))
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_reader_that_stops_early_ends_the_cli_quietly_with_success() {
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    let key = app.identity_file(&alice);
    let key = key.to_str().unwrap();
    let first = crate::helpers::submit(&app, "Someone threatened me in chat.");
    crate::helpers::submit(&app, "It happened again in another channel.");

    // The inbox is a header and one line per case; show is many lines.
    let full = app.sotto(&["desk", "inbox", "--identity", key]);
    assert!(stdout(&full).lines().count() > 2, "{}", stdout(&full));
    for args in [
        vec!["desk", "inbox", "--identity", key],
        vec!["desk", "inbox", "--identity", key, "--json"],
        vec!["desk", "show", &first.opened.case, "--identity", key],
    ] {
        let out = sotto_into_a_closed_pipe(&app, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
}

#[test]
fn with_json_errors_are_one_json_object_on_stderr() {
    let app = spawn_app();
    app.add_recipient("Alice");
    // A well-formed token that no case was opened with.
    let stranger = sotto_envelope::token::Token::generate().to_display();
    let stranger = stranger.as_str();
    // (arguments, environment, exit code, error code)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, i32, &'a str);
    let cases: Vec<Case> = vec![
        // The server refused: its own error code.
        (
            vec!["report", "status", "--json"],
            vec![("SOTTO_TOKEN", stranger)],
            1,
            "unknown_case",
        ),
        // clap's usage error, before any command runs.
        (
            vec!["desk", "inbox", "--json", "--bogus"],
            vec![],
            2,
            "usage",
        ),
        // The command's own check of what was typed.
        (
            vec!["report", "status", "--json"],
            vec![("SOTTO_TOKEN", "not-a-token")],
            1,
            "usage",
        ),
        (
            vec!["desk", "inbox", "--json", "--identity", "missing.key"],
            vec![],
            1,
            "io",
        ),
    ];
    for (args, env, exit, code) in cases {
        let out = app.sotto_with(&args, None, &env);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(exit), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        let json: serde_json::Value =
            serde_json::from_str(err.trim_end()).unwrap_or_else(|e| panic!("{args:?}: {e}: {err}"));
        assert_eq!(json["error"], code, "{args:?}: {err}");
        let message = json["message"].as_str().unwrap();
        assert!(
            !message.is_empty() && !message.starts_with("error:"),
            "{err}"
        );
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    // Without --json, the same refusal is the one text line it always was.
    let out = app.sotto_with(&["report", "status"], None, &[("SOTTO_TOKEN", stranger)]);
    assert!(
        stderr(&out).starts_with("error: the server refused"),
        "{}",
        stderr(&out)
    );
}
