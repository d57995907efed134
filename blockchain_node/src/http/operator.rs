//! Who is the operator. A request from this machine (a loopback address) is, as it always
//! was; a request from another machine must prove it with the operator token, a random
//! secret the node keeps in a file only its user can read (`<data-dir>/operator-token`,
//! like Bitcoin Core's RPC cookie):
//!
//! ```text
//!  peer address (from the connection, never X-Forwarded-For)
//!    loopback ───────────────────────────────► operator
//!    other ── Authorization: Bearer <token> ─► operator
//!          ── cookie set by /operator/sign-in,
//!             on a same-origin request ───────► operator
//!          ── anything else ──────────────────► 401, saying how to authenticate
//! ```
//!
//! Every route wrapped in `operator(...)` in `http/mod.rs` takes [`require_operator`] as a
//! route layer, under the Origin guard. Tokens are compared in constant time (as SHA-256
//! digests, so their lengths do not show either).

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use blockchain_api::ErrorBody;
use sha2::{Digest, Sha256};

use super::AppState;
use super::fields::Fields;

/// The cookie `/operator/sign-in` sets.
pub const COOKIE: &str = "operator_token";
/// The token file's name in the data directory.
pub const FILE_NAME: &str = "operator-token";

/// The operator's secret, as read from (or first written to) its file.
pub struct OperatorToken {
    digest: [u8; 32],
    path: PathBuf,
}

/// How a request is the operator's, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// From this machine.
    Loopback,
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// The sign-in cookie, on a same-origin request.
    Cookie,
    /// From another machine, without the token.
    Denied,
}

impl Access {
    pub fn is_operator(self) -> bool {
        self != Access::Denied
    }
}

impl OperatorToken {
    /// Reads the token at `path`, or writes a new random one there (mode 0600). A file
    /// others may read is narrowed to 0600.
    ///
    /// # Errors
    /// The file cannot be read or written, or holds no token.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let token = text.trim();
                anyhow::ensure!(
                    token.len() >= 16,
                    "operator token file {} holds no token of at least 16 characters",
                    path.display()
                );
                let mode = std::fs::metadata(path)?.permissions().mode();
                if mode & 0o077 != 0 {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                        .with_context(|| format!("narrowing {} to mode 0600", path.display()))?;
                    tracing::warn!(path = %path.display(), "the operator token file was readable by others: now 0600");
                }
                Ok(Self::new(token, path))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                let mut bytes = [0u8; 32];
                rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
                let token = hex::encode(bytes);
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                writeln!(file, "{token}")?;
                file.sync_all()?;
                Ok(Self::new(&token, path))
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// A token held in memory (tests and benches).
    pub fn new(token: &str, path: &Path) -> Self {
        OperatorToken {
            digest: Sha256::digest(token.as_bytes()).into(),
            path: path.to_owned(),
        }
    }

