//! Server-rendered dashboards: Mine, Configure, and explorer pages for a block, a
//! transaction and an address. JavaScript (`static/node.js`) only performs actions
//! (mine, resolve, register) and reloads.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use blockchain_core::{Address, Transaction, TxId};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::extract::{Path, Query};
use blockchain_api::PeerHealth;

/// Blocks per page of the chain table.
const BLOCKS_PER_PAGE: usize = 20;
/// Rows of an address's history on its page (pending first, then newest confirmed).
const HISTORY_ROWS: usize = 500;

/// A page's refusal is a page: its status, and what is wrong, in the node's layout. A
/// stale explorer link would otherwise show a browser the API's JSON.
pub struct PageError(ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(error: E) -> Self {
        PageError(error.into())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "node/error.html")]
struct ErrorPage {
    title: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = self.0.described();
        let mut message = message.chars();
        let page = ErrorPage {
            title,
            // A sentence on the page: the API's messages start in lower case.
            message: message.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(message).collect()
            }),
        };
        (status, page).into_response()
    }
}

/// A long hex value shown short, with the whole value at hand.
pub struct Hex {
    pub short: String,
    pub full: String,
}

impl Hex {
    fn of(full: &str) -> Self {
        Hex {
            short: blockchain_core::wallet::short_key(full),
            full: full.to_owned(),
        }
    }
}

pub struct TxRow {
    pub id: String,
    pub sender: Hex,
    pub sender_is_chain: bool,
    pub recipient: Hex,
    pub value: String,
    pub timestamp: String,
    pub block: Option<u64>,
}

impl TxRow {
    fn new(tx: &Transaction, block: Option<(u64, u64)>) -> Self {
        TxRow {
            id: tx.id().to_string(),
            sender: Hex::of(tx.sender().as_str()),
            sender_is_chain: tx.is_mint(),
            recipient: Hex::of(tx.recipient().as_hex()),
            value: tx.amount().to_string(),
            timestamp: block.map(|(_, ts)| format_time(ts)).unwrap_or_default(),
            block: block.map(|(n, _)| n),
        }
    }
}

/// 16384 as "16,384".
fn with_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Unix seconds as "2026-11-21 19:30:00 UTC", or "never".
pub fn format_optional_time(unix: Option<u64>) -> String {
    unix.map_or_else(|| "never".to_owned(), format_time)
}

fn format_time(unix: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    humantime::format_rfc3339_seconds(time)
        .to_string()
        .replace('T', " ")
        .replace('Z', " UTC")
}

pub struct NodePanel {
    pub network: String,
    pub height: u64,
    pub difficulty: u32,
    pub mining_difficulty: u32,
    /// Tries a block at the mining difficulty needs on average, written out.
    pub expected_tries: String,
    pub reward: String,
    /// Where this node's rewards go now.
    pub miner: Hex,
    pub miner_balance: String,
    /// The node's own wallet (the default reward address).
    pub wallet: Hex,
    pub peers: Vec<PeerHealth>,
    pub mining: bool,
    pub background_mining: bool,
    pub block_interval: f64,
    pub mining_threads: usize,
    pub max_threads: usize,
    pub pool_size: usize,
    pub tip: Hex,
}

