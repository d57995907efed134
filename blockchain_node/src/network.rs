//! Peers: registration, propagation and most-work consensus.
//!
//! ```text
//!  node event (tx / block) ──► announce to every peer (bounded, best effort)
//!  POST /blocks from a peer ──► extends our tip? accept : resolve with that peer
//!  timer, /nodes/resolve    ──► fetch every peer's chain at once: find the last block
//!                               it shares with us, then download what follows (paged,
//!                               size-capped, timed out; each page's signatures checked
//!                               on the blocking pool while the next page downloads)
//!                               ──► blocks right after our tip: adopted a page at a
//!                                   time as they arrive (Node::adopt_branch), so a long
//!                                   sync holds a few pages, not the chain
//!                               ──► a branch from an earlier block: most summed work
//!                                   first, Node::adopt_branch (our blocks walked back,
//!                                   theirs connected with every rule; better tip wins)
//! ```
//!
//! A peer is never trusted: what it claims (length, work) only decides whether to
//! download; what it serves is validated with every rule before anything changes.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use blockchain_core::chain::{TipRank, is_better_tip};
use blockchain_core::ledger::{Signatures, verify_signatures};
use blockchain_core::pow::Work;
use blockchain_core::{Block, BlockHash};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::Semaphore;

use crate::node::{Adoption, Event, Node, StoredBlock};
use crate::storage::Write;

/// Most peers a node keeps.
pub const MAX_PEERS: usize = 64;
/// Blocks asked for per `/chain` page.
const PAGE_BLOCKS: u64 = 200;
/// Blocks compared per request while looking for the last block a peer shares with us.
const SEARCH_BLOCKS: u64 = 16;
/// Largest response body read from a peer.
const MAX_RESPONSE_BYTES: usize = 64 << 20;
/// Most blocks downloaded from one peer in one round.
const MAX_CHAIN_BLOCKS: u64 = 1_000_000;
/// Announcements in flight at once; past that, new ones are dropped (the timer catches up).
const MAX_ANNOUNCEMENTS_IN_FLIGHT: usize = 256;
/// Chains downloaded at once in a resolve round (each up to [`MAX_RESPONSE_BYTES`] a page).
const MAX_DOWNLOADS_IN_FLIGHT: usize = 8;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on one whole resolve round, whatever the peers do.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a text is not a peer URL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PeerUrlError {
    #[error("empty node address")]
    Empty,
    #[error("{0:?} is not a URL")]
    Malformed(String),
    #[error("{0:?}: only http and https are supported")]
    Scheme(String),
    #[error("{0:?} has no host")]
    NoHost(String),
    #[error("{0:?}: a node URL is scheme, host and port only (no path, query, user or password)")]
    Extra(String),
}

/// Parses a peer as the original did (`127.0.0.1:5001` or `http://127.0.0.1:5001`) into
/// the canonical `scheme://host:port`.
///
/// # Errors
/// A [`PeerUrlError`] naming the entry.
pub fn parse_peer_url(text: &str) -> Result<String, PeerUrlError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(PeerUrlError::Empty);
    }
    let shown = text.chars().take(100).collect::<String>();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| PeerUrlError::Malformed(shown.clone()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(PeerUrlError::Scheme(shown));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| PeerUrlError::NoHost(shown.clone()))?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || url.path() != "/"
    {
        return Err(PeerUrlError::Extra(shown));
    }
    let port = url
        .port_or_known_default()
        .ok_or(PeerUrlError::Malformed(shown))?;
    Ok(format!("{}://{}:{}", url.scheme(), host, port))
}

/// Parses a comma-separated list; any bad entry rejects the whole list.
///
/// # Errors
/// The first bad entry, with its position.
pub fn parse_peer_list(text: &str) -> Result<Vec<String>, (usize, PeerUrlError)> {
    let mut out = Vec::new();
    for (i, entry) in text.split(',').enumerate() {
        let url = parse_peer_url(entry).map_err(|e| (i + 1, e))?;
        if !out.contains(&url) {
            out.push(url);
        }
    }
    Ok(out)
}

