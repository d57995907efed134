//! Sync benchmark: how fast a fresh node downloads and fully validates a long chain.
//!
//! ```text
//!  sign N payments (all cores) ─► mine B blocks ─► node A adopts them (in-process, stored)
//!  start node A (serves the chain) and a fresh node B; B registers A
//!  time: B's GET /nodes/resolve ... until B's tip is A's tip
//!  ceiling: the same N signatures verified in-process on all cores (core's verify_signatures)
//! ```
//!
//! Run:
//!
//! ```text
//! cargo build --release -p blockchain_node -p blockchain_bench
//! target/release/sync_bench --blocks 5000 --txs 50000 --bits 1024
//! ```
//!
//! The node binary is taken from the same directory as this one (build both in release).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use blockchain_core::ledger::{reward_transaction, verify_signatures};
use blockchain_core::{Block, GenesisFile, NetworkParams, PrivateKey, Transaction};
use blockchain_node::node::{Node, NodeOptions};
use blockchain_node::settings::SettingsPatch;
use clap::Parser;

/// The node's allocator (see `blockchain_node/src/main.rs`): this bench runs the node's code
/// in process, so it allocates as the node does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Measures a fresh node's sync of a long chain against the signature-verification ceiling.
#[derive(Parser)]
struct Args {
    /// Blocks in the chain (genesis excluded).
    #[arg(long, default_value_t = 5000)]
    blocks: usize,
    /// Payments spread evenly over the blocks.
    #[arg(long, default_value_t = 50_000)]
    txs: usize,
    /// Key size of the paying wallets.
    #[arg(long, default_value_t = 1024)]
    bits: usize,
    /// Paying wallets, funded by genesis.
    #[arg(long, default_value_t = 16)]
    wallets: usize,
    /// Network difficulty (leading zero bits).
    #[arg(long, default_value_t = 8)]
    difficulty: u32,
    /// How long to wait for the sync before giving up, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let node_binary = std::env::current_exe()?
        .parent()
        .context("the bench binary has a directory")?
        .join(format!("blockchain_node{}", std::env::consts::EXE_SUFFIX));
    if !node_binary.exists() {
        bail!(
            "{} not found: build it first (cargo build --release -p blockchain_node)",
            node_binary.display()
        );
    }
    println!(
        "sync bench: {} blocks, {} payments, {}-bit keys, {} cores",
        args.blocks, args.txs, args.bits, threads
    );

    let started = Instant::now();
    let wallets = parallel(threads, args.wallets, |_| {
        PrivateKey::generate(&mut rand::rng(), args.bits).expect("key generation")
    });
    let genesis = GenesisFile {
        difficulty: Some(args.difficulty),
        ..GenesisFile::funding(
            "sync-bench",
            wallets.iter().map(PrivateKey::address),
            "1000000",
        )
    }
    .to_json();
    let params = NetworkParams::from_json(&genesis)?;
    let payments = parallel(threads, args.txs, |i| {
        let (from, to) = (
            &wallets[i % wallets.len()],
            &wallets[(i + 1) % wallets.len()],
        );
        Transaction::sign(from, to.address(), "1", Some(&format!("p{i}"))).expect("valid")
    });
    println!(
        "  made {} wallets and signed {} payments in {:.1} s",
        wallets.len(),
        payments.len(),
        started.elapsed().as_secs_f64()
    );

    // The ceiling: every signature verified in-process, in parallel, keys already parsed.
    // Measured before and after the sync (cores are shared); the faster run counts.
    let mut ceiling_seconds = verify_all(&payments)?;

    let started = Instant::now();
    let blocks = mine_chain(&params, &wallets[0], payments.clone(), args.blocks);
    let tip = blocks.last().expect("genesis at least").hash().to_string();
    println!(
        "  mined {} blocks in {:.1} s",
        blocks.len() - 1,
        started.elapsed().as_secs_f64()
    );

