//! The main chain as the node holds it: every header in memory, the newest blocks parsed
//! in a bounded cache, every body on disk.
//!
//! ```text
//!  headers   0 ─────────────────────────────────────────── tip    memory, ~150 B a block
//!  recent                                      ┌── cache ──┐      memory, ≤ CACHE_BYTES
//!  bodies    0 ─────────────────────────────────────────── tip    redb, read on demand
//! ```
//!
//! Memory then follows the ledger (balances, confirmed ids) and the header count, not the
//! payments ever made: a block's body is read back only when someone asks for it, and
//! `/chain` pages copy stored JSON without parsing it.

use std::collections::VecDeque;
use std::sync::Arc;

use blockchain_core::pow::HEADER_LEN;
use blockchain_core::{Block, BlockHash, BlockHeader, Work};
use bytes::Bytes;

use crate::keys::KeyCache;
use crate::storage::{Storage, StorageError};

/// JSON bytes of recent blocks kept parsed in memory (the tip is always kept).
const CACHE_BYTES: usize = 24 << 20;
/// Most blocks kept parsed in memory, however small.
pub(crate) const CACHE_BLOCKS: usize = 256;
/// Stored JSON read at a time when a plan is streamed (a chunk ends with the block that
/// reaches it). 512 KiB measured best for a 10.8 MB page against 256 KiB and 1 MiB.
const STREAM_CHUNK_BYTES: usize = 512 << 10;

/// A block with its JSON, serialized once when it joins the chain and served from then on,
/// and where each transaction's JSON sits in it (for the address index).
#[derive(Debug, Clone)]
pub struct StoredBlock {
    pub block: Arc<Block>,
    pub json: Bytes,
    /// Byte offset and length of each transaction's JSON in `json`; empty for a block read
    /// back from disk (see [`transaction_spans`]).
    pub spans: Arc<[(u32, u32)]>,
}

impl StoredBlock {
    /// Serializes `block` once, for storage and for every `/chain` answer after, noting
    /// where each transaction's JSON lands.
    pub fn new(block: Block) -> Self {
        let (json, spans) = block_json(&block);
        StoredBlock {
            block: Arc::new(block),
            json: Bytes::from(json),
            spans: spans.into(),
        }
    }

    /// A block read back from disk.
    fn read(block: Block, json: Bytes) -> Self {
        StoredBlock {
            block: Arc::new(block),
            json,
            spans: Arc::new([]),
        }
    }
}

impl From<Block> for StoredBlock {
    fn from(block: Block) -> Self {
        StoredBlock::new(block)
    }
}

impl std::borrow::Borrow<Block> for StoredBlock {
    fn borrow(&self) -> &Block {
        &self.block
    }
}

/// The fields core's `Serialize for Block` writes after the transactions, in its order.
#[derive(serde::Serialize)]
struct BlockTail<'a> {
    nonce: u64,
    previous_hash: &'a BlockHash,
    difficulty: blockchain_core::Difficulty,
    merkle_root: String,
    hash: &'a BlockHash,
}

/// Where each transaction's JSON sits in `stored`'s body: as noted when it was serialized,
/// or worked out again for a block read back from disk.
pub(crate) fn transaction_spans(stored: &StoredBlock) -> std::borrow::Cow<'_, [(u32, u32)]> {
    if stored.spans.len() == stored.block.transactions().len() {
        std::borrow::Cow::Borrowed(&stored.spans)
    } else {
        std::borrow::Cow::Owned(block_json(&stored.block).1)
    }
}

