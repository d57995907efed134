//! A stopped node's database, opened read-only: what `blockchain_node export` reads.
//!
//! redb locks its file while a node has it open, so a second process cannot read it
//! beside a running node: opening then fails with [`ReadOnlyError::InUse`], and the
//! command says to stop the node first. Nothing here writes: an export leaves the data
//! dir exactly as it found it.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use redb::{ReadOnlyDatabase, ReadableDatabase, ReadableTable};
use thiserror::Error;

use super::{BODIES, HEADERS, META, StorageError, body_key};
use crate::blocks::BlockInfo;

/// Why a data dir cannot be read.
#[derive(Debug, Error)]
pub enum ReadOnlyError {
    #[error("{} holds no node database (no chain.redb)", .0.display())]
    Missing(PathBuf),
    #[error(
        "{} is in use by a running node: stop the node first (Ctrl-C), then export",
        .0.display()
    )]
    InUse(PathBuf),
    #[error(
        "{} was not closed cleanly (the node was killed): start the node on it once and stop it with Ctrl-C, then export",
        .0.display()
    )]
    NotClosedCleanly(PathBuf),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A read-only handle on a data dir's database.
pub struct ReadOnlyStorage {
    db: ReadOnlyDatabase,
}

impl ReadOnlyStorage {
    /// Opens `dir/chain.redb` for reading, without creating or changing anything.
    ///
    /// # Errors
    /// A [`ReadOnlyError`]: no database there, a node holding it, or an unreadable file.
    pub fn open(dir: &Path) -> Result<Self, ReadOnlyError> {
        let path = dir.join("chain.redb");
        if !path.is_file() {
            return Err(ReadOnlyError::Missing(dir.to_owned()));
        }
        match ReadOnlyDatabase::open(&path) {
            Ok(db) => Ok(ReadOnlyStorage { db }),
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                Err(ReadOnlyError::InUse(dir.to_owned()))
            }
            Err(redb::DatabaseError::RepairAborted) => {
                Err(ReadOnlyError::NotClosedCleanly(dir.to_owned()))
            }
            Err(error) => Err(StorageError::from(error).into()),
        }
    }

    /// Reads one metadata value.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(META)?;
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }

    /// The header of the main chain's last block; `None` before the chain is stored.
    ///
    /// # Errors
    /// An unreadable database or header.
    pub fn tip(&self) -> Result<Option<BlockInfo>, StorageError> {
        let txn = self.db.begin_read()?;
        let headers = txn.open_table(HEADERS)?;
        let Some((number, record)) = headers.last()? else {
            return Ok(None);
        };
        BlockInfo::from_record(record.value())
            .map(Some)
            .ok_or_else(|| StorageError::corrupt(number.value(), "its stored header is unreadable"))
    }

    /// Calls `each` with every main-chain block's header and stored JSON, in order, all
    /// from one read transaction; stops at the first error `each` returns.
    ///
    /// # Errors
    /// An unreadable database, a header or body that is not there, or `each`'s error.
    pub fn for_each_block<E: From<StorageError>>(
        &self,
        mut each: impl FnMut(&BlockInfo, Bytes) -> Result<(), E>,
    ) -> Result<(), E> {
        let txn = self.db.begin_read().map_err(StorageError::from)?;
        let headers = txn.open_table(HEADERS).map_err(StorageError::from)?;
        let bodies = txn.open_table(BODIES).map_err(StorageError::from)?;
        for row in headers.iter().map_err(StorageError::from)? {
            let (number, record) = row.map_err(StorageError::from)?;
            let number = number.value();
            let info = BlockInfo::from_record(record.value())
                .ok_or_else(|| StorageError::corrupt(number, "its stored header is unreadable"))?;
            let body = bodies
                .get(&body_key(number, &info.hash.0)[..])
                .map_err(StorageError::from)?
                .ok_or_else(|| StorageError::missing(number))?;
            each(&info, Bytes::copy_from_slice(body.value()))?;
        }
        Ok(())
    }
}
