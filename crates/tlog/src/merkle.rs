//! RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.
//!
//! Leaf hash `SHA-256(0x00 ‖ data)`, node hash `SHA-256(0x01 ‖ left ‖ right)`,
//! and `MTH(D[n])` split at the largest power of two below `n` (RFC 9162,
//! section 2.1.1). The server keeps the hash of every *perfect* subtree
//! (`2^level` leaves starting at a multiple of `2^level`) and computes
//! everything else from those: each new leaf completes `1 + trailing ones`
//! of them, and any `MTH` needs at most `log2(n)` of them.
//!
//! Proof generation follows the recursive definitions of RFC 9162 (sections
//! 2.1.3.1 and 2.1.4.1); verification follows its iterative algorithms
//! (sections 2.1.3.2 and 2.1.4.2). Nothing here panics on any input: sizes
//! and indexes out of range are errors.

use std::fmt;

use ring::digest;

/// A SHA-256 hash of a leaf, a node or a tree.
pub type Hash = [u8; 32];

/// `MTH({})`: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[0x00]);
    ctx.update(data);
    to_hash(ctx.finish())
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[0x01]);
    ctx.update(left);
    ctx.update(right);
    to_hash(ctx.finish())
}

fn to_hash(d: digest::Digest) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Why a proof could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError<E> {
    /// The index or sizes do not describe a proof that exists (e.g. an index
    /// past the tree, or a consistency proof from a larger tree).
    OutOfRange,
    /// Reading a stored subtree hash failed.
    Source(E),
}

impl<E: fmt::Display> fmt::Display for ProofError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::OutOfRange => f.write_str("no such proof: index or size out of range"),
            ProofError::Source(e) => write!(f, "reading the tree failed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ProofError<E> {}

/// A proof that does not verify. Deliberately says nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidProof;

impl fmt::Display for InvalidProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Merkle proof does not verify")
    }
}

impl std::error::Error for InvalidProof {}

/// Where a perfect subtree's hash is read from: `(level, index)` is the
/// subtree of the `2^level` leaves starting at `index * 2^level`.
pub trait Nodes {
    /// The storage's error.
    type Error;
    /// The stored hash of one perfect subtree.
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

impl<E, F: FnMut(u32, u64) -> Result<Hash, E>> Nodes for F {
    type Error = E;
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, E> {
        self(level, index)
    }
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The perfect subtrees that leaf number `index` (from 0) completes when it
/// is appended with hash `leaf`: `(level, index, hash)`, the leaf itself
/// first. Reads the left siblings it needs from `nodes`.
pub fn appended<N: Nodes>(
    index: u64,
    leaf: Hash,
    nodes: &mut N,
) -> Result<Vec<(u32, u64, Hash)>, N::Error> {
    let mut out = vec![(0, index, leaf)];
    let (mut level, mut i, mut h) = (0u32, index, leaf);
    while i & 1 == 1 {
        let left = nodes.node(level, i - 1)?;
        h = node_hash(&left, &h);
        i >>= 1;
        level += 1;
        out.push((level, i, h));
    }
    Ok(out)
}

/// `MTH(D[lo:hi])`, `lo < hi`, from stored perfect subtrees.
fn mth<N: Nodes>(lo: u64, hi: u64, nodes: &mut N) -> Result<Hash, N::Error> {
    let n = hi - lo;
    if n.is_power_of_two() && lo % n == 0 {
        let level = n.trailing_zeros();
        return nodes.node(level, lo >> level);
    }
    let k = split(n);
    let left = mth(lo, lo + k, nodes)?;
    let right = mth(lo + k, hi, nodes)?;
    Ok(node_hash(&left, &right))
}

/// The root hash of the tree of the first `size` leaves.
pub fn root<N: Nodes>(size: u64, nodes: &mut N) -> Result<Hash, N::Error> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    mth(0, size, nodes)
}

/// The inclusion proof (audit path) of leaf `index` in the tree of `size`
/// leaves, leaf side first.
pub fn inclusion_proof<N: Nodes>(
    index: u64,
    size: u64,
    nodes: &mut N,
) -> Result<Vec<Hash>, ProofError<N::Error>> {
    if index >= size {
        return Err(ProofError::OutOfRange);
    }
    path(index, 0, size, nodes).map_err(ProofError::Source)
}

/// `PATH(m, D[lo:hi])`.
fn path<N: Nodes>(m: u64, lo: u64, hi: u64, nodes: &mut N) -> Result<Vec<Hash>, N::Error> {
    let n = hi - lo;
    if n == 1 {
        return Ok(Vec::new());
    }
    let k = split(n);
    let (mut proof, sibling) = if m < k {
        (path(m, lo, lo + k, nodes)?, mth(lo + k, hi, nodes)?)
    } else {
        (path(m - k, lo + k, hi, nodes)?, mth(lo, lo + k, nodes)?)
    };
    proof.push(sibling);
    Ok(proof)
}

/// The consistency proof from the tree of `old` leaves to the tree of `new`
/// leaves, `0 < old <= new`. Empty when `old == new`.
pub fn consistency_proof<N: Nodes>(
    old: u64,
    new: u64,
    nodes: &mut N,
) -> Result<Vec<Hash>, ProofError<N::Error>> {
    if old == 0 || old > new {
        return Err(ProofError::OutOfRange);
    }
    subproof(old, 0, new, true, nodes).map_err(ProofError::Source)
}

/// `SUBPROOF(m, D[lo:hi], b)`.
fn subproof<N: Nodes>(
    m: u64,
    lo: u64,
    hi: u64,
    whole: bool,
    nodes: &mut N,
) -> Result<Vec<Hash>, N::Error> {
    let n = hi - lo;
    if m == n {
        return Ok(if whole {
            Vec::new()
        } else {
            vec![mth(lo, hi, nodes)?]
        });
    }
    let k = split(n);
    let (mut proof, sibling) = if m <= k {
        (
            subproof(m, lo, lo + k, whole, nodes)?,
            mth(lo + k, hi, nodes)?,
        )
    } else {
        (
            subproof(m - k, lo + k, hi, false, nodes)?,
            mth(lo, lo + k, nodes)?,
        )
    };
    proof.push(sibling);
    Ok(proof)
}

/// Checks that `leaf` is leaf number `index` of the tree of `size` leaves
/// whose root is `root` (RFC 9162, section 2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), InvalidProof> {
    if index >= size {
        return Err(InvalidProof);
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(InvalidProof);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && r == *root {
        Ok(())
    } else {
        Err(InvalidProof)
    }
}

/// Checks that the tree of `new` leaves with root `new_root` extends the
/// tree of `old` leaves with root `old_root` (RFC 9162, section 2.1.4.2).
/// An empty old tree is consistent with every tree and needs no proof, so
/// `old == 0` is refused here: there is nothing to check.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), InvalidProof> {
    if old == 0 || old > new {
        return Err(InvalidProof);
    }
    if old == new {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(InvalidProof)
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(InvalidProof);
    };
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(InvalidProof);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if fr == *old_root && sr == *new_root && sn == 0 {
        Ok(())
    } else {
        Err(InvalidProof)
    }
}

