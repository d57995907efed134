//! Blocks: the original JSON shape, a fixed-size header, and the hashes that bind them.
//!
//! The header commits to the previous hash, the transactions (through a Merkle root over
//! each transaction's id and signature), the timestamp, the difficulty and the nonce. The
//! block hash is the SHA-256 of that header, so it commits to the whole block, and it is
//! also the proof-of-work hash.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::pow::{Difficulty, HEADER_LEN, NONCE_OFFSET, PowTemplate};
use crate::transaction::Transaction;

/// Header format version.
pub const HEADER_VERSION: u32 = 1;

/// A SHA-256 hash naming a block.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BlockHash(pub [u8; 32]);

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}
impl fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockHash({})", &hex::encode(self.0)[..16])
    }
}
impl FromStr for BlockHash {
    type Err = hex::FromHexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)?;
        Ok(BlockHash(out))
    }
}
impl Serialize for BlockHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for BlockHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| serde::de::Error::custom("a hash is 64 hex digits"))
    }
}

/// The part of a block that proof of work is computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    pub number: u64,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    pub difficulty: Difficulty,
    pub previous_hash: BlockHash,
    pub merkle_root: [u8; 32],
    pub nonce: u64,
}

impl BlockHeader {
    /// The canonical 96-byte encoding; the nonce is last.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&HEADER_VERSION.to_be_bytes());
        out[4..12].copy_from_slice(&self.number.to_be_bytes());
        out[12..20].copy_from_slice(&self.timestamp.to_be_bytes());
        out[20..24].copy_from_slice(&self.difficulty.bits().to_be_bytes());
        out[24..56].copy_from_slice(&self.previous_hash.0);
        out[56..88].copy_from_slice(&self.merkle_root);
        out[NONCE_OFFSET..].copy_from_slice(&self.nonce.to_be_bytes());
        out
    }

    /// Reads [`BlockHeader::to_bytes`]' encoding back: `None` for another version or a
    /// difficulty out of range.
    pub fn from_bytes(bytes: &[u8; HEADER_LEN]) -> Option<Self> {
        let word = |range: std::ops::Range<usize>| -> [u8; 8] {
            bytes[range].try_into().expect("eight bytes")
        };
        let version = u32::from_be_bytes(bytes[0..4].try_into().expect("four bytes"));
        if version != HEADER_VERSION {
            return None;
        }
        let bits = u32::from_be_bytes(bytes[20..24].try_into().expect("four bytes"));
        Some(BlockHeader {
            number: u64::from_be_bytes(word(4..12)),
            timestamp: u64::from_be_bytes(word(12..20)),
            difficulty: Difficulty::new(bits).ok()?,
            previous_hash: BlockHash(bytes[24..56].try_into().expect("32 bytes")),
            merkle_root: bytes[56..88].try_into().expect("32 bytes"),
            nonce: u64::from_be_bytes(word(NONCE_OFFSET..HEADER_LEN)),
        })
    }

    pub fn hash(&self) -> BlockHash {
        BlockHash(Sha256::digest(self.to_bytes()).into())
    }

    /// The midstate template for searching nonces of this header.
    pub fn pow_template(&self) -> PowTemplate {
        PowTemplate::new(&self.to_bytes())
    }
}

/// The Merkle root of the transactions' leaf hashes. An odd node is carried up unpaired
/// (not duplicated), so two different lists never share a root. See [`crate::merkle`].
pub fn merkle_root(transactions: &[Transaction]) -> [u8; 32] {
    let leaves: Vec<[u8; 32]> = transactions.iter().map(Transaction::leaf_hash).collect();
    crate::merkle::root_of(&leaves)
}

/// A block: header fields and transactions. The hash and root are derived, never trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    header: BlockHeader,
    transactions: Vec<Transaction>,
    hash: BlockHash,
}

impl Block {
    /// Assembles a block, computing its Merkle root and hash.
    pub fn new(
        number: u64,
        timestamp: u64,
        difficulty: Difficulty,
        previous_hash: BlockHash,
        transactions: Vec<Transaction>,
        nonce: u64,
    ) -> Self {
        let header = BlockHeader {
            number,
            timestamp,
            difficulty,
            previous_hash,
            merkle_root: merkle_root(&transactions),
            nonce,
        };
        Block {
            hash: header.hash(),
            header,
            transactions,
        }
    }

