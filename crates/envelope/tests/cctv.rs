//! The C2SP CCTV age test vectors (`testdata/age-cctv`, see PROVENANCE.md
//! there), one test per vector file.
//!
//! A vector is a textual header (`expect:`, `payload:`, `identity:`, …), an
//! empty line, then the age file, zlib-compressed when the header says so.
//! Sotto implements binary age files with X25519 recipients only, so the
//! vectors that need ASCII armor, an scrypt identity or a hybrid ML-KEM
//! identity are skipped, each by name with its reason in [`SKIPPED`]. The
//! scrypt and hybrid vectors whose expectation holds without those identities
//! still run: a file whose only stanzas are of a type we skip is "no match"
//! for us as the spec says, an scrypt stanza beside another is refused as a
//! malformed header whatever identity is held, and an X25519 stanza with a
//! hybrid-sized share is a malformed X25519 stanza.

use std::io::Read as _;
use std::path::PathBuf;

use sotto_envelope::{decrypt, decrypt_into, sha256, DecryptError, Identity};

/// The reason armor vectors are skipped; it must match the `skip` group below.
const ARMOR: &str = "ASCII armor is not implemented (Sotto reads and writes binary age files)";

/// Vector families that exercise what Sotto implements: none may be skipped.
const MUST_RUN: &[&str] = &[
    "x25519", "stanza_", "stream_", "hmac_", "header_", "version_", "empty",
];

macro_rules! vectors {
    (
        run: [$($run:ident),* $(,)?],
        $(skip $why:literal: [$($skip:ident),* $(,)?],)*
    ) => {
        /// Every vector file.
        const VECTORS: &[&str] = &[$(stringify!($run),)* $($(stringify!($skip),)*)*];

        /// Every vector that does not run, and why.
        const SKIPPED: &[(&str, &str)] = &[$($((stringify!($skip), $why),)*)*];

        mod vector {
            $(
                #[test]
                fn $run() {
                    super::run(stringify!($run));
                }
            )*
            // Skipped by name: `cargo test` lists each as "ignored" with its
            // reason, and `--ignored` shows what they would do.
            $($(
                #[test]
                #[ignore = $why]
                fn $skip() {
                    super::run(stringify!($skip));
                }
            )*)*
        }
    };
}

vectors! {
    run: [
        empty, header_crlf, hmac_bad, hmac_extra_space, hmac_garbage, hmac_missing,
        hmac_no_space, hmac_not_canonical, hmac_trailing_space, hmac_truncated, hybrid_bad_tag,
        hybrid_currupted_enc_mlkem, hybrid_currupted_enc_x25519, hybrid_no_match,
        hybrid_uppercase, hybrid_x25519_arg, scrypt_and_x25519, scrypt_bad_tag, scrypt_double,
        scrypt_no_match, scrypt_uppercase, scrypt_work_factor_wrong, stanza_bad_start,
        stanza_base64_padding, stanza_empty_argument, stanza_empty_body,
        stanza_empty_last_line, stanza_invalid_character, stanza_long_line,
        stanza_missing_body, stanza_missing_final_line, stanza_multiple_short_lines,
        stanza_no_arguments, stanza_not_canonical, stanza_spurious_cr, stanza_valid_characters,
        stream_257_chunks, stream_257_chunks_full, stream_258_chunks, stream_bad_tag,
        stream_bad_tag_second_chunk, stream_bad_tag_second_chunk_full, stream_empty_payload,
        stream_last_chunk_empty, stream_last_chunk_full, stream_last_chunk_full_second,
        stream_missing_tag, stream_no_chunks, stream_no_final, stream_no_final_full,
        stream_no_final_two_chunks, stream_no_final_two_chunks_full, stream_no_nonce,
        stream_short_chunk, stream_short_nonce, stream_short_second_chunk, stream_three_chunks,
        stream_trailing_garbage_long, stream_trailing_garbage_short, stream_two_chunks,
        stream_two_final_chunks, stream_two_final_chunks_full, stream_two_final_chunks_second,
        stream_two_final_chunks_short, version_unsupported, x25519, x25519_bad_tag,
        x25519_extra_argument, x25519_grease, x25519_identity, x25519_long_file_key,
        x25519_long_share, x25519_low_order, x25519_lowercase, x25519_multiple_recipients,
        x25519_no_match, x25519_not_canonical_body, x25519_not_canonical_share,
        x25519_short_share,
    ],
    skip "ASCII armor is not implemented (Sotto reads and writes binary age files)": [
        armor_crlf, armor_empty, armor_empty_last_line, armor_empty_line_begin,
        armor_empty_line_end, armor_eol_between_padding, armor_full_last_line,
        armor_garbage_encoded, armor_garbage_leading, armor_garbage_trailing,
        armor_header_crlf, armor_headers, armor_hybrid, armor_invalid_character_header,
        armor_invalid_character_payload, armor_long_line, armor_lowercase, armor_no_end_line,
        armor_no_eol, armor_no_match, armor_no_padding, armor_not_canonical,
        armor_pgp_checksum, armor_scrypt, armor_short_line, armor_whitespace_begin,
        armor_whitespace_end, armor_whitespace_eol, armor_whitespace_last_line,
        armor_whitespace_line_start, armor_whitespace_outside, armor_wrong_type, armor_x25519,
    ],
    skip "needs an scrypt (passphrase) identity to open the file; Sotto implements X25519 only": [
        scrypt,
    ],
    skip "expects the scrypt identity's own checks of its stanza (salt, work factor, body); Sotto implements X25519 only and skips scrypt stanzas": [
        scrypt_extra_argument, scrypt_long_file_key, scrypt_not_canonical_body,
        scrypt_not_canonical_salt, scrypt_salt_long, scrypt_salt_missing, scrypt_salt_short,
        scrypt_work_factor_23, scrypt_work_factor_hex, scrypt_work_factor_leading_garbage,
        scrypt_work_factor_leading_plus, scrypt_work_factor_leading_zero_decimal,
        scrypt_work_factor_leading_zero_octal, scrypt_work_factor_missing,
        scrypt_work_factor_negative, scrypt_work_factor_overflow,
        scrypt_work_factor_trailing_garbage, scrypt_work_factor_zero,
    ],
    skip "needs an mlkem768x25519 (post-quantum hybrid) identity to open the file; Sotto implements X25519 only": [
        hybrid, hybrid_and_x25519, hybrid_grease, hybrid_multiple_recipients,
    ],
    skip "expects the mlkem768x25519 identity's own checks of its stanza; Sotto implements X25519 only and skips mlkem768x25519 stanzas": [
        hybrid_extra_argument, hybrid_identity, hybrid_long_file_key, hybrid_long_share,
        hybrid_low_order, hybrid_not_canonical_body, hybrid_not_canonical_enc,
        hybrid_short_share,
    ],
}

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/age-cctv")
}

