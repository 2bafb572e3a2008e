//! The full-process record (执法全过程记录) as a tamper-evident ledger: an RFC 6962 / RFC 9162
//! Merkle tree over SM3 (GB/T 32905), or SHA-256 when chosen at creation.
//!
//! Every ledger entry is a leaf, hashed as H(0x00 ‖ entry); interior nodes are H(0x01 ‖ left ‖
//! right). Anyone holding an old signed tree head can check with a consistency proof that today's
//! tree only appended to it, and anyone holding an entry can check with an inclusion proof that it
//! is in the tree. A rewritten or truncated history therefore cannot go unnoticed.
//!
//! This crate is pure computation so that the same code runs in the server, in a witness and in an
//! offline checker:
//!
//! * [`HashAlgorithm`] and [`Hash`]: the hash functions and their 32-byte values (hex in JSON).
//! * [`MerkleTree`] over a [`NodeStore`]: O(log n) appends, and roots and proofs for any past size.
//! * [`inclusion_plan`], [`consistency_plan`], [`root_plan`]: which stored nodes a proof needs,
//!   so a database can fetch them in one query.
//! * [`verify_inclusion`], [`verify_consistency`]: RFC 9162 verification with no store at all.
//! * [`TreeHead`], [`InclusionProof`], [`ConsistencyProof`]: what is signed, sent and stored.
//! * [`Entry`]: one recorded change and the exact bytes its leaf covers.
//!
//! * [`Checkpoint`], [`CheckpointKey`]: tree heads signed with SM2 (GB/T 32918), and their checks.
//! * [`EntryProofBundle`]: a self-contained, offline-checkable proof that an entry is in a signed head.
//! * [`judge`]: a witness's decision whether a new head only extends the one it cosigned last.
//!
//! It holds no database and does no IO; storing entries and checkpoints lives in the store.
//!
//! ```
//! use gridward_ledger::{HashAlgorithm, MemoryNodeStore, MerkleTree};
//!
//! let mut tree = MerkleTree::new(HashAlgorithm::Sm3, MemoryNodeStore::new());
//! for entry in [&b"case 1 opened"[..], b"case 1 evidence added", b"case 1 closed"] {
//!     tree.append(entry)?;
//! }
//! let old_head = tree.head_at(2)?;
//! let head = tree.head();
//!
//! // An outsider holding `head` checks that entry 1 is in it ...
//! let leaf = HashAlgorithm::Sm3.leaf_hash(b"case 1 evidence added");
//! tree.inclusion_proof(1, head.size)?.verify(&leaf, &head)?;
//! // ... and a witness holding `old_head` checks that nothing before it was rewritten.
//! tree.consistency_proof(old_head.size, head.size)?.verify(&old_head, &head)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bundle;
mod checkpoint;
mod entry;
mod error;
mod hash;
mod plan;
mod proof;
mod store;
mod tree;
mod verify;
mod witness;

pub use bundle::{BUNDLE_FORMAT, BundleError, EntryProofBundle};
pub use checkpoint::{
    Checkpoint, CheckpointKey, CheckpointSignature, SM2_DISTINGUISHING_ID, SignatureError, key_id, verify_checkpoint,
};
pub use entry::{Entry, EntryView, canonical_payload};
pub use error::{ProofError, TreeError};
pub use hash::{Hash, HashAlgorithm, ParseHashError, UnknownAlgorithm};
pub use plan::{ProofPlan, consistency_plan, inclusion_plan, root_plan};
pub use proof::{ConsistencyProof, InclusionProof, TreeHead};
pub use store::{MemoryNodeStore, NodeId, NodeStore};
pub use tree::MerkleTree;
pub use verify::{root_from_inclusion_proof, verify_consistency, verify_inclusion};
pub use witness::{WitnessRefusal, WitnessState, judge};
