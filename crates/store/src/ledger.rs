//! Appending to the full-process record. A write inserts one entry per changed object in its own
//! transaction, each before the row it records (the database checks it); the database numbers the
//! entries. The Merkle tree over the entries is derived afterwards by an [`Integration`], which reads the
//! ledger's size and frontier, appends the new entries' leaves, and writes the new nodes and size.

use std::collections::HashMap;

use gridward_ledger::{Entry, EntryView, Hash, HashAlgorithm, MerkleTree, NodeId, NodeStore, TreeHead, canonical_payload};
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

/// One entry as stored: the entry and its canonical payload. Its leaf hash is the level-0 tree node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEntry {
    pub entry: Entry,
    pub payload: String,
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

/// An entry as a write inserts it, before the database gives it its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub recorded_at: i64,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub jurisdiction: String,
    pub payload: String,
    pub payload_digest: Hash,
}

impl NewEntry {
    /// The entry as stored once the database has numbered it `seq`.
    pub fn numbered(self, seq: u64) -> StoredEntry {
        StoredEntry {
            entry: Entry {
                seq,
                recorded_at: self.recorded_at,
                actor: self.actor,
                role: self.role,
                action: self.action,
                object_type: self.object_type,
                object_id: self.object_id,
                jurisdiction: self.jurisdiction,
                payload_digest: self.payload_digest,
            },
            payload: self.payload,
        }
    }
}

impl Change {
    /// The entry that records one object of this change, its payload digested with the ledger's algorithm.
    pub fn entry(&self, algorithm: HashAlgorithm, record: &Record<'_>) -> NewEntry {
        let payload = canonical_payload(&record.payload);
        NewEntry {
            recorded_at: self.at,
            actor: self.actor.name.clone(),
            role: self.actor.role.clone(),
            action: record.action.to_string(),
            object_type: record.object_type.to_string(),
            object_id: record.object_id.to_string(),
            jurisdiction: record.jurisdiction.to_string(),
            payload_digest: algorithm.digest(payload.as_bytes()),
            payload,
        }
    }
}

/// Nodes known at the start of an integration (the frontier) and every node it writes.
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

/// Extends the tree over entries that writes committed since the last integration. Writes insert only
/// their entries; the tree is derived from them afterwards, many entries per transaction, so a write
/// pays for one row of record instead of its share of the tree.
pub struct Integration {
    tree: MerkleTree<PendingNodes>,
}

fn tree_err(e: gridward_ledger::TreeError) -> DbError {
    DbError::Corrupt(format!("ledger tree: {e}"))
}

impl Integration {
    /// Continues the tree of `size` leaves whose frontier nodes (see `gridward_ledger::root_plan`) are given.
    pub fn open(algorithm: HashAlgorithm, size: u64, frontier: Vec<(NodeId, Hash)>) -> DbResult<Integration> {
        let store = PendingNodes { known: frontier.into_iter().collect(), written: Vec::new() };
        Ok(Integration { tree: MerkleTree::open(algorithm, store, size).map_err(tree_err)? })
    }

    /// Appends the next entry's leaf; entries must come in order without gaps.
    pub fn append(&mut self, entry: &Entry) -> DbResult<()> {
        if entry.seq != self.tree.size() {
            return Err(DbError::Corrupt(format!("ledger entry {} is missing; next is {}", self.tree.size(), entry.seq)));
        }
        self.tree.append_leaf_hash(entry.leaf_hash(self.tree.algorithm())).map(|_| ()).map_err(tree_err)
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

/// A page of entries as the database joined them into one text.
#[derive(Debug, Clone, Default)]
pub struct EntriesPage {
    /// How many entries the page holds.
    pub count: usize,
    /// The number of its last entry, if it has any.
    pub last_seq: Option<u64>,
    /// The entries, to be read with [`entries_in_page`].
    pub text: String,
}

/// An entry and its payload as text borrowed from a page of entries.
#[derive(Debug, Clone, Copy)]
pub struct EntryText<'a> {
    pub entry: EntryView<'a>,
    pub payload: &'a str,
}

/// Reads a page of entries that the database concatenated into one text: per entry `seq recorded_at `
/// and then actor, role, action, object_type, object_id, jurisdiction, payload and payload_digest, each as
/// `<byte length>:<text>`. Reading entries row by row costs several times more than hashing them, and
/// verification reads every entry; the lengths keep any text unambiguous. The fields stay in the page.
pub fn entries_in_page(page: &str) -> DbResult<Vec<EntryText<'_>>> {
    let mut rest = page;
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let seq = take_number(&mut rest, ' ')?;
        let recorded_at = take_number(&mut rest, ' ')?;
        let mut fields: [&str; 8] = [""; 8];
        for field in &mut fields {
            let len = usize::try_from(take_number(&mut rest, ':')?).map_err(|_| corrupt_page())?;
            *field = rest.get(..len).ok_or_else(corrupt_page)?;
            rest = &rest[len..];
        }
        let [actor, role, action, object_type, object_id, jurisdiction, payload, digest] = fields;
        entries.push(EntryText {
            entry: EntryView {
                seq: u64::try_from(seq).map_err(|_| corrupt_page())?,
                recorded_at,
                actor,
                role,
                action,
                object_type,
                object_id,
                jurisdiction,
                payload_digest: hash(digest)?,
            },
            payload,
        });
    }
    // The query does not promise an order; the numbers do.
    if !entries.is_sorted_by_key(|e| e.entry.seq) {
        entries.sort_unstable_by_key(|e| e.entry.seq);
    }
    Ok(entries)
}

/// [`entries_in_page`], copied out of the page.
pub fn decode_entries_page(page: &str) -> DbResult<Vec<StoredEntry>> {
    Ok(entries_in_page(page)?.iter().map(|e| StoredEntry { entry: e.entry.to_entry(), payload: e.payload.into() }).collect())
}

