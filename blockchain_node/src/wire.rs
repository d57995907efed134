//! Blocks read from JSON with their addresses parsed through the node's [`KeyCache`].
//!
//! Core's `Deserialize` for `Block` parses every address it meets. Parsing a key costs
//! about one signature check, and a chain of 50,000 payments between a few wallets names
//! the same few keys 100,000 times; reading through the cache parses each key once. It
//! is used for peers' chains and for the node's own chain at start-up.

use blockchain_core::transaction::Sender;
use blockchain_core::{
    Block, BlockHash, Difficulty, THE_BLOCKCHAIN, Transaction, TransactionJson, TxParseError,
};
use serde::Deserialize;

use crate::keys::KeyCache;

/// A block as a peer serves it: core's wire form (`blockchain_core::block`), read as
/// plain fields so that its addresses go through the node's [`KeyCache`]. Parsing a key
/// costs about one signature check; a chain of 50,000 payments between a few wallets then
/// parses a few keys instead of 100,000. The block is rebuilt with [`Block::new`], so
/// root and hash are derived exactly as core derives them.
#[derive(Deserialize)]
pub struct WireBlock {
    pub block_number: u64,
    timestamp: u64,
    transactions: Vec<TransactionJson>,
    nonce: u64,
    previous_hash: BlockHash,
    difficulty: Difficulty,
    #[serde(default)]
    merkle_root: Option<String>,
    #[serde(default)]
    pub hash: Option<BlockHash>,
}

impl WireBlock {
    /// The block, its addresses parsed through `keys`.
    ///
    /// # Errors
    /// A malformed transaction, or a `merkle_root` or `hash` that the contents do not have.
    pub fn into_block(self, keys: &KeyCache) -> Result<Block, String> {
        let number = self.block_number;
        let transactions = self
            .transactions
            .iter()
            .map(|tx| transaction(tx, keys))
            .collect::<Result<Vec<_>, TxParseError>>()
            .map_err(|e| format!("block {number}: {e}"))?;
        let block = Block::new(
            number,
            self.timestamp,
            self.difficulty,
            self.previous_hash,
            transactions,
            self.nonce,
        );
        block
            .check_claims(self.merkle_root.as_deref(), self.hash)
            .map_err(|e| e.to_string())?;
        Ok(block)
    }
}

/// A transaction from its wire fields, its addresses parsed through `keys`.
fn transaction(tx: &TransactionJson, keys: &KeyCache) -> Result<Transaction, TxParseError> {
    let sender = if tx.sender_address == THE_BLOCKCHAIN {
        Sender::Blockchain
    } else {
        Sender::Wallet(
            keys.parse(&tx.sender_address, "sender_address")
                .map_err(TxParseError::Sender)?,
        )
    };
    let recipient = keys
        .parse(&tx.recipient_address, "recipient_address")
        .map_err(TxParseError::Recipient)?;
    Transaction::new(
        sender,
        recipient,
        &tx.value,
        tx.nonce.as_deref(),
        &tx.signature,
    )
}

/// Parses one transaction's JSON (as stored in a block) through `keys`.
///
/// # Errors
/// Malformed JSON or a malformed transaction, in words.
pub fn parse_transaction(json: &[u8], keys: &KeyCache) -> Result<Transaction, String> {
    let wire: TransactionJson = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    transaction(&wire, keys).map_err(|e| e.to_string())
}

/// Parses one block's JSON through `keys`.
///
/// # Errors
/// Malformed JSON or a malformed block, in words.
pub fn parse_block(json: &[u8], keys: &KeyCache) -> Result<Block, String> {
    let wire: WireBlock = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    wire.into_block(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::{Amount, NetworkParams, PrivateKey};

    #[test]
    fn wire_blocks_parse_as_core_parses_them() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let other = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let params = NetworkParams {
            allocations: vec![(key.address().clone(), Amount::from_coins(5).unwrap())],
            ..NetworkParams::default()
        };
        let payment = Transaction::sign(&key, other.address(), "1.5", Some("n1")).unwrap();
        let reward = blockchain_core::ledger::reward_transaction(other.address(), &params, 1);
        let genesis = params.genesis_block();
        let block = Block::new(
            1,
            7,
            params.difficulty,
            genesis.hash(),
            vec![payment, reward],
            99,
        );
        let keys = KeyCache::default();
        for original in [genesis, block] {
            let json = serde_json::to_string(&original).unwrap();
            let wire: WireBlock = serde_json::from_str(&json).unwrap();
            assert_eq!(wire.into_block(&keys).unwrap(), original);
            let forged = json.replace("\"nonce\":99", "\"nonce\":98");
            if forged != json {
                let wire: WireBlock = serde_json::from_str(&forged).unwrap();
                assert!(wire.into_block(&keys).is_err());
            }
        }
    }
}
