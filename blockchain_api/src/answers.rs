//! What the node answers, route by route. Fields are declared in the order they go on the
//! wire (see the crate's doc).

use std::fmt;

use blockchain_core::chain::TipRank;
use blockchain_core::{Amount, BlockHash, Transaction, TxId, Work};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::schemas;

/// Every refusal: `message` names the kind (the original's "Missing values", "Invalid
/// Transaction!"), `error` says what is wrong. A refused setting also names its `field`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// A value written with its keys sorted, as `serde_json::json!` and the original's Flask
/// `jsonify` wrote it: how transactions appear inside the answers that were built with
/// `json!`. Read as the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedKeys<T>(pub T);

impl<T: Serialize> Serialize for SortedKeys<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A `serde_json::Value` object is a `BTreeMap`: its keys come out sorted.
        serde_json::to_value(&self.0)
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for SortedKeys<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(SortedKeys)
    }
}

/// "Transaction will be added to Block N", written straight into the answer (no string
/// is built on the hot path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WillBeAdded(pub u64);

const WILL_BE_ADDED: &str = "Transaction will be added to Block ";

impl fmt::Display for WillBeAdded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{WILL_BE_ADDED}{}", self.0)
    }
}

impl Serialize for WillBeAdded {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WillBeAdded {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.strip_prefix(WILL_BE_ADDED)
            .and_then(|number| number.parse().ok())
            .map(WillBeAdded)
            .ok_or_else(|| serde::de::Error::custom(format!("not {WILL_BE_ADDED}N: {text:?}")))
    }
}

/// `POST /transactions/new`, 201: the transaction is in the pool (and durable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    /// The block it is expected to join.
    #[schema(minimum = 0)]
    pub block_number: u64,
    #[schema(value_type = String, example = "Transaction will be added to Block 2")]
    pub message: WillBeAdded,
    #[schema(value_type = schemas::Hex64)]
    pub transaction_id: TxId,
}

/// `POST /transactions/batch`, 200: one result per item, in order. `I` is the item type a
/// reader wants: a load generator that counts only reads them as
/// `serde::de::IgnoredAny`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(bound = "")]
pub struct BatchAnswer<I = BatchItem> {
    #[schema(minimum = 0)]
    pub accepted: usize,
    #[schema(minimum = 0)]
    pub refused: usize,
    #[schema(value_type = Vec<BatchItem>)]
    pub results: Vec<I>,
}

/// One item of a batch: what a single submission would have answered, with its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    Accepted(BatchAccepted),
    Refused(BatchRefused),
}

/// An accepted item of a batch: [`Accepted`] with its status, 201.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchAccepted {
    #[schema(minimum = 0)]
    pub block_number: u64,
    #[schema(value_type = String)]
    pub message: WillBeAdded,
    #[schema(minimum = 100, maximum = 599)]
    pub status: u16,
    #[schema(value_type = schemas::Hex64)]
    pub transaction_id: TxId,
}

/// A refused item of a batch: [`ErrorBody`] with its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchRefused {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    #[schema(minimum = 100, maximum = 599)]
    pub status: u16,
}

/// `GET /transactions/get`: the pending pool, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pool {
    #[schema(value_type = Vec<schemas::Transaction>)]
    pub transactions: Vec<SortedKeys<Transaction>>,
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TxState {
    Pending,
    Confirmed,
}

/// `GET /transactions/{id}`: pending, or confirmed in a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransactionStatus {
    /// The block that holds it, once confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub block_number: Option<u64>,
    pub status: TxState,
    #[schema(value_type = schemas::Transaction)]
    pub transaction: SortedKeys<Transaction>,
}

/// `GET|POST /mine`, 200: the block just forged (and durable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Mined {
    #[schema(minimum = 0)]
    pub block_number: u64,
    #[schema(minimum = 0, maximum = 64)]
    pub difficulty: u32,
    #[schema(value_type = schemas::Hex64)]
    pub hash: BlockHash,
    /// "New Block Forged".
    pub message: String,
    #[schema(minimum = 0)]
    pub nonce: u64,
    #[schema(value_type = schemas::Hex64)]
    pub previous_hash: BlockHash,
    /// Who the block's reward pays, and how much (its last transaction).
    #[schema(required = true)]
    pub reward: Option<Reward>,
    #[schema(minimum = 0)]
    pub timestamp: u64,
    #[schema(value_type = Vec<schemas::Transaction>)]
    pub transactions: Vec<SortedKeys<Transaction>>,
}

/// A block's reward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reward {
    pub address: String,
    #[schema(value_type = schemas::Coins)]
    pub value: Amount,
}

