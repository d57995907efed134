//! Durable storage in redb, with group commit.
//!
//! One writer thread owns every write. Callers send it a batch of [`Write`]s and wait for
//! the answer; the thread gathers whatever batches arrived meanwhile into one redb
//! transaction and commits it with an fsync, then answers them all. A caller that got `Ok`
//! knows its writes are on disk — that is what lets the API answer 201 only for durable
//! transactions — while a burst of submissions shares one fsync instead of paying one each.
//!
//! The chain is kept as state, not only as blocks: each block's commit also writes its
//! header, the balances it changed, the ids it confirmed and its address index entries, so
//! start-up reads headers, balances and ids (no replay), and block bodies stay on disk
//! until someone asks for them.
//!
//! The pending pool is not in redb but in its own append-only journal (`crate::journal`):
//! a group holding only submissions is one write and one fdatasync. A group that also
//! changes the chain writes in the order that keeps a crash harmless: the pool's new
//! entries (synced), then the redb commit, then the pool's removals. A crash between two
//! steps leaves the pool holding a transaction the chain already confirmed, which start-up
//! drops, never a chain that confirmed what the pool lost.
//!
//! Why redb: pure Rust (no C toolchain, ~20 s to build against ~66 s for bundled SQLite),
//! crash-safe copy-on-write B-trees with a simple typed API, and durable commits at
//! about 0.13 ms each here.

use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::journal::{Change, Journal};
use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use thiserror::Error;
use tokio::sync::oneshot;

/// Block bodies (their JSON) by number and hash: `number (8, big-endian) ‖ hash (32)`. The
/// hash in the key lets a reorg write the new branch while readers still find the bodies
/// of the blocks they were shown; the abandoned bodies are deleted a little later.
const BODIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("bodies");
/// The main chain's headers by number: what start-up reads instead of the bodies.
const HEADERS: TableDefinition<u64, &[u8]> = TableDefinition::new("headers");
/// Confirmed balances by address (hex), in units.
const BALANCES: TableDefinition<&str, u64> = TableDefinition::new("balances");
/// The ids each main-chain block confirms, 32 bytes each, by block number: what stops
/// replays. One row a block keeps a block's commit to one insert and start-up to a
/// sequential read.
const BLOCK_IDS: TableDefinition<u64, &[u8]> = TableDefinition::new("block_ids");
/// The address index: `address key ‖ block` to where that address's transactions sit in the
/// block's body (see `crate::addresses`).
const HISTORY: TableDefinition<&[u8], &[u8]> = TableDefinition::new("history");
/// How many index entries each address key has.
const HISTORY_COUNTS: TableDefinition<&[u8], u64> = TableDefinition::new("history_counts");
/// Before the state tables: whole blocks by number, replayed at every start. Read once to
/// migrate, then dropped.
const LEGACY_BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// Where the pool was before its journal: moved into the journal once, at start-up.
const LEGACY_POOL: TableDefinition<u64, &[u8]> = TableDefinition::new("pool");
const PEERS: TableDefinition<&str, ()> = TableDefinition::new("peers");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// redb's page cache. Its default (1 GiB) would let reading the state at start-up and
/// serving old blocks grow the node by that much; the node keeps what it reads often in
/// its own structures, so a small cache costs little.
const CACHE_BYTES: usize = 64 << 20;

/// Most batches folded into one commit.
const MAX_BATCHES_PER_COMMIT: usize = 4096;

