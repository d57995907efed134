//! The miner node. `run` wires configuration, storage, the HTTP API, mining and peers.

pub mod addresses;
pub mod blocks;
pub mod cli;
pub mod config;
pub mod http;
pub mod journal;
pub mod keys;
pub mod log_output;
pub mod mining;
pub mod network;
pub mod node;
pub mod pool;
pub mod settings;
pub mod snapshot;
pub mod storage;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use blockchain_core::{Difficulty, NetworkParams};

pub use config::Config;

use crate::network::Network;
use crate::node::{Node, NodeOptions};

/// Logs to stderr (stdout carries only the `listening on` line), through a buffer (see
/// [`log_output`]); `RUST_LOG` overrides the default `info`. Keep the returned output
/// until the end of `main`: dropping it writes out the last lines.
#[must_use = "dropping the output writes out the buffered lines, so keep it until the end"]
pub fn init_tracing() -> log_output::LogOutput {
    let output = log_output::LogOutput::stderr();
    output.flush_on_panic();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(output.clone())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    output
}

/// Reads the network parameters: the genesis file (or, without `--genesis`, the one an
/// import left in the data dir, or defaults), with `--difficulty` taking precedence.
/// Difficulty is a network parameter: nodes that disagree on it are on different
/// networks, and their genesis hashes say so.
///
/// # Errors
/// An unreadable or invalid genesis file, or a difficulty out of range.
pub fn network_params(config: &Config) -> anyhow::Result<NetworkParams> {
    let genesis = config
        .genesis
        .clone()
        .or_else(|| snapshot::stored_genesis(&config.data_dir()));
    read_network_params(genesis.as_deref(), config.difficulty)
}

/// The network parameters of the genesis file at `genesis` (defaults without one), with
/// `difficulty` taking precedence.
///
/// # Errors
/// An unreadable or invalid genesis file, or a difficulty out of range.
pub fn read_network_params(
    genesis: Option<&std::path::Path>,
    difficulty: Option<u32>,
) -> anyhow::Result<NetworkParams> {
    let mut params = match genesis {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading genesis file {}", path.display()))?;
            NetworkParams::from_json(&text)
                .with_context(|| format!("genesis file {}", path.display()))?
        }
        None => NetworkParams::default(),
    };
    if let Some(bits) = difficulty {
        params.difficulty = Difficulty::new(bits).context("--difficulty")?;
    }
    Ok(params)
}

