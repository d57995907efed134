//! Whether a URL is a peer worth keeping: before a registration stores it, the node asks
//! it for `GET /status` and keeps it only if it answers as a node of the same network
//! (the same genesis hash). Nothing listening, another network, or something that is not
//! one of our nodes: refused, with the reason, and nothing stored.

use std::time::Duration;

use super::{Network, PeerUrl};

/// How long a URL being registered has to answer.
const ADMIT_TIMEOUT: Duration = Duration::from_secs(3);
/// Most bytes of a `/status` answer read.
const MAX_STATUS_BYTES: usize = 64 * 1024;

/// The part of a node's `/status` this check reads.
#[derive(serde::Deserialize)]
struct GenesisOnly {
    genesis_hash: String,
}

impl Network {
    /// Asks `url` for its status: `Ok` if it answers as a node of our network, else why not.
    pub(super) async fn admit(&self, url: &PeerUrl) -> Result<(), String> {
        let status_url = format!("{url}/status");
        let response = self
            .client
            .get(&status_url)
            .timeout(ADMIT_TIMEOUT)
            .send()
            .await
            .map_err(|e| {
                let what = if e.is_timeout() {
                    "did not answer in time"
                } else if e.is_connect() {
                    "is not reachable (nothing listening there?)"
                } else {
                    "did not answer"
                };
                format!("{url} {what}")
            })?;
        if !response.status().is_success() {
            return Err(format!(
                "{url} is not a node of this kind: GET /status answered {}",
                response.status()
            ));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_STATUS_BYTES as u64)
        {
            return Err(format!("{url} is not a node: its /status is too large"));
        }
        let body = tokio::time::timeout(ADMIT_TIMEOUT, read_bounded(response))
            .await
            .map_err(|_| format!("{url} did not answer in time"))?
            .ok_or_else(|| format!("{url} is not a node: its /status could not be read"))?;
        let theirs = serde_json::from_slice::<GenesisOnly>(&body)
            .map_err(|_| {
                format!("{url} is not a node of this kind: its /status names no genesis_hash")
            })?
            .genesis_hash;
        let ours = self.node.genesis_hash().to_string();
        if theirs != ours {
            return Err(format!(
                "{url} is on another network: its genesis block is {theirs}, ours is {ours}"
            ));
        }
        Ok(())
    }
}

async fn read_bounded(mut response: reqwest::Response) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > MAX_STATUS_BYTES {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body)
}
