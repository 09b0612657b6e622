//! C2SP checkpoints (c2sp.org/tlog-checkpoint): a log's origin, tree size
//! and root hash, as the text of a signed note.
//!
//! ```text
//! example.org/sotto
//! 1234
//! <base64 of the 32-byte root hash>
//! ```
//!
//! Sotto writes no extension lines. When reading, extension lines are
//! accepted and ignored, as the specification says they are opaque.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sotto_envelope::sign::SigningKey;

use crate::merkle::Hash;
use crate::note::{self, NoteError, NoteVerifier};

/// A tree head.
#[derive(Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `reports.example.org/sotto`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// `MTH` of those leaves.
    pub root: Hash,
}

/// Why a checkpoint was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note did not open with the log's key.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The text is not a checkpoint (three lines: origin, size, root).
    #[error("malformed checkpoint")]
    Malformed,
    /// The checkpoint is for another log.
    #[error("the checkpoint is for another log")]
    WrongOrigin,
}

impl Checkpoint {
    /// The note text.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses a note text (as returned by [`NoteVerifier::open`]).
    pub fn parse_text(text: &str) -> Result<Self, CheckpointError> {
        let mut lines = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed)?
            .split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed);
        };
        if origin.is_empty() || lines.any(str::is_empty) {
            return Err(CheckpointError::Malformed);
        }
        // Decimal, no leading zeroes (unless the tree is empty), no sign.
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(CheckpointError::Malformed);
        }
        let size: u64 = size.parse().map_err(|_| CheckpointError::Malformed)?;
        let root = STANDARD
            .decode(root)
            .ok()
            .and_then(|r| Hash::try_from(r.as_slice()).ok())
            .ok_or(CheckpointError::Malformed)?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// Signs this checkpoint with the log key; the key name is the origin.
    pub fn sign(&self, key: &SigningKey) -> Result<String, CheckpointError> {
        Ok(note::sign(&self.to_text(), &self.origin, key)?)
    }

    /// Opens a signed checkpoint with the log's verifier key, whose name
    /// must be the origin.
    pub fn open(signed: &str, log: &NoteVerifier) -> Result<Self, CheckpointError> {
        let text = log.open(signed)?;
        let c = Self::parse_text(text)?;
        if c.origin != log.name() {
            return Err(CheckpointError::WrongOrigin);
        }
        Ok(c)
    }
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint")
            .field("origin", &self.origin)
            .field("size", &self.size)
            .field("root", &STANDARD.encode(self.root))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    #[test]
    fn a_checkpoint_signs_and_opens_with_the_log_key_only() {
        let key = SigningKey::from_seed(Zeroizing::new([4; 32]));
        let c = Checkpoint {
            origin: "reports.example.org/sotto".into(),
            size: 20852163,
            root: [9; 32],
        };
        let signed = c.sign(&key).unwrap();
        assert!(signed.starts_with("reports.example.org/sotto\n20852163\nCQkJ"));
        let v = NoteVerifier::new(&c.origin, key.verifying_key()).unwrap();
        assert_eq!(Checkpoint::open(&signed, &v).unwrap(), c);
        let other = SigningKey::from_seed(Zeroizing::new([5; 32]));
        let v2 = NoteVerifier::new(&c.origin, other.verifying_key()).unwrap();
        assert!(Checkpoint::open(&signed, &v2).is_err());
    }

    #[test]
    fn malformed_checkpoint_texts_are_refused() {
        let root = STANDARD.encode([1u8; 32]);
        for bad in [
            String::new(),
            format!("o\n01\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n1\n{root}"),
            format!("\n1\n{root}\n"),
            "o\n1\nAAAA\n".to_owned(),
            format!("o\n1\n{root}\n\nx\n"),
            format!("o\n18446744073709551616\n{root}\n"),
        ] {
            assert!(Checkpoint::parse_text(&bad).is_err(), "{bad:?}");
        }
        let ok = Checkpoint::parse_text(&format!("o\n0\n{root}\next\n")).unwrap();
        assert_eq!(ok.size, 0);
    }
}
