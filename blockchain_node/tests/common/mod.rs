//! Test harness: real node processes on ephemeral loopback ports with temporary data dirs.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use blockchain_core::{GenesisFile, PrivateKey, Transaction};
use serde::Deserialize;
use serde_json::Value;

/// The original client's wallets, from the shared vectors.
pub struct VectorWallet {
    pub key: PrivateKey,
    pub bits: usize,
}

#[derive(Deserialize)]
pub struct Vectors {
    pub wallets: Vec<RawWallet>,
    pub valid: Vec<Entry>,
    pub invalid: Vec<Entry>,
}

#[derive(Deserialize)]
pub struct RawWallet {
    pub bits: usize,
    pub private_key: String,
    pub public_key: String,
}

#[derive(Deserialize, Clone)]
pub struct Entry {
    pub sender_address: String,
    pub recipient_address: String,
    pub value: String,
    pub signature: String,
    #[serde(default)]
    pub why: String,
}

pub static VECTORS: LazyLock<Vectors> = LazyLock::new(|| {
    serde_json::from_str(include_str!(
        "../../../blockchain_core/tests/data/reference_transactions.json"
    ))
    .unwrap()
});

pub static WALLETS: LazyLock<Vec<VectorWallet>> = LazyLock::new(|| {
    VECTORS
        .wallets
        .iter()
        .map(|w| VectorWallet {
            key: PrivateKey::from_hex(&w.private_key).unwrap(),
            bits: w.bits,
        })
        .collect()
});

/// A genesis file funding every vector wallet with `coins`.
pub fn genesis_json(coins: u64, difficulty: u32) -> String {
    GenesisFile {
        difficulty: Some(difficulty),
        ..GenesisFile::funding(
            "test",
            WALLETS.iter().map(|w| w.key.address()),
            &coins.to_string(),
        )
    }
    .to_json()
}

/// A running node process; killed (SIGKILL) when dropped.
pub struct NodeProcess {
    pub child: Child,
    pub url: String,
    pub data_dir: PathBuf,
    pub genesis: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

pub struct NodeBuilder {
    genesis: String,
    args: Vec<String>,
    data_dir: Option<PathBuf>,
    port: u16,
    log: Option<PathBuf>,
}

impl NodeBuilder {
    pub fn new() -> Self {
        NodeBuilder {
            genesis: genesis_json(1000, 8),
            args: Vec::new(),
            data_dir: None,
            port: 0,
            log: None,
        }
    }
    pub fn genesis(mut self, json: String) -> Self {
        self.genesis = json;
        self
    }
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_owned());
        self
    }
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Logs at `info` into `file` instead of at `warn` to the test's stderr.
    pub fn log_to(mut self, file: &Path) -> Self {
        self.log = Some(file.to_owned());
        self
    }

    pub fn start(self) -> NodeProcess {
        let temp = tempfile::tempdir().unwrap();
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| temp.path().join("data"));
        let genesis = temp.path().join("genesis.json");
        std::fs::write(&genesis, &self.genesis).unwrap();
        start_node(
            &data_dir,
            &genesis,
            self.port,
            &self.args,
            self.log.as_deref(),
            Some(temp),
        )
    }
}

fn start_node(
    data_dir: &Path,
    genesis: &Path,
    port: u16,
    args: &[String],
    log: Option<&Path>,
    dir: Option<tempfile::TempDir>,
) -> NodeProcess {
    let (filter, stderr) = match log {
        Some(file) => ("info", Stdio::from(std::fs::File::create(file).unwrap())),
        None => ("warn", Stdio::inherit()),
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_blockchain_node"))
        .arg("--port")
        .arg(port.to_string())
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--genesis")
        .arg(genesis)
        .arg("--mining-threads")
        .arg("2")
        .args(args)
        .env("RUST_LOG", filter)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("node starts");
    let url = listening_url(&mut child);
    NodeProcess {
        child,
        url,
        data_dir: data_dir.to_owned(),
        genesis: genesis.to_owned(),
        _dir: dir,
    }
}

/// The URL a node started with piped stdout prints once it listens; its stdout is read
/// (and dropped) from then on, so the node never blocks on it.
pub fn listening_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = sender.send(url.to_owned());
            }
        }
    });
    receiver
        .recv_timeout(Duration::from_secs(30))
        .expect("node printed its URL")
}

impl NodeProcess {
    /// Kills the process (SIGKILL) and starts it again on the same data dir and port.
    pub fn restart(self, args: &[String]) -> NodeProcess {
        self.restart_later().start_with(args)
    }

    /// Kills the process (SIGKILL); the node can be started again later, on the same data
    /// dir and port.
    pub fn restart_later(mut self) -> StoppedNode {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let port: u16 = self.url.rsplit(':').next().unwrap().parse().unwrap();
        StoppedNode {
            port,
            data_dir: self.data_dir.clone(),
            genesis: self.genesis.clone(),
            dir: self._dir.take(),
        }
    }