/// What one peer's resolve round did.
#[derive(Debug, Clone, Serialize)]
pub struct PeerOutcome {
    pub peer: String,
    pub outcome: String,
    pub adopted: bool,
}

impl PeerOutcome {
    fn not_better(peer: String) -> Self {
        PeerOutcome {
            peer,
            outcome: "no more work than ours (or an equal-work tip that loses the tie)".into(),
            adopted: false,
        }
    }
    fn refused(peer: String, reason: String) -> Self {
        PeerOutcome {
            peer,
            outcome: reason,
            adopted: false,
        }
    }
}

#[derive(Deserialize)]
struct ChainPage {
    chain: Vec<crate::wire::WireBlock>,
    length: u64,
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
        blocks: Vec<StoredBlock>,
        rank: TipRank,
        downloaded: usize,
    },
}

/// Verified pages waiting for their turn to be adopted, at most: enough to keep download,
/// verification and adoption overlapping, few enough that a sync holds little (a page of
/// 200 full blocks is tens of megabytes).
const PAGES_AHEAD: usize = 2;

#[derive(Deserialize)]
struct PeerStatus {
    height: u64,
    #[serde(default)]
    work: Option<String>,
    #[serde(default)]
    tip_hash: Option<String>,
}

/// How a branch ranks, given the work of our chain up to its fork.
fn rank_of(work_before: Work, blocks: &[StoredBlock]) -> TipRank {
    TipRank {
        work: blocks.iter().fold(work_before, |work, b| {
            work.saturating_add(b.block.difficulty().work())
        }),
        hash: blocks.last().map(|b| b.block.hash()).unwrap_or_default(),
    }
}

/// What this node has seen of a peer lately, for the Configure page and `/nodes/get`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerHealth {
    pub url: String,
    /// Its height at the last status it gave.
    pub height: Option<u64>,
    /// When it last answered (Unix seconds).
    pub last_contact: Option<u64>,
    /// The round-trip time of its last answer.
    pub rtt_ms: Option<f64>,
    /// What the last consensus round with it did.
    pub last_sync: Option<String>,
    /// Requests that failed since it last answered.
    pub failures: u32,
    pub last_error: Option<String>,
    /// Answered the last request sent to it (true until one fails).
    pub reachable: bool,
    /// An unreachable peer is left alone until then (announcements skip it), and then
    /// asked for its status again; each failure doubles the wait, up to [`MAX_BACKOFF`].
    #[serde(skip)]
    pub retry_at: Option<Instant>,
    /// Seconds until that retry, for people.
    pub retry_in_s: Option<u64>,
}

/// Announcements remembered by sender at most (a burst's worth).
const MAX_HEARD: usize = 65_536;

/// Longest wait before an unreachable peer is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How often the node looks for unreachable peers due for another try.
const RETRY_CHECK: Duration = Duration::from_secs(1);

/// The wait after `failures` failures in a row: 1 s, 2 s, 4 s, … up to [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(6)).min(MAX_BACKOFF)
}

/// The node's peers and its client for talking to them.
pub struct Network {
    node: Arc<Node>,
    peers: RwLock<BTreeSet<String>>,
    /// Which peer announced a transaction or block to us (by id or hash), so it is not sent
    /// back: it has it already. Bounded; an entry is used once.
    heard_from: std::sync::Mutex<HashMap<[u8; 32], String>>,
    health: RwLock<HashMap<String, PeerHealth>>,
    client: reqwest::Client,
    /// This node's own URL, sent to peers so they register us back.
    self_url: RwLock<Option<String>>,
    in_flight: Arc<Semaphore>,
    resolving: tokio::sync::Mutex<()>,
}

