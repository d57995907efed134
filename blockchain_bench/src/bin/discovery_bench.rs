//! Discovery benchmark: how long nodes started with `--discover` on one LAN take until
//! each lists every other as a peer, with no register call (issue #22).
//!
//! ```text
//!  a bridge and N network namespaces (10.x addresses): N hosts on one LAN
//!  start a node on each: --host ADDR --port 5000 --public-url http://ADDR:5000 --discover
//!  time: from the last node listening ... until every node's GET /nodes/get lists all others
//!  repeat for each round, on fresh namespaces and data dirs
//! ```
//!
//! Needs root (`ip netns`). Run:
//!
//! ```text
//! cargo build --release -p blockchain_node -p blockchain_bench
//! sudo target/release/discovery_bench --nodes 3 --rounds 5
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::bail;
use blockchain_bench::{api, node_binary};
use clap::Parser;

/// Measures how fast nodes on one LAN find each other over mDNS.
#[derive(Parser)]
struct Args {
    /// Nodes on the LAN, one per host.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(2..=20))]
    nodes: u8,
    /// Rounds, each on a fresh LAN.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    rounds: u16,
    /// The node binary [default: blockchain_node beside this one].
    #[arg(long)]
    node: Option<PathBuf>,
    /// Give up on a round after this many seconds.
    #[arg(long, default_value_t = 30)]
    limit: u64,
}

#[path = "../../../blockchain_node/tests/lan/mod.rs"]
mod lan;

/// Whether every node lists every other.
async fn all_found(http: &reqwest::Client, urls: &[String]) -> anyhow::Result<bool> {
    for url in urls {
        let peers = api::peers(http, url).await?;
        if urls
            .iter()
            .any(|other| other != url && !peers.nodes.contains(other))
        {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn round(args: &Args, binary: &Path) -> anyhow::Result<Duration> {
    if let Some(why) = lan::unavailable() {
        bail!("{why}");
    }
    let mut hosts = lan::Lan::new(usize::from(args.nodes));
    let data = tempfile::tempdir()?;
    let mut urls = Vec::new();
    for host in 1..=usize::from(args.nodes) {
        let addr = hosts.addr(host);
        let node_args: Vec<String> = [
            "--host",
            &addr,
            "--port",
            "5000",
            "--discover",
            "--public-url",
            &format!("http://{addr}:5000"),
            "--difficulty",
            "8",
            "--sync-interval",
            "0",
            "--data-dir",
            &data.path().join(format!("node{host}")).to_string_lossy(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let log = data.path().join(format!("node{host}.log"));
        urls.push(hosts.serve(host, binary, &node_args, &log));
    }
    let started = Instant::now();
    let http = api::client(Some(Duration::from_secs(5)))?;
    while !all_found(&http, &urls).await? {
        if started.elapsed() > Duration::from_secs(args.limit) {
            bail!("the nodes did not find each other in {} s", args.limit);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(started.elapsed())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = node_binary(args.node.as_deref())?;
    let mut times = Vec::new();
    for r in 0..usize::from(args.rounds) {
        let took = round(&args, &binary).await?;
        println!("round {}: {:.3} s", r + 1, took.as_secs_f64());
        times.push(took);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "discovery: {} nodes list each other {:.2} s (median of {} rounds; {:.2}–{:.2} s) after the last one listens",
        args.nodes,
        median.as_secs_f64(),
        times.len(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64()
    );
    Ok(())
}
