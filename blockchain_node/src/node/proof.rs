//! Where a transaction sits, for its Merkle proof: the block that holds it and its place
//! in that block. The proof itself is core's (`blockchain_core::merkle`), built by the
//! caller after the lock is released.

use std::sync::Arc;

use blockchain_core::{Block, TxId};

use super::Node;
use crate::storage::StorageError;

/// A transaction's place, as far as a proof is concerned.
#[derive(Debug, Clone)]
pub enum ProofPlace {
    /// In `block`, at `index` among its transactions.
    InBlock { block: Arc<Block>, index: usize },
    /// In the pool: no block holds it yet.
    Pending,
    /// Neither in the pool nor in our chain.
    Unknown,
}

impl Node {
    /// Where transaction `id` sits for a proof.
    ///
    /// # Errors
    /// A storage failure reading the block.
    pub fn proof_place(&self, id: &TxId) -> Result<ProofPlace, StorageError> {
        let stored = {
            let state = self.read();
            if state.pool.get(id).is_some() {
                return Ok(ProofPlace::Pending);
            }
            let Some(number) = state.ledger.confirmed_in(id) else {
                return Ok(ProofPlace::Unknown);
            };
            state.blocks.get(number)?
        };
        let Some(stored) = stored else {
            return Ok(ProofPlace::Unknown);
        };
        let index = stored
            .block
            .transactions()
            .iter()
            .position(|tx| tx.id() == *id);
        Ok(match index {
            Some(index) => ProofPlace::InBlock {
                block: stored.block,
                index,
            },
            None => ProofPlace::Unknown,
        })
    }
}
