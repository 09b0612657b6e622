//! Every domain-separation label, in one place so that none is reused.
//!
//! Each key derivation (HKDF `info`), keyed hash and signature context has its
//! own label, and each label carries a version: a future change of any
//! construction gets a new label instead of silently changing an old one.
//! docs/protocol.md lists the same table.

/// HKDF info: the reporter's handle, the only thing the server learns.
pub const TOKEN_HANDLE: &[u8] = b"sotto/v1/token/handle";
/// HKDF info: the reporter's X25519 (age) identity.
pub const TOKEN_X25519: &[u8] = b"sotto/v1/token/x25519";
/// HKDF info: the reporter's Ed25519 seed.
pub const TOKEN_ED25519: &[u8] = b"sotto/v1/token/ed25519";
/// Bech32m human-readable part of the token checksum (never shown).
pub const TOKEN_HRP: &str = "sotto-token-v1";

/// HKDF info: an ombudsperson's Ed25519 seed, derived from their age identity.
pub const RECIPIENT_ED25519: &[u8] = b"sotto/v1/recipient/ed25519";
/// Hash prefix: a recipient card's fingerprint and id.
pub const FINGERPRINT: &[u8] = b"sotto/v1/recipient/fingerprint";

/// Signature context: an envelope posted to a case.
pub const SIG_ENVELOPE: &[u8] = b"sotto/v1/sig/envelope";
/// Signature context: a case's thread shared with one more reader.
pub const SIG_SHARE: &[u8] = b"sotto/v1/sig/share";
/// Signature context: an ombudsperson's HTTP request.
pub const SIG_REQUEST: &[u8] = b"sotto/v1/sig/request";
/// Signature context: the log's promise that a leaf will be in its next
/// published checkpoint (signed by the log key; never a signed note).
pub const SIG_LOG_PROMISE: &[u8] = b"sotto/v1/sig/log-promise";
/// Signature context: the log's summary of its desks' rosters at one of its
/// checkpoints, for a client's first contact (signed by the log key; never
/// a signed note).
pub const SIG_LOG_ROSTERS: &[u8] = b"sotto/v1/sig/log-rosters";

/// HMAC-SHA256 message prefix: the keyed hash of a handle the server stores.
pub const HANDLE_HASH: &[u8] = b"sotto/v1/server/handle-hash";
/// HMAC-SHA256 message prefix, key = the pepper: the tag of an accepted
/// desk request's signature that the replay guard stores.
pub const REPLAY_TAG: &[u8] = b"sotto/v1/server/replay-tag";
/// Hash prefix: a case's entity tag, over its version as one asker sees it
/// (public: it hides nothing the asker does not already hold).
pub const CASE_TAG: &[u8] = b"sotto/v1/server/case-etag";
/// HKDF info: the server's key that authenticates proof-of-work challenges.
pub const SERVER_CHALLENGE_KEY: &[u8] = b"sotto/v1/server/challenge-key";
/// Hash prefix: a proof-of-work attempt.
pub const POW: &[u8] = b"sotto/v1/pow";
/// HKDF info: the Ed25519 seed of the key that signs the transparency log's
/// checkpoints (C2SP signed notes), derived from the server's secret. It
/// also signs promises ([`SIG_LOG_PROMISE`]) and roster summaries
/// ([`SIG_LOG_ROSTERS`]), whose messages can never be the text of a signed
/// note.
pub const SERVER_LOG_KEY: &[u8] = b"sotto/v1/server/log-ed25519";

/// Prefix of every transparency-log leaf (followed by `0x00`).
pub const LOG_LEAF: &[u8] = b"sotto/v1/log/leaf";
/// Hash prefix (followed by `0x00`): a desk's name in the log.
pub const LOG_DESK: &[u8] = b"sotto/v1/log/desk";
/// Hash prefix (followed by `0x00`): a recipient id in the log.
pub const LOG_RECIPIENT: &[u8] = b"sotto/v1/log/recipient";
/// Hash prefix (followed by `0x00`): a case id in the log.
pub const LOG_CASE: &[u8] = b"sotto/v1/log/case";
/// Hash prefix (followed by `0x00`): a message's place and envelope in the log.
pub const LOG_MESSAGE: &[u8] = b"sotto/v1/log/message";
/// Hash prefix (followed by `0x00`): the readers a case was encrypted to.
pub const LOG_READERS: &[u8] = b"sotto/v1/log/readers";
/// Hash prefix (followed by `0x00`): the reporter's public keys of a case.
pub const LOG_REPORTER: &[u8] = b"sotto/v1/log/reporter";

/// Magic at the start of every padded plaintext.
pub const PADDED_PLAINTEXT: &[u8] = b"sotto/v1/padded\n";
