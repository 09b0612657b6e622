//! Property tests of the parsers that read what other people send: the age
//! header and STREAM payload ([`decrypt`], [`decrypt_into`], [`inspect`]),
//! the reporter token, and the small key, card, signature and challenge
//! parsers.
//!
//! What they protect: an envelope, a token or a card arrives from someone
//! who may be hostile, so no input may make a parser panic (a 500 on the
//! server, a crash in a client), allocate without bound, or accept a
//! changed file. The unit tests beside the code pin known cases and a fixed
//! set of tampers; these draw thousands of new ones on every run.
//!
//! Each property runs the number of cases given to [`config`];
//! `PROPTEST_CASES=100000 cargo test -p sotto-envelope --test properties`
//! runs that many instead. A failure prints the smallest input proptest
//! could shrink it to and saves its seed in `properties.proptest-regressions`
//! beside this file, replayed first on every later run: commit that file,
//! and make the input a unit test beside the code it broke.

#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;

use sotto_envelope::keys::{DeskIdentity, DisplayName, RecipientCard};
use sotto_envelope::pad::{pad, unpad};
use sotto_envelope::pow::ChallengeKey;
use sotto_envelope::sign::{CaseId, Signature, VerifyingKey};
use sotto_envelope::token::{Handle, Token, TokenError};
use sotto_envelope::{
    decrypt, decrypt_into, encrypt, inspect, DecryptError, Identity, Recipient, MAX_STANZAS,
};

/// `cases` cases, unless `PROPTEST_CASES` asks for another number.
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

// ---------------------------------------------------------------------------
// Envelopes

/// Plaintext bytes per STREAM chunk (age spec).
const CHUNK: usize = 64 * 1024;

/// A real envelope to mutate, and who can open it.
struct Fixture {
    file: Vec<u8>,
    plaintext: Vec<u8>,
    identity: Identity,
    /// Where the header's text ends (after the MAC line's newline).
    header_len: usize,
    stanzas: usize,
}

fn identity(seed: u8) -> Identity {
    Identity::from_secret_bytes(&[seed; 32])
}

fn fixture(plaintext_len: usize, recipients: u8) -> Fixture {
    let plaintext: Vec<u8> = (0..plaintext_len).map(|i| (i * 31 % 251) as u8).collect();
    // The identity that opens it is the last recipient, so decryption tries
    // (and fails) every stanza before it.
    let identity = identity(recipients);
    let recipients: Vec<Recipient> = (1..=recipients).map(identity_recipient).collect();
    let file = encrypt(&recipients, &plaintext).unwrap();
    let header_len = file.windows(4).position(|w| w == b"\n---").unwrap() + 4 + 44;
    Fixture {
        file,
        plaintext,
        identity,
        header_len,
        stanzas: recipients.len(),
    }
}

fn identity_recipient(seed: u8) -> Recipient {
    identity(seed).recipient()
}

/// Small and large envelopes, made once: mutating a fixed file keeps a
/// failure reproducible from its seed (encryption itself is random).
fn fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        vec![
            fixture(100, 1),
            fixture(0, 1),
            fixture(40, 3),
            // Two chunks: the first full, so a truncation at the boundary
            // looks like a shorter valid payload to anything but the key.
            fixture(CHUNK + 10, 1),
        ]
    })
}

/// Bytes that matter to the header grammar, so edits get past the first check.
const INTERESTING: &[u8] = b"\n -=>AQgw/+\x00\xff\r-X2559";

fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![3 => proptest::sample::select(INTERESTING), 1 => any::<u8>()]
}

/// Where an edit lands: anywhere, in the header text and nonce, or around
/// the first chunk boundary of the payload.
#[derive(Debug, Clone)]
enum Pos {
    Anywhere(Index),
    Header(Index),
    Boundary(i16),
}

