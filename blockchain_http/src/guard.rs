//! Who may ask what, in both apps: the `Host` allow-list on every route, and the cross-site
//! check on the routes that act (the node's operator routes; the wallet app's routes that
//! handle keys or fetch a node). The rules are [`origin`](crate::origin)'s; a [`Guard`]
//! holds what one app trusts and its words for a refusal ([`Forbidden`]), and a
//! [`GuardLayer`] applies one of the two checks to a router's services.
//!
//! A hand-written layer rather than an `axum::middleware::from_fn`, which boxes a future
//! and a clone of the service behind it for every request, refused or not.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::origin::{check_cross_site, host_is_allowed, host_name, normalize_origin};

/// How an app words the guard's refusals.
#[derive(Debug, Clone, Copy)]
pub struct Forbidden {
    /// The app as a refusal names it: "this node", "this wallet app".
    pub app: &'static str,
    /// The 403 in the app's own JSON, given what is wrong in words.
    pub answer: fn(String) -> Response,
}

/// The host names and origins an app trusts beyond its own, and its words for a refusal.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Host names answered besides IP literals and `localhost` (lowercase).
    hosts: Vec<String>,
    /// Origins whose pages may use the routes that act, normalized.
    origins: Vec<String>,
    forbidden: Forbidden,
}

impl Guard {
    /// Answers requests naming an IP literal, `localhost` or one of `hosts`; lets only the
    /// app's own pages (and programs) use the routes that act.
    pub fn new(hosts: &[String], forbidden: Forbidden) -> Self {
        Guard {
            hosts: hosts.iter().map(|h| host_name(h)).collect(),
            origins: Vec::new(),
            forbidden,
        }
    }

