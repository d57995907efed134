//! Scale benchmark: a chain of a million payments, built through the node's own code, then
//! measured as an operator meets it.
//!
//! ```text
//!  build (in process, skipped with --keep DIR when DIR holds a finished build):
//!    W wallets from a seeded StdRng, funded by genesis allocations
//!    per chunk of blocks: sign its payments on all cores (or read their signatures from
//!    the cache under target/scale-bench/) ─► Node::submit_many ─► Node::mine, per block
//!  measure (the release node binary, on the built data dir):
//!    spawn ─► first 200 on /status                      start-up
//!    /proc/PID/status VmRSS, VmHWM; chain.redb's size   memory, database
//!    GET /chain?from=R&limit=100, random R              page latency
//!    GET /history?address=A&limit=50, random wallets    history latency
//!    a fresh node registers it and resolves until tips agree: sync time, peak memory
//! ```
//!
//! Run:
//!
//! ```text
//! cargo build --release -p blockchain_node -p blockchain_bench
//! target/release/scale_bench --keep /work/scale-chain            # 1,000,000 payments
//! target/release/scale_bench --payments 20000 --wallets 100       # a quick one
//! ```
//!
//! The signature cache holds only signatures (the payments themselves follow from the
//! seed), never a private key; a rerun with the same wallets, key size and seed signs only
//! what the cache lacks. The built chain is the directory's `data/` with its
//! `genesis.json`; `build.json` records how it was built.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use blockchain_api::{History, SettingsChange, SettingsView, Status};
use blockchain_bench::api::{self, status};
use blockchain_bench::usage::memory;
use blockchain_bench::{Memory, NodeProcess, Process, funded_genesis, node_binary, node_command};
use blockchain_core::{Address, Difficulty, NetworkParams, PrivateKey, Sender, Transaction};
use blockchain_node::node::{Node, NodeOptions};
use blockchain_node::settings::SettingsPatch;
use clap::Parser;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The node's allocator (see `blockchain_node/src/main.rs`): this bench runs the node's code
/// in process, so it allocates as the node does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Builds a chain of many payments through the node's code and measures memory, database
/// size, start-up, page and history latency, and a fresh node's sync against the goals.
#[derive(Parser)]
#[command(about)]
struct Args {
    /// Payments in the chain.
    #[arg(long, default_value_t = 1_000_000)]
    payments: usize,
    /// Payments per block (the last block may hold fewer).
    #[arg(long, default_value_t = 100)]
    per_block: usize,
    /// Paying wallets, funded by genesis allocations.
    #[arg(long, default_value_t = 1000)]
    wallets: usize,
    /// RSA key size of the wallets.
    #[arg(long, default_value_t = 1024)]
    bits: usize,
    /// Network difficulty (leading zero bits): mining is not what is measured here.
    #[arg(long, default_value_t = 1)]
    difficulty: u32,
    /// Seed of the wallets' keys and of the sampled queries.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seed of the sampled queries alone [default: --seed]. Pages read in an earlier run
    /// are warm in the machine's memory; another seed reads pages no run has read lately.
    #[arg(long)]
    query_seed: Option<u64>,
    /// Build into DIR and keep it; a DIR that holds a finished build with these
    /// arguments is measured again without rebuilding [default: a temporary dir].
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// The node binary [default: blockchain_node next to this binary].
    #[arg(long)]
    node_bin: Option<PathBuf>,
    /// Where signed payments are cached [default: target/scale-bench].
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// `/chain` pages and `/history` queries sampled.
    #[arg(long, default_value_t = 50)]
    samples: usize,
    /// Longest wait for the fresh node's sync, in seconds.
    #[arg(long, default_value_t = 1800)]
    sync_timeout: u64,
    /// Skip the fresh node's sync.
    #[arg(long)]
    no_sync: bool,
    /// Read the database file once before the node starts (`cat chain.redb > /dev/null`),
    /// so the pages' first reads find it in a file cache this machine has touched lately;
    /// the node's own memory is as cold as without it. Shows how much of a first read is
    /// the machine's memory rather than the node.
    #[arg(long)]
    warm_file_cache: bool,
    /// Node log filter (RUST_LOG); logs go to node-*.log in the chain dir.
    #[arg(long, default_value = "warn")]
    node_log: String,
}

