//! Faults a network of nodes survives (issue 5), with real node processes on loopback:
//! convergence under concurrent mining, a partition that heals, lying peers, and
//! propagation without loops.
//!
//! Every wait is a poll with a deadline; nodes run with `--sync-interval 0` so that what
//! converges does so through propagation and resolve, not the timer.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use blockchain_core::ledger::reward_transaction;
use blockchain_core::transaction::Sender;
use blockchain_core::{
    Block, BlockError, ChainError, LedgerError, NetworkParams, Transaction, TxError, validate_chain,
};
use common::{
    NodeProcess, POLL, WALLETS, client, form_of, genesis_json, get_json, post_form, quiet_node,
    wait_for,
};
use serde_json::{Value, json};

/// The node's own bound on a resolve round is 20 s; a little slack for the HTTP round trip.
const RESOLVE_BOUND: Duration = Duration::from_secs(25);

async fn status(node: &str) -> Value {
    let (code, body) = get_json(&format!("{node}/status")).await;
    assert_eq!(code, 200, "{node}/status: {body}");
    body
}

async fn tip(node: &str) -> String {
    status(node).await["tip_hash"].as_str().unwrap().to_owned()
}

async fn height(node: &str) -> u64 {
    status(node).await["height"].as_u64().unwrap()
}

async fn peers(node: &str) -> Vec<String> {
    let (code, body) = get_json(&format!("{node}/nodes/get")).await;
    assert_eq!(code, 200);
    serde_json::from_value(body["nodes"].clone()).unwrap()
}

/// Registers `others` with `node` through the form, as a person would.
async fn register(node: &str, others: &[&str]) {
    let (code, body) = post_form(
        &format!("{node}/nodes/register"),
        &[("nodes", others.join(","))],
    )
    .await;
    assert_eq!(code, 201, "register {others:?} with {node}: {body}");
}

/// Waits until every node lists every other one (registration is both ways, in the background).
async fn wait_linked(nodes: &[&str]) {
    for node in nodes {
        let expected: Vec<&str> = nodes.iter().copied().filter(|n| n != node).collect();
        wait_for(&format!("{node} to list {expected:?}"), || async {
            let listed = peers(node).await;
            expected
                .iter()
                .all(|e| listed.iter().any(|p| p == e))
                .then_some(())
        })
        .await;
    }
}

