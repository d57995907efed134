//! The node: core rules composed with storage, time and mining.
//!
//! State lives in memory behind one `RwLock` (chain, ledger, pool) and on disk in redb.
//! Every change to the chain goes through `chain_writer`, an async mutex held while a
//! block is checked, made durable and applied, so the chain on disk and in memory move
//! together and in order. Transactions enter the pool under the `RwLock` alone and are
//! acknowledged once the group committer has them on disk.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use blockchain_core::chain::{TipRank, is_better_tip, validate_branch};
use blockchain_core::ledger::{
    BlockError, LedgerError, MAX_BLOCK_TRANSACTIONS, Signatures, Tip, check_contextual,
    reward_transaction, verify_signatures,
};
use blockchain_core::transaction::check_stateless;
use blockchain_core::{
    Address, Amount, Block, BlockHash, ChainError, Difficulty, Ledger, NetworkParams, PrivateKey,
    Transaction, TxError, TxId, Work,
};
use bytes::Bytes;
use thiserror::Error;
use tokio::sync::{Notify, broadcast};

use crate::addresses::{self, TxPlace};
use crate::blocks::{BlockInfo, ChainBlocks};
use crate::mining::{self, SearchEnd};
use crate::pool::{PendingPool, PoolError};
use crate::settings::{Limits, SettingError, Settings, SettingsPatch};
use crate::storage::{Storage, StorageError, Write};

/// Seconds since the Unix epoch, by this node's clock.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Milliseconds since the Unix epoch: when an event happened, for dashboards that show
/// how fresh they are.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub use crate::blocks::StoredBlock;

/// The chain, its ledger and the pool, always consistent with each other. Block bodies
/// and the address index live on disk (see `crate::blocks`, `crate::addresses`).
pub struct ChainState {
    pub blocks: ChainBlocks,
    pub ledger: Ledger,
    pub pool: PendingPool,
}

impl ChainState {
    pub fn tip(&self) -> &StoredBlock {
        self.blocks.tip()
    }
    pub fn height(&self) -> u64 {
        self.ledger.tip().number
    }
}

/// A confirmed transaction from an address's history: its block and its JSON as stored.
#[derive(Debug, Clone)]
pub struct HistoryItem {
    pub block: u64,
    pub timestamp: u64,
    pub json: Bytes,
}

/// The newest transactions of an address, newest first, and how many it has in all.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub items: Vec<HistoryItem>,
    pub count: u64,
}

/// What the node tells the network layer and the dashboards.
#[derive(Debug, Clone)]
pub enum Event {
    /// A transaction entered the pool from a client or a peer.
    Transaction(Transaction),
    /// A block joined the chain (mined here or received), durably at `at_ms`.
    Block {
        block: Arc<Block>,
        origin: Origin,
        at_ms: u64,
    },
    /// Another chain with more work replaced ours from block `fork` on.
    Reorg {
        fork: u64,
        height: u64,
        reinjected: usize,
        at_ms: u64,
    },
    /// A proof-of-work search started or ended.
    Mining,
    /// Peers were added or removed, or one's health changed.
    Peers,
    /// The operator changed a setting.
    Settings,
}

/// Where a block came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Mined,
    Peer,
    Sync,
}

/// A proof-of-work search in progress, for dashboards.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MiningProgress {
    pub block_number: u64,
    pub difficulty: u32,
    pub elapsed_ms: u64,
    pub tries: u64,
    /// Tries per second so far.
    pub hash_rate: f64,
    /// Tries a block at this difficulty needs on average (2^difficulty).
    pub expected_tries: f64,
}

struct Search {
    block_number: u64,
    difficulty: Difficulty,
    started: Instant,
    tries: Arc<AtomicU64>,
}

impl Search {
    fn progress(&self) -> MiningProgress {
        let elapsed = self.started.elapsed();
        let tries = self.tries.load(Ordering::Relaxed);
        MiningProgress {
            block_number: self.block_number,
            difficulty: self.difficulty.bits(),
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            tries,
            hash_rate: tries as f64 / elapsed.as_secs_f64().max(1e-6),
            expected_tries: 2f64.powi(i32::try_from(self.difficulty.bits()).unwrap_or(64)),
        }
    }
}

