//! Appending to the full-process record inside a store transaction. The backend reads the ledger's state
//! and frontier at the start of its transaction, records one entry per changed object through a
//! [`LedgerBatch`] (inserting each entry before the row it records, which the database checks), and
//! finally writes the new tree nodes and size, all before it commits.

use std::collections::HashMap;

use gridward_ledger::{Entry, Hash, HashAlgorithm, MerkleTree, NodeId, NodeStore, TreeHead, canonical_payload};
use serde::Serialize;

use crate::{DbError, DbResult};

/// Who makes a change, as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// An account's username, or `system:<process>` for the platform itself (e.g. `system:demo`).
    pub name: String,
    /// The role acted under, e.g. `admin`, or `operator` for the command line.
    pub role: String,
}

impl Actor {
    pub fn new(name: impl Into<String>, role: impl Into<String>) -> Actor {
        Actor { name: name.into(), role: role.into() }
    }
}

/// Who changes enforcement data, and when (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub actor: Actor,
    pub at: i64,
}

/// One entry as stored: the entry, its canonical payload and its leaf hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEntry {
    pub entry: Entry,
    pub payload: String,
    pub leaf_hash: Hash,
}

/// A checkpoint with one signature over it, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StoredCheckpoint {
    pub origin: String,
    pub checkpoint: gridward_ledger::Checkpoint,
    pub signature: gridward_ledger::CheckpointSignature,
}

/// What a change records about one object.
pub struct Record<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub jurisdiction: &'a str,
    pub payload: serde_json::Value,
}

/// Nodes known at the start of a batch (the frontier) and every node the batch writes.
#[derive(Debug, Default)]
pub struct PendingNodes {
    known: HashMap<NodeId, Hash>,
    written: Vec<(NodeId, Hash)>,
}

impl NodeStore for PendingNodes {
    fn get(&self, id: NodeId) -> Option<Hash> {
        self.known.get(&id).copied()
    }

    fn put(&mut self, id: NodeId, hash: Hash) {
        self.known.insert(id, hash);
        self.written.push((id, hash));
    }
}

/// The entries and nodes of one transaction's changes.
pub struct LedgerBatch {
    tree: MerkleTree<PendingNodes>,
    change: Change,
}

fn tree_err(e: gridward_ledger::TreeError) -> DbError {
    DbError::Corrupt(format!("ledger tree: {e}"))
}

impl LedgerBatch {
    /// Continues the tree of `size` leaves whose frontier nodes (see `gridward_ledger::root_plan`) are given.
    pub fn open(algorithm: HashAlgorithm, size: u64, frontier: Vec<(NodeId, Hash)>, change: Change) -> DbResult<LedgerBatch> {
        let store = PendingNodes { known: frontier.into_iter().collect(), written: Vec::new() };
        Ok(LedgerBatch { tree: MerkleTree::open(algorithm, store, size).map_err(tree_err)?, change })
    }

    /// Records one change and returns the entry to insert before the row it records.
    pub fn record(&mut self, record: Record<'_>) -> DbResult<StoredEntry> {
        let algorithm = self.tree.algorithm();
        let payload = canonical_payload(&record.payload);
        let entry = Entry {
            seq: self.tree.size(),
            recorded_at: self.change.at,
            actor: self.change.actor.name.clone(),
            role: self.change.actor.role.clone(),
            action: record.action.to_string(),
            object_type: record.object_type.to_string(),
            object_id: record.object_id.to_string(),
            jurisdiction: record.jurisdiction.to_string(),
            payload_digest: algorithm.digest(payload.as_bytes()),
        };
        let leaf_hash = entry.leaf_hash(algorithm);
        self.tree.append_leaf_hash(leaf_hash).map_err(tree_err)?;
        Ok(StoredEntry { entry, payload, leaf_hash })
    }

