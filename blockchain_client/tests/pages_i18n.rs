//! Every page of the wallet app in English and in Simplified Chinese: the language a
//! browser asks for, the nav's choice kept in a cookie, `<html lang>`, the scripts' words in
//! the page, and no English left in what a Chinese page shows. The JSON API stays English.

mod common;

use blockchain_i18n::check::untranslated;
use common::{dead_url, spawn_client};
use serde_json::Value;

async fn page(url: &str, accept_language: &str) -> (u16, String, String) {
    let response = reqwest::Client::new()
        .get(url)
        .header("accept-language", accept_language)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let language = response
        .headers()
        .get("content-language")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, language, response.text().await.unwrap())
}

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
        let url = format!("{client}{path}");
        let (status, language, html) = page(&url, "en-US,en;q=0.9").await;
        assert_eq!((status, language.as_str()), (code, "en"), "{path}");
        assert!(
            html.contains("<html lang=\"en\">") && html.contains(english),
            "{path}"
        );
        assert_eq!(script_words(&html)["js-copied"], "Copied", "{path}");

        let (status, language, html) = page(&url, "zh-CN,zh;q=0.9,en;q=0.8").await;
        assert_eq!((status, language.as_str()), (code, "zh-CN"), "{path}");
        assert!(html.contains("<html lang=\"zh-CN\">"), "{path}");
        assert!(!html.contains(english), "{path} still says {english:?}");
        let left = untranslated(&html);
        assert!(
            left.is_empty(),
            "{path} in Chinese shows English: {left:#?}"
        );
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
    let (_, _, html) = page(&format!("{client}/"), "zh-CN").await;
    for words in ["生成钱包", "公钥", "私钥", "钱包"] {
        assert!(html.contains(words), "the Wallet Generator lacks {words}");
    }
}

#[tokio::test]
async fn the_nav_choice_is_kept_and_the_api_stays_english() {
    let client = spawn_client(&dead_url().await).await;
    let response = reqwest::Client::new()
        .get(format!("{client}/view/transactions?lang=zh-CN"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("lang=zh-CN;") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let kept = cookie.split(';').next().unwrap().to_owned();
    let html = reqwest::Client::new()
        .get(format!("{client}/wallet"))
        .header("accept-language", "en")
        .header("cookie", &kept)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<html lang=\"zh-CN\">"),
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
