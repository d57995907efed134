//! The operator token check's cost per operator request: how long `OperatorToken::access`
//! takes to decide on a request from another machine, with the right Bearer token, with a
//! wrong one, and with the sign-in cookie on a same-origin request; and on loopback.
//!
//! ```sh
//! cargo build --release -p blockchain_bench && target/release/operator_bench
//! ```

use std::hint::black_box;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue};
use blockchain_node::http::operator::{Access, OperatorToken};

const ROUNDS: u32 = 1_000_000;

fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).expect("a header value"));
    }
    // What a browser or curl sends besides.
    map.append("host", HeaderValue::from_static("10.250.0.1:5000"));
    map.append("user-agent", HeaderValue::from_static("curl/8.14.1"));
    map.append("accept", HeaderValue::from_static("*/*"));
    map
}

/// Median of five runs of `ROUNDS` checks, in nanoseconds per check.
fn time(token: &OperatorToken, peer: SocketAddr, headers: &HeaderMap, expect: Access) -> f64 {
    assert_eq!(token.access(Some(peer), headers), expect);
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..ROUNDS {
                black_box(token.access(black_box(Some(peer)), black_box(headers)));
            }
            started.elapsed().as_nanos() as f64 / f64::from(ROUNDS)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[2]
}

fn main() {
    let secret = "5f0c6a1e9b2d4c8f7a3e1d0b9c8a7f6e5d4c3b2a19080706050403020100ffee";
    let token = OperatorToken::new(secret, Path::new("operator-token"));
    let remote: SocketAddr = "10.250.0.2:40000".parse().expect("an address");
    let local: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
    let cases = [
        ("loopback, no token", local, headers(&[]), Access::Loopback),
        (
            "another machine, right Bearer token",
            remote,
            headers(&[("authorization", format!("Bearer {secret}"))]),
            Access::Bearer,
        ),
        (
            "another machine, wrong Bearer token",
            remote,
            headers(&[("authorization", format!("Bearer {}", "0".repeat(64)))]),
            Access::Denied,
        ),
        (
            "another machine, sign-in cookie, same origin",
            remote,
            headers(&[
                ("cookie", format!("lang=en; operator_token={secret}")),
                ("origin", "http://10.250.0.1:5000".to_owned()),
            ]),
            Access::Cookie,
        ),
    ];
    for (what, peer, headers, expect) in &cases {
        let ns = time(&token, *peer, headers, *expect);
        println!("{what}: {:.3} µs per check", ns / 1000.0);
    }
}