/// A block's JSON exactly as core serializes it, written in one pass so that each
/// transaction's place in it is known (the address index points there).
fn block_json(block: &Block) -> (Vec<u8>, Vec<(u32, u32)>) {
    use std::io::Write as _;
    let transactions = block.transactions();
    let mut json = Vec::with_capacity(256 + transactions.len() * 1100);
    write!(
        json,
        "{{\"block_number\":{},\"timestamp\":{},\"transactions\":[",
        block.number(),
        block.timestamp()
    )
    .expect("writing to a Vec");
    let mut spans = Vec::with_capacity(transactions.len());
    for (i, tx) in transactions.iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        let at = json.len();
        serde_json::to_writer(&mut json, tx).expect("transactions serialize");
        let span = |n: usize| u32::try_from(n).expect("blocks are far below 4 GiB");
        spans.push((span(at), span(json.len() - at)));
    }
    json.extend_from_slice(b"],");
    let tail = serde_json::to_vec(&BlockTail {
        nonce: block.nonce(),
        previous_hash: &block.previous_hash(),
        difficulty: block.difficulty(),
        merkle_root: hex::encode(block.header().merkle_root),
        hash: &block.hash(),
    })
    .expect("block fields serialize");
    json.extend_from_slice(&tail[1..]);
    (json, spans)
}

/// What the node keeps of every block: the header, its hash and its sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    pub header: BlockHeader,
    pub hash: BlockHash,
    pub transactions: u32,
    /// Transactions but the reward.
    pub payments: u32,
}

impl BlockInfo {
    pub fn of(block: &Block) -> Self {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        BlockInfo {
            header: *block.header(),
            hash: block.hash(),
            transactions: count(block.transactions().len()),
            payments: count(block.transactions().iter().filter(|t| !t.is_mint()).count()),
        }
    }

    pub fn number(&self) -> u64 {
        self.header.number
    }

    /// The stored form: the 96-byte header, then both counts.
    pub fn to_record(&self) -> Vec<u8> {
        let mut record = Vec::with_capacity(HEADER_LEN + 8);
        record.extend_from_slice(&self.header.to_bytes());
        record.extend_from_slice(&self.transactions.to_be_bytes());
        record.extend_from_slice(&self.payments.to_be_bytes());
        record
    }

    /// Reads [`BlockInfo::to_record`] back.
    pub fn from_record(record: &[u8]) -> Option<Self> {
        let header = BlockHeader::from_bytes(record.get(..HEADER_LEN)?.try_into().ok()?)?;
        let count = |at: usize| -> Option<u32> {
            Some(u32::from_be_bytes(record.get(at..at + 4)?.try_into().ok()?))
        };
        Some(BlockInfo {
            hash: header.hash(),
            header,
            transactions: count(HEADER_LEN)?,
            payments: count(HEADER_LEN + 4)?,
        })
    }
}

/// The main chain: headers, recent blocks, and the way to the rest on disk.
pub struct ChainBlocks {
    /// What plans made now hold on to; see [`ChainBlocks::truncate`].
    epoch: Arc<Epoch>,
    /// Fires once the current epoch and every plan holding it are gone.
    epoch_over: tokio::sync::oneshot::Receiver<()>,
    infos: Vec<BlockInfo>,
    recent: VecDeque<StoredBlock>,
    recent_bytes: usize,
    storage: Storage,
    keys: Arc<KeyCache>,
}

/// Blocks to serve as JSON, planned under the state lock and read after it is released.
pub struct JsonPlan {
    sources: Vec<JsonSource>,
    /// Keeps the bodies this plan names from being deleted until it is read.
    _epoch: Arc<Epoch>,
}

/// The chain between two reorgs. Dropped when the chain moves on and no plan made in it is
/// left, which tells the reorg that its abandoned bodies can go.
struct Epoch(Option<tokio::sync::oneshot::Sender<()>>);

impl Epoch {
    fn new() -> (Arc<Self>, tokio::sync::oneshot::Receiver<()>) {
        let (over, epoch_over) = tokio::sync::oneshot::channel();
        (Arc::new(Epoch(Some(over))), epoch_over)
    }
}

impl Drop for Epoch {
    fn drop(&mut self) {
        if let Some(over) = self.0.take() {
            let _ = over.send(());
        }
    }
}

enum JsonSource {
    Cached(Bytes),
    Stored(u64, [u8; 32]),
}

impl JsonPlan {
    /// The blocks' JSON, in order. Bodies are keyed by hash, and a reorg deletes the ones it
    /// abandons only once every plan made before it has been read or dropped.
    ///
    /// # Errors
    /// A storage failure, or a body that is missing.
    pub fn read(self, storage: &Storage) -> Result<Vec<Bytes>, StorageError> {
        read_sources(storage, &mut self.sources.into(), usize::MAX)
    }

