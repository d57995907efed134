//! The top-level `static/` directory, embedded so the binary runs from any directory.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../static"]
struct Assets;

pub async fn serve(Path(path): Path<String>, request_headers: HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mime = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(file.metadata.sha256_hash())))
        .expect("hex is a valid header value");
    if request_headers.get(header::IF_NONE_MATCH) == Some(&etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        file.data,
    )
        .into_response()
}

/// Browsers ask for `/favicon.ico` where a page names no icon (JSON answers, errors).
pub async fn favicon(request_headers: HeaderMap) -> Response {
    serve(Path("favicon.svg".to_owned()), request_headers).await
}
