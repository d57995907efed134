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
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use blockchain_bench::{NodeProcess, api, node_binary, spawn};
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

/// A bridge and a namespace per host, removed on drop.
struct Hosts {
    prefix: String,
    count: u8,
    subnet: String,
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("ip")
        .args(args)
        .stderr(Stdio::inherit())
        .status()
        .context("running ip")?;
    ensure!(status.success(), "ip {} failed", args.join(" "));
    Ok(())
}

impl Hosts {
    fn new(round: usize, count: u8) -> anyhow::Result<Hosts> {
        let prefix = format!("db{}r{round}", std::process::id() % 10_000);
        let subnet = format!("10.{}.{}", 240 + round % 10, std::process::id() % 250);
        let hosts = Hosts {
            prefix: prefix.clone(),
            count: 0,
            subnet,
        };
        let bridge = format!("{prefix}b");
        ip(&[
            "link",
            "add",
            &bridge,
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ])?;
        ip(&["link", "set", &bridge, "up"])?;
        ip(&[
            "addr",
            "add",
            &format!("{}.254/24", hosts.subnet),
            "dev",
            &bridge,
        ])?;
        let mut hosts = hosts;
        for host in 1..=count {
            let ns = format!("{prefix}n{host}");
            let (outer, inner) = (format!("{prefix}v{host}"), format!("{prefix}i{host}"));
            ip(&["netns", "add", &ns])?;
            hosts.count = host;
            ip(&[
                "link", "add", &outer, "type", "veth", "peer", "name", &inner,
            ])?;
            ip(&["link", "set", &outer, "master", &bridge, "up"])?;
            ip(&["link", "set", &inner, "netns", &ns])?;
            let addr = format!("{}/24", hosts.addr(host));
            for args in [
                vec!["addr", "add", &addr, "dev", &inner],
                vec!["link", "set", &inner, "up"],
                vec!["link", "set", "lo", "up"],
                // mDNS is multicast: out through the LAN's interface.
                vec!["route", "add", "224.0.0.0/4", "dev", &inner],
            ] {
                let mut all = vec!["netns", "exec", &ns, "ip"];
                all.extend(args);
                ip(&all)?;
            }
        }
        Ok(hosts)
    }

    fn addr(&self, host: u8) -> String {
        format!("{}.{host}", self.subnet)
    }

    /// A node on `host`, announcing itself and looking for others.
    fn start_node(&self, binary: &Path, host: u8, data: &Path) -> anyhow::Result<NodeProcess> {
        let addr = self.addr(host);
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &format!("{}n{host}", self.prefix)])
            .arg(binary)
            .args(["--host", &addr, "--port", "5000", "--discover"])
            .args(["--public-url", &format!("http://{addr}:5000")])
            .args(["--difficulty", "8", "--sync-interval", "0"])
            .arg("--data-dir")
            .arg(data.join(format!("node{host}")))
            .env("RUST_LOG", "warn");
        spawn(&mut command)?.listening(Some(Duration::from_secs(30)))
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for host in 1..=self.count {
            let _ = ip(&["netns", "del", &format!("{}n{host}", self.prefix)]);
        }
        let _ = ip(&["link", "del", &format!("{}b", self.prefix)]);
    }
}

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

async fn round(args: &Args, binary: &Path, round: usize) -> anyhow::Result<Duration> {
    let hosts = Hosts::new(round, args.nodes)?;
    let data = tempfile::tempdir()?;
    let mut nodes = Vec::new();
    for host in 1..=args.nodes {
        nodes.push(hosts.start_node(binary, host, data.path())?);
    }
    let started = Instant::now();
    let urls: Vec<String> = nodes.iter().map(|n| n.url().to_owned()).collect();
    let http = api::client(Some(Duration::from_secs(5)))?;
    while !all_found(&http, &urls).await? {
        if started.elapsed() > Duration::from_secs(args.limit) {
            bail!(
                "round {round}: the nodes did not find each other in {} s",
                args.limit
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    drop(nodes);
    drop(hosts);
    Ok(took)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = node_binary(args.node.as_deref())?;
    let mut times = Vec::new();
    for r in 0..usize::from(args.rounds) {
        let took = round(&args, &binary, r).await?;
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
