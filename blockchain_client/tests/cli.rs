//! The built binary's subcommands, against a fake node on a loopback port.

mod common;

use std::process::Output;

use blockchain_core::PrivateKey;
use common::{OVERSPEND, dead_url, spawn_fake_node, vectors};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_blockchain_client");

/// Runs the binary off the async runtime, so an in-process fake node keeps answering.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(BIN)
            .args(&args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {:?}, stderr {:?}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn wallet_new_prints_a_wallet_or_writes_it_owner_only() {
    let output = run(args(&["wallet", "new", "--bits", "1024"])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let wallet = stdout_json(&output);
    let key = PrivateKey::from_hex(wallet["private_key"].as_str().unwrap()).unwrap();
    assert_eq!(
        key.address().as_hex(),
        wallet["public_key"].as_str().unwrap()
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.json");
    let path_text = path.to_str().unwrap();
    let output = run(args(&[
        "wallet", "new", "--bits", "1024", "--out", path_text,
    ]))
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout_json(&output);
    assert_eq!(printed.as_object().unwrap().len(), 1, "{printed}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["public_key"], printed["public_key"]);
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains(saved["private_key"].as_str().unwrap())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    // An existing file is never overwritten.
    let output = run(args(&[
        "wallet", "new", "--bits", "1024", "--out", path_text,
    ]))
    .await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("never overwritten"),
        "{}",
        stderr(&output)
    );
    let again: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(again, saved);
}

#[tokio::test]
async fn sign_without_nonce_equals_the_original_signature() {
    let vectors = vectors();
    let dir = tempfile::tempdir().unwrap();
    for (i, entry) in vectors["valid"].as_array().unwrap().iter().enumerate() {
        let field = |name: &str| entry[name].as_str().unwrap();
        let mut list = vec!["sign", "--sender", field("sender_address")];
        list.extend(["--recipient", field("recipient_address")]);
        list.extend(["--amount", field("value"), "--no-nonce"]);
        // Alternate between the key on the command line and in a wallet file.
        let key_file = dir.path().join(format!("key{i}.json"));
        let key_file_text = key_file.to_str().unwrap().to_owned();
        if i % 2 == 0 {
            list.extend(["--private-key", field("sender_private_key")]);
        } else {
            let wallet = serde_json::json!({"private_key": field("sender_private_key")});
            std::fs::write(&key_file, wallet.to_string()).unwrap();
            list.extend(["--private-key-file", &key_file_text]);
        }
        let output = run(args(&list)).await;
        assert!(output.status.success(), "{}", stderr(&output));
        let signed = stdout_json(&output);
        assert_eq!(signed["signature"], entry["signature"]);
        assert_eq!(signed["transaction"]["value"], entry["value"]);
        assert!(signed["transaction"].get("nonce").is_none());
    }
}

#[tokio::test]
async fn sign_refuses_a_key_that_is_not_the_senders() {
    let vectors = vectors();
    let entry = &vectors["valid"][0];
    let other = &vectors["wallets"][2];
    let field = |name: &str| entry[name].as_str().unwrap();
    let output = run(args(&[
        "sign",
        "--private-key",
        other["private_key"].as_str().unwrap(),
        "--sender",
        field("sender_address"),
        "--recipient",
        field("recipient_address"),
        "--amount",
        "1",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("sender_address does not belong to the private key"),
        "{err}"
    );
    assert!(!err.contains(&other["private_key"].as_str().unwrap()[20..80]));
    assert!(output.stdout.is_empty());

    let output = run(args(&[
        "sign",
        "--private-key",
        "zz",
        "--recipient",
        "x",
        "--amount",
        "1",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("sender_private_key"),
        "{}",
        stderr(&output)
    );
}

fn send_args<'a>(node: &'a str, entry: &'a Value, amount: &'a str) -> Vec<String> {
    let field = |name: &str| entry[name].as_str().unwrap();
    args(&[
        "send",
        "--node",
        node,
        "--private-key",
        field("sender_private_key"),
        "--recipient",
        field("recipient_address"),
        "--amount",
        amount,
    ])
}

#[tokio::test]
async fn send_submits_a_form_and_reports_refusals() {
    let vectors = vectors();
    let entry = &vectors["valid"][0];
    let (node, fake) = spawn_fake_node("nobody").await;

    let output = run(send_args(&node, entry, "2.5")).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let answer = stdout_json(&output);
    assert_eq!(answer["message"], "Transaction will be added to Block 3");
    {
        let submitted = fake.submitted.lock().unwrap();
        let form = submitted.last().unwrap();
        assert_eq!(form["amount"], "2.5");
        assert_eq!(
            form["sender_address"],
            entry["sender_address"].as_str().unwrap()
        );
        assert_eq!(form["nonce"].len(), 16);
        assert_eq!(form["signature"].len(), 256);
    }

    let output = run(send_args(&node, entry, OVERSPEND)).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_json(&output)["message"], "Invalid Transaction!");
    assert!(
        stderr(&output).contains("insufficient funds"),
        "{}",
        stderr(&output)
    );

    let dead = dead_url().await;
    let output = run(send_args(&dead, entry, "1")).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot reach the node"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn balance_and_transactions_read_the_node() {
    let vectors = vectors();
    let me = vectors["wallets"][0]["public_key"].as_str().unwrap();
    let (node, _) = spawn_fake_node(me).await;

    let output = run(args(&["balance", "--node", &node, "--address", me])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let balance = stdout_json(&output);
    assert_eq!(balance["balance"], "95");
    assert_eq!(balance["address"], me);

    let output = run(args(&["balance", "--node", &node, "--address", "nope"])).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("address is not hexadecimal"),
        "{}",
        stderr(&output)
    );

    let output = run(args(&["transactions", "--node", &node])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let list = stdout_json(&output);
    let txs = list["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 3);
    assert_eq!(txs[1]["block"], 2);
    assert_eq!(txs[1]["recipient_address"], common::ALICE);

    let output = run(args(&["transactions", "--node", &node, "--pending"])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout_json(&output)["transactions"][0]["value"], "2");
}

#[tokio::test]
async fn mine_asks_the_node_for_blocks_that_pay_the_wallet() {
    let vectors = vectors();
    let me = vectors["wallets"][0]["public_key"].as_str().unwrap();
    let (node, _) = spawn_fake_node(me).await;

    let output = run(args(&[
        "mine", "--node", &node, "--to", me, "--blocks", "2",
    ]))
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let mined = stdout_json(&output);
    let blocks = mined["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(
        blocks[0]["reward"]["address"], me,
        "the node was sent the wallet"
    );
    assert_eq!(mined["balance"]["balance"], "95");

    let output = run(args(&["mine", "--node", &node, "--to", "nope"])).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("to is not hexadecimal"),
        "{}",
        stderr(&output)
    );
    let output = run(args(&["mine", "--node", &dead_url().await, "--to", me])).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot reach the node"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn help_warns_before_binding_beyond_loopback() {
    let output = run(args(&["--help"])).await;
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("--host") && help.contains("WARNING"),
        "{help}"
    );
}

/// Starts the wallet app on a free port with `extra` arguments, its node unreachable;
/// returns it, its URL and its log (stderr), once it listens.
async fn start_server(
    extra: &[&str],
) -> (
    std::process::Child,
    String,
    std::io::BufReader<std::process::ChildStderr>,
) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(BIN)
        .args(["--port", "0", "--node", &dead_url().await])
        .args(extra)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // Readiness: the server logs its address once it listens.
    let (base, log) = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "the server exited"
            );
            if let Some(at) = line.find("http://127.0.0.1:") {
                let url: String = line[at..].split_whitespace().next().unwrap().to_owned();
                return (url, stderr);
            }
        }
    })
    .await
    .unwrap();
    (child, base, log)
}

