//! Who may ask what: the `Host` allow-list on every route, and the cross-site check on the
//! operator's routes (mining, peers, settings). The rules are
//! `blockchain_http::origin`'s; this applies them to requests.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use blockchain_http::origin::{check_cross_site, host_is_allowed, host_name, normalize_origin};

use super::error::ApiError;

/// The names and origins this node trusts beyond its own.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Host names answered besides IP literals and `localhost` (lowercase).
    hosts: Vec<String>,
    /// Origins whose pages may use operator routes, normalized.
    origins: Vec<String>,
}

impl Guard {
    /// # Errors
    /// An entry that is not an origin (`scheme://host[:port]`), named.
    pub fn new(hosts: &[String], origins: &[String]) -> Result<Self, String> {
        let origins = origins
            .iter()
            .map(|o| {
                normalize_origin(o).ok_or_else(|| {
                    format!("--allow-origin {o:?} is not an origin such as http://127.0.0.1:8080")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Guard {
            hosts: hosts.iter().map(|h| host_name(h)).collect(),
            origins,
        })
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every route: a request must name this node by a host it answers to. The refusal, if
/// it does not.
pub fn refuse_unknown_host(guard: &Guard, request: &Request) -> Option<Response> {
    let host = header(request.headers(), header::HOST.as_str())?;
    if host_is_allowed(host, &guard.hosts) {
        return None;
    }
    let name: String = host_name(host).chars().take(100).collect();
    Some(
        ApiError::Forbidden(format!(
            "this node does not answer to the name {name:?} (a guard against DNS rebinding); start it with --allow-host {name} if that name is really its own"
        ))
        .into_response(),
    )
}

/// Operator routes: refused to pages of other sites.
pub async fn operator_only(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let own = format!(
        "http://{}",
        header(headers, header::HOST.as_str()).unwrap_or("")
    );
    if let Err(why) = check_cross_site(
        header(headers, header::ORIGIN.as_str()),
        header(headers, "sec-fetch-site"),
        &own,
        &guard.origins,
    ) {
        return ApiError::Forbidden(format!("{} {why}", request.uri().path())).into_response();
    }
    next.run(request).await
}
