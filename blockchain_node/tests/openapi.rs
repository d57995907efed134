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
    ("get", "/blocks/{number}"),
    ("get", "/chain"),
    ("get", "/events"),
    ("get", "/history"),
    ("get", "/mine"),
    ("post", "/mine"),
    ("get", "/nodes/get"),
    ("post", "/nodes/register"),
    ("post", "/nodes/remove"),
    ("get", "/nodes/resolve"),
    ("post", "/nodes/resolve"),
    ("get", "/settings"),
    ("post", "/settings"),
    ("get", "/stats/blocks"),
    ("get", "/status"),
    ("post", "/transactions/batch"),
    ("get", "/transactions/get"),
    ("post", "/transactions/new"),
    ("get", "/transactions/{id}"),
];

/// The document as a running node serves it.
struct Contract {
    document: Value,
}

impl Contract {
    async fn of(node: &NodeProcess) -> Contract {
        let response = client()
            .get(format!("{}/openapi.json", node.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
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

/// Calls `method uri` and checks its answer against the document's `path` (the route's
/// template); returns the status and body.
async fn checked(
    contract: &Contract,
    node: &NodeProcess,
    (method, path): (&str, &str),
    uri: &str,
    body: Body,
) -> (u16, Value) {
    let (status, answer) = call(node, method, uri, body).await;
    contract.check(method, path, status, &answer);
    (status, answer)
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
            let response = client()
                .get(format!("{}{uri}", node.url))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(
                response.headers()["content-type"].to_str().unwrap(),
                "text/event-stream"
            );
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
    checked(c, n, ("get", "/status"), "/status", Body::None).await;
    checked(c, n, ("get", "/settings"), "/settings", Body::None).await;
    let (status, _) = checked(
        c,
        n,
        ("post", "/settings"),
        "/settings",
        Body::Json(json!({"mining_threads": 1})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, refused) = checked(
        c,
        n,
        ("post", "/settings"),
        "/settings",
        Body::Form(vec![("mining_threads", "0".into())]),
    )
    .await;
    assert_eq!(
        (status, refused["field"].as_str()),
        (400, Some("mining_threads"))
    );
    let (status, _) = checked(
        c,
        n,
        ("post", "/settings"),
        "/settings",
        Body::Json(json!({})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = checked(
        c,
        n,
        ("post", "/settings"),
        "/settings",
        Body::Raw("text/plain", b"mining_threads=1".to_vec()),
    )
    .await;
    assert_eq!(status, 415);

    // Transactions: accepted, refused, looked up.
    let tx = payment(0, 1, "contract-1");
    let new = ("post", "/transactions/new");
    let (status, _) = checked(c, n, new, new.1, Body::Form(form_of(&tx))).await;
    assert_eq!(status, 201);
    let (status, _) = checked(c, n, new, new.1, Body::Form(form_of(&tx))).await;
    assert_eq!(status, 406);
    let (status, _) = checked(
        c,
        n,
        new,
        new.1,
        Body::Json(json!({"sender_address": wallet})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = checked(c, n, new, new.1, Body::Raw("text/plain", b"x".to_vec())).await;
    assert_eq!(status, 415);
    let (status, _) = checked(
        c,
        n,
        new,
        new.1,
        Body::Raw("application/json", vec![b' '; 70_000]),
    )
    .await;
    assert_eq!(status, 413);

    let batch = ("post", "/transactions/batch");
    let second = payment(1, 0, "contract-2").to_json();
    let (status, answer) = checked(
        c,
        n,
        batch,
        batch.1,
        Body::Json(json!([second, {"sender_address": "x"}, tx.to_json()])),
    )
    .await;
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(1)));
    let (status, _) = checked(c, n, batch, batch.1, Body::Json(json!([]))).await;
    assert_eq!(status, 400);

    checked(
        c,
        n,
        ("get", "/transactions/get"),
        "/transactions/get",
        Body::None,
    )
    .await;
    let lookup = ("get", "/transactions/{id}");
    let (status, pending) = checked(
        c,
        n,
        lookup,
        &format!("/transactions/{}", tx.id()),
        Body::None,
    )
    .await;
    assert_eq!((status, pending["status"].as_str()), (200, Some("pending")));
    let (status, _) = checked(
        c,
        n,
        lookup,
        &format!("/transactions/{}", "0".repeat(64)),
        Body::None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = checked(c, n, lookup, "/transactions/xyz", Body::None).await;
    assert_eq!(status, 400);

    // Balances before and after a block.
    let balance = ("get", "/balance");
    let (status, _) = checked(
        c,
        n,
        balance,
        &format!("/balance?address={wallet}"),
        Body::None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = checked(c, n, balance, "/balance", Body::None).await;
    assert_eq!(status, 400);
    let (status, _) = checked(c, n, balance, "/balance?address=abc", Body::None).await;
    assert_eq!(status, 400);

    let (status, mined) = checked(c, n, ("get", "/mine"), "/mine", Body::None).await;
    assert_eq!((status, mined["block_number"].as_u64()), (200, Some(1)));
    let (status, _) = checked(
        c,
        n,
        ("post", "/mine"),
        "/mine",
        Body::Form(vec![("reward_address", wallet.clone())]),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = checked(
        c,
        n,
        ("post", "/mine"),
        "/mine",
        Body::Json(json!({"reward_address": "not a key"})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, confirmed) = checked(
        c,
        n,
        lookup,
        &format!("/transactions/{}", tx.id()),
        Body::None,
    )
    .await;
    assert_eq!(
        (status, confirmed["status"].as_str()),
        (200, Some("confirmed"))
    );

    // The chain, its blocks, an address's history, the charts' figures.
    let chain = ("get", "/chain");
    checked(c, n, chain, "/chain", Body::None).await;
    let (status, page) = checked(c, n, chain, "/chain?from=1&limit=1", Body::None).await;
    assert_eq!((status, page["chain"].as_array().unwrap().len()), (200, 1));
    let (status, _) = checked(c, n, chain, "/chain?from=abc", Body::None).await;
    assert_eq!(status, 400);
    let block = ("get", "/blocks/{number}");
    let (status, first) = checked(c, n, block, "/blocks/1", Body::None).await;
    assert_eq!(status, 200);
    let (status, _) = checked(c, n, block, "/blocks/99", Body::None).await;
    assert_eq!(status, 404);
    let (status, _) = checked(c, n, block, "/blocks/abc", Body::None).await;
    assert_eq!(status, 400);
    let history = ("get", "/history");
    let (status, _) = checked(
        c,
        n,
        history,
        &format!("/history?address={wallet}"),
        Body::None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = checked(
        c,
        n,
        history,
        &format!("/history?address={wallet}&limit=0"),
        Body::None,
    )
    .await;
    assert_eq!(status, 400);
    let stats = ("get", "/stats/blocks");
    let (status, _) = checked(c, n, stats, "/stats/blocks?limit=5", Body::None).await;
    assert_eq!(status, 200);
    let (status, _) = checked(c, n, stats, "/stats/blocks?limit=0", Body::None).await;
    assert_eq!(status, 400);

    // Blocks from peers.
    let announce = ("post", "/blocks");
    let (status, _) = checked(c, n, announce, "/blocks", Body::Json(first)).await;
    assert_eq!(status, 200);
    let (status, _) = checked(
        c,
        n,
        announce,
        "/blocks",
        Body::Raw("application/json", b"{".to_vec()),
    )
    .await;
    assert_eq!(status, 400);

    // Peers.
    let peer = "http://127.0.0.1:9";
    checked(c, n, ("get", "/nodes/get"), "/nodes/get", Body::None).await;
    let register = ("post", "/nodes/register");
    let (status, _) = checked(
        c,
        n,
        register,
        register.1,
        Body::Form(vec![("nodes", peer.into())]),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = checked(
        c,
        n,
        register,
        register.1,
        Body::Form(vec![("nodes", " ".into())]),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = checked(c, n, ("get", "/nodes/get"), "/nodes/get", Body::None).await;
    assert_eq!(status, 200);
    let remove = ("post", "/nodes/remove");
    let (status, _) = checked(c, n, remove, remove.1, Body::Json(json!({"node": peer}))).await;
    assert_eq!(status, 200);
    let (status, _) = checked(c, n, remove, remove.1, Body::Json(json!({"node": peer}))).await;
    assert_eq!(status, 404);
    let (status, _) = checked(
        c,
        n,
        ("get", "/nodes/resolve"),
        "/nodes/resolve",
        Body::None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = checked(
        c,
        n,
        ("post", "/nodes/resolve"),
        "/nodes/resolve",
        Body::None,
    )
    .await;
    assert_eq!(status, 200);

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
    ];
    let mut response = client()
        .get(format!("{}/events", node.url))
        .send()
        .await
        .unwrap();
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
