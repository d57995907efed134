//! The node's OpenAPI document (`GET /openapi.json`) against the node itself: it lists
//! exactly the API's routes, each of its operations reaches a handler, and real answers,
//! successes and refusals alike, match the schemas it gives for their status.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use blockchain_core::Transaction;
use common::{NodeBuilder, NodeProcess, WALLETS, client, form_of};
use serde_json::{Value, json};

/// The API as the document must list it: every route but pages and assets.
const EXPECTED: &[(&str, &str)] = &[
    ("get", "/balance"),
    ("post", "/blocks"),
    ("get", "/blocks/tree"),
    ("get", "/blocks/{number}"),
    ("get", "/chain"),
    ("get", "/events"),
    ("post", "/faucet"),
    ("get", "/history"),
    ("get", "/mine"),
    ("post", "/mine"),
    ("get", "/nodes/get"),
    ("post", "/nodes/register"),
    ("post", "/nodes/remove"),
    ("get", "/nodes/resolve"),
    ("post", "/nodes/resolve"),
    ("post", "/operator/sign-in"),
    ("post", "/operator/sign-out"),
    ("get", "/settings"),
    ("post", "/settings"),
    ("get", "/stats/blocks"),
    ("get", "/status"),
    ("post", "/transactions/batch"),
    ("get", "/transactions/get"),
    ("post", "/transactions/new"),
    ("get", "/transactions/{id}"),
    ("get", "/transactions/{id}/proof"),
];

/// The document as a running node serves it.
struct Contract {
    document: Value,
}

impl Contract {
    async fn of(node: &NodeProcess) -> Contract {
        let response = get_ok(node, "/openapi.json", "application/json").await;
        let document: Value = response.json().await.unwrap();
        assert!(document["openapi"].as_str().unwrap().starts_with("3."));
        Contract { document }
    }

    /// Every (method, path) the document lists.
    fn operations(&self) -> BTreeSet<(String, String)> {
        let mut operations = BTreeSet::new();
        for (path, item) in self.document["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                operations.insert((method.clone(), path.clone()));
            }
        }
        operations
    }

    /// A validator for the JSON schema of `status`'s answer to `method path`, its
    /// `$ref`s resolved against the document's components.
    fn validator(&self, method: &str, path: &str, status: u16) -> jsonschema::Validator {
        let answer = &self.document["paths"][path][method]["responses"][status.to_string()];
        assert!(
            answer.is_object(),
            "{method} {path} answered {status}, which the document does not list"
        );
        let Some(Value::Object(schema)) =
            answer.pointer("/content/application~1json/schema").cloned()
        else {
            panic!("{method} {path} {status}: the document gives no JSON schema");
        };
        self.schema_validator(schema)
    }

    /// A validator for a schema, with the document's components beside it.
    fn schema_validator(
        &self,
        mut schema: serde_json::Map<String, Value>,
    ) -> jsonschema::Validator {
        schema.insert("components".into(), self.document["components"].clone());
        jsonschema::draft202012::new(&Value::Object(schema)).expect("a valid schema")
    }

    /// Panics unless `body`, answered with `status` to `method path`, is what the document says.
    fn check(&self, method: &str, path: &str, status: u16, body: &Value) {
        let validator = self.validator(method, path, status);
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match the document: {errors:#?}\n{body:#}"
        );
    }
}

