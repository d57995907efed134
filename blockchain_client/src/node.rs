//! Talking to a node over HTTP: its URL, its JSON, and what can go wrong on the way.
//!
//! A node URL is what a person types: `http://127.0.0.1:5000`, `127.0.0.1:5000` (the scheme
//! is added, as the original node does for peers) or a URL with a path prefix. Failures are
//! told apart — refused connection, timeout, an answer that is not the node's JSON — so the
//! page can say which.
//!
//! A node is this project's or the original tutorial's, told apart by what it answers
//! ([`NodeClient::kind`]): ours answers `GET /status` with its JSON; the original has no
//! `/status` and its `/chain` carries neither `work` nor block hashes. An original node
//! verifies only the three-field message, in the style its Python prints, and stops no
//! replays; the client signs for it accordingly and says so.

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;
use url::Url;

use blockchain_core::TransactionJson;
use blockchain_core::message::MessageStyle;

use crate::signing::SignedTransaction;

/// How long to wait for a node to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long to wait for a whole answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a text is not a node URL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NodeUrlError {
    #[error("node URL is empty")]
    Empty,
    #[error("node URL {0:?} is not a valid URL")]
    Invalid(String),
    #[error("node URL must start with http:// (this client does not speak {0})")]
    Scheme(String),
    #[error("node URL must not contain a user name, password, query or fragment")]
    Extra,
}

/// Parses a node URL as a person types it.
///
/// # Errors
/// A [`NodeUrlError`] saying what is wrong.
pub fn parse_node_url(text: &str) -> Result<Url, NodeUrlError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NodeUrlError::Empty);
    }
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|_| NodeUrlError::Invalid(clip(text)))?;
    if url.scheme() != "http" {
        return Err(NodeUrlError::Scheme(url.scheme().to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(NodeUrlError::Invalid(clip(text)));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(NodeUrlError::Extra);
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn clip(text: &str) -> String {
    text.chars().take(80).collect()
}

/// Why a node did not give a usable answer.
#[derive(Debug, Error)]
pub enum NodeError {
    #[error("cannot reach the node at {url}: {reason}. Is it running?")]
    Unreachable { url: String, reason: String },
    #[error("the node at {url} did not answer within {} seconds", REQUEST_TIMEOUT.as_secs())]
    Timeout { url: String },
    #[error("the node at {url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("the node at {url} answered something that is not a node's JSON: {reason}")]
    BadBody { url: String, reason: String },
    #[error(
        "the node at {url} answers neither as a node of this project (GET /status: {status}) \
         nor as an original tutorial node (GET /chain: {chain})"
    )]
    Unrecognised {
        url: String,
        status: String,
        chain: String,
    },
}

impl NodeError {
    /// Whether the node could not be reached or took too long (not a refusal).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            NodeError::Unreachable { .. } | NodeError::Timeout { .. }
        )
    }

    fn from_reqwest(url: &Url, error: &reqwest::Error) -> Self {
        let url = url.to_string();
        if error.is_timeout() {
            return NodeError::Timeout { url };
        }
        if error.is_decode() {
            return NodeError::BadBody {
                url,
                reason: root_cause(error),
            };
        }
        NodeError::Unreachable {
            url,
            reason: root_cause(error),
        }
    }
}

/// The innermost error message: "Connection refused (os error 111)" rather than
/// "error sending request".
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// Which kind of node a URL leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A node of this project: it checks balances and refuses replays.
    Ours,
    /// The original tutorial's node: it verifies the three-field message as `style` (the
    /// way the Python it runs on prints an ordered mapping) and nothing else.
    Original { style: MessageStyle },
}

impl NodeKind {
    /// `"ours"` or `"original"`, as the web app's JSON says it.
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Ours => "ours",
            NodeKind::Original { .. } => "original",
        }
    }

    /// What the user must know before paying through this node, if anything.
    pub fn warning(self, url: &Url) -> Option<String> {
        match self {
            NodeKind::Ours => None,
            NodeKind::Original { .. } => Some(format!(
                "The node at {url} is an original tutorial node: it checks signatures only. It \
                 does not stop replays (anyone who sees this payment can submit it again, and \
                 that node takes it again) and keeps no balances. The payment is signed as the \
                 original client signs it, without a nonce, because that node accepts nothing \
                 else."
            )),
        }
    }
}

