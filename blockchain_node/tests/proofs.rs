//! Merkle proofs (`GET /transactions/{id}/proof`) and the search box (`GET /search?q=`)
//! against the real binary. The proofs are checked here by hashing written from the rule
//! docs/protocol.md gives, not by core's functions.

mod common;

use blockchain_core::Transaction;
use blockchain_i18n::check::both_languages;
use common::{NodeBuilder, NodeProcess, WALLETS, client, form_of, get_json, post_form};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// SHA-256 over the parts, one after another.
fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// docs/protocol.md: leaf = SHA-256("tx" ‖ id ‖ signature).
fn leaf(tx: &Value) -> [u8; 32] {
    let id = unhex(tx["id"].as_str().unwrap());
    let signature = unhex(tx["signature"].as_str().unwrap());
    sha256(&[b"tx", &id, &signature])
}

/// docs/protocol.md: node = SHA-256("node" ‖ left ‖ right).
fn node(left: &[u8], right: &[u8]) -> [u8; 32] {
    sha256(&[b"node", left, right])
}

/// The whole tree's root: pairs in order, an odd last node carried up unpaired.
fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        let mut up = Vec::new();
        for pair in level.chunks(2) {
            up.push(if pair.len() == 2 {
                node(&pair[0], &pair[1])
            } else {
                pair[0]
            });
        }
        level = up;
    }
    level[0]
}

/// Folds a proof's path up from its leaf.
fn fold(proof: &Value) -> [u8; 32] {
    let mut at: [u8; 32] = unhex(proof["leaf"].as_str().unwrap()).try_into().unwrap();
    for step in proof["path"].as_array().unwrap() {
        let sibling = unhex(step["hash"].as_str().unwrap());
        at = match step["side"].as_str().unwrap() {
            "left" => node(&sibling, &at),
            "right" => node(&at, &sibling),
            other => panic!("side {other:?}"),
        };
    }
    at
}

/// Submits `count` payments (from the vector wallets in turn) and mines them into a block;
/// the block's JSON.
async fn block_of(node: &NodeProcess, count: usize, tag: &str) -> Value {
    for n in 0..count {
        let from = &WALLETS[n % WALLETS.len()].key;
        let to = WALLETS[(n + 1) % WALLETS.len()].key.address();
        let tx = Transaction::sign(from, to, "1", Some(&format!("{tag}{n}"))).unwrap();
        let (status, body) =
            post_form(&format!("{}/transactions/new", node.url), &form_of(&tx)).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, mined) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(status, 200, "{mined}");
    let number = mined["block_number"].as_u64().unwrap();
    let (status, block) = get_json(&format!("{}/blocks/{number}", node.url)).await;
    assert_eq!(status, 200, "{block}");
    block
}

#[tokio::test]
async fn every_transactions_proof_holds_by_the_documented_rule() {
    let node = NodeBuilder::new().start();
    // 1 (the reward alone), 2, 3, 5 and 8 transactions: paired, unpaired and power-of-two
    // shapes, each leaf in every position.
    for (count, tag) in [(0, "a"), (1, "b"), (2, "c"), (4, "d"), (7, "e")] {
        let block = block_of(&node, count, tag).await;
        let transactions = block["transactions"].as_array().unwrap();
        assert_eq!(transactions.len(), count + 1);
        let leaves: Vec<[u8; 32]> = transactions.iter().map(leaf).collect();
        let merkle_root = block["merkle_root"].as_str().unwrap();
        assert_eq!(hex::encode(root(&leaves)), merkle_root, "block root");
        for (i, tx) in transactions.iter().enumerate() {
            let id = tx["id"].as_str().unwrap();
            let (status, proof) = get_json(&format!("{}/transactions/{id}/proof", node.url)).await;
            assert_eq!(status, 200, "{proof}");
            assert_eq!(proof["transaction_id"], id);
            assert_eq!(proof["block_number"], block["block_number"]);
            assert_eq!(proof["block_hash"], block["hash"]);
            assert_eq!(proof["merkle_root"], merkle_root);
            assert_eq!(proof["leaf"], hex::encode(leaves[i]));
            assert_eq!(
                hex::encode(fold(&proof)),
                merkle_root,
                "{count}+1 txs, leaf {i}"
            );
            assert_eq!(proof.as_object().unwrap().len(), 6, "{proof}");
            // Any altered step leads elsewhere.
            for level in 0..proof["path"].as_array().unwrap().len() {
                let mut flipped = proof.clone();
                let side = &mut flipped["path"][level]["side"];
                *side = if side == "left" { "right" } else { "left" }.into();
                assert_ne!(hex::encode(fold(&flipped)), merkle_root);
                let mut altered = proof.clone();
                let hash = altered["path"][level]["hash"].as_str().unwrap();
                let changed = format!(
                    "{}{}",
                    if hash.starts_with('0') { "1" } else { "0" },
                    &hash[1..]
                );
                altered["path"][level]["hash"] = changed.into();
                assert_ne!(hex::encode(fold(&altered)), merkle_root);
            }
        }
        // A level where the leaf is carried up unpaired adds no step: with 3 leaves the
        // third's path is one step, the first's two.
        if transactions.len() == 3 {
            let third = transactions[2]["id"].as_str().unwrap();
            let (_, proof) = get_json(&format!("{}/transactions/{third}/proof", node.url)).await;
            assert_eq!(proof["path"].as_array().unwrap().len(), 1);
            assert_eq!(proof["path"][0]["side"], "left");
        }
        if transactions.len() == 1 {
            let only = transactions[0]["id"].as_str().unwrap();
            let (_, proof) = get_json(&format!("{}/transactions/{only}/proof", node.url)).await;
            assert_eq!(proof["path"], Value::Array(vec![]));
            assert_eq!(proof["leaf"], merkle_root);
        }
    }
}

