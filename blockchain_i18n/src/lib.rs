//! The pages' languages: English and Simplified Chinese.
//!
//! One Fluent catalogue per language, `locales/en.ftl` and `locales/zh-CN.ftl` at the top of
//! the workspace, compiled into the binaries. The flow of a page:
//!
//! ```text
//! request ──► LangChoice (?lang=, else the `lang` cookie, else Accept-Language, else English)
//!               │
//!               ├─► the page's template: <html lang>, its words (Lang::t), and for its
//!               │   script the `js-*` messages as JSON (Lang::script_strings)
//!               └─► Localized: the page, and the cookie when ?lang= chose
//! ```
//!
//! Only pages ask for a language: the JSON API and the command line stay English, and cost
//! nothing here. A script's message keeps its variables as `{$name}`; `static/dom.js` fills
//! them in.

pub mod check;
mod choice;

use std::fmt::Display;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

pub use choice::{COOKIE, LangChoice, Localized};

/// A language the pages speak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    ZhCn,
}

/// Messages whose id starts with this are the pages' scripts' words.
pub const SCRIPT_PREFIX: &str = "js-";

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// The BCP 47 tag: `<html lang>`, `?lang=`, the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language a tag names: `en`, `en-GB`; `zh`, `zh-CN`, `zh-Hans`. Chinese in
    /// any script or region reads Simplified Chinese more easily than English.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("zh") {
            Some(Lang::ZhCn)
        } else {
            None
        }
    }

    /// The first language of an `Accept-Language` header (by weight, then order) that the
    /// pages speak; English if none.
    pub fn negotiate(accept_language: &str) -> Lang {
        let mut ranked: Vec<(f32, Lang)> = accept_language
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let lang = Lang::from_tag(parts.next()?)?;
                let weight = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (weight > 0.0).then_some((weight, lang))
            })
            .collect();
        // Stable: equal weights keep the header's order.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map_or(Lang::En, |&(_, lang)| lang)
    }

    /// The catalogue's Fluent source.
    pub fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../../locales/en.ftl"),
            Lang::ZhCn => include_str!("../../locales/zh-CN.ftl"),
        }
    }

    fn catalogue(self) -> &'static Catalogue {
        static EN: LazyLock<Catalogue> = LazyLock::new(|| Catalogue::new(Lang::En));
        static ZH_CN: LazyLock<Catalogue> = LazyLock::new(|| Catalogue::new(Lang::ZhCn));
        match self {
            Lang::En => &EN,
            Lang::ZhCn => &ZH_CN,
        }
    }

    /// The message `id` in this language; the id itself if the catalogue lacks it (the
    /// catalogue tests make sure none is lacking).
    pub fn t(self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with one variable.
    pub fn t1(self, id: &str, name: &str, value: impl Display) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), FluentValue::from(value.to_string()));
        self.format(id, Some(&args))
    }

    /// The message `id` with two variables.
    pub fn t2(
        self,
        id: &str,
        name1: &str,
        value1: impl Display,
        name2: &str,
        value2: impl Display,
    ) -> String {
        let mut args = FluentArgs::new();
        args.set(name1.to_owned(), FluentValue::from(value1.to_string()));
        args.set(name2.to_owned(), FluentValue::from(value2.to_string()));
        self.format(id, Some(&args))
    }

    /// The message `id` with a count, for messages that choose their words by it
    /// (`[one]`, `*[other]`).
    pub fn count(self, id: &str, name: &str, n: u64) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), FluentValue::from(n));
        self.format(id, Some(&args))
    }

    fn format(self, id: &str, args: Option<&FluentArgs>) -> String {
        let bundle = &self.catalogue().bundle;
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_owned();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    /// The scripts' messages (`js-*`) as a JSON object, safe inside
    /// `<script type="application/json">`. Made once per language.
    pub fn script_strings(self) -> &'static str {
        &self.catalogue().script
    }

    /// The ids of the catalogue's messages, in file order.
    pub fn ids(self) -> Vec<String> {
        message_ids(self.source())
    }
}

/// The ids of the messages in a Fluent source, in order.
///
/// # Panics
/// If the source is not valid Fluent (the catalogues are compiled in and tested).
pub fn message_ids(source: &str) -> Vec<String> {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("a catalogue does not parse: {errors:?}"));
    resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
            _ => None,
        })
        .collect()
}

struct Catalogue {
    bundle: FluentBundle<FluentResource>,
    script: String,
}

impl Catalogue {
    fn new(lang: Lang) -> Self {
        let resource = FluentResource::try_new(lang.source().to_owned())
            .unwrap_or_else(|(_, errors)| panic!("{} does not parse: {errors:?}", lang.tag()));
        let tag = lang.tag().parse().expect("a valid language tag");
        let mut bundle = FluentBundle::new_concurrent(vec![tag]);
        // Plain text: the pages are one direction, and marks would end up in copied text.
        bundle.set_use_isolating(false);
        bundle
            .add_resource(resource)
            .unwrap_or_else(|errors| panic!("{} repeats messages: {errors:?}", lang.tag()));
        let mut catalogue = Catalogue {
            bundle,
            script: String::new(),
        };
        // Without arguments a variable stays in the text as `{$name}`, for the script.
        let script: serde_json::Map<String, serde_json::Value> = lang
            .ids()
            .into_iter()
            .filter(|id| id.starts_with(SCRIPT_PREFIX))
            .map(|id| {
                let text = catalogue.format(&id);
                (id, text.into())
            })
            .collect();
        catalogue.script = serde_json::Value::Object(script)
            .to_string()
            .replace('<', "\\u003c");
        catalogue
    }

    fn format(&self, id: &str) -> String {
        let pattern = self.bundle.get_message(id).and_then(|m| m.value());
        pattern.map_or_else(
            || id.to_owned(),
            |pattern| {
                self.bundle
                    .format_pattern(pattern, None, &mut Vec::new())
                    .into_owned()
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_heaviest_language_the_pages_speak() {
        assert_eq!(Lang::negotiate(""), Lang::En);
        assert_eq!(Lang::negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn);
        assert_eq!(Lang::negotiate("en-US,en;q=0.9,zh-CN;q=0.8"), Lang::En);
        assert_eq!(
            Lang::negotiate("fr-FR, zh-Hans;q=0.5, en;q=0.4"),
            Lang::ZhCn
        );
        assert_eq!(Lang::negotiate("en;q=0.2, zh-TW;q=0.7"), Lang::ZhCn);
        assert_eq!(Lang::negotiate("zh;q=0, de"), Lang::En);
        assert_eq!(Lang::negotiate("de-DE, fr"), Lang::En);
        assert_eq!(Lang::negotiate("zh;q=abc, en"), Lang::En);
    }

    #[test]
    fn tags_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
        }
        assert_eq!(Lang::from_tag("ZH_cn"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_tag("fr"), None);
    }

    #[test]
    fn messages_take_their_variables_and_scripts_get_placeholders() {
        for lang in Lang::ALL {
            let text = lang.t2("page-of", "page", 2, "pages", 3);
            assert!(text.contains('2') && text.contains('3'), "{text}");
            assert!(!text.contains('{'), "{text}");
            let script: serde_json::Value =
                serde_json::from_str(lang.script_strings()).expect("JSON");
            let mined = script["js-mine-to-mined"]
                .as_str()
                .expect("a script message");
            assert!(mined.contains("{$block}"), "{mined}");
            assert!(!lang.script_strings().contains('<'));
        }
        assert_eq!(Lang::En.t("no-such-message"), "no-such-message");
    }
}