/// Why a registration failed.
#[derive(Debug, Error)]
pub enum RegisterError {
    #[error("entry {0}: {1}")]
    Url(usize, PeerUrlError),
    #[error("this node keeps at most {MAX_PEERS} peers")]
    TooMany,
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

impl Network {
    pub fn new(node: Arc<Node>, stored_peers: Vec<String>) -> Arc<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(blockchain_http::IDLE_CONNECTION_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("a plain HTTP client builds");
        Arc::new(Network {
            node,
            peers: RwLock::new(stored_peers.into_iter().collect()),
            health: RwLock::new(HashMap::new()),
            heard_from: std::sync::Mutex::new(HashMap::new()),
            client,
            self_url: RwLock::new(None),
            in_flight: Arc::new(Semaphore::new(MAX_ANNOUNCEMENTS_IN_FLIGHT)),
            resolving: tokio::sync::Mutex::new(()),
        })
    }

    /// Sets the URL peers reach us at, once the listener is bound.
    pub fn set_self_url(&self, url: String) {
        *self
            .self_url
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(url);
    }

    fn self_url(&self) -> Option<String> {
        self.self_url
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn peers(&self) -> Vec<String> {
        self.peers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Notes that `peer` announced the item `key` (a transaction id or a block hash).
    pub fn heard(&self, key: [u8; 32], peer: String) {
        let mut heard = self
            .heard_from
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if heard.len() >= MAX_HEARD {
            heard.clear();
        }
        heard.insert(key, peer);
    }

    fn take_heard(&self, key: &[u8; 32]) -> Option<String> {
        self.heard_from
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key)
    }

    /// Every peer with what we know of its health, in URL order.
    pub fn peer_health(&self) -> Vec<PeerHealth> {
        let health = self
            .health
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        self.peers()
            .into_iter()
            .map(|url| {
                let mut entry = health.get(&url).cloned().unwrap_or(PeerHealth {
                    url,
                    reachable: true,
                    ..PeerHealth::default()
                });
                entry.retry_in_s = entry
                    .retry_at
                    .map(|at| at.saturating_duration_since(now).as_secs());
                entry
            })
            .collect()
    }

    /// Peers not waiting out a backoff: the ones worth announcing to now.
    fn reachable_peers(&self) -> Vec<String> {
        let health = self
            .health
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        self.peers()
            .into_iter()
            .filter(|peer| {
                health
                    .get(peer)
                    .and_then(|h| h.retry_at)
                    .is_none_or(|at| at <= now)
            })
            .collect()
    }

    /// Tries unreachable peers again when their backoff ends, so a peer that comes back
    /// is marked healthy within seconds; runs until the node stops.
    pub async fn retry_unreachable(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(RETRY_CHECK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            let due: Vec<String> = {
                let now = Instant::now();
                let mut health = self
                    .health
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                health
                    .values_mut()
                    .filter(|h| h.retry_at.is_some_and(|at| at <= now))
                    .map(|h| {
                        // One try at a time: the answer sets the next retry.
                        h.retry_at = Some(now + MAX_BACKOFF);
                        h.url.clone()
                    })
                    .collect()
            };
            for peer in due {
                let network = Arc::clone(&self);
                tokio::spawn(async move {
                    // Back again: whichever of us fell behind meanwhile catches up.
                    if network.check(&peer).await {
                        network.resolve_in_background(Some(peer));
                    }
                });
            }
        }
    }

    /// Notes an answer from `peer` (or its failure); tells the dashboards when the peer
    /// became reachable or unreachable.
    fn record_contact(&self, peer: &str, result: Result<Duration, &str>) {
        let changed = {
            let mut health = self
                .health
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !self
                .peers
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains(peer)
            {
                return;
            }
            let entry = health.entry(peer.to_owned()).or_insert_with(|| PeerHealth {
                url: peer.to_owned(),
                reachable: true,
                ..PeerHealth::default()
            });
            let was = entry.reachable;
            match result {
                Ok(rtt) => {
                    entry.last_contact = Some(crate::node::now());
                    entry.rtt_ms = Some(rtt.as_secs_f64() * 1000.0);
                    entry.failures = 0;
                    entry.reachable = true;
                    entry.retry_at = None;
                }
                Err(error) => {
                    entry.failures = entry.failures.saturating_add(1);
                    entry.last_error = Some(error.to_owned());
                    entry.reachable = false;
                    entry.retry_at = Some(Instant::now() + backoff(entry.failures));
                }
            }
            was != entry.reachable
        };
        if changed {
            self.node.publish(Event::Peers);
        }
    }

    fn record_health(&self, peer: &str, update: impl FnOnce(&mut PeerHealth)) {
        let mut health = self
            .health
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = health.get_mut(peer) {
            update(entry);
        }
    }

    /// Forgets a peer, durably. Returns whether it was one.
    ///
    /// # Errors
    /// A malformed URL, or storage.
    pub async fn remove(&self, text: &str) -> Result<bool, RegisterError> {
        let url = parse_peer_url(text).map_err(|e| RegisterError::Url(1, e))?;
        if !self.peers().contains(&url) {
            return Ok(false);
        }
        self.node
            .storage()
            .commit(vec![Write::RemovePeer(url.clone())])
            .await?;
        self.peers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&url);
        self.health
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&url);
        tracing::info!(peer = %url, "removed a peer");
        self.node.publish(Event::Peers);
        Ok(true)
    }

