//! Ed25519 signatures (ring), each over its own versioned context.
//!
//! Envelope signature, over
//! `"sotto/v1/sig/envelope" ‖ 0x00 ‖ case id (16) ‖ seq (u64 BE) ‖ direction (1) ‖ SHA-256(age file)`:
//! it binds an envelope to one case, one place in the thread and one author
//! side, so the server can neither replay, reorder nor move it.
//!
//! Share signature, over
//! `"sotto/v1/sig/share" ‖ 0x00 ‖ case id (16) ‖ new reader's recipient id (25 ASCII digits) ‖ upto (u64 BE) ‖ SHA-256(age file)`:
//! the sharer vouches that the age file holds the case's first `upto`
//! messages, for that reader alone.
//!
//! Request signature (ombudsperson authentication), over
//! `"sotto/v1/sig/request" ‖ 0x00 ‖ len(method) (u16 BE) ‖ method ‖ len(path) (u32 BE) ‖ path ‖ timestamp (u64 BE) ‖ nonce (16) ‖ SHA-256(body)`.
//! Ed25519 is deterministic, so the random nonce is what makes two
//! identical requests in the same second carry different signatures.
//!
//! Checkpoint signature (the transparency log), over the text of a C2SP
//! signed note, exactly as that specification says: nothing is prepended,
//! since other tools must verify it. The log key is derived from the
//! server's secret under its own label (`sotto/v1/server/log-ed25519`) and
//! signs checkpoint notes and promises, nothing else.
//!
//! Log promise signature (by the log key), over
//! `"sotto/v1/sig/log-promise" ‖ 0x00 ‖ len(origin) (u16 BE) ‖ origin ‖ leaf hash (32)`:
//! the log named `origin` will hold the leaf whose RFC 6962 hash is given
//! in its next published checkpoint. It names no index and no tree size.
//! A promise message holds a `0x00` byte, which the text of a signed note
//! never does (notes refuse control characters), so neither signature can
//! pass for the other.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::labels::{
    SERVER_LOG_KEY, SIG_ENVELOPE, SIG_LOG_PROMISE, SIG_LOG_ROSTERS, SIG_REQUEST, SIG_SHARE,
};
use crate::primitives::{hkdf_sha256, sha256};

/// A signature that does not verify. Deliberately says nothing more.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("the signature does not verify")]
pub struct BadSignature;

/// A case's random 128-bit id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId(pub [u8; 16]);

/// Length of a case id written in hex.
pub const CASE_ID_HEX_LEN: usize = 32;

impl CaseId {
    /// A fresh random case id from the operating system's RNG.
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses 32 lowercase hex digits.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != CASE_ID_HEX_LEN
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaseId({self})")
    }
}

/// Which side of a case wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The reporter wrote it (the opening report or a follow-up).
    FromReporter,
    /// An ombudsperson wrote it (a reply or a note with a state change).
    FromDesk,
}

impl Direction {
    fn byte(self) -> u8 {
        match self {
            Direction::FromReporter => 1,
            Direction::FromDesk => 2,
        }
    }

    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::FromReporter => "reporter",
            Direction::FromDesk => "desk",
        }
    }

    /// Parses [`Direction::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reporter" => Some(Direction::FromReporter),
            "desk" => Some(Direction::FromDesk),
            _ => None,
        }
    }
}

