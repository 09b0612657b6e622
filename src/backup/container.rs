//! The plaintext of a backup file, before age seals it: one header line,
//! then named, length-prefixed entries.
//!
//! ```text
//! container = header db pepper server-key *resources end
//! header    = "sotto-backup/v1 " day LF     ; day: YYYY-MM-DD (UTC), the day it was taken
//! entry     = name-len name data-len data
//! name-len  = 1 byte, 1 to 64
//! name      = name-len bytes of printable ASCII
//! data-len  = 8 bytes, big-endian
//! data      = data-len bytes
//!
//! db        = entry named "sotto.db"         ; the database file, from the online backup API
//! pepper    = entry named "pepper.key"       ; exactly 32 bytes
//! server-key = entry named "server.key"      ; exactly 32 bytes
//! resources = entry named "resources/desk-N.json" ; a desk's referral directory, N ascending
//! end       = entry named "end", empty       ; nothing may follow it
//! ```
//!
//! The parser is strict: every length is checked against what is left,
//! entries come in this order and each once, an unknown name or version is
//! refused, and the `end` entry makes every truncation an error even where
//! an entry boundary falls (age's STREAM already refuses a truncated file;
//! this holds for a plaintext handled outside Sotto too). A later format
//! gets a new version, never a new entry in this one.

use std::fmt;

use sotto_wire::Day;
use zeroize::Zeroizing;

use crate::datadir::{DB_FILE, PEPPER_FILE, SERVER_KEY_FILE};

/// The start of every backup's first line.
pub const MAGIC: &[u8] = b"sotto-backup/";
/// The one version this build writes and reads.
pub const VERSION: &[u8] = b"v1";
/// The name of the entry that ends a backup.
const END: &str = "end";
/// Longest entry name.
const MAX_NAME: usize = 64;
/// Longest header line this version writes (`sotto-backup/v1 YYYY-MM-DD`),
/// with room for what a later version might add.
const MAX_HEADER: usize = 64;
const RESOURCE_PREFIX: &str = "resources/desk-";
const RESOURCE_SUFFIX: &str = ".json";

/// A backup's contents, borrowed: from the data directory when writing,
/// from the decrypted plaintext when reading.
pub struct Backup<'a> {
    /// The day it was taken.
    pub day: Day,
    /// The database file.
    pub database: &'a [u8],
    /// `pepper.key`.
    pub pepper: &'a [u8; 32],
    /// `server.key`.
    pub server_key: &'a [u8; 32],
    /// Referral directories: the desk's id and the file.
    pub resources: Vec<(i64, &'a [u8])>,
}

impl fmt::Debug for Backup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backup")
            .field("day", &self.day)
            .field("database_len", &self.database.len())
            .field("pepper", &"[redacted]")
            .field("server_key", &"[redacted]")
            .field("resources", &self.resources.len())
            .finish()
    }
}

/// Why bytes are not a backup this build reads. Says which rule broke,
/// never which byte: the file is the operator's own, but its plaintext
/// could have been made by anyone who knows the public recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerError {
    /// It does not start as a Sotto backup does.
    #[error("it decrypts, but holds something else")]
    NotABackup,
    /// A Sotto backup of a format version this build does not read.
    #[error("its format is not sotto-backup/v1: restore it with the Sotto release that made it")]
    UnknownVersion,
    /// The header line is malformed.
    #[error("its header line is malformed")]
    BadHeader,
    /// It ends before its last entry does.
    #[error("it is truncated")]
    Truncated,
    /// An entry breaks the format's rules.
    #[error("{0}")]
    BadEntry(&'static str),
}

fn resource_name(desk_id: i64) -> String {
    format!("{RESOURCE_PREFIX}{desk_id}{RESOURCE_SUFFIX}")
}

/// The desk id in `resources/desk-N.json`: N in canonical decimal (no
/// sign, no leading zero).
pub(crate) fn resource_id(name: &str) -> Option<i64> {
    let digits = name
        .strip_prefix(RESOURCE_PREFIX)?
        .strip_suffix(RESOURCE_SUFFIX)?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    digits.parse().ok()
}

