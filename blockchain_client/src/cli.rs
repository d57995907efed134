//! The command line: the web app by default, and wallet, signing and node commands.
//!
//! Every command prints JSON on stdout and its errors in words on stderr. Exit status: 0 on
//! success, 1 when the node refuses or cannot be reached or the input is wrong, 2 for a
//! command-line usage error (clap's).

use std::fs::OpenOptions;
use std::io::{IsTerminal, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use blockchain_core::PrivateKey;
use blockchain_core::wallet::DEFAULT_KEY_BITS;
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;
use zeroize::Zeroizing;

use crate::http::{AppState, serve};
use crate::node::{NodeClient, NodeKind, http_client, parse_node_url};
use crate::operator_token::OperatorTokenArgs;
use crate::signing::{self, NonceChoice, SignRequest};

/// The node a client talks to unless told otherwise.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:5000";

/// Wallet client of the teaching blockchain: a web app and a command line.
///
/// Without a subcommand it serves the wallet web app (as `serve`).
#[derive(Debug, Parser)]
#[command(
    name = "blockchain_client",
    version,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the wallet web app (the default).
    Serve(ServeArgs),
    /// Make wallets.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Sign a payment and print it as the web app's /generate/transaction does.
    Sign(SignArgs),
    /// Sign a payment and submit it to a node; exits non-zero if the node refuses it. For
    /// an original tutorial node (told from its answers) it signs the original message
    /// without a nonce and warns that such a node does not stop replays.
    Send(SendArgs),
    /// Print a wallet's balance on a node.
    Balance(BalanceArgs),
    /// Print the transactions on a node's chain (or its pending pool with --pending).
    Transactions(TransactionsArgs),
    /// Ask a node to mine a block whose reward pays a wallet (how to get coins).
    Mine(MineArgs),
    /// Ask a node's faucet for coins: it pays the wallet from the node's own wallet, once
    /// in a while (how a student gets coins from a teacher's node).
    Faucet(FaucetArgs),
    /// Check a transaction's Merkle proof (the JSON of a node's GET
    /// /transactions/{id}/proof) from a file, stdin, or a node; exits 0 if it holds, 1
    /// naming the level that fails.
    VerifyProof(VerifyProofArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(short, long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on. WARNING: this app receives private keys to sign with. Keep the
    /// default 127.0.0.1 unless every machine that can reach another address is trusted.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// The node the pages use by default.
    #[arg(long, default_value = DEFAULT_NODE, value_name = "URL")]
    pub node: String,
    /// A host name this app answers to besides IP addresses and localhost (requests naming
    /// others get a 403: a guard against DNS rebinding); repeat for several.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
    #[command(flatten)]
    pub client: blockchain_http::ClientTimeout,
    #[command(flatten)]
    pub operator: OperatorTokenArgs,
}

#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Make a new wallet and print {"private_key", "public_key"}.
    New {
        /// RSA key size (1024 to 4096).
        #[arg(long, default_value_t = DEFAULT_KEY_BITS)]
        bits: usize,
        /// Write the wallet to FILE (owner-only permissions; never overwritten) and print
        /// only the public key.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Args)]
#[group(id = "key", required = true, multiple = false)]
pub struct KeySource {
    /// The sender's private key as hex. Visible to other users in the process list: prefer
    /// --private-key-file.
    #[arg(long, value_name = "HEX", group = "key")]
    pub private_key: Option<String>,
    /// A file holding the private key: hex, or a wallet JSON file from `wallet new --out`.
    /// `-` reads standard input.
    #[arg(long, value_name = "FILE", group = "key")]
    pub private_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub key: KeySource,
    /// The sender's address; checked against the key (defaults to the key's address).
    #[arg(long, value_name = "HEX")]
    pub sender: Option<String>,
    /// The recipient's address.
    #[arg(long, value_name = "HEX")]
    pub recipient: String,
    /// The amount, a decimal with up to 8 places.
    #[arg(long, value_name = "V")]
    pub amount: String,
    /// Use this nonce instead of a random one.
    #[arg(long, value_name = "N", conflicts_with = "no_nonce")]
    pub nonce: Option<String>,
    /// Sign the original client's message without a nonce (its signature then equals the
    /// original's byte for byte; the node accepts such a payment only once).
    #[arg(long)]
    pub no_nonce: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// The node to submit to.
    #[arg(long, default_value = DEFAULT_NODE, value_name = "URL")]
    pub node: String,
    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BalanceArgs {
    /// The node to ask.
    #[arg(long, default_value = DEFAULT_NODE, value_name = "URL")]
    pub node: String,
    /// The wallet's address.
    #[arg(long, value_name = "HEX")]
    pub address: String,
}

#[derive(Debug, Clone, Args)]
pub struct MineArgs {
    /// The node that mines.
    #[arg(long, default_value = DEFAULT_NODE, value_name = "URL")]
    pub node: String,
    /// The wallet address (public key hex) the block's reward pays.
    #[arg(long, value_name = "HEX")]
    pub to: String,
    /// Blocks to mine, one after another.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub blocks: u32,
    #[command(flatten)]
    pub operator: OperatorTokenArgs,
}

#[derive(Debug, Clone, Args)]
pub struct FaucetArgs {
    /// The node whose faucet pays.
    #[arg(long, default_value = DEFAULT_NODE, value_name = "URL")]
    pub node: String,
    /// The wallet address (public key hex) to pay.
    #[arg(long, value_name = "HEX")]
    pub address: String,
}

#[derive(Debug, Clone, Args)]
pub struct TransactionsArgs {
    /// The node to ask.
    #[arg(long, default_value = DEFAULT_NODE, value_name = "URL")]
    pub node: String,
    /// Print the pending pool instead of the chain's transactions.
    #[arg(long)]
    pub pending: bool,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyProofArgs {
    /// The proof's JSON file ("-" or nothing: stdin), unless --id is given.
    #[arg(value_name = "FILE", conflicts_with = "id")]
    pub file: Option<PathBuf>,
    /// Fetch the proof of this transaction from --node (and check its leaf against the
    /// transaction's id and signature too).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// The node to fetch from, with --id.
    #[arg(long, default_value = DEFAULT_NODE, value_name = "URL")]
    pub node: String,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            None => run_serve(cli.serve).await,
            Some(Command::Serve(args)) => run_serve(args).await,
            Some(Command::Wallet(WalletCommand::New { bits, out })) => {
                wallet_new(bits, out.as_deref())
            }
            Some(Command::Sign(args)) => sign(&args).map(|signed| print_json(&signed)),
            Some(Command::Send(args)) => send(&args).await,
            Some(Command::Balance(args)) => balance(&args).await,
            Some(Command::Transactions(args)) => transactions(&args).await,
            Some(Command::Mine(args)) => mine(&args).await,
            Some(Command::Faucet(args)) => faucet(&args).await,
            Some(Command::VerifyProof(args)) => verify_proof(&args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn verify_proof(args: &VerifyProofArgs) -> anyhow::Result<()> {
    let (proof, signature) = match &args.id {
        Some(id) => {
            let node = node_client(&args.node)?;
            let proof = node.proof(id).await?;
            if !proof.transaction_id.to_string().eq_ignore_ascii_case(id) {
                bail!(
                    "the node sent the proof of transaction {}, not of {id}",
                    proof.transaction_id
                );
            }
            let answer = node.transaction(id).await?;
            let signature = answer["transaction"]["signature"]
                .as_str()
                .and_then(|text| hex::decode(text).ok())
                .context("the node's transaction has no hex signature")?;
            (proof, Some(signature))
        }
        None => {
            let mut text = String::new();
            match args.file.as_deref().filter(|path| *path != Path::new("-")) {
                Some(path) => {
                    text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                }
                None => {
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("reading the proof from stdin")?;
                }
            }
            let proof = serde_json::from_str(&text)
                .context("the proof is not the JSON of GET /transactions/{id}/proof")?;
            (proof, None)
        }
    };
    let verified = crate::proof::check(&proof, signature.as_deref())?;
    print_json(&verified);
    Ok(())
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

fn print_json<T: Serialize>(value: &T) {
    let text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    println!("{text}");
}

fn node_client(text: &str) -> anyhow::Result<NodeClient> {
    let base: Url = parse_node_url(text).context("--node")?;
    Ok(NodeClient::new(http_client(), base))
}

async fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let node = parse_node_url(&args.node).context("--node")?;
    let state = AppState::new(node)
        .with_allowed_hosts(&args.allow_hosts)
        .with_operator_token(args.operator.token()?);
    serve(
        SocketAddr::new(args.host, args.port),
        state,
        args.client.timeout,
    )
    .await
}

#[derive(Serialize)]
struct WalletFile<'a> {
    private_key: &'a str,
    public_key: &'a str,
}

fn wallet_new(bits: usize, out: Option<&Path>) -> anyhow::Result<()> {
    let key = PrivateKey::generate(&mut rand::rng(), bits)?;
    let private_key = key.to_hex();
    let wallet = WalletFile {
        private_key: &private_key,
        public_key: key.address().as_hex(),
    };
    let Some(path) = out else {
        print_json(&wallet);
        return Ok(());
    };
    let text = Zeroizing::new(serde_json::to_string_pretty(&wallet)? + "\n");
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        format!(
            "cannot create {} (an existing file is never overwritten)",
            path.display()
        )
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    print_json(&json!({ "public_key": key.address().as_hex() }));
    Ok(())
}

/// Reads the private key from the flag or the file: hex, or a wallet JSON file.
fn read_private_key(source: &KeySource) -> anyhow::Result<Zeroizing<String>> {
    if let Some(hex) = &source.private_key {
        return Ok(Zeroizing::new(hex.trim().to_owned()));
    }
    let Some(path) = &source.private_key_file else {
        bail!("give --private-key or --private-key-file");
    };
    let mut text = Zeroizing::new(String::new());
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the private key from standard input")?;
    } else {
        std::fs::File::open(path)
            .and_then(|mut file| file.read_to_string(&mut text))
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        let json: Value =
            serde_json::from_str(trimmed).context("the key file is not valid JSON")?;
        let key = json
            .get("private_key")
            .and_then(Value::as_str)
            .context("the key file's JSON has no \"private_key\"")?;
        return Ok(Zeroizing::new(key.to_owned()));
    }
    Ok(Zeroizing::new(trimmed.to_owned()))
}

fn nonce_choice(args: &SignArgs) -> NonceChoice {
    match (&args.nonce, args.no_nonce) {
        (_, true) => NonceChoice::Without,
        (Some(nonce), false) => NonceChoice::Given(nonce.clone()),
        (None, false) => NonceChoice::Random,
    }
}

fn sign(args: &SignArgs) -> anyhow::Result<signing::SignedTransaction> {
    sign_with(args, nonce_choice(args))
}

fn sign_with(args: &SignArgs, nonce: NonceChoice) -> anyhow::Result<signing::SignedTransaction> {
    let private_key = read_private_key(&args.key)?;
    let request = SignRequest {
        sender: args.sender.as_deref(),
        private_key: &private_key,
        recipient: &args.recipient,
        amount: &args.amount,
    };
    Ok(signing::sign(request, nonce)?)
}

/// Signs for the kind of node `--node` is (see [`NodeClient::kind`]) and submits. An
/// original tutorial node gets the original three-field signature and a warning on stderr.
async fn send(args: &SendArgs) -> anyhow::Result<()> {
    let node = node_client(&args.node)?;
    let kind = node.kind().await?;
    let nonce = match kind {
        NodeKind::Ours => nonce_choice(&args.sign),
        NodeKind::Original { style } => {
            if args.sign.nonce.is_some() {
                bail!(
                    "--nonce: the node at {} is an original tutorial node, which verifies only \
                     the three-field message; leave out --nonce",
                    node.base()
                );
            }
            if let Some(warning) = kind.warning(node.base()) {
                eprintln!("warning: {warning}");
            }
            NonceChoice::ForOriginalNode(style)
        }
    };
    let signed = sign_with(&args.sign, nonce)?;
    let answer = node.submit(&signed).await?;
    print_json(&answer.body);
    if !answer.accepted() {
        bail!("the node refused the transaction: {}", answer.words());
    }
    Ok(())
}

async fn balance(args: &BalanceArgs) -> anyhow::Result<()> {
    let address = blockchain_core::Address::parse_field(args.address.trim(), "address")?;
    let node = node_client(&args.node)?;
    print_json(&node.balance(address.as_hex()).await?);
    Ok(())
}

async fn mine(args: &MineArgs) -> anyhow::Result<()> {
    let address = blockchain_core::Address::parse_field(args.to.trim(), "to")?;
    let node = node_client(&args.node)?.with_operator_token(args.operator.token()?);
    let mut blocks = Vec::new();
    for _ in 0..args.blocks {
        let mined = node.mine_to(address.as_hex()).await?;
        blocks.push(json!({
            "block_number": mined.block_number,
            "hash": mined.hash,
            "reward": mined.reward,
        }));
    }
    let balance = node.balance(address.as_hex()).await?;
    print_json(&json!({ "blocks": blocks, "balance": balance }));
    Ok(())
}

async fn faucet(args: &FaucetArgs) -> anyhow::Result<()> {
    let address = blockchain_core::Address::parse_field(args.address.trim(), "address")?;
    let node = node_client(&args.node)?;
    print_json(&node.faucet(address.as_hex()).await?);
    Ok(())
}

/// A chain transaction with the block it is in, as the View Transactions page lists it.
#[derive(Serialize)]
struct ChainTransaction<'a> {
    block: u64,
    timestamp: f64,
    #[serde(flatten)]
    transaction: &'a crate::node::NodeTransaction,
}

async fn transactions(args: &TransactionsArgs) -> anyhow::Result<()> {
    let node = node_client(&args.node)?;
    if args.pending {
        print_json(&node.pool().await?);
        return Ok(());
    }
    let chain = node.chain().await?;
    let list: Vec<_> = chain
        .chain
        .iter()
        .flat_map(|block| {
            block
                .transactions
                .iter()
                .map(|transaction| ChainTransaction {
                    block: block.block_number,
                    timestamp: block.timestamp,
                    transaction,
                })
        })
        .collect();
    print_json(&json!({ "transactions": list, "length": chain.length }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_serves_on_the_defaults() {
        let cli = Cli::try_parse_from(["blockchain_client"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.port, 8080);
        assert_eq!(cli.serve.host, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(cli.serve.node, DEFAULT_NODE);
        let cli = Cli::try_parse_from(["blockchain_client", "-p", "9000"]).unwrap();
        assert_eq!(cli.serve.port, 9000);
    }

    #[test]
    fn sign_needs_exactly_one_key_source_and_one_nonce_choice() {
        let base = [
            "blockchain_client",
            "sign",
            "--recipient",
            "r",
            "--amount",
            "1",
        ];
        assert!(Cli::try_parse_from(base).is_err());
        let both = [
            &base[..],
            &["--private-key", "k", "--private-key-file", "f"],
        ]
        .concat();
        assert!(Cli::try_parse_from(both).is_err());
        let nonces = [
            &base[..],
            &["--private-key", "k", "--nonce", "n", "--no-nonce"],
        ]
        .concat();
        assert!(Cli::try_parse_from(nonces).is_err());
        let ok = [&base[..], &["--private-key", "k", "--no-nonce"]].concat();
        assert!(Cli::try_parse_from(ok).is_ok());
    }

    #[test]
    fn help_warns_before_binding_elsewhere() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("WARNING"), "{help}");
        assert!(help.contains("private keys"), "{help}");
    }
}
