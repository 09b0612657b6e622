//! X25519 keys as age encodes them: recipients are Bech32 `age1…` strings and
//! identities `AGE-SECRET-KEY-1…` strings (age spec, "The X25519 recipient
//! type"), and the recipient stanza that wraps a file key to them.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use bech32::{Bech32, Hrp};
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{DecryptError, KeyError};
use crate::file_key::{FileKey, FILE_KEY_SIZE};
use crate::primitives::hkdf_sha256;
use crate::stanza::{decode_exact, write_stanza, Stanza, BASE64};

const RECIPIENT_HRP: &str = "age";
const IDENTITY_HRP: &str = "age-secret-key-";

/// An age X25519 recipient: the public key an envelope is encrypted to.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Recipient(pub(crate) x25519_dalek::PublicKey);

impl Recipient {
    /// Parses an `age1…` string (lowercase, Bech32, 32-byte payload).
    ///
    /// A low-order point is refused here too, not only when encrypting: it
    /// would make every shared secret zero, so nobody should be able to
    /// register one as a reporter's or an ombudsperson's key.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let bytes = decode_bech32(s, RECIPIENT_HRP).ok_or(KeyError::InvalidRecipient)?;
        // age recipients are always lowercase; refuse any other spelling so a
        // recipient has exactly one written form.
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(KeyError::InvalidRecipient);
        }
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::InvalidRecipient)?;
        let recipient = Self(bytes.into());
        if !recipient.is_contributory() {
            return Err(KeyError::InvalidRecipient);
        }
        Ok(recipient)
    }

    /// Whether a Diffie-Hellman with this point can yield a non-zero secret
    /// (false exactly for the small-order points).
    pub(crate) fn is_contributory(&self) -> bool {
        // Any clamped scalar works: a small-order point times it is the
        // identity, whatever the scalar.
        x25519_dalek::StaticSecret::from([0x42; 32])
            .diffie_hellman(&self.0)
            .was_contributory()
    }

    /// The raw 32-byte Montgomery u-coordinate.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// A recipient from its raw 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes.into())
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse_unchecked(RECIPIENT_HRP);
        let s = bech32::encode::<Bech32>(hrp, self.0.as_bytes()).map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({self})")
    }
}

impl FromStr for Recipient {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Self::parse(s)
    }
}

/// An age X25519 identity: the secret scalar that opens envelopes.
///
/// `Debug` prints `[redacted]`; the scalar is wiped when dropped.
#[derive(Clone)]
pub struct Identity(pub(crate) x25519_dalek::StaticSecret);

impl Identity {
    /// A fresh identity from the operating system's RNG.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        Self::from_secret_bytes(&bytes)
    }

    /// An identity from 32 secret bytes (derived keys use this).
    pub fn from_secret_bytes(bytes: &[u8; 32]) -> Self {
        Self(x25519_dalek::StaticSecret::from(*bytes))
    }

    /// The 32 secret bytes; the caller keeps them in a zeroizing buffer.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// Parses an `AGE-SECRET-KEY-1…` string (uppercase, as age writes it).
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        if s.bytes().any(|b| b.is_ascii_lowercase()) {
            return Err(KeyError::InvalidIdentity);
        }
        let bytes = Zeroizing::new(
            decode_bech32(&s.to_ascii_lowercase(), IDENTITY_HRP)
                .ok_or(KeyError::InvalidIdentity)?,
        );
        let bytes: &[u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::InvalidIdentity)?;
        Ok(Self::from_secret_bytes(bytes))
    }

    /// The `AGE-SECRET-KEY-1…` encoding, in a buffer wiped on drop.
    pub fn to_encoded(&self) -> Zeroizing<String> {
        let hrp = Hrp::parse_unchecked(IDENTITY_HRP);
        let secret = self.secret_bytes();
        let mut s = bech32::encode::<Bech32>(hrp, secret.as_ref()).unwrap_or_default();
        let upper = Zeroizing::new(s.to_ascii_uppercase());
        s.zeroize();
        upper
    }

    /// The recipient that envelopes for this identity are encrypted to.
    pub fn recipient(&self) -> Recipient {
        Recipient(x25519_dalek::PublicKey::from(&self.0))
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Identity([redacted])")
    }
}

/// Decodes a Bech32 (not Bech32m) string with the expected human-readable part.
fn decode_bech32(s: &str, expected_hrp: &str) -> Option<Vec<u8>> {
    let checked = bech32::primitives::decode::CheckedHrpstring::new::<Bech32>(s).ok()?;
    if checked.hrp().as_str() != expected_hrp {
        return None;
    }
    Some(checked.byte_iter().collect())
}

/// The first argument of an X25519 recipient stanza.
pub(crate) const STANZA_TAG: &str = "X25519";
/// HKDF info for the wrap key, fixed by the age spec (Sotto's own labels
/// live in [`crate::labels`]).
const WRAP_KEY_INFO: &[u8] = b"age-encryption.org/v1/X25519";
const TAG_SIZE: usize = 16;
/// The wrapped file key and its Poly1305 tag: exactly this long, or refused
/// before any decryption is tried (a partitioning-oracle defence the spec
/// requires).
const BODY_SIZE: usize = FILE_KEY_SIZE + TAG_SIZE;

