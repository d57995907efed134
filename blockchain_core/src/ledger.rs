//! The ledger: balances and spent transaction ids, and the contextual rules checked
//! against them.
//!
//! ```text
//!  transaction ──check_stateless──► check_contextual(ledger, pool) ──► pool
//!  block ──Ledger::check_block(params, now)──► BlockDelta ──Ledger::apply──► ledger'
//! ```
//!
//! Signatures are the costly part of a block's check, so they can be verified ahead (a
//! page of a sync while the next downloads): [`verify_block`] returns a [`VerifiedBlock`],
//! and [`Ledger::check_verified`] takes only that type, so no unverified block skips them.
//!
//! `check_*` functions read; only [`Ledger::apply`] writes, and only a delta that a check
//! produced. A balance can therefore never go below zero: every debit was checked against
//! the balance it is applied to.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use thiserror::Error;

use crate::amount::Amount;
use crate::block::{Block, BlockHash};
use crate::confirmed::ConfirmedIds;
use crate::genesis::NetworkParams;
use crate::pow::{Difficulty, Work};
use crate::transaction::{Sender, Transaction, TxError, TxId, check_stateless};
use crate::wallet::Address;

/// How far ahead of the validating node's clock a block's timestamp may be.
pub const MAX_FUTURE_SECONDS: u64 = 2 * 60 * 60;
/// The most transactions one block may hold, reward included.
pub const MAX_BLOCK_TRANSACTIONS: usize = 10_000;

/// What the pending pool tells contextual checks.
pub trait PendingView {
    /// The sum the pool already spends from `address`.
    fn pending_spend(&self, address: &Address) -> Amount;
    /// Whether the pool already holds this transaction.
    fn contains(&self, id: &TxId) -> bool;
}

/// An empty pool: for checks against the chain alone.
impl PendingView for () {
    fn pending_spend(&self, _: &Address) -> Amount {
        Amount::ZERO
    }
    fn contains(&self, _: &TxId) -> bool {
        false
    }
}

/// A transaction that the chain and pool do not allow.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LedgerError {
    #[error("transaction {id} is already in block {block}; a signed transaction is accepted once")]
    AlreadyConfirmed { id: TxId, block: u64 },
    #[error("transaction {id} is already pending; a signed transaction is accepted once")]
    AlreadyPending { id: TxId },
    #[error(
        "insufficient funds: the sender has {have} available (pending spends included) but sends {need}"
    )]
    InsufficientFunds { have: Amount, need: Amount },
    #[error("the recipient's balance would exceed the maximum amount")]
    BalanceOverflow,
}

/// A block that does not extend the ledger's chain.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    #[error("block number is {got} but the next block is {expected}")]
    WrongNumber { expected: u64, got: u64 },
    #[error("previous_hash {got} is not the tip {expected}")]
    WrongPreviousHash { expected: BlockHash, got: BlockHash },
    #[error("difficulty {got} is below the network's minimum of {min}")]
    DifficultyTooLow { min: Difficulty, got: Difficulty },
    #[error("proof of work: hash {hash} does not meet difficulty {difficulty}")]
    InsufficientProofOfWork {
        hash: BlockHash,
        difficulty: Difficulty,
    },
    #[error("timestamp {got} is earlier than the parent's {parent}")]
    TimestampBeforeParent { parent: u64, got: u64 },
    #[error("timestamp {got} is more than two hours ahead of this node's clock ({now})")]
    TimestampInFuture { now: u64, got: u64 },
    #[error("block holds {got} transactions; the limit is {max}")]
    TooManyTransactions { max: usize, got: usize },
    #[error("block has no reward transaction as its last transaction")]
    MissingReward,
    #[error("transaction {index} mints coins; only the last transaction, the reward, may")]
    ExtraMint { index: usize },
    #[error("reward is {got} but the network pays {expected}")]
    WrongReward { expected: Amount, got: Amount },
    #[error("reward must carry the block number as its nonce")]
    RewardTag,
    #[error("transaction {index}: {error}")]
    Transaction { index: usize, error: TxError },
    #[error("transaction {index}: {error}")]
    Ledger { index: usize, error: LedgerError },
}

