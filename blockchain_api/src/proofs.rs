//! `GET /transactions/{id}/proof`: a Merkle proof that a transaction is in a block (see
//! `blockchain_core::merkle` and docs/protocol.md, "Merkle proofs").

use blockchain_core::{BlockHash, TxId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schemas;

/// Which side of the pair a proof step's sibling sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProofSide {
    /// The parent is `node(sibling, ours)`.
    Left,
    /// The parent is `node(ours, sibling)`.
    Right,
}

/// One level of the path, lowest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProofStep {
    /// The sibling's hash, 64 hex digits.
    #[schema(value_type = schemas::Hex64)]
    pub hash: String,
    pub side: ProofSide,
}

/// The proof: the leaf, the path from it up to the root, and the block that holds both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransactionProof {
    #[schema(value_type = schemas::Hex64)]
    pub transaction_id: TxId,
    #[schema(minimum = 0)]
    pub block_number: u64,
    #[schema(value_type = schemas::Hex64)]
    pub block_hash: BlockHash,
    /// The root in the block's header, 64 hex digits.
    #[schema(value_type = schemas::Hex64)]
    pub merkle_root: String,
    /// SHA-256("tx" ‖ id ‖ signature), 64 hex digits.
    #[schema(value_type = schemas::Hex64)]
    pub leaf: String,
    /// From the leaf up; a level where the leaf's branch is carried up unpaired adds no
    /// step, and a block of one transaction has an empty path (its leaf is the root).
    pub path: Vec<ProofStep>,
}