/// Writes `backup` as a container, in a buffer wiped on drop (it holds the
/// keys). The buffer is allocated once at its final size, so no copy of the
/// keys is left behind by a reallocation.
pub fn encode(backup: &Backup<'_>) -> Zeroizing<Vec<u8>> {
    let header = format!(
        "{}{} {}\n",
        String::from_utf8_lossy(MAGIC),
        String::from_utf8_lossy(VERSION),
        backup.day
    );
    let names: Vec<String> = backup
        .resources
        .iter()
        .map(|(id, _)| resource_name(*id))
        .collect();
    let mut entries: Vec<(&str, &[u8])> = vec![
        (DB_FILE, backup.database),
        (PEPPER_FILE, backup.pepper),
        (SERVER_KEY_FILE, backup.server_key),
    ];
    entries.extend(
        names
            .iter()
            .zip(&backup.resources)
            .map(|(n, (_, data))| (n.as_str(), *data)),
    );
    entries.push((END, &[]));
    let len = header.len()
        + entries
            .iter()
            .map(|(n, d)| 1 + n.len() + 8 + d.len())
            .sum::<usize>();
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    out.extend_from_slice(header.as_bytes());
    for (name, data) in entries {
        // Names are ours: three constants, "end" and resource names of at
        // most 35 bytes.
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(data.len() as u64).to_be_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// What is left to read.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ContainerError> {
        if n > self.0.len() {
            return Err(ContainerError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    /// One entry: its name and its data.
    fn entry(&mut self) -> Result<(&'a str, &'a [u8]), ContainerError> {
        let name_len = usize::from(self.take(1)?[0]);
        if name_len == 0 || name_len > MAX_NAME {
            return Err(ContainerError::BadEntry("an entry name of a bad length"));
        }
        let name = self.take(name_len)?;
        if !name.iter().all(|b| b.is_ascii_graphic()) {
            return Err(ContainerError::BadEntry(
                "an entry name that is not printable ASCII",
            ));
        }
        // Checked as ASCII just above.
        let name = std::str::from_utf8(name)
            .map_err(|_| ContainerError::BadEntry("an entry name that is not printable ASCII"))?;
        let mut len = [0u8; 8];
        len.copy_from_slice(self.take(8)?);
        // A length past what is left (or past memory) is a truncated file.
        let len =
            usize::try_from(u64::from_be_bytes(len)).map_err(|_| ContainerError::Truncated)?;
        Ok((name, self.take(len)?))
    }

    /// The next entry, which must be named `want`.
    fn expect(&mut self, want: &str) -> Result<&'a [u8], ContainerError> {
        let (name, data) = self.entry()?;
        if name != want {
            return Err(ContainerError::BadEntry(
                "the database, pepper and server key must come first, in that order",
            ));
        }
        Ok(data)
    }
}

fn key(data: &[u8]) -> Result<&[u8; 32], ContainerError> {
    data.try_into()
        .map_err(|_| ContainerError::BadEntry("a key entry that is not 32 bytes"))
}

fn header(bytes: &[u8]) -> Result<(Day, &[u8]), ContainerError> {
    let Some(after_magic) = bytes.strip_prefix(MAGIC) else {
        return Err(ContainerError::NotABackup);
    };
    let Some(end) = bytes.iter().take(MAX_HEADER).position(|&b| b == b'\n') else {
        return Err(if bytes.len() < MAX_HEADER {
            ContainerError::Truncated
        } else {
            ContainerError::BadHeader
        });
    };
    let line = &after_magic[..end - MAGIC.len()];
    let mut fields = line.split(|&b| b == b' ');
    match fields.next() {
        Some(VERSION) => {}
        Some([b'v', digits @ ..])
            if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) =>
        {
            return Err(ContainerError::UnknownVersion)
        }
        _ => return Err(ContainerError::BadHeader),
    }
    let day = fields
        .next()
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| Day::parse(d).filter(|day| day.to_string() == d))
        .ok_or(ContainerError::BadHeader)?;
    if fields.next().is_some() {
        return Err(ContainerError::BadHeader);
    }
    Ok((day, &bytes[end + 1..]))
}

