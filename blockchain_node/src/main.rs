use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = blockchain_node::Config::parse();
    let _log = blockchain_node::init_tracing();
    blockchain_node::run(config).await
}
