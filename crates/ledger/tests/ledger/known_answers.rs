//! Known-answer tests.
//!
//! The RFC 6962 vectors are the published test data of transparency-dev/merkle (the Go library
//! behind Certificate Transparency and Trillian): the eight leaf inputs, the roots of every tree
//! size 1..=8, and the inclusion and consistency proofs come from `proof/verify_test.go`
//! (`leaves`, `roots`, `inclusionProofs`, `consistencyProofs`; there leaf numbers are 1-based, here
//! they are converted to 0-based indices), and the single-hash vectors from
//! `rfc6962/rfc6962_test.go`. The same vectors appear in google/trillian and in RFC 6962's
//! reference implementation.
//!
//! The SM3 vectors are examples 1 and 2 of GB/T 32905-2016 (also GM/T 0004-2012, appendix A).

use gridward_ledger::{ConsistencyProof, Hash, HashAlgorithm, InclusionProof, ProofError, verify_consistency, verify_inclusion};

use crate::reference::{h, mth};

const SHA: HashAlgorithm = HashAlgorithm::Sha256;

fn leaves() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0x00],
        vec![0x10],
        vec![0x20, 0x21],
        vec![0x30, 0x31],
        vec![0x40, 0x41, 0x42, 0x43],
        vec![0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        (0x60..=0x6f).collect(),
    ]
}

