//! Hash values and the two hash algorithms a ledger can be created with.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

/// Domain-separation prefix for leaf hashes (RFC 6962 §2.1), so a leaf can never be passed off as
/// an interior node or the other way round.
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix for interior node hashes (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

/// A 32-byte digest: a leaf hash, an interior node hash or a tree root.
///
/// Both supported algorithms produce 32 bytes, so one fixed-size type serves both and can be
/// copied freely. It prints and serializes as 64 lowercase hexadecimal digits because that is
/// how people compare roots by eye and how the proofs travel as JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash([u8; 32]);

impl Hash {
    /// The length of every hash in bytes.
    pub const LEN: usize = 32;

    /// Wraps raw digest bytes, for example a value read back from a database column.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Copies a hash out of a byte slice and returns `None` unless it is exactly 32 bytes long,
    /// because a truncated or padded column must not be silently accepted as a hash.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    /// Borrows the raw bytes, for storing the hash in a binary column.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Returns the raw bytes by value.
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// Returns the hash as 64 lowercase hexadecimal digits, the form used in JSON and in logs.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl From<Hash> for [u8; 32] {
    fn from(hash: Hash) -> Self {
        hash.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (i, byte) in self.0.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(byte >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(byte & 0x0f)];
        }
        // Every byte written above is an ASCII hex digit, so the conversion cannot fail.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// Why a string could not be read as a [`Hash`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHashError {
    /// The text was not 64 characters long, so it cannot encode 32 bytes.
    #[error("a hash must be 64 hexadecimal digits, got {0} characters")]
    WrongLength(usize),
    /// A character outside `0-9`, `a-f` and `A-F` appeared.
    #[error("invalid hexadecimal digit {digit:?} at position {position}")]
    InvalidDigit {
        /// The offending character.
        digit: char,
        /// Its zero-based character position.
        position: usize,
    },
}

impl FromStr for Hash {
    type Err = ParseHashError;

    /// Parses 64 hexadecimal digits; upper case is accepted so that hashes copied from other tools
    /// work, while [`fmt::Display`] always writes lower case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // Verification parses millions of stored hashes: well-formed text is read byte by byte, and only
        // text that fails is walked again character by character to name what is wrong.
        if let Some(bytes) = hex_bytes(text.as_bytes()) {
            return Ok(Self(bytes));
        }
        fn nibble(c: char, position: usize) -> Result<u8, ParseHashError> {
            c.to_digit(16).and_then(|d| u8::try_from(d).ok()).ok_or(ParseHashError::InvalidDigit { digit: c, position })
        }
        let chars = text.chars().count();
        if chars != 64 {
            return Err(ParseHashError::WrongLength(chars));
        }
        let mut bytes = [0u8; 32];
        let mut digits = text.chars().enumerate();
        for byte in &mut bytes {
            // The length check above guarantees two more characters per byte.
            let (p_hi, hi) = digits.next().ok_or(ParseHashError::WrongLength(chars))?;
            let (p_lo, lo) = digits.next().ok_or(ParseHashError::WrongLength(chars))?;
            *byte = (nibble(hi, p_hi)? << 4) | nibble(lo, p_lo)?;
        }
        Ok(Self(bytes))
    }
}

/// 64 ASCII hexadecimal digits as 32 bytes, or `None`. Through a table and without a branch per digit:
/// digits of a hash are random, so a branch on their kind is mispredicted half the time.
fn hex_bytes(text: &[u8]) -> Option<[u8; 32]> {
    const INVALID: u8 = 0x10;
    const NIBBLE: [u8; 256] = {
        let mut table = [INVALID; 256];
        let mut c = 0;
        while c < 256 {
            table[c] = match c as u8 {
                d @ b'0'..=b'9' => d - b'0',
                d @ b'a'..=b'f' => d - b'a' + 10,
                d @ b'A'..=b'F' => d - b'A' + 10,
                _ => INVALID,
            };
            c += 1;
        }
        table
    };
    let (pairs, []) = text.as_chunks::<2>() else { return None };
    if pairs.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 32];
    let mut invalid = 0u8;
    for (byte, [hi, lo]) in bytes.iter_mut().zip(pairs) {
        let (hi, lo) = (NIBBLE[usize::from(*hi)], NIBBLE[usize::from(*lo)]);
        invalid |= hi | lo;
        *byte = (hi << 4) | (lo & 0x0f);
    }
    (invalid & INVALID == 0).then_some(bytes)
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;

        impl Visitor<'_> for HexVisitor {
            type Value = Hash;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string of 64 hexadecimal digits")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Hash, E> {
                value.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(HexVisitor)
    }
}

/// The hash function a ledger is built with; it is fixed when the ledger is created and recorded
/// with every tree head so that a verifier never has to guess.
///
/// SM3 (GB/T 32905) is the default because it is the national standard expected in government
/// systems; SHA-256 is offered for interoperability with ordinary transparency-log tooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    /// SM3 as specified in GB/T 32905-2016 (GM/T 0004-2012).
    #[default]
    Sm3,
    /// SHA-256 as specified in FIPS 180-4, the hash RFC 6962 itself uses.
    Sha256,
}

/// The name given for a hash algorithm is not one this ledger supports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hash algorithm {0:?}; expected \"sm3\" or \"sha256\"")]
pub struct UnknownAlgorithm(pub String);

impl HashAlgorithm {
    /// Every supported algorithm, so that tests and tools can iterate over them.
    pub const ALL: [HashAlgorithm; 2] = [HashAlgorithm::Sm3, HashAlgorithm::Sha256];

