//! Errors, kept coarse on purpose: a caller learns which stage failed (the
//! stages the age spec names), never which byte or which check, so an error
//! message is no oracle for an attacker.

use thiserror::Error;

/// Why an age file could not be decrypted.
///
/// The variants are the stages the age spec and its test vectors name.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptError {
    /// The header is not a well-formed age v1 header: an unsupported version,
    /// a line that breaks the grammar, non-canonical base64, a malformed
    /// X25519 stanza (argument count, share or body size), an all-zero X25519
    /// shared secret, an scrypt stanza beside other stanzas, or a missing or
    /// short payload nonce.
    #[error("the envelope header is malformed")]
    InvalidHeader,
    /// A file key unwrapped, but the header MAC did not verify: the header
    /// was changed after it was written.
    #[error("the envelope header failed its integrity check")]
    InvalidMac,
    /// None of the given identities opens any X25519 stanza in the header
    /// (also when the header has no X25519 stanza, or no identity is given).
    #[error("none of the given keys can open this envelope")]
    NoMatchingKeys,
    /// The payload is corrupt: a chunk failed authentication, the final
    /// chunk is missing (truncation) or empty after a full chunk, or data
    /// follows it. [`decrypt_into`](crate::decrypt_into) keeps the chunks
    /// that authenticated before the failure; [`decrypt`](crate::decrypt)
    /// returns nothing.
    #[error("the envelope payload is corrupt or truncated")]
    DecryptionFailed,
    /// The header has more stanzas than the reader accepts
    /// ([`MAX_STANZAS`](crate::format::MAX_STANZAS), or the limit given to
    /// [`inspect`](crate::inspect)). Reading stopped there, before the
    /// extra stanza was parsed.
    #[error("the envelope has more recipients than allowed")]
    TooManyStanzas,
}

/// Why an age file could not be produced.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptError {
    /// An age file needs at least one recipient.
    #[error("an envelope needs at least one recipient")]
    NoRecipients,
    /// A recipient is a low-order X25519 point: the shared secret with it is
    /// all zero, so anyone could unwrap the file key, and nobody could open
    /// the stanza with a real identity. `Recipient::parse` accepts any 32
    /// bytes, so encryption is where this is caught.
    #[error("a recipient key is not a usable X25519 public key")]
    InvalidRecipient,
}

/// Why a key, card or token string was refused.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not an `age1…` X25519 recipient.
    #[error("not a valid age recipient (expected age1…)")]
    InvalidRecipient,
    /// Not an `AGE-SECRET-KEY-1…` X25519 identity.
    #[error("not a valid age identity (expected AGE-SECRET-KEY-1…)")]
    InvalidIdentity,
    /// No identity line in an identity file, or more than one.
    #[error("the identity file must hold exactly one AGE-SECRET-KEY-1… line")]
    InvalidIdentityFile,
    /// Not a 32-byte Ed25519 public key in base64url.
    #[error("not a valid Ed25519 public key")]
    InvalidSigningKey,
    /// Not a well-formed recipient card line.
    #[error("not a valid recipient card (expected: sotto-card-v1 age1… ed25519:… name)")]
    InvalidCard,
    /// A display name that is empty, too long, or holds control characters.
    #[error("a display name must be 1 to 64 printable characters")]
    InvalidName,
}