/// An X25519 recipient stanza (age spec, "X25519 recipient stanza"):
///
/// ```text
/// -> X25519 base64(ephemeral share)
/// base64(body)
///
/// shared secret = X25519(ephemeral secret, recipient)
/// wrap key      = HKDF-SHA-256(ikm = shared secret,
///                              salt = ephemeral share || recipient,
///                              info = "age-encryption.org/v1/X25519")
/// body          = ChaCha20-Poly1305(key = wrap key, nonce = 0x00 * 12,
///                                   plaintext = file key)
/// ```
pub(crate) struct X25519Stanza {
    share: [u8; 32],
    body: [u8; BODY_SIZE],
}

impl X25519Stanza {
    /// Wraps `file_key` to `recipient` under a fresh ephemeral key; `None`
    /// when the recipient is a low-order point, whose shared secret is all
    /// zero and would let anyone unwrap the file key.
    pub(crate) fn wrap(file_key: &FileKey, recipient: &Recipient) -> Option<Self> {
        let ephemeral = x25519_dalek::EphemeralSecret::random_from_rng(OsRng);
        let share = x25519_dalek::PublicKey::from(&ephemeral);
        let shared = ephemeral.diffie_hellman(&recipient.0);
        if !shared.was_contributory() {
            return None;
        }
        let key = wrap_key(&shared, &share, &recipient.0);
        let mut body = [0u8; BODY_SIZE];
        let (sealed, tag) = body.split_at_mut(FILE_KEY_SIZE);
        sealed.copy_from_slice(file_key.as_ref());
        let aead = ChaCha20Poly1305::new(Key::from_slice(key.as_ref()));
        // Sealing 16 bytes cannot exceed ChaCha20-Poly1305's length limit.
        let computed = aead
            .encrypt_in_place_detached(&Nonce::default(), &[], sealed)
            .ok()?;
        tag.copy_from_slice(&computed);
        Some(Self {
            share: share.to_bytes(),
            body,
        })
    }

    /// Reads `stanza` as an X25519 stanza: `Ok(None)` when it is of another
    /// type (the spec says to skip those), an error when it is an X25519
    /// stanza that breaks the spec's rules (not exactly two arguments, a
    /// share that is not canonical base64 of 32 bytes, a body that is not
    /// exactly 32 bytes).
    pub(crate) fn parse(stanza: &Stanza<'_>) -> Result<Option<Self>, DecryptError> {
        let [tag, rest @ ..] = stanza.args.as_slice() else {
            return Ok(None);
        };
        if *tag != STANZA_TAG {
            return Ok(None);
        }
        let [share] = rest else {
            return Err(DecryptError::InvalidHeader);
        };
        let share = decode_exact::<32>(share.as_bytes())?;
        let body = stanza
            .body
            .as_slice()
            .try_into()
            .map_err(|_| DecryptError::InvalidHeader)?;
        Ok(Some(Self { share, body }))
    }

    /// Unwraps the file key with `identity`, whose recipient the caller
    /// computed once as `recipient`. `Ok(None)` when the stanza is not for
    /// this identity; an error when the shared secret is all zero, which the
    /// spec says must abort.
    pub(crate) fn unwrap(
        &self,
        identity: &Identity,
        recipient: &Recipient,
    ) -> Result<Option<FileKey>, DecryptError> {
        let share = x25519_dalek::PublicKey::from(self.share);
        let shared = identity.0.diffie_hellman(&share);
        if !shared.was_contributory() {
            return Err(DecryptError::InvalidHeader);
        }
        let key = wrap_key(&shared, &share, &recipient.0);
        let (sealed, tag) = self.body.split_at(FILE_KEY_SIZE);
        let mut file_key = FileKey::default();
        file_key.copy_from_slice(sealed);
        let aead = ChaCha20Poly1305::new(Key::from_slice(key.as_ref()));
        // A tag that does not verify means the stanza is someone else's.
        Ok(aead
            .decrypt_in_place_detached(
                &Nonce::default(),
                &[],
                file_key.as_mut(),
                Tag::from_slice(tag),
            )
            .ok()
            .map(|()| file_key))
    }

    /// Appends the stanza to a header being written.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let share = BASE64.encode(self.share);
        write_stanza(out, &[STANZA_TAG, &share], &self.body);
    }
}