/// Decodes a range of tree nodes that the database concatenated into one text, `<index>:<hex hash>`
/// separated by commas, into index order.
pub fn decode_node_range(joined: Option<&str>) -> DbResult<Vec<(u64, Hash)>> {
    let Some(joined) = joined else { return Ok(Vec::new()) };
    let mut nodes = joined
        .split(',')
        .map(|node| {
            let (index, hex) = node.split_once(':').ok_or_else(corrupt_page)?;
            Ok((index.parse().map_err(|_| corrupt_page())?, hash(hex)?))
        })
        .collect::<DbResult<Vec<(u64, Hash)>>>()?;
    if !nodes.is_sorted_by_key(|n| n.0) {
        nodes.sort_unstable_by_key(|n| n.0);
    }
    Ok(nodes)
}

fn corrupt_page() -> DbError {
    DbError::Corrupt("a page of ledger entries is malformed".into())
}

/// Takes a decimal number ended by `end` off the front of `rest`.
fn take_number(rest: &mut &str, end: char) -> DbResult<i64> {
    let (number, after) = rest.split_once(end).ok_or_else(corrupt_page)?;
    *rest = after;
    number.parse().map_err(|_| corrupt_page())
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

    fn entry(change: &Change, seq: u64, id: &str) -> Entry {
        let record = Record {
            action: "division.upsert",
            object_type: "division",
            object_id: id,
            jurisdiction: id,
            payload: serde_json::json!({"code": id}),
        };
        change.entry(HashAlgorithm::Sm3, &record).numbered(seq).entry
    }

    #[test]
    fn a_page_of_entries_decodes_whatever_its_text_holds() {
        let digest = HashAlgorithm::Sm3.digest(b"{}").to_hex();
        let page = format!("0 5 5:alice7:officer4:a:b:1:x3:1:24:32062:{{}}64:{digest}12 6 0:0:0:0:7:中 文1:x2:{{}}64:{digest}");
        let entries = decode_entries_page(&page).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].entry.actor.as_str(), entries[0].entry.role.as_str()), ("alice", "officer"));
        assert_eq!((entries[0].entry.action.as_str(), entries[0].entry.object_id.as_str()), ("a:b:", "1:2"));
        assert_eq!(entries[1].entry.object_id, "中 文", "lengths count bytes");
        assert_eq!((entries[1].entry.seq, entries[1].entry.recorded_at, entries[1].payload.as_str()), (12, 6, "{}"));
        for bad in ["0 5 5:alic", "x 5 ", "0 5 99:a", "0 5 5:alice7:officer4:a:b:1:x3:1:2:3:3206{}3:abc"] {
            assert!(decode_entries_page(bad).is_err(), "{bad}");
        }
        assert!(decode_entries_page("").unwrap().is_empty());
        let reversed =
            format!("12 6 0:0:0:0:7:中 文1:x2:{{}}64:{digest}0 5 5:alice7:officer4:a:b:1:x3:1:24:32062:{{}}64:{digest}");
        let seqs: Vec<u64> = decode_entries_page(&reversed).unwrap().iter().map(|e| e.entry.seq).collect();
        assert_eq!(seqs, [0, 12], "a page comes out in entry order whatever order the database gave");
    }

    #[test]
    fn node_ranges_decode_in_index_order() {
        let (a, b) = (HashAlgorithm::Sm3.digest(b"a"), HashAlgorithm::Sm3.digest(b"b"));
        let joined = format!("8:{},7:{}", b.to_hex(), a.to_hex());
        assert_eq!(decode_node_range(Some(&joined)).unwrap(), [(7, a), (8, b)]);
        assert!(decode_node_range(None).unwrap().is_empty());
        for bad in ["7", "x:00", &format!("7:{}ff", a.to_hex())] {
            assert!(decode_node_range(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_integration_continues_the_tree_from_its_frontier() {
        let change = Change { actor: Actor::new("admin", "admin"), at: 1 };
        let [a, b, c, d] = [(0, "a"), (1, "b"), (2, "c"), (3, "d")].map(|(seq, id)| entry(&change, seq, id));
        assert_eq!(d.payload_digest, HashAlgorithm::Sm3.digest(br#"{"code":"d"}"#));
        let mut first = Integration::open(HashAlgorithm::Sm3, 0, Vec::new()).unwrap();
        for e in [&a, &b, &c] {
            first.append(e).unwrap();
        }
        let (size, nodes, stored_frontier) = first.finish();
        assert_eq!(decode_frontier(3, &stored_frontier).unwrap().len(), 2);
        assert_eq!(size, 3);
        // Leaves 0, 1, 2 and the parent of 0 and 1.
        assert_eq!(nodes.len(), 4);

        let frontier: Vec<_> =
            gridward_ledger::root_plan(3).into_iter().map(|id| (id, nodes.iter().find(|(n, _)| *n == id).unwrap().1)).collect();
        let mut second = Integration::open(HashAlgorithm::Sm3, 3, frontier).unwrap();
        assert!(second.append(&a).is_err(), "entries come in order");
        second.append(&d).unwrap();

        // The same four entries appended in one tree give the same root.
        let mut whole = MerkleTree::new(HashAlgorithm::Sm3, gridward_ledger::MemoryNodeStore::new());
        for e in [&a, &b, &c, &d] {
            whole.append_leaf_hash(e.leaf_hash(HashAlgorithm::Sm3)).unwrap();
        }
        let (_, new_nodes, _) = second.finish();
        let root_node = new_nodes.iter().find(|(id, _)| *id == NodeId::new(2, 0)).unwrap().1;
        assert_eq!(root_node, whole.current_root());
    }
}