/// `GET uri`, which must answer 200 with `content_type`.
async fn get_ok(node: &NodeProcess, uri: &str, content_type: &str) -> reqwest::Response {
    let response = client()
        .get(format!("{}{uri}", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{uri}");
    assert_eq!(response.headers()["content-type"], content_type, "{uri}");
    response
}

fn remove_route() -> (&'static str, &'static str) {
    ("post", "/nodes/remove")
}

/// Sends a request; the body is JSON, a form, or raw bytes with a content type.
enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
    Raw(&'static str, Vec<u8>),
}

async fn call(node: &NodeProcess, method: &str, uri: &str, body: Body) -> (u16, Value) {
    let url = format!("{}{uri}", node.url);
    let request = match method {
        "get" => client().get(url),
        "post" => client().post(url),
        other => panic!("no method {other}"),
    };
    let request = match body {
        Body::None => request,
        Body::Json(json) => request.json(&json),
        Body::Form(form) => request.form(&form),
        Body::Raw(content_type, bytes) => request.header("content-type", content_type).body(bytes),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        content_type.as_deref(),
        Some("application/json"),
        "{method} {uri} {status}"
    );
    (status, response.json().await.unwrap())
}

impl Contract {
    /// The document's path for `uri`: its own, else the template it fills.
    fn template(&self, uri: &str) -> String {
        let path = uri.split('?').next().unwrap();
        let paths = self.document["paths"].as_object().unwrap();
        if paths.contains_key(path) {
            return path.to_owned();
        }
        let segments: Vec<&str> = path.split('/').collect();
        paths
            .keys()
            .find(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                parts.len() == segments.len()
                    && parts
                        .iter()
                        .zip(&segments)
                        .all(|(part, segment)| part.starts_with('{') || part == segment)
            })
            .unwrap_or_else(|| panic!("the document has no path for {uri}"))
            .clone()
    }
}

/// Calls `method uri`, checks the answer against the document, and that its status is
/// `status`; returns the body.
async fn expect(
    contract: &Contract,
    node: &NodeProcess,
    (method, uri): (&str, &str),
    body: Body,
    status: u16,
) -> Value {
    let (answered, answer) = call(node, method, uri, body).await;
    assert_eq!(answered, status, "{method} {uri}: {answer}");
    contract.check(method, &contract.template(uri), answered, &answer);
    answer
}

fn payment(from: usize, to: usize, nonce: &str) -> Transaction {
    Transaction::sign(
        &WALLETS[from].key,
        WALLETS[to].key.address(),
        "1.5",
        Some(nonce),
    )
    .unwrap()
}

#[tokio::test]
async fn the_document_lists_exactly_the_api_routes() {
    let node = NodeBuilder::new().start();
    let contract = Contract::of(&node).await;
    let expected: BTreeSet<(String, String)> = EXPECTED
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(contract.operations(), expected);
    // The schemas hold: a status without its fields, or a refusal without words, fails.
    assert!(
        !contract
            .validator("get", "/status", 200)
            .is_valid(&json!({"height": 1}))
    );
    assert!(
        !contract
            .validator("get", "/status", 200)
            .is_valid(&json!({"height": -1}))
    );
    assert!(
        !contract
            .validator("get", "/balance", 400)
            .is_valid(&json!({"message": "x"}))
    );
    let ids: Vec<&str> = contract
        .document
        .pointer("/paths")
        .unwrap()
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|operation| operation["operationId"].as_str().unwrap())
        .collect();
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "operation ids repeat: {ids:?}");
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let node = NodeBuilder::new().start();
    let contract = Contract::of(&node).await;
    for (method, path) in contract.operations() {
        let uri = path
            .replace("{number}", "0")
            .replace("{id}", &"0".repeat(64));
        if path == "/events" {
            get_ok(&node, &uri, "text/event-stream").await;
            continue;
        }
        let body = if method == "post" {
            Body::Json(json!({}))
        } else {
            Body::None
        };
        let (status, answer) = call(&node, &method, &uri, body).await;
        let no_route = status == 404
            && answer["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("no route"));
        assert!(
            !no_route && status != 405,
            "{method} {path} reached no handler: {status} {answer}"
        );
        contract.check(&method, &path, status, &answer);
    }
}