    /// The stable name stored in the database and in JSON: `"sm3"` or `"sha256"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sm3 => "sm3",
            HashAlgorithm::Sha256 => "sha256",
        }
    }

    /// Reads a name written by [`HashAlgorithm::as_str`]. Matching is exact (lower case) so that a
    /// stored name has exactly one spelling.
    pub fn parse(name: &str) -> Result<Self, UnknownAlgorithm> {
        match name {
            "sm3" => Ok(HashAlgorithm::Sm3),
            "sha256" => Ok(HashAlgorithm::Sha256),
            other => Err(UnknownAlgorithm(other.to_owned())),
        }
    }

    /// Hashes arbitrary bytes with no prefix. This is the plain digest, used for payload digests
    /// and content addresses, and it is the root of the empty tree (RFC 6962: MTH({}) = HASH()).
    pub fn digest(self, data: &[u8]) -> Hash {
        self.digest_parts(&[data])
    }

    /// Hashes the concatenation of several byte strings without allocating a joined buffer.
    fn digest_parts(self, parts: &[&[u8]]) -> Hash {
        match self {
            HashAlgorithm::Sm3 => {
                let mut hasher = sm3::Sm3::new();
                for part in parts {
                    hasher.update(part);
                }
                Hash(hasher.finalize().into())
            }
            HashAlgorithm::Sha256 => {
                let mut hasher = sha2::Sha256::new();
                for part in parts {
                    hasher.update(part);
                }
                Hash(hasher.finalize().into())
            }
        }
    }

    /// The hash of a leaf: H(0x00 ‖ data), as RFC 6962 §2.1 defines it. The prefix keeps a leaf
    /// from ever colliding with an interior node built over the same bytes.
    pub fn leaf_hash(self, data: &[u8]) -> Hash {
        self.digest_parts(&[&[LEAF_PREFIX], data])
    }

    /// The hash of an interior node: H(0x01 ‖ left ‖ right), as RFC 6962 §2.1 defines it.
    pub fn node_hash(self, left: &Hash, right: &Hash) -> Hash {
        let mut buf = [0u8; 1 + 2 * Hash::LEN];
        buf[0] = NODE_PREFIX;
        buf[1..=Hash::LEN].copy_from_slice(&left.0);
        buf[1 + Hash::LEN..].copy_from_slice(&right.0);
        self.digest(&buf)
    }

    /// The root of the tree with no leaves: H of the empty string.
    pub fn empty_root(self) -> Hash {
        self.digest(&[])
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HashAlgorithm {
    type Err = UnknownAlgorithm;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::parse(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_is_lowercase() {
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::try_from(i * 8 + 7).unwrap_or(0);
        }
        let hash = Hash::from_bytes(bytes);
        let text = hash.to_string();
        assert_eq!(text, "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
        assert_eq!(text.parse::<Hash>(), Ok(hash));
        assert_eq!(text.to_uppercase().parse::<Hash>(), Ok(hash));
        assert_eq!(format!("{hash:?}"), format!("Hash({text})"));
    }

    #[test]
    fn hex_parse_rejects_bad_input() {
        assert_eq!("abc".parse::<Hash>(), Err(ParseHashError::WrongLength(3)));
        assert_eq!("0".repeat(66).parse::<Hash>(), Err(ParseHashError::WrongLength(66)));
        let mut bad = "0".repeat(64);
        bad.replace_range(10..11, "g");
        assert_eq!(bad.parse::<Hash>(), Err(ParseHashError::InvalidDigit { digit: 'g', position: 10 }));
        // A multi-byte character must be reported, not cause a slicing panic.
        let wide = format!("é{}", "0".repeat(63));
        assert_eq!(wide.parse::<Hash>(), Err(ParseHashError::InvalidDigit { digit: 'é', position: 0 }));
        // Every ASCII character, first and last: only the 22 hexadecimal digits parse.
        for c in (0u8..128).map(char::from) {
            for position in [0, 63] {
                let mut text = "0".repeat(64);
                text.replace_range(position..=position, &c.to_string());
                assert_eq!(text.parse::<Hash>().is_ok(), c.is_ascii_hexdigit(), "{c:?} at {position}");
            }
        }
    }

    #[test]
    fn from_slice_requires_exact_length() {
        assert_eq!(Hash::from_slice(&[1u8; 32]), Some(Hash::from_bytes([1u8; 32])));
        assert_eq!(Hash::from_slice(&[1u8; 31]), None);
        assert_eq!(Hash::from_slice(&[1u8; 33]), None);
    }

    #[test]
    fn algorithm_names_round_trip() {
        for alg in HashAlgorithm::ALL {
            assert_eq!(HashAlgorithm::parse(alg.as_str()), Ok(alg));
            assert_eq!(alg.to_string().parse::<HashAlgorithm>(), Ok(alg));
        }
        assert_eq!(HashAlgorithm::parse("SM3"), Err(UnknownAlgorithm("SM3".to_owned())));
        assert_eq!(HashAlgorithm::default(), HashAlgorithm::Sm3);
    }

    #[test]
    fn node_hash_matches_prefixed_digest() {
        for alg in HashAlgorithm::ALL {
            let left = alg.digest(b"left");
            let right = alg.digest(b"right");
            let mut joined = vec![0x01];
            joined.extend_from_slice(left.as_bytes());
            joined.extend_from_slice(right.as_bytes());
            assert_eq!(alg.node_hash(&left, &right), alg.digest(&joined));
            assert_eq!(alg.leaf_hash(b"x"), alg.digest(&[0x00, b'x']));
            assert_ne!(alg.node_hash(&left, &right), alg.node_hash(&right, &left));
        }
    }
}
