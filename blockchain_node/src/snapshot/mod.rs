//! Snapshots: a network, its chain and a node's settings in one file, so a teacher can
//! put a lab back to a known state (`blockchain_node export` and `blockchain_node import`).
//!
//! The file is JSON lines. The first line says what the file is:
//!
//! ```text
//! {"format":"blockchain_node snapshot","version":1,"genesis":{…genesis file…},
//!  "genesis_hash":"…","height":N,"tip":"…","settings":{…},"miner_private_key":"…"?}
//! ```
//!
//! then one line per block, 0 to N, each in the tutorial's JSON (as `/chain` serves it).
//! Both ends stream: export writes a block at a time from one read transaction, import
//! reads, checks and stores a block at a time, so neither holds the chain in memory.
//!
//! ```text
//! export  stopped data dir ──read-only──► header line, block lines ──► FILE.partial ──rename──► FILE
//! import  FILE ──► header checked (genesis, settings, key)
//!              ──► Node::open on a hidden sibling dir (genesis state, settings, own wallet)
//!              ──► every block through Node::accept_block: signatures, link, proof of
//!                  work, reward, balances, replays (the path a peer's block takes)
//!              ──► tip and height as the header says ──► genesis.json ──rename──► DIR
//! ```
//!
//! What is not in the file: the operator's secrets, the pending pool, the peers. The
//! miner's private key only with `--include-miner-key`. A refused import removes its
//! hidden dir, so DIR is never left half written.

pub mod cli;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use blockchain_core::genesis::Allocation;
use blockchain_core::{BlockHash, GenesisFile, NetworkParams, PrivateKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::node::{META_GENESIS, META_MINER_KEY, META_SETTINGS, Node, NodeOptions, OpenError};
use crate::pool::PendingPool;
use crate::settings::SettingsPatch;
use crate::storage::{ReadOnlyError, ReadOnlyStorage, Storage, StorageError, Write};

/// The first line's `format`.
pub const FORMAT: &str = "blockchain_node snapshot";
/// The first line's `version`: the one this node writes and reads.
pub const VERSION: u32 = 1;
/// The genesis file import leaves in the data dir; the node reads it when started
/// there without `--genesis`.
pub const GENESIS_FILE: &str = "genesis.json";

/// The first line of a snapshot.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    /// The network parameters, as a genesis file.
    genesis: GenesisFile,
    genesis_hash: BlockHash,
    height: u64,
    tip: BlockHash,
    /// The node's settings, in their stored form.
    settings: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    miner_private_key: Option<String>,
}

/// The genesis file that makes `params`.
pub fn genesis_file(params: &NetworkParams) -> GenesisFile {
    GenesisFile {
        network: Some(params.network.clone()),
        difficulty: Some(params.difficulty.bits()),
        reward: Some(params.reward.to_string()),
        timestamp: Some(params.timestamp),
        allocations: params
            .allocations
            .iter()
            .map(|(address, value)| Allocation {
                address: address.as_hex().to_owned(),
                value: value.to_string(),
            })
            .collect(),
    }
}

/// `dir`'s genesis file, if an import left one there.
pub fn stored_genesis(dir: &Path) -> Option<PathBuf> {
    let path = dir.join(GENESIS_FILE);
    path.is_file().then_some(path)
}

/// What an export or import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub height: u64,
    pub tip: BlockHash,
    /// Transactions in blocks 1 to `height`, rewards included.
    pub transactions: u64,
    pub miner_key: bool,
    pub elapsed: Duration,
}

