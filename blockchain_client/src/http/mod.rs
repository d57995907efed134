//! The web app: pages, the original client's JSON endpoints, and read-only node lookups.
//!
//! The pages make keys and sign in the browser (`static/wallet-crypto.js`, Web Crypto), so a
//! private key never reaches this server from them. `/wallet/new` and `/generate/transaction`
//! serve the original's API and the pages where a browser has no Web Crypto (a page that is
//! not a secure context).
//!
//! | route | what |
//! |---|---|
//! | `GET /` | Wallet Generator page |
//! | `GET /wallet/new[?bits=N]` | `{"private_key", "public_key"}` |
//! | `GET /make/transaction` | the payment form and its confirmation dialog |
//! | `POST /generate/transaction` | form → `{"signature", "transaction"}`, plus `"node"` (its kind, a warning) when the form names `node_url`; the browser then posts it to the node |
//! | `GET /api/node-kind?node=` | what kind of node is there (`ours`, `original` with its message `style`, `unknown`) and its `warning`, for signing in the browser |
//! | `GET /view/transactions` | a node's chain as a table |
//! | `GET /wallet[?address=]` | a wallet's balance and history |
//! | `GET /api/chain?node=` | the node's `/chain`, fetched by this server |
//! | `GET /api/wallet?node=&address=` | balance, pending and history of one address |
//! | `POST /api/mine` | form `address`, `node` → the node mines a block paying `address` |
//! | `GET /search?q=` | a 303 to the node's `/search?q=` (the nav's search box) |
//! | `GET /static/*` | embedded assets |

mod api;
mod assets;
mod error;
mod pages;
mod search;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use blockchain_http::{BodyLimitLayer, Forbidden, Guard, GuardLayer, Refusals};
use serde_json::json;
use tower_http::timeout::TimeoutLayer;
use url::Url;

pub use error::ApiError;

use crate::node::{NodeClient, NodeUrlError, http_client, parse_node_url};

/// Largest request body: a form with a 4096-bit key is under 8 KiB.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Longest a request may take, node lookups included (longer if the client timeout is, so
/// that a late body gets its 408 first).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// This app's words for a body too large or too late.
const REFUSALS: Refusals = Refusals {
    too_large: |error| ApiError::TooLarge(error).into_response(),
    too_late: |error| ApiError::TimedOut(error).into_response(),
};

/// This app's words for a request its guard refuses: a 403 in the node's JSON shape.
const FORBIDDEN: Forbidden = Forbidden {
    app: "this wallet app",
    answer: |error| {
        (
            StatusCode::FORBIDDEN,
            Json(json!({ "message": "Forbidden", "error": error })),
        )
            .into_response()
    },
};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The node pages start with, from `--node`.
    pub default_node: Url,
    http: reqwest::Client,
    /// Answers IP addresses, localhost and the names given with `--allow-host`; lets only
    /// this app's own pages use the routes that act.
    guard: Arc<Guard>,
    /// The default node's operator token (`--operator-token-file`), sent to it alone.
    operator_token: Option<Arc<str>>,
}

impl AppState {
    pub fn new(default_node: Url) -> Self {
        AppState {
            default_node,
            http: http_client(),
            guard: Arc::new(Guard::new(&[], FORBIDDEN)),
            operator_token: None,
        }
    }

    /// Sends `token` on the operator's calls to the default node (never to another node a
    /// request names).
    #[must_use]
    pub fn with_operator_token(mut self, token: Option<Arc<str>>) -> Self {
        self.operator_token = token;
        self
    }

    /// Also answers requests naming these hosts.
    #[must_use]
    pub fn with_allowed_hosts(mut self, hosts: &[String]) -> Self {
        self.guard = Arc::new(Guard::new(hosts, FORBIDDEN));
        self
    }

