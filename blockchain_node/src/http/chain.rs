//! `/chain`, `/blocks`, `/balance`, `/status`: reading the chain, and blocks from peers.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blockchain_core::{Amount, Block};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{Stream, StreamExt, stream};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::extract::{Path, Query};
use crate::blocks::PlanRead;
use crate::node::ConnectError;
use crate::storage::StorageError;

#[derive(Deserialize)]
pub struct Page {
    from: Option<u64>,
    limit: Option<u64>,
}

/// `GET /chain`: `{"chain": [...], "length": N}` where `length` is the whole chain's
/// length; `?from=K&limit=M` returns a page. Blocks' JSON was serialized when they joined
/// the chain, so this only concatenates bytes: recent blocks from memory, older ones as
/// stored, read after the state lock is released. Up to [`WHOLE_BYTES`] the answer is sent
/// as read, with its length; past that it is streamed (chunked) as it is read, so a whole
/// chain of a million payments (a gigabyte) costs the node a few megabytes, not its size.
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
    let head = Bytes::from_static(b"{\"chain\":[");
    let tail = Bytes::from(format!(
        "],\"length\":{length},\"from\":{from},\"work\":\"{work}\"}}"
    ));
    Ok(
        match plan
            .read_or_stream(app.node.storage().clone(), WHOLE_BYTES)
            .await?
        {
            PlanRead::Whole(blocks) => concatenated(head, blocks, tail),
            PlanRead::Streamed(blocks) => (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(comma_separated(head, blocks, tail)),
            )
                .into_response(),
        },
    )
}

/// The most a `/chain` answer reads before it is sent: more is streamed. Twice a page of
/// 200 full blocks of 1024-bit payments.
const WHOLE_BYTES: usize = 48 << 20;

/// `head`, the `parts` separated by commas, then `tail`, as one response body without
/// copying the parts, with its length declared.
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

/// `head`, the blocks separated by commas, then `tail`, streamed. Each chunk's blocks are
/// copied into one buffer with their commas: a chunked body of hundreds of small pieces
/// (every comma one) costs clients more than the copy (reqwest took 22 ms for a 10.8 MB
/// page in pieces, 8 ms in chunks of 512 KiB). A chunk that cannot be read ends the body
/// early (the client sees a truncated answer).
fn comma_separated(
    head: Bytes,
    chunks: impl Stream<Item = Result<Vec<Bytes>, StorageError>> + Send + 'static,
    tail: Bytes,
) -> impl Stream<Item = Result<Bytes, StorageError>> + Send + 'static {
    let mut first = true;
    let blocks = chunks.map(move |chunk| {
        let blocks = chunk.inspect_err(|error| {
            tracing::error!(%error, "a /chain answer ended early");
        })?;
        let length = blocks.iter().map(|b| b.len() + 1).sum();
        let mut joined = BytesMut::with_capacity(length);
        for block in blocks {
            if !std::mem::take(&mut first) {
                joined.put_u8(b',');
            }
            joined.extend_from_slice(&block);
        }
        Ok(joined.freeze())
    });
    stream::once(std::future::ready(Ok(head)))
        .chain(blocks)
        .chain(stream::once(std::future::ready(Ok(tail))))
        // Nothing after an error: hyper stops there anyway, and no consumer should be
        // able to read a body that looks complete.
        .scan(false, |failed, item| {
            let next = (!*failed).then(|| {
                *failed = item.is_err();
                item
            });
            std::future::ready(next)
        })
}

/// `GET /blocks/{number}`.
pub async fn block(
    State(app): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let number = super::block_number(&number)?;
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
        "storage": app.node.storage().health(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(parts: &[&'static str]) -> Result<Vec<Bytes>, StorageError> {
        Ok(parts
            .iter()
            .map(|p| Bytes::from_static(p.as_bytes()))
            .collect())
    }

    async fn body(chunks: Vec<Result<Vec<Bytes>, StorageError>>) -> (String, bool) {
        let mut out = Vec::new();
        let mut failed = false;
        let mut stream = std::pin::pin!(comma_separated(
            Bytes::from_static(b"["),
            stream::iter(chunks),
            Bytes::from_static(b"]"),
        ));
        while let Some(item) = stream.next().await {
            match item {
                Ok(bytes) => out.extend_from_slice(&bytes),
                Err(_) => failed = true,
            }
        }
        (String::from_utf8(out).unwrap(), failed)
    }

    #[tokio::test]
    async fn streamed_blocks_are_separated_by_commas_across_chunks() {
        let (json, failed) = body(vec![chunk(&["1", "2"]), chunk(&["3"]), chunk(&[])]).await;
        assert_eq!((json.as_str(), failed), ("[1,2,3]", false));
        assert_eq!(body(vec![]).await.0, "[]");
    }

    #[tokio::test]
    async fn a_chunk_that_cannot_be_read_ends_the_body_unfinished() {
        let (json, failed) = body(vec![
            chunk(&["1"]),
            Err(StorageError::missing(2)),
            chunk(&["3"]),
        ])
        .await;
        assert!(failed, "the error reaches the body");
        assert!(
            !json.ends_with(']'),
            "no valid JSON after a failure: {json}"
        );
    }
}