#[tokio::test]
async fn the_server_logs_one_line_per_request_and_never_a_key() {
    use std::io::Read;

    let vectors = vectors();
    let entry = &vectors["valid"][0];
    let secret = entry["sender_private_key"].as_str().unwrap();
    let (mut child, base, mut log) = start_server(&[]).await;

    let form = [
        ("sender_address", entry["sender_address"].as_str().unwrap()),
        ("sender_private_key", secret),
        (
            "recipient_address",
            entry["recipient_address"].as_str().unwrap(),
        ),
        ("amount", "abc"),
    ];
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{base}/generate/transaction"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let url = format!("{base}/wallet?address=x&sender_private_key={secret}");
    assert_eq!(http.get(url).send().await.unwrap().status(), 200);
    let wallet: Value = http
        .get(format!("{base}/wallet/new?bits=1024"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    child.kill().unwrap();
    child.wait().unwrap();
    let mut rest = String::new();
    log.read_to_string(&mut rest).unwrap();
    let request_lines: Vec<_> = rest.lines().filter(|l| l.contains(" request ")).collect();
    assert_eq!(request_lines.len(), 3, "{rest}");
    // The node's shape: method, path without the query string, status, time taken.
    for (line, expected) in request_lines.iter().zip([
        "request method=POST path=/generate/transaction status=400 latency_us=",
        "request method=GET path=/wallet status=200 latency_us=",
        "request method=GET path=/wallet/new status=200 latency_us=",
    ]) {
        assert!(line.contains(expected), "{line:?} has no {expected:?}");
    }
    assert!(request_lines.iter().all(|l| l.contains(" INFO ")), "{rest}");
    assert!(
        !rest.contains(&secret[20..80]),
        "a private key reached the log"
    );
    assert!(!rest.contains(&wallet["private_key"].as_str().unwrap()[20..80]));
    assert!(
        !rest.contains("\u{1b}["),
        "colour codes in a non-terminal log"
    );
}

/// A client cannot hold a connection to the wallet app by stalling: not before its request
/// head, not in the middle of it, and not by keeping an idle connection open.
#[tokio::test]
async fn a_late_or_oversized_body_gets_its_own_refusal() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (mut child, base, _log) = start_server(&["--client-timeout", "1"]).await;
    let address = base.trim_start_matches("http://").to_owned();
    let form = "application/x-www-form-urlencoded";
    // Half a declared body, then nothing: a 408 once the client timeout has passed, and
    // the connection closed, since the rest may still be on its way.
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /generate/transaction HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: {form}\r\nContent-Length: 400\r\n\r\nsender_address=ab"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut answer))
        .await
        .expect("the app answers and closes")
        .expect("a clean close, not a reset");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"the request body did not arrive in time"#),
        "{answer}"
    );

    // A declared body over the limit: a 413 in the app's JSON, before any of it is read.
    let oversized = reqwest::Client::new()
        .post(format!("{base}/generate/transaction"))
        .header("content-type", form)
        .body(vec![b'a'; 100 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 413);
    let body: serde_json::Value = oversized.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("at most 65536")),
        "{body}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_stalled_client_cannot_hold_a_connection() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (mut child, base, _log) = start_server(&["--client-timeout", "1"]).await;
    let address = base.trim_start_matches("http://").to_owned();
    let until_closed = async |stream: &mut tokio::net::TcpStream| {
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut answer))
            .await
            .expect("the app closes a stalled connection")
            .expect("a clean close, not a reset");
        String::from_utf8_lossy(&answer).into_owned()
    };
    for sent in [
        String::new(),
        format!("GET / HTTP/1.1\r\nHost: {address}\r\n"),
        format!("GET /favicon.ico HTTP/1.1\r\nHost: {address}\r\n\r\n"),
    ] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream.write_all(sent.as_bytes()).await.unwrap();
        let answer = until_closed(&mut stream).await;
        let expected = if sent.ends_with("\r\n\r\n") {
            "HTTP/1.1 200"
        } else {
            ""
        };
        assert!(answer.starts_with(expected), "{sent:?}: {answer:?}");
        assert_eq!(
            answer.is_empty(),
            expected.is_empty(),
            "{sent:?}: {answer:?}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
