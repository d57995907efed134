//! A classroom on a LAN (issue #22): hosts are network namespaces on a bridge (see
//! `lan`). A teacher's node pays students from its faucet, once per wallet and per
//! machine; nodes started with `--discover` find each other over mDNS, and a node of
//! another network is left out; a student's wallet app pays through the teacher's node.
//!
//! Needs root; elsewhere each test prints why it skips. The discovery figure is printed:
//! `cargo nextest run -p blockchain_node --test classroom --no-capture` (or run
//! `cargo run -p blockchain_bench --bin discovery_bench`).

mod lan;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use lan::Lan;
use serde_json::Value;

fn node_binary() -> std::path::PathBuf {
    env!("CARGO_BIN_EXE_blockchain_node").into()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap()
}

async fn get(url: &str) -> Value {
    let response = http().get(url).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

fn skip() -> bool {
    match lan::unavailable() {
        Some(why) => {
            println!("skipped: {why}");
            true
        }
        None => false,
    }
}

/// The peers `url`'s node lists, with how it found each.
async fn peers_of(url: &str) -> Vec<(String, String)> {
    let answer = get(&format!("{url}/nodes/get")).await;
    answer["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["url"].as_str().unwrap().to_owned(),
                p["found"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn nodes_with_discover_find_each_other_and_leave_another_network_out() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut lan = Lan::new(4);
    let mut urls = Vec::new();
    for i in 1..=4 {
        let public = format!("http://{}:5000", lan.addr(i));
        // Host 4 runs another network: another difficulty, another genesis hash.
        let difficulty = if i == 4 { "9" } else { "8" };
        let args: Vec<String> = [
            "--host",
            &lan.addr(i),
            "--port",
            "5000",
            "--public-url",
            &public,
            "--discover",
            "--difficulty",
            difficulty,
            "--mining-threads",
            "1",
            "--data-dir",
            dir.path().join(format!("node{i}")).to_str().unwrap(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let log = dir.path().join(format!("node{i}.log"));
        let url = lan.serve(i, &node_binary(), &args, &log);
        assert_eq!(url, public);
        urls.push(url);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);
    loop {
        let mut complete = true;
        for (i, url) in urls[..3].iter().enumerate() {
            let peers = peers_of(url).await;
            let others = urls[..3].iter().enumerate().filter(|(j, _)| *j != i);
            complete &= others
                .clone()
                .all(|(_, other)| peers.iter().any(|(p, _)| p == other));
        }
        if complete {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the three nodes did not find each other in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    println!(
        "discovery: three nodes list each other {:.2} s after the last started",
        took.as_secs_f64()
    );
    // Nobody registered anybody: each peer was discovered, or registered itself after
    // discovering the other.
    for url in &urls[..3] {
        for (peer, found) in peers_of(url).await {
            assert!(
                found == "discovered" || found == "itself",
                "{url} lists {peer} as {found}"
            );
        }
    }
    // The Configure page says how each peer was found.
    let page = http()
        .get(format!("{}/configure", urls[0]))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("discovered on the LAN") || page.contains("registered itself"),
        "{page}"
    );
    // The other network's node was heard, and left out, both ways.
    let log = dir.path().join("node1.log");
    let other = &urls[3];
    let heard = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains(&format!("another network's node: left alone peer={other}"))
    {
        assert!(
            Instant::now() < heard,
            "node 1 never heard of node 4's announcement:\n{}",
            std::fs::read_to_string(&log).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for url in &urls[..3] {
        assert!(
            !peers_of(url).await.iter().any(|(p, _)| p == other),
            "{url} registered another network's node"
        );
    }
    assert_eq!(
        peers_of(other).await,
        vec![],
        "node 4 registered another network's nodes"
    );
}

#[tokio::test]
async fn the_faucet_pays_each_student_once_and_students_pay_through_the_teachers_node() {
    if skip() {
        return;
    }
    let client = client_binary();
    let dir = tempfile::tempdir().unwrap();
    let mut lan = Lan::new(3);
    let teacher = format!("http://{}:5000", lan.addr(1));
    let args: Vec<String> = [
        "--host",
        "0.0.0.0",
        "--port",
        "5000",
        "--public-url",
        &teacher,
        "--difficulty",
        "8",
        "--mining-threads",
        "1",
        "--faucet-amount",
        "2",
        "--data-dir",
        dir.path().join("teacher").to_str().unwrap(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    lan.serve(1, &node_binary(), &args, &dir.path().join("teacher.log"));
    let node_wallet = get(&format!("{teacher}/settings")).await["node_wallet"]
        .as_str()
        .unwrap()
        .to_owned();
    // The teacher fills the faucet from the teacher's own machine.
    let mine = |blocks: &str| {
        lan.run(
            1,
            &client,
            &[
                "mine",
                "--node",
                "http://127.0.0.1:5000",
                "--to",
                &node_wallet,
                "--blocks",
                blocks,
            ],
        );
    };
    mine("4");

    // Each student makes a wallet on their own machine (hosts 2 and 3).
    let wallet = |host: usize| -> (String, std::path::PathBuf) {
        let file = dir.path().join(format!("wallet{host}-{}.json", rand_tag()));
        lan.run(
            host,
            &client,
            &["wallet", "new", "--out", file.to_str().unwrap()],
        );
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        (json["public_key"].as_str().unwrap().to_owned(), file)
    };
    let (ada, ada_key) = wallet(2);
    let (ada_second, _) = wallet(2);
    let (bob, _) = wallet(3);
    let faucet = |host: usize, address: &str| {
        lan.output(
            host,
            &client,
            &["faucet", "--node", &teacher, "--address", address],
        )
    };
    let paid = faucet(2, &ada);
    assert!(
        paid.status.success(),
        "{}",
        String::from_utf8_lossy(&paid.stderr)
    );
    let paid: Value = serde_json::from_slice(&paid.stdout).unwrap();
    assert_eq!(paid["amount"], "2");
    assert_eq!(paid["sender_address"], node_wallet.as_str());
    // The same wallet again, and another wallet from the same machine: both wait.
    for (address, what) in [(&ada, "this address"), (&ada_second, "this client")] {
        let refused = faucet(2, address);
        let error = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success());
        assert!(error.contains("429") && error.contains(what), "{error}");
    }
    // Another student's machine is another client.
    assert!(faucet(3, &bob).status.success());

    mine("1");
    let balance = |address: &str| -> Value {
        let out = lan.run(
            2,
            &client,
            &["balance", "--node", &teacher, "--address", address],
        );
        serde_json::from_str(&out).unwrap()
    };
    assert_eq!(balance(&ada)["balance"], "2");
    // Ada pays Bob through the teacher's node; the teacher's next block confirms it.
    lan.run(
        2,
        &client,
        &[
            "send",
            "--node",
            &teacher,
            "--private-key-file",
            ada_key.to_str().unwrap(),
            "--recipient",
            &bob,
            "--amount",
            "0.5",
        ],
    );
    mine("1");
    assert_eq!(balance(&bob)["balance"], "2.5");
    assert_eq!(balance(&ada)["balance"], "1.5");
}

/// The wallet app's binary, beside the node's (built on demand when this package's tests
/// run alone).
fn client_binary() -> PathBuf {
    let node = PathBuf::from(env!("CARGO_BIN_EXE_blockchain_node"));
    let client = node.with_file_name("blockchain_client");
    if !client.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                "blockchain_client",
                "--bin",
                "blockchain_client",
            ])
            .env("CARGO_TARGET_DIR", node.parent().unwrap().parent().unwrap())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building blockchain_client");
    }
    client
}

fn rand_tag() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}
