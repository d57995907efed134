//! `/chain`, `/blocks`, `/balance`, `/status`: reading the chain, and blocks from peers.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blockchain_api::{
    AddressQuery, Balance, BlockReceived, BlockStats, BlockStatsList, ChainPage, ChainQuery,
    ErrorBody, History, HistoryQuery, StatsQuery, Status,
};
use blockchain_core::{Amount, Block};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{Stream, StreamExt, stream};

use super::AppState;
use super::error::ApiError;
use super::extract::{Path, Query};
use crate::blocks::PlanRead;
use crate::node::{BalanceView, BlockPlace, ConnectError};
use crate::storage::StorageError;

/// `GET /chain`: `{"chain": [...], "length": N}` where `length` is the whole chain's
/// length; `?from=K&limit=M` returns a page. Blocks' JSON was serialized when they joined
/// the chain, so this only concatenates bytes: recent blocks from memory, older ones as
/// stored, read after the state lock is released. Up to [`WHOLE_BYTES`] the answer is sent
/// as read, with its length; past that it is streamed (chunked) as it is read, so a whole
/// chain of a million payments (a gigabyte) costs the node a few megabytes, not its size.
#[utoipa::path(get, path = "/chain", tag = "chain",
    params(ChainQuery),
    responses(
        (status = 200, description = "A page of the chain", body = ChainPage),
        (status = 400, description = "A malformed parameter", body = ErrorBody),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 507, description = "The disk holding the data dir is full: nothing was done; retry after Retry-After", body = ErrorBody),
    ))]
pub async fn chain(
    State(app): State<AppState>,
    Query(page): Query<ChainQuery>,
) -> Result<Response, ApiError> {
    let crate::node::ChainPage {
        plan,
        length,
        from,
        work,
    } = app.node.chain_page(page.from, page.limit);
    let head = Bytes::from_static(b"{\"chain\":[");
    let tail = Bytes::from(format!(
        "],\"length\":{length},\"from\":{from},\"work\":\"{work}\"}}"
    ));
    Ok(
        match app.node.read_json_or_stream(plan, WHOLE_BYTES).await? {
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
#[utoipa::path(get, path = "/blocks/{number}", tag = "chain",
    params(("number" = u64, Path, minimum = 0, description = "A block number")),
    responses(
        (status = 200, description = "The block", body = blockchain_api::schemas::Block),
        (status = 400, description = "Not a whole number", body = ErrorBody),
        (status = 404, description = "Past the tip", body = ErrorBody),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 507, description = "The disk holding the data dir is full: nothing was done; retry after Retry-After", body = ErrorBody),
    ))]
pub async fn block(
    State(app): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let number = super::block_number(&number)?;
    let plan = app
        .node
        .block_json(number)
        .map_err(|e| ApiError::NotFound(e.to_string()))?;
    let json = app.node.read_json(plan)?.pop().ok_or(ApiError::Storage)?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(json),
    )
        .into_response())
}

/// `POST /blocks`: a peer announces a block. One that extends our tip is validated and
/// connected; one that does not starts a resolve with that peer.
#[utoipa::path(post, path = "/blocks", tag = "chain",
    params(("X-Peer" = Option<String>, Header, description = "The announcing peer's URL")),
    request_body(content = blockchain_api::schemas::Block, content_type = "application/json"),
    responses(
        (status = 200, description = "Known already", body = BlockReceived),
        (status = 201, description = "Joined the chain", body = BlockReceived),
        (status = 202, description = "Does not extend the tip: resolving with the peer", body = BlockReceived),
        (status = 400, description = "Not a block", body = ErrorBody),
        (status = 422, description = "The block breaks a rule", body = ErrorBody),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 507, description = "The disk holding the data dir is full: nothing was done; retry after Retry-After", body = ErrorBody),
    ))]
