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

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use blockchain_api::Resolved;
use blockchain_bench::api::{self, status};
use blockchain_bench::{
    NodeProcess, funded_genesis, mine_chain, node_binary, node_command, random_wallets,
    signed_payments, store_chain,
};
use blockchain_core::ledger::verify_signatures;
use blockchain_core::{BlockHash, NetworkParams, Transaction};
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
    let threads = rayon::current_num_threads();
    let node_binary = node_binary(None)?;
    println!(
        "sync bench: {} blocks, {} payments, {}-bit keys, {} cores",
        args.blocks, args.txs, args.bits, threads
    );

    let started = Instant::now();
    let wallets = random_wallets(args.wallets, args.bits);
    let genesis = funded_genesis("sync-bench", &wallets, Some(args.difficulty));
    let params = NetworkParams::from_json(&genesis)?;
    let payments = signed_payments(&wallets, args.txs);
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
    let tip = blocks.last().expect("genesis at least").hash();
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
    store_chain(&dir_a, &params, blocks)?;
    let miner = wallets[0].address().as_hex().to_owned();
    let started = Instant::now();
    let a = start_node(&node_binary, &dir_a, &genesis_file, &miner)?;
    println!(
        "  node A restored the chain in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        a.url()
    );
    let b = start_node(&node_binary, &dir_b, &genesis_file, &miner)?;
    let (seconds, resolve_seconds, resolved) =
        runtime.block_on(time_sync(a.url(), b.url(), tip, args.timeout))?;
    let rate = args.txs as f64 / seconds;
    ceiling_seconds = ceiling_seconds.min(verify_all(&payments)?);
    let ceiling = payments.len() as f64 / ceiling_seconds;
    println!(
        "  resolve answered in {resolve_seconds:.2} s: {}",
        serde_json::to_string(&resolved.peers)?
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
    tip: BlockHash,
    timeout: u64,
) -> anyhow::Result<(f64, f64, Resolved)> {
    let http = api::client(Some(Duration::from_secs(120)))?;
    let a_tip = status(&http, a).await?.tip_hash;
    if a_tip != tip {
        bail!("node A serves tip {a_tip}, expected {tip}");
    }
    api::register(&http, b, a).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(timeout);
    let resolved = api::resolve(&http, b, None).await?;
    let resolve_seconds = started.elapsed().as_secs_f64();
    while status(&http, b).await?.tip_hash != tip {
        if Instant::now() > deadline {
            bail!(
                "B did not reach A's tip in {timeout} s: {}",
                serde_json::to_string(&resolved)?
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((started.elapsed().as_secs_f64(), resolve_seconds, resolved))
}

/// Starts the node binary on `dir`, paying its rewards to `miner`, and waits until it
/// listens; it logs to this bench's stderr at `RUST_LOG` [default: warn].
fn start_node(
    binary: &Path,
    dir: &Path,
    genesis: &Path,
    miner: &str,
) -> anyhow::Result<NodeProcess> {
    NodeProcess::start(
        node_command(binary, dir, genesis)
            .args(["--miner-address", miner])
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or("warn".into()),
            )
            .stderr(Stdio::inherit()),
    )
    .with_context(|| format!("the node at {}", dir.display()))
}