/// `GET /chain`: a page of the chain. `length` is the whole chain's; `from` is the first
/// block's number; `work` the chain's total work (decimal). The original node sends
/// neither `from` nor `work`: they read as 0 and empty. `B` is the block type a reader
/// wants (core's [`blockchain_core::Block`] checks every address it reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(bound = "")]
pub struct ChainPage<B = blockchain_core::Block> {
    #[schema(value_type = Vec<schemas::Block>)]
    pub chain: Vec<B>,
    #[schema(minimum = 0)]
    pub length: u64,
    #[serde(default)]
    #[schema(required = true, minimum = 0)]
    pub from: u64,
    #[serde(default)]
    #[schema(required = true, value_type = schemas::Decimal)]
    pub work: String,
}

/// `POST /blocks`: what became of a peer's block. 201 with its number and hash when it
/// joined the chain; 200 when known already; 202 when a resolve with the peer started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockReceived {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub block_number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<schemas::Hex64>)]
    pub hash: Option<BlockHash>,
    pub message: String,
}

/// `GET /balance?address=`: confirmed coins and what the pool would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Balance {
    pub address: String,
    /// Confirmed minus pending outgoing.
    #[schema(value_type = schemas::Coins)]
    pub available: Amount,
    #[schema(value_type = schemas::Coins)]
    pub balance: Amount,
    #[schema(minimum = 0)]
    pub height: u64,
    /// Pending incoming minus outgoing, signed ("-1.5").
    #[schema(pattern = r"^-?[0-9]+(\.[0-9]+)?$")]
    pub pending: String,
    #[schema(value_type = schemas::Coins)]
    pub pending_incoming: Amount,
    #[schema(value_type = schemas::Coins)]
    pub pending_outgoing: Amount,
}

/// `GET /history?address=`: an address's confirmed transactions in `/chain`'s shape,
/// oldest block first; `length` counts all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct History {
    pub address: String,
    pub chain: Vec<HistoryBlock>,
    #[schema(minimum = 0)]
    pub length: u64,
}

/// A block of [`History`], holding only the address's transactions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryBlock {
    #[schema(minimum = 0)]
    pub block_number: u64,
    #[schema(minimum = 0)]
    pub timestamp: u64,
    #[schema(value_type = Vec<schemas::Transaction>)]
    pub transactions: Vec<Transaction>,
}

/// `GET /status`: the node at a glance, for dashboards and peers. Also the event stream's
/// `status` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Status {
    /// The node's clock, Unix milliseconds.
    #[schema(minimum = 0)]
    pub at_ms: u64,
    pub background_mining: bool,
    /// Seconds between background blocks.
    #[schema(minimum = 0.0)]
    pub block_interval: f64,
    /// The network's difficulty, in leading zero bits.
    #[schema(minimum = 0, maximum = 64)]
    pub difficulty: u32,
    #[schema(value_type = schemas::Hex64)]
    pub genesis_hash: BlockHash,
    #[schema(minimum = 0)]
    pub height: u64,
    /// The last finished proof-of-work search.
    #[schema(required = true)]
    pub last_search: Option<MiningProgress>,
    #[schema(minimum = 0)]
    pub length: u64,
    pub miner_address: String,
    #[schema(value_type = schemas::Coins)]
    pub miner_balance: Amount,
    pub mining: bool,
    #[schema(minimum = 0, maximum = 64)]
    pub mining_difficulty: u32,
    /// The search in progress.
    #[schema(required = true)]
    pub mining_progress: Option<MiningProgress>,
    #[schema(minimum = 1)]
    pub mining_threads: usize,
    pub network: String,
    pub peers: Vec<String>,
    #[schema(minimum = 0)]
    pub pool_size: usize,
    #[schema(value_type = schemas::Coins)]
    pub reward: Amount,
    /// Whether the node's storage takes writes (a full disk refuses them until freed).
    pub storage: StorageHealth,
    #[schema(value_type = schemas::Hex64)]
    pub tip_hash: BlockHash,
    #[schema(minimum = 0)]
    pub tip_timestamp: u64,
    pub wallet_address: String,
    #[schema(value_type = schemas::Decimal)]
    pub work: String,
}

/// `GET /status` as a node reads its peers': only what decides whether to download a
/// peer's chain.
///
/// Lenient on purpose, unlike [`Status`]: a peer may be another implementation of the
/// protocol or another version of this node, and what it claims is only a hint (the chain
/// it serves is validated whatever it claims). So only `height` is required; a peer that
/// names no tip, or one that does not parse, is downloaded and judged on what it serves.
/// (The original tutorial's nodes have no `/status` at all, and cannot be peers.)
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PeerStatus {
    pub height: u64,
    /// Its chain's work, decimal.
    #[serde(default)]
    pub work: Option<String>,
    #[serde(default)]
    pub tip_hash: Option<String>,
}

