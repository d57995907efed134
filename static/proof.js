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

  // SHA-256 of the parts, one after another, as hex.
  async function sha256(...parts) {
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    const joined = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    if (window.crypto && crypto.subtle) return hex(await crypto.subtle.digest("SHA-256", joined));
    return hex(sha256Here(joined));
  }

  // SHA-256 (FIPS 180-4) in script, for pages Web Crypto is not offered to: it is offered only
  // in a secure context (HTTPS, or localhost), and a class reaches a node at http://10.x.
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);

  function sha256Here(message) {
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    const padded = new Uint8Array((((message.length + 9 + 63) >> 6) << 6));
    padded.set(message);
    padded[message.length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(message.length / 0x20000000));
    view.setUint32(padded.length - 4, (message.length * 8) >>> 0);
    const h = new Uint32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]);
    const w = new Uint32Array(64);
    for (let block = 0; block < padded.length; block += 64) {
      for (let i = 0; i < 16; i++) w[i] = view.getUint32(block + 4 * i);
      for (let i = 16; i < 64; i++) {
        const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
      }
      let [a, b, c, d, e, f, g, hh] = h;
      for (let i = 0; i < 64; i++) {
        const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        [hh, g, f, e, d, c, b, a] = [g, f, e, (d + t1) >>> 0, c, b, a, (t1 + t2) >>> 0];
      }
      [a, b, c, d, e, f, g, hh].forEach((v, i) => (h[i] = (h[i] + v) >>> 0));
    }
    const out = new DataView(new ArrayBuffer(32));
    h.forEach((v, i) => out.setUint32(4 * i, v));
    return out.buffer;
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
