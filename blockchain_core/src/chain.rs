//! Whole-chain validation and chain comparison.
//!
//! A node adopts another chain only after replaying it from genesis with every rule, and
//! only if it is better than its own by [`is_better_tip`]: more cumulative work (length
//! alone proves nothing, and a claimed length proves less), or, at equal work, a lower tip
//! hash.
//!
//! ## Why ties are broken by hash, not by arrival
//!
//! Bitcoin keeps the block it saw first when two tips carry equal work, and lets the next
//! block settle it: someone is always mining there, so the next block comes within minutes.
//! Here mining is on demand: two people may press **Mine** at the same moment and then
//! nobody mines again for an hour, and under first-seen each node would keep its own block
//! (and its neighbours whichever came first) for that hour. A rule that needs no more
//! blocks must give every node the same answer from the same two tips, whatever the order
//! in which they arrived: the lower tip hash wins. A node that holds the losing tip
//! switches when it sees the winner, and announces it, so the network settles by itself.
//! The hash cannot be chosen without redoing the proof of work, so nobody gains by it.

use std::borrow::Borrow;

use rayon::prelude::*;
use thiserror::Error;

use crate::block::{Block, BlockHash};
use crate::genesis::NetworkParams;
use crate::ledger::{BlockError, Ledger, VerifiedBlock, verify_signatures};
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

/// A chain's tip as chains are compared: its cumulative work and its tip's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TipRank {
    pub work: Work,
    pub hash: BlockHash,
}

/// Whether a chain ending in `theirs` should replace one ending in `ours`: more work wins;
/// at equal work the lower tip hash wins (see the module doc); the same tip never replaces
/// itself. A strict total order, so every node picks the same tip from the same set,
/// whatever the order in which they arrive.
pub fn is_better_tip(theirs: TipRank, ours: TipRank) -> bool {
    (theirs.work, std::cmp::Reverse(theirs.hash)) > (ours.work, std::cmp::Reverse(ours.hash))
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
    let genesis = blocks.first().ok_or(ChainError::Empty)?;
    let expected = params.genesis_block();
    if genesis != &expected {
        return Err(ChainError::GenesisMismatch {
            expected: expected.hash(),
            got: genesis.hash(),
        });
    }
    let branch = verify_blocks(blocks[1..].iter().collect())?;
    let ledger = validate_branch(Ledger::new(params), [], &branch, params, now)?;
    Ok(ChainSummary { ledger })
}

/// Verifies the payments' signatures of every block, all blocks at once (so every core stays
/// busy even when blocks are small), and says so in their type.
///
/// # Errors
/// The first block, in order, with a bad signature, as a [`ChainError::Block`].
pub fn verify_blocks<B: Borrow<Block> + Send + Sync>(
    blocks: Vec<B>,
) -> Result<Vec<VerifiedBlock<B>>, ChainError> {
    let failure = blocks
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
    Ok(blocks.into_iter().map(VerifiedBlock::verified).collect())
}

/// Validates a branch that leaves `ledger`'s chain at some earlier block: walks `ledger`
/// back over `abandoned` (its blocks after the fork, newest first, each with its parent's
/// timestamp), then connects `branch` (the other chain's blocks after the fork, oldest
/// first, their signatures verified) with every other rule. Returns the ledger at the
/// branch's tip. A node passes a copy of its own, so it keeps serving its chain until it
/// decides to switch.
///
/// # Errors
/// The first [`ChainError`].
pub fn validate_branch<'a, B: Borrow<Block>>(
    mut ledger: Ledger,
    abandoned: impl IntoIterator<Item = (&'a Block, u64)>,
    branch: &[VerifiedBlock<B>],
    params: &NetworkParams,
    now: u64,
) -> Result<Ledger, ChainError> {
    for (block, parent_timestamp) in abandoned {
        ledger.disconnect(block, parent_timestamp);
    }
    for block in branch {
        ledger
            .connect_verified(block, params, now)
            .map_err(|error| ChainError::Block {
                number: block.block().number(),
                error,
            })?;
    }
    Ok(ledger)
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
            ledger.connect(&block, params, NOW).unwrap();
            blocks.push(block);
        }
        blocks
    }

    fn rank(work: u128, hash: u8) -> TipRank {
        TipRank {
            work: Work(work),
            hash: BlockHash([hash; 32]),
        }
    }

    #[test]
    fn more_work_wins_and_a_tie_goes_to_the_lower_hash() {
        assert!(
            is_better_tip(rank(3, 9), rank(2, 1)),
            "more work, higher hash"
        );
        assert!(!is_better_tip(rank(2, 1), rank(3, 9)));
        assert!(is_better_tip(rank(2, 1), rank(2, 9)), "tie: lower hash");
        assert!(!is_better_tip(rank(2, 9), rank(2, 1)));
        assert!(!is_better_tip(rank(2, 5), rank(2, 5)), "never itself");
    }

    proptest::proptest! {
        /// Whatever order the tips arrive in, a node that keeps the better one ends on the
        /// same tip as every other node.
        #[test]
        fn any_arrival_order_ends_on_the_same_tip(
            tips in proptest::collection::vec((0u128..4, 0u8..6), 1..12),
            seed in proptest::prelude::any::<u64>(),
        ) {
            let tips: Vec<TipRank> = tips.into_iter().map(|(w, h)| rank(w, h)).collect();
            let settle = |order: &[TipRank]| {
                order.iter().skip(1).fold(order[0], |kept, &seen| {
                    if is_better_tip(seen, kept) { seen } else { kept }
                })
            };
            let expected = settle(&tips);
            let mut shuffled = tips.clone();
            // A deterministic shuffle from the seed (Fisher-Yates with an LCG).
            let mut state = seed;
            for i in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                shuffled.swap(i, (state >> 33) as usize % (i + 1));
            }
            proptest::prop_assert_eq!(settle(&shuffled), expected);
            proptest::prop_assert!(tips.iter().all(|&t| !is_better_tip(t, expected)));
        }
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

    /// Walking back over our blocks and forward over theirs gives exactly the ledger that
    /// replaying their chain from genesis gives; walking back over everything gives the
    /// genesis ledger.
    #[test]
    fn a_branch_from_a_fork_matches_a_replay_from_genesis() {
        let mut rng = rand::rng();
        let (miner, other_miner, payer) = (
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        );
        let params = NetworkParams {
            difficulty: Difficulty::new(4).unwrap(),
            allocations: vec![(payer.address().clone(), Amount::from_coins(10).unwrap())],
            ..NetworkParams::default()
        };
        let ours = build(&params, &miner, &payer, 5);
        let theirs = build(&params, &other_miner, &payer, 3);
        let base = validate_chain(&ours, &params, NOW).unwrap().ledger;
        let abandoned = || {
            ours.windows(2)
                .rev()
                .map(|pair| (&pair[1], pair[0].timestamp()))
        };

        let branch = verify_blocks(theirs[1..].iter().collect()).unwrap();
        let switched = validate_branch(base.clone(), abandoned(), &branch, &params, NOW).unwrap();
        assert_eq!(
            switched,
            validate_chain(&theirs, &params, NOW).unwrap().ledger
        );
        assert_eq!(switched.balance(miner.address()), Amount::ZERO);

        let empty: &[VerifiedBlock<&Block>] = &[];
        let rewound = validate_branch(base.clone(), abandoned(), empty, &params, NOW).unwrap();
        assert_eq!(rewound, Ledger::new(&params));

        // Their blocks do not extend ours without walking back first.
        assert!(matches!(
            validate_branch(base, [], &branch, &params, NOW),
            Err(ChainError::Block { number: 1, .. })
        ));
    }
}
