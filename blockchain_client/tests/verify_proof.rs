//! `blockchain_client verify-proof`: the built binary checking proofs from a file, stdin
//! and a fake node; a good proof exits 0, a tampered one 1 naming the level that fails.

mod common;

use std::io::Write;
use std::process::{Output, Stdio};

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use blockchain_core::merkle::{self, Side};
use blockchain_core::{Amount, PrivateKey, Transaction};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_blockchain_client");

/// Runs the binary off the async runtime with `stdin` piped in.
async fn run(args: Vec<String>, stdin: Vec<u8>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(BIN)
            .args(&args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&stdin).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

/// Five signed payments and a reward, and the proof JSON of the one at `index`, as a
/// node answers it.
fn block_and_proof(index: usize) -> (Vec<Transaction>, Value) {
    let transactions = block();
    let proof = proof_of(&transactions, index);
    (transactions, proof)
}

fn block() -> Vec<Transaction> {
    let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
    let to = PrivateKey::generate(&mut rand::rng(), 1024)
        .unwrap()
        .address()
        .clone();
    (0..5)
        .map(|n| Transaction::sign(&key, &to, "1", Some(&n.to_string())).unwrap())
        .chain([Transaction::mint(
            to.clone(),
            Amount::from_units(1).unwrap(),
            "7",
        )])
        .collect()
}

fn proof_of(transactions: &[Transaction], index: usize) -> Value {
    let leaves: Vec<[u8; 32]> = transactions.iter().map(Transaction::leaf_hash).collect();
    let path = merkle::merkle_path(&leaves, index).unwrap();
    json!({
        "transaction_id": transactions[index].id().to_string(),
        "block_number": 3,
        "block_hash": "ab".repeat(32),
        "merkle_root": hex::encode(merkle::root_of(&leaves)),
        "leaf": hex::encode(leaves[index]),
        "path": path.iter().map(|step| json!({
            "hash": hex::encode(step.hash),
            "side": if step.side == Side::Left { "left" } else { "right" },
        })).collect::<Vec<_>>(),
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_good_proof_holds_from_a_file_and_from_stdin() {
    let (_, proof) = block_and_proof(4);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proof.json");
    std::fs::write(&file, proof.to_string()).unwrap();
    let output = run(
        vec!["verify-proof".into(), file.display().to_string()],
        vec![],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["verified"], true);
    // Six leaves: the fifth pairs with the sixth, is carried up unpaired, then pairs.
    assert_eq!(answer["levels"], 2);
    assert_eq!(answer["block_number"], 3);

    let output = run(vec!["verify-proof".into()], proof.to_string().into_bytes()).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = run(
        vec!["verify-proof".into(), "-".into()],
        proof.to_string().into_bytes(),
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[tokio::test]
async fn a_tampered_proof_fails_naming_its_level() {
    let (_, proof) = block_and_proof(1);
    let mut altered = proof.clone();
    altered["path"][1]["hash"] = "00".repeat(32).into();
    let mut flipped = proof.clone();
    assert_eq!(proof["path"][0]["side"], "left");
    flipped["path"][0]["side"] = "right".into();
    let mut short = proof.clone();
    short["path"][2]["hash"] = "abc".into();
    let mut root = proof.clone();
    root["merkle_root"] = "11".repeat(32).into();
    for (tampered, expected) in [
        (altered, "level 3: the path leads to"),
        (flipped, "level 3: the path leads to"),
        (
            short,
            "level 3: the sibling's hash abc is not 64 hex digits",
        ),
        (root, "not to the block's Merkle root 1111"),
    ] {
        let output = run(
            vec!["verify-proof".into()],
            tampered.to_string().into_bytes(),
        )
        .await;
        assert_eq!(output.status.code(), Some(1), "{tampered}");
        assert!(
            text(&output.stderr).contains(expected),
            "{}",
            text(&output.stderr)
        );
        assert!(output.stdout.is_empty());
    }
    let output = run(vec!["verify-proof".into()], b"{\"leaf\": 1}".to_vec()).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("not the JSON of GET /transactions/{id}/proof"));
}

/// A node answering one transaction's proof and lookup (`proof` as given), and 409 for
/// any other id.
async fn fake_node(tx: &Transaction, proof: Value) -> String {
    let id = tx.id().to_string();
    let lookup = json!({"status": "confirmed", "block_number": 3, "transaction": tx.to_json()});
    let known = id.clone();
    let app = Router::new()
        .route(
            "/transactions/{id}/proof",
            get(move |axum::extract::Path(asked): axum::extract::Path<String>| {
                let (known, proof) = (known.clone(), proof.clone());
                async move {
                    if asked == known {
                        (StatusCode::OK, Json(proof))
                    } else {
                        (
                            StatusCode::CONFLICT,
                            Json(json!({"message": "Pending", "error": "it is pending: not yet in a block"})),
                        )
                    }
                }
            }),
        )
        .route(
            "/transactions/{id}",
            get(move || {
                let lookup = lookup.clone();
                async move { Json(lookup) }
            }),
        );
    let addr = common::spawn(app, &format!("/transactions/{id}")).await;
    format!("http://{addr}")
}

#[tokio::test]
async fn a_proof_from_a_node_has_its_leaf_checked_too() {
    let (transactions, proof) = block_and_proof(2);
    let node = fake_node(&transactions[2], proof.clone()).await;
    let id = transactions[2].id().to_string();
    let args = |id: &str| {
        vec![
            "verify-proof".into(),
            "--node".into(),
            node.clone(),
            "--id".into(),
            id.to_owned(),
        ]
    };
    let output = run(args(&id), vec![]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));

    // The proof of another transaction of the block, served as this one's: its path
    // holds, but its leaf is not this transaction's.
    let mut other = proof_of(&transactions, 3);
    other["transaction_id"] = id.clone().into();
    let node_lying = fake_node(&transactions[2], other).await;
    let output = run(
        vec![
            "verify-proof".into(),
            "--node".into(),
            node_lying,
            "--id".into(),
            id.clone(),
        ],
        vec![],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("level 0 (the leaf)"),
        "{}",
        text(&output.stderr)
    );

    let output = run(args(&"cd".repeat(32)), vec![]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("409"),
        "{}",
        text(&output.stderr)
    );
    assert!(
        text(&output.stderr).contains("pending"),
        "{}",
        text(&output.stderr)
    );
}