fn pos() -> impl Strategy<Value = Pos> {
    prop_oneof![
        2 => any::<Index>().prop_map(Pos::Anywhere),
        3 => any::<Index>().prop_map(Pos::Header),
        1 => (-40i16..40).prop_map(Pos::Boundary),
    ]
}

impl Pos {
    /// A byte's position in `0..len` (0 when the file is empty).
    fn resolve(&self, f: &Fixture, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        let at = match self {
            Pos::Anywhere(i) => i.index(len),
            Pos::Header(i) => i.index((f.header_len + 16).min(len)),
            Pos::Boundary(d) => {
                let boundary = f.header_len + 16 + CHUNK + 16;
                boundary.saturating_add_signed(isize::from(*d))
            }
        };
        at.min(len - 1)
    }

    /// A place between bytes, in `0..=len`: appending at the end too.
    fn gap(&self, f: &Fixture, len: usize) -> usize {
        match self {
            Pos::Anywhere(i) => i.index(len + 1),
            _ => self.resolve(f, len),
        }
    }
}

/// One change to a file.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Pos, u8),
    Set(Pos, u8),
    Insert(Pos, Vec<u8>),
    Delete(Pos, usize),
    Truncate(Pos),
    /// Copy a run of the file elsewhere in it (a repeated line, a stanza
    /// twice).
    Duplicate(Pos, Pos, usize),
    /// A stanza-like line (see [`stanza_lines`]) at the start of a header line.
    InsertLine(Index, Vec<u8>),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (pos(), 1u8..=255).prop_map(|(p, m)| Edit::Flip(p, m)),
        (pos(), interesting_byte()).prop_map(|(p, b)| Edit::Set(p, b)),
        (pos(), prop::collection::vec(interesting_byte(), 1..8))
            .prop_map(|(p, b)| Edit::Insert(p, b)),
        (pos(), 1usize..20).prop_map(|(p, n)| Edit::Delete(p, n)),
        pos().prop_map(Edit::Truncate),
        (pos(), pos(), 1usize..80).prop_map(|(a, b, n)| Edit::Duplicate(a, b, n)),
        (any::<Index>(), stanza_lines()).prop_map(|(i, l)| Edit::InsertLine(i, l)),
    ]
}

/// Text that looks like stanzas: `-> ` and arguments (sometimes empty,
/// sometimes very many), then body lines of base64 characters of lengths
/// around the 64-column wrap, sometimes with a stray character.
fn stanza_lines() -> impl Strategy<Value = Vec<u8>> {
    let arg = prop_oneof![
        Just(b"X25519".to_vec()),
        Just(b"scrypt".to_vec()),
        Just(Vec::new()),
        prop::collection::vec(0x21u8..0x7f, 1..12),
        prop::collection::vec(any::<u8>(), 1..4),
    ];
    let body_line = prop_oneof![
        (0usize..=70, any::<u8>()).prop_map(|(n, seed)| base64_chars(n, seed)),
        Just(b"A".repeat(64)),
        Just(b"A".repeat(43)),
        prop::collection::vec(interesting_byte(), 0..70),
    ];
    (
        any::<bool>(),
        prop::collection::vec(arg, 0..24),
        prop::collection::vec(body_line, 0..4),
    )
        .prop_map(|(arrow, args, body)| {
            let mut out = if arrow { b"-> ".to_vec() } else { Vec::new() };
            out.extend_from_slice(&args.join(&b' '));
            out.push(b'\n');
            for line in body {
                out.extend_from_slice(&line);
                out.push(b'\n');
            }
            out
        })
}

fn base64_chars(n: usize, seed: u8) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..n)
        .map(|i| ALPHABET[(usize::from(seed) + i * 7) % 64])
        .collect()
}

