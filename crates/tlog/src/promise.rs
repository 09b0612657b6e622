//! The log's promise to publish a leaf.
//!
//! A new case's opening is a leaf at once, but the checkpoint that covers
//! it is published only with the next batch (docs/transparency.md,
//! section 5). Until then the reporter holds a *promise*: the leaf, and an
//! Ed25519 signature by the log key over
//! `"sotto/v1/sig/log-promise" ‖ 0x00 ‖ len(origin) (u16 BE) ‖ origin ‖ leaf hash`.
//! It names no index and no tree size, so it dates nobody else's report;
//! once the batch is published, the full receipt (checkpoint, index,
//! inclusion proof) replaces it, and a promise the published log does not
//! keep is evidence against the log.

use sotto_envelope::sign::{Signature, SigningKey};

use crate::merkle::{self, Hash};
use crate::note::NoteVerifier;

/// A promise that does not verify with the log's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the log's promise does not verify with the log key")]
pub struct BadPromise;

/// Signs the promise that the log `origin` will publish `leaf`.
pub fn sign(key: &SigningKey, origin: &str, leaf: &[u8]) -> Signature {
    key.sign_log_promise(origin, &merkle::leaf_hash(leaf))
}

/// Checks a promise for `leaf` with the log's verifier key (whose name is
/// the origin); returns the leaf's hash.
pub fn verify(v: &NoteVerifier, leaf: &[u8], signature: &Signature) -> Result<Hash, BadPromise> {
    let hash = merkle::leaf_hash(leaf);
    v.key()
        .verify_log_promise(v.name(), &hash, signature)
        .map_err(|_| BadPromise)?;
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn key(b: u8) -> SigningKey {
        SigningKey::from_seed(Zeroizing::new([b; 32]))
    }

    #[test]
    fn a_promise_verifies_for_its_leaf_under_its_origin_only() {
        let k = key(1);
        let v = NoteVerifier::new("example.org/sotto", k.verifying_key()).unwrap();
        let sig = sign(&k, "example.org/sotto", b"a leaf");
        assert_eq!(
            verify(&v, b"a leaf", &sig),
            Ok(merkle::leaf_hash(b"a leaf"))
        );
        assert_eq!(verify(&v, b"a leag", &sig), Err(BadPromise));
        let elsewhere = NoteVerifier::new("example.org/other", k.verifying_key()).unwrap();
        assert_eq!(verify(&elsewhere, b"a leaf", &sig), Err(BadPromise));
        let other_key = NoteVerifier::new("example.org/sotto", key(2).verifying_key()).unwrap();
        assert_eq!(verify(&other_key, b"a leaf", &sig), Err(BadPromise));
    }

    #[test]
    fn a_promise_is_never_a_checkpoint_signature() {
        let k = key(3);
        let v = NoteVerifier::new("example.org/sotto", k.verifying_key()).unwrap();
        let sig = sign(&k, "example.org/sotto", b"a leaf");
        // However its bytes are framed as a note, a promise does not open.
        let note = format!(
            "example.org/sotto\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} example.org/sotto {}\n",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                [&v.id().to_be_bytes()[..], &sig.0[..]].concat()
            )
        );
        assert!(v.open(&note).is_err());
    }
}