/// A storage failure. The node treats it as fatal for the request at hand and reports it
/// without detail to clients. Cheap to clone (one commit's failure answers every request
/// in it): the underlying errors are shared.
#[derive(Debug, Clone, Error)]
pub enum StorageError {
    #[error("storage: {0}")]
    Database(#[source] Arc<redb::DatabaseError>),
    #[error("storage: {0}")]
    Transaction(#[source] Arc<redb::TransactionError>),
    #[error("storage: {0}")]
    Table(#[source] Arc<redb::TableError>),
    #[error("storage: {0}")]
    Storage(#[source] Arc<redb::StorageError>),
    #[error("storage: {0}")]
    Commit(#[source] Arc<redb::CommitError>),
    #[error("storage: cannot create {}: {source}", path.display())]
    CreateDir {
        path: std::path::PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    #[error("storage: cannot open the pool journal: {0}")]
    OpenJournal(#[source] Arc<std::io::Error>),
    #[error("storage: pool journal: {0}")]
    Journal(#[source] Arc<std::io::Error>),
    #[error("storage: the pool journal's lock was poisoned")]
    JournalPoisoned,
    #[error("storage: cannot start the writer thread: {0}")]
    StartWriter(#[source] Arc<std::io::Error>),
    #[error("storage: writer thread stopped")]
    WriterStopped,
    /// A block of the main chain whose body is not stored.
    #[error("storage: block {0}'s body is missing")]
    MissingBody(u64),
    /// A reading task that did not finish (it panicked).
    #[error("storage: reading stored blocks failed: {0}")]
    ReaderFailed(String),
    /// A stored block that does not parse.
    #[error("storage: stored block {number} is unreadable: {reason}")]
    Corrupt { number: u64, reason: String },
}

impl StorageError {
    /// A block of the main chain whose body is not stored.
    pub fn missing(number: u64) -> Self {
        StorageError::MissingBody(number)
    }

    /// A reading task that did not finish (it panicked).
    pub fn reader_failed(reason: &str) -> Self {
        StorageError::ReaderFailed(reason.to_owned())
    }

    /// A stored block that does not parse.
    pub fn corrupt(number: u64, reason: &str) -> Self {
        StorageError::Corrupt {
            number,
            reason: reason.to_owned(),
        }
    }
}

macro_rules! from_redb {
    ($($error:ty => $variant:ident),*) => {$(
        impl From<$error> for StorageError {
            fn from(e: $error) -> Self {
                StorageError::$variant(Arc::new(e))
            }
        }
    )*};
}
from_redb!(
    redb::DatabaseError => Database,
    redb::TransactionError => Transaction,
    redb::TableError => Table,
    redb::StorageError => Storage,
    redb::CommitError => Commit
);

/// A body's key: number, then hash.
fn body_key(number: u64, hash: &[u8; 32]) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..8].copy_from_slice(&number.to_be_bytes());
    key[8..].copy_from_slice(hash);
    key
}

/// One change to the database.
#[derive(Debug)]
pub enum Write {
    PutBody {
        number: u64,
        hash: [u8; 32],
        json: Bytes,
    },
    RemoveBody {
        number: u64,
        hash: [u8; 32],
    },
    PutHeader {
        number: u64,
        record: Vec<u8>,
    },
    /// Deletes every header numbered `from` or more (a reorg's abandoned branch).
    TruncateHeaders {
        from: u64,
    },
    /// Sets an address's confirmed balance; zero deletes it.
    SetBalance {
        address: Box<str>,
        units: u64,
    },
    /// The ids block `block` confirms, concatenated.
    PutBlockIds {
        block: u64,
        ids: Vec<u8>,
    },
    /// Deletes the ids of every block numbered `from` or more (a reorg).
    TruncateBlockIds {
        from: u64,
    },
    /// Adds an address index row (and counts its transactions for its address: the key's
    /// first [`HISTORY_PREFIX`] bytes).
    PutHistory {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    RemoveHistory {
        key: Vec<u8>,
    },
    PutPoolTx {
        seq: u64,
        json: Vec<u8>,
    },
    RemovePoolTx {
        seq: u64,
    },
    PutPeer(String),
    RemovePeer(String),
    PutMeta {
        key: &'static str,
        value: Vec<u8>,
    },
    /// Drops the pre-state-table block table once its blocks were migrated.
    DropLegacyBlocks,
}

/// Bytes of a history key that name the address.
pub const HISTORY_PREFIX: usize = 16;
/// A history row's value: a header of this many bytes, then one item a transaction.
pub const HISTORY_HEADER: usize = 8;
/// Bytes of one transaction's item in a history row.
pub const HISTORY_ITEM: usize = 12;

/// How many transactions a history row lists.
fn history_items(value: &[u8]) -> i64 {
    i64::try_from(value.len().saturating_sub(HISTORY_HEADER) / HISTORY_ITEM).unwrap_or(0)
}

struct Batch {
    writes: Vec<Write>,
    done: oneshot::Sender<Result<(), StorageError>>,
}

/// The pool and peers, read once at start.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub pool: Vec<(u64, Vec<u8>)>,
    pub peers: Vec<String>,
}

/// A stored body, read in place.
struct StoredBody(redb::OwnedAccessGuard<&'static [u8]>);

/// Block bodies as of one read transaction.
///
/// Each body is the database's own page, not a copy: a `/chain` page is 10 MB, and copying
/// it cost more than sending it. A body keeps its read transaction alive (so the pages it
/// is on are not reused) until dropped: hold one only as long as a request lasts.
pub struct BodyReader {
    table: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
    _txn: redb::ReadTransaction,
}

impl BodyReader {
    /// The body of block `number` with `hash`; `None` if it is not stored.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn get(&self, number: u64, hash: &[u8; 32]) -> Result<Option<Bytes>, StorageError> {
        Ok(self
            .table
            .get_owned(&body_key(number, hash)[..])?
            .map(|body| Bytes::from_owner(StoredBody(body))))
    }
}

impl AsRef<[u8]> for StoredBody {
    fn as_ref(&self) -> &[u8] {
        self.0.value()
    }
}

/// One address index entry, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// Handle to the database and its writer thread. Dropping the last handle stops the
/// thread and closes the database, so the same directory can be opened again.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Database>,
    journal: Arc<Mutex<Journal>>,
    path: std::path::PathBuf,
    writer: Mutex<Option<mpsc::Sender<Batch>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        drop(self.writer.get_mut().ok().and_then(Option::take));
        if let Some(thread) = self.thread.get_mut().ok().and_then(Option::take) {
            let _ = thread.join();
        }
    }
}

/// A handle that does not keep the database open: for work that may outlive the node.
pub struct WeakStorage(std::sync::Weak<Inner>);

impl WeakStorage {
    /// As [`Storage::commit`] while the node still has the database open; `None` once it
    /// closed it. The database is held only while the writes are handed over, so clean-up
    /// that runs late never keeps a closed node's data dir locked.
    pub async fn commit(&self, writes: Vec<Write>) -> Option<Result<(), StorageError>> {
        let answer = match (Storage {
            inner: self.0.upgrade()?,
        })
        .send(writes)
        {
            Ok(answer) => answer,
            Err(error) => return Some(Err(error)),
        };
        Some(answer.await.unwrap_or_else(|_| Err(Storage::stopped())))
    }
}

impl Storage {
    pub fn downgrade(&self) -> WeakStorage {
        WeakStorage(Arc::downgrade(&self.inner))
    }

    /// Opens (or creates) the database in `dir` and starts the writer thread.
    ///
    /// # Errors
    /// When the directory or database cannot be opened.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::CreateDir {
            path: dir.to_owned(),
            source: Arc::new(e),
        })?;
        let path = dir.join("chain.redb");
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)?;
        let db = Arc::new(db);
        {
            let txn = begin_write(&db)?;
            txn.open_table(BODIES)?;
            txn.open_table(HEADERS)?;
            txn.open_table(BALANCES)?;
            txn.open_table(BLOCK_IDS)?;
            txn.open_table(HISTORY)?;
            txn.open_table(HISTORY_COUNTS)?;
            txn.open_table(LEGACY_POOL)?;
            txn.open_table(PEERS)?;
            txn.open_table(META)?;
            txn.commit()?;
        }
        let journal = Journal::open(dir).map_err(|e| StorageError::OpenJournal(Arc::new(e)))?;
        let journal = Arc::new(Mutex::new(journal));
        move_legacy_pool(&db, &journal)?;
        let (writer, batches) = mpsc::channel();
        let (thread_db, thread_journal) = (Arc::clone(&db), Arc::clone(&journal));
        let thread = std::thread::Builder::new()
            .name("storage-writer".into())
            .spawn(move || write_loop(&thread_db, &thread_journal, &batches))
            .map_err(|e| StorageError::StartWriter(Arc::new(e)))?;
        Ok(Storage {
            inner: Arc::new(Inner {
                db,
                journal,
                path,
                writer: Mutex::new(Some(writer)),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Writes `writes` atomically and durably; returns once they are on disk.
    ///
    /// # Errors
    /// When the commit failed; then none of the writes happened.
    pub async fn commit(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        let answer = self.send(writes)?;
        answer.await.map_err(|_| Self::stopped())?
    }

    fn stopped() -> StorageError {
        StorageError::WriterStopped
    }

    /// Hands `writes` to the writer thread; the answer comes when they are on disk.
    fn send(
        &self,
        writes: Vec<Write>,
    ) -> Result<oneshot::Receiver<Result<(), StorageError>>, StorageError> {
        let (done, answer) = oneshot::channel();
        self.inner
            .writer
            .lock()
            .map_err(|_| Self::stopped())?
            .as_ref()
            .ok_or_else(Self::stopped)?
            .send(Batch { writes, done })
            .map_err(|_| Self::stopped())?;
        Ok(answer)
    }

    /// Blocking variant of [`Storage::commit`], for start-up.
    ///
    /// # Errors
    /// As [`Storage::commit`].
    pub fn commit_blocking(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        commit_group(&self.inner.db, &self.inner.journal, writes)
    }

    /// Reads the pool and the peers.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn snapshot(&self) -> Result<Snapshot, StorageError> {
        let mut snapshot = Snapshot {
            pool: lock(&self.inner.journal)?
                .entries()
                .map_err(journal_error)?,
            ..Snapshot::default()
        };
        let txn = self.inner.db.begin_read()?;
        for row in txn.open_table(PEERS)?.iter()? {
            let (k, _) = row?;
            snapshot.peers.push(k.value().to_owned());
        }
        Ok(snapshot)
    }

    /// Calls `each` with every stored header record, in order.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn for_each_header(&self, mut each: impl FnMut(u64, &[u8])) -> Result<(), StorageError> {
        let txn = self.inner.db.begin_read()?;
        for row in txn.open_table(HEADERS)?.iter()? {
            let (k, v) = row?;
            each(k.value(), v.value());
        }
        Ok(())
    }

    /// Calls `each` with every confirmed balance.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn for_each_balance(&self, mut each: impl FnMut(&str, u64)) -> Result<(), StorageError> {
        let txn = self.inner.db.begin_read()?;
        for row in txn.open_table(BALANCES)?.iter()? {
            let (k, v) = row?;
            each(k.value(), v.value());
        }
        Ok(())
    }

    /// Calls `each` with every confirmed transaction id and its block.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn for_each_confirmed(&self, mut each: impl FnMut(&[u8], u64)) -> Result<(), StorageError> {
        let txn = self.inner.db.begin_read()?;
        for row in txn.open_table(BLOCK_IDS)?.iter()? {
            let (k, v) = row?;
            for id in v.value().chunks_exact(32) {
                each(id, k.value());
            }
        }
        Ok(())
    }

    /// Calls `each` with every block of the table the state tables replaced, in order.
    ///
    /// # Errors
    /// When the database cannot be read, or `each` fails.
    pub fn for_each_legacy_block<E: From<StorageError>>(
        &self,
        mut each: impl FnMut(u64, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let txn = self.inner.db.begin_read().map_err(StorageError::from)?;
        let table = match txn.open_table(LEGACY_BLOCKS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
            Err(error) => return Err(StorageError::from(error).into()),
        };
        for row in table.iter().map_err(StorageError::from)? {
            let (k, v) = row.map_err(StorageError::from)?;
            each(k.value(), v.value())?;
        }
        Ok(())
    }

    /// The bodies of `blocks` (number and hash each), in one read transaction; `None` for
    /// one that is not stored. See [`BodyReader`] for what a body holds on to.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn bodies(&self, blocks: &[(u64, [u8; 32])]) -> Result<Vec<Option<Bytes>>, StorageError> {
        let reader = self.body_reader()?;
        blocks
            .iter()
            .map(|(number, hash)| reader.get(*number, hash))
            .collect()
    }

    /// Reads bodies in one read transaction, one at a time.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn body_reader(&self) -> Result<BodyReader, StorageError> {
        let txn = self.inner.db.begin_read()?;
        Ok(BodyReader {
            table: txn.open_table(BODIES)?,
            _txn: txn,
        })
    }

    /// The newest index rows under `prefix` (an address key), newest first, until they list
    /// `limit` transactions; and how many transactions the address has in all.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn history(
        &self,
        prefix: &[u8; HISTORY_PREFIX],
        limit: usize,
    ) -> Result<(Vec<HistoryEntry>, u64), StorageError> {
        let txn = self.inner.db.begin_read()?;
        let count = txn
            .open_table(HISTORY_COUNTS)?
            .get(&prefix[..])?
            .map_or(0, |v| v.value());
        let table = txn.open_table(HISTORY)?;
        let mut end = prefix.to_vec();
        end.extend_from_slice(&[0xff; 8]);
        let mut entries = Vec::new();
        let mut listed = 0;
        for row in table.range(&prefix[..]..=&end[..])?.rev() {
            if listed >= limit {
                break;
            }
            let (k, v) = row?;
            listed += usize::try_from(history_items(v.value())).unwrap_or(0);
            entries.push(HistoryEntry {
                key: k.value().to_vec(),
                value: v.value().to_vec(),
            });
        }
        Ok((entries, count))
    }