fn apply(f: &Fixture, edits: &[Edit]) -> Vec<u8> {
    let mut file = f.file.clone();
    for e in edits {
        let len = file.len();
        match e {
            Edit::Flip(p, mask) if len > 0 => file[p.resolve(f, len)] ^= mask,
            Edit::Set(p, b) if len > 0 => file[p.resolve(f, len)] = *b,
            Edit::Insert(p, bytes) => {
                let at = p.gap(f, len);
                file.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete(p, n) if len > 0 => {
                let at = p.resolve(f, len);
                file.drain(at..(at + n).min(len));
            }
            Edit::Truncate(p) => file.truncate(p.resolve(f, len)),
            Edit::Duplicate(from, to, n) if len > 0 => {
                let from = from.resolve(f, len);
                let piece = file[from..(from + n).min(len)].to_vec();
                let to = to.gap(f, len);
                file.splice(to..to, piece);
            }
            Edit::InsertLine(i, line) => {
                // The starts of the header's lines, after the version line.
                let header = &file[..f.header_len.min(len)];
                let starts: Vec<usize> = header
                    .iter()
                    .enumerate()
                    .filter(|&(_, &b)| b == b'\n')
                    .map(|(at, _)| at + 1)
                    .collect();
                if !starts.is_empty() {
                    let at = starts[i.index(starts.len())];
                    file.splice(at..at, line.iter().copied());
                }
            }
            _ => {}
        }
    }
    file
}

/// Checks what every input must satisfy, whatever it is: [`inspect`] never
/// counts more stanzas than it was allowed, and never refuses a file that
/// [`decrypt`] accepts.
fn check_inspect(file: &[u8], decrypted: bool) {
    for limit in [0, 1, 2, 3, MAX_STANZAS] {
        if let Ok(summary) = inspect(file, limit) {
            assert!(
                summary.x25519_stanzas + summary.other_stanzas <= limit,
                "{summary:?} with limit {limit}"
            );
        }
    }
    if decrypted {
        assert!(inspect(file, MAX_STANZAS).is_ok());
    }
}

proptest! {
    #![proptest_config(config(20_000))]

    /// Any mutation of a real envelope (flipped, inserted, deleted or
    /// duplicated bytes, truncation, stanza-like lines in the header) is a
    /// clean error unless it left the file as it was, and then the
    /// plaintext comes back exactly. `decrypt_into` releases nothing on a
    /// header failure and only a prefix of the plaintext on a payload one.
    #[test]
    fn a_mutated_envelope_decrypts_only_if_unchanged(
        which in 0..4usize,
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let f = &fixtures()[which];
        let changed = apply(f, &edits);
        let ids = [identity(200), f.identity.clone()];

        let mut out = b"kept".to_vec();
        let result = decrypt_into(&ids, &changed, &mut out);
        let (kept, released) = out.split_at(4);
        prop_assert_eq!(kept, b"kept");
        match result {
            Ok(()) => {
                prop_assert!(changed == f.file, "a changed file decrypted");
                prop_assert_eq!(released, &f.plaintext[..]);
            }
            Err(DecryptError::DecryptionFailed) => {
                prop_assert!(f.plaintext.starts_with(released));
            }
            Err(_) => prop_assert!(released.is_empty()),
        }
        match decrypt(&ids, &changed) {
            Ok(p) => prop_assert_eq!(p, f.plaintext.clone()),
            Err(e) => prop_assert_eq!(Err(e), result),
        }
        check_inspect(&changed, result.is_ok());
        if result.is_ok() {
            let summary = inspect(&changed, MAX_STANZAS).unwrap();
            prop_assert_eq!(summary.x25519_stanzas, f.stanzas);
        }
    }

    /// Arbitrary bytes, alone or after a valid version line, never panic
    /// either reader and never decrypt.
    #[test]
    fn arbitrary_bytes_are_refused_cleanly(
        versioned in any::<bool>(),
        bytes in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let file = if versioned {
            [&b"age-encryption.org/v1\n"[..], &bytes].concat()
        } else {
            bytes
        };
        prop_assert!(decrypt(&[identity(1)], &file).is_err());
        check_inspect(&file, false);
    }

    /// Headers built from the grammar's own pieces (arrows, arguments, base64
    /// lines of every length, MAC lines, stray bytes) get deep into the
    /// parser; none panics, and none decrypts without a real MAC.
    #[test]
    fn headers_made_of_grammar_pieces_are_refused_cleanly(
        pieces in prop::collection::vec(
            prop_oneof![
                4 => stanza_lines(),
                1 => Just(b"--- ".to_vec()),
                1 => (0usize..50, any::<u8>()).prop_map(|(n, s)| {
                    [&b"--- "[..], &base64_chars(n, s), b"\n"].concat()
                }),
                1 => prop::collection::vec(interesting_byte(), 0..20),
            ],
            0..12,
        ),
        payload in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let mut file = b"age-encryption.org/v1\n".to_vec();
        for p in &pieces {
            file.extend_from_slice(p);
        }
        file.extend_from_slice(&payload);
        prop_assert!(decrypt(&[identity(1)], &file).is_err());
        check_inspect(&file, false);
    }

    /// A stanza with any number of arguments, up to thousands, is read
    /// without panicking, and refused past the parser's limit of 16 (the
    /// memory one header line can cost stays bounded); body lines up to
    /// past the 48 KiB body limit likewise.
    #[test]
    fn huge_argument_counts_and_bodies_are_bounded(
        args in 1usize..5_000,
        full_lines in prop_oneof![0usize..4, 1020usize..1030],
    ) {
        let mut file = b"age-encryption.org/v1\n-> grease".to_vec();
        for _ in 1..args {
            file.extend_from_slice(b" x");
        }
        file.push(b'\n');
        for _ in 0..full_lines {
            file.extend_from_slice(&[b'A'; 64]);
            file.push(b'\n');
        }
        file.extend_from_slice(b"\n--- ");
        file.extend_from_slice(&[b'A'; 43]);
        file.push(b'\n');
        file.extend_from_slice(&[0; 16 + 16]);
        let summary = inspect(&file, MAX_STANZAS);
        // 16 arguments (stanza::MAX_ARGS) and 1024 full lines
        // (stanza::MAX_BODY_BASE64 / 64).
        if args <= 16 && full_lines <= 1024 {
            prop_assert_eq!(summary.map(|s| s.other_stanzas), Ok(1));
        } else {
            prop_assert_eq!(summary, Err(DecryptError::InvalidHeader));
        }
        prop_assert!(decrypt(&[identity(1)], &file).is_err());
    }
}

/// Plaintexts: mostly short, some around the 64 KiB chunk size, where
/// STREAM's final-chunk rules live.
fn plaintext() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(any::<u8>(), 0..400),
        1 => (CHUNK - 3..=CHUNK + 3, any::<u8>())
            .prop_map(|(n, b)| (0..n).map(|i| (i as u8) ^ b).collect()),
        1 => (2 * CHUNK - 1..=2 * CHUNK + 1, any::<u8>())
            .prop_map(|(n, b)| (0..n).map(|i| (i as u8) ^ b).collect()),
    ]
}

