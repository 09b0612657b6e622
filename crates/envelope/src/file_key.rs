//! The file key (age spec, "File key"): the one secret of an age file. Each
//! recipient stanza wraps it, and the header MAC key and the payload key are
//! both derived from it.

use zeroize::Zeroizing;

/// Size of the file key every stanza wraps.
pub(crate) const FILE_KEY_SIZE: usize = 16;

/// The 128-bit symmetric key a file's payload and header MAC derive from.
pub(crate) type FileKey = Zeroizing<[u8; FILE_KEY_SIZE]>;
