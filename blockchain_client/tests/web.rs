//! The web app on an ephemeral loopback port, against a fake node.

mod common;

use blockchain_core::transaction::check_stateless;
use blockchain_core::{PrivateKey, Transaction};
use common::{dead_url, post_form, spawn_client, spawn_fake_node, vectors};
use reqwest::StatusCode;
use serde_json::Value;

async fn get(url: &str) -> (StatusCode, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The original form's fields for a vector entry, paying `amount`.
fn vector_form<'a>(entry: &'a Value, amount: &'a str) -> Vec<(&'static str, &'a str)> {
    let field = |name: &str| entry[name].as_str().unwrap();
    vec![
        ("sender_address", field("sender_address")),
        ("sender_private_key", field("sender_private_key")),
        ("recipient_address", field("recipient_address")),
        ("amount", amount),
    ]
}

#[tokio::test]
async fn wallet_new_answers_the_original_json() {
    let client = spawn_client(&dead_url().await).await;
    let response = reqwest::get(format!("{client}/wallet/new?bits=1024"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["private_key", "public_key"]);
    let key = PrivateKey::from_hex(body["private_key"].as_str().unwrap()).unwrap();
    assert_eq!(key.address().as_hex(), body["public_key"].as_str().unwrap());
    assert_eq!(key.address().bits(), 1024);

    let (status, body) = get(&format!("{client}/wallet/new")).await;
    assert_eq!(status, StatusCode::OK);
    let key = PrivateKey::from_hex(body["private_key"].as_str().unwrap()).unwrap();
    assert_eq!(key.address().bits(), 2048);

    for bad in ["512", "abc", "99999"] {
        let (status, body) = get(&format!("{client}/wallet/new?bits={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"].as_str().unwrap().contains("bits"), "{body}");
    }
}

#[tokio::test]
async fn generate_transaction_without_nonce_equals_the_original_signature() {
    let client = spawn_client(&dead_url().await).await;
    let vectors = vectors();
    for entry in vectors["valid"].as_array().unwrap() {
        let mut form = vector_form(entry, entry["value"].as_str().unwrap());
        form.push(("no_nonce", "true"));
        let (status, body) = post_form(&format!("{client}/generate/transaction"), &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["signature"], entry["signature"]);
        let tx = body["transaction"].as_object().unwrap();
        let keys: Vec<_> = tx.keys().cloned().collect();
        assert_eq!(keys, ["recipient_address", "sender_address", "value"]);
        assert_eq!(tx["value"], entry["value"]);
    }
}

#[tokio::test]
async fn generate_transaction_sets_a_nonce_and_signs_it() {
    let client = spawn_client(&dead_url().await).await;
    let vectors = vectors();
    let form = vector_form(&vectors["valid"][0], "0.25");
    let (status, body) = post_form(&format!("{client}/generate/transaction"), &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tx = &body["transaction"];
    let nonce = tx["nonce"].as_str().unwrap();
    assert_eq!(nonce.len(), 16);
    let parsed = Transaction::from_fields(
        tx["sender_address"].as_str().unwrap(),
        tx["recipient_address"].as_str().unwrap(),
        tx["value"].as_str().unwrap(),
        Some(nonce),
        body["signature"].as_str().unwrap(),
    )
    .unwrap();
    check_stateless(&parsed).unwrap();
}

#[tokio::test]
async fn bad_transaction_input_is_a_400_naming_the_field() {
    let client = spawn_client(&dead_url().await).await;
    let vectors = vectors();
    let entry = &vectors["valid"][0];
    let other = &vectors["wallets"][2];
    let good = vector_form(entry, "5");
    let secret = entry["sender_private_key"].as_str().unwrap();
    let cases = [
        ("sender_address", "not-a-hex-key", "sender_address"),
        (
            "sender_address",
            other["public_key"].as_str().unwrap(),
            "sender_address",
        ),
        ("sender_private_key", "deadbeef", "sender_private_key"),
        (
            "sender_private_key",
            other["private_key"].as_str().unwrap(),
            "sender_address",
        ),
        ("sender_private_key", "", "sender_private_key"),
        ("recipient_address", "abc", "recipient_address"),
        ("amount", "abc", "amount"),
        ("amount", "-5", "amount"),
        ("amount", "", "amount"),
    ];
    for (name, value, expected) in cases {
        let form: Vec<(&str, &str)> = good
            .iter()
            .map(|&(k, v)| (k, if k == name { value } else { v }))
            .collect();
        let (status, body) = post_form(&format!("{client}/generate/transaction"), &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}={value}: {body}");
        assert_eq!(body["field"], expected, "{name}={value}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(expected), "{error}");
        assert!(!error.contains(&secret[20..80]));
    }

    // An empty form names the first field; a JSON body is refused as a 4xx, not a 500.
    let (status, body) = post_form(&format!("{client}/generate/transaction"), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "sender_address");
    let response = reqwest::Client::new()
        .post(format!("{client}/generate/transaction"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("form"), "{body}");
    let response = reqwest::Client::new()
        .post(format!("{client}/generate/transaction"))
        .form(&[("amount", "x".repeat(100_000))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn an_unreachable_node_is_a_502_that_says_so() {
    let dead = dead_url().await;
    let client = spawn_client(&dead).await;
    let (status, body) = get(&format!("{client}/api/chain")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("cannot reach the node"), "{error}");
    assert!(
        error.contains(dead.trim_start_matches("http://")),
        "{error}"
    );

    let vectors = vectors();
    let address = vectors["wallets"][0]["public_key"].as_str().unwrap();
    let (status, body) = get(&format!("{client}/api/wallet?address={address}")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");

    for (node, fragment) in [
        ("ftp://x", "http://"),
        ("", "empty"),
        ("http://", "not a valid"),
    ] {
        let url = format!("{client}/api/chain?node={}", url_encode(node));
        let (status, body) = get(&url).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{node}: {body}");
        assert_eq!(body["field"], "node");
        assert!(body["error"].as_str().unwrap().contains(fragment), "{body}");
    }
}

#[tokio::test]
async fn a_node_that_is_not_a_node_is_a_502() {
    // The client itself answers /chain with its 404 page: not a node.
    let client = spawn_client(&dead_url().await).await;
    let (status, body) = get(&format!("{client}/api/chain?node={}", url_encode(&client))).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body["error"].as_str().unwrap().contains("404"), "{body}");
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn chain_and_wallet_lookups_go_through_to_the_node() {
    let vectors = vectors();
    let me = vectors["wallets"][0]["public_key"].as_str().unwrap();
    let (node, _) = spawn_fake_node(me).await;
    let client = spawn_client(&dead_url().await).await;

    let (status, body) = get(&format!("{client}/api/chain?node={}", url_encode(&node))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["length"], 2);
    assert_eq!(body["chain"][1]["transactions"][1]["sender_address"], "bob");

    let url = format!(
        "{client}/api/wallet?node={}&address={me}",
        url_encode(&node)
    );
    let (status, body) = get(&url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["balance"], "95");
    assert_eq!(body["pending"], "2");
    let history = body["history"].as_array().unwrap();
    let summary: Vec<_> = history
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap(),
                e["direction"].as_str().unwrap(),
                e["value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("pending", "in", "2"),
            ("confirmed", "out", "5"),
            ("confirmed", "in", "100")
        ]
    );
    assert_eq!(history[2]["counterparty"], "THE BLOCKCHAIN");
    assert_eq!(history[2]["timestamp"], 1_735_689_600);

    let (status, body) = get(&format!(
        "{client}/api/wallet?node={}&address=zz",
        url_encode(&node)
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "address");
}

#[tokio::test]
async fn api_mine_has_the_node_mine_to_the_wallet_and_names_a_bad_address() {
    let vectors = vectors();
    let me = vectors["wallets"][0]["public_key"].as_str().unwrap();
    let (node, _) = spawn_fake_node(me).await;
    let client = spawn_client(&node).await;

    let (status, body) = post_form(&format!("{client}/api/mine"), &[("address", me)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["block_number"], 3);
    assert_eq!(body["reward"]["address"], me);
    assert_eq!(body["balance"]["balance"], "95");

    let (status, body) = post_form(&format!("{client}/api/mine"), &[("address", "zz")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "address");

    let dead = dead_url().await;
    let (status, body) = post_form(
        &format!("{client}/api/mine"),
        &[("address", me), ("node", &dead)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
}

#[tokio::test]
async fn the_default_node_comes_from_the_command_line() {
    let vectors = vectors();
    let me = vectors["wallets"][0]["public_key"].as_str().unwrap();
    let (node, _) = spawn_fake_node(me).await;
    let client = spawn_client(&node).await;
    let (status, body) = get(&format!("{client}/api/chain")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = reqwest::get(format!("{client}/make/transaction"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("value=\"{node}\"")), "{page}");
}

#[tokio::test]
async fn pages_render_with_labels_and_assets() {
    let client = spawn_client(&dead_url().await).await;
    let pages = [
        (
            "/",
            &[
                "Wallet Generator",
                "id=\"generate-wallet\"",
                "cannot be recovered",
            ][..],
        ),
        (
            "/make/transaction",
            &[
                "for=\"sender_address\"",
                "id=\"sender_private_key\"",
                "for=\"recipient_address\"",
                "name=\"amount\"",
                "id=\"confirm-dialog\"",
                "aria-live",
            ][..],
        ),
        (
            "/view/transactions",
            &["id=\"transactions-table\"", "for=\"view-node-url\""][..],
        ),
        (
            "/wallet?address=abc",
            &["for=\"balance-address\"", ">abc</textarea>"][..],
        ),
    ];
    for (path, needles) in pages {
        let response = reqwest::get(format!("{client}{path}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains("/static/style.css") && html.contains("/static/client.js"),
            "{path}"
        );
        let (crypto, client) = (
            html.find("/static/wallet-crypto.js"),
            html.find("/static/client.js"),
        );
        assert!(
            crypto.is_some() && crypto < client,
            "{path}: wallet-crypto.js does not load before client.js"
        );
        assert!(html.contains("aria-current=\"page\""), "{path}");
        for needle in needles {
            assert!(html.contains(needle), "{path} lacks {needle}");
        }
    }
    let html = reqwest::get(format!("{client}/wallet?address=%3Cscript%3E"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>"), "the address is escaped");
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));

    for (path, mime) in [
        ("/static/style.css", "text/css"),
        ("/static/dom.js", "javascript"),
        ("/static/client.js", "javascript"),
        ("/static/wallet-crypto.js", "javascript"),
    ] {
        let response = reqwest::get(format!("{client}{path}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains(mime),
            "{path}"
        );
    }
    let missing = reqwest::get(format!("{client}/static/nope.css"))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let missing = reqwest::get(format!("{client}/no/such/page"))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn other_sites_and_unknown_host_names_are_refused() {
    let vectors = vectors();
    let me = vectors["wallets"][0]["public_key"].as_str().unwrap();
    let (node, _) = spawn_fake_node(me).await;
    let client = spawn_client(&node).await;
    let http = reqwest::Client::new();

    // A foreign page cannot make the wallet app act (here: have the node mine).
    for (headers, expected) in [
        (
            vec![
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
            403,
        ),
        (vec![("sec-fetch-site", "cross-site")], 403),
        (
            vec![
                ("origin", client.as_str()),
                ("sec-fetch-site", "same-origin"),
            ],
            200,
        ),
        (vec![], 200),
    ] {
        let mut request = http
            .post(format!("{client}/api/mine"))
            .form(&[("address", me)]);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{headers:?}");
    }
    // Nor make it fetch a node for the page (the answer is the other site's to probe).
    let response = http
        .get(format!("{client}/api/chain"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = http
        .post(format!("{client}/generate/transaction"))
        .header("origin", "https://evil.example")
        .form(&[("amount", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // DNS rebinding: a request naming another host is refused, with what to do about it.
    let port = client.rsplit(':').next().unwrap();
    let response = http
        .get(format!("{client}/"))
        .header("host", format!("evil.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("--allow-host"),
        "{body}"
    );
    let response = http
        .get(format!("{client}/"))
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn node_kind_tells_the_page_what_it_signs_for() {
    let vectors = vectors();
    let me = vectors["wallets"][0]["public_key"].as_str().unwrap();
    let (ours, _) = spawn_fake_node(me).await;
    let client = spawn_client(&ours).await;

    // The default node, then one named by URL: a node of ours needs no warning.
    for query in [String::new(), format!("?node={}", url_encode(&ours))] {
        let (status, body) = get(&format!("{client}/api/node-kind{query}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["kind"], "ours", "{body}");
        assert_eq!(body["url"], format!("{ours}/"), "{body}");
        assert!(
            body.get("warning").is_none() && body.get("style").is_none(),
            "{body}"
        );
    }

    // A node that cannot be checked: signed for ours, and said so.
    let dead = dead_url().await;
    let (status, body) = get(&format!(
        "{client}/api/node-kind?node={}",
        url_encode(&dead)
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "unknown");
    let warning = body["warning"].as_str().unwrap();
    assert!(warning.contains("Could not tell"), "{warning}");

    // The client is no node: unknown too.
    let (_, body) = get(&format!(
        "{client}/api/node-kind?node={}",
        url_encode(&client)
    ))
    .await;
    assert_eq!(body["kind"], "unknown", "{body}");

    let (status, body) = get(&format!("{client}/api/node-kind?node=ftp%3A%2F%2Fx")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "node");
}

/// The directive `name` of a content security policy, its sources.
fn csp_directive<'a>(policy: &'a str, name: &str) -> Option<Vec<&'a str>> {
    policy.split(';').find_map(|directive| {
        let mut words = directive.split_whitespace();
        (words.next() == Some(name)).then(|| words.collect())
    })
}

#[tokio::test]
async fn headers_allow_no_inline_script_no_framing_no_referrer_and_no_cached_keys() {
    let client = spawn_client(&dead_url().await).await;
    let vectors = vectors();
    let form = vector_form(&vectors["valid"][0], "1");
    let http = reqwest::Client::new();
    let requests = [
        ("/", true),
        ("/make/transaction", true),
        ("/wallet/new?bits=1024", true),
        ("/wallet/new?bits=1", true),
        ("/view/transactions", false),
        ("/wallet?address=abc", false),
        ("/api/node-kind?node=ftp%3A%2F%2Fx", false),
        ("/static/wallet-crypto.js", false),
        ("/no/such/page", false),
    ]
    .map(|(path, holds_keys)| (http.get(format!("{client}{path}")), path, holds_keys));
    let posts = [
        (
            http.post(format!("{client}/generate/transaction"))
                .form(&form),
            "/generate/transaction",
            true,
        ),
        (
            http.post(format!("{client}/generate/transaction"))
                .form(&[("amount", "x")]),
            "/generate/transaction (refused)",
            true,
        ),
    ];
    for (request, path, holds_keys) in requests.into_iter().chain(posts) {
        let response = request.send().await.unwrap();
        let headers = response.headers();
        let header = |name: &str| {
            headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let policy = header("content-security-policy");
        assert_eq!(
            csp_directive(&policy, "script-src"),
            Some(vec!["'self'"]),
            "{path}: {policy}"
        );
        assert_eq!(csp_directive(&policy, "default-src"), Some(vec!["'self'"]));
        assert_eq!(csp_directive(&policy, "style-src"), Some(vec!["'self'"]));
        assert_eq!(
            csp_directive(&policy, "frame-ancestors"),
            Some(vec!["'none'"])
        );
        assert_eq!(csp_directive(&policy, "object-src"), Some(vec!["'none'"]));
        assert_eq!(csp_directive(&policy, "base-uri"), Some(vec!["'none'"]));
        assert!(!policy.contains("unsafe"), "{path}: {policy}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        if holds_keys {
            assert_eq!(header("cache-control"), "no-store", "{path}");
        } else {
            assert_ne!(header("cache-control"), "no-store", "{path}");
        }
    }
}

#[tokio::test]
async fn pages_hold_no_inline_script_and_never_submit_a_private_key() {
    let client = spawn_client(&dead_url().await).await;
    for path in [
        "/",
        "/make/transaction",
        "/view/transactions",
        "/wallet",
        "/no/such/page",
    ] {
        let html = reqwest::get(format!("{client}{path}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let lower = html.to_ascii_lowercase();
        for (at, _) in lower.match_indices("<script") {
            let tag = &lower[at..at + lower[at..].find('>').unwrap()];
            let body_end = at + lower[at..].find("</script>").unwrap();
            if tag == "<script type=\"application/json\" id=\"i18n\"" {
                // The page's words for its scripts: data, never run (CSP or not).
                let body = &html[at + tag.len() + 1..body_end];
                serde_json::from_str::<Value>(body).expect("the page's words are JSON");
                continue;
            }
            assert!(
                tag.contains(" src=\"/static/"),
                "{path}: inline script {tag}"
            );
            assert!(
                lower[at..body_end].ends_with('>'),
                "{path}: script with a body"
            );
        }
        // No event handler attributes (onclick=…), no inline styles, no javascript: URLs.
        let handler = lower.split(|c: char| c.is_whitespace()).any(|word| {
            word.strip_prefix("on").is_some_and(|rest| {
                rest.split_once('=').is_some_and(|(name, _)| {
                    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase())
                })
            })
        });
        assert!(!handler, "{path}: an on…= handler");
        assert!(!lower.contains(" style=\""), "{path}: an inline style");
        assert!(!lower.contains("javascript:"), "{path}: a javascript: URL");
        // A private key field has no name, so no form submission carries it.
        assert!(!html.contains("name=\"sender_private_key\""), "{path}");
        assert!(!html.contains("name=\"private_key\""), "{path}");
    }
}

/// A form sent without a declared length (chunked) and over the limit is stopped while it is
/// read, and still gets a 413 in the app's JSON, not a 400.
#[tokio::test]
async fn an_oversized_chunked_form_is_a_413() {
    use tower::ServiceExt;

    let state = blockchain_client::http::AppState::new(
        blockchain_client::node::parse_node_url("http://127.0.0.1:9").unwrap(),
    );
    let app = blockchain_client::http::router(state, std::time::Duration::from_secs(20));
    let chunks = futures_util::stream::iter(
        (0..100).map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'a'; 1024]))),
    );
    let request = axum::http::Request::post("/generate/transaction")
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from_stream(chunks))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("the request body is too large")),
        "{body}"
    );
}
