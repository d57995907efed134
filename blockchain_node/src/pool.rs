//! The pending pool: validated transactions waiting for a block.
//!
//! ```text
//!  submit ─► check_stateless ─► check_contextual(ledger, pool) ─► PendingPool::insert
//!                                                                       │
//!  block connected ─► remove_confirmed + revalidate ◄───────────────────┘
//!  reorg           ─► reinject(orphans) + remove_confirmed + revalidate
//! ```
//!
//! The pool does not validate; the node does, with the core rules, before `insert`. The
//! pool only keeps order (first come, first mined), the sum each sender already spends
//! (so a balance cannot be promised twice), its capacity, and each sender's share of it:
//! no sender holds more than `sender_limit` places (as geth's per-account slots), so one
//! funded wallet cannot fill the pool and lock everyone else out until the next block.

use std::collections::{BTreeMap, HashMap};

use blockchain_core::transaction::check_stateless;
use blockchain_core::{Address, Amount, Ledger, PendingView, Transaction, TxId};

/// Why the pool did not take a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("the pending pool is full ({capacity} transactions); try again after the next block")]
    Full { capacity: usize },
    #[error(
        "this sender already has {limit} pending transactions, the most one sender may have in this node's pool; try again after the next block"
    )]
    SenderFull { limit: usize },
}

/// Pending transactions in arrival order. Each has a sequence number, its storage key.
#[derive(Debug)]
pub struct PendingPool {
    capacity: usize,
    sender_limit: usize,
    next_seq: u64,
    by_seq: BTreeMap<u64, Transaction>,
    seq_of: HashMap<TxId, u64>,
    spends: HashMap<Address, Amount>,
    /// Pending transactions per sender.
    counts: HashMap<Address, usize>,
}

impl PendingView for PendingPool {
    fn pending_spend(&self, address: &Address) -> Amount {
        self.spends.get(address).copied().unwrap_or_default()
    }
    fn contains(&self, id: &TxId) -> bool {
        self.seq_of.contains_key(id)
    }
}

impl PendingPool {
    /// A pool of `capacity` transactions of which one sender may hold `sender_limit`.
    pub fn new(capacity: usize, sender_limit: usize) -> Self {
        PendingPool {
            capacity,
            sender_limit: sender_limit.max(1),
            next_seq: 0,
            by_seq: BTreeMap::new(),
            seq_of: HashMap::new(),
            spends: HashMap::new(),
            counts: HashMap::new(),
        }
    }

    /// The default share of one sender: a tenth of the pool.
    pub fn default_sender_limit(capacity: usize) -> usize {
        (capacity / 10).max(1)
    }

    pub fn len(&self) -> usize {
        self.by_seq.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_seq.is_empty()
    }

    /// Adds a transaction the node has validated against this pool; returns its sequence.
    ///
    /// # Errors
    /// [`PoolError`] at capacity, or when the sender holds its whole share.
    pub fn insert(&mut self, tx: Transaction) -> Result<u64, PoolError> {
        if self.by_seq.len() >= self.capacity {
            return Err(PoolError::Full {
                capacity: self.capacity,
            });
        }
        if let Some(sender) = tx.sender().wallet()
            && self.counts.get(sender).copied().unwrap_or(0) >= self.sender_limit
        {
            return Err(PoolError::SenderFull {
                limit: self.sender_limit,
            });
        }
        let seq = self.next_seq;
        self.insert_at(seq, tx);
        Ok(seq)
    }

    /// Restores a stored transaction under its stored sequence number.
    pub fn insert_at(&mut self, seq: u64, tx: Transaction) {
        self.next_seq = self.next_seq.max(seq + 1);
        if let Some(sender) = tx.sender().wallet() {
            let spent = self
                .pending_spend(sender)
                .checked_add(tx.amount())
                .unwrap_or(Amount::MAX);
            self.spends.insert(sender.clone(), spent);
            *self.counts.entry(sender.clone()).or_default() += 1;
        }
        self.seq_of.insert(tx.id(), seq);
        self.by_seq.insert(seq, tx);
    }

    /// Removes one transaction; returns its sequence number if it was here.
    pub fn remove(&mut self, id: &TxId) -> Option<u64> {
        let seq = self.seq_of.remove(id)?;
        let tx = self.by_seq.remove(&seq).expect("indexes agree");
        if let Some(sender) = tx.sender().wallet() {
            let left = self
                .pending_spend(sender)
                .checked_sub(tx.amount())
                .unwrap_or_default();
            if left == Amount::ZERO {
                self.spends.remove(sender);
            } else {
                self.spends.insert(sender.clone(), left);
            }
            if let Some(count) = self.counts.get_mut(sender) {
                *count -= 1;
                if *count == 0 {
                    self.counts.remove(sender);
                }
            }
        }
        Some(seq)
    }

    /// The oldest `limit` transactions, for a block.
    pub fn oldest(&self, limit: usize) -> Vec<Transaction> {
        self.by_seq.values().take(limit).cloned().collect()
    }

