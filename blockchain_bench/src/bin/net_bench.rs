//! Scale benchmark (issue 10): how fast a sparse network of real nodes on loopback carries
//! a transaction, a block, and a race between two blocks, and what an idle node weighs.
//!
//! ```text
//!  start N release nodes (127.0.0.1, ephemeral ports, temporary data dirs,
//!        --sync-interval 0 so only announcements and their resolves move data)
//!  link node i > 0 to K random earlier ones (seeded) ─► wait until every node lists its links
//!  each round:
//!    POST /transactions/new on a random node ─► poll every node's GET /transactions/{id}
//!    POST /mine on a random node             ─► every node's /events stream: tip = it
//!    POST /mine on two random nodes at once  ─► every stream: tip = the lower hash, then
//!                                               check every height is the race's (no third block)
//!  idle: VmRSS of every node process (/proc/<pid>/status)
//! ```
//!
//! A figure is the time from sending the request until the last node holds the result. A
//! payment is seen by polling every node concurrently (`--poll-ms`, accurate to about one
//! poll: the event stream coalesces transactions); a block by each node's `/events` stream,
//! which sends a new tip the moment it is committed, so the figure carries no polling load.
//! Every node, temporary directory and request loop ends with the command, on error too.
//!
//! Run:
//!
//! ```text
//! cargo build --release -p blockchain_node -p blockchain_bench
//! target/release/net_bench --nodes 100 --links 3 --rounds 5
//! ```
//!
//! The node binary is taken from the same directory as this one (build both in release).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use blockchain_api::Status;
use blockchain_bench::api;
use blockchain_bench::usage::cpu_time;
use blockchain_bench::{NodeProcess, Process, funded_genesis, node_binary, node_command};
use blockchain_core::{PrivateKey, Transaction};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Starts a local network of real nodes and prints how fast it propagates and settles.
#[derive(Parser)]
struct Args {
    /// Nodes to start.
    #[arg(long, default_value_t = 100)]
    nodes: usize,
    /// Earlier nodes each node registers (fewer for the first ones).
    #[arg(long, default_value_t = 3)]
    links: usize,
    /// Measured rounds (a transaction, a block, two simultaneous blocks each).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Seed of the links and of the nodes picked in each round.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Milliseconds between two polls of the same node.
    #[arg(long, default_value_t = 10)]
    poll_ms: u64,
    /// Seconds any one wait may take before the bench gives up.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Milliseconds of quiet before each measurement (late duplicates of the last one settle).
    #[arg(long, default_value_t = 300)]
    gap_ms: u64,
    /// Seconds the network stays idle after the rounds before memory is read.
    #[arg(long, default_value_t = 2.0)]
    idle: f64,
    /// Key size of the genesis-funded wallets.
    #[arg(long, default_value_t = 1024)]
    bits: usize,
    /// Network difficulty [default: the node's].
    #[arg(long)]
    difficulty: Option<u32>,
    /// Extra flag for every node, repeatable (for example `--node-arg=--pool-capacity=1000`).
    #[arg(long = "node-arg", allow_hyphen_values = true)]
    node_args: Vec<String>,
    /// The nodes' RUST_LOG; each node logs to `node-<i>.log` in the temporary directory.
    #[arg(long, default_value = "warn")]
    node_log: String,
    /// Where the temporary directory is made [default: the system's temporary directory].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keeps the temporary directory (data dirs and logs) and prints where it is.
    #[arg(long)]
    keep: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        args.nodes >= 2,
        "--nodes must be at least 2 (two of them race)"
    );
    ensure!(args.links >= 1, "--links must be at least 1");
    ensure!(args.rounds >= 1, "--rounds must be at least 1");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        tokio::select! {
            result = run(&args) => result,
            _ = tokio::signal::ctrl_c() => bail!("interrupted"),
        }
    })
}

