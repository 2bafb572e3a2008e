//! Mutation tests: a valid proof with any one thing broken must fail to verify.
//!
//! The mutations follow transparency-dev/merkle's corruptInclusionProof / corruptConsistencyProof
//! and go further: every proof position is flipped, removed and has a node inserted before it.

use gridward_ledger::{
    ConsistencyProof, Hash, HashAlgorithm, InclusionProof, ProofError, TreeHead, verify_consistency, verify_inclusion,
};

use crate::reference::{build, flip};

/// Bits flipped in hashes: first and last bit of the first byte, one in the middle, the very last.
const BITS: [usize; 4] = [0, 7, 133, 255];

/// (index, size) pairs covering left edges, right edges, powers of two and their neighbours.
fn inclusion_samples() -> Vec<(u64, u64)> {
    let mut samples = Vec::new();
    for size in [1u64, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70] {
        let mut indices = vec![0, 1, size / 2, size.saturating_sub(2), size - 1];
        indices.retain(|&i| i < size);
        indices.sort_unstable();
        indices.dedup();
        samples.extend(indices.into_iter().map(|i| (i, size)));
    }
    samples
}

/// (old, new) pairs with 0 < old < new, so that every proof is non-trivial.
fn consistency_samples() -> Vec<(u64, u64)> {
    let mut samples = Vec::new();
    for new in [2u64, 3, 5, 7, 8, 9, 16, 17, 31, 33, 64, 70] {
        let mut olds = vec![1, 2, new / 2, new / 2 + 1, new - 1];
        if new > 4 {
            olds.push(4);
        }
        olds.retain(|&o| 0 < o && o < new);
        olds.sort_unstable();
        olds.dedup();
        samples.extend(olds.into_iter().map(|o| (o, new)));
    }
    samples
}

struct InclusionCase {
    index: u64,
    size: u64,
    leaf: Hash,
    proof: Vec<Hash>,
    root: Hash,
    what: String,
}

fn inclusion_mutations(index: u64, size: u64, leaf: Hash, proof: &[Hash], root: Hash) -> Vec<InclusionCase> {
    let case = |index, size, leaf, proof: Vec<Hash>, root, what: String| InclusionCase { index, size, leaf, proof, root, what };
    let some = HashAlgorithm::Sha256.digest(b"some other hash");
    let mut cases = Vec::new();
    if index > 0 {
        cases.push(case(index - 1, size, leaf, proof.to_vec(), root, "index - 1".into()));
    }
    cases.push(case(index + 1, size, leaf, proof.to_vec(), root, "index + 1".into()));
    cases.push(case(index ^ 2, size, leaf, proof.to_vec(), root, "index ^ 2".into()));
    cases.push(case(index, size * 2, leaf, proof.to_vec(), root, "size * 2".into()));
    cases.push(case(index, size / 2, leaf, proof.to_vec(), root, "size / 2".into()));
    for bit in BITS {
        cases.push(case(index, size, leaf, proof.to_vec(), flip(&root, bit), format!("root bit {bit}")));
        cases.push(case(index, size, flip(&leaf, bit), proof.to_vec(), root, format!("leaf bit {bit}")));
    }
    cases.push(case(index, size, leaf, proof.to_vec(), some, "unrelated root".into()));
    for i in 0..proof.len() {
        for bit in BITS {
            let mut p = proof.to_vec();
            p[i] = flip(&p[i], bit);
            cases.push(case(index, size, leaf, p, root, format!("proof[{i}] bit {bit}")));
        }
        let mut p = proof.to_vec();
        p.remove(i);
        cases.push(case(index, size, leaf, p, root, format!("proof[{i}] removed")));
        if i + 1 < proof.len() && proof[i] != proof[i + 1] {
            let mut p = proof.to_vec();
            p.swap(i, i + 1);
            cases.push(case(index, size, leaf, p, root, format!("proof[{i}] swapped with next")));
        }
    }
    for at in 0..=proof.len() {
        for (extra, name) in [(some, "unrelated"), (root, "root"), (leaf, "leaf")] {
            let mut p = proof.to_vec();
            p.insert(at, extra);
            cases.push(case(index, size, leaf, p, root, format!("{name} inserted at {at}")));
        }
    }
    if !proof.is_empty() {
        cases.push(case(index, size, leaf, proof[..proof.len() - 1].to_vec(), root, "truncated".into()));
        cases.push(case(index, size, leaf, Vec::new(), root, "emptied".into()));
    }
    cases
}

