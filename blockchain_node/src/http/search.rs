//! `GET /search?q=`: the search box in the nav. What was typed is read as a block number,
//! a block hash, a transaction id (or the start of one, 8 hex digits at least) or an
//! address, and the browser is sent to its explorer page with a 303. Nothing found is a
//! 404 page saying what was looked for; a query that can be none of these is a 400 page.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use blockchain_i18n::{Lang, LangChoice};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::extract::Query;
use super::pages::{self, PageError};
use crate::node::HexPrefix;

/// Fewest hex digits a prefix search takes: fewer would match too much to mean anything.
pub const MIN_PREFIX: usize = 8;
/// Hex digits in a block hash or a transaction id.
const FULL_HASH: usize = 64;
/// The query as a page repeats it, at most.
const SHOWN: usize = 80;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `/search?q=`.
pub async fn search(
    State(app): State<AppState>,
    choice: LangChoice,
    query: Result<Query<SearchQuery>, ApiError>,
) -> Response {
    match query
        .map_err(PageError::from)
        .and_then(|Query(query)| find(&app, choice.lang, query.q.trim()))
    {
        Ok(target) => Redirect::to(&target).into_response(),
        Err(refusal) => pages::answer::<()>(choice, Err(refusal)),
    }
}

/// The explorer page `q` names, or why there is none.
fn find(app: &AppState, lang: Lang, q: &str) -> Result<String, PageError> {
    let shown = || {
        let mut shown: String = q.chars().take(SHOWN).collect();
        if q.chars().count() > SHOWN {
            shown.push('…');
        }
        shown
    };
    if q.is_empty() {
        return Err(PageError::Refused(
            StatusCode::BAD_REQUEST,
            lang.t("search-empty"),
        ));
    }
    // 64 digits are a hash or an id, even all decimal ones.
    if let Some(number) = q.parse::<u64>().ok().filter(|_| q.len() < FULL_HASH) {
        if number <= app.node.height() {
            return Ok(format!("/explorer/block/{number}"));
        }
        if q.len() < MIN_PREFIX {
            return Err(PageError::NoBlock {
                number,
                tip: app.node.height(),
            });
        }
    }
    if let Some(prefix) = HexPrefix::parse(q) {
        if prefix.len() < MIN_PREFIX {
            return Err(PageError::Refused(
                StatusCode::BAD_REQUEST,
                lang.t("search-too-short"),
            ));
        }
        let blocks = app.node.blocks_by_hash_prefix(&prefix);
        let transactions = app.node.transactions_by_prefix(&prefix);
        return match (blocks.as_slice(), transactions.as_slice()) {
            ([number], []) => Ok(format!("/explorer/block/{number}")),
            ([], [id]) => Ok(format!("/explorer/tx/{id}")),
            ([], []) if prefix.len() == FULL_HASH => Err(PageError::Refused(
                StatusCode::NOT_FOUND,
                lang.t1("search-nothing-full", "query", shown()),
            )),
            ([], []) => Err(PageError::Refused(
                StatusCode::NOT_FOUND,
                lang.t1("search-nothing", "query", shown()),
            )),
            _ => Err(PageError::Refused(
                StatusCode::BAD_REQUEST,
                lang.t1("search-ambiguous", "query", shown()),
            )),
        };
    }
    if q.len() > FULL_HASH && q.bytes().all(|b| b.is_ascii_hexdigit()) {
        let address = app.address(q, "q").map_err(PageError::BadAddress)?;
        return Ok(format!("/explorer/address/{}", address.as_hex()));
    }
    Err(PageError::Refused(
        StatusCode::BAD_REQUEST,
        lang.t1("search-malformed", "query", shown()),
    ))
}