/// Runs the node until Ctrl-C.
///
/// # Errors
/// Bad configuration, an unusable data directory, or a port that cannot be bound.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let params = network_params(&config)?;
    let dir = config.data_dir();
    let options = NodeOptions {
        pool_capacity: config.pool_capacity,
        sender_limit: config.pool_sender_limit(),
        max_threads: config::cores(),
        settings: config.settings_patch()?,
    };
    let node = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || Node::open(&dir, params, &options)).await?
    }
    .map_err(|error| anyhow::anyhow!(error.explain(&dir)))?;
    let node = Arc::new(node);
    let token_file = config.operator_token_file();
    let operator = http::operator::OperatorToken::load_or_create(&token_file)?;
    let stored_peers = node.stored_peers()?;
    let network = Network::new(Arc::clone(&node), stored_peers);
    network.set_max_peers(usize::try_from(config.max_peers).unwrap_or(usize::MAX));

    let listener = tokio::net::TcpListener::bind((config.host, config.port))
        .await
        .with_context(|| format!("binding {}:{}", config.host, config.port))?;
    let local = listener.local_addr()?;
    let public_url = match &config.public_url {
        Some(url) => network::parse_peer_url(url).context("--public-url")?,
        None => format!("http://{local}"),
    };
    network.set_self_url(public_url.clone());
    tracing::info!(
        url = %format!("http://{local}"),
        data_dir = %dir.display(),
        genesis = %node.genesis_hash(),
        difficulty = node.params.difficulty.bits(),
        reward_address = %node.reward_address().short(),
        "node listening"
    );
    tracing::info!(
        operator_token_file = %operator.path().display(),
        "requests from other machines to the operator's routes need the token in this file (Authorization: Bearer, or sign in on the Mine page)"
    );
    // Stop signals are listened for before anyone hears the node is up.
    let stop_signal = blockchain_http::StopSignal::listen();
    // A line for scripts and tests that start the node on port 0.
    println!("listening on http://{local}");

    if !config.peers.is_empty() {
        let peers = config.peers.join(",");
        let network = Arc::clone(&network);
        tokio::spawn(async move {
            let before = network.peers();
            match network.register_trusted(&peers).await {
                Ok(after) => {
                    network.note_found(&before, &after, blockchain_api::PeerSource::Configured)
                }
                Err(error) => tracing::warn!(%error, "--peer not registered"),
            }
        });
    }
    // Announcing stops (with a goodbye) when this is dropped, as the node stops.
    let _discovery = if config.discover {
        let announcement = network::discovery::Announcement {
            genesis: node.genesis_hash(),
            public_url: &public_url,
            host: config.host,
            port: local.port(),
        };
        Some(network::discovery::Discovery::start(
            Arc::clone(&network),
            &announcement,
        )?)
    } else {
        None
    };
    tokio::spawn(Arc::clone(&network).announce_events());
    tokio::spawn(Arc::clone(&network).retry_unreachable());
    if let Some(every) = config.sync_interval() {
        tokio::spawn(Arc::clone(&network).sync_periodically(every));
    }
    tokio::spawn(mine_in_background(Arc::clone(&node)));
    tokio::spawn(report_storage_health(Arc::clone(&node)));

    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let mut hosts = config.allow_hosts.clone();
    if let Some(host) = url::Url::parse(&public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
    {
        hosts.push(host);
    }
    let guard = blockchain_http::Guard::new(&hosts, http::FORBIDDEN)
        .with_origins(&config.allow_origins)
        .map_err(anyhow::Error::msg)?;
    let app = http::router(
        http::AppState::new(http::AppParts {
            node,
            network,
            shutdown,
            guard: Arc::new(guard),
            operator: Arc::new(operator),
            faucet: http::faucet::FaucetLimits::new(config.faucet_window),
        }),
        config.client.timeout,
    );
    blockchain_http::serve(listener, app, config.client.timeout, async move {
        stop_signal.requested().await;
        tracing::info!("stopping: answering the requests in progress");
        let _ = stop.send(true);
    })
    .await;
    tracing::info!("stopped");
    Ok(())
}

/// Background mining (`--mine`, or switched on at run time): a block whenever the pool
/// holds transactions, at most one per block interval. Follows the settings as they change.
async fn mine_in_background(node: Arc<Node>) {
    let mut last_block: Option<tokio::time::Instant> = None;
    loop {
        let settings_changed = node.settings_changed.notified();
        let pool_changed = node.pool_changed.notified();
        let settings = node.settings();
        if !settings.background_mining {
            settings_changed.await;
            continue;
        }
        let interval = Duration::from_secs_f64(settings.block_interval);
        if let Some(last) = last_block
            && last.elapsed() < interval
        {
            // Wait out the interval, unless the operator shortens it meanwhile.
            tokio::select! {
                () = tokio::time::sleep_until(last + interval) => {}
                () = settings_changed => {}
            }
            continue;
        }
        if node.pending_count() == 0 {
            tokio::select! {
                () = pool_changed => {}
                () = settings_changed => {}
            }
            continue;
        }
        last_block = Some(tokio::time::Instant::now());
        if let Err(error) = node.mine(None).await {
            tracing::error!(%error, "background mining failed");
            if let crate::node::ConnectError::Storage(error) = &error
                && error.outage().is_some()
            {
                // Mining resumes as soon as the disk takes writes again.
                let mut health = node.watch_storage_health();
                let _ = health.wait_for(Option::is_none).await;
                last_block = None;
            }
        }
    }
}

/// Tells the dashboards when storage begins refusing writes and when it takes them again.
async fn report_storage_health(node: Arc<Node>) {
    let mut health = node.watch_storage_health();
    while health.changed().await.is_ok() {
        node.publish(crate::node::Event::Storage);
    }
}
