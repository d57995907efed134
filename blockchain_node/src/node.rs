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

use blockchain_core::chain::{TipRank, is_better_tip, validate_chain_with};
use blockchain_core::ledger::{
    BlockError, LedgerError, MAX_BLOCK_TRANSACTIONS, Signatures, check_contextual,
    reward_transaction, verify_signatures,
};
use blockchain_core::transaction::check_stateless;
use blockchain_core::{
    Address, Block, BlockHash, ChainError, Difficulty, Ledger, NetworkParams, PrivateKey,
    Transaction, TxError, TxId,
};
use bytes::Bytes;
use thiserror::Error;
use tokio::sync::{Notify, broadcast};

use crate::addresses::AddressIndex;
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

/// A block with its JSON, serialized once when it joins the chain and served from then on.
#[derive(Debug, Clone)]
pub struct StoredBlock {
    pub block: Arc<Block>,
    pub json: Bytes,
}

impl StoredBlock {
    /// Serializes `block` once, for storage and for every `/chain` answer after.
    pub fn new(block: Block) -> Self {
        let json = Bytes::from(serde_json::to_vec(&block).expect("blocks serialize"));
        StoredBlock {
            block: Arc::new(block),
            json,
        }
    }
}

impl std::borrow::Borrow<Block> for StoredBlock {
    fn borrow(&self) -> &Block {
        &self.block
    }
}

/// The chain, its ledger, its address index and the pool, always consistent with each
/// other.
pub struct ChainState {
    pub blocks: Vec<StoredBlock>,
    pub ledger: Ledger,
    pub addresses: AddressIndex,
    pub pool: PendingPool,
}

impl ChainState {
    pub fn tip(&self) -> &StoredBlock {
        self.blocks
            .last()
            .expect("the chain always has its genesis block")
    }
    pub fn height(&self) -> u64 {
        self.tip().block.number()
    }

