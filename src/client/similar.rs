//! Near-duplicate reports, found after decryption on the handler's machine:
//! word shingles, MinHash signatures and locality-sensitive hashing, so a
//! brigade of reworded copies shows as one group with a count.
//!
//! Not cryptography: the hashes only need to be stable and well spread.
//! The server never sees any of this.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Hash functions per signature.
const HASHES: usize = 64;
/// LSH bands (of `HASHES / BANDS` rows each): two texts whose estimated
/// Jaccard similarity is 0.5 share a band with probability about 0.64,
/// at 0.7 about 0.99.
const BANDS: usize = 16;
/// Estimated Jaccard similarity from which two reports are grouped.
pub const THRESHOLD: f64 = 0.4;
/// Words per shingle.
const SHINGLE: usize = 3;

/// The words of `text`, lower case, letters and digits only.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The set of word 3-grams (or the words, for shorter texts), hashed.
fn shingles(text: &str) -> BTreeSet<u64> {
    let w = words(text);
    let mut out = BTreeSet::new();
    if w.len() < SHINGLE {
        for word in &w {
            out.insert(hash(0, word));
        }
        return out;
    }
    for window in w.windows(SHINGLE) {
        out.insert(hash(0, &window.join(" ")));
    }
    out
}

fn hash<T: Hash + ?Sized>(seed: u64, value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    seed.hash(&mut h);
    value.hash(&mut h);
    h.finish()
}

/// A text's MinHash signature; `None` for a text without words.
fn signature(text: &str) -> Option<[u64; HASHES]> {
    let s = shingles(text);
    if s.is_empty() {
        return None;
    }
    let mut sig = [u64::MAX; HASHES];
    for sh in s {
        for (i, slot) in sig.iter_mut().enumerate() {
            let v = hash(i as u64 + 1, &sh);
            if v < *slot {
                *slot = v;
            }
        }
    }
    Some(sig)
}

fn similarity(a: &[u64; HASHES], b: &[u64; HASHES]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / HASHES as f64
}

fn find(parent: &mut [usize], i: usize) -> usize {
    let mut root = i;
    while parent[root] != root {
        root = parent[root];
    }
    let mut i = i;
    while parent[i] != root {
        let next = parent[i];
        parent[i] = root;
        i = next;
    }
    root
}

/// Groups of near-duplicate texts, as indexes into `texts`: every text is
/// in exactly one group; groups keep the order of their first member.
pub fn groups(texts: &[&str]) -> Vec<Vec<usize>> {
    let sigs: Vec<Option<[u64; HASHES]>> = texts.iter().map(|t| signature(t)).collect();
    let mut parent: Vec<usize> = (0..texts.len()).collect();
    let rows = HASHES / BANDS;
    for band in 0..BANDS {
        let mut buckets: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (i, sig) in sigs.iter().enumerate() {
            if let Some(sig) = sig {
                buckets
                    .entry(hash(band as u64, &sig[band * rows..(band + 1) * rows]))
                    .or_default()
                    .push(i);
            }
        }
        for members in buckets.values() {
            // Every pair of a bucket; in a huge bucket (a flood of exact
            // copies), each member against its neighbour and the first.
            let all_pairs = members.len() <= 200;
            for (n, &a) in members.iter().enumerate() {
                let others: Vec<usize> = if all_pairs {
                    members[n + 1..].to_vec()
                } else {
                    members
                        .get(n + 1)
                        .into_iter()
                        .chain([&members[0]])
                        .copied()
                        .collect()
                };
                for b in others {
                    if let (Some(x), Some(y)) = (&sigs[a], &sigs[b]) {
                        if similarity(x, y) >= THRESHOLD {
                            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                            if ra != rb {
                                parent[ra.max(rb)] = ra.min(rb);
                            }
                        }
                    }
                }
            }
        }
    }
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..texts.len() {
        let r = find(&mut parent, i);
        by_root.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = by_root.into_values().collect();
    out.sort_by_key(|g| g[0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_reworded_groups_and_different_texts_do_not() {
        let texts = [
            "The moderator Bob deleted my answer about Rust lifetimes and insulted me in chat yesterday.",
            "Yesterday the moderator Bob deleted my answer about Rust lifetimes and insulted me in the chat.",
            "A completely different story: someone posted my home address in a public thread.",
            "the moderator bob DELETED my answer about rust lifetimes, and insulted me in chat yesterday!!",
        ];
        let g = groups(&texts);
        assert_eq!(g, vec![vec![0, 1, 3], vec![2]]);
    }

    #[test]
    fn empty_and_short_texts_stand_alone_unless_identical() {
        let g = groups(&["", "", "help", "help", "other"]);
        assert_eq!(g, vec![vec![0], vec![1], vec![2, 3], vec![4]]);
    }
}
