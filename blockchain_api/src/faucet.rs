//! `POST /faucet` and how peers were found: the classroom additions (issue #22).

use blockchain_core::{Amount, TxId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schemas;

/// `POST /faucet`: the wallet to pay (form or JSON).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FaucetRequest {
    /// A wallet's public key in hex.
    pub address: String,
}

/// `POST /faucet`, 201: the payment the faucet signed and put in the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaucetPaid {
    pub address: String,
    #[schema(value_type = schemas::Coins)]
    pub amount: Amount,
    /// The block the payment is expected in: it arrives when that block is mined.
    #[schema(minimum = 0)]
    pub block_index: u64,
    pub message: String,
    /// Seconds before this address, or this client, may ask again.
    #[schema(minimum = 0)]
    pub next_in_s: u64,
    /// The node's own wallet, which paid.
    pub sender_address: String,
    #[schema(value_type = schemas::Hex64)]
    pub transaction_id: TxId,
}

/// How this node came to know a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeerSource {
    /// Named with `--peer` when the node started.
    Configured,
    /// Registered by the operator (`POST /nodes/register`, the Configure page).
    Operator,
    /// The peer registered itself (a node registering back).
    Itself,
    /// Announced over mDNS on the LAN (`--discover`), same network.
    Discovered,
    /// Kept in the data dir from an earlier run; how it was found then is not stored.
    Stored,
}
