//! The age payload: STREAM over ChaCha20-Poly1305 (age spec, "Payload").
//!
//! ```text
//! payload key = HKDF-SHA-256(ikm = file key, salt = nonce, info = "payload")
//! chunk i     = ChaCha20-Poly1305(payload key, nonce = i (11 bytes, big endian) || last,
//!                                 plaintext[i * 64 KiB .. (i + 1) * 64 KiB])
//! ```
//!
//! `last` is `0x01` on the final chunk and `0x00` before it. The final chunk
//! may be shorter than 64 KiB but is empty only when the whole plaintext is.
//! The whole file is in memory here, but decryption keeps the streaming rules:
//! a chunk is released only once it authenticates, and a failure after some
//! chunks leaves exactly those chunks released.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use zeroize::Zeroizing;

use crate::error::DecryptError;
use crate::file_key::FileKey;
use crate::primitives::hkdf_sha256;

/// Size of the random nonce that starts the payload.
pub(crate) const NONCE_SIZE: usize = 16;
/// Plaintext bytes per chunk.
pub(crate) const CHUNK_SIZE: usize = 64 * 1024;
const TAG_SIZE: usize = 16;
const ENCRYPTED_CHUNK_SIZE: usize = CHUNK_SIZE + TAG_SIZE;

/// HKDF info for the payload key, fixed by the age spec (Sotto's own labels
/// live in [`crate::labels`]).
const PAYLOAD_KEY_INFO: &[u8] = b"payload";

/// Whether `len` bytes after the nonce can be a STREAM payload: full
/// chunks, then one final chunk that is empty only if it is the only one.
/// Checkable without the key, so a server can refuse a truncated envelope.
pub(crate) fn is_valid_sealed_len(len: usize) -> bool {
    if len < TAG_SIZE {
        return false;
    }
    let last = match len % ENCRYPTED_CHUNK_SIZE {
        0 => ENCRYPTED_CHUNK_SIZE,
        r => r,
    };
    // A final chunk of just a tag (empty) must be the whole payload.
    last >= TAG_SIZE && (last > TAG_SIZE || len == TAG_SIZE)
}

/// `payload key = HKDF-SHA-256(ikm = file key, salt = nonce, info = "payload")`.
pub(crate) fn payload_key(file_key: &FileKey, nonce: &[u8; NONCE_SIZE]) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf_sha256(file_key.as_ref(), nonce, PAYLOAD_KEY_INFO, key.as_mut());
    key
}

/// Length of the sealed payload (without its nonce) for `plaintext_len` bytes.
pub(crate) fn sealed_len(plaintext_len: usize) -> usize {
    // An empty plaintext still has one (empty, final) chunk.
    let chunks = plaintext_len.div_ceil(CHUNK_SIZE).max(1);
    plaintext_len.saturating_add(chunks.saturating_mul(TAG_SIZE))
}

/// The 12-byte ChaCha20-Poly1305 nonce of chunk `counter`.
fn chunk_nonce(counter: u64, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    // The spec's counter is 11 bytes; its top three bytes stay zero, as no
    // in-memory payload comes near 2^64 chunks.
    nonce[3..11].copy_from_slice(&counter.to_be_bytes());
    nonce[11] = u8::from(last);
    nonce.into()
}

/// Encrypts `plaintext` under `key`, appending the chunks to `out`.
pub(crate) fn seal(key: &[u8; 32], plaintext: &[u8], out: &mut Vec<u8>) {
    let aead = ChaCha20Poly1305::new(Key::from_slice(key));
    out.reserve(sealed_len(plaintext.len()));
    let chunk_count = plaintext.len().div_ceil(CHUNK_SIZE).max(1);
    // `chunks` yields nothing for an empty plaintext, which still needs its
    // one empty final chunk.
    let chunks = plaintext
        .chunks(CHUNK_SIZE)
        .chain(plaintext.is_empty().then_some(&[][..]));
    for (i, chunk) in chunks.enumerate() {
        let last = i + 1 == chunk_count;
        let start = out.len();
        out.extend_from_slice(chunk);
        // `start` is the length before this chunk, so the range is in bounds.
        let nonce = chunk_nonce(i as u64, last);
        match aead.encrypt_in_place_detached(&nonce, &[], &mut out[start..]) {
            Ok(tag) => out.extend_from_slice(&tag),
            // ChaCha20-Poly1305 refuses only messages of 256 GiB or more;
            // a chunk is 64 KiB.
            Err(_) => unreachable!("a 64 KiB chunk is within ChaCha20-Poly1305's limit"),
        }
    }
}