#[tokio::test]
async fn pending_unknown_and_malformed_ids_are_refused_by_name() {
    let node = NodeBuilder::new().start();
    let tx = Transaction::sign(&WALLETS[0].key, WALLETS[1].key.address(), "2", Some("p")).unwrap();
    let (status, body) = post_form(&format!("{}/transactions/new", node.url), &form_of(&tx)).await;
    assert_eq!(status, 201, "{body}");
    let id = tx.id();
    let (status, body) = get_json(&format!("{}/transactions/{id}/proof", node.url)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["message"], "Pending");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not yet in a block"),
        "{body}"
    );
    let (status, body) = get_json(&format!(
        "{}/transactions/{}/proof",
        node.url,
        "ab".repeat(32)
    ))
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].as_str().unwrap().contains("no transaction"));
    for bad in ["abc", "zz", &"a".repeat(65)] {
        let (status, body) = get_json(&format!("{}/transactions/{bad}/proof", node.url)).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "a transaction id is 64 hex digits");
    }
    // Its page says why it shows no proof, in both languages.
    both_languages(
        &format!("{}/explorer/tx/{id}", node.url),
        "A pending transaction has no Merkle proof yet",
        200,
    )
    .await;
    // Once mined, the same id has its proof, and its page draws it.
    let (status, _) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(status, 200);
    let (status, body) = get_json(&format!("{}/transactions/{id}/proof", node.url)).await;
    assert_eq!(status, 200, "{body}");
    let (en, _) = both_languages(
        &format!("{}/explorer/tx/{id}", node.url),
        "Your browser hashes it again itself.",
        200,
    )
    .await;
    assert!(
        en.html
            .contains(&format!("data-leaf=\"{}\"", body["leaf"].as_str().unwrap()))
    );
    assert!(en.html.contains("/static/proof.js"));
}

/// Where `/search?q=` sends a browser: the status and `Location`.
async fn search(node: &NodeProcess, q: &str) -> (u16, String) {
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let response = no_redirects
        .get(format!("{}/search", node.url))
        .query(&[("q", q)])
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), location)
}

#[tokio::test]
async fn search_sends_each_kind_of_query_to_its_page() {
    let node = NodeBuilder::new().start();
    let block = block_of(&node, 1, "s").await;
    let payment = &block["transactions"][0];
    let id = payment["id"].as_str().unwrap();
    let hash = block["hash"].as_str().unwrap();
    let sender = payment["sender_address"].as_str().unwrap();
    let pending =
        Transaction::sign(&WALLETS[1].key, WALLETS[0].key.address(), "1", Some("q")).unwrap();
    post_form(
        &format!("{}/transactions/new", node.url),
        &form_of(&pending),
    )
    .await;
    let pending_id = pending.id().to_string();

    let block_page = "/explorer/block/1".to_owned();
    let tx_page = format!("/explorer/tx/{id}");
    for (q, target) in [
        ("1", block_page.clone()),
        ("0", "/explorer/block/0".to_owned()),
        (" 1 ", block_page.clone()),
        (hash, block_page.clone()),
        (&hash.to_uppercase(), block_page.clone()),
        (&hash[..10], block_page.clone()),
        (id, tx_page.clone()),
        (&id[..12], tx_page.clone()),
        (&pending_id, format!("/explorer/tx/{pending_id}")),
        (&pending_id[..9], format!("/explorer/tx/{pending_id}")),
        (sender, format!("/explorer/address/{sender}")),
    ] {
        assert_eq!(search(&node, q).await, (303, target.clone()), "{q}");
        // The target is a page that answers.
        let response = client()
            .get(format!("{}{target}", node.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{target}");
    }
    for (q, status) in [
        ("", 400),
        ("abc", 400),
        ("12-34", 400),
        ("not a hash", 400),
        (&format!("{}zz", "a".repeat(70)), 400),
        (&"b".repeat(200), 400),
        ("77", 404),
        ("ffffffff0", 404),
        (&"0".repeat(64), 404),
    ] {
        assert_eq!(search(&node, q).await, (status, String::new()), "{q:?}");
    }
}

#[tokio::test]
async fn search_refusals_are_pages_in_both_languages() {
    let node = NodeBuilder::new().start();
    let url = |q: &str| format!("{}/search?q={q}", node.url);
    both_languages(&url("ffffffff0"), "Nothing on this node starts with", 404).await;
    both_languages(
        &url(&"0".repeat(64)),
        "No block and no transaction on this node has",
        404,
    )
    .await;
    both_languages(&url("12-34"), "is not a block number, a hash", 400).await;
    both_languages(&url("12ab"), "too short to search for", 400).await;
    both_languages(&url(""), "Type a block number, a block hash", 400).await;
    both_languages(&url("12345"), "No block 12345; the tip is 0.", 404).await;
}