impl PeerStatus {
    /// The tip the peer claims, when it names both its work and its tip's hash.
    pub fn claimed_tip(&self) -> Option<TipRank> {
        Some(TipRank {
            work: Work(self.work.as_deref()?.parse().ok()?),
            hash: self.tip_hash.as_deref()?.parse().ok()?,
        })
    }
}

/// A proof-of-work search: the one in progress, or the last one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MiningProgress {
    #[schema(minimum = 0)]
    pub block_number: u64,
    #[schema(minimum = 0, maximum = 64)]
    pub difficulty: u32,
    #[schema(minimum = 0)]
    pub elapsed_ms: u64,
    /// Tries a block at this difficulty needs on average (2^difficulty).
    #[schema(minimum = 0.0)]
    pub expected_tries: f64,
    /// Tries per second so far.
    #[schema(minimum = 0.0)]
    pub hash_rate: f64,
    #[schema(minimum = 0)]
    pub tries: u64,
}

/// `GET /stats/blocks?limit=`: the newest blocks, oldest first, for charts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockStatsList {
    pub blocks: Vec<BlockStats>,
}

/// One block as the charts need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockStats {
    #[schema(minimum = 0)]
    pub block_number: u64,
    #[schema(minimum = 0, maximum = 64)]
    pub difficulty: u32,
    /// Transactions other than rewards and allocations.
    #[schema(minimum = 0)]
    pub payments: u32,
    #[schema(minimum = 0)]
    pub timestamp: u64,
    #[schema(minimum = 0)]
    pub transactions: u32,
}

/// `GET|POST /settings`: the settings, what they resolve to, and their limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SettingsView {
    pub background_mining: bool,
    #[schema(minimum = 0.0)]
    pub block_interval: f64,
    /// Coins `POST /faucet` pays; 0 is off.
    #[serde(default)]
    #[schema(value_type = schemas::Coins)]
    pub faucet_amount: blockchain_core::Amount,
    /// The faucet's switch.
    #[serde(default)]
    pub faucet_enabled: bool,
    pub limits: SettingsLimits,
    #[schema(minimum = 0, maximum = 64)]
    pub mining_difficulty: u32,
    #[schema(minimum = 1)]
    pub mining_threads: usize,
    #[schema(minimum = 0, maximum = 64)]
    pub network_difficulty: u32,
    pub node_wallet: String,
    /// The address rewards go to when set; else the node's wallet.
    #[schema(required = true)]
    pub reward_address: Option<String>,
    pub reward_address_in_use: String,
}

/// Each setting's lowest and highest value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SettingsLimits {
    #[schema(value_type = Vec<f64>, min_items = 2, max_items = 2)]
    pub block_interval: [f64; 2],
    #[schema(value_type = Vec<u32>, min_items = 2, max_items = 2)]
    pub mining_difficulty: [u32; 2],
    #[schema(value_type = Vec<u64>, min_items = 2, max_items = 2)]
    pub mining_threads: [usize; 2],
}

/// `POST /nodes/register` (201) and `POST /nodes/remove` (200): the peers now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PeersChanged {
    pub message: String,
    pub total_nodes: Vec<String>,
    /// URLs of the list that were not added, each with why (absent when none was).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusedPeer>,
}

/// `GET /nodes/get`: the original's `nodes` (URLs), and each peer's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Peers {
    pub nodes: Vec<String>,
    pub peers: Vec<PeerHealth>,
}

/// What this node has seen of a peer lately.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PeerHealth {
    /// Requests that failed since it last answered.
    #[schema(minimum = 0)]
    pub failures: u32,
    /// Its height at the last status it gave.
    /// How this node found it (absent from nodes before this field existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<crate::PeerSource>,
    #[schema(required = true, minimum = 0)]
    pub height: Option<u64>,
    /// When it last answered (Unix seconds).
    #[schema(required = true, minimum = 0)]
    pub last_contact: Option<u64>,
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// What the last consensus round with it did.
    #[schema(required = true)]
    pub last_sync: Option<String>,
    /// Answered the last request sent to it.
    pub reachable: bool,
    /// Seconds until an unreachable peer is tried again.
    #[schema(required = true, minimum = 0)]
    pub retry_in_s: Option<u64>,
    /// The round-trip time of its last answer.
    #[schema(required = true, minimum = 0.0)]
    pub rtt_ms: Option<f64>,
    pub url: String,
}

/// `GET|POST /nodes/resolve`: a consensus round with every peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Resolved {
    #[schema(minimum = 0)]
    pub length: u64,
    /// "Our chain was replaced" or "Our chain is authoritative".
    pub message: String,
    pub peers: Vec<PeerOutcome>,
    #[schema(value_type = schemas::Hex64)]
    pub tip_hash: BlockHash,
}

