//! Command-line configuration.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use blockchain_core::Address;
use clap::Parser;

use crate::settings::{SettingError, SettingsPatch};

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

    /// Address (public key hex) that receives this node's mining rewards (a run-time
    /// setting, kept across restarts; Configure changes it too). Without it the rewards go
    /// to a wallet the node creates once and keeps in the data directory.
    #[arg(long)]
    pub miner_address: Option<String>,

    /// A peer node's URL; repeat for several. Registered at start, both ways.
    #[arg(long = "peer")]
    pub peers: Vec<String>,

    /// The URL peers reach this node at, sent when it registers itself with them
    /// [default: http://<host>:<port>; set it when binding to 0.0.0.0 or behind a proxy].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// An origin whose pages may use the operator's routes (mine, peers, settings), besides
    /// this node's own pages; repeat for several. Other sites' pages get a 403 there.
    #[arg(
        long = "allow-origin",
        value_name = "ORIGIN",
        default_values_t = [
            "http://127.0.0.1:8080".to_owned(),
            "http://localhost:8080".to_owned(),
        ]
    )]
    pub allow_origins: Vec<String>,

    /// A host name this node answers to besides IP addresses, localhost and the
    /// --public-url's host (requests naming others get a 403: a guard against DNS
    /// rebinding); repeat for several.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,

    /// Mine continuously in the background while the pool holds transactions (a run-time
    /// setting, kept across restarts: Configure turns it off again).
    #[arg(long)]
    pub mine: bool,

    /// With --mine: the fewest seconds between two blocks this node mines [default: 5, or
    /// as last configured].
    #[arg(long)]
    pub block_interval: Option<f64>,

    #[command(flatten)]
    pub client: blockchain_http::ClientTimeout,

    /// Seconds between automatic consensus rounds with peers (0 disables them).
    #[arg(long, default_value_t = 30.0)]
    pub sync_interval: f64,

    /// The most transactions the pending pool holds.
    #[arg(long, default_value_t = 100_000)]
    pub pool_capacity: usize,

    /// The most pending transactions one sender may have, so no wallet can fill the pool
    /// [default: a tenth of --pool-capacity].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub pool_sender_limit: Option<u64>,

    /// Mining threads [default: one per core, or as last configured].
    #[arg(long)]
    pub mining_threads: Option<usize>,

    /// The file holding the operator token, which requests from other machines must show
    /// on the operator's routes (created with a random token, mode 0600, if absent)
    /// [default: <data-dir>/operator-token].
    #[arg(long, value_name = "PATH")]
    pub operator_token_file: Option<PathBuf>,

    /// The most peers this node keeps; registrations past it are refused.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_peers: u64,

    /// Difficulty (bits) of the blocks this node mines: at least the network's. A harder
    /// block carries more work, so it wins a tie [default: the network's, or as last
    /// configured].
    #[arg(long)]
    pub mining_difficulty: Option<u32>,

    /// Coins `POST /faucet` pays an address from this node's wallet, 0 for none (a
    /// run-time setting, kept across restarts; Configure changes it too) [default: 1, or
    /// as last configured].
    #[arg(long, value_name = "COINS", value_parser = parse_faucet_amount)]
    pub faucet_amount: Option<blockchain_core::Amount>,

    /// How long the faucet waits before paying the same address, or a request from the
    /// same client address, again: `10m`, `90s`, `1h`. Kept in memory: a restart forgets.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    pub faucet_window: Duration,

    /// Announce this node over mDNS (`_blockchain._tcp.local`) and register the nodes of
    /// the same network (same genesis) found on the LAN.
    #[arg(long)]
    pub discover: bool,
}

fn parse_faucet_amount(text: &str) -> Result<blockchain_core::Amount, String> {
    blockchain_core::Amount::parse_decimal(text.trim()).map_err(|e| e.to_string())
}

impl Config {
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("data").join(format!("node-{}", self.port)))
    }

    /// Where the operator token is kept.
    pub fn operator_token_file(&self) -> PathBuf {
        self.operator_token_file
            .clone()
            .unwrap_or_else(|| self.data_dir().join(crate::http::operator::FILE_NAME))
    }

    pub fn sync_interval(&self) -> Option<Duration> {
        (self.sync_interval > 0.0).then(|| Duration::from_secs_f64(self.sync_interval))
    }

    pub fn pool_sender_limit(&self) -> usize {
        self.pool_sender_limit.map_or_else(
            || crate::pool::PendingPool::default_sender_limit(self.pool_capacity),
            |n| usize::try_from(n).unwrap_or(usize::MAX),
        )
    }

    /// The settings flags given on the command line; they override the stored ones.
    ///
    /// # Errors
    /// A malformed `--miner-address`, named.
    pub fn settings_patch(&self) -> Result<SettingsPatch, SettingError> {
        let reward_address = match &self.miner_address {
            Some(hex) => Some(Some(
                Address::parse_field(hex.trim(), "miner_address").map_err(|e| SettingError {
                    field: "miner-address",
                    message: e.to_string(),
                })?,
            )),
            None => None,
        };
        Ok(SettingsPatch {
            background_mining: self.mine.then_some(true),
            block_interval: self.block_interval,
            reward_address,
            mining_threads: self.mining_threads,
            mining_difficulty: self.mining_difficulty,
            faucet_amount: self.faucet_amount,
            faucet_enabled: self.faucet_amount.map(|amount| amount.units() > 0),
        })
    }
}

/// The machine's cores: the most mining threads worth running.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
