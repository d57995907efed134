//! The address index, in redb: where each address appears in the chain, so an address's
//! history (the explorer, the wallet's balance page, `/history`) costs the length of what
//! is asked for, not of the chain, and nothing of it lives in memory.
//!
//! ```text
//! key    address key (16) ‖ block (8, big-endian)
//! value  the block hash's first 8 bytes
//!        ‖ per transaction of that address in that block:
//!          index (4) ‖ offset (4) ‖ length (4) of its JSON in the block's body
//! ```
//!
//! One row per address per block keeps a block's commit small (a block names the same few
//! addresses many times). Keys of one address sort by block, so its newest rows are a
//! reverse range scan. The value points into the stored body, so the index stores no
//! transaction twice; the hash prefix lets a reader skip a row written by a reorg it has
//! not seen yet.

use blockchain_core::{Address, Block};
use sha2::{Digest, Sha256};

use crate::blocks::StoredBlock;
use crate::storage::{HISTORY_HEADER, HISTORY_ITEM, HISTORY_PREFIX, HistoryEntry, Write};

/// The index's name for an address: the first bytes of the SHA-256 of its DER key.
pub fn address_key(address: &Address) -> [u8; HISTORY_PREFIX] {
    let digest = Sha256::digest(address.as_der());
    digest[..HISTORY_PREFIX]
        .try_into()
        .expect("a digest is longer than the prefix")
}

fn row_key(prefix: &[u8; HISTORY_PREFIX], block: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(HISTORY_PREFIX + 8);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&block.to_be_bytes());
    key
}

/// Every address a transaction involves, once.
fn involved(tx: &blockchain_core::Transaction) -> impl Iterator<Item = &Address> {
    let sender = tx.sender().wallet();
    sender
        .into_iter()
        .chain((sender != Some(tx.recipient())).then(|| tx.recipient()))
}

/// The index rows of a block joining the chain.
pub fn additions(stored: &StoredBlock) -> Vec<Write> {
    let block = &stored.block;
    let hash = block.hash().0;
    // One row per address, in the order addresses first appear; items in block order.
    let mut rows: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut row_of: std::collections::HashMap<&Address, usize> = std::collections::HashMap::new();
    for ((index, tx), &(offset, len)) in block
        .transactions()
        .iter()
        .enumerate()
        .zip(crate::blocks::transaction_spans(stored).iter())
    {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        for address in involved(tx) {
            let at = *row_of.entry(address).or_insert_with(|| {
                let mut value = Vec::with_capacity(HISTORY_HEADER + HISTORY_ITEM);
                value.extend_from_slice(&hash[..HISTORY_HEADER]);
                rows.push((row_key(&address_key(address), block.number()), value));
                rows.len() - 1
            });
            let value = &mut rows[at].1;
            value.extend_from_slice(&index.to_be_bytes());
            value.extend_from_slice(&offset.to_be_bytes());
            value.extend_from_slice(&len.to_be_bytes());
        }
    }
    rows.into_iter()
        .map(|(key, value)| Write::PutHistory { key, value })
        .collect()
}

/// The index rows of a block a reorg abandons.
pub fn removals(block: &Block) -> Vec<Write> {
    let mut seen = std::collections::HashSet::new();
    block
        .transactions()
        .iter()
        .flat_map(involved)
        .filter(|address| seen.insert(*address))
        .map(|address| Write::RemoveHistory {
            key: row_key(&address_key(address), block.number()),
        })
        .collect()
}

/// A transaction's place, read from the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxPlace {
    pub block: u64,
    pub index: u32,
    /// Where its JSON sits in the block's body.
    pub offset: u32,
    pub len: u32,
    /// The first 8 bytes of the block's hash when the row was written.
    pub hash_prefix: [u8; 8],
}

impl TxPlace {
    /// The places a row lists, newest (highest index) first; none for a row that is not of
    /// this layout.
    pub fn all_of(entry: &HistoryEntry) -> Vec<Self> {
        let Some(block) = entry
            .key
            .get(HISTORY_PREFIX..HISTORY_PREFIX + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
        else {
            return Vec::new();
        };
        let Some(hash_prefix) = entry
            .value
            .get(..HISTORY_HEADER)
            .and_then(|h| h.try_into().ok())
        else {
            return Vec::new();
        };
        let word = |bytes: &[u8]| u32::from_be_bytes(bytes.try_into().expect("four bytes"));
        entry.value[HISTORY_HEADER..]
            .chunks_exact(HISTORY_ITEM)
            .rev()
            .map(|item| TxPlace {
                block,
                index: word(&item[..4]),
                offset: word(&item[4..8]),
                len: word(&item[8..12]),
                hash_prefix,
            })
            .collect()
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
                .flat_map(TxPlace::all_of)
                .map(|p| (p.block, p.index))
                .take(limit)
                .collect();
            (places, count)
        };
        assert_eq!(places(&a, 100).1, 5, "three payments and two rewards");
        assert_eq!(places(&b, 2), (vec![(2, 1), (2, 0)], 3));
        let (entries, _) = storage.history(&address_key(b.address()), 1).unwrap();
        let place = TxPlace::all_of(&entries[0])[0];
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