async fn run(args: &Args) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let poll = Duration::from_millis(args.poll_ms);
    let timeout = Duration::from_secs(args.timeout);
    println!(
        "net bench: {} nodes, {} links each to earlier nodes (seed {}), {} rounds, polls every {} ms",
        args.nodes, args.links, args.seed, args.rounds, args.poll_ms
    );

    let wallets = blockchain_bench::random_wallets(2, args.bits);
    let started = Instant::now();
    let net = Network::start(args, &wallets)?;
    let http = api::client(Some(Duration::from_secs(10)))?;
    let urls = net.urls();
    until_all(
        &http,
        &urls,
        Instant::now(),
        poll,
        timeout,
        "ready",
        |http, url| async move { api::status(&http, &url).await.is_ok() },
    )
    .await?;
    println!(
        "  {} nodes ready in {:.1} s",
        args.nodes,
        started.elapsed().as_secs_f64()
    );

    let graph = random_graph(&mut rng, args.nodes, args.links);
    let started = Instant::now();
    link(&http, &urls, &graph, poll, timeout).await?;
    let degrees: Vec<usize> = graph.iter().map(BTreeSet::len).collect();
    println!(
        "  linked in {:.1} s: {} links, peers per node mean {:.1} max {}, diameter {} hops",
        started.elapsed().as_secs_f64(),
        degrees.iter().sum::<usize>() / 2,
        degrees.iter().sum::<usize>() as f64 / degrees.len() as f64,
        degrees.iter().max().copied().unwrap_or(0),
        diameter(&graph)
    );

    let tips = Tips::watch(&urls).await?;
    let rounds = Rounds {
        http: &http,
        urls: &urls,
        poll,
        timeout,
        tips: &tips,
    };
    let gap = Duration::from_millis(args.gap_ms);
    let (mut tx, mut block, mut settle) = (Phase::default(), Phase::default(), Phase::default());
    for round in 1..=args.rounds {
        let nonce = format!("net-bench-{round}");
        let took = tx
            .measure(&net, gap, rounds.transaction(&mut rng, &wallets, &nonce))
            .await?;
        tx.times.push(took);
        let took = block.measure(&net, gap, rounds.block(&mut rng)).await?;
        block.times.push(took);
        let race = settle.measure(&net, gap, rounds.race(&mut rng)).await?;
        if race.raced {
            settle.times.push(race.settled);
        }
        println!(
            "  round {round}: tx {}, block {}, {}",
            ms(tx.times[round - 1]),
            ms(block.times[round - 1]),
            race.describe()
        );
    }

    tokio::time::sleep(Duration::from_secs_f64(args.idle)).await;
    let memory = net.resident_mib()?;
    println!();
    let n = args.nodes;
    println!("{}", tx.summary(&format!("tx to all {n} pools")));
    println!("{}", block.summary(&format!("block to all {n} nodes")));
    println!(
        "{}",
        settle.summary(&format!(
            "two simultaneous blocks settled on all {n} nodes (lower hash, no further block)"
        ))
    );
    let mean = memory.iter().sum::<f64>() / memory.len() as f64;
    let max = memory.iter().copied().fold(0.0, f64::max);
    println!(
        "idle memory per node (VmRSS, {:.0} s after the rounds): mean {mean:.1} MiB, max {max:.1} MiB, all {n} nodes {:.0} MiB",
        args.idle,
        memory.iter().sum::<f64>()
    );
    println!(
        "CPU per round, all nodes together (this bench's own): tx {}, block {}, two blocks {}",
        tx.cpu(),
        block.cpu(),
        settle.cpu()
    );
    Ok(())
}

/// One kind of measurement over the rounds: its figures, and the CPU time spent meanwhile.
#[derive(Default)]
struct Phase {
    times: Vec<Duration>,
    rounds: u32,
    node_cpu: Duration,
    bench_cpu: Duration,
}

