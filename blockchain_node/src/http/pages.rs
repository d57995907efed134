//! Server-rendered dashboards: Mine, Configure, and explorer pages for a block, a
//! transaction and an address. JavaScript (`static/node.js`) only performs actions
//! (mine, resolve, register) and follows the node's events. Each page, its refusals
//! included, speaks the language the request chose (`blockchain_i18n`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use blockchain_core::{Address, Transaction, TxId};
use blockchain_i18n::{Lang, LangChoice, Localized};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::extract::{Path, Query};
use super::operator::OperatorView;
use blockchain_api::PeerHealth;

/// Blocks per page of the chain table.
const BLOCKS_PER_PAGE: usize = 20;
/// Rows of an address's history on its page (pending first, then newest confirmed).
const HISTORY_ROWS: usize = 500;

/// A page's refusal is a page: its status, and what is wrong, in the node's layout and the
/// page's language. A stale explorer link would otherwise show a browser the API's JSON.
/// The refusals pages make themselves are named here; any other is the API's, whose
/// English words a Chinese page shows after a lead-in.
pub enum PageError {
    NoBlock {
        number: u64,
        tip: u64,
    },
    NoTransaction(TxId),
    BadBlockNumber(String),
    BadTransactionId,
    BadAddress(ApiError),
    NoPage(String),
    /// A refusal in the page's words already, with its status (the search box's).
    Refused(StatusCode, String),
    Api(ApiError),
}

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(error: E) -> Self {
        PageError::Api(error.into())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "node/error.html")]
struct ErrorPage {
    lang: Lang,
    title: String,
    message: String,
}

/// The API's words as a sentence on a page: they start in lower case.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

impl PageError {
    fn page(self, lang: Lang) -> (StatusCode, ErrorPage) {
        let (status, message) = match self {
            PageError::NoBlock { number, tip } => (
                StatusCode::NOT_FOUND,
                lang.t2("error-no-block", "number", number, "tip", tip),
            ),
            PageError::NoTransaction(id) => (
                StatusCode::NOT_FOUND,
                lang.t1("error-no-transaction", "id", id),
            ),
            PageError::BadBlockNumber(given) => (
                StatusCode::BAD_REQUEST,
                lang.t1("error-bad-block-number", "given", format!("{given:?}")),
            ),
            PageError::BadTransactionId => {
                (StatusCode::BAD_REQUEST, lang.t("error-bad-transaction-id"))
            }
            PageError::Refused(status, message) => (status, message),
            PageError::NoPage(path) => (
                StatusCode::NOT_FOUND,
                lang.t1("error-no-page", "path", path),
            ),
            PageError::BadAddress(error) => {
                let (status, _, detail) = error.described();
                (
                    status,
                    lang.t1("error-bad-address", "detail", capitalized(&detail)),
                )
            }
            PageError::Api(ApiError::Storage) => {
                (StatusCode::INTERNAL_SERVER_ERROR, lang.t("error-storage"))
            }
            PageError::Api(error) => {
                let (status, _, detail) = error.described();
                (
                    status,
                    lang.t1("error-other", "detail", capitalized(&detail)),
                )
            }
        };
        let title = match status {
            StatusCode::BAD_REQUEST => "error-title-bad-request",
            StatusCode::NOT_FOUND => "error-title-not-found",
            StatusCode::INTERNAL_SERVER_ERROR => "error-title-storage",
            _ => "error-title-other",
        };
        let page = ErrorPage {
            lang,
            title: lang.t(title),
            message,
        };
        (status, page)
    }
}

/// A page, or its refusal, in the chosen language.
pub(super) fn answer<P: IntoResponse>(choice: LangChoice, page: Result<P, PageError>) -> Response {
    match page {
        Ok(page) => Localized(choice, page).into_response(),
        Err(error) => Localized(choice, error.page(choice.lang)).into_response(),
    }
}

