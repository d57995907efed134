//! The messages of `GET /events` (server-sent events), by event name:
//!
//! | event | data |
//! |---|---|
//! | `status` | [`crate::Status`] |
//! | `pending` | [`PendingEvent`] |
//! | `block` | [`BlockEvent`] |
//! | `chain` | [`ChainEvent`] |
//! | `reorg` | [`ReorgEvent`] |
//! | `mining` | [`crate::MiningProgress`] |
//! | `peers` | [`PeersEvent`] |

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::answers::PeerHealth;

/// `pending`: the pool's size and its first rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PendingEvent {
    #[schema(minimum = 0)]
    pub count: usize,
    pub transactions: Vec<TxRow>,
}

/// A transaction as the dashboards list it, in the original's field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxRow {
    pub id: String,
    /// A reward or an allocation: the chain pays.
    pub mint: bool,
    pub recipient_address: String,
    pub sender_address: String,
    pub value: String,
}

/// Where a block came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BlockOrigin {
    Mined,
    Peer,
    Sync,
}

/// `block`: one new block, as the dashboards show it; also each block of [`ChainEvent`]
/// (there without `origin` and `committed_at_ms`, which are null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockEvent {
    #[schema(minimum = 0)]
    pub block_number: u64,
    /// When it was stored, Unix milliseconds.
    #[schema(required = true, minimum = 0)]
    pub committed_at_ms: Option<u64>,
    #[schema(minimum = 0, maximum = 64)]
    pub difficulty: u32,
    pub hash: String,
    #[schema(required = true)]
    pub origin: Option<BlockOrigin>,
    #[schema(minimum = 0)]
    pub payments: usize,
    /// Its first rows.
    pub rows: Vec<TxRow>,
    #[schema(minimum = 0)]
    pub timestamp: u64,
    #[schema(minimum = 0)]
    pub transactions: usize,
    /// The hash it links to: the Mine dashboard draws the chain's cards by it.
    pub previous_hash: String,
}

/// `chain`: the recent blocks, newest last, to rebuild from (after a reorg or a lag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainEvent {
    pub blocks: Vec<BlockEvent>,
}

/// `reorg`: the chain switched branches at `fork`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReorgEvent {
    #[schema(minimum = 0)]
    pub fork: u64,
    #[schema(minimum = 0)]
    pub height: u64,
    /// Transactions of the abandoned branch put back into the pool.
    #[schema(minimum = 0)]
    pub reinjected: usize,
}

/// `peers`: each peer's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PeersEvent {
    pub peers: Vec<PeerHealth>,
}
