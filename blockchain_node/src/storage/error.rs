//! A storage failure, with its source.

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
