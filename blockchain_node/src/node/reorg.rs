//! Another chain with more work: our blocks walked back on a copy of the ledger, the
//! branch connected on top, and only then anything changed (disk, then memory, then pool).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use blockchain_core::chain::{is_better_tip, validate_branch, verify_blocks};
use blockchain_core::ledger::{BlockError, VerifiedBlock};
use blockchain_core::{Block, ChainError, Ledger, NetworkParams, Transaction};
use thiserror::Error;

use super::writes::branch_writes;
use super::{BlockOrigin, ChainState, Event, Node, StoredBlock, now, now_ms, rank};
use crate::storage::{StorageError, Write};

/// The result of offering the node another chain.
#[derive(Debug)]
pub enum Adoption {
    /// The chain was valid and had more work: it is ours now.
    Adopted {
        height: u64,
        reorged_from: u64,
        reinjected: usize,
    },
    /// Valid, but not better than ours: less work, or equal work and a tip that loses the
    /// tie (see `blockchain_core::chain::is_better_tip`).
    NotBetter,
    /// Every block of it is ours already (another sync got there first).
    Known,
}

/// A chain that could not be adopted.
#[derive(Debug, Error)]
pub enum AdoptError {
    #[error(transparent)]
    Invalid(#[from] ChainError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What an adoption works from: the branch's new blocks from `fork` on, a copy of our
/// ledger, and our blocks it abandons with their parents' timestamps.
struct Plan {
    fork: u64,
    ledger: Ledger,
    abandoned: Vec<StoredBlock>,
    parents: Vec<u64>,
    branch: Vec<VerifiedBlock<StoredBlock>>,
}

/// A validated switch to a branch: the ledger at its tip, ready to be stored and applied.
struct Switch {
    fork: u64,
    ledger: Ledger,
    abandoned: Vec<StoredBlock>,
    branch: Vec<StoredBlock>,
}

/// What applying a switch changed, for the announcement.
struct Applied {
    fork: u64,
    height: u64,
    tip: Arc<Block>,
    reinjected: Vec<Transaction>,
    /// Whether blocks of ours were abandoned (a reorg), not only added.
    reorged: bool,
}

impl Node {
    /// Validates `blocks` as a whole chain from our genesis and adopts it if it is better
    /// than ours (see [`Node::adopt_branch`]).
    ///
    /// # Errors
    /// The rule the chain breaks, or a storage failure (then nothing changed).
    pub async fn adopt_chain(&self, blocks: Vec<Block>) -> Result<Adoption, AdoptError> {
        let genesis = self.params.genesis_block();
        match blocks.first() {
            None => return Err(ChainError::Empty.into()),
            Some(first) if first.hash() != genesis.hash() => {
                return Err(ChainError::GenesisMismatch {
                    expected: genesis.hash(),
                    got: first.hash(),
                }
                .into());
            }
            Some(_) => {}
        }
        let fork = {
            let state = self.read();
            blocks
                .iter()
                .position(|b| state.blocks.info(b.number()).map(|i| i.hash) != Some(b.hash()))
        };
        let Some(fork) = fork else {
            return Ok(Adoption::NotBetter);
        };
        // Serialized and verified here, before the chain writer is taken.
        let branch = tokio::task::spawn_blocking(move || {
            let branch = blocks
                .into_iter()
                .skip(fork)
                .map(StoredBlock::new)
                .collect();
            verify_blocks(branch)
        })
        .await
        .expect("serialization and verification do not panic")?;
        self.adopt_branch(fork as u64, branch).await
    }

    /// Adopts `branch`, the blocks of another chain from number `fork` on (its block
    /// `fork - 1` is ours), if the chain it makes is valid and better than ours. Our blocks
    /// from `fork` on are walked back on a copy of the ledger (a block is its own undo
    /// data), the branch is connected on top, and only then does anything change: on
    /// disk in one commit, then in memory. Transactions of our abandoned blocks that are
    /// still valid go back to the pool; pool transactions the branch holds leave it.
    /// A branch that starts right after our tip is simply a longer chain: the network
    /// layer hands those over a page at a time, so a long sync never holds the whole chain.
    ///
    /// The branch's signatures are verified already (the network layer does it page by page
    /// while the next page downloads); every other rule is checked here.
    ///
    /// # Errors
    /// The rule the branch breaks, or a storage failure (then nothing changed).
    pub async fn adopt_branch(
        &self,
        fork: u64,
        branch: Vec<VerifiedBlock<StoredBlock>>,
    ) -> Result<Adoption, AdoptError> {
        self.adopt_branch_from(fork, branch, None).await
    }

    /// [`Node::adopt_branch`] with the peer the branch came from, for the block tree: the
    /// branch's blocks arrived from `peer`, and a valid branch that loses is kept as stale.
    ///
    /// # Errors
    /// As [`Node::adopt_branch`].
    pub async fn adopt_branch_from(
        &self,
        fork: u64,
        branch: Vec<VerifiedBlock<StoredBlock>>,
        peer: Option<&str>,
    ) -> Result<Adoption, AdoptError> {
        let started = std::time::Instant::now();
        let _writer = self.chain_writer.lock().await;
        let Some(plan) = self.plan_switch(fork, branch)? else {
            return Ok(Adoption::Known);
        };
        let switch = Self::validate_switch(plan, self.params.clone()).await?;
        if !is_better_tip(rank(&switch.ledger), self.tip_rank()) {
            if let Some(peer) = peer {
                self.keep_stale(switch.branch.iter().map(|b| &*b.block), peer)
                    .await;
            }
            return Ok(Adoption::NotBetter);
        }
        let validated = started.elapsed();
        self.commit_switch(&switch, peer).await?;
        let stored = started.elapsed();
        let applied = self.apply_switch(switch).await;
        Ok(self.announce_switch(applied, validated, stored))
    }

    /// Step 1, under the state lock briefly: skips the blocks we hold already (two syncs
    /// from the same peer overlap), checks the branch joins our chain, and copies what
    /// validation needs (our ledger, the blocks it abandons and their parents' times), so
    /// the node keeps serving its chain while the branch is checked. `None`: nothing new.
    fn plan_switch(
        &self,
        fork: u64,
        mut branch: Vec<VerifiedBlock<StoredBlock>>,
    ) -> Result<Option<Plan>, AdoptError> {
        let state = self.read();
        let known = branch
            .iter()
            .zip(fork..)
            .take_while(|(b, n)| {
                state
                    .blocks
                    .info(*n)
                    .is_some_and(|i| i.hash == b.block().hash())
            })
            .count();
        if known == branch.len() {
            return Ok(None);
        }
        branch.drain(..known);
        let fork = fork + known as u64;
        if fork == 0 || fork > state.height() + 1 {
            return Err(AdoptError::Invalid(ChainError::Block {
                number: fork,
                error: BlockError::WrongNumber {
                    expected: state.height() + 1,
                    got: fork,
                },
            }));
        }
        let abandoned = state.blocks.range(fork, u64::MAX)?;
        let parents: Vec<u64> = abandoned
            .iter()
            .map(|b| {
                state
                    .blocks
                    .info(b.block.number() - 1)
                    .map_or(0, |parent| parent.header.timestamp)
            })
            .collect();
        Ok(Some(Plan {
            fork,
            ledger: state.ledger.clone(),
            abandoned,
            parents,
            branch,
        }))
    }

    /// Step 2, on the blocking pool: walks the ledger copy back over our abandoned blocks
    /// (a block is its own undo data) and connects the branch with every rule but the
    /// signatures its type says were verified. Nothing has changed yet if this fails.
    async fn validate_switch(plan: Plan, params: NetworkParams) -> Result<Switch, AdoptError> {
        let switch = tokio::task::spawn_blocking(move || {
            let Plan {
                fork,
                ledger,
                abandoned,
                parents,
                branch,
            } = plan;
            let walk_back = abandoned
                .iter()
                .zip(&parents)
                .rev()
                .map(|(b, &parent)| (&*b.block, parent));
            validate_branch(ledger, walk_back, &branch, &params, now()).map(|ledger| Switch {
                fork,
                ledger,
                abandoned,
                // Unwrapped in place: the same allocation, no block copied.
                branch: branch.into_iter().map(VerifiedBlock::into_inner).collect(),
            })
        })
        .await
        .expect("validation does not panic")?;
        Ok(switch)
    }

    /// Step 3: the switch made durable in one commit (headers, ids, index, balances, the
    /// branch's bodies) before memory changes, so a crash leaves one chain or the other.
    /// The abandoned blocks are kept as stale, and the branch's noted as from `peer`, in
    /// the same commit.
    async fn commit_switch(&self, switch: &Switch, peer: Option<&str>) -> Result<(), StorageError> {
        let mut writes = branch_writes(&switch.abandoned, &switch.branch, &switch.ledger);
        writes.extend(self.abandon(&switch.abandoned));
        writes.extend(self.note_arrivals(switch.branch.iter().map(|b| &*b.block), peer));
        self.storage.commit(writes).await
    }

    /// Step 4: memory follows the disk: the branch replaces our blocks and ledger, the pool
    /// drops what the branch spent and takes back the abandoned blocks' still valid
    /// transactions (stored too), and the abandoned bodies go once no request reads them.
    async fn apply_switch(&self, switch: Switch) -> Applied {
        let Switch {
            fork,
            ledger,
            abandoned,
            branch,
        } = switch;
        let orphans: Vec<Transaction> = abandoned
            .iter()
            .flat_map(|b| b.block.transactions().iter().filter(|tx| !tx.is_mint()))
            .cloned()
            .collect();
        let tip = Arc::clone(&branch.last().expect("better than ours, so not empty").block);
        let (height, reinjected, pool_writes, plans_done) = {
            let mut state = self.write();
            let plans_done = state.blocks.truncate(fork);
            for stored in branch {
                state.blocks.push(stored);
            }
            state.ledger = ledger;
            let ChainState { ledger, pool, .. } = &mut *state;
            let dropped = pool.revalidate(ledger);
            let added = pool.reinject(orphans, ledger);
            let mut writes: Vec<Write> = dropped
                .into_iter()
                .map(|seq| Write::RemovePoolTx { seq })
                .collect();
            writes.extend(added.iter().map(|(seq, tx)| Write::PutPoolTx {
                seq: *seq,
                json: serde_json::to_vec(tx).expect("transactions serialize"),
            }));
            let reinjected: Vec<Transaction> = added.into_iter().map(|(_, tx)| tx).collect();
            (state.height(), reinjected, writes, plans_done)
        };
        self.tip_generation.fetch_add(1, Ordering::AcqRel);
        // The switch is on disk and in memory: a failure here must not say otherwise. The
        // pool in memory is right; the journal catches up with removals at the next start
        // (which revalidates it), but reinjected orphans are kept only in memory until
        // they are mined or the disk takes writes again.
        if !pool_writes.is_empty()
            && let Err(error) = self.storage.commit(pool_writes).await
        {
            tracing::warn!(%error, "the pool's changes after a switch were not stored");
        }
        let reorged = !abandoned.is_empty();
        if reorged {
            self.forget_bodies(&abandoned, plans_done);
        }
        Applied {
            fork,
            height,
            tip,
            reinjected,
            reorged,
        }
    }

    /// Step 5: tells the log, the dashboards and the peers: a reorg if we abandoned blocks,
    /// the new tip, and the orphans back in our pool (we may be the only node that ever saw
    /// them).
    fn announce_switch(
        &self,
        applied: Applied,
        validated: std::time::Duration,
        stored: std::time::Duration,
    ) -> Adoption {
        let Applied {
            fork,
            height,
            tip,
            reinjected,
            reorged,
        } = applied;
        let at_ms = now_ms();
        if reorged {
            tracing::info!(
                height,
                fork,
                reinjected = reinjected.len(),
                validated_ms = validated.as_millis() as u64,
                stored_ms = stored.as_millis() as u64,
                "adopted a chain with more work"
            );
            self.publish(Event::Reorg {
                fork,
                height,
                reinjected: reinjected.len(),
                at_ms,
            });
        } else {
            tracing::info!(
                height,
                validated_ms = validated.as_millis() as u64,
                stored_ms = stored.as_millis() as u64,
                "extended the chain from a peer"
            );
        }
        self.publish(Event::Block {
            block: tip,
            origin: BlockOrigin::Sync,
            at_ms,
        });
        let count = reinjected.len();
        for tx in reinjected {
            self.publish(Event::Transaction(tx));
        }
        if count > 0 {
            self.pool_changed.notify_waiters();
        }
        Adoption::Adopted {
            height,
            reorged_from: fork,
            reinjected: count,
        }
    }

    /// Deletes the bodies a reorg abandoned once `plans_done` fires: every request that
    /// planned to read them (see `crate::blocks::JsonPlan`) has read them or given up.
    fn forget_bodies(
        &self,
        abandoned: &[StoredBlock],
        plans_done: tokio::sync::oneshot::Receiver<()>,
    ) {
        let writes: Vec<Write> = abandoned
            .iter()
            .map(|b| Write::RemoveBody {
                number: b.block.number(),
                hash: b.block.hash().0,
            })
            .collect();
        // A node closed meanwhile keeps them: they are never read again, only take space.
        let storage = self.storage.downgrade();
        tokio::spawn(async move {
            let _ = plans_done.await;
            if let Some(Err(error)) = storage.commit(writes).await {
                tracing::warn!(%error, "abandoned block bodies not deleted");
            }
        });
    }
}