    /// A client for the node a request names, or the default node.
    fn node(&self, requested: Option<&str>) -> Result<NodeClient, NodeUrlError> {
        let base = match requested {
            Some(text) => parse_node_url(text)?,
            None => self.default_node.clone(),
        };
        let token = (base == self.default_node)
            .then(|| self.operator_token.clone())
            .flatten();
        Ok(NodeClient::new(self.http.clone(), base).with_operator_token(token))
    }

    /// The default node as pages show it, without the trailing `/` of a bare host.
    fn default_node_text(&self) -> String {
        let text = self.default_node.as_str();
        if self.default_node.path() == "/" {
            text.trim_end_matches('/').to_owned()
        } else {
            text.to_owned()
        }
    }
}

/// Builds the app. A request's body must arrive within `body_time` of its head
/// (`--client-timeout`).
pub fn router(state: AppState, body_time: Duration) -> Router {
    // Routes that act, handle keys, or make this app fetch a node: this app's own pages
    // and programs only, never another site's page.
    let own = Router::new()
        .route("/wallet/new", get(api::new_wallet))
        .route("/generate/transaction", post(api::generate_transaction))
        .route("/api/node-kind", get(api::node_kind))
        .route("/api/chain", get(api::chain))
        .route("/api/wallet", get(api::wallet))
        .route("/api/mine", post(api::mine))
        .route_layer(GuardLayer::cross_site(Arc::clone(&state.guard)));
    Router::new()
        .route("/", get(pages::wallet_generator))
        .route("/make/transaction", get(pages::make_transaction))
        .route("/view/transactions", get(pages::view_transactions))
        .route("/wallet", get(pages::wallet))
        .route("/search", get(search::search))
        .merge(own)
        .route("/static/{*path}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .fallback(pages::not_found)
        .layer(GuardLayer::hosts(Arc::clone(&state.guard)))
        .layer(middleware::from_fn(security_headers))
        .layer(BodyLimitLayer::new(BODY_LIMIT, body_time, REFUSALS))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            REQUEST_TIMEOUT.max(body_time + Duration::from_secs(5)),
        ))
        .layer(middleware::from_fn(access_log))
        .with_state(state)
}

/// One line a request, as the node writes it (`blockchain_http::log_request`).
async fn access_log(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    blockchain_http::log_request(&method, &path, response.status(), started);
    response
}

/// The content security policy of every answer: scripts and styles from this server only
/// (no inline script, no `eval`), `connect-src` open so that the page can post to any
/// node, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self' http: https:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Paths whose answers hold a private key: the two pages that show or take one, and the
/// original's API that makes one or signs with one.
const HOLDS_PRIVATE_KEYS: [&str; 4] = [
    "/",
    "/make/transaction",
    "/wallet/new",
    "/generate/transaction",
];

/// Headers on every answer: the [`CONTENT_SECURITY_POLICY`], no framing, no referrer, and
/// `Cache-Control: no-store` where a private key may be.
async fn security_headers(request: Request, next: Next) -> Response {
    let sensitive = HOLDS_PRIVATE_KEYS.contains(&request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if sensitive {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Serves the app on `addr` until Ctrl-C or SIGTERM; a client gets `client_timeout` to
/// send each request's head, and again its body.
///
/// # Errors
/// If the address cannot be bound.
pub async fn serve(
    addr: SocketAddr,
    state: AppState,
    client_timeout: Duration,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    // Stop signals are listened for before anyone hears the app is up.
    let stop_signal = blockchain_http::StopSignal::listen();
    if !local.ip().is_loopback() {
        tracing::warn!(
            "listening on {local}, which is not a loopback address: anyone who can reach it \
             can use this wallet app, and a page opened from another machine is no secure \
             context, so it signs through this server, which then receives private keys"
        );
    }
    tracing::info!(node = %state.default_node, "wallet client listening on http://{local}");
    blockchain_http::serve(
        listener,
        router(state, client_timeout),
        client_timeout,
        async {
            stop_signal.requested().await;
            tracing::info!("shutting down");
        },
    )
    .await;
    Ok(())
}
