//! Which stored nodes a root or a proof needs, computed from the sizes alone.
//!
//! Keeping this arithmetic separate from any store lets a database backend fetch everything a
//! proof needs in one query before assembling it, and lets tests check the node choice directly.

use crate::error::TreeError;
use crate::hash::{Hash, HashAlgorithm};
use crate::store::NodeId;

/// The largest power of two strictly below `n` (RFC 6962's split point `k`); `n` must be ≥ 2.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Decomposes the leaf range `[start, end)` into complete subtrees, largest first.
///
/// For the ranges RFC 6962 builds (a start aligned to a power of two at least as large as the
/// range, or the start of the tree) the right fold of these subtrees' hashes is exactly the
/// Merkle Tree Hash of the range, because MTH always splits at the largest power of two.
pub(crate) fn range_nodes(mut start: u64, end: u64) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    while start < end {
        let span_level = 63 - (end - start).leading_zeros();
        let align_level = if start == 0 { 63 } else { start.trailing_zeros() };
        let level = span_level.min(align_level);
        // level ≤ 63 always fits in a u8.
        nodes.push(NodeId::new(level as u8, start >> level));
        start += 1 << level;
    }
    nodes
}

/// Folds subtree hashes, listed left to right, into the hash of their union: the last two are
/// joined first, as MTH does on the right edge of a tree. An empty list yields `None`.
pub(crate) fn fold_right(algorithm: HashAlgorithm, hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, left| algorithm.node_hash(left, &acc)))
}

/// The complete subtrees whose hashes, folded from the right, give the root of the tree of
/// `size` leaves. They are also the tree's "frontier": exactly the nodes an append has to join.
pub fn root_plan(size: u64) -> Vec<NodeId> {
    range_nodes(0, size)
}

/// The stored nodes behind each hash of a proof.
///
/// Each proof element is the hash of one leaf range. Most ranges are complete subtrees and need a
/// single stored node; a range on the right edge of an incomplete tree is the right fold of the
/// complete subtrees it decomposes into. Elements are listed in proof order (from the leaf up).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProofPlan {
    elements: Vec<Vec<NodeId>>,
}

impl ProofPlan {
    /// The node lists, one per proof hash, in proof order.
    pub fn elements(&self) -> &[Vec<NodeId>] {
        &self.elements
    }

    /// The number of hashes the finished proof will have.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Tells whether the proof is empty (for example a one-leaf tree or equal sizes).
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Every stored node the proof needs, so that a backend can fetch them all at once.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.elements.iter().flatten().copied()
    }

    /// Turns the plan into proof hashes, looking each node up with `lookup`. A node the lookup
    /// cannot supply is reported as [`TreeError::MissingNode`], never replaced by a guess.
    pub fn assemble(
        &self,
        algorithm: HashAlgorithm,
        mut lookup: impl FnMut(NodeId) -> Option<Hash>,
    ) -> Result<Vec<Hash>, TreeError> {
        let mut proof = Vec::with_capacity(self.elements.len());
        for element in &self.elements {
            // Every planned element covers at least one leaf, so it names at least one node.
            debug_assert!(!element.is_empty());
            let mut nodes = element.iter().rev();
            let Some(&last) = nodes.next() else { continue };
            let mut acc = lookup(last).ok_or(TreeError::MissingNode(last))?;
            for &id in nodes {
                let left = lookup(id).ok_or(TreeError::MissingNode(id))?;
                acc = algorithm.node_hash(&left, &acc);
            }
            proof.push(acc);
        }
        Ok(proof)
    }
}

/// Plans the audit path for leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1).
///
/// The recursion PATH(m, D[n]) is unrolled: at each step the range is split at the largest power
/// of two below its length, the sibling range is recorded and the walk continues into the half
/// holding the leaf. The siblings are found top-down and returned bottom-up, as the proof lists them.
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, TreeError> {
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size });
    }
    let mut elements = Vec::new();
    let (mut start, mut end) = (0, size);
    while end - start > 1 {
        let mid = start + split_point(end - start);
        if index < mid {
            elements.push(range_nodes(mid, end));
            end = mid;
        } else {
            elements.push(range_nodes(start, mid));
            start = mid;
        }
    }
    elements.reverse();
    Ok(ProofPlan { elements })
}

