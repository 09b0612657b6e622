//! C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures.
//!
//! A note is a text ending in a newline, a blank line, then signature lines
//! `— <key name> base64(key ID ‖ signature)`. The key ID is the first four
//! bytes of `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ Ed25519 public key)`, and the
//! signature is Ed25519 over the text (which ends with its newline, without
//! the blank line). A verifier key is written the way the Go `note` package
//! and the witness ecosystem write it: `<name>+<key ID, 8 hex digits>+base64(0x01 ‖ public key)`.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sotto_envelope::sign::{Signature, SigningKey, VerifyingKey};

/// The signed-note signature type of Ed25519.
const ED25519_TYPE: u8 = 0x01;
/// Largest note accepted.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Most signature lines accepted (the spec asks for at least 16).
const MAX_SIGNATURES: usize = 64;
/// The em dash that starts a signature line, and its space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note or key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The text or a line breaks the format (missing final newline, control
    /// characters, no blank line before the signatures, a malformed
    /// signature line, too large).
    #[error("malformed signed note")]
    Malformed,
    /// A key name that is empty or holds a space or a `+`.
    #[error("malformed key name")]
    BadName,
    /// A verifier key that is not `name+id+base64(0x01 ‖ key)` with a
    /// matching id.
    #[error("malformed verifier key")]
    BadKey,
    /// No signature by the expected key.
    #[error("the note carries no signature by the expected key")]
    UnknownKey,
    /// A signature by the expected key that does not verify.
    #[error("the note's signature does not verify")]
    BadSignature,
}

fn name_ok(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

fn text_ok(text: &str) -> bool {
    text.ends_with('\n') && !text.chars().any(|c| c.is_control() && c != '\n')
}

/// The public half of a note key: its name and Ed25519 key.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
    id: u32,
}

