//! Deliberately naive implementations of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, written straight
//! from the recursive definitions over a list of leaf hashes, to check the store-based tree against.

use gridward_ledger::{Hash, HashAlgorithm, MemoryNodeStore, MerkleTree};

/// The largest power of two strictly below `n` (n ≥ 2), found by doubling as the RFC words it.
fn k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) over leaf hashes.
pub fn mth(alg: HashAlgorithm, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => alg.empty_root(),
        1 => leaves[0],
        n => {
            let (left, right) = leaves.split_at(k(n));
            alg.node_hash(&mth(alg, left), &mth(alg, right))
        }
    }
}

/// PATH(m, D[n]).
pub fn path(alg: HashAlgorithm, m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = k(n);
    let (left, right) = leaves.split_at(k);
    if m < k {
        let mut p = path(alg, m, left);
        p.push(mth(alg, right));
        p
    } else {
        let mut p = path(alg, m - k, right);
        p.push(mth(alg, left));
        p
    }
}

/// SUBPROOF(m, D[n], b).
fn subproof(alg: HashAlgorithm, m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole { Vec::new() } else { vec![mth(alg, leaves)] };
    }
    let k = k(n);
    let (left, right) = leaves.split_at(k);
    if m <= k {
        let mut p = subproof(alg, m, left, whole);
        p.push(mth(alg, right));
        p
    } else {
        let mut p = subproof(alg, m - k, right, false);
        p.push(mth(alg, left));
        p
    }
}

/// PROOF(m, D[n]) for 0 < m ≤ n.
pub fn consistency(alg: HashAlgorithm, m: usize, leaves: &[Hash]) -> Vec<Hash> {
    subproof(alg, m, leaves, true)
}

/// The entry bytes used for generated trees: distinct, of varying length.
pub fn entry(i: u64) -> Vec<u8> {
    format!("ledger entry #{i}: {}", "x".repeat(usize::try_from(i % 7).unwrap_or(0))).into_bytes()
}

/// Builds a tree of `n` generated entries and returns it with the leaf hashes.
pub fn build(alg: HashAlgorithm, n: u64) -> (MerkleTree<MemoryNodeStore>, Vec<Hash>) {
    let mut tree = MerkleTree::new(alg, MemoryNodeStore::new());
    let mut leaves = Vec::new();
    for i in 0..n {
        let data = entry(i);
        assert_eq!(tree.append(&data), Ok(i));
        leaves.push(alg.leaf_hash(&data));
    }
    (tree, leaves)
}

/// Parses a hex literal known to be valid.
pub fn h(hex: &str) -> Hash {
    match hex.parse() {
        Ok(hash) => hash,
        Err(e) => panic!("bad test hash {hex}: {e}"),
    }
}

/// Flips one bit of a hash.
pub fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut bytes = hash.to_bytes();
    bytes[bit / 8] ^= 1 << (bit % 8);
    Hash::from_bytes(bytes)
}