/// Plans the consistency proof between tree sizes `old_size` and `new_size` (RFC 9162 §2.1.4.1).
///
/// The recursion SUBPROOF(m, D[n], b) is unrolled the same way as the audit path. When the walk
/// reaches a subtree that is exactly the old tree's last complete piece, that subtree is included
/// unless it is the whole old tree (b = true), whose root the verifier already holds. An empty
/// plan is returned when `old_size` is 0 or equal to `new_size`, where nothing needs proving.
pub fn consistency_plan(old_size: u64, new_size: u64) -> Result<ProofPlan, TreeError> {
    if old_size > new_size {
        return Err(TreeError::OldSizeExceedsNew { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(ProofPlan::default());
    }
    let mut outer = Vec::new();
    let mut terminal = None;
    let (mut start, mut end) = (0, new_size);
    let mut whole_old_tree = true;
    loop {
        if old_size == end {
            if !whole_old_tree {
                terminal = Some(range_nodes(start, end));
            }
            break;
        }
        // Here start < old_size < end, so the range holds at least two leaves.
        let mid = start + split_point(end - start);
        if old_size <= mid {
            outer.push(range_nodes(mid, end));
            end = mid;
        } else {
            outer.push(range_nodes(start, mid));
            start = mid;
            whole_old_tree = false;
        }
    }
    let elements = terminal.into_iter().chain(outer.into_iter().rev()).collect();
    Ok(ProofPlan { elements })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(pairs: &[(u8, u64)]) -> Vec<NodeId> {
        pairs.iter().map(|&(level, index)| NodeId::new(level, index)).collect()
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn range_decomposes_into_complete_subtrees() {
        assert_eq!(range_nodes(0, 0), vec![]);
        assert_eq!(range_nodes(0, 7), ids(&[(2, 0), (1, 2), (0, 6)]));
        assert_eq!(range_nodes(0, 8), ids(&[(3, 0)]));
        assert_eq!(range_nodes(8, 13), ids(&[(2, 2), (0, 12)]));
        assert_eq!(root_plan(70), ids(&[(6, 0), (2, 16), (1, 34)]));
    }

    // The expected node choices below are the published ones from transparency-dev/merkle
    // proof/proof_test.go (TestInclusion / TestConsistency), written as flat node lists per element.
    #[test]
    fn inclusion_plan_matches_reference_node_choice() {
        let plan = |i, n| inclusion_plan(i, n).map(|p| p.elements().to_vec());
        assert_eq!(plan(0, 1), Ok(vec![]));
        assert_eq!(plan(1, 3), Ok(vec![ids(&[(0, 0)]), ids(&[(0, 2)])]));
        // Size 7, index 0: b h then l = hash(i, j), which is the fold of i and j.
        assert_eq!(plan(0, 7), Ok(vec![ids(&[(0, 1)]), ids(&[(1, 1)]), ids(&[(1, 2), (0, 6)])]));
        assert_eq!(plan(4, 7), Ok(vec![ids(&[(0, 5)]), ids(&[(0, 6)]), ids(&[(2, 0)])]));
        assert_eq!(plan(6, 7), Ok(vec![ids(&[(1, 2)]), ids(&[(2, 0)])]));
        assert_eq!(plan(3, 5), Ok(vec![ids(&[(0, 2)]), ids(&[(1, 0)]), ids(&[(0, 4)])]));
        assert_eq!(
            plan(81, 95),
            Ok(vec![
                ids(&[(0, 80)]),
                ids(&[(1, 41)]),
                ids(&[(2, 21)]),
                ids(&[(2, 22), (1, 46), (0, 94)]),
                ids(&[(4, 4)]),
                ids(&[(6, 0)]),
            ])
        );
        assert_eq!(plan(7, 7), Err(TreeError::IndexOutOfRange { index: 7, size: 7 }));
        assert_eq!(plan(0, 0), Err(TreeError::IndexOutOfRange { index: 0, size: 0 }));
    }

    #[test]
    fn consistency_plan_matches_reference_node_choice() {
        let plan = |m, n| consistency_plan(m, n).map(|p| p.elements().to_vec());
        assert_eq!(plan(1, 2), Ok(vec![ids(&[(0, 1)])]));
        assert_eq!(plan(2, 8), Ok(vec![ids(&[(1, 1)]), ids(&[(2, 1)])]));
        assert_eq!(plan(3, 7), Ok(vec![ids(&[(0, 2)]), ids(&[(0, 3)]), ids(&[(1, 0)]), ids(&[(1, 2), (0, 6)])]));
        assert_eq!(plan(5, 7), Ok(vec![ids(&[(0, 4)]), ids(&[(0, 5)]), ids(&[(0, 6)]), ids(&[(2, 0)])]));
        assert_eq!(plan(7, 8), Ok(vec![ids(&[(0, 6)]), ids(&[(0, 7)]), ids(&[(1, 2)]), ids(&[(2, 0)])]));
        assert_eq!(plan(4, 7), Ok(vec![ids(&[(1, 2), (0, 6)])]));
        assert_eq!(plan(24, 31), Ok(vec![ids(&[(3, 2)]), ids(&[(2, 6), (1, 14), (0, 30)]), ids(&[(4, 0)])]));
        assert_eq!(plan(5, 5), Ok(vec![]));
        assert_eq!(plan(0, 5), Ok(vec![]));
        assert_eq!(plan(9, 8), Err(TreeError::OldSizeExceedsNew { old_size: 9, new_size: 8 }));
    }

    #[test]
    fn assemble_reports_missing_nodes() {
        let plan = inclusion_plan(0, 3).unwrap_or_default();
        let present = NodeId::leaf(1);
        let result = plan.assemble(HashAlgorithm::Sha256, |id| (id == present).then(|| Hash::from_bytes([7; 32])));
        assert_eq!(result, Err(TreeError::MissingNode(NodeId::leaf(2))));
    }
}
