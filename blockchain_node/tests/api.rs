//! The node's HTTP API, end to end against the real binary.

mod common;

use std::time::{Duration, Instant};

use blockchain_core::{THE_BLOCKCHAIN, Transaction};
use common::{
    NodeBuilder, VECTORS, WALLETS, client, entry_form, form_of, get_json, get_text, post_form,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn tx_url(node: &common::NodeProcess) -> String {
    format!("{}/transactions/new", node.url)
}

#[tokio::test]
async fn vectors_are_accepted_once_when_funded_and_invalid_ones_refused() {
    let node = NodeBuilder::new().start();
    for entry in &VECTORS.valid {
        let form = entry_form(entry);
        let (status, body) = post_form(&tx_url(&node), &form).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["message"], "Transaction will be added to Block 1");
        let (status, body) = post_form(&tx_url(&node), &form).await;
        assert_eq!(status, 406, "replay must be refused: {body}");
        assert_eq!(body["message"], "Invalid Transaction!");
        assert!(
            body["error"].as_str().unwrap().contains("already pending"),
            "{body}"
        );
    }
    for entry in &VECTORS.invalid {
        let form = entry_form(entry);
        let (status, body) = post_form(&tx_url(&node), &form).await;
        assert_eq!(status, 406, "{}: {body}", entry.why);
    }
    let (_, pool) = get_json(&format!("{}/transactions/get", node.url)).await;
    assert_eq!(
        pool["transactions"].as_array().unwrap().len(),
        VECTORS.valid.len()
    );

    // Mined, they stay refused: replay protection spans the chain, not just the pool.
    let (status, mined) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(status, 200);
    assert_eq!(mined["message"], "New Block Forged");
    assert_eq!(
        mined["transactions"].as_array().unwrap().len(),
        VECTORS.valid.len() + 1
    );
    let entry = &VECTORS.valid[0];
    let form = entry_form(entry);
    let (status, body) = post_form(&tx_url(&node), &form).await;
    assert_eq!(status, 406);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("already in block 1"),
        "{body}"
    );
}

#[tokio::test]
async fn unfunded_vectors_are_refused_as_overspends() {
    let node = NodeBuilder::new()
        .genesis(r#"{"difficulty": 8}"#.into())
        .start();
    let entry = &VECTORS.valid[0];
    let form = entry_form(entry);
    let (status, body) = post_form(&tx_url(&node), &form).await;
    assert_eq!(status, 406);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("insufficient funds"),
        "{body}"
    );
}

