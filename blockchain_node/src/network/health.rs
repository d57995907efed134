//! What this node has seen of each peer: answers, failures, round-trip times; an
//! unreachable peer backs off and is tried again when its wait ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use blockchain_api::{PeerHealth, PeerStatus};

use super::Network;
use crate::node::Event;

/// What this node has seen of a peer lately (as `/nodes/get` and the Configure page show
/// it), and when it is due for another try.
#[derive(Debug, Clone)]
pub(super) struct PeerRecord {
    /// Its `retry_in_s` is filled in when shown, from `retry_at`.
    seen: PeerHealth,
    /// An unreachable peer is left alone until then (announcements skip it), and then
    /// asked for its status again; each failure doubles the wait, up to [`MAX_BACKOFF`].
    retry_at: Option<Instant>,
}

impl PeerRecord {
    /// A peer not heard from yet: reachable until a request fails.
    fn new(url: String) -> Self {
        PeerRecord {
            seen: PeerHealth {
                failures: 0,
                found: None,
                height: None,
                last_contact: None,
                last_error: None,
                last_sync: None,
                reachable: true,
                retry_in_s: None,
                rtt_ms: None,
                url,
            },
            retry_at: None,
        }
    }
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
                let record = health
                    .get(&url)
                    .cloned()
                    .unwrap_or_else(|| PeerRecord::new(url));
                PeerHealth {
                    found: self.found(&record.seen.url),
                    retry_in_s: record
                        .retry_at
                        .map(|at| at.saturating_duration_since(now).as_secs()),
                    ..record.seen
                }
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
                        h.seen.url.clone()
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
            let entry = health
                .entry(peer.to_owned())
                .or_insert_with(|| PeerRecord::new(peer.to_owned()));
            let was = entry.seen.reachable;
            let seen = &mut entry.seen;
            match result {
                Ok(rtt) => {
                    seen.last_contact = Some(crate::node::now());
                    seen.rtt_ms = Some(rtt.as_secs_f64() * 1000.0);
                    seen.failures = 0;
                    seen.reachable = true;
                    entry.retry_at = None;
                }
                Err(error) => {
                    seen.failures = seen.failures.saturating_add(1);
                    seen.last_error = Some(error.to_owned());
                    seen.reachable = false;
                    entry.retry_at = Some(Instant::now() + backoff(seen.failures));
                }
            }
            was != entry.seen.reachable
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
            update(&mut entry.seen);
        }
    }

    /// Asks a peer for its status now, to fill in its health.
    /// Returns whether it answered.
    pub async fn check(self: &Arc<Self>, peer: &str) -> bool {
        let Ok(status) = self.get_json::<PeerStatus>(&format!("{peer}/status")).await else {
            return false;
        };
        self.record_health(peer, |h| h.height = Some(status.height));
        self.note_tip(peer, &status);
        self.node.publish(Event::Peers);
        true
    }
}
