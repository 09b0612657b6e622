//! Backups of a data directory: `sotto admin backup` and `sotto admin
//! restore`.
//!
//! A backup is one standard age v1 file (binary, one X25519 recipient),
//! sealed with [`sotto_envelope::encrypt`] to the operator's offline key:
//! `age -d -i key.txt`, rage and pyrage open it. Its plaintext is a
//! [`container`] holding the database (a consistent copy taken with
//! SQLite's online backup API, safe beside a running server), `pepper.key`,
//! `server.key` and the desks' referral directories. A stolen backup is
//! ciphertext; the key that opens it never has to touch the server.
//!
//! The backup is built in memory: it needs free memory of about twice the
//! database's size. Key material is held in buffers wiped on drop, and
//! nothing here logs.
//!
//! A restore writes into a new (or empty) directory only, and declares
//! success only once the database passes SQLite's integrity and foreign
//! key checks, has a schema version this build reads, and its log's
//! latest checkpoint is signed by the restored server key. On any failure
//! it removes what it wrote.

pub mod container;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rand::rngs::OsRng;
use rand::RngCore;
use sotto_envelope::sign::SigningKey;
use sotto_envelope::{DecryptError, Identity, Recipient};
use sotto_store::StoreError;
use sotto_tlog::NoteVerifier;
use sotto_wire::Day;
use zeroize::Zeroizing;

use crate::datadir::{
    write_new_secret, DataDir, DataDirError, DB_FILE, PEPPER_FILE, SERVER_KEY_FILE,
};
use container::{Backup, ContainerError};

/// The directory of referral directories inside a data directory.
const RESOURCES_DIR: &str = "resources";
/// How every age file starts.
const AGE_MAGIC: &[u8] = b"age-encryption.org/";

/// Why a backup or a restore did not happen. Each is one line for the
/// operator, naming the file it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// No database in the data directory.
    #[error("{0}: no Sotto data directory there (no {DB_FILE}); give the server's --data")]
    NoDataDir(PathBuf),
    /// A key file or the directory could not be read.
    #[error("{0}")]
    DataDir(#[from] DataDirError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The database could not be copied or did not pass its checks.
    #[error("{path}: {source}")]
    Store {
        /// The database.
        path: PathBuf,
        /// What the store said.
        source: StoreError,
    },
    /// `--to` names a file that exists.
    #[error("{0} exists already: a backup never replaces a file, give a new name")]
    Exists(PathBuf),
    /// `--to` names no file.
    #[error("{0}: give the backup file's name, not a directory")]
    NotAFileName(PathBuf),
    /// The restore target is a non-empty directory, or not a directory.
    #[error("{0} exists and is not an empty directory: restore into a new or empty directory")]
    NotEmpty(PathBuf),
    /// The identity file holds no X25519 identity.
    #[error("{0}: not an age identity file (AGE-SECRET-KEY-1… lines, as age-keygen and sotto desk keygen write)")]
    BadIdentity(PathBuf),
    /// No identity opens the file.
    #[error("{file}: the identity in {identity} does not open it (it was sealed to another key, or its header is damaged)")]
    WrongIdentity {
        /// The backup.
        file: PathBuf,
        /// The identity file.
        identity: PathBuf,
    },
    /// Not an age file at all.
    #[error("{0}: not a Sotto backup (not a binary age file)")]
    NotAge(PathBuf),
    /// An age file that does not authenticate.
    #[error("{0}: damaged, truncated or altered: it does not decrypt ({1})")]
    Damaged(PathBuf, DecryptError),
    /// It decrypts, but is not a backup this build reads.
    #[error("{0}: not a Sotto backup: {1}")]
    Container(PathBuf, ContainerError),
    /// The restored server key did not sign the restored log.
    #[error("{0}: the server key in this backup did not sign its database's log; it cannot serve that log")]
    KeyMismatch(PathBuf),
    /// The recipient could not be encrypted to.
    #[error("the recipient is not a usable X25519 key")]
    Recipient,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    /// The day it was taken.
    pub day: Day,
    /// Cases in it.
    pub cases: u64,
    /// Entries of the log in it.
    pub log_size: u64,
    /// Referral directories in it.
    pub resources: usize,
}

