//! Start-up: the data directory opened, the chain restored from its state tables (or
//! migrated to them once), the pool revalidated, the node's own wallet made or read.

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use blockchain_core::ledger::{Tip, VerifiedBlock, check_contextual};
use blockchain_core::{
    Address, Amount, BlockHash, Ledger, NetworkParams, PrivateKey, Transaction, TxId, Work,
};
use thiserror::Error;
use tokio::sync::{Notify, broadcast};

use super::writes::block_writes;
use super::{
    ChainState, META_GENESIS, META_MINER_KEY, META_SETTINGS, META_STATE, Node, NodeOptions,
    StoredBlock,
};
use crate::blocks::{BlockInfo, ChainBlocks};
use crate::pool::PendingPool;
use crate::settings::{Limits, SettingError, Settings};
use crate::storage::{FileProblem, Storage, StorageError, Write};

/// Why the node could not start.
#[derive(Debug, Error)]
pub enum OpenError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(
        "the data directory holds a chain of another network (genesis {stored}, expected {expected}); use another --data-dir"
    )]
    OtherNetwork { stored: String, expected: BlockHash },
    #[error("stored block {number} is unreadable or invalid: {reason}")]
    CorruptBlock { number: u64, reason: String },
    #[error("--{}: {}", .0.field.replace('_', "-"), .0.message)]
    Setting(SettingError),
    #[error("stored miner wallet is unreadable: {0}")]
    MinerWallet(blockchain_core::KeyError),
    #[error("stored chain state is unreadable: {0}")]
    CorruptState(String),
}

impl OpenError {
    /// The whole story for the operator: the file, what is wrong with it, and what to do.
    pub fn explain(&self, dir: &std::path::Path) -> String {
        let database = dir.join(crate::storage::DATABASE_FILE);
        match self {
            OpenError::Storage(error @ StorageError::File { problem, .. }) => {
                format!("{error}; {}", problem.advice())
            }
            OpenError::Storage(error) => {
                let error = StorageError::file(&database, error.clone());
                let StorageError::File { problem, .. } = &error else {
                    unreachable!("StorageError::file makes a File")
                };
                format!("{error}; {}", problem.advice())
            }
            OpenError::CorruptBlock { .. }
            | OpenError::CorruptState(_)
            | OpenError::MinerWallet(_) => format!(
                "{}: {self}; {}",
                database.display(),
                FileProblem::Damaged.advice()
            ),
            OpenError::OtherNetwork { .. } | OpenError::Setting(_) => self.to_string(),
        }
    }
}

