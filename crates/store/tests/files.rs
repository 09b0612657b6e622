//! File modes: the store makes a new database private, with its `-wal` and
//! `-shm`, and the auditor reports a database or key file that is not.

#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sotto_store::Store;

fn mode(path: &Path) -> String {
    format!(
        "{:04o}",
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    )
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The files findings, as (file name, what was found).
fn file_findings(path: &Path) -> Vec<(String, String)> {
    sotto_store::audit::audit(path, None)
        .unwrap()
        .findings
        .into_iter()
        .filter(|f| f.check == "files")
        .map(|f| {
            let name = Path::new(&f.place).file_name().unwrap();
            (name.to_string_lossy().into_owned(), f.found)
        })
        .collect()
}

#[test]
fn a_new_database_and_its_wal_and_shm_are_private_to_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let mut store = Store::open(&path).unwrap();
    store
        .ensure_desk("default", "", sotto_wire::Day::parse("2026-11-22").unwrap())
        .unwrap();
    // While a connection is open, SQLite keeps its -wal and -shm.
    for name in ["sotto.db", "sotto.db-wal", "sotto.db-shm"] {
        assert_eq!(mode(&dir.path().join(name)), "0600", "{name}");
    }
    assert_eq!(file_findings(&path), vec![]);
}

#[test]
fn the_auditor_reports_a_database_or_key_file_others_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sotto.db");
    let store = Store::open(&path).unwrap();
    for key in ["pepper.key", "server.key"] {
        std::fs::write(dir.path().join(key), [0u8; 32]).unwrap();
        chmod(&dir.path().join(key), 0o600);
    }
    assert_eq!(file_findings(dir.path()), vec![]);
    chmod(&path, 0o644);
    chmod(&dir.path().join("pepper.key"), 0o640);
    let expect = vec![
        (
            "sotto.db".to_owned(),
            "mode 0644: other accounts on this machine can get at it".to_owned(),
        ),
        (
            "pepper.key".to_owned(),
            "mode 0640: other accounts on this machine can get at it".to_owned(),
        ),
    ];
    // Given the data directory or the database file, the same findings.
    assert_eq!(file_findings(dir.path()), expect);
    assert_eq!(file_findings(&path), expect);
    let report = sotto_store::audit::audit(&path, None).unwrap();
    let key = report
        .findings
        .iter()
        .find(|f| f.place.ends_with("pepper.key"));
    assert!(key.unwrap().why.contains("chmod 600"));
    drop(store);
}
