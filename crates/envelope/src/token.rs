//! The reporter's secret token and everything derived from it.
//!
//! A token is 128 bits from the operating system's RNG, made on the
//! reporter's device. It is written as 32 characters of the Bech32 alphabet
//! (no `1`, `b`, `i`, `o`), in groups of four:
//! `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`. The last six characters are a
//! Bech32m checksum (BIP-350) under the hidden prefix [`TOKEN_HRP`], which
//! detects any error in up to four characters: every single typo and every
//! swap of two neighbours. Parsing ignores case, spaces and dashes.
//!
//! From the 16 token bytes, HKDF-SHA256 (empty salt) derives, each under its
//! own label: the *handle* (32 bytes, the only value the server ever sees,
//! and it stores only a keyed hash of it), the reporter's X25519 identity,
//! and the reporter's Ed25519 seed.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32m, Hrp};
use rand::rngs::OsRng;
use rand::RngCore;
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::labels::{TOKEN_ED25519, TOKEN_HANDLE, TOKEN_HRP, TOKEN_X25519};
use crate::primitives::hkdf_sha256;
use crate::sign::SigningKey;
use crate::x25519::Identity;

/// Secret bytes in a token.
pub const TOKEN_BYTES: usize = 16;
/// Characters in a token, not counting dashes.
pub const TOKEN_CHARS: usize = 32;

/// Why a typed token was refused. Never echoes the token.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// A character outside the token alphabet.
    #[error("a token uses only 0, 2-9 and the letters a-z except b, i and o")]
    Character,
    /// Too few or too many characters.
    #[error("a token has exactly 32 characters (dashes and spaces do not count)")]
    Length,
    /// The checksum does not match: a typo somewhere.
    #[error("this token has a typo: check it character by character")]
    Checksum,
}

/// The reporter's secret token. `Debug` is redacted; wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Token([u8; TOKEN_BYTES]);

impl Token {
    /// A fresh token from the operating system's RNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// A token from its 16 secret bytes.
    pub fn from_bytes(bytes: [u8; TOKEN_BYTES]) -> Self {
        Self(bytes)
    }

    /// Parses a token as a person may have typed it back.
    pub fn parse(typed: &str) -> Result<Self, TokenError> {
        let mut compact = Zeroizing::new(String::with_capacity(TOKEN_HRP.len() + 1 + TOKEN_CHARS));
        compact.push_str(TOKEN_HRP);
        compact.push('1');
        let mut count = 0usize;
        for c in typed.chars() {
            if c.is_whitespace() || c == '-' {
                continue;
            }
            let c = c.to_ascii_lowercase();
            if !c.is_ascii() || bech32::Fe32::from_char(c).is_err() {
                return Err(TokenError::Character);
            }
            count += 1;
            if count > TOKEN_CHARS {
                return Err(TokenError::Length);
            }
            compact.push(c);
        }
        if count != TOKEN_CHARS {
            return Err(TokenError::Length);
        }
        let checked =
            CheckedHrpstring::new::<Bech32m>(&compact).map_err(|_| TokenError::Checksum)?;
        let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
        let mut n = 0usize;
        for b in checked.byte_iter() {
            *bytes.get_mut(n).ok_or(TokenError::Length)? = b;
            n += 1;
        }
        if n != TOKEN_BYTES {
            return Err(TokenError::Length);
        }
        let token = Self(*bytes);
        // 128 bits fill 26 characters with two spare bits: only one spelling
        // (spare bits zero) is valid, so re-encode and compare.
        if token.to_compact().as_str() != &compact[TOKEN_HRP.len() + 1..] {
            return Err(TokenError::Checksum);
        }
        Ok(token)
    }

    /// The 32 characters without dashes.
    fn to_compact(&self) -> Zeroizing<String> {
        let hrp = Hrp::parse_unchecked(TOKEN_HRP);
        let mut full = bech32::encode::<Bech32m>(hrp, &self.0).unwrap_or_default();
        let compact = Zeroizing::new(full.get(TOKEN_HRP.len() + 1..).unwrap_or("").to_owned());
        full.zeroize();
        compact
    }

    /// The written form, `xxxx-xxxx-…` in eight groups of four.
    pub fn to_display(&self) -> Zeroizing<String> {
        let compact = self.to_compact();
        let mut out = Zeroizing::new(String::with_capacity(TOKEN_CHARS + 7));
        for (i, c) in compact.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }

    fn derive(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        hkdf_sha256(&self.0, &[], label, out.as_mut());
        out
    }

    /// The handle: what the client sends, and all the server ever learns.
    pub fn handle(&self) -> Handle {
        Handle(*self.derive(TOKEN_HANDLE))
    }

    /// The reporter's age identity: replies are encrypted to its recipient.
    pub fn identity(&self) -> Identity {
        Identity::from_secret_bytes(&self.derive(TOKEN_X25519))
    }

    /// The reporter's Ed25519 key: it signs the report and every follow-up.
    pub fn signing_key(&self) -> SigningKey {
        SigningKey::from_seed(self.derive(TOKEN_ED25519))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Token {}

/// A reporter's handle: 32 bytes derived from the token.
///
/// It authenticates status polls and follow-ups, so it is a secret too:
/// `Debug` is redacted, equality is constant-time, and it is wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Handle([u8; 32]);

impl Handle {
    /// Parses the header form: base64url without padding, 43 characters.
    pub fn parse(s: &str) -> Option<Self> {
        let mut buf = [0u8; 33];
        let n = URL_SAFE_NO_PAD.decode_slice(s, &mut buf).ok()?;
        let handle = if n == 32 {
            let mut bytes = [0u8; 32];
            bytes.copy_from_slice(&buf[..32]);
            Some(Self(bytes))
        } else {
            None
        };
        buf.zeroize();
        handle
    }

    /// The header form.
    pub fn encode(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0))
    }

