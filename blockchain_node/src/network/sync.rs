//! Resolve rounds: every peer's chain downloaded at once, verified page by page, and the
//! best one adopted (see the flow in the module above).

use std::sync::Arc;
use std::time::Duration;

use blockchain_api::{ChainPage, PeerOutcome, PeerStatus};
use blockchain_core::chain::{TipRank, is_better_tip};
use blockchain_core::ledger::{BlockError, VerifiedBlock, verify_block};
use blockchain_core::pow::Work;
use blockchain_core::{Block, BlockHash};
use tokio::sync::Semaphore;

use super::Network;
use thiserror::Error;

use super::client::MAX_RESPONSE_BYTES;
use crate::node::{AdoptError, Adoption, Event, StoredBlock};
use crate::wire::WireBlock;

/// Blocks asked for per `/chain` page.
const PAGE_BLOCKS: u64 = 200;
/// Blocks compared per request while looking for the last block a peer shares with us.
const SEARCH_BLOCKS: u64 = 16;
/// Most blocks downloaded from one peer in one round.
const MAX_CHAIN_BLOCKS: u64 = 1_000_000;
/// Chains downloaded at once in a resolve round (each up to
/// [`MAX_RESPONSE_BYTES`](super::client::MAX_RESPONSE_BYTES) a page).
const MAX_DOWNLOADS_IN_FLIGHT: usize = 8;
/// Bound on one whole resolve round, whatever the peers do.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a round with a peer adopted nothing (or stopped partway). Shown to people as text,
/// in the resolve answer and the peer's health.
#[derive(Debug, Error)]
pub(super) enum SyncError {
    #[error("unreachable: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error(
        "answered 404 Not Found to GET {path}: not a node of this protocol (an original \
         tutorial node cannot be a peer)"
    )]
    NotANode { path: String },
    #[error("answered {0}")]
    Status(reqwest::StatusCode),
    #[error("response larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("read failed: {0}")]
    Read(#[source] reqwest::Error),
    #[error("malformed answer: {0}")]
    Malformed(#[source] serde_json::Error),
    #[error("claims {0} blocks; refusing to download that many")]
    TooLong(u64),
    /// A page that does not continue where it was asked to (or a peer could feed the
    /// same page forever).
    #[error("asked for blocks from {from}, got block {got} at position {position}")]
    OutOfOrder {
        from: u64,
        got: u64,
        position: usize,
    },
    #[error("shares no block with us: another network's genesis")]
    OtherGenesis,
    /// A block that does not parse as one.
    #[error("{0}")]
    Unreadable(String),
    #[error("invalid chain: block {number}: {error}")]
    BadSignature {
        number: u64,
        #[source]
        error: BlockError,
    },
    #[error("verification failed: {0}")]
    VerificationPanicked(#[source] tokio::task::JoinError),
    #[error("invalid chain: {0}")]
    Invalid(#[source] AdoptError),
    /// Pages adopted as they arrived up to `kept`, then one that broke a rule.
    #[error("invalid chain after block {kept}, which we kept: {error}")]
    InvalidAfter {
        kept: u64,
        #[source]
        error: AdoptError,
    },
    #[error("adoption failed: {0}")]
    AdoptionPanicked(#[source] tokio::task::JoinError),
    #[error("timed out")]
    TimedOut,
}

/// A round that left our chain as it was: the peer's has no more work.
fn not_better(peer: String) -> PeerOutcome {
    refused(
        peer,
        "no more work than ours (or an equal-work tip that loses the tie)".into(),
    )
}

/// A round that adopted nothing from `peer`, for `reason`.
fn refused(peer: String, reason: String) -> PeerOutcome {
    PeerOutcome {
        adopted: false,
        outcome: reason,
        peer,
    }
}

/// What a peer's chain gave, every signature verified.
enum Fetched {
    /// Its blocks followed our tip: adopted page by page as they arrived, up to `height`
    /// (`None`: the first page was refused).
    Extended {
        height: Option<u64>,
        downloaded: usize,
    },
    /// Its blocks after the last one it shares with us, from `fork` on: adopted whole if
    /// it ranks best.
    Branch {
        fork: u64,
        blocks: Vec<VerifiedBlock<StoredBlock>>,
        rank: TipRank,
        downloaded: usize,
    },
}

/// Verified pages waiting for their turn to be adopted, at most: enough to keep download,
/// verification and adoption overlapping, few enough that a sync holds little (a page of
/// 200 full blocks is tens of megabytes).
const PAGES_AHEAD: usize = 2;

/// A peer's branch waiting to be ranked: the peer, the fork, the blocks, their rank and
/// how many blocks were downloaded.
type Candidate = (String, u64, Vec<VerifiedBlock<StoredBlock>>, TipRank, usize);

/// How a branch ranks, given the work of our chain up to its fork.
fn rank_of(work_before: Work, blocks: &[VerifiedBlock<StoredBlock>]) -> TipRank {
    TipRank {
        work: blocks.iter().fold(work_before, |work, b| {
            work.saturating_add(b.block().difficulty().work())
        }),
        hash: blocks.last().map(|b| b.block().hash()).unwrap_or_default(),
    }
}

/// Checks that a page's blocks are numbered on from `from`.
pub(super) fn in_order(from: u64, chain: &[WireBlock]) -> Result<(), SyncError> {
    match chain
        .iter()
        .enumerate()
        .find(|(i, b)| b.block_number != from + *i as u64)
    {
        Some((position, block)) => Err(SyncError::OutOfOrder {
            from,
            got: block.block_number,
            position,
        }),
        None => Ok(()),
    }
}

impl Network {
    /// Resolves with every peer at a fixed interval.
    pub async fn sync_periodically(self: Arc<Self>, every: Duration) {
        let mut ticker = tokio::time::interval(every);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let outcomes = self.resolve().await;
            if outcomes.iter().any(|o| o.adopted) {
                tracing::info!(?outcomes, "periodic sync adopted a chain");
            }
        }
    }

    /// Asks every peer for its chain and adopts the valid one with the most work, if it
    /// has more than ours. Returns within [`RESOLVE_TIMEOUT`] whatever the peers do.
    pub async fn resolve(self: &Arc<Self>) -> Vec<PeerOutcome> {
        let _round = self.resolving.lock().await;
        self.resolve_peers(self.peers()).await
    }

    /// One round with `peers`: downloads in parallel (a silent or slow peer costs its own
    /// timeout, not everyone's), then validates one chain at a time, most claimed work
    /// first, each adoption raising the bar for the next. The caller holds `resolving`.
    async fn resolve_peers(self: &Arc<Self>, peers: Vec<String>) -> Vec<PeerOutcome> {
        let deadline = tokio::time::Instant::now() + RESOLVE_TIMEOUT;
        let downloads = Arc::new(Semaphore::new(MAX_DOWNLOADS_IN_FLIGHT));
        let mut fetches = tokio::task::JoinSet::new();
        for peer in &peers {
            let (network, peer, downloads) =
                (Arc::clone(self), peer.clone(), Arc::clone(&downloads));
            fetches.spawn(async move {
                let fetched = tokio::time::timeout_at(deadline, async {
                    let _slot = downloads.acquire_owned().await;
                    let started = std::time::Instant::now();
                    let fetched = network.fetch_chain(&peer).await;
                    if let Ok(Some(
                        Fetched::Extended { downloaded, .. } | Fetched::Branch { downloaded, .. },
                    )) = &fetched
                    {
                        tracing::info!(%peer, blocks = downloaded, elapsed = ?started.elapsed(), "downloaded a chain");
                    }
                    fetched
                })
                .await
                .unwrap_or_else(|_| Err(SyncError::TimedOut));
                (peer, fetched)
            });
        }
        let mut outcomes: Vec<PeerOutcome> = Vec::with_capacity(peers.len());
        let mut candidates: Vec<Candidate> = Vec::new();
        while let Some(joined) = fetches.join_next().await {
            let Ok((peer, fetched)) = joined else {
                continue;
            };
            match fetched {
                Ok(Some(Fetched::Branch {
                    fork,
                    blocks,
                    rank,
                    downloaded,
                })) => candidates.push((peer, fork, blocks, rank, downloaded)),
                Ok(Some(Fetched::Extended {
                    height: Some(height),
                    downloaded,
                })) => outcomes.push(PeerOutcome {
                    outcome: format!(
                        "adopted its chain: height {height} ({downloaded} blocks downloaded and added as they arrived)"
                    ),
                    adopted: true,
                    peer,
                }),
                Ok(Some(Fetched::Extended { height: None, .. }) | None) => {
                    outcomes.push(not_better(peer));
                }
                Err(error) => outcomes.push(refused(peer, error.to_string())),
            }
        }
        // Best first: each adoption raises the bar for the next.
        candidates.sort_by(|a, b| {
            if is_better_tip(a.3, b.3) {
                std::cmp::Ordering::Less
            } else if is_better_tip(b.3, a.3) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        for (peer, fork, blocks, rank, downloaded) in candidates {
            // What a chain claims in work costs nothing to sum; only a chain that would
            // win is worth validating.
            if !is_better_tip(rank, self.node.tip_rank()) {
                self.keep_losing_branch(&peer, fork, blocks);
                outcomes.push(not_better(peer));
                continue;
            }
            // Adoption runs to its end on its own task even if the round's time is up:
            // dropping it halfway would leave storage and memory disagreeing.
            let node = Arc::clone(&self.node);
            let started = std::time::Instant::now();
            let from = peer.clone();
            let adoption =
                tokio::spawn(
                    async move { node.adopt_branch_from(fork, blocks, Some(&from)).await },
                );
            let outcome = match tokio::time::timeout_at(deadline, adoption).await {
                Ok(Ok(Ok(Adoption::Adopted {
                    height,
                    reorged_from,
                    reinjected,
                }))) => PeerOutcome {
                    outcome: format!(
                        "adopted its chain: height {height} ({downloaded} blocks downloaded), replaced blocks from {reorged_from}, {reinjected} transactions back to the pool; validated and stored in {:.2} s",
                        started.elapsed().as_secs_f64()
                    ),
                    adopted: true,
                    peer,
                },
                Ok(Ok(Ok(Adoption::NotBetter | Adoption::Known))) => not_better(peer),
                Ok(Ok(Err(error))) => refused(peer, format!("invalid chain: {error}")),
                Ok(Err(join)) => refused(peer, format!("validation failed: {join}")),
                Err(_) => refused(
                    peer,
                    "still validating its chain when the round ended".into(),
                ),
            };
            outcomes.push(outcome);
        }
        outcomes.sort_by(|a, b| a.peer.cmp(&b.peer));
        for outcome in &outcomes {
            let text = outcome.outcome.clone();
            self.record_health(&outcome.peer, |h| h.last_sync = Some(text));
        }
        self.node.publish(Event::Peers);
        outcomes
    }

    /// Downloads one peer's chain after the last block it shares with us: `None` when its
    /// status shows no more work than ours. Each page's payments are checked for their
    /// signatures on the blocking pool while the next page downloads, so the chain returned
    /// (our blocks up to the fork, then the peer's) has every signature verified.
    async fn fetch_chain(&self, peer: &str) -> Result<Option<Fetched>, SyncError> {
        let status: PeerStatus = self.get_json(&format!("{peer}/status")).await?;
        self.record_health(peer, |h| h.height = Some(status.height));
        self.note_tip(peer, &status);
        // What the peer claims only decides whether to download; a peer that names no
        // work or tip is downloaded and judged on what it serves.
        if let Some(theirs) = status.claimed_tip() {
            let ours = self.node.tip_rank();
            if !is_better_tip(theirs, ours) {
                if !self.node.knows_block(status.height, &theirs.hash.0)
                    && let Err(error) = self.fetch_stale(peer, status.height).await
                {
                    tracing::debug!(%peer, %error, "a peer's other tip not kept");
                }
                if is_better_tip(ours, theirs) {
                    // The peer holds a worse tip, perhaps the loser of a tie it never saw
                    // the winner of: offer it ours, and it resolves with us.
                    self.offer_tip(peer);
                }
                return Ok(None);
            }
        }
        if status.height >= MAX_CHAIN_BLOCKS {
            return Err(SyncError::TooLong(status.height));
        }
        let shared = self.common_ancestor(peer, status.height).await?;
        let fork = shared + 1;
        // Blocks that follow our tip are adopted as they arrive; a branch is kept whole
        // until it can be ranked against our chain.
        let extension = shared == self.node.height();
        let (pages_in, mut pages) = tokio::sync::mpsc::channel::<
            tokio::task::JoinHandle<Result<Vec<VerifiedBlock<StoredBlock>>, SyncError>>,
        >(PAGES_AHEAD);
        let node = Arc::clone(&self.node);
        let from_peer = peer.to_owned();
        // On its own task: a round that times out stops downloading, but an adoption in
        // progress finishes (storage and memory move together).
        let adopter = tokio::spawn(async move {
            let mut branch = Vec::new();
            let mut downloaded = 0;
            let mut next = fork;
            let mut height = None;
            while let Some(page) = pages.recv().await {
                let page = page.await.map_err(SyncError::VerificationPanicked)??;
                downloaded += page.len();
                if !extension {
                    branch.extend(page);
                    continue;
                }
                let count = page.len() as u64;
                match node.adopt_branch_from(next, page, Some(&from_peer)).await {
                    Ok(Adoption::Adopted { height: h, .. }) => {
                        height = Some(h);
                        next += count;
                    }
                    // Another round from this peer got there first.
                    Ok(Adoption::Known) => next += count,
                    Ok(Adoption::NotBetter) => break,
                    Err(error) => {
                        return Err(match height {
                            Some(kept) => SyncError::InvalidAfter { kept, error },
                            None => SyncError::Invalid(error),
                        });
                    }
                }
            }
            if extension {
                return Ok(Fetched::Extended { height, downloaded });
            }
            let rank = rank_of(node.work_at(fork - 1), &branch);
            Ok(Fetched::Branch {
                fork,
                blocks: branch,
                rank,
                downloaded,
            })
        });
        let mut next: u64 = fork;
        loop {
            let from = next;
            let page: ChainPage<WireBlock> = self
                .get_json(&format!("{peer}/chain?from={from}&limit={PAGE_BLOCKS}"))
                .await?;
            if page.chain.is_empty() {
                break;
            }
            if page.length > MAX_CHAIN_BLOCKS {
                return Err(SyncError::TooLong(page.length));
            }
            // Pages must continue where the last one ended, or a peer could feed the same
            // page forever.
            in_order(from, &page.chain)?;
            next += page.chain.len() as u64;
            let node = Arc::clone(&self.node);
            let verified = tokio::task::spawn_blocking(move || {
                let blocks = page
                    .chain
                    .into_iter()
                    .map(|wire| wire.into_block(&node.keys))
                    .collect::<Result<Vec<Block>, String>>()
                    .map_err(SyncError::Unreadable)?;
                // Serialized here, in parallel with the download, not when adopting.
                blocks
                    .into_iter()
                    .map(|block| {
                        let number = block.number();
                        verify_block(block)
                            .map(VerifiedBlock::map_into)
                            .map_err(|error| SyncError::BadSignature { number, error })
                    })
                    .collect()
            });
            if pages_in.send(verified).await.is_err() {
                // The adopter stopped: its answer says why.
                break;
            }
            if next >= page.length {
                break;
            }
        }
        drop(pages_in);
        adopter
            .await
            .map_err(SyncError::AdoptionPanicked)?
            .map(Some)
    }

    /// The number of the highest block the peer shares with us. Compares the blocks' hashes
    /// a few at a time down from the lower tip, stepping back twice as far each time, so a
    /// peer a few blocks ahead costs one small request rather than its whole chain. A hash
    /// a peer claims is only a hint: the chain it leads to is validated from genesis.
    pub(super) async fn common_ancestor(
        &self,
        peer: &str,
        peer_height: u64,
    ) -> Result<u64, SyncError> {
        let our_height = self.node.height();
        let mut end = our_height.min(peer_height);
        let mut step = SEARCH_BLOCKS;
        loop {
            let start = end.saturating_sub(SEARCH_BLOCKS - 1);
            let page: ChainPage<WireBlock> = self
                .get_json(&format!(
                    "{peer}/chain?from={start}&limit={}",
                    end - start + 1
                ))
                .await?;
            in_order(start, &page.chain)?;
            let hashes: Vec<Option<BlockHash>> = page.chain.iter().map(|wire| wire.hash).collect();
            if let Some(number) = self.node.last_shared(start, &hashes) {
                return Ok(number);
            }
            if start == 0 {
                // A peer that names its hashes and matches none has another genesis; one
                // that names none is downloaded whole and validated.
                return match page.chain.first().and_then(|wire| wire.hash) {
                    Some(_) => Err(SyncError::OtherGenesis),
                    None => Ok(0),
                };
            }
            end = start.saturating_sub(step);
            step = step.saturating_mul(2);
        }
    }

    /// A peer's block that does not extend our tip: it may be on a chain with more work.
    pub fn resolve_in_background(self: &Arc<Self>, peer: Option<String>) {
        let network = Arc::clone(self);
        tokio::spawn(async move {
            let outcomes = match peer {
                Some(peer) if network.peers().contains(&peer) => {
                    let _round = network.resolving.lock().await;
                    network.resolve_peers(vec![peer]).await
                }
                _ => network.resolve().await,
            };
            tracing::debug!(?outcomes, "resolved after an unconnected block");
        });
    }
}