/// Every payment is worth this: wallets receive as much as they pay, so none overspends.
const PAYMENT_VALUE: &str = "0.01";
/// Blocks `/chain` returns per sampled page.
const PAGE_BLOCKS: u64 = 100;
/// Transactions `/history` returns per sampled query.
const HISTORY_LIMIT: usize = 50;
/// Payments signed at once: the most the build holds in memory.
const SIGNING_CHUNK: usize = 10_000;
/// Most transactions per `submit_many` call.
const SUBMIT_CHUNK: usize = 1000;
/// Resolve rounds in a row that leave the fresh node's height where it was before the
/// sync is given up.
const MAX_STALLED_ROUNDS: usize = 3;
/// Longest wait for a node to stop on Ctrl-C before it is killed.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// How a chain dir was built: its `build.json`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Manifest {
    payments: usize,
    per_block: usize,
    wallets: usize,
    bits: usize,
    difficulty: u32,
    seed: u64,
    height: u64,
    tip_hash: String,
    build_seconds: f64,
}

impl Manifest {
    fn matches(&self, args: &Args) -> bool {
        (
            self.payments,
            self.per_block,
            self.wallets,
            self.bits,
            self.difficulty,
            self.seed,
        ) == (
            args.payments,
            args.per_block,
            args.wallets,
            args.bits,
            args.difficulty,
            args.seed,
        )
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.wallets >= 2, "--wallets must be at least 2");
    ensure!(
        (1..blockchain_core::ledger::MAX_BLOCK_TRANSACTIONS).contains(&args.per_block),
        "--per-block must be 1 to {}",
        blockchain_core::ledger::MAX_BLOCK_TRANSACTIONS - 1
    );
    let exe = std::env::current_exe()?;
    let bin_dir = exe.parent().context("the bench binary has a directory")?;
    let node_bin = node_binary(args.node_bin.as_deref())?;
    let cache_dir = match &args.cache_dir {
        Some(dir) => dir.clone(),
        None => bin_dir
            .parent()
            .context("the bench binary sits in target/<profile>")?
            .join("scale-bench"),
    };
    let _temporary;
    let dir = match &args.keep {
        Some(dir) => dir.clone(),
        None => {
            let temp = tempfile::tempdir()?;
            let dir = temp.path().to_owned();
            _temporary = temp;
            dir
        }
    };
    // One worker: the build awaits the node step by step, and the measurements must not
    // take the node's cores.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    println!(
        "scale bench: {} payments, {} a block, {} wallets, {}-bit keys, difficulty {}, {} cores",
        args.payments,
        args.per_block,
        args.wallets,
        args.bits,
        args.difficulty,
        rayon::current_num_threads()
    );
    println!("chain dir: {}", dir.display());

    let manifest_path = dir.join("build.json");
    let manifest = if manifest_path.exists() {
        let manifest: Manifest = serde_json::from_slice(&std::fs::read(&manifest_path)?)
            .with_context(|| format!("reading {}", manifest_path.display()))?;
        if !manifest.matches(&args) {
            bail!(
                "{} holds a different build: {manifest:?}; remove it or pass its arguments",
                dir.display()
            );
        }
        println!(
            "== build: reusing the chain in {} (built in {:.0} s)",
            dir.display(),
            manifest.build_seconds
        );
        manifest
    } else {
        if dir.join("data").exists() {
            bail!(
                "{} holds an unfinished build (no build.json): remove it first",
                dir.display()
            );
        }
        let manifest = runtime.block_on(build(&args, &dir, &cache_dir))?;
        std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)?;
        manifest
    };

    let figures = runtime.block_on(measure(&args, &dir, &node_bin, &manifest))?;
    figures.print(&manifest);
    Ok(())
}

