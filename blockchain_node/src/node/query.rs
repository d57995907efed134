//! Read-only answers: what the HTTP handlers and the network layer ask of the node, each
//! taken under the state lock briefly and returned as owned data.

use blockchain_core::chain::TipRank;
use blockchain_core::{Address, Transaction, TxId, Work};
use bytes::Bytes;

use super::{Node, rank};
use crate::addresses::{self, TxPlace};
use crate::storage::StorageError;

/// A confirmed transaction from an address's history: its block and its JSON as stored.
#[derive(Debug, Clone)]
pub struct HistoryItem {
    pub block: u64,
    pub timestamp: u64,
    pub json: Bytes,
}

/// The newest transactions of an address, newest first, and how many it has in all.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub items: Vec<HistoryItem>,
    pub count: u64,
}

impl Node {
    /// The work of our chain up to block `number`.
    pub fn work_at(&self, number: u64) -> Work {
        let state = self.read();
        state.blocks.work_at(number, state.ledger.tip().work)
    }

    /// The newest `limit` confirmed transactions that involve `address`, newest first, from
    /// the address index and the stored bodies: the cost of what is asked for, not of the
    /// chain.
    ///
    /// # Errors
    /// A storage failure.
    pub fn history(&self, address: &Address, limit: usize) -> Result<History, StorageError> {
        let (entries, count) = self
            .storage
            .history(&addresses::address_key(address), limit)?;
        let places: Vec<TxPlace> = entries
            .iter()
            .flat_map(TxPlace::all_of)
            .take(limit)
            .collect();
        // Which blocks to read, and each place's block time; an entry from a reorg this
        // state has not seen yet (its hash differs) is skipped.
        let (places, numbers, plan) = {
            let state = self.read();
            let places: Vec<(TxPlace, u64)> = places
                .into_iter()
                .filter_map(|place| {
                    let info = state.blocks.info(place.block)?;
                    (info.hash.0[..8] == place.hash_prefix)
                        .then_some((place, info.header.timestamp))
                })
                .collect();
            let mut numbers: Vec<u64> = places.iter().map(|(p, _)| p.block).collect();
            numbers.dedup();
            let plan = state.blocks.json_plan_of(numbers.iter().copied());
            (places, numbers, plan)
        };
        // One read for every block the history touches.
        let bodies: std::collections::HashMap<u64, Bytes> =
            numbers.into_iter().zip(plan.read(&self.storage)?).collect();
        let items = places
            .into_iter()
            .filter_map(|(place, timestamp)| {
                let body = bodies.get(&place.block)?;
                let (at, len) = (place.offset as usize, place.len as usize);
                (at + len <= body.len()).then(|| HistoryItem {
                    block: place.block,
                    timestamp,
                    json: body.slice(at..at + len),
                })
            })
            .collect();
        Ok(History { items, count })
    }

    /// Our tip as chains are compared.
    pub fn tip_rank(&self) -> TipRank {
        rank(&self.read().ledger)
    }

    /// Where a transaction is: pending, in a block, or unknown.
    pub fn locate(&self, id: &TxId) -> Option<(Transaction, Option<u64>)> {
        let state = self.read();
        if let Some(tx) = state.pool.get(id) {
            return Some((tx.clone(), None));
        }
        let number = state.ledger.confirmed_in(id)?;
        let stored = state.blocks.get(number).ok()??;
        let tx = stored
            .block
            .transactions()
            .iter()
            .find(|tx| tx.id() == *id)?;
        Some((tx.clone(), Some(number)))
    }
}
