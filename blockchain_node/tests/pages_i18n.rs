//! Every page of the node in English and in Simplified Chinese, against the real binary:
//! the language a browser asks for, the nav's choice kept in a cookie, `<html lang>`, and
//! no English left in what a Chinese page shows. The JSON API stays English.

mod common;

use blockchain_i18n::check::{both_languages, fetch};
use common::{NodeBuilder, client, get_json};

#[tokio::test]
async fn every_page_speaks_english_and_chinese() {
    let node = NodeBuilder::new().start();
    let (status, mined) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(status, 200, "{mined}");
    let reward_id = mined["transactions"][0]["id"].as_str().unwrap().to_owned();
    let miner = mined["reward"]["address"].as_str().unwrap().to_owned();
    // Each page with what its English says, and its status.
    let pages = [
        ("/", "Transactions on the blockchain", 200),
        ("/configure", "Save settings", 200),
        ("/network", "Stale block (lost)", 200),
        ("/explorer/block/0", "(hash of the network parameters)", 200),
        ("/explorer/block/1", "Previous hash", 200),
        (
            &format!("/explorer/tx/{reward_id}") as &str,
            "confirmed in block 1",
            200,
        ),
        (&format!("/explorer/address/{miner}"), "Pending out", 200),
        ("/explorer/block/9", "No block 9; the tip is 1.", 404),
        // What was typed is echoed as it is: a number that is not whole.
        (
            "/explorer/block/1.5",
            "Block number &#34;1.5&#34; is not a whole number.",
            400,
        ),
        ("/explorer/tx/zz", "A transaction id is 64 hex digits.", 400),
        ("/no/such/page", "There is no page at /no/such/page.", 404),
    ];
    for (path, english, code) in pages {
        both_languages(&format!("{}{path}", node.url), english, code).await;
    }
    // Known words in the Chinese, for the record of what a reader sees.
    let html = fetch(&format!("{}/", node.url), "zh-CN", None).await.html;
    for words in ["挖矿", "待确认交易", "区块链上的交易", "矿工奖励", "难度"] {
        assert!(html.contains(words), "the Mine page lacks {words}");
    }
}

#[tokio::test]
async fn the_nav_choice_is_kept_and_the_api_stays_english() {
    let node = NodeBuilder::new().start();
    let chosen = fetch(&format!("{}/configure?lang=zh-CN", node.url), "en", None).await;
    let cookie = chosen.cookie.expect("the choice is kept in a cookie");
    assert!(
        cookie.starts_with("lang=zh-CN;") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let html = chosen.html;
    assert!(html.contains("<html lang=\"zh-CN\">"));
    // Both choices are in the nav, the current one marked.
    assert!(html.contains(r#"href="?lang=en""#) && html.contains(r#"href="?lang=zh-CN""#));
    assert!(
        html.contains(r#"lang="zh-CN" aria-current="true">中文</a>"#),
        "{html}"
    );

    let kept = cookie.split(';').next().unwrap();
    let followed = fetch(&format!("{}/", node.url), "en", Some(kept)).await;
    assert_eq!(followed.language, "zh-CN");
    assert!(followed.html.contains("<h1 class=\"page-title\">挖矿</h1>"));
    let switched = fetch(&format!("{}/?lang=en", node.url), "zh-CN", Some(kept)).await;
    assert_eq!(switched.language, "en");

    // The API answers programs in English whatever the browser prefers.
    let response = client()
        .post(format!("{}/mine", node.url))
        .header("accept-language", "zh-CN")
        .header("cookie", "lang=zh-CN")
        .form(&[("reward_address", "zz")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("content-language").is_none());
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("reward_address"),
        "{body}"
    );
    assert!(body["error"].as_str().unwrap().is_ascii(), "{body}");
}
