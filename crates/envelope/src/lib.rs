//! Sotto's cryptography, pure: no I/O, no clock, no network.
//!
//! - [`format`](mod@format): the age v1 file format (header, stanzas, header MAC) with
//!   X25519 recipients, encode and decode.
//! - [`stream`]: the age STREAM payload (ChaCha20-Poly1305, 64 KiB chunks).
//! - [`x25519`]: age X25519 keys and their `age1…` / `AGE-SECRET-KEY-1…` forms,
//!   and the stanza that wraps a file key to one of them.
//! - `stanza` (internal): the recipient stanza's grammar and the header's
//!   canonical base64, below both `format` and `x25519`.
//! - `file_key` (internal): the 16-byte file key a stanza wraps, from which
//!   the header MAC key and the payload key derive.
//! - [`token`]: the reporter's secret token, its human encoding, and what is
//!   derived from it (handle, X25519 identity, Ed25519 key).
//! - [`keys`]: the ombudsperson's identity file, signing key and recipient card.
//! - [`sign`]: Ed25519 signatures over envelopes and desk requests, each
//!   under its own versioned context.
//! - [`pad`]: the padding that hides a message's exact length.
//! - [`pow`]: the hashcash proof of work bound to a submission.
//! - [`error`]: coarse, documented errors.
//!
//! Every key derivation and signature has its own label, listed in [`labels`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
mod file_key;
pub mod format;
pub mod keys;
pub mod labels;
pub mod pad;
pub mod pow;
pub mod sign;
mod stanza;
pub mod stream;
pub mod token;
pub mod x25519;

pub use error::{DecryptError, EncryptError, KeyError};
pub use format::{decrypt, decrypt_into, encrypt, inspect};
pub use x25519::{Identity, Recipient};

/// SHA-256 of `data`: envelopes are signed and bound to proofs of work by it.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// HKDF-SHA256 with an empty salt: `len` bytes of output keyed by `ikm`
/// under the context `info` (RFC 5869).
pub(crate) fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) {
    struct Len(usize);
    impl ring::hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    // `expand` and `fill` fail only when the length exceeds 255 hash blocks;
    // every caller asks for at most 64 bytes.
    if let Ok(okm) = prk.expand(&info, Len(out.len())) {
        if okm.fill(out).is_ok() {
            return;
        }
    }
    unreachable!("HKDF output lengths here are at most 64 bytes");
}
