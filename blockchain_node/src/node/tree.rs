//! What the node saw of blocks, kept to draw the block tree (`GET /blocks/tree`).
//!
//! ```text
//!  mined here / from a peer ──► best chain: when and from whom (memory, bounded)
//!  abandoned in a reorg      ──► stale: a record in redb (`stale_blocks`), in the same
//!  a peer's branch that lost ──►        commit as the switch, or on its own
//!                                       (the newest MAX_STALE kept, oldest dropped)
//! ```
//!
//! A stale record is the block's header fields, its transaction count and where it came
//! from: enough to draw it, not its body (the explorer shows the best chain).

use std::collections::{BTreeMap, HashMap, VecDeque};

use blockchain_api::TreeBlock;
use blockchain_core::Block;
use blockchain_core::pow::Difficulty;

use super::{Event, Node, StoredBlock, now_ms};
use crate::storage::{Storage, StorageError, Write};

/// Stale blocks kept at most; past it the oldest (by `first_seen`) go.
pub const MAX_STALE: usize = 1_000;
/// Best-chain blocks whose arrival is remembered at most.
const MAX_SEEN: usize = 10_000;
/// Announced blocks whose sender is remembered until they connect.
const MAX_SENDERS: usize = 1_024;

/// When this node first had a block, and from whom (a peer's URL or [`blockchain_api::MINED_HERE`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub first_seen: Option<u64>,
    pub from: Option<String>,
}

/// A block off the best chain, as the tree draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleBlock {
    pub previous: [u8; 32],
    pub difficulty: u32,
    pub transactions: u32,
    pub seen: Seen,
}

impl StaleBlock {
    fn of(block: &Block, seen: Seen) -> Self {
        StaleBlock {
            previous: block.previous_hash().0,
            difficulty: block.difficulty().bits(),
            transactions: u32::try_from(block.transactions().len()).unwrap_or(u32::MAX),
            seen,
        }
    }

    /// The stored form: previous hash, difficulty, transactions, first seen (0: unknown),
    /// then the sender's URL (empty: unknown).
    fn to_record(&self) -> Vec<u8> {
        let from = self.seen.from.as_deref().unwrap_or("");
        let mut record = Vec::with_capacity(48 + from.len());
        record.extend_from_slice(&self.previous);
        record.extend_from_slice(&self.difficulty.to_be_bytes());
        record.extend_from_slice(&self.transactions.to_be_bytes());
        record.extend_from_slice(&self.seen.first_seen.unwrap_or(0).to_be_bytes());
        record.extend_from_slice(from.as_bytes());
        record
    }

    fn from_record(record: &[u8]) -> Option<Self> {
        let u32_at = |at: usize| Some(u32::from_be_bytes(record.get(at..at + 4)?.try_into().ok()?));
        let first_seen = u64::from_be_bytes(record.get(40..48)?.try_into().ok()?);
        let from = std::str::from_utf8(record.get(48..)?).ok()?;
        Some(StaleBlock {
            previous: record.get(..32)?.try_into().ok()?,
            difficulty: u32_at(32)?,
            transactions: u32_at(36)?,
            seen: Seen {
                first_seen: (first_seen != 0).then_some(first_seen),
                from: (!from.is_empty()).then(|| from.to_owned()),
            },
        })
    }
}

/// The node's memory of arrivals and its stale blocks.
#[derive(Debug, Default)]
pub struct BlockTree {
    seen: HashMap<[u8; 32], Seen>,
    seen_order: VecDeque<[u8; 32]>,
    senders: HashMap<[u8; 32], String>,
    stale: BTreeMap<(u64, [u8; 32]), StaleBlock>,
}

