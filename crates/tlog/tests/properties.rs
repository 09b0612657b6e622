//! Property tests of what a client reads from a log it does not trust:
//! signed notes and verifier keys, checkpoints, tile paths, entry bundles,
//! leaves, Merkle proofs and the replay of leaves.
//!
//! What they protect: the server signs checkpoints and serves tiles, and a
//! client (the reporter's, `sotto audit`, a witness) checks them without
//! trusting it; the server itself parses tile paths from any URL. So no
//! input may make these parsers panic or allocate without bound, a valid
//! value must read back as itself (one spelling each), and no byte of a
//! signed note may change without its signature failing.
//!
//! Each property runs the number of cases given to [`config`];
//! `PROPTEST_CASES=100000 cargo test -p sotto-tlog --test properties` runs
//! that many instead.

#![allow(clippy::unwrap_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use proptest::prelude::*;
use proptest::sample::Index;
use zeroize::Zeroizing;

use sotto_envelope::sign::SigningKey;
use sotto_tlog::checkpoint::Checkpoint;
use sotto_tlog::leaf::{Event, Leaf};
use sotto_tlog::merkle::{self, Frontier, Hash};
use sotto_tlog::note::{self, NoteVerifier};
use sotto_tlog::tile::{self, TileKind, TilePath};
use sotto_tlog::Replay;
use sotto_wire::{CaseState, Day};

/// `cases` cases, unless `PROPTEST_CASES` asks for another number.
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed(Zeroizing::new([seed; 32]))
}

// ---------------------------------------------------------------------------
// Signed notes and checkpoints

/// Key names as the spec allows them: no whitespace, no `+`, and (so that a
/// note signed with them can be opened) no control characters.
fn key_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9.-]{1,20}(/[a-z0-9.-]{1,10}){0,2}",
        "[^\\s+\\p{Cc}]{1,30}",
    ]
}

/// Note texts: lines of text without control characters, each ending in a
/// newline (blank lines included).
fn note_text() -> impl Strategy<Value = String> {
    prop::collection::vec("[^\\p{Cc}]{0,40}", 1..6).prop_map(|lines| {
        let mut text = lines.join("\n");
        text.push('\n');
        text
    })
}

/// Text near the note grammar: em dashes, spaces, newlines, base64.
fn noteish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_owned()),
        Just("\n\n".to_owned()),
        Just("\u{2014} ".to_owned()),
        Just(" ".to_owned()),
        Just("+".to_owned()),
        "[A-Za-z0-9+/]{0,100}={0,2}",
        "[0-9]{1,20}",
        "[a-z./]{1,20}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|p| p.concat())
}

/// The strings one byte away from `s` that are still UTF-8 (a note that is
/// not UTF-8 is refused before it is parsed).
fn with_byte_changed(s: &str, at: Index, to: u8) -> Option<String> {
    let mut bytes = s.as_bytes().to_vec();
    let at = at.index(bytes.len());
    if bytes[at] == to {
        return None;
    }
    bytes[at] = to;
    String::from_utf8(bytes).ok()
}

