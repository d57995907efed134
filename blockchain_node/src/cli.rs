//! The command line: the node's flags (`Config`), or a subcommand (`snapshot::cli`).

use clap::Parser;

use crate::Config;
use crate::snapshot::cli::Command;

/// A blockchain miner node: verifies and pools transactions, mines blocks with proof of
/// work, stores its chain in an embedded database and converges with its peers on the
/// chain with the most work. Without a subcommand it runs the node.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "blockchain_node",
    version,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub config: Config,
}
