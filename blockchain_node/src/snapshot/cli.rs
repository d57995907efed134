//! `blockchain_node export` and `blockchain_node import`: the flags, and a line for the
//! operator at the end.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

/// What `blockchain_node` does besides running a node.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Writes a stopped node's network (genesis), chain and settings to one file.
    ///
    /// A lab's known state, to import again later or elsewhere. Leaves out the pending pool, the
    /// peers, the operator's secrets and (unless asked) the miner's private key.
    Export(ExportArgs),
    /// Makes a new data dir from an exported file, checking every block on the way in.
    ///
    /// Every block is checked as a peer's block is checked (signatures, links, proof of work, rewards, balances). A node started on
    /// that dir has the same chain and settings. Refuses a non-empty data dir; a refused
    /// file leaves the data dir as it was.
    Import(ImportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The data dir of the node to export; stop the node first.
    #[arg(long)]
    pub data_dir: PathBuf,

    /// The file to write (JSON lines: a header line, then one line a block).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// The genesis file the node runs with [default: the data dir's genesis.json, left
    /// there by an import, else the built-in network].
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,

    /// The --difficulty the node runs with, if it was given one.
    #[arg(long)]
    pub difficulty: Option<u32>,

    /// Also write the node's miner wallet's private key (where its rewards go unless
    /// Configure names another address). Whoever holds the file can then spend that
    /// wallet's coins: keep such a file private. Without it an imported node creates a
    /// new miner wallet of its own.
    #[arg(long)]
    pub include_miner_key: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file `blockchain_node export` wrote.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The data dir to create; it must not exist yet or be empty.
    #[arg(long)]
    pub data_dir: PathBuf,
}

impl super::Summary {
    /// "exported blocks 0 to 4 (… transactions, tip …) to FILE in 0.01 s".
    fn line(&self, done: &str, preposition: &str, place: &Path) -> String {
        format!(
            "{done} blocks 0 to {} ({} transactions, tip {}) {preposition} {} in {:.2} s",
            self.height,
            self.transactions,
            self.tip,
            place.display(),
            self.elapsed.as_secs_f64()
        )
    }
}

/// Runs `command`, saying what it did on stdout or why it failed on stderr.
pub async fn run(command: Command) -> ExitCode {
    let outcome = match command {
        Command::Export(args) => export(&args),
        Command::Import(args) => import(&args).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn export(args: &ExportArgs) -> Result<(), String> {
    let genesis = args
        .genesis
        .clone()
        .or_else(|| super::stored_genesis(&args.data_dir));
    let params = crate::read_network_params(genesis.as_deref(), args.difficulty)
        .map_err(|e| format!("export: {e:#}"))?;
    let summary = super::export(&args.data_dir, &params, &args.out, args.include_miner_key)
        .map_err(|e| format!("export: {e}"))?;
    println!("{}", summary.line("exported", "to", &args.out));
    if summary.miner_key {
        println!("the file holds the miner's private key: keep it private");
    }
    Ok(())
}

async fn import(args: &ImportArgs) -> Result<(), String> {
    // Stopped half way, the import's hidden dir goes with it (see `Building`).
    let summary = tokio::select! {
        imported = super::import(&args.file, &args.data_dir) => {
            imported.map_err(|e| format!("import refused: {e}"))?
        }
        () = blockchain_http::stop_requested() => {
            return Err(format!("import stopped; {} was left as it was", args.data_dir.display()));
        }
    };
    println!("{}", summary.line("imported", "into", &args.data_dir));
    if summary.miner_key {
        println!("with the miner's private key from the file");
    }
    println!(
        "start it with: blockchain_node --data-dir {}",
        args.data_dir.display()
    );
    Ok(())
}