/// A block whose payments' signatures were verified: what the checks that skip signatures
/// ([`Ledger::check_verified`], [`Ledger::connect_verified`], `chain::validate_branch`)
/// take, so a block nobody verified cannot reach them. [`verify_block`] (or
/// `chain::verify_blocks`, many at once) makes one; it wraps the block as it is held
/// (`Block`, `&Block`, or a holder that also keeps its JSON), without copying it.
#[derive(Debug, Clone)]
#[repr(transparent)]
pub struct VerifiedBlock<B = Block> {
    block: B,
}

impl<B: Borrow<Block>> VerifiedBlock<B> {
    /// Wraps a block whose payments were verified just now; only the verifying functions
    /// of this crate call it.
    pub(crate) fn verified(block: B) -> Self {
        VerifiedBlock { block }
    }

    /// Wraps a block whose every payment this node verified before: a block it assembles
    /// from its own pool (each transaction was verified when it entered), or one it reads
    /// back from its own storage (verified before it was stored). Never for a block from
    /// elsewhere: that goes through [`verify_block`].
    pub fn assume_verified(block: B) -> Self {
        VerifiedBlock { block }
    }

    /// The block.
    pub fn block(&self) -> &Block {
        self.block.borrow()
    }

    /// The block as it is held.
    pub fn get(&self) -> &B {
        &self.block
    }

    /// Unwraps the block as it is held.
    pub fn into_inner(self) -> B {
        self.block
    }

    /// The same block in another holder (one that also keeps its JSON, say), still verified.
    pub fn map_into<C: From<B> + Borrow<Block>>(self) -> VerifiedBlock<C> {
        VerifiedBlock {
            block: C::from(self.block),
        }
    }
}

/// The tip of a ledger's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tip {
    pub number: u64,
    pub hash: BlockHash,
    pub timestamp: u64,
    /// Work of every block after genesis.
    pub work: Work,
}

/// Balances and spent ids after a chain of blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    balances: HashMap<Address, Amount>,
    confirmed: ConfirmedIds,
    tip: Tip,
    genesis: BlockHash,
}

/// The changes a checked block makes.
#[derive(Debug, Clone)]
pub struct BlockDelta {
    tip: Tip,
    balances: HashMap<Address, Amount>,
    confirmed: Vec<TxId>,
}

impl BlockDelta {
    /// The tip after the block.
    pub fn tip(&self) -> Tip {
        self.tip
    }
    /// Every balance the block changes, with its new value (zero: the address is emptied).
    pub fn balances(&self) -> impl Iterator<Item = (&Address, Amount)> {
        self.balances.iter().map(|(a, v)| (a, *v))
    }
    /// The ids the block confirms.
    pub fn confirmed(&self) -> &[TxId] {
        &self.confirmed
    }
}

/// Checks a transaction against the chain and the pool: not seen before, and funded by
/// the sender's confirmed balance less what the pool already spends from it.
///
/// # Errors
/// The [`LedgerError`] of the first broken rule.
pub fn check_contextual(
    tx: &Transaction,
    ledger: &Ledger,
    pool: &impl PendingView,
) -> Result<(), LedgerError> {
    if let Some(block) = ledger.confirmed_in(&tx.id()) {
        return Err(LedgerError::AlreadyConfirmed { id: tx.id(), block });
    }
    if pool.contains(&tx.id()) {
        return Err(LedgerError::AlreadyPending { id: tx.id() });
    }
    if let Sender::Wallet(sender) = tx.sender() {
        let have = ledger
            .balance(sender)
            .checked_sub(pool.pending_spend(sender))
            .unwrap_or(Amount::ZERO);
        if tx.amount() > have {
            return Err(LedgerError::InsufficientFunds {
                have,
                need: tx.amount(),
            });
        }
    }
    Ok(())
}

impl Ledger {
    /// The ledger right after the genesis block of `params`.
    pub fn new(params: &NetworkParams) -> Self {
        let genesis = params.genesis_block();
        let mut balances: HashMap<Address, Amount> = HashMap::new();
        let mut confirmed = HashMap::new();
        for tx in genesis.transactions() {
            let balance = balances.entry(tx.recipient().clone()).or_default();
            *balance = balance
                .checked_add(tx.amount())
                .expect("genesis supply is checked when parsed");
            confirmed.insert(tx.id(), 0);
        }
        Ledger {
            balances,
            confirmed: ConfirmedIds::from_map(confirmed),
            tip: Tip {
                number: 0,
                hash: genesis.hash(),
                timestamp: genesis.timestamp(),
                work: Work::default(),
            },
            genesis: genesis.hash(),
        }
    }

