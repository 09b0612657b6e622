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
//! - [`bounded`]: lists in requests that stop at a limit while parsed.

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

/// The most readers a desk may have, and a case (those it opened with and
/// those it was shared with); a report, a share or an escalation names at
/// most this many.
pub const MAX_READERS: usize = 64;

/// Lists in request bodies with a most length, refused at the first
/// element past it: parsing a list costs no more than the limit allows,
/// whatever the body holds.
pub mod bounded {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{Deserialize, Deserializer, Error, SeqAccess, Visitor};

    struct AtMost<T, const N: usize>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for AtMost<T, N> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a list of at most {N} items")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(N));
            while let Some(item) = seq.next_element()? {
                if out.len() == N {
                    return Err(A::Error::custom(format!(
                        "a list of at most {N} items was expected"
                    )));
                }
                out.push(item);
            }
            Ok(out)
        }
    }

    /// A list of at most [`MAX_READERS`](crate::MAX_READERS) items.
    pub fn readers<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(AtMost::<T, { crate::MAX_READERS }>(PhantomData))
    }

    #[cfg(test)]
    mod tests {
        #[derive(Debug, serde::Deserialize)]
        struct List {
            #[serde(deserialize_with = "super::readers")]
            items: Vec<u8>,
        }

        #[test]
        fn a_list_past_the_limit_is_refused_at_the_first_item_too_many() {
            let at = format!("{{\"items\":[{}]}}", vec!["1"; 64].join(","));
            assert_eq!(serde_json::from_str::<List>(&at).unwrap().items.len(), 64);
            let past = format!("{{\"items\":[{}]}}", vec!["1"; 65].join(","));
            let e = serde_json::from_str::<List>(&past).unwrap_err();
            assert!(e.to_string().contains("at most 64"), "{e}");
            // Refused where the 65th item is, not after the whole body.
            let huge = format!("{{\"items\":[{}", vec!["1"; 1_000_000].join(","));
            let e = serde_json::from_str::<List>(&huge).unwrap_err();
            assert!(e.to_string().contains("at most 64"), "{e}");
        }
    }
}

/// Bytes as standard base64 in JSON.
pub mod b64 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as base64, written straight into the output: no
    /// string of the whole encoding is made first (an envelope of 16 MiB
    /// would make one of 22 MB per answer).
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&base64::display::Base64Display::new(bytes, &STANDARD))
    }

    /// Deserializes base64 into bytes, refusing anything else.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map_err(|_| serde::de::Error::custom("expected standard base64"))
    }

    /// The same for a field that may be absent.
    pub mod optional {
        use serde::{Deserialize, Deserializer, Serializer};

        /// Serializes bytes as base64, or null.
        pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(b) => super::serialize(b, s),
                None => s.serialize_none(),
            }
        }

        /// Deserializes base64 or null.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            #[derive(Deserialize)]
            struct Wrapped(#[serde(deserialize_with = "super::deserialize")] Vec<u8>);
            Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
        }
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
