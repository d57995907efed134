//! Axum's `Query` and `Path`, refused in the node's own error shape.
//!
//! Axum answers a malformed `?from=abc` or `/explorer/block/abc` in plain text. Every
//! other refusal of this node is JSON naming what is wrong (and a page on pages, see
//! `pages::PageError`), so scripts can read one shape: these wrappers keep axum's message
//! and turn it into [`ApiError::BadRequest`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The query string, parsed into `T`.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// The route's path parameters, parsed into `T`.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}
