//! `/nodes/*`: peers.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blockchain_api::{
    ErrorBody, PeerSource, Peers, PeersChanged, RegisterForm, RegisterRequest, RemoveRequest,
    Resolved,
};

use super::AppState;
use super::error::ApiError;
use super::fields::Fields;
use crate::network::{PEER_AGENT, RegisterError};

/// `POST /nodes/register`: form field `nodes`, comma-separated (or JSON `{"nodes": [...]}`).
/// A list with any bad entry registers nothing.
#[utoipa::path(post, path = "/nodes/register", tag = "peers",
    request_body(content(
        (RegisterForm = "application/x-www-form-urlencoded"),
        (RegisterForm = "multipart/form-data"),
        (RegisterRequest = "application/json"),
    )),
    responses(
        (status = 201, description = "Registered", body = PeersChanged),
        (status = 400, description = "Missing or a bad URL", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 507, description = "The disk holding the data dir is full: nothing was done; retry after Retry-After", body = ErrorBody),
    ))]
pub async fn register(
    State(app): State<AppState>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let list = fields.require("nodes")?;
    if list.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "Error: Please supply a valid list of nodes".into(),
        ));
    }
    // A node registering back sends its own URL with its peer client's name.
    let from_a_node = headers
        .get(header::USER_AGENT)
        .is_some_and(|agent| agent.as_bytes() == PEER_AGENT.as_bytes());
    let source = if from_a_node && !list.contains(',') {
        PeerSource::Itself
    } else {
        PeerSource::Operator
    };
    let peers = app
        .network
        .register_found(list, source)
        .await
        .map_err(|e| match e {
            RegisterError::Storage(e) => e.into(),
            other => ApiError::BadRequest(other.to_string()),
        })?;
    let body = PeersChanged {
        message: "New nodes have been added".to_owned(),
        total_nodes: peers,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /nodes/get`: the original's `nodes` (URLs), and each peer's health.
#[utoipa::path(get, path = "/nodes/get", tag = "peers",
    responses((status = 200, description = "The peers", body = Peers)))]
pub async fn list(State(app): State<AppState>) -> Json<Peers> {
    Json(Peers {
        nodes: app.network.peers(),
        peers: app.network.peer_health(),
    })
}

/// `POST /nodes/remove`: form or JSON field `node`, a registered peer's URL.
#[utoipa::path(post, path = "/nodes/remove", tag = "peers",
    request_body(content(
        (RemoveRequest = "application/x-www-form-urlencoded"),
        (RemoveRequest = "multipart/form-data"),
        (RemoveRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "Removed", body = PeersChanged),
        (status = 400, description = "Missing or not a URL", body = ErrorBody),
        (status = 404, description = "Not a peer", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 507, description = "The disk holding the data dir is full: nothing was done; retry after Retry-After", body = ErrorBody),
    ))]
pub async fn remove(State(app): State<AppState>, fields: Fields) -> Result<Response, ApiError> {
    let node = fields.require("node")?;
    let removed = app.network.remove(node).await.map_err(|e| match e {
        RegisterError::Storage(e) => e.into(),
        other => ApiError::BadRequest(format!("node: {other}")),
    })?;
    if !removed {
        return Err(ApiError::NotFound(format!(
            "{} is not a peer of this node",
            node.trim()
        )));
    }
    let body = PeersChanged {
        message: "Node removed".to_owned(),
        total_nodes: app.network.peers(),
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// `GET|POST /nodes/resolve`: consensus with every peer now, within a bounded time.
#[utoipa::path(method(get, post), path = "/nodes/resolve", tag = "peers",
    responses((status = 200, description = "The round's outcome", body = Resolved)))]
pub async fn resolve(State(app): State<AppState>) -> Json<Resolved> {
    let outcomes = app.network.resolve().await;
    let replaced = outcomes.iter().any(|o| o.adopted);
    let chain = app.node.status(&app.node.wallet);
    Json(Resolved {
        length: chain.length as u64,
        message: if replaced {
            "Our chain was replaced"
        } else {
            "Our chain is authoritative"
        }
        .to_owned(),
        peers: outcomes,
        tip_hash: chain.tip_hash,
    })
}
