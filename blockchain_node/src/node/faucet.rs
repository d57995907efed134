//! The faucet's payment: a transaction from the node's own wallet, signed with the key
//! the node keeps in its data dir, into the pool like any other. It is confirmed with the
//! next block, so a student sees a real signed payment arrive, not coins from nowhere.
//!
//! ```text
//!  POST /faucet ─► limits (http::faucet) ─► Node::pay_from_own_wallet
//!                   key from the data dir ─► Transaction::sign ─► Node::submit ─► pool
//! ```

use blockchain_core::ledger::LedgerError;
use blockchain_core::{Address, Amount, PrivateKey, Transaction};
use rand::RngExt as _;
use thiserror::Error;

use super::{META_MINER_KEY, Node, SubmitError};

/// Why the faucet could not pay.
#[derive(Debug, Error)]
pub enum FaucetError {
    /// The node's wallet holds less than the faucet pays (pending payments counted).
    #[error(
        "the faucet is empty: the node's wallet has {have} available but the faucet pays {need}; the operator mines blocks to the node's wallet to fill it"
    )]
    Empty { have: Amount, need: Amount },
    /// The rewards go to another address and the node's wallet cannot be read.
    #[error("the node's wallet key is unreadable: {0}")]
    Key(String),
    #[error(transparent)]
    Submit(SubmitError),
}

impl Node {
    /// Pays `amount` from the node's own wallet to `recipient`: signed here, into the pool.
    /// Returns the transaction and the block it is expected in.
    ///
    /// # Errors
    /// [`FaucetError::Empty`] when the wallet cannot cover it; the pool's refusals.
    pub async fn pay_from_own_wallet(
        &self,
        recipient: &Address,
        amount: Amount,
    ) -> Result<(Transaction, u64), FaucetError> {
        let key = self.own_key()?;
        let nonce = format!("faucet-{:016x}", rand::rng().random::<u64>());
        let value = amount.to_string();
        let recipient = recipient.clone();
        // RSA signing takes a few milliseconds: off the async workers.
        let tx = tokio::task::spawn_blocking(move || {
            Transaction::sign(&key, &recipient, &value, Some(&nonce))
        })
        .await
        .map_err(|e| FaucetError::Key(e.to_string()))?
        .map_err(|e| FaucetError::Key(e.to_string()))?;
        match self.submit(tx.clone()).await {
            Ok(block) => Ok((tx, block)),
            Err(SubmitError::Ledger(LedgerError::InsufficientFunds { have, need })) => {
                Err(FaucetError::Empty { have, need })
            }
            Err(other) => Err(FaucetError::Submit(other)),
        }
    }

    /// The node's wallet key, read from the data dir when the faucet pays (it is not kept
    /// in memory between payments).
    fn own_key(&self) -> Result<PrivateKey, FaucetError> {
        let stored = self
            .storage
            .meta(META_MINER_KEY)
            .map_err(|e| FaucetError::Key(e.to_string()))?
            .ok_or_else(|| FaucetError::Key("no key stored".to_owned()))?;
        PrivateKey::from_hex(&String::from_utf8_lossy(&stored))
            .map_err(|e| FaucetError::Key(e.to_string()))
    }
}
