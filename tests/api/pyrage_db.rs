//! The ombudsperson's identity file opens, with pyrage (an independent age
//! implementation), the envelopes read straight out of the SQLite file.

use std::process::Command;

use sotto::client::reporter;

use crate::helpers::spawn_app;

/// The Python that has pyrage: `SOTTO_PYTHON`, or the project's `.venv`.
pub fn python() -> String {
    let candidates = [
        std::env::var("SOTTO_PYTHON").ok(),
        Some(format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR"))),
    ];
    for c in candidates.into_iter().flatten() {
        let ok = Command::new(&c)
            .args(["-c", "import pyrage"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return c;
        }
    }
    panic!("pyrage is not installed: run ./scripts/test.sh, which creates .venv and installs it");
}

#[test]
fn the_identity_file_decrypts_the_database_envelopes_with_pyrage() {
    let python = python();
    let app = spawn_app();
    let alice = app.add_recipient("Alice");
    reporter::submit(
        &app.api,
        &reporter::Submission {
            desk: "default".into(),
            text: "pyrage can read this".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let case = sotto::client::desk::inbox(&app.api, &alice).unwrap().cases[0]
        .case
        .clone();
    sotto::client::desk::reply(&app.api, &alice, &case, "and this reply too", vec![]).unwrap();
    let identity = app.identity_file(&alice);
    let script = r#"
import sqlite3, sys, json, pyrage
ident = pyrage.x25519.Identity.from_str(
    [l for l in open(sys.argv[2]).read().splitlines() if l.startswith("AGE-SECRET-KEY-1")][0])
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
out = []
for (env,) in db.execute("SELECT envelope FROM messages ORDER BY seq"):
    p = pyrage.decrypt(env, [ident])
    magic = b"sotto/v1/padded\n"
    assert p.startswith(magic)
    n = int.from_bytes(p[len(magic):len(magic)+4], "big")
    out.append(json.loads(p[len(magic)+4:len(magic)+4+n])["text"])
print(json.dumps(out))
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(app.db_path())
        .arg(&identity)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let texts: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(texts, ["pyrage can read this", "and this reply too"]);
}