/// What one peer's round did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PeerOutcome {
    pub adopted: bool,
    pub outcome: String,
    pub peer: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn will_be_added_reads_back_what_it_writes() {
        let json = serde_json::to_string(&WillBeAdded(7)).unwrap();
        assert_eq!(json, "\"Transaction will be added to Block 7\"");
        assert_eq!(
            serde_json::from_str::<WillBeAdded>(&json).unwrap(),
            WillBeAdded(7)
        );
        assert!(serde_json::from_str::<WillBeAdded>("\"Block 7\"").is_err());
    }

    #[test]
    fn sorted_keys_writes_keys_in_order_and_reads_the_value() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Unsorted {
            b: u8,
            a: u8,
        }
        let json = serde_json::to_string(&SortedKeys(Unsorted { b: 1, a: 2 })).unwrap();
        assert_eq!(json, r#"{"a":2,"b":1}"#);
        let read: SortedKeys<Unsorted> = serde_json::from_str(&json).unwrap();
        assert_eq!(read.0, Unsorted { b: 1, a: 2 });
    }

    #[test]
    fn a_chain_page_from_the_original_node_reads_with_no_start_or_work() {
        let page: ChainPage<serde_json::Value> =
            serde_json::from_str(r#"{"chain":[{"block_number":0}],"length":1}"#).unwrap();
        assert_eq!((page.length, page.from, page.work.as_str()), (1, 0, ""));
    }

    #[test]
    fn a_peer_status_claims_a_tip_only_when_it_names_one_that_parses() {
        let hash = "ab".repeat(32);
        let full: PeerStatus = serde_json::from_str(&format!(
            r#"{{"height":3,"work":"24","tip_hash":"{hash}","mining":true}}"#
        ))
        .unwrap();
        assert_eq!(
            full.claimed_tip(),
            Some(TipRank {
                work: Work(24),
                hash: hash.parse().unwrap()
            })
        );
        let bare: PeerStatus = serde_json::from_str(r#"{"height":3,"work":"24"}"#).unwrap();
        assert_eq!((bare.height, bare.claimed_tip()), (3, None));
        let garbled: PeerStatus =
            serde_json::from_str(r#"{"height":3,"work":"lots","tip_hash":"00"}"#).unwrap();
        assert_eq!(garbled.claimed_tip(), None);
        assert!(serde_json::from_str::<PeerStatus>(r#"{"work":"24"}"#).is_err());
    }

    #[test]
    fn a_refusal_names_its_field_only_when_it_has_one() {
        let mut body = ErrorBody {
            error: "missing field: amount".into(),
            field: None,
            message: "Missing values".into(),
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":"missing field: amount","message":"Missing values"}"#
        );
        body.field = Some("amount".into());
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":"missing field: amount","field":"amount","message":"Missing values"}"#
        );
    }

    #[test]
    fn a_batch_item_reads_as_accepted_or_refused() {
        let accepted = format!(
            r#"{{"block_number":2,"message":"Transaction will be added to Block 2","status":201,"transaction_id":"{}"}}"#,
            "ab".repeat(32)
        );
        assert!(matches!(
            serde_json::from_str::<BatchItem>(&accepted).unwrap(),
            BatchItem::Accepted(BatchAccepted {
                block_number: 2,
                ..
            })
        ));
        let refused = r#"{"error":"no","message":"Invalid Transaction!","status":406}"#;
        assert!(matches!(
            serde_json::from_str::<BatchItem>(refused).unwrap(),
            BatchItem::Refused(BatchRefused { status: 406, .. })
        ));
    }
}

/// Whether the node's storage takes writes, as `/status` shows it. While it is failing,
/// writes are refused (507 for a full disk, else 503, both with `Retry-After`) and the node
/// retries by itself; reads go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum StorageHealth {
    /// Writes are taken.
    Ok,
    /// Writes are refused since `since_ms`.
    Failing {
        /// The cause, as the write refusals name it.
        error: String,
        /// Whether the cause is a full disk.
        disk_full: bool,
        /// When the first write failed, in milliseconds since the Unix epoch.
        since_ms: u64,
    },
}

/// A URL `POST /nodes/register` did not add, and why: nothing answered there, it is not a
/// node of this network, or the node keeps its most peers already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefusedPeer {
    pub node: String,
    pub reason: String,
}

/// `POST /operator/sign-in` and `/operator/sign-out` asked by a program (a browser's form
/// gets a 303 back to its page instead): what happened to the operator's cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperatorSession {
    pub message: String,
}
