//! The outage and the way back: what the writer thread does when a group fails, how it
//! learns that the disk takes writes again, and how the database is reopened (see the
//! module doc of `crate::storage` for the why).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Duration;

use redb::Database;
use tokio::sync::watch;

use super::{CACHE_BYTES, Outage, StorageError};
use crate::journal::Journal;

/// Bytes the probe writes and syncs before writes are taken again: enough for a block's
/// commit of a few thousand payments, so that a nearly full disk does not flap between
/// taking and refusing.
pub const PROBE_BYTES: usize = 1 << 20;
const PROBE_FILE: &str = "write-probe";
/// The first wait between two probes, doubled after each failed one up to the longest.
const FIRST_RETRY: Duration = Duration::from_millis(50);
const LONGEST_RETRY: Duration = Duration::from_secs(2);

/// Whether the node's storage takes writes: the API's type, which `/status` shows.
pub use blockchain_api::StorageHealth as Health;

/// Opens (or creates) the database at `path` with the node's cache size.
///
/// redb panics on some damaged files (a truncated one fails an assertion while its
/// allocator is rebuilt): that is caught and reported as a damaged file.
pub(super) fn open_database(path: &Path) -> Result<Database, StorageError> {
    let opened =
        std::panic::catch_unwind(|| Database::builder().set_cache_size(CACHE_BYTES).create(path));
    match opened {
        Ok(opened) => Ok(opened?),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(StorageError::damaged(
                path,
                format!("damaged: the database could not be opened ({reason})"),
            ))
        }
    }
}

/// As [`open_database`], at start-up, where a panic inside redb is reported as the
/// damaged file it means, without the panic's own message: the process-wide panic hook is
/// set aside while the database opens (nothing else runs yet).
pub(super) fn open_database_at_start(path: &Path) -> Result<Database, StorageError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let opened = open_database(path);
    std::panic::set_hook(hook);
    opened
}

/// What the handles and the writer thread share.
pub(super) struct Shared {
    /// `None` only while an outage lasts and the database could not be reopened yet.
    db: RwLock<Option<Database>>,
    pub(super) journal: Mutex<Journal>,
    dir: PathBuf,
    pub(super) path: PathBuf,
    outage: watch::Sender<Option<Arc<Outage>>>,
}

impl Shared {
    pub(super) fn new(db: Database, journal: Mutex<Journal>, dir: &Path, path: PathBuf) -> Self {
        Shared {
            db: RwLock::new(Some(db)),
            journal,
            dir: dir.to_owned(),
            path,
            outage: watch::Sender::new(None),
        }
    }

    /// The database, held open until the guard is dropped (a reopen waits for it).
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] while the database is closed by an outage.
    pub(super) fn database(&self) -> Result<DatabaseGuard<'_>, StorageError> {
        let guard = self
            .db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.is_none() {
            return Err(self.refusal());
        }
        Ok(DatabaseGuard(guard))
    }

    pub(super) fn outage(&self) -> Option<Arc<Outage>> {
        self.outage.borrow().clone()
    }

    /// The error a refused write, or a read while the database is closed, answers with.
    pub(super) fn refusal(&self) -> StorageError {
        self.outage()
            .map_or(StorageError::WriterStopped, StorageError::Unavailable)
    }

    pub(super) fn health(&self) -> Health {
        match &*self.outage.borrow() {
            None => Health::Ok,
            Some(outage) => Health::Failing {
                error: outage.message.clone(),
                disk_full: outage.disk_full,
                since_ms: outage.since_ms,
            },
        }
    }

    pub(super) fn watch(&self) -> watch::Receiver<Option<Arc<Outage>>> {
        self.outage.subscribe()
    }

    /// Starts an outage (or goes on with the one under way) after a group failed with
    /// `error`, and reopens the database so that reads go on. Returns the refusal to
    /// answer the group with.
    pub(super) fn fail(&self, error: StorageError, chain_touched: bool) -> StorageError {
        let outage = match self.outage() {
            Some(outage) => outage,
            None => {
                let outage = Arc::new(Outage::of(error, &self.dir, crate::node::now_ms()));
                tracing::error!(
                    error = %outage.message,
                    cause = %outage.source,
                    "a write failed; refusing writes until the disk takes them again"
                );
                self.outage.send_replace(Some(Arc::clone(&outage)));
                outage
            }
        };
        if chain_touched {
            self.reopen();
        }
        StorageError::Unavailable(outage)
    }

    /// Whether the reopened database holds commit number `intended`: a commit reported
    /// as failed that reached the disk all the same.
    pub(super) fn holds_commit(&self, intended: Option<u64>) -> bool {
        let Ok(db) = self.database() else {
            return false;
        };
        intended.is_some_and(|n| super::writer::stored_commits(&db).is_ok_and(|held| held >= n))
    }

    /// Closes the database and opens it again: after a failed commit redb refuses every
    /// write until then. Leaves it closed if it cannot be opened (the next probe retries).
    fn reopen(&self) -> bool {
        let mut db = self
            .db
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Closed first: the file is locked while it is open.
        drop(db.take());
        match open_database(&self.path) {
            Ok(reopened) => {
                *db = Some(reopened);
                tracing::info!(path = %self.path.display(), "database reopened");
                true
            }
            Err(error) => {
                tracing::warn!(%error, path = %self.path.display(), "database not reopened yet");
                false
            }
        }
    }

    /// Tries to end the outage: a probe written and synced, then the database reopened if
    /// it is closed. Returns whether writes are taken again.
    fn try_recover(&self) -> bool {
        if let Err(error) = self.probe() {
            tracing::debug!(%error, "the disk does not take writes yet");
            return false;
        }
        let closed = self
            .db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none();
        if closed && !self.reopen() {
            return false;
        }
        if let Some(outage) = self.outage.send_replace(None) {
            tracing::info!(
                after_ms = crate::node::now_ms().saturating_sub(outage.since_ms),
                "the disk takes writes again; writes resumed"
            );
        }
        true
    }

    /// Writes and syncs [`PROBE_BYTES`] in the data dir, then removes them.
    fn probe(&self) -> std::io::Result<()> {
        let path = self.dir.join(PROBE_FILE);
        let written = (|| {
            let mut file = std::fs::File::create(&path)?;
            file.write_all(&vec![0x55; PROBE_BYTES])?;
            file.sync_all()
        })();
        let removed = std::fs::remove_file(&path);
        written.and(removed)
    }
}

/// The open database, read-locked against a reopen.
pub(super) struct DatabaseGuard<'a>(RwLockReadGuard<'a, Option<Database>>);

impl std::ops::Deref for DatabaseGuard<'_> {
    type Target = Database;
    fn deref(&self) -> &Database {
        self.0.as_ref().expect("checked when the guard was made")
    }
}

/// The writer thread's waits between probes during an outage.
pub(super) struct Backoff(Duration);

impl Backoff {
    pub(super) fn new() -> Self {
        Backoff(FIRST_RETRY)
    }

    /// How long to wait for the next batch before probing again.
    pub(super) fn delay(&self) -> Duration {
        self.0
    }

    /// Probes; on failure doubles the wait, on success resets it. Returns whether writes
    /// are taken again.
    pub(super) fn retry(&mut self, shared: &Shared) -> bool {
        let recovered = shared.try_recover();
        self.0 = if recovered {
            FIRST_RETRY
        } else {
            (self.0 * 2).min(LONGEST_RETRY)
        };
        recovered
    }
}
