//! Saving attachments whose names come from someone else.
//!
//! A name is untrusted input: it may try `../../.bashrc`, an absolute path,
//! a hidden file, a device name, control characters, or the name of a file
//! already there. Only the last path component survives, reduced to safe
//! characters, never hidden, never empty, and never replacing an existing
//! file. Files are written, never opened or executed.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Longest saved name, in bytes.
const MAX_NAME: usize = 100;

/// A safe file name for an untrusted `name`.
pub fn safe_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // No hidden files, no "..", no leading dash (read as an option by tools).
    cleaned = cleaned
        .trim_start_matches(['.', '-', ' '])
        .trim_end_matches(['.', ' '])
        .to_owned();
    while cleaned.len() > MAX_NAME {
        cleaned.pop();
    }
    if cleaned.is_empty() {
        cleaned = "attachment".to_owned();
    }
    // Names Windows reserves for devices, whatever the extension.
    let stem = cleaned
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved {
        cleaned.insert(0, '_');
    }
    cleaned
}

/// Writes `data` into `dir` under a safe version of `name`, adding ` (2)`,
/// ` (3)`… before the extension rather than replacing a file. Returns the path.
pub fn save_attachment(dir: &Path, name: &str, data: &[u8]) -> io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let safe = safe_name(name);
    let (stem, ext) = match safe.rfind('.') {
        Some(i) if i > 0 => (&safe[..i], &safe[i..]),
        _ => (safe.as_str(), ""),
    };
    for n in 1..10_000u32 {
        let candidate = if n == 1 {
            dir.join(&safe)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Never executable; readable by the ombudsperson only.
            opts.mode(0o600);
        }
        match opts.open(&candidate) {
            Ok(mut f) => {
                f.write_all(data)?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "too many files with that name",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_plain_names_in_the_folder() {
        let cases = [
            ("../../.bashrc", "bashrc"),
            ("CON", "_CON"),
            ("nul.txt", "_nul.txt"),
            ("com1.log", "_com1.log"),
            ("console.txt", "console.txt"),
            ("/etc/passwd", "passwd"),
            ("..\\..\\windows\\system32.dll", "system32.dll"),
            (".hidden", "hidden"),
            ("..", "attachment"),
            ("", "attachment"),
            ("-rf", "rf"),
            ("re\u{0}port\n.pdf", "re_port_.pdf"),
            ("photo.jpg", "photo.jpg"),
            ("Zoë's notes.txt", "Zoë_s notes.txt"),
        ];
        for (input, want) in cases {
            assert_eq!(safe_name(input), want, "{input:?}");
        }
        assert!(safe_name(&"a".repeat(500)).len() <= MAX_NAME);
    }

    #[test]
    fn saving_never_replaces_a_file_and_stays_in_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let a = save_attachment(dir.path(), "../x.txt", b"one").unwrap();
        let b = save_attachment(dir.path(), "x.txt", b"two").unwrap();
        assert_eq!(a, dir.path().join("x.txt"));
        assert_eq!(b, dir.path().join("x (2).txt"));
        assert_eq!(fs::read(&a).unwrap(), b"one");
        assert_eq!(fs::read(&b).unwrap(), b"two");
        assert!(!dir.path().parent().unwrap().join("x.txt").exists());
    }
}
