//! The original tutorial's apps, run unmodified for the interop tests.
//!
//! They live in `../shared/reference/original-tutorial/` beside the repository (override with
//! `ORIGINAL_TUTORIAL`) and run in the Python environment that `scripts/original-venv.sh`
//! makes or reuses (or the python named by `ORIGINAL_PYTHON`). Each app is started from its
//! own folder (Flask finds its templates there) on a free loopback port and waited for. A
//! test that cannot start them fails and says why; it never skips.
//!
//! Shared by `blockchain_node/tests/interop.rs` and `blockchain_client/tests/interop.rs`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long an original app may take to answer after it starts.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Which original app.
#[derive(Debug, Clone, Copy)]
pub enum App {
    /// `blockchain/blockchain.py`, the node.
    Node,
    /// `blockchain_client/blockchain_client.py`, the wallet client.
    Client,
}

impl App {
    fn folder(self) -> &'static str {
        match self {
            App::Node => "blockchain",
            App::Client => "blockchain_client",
        }
    }
    fn script(self) -> &'static str {
        match self {
            App::Node => "blockchain.py",
            App::Client => "blockchain_client.py",
        }
    }
}

/// A running original app; killed when dropped.
pub struct OriginalApp {
    child: Child,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl OriginalApp {
    /// What the app printed so far (Flask logs each request).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for OriginalApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("a crate sits in the repository")
        .to_owned()
}

/// The unmodified original tutorial.
pub fn tutorial_dir() -> PathBuf {
    std::env::var_os("ORIGINAL_TUTORIAL").map_or_else(
        || repository().join("../shared/reference/original-tutorial"),
        PathBuf::from,
    )
}

/// The python that runs the original apps, made ready once per test process.
fn python() -> Result<PathBuf, String> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Some(python) = std::env::var_os("ORIGINAL_PYTHON") {
                let python = PathBuf::from(python);
                return if python.exists() {
                    Ok(python)
                } else {
                    Err(format!(
                        "ORIGINAL_PYTHON={} does not exist",
                        python.display()
                    ))
                };
            }
            let script = repository().join("scripts/original-venv.sh");
            let output = Command::new("bash")
                .arg(&script)
                .stderr(Stdio::piped())
                .output()
                .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
            if !output.status.success() {
                return Err(format!(
                    "{} failed ({}): {}",
                    script.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
            let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            Ok(PathBuf::from(path))
        })
        .clone()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Starts an original app on a free loopback port and waits until it answers `GET /`.
///
/// # Panics
/// When it cannot be started, with the reason and its output: missing reference folder,
/// no Python environment, or an app that exits or never answers.
pub async fn start(app: App) -> OriginalApp {
    let fail = |why: String| -> ! {
        panic!(
            "cannot start the original tutorial's {} ({}): {why}",
            app.script(),
            "the interop tests need it; see README, Interop with the original tutorial"
        )
    };
    let dir = tutorial_dir().join(app.folder());
    if !dir.join(app.script()).is_file() {
        fail(format!(
            "{} is missing (the reference must sit at ../shared/reference beside the \
             repository, or set ORIGINAL_TUTORIAL)",
            dir.join(app.script()).display()
        ));
    }
    let python = python().unwrap_or_else(|e| fail(e));
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("an HTTP client");
    // A port picked free may be taken before the app binds it: then try another.
    for _ in 0..3 {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let log = temp.path().join(format!("{}.log", app.folder()));
        let file = std::fs::File::create(&log).expect("a log file");
        let port = free_port();
        let child = Command::new(&python)
            .arg(app.script())
            .arg("-p")
            .arg(port.to_string())
            .current_dir(&dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("a log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| fail(format!("{} would not run: {e}", python.display())));
        let mut running = OriginalApp {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _dir: temp,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = running.child.try_wait() {
                let log = running.log();
                if log.contains("Address already in use") {
                    break;
                }
                fail(format!("it exited ({status}):\n{log}"));
            }
            if let Ok(response) = http.get(format!("{}/", running.url)).send().await
                && response.status().is_success()
            {
                return running;
            }
            if Instant::now() > deadline {
                fail(format!(
                    "no answer at {} within {} s:\n{}",
                    running.url,
                    READY_TIMEOUT.as_secs(),
                    running.log()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    fail("every port tried was taken".into())
}