    /// The size of the database file, in bytes.
    pub fn file_size(&self) -> u64 {
        std::fs::metadata(&self.inner.path).map_or(0, |m| m.len())
    }

    /// Reads one metadata value.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.inner.db.begin_read()?;
        let table = txn.open_table(META)?;
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }
}

fn write_loop(db: &Database, journal: &Mutex<Journal>, batches: &mpsc::Receiver<Batch>) {
    while let Ok(first) = batches.recv() {
        let mut group = vec![first];
        while group.len() < MAX_BATCHES_PER_COMMIT {
            match batches.try_recv() {
                Ok(batch) => group.push(batch),
                Err(_) => break,
            }
        }
        let mut writes = Vec::new();
        let mut answers = Vec::with_capacity(group.len());
        for batch in group {
            writes.extend(batch.writes);
            answers.push(batch.done);
        }
        let started = std::time::Instant::now();
        let batches = answers.len();
        let result = commit_group(db, journal, writes);
        if let Err(error) = &result {
            tracing::error!(%error, "commit failed");
        }
        tracing::debug!(
            batches,
            elapsed_us = started.elapsed().as_micros() as u64,
            "group commit"
        );
        for answer in answers {
            let _ = answer.send(result.clone());
        }
    }
}

/// Makes `writes` durable: the pool's new entries, then the chain's changes, then the
/// pool's removals (see the module's doc for why in this order).
fn commit_group(
    db: &Database,
    journal: &Mutex<Journal>,
    writes: Vec<Write>,
) -> Result<(), StorageError> {
    let mut puts = Vec::new();
    let mut removals = Vec::new();
    let mut chain = Vec::new();
    for write in writes {
        match write {
            Write::PutPoolTx { seq, json } => puts.push((seq, json)),
            Write::RemovePoolTx { seq } => removals.push(seq),
            other => chain.push(other),
        }
    }
    let mut journal = lock(journal)?;
    if !puts.is_empty() {
        put_durably(&mut journal, &puts)?;
    }
    if !chain.is_empty() {
        let txn = begin_write(db)?;
        apply(&txn, chain)?;
        txn.commit()?;
    }
    if !removals.is_empty() {
        // Not synced here: a removal lost in a crash is redone at start-up, where the
        // chain shows the transaction confirmed. The next group's sync covers it.
        journal
            .append(removals.into_iter().map(|seq| Change::Remove { seq }))
            .map_err(journal_error)?;
    }
    // Starts a compaction when one is due, or puts a finished one in place; the copying
    // itself happens on another thread.
    if let Err(error) = journal.compact_if_due() {
        tracing::warn!(%error, "pool journal not compacted; it keeps growing until this works");
    }
    Ok(())
}

