//! Load command: measures the node's accepted, durable transactions per second, `/mine`
//! with 1000 pending transactions, and `GET /chain` for 50 blocks holding 2000
//! transactions, against a release build started here with a temporary data dir.
//!
//! ```text
//! cargo build --release -p blockchain_node -p blockchain_bench
//! target/release/loadgen --bits 1024 --txs 20000 --connections 16
//! ```
//!
//! It funds its wallets through a genesis file, pre-signs distinct transactions (a nonce
//! each), posts them as forms over C keep-alive connections, and prints accepted tx/s and
//! p50/p99 latency, next to the single-core signature-verification ceiling measured in
//! this process for the same key size.

mod raw_http;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blockchain_api::{BatchAnswer, ChainPage, Mined};
use blockchain_bench::api::{transaction_form, transaction_request};
use blockchain_bench::usage::{cpu_time, memory};
use blockchain_bench::{NodeProcess, Process, funded_genesis, node_binary, node_command};
use blockchain_core::transaction::check_stateless;
use blockchain_core::{PrivateKey, Transaction};
use clap::Parser;
use rayon::prelude::*;
use serde::de::IgnoredAny;

#[derive(Parser)]
#[command(about = "Load test of a blockchain_node release build")]
struct Args {
    /// Transactions to post in the throughput phase.
    #[arg(long, default_value_t = 20_000)]
    txs: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// RSA key size of the wallets (the original client makes 1024-bit keys).
    #[arg(long, default_value_t = 1024)]
    bits: usize,
    /// Sending wallets (transactions are spread over them).
    #[arg(long, default_value_t = 32)]
    wallets: usize,
    /// The node binary [default: blockchain_node next to this binary].
    #[arg(long)]
    node_bin: Option<PathBuf>,
    /// Node log filter (RUST_LOG); logs go to a file in the temporary directory.
    #[arg(long, default_value = "info")]
    node_log: String,
    /// Which phases to run (also: batch).
    #[arg(long, value_delimiter = ',', default_value = "throughput,mine,chain")]
    phases: Vec<String>,
    /// Transactions per request in the batch phase.
    #[arg(long, default_value_t = 500)]
    batch_size: usize,
}

/// A node process with its temporary directory (data dir, genesis and log).
struct Node {
    process: NodeProcess,
    _dir: tempfile::TempDir,
}

