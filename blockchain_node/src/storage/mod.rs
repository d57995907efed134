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
//!
//! ## When a write fails
//!
//! A disk fills up, or fails for a while. redb then refuses every later write ("Previous
//! I/O error occurred") until the database is closed and opened again, and the node would
//! refuse blocks for as long as it runs. So the writer thread, on a failed group:
//!
//! 1. answers every caller in the group with [`StorageError::Unavailable`], an [`Outage`]
//!    that names the cause (`the disk holding … is full`, or the OS's error);
//! 2. closes and reopens the database at once: a reopened database reads the last commit
//!    that succeeded, so reads (bodies, history) go on being served, and nothing in memory
//!    has to be undone, because the node changes its state only after a commit succeeded.
//!    One commit is ambiguous: when its last sync fails, its header may be on disk all
//!    the same. Each chain commit therefore counts itself in `meta`, and the reopened
//!    database's count says whether it landed; if it did, its callers hear `Ok`, so
//!    memory still follows the disk;
//! 3. refuses every write at once while the outage lasts (no search is wasted on a block
//!    that cannot be stored, no commit half-written), and meanwhile, with a backoff from
//!    50 ms to 2 s, writes and syncs a probe file of [`PROBE_BYTES`] in the data dir;
//! 4. once a probe succeeds, reopens the database if step 2 could not, and takes writes
//!    again. [`Storage::health`] says which of the two states it is in, and since when.
//!
//! Nothing acknowledged is lost at any step: an answer of `Ok` still means on disk, and a
//! process killed during the outage restarts from the last commit, like any crash.
//!
//! `error` holds [`StorageError`]; `writer` the writer thread and how a group of writes
//! lands in redb and the journal; `recovery` the outage and the way back.

mod error;
mod read_only;
mod recovery;
mod writer;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::journal::Journal;
use bytes::Bytes;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::oneshot;

pub use error::{FileProblem, Outage, StorageError, is_disk_full};
pub use read_only::{ReadOnlyError, ReadOnlyStorage};
pub use recovery::{Health, PROBE_BYTES};
use recovery::{Shared, open_database_at_start};
use writer::{begin_write, commit_group, journal_error, lock, move_legacy_pool, write_loop};

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
/// Blocks off the main chain that the node keeps to show (see `crate::node::tree`), by the
/// body key: `number ‖ hash` to the record the tree reads. Bounded by the node.
const STALE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("stale_blocks");

/// The database's file in the data dir.
pub const DATABASE_FILE: &str = "chain.redb";

/// redb's page cache. Its default (1 GiB) would let reading the state at start-up and
/// serving old blocks grow the node by that much; the node keeps what it reads often in
/// its own structures, so a small cache costs little.
const CACHE_BYTES: usize = 64 << 20;

/// Most batches folded into one commit.
const MAX_BATCHES_PER_COMMIT: usize = 4096;

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
    /// Keeps a stale block's record (see `crate::node::tree`).
    PutStale {
        number: u64,
        hash: [u8; 32],
        record: Vec<u8>,
    },
    RemoveStale {
        number: u64,
        hash: [u8; 32],
    },
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

/// A stale block as stored: number, hash and the record `crate::node::tree` reads.
pub type StaleRow = (u64, [u8; 32], Vec<u8>);

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
    shared: Arc<Shared>,
    /// This opening created the database file: it cannot hold a chain yet.
    created: bool,
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
        let path = dir.join(DATABASE_FILE);
        let journal_path = dir.join(crate::journal::FILE_NAME);
        let fresh = !path.exists();
        if fresh && journal_path.exists() {
            return Err(StorageError::damaged(
                &path,
                format!(
                    "missing, while the pool journal {} is there: the database was deleted or moved",
                    journal_path.display()
                ),
            ));
        }
        if !fresh && std::fs::metadata(&path).is_ok_and(|m| m.len() == 0) {
            return Err(StorageError::damaged(&path, "empty: it was truncated"));
        }
        let in_file = |e| StorageError::file(&path, e);
        let db = open_database_at_start(&path).map_err(in_file)?;
        let created = (|| {
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
            txn.open_table(STALE)?;
            txn.commit()?;
            Ok(())
        })();
        created.map_err(in_file)?;
        let journal = Journal::open(dir).map_err(|e| {
            StorageError::file(&journal_path, StorageError::OpenJournal(Arc::new(e)))
        })?;
        let journal = Mutex::new(journal);
        move_legacy_pool(&db, &journal).map_err(in_file)?;
        let shared = Arc::new(Shared::new(db, journal, dir, path));
        let (writer, batches) = mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("storage-writer".into())
            .spawn(move || write_loop(&thread_shared, &batches))
            .map_err(|e| StorageError::StartWriter(Arc::new(e)))?;
        Ok(Storage {
            inner: Arc::new(Inner {
                shared,
                created: fresh,
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
        let shared = &self.inner.shared;
        commit_group(&*shared.database()?, &shared.journal, writes).map_err(|failed| failed.error)
    }

    /// Whether this opening created the database file (a new data dir).
    pub fn created(&self) -> bool {
        self.inner.created
    }

    /// Whether writes are taken now, or refused since an outage began.
    pub fn health(&self) -> Health {
        self.inner.shared.health()
    }

    /// A receiver that changes whenever [`Storage::health`] does: for the miner, which
    /// waits for writes to be taken again, and the dashboards.
    pub fn watch_health(&self) -> tokio::sync::watch::Receiver<Option<Arc<Outage>>> {
        self.inner.shared.watch()
    }

    /// Whether writes are taken now: `Err` with the outage's refusal if not, so that work
    /// whose only point is a write (a proof-of-work search) is not started for nothing.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] during an outage.
    pub fn writable(&self) -> Result<(), StorageError> {
        match self.inner.shared.outage() {
            Some(outage) => Err(StorageError::Unavailable(outage)),
            None => Ok(()),
        }
    }

    fn begin_read(&self) -> Result<redb::ReadTransaction, StorageError> {
        Ok(self.inner.shared.database()?.begin_read()?)
    }

    /// Reads the pool and the peers.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn snapshot(&self) -> Result<Snapshot, StorageError> {
        let mut snapshot = Snapshot {
            pool: lock(&self.inner.shared.journal)?
                .entries()
                .map_err(journal_error)?,
            ..Snapshot::default()
        };
        let txn = self.begin_read()?;
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
        let txn = self.begin_read()?;
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
        let txn = self.begin_read()?;
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
        let txn = self.begin_read()?;
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
        let txn = self.begin_read()?;
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
        let txn = self.begin_read()?;
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
        let txn = self.begin_read()?;
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

    /// Every stale block: its number, hash and record.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn stale_blocks(&self) -> Result<Vec<StaleRow>, StorageError> {
        let txn = self.begin_read()?;
        let mut out = Vec::new();
        for row in txn.open_table(STALE)?.iter()? {
            let (k, v) = row?;
            let key = k.value();
            if let (Ok(number), Ok(hash)) = (key[..8].try_into(), key[8..].try_into()) {
                out.push((u64::from_be_bytes(number), hash, v.value().to_vec()));
            }
        }
        Ok(out)
    }

    /// The size of the database file, in bytes.
    pub fn file_size(&self) -> u64 {
        std::fs::metadata(&self.inner.shared.path).map_or(0, |m| m.len())
    }

    /// Reads one metadata value.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.begin_read()?;
        let table = txn.open_table(META)?;
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }
}