/// The wallets, reproducible from the seed: wallet `i` comes from its own seeded StdRng, so
/// they are generated in parallel.
fn wallets(args: &Args) -> Vec<PrivateKey> {
    (0..args.wallets)
        .into_par_iter()
        .map(|i| {
            let mut rng = StdRng::seed_from_u64(args.seed.wrapping_mul(1_000_003) ^ i as u64);
            PrivateKey::generate(&mut rng, args.bits).expect("a valid key size")
        })
        .collect()
}

/// Payment `i`: who pays whom. Senders take turns; each pays a different wallet each round.
fn plan(i: usize, wallets: usize) -> (usize, usize) {
    let from = i % wallets;
    let to = (from + 1 + (i / wallets) % (wallets - 1)) % wallets;
    (from, to)
}

fn nonce(i: usize) -> String {
    format!("scale{i}")
}

/// Signatures of payments `0..len`, one fixed-size record each, appended as they are made.
struct SignatureCache {
    file: File,
    path: PathBuf,
    record: usize,
    stored: usize,
}

impl SignatureCache {
    fn open(dir: &Path, args: &Args) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!(
            "signatures-w{}-{}bit-seed{}.bin",
            args.wallets, args.bits, args.seed
        ));
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let record = args.bits.div_ceil(8);
        let stored = usize::try_from(file.metadata()?.len())? / record;
        // A record cut short by an interrupted run is dropped.
        file.set_len((stored * record) as u64)?;
        Ok(SignatureCache {
            file,
            path,
            record,
            stored,
        })
    }

    /// Payments `range`, signed: the cached signatures first, the rest signed on all cores
    /// and appended.
    fn payments(
        &mut self,
        range: std::ops::Range<usize>,
        wallets: &[PrivateKey],
    ) -> anyhow::Result<(Vec<Transaction>, usize)> {
        let cached_end = self.stored.clamp(range.start, range.end);
        let mut signatures = vec![0u8; (cached_end - range.start) * self.record];
        self.file
            .seek(SeekFrom::Start((range.start * self.record) as u64))?;
        self.file.read_exact(&mut signatures)?;
        let mut txs: Vec<Transaction> = (range.start..cached_end)
            .into_par_iter()
            .zip(signatures.par_chunks(self.record))
            .map(|(i, signature)| {
                let (from, to) = plan(i, wallets.len());
                Transaction::new(
                    Sender::Wallet(wallets[from].address().clone()),
                    wallets[to].address().clone(),
                    PAYMENT_VALUE,
                    Some(&nonce(i)),
                    &hex::encode(signature),
                )
                .expect("a cached payment parses")
            })
            .collect();
        let signed: Vec<Transaction> = (cached_end..range.end)
            .into_par_iter()
            .map(|i| {
                let (from, to) = plan(i, wallets.len());
                Transaction::sign(
                    &wallets[from],
                    wallets[to].address(),
                    PAYMENT_VALUE,
                    Some(&nonce(i)),
                )
                .expect("a valid payment")
            })
            .collect();
        if !signed.is_empty() {
            ensure!(
                cached_end == self.stored,
                "signing out of order in {}",
                self.path.display()
            );
            let mut bytes = Vec::with_capacity(signed.len() * self.record);
            for tx in &signed {
                bytes.extend_from_slice(tx.signature());
            }
            self.file.write_all(&bytes)?;
            self.stored = range.end;
        }
        let made = signed.len();
        txs.extend(signed);
        Ok((txs, made))
    }
}

