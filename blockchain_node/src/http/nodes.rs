//! `/nodes/*`: peers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use blockchain_api::{
    ErrorBody, PeerSource, Peers, PeersChanged, RefusedPeer, RegisterForm, RegisterRequest,
    RemoveRequest, Resolved,
};

use super::AppState;
use super::error::ApiError;
use super::fields::Fields;
use super::operator;
use crate::network::{PEER_AGENT, PeerUrl, RegisterError};

/// `POST /nodes/register`: form field `nodes`, comma-separated (or JSON `{"nodes": [...]}`).
/// A list with a malformed entry registers nothing. Each new URL is asked for its
/// `/status` first and added only if it answers as a node of this network; the others are
/// refused with the reason (in `refused`, or a 4xx when none was added). The operator may
/// register any list; anyone else (a node registering itself back, as peers do) one URL.
#[utoipa::path(post, path = "/nodes/register", tag = "peers",
    request_body(content(
        (RegisterForm = "application/x-www-form-urlencoded"),
        (RegisterForm = "multipart/form-data"),
        (RegisterRequest = "application/json"),
    )),
    responses(
        (status = 201, description = "Registered (URLs not added are listed in `refused`)", body = PeersChanged),
        (status = 400, description = "Missing or a bad URL, or no URL answered as a node of this network", body = ErrorBody),
        (status = 401, description = "Several URLs from another machine without the operator token", body = ErrorBody),
        (status = 409, description = "The node keeps its most peers already (--max-peers)", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 507, description = "The disk holding the data dir is full: nothing was done; retry after Retry-After", body = ErrorBody),
    ))]
pub async fn register(
    State(app): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let list = fields.require("nodes")?;
    if list.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "Error: Please supply a valid list of nodes".into(),
        ));
    }
    let urls = PeerUrl::parse_list(list)
        .map_err(|(i, e)| ApiError::BadRequest(RegisterError::Url(i, e).to_string()))?;
    let peer = peer.map(|Extension(ConnectInfo(peer))| peer);
    let operator = app.operator.access(peer, &headers).is_operator();
    if urls.len() > 1 && !operator {
        return Ok(operator::unauthorized(
            "POST",
            "/nodes/register with several URLs",
        ));
    }
    // A node registering back sends its own URL with its peer client's name: a label for
    // the Configure page, it grants nothing (the URL is checked all the same).
    let from_a_node = headers
        .get(header::USER_AGENT)
        .is_some_and(|agent| agent.as_bytes() == PEER_AGENT.as_bytes());
    let source = if from_a_node && urls.len() == 1 {
        PeerSource::Itself
    } else {
        PeerSource::Operator
    };
    let before = app.network.peers();
    let registration = app
        .network
        .register_checked(urls)
        .await
        .map_err(|e| match e {
            RegisterError::Storage(e) => e.into(),
            other => ApiError::BadRequest(other.to_string()),
        })?;
    app.network.note_found(&before, &registration.peers, source);
    for refused in &registration.refused {
        tracing::info!(peer = %refused.url, reason = %refused.reason, "peer refused");
    }
    let already = registration.refused.is_empty() && registration.added.is_empty();
    if registration.added.is_empty() && !already {
        let reasons: Vec<&str> = registration
            .refused
            .iter()
            .map(|r| r.reason.as_str())
            .collect();
        if registration.refused.iter().all(|r| r.full) {
            let body = ErrorBody {
                error: reasons.join("; "),
                field: None,
                message: "Too many peers".to_owned(),
            };
            return Ok((StatusCode::CONFLICT, Json(body)).into_response());
        }
        return Err(ApiError::BadRequest(format!(
            "no node registered: {}",
            reasons.join("; ")
        )));
    }
    let body = PeersChanged {
        message: "New nodes have been added".to_owned(),
        total_nodes: registration.peers,
        refused: registration
            .refused
            .into_iter()
            .map(|r| RefusedPeer {
                node: r.url,
                reason: r.reason,
            })
            .collect(),
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
        refused: Vec::new(),
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