/// A refused transaction.
#[derive(Debug, Error)]
pub enum SubmitError {
    #[error(transparent)]
    Invalid(#[from] TxError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A refused block.
#[derive(Debug, Error)]
pub enum ConnectError {
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The result of offering the node another chain.
#[derive(Debug)]
pub enum Adoption {
    /// The chain was valid and had more work: it is ours now.
    Adopted {
        height: u64,
        reorged_from: u64,
        reinjected: usize,
    },
    /// Valid, but not better than ours: less work, or equal work and a tip that loses the
    /// tie (see `blockchain_core::chain::is_better_tip`).
    NotBetter,
    /// Every block of it is ours already (another sync got there first).
    Known,
}

/// Settings that could not be changed.
#[derive(Debug, Error)]
pub enum UpdateError {
    #[error(transparent)]
    Invalid(#[from] SettingError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A chain that could not be adopted.
#[derive(Debug, Error)]
pub enum AdoptError {
    #[error(transparent)]
    Invalid(#[from] ChainError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

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

/// Settings the node needs beyond network parameters.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub pool_capacity: usize,
    /// Most pending transactions one sender may have.
    pub sender_limit: usize,
    /// Mining threads at most (the machine's cores).
    pub max_threads: usize,
    /// Settings given on the command line: they override the stored ones, and are stored.
    pub settings: SettingsPatch,
}

pub struct Node {
    pub params: NetworkParams,
    /// The node's own wallet, created once and kept in the data dir: where rewards go
    /// unless the operator names another address.
    pub wallet: Address,
    state: RwLock<ChainState>,
    storage: Storage,
    chain_writer: tokio::sync::Mutex<()>,
    pub keys: Arc<crate::keys::KeyCache>,
    /// Bumped on every tip change; a running proof-of-work search watches it.
    tip_generation: AtomicU64,
    /// Searches running now (a Mine click and the background miner may overlap).
    searches: AtomicUsize,
    search: Mutex<Option<Search>>,
    /// How the last search that found a block went.
    last_search: Mutex<Option<MiningProgress>>,
    settings: RwLock<Settings>,
    limits: Limits,
    /// Woken when the pool gains a transaction.
    pub pool_changed: Notify,
    /// Woken when a setting changes.
    pub settings_changed: Notify,
    events: broadcast::Sender<Event>,
}

const META_GENESIS: &str = "genesis_hash";
const META_MINER_KEY: &str = "miner_private_key";
const META_SETTINGS: &str = "settings";
/// Set once the chain is stored as state (headers, balances, ids, index) beside the bodies.
const META_STATE: &str = "state_tables";

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
        if let Some(stored) = storage.meta(META_GENESIS)?
            && stored != genesis.hash().0
        {
            return Err(OpenError::OtherNetwork {
                stored: hex::encode(stored),
                expected: genesis.hash(),
            });
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
                .check_block(&block, params, u64::MAX / 2, Signatures::AlreadyVerified)
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

    /// Read access to chain, ledger and pool. Keep the guard briefly; never across `.await`.
    pub fn read(&self) -> RwLockReadGuard<'_, ChainState> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, ChainState> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Tells the network layer and the dashboards about `event`.
    pub fn publish(&self, event: Event) {
        let _ = self.events.send(event);
    }

    pub fn is_mining(&self) -> bool {
        self.searches.load(Ordering::Relaxed) > 0
    }

    /// The search in progress, if any.
    pub fn mining_progress(&self) -> Option<MiningProgress> {
        self.search
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(Search::progress)
    }

    /// How the last search that found a block went: tries, time, hash rate.
    pub fn last_search(&self) -> Option<MiningProgress> {
        self.last_search
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Where this node's rewards go now: the operator's choice, or its own wallet.
    pub fn reward_address(&self) -> Address {
        self.settings()
            .reward_address
            .unwrap_or_else(|| self.wallet.clone())
    }

    /// Checks `patch`, stores the resulting settings, then applies them.
    ///
    /// # Errors
    /// [`UpdateError::Invalid`] naming the field out of range (nothing changes), or storage.
    pub async fn update_settings(&self, patch: &SettingsPatch) -> Result<Settings, UpdateError> {
        let next = self.settings().apply(patch, self.limits)?;
        self.storage
            .commit(vec![Write::PutMeta {
                key: META_SETTINGS,
                value: serde_json::to_vec(&next.to_json()).expect("settings serialize"),
            }])
            .await?;
        *self
            .settings
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next.clone();
        tracing::info!(settings = %next.to_json(), "settings changed");
        self.settings_changed.notify_waiters();
        self.publish(Event::Settings);
        Ok(next)
    }

    /// Validates a transaction and, if the rules allow it, makes it durable in the pool.
    /// Returns the number of the block it is expected in.
    ///
    /// # Errors
    /// [`SubmitError`]: a broken rule, a full pool, or a storage failure (then the
    /// transaction is not in the pool).
    pub async fn submit(&self, tx: Transaction) -> Result<u64, SubmitError> {
        check_stateless(&tx)?;
        // The JSON holds both addresses, the value, the nonce, the signature and the id in
        // hex: sized up front, it is written without growing.
        let capacity = 192
            + tx.sender().as_str().len()
            + tx.recipient().as_hex().len()
            + tx.value_text().len()
            + tx.nonce().map_or(0, str::len)
            + 2 * tx.signature().len();
        let mut json = Vec::with_capacity(capacity);
        serde_json::to_writer(&mut json, &tx).expect("transactions serialize");
        let (seq, next_block) = {
            let mut state = self.write();
            let seq = Self::admit(&mut state, &tx)?;
            (seq, state.height() + 1)
        };
        self.persist(vec![(seq, tx, json)]).await?;
        Ok(next_block)
    }

    /// As [`Node::submit`] for many transactions, each judged exactly as if submitted alone
    /// and in order (an earlier one's spend counts against a later one's balance);
    /// signatures are checked in parallel, off the async workers, and every accepted one
    /// is durable, in one commit, before this returns. One result per transaction, in order.
    pub async fn submit_many(&self, txs: Vec<Transaction>) -> Vec<Result<u64, SubmitError>> {
        let (txs, checks) = tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            let checks: Vec<Result<(), TxError>> = txs.par_iter().map(check_stateless).collect();
            (txs, checks)
        })
        .await
        .expect("verification does not panic");
        let mut results = Vec::with_capacity(txs.len());
        let mut accepted = Vec::new();
        {
            let mut state = self.write();
            let next_block = state.height() + 1;
            for (tx, check) in txs.into_iter().zip(checks) {
                let admitted = check
                    .map_err(SubmitError::from)
                    .and_then(|()| Self::admit(&mut state, &tx));
                match admitted {
                    Ok(seq) => {
                        results.push(Ok(next_block));
                        accepted.push((results.len() - 1, seq, tx));
                    }
                    Err(error) => results.push(Err(error)),
                }
            }
        }
        if accepted.is_empty() {
            return results;
        }
        let (indexes, entries): (Vec<usize>, Vec<_>) = accepted
            .into_iter()
            .map(|(i, seq, tx)| {
                let json = serde_json::to_vec(&tx).expect("transactions serialize");
                (i, (seq, tx, json))
            })
            .unzip();
        if let Err(error) = self.persist(entries).await {
            for i in indexes {
                results[i] = Err(SubmitError::Storage(error.clone()));
            }
        }
        results
    }

    /// The pool's rules for one transaction whose signature was checked: contextual
    /// validity against chain and pool, then a place in the pool.
    fn admit(state: &mut ChainState, tx: &Transaction) -> Result<u64, SubmitError> {
        check_contextual(tx, &state.ledger, &state.pool)?;
        Ok(state.pool.insert(tx.clone())?)
    }

    /// Makes admitted transactions durable (one commit), then tells the miner and the
    /// network; on a storage failure takes them out of the pool again.
    async fn persist(&self, entries: Vec<(u64, Transaction, Vec<u8>)>) -> Result<(), StorageError> {
        let (writes, txs): (Vec<Write>, Vec<Transaction>) = entries
            .into_iter()
            .map(|(seq, tx, json)| (Write::PutPoolTx { seq, json }, tx))
            .unzip();
        if let Err(error) = self.storage.commit(writes).await {
            let mut state = self.write();
            for tx in &txs {
                state.pool.remove(&tx.id());
            }
            return Err(error);
        }
        self.pool_changed.notify_waiters();
        for tx in txs {
            self.publish(Event::Transaction(tx));
        }
        Ok(())
    }

    /// Mines one block from the oldest pending transactions and makes it durable.
    /// The proof-of-work search runs on its own threads; if the tip moves meanwhile, the
    /// search stops and starts over on the new tip.
    ///
    /// # Errors
    /// A storage failure, or (a bug) a block our own rules refuse.
    ///
    /// The reward goes to `reward_to` when given (as `generatetoaddress` in Bitcoin Core's
    /// regtest), else to the configured reward address.
    pub async fn mine(
        self: &Arc<Self>,
        reward_to: Option<Address>,
    ) -> Result<Arc<Block>, ConnectError> {
        self.searches.fetch_add(1, Ordering::AcqRel);
        self.publish(Event::Mining);
        let result = self.mine_inner(reward_to).await;
        if self.searches.fetch_sub(1, Ordering::AcqRel) == 1 {
            *self
                .search
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
        self.publish(Event::Mining);
        result
    }

    async fn mine_inner(
        self: &Arc<Self>,
        reward_to: Option<Address>,
    ) -> Result<Arc<Block>, ConnectError> {
        loop {
            let generation = self.tip_generation.load(Ordering::Acquire);
            let settings = self.settings();
            let reward_to = reward_to
                .clone()
                .or(settings.reward_address)
                .unwrap_or_else(|| self.wallet.clone());
            let candidate = {
                let state = self.read();
                let tip = &state.tip().block;
                let number = tip.number() + 1;
                let mut transactions = state.pool.oldest(MAX_BLOCK_TRANSACTIONS - 1);
                transactions.push(reward_transaction(&reward_to, &self.params, number));
                let timestamp = now().max(tip.timestamp());
                Block::new(
                    number,
                    timestamp,
                    settings.mining_difficulty.max(self.params.difficulty),
                    tip.hash(),
                    transactions,
                    0,
                )
            };
            let node = Arc::clone(self);
            let template = candidate.header().pow_template();
            let difficulty = candidate.difficulty();
            let tries = Arc::new(AtomicU64::new(0));
            *self
                .search
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Search {
                block_number: candidate.number(),
                difficulty,
                started: Instant::now(),
                tries: Arc::clone(&tries),
            });
            let threads = settings.mining_threads;
            let found = tokio::task::spawn_blocking(move || {
                mining::search(&template, difficulty, threads, &tries, &|| {
                    node.tip_generation.load(Ordering::Relaxed) != generation
                })
            })
            .await
            .expect("the search does not panic");
            let block = match found {
                Ok(nonce) => {
                    *self
                        .last_search
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        self.mining_progress();
                    candidate.with_nonce(nonce)
                }
                Err(SearchEnd::Cancelled | SearchEnd::Exhausted) => continue,
            };
            match self.connect(block, Origin::Mined).await {
                Ok(block) => return Ok(block),
                Err(ConnectError::Block(
                    BlockError::WrongPreviousHash { .. } | BlockError::WrongNumber { .. },
                )) => {
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Connects a block from a peer that extends our tip, verifying its signatures first.
    ///
    /// # Errors
    /// The block's broken rule, or a storage failure.
    pub async fn accept_block(&self, block: Block) -> Result<Arc<Block>, ConnectError> {
        let block = tokio::task::spawn_blocking(move || {
            let payments = block
                .transactions()
                .split_last()
                .map_or(&[][..], |(_, rest)| rest);
            verify_signatures(payments).map(|()| block)
        })
        .await
        .expect("verification does not panic")?;
        self.connect(block, Origin::Peer).await
    }

    async fn connect(&self, block: Block, origin: Origin) -> Result<Arc<Block>, ConnectError> {
        let _writer = self.chain_writer.lock().await;
        let started = Instant::now();
        let (delta, mined_seqs) = {
            let state = self.read();
            let delta = state.ledger.check_block(
                &block,
                &self.params,
                now(),
                Signatures::AlreadyVerified,
            )?;
            let seqs: Vec<u64> = block
                .transactions()
                .iter()
                .filter_map(|tx| state.pool.seq_of(&tx.id()))
                .collect();
            (delta, seqs)
        };
        let checked = started.elapsed();
        let stored = StoredBlock::new(block);
        // The block, its state and the removal of its transactions from the stored pool,
        // atomically.
        let balances: Vec<(Address, Amount)> =
            delta.balances().map(|(a, v)| (a.clone(), v)).collect();
        let mut writes = block_writes(&stored, balances, delta.confirmed());
        writes.extend(mined_seqs.iter().map(|&seq| Write::RemovePoolTx { seq }));
        let prepared = started.elapsed();
        self.storage.commit(writes).await?;
        let committed = started.elapsed();
        let block = Arc::clone(&stored.block);
        let dropped = {
            let mut state = self.write();
            state.ledger.apply(delta);
            state.blocks.push(stored);
            for tx in block.transactions() {
                state.pool.remove(&tx.id());
            }
            if origin == Origin::Peer {
                let ChainState { ledger, pool, .. } = &mut *state;
                pool.revalidate(ledger)
            } else {
                Vec::new()
            }
        };
        self.tip_generation.fetch_add(1, Ordering::AcqRel);
        let at_ms = now_ms();
        tracing::info!(
            number = block.number(),
            transactions = block.transactions().len(),
            ?origin,
            checked_us = checked.as_micros() as u64,
            prepared_us = prepared.as_micros() as u64,
            committed_us = committed.as_micros() as u64,
            applied_us = started.elapsed().as_micros() as u64,
            "block connected"
        );
        // Transactions the new block made invalid: removing them from disk is clean-up only
        // (a restart revalidates the stored pool), so it need not hold up the answer.
        if !dropped.is_empty() {
            let storage = self.storage.downgrade();
            tokio::spawn(async move {
                let writes = dropped
                    .into_iter()
                    .map(|seq| Write::RemovePoolTx { seq })
                    .collect();
                if let Some(Err(error)) = storage.commit(writes).await {
                    tracing::warn!(%error, "pool clean-up after a block was not stored");
                }
            });
        }
        self.publish(Event::Block {
            block: Arc::clone(&block),
            origin,
            at_ms,
        });
        Ok(block)
    }

    /// Validates `blocks` as a whole chain from our genesis and adopts it if it is better
    /// than ours (see [`Node::adopt_branch`]).
    ///
    /// # Errors
    /// The rule the chain breaks, or a storage failure (then nothing changed).
    pub async fn adopt_chain(&self, blocks: Vec<Block>) -> Result<Adoption, AdoptError> {
        let genesis = self.params.genesis_block();
        match blocks.first() {
            None => return Err(ChainError::Empty.into()),
            Some(first) if first.hash() != genesis.hash() => {
                return Err(ChainError::GenesisMismatch {
                    expected: genesis.hash(),
                    got: first.hash(),
                }
                .into());
            }
            Some(_) => {}
        }
        let fork = {
            let state = self.read();
            blocks
                .iter()
                .position(|b| state.blocks.info(b.number()).map(|i| i.hash) != Some(b.hash()))
        };
        let Some(fork) = fork else {
            return Ok(Adoption::NotBetter);
        };
        let branch = tokio::task::spawn_blocking(move || {
            blocks
                .into_iter()
                .skip(fork)
                .map(StoredBlock::new)
                .collect()
        })
        .await
        .expect("serialization does not panic");
        self.adopt_branch(fork as u64, branch, Signatures::Verify)
            .await
    }

    /// Adopts `branch`, the blocks of another chain from number `fork` on (its block
    /// `fork - 1` is ours), if the chain it makes is valid and better than ours. Our blocks
    /// from `fork` on are walked back on a copy of the ledger (a block is its own undo
    /// data), the branch is connected on top, and only then does anything change: on
    /// disk in one commit, then in memory. Transactions of our abandoned blocks that are
    /// still valid go back to the pool; pool transactions the branch holds leave it.
    /// A branch that starts right after our tip is simply a longer chain: the network
    /// layer hands those over a page at a time, so a long sync never holds the whole chain.
    ///
    /// With [`Signatures::AlreadyVerified`] the caller has run `verify_signatures` on every
    /// block's payments (the network layer does it page by page while the next page
    /// downloads); every other rule is checked here.
    ///
    /// # Errors
    /// The rule the branch breaks, or a storage failure (then nothing changed).
    pub async fn adopt_branch(
        &self,
        fork: u64,
        mut branch: Vec<StoredBlock>,
        signatures: Signatures,
    ) -> Result<Adoption, AdoptError> {
        let started = std::time::Instant::now();
        let _writer = self.chain_writer.lock().await;
        let (fork, ledger, abandoned, parents) = {
            let state = self.read();
            // Blocks we hold already (two syncs from the same peer overlap) are skipped.
            let known = branch
                .iter()
                .zip(fork..)
                .take_while(|(b, n)| {
                    state
                        .blocks
                        .info(*n)
                        .is_some_and(|i| i.hash == b.block.hash())
                })
                .count();
            if known == branch.len() {
                return Ok(Adoption::Known);
            }
            branch.drain(..known);
            let fork = fork + known as u64;
            if fork == 0 || fork > state.height() + 1 {
                return Err(AdoptError::Invalid(ChainError::Block {
                    number: fork,
                    error: BlockError::WrongNumber {
                        expected: state.height() + 1,
                        got: fork,
                    },
                }));
            }
            let abandoned = state.blocks.range(fork, u64::MAX)?;
            let parents: Vec<u64> = abandoned
                .iter()
                .map(|b| {
                    state
                        .blocks
                        .info(b.block.number() - 1)
                        .map_or(0, |parent| parent.header.timestamp)
                })
                .collect();
            (fork, state.ledger.clone(), abandoned, parents)
        };
        let params = self.params.clone();
        let (ledger, abandoned, branch) = tokio::task::spawn_blocking(move || {
            let walk_back = abandoned
                .iter()
                .zip(&parents)
                .rev()
                .map(|(b, &parent)| (&*b.block, parent));
            validate_branch(ledger, walk_back, &branch, &params, now(), signatures)
                .map(|ledger| (ledger, abandoned, branch))
        })
        .await
        .expect("validation does not panic")?;
        let ours = self.tip_rank();
        let theirs = rank(&ledger);
        if !is_better_tip(theirs, ours) {
            return Ok(Adoption::NotBetter);
        }
        let validated = started.elapsed();
        let writes = branch_writes(&abandoned, &branch, &ledger);
        self.storage.commit(writes).await?;
        let stored = started.elapsed();

        let orphans: Vec<Transaction> = abandoned
            .iter()
            .flat_map(|b| b.block.transactions().iter().filter(|tx| !tx.is_mint()))
            .cloned()
            .collect();
        let tip = Arc::clone(&branch.last().expect("better than ours, so not empty").block);
        let (height, reinjected, pool_writes, plans_done) = {
            let mut state = self.write();
            let plans_done = state.blocks.truncate(fork);
            for stored in branch {
                state.blocks.push(stored);
            }
            state.ledger = ledger;
            let ChainState { ledger, pool, .. } = &mut *state;
            let dropped = pool.revalidate(ledger);
            let added = pool.reinject(orphans, ledger);
            let mut writes: Vec<Write> = dropped
                .into_iter()
                .map(|seq| Write::RemovePoolTx { seq })
                .collect();
            writes.extend(added.iter().map(|(seq, tx)| Write::PutPoolTx {
                seq: *seq,
                json: serde_json::to_vec(tx).expect("transactions serialize"),
            }));
            let reinjected: Vec<Transaction> = added.into_iter().map(|(_, tx)| tx).collect();
            (state.height(), reinjected, writes, plans_done)
        };
        self.tip_generation.fetch_add(1, Ordering::AcqRel);
        if !pool_writes.is_empty() {
            self.storage.commit(pool_writes).await?;
        }
        if !abandoned.is_empty() {
            self.forget_bodies(&abandoned, plans_done);
        }
        let at_ms = now_ms();
        if abandoned.is_empty() {
            tracing::info!(
                height,
                validated_ms = validated.as_millis() as u64,
                stored_ms = stored.as_millis() as u64,
                "extended the chain from a peer"
            );
        } else {
            tracing::info!(
                height,
                fork,
                reinjected = reinjected.len(),
                validated_ms = validated.as_millis() as u64,
                stored_ms = stored.as_millis() as u64,
                "adopted a chain with more work"
            );
            self.publish(Event::Reorg {
                fork,
                height,
                reinjected: reinjected.len(),
                at_ms,
            });
        }
        self.publish(Event::Block {
            block: tip,
            origin: Origin::Sync,
            at_ms,
        });
        // Orphans back in our pool go on to peers too: they may be the only node that
        // ever saw them.
        let count = reinjected.len();
        for tx in reinjected {
            self.publish(Event::Transaction(tx));
        }
        if count > 0 {
            self.pool_changed.notify_waiters();
        }
        Ok(Adoption::Adopted {
            height,
            reorged_from: fork,
            reinjected: count,
        })
    }

    /// Deletes the bodies a reorg abandoned once `plans_done` fires: every request that
    /// planned to read them (see `crate::blocks::JsonPlan`) has read them or given up.
    fn forget_bodies(
        &self,
        abandoned: &[StoredBlock],
        plans_done: tokio::sync::oneshot::Receiver<()>,
    ) {
        let writes: Vec<Write> = abandoned
            .iter()
            .map(|b| Write::RemoveBody {
                number: b.block.number(),
                hash: b.block.hash().0,
            })
            .collect();
        // A node closed meanwhile keeps them: they are never read again, only take space.
        let storage = self.storage.downgrade();
        tokio::spawn(async move {
            let _ = plans_done.await;
            if let Some(Err(error)) = storage.commit(writes).await {
                tracing::warn!(%error, "abandoned block bodies not deleted");
            }
        });
    }

    /// The work of our chain up to block `number`.
    pub fn work_at(&self, number: u64) -> Work {
        let state = self.read();
        state.blocks.work_at(number, state.ledger.tip().work)
    }

    /// The newest `limit` confirmed transactions that involve `address`, newest first, from
    /// the address index and the stored bodies: the cost of what is asked for, not of the
    /// chain.
    ///
    /// # Errors
    /// A storage failure.
    pub fn history(&self, address: &Address, limit: usize) -> Result<History, StorageError> {
        let (entries, count) = self
            .storage
            .history(&addresses::address_key(address), limit)?;
        let places: Vec<TxPlace> = entries
            .iter()
            .flat_map(TxPlace::all_of)
            .take(limit)
            .collect();
        // Which blocks to read, and each place's block time; an entry from a reorg this
        // state has not seen yet (its hash differs) is skipped.
        let (places, numbers, plan) = {
            let state = self.read();
            let places: Vec<(TxPlace, u64)> = places
                .into_iter()
                .filter_map(|place| {
                    let info = state.blocks.info(place.block)?;
                    (info.hash.0[..8] == place.hash_prefix)
                        .then_some((place, info.header.timestamp))
                })
                .collect();
            let mut numbers: Vec<u64> = places.iter().map(|(p, _)| p.block).collect();
            numbers.dedup();
            let plan = state.blocks.json_plan_of(numbers.iter().copied());
            (places, numbers, plan)
        };
        // One read for every block the history touches.
        let bodies: std::collections::HashMap<u64, Bytes> =
            numbers.into_iter().zip(plan.read(&self.storage)?).collect();
        let items = places
            .into_iter()
            .filter_map(|(place, timestamp)| {
                let body = bodies.get(&place.block)?;
                let (at, len) = (place.offset as usize, place.len as usize);
                (at + len <= body.len()).then(|| HistoryItem {
                    block: place.block,
                    timestamp,
                    json: body.slice(at..at + len),
                })
            })
            .collect();
        Ok(History { items, count })
    }

    /// Our tip as chains are compared.
    pub fn tip_rank(&self) -> TipRank {
        rank(&self.read().ledger)
    }

    /// Where a transaction is: pending, in a block, or unknown.
    pub fn locate(&self, id: &TxId) -> Option<(Transaction, Option<u64>)> {
        let state = self.read();
        if let Some(tx) = state.pool.get(id) {
            return Some((tx.clone(), None));
        }
        let number = state.ledger.confirmed_in(id)?;
        let stored = state.blocks.get(number).ok()??;
        let tx = stored
            .block
            .transactions()
            .iter()
            .find(|tx| tx.id() == *id)?;
        Some((tx.clone(), Some(number)))
    }
}

/// The writes that store a block joining the main chain: its body, header, the balances
/// it sets, the ids it confirms and its address index entries.
fn block_writes(
    stored: &StoredBlock,
    balances: impl IntoIterator<Item = (Address, Amount)>,
    confirmed: &[TxId],
) -> Vec<Write> {
    let block = &stored.block;
    let mut writes = vec![
        Write::PutBody {
            number: block.number(),
            hash: block.hash().0,
            json: stored.json.clone(),
        },
        Write::PutHeader {
            number: block.number(),
            record: BlockInfo::of(block).to_record(),
        },
    ];
    writes.extend(
        balances
            .into_iter()
            .map(|(address, amount)| Write::SetBalance {
                address: address.as_hex().into(),
                units: amount.units(),
            }),
    );
    writes.push(Write::PutBlockIds {
        block: block.number(),
        ids: confirmed.iter().flat_map(|id| id.0).collect(),
    });
    writes.extend(addresses::additions(stored));
    writes
}

/// The writes that switch the stored main chain from `abandoned` to `branch` (both
/// oldest first, from the same fork), leaving `ledger`'s balances.
fn branch_writes(abandoned: &[StoredBlock], branch: &[StoredBlock], ledger: &Ledger) -> Vec<Write> {
    let fork = branch.first().map_or(u64::MAX, |b| b.block.number());
    let mut writes = vec![
        Write::TruncateHeaders { from: fork },
        Write::TruncateBlockIds { from: fork },
    ];
    let mut touched = std::collections::HashSet::new();
    for stored in abandoned {
        writes.extend(addresses::removals(&stored.block));
        for tx in stored.block.transactions() {
            touched.extend(tx.sender().wallet().cloned());
            touched.insert(tx.recipient().clone());
        }
    }
    for stored in branch {
        let ids: Vec<TxId> = stored
            .block
            .transactions()
            .iter()
            .map(Transaction::id)
            .collect();
        writes.extend(block_writes(stored, [], &ids));
        for tx in stored.block.transactions() {
            touched.extend(tx.sender().wallet().cloned());
            touched.insert(tx.recipient().clone());
        }
    }
    let balances = touched.into_iter().map(|address| {
        let amount = ledger.balance(&address);
        (address, amount)
    });
    writes.extend(balances.map(|(address, amount)| Write::SetBalance {
        address: address.as_hex().into(),
        units: amount.units(),
    }));
    writes
}

fn rank(ledger: &Ledger) -> TipRank {
    let tip = ledger.tip();
    TipRank {
        work: tip.work,
        hash: tip.hash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::Amount;

    fn options() -> NodeOptions {
        NodeOptions {
            pool_capacity: 100,
            sender_limit: 100,
            max_threads: 2,
            settings: SettingsPatch::default(),
        }
    }

    #[tokio::test]
    async fn mines_restarts_and_reorgs() {
        let mut rng = rand::rng();
        let alice = PrivateKey::generate(&mut rng, 1024).unwrap();
        let bob = PrivateKey::generate(&mut rng, 1024).unwrap();
        let params = NetworkParams {
            difficulty: Difficulty::new(6).unwrap(),
            allocations: vec![(alice.address().clone(), Amount::from_coins(10).unwrap())],
            ..NetworkParams::default()
        };
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Arc::new(Node::open(dir_a.path(), params.clone(), &options()).unwrap());
        let b = Arc::new(Node::open(dir_b.path(), params.clone(), &options()).unwrap());

        let pay = Transaction::sign(&alice, bob.address(), "4", Some("1")).unwrap();
        assert_eq!(a.submit(pay.clone()).await.unwrap(), 1);
        assert!(matches!(
            a.submit(pay.clone()).await,
            Err(SubmitError::Ledger(LedgerError::AlreadyPending { .. }))
        ));
        let mined = a.mine(None).await.unwrap();
        assert_eq!(mined.transactions().len(), 2);
        assert!(a.read().pool.is_empty());

        // b mines two empty blocks: more work; a adopts them and gets `pay` back in its pool.
        b.mine(None).await.unwrap();
        b.mine(None).await.unwrap();
        let b_chain: Vec<Block> = b
            .read()
            .blocks
            .range(0, u64::MAX)
            .unwrap()
            .iter()
            .map(|s| (*s.block).clone())
            .collect();
        let adoption = a.adopt_chain(b_chain.clone()).await.unwrap();
        assert!(
            matches!(
                adoption,
                Adoption::Adopted {
                    height: 2,
                    reorged_from: 1,
                    reinjected: 1
                }
            ),
            "{adoption:?}"
        );
        assert_eq!(a.locate(&pay.id()).unwrap().1, None, "back to pending");
        assert!(matches!(
            a.adopt_chain(b_chain).await.unwrap(),
            Adoption::NotBetter
        ));

        // The reorg moved the index too: b's rewards are there, a's own reward is gone.
        assert_eq!(a.history(&b.wallet, 10).unwrap().count, 2);
        assert_eq!(a.history(&a.wallet, 10).unwrap().count, 0);
        assert_eq!(a.history(bob.address(), 10).unwrap().count, 0);

        let before = a.read().ledger.clone();
        drop(a);
        let a = Node::open(dir_a.path(), params.clone(), &options()).unwrap();
        assert_eq!(a.read().height(), 2);
        assert_eq!(a.read().pool.len(), 1);
        assert_eq!(a.read().ledger, before, "restored from state exactly");
        drop(a);
        let other = NetworkParams {
            network: "other".into(),
            ..params
        };
        assert!(matches!(
            Node::open(dir_a.path(), other, &options()),
            Err(OpenError::OtherNetwork { .. })
        ));
    }

    fn easy_params(payer: &PrivateKey) -> NetworkParams {
        NetworkParams {
            difficulty: Difficulty::new(1).unwrap(),
            allocations: vec![(payer.address().clone(), Amount::from_coins(10).unwrap())],
            ..NetworkParams::default()
        }
    }

    fn all_blocks(node: &Node) -> Vec<Block> {
        let state = node.read();
        state
            .blocks
            .range(0, u64::MAX)
            .unwrap()
            .iter()
            .map(|s| (*s.block).clone())
            .collect()
    }

    /// The JSON of a plan read past its budget, chunk by chunk.
    async fn streamed_json(
        read: Result<crate::blocks::PlanRead, crate::storage::StorageError>,
    ) -> Vec<bytes::Bytes> {
        use futures_util::StreamExt;
        let crate::blocks::PlanRead::Streamed(mut chunks) = read.unwrap() else {
            panic!("read whole past its budget");
        };
        let mut json = Vec::new();
        while let Some(chunk) = chunks.next().await {
            json.extend(chunk.unwrap());
        }
        json
    }

    /// More blocks than the cache holds: the old ones come back from disk as they were,
    /// history points into them, and a reorg deeper than the cache walks back over them.
    #[tokio::test]
    async fn old_blocks_come_from_disk_and_a_deep_reorg_walks_back_over_them() {
        let mut rng = rand::rng();
        let (alice, bob) = (
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        );
        let params = easy_params(&alice);
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Arc::new(Node::open(dir_a.path(), params.clone(), &options()).unwrap());
        let b = Arc::new(Node::open(dir_b.path(), params.clone(), &options()).unwrap());
        let pay = Transaction::sign(&alice, bob.address(), "3", Some("old")).unwrap();
        a.submit(pay.clone()).await.unwrap();
        let first = a.mine(None).await.unwrap();
        let blocks = crate::blocks::CACHE_BLOCKS as u64 + 20;
        for _ in 1..blocks {
            a.mine(None).await.unwrap();
        }
        {
            let state = a.read();
            assert_eq!(state.height(), blocks);
            let read_back = state.blocks.get(1).unwrap().unwrap();
            assert_eq!(*read_back.block, *first, "block 1 is no longer cached");
            let json = state.blocks.json_plan(0, 3).read(&a.storage).unwrap();
            assert_eq!(json[1], read_back.json);
        }
        // Read past a budget, the rest is streamed in chunks: the same bytes.
        let whole = a
            .read()
            .blocks
            .json_plan(0, blocks + 1)
            .read(&a.storage)
            .unwrap();
        let plan = a.read().blocks.json_plan(0, blocks + 1);
        let streamed = streamed_json(plan.read_or_stream(a.storage.clone(), 1).await).await;
        assert_eq!(streamed, whole);

        let history = a.history(bob.address(), 10).unwrap();
        assert_eq!((history.count, history.items.len()), (1, 1));
        let item = &history.items[0];
        assert_eq!(item.block, 1);
        let tx: Transaction = serde_json::from_slice(&item.json).unwrap();
        assert_eq!(tx, pay);
        assert_eq!(a.locate(&pay.id()).unwrap().1, Some(1));

        // b's longer chain from genesis: a walks back over every block it has.
        for _ in 0..=blocks {
            b.mine(None).await.unwrap();
        }
        // A request that planned to read block 1 before the reorg still reads it after, as
        // does a stream that has read block 1 and not yet blocks 2 and 3.
        let planned = a.read().blocks.json_plan(1, 2);
        let before = a.read().blocks.json_plan(1, 4).read(&a.storage).unwrap();
        let plan = a.read().blocks.json_plan(1, 4);
        let stream = plan.read_or_stream(a.storage.clone(), 1).await;
        let adoption = a.adopt_chain(all_blocks(&b)).await.unwrap();
        assert!(
            matches!(
                adoption,
                Adoption::Adopted {
                    reorged_from: 1,
                    reinjected: 1,
                    ..
                }
            ),
            "{adoption:?}"
        );
        let old_body = a.storage.bodies(&[(1, first.hash().0)]).unwrap();
        assert!(old_body[0].is_some(), "kept while a plan may read it");
        let json = planned.read(&a.storage).unwrap();
        let read: Block = serde_json::from_slice(&json[0]).unwrap();
        assert_eq!(read, *first);
        assert_eq!(streamed_json(stream).await, before);
        // Then it goes.
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while a.storage.bodies(&[(1, first.hash().0)]).unwrap()[0].is_some() {
            assert!(Instant::now() < deadline, "abandoned body never deleted");
            tokio::task::yield_now().await;
        }
        assert_eq!(a.read().ledger, b.read().ledger);
        assert_eq!(a.history(bob.address(), 10).unwrap().count, 0);
        assert_eq!(a.history(&b.wallet, 1000).unwrap().count, blocks + 1);
        assert_eq!(a.locate(&pay.id()).unwrap().1, None, "back to pending");
        let ledger = a.read().ledger.clone();
        drop(a);
        let a = Node::open(dir_a.path(), params, &options()).unwrap();
        assert_eq!(a.read().ledger, ledger);
        assert_eq!(all_blocks(&a), all_blocks(&b));
    }

    /// A data dir written before the state tables (whole blocks by number) is read once,
    /// stored as state, and opens like any other from then on.
    #[tokio::test]
    async fn a_data_dir_from_before_the_state_tables_is_migrated() {
        let mut rng = rand::rng();
        let (alice, bob) = (
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        );
        let params = easy_params(&alice);
        let (source, legacy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let node = Arc::new(Node::open(source.path(), params.clone(), &options()).unwrap());
        node.submit(Transaction::sign(&alice, bob.address(), "2", Some("m")).unwrap())
            .await
            .unwrap();
        for _ in 0..3 {
            node.mine(None).await.unwrap();
        }
        let blocks = all_blocks(&node);
        {
            let db = redb::Database::create(legacy.path().join("chain.redb")).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut table = txn
                    .open_table(redb::TableDefinition::<u64, &[u8]>::new("blocks"))
                    .unwrap();
                for block in &blocks {
                    table
                        .insert(
                            block.number(),
                            serde_json::to_vec(block).unwrap().as_slice(),
                        )
                        .unwrap();
                }
                let mut meta = txn
                    .open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
                    .unwrap();
                meta.insert(META_GENESIS, &blocks[0].hash().0[..]).unwrap();
            }
            txn.commit().unwrap();
        }
        for _ in 0..2 {
            let migrated = Node::open(legacy.path(), params.clone(), &options()).unwrap();
            assert_eq!(migrated.read().ledger, node.read().ledger);
            assert_eq!(all_blocks(&migrated), blocks);
            assert_eq!(migrated.history(bob.address(), 5).unwrap().count, 1);
        }
        let mut legacy_left = 0;
        Storage::open(legacy.path())
            .unwrap()
            .for_each_legacy_block(|_, _| {
                legacy_left += 1;
                Ok::<(), StorageError>(())
            })
            .unwrap();
        assert_eq!(legacy_left, 0, "the old table is dropped");
    }

    /// Two syncs from the same peer overlap: blocks already held are skipped, and a page
    /// that holds nothing new changes nothing.
    #[tokio::test]
    async fn overlapping_pages_skip_what_is_held() {
        let payer = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let params = easy_params(&payer);
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Node::open(dir_a.path(), params.clone(), &options()).unwrap();
        let b = Arc::new(Node::open(dir_b.path(), params, &options()).unwrap());
        for _ in 0..3 {
            b.mine(None).await.unwrap();
        }
        let page = |from: u64, to: u64| b.read().blocks.range(from, to).unwrap();
        let adopt = |from, blocks| a.adopt_branch(from, blocks, Signatures::Verify);
        assert!(matches!(
            adopt(1, page(1, 3)).await.unwrap(),
            Adoption::Adopted {
                height: 2,
                reorged_from: 1,
                ..
            }
        ));
        assert!(matches!(
            adopt(1, page(1, 4)).await.unwrap(),
            Adoption::Adopted {
                height: 3,
                reorged_from: 3,
                ..
            }
        ));
        assert!(matches!(
            adopt(2, page(2, 4)).await.unwrap(),
            Adoption::Known
        ));
        assert!(
            matches!(adopt(5, page(3, 4)).await, Err(AdoptError::Invalid(_))),
            "a page past our tip leaves a gap"
        );
        assert_eq!(a.read().ledger, b.read().ledger);
    }
}