/// What a vector expects of a decrypter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Success,
    NoMatch,
    HmacFailure,
    HeaderFailure,
    PayloadFailure,
    ArmorFailure,
}

#[derive(Debug)]
struct Vector {
    expect: Expect,
    /// SHA-256 of the plaintext, in hex; for a payload failure, of the
    /// plaintext released before the failure.
    payload: Option<String>,
    identities: Vec<String>,
    armored: bool,
    file: Vec<u8>,
}

impl Vector {
    fn load(name: &str) -> Self {
        let path = vector_dir().join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let split = bytes
            .windows(2)
            .position(|w| w == b"\n\n")
            .unwrap_or_else(|| panic!("{name}: no blank line after the vector header"));
        let (header, rest) = bytes.split_at(split);
        let header = std::str::from_utf8(header).expect("the vector header is UTF-8");
        let body = &rest[2..];

        let mut expect = None;
        let mut payload = None;
        let mut identities = Vec::new();
        let mut armored = false;
        let mut compressed = false;
        for line in header.lines() {
            let (key, value) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("{name}: malformed header line {line:?}"));
            match key {
                "expect" => {
                    expect = Some(match value {
                        "success" => Expect::Success,
                        "no match" => Expect::NoMatch,
                        "HMAC failure" => Expect::HmacFailure,
                        "header failure" => Expect::HeaderFailure,
                        "payload failure" => Expect::PayloadFailure,
                        "armor failure" => Expect::ArmorFailure,
                        other => panic!("{name}: unknown expectation {other:?}"),
                    })
                }
                "payload" => payload = Some(value.to_owned()),
                "identity" => identities.push(value.to_owned()),
                "armored" => armored = value == "yes",
                "compressed" => {
                    assert_eq!(value, "zlib", "{name}: unknown compression");
                    compressed = true;
                }
                // Passphrases are for scrypt, which Sotto does not implement;
                // the file key and the comment are for humans.
                "passphrase" | "file key" | "comment" => {}
                other => panic!("{name}: unknown vector header field {other:?}"),
            }
        }
        let file = if compressed {
            let mut file = Vec::new();
            flate2::read::ZlibDecoder::new(body)
                .read_to_end(&mut file)
                .unwrap_or_else(|e| panic!("{name}: zlib: {e}"));
            file
        } else {
            body.to_vec()
        };
        Self {
            expect: expect.unwrap_or_else(|| panic!("{name}: no expect line")),
            payload,
            identities,
            armored,
            file,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn run(name: &str) {
    if let Some((_, reason)) = SKIPPED.iter().find(|(skipped, _)| *skipped == name) {
        // Reached only with `cargo test -- --ignored`.
        println!("skipped {name}: {reason}");
        return;
    }
    let vector = Vector::load(name);
    assert!(
        !vector.armored,
        "{name}: armored vectors must be in SKIPPED"
    );

    let mut identities = Vec::new();
    for encoded in &vector.identities {
        if encoded.starts_with("AGE-SECRET-KEY-1") {
            let identity = Identity::parse(encoded)
                .unwrap_or_else(|e| panic!("{name}: X25519 identity refused: {e}"));
            identities.push(identity);
        } else {
            // Any other identity (a hybrid AGE-SECRET-KEY-PQ-1…) is one Sotto
            // cannot hold; the vector then runs with the X25519 ones alone.
            println!("{name}: ignoring a non-X25519 identity");
        }
    }

    let mut released = Vec::new();
    let result = decrypt_into(&identities, &vector.file, &mut released);
    let expected: Result<(), DecryptError> = match vector.expect {
        Expect::Success => Ok(()),
        Expect::NoMatch => Err(DecryptError::NoMatchingKeys),
        Expect::HmacFailure => Err(DecryptError::InvalidMac),
        Expect::HeaderFailure => Err(DecryptError::InvalidHeader),
        Expect::PayloadFailure => Err(DecryptError::DecryptionFailed),
        Expect::ArmorFailure => panic!("{name}: armor vectors must be in SKIPPED"),
    };
    assert_eq!(result, expected, "{name}: wrong outcome");

    match (vector.expect, &vector.payload) {
        (Expect::Success | Expect::PayloadFailure, Some(payload)) => {
            assert_eq!(
                &hex(&sha256(&released)),
                payload,
                "{name}: wrong plaintext released"
            );
        }
        (Expect::Success, None) => panic!("{name}: a success vector without a payload hash"),
        _ => assert!(
            released.is_empty(),
            "{name}: plaintext released by a header failure"
        ),
    }

    // `decrypt` is all or nothing, and agrees with `decrypt_into`.
    match decrypt(&identities, &vector.file) {
        Ok(plaintext) => {
            assert_eq!(
                result,
                Ok(()),
                "{name}: decrypt succeeded where decrypt_into failed"
            );
            assert_eq!(
                plaintext, released,
                "{name}: decrypt and decrypt_into disagree"
            );
        }
        Err(e) => assert_eq!(Err(e), result, "{name}: decrypt and decrypt_into disagree"),
    }
}

#[test]
fn the_vector_list_covers_exactly_the_files_in_the_directory() {
    let mut on_disk: Vec<String> = std::fs::read_dir(vector_dir())
        .expect("the vector directory is readable")
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .into_string()
                .expect("vector names are UTF-8")
        })
        .filter(|name| name != "PROVENANCE.md")
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = VECTORS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        listed, on_disk,
        "list every vector file in vectors! {{ … }}"
    );
}