/// A write transaction that saves redb's allocator state with its commit ("quick
/// repair"), so that opening the database after a crash does not walk the whole file
/// to rebuild it: 12 s at a million payments. It costs a second fsync and a few pages a
/// commit, which since the pool has its journal means a block's commit, not a
/// submission's.
fn begin_write(db: &Database) -> Result<redb::WriteTransaction, StorageError> {
    let mut txn = db.begin_write()?;
    txn.set_quick_repair(true);
    Ok(txn)
}

/// Appends pool entries (sequence number and JSON) to the journal and syncs it.
fn put_durably(journal: &mut Journal, entries: &[(u64, Vec<u8>)]) -> Result<(), StorageError> {
    journal
        .append(
            entries
                .iter()
                .map(|(seq, json)| Change::Put { seq: *seq, json }),
        )
        .and_then(|()| journal.sync())
        .map_err(journal_error)
}

fn lock(journal: &Mutex<Journal>) -> Result<std::sync::MutexGuard<'_, Journal>, StorageError> {
    journal.lock().map_err(|_| StorageError::JournalPoisoned)
}

fn journal_error(error: std::io::Error) -> StorageError {
    StorageError::Journal(Arc::new(error))
}

/// Moves a pool kept in redb (before the journal) into the journal, once.
fn move_legacy_pool(db: &Database, journal: &Mutex<Journal>) -> Result<(), StorageError> {
    let pool: Vec<(u64, Vec<u8>)> = {
        let txn = db.begin_read()?;
        let table = txn.open_table(LEGACY_POOL)?;
        table
            .iter()?
            .map(|row| {
                let (seq, json) = row?;
                Ok((seq.value(), json.value().to_vec()))
            })
            .collect::<Result<_, StorageError>>()?
    };
    if pool.is_empty() {
        return Ok(());
    }
    put_durably(&mut *lock(journal)?, &pool)?;
    // A crash before this commit moves them again next time: the same entries, the same
    // sequence numbers.
    let txn = begin_write(db)?;
    txn.open_table(LEGACY_POOL)?.retain(|_, _| false)?;
    txn.commit()?;
    tracing::info!(transactions = pool.len(), "pool moved to its journal");
    Ok(())
}