    /// The blocks' JSON, read on the blocking pool: whole if it comes to at most
    /// `whole_bytes`, else what was read so far and a stream of the rest.
    ///
    /// `/chain` of a million payments is a gigabyte; read whole, it was the node's memory
    /// for as long as the answer took (1.4 GB). A page of 100 blocks is read whole: its
    /// parts are then sent as stored, with their length declared, which clients take
    /// faster than the same bytes streamed (8 ms against 10 ms a 10.8 MB page).
    ///
    /// # Errors
    /// A storage failure, or a body that is missing.
    pub async fn read_or_stream(
        self,
        storage: Storage,
        whole_bytes: usize,
    ) -> Result<PlanRead, StorageError> {
        let JsonPlan { sources, _epoch } = self;
        let (read, rest) = read_chunk(storage.clone(), sources.into(), whole_bytes)
            .await
            .unwrap_or_else(|e| Err(StorageError::reader_failed(&e.to_string())))?;
        if rest.is_empty() {
            return Ok(PlanRead::Whole(read));
        }
        // What was read goes out first, in chunks of the same size as the rest.
        let sources = read
            .into_iter()
            .map(JsonSource::Cached)
            .chain(rest)
            .collect();
        Ok(PlanRead::Streamed(Box::pin(chunks(
            storage, sources, _epoch,
        ))))
    }
}

/// A [`JsonPlan`], read.
pub enum PlanRead {
    /// Every block's JSON.
    Whole(Vec<Bytes>),
    /// The blocks' JSON in chunks, as it is read.
    Streamed(
        std::pin::Pin<
            Box<dyn futures_util::Stream<Item = Result<Vec<Bytes>, StorageError>> + Send>,
        >,
    ),
}

/// `sources`' JSON as chunks of about [`STREAM_CHUNK_BYTES`], each read on the blocking
/// pool while the one before it is sent, so reading the disk and writing the socket
/// overlap. `epoch` (keeping the bodies named from being deleted) lives until the stream
/// ends. A chunk that cannot be read ends the stream with the error.
fn chunks(
    storage: Storage,
    sources: VecDeque<JsonSource>,
    epoch: Arc<Epoch>,
) -> impl futures_util::Stream<Item = Result<Vec<Bytes>, StorageError>> + Send + 'static {
    let first = read_chunk(storage.clone(), sources, STREAM_CHUNK_BYTES);
    futures_util::stream::unfold(Some((first, storage, epoch)), |state| async move {
        let (pending, storage, epoch) = state?;
        let read = pending
            .await
            .unwrap_or_else(|e| Err(StorageError::reader_failed(&e.to_string())));
        Some(match read {
            Ok((chunk, rest)) if rest.is_empty() => (Ok(chunk), None),
            Ok((chunk, rest)) => {
                let next = read_chunk(storage.clone(), rest, STREAM_CHUNK_BYTES);
                (Ok(chunk), Some((next, storage, epoch)))
            }
            Err(error) => (Err(error), None),
        })
    })
}

type ChunkRead = tokio::task::JoinHandle<Result<(Vec<Bytes>, VecDeque<JsonSource>), StorageError>>;

/// Starts reading `sources` on the blocking pool (see [`read_sources`]); the answer holds
/// what was read and what is left.
fn read_chunk(storage: Storage, mut sources: VecDeque<JsonSource>, budget: usize) -> ChunkRead {
    tokio::task::spawn_blocking(move || {
        let chunk = read_sources(&storage, &mut sources, budget)?;
        Ok((chunk, sources))
    })
}

