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

/// A peer's URL: only ever one that parsed, in its canonical form `scheme://host:port`
/// (http or https, a host, a port, nothing else), so two spellings of one peer are one
/// peer.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PeerUrl(String);

impl PeerUrl {
    /// Parses a peer as the original did (`127.0.0.1:5001` or `http://127.0.0.1:5001`)
    /// into the canonical `scheme://host:port`.
    ///
    /// # Errors
    /// A [`PeerUrlError`] naming the entry.
    pub fn parse(text: &str) -> Result<Self, PeerUrlError> {
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
        let url =
            url::Url::parse(&with_scheme).map_err(|_| PeerUrlError::Malformed(shown.clone()))?;
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
        Ok(PeerUrl(format!("{}://{}:{}", url.scheme(), host, port)))
    }

    /// Parses a comma-separated list, without repeats; any bad entry rejects the whole list.
    ///
    /// # Errors
    /// The first bad entry, with its position.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, (usize, PeerUrlError)> {
        let mut out = Vec::new();
        for (i, entry) in text.split(',').enumerate() {
            let url = Self::parse(entry).map_err(|e| (i + 1, e))?;
            if !out.contains(&url) {
                out.push(url);
            }
        }
        Ok(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for PeerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for PeerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::borrow::Borrow<str> for PeerUrl {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// [`PeerUrl::parse`] as text, for callers that keep peers as strings (the HTTP layer's
/// `x-peer` header, `--public-url`).
///
/// # Errors
/// A [`PeerUrlError`] naming the entry.
pub fn parse_peer_url(text: &str) -> Result<String, PeerUrlError> {
    PeerUrl::parse(text).map(PeerUrl::into_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_urls_parse_like_the_original_and_no_further() {
        assert_eq!(
            PeerUrl::parse("127.0.0.1:5001").unwrap().as_str(),
            "http://127.0.0.1:5001"
        );
        assert_eq!(
            PeerUrl::parse(" http://localhost:5002/ ").unwrap().as_str(),
            "http://localhost:5002"
        );
        assert_eq!(
            PeerUrl::parse("https://[::1]").unwrap().as_str(),
            "https://[::1]:443"
        );
        assert_eq!(PeerUrl::parse("").unwrap_err(), PeerUrlError::Empty);
        assert!(matches!(
            PeerUrl::parse("http://"),
            Err(PeerUrlError::Malformed(_) | PeerUrlError::NoHost(_))
        ));
        assert!(matches!(
            PeerUrl::parse("ftp://a:1"),
            Err(PeerUrlError::Scheme(_))
        ));
        assert!(matches!(
            PeerUrl::parse("http://a:1/x"),
            Err(PeerUrlError::Extra(_))
        ));
        assert!(matches!(
            PeerUrl::parse("http://u:p@a:1"),
            Err(PeerUrlError::Extra(_))
        ));
        assert!(matches!(
            PeerUrl::parse("a:99999"),
            Err(PeerUrlError::Malformed(_))
        ));
        assert_eq!(
            PeerUrl::parse_list("a:1,b:2,a:1")
                .unwrap()
                .iter()
                .map(PeerUrl::as_str)
                .collect::<Vec<_>>(),
            vec!["http://a:1", "http://b:2"]
        );
        assert!(matches!(
            PeerUrl::parse_list("a:1,,b:2"),
            Err((2, PeerUrlError::Empty))
        ));
    }
}
