//! The client for talking to peers: short timeouts, no redirects or proxies, and JSON
//! answers read up to a bound.

use std::time::{Duration, Instant};

use super::Network;
use super::sync::SyncError;

/// Largest response body read from a peer.
pub(super) const MAX_RESPONSE_BYTES: usize = 64 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client every request to a peer goes through.
pub(super) fn build() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .pool_idle_timeout(blockchain_http::IDLE_CONNECTION_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(super::PEER_AGENT)
        .no_proxy()
        .build()
        .expect("a plain HTTP client builds")
}

impl Network {
    /// GETs JSON from a peer, noting in its health whether and how fast it answered.
    pub(super) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, SyncError> {
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
                let error = SyncError::Unreachable(e);
                self.record_contact(peer, Err(&error.to_string()));
                return Err(error);
            }
        };
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            // Every path asked here is part of the protocol: a peer without it is no node
            // of ours (an original tutorial node has no `/status`, for one).
            return Err(SyncError::NotANode {
                path: url[peer.len()..].to_owned(),
            });
        }
        if !response.status().is_success() {
            return Err(SyncError::Status(response.status()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(SyncError::TooLarge);
        }
        // Sized from the declared length: growing a page of 20 MB by doubling would copy it
        // several times and, for a moment, hold it twice.
        let declared = response.content_length().unwrap_or(0) as usize;
        let mut body = Vec::with_capacity(declared.min(MAX_RESPONSE_BYTES));
        while let Some(chunk) = response.chunk().await.map_err(SyncError::Read)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(SyncError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(SyncError::Malformed)
    }
}