/// Takes sources from the front of `sources` and reads their JSON until `budget` bytes (the
/// block that reaches it included), stored bodies in one read transaction.
fn read_sources(
    storage: &Storage,
    sources: &mut VecDeque<JsonSource>,
    budget: usize,
) -> Result<Vec<Bytes>, StorageError> {
    let mut read = Vec::new();
    let mut bytes = 0;
    let mut reader = None;
    while bytes < budget {
        let Some(source) = sources.pop_front() else {
            break;
        };
        let json = match source {
            JsonSource::Cached(json) => json,
            JsonSource::Stored(number, hash) => {
                let reader = match &mut reader {
                    Some(reader) => reader,
                    None => reader.insert(storage.body_reader()?),
                };
                reader
                    .get(number, &hash)?
                    .ok_or_else(|| StorageError::missing(number))?
            }
        };
        bytes += json.len();
        read.push(json);
    }
    Ok(read)
}

impl ChainBlocks {
    /// The chain from its headers (genesis first), with the newest blocks read back into
    /// the cache.
    ///
    /// # Errors
    /// A storage failure, or a stored body that is missing or does not parse.
    pub fn open(
        infos: Vec<BlockInfo>,
        storage: Storage,
        keys: Arc<KeyCache>,
    ) -> Result<Self, StorageError> {
        let (epoch, epoch_over) = Epoch::new();
        let mut blocks = ChainBlocks {
            epoch,
            epoch_over,
            infos,
            recent: VecDeque::new(),
            recent_bytes: 0,
            storage,
            keys,
        };
        let mut newest = Vec::new();
        let mut bytes = 0;
        for info in blocks.infos.iter().rev().take(CACHE_BLOCKS) {
            if bytes > CACHE_BYTES {
                break;
            }
            let stored = blocks.get(info.number())?.expect("within the chain");
            bytes += stored.json.len();
            newest.push(stored);
        }
        for stored in newest.into_iter().rev() {
            blocks.cache(stored);
        }
        Ok(blocks)
    }

    /// Blocks in the chain, genesis included.
    pub fn len(&self) -> usize {
        self.infos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }

    pub fn info(&self, number: u64) -> Option<&BlockInfo> {
        self.infos.get(usize::try_from(number).ok()?)
    }

    /// Headers of blocks `from..to` (clamped to the chain).
    pub fn infos(&self, from: usize, to: usize) -> &[BlockInfo] {
        let to = to.min(self.infos.len());
        &self.infos[from.min(to)..to]
    }

    pub fn tip(&self) -> &StoredBlock {
        self.recent.back().expect("the tip is always cached")
    }

    /// Block `number`, from the cache or parsed from disk.
    ///
    /// # Errors
    /// A storage failure, or a stored body that does not parse.
    pub fn get(&self, number: u64) -> Result<Option<StoredBlock>, StorageError> {
        let Some(info) = self.info(number) else {
            return Ok(None);
        };
        if let Some(cached) = self.cached(number) {
            return Ok(Some(cached.clone()));
        }
        let json = self
            .storage
            .bodies(&[(number, info.hash.0)])?
            .pop()
            .flatten()
            .ok_or_else(|| StorageError::missing(number))?;
        let block = crate::wire::parse_block(&json, &self.keys)
            .map_err(|e| StorageError::corrupt(number, &e))?;
        // A copy, not the database's page: a cached block would keep its read transaction
        // open for as long as it is cached.
        Ok(Some(StoredBlock::read(
            block,
            Bytes::copy_from_slice(&json),
        )))
    }

    /// Blocks `from..to` (clamped), newest last.
    ///
    /// # Errors
    /// As [`ChainBlocks::get`].
    pub fn range(&self, from: u64, to: u64) -> Result<Vec<StoredBlock>, StorageError> {
        let to = to.min(self.infos.len() as u64);
        (from.min(to)..to)
            .map(|n| self.get(n).map(|b| b.expect("within the chain")))
            .collect()
    }

    /// The JSON of blocks `from..to` (clamped): cached bytes now, the rest to read after the
    /// caller lets go of the state.
    pub fn json_plan(&self, from: u64, to: u64) -> JsonPlan {
        let to = to.min(self.infos.len() as u64);
        self.json_plan_of(from.min(to)..to)
    }