impl BlockTree {
    /// The stale blocks kept in `storage`.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn load(storage: &Storage) -> Result<Self, StorageError> {
        let stale = storage
            .stale_blocks()?
            .into_iter()
            .filter_map(|(number, hash, record)| {
                Some(((number, hash), StaleBlock::from_record(&record)?))
            })
            .collect();
        Ok(BlockTree {
            stale,
            ..BlockTree::default()
        })
    }

    /// Notes that `peer` announced the block `hash`, for when it connects.
    pub fn note_sender(&mut self, hash: [u8; 32], peer: String) {
        if self.senders.len() >= MAX_SENDERS {
            self.senders.clear();
        }
        self.senders.insert(hash, peer);
    }

    /// The sender noted for `hash`, once.
    pub fn take_sender(&mut self, hash: &[u8; 32]) -> Option<String> {
        self.senders.remove(hash)
    }

    /// Notes a block joining the best chain now, from `from`; a stale block seen before
    /// keeps its first arrival (and is stale no more).
    pub fn arrived(&mut self, number: u64, hash: [u8; 32], from: Option<String>) {
        let seen = match self.stale.remove(&(number, hash)) {
            Some(stale) => stale.seen,
            None => Seen {
                first_seen: Some(now_ms()),
                from,
            },
        };
        self.remember(hash, seen);
    }

    fn remember(&mut self, hash: [u8; 32], seen: Seen) {
        if self.seen.insert(hash, seen).is_none() {
            self.seen_order.push_back(hash);
            if self.seen_order.len() > MAX_SEEN
                && let Some(old) = self.seen_order.pop_front()
            {
                self.seen.remove(&old);
            }
        }
    }

    pub fn seen(&self, hash: &[u8; 32]) -> Seen {
        self.seen.get(hash).cloned().unwrap_or_default()
    }

    pub fn is_stale(&self, number: u64, hash: &[u8; 32]) -> bool {
        self.stale.contains_key(&(number, *hash))
    }

    /// Keeps `blocks` as stale (each with when and whence it arrived), dropping the oldest
    /// past [`MAX_STALE`]; returns the writes that store the change.
    pub fn keep(
        &mut self,
        blocks: impl IntoIterator<Item = (u64, [u8; 32], StaleBlock)>,
    ) -> Vec<Write> {
        let mut writes = Vec::new();
        for (number, hash, block) in blocks {
            writes.push(Write::PutStale {
                number,
                hash,
                record: block.to_record(),
            });
            self.stale.insert((number, hash), block);
        }
        while self.stale.len() > MAX_STALE {
            let Some(&oldest) = self
                .stale
                .iter()
                .min_by_key(|(key, b)| (b.seen.first_seen.unwrap_or(0), key.0))
                .map(|(key, _)| key)
            else {
                break;
            };
            self.stale.remove(&oldest);
            writes.push(Write::RemoveStale {
                number: oldest.0,
                hash: oldest.1,
            });
        }
        writes
    }

    /// Stale blocks numbered `from` to `to`.
    pub fn stale_in(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = (&(u64, [u8; 32]), &StaleBlock)> {
        self.stale.range((from, [0; 32])..=(to, [0xff; 32]))
    }
}

fn work_of(bits: u32) -> String {
    Difficulty::new(bits).map_or_else(|_| "0".to_owned(), |d| d.work().to_string())
}

impl Node {
    fn tree(&self) -> std::sync::MutexGuard<'_, BlockTree> {
        self.tree
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes that `peer` announced the block `hash` (see `POST /blocks`).
    pub fn note_sender(&self, hash: [u8; 32], peer: String) {
        self.tree().note_sender(hash, peer);
    }

    /// Whether block `number` of our chain is `hash`.
    pub fn on_chain(&self, number: u64, hash: &[u8; 32]) -> bool {
        self.read()
            .blocks
            .info(number)
            .is_some_and(|info| info.hash.0 == *hash)
    }

    /// Whether the node knows the block `hash` at `number`: on its chain or kept as stale.
    pub fn knows_block(&self, number: u64, hash: &[u8; 32]) -> bool {
        self.on_chain(number, hash) || self.tree().is_stale(number, hash)
    }

