//! Server-rendered pages. They carry no data beyond the default node URL (and an address
//! to look up); the scripts in `static/client.js` fetch the rest.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;

use super::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "client/index.html")]
pub struct WalletGeneratorPage {
    active: &'static str,
    node_url: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client/make_transaction.html")]
pub struct MakeTransactionPage {
    active: &'static str,
    node_url: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client/view_transactions.html")]
pub struct ViewTransactionsPage {
    active: &'static str,
    node_url: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client/wallet.html")]
pub struct WalletPage {
    active: &'static str,
    node_url: String,
    address: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client/not_found.html")]
pub struct NotFoundPage {
    active: &'static str,
}

pub async fn wallet_generator(State(state): State<AppState>) -> WalletGeneratorPage {
    WalletGeneratorPage {
        active: "generator",
        node_url: state.default_node_text(),
    }
}

pub async fn make_transaction(State(state): State<AppState>) -> MakeTransactionPage {
    MakeTransactionPage {
        active: "make",
        node_url: state.default_node_text(),
    }
}

pub async fn view_transactions(State(state): State<AppState>) -> ViewTransactionsPage {
    ViewTransactionsPage {
        active: "view",
        node_url: state.default_node_text(),
    }
}

#[derive(Deserialize)]
pub struct WalletPageQuery {
    #[serde(default)]
    address: String,
}

pub async fn wallet(
    State(state): State<AppState>,
    query: Result<Query<WalletPageQuery>, QueryRejection>,
) -> WalletPage {
    WalletPage {
        active: "wallet",
        node_url: state.default_node_text(),
        address: query.map(|Query(q)| q.address).unwrap_or_default(),
    }
}

pub async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, NotFoundPage { active: "" })
}
