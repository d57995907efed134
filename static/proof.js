// The transaction page's Merkle proof, checked in the browser (templates/node/transaction.html).
// The page lists the path from the transaction's leaf to its block's Merkle root; this script
// hashes it again with the browser's own SHA-256 (Web Crypto; in script where a page over plain
// HTTP on a LAN is not offered Web Crypto) by the rule docs/protocol.md
// gives: leaf = SHA-256("tx" ‖ id ‖ signature), node = SHA-256("node" ‖ left ‖ right). It
// marks each level with the hash it reached and says whether the path reaches the root, or
// where it fails.
(function () {
  "use strict";

  const card = document.getElementById("merkle-proof");
  if (!card) return;
  const t = window.I18n.t;
  const result = card.querySelector(".proof-result");
  const encoder = new TextEncoder();

  function bytes(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
    return out;
  }

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // SHA-256 of the parts, one after another, as hex (static/sha256.js: Web Crypto, or in
  // script where the page is no secure context).
  async function sha256(...parts) {
    return hex(await window.Sha256.digest(window.Sha256.concat(...parts)));
  }

  function show(text, ok) {
    result.textContent = text;
    result.classList.toggle("ok", ok);
    result.classList.toggle("failed", !ok);
    card.dataset.verified = ok ? "yes" : "no";
  }

  function mark(item, ok) {
    item.classList.toggle("ok", ok);
    item.classList.toggle("failed", !ok);
    item.querySelector(".proof-mark").textContent = ok ? "\u2713" : "\u2717";
  }

  async function check() {
    result.textContent = t("js-proof-checking");
    const levels = Array.from(card.querySelectorAll(".proof-level"));
    const leafItem = levels.shift();
    const leaf = await sha256(
      encoder.encode("tx"),
      bytes(card.dataset.id),
      bytes(card.dataset.signature),
    );
    if (leaf !== card.dataset.leaf) {
      mark(leafItem, false);
      show(t("js-proof-leaf-failed"), false);
      return;
    }
    mark(leafItem, true);
    let node = leaf;
    for (const item of levels) {
      // Our node at this level (what the level below reached), then its parent.
      const computed = item.querySelector(".proof-computed");
      computed.textContent = node.slice(0, 16) + "\u2026";
      computed.title = node;
      const sibling = bytes(item.dataset.hash);
      const ours = bytes(node);
      node =
        item.dataset.side === "left"
          ? await sha256(encoder.encode("node"), sibling, ours)
          : await sha256(encoder.encode("node"), ours, sibling);
    }
    if (node === card.dataset.root) {
      levels.forEach((item) => mark(item, true));
      show(t("js-proof-verified"), true);
    } else {
      const top = levels.length ? levels[levels.length - 1] : leafItem;
      mark(top, false);
      show(t("js-proof-root-failed", { level: levels.length, computed: node }), false);
    }
  }

  check().catch((error) => show(t("js-proof-no-crypto", { error: String(error) }), false));
})();
