//! A route group's body limits, in size and in time, for both apps.
//!
//! Size: the limit extractors read bodies up to (axum's `DefaultBodyLimit`), and a refusal
//! on the declared length before any handler reads the body. One layer sets both, so they
//! cannot disagree. An oversized body gets its 413 after the app has read and dropped what
//! the client sends (bounded by [`LINGER_BYTES`] and [`LINGER_TIME`]): closing with unread
//! data would reset the connection, and a client still sending would see the reset instead
//! of the answer.
//!
//! Time: a body must have arrived within the client timeout of its request's head, or the
//! request gets a 408 and its connection is closed. Without it a client that declared a
//! body and stalled, or sent it a byte a minute, held its connection and its handler for
//! as long as it liked. The timer is made only if the body is not already there, which is
//! the usual case for a small form.
//!
//! A hand-written layer rather than an `axum::middleware::from_fn`, which boxes a future
//! and a clone of the service behind it for every request, refused or not.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

/// How much of an oversized body the node still reads, and for how long, so that a client
/// that sends its whole body before reading gets the 413 rather than a reset connection.
const LINGER_BYTES: usize = 32 << 20;
const LINGER_TIME: Duration = Duration::from_secs(5);

/// How an app words its two refusals, each given what is wrong in words: 413 for a body
/// over the limit, 408 for one that did not arrive in time. Each app answers errors in its
/// own JSON.
#[derive(Clone, Copy)]
pub struct Refusals {
    pub too_large: fn(String) -> Response,
    pub too_late: fn(String) -> Response,
}

/// Wraps a route group's services in a [`BodyLimit`] of `limit` bytes, arriving within
/// `time` of the request's head.
#[derive(Clone, Copy)]
pub struct BodyLimitLayer {
    limit: usize,
    time: Duration,
    refusals: Refusals,
}

impl BodyLimitLayer {
    pub fn new(limit: usize, time: Duration, refusals: Refusals) -> Self {
        BodyLimitLayer {
            limit,
            time,
            refusals,
        }
    }
}

impl<S> Layer<S> for BodyLimitLayer {
    type Service = BodyLimit<<DefaultBodyLimit as Layer<S>>::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimit {
            inner: DefaultBodyLimit::max(self.limit).layer(inner),
            limit: self.limit,
            time: self.time,
            refusals: self.refusals,
        }
    }
}

/// Refuses a request whose declared body is over the limit; passes the others on, their
/// bodies under a deadline.
#[derive(Clone)]
pub struct BodyLimit<S> {
    inner: S,
    limit: usize,
    time: Duration,
    refusals: Refusals,
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
        if let Some(declared) = declared.filter(|&n| n > self.limit as u64) {
            return Limited::Refused {
                answer: Box::pin(refuse(
                    request,
                    declared,
                    self.limit,
                    self.refusals.too_large,
                )),
            };
        }
        if request.body().is_end_stream() {
            return Limited::Passed {
                future: self.inner.call(request),
                late: None,
                too_late: self.refusals.too_late,
            };
        }
        let late = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + self.time;
        let request = request.map(|body| {
            Body::new(DeadlineBody {
                inner: body,
                deadline,
                timer: None,
                late: Arc::clone(&late),
            })
        });
        Limited::Passed {
            future: self.inner.call(request),
            late: Some(late),
            too_late: self.refusals.too_late,
        }
    }
}

pin_project! {
    /// The answer of a [`BodyLimit`]: the service's, the 408 if the body came too late,
    /// or the 413.
    #[project = LimitedProjection]
    pub enum Limited<F> {
        Passed {
            #[pin] future: F,
            late: Option<Arc<AtomicBool>>,
            too_late: fn(String) -> Response,
        },
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
            LimitedProjection::Passed {
                future,
                late,
                too_late,
            } => {
                let answer = ready!(future.poll(cx));
                if late
                    .as_ref()
                    .is_some_and(|late| late.load(Ordering::Relaxed))
                {
                    return Poll::Ready(Ok(closing(too_late(
                        "the request body did not arrive in time; the connection is closed"
                            .to_owned(),
                    ))));
                }
                Poll::Ready(answer)
            }
            LimitedProjection::Refused { answer } => answer.as_mut().poll(cx).map(Ok),
        }
    }
}

async fn refuse(
    request: Request,
    declared: u64,
    limit: usize,
    too_large: fn(String) -> Response,
) -> Response {
    let mut body = request.into_body().into_data_stream();
    let deadline = tokio::time::Instant::now() + LINGER_TIME;
    let mut drained = 0;
    while drained < LINGER_BYTES {
        match tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut body)).await {
            Ok(Some(Ok(chunk))) => drained += chunk.len(),
            _ => break,
        }
    }
    too_large(format!(
        "the request body is {declared} bytes; this route takes at most {limit}"
    ))
}

/// The 408 for a body that missed its deadline, marked so that the connection closes
/// after it, since the rest of the body may still be on its way.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

pin_project! {
    /// A request body that fails once its deadline passes, and marks the request late.
    struct DeadlineBody {
        #[pin]
        inner: Body,
        deadline: Instant,
        // Made when the body first has to be waited for.
        timer: Option<Pin<Box<Sleep>>>,
        late: Arc<AtomicBool>,
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame);
        }
        let deadline = *this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(timer.as_mut().poll(cx));
        this.late.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(axum::Error::new(
            "the request body did not arrive in time",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