    /// The raw bytes, for the server's keyed hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handle([redacted])")
    }
}

impl PartialEq for Handle {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Handle {}

#[cfg(test)]
mod tests {
    use super::*;

    const ALPHABET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

    #[test]
    fn a_token_reads_back_from_its_written_form() {
        let t = Token::generate();
        let shown = t.to_display();
        assert_eq!(shown.len(), 39);
        assert_eq!(shown.matches('-').count(), 7);
        assert_eq!(Token::parse(&shown).unwrap(), t);
    }

    #[test]
    fn case_spaces_and_dashes_do_not_matter() {
        let t = Token::generate();
        let shown = t.to_display();
        let messy = format!("  {} ", shown.to_uppercase().replace('-', " - "));
        assert_eq!(Token::parse(&messy).unwrap(), t);
        assert_eq!(Token::parse(&shown.replace('-', "")).unwrap(), t);
    }

    #[test]
    fn a_token_with_one_wrong_character_is_rejected() {
        // Every position, every other character of the alphabet.
        for _ in 0..8 {
            let t = Token::generate();
            let compact: Vec<char> = t.to_display().replace('-', "").chars().collect();
            for pos in 0..compact.len() {
                for c in ALPHABET.chars().filter(|&c| c != compact[pos]) {
                    let mut typo = compact.clone();
                    typo[pos] = c;
                    let typo: String = typo.into_iter().collect();
                    assert!(Token::parse(&typo).is_err(), "typo at {pos} accepted");
                }
            }
        }
    }

    #[test]
    fn two_swapped_neighbours_are_rejected() {
        let t = Token::generate();
        let compact: Vec<char> = t.to_display().replace('-', "").chars().collect();
        for pos in 0..compact.len() - 1 {
            if compact[pos] == compact[pos + 1] {
                continue;
            }
            let mut swapped = compact.clone();
            swapped.swap(pos, pos + 1);
            let swapped: String = swapped.into_iter().collect();
            assert_eq!(Token::parse(&swapped), Err(TokenError::Checksum));
        }
    }

    #[test]
    fn wrong_lengths_and_characters_get_their_own_errors() {
        let shown = Token::generate().to_display().replace('-', "");
        assert_eq!(Token::parse(&shown[..31]), Err(TokenError::Length));
        assert_eq!(Token::parse(&format!("{shown}q")), Err(TokenError::Length));
        assert_eq!(Token::parse(""), Err(TokenError::Length));
        assert_eq!(
            Token::parse(&format!("b{}", &shown[1..])),
            Err(TokenError::Character)
        );
        assert_eq!(Token::parse("é"), Err(TokenError::Character));
    }

    #[test]
    fn derived_values_differ_from_each_other_and_between_tokens() {
        let a = Token::from_bytes([1; 16]);
        let b = Token::from_bytes([2; 16]);
        assert_ne!(a.handle(), b.handle());
        assert_ne!(a.identity().recipient(), b.identity().recipient());
        assert_ne!(
            a.signing_key().verifying_key(),
            b.signing_key().verifying_key()
        );
        // Handle, X25519 and Ed25519 come from different labels.
        let h = *a.handle().as_bytes();
        assert_ne!(&h, a.identity().secret_bytes().as_ref());
        assert_ne!(h, a.signing_key().verifying_key().0);
    }

    #[test]
    fn derivations_are_pinned() {
        // Known answers: a change of label or construction must show up here
        // (and in docs/protocol.md), since every existing token depends on it.
        let t = Token::from_bytes(*b"sotto test token");
        assert_eq!(t.to_display().as_str(), KNOWN_DISPLAY);
        assert_eq!(t.handle().encode().as_str(), KNOWN_HANDLE);
        assert_eq!(t.identity().recipient().to_string(), KNOWN_RECIPIENT);
        assert_eq!(t.signing_key().verifying_key().to_string(), KNOWN_ED25519);
    }

    // Computed independently (Python: stdlib HKDF, `cryptography` X25519 and
    // Ed25519, a reference Bech32m encoder), not by this code.
    const KNOWN_DISPLAY: &str = "wdhh-gar0-yp6x-2um5-yp6x-76m9-dcah-0lpv";
    const KNOWN_HANDLE: &str = "HNPFqm_LHPQtnGBiHYTTqlov7At-T2z6yVgT1hHLVm8";
    const KNOWN_RECIPIENT: &str = "age1ty2f2937fm7a2288s99ftwfzl2adhs3fyulhcsjsjclylh9vcvfq5e4y25";
    const KNOWN_ED25519: &str = "HnObglcq-94r_F7BQqU0sPO2Wu13SVXh454Nkq34YJY";

    #[test]
    fn handles_parse_only_their_exact_form() {
        let h = Token::generate().handle();
        assert!(Handle::parse(&h.encode()).is_some_and(|p| p == h));
        assert!(Handle::parse("").is_none());
        assert!(Handle::parse(&h.encode()[..42]).is_none());
        assert!(Handle::parse(&format!("{}AA", h.encode().as_str())).is_none());
        assert!(Handle::parse("!!!").is_none());
    }

    #[test]
    fn secrets_do_not_print() {
        let t = Token::generate();
        assert_eq!(format!("{t:?}"), "Token([redacted])");
        assert_eq!(format!("{:?}", t.handle()), "Handle([redacted])");
    }
}