/// Reads a container, borrowing every entry from `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Backup<'_>, ContainerError> {
    let (day, rest) = header(bytes)?;
    let mut r = Reader(rest);
    let database = r.expect(DB_FILE)?;
    let pepper = key(r.expect(PEPPER_FILE)?)?;
    let server_key = key(r.expect(SERVER_KEY_FILE)?)?;
    let mut resources: Vec<(i64, &[u8])> = Vec::new();
    loop {
        let (name, data) = r.entry()?;
        if name == END {
            if !data.is_empty() {
                return Err(ContainerError::BadEntry("the end entry is not empty"));
            }
            break;
        }
        let id = resource_id(name).ok_or(ContainerError::BadEntry("an unknown entry"))?;
        if resources.last().is_some_and(|(last, _)| id <= *last) {
            return Err(ContainerError::BadEntry(
                "referral directories out of order, or one twice",
            ));
        }
        resources.push((id, data));
    }
    if !r.0.is_empty() {
        return Err(ContainerError::BadEntry("data follows the end entry"));
    }
    Ok(Backup {
        day,
        database,
        pepper,
        server_key,
        resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEPPER: [u8; 32] = [1; 32];
    const SERVER: [u8; 32] = [2; 32];

    fn sample() -> Zeroizing<Vec<u8>> {
        encode(&Backup {
            day: Day::parse("2026-12-03").unwrap(),
            database: b"SQLite format 3\0 and pages",
            pepper: &PEPPER,
            server_key: &SERVER,
            resources: vec![(1, b"{\"entries\":[]}"), (12, b"{}")],
        })
    }

    /// Builds a container by hand from a header line and raw entries.
    fn raw(header: &str, entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = header.as_bytes().to_vec();
        for (name, data) in entries {
            out.push(name.len() as u8);
            out.extend_from_slice(name);
            out.extend_from_slice(&(data.len() as u64).to_be_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    const H: &str = "sotto-backup/v1 2026-12-03\n";

    /// Raw entries: names and data.
    type Entries = Vec<(&'static [u8], &'static [u8])>;

    fn keys_then(rest: &[(&'static [u8], &'static [u8])]) -> Entries {
        let mut v: Vec<(&[u8], &[u8])> = vec![
            (b"sotto.db", b"db"),
            (b"pepper.key", &PEPPER),
            (b"server.key", &SERVER),
        ];
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn a_backup_reads_back_as_written() {
        let bytes = sample();
        assert!(bytes.starts_with(b"sotto-backup/v1 2026-12-03\n"));
        let b = decode(&bytes).unwrap();
        assert_eq!(b.day.to_string(), "2026-12-03");
        assert_eq!(b.database, b"SQLite format 3\0 and pages");
        assert_eq!(b.pepper, &PEPPER);
        assert_eq!(b.server_key, &SERVER);
        assert_eq!(
            b.resources,
            vec![(1, &b"{\"entries\":[]}"[..]), (12, &b"{}"[..])]
        );
        assert_eq!(bytes.capacity(), bytes.len(), "allocated once");
    }

    #[test]
    fn a_backup_does_not_print_its_keys() {
        let bytes = sample();
        let shown = format!("{:?}", decode(&bytes).unwrap());
        assert!(shown.contains("[redacted]"), "{shown}");
        assert!(!shown.contains("1, 1, 1"), "{shown}");
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sample();
        for len in 0..bytes.len() {
            let err = decode(&bytes[..len]).unwrap_err();
            let expected = if len < MAGIC.len() {
                ContainerError::NotABackup
            } else {
                ContainerError::Truncated
            };
            assert_eq!(err, expected, "cut at {len}");
        }
    }

    #[test]
    fn anything_after_the_end_entry_is_refused() {
        let mut bytes = sample().to_vec();
        bytes.push(0);
        assert_eq!(
            decode(&bytes).unwrap_err(),
            ContainerError::BadEntry("data follows the end entry")
        );
    }

    #[test]
    fn a_length_past_the_end_or_past_memory_is_a_truncation() {
        let mut bytes = raw(H, &keys_then(&[(b"end", b"")]));
        // The database entry's length: after the header, 1 + 8 name bytes.
        let at = H.len() + 1 + 8;
        let left = (bytes.len() - at - 8) as u64;
        for len in [left + 1, 1 << 40, u64::MAX] {
            bytes[at..at + 8].copy_from_slice(&len.to_be_bytes());
            assert_eq!(decode(&bytes).unwrap_err(), ContainerError::Truncated);
        }
    }

    #[test]
    fn bad_names_and_lengths_are_refused() {
        let cases: Vec<(Entries, &str)> = vec![
            (
                vec![(b"pepper.key", &PEPPER), (b"sotto.db", b"db")],
                "the database, pepper and server key must come first, in that order",
            ),
            (
                keys_then(&[(b"notes.txt", b"hi"), (b"end", b"")]),
                "an unknown entry",
            ),
            (
                keys_then(&[(b"resources/desk-01.json", b"{}"), (b"end", b"")]),
                "an unknown entry",
            ),
            (
                keys_then(&[(b"resources/desk--1.json", b"{}"), (b"end", b"")]),
                "an unknown entry",
            ),
            (
                keys_then(&[
                    (b"resources/desk-2.json", b"{}"),
                    (b"resources/desk-2.json", b"{}"),
                    (b"end", b""),
                ]),
                "referral directories out of order, or one twice",
            ),
            (keys_then(&[(b"end", b"x")]), "the end entry is not empty"),
            (
                keys_then(&[(b"", b""), (b"end", b"")]),
                "an entry name of a bad length",
            ),
            (
                keys_then(&[(b"sotto db", b""), (b"end", b"")]),
                "an entry name that is not printable ASCII",
            ),
            (
                vec![
                    (b"sotto.db", b"db"),
                    (b"pepper.key", &[1; 31]),
                    (b"server.key", &SERVER),
                    (b"end", b""),
                ],
                "a key entry that is not 32 bytes",
            ),
        ];
        for (entries, why) in cases {
            assert_eq!(
                decode(&raw(H, &entries)).unwrap_err(),
                ContainerError::BadEntry(why),
                "{why}"
            );
        }
        let long = [b'a'; 65];
        assert_eq!(
            decode(&raw(H, &[(&long, b"")])).unwrap_err(),
            ContainerError::BadEntry("an entry name of a bad length")
        );
    }

    #[test]
    fn an_unknown_version_or_a_bad_header_is_refused() {
        let entries = keys_then(&[(b"end", b"")]);
        for (header, err) in [
            (
                "sotto-backup/v2 2026-12-03\n",
                ContainerError::UnknownVersion,
            ),
            (
                "sotto-backup/v10 2026-12-03\n",
                ContainerError::UnknownVersion,
            ),
            ("sotto-backup/v1 2026-13-03\n", ContainerError::BadHeader),
            ("sotto-backup/v1 2026-12-03 \n", ContainerError::BadHeader),
            (
                "sotto-backup/v1 2026-12-03 14:02\n",
                ContainerError::BadHeader,
            ),
            ("sotto-backup/v1\n", ContainerError::BadHeader),
            ("sotto-backup/\n", ContainerError::BadHeader),
            ("sotto-backup/vx 2026-12-03\n", ContainerError::BadHeader),
            ("sotto-backup/v1  2026-12-03\n", ContainerError::BadHeader),
            ("age-encryption.org/v1\n", ContainerError::NotABackup),
            ("SQLite format 3\0", ContainerError::NotABackup),
        ] {
            assert_eq!(
                decode(&raw(header, &entries)).unwrap_err(),
                err,
                "{header:?}"
            );
        }
        let endless = format!("sotto-backup/v1 {}", "x".repeat(100));
        assert_eq!(
            decode(endless.as_bytes()).unwrap_err(),
            ContainerError::BadHeader
        );
    }

    /// Every byte of a backup, replaced by a few values, and random inputs
    /// behind a valid header: the parser answers, and never panics.
    #[test]
    fn mangled_inputs_never_panic() {
        let bytes = sample().to_vec();
        for i in 0..bytes.len() {
            for v in [0x00, 0x01, 0x0a, 0x20, 0x7f, 0xff] {
                let mut m = bytes.clone();
                m[i] = v;
                let _ = decode(&m);
            }
        }
        // xorshift: deterministic, no dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let len = (next() % 300) as usize;
            let mut m = H.as_bytes().to_vec();
            m.extend((0..len).map(|_| (next() % 8) as u8));
            let _ = decode(&m);
        }
    }
}
