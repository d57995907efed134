//! A storage failure, with its source, and what a failed write says about the disk.

use std::path::Path;
use std::sync::Arc;

use thiserror::Error;

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
    /// A file of the data dir that the node cannot start on.
    #[error("{}: {detail}", path.display())]
    File {
        path: std::path::PathBuf,
        problem: FileProblem,
        /// What is wrong with it, in words.
        detail: String,
    },
    /// Writes are refused until the disk takes them again (see `crate::storage`).
    #[error("storage: {0}")]
    Unavailable(#[source] Arc<Outage>),
}

/// What is wrong with a file of the data dir, for the advice an operator gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileProblem {
    /// Not what the node wrote: truncated, overwritten, or missing beside the others.
    Damaged,
    /// The node may not write it (a read-only filesystem, or permissions).
    ReadOnly,
    /// The disk holding it is full.
    Full,
    /// Another error of the operating system.
    Other,
}

impl FileProblem {
    /// What the operator can do about it.
    pub fn advice(self) -> &'static str {
        match self {
            FileProblem::Damaged => {
                "restore the data dir from a backup, or start with a fresh data dir (another --data-dir); the node does not start a new chain over this one"
            }
            FileProblem::ReadOnly => {
                "make the data dir writable (remount its filesystem read-write, or fix its permissions), or start with another --data-dir"
            }
            FileProblem::Full => "free space on that disk, then start the node again",
            FileProblem::Other => "check the disk and the data dir, then start the node again",
        }
    }

    /// The problem an error opening a file reveals.
    pub fn of(error: &StorageError) -> Self {
        const EROFS: i32 = 30;
        const EACCES: i32 = 13;
        const EPERM: i32 = 1;
        let damaged_redb = |e: &redb::StorageError| matches!(e, redb::StorageError::Corrupted(_));
        let damaged = match error {
            StorageError::Database(e) => match &**e {
                redb::DatabaseError::Storage(e) => damaged_redb(e),
                redb::DatabaseError::UpgradeRequired(_) => true,
                _ => false,
            },
            StorageError::Transaction(e) => {
                matches!(&**e, redb::TransactionError::Storage(e) if damaged_redb(e))
            }
            StorageError::Table(e) => match &**e {
                redb::TableError::Storage(e) => damaged_redb(e),
                redb::TableError::TableTypeMismatch { .. }
                | redb::TableError::TypeDefinitionChanged { .. } => true,
                _ => false,
            },
            StorageError::Storage(e) => damaged_redb(e),
            StorageError::Commit(e) => {
                matches!(&**e, redb::CommitError::Storage(e) if damaged_redb(e))
            }
            _ => false,
        };
        if damaged {
            return FileProblem::Damaged;
        }
        match error.io_error() {
            Some(io) if is_disk_full(io) => FileProblem::Full,
            Some(io)
                if io.kind() == std::io::ErrorKind::ReadOnlyFilesystem
                    || matches!(io.raw_os_error(), Some(EROFS | EACCES | EPERM)) =>
            {
                FileProblem::ReadOnly
            }
            // redb says "Not a redb database" and the journal "not a pool journal" so; a
            // file that ends early was truncated.
            Some(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                FileProblem::Damaged
            }
            _ => FileProblem::Other,
        }
    }
}

/// Why the node refuses writes now, and since when.
#[derive(Debug)]
pub struct Outage {
    /// What is wrong, in words an operator acts on: "the disk holding … is full".
    pub message: String,
    /// The disk is full (ENOSPC or the like): 507 rather than 503.
    pub disk_full: bool,
    /// When the first write failed, in milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// The write's own error.
    pub source: StorageError,
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Outage {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl Outage {
    /// The outage a failed write in `dir` reveals: a full disk named as such, another OS
    /// error as the OS says it.
    pub fn of(error: StorageError, dir: &Path, since_ms: u64) -> Self {
        let io = error.io_error();
        let disk_full = io.is_some_and(is_disk_full);
        let message = match io {
            _ if disk_full => format!("the disk holding {} is full", dir.display()),
            Some(io) => format!("the node could not write to {}: {io}", dir.display()),
            None => format!("the node could not write to {}: {error}", dir.display()),
        };
        Outage {
            message,
            disk_full,
            since_ms,
            source: error,
        }
    }
}

/// Whether `error` says the disk (or the user's quota on it) is full.
pub fn is_disk_full(error: &std::io::Error) -> bool {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(error.raw_os_error(), Some(ENOSPC | EDQUOT))
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

    /// Why writes are refused, if they are: a failed write, or one refused after it.
    pub fn outage(&self) -> Option<&Outage> {
        match self {
            StorageError::Unavailable(outage) => Some(outage),
            _ => None,
        }
    }

    /// The operating system's error underneath, if there is one. redb's errors do not
    /// chain their sources, so its variants that hold one are looked into by name; the
    /// rest of the chain is walked.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        fn of_redb(error: &redb::StorageError) -> Option<&std::io::Error> {
            match error {
                redb::StorageError::Io(io) => Some(io),
                _ => None,
            }
        }
        let redb = match self {
            StorageError::Storage(e) => of_redb(e),
            StorageError::Commit(e) => match &**e {
                redb::CommitError::Storage(e) => of_redb(e),
                _ => None,
            },
            StorageError::Transaction(e) => match &**e {
                redb::TransactionError::Storage(e) => of_redb(e),
                _ => None,
            },
            StorageError::Table(e) => match &**e {
                redb::TableError::Storage(e) => of_redb(e),
                _ => None,
            },
            StorageError::Database(e) => match &**e {
                redb::DatabaseError::Storage(e) => of_redb(e),
                _ => None,
            },
            StorageError::Unavailable(outage) => outage.source.io_error(),
            _ => None,
        };
        redb.or_else(|| {
            let mut next = std::error::Error::source(self);
            while let Some(error) = next {
                // Shared sources are `Arc`s, which are errors too.
                if let Some(io) = error.downcast_ref::<std::io::Error>() {
                    return Some(io);
                }
                if let Some(io) = error.downcast_ref::<Arc<std::io::Error>>() {
                    return Some(io);
                }
                next = error.source();
            }
            None
        })
    }

    /// `error`, met while opening `path`, as a problem with that file.
    pub fn file(path: &Path, error: StorageError) -> Self {
        if matches!(error, StorageError::File { .. }) {
            return error;
        }
        let detail = error.to_string().trim_start_matches("storage: ").to_owned();
        let truncated = error
            .io_error()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof);
        StorageError::File {
            path: path.to_owned(),
            problem: FileProblem::of(&error),
            detail: if truncated {
                format!("truncated: it ends before its own records do ({detail})")
            } else {
                detail
            },
        }
    }

    /// A file that is damaged, with what is wrong.
    pub fn damaged(path: &Path, detail: impl Into<String>) -> Self {
        StorageError::File {
            path: path.to_owned(),
            problem: FileProblem::Damaged,
            detail: detail.into(),
        }
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