/// The message style an original node verifies, from its `Server` header
/// (`Werkzeug/3.1.3 Python/3.12.1`): Python 3.12 and later print an ordered mapping in the
/// new style. Without a version, the tutorial's Python 3.6 style.
pub fn style_of_server(server: Option<&str>) -> MessageStyle {
    let version = server.and_then(|text| {
        text.split_whitespace()
            .find_map(|product| product.strip_prefix("Python/"))
    });
    let mut numbers = version
        .unwrap_or("")
        .split('.')
        .map(|n| n.parse::<u32>().ok());
    match (numbers.next().flatten(), numbers.next().flatten()) {
        (Some(major), Some(minor)) if (major, minor) >= (3, 12) => MessageStyle::Python312,
        _ => MessageStyle::Classic,
    }
}

/// A transaction as a node shows it, in a block or in the pool: the wire form plus the
/// node's id. An original node's block reward has a number as its value; it is read as
/// that number's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "WireTransaction")]
pub struct NodeTransaction {
    #[serde(flatten)]
    pub fields: TransactionJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Deserialize)]
struct WireTransaction {
    sender_address: String,
    recipient_address: String,
    #[serde(deserialize_with = "value_text")]
    value: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    signature: String,
    #[serde(default)]
    id: Option<String>,
}

impl From<WireTransaction> for NodeTransaction {
    fn from(wire: WireTransaction) -> Self {
        NodeTransaction {
            fields: TransactionJson {
                sender_address: wire.sender_address,
                recipient_address: wire.recipient_address,
                value: wire.value,
                nonce: wire.nonce,
                signature: wire.signature,
            },
            id: wire.id,
        }
    }
}

/// A value as text: a string as it is, a number as JSON writes it.
fn value_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "value must be a string or a number, not {other}"
        ))),
    }
}

/// A block as a node shows it; only the fields the client uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeBlock {
    pub block_number: u64,
    /// Unix seconds (the original node sends a float).
    pub timestamp: f64,
    pub transactions: Vec<NodeTransaction>,
}

/// `GET /chain`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainAnswer {
    pub chain: Vec<NodeBlock>,
    pub length: u64,
}

/// `GET /transactions/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolAnswer {
    pub transactions: Vec<NodeTransaction>,
}

/// `GET /balance?address=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceAnswer {
    pub address: String,
    pub balance: String,
    pub pending: String,
}

/// A block a node mined on request; only the fields the client uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MinedAnswer {
    pub block_number: u64,
    pub hash: String,
    pub transactions: Vec<Value>,
    pub reward: blockchain_api::Reward,
}

/// What a node said to a submitted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitAnswer {
    pub status: u16,
    /// The node's JSON (`message`, `transaction_id` or `error`).
    pub body: Value,
}

impl SubmitAnswer {
    /// Whether the node took the transaction into its pool.
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The node's words: its `error` if it refused, else its `message`.
    pub fn words(&self) -> String {
        let field = |name: &str| self.body.get(name).and_then(Value::as_str);
        match (self.accepted(), field("message"), field("error")) {
            (false, Some(message), Some(error)) => format!("{message} {error}"),
            (_, Some(message), _) => message.to_owned(),
            (_, None, Some(error)) => error.to_owned(),
            _ => format!("HTTP {}", self.status),
        }
    }
}

/// A client for one node.
#[derive(Debug, Clone)]
pub struct NodeClient {
    http: reqwest::Client,
    base: Url,
    /// Sent on the operator's calls (`mine_to`), if given.
    operator_token: Option<std::sync::Arc<str>>,
}

