//! Transactions into the pool: the signature checked, the rules applied against chain and
//! pool under the state lock, then made durable (the group committer batches them) before
//! the client hears yes.

use blockchain_core::ledger::{LedgerError, check_contextual};
use blockchain_core::transaction::check_stateless;
use blockchain_core::{Transaction, TxError};
use thiserror::Error;

use super::{ChainState, Event, Node};
use crate::pool::PoolError;
use crate::storage::{StorageError, Write};

/// A refused transaction.
#[derive(Debug, Error)]
pub enum SubmitError {
    #[error(transparent)]
    Invalid(#[from] TxError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Node {
    /// Validates a transaction and, if the rules allow it, makes it durable in the pool.
    /// Returns the number of the block it is expected in.
    ///
    /// # Errors
    /// [`SubmitError`]: a broken rule, a full pool, or a storage failure (then the
    /// transaction is not in the pool).
    pub async fn submit(&self, tx: Transaction) -> Result<u64, SubmitError> {
        check_stateless(&tx)?;
        // The JSON holds both addresses, the value, the nonce, the signature and the id in
        // hex: sized up front, it is written without growing.
        let capacity = 192
            + tx.sender().as_str().len()
            + tx.recipient().as_hex().len()
            + tx.value_text().len()
            + tx.nonce().map_or(0, str::len)
            + 2 * tx.signature().len();
        let mut json = Vec::with_capacity(capacity);
        serde_json::to_writer(&mut json, &tx).expect("transactions serialize");
        let (seq, next_block) = {
            let mut state = self.write();
            let seq = Self::admit(&mut state, &tx)?;
            (seq, state.height() + 1)
        };
        self.persist(vec![(seq, tx, json)]).await?;
        Ok(next_block)
    }

    /// As [`Node::submit`] for many transactions, each judged exactly as if submitted alone
    /// and in order (an earlier one's spend counts against a later one's balance);
    /// signatures are checked in parallel, off the async workers, and every accepted one
    /// is durable, in one commit, before this returns. One result per transaction, in order.
    pub async fn submit_many(&self, txs: Vec<Transaction>) -> Vec<Result<u64, SubmitError>> {
        let (txs, checks) = tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            let checks: Vec<Result<(), TxError>> = txs.par_iter().map(check_stateless).collect();
            (txs, checks)
        })
        .await
        .expect("verification does not panic");
        let mut results = Vec::with_capacity(txs.len());
        let mut accepted = Vec::new();
        {
            let mut state = self.write();
            let next_block = state.height() + 1;
            for (tx, check) in txs.into_iter().zip(checks) {
                let admitted = check
                    .map_err(SubmitError::from)
                    .and_then(|()| Self::admit(&mut state, &tx));
                match admitted {
                    Ok(seq) => {
                        results.push(Ok(next_block));
                        accepted.push((results.len() - 1, seq, tx));
                    }
                    Err(error) => results.push(Err(error)),
                }
            }
        }
        if accepted.is_empty() {
            return results;
        }
        let (indexes, entries): (Vec<usize>, Vec<_>) = accepted
            .into_iter()
            .map(|(i, seq, tx)| {
                let json = serde_json::to_vec(&tx).expect("transactions serialize");
                (i, (seq, tx, json))
            })
            .unzip();
        if let Err(error) = self.persist(entries).await {
            for i in indexes {
                results[i] = Err(SubmitError::Storage(error.clone()));
            }
        }
        results
    }

    /// The pool's rules for one transaction whose signature was checked: contextual
    /// validity against chain and pool, then a place in the pool.
    fn admit(state: &mut ChainState, tx: &Transaction) -> Result<u64, SubmitError> {
        check_contextual(tx, &state.ledger, &state.pool)?;
        Ok(state.pool.insert(tx.clone())?)
    }

    /// Makes admitted transactions durable (one commit), then tells the miner and the
    /// network; on a storage failure takes them out of the pool again.
    async fn persist(&self, entries: Vec<(u64, Transaction, Vec<u8>)>) -> Result<(), StorageError> {
        let (writes, txs): (Vec<Write>, Vec<Transaction>) = entries
            .into_iter()
            .map(|(seq, tx, json)| (Write::PutPoolTx { seq, json }, tx))
            .unzip();
        if let Err(error) = self.storage.commit(writes).await {
            let mut state = self.write();
            for tx in &txs {
                state.pool.remove(&tx.id());
            }
            return Err(error);
        }
        self.pool_changed.notify_waiters();
        for tx in txs {
            self.publish(Event::Transaction(tx));
        }
        Ok(())
    }
}