/// Backs up the data directory `data_dir` (the server may be running) into
/// the new file `to`, sealed to `recipient`. `day` is recorded, nothing
/// finer.
pub fn take(
    data_dir: &Path,
    to: &Path,
    recipient: &Recipient,
    day: Day,
) -> Result<Taken, BackupError> {
    // Refused before any work; checked again, without a race, at the end.
    if to.symlink_metadata().is_ok() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    let dir = DataDir::existing(data_dir).map_err(|e| match e {
        DataDirError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
            BackupError::NoDataDir(data_dir.to_owned())
        }
        other => other.into(),
    })?;
    let pepper = dir.pepper()?;
    let server_key = dir.server_key()?;
    let resources = read_resources(dir.root())?;
    let db = dir.db_path();
    let snapshot = sotto_store::backup::snapshot(&db).map_err(|source| BackupError::Store {
        path: db.clone(),
        source,
    })?;
    let plaintext = container::encode(&Backup {
        day,
        database: &snapshot.bytes,
        pepper: &pepper,
        server_key: &server_key,
        resources: resources
            .iter()
            .map(|(id, f)| (*id, f.as_slice()))
            .collect(),
    });
    let taken = Taken {
        day,
        cases: snapshot.cases,
        log_size: snapshot.log_size,
        resources: resources.len(),
    };
    drop(snapshot);
    let sealed = sotto_envelope::encrypt(std::slice::from_ref(recipient), &plaintext)
        .map_err(|_| BackupError::Recipient)?;
    drop(plaintext);
    write_new_file(to, &sealed)?;
    Ok(taken)
}

/// The referral directories, `resources/desk-N.json`, by desk id. Other
/// files there (a leftover `.tmp`) are not the server's and stay out.
fn read_resources(root: &Path) -> Result<Vec<(i64, Vec<u8>)>, BackupError> {
    let dir = root.join(RESOURCES_DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_err(&dir))?;
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| container::resource_id(&format!("{RESOURCES_DIR}/{n}")))
        else {
            continue;
        };
        let path = entry.path();
        out.push((id, fs::read(&path).map_err(io_err(&path))?));
    }
    out.sort_by_key(|(id, _)| *id);
    Ok(out)
}

/// Writes `bytes` to `path`, which must not exist: into a temporary file
/// (mode 0600) in the same directory, synced, then put in place with a hard
/// link, which unlike a rename never replaces a file that appeared
/// meanwhile.
fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let Some(name) = path.file_name() else {
        return Err(BackupError::NotAFileName(path.to_owned()));
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.{:016x}.tmp",
        name.to_string_lossy(),
        OsRng.next_u64()
    ));
    write_new_secret(&tmp, bytes).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(path)(e)
    })?;
    let placed = match fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(BackupError::Exists(path.to_owned()))
        }
        // A file system without hard links: rename, after one more look.
        Err(_) if path.symlink_metadata().is_ok() => Err(BackupError::Exists(path.to_owned())),
        Err(_) => fs::rename(&tmp, path).map_err(io_err(path)),
    };
    let _ = fs::remove_file(&tmp);
    placed?;
    sync_dir(&dir);
    Ok(())
}

/// Makes a directory's new entries durable; best effort (not every
/// platform can open a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// What a restore brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The day the backup was taken.
    pub day: Day,
    /// Cases.
    pub cases: u64,
    /// Entries of the log.
    pub log_size: u64,
    /// Size of the latest published checkpoint, if any.
    pub published: Option<u64>,
    /// Referral directories.
    pub resources: usize,
    /// The database's schema version.
    pub schema_version: i64,
}

