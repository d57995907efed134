//! What the routes take: query parameters, and the bodies' fields. Bodies come as a form
//! (URL-encoded or multipart, as the original's pages post them) or as JSON; the node reads
//! every form field as text.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `?from=&limit=` of `GET /chain`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChainQuery {
    /// The first block's number (default 0).
    #[param(minimum = 0)]
    pub from: Option<u64>,
    /// Blocks at most (default: to the tip).
    #[param(minimum = 0)]
    pub limit: Option<u64>,
}

/// `?address=` of `GET /balance`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddressQuery {
    /// A public key in hex (DER). Required: without it the answer is a 400. An `Option`
    /// only so that a missing one gets the node's own 400, not the extractor's.
    #[param(required = true, min_length = 1)]
    pub address: Option<String>,
}

/// `?address=&limit=` of `GET /history`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// A public key in hex (DER). Required: without it the answer is a 400. An `Option`
    /// only so that a missing one gets the node's own 400, not the extractor's.
    #[param(required = true, min_length = 1)]
    pub address: Option<String>,
    /// The newest N transactions (1 to 5000, default 500).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<usize>,
}

/// `?limit=` of `GET /stats/blocks`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// The newest N blocks (1 to 1000, default 60).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// `?reward_address=` of `GET|POST /mine`; a body's field of that name wins.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct MineRequest {
    /// Pays this block's reward to this public key (hex) instead of the node's.
    pub reward_address: Option<String>,
}

/// `POST /transactions/new` as a form, as the original's page posts it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransactionForm {
    /// A public key in hex, or "THE BLOCKCHAIN".
    pub sender_address: String,
    pub recipient_address: String,
    /// Coins, as decimal text.
    pub amount: String,
    /// Makes two equal payments differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// PKCS#1 v1.5 SHA-1 signature, hex.
    pub signature: String,
}

/// `POST /transactions/new` as JSON, and each item of `POST /transactions/batch`: core's
/// wire form ([`blockchain_core::TransactionJson`]), the value named `value`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransactionRequest {
    pub sender_address: String,
    pub recipient_address: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub signature: String,
}

/// `POST /settings`: the settings to change; the others stay. A form sends each as text.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SettingsChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_mining: Option<bool>,
    /// Seconds, 0 to 86400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 86400.0)]
    pub block_interval: Option<f64>,
    /// A public key in hex; empty or null for the node's wallet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub mining_threads: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 64)]
    pub mining_difficulty: Option<u32>,
    /// Coins the faucet pays, a plain decimal; 0 turns it off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faucet_amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faucet_enabled: Option<bool>,
}

/// `POST /settings` as a form: the same fields, as text.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SettingsForm {
    pub background_mining: Option<String>,
    pub block_interval: Option<String>,
    pub reward_address: Option<String>,
    pub mining_threads: Option<String>,
    pub mining_difficulty: Option<String>,
    pub faucet_amount: Option<String>,
    pub faucet_enabled: Option<String>,
}

/// `POST /nodes/register` as a form: peers' URLs, comma-separated.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterForm {
    pub nodes: String,
}

/// `POST /nodes/register` as JSON: a list of URLs (or one comma-separated string).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub nodes: Vec<String>,
}

/// `POST /nodes/remove`: a registered peer's URL.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RemoveRequest {
    pub node: String,
}

/// `POST /operator/sign-in`: the operator token, and the page to go back to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignInForm {
    pub token: String,
    /// A path on the node (`/`, `/configure`) [default: `/`].
    pub back: Option<String>,
}

/// `POST /operator/sign-out`: the page to go back to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignOutForm {
    /// A path on the node (`/`, `/configure`) [default: `/`].
    pub back: Option<String>,
}