/// A browser's request for a path with no page.
pub fn no_page(uri: &Uri, headers: &HeaderMap) -> Response {
    let choice = LangChoice::of(uri.query(), headers);
    answer::<()>(choice, Err(PageError::NoPage(uri.path().to_owned())))
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
    fn new(lang: Lang, tx: &Transaction, block: Option<(u64, u64)>) -> Self {
        TxRow {
            id: tx.id().to_string(),
            sender: Hex::of(tx.sender().as_str()),
            sender_is_chain: tx.is_mint(),
            recipient: Hex::of(tx.recipient().as_hex()),
            value: tx.amount().to_string(),
            timestamp: block
                .map(|(_, ts)| format_time(lang, ts))
                .unwrap_or_default(),
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

/// Unix seconds as "2026-11-21 19:30:00 UTC" (in Chinese "2026-11-21 19:30:00（UTC）":
/// the form Chinese block explorers show too).
pub fn format_time(lang: Lang, unix: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    let text = humantime::format_rfc3339_seconds(time)
        .to_string()
        .replace('T', " ")
        .replace('Z', "");
    lang.t1("js-utc", "time", text)
}

/// [`format_time`] as templates call it (with references).
fn time_in(lang: &Lang, unix: &u64) -> String {
    format_time(*lang, *unix)
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
    /// What `POST /faucet` pays, and its switch.
    pub faucet_amount: String,
    pub faucet_enabled: bool,
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
        faucet_amount: settings.faucet_amount.to_string(),
        faucet_enabled: settings.faucet_enabled,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "node/mine.html")]
pub struct MinePage {
    pub lang: Lang,
    pub panel: NodePanel,
    pub operator: OperatorView,
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
    choice: LangChoice,
    operator: OperatorView,
    query: Result<Query<PageQuery>, ApiError>,
) -> Response {
    answer(choice, mine_page(&app, choice.lang, operator, query))
}

fn mine_page(
    app: &AppState,
    lang: Lang,
    operator: OperatorView,
    query: Result<Query<PageQuery>, ApiError>,
) -> Result<MinePage, PageError> {
    let Query(query) = query?;
    let panel = panel(app);
    let pending = app
        .node
        .pending(500)
        .iter()
        .map(|tx| TxRow::new(lang, tx, None))
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
                .map(move |tx| TxRow::new(lang, tx, Some((block.number(), block.timestamp()))))
        })
        .collect();
    Ok(MinePage {
        lang,
        panel,
        operator,
        pending,
        confirmed,
        page,
        pages,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "node/configure.html")]
pub struct ConfigurePage {
    pub lang: Lang,
    pub panel: NodePanel,
    pub operator: OperatorView,
}

/// `/configure`: add peers, list them.
pub async fn configure(
    State(app): State<AppState>,
    choice: LangChoice,
    operator: OperatorView,
) -> Response {
    let page = ConfigurePage {
        lang: choice.lang,
        panel: panel(&app),
        operator,
    };
    answer(choice, Ok(page))
}

#[derive(Template, WebTemplate)]
#[template(path = "node/block.html")]
pub struct BlockPage {
    pub lang: Lang,
    pub number: u64,
    pub hash: String,
    pub previous_hash: String,
    pub merkle_root: String,
    pub timestamp: String,
    pub difficulty: u32,
    pub nonce: u64,
    pub transactions: Vec<TxRow>,
    pub has_next: bool,
    /// The tip's number: the tamper lab counts the blocks a re-mine would redo.
    pub tip: u64,
}

/// `/explorer/block/{number}`.
pub async fn block(
    State(app): State<AppState>,
    choice: LangChoice,
    number: Result<Path<String>, ApiError>,
) -> Response {
    answer(choice, block_page(&app, choice.lang, number))
}

fn block_page(
    app: &AppState,
    lang: Lang,
    number: Result<Path<String>, ApiError>,
) -> Result<BlockPage, PageError> {
    let Path(given) = number?;
    let number: u64 = given
        .parse()
        .map_err(|_| PageError::BadBlockNumber(given))?;
    let stored = app.node.block(number)?.ok_or_else(|| PageError::NoBlock {
        number,
        tip: app.node.height(),
    })?;
    let block = &stored.block;
    Ok(BlockPage {
        lang,
        number: block.number(),
        hash: block.hash().to_string(),
        previous_hash: block.previous_hash().to_string(),
        merkle_root: hex::encode(block.header().merkle_root),
        timestamp: format_time(lang, block.timestamp()),
        difficulty: block.difficulty().bits(),
        nonce: block.nonce(),
        transactions: block
            .transactions()
            .iter()
            .map(|tx| TxRow::new(lang, tx, Some((block.number(), block.timestamp()))))
            .collect(),
        has_next: number < app.node.height(),
        tip: app.node.height(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "node/transaction.html")]
pub struct TransactionPage {
    pub lang: Lang,
    pub row: TxRow,
    pub nonce: String,
    pub signature: String,
    /// The Merkle proof, once a block holds the transaction.
    pub proof: Option<blockchain_api::TransactionProof>,
}

/// `/explorer/tx/{id}`.
pub async fn transaction(
    State(app): State<AppState>,
    choice: LangChoice,
    id: Result<Path<String>, ApiError>,
) -> Response {
    answer(choice, transaction_page(&app, choice.lang, id))
}

fn transaction_page(
    app: &AppState,
    lang: Lang,
    id: Result<Path<String>, ApiError>,
) -> Result<TransactionPage, PageError> {
    let Path(id) = id?;
    let id: TxId = id.parse().map_err(|_| PageError::BadTransactionId)?;
    let (tx, block) = app.node.locate(&id).ok_or(PageError::NoTransaction(id))?;
    let stamp = block.and_then(|n| {
        app.node
            .block_info(n)
            .map(|info| (n, info.header.timestamp))
    });
    let proof = match block {
        Some(_) => super::proofs::proof_for(app, &id).ok(),
        None => None,
    };
    Ok(TransactionPage {
        lang,
        proof,
        nonce: tx.nonce().unwrap_or("").to_owned(),
        signature: hex::encode(tx.signature()),
        row: TxRow::new(lang, &tx, stamp),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "node/address.html")]
pub struct AddressPage {
    pub lang: Lang,
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
    choice: LangChoice,
    hex: Result<Path<String>, ApiError>,
) -> Response {
    answer(choice, address_page(&app, choice.lang, hex))
}

fn address_page(
    app: &AppState,
    lang: Lang,
    hex: Result<Path<String>, ApiError>,
) -> Result<AddressPage, PageError> {
    let Path(hex) = hex?;
    let address: Address = app
        .address(&hex, "address")
        .map_err(PageError::BadAddress)?;
    let view = app.node.balance(&address);
    let (pending_in, pending_out) = (view.pending_incoming, view.pending_outgoing);
    let mut history: Vec<TxRow> = app
        .node
        .pending_of(&address)
        .iter()
        .map(|tx| TxRow::new(lang, tx, None))
        .collect();
    // Confirmed history from the address index: the cost of this address's history, not
    // of the chain.
    let balance = view.confirmed.to_string();
    let room = HISTORY_ROWS.saturating_sub(history.len());
    for item in app.node.history(&address, room)?.items {
        let tx = crate::wire::parse_transaction(&item.json, &app.node.keys)
            .map_err(|e| crate::storage::StorageError::corrupt(item.block, &e))?;
        history.push(TxRow::new(lang, &tx, Some((item.block, item.timestamp))));
    }
    Ok(AddressPage {
        lang,
        balance,
        pending_in: pending_in.to_string(),
        pending_out: pending_out.to_string(),
        history,
        is_miner: address == app.node.wallet,
        address: Hex::of(address.as_hex()),
    })
}