    /// Asks the node to stop (SIGTERM, as `kill` and service managers send) and waits for
    /// it to exit.
    pub fn terminate(mut self) -> (std::process::ExitStatus, StoppedNode) {
        let pid = self.child.id().to_string();
        // The shell's own `kill`: a minimal machine may have no kill program.
        let sent = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        let status = self.child.wait().unwrap();
        let port: u16 = self.url.rsplit(':').next().unwrap().parse().unwrap();
        let stopped = StoppedNode {
            port,
            data_dir: self.data_dir.clone(),
            genesis: self.genesis.clone(),
            dir: self._dir.take(),
        };
        (status, stopped)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A node killed by [`NodeProcess::restart_later`], its data dir kept.
pub struct StoppedNode {
    port: u16,
    data_dir: PathBuf,
    genesis: PathBuf,
    dir: Option<tempfile::TempDir>,
}

impl StoppedNode {
    pub fn start(self) -> NodeProcess {
        self.start_with(&[])
    }

    pub fn start_with(self, args: &[String]) -> NodeProcess {
        // The port was ours a moment ago; retry briefly if the kernel has not released it.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let probe = std::net::TcpListener::bind(("127.0.0.1", self.port));
            if probe.is_ok() || Instant::now() > deadline {
                break;
            }
            std::thread::yield_now();
        }
        start_node(
            &self.data_dir,
            &self.genesis,
            self.port,
            args,
            None,
            self.dir,
        )
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .no_proxy()
        .build()
        .unwrap()
}

/// Form fields of a transaction, as the original client posts them.
pub fn form_of(tx: &Transaction) -> Vec<(&'static str, String)> {
    let json = tx.to_json();
    json.form_fields()
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect()
}

/// Form fields of a vector entry, as the original client posted it.
pub fn entry_form(entry: &Entry) -> Vec<(&'static str, String)> {
    vec![
        ("sender_address", entry.sender_address.clone()),
        ("recipient_address", entry.recipient_address.clone()),
        ("amount", entry.value.clone()),
        ("signature", entry.signature.clone()),
    ]
}

pub async fn post_form(url: &str, form: &[(&str, String)]) -> (u16, Value) {
    let response = client().post(url).form(form).send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

pub async fn get_json(url: &str) -> (u16, Value) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A page's text; panics unless it answered 200.
pub async fn get_text(url: &str) -> String {
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.text().await.unwrap()
}

/// A small tmpfs mounted for one test, unmounted when dropped (even when the test fails):
/// a disk that really fills.
pub struct Tmpfs {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`24m`), or returns `None` after printing why when the test
    /// does not run as root (CI does).
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let root = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0");
        if !root {
            eprintln!("skipped: mounting a tmpfs needs root (CI runs these tests as root)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(mounted.success(), "mount -t tmpfs failed");
        Some(Tmpfs {
            path: dir.path().to_owned(),
            _dir: dir,
        })
    }

    /// Fills the filesystem with a file (returned) until a write fails for lack of space.
    pub fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let path = self.path.join("filler");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        let chunk = vec![0xAA; 4096];
        loop {
            if let Err(error) = file.write_all(&chunk) {
                assert_eq!(error.raw_os_error(), Some(28), "filled up: {error}");
                return path;
            }
        }
    }

    /// Remounts it read-only (`ro`) or read-write (`rw`).
    pub fn remount(&self, mode: &str) {
        let done = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(done.success(), "remount {mode}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(&self.path).status();
        if !unmounted.is_ok_and(|s| s.success()) {
            // Still busy (a process that has not exited yet): detach it now, freed later.
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
    }
}

/// Polls `GET url` until `done` holds for its JSON, for up to `limit`; the last JSON.
pub async fn wait_for_json(url: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let (_, json) = get_json(url).await;
        if done(&json) || Instant::now() > deadline {
            return json;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts the node on `data_dir` expecting it to refuse to start: its exit status and
/// what it wrote to stderr. Panics if it starts listening instead.
pub fn start_expecting_exit(data_dir: &Path, genesis: &Path) -> (std::process::ExitStatus, String) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_blockchain_node"))
        .args(["--port", "0", "--mining-threads", "1"])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--genesis")
        .arg(genesis)
        .env("RUST_LOG", "info")
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log.reopen().unwrap()))
        .spawn()
        .expect("node starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = std::fs::read_to_string(log.path()).unwrap_or_default();
            panic!("the node did not exit on a damaged data dir; it said:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status, std::fs::read_to_string(log.path()).unwrap())
}
/// Long enough for a debug build on two busy cores; polls end as soon as the state holds.
pub const DEADLINE: Duration = Duration::from_secs(60);
pub const POLL: Duration = Duration::from_millis(50);

/// A node that syncs only when asked or told (`--sync-interval 0`): what converges does so
/// through propagation and resolve, not the timer.
pub fn quiet_node() -> NodeBuilder {
    NodeBuilder::new().arg("--sync-interval").arg("0")
}

/// Polls `check` until it returns `Some`, or panics with `what` after [`DEADLINE`].
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}
