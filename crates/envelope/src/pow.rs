//! Hashcash proof of work, bound to one submission.
//!
//! The server issues a challenge: `version (1) ‖ case id (16) ‖ expiry (u64
//! BE, Unix seconds) ‖ difficulty (1) ‖ len(desk) (u16 BE) ‖ desk`, followed by
//! an HMAC-SHA256 tag under a key derived from the server's secret, all in
//! base64url. The client then finds a nonce such that
//! `SHA-256("sotto/v1/pow" ‖ 0x00 ‖ challenge string ‖ SHA-256(envelope) ‖ nonce (u64 BE))`
//! starts with `difficulty` zero bits. The work is bound to the envelope (it
//! cannot be reused for another one) and the challenge to one fresh case id
//! (so one challenge opens at most one case); the challenge itself stores
//! nothing on the server.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::labels::{POW, SERVER_CHALLENGE_KEY};
use crate::primitives::{hkdf_sha256, sha256};
use crate::sign::CaseId;

const VERSION: u8 = 1;
const TAG_LEN: usize = 32;
/// The hardest difficulty accepted: beyond it a client could spin for hours.
pub const MAX_DIFFICULTY: u8 = 32;

/// A challenge that was forged, altered or mangled.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("the proof-of-work challenge is not one this server issued")]
pub struct InvalidChallenge;

/// What a challenge says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The case id the submission must use.
    pub case: CaseId,
    /// Unix time after which the challenge is refused.
    pub expires: u64,
    /// Leading zero bits required.
    pub difficulty: u8,
    /// The desk the submission must go to.
    pub desk: String,
}

/// The server's key for challenges. `Debug` is redacted.
pub struct ChallengeKey(hmac::Key);

impl ChallengeKey {
    /// Derives the key from the server's 32-byte secret.
    pub fn derive(server_secret: &[u8; 32]) -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        hkdf_sha256(server_secret, &[], SERVER_CHALLENGE_KEY, k.as_mut());
        Self(hmac::Key::new(hmac::HMAC_SHA256, k.as_ref()))
    }

    /// Encodes and authenticates a challenge. Desk names longer than 65535
    /// bytes cannot be bound and are refused (the schema allows 64 characters).
    pub fn issue(&self, c: &Challenge) -> Result<String, InvalidChallenge> {
        let desk_len = u16::try_from(c.desk.len()).map_err(|_| InvalidChallenge)?;
        let mut body = Vec::with_capacity(27 + c.desk.len() + TAG_LEN);
        body.push(VERSION);
        body.extend_from_slice(&c.case.0);
        body.extend_from_slice(&c.expires.to_be_bytes());
        body.push(c.difficulty);
        body.extend_from_slice(&desk_len.to_be_bytes());
        body.extend_from_slice(c.desk.as_bytes());
        let tag = hmac::sign(&self.0, &body);
        body.extend_from_slice(tag.as_ref());
        Ok(URL_SAFE_NO_PAD.encode(body))
    }

    /// Checks the tag (in constant time) and decodes a challenge.
    pub fn open(&self, s: &str) -> Result<Challenge, InvalidChallenge> {
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| InvalidChallenge)?;
        let split = raw.len().checked_sub(TAG_LEN).ok_or(InvalidChallenge)?;
        let (body, tag) = raw.split_at(split);
        hmac::verify(&self.0, body, tag).map_err(|_| InvalidChallenge)?;
        let (&version, rest) = body.split_first().ok_or(InvalidChallenge)?;
        let (case, rest) = rest.split_first_chunk::<16>().ok_or(InvalidChallenge)?;
        let (expires, rest) = rest.split_first_chunk::<8>().ok_or(InvalidChallenge)?;
        let (&difficulty, rest) = rest.split_first().ok_or(InvalidChallenge)?;
        let (desk_len, desk) = rest.split_first_chunk::<2>().ok_or(InvalidChallenge)?;
        let desk_len = u16::from_be_bytes(*desk_len);
        if version != VERSION || desk.len() != usize::from(desk_len) {
            return Err(InvalidChallenge);
        }
        Ok(Challenge {
            case: CaseId(*case),
            expires: u64::from_be_bytes(*expires),
            difficulty,
            desk: String::from_utf8(desk.to_vec()).map_err(|_| InvalidChallenge)?,
        })
    }
}

