//! `verify-proof`: a transaction's Merkle proof checked on this machine, by core's rule
//! (`blockchain_core::merkle`), from the JSON `GET /transactions/{id}/proof` answers.

use blockchain_api::{ProofSide, TransactionProof};
use blockchain_core::merkle::{self, ProofStep, Side};
use serde::Serialize;
use thiserror::Error;

/// Why a proof does not hold, naming the level: 0 is the leaf, 1 the first step up.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProofCheckError {
    #[error("level 0 (the leaf): {0} is not 64 hex digits")]
    BadLeaf(String),
    #[error("the Merkle root {0} is not 64 hex digits")]
    BadRoot(String),
    #[error("level {level}: the sibling's hash {hash} is not 64 hex digits")]
    BadStep { level: usize, hash: String },
    #[error(
        "level 0 (the leaf): SHA-256(\"tx\" ‖ id ‖ signature) of transaction {id} is {computed}, \
         not the proof's leaf {leaf}"
    )]
    LeafMismatch {
        id: String,
        computed: String,
        leaf: String,
    },
    #[error("level {level}: the path leads to {computed}, not to the block's Merkle root {root}")]
    RootMismatch {
        level: usize,
        computed: String,
        root: String,
    },
}

/// What a proof that holds shows.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Verified {
    pub verified: bool,
    pub transaction_id: String,
    pub block_number: u64,
    pub block_hash: String,
    pub merkle_root: String,
    /// Steps from the leaf to the root.
    pub levels: usize,
}

fn hash32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// Checks that the proof's path leads from its leaf to its Merkle root, and, when the
/// transaction's signature is given, that the leaf is that transaction's.
///
/// # Errors
/// The first level that fails, as a [`ProofCheckError`].
pub fn check(
    proof: &TransactionProof,
    signature: Option<&[u8]>,
) -> Result<Verified, ProofCheckError> {
    let leaf = hash32(&proof.leaf).ok_or_else(|| ProofCheckError::BadLeaf(proof.leaf.clone()))?;
    let root = hash32(&proof.merkle_root)
        .ok_or_else(|| ProofCheckError::BadRoot(proof.merkle_root.clone()))?;
    if let Some(signature) = signature {
        let computed = merkle::leaf_hash(&proof.transaction_id, signature);
        if computed != leaf {
            return Err(ProofCheckError::LeafMismatch {
                id: proof.transaction_id.to_string(),
                computed: hex::encode(computed),
                leaf: proof.leaf.clone(),
            });
        }
    }
    let path = proof
        .path
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let hash = hash32(&step.hash).ok_or_else(|| ProofCheckError::BadStep {
                level: i + 1,
                hash: step.hash.clone(),
            })?;
            let side = match step.side {
                ProofSide::Left => Side::Left,
                ProofSide::Right => Side::Right,
            };
            Ok(ProofStep { hash, side })
        })
        .collect::<Result<Vec<_>, _>>()?;
    merkle::verify_path(&leaf, &path, &root).map_err(|e| ProofCheckError::RootMismatch {
        level: e.levels,
        computed: hex::encode(e.computed),
        root: proof.merkle_root.clone(),
    })?;
    Ok(Verified {
        verified: true,
        transaction_id: proof.transaction_id.to_string(),
        block_number: proof.block_number,
        block_hash: proof.block_hash.to_string(),
        merkle_root: proof.merkle_root.clone(),
        levels: path.len(),
    })
}
