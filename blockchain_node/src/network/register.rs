//! Adding and removing peers: durably first, then in memory; a new peer is asked to
//! register us back.

use std::sync::Arc;

use super::{Network, PeerUrl, PeerUrlError};
use crate::node::Event;
use thiserror::Error;

/// Why a registration failed.
#[derive(Debug, Error)]
pub enum RegisterError {
    #[error("entry {0}: {1}")]
    Url(usize, PeerUrlError),
    #[error("this node keeps at most {0} peers (--max-peers)")]
    TooMany(usize),
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

    /// Adds the peers of `list` that answer as nodes of our network (durably) and asks
    /// each new one to register us back; the others are logged and left out.
    ///
    /// # Errors
    /// A bad entry (nothing is registered then), or storage.
    pub async fn register(self: &Arc<Self>, list: &str) -> Result<Vec<String>, RegisterError> {
        let urls = PeerUrl::parse_list(list).map_err(|(i, e)| RegisterError::Url(i, e))?;
        let registration = self.register_checked(urls).await?;
        for refused in &registration.refused {
            tracing::warn!(peer = %refused.url, reason = %refused.reason, "peer not registered");
        }
        Ok(registration.peers)
    }

    /// Adds peers given on the command line (`--peer`) as they are: the operator chose
    /// them, and they may not be up yet (health checks and retries follow them).
    ///
    /// # Errors
    /// A bad entry (nothing is registered then), too many peers, or storage.
    pub async fn register_trusted(
        self: &Arc<Self>,
        list: &str,
    ) -> Result<Vec<String>, RegisterError> {
        let urls = PeerUrl::parse_list(list).map_err(|(i, e)| RegisterError::Url(i, e))?;
        let registration = self.register_urls(urls, false).await?;
        if registration.refused.iter().any(|r| r.full) {
            return Err(RegisterError::TooMany(self.max_peers()));
        }
        Ok(registration.peers)
    }

    /// Adds each of `urls` that answers as a node of our network (see `admit`), up to
    /// the bound on peers; says why each other one was refused.
    ///
    /// # Errors
    /// Storage.
    pub async fn register_checked(
        self: &Arc<Self>,
        urls: Vec<PeerUrl>,
    ) -> Result<Registration, RegisterError> {
        self.register_urls(urls, true).await
    }

    /// As [`Network::register_checked`], checking the URLs or not.
    async fn register_urls(
        self: &Arc<Self>,
        urls: Vec<PeerUrl>,
        check: bool,
    ) -> Result<Registration, RegisterError> {
        let me = self.self_url();
        let mut candidates: Vec<PeerUrl> = {
            let peers = self
                .peers
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            urls.into_iter()
                .filter(|u| !peers.contains(u) && Some(u.as_str()) != me.as_deref())
                .collect()
        };
        candidates.dedup();
        let mut refused = Vec::new();
        let admitted: Vec<PeerUrl> = if check {
            let answers =
                futures_util::future::join_all(candidates.iter().map(|u| self.admit(u))).await;
            candidates
                .into_iter()
                .zip(answers)
                .filter_map(|(url, answer)| match answer {
                    Ok(()) => Some(url),
                    Err(reason) => {
                        refused.push(Refused {
                            url: url.as_str().to_owned(),
                            reason,
                            full: false,
                        });
                        None
                    }
                })
                .collect()
        } else {
            candidates
        };
        let max = self.max_peers();
        let new: Vec<PeerUrl> = {
            let peers = self
                .peers
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let room = max.saturating_sub(peers.len());
            let mut new = Vec::new();
            for url in admitted {
                if peers.contains(&url) || new.contains(&url) {
                    continue;
                }
                if new.len() < room {
                    new.push(url);
                } else {
                    refused.push(Refused {
                        reason: format!(
                            "{url} not added: this node keeps at most {max} peers (--max-peers); remove one first"
                        ),
                        url: url.as_str().to_owned(),
                        full: true,
                    });
                }
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
        Ok(Registration {
            peers: self.peers(),
            added: new.iter().map(|u| u.as_str().to_owned()).collect(),
            refused,
        })
    }
}

/// What a registration did: the peers now, the ones it added, and the ones it refused.
#[derive(Debug)]
pub struct Registration {
    pub peers: Vec<String>,
    pub added: Vec<String>,
    pub refused: Vec<Refused>,
}

/// A URL a registration refused, and why.
#[derive(Debug, Clone)]
pub struct Refused {
    pub url: String,
    pub reason: String,
    /// Refused only because the node keeps its most peers already.
    pub full: bool,
}