#[tokio::test]
async fn balances_pending_spends_and_overspend() {
    let node = NodeBuilder::new().start();
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let pay = |value: &str, nonce: &str| {
        Transaction::sign(alice, bob.address(), value, Some(nonce)).unwrap()
    };
    assert_eq!(
        post_form(&tx_url(&node), &form_of(&pay("600", "a")))
            .await
            .0,
        201
    );
    // 400 left available: 400.00000001 is an overspend counting the pending 600.
    let (status, body) = post_form(&tx_url(&node), &form_of(&pay("400.00000001", "b"))).await;
    assert_eq!(status, 406);
    assert_eq!(
        body["error"],
        "insufficient funds: the sender has 400 available (pending spends included) but sends 400.00000001"
    );
    let id = post_form(&tx_url(&node), &form_of(&pay("400", "c")))
        .await
        .1["transaction_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let balance_url = format!("{}/balance?address={}", node.url, alice.address());
    let (_, balance) = get_json(&balance_url).await;
    assert_eq!(balance["balance"], "1000");
    assert_eq!(balance["pending"], "-1000");
    assert_eq!(balance["available"], "0");
    let (_, status) = get_json(&format!("{}/transactions/{id}", node.url)).await;
    assert_eq!(status["status"], "pending");

    client()
        .post(format!("{}/mine", node.url))
        .send()
        .await
        .unwrap();
    let (_, balance) = get_json(&balance_url).await;
    assert_eq!(balance["balance"], "0");
    let (_, bob_balance) =
        get_json(&format!("{}/balance?address={}", node.url, bob.address())).await;
    assert_eq!(bob_balance["balance"], "2000");
    let (_, status) = get_json(&format!("{}/transactions/{id}", node.url)).await;
    assert_eq!(status["status"], "confirmed");
    assert_eq!(status["block_number"], 1);
    let (code, _) = get_json(&format!("{}/transactions/{}", node.url, "ab".repeat(32))).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn json_and_multipart_bodies_are_accepted_too() {
    let node = NodeBuilder::new().start();
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[2].key);
    let tx = Transaction::sign(alice, bob.address(), "1.5", Some("json")).unwrap();
    let response = client()
        .post(tx_url(&node))
        .json(&tx.to_json())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let tx = Transaction::sign(alice, bob.address(), "2", Some("multipart")).unwrap();
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in form_of(&tx) {
        form = form.text(name, value);
    }
    let response = client()
        .post(tx_url(&node))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

/// Every malformed request gets a 4xx naming the problem, and the node keeps answering.
#[tokio::test]
async fn bad_input_gets_clear_4xx_and_the_node_keeps_running() {
    let node = NodeBuilder::new().start();
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let good = form_of(&Transaction::sign(alice, bob.address(), "5", Some("good")).unwrap());
    let with = |field: &str, value: &str| -> Vec<(&'static str, String)> {
        good.iter()
            .map(|(k, v)| {
                (
                    *k,
                    if *k == field {
                        value.to_owned()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect()
    };
    let without = |field: &str| -> Vec<(&'static str, String)> {
        good.iter().filter(|(k, _)| *k != field).cloned().collect()
    };
    let other_key_sig = Transaction::sign(bob, bob.address(), "5", Some("good"))
        .unwrap()
        .to_json()
        .signature;
    let huge = "a".repeat(1 << 20);

    type Form = Vec<(&'static str, String)>;
    let cases: Vec<(&str, Form, u16, &str)> = vec![
        ("empty form", vec![], 400, "missing field: sender_address"),
        (
            "no sender",
            without("sender_address"),
            400,
            "missing field: sender_address",
        ),
        (
            "no recipient",
            without("recipient_address"),
            400,
            "missing field: recipient_address",
        ),
        ("no amount", without("amount"), 400, "missing field: amount"),
        (
            "no signature",
            without("signature"),
            400,
            "missing field: signature",
        ),
        (
            "non-hex signature",
            with("signature", "zz"),
            400,
            "signature is not hexadecimal",
        ),
        ("odd signature", with("signature", "abc"), 400, "odd number"),
        (
            "empty signature",
            with("signature", ""),
            400,
            "signature is empty",
        ),
        (
            "deadbeef sender",
            with("sender_address", "deadbeef"),
            400,
            "sender_address",
        ),
        (
            "empty sender",
            with("sender_address", ""),
            400,
            "sender_address",
        ),
        (
            "not-a-hex-key",
            with("sender_address", "not-a-hex-key"),
            400,
            "not hexadecimal",
        ),
        (
            "tampered amount",
            with("amount", "50"),
            406,
            "signature does not match",
        ),
        (
            "tampered recipient",
            with("recipient_address", WALLETS[2].key.address().as_hex()),
            406,
            "signature does not match",
        ),
        (
            "another key's signature",
            with("signature", &other_key_sig),
            406,
            "signature",
        ),
        ("amount -5", with("amount", "-5"), 400, "amount"),
        ("amount 0", with("amount", "0"), 400, "greater than zero"),
        ("amount abc", with("amount", "abc"), 400, "amount"),
        (
            "minting",
            with("sender_address", THE_BLOCKCHAIN),
            406,
            "reserved for block rewards",
        ),
        (
            "to self",
            with("recipient_address", alice.address().as_hex()),
            406,
            "same address",
        ),
    ];
    for (name, form, status, needle) in cases {
        let (got, body) = post_form(&tx_url(&node), &form).await;
        assert_eq!(got, status, "{name}: {body}");
        let text = body.to_string();
        assert!(text.contains(needle), "{name}: {text}");
    }
    // A megabyte in a field is refused by the body limit.
    let response = client()
        .post(tx_url(&node))
        .form(&with("amount", &huge))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    use reqwest::Method;
    let requests: [(Method, &str, Option<&str>, &str, u16); 12] = [
        (Method::GET, "/nope", None, "", 404),
        (Method::DELETE, "/chain", None, "", 405),
        (Method::GET, "/transactions/new", None, "", 405),
        (
            Method::POST,
            "/transactions/new",
            Some("text/plain"),
            "x",
            415,
        ),
        (Method::POST, "/transactions/new", None, "", 415),
        (
            Method::POST,
            "/transactions/new",
            Some("application/json"),
            "{",
            400,
        ),
        (Method::GET, "/balance?address=beef", None, "", 400),
        (Method::GET, "/balance", None, "", 400),
        (Method::GET, "/blocks/x", None, "", 400),
        (Method::GET, "/blocks/99", None, "", 404),
        (Method::GET, "/transactions/xyz", None, "", 400),
        (
            Method::GET,
            &format!("/transactions/{}", "ab".repeat(32)),
            None,
            "",
            404,
        ),
    ];
    for (method, path, content_type, body, expected) in requests {
        let mut request = client()
            .request(method.clone(), format!("{}{path}", node.url))
            .body(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{method} {path}");
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            answer["error"].is_string(),
            "{method} {path} names its error: {answer}"
        );
    }
    // A malformed query parameter is named in the API's JSON, not in axum's plain text.
    for (path, parameter) in [
        ("/chain?from=abc", "from"),
        ("/history?address=beef&limit=x", "limit"),
        ("/stats/blocks?limit=-1", "limit"),
    ] {
        let (status, answer) = get_json(&format!("{}{path}", node.url)).await;
        assert_eq!(status, 400, "{path}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(&format!("{parameter}:")), "{path}: {answer}");
    }

    let register = format!("{}/nodes/register", node.url);
    for nodes in ["", "http://", "a,,b", "ftp://x:1", "127.0.0.1:5001,http://"] {
        let (status, body) = post_form(&register, &[("nodes", nodes.to_owned())]).await;
        assert_eq!(status, 400, "nodes={nodes:?}: {body}");
    }
    assert_eq!(post_form(&register, &[]).await.0, 400);
    let (_, peers) = get_json(&format!("{}/nodes/get", node.url)).await;
    assert_eq!(
        peers["nodes"],
        Value::Array(vec![]),
        "nothing registered from bad lists"
    );

    let (status, body) = post_form(&tx_url(&node), &good).await;
    assert_eq!(status, 201, "still accepting: {body}");
}

#[tokio::test]
async fn restart_keeps_chain_pool_and_peers() {
    let node = NodeBuilder::new().start();
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let first = Transaction::sign(alice, bob.address(), "1", Some("1")).unwrap();
    assert_eq!(post_form(&tx_url(&node), &form_of(&first)).await.0, 201);
    client()
        .post(format!("{}/mine", node.url))
        .send()
        .await
        .unwrap();
    let second = Transaction::sign(alice, bob.address(), "2", Some("2")).unwrap();
    assert_eq!(post_form(&tx_url(&node), &form_of(&second)).await.0, 201);
    // A peer is kept only if it answers as a node of the same network.
    let peer = NodeBuilder::new().arg("--sync-interval").arg("0").start();
    let (status, _) = post_form(
        &format!("{}/nodes/register", node.url),
        &[("nodes", peer.url.clone())],
    )
    .await;
    assert_eq!(status, 201);
    let (_, before) = get_json(&format!("{}/status", node.url)).await;

    let node = node.restart(&[]);
    let (_, after) = get_json(&format!("{}/status", node.url)).await;
    assert_eq!(after["tip_hash"], before["tip_hash"]);
    assert_eq!(after["height"], 1);
    assert_eq!(after["pool_size"], 1);
    assert_eq!(after["peers"], serde_json::json!([peer.url]));
    assert_eq!(
        after["miner_address"], before["miner_address"],
        "the node keeps its wallet"
    );
    let (_, status) = get_json(&format!("{}/transactions/{}", node.url, second.id())).await;
    assert_eq!(status["status"], "pending");
    // Still refused after restart: replay protection is durable.
    assert_eq!(post_form(&tx_url(&node), &form_of(&first)).await.0, 406);
}

/// A SIGTERM sent the moment the node says it listens (a script that starts and stops it,
/// a supervisor restarting it) is a clean stop: the node listens for it before it says so.
#[tokio::test]
async fn a_sigterm_right_after_listening_is_a_clean_stop() {
    let node = NodeBuilder::new().start();
    let (status, _stopped) = tokio::task::spawn_blocking(move || node.terminate())
        .await
        .unwrap();
    assert!(
        status.success(),
        "exit status after an early SIGTERM: {status}"
    );
}

/// `kill`, systemd and container runtimes stop a service with SIGTERM: the node closes
/// its database and exits 0, rather than dying and leaving the next start to check the
/// whole file.
#[tokio::test]
async fn sigterm_stops_the_node_cleanly() {
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("node.log");
    let node = NodeBuilder::new().log_to(&log).start();
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let tx = Transaction::sign(alice, bob.address(), "1", Some("1")).unwrap();
    assert_eq!(post_form(&tx_url(&node), &form_of(&tx)).await.0, 201);
    // Connections that would keep a careless server waiting: an idle keep-alive one, and a
    // dashboard's event stream.
    let address = node.url.trim_start_matches("http://").to_owned();
    let mut open = Vec::new();
    for path in ["/status", "/events"] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut head = [0; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200", "{path}");
        open.push(stream);
    }
    let (status, stopped) = tokio::time::timeout(
        Duration::from_secs(15),
        tokio::task::spawn_blocking(move || node.terminate()),
    )
    .await
    .expect("the node exits promptly with connections open")
    .unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    for mut stream in open {
        let mut rest = Vec::new();
        stream
            .read_to_end(&mut rest)
            .await
            .expect("closed, not reset");
    }
    // Its last lines are written out before it exits (they wait in a buffer otherwise).
    let text = std::fs::read_to_string(&log).unwrap();
    for line in [
        "path=/transactions/new status=201",
        "stopping",
        "INFO stopped",
    ] {
        assert!(text.contains(line), "no {line:?} in the log:\n{text}");
    }
    let node = stopped.start();
    let (_, status) = get_json(&format!("{}/transactions/{}", node.url, tx.id())).await;
    assert_eq!(status["status"], "pending");
}

/// A 201 means durable: kill -9 in the middle of a burst loses nothing acknowledged.
#[tokio::test]
async fn kill_during_a_burst_loses_no_acknowledged_transaction() {
    let node = NodeBuilder::new().start();
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let txs: Vec<Transaction> = (0..400)
        .map(|i| {
            Transaction::sign(alice, bob.address(), "0.01", Some(&format!("burst{i}"))).unwrap()
        })
        .collect();
    let url = tx_url(&node);
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for chunk in txs.chunks(50) {
        let (url, chunk, acknowledged) = (url.clone(), chunk.to_vec(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            for tx in chunk {
                match client().post(&url).form(&form_of(&tx)).send().await {
                    Ok(r) if r.status() == 201 => acknowledged.lock().unwrap().push(tx.id()),
                    _ => {}
                }
            }
        }));
    }
    // Kill once some (but not all) are acknowledged.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 100 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let node = node.restart(&[]);
    for task in tasks {
        let _ = task.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 100, "{}", acknowledged.len());
    let (_, pool) = get_json(&format!("{}/transactions/get", node.url)).await;
    let stored: std::collections::HashSet<String> = pool["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &acknowledged {
        assert!(
            stored.contains(&id.to_string()),
            "acknowledged {id} was lost"
        );
    }
}

#[tokio::test]
async fn the_node_serves_while_it_mines() {
    // ~4 M tries expected at 22 bits: a second or more of mining on this machine.
    let node = NodeBuilder::new()
        .genesis(common::genesis_json(1000, 22))
        .start();
    let url = node.url.clone();
    let mining = tokio::spawn(async move {
        client()
            .post(format!("{url}/mine"))
            .send()
            .await
            .unwrap()
            .status()
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut served_while_mining = 0;
    while !mining.is_finished() && Instant::now() < deadline {
        let started = Instant::now();
        let (status, body) = get_json(&format!("{}/status", node.url)).await;
        assert_eq!(status, 200);
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "status took {:?}",
            started.elapsed()
        );
        if body["mining"] == true {
            served_while_mining += 1;
        }
    }
    assert_eq!(mining.await.unwrap(), 200);
    assert!(
        served_while_mining > 0,
        "no request was answered during mining"
    );
    assert_eq!(
        get_json(&format!("{}/status", node.url)).await.1["height"],
        1
    );
}

#[tokio::test]
async fn chain_pages_and_pages_render() {
    let node = NodeBuilder::new().start();
    for _ in 0..3 {
        client()
            .post(format!("{}/mine", node.url))
            .send()
            .await
            .unwrap();
    }
    let (_, all) = get_json(&format!("{}/chain", node.url)).await;
    assert_eq!(all["length"], 4);
    assert_eq!(all["chain"].as_array().unwrap().len(), 4);
    let (_, page) = get_json(&format!("{}/chain?from=1&limit=2", node.url)).await;
    assert_eq!(page["length"], 4);
    let blocks = page["chain"].as_array().unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0]["block_number"], 1);
    assert_eq!(blocks[1]["previous_hash"], blocks[0]["hash"]);
    for key in [
        "block_number",
        "timestamp",
        "transactions",
        "nonce",
        "previous_hash",
    ] {
        assert!(blocks[0].get(key).is_some(), "{key}");
    }
    for path in [
        "/",
        "/configure",
        "/explorer/block/1",
        "/static/style.css",
        "/static/dom.js",
        "/static/node.js",
    ] {
        let response = client()
            .get(format!("{}{path}", node.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let reward_id = blocks[0]["transactions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = get_text(&format!("{}/explorer/tx/{reward_id}", node.url)).await;
    assert!(page.contains("confirmed in block 1"));
    let miner = get_json(&format!("{}/status", node.url)).await.1["miner_address"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = get_text(&format!("{}/explorer/address/{miner}", node.url)).await;
    assert!(
        page.contains("this node&#39;s miner") || page.contains("this node's miner"),
        "{page}"
    );
}

/// A browser asking for a block, transaction or address that is not there, or for a
/// path with no page, gets a page in the node's layout that says so with the status; a
/// program asking for a path with no route still gets the API's JSON.
#[tokio::test]
async fn pages_refuse_with_pages_and_the_api_with_json() {
    let node = NodeBuilder::new().start();
    let browser = |path: &str| {
        client()
            .get(format!("{}{path}", node.url))
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .send()
    };
    let cases = [
        ("/explorer/block/9", 404, "No block 9; the tip is 0."),
        (
            "/explorer/block/x",
            400,
            "Block number &#34;x&#34; is not a whole number.",
        ),
        ("/explorer/tx/zz", 400, "A transaction id is 64 hex digits."),
        ("/explorer/address/zz", 400, "Address is not hexadecimal."),
        ("/?page=x", 400, "page: invalid digit"),
        ("/nope", 404, "There is no page at /nope."),
    ];
    for (path, status, needle) in cases {
        let response = browser(path).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        let page = response.text().await.unwrap();
        assert!(page.contains(needle), "{path}: {page}");
        assert!(
            page.contains(r#"<a href="/">Back to the Mine dashboard</a>"#),
            "{path}: {page}"
        );
    }
    let (status, answer) = get_json(&format!("{}/nope", node.url)).await;
    assert_eq!(status, 404);
    assert_eq!(answer["error"], "no route GET /nope");
}

/// `--mine` mines pending transactions by itself, and no empty blocks while the pool is empty.
#[tokio::test]
async fn background_mining_confirms_pending_transactions_only() {
    let node = NodeBuilder::new()
        .arg("--mine")
        .arg("--block-interval")
        .arg("0.2")
        .start();
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let tx = Transaction::sign(alice, bob.address(), "3", Some("bg")).unwrap();
    assert_eq!(post_form(&tx_url(&node), &form_of(&tx)).await.0, 201);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, status) = get_json(&format!("{}/transactions/{}", node.url, tx.id())).await;
        if status["status"] == "confirmed" {
            break;
        }
        assert!(Instant::now() < deadline, "not mined: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let height = get_json(&format!("{}/status", node.url)).await.1["height"].clone();
    assert_eq!(height, 1);
    // Several block intervals later, still no empty block.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        get_json(&format!("{}/status", node.url)).await.1["height"],
        height
    );
}

#[tokio::test]
async fn a_full_pool_refuses_clearly_and_frees_up_after_a_block() {
    let node = NodeBuilder::new()
        .arg("--pool-capacity")
        .arg("2")
        .arg("--pool-sender-limit")
        .arg("2")
        .start();
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let pay = |n: u32| {
        form_of(&Transaction::sign(alice, bob.address(), "1", Some(&format!("full{n}"))).unwrap())
    };
    assert_eq!(post_form(&tx_url(&node), &pay(1)).await.0, 201);
    assert_eq!(post_form(&tx_url(&node), &pay(2)).await.0, 201);
    let (status, body) = post_form(&tx_url(&node), &pay(3)).await;
    assert_eq!(status, 503);
    assert!(
        body["error"].as_str().unwrap().contains("pool is full"),
        "{body}"
    );
    client()
        .post(format!("{}/mine", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(post_form(&tx_url(&node), &pay(3)).await.0, 201);
}

/// A node registers itself with new peers under `--public-url` when given.
#[tokio::test]
async fn registration_back_uses_the_public_url() {
    let a = NodeBuilder::new().arg("--sync-interval").arg("0").start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public = format!("http://localhost:{port}");
    let b = NodeBuilder::new()
        .port(port)
        .arg("--sync-interval")
        .arg("0")
        .arg("--public-url")
        .arg(public.clone())
        .start();
    let (status, _) = post_form(
        &format!("{}/nodes/register", b.url),
        &[("nodes", a.url.clone())],
    )
    .await;
    assert_eq!(status, 201);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, peers) = get_json(&format!("{}/nodes/get", a.url)).await;
        if peers["nodes"] == serde_json::json!([public]) {
            break;
        }
        assert!(Instant::now() < deadline, "A lists {peers}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One sender cannot crowd out the others: past its share of the pool it gets a 429 that
/// names the limit, others are unaffected, and a block frees its share.
#[tokio::test]
async fn no_sender_fills_the_pool_and_a_block_frees_its_share() {
    let node = NodeBuilder::new().arg("--pool-capacity").arg("30").start();
    let (alice, bob, carol) = (&WALLETS[0].key, &WALLETS[1].key, &WALLETS[2].key);
    let pay = |from: &blockchain_core::PrivateKey, n: u32| {
        form_of(&Transaction::sign(from, carol.address(), "1", Some(&format!("fair{n}"))).unwrap())
    };
    // A tenth of 30 by default.
    for n in 0..3 {
        assert_eq!(post_form(&tx_url(&node), &pay(alice, n)).await.0, 201);
    }
    let (status, body) = post_form(&tx_url(&node), &pay(alice, 3)).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("3 pending transactions"),
        "the limit is named: {body}"
    );
    assert_eq!(
        post_form(&tx_url(&node), &pay(bob, 4)).await.0,
        201,
        "others unaffected"
    );
    client()
        .post(format!("{}/mine", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        post_form(&tx_url(&node), &pay(alice, 3)).await.0,
        201,
        "freed by the block"
    );
}

/// A batch answers one result per item, in order, each exactly what a single submission
/// of the same transactions in the same order would have answered; accepted ones are
/// durable before the answer.
#[tokio::test]
async fn a_batch_is_judged_item_by_item_as_single_submissions_and_is_durable() {
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let first = Transaction::sign(alice, bob.address(), "400", Some("b1")).unwrap();
    let second = Transaction::sign(alice, bob.address(), "500", Some("b2")).unwrap();
    let overspend = Transaction::sign(alice, bob.address(), "200", Some("b3")).unwrap();
    let from_bob = Transaction::sign(bob, alice.address(), "1", Some("b4")).unwrap();
    let json_of = |tx: &Transaction| serde_json::to_value(tx.to_json()).unwrap();
    let mut missing = json_of(&from_bob);
    missing.as_object_mut().unwrap().remove("signature");
    let tampered = &VECTORS.invalid[0];
    let items = vec![
        json_of(&first),
        json_of(&first),
        json_of(&second),
        json_of(&overspend),
        missing,
        serde_json::json!({
            "sender_address": tampered.sender_address, "recipient_address": tampered.recipient_address,
            "value": tampered.value, "signature": tampered.signature,
        }),
        serde_json::json!("not an object"),
        json_of(&from_bob),
    ];

    let batched = NodeBuilder::new().start();
    let response = client()
        .post(format!("{}/transactions/batch", batched.url))
        .json(&items)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), items.len());
    assert_eq!(
        (answer["accepted"].as_u64(), answer["refused"].as_u64()),
        (Some(3), Some(5))
    );

    // The same items one by one, on a node with the same genesis.
    let single = NodeBuilder::new().start();
    for (item, result) in items.iter().zip(results) {
        let response = client()
            .post(tx_url(&single))
            .json(item)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(result["status"], status, "{item}: {result} vs {body}");
        assert_eq!(result["message"], body["message"], "{item}");
        assert_eq!(result["error"], body["error"], "{item}");
        assert_eq!(result["transaction_id"], body["transaction_id"], "{item}");
    }

    // Durable: a kill -9 right after the answer loses none of the accepted.
    let batched = batched.restart(&[]);
    let (_, pool) = get_json(&format!("{}/transactions/get", batched.url)).await;
    assert_eq!(pool["transactions"].as_array().unwrap().len(), 3);

    for (body, why) in [
        (serde_json::json!([]), "1 to 1000"),
        (serde_json::json!({"a": 1}), "JSON array"),
        (
            serde_json::Value::Array(vec![json_of(&from_bob); 1001]),
            "1 to 1000",
        ),
    ] {
        let response = client()
            .post(format!("{}/transactions/batch", batched.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains(why), "{body}");
    }
}
