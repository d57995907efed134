//! How each peer was found: named with `--peer`, registered by the operator, registered
//! itself (a node registering back), or discovered over mDNS. Kept in memory; peers read
//! back from the data dir at start are `stored`.

use std::sync::Arc;

use blockchain_api::PeerSource;

use super::{Network, RegisterError};

/// What a node's own peer client calls itself, so a registration it sends (a node
/// registering back) can be told from an operator's. Informational only: it labels a
/// peer, it grants nothing.
pub const PEER_AGENT: &str = concat!("blockchain_node/", env!("CARGO_PKG_VERSION"));

impl Network {
    /// As [`Network::register`] (each URL checked first), noting for each peer it adds
    /// how it was found.
    ///
    /// # Errors
    /// As [`Network::register`].
    pub async fn register_found(
        self: &Arc<Self>,
        list: &str,
        source: PeerSource,
    ) -> Result<Vec<String>, RegisterError> {
        let before = self.peers();
        let after = self.register(list).await?;
        self.note_found(&before, &after, source);
        Ok(after)
    }

    /// Notes `source` for each peer in `after` that was not in `before`: what one
    /// registration added.
    pub fn note_found(&self, before: &[String], after: &[String], source: PeerSource) {
        let mut found = self
            .found
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for peer in after.iter().filter(|peer| !before.contains(peer)) {
            found.insert(peer.clone(), source);
        }
    }

    /// How `peer` was found, if this run knows.
    pub fn found(&self, peer: &str) -> Option<PeerSource> {
        self.found
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(peer)
            .copied()
    }
}
