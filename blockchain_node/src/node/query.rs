//! Read-only answers: what the HTTP handlers and the network layer ask of the node, each
//! taken under the state lock briefly and returned as owned data.

use std::sync::Arc;

use blockchain_core::chain::TipRank;
use blockchain_core::{Address, Amount, Block, BlockHash, Transaction, TxId, Work};
use bytes::Bytes;
use thiserror::Error;

use super::{Node, StoredBlock, rank};
use crate::addresses::{self, TxPlace};
use crate::blocks::{BlockInfo, JsonPlan, PlanRead};
use crate::storage::StorageError;

/// The chain's figures at one moment, read together: for `/status`, the dashboards'
/// panel and `/nodes/resolve`.
#[derive(Debug, Clone)]
pub struct ChainStatus {
    pub height: u64,
    /// Blocks in the chain, genesis included.
    pub length: usize,
    pub tip_hash: BlockHash,
    pub tip_timestamp: u64,
    pub genesis_hash: BlockHash,
    pub work: Work,
    /// Transactions in the pool.
    pub pool_size: usize,
    /// The confirmed balance of the address asked about (the reward address, say).
    pub balance: Amount,
}

/// An address's confirmed balance and what the pool would change, at `height`: for
/// `/balance` and the address page.
#[derive(Debug, Clone, Copy)]
pub struct BalanceView {
    pub confirmed: Amount,
    /// What pending transactions would pay the address.
    pub pending_incoming: Amount,
    /// What pending transactions would take from it.
    pub pending_outgoing: Amount,
    pub height: u64,
}

/// Where a block a peer offers stands against our chain (for `POST /blocks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockPlace {
    /// We hold it already.
    Known,
    /// It names our tip as its parent: worth checking and connecting.
    ExtendsTip,
    /// It belongs to another chain, or one ahead of ours: worth a resolve with the peer.
    Elsewhere,
}

/// A `/chain` page, planned under the lock and read after it is released.
pub struct ChainPage {
    /// The page's blocks' JSON, to read (see [`JsonPlan::read_or_stream`]).
    pub plan: JsonPlan,
    /// The whole chain's length.
    pub length: u64,
    /// The page's first block.
    pub from: u64,
    /// The whole chain's work.
    pub work: Work,
}