#[tokio::test]
async fn answers_match_the_document() {
    let node = NodeBuilder::new().start();
    let contract = Contract::of(&node).await;
    let c = &contract;
    let n = &node;
    let wallet = WALLETS[0].key.address().as_hex().to_owned();

    // The node and its settings.
    let ok = |uri| async move { expect(c, n, ("get", uri), Body::None, 200).await };
    ok("/status").await;
    ok("/settings").await;
    let settings = ("post", "/settings");
    expect(
        c,
        n,
        settings,
        Body::Json(json!({"mining_threads": 1})),
        200,
    )
    .await;
    let form = Body::Form(vec![("mining_threads", "0".into())]);
    let refused = expect(c, n, settings, form, 400).await;
    assert_eq!(refused["field"], "mining_threads");
    expect(c, n, settings, Body::Json(json!({})), 400).await;
    expect(
        c,
        n,
        settings,
        Body::Raw("text/plain", b"a=1".to_vec()),
        415,
    )
    .await;

    // Transactions: accepted, refused, looked up.
    let tx = payment(0, 1, "contract-1");
    let new = ("post", "/transactions/new");
    expect(c, n, new, Body::Form(form_of(&tx)), 201).await;
    expect(c, n, new, Body::Form(form_of(&tx)), 406).await;
    expect(
        c,
        n,
        new,
        Body::Json(json!({"sender_address": wallet})),
        400,
    )
    .await;
    expect(c, n, new, Body::Raw("text/plain", b"x".to_vec()), 415).await;
    let large = Body::Raw("application/json", vec![b' '; 70_000]);
    expect(c, n, new, large, 413).await;

    let batch = ("post", "/transactions/batch");
    let items =
        json!([payment(1, 0, "contract-2").to_json(), {"sender_address": "x"}, tx.to_json()]);
    let answer = expect(c, n, batch, Body::Json(items), 200).await;
    assert_eq!(answer["accepted"], 1);
    expect(c, n, batch, Body::Json(json!([])), 400).await;

    ok("/transactions/get").await;
    let id = format!("/transactions/{}", tx.id());
    assert_eq!(ok(&id).await["status"], "pending");
    let proof = format!("{id}/proof");
    expect(c, n, ("get", &proof), Body::None, 409).await;
    let unknown = format!("/transactions/{}", "0".repeat(64));
    expect(c, n, ("get", &unknown), Body::None, 404).await;
    expect(c, n, ("get", "/transactions/xyz"), Body::None, 400).await;

    // Balances, blocks mined to the node and to an address.
    let balance = format!("/balance?address={wallet}");
    ok(&balance).await;
    expect(c, n, ("get", "/balance"), Body::None, 400).await;
    expect(c, n, ("get", "/balance?address=abc"), Body::None, 400).await;
    assert_eq!(ok("/mine").await["block_number"], 1);
    let to_wallet = Body::Form(vec![("reward_address", wallet.clone())]);
    expect(c, n, ("post", "/mine"), to_wallet, 200).await;
    let bad = Body::Json(json!({"reward_address": "not a key"}));
    expect(c, n, ("post", "/mine"), bad, 400).await;
    assert_eq!(ok(&id).await["status"], "confirmed");
    ok(&proof).await;
    expect(c, n, ("get", &format!("{unknown}/proof")), Body::None, 404).await;
    expect(c, n, ("get", "/transactions/xyz/proof"), Body::None, 400).await;

    // The chain, its blocks, an address's history, the charts' figures.
    ok("/chain").await;
    assert_eq!(
        ok("/chain?from=1&limit=1").await["chain"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    expect(c, n, ("get", "/chain?from=abc"), Body::None, 400).await;
    let first = ok("/blocks/1").await;
    expect(c, n, ("get", "/blocks/99"), Body::None, 404).await;
    expect(c, n, ("get", "/blocks/abc"), Body::None, 400).await;
    let history = format!("/history?address={wallet}");
    ok(&history).await;
    let history = format!("{history}&limit=0");
    expect(c, n, ("get", &history), Body::None, 400).await;
    ok("/stats/blocks?limit=5").await;
    ok("/blocks/tree").await;
    ok("/blocks/tree?from=0&to=3").await;
    expect(c, n, ("get", "/blocks/tree?from=3&to=0"), Body::None, 400).await;
    expect(c, n, ("get", "/stats/blocks?limit=0"), Body::None, 400).await;

    // Blocks from peers.
    expect(c, n, ("post", "/blocks"), Body::Json(first), 200).await;
    let broken = Body::Raw("application/json", b"{".to_vec());
    expect(c, n, ("post", "/blocks"), broken, 400).await;

    // Peers.
    // A peer must answer as a node of the same network; junk is refused by name.
    let other = NodeBuilder::new().arg("--sync-interval").arg("0").start();
    let peer = other.url.as_str();
    let register = ("post", "/nodes/register");
    let junk = Body::Form(vec![("nodes", "http://127.0.0.1:9".into())]);
    expect(c, n, register, junk, 400).await;
    let mixed = format!("{peer},http://127.0.0.1:9");
    let answer = expect(c, n, register, Body::Form(vec![("nodes", mixed)]), 201).await;
    assert_eq!(
        answer["refused"][0]["node"], "http://127.0.0.1:9",
        "{answer}"
    );
    expect(c, n, remove_route(), Body::Json(json!({"node": peer})), 200).await;
    expect(
        c,
        n,
        register,
        Body::Form(vec![("nodes", peer.into())]),
        201,
    )
    .await;
    // Signing in needs a token (its 303s are checked in hosts.rs).
    let sign_in = ("post", "/operator/sign-in");
    expect(c, n, sign_in, Body::Form(vec![("back", "/".into())]), 400).await;
    expect(c, n, register, Body::Form(vec![("nodes", " ".into())]), 400).await;
    ok("/nodes/get").await;
    let remove = ("post", "/nodes/remove");
    expect(c, n, remove, Body::Json(json!({"node": peer})), 200).await;
    expect(c, n, remove, Body::Json(json!({"node": peer})), 404).await;
    ok("/nodes/resolve").await;
    expect(c, n, ("post", "/nodes/resolve"), Body::None, 200).await;

    // Another site's page may not drive the operator's routes.
    let response = client()
        .post(format!("{}/nodes/resolve", node.url))
        .header("origin", "http://elsewhere.example")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(status, 403);
    contract.check(
        "post",
        "/nodes/resolve",
        status,
        &response.json().await.unwrap(),
    );
}

/// The event stream's first messages, each checked against its component schema.
#[tokio::test]
async fn event_messages_match_the_document() {
    let node = NodeBuilder::new().start();
    let contract = Contract::of(&node).await;
    let schemas = [
        ("status", "Status"),
        ("pending", "PendingEvent"),
        ("chain", "ChainEvent"),
        ("peers", "PeersEvent"),
        ("block", "BlockEvent"),
        ("reorg", "ReorgEvent"),
        ("mining", "MiningProgress"),
        ("stale", "StaleEvent"),
    ];
    let mut response = get_ok(&node, "/events", "text/event-stream").await;
    let mut text = String::new();
    let mut seen = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < 4 {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("the first messages arrive")
            .unwrap()
            .expect("the stream goes on");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let message: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                message
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .map(str::trim)
            };
            let (Some(event), Some(data)) = (field("event:"), field("data:")) else {
                continue;
            };
            let (_, schema) = schemas
                .iter()
                .find(|(name, _)| *name == event)
                .unwrap_or_else(|| panic!("an event the document does not name: {event}"));
            let reference = format!("#/components/schemas/{schema}");
            let mut root = serde_json::Map::new();
            root.insert("$ref".into(), reference.into());
            let validator = contract.schema_validator(root);
            let data: Value = serde_json::from_str(data).unwrap();
            assert!(validator.is_valid(&data), "{event}: {data:#}");
            seen.insert(event.to_owned());
        }
    }
}