    /// The same block with another nonce (after a proof-of-work search).
    pub fn with_nonce(mut self, nonce: u64) -> Self {
        self.header.nonce = nonce;
        self.hash = self.header.hash();
        self
    }

    pub fn header(&self) -> &BlockHeader {
        &self.header
    }
    pub fn number(&self) -> u64 {
        self.header.number
    }
    pub fn timestamp(&self) -> u64 {
        self.header.timestamp
    }
    pub fn difficulty(&self) -> Difficulty {
        self.header.difficulty
    }
    pub fn previous_hash(&self) -> BlockHash {
        self.header.previous_hash
    }
    pub fn nonce(&self) -> u64 {
        self.header.nonce
    }
    pub fn hash(&self) -> BlockHash {
        self.hash
    }
    pub fn transactions(&self) -> &[Transaction] {
        &self.transactions
    }
    pub fn into_transactions(self) -> Vec<Transaction> {
        self.transactions
    }

    /// Checks what a sender claims beside the contents: a `merkle_root` (hex, any case) and
    /// a `hash` must be the ones the contents give.
    ///
    /// # Errors
    /// [`ClaimError`] for the first claim that is not the block's own.
    pub fn check_claims(
        &self,
        merkle_root: Option<&str>,
        hash: Option<BlockHash>,
    ) -> Result<(), ClaimError> {
        let root = hex::encode(self.header.merkle_root);
        if let Some(claimed) = merkle_root.filter(|claimed| !claimed.eq_ignore_ascii_case(&root)) {
            return Err(ClaimError::MerkleRoot {
                number: self.number(),
                claimed: claimed.to_owned(),
                root,
            });
        }
        if hash.is_some_and(|claimed| claimed != self.hash) {
            return Err(ClaimError::Hash {
                number: self.number(),
            });
        }
        Ok(())
    }
}

/// Why a block's claimed Merkle root or hash is not its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error(
        "block {number}: merkle_root {claimed} is not the Merkle root of its transactions ({root})"
    )]
    MerkleRoot {
        number: u64,
        claimed: String,
        root: String,
    },
    #[error("block {number} claims a hash that its contents do not have")]
    Hash { number: u64 },
}

/// The wire form: the original field names plus what the design adds.
#[derive(Serialize, Deserialize)]
struct BlockJson {
    block_number: u64,
    timestamp: u64,
    transactions: Vec<Transaction>,
    nonce: u64,
    previous_hash: BlockHash,
    difficulty: Difficulty,
    /// Written always; read only to check it when a sender claims one.
    #[serde(default)]
    merkle_root: Option<String>,
    #[serde(default)]
    hash: Option<BlockHash>,
}

