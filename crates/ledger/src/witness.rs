//! The witness's judgement: whether a newly published checkpoint only extends the last one it cosigned.
//! An outside body runs this against every new head; a rewritten or truncated history fails here.

use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointSignature, SignatureError, verify_checkpoint};
use crate::error::ProofError;
use crate::proof::ConsistencyProof;

/// What a witness remembers about one server between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessState {
    /// The server's origin name, as it signs.
    pub origin: String,
    /// The server's public key (SEC1 hex), pinned at first contact.
    pub server_public_key: String,
    /// The last checkpoint this witness cosigned.
    pub last: Option<Checkpoint>,
}

/// Why a witness refuses to cosign. Every variant is a reason to raise the alarm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessRefusal {
    #[error("the checkpoint's signature does not hold under the pinned server key: {0}")]
    BadServerSignature(SignatureError),
    #[error("the server changed its hash algorithm from {old} to {new}")]
    AlgorithmChanged { old: String, new: String },
    #[error("the record shrank from {old} to {new} entries: history was truncated")]
    Shrunk { old: u64, new: u64 },
    #[error("the record at {size} entries now has another root: history was rewritten")]
    Forked { size: u64 },
    #[error("the new head does not extend the cosigned one: {0}")]
    Inconsistent(ProofError),
    #[error("the server sent no consistency proof from {old} to {new} entries")]
    MissingProof { old: u64, new: u64 },
}

/// Decides whether `latest` (signed by the server as `signature`) may be cosigned, given what the witness
/// cosigned before and the server's consistency proof from that size to the new one.
pub fn judge(
    state: &WitnessState,
    latest: &Checkpoint,
    signature: &CheckpointSignature,
    proof: Option<&ConsistencyProof>,
) -> Result<(), WitnessRefusal> {
    verify_checkpoint(&state.origin, latest, signature, &state.server_public_key).map_err(WitnessRefusal::BadServerSignature)?;
    let Some(last) = &state.last else { return Ok(()) };
    let (old, new) = (&last.head, &latest.head);
    if old.algorithm != new.algorithm {
        return Err(WitnessRefusal::AlgorithmChanged { old: old.algorithm.as_str().into(), new: new.algorithm.as_str().into() });
    }
    if new.size < old.size {
        return Err(WitnessRefusal::Shrunk { old: old.size, new: new.size });
    }
    if new.size == old.size {
        return if new.root == old.root { Ok(()) } else { Err(WitnessRefusal::Forked { size: new.size }) };
    }
    let proof = proof.ok_or(WitnessRefusal::MissingProof { old: old.size, new: new.size })?;
    proof.verify(old, new).map_err(WitnessRefusal::Inconsistent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckpointKey, HashAlgorithm, MemoryNodeStore, MerkleTree};

    struct Server {
        key: CheckpointKey,
        tree: MerkleTree<MemoryNodeStore>,
    }

    impl Server {
        fn new() -> Server {
            Server { key: CheckpointKey::generate().unwrap(), tree: MerkleTree::new(HashAlgorithm::Sm3, MemoryNodeStore::new()) }
        }
        fn grow(&mut self, n: usize) {
            for i in 0..n {
                self.tree.append(format!("entry {}", self.tree.size() + i as u64).as_bytes()).unwrap();
            }
        }
        fn publish(&self) -> (Checkpoint, CheckpointSignature) {
            let cp = Checkpoint { head: self.tree.head(), signed_at: self.tree.size() as i64 };
            let sig = self.key.sign("city", &cp, "city");
            (cp, sig)
        }
    }

    #[test]
    fn an_extending_head_is_accepted_and_rewrites_are_refused() {
        let mut server = Server::new();
        server.grow(10);
        let (first, sig) = server.publish();
        let mut state = WitnessState { origin: "city".into(), server_public_key: server.key.public_key_hex(), last: None };
        judge(&state, &first, &sig, None).unwrap();
        state.last = Some(first);

        server.grow(7);
        let (second, sig2) = server.publish();
        let proof = server.tree.consistency_proof(10, 17).unwrap();
        judge(&state, &second, &sig2, Some(&proof)).unwrap();
        assert_eq!(judge(&state, &second, &sig2, None), Err(WitnessRefusal::MissingProof { old: 10, new: 17 }));

        // A server that rewrote entry 3 and regrew to 17 cannot prove consistency.
        let mut liar = Server { key: server.key, tree: MerkleTree::new(HashAlgorithm::Sm3, MemoryNodeStore::new()) };
        for i in 0..17u64 {
            let text = if i == 3 { "entry 3 rewritten".to_string() } else { format!("entry {i}") };
            liar.tree.append(text.as_bytes()).unwrap();
        }
        let (forged, forged_sig) = liar.publish();
        let forged_proof = liar.tree.consistency_proof(10, 17).unwrap();
        assert!(matches!(judge(&state, &forged, &forged_sig, Some(&forged_proof)), Err(WitnessRefusal::Inconsistent(_))));

        // Truncated, or the same size with another root.
        let mut short = Server { key: liar.key, tree: MerkleTree::new(HashAlgorithm::Sm3, MemoryNodeStore::new()) };
        short.grow(5);
        let (cut, cut_sig) = short.publish();
        assert_eq!(judge(&state, &cut, &cut_sig, None), Err(WitnessRefusal::Shrunk { old: 10, new: 5 }));
        short.grow(5);
        let (fork, fork_sig) = short.publish();
        let mut pinned = state.clone();
        pinned.server_public_key = short.key.public_key_hex();
        let mut forked_state = pinned.clone();
        forked_state.last =
            Some(Checkpoint { head: crate::TreeHead { root: HashAlgorithm::Sm3.digest(b"x"), ..fork.head }, signed_at: 0 });
        assert_eq!(judge(&forked_state, &fork, &fork_sig, None), Err(WitnessRefusal::Forked { size: 10 }));

        // A checkpoint signed by anyone but the pinned key is refused.
        let stranger = CheckpointKey::generate().unwrap();
        let bad_sig = stranger.sign("city", &second, "city");
        assert!(matches!(judge(&state, &second, &bad_sig, Some(&proof)), Err(WitnessRefusal::BadServerSignature(_))));
    }
}