    /// The algorithm of the ledger being appended to.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.tree.algorithm()
    }

    /// The new size, the nodes to insert, and the new frontier in its stored form.
    pub fn finish(self) -> (u64, Vec<(NodeId, Hash)>, String) {
        let size = self.tree.size();
        let store = self.tree.into_store();
        let frontier = gridward_ledger::root_plan(size)
            .into_iter()
            .filter_map(|id| store.known.get(&id).map(|h| h.to_hex()))
            .collect::<Vec<_>>()
            .join(",");
        (size, store.written, frontier)
    }
}

/// The tree head of a ledger of `size` entries from its frontier nodes.
pub fn head(algorithm: HashAlgorithm, size: u64, frontier: Vec<(NodeId, Hash)>) -> DbResult<TreeHead> {
    let store = PendingNodes { known: frontier.into_iter().collect(), written: Vec::new() };
    Ok(MerkleTree::open(algorithm, store, size).map_err(tree_err)?.head())
}

/// Reads the stored frontier of a ledger of `size` entries, checking it has one hash per complete subtree.
pub fn decode_frontier(size: u64, text: &str) -> DbResult<Vec<(NodeId, Hash)>> {
    let ids = gridward_ledger::root_plan(size);
    let hashes: Vec<&str> = text.split(',').filter(|h| !h.is_empty()).collect();
    if hashes.len() != ids.len() {
        return Err(DbError::Corrupt(format!(
            "the ledger frontier holds {} hashes; {} entries need {}",
            hashes.len(),
            size,
            ids.len()
        )));
    }
    ids.into_iter().zip(hashes).map(|(id, h)| Ok((id, hash(h)?))).collect()
}

/// Decodes a stored hash column.
pub fn hash(text: &str) -> DbResult<Hash> {
    text.parse().map_err(|_| DbError::Corrupt(format!("hash {text:?}")))
}

/// Decodes a stored algorithm column.
pub fn algorithm(text: &str) -> DbResult<HashAlgorithm> {
    HashAlgorithm::parse(text).map_err(|_| DbError::Corrupt(format!("hash algorithm {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_continues_the_tree_from_its_frontier() {
        let change = Change { actor: Actor::new("admin", "admin"), at: 1 };
        let record = |id: &'static str| Record {
            action: "division.upsert",
            object_type: "division",
            object_id: id,
            jurisdiction: id,
            payload: serde_json::json!({"code": id}),
        };
        let mut first = LedgerBatch::open(HashAlgorithm::Sm3, 0, Vec::new(), change.clone()).unwrap();
        let a = first.record(record("a")).unwrap();
        let b = first.record(record("b")).unwrap();
        let c = first.record(record("c")).unwrap();
        assert_eq!((a.entry.seq, b.entry.seq, c.entry.seq), (0, 1, 2));
        let (size, nodes, stored_frontier) = first.finish();
        assert_eq!(decode_frontier(3, &stored_frontier).unwrap().len(), 2);
        assert_eq!(size, 3);
        // Leaves 0, 1, 2 and the parent of 0 and 1.
        assert_eq!(nodes.len(), 4);

        let frontier: Vec<_> =
            gridward_ledger::root_plan(3).into_iter().map(|id| (id, nodes.iter().find(|(n, _)| *n == id).unwrap().1)).collect();
        let mut second = LedgerBatch::open(HashAlgorithm::Sm3, 3, frontier, change).unwrap();
        let d = second.record(record("d")).unwrap();
        assert_eq!(d.entry.seq, 3);
        assert_eq!(d.entry.payload_digest, HashAlgorithm::Sm3.digest(br#"{"code":"d"}"#));

        // The same four entries appended in one tree give the same root.
        let mut whole = MerkleTree::new(HashAlgorithm::Sm3, gridward_ledger::MemoryNodeStore::new());
        for e in [&a, &b, &c, &d] {
            whole.append_leaf_hash(e.leaf_hash).unwrap();
        }
        let (_, new_nodes, _) = second.finish();
        let root_node = new_nodes.iter().find(|(id, _)| *id == NodeId::new(2, 0)).unwrap().1;
        assert_eq!(root_node, whole.current_root());
    }
}
