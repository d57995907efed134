//! One error type for every handler, mapped to a status and a JSON body in one place.
//! Internal details (storage errors) are logged, never sent; a write the disk refuses says
//! its cause (the disk full, or the OS's error), which the operator acts on.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use blockchain_api::ErrorBody;

use crate::node::{ConnectError, DetachedError, SubmitError};

#[derive(Debug)]
pub enum ApiError {
    /// A required field is absent: 400, the original's "Missing values".
    MissingField(&'static str),
    /// A field or parameter is malformed: 400.
    BadRequest(String),
    /// A setting is out of range: 400 with the field's name, for forms to mark it.
    Setting {
        field: &'static str,
        message: String,
    },
    /// A transaction breaks a rule: 406, the original's "Invalid Transaction!".
    InvalidTransaction(String),
    /// A block breaks a rule: 422.
    InvalidBlock(String),
    NotFound(String),
    /// A request from a site, or under a host name, this node does not trust: 403.
    Forbidden(String),
    UnsupportedMediaType(String),
    /// The body is over the route's size limit: 413.
    TooLarge(String),
    /// The body did not arrive in time: 408.
    TimedOut(String),
    /// The pool is full: 503 with Retry-After.
    Busy(String),
    /// The sender holds its whole share of the pool: 429.
    TooManyPending(String),
    /// The disk failed; details are in the log.
    Storage,
    /// The disk refuses writes (see `crate::storage`): 507 when it is full, else 503 with
    /// Retry-After; the cause in words.
    StorageRefused {
        disk_full: bool,
        message: String,
    },
}

impl ApiError {
    /// The status and JSON body this error answers with; also one item's answer in a batch.
    pub fn parts(self) -> (StatusCode, ErrorBody) {
        let field = match &self {
            ApiError::Setting { field, .. } => Some((*field).to_owned()),
            _ => None,
        };
        let (status, message, error) = self.described();
        let body = ErrorBody {
            error,
            field,
            message: message.to_owned(),
        };
        (status, body)
    }

    /// The status, a title for it, and what is wrong in words: the API's JSON, and the
    /// pages' error page, are made of these.
    pub fn described(self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::MissingField(field) => (
                StatusCode::BAD_REQUEST,
                "Missing values",
                format!("missing field: {field}"),
            ),
            ApiError::BadRequest(error) => (StatusCode::BAD_REQUEST, "Bad request", error),
            ApiError::Setting { message, .. } => {
                (StatusCode::BAD_REQUEST, "Invalid setting", message)
            }
            ApiError::InvalidTransaction(error) => {
                (StatusCode::NOT_ACCEPTABLE, "Invalid Transaction!", error)
            }
            ApiError::InvalidBlock(error) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "Invalid block", error)
            }
            ApiError::NotFound(error) => (StatusCode::NOT_FOUND, "Not found", error),
            ApiError::Forbidden(error) => (StatusCode::FORBIDDEN, "Forbidden", error),
            ApiError::TooLarge(error) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "Request too large", error)
            }
            ApiError::TimedOut(error) => (StatusCode::REQUEST_TIMEOUT, "Request timeout", error),
            ApiError::UnsupportedMediaType(error) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                error,
            ),
            ApiError::TooManyPending(error) => {
                (StatusCode::TOO_MANY_REQUESTS, "Invalid Transaction!", error)
            }
            ApiError::Busy(error) => (StatusCode::SERVICE_UNAVAILABLE, "Busy", error),
            ApiError::Storage => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Storage failure",
                "the node could not write to its database; nothing was accepted".to_owned(),
            ),
            ApiError::StorageRefused { disk_full, message } => (
                if disk_full {
                    StatusCode::INSUFFICIENT_STORAGE
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                },
                "Storage failure",
                format!("{message}; nothing was accepted"),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.parts();
        if matches!(
            status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::INSUFFICIENT_STORAGE
        ) {
            return (status, [("retry-after", "5")], Json(body)).into_response();
        }
        (status, Json(body)).into_response()
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::Invalid(e) => ApiError::InvalidTransaction(e.to_string()),
            SubmitError::Ledger(e) => ApiError::InvalidTransaction(e.to_string()),
            SubmitError::Pool(e @ crate::pool::PoolError::Full { .. }) => {
                ApiError::Busy(e.to_string())
            }
            SubmitError::Pool(e @ crate::pool::PoolError::SenderFull { .. }) => {
                ApiError::TooManyPending(e.to_string())
            }
            SubmitError::Storage(e) => e.into(),
        }
    }
}

impl From<DetachedError> for ApiError {
    fn from(error: DetachedError) -> Self {
        ApiError::InvalidBlock(error.to_string())
    }
}

impl From<ConnectError> for ApiError {
    fn from(error: ConnectError) -> Self {
        match error {
            ConnectError::Block(e) => ApiError::InvalidBlock(e.to_string()),
            ConnectError::Storage(e) => e.into(),
        }
    }
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(error: crate::storage::StorageError) -> Self {
        match error.outage() {
            // Logged once, when it began.
            Some(outage) => ApiError::StorageRefused {
                disk_full: outage.disk_full,
                message: outage.message.clone(),
            },
            None => {
                tracing::error!(%error, "storage failure");
                ApiError::Storage
            }
        }
    }
}
