//! One block onto our tip: checked against the ledger under the chain writer, stored with
//! its state in one commit, then applied in memory and announced.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use blockchain_core::Address;
use blockchain_core::Amount;
use blockchain_core::Block;
use blockchain_core::ledger::{BlockError, VerifiedBlock, verify_block};
use thiserror::Error;

use super::writes::block_writes;
use super::{BlockOrigin, ChainState, Event, Node, StoredBlock, now, now_ms};
use crate::storage::{StorageError, Write};

/// A refused block.
#[derive(Debug, Error)]
pub enum ConnectError {
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Node {
    /// Connects a block from a peer that extends our tip, verifying its signatures first.
    ///
    /// # Errors
    /// The block's broken rule, or a storage failure.
    pub async fn accept_block(&self, block: Block) -> Result<Arc<Block>, ConnectError> {
        let block = tokio::task::spawn_blocking(move || verify_block(block))
            .await
            .expect("verification does not panic")?;
        self.connect(block, BlockOrigin::Peer).await
    }

    /// Connects a block whose signatures were verified (a peer's, by `accept_block`; our
    /// own, made from the pool) if every other rule holds: stored with its state, then
    /// applied in memory, then announced.
    pub(super) async fn connect(
        &self,
        block: VerifiedBlock,
        origin: BlockOrigin,
    ) -> Result<Arc<Block>, ConnectError> {
        let _writer = self.chain_writer.lock().await;
        let started = Instant::now();
        let (delta, mined_seqs) = {
            let state = self.read();
            let delta = state.ledger.check_verified(&block, &self.params, now())?;
            let seqs: Vec<u64> = block
                .block()
                .transactions()
                .iter()
                .filter_map(|tx| state.pool.seq_of(&tx.id()))
                .collect();
            (delta, seqs)
        };
        let checked = started.elapsed();
        let stored = StoredBlock::new(block.into_inner());
        // The block, its state and the removal of its transactions from the stored pool,
        // atomically.
        let balances: Vec<(Address, Amount)> =
            delta.balances().map(|(a, v)| (a.clone(), v)).collect();
        let mut writes = block_writes(&stored, balances, delta.confirmed());
        writes.extend(mined_seqs.iter().map(|&seq| Write::RemovePoolTx { seq }));
        let from = (origin == BlockOrigin::Mined).then_some(blockchain_api::MINED_HERE);
        writes.extend(self.note_arrivals([&*stored.block], from));
        let prepared = started.elapsed();
        self.storage.commit(writes).await?;
        let committed = started.elapsed();
        let block = Arc::clone(&stored.block);
        let dropped = {
            let mut state = self.write();
            state.ledger.apply(delta);
            state.blocks.push(stored);
            for tx in block.transactions() {
                state.pool.remove(&tx.id());
            }
            if origin == BlockOrigin::Peer {
                let ChainState { ledger, pool, .. } = &mut *state;
                pool.revalidate(ledger)
            } else {
                Vec::new()
            }
        };
        self.tip_generation.fetch_add(1, Ordering::AcqRel);
        let at_ms = now_ms();
        tracing::info!(
            number = block.number(),
            transactions = block.transactions().len(),
            ?origin,
            checked_us = checked.as_micros() as u64,
            prepared_us = prepared.as_micros() as u64,
            committed_us = committed.as_micros() as u64,
            applied_us = started.elapsed().as_micros() as u64,
            "block connected"
        );
        // Transactions the new block made invalid: removing them from disk is clean-up only
        // (a restart revalidates the stored pool), so it need not hold up the answer.
        if !dropped.is_empty() {
            let storage = self.storage.downgrade();
            tokio::spawn(async move {
                let writes = dropped
                    .into_iter()
                    .map(|seq| Write::RemovePoolTx { seq })
                    .collect();
                if let Some(Err(error)) = storage.commit(writes).await {
                    tracing::warn!(%error, "pool clean-up after a block was not stored");
                }
            });
        }
        self.publish(Event::Block {
            block: Arc::clone(&block),
            origin,
            at_ms,
        });
        Ok(block)
    }
}
