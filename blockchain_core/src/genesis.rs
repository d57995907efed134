//! Network parameters and the genesis block they determine.
//!
//! A genesis file is JSON; every key is optional and has a built-in default:
//!
//! ```json
//! {"network": "demo", "difficulty": 14, "reward": "1", "timestamp": 1735689600,
//!  "allocations": [{"address": "<public key hex>", "value": "100"}]}
//! ```
//!
//! The genesis block's `previous_hash` is a hash of all the parameters, so nodes with the
//! same parameters share a genesis hash and a node can refuse a chain from another network
//! by comparing one hash.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::amount::{Amount, AmountError};
use crate::block::{Block, BlockHash};
use crate::pow::{Difficulty, DifficultyError};
use crate::transaction::Transaction;
use crate::wallet::{Address, KeyError};

/// The default difficulty in leading zero bits: about 16,000 tries, a few milliseconds.
pub const DEFAULT_DIFFICULTY: u32 = 14;
/// The default block reward, in coins (the original's `MINING_REWARD`).
pub const DEFAULT_REWARD: &str = "1";
/// 2025-01-01T00:00:00Z.
pub const DEFAULT_TIMESTAMP: u64 = 1_735_689_600;

/// A genesis file as written by a person.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    #[serde(default)]
    pub allocations: Vec<Allocation>,
}

impl GenesisFile {
    /// A network `network` whose genesis gives each of `wallets` `value` coins: what tests,
    /// benches and load tools start their nodes with.
    pub fn funding<'a>(
        network: &str,
        wallets: impl IntoIterator<Item = &'a Address>,
        value: &str,
    ) -> Self {
        GenesisFile {
            network: Some(network.to_owned()),
            allocations: wallets
                .into_iter()
                .map(|wallet| Allocation {
                    address: wallet.as_hex().to_owned(),
                    value: value.to_owned(),
                })
                .collect(),
            ..GenesisFile::default()
        }
    }

    /// As written to a file.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a genesis file serializes")
    }
}

/// Coins a wallet holds from the start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    pub address: String,
    pub value: String,
}

/// Why a genesis file is not usable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenesisError {
    #[error("genesis file is not valid JSON of the expected shape: {0}")]
    Json(String),
    #[error("genesis difficulty: {0}")]
    Difficulty(#[from] DifficultyError),
    #[error("genesis reward: {0}")]
    Reward(AmountError),
    #[error("genesis allocation {index}: address: {error}")]
    AllocationAddress { index: usize, error: KeyError },
    #[error("genesis allocation {index}: value: {error}")]
    AllocationValue { index: usize, error: AmountError },
    #[error("genesis allocations add up to more than the maximum amount")]
    SupplyOverflow,
}

/// The parameters every node of one network shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkParams {
    pub network: String,
    /// The least difficulty a block may have.
    pub difficulty: Difficulty,
    pub reward: Amount,
    pub timestamp: u64,
    pub allocations: Vec<(Address, Amount)>,
}

impl Default for NetworkParams {
    fn default() -> Self {
        NetworkParams {
            network: "main".into(),
            difficulty: Difficulty::new(DEFAULT_DIFFICULTY).expect("in range"),
            reward: Amount::parse_value(DEFAULT_REWARD).expect("valid"),
            timestamp: DEFAULT_TIMESTAMP,
            allocations: Vec::new(),
        }
    }
}

