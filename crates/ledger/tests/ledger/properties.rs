//! Property-style tests: every size and position up to 70 leaves, for both algorithms, checked
//! against the naive recursive definitions.

use std::cell::Cell;
use std::collections::HashMap;

use gridward_ledger::{
    Hash, HashAlgorithm, InclusionProof, MemoryNodeStore, MerkleTree, NodeId, NodeStore, TreeError, TreeHead, consistency_plan,
    inclusion_plan, root_from_inclusion_proof, verify_consistency, verify_inclusion,
};

use crate::reference::{self, build, entry, mth};

const MAX: u64 = 70;

fn idx(i: u64) -> usize {
    usize::try_from(i).unwrap_or(usize::MAX)
}

#[test]
fn roots_match_reference_for_every_size() {
    for alg in HashAlgorithm::ALL {
        let mut tree = MerkleTree::new(alg, MemoryNodeStore::new());
        let mut leaves = Vec::new();
        assert_eq!(tree.current_root(), alg.empty_root());
        for i in 0..MAX {
            tree.append(&entry(i)).ok();
            leaves.push(alg.leaf_hash(&entry(i)));
            // Incremental root right after the append.
            assert_eq!(tree.current_root(), mth(alg, &leaves), "{alg} size {}", i + 1);
        }
        // And every past root read back from the store afterwards.
        for size in 0..=MAX {
            assert_eq!(tree.root(size), Ok(mth(alg, &leaves[..idx(size)])), "{alg} root({size})");
        }
    }
}

#[test]
fn every_inclusion_proof_matches_reference_and_verifies() {
    for alg in HashAlgorithm::ALL {
        let (tree, leaves) = build(alg, MAX);
        for size in 1..=MAX {
            let root = mth(alg, &leaves[..idx(size)]);
            let head = TreeHead { algorithm: alg, size, root };
            for index in 0..size {
                let proof = tree.inclusion_proof(index, size).unwrap_or_else(|e| panic!("{alg} {index}/{size}: {e}"));
                assert_eq!(proof.path, reference::path(alg, idx(index), &leaves[..idx(size)]), "{alg} path {index}/{size}");
                let leaf = leaves[idx(index)];
                assert_eq!(verify_inclusion(alg, &leaf, index, size, &proof.path, &root), Ok(()));
                assert_eq!(root_from_inclusion_proof(alg, &leaf, index, size, &proof.path), Ok(root));
                assert_eq!(proof.verify(&leaf, &head), Ok(()));
            }
        }
    }
}

#[test]
fn every_consistency_proof_matches_reference_and_verifies() {
    for alg in HashAlgorithm::ALL {
        let (tree, leaves) = build(alg, MAX);
        let roots: Vec<Hash> = (0..=MAX).map(|n| mth(alg, &leaves[..idx(n)])).collect();
        for new in 1..=MAX {
            // From the empty tree.
            let proof = tree.consistency_proof(0, new).unwrap_or_else(|e| panic!("{e}"));
            assert!(proof.path.is_empty());
            assert_eq!(verify_consistency(alg, 0, new, &proof.path, &roots[0], &roots[idx(new)]), Ok(()));
            for old in 1..=new {
                let proof = tree.consistency_proof(old, new).unwrap_or_else(|e| panic!("{alg} {old}->{new}: {e}"));
                assert_eq!(proof.path, reference::consistency(alg, idx(old), &leaves[..idx(new)]), "{alg} proof {old}->{new}");
                assert_eq!(
                    verify_consistency(alg, old, new, &proof.path, &roots[idx(old)], &roots[idx(new)]),
                    Ok(()),
                    "{alg} verify {old}->{new}"
                );
                let old_head = TreeHead { algorithm: alg, size: old, root: roots[idx(old)] };
                let new_head = TreeHead { algorithm: alg, size: new, root: roots[idx(new)] };
                assert_eq!(proof.verify(&old_head, &new_head), Ok(()));
            }
        }
    }
}

