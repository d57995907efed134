//! The node's controls belong to its operator: other sites' pages cannot use them, and a
//! request must name the node by a host it answers to (DNS rebinding). Real binary.

mod common;

use common::{NodeBuilder, WALLETS, client, form_of, get_json};
use reqwest::Method;

const EVIL: &str = "https://evil.example";

/// Sends a request with the given extra headers; returns the status and JSON body.
async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    form: Option<Vec<(&str, String)>>,
) -> (u16, serde_json::Value) {
    let mut request = client().request(method, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(form) = form {
        request = request.form(&form);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

async fn height(url: &str) -> u64 {
    get_json(&format!("{url}/status")).await.1["height"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn other_sites_cannot_use_the_operator_routes() {
    let node = NodeBuilder::new().start();
    let url = &node.url;
    let cross_site = [("origin", EVIL), ("sec-fetch-site", "cross-site")];
    let empty = || Some(Vec::new());

    // Every operator route refuses a foreign page with a 403 that says why.
    for (method, path, form) in [
        (Method::POST, "/mine", empty()),
        (Method::GET, "/mine", None),
        (
            Method::POST,
            "/nodes/register",
            Some(vec![("nodes", "127.0.0.1:9".to_owned())]),
        ),
        (Method::GET, "/nodes/resolve", None),
        (
            Method::POST,
            "/nodes/remove",
            Some(vec![("node", "127.0.0.1:9".to_owned())]),
        ),
        (
            Method::POST,
            "/settings",
            Some(vec![("background_mining", "true".to_owned())]),
        ),
    ] {
        let (status, body) = send(method.clone(), &format!("{url}{path}"), &cross_site, form).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
        let why = body["error"].as_str().unwrap();
        assert!(why.contains(EVIL) && why.contains(path), "{why}");
    }
    // An <img src> on another site sends no Origin, but says where it comes from.
    let (status, _) = send(
        Method::GET,
        &format!("{url}/mine"),
        &[("sec-fetch-site", "cross-site")],
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(
        Method::GET,
        &format!("{url}/mine"),
        &[("origin", "null")],
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(height(url).await, 0, "nothing was mined");
    assert_eq!(
        get_json(&format!("{url}/nodes/get")).await.1["nodes"],
        serde_json::json!([])
    );
    assert_eq!(
        get_json(&format!("{url}/settings")).await.1["background_mining"],
        false
    );

    // The node's own pages, the local wallet app, and programs are answered.
    let own = url.clone();
    for headers in [
        vec![("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
        vec![
            ("origin", "http://127.0.0.1:8080"),
            ("sec-fetch-site", "same-site"),
        ],
        vec![("origin", "http://localhost:8080")],
        vec![("sec-fetch-site", "none")],
        vec![],
    ] {
        let (status, body) = send(Method::POST, &format!("{url}/mine"), &headers, empty()).await;
        assert_eq!(status, 200, "{headers:?}: {body}");
    }
    assert_eq!(height(url).await, 5);

    // Transactions and reads stay open to every origin: they are public and signed.
    let tx = blockchain_core::Transaction::sign(
        &WALLETS[0].key,
        WALLETS[1].key.address(),
        "1",
        Some("x"),
    )
    .unwrap();
    let (status, body) = send(
        Method::POST,
        &format!("{url}/transactions/new"),
        &cross_site,
        Some(form_of(&tx)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    for path in [
        "/chain",
        "/status",
        "/transactions/get",
        "/nodes/get",
        "/settings",
    ] {
        let (status, _) = send(Method::GET, &format!("{url}{path}"), &cross_site, None).await;
        assert_eq!(status, 200, "{path}");
    }
}

#[tokio::test]
async fn allow_origin_names_the_wallet_apps_origins() {
    let node = NodeBuilder::new()
        .arg("--allow-origin")
        .arg("http://wallet.test:9000")
        .start();
    let mine = format!("{}/mine", node.url);
    let (status, _) = send(
        Method::POST,
        &mine,
        &[("origin", "http://wallet.test:9000")],
        Some(vec![]),
    )
    .await;
    assert_eq!(status, 200);
    // Given origins replace the default ones.
    let (status, _) = send(
        Method::POST,
        &mine,
        &[("origin", "http://127.0.0.1:8080")],
        Some(vec![]),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn requests_must_name_the_node_by_a_host_it_answers_to() {
    let node = NodeBuilder::new()
        .arg("--allow-host")
        .arg("node.test")
        .start();
    let port = node.url.rsplit(':').next().unwrap().to_owned();
    for (host, expected) in [
        ("evil.example".to_owned(), 403),
        (format!("rebind.evil.example:{port}"), 403),
        (format!("127.0.0.1:{port}"), 200),
        (format!("localhost:{port}"), 200),
        (format!("node.test:{port}"), 200),
    ] {
        for path in ["/", "/status", "/chain"] {
            let (status, body) = send(
                Method::GET,
                &format!("{}{path}", node.url),
                &[("host", &host)],
                None,
            )
            .await;
            assert_eq!(status, expected, "Host {host} {path}: {body}");
            if expected == 403 {
                assert!(
                    body["error"].as_str().unwrap().contains("--allow-host"),
                    "{body}"
                );
            }
        }
    }
}

/// A client that sends its whole oversized body before reading gets the 413, not a reset.
#[tokio::test]
async fn an_oversized_body_sent_whole_still_gets_its_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let node = NodeBuilder::new().start();
    let address = node.url.trim_start_matches("http://").to_owned();
    for (path, size) in [("/transactions/new", 8 << 20), ("/mine", 2 << 20)] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {size}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream
            .write_all(&vec![b'a'; size])
            .await
            .expect("the node reads what is sent");
        let mut answer = vec![0; 4096];
        let n = stream
            .read(&mut answer)
            .await
            .expect("an answer, not a reset");
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("takes at most 65536"), "{answer}");
    }
    assert_eq!(height(&node.url).await, 0);
}