proptest! {
    #![proptest_config(config(5_000))]

    /// A note signed with a key opens with that key's verifier and gives
    /// back the text exactly, whatever the text and the key name.
    #[test]
    fn signed_notes_open_to_their_text(
        text in note_text(),
        name in key_name(),
        seed in any::<u8>(),
    ) {
        let signed = note::sign(&text, &name, &key(seed)).unwrap();
        let v = NoteVerifier::new(&name, key(seed).verifying_key()).unwrap();
        prop_assert_eq!(v.open(&signed), Ok(text.as_str()));
    }

    /// Changing any one byte of a signed note (text, blank line, signature
    /// line, key ID or signature) makes it fail to open.
    #[test]
    fn one_changed_byte_breaks_a_signed_note(
        text in note_text(),
        name in key_name(),
        at in any::<Index>(),
        to in prop_oneof![
            3 => proptest::sample::select(b"\n +/=Aa0-\xe2\x80\x94".to_vec()),
            1 => any::<u8>(),
        ],
    ) {
        let signed = note::sign(&text, &name, &key(1)).unwrap();
        let v = NoteVerifier::new(&name, key(1).verifying_key()).unwrap();
        if let Some(changed) = with_byte_changed(&signed, at, to) {
            prop_assert!(v.open(&changed).is_err(), "{changed:?} opened");
        }
    }

    /// Well-formed signature lines of other keys (witness cosignatures) are
    /// skipped, whatever they sign, as the spec says.
    #[test]
    fn other_keys_signature_lines_are_ignored(
        text in note_text(),
        others in prop::collection::vec(
            ("[a-z.]{1,12}", prop::collection::vec(any::<u8>(), 5..80)),
            0..5,
        ),
    ) {
        let signed = note::sign(&text, "log.example", &key(1)).unwrap();
        let mut with_others = signed.clone();
        for (name, raw) in &others {
            if name != "log.example" {
                with_others.push_str(&format!("\u{2014} {name} {}\n", STANDARD.encode(raw)));
            }
        }
        let v = NoteVerifier::new("log.example", key(1).verifying_key()).unwrap();
        prop_assert_eq!(v.open(&with_others), Ok(text.as_str()));
    }

    /// Any string given as a note or a verifier key is refused or read
    /// without panicking; a verifier key that parses writes back as itself.
    #[test]
    fn any_note_or_key_text_is_handled_cleanly(
        s in prop_oneof![any::<String>(), noteish()],
    ) {
        let v = NoteVerifier::new("o", key(1).verifying_key()).unwrap();
        let _ = v.open(&s);
        let _ = Checkpoint::open(&s, &v);
        if let Ok(c) = Checkpoint::parse_text(&s) {
            prop_assert_eq!(Checkpoint::parse_text(&c.to_text()), Ok(c));
        }
        if let Ok(k) = NoteVerifier::parse(&s) {
            prop_assert_eq!(NoteVerifier::parse(&k.to_string()), Ok(k));
        }
    }

    /// Every verifier key reads back from its `name+id+key` form.
    #[test]
    fn verifier_keys_round_trip(name in key_name(), seed in any::<u8>()) {
        let v = NoteVerifier::new(&name, key(seed).verifying_key()).unwrap();
        prop_assert_eq!(NoteVerifier::parse(&v.to_string()), Ok(v));
    }

    /// Every checkpoint reads back from its text, and a signed one opens
    /// with the log's key to the same tree head.
    #[test]
    fn checkpoints_round_trip(
        origin in key_name(),
        size in prop_oneof![any::<u64>(), 0u64..1000],
        root in any::<[u8; 32]>(),
    ) {
        let c = Checkpoint { origin, size, root };
        prop_assert_eq!(Checkpoint::parse_text(&c.to_text()), Ok(c.clone()));
        let signed = c.sign(&key(2)).unwrap();
        let v = NoteVerifier::new(&c.origin, key(2).verifying_key()).unwrap();
        prop_assert_eq!(Checkpoint::open(&signed, &v), Ok(c));
    }

    /// Changing one byte of a signed checkpoint never yields a checkpoint.
    #[test]
    fn one_changed_byte_breaks_a_signed_checkpoint(
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
        at in any::<Index>(),
        to in any::<u8>(),
    ) {
        let c = Checkpoint { origin: "log.example/sotto".into(), size, root };
        let signed = c.sign(&key(3)).unwrap();
        let v = NoteVerifier::new(&c.origin, key(3).verifying_key()).unwrap();
        if let Some(changed) = with_byte_changed(&signed, at, to) {
            prop_assert!(Checkpoint::open(&changed, &v).is_err());
        }
    }
}

// ---------------------------------------------------------------------------
// Tiles and entry bundles

fn tile_path() -> impl Strategy<Value = TilePath> {
    (
        prop_oneof![
            Just(TileKind::Entries),
            (0u8..=63).prop_map(TileKind::Hashes)
        ],
        prop_oneof![any::<u64>(), 0u64..2_000, Just(u64::MAX)],
        prop_oneof![1u16..=256, Just(256)],
    )
        .prop_map(|(kind, index, width)| TilePath { kind, index, width })
}

/// Text near the tile path grammar.
fn tileish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("tile/".to_owned()),
        Just("entries/".to_owned()),
        Just("x".to_owned()),
        Just("/".to_owned()),
        Just(".p/".to_owned()),
        "[0-9]{1,4}",
        "[0-9]{3}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|p| p.concat())
}

/// Range ends anywhere in u64, near its top and near small numbers.
fn position() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..2_000,
        (0u64..2_000).prop_map(|d| u64::MAX - d),
    ]
}