    /// Every pending transaction, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Transaction> {
        self.by_seq.values()
    }

    /// The sequence number (storage key) of a pending transaction.
    pub fn seq_of(&self, id: &TxId) -> Option<u64> {
        self.seq_of.get(id).copied()
    }

    pub fn get(&self, id: &TxId) -> Option<&Transaction> {
        self.seq_of.get(id).and_then(|seq| self.by_seq.get(seq))
    }

    /// What the pool sends to and from `address`: (incoming, outgoing).
    pub fn flows(&self, address: &Address) -> (Amount, Amount) {
        let incoming = self
            .by_seq
            .values()
            .filter(|tx| tx.recipient() == address)
            .fold(Amount::ZERO, |sum, tx| {
                sum.checked_add(tx.amount()).unwrap_or(Amount::MAX)
            });
        (incoming, self.pending_spend(address))
    }

    /// After the ledger changed (a block, a reorg): drops what the chain now holds and
    /// what it no longer funds, keeping arrival order. Returns the dropped sequences.
    pub fn revalidate(&mut self, ledger: &Ledger) -> Vec<u64> {
        let entries = std::mem::take(&mut self.by_seq);
        self.seq_of.clear();
        self.spends.clear();
        self.counts.clear();
        let mut dropped = Vec::new();
        for (seq, tx) in entries {
            if blockchain_core::ledger::check_contextual(&tx, ledger, self).is_ok() {
                self.insert_at(seq, tx);
            } else {
                dropped.push(seq);
            }
        }
        dropped
    }

    /// Puts transactions of abandoned blocks back, if still valid against `ledger`.
    /// Returns the (sequence, transaction) pairs added.
    pub fn reinject(
        &mut self,
        orphans: Vec<Transaction>,
        ledger: &Ledger,
    ) -> Vec<(u64, Transaction)> {
        let mut added = Vec::new();
        for tx in orphans {
            if tx.is_mint() || self.by_seq.len() >= self.capacity {
                continue;
            }
            // Orphans were verified when their block was; re-checking the signature is cheap
            // insurance against a bug elsewhere, since orphans are few.
            if check_stateless(&tx).is_ok()
                && blockchain_core::ledger::check_contextual(&tx, ledger, self).is_ok()
            {
                let seq = self.next_seq;
                self.insert_at(seq, tx.clone());
                added.push((seq, tx));
            }
        }
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::{NetworkParams, PrivateKey};

    #[test]
    fn tracks_spends_order_and_capacity() {
        let mut rng = rand::rng();
        let (a, b) = (
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        );
        let mut pool = PendingPool::new(2, 2);
        let t1 = Transaction::sign(&a, b.address(), "3", Some("1")).unwrap();
        let t2 = Transaction::sign(&a, b.address(), "4", Some("2")).unwrap();
        let t3 = Transaction::sign(&a, b.address(), "5", Some("3")).unwrap();
        pool.insert(t1.clone()).unwrap();
        pool.insert(t2.clone()).unwrap();
        assert_eq!(pool.insert(t3), Err(PoolError::Full { capacity: 2 }));
        assert_eq!(
            pool.pending_spend(a.address()),
            Amount::from_coins(7).unwrap()
        );
        assert_eq!(pool.flows(b.address()).0, Amount::from_coins(7).unwrap());
        assert_eq!(pool.oldest(1), vec![t1.clone()]);
        pool.remove(&t1.id()).unwrap();
        assert_eq!(
            pool.pending_spend(a.address()),
            Amount::from_coins(4).unwrap()
        );

        // Nothing funds `a` on a fresh chain: revalidation drops its spend.
        let dropped = pool.revalidate(&Ledger::new(&NetworkParams::default()));
        assert_eq!(dropped.len(), 1);
        assert!(pool.is_empty());
        assert_eq!(pool.pending_spend(a.address()), Amount::ZERO);
    }

    #[test]
    fn no_sender_holds_more_than_its_share_and_a_block_frees_it() {
        let mut rng = rand::rng();
        let (a, b) = (
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        );
        let pay = |from: &PrivateKey, n: u32| {
            Transaction::sign(from, b.address(), "1", Some(&n.to_string())).unwrap()
        };
        let mut pool = PendingPool::new(10, 2);
        let first = pay(&a, 1);
        pool.insert(first.clone()).unwrap();
        pool.insert(pay(&a, 2)).unwrap();
        assert_eq!(
            pool.insert(pay(&a, 3)),
            Err(PoolError::SenderFull { limit: 2 })
        );
        // Others are unaffected.
        pool.insert(pay(&b, 4)).unwrap();
        // A confirmed transaction frees its sender's place.
        pool.remove(&first.id()).unwrap();
        pool.insert(pay(&a, 5)).unwrap();
        assert_eq!(PendingPool::default_sender_limit(100_000), 10_000);
        assert_eq!(PendingPool::default_sender_limit(5), 1);
    }
}