fn panel(app: &AppState) -> NodePanel {
    let peers = app.network.peer_health();
    let settings = app.node.settings();
    let reward_address = app.node.reward_address();
    let chain = app.node.status(&reward_address);
    NodePanel {
        network: app.node.params.network.clone(),
        height: chain.height,
        difficulty: app.node.params.difficulty.bits(),
        mining_difficulty: settings.mining_difficulty.bits(),
        expected_tries: with_thousands(1u64 << settings.mining_difficulty.bits().min(63)),
        reward: app.node.params.reward.to_string(),
        miner: Hex::of(reward_address.as_hex()),
        miner_balance: chain.balance.to_string(),
        wallet: Hex::of(app.node.wallet.as_hex()),
        peers,
        mining: app.node.is_mining(),
        background_mining: settings.background_mining,
        block_interval: settings.block_interval,
        mining_threads: settings.mining_threads,
        max_threads: app.node.limits().max_threads,
        pool_size: chain.pool_size,
        tip: Hex::of(&chain.tip_hash.to_string()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "node/mine.html")]
pub struct MinePage {
    pub panel: NodePanel,
    pub pending: Vec<TxRow>,
    pub confirmed: Vec<TxRow>,
    pub page: usize,
    pub pages: usize,
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<usize>,
}

/// `/`: the Mine dashboard. The chain table shows newest blocks first, a page at a time.
pub async fn mine(
    State(app): State<AppState>,
    query: Result<Query<PageQuery>, ApiError>,
) -> Result<MinePage, PageError> {
    let Query(query) = query?;
    let panel = panel(&app);
    let pending = app
        .node
        .pending(500)
        .iter()
        .map(|tx| TxRow::new(tx, None))
        .collect();
    let blocks = app.node.length() as usize;
    let pages = blocks.div_ceil(BLOCKS_PER_PAGE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let newest = blocks - (page - 1) * BLOCKS_PER_PAGE;
    let oldest = newest.saturating_sub(BLOCKS_PER_PAGE);
    let confirmed = app
        .node
        .blocks(oldest as u64, newest as u64)?
        .iter()
        .rev()
        .flat_map(|stored| {
            let block = &stored.block;
            block
                .transactions()
                .iter()
                .map(|tx| TxRow::new(tx, Some((block.number(), block.timestamp()))))
        })
        .collect();
    Ok(MinePage {
        panel,
        pending,
        confirmed,
        page,
        pages,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "node/configure.html")]
pub struct ConfigurePage {
    pub panel: NodePanel,
}

/// `/configure`: add peers, list them.
pub async fn configure(State(app): State<AppState>) -> ConfigurePage {
    ConfigurePage { panel: panel(&app) }
}

#[derive(Template, WebTemplate)]
#[template(path = "node/block.html")]
pub struct BlockPage {
    pub number: u64,
    pub hash: String,
    pub previous_hash: String,
    pub merkle_root: String,
    pub timestamp: String,
    pub difficulty: u32,
    pub nonce: u64,
    pub transactions: Vec<TxRow>,
    pub has_next: bool,
}

/// `/explorer/block/{number}`.
pub async fn block(
    State(app): State<AppState>,
    number: Result<Path<String>, ApiError>,
) -> Result<BlockPage, PageError> {
    let Path(number) = number?;
    let number = super::block_number(&number)?;
    let stored = app.node.block(number)?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "no block {number}; the tip is {}",
            app.node.height()
        ))
    })?;
    let block = &stored.block;
    Ok(BlockPage {
        number: block.number(),
        hash: block.hash().to_string(),
        previous_hash: block.previous_hash().to_string(),
        merkle_root: hex::encode(block.header().merkle_root),
        timestamp: format_time(block.timestamp()),
        difficulty: block.difficulty().bits(),
        nonce: block.nonce(),
        transactions: block
            .transactions()
            .iter()
            .map(|tx| TxRow::new(tx, Some((block.number(), block.timestamp()))))
            .collect(),
        has_next: number < app.node.height(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "node/transaction.html")]
pub struct TransactionPage {
    pub row: TxRow,
    pub status: String,
    pub nonce: String,
    pub signature: String,
}

/// `/explorer/tx/{id}`.
pub async fn transaction(
    State(app): State<AppState>,
    id: Result<Path<String>, ApiError>,
) -> Result<TransactionPage, PageError> {
    let Path(id) = id?;
    let id: TxId = id
        .parse()
        .map_err(|_| ApiError::BadRequest("a transaction id is 64 hex digits".into()))?;
    let (tx, block) = app
        .node
        .locate(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no transaction {id}")))?;
    let stamp = block.and_then(|n| {
        app.node
            .block_info(n)
            .map(|info| (n, info.header.timestamp))
    });
    Ok(TransactionPage {
        status: match block {
            Some(n) => format!("confirmed in block {n}"),
            None => "pending".into(),
        },
        nonce: tx.nonce().unwrap_or("").to_owned(),
        signature: hex::encode(tx.signature()),
        row: TxRow::new(&tx, stamp),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "node/address.html")]
pub struct AddressPage {
    pub address: Hex,
    pub balance: String,
    pub pending_in: String,
    pub pending_out: String,
    pub history: Vec<TxRow>,
    pub is_miner: bool,
}

/// `/explorer/address/{hex}`: balance and history (newest first, at most 500 rows).
pub async fn address(
    State(app): State<AppState>,
    hex: Result<Path<String>, ApiError>,
) -> Result<AddressPage, PageError> {
    let Path(hex) = hex?;
    let address: Address = app.address(&hex, "address")?;
    let view = app.node.balance(&address);
    let (pending_in, pending_out) = (view.pending_incoming, view.pending_outgoing);
    let mut history: Vec<TxRow> = app
        .node
        .pending_of(&address)
        .iter()
        .map(|tx| TxRow::new(tx, None))
        .collect();
    // Confirmed history from the address index: the cost of this address's history, not
    // of the chain.
    let balance = view.confirmed.to_string();
    let room = HISTORY_ROWS.saturating_sub(history.len());
    for item in app.node.history(&address, room)?.items {
        let tx = crate::wire::parse_transaction(&item.json, &app.node.keys)
            .map_err(|e| crate::storage::StorageError::corrupt(item.block, &e))?;
        history.push(TxRow::new(&tx, Some((item.block, item.timestamp))));
    }
    Ok(AddressPage {
        balance,
        pending_in: pending_in.to_string(),
        pending_out: pending_out.to_string(),
        history,
        is_miner: address == app.node.wallet,
        address: Hex::of(address.as_hex()),
    })
}
