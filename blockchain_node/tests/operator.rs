//! The operator token and peer registration checks, on one machine: requests from loopback
//! work as they always did; the token file is private, kept across restarts and never
//! logged; a URL is registered only if it answers as a node of the same network; the
//! bound on peers. What another machine sees (401, Bearer, sign-in) is in `hosts.rs`.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{NodeBuilder, client, genesis_json, get_json, post_form};
use serde_json::Value;

fn quiet_node() -> NodeBuilder {
    NodeBuilder::new().arg("--sync-interval").arg("0")
}

async fn register(node: &str, nodes: &str) -> (u16, Value) {
    post_form(
        &format!("{node}/nodes/register"),
        &[("nodes", nodes.to_owned())],
    )
    .await
}

/// A port nothing listens on (it was bound a moment ago, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn loopback_is_the_operator_and_the_token_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("node.log");
    let data = dir.path().join("data");
    let node = quiet_node().data_dir(&data).log_to(&log).start();

    // From this machine everything works as it did, without a token.
    let mined = client()
        .post(format!("{}/mine", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(mined.status(), 200);
    let settings = client()
        .post(format!("{}/settings", node.url))
        .json(&serde_json::json!({ "block_interval": 7 }))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), 200);
    // Still under the Origin guard.
    let cross = client()
        .post(format!("{}/mine", node.url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);

    let file = data.join("operator-token");
    let token = std::fs::read_to_string(&file).unwrap();
    let token = token.trim().to_owned();
    assert_eq!(token.len(), 64, "{token:?}");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");

    // Stopped cleanly (SIGTERM), so the buffered log is written out.
    let (_, stopped) = node.terminate();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains(&file.display().to_string()),
        "the log names the file: {logged}"
    );
    assert!(!logged.contains(&token), "the token is never logged");
    let node = stopped.start();
    let again = std::fs::read_to_string(&file).unwrap();
    assert_eq!(again.trim(), token, "the token is kept across restarts");
    drop(node);

    // Another place for it, with --operator-token-file.
    let elsewhere = dir.path().join("secrets").join("token");
    let _other = quiet_node()
        .arg("--operator-token-file")
        .arg(elsewhere.display().to_string())
        .start();
    let mode = std::fs::metadata(&elsewhere).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// The same checks on every URL, for the operator too: nothing listening, not a node,
/// another network, each refused by name; the real node in the same list is added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_are_checked_before_they_are_kept() {
    let node = quiet_node().start();
    let peer = quiet_node().start();
    let other_network = quiet_node().genesis(genesis_json(5, 8)).start();
    let not_a_node = {
        let app = axum::Router::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    };
    let nothing = format!("http://127.0.0.1:{}", free_port());

    for (junk, why) in [
        (&nothing, "is not reachable"),
        (&not_a_node, "GET /status answered 404"),
        (&other_network.url, "is on another network"),
    ] {
        let (status, body) = register(&node.url, junk).await;
        assert_eq!(status, 400, "{junk}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(
            error.contains(junk.as_str()) && error.contains(why),
            "{error}"
        );
    }
    let (_, peers) = get_json(&format!("{}/nodes/get", node.url)).await;
    assert_eq!(peers["nodes"], serde_json::json!([]), "nothing stored");

    // A list: the real node is added, the junk refused with its reason, in one 201.
    let list = format!("{},{nothing},{}", peer.url, other_network.url);
    let (status, body) = register(&node.url, &list).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"], "New nodes have been added");
    assert_eq!(body["total_nodes"], serde_json::json!([peer.url]));
    let refused = body["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 2, "{body}");
    assert_eq!(refused[0]["node"], nothing.as_str());
    assert!(
        refused[1]["reason"]
            .as_str()
            .unwrap()
            .contains("another network")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bound_on_peers_is_a_clear_refusal() {
    let node = quiet_node().arg("--max-peers").arg("1").start();
    let (a, b) = (quiet_node().start(), quiet_node().start());
    let (status, body) = register(&node.url, &a.url).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = register(&node.url, &b.url).await;
    assert_eq!(status, 409, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("at most 1 peers (--max-peers)") && error.contains(&b.url),
        "{error}"
    );
    // Registering a peer again is no new peer: still a 201.
    assert_eq!(register(&node.url, &a.url).await.0, 201);
}