    /// Also lets pages of `origins` (`--allow-origin`) use the routes that act.
    ///
    /// # Errors
    /// An entry that is not an origin (`scheme://host[:port]`), named.
    pub fn with_origins(mut self, origins: &[String]) -> Result<Self, String> {
        self.origins = origins
            .iter()
            .map(|o| {
                normalize_origin(o).ok_or_else(|| {
                    format!("--allow-origin {o:?} is not an origin such as http://127.0.0.1:8080")
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(self)
    }

    /// Every route: a request must name the app by a host it answers to. The refusal, if
    /// it does not.
    pub fn refuse_unknown_host(&self, request: &Request) -> Option<Response> {
        let host = header(request.headers(), header::HOST.as_str())?;
        if host_is_allowed(host, &self.hosts) {
            return None;
        }
        let name: String = host_name(host).chars().take(100).collect();
        Some((self.forbidden.answer)(format!(
            "{} does not answer to the name {name:?} (a guard against DNS rebinding); start it with --allow-host {name} if that name is really its own",
            self.forbidden.app
        )))
    }

    /// The routes that act: the refusal of a request from another site's page.
    pub fn refuse_cross_site(&self, request: &Request) -> Option<Response> {
        let headers = request.headers();
        let own = format!(
            "http://{}",
            header(headers, header::HOST.as_str()).unwrap_or("")
        );
        let why = check_cross_site(
            header(headers, header::ORIGIN.as_str()),
            header(headers, "sec-fetch-site"),
            &own,
            &self.origins,
        )
        .err()?;
        Some((self.forbidden.answer)(format!(
            "{} {why}",
            request.uri().path()
        )))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Which of the guard's checks a layer applies.
#[derive(Debug, Clone, Copy)]
enum Check {
    Host,
    CrossSite,
}

/// Wraps a service in a [`Guarded`] that applies one of a [`Guard`]'s checks.
#[derive(Debug, Clone)]
pub struct GuardLayer {
    guard: Arc<Guard>,
    check: Check,
}

impl GuardLayer {
    /// For every route: refuses requests that name the app by a host it does not answer to.
    pub fn hosts(guard: Arc<Guard>) -> Self {
        GuardLayer {
            guard,
            check: Check::Host,
        }
    }

    /// For the routes that act (a `route_layer`): refuses other sites' pages.
    pub fn cross_site(guard: Arc<Guard>) -> Self {
        GuardLayer {
            guard,
            check: Check::CrossSite,
        }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guarded<S>;

    fn layer(&self, inner: S) -> Guarded<S> {
        Guarded {
            inner,
            guard: Arc::clone(&self.guard),
            check: self.check,
        }
    }
}

/// Answers a request its guard refuses with the refusal, and passes the others on.
#[derive(Debug, Clone)]
pub struct Guarded<S> {
    inner: S,
    guard: Arc<Guard>,
    check: Check,
}

impl<S> Service<Request> for Guarded<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Checked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let refusal = match self.check {
            Check::Host => self.guard.refuse_unknown_host(&request),
            Check::CrossSite => self.guard.refuse_cross_site(&request),
        };
        let answer = match refusal {
            Some(refusal) => Answer::Refused {
                response: Some(refusal),
            },
            None => Answer::Passed {
                future: self.inner.call(request),
            },
        };
        Checked { answer }
    }
}

pin_project! {
    /// The answer of a [`Guarded`] service: its refusal, or the inner service's answer.
    pub struct Checked<F> {
        #[pin]
        answer: Answer<F>,
    }
}

pin_project! {
    #[project = AnswerProjection]
    enum Answer<F> {
        Refused { response: Option<Response> },
        Passed { #[pin] future: F },
    }
}

impl<F> Future for Checked<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().answer.project() {
            AnswerProjection::Refused { response } => Poll::Ready(Ok(response
                .take()
                .expect("a refusal is polled after it was ready"))),
            AnswerProjection::Passed { future } => future.poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;

    /// Words that carry what is wrong in a header, to be read without a runtime.
    const WORDS: Forbidden = Forbidden {
        app: "this test app",
        answer: |why| {
            Response::builder()
                .status(StatusCode::FORBIDDEN)
                .header("why", why)
                .body(Body::empty())
                .unwrap()
        },
    };

    fn request(path: &str, headers: &[(&str, &str)]) -> Request {
        let mut request = Request::builder().uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Body::empty()).unwrap()
    }

    fn why(refusal: Option<Response>) -> Option<String> {
        refusal.map(|r| r.headers()["why"].to_str().unwrap().to_owned())
    }

    #[test]
    fn unknown_hosts_are_refused_in_the_apps_words() {
        let guard = Guard::new(&["Wallet.Example:8080".to_owned()], WORDS);
        let check =
            |headers: &[(&str, &str)]| why(guard.refuse_unknown_host(&request("/", headers)));
        assert_eq!(check(&[("host", "wallet.example:8080")]), None);
        assert_eq!(check(&[("host", "127.0.0.1:8080")]), None);
        assert_eq!(check(&[]), None, "a request without Host");
        let refused = check(&[("host", "evil.example:8080")]).unwrap();
        assert!(
            refused.starts_with("this test app does not answer to the name \"evil.example\"")
                && refused.contains("--allow-host evil.example "),
            "{refused}"
        );
    }

    #[test]
    fn other_sites_pages_are_refused_on_the_routes_that_act() {
        let guard = Guard::new(&[], WORDS)
            .with_origins(&["http://127.0.0.1:8080/".to_owned()])
            .unwrap();
        let check = |origin| {
            let headers = [("host", "127.0.0.1:5000"), ("origin", origin)];
            why(guard.refuse_cross_site(&request("/mine", &headers)))
        };
        assert_eq!(check("http://127.0.0.1:5000"), None, "its own pages");
        assert_eq!(check("http://127.0.0.1:8080"), None, "an allowed origin");
        let refused = check("https://evil.example").unwrap();
        assert!(
            refused.starts_with("/mine a page at https://evil.example may not use this route"),
            "{refused}"
        );
        let bad = Guard::new(&[], WORDS).with_origins(&["127.0.0.1:8080".to_owned()]);
        assert!(
            bad.unwrap_err()
                .starts_with("--allow-origin \"127.0.0.1:8080\"")
        );
    }
}
