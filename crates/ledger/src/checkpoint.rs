//! Signed tree heads (checkpoints): the server's statement "the record had this size and this root at
//! this time", signed with SM2 (GB/T 32918) so that anyone holding the public key can hold the server
//! to it later.

use serde::{Deserialize, Serialize};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};

use crate::hash::{Hash, HashAlgorithm};
use crate::proof::TreeHead;

/// The SM2 distinguishing identifier: the default user ID of GB/T 35276 (SM2 usage specification),
/// which verifiers use unless told otherwise.
pub const SM2_DISTINGUISHING_ID: &str = "1234567812345678";

/// What a checkpoint states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub head: TreeHead,
    /// Unix seconds (UTC) when the head was signed.
    pub signed_at: i64,
}

impl Checkpoint {
    /// The exact text that is signed: versioned, one field per line, so that any implementation can
    /// rebuild it from the JSON fields.
    pub fn signed_text(&self, origin: &str) -> String {
        format!(
            "gridward checkpoint v1\n{origin}\n{}\n{}\n{}\n{}\n",
            self.head.size,
            self.head.algorithm.as_str(),
            self.head.root,
            self.signed_at
        )
    }
}

/// One signature over a checkpoint: the server's own, or a witness's cosignature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointSignature {
    /// Who signed: the server's origin name, or a witness's name.
    pub signer: String,
    /// The first 8 bytes of SM3(public key), hex, to pick the right key.
    pub key_id: String,
    /// Always `sm2` for now.
    pub algorithm: String,
    /// The SM2 signature (r ‖ s), hex.
    pub signature: String,
}

/// Why a signature or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("not a valid SM2 key")]
    BadKey,
    #[error("not a valid SM2 signature encoding")]
    BadSignature,
    #[error("the signature does not match the checkpoint and key")]
    Mismatch,
    #[error("signature algorithm {0:?} is not supported")]
    UnsupportedAlgorithm(String),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// The key id of a public key: the first 8 bytes of its SM3 digest, hex.
pub fn key_id(public_key: &[u8]) -> String {
    let digest: Hash = HashAlgorithm::Sm3.digest(public_key);
    hex(&digest.as_bytes()[..8])
}

/// A signing key for checkpoints and cosignatures.
pub struct CheckpointKey {
    key: SigningKey,
}

impl CheckpointKey {
    /// A new random key.
    pub fn generate() -> Result<CheckpointKey, SignatureError> {
        loop {
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret).map_err(|_| SignatureError::BadKey)?;
            // A random 32-byte string is a valid scalar with overwhelming probability; retry otherwise.
            if let Ok(key) = CheckpointKey::from_secret_hex(&hex(&secret)) {
                return Ok(key);
            }
        }
    }

    /// Reads a key saved with [`CheckpointKey::secret_hex`].
    pub fn from_secret_hex(text: &str) -> Result<CheckpointKey, SignatureError> {
        let bytes = unhex(text.trim()).ok_or(SignatureError::BadKey)?;
        let key = SigningKey::from_slice(SM2_DISTINGUISHING_ID, &bytes).map_err(|_| SignatureError::BadKey)?;
        Ok(CheckpointKey { key })
    }

    /// The secret scalar, hex; keep it private.
    pub fn secret_hex(&self) -> String {
        hex(&self.key.to_bytes())
    }

    /// The public key, SEC1 uncompressed, hex.
    pub fn public_key_hex(&self) -> String {
        hex(&self.key.verifying_key().to_sec1_bytes())
    }

    pub fn key_id(&self) -> String {
        key_id(&self.key.verifying_key().to_sec1_bytes())
    }

    /// Signs `checkpoint` as stated by `origin`, under the name `signer`.
    pub fn sign(&self, origin: &str, checkpoint: &Checkpoint, signer: &str) -> CheckpointSignature {
        let signature: Signature = self.key.sign(checkpoint.signed_text(origin).as_bytes());
        CheckpointSignature {
            signer: signer.to_string(),
            key_id: self.key_id(),
            algorithm: "sm2".into(),
            signature: hex(&signature.to_bytes()),
        }
    }
}

/// Checks one signature over `checkpoint` against a public key (SEC1 hex).
pub fn verify_checkpoint(
    origin: &str,
    checkpoint: &Checkpoint,
    signature: &CheckpointSignature,
    public_key_hex: &str,
) -> Result<(), SignatureError> {
    if signature.algorithm != "sm2" {
        return Err(SignatureError::UnsupportedAlgorithm(signature.algorithm.clone()));
    }
    let public = unhex(public_key_hex).ok_or(SignatureError::BadKey)?;
    let key = VerifyingKey::from_sec1_bytes(SM2_DISTINGUISHING_ID, &public).map_err(|_| SignatureError::BadKey)?;
    let bytes = unhex(&signature.signature).ok_or(SignatureError::BadSignature)?;
    let sig = Signature::from_slice(&bytes).map_err(|_| SignatureError::BadSignature)?;
    key.verify(checkpoint.signed_text(origin).as_bytes(), &sig).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            head: TreeHead { algorithm: HashAlgorithm::Sm3, size: 42, root: HashAlgorithm::Sm3.digest(b"root") },
            signed_at: 1_700_000_000,
        }
    }

    #[test]
    fn a_signature_verifies_and_binds_every_field() {
        let key = CheckpointKey::generate().unwrap();
        let cp = checkpoint();
        let sig = key.sign("nantong.gridward", &cp, "nantong.gridward");
        verify_checkpoint("nantong.gridward", &cp, &sig, &key.public_key_hex()).unwrap();
        assert_eq!(sig.key_id.len(), 16);

        let mut other = cp;
        other.head.size = 43;
        assert_eq!(verify_checkpoint("nantong.gridward", &other, &sig, &key.public_key_hex()), Err(SignatureError::Mismatch));
        other = cp;
        other.signed_at += 1;
        assert_eq!(verify_checkpoint("nantong.gridward", &other, &sig, &key.public_key_hex()), Err(SignatureError::Mismatch));
        assert_eq!(verify_checkpoint("elsewhere", &cp, &sig, &key.public_key_hex()), Err(SignatureError::Mismatch));
        let stranger = CheckpointKey::generate().unwrap();
        assert_eq!(verify_checkpoint("nantong.gridward", &cp, &sig, &stranger.public_key_hex()), Err(SignatureError::Mismatch));
        let mut flipped = sig.clone();
        flipped.signature.replace_range(0..1, if flipped.signature.starts_with('0') { "1" } else { "0" });
        assert!(verify_checkpoint("nantong.gridward", &cp, &flipped, &key.public_key_hex()).is_err());
    }

    #[test]
    fn keys_round_trip_through_their_saved_form() {
        let key = CheckpointKey::generate().unwrap();
        let again = CheckpointKey::from_secret_hex(&key.secret_hex()).unwrap();
        assert_eq!(again.public_key_hex(), key.public_key_hex());
        assert!(CheckpointKey::from_secret_hex("zz").is_err());
        assert!(key.public_key_hex().starts_with("04"), "SEC1 uncompressed");
    }

    #[test]
    fn the_signed_text_is_stable() {
        let text = checkpoint().signed_text("nantong.gridward");
        assert_eq!(
            text,
            format!("gridward checkpoint v1\nnantong.gridward\n42\nsm3\n{}\n1700000000\n", HashAlgorithm::Sm3.digest(b"root"))
        );
    }
}