/// A 64-byte Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// A signature from exactly 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }

    /// Parses base64url without padding.
    pub fn parse(s: &str) -> Option<Self> {
        Self::from_slice(&URL_SAFE_NO_PAD.decode(s).ok()?)
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerifyingKey(pub [u8; 32]);

impl VerifyingKey {
    /// Parses base64url without padding (43 characters).
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| KeyError::InvalidSigningKey)?;
        Self::from_slice(&bytes)
    }

    /// A key from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        Ok(Self(
            bytes.try_into().map_err(|_| KeyError::InvalidSigningKey)?,
        ))
    }

    fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), BadSignature> {
        UnparsedPublicKey::new(&ED25519, self.0)
            .verify(message, &signature.0)
            .map_err(|_| BadSignature)
    }

    /// Checks an envelope signature (see the module docs for what it covers).
    pub fn verify_envelope(
        &self,
        case: &CaseId,
        seq: u64,
        direction: Direction,
        envelope: &[u8],
        signature: &Signature,
    ) -> Result<(), BadSignature> {
        self.verify(&envelope_message(case, seq, direction, envelope), signature)
    }

    /// Checks an envelope signature given only the envelope's SHA-256 (for
    /// a reader who holds the hash of a message sealed to others).
    pub fn verify_envelope_digest(
        &self,
        case: &CaseId,
        seq: u64,
        direction: Direction,
        envelope_sha256: &[u8; 32],
        signature: &Signature,
    ) -> Result<(), BadSignature> {
        self.verify(
            &envelope_digest_message(case, seq, direction, envelope_sha256),
            signature,
        )
    }

    /// Checks a share signature (see the module docs).
    pub fn verify_share(
        &self,
        case: &CaseId,
        reader: &str,
        upto: u64,
        envelope: &[u8],
        signature: &Signature,
    ) -> Result<(), BadSignature> {
        self.verify_share_digest(case, reader, upto, &sha256(envelope), signature)
    }

    /// [`VerifyingKey::verify_share`] given the envelope's SHA-256: for a
    /// client that checks who shared without the share's envelope.
    pub fn verify_share_digest(
        &self,
        case: &CaseId,
        reader: &str,
        upto: u64,
        envelope_sha256: &[u8; 32],
        signature: &Signature,
    ) -> Result<(), BadSignature> {
        self.verify(
            &share_digest_message(case, reader, upto, envelope_sha256),
            signature,
        )
    }

    /// Checks the signature of a C2SP signed note's text (see the module docs).
    pub fn verify_note(&self, text: &[u8], signature: &Signature) -> Result<(), BadSignature> {
        self.verify(text, signature)
    }

    /// Checks a log promise: the log `origin` will publish the leaf whose
    /// hash is `leaf_hash` (see the module docs).
    pub fn verify_log_promise(
        &self,
        origin: &str,
        leaf_hash: &[u8; 32],
        signature: &Signature,
    ) -> Result<(), BadSignature> {
        self.verify(&log_promise_message(origin, leaf_hash), signature)
    }

    /// Checks a roster summary of the log `origin`: `body` is its encoding
    /// (`sotto_tlog::rosters`), which begins with the tree size and root.
    pub fn verify_log_rosters(
        &self,
        origin: &str,
        body: &[u8],
        signature: &Signature,
    ) -> Result<(), BadSignature> {
        self.verify(&log_message(SIG_LOG_ROSTERS, origin, body), signature)
    }

    /// Checks a request signature (see the module docs for what it covers).
    pub fn verify_request(
        &self,
        method: &str,
        path: &str,
        timestamp: u64,
        nonce: &[u8; 16],
        body: &[u8],
        signature: &Signature,
    ) -> Result<(), BadSignature> {
        self.verify(
            &request_message(method, path, timestamp, nonce, body),
            signature,
        )
    }
}

impl fmt::Display for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({self})")
    }
}

/// An Ed25519 signing key, kept as its 32-byte seed.
///
/// Only the seed lives long (wiped on drop, `Debug` redacted); ring's
/// expanded key pair is built for each signature and dropped at once, since
/// ring does not wipe it.
pub struct SigningKey {
    seed: Zeroizing<[u8; 32]>,
}

impl SigningKey {
    /// A signing key from a derived 32-byte seed.
    pub fn from_seed(seed: Zeroizing<[u8; 32]>) -> Self {
        Self { seed }
    }

