//! Shared test helpers: the client app and a fake node on ephemeral loopback ports.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use blockchain_client::{AppState, router};
use serde_json::{Value, json};

/// The amount the fake node refuses, as an overspend.
pub const OVERSPEND: &str = "1000000";

pub fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../blockchain_core/tests/data/reference_transactions.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("vectors file")).expect("JSON")
}

/// Serves `app` on 127.0.0.1 at an ephemeral port and waits until it answers `probe`.
pub async fn spawn(app: Router, probe: &str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    wait_ready(&format!("http://{addr}{probe}")).await;
    addr
}

/// Polls `url` until it answers, for at most ten seconds.
pub async fn wait_ready(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "{url} never answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// POSTs a form; the status and the JSON answer.
pub async fn post_form(url: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// A loopback URL where nothing listens.
pub async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// The client app with `node` as its default node; returns its base URL.
pub async fn spawn_client(node: &str) -> String {
    let state = AppState::new(blockchain_client::node::parse_node_url(node).unwrap());
    let addr = spawn(router(state, Duration::from_secs(20)), "/").await;
    format!("http://{addr}")
}

/// What the fake node was sent.
#[derive(Clone, Default)]
pub struct FakeNode {
    pub submitted: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

pub const ALICE: &str = "alice-address";

fn fake_tx(from: &str, to: &str, value: &str, id: &str) -> Value {
    json!({"sender_address": from, "recipient_address": to, "value": value,
           "signature": "", "id": id})
}

/// A fake node: a two-block chain, one pending transaction, balances, and a
/// `/transactions/new` that accepts everything but [`OVERSPEND`].
pub async fn spawn_fake_node(address: &str) -> (String, FakeNode) {
    let fake = FakeNode::default();
    let me = address.to_owned();
    let chain = json!({
        "length": 2,
        "chain": [
            {"block_number": 1, "timestamp": 1735689600, "nonce": 0, "previous_hash": "00",
             "difficulty": 8, "merkle_root": "00", "hash": "01",
             "transactions": [fake_tx("THE BLOCKCHAIN", &me, "100", "t1")]},
            {"block_number": 2, "timestamp": 1735689700, "nonce": 7, "previous_hash": "01",
             "difficulty": 8, "merkle_root": "00", "hash": "02",
             "transactions": [fake_tx(&me, ALICE, "5", "t2"), fake_tx("bob", "carol", "1", "t3")]}
        ]
    });
    let pool = json!({"transactions": [fake_tx(ALICE, &me, "2", "t4")]});
    let status = json!({"height": 1, "tip_hash": "02", "work": "512", "difficulty": 8});
    let app = Router::new()
        .route("/status", get(move || async move { Json(status) }))
        .route("/chain", get(move || async move { Json(chain) }))
        .route("/transactions/get", get(move || async move { Json(pool) }))
        .route(
            "/balance",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                Json(json!({"address": q.get("address"), "balance": "95", "pending": "2"}))
            }),
        )
        .route("/transactions/new", post(submit))
        .route("/mine", post(mine))
        .with_state(fake.clone());
    let addr = spawn(app, "/chain").await;
    (format!("http://{addr}"), fake)
}

/// Mines "block 3", paying the `reward_address` it was sent (as our node does).
async fn mine(Form(form): Form<HashMap<String, String>>) -> (StatusCode, Json<Value>) {
    let Some(address) = form.get("reward_address") else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "Bad request", "error": "no reward_address"})),
        );
    };
    (
        StatusCode::OK,
        Json(
            json!({"message": "New Block Forged", "block_number": 3, "hash": "03",
                    "transactions": [fake_tx("THE BLOCKCHAIN", address, "1", "t5")],
                    "reward": {"address": address, "value": "1"}}),
        ),
    )
}

async fn submit(
    State(fake): State<FakeNode>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    for field in ["sender_address", "recipient_address", "amount", "signature"] {
        if !form.contains_key(field) {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"message": "Missing values", "error": format!("{field} is missing")})),
            );
        }
    }
    let overspend = form["amount"] == OVERSPEND;
    fake.submitted.lock().unwrap().push(form);
    if overspend {
        return (
            StatusCode::NOT_ACCEPTABLE,
            Json(json!({"message": "Invalid Transaction!",
                        "error": "insufficient funds: the sender has 95 but needs 1000000"})),
        );
    }
    (
        StatusCode::CREATED,
        Json(
            json!({"message": "Transaction will be added to Block 3", "transaction_id": "abc123"}),
        ),
    )
}