    /// As [`ChainBlocks::json_plan`] for blocks `numbers` (each within the chain).
    pub fn json_plan_of(&self, numbers: impl IntoIterator<Item = u64>) -> JsonPlan {
        JsonPlan {
            sources: numbers
                .into_iter()
                .map(|n| match self.cached(n) {
                    Some(stored) => JsonSource::Cached(stored.json.clone()),
                    None => JsonSource::Stored(n, self.infos[n as usize].hash.0),
                })
                .collect(),
            _epoch: Arc::clone(&self.epoch),
        }
    }

    fn cached(&self, number: u64) -> Option<&StoredBlock> {
        let first = self.recent.front()?.block.number();
        let at = usize::try_from(number.checked_sub(first)?).ok()?;
        self.recent.get(at)
    }

    /// The work of the chain up to block `number`, given the tip's.
    pub fn work_at(&self, number: u64, tip_work: Work) -> Work {
        let from = usize::try_from(number.saturating_add(1)).unwrap_or(usize::MAX);
        self.infos(from, usize::MAX)
            .iter()
            .fold(tip_work, |work, info| {
                work.saturating_sub(info.header.difficulty.work())
            })
    }

    /// A block that joined the chain (its state is already stored).
    pub fn push(&mut self, stored: StoredBlock) {
        self.infos.push(BlockInfo::of(&stored.block));
        self.cache(stored);
    }

    /// Forgets blocks numbered `from` or more (a reorg). The answer fires once no plan
    /// made before is left, so their bodies can be deleted from disk then.
    pub fn truncate(&mut self, from: u64) -> tokio::sync::oneshot::Receiver<()> {
        let (epoch, epoch_over) = Epoch::new();
        drop(std::mem::replace(&mut self.epoch, epoch));
        let retired = std::mem::replace(&mut self.epoch_over, epoch_over);
        self.infos
            .truncate(usize::try_from(from).unwrap_or(usize::MAX));
        while self.recent.back().is_some_and(|b| b.block.number() >= from) {
            let gone = self.recent.pop_back().expect("checked");
            self.recent_bytes -= gone.json.len();
        }
        retired
    }

    fn cache(&mut self, stored: StoredBlock) {
        if self
            .recent
            .back()
            .is_some_and(|b| b.block.number() + 1 != stored.block.number())
        {
            self.recent.clear();
            self.recent_bytes = 0;
        }
        self.recent_bytes += stored.json.len();
        self.recent.push_back(stored);
        while self.recent.len() > 1
            && (self.recent_bytes > CACHE_BYTES || self.recent.len() > CACHE_BLOCKS)
        {
            let gone = self.recent.pop_front().expect("more than one");
            self.recent_bytes -= gone.json.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::ledger::reward_transaction;
    use blockchain_core::{Difficulty, NetworkParams, PrivateKey, Transaction};

    #[test]
    fn spans_find_each_transaction_and_records_round_trip() {
        let mut rng = rand::rng();
        let (a, b) = (
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        );
        let params = NetworkParams::default();
        let txs = vec![
            Transaction::sign(&a, b.address(), "1.5", Some("n1")).unwrap(),
            Transaction::sign(&a, b.address(), "2", None).unwrap(),
            reward_transaction(a.address(), &params, 3),
        ];
        let block = Block::new(
            3,
            9,
            Difficulty::new(2).unwrap(),
            BlockHash([4; 32]),
            txs,
            77,
        );
        let stored = StoredBlock::new(block.clone());
        assert_eq!(&stored.json[..], &serde_json::to_vec(&block).unwrap()[..]);
        assert_eq!(stored.spans.len(), 3);
        for (tx, &(at, len)) in block.transactions().iter().zip(stored.spans.iter()) {
            let slice = &stored.json[at as usize..(at + len) as usize];
            let back: Transaction = serde_json::from_slice(slice).unwrap();
            assert_eq!(&back, tx);
        }
        let read_back = StoredBlock::read(block.clone(), stored.json.clone());
        assert_eq!(&*transaction_spans(&read_back), &*stored.spans);
        let info = BlockInfo::of(&block);
        assert_eq!((info.transactions, info.payments), (3, 2));
        assert_eq!(BlockInfo::from_record(&info.to_record()), Some(info));
        assert_eq!(BlockInfo::from_record(&info.to_record()[..50]), None);
    }
}
