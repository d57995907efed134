//! `/chain`, `/blocks`, `/balance`, `/status`: reading the chain, and blocks from peers.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blockchain_core::{Amount, Block};
use bytes::{BufMut, Bytes, BytesMut};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use crate::node::ConnectError;

#[derive(Deserialize)]
pub struct Page {
    from: Option<u64>,
    limit: Option<u64>,
}

/// `GET /chain`: `{"chain": [...], "length": N}` where `length` is the whole chain's
/// length; `?from=K&limit=M` returns a page. Blocks' JSON was serialized when they joined
/// the chain, so this only concatenates bytes: recent blocks from memory, older ones as
/// stored, read after the state lock is released.
pub async fn chain(
    State(app): State<AppState>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let (plan, length, from, work) = {
        let state = app.node.read();
        let length = state.blocks.len() as u64;
        let from = page.from.unwrap_or(0).min(length);
        let to = page
            .limit
            .map_or(length, |limit| from.saturating_add(limit).min(length));
        (
            state.blocks.json_plan(from, to),
            length,
            from,
            state.ledger.tip().work,
        )
    };
    let blocks = plan.read(app.node.storage())?;
    let head = Bytes::from_static(b"{\"chain\":[");
    let tail = Bytes::from(format!(
        "],\"length\":{length},\"from\":{from},\"work\":\"{work}\"}}"
    ));
    Ok(concatenated(head, blocks, tail))
}

/// `head`, the `parts` separated by commas, then `tail`, as one response body without
/// copying the parts (a page of old blocks can be megabytes), with its length declared.
fn concatenated(head: Bytes, parts: Vec<Bytes>, tail: Bytes) -> Response {
    let comma = Bytes::from_static(b",");
    let length = head.len()
        + tail.len()
        + parts.iter().map(Bytes::len).sum::<usize>()
        + parts.len().saturating_sub(1);
    let mut chunks = Vec::with_capacity(parts.len() * 2 + 2);
    chunks.push(head);
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            chunks.push(comma.clone());
        }
        chunks.push(part);
    }
    chunks.push(tail);
    let stream =
        futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>));
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// `GET /blocks/{number}`.
pub async fn block(
    State(app): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let number: u64 = number.parse().map_err(|_| {
        ApiError::BadRequest(format!("block number {number:?} is not a whole number"))
    })?;
    let plan = {
        let state = app.node.read();
        if number > state.height() {
            return Err(ApiError::NotFound(format!(
                "no block {number}; the tip is {}",
                state.height()
            )));
        }
        state.blocks.json_plan(number, number + 1)
    };
    let json = plan
        .read(app.node.storage())?
        .pop()
        .ok_or(ApiError::Storage)?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(json),
    )
        .into_response())
}

