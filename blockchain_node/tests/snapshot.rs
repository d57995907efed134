//! `blockchain_node export` and `import`, end to end: a node mines a lab's chain and is
//! stopped; the export holds it (and no private key unless asked); an import makes a data
//! dir that a node starts on with the same chain, balances and settings; tampered files
//! are refused with their reason and leave no data dir behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use blockchain_core::{Block, Transaction};
use common::{NodeBuilder, WALLETS, client, form_of, get_json, post_form};
use serde_json::{Value, json};

fn node_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_blockchain_node"))
}

/// Runs `blockchain_node` with `args` to completion.
fn run(args: &[&str]) -> Output {
    node_bin()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("blockchain_node runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A node started on `data_dir` with no flags but the port: as an operator starts an
/// imported lab. Killed when dropped.
struct Plain {
    child: Child,
    url: String,
}

impl Plain {
    fn start(data_dir: &Path) -> Plain {
        let mut child = node_bin()
            .args(["--port", "0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("node starts");
        let url = common::listening_url(&mut child);
        Plain { child, url }
    }
}

impl Plain {
    /// Stops the node as Ctrl-C does, so its database is closed cleanly.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap();
        assert!(sent.success());
        assert!(self.child.wait().unwrap().success());
    }
}

impl Drop for Plain {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a node shows of its chain: what an imported node must show again.
#[derive(Debug, PartialEq)]
struct Seen {
    tip_hash: Value,
    height: Value,
    chain: Value,
    balances: Vec<Value>,
    settings: Value,
    node_wallet: String,
}

async fn seen(url: &str) -> Seen {
    let (_, status) = get_json(&format!("{url}/status")).await;
    let (_, chain) = get_json(&format!("{url}/chain")).await;
    let (_, mut settings) = get_json(&format!("{url}/settings")).await;
    let node_wallet = settings["node_wallet"].as_str().unwrap().to_owned();
    // The node's own wallet comes from the key, compared on its own.
    settings.as_object_mut().unwrap().remove("node_wallet");
    let mut balances = Vec::new();
    for address in WALLETS.iter().map(|w| w.key.address().to_string()) {
        let (_, balance) = get_json(&format!("{url}/balance?address={address}")).await;
        balances.push(balance["balance"].clone());
    }
    let (_, ours) = get_json(&format!("{url}/balance?address={node_wallet}")).await;
    balances.push(ours["balance"].clone());
    Seen {
        tip_hash: status["tip_hash"].clone(),
        height: status["height"].clone(),
        chain,
        balances,
        settings,
        node_wallet,
    }
}

/// A stopped lab: its data dir, what its node showed, and its exports.
struct Lab {
    dir: tempfile::TempDir,
    data_dir: PathBuf,
    seen: Seen,
    /// Exported without the miner's key.
    plain: PathBuf,
    /// Exported with `--include-miner-key`.
    keyed: PathBuf,
}

/// The form of a payment of `value` from `from` to `to`.
fn pay(
    from: &blockchain_core::PrivateKey,
    to: &blockchain_core::PrivateKey,
    value: &str,
    nonce: &str,
) -> Vec<(&'static str, String)> {
    form_of(&Transaction::sign(from, to.address(), value, Some(nonce)).unwrap())
}

async fn mine(url: &str) {
    let response = client().post(format!("{url}/mine")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

/// A node mines payments between the vector wallets, the operator changes settings, a
/// block is mined under them; then the node is stopped and exported both ways.
async fn lab() -> Lab {
    let node = NodeBuilder::new().start();
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let url = node.url.clone();
    let tx_url = format!("{url}/transactions/new");
    for (i, value) in ["10", "2.5", "0.00000001"].into_iter().enumerate() {
        let (status, body) = post_form(&tx_url, &pay(alice, bob, value, &format!("a{i}"))).await;
        assert_eq!(status, 201, "{body}");
    }
    mine(&url).await;
    let (status, _) = post_form(&tx_url, &pay(bob, alice, "1", "b0")).await;
    assert_eq!(status, 201);
    mine(&url).await;
    mine(&url).await;
    let response = client()
        .post(format!("{url}/settings"))
        .json(&json!({
            "block_interval": 7.5,
            "mining_difficulty": 9,
            "reward_address": bob.address().to_string(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (status, _) = post_form(&tx_url, &pay(alice, bob, "3", "a9")).await;
    assert_eq!(status, 201);
    mine(&url).await;
    let seen = seen(&url).await;
    assert_eq!(seen.height, 4);
    assert_eq!(seen.settings["reward_address"], bob.address().to_string());

    let dir = tempfile::tempdir().unwrap();
    let running = dir.path().join("running.jsonl");
    let out = run(&[
        "export",
        "--data-dir",
        node.data_dir.to_str().unwrap(),
        "--genesis",
        node.genesis.to_str().unwrap(),
        "--out",
        running.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "export beside a running node");
    assert!(
        stderr(&out).contains("stop the node first"),
        "{}",
        stderr(&out)
    );
    assert!(!running.exists());

    let (node_dir, node_genesis) = (node.data_dir.clone(), node.genesis.clone());
    let (status, stopped) = node.terminate();
    assert!(status.success());
    let plain = dir.path().join("lab.jsonl");
    let keyed = dir.path().join("lab-with-key.jsonl");
    // Out of the node's temp dir, which goes with `stopped`.
    let data_dir = dir.path().join("data");
    copy_dir(&node_dir, &data_dir);
    let genesis = dir.path().join("genesis.json");
    std::fs::copy(&node_genesis, &genesis).unwrap();
    drop(stopped);
    for (file, extra) in [(&plain, None), (&keyed, Some("--include-miner-key"))] {
        let mut args = vec![
            "export",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--genesis",
            genesis.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
        ];
        args.extend(extra);
        let out = run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("exported blocks 0 to 4"), "{said}");
    }
    Lab {
        dir,
        data_dir,
        seen,
        plain,
        keyed,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn import(file: &Path, data_dir: &Path) -> Output {
    run(&[
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        data_dir.to_str().unwrap(),
    ])
}

fn header(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

#[tokio::test]
async fn an_imported_lab_shows_the_same_chain_balances_and_settings() {
    let lab = lab().await;
    let plain_text = std::fs::read_to_string(&lab.plain).unwrap();
    assert_eq!(
        plain_text.lines().count(),
        1 + 5,
        "a header and blocks 0 to 4"
    );

    // The miner's key only when asked for, and then the node's own.
    let key = header(&lab.keyed)["miner_private_key"]
        .as_str()
        .expect("the keyed export holds the key")
        .to_owned();
    let key = blockchain_core::PrivateKey::from_hex(&key).unwrap();
    assert_eq!(key.address().to_string(), lab.seen.node_wallet);
    assert!(header(&lab.plain).get("miner_private_key").is_none());
    assert!(!plain_text.contains(key.to_hex().as_str()));
    let raw = std::fs::read(lab.data_dir.join("chain.redb")).unwrap();
    let key_hex = key.to_hex();
    assert!(
        raw.windows(key_hex.len()).any(|w| w == key_hex.as_bytes()),
        "the data dir holds the key the export leaves out"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&lab.keyed).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "a file with a private key is its owner's alone"
        );
    }

    // Without the key: the same chain and settings, a new wallet of the node's own.
    let target = lab.dir.path().join("imported");
    let out = import(&lab.plain, &target);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported blocks 0 to 4"));
    let node = Plain::start(&target);
    let imported = seen(&node.url).await;
    assert_eq!(imported.tip_hash, lab.seen.tip_hash);
    assert_eq!(imported.height, lab.seen.height);
    assert_eq!(imported.chain, lab.seen.chain);
    assert_eq!(imported.settings, lab.seen.settings);
    assert_eq!(imported.balances[..3], lab.seen.balances[..3]);
    assert_ne!(imported.node_wallet, lab.seen.node_wallet);
    drop(node);

    // With it: the very node, down to its wallet.
    let target = lab.dir.path().join("imported-with-key");
    let out = import(&lab.keyed, &target);
    assert!(out.status.success(), "{}", stderr(&out));
    let node = Plain::start(&target);
    assert_eq!(seen(&node.url).await, lab.seen);
    node.stop();
    // Exported again (its genesis.json names the network): the same file.
    let again = lab.dir.path().join("again.jsonl");
    let out = run(&[
        "export",
        "--data-dir",
        target.to_str().unwrap(),
        "--include-miner-key",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        std::fs::read_to_string(&lab.keyed).unwrap()
    );

    // A data dir that holds anything is refused, and kept as it was.
    let out = import(&lab.plain, &target);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not empty"), "{}", stderr(&out));
    let node = Plain::start(&target);
    assert_eq!(seen(&node.url).await.tip_hash, lab.seen.tip_hash);

    // An empty one is fine.
    let empty = lab.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = import(&lab.plain, &empty);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Block `number`'s line of a snapshot, as JSON.
fn block_line(lines: &[String], number: usize) -> Value {
    serde_json::from_str(&lines[number + 1]).unwrap()
}

/// `block` with its claimed hash and Merkle root dropped, so the import checks the rules
/// behind them (a claim the contents do not have is refused as the block is read).
fn unclaimed(mut block: Value) -> String {
    drop_claims(&mut block);
    block.to_string()
}

fn drop_claims(block: &mut Value) {
    let fields = block.as_object_mut().unwrap();
    fields.remove("hash");
    fields.remove("merkle_root");
}

/// `block` as parsed, mined again so its proof of work holds.
fn mined(mut block: Value) -> String {
    drop_claims(&mut block);
    let block: Block = serde_json::from_value(block).unwrap();
    let mined = (0u64..)
        .map(|nonce| block.clone().with_nonce(nonce))
        .find(|b| b.difficulty().is_met_by(&b.hash().0))
        .unwrap();
    serde_json::to_string(&mined).unwrap()
}

#[tokio::test]
async fn tampered_snapshots_are_refused_with_their_reason_and_leave_no_data_dir() {
    let lab = lab().await;
    let text = std::fs::read_to_string(&lab.plain).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let last = lines.len() - 2;
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);

    let tamper = |change: &dyn Fn(&mut Vec<String>)| {
        let mut lines = lines.clone();
        change(&mut lines);
        lines.join("\n") + "\n"
    };
    let payment_value = |value: &str| {
        let mut block = block_line(&lines, 1);
        block["transactions"][0]["value"] = json!(value);
        block
    };
    let last_refused = format!("block {last} refused");
    let cut_short = format!("ends after block {}", last - 1);
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "a changed amount",
            tamper(&|l| l[2] = payment_value("100").to_string()),
            vec!["block 1", "is not the Merkle root of its transactions"],
        ),
        (
            "a changed amount, its hash dropped",
            tamper(&|l| l[2] = unclaimed(payment_value("100"))),
            vec!["block 1 refused", "transaction 0", "signature"],
        ),
        (
            "a bad signature",
            tamper(&|l| {
                let mut block = block_line(&lines, 1);
                let signature = block["transactions"][1]["signature"].as_str().unwrap();
                let flipped = if signature.starts_with('0') { "1" } else { "0" };
                block["transactions"][1]["signature"] =
                    json!(format!("{flipped}{}", &signature[1..]));
                l[2] = unclaimed(block);
            }),
            vec!["block 1 refused", "transaction 1", "signature"],
        ),
        (
            "a broken link",
            tamper(&|l| {
                let mut block = block_line(&lines, 2);
                block["previous_hash"] = json!("ab".repeat(32));
                l[3] = unclaimed(block);
            }),
            vec!["block 2 refused", "previous_hash", "is not the tip"],
        ),
        (
            "no proof of work",
            tamper(&|l| {
                let mut block = block_line(&lines, last);
                block.as_object_mut().unwrap().remove("hash");
                let parsed: Block = serde_json::from_value(block.clone()).unwrap();
                let nonce = (0u64..)
                    .find(|&n| {
                        let b = parsed.clone().with_nonce(n);
                        !b.difficulty().is_met_by(&b.hash().0)
                    })
                    .unwrap();
                block["nonce"] = json!(nonce);
                l[last + 1] = block.to_string();
            }),
            vec![&last_refused, "does not meet difficulty"],
        ),
        (
            "a bigger reward",
            tamper(&|l| {
                let mut block = block_line(&lines, last);
                let reward = block["transactions"].as_array().unwrap().len() - 1;
                block["transactions"][reward]["value"] = json!("5");
                l[last + 1] = mined(block);
            }),
            vec![&last_refused, "reward is 5 but the network pays 1"],
        ),
        (
            "a payment beyond the sender's balance",
            tamper(&|l| {
                let mut block = block_line(&lines, last);
                let overspend =
                    Transaction::sign(bob, alice.address(), "1000000", Some("x")).unwrap();
                block["transactions"]
                    .as_array_mut()
                    .unwrap()
                    .insert(0, serde_json::to_value(&overspend).unwrap());
                l[last + 1] = mined(block);
            }),
            vec![&last_refused, "insufficient funds"],
        ),
        (
            "a wrong genesis",
            tamper(&|l| {
                let mut header: Value = serde_json::from_str(&l[0]).unwrap();
                header["genesis"]["allocations"][0]["value"] = json!("1000000");
                l[0] = header.to_string();
            }),
            vec!["wrong genesis"],
        ),
        (
            "a chain cut short",
            tamper(&|l| {
                l.pop();
            }),
            vec![&cut_short],
        ),
        (
            "not a snapshot",
            "{\"chain\": []}\n".to_owned(),
            vec!["line 1: not a blockchain_node snapshot"],
        ),
    ];
    let parent = lab.dir.path().join("refused");
    std::fs::create_dir(&parent).unwrap();
    for (i, (what, text, reasons)) in cases.iter().enumerate() {
        let file = lab.dir.path().join(format!("tampered-{i}.jsonl"));
        std::fs::write(&file, text).unwrap();
        let target = parent.join(format!("data-{i}"));
        let out = import(&file, &target);
        let said = stderr(&out);
        eprintln!("{what}: {said}");
        assert_eq!(out.status.code(), Some(1), "{what}: {said}");
        assert!(
            said.starts_with("error: import refused: "),
            "{what}: {said}"
        );
        for reason in reasons {
            assert!(
                said.contains(reason),
                "{what}: {said:?} should say {reason:?}"
            );
        }
        assert!(!said.contains("panicked"), "{what}: {said}");
        assert!(!target.exists(), "{what}: left {}", target.display());
        let left: Vec<_> = std::fs::read_dir(&parent).unwrap().collect();
        assert!(left.is_empty(), "{what}: left {left:?}");
    }
    // The untouched file still imports: the refusals were the tampering's.
    let out = import(&lab.plain, &parent.join("data"));
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test]
async fn export_says_what_is_wrong_with_a_data_dir() {
    let node = NodeBuilder::new().start();
    mine(&node.url).await;
    let (data_dir, genesis) = (node.data_dir.clone(), node.genesis.clone());
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("lab.jsonl");
    let export = |dir: &Path, genesis: Option<&Path>| {
        let mut args = vec![
            "export",
            "--data-dir",
            dir.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
        ];
        if let Some(genesis) = genesis {
            args.extend(["--genesis", genesis.to_str().unwrap()]);
        }
        run(&args)
    };
    let refused = |output: Output, reason: &str| {
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(stderr(&output).contains(reason), "{}", stderr(&output));
        assert!(!file.exists());
    };

    // Killed: redb wants a repair, which a read-only export does not make.
    let stopped = node.restart_later();
    refused(export(&data_dir, Some(&genesis)), "was not closed cleanly");
    // Another network's parameters: the built-in ones.
    let node = stopped.start();
    let (status, stopped) = node.terminate();
    assert!(status.success(), "{status}");
    refused(export(&data_dir, None), "of another network");
    refused(
        export(&out.path().join("nothing"), None),
        "holds no node database",
    );
    let output = export(&data_dir, Some(&genesis));
    assert!(output.status.success(), "{}", stderr(&output));
    drop(stopped);
}
