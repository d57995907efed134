//! A node binary started as a process on an ephemeral loopback port: ready once it prints
//! `listening on http://ADDR` on stdout (after restoring its state), killed when dropped.
//!
//! ```text
//!  node_binary()   blockchain_node beside this executable, or an error naming the build
//!  node_command()  --port 0 --sync-interval 0 --data-dir D --genesis G; the bench adds
//!                  its flags, RUST_LOG and where stderr goes
//!  spawn ─► Starting ─► listening(limit) ─► NodeProcess
//! ```
//!
//! Starting and waiting are separate so that a bench can start many nodes at once and then
//! wait for each.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, ensure};

use crate::usage::{self, Memory, Process};

/// The node binary: `explicit` when given, else `blockchain_node` in the directory of this
/// executable (`target/release` for `target/release/loadgen`).
///
/// # Errors
/// When it does not exist; for the default one the message names the command that builds
/// it.
pub fn node_binary(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(binary) = explicit {
        ensure!(binary.exists(), "{} not found", binary.display());
        return Ok(binary.to_owned());
    }
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("the bench binary has a directory")?;
    let binary = dir.join(format!("blockchain_node{}", std::env::consts::EXE_SUFFIX));
    let profile = if dir.ends_with("debug") {
        ""
    } else {
        " --release"
    };
    ensure!(
        binary.exists(),
        "{} not found: build it first (cargo build{profile} -p blockchain_node)",
        binary.display()
    );
    Ok(binary)
}

/// `binary` on an ephemeral port with periodic sync off, on `data_dir` and `genesis`.
#[must_use]
pub fn node_command(binary: &Path, data_dir: &Path, genesis: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .args(["--port", "0", "--sync-interval", "0"])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--genesis")
        .arg(genesis);
    command
}

/// Starts `command` (a node) with its stdout read here: the `listening on` line goes to
/// [`Starting::listening`], the rest is read and dropped so the node never blocks on it.
///
/// # Errors
/// When the process cannot be started.
pub fn spawn(command: &mut Command) -> anyhow::Result<Starting> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {program}"))?;
    let stdout = child.stdout.take().context("piped stdout")?;
    let (sender, url) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                let _ = sender.send(url.to_owned());
                break;
            }
        }
        lines.for_each(drop);
    });
    Ok(Starting {
        node: NodeProcess {
            child,
            url: String::new(),
        },
        url,
        program,
    })
}

/// A node started by [`spawn`] that may not listen yet.
pub struct Starting {
    node: NodeProcess,
    url: Receiver<String>,
    program: String,
}

impl Starting {
    /// Waits until the node says where it listens, for at most `limit` [default: as long
    /// as it runs].
    ///
    /// # Errors
    /// When the node exits first or `limit` passes; the node is killed.
    pub fn listening(mut self, limit: Option<Duration>) -> anyhow::Result<NodeProcess> {
        let url = match limit {
            Some(limit) => self.url.recv_timeout(limit).map_err(|error| match error {
                RecvTimeoutError::Timeout => anyhow!(
                    "{} did not say where it listens within {} s",
                    self.program,
                    limit.as_secs_f64()
                ),
                RecvTimeoutError::Disconnected => self.exited(),
            }),
            None => self.url.recv().map_err(|_| self.exited()),
        }?;
        self.node.url = url;
        Ok(self.node)
    }

    fn exited(&self) -> anyhow::Error {
        anyhow!("{} exited before listening", self.program)
    }
}

/// A running node; killed (SIGKILL) when dropped.
pub struct NodeProcess {
    child: Child,
    url: String,
}

impl NodeProcess {
    /// Starts `command` (see [`spawn`]) and waits until it listens.
    ///
    /// # Errors
    /// When it cannot be started or exits before listening.
    pub fn start(command: &mut Command) -> anyhow::Result<Self> {
        spawn(command)?.listening(None)
    }

    /// Where it listens: `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time it has used so far (see [`usage::cpu_time`]).
    ///
    /// # Errors
    /// When `/proc` does not say.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        usage::cpu_time(Process::Id(self.pid()))
    }

    /// Its resident memory (see [`usage::memory`]).
    ///
    /// # Errors
    /// When `/proc` does not say.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        usage::memory(Process::Id(self.pid()))
    }

    /// Stops it as Ctrl-C does (SIGINT), so that its database closes cleanly, and waits for
    /// it to exit; kills it after `limit`.
    pub fn interrupt(mut self, limit: Duration) {
        let interrupted = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + limit;
        while interrupted && Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
    }

    /// Kills it (SIGKILL), as a crash would, and waits for it to exit.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
