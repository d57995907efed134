//! The node: core rules composed with storage, time and mining.
//!
//! State lives in memory behind one `RwLock` (chain, ledger, pool) and on disk in redb.
//! Every change to the chain goes through `chain_writer`, an async mutex held while a
//! block is checked, made durable and applied, so the chain on disk and in memory move
//! together and in order. Transactions enter the pool under the `RwLock` alone and are
//! acknowledged once the group committer has them on disk.
//!
//! The state, its lock and the storage are private to this module: handlers and the
//! network layer ask `query`'s methods, each of which takes the lock briefly and returns
//! owned data, so no caller can hold the lock across an `.await`.
//!
//! ## When the disk refuses a write
//!
//! Every change follows one order: check, commit, and only then change memory (`connect`,
//! `reorg`, settings) — or, for a payment, admit it to the pool and take it out again if its
//! commit fails (`submit`). So a failed commit leaves memory as the disk is, and there is
//! nothing to undo. The storage layer does the rest (see `crate::storage`): it reopens the
//! database at once (reads go on), refuses writes with the cause while the disk is full
//! or failing, and takes them again as soon as a probe write succeeds. Meanwhile `mine`
//! refuses at once instead of searching for a block it could not store, the background
//! miner waits for the disk, and a peer's block is refused (the peer, or our next sync,
//! offers it again). Afterwards nothing needs a restart. A process killed meanwhile starts
//! from the last commit: everything acknowledged was committed.
//!
//! One concern per module, each with its own `impl Node` block:
//!
//! ```text
//!  open     start-up: the data dir, the stored state, migration, the node's own wallet
//!  submit   transactions into the pool, durably (submit, submit_many)
//!  mine     the proof-of-work search on our tip
//!  connect  one block onto our tip (mined here or from a peer)
//!  reorg    another chain or branch with more work (adopt_chain, adopt_branch)
//!  query    read-only answers for the HTTP layer and the network layer
//!  writes   the storage writes a block or a branch makes
//!  proof    where a transaction sits, for its Merkle proof
//!  search   block hashes and transaction ids by a hex prefix, for the search box
//!  tree     arrivals and stale blocks, for the block tree
//! ```

mod connect;
mod detached;
mod faucet;
mod mine;
mod open;
mod proof;
mod query;
mod reorg;
mod search;
mod submit;
mod tree;
mod writes;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use blockchain_api::{BlockOrigin, MiningProgress};
use blockchain_core::chain::TipRank;
use blockchain_core::{Address, Block, Ledger, NetworkParams, Transaction};
use thiserror::Error;
use tokio::sync::{Notify, broadcast};

use crate::blocks::ChainBlocks;
use crate::pool::PendingPool;
use crate::settings::{Limits, SettingError, Settings, SettingsPatch};
use crate::storage::{Storage, StorageError, Write};

pub use connect::ConnectError;
pub use detached::DetachedError;
pub use faucet::FaucetError;
use mine::Search;
pub use open::OpenError;
pub use proof::ProofPlace;
pub use query::{
    BalanceView, BlockPlace, ChainPage, ChainStatus, History, HistoryItem, NoSuchBlock,
};
pub use reorg::{AdoptError, Adoption};
pub use search::HexPrefix;
pub use submit::SubmitError;
pub use tree::MAX_STALE;

/// Seconds since the Unix epoch, by this node's clock.
pub(crate) fn now() -> u64 {
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
struct ChainState {
    blocks: ChainBlocks,
    ledger: Ledger,
    pool: PendingPool,
}

impl ChainState {
    fn tip(&self) -> &StoredBlock {
        self.blocks.tip()
    }
    fn height(&self) -> u64 {
        self.ledger.tip().number
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
        origin: BlockOrigin,
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
    /// Storage began refusing writes, or takes them again (see `crate::storage`).
    Storage,
    /// A block was kept off the best chain (abandoned, or a peer's that lost).
    Stale { number: u64, hash: [u8; 32] },
}

/// Settings that could not be changed.
#[derive(Debug, Error)]
pub enum UpdateError {
    #[error(transparent)]
    Invalid(#[from] SettingError),
    #[error(transparent)]
    Storage(#[from] StorageError),
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
    pub(crate) keys: Arc<crate::keys::KeyCache>,
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
    pub(crate) pool_changed: Notify,
    /// Woken when a setting changes.
    pub(crate) settings_changed: Notify,
    events: broadcast::Sender<Event>,
    /// Arrivals and stale blocks, for the block tree (see `tree`).
    tree: Mutex<tree::BlockTree>,
}

pub(crate) const META_GENESIS: &str = "genesis_hash";
pub(crate) const META_MINER_KEY: &str = "miner_private_key";
pub(crate) const META_SETTINGS: &str = "settings";
/// Set once the chain is stored as state (headers, balances, ids, index) beside the bodies.
const META_STATE: &str = "state_tables";

impl Node {
    /// Read access to chain, ledger and pool. Keep the guard briefly; never across `.await`.
    fn read(&self) -> RwLockReadGuard<'_, ChainState> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, ChainState> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Tells the network layer and the dashboards about `event`.
    pub(crate) fn publish(&self, event: Event) {
        let _ = self.events.send(event);
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

    /// Keeps `peers` in the data dir, durably (see [`Node::stored_peers`]).
    ///
    /// # Errors
    /// A storage failure.
    pub(crate) async fn store_peers(
        &self,
        peers: impl IntoIterator<Item = String>,
    ) -> Result<(), StorageError> {
        self.storage
            .commit(peers.into_iter().map(Write::PutPeer).collect())
            .await
    }

    /// Forgets a stored peer, durably.
    ///
    /// # Errors
    /// A storage failure.
    pub(crate) async fn forget_peer(&self, peer: &str) -> Result<(), StorageError> {
        self.storage
            .commit(vec![Write::RemovePeer(peer.to_owned())])
            .await
    }
}

fn rank(ledger: &Ledger) -> TipRank {
    let tip = ledger.tip();
    TipRank {
        work: tip.work,
        hash: tip.hash,
    }
}