/// `POST /blocks`: a peer announces a block. One that extends our tip is validated and
/// connected; one that does not starts a resolve with that peer.
pub async fn announce(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Result<Response, ApiError> {
    let block: Block = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("block is not valid JSON: {e}")))?;
    let (known, extends) = {
        let state = app.node.read();
        let known = state
            .blocks
            .info(block.number())
            .is_some_and(|b| b.hash == block.hash());
        (known, block.previous_hash() == state.tip().block.hash())
    };
    if known {
        return Ok((
            StatusCode::OK,
            Json(json!({ "message": "Block already known" })),
        )
            .into_response());
    }
    if !extends {
        app.network.resolve_in_background(sender(&headers));
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "message": "Block does not extend our tip; resolving" })),
        )
            .into_response());
    }
    if let Some(peer) = sender(&headers) {
        app.network.heard(block.hash().0, peer);
    }
    match app.node.accept_block(block).await {
        Ok(block) => Ok((
            StatusCode::CREATED,
            Json(json!({ "message": "Block accepted", "block_number": block.number(), "hash": block.hash().to_string() })),
        )
            .into_response()),
        Err(ConnectError::Block(blockchain_core::BlockError::WrongPreviousHash { .. } | blockchain_core::BlockError::WrongNumber { .. })) => {
            // Another block took the tip meanwhile (two blocks at the same height arrived
            // together): this one may still win the tie, so compare chains with its sender.
            app.network.resolve_in_background(sender(&headers));
            Ok((StatusCode::ACCEPTED, Json(json!({ "message": "Tip moved meanwhile; resolving" }))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The announcing peer, as it names itself.
pub fn sender(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-peer")
        .and_then(|v| v.to_str().ok())
        .and_then(|p| crate::network::parse_peer_url(p).ok())
}

#[derive(Deserialize)]
pub struct BalanceQuery {
    address: Option<String>,
}

/// `GET /balance?address=HEX`: confirmed balance and what the pool would change.
pub async fn balance(
    State(app): State<AppState>,
    Query(query): Query<BalanceQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let hex = query.address.ok_or(ApiError::MissingField("address"))?;
    let address = app.address(&hex, "address")?;
    let state = app.node.read();
    let confirmed = state.ledger.balance(&address);
    let (incoming, outgoing) = state.pool.flows(&address);
    let pending = if incoming >= outgoing {
        incoming
            .checked_sub(outgoing)
            .unwrap_or_default()
            .to_string()
    } else {
        format!("-{}", outgoing.checked_sub(incoming).unwrap_or_default())
    };
    Ok(Json(json!({
        "address": address.as_hex(),
        "balance": confirmed,
        "pending": pending,
        "pending_incoming": incoming,
        "pending_outgoing": outgoing,
        "available": confirmed.checked_sub(outgoing).unwrap_or(Amount::ZERO),
        "height": state.height(),
    })))
}

/// `GET /status`: what a dashboard or a peer wants to know first.
pub async fn status(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(status_json(&app))
}

/// The node at a glance: chain, pool, peers, mining and the settings that shape it. Also
/// the dashboards' `status` event.
pub fn status_json(app: &AppState) -> serde_json::Value {
    let peers = app.network.peers();
    let settings = app.node.settings();
    let reward_address = app.node.reward_address();
    let state = app.node.read();
    let tip = state.ledger.tip();
    json!({
        "network": app.node.params.network,
        "height": tip.number,
        "length": state.blocks.len(),
        "tip_hash": tip.hash.to_string(),
        "tip_timestamp": state.tip().block.timestamp(),
        "genesis_hash": state.ledger.genesis_hash().to_string(),
        "work": tip.work.to_string(),
        "difficulty": app.node.params.difficulty.bits(),
        "reward": app.node.params.reward,
        "pool_size": state.pool.len(),
        "peers": peers,
        "miner_address": reward_address.as_hex(),
        "miner_balance": state.ledger.balance(&reward_address),
        "wallet_address": app.node.wallet.as_hex(),
        "mining": app.node.is_mining(),
        "mining_progress": app.node.mining_progress(),
        "last_search": app.node.last_search(),
        "background_mining": settings.background_mining,
        "block_interval": settings.block_interval,
        "mining_threads": settings.mining_threads,
        "mining_difficulty": settings.mining_difficulty.bits(),
        "at_ms": crate::node::now_ms(),
    })
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    address: Option<String>,
    limit: Option<usize>,
}

/// Most transactions `/history` returns at once.
const MAX_HISTORY: usize = 5000;

/// `GET /history?address=HEX[&limit=N]`: the newest N (default 500) confirmed transactions
/// that involve an address, in `/chain`'s shape (blocks oldest first, each holding only those
/// transactions), from the address index: the cost of that address's history, not of the
/// chain. `length` counts all of its transactions.
pub async fn history(
    State(app): State<AppState>,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let hex = query.address.ok_or(ApiError::MissingField("address"))?;
    let address = app.address(&hex, "address")?;
    let limit = super::limit(query.limit, 500, MAX_HISTORY)?;
    let history = app.node.history(&address, limit)?;
    // Transactions are copied as stored, grouped into their blocks, oldest first.
    let mut body = BytesMut::with_capacity(
        history
            .items
            .iter()
            .map(|i| i.json.len() + 1)
            .sum::<usize>()
            + 512,
    );
    body.put_slice(format!("{{\"address\":\"{}\",\"chain\":[", address.as_hex()).as_bytes());
    let mut open: Option<u64> = None;
    for item in history.items.iter().rev() {
        if open == Some(item.block) {
            body.put_u8(b',');
        } else {
            if open.is_some() {
                body.put_slice(b"]},");
            }
            body.put_slice(
                format!(
                    "{{\"block_number\":{},\"timestamp\":{},\"transactions\":[",
                    item.block, item.timestamp
                )
                .as_bytes(),
            );
            open = Some(item.block);
        }
        body.put_slice(&item.json);
    }
    if open.is_some() {
        body.put_slice(b"]}");
    }
    body.put_slice(format!("],\"length\":{}}}", history.count).as_bytes());
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body.freeze()),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct RecentQuery {
    limit: Option<usize>,
}

/// Most blocks `/stats/blocks` describes at once.
const MAX_STATS_BLOCKS: usize = 1000;

/// `GET /stats/blocks?limit=N`: the newest N blocks (default 60), oldest first, as the
/// dashboard's charts need them: number, time, difficulty, transaction counts.
pub async fn recent(
    State(app): State<AppState>,
    Query(query): Query<RecentQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = super::limit(query.limit, 60, MAX_STATS_BLOCKS)?;
    let state = app.node.read();
    let from = state.blocks.len().saturating_sub(limit);
    let blocks: Vec<serde_json::Value> = state
        .blocks
        .infos(from, usize::MAX)
        .iter()
        .map(|info| {
            json!({
                "block_number": info.number(),
                "timestamp": info.header.timestamp,
                "difficulty": info.header.difficulty.bits(),
                "transactions": info.transactions,
                "payments": info.payments,
            })
        })
        .collect();
    Ok(Json(json!({ "blocks": blocks })))
}
