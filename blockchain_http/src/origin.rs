//! Which web requests the apps answer: the `Host` allow-list and the cross-site check.
//!
//! Both apps listen on loopback, which keeps other machines out but not the web pages the
//! same person has open. Two doors stay open without these checks:
//! - **DNS rebinding.** A page on `evil.example` re-points its own name at 127.0.0.1 and
//!   reads our answers as same-origin. Its requests carry `Host: evil.example`, so a
//!   server that answers only the names it is known by (geth's `--http.vhosts`) closes it.
//!   An IP-literal host cannot be rebound, so IP literals are always answered.
//! - **Cross-site requests.** Any page can send a form POST (or an `<img>` GET) to
//!   `127.0.0.1:5000/mine`. Browsers say where a request comes from (`Origin`, and the
//!   Fetch Metadata header `Sec-Fetch-Site`); a route that changes the operator's node
//!   refuses requests from sites it does not trust. Programs (the command line, scripts,
//!   peers) send neither header and are answered.
//!
//! Pure functions over header values, shared by the node and the wallet app: HTTP policy,
//! not the protocol, so they live here rather than in `blockchain_core`.

use std::net::IpAddr;

/// The host name of a `Host` header value, without port or IPv6 brackets, lowercase.
pub fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether a request naming `host` (its `Host` header) is one to answer: IP literals,
/// `localhost`, and the names in `allowed` (lowercase host names).
pub fn host_is_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host);
    name.parse::<IpAddr>().is_ok() || name == "localhost" || allowed.contains(&name)
}

/// `scheme://host:port` for an origin or URL text, the form origins are compared in
/// (default ports made explicit, lowercase).
pub fn normalize_origin(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = text.split_once("://")?;
    let default_port = match scheme {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    if rest.is_empty() || rest.contains('/') || rest.contains('@') {
        return None;
    }
    let has_port = if rest.starts_with('[') {
        rest.contains("]:")
    } else {
        rest.contains(':')
    };
    Some(if has_port {
        format!("{scheme}://{rest}")
    } else {
        format!("{scheme}://{rest}:{default_port}")
    })
}

/// Decides whether a browser request may use an operator route.
///
/// `origin` and `fetch_site` are the request's `Origin` and `Sec-Fetch-Site` headers;
/// `own_origin` is the origin of the app's own pages (from the request's `Host`);
/// `allowed` are other trusted origins, normalized.
///
/// # Errors
/// Why the request is refused, in words for the 403's body.
pub fn check_cross_site(
    origin: Option<&str>,
    fetch_site: Option<&str>,
    own_origin: &str,
    allowed: &[String],
) -> Result<(), String> {
    match origin.map(str::trim) {
        Some("null") => Err(
            "a page with an opaque origin (a sandboxed frame or a local file) may not use this route"
                .to_owned(),
        ),
        Some(origin) => {
            let normalized = normalize_origin(origin);
            let trusted = normalized.as_deref().is_some_and(|o| {
                Some(o) == normalize_origin(own_origin).as_deref() || allowed.iter().any(|a| a == o)
            });
            if trusted {
                Ok(())
            } else {
                Err(format!(
                    "a page at {} may not use this route: it answers this app's own pages, the origins given with --allow-origin, and programs that send no Origin",
                    origin.chars().take(100).collect::<String>()
                ))
            }
        }
        // No Origin: a program, or a browser navigation. Browsers say where a navigation
        // or an embedded resource (an <img src>) comes from in Sec-Fetch-Site.
        None => match fetch_site {
            Some("cross-site" | "same-site") => Err(
                "a request from another site may not use this route (Sec-Fetch-Site says it comes from one)"
                    .to_owned(),
            ),
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_ip_literals_localhost_and_the_allowed_names() {
        let allowed = vec!["node.example".to_owned()];
        for host in [
            "127.0.0.1:5000",
            "localhost:8080",
            "LOCALHOST",
            "[::1]:5000",
            "192.168.1.20:5000",
            "node.example:5000",
            "node.example.",
        ] {
            assert!(host_is_allowed(host, &allowed), "{host}");
        }
        for host in [
            "evil.example:5000",
            "127.0.0.1.evil.example",
            "localhost.evil",
            "",
        ] {
            assert!(!host_is_allowed(host, &allowed), "{host}");
        }
    }

    #[test]
    fn origins_normalize_with_their_ports() {
        assert_eq!(
            normalize_origin("http://LOCALHOST:8080/").as_deref(),
            Some("http://localhost:8080")
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1").as_deref(),
            Some("http://127.0.0.1:80")
        );
        assert_eq!(
            normalize_origin("http://[::1]").as_deref(),
            Some("http://[::1]:80")
        );
        assert_eq!(normalize_origin("ftp://a"), None);
        assert_eq!(normalize_origin("http://a/b"), None);
    }

    #[test]
    fn cross_site_requests_are_refused_and_programs_answered() {
        let own = "http://127.0.0.1:5000";
        let allowed = vec!["http://127.0.0.1:8080".to_owned()];
        let check = |origin, site| check_cross_site(origin, site, own, &allowed);
        assert!(check(None, None).is_ok(), "curl, scripts, peers");
        assert!(check(None, Some("none")).is_ok(), "a typed URL");
        assert!(check(None, Some("same-origin")).is_ok());
        assert!(check(Some("http://127.0.0.1:5000"), Some("same-origin")).is_ok());
        assert!(check(Some("http://127.0.0.1:8080"), Some("same-site")).is_ok());
        let refused = check(Some("https://evil.example"), Some("cross-site")).unwrap_err();
        assert!(refused.contains("https://evil.example"), "{refused}");
        assert!(
            check(None, Some("cross-site")).is_err(),
            "an <img src> elsewhere"
        );
        assert!(
            check(None, Some("same-site")).is_err(),
            "another port's page"
        );
        assert!(check(Some("null"), Some("cross-site")).is_err());
        assert!(check(Some("http://127.0.0.1:9999"), Some("same-site")).is_err());
    }
}
