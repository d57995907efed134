//! Our node as the original tutorial's pages and nodes see it: the CORS preflight of the
//! original Make Transaction page, the calls of the original node's dashboard, and an
//! original node registered as a peer (it must fail cleanly). The original apps run
//! unmodified (see `original/mod.rs`); the browser side is `e2e/interop.mjs`.

mod common;
mod original;

use std::time::{Duration, Instant};

use common::{NodeBuilder, VECTORS, client, entry_form, get_json, post_form};
use serde_json::Value;

/// The origin of an original client page (any other origin than the node's).
const PAGE_ORIGIN: &str = "http://127.0.0.1:8080";

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn the_original_pages_preflight_and_post_are_accepted() {
    let node = NodeBuilder::new().start();
    let url = format!("{}/transactions/new", node.url);
    // What Chromium sends before the original page's $.ajax with
    // headers: {'Access-Control-Allow-Origin': '*'}.
    let preflight = client()
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", PAGE_ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "access-control-allow-origin",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(header(&preflight, "access-control-allow-origin"), "*");
    assert!(
        header(&preflight, "access-control-allow-methods").contains("POST"),
        "{:?}",
        preflight.headers()
    );
    let allowed = header(&preflight, "access-control-allow-headers").to_ascii_lowercase();
    for name in ["access-control-allow-origin", "content-type"] {
        assert!(allowed.contains(name), "{name} not in {allowed:?}");
    }
    // Only what pages send: an arbitrary header is not waved through.
    let odd = client()
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", PAGE_ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "x-something-else")
        .send()
        .await
        .unwrap();
    assert!(
        !header(&odd, "access-control-allow-headers").contains("x-something-else"),
        "{:?}",
        odd.headers()
    );

    // The POST itself, as jQuery sends it after the preflight.
    let form = entry_form(&VECTORS.valid[0]);
    let response = client()
        .post(&url)
        .header("Origin", PAGE_ORIGIN)
        .header("Access-Control-Allow-Origin", "*")
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .header("Accept", "application/json, text/javascript, */*; q=0.01")
        .body(serde_urlencoded::to_string(&form).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Transaction will be added to Block 1");
}

/// The fields the original dashboard's and View Transactions' scripts read from a
/// transaction: each is shown in a table cell.
fn assert_original_transaction_fields(tx: &Value) {
    for field in ["recipient_address", "sender_address"] {
        assert!(tx[field].is_string(), "{field} in {tx}");
    }
    assert!(tx["value"].is_string() || tx["value"].is_number(), "{tx}");
}

#[tokio::test]
async fn the_original_dashboards_calls_read_our_node() {
    let node = NodeBuilder::new().start();
    let entry = &VECTORS.valid[0];
    let (status, _) = post_form(
        &format!("{}/transactions/new", node.url),
        &entry_form(entry),
    )
    .await;
    assert_eq!(status, 201);

    // $.ajax({url: "/transactions/get"}): response['transactions'][i][field].
    let (status, pool) = get_json(&format!("{}/transactions/get", node.url)).await;
    assert_eq!(status, 200);
    let pending = pool["transactions"]
        .as_array()
        .expect("a transactions list");
    assert_eq!(pending.len(), 1);
    assert_original_transaction_fields(&pending[0]);
    assert_eq!(pending[0]["value"], entry.value.as_str());

    // $("#mine_button") does GET /mine and reloads on success.
    let (status, mined) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(status, 200, "{mined}");
    assert_eq!(mined["message"], "New Block Forged");
    assert_eq!(mined["block_number"], 1);

    // $.ajax({url: "/chain"}): for (i = 1; i < response.length; i++) reads
    // response["chain"][i]: timestamp (seconds), block_number, transactions[j][field].
    let (status, chain) = get_json(&format!("{}/chain", node.url)).await;
    assert_eq!(status, 200);
    let length = chain["length"].as_u64().expect("a numeric length");
    let blocks = chain["chain"].as_array().expect("a chain list");
    assert_eq!(length as usize, blocks.len(), "length must index the list");
    assert_eq!(length, 2);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let mut seen_payment = false;
    for block in &blocks[1..] {
        let timestamp = block["timestamp"].as_f64().expect("a numeric timestamp");
        assert!(
            (now - timestamp).abs() < 3600.0,
            "timestamp {timestamp} is not Unix seconds"
        );
        assert!(block["block_number"].is_u64(), "{block}");
        for tx in block["transactions"].as_array().expect("transactions") {
            assert_original_transaction_fields(tx);
            seen_payment |= tx["signature"] == entry.signature.as_str();
        }
    }
    assert!(seen_payment, "the payment is not in a block the page lists");
    let (_, pool) = get_json(&format!("{}/transactions/get", node.url)).await;
    assert_eq!(pool["transactions"], Value::Array(vec![]));
}

#[tokio::test]
async fn an_original_node_as_a_peer_fails_cleanly() {
    let original = original::start(original::App::Node).await;
    let node = NodeBuilder::new().start();
    let (_, before) = get_json(&format!("{}/status", node.url)).await;

    let started = Instant::now();
    let response = client()
        .post(format!("{}/nodes/register", node.url))
        .form(&[("nodes", original.url.as_str())])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(
        status == 201 || (400..500).contains(&status),
        "registration answered {status}: {body}"
    );

    if status == 201 {
        // Registered: consensus with it must name why it is refused, in bounded time.
        let response = client()
            .get(format!("{}/nodes/resolve", node.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["message"], "Our chain is authoritative", "{body}");
        let peers = body["peers"].as_array().expect("peer outcomes");
        let outcome = peers
            .iter()
            .find(|p| p["peer"] == original.url.as_str())
            .unwrap_or_else(|| panic!("no outcome for {}: {body}", original.url));
        assert_eq!(outcome["adopted"], false);
        let words = outcome["outcome"].as_str().unwrap();
        assert!(
            words.contains("/status") && words.contains("not a node of this protocol"),
            "the outcome does not say why: {words}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "took {:?}",
        started.elapsed()
    );

    // Our node is unharmed and still serves its own chain.
    let (status, after) = get_json(&format!("{}/status", node.url)).await;
    assert_eq!(status, 200);
    assert_eq!(after["tip_hash"], before["tip_hash"]);
    assert_eq!(after["height"], before["height"]);
    let (status, _) = post_form(
        &format!("{}/transactions/new", node.url),
        &entry_form(&VECTORS.valid[1]),
    )
    .await;
    assert_eq!(status, 201);
    // The original node did answer our requests (this is no test of a dead peer).
    assert!(original.log().contains("GET /status"), "{}", original.log());
}
