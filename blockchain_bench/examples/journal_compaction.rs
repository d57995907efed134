//! How long the pool journal's compaction holds up the storage writer at a full pool.
//!
//! ```text
//! cargo run --release -p blockchain_bench --example journal_compaction [DIR]
//! ```
//!
//! Builds a journal of 100,000 live transactions (110 MB) and three times as much dead,
//! then goes on appending as the writer does (four transactions and an `fdatasync` per
//! commit, `compact_if_due` after each) until the compaction is in place, and prints the
//! longest the writer waited in `compact_if_due`. The journal goes in a temporary directory
//! under DIR (default `target`): on tmpfs, `fdatasync` would cost nothing.

use std::time::{Duration, Instant};

use blockchain_node::journal::{Change, Journal};

/// The node's allocator (see `blockchain_node/src/main.rs`): the journal is the node's
/// code, so it allocates here as in the node.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::io::Result<()> {
    let under = std::env::args().nth(1).unwrap_or_else(|| "target".into());
    let dir = tempfile::tempdir_in(under)?;
    let mut journal = Journal::open(dir.path())?;
    let json = vec![b'x'; 1100];
    let puts = |from: u64, n: u64| (from..from + n).map(|seq| Change::Put { seq, json: &json });
    for batch in 0..1000 {
        journal.append(puts(batch * 100, 100))?;
    }
    let live_bytes = journal.file_len();
    let mut seq = 1_000_000;
    while journal.file_len() < 4 * live_bytes + (16 << 20) {
        journal.append(puts(seq, 100))?;
        journal.append((seq..seq + 100).map(|seq| Change::Remove { seq }))?;
        seq += 100;
    }
    journal.sync()?;
    let before = journal.file_len();
    let started = Instant::now();
    let (mut longest, mut commits) = (Duration::ZERO, 0);
    while journal.file_len() >= before {
        journal.append(puts(seq, 4))?;
        journal.sync()?;
        seq += 4;
        commits += 1;
        let waited = Instant::now();
        journal.compact_if_due()?;
        longest = longest.max(waited.elapsed());
    }
    println!(
        "journal {} MB ({} MB live) compacted to {} MB in {:.0} ms, over {commits} commits",
        before >> 20,
        live_bytes >> 20,
        journal.file_len() >> 20,
        started.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "longest wait in compact_if_due: {:.1} ms",
        longest.as_secs_f64() * 1e3
    );
    Ok(())
}
