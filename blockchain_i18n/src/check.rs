//! What the page tests of both apps look for on a page that is not English: words of
//! English left in what a person sees or hears.
//!
//! The text checked is the page's text and its `aria-label`s, less what is not words to
//! translate: `<script>`, `<style>` and `<code>` (commands and paths), and any element marked
//! `translate="no"` (data: a network's name, a hash) or `lang="en"` (the language switch's
//! "English", in its own language). Of what is left, a word of Latin letters counts unless
//! it is hex, part of a URL, path or host name, or one of [`PROPER_NOUNS`].

/// Words that Chinese text writes as they are.
pub const PROPER_NOUNS: [&str; 7] = [
    // Coordinated Universal Time: Chinese explorers write times as "…（UTC）".
    "UTC", // "交易 ID": Chinese software writes identifiers as ID.
    "ID",  // Formats and protocols, named as their standards name them.
    "JSON", "HTTPS", "http",
    // The browser API the wallet's notices name ("Web Crypto").
    "Web", "Crypto",
];

const SKIPPED: [&str; 3] = ["script", "style", "code"];

/// A page as a browser got it.
#[cfg(feature = "fetch")]
pub struct Fetched {
    pub status: u16,
    /// `Content-Language`, or empty.
    pub language: String,
    /// `Set-Cookie`, if the answer sets one.
    pub cookie: Option<String>,
    pub html: String,
}

/// Gets `url` as a browser asking for HTML in `accept_language` (with `cookie`, if given).
///
/// # Panics
/// If the request fails (a test's failure).
#[cfg(feature = "fetch")]
pub async fn fetch(url: &str, accept_language: &str, cookie: Option<&str>) -> Fetched {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client");
    let mut request = client
        .get(url)
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .header("accept-language", accept_language);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    Fetched {
        status: response.status().as_u16(),
        language: header("content-language").unwrap_or_default(),
        cookie: header("set-cookie"),
        html: response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}")),
    }
}

/// Gets the page at `url` as a browser asking for English and as one asking for
/// Chinese, and checks both: the `status`, the language said (`Content-Language`,
/// `<html lang>`), `english` on the English page only, no English left on the Chinese one,
/// and no variable left unfilled on either. Returns both, English first, for a test's own
/// checks.
///
/// # Panics
/// On any of those failing.
#[cfg(feature = "fetch")]
pub async fn both_languages(url: &str, english: &str, status: u16) -> (Fetched, Fetched) {
    let en = fetch(url, "en-GB,en;q=0.9", None).await;
    assert_eq!((en.status, en.language.as_str()), (status, "en"), "{url}");
    assert!(en.html.contains("<html lang=\"en\">"), "{url}");
    assert!(en.html.contains(english), "{url} lacks {english:?}");
    let zh = fetch(url, "zh-CN,zh;q=0.9,en;q=0.8", None).await;
    assert_eq!(
        (zh.status, zh.language.as_str()),
        (status, "zh-CN"),
        "{url}"
    );
    assert!(zh.html.contains("<html lang=\"zh-CN\">"), "{url}");
    assert!(!zh.html.contains(english), "{url} still says {english:?}");
    let left = untranslated(&zh.html);
    assert!(left.is_empty(), "{url} in Chinese shows English: {left:#?}");
    for page in [&en, &zh] {
        // A variable the page did not fill in (a name misspelt where a message is asked for).
        let unfilled: Vec<_> = visible_text(&page.html)
            .into_iter()
            .filter(|text| text.contains("{$"))
            .collect();
        assert!(
            unfilled.is_empty(),
            "{url} ({}): {unfilled:?}",
            page.language
        );
    }
    (en, zh)
}

/// The words of English on a page (with the text around each, to find it).
pub fn untranslated(html: &str) -> Vec<String> {
    visible_text(html)
        .iter()
        .flat_map(|text| {
            text.split(|c: char| c.is_whitespace() || is_cjk_punctuation(c))
                .filter(|token| is_english_word(token))
                .map(move |token| format!("{token:?} in {text:?}"))
        })
        .collect()
}

/// The runs of text a person meets on a page: text nodes and `aria-label`s, entities
/// decoded, less the skipped elements.
pub fn visible_text(html: &str) -> Vec<String> {
    let mut texts = Vec::new();
    // Names of the open elements that are skipped, innermost last.
    let mut skipping: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        if skipping.is_empty() {
            push_text(&mut texts, &rest[..open]);
        }
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let tag = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(closing) = tag.strip_prefix('/') {
            let closing = closing.trim().to_ascii_lowercase();
            if skipping.last() == Some(&closing) {
                skipping.pop();
            }
            continue;
        }
        let void = tag.ends_with('/') || is_void(&name) || tag.starts_with('!');
        let skip = SKIPPED.contains(&name.as_str())
            || tag.contains("translate=\"no\"")
            || tag.contains("lang=\"en\"");
        if !skipping.is_empty() {
            // Nested inside a skipped element: only same-named elements change the depth.
            if !void && skipping.last() == Some(&name) {
                skipping.push(name);
            }
            continue;
        }
        if skip && !void {
            skipping.push(name);
            continue;
        }
        if let Some(label) = attribute(tag, "aria-label") {
            push_text(&mut texts, label);
        }
    }
    if skipping.is_empty() {
        push_text(&mut texts, rest);
    }
    texts
}

fn push_text(texts: &mut Vec<String>, raw: &str) {
    let text = decode(raw);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !text.is_empty() {
        texts.push(text);
    }
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(&tag[start..end])
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "br" | "hr" | "img" | "input" | "link" | "meta" | "source" | "wbr"
    )
}

/// The entities askama writes, and the few named ones templates use.
fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|&end| end < 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => entity
                .strip_prefix('#')
                .and_then(|n| n.parse::<u32>().ok())
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&rest[..=end]),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn is_cjk_punctuation(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}')
}

/// A token with a word of Latin letters in it that is neither data nor a proper noun.
fn is_english_word(token: &str) -> bool {
    let address = token.contains("://") || token.starts_with('/');
    if address || token.contains("127.0.0.1") || token.contains("localhost") {
        return false;
    }
    token
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| word.chars().any(|c| c.is_ascii_alphabetic()))
        .any(|word| {
            let hex = word.len() >= 6 && word.chars().all(|c| c.is_ascii_hexdigit());
            !hex && !PROPER_NOUNS.contains(&word)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_english_in_text_and_labels_but_not_in_data_code_or_scripts() {
        let html = r#"<html lang="zh-CN"><head><title>挖矿</title><style>a{color:red}</style></head>
            <body><nav aria-label="Main"><a lang="en" href="?lang=en">English</a></nav>
            <p>区块 <span translate="no">main <b>net</b></span> 30819f0d0a1b 交易 ID，时间 2026-01-01 00:00:00（UTC）</p>
            <p>Pending transactions</p><code>POST /settings</code><input value="x">
            <a href="http://127.0.0.1:5000/">http://127.0.0.1:5000</a>
            <script type="application/json">{"js-a": "Hello"}</script><p>It&#39;s 5 s</p></body></html>"#;
        let found = untranslated(html);
        let words: Vec<&str> = found.iter().map(|f| f.split('"').nth(1).unwrap()).collect();
        assert_eq!(
            words,
            ["Main", "Pending", "transactions", "It's", "s"],
            "{found:?}"
        );
    }
}