#[test]
fn every_skipped_vector_is_a_real_file_listed_once() {
    for (i, (name, reason)) in SKIPPED.iter().enumerate() {
        assert!(
            vector_dir().join(name).is_file(),
            "skipped {name} is not a vector file"
        );
        assert!(VECTORS.contains(name), "skipped {name} has no test");
        assert!(!reason.is_empty(), "skipped {name} needs a reason");
        assert!(
            !SKIPPED[..i].iter().any(|(other, _)| other == name),
            "{name} is skipped twice"
        );
    }
}

#[test]
fn no_vector_of_what_sotto_implements_is_skipped() {
    for (name, _) in SKIPPED {
        assert!(
            !MUST_RUN.iter().any(|prefix| name.starts_with(prefix)),
            "{name} tests X25519 files, headers or STREAM and must run"
        );
    }
    // Armored vectors are exactly the ones skipped for armor.
    for &name in VECTORS {
        let bytes = std::fs::read(vector_dir().join(name)).expect("a readable vector");
        let armored = bytes
            .split(|&b| b == b'\n')
            .take_while(|line| !line.is_empty())
            .any(|line| line == b"armored: yes");
        let skipped_for_armor = SKIPPED.iter().any(|&(n, why)| n == name && why == ARMOR);
        assert_eq!(armored, skipped_for_armor, "{name}: armored is {armored}");
    }
}
