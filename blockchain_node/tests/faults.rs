//! Real faults: a data dir on a small tmpfs that fills up and is freed again, a node killed
//! while its disk is full, and damaged data dirs. Mounting needs root; without it each test
//! prints why it skipped.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use blockchain_core::Transaction;
use blockchain_node::storage::{Health, Storage, Write};
use common::{NodeBuilder, Tmpfs, WALLETS, client, get_json, wait_for_json};
use serde_json::Value;

fn body(number: u64, bytes: usize) -> Write {
    Write::PutBody {
        number,
        hash: [number as u8; 32],
        json: vec![b'x'; bytes].into(),
    }
}

/// A full disk refuses writes with its cause named, reads go on, and once space is freed
/// writes are taken again without reopening anything by hand.
#[tokio::test]
async fn storage_refuses_writes_on_a_full_disk_and_takes_them_again_once_freed() {
    let Some(disk) = Tmpfs::mount("24m") else {
        return;
    };
    let dir = disk.path.join("data");
    let storage = Storage::open(&dir).unwrap();
    storage.commit(vec![body(1, 1000)]).await.unwrap();
    let filler = disk.fill();

    let error = storage.commit(vec![body(2, 4 << 20)]).await.unwrap_err();
    let outage = error.outage().expect("an outage");
    assert!(outage.disk_full, "{error}");
    assert_eq!(
        outage.message,
        format!("the disk holding {} is full", dir.display())
    );
    assert!(
        matches!(
            storage.health(),
            Health::Failing {
                disk_full: true,
                ..
            }
        ),
        "{:?}",
        storage.health()
    );
    // Refused at once while the outage lasts, pool entries too.
    let refused = storage
        .commit(vec![Write::PutPoolTx {
            seq: 1,
            json: b"{}".to_vec(),
        }])
        .await
        .unwrap_err();
    assert!(refused.outage().is_some(), "{refused}");
    // Reads go on: the database was reopened at its last commit.
    let read = storage.bodies(&[(1, [1; 32]), (2, [2; 32])]).unwrap();
    assert_eq!(read[0].as_deref(), Some(&[b'x'; 1000][..]));
    assert!(read[1].is_none(), "the failed commit left nothing");

    std::fs::remove_file(filler).unwrap();
    let mut health = storage.watch_health();
    tokio::time::timeout(Duration::from_secs(10), health.wait_for(Option::is_none))
        .await
        .expect("recovered within 10 s")
        .unwrap();
    drop(health);
    assert_eq!(storage.health(), Health::Ok);
    storage.commit(vec![body(2, 4 << 20)]).await.unwrap();
    drop(storage);
    let storage = Storage::open(&dir).unwrap();
    let read = storage.bodies(&[(1, [1; 32]), (2, [2; 32])]).unwrap();
    assert!(read.iter().all(Option::is_some));
}

/// Submits `count` payments in one batch; each item's answer.
async fn pay_batch(url: &str, tag: &str, count: usize) -> Vec<Value> {
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let items: Vec<Value> = (0..count)
        .map(|i| {
            let nonce = format!("{tag}-{i}");
            let tx = Transaction::sign(alice, bob.address(), "0.0001", Some(&nonce)).unwrap();
            serde_json::to_value(tx.to_json()).unwrap()
        })
        .collect();
    let answer: Value = client()
        .post(format!("{url}/transactions/batch"))
        .json(&items)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["results"].as_array().unwrap().clone()
}

