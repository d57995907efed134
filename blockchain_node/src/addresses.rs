//! Where each address appears in the chain, so an address's history (the explorer, the
//! wallet's balance page) costs the length of that history, not of the chain.
//!
//! ```text
//! block connected ─► add(block)            entries appended in chain order
//! reorg at fork   ─► remove(abandoned)     their entries are the newest: popped from the end
//! history(addr)   ─► newest first, paged
//! ```
//!
//! Kept in memory beside the ledger and rebuilt at start-up with it; about 40 bytes per
//! payment (two entries: sender and recipient).

use std::collections::HashMap;

use blockchain_core::{Address, Block};

/// A transaction's place: its block and its position there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxPlace {
    pub block: u64,
    pub index: u32,
}

#[derive(Debug, Default)]
pub struct AddressIndex {
    places: HashMap<Address, Vec<TxPlace>>,
}

impl AddressIndex {
    /// Notes every transaction of a block that joined the chain (after those before it).
    pub fn add(&mut self, block: &Block) {
        for (index, tx) in block.transactions().iter().enumerate() {
            let place = TxPlace {
                block: block.number(),
                index: u32::try_from(index).unwrap_or(u32::MAX),
            };
            if let Some(sender) = tx.sender().wallet() {
                self.places.entry(sender.clone()).or_default().push(place);
            }
            if tx.sender().wallet() != Some(tx.recipient()) {
                self.places
                    .entry(tx.recipient().clone())
                    .or_default()
                    .push(place);
            }
        }
    }

    /// Forgets the blocks a reorg abandoned, given newest first or in any order: their
    /// entries are the newest of each address they touch.
    pub fn remove<'a>(&mut self, abandoned: impl IntoIterator<Item = &'a Block>) {
        for block in abandoned {
            for tx in block.transactions() {
                for address in [tx.sender().wallet(), Some(tx.recipient())]
                    .into_iter()
                    .flatten()
                {
                    if let Some(places) = self.places.get_mut(address) {
                        places.retain(|p| p.block != block.number());
                        if places.is_empty() {
                            self.places.remove(address);
                        }
                    }
                }
            }
        }
    }

    /// The newest `limit` places of `address`, newest first, skipping `skip`.
    pub fn history(&self, address: &Address, skip: usize, limit: usize) -> Vec<TxPlace> {
        self.places.get(address).map_or_else(Vec::new, |places| {
            places
                .iter()
                .rev()
                .skip(skip)
                .take(limit)
                .copied()
                .collect()
        })
    }

    /// How many transactions involve `address`.
    pub fn count(&self, address: &Address) -> usize {
        self.places.get(address).map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::ledger::reward_transaction;
    use blockchain_core::{BlockHash, Difficulty, NetworkParams, PrivateKey, Transaction};

    #[test]
    fn history_is_newest_first_and_a_reorg_takes_its_blocks_back() {
        let mut rng = rand::rng();
        let (a, b) = (
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        );
        let params = NetworkParams::default();
        let block = |number: u64, payments: Vec<Transaction>| {
            let mut txs = payments;
            txs.push(reward_transaction(a.address(), &params, number));
            Block::new(
                number,
                0,
                Difficulty::new(1).unwrap(),
                BlockHash::default(),
                txs,
                0,
            )
        };
        let pay = |n: &str| Transaction::sign(&a, b.address(), "1", Some(n)).unwrap();
        let mut index = AddressIndex::default();
        let (one, two) = (block(1, vec![pay("1")]), block(2, vec![pay("2"), pay("3")]));
        index.add(&one);
        index.add(&two);
        assert_eq!(
            index.count(a.address()),
            5,
            "three payments and two rewards"
        );
        assert_eq!(index.count(b.address()), 3);
        let newest = index.history(b.address(), 0, 2);
        assert_eq!(
            newest,
            [
                TxPlace { block: 2, index: 1 },
                TxPlace { block: 2, index: 0 }
            ]
        );
        assert_eq!(
            index.history(b.address(), 2, 10),
            [TxPlace { block: 1, index: 0 }]
        );

        index.remove([&two]);
        assert_eq!(index.count(b.address()), 1);
        assert_eq!(index.count(a.address()), 2);
        index.remove([&one]);
        assert_eq!(index.count(b.address()), 0);
        assert!(index.places.is_empty());
    }
}
