//! The HTTP layer: routes, shared state, limits. Handlers parse, call the node, and map
//! the result; the rules live in `blockchain_core` and the node.

mod chain;
mod error;
mod events;
mod extract;
mod fields;
mod front_door;
mod mine;
mod nodes;
mod pages;
mod settings;
mod transactions;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rust_embed::RustEmbed;
use tower_http::cors::{Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;

pub use error::ApiError;

use blockchain_http::{BodyLimitLayer, Forbidden, Guard, GuardLayer, Refusals};

use crate::network::Network;
use crate::node::Node;

/// Bodies larger than this are refused with 413 (a transaction is a few KiB).
const BODY_LIMIT: usize = 64 * 1024;
/// A batch of up to 1,000 transactions with 4096-bit keys.
const BATCH_BODY_LIMIT: usize = 8 << 20;
/// Blocks from peers can hold 10,000 transactions.
const BLOCK_BODY_LIMIT: usize = 48 << 20;

/// What the handlers share. One `Arc`: axum clones the state for every request (and the
/// route holding it), and one counter costs less than a counter per part.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

pub struct AppParts {
    pub node: Arc<Node>,
    pub network: Arc<Network>,
    /// Turns true when the node shuts down: long-lived streams end then.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The host names and origins this node trusts.
    pub guard: Arc<Guard>,
}

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        AppState(Arc::new(parts))
    }

    /// A public key given in a request field, parsed through the node's key cache; a 400
    /// naming the field if it is not one.
    pub fn address(
        &self,
        hex: &str,
        field: &'static str,
    ) -> Result<blockchain_core::Address, ApiError> {
        self.node
            .keys
            .parse(hex.trim(), field)
            .map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}

/// A `limit` query parameter: `default` when absent, else 1 to `max`, or a 400 naming it.
pub fn limit(given: Option<usize>, default: usize, max: usize) -> Result<usize, ApiError> {
    let limit = given.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::BadRequest(format!(
            "limit must be 1 to {max}, not {limit}"
        )))
    }
}

/// A block number in a path, or a 400 naming what was given.
pub fn block_number(given: &str) -> Result<u64, ApiError> {
    given
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("block number {given:?} is not a whole number")))
}

#[derive(RustEmbed)]
#[folder = "../static/"]
struct Assets;

/// Builds the application: the original API, our additions, pages and assets. A request
/// body must arrive within `body_time` of its head (`--client-timeout`).
pub fn router(state: AppState, body_time: Duration) -> Router {
    // The operator's routes (they mine, change peers or settings) refuse other sites' pages.
    let operator = GuardLayer::cross_site(Arc::clone(&state.guard));
    let api = Router::new()
        .route("/transactions/new", post(transactions::submit))
        .route("/transactions/get", get(transactions::pending))
        .route("/transactions/{id}", get(transactions::lookup))
        .route("/chain", get(chain::chain))
        .route("/blocks/{number}", get(chain::block))
        .route("/balance", get(chain::balance))
        .route("/history", get(chain::history))
        .route("/status", get(chain::status))
        .route("/stats/blocks", get(chain::recent))
        .route(
            "/settings",
            get(settings::get).merge(post(settings::update).route_layer(operator.clone())),
        )
        .route(
            "/nodes/register",
            post(nodes::register).route_layer(operator.clone()),
        )
        .route(
            "/nodes/remove",
            post(nodes::remove).route_layer(operator.clone()),
        )
        .route("/nodes/get", get(nodes::list))
        .route(
            "/nodes/resolve",
            get(nodes::resolve)
                .post(nodes::resolve)
                .route_layer(operator.clone()),
        )
        .route("/", get(pages::mine))
        .route("/configure", get(pages::configure))
        .route("/explorer/block/{number}", get(pages::block))
        .route("/explorer/tx/{id}", get(pages::transaction))
        .route("/explorer/address/{address}", get(pages::address))
        .route("/static/{*path}", get(asset))
        .route("/favicon.ico", get(favicon))
        .layer(BodyLimitLayer::new(BODY_LIMIT, body_time, REFUSALS))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            handler_time(body_time),
        ));
    // Mining may take long at a high difficulty, and the event stream lasts as long as
    // its page: no request timeout there.
    let mining = Router::new()
        .route(
            "/mine",
            get(mine::mine).post(mine::mine).route_layer(operator),
        )
        .route("/events", get(events::events))
        .layer(BodyLimitLayer::new(BODY_LIMIT, body_time, REFUSALS));
    let batch = Router::new()
        .route("/transactions/batch", post(transactions::submit_batch))
        .layer(BodyLimitLayer::new(BATCH_BODY_LIMIT, body_time, REFUSALS));
    let blocks = Router::new()
        .route("/blocks", post(chain::announce))
        .layer(BodyLimitLayer::new(BLOCK_BODY_LIMIT, body_time, REFUSALS));

    let front_door = front_door::FrontDoorLayer::new(Arc::clone(&state.guard));
    api.merge(mining)
        .merge(batch)
        .merge(blocks)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(cors())
        .layer(front_door)
}

/// The node's words for a body too large or too late.
const REFUSALS: Refusals = Refusals {
    too_large: |error| ApiError::TooLarge(error).into_response(),
    too_late: |error| ApiError::TimedOut(error).into_response(),
};

/// The node's words for a request its guard refuses.
pub const FORBIDDEN: Forbidden = Forbidden {
    app: "this node",
    answer: |error| ApiError::Forbidden(error).into_response(),
};

/// How long an API request may take in all: 30 s, or longer if its body may take longer
/// to arrive, so that a late body gets its 408 rather than this 503.
fn handler_time(body_time: Duration) -> Duration {
    Duration::from_secs(30).max(body_time + Duration::from_secs(5))
}

/// CORS for the wallet pages that post to the node from another origin: any origin, no
/// credentials, so a page can do nothing a plain form could not. Besides `Content-Type`,
/// the preflight accepts the request headers browsers' pages set for these routes: the
/// original tutorial's Make Transaction page sends `Access-Control-Allow-Origin` as a
/// *request* header, and jQuery may add `X-Requested-With`.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderName::from_static("x-requested-with"),
        ])
        .max_age(Duration::from_secs(600))
}

async fn asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches("/static/");
    match Assets::get(path) {
        Some(file) => {
            let mime = file.metadata.mimetype().to_owned();
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
                ],
                file.data,
            )
                .into_response()
        }
        None => ApiError::NotFound(format!("no asset {path}")).into_response(),
    }
}

/// Browsers ask for `/favicon.ico` on pages (and JSON answers) that name no icon.
async fn favicon() -> Response {
    asset(Uri::from_static("/static/favicon.svg")).await
}

/// No route: a page for browsers (they ask for HTML), JSON for everything else.
async fn not_found(method: Method, uri: Uri, headers: axum::http::HeaderMap) -> Response {
    let browser = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if browser {
        pages::no_page(&uri, &headers)
    } else {
        ApiError::NotFound(format!("no route {method} {}", uri.path())).into_response()
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let body = axum::Json(serde_json::json!({
        "message": "Method not allowed",
        "error": format!("{method} is not allowed on {}", uri.path()),
    }));
    (StatusCode::METHOD_NOT_ALLOWED, body).into_response()
}
