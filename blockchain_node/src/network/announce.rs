//! Node events (transactions, blocks) sent on to every reachable peer, bounded and best
//! effort; never back to the peer that told us.

use std::sync::Arc;
use std::time::Instant;

use super::Network;
use crate::node::Event;

/// Announcements in flight at once; past that, new ones are dropped (the timer catches up).
pub(super) const MAX_ANNOUNCEMENTS_IN_FLIGHT: usize = 256;
/// Announcements remembered by sender at most (a burst's worth).
const MAX_HEARD: usize = 65_536;

impl Network {
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
            let block = match &event {
                Event::Block { block, .. } => Some((block.number(), block.hash().to_string())),
                _ => None,
            };
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
                let block = block.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    let started = Instant::now();
                    match request.send().await {
                        Ok(answer) => {
                            network.record_contact(&peer, Ok(started.elapsed()));
                            // 201: the block joined its chain, so it is its tip now.
                            if let (Some((number, hash)), reqwest::StatusCode::CREATED) =
                                (block, answer.status())
                            {
                                network.heard_block(&peer, number, hash);
                            }
                        }
                        Err(error) => {
                            tracing::debug!(%peer, %error, "announcement failed");
                            network.record_contact(&peer, Err(&format!("unreachable: {error}")));
                        }
                    }
                });
            }
        }
    }

    /// Announces our tip to one peer (in the background, best effort).
    pub(super) fn offer_tip(&self, peer: &str) {
        let tip = self.node.tip();
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
}
