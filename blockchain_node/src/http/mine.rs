//! `/mine`: forge one block from the pool.

use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use blockchain_api::{ErrorBody, MineRequest, Mined, Reward, SortedKeys};
use blockchain_core::Address;

use super::AppState;
use super::error::ApiError;
use super::fields::Fields;

/// `GET /mine` (as the original) and `POST /mine`. Answers once the block is durable.
///
/// An optional `reward_address` (query parameter, form field or JSON field) sends this
/// block's reward to that address instead of the node's, as Bitcoin Core's regtest
/// `generatetoaddress` does: how a newcomer gets coins from the pages alone. A malformed
/// address is refused before anything is mined.
#[utoipa::path(method(get, post), path = "/mine", tag = "mining",
    params(MineRequest),
    request_body(content(
        (Option<MineRequest> = "application/x-www-form-urlencoded"),
        (Option<MineRequest> = "multipart/form-data"),
        (Option<MineRequest> = "application/json"),
    )),
    responses(
        (status = 200, description = "The block forged, durable", body = Mined),
        (status = 400, description = "A malformed reward address or body", body = ErrorBody),
        (status = 415, description = "A body neither a form nor JSON", body = ErrorBody),
        (status = 422, description = "The block broke a rule (a bug)", body = ErrorBody),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 507, description = "The disk holding the data dir is full: nothing was done; retry after Retry-After", body = ErrorBody),
    ))]
pub async fn mine(State(app): State<AppState>, request: Request) -> Result<Json<Mined>, ApiError> {
    let reward_to = reward_address(&app, request).await?;
    let block = app.node.mine(reward_to).await?;
    let reward = block.transactions().last().map(|tx| Reward {
        address: tx.recipient().as_hex().to_owned(),
        value: tx.amount(),
    });
    Ok(Json(Mined {
        block_number: block.number(),
        difficulty: block.difficulty().bits(),
        hash: block.hash(),
        message: "New Block Forged".to_owned(),
        nonce: block.nonce(),
        previous_hash: block.previous_hash(),
        reward,
        timestamp: block.timestamp(),
        transactions: block
            .transactions()
            .iter()
            .cloned()
            .map(SortedKeys)
            .collect(),
    }))
}

async fn reward_address(app: &AppState, request: Request) -> Result<Option<Address>, ApiError> {
    let from_query = request.uri().query().and_then(|query| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()?
            .into_iter()
            .find(|(name, _)| name == "reward_address")
            .map(|(_, value)| value)
    });
    let from_body = if request.headers().contains_key(CONTENT_TYPE) {
        Fields::from_request(request, &())
            .await?
            .optional("reward_address")
            .map(str::to_owned)
    } else {
        None
    };
    match from_body.or(from_query) {
        Some(hex) if !hex.trim().is_empty() => app.address(&hex, "reward_address").map(Some),
        _ => Ok(None),
    }
}