impl std::fmt::Debug for ChallengeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChallengeKey([redacted])")
    }
}

fn attempt(challenge: &str, envelope_hash: &[u8; 32], nonce: u64) -> [u8; 32] {
    let mut m = Vec::with_capacity(POW.len() + 1 + challenge.len() + 40);
    m.extend_from_slice(POW);
    m.push(0);
    m.extend_from_slice(challenge.as_bytes());
    m.extend_from_slice(envelope_hash);
    m.extend_from_slice(&nonce.to_be_bytes());
    sha256(&m)
}

fn leading_zero_bits(digest: &[u8; 32]) -> u32 {
    let mut bits = 0;
    for &b in digest {
        bits += b.leading_zeros();
        if b != 0 {
            break;
        }
    }
    bits
}

/// Finds a nonce for `challenge` and the envelope's SHA-256.
///
/// Expected work is 2^difficulty hashes; difficulties above
/// [`MAX_DIFFICULTY`] are refused rather than searched.
pub fn solve(challenge: &str, envelope_hash: &[u8; 32], difficulty: u8) -> Option<u64> {
    if difficulty > MAX_DIFFICULTY {
        return None;
    }
    (0..u64::MAX).find(|&n| {
        leading_zero_bits(&attempt(challenge, envelope_hash, n)) >= u32::from(difficulty)
    })
}

/// Whether `nonce` is a valid proof for `challenge` and the envelope's SHA-256.
pub fn verify(challenge: &str, envelope_hash: &[u8; 32], difficulty: u8, nonce: u64) -> bool {
    leading_zero_bits(&attempt(challenge, envelope_hash, nonce)) >= u32::from(difficulty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ChallengeKey {
        ChallengeKey::derive(&[42; 32])
    }

    fn sample() -> Challenge {
        Challenge {
            case: CaseId([7; 16]),
            expires: 1_800_000_000,
            difficulty: 8,
            desk: "default".into(),
        }
    }

    #[test]
    fn an_issued_challenge_opens_to_what_was_issued() {
        let s = key().issue(&sample()).unwrap();
        assert_eq!(key().open(&s).unwrap(), sample());
    }

    #[test]
    fn a_challenge_from_another_server_or_altered_is_refused() {
        let s = key().issue(&sample()).unwrap();
        assert!(ChallengeKey::derive(&[43; 32]).open(&s).is_err());
        let mut raw = URL_SAFE_NO_PAD.decode(&s).unwrap();
        for i in 0..raw.len() {
            raw[i] ^= 0x40;
            assert!(
                key().open(&URL_SAFE_NO_PAD.encode(&raw)).is_err(),
                "byte {i}"
            );
            raw[i] ^= 0x40;
        }
        assert!(key().open("").is_err());
        assert!(key().open("not base64 !").is_err());
    }

    #[test]
    fn a_solution_is_bound_to_its_envelope_and_challenge() {
        let s = key().issue(&sample()).unwrap();
        let h = sha256(b"envelope");
        let n = solve(&s, &h, 8).unwrap();
        assert!(verify(&s, &h, 8, n));
        // The same nonce almost surely fails for another envelope or challenge;
        // check with a difficulty where a chance pass is 2^-16.
        let n16 = solve(&s, &h, 16).unwrap();
        assert!(verify(&s, &h, 16, n16));
        assert!(!verify(&s, &sha256(b"other"), 16, n16));
        let other = key()
            .issue(&Challenge {
                case: CaseId([8; 16]),
                ..sample()
            })
            .unwrap();
        assert!(!verify(&other, &h, 16, n16));
    }

    #[test]
    fn an_impossible_difficulty_is_refused_not_searched() {
        assert_eq!(solve("x", &[0; 32], MAX_DIFFICULTY + 1), None);
    }
}