/// The right edge of a tree: the roots of the perfect subtrees that make up
/// the first `size` leaves, largest first (one per set bit of `size`).
///
/// A client that keeps it can take the leaves that follow, one by one, and
/// arrive at the new root without any proof: if that root is the one a
/// signed checkpoint names, the old tree is a prefix of the new one and
/// every new leaf is where the log says it is.
#[derive(Clone, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self {
            size: 0,
            hashes: Vec::new(),
        }
    }

    /// A frontier from its parts; `None` unless there is one hash per set
    /// bit of `size`.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Option<Self> {
        (hashes.len() == size.count_ones() as usize).then_some(Self { size, hashes })
    }

    /// Reads the frontier of the first `size` leaves from stored subtrees.
    pub fn read<N: Nodes>(size: u64, nodes: &mut N) -> Result<Self, N::Error> {
        let mut hashes = Vec::with_capacity(size.count_ones() as usize);
        let mut lo = 0u64;
        for level in (0..64u32).rev() {
            if (size >> level) & 1 == 1 {
                hashes.push(nodes.node(level, lo >> level)?);
                lo += 1 << level;
            }
        }
        Ok(Self { size, hashes })
    }

    /// Number of leaves covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree hashes, largest subtree first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends one leaf hash. `None` once the tree holds `u64::MAX` leaves.
    pub fn push(&mut self, leaf: Hash) -> Option<()> {
        let next = self.size.checked_add(1)?;
        let mut h = leaf;
        let mut n = self.size;
        while n & 1 == 1 {
            let left = self.hashes.pop()?;
            h = node_hash(&left, &h);
            n >>= 1;
        }
        self.hashes.push(h);
        self.size = next;
        Some(())
    }

    /// The root hash of the tree covered.
    pub fn root(&self) -> Hash {
        let mut it = self.hashes.iter().rev();
        let Some(last) = it.next() else {
            return EMPTY_ROOT;
        };
        it.fold(*last, |acc, h| node_hash(h, &acc))
    }
}

impl Default for Frontier {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Frontier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frontier")
            .field("size", &self.size)
            .field("hashes", &self.hashes.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A tree in memory, built only through `appended`.
    #[derive(Default)]
    struct Mem {
        nodes: HashMap<(u32, u64), Hash>,
        size: u64,
    }

    impl Mem {
        fn push(&mut self, data: &[u8]) {
            let leaf = leaf_hash(data);
            let nodes = &self.nodes;
            let new = appended(self.size, leaf, &mut |l, i| {
                nodes.get(&(l, i)).copied().ok_or(())
            })
            .unwrap();
            for (l, i, h) in new {
                self.nodes.insert((l, i), h);
            }
            self.size += 1;
        }

        fn reader(&self) -> impl FnMut(u32, u64) -> Result<Hash, ()> + '_ {
            |l, i| self.nodes.get(&(l, i)).copied().ok_or(())
        }
    }