async fn mine(node: &str) -> Value {
    let response = client().post(format!("{node}/mine")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{node}/mine");
    response.json().await.unwrap()
}

/// A payment between two vector wallets; `nonce` keeps each one distinct.
fn pay(from: usize, to: usize, value: &str, nonce: &str) -> Transaction {
    Transaction::sign(
        &WALLETS[from].key,
        WALLETS[to].key.address(),
        value,
        Some(nonce),
    )
    .unwrap()
}

/// Submits through the original's form; returns the status code.
async fn submit(node: &str, tx: &Transaction) -> u16 {
    post_form(&format!("{node}/transactions/new"), &form_of(tx))
        .await
        .0
}

/// "pending", "confirmed", or "unknown".
async fn tx_status(node: &str, tx: &Transaction) -> String {
    let (code, body) = get_json(&format!("{node}/transactions/{}", tx.id())).await;
    match code {
        200 => body["status"].as_str().unwrap().to_owned(),
        404 => "unknown".to_owned(),
        other => panic!("{node}/transactions/{}: {other} {body}", tx.id()),
    }
}

async fn pool_ids(node: &str) -> Vec<String> {
    let (code, body) = get_json(&format!("{node}/transactions/get")).await;
    assert_eq!(code, 200);
    body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_same_tip(nodes: &[&str]) -> String {
    wait_for("every node on the same tip", || async {
        let mut tips = Vec::new();
        for node in nodes {
            tips.push(tip(node).await);
        }
        tips.windows(2)
            .all(|w| w[0] == w[1])
            .then(|| tips[0].clone())
    })
    .await
}

async fn resolve(node: &str) -> (Duration, Value) {
    let started = Instant::now();
    let (code, body) = get_json(&format!("{node}/nodes/resolve")).await;
    assert_eq!(code, 200, "{node}/nodes/resolve: {body}");
    (started.elapsed(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_nodes_mining_at_once_converge_and_keep_every_acknowledged_transaction() {
    let nodes: Vec<NodeProcess> = (0..4).map(|_| quiet_node().start()).collect();
    let urls: Vec<&str> = nodes.iter().map(|n| n.url.as_str()).collect();
    register(urls[0], &urls[1..]).await;
    register(urls[1], &urls[2..]).await;
    register(urls[2], &urls[3..]).await;
    wait_linked(&urls).await;

    // Payments to different nodes, from different wallets, each acknowledged.
    let payments: Vec<Transaction> = (0..8)
        .map(|i| pay(i % 3, (i + 1) % 3, "1", &format!("converge-{i}")))
        .collect();
    for (i, tx) in payments.iter().enumerate() {
        assert_eq!(submit(urls[i % 4], tx).await, 201, "payment {i}");
    }

    // Three nodes mine at the same moment: competing blocks at the same height.
    let (a, b, c) = tokio::join!(mine(urls[0]), mine(urls[1]), mine(urls[2]));
    let competing: Vec<&str> = [&a, &b, &c]
        .iter()
        .map(|m| m["hash"].as_str().unwrap())
        .collect();
    assert!(
        [&a, &b, &c].iter().all(|m| m["block_number"] == 1),
        "{a} {b} {c}"
    );
    // One more block somewhere breaks any tie: the most work is then one chain. It is mined
    // once every node holds a block 1 (announcements are on their way, not yet there, when
    // the three answers come back), so that it is built on one of the competing blocks.
    wait_for("every node to hold a block 1", || async {
        for url in &urls {
            if height(url).await < 1 {
                return None;
            }
        }
        Some(())
    })
    .await;
    let last = mine(urls[3]).await;
    assert_eq!(last["block_number"], 2);

    let tip = wait_same_tip(&urls).await;
    assert_eq!(tip, last["hash"].as_str().unwrap());
    for url in &urls {
        assert_eq!(height(url).await, 2);
    }
    let (_, block_1) = get_json(&format!("{}/blocks/1", urls[0])).await;
    assert!(
        competing.contains(&block_1["hash"].as_str().unwrap()),
        "block 1 is one of the competing blocks"
    );

    // Every acknowledged payment is in the chain or in every pool (orphans come back).
    wait_for(
        "every payment confirmed everywhere or pending everywhere",
        || async {
            for tx in &payments {
                let mut seen = Vec::new();
                for url in &urls {
                    seen.push(tx_status(url, tx).await);
                }
                let agreed =
                    seen.iter().all(|s| s == "confirmed") || seen.iter().all(|s| s == "pending");
                if !agreed {
                    return None;
                }
            }
            Some(())
        },
    )
    .await;

    // And the next block takes whatever is still pending: nothing acknowledged is lost.
    let pending = pool_ids(urls[0]).await.len();
    if pending > 0 {
        mine(urls[0]).await;
        wait_same_tip(&urls).await;
    }
    for tx in &payments {
        for url in &urls {
            assert_eq!(
                tx_status(url, tx).await,
                "confirmed",
                "{} on {url}",
                tx.id()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partitioned_node_reorganizes_to_the_most_work_chain_and_reinjects_its_orphans() {
    let a = quiet_node().start();
    let b = quiet_node().start();
    let c = quiet_node().start();
    let (ua, ub) = (a.url.clone(), b.url.clone());
    register(&ua, &[&ub, &c.url]).await;
    register(&ub, &[&c.url]).await;
    wait_linked(&[&ua, &ub, &c.url]).await;
    mine(&ua).await;
    wait_same_tip(&[&ua, &ub, &c.url]).await;

    // C goes down and A and B forget it (otherwise they would notice it come back and
    // catch it up by themselves); they advance three blocks without it.
    let mut c = c;
    c.kill();
    for node in [&ua, &ub] {
        let (code, body) =
            post_form(&format!("{node}/nodes/remove"), &[("node", c.url.clone())]).await;
        assert_eq!(code, 200, "{body}");
    }
    for _ in 0..3 {
        mine(&ua).await;
    }
    let majority = wait_same_tip(&[&ua, &ub]).await;
    assert_eq!(height(&ub).await, 4);

    // C comes back alone (no --peer) and mines one block of its own with a payment in it.
    let c = c.restart(&["--sync-interval".into(), "0".into()]);
    let uc = c.url.clone();
    assert_eq!(height(&uc).await, 1, "C kept its chain across the restart");
    let orphan = pay(2, 0, "3", "partition-orphan");
    assert_eq!(submit(&uc, &orphan).await, 201);
    let forked = mine(&uc).await;
    assert_eq!(forked["block_number"], 2);
    assert_eq!(tx_status(&uc, &orphan).await, "confirmed");
    // A shorter fork announced to the majority does not move it.
    assert_eq!(tip(&ua).await, majority);

    // A spy among C's peers from now on hears what C announces after the reorg.
    let spy = Spy::default();
    register(&uc, &[&spy_peer(spy.clone()).await]).await;

    // Reconnect: C reorganizes to the chain with the most work.
    register(&uc, &[&ua]).await;
    register(&ua, &[&uc]).await;
    let (elapsed, body) = resolve(&uc).await;
    assert!(elapsed < RESOLVE_BOUND, "resolve took {elapsed:?}");
    assert_eq!(body["message"], "Our chain was replaced", "{body}");
    assert_eq!(body["tip_hash"], majority.as_str());
    assert_eq!(tip(&uc).await, majority);
    // Only what follows the last shared block (block 1) was downloaded: blocks 2 to 4.
    // A and B share one chain; either may be the peer adopted.
    let adopted = body["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["adopted"] == true)
        .unwrap();
    assert!(
        adopted["outcome"]
            .as_str()
            .unwrap()
            .contains("(3 blocks downloaded)"),
        "{body}"
    );
    let (_, block_2) = get_json(&format!("{uc}/blocks/2")).await;
    assert_ne!(
        block_2["hash"], forked["hash"],
        "C's own block 2 was abandoned"
    );

    // Its orphaned payment is still valid: back in C's pool, and on to the others.
    assert_eq!(tx_status(&uc, &orphan).await, "pending");
    wait_for("C to announce its re-injected payment", || async {
        spy.announcers("/transactions/new")
            .contains(&uc)
            .then_some(())
    })
    .await;
    wait_for("the orphan to reach A's pool", || async {
        (tx_status(&ua, &orphan).await == "pending").then_some(())
    })
    .await;
    mine(&ua).await;
    wait_same_tip(&[&ua, &ub, &uc]).await;
    for url in [&ua, &ub, &uc] {
        assert_eq!(tx_status(url, &orphan).await, "confirmed", "on {url}");
    }
}

// ---------------------------------------------------------------------------------------
// Liars: fake peers built from the core rules, then corrupted.

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn test_params() -> NetworkParams {
    NetworkParams::from_json(&genesis_json(1000, 8)).unwrap()
}

/// Mines a chain on `params`' genesis, one block per entry of `payments`.
fn build_chain(params: &NetworkParams, payments: Vec<Vec<Transaction>>) -> Vec<Block> {
    let miner = WALLETS[0].key.address();
    let mut blocks = vec![params.genesis_block()];
    for (i, mut txs) in payments.into_iter().enumerate() {
        let number = i as u64 + 1;
        txs.push(reward_transaction(miner, params, number));
        let parent = blocks.last().unwrap();
        let block = Block::new(number, now(), params.difficulty, parent.hash(), txs, 0);
        let nonce = block
            .header()
            .pow_template()
            .search(block.difficulty(), 0, 1, u64::MAX)
            .unwrap();
        blocks.push(block.with_nonce(nonce));
    }
    blocks
}

/// A payment whose value was changed after signing: well formed, signature wrong.
fn tampered(from: usize, to: usize, nonce: &str) -> Transaction {
    let signed = pay(from, to, "1", nonce);
    let json = signed.to_json();
    Transaction::new(
        Sender::Wallet(WALLETS[from].key.address().clone()),
        WALLETS[to].key.address().clone(),
        "2",
        Some(nonce),
        &json.signature,
    )
    .unwrap()
}

/// `n` blocks of one valid payment each, with `replace` swapping block `k`'s payment.
fn payments(n: usize, tag: &str, replace: Option<(usize, Transaction)>) -> Vec<Vec<Transaction>> {
    (1..=n)
        .map(|k| match &replace {
            Some((at, tx)) if *at == k => vec![tx.clone()],
            _ => vec![pay(k % 2, 2, "1", &format!("{tag}-{k}"))],
        })
        .collect()
}

/// What a fake peer does.
#[derive(Clone)]
enum Lie {
    /// Claims `length` blocks and `work`, serves `blocks` (ignoring `from`).
    Claims {
        blocks: Arc<Vec<Block>>,
        length: u64,
        work: String,
    },
    /// Serves `blocks` honestly, paged; the chain may still be invalid.
    Serves(Arc<Vec<Block>>),
    /// Claims more work, then answers `/chain` with broken JSON.
    Malformed,
    /// Answers `/status`, then never answers `/chain`.
    StallsOnChain,
}

const HUGE_BODY: usize = 100 << 20;
const HUGE_CHUNK: usize = 64 << 10;

fn chain_json(blocks: &[Block], length: u64, from: u64, work: &str) -> Value {
    json!({ "chain": blocks, "length": length, "from": from, "work": work })
}

fn chain_work(blocks: &[Block]) -> String {
    blockchain_core::chain::chain_work(blocks).0.to_string()
}

#[derive(serde::Deserialize)]
struct PageQuery {
    from: Option<u64>,
    limit: Option<u64>,
}

async fn fake_status(State(lie): State<Lie>) -> Response {
    let (height, work) = match &lie {
        Lie::Claims { length, work, .. } => (*length, work.clone()),
        Lie::Serves(blocks) => (blocks.len() as u64 - 1, chain_work(blocks)),
        _ => (50, (50u128 << 8).to_string()),
    };
    axum::Json(json!({ "height": height, "work": work, "genesis_hash": "00" })).into_response()
}

async fn fake_chain(State(lie): State<Lie>, Query(page): Query<PageQuery>) -> Response {
    match lie {
        Lie::Claims {
            blocks,
            length,
            work,
        } => axum::Json(chain_json(&blocks, length, 0, &work)).into_response(),
        Lie::Serves(blocks) => {
            let from = page.from.unwrap_or(0).min(blocks.len() as u64);
            let to = (from + page.limit.unwrap_or(u64::MAX - from)).min(blocks.len() as u64);
            let slice = &blocks[from as usize..to as usize];
            axum::Json(chain_json(
                slice,
                blocks.len() as u64,
                from,
                &chain_work(&blocks),
            ))
            .into_response()
        }
        Lie::Malformed => (
            [("content-type", "application/json")],
            "{\"chain\": [{\"block_number\": 1, \"timest",
        )
            .into_response(),
        Lie::StallsOnChain => std::future::pending().await,
    }
}

async fn fake_register() -> Response {
    (
        axum::http::StatusCode::CREATED,
        axum::Json(json!({ "message": "ok" })),
    )
        .into_response()
}

/// Starts a fake peer on an ephemeral loopback port; returns its URL.
async fn fake_peer(lie: Lie) -> String {
    let app = Router::new()
        .route("/status", get(fake_status))
        .route("/chain", get(fake_chain))
        .route("/nodes/register", post(fake_register))
        .with_state(lie);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A peer that claims more work and answers `/chain` with a 100 MB body, streamed
/// without a length; counts what it wrote and says when the node hung up.
async fn huge_peer(sent: Arc<AtomicUsize>, hung_up: Arc<AtomicBool>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (sent, hung_up) = (Arc::clone(&sent), Arc::clone(&hung_up));
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&request)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                if !line.starts_with("GET /chain") {
                    let body =
                        json!({ "height": 50, "work": (50u128 << 8).to_string() }).to_string();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"chain\":[";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; HUGE_CHUNK];
                while sent.load(Ordering::SeqCst) < HUGE_BODY {
                    if socket.write_all(&chunk).await.is_err() {
                        hung_up.store(true, Ordering::SeqCst);
                        return;
                    }
                    sent.fetch_add(chunk.len(), Ordering::SeqCst);
                }
            });
        }
    });
    url
}

/// A peer that accepts connections and never says a word.
async fn silent_peer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    url
}

/// The chains the liars serve, each checked here to fail for the intended reason.
struct Chains {
    short: Vec<Block>,
    other_genesis: Vec<Block>,
    bad_signature: Vec<Block>,
    overspend: Vec<Block>,
    honest: Vec<Block>,
}

fn chains() -> Chains {
    let params = test_params();
    let short = build_chain(&params, payments(1, "short", None));
    validate_chain(&short, &params, now()).unwrap();

    let other = NetworkParams {
        network: "other".into(),
        ..params.clone()
    };
    let other_genesis = build_chain(&other, payments(6, "other", None));
    validate_chain(&other_genesis, &other, now()).unwrap();
    assert!(matches!(
        validate_chain(&other_genesis, &params, now()),
        Err(ChainError::GenesisMismatch { .. })
    ));

    let bad_signature = build_chain(
        &params,
        payments(6, "badsig", Some((4, tampered(0, 1, "badsig-4")))),
    );
    let error = validate_chain(&bad_signature, &params, now()).unwrap_err();
    assert!(
        matches!(
            error,
            ChainError::Block {
                number: 4,
                error: BlockError::Transaction {
                    error: TxError::BadSignature,
                    ..
                }
            }
        ),
        "{error:?}"
    );

    let overspend = build_chain(
        &params,
        payments(6, "overspend", Some((5, pay(1, 0, "5000", "overspend-5")))),
    );
    let error = validate_chain(&overspend, &params, now()).unwrap_err();
    assert!(
        matches!(
            error,
            ChainError::Block {
                number: 5,
                error: BlockError::Ledger {
                    error: LedgerError::InsufficientFunds { .. },
                    ..
                }
            }
        ),
        "{error:?}"
    );

    let honest = build_chain(&params, payments(6, "honest", None));
    let summary = validate_chain(&honest, &params, now()).unwrap();
    assert_eq!(summary.ledger.tip().number, 6);
    Chains {
        short,
        other_genesis,
        bad_signature,
        overspend,
        honest,
    }
}

/// A node with a few blocks of its own.
async fn node_with_blocks(blocks: usize) -> NodeProcess {
    let node = quiet_node().start();
    for _ in 0..blocks {
        mine(&node.url).await;
    }
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn liars_change_nothing_and_never_stall_the_node() {
    let chains = tokio::task::spawn_blocking(chains).await.unwrap();
    let huge_sent = Arc::new(AtomicUsize::new(0));
    let huge_dropped = Arc::new(AtomicBool::new(false));
    let mut liars: Vec<(&str, String, Duration)> = Vec::new();
    // Each liar with the bound its resolve must meet: only the silent one may use the
    // request timeout.
    let quick = Duration::from_secs(8);
    liars.push((
        "claims a huge length and work with a short chain",
        fake_peer(Lie::Claims {
            blocks: Arc::new(chains.short.clone()),
            length: 999_999,
            work: u128::MAX.to_string(),
        })
        .await,
        quick,
    ));
    liars.push((
        "serves malformed JSON",
        fake_peer(Lie::Malformed).await,
        quick,
    ));
    liars.push((
        "serves a 100 MB body",
        huge_peer(Arc::clone(&huge_sent), Arc::clone(&huge_dropped)).await,
        quick,
    ));
    liars.push((
        "has another genesis",
        fake_peer(Lie::Serves(Arc::new(chains.other_genesis.clone()))).await,
        quick,
    ));
    liars.push((
        "has one bad signature deep inside",
        fake_peer(Lie::Serves(Arc::new(chains.bad_signature.clone()))).await,
        quick,
    ));
    liars.push((
        "has an overspend",
        fake_peer(Lie::Serves(Arc::new(chains.overspend.clone()))).await,
        quick,
    ));
    liars.push(("never answers", silent_peer().await, RESOLVE_BOUND));

    for (what, liar, bound) in &liars {
        let node = node_with_blocks(2).await;
        let before = tip(&node.url).await;
        register(&node.url, &[liar]).await;
        let (elapsed, body) = resolve(&node.url).await;
        assert!(
            elapsed < *bound,
            "a peer that {what}: resolve took {elapsed:?}"
        );
        assert_eq!(
            body["message"], "Our chain is authoritative",
            "a peer that {what}: {body}"
        );
        let outcome = &body["peers"][0];
        assert_eq!(outcome["peer"], liar.as_str());
        assert_eq!(outcome["adopted"], false, "a peer that {what}: {outcome}");
        assert_eq!(
            tip(&node.url).await,
            before,
            "a peer that {what} changed our chain"
        );
        assert_eq!(height(&node.url).await, 2, "and the node keeps serving");
        eprintln!("a peer that {what}: {} in {elapsed:?}", outcome["outcome"]);
    }
    assert!(
        huge_sent.load(Ordering::SeqCst) > 0,
        "the node asked for the 100 MB body"
    );
    wait_for("the node to hang up on the 100 MB body", || async {
        huge_dropped.load(Ordering::SeqCst).then_some(())
    })
    .await;
    assert!(
        huge_sent.load(Ordering::SeqCst) < HUGE_BODY,
        "the node read the whole 100 MB body"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_honest_peer_is_adopted_among_liars_within_the_bound() {
    let chains = tokio::task::spawn_blocking(chains).await.unwrap();
    let node = node_with_blocks(2).await;
    let honest = fake_peer(Lie::Serves(Arc::new(chains.honest.clone()))).await;
    let mut all = vec![
        silent_peer().await,
        silent_peer().await,
        fake_peer(Lie::StallsOnChain).await,
        fake_peer(Lie::StallsOnChain).await,
        fake_peer(Lie::Claims {
            blocks: Arc::new(chains.short.clone()),
            length: 999_999,
            work: u128::MAX.to_string(),
        })
        .await,
        fake_peer(Lie::Malformed).await,
        fake_peer(Lie::Serves(Arc::new(chains.other_genesis))).await,
        fake_peer(Lie::Serves(Arc::new(chains.bad_signature))).await,
        fake_peer(Lie::Serves(Arc::new(chains.overspend))).await,
        honest.clone(),
    ];
    all.sort();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    register(&node.url, &refs).await;

    let (elapsed, body) = resolve(&node.url).await;
    assert!(elapsed < RESOLVE_BOUND, "resolve took {elapsed:?}");
    let outcomes: BTreeMap<String, (bool, String)> = body["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["peer"].as_str().unwrap().to_owned(),
                (o["adopted"].as_bool().unwrap(), o["outcome"].to_string()),
            )
        })
        .collect();
    assert_eq!(outcomes.len(), all.len(), "{body}");
    for (peer, (adopted, outcome)) in &outcomes {
        assert_eq!(*adopted, *peer == honest, "{peer}: {outcome}");
    }
    let honest_tip = chains.honest.last().unwrap().hash().to_string();
    assert_eq!(body["tip_hash"], honest_tip.as_str(), "{body}");
    assert_eq!(tip(&node.url).await, honest_tip);
    assert_eq!(height(&node.url).await, 6);
}

// ---------------------------------------------------------------------------------------
// Propagation.

/// Counts what peers announce to it, by path and announcer.
#[derive(Clone, Default)]
struct Spy {
    heard: Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl Spy {
    fn count(&self, path: &str) -> usize {
        self.heard
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }
    fn announcers(&self, path: &str) -> Vec<String> {
        let mut from: Vec<String> = self
            .heard
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, a)| a.clone())
            .collect();
        from.sort();
        from
    }
}

async fn spy_heard(State(spy): State<Spy>, uri: axum::http::Uri, headers: HeaderMap) -> Response {
    let from = headers
        .get("x-peer")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    spy.heard
        .lock()
        .unwrap()
        .push((uri.path().to_owned(), from));
    (
        axum::http::StatusCode::ACCEPTED,
        axum::Json(json!({ "message": "heard" })),
    )
        .into_response()
}

async fn spy_status() -> Response {
    axum::Json(json!({ "height": 0, "work": "0" })).into_response()
}

async fn spy_peer(spy: Spy) -> String {
    let app = Router::new()
        .route("/transactions/new", post(spy_heard))
        .route("/blocks", post(spy_heard))
        .route("/nodes/register", post(fake_register))
        .route("/status", get(spy_status))
        .with_state(spy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transactions_and_blocks_propagate_once_without_resolve() {
    let a = quiet_node().start();
    let b = quiet_node().arg("--peer").arg(&a.url).start();
    wait_linked(&[&a.url, &b.url]).await;
    let spy = Spy::default();
    let spy_url = spy_peer(spy.clone()).await;
    register(&a.url, &[&spy_url]).await;
    register(&b.url, &[&spy_url]).await;

    // A transaction submitted to A reaches B's pool by itself.
    let tx = pay(0, 1, "2", "propagate-1");
    assert_eq!(submit(&a.url, &tx).await, 201);
    wait_for("the payment in B's pool", || async {
        pool_ids(&b.url)
            .await
            .contains(&tx.id().to_string())
            .then_some(())
    })
    .await;

    // A block mined on A reaches B, which drops the payment from its pool.
    let mined = mine(&a.url).await;
    wait_for("B on A's tip", || async {
        (tip(&b.url).await == mined["hash"].as_str().unwrap()).then_some(())
    })
    .await;
    wait_for("B's pool emptied by the block", || async {
        pool_ids(&b.url).await.is_empty().then_some(())
    })
    .await;
    assert_eq!(tx_status(&b.url, &tx).await, "confirmed");

    // Each node told the spy once about each: the first hop, then the second, and no echo.
    wait_for("both announcements of each to reach the spy", || async {
        (spy.count("/transactions/new") >= 2 && spy.count("/blocks") >= 2).then_some(())
    })
    .await;
    let quiet_until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < quiet_until {
        assert_eq!(
            spy.count("/transactions/new"),
            2,
            "a transaction echoed: {:?}",
            spy.heard.lock().unwrap()
        );
        assert_eq!(
            spy.count("/blocks"),
            2,
            "a block echoed: {:?}",
            spy.heard.lock().unwrap()
        );
        assert!(pool_ids(&a.url).await.is_empty() && pool_ids(&b.url).await.is_empty());
        assert_eq!(height(&a.url).await, 1);
        assert_eq!(height(&b.url).await, 1);
        tokio::time::sleep(POLL).await;
    }
    let mut both = vec![a.url.clone(), b.url.clone()];
    both.sort();
    assert_eq!(spy.announcers("/transactions/new"), both);
    assert_eq!(spy.announcers("/blocks"), both);
}

/// The tip every node should settle on among blocks mined at once: the highest (a miner
/// that heard another's block before finding its own builds on it: more work), and among
/// equals the lowest hash. Returns its hash and height.
fn best(mined: &[&Value]) -> (String, u64) {
    mined
        .iter()
        .map(|m| {
            (
                m["block_number"].as_u64().unwrap(),
                std::cmp::Reverse(m["hash"].as_str().unwrap().to_owned()),
            )
        })
        .max()
        .map(|(number, std::cmp::Reverse(hash))| (hash, number))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_blocks_mined_at_once_settle_on_every_node_without_another_block() {
    let nodes: Vec<NodeProcess> = (0..3).map(|_| quiet_node().start()).collect();
    let urls: Vec<&str> = nodes.iter().map(|n| n.url.as_str()).collect();
    // A line: the middle node hears both miners, each miner only the middle one.
    register(urls[1], &[urls[0], urls[2]]).await;
    wait_for("the line to link up", || async {
        (peers(urls[0]).await.len() == 1 && peers(urls[2]).await.len() == 1).then_some(())
    })
    .await;

    let mut ties = 0;
    for _ in 0..3 {
        let (a, c) = tokio::join!(mine(urls[0]), mine(urls[2]));
        if a["block_number"] == c["block_number"] {
            ties += 1;
        }
        let (winner, top) = best(&[&a, &c]);
        let settled = wait_same_tip(&urls).await;
        assert_eq!(settled, winner, "the lower hash wins a tie: {a} {c}");
        for url in &urls {
            assert_eq!(height(url).await, top, "no further block was needed");
        }
    }
    assert!(ties > 0, "no round produced two blocks at the same height");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sparse_network_settles_after_a_burst_of_simultaneous_mining() {
    let nodes: Vec<NodeProcess> = (0..10).map(|_| quiet_node().start()).collect();
    let urls: Vec<&str> = nodes.iter().map(|n| n.url.as_str()).collect();
    // Each node links to two earlier ones, picked by a fixed pseudo-random sequence.
    let mut state: u64 = 7;
    let mut next = |below: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % below
    };
    for i in 1..urls.len() {
        let mut earlier = vec![urls[next(i)]];
        let second = urls[next(i)];
        if !earlier.contains(&second) {
            earlier.push(second);
        }
        register(urls[i], &earlier).await;
    }
    for round in 1..=2 {
        // Four miners at the same moment, each its own request in flight.
        let mut miners = tokio::task::JoinSet::new();
        for i in [0, 3, 6, 9] {
            let url = urls[i].to_owned();
            miners.spawn(async move { mine(&url).await });
        }
        let mined = miners.join_all().await;
        let refs: Vec<&Value> = mined.iter().collect();
        let (winner, top) = best(&refs);
        assert_eq!(
            wait_same_tip(&urls).await,
            winner,
            "round {round}: {mined:?}"
        );
        for url in &urls {
            assert_eq!(height(url).await, top, "no further block was needed");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_that_stops_answering_is_marked_unreachable_and_healthy_again_when_back() {
    let a = quiet_node().start();
    let b = quiet_node().start();
    register(&a.url, &[&b.url]).await;
    let health = |node: &str| {
        let node = node.to_owned();
        async move {
            let (_, list) = get_json(&format!("{node}/nodes/get")).await;
            list["peers"][0].clone()
        }
    };
    wait_for("b healthy", || async {
        (health(&a.url).await["height"] == 0).then_some(())
    })
    .await;

    // b goes away: a's next contact fails and marks it, and it stays listed.
    let b_url = b.url.clone();
    let b = b.restart_later();
    mine(&a.url).await;
    let down = wait_for("b marked unreachable", || async {
        let h = health(&a.url).await;
        (h["reachable"] == false).then_some(h)
    })
    .await;
    assert_eq!(down["url"], b_url.as_str(), "never dropped silently");
    assert!(down["failures"].as_u64().unwrap() >= 1, "{down}");
    assert!(
        down["last_error"].as_str().unwrap().contains("unreachable"),
        "{down}"
    );

    // Back on the same address: a notices by itself (its retry), and they catch up.
    let b = b.start();
    let up = wait_for("b healthy again", || async {
        let h = health(&a.url).await;
        (h["reachable"] == true).then_some(h)
    })
    .await;
    assert!(up["rtt_ms"].is_number(), "{up}");
    wait_same_tip(&[&a.url, &b.url]).await;
}
