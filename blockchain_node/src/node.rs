//! The node: core rules composed with storage, time and mining.
//!
//! State lives in memory behind one `RwLock` (chain, ledger, pool) and on disk in redb.
//! Every change to the chain goes through `chain_writer`, an async mutex held while a
//! block is checked, made durable and applied, so the chain on disk and in memory move
//! together and in order. Transactions enter the pool under the `RwLock` alone and are
//! acknowledged once the group committer has them on disk.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use blockchain_core::chain::validate_chain_with;
use blockchain_core::ledger::{
    BlockError, LedgerError, MAX_BLOCK_TRANSACTIONS, Signatures, check_contextual,
    reward_transaction, verify_signatures,
};
use blockchain_core::transaction::check_stateless;
use blockchain_core::{
    Address, Block, BlockHash, ChainError, Ledger, NetworkParams, PrivateKey, Transaction, TxError,
    TxId,
};
use bytes::Bytes;
use thiserror::Error;
use tokio::sync::{Notify, broadcast};

use crate::mining::{self, SearchEnd};
use crate::pool::{PendingPool, PoolFull};
use crate::storage::{Storage, StorageError, Write};

/// Seconds since the Unix epoch, by this node's clock.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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

/// The chain, its ledger and the pool, always consistent with each other.
pub struct ChainState {
    pub blocks: Vec<StoredBlock>,
    pub ledger: Ledger,
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
}

/// What the node tells the network layer.
#[derive(Debug, Clone)]
pub enum Event {
    /// A transaction entered the pool from a client or a peer.
    Transaction(Transaction),
    /// A block joined the chain (mined here or received).
    Block(Arc<Block>),
}

/// A refused transaction.
#[derive(Debug, Error)]
pub enum SubmitError {
    #[error(transparent)]
    Invalid(#[from] TxError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    PoolFull(#[from] PoolFull),
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
    /// Valid, but not more work than ours.
    NotMoreWork,
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
    #[error("--miner-address: {0}")]
    MinerAddress(blockchain_core::KeyError),
    #[error("stored miner wallet is unreadable: {0}")]
    MinerWallet(blockchain_core::KeyError),
}

/// Settings the node needs beyond network parameters.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub pool_capacity: usize,
    pub mining_threads: usize,
    pub miner_address: Option<String>,
}

pub struct Node {
    pub params: NetworkParams,
    pub miner: Address,
    state: RwLock<ChainState>,
    storage: Storage,
    chain_writer: tokio::sync::Mutex<()>,
    pub keys: crate::keys::KeyCache,
    /// Bumped on every tip change; a running proof-of-work search watches it.
    tip_generation: AtomicU64,
    mining: AtomicBool,
    mining_threads: usize,
    /// Woken when the pool gains a transaction.
    pub pool_changed: Notify,
    events: broadcast::Sender<Event>,
}