proptest! {
    #![proptest_config(config(10_000))]

    /// Every tile path reads back from its written form, and any string
    /// that parses is that canonical form (one spelling per tile, so a
    /// cache cannot hold two copies); nothing computed from a parsed path
    /// overflows.
    #[test]
    fn tile_paths_round_trip_and_parse_only_their_canonical_form(
        t in tile_path(),
        s in prop_oneof![tileish(), any::<String>()],
    ) {
        prop_assert_eq!(TilePath::parse(&t.to_string()), Some(t));
        if let Some(p) = TilePath::parse(&s) {
            prop_assert_eq!(p.to_string(), s);
            let _ = (p.first(), p.tree_level(), p.needs_leaves());
        }
    }

    /// The entry bundles that hold leaves `from..to` cover exactly those
    /// leaves, wherever the range lies in u64 (the bounds come from a
    /// signed checkpoint, which a hostile log chooses).
    #[test]
    fn bundles_cover_any_range_exactly(
        from in position(),
        len in prop_oneof![0u64..1_000, any::<u64>()],
        slack in prop_oneof![Just(0u64), 0u64..300],
    ) {
        let to = from.saturating_add(len);
        let size = to.saturating_add(slack);
        // Lazily: a range of 2^64 leaves has 2^56 bundles.
        let mut bundles = tile::bundles(from, to, size);
        if from >= to {
            prop_assert_eq!(bundles.next(), None);
            return Ok(());
        }
        let first = bundles.next().unwrap();
        prop_assert_eq!(first.index, from / 256);
        let mut last = first;
        for b in bundles.by_ref().take(5) {
            prop_assert_eq!(b.index, last.index + 1);
            prop_assert_eq!(last.width, 256);
            last = b;
        }
        if len < 2_000 {
            // Small ranges are checked to their end.
            for b in bundles {
                prop_assert_eq!(b.index, last.index + 1);
                prop_assert_eq!(last.width, 256);
                last = b;
            }
            prop_assert_eq!(last.index, (to - 1) / 256);
            prop_assert_eq!(u64::from(last.width), (size - last.first()).min(256));
            prop_assert_eq!(tile::bundles_for(from, to, size).last().copied(), Some(last));
        }
    }

    /// Entry bundles round-trip, and decoding any bytes never panics; what
    /// decodes encodes back to the same bytes.
    #[test]
    fn entry_bundles_round_trip_and_decode_strictly(
        entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20),
        junk in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let data = tile::encode_bundle(entries.iter().map(Vec::as_slice)).unwrap();
        prop_assert_eq!(tile::decode_bundle(&data), Some(entries));
        if let Some(decoded) = tile::decode_bundle(&junk) {
            prop_assert_eq!(tile::encode_bundle(decoded.iter().map(Vec::as_slice)), Some(junk));
        }
    }
}

// ---------------------------------------------------------------------------
// Leaves and their replay

/// Days with four-digit years, the only ones a leaf can carry.
fn day() -> impl Strategy<Value = Day> {
    prop_oneof![
        (-719_528i64..=2_932_896).prop_map(|d| Day::from_unix(d * 86_400)),
        (20_000i64..21_000).prop_map(|d| Day::from_unix(d * 86_400)),
    ]
}

/// Hashes from a small pool, so that events name the same desks and cases.
fn hash() -> impl Strategy<Value = Hash> {
    prop_oneof![(0u8..4).prop_map(|b| [b; 32]), any::<[u8; 32]>()]
}

fn state() -> impl Strategy<Value = CaseState> {
    proptest::sample::select(CaseState::ALL.to_vec())
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        hash().prop_map(|desk| Event::DeskCreated { desk }),
        (hash(), hash()).prop_map(|(desk, recipient)| Event::RecipientAdded { desk, recipient }),
        (hash(), hash()).prop_map(|(desk, recipient)| Event::RecipientRemoved { desk, recipient }),
        (hash(), hash(), hash(), hash(), hash()).prop_map(
            |(desk, case, report, readers, reporter)| Event::CaseOpened {
                desk,
                case,
                report,
                readers,
                reporter,
            }
        ),
        (hash(), hash()).prop_map(|(case, message)| Event::MessagePosted { case, message }),
        (hash(), state()).prop_map(|(case, state)| Event::StateChanged { case, state }),
        (hash(), hash()).prop_map(|(case, recipient)| Event::CaseShared { case, recipient }),
        hash().prop_map(|case| Event::CaseErased { case }),
    ]
}

fn leaf() -> impl Strategy<Value = Leaf> {
    (day(), event()).prop_map(|(day, event)| Leaf { day, event })
}

