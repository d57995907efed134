//! Peers' tips as last heard (their status, or a block they announced), and the blocks of
//! theirs that lost to ours, kept for the block tree (`GET /blocks/tree`).

use std::sync::Arc;

use blockchain_api::{ChainPage, PeerStatus, TreePeer};
use blockchain_core::VerifiedBlock;
use blockchain_core::chain::verify_blocks;

use super::Network;
use super::sync::{SyncError, in_order};
use crate::node::StoredBlock;
use crate::wire::WireBlock;

/// Most blocks of a peer's losing branch downloaded or checked to keep it as stale.
const MAX_STALE_BRANCH: u64 = 64;

/// A peer's tip: its hash (when it names one) and height.
#[derive(Debug, Clone, Default)]
pub(super) struct PeerTip {
    hash: Option<String>,
    height: Option<u64>,
}

impl Network {
    /// Notes the tip a peer's status names.
    pub(super) fn note_tip(&self, peer: &str, status: &PeerStatus) {
        self.set_tip(peer, status.tip_hash.clone(), status.height);
    }

    /// Notes that `peer` announced block `number` with `hash`: its tip, as far as we know.
    pub fn heard_block(&self, peer: &str, number: u64, hash: String) {
        self.set_tip(peer, Some(hash), number);
    }

    /// Notes a peer's tip; a change is told to the dashboards.
    fn set_tip(&self, peer: &str, hash: Option<String>, height: u64) {
        let tip = PeerTip {
            hash,
            height: Some(height),
        };
        let before = self
            .tips
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(peer.to_owned(), tip.clone());
        if before.is_none_or(|before| before.hash != tip.hash) {
            self.node.publish(crate::node::Event::Peers);
        }
    }

    /// Every peer with its tip as last heard, in URL order.
    pub fn peer_tips(&self) -> Vec<TreePeer> {
        let tips = self
            .tips
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.peer_health()
            .into_iter()
            .map(|health| {
                let tip = tips.get(&health.url).cloned().unwrap_or_default();
                TreePeer {
                    height: tip.height.or(health.height),
                    reachable: health.reachable,
                    tip_hash: tip.hash,
                    url: health.url,
                }
            })
            .collect()
    }

    /// Downloads a peer's branch that ranks below ours (a tie it lost, say) and keeps it
    /// as stale once every rule is checked: the block tree then shows both. Only a short
    /// branch near our tip is worth it.
    pub(super) async fn fetch_stale(&self, peer: &str, height: u64) -> Result<(), SyncError> {
        if height + MAX_STALE_BRANCH < self.node.height() {
            return Ok(());
        }
        let shared = self.common_ancestor(peer, height).await?;
        let fork = shared + 1;
        if height < fork || height - shared > MAX_STALE_BRANCH {
            return Ok(());
        }
        let page: ChainPage<WireBlock> = self
            .get_json(&format!(
                "{peer}/chain?from={fork}&limit={}",
                height - shared
            ))
            .await?;
        in_order(fork, &page.chain)?;
        let node = Arc::clone(&self.node);
        let blocks = tokio::task::spawn_blocking(move || {
            let blocks = page
                .chain
                .into_iter()
                .map(|wire| wire.into_block(&node.keys).map(StoredBlock::new))
                .collect::<Result<Vec<StoredBlock>, String>>()
                .map_err(SyncError::Unreadable)?;
            verify_blocks(blocks).map_err(|e| SyncError::Unreadable(e.to_string()))
        })
        .await
        .map_err(SyncError::VerificationPanicked)??;
        if blocks.is_empty() {
            return Ok(());
        }
        self.node
            .adopt_branch_from(fork, blocks, Some(peer))
            .await
            .map_err(SyncError::Invalid)?;
        Ok(())
    }

    /// A peer's block that does not extend our tip but whose parent is on our chain (two
    /// blocks found at once), its signatures already checked (`Node::check_detached`):
    /// taken as a one-block branch on its own task, adopted if it wins the tie, kept as
    /// stale if not. Either way the block tree shows it.
    pub fn side_block(&self, block: VerifiedBlock<StoredBlock>, peer: Option<String>) {
        let (number, parent, hash) = {
            let block = block.block();
            (block.number(), block.previous_hash().0, block.hash().0)
        };
        let height = self.node.height();
        if number == 0
            || number > height
            || height - number >= MAX_STALE_BRANCH
            || !self.node.on_chain(number - 1, &parent)
            || self.node.knows_block(number, &hash)
        {
            return;
        }
        let Some(peer) = peer else { return };
        let node = Arc::clone(&self.node);
        tokio::spawn(async move {
            if let Err(error) = node
                .adopt_branch_from(number, vec![block], Some(&peer))
                .await
            {
                tracing::debug!(%peer, %error, "a peer's side block not kept");
            }
        });
    }

    /// A downloaded branch that lost to our chain: checked and kept as stale on its own
    /// task, if short.
    pub(super) fn keep_losing_branch(
        &self,
        peer: &str,
        fork: u64,
        blocks: Vec<blockchain_core::ledger::VerifiedBlock<StoredBlock>>,
    ) {
        let last = blocks
            .last()
            .map(|b| (b.block().number(), b.block().hash().0));
        let Some((number, hash)) = last else { return };
        if blocks.len() as u64 > MAX_STALE_BRANCH || self.node.knows_block(number, &hash) {
            return;
        }
        let (node, peer) = (Arc::clone(&self.node), peer.to_owned());
        tokio::spawn(async move {
            if let Err(error) = node.adopt_branch_from(fork, blocks, Some(&peer)).await {
                tracing::debug!(%peer, %error, "a peer's losing branch not kept");
            }
        });
    }
}
