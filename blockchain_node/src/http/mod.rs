//! The HTTP layer: routes, shared state, limits. Handlers parse, call the node, and map
//! the result; the rules live in `blockchain_core` and the node.

mod chain;
mod error;
mod events;
mod extract;
pub mod faucet;
mod fields;
mod front_door;
mod mine;
mod network_page;
mod nodes;
mod openapi;
pub mod operator;
mod pages;
mod proofs;
mod search;
mod settings;
mod transactions;
mod tree;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use tower_http::cors::{Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

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
    /// The operator's token: what a request from another machine must show on the
    /// operator's routes.
    pub operator: Arc<operator::OperatorToken>,
    /// Who `POST /faucet` paid lately (in memory).
    pub faucet: faucet::FaucetLimits,
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
/// body must arrive within `body_time` of its head (`--client-timeout`). The API's routes
/// and their OpenAPI document (`GET /openapi.json`) are built together, see `openapi`.
pub fn router(state: AppState, body_time: Duration) -> Router {
    let (app, document) = routes(&state, body_time);
    let document = bytes::Bytes::from(document.to_json().expect("the API document serializes"));
    let front_door = front_door::FrontDoorLayer::new(Arc::clone(&state.guard));
    app.route(
        "/openapi.json",
        get(move || std::future::ready(openapi::document_response(&document))),
    )
    .fallback(not_found)
    .method_not_allowed_fallback(method_not_allowed)
    .with_state(state)
    .layer(cors())
    .layer(front_door)
}

/// The routes, and the document of those that make the API.
fn routes(state: &AppState, body_time: Duration) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    // The operator's routes (they mine, change peers or settings) refuse other sites' pages,
    // and requests from other machines without the operator token (`operator.rs`).
    let guard = Arc::clone(&state.guard);
    let cross_site = |routes: UtoipaMethodRouter<AppState>| -> UtoipaMethodRouter<AppState> {
        let (schemas, paths, method_router) = routes;
        let layer = GuardLayer::cross_site(Arc::clone(&guard));
        (schemas, paths, method_router.route_layer(layer))
    };
    let operator = |routes: UtoipaMethodRouter<AppState>| -> UtoipaMethodRouter<AppState> {
        let (schemas, mut paths, method_router) = routes;
        openapi::refusing(&mut paths, openapi::OPERATOR);
        let token = axum::middleware::from_fn_with_state(state.clone(), operator::require_operator);
        cross_site((schemas, paths, method_router.route_layer(token)))
    };
    let body_limit = |limit| BodyLimitLayer::new(limit, body_time, REFUSALS);
    let mut api = OpenApiRouter::new()
        .routes(routes!(transactions::submit))
        .routes(routes!(transactions::pending))
        .routes(routes!(transactions::lookup))
        .routes(routes!(proofs::proof))
        .routes(routes!(chain::chain))
        .routes(routes!(chain::block))
        .routes(routes!(chain::balance))
        .routes(routes!(chain::history))
        .routes(routes!(chain::status))
        .routes(routes!(chain::recent))
        .routes(routes!(settings::get))
        .routes(operator(routes!(settings::update)))
        // Peers register themselves from anywhere, checked (`nodes::register`).
        .routes(cross_site(routes!(nodes::register)))
        .routes(cross_site(routes!(operator::sign_in)))
        .routes(cross_site(routes!(operator::sign_out)))
        .routes(operator(routes!(nodes::remove)))
        .routes(routes!(nodes::list))
        .routes(operator(routes!(nodes::resolve)))
        .routes(routes!(faucet::faucet))
        .routes(routes!(tree::tree));
    openapi::refusing(&mut api.get_openapi_mut().paths, openapi::BODY_LIMITS);
    openapi::refusing(&mut api.get_openapi_mut().paths, openapi::TIMEOUT);
    let api = api
        .route("/", get(pages::mine))
        .route("/configure", get(pages::configure))
        .route("/network", get(network_page::network))
        .route("/explorer/block/{number}", get(pages::block))
        .route("/explorer/tx/{id}", get(pages::transaction))
        .route("/explorer/address/{address}", get(pages::address))
        .route("/search", get(search::search))
        .route("/static/{*path}", get(asset))
        .route("/favicon.ico", get(favicon))
        .layer(body_limit(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            handler_time(body_time),
        ));
    // Mining may take long at a high difficulty, and the event stream lasts as long as
    // its page: no request timeout there.
    let mut mining = OpenApiRouter::new()
        .routes(operator(routes!(mine::mine)))
        .routes(routes!(events::events));
    openapi::refusing(&mut mining.get_openapi_mut().paths, openapi::BODY_LIMITS);
    let mining = mining.layer(body_limit(BODY_LIMIT));
    let mut batch = OpenApiRouter::new().routes(routes!(transactions::submit_batch));
    openapi::refusing(&mut batch.get_openapi_mut().paths, openapi::BODY_LIMITS);
    let batch = batch.layer(body_limit(BATCH_BODY_LIMIT));
    let mut blocks = OpenApiRouter::new().routes(routes!(chain::announce));
    openapi::refusing(&mut blocks.get_openapi_mut().paths, openapi::BODY_LIMITS);
    let blocks = blocks.layer(body_limit(BLOCK_BODY_LIMIT));

    let (router, mut document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(api)
        .merge(mining)
        .merge(batch)
        .merge(blocks)
        .split_for_parts();
    openapi::refusing(&mut document.paths, openapi::EVERY_ROUTE);
    openapi::distinct_operation_ids(&mut document.paths);
    (router, document)
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
    let body = axum::Json(blockchain_api::ErrorBody {
        error: format!("{method} is not allowed on {}", uri.path()),
        field: None,
        message: "Method not allowed".to_owned(),
    });
    (StatusCode::METHOD_NOT_ALLOWED, body).into_response()
}
