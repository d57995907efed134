//! `--discover`: nodes find each other on a LAN with mDNS/DNS-SD (RFC 6762, 6763).
//!
//! ```text
//!  this node ──announce──► _blockchain._tcp.local   TXT: genesis=<hash>, url=<public URL>
//!  browse _blockchain._tcp.local ──► a node resolved
//!      same genesis hash? ──no──► ignored (another network: another chain, another class)
//!           │ yes
//!           ▼
//!      Network::register_found(url, Discovered) ──► registers us back, as any peer does
//! ```
//!
//! The TXT record carries the URL the node gives with `--public-url`, so a node bound to
//! 0.0.0.0 is announced at the address students can reach. mdns-sd runs its own thread;
//! its events arrive here over a channel. Discovery adds peers, it never removes them: a
//! node that goes away is marked unreachable by the health checks, as any peer.

use std::net::IpAddr;
use std::sync::Arc;

use blockchain_api::PeerSource;
use blockchain_core::BlockHash;
use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};

use super::{Network, PeerUrl};

/// The DNS-SD service type every node announces and browses.
pub const SERVICE_TYPE: &str = "_blockchain._tcp.local.";

/// Announcing and browsing, until dropped (then a goodbye is sent, so the others forget
/// this node at once rather than when its record expires).
pub struct Discovery {
    daemon: ServiceDaemon,
    fullname: String,
}

/// Why discovery could not start.
#[derive(Debug, thiserror::Error)]
#[error("mDNS discovery: {0}")]
pub struct DiscoveryError(String);

impl From<mdns_sd::Error> for DiscoveryError {
    fn from(error: mdns_sd::Error) -> Self {
        DiscoveryError(error.to_string())
    }
}

/// What this node announces.
pub struct Announcement<'a> {
    pub genesis: BlockHash,
    pub public_url: &'a str,
    /// The address the node listens on: announced as is, unless it is 0.0.0.0 (then
    /// every address of the host's interfaces).
    pub host: IpAddr,
    pub port: u16,
}

impl Discovery {
    /// Announces this node and starts registering the same network's nodes it finds.
    ///
    /// # Errors
    /// The mDNS daemon could not start or take the announcement.
    pub fn start(
        network: Arc<Network>,
        announcement: &Announcement<'_>,
    ) -> Result<Discovery, DiscoveryError> {
        if announcement.public_url.contains("://0.0.0.0") {
            tracing::warn!(
                url = announcement.public_url,
                "--discover announces a URL nobody can reach: give --public-url http://<this machine's address>:<port>"
            );
        }
        let daemon = ServiceDaemon::new()?;
        daemon.disable_interface(IfKind::IPv6)?;
        if !announcement.host.is_unspecified() {
            // Only the interface the node listens on: the LAN it serves.
            daemon.disable_interface(IfKind::All)?;
            daemon.enable_interface(IfKind::Addr(announcement.host))?;
        }
        let name = instance_name(announcement.public_url);
        let genesis = announcement.genesis.to_string();
        let properties = [
            ("genesis", genesis.as_str()),
            ("url", announcement.public_url),
        ];
        let host_name = format!("{name}.local.");
        let info = if announcement.host.is_unspecified() {
            ServiceInfo::new(
                SERVICE_TYPE,
                &name,
                &host_name,
                "",
                announcement.port,
                &properties[..],
            )?
            .enable_addr_auto()
        } else {
            ServiceInfo::new(
                SERVICE_TYPE,
                &name,
                &host_name,
                announcement.host,
                announcement.port,
                &properties[..],
            )?
        };
        let fullname = info.get_fullname().to_owned();
        daemon.register(info)?;
        let events = daemon.browse(SERVICE_TYPE)?;
        let own_url = announcement.public_url.to_owned();
        tokio::spawn(async move {
            while let Ok(event) = events.recv_async().await {
                if let ServiceEvent::ServiceResolved(service) = event {
                    let url = service.get_property_val_str("url").map(str::to_owned);
                    let theirs = service.get_property_val_str("genesis").map(str::to_owned);
                    found(
                        &network,
                        &genesis,
                        &own_url,
                        theirs.as_deref(),
                        url.as_deref(),
                    )
                    .await;
                }
            }
        });
        tracing::info!(service = SERVICE_TYPE, %name, "announcing this node over mDNS");
        Ok(Discovery { daemon, fullname })
    }
}

impl Drop for Discovery {
    fn drop(&mut self) {
        let _ = self.daemon.unregister(&self.fullname);
        let _ = self.daemon.shutdown();
    }
}

/// A node announced on the LAN: registered if it is of our network and not us.
async fn found(
    network: &Arc<Network>,
    genesis: &str,
    own_url: &str,
    theirs: Option<&str>,
    url: Option<&str>,
) {
    let Some(url) = url.and_then(|url| PeerUrl::parse(url).ok()) else {
        tracing::debug!(?url, "a node announced no usable URL");
        return;
    };
    if theirs != Some(genesis) {
        tracing::info!(peer = %url, ?theirs, "another network's node: left alone");
        return;
    }
    if url.as_str() == own_url || network.peers().iter().any(|p| p == url.as_str()) {
        return;
    }
    match network
        .register_found(url.as_str(), PeerSource::Discovered)
        .await
    {
        Ok(_) => tracing::info!(peer = %url, "discovered a node of this network"),
        Err(error) => tracing::warn!(peer = %url, %error, "discovered node not registered"),
    }
}

/// A DNS-SD instance name from the public URL: its host and port, in the characters a
/// DNS label takes (`10-0-0-1-5000`).
fn instance_name(public_url: &str) -> String {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    let name: String = rest
        .trim_end_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63)
        .collect();
    format!("node-{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_name_is_a_dns_label_of_host_and_port() {
        assert_eq!(instance_name("http://10.0.0.1:5000"), "node-10-0-0-1-5000");
        assert_eq!(instance_name("http://[::1]:5000/"), "node----1--5000");
        assert!(instance_name(&format!("http://{}", "a".repeat(100))).len() <= 68);
    }
}
