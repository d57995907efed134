//! The node requests the benches share, over one HTTP client that never goes through a
//! proxy (the nodes are on loopback). Bodies and answers are `blockchain_api`'s types, the
//! ones the node's handlers use; a refusal reads as its [`ErrorBody`].
//!
//! ```text
//!  get::<T>(url)                    GET, T from the answer
//!  status ─► Status                 GET /status
//!  peers ─► Peers                   GET /nodes/get
//!  register(RegisterForm) ─► PeersChanged, resolve ─► Resolved
//!  mine ─► Mined                    POST /mine
//!  submit(TransactionForm) ─► Accepted
//! ```

use std::time::Duration;

use anyhow::bail;
use blockchain_api::{
    Accepted, ErrorBody, Mined, Peers, PeersChanged, RegisterForm, Resolved, Status,
    TransactionForm, TransactionRequest,
};
use blockchain_core::Transaction;
use serde::de::DeserializeOwned;

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

/// `response`'s answer as `T` when its status is a success; else an error naming `what`,
/// the status and, when the body is one, the [`ErrorBody`]'s message and error.
///
/// # Errors
/// When the status is not a success or the body is not a `T`.
pub async fn answer<T: DeserializeOwned>(
    response: reqwest::Response,
    what: &str,
) -> anyhow::Result<T> {
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(refusal) => bail!("{what}: {status}: {}: {}", refusal.message, refusal.error),
            Err(_) => bail!("{what}: {status}"),
        }
    }
    Ok(response.json().await?)
}

/// `GET url`'s answer.
///
/// # Errors
/// When the request fails, the status is not a success, or the body is not a `T`.
pub async fn get<T: DeserializeOwned>(http: &reqwest::Client, url: &str) -> anyhow::Result<T> {
    answer(http.get(url).send().await?, url).await
}

/// The node's `GET /status` (height, length, tip hash, ...).
///
/// # Errors
/// As [`get`].
pub async fn status(http: &reqwest::Client, node: &str) -> anyhow::Result<Status> {
    get(http, &format!("{node}/status")).await
}

/// The node's `GET /nodes/get`: its peers' URLs and health.
///
/// # Errors
/// As [`get`].
pub async fn peers(http: &reqwest::Client, node: &str) -> anyhow::Result<Peers> {
    get(http, &format!("{node}/nodes/get")).await
}

/// Registers `peers` (comma-separated URLs) with `node` (`POST /nodes/register`).
///
/// # Errors
/// When the request fails or the node refuses.
pub async fn register(
    http: &reqwest::Client,
    node: &str,
    peers: &str,
) -> anyhow::Result<PeersChanged> {
    let form = RegisterForm {
        nodes: peers.to_owned(),
    };
    let response = http
        .post(format!("{node}/nodes/register"))
        .form(&form)
        .send()
        .await?;
    answer(response, &format!("registering {peers} with {node}")).await
}

/// A consensus round of `node` with its peers (`GET /nodes/resolve`), bounded by `timeout`
/// [default: the client's].
///
/// # Errors
/// When the request fails or the node refuses.
pub async fn resolve(
    http: &reqwest::Client,
    node: &str,
    timeout: Option<Duration>,
) -> anyhow::Result<Resolved> {
    let url = format!("{node}/nodes/resolve");
    let mut request = http.get(&url);
    if let Some(timeout) = timeout {
        request = request.timeout(timeout);
    }
    answer(request.send().await?, &url).await
}

/// Mines a block on `node` (`POST /mine`).
///
/// # Errors
/// When the request fails or the node refuses.
pub async fn mine(http: &reqwest::Client, node: &str) -> anyhow::Result<Mined> {
    let url = format!("{node}/mine");
    answer(http.post(&url).send().await?, &url).await
}

/// Submits `tx` to `node` as the original's page posts it (`POST /transactions/new`).
///
/// # Errors
/// When the request fails or the node refuses the transaction.
pub async fn submit(
    http: &reqwest::Client,
    node: &str,
    tx: &Transaction,
) -> anyhow::Result<Accepted> {
    let url = format!("{node}/transactions/new");
    let response = http.post(&url).form(&transaction_form(tx)).send().await?;
    answer(response, &url).await
}

/// `tx` as the form of `POST /transactions/new`.
#[must_use]
pub fn transaction_form(tx: &Transaction) -> TransactionForm {
    let json = tx.to_json();
    TransactionForm {
        sender_address: json.sender_address,
        recipient_address: json.recipient_address,
        amount: json.value,
        nonce: json.nonce,
        signature: json.signature,
    }
}

/// `tx` as JSON for `POST /transactions/new` and an item of `POST /transactions/batch`.
#[must_use]
pub fn transaction_request(tx: &Transaction) -> TransactionRequest {
    let json = tx.to_json();
    TransactionRequest {
        sender_address: json.sender_address,
        recipient_address: json.recipient_address,
        value: json.value,
        nonce: json.nonce,
        signature: json.signature,
    }
}
