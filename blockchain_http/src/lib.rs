//! HTTP plumbing the node and the wallet app share: the connection loop, which accepts
//! connections and serves an app on each, with a bound on how long a client may keep a
//! connection without sending a request; the `--client-timeout` both take ([`ClientTimeout`])
//! and the signals that stop both ([`stop_requested`]); the body limits
//! in size and time ([`BodyLimitLayer`]); the rules on which requests the apps answer
//! ([`origin`]: the `Host` allow-list and the cross-site check) and the one guard that
//! applies them ([`Guard`], [`GuardLayer`]); and the access log's line, so that both apps'
//! logs read alike.
//!
//! `axum::serve` has no such bound: a client that opened connections and sent nothing, or
//! half a request head, held them (and the app's file descriptors) until it went away.
//! Here hyper's header timeout closes a connection whose next request head has not fully
//! arrived within the client timeout, counted from its opening or from its last answer.
//! A body gets the same time, counted from its request's head, under [`BodyLimitLayer`].

mod body_limit;
mod guard;
pub mod origin;

pub use body_limit::{BodyLimit, BodyLimitLayer, Limited, Refusals};
pub use guard::{Checked, Forbidden, Guard, GuardLayer, Guarded};

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::serve::Listener;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// `--client-timeout`'s default, in seconds (as clap takes a default).
const DEFAULT_CLIENT_TIMEOUT: &str = "20";

/// `--client-timeout`, as both apps take it (`#[command(flatten)]`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ClientTimeout {
    /// Seconds a client may take to send a request's head, and again its body; also how
    /// long an idle keep-alive connection stays open. A client that stalls gets its
    /// connection closed (with a 408 for a stalled body) instead of holding it.
    #[arg(
        long = "client-timeout",
        default_value = DEFAULT_CLIENT_TIMEOUT,
        value_name = "SECONDS",
        value_parser = parse_client_timeout
    )]
    pub timeout: Duration,
}

/// How long the apps' own HTTP clients keep an idle connection to a node: less than the
/// default client timeout, so that they drop it before the node closes it, and a request
/// never races that close.
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `stop` completes; then stops accepting, lets every
/// connection finish the request it is answering, and returns once all are closed.
pub async fn serve(
    mut listener: TcpListener,
    app: Router,
    client_timeout: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(client_timeout);
    let connections = GracefulShutdown::new();
    let mut stop = pin!(stop);
    loop {
        // axum's `Listener` retries failed accepts, backing off when out of descriptors.
        let (stream, remote) = tokio::select! {
            accepted = Listener::accept(&mut listener) => accepted,
            () = &mut stop => break,
        };
        // No Nagle delay: a dashboard's event that follows another small one would
        // otherwise wait for the browser's delayed acknowledgement (up to 40 ms).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
        // Each request carries the address it came from (`ConnectInfo`), taken from the
        // connection, never from a header a client writes.
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(remote));
                request
            },
        ));
        let connection = connections.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // A client that went away or timed out: nothing the operator must act on.
                tracing::debug!(%error, "connection ended");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
}

/// Ctrl-C or SIGTERM (what `kill`, systemd and container runtimes send), listened for from
/// the moment this is made. Make it before the app says it is up: until a handler is
/// registered, SIGTERM's default action ends the process at once, with no clean stop.
pub struct StopSignal {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

impl StopSignal {
    /// Registers for both signals now.
    pub fn listen() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let register = |kind, name: &str| match signal(kind) {
            Ok(signal) => Some(signal),
            Err(error) => {
                tracing::warn!(%error, "cannot listen for {name}");
                None
            }
        };
        StopSignal {
            interrupt: register(SignalKind::interrupt(), "Ctrl-C"),
            terminate: register(SignalKind::terminate(), "SIGTERM"),
        }
    }

    /// Completes on the first of the two signals.
    pub async fn requested(mut self) {
        async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(&mut self.interrupt) => {}
            () = next(&mut self.terminate) => {}
        }
    }
}

/// Completes on Ctrl-C or SIGTERM, whichever comes first: what stops either app cleanly.
/// Listens from its first poll; see [`StopSignal`] to listen from earlier.
pub async fn stop_requested() {
    StopSignal::listen().requested().await;
}

/// The access log: one event a request, at info, with method, path (never the query
/// string, which could carry anything a person pasted), status and the time to the
/// answer's head in µs. A plain event, not tower-http's `TraceLayer`, whose span a request
/// cost the node about 4 µs of a submission.
pub fn log_request(method: &Method, path: &str, status: StatusCode, started: Instant) {
    tracing::info!(
        %method,
        %path,
        status = status.as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
        "request"
    );
}

/// Parses a `--client-timeout` argument: seconds, above zero and at most a day.
///
/// # Errors
/// What to give instead, in words.
pub fn parse_client_timeout(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if seconds > 0.0 && seconds <= 86_400.0 {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(format!(
            "{text} seconds: give more than 0 and at most 86400"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_timeouts_are_positive_seconds_up_to_a_day() {
        assert_eq!(
            parse_client_timeout(DEFAULT_CLIENT_TIMEOUT),
            Ok(Duration::from_secs(20))
        );
        assert!(IDLE_CONNECTION_TIMEOUT < Duration::from_secs(20));
        assert_eq!(parse_client_timeout("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "86401", "NaN", "inf", "soon", ""] {
            assert!(parse_client_timeout(bad).is_err(), "{bad:?} was taken");
        }
    }
}
