//! The protocol shared by the node and the wallet client.
//!
//! Everything here is pure: no I/O, no clock, no threads of its own (bar rayon for
//! parallel signature checks) and no randomness except what a caller passes in. The node
//! composes these rules with storage, time and networking; the client uses the wallet and
//! signing half.
//!
//! Validity comes in three layers, each with its own error type:
//!
//! 1. **structural** — parsing. [`Amount`], [`Address`] and [`Transaction`] cannot hold a
//!    malformed value ([`AmountError`], [`KeyError`], [`TxParseError`]);
//! 2. **stateless** — rules a transaction satisfies on its own: signature, sender ≠
//!    recipient, no minting ([`transaction::check_stateless`], [`TxError`]);
//! 3. **contextual** — rules against a read-only view of the chain and the pending pool:
//!    balance, replay ([`ledger::check_contextual`], [`LedgerError`]), and for blocks the
//!    link, proof of work, timestamps and reward ([`ledger::Ledger::check_block`],
//!    [`BlockError`]).

pub mod amount;
pub mod block;
pub mod chain;
pub mod confirmed;
pub mod genesis;
pub mod ledger;
pub mod merkle;
pub mod message;
pub mod pow;
mod signature;
pub mod transaction;
pub mod wallet;

pub use amount::{Amount, AmountError};
pub use block::{Block, BlockHash, BlockHeader, ClaimError};
pub use chain::{ChainError, ChainSummary, validate_branch, validate_chain, verify_blocks};
pub use genesis::{GenesisError, GenesisFile, NetworkParams};
pub use ledger::{BlockError, Ledger, LedgerError, PendingView, VerifiedBlock};
pub use pow::{Difficulty, DifficultyError, Work};
pub use transaction::{Sender, Transaction, TransactionJson, TxError, TxId, TxParseError};
pub use wallet::{Address, KeyError, PrivateKey, Wallet};

/// Re-exported so callers pass a random number generator of the version `rsa` expects.
pub use rsa::rand_core;

/// The sender name of minted coins (block rewards and genesis allocations), as in the
/// original design. It is refused as the sender of any submitted transaction.
pub const THE_BLOCKCHAIN: &str = "THE BLOCKCHAIN";
