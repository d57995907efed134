//! Whole-chain validation and chain comparison.
//!
//! A node adopts another chain only after replaying it from genesis with every rule, and
//! only if it carries more cumulative work than its own: length alone proves nothing, and
//! a claimed length proves less.

use std::borrow::Borrow;

use rayon::prelude::*;
use thiserror::Error;

use crate::block::{Block, BlockHash};
use crate::genesis::NetworkParams;
use crate::ledger::{BlockError, Ledger, Signatures, verify_signatures};
use crate::pow::Work;
use crate::transaction::Transaction;

/// Why a chain is not valid for our network.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChainError {
    #[error("chain is empty")]
    Empty,
    #[error("chain starts from genesis {got}, not this network's {expected}")]
    GenesisMismatch { expected: BlockHash, got: BlockHash },
    #[error("block {number}: {error}")]
    Block { number: u64, error: BlockError },
}

/// A valid chain's ledger and tip.
#[derive(Debug, Clone)]
pub struct ChainSummary {
    pub ledger: Ledger,
}

impl ChainSummary {
    pub fn work(&self) -> Work {
        self.ledger.tip().work
    }
}

/// The work a chain claims, summed from its blocks' difficulties (genesis excluded).
/// Only meaningful for a chain that [`validate_chain`] accepted.
pub fn chain_work<B: Borrow<Block>>(blocks: &[B]) -> Work {
    blocks.iter().skip(1).fold(Work::default(), |work, b| {
        work.saturating_add(b.borrow().difficulty().work())
    })
}

/// Validates `blocks` from genesis: the same genesis as `params`, then every block rule,
/// every signature (in parallel, all blocks at once), balances and replay.
///
/// # Errors
/// The first [`ChainError`].
pub fn validate_chain(
    blocks: &[Block],
    params: &NetworkParams,
    now: u64,
) -> Result<ChainSummary, ChainError> {
    validate_chain_with(blocks, params, now, Signatures::Verify)
}

/// As [`validate_chain`]; with [`Signatures::AlreadyVerified`] the caller has verified
/// every payment's signature already (for example page by page while downloading), and
/// every other rule is still checked.
///
/// # Errors
/// The first [`ChainError`].
pub fn validate_chain_with<B: Borrow<Block> + Sync>(
    blocks: &[B],
    params: &NetworkParams,
    now: u64,
    signatures: Signatures,
) -> Result<ChainSummary, ChainError> {
    let genesis: &Block = blocks.first().ok_or(ChainError::Empty)?.borrow();
    let expected = params.genesis_block();
    if genesis != &expected {
        return Err(ChainError::GenesisMismatch {
            expected: expected.hash(),
            got: genesis.hash(),
        });
    }
    if signatures == Signatures::Verify {
        // All blocks at once, so every core stays busy even when blocks are small.
        let failure = blocks[1..]
            .par_iter()
            .map(|block| {
                let block: &Block = block.borrow();
                verify_signatures(payments(block)).map_err(|error| ChainError::Block {
                    number: block.number(),
                    error,
                })
            })
            .find_first(Result::is_err);
        if let Some(Err(error)) = failure {
            return Err(error);
        }
    }
    let mut ledger = Ledger::new(params);
    for block in &blocks[1..] {
        let block: &Block = block.borrow();
        ledger
            .connect(block, params, now, Signatures::AlreadyVerified)
            .map_err(|error| ChainError::Block {
                number: block.number(),
                error,
            })?;
    }
    Ok(ChainSummary { ledger })
}

/// A block's transactions but the last, the reward: those that carry signatures.
pub fn payments(block: &Block) -> &[Transaction] {
    block
        .transactions()
        .split_last()
        .map_or(&[], |(_, rest)| rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::ledger::reward_transaction;
    use crate::pow::Difficulty;
    use crate::wallet::PrivateKey;

    const NOW: u64 = 1_800_000_000;

    fn build(params: &NetworkParams, miner: &PrivateKey, payer: &PrivateKey, n: u64) -> Vec<Block> {
        let mut blocks = vec![params.genesis_block()];
        let mut ledger = Ledger::new(params);
        for number in 1..=n {
            let mut txs = vec![
                Transaction::sign(payer, miner.address(), "1", Some(&number.to_string())).unwrap(),
            ];
            txs.push(reward_transaction(miner.address(), params, number));
            let block = Block::new(number, NOW, params.difficulty, ledger.tip().hash, txs, 0);
            let nonce = block
                .header()
                .pow_template()
                .search(params.difficulty, 0, 1, u64::MAX)
                .unwrap();
            let block = block.with_nonce(nonce);
            ledger
                .connect(&block, params, NOW, Signatures::Verify)
                .unwrap();
            blocks.push(block);
        }
        blocks
    }

    #[test]
    fn validates_and_measures_a_chain() {
        let mut rng = rand::rng();
        let (miner, payer) = (
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        );
        let params = NetworkParams {
            difficulty: Difficulty::new(6).unwrap(),
            allocations: vec![(payer.address().clone(), Amount::from_coins(10).unwrap())],
            ..NetworkParams::default()
        };
        let blocks = build(&params, &miner, &payer, 5);
        let summary = validate_chain(&blocks, &params, NOW).unwrap();
        assert_eq!(summary.ledger.tip().number, 5);
        assert_eq!(summary.work(), Work(5 * 64));
        assert_eq!(summary.work(), chain_work(&blocks));
        assert_eq!(
            summary.ledger.balance(payer.address()),
            Amount::from_coins(5).unwrap()
        );

        let other = NetworkParams {
            network: "other".into(),
            ..params.clone()
        };
        assert!(matches!(
            validate_chain(&blocks, &other, NOW),
            Err(ChainError::GenesisMismatch { .. })
        ));
        assert!(matches!(
            validate_chain(&[], &params, NOW),
            Err(ChainError::Empty)
        ));

        let mut broken = blocks.clone();
        broken.remove(3);
        assert!(matches!(
            validate_chain(&broken, &params, NOW),
            Err(ChainError::Block { number: 4, .. })
        ));
    }
}