impl Phase {
    /// Runs `phase` after a quiet `gap`, adding the CPU time the nodes and this bench use.
    async fn measure<T>(
        &mut self,
        net: &Network,
        gap: Duration,
        phase: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        tokio::time::sleep(gap).await;
        let (nodes, bench) = (net.cpu_time()?, cpu_time(Process::This)?);
        let result = phase.await?;
        self.node_cpu += net.cpu_time()?.saturating_sub(nodes);
        self.bench_cpu += cpu_time(Process::This)?.saturating_sub(bench);
        self.rounds += 1;
        Ok(result)
    }

    fn summary(&self, what: &str) -> String {
        if self.times.is_empty() {
            return format!("{what}: no round measured");
        }
        let mut sorted = self.times.clone();
        sorted.sort();
        let p50 = sorted[(sorted.len() - 1) / 2];
        let max = sorted[sorted.len() - 1];
        format!(
            "{what}: p50 {}, max {} ({} rounds)",
            ms(p50),
            ms(max),
            sorted.len()
        )
    }

    fn cpu(&self) -> String {
        let rounds = self.rounds.max(1);
        format!(
            "{} ({})",
            ms(self.node_cpu / rounds),
            ms(self.bench_cpu / rounds)
        )
    }
}

/// The nodes' processes and their temporary directory; every process is killed when dropped,
/// before the directory is removed.
struct Network {
    nodes: Vec<NodeProcess>,
    dir: Option<tempfile::TempDir>,
}

impl Network {
    /// Starts every node at once, then waits for each to say where it listens.
    fn start(args: &Args, wallets: &[PrivateKey]) -> anyhow::Result<Self> {
        let binary = node_binary(None)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix("net-bench-");
        let dir = match &args.dir {
            Some(parent) => builder.tempdir_in(parent)?,
            None => builder.tempdir()?,
        };
        let genesis = dir.path().join("genesis.json");
        std::fs::write(
            &genesis,
            funded_genesis("net-bench", wallets, args.difficulty),
        )?;
        let mut starting = Vec::with_capacity(args.nodes);
        for i in 0..args.nodes {
            let log = std::fs::File::create(dir.path().join(format!("node-{i}.log")))?;
            let data = dir.path().join(format!("node-{i}"));
            starting.push(blockchain_bench::spawn(
                node_command(&binary, &data, &genesis)
                    .args(["--mining-threads", "1"])
                    .args(&args.node_args)
                    .env("RUST_LOG", &args.node_log)
                    .stderr(log),
            )?);
        }
        let mut network = Network {
            nodes: Vec::with_capacity(args.nodes),
            dir: Some(dir),
        };
        for node in starting {
            let node = node
                .listening(Some(Duration::from_secs(args.timeout)))
                .context("a node did not say where it listens")?;
            ensure!(
                node.url().starts_with("http://127.0.0.1:"),
                "a node listens on {}, not on loopback",
                node.url()
            );
            network.nodes.push(node);
        }
        if args.keep {
            let kept = network.dir.take().map(tempfile::TempDir::keep);
            if let Some(path) = kept {
                println!("  data dirs and node logs kept in {}", path.display());
            }
        }
        Ok(network)
    }

    fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.url().to_owned()).collect()
    }

    /// CPU time (user and system) every node process has used so far, together.
    fn cpu_time(&self) -> anyhow::Result<Duration> {
        self.nodes.iter().map(NodeProcess::cpu_time).sum()
    }

    /// Every node's resident memory, in MiB.
    fn resident_mib(&self) -> anyhow::Result<Vec<f64>> {
        self.nodes
            .iter()
            .map(|n| Ok(n.memory()?.resident_kb as f64 / 1024.0))
            .collect()
    }
}

