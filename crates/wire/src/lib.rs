//! What Sotto's server and clients exchange, in one place so they cannot
//! drift apart.
//!
//! - [`api`]: the JSON bodies of the `/v1` HTTP API and its header names.
//! - [`content`]: what an envelope holds once decrypted (the server never
//!   sees these).
//! - [`day`]: UTC calendar days, the only dates Sotto keeps.
//! - [`resources`]: a desk's referral directory of support organisations.
//! - [`state`]: the states a case moves through.
//! - `sql` (feature `sql`, for the store): days and states as SQLite
//!   columns, in the same text as on the wire.
//! - [`b64`] and [`hashes`]: how bytes and lists of hashes look in JSON.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod content;
pub mod day;
pub mod resources;
#[cfg(feature = "sql")]
mod sql;
pub mod state;

pub use day::Day;
pub use state::CaseState;

/// Bytes as standard base64 in JSON.
pub mod b64 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    /// Deserializes base64 into bytes, refusing anything else.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map_err(|_| serde::de::Error::custom("expected standard base64"))
    }
}

/// Lists of 32-byte hashes as standard base64 strings in JSON.
pub mod hashes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes hashes as base64 strings.
    pub fn serialize<S: Serializer>(hashes: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(hashes.iter().map(|h| STANDARD.encode(h)))
    }

    /// Deserializes base64 strings of exactly 32 bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let strings = Vec::<String>::deserialize(d)?;
        strings
            .iter()
            .map(|s| {
                STANDARD
                    .decode(s.as_bytes())
                    .ok()
                    .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
                    .ok_or_else(|| serde::de::Error::custom("expected base64 of 32 bytes"))
            })
            .collect()
    }
}
