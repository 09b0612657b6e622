//! The data directory: `sotto.db` (with its WAL), `pepper.key` and
//! `server.key`.
//!
//! The pepper keys the handle hashes; it sits beside the database, never in
//! it, so a copy of the database alone (a stolen file) cannot test a handle.
//! Both are 32 random bytes, mode 0600, made on first start; a key file
//! that the group or others can get at stops the server (and `sotto admin`)
//! with the `chmod` that fixes it. The database is made 0600 too (by
//! `sotto_store`), and one found looser is made 0600 again. `sotto admin
//! backup` copies all three, and the referral directories, into one file
//! sealed with age to the operator's offline key (see [`crate::backup`]).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

/// The database file name.
pub const DB_FILE: &str = sotto_store::DB_FILE;
/// The pepper file name.
pub const PEPPER_FILE: &str = sotto_store::PEPPER_FILE;
/// The server secret file name.
pub const SERVER_KEY_FILE: &str = sotto_store::SERVER_KEY_FILE;

/// An opened data directory.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
}

/// Why the data directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// A filesystem error, with the path it concerns.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A key file that is not 32 bytes.
    #[error("{0}: a key file must hold exactly 32 bytes; restore it from your backup")]
    BadKey(PathBuf),
    /// A key file is gone while the database it keys is still there.
    #[error("{0} is missing beside an existing database; restore it from your backup (a new one would lock every reporter out)")]
    MissingKey(PathBuf),
    /// A key file that the group or others can read or write.
    #[error("{path} is open to other accounts on this machine (mode {mode:04o}); a key file must be private: chmod 600 {path}")]
    LooseKey {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_owned(),
        source,
    }
}

impl DataDir {
    /// Opens `root`, creating it and its key files on first use.
    pub fn create(root: &Path) -> Result<Self, DataDirError> {
        fs::create_dir_all(root).map_err(io_err(root))?;
        restrict_dir(root)?;
        let dir = Self {
            root: root.to_owned(),
        };
        let has_db = dir.db_path().exists();
        for name in [PEPPER_FILE, SERVER_KEY_FILE] {
            let path = dir.root.join(name);
            if !path.exists() {
                // A new key beside an old database would silently lock every
                // reporter out of their case: refuse, and say what to restore.
                if has_db {
                    return Err(DataDirError::MissingKey(path));
                }
                let mut key = Zeroizing::new([0u8; 32]);
                OsRng.fill_bytes(key.as_mut());
                write_new_secret(&path, key.as_ref()).map_err(io_err(&path))?;
            }
            refuse_loose_key(&path)?;
        }
        dir.make_db_private()?;
        Ok(dir)
    }

    /// Sets the database and SQLite's files beside it to 0600 where they are
    /// looser (a database from before this check, or copied in by hand).
    /// SQLite gives a new `-wal` or `-shm` the database file's mode.
    fn make_db_private(&self) -> Result<(), DataDirError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let db = self.db_path();
            let mut files = vec![db.clone()];
            for suffix in sotto_store::SQLITE_SIDE_FILES {
                let mut side = db.clone().into_os_string();
                side.push(suffix);
                files.push(side.into());
            }
            for path in files {
                let mode = match fs::metadata(&path) {
                    Ok(m) => m.permissions().mode() & 0o777,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_err(&path)(e)),
                };
                if mode & 0o077 != 0 {
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                        .map_err(io_err(&path))?;
                    tracing::warn!(
                        file = %path.display(),
                        "was open to other accounts on this machine (mode {mode:04o}); it is 0600 now"
                    );
                }
            }
        }
        Ok(())
    }

    /// Opens an existing data directory and creates nothing: for commands
    /// that only read one (a backup of a mistyped path must not make keys).
    pub fn existing(root: &Path) -> Result<Self, DataDirError> {
        let dir = Self {
            root: root.to_owned(),
        };
        let db = dir.db_path();
        fs::metadata(&db).map_err(io_err(&db))?;
        Ok(dir)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The database path.
    pub fn db_path(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }

    /// The pepper for handle hashes.
    pub fn pepper(&self) -> Result<Zeroizing<[u8; 32]>, DataDirError> {
        self.read_key(PEPPER_FILE)
    }

    /// The server's secret (proof-of-work challenges).
    pub fn server_key(&self) -> Result<Zeroizing<[u8; 32]>, DataDirError> {
        self.read_key(SERVER_KEY_FILE)
    }

    fn read_key(&self, name: &str) -> Result<Zeroizing<[u8; 32]>, DataDirError> {
        let path = self.root.join(name);
        let bytes = Zeroizing::new(fs::read(&path).map_err(io_err(&path))?);
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() != 32 {
            return Err(DataDirError::BadKey(path));
        }
        key.copy_from_slice(&bytes);
        Ok(key)
    }
}

/// Writes a new secret file with mode 0600, refusing to replace one.
pub fn write_new_secret(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// Refuses a key file that the group or others can get at: whoever could
/// read it may hold the key, and the operator must know.
fn refuse_loose_key(path: &Path) -> Result<(), DataDirError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(io_err(path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(DataDirError::LooseKey {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let _ = path;
    Ok(())
}

fn restrict_dir(root: &Path) -> Result<(), DataDirError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(root, fs::Permissions::from_mode(0o700)).map_err(io_err(root))?;
    }
    let _ = root;
    Ok(())
}

/// Where a desk's referral directory lives: public data, outside the
/// database, `resources/desk-ID.json` in the data directory.
pub fn resources_path(root: &Path, desk_id: i64) -> PathBuf {
    root.join("resources").join(format!("desk-{desk_id}.json"))
}

/// Writes a public file atomically (a temporary file, then a rename).
pub fn write_public(path: &Path, contents: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_beside_an_existing_database_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let d = DataDir::create(&root).unwrap();
        let pepper = d.pepper().unwrap();
        fs::write(d.db_path(), b"").unwrap();
        // Reopening keeps the same keys.
        assert_eq!(*DataDir::create(&root).unwrap().pepper().unwrap(), *pepper);
        fs::remove_file(root.join(PEPPER_FILE)).unwrap();
        let err = DataDir::create(&root).unwrap_err();
        assert!(matches!(err, DataDirError::MissingKey(_)), "{err}");
        assert!(!root.join(PEPPER_FILE).exists());
    }

    #[cfg(unix)]
    fn chmod(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_open_to_others_is_refused_with_the_chmod_that_fixes_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        DataDir::create(&root).unwrap();
        for (name, loose) in [(PEPPER_FILE, 0o644), (SERVER_KEY_FILE, 0o620)] {
            let path = root.join(name);
            chmod(&path, loose);
            let err = DataDir::create(&root).unwrap_err().to_string();
            assert!(
                err.ends_with(&format!("chmod 600 {}", path.display())),
                "{err}"
            );
            assert!(err.contains(&format!("mode 0{loose:o}")), "{err}");
            assert!(!err.contains('\n'), "{err}");
            // Left as it was: the operator decides.
            assert_eq!(mode(&path), loose);
            chmod(&path, 0o600);
        }
        DataDir::create(&root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_database_open_to_others_is_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let d = DataDir::create(&root).unwrap();
        fs::write(d.db_path(), b"").unwrap();
        fs::write(root.join("sotto.db-wal"), b"").unwrap();
        chmod(&d.db_path(), 0o644);
        chmod(&root.join("sotto.db-wal"), 0o660);
        DataDir::create(&root).unwrap();
        assert_eq!(mode(&d.db_path()), 0o600);
        assert_eq!(mode(&root.join("sotto.db-wal")), 0o600);
        assert!(!root.join("sotto.db-shm").exists());
    }
}