/// Why an export failed.
#[derive(Debug, Error)]
pub enum ExportError {
    #[error(transparent)]
    Open(#[from] ReadOnlyError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{} holds no chain yet: start the node on it once", .0.display())]
    NoChain(PathBuf),
    #[error(
        "the data dir's chain is of another network (genesis {stored}) than these parameters make ({expected}): give export the --genesis and --difficulty the node runs with"
    )]
    OtherNetwork { stored: String, expected: BlockHash },
    #[error("stored block {number} breaks the chain: {reason}")]
    Corrupt { number: u64, reason: String },
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes the chain, network and settings of the stopped node in `dir` to `out` (the
/// miner's private key too with `include_miner_key`). Reads `dir` without changing it;
/// writes `out` whole or not at all.
///
/// # Errors
/// An [`ExportError`]: a node still running on `dir`, another network's chain, an
/// unreadable database or an unwritable `out`.
pub fn export(
    dir: &Path,
    params: &NetworkParams,
    out: &Path,
    include_miner_key: bool,
) -> Result<Summary, ExportError> {
    let started = Instant::now();
    let storage = ReadOnlyStorage::open(dir)?;
    let stored = storage
        .meta(META_GENESIS)?
        .ok_or_else(|| ExportError::NoChain(dir.to_owned()))?;
    let expected = params.genesis_block().hash();
    if stored != expected.0 {
        return Err(ExportError::OtherNetwork {
            stored: hex::encode(stored),
            expected,
        });
    }
    let tip = storage
        .tip()?
        .ok_or_else(|| ExportError::NoChain(dir.to_owned()))?;
    let settings = match storage.meta(META_SETTINGS)? {
        Some(json) => {
            serde_json::from_slice(&json).unwrap_or_else(|_| Value::Object(Default::default()))
        }
        None => Value::Object(Default::default()),
    };
    let miner_private_key = if include_miner_key {
        storage
            .meta(META_MINER_KEY)?
            .map(|key| String::from_utf8_lossy(&key).into_owned())
    } else {
        None
    };
    let header = Header {
        format: FORMAT.to_owned(),
        version: VERSION,
        genesis: genesis_file(params),
        genesis_hash: expected,
        height: tip.number(),
        tip: tip.hash,
        settings,
        miner_private_key,
    };
    let miner_key = header.miner_private_key.is_some();

    let partial = partial_path(out);
    let transactions = write_snapshot(&storage, &header, &partial)
        .and_then(|transactions| {
            std::fs::rename(&partial, out).map_err(|source| ExportError::Write {
                path: out.to_owned(),
                source,
            })?;
            Ok(transactions)
        })
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&partial);
        })?;
    Ok(Summary {
        height: tip.number(),
        tip: tip.hash,
        transactions,
        miner_key,
        elapsed: started.elapsed(),
    })
}

/// Writes `header`, then every block of `storage`, to `path`, and syncs it; the
/// transactions in blocks 1 and up.
fn write_snapshot(
    storage: &ReadOnlyStorage,
    header: &Header,
    path: &Path,
) -> Result<u64, ExportError> {
    let io = |source| ExportError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file =
        BufWriter::new(create_file(path, header.miner_private_key.is_some()).map_err(io)?);
    serde_json::to_writer(&mut file, header).map_err(|e| io(e.into()))?;
    file.write_all(b"\n").map_err(io)?;
    let mut transactions = 0u64;
    let mut next = 0u64;
    storage.for_each_block(|info, body| {
        if info.number() != next {
            return Err(ExportError::Corrupt {
                number: next,
                reason: "its header is missing".into(),
            });
        }
        next += 1;
        if info.number() > 0 {
            transactions += u64::from(info.transactions);
        }
        // Stored bodies are compact JSON: one block, one line.
        file.write_all(&body).map_err(io)?;
        file.write_all(b"\n").map_err(io)
    })?;
    if next != header.height + 1 {
        return Err(ExportError::Corrupt {
            number: next,
            reason: "the chain ends before its tip".into(),
        });
    }
    let file = file.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(transactions)
}

/// `out` with `.partial` appended: where an export writes until it is complete.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Creates `path`, readable by its owner alone when it will hold a private key.
fn create_file(path: &Path, secret: bool) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    options.open(path)
}

