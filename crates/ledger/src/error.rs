//! The two error types: one for building proofs from a store, one for checking them.

use crate::hash::{Hash, HashAlgorithm};
use crate::store::NodeId;

/// Why the tree could not answer a request (compute a root, produce a proof, append).
///
/// These are errors of the party that holds the tree: a bad request or a damaged store. They are
/// kept apart from [`ProofError`], which is what a verifier sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A leaf index at or beyond the tree size was asked for.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size the request was made against.
        size: u64,
    },
    /// A tree size larger than the tree has grown to was asked for; its root does not exist yet.
    #[error("tree size {size} is beyond the current size {tree_size}")]
    SizeBeyondTree {
        /// The requested size.
        size: u64,
        /// The number of leaves appended so far.
        tree_size: u64,
    },
    /// A consistency proof was asked for from a larger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeExceedsNew {
        /// The requested old size.
        old_size: u64,
        /// The requested new size.
        new_size: u64,
    },
    /// The store lacks a node that must exist for the tree's size: the store is incomplete or
    /// was tampered with, and no answer can be trusted.
    #[error("node {0} is missing from the node store")]
    MissingNode(NodeId),
    /// The tree already holds 2^64 − 1 leaves and cannot count another one.
    #[error("the tree is full")]
    TreeFull,
}

/// Why a proof failed to verify.
///
/// Each variant names a different kind of failure so that `audit verify` and witnesses can say
/// precisely what was wrong; any of them means the proof must be rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size, so no leaf can be proved there.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// A consistency proof claims a tree shrank; append-only trees never do.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeExceedsNew {
        /// The claimed old size.
        old_size: u64,
        /// The claimed new size.
        new_size: u64,
    },
    /// The proof has more hashes than a proof for these sizes can have.
    #[error("the proof is too long ({len} hashes) for the claimed tree sizes")]
    ProofTooLong {
        /// The number of hashes supplied.
        len: usize,
    },
    /// The proof has fewer hashes than a proof for these sizes needs (possibly none at all).
    #[error("the proof is too short ({len} hashes) for the claimed tree sizes")]
    ProofTooShort {
        /// The number of hashes supplied.
        len: usize,
    },
    /// An inclusion proof leads to a root other than the trusted one.
    #[error("the proof leads to root {computed}, not the expected {expected}")]
    RootMismatch {
        /// The trusted root the proof was checked against.
        expected: Hash,
        /// The root the proof leads to.
        computed: Hash,
    },
    /// A consistency proof does not reproduce the old root: it is not a proof from that head.
    #[error("the proof reproduces old root {computed}, not the expected {expected}")]
    OldRootMismatch {
        /// The trusted old root.
        expected: Hash,
        /// The old root the proof reproduces.
        computed: Hash,
    },
    /// A consistency proof does not reproduce the new root: the new tree does not extend the old.
    #[error("the proof reproduces new root {computed}, not the expected {expected}")]
    NewRootMismatch {
        /// The trusted new root.
        expected: Hash,
        /// The new root the proof reproduces.
        computed: Hash,
    },
    /// The proof was made with a different hash algorithm than the tree head it is checked against.
    #[error("the proof uses {proof} but the tree head uses {head}")]
    AlgorithmMismatch {
        /// The algorithm named by the proof.
        proof: HashAlgorithm,
        /// The algorithm named by the tree head.
        head: HashAlgorithm,
    },
    /// The proof was made for a different tree size than the tree head it is checked against.
    #[error("the proof is for tree size {proof} but the tree head has size {head}")]
    TreeSizeMismatch {
        /// The size named by the proof.
        proof: u64,
        /// The size named by the tree head.
        head: u64,
    },
}