    /// A ledger from state a node stored itself (balances, confirmed ids and tip written
    /// as each block joined), so start-up reads the state instead of replaying the chain.
    pub fn restore(
        params: &NetworkParams,
        tip: Tip,
        balances: HashMap<Address, Amount>,
        confirmed: HashMap<TxId, u64>,
    ) -> Self {
        Ledger {
            balances,
            confirmed: ConfirmedIds::from_map(confirmed),
            tip,
            genesis: params.genesis_block().hash(),
        }
    }

    pub fn tip(&self) -> Tip {
        self.tip
    }

    /// How many transactions are confirmed (genesis included).
    pub fn confirmed_count(&self) -> usize {
        self.confirmed.len()
    }

    pub fn genesis_hash(&self) -> BlockHash {
        self.genesis
    }

    /// The confirmed balance of `address`.
    pub fn balance(&self, address: &Address) -> Amount {
        self.balances.get(address).copied().unwrap_or_default()
    }

    /// The block that holds transaction `id`, if any.
    pub fn confirmed_in(&self, id: &TxId) -> Option<u64> {
        self.confirmed.get(id)
    }

    /// Every confirmed id with the block that confirmed it, in no particular order.
    pub fn confirmed_ids(&self) -> impl Iterator<Item = (&TxId, u64)> {
        self.confirmed.iter().map(|(id, block)| (id, *block))
    }