/// Submits `count` payments that must all be acknowledged; their ids.
async fn pay(url: &str, tag: &str, count: usize) -> Vec<String> {
    pay_batch(url, tag, count)
        .await
        .iter()
        .map(|result| {
            assert_eq!(result["status"], 201, "{result}");
            result["transaction_id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Submits batches of payments until the node refuses one; the ids it acknowledged (201)
/// and the refusal (an item's answer).
async fn pay_until_refused(url: &str, tag: &str) -> (Vec<String>, Value) {
    let mut acknowledged = Vec::new();
    for round in 0..40 {
        for result in pay_batch(url, &format!("{tag}-{round}"), 500).await {
            match result["status"].as_u64() {
                Some(201) => acknowledged.push(result["transaction_id"].as_str().unwrap().into()),
                _ => return (acknowledged, result),
            }
        }
    }
    panic!("the disk never filled up");
}

fn node_on(disk: &Tmpfs) -> NodeBuilder {
    NodeBuilder::new()
        .data_dir(&disk.path.join("data"))
        .arg("--pool-sender-limit")
        .arg("100000")
}

/// The operator's bad day of issue #21: payments and a block while the disk is full are
/// refused with 507 naming the full disk, `/status` says so, and once space is freed the
/// node takes payments and mines again, without a restart.
#[tokio::test]
async fn a_full_disk_is_refused_with_507_and_the_node_recovers_once_space_is_freed() {
    let Some(disk) = Tmpfs::mount("24m") else {
        return;
    };
    let node = node_on(&disk).start();
    let data_dir = disk.path.join("data");
    let disk_full = format!("the disk holding {} is full", data_dir.display());
    let acknowledged = pay(&node.url, "before", 500).await;
    let filler = disk.fill();

    // The block's commit is the write that fails: redb's.
    let mine = client()
        .get(format!("{}/mine", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), 507);
    assert!(mine.headers().contains_key("retry-after"));
    let refused: Value = mine.json().await.unwrap();
    assert_eq!(refused["message"], "Storage failure");
    assert!(
        refused["error"].as_str().unwrap().contains(&disk_full),
        "{refused}"
    );
    let (_, status) = get_json(&format!("{}/status", node.url)).await;
    assert_eq!(status["storage"]["state"], "failing", "{status}");
    assert_eq!(status["storage"]["error"], disk_full.as_str());
    assert!(status["storage"]["since_ms"].as_u64().unwrap() > 0);
    // The Mine dashboard has the notice its script fills from the status.
    assert!(
        common::get_text(&format!("{}/", node.url))
            .await
            .contains("id=\"storage-notice\"")
    );
    // Reads go on.
    let (code, _) = get_json(&format!("{}/blocks/0", node.url)).await;
    assert_eq!(code, 200);
    // Payments are refused at once while the outage lasts.
    let (_, refusal) = pay_until_refused(&node.url, "full").await;
    assert_eq!(refusal["status"], 507, "{refusal}");
    assert!(
        refusal["error"].as_str().unwrap().contains(&disk_full),
        "{refusal}"
    );

    std::fs::remove_file(filler).unwrap();
    let freed = std::time::Instant::now();
    wait_until_writable(&node.url).await;
    eprintln!(
        "writes taken again {} ms after space was freed",
        freed.elapsed().as_millis()
    );
    let (code, block) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(code, 200, "{block}");
    let mined = ids(&block["transactions"]);
    let (_, pool) = get_json(&format!("{}/transactions/get", node.url)).await;
    let pending = ids(&pool["transactions"]);
    for id in &acknowledged {
        assert!(
            mined.contains(id) || pending.contains(id),
            "acknowledged {id} was lost"
        );
    }
    let (_, again) = pay_once(&node.url).await;
    assert_eq!(again, 201);
}

/// Waits (up to 10 s) for the node's `/status` to say its storage takes writes again.
async fn wait_until_writable(url: &str) {
    let status = wait_for_json(&format!("{url}/status"), Duration::from_secs(10), |s| {
        s["storage"]["state"] == "ok"
    })
    .await;
    assert_eq!(status["storage"]["state"], "ok", "{status}");
}

/// The ids of a JSON list of transactions.
fn ids(transactions: &Value) -> HashSet<String> {
    transactions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|tx| tx["id"].as_str().map(str::to_owned))
        .collect()
}

/// One payment; its id and status.
async fn pay_once(url: &str) -> (String, u64) {
    let (alice, bob) = (&WALLETS[0].key, &WALLETS[1].key);
    let tx = Transaction::sign(alice, bob.address(), "0.5", Some("after")).unwrap();
    let response = client()
        .post(format!("{url}/transactions/new"))
        .form(&common::form_of(&tx))
        .send()
        .await
        .unwrap();
    (tx.id().to_string(), u64::from(response.status().as_u16()))
}

/// `kill -9` while the disk is full loses nothing acknowledged: the node restarts on the
/// still full disk with every acknowledged payment pending, and mines once it is freed.
#[tokio::test]
async fn a_node_killed_while_its_disk_is_full_restarts_with_everything_acknowledged() {
    let Some(disk) = Tmpfs::mount("24m") else {
        return;
    };
    let node = node_on(&disk).start();
    let mut acknowledged = pay(&node.url, "before", 500).await;
    let filler = disk.fill();
    // Into the journal's space zero-filled ahead, until that is used up.
    let (while_full, refusal) = pay_until_refused(&node.url, "kill").await;
    assert_eq!(refusal["status"], 507, "{refusal}");
    eprintln!(
        "while full: {} payments acknowledged, then refused",
        while_full.len()
    );
    acknowledged.extend(while_full);
    let (code, _) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(code, 507);
    let node = node.restart(&["--pool-sender-limit".into(), "100000".into()]);

    let (_, pool) = get_json(&format!("{}/transactions/get", node.url)).await;
    let pending = ids(&pool["transactions"]);
    let lost = acknowledged
        .iter()
        .filter(|id| !pending.contains(*id))
        .count();
    assert_eq!(lost, 0, "of {} acknowledged", acknowledged.len());

    std::fs::remove_file(filler).unwrap();
    let (code, block) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(code, 200, "{block}");
}

/// A node that mined a block and holds pending payments, stopped cleanly: its data dir
/// and genesis file (kept as long as the returned node is).
async fn stopped_node_with_a_chain(
    builder: NodeBuilder,
    kill: bool,
) -> (common::StoppedNode, PathBuf, PathBuf) {
    let node = builder.start();
    pay(&node.url, "mined", 20).await;
    let (code, _) = get_json(&format!("{}/mine", node.url)).await;
    assert_eq!(code, 200);
    pay(&node.url, "pending", 20).await;
    let (data_dir, genesis) = (node.data_dir.clone(), node.genesis.clone());
    if kill {
        return (node.restart_later(), data_dir, genesis);
    }
    let (status, stopped) = node.terminate();
    assert!(status.success());
    (stopped, data_dir, genesis)
}

/// The refusal every damaged data dir gets: an exit code, no panic, the file named, what
/// is wrong and what to do.
fn assert_refused(
    status: std::process::ExitStatus,
    stderr: &str,
    file: &Path,
    wrong: &str,
    advice: &str,
) {
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let line = stderr
        .lines()
        .find(|line| line.starts_with("Error: "))
        .unwrap_or_else(|| panic!("no error line in {stderr}"));
    assert!(line.contains(&file.display().to_string()), "{line}");
    assert!(line.contains(wrong), "{line}");
    assert!(line.contains(advice), "{line}");
    eprintln!("{line}");
}

const RESTORE: &str = "restore the data dir from a backup, or start with a fresh data dir";

#[tokio::test]
async fn a_read_only_data_dir_is_refused_with_what_to_do() {
    let Some(disk) = Tmpfs::mount("24m") else {
        return;
    };
    let (_stopped, data_dir, genesis) = stopped_node_with_a_chain(node_on(&disk), false).await;
    disk.remount("ro");
    let (status, stderr) = common::start_expecting_exit(&data_dir, &genesis);
    disk.remount("rw");
    assert_refused(
        status,
        &stderr,
        &data_dir.join("chain.redb"),
        "Read-only file system",
        "make the data dir writable",
    );
}

fn truncate_to_half(file: &Path) {
    let file = std::fs::OpenOptions::new().write(true).open(file).unwrap();
    file.set_len(file.metadata().unwrap().len() / 2).unwrap();
}

#[tokio::test]
async fn a_truncated_database_is_refused_not_replaced() {
    let (_stopped, data_dir, genesis) = stopped_node_with_a_chain(NodeBuilder::new(), false).await;
    let database = data_dir.join("chain.redb");
    truncate_to_half(&database);
    let (status, stderr) = common::start_expecting_exit(&data_dir, &genesis);
    assert_refused(status, &stderr, &database, "truncated", RESTORE);

    // After a crash (no clean shutdown) redb repairs the file as it opens it, and takes
    // a file cut short to its first pages for one that holds nothing: not a new chain.
    let (_killed, data_dir, genesis) = stopped_node_with_a_chain(NodeBuilder::new(), true).await;
    let database = data_dir.join("chain.redb");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&database)
        .unwrap()
        .set_len(12 << 10)
        .unwrap();
    let (status, stderr) = common::start_expecting_exit(&data_dir, &genesis);
    assert_refused(status, &stderr, &database, "truncated", RESTORE);

    // Gone while the pool journal is there: deleted or moved, not a new data dir.
    std::fs::remove_file(&database).unwrap();
    let (status, stderr) = common::start_expecting_exit(&data_dir, &genesis);
    assert_refused(status, &stderr, &database, "missing", RESTORE);
    assert!(!database.exists(), "no new chain made");

    // Truncated to nothing, redb would start a new database in it: the node does not.
    std::fs::File::create(&database).unwrap();
    let (status, stderr) = common::start_expecting_exit(&data_dir, &genesis);
    assert_refused(status, &stderr, &database, "empty", RESTORE);
    assert_eq!(
        std::fs::metadata(&database).unwrap().len(),
        0,
        "left as it was"
    );
}

#[tokio::test]
async fn a_corrupted_database_is_refused() {
    let (_stopped, data_dir, genesis) = stopped_node_with_a_chain(NodeBuilder::new(), false).await;
    let database = data_dir.join("chain.redb");
    let mut bytes = std::fs::read(&database).unwrap();
    // Garbage over everything but redb's header page.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for byte in &mut bytes[4096..] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    std::fs::write(&database, &bytes).unwrap();
    let (status, stderr) = common::start_expecting_exit(&data_dir, &genesis);
    // redb panics on this one ("entered unreachable code"): caught, and said plainly.
    assert_refused(status, &stderr, &database, "damaged", RESTORE);
}

#[tokio::test]
async fn a_journal_with_garbage_in_the_middle_is_refused() {
    let (_stopped, data_dir, genesis) = stopped_node_with_a_chain(NodeBuilder::new(), false).await;
    let journal = data_dir.join("pool.journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    // Inside the first records (the file starts with an 8-byte magic), well before the
    // last of the 40 payments.
    bytes[1000..1064].fill(b'#');
    std::fs::write(&journal, &bytes).unwrap();
    let (status, stderr) = common::start_expecting_exit(&data_dir, &genesis);
    assert_refused(status, &stderr, &journal, "damaged in the middle", RESTORE);
}

/// The background miner stops at a full disk instead of searching for blocks it cannot
/// store, and mines again by itself once space is freed.
#[tokio::test]
async fn background_mining_waits_out_a_full_disk_and_resumes() {
    let Some(disk) = Tmpfs::mount("24m") else {
        return;
    };
    let node = node_on(&disk)
        .arg("--mine")
        .arg("--block-interval")
        .arg("0.1")
        .start();
    let status_url = format!("{}/status", node.url);
    pay(&node.url, "first", 10).await;
    let status = wait_for_json(&status_url, Duration::from_secs(30), |s| s["height"] == 1).await;
    assert_eq!(status["height"], 1, "{status}");
    let filler = disk.fill();
    // Taken into the journal's space zero-filled ahead; the block that would hold it is not.
    pay(&node.url, "while-full", 10).await;
    let status = wait_for_json(&status_url, Duration::from_secs(30), |s| {
        s["storage"]["state"] == "failing" && s["mining"] == false
    })
    .await;
    assert_eq!(status["storage"]["state"], "failing", "{status}");
    assert_eq!(status["height"], 1);
    assert_eq!(status["pool_size"], 10);

    std::fs::remove_file(filler).unwrap();
    let status = wait_for_json(&status_url, Duration::from_secs(30), |s| s["height"] == 2).await;
    assert_eq!(status["height"], 2, "{status}");
    assert_eq!(status["storage"]["state"], "ok");
    assert_eq!(status["pool_size"], 0);
}

/// A peer's block while the disk is full is refused with 507 (it was "block not stored"
/// and a 500 for as long as the node ran); once space is freed the same block is taken.
#[tokio::test]
async fn a_peers_block_is_refused_while_full_and_taken_once_freed() {
    let Some(disk) = Tmpfs::mount("24m") else {
        return;
    };
    let node = node_on(&disk).start();
    let peer = NodeBuilder::new().start();
    let (code, _) = get_json(&format!("{}/mine", peer.url)).await;
    assert_eq!(code, 200);
    let block = client()
        .get(format!("{}/blocks/1", peer.url))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let offer = || async {
        let response = client()
            .post(format!("{}/blocks", node.url))
            .header("content-type", "application/json")
            .body(block.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.unwrap())
    };

    let filler = disk.fill();
    let (status, refusal) = offer().await;
    assert_eq!(status, 507, "{refusal}");
    assert!(
        refusal["error"].as_str().unwrap().contains("is full"),
        "{refusal}"
    );
    let (_, height) = get_json(&format!("{}/status", node.url)).await;
    assert_eq!(height["height"], 0);

    std::fs::remove_file(filler).unwrap();
    wait_until_writable(&node.url).await;
    let (status, accepted) = offer().await;
    assert_eq!(status, 201, "{accepted}");
    let (_, after) = get_json(&format!("{}/status", node.url)).await;
    assert_eq!(after["height"], 1);
}