/// A store that counts reads and writes and records any overwrite with a different value.
#[derive(Default)]
struct CountingStore {
    nodes: HashMap<NodeId, Hash>,
    reads: Cell<usize>,
    writes: usize,
    overwrites: usize,
}

impl NodeStore for CountingStore {
    fn get(&self, id: NodeId) -> Option<Hash> {
        self.reads.set(self.reads.get() + 1);
        self.nodes.get(&id).copied()
    }

    fn put(&mut self, id: NodeId, hash: Hash) {
        self.writes += 1;
        if self.nodes.insert(id, hash).is_some_and(|old| old != hash) {
            self.overwrites += 1;
        }
    }
}

fn log2_ceil(n: u64) -> usize {
    usize::try_from(64 - n.saturating_sub(1).leading_zeros()).unwrap_or(64)
}

#[test]
fn appends_and_proofs_touch_logarithmically_many_nodes() {
    let alg = HashAlgorithm::Sm3;
    let mut tree = MerkleTree::new(alg, CountingStore::default());
    let n = 1000u64;
    for i in 0..n {
        let before = tree.store().writes;
        tree.append(&entry(i)).ok();
        let writes = tree.store().writes - before;
        // The leaf plus one parent per trailing one bit of the old size.
        assert_eq!(writes, 1 + usize::try_from(i.trailing_ones()).unwrap_or(0), "append #{i}");
        assert_eq!(tree.store().reads.get(), 0, "appends read nothing");
    }
    // Complete subtrees only: n leaves give exactly 2n − popcount(n) nodes, each written once.
    assert_eq!(tree.store().nodes.len(), usize::try_from(2 * n - u64::from(n.count_ones())).unwrap_or(0));
    assert_eq!(tree.store().overwrites, 0);

    for size in [1, 2, 3, 500, 511, 512, 513, 777, 999, 1000] {
        for index in [0, size / 3, size - 1] {
            let reads = tree.store().reads.get();
            tree.inclusion_proof(index, size).ok();
            let used = tree.store().reads.get() - reads;
            let planned = inclusion_plan(index, size).map(|p| p.node_ids().count()).unwrap_or(0);
            assert_eq!(used, planned);
            assert!(used <= 2 * log2_ceil(size), "inclusion {index}/{size} read {used} nodes");
        }
        for old in [1, size / 2, size] {
            if old == 0 {
                continue;
            }
            let reads = tree.store().reads.get();
            tree.consistency_proof(old, size).ok();
            let used = tree.store().reads.get() - reads;
            let planned = consistency_plan(old, size).map(|p| p.node_ids().count()).unwrap_or(0);
            assert_eq!(used, planned);
            assert!(used <= 2 * log2_ceil(size) + 1, "consistency {old}->{size} read {used} nodes");
        }
        let reads = tree.store().reads.get();
        tree.root(size).ok();
        let used = tree.store().reads.get() - reads;
        assert!(used <= log2_ceil(size) + 1, "root({size}) read {used} nodes");
    }
}

#[test]
fn reopening_from_the_store_continues_the_same_tree() {
    for alg in HashAlgorithm::ALL {
        let (tree, _) = build(alg, 45);
        let head = tree.head();
        let mut reopened = MerkleTree::open(alg, tree.store().clone(), 45).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reopened.head(), head);
        let mut original = tree;
        for i in 45..MAX {
            original.append(&entry(i)).ok();
            reopened.append(&entry(i)).ok();
            assert_eq!(reopened.head(), original.head());
        }
        assert_eq!(reopened.store(), original.store());
        // Reopening at any past size gives that size's head.
        for size in [0, 1, 13, 32, 45] {
            let past = MerkleTree::open(alg, original.store().clone(), size).map(|t| t.head());
            assert_eq!(past, original.head_at(size));
        }
    }
}