#[test]
fn broken_inclusion_proofs_fail() {
    let mut checked = 0;
    for alg in HashAlgorithm::ALL {
        let (tree, leaves) = build(alg, 70);
        for (index, size) in inclusion_samples() {
            let proof = tree.inclusion_proof(index, size).unwrap_or_else(|e| panic!("{e}"));
            let root = tree.root(size).unwrap_or_else(|e| panic!("{e}"));
            let leaf = leaves[usize::try_from(index).unwrap_or(usize::MAX)];
            assert_eq!(verify_inclusion(alg, &leaf, index, size, &proof.path, &root), Ok(()));
            for m in inclusion_mutations(index, size, leaf, &proof.path, root) {
                let result = verify_inclusion(alg, &m.leaf, m.index, m.size, &m.proof, &m.root);
                assert!(result.is_err(), "{alg} leaf {index} of {size}: {} verified", m.what);
                checked += 1;
            }
        }
    }
    assert!(checked > 3000, "only {checked} mutations checked");
}

#[test]
fn inclusion_failures_are_classified() {
    let alg = HashAlgorithm::Sm3;
    let (tree, leaves) = build(alg, 70);
    let (index, size) = (21, 70);
    let proof = tree.inclusion_proof(index, size).unwrap_or_else(|e| panic!("{e}")).path;
    let root = tree.root(size).unwrap_or_else(|e| panic!("{e}"));
    let leaf = leaves[21];
    let n = proof.len();

    let mut longer = proof.clone();
    longer.push(root);
    assert_eq!(verify_inclusion(alg, &leaf, index, size, &longer, &root), Err(ProofError::ProofTooLong { len: n + 1 }));
    assert_eq!(verify_inclusion(alg, &leaf, index, size, &proof[..n - 1], &root), Err(ProofError::ProofTooShort { len: n - 1 }));
    let wrong = flip(&root, 9);
    assert_eq!(
        verify_inclusion(alg, &leaf, index, size, &proof, &wrong),
        Err(ProofError::RootMismatch { expected: wrong, computed: root })
    );
    assert_eq!(verify_inclusion(alg, &leaf, 70, 70, &proof, &root), Err(ProofError::IndexOutOfRange { index: 70, size: 70 }));

    // The struct-level check also binds the algorithm and the size of the head.
    let proof = InclusionProof { algorithm: alg, leaf_index: index, tree_size: size, path: proof };
    let head = TreeHead { algorithm: alg, size, root };
    assert_eq!(proof.verify(&leaf, &head), Ok(()));
    let other_alg = TreeHead { algorithm: HashAlgorithm::Sha256, ..head };
    assert_eq!(proof.verify(&leaf, &other_alg), Err(ProofError::AlgorithmMismatch { proof: alg, head: HashAlgorithm::Sha256 }));
    let other_size = TreeHead { size: 71, ..head };
    assert_eq!(proof.verify(&leaf, &other_size), Err(ProofError::TreeSizeMismatch { proof: 70, head: 71 }));
}

struct ConsistencyCase {
    old: u64,
    new: u64,
    proof: Vec<Hash>,
    old_root: Hash,
    new_root: Hash,
    what: String,
}

fn consistency_mutations(old: u64, new: u64, proof: &[Hash], old_root: Hash, new_root: Hash) -> Vec<ConsistencyCase> {
    let case = |old, new, proof: Vec<Hash>, old_root, new_root, what: String| ConsistencyCase {
        old,
        new,
        proof,
        old_root,
        new_root,
        what,
    };
    let some = HashAlgorithm::Sha256.digest(b"some other hash");
    let mut cases = vec![
        case(old - 1, new, proof.to_vec(), old_root, new_root, "old - 1".into()),
        case(old + 1, new, proof.to_vec(), old_root, new_root, "old + 1".into()),
        case(old ^ 2, new, proof.to_vec(), old_root, new_root, "old ^ 2".into()),
        case(old, new * 2, proof.to_vec(), old_root, new_root, "new * 2".into()),
        case(old, new / 2, proof.to_vec(), old_root, new_root, "new / 2".into()),
        case(old, new, proof.to_vec(), new_root, old_root, "swapped roots".into()),
        case(old, new, proof.to_vec(), some, new_root, "unrelated old root".into()),
        case(old, new, proof.to_vec(), old_root, some, "unrelated new root".into()),
        case(old, new, Vec::new(), old_root, new_root, "emptied".into()),
        case(old, new, proof[..proof.len() - 1].to_vec(), old_root, new_root, "truncated".into()),
    ];
    for bit in BITS {
        cases.push(case(old, new, proof.to_vec(), flip(&old_root, bit), new_root, format!("old root bit {bit}")));
        cases.push(case(old, new, proof.to_vec(), old_root, flip(&new_root, bit), format!("new root bit {bit}")));
    }
    for i in 0..proof.len() {
        for bit in BITS {
            let mut p = proof.to_vec();
            p[i] = flip(&p[i], bit);
            cases.push(case(old, new, p, old_root, new_root, format!("proof[{i}] bit {bit}")));
        }
        let mut p = proof.to_vec();
        p.remove(i);
        cases.push(case(old, new, p, old_root, new_root, format!("proof[{i}] removed")));
    }
    for at in 0..=proof.len() {
        for (extra, name) in [(some, "unrelated"), (old_root, "old root"), (new_root, "new root"), (proof[0], "proof[0]")] {
            let mut p = proof.to_vec();
            p.insert(at, extra);
            cases.push(case(old, new, p, old_root, new_root, format!("{name} inserted at {at}")));
        }
    }
    cases
}