impl NetworkParams {
    /// Parses a genesis file's text.
    ///
    /// # Errors
    /// A [`GenesisError`] naming the bad entry.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        let file: GenesisFile =
            serde_json::from_str(text).map_err(|e| GenesisError::Json(e.to_string()))?;
        Self::from_file(&file)
    }

    /// Checks a parsed genesis file and fills in defaults.
    ///
    /// # Errors
    /// A [`GenesisError`] naming the bad entry.
    pub fn from_file(file: &GenesisFile) -> Result<Self, GenesisError> {
        let defaults = NetworkParams::default();
        let mut supply = Amount::ZERO;
        let mut allocations = Vec::with_capacity(file.allocations.len());
        for (index, allocation) in file.allocations.iter().enumerate() {
            let address = Address::from_hex(&allocation.address)
                .map_err(|error| GenesisError::AllocationAddress { index, error })?;
            let value = Amount::parse_value(&allocation.value)
                .map_err(|error| GenesisError::AllocationValue { index, error })?;
            supply = supply
                .checked_add(value)
                .ok_or(GenesisError::SupplyOverflow)?;
            allocations.push((address, value));
        }
        Ok(NetworkParams {
            network: file.network.clone().unwrap_or(defaults.network),
            difficulty: match file.difficulty {
                Some(bits) => Difficulty::new(bits)?,
                None => defaults.difficulty,
            },
            reward: match &file.reward {
                Some(text) => Amount::parse_value(text).map_err(GenesisError::Reward)?,
                None => defaults.reward,
            },
            timestamp: file.timestamp.unwrap_or(defaults.timestamp),
            allocations,
        })
    }

    /// A hash of every parameter; the genesis block's `previous_hash`.
    pub fn hash(&self) -> BlockHash {
        let canonical = serde_json::json!({
            "network": self.network,
            "difficulty": self.difficulty.bits(),
            "reward": self.reward.to_string(),
            "timestamp": self.timestamp,
            "allocations": self.allocations.iter()
                .map(|(a, v)| [a.as_hex().to_owned(), v.to_string()])
                .collect::<Vec<_>>(),
        });
        let mut hasher = Sha256::new();
        hasher.update(b"blockchain-genesis-v1");
        hasher.update(canonical.to_string().as_bytes());
        BlockHash(hasher.finalize().into())
    }

    /// The genesis block: number 0, one minted transaction per allocation, no proof of work.
    pub fn genesis_block(&self) -> Block {
        let transactions = self
            .allocations
            .iter()
            .enumerate()
            .map(|(i, (address, value))| {
                Transaction::mint(address.clone(), *value, &format!("genesis-{i}"))
            })
            .collect();
        Block::new(
            0,
            self.timestamp,
            self.difficulty,
            self.hash(),
            transactions,
            0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::PrivateKey;

    #[test]
    fn a_funding_genesis_reads_back_as_written() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let file = GenesisFile {
            difficulty: Some(9),
            ..GenesisFile::funding("bench", [key.address()], "12.5")
        };
        let params = NetworkParams::from_json(&file.to_json()).unwrap();
        assert_eq!(params.network, "bench");
        assert_eq!(params.difficulty.bits(), 9);
        assert_eq!(params.reward, NetworkParams::default().reward);
        assert_eq!(
            params.allocations,
            vec![(key.address().clone(), Amount::parse_value("12.5").unwrap())]
        );
    }

    #[test]
    fn defaults_and_determinism() {
        let a = NetworkParams::from_json("{}").unwrap();
        assert_eq!(a, NetworkParams::default());
        assert_eq!(a.genesis_block(), NetworkParams::default().genesis_block());
        let harder = NetworkParams::from_json(r#"{"difficulty": 20}"#).unwrap();
        assert_ne!(harder.genesis_block().hash(), a.genesis_block().hash());
    }

    #[test]
    fn allocations_are_minted_in_genesis() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let text = format!(
            r#"{{"allocations": [{{"address": "{}", "value": "100"}}]}}"#,
            key.address()
        );
        let params = NetworkParams::from_json(&text).unwrap();
        let genesis = params.genesis_block();
        assert_eq!(genesis.transactions().len(), 1);
        assert_eq!(genesis.transactions()[0].recipient(), key.address());
        assert_eq!(
            genesis.transactions()[0].amount(),
            Amount::from_coins(100).unwrap()
        );
    }

    #[test]
    fn bad_files_name_the_problem() {
        assert!(matches!(
            NetworkParams::from_json("not json"),
            Err(GenesisError::Json(_))
        ));
        assert!(matches!(
            NetworkParams::from_json(r#"{"difficulty": 300}"#),
            Err(GenesisError::Difficulty(_))
        ));
        assert!(matches!(
            NetworkParams::from_json(r#"{"reward": "-1"}"#),
            Err(GenesisError::Reward(_))
        ));
        assert!(matches!(
            NetworkParams::from_json(r#"{"allocations": [{"address": "beef", "value": "1"}]}"#),
            Err(GenesisError::AllocationAddress { index: 0, .. })
        ));
        assert!(matches!(
            NetworkParams::from_json(r#"{"difficulty": 3, "typo": 1}"#),
            Err(GenesisError::Json(_))
        ));
    }
}
