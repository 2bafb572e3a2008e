//! `gridward bench ledger`: the full-process record at scale, end to end on a real database. Fills an empty
//! ledger with synthetic entries, integrates the tree, serves inclusion proofs from the database, and runs
//! `audit verify` over all of it, against single-core SM3 throughput measured in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use gridward_app::App;
use gridward_ledger::{HashAlgorithm, MerkleTree, NodeId, NodeStore, inclusion_plan, verify_inclusion};
use gridward_store::ledger::Record;
use gridward_store::{Actor, Change, Store};

/// Entries written per transaction while filling.
const FILL_BATCH: u64 = 20_000;
/// Entries read per page when measuring the hashing alone.
const READ_PAGE: u32 = 10_000;

/// Runs the benchmark and prints its figures; refuses a ledger that already holds entries.
pub async fn ledger(app: &App, store: &Arc<dyn Store>, entries: u64, proofs: u32) -> Result<()> {
    let head = store.ledger_head().await?.ok_or_else(|| anyhow::anyhow!("the ledger was never created"))?;
    if head.size != 0 {
        bail!("the benchmark needs an empty ledger (a new --data-dir); this one holds {} entries", head.size);
    }
    let algorithm = head.algorithm;
    println!(
        "ledger benchmark: {entries} entries, {} hashing, {}",
        algorithm.as_str(),
        format!("{:?}", store.backend()).to_lowercase()
    );

    let started = Instant::now();
    fill(store, entries).await?;
    let fill_time = started.elapsed();
    println!("fill (insert entries, {FILL_BATCH} per transaction): {}", per_entry(fill_time, entries));

    let started = Instant::now();
    let head = store.integrate_ledger().await?;
    let integrate_time = started.elapsed();
    println!("integrate (build and store the tree): {}", per_entry(integrate_time, entries));

    let proof_times = inclusion_proofs(store, head, proofs).await?;
    let bundle_times = proof_bundles(app, proofs.min(200)).await?;

    let sm3 = single_core_throughput(algorithm);
    println!("{} on one core, 1 KiB messages: {:.1} MB/s", algorithm.as_str(), sm3 / 1e6);

    let (hash_time, hashed_bytes) = hashing_alone(store, algorithm).await?;
    println!(
        "the hashing verify must do, alone on one core: {:.2} s for {:.1} MB ({:.1} MB/s)",
        hash_time.as_secs_f64(),
        hashed_bytes as f64 / 1e6,
        hashed_bytes as f64 / 1e6 / hash_time.as_secs_f64()
    );

    let started = Instant::now();
    let report = app.verify_ledger().await?;
    let verify_time = started.elapsed();
    if !report.is_intact() {
        bail!("verify found problems in a freshly written ledger: {:?}", &report.findings[..report.findings.len().min(3)]);
    }
    let verify_rate = hashed_bytes as f64 / verify_time.as_secs_f64();
    println!(
        "audit verify: {:.2} s for {} entries ({:.0} entries/s, {:.1} MB/s hashed)",
        verify_time.as_secs_f64(),
        report.entries_checked,
        report.entries_checked as f64 / verify_time.as_secs_f64(),
        verify_rate / 1e6
    );
    println!(
        "verify throughput / single-core {} throughput: {:.2}  (hashing alone / verify time: {:.2})",
        algorithm.as_str(),
        verify_rate / sm3,
        hash_time.as_secs_f64() / verify_time.as_secs_f64()
    );
    print_latencies("inclusion proof from the database, generated and verified", proof_times);
    print_latencies("proof bundle as `audit prove` serves it (signed head, SM2 check included)", bundle_times);
    Ok(())
}

fn per_entry(took: Duration, entries: u64) -> String {
    format!("{:.1} s, {:.2} µs per entry", took.as_secs_f64(), took.as_secs_f64() * 1e6 / entries.max(1) as f64)
}

fn print_latencies(what: &str, mut times: Vec<Duration>) {
    if times.is_empty() {
        return;
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    println!("{what}: median {:.0} µs, p99 {:.0} µs, max {:.0} µs ({} proofs)", at(0.5), at(0.99), at(1.0), times.len());
}

/// Synthetic entries shaped like the steps of enforcement cases: about 300 bytes of payload each.
async fn fill(store: &Arc<dyn Store>, entries: u64) -> Result<()> {
    let change = Change { actor: Actor::new("bench", "officer"), at: 1_795_000_000 };
    let mut written = 0;
    while written < entries {
        let n = FILL_BATCH.min(entries - written);
        let ids: Vec<String> = (written..written + n).map(|i| format!("NT-2026-{:08}", i / 7)).collect();
        let records: Vec<Record<'_>> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| {
                let i = written + k as u64;
                Record {
                    action: ["case.file", "case.investigate", "case.notify", "case.decide", "case.serve", "case.execute", "case.close"]
                        [(i % 7) as usize],
                    object_type: "case",
                    object_id: id,
                    jurisdiction: "320613007000",
                    payload: serde_json::json!({
                        "case": id,
                        "step": i % 7,
                        "officers": [format!("320613-{:04}", i % 97), format!("320613-{:04}", (i + 31) % 97)],
                        "finding": "占道经营，现场拍照取证，责令当场改正",
                        "location": { "lon": 120.86 + (i % 1000) as f64 * 1e-5, "lat": 32.01 + (i % 777) as f64 * 1e-5, "datum": "gcj02" },
                        "evidence": [HashAlgorithm::Sha256.digest(&i.to_le_bytes()).to_hex()],
                    }),
                }
            })
            .collect();
        store.record_actions(&records, &change).await?;
        written += n;
        if written % 1_000_000 == 0 {
            println!("  {written} entries written");
        }
    }
    Ok(())
}

