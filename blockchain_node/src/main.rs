use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: a submitted transaction makes some sixty
/// short-lived allocations across hyper, the handler, the pool and redb, and mimalloc
/// serves them with less CPU (loadgen: about 10-20% less node CPU per transaction).
/// Built without transparent huge pages (`no_thp`): with them an idle node holds about
/// 20 MB resident instead of 10.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = blockchain_node::cli::Cli::parse();
    if let Some(command) = cli.command {
        return Ok(blockchain_node::snapshot::cli::run(command).await);
    }
    let _log = blockchain_node::init_tracing();
    blockchain_node::run(cli.config).await?;
    Ok(ExitCode::SUCCESS)
}