/// Why an import was refused. Each says where: the line, the block and the rule.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{} is not empty: import only into a new or empty data dir", .0.display())]
    NotEmpty(PathBuf),
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("--data-dir must name a directory, not {}", .0.display())]
    NoDirName(PathBuf),
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("line 1: not a blockchain_node snapshot: {0}")]
    NotASnapshot(String),
    #[error("line 1: snapshot version {0}; this node reads version {VERSION}")]
    Version(u32),
    #[error("line 1: genesis: {0}")]
    Genesis(blockchain_core::GenesisError),
    #[error(
        "wrong genesis: the file's network parameters make genesis {made}, but it names {named}"
    )]
    WrongGenesis { made: BlockHash, named: BlockHash },
    #[error("line 1: settings: {0}")]
    Settings(String),
    #[error("line 1: miner_private_key: {0}")]
    MinerKey(blockchain_core::KeyError),
    #[error("line {line}: block {number} is unreadable: {reason}")]
    Unreadable {
        line: u64,
        number: u64,
        reason: String,
    },
    #[error("line {line}: holds block {got} where block {expected} belongs")]
    OutOfOrder { line: u64, expected: u64, got: u64 },
    #[error("block 0 is not the genesis block of the file's network")]
    OtherGenesisBlock,
    #[error("block {number} refused: {reason}")]
    Block { number: u64, reason: String },
    #[error(
        "the file ends after block {last}, but its header says the chain ends at block {height}"
    )]
    CutShort { last: u64, height: u64 },
    #[error("the file's chain goes past the height {height} its header gives")]
    TooLong { height: u64 },
    #[error("the chain's tip is {got}, but the header names {named}")]
    WrongTip { got: BlockHash, named: BlockHash },
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Builds the data dir `dir` from the snapshot `file`: every block checked as a peer's
/// block is, through the node's own connect path, so the result is the data dir a node
/// that synced this chain would have. `dir` must be absent or empty; on any refusal it is
/// left as it was.
///
/// # Errors
/// An [`ImportError`] naming the line, block and rule that failed.
pub async fn import(file: &Path, dir: &Path) -> Result<Summary, ImportError> {
    let started = Instant::now();
    check_target(dir)?;
    let read_error = |source| ImportError::Read {
        path: file.to_owned(),
        source,
    };
    let mut lines = BufReader::new(File::open(file).map_err(read_error)?).split(b'\n');
    let first = lines
        .next()
        .transpose()
        .map_err(read_error)?
        .ok_or_else(|| ImportError::NotASnapshot("the file is empty".into()))?;
    let header = read_header(&first)?;
    let params = NetworkParams::from_file(&header.genesis).map_err(ImportError::Genesis)?;
    let genesis = params.genesis_block();
    if genesis.hash() != header.genesis_hash {
        return Err(ImportError::WrongGenesis {
            made: genesis.hash(),
            named: header.genesis_hash,
        });
    }

    let building = Building::new(dir)?;
    prepare(&building.path, &header)?;
    let options = NodeOptions {
        pool_capacity: 1,
        sender_limit: PendingPool::default_sender_limit(1),
        max_threads: crate::config::cores(),
        settings: SettingsPatch::default(),
    };
    let node = {
        let path = building.path.clone();
        let params = params.clone();
        tokio::task::spawn_blocking(move || Node::open(&path, params, &options))
            .await
            .map_err(|e| ImportError::Storage(StorageError::reader_failed(&e.to_string())))??
    };
    let mut transactions = 0u64;
    let mut last: Option<u64> = None;
    for (index, line) in lines.enumerate() {
        let line_number = index as u64 + 2;
        let line = line.map_err(read_error)?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let expected = last.map_or(0, |n| n + 1);
        if expected > header.height {
            return Err(ImportError::TooLong {
                height: header.height,
            });
        }
        let block = crate::wire::parse_block(&line, &node.keys).map_err(|reason| {
            ImportError::Unreadable {
                line: line_number,
                number: expected,
                reason,
            }
        })?;
        if block.number() != expected {
            return Err(ImportError::OutOfOrder {
                line: line_number,
                expected,
                got: block.number(),
            });
        }
        if expected == 0 {
            if block != genesis {
                return Err(ImportError::OtherGenesisBlock);
            }
        } else {
            transactions += block.transactions().len() as u64;
            node.accept_block(block)
                .await
                .map_err(|e| ImportError::Block {
                    number: expected,
                    reason: e.to_string(),
                })?;
        }
        last = Some(expected);
    }
    let last = last.ok_or(ImportError::CutShort {
        last: 0,
        height: header.height,
    })?;
    if last != header.height {
        return Err(ImportError::CutShort {
            last,
            height: header.height,
        });
    }
    let tip = node.tip().hash();
    if tip != header.tip {
        return Err(ImportError::WrongTip {
            got: tip,
            named: header.tip,
        });
    }
    // Closes the database before the directory moves.
    drop(node);
    building.finish(&header.genesis)?;
    Ok(Summary {
        height: last,
        tip,
        transactions,
        miner_key: header.miner_private_key.is_some(),
        elapsed: started.elapsed(),
    })
}

/// Refuses a target that exists and is not an empty directory.
fn check_target(dir: &Path) -> Result<(), ImportError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                Err(ImportError::NotEmpty(dir.to_owned()))
            } else {
                Ok(())
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dir.exists() && !dir.is_dir() => Err(ImportError::NotADirectory(dir.to_owned())),
        Err(source) => Err(ImportError::Read {
            path: dir.to_owned(),
            source,
        }),
    }
}