/// Undirected links: node `i > 0` to `links` distinct earlier nodes (all of them if fewer).
fn random_graph(rng: &mut StdRng, nodes: usize, links: usize) -> Vec<BTreeSet<usize>> {
    let mut graph = vec![BTreeSet::new(); nodes];
    for i in 1..nodes {
        for j in rand::seq::index::sample(rng, i, links.min(i)) {
            graph[i].insert(j);
            graph[j].insert(i);
        }
    }
    graph
}

/// Longest shortest path between two nodes, in hops.
fn diameter(graph: &[BTreeSet<usize>]) -> usize {
    let mut longest = 0;
    for start in 0..graph.len() {
        let mut hops = vec![usize::MAX; graph.len()];
        hops[start] = 0;
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for &next in &graph[node] {
                if hops[next] == usize::MAX {
                    hops[next] = hops[node] + 1;
                    longest = longest.max(hops[next]);
                    queue.push_back(next);
                }
            }
        }
    }
    longest
}

/// Registers each node's earlier links with it (it registers itself back), then waits until
/// every node lists all of its links.
async fn link(
    http: &reqwest::Client,
    urls: &[String],
    graph: &[BTreeSet<usize>],
    poll: Duration,
    timeout: Duration,
) -> anyhow::Result<()> {
    for (i, links) in graph.iter().enumerate() {
        let earlier: Vec<&str> = links
            .iter()
            .filter(|&&j| j < i)
            .map(|&j| urls[j].as_str())
            .collect();
        if earlier.is_empty() {
            continue;
        }
        api::register(http, &urls[i], &earlier.join(",")).await?;
    }
    let expected: std::sync::Arc<BTreeMap<String, Vec<String>>> = graph
        .iter()
        .enumerate()
        .map(|(i, links)| {
            (
                urls[i].clone(),
                links.iter().map(|&j| urls[j].clone()).collect(),
            )
        })
        .collect::<BTreeMap<_, _>>()
        .into();
    until_all(
        http,
        urls,
        Instant::now(),
        poll,
        timeout,
        "linked",
        move |http, url| {
            let want = expected[&url].clone();
            async move {
                let Ok(listed) = api::peers(&http, &url).await else {
                    return false;
                };
                want.iter().all(|w| listed.nodes.contains(w))
            }
        },
    )
    .await?;
    Ok(())
}

/// What one round needs: the client, the nodes, how to poll them, and their tips as their
/// event streams report them.
struct Rounds<'a> {
    http: &'a reqwest::Client,
    urls: &'a [String],
    poll: Duration,
    timeout: Duration,
    tips: &'a Tips,
}

/// Every node's tips as its `/events` stream announces them, each with the moment it was
/// first seen: a block's arrival is timed to the event, with no polling load on the nodes
/// (a block goes out on the stream as soon as it is committed).
struct Tips {
    seen: std::sync::Arc<std::sync::Mutex<Vec<BTreeMap<String, Instant>>>>,
    changed: std::sync::Arc<tokio::sync::Notify>,
    _streams: tokio::task::JoinSet<()>,
}