proptest! {
    #![proptest_config(config(2_000))]

    /// Encrypting to 1 to 8 recipients and decrypting with each of them
    /// alone gives the plaintext back; a stranger finds no matching key;
    /// `inspect` sees one X25519 stanza per recipient and the exact payload.
    #[test]
    fn envelopes_round_trip_for_every_recipient(
        seeds in prop::collection::btree_set(any::<[u8; 32]>(), 1..=8),
        plaintext in plaintext(),
    ) {
        let ids: Vec<Identity> = seeds.iter().map(Identity::from_secret_bytes).collect();
        let recipients: Vec<Recipient> = ids.iter().map(Identity::recipient).collect();
        let file = encrypt(&recipients, &plaintext).unwrap();
        for id in &ids {
            prop_assert_eq!(decrypt(std::slice::from_ref(id), &file), Ok(plaintext.clone()));
        }
        let stranger = Identity::from_secret_bytes(&[0xee; 32]);
        if !seeds.contains(&[0xee; 32]) {
            prop_assert_eq!(decrypt(&[stranger], &file), Err(DecryptError::NoMatchingKeys));
        }
        let summary = inspect(&file, ids.len()).unwrap();
        prop_assert_eq!(summary.x25519_stanzas, ids.len());
        prop_assert_eq!(summary.other_stanzas, 0);
        prop_assert_eq!(inspect(&file, ids.len() - 1), Err(DecryptError::TooManyStanzas));
    }
}