/// The header line, checked: its shape, version, settings and key.
fn read_header(line: &[u8]) -> Result<Header, ImportError> {
    let header: Header =
        serde_json::from_slice(line).map_err(|e| ImportError::NotASnapshot(e.to_string()))?;
    if header.format != FORMAT {
        return Err(ImportError::NotASnapshot(format!(
            "its format is {:?}, not {FORMAT:?}",
            header.format
        )));
    }
    if header.version != VERSION {
        return Err(ImportError::Version(header.version));
    }
    SettingsPatch::parse(&header.settings).map_err(|e| ImportError::Settings(e.to_string()))?;
    if let Some(key) = &header.miner_private_key {
        PrivateKey::from_hex(key).map_err(ImportError::MinerKey)?;
    }
    Ok(header)
}

/// Stores the header's settings and key in the new data dir before the node opens it, so
/// the node reads them as it reads its own.
fn prepare(dir: &Path, header: &Header) -> Result<(), ImportError> {
    let storage = Storage::open(dir)?;
    // The genesis hash too: a database that exists but records no genesis is one the node
    // takes for damaged (it will not start a new chain over one that lost its records).
    let mut writes = vec![Write::PutMeta {
        key: META_GENESIS,
        value: header.genesis_hash.0.to_vec(),
    }];
    writes.push(Write::PutMeta {
        key: META_SETTINGS,
        value: serde_json::to_vec(&header.settings).expect("JSON serializes"),
    });
    if let Some(key) = &header.miner_private_key {
        writes.push(Write::PutMeta {
            key: META_MINER_KEY,
            value: key.as_bytes().to_vec(),
        });
    }
    storage.commit_blocking(writes)?;
    Ok(())
}

/// A hidden sibling of the target where the import builds the data dir; removed unless
/// [`Building::finish`] moves it into place.
struct Building {
    path: PathBuf,
    target: PathBuf,
    done: bool,
}

impl Building {
    fn new(target: &Path) -> Result<Self, ImportError> {
        let name = target
            .file_name()
            .ok_or_else(|| ImportError::NoDirName(target.to_owned()))?;
        let parent = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|source| ImportError::Write {
            path: parent.clone(),
            source,
        })?;
        let mut hidden = std::ffi::OsString::from(".");
        hidden.push(name);
        hidden.push(format!(".importing-{}", std::process::id()));
        let path = parent.join(hidden);
        if path.exists() {
            let _ = std::fs::remove_dir_all(&path);
        }
        std::fs::create_dir(&path).map_err(|source| ImportError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(Building {
            path,
            target: target.to_owned(),
            done: false,
        })
    }

    /// Writes the genesis file, then moves the built dir into place.
    fn finish(mut self, genesis: &GenesisFile) -> Result<(), ImportError> {
        let write = |path: &Path, source| ImportError::Write {
            path: path.to_owned(),
            source,
        };
        let genesis_path = self.path.join(GENESIS_FILE);
        std::fs::write(&genesis_path, genesis.to_json() + "\n")
            .map_err(|e| write(&genesis_path, e))?;
        // An empty target (checked at the start) is replaced; one that filled up meanwhile
        // is not.
        check_target(&self.target)?;
        std::fs::rename(&self.path, &self.target).map_err(|e| write(&self.target, e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::{Amount, Difficulty};

    #[test]
    fn the_genesis_file_written_makes_the_same_network() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let params = NetworkParams {
            network: "lab".into(),
            difficulty: Difficulty::new(9).unwrap(),
            reward: Amount::parse_value("2.5").unwrap(),
            timestamp: 7,
            allocations: vec![(key.address().clone(), Amount::parse_value("0.125").unwrap())],
        };
        let file = genesis_file(&params);
        assert_eq!(NetworkParams::from_file(&file).unwrap(), params);
        let read = NetworkParams::from_json(&file.to_json()).unwrap();
        assert_eq!(read.genesis_block().hash(), params.genesis_block().hash());
    }

    #[test]
    fn a_header_is_checked_before_anything_is_written() {
        let header = |settings: &str, key: &str| {
            format!(
                r#"{{"format":"{FORMAT}","version":1,"genesis":{{}},"genesis_hash":"{}","height":0,"tip":"{}","settings":{settings}{key}}}"#,
                "00".repeat(32),
                "00".repeat(32)
            )
        };
        assert!(read_header(header("{}", "").as_bytes()).is_ok());
        let error = |line: String| read_header(line.as_bytes()).unwrap_err().to_string();
        assert!(error(header(r#"{"mining_threads":"many"}"#, "")).contains("settings"));
        assert!(error(header(r#"{"colour":1}"#, "")).contains("unknown setting"));
        assert!(
            error(header("{}", r#","miner_private_key":"beef""#)).contains("miner_private_key")
        );
        assert!(error(header("{}", "").replace(":1,", ":2,")).contains("version 2"));
    }
}