/// Builds the chain in `dir/data` through `Node`: submit_many, then mine, block by block.
async fn build(args: &Args, dir: &Path, cache_dir: &Path) -> anyhow::Result<Manifest> {
    let started = Instant::now();
    let wallets = tokio::task::block_in_place(|| wallets(args));
    println!(
        "== build: {} wallets made in {:.1} s",
        wallets.len(),
        started.elapsed().as_secs_f64()
    );
    let genesis = funded_genesis("scale-bench", &wallets, Some(args.difficulty));
    let mut params = NetworkParams::from_json(&genesis)?;
    params.difficulty = Difficulty::new(args.difficulty)?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("genesis.json"), &genesis)?;

    let capacity = args.per_block.max(SUBMIT_CHUNK) * 2;
    let options = NodeOptions {
        pool_capacity: capacity,
        sender_limit: capacity,
        max_threads: 1,
        settings: SettingsPatch {
            mining_threads: Some(1),
            ..SettingsPatch::default()
        },
    };
    let node = Arc::new(Node::open(&dir.join("data"), params, &options)?);
    let mut cache = SignatureCache::open(cache_dir, args)?;
    println!(
        "   signature cache {} holds {} payments",
        cache.path.display(),
        cache.stored
    );

    let blocks = args.payments.div_ceil(args.per_block);
    let blocks_per_chunk = (SIGNING_CHUNK / args.per_block).max(1);
    let (mut sign_time, mut submit_time, mut mine_time) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut signed_here = 0;
    let mut next_report = 1;
    let started = Instant::now();
    for first_block in (0..blocks).step_by(blocks_per_chunk) {
        let start = first_block * args.per_block;
        let end = ((first_block + blocks_per_chunk) * args.per_block).min(args.payments);
        let t = Instant::now();
        let (txs, made) = tokio::task::block_in_place(|| cache.payments(start..end, &wallets))?;
        signed_here += made;
        sign_time += t.elapsed();
        let mut txs = txs.into_iter();
        loop {
            let block: Vec<Transaction> = txs.by_ref().take(args.per_block).collect();
            if block.is_empty() {
                break;
            }
            let count = block.len();
            let t = Instant::now();
            let mut pending = block.into_iter();
            loop {
                let chunk: Vec<Transaction> = pending.by_ref().take(SUBMIT_CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                for result in node.submit_many(chunk).await {
                    if let Err(error) = result {
                        bail!(
                            "a payment was refused: {error} (a stale signature cache? remove {})",
                            cache.path.display()
                        );
                    }
                }
            }
            submit_time += t.elapsed();
            let t = Instant::now();
            let mined = node.mine(None).await?;
            mine_time += t.elapsed();
            ensure!(
                mined.transactions().len() == count + 1,
                "block {} holds {} transactions, expected {count} payments and a reward",
                mined.number(),
                mined.transactions().len()
            );
        }
        let height = node.height();
        if height as usize * 10 >= blocks * next_report {
            let elapsed = started.elapsed().as_secs_f64();
            let done = end;
            println!(
                "   {:>3}%  block {height}  {done} payments  {elapsed:.0} s  {:.0} payments/s  ETA {:.0} s",
                100 * height as usize / blocks,
                done as f64 / elapsed,
                elapsed * (args.payments - done) as f64 / done as f64
            );
            while height as usize * 10 >= blocks * next_report {
                next_report += 1;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let tip = node.tip();
    let (height, tip_hash) = (tip.number(), tip.hash().to_string());
    drop(node);
    println!(
        "   built {height} blocks, {} payments in {seconds:.1} s: {:.0} payments/s \
         (signing {:.1} s for {signed_here} new signatures, submit_many {:.1} s, mine {:.1} s); \
         this process's peak memory {}",
        args.payments,
        args.payments as f64 / seconds,
        sign_time.as_secs_f64(),
        submit_time.as_secs_f64(),
        mine_time.as_secs_f64(),
        mb(memory(Process::This)?.peak_kb)
    );
    Ok(Manifest {
        payments: args.payments,
        per_block: args.per_block,
        wallets: args.wallets,
        bits: args.bits,
        difficulty: args.difficulty,
        seed: args.seed,
        height,
        tip_hash,
        build_seconds: seconds,
    })
}

fn mb(kb: u64) -> String {
    format!("{:.0} MB", kb as f64 / 1024.0)
}

/// Milliseconds of sorted latencies at quantile `q`.
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    blockchain_bench::percentile(sorted, q).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// Latencies of one kind of query, sorted, with the mean body size.
struct Latencies {
    times: Vec<Duration>,
    mean_bytes: usize,
}

impl Latencies {
    fn of(mut times: Vec<Duration>, bytes: usize, count: usize) -> Self {
        times.sort();
        Latencies {
            times,
            mean_bytes: bytes / count.max(1),
        }
    }
    fn p50(&self) -> f64 {
        quantile_ms(&self.times, 0.5)
    }
    fn p99(&self) -> f64 {
        quantile_ms(&self.times, 0.99)
    }
    fn max(&self) -> f64 {
        quantile_ms(&self.times, 1.0)
    }
}

/// Times `GET url` for each url, body read in full; the first is also sent once before,
/// to open the connection.
async fn time_gets(http: &reqwest::Client, urls: &[String]) -> anyhow::Result<Latencies> {
    if let Some(first) = urls.first() {
        http.get(first).send().await?.bytes().await?;
    }
    let mut times = Vec::with_capacity(urls.len());
    let mut bytes = 0;
    for url in urls {
        let (time, size) = time_get(http, url).await?;
        times.push(time);
        bytes += size;
    }
    Ok(Latencies::of(times, bytes, urls.len()))
}

/// As [`time_gets`], each url timed twice in a row: the first read of a page (from the
/// operating system's file cache or the disk), then the same page again (from the
/// database's cache). A page of 10 MB is a sixth of that cache, so pages read earlier in
/// the run are not in it any more.
async fn time_pages(
    http: &reqwest::Client,
    urls: &[String],
) -> anyhow::Result<(Latencies, Latencies)> {
    let (mut first, mut again) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    for url in urls {
        let (time, size) = time_get(http, url).await?;
        first.push(time);
        bytes += size;
        again.push(time_get(http, url).await?.0);
    }
    Ok((
        Latencies::of(first, bytes, urls.len()),
        Latencies::of(again, bytes, urls.len()),
    ))
}

/// Times `GET url` to the body's last byte. The body is counted chunk by chunk as it
/// arrives and not gathered, as `curl -o /dev/null` does. Gathering a 10 MB page into one
/// fresh buffer doubled the figure on this VM (p50 17.0 ms against 8.7 ms, the same pages
/// back to back): that is this bench's memory, not the node's answer.
async fn time_get(http: &reqwest::Client, url: &str) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let mut response = http.get(url).send().await?;
    let status = response.status();
    let mut size = 0;
    while let Some(chunk) = response.chunk().await? {
        size += chunk.len();
    }
    let time = started.elapsed();
    ensure!(status.is_success(), "GET {url}: {status}");
    Ok((time, size))
}

struct Figures {
    startup: f64,
    startup_after_crash: f64,
    after_startup: Memory,
    after_queries: Memory,
    database_bytes: u64,
    chain: Latencies,
    chain_again: Latencies,
    /// Whether the database was read once before the node started (`--warm-file-cache`).
    file_cache_warmed: bool,
    history: Latencies,
    history_mean_txs: f64,
    sync: Option<SyncFigures>,
}

/// A fresh node's sync: how long, and whether it reached the tip at all.
struct SyncFigures {
    seconds: f64,
    rounds: usize,
    reached: bool,
    /// The fresh node's height when the sync ended.
    height: u64,
    peak: Memory,
}

/// Starts the node on the built chain in `dir`; returns it, its first `/status`, and the
/// seconds from spawning it to that answer.
async fn start_and_wait(
    args: &Args,
    http: &reqwest::Client,
    node_bin: &Path,
    dir: &Path,
) -> anyhow::Result<(NodeProcess, Status, f64)> {
    let started = Instant::now();
    let node = start_node(
        args,
        node_bin,
        &dir.join("data"),
        &dir.join("genesis.json"),
        &dir.join("node-a.log"),
    )?;
    // It printed `listening on` once bound, after restoring its state: it answers now.
    let status = status(http, node.url())
        .await
        .context("the node did not answer /status")?;
    Ok((node, status, started.elapsed().as_secs_f64()))
}

/// Starts the node binary on `data`, logging to `log`, and waits until it listens.
fn start_node(
    args: &Args,
    node_bin: &Path,
    data: &Path,
    genesis: &Path,
    log: &Path,
) -> anyhow::Result<NodeProcess> {
    let log_file = File::create(log)?;
    let mut command = node_command(node_bin, data, genesis);
    command.env("RUST_LOG", &args.node_log).stderr(log_file);
    tokio::task::block_in_place(|| NodeProcess::start(&mut command))
        .with_context(|| format!("the node on {}; see {}", data.display(), log.display()))
}

/// Reads `path` once to the end, as `cat path > /dev/null` does, and says how long it took.
fn warm_file_cache(path: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let file = std::fs::File::open(path)?;
    let bytes = std::io::copy(
        &mut std::io::BufReader::with_capacity(1 << 20, file),
        &mut std::io::sink(),
    )?;
    println!(
        "   read {:.0} MB of {} in {:.2} s to warm the file cache (the node's memory stays cold)",
        bytes as f64 / 1e6,
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Starts the node on the built chain and measures it; then a fresh node's sync from it.
async fn measure(
    args: &Args,
    dir: &Path,
    node_bin: &Path,
    manifest: &Manifest,
) -> anyhow::Result<Figures> {
    let http = api::client(Some(Duration::from_secs(120)))?;
    let genesis = dir.join("genesis.json");
    let data = dir.join("data");
    println!(
        "== measure: starting {} on {}",
        node_bin.display(),
        data.display()
    );
    if args.warm_file_cache {
        warm_file_cache(&data.join("chain.redb"))?;
    }
    let (mut node, first, startup) = start_and_wait(args, &http, node_bin, dir).await?;
    ensure!(
        first.tip_hash.to_string() == manifest.tip_hash,
        "the node serves tip {}, the build made {}",
        first.tip_hash,
        manifest.tip_hash
    );
    let after_startup = node.memory()?;
    let database_bytes = std::fs::metadata(data.join("chain.redb"))?.len();
    println!(
        "   ready in {startup:.2} s at {}: height {}, resident {}, database {:.0} MB",
        node.url(),
        first.height,
        mb(after_startup.resident_kb),
        database_bytes as f64 / 1e6
    );

    let mut rng = StdRng::seed_from_u64(args.query_seed.unwrap_or(args.seed));
    let length = first.length;
    let pages: Vec<String> = (0..args.samples)
        .map(|_| {
            let from = rng.random_range(0..=length.saturating_sub(PAGE_BLOCKS));
            format!("{}/chain?from={from}&limit={PAGE_BLOCKS}", node.url())
        })
        .collect();
    // Opens the connection.
    time_get(&http, &format!("{}/status", node.url())).await?;
    let (chain, chain_again) = time_pages(&http, &pages).await?;
    println!(
        "   /chain pages of {PAGE_BLOCKS} blocks: p50 {:.2} ms, p99 {:.2} ms, {:.0} kB a page; read again: p50 {:.2} ms, p99 {:.2} ms",
        chain.p50(),
        chain.p99(),
        chain.mean_bytes as f64 / 1e3,
        chain_again.p50(),
        chain_again.p99(),
    );

    let addresses = genesis_addresses(&genesis)?;
    let picked: Vec<&Address> = (0..args.samples)
        .map(|_| &addresses[rng.random_range(0..addresses.len())])
        .collect();
    let queries: Vec<String> = picked
        .iter()
        .map(|a| {
            format!(
                "{}/history?address={}&limit={HISTORY_LIMIT}",
                node.url(),
                a.as_hex()
            )
        })
        .collect();
    let history = time_gets(&http, &queries).await?;
    let answer: History = api::get(&http, &queries[0]).await?;
    let history_mean_txs = answer
        .chain
        .iter()
        .map(|b| b.transactions.len())
        .sum::<usize>() as f64;
    println!(
        "   /history of {HISTORY_LIMIT}: p50 {:.2} ms, p99 {:.2} ms, {:.0} kB, {history_mean_txs} \
         transactions of the address's {}",
        history.p50(),
        history.p99(),
        history.mean_bytes as f64 / 1e3,
        answer.length
    );
    let after_queries = node.memory()?;

    let sync = if args.no_sync {
        None
    } else {
        Some(sync_fresh_node(args, &http, &node, node_bin, dir, &manifest.tip_hash).await?)
    };

    // A crash: one commit by this build (the settings written back unchanged), kill -9,
    // and a start on what it left.
    let settings: SettingsView = api::get(&http, &format!("{}/settings", node.url())).await?;
    let unchanged = SettingsChange {
        mining_threads: Some(settings.mining_threads as u64),
        ..SettingsChange::default()
    };
    let written = http
        .post(format!("{}/settings", node.url()))
        .json(&unchanged)
        .send()
        .await?;
    ensure!(
        written.status().is_success(),
        "POST /settings: {}",
        written.status()
    );
    node.kill();
    let (node, _, startup_after_crash) = start_and_wait(args, &http, node_bin, dir).await?;
    println!("   start-up after kill -9: {startup_after_crash:.2} s");
    node.interrupt(STOP_LIMIT);
    Ok(Figures {
        startup,
        startup_after_crash,
        after_startup,
        after_queries,
        database_bytes,
        chain,
        chain_again,
        file_cache_warmed: args.warm_file_cache,
        history,
        history_mean_txs,
        sync,
    })
}

fn genesis_addresses(genesis: &Path) -> anyhow::Result<Vec<Address>> {
    let params = NetworkParams::from_json(&std::fs::read_to_string(genesis)?)?;
    let addresses: Vec<Address> = params.allocations.into_iter().map(|(a, _)| a).collect();
    ensure!(!addresses.is_empty(), "the genesis funds no wallet");
    Ok(addresses)
}

/// Starts a fresh node, registers `source` as its peer and resolves until its tip is `tip`.
async fn sync_fresh_node(
    args: &Args,
    http: &reqwest::Client,
    source: &NodeProcess,
    node_bin: &Path,
    dir: &Path,
    tip: &str,
) -> anyhow::Result<SyncFigures> {
    let fresh_dir = tempfile::tempdir()?;
    let fresh = start_node(
        args,
        node_bin,
        fresh_dir.path(),
        &dir.join("genesis.json"),
        &dir.join("node-b.log"),
    )?;
    api::register(http, fresh.url(), source.url()).await?;
    println!(
        "== sync: a fresh node at {} resolves from {}",
        fresh.url(),
        source.url()
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.sync_timeout);
    let (mut rounds, mut stalled) = (0, 0);
    let synced = |status: &Status| status.tip_hash.to_string() == tip;
    let mut current = status(http, fresh.url()).await?;
    let reached = loop {
        rounds += 1;
        let before = current.height;
        let resolved = api::resolve(http, fresh.url(), Some(Duration::from_secs(300))).await?;
        current = status(http, fresh.url()).await?;
        // A validation still running when the round ended finishes on its own: wait for it.
        let validating = resolved
            .peers
            .iter()
            .any(|peer| peer.outcome.contains("still validating"));
        while validating && !synced(&current) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let next = status(http, fresh.url()).await?;
            if next.tip_hash != current.tip_hash {
                current = next;
                break;
            }
        }
        if synced(&current) {
            break true;
        }
        println!(
            "   round {rounds} after {:.0} s: height {}; {}",
            started.elapsed().as_secs_f64(),
            current.height,
            serde_json::to_string(&resolved.peers)?
        );
        stalled = if current.height == before {
            stalled + 1
        } else {
            0
        };
        if stalled >= MAX_STALLED_ROUNDS || Instant::now() > deadline {
            println!(
                "   gave up: {stalled} rounds without progress, {:.0} s of --sync-timeout {} s",
                started.elapsed().as_secs_f64(),
                args.sync_timeout
            );
            break false;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let peak = fresh.memory()?;
    if reached {
        println!("   synced in {seconds:.1} s ({rounds} resolve rounds)");
    }
    fresh.interrupt(STOP_LIMIT);
    Ok(SyncFigures {
        seconds,
        rounds,
        reached,
        height: current.height,
        peak,
    })
}

impl Figures {
    fn print(&self, manifest: &Manifest) {
        let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
        let resident_mb = |m: Memory| m.resident_kb as f64 / 1024.0;
        println!();
        println!(
            "{} payments in {} blocks ({} a block, {} wallets, {}-bit keys)",
            manifest.payments, manifest.height, manifest.per_block, manifest.wallets, manifest.bits
        );
        println!("{:<62} {:>10}   {:<14} verdict", "figure", "value", "goal");
        let row = |name: &str, value: String, goal: &str, ok: Option<bool>| {
            println!(
                "{name:<62} {value:>10}   {goal:<14} {}",
                ok.map_or("", verdict)
            );
        };
        row(
            "resident memory after start-up",
            mb(self.after_startup.resident_kb),
            "<= 400 MB",
            Some(resident_mb(self.after_startup) <= 400.0),
        );
        row(
            "resident memory after the queries",
            mb(self.after_queries.resident_kb),
            "<= 400 MB",
            Some(resident_mb(self.after_queries) <= 400.0),
        );
        row(
            "peak resident memory (VmHWM)",
            mb(self.after_queries.peak_kb),
            "<= 400 MB",
            Some(self.after_queries.peak_kb as f64 / 1024.0 <= 400.0),
        );
        row(
            "database size (chain.redb)",
            format!("{:.0} MB", self.database_bytes as f64 / 1e6),
            "-",
            None,
        );
        row(
            "start-up (spawn to first /status)",
            format!("{:.2} s", self.startup),
            "<= 3 s",
            Some(self.startup <= 3.0),
        );
        row(
            "start-up after kill -9",
            format!("{:.2} s", self.startup_after_crash),
            "-",
            None,
        );
        for (name, value) in [
            ("p50", self.chain.p50()),
            ("p99", self.chain.p99()),
            ("max", self.chain.max()),
            ("read again, p50", self.chain_again.p50()),
            ("read again, p99", self.chain_again.p99()),
        ] {
            let warmed = if self.file_cache_warmed && !name.starts_with("read again") {
                " (file cache warmed)"
            } else {
                ""
            };
            row(
                &format!("/chain page of {PAGE_BLOCKS} blocks{warmed}, {name}"),
                format!("{value:.2} ms"),
                "<= 10 ms",
                Some(value <= 10.0),
            );
        }
        row(
            "/chain page size",
            format!("{:.0} kB", self.chain.mean_bytes as f64 / 1e3),
            "-",
            None,
        );
        for (name, value) in [("p50", self.history.p50()), ("p99", self.history.p99())] {
            row(
                &format!("/history of {} transactions, {name}", self.history_mean_txs),
                format!("{value:.2} ms"),
                "<= 10 ms",
                Some(value <= 10.0),
            );
        }
        match &self.sync {
            Some(sync) if !sync.reached => row(
                "fresh node's sync: did not finish",
                format!("height {} of {}", sync.height, manifest.height),
                "reach the tip",
                Some(false),
            ),
            Some(sync) => {
                row(
                    "fresh node's sync",
                    format!("{:.1} s", sync.seconds),
                    "-",
                    None,
                );
                row(
                    "fresh node's sync rate",
                    format!("{:.0} tx/s", manifest.payments as f64 / sync.seconds),
                    "-",
                    None,
                );
            }
            None => row("fresh node's sync", "skipped".into(), "-", None),
        }
        if let Some(sync) = &self.sync {
            row(
                "fresh node's peak memory (VmHWM)",
                mb(sync.peak.peak_kb),
                "-",
                None,
            );
            row(
                "fresh node's resolve rounds, seconds",
                format!("{}, {:.1} s", sync.rounds, sync.seconds),
                "-",
                None,
            );
        }
    }
}
