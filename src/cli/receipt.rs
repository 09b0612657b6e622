//! The reporter's receipt files: the JSON file `report submit --receipt`
//! and `report receipt` write (mode 0600, never over another file), and
//! the file the web page saves, read back by `report status --receipt`.

use super::error::CliError;
use crate::client::log::ReceiptFile;

/// Writes a receipt to a new file, readable by its owner only.
pub fn save_receipt(path: &std::path::Path, receipt: &ReceiptFile) -> Result<(), CliError> {
    let json = serde_json::to_vec_pretty(receipt)?;
    crate::datadir::write_new_secret(path, &json)
        .map_err(|e| CliError::io(format!("{}: {e}", path.display())))
}

/// Reads a receipt: the JSON file `submit --receipt` writes, or the file the
/// web page saves (the token, then the same JSON between two marker lines;
/// docs/web.md). The token in such a file is not read from it: it is asked
/// for, or taken from `SOTTO_TOKEN`, as always.
pub fn load_receipt(path: &std::path::Path) -> Result<ReceiptFile, CliError> {
    let bytes =
        std::fs::read(path).map_err(|e| CliError::io(format!("{}: {e}", path.display())))?;
    let text = String::from_utf8_lossy(&bytes);
    let json = text
        .split_once("-----BEGIN SOTTO RECEIPT-----")
        .and_then(|(_, rest)| rest.split_once("-----END SOTTO RECEIPT-----"))
        .map_or(text.as_ref(), |(inner, _)| inner.trim());
    serde_json::from_str(json)
        .map_err(|e| CliError::usage(format!("{}: not a Sotto receipt ({e})", path.display())))
}
