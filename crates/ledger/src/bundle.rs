//! A self-contained proof that one entry is in the record: the entry and its payload, an inclusion proof
//! up to a signed checkpoint, and the signature. A third party checks it offline, with no access to the
//! server, and compares the key id with the one the installation publishes.

use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointSignature, SignatureError, key_id, verify_checkpoint};
use crate::entry::Entry;
use crate::error::ProofError;
use crate::proof::InclusionProof;

/// The format marker every bundle carries, so later formats can be told apart.
pub const BUNDLE_FORMAT: &str = "gridward-entry-proof v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryProofBundle {
    pub format: String,
    pub origin: String,
    pub entry: Entry,
    /// The canonical payload whose digest the entry carries.
    pub payload: String,
    pub inclusion: InclusionProof,
    pub checkpoint: Checkpoint,
    pub signature: CheckpointSignature,
    /// The signer's public key (SEC1, hex). Compare [`key_id`] of it with the published key id.
    pub public_key: String,
}

/// Why a bundle does not prove what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("unknown bundle format {0:?}")]
    Format(String),
    #[error("the payload does not match the entry's digest")]
    Payload,
    #[error("the inclusion proof is for entry {proof}, not {entry}")]
    WrongEntry { proof: u64, entry: u64 },
    #[error("the entry is not in the signed tree: {0}")]
    Inclusion(#[from] ProofError),
    #[error("the checkpoint signature does not hold: {0}")]
    Signature(#[from] SignatureError),
    #[error("the bundle is signed by key {found}, not the expected {expected}")]
    UnexpectedKey { found: String, expected: String },
}

impl EntryProofBundle {
    /// Checks everything the bundle claims. With `expected_key_id`, also that it was signed by that key.
    pub fn check(&self, expected_key_id: Option<&str>) -> Result<(), BundleError> {
        if self.format != BUNDLE_FORMAT {
            return Err(BundleError::Format(self.format.clone()));
        }
        let algorithm = self.checkpoint.head.algorithm;
        if algorithm.digest(self.payload.as_bytes()) != self.entry.payload_digest {
            return Err(BundleError::Payload);
        }
        if self.inclusion.leaf_index != self.entry.seq {
            return Err(BundleError::WrongEntry { proof: self.inclusion.leaf_index, entry: self.entry.seq });
        }
        self.inclusion.verify(&self.entry.leaf_hash(algorithm), &self.checkpoint.head)?;
        verify_checkpoint(&self.origin, &self.checkpoint, &self.signature, &self.public_key)?;
        if let Some(expected) = expected_key_id {
            let found = self.key_id();
            if found != expected {
                return Err(BundleError::UnexpectedKey { found, expected: expected.to_string() });
            }
        }
        Ok(())
    }

    /// The id of the key that signed the bundle's checkpoint.
    pub fn key_id(&self) -> String {
        let bytes: Vec<u8> = (0..self.public_key.len() / 2)
            .filter_map(|i| u8::from_str_radix(self.public_key.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        key_id(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckpointKey, HashAlgorithm, MemoryNodeStore, MerkleTree};

    fn bundle() -> EntryProofBundle {
        let alg = HashAlgorithm::Sm3;
        let mut tree = MerkleTree::new(alg, MemoryNodeStore::new());
        let mut entries = Vec::new();
        for seq in 0..5u64 {
            let payload = format!(r#"{{"n":{seq}}}"#);
            let entry = Entry {
                seq,
                recorded_at: 1,
                actor: "a".into(),
                role: "admin".into(),
                action: "division.upsert".into(),
                object_type: "division".into(),
                object_id: format!("{seq}"),
                jurisdiction: "320600000000".into(),
                payload_digest: alg.digest(payload.as_bytes()),
            };
            tree.append_leaf_hash(entry.leaf_hash(alg)).unwrap();
            entries.push((entry, payload));
        }
        let key = CheckpointKey::generate().unwrap();
        let checkpoint = Checkpoint { head: tree.head(), signed_at: 2 };
        let (entry, payload) = entries[3].clone();
        EntryProofBundle {
            format: BUNDLE_FORMAT.into(),
            origin: "o".into(),
            inclusion: tree.inclusion_proof(3, 5).unwrap(),
            signature: key.sign("o", &checkpoint, "o"),
            public_key: key.public_key_hex(),
            checkpoint,
            entry,
            payload,
        }
    }

    #[test]
    fn a_bundle_checks_and_every_part_matters() {
        let b = bundle();
        b.check(None).unwrap();
        b.check(Some(&b.key_id())).unwrap();
        assert!(matches!(b.check(Some("0000000000000000")), Err(BundleError::UnexpectedKey { .. })));

        let mut x = b.clone();
        x.payload = r#"{"n":4}"#.into();
        assert_eq!(x.check(None), Err(BundleError::Payload));
        x = b.clone();
        x.entry.actor = "someone else".into();
        assert!(matches!(x.check(None), Err(BundleError::Inclusion(_))));
        x = b.clone();
        x.inclusion.leaf_index = 2;
        assert!(matches!(x.check(None), Err(BundleError::WrongEntry { .. })));
        x = b.clone();
        x.checkpoint.signed_at = 3;
        assert!(matches!(x.check(None), Err(BundleError::Signature(_))));
        x = b.clone();
        x.format = "other".into();
        assert!(matches!(x.check(None), Err(BundleError::Format(_))));
        let json = serde_json::to_string(&b).unwrap();
        let back: EntryProofBundle = serde_json::from_str(&json).unwrap();
        back.check(None).unwrap();
    }
}
