//! The harness the node's benchmarks share: the node binary started as a process and waited
//! for, the genesis that funds the benches' wallets, the requests they all make, what a
//! process has used (CPU time, resident memory), and percentiles of latencies.
//!
//! ```text
//!  random_wallets ─► funded_genesis ─► genesis.json
//!  node_binary() ─► node_command(binary, data dir, genesis) + the bench's flags
//!                ─► spawn ─► Starting::listening ─► NodeProcess (url, pid; killed on drop)
//!  api::{client, get, status, register, mine, submit}  one client, blockchain_api's types
//!  chain::{signed_payments, mine_chain, store_chain}    long chains made in process
//!  usage::{cpu_time, memory}(Process)                   /proc/<pid>/{stat,status}
//!  percentile(sorted latencies, q)
//! ```
//!
//! The benchmarks are this crate's binaries (`loadgen`, `net_bench`, `scale_bench`,
//! `snapshot_bench`, `sync_bench`) and its example `journal_compaction`. They find the node binary beside
//! their own, so both are built in the same profile:
//!
//! ```text
//! cargo build --release -p blockchain_node -p blockchain_bench
//! target/release/loadgen --txs 20000
//! ```

pub mod api;
pub mod chain;
pub mod latency;
pub mod node_process;
pub mod usage;
pub mod wallets;

pub use chain::{mine_chain, signed_payments, store_chain};
pub use latency::percentile;
pub use node_process::{NodeProcess, Starting, node_binary, node_command, spawn};
pub use usage::{Memory, Process};
pub use wallets::{funded_genesis, random_wallets};
