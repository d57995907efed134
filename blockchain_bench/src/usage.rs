//! What a process has used so far, from Linux's `/proc`: CPU time and resident memory.

use std::time::Duration;

use anyhow::Context;

/// Whose usage to read.
#[derive(Debug, Clone, Copy)]
pub enum Process {
    /// The bench itself (`/proc/self`).
    This,
    /// Another process, such as a node the bench started.
    Id(u32),
}

impl Process {
    fn file(self, name: &str) -> anyhow::Result<String> {
        let path = match self {
            Process::This => format!("/proc/self/{name}"),
            Process::Id(pid) => format!("/proc/{pid}/{name}"),
        };
        std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))
    }
}

/// CPU time (user and system, all threads) `process` has used so far, from
/// `/proc/<pid>/stat`, counted in clock ticks of 10 ms (`USER_HZ` is 100 on Linux): it is
/// meaningful over runs of a second or more.
///
/// # Errors
/// When there is no such file or it cannot be read as one.
pub fn cpu_time(process: Process) -> anyhow::Result<Duration> {
    let stat = process.file("stat")?;
    // After the command name in parentheses (it may hold spaces): state is field 3, utime
    // 14 and stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("a /proc stat line")?
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields.get(11).context("utime")?.parse::<u64>()?
        + fields.get(12).context("stime")?.parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 10))
}

/// Resident memory of a process, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub resident_kb: u64,
    /// The most it has been resident (`VmHWM`).
    pub peak_kb: u64,
}

/// `process`'s resident memory, from `/proc/<pid>/status`.
///
/// # Errors
/// When there is no such file or it names no `VmRSS` or `VmHWM`.
pub fn memory(process: Process) -> anyhow::Result<Memory> {
    let status = process.file("status")?;
    let field = |name: &str| -> anyhow::Result<u64> {
        let value = status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .with_context(|| format!("no {name} in {process:?}'s status"))?;
        Ok(value.trim().trim_end_matches("kB").trim().parse()?)
    };
    Ok(Memory {
        resident_kb: field("VmRSS:")?,
        peak_kb: field("VmHWM:")?,
    })
}