#[test]
fn broken_consistency_proofs_fail() {
    let mut checked = 0;
    for alg in HashAlgorithm::ALL {
        let (tree, _) = build(alg, 70);
        for (old, new) in consistency_samples() {
            let proof = tree.consistency_proof(old, new).unwrap_or_else(|e| panic!("{e}")).path;
            let old_root = tree.root(old).unwrap_or_else(|e| panic!("{e}"));
            let new_root = tree.root(new).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(verify_consistency(alg, old, new, &proof, &old_root, &new_root), Ok(()));
            assert!(!proof.is_empty());
            for m in consistency_mutations(old, new, &proof, old_root, new_root) {
                let result = verify_consistency(alg, m.old, m.new, &m.proof, &m.old_root, &m.new_root);
                assert!(result.is_err(), "{alg} {old} -> {new}: {} verified", m.what);
                checked += 1;
            }
        }
    }
    assert!(checked > 3000, "only {checked} mutations checked");
}

#[test]
fn consistency_failures_are_classified() {
    let alg = HashAlgorithm::Sha256;
    let (tree, _) = build(alg, 70);
    let (old, new) = (13, 70);
    let proof = tree.consistency_proof(old, new).unwrap_or_else(|e| panic!("{e}"));
    let old_head = tree.head_at(old).unwrap_or_else(|e| panic!("{e}"));
    let new_head = tree.head_at(new).unwrap_or_else(|e| panic!("{e}"));
    let (r1, r2) = (old_head.root, new_head.root);
    let path = &proof.path;
    let n = path.len();

    let mut longer = path.clone();
    longer.push(r2);
    assert_eq!(verify_consistency(alg, old, new, &longer, &r1, &r2), Err(ProofError::ProofTooLong { len: n + 1 }));
    assert_eq!(verify_consistency(alg, old, new, &path[..n - 1], &r1, &r2), Err(ProofError::ProofTooShort { len: n - 1 }));
    let bad_old = flip(&r1, 0);
    assert_eq!(
        verify_consistency(alg, old, new, path, &bad_old, &r2),
        Err(ProofError::OldRootMismatch { expected: bad_old, computed: r1 })
    );
    let bad_new = flip(&r2, 0);
    assert_eq!(
        verify_consistency(alg, old, new, path, &r1, &bad_new),
        Err(ProofError::NewRootMismatch { expected: bad_new, computed: r2 })
    );
    assert_eq!(
        verify_consistency(alg, new, old, path, &r1, &r2),
        Err(ProofError::OldSizeExceedsNew { old_size: new, new_size: old })
    );

    // A rewritten history: same sizes, one old entry changed. The honest proof from the rewritten
    // tree reproduces the rewritten old root, not the one the witness holds.
    let mut forged = gridward_ledger::MerkleTree::new(alg, gridward_ledger::MemoryNodeStore::new());
    for i in 0..70 {
        let entry = if i == 5 { b"rewritten".to_vec() } else { crate::reference::entry(i) };
        forged.append(&entry).ok();
    }
    let forged_proof = forged.consistency_proof(old, new).unwrap_or_else(|e| panic!("{e}"));
    let forged_head = forged.head();
    assert!(matches!(forged_proof.verify(&old_head, &forged_head), Err(ProofError::OldRootMismatch { .. })));
    // Truncation: a head smaller than the one the witness holds can never be proved consistent.
    let truncated = tree.head_at(old - 1).unwrap_or_else(|e| panic!("{e}"));
    let backwards = ConsistencyProof { algorithm: alg, old_size: old, new_size: old - 1, path: Vec::new() };
    assert_eq!(backwards.verify(&old_head, &truncated), Err(ProofError::OldSizeExceedsNew { old_size: old, new_size: old - 1 }));
    assert_eq!(proof.verify(&old_head, &new_head), Ok(()));
}
