//! Schemas of core's wire types, for the OpenAPI document only: core keeps its own
//! `Serialize` (the tutorial's shapes), and these describe what it writes.

#![allow(dead_code)]

use utoipa::ToSchema;

/// 32 bytes in hex: a block hash or a transaction id.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
pub struct Hex64(String);

/// Coins as decimal text, up to 8 places ("12.5").
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^[0-9]+(\.[0-9]+)?$")]
pub struct Coins(String);

/// A whole number as decimal text (chain work can pass 2^64).
#[derive(ToSchema)]
#[schema(value_type = String, pattern = "^[0-9]+$")]
pub struct Decimal(String);

/// A transaction as core writes it (`blockchain_core::Transaction`). Inside the answers
/// that list transactions its keys come sorted; inside blocks in this order.
#[derive(ToSchema)]
pub struct Transaction {
    /// A public key in hex, or "THE BLOCKCHAIN" for rewards and allocations.
    sender_address: String,
    recipient_address: String,
    /// Coins as the sender wrote them.
    value: String,
    /// Absent when the sender gave none.
    #[schema(required = false)]
    nonce: Option<String>,
    /// Hex; empty for rewards and allocations.
    signature: String,
    id: Hex64,
}

/// A block as core writes it (`blockchain_core::Block`): the tutorial's fields plus
/// `difficulty`, `merkle_root` and `hash`.
#[derive(ToSchema)]
pub struct Block {
    #[schema(minimum = 0)]
    block_number: u64,
    #[schema(minimum = 0)]
    timestamp: u64,
    transactions: Vec<Transaction>,
    #[schema(minimum = 0)]
    nonce: u64,
    previous_hash: Hex64,
    #[schema(minimum = 0, maximum = 64)]
    difficulty: u32,
    merkle_root: Hex64,
    hash: Hex64,
}
