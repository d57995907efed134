//! A route group's body-size limit: the limit extractors read bodies up to (axum's
//! `DefaultBodyLimit`), and a refusal on the declared length before any handler reads the
//! body. One layer sets both, so they cannot disagree.
//!
//! An oversized body gets its 413 after the node has read and dropped what the client
//! sends (bounded by [`LINGER_BYTES`] and [`LINGER_TIME`]): closing with unread data would
//! reset the connection, and a client still sending would see the reset instead of the
//! answer. A hand-written layer rather than an `axum::middleware::from_fn`, which boxes a
//! future and a clone of the service behind it for every request, refused or not.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::error::ApiError;

/// How much of an oversized body the node still reads, and for how long, so that a client
/// that sends its whole body before reading gets the 413 rather than a reset connection.
const LINGER_BYTES: usize = 32 << 20;
const LINGER_TIME: Duration = Duration::from_secs(5);

/// Wraps a route group's services in a [`BodyLimit`] of `limit` bytes.
#[derive(Clone, Copy)]
pub struct BodyLimitLayer {
    limit: usize,
}

impl BodyLimitLayer {
    pub fn new(limit: usize) -> Self {
        BodyLimitLayer { limit }
    }
}

impl<S> Layer<S> for BodyLimitLayer {
    type Service = BodyLimit<<DefaultBodyLimit as Layer<S>>::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimit {
            inner: DefaultBodyLimit::max(self.limit).layer(inner),
            limit: self.limit,
        }
    }
}

/// Refuses a request whose declared body is over the limit; passes the others on.
#[derive(Clone)]
pub struct BodyLimit<S> {
    inner: S,
    limit: usize,
}

impl<S> Service<Request> for BodyLimit<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Limited<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match declared.filter(|&n| n > self.limit as u64) {
            None => Limited::Passed {
                future: self.inner.call(request),
            },
            Some(declared) => Limited::Refused {
                answer: Box::pin(refuse(request, declared, self.limit)),
            },
        }
    }
}

pin_project! {
    /// The answer of a [`BodyLimit`]: the service's, or the 413.
    #[project = LimitedProjection]
    pub enum Limited<F> {
        Passed { #[pin] future: F },
        Refused { answer: Pin<Box<dyn Future<Output = Response> + Send>> },
    }
}

impl<F> Future for Limited<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            LimitedProjection::Passed { future } => future.poll(cx),
            LimitedProjection::Refused { answer } => answer.as_mut().poll(cx).map(Ok),
        }
    }
}

async fn refuse(request: Request, declared: u64, limit: usize) -> Response {
    let mut body = request.into_body().into_data_stream();
    let deadline = tokio::time::Instant::now() + LINGER_TIME;
    let mut drained = 0;
    while drained < LINGER_BYTES {
        match tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut body)).await {
            Ok(Some(Ok(chunk))) => drained += chunk.len(),
            _ => break,
        }
    }
    ApiError::TooLarge(format!(
        "the request body is {declared} bytes; this route takes at most {limit}"
    ))
    .into_response()
}
