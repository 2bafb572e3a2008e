//! Where the tree keeps its nodes: a small storage trait and an in-memory implementation.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::hash::Hash;

/// The address of a complete subtree: the node at `(level, index)` is the root of the perfect
/// subtree over leaves `[index · 2^level, (index + 1) · 2^level)`.
///
/// Only complete subtrees are ever stored. Their hashes never change once written, whatever is
/// appended later, which is what makes every past tree size provable from the same store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId {
    /// The height above the leaves; leaves are level 0.
    pub level: u8,
    /// The position among the nodes of that level, counted from the left.
    pub index: u64,
}

impl NodeId {
    /// Names the node at `level` and `index`.
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// Names the leaf at `index`.
    pub const fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// The first leaf the node covers.
    pub const fn first_leaf(self) -> u64 {
        self.index << self.level
    }

    /// The number of leaves the node covers.
    pub const fn width(self) -> u64 {
        1 << self.level
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.level, self.index)
    }
}

/// Storage for complete-subtree hashes, keyed by [`NodeId`].
///
/// The trait is deliberately tiny and synchronous so that the tree logic stays pure. A database
/// backend can implement it directly, or, when its driver is asynchronous, fetch the node ids
/// named by [`crate::inclusion_plan`] / [`crate::consistency_plan`] / [`crate::root_plan`] in one
/// query, put them into a [`MemoryNodeStore`], and write back the nodes an append produced.
pub trait NodeStore {
    /// Returns the stored hash of the node, or `None` when it was never written.
    fn get(&self, id: NodeId) -> Option<Hash>;

    /// Records the hash of a complete subtree. The tree only ever writes a node once, at the
    /// moment its subtree becomes complete, so implementations may treat a second write with a
    /// different value as corruption.
    fn put(&mut self, id: NodeId, hash: Hash);
}

impl<S: NodeStore + ?Sized> NodeStore for &mut S {
    fn get(&self, id: NodeId) -> Option<Hash> {
        (**self).get(id)
    }

    fn put(&mut self, id: NodeId, hash: Hash) {
        (**self).put(id, hash);
    }
}

impl<S: NodeStore + ?Sized> NodeStore for Box<S> {
    fn get(&self, id: NodeId) -> Option<Hash> {
        (**self).get(id)
    }

    fn put(&mut self, id: NodeId, hash: Hash) {
        (**self).put(id, hash);
    }
}

/// An in-memory [`NodeStore`] with one vector per level.
///
/// Appends write each level strictly left to right, so a vector per level is dense and needs no
/// per-entry key, which keeps a million-leaf tree at roughly 2 million × 33 bytes. Writes that
/// skip ahead (as when a cache is filled with scattered nodes) leave holes that read as `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryNodeStore {
    levels: Vec<Vec<Option<Hash>>>,
}

impl MemoryNodeStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts the nodes that are present, mainly for tests and diagnostics.
    pub fn len(&self) -> usize {
        self.levels.iter().map(|level| level.iter().filter(|h| h.is_some()).count()).sum()
    }

    /// Tells whether no node has been stored yet.
    pub fn is_empty(&self) -> bool {
        self.levels.iter().all(|level| level.iter().all(Option::is_none))
    }
}

impl NodeStore for MemoryNodeStore {
    fn get(&self, id: NodeId) -> Option<Hash> {
        let level = self.levels.get(usize::from(id.level))?;
        let index = usize::try_from(id.index).ok()?;
        level.get(index).copied().flatten()
    }

    fn put(&mut self, id: NodeId, hash: Hash) {
        let level = usize::from(id.level);
        let Ok(index) = usize::try_from(id.index) else {
            // A node beyond the address space cannot be held in memory; such a tree could not
            // have been built in memory either, so there is nothing meaningful to keep.
            return;
        };
        if self.levels.len() <= level {
            self.levels.resize_with(level + 1, Vec::new);
        }
        let nodes = &mut self.levels[level];
        if nodes.len() <= index {
            nodes.resize(index + 1, None);
        }
        nodes[index] = Some(hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_reads_back_writes_and_reports_holes() {
        let mut store = MemoryNodeStore::new();
        assert!(store.is_empty());
        let a = Hash::from_bytes([1; 32]);
        let b = Hash::from_bytes([2; 32]);
        store.put(NodeId::leaf(0), a);
        store.put(NodeId::new(3, 5), b);
        assert_eq!(store.get(NodeId::leaf(0)), Some(a));
        assert_eq!(store.get(NodeId::new(3, 5)), Some(b));
        assert_eq!(store.get(NodeId::new(3, 4)), None);
        assert_eq!(store.get(NodeId::new(2, 0)), None);
        assert_eq!(store.get(NodeId::new(60, 0)), None);
        assert_eq!(store.len(), 2);
        assert!(!store.is_empty());
    }

    #[test]
    fn node_id_geometry() {
        let id = NodeId::new(3, 5);
        assert_eq!(id.first_leaf(), 40);
        assert_eq!(id.width(), 8);
        assert_eq!(id.to_string(), "(3, 5)");
    }
}