    let work = tempfile::tempdir()?;
    let genesis_file = work.path().join("genesis.json");
    std::fs::write(&genesis_file, &genesis)?;
    let (dir_a, dir_b) = (work.path().join("a"), work.path().join("b"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // A's chain goes in through the node's own adoption, which stores it as state.
    runtime.block_on(async {
        let options = NodeOptions {
            pool_capacity: 1000,
            sender_limit: 1000,
            max_threads: 1,
            settings: SettingsPatch::default(),
        };
        let node = Node::open(&dir_a, params.clone(), &options)?;
        node.adopt_chain(blocks).await?;
        anyhow::Ok(())
    })?;
    let miner = wallets[0].address().as_hex().to_owned();
    let started = Instant::now();
    let a = NodeChild::start(&node_binary, &dir_a, &genesis_file, &miner)?;
    println!(
        "  node A restored the chain in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        a.url
    );
    let b = NodeChild::start(&node_binary, &dir_b, &genesis_file, &miner)?;
    let (seconds, resolve_seconds, resolved) =
        runtime.block_on(time_sync(&a.url, &b.url, &tip, args.timeout))?;
    let rate = args.txs as f64 / seconds;
    ceiling_seconds = ceiling_seconds.min(verify_all(&payments)?);
    let ceiling = payments.len() as f64 / ceiling_seconds;
    println!(
        "  resolve answered in {resolve_seconds:.2} s: {}",
        resolved["peers"]
    );
    println!();
    println!("blocks:        {}", args.blocks);
    println!("transactions:  {}", args.txs);
    println!("sync seconds:  {seconds:.2}");
    println!("sync tx/s:     {rate:.0}");
    println!(
        "ceiling tx/s:  {ceiling:.0}  ({}-bit signatures verified on {threads} cores in {ceiling_seconds:.2} s)",
        args.bits
    );
    println!(
        "ratio:         {:.0}% of the ceiling",
        100.0 * rate / ceiling
    );
    drop((a, b));
    Ok(())
}

/// Seconds to verify every payment's signature with core's parallel `verify_signatures`.
fn verify_all(payments: &[Transaction]) -> anyhow::Result<f64> {
    let started = Instant::now();
    verify_signatures(payments).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(started.elapsed().as_secs_f64())
}

/// Registers A with B, then times B's resolve until B's tip is `tip`: (seconds until
/// synced, seconds until resolve answered, resolve's answer).
async fn time_sync(
    a: &str,
    b: &str,
    tip: &str,
    timeout: u64,
) -> anyhow::Result<(f64, f64, serde_json::Value)> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .no_proxy()
        .build()?;
    let a_tip = status(&http, a).await?["tip_hash"].clone();
    if a_tip != tip {
        bail!("node A serves tip {a_tip}, expected {tip}");
    }
    let registered = http
        .post(format!("{b}/nodes/register"))
        .form(&[("nodes", a)])
        .send()
        .await?;
    if !registered.status().is_success() {
        bail!("registering A with B: {}", registered.status());
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(timeout);
    let resolved: serde_json::Value = http
        .get(format!("{b}/nodes/resolve"))
        .send()
        .await?
        .json()
        .await?;
    let resolve_seconds = started.elapsed().as_secs_f64();
    while status(&http, b).await?["tip_hash"] != tip {
        if Instant::now() > deadline {
            bail!("B did not reach A's tip in {timeout} s: {resolved}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((started.elapsed().as_secs_f64(), resolve_seconds, resolved))
}

/// `f(0..count)` on `threads` threads, in order.
fn parallel<T: Send>(threads: usize, count: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let chunk = count.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .step_by(chunk)
            .map(|start| {
                let f = &f;
                scope.spawn(move || {
                    (start..(start + chunk).min(count))
                        .map(f)
                        .collect::<Vec<T>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker does not panic"))
            .collect()
    })
}

/// A chain of `count` blocks on `params`' genesis holding `payments`, spread evenly.
fn mine_chain(
    params: &NetworkParams,
    miner: &PrivateKey,
    payments: Vec<Transaction>,
    count: usize,
) -> Vec<Block> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let per_block = payments.len().div_ceil(count.max(1));
    let mut payments = payments.into_iter();
    let mut blocks = vec![params.genesis_block()];
    for number in 1..=count as u64 {
        let mut txs: Vec<Transaction> = payments.by_ref().take(per_block).collect();
        txs.push(reward_transaction(miner.address(), params, number));
        let parent = blocks.last().expect("genesis").hash();
        let block = Block::new(number, now, params.difficulty, parent, txs, 0);
        let nonce = block
            .header()
            .pow_template()
            .search(params.difficulty, 0, 1, u64::MAX)
            .expect("a nonce within 2^64 tries");
        blocks.push(block.with_nonce(nonce));
    }
    blocks
}

async fn status(http: &reqwest::Client, url: &str) -> anyhow::Result<serde_json::Value> {
    Ok(http
        .get(format!("{url}/status"))
        .send()
        .await?
        .json()
        .await?)
}

/// A node process, killed when dropped.
struct NodeChild {
    child: Child,
    url: String,
}

impl NodeChild {
    fn start(binary: &Path, dir: &Path, genesis: &Path, miner: &str) -> anyhow::Result<Self> {
        let mut child = Command::new(binary)
            .args([
                "--port",
                "0",
                "--sync-interval",
                "0",
                "--miner-address",
                miner,
            ])
            .arg("--data-dir")
            .arg(dir)
            .arg("--genesis")
            .arg(genesis)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or("warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("piped stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("listening on ") {
                        break url.to_owned();
                    }
                }
                _ => bail!("node at {} exited before listening", dir.display()),
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Ok(NodeChild { child, url })
    }
}

impl Drop for NodeChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
