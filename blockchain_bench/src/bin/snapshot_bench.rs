//! Snapshot benchmark: how long `blockchain_node export` and `import` take on a long chain.
//!
//! ```text
//!  sign N payments (all cores) ─► mine B blocks ─► a data dir adopts them (in process)
//!  time: blockchain_node export --data-dir A --out FILE
//!  time: blockchain_node import FILE --data-dir B   (every block checked on the way in)
//!  then: B exported again is the same file
//! ```
//!
//! Run:
//!
//! ```text
//! cargo build --release -p blockchain_node -p blockchain_bench
//! target/release/snapshot_bench --blocks 1000 --txs 10000
//! ```
//!
//! The node binary is taken from the same directory as this one (build both alike).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, ensure};
use blockchain_bench::{
    funded_genesis, mine_chain, node_binary, random_wallets, signed_payments, store_chain,
};
use blockchain_core::NetworkParams;
use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Times a snapshot's export and import.
#[derive(Parser)]
struct Args {
    /// Blocks in the chain (genesis excluded).
    #[arg(long, default_value_t = 1000)]
    blocks: usize,
    /// Payments spread evenly over the blocks.
    #[arg(long, default_value_t = 10_000)]
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
    /// Keep a copy of the exported file here.
    #[arg(long, value_name = "FILE")]
    keep: Option<std::path::PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = node_binary(None)?;
    println!(
        "snapshot bench: {} blocks, {} payments, {}-bit keys",
        args.blocks, args.txs, args.bits
    );
    let started = Instant::now();
    let wallets = random_wallets(args.wallets, args.bits);
    let genesis = funded_genesis("snapshot-bench", &wallets, Some(args.difficulty));
    let params = NetworkParams::from_json(&genesis)?;
    let payments = signed_payments(&wallets, args.txs);
    let blocks = mine_chain(&params, &wallets[0], payments, args.blocks);
    println!(
        "  made the chain in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let work = tempfile::tempdir()?;
    let genesis_file = work.path().join("genesis.json");
    std::fs::write(&genesis_file, &genesis)?;
    let (from, to) = (work.path().join("from"), work.path().join("to"));
    store_chain(&from, &params, blocks)?;

    let file = work.path().join("lab.jsonl");
    let export_seconds = timed(
        Command::new(&binary)
            .arg("export")
            .arg("--data-dir")
            .arg(&from)
            .arg("--genesis")
            .arg(&genesis_file)
            .arg("--out")
            .arg(&file),
    )?;
    let size = std::fs::metadata(&file)?.len();
    let import_seconds = timed(
        Command::new(&binary)
            .arg("import")
            .arg(&file)
            .arg("--data-dir")
            .arg(&to),
    )?;
    let again = work.path().join("again.jsonl");
    timed(
        Command::new(&binary)
            .arg("export")
            .arg("--data-dir")
            .arg(&to)
            .arg("--out")
            .arg(&again),
    )?;
    ensure!(
        same_file(&file, &again)?,
        "the imported data dir exports another file"
    );
    if let Some(keep) = &args.keep {
        std::fs::copy(&file, keep).with_context(|| format!("copying to {}", keep.display()))?;
    }
    println!();
    println!("blocks:          {}", args.blocks);
    println!("transactions:    {}", args.txs);
    println!("file MB:         {:.1}", size as f64 / 1e6);
    println!("export seconds:  {export_seconds:.2}");
    println!("import seconds:  {import_seconds:.2}");
    println!("import tx/s:     {:.0}", args.txs as f64 / import_seconds);
    Ok(())
}

/// Runs `command` to success; its wall-clock seconds.
fn timed(command: &mut Command) -> anyhow::Result<f64> {
    let started = Instant::now();
    let output = command.output().context("running blockchain_node")?;
    let seconds = started.elapsed().as_secs_f64();
    ensure!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        println!("  {line}");
    }
    Ok(seconds)
}

fn same_file(a: &Path, b: &Path) -> anyhow::Result<bool> {
    Ok(std::fs::read(a)? == std::fs::read(b)?)
}
