// The page's words for both apps' scripts (static/client.js, static/node.js). Loaded before
// them, it defines window.I18n. The words come from the page: the layout renders the
// catalogue's js-* messages of the page's language as JSON in <script id="i18n">, with
// variables left as {$name}; <html lang> says which language that is.
(function () {
  "use strict";

  const lang = document.documentElement.lang || "en";
  const source = document.getElementById("i18n");
  const strings = source ? JSON.parse(source.textContent) : {};

  // The message `key` with its variables filled in; the key itself if there is no such
  // message (the catalogue tests make sure there is).
  function t(key, args) {
    const pattern = strings[key];
    if (pattern === undefined) return key;
    return pattern.replace(/\{\$([A-Za-z0-9_-]+)\}/g, (whole, name) =>
      args && args[name] !== undefined ? String(args[name]) : whole,
    );
  }

  // A message chosen by a count, as the language's plural rules choose: `key-one` or
  // `key-other` (Chinese has only the latter's form, the catalogue has both).
  function plural(key, n, args) {
    const form = new Intl.PluralRules(lang).select(n) === "one" ? "-one" : "-other";
    return t(key + form, { n: number(n), ...args });
  }

  function number(n, options) {
    return new Intl.NumberFormat(lang, options).format(n);
  }

  // 1234567 → "1.23M" in English, "123.46万" in Chinese.
  function compact(n) {
    if (!Number.isFinite(n)) return "\u2014";
    return number(n, { notation: "compact", maximumFractionDigits: 2 });
  }

  // Unix seconds as "2026-11-21 19:30:00 UTC", as the server's pages show times.
  function utc(seconds) {
    const iso = new Date(Number(seconds) * 1000).toISOString();
    return t("js-utc", { time: iso.slice(0, 10) + " " + iso.slice(11, 19) });
  }

  // The fields the apps' answers name, in the page's words.
  const FIELDS = {
    sender_address: "js-field-sender-address",
    recipient_address: "js-field-recipient-address",
    sender_private_key: "js-field-sender-private-key",
    amount: "js-field-amount",
    reward_address: "js-field-reward-address",
    node: "js-field-node",
    node_url: "js-field-node",
    block_interval: "js-field-block-interval",
    mining_threads: "js-field-mining-threads",
    mining_difficulty: "js-field-mining-difficulty",
    nonce: "js-field-nonce",
    bits: "js-field-bits",
  };

  function fieldName(text, field) {
    const named = field || (/^([a-z]+_[a-z_]+|amount|nonce|bits|node)\b/.exec(text || "") || [])[1];
    const key = FIELDS[named];
    return key ? t(key) : named || "";
  }

  // Known answers of the node and the wallet app (they answer in English, for programs),
  // matched by their words, most telling first.
  const ANSWERS = [
    [/will be added to Block (\d+)/, (m) => t("js-answer-will-be-added", { block: m[1] })],
    [/Our chain was replaced/, () => t("js-answer-chain-replaced")],
    [/Our chain is authoritative/, () => t("js-answer-chain-authoritative")],
    [/New nodes have been added/, () => t("js-answer-nodes-added")],
    [/insufficient funds\D*([\d.]+)\D+([\d.]+)/i, (m) => t("js-answer-insufficient-funds", { have: m[1], need: m[2] })],
    [/is a private key, not a public key/, (m, field) => t("js-answer-private-as-public", { field: fieldName(m.input, field) })],
    [/sender's own address/, () => t("js-answer-self-payment")],
    [/cannot reach|could not reach|did not answer|not reachable|unreachable/i, () => t("js-answer-unreachable")],
    [/node URL/, () => t("js-answer-bad-url")],
    [/(^|\b)amount\b|plain decimal/, () => t("js-answer-amount")],
    [/\bis empty\b|\bis missing\b|missing field/, (m, field) => t("js-answer-empty", { field: fieldName(m.input, field) })],
    [/hexadecimal|hex digits|not an RSA|DER|-bit key|public exponent|bits must/, (m, field) => t("js-answer-bad-key", { field: fieldName(m.input, field) })],
    [/already|replay|duplicate/i, () => t("js-answer-replay")],
    [/signature/i, () => t("js-answer-signature")],
    [/must be|at least|at most|out of range/, (m, field) => t("js-answer-bad-setting", { field: fieldName(m.input, field) })],
  ];

  // An answer's words on the page: an English page shows them as they are; another
  // language shows a known answer in its words, and an unknown one in English after a
  // lead-in saying so. `field` is the field the answer names, if it says.
  function explain(text, field) {
    const words = String(text || "");
    if (lang === "en" || words === "") return words;
    for (const [pattern, say] of ANSWERS) {
      const match = pattern.exec(words);
      if (match) return say(match, field);
    }
    return t("js-answer-other", { detail: words });
  }

  // What a peer's last sync did (the node's words), in the page's language.
  const SYNCS = [
    [/^adopted/, "js-sync-adopted"],
    [/^no more work/, "js-sync-not-better"],
    [/^invalid chain|^validation failed/, "js-sync-invalid"],
    [/^still validating/, "js-sync-timeout"],
  ];

  function syncWords(text) {
    if (lang === "en" || !text) return text;
    const known = SYNCS.find(([pattern]) => pattern.test(text));
    return known ? t(known[1]) : t("js-answer-other", { detail: text });
  }

  // An answer's sentence with a capital first letter, unless it starts with a field name
  // ("sender_address is empty").
  function sentence(text) {
    if (!text || /^[a-z]+_[a-z_]+\b/.test(text)) return text;
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  globalThis.I18n = Object.freeze({ lang, t, plural, number, compact, utc, explain, syncWords, sentence });
})();
