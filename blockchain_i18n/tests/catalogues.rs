//! The catalogues against each other and against their users: every message in both
//! languages with the same variables, every message used somewhere, and every message
//! used there in the catalogues. Uses are found by scanning the templates, the pages'
//! scripts and the Rust that renders pages.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use blockchain_i18n::{Lang, SCRIPT_PREFIX};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files under `dir` (recursively) whose names end with `ext`, with their text.
fn sources(dir: &Path, ext: &str) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path, text));
            }
        }
    }
    found
}

/// Everything that may use a message: templates, the pages' scripts, the apps' Rust.
fn users() -> Vec<(PathBuf, String)> {
    let root = root();
    let mut all = sources(&root.join("templates"), "html");
    all.extend(sources(&root.join("static"), "js"));
    for krate in ["blockchain_node", "blockchain_client", "blockchain_i18n"] {
        all.extend(sources(&root.join(krate).join("src"), "rs"));
    }
    all
}

/// The quoted strings in a source that look like message ids. Every run between two
/// quotes is looked at: in a template a call's quotes sit inside an attribute's.
fn quoted_ids(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .filter(|s| {
            !s.is_empty()
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        .map(str::to_owned)
        .collect()
}

/// The ids a source asks a catalogue for: `t("id"`, `t1("id"`, `t2("id"`, `count("id"`, and
/// in scripts every quoted `js-…` string (a message, or a stem whose `-one` and `-other`
/// forms `I18n.plural` picks).
fn asked_ids(path: &Path, text: &str) -> BTreeSet<String> {
    let mut asked = BTreeSet::new();
    for call in ["t(\"", "t1(\"", "t2(\"", "count(\""] {
        for (at, _) in text.match_indices(call) {
            // A call of its own (`lang.t(`, `t(`), not the end of another name (`setText(`).
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let start = at + call.len();
            let id: String = text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            asked.insert(id);
        }
    }
    if path.extension().is_some_and(|e| e == "js") {
        asked.extend(
            quoted_ids(text)
                .into_iter()
                .filter(|id| id.starts_with(SCRIPT_PREFIX)),
        );
    }
    asked
}

fn plural_stem(id: &str) -> Option<&str> {
    id.strip_suffix("-one")
        .or_else(|| id.strip_suffix("-other"))
}

#[test]
fn both_catalogues_hold_the_same_messages_once_each() {
    let mut ids = BTreeMap::new();
    for lang in Lang::ALL {
        let list = lang.ids();
        let set: BTreeSet<String> = list.iter().cloned().collect();
        assert_eq!(set.len(), list.len(), "{} repeats a message", lang.tag());
        ids.insert(lang.tag(), set);
    }
    let (en, zh) = (&ids["en"], &ids["zh-CN"]);
    let only_en: Vec<_> = en.difference(zh).collect();
    let only_zh: Vec<_> = zh.difference(en).collect();
    assert!(only_en.is_empty(), "missing from zh-CN.ftl: {only_en:?}");
    assert!(only_zh.is_empty(), "missing from en.ftl: {only_zh:?}");
    assert!(en.len() > 100, "{} messages", en.len());
}

#[test]
fn a_message_takes_the_same_variables_in_both_languages() {
    // Unfilled, a variable stays in the text as {$name}.
    let variables = |text: &str| -> BTreeSet<String> {
        text.split("{$")
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect()
    };
    for id in Lang::En.ids() {
        let en = variables(&Lang::En.t(&id));
        let zh = variables(&Lang::ZhCn.t(&id));
        assert_eq!(en, zh, "{id}: en {en:?}, zh-CN {zh:?}");
        for lang in Lang::ALL {
            let text = lang.t(&id);
            assert!(
                !text.trim().is_empty() || id.ends_with("-end"),
                "{id} is empty in {}",
                lang.tag()
            );
        }
    }
}

#[test]
fn every_message_is_used_and_every_use_is_a_message() {
    let ids: BTreeSet<String> = Lang::En.ids().into_iter().collect();
    let users = users();
    let mut quoted = BTreeSet::new();
    let mut missing = Vec::new();
    for (path, text) in &users {
        quoted.extend(quoted_ids(text));
        // The catalogue's own code asks for ids to test what a missing one gives.
        if path.starts_with(root().join("blockchain_i18n")) {
            continue;
        }
        for id in asked_ids(path, text) {
            let plural = ids.contains(&format!("{id}-one")) && ids.contains(&format!("{id}-other"));
            if !ids.contains(&id) && !plural {
                missing.push(format!("{}: {id}", path.display()));
            }
        }
    }
    assert!(missing.is_empty(), "used but in no catalogue: {missing:?}");
    let unused: Vec<_> = ids
        .iter()
        .filter(|id| {
            !quoted.contains(*id) && !plural_stem(id).is_some_and(|stem| quoted.contains(stem))
        })
        .collect();
    assert!(
        unused.is_empty(),
        "in the catalogues but used nowhere: {unused:?}"
    );
}

#[test]
fn the_scripts_words_are_all_the_js_messages() {
    for lang in Lang::ALL {
        let script: serde_json::Value = serde_json::from_str(lang.script_strings()).unwrap();
        let keys: BTreeSet<&str> = script
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let ids = lang.ids();
        let expected: BTreeSet<&str> = ids
            .iter()
            .map(String::as_str)
            .filter(|id| id.starts_with(SCRIPT_PREFIX))
            .collect();
        assert_eq!(keys, expected, "{}", lang.tag());
    }
}
