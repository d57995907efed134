//! What the dashboards and a newcomer rely on, end to end against the real binary: coins
//! from `/mine`'s reward address, run-time settings that survive a restart, the live
//! event stream, and peers with their health.

mod common;

use std::time::{Duration, Instant};

use blockchain_core::{PrivateKey, Transaction};
use common::{NodeBuilder, WALLETS, client, form_of, get_json, post_form};
use serde_json::{Value, json};

fn new_address() -> String {
    PrivateKey::generate(&mut rand::rng(), 1024)
        .unwrap()
        .address()
        .as_hex()
        .to_owned()
}

async fn post_json(url: &str, body: &Value) -> (u16, Value) {
    let response = client().post(url).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn balance(node: &common::NodeProcess, address: &str) -> String {
    let (_, body) = get_json(&format!("{}/balance?address={address}", node.url)).await;
    body["balance"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn mine_pays_the_reward_address_given_in_any_form_and_refuses_a_bad_one() {
    let node = NodeBuilder::new().start();
    let (carol, dave, erin) = (new_address(), new_address(), new_address());

    // Malformed: a 400 naming the field, and nothing mined.
    for bad in ["zz", "abcd", "30"] {
        let (status, body) = post_form(
            &format!("{}/mine", node.url),
            &[("reward_address", bad.to_owned())],
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("reward_address"),
            "{body}"
        );
    }
    let (status, body) = get_json(&format!("{}/mine?reward_address=xyz", node.url)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        get_json(&format!("{}/status", node.url)).await.1["height"],
        0
    );

    // Query (GET, as a link would), form and JSON.
    let (status, body) = get_json(&format!("{}/mine?reward_address={carol}", node.url)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reward"]["address"], carol.as_str());
    let (status, _) = post_form(
        &format!("{}/mine", node.url),
        &[("reward_address", dave.clone())],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post_json(
        &format!("{}/mine", node.url),
        &json!({ "reward_address": erin }),
    )
    .await;
    assert_eq!(status, 200);
    for address in [&carol, &dave, &erin] {
        assert_eq!(balance(&node, address).await, "1");
    }
    // The explorer lists each reward in its address's history (from the address index).
    let page = common::get_text(&format!("{}/explorer/address/{dave}", node.url)).await;
    assert!(
        page.contains("/explorer/block/2"),
        "dave's reward is in block 2"
    );
    assert!(
        !page.contains("/explorer/block/1\""),
        "carol's block is not dave's"
    );

    // Without one, the reward goes to the node's own wallet, as before.
    let (status, body) = post_form(&format!("{}/mine", node.url), &[]).await;
    assert_eq!(status, 200, "{body}");
    let wallet = get_json(&format!("{}/status", node.url)).await.1["wallet_address"].clone();
    assert_eq!(body["reward"]["address"], wallet);

    // Coins from a reward are spendable at once.
    let carol_key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
    let carol_address = carol_key.address().as_hex().to_owned();
    get_json(&format!("{}/mine?reward_address={carol_address}", node.url)).await;
    let pay = Transaction::sign(&carol_key, WALLETS[0].key.address(), "0.5", Some("n")).unwrap();
    let (status, body) = post_form(&format!("{}/transactions/new", node.url), &form_of(&pay)).await;
    assert_eq!(status, 201, "{body}");

    // An address's history, from the index, in /chain's shape: its reward, then its payment.
    get_json(&format!("{}/mine", node.url)).await;
    let (status, history) =
        get_json(&format!("{}/history?address={carol_address}", node.url)).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["length"], 2);
    let blocks = history["chain"].as_array().unwrap();
    assert_eq!(blocks.len(), 2, "{history}");
    assert_eq!(
        blocks[0]["transactions"][0]["recipient_address"],
        carol_address.as_str()
    );
    assert_eq!(blocks[1]["transactions"][0]["value"], "0.5");
    assert!(blocks[0]["block_number"].as_u64() < blocks[1]["block_number"].as_u64());
    let (status, one) = get_json(&format!(
        "{}/history?address={carol_address}&limit=1",
        node.url
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        one["chain"][0]["transactions"][0]["value"], "0.5",
        "the newest"
    );
    for query in [
        "address=zz",
        "",
        &format!("address={carol_address}&limit=0"),
    ] {
        let (status, body) = get_json(&format!("{}/history?{query}", node.url)).await;
        assert_eq!(status, 400, "{query}: {body}");
    }
}

#[tokio::test]
async fn settings_take_effect_at_once_survive_a_restart_and_name_what_is_out_of_range() {
    let node = NodeBuilder::new().start();
    let url = format!("{}/settings", node.url);
    let (status, settings) = get_json(&url).await;
    assert_eq!(status, 200);
    assert_eq!(settings["background_mining"], false);
    assert_eq!(settings["mining_difficulty"], 8, "the network's");
    assert_eq!(settings["reward_address"], Value::Null);

    for (body, field) in [
        (json!({"mining_threads": 0}), "mining_threads"),
        (json!({"mining_threads": 10_000}), "mining_threads"),
        (json!({"mining_difficulty": 7}), "mining_difficulty"),
        (json!({"mining_difficulty": 41}), "mining_difficulty"),
        (json!({"block_interval": -1}), "block_interval"),
        (json!({"block_interval": "soon"}), "block_interval"),
        (json!({"background_mining": "perhaps"}), "background_mining"),
        (json!({"reward_address": "12"}), "reward_address"),
        (json!({"difficulty": 9}), "body"),
    ] {
        let (status, answer) = post_json(&url, &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(field),
            "the message names the field: {answer}"
        );
    }
    assert_eq!(get_json(&url).await.1, settings, "nothing changed");

    // A harder block and another reward address, for the next block already.
    let carol = new_address();
    let (status, changed) = post_json(
        &url,
        &json!({"mining_difficulty": 10, "reward_address": carol, "block_interval": 0.25}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let (_, block) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(block["difficulty"], 10);
    assert_eq!(block["reward"]["address"], carol.as_str());

    // A form works too (as a plain HTML form would send it).
    let (status, _) = post_form(&url, &[("background_mining", "true".to_owned())]).await;
    assert_eq!(status, 200);

    let node = node.restart(&[]);
    let (_, kept) = get_json(&format!("{}/settings", node.url)).await;
    assert_eq!(kept["mining_difficulty"], 10);
    assert_eq!(kept["reward_address"], carol.as_str());
    assert_eq!(kept["block_interval"], 0.25);
    assert_eq!(kept["background_mining"], true);

    // Background mining switched on at run time mines what arrives, and stops when
    // switched off.
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let tx = Transaction::sign(alice, bob.address(), "2", Some("bg")).unwrap();
    let (status, _) = post_form(&format!("{}/transactions/new", node.url), &form_of(&tx)).await;
    assert_eq!(status, 201);
    wait_until(Duration::from_secs(30), || async {
        get_json(&format!("{}/transactions/{}", node.url, tx.id()))
            .await
            .1["status"]
            == "confirmed"
    })
    .await;

    // Flags given on the command line win over what was stored, and are stored.
    let node = node.restart(&["--mining-difficulty".to_owned(), "9".to_owned()]);
    assert_eq!(
        get_json(&format!("{}/settings", node.url)).await.1["mining_difficulty"],
        9
    );
}

async fn wait_until<F, Fut>(limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "condition not met in {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads server-sent events from a streaming response.
struct EventReader {
    response: reqwest::Response,
    buffer: String,
}

impl EventReader {
    async fn open(url: &str) -> Self {
        let response = client().get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        EventReader {
            response,
            buffer: String::new(),
        }
    }

    /// The next event named `name` (others are skipped), within 10 seconds.
    async fn next(&mut self, name: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut event = "message";
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        event = v;
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if event == name {
                    return serde_json::from_str(&data).unwrap();
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {name} event within 10 s"))
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[tokio::test]
async fn the_event_stream_tells_of_the_pool_blocks_settings_and_peers_as_they_happen() {
    let node = NodeBuilder::new().start();
    let mut events = EventReader::open(&format!("{}/events", node.url)).await;
    // A (re)connection starts with the whole picture.
    let chain = events.next("chain").await;
    assert_eq!(chain["blocks"].as_array().unwrap().len(), 1, "{chain}");
    assert_eq!(events.next("pending").await["count"], 0);
    assert_eq!(events.next("status").await["height"], 0);

    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let tx = Transaction::sign(alice, bob.address(), "3", Some("sse")).unwrap();
    post_form(&format!("{}/transactions/new", node.url), &form_of(&tx)).await;
    let pending = events.next("pending").await;
    assert_eq!(pending["count"], 1);
    assert_eq!(pending["transactions"][0]["id"], tx.id().to_string());

    let mined_at = std::time::SystemTime::now();
    get_json(&format!("{}/mine", node.url)).await;
    let block = events.next("block").await;
    assert_eq!(block["block_number"], 1);
    assert_eq!(block["origin"], "mined");
    assert_eq!(block["payments"], 1);
    assert_eq!(block["rows"][0]["id"], tx.id().to_string());
    let committed = block["committed_at_ms"].as_u64().unwrap();
    let started = mined_at
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(committed >= started.saturating_sub(1000), "{block}");
    assert_eq!(events.next("pending").await["count"], 0);
    let status = events.next("status").await;
    assert_eq!(status["height"], 1);
    assert!(
        status["last_search"]["tries"].as_u64().unwrap() > 0,
        "{status}"
    );

    post_json(
        &format!("{}/settings", node.url),
        &json!({"mining_difficulty": 12}),
    )
    .await;
    assert_eq!(events.next("status").await["mining_difficulty"], 12);

    // A peer is registered only if it answers as a node of the same network.
    let peer = NodeBuilder::new().start();
    post_form(
        &format!("{}/nodes/register", node.url),
        &[("nodes", peer.url.clone())],
    )
    .await;
    let peers = events.next("peers").await;
    assert_eq!(peers["peers"][0]["url"], peer.url.as_str());
}

#[tokio::test]
async fn peers_show_their_health_and_can_be_removed() {
    let a = NodeBuilder::new().start();
    let mut b = NodeBuilder::new().start();
    let (status, _) = post_form(
        &format!("{}/nodes/register", a.url),
        &[("nodes", b.url.clone())],
    )
    .await;
    assert_eq!(status, 201);
    // Registration asks the new peer for its status.
    wait_until(Duration::from_secs(10), || async {
        let (_, list) = get_json(&format!("{}/nodes/get", a.url)).await;
        list["peers"][0]["height"] == 0 && list["peers"][0]["rtt_ms"].is_number()
    })
    .await;
    let (_, list) = get_json(&format!("{}/nodes/get", a.url)).await;
    assert_eq!(list["nodes"], json!([b.url]), "the original's field stays");
    assert_eq!(list["peers"][0]["reachable"], true);
    assert!(list["peers"][0]["last_contact"].is_number(), "{list}");

    // A peer that stops answering is marked unreachable, with the reason of its last sync.
    b.kill();
    get_json(&format!("{}/nodes/resolve", a.url)).await;
    let (_, list) = get_json(&format!("{}/nodes/get", a.url)).await;
    assert_eq!(list["peers"][0]["reachable"], false, "{list}");
    assert!(
        list["peers"][0]["last_sync"]
            .as_str()
            .unwrap()
            .contains("unreachable"),
        "{list}"
    );

    let remove = format!("{}/nodes/remove", a.url);
    let (status, body) = post_form(&remove, &[("node", "not a url at all".to_owned())]).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_form(&remove, &[("node", "127.0.0.1:9".to_owned())]).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = post_form(&remove, &[("node", b.url.clone())]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total_nodes"], json!([]));
    let a = a.restart(&[]);
    let (_, list) = get_json(&format!("{}/nodes/get", a.url)).await;
    assert_eq!(list["nodes"], json!([]), "removal is durable");
}

#[tokio::test]
async fn pages_name_an_icon_and_the_icon_is_served() {
    let node = NodeBuilder::new().start();
    let response = client()
        .get(format!("{}/favicon.ico", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    for path in ["/", "/configure"] {
        let page = common::get_text(&format!("{}{path}", node.url)).await;
        assert!(
            page.contains(r#"rel="icon" href="/static/favicon.svg""#),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_event_stream_tells_of_reorganisations_and_blocks_from_peers() {
    let a = NodeBuilder::new().start();
    let b = NodeBuilder::new().start();
    get_json(&format!("{}/mine", a.url)).await;
    for _ in 0..2 {
        get_json(&format!("{}/mine", b.url)).await;
    }
    let mut events = EventReader::open(&format!("{}/events", a.url)).await;
    assert_eq!(events.next("status").await["height"], 1);

    // b's chain has more work: a adopts it and says so.
    post_form(
        &format!("{}/nodes/register", a.url),
        &[("nodes", b.url.clone())],
    )
    .await;
    get_json(&format!("{}/nodes/resolve", a.url)).await;
    let reorg = events.next("reorg").await;
    assert_eq!(
        (reorg["fork"].as_u64(), reorg["height"].as_u64()),
        (Some(1), Some(2))
    );
    let chain = events.next("chain").await;
    assert_eq!(chain["blocks"].as_array().unwrap().len(), 3, "{chain}");

    // A block b mines next reaches a's page as a block from a peer.
    get_json(&format!("{}/mine", b.url)).await;
    let block = events.next("block").await;
    assert_eq!(block["block_number"], 3);
    assert_eq!(block["origin"], "peer");
}