// ---------------------------------------------------------------------------
// Tokens

/// The Bech32 alphabet a token is written in.
const TOKEN_ALPHABET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Strings near the token grammar: its alphabet in either case, dashes,
/// spaces, and a few characters it refuses.
fn tokenish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            8 => proptest::sample::select(
                TOKEN_ALPHABET.chars().chain("QPZRY9X8GF-  ".chars()).collect::<Vec<_>>()
            ),
            1 => proptest::sample::select(vec!['b', 'i', 'o', '1', 'é', '\u{a0}', '\n', 'ſ', 'K']),
            1 => any::<char>(),
        ],
        0..48,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// Whether changing `from` into `to` leaves a typed token the same token:
/// a change of case, or one separator for another.
fn cosmetic(from: char, to: char) -> bool {
    let separator = |c: char| c == '-' || c.is_whitespace();
    from.eq_ignore_ascii_case(&to) || (separator(from) && separator(to))
}

proptest! {
    #![proptest_config(config(50_000))]

    /// Any string, random or close to a token, is parsed or refused without
    /// panicking; one that parses reads back as its own canonical form.
    #[test]
    fn any_string_parses_or_is_refused_cleanly(
        s in prop_oneof![any::<String>(), tokenish()],
    ) {
        if let Ok(token) = Token::parse(&s) {
            prop_assert_eq!(Token::parse(&token.to_display()), Ok(token));
        }
    }

    /// Every token reads back from its written form, in any case, with its
    /// dashes, spaces or neither.
    #[test]
    fn tokens_round_trip_through_their_written_form(bytes in any::<[u8; 16]>()) {
        let token = Token::from_bytes(bytes);
        let shown = token.to_display();
        prop_assert_eq!(shown.len(), 39);
        for typed in [
            shown.to_string(),
            shown.to_uppercase(),
            shown.replace('-', ""),
            shown.replace('-', " "),
        ] {
            prop_assert_eq!(Token::parse(&typed), Ok(token.clone()));
        }
    }

    /// Changing one character of a written token is refused by the
    /// checksum (or the length or alphabet check) unless the change is only
    /// cosmetic (case, one separator for another); it never yields another
    /// token. A change to another character of the alphabet is always a
    /// checksum failure.
    #[test]
    fn one_changed_character_never_gives_another_token(
        bytes in any::<[u8; 16]>(),
        at in any::<Index>(),
        to in prop_oneof![
            3 => proptest::sample::select(TOKEN_ALPHABET.chars().collect::<Vec<_>>()),
            1 => any::<char>(),
        ],
    ) {
        let token = Token::from_bytes(bytes);
        let mut chars: Vec<char> = token.to_display().chars().collect();
        let at = at.index(chars.len());
        let from = std::mem::replace(&mut chars[at], to);
        let typed: String = chars.into_iter().collect();
        let parsed = Token::parse(&typed);
        if cosmetic(from, to) {
            prop_assert_eq!(parsed, Ok(token));
        } else if from != '-' && TOKEN_ALPHABET.contains(to) {
            prop_assert_eq!(parsed, Err(TokenError::Checksum));
        } else {
            prop_assert!(parsed.is_err(), "{typed:?} parsed");
        }
    }
}

