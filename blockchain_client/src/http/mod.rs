//! The web app: pages, the original client's JSON endpoints, and read-only node lookups.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | Wallet Generator page |
//! | `GET /wallet/new[?bits=N]` | `{"private_key", "public_key"}` |
//! | `GET /make/transaction` | the payment form and its confirmation dialog |
//! | `POST /generate/transaction` | form → `{"signature", "transaction"}`, plus `"node"` (its kind, a warning) when the form names `node_url`; the browser then posts it to the node |
//! | `GET /view/transactions` | a node's chain as a table |
//! | `GET /wallet[?address=]` | a wallet's balance and history |
//! | `GET /api/chain?node=` | the node's `/chain`, fetched by this server |
//! | `GET /api/wallet?node=&address=` | balance, pending and history of one address |
//! | `POST /api/mine` | form `address`, `node` → the node mines a block paying `address` |
//! | `GET /static/*` | embedded assets |

mod api;
mod assets;
mod error;
mod guard;
mod pages;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use url::Url;

pub use error::ApiError;

use crate::node::{NodeClient, NodeUrlError, http_client, parse_node_url};

/// Largest request body: a form with a 4096-bit key is under 8 KiB.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Longest a request may take, node lookups included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The node pages start with, from `--node`.
    pub default_node: Url,
    http: reqwest::Client,
    /// Host names answered besides IP addresses and localhost (`--allow-host`).
    allowed_hosts: std::sync::Arc<Vec<String>>,
}

impl AppState {
    pub fn new(default_node: Url) -> Self {
        AppState {
            default_node,
            http: http_client(),
            allowed_hosts: std::sync::Arc::default(),
        }
    }

    /// Also answers requests naming these hosts.
    #[must_use]
    pub fn with_allowed_hosts(mut self, hosts: &[String]) -> Self {
        self.allowed_hosts = std::sync::Arc::new(
            hosts
                .iter()
                .map(|h| blockchain_core::origin::host_name(h))
                .collect(),
        );
        self
    }

    /// A client for the node a request names, or the default node.
    fn node(&self, requested: Option<&str>) -> Result<NodeClient, NodeUrlError> {
        let base = match requested {
            Some(text) => parse_node_url(text)?,
            None => self.default_node.clone(),
        };
        Ok(NodeClient::new(self.http.clone(), base))
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

/// Builds the app.
pub fn router(state: AppState) -> Router {
    let trace = TraceLayer::new_for_http()
        // The path only: a query string could carry anything a person pasted.
        .make_span_with(|request: &Request| {
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
            )
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO))
        .on_failure(());
    Router::new()
        .route("/", get(pages::wallet_generator))
        .route("/make/transaction", get(pages::make_transaction))
        .route("/view/transactions", get(pages::view_transactions))
        .route("/wallet", get(pages::wallet))
        .route("/wallet/new", get(api::new_wallet))
        .route(
            "/generate/transaction",
            post(api::generate_transaction)
                .route_layer(middleware::from_fn(guard::same_origin_only)),
        )
        .route("/api/chain", get(api::chain))
        .route("/api/wallet", get(api::wallet))
        .route(
            "/api/mine",
            post(api::mine).route_layer(middleware::from_fn(guard::same_origin_only)),
        )
        .route("/static/{*path}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::known_host,
        ))
        .layer(middleware::from_fn(security_headers))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(trace)
        .with_state(state)
}

/// Headers on every answer: a strict content security policy (scripts and styles from
/// this server only; `connect-src` open so the page can post to any node), no framing,
/// no referrer, and no caching of answers that may hold a private key.
async fn security_headers(request: Request, next: Next) -> Response {
    let sensitive = matches!(
        request.uri().path(),
        "/wallet/new" | "/generate/transaction"
    );
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self' http: https:; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'; object-src 'none'",
        ),
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

/// Serves the app on `addr` until Ctrl-C or SIGTERM.
///
/// # Errors
/// If the address cannot be bound.
pub async fn serve(addr: SocketAddr, state: AppState) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() {
        tracing::warn!(
            "listening on {local}, which is not a loopback address: anyone who can reach it \
             can use this wallet app, which receives private keys"
        );
    }
    tracing::info!(node = %state.default_node, "wallet client listening on http://{local}");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