    /// MTH straight from the RFC's definition, over leaf data.
    fn reference(leaves: &[Vec<u8>]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = split(n as u64) as usize;
                node_hash(&reference(&leaves[..k]), &reference(&leaves[k..]))
            }
        }
    }

    fn data(i: u64) -> Vec<u8> {
        format!("leaf {i}").into_bytes()
    }

    #[test]
    fn roots_match_the_rfc_definition_for_every_size_up_to_130() {
        let mut mem = Mem::default();
        let mut all = Vec::new();
        let mut frontier = Frontier::new();
        assert_eq!(root(0, &mut mem.reader()).unwrap(), EMPTY_ROOT);
        for i in 0..130u64 {
            mem.push(&data(i));
            all.push(data(i));
            frontier.push(leaf_hash(&data(i))).unwrap();
            let want = reference(&all);
            assert_eq!(
                root(i + 1, &mut mem.reader()).unwrap(),
                want,
                "size {}",
                i + 1
            );
            assert_eq!(frontier.root(), want, "frontier at size {}", i + 1);
            assert_eq!(
                Frontier::read(i + 1, &mut mem.reader()).unwrap(),
                frontier,
                "stored frontier at size {}",
                i + 1
            );
        }
    }

    #[test]
    fn every_inclusion_and_consistency_proof_of_a_small_tree_verifies() {
        let mut mem = Mem::default();
        for i in 0..40u64 {
            mem.push(&data(i));
        }
        for size in 1..=40u64 {
            let r = root(size, &mut mem.reader()).unwrap();
            for index in 0..size {
                let proof = inclusion_proof(index, size, &mut mem.reader()).unwrap();
                let leaf = leaf_hash(&data(index));
                assert_eq!(verify_inclusion(index, size, &leaf, &proof, &r), Ok(()));
                // The wrong leaf or place is refused. (Another size with
                // the same path shape computes the same root: the signed
                // checkpoint binds size and root together.)
                let other = leaf_hash(b"other");
                assert!(verify_inclusion(index, size, &other, &proof, &r).is_err());
                if size > 1 {
                    assert!(verify_inclusion((index + 1) % size, size, &leaf, &proof, &r).is_err());
                }
            }
            for old in 1..=size {
                let old_root = root(old, &mut mem.reader()).unwrap();
                let proof = consistency_proof(old, size, &mut mem.reader()).unwrap();
                assert_eq!(
                    verify_consistency(old, size, &old_root, &r, &proof),
                    Ok(()),
                    "{old} -> {size}"
                );
                if old < size {
                    assert!(verify_consistency(old, size, &r, &old_root, &proof).is_err());
                    let mut bad = proof.clone();
                    bad[0][0] ^= 1;
                    assert!(verify_consistency(old, size, &old_root, &r, &bad).is_err());
                    assert!(verify_consistency(old, size, &old_root, &r, &proof[1..]).is_err());
                }
            }
        }
    }

    #[test]
    fn proofs_out_of_range_are_errors_not_panics() {
        let mut mem = Mem::default();
        mem.push(b"x");
        assert_eq!(
            inclusion_proof(1, 1, &mut mem.reader()),
            Err(ProofError::OutOfRange)
        );
        assert_eq!(
            consistency_proof(0, 1, &mut mem.reader()),
            Err(ProofError::OutOfRange)
        );
        assert_eq!(
            consistency_proof(2, 1, &mut mem.reader()),
            Err(ProofError::OutOfRange)
        );
        // Asking beyond what is stored reaches the source's error.
        assert_eq!(
            inclusion_proof(0, 5, &mut mem.reader()),
            Err(ProofError::Source(()))
        );
        let h = [7u8; 32];
        assert!(verify_inclusion(u64::MAX, u64::MAX, &h, &[h; 70], &h).is_err());
        assert!(verify_consistency(u64::MAX - 1, u64::MAX, &h, &h, &[h; 70]).is_err());
        assert!(verify_consistency(3, 2, &h, &h, &[]).is_err());
        assert!(verify_consistency(3, 5, &h, &h, &[]).is_err());
    }

    #[test]
    fn a_frontier_needs_one_hash_per_set_bit() {
        assert!(Frontier::from_parts(5, vec![[0; 32]; 2]).is_some());
        assert!(Frontier::from_parts(5, vec![[0; 32]; 3]).is_none());
        assert_eq!(Frontier::new().root(), EMPTY_ROOT);
    }
}
