//! The address index, in redb: where each address appears in the chain, so an address's
//! history (the explorer, the wallet's balance page, `/history`) costs the length of what
//! is asked for, not of the chain, and nothing of it lives in memory.
//!
//! ```text
//! key    address key (16) ‖ block (8, big-endian) ‖ index (4, big-endian)
//! value  offset (4) ‖ length (4) of the transaction's JSON in the block's body
//!        ‖ the block hash's first 8 bytes
//! ```
//!
//! Keys of one address sort by block, so its newest entries are a reverse range scan. The
//! value points into the stored body, so the index stores no transaction twice; the hash
//! prefix lets a reader skip an entry written by a reorg it has not seen yet.

use blockchain_core::{Address, Block};
use sha2::{Digest, Sha256};

use crate::blocks::StoredBlock;
use crate::storage::{HISTORY_PREFIX, HistoryEntry, Write};

/// The index's name for an address: the first bytes of the SHA-256 of its DER key.
pub fn address_key(address: &Address) -> [u8; HISTORY_PREFIX] {
    let digest = Sha256::digest(address.as_der());
    digest[..HISTORY_PREFIX]
        .try_into()
        .expect("a digest is longer than the prefix")
}

fn entry_key(address: &Address, block: u64, index: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(HISTORY_PREFIX + 12);
    key.extend_from_slice(&address_key(address));
    key.extend_from_slice(&block.to_be_bytes());
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// Every address a transaction involves, once.
fn involved(tx: &blockchain_core::Transaction) -> impl Iterator<Item = &Address> {
    let sender = tx.sender().wallet();
    sender
        .into_iter()
        .chain((sender != Some(tx.recipient())).then(|| tx.recipient()))
}

/// The index entries of a block joining the chain.
pub fn additions(stored: &StoredBlock) -> Vec<Write> {
    let block = &stored.block;
    let hash = block.hash().0;
    let mut writes = Vec::with_capacity(block.transactions().len() * 2);
    for ((index, tx), &(offset, len)) in block
        .transactions()
        .iter()
        .enumerate()
        .zip(stored.spans.iter())
    {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let mut value = Vec::with_capacity(16);
        value.extend_from_slice(&offset.to_be_bytes());
        value.extend_from_slice(&len.to_be_bytes());
        value.extend_from_slice(&hash[..8]);
        for address in involved(tx) {
            writes.push(Write::PutHistory {
                key: entry_key(address, block.number(), index),
                value: value.clone(),
            });
        }
    }
    writes
}

/// The index entries of a block a reorg abandons.
pub fn removals(block: &Block) -> Vec<Write> {
    let mut writes = Vec::with_capacity(block.transactions().len() * 2);
    for (index, tx) in block.transactions().iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        for address in involved(tx) {
            writes.push(Write::RemoveHistory {
                key: entry_key(address, block.number(), index),
            });
        }
    }
    writes
}

/// A transaction's place, read from the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxPlace {
    pub block: u64,
    pub index: u32,
    /// Where its JSON sits in the block's body.
    pub offset: u32,
    pub len: u32,
    /// The first 8 bytes of the block's hash when the entry was written.
    pub hash_prefix: [u8; 8],
}

impl TxPlace {
    /// Reads an entry; `None` for one that is not of this layout.
    pub fn of(entry: &HistoryEntry) -> Option<Self> {
        let key = entry.key.get(HISTORY_PREFIX..HISTORY_PREFIX + 12)?;
        let value = entry.value.get(..16)?;
        let word = |bytes: &[u8]| u32::from_be_bytes(bytes.try_into().expect("four bytes"));
        Some(TxPlace {
            block: u64::from_be_bytes(key[..8].try_into().ok()?),
            index: word(&key[8..12]),
            offset: word(&value[..4]),
            len: word(&value[4..8]),
            hash_prefix: value[8..16].try_into().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::ledger::reward_transaction;
    use blockchain_core::{BlockHash, Difficulty, NetworkParams, PrivateKey, Transaction};

    use crate::storage::Storage;

    #[tokio::test]
    async fn history_is_newest_first_and_a_reorg_takes_its_blocks_back() {
        let mut rng = rand::rng();
        let (a, b) = (
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        );
        let params = NetworkParams::default();
        let block = |number: u64, payments: Vec<Transaction>| {
            let mut txs = payments;
            txs.push(reward_transaction(a.address(), &params, number));
            StoredBlock::new(Block::new(
                number,
                0,
                Difficulty::new(1).unwrap(),
                BlockHash::default(),
                txs,
                0,
            ))
        };
        let pay = |n: &str| Transaction::sign(&a, b.address(), "1", Some(n)).unwrap();
        let (one, two) = (block(1, vec![pay("1")]), block(2, vec![pay("2"), pay("3")]));
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let mut writes = additions(&one);
        writes.extend(additions(&two));
        storage.commit(writes).await.unwrap();

        let places = |who: &PrivateKey, limit| {
            let (entries, count) = storage.history(&address_key(who.address()), limit).unwrap();
            let places: Vec<(u64, u32)> = entries
                .iter()
                .map(|e| TxPlace::of(e).map(|p| (p.block, p.index)).unwrap())
                .collect();
            (places, count)
        };
        assert_eq!(places(&a, 100).1, 5, "three payments and two rewards");
        assert_eq!(places(&b, 2), (vec![(2, 1), (2, 0)], 3));
        let (entries, _) = storage.history(&address_key(b.address()), 1).unwrap();
        let place = TxPlace::of(&entries[0]).unwrap();
        let json = &two.json[place.offset as usize..(place.offset + place.len) as usize];
        let tx: Transaction = serde_json::from_slice(json).unwrap();
        assert_eq!(&tx, &two.block.transactions()[1]);
        assert_eq!(place.hash_prefix, two.block.hash().0[..8]);

        storage.commit(removals(&two.block)).await.unwrap();
        assert_eq!(places(&b, 10), (vec![(1, 0)], 1));
        assert_eq!(places(&a, 10).1, 2);
        storage.commit(removals(&one.block)).await.unwrap();
        assert_eq!(places(&b, 10), (vec![], 0));
    }
}
