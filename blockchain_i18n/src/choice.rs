//! Which language a page request gets, and the answer that remembers a choice.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::Lang;

/// The cookie that keeps the language chosen in the nav.
pub const COOKIE: &str = "lang";

/// A page request's language: `?lang=` (which the answer then keeps in the cookie), else
/// the cookie, else the browser's `Accept-Language`, else English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LangChoice {
    pub lang: Lang,
    /// Chosen by `?lang=` now: the answer sets the cookie.
    chosen: bool,
}

impl LangChoice {
    /// The language for a request with this query string and these headers.
    pub fn of(query: Option<&str>, headers: &HeaderMap) -> Self {
        let asked = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|pair| pair.strip_prefix("lang="))
            .and_then(Lang::from_tag);
        if let Some(lang) = asked {
            return LangChoice { lang, chosen: true };
        }
        let kept = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|cookies| cookies.split(';'))
            .find_map(|cookie| cookie.trim().strip_prefix("lang="))
            .and_then(Lang::from_tag);
        let lang = kept.unwrap_or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .map_or(Lang::En, Lang::negotiate)
        });
        LangChoice {
            lang,
            chosen: false,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for LangChoice {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(LangChoice::of(parts.uri.query(), &parts.headers))
    }
}

/// A page in a chosen language: says which (`Content-Language`), that the answer depends
/// on the language headers (`Vary`), and keeps a `?lang=` choice in the cookie for a year.
pub struct Localized<T>(pub LangChoice, pub T);

impl<T: IntoResponse> IntoResponse for Localized<T> {
    fn into_response(self) -> Response {
        let Localized(choice, page) = self;
        let mut response = page.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(choice.lang.tag()),
        );
        headers.append(
            header::VARY,
            HeaderValue::from_static("Accept-Language, Cookie"),
        );
        if choice.chosen {
            let cookie = format!(
                "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                choice.lang.tag()
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_static(value)))
            .collect()
    }

    #[test]
    fn the_query_beats_the_cookie_which_beats_the_browser() {
        let browser = headers(&[(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9")]);
        assert_eq!(LangChoice::of(None, &browser).lang, Lang::ZhCn);
        assert!(!LangChoice::of(None, &browser).chosen);
        let both = headers(&[
            (header::ACCEPT_LANGUAGE, "zh-CN"),
            (header::COOKIE, "theme=dark; lang=en"),
        ]);
        assert_eq!(LangChoice::of(None, &both).lang, Lang::En);
        let asked = LangChoice::of(Some("page=2&lang=zh-CN"), &both);
        assert_eq!(
            asked,
            LangChoice {
                lang: Lang::ZhCn,
                chosen: true
            }
        );
        // An unknown choice is no choice.
        assert_eq!(LangChoice::of(Some("lang=xx"), &both).lang, Lang::En);
        assert_eq!(LangChoice::of(None, &HeaderMap::new()).lang, Lang::En);
    }

    #[test]
    fn a_choice_sets_the_cookie_and_the_language_headers() {
        let choice = LangChoice::of(Some("lang=zh-CN"), &HeaderMap::new());
        let response = Localized(choice, "page").into_response();
        assert_eq!(response.headers()[header::CONTENT_LANGUAGE], "zh-CN");
        let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(cookie.starts_with("lang=zh-CN;"), "{cookie}");
        let kept = LangChoice::of(None, &HeaderMap::new());
        let response = Localized(kept, "page").into_response();
        assert!(response.headers().get(header::SET_COOKIE).is_none());
    }
}
