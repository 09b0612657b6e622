//! Our log against independent implementations: the Merkle proofs against
//! `tlog_tiles` (a port of Go's sumdb/tlog, which Go's checksum database
//! uses), and the signed notes and checkpoints against `signed_note` and
//! `tlog_tiles`' checkpoint parser.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use sotto_envelope::sign::SigningKey;
use sotto_tlog::merkle::{self, Hash};
use sotto_tlog::{Checkpoint, NoteVerifier};
use zeroize::Zeroizing;

/// Go's stored-hash layout, filled by tlog_tiles itself.
struct GoStorage(Vec<tlog_tiles::Hash>);

impl tlog_tiles::HashReader for GoStorage {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                self.0
                    .get(i as usize)
                    .copied()
                    .ok_or(tlog_tiles::Error::BadMath)
            })
            .collect()
    }
}

fn leaf(i: u64) -> Vec<u8> {
    format!("sotto interop leaf {i}").into_bytes()
}

#[test]
fn roots_and_proofs_match_go_sumdb_tlog_for_every_size_up_to_300() {
    const N: u64 = 300;
    let mut ours: HashMap<(u32, u64), Hash> = HashMap::new();
    let mut go = GoStorage(Vec::new());
    for i in 0..N {
        let new = merkle::appended(i, merkle::leaf_hash(&leaf(i)), &mut |l, n| {
            ours.get(&(l, n)).copied().ok_or(())
        })
        .unwrap();
        for (l, n, h) in new {
            ours.insert((l, n), h);
        }
        let stored = tlog_tiles::stored_hashes(i, &leaf(i), &go).unwrap();
        go.0.extend(stored);
    }
    let mut read = |l, n| ours.get(&(l, n)).copied().ok_or(());
    for size in 1..=N {
        let root = merkle::root(size, &mut read).unwrap();
        assert_eq!(
            root,
            tlog_tiles::tree_hash(size, &go).unwrap().0,
            "root of {size}"
        );
        // Every tenth size in full, the rest at a few indexes: the whole
        // square would take long without adding cases.
        let indexes: Vec<u64> = if size % 10 == 0 {
            (0..size).collect()
        } else {
            vec![0, size / 2, size - 1]
        };
        for index in indexes {
            let p = merkle::inclusion_proof(index, size, &mut read).unwrap();
            let g: Vec<Hash> = tlog_tiles::prove_record(size, index, &go)
                .unwrap()
                .into_iter()
                .map(|h| h.0)
                .collect();
            assert_eq!(p, g, "inclusion of {index} in {size}");
        }
        for old in [1, size / 3, size / 2, size - 1, size] {
            if old == 0 {
                continue;
            }
            let p = merkle::consistency_proof(old, size, &mut read).unwrap();
            let g: Vec<Hash> = tlog_tiles::prove_tree(size, old, &go)
                .unwrap()
                .into_iter()
                .map(|h| h.0)
                .collect();
            assert_eq!(p, g, "consistency {old} -> {size}");
            let old_root = merkle::root(old, &mut read).unwrap();
            tlog_tiles::check_tree(
                &g.iter().map(|h| tlog_tiles::Hash(*h)).collect(),
                size,
                tlog_tiles::Hash(root),
                old,
                tlog_tiles::Hash(old_root),
            )
            .unwrap();
        }
    }
}

fn log_key() -> SigningKey {
    SigningKey::from_seed(Zeroizing::new([42; 32]))
}

#[test]
fn our_checkpoints_verify_with_signed_note_and_parse_with_tlog_tiles() {
    let key = log_key();
    let c = Checkpoint {
        origin: "reports.example.org/sotto".into(),
        size: 1234,
        root: [7; 32],
    };
    let signed = c.sign(&key).unwrap();
    let ours = NoteVerifier::new(&c.origin, key.verifying_key()).unwrap();

    // Their verifier accepts our verifier key string and our note.
    let theirs = signed_note::StandardVerifier::new(&ours.to_string()).unwrap();
    let note = signed_note::Note::from_bytes(signed.as_bytes()).unwrap();
    let verifiers = signed_note::VerifierList::new(vec![Box::new(theirs)]);
    let (verified, _) = note.verify(&verifiers).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].id(), ours.id());

    // Their checkpoint parser reads our text the same way.
    let parsed = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
    assert_eq!(parsed.origin(), c.origin);
    assert_eq!(parsed.size(), c.size);
    assert_eq!(parsed.hash().0, c.root);
}

#[test]
fn notes_signed_by_signed_note_open_with_our_verifier() {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let key = log_key();
    let ours = NoteVerifier::new("reports.example.org/sotto", key.verifying_key()).unwrap();
    // The same seed as a Go-style private key string.
    let mut raw = vec![0x01];
    raw.extend_from_slice(&[42; 32]);
    let skey = format!(
        "PRIVATE+KEY+reports.example.org/sotto+{:08x}+{}",
        ours.id(),
        STANDARD.encode(raw)
    );
    let signer = signed_note::StandardSigner::new(&skey).unwrap();
    let text = "reports.example.org/sotto\n5\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n";
    let mut note = signed_note::Note::new(text.as_bytes(), &[]).unwrap();
    note.add_sigs(&[&signer]).unwrap();
    let signed = String::from_utf8(note.to_bytes()).unwrap();
    // Same bytes as ours (Ed25519 is deterministic) and it opens.
    assert_eq!(
        signed,
        Checkpoint::parse_text(text).unwrap().sign(&key).unwrap()
    );
    let c = Checkpoint::open(&signed, &ours).unwrap();
    assert_eq!(c.size, 5);
}