pub async fn announce(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Result<Response, ApiError> {
    let block: Block = serde_json::from_slice(&body).map_err(|e| {
        // A claimed `merkle_root` or `hash` the contents do not have is a broken rule,
        // not bad JSON: say which.
        ApiError::BadRequest(if e.is_data() {
            format!("block refused: {e}")
        } else {
            format!("block is not valid JSON: {e}")
        })
    })?;
    if let Some(peer) = sender(&headers) {
        app.network
            .heard_block(&peer, block.number(), block.hash().to_string());
        app.node.note_sender(block.hash().0, peer);
    }
    match app.node.place_of(&block) {
        BlockPlace::Known => {
            return Ok((StatusCode::OK, Json(received("Block already known"))).into_response());
        }
        BlockPlace::Elsewhere => {
            let block = app.node.check_detached(block).await?;
            app.network.side_block(block, sender(&headers));
            app.network.resolve_in_background(sender(&headers));
            return Ok((
                StatusCode::ACCEPTED,
                Json(received("Block does not extend our tip; resolving")),
            )
                .into_response());
        }
        BlockPlace::ExtendsTip => {}
    }
    if let Some(peer) = sender(&headers) {
        app.network.heard(block.hash().0, peer);
    }
    match app.node.accept_block(block).await {
        Ok(block) => Ok((
            StatusCode::CREATED,
            Json(BlockReceived {
                block_number: Some(block.number()),
                hash: Some(block.hash()),
                message: "Block accepted".to_owned(),
            }),
        )
            .into_response()),
        Err(ConnectError::Block(
            blockchain_core::BlockError::WrongPreviousHash { .. }
            | blockchain_core::BlockError::WrongNumber { .. },
        )) => {
            // Another block took the tip meanwhile (two blocks at the same height arrived
            // together): this one may still win the tie, so compare chains with its sender.
            app.network.resolve_in_background(sender(&headers));
            Ok((
                StatusCode::ACCEPTED,
                Json(received("Tip moved meanwhile; resolving")),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// An answer to a block that says only `message`.
fn received(message: &str) -> BlockReceived {
    BlockReceived {
        block_number: None,
        hash: None,
        message: message.to_owned(),
    }
}

/// The announcing peer, as it names itself.
pub fn sender(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-peer")
        .and_then(|v| v.to_str().ok())
        .and_then(|p| crate::network::parse_peer_url(p).ok())
}

/// `GET /balance?address=HEX`: confirmed balance and what the pool would change.
#[utoipa::path(get, path = "/balance", tag = "chain",
    params(AddressQuery),
    responses(
        (status = 200, description = "The address's coins", body = Balance),
        (status = 400, description = "No address, or not a public key", body = ErrorBody),
    ))]
pub async fn balance(
    State(app): State<AppState>,
    Query(query): Query<AddressQuery>,
) -> Result<Json<Balance>, ApiError> {
    let hex = query.address.ok_or(ApiError::MissingField("address"))?;
    let address = app.address(&hex, "address")?;
    let BalanceView {
        confirmed,
        pending_incoming: incoming,
        pending_outgoing: outgoing,
        height,
    } = app.node.balance(&address);
    let pending = if incoming >= outgoing {
        incoming
            .checked_sub(outgoing)
            .unwrap_or_default()
            .to_string()
    } else {
        format!("-{}", outgoing.checked_sub(incoming).unwrap_or_default())
    };
    Ok(Json(Balance {
        address: address.as_hex().to_owned(),
        available: confirmed.checked_sub(outgoing).unwrap_or(Amount::ZERO),
        balance: confirmed,
        height,
        pending,
        pending_incoming: incoming,
        pending_outgoing: outgoing,
    }))
}

/// `GET /status`: what a dashboard or a peer wants to know first.
#[utoipa::path(get, path = "/status", tag = "chain",
    responses((status = 200, description = "The node at a glance", body = Status)))]
pub async fn status(State(app): State<AppState>) -> Json<Status> {
    Json(status_of(&app))
}

/// The node at a glance: chain, pool, peers, mining and the settings that shape it. Also
/// the dashboards' `status` event.
pub fn status_of(app: &AppState) -> Status {
    let peers = app.network.peers();
    let settings = app.node.settings();
    let reward_address = app.node.reward_address();
    let chain = app.node.status(&reward_address);
    Status {
        at_ms: crate::node::now_ms(),
        background_mining: settings.background_mining,
        block_interval: settings.block_interval,
        difficulty: app.node.params.difficulty.bits(),
        genesis_hash: chain.genesis_hash,
        height: chain.height,
        last_search: app.node.last_search(),
        length: chain.length as u64,
        miner_address: reward_address.as_hex().to_owned(),
        miner_balance: chain.balance,
        mining: app.node.is_mining(),
        mining_difficulty: settings.mining_difficulty.bits(),
        mining_progress: app.node.mining_progress(),
        mining_threads: settings.mining_threads,
        network: app.node.params.network.clone(),
        peers,
        pool_size: chain.pool_size,
        reward: app.node.params.reward,
        storage: app.node.storage_health(),
        tip_hash: chain.tip_hash,
        tip_timestamp: chain.tip_timestamp,
        wallet_address: app.node.wallet.as_hex().to_owned(),
        work: chain.work.to_string(),
    }
}

/// Most transactions `/history` returns at once.
const MAX_HISTORY: usize = 5000;

/// `GET /history?address=HEX[&limit=N]`: the newest N (default 500) confirmed transactions
/// that involve an address, in `/chain`'s shape (blocks oldest first, each holding only those
/// transactions), from the address index: the cost of that address's history, not of the
/// chain. `length` counts all of its transactions.
#[utoipa::path(get, path = "/history", tag = "chain",
    params(HistoryQuery),
    responses(
        (status = 200, description = "The address's transactions", body = History),
        (status = 400, description = "No address, not a public key, or a bad limit", body = ErrorBody),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 507, description = "The disk holding the data dir is full: nothing was done; retry after Retry-After", body = ErrorBody),
    ))]
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

/// Most blocks `/stats/blocks` describes at once.
const MAX_STATS_BLOCKS: usize = 1000;

/// `GET /stats/blocks?limit=N`: the newest N blocks (default 60), oldest first, as the
/// dashboard's charts need them: number, time, difficulty, transaction counts.
#[utoipa::path(get, path = "/stats/blocks", tag = "chain",
    params(StatsQuery),
    responses(
        (status = 200, description = "The newest blocks, oldest first", body = BlockStatsList),
        (status = 400, description = "A bad limit", body = ErrorBody),
    ))]
pub async fn recent(
    State(app): State<AppState>,
    Query(query): Query<StatsQuery>,
) -> Result<Json<BlockStatsList>, ApiError> {
    let limit = super::limit(query.limit, 60, MAX_STATS_BLOCKS)?;
    let blocks = app
        .node
        .recent_infos(limit)
        .iter()
        .map(|info| BlockStats {
            block_number: info.number(),
            difficulty: info.header.difficulty.bits(),
            payments: info.payments,
            timestamp: info.header.timestamp,
            transactions: info.transactions,
        })
        .collect();
    Ok(Json(BlockStatsList { blocks }))
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