#[test]
fn damaged_store_is_reported_not_guessed() {
    let (tree, _) = build(HashAlgorithm::Sm3, 7);
    // Leave out the level-2 node over leaves 0..4 while copying the store.
    let mut damaged = MemoryNodeStore::new();
    for level in 0..3u8 {
        for index in 0..7u64 {
            let id = NodeId::new(level, index);
            if let (Some(hash), false) = (tree.store().get(id), id == NodeId::new(2, 0)) {
                damaged.put(id, hash);
            }
        }
    }
    assert_eq!(MerkleTree::open(HashAlgorithm::Sm3, damaged.clone(), 7).err(), Some(TreeError::MissingNode(NodeId::new(2, 0))));
    let reopened = MerkleTree::open(HashAlgorithm::Sm3, damaged, 3).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reopened.head(), tree.head_at(3).unwrap_or_else(|e| panic!("{e}")));
    let mut grown = reopened;
    for i in 3..7 {
        grown.append(&entry(i)).ok();
    }
    assert_eq!(grown.head(), tree.head());
}

#[test]
fn requests_outside_the_tree_are_errors() {
    let (tree, _) = build(HashAlgorithm::Sha256, 10);
    assert_eq!(tree.root(11), Err(TreeError::SizeBeyondTree { size: 11, tree_size: 10 }));
    assert_eq!(tree.inclusion_proof(10, 10), Err(TreeError::IndexOutOfRange { index: 10, size: 10 }));
    assert_eq!(tree.inclusion_proof(0, 0), Err(TreeError::IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(tree.inclusion_proof(0, 11), Err(TreeError::SizeBeyondTree { size: 11, tree_size: 10 }));
    assert_eq!(tree.consistency_proof(6, 5), Err(TreeError::OldSizeExceedsNew { old_size: 6, new_size: 5 }));
    assert_eq!(tree.consistency_proof(5, 11), Err(TreeError::SizeBeyondTree { size: 11, tree_size: 10 }));
    assert_eq!(tree.leaf_hash(10), Err(TreeError::IndexOutOfRange { index: 10, size: 10 }));
    assert_eq!(tree.leaf_hash(3), Ok(HashAlgorithm::Sha256.leaf_hash(&entry(3))));
}

#[test]
fn heads_and_proofs_travel_as_json_with_hex_hashes() {
    let (tree, _) = build(HashAlgorithm::Sm3, 5);
    let head = tree.head();
    let json = serde_json::to_value(head).unwrap_or_default();
    assert_eq!(json, serde_json::json!({ "algorithm": "sm3", "size": 5, "root": head.root.to_string() }));
    assert_eq!(json["root"].as_str().map(str::len), Some(64));
    assert_eq!(serde_json::from_value::<TreeHead>(json).ok(), Some(head));

    let proof = tree.inclusion_proof(3, 5).unwrap_or_else(|e| panic!("{e}"));
    let text = serde_json::to_string(&proof).unwrap_or_default();
    assert!(text.starts_with(r#"{"algorithm":"sm3","leaf_index":3,"tree_size":5,"path":[""#), "{text}");
    assert_eq!(serde_json::from_str::<InclusionProof>(&text).ok(), Some(proof));

    let consistency = tree.consistency_proof(2, 5).unwrap_or_else(|e| panic!("{e}"));
    let text = serde_json::to_string(&consistency).unwrap_or_default();
    assert_eq!(serde_json::from_str(&text).ok(), Some(consistency));

    // Bad hashes and unknown algorithms are refused on the way in.
    let bad_root = r#"{"algorithm":"sm3","size":5,"root":"xyz"}"#;
    assert!(serde_json::from_str::<TreeHead>(bad_root).is_err());
    let bad_alg = format!(r#"{{"algorithm":"md5","size":5,"root":"{}"}}"#, head.root);
    assert!(serde_json::from_str::<TreeHead>(&bad_alg).is_err());
    let sha = format!(r#"{{"algorithm":"sha256","size":5,"root":"{}"}}"#, head.root);
    assert_eq!(serde_json::from_str::<TreeHead>(&sha).map(|h| h.algorithm).ok(), Some(HashAlgorithm::Sha256));
}
