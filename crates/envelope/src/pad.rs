//! Padding, so an envelope's size reveals only a size bucket.
//!
//! The padded plaintext is `magic ‖ len ‖ message ‖ zeros` with `len` the
//! message length as a big-endian u32. Its total length is Padmé
//! (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
//! Communication with PURBs", 2019) of the unpadded length, never less than
//! [`MIN_PADDED`]: every message up to about 1 KiB has the same size, and above
//! that the overhead is at most about 12 % while the length leaks only
//! O(log log n) bits. The zeros are checked on the way out, so a padded
//! plaintext has exactly one valid form.

use thiserror::Error;
use zeroize::Zeroizing;

use crate::labels::PADDED_PLAINTEXT;

/// The smallest padded plaintext: short messages all look alike.
pub const MIN_PADDED: usize = 1024;

/// The largest message that can be padded (the length field is a u32).
pub const MAX_MESSAGE: usize = u32::MAX as usize - 64;

/// A padded plaintext that is not in its one canonical form.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("the decrypted message is not correctly padded")]
pub struct PaddingError;

/// Padmé: round `len` up so that only its top O(log log len) bits vary.
pub fn padme(len: usize) -> usize {
    if len < 2 {
        return len;
    }
    let e = usize::BITS - 1 - len.leading_zeros(); // floor(log2 len)
    let s = u32::BITS - e.leading_zeros(); // floor(log2 e) + 1
    let last_bits = e - s;
    let mask = (1usize << last_bits) - 1;
    (len + mask) & !mask
}

/// The padded length of a message of `len` bytes.
pub fn padded_len(len: usize) -> usize {
    padme((PADDED_PLAINTEXT.len() + 4 + len).max(MIN_PADDED))
}

/// Pads `message` (at most [`MAX_MESSAGE`] bytes; longer is refused).
pub fn pad(message: &[u8]) -> Result<Zeroizing<Vec<u8>>, PaddingError> {
    let len = u32::try_from(message.len()).map_err(|_| PaddingError)?;
    if message.len() > MAX_MESSAGE {
        return Err(PaddingError);
    }
    let total = padded_len(message.len());
    let mut out = Zeroizing::new(Vec::with_capacity(total));
    out.extend_from_slice(PADDED_PLAINTEXT);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    out.resize(total, 0);
    Ok(out)
}

/// Removes the padding, refusing anything but the canonical form.
pub fn unpad(padded: &[u8]) -> Result<&[u8], PaddingError> {
    let rest = padded.strip_prefix(PADDED_PLAINTEXT).ok_or(PaddingError)?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or(PaddingError)?;
    let len = u32::from_be_bytes(*len) as usize;
    if len > rest.len() || padded.len() != padded_len(len) {
        return Err(PaddingError);
    }
    let (message, zeros) = rest.split_at(len);
    if zeros.iter().any(|&b| b != 0) {
        return Err(PaddingError);
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_all_pad_to_the_same_size() {
        let sizes: Vec<usize> = [0, 1, 100, 900]
            .iter()
            .map(|&n| pad(&vec![b'x'; n]).unwrap().len())
            .collect();
        assert!(sizes.iter().all(|&s| s == MIN_PADDED), "{sizes:?}");
    }

    #[test]
    fn padme_overhead_stays_under_twelve_percent() {
        for len in (1025..3_000_000).step_by(997) {
            let p = padme(len);
            assert!(p >= len);
            assert!((p - len) as f64 / len as f64 <= 0.12, "{len} -> {p}");
        }
    }

    #[test]
    fn padme_has_few_distinct_sizes() {
        // Between 1 and 2 MiB there are a handful of buckets, not a million.
        let mut buckets: Vec<usize> = (1 << 20..2 << 20).step_by(64).map(padme).collect();
        buckets.dedup();
        assert!(buckets.len() <= 64, "{} buckets", buckets.len());
    }

    #[test]
    fn a_message_round_trips() {
        for n in [0usize, 1, 1000, 5000, 70_000] {
            let m: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let padded = pad(&m).unwrap();
            assert_eq!(padded.len(), padded_len(n));
            assert_eq!(unpad(&padded).unwrap(), &m[..]);
        }
    }

    #[test]
    fn a_non_zero_padding_byte_is_refused() {
        let mut padded = pad(b"hello").unwrap();
        let last = padded.len() - 1;
        padded[last] = 1;
        assert_eq!(unpad(&padded), Err(PaddingError));
    }

    #[test]
    fn a_wrong_length_or_magic_is_refused() {
        let padded = pad(b"hello").unwrap();
        assert_eq!(unpad(&padded[..padded.len() - 1]), Err(PaddingError));
        let mut longer = padded.to_vec();
        longer.push(0);
        assert_eq!(unpad(&longer), Err(PaddingError));
        let mut bad_magic = padded.to_vec();
        bad_magic[0] ^= 1;
        assert_eq!(unpad(&bad_magic), Err(PaddingError));
        let mut bad_len = padded.to_vec();
        bad_len[PADDED_PLAINTEXT.len()] = 0xff;
        assert_eq!(unpad(&bad_len), Err(PaddingError));
        assert_eq!(unpad(&[]), Err(PaddingError));
    }
}
