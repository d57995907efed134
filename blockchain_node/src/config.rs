//! Command-line configuration.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// A blockchain miner node: verifies and pools transactions, mines blocks with proof of
/// work, stores its chain in an embedded database and converges with its peers on the
/// chain with the most work.
#[derive(Debug, Clone, Parser)]
#[command(name = "blockchain_node", version)]
pub struct Config {
    /// Port to listen on (0 picks a free port and prints it).
    #[arg(short, long, default_value_t = 5000)]
    pub port: u16,

    /// Address to listen on. The node's API changes its chain and pool: bind to a public
    /// address only on purpose.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Directory of the node's database [default: ./data/node-<port>].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,

    /// Genesis file (JSON): network name, difficulty, reward, allocations. Without it the
    /// built-in defaults make the network.
    #[arg(long)]
    pub genesis: Option<PathBuf>,

    /// The network's difficulty in leading zero bits of a block hash, overriding the genesis
    /// file's. It is a network parameter: every node of a network must use the same value
    /// (the original's difficulty 2 is 8 here) [default: the genesis file's, else 14].
    #[arg(long)]
    pub difficulty: Option<u32>,

    /// Address (public key hex) that receives this node's mining rewards. Without it the
    /// node creates a wallet once, keeps it in the data directory and shows its address.
    #[arg(long)]
    pub miner_address: Option<String>,

    /// A peer node's URL; repeat for several. Registered at start, both ways.
    #[arg(long = "peer")]
    pub peers: Vec<String>,

    /// The URL peers reach this node at, sent when it registers itself with them
    /// [default: http://<host>:<port>; set it when binding to 0.0.0.0 or behind a proxy].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// Mine continuously in the background while the pool holds transactions.
    #[arg(long)]
    pub mine: bool,

    /// With --mine: the fewest seconds between two blocks this node mines.
    #[arg(long, default_value_t = 5.0)]
    pub block_interval: f64,

    /// Seconds between automatic consensus rounds with peers (0 disables them).
    #[arg(long, default_value_t = 30.0)]
    pub sync_interval: f64,

    /// The most transactions the pending pool holds.
    #[arg(long, default_value_t = 100_000)]
    pub pool_capacity: usize,

    /// Mining threads [default: one per core].
    #[arg(long)]
    pub mining_threads: Option<usize>,
}

impl Config {
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("data").join(format!("node-{}", self.port)))
    }

    pub fn block_interval(&self) -> Duration {
        Duration::from_secs_f64(self.block_interval.max(0.0))
    }

    pub fn sync_interval(&self) -> Option<Duration> {
        (self.sync_interval > 0.0).then(|| Duration::from_secs_f64(self.sync_interval))
    }

    pub fn mining_threads(&self) -> usize {
        self.mining_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }
}
