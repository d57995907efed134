//! The benches' paying wallets and the genesis that funds them.

use blockchain_core::{GenesisFile, PrivateKey};
use rayon::prelude::*;

/// Coins the genesis gives each wallet: more than any bench spends.
pub const FUNDS: &str = "1000000";

/// `count` wallets with fresh `bits`-bit keys, made on all cores.
///
/// # Panics
/// When `bits` is not a key size the wallets support.
#[must_use]
pub fn random_wallets(count: usize, bits: usize) -> Vec<PrivateKey> {
    (0..count)
        .into_par_iter()
        .map(|_| PrivateKey::generate(&mut rand::rng(), bits).expect("a valid key size"))
        .collect()
}

/// A genesis file, as JSON, named `name`, that gives each of `wallets` [`FUNDS`] coins, at
/// `difficulty` [default: the node's].
#[must_use]
pub fn funded_genesis(name: &str, wallets: &[PrivateKey], difficulty: Option<u32>) -> String {
    GenesisFile {
        difficulty,
        ..GenesisFile::funding(name, wallets.iter().map(PrivateKey::address), FUNDS)
    }
    .to_json()
}
