//! `/mine`: forge one block from the pool.

use axum::Json;
use axum::extract::State;
use serde_json::json;

use super::AppState;
use super::error::ApiError;

/// `GET /mine` (as the original) and `POST /mine`. Answers once the block is durable.
pub async fn mine(State(app): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let block = app.node.mine().await?;
    Ok(Json(json!({
        "message": "New Block Forged",
        "block_number": block.number(),
        "transactions": block.transactions(),
        "nonce": block.nonce(),
        "previous_hash": block.previous_hash().to_string(),
        "hash": block.hash().to_string(),
        "difficulty": block.difficulty(),
        "timestamp": block.timestamp(),
    })))
}
