//! The node's operator token, for the client's calls that only the operator may make
//! (`POST /mine`). A node answers them from another machine only with
//! `Authorization: Bearer <token>`; from its own machine no token is needed, so without
//! one the client sends none.
//!
//! The token comes from `BLOCKCHAIN_OPERATOR_TOKEN`, else from `--operator-token-file`
//! (the node's `<data-dir>/operator-token`). It is sent only to the node the client was
//! started with, never to another node a request names.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

/// The environment variable that holds the token.
pub const ENV: &str = "BLOCKCHAIN_OPERATOR_TOKEN";

/// `--operator-token-file`, as the commands that mine take it (`#[command(flatten)]`).
#[derive(Debug, Clone, Default, Args)]
pub struct OperatorTokenArgs {
    /// The node's operator token file (its <data-dir>/operator-token), for mining on a
    /// node on another machine; the environment variable BLOCKCHAIN_OPERATOR_TOKEN gives
    /// the token itself instead. Not needed for a node on this machine.
    #[arg(long, value_name = "PATH")]
    pub operator_token_file: Option<PathBuf>,
}

impl OperatorTokenArgs {
    /// The token, if one is given.
    ///
    /// # Errors
    /// The file cannot be read or is empty.
    pub fn token(&self) -> anyhow::Result<Option<Arc<str>>> {
        if let Ok(token) = std::env::var(ENV)
            && !token.trim().is_empty()
        {
            return Ok(Some(Arc::from(token.trim())));
        }
        let Some(path) = &self.operator_token_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--operator-token-file {}", path.display()))?;
        let token = text.trim();
        anyhow::ensure!(
            !token.is_empty(),
            "--operator-token-file {} is empty",
            path.display()
        );
        Ok(Some(Arc::from(token)))
    }
}
