//! History is stable: whatever is appended later, everything said about an old size stays true.

use gridward_ledger::{HashAlgorithm, TreeHead, verify_consistency, verify_inclusion};

use crate::reference::{build, entry};

#[test]
fn proofs_for_an_old_size_survive_many_appends() {
    for alg in HashAlgorithm::ALL {
        let old = 37u64;
        let (mut tree, leaves) = build(alg, old);
        let old_head = tree.head();
        let heads: Vec<TreeHead> = (0..=old).map(|size| tree.head_at(size).unwrap_or_else(|e| panic!("{e}"))).collect();
        let inclusion: Vec<_> = (0..old).map(|i| tree.inclusion_proof(i, old).unwrap_or_else(|e| panic!("{e}"))).collect();
        let consistency: Vec<_> =
            (0..=old).map(|size| tree.consistency_proof(size, old).unwrap_or_else(|e| panic!("{e}"))).collect();

        for i in old..old + 2000 {
            tree.append(&entry(i)).ok();
        }
        let new_head = tree.head();
        assert_eq!(new_head.size, 2037);

        // Every past root is unchanged.
        for (size, head) in heads.iter().enumerate() {
            assert_eq!(tree.head_at(size as u64).as_ref(), Ok(head), "{alg} head at {size}");
        }
        for (i, proof) in inclusion.iter().enumerate() {
            let index = i as u64;
            // The old proof still verifies against the old head ...
            assert_eq!(proof.verify(&leaves[i], &old_head), Ok(()));
            // ... and the tree hands out exactly the same proof for the old size.
            assert_eq!(tree.inclusion_proof(index, old).as_ref(), Ok(proof));
            // The leaf is also provably in the grown tree.
            let fresh = tree.inclusion_proof(index, new_head.size).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(verify_inclusion(alg, &leaves[i], index, new_head.size, &fresh.path, &new_head.root), Ok(()));
        }
        for (size, proof) in consistency.iter().enumerate() {
            assert_eq!(tree.consistency_proof(size as u64, old).as_ref(), Ok(proof));
            assert_eq!(proof.verify(&heads[size], &old_head), Ok(()));
        }
        // The grown tree extends every old head, as a witness would check.
        for (size, head) in heads.iter().enumerate() {
            let proof = tree.consistency_proof(size as u64, new_head.size).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                verify_consistency(alg, head.size, new_head.size, &proof.path, &head.root, &new_head.root),
                Ok(()),
                "{alg} {size} -> {}",
                new_head.size
            );
        }
    }
}