impl Serialize for Block {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Block", 8)?;
        s.serialize_field("block_number", &self.header.number)?;
        s.serialize_field("timestamp", &self.header.timestamp)?;
        s.serialize_field("transactions", &self.transactions)?;
        s.serialize_field("nonce", &self.header.nonce)?;
        s.serialize_field("previous_hash", &self.header.previous_hash)?;
        s.serialize_field("difficulty", &self.header.difficulty)?;
        s.serialize_field("merkle_root", &hex::encode(self.header.merkle_root))?;
        s.serialize_field("hash", &self.hash)?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for Block {
    /// Recomputes root and hash; a `merkle_root` or `hash` field that disagrees is an error.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = BlockJson::deserialize(deserializer)?;
        let claimed_root = json.merkle_root;
        let block = Block::new(
            json.block_number,
            json.timestamp,
            json.difficulty,
            json.previous_hash,
            json.transactions,
            json.nonce,
        );
        block
            .check_claims(claimed_root.as_deref(), json.hash)
            .map_err(serde::de::Error::custom)?;
        Ok(block)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;

    use super::*;
    use crate::amount::Amount;
    use crate::wallet::PrivateKey;

    static KEYS: LazyLock<[PrivateKey; 2]> = LazyLock::new(|| {
        let mut rng = rand::rng();
        [
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        ]
    });

    /// A transaction from generated parts: a signed payment (value, optional nonce) or a mint.
    fn transaction() -> impl Strategy<Value = Transaction> {
        (
            1u64..=Amount::MAX.units(),
            proptest::option::of("[A-Za-z0-9_-]{1,64}"),
            any::<bool>(),
        )
            .prop_map(|(units, nonce, mint)| {
                let amount = Amount::from_units(units).unwrap();
                if mint {
                    Transaction::mint(
                        KEYS[1].address().clone(),
                        amount,
                        nonce.as_deref().unwrap_or("m"),
                    )
                } else {
                    Transaction::sign(
                        &KEYS[0],
                        KEYS[1].address(),
                        &amount.to_string(),
                        nonce.as_deref(),
                    )
                    .unwrap()
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn transactions_round_trip_through_json(tx in transaction()) {
            let text = serde_json::to_string(&tx).unwrap();
            let back: Transaction = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back.id(), tx.id());
            prop_assert_eq!(back, tx);
        }

        #[test]
        fn blocks_round_trip_through_json(
            number in any::<u64>(),
            timestamp in any::<u64>(),
            nonce in any::<u64>(),
            bits in 0u32..=64,
            previous in any::<[u8; 32]>(),
            transactions in proptest::collection::vec(transaction(), 0..6),
        ) {
            let block = Block::new(number, timestamp, Difficulty::new(bits).unwrap(), BlockHash(previous), transactions, nonce);
            let text = serde_json::to_string(&block).unwrap();
            let back: Block = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back.hash(), block.hash());
            prop_assert_eq!(BlockHeader::from_bytes(&block.header().to_bytes()), Some(*block.header()));
            prop_assert_eq!(back, block);
        }
    }

    #[test]
    fn template_hash_is_block_hash() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let reward = Transaction::mint(key.address().clone(), Amount::from_coins(1).unwrap(), "1");
        let block = Block::new(
            1,
            1_700_000_000,
            Difficulty::new(4).unwrap(),
            BlockHash([9; 32]),
            vec![reward],
            0,
        );
        let template = block.header().pow_template();
        let nonce = template.search(block.difficulty(), 0, 1, 1 << 20).unwrap();
        let mined = block.with_nonce(nonce);
        assert_eq!(mined.hash().0, template.hash(nonce));
        assert!(mined.difficulty().is_met_by(&mined.hash().0));
    }

    #[test]
    fn json_round_trip_and_hash_check() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let reward = Transaction::mint(key.address().clone(), Amount::from_coins(1).unwrap(), "1");
        let block = Block::new(
            1,
            5,
            Difficulty::new(0).unwrap(),
            BlockHash([1; 32]),
            vec![reward],
            42,
        );
        let text = serde_json::to_string(&block).unwrap();
        for field in [
            "block_number",
            "timestamp",
            "transactions",
            "nonce",
            "previous_hash",
            "hash",
        ] {
            assert!(text.contains(&format!("\"{field}\"")), "{field}");
        }
        let back: Block = serde_json::from_str(&text).unwrap();
        assert_eq!(back, block);
        let forged = text.replace("\"nonce\":42", "\"nonce\":43");
        assert!(serde_json::from_str::<Block>(&forged).is_err());

        // A claimed Merkle root must be the transactions' (in any case of hex).
        let root = hex::encode(block.header().merkle_root);
        let upper = text.replace(&root, &root.to_uppercase());
        assert_eq!(serde_json::from_str::<Block>(&upper).unwrap(), block);
        let other = text.replace(&root, &"0".repeat(64));
        let error = serde_json::from_str::<Block>(&other)
            .unwrap_err()
            .to_string();
        assert!(error.contains("merkle_root"), "{error}");
        assert_eq!(
            block.check_claims(Some(&"0".repeat(64)), None),
            Err(ClaimError::MerkleRoot {
                number: 1,
                claimed: "0".repeat(64),
                root,
            })
        );
    }

    #[test]
    fn merkle_root_depends_on_order_and_count() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let a = Transaction::mint(key.address().clone(), Amount::from_coins(1).unwrap(), "1");
        let b = Transaction::mint(key.address().clone(), Amount::from_coins(1).unwrap(), "2");
        let c = Transaction::mint(key.address().clone(), Amount::from_coins(1).unwrap(), "3");
        let roots = [
            merkle_root(&[a.clone(), b.clone(), c.clone()]),
            merkle_root(&[b.clone(), a.clone(), c.clone()]),
            merkle_root(&[a.clone(), b.clone()]),
            merkle_root(&[a.clone(), b.clone(), c.clone(), c.clone()]),
        ];
        for i in 0..roots.len() {
            for j in i + 1..roots.len() {
                assert_ne!(roots[i], roots[j], "{i} vs {j}");
            }
        }
    }
}