/// Decrypts the chunks in `ciphertext` (the payload after its nonce) under
/// `key`, appending each chunk's plaintext to `out` once it authenticates.
///
/// Fails with [`DecryptError::DecryptionFailed`] when a chunk does not
/// authenticate, when there is no final chunk, when a final chunk after the
/// first is empty, or when data follows the final chunk; `out` then holds the
/// chunks that authenticated before the failure.
pub(crate) fn open(
    key: &[u8; 32],
    ciphertext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), DecryptError> {
    let aead = ChaCha20Poly1305::new(Key::from_slice(key));
    // Plaintext is decrypted here and copied to `out` only once its tag
    // verifies, so `out` never holds unauthenticated bytes.
    let mut scratch = Zeroizing::new(Vec::with_capacity(CHUNK_SIZE));
    let mut chunks = ciphertext.chunks(ENCRYPTED_CHUNK_SIZE).peekable();
    let mut counter: u64 = 0;
    loop {
        // Running out of chunks before a final one means a truncated file.
        let chunk = chunks.next().ok_or(DecryptError::DecryptionFailed)?;
        let more = chunks.peek().is_some();
        let (body, tag) = chunk
            .split_last_chunk::<TAG_SIZE>()
            .ok_or(DecryptError::DecryptionFailed)?;
        let tag = Tag::from(*tag);

        // The nonce says whether a chunk is final, so a full-size chunk is
        // tried both ways, the likelier first; a short one can only be final.
        // A full chunk that ends the file but is not final still opens, so it
        // is released before the truncation is reported, as by a streaming
        // reader (the CCTV vectors expect exactly that plaintext).
        let flags: &[bool] = match (chunk.len() == ENCRYPTED_CHUNK_SIZE, more) {
            (false, _) => &[true],
            (true, true) => &[false, true],
            (true, false) => &[true, false],
        };
        let mut opened = None;
        for &last in flags {
            scratch.clear();
            scratch.extend_from_slice(body);
            let nonce = chunk_nonce(counter, last);
            if aead
                .decrypt_in_place_detached(&nonce, &[], scratch.as_mut_slice(), &tag)
                .is_ok()
            {
                opened = Some(last);
                break;
            }
        }
        let last = opened.ok_or(DecryptError::DecryptionFailed)?;
        if last && scratch.is_empty() && counter != 0 {
            return Err(DecryptError::DecryptionFailed);
        }
        out.extend_from_slice(&scratch);
        if last {
            // The final chunk authenticated, so it is released; anything after
            // it is still an error, as a streaming reader would find.
            return if more {
                Err(DecryptError::DecryptionFailed)
            } else {
                Ok(())
            };
        }
        counter = counter
            .checked_add(1)
            .ok_or(DecryptError::DecryptionFailed)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn sealed(plaintext: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        seal(&KEY, plaintext, &mut out);
        out
    }

    fn opened(ciphertext: &[u8]) -> (Result<(), DecryptError>, Vec<u8>) {
        let mut out = Vec::new();
        let result = open(&KEY, ciphertext, &mut out);
        (result, out)
    }

    fn message(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn payloads_of_every_chunk_shape_round_trip() {
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            2 * CHUNK_SIZE,
            3 * CHUNK_SIZE + 5,
        ] {
            let plaintext = message(len);
            let ciphertext = sealed(&plaintext);
            assert_eq!(ciphertext.len(), sealed_len(len), "length of {len}");
            assert_eq!(
                opened(&ciphertext),
                (Ok(()), plaintext),
                "round trip of {len}"
            );
        }
    }

    #[test]
    fn an_empty_plaintext_is_one_empty_final_chunk() {
        let ciphertext = sealed(b"");
        assert_eq!(ciphertext.len(), TAG_SIZE);
        assert_eq!(opened(&ciphertext), (Ok(()), Vec::new()));
    }

    #[test]
    fn a_payload_with_no_chunk_is_refused() {
        assert_eq!(
            opened(&[]),
            (Err(DecryptError::DecryptionFailed), Vec::new())
        );
    }

    #[test]
    fn a_missing_final_chunk_is_refused_after_releasing_the_chunks_before_it() {
        let plaintext = message(2 * CHUNK_SIZE + 10);
        let ciphertext = sealed(&plaintext);
        let (result, out) = opened(&ciphertext[..2 * ENCRYPTED_CHUNK_SIZE]);
        assert_eq!(result, Err(DecryptError::DecryptionFailed));
        assert_eq!(out, &plaintext[..2 * CHUNK_SIZE]);
    }

    #[test]
    fn an_empty_final_chunk_after_a_full_chunk_is_refused() {
        let plaintext = message(CHUNK_SIZE);
        let mut ciphertext = Vec::new();
        let aead = ChaCha20Poly1305::new(Key::from_slice(&KEY));
        let mut first = plaintext.clone();
        let tag = aead
            .encrypt_in_place_detached(&chunk_nonce(0, false), &[], &mut first)
            .unwrap();
        ciphertext.extend_from_slice(&first);
        ciphertext.extend_from_slice(&tag);
        let mut empty = Vec::new();
        let tag = aead
            .encrypt_in_place_detached(&chunk_nonce(1, true), &[], &mut empty)
            .unwrap();
        ciphertext.extend_from_slice(&tag);
        let (result, out) = opened(&ciphertext);
        assert_eq!(result, Err(DecryptError::DecryptionFailed));
        assert_eq!(out, plaintext);
    }

    #[test]
    fn data_after_the_final_chunk_is_refused() {
        let plaintext = message(CHUNK_SIZE);
        for extra in [&[0u8][..], &[0; TAG_SIZE], &[0; ENCRYPTED_CHUNK_SIZE + 3]] {
            let mut ciphertext = sealed(&plaintext);
            ciphertext.extend_from_slice(extra);
            assert_eq!(opened(&ciphertext).0, Err(DecryptError::DecryptionFailed));
        }
    }

    #[test]
    fn a_chunk_shorter_than_a_tag_is_refused() {
        let ciphertext = sealed(&message(CHUNK_SIZE + 3));
        for cut in [
            ENCRYPTED_CHUNK_SIZE + 1,
            ENCRYPTED_CHUNK_SIZE + TAG_SIZE - 1,
        ] {
            assert_eq!(
                opened(&ciphertext[..cut]).0,
                Err(DecryptError::DecryptionFailed)
            );
        }
    }

    #[test]
    fn chunks_cannot_be_reordered() {
        let ciphertext = sealed(&message(3 * CHUNK_SIZE));
        let mut swapped = ciphertext.clone();
        swapped[..ENCRYPTED_CHUNK_SIZE]
            .copy_from_slice(&ciphertext[ENCRYPTED_CHUNK_SIZE..2 * ENCRYPTED_CHUNK_SIZE]);
        swapped[ENCRYPTED_CHUNK_SIZE..2 * ENCRYPTED_CHUNK_SIZE]
            .copy_from_slice(&ciphertext[..ENCRYPTED_CHUNK_SIZE]);
        assert_eq!(
            opened(&swapped),
            (Err(DecryptError::DecryptionFailed), Vec::new())
        );
    }

    #[test]
    fn the_payload_key_depends_on_the_nonce() {
        let file_key = Zeroizing::new([1u8; 16]);
        assert_ne!(
            *payload_key(&file_key, &[0; 16]),
            *payload_key(&file_key, &[1; 16])
        );
    }
}
