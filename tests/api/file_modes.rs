//! The data directory's files are the server account's alone: the server
//! makes them so, refuses to start on a key file others can read, and
//! `sotto audit db` reports one. (Backups and restores: `backup.rs`.)

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{sotto_bin, spawn_app, stderr, stdout, submit};

fn mode(path: &Path) -> String {
    let bits = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    format!("{bits:04o}")
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_running_server_keeps_its_database_and_keys_to_itself() {
    let app = spawn_app();
    app.add_recipient("Alice");
    submit(&app, "a report, so that the database has been written");
    let dir = app.data_dir();
    assert_eq!(mode(&dir), "0700");
    // SQLite keeps -wal and -shm while the server has the database open.
    for name in [
        "sotto.db",
        "sotto.db-wal",
        "sotto.db-shm",
        "pepper.key",
        "server.key",
    ] {
        assert_eq!(mode(&dir.join(name)), "0600", "{name}");
    }
}

#[test]
fn a_key_file_others_can_read_stops_the_server_with_the_line_that_fixes_it() {
    let mut app = spawn_app();
    app.stop();
    let pepper = app.data_dir().join("pepper.key");
    chmod(&pepper, 0o644);
    let mut child = Command::new(sotto_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(app.data_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started on a key file others can read");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert_eq!(stdout(&out), "", "it never listened");
    let said = stderr(&out);
    let errors: Vec<&str> = said.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(
        errors,
        vec![format!(
            "error: {p} is open to other accounts on this machine (mode 0644); a key file must be private: chmod 600 {p}",
            p = pepper.display()
        )],
        "{said}"
    );
    // The server changed nothing: the operator decides.
    assert_eq!(mode(&pepper), "0644");
    // The fix it names is enough.
    chmod(&pepper, 0o600);
    app.restart_with(&[]);
    assert_eq!(app.api.health().unwrap().status, "ok");
}

#[test]
fn the_database_audit_reports_files_others_can_read() {
    let mut app = spawn_app();
    app.add_recipient("Alice");
    // Stopped, so that nothing changes under the audits: SQLite gives a
    // write-ahead log it makes afresh the database file's mode, and the
    // server empties and remakes it on its own timer.
    app.stop();
    let dir = app.data_dir();
    let audit = || app.sotto(&["audit", "db", dir.to_str().unwrap()]);
    let clean = audit();
    assert!(clean.status.success(), "{}", stdout(&clean));
    chmod(&dir.join("sotto.db"), 0o644);
    chmod(&dir.join("server.key"), 0o640);
    // An audit's read-only connection may give the database a WAL or a
    // shared-memory file, made after the database's mode; they are findings
    // too. Once one audit ran, the set of files stays put.
    let first = audit();
    assert!(!first.status.success());
    let loose: Vec<(String, String)> = ["sotto.db", "sotto.db-wal", "sotto.db-shm", "server.key"]
        .iter()
        .map(|name| dir.join(name))
        .filter_map(|path| {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).ok()?.permissions().mode() & 0o777;
            (mode & 0o077 != 0).then(|| (path.display().to_string(), format!("{mode:04o}")))
        })
        .collect();
    let names: Vec<&str> = loose.iter().map(|(p, _)| p.as_str()).collect();
    for name in ["sotto.db", "server.key"] {
        let path = dir.join(name).display().to_string();
        assert!(
            names.contains(&path.as_str()),
            "{path} not loose: {loose:?}"
        );
    }
    let out = audit();
    assert!(!out.status.success());
    let said = stdout(&out);
    for (path, bits) in &loose {
        let line =
            format!("[files] {path}: mode {bits}: other accounts on this machine can get at it");
        assert!(said.contains(&line), "no {line:?} in {said}");
    }
    assert!(
        said.contains(&format!("{} finding(s)", loose.len())),
        "{said}"
    );
    // The same in JSON, for scripts.
    let json = app.sotto(&["audit", "db", dir.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let found: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap(),
                f["place"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(found.len(), loose.len(), "{found:?}");
    assert!(
        found.iter().all(|(check, _)| *check == "files"),
        "{found:?}"
    );
}