    /// The transparency log's checkpoint key, derived from the server's
    /// 32-byte secret under its own label.
    pub fn log_key(server_secret: &[u8; 32]) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        hkdf_sha256(server_secret, &[], SERVER_LOG_KEY, seed.as_mut());
        Self { seed }
    }

    fn key_pair(&self) -> Ed25519KeyPair {
        match Ed25519KeyPair::from_seed_unchecked(self.seed.as_ref()) {
            Ok(pair) => pair,
            // ring accepts every 32-byte seed; the length is fixed by the type.
            Err(_) => unreachable!("a 32-byte Ed25519 seed is always valid"),
        }
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        let pair = self.key_pair();
        let mut out = [0u8; 32];
        out.copy_from_slice(pair.public_key().as_ref());
        VerifyingKey(out)
    }

    fn sign(&self, message: &[u8]) -> Signature {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.key_pair().sign(message).as_ref());
        Signature(out)
    }

    /// Signs an envelope posted to a case.
    pub fn sign_envelope(
        &self,
        case: &CaseId,
        seq: u64,
        direction: Direction,
        envelope: &[u8],
    ) -> Signature {
        self.sign(&envelope_message(case, seq, direction, envelope))
    }

    /// Signs a case's thread shared with one more reader.
    pub fn sign_share(&self, case: &CaseId, reader: &str, upto: u64, envelope: &[u8]) -> Signature {
        self.sign(&share_message(case, reader, upto, envelope))
    }

    /// Signs the text of a C2SP signed note (a checkpoint). Only the log key
    /// signs notes; see the module docs.
    pub fn sign_note(&self, text: &[u8]) -> Signature {
        self.sign(text)
    }

    /// Signs the log's promise that the leaf whose hash is `leaf_hash` will
    /// be in the next checkpoint the log `origin` publishes. Only the log key
    /// signs promises; see the module docs.
    pub fn sign_log_promise(&self, origin: &str, leaf_hash: &[u8; 32]) -> Signature {
        self.sign(&log_promise_message(origin, leaf_hash))
    }

    /// Signs the log's summary of its desks' rosters at one of its
    /// checkpoints: `body` is its encoding (`sotto_tlog::rosters`). Only the
    /// log key signs these.
    pub fn sign_log_rosters(&self, origin: &str, body: &[u8]) -> Signature {
        self.sign(&log_message(SIG_LOG_ROSTERS, origin, body))
    }

    /// Signs an HTTP request: method, path with query, Unix time, a fresh
    /// random nonce, body.
    pub fn sign_request(
        &self,
        method: &str,
        path: &str,
        timestamp: u64,
        nonce: &[u8; 16],
        body: &[u8],
    ) -> Signature {
        self.sign(&request_message(method, path, timestamp, nonce, body))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

fn envelope_message(case: &CaseId, seq: u64, direction: Direction, envelope: &[u8]) -> Vec<u8> {
    envelope_digest_message(case, seq, direction, &sha256(envelope))
}

fn envelope_digest_message(
    case: &CaseId,
    seq: u64,
    direction: Direction,
    digest: &[u8; 32],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIG_ENVELOPE.len() + 1 + 16 + 8 + 1 + 32);
    m.extend_from_slice(SIG_ENVELOPE);
    m.push(0);
    m.extend_from_slice(&case.0);
    m.extend_from_slice(&seq.to_be_bytes());
    m.push(direction.byte());
    m.extend_from_slice(digest);
    m
}

fn share_message(case: &CaseId, reader: &str, upto: u64, envelope: &[u8]) -> Vec<u8> {
    share_digest_message(case, reader, upto, &sha256(envelope))
}

fn share_digest_message(case: &CaseId, reader: &str, upto: u64, digest: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIG_SHARE.len() + 1 + 16 + 25 + 8 + 32);
    m.extend_from_slice(SIG_SHARE);
    m.push(0);
    m.extend_from_slice(&case.0);
    m.extend_from_slice(reader.as_bytes());
    m.extend_from_slice(&upto.to_be_bytes());
    m.extend_from_slice(digest);
    m
}

fn log_promise_message(origin: &str, leaf_hash: &[u8; 32]) -> Vec<u8> {
    // The hash is always the last 32 bytes, so the message stays
    // unambiguous even for an origin longer than the prefix counts.
    log_message(SIG_LOG_PROMISE, origin, leaf_hash)
}

/// What the log key signs besides notes: `label ‖ 0x00 ‖ len(origin) (u16
/// BE) ‖ origin ‖ body`. The NUL byte keeps it from ever being a note's
/// text.
fn log_message(label: &[u8], origin: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(label.len() + 3 + origin.len() + body.len());
    m.extend_from_slice(label);
    m.push(0);
    m.extend_from_slice(&(origin.len().min(u16::MAX as usize) as u16).to_be_bytes());
    m.extend_from_slice(origin.as_bytes());
    m.extend_from_slice(body);
    m
}

