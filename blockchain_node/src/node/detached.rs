//! The rules an announced block that does not extend our tip can be held to before the
//! node asks its peers about it: that its previous hash agrees with its number where it
//! names one of our blocks, its own proof of work, and its signatures.
//!
//! A block on another branch is normal (a peer mined on a fork), so such a block is not
//! refused for standing elsewhere; but one that breaks a rule needing no branch is refused
//! by name instead of starting a resolve round over junk. The block page's tamper lab
//! posts edited blocks here and shows these refusals.

use blockchain_core::ledger::{BlockError, verify_block};
use blockchain_core::{Block, VerifiedBlock};
use thiserror::Error;

use super::Node;
use crate::node::StoredBlock;

/// Why an announced block that does not extend our tip is refused.
#[derive(Debug, Error)]
pub enum DetachedError {
    #[error(
        "previous_hash {previous} is the hash of block {parent}, so this block would be number {}, not {number}",
        parent + 1
    )]
    PreviousHashMismatch {
        previous: blockchain_core::BlockHash,
        parent: u64,
        number: u64,
    },
    #[error(transparent)]
    Block(#[from] BlockError),
}

impl Node {
    /// Checks an announced block that does not extend our tip: its link to our chain
    /// (when its previous hash names one of our blocks), its proof of work against its own
    /// difficulty and the network's minimum, and its signatures. The block comes back
    /// verified, so whoever keeps it (as a one-block branch) does not check it again.
    ///
    /// # Errors
    /// The first broken rule.
    pub async fn check_detached(
        &self,
        block: Block,
    ) -> Result<VerifiedBlock<StoredBlock>, DetachedError> {
        let parent = {
            let state = self.read();
            (0..state.blocks.len() as u64).rev().find(|&n| {
                state
                    .blocks
                    .info(n)
                    .is_some_and(|i| i.hash == block.previous_hash())
            })
        };
        if let Some(parent) = parent.filter(|&p| p.checked_add(1) != Some(block.number())) {
            return Err(DetachedError::PreviousHashMismatch {
                previous: block.previous_hash(),
                parent,
                number: block.number(),
            });
        }
        if block.difficulty() < self.params.difficulty {
            return Err(BlockError::DifficultyTooLow {
                got: block.difficulty(),
                min: self.params.difficulty,
            }
            .into());
        }
        if !block.difficulty().is_met_by(&block.hash().0) {
            return Err(BlockError::InsufficientProofOfWork {
                hash: block.hash(),
                difficulty: block.difficulty(),
            }
            .into());
        }
        let verified = tokio::task::spawn_blocking(move || verify_block(StoredBlock::new(block)))
            .await
            .expect("verification does not panic")?;
        Ok(verified)
    }
}
