//! The node's controls belong to its operator: other sites' pages cannot use them, and a
//! request must name the node by a host it answers to (DNS rebinding). Real binary.

mod common;

use common::{NodeBuilder, WALLETS, client, form_of, get_json};
use std::time::{Duration, Instant};

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

/// Reads until the node closes the connection; fails the test, rather than hanging it, if
/// that has not happened within `within`.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, within: Duration) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut answer))
        .await
        .expect("the node closes a stalled connection")
        .expect("a clean close, not a reset");
    String::from_utf8_lossy(&answer).into_owned()
}

/// A client cannot hold a connection by stalling: not before its request head, not in the
/// middle of it, not in the middle of a body (a 408), not by dripping the body, and not by
/// keeping an idle connection open. A body sent in parts within the time is still taken.
#[tokio::test]
async fn a_stalled_client_cannot_hold_a_connection() {
    use tokio::io::AsyncWriteExt;
    let node = NodeBuilder::new().arg("--client-timeout").arg("1").start();
    let address = node.url.trim_start_matches("http://").to_owned();
    let connect = || tokio::net::TcpStream::connect(address.clone());
    let guard = Duration::from_secs(15);
    let head = |path: &str, length: usize| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        )
    };

    // Half a body, then nothing, on every route that takes one.
    for path in [
        "/transactions/new",
        "/transactions/batch",
        "/blocks",
        "/mine",
    ] {
        let mut stream = connect().await.unwrap();
        let started = Instant::now();
        stream.write_all(head(path, 100).as_bytes()).await.unwrap();
        stream.write_all(b"{\"sender_address\":").await.unwrap();
        let answer = read_until_closed(&mut stream, guard).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(
            answer.contains("did not arrive in time"),
            "{path}: {answer}"
        );
        assert!(started.elapsed() >= Duration::from_millis(900), "{path}");
    }

    // A body dripped a byte at a time: the deadline counts from the head, not between bytes.
    let mut stream = connect().await.unwrap();
    stream
        .write_all(head("/transactions/new", 400).as_bytes())
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let drip = tokio::spawn(async move {
        while writer.write_all(b" ").await.is_ok() {
            // The slow client's pace (what is tested), not a wait for the node.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    tokio::time::timeout(
        guard,
        tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut answer),
    )
    .await
    .expect("the node closes a dripping connection")
    .ok();
    drip.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "drip: {answer}");

    // Nothing at all, and half a request head: closed without an answer.
    let mut stream = connect().await.unwrap();
    assert_eq!(read_until_closed(&mut stream, guard).await, "");
    let mut stream = connect().await.unwrap();
    stream
        .write_all(format!("GET /status HTTP/1.1\r\nHost: {address}\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_until_closed(&mut stream, guard).await, "");

    // An idle keep-alive connection is closed once its answer is sent.
    let mut stream = connect().await.unwrap();
    stream
        .write_all(format!("GET /status HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, guard).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A body in two parts, well within the time, is judged as usual (here: bad JSON).
    let mut stream = connect().await.unwrap();
    let body = b"{\"not\": \"a transaction\"}";
    stream
        .write_all(head("/transactions/new", body.len()).as_bytes())
        .await
        .unwrap();
    stream.write_all(&body[..10]).await.unwrap();
    // A pause in the client's sending (what is tested), well inside its 1 s.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream.write_all(&body[10..]).await.unwrap();
    let answer = read_until_closed(&mut stream, guard).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    // And the node still answers.
    assert_eq!(get_json(&format!("{}/status", node.url)).await.0, 200);
}