    /// Where the token is kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `given` is the token, in time that does not depend on where they differ.
    pub fn matches(&self, given: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        digest
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// How a request from `peer` with `headers` is the operator's, if it is.
    pub fn access(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Access {
        if peer.is_some_and(|p| p.ip().to_canonical().is_loopback()) {
            return Access::Loopback;
        }
        if let Some(token) = header(headers, header::AUTHORIZATION.as_str())
            .and_then(|value| value.strip_prefix("Bearer "))
            && self.matches(token.trim())
        {
            return Access::Bearer;
        }
        if same_origin(headers) && cookie(headers, COOKIE).is_some_and(|token| self.matches(token))
        {
            return Access::Cookie;
        }
        Access::Denied
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A browser's request from this node's own page: its `Origin` is the node's own, or it
/// says `Sec-Fetch-Site: same-origin`. A cookie counts only on such a request, so another
/// site (or the wallet app on another port of the same host, which a `SameSite` cookie
/// does not tell apart) cannot ride it.
fn same_origin(headers: &HeaderMap) -> bool {
    if header(headers, "sec-fetch-site") == Some("same-origin") {
        return true;
    }
    match (
        header(headers, header::ORIGIN.as_str()),
        header(headers, header::HOST.as_str()),
    ) {
        (Some(origin), Some(host)) => origin
            .strip_prefix("http://")
            .is_some_and(|o| o.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

/// The value of cookie `name`, if the request carries it.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

/// The peer address a request came from (`blockchain_http::serve` puts it there).
pub fn peer_of(request_extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    request_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

/// The operator routes' layer: the operator passes; anyone else gets a 401 saying how to
/// become one.
pub async fn require_operator(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let access = app
        .operator
        .access(peer_of(request.extensions()), request.headers());
    if access.is_operator() {
        return next.run(request).await;
    }
    unauthorized(request.method().as_str(), request.uri().path())
}

/// The 401 for a request from another machine without the token.
pub fn unauthorized(method: &str, path: &str) -> Response {
    let body = ErrorBody {
        error: format!(
            "{method} {path} is for this node's operator: from another machine send the header \"Authorization: Bearer <token>\" with the token from the file operator-token in the node's data directory (the node's log names it), or sign in with it on the Mine or Configure page"
        ),
        field: None,
        message: "Operator token required".to_owned(),
    };
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"blockchain_node operator\""),
    );
    response
}

/// Where a sign-in or sign-out form goes back to: a path on this node, else `/`.
fn back_to(fields: &Fields) -> String {
    fields
        .optional("back")
        .map(str::trim)
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .filter(|b| b.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("/")
        .to_owned()
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// A browser's form (it asks for HTML) is answered with a 303 back to its page; a
/// program with JSON.
fn from_a_form(headers: &HeaderMap) -> bool {
    header(headers, header::ACCEPT.as_str()).is_some_and(|a| a.contains("text/html"))
}

fn session(status: StatusCode, message: &str, cookie: String) -> Response {
    let body = blockchain_api::OperatorSession {
        message: message.to_owned(),
    };
    let mut response = (status, Json(body)).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST /operator/sign-in`: form field `token` (and `back`, the page to return to). The
/// right token sets an HttpOnly, SameSite=Strict cookie. A browser's form goes back to
/// its page (with `?sign_in=wrong` after a wrong token, which the page explains); a
/// program gets JSON, or a 401 for a wrong token.
#[utoipa::path(post, path = "/operator/sign-in", tag = "operator",
    request_body(content(
        (blockchain_api::SignInForm = "application/x-www-form-urlencoded"),
        (blockchain_api::SignInForm = "application/json"),
    )),
    responses(
        (status = 200, description = "Signed in: the cookie is set", body = blockchain_api::OperatorSession),
        (status = 303, description = "A browser's form, back to its page: signed in, or `?sign_in=wrong`"),
        (status = 400, description = "No token given", body = ErrorBody),
        (status = 401, description = "Not this node's operator token", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
    ))]
pub async fn sign_in(
    State(app): State<AppState>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, super::ApiError> {
    let token = fields.require("token")?.trim().to_owned();
    let back = back_to(&fields);
    let form = from_a_form(&headers);
    if !app.operator.matches(&token) {
        tracing::warn!("an operator sign-in with a wrong token");
        if !form {
            return Ok(unauthorized("POST", "/operator/sign-in with a wrong token"));
        }
        let separator = if back.contains('?') { '&' } else { '?' };
        return Ok(see_other(&format!("{back}{separator}sign_in=wrong"), None));
    }
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
    if form {
        return Ok(see_other(&back, Some(cookie)));
    }
    Ok(session(StatusCode::OK, "Signed in", cookie))
}

/// `POST /operator/sign-out`: clears the sign-in cookie; a browser's form goes back to its
/// page.
#[utoipa::path(post, path = "/operator/sign-out", tag = "operator",
    request_body(content(
        (blockchain_api::SignOutForm = "application/x-www-form-urlencoded"),
        (blockchain_api::SignOutForm = "application/json"),
    )),
    responses(
        (status = 200, description = "Signed out: the cookie is cleared", body = blockchain_api::OperatorSession),
        (status = 303, description = "A browser's form, back to its page, signed out"),
        (status = 400, description = "A malformed body", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
    ))]
pub async fn sign_out(headers: HeaderMap, fields: Fields) -> Response {
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    if from_a_form(&headers) {
        return see_other(&back_to(&fields), Some(cookie));
    }
    session(StatusCode::OK, "Signed out", cookie)
}

/// What a page shows of the operator: nothing on this machine, else a sign-in form or
/// who is signed in.
pub struct OperatorView {
    pub access: Access,
    /// The path to come back to after signing in or out.
    pub back: String,
    /// A sign-in with a wrong token just failed.
    pub wrong: bool,
}

/// A page's handler takes the view as an extractor, from the request's peer address,
/// headers and URI.
impl axum::extract::FromRequestParts<AppState> for OperatorView {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        // A page is fetched by navigation: it may carry no Origin, and its cookie is ours
        // (SameSite=Strict) unless another site linked here, when the cookie is not sent.
        let mut access = app.operator.access(peer_of(&parts.extensions), headers);
        if access == Access::Denied
            && cookie(headers, COOKIE).is_some_and(|token| app.operator.matches(token))
        {
            access = Access::Cookie;
        }
        Ok(OperatorView {
            access,
            back: parts.uri.path().to_owned(),
            wrong: parts
                .uri
                .query()
                .is_some_and(|q| q.split('&').any(|p| p == "sign_in=wrong")),
        })
    }
}

impl OperatorView {
    pub fn read_only(&self) -> bool {
        self.access == Access::Denied
    }

    pub fn signed_in(&self) -> bool {
        self.access == Access::Cookie
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn who_is_the_operator() {
        let token = OperatorToken::new("0123456789abcdef0123", Path::new("t"));
        let local: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:4000".parse().unwrap();
        let remote: SocketAddr = "10.0.0.2:4000".parse().unwrap();
        let none = headers(&[]);
        assert_eq!(token.access(Some(local), &none), Access::Loopback);
        assert_eq!(token.access(Some(mapped), &none), Access::Loopback);
        assert_eq!(token.access(Some(remote), &none), Access::Denied);
        assert_eq!(token.access(None, &none), Access::Denied);
        let forwarded = headers(&[("x-forwarded-for", "127.0.0.1")]);
        assert_eq!(token.access(Some(remote), &forwarded), Access::Denied);
        let bearer = headers(&[("authorization", "Bearer 0123456789abcdef0123")]);
        assert_eq!(token.access(Some(remote), &bearer), Access::Bearer);
        let wrong = headers(&[("authorization", "Bearer 0123456789abcdef0124")]);
        assert_eq!(token.access(Some(remote), &wrong), Access::Denied);
        let cookie = "a=1; operator_token=0123456789abcdef0123";
        let same = headers(&[
            ("cookie", cookie),
            ("host", "10.0.0.1:5000"),
            ("origin", "http://10.0.0.1:5000"),
        ]);
        assert_eq!(token.access(Some(remote), &same), Access::Cookie);
        let fetch = headers(&[("cookie", cookie), ("sec-fetch-site", "same-origin")]);
        assert_eq!(token.access(Some(remote), &fetch), Access::Cookie);
        let other_port = headers(&[
            ("cookie", cookie),
            ("host", "10.0.0.1:5000"),
            ("origin", "http://10.0.0.1:8080"),
        ]);
        assert_eq!(token.access(Some(remote), &other_port), Access::Denied);
        let no_origin = headers(&[("cookie", cookie), ("host", "10.0.0.1:5000")]);
        assert_eq!(token.access(Some(remote), &no_origin), Access::Denied);
    }

    #[test]
    fn the_token_file_is_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(FILE_NAME);
        OperatorToken::load_or_create(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 64);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = OperatorToken::load_or_create(&path).unwrap();
        assert!(again.matches(text.trim()));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        std::fs::write(&path, "short").unwrap();
        assert!(OperatorToken::load_or_create(&path).is_err());
    }
}