impl Node {
    /// Opens the node's database in `dir`, creating the chain from `params` on first use,
    /// and restores chain, ledger and pool.
    ///
    /// # Errors
    /// An [`OpenError`] saying what is wrong with the data directory or options.
    pub fn open(
        dir: &std::path::Path,
        params: NetworkParams,
        options: &NodeOptions,
    ) -> Result<Self, OpenError> {
        let storage = Storage::open(dir)?;
        let genesis = params.genesis_block();
        match storage.meta(META_GENESIS)? {
            Some(stored) if stored != genesis.hash().0 => {
                return Err(OpenError::OtherNetwork {
                    stored: hex::encode(stored),
                    expected: genesis.hash(),
                });
            }
            // Every node recorded its genesis on its first start: a database that was
            // there before and lacks it lost its records, and a new chain must not be
            // started over what it held.
            None if !storage.created() => {
                return Err(OpenError::Storage(StorageError::damaged(
                    &dir.join(crate::storage::DATABASE_FILE),
                    "damaged: it records no chain (no genesis), though it was there before",
                )));
            }
            _ => {}
        }
        let keys = Arc::new(crate::keys::KeyCache::default());
        if storage.meta(META_STATE)?.is_none() {
            Self::write_state(&storage, &params, &keys)?;
        }
        let wallet = Self::own_wallet(&storage)?;
        let limits = Limits {
            max_threads: options.max_threads.max(1),
            network_difficulty: params.difficulty,
        };
        let settings = Self::restore_settings(&storage, options, limits)?;
        let started = Instant::now();
        let (infos, ledger) = Self::restore_state(&storage, &params, &keys)?;
        let blocks = ChainBlocks::open(infos, storage.clone(), Arc::clone(&keys))?;
        let snapshot = storage.snapshot()?;

        let mut pool = PendingPool::new(options.pool_capacity, options.sender_limit);
        let mut stale = Vec::new();
        for (seq, json) in snapshot.pool {
            match serde_json::from_slice::<Transaction>(&json) {
                Ok(tx) if check_contextual(&tx, &ledger, &pool).is_ok() => pool.insert_at(seq, tx),
                _ => stale.push(Write::RemovePoolTx { seq }),
            }
        }
        if !stale.is_empty() {
            storage.commit_blocking(stale)?;
        }
        tracing::info!(
            height = ledger.tip().number,
            confirmed = ledger.confirmed_count(),
            pool = pool.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "chain restored"
        );

        let (events, _) = broadcast::channel(4096);
        let tree = Mutex::new(super::tree::BlockTree::load(&storage)?);
        Ok(Node {
            params,
            wallet,
            state: RwLock::new(ChainState {
                blocks,
                ledger,
                pool,
            }),
            storage,
            chain_writer: tokio::sync::Mutex::new(()),
            keys,
            tip_generation: AtomicU64::new(0),
            searches: AtomicUsize::new(0),
            search: Mutex::new(None),
            last_search: Mutex::new(None),
            settings: RwLock::new(settings),
            limits,
            pool_changed: Notify::new(),
            settings_changed: Notify::new(),
            events,
            tree,
        })
    }

    /// The stored settings (defaults on first use) with the command line's applied on top;
    /// stored again when the command line changed them.
    fn restore_settings(
        storage: &Storage,
        options: &NodeOptions,
        limits: Limits,
    ) -> Result<Settings, OpenError> {
        let stored = match storage.meta(META_SETTINGS)? {
            Some(json) => Settings::from_stored(&json, limits),
            None => Settings::defaults(limits),
        };
        let settings = stored
            .apply(&options.settings, limits)
            .map_err(OpenError::Setting)?;
        if settings != stored || storage.meta(META_SETTINGS)?.is_none() {
            storage.commit_blocking(vec![Write::PutMeta {
                key: META_SETTINGS,
                value: serde_json::to_vec(&settings.to_json()).expect("settings serialize"),
            }])?;
        }
        Ok(settings)
    }

    /// Stores the chain as state for the first time: the genesis block of `params` on a new
    /// data dir, or, on one written before the state tables, every stored block replayed
    /// once (then the old table is dropped).
    fn write_state(
        storage: &Storage,
        params: &NetworkParams,
        keys: &crate::keys::KeyCache,
    ) -> Result<(), OpenError> {
        let genesis = StoredBlock::new(params.genesis_block());
        let mut ledger = Ledger::new(params);
        let genesis_ids: Vec<TxId> = genesis
            .block
            .transactions()
            .iter()
            .map(Transaction::id)
            .collect();
        let mut writes = block_writes(&genesis, ledger.richest(usize::MAX), &genesis_ids);
        let mut migrated = 0u64;
        storage.for_each_legacy_block(|number, json| {
            let corrupt = |reason: String| OpenError::CorruptBlock { number, reason };
            let block = crate::wire::parse_block(json, keys).map_err(corrupt)?;
            if number == 0 {
                return if block.hash() == genesis.block.hash() {
                    Ok(())
                } else {
                    Err(corrupt("not this network's genesis".into()))
                };
            }
            // Our own disk: signatures were checked before the block was stored.
            let delta = ledger
                .check_verified(
                    &VerifiedBlock::assume_verified(&block),
                    params,
                    u64::MAX / 2,
                )
                .map_err(|e| corrupt(e.to_string()))?;
            let stored = StoredBlock::new(block);
            let balances: Vec<(Address, Amount)> =
                delta.balances().map(|(a, v)| (a.clone(), v)).collect();
            writes.extend(block_writes(&stored, balances, delta.confirmed()));
            ledger.apply(delta);
            migrated += 1;
            Ok(())
        })?;
        writes.extend([
            Write::DropLegacyBlocks,
            Write::PutMeta {
                key: META_GENESIS,
                value: genesis.block.hash().0.to_vec(),
            },
            Write::PutMeta {
                key: META_STATE,
                value: b"1".to_vec(),
            },
        ]);
        storage.commit_blocking(writes)?;
        if migrated > 0 {
            tracing::info!(blocks = migrated, "stored the chain as state (once)");
        }
        Ok(())
    }