fn request_message(
    method: &str,
    path: &str,
    timestamp: u64,
    nonce: &[u8; 16],
    body: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIG_REQUEST.len() + 64 + path.len());
    m.extend_from_slice(SIG_REQUEST);
    m.push(0);
    // Lengths are bounded well below the prefix widths by the HTTP server.
    m.extend_from_slice(&(method.len().min(u16::MAX as usize) as u16).to_be_bytes());
    m.extend_from_slice(method.as_bytes());
    m.extend_from_slice(&(path.len().min(u32::MAX as usize) as u32).to_be_bytes());
    m.extend_from_slice(path.as_bytes());
    m.extend_from_slice(&timestamp.to_be_bytes());
    m.extend_from_slice(nonce);
    m.extend_from_slice(&sha256(body));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_seed(Zeroizing::new([byte; 32]))
    }

    #[test]
    fn a_share_signature_is_bound_to_its_reader_and_length_and_is_no_envelope_signature() {
        let k = key(9);
        let case = CaseId([3; 16]);
        let reader = "1234512345123451234512345";
        let sig = k.sign_share(&case, reader, 4, b"age file");
        let v = k.verifying_key();
        assert!(v.verify_share(&case, reader, 4, b"age file", &sig).is_ok());
        assert!(v.verify_share(&case, reader, 3, b"age file", &sig).is_err());
        assert!(v
            .verify_share(&case, "1234512345123451234512346", 4, b"age file", &sig)
            .is_err());
        assert!(v.verify_share(&case, reader, 4, b"age filf", &sig).is_err());
        assert!(v
            .verify_share_digest(&case, reader, 4, &sha256(b"age file"), &sig)
            .is_ok());
        assert!(v
            .verify_share_digest(&case, reader, 4, &sha256(b"age filf"), &sig)
            .is_err());
        assert!(v
            .verify_envelope(&case, 4, Direction::FromDesk, b"age file", &sig)
            .is_err());
        let e = k.sign_envelope(&case, 2, Direction::FromReporter, b"x");
        assert!(v
            .verify_envelope_digest(&case, 2, Direction::FromReporter, &sha256(b"x"), &e)
            .is_ok());
    }

    #[test]
    fn a_log_promise_is_bound_to_its_origin_and_leaf_and_is_no_note_signature() {
        let k = key(5);
        let v = k.verifying_key();
        let leaf = [4u8; 32];
        let sig = k.sign_log_promise("example.org/sotto", &leaf);
        assert!(v
            .verify_log_promise("example.org/sotto", &leaf, &sig)
            .is_ok());
        assert!(v
            .verify_log_promise("example.org/sotta", &leaf, &sig)
            .is_err());
        assert!(v
            .verify_log_promise("example.org/sotto", &[5; 32], &sig)
            .is_err());
        assert!(key(6)
            .verifying_key()
            .verify_log_promise("example.org/sotto", &leaf, &sig)
            .is_err());
        let message = log_promise_message("example.org/sotto", &leaf);
        assert!(v.verify_note(&message, &sig).is_ok(), "the same bytes");
        assert!(
            message.contains(&0),
            "a promise holds a NUL byte, which no note text may"
        );
        let note = k.sign_note(b"example.org/sotto\n3\nAAAA\n");
        assert!(v
            .verify_log_promise("example.org/sotto", &leaf, &note)
            .is_err());
    }

    #[test]
    fn a_roster_summary_is_bound_to_its_origin_and_body_and_is_no_promise() {
        let k = key(8);
        let v = k.verifying_key();
        let body = [7u8; 32];
        let sig = k.sign_log_rosters("example.org/sotto", &body);
        assert!(v
            .verify_log_rosters("example.org/sotto", &body, &sig)
            .is_ok());
        assert!(v
            .verify_log_rosters("example.org/sotta", &body, &sig)
            .is_err());
        assert!(v
            .verify_log_rosters("example.org/sotto", &[6; 32], &sig)
            .is_err());
        // The same 32 bytes signed as a promise are not a summary, nor the
        // reverse.
        assert!(v
            .verify_log_promise("example.org/sotto", &body, &sig)
            .is_err());
        let promise = k.sign_log_promise("example.org/sotto", &body);
        assert!(v
            .verify_log_rosters("example.org/sotto", &body, &promise)
            .is_err());
    }

    #[test]
    fn an_envelope_signature_verifies_only_in_its_own_place() {
        let k = key(7);
        let vk = k.verifying_key();
        let case = CaseId([1; 16]);
        let sig = k.sign_envelope(&case, 3, Direction::FromDesk, b"age file");
        assert!(vk
            .verify_envelope(&case, 3, Direction::FromDesk, b"age file", &sig)
            .is_ok());
        // Another case, another seq, the other side, another file: all refused.
        let other = CaseId([2; 16]);
        assert!(vk
            .verify_envelope(&other, 3, Direction::FromDesk, b"age file", &sig)
            .is_err());
        assert!(vk
            .verify_envelope(&case, 4, Direction::FromDesk, b"age file", &sig)
            .is_err());
        assert!(vk
            .verify_envelope(&case, 3, Direction::FromReporter, b"age file", &sig)
            .is_err());
        assert!(vk
            .verify_envelope(&case, 3, Direction::FromDesk, b"age filf", &sig)
            .is_err());
        assert!(key(8)
            .verifying_key()
            .verify_envelope(&case, 3, Direction::FromDesk, b"age file", &sig)
            .is_err());
    }

    #[test]
    fn a_request_signature_covers_method_path_time_and_body() {
        let k = key(9);
        let vk = k.verifying_key();
        let n = [5u8; 16];
        let sig = k.sign_request("POST", "/v1/cases/x/state", 1000, &n, b"{}");
        assert!(vk
            .verify_request("POST", "/v1/cases/x/state", 1000, &n, b"{}", &sig)
            .is_ok());
        assert!(vk
            .verify_request("GET", "/v1/cases/x/state", 1000, &n, b"{}", &sig)
            .is_err());
        assert!(vk
            .verify_request("POST", "/v1/cases/y/state", 1000, &n, b"{}", &sig)
            .is_err());
        assert!(vk
            .verify_request("POST", "/v1/cases/x/state", 1001, &n, b"{}", &sig)
            .is_err());
        assert!(vk
            .verify_request("POST", "/v1/cases/x/state", 1000, &[6; 16], b"{}", &sig)
            .is_err());
        assert!(vk
            .verify_request("POST", "/v1/cases/x/state", 1000, &n, b"{ }", &sig)
            .is_err());
        // Two requests alike but for the nonce carry different signatures.
        assert_ne!(
            sig,
            k.sign_request("POST", "/v1/cases/x/state", 1000, &[6; 16], b"{}")
        );
    }

    #[test]
    fn envelope_and_request_signatures_cannot_stand_in_for_each_other() {
        // Different labels: the same key never produces a signature valid in both contexts.
        let k = key(3);
        let case = CaseId([0; 16]);
        let sig = k.sign_envelope(&case, 0, Direction::FromReporter, b"");
        assert!(k
            .verifying_key()
            .verify_request("", "", 0, &[0; 16], b"", &sig)
            .is_err());
    }

    #[test]
    fn every_flipped_signature_bit_is_refused() {
        let k = key(5);
        let case = CaseId([9; 16]);
        let sig = k.sign_envelope(&case, 0, Direction::FromReporter, b"x");
        for i in 0..64 * 8 {
            let mut bad = sig;
            bad.0[i / 8] ^= 1 << (i % 8);
            assert!(k
                .verifying_key()
                .verify_envelope(&case, 0, Direction::FromReporter, b"x", &bad)
                .is_err());
        }
    }

    #[test]
    fn case_ids_round_trip_and_refuse_other_spellings() {
        let id = CaseId::generate();
        assert_eq!(CaseId::parse(&id.to_string()), Some(id));
        assert_eq!(CaseId::parse(&id.to_string().to_uppercase()), None);
        assert_eq!(CaseId::parse("abc"), None);
        assert_eq!(CaseId::parse(&"g".repeat(32)), None);
        assert_eq!(CaseId::parse(&"é".repeat(16)), None);
    }

    #[test]
    fn signing_keys_do_not_print_their_seed() {
        assert_eq!(format!("{:?}", key(1)), "SigningKey([redacted])");
    }
}
