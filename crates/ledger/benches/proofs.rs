//! Ledger benchmarks: appends, proofs at ten million leaves, and raw SM3 vs SHA-256 throughput.
//!
//! Run with `cargo bench -p gridward-ledger`. The big tree is built once, before any timing starts,
//! and its build time is printed separately; `GRIDWARD_BENCH_LEAVES` changes its size.

use std::sync::LazyLock;
use std::time::Instant;

use divan::counter::BytesCount;
use divan::{Bencher, black_box};
use gridward_ledger::{
    ConsistencyProof, Hash, HashAlgorithm, InclusionProof, MemoryNodeStore, MerkleTree, TreeHead, verify_consistency,
    verify_inclusion,
};

/// The size of the shared tree the proof benchmarks run against: the ten million entries unless
/// `GRIDWARD_BENCH_LEAVES` says otherwise.
static BIG_SIZE: LazyLock<u64> =
    LazyLock::new(|| std::env::var("GRIDWARD_BENCH_LEAVES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000));
/// How many distinct pre-built proofs the verification benchmarks cycle through.
const SAMPLES: usize = 1024;

/// A stand-in ledger entry of a realistic size (a canonical JSON payload of a few hundred bytes).
fn entry(i: u64) -> Vec<u8> {
    let mut bytes = format!("{{\"seq\":{i},\"action\":\"case.update\",\"actor\":\"officer-17\"}}").into_bytes();
    bytes.resize(256, b' ');
    bytes
}

static TREE: LazyLock<MerkleTree<MemoryNodeStore>> = LazyLock::new(|| {
    let mut tree = MerkleTree::new(HashAlgorithm::Sm3, MemoryNodeStore::new());
    for i in 0..*BIG_SIZE {
        tree.append(&entry(i)).expect("the leaves fit in the tree");
    }
    tree
});

static HEAD: LazyLock<TreeHead> = LazyLock::new(|| TREE.head());

/// A cheap deterministic spread of leaf indices, so proofs touch different parts of the tree.
fn sample_index(k: u64, bound: u64) -> u64 {
    k.wrapping_mul(0x9e37_79b9_7f4a_7c15) % bound
}

static INCLUSION: LazyLock<Vec<(Hash, InclusionProof)>> = LazyLock::new(|| {
    (0..SAMPLES as u64)
        .map(|k| {
            let index = sample_index(k, *BIG_SIZE);
            let leaf = TREE.leaf_hash(index).expect("leaf exists");
            (leaf, TREE.inclusion_proof(index, *BIG_SIZE).expect("index is in range"))
        })
        .collect()
});

static CONSISTENCY: LazyLock<Vec<(TreeHead, ConsistencyProof)>> = LazyLock::new(|| {
    (0..SAMPLES as u64)
        .map(|k| {
            let old = 1 + sample_index(k, *BIG_SIZE - 1);
            let head = TREE.head_at(old).expect("old size is in range");
            (head, TREE.consistency_proof(old, *BIG_SIZE).expect("sizes are in range"))
        })
        .collect()
});

fn main() {
    let start = Instant::now();
    LazyLock::force(&TREE);
    eprintln!("built the {}-leaf SM3 tree (256-byte entries) in {:.2?}", *BIG_SIZE, start.elapsed());
    LazyLock::force(&HEAD);
    LazyLock::force(&INCLUSION);
    LazyLock::force(&CONSISTENCY);
    divan::main();
}

/// Appending one 256-byte entry to a growing in-memory tree.
#[divan::bench(args = [HashAlgorithm::Sm3, HashAlgorithm::Sha256])]
fn append(bencher: Bencher, algorithm: HashAlgorithm) {
    let mut tree = MerkleTree::new(algorithm, MemoryNodeStore::new());
    let payload = entry(42);
    bencher.bench_local(|| tree.append(black_box(&payload)));
}

/// Building an inclusion proof at 1,000,000 leaves from stored nodes.
#[divan::bench]
fn inclusion_proof_generate(bencher: Bencher) {
    let mut k = 0u64;
    bencher
        .with_inputs(|| {
            k += 1;
            sample_index(k, *BIG_SIZE)
        })
        .bench_local_values(|index| TREE.inclusion_proof(index, *BIG_SIZE));
}

/// Verifying an inclusion proof at 1,000,000 leaves (no store involved).
#[divan::bench]
fn inclusion_proof_verify(bencher: Bencher) {
    let mut k = 0usize;
    bencher
        .with_inputs(|| {
            k = (k + 1) % SAMPLES;
            &INCLUSION[k]
        })
        .bench_local_values(|(leaf, proof)| {
            verify_inclusion(HashAlgorithm::Sm3, leaf, proof.leaf_index, proof.tree_size, &proof.path, &HEAD.root)
        });
}

/// Generation plus verification of an inclusion proof, the full cost of answering and checking.
#[divan::bench]
fn inclusion_proof_generate_and_verify(bencher: Bencher) {
    let mut k = 0usize;
    bencher
        .with_inputs(|| {
            k = (k + 1) % SAMPLES;
            (INCLUSION[k].1.leaf_index, INCLUSION[k].0)
        })
        .bench_local_values(|(index, leaf)| {
            let proof = TREE.inclusion_proof(index, *BIG_SIZE).expect("index is in range");
            proof.verify(&leaf, &HEAD)
        });
}

/// Building a consistency proof from a random older size to 1,000,000 leaves.
#[divan::bench]
fn consistency_proof_generate(bencher: Bencher) {
    let mut k = 0usize;
    bencher
        .with_inputs(|| {
            k = (k + 1) % SAMPLES;
            CONSISTENCY[k].0.size
        })
        .bench_local_values(|old| TREE.consistency_proof(old, *BIG_SIZE));
}

/// Verifying a consistency proof to 1,000,000 leaves, as a witness does before cosigning.
#[divan::bench]
fn consistency_proof_verify(bencher: Bencher) {
    let mut k = 0usize;
    bencher
        .with_inputs(|| {
            k = (k + 1) % SAMPLES;
            &CONSISTENCY[k]
        })
        .bench_local_values(|(old, proof)| {
            verify_consistency(HashAlgorithm::Sm3, old.size, *BIG_SIZE, &proof.path, &old.root, &HEAD.root)
        });
}

/// The root of a past tree size at 1,000,000 leaves (what signing an old checkpoint needs).
#[divan::bench]
fn root_at_past_size(bencher: Bencher) {
    let mut k = 0u64;
    bencher
        .with_inputs(|| {
            k += 1;
            1 + sample_index(k, *BIG_SIZE - 1)
        })
        .bench_local_values(|size| TREE.root(size));
}

/// Raw hashing throughput over 1 KiB inputs, the ceiling for `audit verify`.
#[divan::bench(args = [HashAlgorithm::Sm3, HashAlgorithm::Sha256])]
fn hash_1kib(bencher: Bencher, algorithm: HashAlgorithm) {
    let data: Vec<u8> = (0..1024u32).map(|i| (i.wrapping_mul(31) & 0xff) as u8).collect();
    bencher.counter(BytesCount::new(data.len())).bench(|| algorithm.digest(black_box(&data)));
}