/// `wrap key = HKDF-SHA-256(ikm = shared secret, salt = ephemeral share ||
/// recipient, info = "age-encryption.org/v1/X25519")`.
fn wrap_key(
    shared: &x25519_dalek::SharedSecret,
    share: &x25519_dalek::PublicKey,
    recipient: &x25519_dalek::PublicKey,
) -> Zeroizing<[u8; 32]> {
    let mut salt = [0u8; 64];
    let (first, second) = salt.split_at_mut(32);
    first.copy_from_slice(share.as_bytes());
    second.copy_from_slice(recipient.as_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf_sha256(shared.as_bytes(), &salt, WRAP_KEY_INFO, key.as_mut());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_round_trips_through_its_encoding() {
        let id = Identity::generate();
        let encoded = id.to_encoded();
        assert!(encoded.starts_with("AGE-SECRET-KEY-1"));
        let back = Identity::parse(&encoded).unwrap();
        assert_eq!(back.recipient(), id.recipient());
    }

    #[test]
    fn a_recipient_round_trips_through_its_encoding() {
        let r = Identity::generate().recipient();
        let s = r.to_string();
        assert!(s.starts_with("age1"));
        assert_eq!(Recipient::parse(&s).unwrap(), r);
    }

    #[test]
    fn a_recipient_with_one_changed_character_is_refused() {
        let s = Identity::generate().recipient().to_string();
        let mut bytes = s.into_bytes();
        let i = bytes.len() - 3;
        bytes[i] = if bytes[i] == b'q' { b'p' } else { b'q' };
        assert_eq!(
            Recipient::parse(std::str::from_utf8(&bytes).unwrap()),
            Err(KeyError::InvalidRecipient)
        );
    }

    #[test]
    fn a_low_order_recipient_does_not_parse() {
        // u = 0 and u = 1 are small-order points.
        for u in [[0u8; 32], {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        }] {
            let encoded = Recipient::from_bytes(u).to_string();
            assert_eq!(Recipient::parse(&encoded), Err(KeyError::InvalidRecipient));
        }
    }

    #[test]
    fn identities_do_not_print_their_secret() {
        let id = Identity::generate();
        assert_eq!(format!("{id:?}"), "Identity([redacted])");
    }

    #[test]
    fn a_lowercase_identity_and_an_uppercase_recipient_are_refused() {
        let id = Identity::generate();
        assert!(Identity::parse(&id.to_encoded().to_ascii_lowercase()).is_err());
        assert!(Recipient::parse(&id.recipient().to_string().to_ascii_uppercase()).is_err());
    }

    fn stanza<'a>(args: &[&'a str], body: &[u8]) -> Stanza<'a> {
        Stanza {
            args: args.to_vec(),
            body: body.to_vec(),
        }
    }

    #[test]
    fn a_wrapped_file_key_opens_only_for_its_identity() {
        let id = Identity::generate();
        let file_key = FileKey::new([9; FILE_KEY_SIZE]);
        let wrapped = X25519Stanza::wrap(&file_key, &id.recipient()).unwrap();
        let opened = wrapped.unwrap(&id, &id.recipient()).unwrap().unwrap();
        assert_eq!(*opened, *file_key);
        let other = Identity::generate();
        assert!(wrapped
            .unwrap(&other, &other.recipient())
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_written_stanza_reads_back() {
        let id = Identity::generate();
        let file_key = FileKey::new([3; FILE_KEY_SIZE]);
        let mut header = Vec::new();
        X25519Stanza::wrap(&file_key, &id.recipient())
            .unwrap()
            .write(&mut header);
        let text = std::str::from_utf8(&header).unwrap();
        let (args, body) = text.strip_prefix("-> ").unwrap().split_once('\n').unwrap();
        let args: Vec<&str> = args.split(' ').collect();
        let body = BASE64.decode(body.trim_end()).unwrap();
        let parsed = X25519Stanza::parse(&stanza(&args, &body)).unwrap().unwrap();
        assert_eq!(
            *parsed.unwrap(&id, &id.recipient()).unwrap().unwrap(),
            *file_key
        );
    }

    #[test]
    fn stanzas_of_other_types_are_skipped() {
        for args in [
            &["x25519", "AAAA"][..],
            &["scrypt", "salt", "10"],
            &["X25519-grease"],
        ] {
            assert!(X25519Stanza::parse(&stanza(args, &[0; 32]))
                .unwrap()
                .is_none());
        }
    }

    #[test]
    fn malformed_x25519_stanzas_are_header_failures() {
        let share = BASE64.encode([1u8; 32]);
        let short = BASE64.encode([1u8; 31]);
        let long = BASE64.encode([1u8; 33]);
        let cases: [(&[&str], usize); 6] = [
            (&["X25519"], 32),
            (&["X25519", &share, "extra"], 32),
            (&["X25519", &short], 32),
            (&["X25519", &long], 32),
            (&["X25519", &share], 31),
            (&["X25519", &share], 33),
        ];
        for (args, body_len) in cases {
            assert_eq!(
                X25519Stanza::parse(&stanza(args, &vec![0; body_len])).err(),
                Some(DecryptError::InvalidHeader),
                "{args:?} with a {body_len}-byte body"
            );
        }
    }

    #[test]
    fn a_low_order_share_is_a_header_failure() {
        let id = Identity::generate();
        let zero = BASE64.encode([0u8; 32]);
        let parsed = X25519Stanza::parse(&stanza(&["X25519", &zero], &[0; 32]))
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed.unwrap(&id, &id.recipient()).err(),
            Some(DecryptError::InvalidHeader)
        );
    }
}