    /// Headers and ledger from the state tables: what start-up reads instead of the chain.
    fn restore_state(
        storage: &Storage,
        params: &NetworkParams,
        keys: &crate::keys::KeyCache,
    ) -> Result<(Vec<BlockInfo>, Ledger), OpenError> {
        let mut infos: Vec<BlockInfo> = Vec::new();
        let mut broken: Option<u64> = None;
        storage.for_each_header(|number, record| match BlockInfo::from_record(record) {
            Some(info)
                if info.number() == number
                    && infos.last().is_none_or(|parent| {
                        parent.hash == info.header.previous_hash && parent.number() + 1 == number
                    }) =>
            {
                infos.push(info);
            }
            _ => {
                broken.get_or_insert(number);
            }
        })?;
        if let Some(number) = broken {
            return Err(OpenError::CorruptBlock {
                number,
                reason: "its stored header does not follow the one before".into(),
            });
        }
        let genesis = params.genesis_block().hash();
        if infos.first().map(|g| g.hash) != Some(genesis) {
            return Err(OpenError::CorruptBlock {
                number: 0,
                reason: "the stored chain does not start at this network's genesis".into(),
            });
        }
        let mut balances = std::collections::HashMap::new();
        let mut unreadable = None;
        storage.for_each_balance(|hex, units| {
            match (keys.parse(hex, "address"), Amount::from_units(units)) {
                (Ok(address), Ok(amount)) => {
                    balances.insert(address, amount);
                }
                _ => {
                    unreadable.get_or_insert_with(|| hex.chars().take(16).collect::<String>());
                }
            }
        })?;
        if let Some(hex) = unreadable {
            return Err(OpenError::CorruptState(format!(
                "the stored balance of {hex}… is unreadable"
            )));
        }
        let transactions: usize = infos.iter().map(|i| i.transactions as usize).sum();
        let mut confirmed = std::collections::HashMap::with_capacity(transactions);
        storage.for_each_confirmed(|id, block| {
            if let Ok(id) = <[u8; 32]>::try_from(id) {
                confirmed.insert(TxId(id), block);
            }
        })?;
        let last = infos.last().expect("genesis at least");
        let tip = Tip {
            number: last.number(),
            hash: last.hash,
            timestamp: last.header.timestamp,
            work: infos[1..].iter().fold(Work::default(), |work, info| {
                work.saturating_add(info.header.difficulty.work())
            }),
        };
        let ledger = Ledger::restore(params, tip, balances, confirmed);
        Ok((infos, ledger))
    }

    /// The node's own wallet, created once and kept in the database (the user asked for a
    /// mining node; its key never leaves the data dir).
    fn own_wallet(storage: &Storage) -> Result<Address, OpenError> {
        if let Some(stored) = storage.meta(META_MINER_KEY)? {
            let text = String::from_utf8_lossy(&stored);
            return PrivateKey::from_hex(&text)
                .map(|k| k.address().clone())
                .map_err(OpenError::MinerWallet);
        }
        let key = PrivateKey::generate(&mut rand::rng(), blockchain_core::wallet::DEFAULT_KEY_BITS)
            .map_err(OpenError::MinerWallet)?;
        storage.commit_blocking(vec![Write::PutMeta {
            key: META_MINER_KEY,
            value: key.to_hex().as_bytes().to_vec(),
        }])?;
        tracing::info!(address = %key.address().short(), "created the node's miner wallet");
        Ok(key.address().clone())
    }
}