fn apply(txn: &redb::WriteTransaction, writes: Vec<Write>) -> Result<(), StorageError> {
    if writes.iter().any(|w| matches!(w, Write::DropLegacyBlocks)) {
        txn.delete_table(LEGACY_BLOCKS)?;
    }
    let mut bodies = txn.open_table(BODIES)?;
    let mut headers = txn.open_table(HEADERS)?;
    let mut balances = txn.open_table(BALANCES)?;
    let mut block_ids = txn.open_table(BLOCK_IDS)?;
    let mut history = txn.open_table(HISTORY)?;
    let mut counts = txn.open_table(HISTORY_COUNTS)?;
    let mut peers = txn.open_table(PEERS)?;
    let mut meta = txn.open_table(META)?;
    // Index counts change once per address per commit, not once per entry.
    let mut counted: std::collections::HashMap<[u8; HISTORY_PREFIX], i64> =
        std::collections::HashMap::new();
    let mut count = |key: &[u8], delta: i64| {
        let prefix: [u8; HISTORY_PREFIX] = key[..HISTORY_PREFIX]
            .try_into()
            .expect("history keys start with the address key");
        *counted.entry(prefix).or_default() += delta;
    };
    for write in writes {
        match write {
            Write::PutBody { number, hash, json } => {
                bodies.insert(&body_key(number, &hash)[..], &*json)?;
            }
            Write::RemoveBody { number, hash } => {
                bodies.remove(&body_key(number, &hash)[..])?;
            }
            Write::PutHeader { number, record } => {
                headers.insert(number, record.as_slice())?;
            }
            Write::TruncateHeaders { from } => {
                headers.retain_in(from.., |_, _| false)?;
            }
            Write::SetBalance { address, units } => {
                if units == 0 {
                    balances.remove(&*address)?;
                } else {
                    balances.insert(&*address, units)?;
                }
            }
            Write::PutBlockIds { block, ids } => {
                block_ids.insert(block, ids.as_slice())?;
            }
            Write::TruncateBlockIds { from } => {
                block_ids.retain_in(from.., |_, _| false)?;
            }
            Write::PutHistory { key, value } => {
                if let Some(old) = history.insert(key.as_slice(), value.as_slice())? {
                    count(&key, -history_items(old.value()));
                }
                count(&key, history_items(&value));
            }
            Write::RemoveHistory { key } => {
                if let Some(old) = history.remove(key.as_slice())? {
                    count(&key, -history_items(old.value()));
                }
            }
            Write::PutPoolTx { .. } | Write::RemovePoolTx { .. } => {
                unreachable!("pool writes go to the journal")
            }
            Write::PutPeer(url) => {
                peers.insert(url.as_str(), ())?;
            }
            Write::RemovePeer(url) => {
                peers.remove(url.as_str())?;
            }
            Write::PutMeta { key, value } => {
                meta.insert(key, value.as_slice())?;
            }
            Write::DropLegacyBlocks => {}
        }
    }
    for (prefix, delta) in counted {
        let now = counts.get(&prefix[..])?.map_or(0, |v| v.value());
        match now.saturating_add_signed(delta) {
            0 => counts.remove(&prefix[..])?,
            next => counts.insert(&prefix[..], next)?,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = [7u8; HISTORY_PREFIX];
        let entry = |block: u8| {
            let mut key = prefix.to_vec();
            key.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, block]);
            key
        };
        let row = |tag: u8, items: usize| {
            let mut value = vec![tag; HISTORY_HEADER];
            value.extend(std::iter::repeat_n(7u8, HISTORY_ITEM * items));
            value
        };
        {
            let storage = Storage::open(dir.path()).unwrap();
            let a = storage.commit(vec![Write::PutBody {
                number: 0,
                hash: [0; 32],
                json: "g".into(),
            }]);
            let b = storage.commit(vec![
                Write::PutBody {
                    number: 1,
                    hash: [1; 32],
                    json: "b1".into(),
                },
                Write::PutHeader {
                    number: 1,
                    record: b"h1".to_vec(),
                },
                Write::PutHistory {
                    key: entry(1),
                    value: row(1, 2),
                },
                Write::PutPoolTx {
                    seq: 7,
                    json: b"tx".to_vec(),
                },
                Write::PutPeer("http://127.0.0.1:1".into()),
            ]);
            let (a, b) = tokio::join!(a, b);
            a.unwrap();
            b.unwrap();
            storage
                .commit(vec![
                    Write::PutHeader {
                        number: 2,
                        record: b"h2".to_vec(),
                    },
                    Write::PutHistory {
                        key: entry(2),
                        value: row(2, 1),
                    },
                    Write::TruncateHeaders { from: 1 },
                    Write::RemoveHistory { key: entry(2) },
                    Write::RemoveHistory { key: entry(1) },
                    Write::PutHeader {
                        number: 1,
                        record: b"h1'".to_vec(),
                    },
                    Write::PutHistory {
                        key: entry(1),
                        value: row(3, 3),
                    },
                    Write::SetBalance {
                        address: "aa".into(),
                        units: 5,
                    },
                    Write::SetBalance {
                        address: "bb".into(),
                        units: 0,
                    },
                    Write::PutBlockIds {
                        block: 1,
                        ids: [[3; 32], [4; 32]].concat(),
                    },
                    Write::PutMeta {
                        key: "k",
                        value: b"v".to_vec(),
                    },
                ])
                .await
                .unwrap();
        }
        let storage = Storage::open(dir.path()).unwrap();
        let snapshot = storage.snapshot().unwrap();
        assert_eq!(snapshot.pool, vec![(7, b"tx".to_vec())]);
        assert_eq!(snapshot.peers, vec!["http://127.0.0.1:1".to_owned()]);
        assert_eq!(storage.meta("k").unwrap(), Some(b"v".to_vec()));
        let mut headers = Vec::new();
        storage
            .for_each_header(|n, r| headers.push((n, r.to_vec())))
            .unwrap();
        assert_eq!(headers, vec![(1, b"h1'".to_vec())]);
        let mut balances = Vec::new();
        storage
            .for_each_balance(|a, v| balances.push((a.to_owned(), v)))
            .unwrap();
        assert_eq!(balances, vec![("aa".to_owned(), 5)]);
        let mut confirmed = Vec::new();
        storage
            .for_each_confirmed(|id, n| confirmed.push((id.to_vec(), n)))
            .unwrap();
        assert_eq!(confirmed, vec![(vec![3; 32], 1), (vec![4; 32], 1)]);
        assert_eq!(
            storage.bodies(&[(1, [1; 32]), (1, [2; 32])]).unwrap(),
            vec![Some(Bytes::from_static(b"b1")), None]
        );
        let (entries, count) = storage.history(&prefix, 10).unwrap();
        assert_eq!(count, 3, "removed rows are not counted");
        assert_eq!(
            entries,
            vec![HistoryEntry {
                key: entry(1),
                value: row(3, 3)
            }]
        );
    }

    #[tokio::test]
    async fn a_pool_kept_in_the_database_moves_to_the_journal_once() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::create(dir.path().join("chain.redb")).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut pool = txn.open_table(LEGACY_POOL).unwrap();
                pool.insert(3, &b"three"[..]).unwrap();
                pool.insert(9, &b"nine"[..]).unwrap();
            }
            txn.commit().unwrap();
        }
        let expected = vec![(3, b"three".to_vec()), (9, b"nine".to_vec())];
        {
            let storage = Storage::open(dir.path()).unwrap();
            assert_eq!(storage.snapshot().unwrap().pool, expected);
            storage
                .commit(vec![Write::RemovePoolTx { seq: 3 }])
                .await
                .unwrap();
        }
        let storage = Storage::open(dir.path()).unwrap();
        assert_eq!(storage.snapshot().unwrap().pool, expected[1..]);
        use redb::ReadableTableMetadata as _;
        let txn = storage.inner.db.begin_read().unwrap();
        assert!(txn.open_table(LEGACY_POOL).unwrap().is_empty().unwrap());
    }
}