/// Restores the backup `file` with the age identities in `identity_file`
/// into `target`, which must not exist or be an empty directory.
pub fn restore(file: &Path, identity_file: &Path, target: &Path) -> Result<Restored, BackupError> {
    let existed = target_state(target)?;
    let identities = read_identities(identity_file)?;
    let sealed = fs::read(file).map_err(io_err(file))?;
    let plaintext =
        Zeroizing::new(
            sotto_envelope::decrypt(&identities, &sealed).map_err(|e| match e {
                _ if !sealed.starts_with(AGE_MAGIC) => BackupError::NotAge(file.to_owned()),
                DecryptError::NoMatchingKeys => BackupError::WrongIdentity {
                    file: file.to_owned(),
                    identity: identity_file.to_owned(),
                },
                other => BackupError::Damaged(file.to_owned(), other),
            })?,
        );
    drop(sealed);
    let backup =
        container::decode(&plaintext).map_err(|e| BackupError::Container(file.to_owned(), e))?;

    if !existed {
        fs::create_dir_all(target).map_err(io_err(target))?;
    }
    let written = write_and_check(target, &backup);
    if written.is_err() {
        // The directory was new or empty: everything in it is ours.
        if existed {
            if let Ok(entries) = fs::read_dir(target) {
                for e in entries.flatten() {
                    let p = e.path();
                    let _ = if p.is_dir() {
                        fs::remove_dir_all(&p)
                    } else {
                        fs::remove_file(&p)
                    };
                }
            }
        } else {
            let _ = fs::remove_dir_all(target);
        }
    }
    written
}

/// Whether `target` exists (then as an empty directory); an error if it
/// exists as anything else.
fn target_state(target: &Path) -> Result<bool, BackupError> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(target)(e)),
        Ok(m) if !m.is_dir() => Err(BackupError::NotEmpty(target.to_owned())),
        Ok(_) => {
            let mut entries = fs::read_dir(target).map_err(io_err(target))?;
            if entries.next().is_some() {
                return Err(BackupError::NotEmpty(target.to_owned()));
            }
            Ok(true)
        }
    }
}

/// Reads an age identity file: `AGE-SECRET-KEY-1…` lines, `#` comments and
/// blank lines (what age-keygen and `sotto desk keygen` write).
fn read_identities(path: &Path) -> Result<Vec<Identity>, BackupError> {
    let bytes = Zeroizing::new(fs::read(path).map_err(io_err(path))?);
    let text =
        std::str::from_utf8(&bytes).map_err(|_| BackupError::BadIdentity(path.to_owned()))?;
    let mut identities = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        identities
            .push(Identity::parse(line).map_err(|_| BackupError::BadIdentity(path.to_owned()))?);
    }
    if identities.is_empty() {
        return Err(BackupError::BadIdentity(path.to_owned()));
    }
    Ok(identities)
}

/// Writes one file of the new data directory: mode 0600, never replacing.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    write_new_secret(path, bytes).map_err(io_err(path))
}

fn restrict_dir(dir: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    let _ = dir;
    Ok(())
}

fn write_and_check(target: &Path, backup: &Backup<'_>) -> Result<Restored, BackupError> {
    restrict_dir(target)?;
    let db = target.join(DB_FILE);
    write_file(&db, backup.database)?;
    write_file(&target.join(PEPPER_FILE), backup.pepper)?;
    write_file(&target.join(SERVER_KEY_FILE), backup.server_key)?;
    if !backup.resources.is_empty() {
        let dir = target.join(RESOURCES_DIR);
        fs::create_dir(&dir).map_err(io_err(&dir))?;
        restrict_dir(&dir)?;
        for (id, data) in &backup.resources {
            write_file(&crate::datadir::resources_path(target, *id), data)?;
        }
        sync_dir(&dir);
    }
    sync_dir(target);

    let checked = sotto_store::backup::check(&db).map_err(|source| BackupError::Store {
        path: db.clone(),
        source,
    })?;
    if let Some((_, note)) = &checked.checkpoint {
        let key = SigningKey::log_key(backup.server_key).verifying_key();
        let origin = note.lines().next().unwrap_or_default();
        let signed = NoteVerifier::new(origin, key).is_ok_and(|v| v.open(note).is_ok());
        if !signed {
            return Err(BackupError::KeyMismatch(target.join(SERVER_KEY_FILE)));
        }
    }
    Ok(Restored {
        day: backup.day,
        cases: checked.cases,
        log_size: checked.log_size,
        published: checked.checkpoint.map(|(size, _)| size),
        resources: backup.resources.len(),
        schema_version: checked.schema_version,
    })
}
