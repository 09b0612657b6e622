//! The reporter's receipt files: the JSON file `report submit --receipt`
//! and `report receipt` write (mode 0600, never over another file), and
//! the file the web page saves, read back by `report status --receipt`,
//! which completes a file that holds only the log's promise.

use super::error::CliError;
use crate::client::log::ReceiptFile;

const BEGIN: &str = "-----BEGIN SOTTO RECEIPT-----";
const END: &str = "-----END SOTTO RECEIPT-----";

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
    let text = read(path)?;
    let json = text
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map_or(text.as_str(), |(inner, _)| inner.trim());
    serde_json::from_str(json)
        .map_err(|e| CliError::usage(format!("{}: not a Sotto receipt ({e})", path.display())))
}

fn read(path: &std::path::Path) -> Result<zeroize::Zeroizing<String>, CliError> {
    let bytes =
        std::fs::read(path).map_err(|e| CliError::io(format!("{}: {e}", path.display())))?;
    Ok(zeroize::Zeroizing::new(
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

/// Replaces the receipt in an existing file with `receipt` (the same
/// promise, now completed): the whole file if it is JSON, the part between
/// the markers if the web page saved it (the token beside it is kept as it
/// is). Written beside it, mode 0600, then renamed over it, so a failure
/// leaves the old file whole.
pub fn update_receipt(path: &std::path::Path, receipt: &ReceiptFile) -> Result<(), CliError> {
    let text = read(path)?;
    let json = serde_json::to_string_pretty(receipt)?;
    let new = match text.split_once(BEGIN) {
        Some((head, rest)) => match rest.split_once(END) {
            Some((_, tail)) => {
                zeroize::Zeroizing::new(format!("{head}{BEGIN}\n{json}\n{END}{tail}"))
            }
            None => {
                return Err(CliError::usage(format!(
                    "{}: a receipt without its end marker",
                    path.display()
                )))
            }
        },
        None => zeroize::Zeroizing::new(json + "\n"),
    };
    let io = |e: std::io::Error| CliError::io(format!("{}: {e}", path.display()));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".new");
    let tmp = std::path::PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    crate::datadir::write_new_secret(&tmp, new.as_bytes()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(receipt: Option<sotto_wire::api::Receipt>) -> ReceiptFile {
        ReceiptFile {
            version: 2,
            server: "http://127.0.0.1:1".into(),
            case: "07".repeat(16),
            desk: "default".into(),
            opened: sotto_wire::Day::parse("2026-11-22").unwrap(),
            log_key: "example.org/sotto+00000000+AA".into(),
            promise: Some(sotto_wire::api::LogPromise {
                leaf: vec![1, 2, 3],
                signature: "sig".into(),
            }),
            published_at_promise: Some(4),
            receipt,
        }
    }

    fn full() -> ReceiptFile {
        file(Some(sotto_wire::api::Receipt {
            leaf_index: 5,
            leaf: vec![1, 2, 3],
            checkpoint: "note".into(),
            inclusion_proof: vec![[0; 32]],
        }))
    }

    #[test]
    fn a_completed_receipt_replaces_the_json_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        save_receipt(&path, &file(None)).unwrap();
        update_receipt(&path, &full()).unwrap();
        assert_eq!(load_receipt(&path).unwrap(), full());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_completed_receipt_replaces_only_the_receipt_in_the_pages_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sotto-token.txt");
        let before = format!(
            "Heading\n\ntoken: a-token\n\n{BEGIN}\n{}\n{END}\n",
            serde_json::to_string(&file(None)).unwrap()
        );
        std::fs::write(&path, &before).unwrap();
        update_receipt(&path, &full()).unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        assert!(
            after.starts_with("Heading\n\ntoken: a-token\n\n"),
            "{after}"
        );
        assert!(after.ends_with(&format!("{END}\n")), "{after}");
        assert_eq!(load_receipt(&path).unwrap(), full());
    }
}