    /// The newest `limit` confirmed transactions that involve `address`, newest first,
    /// each with its block: from the address index, not a scan of the chain.
    pub fn history_of(&self, address: &Address, limit: usize) -> Vec<(&Block, &Transaction)> {
        self.addresses
            .history(address, 0, limit)
            .into_iter()
            .filter_map(|place| {
                let block = &self.blocks.get(usize::try_from(place.block).ok()?)?.block;
                Some((&**block, block.transactions().get(place.index as usize)?))
            })
            .collect()
    }
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
    pub keys: crate::keys::KeyCache,
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
            Some(_) => {}
            None => storage.commit_blocking(vec![
                Write::PutMeta {
                    key: META_GENESIS,
                    value: genesis.hash().0.to_vec(),
                },
                Write::PutBlock {
                    number: 0,
                    json: StoredBlock::new(genesis.clone()).json,
                },
            ])?,
        }
        let wallet = Self::own_wallet(&storage)?;
        let limits = Limits {
            max_threads: options.max_threads.max(1),
            network_difficulty: params.difficulty,
        };
        let settings = Self::restore_settings(&storage, options, limits)?;
        let snapshot = storage.snapshot()?;

        let keys = crate::keys::KeyCache::default();
        let mut ledger = Ledger::new(&params);
        let mut addresses = AddressIndex::default();
        addresses.add(&genesis);
        let mut blocks = vec![StoredBlock::new(genesis)];
        for (number, json) in snapshot.blocks.into_iter().skip(1) {
            let corrupt = |reason: String| OpenError::CorruptBlock { number, reason };
            let block = crate::wire::parse_block(&json, &keys).map_err(corrupt)?;
            // Our own disk: signatures were checked before the block was stored.
            ledger
                .connect(&block, &params, u64::MAX / 2, Signatures::AlreadyVerified)
                .map_err(|e| corrupt(e.to_string()))?;
            addresses.add(&block);
            blocks.push(StoredBlock {
                block: Arc::new(block),
                json: Bytes::from(json),
            });
        }

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
            pool = pool.len(),
            "chain restored"
        );

        let (events, _) = broadcast::channel(4096);
        Ok(Node {
            params,
            wallet,
            state: RwLock::new(ChainState {
                blocks,
                ledger,
                addresses,
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
        let stored = StoredBlock::new(block);
        // The block and the removal of its transactions from the stored pool, atomically.
        let mut writes = vec![Write::PutBlock {
            number: stored.block.number(),
            json: stored.json.clone(),
        }];
        writes.extend(mined_seqs.iter().map(|&seq| Write::RemovePoolTx { seq }));
        self.storage.commit(writes).await?;
        let block = Arc::clone(&stored.block);
        let dropped = {
            let mut state = self.write();
            state.ledger.apply(delta);
            state.addresses.add(&stored.block);
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
            "block connected"
        );
        // Transactions the new block made invalid: removing them from disk is clean-up only
        // (a restart revalidates the stored pool), so it need not hold up the answer.
        if !dropped.is_empty() {
            let storage = self.storage.clone();
            tokio::spawn(async move {
                let writes = dropped
                    .into_iter()
                    .map(|seq| Write::RemovePoolTx { seq })
                    .collect();
                if let Err(error) = storage.commit(writes).await {
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

    /// Validates `blocks` as a whole chain from our genesis and adopts it if it has more
    /// work than ours. Transactions of our abandoned blocks that are still valid go back to
    /// the pool; pool transactions the new chain holds leave it.
    ///
    /// # Errors
    /// The rule the chain breaks, or a storage failure (then nothing changed).
    pub async fn adopt_chain(&self, blocks: Vec<Block>) -> Result<Adoption, AdoptError> {
        let blocks =
            tokio::task::spawn_blocking(move || blocks.into_iter().map(StoredBlock::new).collect())
                .await
                .expect("serialization does not panic");
        self.adopt_chain_with(blocks, Signatures::Verify).await
    }

    /// As [`Node::adopt_chain`], for blocks already serialized; with
    /// [`Signatures::AlreadyVerified`] the caller has run `verify_signatures` on every
    /// block's payments (the network layer does both page by page while the next page
    /// downloads), and every other rule is still checked here.
    ///
    /// # Errors
    /// As [`Node::adopt_chain`].
    pub async fn adopt_chain_with(
        &self,
        blocks: Vec<StoredBlock>,
        signatures: Signatures,
    ) -> Result<Adoption, AdoptError> {
        let params = self.params.clone();
        let started = std::time::Instant::now();
        let (summary, blocks) = tokio::task::spawn_blocking(move || {
            validate_chain_with(&blocks, &params, now(), signatures)
                .map(|summary| (summary, blocks))
        })
        .await
        .expect("validation does not panic")?;

        let _writer = self.chain_writer.lock().await;
        let (fork, orphans) = {
            let state = self.read();
            let theirs = TipRank {
                work: summary.work(),
                hash: summary.ledger.tip().hash,
            };
            if !is_better_tip(theirs, rank(&state.ledger)) {
                return Ok(Adoption::NotBetter);
            }
            let fork = state
                .blocks
                .iter()
                .zip(&blocks)
                .position(|(ours, theirs)| ours.block.hash() != theirs.block.hash())
                .unwrap_or(state.blocks.len().min(blocks.len()));
            let orphans: Vec<Transaction> = state.blocks[fork..]
                .iter()
                .flat_map(|b| {
                    b.block
                        .transactions()
                        .iter()
                        .filter(|tx| !tx.is_mint())
                        .cloned()
                })
                .collect();
            (fork, orphans)
        };
        let new_blocks: Vec<StoredBlock> = blocks.into_iter().skip(fork).collect();
        let mut writes = vec![Write::TruncateBlocks { from: fork as u64 }];
        writes.extend(new_blocks.iter().map(|b| Write::PutBlock {
            number: b.block.number(),
            json: b.json.clone(),
        }));
        let validated = started.elapsed();
        self.storage.commit(writes).await?;
        let stored = started.elapsed();

        let (height, reinjected, pool_writes) = {
            let mut state = self.write();
            let ChainState {
                blocks, addresses, ..
            } = &mut *state;
            addresses.remove(blocks[fork..].iter().map(|b| &*b.block));
            for stored in &new_blocks {
                addresses.add(&stored.block);
            }
            state.blocks.truncate(fork);
            state.blocks.extend(new_blocks);
            state.ledger = summary.ledger;
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
            (state.height(), reinjected, writes)
        };
        self.tip_generation.fetch_add(1, Ordering::AcqRel);
        if !pool_writes.is_empty() {
            self.storage.commit(pool_writes).await?;
        }
        tracing::info!(
            height,
            fork,
            reinjected = reinjected.len(),
            validated_ms = validated.as_millis() as u64,
            stored_ms = stored.as_millis() as u64,
            "adopted a chain with more work"
        );
        let at_ms = now_ms();
        self.publish(Event::Reorg {
            fork: fork as u64,
            height,
            reinjected: reinjected.len(),
            at_ms,
        });
        let tip = Arc::clone(&self.read().tip().block);
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
            reorged_from: fork as u64,
            reinjected: count,
        })
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
        let block = &state.blocks.get(usize::try_from(number).ok()?)?.block;
        let tx = block.transactions().iter().find(|tx| tx.id() == *id)?;
        Some((tx.clone(), Some(number)))
    }
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
        let b_chain: Vec<Block> = b.read().blocks.iter().map(|s| (*s.block).clone()).collect();
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

        drop(a);
        let a = Node::open(dir_a.path(), params.clone(), &options()).unwrap();
        assert_eq!(a.read().height(), 2);
        assert_eq!(a.read().pool.len(), 1);
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
}
