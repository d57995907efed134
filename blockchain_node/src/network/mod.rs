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
//!
//! One concern per module, each with its own `impl Network` block:
//!
//! ```text
//!  peer_url  what a peer's URL may be, parsed and normalised once
//!  register  adding and removing peers, durably
//!  admit     whether a URL answers as a node of our network, before it is added
//!  health    what we have seen of each peer; backoff and retries
//!  announce  node events sent on to peers
//!  sync      resolve rounds: download, verify and adopt the best chain
//!  tips      peers' tips as last heard; their losing branches kept for the block tree
//!  client    the HTTP client and its bounded JSON GET
//!  found     how each peer was found (--peer, operator, itself, mDNS)
//!  discovery --discover: this node announced over mDNS, same-network nodes registered
//! ```

mod admit;
mod announce;
mod client;
pub mod discovery;
mod found;
mod health;
mod peer_url;
mod register;
mod sync;
mod tips;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use tokio::sync::Semaphore;

use crate::node::Node;

pub use found::PEER_AGENT;
pub use peer_url::{PeerUrl, PeerUrlError, parse_peer_url};
pub use register::{Refused, RegisterError, Registration};

/// Most peers a node keeps unless `--max-peers` says otherwise.
pub const DEFAULT_MAX_PEERS: usize = 64;

/// The node's peers and its client for talking to them.
pub struct Network {
    node: Arc<Node>,
    peers: RwLock<BTreeSet<PeerUrl>>,
    /// Which peer announced a transaction or block to us (by id or hash), so it is not sent
    /// back: it has it already. Bounded; an entry is used once.
    heard_from: std::sync::Mutex<HashMap<[u8; 32], String>>,
    health: RwLock<HashMap<String, health::PeerRecord>>,
    /// Each peer's tip as last heard (see `tips`).
    tips: RwLock<HashMap<String, tips::PeerTip>>,
    client: reqwest::Client,
    /// This node's own URL, sent to peers so they register us back.
    self_url: RwLock<Option<String>>,
    in_flight: Arc<Semaphore>,
    /// The most peers kept (`--max-peers`).
    max_peers: std::sync::atomic::AtomicUsize,
    resolving: tokio::sync::Mutex<()>,
    /// How each peer was found (see `found`).
    found: RwLock<HashMap<String, blockchain_api::PeerSource>>,
}

impl Network {
    pub fn new(node: Arc<Node>, stored_peers: Vec<String>) -> Arc<Self> {
        Arc::new(Network {
            node,
            // Stored once parsed, so each parses again as itself.
            peers: RwLock::new(
                stored_peers
                    .iter()
                    .filter_map(|peer| PeerUrl::parse(peer).ok())
                    .collect(),
            ),
            health: RwLock::new(HashMap::new()),
            tips: RwLock::new(HashMap::new()),
            heard_from: std::sync::Mutex::new(HashMap::new()),
            client: client::build(),
            self_url: RwLock::new(None),
            in_flight: Arc::new(Semaphore::new(announce::MAX_ANNOUNCEMENTS_IN_FLIGHT)),
            max_peers: std::sync::atomic::AtomicUsize::new(DEFAULT_MAX_PEERS),
            resolving: tokio::sync::Mutex::new(()),
            found: RwLock::new(
                stored_peers
                    .iter()
                    .filter_map(|peer| PeerUrl::parse(peer).ok())
                    .map(|peer| (peer.as_str().to_owned(), blockchain_api::PeerSource::Stored))
                    .collect(),
            ),
        })
    }

    /// Sets the most peers kept (`--max-peers`).
    pub fn set_max_peers(&self, max: usize) {
        self.max_peers
            .store(max, std::sync::atomic::Ordering::Relaxed);
    }

    /// The most peers kept.
    pub fn max_peers(&self) -> usize {
        self.max_peers.load(std::sync::atomic::Ordering::Relaxed)
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

    /// Every peer's URL, in URL order.
    pub fn peers(&self) -> Vec<String> {
        self.peers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|peer| peer.as_str().to_owned())
            .collect()
    }
}