impl Tips {
    async fn watch(urls: &[String]) -> anyhow::Result<Tips> {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(vec![BTreeMap::new(); urls.len()]));
        let changed = std::sync::Arc::new(tokio::sync::Notify::new());
        let mut streams = tokio::task::JoinSet::new();
        for (i, url) in urls.iter().enumerate() {
            // No overall timeout: the stream lasts the whole bench.
            let mut response = api::client(None)?
                .get(format!("{url}/events"))
                .send()
                .await?;
            ensure!(
                response.status().is_success(),
                "{url}/events: {}",
                response.status()
            );
            let (seen, changed) = (
                std::sync::Arc::clone(&seen),
                std::sync::Arc::clone(&changed),
            );
            streams.spawn(async move {
                let mut buffer = String::new();
                while let Ok(Some(chunk)) = response.chunk().await {
                    buffer.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buffer.find("\n\n") {
                        let frame: String = buffer.drain(..end + 2).collect();
                        let Some(data) = frame
                            .strip_prefix("event: status\ndata: ")
                            .map(str::trim_end)
                        else {
                            continue;
                        };
                        let tip = serde_json::from_str::<Status>(data)
                            .ok()
                            .map(|status| status.tip_hash.to_string());
                        if let Some(tip) = tip {
                            let now = Instant::now();
                            seen.lock().expect("tips")[i].entry(tip).or_insert(now);
                            changed.notify_waiters();
                        }
                    }
                }
            });
        }
        Ok(Tips {
            seen,
            changed,
            _streams: streams,
        })
    }

    /// Time from `since` until the last node first reported `hash` as its tip.
    async fn until_all_on(
        &self,
        hash: &str,
        since: Instant,
        timeout: Duration,
    ) -> anyhow::Result<Duration> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let waiting = self.changed.notified();
            {
                let seen = self.seen.lock().expect("tips");
                let times: Option<Vec<Instant>> =
                    seen.iter().map(|tips| tips.get(hash).copied()).collect();
                if let Some(times) = times {
                    let last = times.into_iter().max().unwrap_or(since);
                    return Ok(last.saturating_duration_since(since));
                }
            }
            if tokio::time::timeout_at(deadline, waiting).await.is_err() {
                let seen = self.seen.lock().expect("tips");
                let missing = seen.iter().filter(|tips| !tips.contains_key(hash)).count();
                bail!(
                    "{missing} of {} nodes never reported tip {hash} within {} s",
                    seen.len(),
                    timeout.as_secs()
                );
            }
        }
    }
}

/// Two simultaneous blocks and how the network settled between them.
struct Race {
    /// Whether both blocks had the same number (otherwise one miner already had the other's).
    raced: bool,
    settled: Duration,
    winner: String,
    miners: [usize; 2],
    height: u64,
}

impl Race {
    fn describe(&self) -> String {
        let [a, b] = self.miners;
        let short = &self.winner[..self.winner.len().min(12)];
        if self.raced {
            format!(
                "nodes {a} and {b} mined block {} at once, all on {short}… after {}",
                self.height,
                ms(self.settled)
            )
        } else {
            format!(
                "nodes {a} and {b} mined one after the other (no race), all on {short}… after {}",
                ms(self.settled)
            )
        }
    }
}

