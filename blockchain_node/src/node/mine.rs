//! Mining: a block template on our tip, the proof-of-work search on its own threads
//! (cancelled when the tip moves), then the block connected like any other.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use blockchain_core::ledger::{
    BlockError, MAX_BLOCK_TRANSACTIONS, VerifiedBlock, reward_transaction,
};
use blockchain_core::{Address, Block, Difficulty};

use super::{BlockOrigin, ConnectError, Event, MiningProgress, Node, now};
use crate::mining::{self, SearchEnd};

pub(super) struct Search {
    block_number: u64,
    difficulty: Difficulty,
    started: Instant,
    tries: Arc<AtomicU64>,
}

impl Search {
    fn progress(&self) -> MiningProgress {
        let elapsed = self.started.elapsed();
        let tries = self.tries.load(Ordering::Relaxed);
        MiningProgress {
            block_number: self.block_number,
            difficulty: self.difficulty.bits(),
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            tries,
            hash_rate: tries as f64 / elapsed.as_secs_f64().max(1e-6),
            expected_tries: 2f64.powi(i32::try_from(self.difficulty.bits()).unwrap_or(64)),
        }
    }
}

impl Node {
    pub fn is_mining(&self) -> bool {
        self.searches.load(Ordering::Relaxed) > 0
    }

    /// The search in progress, if any.
    pub fn mining_progress(&self) -> Option<MiningProgress> {
        self.search
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(Search::progress)
    }

    /// How the last search that found a block went: tries, time, hash rate.
    pub fn last_search(&self) -> Option<MiningProgress> {
        self.last_search
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Mines one block from the oldest pending transactions and makes it durable.
    /// The proof-of-work search runs on its own threads; if the tip moves meanwhile, the
    /// search stops and starts over on the new tip.
    ///
    /// # Errors
    /// A storage failure (at once, without a search, while storage refuses writes), or
    /// (a bug) a block our own rules refuse.
    ///
    /// The reward goes to `reward_to` when given (as `generatetoaddress` in Bitcoin Core's
    /// regtest), else to the configured reward address.
    pub async fn mine(
        self: &Arc<Self>,
        reward_to: Option<Address>,
    ) -> Result<Arc<Block>, ConnectError> {
        // A block that cannot be stored is not worth searching for.
        self.storage.writable()?;
        self.searches.fetch_add(1, Ordering::AcqRel);
        self.publish(Event::Mining);
        let result = self.mine_inner(reward_to).await;
        if self.searches.fetch_sub(1, Ordering::AcqRel) == 1 {
            *self
                .search
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
        self.publish(Event::Mining);
        result
    }

    async fn mine_inner(
        self: &Arc<Self>,
        reward_to: Option<Address>,
    ) -> Result<Arc<Block>, ConnectError> {
        loop {
            let generation = self.tip_generation.load(Ordering::Acquire);
            let settings = self.settings();
            let reward_to = reward_to
                .clone()
                .or(settings.reward_address)
                .unwrap_or_else(|| self.wallet.clone());
            let candidate = {
                let state = self.read();
                let tip = &state.tip().block;
                let number = tip.number() + 1;
                let mut transactions = state.pool.oldest(MAX_BLOCK_TRANSACTIONS - 1);
                transactions.push(reward_transaction(&reward_to, &self.params, number));
                let timestamp = now().max(tip.timestamp());
                Block::new(
                    number,
                    timestamp,
                    settings.mining_difficulty.max(self.params.difficulty),
                    tip.hash(),
                    transactions,
                    0,
                )
            };
            let node = Arc::clone(self);
            let template = candidate.header().pow_template();
            let difficulty = candidate.difficulty();
            let tries = Arc::new(AtomicU64::new(0));
            *self
                .search
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Search {
                block_number: candidate.number(),
                difficulty,
                started: Instant::now(),
                tries: Arc::clone(&tries),
            });
            let threads = settings.mining_threads;
            let found = tokio::task::spawn_blocking(move || {
                mining::search(&template, difficulty, threads, &tries, &|| {
                    node.tip_generation.load(Ordering::Relaxed) != generation
                })
            })
            .await
            .expect("the search does not panic");
            let block = match found {
                Ok(nonce) => {
                    *self
                        .last_search
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        self.mining_progress();
                    candidate.with_nonce(nonce)
                }
                Err(SearchEnd::Cancelled | SearchEnd::Exhausted) => continue,
            };
            // Its payments come from our pool, each verified when it entered.
            let block = VerifiedBlock::assume_verified(block);
            match self.connect(block, BlockOrigin::Mined).await {
                Ok(block) => return Ok(block),
                Err(ConnectError::Block(
                    BlockError::WrongPreviousHash { .. } | BlockError::WrongNumber { .. },
                )) => {
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
    }
}
