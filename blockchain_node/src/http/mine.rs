//! `/mine`: forge one block from the pool.

use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use blockchain_core::Address;
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::fields::Fields;

/// `GET /mine` (as the original) and `POST /mine`. Answers once the block is durable.
///
/// An optional `reward_address` (query parameter, form field or JSON field) sends this
/// block's reward to that address instead of the node's, as Bitcoin Core's regtest
/// `generatetoaddress` does: how a newcomer gets coins from the pages alone. A malformed
/// address is refused before anything is mined.
pub async fn mine(
    State(app): State<AppState>,
    request: Request,
) -> Result<Json<serde_json::Value>, ApiError> {
    let reward_to = reward_address(&app, request).await?;
    let block = app.node.mine(reward_to).await?;
    let reward = block
        .transactions()
        .last()
        .map(|tx| json!({ "address": tx.recipient().as_hex(), "value": tx.amount() }));
    Ok(Json(json!({
        "message": "New Block Forged",
        "block_number": block.number(),
        "transactions": block.transactions(),
        "nonce": block.nonce(),
        "previous_hash": block.previous_hash().to_string(),
        "hash": block.hash().to_string(),
        "difficulty": block.difficulty(),
        "timestamp": block.timestamp(),
        "reward": reward,
    })))
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
