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
//! - `primitives` (internal): [`sha256`] and HKDF-SHA-256, below every
//!   module that hashes or derives a key.
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
mod primitives;
pub mod sign;
mod stanza;
pub mod stream;
pub mod token;
pub mod x25519;

pub use error::{DecryptError, EncryptError, KeyError};
pub use format::{decrypt, decrypt_into, encrypt, inspect, MAX_STANZAS};
pub use primitives::sha256;
pub use x25519::{Identity, Recipient};
