//! `/transactions/*`: submit, list the pool, look one up.

use std::convert::Infallible;
use std::fmt;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use blockchain_core::{Sender, THE_BLOCKCHAIN, Transaction, TxId, TxParseError};
use serde::Serialize;
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::extract::Path;
use super::fields::Fields;

/// The peer that relayed a request (its `X-Peer` header), read without copying the
/// request's other headers.
pub struct RelayedBy(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RelayedBy {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RelayedBy(super::chain::sender(&parts.headers)))
    }
}

/// The answer to an accepted transaction. Fields in the order `json!` printed them.
#[derive(Serialize)]
struct Accepted {
    block_number: u64,
    message: WillBeAdded,
    transaction_id: TxId,
}

/// "Transaction will be added to Block N", written straight into the answer.
struct WillBeAdded(u64);

impl fmt::Display for WillBeAdded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Transaction will be added to Block {}", self.0)
    }
}

impl Serialize for WillBeAdded {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `POST /transactions/new`: the original's form fields (`amount`, not `value`), or JSON.
pub async fn submit(
    State(app): State<AppState>,
    RelayedBy(peer): RelayedBy,
    fields: Fields,
) -> Result<Response, ApiError> {
    let tx = parse_transaction(&app, &fields)?;
    drop(fields);
    let id = tx.id();
    if let Some(peer) = peer {
        app.network.heard(id.0, peer);
    }
    let block = app.node.submit(tx).await?;
    let body = Accepted {
        block_number: block,
        message: WillBeAdded(block),
        transaction_id: id,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Most transactions one batch may hold.
pub const MAX_BATCH: usize = 1000;

/// `POST /transactions/batch`: a JSON array of transactions (each as `/transactions/new`
/// takes it in JSON), for scripts and load tools. Each is judged exactly as a single
/// submission, in order; all accepted ones are durable before the answer, which has one
/// result per item, in order, with the status a single submission would have had.
pub async fn submit_batch(
    State(app): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<BatchAnswer>, ApiError> {
    let serde_json::Value::Array(items) = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("body is not valid JSON: {e}")))?
    else {
        return Err(ApiError::BadRequest(
            "a batch is a JSON array of transactions".into(),
        ));
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ApiError::BadRequest(format!(
            "a batch holds 1 to {MAX_BATCH} transactions, not {}",
            items.len()
        )));
    }
    let mut results: Vec<Option<ItemResult>> = Vec::with_capacity(items.len());
    let mut valid = Vec::with_capacity(items.len());
    let mut positions = Vec::with_capacity(items.len());
    for (position, item) in items.into_iter().enumerate() {
        match Fields::from_json(item).and_then(|fields| parse_transaction(&app, &fields)) {
            Ok(tx) => {
                valid.push(tx);
                positions.push(position);
                results.push(None);
            }
            Err(error) => results.push(Some(ItemResult::Refused(item_error(error)))),
        }
    }
    let ids: Vec<TxId> = valid.iter().map(Transaction::id).collect();
    let outcomes = app.node.submit_many(valid).await;
    let mut accepted = 0;
    for ((position, transaction_id), outcome) in positions.into_iter().zip(ids).zip(outcomes) {
        results[position] = Some(match outcome {
            Ok(block) => {
                accepted += 1;
                ItemResult::Accepted {
                    block_number: block,
                    message: WillBeAdded(block),
                    status: 201,
                    transaction_id,
                }
            }
            Err(error) => ItemResult::Refused(item_error(error.into())),
        });
    }
    let results: Vec<ItemResult> = results.into_iter().flatten().collect();
    Ok(Json(BatchAnswer {
        accepted,
        refused: results.len() - accepted,
        results,
    }))
}

/// The answer to a batch. Fields in the order `json!` printed them.
#[derive(Serialize)]
pub struct BatchAnswer {
    accepted: usize,
    refused: usize,
    results: Vec<ItemResult>,
}

/// One item's result: what a single submission would have answered, with its status.
#[derive(Serialize)]
#[serde(untagged)]
enum ItemResult {
    Accepted {
        block_number: u64,
        message: WillBeAdded,
        status: u16,
        transaction_id: TxId,
    },
    Refused(serde_json::Value),
}

fn item_error(error: ApiError) -> serde_json::Value {
    let (status, mut body) = error.parts();
    body["status"] = json!(status.as_u16());
    body
}

fn parse_transaction(app: &AppState, fields: &Fields) -> Result<Transaction, ApiError> {
    let sender = fields.require("sender_address")?;
    let recipient = fields.require("recipient_address")?;
    let value = fields.require_any(&["amount", "value"])?;
    let signature = fields.require("signature")?;
    let nonce = fields.optional("nonce");
    let parse_error = |e: TxParseError| ApiError::BadRequest(e.to_string());
    let sender = if sender == THE_BLOCKCHAIN {
        Sender::Blockchain
    } else {
        Sender::Wallet(
            app.node
                .keys
                .parse(sender, "sender_address")
                .map_err(|e| parse_error(TxParseError::Sender(e)))?,
        )
    };
    let recipient = app
        .node
        .keys
        .parse(recipient, "recipient_address")
        .map_err(|e| parse_error(TxParseError::Recipient(e)))?;
    Transaction::new(sender, recipient, value, nonce, signature).map_err(parse_error)
}

/// `GET /transactions/get`: the pending pool, oldest first.
pub async fn pending(State(app): State<AppState>) -> Json<serde_json::Value> {
    let transactions: Vec<Transaction> = app.node.read().pool.iter().cloned().collect();
    Json(json!({ "transactions": transactions }))
}

/// `GET /transactions/{id}`: pending, confirmed (with its block) or 404.
pub async fn lookup(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id: TxId = id
        .parse()
        .map_err(|_| ApiError::BadRequest("a transaction id is 64 hex digits".into()))?;
    match app.node.locate(&id) {
        Some((tx, None)) => Ok(Json(json!({ "status": "pending", "transaction": tx }))),
        Some((tx, Some(block))) => Ok(Json(
            json!({ "status": "confirmed", "block_number": block, "transaction": tx }),
        )),
        None => Err(ApiError::NotFound(format!(
            "no transaction {id} on this node"
        ))),
    }
}