/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]`, big-endian.
fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut data = Vec::with_capacity(name.len() + 34);
    data.extend_from_slice(name.as_bytes());
    data.push(b'\n');
    data.push(ED25519_TYPE);
    data.extend_from_slice(&key.0);
    let h = sotto_envelope::sha256(&data);
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

impl NoteVerifier {
    /// The verifier for `key` under `name`.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        if !name_ok(name) {
            return Err(NoteError::BadName);
        }
        Ok(Self {
            name: name.to_owned(),
            id: key_id(name, &key),
            key,
        })
    }

    /// Parses `name+id+base64(0x01 ‖ key)`, checking that the id matches.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        // The name holds no '+'; the base64 key may.
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadKey);
        };
        if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(NoteError::BadKey);
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| NoteError::BadKey)?;
        let raw = STANDARD.decode(key).map_err(|_| NoteError::BadKey)?;
        let (&kind, key) = raw.split_first().ok_or(NoteError::BadKey)?;
        if kind != ED25519_TYPE {
            return Err(NoteError::BadKey);
        }
        let key = VerifyingKey::from_slice(key).map_err(|_| NoteError::BadKey)?;
        let v = Self::new(name, key).map_err(|_| NoteError::BadKey)?;
        if v.id != id {
            return Err(NoteError::BadKey);
        }
        Ok(v)
    }

    /// The key name (for a checkpoint, the log's origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Ed25519 public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The four-byte key ID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Checks `note` and returns its text (with its final newline). Other
    /// keys' signatures are ignored, as the spec says; at least one by this
    /// key must be there, and every one by this key must verify.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let (text, sigs) = split_note(note)?;
        let mut verified = false;
        for line in sigs {
            let (name, id, sig) = parse_signature_line(line)?;
            if name != self.name || id != self.id {
                continue;
            }
            let sig = Signature::from_slice(&sig).ok_or(NoteError::BadSignature)?;
            self.key
                .verify_note(text.as_bytes(), &sig)
                .map_err(|_| NoteError::BadSignature)?;
            verified = true;
        }
        if verified {
            Ok(text)
        } else {
            Err(NoteError::UnknownKey)
        }
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(33);
        raw.push(ED25519_TYPE);
        raw.extend_from_slice(&self.key.0);
        write!(f, "{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

/// Signs `text` (which must end with a newline) as `name`, and returns the
/// whole note.
pub fn sign(text: &str, name: &str, key: &SigningKey) -> Result<String, NoteError> {
    if !name_ok(name) {
        return Err(NoteError::BadName);
    }
    if !text_ok(text) || text.len() > MAX_NOTE_BYTES / 2 {
        return Err(NoteError::Malformed);
    }
    let id = key_id(name, &key.verifying_key());
    let sig = key.sign_note(text.as_bytes());
    let mut raw = Vec::with_capacity(68);
    raw.extend_from_slice(&id.to_be_bytes());
    raw.extend_from_slice(&sig.0);
    Ok(format!(
        "{text}\n{SIG_PREFIX}{name} {}\n",
        STANDARD.encode(raw)
    ))
}

/// Splits a note into its text (with the final newline) and its signature
/// lines (without theirs).
fn split_note(note: &str) -> Result<(&str, impl Iterator<Item = &str>), NoteError> {
    if note.len() > MAX_NOTE_BYTES || !text_ok(note) {
        return Err(NoteError::Malformed);
    }
    // The text ends at the last blank line.
    let blank = note.rfind("\n\n").ok_or(NoteError::Malformed)?;
    let text = &note[..=blank];
    let sigs = &note[blank + 2..];
    if sigs.is_empty() || sigs.matches('\n').count() > MAX_SIGNATURES {
        return Err(NoteError::Malformed);
    }
    Ok((text, sigs.strip_suffix('\n').unwrap_or(sigs).split('\n')))
}

fn parse_signature_line(line: &str) -> Result<(&str, u32, Vec<u8>), NoteError> {
    let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed)?;
    let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed)?;
    if !name_ok(name) {
        return Err(NoteError::Malformed);
    }
    let raw = STANDARD.decode(b64).map_err(|_| NoteError::Malformed)?;
    if raw.len() < 5 {
        return Err(NoteError::Malformed);
    }
    let id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
    Ok((name, id, raw[4..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn key(b: u8) -> SigningKey {
        SigningKey::from_seed(Zeroizing::new([b; 32]))
    }

    #[test]
    fn a_signed_note_opens_with_its_key_and_returns_the_text() {
        let k = key(1);
        let note = sign("example.org/log\n3\nAAAA\n", "example.org/log", &k).unwrap();
        assert!(note.starts_with("example.org/log\n3\nAAAA\n\n\u{2014} example.org/log "));
        let v = NoteVerifier::new("example.org/log", k.verifying_key()).unwrap();
        assert_eq!(v.open(&note).unwrap(), "example.org/log\n3\nAAAA\n");
    }

    #[test]
    fn a_note_is_refused_when_altered_or_signed_by_another_key() {
        let k = key(1);
        let note = sign("origin\n1\nAAAA\n", "origin", &k).unwrap();
        let v = NoteVerifier::new("origin", k.verifying_key()).unwrap();
        let altered = note.replacen("\n1\n", "\n2\n", 1);
        assert_eq!(v.open(&altered), Err(NoteError::BadSignature));
        let other = NoteVerifier::new("origin", key(2).verifying_key()).unwrap();
        assert_eq!(other.open(&note), Err(NoteError::UnknownKey));
        let renamed = NoteVerifier::new("other", k.verifying_key()).unwrap();
        assert_eq!(renamed.open(&note), Err(NoteError::UnknownKey));
        for bad in [
            "",
            "no blank line\n\u{2014} origin AAAA\n",
            "text\n\n",
            "text\n\n\u{2014} origin AAAAAAA=\n",
            "text\n\n- origin AAAAAAAAAAAAAAA=\n",
            "te\u{7}xt\n\n\u{2014} origin AAAAAAAAAAAAAAA=\n",
        ] {
            assert!(v.open(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_signatures_beside_the_known_one_are_ignored() {
        let k = key(1);
        let note = sign("origin\n1\nAAAA\n", "origin", &k).unwrap();
        let witness = format!("{note}\u{2014} witness.example AAAAAAAAAAAAAAAAAAAA\n");
        let v = NoteVerifier::new("origin", k.verifying_key()).unwrap();
        assert!(v.open(&witness).is_ok());
    }

    #[test]
    fn verifier_keys_whose_base64_holds_a_plus_parse() {
        // Seeds until the encoded key has a '+' (about one in two does).
        let with_plus = (0u8..=255)
            .map(|b| NoteVerifier::new("o", key(b).verifying_key()).unwrap())
            .find(|v| v.to_string().matches('+').count() > 2)
            .unwrap();
        assert_eq!(
            NoteVerifier::parse(&with_plus.to_string()).unwrap(),
            with_plus
        );
    }

    #[test]
    fn the_verifier_key_round_trips_and_its_id_is_checked() {
        let v = NoteVerifier::new("example.org/log", key(3).verifying_key()).unwrap();
        let s = v.to_string();
        assert!(s.starts_with("example.org/log+"));
        assert_eq!(NoteVerifier::parse(&s).unwrap(), v);
        let (head, tail) = s.split_at("example.org/log+".len());
        let wrong_id = format!("{head}00000000{}", &tail[8..]);
        assert_eq!(NoteVerifier::parse(&wrong_id), Err(NoteError::BadKey));
        assert!(NoteVerifier::parse("name+1234").is_err());
        assert!(NoteVerifier::new("has space", key(3).verifying_key()).is_err());
        assert!(NoteVerifier::new("has+plus", key(3).verifying_key()).is_err());
    }

    #[test]
    fn text_that_breaks_the_format_is_not_signed() {
        let k = key(1);
        assert!(sign("no newline", "o", &k).is_err());
        assert!(sign("tab\there\n", "o", &k).is_err());
        assert!(sign("ok\n", "bad name", &k).is_err());
    }
}
