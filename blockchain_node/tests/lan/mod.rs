//! A LAN of hosts for tests and benches: network namespaces joined by a bridge, each with
//! a 10.x address, created by the caller and removed when dropped. Needs root (`ip netns`);
//! a test on a machine without it prints why it skips. `blockchain_bench`'s
//! `discovery_bench` includes this file too.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Namespaces and a bridge; all removed on drop, with every process started in them.
pub struct Lan {
    tag: String,
    /// The first three octets of the subnet, as "10.a.b".
    subnet: String,
    hosts: Vec<String>,
    processes: Vec<Child>,
}

/// Why a LAN test cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root: network namespaces need root".to_owned());
    }
    match Command::new("ip").arg("netns").arg("list").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("`ip netns` is not available".to_owned()),
    }
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("ip runs");
    assert!(status.success(), "ip {}", args.join(" "));
}

static LANS: AtomicU32 = AtomicU32::new(0);

impl Lan {
    /// A bridge and `hosts` namespaces on it: host `i` (from 1) is 10.a.b.i; this test
    /// process reaches them from the bridge's address, 10.a.b.254.
    pub fn new(hosts: usize) -> Lan {
        let n = LANS.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let tag = format!("lq{}{n}", pid % 100_000);
        let subnet = format!(
            "10.{}.{}",
            180 + (pid / 250) % 60,
            (pid % 250 + n * 7) % 250
        );
        let mut lan = Lan {
            tag: tag.clone(),
            subnet,
            hosts: Vec::new(),
            processes: Vec::new(),
        };
        let bridge = format!("{tag}b");
        ip(&[
            "link",
            "add",
            &bridge,
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ]);
        ip(&[
            "addr",
            "add",
            &format!("{}.254/24", lan.subnet),
            "dev",
            &bridge,
        ]);
        ip(&["link", "set", &bridge, "up"]);
        for i in 1..=hosts {
            let ns = format!("{tag}n{i}");
            let (outer, inner) = (format!("{tag}v{i}"), format!("{tag}i{i}"));
            ip(&["netns", "add", &ns]);
            lan.hosts.push(ns.clone());
            ip(&[
                "link", "add", &outer, "type", "veth", "peer", "name", &inner,
            ]);
            ip(&["link", "set", &outer, "master", &bridge, "up"]);
            ip(&["link", "set", &inner, "netns", &ns]);
            let inside = |args: &[&str]| {
                let mut all = vec!["netns", "exec", &ns, "ip"];
                all.extend_from_slice(args);
                ip(&all);
            };
            inside(&[
                "addr",
                "add",
                &format!("{}.{i}/24", lan.subnet),
                "dev",
                &inner,
            ]);
            inside(&["link", "set", &inner, "up", "multicast", "on"]);
            inside(&["link", "set", "lo", "up"]);
            // mDNS is multicast: it leaves by the LAN's interface.
            inside(&["route", "add", "224.0.0.0/4", "dev", &inner]);
        }
        lan
    }

    /// Host `i`'s address (from 1).
    pub fn addr(&self, i: usize) -> String {
        format!("{}.{i}", self.subnet)
    }

    /// Starts `program args` on host `i`; its stdout is returned, its stderr goes to `log`.
    pub fn spawn(
        &mut self,
        i: usize,
        program: &Path,
        args: &[String],
        log: &Path,
    ) -> std::process::ChildStdout {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.hosts[i - 1]])
            .arg(program)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
            .spawn()
            .expect("ip netns exec runs");
        let stdout = child.stdout.take().unwrap();
        self.processes.push(child);
        stdout
    }

    /// Starts `program args` on host `i` and waits for its `listening on URL` line.
    pub fn serve(&mut self, i: usize, program: &Path, args: &[String], log: &Path) -> String {
        let stdout = self.spawn(i, program, args, log);
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = sender.send(url.trim().to_owned());
                }
            }
        });
        receiver
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "{} printed no URL; see {}",
                    program.display(),
                    log.display()
                )
            })
    }

    /// Runs `program args` on host `i` to the end.
    pub fn output(&self, i: usize, program: &Path, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.hosts[i - 1]])
            .arg(program)
            .args(args)
            .output()
            .expect("ip netns exec runs")
    }

    /// Runs `program args` on host `i` to the end; its stdout, or a panic with its stderr.
    pub fn run(&self, i: usize, program: &Path, args: &[&str]) -> String {
        let out = self.output(i, program, args);
        assert!(
            out.status.success(),
            "{} {args:?} on host {i}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for child in &mut self.processes {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in &self.hosts {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &format!("{}b", self.tag)])
            .status();
    }
}