/// Builds the HTTP client used for every node.
///
/// # Panics
/// If the TLS-free client cannot be built, which only a broken system can cause.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .pool_idle_timeout(blockchain_http::IDLE_CONNECTION_TIMEOUT)
        .user_agent(concat!("blockchain_client/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("an HTTP client without TLS builds")
}

impl NodeClient {
    pub fn new(http: reqwest::Client, base: Url) -> Self {
        NodeClient {
            http,
            base,
            operator_token: None,
        }
    }

    /// Sends `token` as `Authorization: Bearer` on the operator's calls (see
    /// [`crate::operator_token`]).
    #[must_use]
    pub fn with_operator_token(mut self, token: Option<std::sync::Arc<str>>) -> Self {
        self.operator_token = token;
        self
    }

    /// The node's base URL, ending in `/`.
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn endpoint(&self, path: &str) -> Url {
        self.base.join(path).expect("a relative path joins")
    }

    /// Sends a request and reads the whole answer, whatever its status.
    async fn send(
        &self,
        url: &Url,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, axum::body::Bytes), NodeError> {
        let (status, _, bytes) = self.send_reading_server(url, request).await?;
        Ok((status, bytes))
    }

    /// As [`NodeClient::send`], with the answer's `Server` header.
    async fn send_reading_server(
        &self,
        url: &Url,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Option<String>, axum::body::Bytes), NodeError> {
        let response = request
            .send()
            .await
            .map_err(|e| NodeError::from_reqwest(url, &e))?;
        let status = response.status();
        let server = response
            .headers()
            .get(reqwest::header::SERVER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| NodeError::from_reqwest(url, &e))?;
        Ok((status, server, bytes))
    }

    /// Tells which kind of node this is from what it answers: ours answers `GET /status`
    /// with its JSON; an original node answers 404 there, and its `/chain` has no `work` and
    /// no block hashes.
    ///
    /// # Errors
    /// A [`NodeError`]: unreachable, or [`NodeError::Unrecognised`] when neither fits.
    pub async fn kind(&self) -> Result<NodeKind, NodeError> {
        let url = self.endpoint("status");
        let (status, server, bytes) = self
            .send_reading_server(&url, self.http.get(url.clone()))
            .await?;
        let json = serde_json::from_slice::<Value>(&bytes).ok();
        if status.is_success()
            && json
                .as_ref()
                .is_some_and(|v| v.get("height").is_some() && v.get("tip_hash").is_some())
        {
            return Ok(NodeKind::Ours);
        }
        let status_said = if status.is_success() {
            "answered without a height and tip hash".to_owned()
        } else {
            format!("answered {status}")
        };
        let chain_url = self.endpoint("chain");
        let (chain_status, chain_server, chain_bytes) = self
            .send_reading_server(&chain_url, self.http.get(chain_url.clone()))
            .await?;
        let unrecognised = |chain: String| NodeError::Unrecognised {
            url: self.base.to_string(),
            status: status_said.clone(),
            chain,
        };
        if !chain_status.is_success() {
            return Err(unrecognised(format!("answered {chain_status}")));
        }
        let chain: Value = serde_json::from_slice(&chain_bytes)
            .map_err(|e| unrecognised(format!("not JSON: {e}")))?;
        let page = blockchain_api::ChainPage::<Value>::deserialize(&chain)
            .map_err(|_| unrecognised("no \"chain\" list with a \"length\"".into()))?;
        if chain.get("work").is_some() || page.chain.iter().any(|b| b.get("hash").is_some()) {
            return Err(unrecognised(
                "a chain with work and block hashes, as this project's node serves".into(),
            ));
        }
        let server = server.or(chain_server);
        Ok(NodeKind::Original {
            style: style_of_server(server.as_deref()),
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, NodeError> {
        let url = self.endpoint(path);
        let answer = self
            .send(&url, self.http.get(url.clone()).query(query))
            .await?;
        decode(&url, answer)
    }

    /// `GET /chain`, checked to have the node's shape.
    ///
    /// # Errors
    /// A [`NodeError`].
    pub async fn chain(&self) -> Result<ChainAnswer, NodeError> {
        self.get("chain", &[]).await
    }

    /// `GET /chain` as the node sent it, after checking it has the node's shape.
    ///
    /// # Errors
    /// A [`NodeError`].
    pub async fn chain_json(&self) -> Result<Value, NodeError> {
        let value: Value = self.get("chain", &[]).await?;
        ChainAnswer::deserialize(&value).map_err(|e| NodeError::BadBody {
            url: self.endpoint("chain").to_string(),
            reason: e.to_string(),
        })?;
        Ok(value)
    }

    /// The confirmed transactions that involve `address`, in `/chain`'s shape: from the
    /// node's `/history` (its address index) where it has one, else from its whole chain
    /// (an older or an original node).
    ///
    /// # Errors
    /// A [`NodeError`].
    pub async fn history(&self, address: &str) -> Result<ChainAnswer, NodeError> {
        match self
            .get("history", &[("address", address), ("limit", "500")])
            .await
        {
            Err(NodeError::Status { status: 404, .. }) => self.chain().await,
            answer => answer,
        }
    }

    /// `GET /transactions/{id}/proof`: the transaction's Merkle proof.
    ///
    /// # Errors
    /// A [`NodeError`]: a pending transaction is a 409, an unknown one a 404.
    pub async fn proof(&self, id: &str) -> Result<blockchain_api::TransactionProof, NodeError> {
        self.get(&format!("transactions/{id}/proof"), &[]).await
    }

    /// `GET /transactions/{id}`: the transaction, pending or confirmed.
    ///
    /// # Errors
    /// A [`NodeError`].
    pub async fn transaction(&self, id: &str) -> Result<Value, NodeError> {
        self.get(&format!("transactions/{id}"), &[]).await
    }

    /// `GET /transactions/get`: the pending pool.
    ///
    /// # Errors
    /// A [`NodeError`].
    pub async fn pool(&self) -> Result<PoolAnswer, NodeError> {
        self.get("transactions/get", &[]).await
    }

    /// `GET /balance?address=`.
    ///
    /// # Errors
    /// A [`NodeError`].
    pub async fn balance(&self, address: &str) -> Result<BalanceAnswer, NodeError> {
        self.get("balance", &[("address", address)]).await
    }

    /// `POST /mine` with `reward_address`: the node mines one block (pending payments
    /// included) whose reward pays `address`, as regtest's `generatetoaddress` does.
    ///
    /// # Errors
    /// A [`NodeError`]; a node that mines no reward to an address answers without
    /// `reward` and is reported as a [`NodeError::BadBody`].
    pub async fn mine_to(&self, address: &str) -> Result<MinedAnswer, NodeError> {
        let url = self.endpoint("mine");
        let mut request = self
            .http
            .post(url.clone())
            .form(&[("reward_address", address)]);
        if let Some(token) = &self.operator_token {
            request = request.bearer_auth(token);
        }
        let answer = self.send(&url, request).await?;
        decode(&url, answer)
    }

    /// `POST /faucet`: the node pays `address` from its own wallet (a classroom node that
    /// will not mine for strangers still lets them get coins).
    ///
    /// # Errors
    /// A [`NodeError`]: a refusal (off, too soon, empty) is [`NodeError::Status`] with
    /// the node's words.
    pub async fn faucet(&self, address: &str) -> Result<blockchain_api::FaucetPaid, NodeError> {
        let url = self.endpoint("faucet");
        let request = self.http.post(url.clone()).form(&[("address", address)]);
        let answer = self.send(&url, request).await?;
        decode(&url, answer)
    }

    /// `POST /transactions/new` as a form, as the original page does.
    ///
    /// # Errors
    /// A [`NodeError`] if the node cannot be reached or does not answer JSON; a refusal is
    /// an `Ok` answer that is not [`SubmitAnswer::accepted`].
    pub async fn submit(&self, signed: &SignedTransaction) -> Result<SubmitAnswer, NodeError> {
        let url = self.endpoint("transactions/new");
        let request = self.http.post(url.clone()).form(&signed.form_fields());
        let (status, bytes) = self.send(&url, request).await?;
        let body = serde_json::from_slice(&bytes).map_err(|_| NodeError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            message: message_of(status, &bytes),
        })?;
        Ok(SubmitAnswer {
            status: status.as_u16(),
            body,
        })
    }
}

/// A successful answer's JSON; an error status as [`NodeError::Status`].
fn decode<T: DeserializeOwned>(
    url: &Url,
    (status, bytes): (StatusCode, axum::body::Bytes),
) -> Result<T, NodeError> {
    if !status.is_success() {
        return Err(NodeError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            message: message_of(status, &bytes),
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| NodeError::BadBody {
        url: url.to_string(),
        reason: e.to_string(),
    })
}

/// A short description of an error answer: its JSON `error`/`message`, or its first line.
fn message_of(status: StatusCode, body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        for key in ["error", "message"] {
            if let Some(text) = json.get(key).and_then(Value::as_str) {
                return clip(text);
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if line.is_empty() {
        status.canonical_reason().unwrap_or("no message").to_owned()
    } else {
        clip(line.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_urls_are_normalised() {
        let ok = [
            ("http://127.0.0.1:5000", "http://127.0.0.1:5000/"),
            ("127.0.0.1:5000", "http://127.0.0.1:5000/"),
            (" localhost:5001/ ", "http://localhost:5001/"),
            ("http://host/prefix", "http://host/prefix/"),
        ];
        for (text, want) in ok {
            assert_eq!(parse_node_url(text).unwrap().as_str(), want);
        }
        let node = NodeClient::new(http_client(), parse_node_url("http://h/p").unwrap());
        assert_eq!(node.endpoint("chain").as_str(), "http://h/p/chain");
    }

    #[test]
    fn bad_node_urls_say_why() {
        assert_eq!(parse_node_url(""), Err(NodeUrlError::Empty));
        assert_eq!(
            parse_node_url("https://x"),
            Err(NodeUrlError::Scheme("https".into()))
        );
        assert_eq!(
            parse_node_url("ftp://x"),
            Err(NodeUrlError::Scheme("ftp".into()))
        );
        assert!(matches!(
            parse_node_url("http://"),
            Err(NodeUrlError::Invalid(_))
        ));
        assert_eq!(parse_node_url("http://u:p@x/"), Err(NodeUrlError::Extra));
        assert_eq!(parse_node_url("http://x/?a=1"), Err(NodeUrlError::Extra));
    }

    #[test]
    fn the_python_version_decides_the_message_style() {
        let cases = [
            (Some("Werkzeug/3.1.3 Python/3.11.7"), MessageStyle::Classic),
            (Some("Werkzeug/0.14.1 Python/3.6.1"), MessageStyle::Classic),
            (
                Some("Werkzeug/3.1.3 Python/3.12.1"),
                MessageStyle::Python312,
            ),
            (
                Some("Werkzeug/3.1.9 Python/3.13.0"),
                MessageStyle::Python312,
            ),
            (Some("Werkzeug/3.1.9 Python/4.0"), MessageStyle::Python312),
            (Some("gunicorn"), MessageStyle::Classic),
            (Some("Python/x.y"), MessageStyle::Classic),
            (None, MessageStyle::Classic),
        ];
        for (server, style) in cases {
            assert_eq!(style_of_server(server), style, "{server:?}");
        }
    }

    #[test]
    fn an_original_reward_with_a_number_value_is_read() {
        let json =
            r#"{"recipient_address": "65adb62c", "sender_address": "THE BLOCKCHAIN", "value": 1}"#;
        let tx: NodeTransaction = serde_json::from_str(json).unwrap();
        assert_eq!(tx.fields.value, "1");
        assert_eq!(tx.fields.signature, "");
        let ours = r#"{"recipient_address": "r", "sender_address": "s", "value": "2.5", "nonce": "n", "signature": "ab", "id": "i"}"#;
        let tx: NodeTransaction = serde_json::from_str(ours).unwrap();
        assert_eq!(tx.fields.value, "2.5");
        assert_eq!(tx.id.as_deref(), Some("i"));
        let back = serde_json::to_value(&tx).unwrap();
        assert_eq!(back["nonce"], "n");
        assert!(
            serde_json::from_str::<NodeTransaction>(
                r#"{"recipient_address": "r", "sender_address": "s", "value": [1]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn submit_answers_speak_in_words() {
        let refused = SubmitAnswer {
            status: 406,
            body: serde_json::json!({"message": "Invalid Transaction!", "error": "insufficient funds"}),
        };
        assert!(!refused.accepted());
        assert_eq!(refused.words(), "Invalid Transaction! insufficient funds");
        let accepted = SubmitAnswer {
            status: 201,
            body: serde_json::json!({"message": "Transaction will be added to Block 2"}),
        };
        assert!(accepted.accepted());
        assert_eq!(accepted.words(), "Transaction will be added to Block 2");
    }

    #[test]
    fn error_bodies_are_summarised() {
        let json = br#"{"message": "Missing values", "error": "amount is missing"}"#;
        assert_eq!(
            message_of(StatusCode::BAD_REQUEST, json),
            "amount is missing"
        );
        assert_eq!(
            message_of(StatusCode::NOT_FOUND, b"\n<h1>Not Found</h1>\n"),
            "<h1>Not Found</h1>"
        );
        assert_eq!(message_of(StatusCode::BAD_GATEWAY, b""), "Bad Gateway");
    }
}