fn start_node(args: &Args, wallets: &[PrivateKey], difficulty: Option<u32>) -> Node {
    let dir = tempfile::tempdir().expect("temp dir");
    let genesis_path = dir.path().join("genesis.json");
    std::fs::write(
        &genesis_path,
        funded_genesis("loadgen", wallets, difficulty),
    )
    .expect("write genesis");
    let binary = node_binary(args.node_bin.as_deref()).unwrap_or_else(|e| panic!("{e}"));
    let log = std::fs::File::create(dir.path().join("node.log")).expect("log file");
    let process = NodeProcess::start(
        node_command(&binary, &dir.path().join("data"), &genesis_path)
            .args(["--pool-capacity", "1000000"])
            .env("RUST_LOG", &args.node_log)
            .stderr(log),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    Node { process, _dir: dir }
}

fn sign_all(wallets: &[PrivateKey], count: usize, tag: &str) -> Vec<Transaction> {
    (0..count)
        .into_par_iter()
        .map(|i| {
            let from = &wallets[i % wallets.len()];
            let to = wallets[(i + 1) % wallets.len()].address();
            Transaction::sign(from, to, "0.001", Some(&format!("{tag}{i}"))).expect("valid")
        })
        .collect()
}

fn form_body(tx: &Transaction) -> String {
    serde_urlencoded::to_string(transaction_form(tx)).expect("form encodes")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    blockchain_bench::percentile(sorted, p).unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Verifications per second on one thread, key parsing included (as the node does for
/// a sender it has not seen).
fn verification_ceiling(txs: &[Transaction]) -> f64 {
    let sample: Vec<_> = txs.iter().take(2000).map(Transaction::to_json).collect();
    let started = Instant::now();
    for json in &sample {
        let tx = Transaction::try_from(json).expect("parses");
        check_stateless(&tx).expect("verifies");
    }
    sample.len() as f64 / started.elapsed().as_secs_f64()
}

/// Posts form bodies to the node's `/transactions/new` over `connections` keep-alive
/// connections with the lean driver; returns the accepted count, sorted latencies and the
/// elapsed time.
async fn submit_all(node: &Node, bodies: Vec<String>, connections: usize) -> raw_http::Outcome {
    let host = node.process.url().trim_start_matches("http://");
    let addr = host.parse().expect("the node listens on an IP address");
    let requests = bodies
        .iter()
        .map(|body| {
            raw_http::Request::post(
                host,
                "/transactions/new",
                "application/x-www-form-urlencoded",
                body,
            )
        })
        .collect();
    raw_http::send_all(addr, requests, connections, 201)
        .await
        .expect("the node answers")
}

async fn throughput(args: &Args, wallets: &[PrivateKey]) {
    println!(
        "== throughput: {} transactions, {} connections, {}-bit keys",
        args.txs, args.connections, args.bits
    );
    let txs = sign_all(wallets, args.txs, "load");
    let ceiling = verification_ceiling(&txs);
    let node = start_node(args, wallets, None);
    let idle = node_usage(&node);
    let bodies: Vec<String> = txs.iter().map(form_body).collect();
    // Warm the connections and the node's key cache with a few transactions first.
    let warm = sign_all(wallets, wallets.len(), "warm")
        .iter()
        .map(form_body)
        .collect();
    submit_all(&node, warm, args.connections).await;
    let (before, generator_before) = (node_usage(&node), usage(Process::This));
    let raw_http::Outcome {
        succeeded: accepted,
        latencies,
        elapsed,
    } = submit_all(&node, bodies, args.connections).await;
    let (after, generator_after) = (node_usage(&node), usage(Process::This));
    let rate = accepted as f64 / elapsed.as_secs_f64();
    println!(
        "accepted     {accepted} of {} in {:.2} s",
        args.txs,
        elapsed.as_secs_f64()
    );
    println!("throughput   {rate:.0} accepted durable tx/s");
    println!(
        "latency      p50 {}  p99 {}  max {}",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0))
    );
    println!(
        "ceiling      {ceiling:.0} verifications/s on one core (key parsing included); throughput is {:.0}% of it",
        100.0 * rate / ceiling
    );
    if let (Some(idle), Some(before), Some(after)) = (idle, before, after) {
        let cpu = after.cpu.saturating_sub(before.cpu);
        println!(
            "node         {:.0} µs of CPU per accepted tx (user + system, all threads); RSS {:.1} MB idle, {:.1} MB after",
            cpu.as_secs_f64() * 1e6 / accepted.max(1) as f64,
            idle.rss_kb as f64 / 1024.0,
            after.rss_kb as f64 / 1024.0
        );
    }
    if let (Some(before), Some(after)) = (generator_before, generator_after) {
        println!(
            "generator    {:.0} µs of CPU per request (this process, on the same cores)",
            after.cpu.saturating_sub(before.cpu).as_secs_f64() * 1e6 / args.txs.max(1) as f64
        );
    }
}

/// What a process has used so far.
#[derive(Clone, Copy)]
struct Usage {
    cpu: Duration,
    rss_kb: u64,
}

/// The node's CPU time and resident memory (see [`usage`]).
fn node_usage(node: &Node) -> Option<Usage> {
    usage(Process::Id(node.process.pid()))
}

/// A process's CPU time (all threads, user + system) and resident memory; `None` where
/// `/proc` does not say.
fn usage(process: Process) -> Option<Usage> {
    Some(Usage {
        cpu: cpu_time(process).ok()?,
        rss_kb: memory(process).ok()?.resident_kb,
    })
}

async fn mine_latency(args: &Args, wallets: &[PrivateKey], client: &reqwest::Client) {
    println!("== /mine with 1000 pending transactions at the default difficulty");
    let node = start_node(args, wallets, None);
    let mut times = Vec::new();
    for round in 0..5 {
        let bodies = sign_all(wallets, 1000, &format!("mine{round}-"))
            .iter()
            .map(form_body)
            .collect();
        let outcome = submit_all(&node, bodies, args.connections).await;
        assert_eq!(outcome.succeeded, 1000, "all accepted");
        let started = Instant::now();
        let response = client
            .post(format!("{}/mine", node.process.url()))
            .send()
            .await
            .expect("mine");
        let body = response.bytes().await.expect("the answer");
        // Timed to the answer's last byte: reading it as a block checks every address and
        // id, which is this process's work, not the node's.
        let took = started.elapsed();
        let mined: Mined = serde_json::from_slice(&body).expect("a mined block");
        assert_eq!(mined.transactions.len(), 1001);
        times.push(took);
        println!(
            "round {round}: {} (block {}, nonce {})",
            ms(took),
            mined.block_number,
            mined.nonce
        );
    }
    times.sort();
    println!(
        "/mine        median {}  max {}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 1.0))
    );
}

async fn chain_latency(args: &Args, wallets: &[PrivateKey], client: &reqwest::Client) {
    println!("== GET /chain for 50 blocks holding 2000 transactions");
    let node = start_node(args, wallets, Some(8));
    let all = sign_all(wallets, 2000, "chain");
    for (block, chunk) in all.chunks(40).enumerate() {
        let bodies = chunk.iter().map(form_body).collect();
        let outcome = submit_all(&node, bodies, args.connections).await;
        assert_eq!(outcome.succeeded, chunk.len());
        let response = client
            .post(format!("{}/mine", node.process.url()))
            .send()
            .await
            .expect("mine");
        assert!(response.status().is_success(), "block {block}");
    }
    let url = format!("{}/chain", node.process.url());
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..50 {
        let started = Instant::now();
        let body = client
            .get(&url)
            .send()
            .await
            .expect("chain")
            .bytes()
            .await
            .expect("body");
        times.push(started.elapsed());
        size = body.len();
    }
    let page: ChainPage = client
        .get(&url)
        .send()
        .await
        .expect("chain")
        .json()
        .await
        .expect("a page of blocks");
    let txs: usize = page.chain.iter().map(|b| b.transactions().len()).sum();
    times.sort();
    println!(
        "chain        {} blocks, {txs} transactions (rewards included), {:.1} MB",
        page.chain.len(),
        size as f64 / 1e6
    );
    println!(
        "GET /chain   median {}  p99 {}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99))
    );
}

/// `POST /transactions/batch` with `--batch-size` transactions a request, over
/// `--connections` connections: accepted durable transactions per second.
async fn batch_throughput(args: &Args, wallets: &[PrivateKey], client: &reqwest::Client) {
    println!(
        "== batch: {} transactions, {} a request, {} connections, {}-bit keys",
        args.txs, args.batch_size, args.connections, args.bits
    );
    let txs = sign_all(wallets, args.txs, "batch");
    let node = start_node(args, wallets, None);
    let bodies: Vec<String> = txs
        .chunks(args.batch_size.max(1))
        .map(|chunk| {
            let items: Vec<_> = chunk.iter().map(transaction_request).collect();
            serde_json::to_string(&items).expect("batch encodes")
        })
        .collect();
    let queue = Arc::new(std::sync::Mutex::new(bodies.into_iter()));
    let url = format!("{}/transactions/batch", node.process.url());
    let before = node_usage(&node);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (queue, client, url) = (Arc::clone(&queue), client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0;
            loop {
                let Some(body) = queue.lock().expect("queue").next() else {
                    break;
                };
                // Only the count is read: the generator shares the machine with the
                // node, so it skips the 500 results it would throw away.
                let answer: BatchAnswer<IgnoredAny> = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("request")
                    .json()
                    .await
                    .expect("JSON answer");
                accepted += answer.accepted;
            }
            accepted
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        accepted += task.await.expect("task");
    }
    let elapsed = started.elapsed();
    let after = node_usage(&node);
    println!(
        "accepted     {accepted} of {} in {:.2} s",
        args.txs,
        elapsed.as_secs_f64()
    );
    println!(
        "throughput   {:.0} accepted durable tx/s",
        accepted as f64 / elapsed.as_secs_f64()
    );
    if let (Some(before), Some(after)) = (before, after) {
        println!(
            "node         {:.0} µs of CPU per accepted tx (user + system, all threads)",
            (after.cpu - before.cpu).as_secs_f64() * 1e6 / accepted.max(1) as f64
        );
    }
}

fn main() {
    let args = Args::parse();
    println!("generating {} {}-bit wallets…", args.wallets, args.bits);
    let wallets = blockchain_bench::random_wallets(args.wallets, args.bits);
    // One thread for the load so the node keeps the machine's other core(s).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(120))
        .no_proxy()
        .build()
        .expect("client");
    runtime.block_on(async {
        for phase in &args.phases {
            match phase.as_str() {
                "throughput" => throughput(&args, &wallets).await,
                "mine" => mine_latency(&args, &wallets, &client).await,
                "chain" => chain_latency(&args, &wallets, &client).await,
                "batch" => batch_throughput(&args, &wallets, &client).await,
                other => eprintln!("unknown phase {other}"),
            }
        }
    });
}
