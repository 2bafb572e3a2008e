//! The values that leave the server: tree heads and proofs, serializable as JSON.

use serde::{Deserialize, Serialize};

use crate::error::ProofError;
use crate::hash::{Hash, HashAlgorithm};
use crate::verify::{verify_consistency, verify_inclusion};

/// The state of the ledger at one size: what a checkpoint signs and a witness remembers.
///
/// The algorithm travels with the root so that a head can never be checked with the wrong hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TreeHead {
    /// The hash algorithm the tree is built with.
    pub algorithm: HashAlgorithm,
    /// The number of leaves (ledger entries) covered.
    pub size: u64,
    /// The Merkle Tree Hash of those leaves.
    pub root: Hash,
}

impl TreeHead {
    /// The head of an empty tree, which every later head extends.
    pub fn empty(algorithm: HashAlgorithm) -> Self {
        Self { algorithm, size: 0, root: algorithm.empty_root() }
    }
}

/// A proof that one leaf is part of the tree at a given size (RFC 9162 §2.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The hash algorithm the proof was made with.
    pub algorithm: HashAlgorithm,
    /// The zero-based position of the leaf, which is the entry's sequence number.
    pub leaf_index: u64,
    /// The tree size the proof leads to the root of.
    pub tree_size: u64,
    /// The sibling hashes from the leaf up to the root.
    pub path: Vec<Hash>,
}

impl InclusionProof {
    /// Checks the proof for a leaf against a trusted tree head.
    ///
    /// The head must name the same algorithm and size as the proof; a proof for another size
    /// says nothing about this head, so it is rejected rather than reinterpreted.
    pub fn verify(&self, leaf_hash: &Hash, head: &TreeHead) -> Result<(), ProofError> {
        if self.algorithm != head.algorithm {
            return Err(ProofError::AlgorithmMismatch { proof: self.algorithm, head: head.algorithm });
        }
        if self.tree_size != head.size {
            return Err(ProofError::TreeSizeMismatch { proof: self.tree_size, head: head.size });
        }
        verify_inclusion(self.algorithm, leaf_hash, self.leaf_index, self.tree_size, &self.path, &head.root)
    }
}

/// A proof that a newer tree extends an older one without rewriting it (RFC 9162 §2.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// The hash algorithm the proof was made with.
    pub algorithm: HashAlgorithm,
    /// The size of the older tree.
    pub old_size: u64,
    /// The size of the newer tree.
    pub new_size: u64,
    /// The subtree hashes that rebuild both roots.
    pub path: Vec<Hash>,
}

impl ConsistencyProof {
    /// Checks the proof against two trusted tree heads, as a witness does before cosigning.
    pub fn verify(&self, old: &TreeHead, new: &TreeHead) -> Result<(), ProofError> {
        for head in [old, new] {
            if self.algorithm != head.algorithm {
                return Err(ProofError::AlgorithmMismatch { proof: self.algorithm, head: head.algorithm });
            }
        }
        if self.old_size != old.size {
            return Err(ProofError::TreeSizeMismatch { proof: self.old_size, head: old.size });
        }
        if self.new_size != new.size {
            return Err(ProofError::TreeSizeMismatch { proof: self.new_size, head: new.size });
        }
        verify_consistency(self.algorithm, self.old_size, self.new_size, &self.path, &old.root, &new.root)
    }
}