/// MTH of the first 1, 2, …, 8 leaves.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, audit path).
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (0, 1, vec![]),
        (
            0,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            5,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (2, 3, vec![h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
        (
            1,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

/// (old size, new size, consistency proof).
fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

fn vector_tree() -> gridward_ledger::MerkleTree<gridward_ledger::MemoryNodeStore> {
    let mut tree = gridward_ledger::MerkleTree::new(SHA, gridward_ledger::MemoryNodeStore::new());
    for leaf in leaves() {
        tree.append(&leaf).ok();
    }
    tree
}

#[test]
fn rfc6962_single_hash_vectors() {
    assert_eq!(SHA.empty_root(), h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assert_eq!(SHA.leaf_hash(b""), h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));
    assert_eq!(SHA.leaf_hash(b"L123456"), h("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"));
    // HashChildren("N123", "N456") = SHA-256(0x01 ‖ "N123" ‖ "N456"); node_hash only takes 32-byte
    // children, so the same bytes go through the plain digest.
    assert_eq!(SHA.digest(b"\x01N123N456"), h("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"));
}

#[test]
fn rfc6962_roots_for_every_size() {
    let tree = vector_tree();
    assert_eq!(tree.size(), 8);
    assert_eq!(tree.root(0), Ok(SHA.empty_root()));
    let hashes: Vec<Hash> = leaves().iter().map(|l| SHA.leaf_hash(l)).collect();
    for (i, want) in ROOTS.iter().enumerate() {
        let size = i as u64 + 1;
        assert_eq!(tree.root(size), Ok(h(want)), "root of size {size}");
        assert_eq!(mth(SHA, &hashes[..=i]), h(want), "reference MTH of size {size}");
    }
    assert_eq!(tree.current_root(), h(ROOTS[7]));
    // Incrementally, after each append.
    let mut growing = gridward_ledger::MerkleTree::new(SHA, gridward_ledger::MemoryNodeStore::new());
    for (leaf, want) in leaves().iter().zip(ROOTS) {
        growing.append(leaf).ok();
        assert_eq!(growing.head().root, h(want));
    }
}

#[test]
fn rfc6962_inclusion_vectors() {
    let tree = vector_tree();
    let leaves = leaves();
    for (index, size, path) in inclusion_vectors() {
        let proof = tree.inclusion_proof(index, size);
        assert_eq!(
            proof,
            Ok(InclusionProof { algorithm: SHA, leaf_index: index, tree_size: size, path: path.clone() }),
            "inclusion proof for leaf {index} in size {size}"
        );
        let leaf = SHA.leaf_hash(&leaves[usize::try_from(index).unwrap_or(usize::MAX)]);
        let root = h(ROOTS[usize::try_from(size - 1).unwrap_or(usize::MAX)]);
        assert_eq!(verify_inclusion(SHA, &leaf, index, size, &path, &root), Ok(()));
    }
}

#[test]
fn rfc6962_consistency_vectors() {
    let tree = vector_tree();
    for (old, new, path) in consistency_vectors() {
        assert_eq!(
            tree.consistency_proof(old, new),
            Ok(ConsistencyProof { algorithm: SHA, old_size: old, new_size: new, path: path.clone() }),
            "consistency proof {old} -> {new}"
        );
        let old_root = h(ROOTS[usize::try_from(old - 1).unwrap_or(usize::MAX)]);
        let new_root = h(ROOTS[usize::try_from(new - 1).unwrap_or(usize::MAX)]);
        assert_eq!(verify_consistency(SHA, old, new, &path, &old_root, &new_root), Ok(()));
    }
}

/// The edge cases of transparency-dev's TestVerifyInclusion / TestVerifyConsistency tables,
/// adapted to fixed-size hashes (its "don't care" byte strings become two distinct hashes).
#[test]
fn verification_edge_cases() {
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let empty = SHA.empty_root();
    let (r1, r2) = (SHA.digest(b"don't care 1"), SHA.digest(b"don't care 2"));

    // Inclusion: empty trees and indices outside the tree never verify.
    for (index, size) in [(0, 0), (1, 0), (2, 1), (1, 1), (8, 8), (u64::MAX, u64::MAX)] {
        assert_eq!(verify_inclusion(SHA, &some, index, size, &[], &some), Err(ProofError::IndexOutOfRange { index, size }));
    }
    // A one-leaf tree's root is its leaf hash and the proof is empty.
    let leaf = SHA.leaf_hash(b"data");
    assert_eq!(verify_inclusion(SHA, &leaf, 0, 1, &[], &leaf), Ok(()));
    assert_eq!(verify_inclusion(SHA, &leaf, 0, 1, &[], &some), Err(ProofError::RootMismatch { expected: some, computed: leaf }));
    assert_eq!(verify_inclusion(SHA, &leaf, 0, 1, &[leaf], &leaf), Err(ProofError::ProofTooLong { len: 1 }));
    assert_eq!(verify_inclusion(SHA, &leaf, 0, 2, &[], &leaf), Err(ProofError::ProofTooShort { len: 0 }));

    // Consistency, sizes that are always consistent.
    assert_eq!(verify_consistency(SHA, 0, 0, &[], &empty, &empty), Ok(()));
    assert_eq!(verify_consistency(SHA, 0, 1, &[], &empty, &r2), Ok(()));
    assert_eq!(verify_consistency(SHA, 1, 1, &[], &r2, &r2), Ok(()));
    // Equal sizes with different roots: a fork.
    assert_eq!(verify_consistency(SHA, 1, 1, &[], &r1, &r2), Err(ProofError::NewRootMismatch { expected: r2, computed: r1 }));
    assert_eq!(
        verify_consistency(SHA, 0, 0, &[], &empty, &r2),
        Err(ProofError::NewRootMismatch { expected: r2, computed: empty })
    );
    // Size 0 must carry the empty root (stricter than transparency-dev, which ignores it).
    assert_eq!(verify_consistency(SHA, 0, 1, &[], &r1, &r2), Err(ProofError::OldRootMismatch { expected: r1, computed: empty }));
    // Time travel to the past.
    assert_eq!(verify_consistency(SHA, 1, 0, &[], &r1, &r2), Err(ProofError::OldSizeExceedsNew { old_size: 1, new_size: 0 }));
    assert_eq!(verify_consistency(SHA, 2, 1, &[], &r1, &r2), Err(ProofError::OldSizeExceedsNew { old_size: 2, new_size: 1 }));
    // A real extension with an empty proof.
    assert_eq!(verify_consistency(SHA, 1, 2, &[], &r1, &r2), Err(ProofError::ProofTooShort { len: 0 }));
    // Roots match but the proof is not empty.
    for (old, new) in [(0, 0), (0, 1), (1, 1)] {
        assert_eq!(verify_consistency(SHA, old, new, &[empty], &empty, &empty), Err(ProofError::ProofTooLong { len: 1 }));
    }
}

#[test]
fn sm3_standard_vectors() {
    let sm3 = HashAlgorithm::Sm3;
    // GB/T 32905-2016 example 1.
    assert_eq!(sm3.digest(b"abc"), h("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"));
    // GB/T 32905-2016 example 2: "abcd" repeated 16 times (64 bytes, two compression blocks).
    assert_eq!(sm3.digest("abcd".repeat(16).as_bytes()), h("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"));
    // SM3 of the empty string, which is the SM3 empty-tree root.
    assert_eq!(sm3.empty_root(), h("1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"));
    // The tree hashes are the prefixed digests.
    assert_eq!(sm3.leaf_hash(b"abc"), sm3.digest(b"\x00abc"));
}

#[test]
fn sm3_tree_differs_from_sha256_tree() {
    let sm3_tree = {
        let mut tree = gridward_ledger::MerkleTree::new(HashAlgorithm::Sm3, gridward_ledger::MemoryNodeStore::new());
        for leaf in leaves() {
            tree.append(&leaf).ok();
        }
        tree
    };
    let hashes: Vec<Hash> = leaves().iter().map(|l| HashAlgorithm::Sm3.leaf_hash(l)).collect();
    assert_eq!(sm3_tree.current_root(), mth(HashAlgorithm::Sm3, &hashes));
    assert_ne!(sm3_tree.current_root(), h(ROOTS[7]));
}
