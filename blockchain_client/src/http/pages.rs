//! Server-rendered pages. They carry no data beyond the default node URL (and an address
//! to look up); the scripts in `static/client.js` fetch the rest. Each page speaks the
//! language the request chose (`blockchain_i18n`), its script's words included.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use blockchain_i18n::{Lang, LangChoice, Localized};
use serde::Deserialize;

use super::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "client/index.html")]
pub struct WalletGeneratorPage {
    lang: Lang,
    active: &'static str,
    node_url: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client/make_transaction.html")]
pub struct MakeTransactionPage {
    lang: Lang,
    active: &'static str,
    node_url: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client/view_transactions.html")]
pub struct ViewTransactionsPage {
    lang: Lang,
    active: &'static str,
    node_url: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client/wallet.html")]
pub struct WalletPage {
    lang: Lang,
    active: &'static str,
    node_url: String,
    address: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client/not_found.html")]
pub struct NotFoundPage {
    lang: Lang,
    active: &'static str,
}

pub async fn wallet_generator(
    State(state): State<AppState>,
    choice: LangChoice,
) -> Localized<WalletGeneratorPage> {
    let page = WalletGeneratorPage {
        lang: choice.lang,
        active: "generator",
        node_url: state.default_node_text(),
    };
    Localized(choice, page)
}

pub async fn make_transaction(
    State(state): State<AppState>,
    choice: LangChoice,
) -> Localized<MakeTransactionPage> {
    let page = MakeTransactionPage {
        lang: choice.lang,
        active: "make",
        node_url: state.default_node_text(),
    };
    Localized(choice, page)
}

pub async fn view_transactions(
    State(state): State<AppState>,
    choice: LangChoice,
) -> Localized<ViewTransactionsPage> {
    let page = ViewTransactionsPage {
        lang: choice.lang,
        active: "view",
        node_url: state.default_node_text(),
    };
    Localized(choice, page)
}

#[derive(Deserialize)]
pub struct WalletPageQuery {
    #[serde(default)]
    address: String,
}

pub async fn wallet(
    State(state): State<AppState>,
    choice: LangChoice,
    query: Result<Query<WalletPageQuery>, QueryRejection>,
) -> Localized<WalletPage> {
    let page = WalletPage {
        lang: choice.lang,
        active: "wallet",
        node_url: state.default_node_text(),
        address: query.map(|Query(q)| q.address).unwrap_or_default(),
    };
    Localized(choice, page)
}

pub async fn not_found(choice: LangChoice) -> impl IntoResponse {
    let page = NotFoundPage {
        lang: choice.lang,
        active: "",
    };
    Localized(choice, (StatusCode::NOT_FOUND, page))
}
