//! Proof verification that needs nothing but the proof, the sizes and the trusted roots.
//!
//! These functions are what a witness or an outside auditor runs, so they follow RFC 9162
//! §2.1.3.2 and §2.1.4.2 step by step and never consult a node store.

use crate::error::ProofError;
use crate::hash::{Hash, HashAlgorithm};

/// Recomputes the root that an inclusion proof leads to (RFC 9162 §2.1.3.2, steps 1–5 without
/// the final comparison). `audit verify` uses this to report which root a bad proof produced.
///
/// It fails when `index` is not below `size`, and when the proof has too many or too few hashes
/// for a leaf at that position in a tree of that size.
pub fn root_from_inclusion_proof(
    algorithm: HashAlgorithm,
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    // Step 1: a leaf can only be proved inside the tree.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // Steps 2 and 3.
    let mut f_n = index;
    let mut s_n = size - 1;
    let mut r = *leaf_hash;
    // Step 4.
    for p in proof {
        // 4a: reaching the root with hashes left over means the proof is too long.
        if s_n == 0 {
            return Err(ProofError::ProofTooLong { len: proof.len() });
        }
        if f_n & 1 == 1 || f_n == s_n {
            // 4b: the sibling is on the left.
            r = algorithm.node_hash(p, &r);
            // Levels where the node is the last one and has no sibling are skipped.
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            // The sibling is on the right.
            r = algorithm.node_hash(&r, p);
        }
        // 4c.
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5, first half: the path must reach the root exactly.
    if s_n != 0 {
        return Err(ProofError::ProofTooShort { len: proof.len() });
    }
    Ok(r)
}

/// Checks that the leaf with hash `leaf_hash` sits at `index` in the tree of `size` leaves whose
/// root is `root` (RFC 9162 §2.1.3.2).
///
/// The leaf hash is H(0x00 ‖ entry), see [`HashAlgorithm::leaf_hash`]; passing the hash rather
/// than the entry lets callers that only stored hashes verify too.
pub fn verify_inclusion(
    algorithm: HashAlgorithm,
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion_proof(algorithm, leaf_hash, index, size, proof)?;
    if computed != *root {
        return Err(ProofError::RootMismatch { expected: *root, computed });
    }
    Ok(())
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of `old_size`
/// leaves with root `old_root`, i.e. that history was only appended to (RFC 9162 §2.1.4.2).
///
/// The RFC only defines proofs for 0 < old < new; the edge cases are settled as follows, so that
/// every caller treats them alike:
/// * `old_size > new_size` fails: a log never shrinks.
/// * `old_size == new_size` needs an empty proof and identical roots.
/// * `old_size == 0` needs an empty proof, and `old_root` must be the empty-tree root, because
///   that is the only root a genuine empty tree can have; any new tree extends it.
pub fn verify_consistency(
    algorithm: HashAlgorithm,
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeExceedsNew { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::ProofTooLong { len: proof.len() });
        }
        if old_size == 0 {
            let empty = algorithm.empty_root();
            if *old_root != empty {
                return Err(ProofError::OldRootMismatch { expected: *old_root, computed: empty });
            }
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::NewRootMismatch { expected: *new_root, computed: *old_root });
        }
        return Ok(());
    }

    // Step 1: a real extension always needs at least one hash.
    let Some((first, rest)) = proof.split_first() else {
        return Err(ProofError::ProofTooShort { len: 0 });
    };
    // Steps 2 and 5: when the old tree is a complete subtree its root is the starting point and
    // the proof does not repeat it; otherwise the proof starts with that subtree's hash.
    let (start, path) = if old_size.is_power_of_two() { (old_root, proof) } else { (first, rest) };
    let mut f_r = *start;
    let mut s_r = *start;
    // Step 3.
    let mut f_n = old_size - 1;
    let mut s_n = new_size - 1;
    // Step 4.
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 6.
    for c in path {
        // 6a.
        if s_n == 0 {
            return Err(ProofError::ProofTooLong { len: proof.len() });
        }
        if f_n & 1 == 1 || f_n == s_n {
            // 6b: the hash is a left sibling on both paths.
            f_r = algorithm.node_hash(c, &f_r);
            s_r = algorithm.node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            // Otherwise it only extends the new tree, to the right.
            s_r = algorithm.node_hash(&s_r, c);
        }
        // 6c.
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 7.
    if s_n != 0 {
        return Err(ProofError::ProofTooShort { len: proof.len() });
    }
    if f_r != *old_root {
        return Err(ProofError::OldRootMismatch { expected: *old_root, computed: f_r });
    }
    if s_r != *new_root {
        return Err(ProofError::NewRootMismatch { expected: *new_root, computed: s_r });
    }
    Ok(())
}