    /// Asks a peer for its status now, to fill in its health.
    /// Returns whether it answered.
    pub async fn check(self: &Arc<Self>, peer: &str) -> bool {
        let Ok(status) = self.get_json::<PeerStatus>(&format!("{peer}/status")).await else {
            return false;
        };
        self.record_health(peer, |h| h.height = Some(status.height));
        self.node.publish(Event::Peers);
        true
    }

    /// Adds peers (durably) and asks each new one to register us back.
    ///
    /// # Errors
    /// A bad entry (nothing is registered then), too many peers, or storage.
    pub async fn register(self: &Arc<Self>, list: &str) -> Result<Vec<String>, RegisterError> {
        let urls = parse_peer_list(list).map_err(|(i, e)| RegisterError::Url(i, e))?;
        self.register_urls(urls).await
    }

    /// As [`Network::register`] for parsed URLs.
    ///
    /// # Errors
    /// Too many peers, or storage.
    pub async fn register_urls(
        self: &Arc<Self>,
        urls: Vec<String>,
    ) -> Result<Vec<String>, RegisterError> {
        let me = self.self_url();
        let new: Vec<String> = {
            let peers = self
                .peers
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let new: Vec<String> = urls
                .into_iter()
                .filter(|u| !peers.contains(u) && Some(u) != me.as_ref())
                .collect();
            if peers.len() + new.len() > MAX_PEERS {
                return Err(RegisterError::TooMany);
            }
            new
        };
        if !new.is_empty() {
            self.node
                .storage()
                .commit(new.iter().cloned().map(Write::PutPeer).collect())
                .await?;
            self.peers
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend(new.iter().cloned());
            tracing::info!(peers = ?new, "registered peers");
            self.node.publish(Event::Peers);
            for peer in &new {
                let (network, peer) = (Arc::clone(self), peer.clone());
                tokio::spawn(async move {
                    network.check(&peer).await;
                });
            }
            if let Some(me) = me {
                for peer in &new {
                    let (client, peer, me) = (self.client.clone(), peer.clone(), me.clone());
                    tokio::spawn(async move {
                        let sent = client
                            .post(format!("{peer}/nodes/register"))
                            .json(&serde_json::json!({ "nodes": [me] }))
                            .send()
                            .await;
                        if let Err(error) = sent {
                            tracing::debug!(%peer, %error, "could not register back");
                        }
                    });
                }
            }
        }
        Ok(self.peers())
    }