const META_GENESIS: &str = "genesis_hash";
const META_MINER_KEY: &str = "miner_private_key";

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
        let miner = Self::miner_address(&storage, options)?;
        let snapshot = storage.snapshot()?;

        let keys = crate::keys::KeyCache::default();
        let mut ledger = Ledger::new(&params);
        let mut blocks = vec![StoredBlock::new(genesis)];
        for (number, json) in snapshot.blocks.into_iter().skip(1) {
            let corrupt = |reason: String| OpenError::CorruptBlock { number, reason };
            let block = crate::wire::parse_block(&json, &keys).map_err(corrupt)?;
            // Our own disk: signatures were checked before the block was stored.
            ledger
                .connect(&block, &params, u64::MAX / 2, Signatures::AlreadyVerified)
                .map_err(|e| corrupt(e.to_string()))?;
            blocks.push(StoredBlock {
                block: Arc::new(block),
                json: Bytes::from(json),
            });
        }

        let mut pool = PendingPool::new(options.pool_capacity);
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
            miner,
            state: RwLock::new(ChainState {
                blocks,
                ledger,
                pool,
            }),
            storage,
            chain_writer: tokio::sync::Mutex::new(()),
            keys,
            tip_generation: AtomicU64::new(0),
            mining: AtomicBool::new(false),
            mining_threads: options.mining_threads,
            pool_changed: Notify::new(),
            events,
        })
    }

    /// The reward address: given, or the node's own wallet, created once and kept in the
    /// database (the user asked for a mining node; its key never leaves the data dir).
    fn miner_address(storage: &Storage, options: &NodeOptions) -> Result<Address, OpenError> {
        if let Some(hex) = &options.miner_address {
            return Address::from_hex(hex.trim()).map_err(OpenError::MinerAddress);
        }
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

    pub fn is_mining(&self) -> bool {
        self.mining.load(Ordering::Relaxed)
    }

    /// Validates a transaction and, if the rules allow it, makes it durable in the pool.
    /// Returns the number of the block it is expected in.
    ///
    /// # Errors
    /// [`SubmitError`]: a broken rule, a full pool, or a storage failure (then the
    /// transaction is not in the pool).
    pub async fn submit(&self, tx: Transaction) -> Result<u64, SubmitError> {
        check_stateless(&tx)?;
        let json = serde_json::to_vec(&tx).expect("transactions serialize");
        let (seq, next_block) = {
            let mut state = self.write();
            check_contextual(&tx, &state.ledger, &state.pool)?;
            let seq = state.pool.insert(tx.clone())?;
            (seq, state.height() + 1)
        };
        if let Err(error) = self
            .storage
            .commit(vec![Write::PutPoolTx { seq, json }])
            .await
        {
            self.write().pool.remove(&tx.id());
            return Err(error.into());
        }
        self.pool_changed.notify_waiters();
        let _ = self.events.send(Event::Transaction(tx));
        Ok(next_block)
    }

    /// Mines one block from the oldest pending transactions and makes it durable.
    /// The proof-of-work search runs on its own threads; if the tip moves meanwhile, the
    /// search stops and starts over on the new tip.
    ///
    /// # Errors
    /// A storage failure, or (a bug) a block our own rules refuse.
    pub async fn mine(self: &Arc<Self>) -> Result<Arc<Block>, ConnectError> {
        self.mining.store(true, Ordering::Relaxed);
        let result = self.mine_inner().await;
        self.mining.store(false, Ordering::Relaxed);
        result
    }

    async fn mine_inner(self: &Arc<Self>) -> Result<Arc<Block>, ConnectError> {
        loop {
            let generation = self.tip_generation.load(Ordering::Acquire);
            let candidate = {
                let state = self.read();
                let tip = &state.tip().block;
                let number = tip.number() + 1;
                let mut transactions = state.pool.oldest(MAX_BLOCK_TRANSACTIONS - 1);
                transactions.push(reward_transaction(&self.miner, &self.params, number));
                let timestamp = now().max(tip.timestamp());
                Block::new(
                    number,
                    timestamp,
                    self.params.difficulty,
                    tip.hash(),
                    transactions,
                    0,
                )
            };
            let node = Arc::clone(self);
            let template = candidate.header().pow_template();
            let difficulty = candidate.difficulty();
            let found = tokio::task::spawn_blocking(move || {
                mining::search(&template, difficulty, node.mining_threads, &|| {
                    node.tip_generation.load(Ordering::Relaxed) != generation
                })
            })
            .await
            .expect("the search does not panic");
            let block = match found {
                Ok(nonce) => candidate.with_nonce(nonce),
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
        let _ = self.events.send(Event::Block(Arc::clone(&block)));
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
            if summary.work() <= state.ledger.tip().work {
                return Ok(Adoption::NotMoreWork);
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
        let tip = Arc::clone(&self.read().tip().block);
        let _ = self.events.send(Event::Block(tip));
        // Orphans back in our pool go on to peers too: they may be the only node that
        // ever saw them.
        let count = reinjected.len();
        for tx in reinjected {
            let _ = self.events.send(Event::Transaction(tx));
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Mined,
    Peer,
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::{Amount, Difficulty};

    fn options() -> NodeOptions {
        NodeOptions {
            pool_capacity: 100,
            mining_threads: 2,
            miner_address: None,
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
        let mined = a.mine().await.unwrap();
        assert_eq!(mined.transactions().len(), 2);
        assert!(a.read().pool.is_empty());

        // b mines two empty blocks: more work; a adopts them and gets `pay` back in its pool.
        b.mine().await.unwrap();
        b.mine().await.unwrap();
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
            Adoption::NotMoreWork
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
