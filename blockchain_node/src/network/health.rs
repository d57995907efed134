//! What this node has seen of each peer: answers, failures, round-trip times; an
//! unreachable peer backs off and is tried again when its wait ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Network;
use super::sync::PeerStatus;
use crate::node::Event;

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

/// Longest wait before an unreachable peer is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How often the node looks for unreachable peers due for another try.
const RETRY_CHECK: Duration = Duration::from_secs(1);

/// The wait after `failures` failures in a row: 1 s, 2 s, 4 s, … up to [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(6)).min(MAX_BACKOFF)
}

impl Network {
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
    pub(super) fn reachable_peers(&self) -> Vec<String> {
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
    pub(super) fn record_contact(&self, peer: &str, result: Result<Duration, &str>) {
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

    pub(super) fn record_health(&self, peer: &str, update: impl FnOnce(&mut PeerHealth)) {
        let mut health = self
            .health
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = health.get_mut(peer) {
            update(entry);
        }
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
}
