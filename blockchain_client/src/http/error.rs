//! The one error type of the JSON endpoints and its status codes.
//!
//! Every answer is `{"error": "<what is wrong, in words>"}`, plus `"field"` when one form
//! field is at fault. Nothing internal leaks and nothing answers 500 for bad input.

use axum::Json;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::node::{NodeError, NodeUrlError};
use crate::signing::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("{0}")]
    NodeUrl(#[from] NodeUrlError),
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error("{0}")]
    Form(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    TimedOut(String),
    #[error("{0}")]
    Internal(String),
}

impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        let text = rejection.body_text();
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            // A body sent without a length, which the limit stopped while reading it.
            ApiError::TooLarge(format!("the request body is too large: {text}"))
        } else {
            ApiError::Form(format!("the request is not a valid form: {text}"))
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::Form(format!(
            "the query string is not valid: {}",
            rejection.body_text()
        ))
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Field(_) | ApiError::NodeUrl(_) | ApiError::Form(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Node(NodeError::Timeout { .. }) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Node(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::Field(e) => Some(e.field),
            ApiError::NodeUrl(_) => Some("node"),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(error) = &self {
            tracing::error!(%error, "request failed");
        }
        let body = Body {
            error: self.to_string(),
            field: self.field(),
        };
        (status, Json(body)).into_response()
    }
}