/// A block number past our tip.
#[derive(Debug, Clone, Copy, Error)]
#[error("no block {number}; the tip is {tip}")]
pub struct NoSuchBlock {
    pub number: u64,
    pub tip: u64,
}

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
    pub(crate) fn work_at(&self, number: u64) -> Work {
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
    pub(crate) fn tip_rank(&self) -> TipRank {
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

    /// Whether storage takes writes now, for `/status` and the dashboards.
    pub fn storage_health(&self) -> crate::storage::Health {
        self.storage.health()
    }

    /// A receiver that changes whenever [`Node::storage_health`] does: for the background
    /// miner, which waits for writes to be taken again, and the dashboards' events.
    pub fn watch_storage_health(
        &self,
    ) -> tokio::sync::watch::Receiver<Option<std::sync::Arc<crate::storage::Outage>>> {
        self.storage.watch_health()
    }

    /// The number of our tip.
    pub fn height(&self) -> u64 {
        self.read().height()
    }

    /// Blocks in our chain, genesis included.
    pub fn length(&self) -> u64 {
        self.read().blocks.len() as u64
    }

    /// Our tip.
    pub fn tip(&self) -> Arc<Block> {
        Arc::clone(&self.read().tip().block)
    }

    /// The hash of our genesis block: which network's chain this is.
    pub fn genesis_hash(&self) -> BlockHash {
        self.read().ledger.genesis_hash()
    }

    /// The chain's figures at one moment, with `address`'s confirmed balance.
    pub fn status(&self, address: &Address) -> ChainStatus {
        let state = self.read();
        let tip = state.ledger.tip();
        ChainStatus {
            height: tip.number,
            length: state.blocks.len(),
            tip_hash: tip.hash,
            tip_timestamp: state.tip().block.timestamp(),
            genesis_hash: state.ledger.genesis_hash(),
            work: tip.work,
            pool_size: state.pool.len(),
            balance: state.ledger.balance(address),
        }
    }

    /// `address`'s confirmed balance and what the pool would change.
    pub fn balance(&self, address: &Address) -> BalanceView {
        let state = self.read();
        let (pending_incoming, pending_outgoing) = state.pool.flows(address);
        BalanceView {
            confirmed: state.ledger.balance(address),
            pending_incoming,
            pending_outgoing,
            height: state.height(),
        }
    }

    /// How many transactions the pool holds.
    pub fn pending_count(&self) -> usize {
        self.read().pool.len()
    }

    /// The pool's oldest `limit` transactions, oldest first.
    pub fn pending(&self, limit: usize) -> Vec<Transaction> {
        self.read().pool.iter().take(limit).cloned().collect()
    }

    /// The pool's transactions that pay or are paid by `address`, oldest first.
    pub fn pending_of(&self, address: &Address) -> Vec<Transaction> {
        self.read()
            .pool
            .iter()
            .filter(|tx| tx.recipient() == address || tx.sender().wallet() == Some(address))
            .cloned()
            .collect()
    }

    /// Plans a `/chain` page: `limit` blocks from `from` (the whole chain by default),
    /// clamped to the chain.
    pub fn chain_page(&self, from: Option<u64>, limit: Option<u64>) -> ChainPage {
        let state = self.read();
        let length = state.blocks.len() as u64;
        let from = from.unwrap_or(0).min(length);
        let to = limit.map_or(length, |limit| from.saturating_add(limit).min(length));
        ChainPage {
            plan: state.blocks.json_plan(from, to),
            length,
            from,
            work: state.ledger.tip().work,
        }
    }

    /// Plans reading block `number`'s JSON (read it after this returns).
    ///
    /// # Errors
    /// [`NoSuchBlock`] past our tip.
    pub fn block_json(&self, number: u64) -> Result<JsonPlan, NoSuchBlock> {
        let state = self.read();
        let tip = state.height();
        if number > tip {
            return Err(NoSuchBlock { number, tip });
        }
        Ok(state.blocks.json_plan(number, number + 1))
    }

    /// Block `number` of our chain, from memory or disk; `None` past our tip.
    ///
    /// # Errors
    /// A storage failure.
    pub fn block(&self, number: u64) -> Result<Option<StoredBlock>, StorageError> {
        self.read().blocks.get(number)
    }

    /// Our blocks `from..to` (clamped to the chain), oldest first.
    ///
    /// # Errors
    /// A storage failure.
    pub fn blocks(&self, from: u64, to: u64) -> Result<Vec<StoredBlock>, StorageError> {
        self.read().blocks.range(from, to)
    }

    /// Our newest `count` blocks, oldest first.
    ///
    /// # Errors
    /// A storage failure.
    pub fn recent_blocks(&self, count: usize) -> Result<Vec<StoredBlock>, StorageError> {
        let state = self.read();
        let from = state.blocks.len().saturating_sub(count) as u64;
        state.blocks.range(from, u64::MAX)
    }

    /// The header and counts of block `number` (no body read); `None` past our tip.
    pub fn block_info(&self, number: u64) -> Option<BlockInfo> {
        self.read().blocks.info(number).copied()
    }

    /// The headers and counts of our newest `count` blocks, oldest first (no body read).
    pub fn recent_infos(&self, count: usize) -> Vec<BlockInfo> {
        let state = self.read();
        let from = state.blocks.len().saturating_sub(count);
        state.blocks.infos(from, usize::MAX).to_vec()
    }

    /// Where a block a peer offers stands against our chain.
    pub fn place_of(&self, block: &Block) -> BlockPlace {
        let state = self.read();
        if state
            .blocks
            .info(block.number())
            .is_some_and(|b| b.hash == block.hash())
        {
            BlockPlace::Known
        } else if block.previous_hash() == state.tip().block.hash() {
            BlockPlace::ExtendsTip
        } else {
            BlockPlace::Elsewhere
        }
    }

    /// The highest of a peer's blocks, numbered on from `from` with the hashes it names,
    /// that our chain holds too (a block it names no hash for matches none).
    pub(crate) fn last_shared(&self, from: u64, hashes: &[Option<BlockHash>]) -> Option<u64> {
        let state = self.read();
        (from..)
            .zip(hashes)
            .filter(|(number, hash)| {
                state
                    .blocks
                    .info(*number)
                    .is_some_and(|ours| Some(ours.hash) == **hash)
            })
            .map(|(number, _)| number)
            .last()
    }

    /// Reads a plan's JSON (from [`Node::chain_page`] or [`Node::block_json`]), on this
    /// thread.
    ///
    /// # Errors
    /// A storage failure, or a body that is missing.
    pub fn read_json(&self, plan: JsonPlan) -> Result<Vec<Bytes>, StorageError> {
        plan.read(&self.storage)
    }

    /// Reads a plan's JSON on the blocking pool: whole up to `whole_bytes`, else streamed
    /// (see [`JsonPlan::read_or_stream`]).
    ///
    /// # Errors
    /// A storage failure, or a body that is missing.
    pub async fn read_json_or_stream(
        &self,
        plan: JsonPlan,
        whole_bytes: usize,
    ) -> Result<PlanRead, StorageError> {
        plan.read_or_stream(self.storage.clone(), whole_bytes).await
    }

    /// The peers kept in the data dir, for the network layer at start-up.
    ///
    /// # Errors
    /// A storage failure.
    pub fn stored_peers(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.storage.snapshot()?.peers)
    }
}
