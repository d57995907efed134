//! `/nodes/*`: peers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::fields::Fields;
use crate::network::RegisterError;

/// `POST /nodes/register`: form field `nodes`, comma-separated (or JSON `{"nodes": [...]}`).
/// A list with any bad entry registers nothing.
pub async fn register(State(app): State<AppState>, fields: Fields) -> Result<Response, ApiError> {
    let list = fields.require("nodes")?;
    if list.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "Error: Please supply a valid list of nodes".into(),
        ));
    }
    let peers = app.network.register(list).await.map_err(|e| match e {
        RegisterError::Storage(e) => e.into(),
        other => ApiError::BadRequest(other.to_string()),
    })?;
    let body = json!({ "message": "New nodes have been added", "total_nodes": peers });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /nodes/get`: the original's `nodes` (URLs), and each peer's health.
pub async fn list(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "nodes": app.network.peers(), "peers": app.network.peer_health() }))
}

/// `POST /nodes/remove`: form or JSON field `node`, a registered peer's URL.
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
    let body = json!({ "message": "Node removed", "total_nodes": app.network.peers() });
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// `GET /nodes/resolve`: consensus with every peer now, within a bounded time.
pub async fn resolve(State(app): State<AppState>) -> Json<serde_json::Value> {
    let outcomes = app.network.resolve().await;
    let replaced = outcomes.iter().any(|o| o.adopted);
    let state = app.node.read();
    Json(json!({
        "message": if replaced { "Our chain was replaced" } else { "Our chain is authoritative" },
        "length": state.blocks.len(),
        "tip_hash": state.ledger.tip().hash.to_string(),
        "peers": outcomes,
    }))
}
