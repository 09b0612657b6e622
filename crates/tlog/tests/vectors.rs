//! Our Merkle proofs against published known-answer vectors: the RFC 6962
//! reference tree of eight leaves and the inclusion and consistency vectors
//! of transparency-dev/merkle (see testdata/merkle/PROVENANCE.md). Every
//! vector runs; none is skipped.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use sotto_tlog::merkle::{self, Hash};

/// The leaves of the RFC 6962 reference tree, in hex.
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

#[derive(Deserialize)]
struct Vectors {
    inclusion: Vec<Inclusion>,
    consistency: Vec<Consistency>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inclusion {
    file: String,
    leaf_idx: u64,
    tree_size: u64,
    root: Option<String>,
    leaf_hash: Option<String>,
    proof: Option<Vec<String>>,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Consistency {
    file: String,
    size1: u64,
    size2: u64,
    root1: Option<String>,
    root2: Option<String>,
    proof: Option<Vec<String>>,
    want_err: bool,
}

fn vectors() -> Vectors {
    let text = include_str!("testdata/merkle/vectors.json");
    serde_json::from_str(text).unwrap()
}

/// Decodes a hash; `None` for a value that is not 32 bytes (some error
/// vectors hold such values on purpose).
fn hash(s: &Option<String>) -> Option<Hash> {
    let raw = STANDARD.decode(s.as_deref()?).ok()?;
    raw.as_slice().try_into().ok()
}

fn proof(p: &Option<Vec<String>>) -> Option<Vec<Hash>> {
    p.as_deref()
        .unwrap_or_default()
        .iter()
        .map(|h| hash(&Some(h.clone())))
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The reference tree, stored the way the server stores it.
fn reference_tree() -> HashMap<(u32, u64), Hash> {
    let mut nodes = HashMap::new();
    for (i, data) in LEAVES.iter().enumerate() {
        let leaf = merkle::leaf_hash(&hex(data));
        let new = merkle::appended(i as u64, leaf, &mut |l, n| {
            nodes.get(&(l, n)).copied().ok_or(())
        })
        .unwrap();
        for (l, n, h) in new {
            nodes.insert((l, n), h);
        }
    }
    nodes
}

#[test]
fn the_reference_tree_has_the_published_root() {
    let nodes = reference_tree();
    let root = merkle::root(8, &mut |l, n| nodes.get(&(l, n)).copied().ok_or(())).unwrap();
    assert_eq!(
        STANDARD.encode(root),
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
    );
}

#[test]
fn every_inclusion_vector_verifies_exactly_when_it_should() {
    let v = vectors();
    assert!(v.inclusion.len() >= 20, "vectors file truncated");
    let nodes = reference_tree();
    let mut read = |l, n| nodes.get(&(l, n)).copied().ok_or(());
    for t in &v.inclusion {
        let verdict = match (hash(&t.leaf_hash), hash(&t.root), proof(&t.proof)) {
            (Some(leaf), Some(root), Some(p)) => {
                merkle::verify_inclusion(t.leaf_idx, t.tree_size, &leaf, &p, &root).is_ok()
            }
            _ => false,
        };
        assert_eq!(verdict, !t.want_err, "{}", t.file);
        if !t.want_err && t.tree_size <= 8 {
            // We make exactly the published proof, and the published root.
            let ours = merkle::inclusion_proof(t.leaf_idx, t.tree_size, &mut read).unwrap();
            assert_eq!(Some(ours), proof(&t.proof), "{}", t.file);
            let root = merkle::root(t.tree_size, &mut read).unwrap();
            assert_eq!(Some(root), hash(&t.root), "{}", t.file);
        }
    }
}

#[test]
fn every_consistency_vector_verifies_exactly_when_it_should() {
    let v = vectors();
    assert!(v.consistency.len() >= 20, "vectors file truncated");
    let nodes = reference_tree();
    let mut read = |l, n| nodes.get(&(l, n)).copied().ok_or(());
    for t in &v.consistency {
        let verdict = match (hash(&t.root1), hash(&t.root2), proof(&t.proof)) {
            (Some(r1), Some(r2), Some(p)) => {
                merkle::verify_consistency(t.size1, t.size2, &r1, &r2, &p).is_ok()
            }
            _ => false,
        };
        assert_eq!(verdict, !t.want_err, "{}", t.file);
        if !t.want_err && t.size2 <= 8 {
            let ours = merkle::consistency_proof(t.size1, t.size2, &mut read).unwrap();
            assert_eq!(Some(ours), proof(&t.proof), "{}", t.file);
        }
    }
}
