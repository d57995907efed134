//! `/network`: the block tree drawn (`static/network.js` fetches `GET /blocks/tree` and
//! follows `/events`); the page itself carries only its words and the range asked for.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::Response;
use blockchain_i18n::{Lang, LangChoice};
use serde::Deserialize;

use super::extract::Query;
use super::pages::answer;

#[derive(Template, WebTemplate)]
#[template(path = "node/network.html")]
pub struct NetworkPage {
    pub lang: Lang,
    /// The heights asked for (`?from=&to=`), passed on to `GET /blocks/tree`; empty: the
    /// newest.
    pub from: String,
    pub to: String,
}

/// `?from=&to=` as the page was opened with, passed on as given: `GET /blocks/tree`
/// checks them, and the page shows its refusal.
#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `/network`: the block tree, stale branches and peers' tips, live.
pub async fn network(choice: LangChoice, Query(range): Query<RangeQuery>) -> Response {
    let page = NetworkPage {
        lang: choice.lang,
        from: range.from.unwrap_or_default(),
        to: range.to.unwrap_or_default(),
    };
    answer(choice, Ok(page))
}
