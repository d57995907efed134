//! The node requests the benches share, over one HTTP client that never goes through a
//! proxy (the nodes are on loopback); answers are read as JSON values.

use std::time::Duration;

use anyhow::ensure;
use serde_json::Value;

/// A client for the nodes, each request bounded by `timeout` [default: none].
///
/// # Errors
/// When the TLS backend or resolver cannot be set up.
pub fn client(timeout: Option<Duration>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder().no_proxy();
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    Ok(builder.build()?)
}

/// `GET url`'s JSON answer.
///
/// # Errors
/// When the request fails, the status is not a success, or the body is not JSON.
pub async fn get_json(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let response = http.get(url).send().await?;
    ensure!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    Ok(response.json().await?)
}

/// The node's `GET /status` (height, length, tip hash, ...).
///
/// # Errors
/// As [`get_json`].
pub async fn status(http: &reqwest::Client, node: &str) -> anyhow::Result<Value> {
    get_json(http, &format!("{node}/status")).await
}

/// Registers `peers` (comma-separated URLs) with `node` (`POST /nodes/register`).
///
/// # Errors
/// When the request fails or the status is not a success.
pub async fn register(http: &reqwest::Client, node: &str, peers: &str) -> anyhow::Result<()> {
    let response = http
        .post(format!("{node}/nodes/register"))
        .form(&[("nodes", peers)])
        .send()
        .await?;
    ensure!(
        response.status().is_success(),
        "registering {peers} with {node}: {}",
        response.status()
    );
    Ok(())
}
