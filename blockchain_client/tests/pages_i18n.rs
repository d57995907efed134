//! Every page of the wallet app in English and in Simplified Chinese: the language a
//! browser asks for, the nav's choice kept in a cookie, `<html lang>`, the scripts' words in
//! the page, and no English left in what a Chinese page shows. The JSON API stays English.

mod common;

use blockchain_i18n::check::{both_languages, fetch, untranslated};
use common::{dead_url, spawn_client};
use serde_json::Value;

/// The page's words for its script, from `<script type="application/json" id="i18n">`.
fn script_words(html: &str) -> Value {
    let start = html
        .find(r#"<script type="application/json" id="i18n">"#)
        .unwrap();
    let body = &html[start..];
    let body = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn every_page_speaks_english_and_chinese() {
    let client = spawn_client(&dead_url().await).await;
    let pages = [
        ("/", "Wallet Generator", 200),
        ("/make/transaction", "Sender Private Key", 200),
        ("/view/transactions", "Transactions on the chain", 200),
        ("/wallet?address=30819f", "Check Balance", 200),
        ("/no/such/page", "Page not found", 404),
    ];
    for (path, english, code) in pages {
        let (en, zh) = both_languages(&format!("{client}{path}"), english, code).await;
        assert_eq!(script_words(&en.html)["js-copied"], "Copied", "{path}");
        let html = zh.html;
        let words = script_words(&html);
        assert_eq!(words["js-copied"], "已复制", "{path}");
        // Variables ({$name}) are the script's to fill in; the rest must be Chinese.
        let english_words: Vec<_> = words
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, text)| {
                let text = text.as_str().unwrap();
                let words: String = text
                    .split("{$")
                    .map(|part| part.split_once('}').map_or(part, |(_, rest)| rest))
                    .collect();
                !untranslated(&words).is_empty()
            })
            .map(|(id, text)| format!("{id}: {text}"))
            .collect();
        assert!(
            english_words.is_empty(),
            "{path}: the script's words in English: {english_words:#?}"
        );
    }
    let html = fetch(&format!("{client}/"), "zh-CN", None).await.html;
    for words in ["生成钱包", "公钥", "私钥", "钱包"] {
        assert!(html.contains(words), "the Wallet Generator lacks {words}");
    }
}

#[tokio::test]
async fn the_nav_choice_is_kept_and_the_api_stays_english() {
    let client = spawn_client(&dead_url().await).await;
    let chosen = fetch(
        &format!("{client}/view/transactions?lang=zh-CN"),
        "en",
        None,
    )
    .await;
    let cookie = chosen.cookie.expect("the choice is kept in a cookie");
    let kept = cookie.split(';').next().unwrap().to_owned();
    let followed = fetch(&format!("{client}/wallet"), "en", Some(&kept)).await;
    assert!(
        followed.html.contains("<html lang=\"zh-CN\">"),
        "the cookie was not followed"
    );

    let response = reqwest::Client::new()
        .get(format!("{client}/wallet/new?bits=12"))
        .header("accept-language", "zh-CN")
        .header("cookie", &kept)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("content-language").is_none());
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().starts_with("bits must be"),
        "{body}"
    );
}
