//! The append-only Merkle tree over a [`NodeStore`].

use crate::error::TreeError;
use crate::hash::{Hash, HashAlgorithm};
use crate::plan::{consistency_plan, fold_right, inclusion_plan, root_plan};
use crate::proof::{ConsistencyProof, InclusionProof, TreeHead};
use crate::store::{NodeId, NodeStore};

/// An RFC 6962 Merkle tree that grows by appending and can prove any of its past states.
///
/// Every complete subtree is written to the store once, when its last leaf arrives, and never
/// changes afterwards. Roots and proofs for any size up to the current one are therefore built
/// from stored nodes alone: O(log n) reads each, with no rehashing of leaves.
///
/// The tree also keeps its frontier (the roots of the complete subtrees that make up the whole
/// tree, largest first) in memory, so an append reads nothing from the store and writes the new
/// leaf plus each parent it completes: at most log₂ n + 1 writes, amortized two hashes.
#[derive(Debug, Clone)]
pub struct MerkleTree<S> {
    algorithm: HashAlgorithm,
    size: u64,
    frontier: Vec<Hash>,
    store: S,
}

impl<S: NodeStore> MerkleTree<S> {
    /// Starts an empty tree over `store`, which should hold no nodes yet; nodes already in it
    /// would be overwritten as the tree grows.
    pub fn new(algorithm: HashAlgorithm, store: S) -> Self {
        Self { algorithm, size: 0, frontier: Vec::new(), store }
    }

    /// Reopens a tree of `size` leaves whose nodes are already in `store`, as after a restart.
    ///
    /// Only the frontier is read (one node per set bit of `size`); a missing frontier node is
    /// reported rather than papered over, since it means the store is damaged.
    pub fn open(algorithm: HashAlgorithm, store: S, size: u64) -> Result<Self, TreeError> {
        let frontier =
            root_plan(size).into_iter().map(|id| store.get(id).ok_or(TreeError::MissingNode(id))).collect::<Result<_, _>>()?;
        Ok(Self { algorithm, size, frontier, store })
    }

    /// The hash algorithm the tree was created with.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Borrows the node store, for example to persist or inspect it.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Borrows the node store mutably, for example to drain nodes it recorded. Changing a node the
    /// tree has written breaks the tree's proofs.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Gives the node store back, ending the tree.
    pub fn into_store(self) -> S {
        self.store
    }

    /// Appends a ledger entry as the next leaf and returns its index. The leaf hash is
    /// H(0x00 ‖ entry).
    pub fn append(&mut self, entry: &[u8]) -> Result<u64, TreeError> {
        let leaf = self.algorithm.leaf_hash(entry);
        self.append_leaf_hash(leaf)
    }

    /// Appends a leaf whose hash was already computed (for example inside a database transaction
    /// that stored it) and returns its index.
    pub fn append_leaf_hash(&mut self, leaf_hash: Hash) -> Result<u64, TreeError> {
        let index = self.size;
        let new_size = index.checked_add(1).ok_or(TreeError::TreeFull)?;
        self.store.put(NodeId::leaf(index), leaf_hash);
        // Each trailing one bit of the old size is a complete subtree on the frontier that the new
        // leaf now pairs up with; joining them finishes one parent per bit.
        let mut node = leaf_hash;
        let mut id = NodeId::leaf(index);
        while id.index & 1 == 1 {
            let Some(left) = self.frontier.pop() else {
                // The frontier always has one entry per set bit of the size, so this cannot happen.
                break;
            };
            node = self.algorithm.node_hash(&left, &node);
            id = NodeId::new(id.level + 1, id.index >> 1);
            self.store.put(id, node);
        }
        self.frontier.push(node);
        self.size = new_size;
        Ok(index)
    }

    /// The root of the tree at its current size, computed from the in-memory frontier.
    pub fn current_root(&self) -> Hash {
        fold_right(self.algorithm, &self.frontier).unwrap_or_else(|| self.algorithm.empty_root())
    }

    /// The tree head at the current size.
    pub fn head(&self) -> TreeHead {
        TreeHead { algorithm: self.algorithm, size: self.size, root: self.current_root() }
    }

    /// The root the tree had when it held `size` leaves, for any size up to the current one.
    pub fn root(&self, size: u64) -> Result<Hash, TreeError> {
        self.check_size(size)?;
        if size == self.size {
            return Ok(self.current_root());
        }
        let hashes = self.read_nodes(root_plan(size))?;
        Ok(fold_right(self.algorithm, &hashes).unwrap_or_else(|| self.algorithm.empty_root()))
    }

    /// The tree head the tree had at `size`.
    pub fn head_at(&self, size: u64) -> Result<TreeHead, TreeError> {
        Ok(TreeHead { algorithm: self.algorithm, size, root: self.root(size)? })
    }

    /// The stored hash of leaf `index`, which `audit verify` compares with the recomputed entry.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, TreeError> {
        if index >= self.size {
            return Err(TreeError::IndexOutOfRange { index, size: self.size });
        }
        let id = NodeId::leaf(index);
        self.store.get(id).ok_or(TreeError::MissingNode(id))
    }

    /// Proves that leaf `index` is in the tree as it was at `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, TreeError> {
        self.check_size(size)?;
        let path = inclusion_plan(index, size)?.assemble(self.algorithm, |id| self.store.get(id))?;
        Ok(InclusionProof { algorithm: self.algorithm, leaf_index: index, tree_size: size, path })
    }

    /// Proves that the tree at `new_size` extends the tree at `old_size`.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<ConsistencyProof, TreeError> {
        self.check_size(new_size)?;
        let path = consistency_plan(old_size, new_size)?.assemble(self.algorithm, |id| self.store.get(id))?;
        Ok(ConsistencyProof { algorithm: self.algorithm, old_size, new_size, path })
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        if size > self.size {
            return Err(TreeError::SizeBeyondTree { size, tree_size: self.size });
        }
        Ok(())
    }

    fn read_nodes(&self, ids: Vec<NodeId>) -> Result<Vec<Hash>, TreeError> {
        ids.into_iter().map(|id| self.store.get(id).ok_or(TreeError::MissingNode(id))).collect()
    }
}
