use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = blockchain_client::cli::Cli::parse();
    blockchain_client::cli::run(cli)
}
