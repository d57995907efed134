//! `GET /search?q=`: the nav's search box. The wallet app holds no chain, so it sends the
//! browser on to its node's search (`--node`), which finds the block, transaction or
//! address and answers with its explorer page.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::AppState;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `/search?q=`: a 303 to the node's `/search?q=`.
pub async fn search(
    State(app): State<AppState>,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(query)| query.q).unwrap_or_default();
    Redirect::to(node_search(&app.default_node, &q).as_str()).into_response()
}

/// The node's search URL for `q`.
fn node_search(node: &url::Url, q: &str) -> url::Url {
    let mut url = node.clone();
    let path = format!("{}/search", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.query_pairs_mut().clear().append_pair("q", q.trim());
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_goes_to_the_node_search_encoded() {
        let node = url::Url::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(
            node_search(&node, " 12 &x=1 ").as_str(),
            "http://127.0.0.1:5000/search?q=12+%26x%3D1"
        );
        let under = url::Url::parse("http://10.0.0.2:5000/node/").unwrap();
        assert_eq!(
            node_search(&under, "abc").as_str(),
            "http://10.0.0.2:5000/node/search?q=abc"
        );
    }
}