#[tokio::test]
async fn faucet_answers_match_the_document() {
    let node = NodeBuilder::new().start();
    let contract = Contract::of(&node).await;
    let faucet = ("post", "/faucet");
    let to = |i: usize| Body::Json(json!({"address": WALLETS[i].key.address().as_hex()}));
    let bad = expect(
        &contract,
        &node,
        faucet,
        Body::Json(json!({"address": "xyz"})),
        400,
    )
    .await;
    assert!(bad["error"].as_str().unwrap().contains("address"), "{bad}");
    let settings = expect(&contract, &node, ("get", "/settings"), Body::None, 200).await;
    let own = Body::Json(json!({"address": settings["node_wallet"]}));
    let own = expect(&contract, &node, faucet, own, 400).await;
    assert!(
        own["error"].as_str().unwrap().contains("own wallet"),
        "{own}"
    );
    let missing = expect(&contract, &node, faucet, Body::Form(vec![]), 400).await;
    assert_eq!(missing["error"], "missing field: address");
    // A fresh node's wallet holds nothing: the faucet says it is empty.
    let empty = expect(&contract, &node, faucet, to(0), 503).await;
    assert!(
        empty["error"].as_str().unwrap().contains("empty"),
        "{empty}"
    );
    expect(&contract, &node, ("post", "/mine"), Body::None, 200).await;
    let paid = expect(&contract, &node, faucet, to(0), 201).await;
    assert_eq!(paid["amount"], "1");
    let again = expect(&contract, &node, faucet, to(0), 429).await;
    assert!(
        again["error"].as_str().unwrap().contains("this address"),
        "{again}"
    );
    // Another address from the same client (this test, on loopback) waits too.
    let same_client = expect(&contract, &node, faucet, to(1), 429).await;
    assert!(
        same_client["error"]
            .as_str()
            .unwrap()
            .contains("this client"),
        "{same_client}"
    );
    let off = json!({"faucet_amount": "0"});
    expect(
        &contract,
        &node,
        ("post", "/settings"),
        Body::Json(off),
        200,
    )
    .await;
    let refused = expect(&contract, &node, faucet, to(2), 403).await;
    assert!(
        refused["error"].as_str().unwrap().contains("faucet is off"),
        "{refused}"
    );
}