// ---------------------------------------------------------------------------
// Keys, cards, signatures, handles, case ids, challenges, padding

/// Strings near the small text forms: base64url and Bech32 characters,
/// hex digits, their prefixes.
fn keyish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("age1".to_owned()),
        Just("AGE-SECRET-KEY-1".to_owned()),
        Just("sotto-card-v1 ".to_owned()),
        Just("ed25519:".to_owned()),
        Just(" ".to_owned()),
        "[a-zA-Z0-9_-]{0,64}",
        "[0-9a-f]{0,40}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(config(10_000))]

    /// No string makes a key, card, name, signature, handle or case-id
    /// parser panic; whatever parses writes back to a string that parses to
    /// the same value.
    #[test]
    fn text_forms_parse_or_are_refused_cleanly(s in prop_oneof![any::<String>(), keyish()]) {
        if let Ok(r) = Recipient::parse(&s) {
            prop_assert_eq!(Recipient::parse(&r.to_string()), Ok(r));
        }
        if let Ok(id) = Identity::parse(&s) {
            let again = Identity::parse(&id.to_encoded()).unwrap();
            prop_assert_eq!(again.recipient(), id.recipient());
        }
        if let Ok(card) = RecipientCard::parse(&s) {
            prop_assert_eq!(RecipientCard::parse(&card.to_string()), Ok(card));
        }
        if let Ok(name) = DisplayName::parse(&s) {
            prop_assert_eq!(DisplayName::parse(name.as_str()), Ok(name));
        }
        if let Ok(k) = VerifyingKey::parse(&s) {
            prop_assert_eq!(VerifyingKey::parse(&k.to_string()), Ok(k));
        }
        if let Some(sig) = Signature::parse(&s) {
            prop_assert_eq!(Signature::parse(&sig.to_string()), Some(sig));
        }
        if let Some(h) = Handle::parse(&s) {
            prop_assert!(Handle::parse(&h.encode()) == Some(h));
        }
        if let Some(c) = CaseId::parse(&s) {
            prop_assert_eq!(c.to_string(), s.as_str());
        }
        let _ = DeskIdentity::from_file(&s, None);
        prop_assert!(ChallengeKey::derive(&[1; 32]).open(&s).is_err());
    }

    /// Every card made of a real key pair and a valid name reads back from
    /// its one-line form.
    #[test]
    fn recipient_cards_round_trip(
        seed in any::<[u8; 32]>(),
        ed in any::<[u8; 32]>(),
        name in "[^\\p{Cc}]{1,64}",
    ) {
        let Ok(name) = DisplayName::parse(&name) else { return Ok(()) };
        let card = RecipientCard {
            name,
            recipient: Identity::from_secret_bytes(&seed).recipient(),
            verifying_key: VerifyingKey(ed),
        };
        prop_assert_eq!(RecipientCard::parse(&card.to_string()), Ok(card));
    }

    /// Padding round-trips, and unpadding arbitrary bytes (a decrypted
    /// plaintext from a hostile sender) never panics; what it accepts pads
    /// back to exactly the same bytes, the one canonical form.
    #[test]
    fn padding_round_trips_and_unpadding_is_strict(
        message in prop::collection::vec(any::<u8>(), 0..3_000),
        junk in prop::collection::vec(any::<u8>(), 0..2_100),
        header in any::<bool>(),
    ) {
        let padded = pad(&message).unwrap();
        prop_assert_eq!(unpad(&padded), Ok(&message[..]));
        let junk = if header {
            // The magic and a length in range, so the length and zero checks run.
            let mut j = padded[..padded.len().min(20)].to_vec();
            j.extend_from_slice(&junk);
            j
        } else {
            junk
        };
        if let Ok(m) = unpad(&junk) {
            prop_assert_eq!(&pad(m).unwrap()[..], &junk[..]);
        }
    }
}
