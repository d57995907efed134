//! JSON endpoints: the original client's two, and read-only lookups on a node.

use axum::Json;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use blockchain_core::message::MessageStyle;
use blockchain_core::wallet::{DEFAULT_KEY_BITS, MAX_KEY_BITS, MIN_KEY_BITS};
use blockchain_core::{Address, PrivateKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroize;

use super::{ApiError, AppState};
use crate::history::{WalletView, wallet_view};
use crate::node::{NodeError, NodeKind};
use crate::signing::{self, FieldError, NonceChoice, SignRequest, SignedTransaction};

#[derive(Deserialize)]
pub struct NewWalletQuery {
    bits: Option<usize>,
}

/// The original's wallet JSON, in its key order.
#[derive(Serialize)]
pub struct NewWallet {
    private_key: String,
    public_key: String,
}

impl Drop for NewWallet {
    fn drop(&mut self) {
        self.private_key.zeroize();
    }
}

/// `GET /wallet/new`: a new key pair. Generated off the async runtime; kept nowhere.
pub async fn new_wallet(
    query: Result<Query<NewWalletQuery>, QueryRejection>,
) -> Result<Json<NewWallet>, ApiError> {
    let Query(query) = query?;
    let bits = query.bits.unwrap_or(DEFAULT_KEY_BITS);
    if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
        return Err(FieldError {
            field: "bits",
            message: format!("bits must be {MIN_KEY_BITS} to {MAX_KEY_BITS}, not {bits}"),
        }
        .into());
    }
    let wallet = tokio::task::spawn_blocking(move || {
        let key = PrivateKey::generate(&mut rand::rng(), bits)?;
        Ok::<_, blockchain_core::KeyError>(NewWallet {
            private_key: key.to_hex().to_string(),
            public_key: key.address().as_hex().to_owned(),
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("key generation stopped: {e}")))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(wallet))
}

/// The original form, plus an optional nonce (empty for a random one, or `no_nonce` set to
/// sign the original three-field message) and an optional `node_url`: the node the payment
/// will go to, which decides how it is signed.
#[derive(Deserialize)]
pub struct TransactionForm {
    #[serde(default)]
    sender_address: String,
    #[serde(default)]
    sender_private_key: String,
    #[serde(default)]
    recipient_address: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    no_nonce: String,
    #[serde(default)]
    node_url: String,
}

impl Drop for TransactionForm {
    fn drop(&mut self) {
        self.sender_private_key.zeroize();
    }
}

impl TransactionForm {
    fn nonce_choice(&self) -> NonceChoice {
        if matches!(self.no_nonce.as_str(), "on" | "true" | "1" | "yes") {
            NonceChoice::Without
        } else if self.nonce.trim().is_empty() {
            NonceChoice::Random
        } else {
            NonceChoice::Given(self.nonce.trim().to_owned())
        }
    }
}

/// The `/generate/transaction` answer: the original's `signature` and `transaction`, and,
/// when the form named a node, what kind of node it is.
#[derive(Serialize)]
pub struct GeneratedTransaction {
    #[serde(flatten)]
    signed: SignedTransaction,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<NodeCheck>,
}

/// What the client found at the node a payment is signed for.
#[derive(Serialize)]
pub struct NodeCheck {
    url: String,
    /// `ours`, `original`, or `unknown` when the node could not be checked.
    kind: &'static str,
    /// For an original node, how its Python prints the signed message: `classic` (3.6 to
    /// 3.11) or `python312`.
    #[serde(skip_serializing_if = "Option::is_none")]
    style: Option<&'static str>,
    /// What the user must read before confirming.
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
}

/// Asks the node at `requested` (or the default node) what it is. A node that cannot be
/// checked is `unknown`, with a warning that the payment is signed for a node of ours.
///
/// # Errors
/// [`ApiError`] for a malformed node URL.
async fn check_node(
    state: &AppState,
    requested: Option<&str>,
) -> Result<(NodeCheck, Option<NodeKind>), ApiError> {
    let client = state.node(requested)?;
    let url = client.base().clone();
    Ok(match client.kind().await {
        Ok(kind) => {
            let style = match kind {
                NodeKind::Ours => None,
                NodeKind::Original { style } => Some(style_name(style)),
            };
            let check = NodeCheck {
                url: url.to_string(),
                kind: kind.name(),
                style,
                warning: kind.warning(&url),
            };
            (check, Some(kind))
        }
        Err(error) => {
            let check = NodeCheck {
                url: url.to_string(),
                kind: "unknown",
                style: None,
                warning: Some(format!(
                    "Could not tell what kind of node this is: {error}. The payment is signed \
                     for a node of this project (with a nonce)."
                )),
            };
            (check, None)
        }
    })
}

fn style_name(style: MessageStyle) -> &'static str {
    match style {
        MessageStyle::Classic => "classic",
        MessageStyle::Python312 => "python312",
    }
}

