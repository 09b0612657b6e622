//! Errors, kept coarse on purpose: a caller learns which stage failed (the
//! stages the age spec names), never which byte or which check, so an error
//! message is no oracle for an attacker.

use thiserror::Error;

/// Why an age file could not be decrypted.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptError {
    /// The header is not a well-formed age v1 header (bad version line,
    /// malformed stanza, non-canonical base64, wrong sizes, bad MAC line).
    #[error("the envelope header is malformed")]
    InvalidHeader,
    /// The file key unwrapped, but the header MAC did not verify.
    #[error("the envelope header failed its integrity check")]
    InvalidMac,
    /// None of the given identities can open any stanza in the header.
    #[error("none of the given keys can open this envelope")]
    NoMatchingKeys,
    /// The payload is truncated, has trailing data, or failed authentication.
    #[error("the envelope payload is corrupt or truncated")]
    DecryptionFailed,
}

/// Why an age file could not be produced.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptError {
    /// An age file needs at least one recipient.
    #[error("an envelope needs at least one recipient")]
    NoRecipients,
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
