//! Long chains made in process: payments signed on all cores, blocks mined one by one,
//! stored as a data dir's chain.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use blockchain_core::ledger::reward_transaction;
use blockchain_core::{Block, NetworkParams, PrivateKey, Transaction};
use blockchain_node::node::{Node, NodeOptions};
use blockchain_node::settings::SettingsPatch;
use rayon::prelude::*;

/// `count` payments of one coin, each wallet paying the next in turn, signed on all cores.
#[must_use]
pub fn signed_payments(wallets: &[PrivateKey], count: usize) -> Vec<Transaction> {
    (0..count)
        .into_par_iter()
        .map(|i| {
            let (from, to) = (
                &wallets[i % wallets.len()],
                &wallets[(i + 1) % wallets.len()],
            );
            Transaction::sign(from, to.address(), "1", Some(&format!("p{i}"))).expect("valid")
        })
        .collect()
}

/// A chain of `count` blocks on `params`' genesis holding `payments`, spread evenly.
#[must_use]
pub fn mine_chain(
    params: &NetworkParams,
    miner: &PrivateKey,
    payments: Vec<Transaction>,
    count: usize,
) -> Vec<Block> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let per_block = payments.len().div_ceil(count.max(1));
    let mut payments = payments.into_iter();
    let mut blocks = vec![params.genesis_block()];
    for number in 1..=count as u64 {
        let mut txs: Vec<Transaction> = payments.by_ref().take(per_block).collect();
        txs.push(reward_transaction(miner.address(), params, number));
        let parent = blocks.last().expect("genesis").hash();
        let block = Block::new(number, now, params.difficulty, parent, txs, 0);
        let nonce = block
            .header()
            .pow_template()
            .search(params.difficulty, 0, 1, u64::MAX)
            .expect("a nonce within 2^64 tries");
        blocks.push(block.with_nonce(nonce));
    }
    blocks
}

/// Stores `blocks` (from `params`' genesis on) as the chain of a new data dir at `dir`,
/// through the node's own adoption, which stores them as state. Runs its own runtime.
///
/// # Errors
/// When the data dir cannot be made or the chain is refused.
pub fn store_chain(dir: &Path, params: &NetworkParams, blocks: Vec<Block>) -> anyhow::Result<()> {
    let options = NodeOptions {
        pool_capacity: 1000,
        sender_limit: 1000,
        max_threads: 1,
        settings: SettingsPatch::default(),
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let node = Node::open(dir, params.clone(), &options)?;
            node.adopt_chain(blocks).await?;
            Ok(())
        })
}
