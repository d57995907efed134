//! Tampered blocks posted to `POST /blocks`, as the block page's tamper lab posts them: each
//! is refused with a message naming the rule it breaks, and the chain does not move.

mod common;

use blockchain_core::{Block, Transaction};
use common::{NodeBuilder, WALLETS, client, form_of, get_json, post_form};
use serde_json::Value;

/// Re-mines `block` (its JSON without `hash` or `merkle_root`: both derived) at its own
/// difficulty, as a forger would, and returns its JSON.
fn remined(mut json: Value) -> Value {
    let object = json.as_object_mut().unwrap();
    object.remove("hash");
    object.remove("merkle_root");
    let block: Block = serde_json::from_value(json).unwrap();
    let nonce = block
        .header()
        .pow_template()
        .search(block.difficulty(), 0, 1, 1 << 24)
        .expect("difficulty 8 takes a few hundred tries");
    serde_json::to_value(block.with_nonce(nonce)).unwrap()
}

/// A nonce after `json`'s whose hash misses the block's difficulty.
fn unmined(mut json: Value) -> Value {
    json.as_object_mut().unwrap().remove("hash");
    let mut nonce = json["nonce"].as_u64().unwrap();
    loop {
        nonce = nonce.wrapping_add(1);
        json["nonce"] = nonce.into();
        let block: Block = serde_json::from_value(json.clone()).unwrap();
        if !block.difficulty().is_met_by(&block.hash().0) {
            return json;
        }
    }
}

async fn post_block(url: &str, json: &Value) -> (u16, String) {
    let response = client()
        .post(format!("{url}/blocks"))
        .json(json)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn tip(url: &str) -> (u64, String) {
    let (_, status) = get_json(&format!("{url}/status")).await;
    let height = status["height"].as_u64().unwrap();
    let (_, block) = get_json(&format!("{url}/blocks/{height}")).await;
    (height, block["hash"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn tampered_blocks_are_refused_by_the_rule_they_break() {
    let node = NodeBuilder::new().start();
    let url = &node.url;
    let payment =
        Transaction::sign(&WALLETS[0].key, WALLETS[1].key.address(), "5", Some("t1")).unwrap();
    let (status, answer) = post_form(&format!("{url}/transactions/new"), &form_of(&payment)).await;
    assert_eq!(status, 201, "{answer}");
    for _ in 0..2 {
        let (status, mined) = get_json(&format!("{url}/mine")).await;
        assert_eq!(status, 200, "{mined}");
    }
    let before = tip(url).await;
    assert_eq!(before.0, 2);
    let (_, block1) = get_json(&format!("{url}/blocks/1")).await;
    let (_, genesis) = get_json(&format!("{url}/blocks/0")).await;
    assert_eq!(block1["transactions"].as_array().unwrap().len(), 2);
    let mut more = block1.clone();
    more["transactions"][0]["value"] = "50".into();

    // Each variant, what the refusal must name, and its status.
    let mut at_tip = more.clone();
    at_tip["block_number"] = 3.into();
    at_tip["previous_hash"] = before.1.clone().into();
    at_tip["transactions"][1]["nonce"] = "3".into();
    let mut previous = block1.clone();
    previous["previous_hash"] = block1["hash"].clone();
    let variants = [
        // The payment edited, the header as mined: its root no longer matches.
        ("merkle root", more.clone(), "merkle_root", 400),
        // The payment edited and the block re-mined over it: the signature fails.
        (
            "signature",
            remined(more.clone()),
            "signature does not match",
            422,
        ),
        // Another nonce: the hash misses the difficulty.
        (
            "proof of work",
            unmined(block1.clone()),
            "proof of work",
            422,
        ),
        // A previous hash naming block 1 itself, re-mined: block 1 cannot follow block 1.
        ("previous hash", remined(previous), "previous_hash", 422),
        // The genesis block's hash in block 2's place, re-mined.
        (
            "previous hash (genesis)",
            {
                let (_, mut block2) = get_json(&format!("{url}/blocks/2")).await;
                block2["previous_hash"] = genesis["hash"].clone();
                remined(block2)
            },
            "previous_hash",
            422,
        ),
        // The edited, re-mined payment on top of our tip: the same rule, by the other path.
        (
            "signature at the tip",
            remined(at_tip),
            "signature does not match",
            422,
        ),
    ];
    for (name, json, names, code) in variants {
        let (status, error) = post_block(url, &json).await;
        assert_eq!(status, code, "{name}: {error}");
        assert!(error.contains(names), "{name}: {error}");
        assert_eq!(tip(url).await, before, "{name} moved the tip");
    }

    // The untampered block is known; a merkle_root claimed in capitals is the same root.
    let mut same = block1.clone();
    same["merkle_root"] = block1["merkle_root"]
        .as_str()
        .unwrap()
        .to_uppercase()
        .into();
    let (status, _) = post_block(url, &same).await;
    assert_eq!(status, 200);
    assert_eq!(tip(url).await, before);
}
