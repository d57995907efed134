//! A peer's URL: parsed as the original tutorial took it, normalised to
//! `scheme://host:port`, and refused with a reason otherwise.

use thiserror::Error;

/// Why a text is not a peer URL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PeerUrlError {
    #[error("empty node address")]
    Empty,
    #[error("{0:?} is not a URL")]
    Malformed(String),
    #[error("{0:?}: only http and https are supported")]
    Scheme(String),
    #[error("{0:?} has no host")]
    NoHost(String),
    #[error("{0:?}: a node URL is scheme, host and port only (no path, query, user or password)")]
    Extra(String),
}

/// Parses a peer as the original did (`127.0.0.1:5001` or `http://127.0.0.1:5001`) into
/// the canonical `scheme://host:port`.
///
/// # Errors
/// A [`PeerUrlError`] naming the entry.
pub fn parse_peer_url(text: &str) -> Result<String, PeerUrlError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(PeerUrlError::Empty);
    }
    let shown = text.chars().take(100).collect::<String>();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| PeerUrlError::Malformed(shown.clone()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(PeerUrlError::Scheme(shown));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| PeerUrlError::NoHost(shown.clone()))?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || url.path() != "/"
    {
        return Err(PeerUrlError::Extra(shown));
    }
    let port = url
        .port_or_known_default()
        .ok_or(PeerUrlError::Malformed(shown))?;
    Ok(format!("{}://{}:{}", url.scheme(), host, port))
}

/// Parses a comma-separated list; any bad entry rejects the whole list.
///
/// # Errors
/// The first bad entry, with its position.
pub fn parse_peer_list(text: &str) -> Result<Vec<String>, (usize, PeerUrlError)> {
    let mut out = Vec::new();
    for (i, entry) in text.split(',').enumerate() {
        let url = parse_peer_url(entry).map_err(|e| (i + 1, e))?;
        if !out.contains(&url) {
            out.push(url);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_urls_parse_like_the_original_and_no_further() {
        assert_eq!(
            parse_peer_url("127.0.0.1:5001").unwrap(),
            "http://127.0.0.1:5001"
        );
        assert_eq!(
            parse_peer_url(" http://localhost:5002/ ").unwrap(),
            "http://localhost:5002"
        );
        assert_eq!(
            parse_peer_url("https://[::1]").unwrap(),
            "https://[::1]:443"
        );
        assert_eq!(parse_peer_url("").unwrap_err(), PeerUrlError::Empty);
        assert!(matches!(
            parse_peer_url("http://"),
            Err(PeerUrlError::Malformed(_) | PeerUrlError::NoHost(_))
        ));
        assert!(matches!(
            parse_peer_url("ftp://a:1"),
            Err(PeerUrlError::Scheme(_))
        ));
        assert!(matches!(
            parse_peer_url("http://a:1/x"),
            Err(PeerUrlError::Extra(_))
        ));
        assert!(matches!(
            parse_peer_url("http://u:p@a:1"),
            Err(PeerUrlError::Extra(_))
        ));
        assert!(matches!(
            parse_peer_url("a:99999"),
            Err(PeerUrlError::Malformed(_))
        ));
        assert_eq!(
            parse_peer_list("a:1,b:2,a:1").unwrap(),
            vec!["http://a:1", "http://b:2"]
        );
        assert!(matches!(
            parse_peer_list("a:1,,b:2"),
            Err((2, PeerUrlError::Empty))
        ));
    }
}