proptest! {
    #![proptest_config(config(10_000))]

    /// Every leaf reads back from its bytes; any bytes, and any one-byte
    /// change of a real leaf, decode to nothing or to a leaf whose bytes
    /// are exactly the input (one encoding per leaf).
    #[test]
    fn leaves_round_trip_and_decode_strictly(
        leaf in leaf(),
        at in any::<Index>(),
        to in any::<u8>(),
        junk in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let bytes = leaf.encode();
        prop_assert_eq!(Leaf::decode(&bytes), Some(leaf));
        let mut changed = bytes.clone();
        changed[at.index(bytes.len())] = to;
        for input in [&changed, &junk] {
            if let Some(l) = Leaf::decode(input) {
                prop_assert_eq!(&l.encode(), input);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(2_000))]

    /// Replaying any run of leaves (events out of order, unknown desks and
    /// cases, days going backwards) never panics, counts every leaf, and
    /// replaying in two halves gives the same state as in one go.
    #[test]
    fn replay_accepts_any_run_of_leaves(
        leaves in prop::collection::vec(leaf(), 0..40),
        cut in any::<Index>(),
        acknowledge_days in prop_oneof![0i64..30, any::<i64>()],
    ) {
        let mut whole = Replay::new(acknowledge_days);
        for l in &leaves {
            let _ = whole.apply(l);
        }
        prop_assert_eq!(whole.size, leaves.len() as u64);
        let _ = whole.figures();

        let cut = cut.index(leaves.len() + 1);
        let mut halves = Replay::new(acknowledge_days);
        for l in &leaves[..cut] {
            let _ = halves.apply(l);
        }
        let mut halves = halves.clone();
        for l in &leaves[cut..] {
            let _ = halves.apply(l);
        }
        prop_assert_eq!(halves, whole);
    }

    /// Inclusion and consistency proofs made from a tree verify; any other
    /// index, size or proof is refused without panicking, whatever the
    /// numbers (a proof comes from the server).
    #[test]
    fn merkle_proofs_verify_only_when_right(
        size in 1u64..200,
        index in any::<Index>(),
        old in any::<Index>(),
        bogus_index in any::<u64>(),
        bogus_size in any::<u64>(),
        bogus_proof in prop::collection::vec(any::<[u8; 32]>(), 0..70),
        flip in any::<Index>(),
    ) {
        let leaves: Vec<Hash> = (0..size).map(|i| merkle::leaf_hash(&i.to_be_bytes())).collect();
        let mut frontier = Frontier::new();
        let mut nodes = std::collections::HashMap::new();
        for (i, l) in leaves.iter().enumerate() {
            let mut read = |level: u32, index: u64| {
                nodes.get(&(level, index)).copied().ok_or(())
            };
            for (level, index, h) in merkle::appended(i as u64, *l, &mut read).unwrap() {
                nodes.insert((level, index), h);
            }
            frontier.push(*l).unwrap();
        }
        let mut read = |level: u32, index: u64| nodes.get(&(level, index)).copied().ok_or(());
        let root = merkle::root(size, &mut read).unwrap();
        prop_assert_eq!(root, frontier.root());

        let index = index.index(size as usize) as u64;
        let proof = merkle::inclusion_proof(index, size, &mut read).unwrap();
        prop_assert!(
            merkle::verify_inclusion(index, size, &leaves[index as usize], &proof, &root).is_ok()
        );
        if !proof.is_empty() {
            let mut wrong = proof.clone();
            wrong[flip.index(proof.len())][0] ^= 1;
            prop_assert!(
                merkle::verify_inclusion(index, size, &leaves[index as usize], &wrong, &root)
                    .is_err()
            );
        }

        let old = old.index(size as usize) as u64 + 1;
        let old_root = merkle::root(old, &mut read).unwrap();
        let proof = merkle::consistency_proof(old, size, &mut read).unwrap();
        prop_assert!(merkle::verify_consistency(old, size, &old_root, &root, &proof).is_ok());

        // Numbers and proofs from nowhere.
        let _ = merkle::verify_inclusion(bogus_index, bogus_size, &root, &bogus_proof, &root);
        let _ = merkle::verify_consistency(bogus_index, bogus_size, &root, &root, &bogus_proof);
        let _ = merkle::verify_consistency(old, bogus_size, &old_root, &root, &bogus_proof);
        let _ = Frontier::from_parts(bogus_size, bogus_proof.clone()).map(|f| f.root());
    }
}
