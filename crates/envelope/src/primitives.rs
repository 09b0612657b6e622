//! The hash and key derivation every other module builds on: SHA-256 and
//! HKDF-SHA-256, both from ring. Each caller brings its own label (see
//! [`crate::labels`]) or the age spec's fixed HKDF info.

/// SHA-256 of `data`: envelopes are signed and bound to proofs of work by it.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// HKDF-SHA256 (RFC 5869): fills `out` with key material from `ikm`, under
/// `salt` and the context `info`.
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
