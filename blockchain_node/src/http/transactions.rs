//! `/transactions/*`: submit, list the pool, look one up.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use blockchain_api::{
    Accepted, BatchAccepted, BatchAnswer, BatchItem, BatchRefused, ErrorBody, Pool, SortedKeys,
    TransactionForm, TransactionRequest, TransactionStatus, TxState, WillBeAdded,
};
use blockchain_core::{Sender, THE_BLOCKCHAIN, Transaction, TxId, TxParseError};

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

/// `POST /transactions/new`: the original's form fields (`amount`, not `value`), or JSON.
#[utoipa::path(post, path = "/transactions/new", tag = "transactions",
    request_body(content(
        (TransactionForm = "application/x-www-form-urlencoded"),
        (TransactionForm = "multipart/form-data"),
        (TransactionRequest = "application/json"),
    )),
    responses(
        (status = 201, description = "In the pool, durable", body = Accepted),
        (status = 400, description = "A field is missing or malformed", body = ErrorBody),
        (status = 406, description = "The transaction breaks a rule", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
        (status = 429, description = "The sender holds its whole share of the pool", body = ErrorBody),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 507, description = "The disk holding the data dir is full: nothing was done; retry after Retry-After", body = ErrorBody),
        (status = 503, description = "The pool is full (Retry-After)", body = ErrorBody),
    ))]
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
#[utoipa::path(post, path = "/transactions/batch", tag = "transactions",
    request_body(content = Vec<TransactionRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "One result per item", body = BatchAnswer),
        (status = 400, description = "Not a JSON array of 1 to 1000 items", body = ErrorBody),
    ))]
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
    let mut results: Vec<Option<BatchItem>> = Vec::with_capacity(items.len());
    let mut valid = Vec::with_capacity(items.len());
    let mut positions = Vec::with_capacity(items.len());
    for (position, item) in items.into_iter().enumerate() {
        match Fields::from_json(item).and_then(|fields| parse_transaction(&app, &fields)) {
            Ok(tx) => {
                valid.push(tx);
                positions.push(position);
                results.push(None);
            }
            Err(error) => results.push(Some(item_error(error))),
        }
    }
    let ids: Vec<TxId> = valid.iter().map(Transaction::id).collect();
    let outcomes = app.node.submit_many(valid).await;
    let mut accepted = 0;
    for ((position, transaction_id), outcome) in positions.into_iter().zip(ids).zip(outcomes) {
        results[position] = Some(match outcome {
            Ok(block) => {
                accepted += 1;
                BatchItem::Accepted(BatchAccepted {
                    block_number: block,
                    message: WillBeAdded(block),
                    status: 201,
                    transaction_id,
                })
            }
            Err(error) => item_error(error.into()),
        });
    }
    let results: Vec<BatchItem> = results.into_iter().flatten().collect();
    Ok(Json(BatchAnswer {
        accepted,
        refused: results.len() - accepted,
        results,
    }))
}

fn item_error(error: ApiError) -> BatchItem {
    let (
        status,
        ErrorBody {
            error,
            field,
            message,
        },
    ) = error.parts();
    BatchItem::Refused(BatchRefused {
        error,
        field,
        message,
        status: status.as_u16(),
    })
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
#[utoipa::path(get, path = "/transactions/get", tag = "transactions",
    responses((status = 200, description = "The pool", body = Pool)))]
pub async fn pending(State(app): State<AppState>) -> Json<Pool> {
    let transactions = app
        .node
        .pending(usize::MAX)
        .into_iter()
        .map(SortedKeys)
        .collect();
    Json(Pool { transactions })
}

/// `GET /transactions/{id}`: pending, confirmed (with its block) or 404.
#[utoipa::path(get, path = "/transactions/{id}", tag = "transactions",
    params(("id" = String, Path, description = "A transaction id: 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "Pending or confirmed", body = TransactionStatus),
        (status = 400, description = "Not 64 hex digits", body = ErrorBody),
        (status = 404, description = "Not on this node", body = ErrorBody),
    ))]
pub async fn lookup(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TransactionStatus>, ApiError> {
    let id: TxId = id
        .parse()
        .map_err(|_| ApiError::BadRequest("a transaction id is 64 hex digits".into()))?;
    match app.node.locate(&id) {
        Some((tx, block)) => Ok(Json(TransactionStatus {
            block_number: block,
            status: if block.is_some() {
                TxState::Confirmed
            } else {
                TxState::Pending
            },
            transaction: SortedKeys(tx),
        })),
        None => Err(ApiError::NotFound(format!(
            "no transaction {id} on this node"
        ))),
    }
}
