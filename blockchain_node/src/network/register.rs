//! Adding and removing peers: durably first, then in memory; a new peer is asked to
//! register us back.

use std::sync::Arc;

use super::{Network, PeerUrl, PeerUrlError};
use crate::node::Event;
use thiserror::Error;

/// Most peers a node keeps.
const MAX_PEERS: usize = 64;

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
    /// Forgets a peer, durably. Returns whether it was one.
    ///
    /// # Errors
    /// A malformed URL, or storage.
    pub async fn remove(&self, text: &str) -> Result<bool, RegisterError> {
        let url = PeerUrl::parse(text).map_err(|e| RegisterError::Url(1, e))?;
        if !self.peers().iter().any(|peer| peer == url.as_str()) {
            return Ok(false);
        }
        self.node.forget_peer(url.as_str()).await?;
        self.peers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&url);
        self.health
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(url.as_str());
        tracing::info!(peer = %url, "removed a peer");
        self.node.publish(Event::Peers);
        Ok(true)
    }

    /// Adds peers (durably) and asks each new one to register us back.
    ///
    /// # Errors
    /// A bad entry (nothing is registered then), too many peers, or storage.
    pub async fn register(self: &Arc<Self>, list: &str) -> Result<Vec<String>, RegisterError> {
        let urls = PeerUrl::parse_list(list).map_err(|(i, e)| RegisterError::Url(i, e))?;
        self.register_urls(urls).await
    }

    /// As [`Network::register`] for parsed URLs.
    ///
    /// # Errors
    /// Too many peers, or storage.
    async fn register_urls(
        self: &Arc<Self>,
        urls: Vec<PeerUrl>,
    ) -> Result<Vec<String>, RegisterError> {
        let me = self.self_url();
        let new: Vec<PeerUrl> = {
            let peers = self
                .peers
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let new: Vec<PeerUrl> = urls
                .into_iter()
                .filter(|u| !peers.contains(u) && Some(u.as_str()) != me.as_deref())
                .collect();
            if peers.len() + new.len() > MAX_PEERS {
                return Err(RegisterError::TooMany);
            }
            new
        };
        if !new.is_empty() {
            self.node
                .store_peers(new.iter().map(|u| u.as_str().to_owned()))
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
                    network.check(peer.as_str()).await;
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
}