    /// Every address with a balance, largest first.
    pub fn richest(&self, limit: usize) -> Vec<(Address, Amount)> {
        let mut all: Vec<_> = self.balances.iter().map(|(a, v)| (a.clone(), *v)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(limit);
        all
    }

    /// Checks that `block` extends this ledger's tip, its signatures included, and computes
    /// what it changes.
    ///
    /// `now` is the validating node's clock, in Unix seconds.
    ///
    /// # Errors
    /// The [`BlockError`] of the first broken rule.
    pub fn check_block(
        &self,
        block: &Block,
        params: &NetworkParams,
        now: u64,
    ) -> Result<BlockDelta, BlockError> {
        self.check_header(block, params, now)?;
        let (_, payments) = check_reward(block, params)?;
        verify_signatures(payments)?;
        self.check_transactions(block)
    }

    /// As [`Ledger::check_block`] for a block whose signatures were verified already.
    ///
    /// # Errors
    /// The [`BlockError`] of the first broken rule.
    pub fn check_verified<B: Borrow<Block>>(
        &self,
        block: &VerifiedBlock<B>,
        params: &NetworkParams,
        now: u64,
    ) -> Result<BlockDelta, BlockError> {
        let block = block.block();
        self.check_header(block, params, now)?;
        check_reward(block, params)?;
        self.check_transactions(block)
    }

    /// The contextual rules of a block's transactions (no replay, no overspend), header and
    /// reward checked: what the block changes.
    fn check_transactions(&self, block: &Block) -> Result<BlockDelta, BlockError> {
        let transactions = block.transactions();
        let mut balances: HashMap<Address, Amount> = HashMap::new();
        let mut seen: HashSet<TxId> = HashSet::with_capacity(transactions.len());
        let balance_of = |balances: &HashMap<Address, Amount>, a: &Address| {
            balances.get(a).copied().unwrap_or_else(|| self.balance(a))
        };
        for (index, tx) in transactions.iter().enumerate() {
            let ledger_error = |error| BlockError::Ledger { index, error };
            if let Some(block) = self.confirmed_in(&tx.id()) {
                return Err(ledger_error(LedgerError::AlreadyConfirmed {
                    id: tx.id(),
                    block,
                }));
            }
            if !seen.insert(tx.id()) {
                return Err(ledger_error(LedgerError::AlreadyPending { id: tx.id() }));
            }
            if let Sender::Wallet(sender) = tx.sender() {
                let have = balance_of(&balances, sender);
                let left = have.checked_sub(tx.amount()).ok_or_else(|| {
                    ledger_error(LedgerError::InsufficientFunds {
                        have,
                        need: tx.amount(),
                    })
                })?;
                balances.insert(sender.clone(), left);
            }
            let credited = balance_of(&balances, tx.recipient())
                .checked_add(tx.amount())
                .ok_or_else(|| ledger_error(LedgerError::BalanceOverflow))?;
            balances.insert(tx.recipient().clone(), credited);
        }
        debug_assert!(transactions.last().is_some_and(Transaction::is_mint));

        Ok(BlockDelta {
            tip: Tip {
                number: block.number(),
                hash: block.hash(),
                timestamp: block.timestamp(),
                work: self.tip.work.saturating_add(block.difficulty().work()),
            },
            balances,
            confirmed: seen.into_iter().collect(),
        })
    }

    fn check_header(
        &self,
        block: &Block,
        params: &NetworkParams,
        now: u64,
    ) -> Result<(), BlockError> {
        let expected = self.tip.number + 1;
        if block.number() != expected {
            return Err(BlockError::WrongNumber {
                expected,
                got: block.number(),
            });
        }
        if block.previous_hash() != self.tip.hash {
            return Err(BlockError::WrongPreviousHash {
                expected: self.tip.hash,
                got: block.previous_hash(),
            });
        }
        if block.difficulty() < params.difficulty {
            return Err(BlockError::DifficultyTooLow {
                min: params.difficulty,
                got: block.difficulty(),
            });
        }
        if !block.difficulty().is_met_by(&block.hash().0) {
            return Err(BlockError::InsufficientProofOfWork {
                hash: block.hash(),
                difficulty: block.difficulty(),
            });
        }
        if block.timestamp() < self.tip.timestamp {
            return Err(BlockError::TimestampBeforeParent {
                parent: self.tip.timestamp,
                got: block.timestamp(),
            });
        }
        if block.timestamp() > now.saturating_add(MAX_FUTURE_SECONDS) {
            return Err(BlockError::TimestampInFuture {
                now,
                got: block.timestamp(),
            });
        }
        if block.transactions().len() > MAX_BLOCK_TRANSACTIONS {
            return Err(BlockError::TooManyTransactions {
                max: MAX_BLOCK_TRANSACTIONS,
                got: block.transactions().len(),
            });
        }
        Ok(())
    }

    /// Applies a delta from [`Ledger::check_block`] on this same ledger.
    ///
    /// # Panics
    /// If the delta was computed against another tip.
    pub fn apply(&mut self, delta: BlockDelta) {
        assert_eq!(
            delta.tip.number,
            self.tip.number + 1,
            "delta from another tip"
        );
        for (address, balance) in delta.balances {
            if balance == Amount::ZERO {
                self.balances.remove(&address);
            } else {
                self.balances.insert(address, balance);
            }
        }
        for id in delta.confirmed {
            self.confirmed.insert(id, delta.tip.number);
        }
        self.tip = delta.tip;
    }

    /// Undoes the tip block: the ledger as it was before `block` joined, given the
    /// timestamp of the block before it. A reorg walks back to the fork this way instead of
    /// replaying the chain from genesis; the block itself is all the undo data needed,
    /// because every change it made is a sum or a new id.
    ///
    /// # Panics
    /// If `block` is not this ledger's tip (a bug in the caller).
    pub fn disconnect(&mut self, block: &Block, parent_timestamp: u64) {
        assert_eq!(
            block.hash(),
            self.tip.hash,
            "disconnect of a block not at the tip"
        );
        for tx in block.transactions().iter().rev() {
            let credited = self.balance(tx.recipient());
            self.set_balance(
                tx.recipient(),
                credited
                    .checked_sub(tx.amount())
                    .expect("a connected block's credit is in the balance"),
            );
            if let Sender::Wallet(sender) = tx.sender() {
                let spent = self.balance(sender);
                self.set_balance(
                    sender,
                    spent
                        .checked_add(tx.amount())
                        .expect("a refund fits: the sender held it before"),
                );
            }
            self.confirmed.remove(&tx.id());
        }
        self.tip = Tip {
            number: block.number() - 1,
            hash: block.previous_hash(),
            timestamp: parent_timestamp,
            work: self.tip.work.saturating_sub(block.difficulty().work()),
        };
    }

    fn set_balance(&mut self, address: &Address, balance: Amount) {
        if balance == Amount::ZERO {
            self.balances.remove(address);
        } else {
            self.balances.insert(address.clone(), balance);
        }
    }

    /// Checks and applies `block`.
    ///
    /// # Errors
    /// As [`Ledger::check_block`]; the ledger is unchanged on error.
    pub fn connect(
        &mut self,
        block: &Block,
        params: &NetworkParams,
        now: u64,
    ) -> Result<(), BlockError> {
        let delta = self.check_block(block, params, now)?;
        self.apply(delta);
        Ok(())
    }

    /// As [`Ledger::connect`] for a block whose signatures were verified already.
    ///
    /// # Errors
    /// As [`Ledger::check_verified`]; the ledger is unchanged on error.
    pub fn connect_verified<B: Borrow<Block>>(
        &mut self,
        block: &VerifiedBlock<B>,
        params: &NetworkParams,
        now: u64,
    ) -> Result<(), BlockError> {
        let delta = self.check_verified(block, params, now)?;
        self.apply(delta);
        Ok(())
    }
}

/// Splits off the reward (the last transaction) and checks it and that nothing else mints.
fn check_reward<'b>(
    block: &'b Block,
    params: &NetworkParams,
) -> Result<(&'b Transaction, &'b [Transaction]), BlockError> {
    let Some((reward, payments)) = block.transactions().split_last() else {
        return Err(BlockError::MissingReward);
    };
    if !reward.is_mint() {
        return Err(BlockError::MissingReward);
    }
    if let Some(index) = payments.iter().position(Transaction::is_mint) {
        return Err(BlockError::ExtraMint { index });
    }
    if reward.amount() != params.reward {
        return Err(BlockError::WrongReward {
            expected: params.reward,
            got: reward.amount(),
        });
    }
    if reward.nonce() != Some(block.number().to_string().as_str()) {
        return Err(BlockError::RewardTag);
    }
    Ok((reward, payments))
}