    /// Forwards node events to peers until the node stops.
    pub async fn announce_events(self: Arc<Self>) {
        let mut events = self.node.subscribe();
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "announcements skipped under load");
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let key = match &event {
                Event::Transaction(tx) => tx.id().0,
                Event::Block { block, .. } => block.hash().0,
                _ => continue,
            };
            // The peer that sent it to us has it. A peer waiting out a backoff is skipped:
            // it would hold a slot for its whole timeout while the others wait; the timer's
            // resolve catches it up later.
            let sender = self.take_heard(&key);
            let mut peers = self.reachable_peers();
            peers.retain(|peer| sender.as_ref() != Some(peer));
            if peers.is_empty() {
                // Alone (as a newcomer's node is): nothing to serialize.
                continue;
            }
            let (path, body) = match &event {
                Event::Transaction(tx) => ("transactions/new", serde_json::to_vec(&tx.to_json())),
                Event::Block { block, .. } => ("blocks", serde_json::to_vec(&**block)),
                _ => continue,
            };
            let Ok(body) = body else { continue };
            let body = bytes::Bytes::from(body);
            for peer in peers {
                let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
                    tracing::debug!(%peer, "announcement dropped: too many in flight");
                    continue;
                };
                let request = self
                    .client
                    .post(format!("{peer}/{path}"))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header("x-peer", self.self_url().unwrap_or_default())
                    .body(body.clone());
                let network = Arc::clone(&self);
                tokio::spawn(async move {
                    let _permit = permit;
                    let started = Instant::now();
                    match request.send().await {
                        Ok(_) => network.record_contact(&peer, Ok(started.elapsed())),
                        Err(error) => {
                            tracing::debug!(%peer, %error, "announcement failed");
                            network.record_contact(&peer, Err(&format!("unreachable: {error}")));
                        }
                    }
                });
            }
        }
    }

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
                .unwrap_or_else(|_| Err("timed out".into()));
                (peer, fetched)
            });
        }
        let mut outcomes: Vec<PeerOutcome> = Vec::with_capacity(peers.len());
        let mut candidates: Vec<(String, u64, Vec<StoredBlock>, TipRank, usize)> = Vec::new();
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
                    outcomes.push(PeerOutcome::not_better(peer));
                }
                Err(reason) => outcomes.push(PeerOutcome::refused(peer, reason)),
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
                outcomes.push(PeerOutcome::not_better(peer));
                continue;
            }
            // Adoption runs to its end on its own task even if the round's time is up:
            // dropping it halfway would leave storage and memory disagreeing.
            let node = Arc::clone(&self.node);
            let started = std::time::Instant::now();
            let adoption = tokio::spawn(async move {
                node.adopt_branch(fork, blocks, Signatures::AlreadyVerified)
                    .await
            });
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
                Ok(Ok(Ok(Adoption::NotBetter | Adoption::Known))) => PeerOutcome::not_better(peer),
                Ok(Ok(Err(error))) => PeerOutcome::refused(peer, format!("invalid chain: {error}")),
                Ok(Err(join)) => PeerOutcome::refused(peer, format!("validation failed: {join}")),
                Err(_) => PeerOutcome::refused(
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
    async fn fetch_chain(&self, peer: &str) -> Result<Option<Fetched>, String> {
        let status: PeerStatus = self.get_json(&format!("{peer}/status")).await?;
        self.record_health(peer, |h| h.height = Some(status.height));
        // What the peer claims only decides whether to download; a peer that names no
        // work or tip is downloaded and judged on what it serves.
        if let (Some(work), Some(hash)) = (
            status.work.as_deref().and_then(|w| w.parse::<u128>().ok()),
            status
                .tip_hash
                .as_deref()
                .and_then(|h| h.parse::<BlockHash>().ok()),
        ) {
            let theirs = TipRank {
                work: Work(work),
                hash,
            };
            let ours = self.node.tip_rank();
            if !is_better_tip(theirs, ours) {
                if is_better_tip(ours, theirs) {
                    // The peer holds a worse tip, perhaps the loser of a tie it never saw
                    // the winner of: offer it ours, and it resolves with us.
                    self.offer_tip(peer);
                }
                return Ok(None);
            }
        }
        if status.height >= MAX_CHAIN_BLOCKS {
            return Err(format!(
                "claims {} blocks; refusing to download that many",
                status.height
            ));
        }
        let shared = self.common_ancestor(peer, status.height).await?;
        let fork = shared + 1;
        // Blocks that follow our tip are adopted as they arrive; a branch is kept whole
        // until it can be ranked against our chain.
        let extension = shared == self.node.read().height();
        let (pages_in, mut pages) = tokio::sync::mpsc::channel::<
            tokio::task::JoinHandle<Result<Vec<StoredBlock>, String>>,
        >(PAGES_AHEAD);
        let node = Arc::clone(&self.node);
        // On its own task: a round that times out stops downloading, but an adoption in
        // progress finishes (storage and memory move together).
        let adopter = tokio::spawn(async move {
            let mut branch = Vec::new();
            let mut downloaded = 0;
            let mut next = fork;
            let mut height = None;
            while let Some(page) = pages.recv().await {
                let page = page
                    .await
                    .map_err(|e| format!("verification failed: {e}"))??;
                downloaded += page.len();
                if !extension {
                    branch.extend(page);
                    continue;
                }
                let count = page.len() as u64;
                match node
                    .adopt_branch(next, page, Signatures::AlreadyVerified)
                    .await
                {
                    Ok(Adoption::Adopted { height: h, .. }) => {
                        height = Some(h);
                        next += count;
                    }
                    // Another round from this peer got there first.
                    Ok(Adoption::Known) => next += count,
                    Ok(Adoption::NotBetter) => break,
                    Err(error) => {
                        return Err(match height {
                            Some(h) => {
                                format!("invalid chain after block {h}, which we kept: {error}")
                            }
                            None => format!("invalid chain: {error}"),
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
            let page: ChainPage = self
                .get_json(&format!("{peer}/chain?from={from}&limit={PAGE_BLOCKS}"))
                .await?;
            if page.chain.is_empty() {
                break;
            }
            if page.length > MAX_CHAIN_BLOCKS {
                return Err(format!(
                    "claims {} blocks; refusing to download that many",
                    page.length
                ));
            }
            // Pages must continue where the last one ended, or a peer could feed the same
            // page forever.
            if let Some((i, block)) = page
                .chain
                .iter()
                .enumerate()
                .find(|(i, b)| b.block_number != from + *i as u64)
            {
                return Err(format!(
                    "asked for blocks from {from}, got block {} at position {i}",
                    block.block_number
                ));
            }
            next += page.chain.len() as u64;
            let node = Arc::clone(&self.node);
            let verified = tokio::task::spawn_blocking(move || {
                let blocks = page
                    .chain
                    .into_iter()
                    .map(|wire| wire.into_block(&node.keys))
                    .collect::<Result<Vec<Block>, String>>()?;
                for block in blocks.iter().filter(|b| b.number() > 0) {
                    let payments = block
                        .transactions()
                        .split_last()
                        .map_or(&[][..], |(_, rest)| rest);
                    verify_signatures(payments)
                        .map_err(|e| format!("invalid chain: block {}: {e}", block.number()))?;
                }
                // Serialized here, in parallel with the download, not when adopting.
                Ok(blocks.into_iter().map(StoredBlock::new).collect())
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
            .map_err(|e| format!("adoption failed: {e}"))?
            .map(Some)
    }

    /// The number of the highest block the peer shares with us. Compares the blocks' hashes
    /// a few at a time down from the lower tip, stepping back twice as far each time, so a
    /// peer a few blocks ahead costs one small request rather than its whole chain. A hash
    /// a peer claims is only a hint: the chain it leads to is validated from genesis.
    async fn common_ancestor(&self, peer: &str, peer_height: u64) -> Result<u64, String> {
        let our_height = self.node.read().height();
        let mut end = our_height.min(peer_height);
        let mut step = SEARCH_BLOCKS;
        loop {
            let start = end.saturating_sub(SEARCH_BLOCKS - 1);
            let page: ChainPage = self
                .get_json(&format!(
                    "{peer}/chain?from={start}&limit={}",
                    end - start + 1
                ))
                .await?;
            let state = self.node.read();
            let mut shared = None;
            for (i, wire) in page.chain.iter().enumerate() {
                let number = start + i as u64;
                if wire.block_number != number {
                    return Err(format!(
                        "asked for blocks from {start}, got block {} at position {i}",
                        wire.block_number
                    ));
                }
                let ours = state.blocks.info(number);
                if ours.is_some_and(|b| Some(b.hash) == wire.hash) {
                    shared = Some(number);
                }
            }
            if let Some(number) = shared {
                return Ok(number);
            }
            if start == 0 {
                // A peer that names its hashes and matches none has another genesis; one
                // that names none is downloaded whole and validated.
                return match page.chain.first().and_then(|wire| wire.hash) {
                    Some(_) => Err("shares no block with us: another network's genesis".into()),
                    None => Ok(0),
                };
            }
            end = start.saturating_sub(step);
            step = step.saturating_mul(2);
        }
    }

    /// Announces our tip to one peer (in the background, best effort).
    fn offer_tip(&self, peer: &str) {
        let tip = Arc::clone(&self.node.read().tip().block);
        let Ok(body) = serde_json::to_vec(&*tip) else {
            return;
        };
        let request = self
            .client
            .post(format!("{peer}/blocks"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("x-peer", self.self_url().unwrap_or_default())
            .body(body);
        let peer = peer.to_owned();
        tokio::spawn(async move {
            if let Err(error) = request.send().await {
                tracing::debug!(%peer, %error, "tip not offered");
            }
        });
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

    /// GETs JSON from a peer, noting in its health whether and how fast it answered.
    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let peer = url
            .find("://")
            .and_then(|scheme| {
                url[scheme + 3..]
                    .find('/')
                    .map(|path| &url[..scheme + 3 + path])
            })
            .unwrap_or(url);
        let started = Instant::now();
        let sent = self.client.get(url).send().await;
        let mut response = match sent {
            Ok(response) => {
                self.record_contact(peer, Ok(started.elapsed()));
                response
            }
            Err(e) => {
                let error = format!("unreachable: {e}");
                self.record_contact(peer, Err(&error));
                return Err(error);
            }
        };
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            // Every path asked here is part of the protocol: a peer without it is no node
            // of ours (an original tutorial node has no `/status`, for one).
            let path = &url[peer.len()..];
            return Err(format!(
                "answered 404 Not Found to GET {path}: not a node of this protocol (an original \
                 tutorial node cannot be a peer)"
            ));
        }
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(format!("response larger than {MAX_RESPONSE_BYTES} bytes"));
        }
        // Sized from the declared length: growing a page of 20 MB by doubling would copy it
        // several times and, for a moment, hold it twice.
        let declared = response.content_length().unwrap_or(0) as usize;
        let mut body = Vec::with_capacity(declared.min(MAX_RESPONSE_BYTES));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("read failed: {e}"))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(format!("response larger than {MAX_RESPONSE_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("malformed answer: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_urls_parse_like_the_original_and_no_further() {
        assert_eq!(
            parse_peer_url("127.0.0.1:5001").unwrap(),
            "http://127.0.0.1:5001"
        );
        assert_eq!(
            parse_peer_url(" http://localhost:5002/ ").unwrap(),
            "http://localhost:5002"
        );
        assert_eq!(
            parse_peer_url("https://[::1]").unwrap(),
            "https://[::1]:443"
        );
        assert_eq!(parse_peer_url("").unwrap_err(), PeerUrlError::Empty);
        assert!(matches!(
            parse_peer_url("http://"),
            Err(PeerUrlError::Malformed(_) | PeerUrlError::NoHost(_))
        ));
        assert!(matches!(
            parse_peer_url("ftp://a:1"),
            Err(PeerUrlError::Scheme(_))
        ));
        assert!(matches!(
            parse_peer_url("http://a:1/x"),
            Err(PeerUrlError::Extra(_))
        ));
        assert!(matches!(
            parse_peer_url("http://u:p@a:1"),
            Err(PeerUrlError::Extra(_))
        ));
        assert!(matches!(
            parse_peer_url("a:99999"),
            Err(PeerUrlError::Malformed(_))
        ));
        assert_eq!(
            parse_peer_list("a:1,b:2,a:1").unwrap(),
            vec!["http://a:1", "http://b:2"]
        );
        assert!(matches!(
            parse_peer_list("a:1,,b:2"),
            Err((2, PeerUrlError::Empty))
        ));
    }
}