/// `POST /generate/transaction`: signs the form and forgets the key. With a `node_url`, it
/// first asks that node what it is: for an original tutorial node it signs the original
/// three-field message and warns that such a node stops no replays; a node it cannot
/// check gets our signature (with a nonce) and a note saying so. The pages use it only
/// where the browser has no Web Crypto.
pub async fn generate_transaction(
    State(state): State<AppState>,
    form: Result<Form<TransactionForm>, FormRejection>,
) -> Result<Json<GeneratedTransaction>, ApiError> {
    let Form(form) = form?;
    let mut nonce = form.nonce_choice();
    let node = if form.node_url.trim().is_empty() {
        None
    } else {
        let (check, kind) = check_node(&state, Some(&form.node_url)).await?;
        if let Some(NodeKind::Original { style }) = kind {
            if let NonceChoice::Given(_) = nonce {
                return Err(FieldError {
                    field: "nonce",
                    message: format!(
                        "nonce: the node at {} is an original tutorial node, which verifies \
                         only the three-field message; leave the nonce empty",
                        check.url
                    ),
                }
                .into());
            }
            nonce = NonceChoice::ForOriginalNode(style);
        }
        Some(check)
    };
    let request = SignRequest {
        sender: Some(&form.sender_address),
        private_key: &form.sender_private_key,
        recipient: &form.recipient_address,
        amount: &form.amount,
    };
    let signed = signing::sign(request, nonce)?;
    Ok(Json(GeneratedTransaction { signed, node }))
}

/// `GET /api/node-kind?node=URL`: what kind of node is there, so that the page can sign
/// for it in the browser: `{"url", "kind", "style", "warning"}`. Takes a node URL only,
/// never a key.
pub async fn node_kind(
    State(state): State<AppState>,
    query: Result<Query<NodeQuery>, QueryRejection>,
) -> Result<Json<NodeCheck>, ApiError> {
    let Query(query) = query?;
    let (check, _) = check_node(&state, query.node.as_deref()).await?;
    Ok(Json(check))
}

#[derive(Deserialize)]
pub struct NodeQuery {
    node: Option<String>,
}

/// `GET /api/chain?node=URL`: the node's chain, fetched by this server.
pub async fn chain(
    State(state): State<AppState>,
    query: Result<Query<NodeQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let node = state.node(query.node.as_deref())?;
    Ok(Json(node.chain_json().await?))
}

#[derive(Deserialize)]
pub struct WalletQuery {
    node: Option<String>,
    #[serde(default)]
    address: String,
}

/// `GET /api/wallet?node=URL&address=HEX`: balance, pending and history of one address.
pub async fn wallet(
    State(state): State<AppState>,
    query: Result<Query<WalletQuery>, QueryRejection>,
) -> Result<Json<WalletView>, ApiError> {
    let Query(query) = query?;
    let address =
        Address::parse_field(query.address.trim(), "address").map_err(|e| FieldError {
            field: "address",
            message: e.to_string(),
        })?;
    let node = state.node(query.node.as_deref())?;
    let hex = address.as_hex();
    let (balance, chain, pool) =
        tokio::try_join!(node.balance(hex), node.history(hex), node.pool())?;
    Ok(Json(wallet_view(hex, balance, &chain, &pool.transactions)))
}

#[derive(Deserialize)]
pub struct MineForm {
    node: Option<String>,
    #[serde(default)]
    address: String,
}

/// `POST /api/mine` (form `address`, optional `node`): asks the node to mine a block
/// whose reward pays `address`, then reads the wallet's new balance. How a newcomer gets
/// coins from the pages alone. A node that will not mine for this app (401 or 403: a
/// classroom node keeps mining to its operator) is asked for its faucet instead; `via`
/// says which happened (`mined` or `faucet`).
pub async fn mine(
    State(state): State<AppState>,
    form: Result<Form<MineForm>, FormRejection>,
) -> Result<Json<Value>, ApiError> {
    let Form(form) = form?;
    let address = Address::parse_field(form.address.trim(), "address").map_err(|e| FieldError {
        field: "address",
        message: e.to_string(),
    })?;
    let node = state.node(form.node.as_deref())?;
    let mined = match node.mine_to(address.as_hex()).await {
        // A node that mines only for its operator: its faucet pays instead.
        Err(NodeError::Status {
            status: 401 | 403, ..
        }) => {
            let paid = node.faucet(address.as_hex()).await?;
            let balance = node.balance(address.as_hex()).await?;
            return Ok(Json(serde_json::json!({
                "via": "faucet",
                "message": paid.message,
                "amount": paid.amount,
                "block_index": paid.block_index,
                "transaction_id": paid.transaction_id,
                "balance": balance,
            })));
        }
        answer => answer?,
    };
    let balance = node.balance(address.as_hex()).await?;
    Ok(Json(serde_json::json!({
        "via": "mined",
        "message": format!("Block {} mined; its reward of {} went to this wallet", mined.block_number, mined.reward.value),
        "block_number": mined.block_number,
        "hash": mined.hash,
        "reward": mined.reward,
        "balance": balance,
    })))
}