/// Inclusion proofs for spread-out entries, each read from the database (entry, then its path's nodes)
/// and checked against the head, timed one by one.
async fn inclusion_proofs(store: &Arc<dyn Store>, head: gridward_ledger::TreeHead, count: u32) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(count as usize);
    let mut seq = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..count {
        seq = seq.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let index = (seq >> 11) % head.size;
        let started = Instant::now();
        let entry = store.ledger_entries(index, 1).await?.pop().ok_or_else(|| anyhow::anyhow!("entry {index} is missing"))?;
        let plan = inclusion_plan(index, head.size)?;
        let ids: Vec<NodeId> = plan.node_ids().collect();
        let nodes = store.ledger_nodes(&ids).await?;
        let path = plan.assemble(head.algorithm, |id| nodes.get(&id).copied())?;
        verify_inclusion(head.algorithm, &entry.entry.leaf_hash(head.algorithm), index, head.size, &path, &head.root)?;
        times.push(started.elapsed());
    }
    Ok(times)
}

/// Whole proof bundles as `audit prove` and the API produce them, checked as `audit check-proof` does.
async fn proof_bundles(app: &App, count: u32) -> Result<Vec<Duration>> {
    let size = app.ledger_head().await?.size;
    app.sign_checkpoint().await?;
    let mut times = Vec::with_capacity(count as usize);
    for k in 0..u64::from(count) {
        let index = (k * 2_654_435_761) % size;
        let started = Instant::now();
        let bundle = app.prove_entry(index).await?;
        bundle.check(None)?;
        times.push(started.elapsed());
    }
    Ok(times)
}

/// Bytes per second one core hashes in 1 KiB messages.
fn single_core_throughput(algorithm: HashAlgorithm) -> f64 {
    let message = [0x5au8; 1024];
    let started = Instant::now();
    let mut hashed = 0u64;
    let mut sink = 0u8;
    while started.elapsed() < Duration::from_secs(2) {
        for _ in 0..1000 {
            sink ^= algorithm.digest(&message).as_bytes()[0];
        }
        hashed += 1000 * message.len() as u64;
    }
    std::hint::black_box(sink);
    hashed as f64 / started.elapsed().as_secs_f64()
}

/// A tree that keeps only what appending needs.
#[derive(Default)]
struct Scratch(std::collections::HashMap<NodeId, gridward_ledger::Hash>);

impl NodeStore for Scratch {
    fn get(&self, id: NodeId) -> Option<gridward_ledger::Hash> {
        self.0.get(&id).copied()
    }

    fn put(&mut self, id: NodeId, hash: gridward_ledger::Hash) {
        // Only the frontier is ever read back; a node's left sibling is dropped once it has a parent.
        if id.index % 2 == 1 {
            self.0.remove(&NodeId::new(id.level, id.index - 1));
        }
        self.0.insert(id, hash);
    }
}

/// The hashing `audit verify` does (every payload digest, every leaf, every tree node), on one core with
/// the database reads left out of the time; returns that time and the bytes hashed.
async fn hashing_alone(store: &Arc<dyn Store>, algorithm: HashAlgorithm) -> Result<(Duration, u64)> {
    let mut tree = MerkleTree::new(algorithm, Scratch::default());
    let (mut took, mut bytes, mut next) = (Duration::ZERO, 0u64, 0u64);
    let mut reading = Duration::ZERO;
    loop {
        let read = Instant::now();
        let page = store.ledger_entries(next, READ_PAGE).await?;
        reading += read.elapsed();
        let Some(last) = page.last() else { break };
        next = last.entry.seq + 1;
        let started = Instant::now();
        for stored in &page {
            std::hint::black_box(algorithm.digest(stored.payload.as_bytes()));
            let canonical = stored.entry.canonical_bytes();
            tree.append(&canonical)?;
            // The payload, the leaf (0x00 and the entry), and one parent node (0x01 and two 32-byte hashes) per leaf.
            bytes += (stored.payload.len() + 1 + canonical.len() + 1 + 2 * 32) as u64;
        }
        took += started.elapsed();
    }
    println!("reading the entries alone: {:.2} s", reading.as_secs_f64());
    let read = Instant::now();
    let size = next;
    for level in 0u8..64 {
        if (1u64 << level) > size {
            break;
        }
        let count = size >> level;
        let mut from = 0;
        while from < count {
            let to = (from + u64::from(READ_PAGE)).min(count) - 1;
            std::hint::black_box(store.ledger_node_range(level, from, to).await?);
            from = to + 1;
        }
    }
    println!("reading the tree nodes alone: {:.2} s", read.elapsed().as_secs_f64());
    Ok((took, bytes))
}