    /// Notes blocks that joined the best chain from `from` (a peer's URL or
    /// [`MINED_HERE`]; `None`: the peer that announced it, if one did); returns the writes
    /// that forget any of them as stale.
    pub(super) fn note_arrivals<'a>(
        &self,
        blocks: impl IntoIterator<Item = &'a Block>,
        from: Option<&str>,
    ) -> Vec<Write> {
        let mut tree = self.tree();
        let mut writes = Vec::new();
        for block in blocks {
            let hash = block.hash().0;
            let from = from.map(str::to_owned).or_else(|| tree.take_sender(&hash));
            let was_stale = tree.is_stale(block.number(), &hash);
            tree.arrived(block.number(), hash, from);
            if was_stale {
                writes.push(Write::RemoveStale {
                    number: block.number(),
                    hash,
                });
            }
        }
        writes
    }

    /// The writes that keep `blocks` (abandoned from the best chain) as stale.
    pub(super) fn abandon(&self, blocks: &[StoredBlock]) -> Vec<Write> {
        let mut tree = self.tree();
        let kept: Vec<_> = blocks
            .iter()
            .map(|b| {
                let hash = b.block.hash().0;
                let seen = tree.seen(&hash);
                (b.block.number(), hash, StaleBlock::of(&b.block, seen))
            })
            .collect();
        tree.keep(kept)
    }

    /// Keeps a peer's valid blocks that lost to our chain as stale (from `peer`, first
    /// seen now), durably, and tells the dashboards.
    pub(crate) async fn keep_stale<'a>(
        &self,
        blocks: impl IntoIterator<Item = &'a Block>,
        peer: &str,
    ) {
        let at = now_ms();
        let new: Vec<(u64, [u8; 32], StaleBlock)> = blocks
            .into_iter()
            .filter(|b| !self.knows_block(b.number(), &b.hash().0))
            .map(|b| {
                let seen = Seen {
                    first_seen: Some(at),
                    from: Some(peer.to_owned()),
                };
                (b.number(), b.hash().0, StaleBlock::of(b, seen))
            })
            .collect();
        if new.is_empty() {
            return;
        }
        let events: Vec<(u64, [u8; 32])> = new.iter().map(|(n, h, _)| (*n, *h)).collect();
        let writes = self.tree().keep(new);
        if let Err(error) = self.storage.commit(writes).await {
            tracing::warn!(%error, "stale blocks not stored");
        }
        for (number, hash) in events {
            self.publish(Event::Stale { number, hash });
        }
    }

    /// The blocks numbered `from` to `to` that the node knows, oldest first, the best
    /// chain's first at each height; and the tip's hash.
    pub fn block_tree(&self, from: u64, to: u64) -> (String, Vec<TreeBlock>) {
        let state = self.read();
        let tree = self.tree();
        let tip = state.tip().block.hash().to_string();
        let top = to.min(state.height());
        let mut blocks = Vec::new();
        let mut stale = tree.stale_in(from, to).peekable();
        for number in from..=to {
            if number <= top
                && let Some(info) = state.blocks.info(number)
            {
                let seen = tree.seen(&info.hash.0);
                blocks.push(TreeBlock {
                    hash: info.hash.to_string(),
                    number,
                    previous_hash: info.header.previous_hash.to_string(),
                    difficulty: info.header.difficulty.bits(),
                    work: info.header.difficulty.work().to_string(),
                    best: true,
                    first_seen: seen.first_seen,
                    from: seen.from,
                    transactions: info.transactions,
                });
            }
            while let Some(((n, hash), block)) = stale.next_if(|((n, _), _)| *n == number) {
                if state.blocks.info(*n).is_some_and(|i| i.hash.0 == *hash) {
                    continue;
                }
                blocks.push(TreeBlock {
                    hash: hex::encode(hash),
                    number: *n,
                    previous_hash: hex::encode(block.previous),
                    difficulty: block.difficulty,
                    work: work_of(block.difficulty),
                    best: false,
                    first_seen: block.seen.first_seen,
                    from: block.seen.from.clone(),
                    transactions: block.transactions,
                });
            }
            if number > top && stale.peek().is_none() {
                break;
            }
        }
        (tip, blocks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stale(first_seen: u64) -> StaleBlock {
        StaleBlock {
            previous: [7; 32],
            difficulty: 3,
            transactions: 2,
            seen: Seen {
                first_seen: Some(first_seen),
                from: Some("http://10.0.0.2:5000".into()),
            },
        }
    }

    #[test]
    fn records_round_trip() {
        let block = stale(1_700_000_000_000);
        assert_eq!(StaleBlock::from_record(&block.to_record()), Some(block));
        let unknown = StaleBlock {
            seen: Seen::default(),
            ..stale(1)
        };
        assert_eq!(StaleBlock::from_record(&unknown.to_record()), Some(unknown));
        assert_eq!(StaleBlock::from_record(&[0; 47]), None);
    }

    #[test]
    fn keeps_the_newest_thousand() {
        let mut tree = BlockTree::default();
        let mut removed = Vec::new();
        for i in 0..(MAX_STALE as u64 + 5) {
            let mut hash = [0; 32];
            hash[..8].copy_from_slice(&i.to_be_bytes());
            for write in tree.keep([(i % 10, hash, stale(1_000 + i))]) {
                if let Write::RemoveStale { hash, .. } = write {
                    removed.push(u64::from_be_bytes(hash[..8].try_into().unwrap()));
                }
            }
        }
        assert_eq!(tree.stale.len(), MAX_STALE);
        assert_eq!(removed, vec![0, 1, 2, 3, 4], "the oldest go first");
    }

    #[test]
    fn the_bound_holds_on_disk_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let hash = |i: u64| {
            let mut hash = [0; 32];
            hash[..8].copy_from_slice(&i.to_be_bytes());
            hash
        };
        {
            let storage = Storage::open(dir.path()).unwrap();
            let mut tree = BlockTree::load(&storage).unwrap();
            // In two commits, as blocks arrive: the second pushes the first five out.
            let first = tree.keep((0..MAX_STALE as u64).map(|i| (i, hash(i), stale(1_000 + i))));
            storage.commit_blocking(first).unwrap();
            let more = (0..5).map(|i| {
                let i = MAX_STALE as u64 + i;
                (i, hash(i), stale(1_000 + i))
            });
            let second = tree.keep(more);
            assert_eq!(second.len(), 10, "five kept, five dropped");
            storage.commit_blocking(second).unwrap();
        }
        let storage = Storage::open(dir.path()).unwrap();
        let tree = BlockTree::load(&storage).unwrap();
        assert_eq!(tree.stale.len(), MAX_STALE);
        assert!(!tree.is_stale(4, &hash(4)), "the oldest went");
        assert!(tree.is_stale(5, &hash(5)));
        let newest = MAX_STALE as u64 + 4;
        assert_eq!(
            tree.stale_in(newest, newest).next().map(|(_, b)| b.clone()),
            Some(stale(1_000 + newest)),
            "kept whole: when and from whom"
        );
    }
}