impl Rounds<'_> {
    /// Submits a payment to a random node; time until every pool holds it.
    async fn transaction(
        &self,
        rng: &mut StdRng,
        wallets: &[PrivateKey],
        nonce: &str,
    ) -> anyhow::Result<Duration> {
        let tx = Transaction::sign(&wallets[0], wallets[1].address(), "1", Some(nonce))?;
        let node = &self.urls[rng.random_range(0..self.urls.len())];
        let sent = Instant::now();
        let accepted = api::submit(self.http, node, &tx)
            .await
            .with_context(|| format!("{node} refused the payment"))?;
        ensure!(
            accepted.transaction_id == tx.id(),
            "{node} accepted the payment as {}, not {}",
            accepted.transaction_id,
            tx.id()
        );
        let path = format!("transactions/{}", accepted.transaction_id);
        self.until_all(sent, "the payment in every pool", move |http, url| {
            let path = path.clone();
            async move {
                let response = http.get(format!("{url}/{path}")).send().await;
                response.is_ok_and(|r| r.status().is_success())
            }
        })
        .await
    }

    /// Mines on a random node; time until every node's tip is that block (from the
    /// nodes' event streams).
    async fn block(&self, rng: &mut StdRng) -> anyhow::Result<Duration> {
        let node = rng.random_range(0..self.urls.len());
        let sent = Instant::now();
        let mined = api::mine(self.http, &self.urls[node]).await?;
        self.tips
            .until_all_on(&mined.hash.to_string(), sent, self.timeout)
            .await
    }

    /// Mines on two random nodes at once; time until every node is on the same tip, then
    /// checks that it is the lower hash at the race's height.
    async fn race(&self, rng: &mut StdRng) -> anyhow::Result<Race> {
        let a = rng.random_range(0..self.urls.len());
        let b = (a + rng.random_range(1..self.urls.len())) % self.urls.len();
        let sent = Instant::now();
        let (x, y) = tokio::join!(
            api::mine(self.http, &self.urls[a]),
            api::mine(self.http, &self.urls[b])
        );
        let (x, y) = (x?, y?);
        let raced = x.block_number == y.block_number;
        let winner = if raced {
            x.hash.min(y.hash)
        } else if x.block_number > y.block_number {
            x.hash
        } else {
            y.hash
        }
        .to_string();
        let height = x.block_number.max(y.block_number);
        let settled = self.tips.until_all_on(&winner, sent, self.timeout).await;
        let settled = match settled {
            Ok(settled) => settled,
            Err(error) => bail!("{error}\n{}", self.tips().await),
        };
        for url in self.urls {
            let (tip, at) = tip(self.http, url).await?;
            ensure!(
                tip == winner && at == height,
                "{url} moved on to {tip} at height {at} after settling on {winner} at {height}"
            );
        }
        Ok(Race {
            raced,
            settled,
            winner,
            miners: [a, b],
            height,
        })
    }

    /// How many nodes hold each tip, for a failure message.
    async fn tips(&self) -> String {
        let mut held: BTreeMap<String, usize> = BTreeMap::new();
        for url in self.urls {
            let tip = match tip(self.http, url).await {
                Ok((hash, height)) => format!("{hash} at {height}"),
                Err(error) => format!("no answer ({error})"),
            };
            *held.entry(tip).or_default() += 1;
        }
        held.iter()
            .map(|(tip, nodes)| format!("  {nodes} nodes: {tip}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn until_all<F, Fut>(
        &self,
        since: Instant,
        what: &str,
        holds: F,
    ) -> anyhow::Result<Duration>
    where
        F: Fn(reqwest::Client, String) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = bool> + Send,
    {
        let times = until_all(
            self.http,
            self.urls,
            since,
            self.poll,
            self.timeout,
            what,
            holds,
        )
        .await?;
        Ok(times.into_iter().max().unwrap_or_default())
    }
}

/// Polls every node concurrently, each every `poll`, until `holds` is true for it; returns
/// each node's time since `since` when it first held. Fails after `timeout`.
async fn until_all<F, Fut>(
    http: &reqwest::Client,
    urls: &[String],
    since: Instant,
    poll: Duration,
    timeout: Duration,
    what: &str,
    holds: F,
) -> anyhow::Result<Vec<Duration>>
where
    F: Fn(reqwest::Client, String) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let deadline = Instant::now() + timeout;
    let mut pollers = tokio::task::JoinSet::new();
    for (i, url) in urls.iter().enumerate() {
        let (http, url, holds) = (http.clone(), url.clone(), holds.clone());
        pollers.spawn(async move {
            loop {
                if holds(http.clone(), url.clone()).await {
                    return (i, Some(since.elapsed()));
                }
                if Instant::now() >= deadline {
                    return (i, None);
                }
                tokio::time::sleep(poll).await;
            }
        });
    }
    let mut times = vec![Duration::ZERO; urls.len()];
    let mut missing = 0;
    while let Some(done) = pollers.join_next().await {
        match done? {
            (i, Some(time)) => times[i] = time,
            (_, None) => missing += 1,
        }
    }
    ensure!(
        missing == 0,
        "waiting for {what}: {missing} of {} nodes still without it after {} s",
        urls.len(),
        timeout.as_secs()
    );
    Ok(times)
}

/// A node's tip hash and height.
async fn tip(http: &reqwest::Client, node: &str) -> anyhow::Result<(String, u64)> {
    let status = api::status(http, node).await?;
    Ok((status.tip_hash.to_string(), status.height))
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}
