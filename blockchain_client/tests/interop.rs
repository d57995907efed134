//! Our wallet against the original tutorial's node, run unmodified (see
//! `blockchain_node/tests/original/mod.rs`): `send` and the Make Transaction flow
//! (`/generate/transaction` with the node's URL, then the form posted to the node) are
//! accepted there, signed without a nonce and with a warning that such a node stops no
//! replays; View Transactions reads its chain. A fake original node on Python 3.12 checks
//! the other message style.

mod common;
#[path = "../../blockchain_node/tests/original/mod.rs"]
mod original;

use std::process::Output;

use axum::Router;
use axum::extract::Form;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use blockchain_core::message::{MessageStyle, ordered_dict};
use blockchain_core::{Address, PrivateKey};
use common::{dead_url, spawn, spawn_client, spawn_fake_node, vectors};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_blockchain_client");

async fn run(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(BIN)
            .args(&args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Two of the vector wallets: a sender's key and a recipient's address. An original node
/// checks no balances, so they need no coins there.
fn wallets() -> (String, String, String) {
    let vectors = vectors();
    let wallet = |i: usize, field: &str| vectors["wallets"][i][field].as_str().unwrap().to_owned();
    (
        wallet(0, "private_key"),
        wallet(0, "public_key"),
        wallet(1, "public_key"),
    )
}

async fn pending(node: &str) -> Vec<Value> {
    let (status, pool) = get_json(&format!("{node}/transactions/get")).await;
    assert_eq!(status, 200, "{pool}");
    pool["transactions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn send_pays_an_original_node_with_its_signature_and_a_warning() {
    let node = original::start(original::App::Node).await;
    let (key, sender, recipient) = wallets();
    let send = |amount: &'static str, extra: &'static [&'static str]| {
        let (node, key, recipient) = (node.url.clone(), key.clone(), recipient.clone());
        async move {
            let mut args = vec![
                "send",
                "--node",
                &node,
                "--private-key",
                &key,
                "--recipient",
                &recipient,
                "--amount",
                amount,
            ];
            args.extend_from_slice(extra);
            run(&args).await
        }
    };

    let output = send("2.5", &[]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["message"], "Transaction will be added to Block 2");
    let warning = text(&output.stderr);
    assert!(
        warning.contains("original tutorial node") && warning.contains("does not stop replays"),
        "{warning}"
    );
    let pool = pending(&node.url).await;
    assert_eq!(
        pool,
        vec![json!({"sender_address": sender, "recipient_address": recipient, "value": "2.5"})]
    );

    // As warned: that node takes the same payment again.
    let output = send("2.5", &[]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(pending(&node.url).await.len(), 2);

    // --no-nonce is the same signature; a nonce of one's own cannot be verified there.
    let output = send("3", &["--no-nonce"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(pending(&node.url).await.len(), 3);
    let output = send("4", &["--nonce", "abc"]).await;
    assert_eq!(output.status.code(), Some(1));
    let error = text(&output.stderr);
    assert!(
        error.contains("--nonce") && error.contains("original tutorial node"),
        "{error}"
    );
    assert_eq!(pending(&node.url).await.len(), 3);
}

#[tokio::test]
async fn the_pages_sign_for_an_original_node_warn_and_read_its_chain() {
    let node = original::start(original::App::Node).await;
    let client = spawn_client(&node.url).await;
    let (key, sender, recipient) = wallets();
    let form = |node_url: &str, nonce: &str| -> Vec<(&'static str, String)> {
        vec![
            ("sender_address", sender.clone()),
            ("sender_private_key", key.clone()),
            ("recipient_address", recipient.clone()),
            ("amount", "7.25".into()),
            ("nonce", nonce.into()),
            ("node_url", node_url.into()),
        ]
    };
    let generate = |fields: Vec<(&'static str, String)>| {
        let url = format!("{client}/generate/transaction");
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(&url, &fields).await
        }
    };

    // Make Transaction asks what the node is (its URL only) and signs in the browser.
    let (status, kind) = get_json(&format!(
        "{client}/api/node-kind?node={}",
        url_encode(&node.url)
    ))
    .await;
    assert_eq!(status, 200, "{kind}");
    assert_eq!(kind["kind"], "original", "{kind}");
    assert_eq!(kind["style"], "classic", "{kind}");
    assert!(
        kind["warning"]
            .as_str()
            .unwrap()
            .contains("does not stop replays"),
        "{kind}"
    );

    // Without Web Crypto, Generate sends the form with the dialog's node URL.
    let (status, signed) = generate(form(&node.url, "")).await;
    assert_eq!(status, 200, "{signed}");
    assert_eq!(signed["node"]["kind"], "original", "{signed}");
    let warning = signed["node"]["warning"].as_str().unwrap();
    assert!(warning.contains("does not stop replays"), "{warning}");
    assert!(signed["transaction"].get("nonce").is_none(), "{signed}");

    // Confirm: the browser posts the confirmation form to the node.
    let tx = &signed["transaction"];
    let confirmation = [
        ("sender_address", tx["sender_address"].as_str().unwrap()),
        (
            "recipient_address",
            tx["recipient_address"].as_str().unwrap(),
        ),
        ("amount", tx["value"].as_str().unwrap()),
        ("signature", signed["signature"].as_str().unwrap()),
    ];
    let (status, answer) =
        post_form(&format!("{}/transactions/new", node.url), &confirmation).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        pending(&node.url).await,
        vec![json!({"sender_address": sender, "recipient_address": recipient, "value": "7.25"})]
    );

    // A nonce of one's own cannot be verified by that node: said before anything is sent.
    let (status, refused) = generate(form(&node.url, "mine1")).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["field"], "nonce");
    // A node that cannot be checked: signed for ours, and said so.
    let (status, unknown) = generate(form(&dead_url().await, "")).await;
    assert_eq!(status, 200, "{unknown}");
    assert_eq!(unknown["node"]["kind"], "unknown");
    assert!(unknown["transaction"]["nonce"].is_string(), "{unknown}");
    assert!(
        unknown["node"]["warning"]
            .as_str()
            .unwrap()
            .contains("Could not tell"),
        "{unknown}"
    );
    // A node of ours (the fake one answers /status): a nonce, no warning.
    let (ours, _) = spawn_fake_node(&sender).await;
    let (status, for_ours) = generate(form(&ours, "")).await;
    assert_eq!(status, 200, "{for_ours}");
    assert_eq!(for_ours["node"]["kind"], "ours");
    assert!(for_ours["node"].get("warning").is_none(), "{for_ours}");
    assert!(for_ours["transaction"]["nonce"].is_string(), "{for_ours}");
    // A bad node URL is a 400 naming it.
    let (status, bad) = generate(form("ftp://x", "")).await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["field"], "node");

    // View Transactions after the original node mines: its reward's value is a number.
    let (status, _) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(status, 200);
    let (status, chain) = get_json(&format!(
        "{client}/api/chain?node={}",
        url_encode(&node.url)
    ))
    .await;
    assert_eq!(status, 200, "{chain}");
    let mined = &chain["chain"][1]["transactions"];
    assert_eq!(mined[0]["value"], "7.25", "{chain}");
    assert_eq!(mined[1]["sender_address"], "THE BLOCKCHAIN", "{chain}");
    let output = run(&["transactions", "--node", &node.url]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        listed["transactions"].as_array().unwrap().len(),
        2,
        "{listed}"
    );
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Verifies a form as an original node on Python 3.12 does: the message in the new style.
async fn python312_submit(Form(form): Form<Vec<(String, String)>>) -> impl IntoResponse {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let message = ordered_dict(
        &[
            ("sender_address", field("sender_address")),
            ("recipient_address", field("recipient_address")),
            ("value", field("amount")),
        ],
        MessageStyle::Python312,
    );
    let verified = Address::parse_field(field("sender_address"), "sender_address")
        .ok()
        .zip(hex::decode(field("signature")).ok())
        .is_some_and(|(address, signature)| address.verifies(message.as_bytes(), &signature));
    if verified {
        (
            StatusCode::CREATED,
            axum::Json(json!({"message": "Transaction will be added to Block 2"})),
        )
    } else {
        (
            StatusCode::NOT_ACCEPTABLE,
            axum::Json(json!({"message": "Invalid Transaction!"})),
        )
    }
}

#[tokio::test]
async fn an_original_node_on_python_312_gets_the_new_message_style() {
    let chain = json!({"chain": [{"block_number": 1, "nonce": 0, "previous_hash": "00",
                                  "timestamp": 1_735_689_600.5, "transactions": []}],
                       "length": 1});
    let app = Router::new()
        .route("/", get(|| async { "dashboard" }))
        .route("/chain", get(move || async move { axum::Json(chain) }))
        .route("/transactions/new", post(python312_submit))
        .fallback(|| async { (StatusCode::NOT_FOUND, "<h1>Not Found</h1>") })
        .layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                response.headers_mut().insert(
                    header::SERVER,
                    header::HeaderValue::from_static("Werkzeug/3.1.3 Python/3.12.1"),
                );
                response
            },
        ));
    let node = format!("http://{}", spawn(app, "/").await);
    let client = spawn_client(&node).await;
    let (status, kind) = get_json(&format!("{client}/api/node-kind")).await;
    assert_eq!(status, 200, "{kind}");
    assert_eq!(kind["kind"], "original", "{kind}");
    assert_eq!(kind["style"], "python312", "{kind}");
    let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
    let secret = key.to_hex();
    let (_, _, recipient) = wallets();
    let output = run(&[
        "send",
        "--node",
        &node,
        "--private-key",
        &secret,
        "--recipient",
        &recipient,
        "--amount",
        "1.5",
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("does not stop replays"));
}
