//! Recipient stanzas, the pieces an age header is made of (age spec,
//! "Header"), and the canonical base64 the whole header is written in:
//!
//! ```text
//! stanza     = arg-line *full-line final-line
//! arg-line   = "-> " argument *(SP argument) LF
//! argument   = 1*VCHAR
//! full-line  = 64base64char LF
//! final-line = *63base64char LF
//! ```
//!
//! A stanza here is only its shape: arguments and a body. The
//! [header](crate::format) strings stanzas together and authenticates them;
//! each recipient type ([X25519](crate::x25519) is the only one) gives its
//! own stanzas their meaning.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::error::DecryptError;

/// Base64 as the header uses it: standard alphabet, no `=` padding, and only
/// canonical encodings (the spec makes decoders refuse the others, so that a
/// header has exactly one byte form and its MAC one meaning).
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// What starts a stanza's argument line.
pub(crate) const STANZA_START: &[u8] = b"-> ";
/// Stanza bodies are wrapped at this many base64 characters per line.
const COLUMNS: usize = 64;
/// The most arguments a stanza may have. The spec sets no limit; every
/// recipient type there is (X25519 has two, scrypt two, grease a few) stays
/// far below it, and a limit keeps a hostile header from costing memory in
/// proportion to its length.
pub(crate) const MAX_ARGS: usize = 16;
/// The most bytes of base64 a stanza body may have (48 KiB decoded): an
/// X25519 body is 43, a hybrid post-quantum one about 1,500.
pub(crate) const MAX_BODY_BASE64: usize = 64 * 1024;

/// One recipient stanza: its arguments (the first names its type) and its
/// decoded body.
#[derive(Debug)]
pub(crate) struct Stanza<'a> {
    /// Non-empty runs of printable ASCII (`VCHAR`), at least one.
    pub(crate) args: Vec<&'a str>,
    pub(crate) body: Vec<u8>,
}

/// Appends a stanza: `-> args…`, then the body in base64 wrapped at 64
/// columns and always ending with a line shorter than that (even empty).
pub(crate) fn write_stanza(out: &mut Vec<u8>, args: &[&str], body: &[u8]) {
    out.extend_from_slice(STANZA_START);
    out.extend_from_slice(args.join(" ").as_bytes());
    out.push(b'\n');
    let encoded = BASE64.encode(body);
    for line in encoded.as_bytes().chunks(COLUMNS) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    if encoded.len() % COLUMNS == 0 {
        out.push(b'\n');
    }
}

/// Splits off one LF-terminated line (without its LF); a header line with no
/// LF is a truncated header.
pub(crate) fn split_line(input: &[u8]) -> Result<(&[u8], &[u8]), DecryptError> {
    let mut parts = input.splitn(2, |&b| b == b'\n');
    let line = parts.next().ok_or(DecryptError::InvalidHeader)?;
    let rest = parts.next().ok_or(DecryptError::InvalidHeader)?;
    Ok((line, rest))
}

/// Parses a stanza from its argument line (after `-> `) and the lines that
/// follow it; returns the stanza and what follows its final body line.
pub(crate) fn parse_stanza<'a>(
    arg_line: &'a [u8],
    mut rest: &'a [u8],
) -> Result<(Stanza<'a>, &'a [u8]), DecryptError> {
    let mut args = Vec::new();
    for arg in arg_line.split(|&b| b == b' ') {
        if args.len() == MAX_ARGS
            || arg.is_empty()
            || !arg.iter().all(|&b| (0x21..=0x7e).contains(&b))
        {
            return Err(DecryptError::InvalidHeader);
        }
        args.push(std::str::from_utf8(arg).map_err(|_| DecryptError::InvalidHeader)?);
    }

    let mut encoded = Vec::new();
    loop {
        let (line, after) = split_line(rest)?;
        if line.len() > COLUMNS
            || encoded.len() + line.len() > MAX_BODY_BASE64
            || !line.iter().all(is_base64_char)
        {
            return Err(DecryptError::InvalidHeader);
        }
        encoded.extend_from_slice(line);
        rest = after;
        // A line shorter than 64 columns, even an empty one, ends the body.
        if line.len() < COLUMNS {
            break;
        }
    }
    let body = BASE64
        .decode(&encoded)
        .map_err(|_| DecryptError::InvalidHeader)?;
    Ok((Stanza { args, body }, rest))
}

fn is_base64_char(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/'
}

/// Decodes canonical unpadded base64 that must hold exactly `N` bytes.
pub(crate) fn decode_exact<const N: usize>(encoded: &[u8]) -> Result<[u8; N], DecryptError> {
    let decoded = Zeroizing::new(
        BASE64
            .decode(encoded)
            .map_err(|_| DecryptError::InvalidHeader)?,
    );
    decoded
        .as_slice()
        .try_into()
        .map_err(|_| DecryptError::InvalidHeader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_ending_on_a_full_line_gets_an_empty_final_line() {
        let mut out = Vec::new();
        write_stanza(&mut out, &["t"], &[0u8; 48]);
        assert_eq!(out, [b"-> t\n".as_slice(), &[b'A'; 64], b"\n\n"].concat());
        let (stanza, rest) = parse_stanza(b"t", &out[5..]).unwrap();
        assert_eq!(
            (stanza.args, stanza.body, rest),
            (vec!["t"], vec![0u8; 48], &[][..])
        );
    }

    #[test]
    fn non_canonical_base64_is_refused() {
        assert!(decode_exact::<1>(b"AA").is_ok());
        for bad in [&b"AB"[..], b"AA==", b"AA=", b"A", b"A A", b"AAA\n"] {
            assert_eq!(
                decode_exact::<1>(bad),
                Err(DecryptError::InvalidHeader),
                "{bad:?}"
            );
        }
    }
}
