//! What one ledger entry says, and the exact bytes its leaf hash covers.

use serde::{Deserialize, Serialize};

use crate::hash::{Hash, HashAlgorithm};

/// One recorded change to enforcement data: who did what to which object, where and when.
///
/// The payload itself is kept beside the entry; the entry carries only its digest, so the leaf
/// hash stays small while still binding the payload byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The entry's position in the ledger, which is also its leaf index in the tree.
    pub seq: u64,
    /// Unix seconds (UTC) when the change was made.
    pub recorded_at: i64,
    /// The account (or system process, e.g. `system:demo`) that made the change.
    pub actor: String,
    /// The role under which the actor acted.
    pub role: String,
    /// What happened, e.g. `division.upsert`.
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// The division code of the territory the object belongs to.
    pub jurisdiction: String,
    /// Digest of the canonical payload under the ledger's algorithm.
    pub payload_digest: Hash,
}

impl Entry {
    /// The bytes the leaf hash covers: the entry as JSON with its fields in declaration order, so the
    /// same entry always encodes the same way on every machine.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        self.view().canonical_bytes()
    }

    /// The RFC 6962 leaf hash of the entry: H(0x00 ‖ canonical bytes).
    pub fn leaf_hash(&self, algorithm: HashAlgorithm) -> Hash {
        self.view().leaf_hash(algorithm)
    }

    /// The entry as borrowed text.
    pub fn view(&self) -> EntryView<'_> {
        EntryView {
            seq: self.seq,
            recorded_at: self.recorded_at,
            actor: &self.actor,
            role: &self.role,
            action: &self.action,
            object_type: &self.object_type,
            object_id: &self.object_id,
            jurisdiction: &self.jurisdiction,
            payload_digest: self.payload_digest,
        }
    }
}

/// An [`Entry`] whose text is borrowed, e.g. from a page of entries as the database returned it:
/// verification hashes millions of them and need not copy each field first. Its fields are the entry's,
/// in the same order, so it encodes to the same canonical bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EntryView<'a> {
    pub seq: u64,
    pub recorded_at: i64,
    pub actor: &'a str,
    pub role: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub jurisdiction: &'a str,
    pub payload_digest: Hash,
}

impl EntryView<'_> {
    /// See [`Entry::canonical_bytes`].
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // Serializing a plain struct of strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// See [`Entry::leaf_hash`].
    pub fn leaf_hash(&self, algorithm: HashAlgorithm) -> Hash {
        algorithm.leaf_hash(&self.canonical_bytes())
    }

    /// The owned entry.
    pub fn to_entry(&self) -> Entry {
        Entry {
            seq: self.seq,
            recorded_at: self.recorded_at,
            actor: self.actor.into(),
            role: self.role.into(),
            action: self.action.into(),
            object_type: self.object_type.into(),
            object_id: self.object_id.into(),
            jurisdiction: self.jurisdiction.into(),
            payload_digest: self.payload_digest,
        }
    }
}

/// The canonical text of a payload: JSON with object keys sorted and no insignificant whitespace.
pub fn canonical_payload(payload: &serde_json::Value) -> String {
    // serde_json's map is ordered by key unless its `preserve_order` feature is on, which this
    // workspace never enables; the test below guards that.
    payload.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_canonical_whatever_the_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2], "x": null}}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":{"x":null,"y":[1,2]},"b":1}"#).unwrap();
        assert_eq!(canonical_payload(&a), r#"{"a":{"x":null,"y":[1,2]},"b":1}"#);
        assert_eq!(canonical_payload(&a), canonical_payload(&b));
    }

    #[test]
    fn the_leaf_binds_every_field() {
        let entry = Entry {
            seq: 7,
            recorded_at: 1_700_000_000,
            actor: "admin".into(),
            role: "admin".into(),
            action: "division.upsert".into(),
            object_type: "division".into(),
            object_id: "320613007000".into(),
            jurisdiction: "320613007000".into(),
            payload_digest: HashAlgorithm::Sm3.digest(b"{}"),
        };
        let bytes = String::from_utf8(entry.canonical_bytes()).unwrap();
        assert!(bytes.starts_with(r#"{"seq":7,"recorded_at":1700000000,"actor":"admin""#), "{bytes}");
        // The borrowed view encodes exactly as the entry itself does, escapes included.
        let mut quoted = entry.clone();
        quoted.object_id = "a\"b\\c\n中\u{1}".into();
        for e in [&entry, &quoted] {
            assert_eq!(e.view().canonical_bytes(), serde_json::to_vec(e).unwrap());
            assert_eq!(e.view().to_entry(), *e);
        }
        let leaf = entry.leaf_hash(HashAlgorithm::Sm3);
        let mut changed = entry.clone();
        changed.jurisdiction = "320613008000".into();
        assert_ne!(changed.leaf_hash(HashAlgorithm::Sm3), leaf);
        changed = entry.clone();
        changed.seq = 8;
        assert_ne!(changed.leaf_hash(HashAlgorithm::Sm3), leaf);
    }
}
