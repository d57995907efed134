//! Who may ask what of the wallet app, which handles private keys: a request must name it
//! by a host it answers to (DNS rebinding), and its routes that act, handle keys or fetch a
//! node refuse other sites' pages.
//! The rules are `blockchain_http::origin`'s.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use blockchain_http::origin::{check_cross_site, host_is_allowed, host_name};
use serde_json::json;

use super::AppState;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn forbidden(why: String) -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({ "message": "Forbidden", "error": why })),
    )
        .into_response()
}

/// Every route: the `Host` must be an IP address, localhost, or a name given with
/// `--allow-host`.
pub async fn known_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(host) = header(request.headers(), header::HOST.as_str())
        && !host_is_allowed(host, &state.allowed_hosts)
    {
        let name: String = host_name(host).chars().take(100).collect();
        return forbidden(format!(
            "this wallet app does not answer to the name {name:?} (a guard against DNS rebinding); start it with --allow-host {name} if that name is really its own"
        ));
    }
    next.run(request).await
}

/// Routes that act, handle keys or fetch a node: only this app's own pages, and programs
/// that send no Origin.
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let own = format!(
        "http://{}",
        header(headers, header::HOST.as_str()).unwrap_or("")
    );
    if let Err(why) = check_cross_site(
        header(headers, header::ORIGIN.as_str()),
        header(headers, "sec-fetch-site"),
        &own,
        &[],
    ) {
        return forbidden(format!("{} {why}", request.uri().path()));
    }
    next.run(request).await
}
