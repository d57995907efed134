//! `GET /transactions/{id}/proof`: the Merkle proof that a confirmed transaction is in its
//! block. The path is core's (`blockchain_core::merkle`); this module finds the block and
//! writes the answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use blockchain_api::{ErrorBody, ProofSide, ProofStep, TransactionProof};
use blockchain_core::merkle::{self, Side};
use blockchain_core::{Block, Transaction, TxId};

use super::AppState;
use super::error::ApiError;
use super::extract::Path;
use crate::node::ProofPlace;

/// Why there is no proof: the API's refusals, and one of its own (409) for a transaction
/// that no block holds yet.
pub enum ProofRefusal {
    Pending(TxId),
    Api(ApiError),
}

impl<E: Into<ApiError>> From<E> for ProofRefusal {
    fn from(error: E) -> Self {
        ProofRefusal::Api(error.into())
    }
}

impl IntoResponse for ProofRefusal {
    fn into_response(self) -> Response {
        match self {
            ProofRefusal::Pending(id) => {
                let body = ErrorBody {
                    error: format!(
                        "transaction {id} is pending: it is not yet in a block, so it has no \
                         Merkle proof; ask again once a block holds it"
                    ),
                    field: None,
                    message: "Pending".to_owned(),
                };
                (StatusCode::CONFLICT, Json(body)).into_response()
            }
            ProofRefusal::Api(error) => error.into_response(),
        }
    }
}

/// The proof that `block`'s transaction at `index` is in it.
///
/// # Panics
/// If `index` is not one of the block's transactions.
pub fn proof_of(block: &Block, index: usize) -> TransactionProof {
    let leaves: Vec<[u8; 32]> = block
        .transactions()
        .iter()
        .map(Transaction::leaf_hash)
        .collect();
    let path = merkle::merkle_path(&leaves, index).expect("index is within the block");
    TransactionProof {
        transaction_id: block.transactions()[index].id(),
        block_number: block.number(),
        block_hash: block.hash(),
        merkle_root: hex::encode(block.header().merkle_root),
        leaf: hex::encode(leaves[index]),
        path: path
            .into_iter()
            .map(|step| ProofStep {
                hash: hex::encode(step.hash),
                side: match step.side {
                    Side::Left => ProofSide::Left,
                    Side::Right => ProofSide::Right,
                },
            })
            .collect(),
    }
}

/// The proof for transaction `id` as this node holds it.
///
/// # Errors
/// Pending, unknown, or a storage failure.
pub fn proof_for(app: &AppState, id: &TxId) -> Result<TransactionProof, ProofRefusal> {
    match app.node.proof_place(id)? {
        ProofPlace::InBlock { block, index } => Ok(proof_of(&block, index)),
        ProofPlace::Pending => Err(ProofRefusal::Pending(*id)),
        ProofPlace::Unknown => {
            Err(ApiError::NotFound(format!("no transaction {id} on this node")).into())
        }
    }
}

/// `GET /transactions/{id}/proof`: the path from the transaction's leaf up to its block's
/// Merkle root (docs/protocol.md, "Merkle proofs").
#[utoipa::path(get, path = "/transactions/{id}/proof", tag = "transactions",
    params(("id" = String, Path, description = "A transaction id: 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "The proof", body = TransactionProof),
        (status = 400, description = "Not 64 hex digits", body = ErrorBody),
        (status = 404, description = "Not on this node", body = ErrorBody),
        (status = 409, description = "Pending: not yet in a block", body = ErrorBody),
    ))]
pub async fn proof(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TransactionProof>, ProofRefusal> {
    let id: TxId = id
        .parse()
        .map_err(|_| ApiError::BadRequest("a transaction id is 64 hex digits".into()))?;
    proof_for(&app, &id).map(Json)
}
