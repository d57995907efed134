//! What every request passes first: the host guard, then the access log around
//! everything after it.
//!
//! A hand-written tower layer rather than two `axum::middleware::from_fn`s: each of those
//! boxes its future and a clone of the service behind it for every request, and on a
//! submission the two cost several µs of the node's CPU. The guard
//! (`blockchain_http::GuardLayer`) and the log line (`blockchain_http::log_request`) are
//! the wallet app's too.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{Method, Uri};
use axum::response::Response;
use blockchain_http::{Guard, GuardLayer, Guarded};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

/// Wraps a service in a [`FrontDoor`].
#[derive(Clone)]
pub struct FrontDoorLayer {
    guard: GuardLayer,
}

impl FrontDoorLayer {
    pub fn new(guard: Arc<Guard>) -> Self {
        FrontDoorLayer {
            guard: GuardLayer::hosts(guard),
        }
    }
}

impl<S> Layer<S> for FrontDoorLayer {
    type Service = FrontDoor<Guarded<S>>;

    fn layer(&self, inner: S) -> Self::Service {
        FrontDoor {
            inner: self.guard.layer(inner),
        }
    }
}

/// Refuses requests that name this node by a host it does not answer to, passes the
/// others on, and logs every request with its status and time to the answer's head.
#[derive(Clone)]
pub struct FrontDoor<S> {
    inner: S,
}

impl<S> Service<Request> for FrontDoor<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Logged<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let method = request.method().clone();
        let uri = request.uri().clone();
        Logged {
            answer: self.inner.call(request),
            started,
            method,
            uri,
        }
    }
}

pin_project! {
    /// The answer of a [`FrontDoor`], logged when it is ready.
    pub struct Logged<F> {
        #[pin]
        answer: F,
        started: Instant,
        method: Method,
        uri: Uri,
    }
}

impl<F> Future for Logged<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(response) = ready!(this.answer.poll(cx));
        blockchain_http::log_request(
            this.method,
            this.uri.path(),
            response.status(),
            *this.started,
        );
        Poll::Ready(Ok(response))
    }
}
