//! `GET /blocks/tree`: the blocks this node knows in a range of heights, stale branches
//! included, and its peers' tips as last heard. Nothing here asks a peer: the answer is
//! what the node already knows.

use axum::Json;
use axum::extract::State;
use blockchain_api::{BlockTree, ErrorBody, TREE_DEFAULT_HEIGHTS, TREE_MAX_HEIGHTS, TreeQuery};

use super::AppState;
use super::error::ApiError;
use super::extract::Query;

/// The heights a query asks for, both included.
///
/// # Errors
/// A 400 naming `from` or `to` when the range is upside down or too wide.
pub fn heights(query: &TreeQuery, tip: u64) -> Result<(u64, u64), ApiError> {
    let span = TREE_DEFAULT_HEIGHTS - 1;
    let (from, to) = match (query.from, query.to) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => (from, from.saturating_add(span)),
        (None, Some(to)) => (to.saturating_sub(span), to),
        (None, None) => (tip.saturating_sub(span), tip),
    };
    if to < from {
        return Err(ApiError::BadRequest(format!(
            "to ({to}) is below from ({from})"
        )));
    }
    if to - from >= TREE_MAX_HEIGHTS {
        return Err(ApiError::BadRequest(format!(
            "to: at most {TREE_MAX_HEIGHTS} heights at once (from {from} to {to} is {})",
            u128::from(to - from) + 1
        )));
    }
    Ok((from, to))
}

/// `GET /blocks/tree?from=H&to=H2`: every block the node knows from height `from` to `to`
/// (at most 500 heights; default the newest 50): the best chain's (`best`, one per
/// height) and stale ones (abandoned in a reorg, or a peer's that lost), each with when
/// it arrived and from whom; and each peer's tip as last heard.
#[utoipa::path(get, path = "/blocks/tree", tag = "chain",
    params(TreeQuery),
    responses(
        (status = 200, description = "The block tree in that range", body = BlockTree),
        (status = 400, description = "A bad from or to", body = ErrorBody),
    ))]
pub async fn tree(
    State(app): State<AppState>,
    Query(query): Query<TreeQuery>,
) -> Result<Json<BlockTree>, ApiError> {
    let (from, to) = heights(&query, app.node.height())?;
    let (tip, blocks) = app.node.block_tree(from, to);
    Ok(Json(BlockTree {
        tip,
        blocks,
        peers: app.network.peer_tips(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(from: Option<u64>, to: Option<u64>) -> TreeQuery {
        TreeQuery { from, to }
    }

    #[test]
    fn ranges_default_to_the_newest_fifty() {
        assert_eq!(heights(&query(None, None), 120).unwrap(), (71, 120));
        assert_eq!(heights(&query(None, None), 3).unwrap(), (0, 3));
        assert_eq!(heights(&query(Some(10), None), 3).unwrap(), (10, 59));
        assert_eq!(heights(&query(None, Some(10)), 3).unwrap(), (0, 10));
        assert_eq!(heights(&query(Some(0), Some(499)), 3).unwrap(), (0, 499));
    }

    #[test]
    fn bad_ranges_name_their_parameter() {
        let message = |q| match heights(&q, 10) {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!("{:?}", other.map(|_| ())),
        };
        assert!(message(query(Some(5), Some(4))).starts_with("to (4) is below from (5)"));
        assert!(message(query(Some(0), Some(500))).starts_with("to: at most 500"));
        assert!(message(query(Some(0), Some(u64::MAX))).contains("18446744073709551616"));
    }
}