/// Verifies the signatures of a block's payments (every transaction but the reward), in
/// parallel, and says so in its type.
///
/// # Errors
/// The first failing transaction's index and [`TxError`].
pub fn verify_block<B: Borrow<Block>>(block: B) -> Result<VerifiedBlock<B>, BlockError> {
    let payments = block
        .borrow()
        .transactions()
        .split_last()
        .map_or(&[][..], |(_, rest)| rest);
    verify_signatures(payments)?;
    Ok(VerifiedBlock::verified(block))
}

/// Verifies every payment's signature, in parallel.
///
/// # Errors
/// The first failing transaction's index and [`TxError`].
pub fn verify_signatures(payments: &[Transaction]) -> Result<(), BlockError> {
    let failure = payments
        .par_iter()
        .enumerate()
        .find_first(|(_, tx)| check_stateless(tx).is_err());
    match failure {
        Some((index, tx)) => Err(BlockError::Transaction {
            index,
            error: check_stateless(tx).expect_err("failed above"),
        }),
        None => Ok(()),
    }
}

/// The reward transaction for block `number`.
pub fn reward_transaction(miner: &Address, params: &NetworkParams, number: u64) -> Transaction {
    Transaction::mint(miner.clone(), params.reward, &number.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;

    use super::*;
    use crate::wallet::PrivateKey;

    static KEYS: LazyLock<Vec<PrivateKey>> = LazyLock::new(|| {
        (0..3)
            .map(|_| PrivateKey::generate(&mut rand::rng(), 1024).unwrap())
            .collect()
    });

    fn params(difficulty: u32) -> NetworkParams {
        NetworkParams {
            difficulty: Difficulty::new(difficulty).unwrap(),
            allocations: vec![(KEYS[0].address().clone(), Amount::from_coins(100).unwrap())],
            ..NetworkParams::default()
        }
    }

    fn mine(
        ledger: &Ledger,
        params: &NetworkParams,
        mut txs: Vec<Transaction>,
        timestamp: u64,
    ) -> Block {
        let number = ledger.tip().number + 1;
        txs.push(reward_transaction(KEYS[2].address(), params, number));
        let block = Block::new(
            number,
            timestamp,
            params.difficulty,
            ledger.tip().hash,
            txs,
            0,
        );
        let nonce = block
            .header()
            .pow_template()
            .search(params.difficulty, 0, 1, u64::MAX)
            .unwrap();
        block.with_nonce(nonce)
    }

    fn pay(from: usize, to: usize, value: &str, nonce: &str) -> Transaction {
        Transaction::sign(&KEYS[from], KEYS[to].address(), value, Some(nonce)).unwrap()
    }

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn a_funded_payment_moves_coins_once() {
        let params = params(4);
        let mut ledger = Ledger::new(&params);
        let tx = pay(0, 1, "30", "a");
        assert_eq!(check_contextual(&tx, &ledger, &()), Ok(()));
        let block = mine(&ledger, &params, vec![tx.clone()], NOW);
        ledger.connect(&block, &params, NOW).unwrap();
        assert_eq!(
            ledger.balance(KEYS[0].address()),
            Amount::from_coins(70).unwrap()
        );
        assert_eq!(
            ledger.balance(KEYS[1].address()),
            Amount::from_coins(30).unwrap()
        );
        assert_eq!(ledger.balance(KEYS[2].address()), params.reward);
        assert_eq!(
            check_contextual(&tx, &ledger, &()),
            Err(LedgerError::AlreadyConfirmed {
                id: tx.id(),
                block: 1
            })
        );
        let replay = mine(&ledger, &params, vec![tx], NOW);
        assert!(matches!(
            ledger.check_block(&replay, &params, NOW),
            Err(BlockError::Ledger {
                index: 0,
                error: LedgerError::AlreadyConfirmed { .. }
            })
        ));
    }

    #[test]
    fn overspend_is_refused_with_figures() {
        let params = params(0);
        let ledger = Ledger::new(&params);
        let tx = pay(0, 1, "100.00000001", "a");
        assert_eq!(
            check_contextual(&tx, &ledger, &()),
            Err(LedgerError::InsufficientFunds {
                have: Amount::from_coins(100).unwrap(),
                need: Amount::parse_value("100.00000001").unwrap()
            })
        );
        let unfunded = pay(1, 0, "1", "b");
        assert!(matches!(
            check_contextual(&unfunded, &ledger, &()),
            Err(LedgerError::InsufficientFunds { .. })
        ));
    }

    #[test]
    fn pending_spends_count_against_the_balance() {
        struct Pool(Amount);
        impl PendingView for Pool {
            fn pending_spend(&self, _: &Address) -> Amount {
                self.0
            }
            fn contains(&self, _: &TxId) -> bool {
                false
            }
        }
        let params = params(0);
        let ledger = Ledger::new(&params);
        let tx = pay(0, 1, "60", "a");
        assert_eq!(
            check_contextual(&tx, &ledger, &Pool(Amount::from_coins(40).unwrap())),
            Ok(())
        );
        assert!(matches!(
            check_contextual(&tx, &ledger, &Pool(Amount::from_coins(41).unwrap())),
            Err(LedgerError::InsufficientFunds { .. })
        ));
    }

    #[test]
    fn block_rules() {
        let params = params(8);
        let ledger = Ledger::new(&params);
        let good = mine(&ledger, &params, vec![], NOW);
        assert!(ledger.check_block(&good, &params, NOW).is_ok());

        let check = |block: &Block| ledger.check_block(block, &params, NOW).unwrap_err();
        let tip = ledger.tip();
        let reward = reward_transaction(KEYS[2].address(), &params, 1);
        let rebuild = |number, ts, prev, txs: Vec<Transaction>| {
            let b = Block::new(number, ts, params.difficulty, prev, txs, 0);
            let n = b
                .header()
                .pow_template()
                .search(params.difficulty, 0, 1, u64::MAX)
                .unwrap();
            b.with_nonce(n)
        };
        assert!(matches!(
            check(&rebuild(2, NOW, tip.hash, vec![reward.clone()])),
            BlockError::WrongNumber { .. }
        ));
        assert!(matches!(
            check(&rebuild(1, NOW, BlockHash([1; 32]), vec![reward.clone()])),
            BlockError::WrongPreviousHash { .. }
        ));
        assert!(matches!(
            check(&rebuild(
                1,
                tip.timestamp - 1,
                tip.hash,
                vec![reward.clone()]
            )),
            BlockError::TimestampBeforeParent { .. }
        ));
        assert!(matches!(
            check(&rebuild(1, NOW + 7201, tip.hash, vec![reward.clone()])),
            BlockError::TimestampInFuture { .. }
        ));
        assert!(matches!(
            check(&rebuild(1, NOW, tip.hash, vec![])),
            BlockError::MissingReward
        ));
        assert!(matches!(
            check(&rebuild(
                1,
                NOW,
                tip.hash,
                vec![reward.clone(), reward.clone()]
            )),
            BlockError::ExtraMint { index: 0 }
        ));
        let double = Transaction::mint(
            KEYS[2].address().clone(),
            Amount::from_coins(2).unwrap(),
            "1",
        );
        assert!(matches!(
            check(&rebuild(1, NOW, tip.hash, vec![double])),
            BlockError::WrongReward { .. }
        ));
        let mistagged = Transaction::mint(KEYS[2].address().clone(), params.reward, "7");
        assert!(matches!(
            check(&rebuild(1, NOW, tip.hash, vec![mistagged])),
            BlockError::RewardTag
        ));
        let overspend = pay(0, 1, "101", "x");
        assert!(matches!(
            check(&rebuild(1, NOW, tip.hash, vec![overspend, reward.clone()])),
            BlockError::Ledger {
                index: 0,
                error: LedgerError::InsufficientFunds { .. }
            }
        ));
        let mut forged = pay(0, 1, "5", "y").to_json();
        forged.value = "50".into();
        let forged = Transaction::try_from(&forged).unwrap();
        assert!(matches!(
            check(&rebuild(1, NOW, tip.hash, vec![forged, reward.clone()])),
            BlockError::Transaction {
                index: 0,
                error: TxError::BadSignature
            }
        ));
        // Unmined: the hash will almost surely miss 8 leading zero bits; find a nonce that does.
        let unmined = Block::new(1, NOW, params.difficulty, tip.hash, vec![reward.clone()], 0);
        let template = unmined.header().pow_template();
        let bad_nonce = (0..)
            .find(|&n| !params.difficulty.is_met_by(&template.hash(n)))
            .unwrap();
        assert!(matches!(
            check(&unmined.with_nonce(bad_nonce)),
            BlockError::InsufficientProofOfWork { .. }
        ));
        let easy = Block::new(
            1,
            NOW,
            Difficulty::new(7).unwrap(),
            tip.hash,
            vec![reward],
            0,
        );
        assert!(matches!(check(&easy), BlockError::DifficultyTooLow { .. }));
    }

    #[test]
    fn spending_twice_within_one_block_is_refused() {
        let params = params(0);
        let ledger = Ledger::new(&params);
        let block = mine(
            &ledger,
            &params,
            vec![pay(0, 1, "60", "a"), pay(0, 1, "60", "b")],
            NOW,
        );
        assert!(matches!(
            ledger.check_block(&block, &params, NOW),
            Err(BlockError::Ledger {
                index: 1,
                error: LedgerError::InsufficientFunds { .. }
            })
        ));
        let tx = pay(0, 1, "1", "c");
        let block = mine(&ledger, &params, vec![tx.clone(), tx], NOW);
        assert!(matches!(
            ledger.check_block(&block, &params, NOW),
            Err(BlockError::Ledger { index: 1, .. })
        ));
    }

    /// A toy pool for the property test: pending spends per sender.
    #[derive(Default)]
    struct TestPool {
        txs: Vec<Transaction>,
        spends: HashMap<Address, Amount>,
    }
    impl PendingView for TestPool {
        fn pending_spend(&self, address: &Address) -> Amount {
            self.spends.get(address).copied().unwrap_or_default()
        }
        fn contains(&self, id: &TxId) -> bool {
            self.txs.iter().any(|t| t.id() == *id)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Whatever is submitted, what the rules accept can always be mined, and no balance
        /// ever needs to go below zero; coins are neither made nor lost beyond rewards.
        #[test]
        fn accepted_transactions_never_overdraw(
            steps in proptest::collection::vec((0usize..3, 0usize..3, 1u64..6000, any::<bool>()), 1..24)
        ) {
            let params = params(0);
            let mut ledger = Ledger::new(&params);
            let mut pool = TestPool::default();
            let mut blocks = 0u64;
            for (i, (from, to, centicoins, mine_now)) in steps.into_iter().enumerate() {
                let value = Amount::from_units(centicoins * 1_000_000).unwrap().to_string();
                let tx = pay(from, to, &value, &i.to_string());
                let accepted = check_stateless(&tx).is_ok() && check_contextual(&tx, &ledger, &pool).is_ok();
                if accepted {
                    let sender = tx.sender().wallet().unwrap().clone();
                    let spent = pool.pending_spend(&sender).checked_add(tx.amount()).unwrap();
                    prop_assert!(spent <= ledger.balance(&sender));
                    pool.spends.insert(sender, spent);
                    pool.txs.push(tx);
                }
                if mine_now {
                    let block = mine(&ledger, &params, std::mem::take(&mut pool.txs), NOW);
                    pool.spends.clear();
                    ledger.connect(&block, &params, NOW)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    blocks += 1;
                }
            }
            let total: u64 = KEYS.iter().map(|k| ledger.balance(k.address()).units()).sum();
            prop_assert_eq!(total, Amount::from_coins(100).unwrap().units() + blocks * params.reward.units());
        }
    }
}
