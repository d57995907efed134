//! `GET /blocks/tree`: every block a node knows in a range of heights, the best chain's and
//! the stale branches', with where and when each arrived; and the `stale` event.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `?from=&to=` of `GET /blocks/tree`: heights, both included, at most
/// [`TREE_MAX_HEIGHTS`] of them. Default: the newest [`TREE_DEFAULT_HEIGHTS`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TreeQuery {
    /// The lowest height (default: 49 below `to`).
    #[param(minimum = 0)]
    pub from: Option<u64>,
    /// The highest height (default: `from` + 49, or the tip).
    #[param(minimum = 0)]
    pub to: Option<u64>,
}

/// Most heights one `GET /blocks/tree` answers for.
pub const TREE_MAX_HEIGHTS: u64 = 500;
/// Heights answered for when the query names none.
pub const TREE_DEFAULT_HEIGHTS: u64 = 50;

/// Where a block came from, as the tree tells it: a peer's URL, or [`MINED_HERE`].
pub const MINED_HERE: &str = "mined";

/// The block tree: this node's tip, the blocks it knows in the range (oldest first; the
/// best chain's block first at each height), and its peers' tips as last heard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockTree {
    /// This node's tip hash.
    pub tip: String,
    pub blocks: Vec<TreeBlock>,
    pub peers: Vec<TreePeer>,
}

/// One block of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TreeBlock {
    pub hash: String,
    #[schema(minimum = 0)]
    pub number: u64,
    pub previous_hash: String,
    /// Leading zero bits its hash needed.
    #[schema(minimum = 0, maximum = 64)]
    pub difficulty: u32,
    /// Its own work (2^difficulty), decimal.
    pub work: String,
    /// On the best chain: exactly one block per height is.
    pub best: bool,
    /// When this node first had it, Unix milliseconds; null when it arrived before the
    /// node last started (or is the genesis block).
    #[schema(required = true, minimum = 0)]
    pub first_seen: Option<u64>,
    /// Whom it came from: a peer's URL, `mined` when this node mined it, null when unknown
    /// (as `first_seen`).
    #[schema(required = true)]
    pub from: Option<String>,
    /// Its transactions, the reward included.
    #[schema(minimum = 0)]
    pub transactions: u32,
}

/// A peer's tip as this node last heard it (its status, or a block it announced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TreePeer {
    pub url: String,
    #[schema(required = true)]
    pub tip_hash: Option<String>,
    #[schema(required = true, minimum = 0)]
    pub height: Option<u64>,
    pub reachable: bool,
}

/// `stale`: a block this node keeps off its best chain (abandoned in a reorg, or a peer's
/// that lost to ours).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaleEvent {
    #[schema(minimum = 0)]
    pub number: u64,
    pub hash: String,
}
