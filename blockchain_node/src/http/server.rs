//! The connection loop: accepts connections and serves the router on each, with a bound on
//! how long a client may keep a connection without sending a request.
//!
//! `axum::serve` has no such bound: a client that opened connections and sent nothing, or
//! half a request head, held them (and the node's file descriptors) until it went away.
//! Here hyper's header timeout closes a connection whose next request head has not fully
//! arrived within the client timeout, counted from its opening or from its last answer; the
//! route groups' body limit bounds the body in the same way (see `body_limit`).

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::serve::Listener;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

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
        let (stream, _) = tokio::select! {
            accepted = Listener::accept(&mut listener) => accepted,
            () = &mut stop => break,
        };
        // No Nagle delay: a dashboard's event that follows another small one would
        // otherwise wait for the browser's delayed acknowledgement (up to 40 ms).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
        let service = TowerToHyperService::new(app.clone());
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
