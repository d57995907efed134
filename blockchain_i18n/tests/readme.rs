//! README.zh-CN.md starts with the same two commands as README.md, word for word.

fn first_code_block(path: &str) -> String {
    let text = std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = text
        .find("```sh\n")
        .unwrap_or_else(|| panic!("{path} has no ```sh block"));
    let body = &text[start + 6..];
    body[..body.find("```").unwrap()].to_owned()
}

#[test]
fn the_chinese_readme_starts_with_the_english_readmes_commands() {
    let english = first_code_block("README.md");
    assert!(english.contains("./scripts/start.sh") && english.contains("./scripts/test.sh"));
    assert_eq!(first_code_block("README.zh-CN.md"), english);
}
