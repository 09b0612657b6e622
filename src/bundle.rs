//! The reporter's script bundle, compiled into the binary, and its hash:
//! the pages serve and name it, and every desk's information pins it.
//! Built from `web/` by esbuild and committed, so neither Node nor npm is
//! needed to build or run Sotto.

use std::sync::OnceLock;

/// The reporter's script: all browser cryptography and the page logic.
pub const BUNDLE: &[u8] = include_bytes!("../web/dist/sotto.js");

/// SHA-256 of [`BUNDLE`], lower-case hex: what `npm run build` in `web/`
/// reproduces, shown on every page and in every desk's information.
pub fn bundle_sha256() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        sotto_envelope::sha256(BUNDLE)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}
