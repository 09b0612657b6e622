//! The files check: the database, its `-wal` and `-shm`, and the key files
//! beside it are private to their owner (no permission bit for the group
//! or for others), as the server makes them.

use std::path::{Path, PathBuf};

use super::Audit;
use crate::{PEPPER_FILE, SERVER_KEY_FILE, SQLITE_SIDE_FILES};

const WHY_DB_MODE: &str = "the database, its WAL and shared-memory files hold every case's ciphertext and history: any account on the machine that can read them holds what a database thief would (the server makes them 0600; fix with chmod 600)";
const WHY_KEY_MODE: &str = "with pepper.key, a copy of the database can be tested against a handle; with server.key, anyone can sign the log's checkpoints and mint proof-of-work challenges: only the server's account may read them, and the server refuses to start until they are private (chmod 600)";

/// The files the check looks at, with why each matters: those of them
/// that exist.
fn files(db: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut out = vec![(db.to_owned(), WHY_DB_MODE)];
    for suffix in SQLITE_SIDE_FILES {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        out.push((side.into(), WHY_DB_MODE));
    }
    let dir = db.parent().unwrap_or(Path::new("."));
    for key in [PEPPER_FILE, SERVER_KEY_FILE] {
        out.push((dir.join(key), WHY_KEY_MODE));
    }
    out.retain(|(p, _)| p.exists());
    out
}

/// Reports each file whose mode lets the group or others in.
#[cfg(unix)]
pub(super) fn check_files(db: &Path, a: &mut Audit) {
    use std::os::unix::fs::PermissionsExt;
    for (path, why) in files(db) {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            a.add(
                "files",
                path.display().to_string(),
                format!("mode {mode:04o}: other accounts on this machine can get at it"),
                why,
            );
        }
    }
}

/// File modes are a Unix notion; elsewhere there is nothing to check.
#[cfg(not(unix))]
pub(super) fn check_files(db: &Path, a: &mut Audit) {
    let _ = (files(db), a);
}
