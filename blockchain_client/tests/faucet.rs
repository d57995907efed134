//! Get coins against a classroom node that mines only for its operator: the wallet app's
//! `/api/mine` asks the node's faucet instead, and says so (`via`).

mod common;

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{post_form, spawn, spawn_client};
use serde_json::json;

/// A node whose `/mine` answers `mine_status` and whose faucet pays 2 coins.
async fn classroom_node(mine_status: StatusCode) -> String {
    let app = Router::new()
        .route("/status", get(|| async { Json(json!({})) }))
        .route(
            "/mine",
            post(move || async move {
                let body =
                    json!({"message": "Unauthorized", "error": "an operator token is required"});
                (mine_status, Json(body))
            }),
        )
        .route(
            "/faucet",
            post(|| async {
                let body = json!({
                    "address": "ada", "amount": "2", "block_index": 7,
                    "message": "The faucet sent 2 coins; they arrive with block 7",
                    "next_in_s": 600, "sender_address": "teacher",
                    "transaction_id": "ab".repeat(32),
                });
                (StatusCode::CREATED, Json(body))
            }),
        )
        .route(
            "/balance",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                Json(json!({"address": q.get("address"), "balance": "0", "pending": "2"}))
            }),
        );
    format!("http://{}", spawn(app, "/status").await)
}

#[tokio::test]
async fn get_coins_uses_the_faucet_when_the_node_will_not_mine_for_the_page() {
    let me = common::vectors()["wallets"][0]["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    for refusal in [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN] {
        let client = spawn_client(&classroom_node(refusal).await).await;
        let (status, body) = post_form(&format!("{client}/api/mine"), &[("address", &me)]).await;
        assert_eq!(status, StatusCode::OK, "{refusal}: {body}");
        assert_eq!(body["via"], "faucet");
        assert_eq!(body["amount"], "2");
        assert_eq!(body["block_index"], 7);
        assert_eq!(body["balance"]["pending"], "2");
    }
    // Any other refusal is the node's answer, not a reason to ask the faucet.
    let client = spawn_client(&classroom_node(StatusCode::INTERNAL_SERVER_ERROR).await).await;
    let (status, body) = post_form(&format!("{client}/api/mine"), &[("address", &me)]).await;
    assert_ne!(status, StatusCode::OK, "{body}");
    assert!(body.get("via").is_none(), "{body}");
}
