// The block page's tamper lab: "what if this block said something else?"
//
// The page holds a real block of this node. Edit a payment's amount or recipient, or the
// header's nonce, timestamp or previous hash, and this script recomputes, as
// blockchain_core does:
//   the transaction id   SHA-256 of the signed message (core/src/message.rs: Python's
//                        str() of an OrderedDict, in the 3.6–3.11 form)
//   each leaf            SHA-256("tx" ‖ id ‖ signature)                (core/src/transaction.rs)
//   the Merkle root      pairs as SHA-256("node" ‖ left ‖ right), an odd one carried up
//   the header           96 bytes: version 1 (u32), number, timestamp (u64), difficulty
//                        (u32), previous hash, Merkle root, nonce (u64), big-endian
//   the block hash       SHA-256 of the header; proof of work is its leading zero bits
//                        (core/src/block.rs, core/src/pow.rs)
// and says which checks now fail: the senders' signatures (RSASSA-PKCS1-v1_5 with SHA-1 by
// Web Crypto, or, where the browser offers no Web Crypto, whether the signed message
// changed), the header's Merkle root, proof of work, and the next block's link. "Send to
// the node" posts the edited block to POST /blocks, where the node refuses it by name.
// Nothing here changes the chain.
(function () {
  "use strict";

  const I18n = () => window.I18n;
  const utf8 = new TextEncoder();

  // SHA-256: Web Crypto where the page is a secure context, else in script (static/sha256.js).
  const { plain: sha256Plain, digest: sha256, concat } = window.Sha256;
  // Signatures need Web Crypto itself (RSASSA-PKCS1-v1_5 / SHA-1): none in script.
  const subtle = window.crypto && window.crypto.subtle;

  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Bytes of even-length hex, or null.
  function fromHex(text) {
    if (!/^([0-9a-fA-F]{2})*$/.test(text)) return null;
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }

  // ---- the signed message (core/src/message.rs) --------------------------------------

  function printable(code) {
    if (code >= 0x20 && code <= 0x7e) return true;
    if (code <= 0x1f || (code >= 0x7f && code <= 0xa0) || code === 0xad) return false;
    if (code === 0x2028 || code === 0x2029 || code === 0x1680) return false;
    if ((code >= 0x2000 && code <= 0x200f) || (code >= 0x202a && code <= 0x202f) || (code >= 0x205f && code <= 0x2064)) return false;
    if (code === 0x3000 || code === 0xfeff || (code >= 0xfff9 && code <= 0xfffb)) return false;
    if (code >= 0xd800 && code <= 0xf8ff) return false;
    return !/\p{Cc}/u.test(String.fromCodePoint(code));
  }

  // Python's repr() of a str.
  function repr(text) {
    const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
    let out = quote;
    for (const c of text) {
      const code = c.codePointAt(0);
      if (c === "\\") out += "\\\\";
      else if (c === "\n") out += "\\n";
      else if (c === "\r") out += "\\r";
      else if (c === "\t") out += "\\t";
      else if (c === quote) out += "\\" + c;
      else if (printable(code)) out += c;
      else if (code < 0x100) out += "\\x" + code.toString(16).padStart(2, "0");
      else if (code < 0x10000) out += "\\u" + code.toString(16).padStart(4, "0");
      else out += "\\U" + code.toString(16).padStart(8, "0");
    }
    return out + quote;
  }

  function message(tx, style) {
    const fields = [
      ["sender_address", tx.sender_address],
      ["recipient_address", tx.recipient_address],
      ["value", tx.value],
    ];
    if (tx.nonce !== undefined && tx.nonce !== null) fields.push(["nonce", tx.nonce]);
    if (style === "python312") {
      return "OrderedDict({" + fields.map(([k, v]) => repr(k) + ": " + repr(v)).join(", ") + "})";
    }
    return "OrderedDict([" + fields.map(([k, v]) => "(" + repr(k) + ", " + repr(v) + ")").join(", ") + "])";
  }

  // ---- the block's hashes (core/src/transaction.rs, block.rs, pow.rs) -----------------

  async function transactionId(tx) {
    return sha256(utf8.encode(message(tx, "classic")));
  }

  async function merkleRoot(leaves) {
    if (leaves.length === 0) return new Uint8Array(32);
    let level = leaves;
    const node = utf8.encode("node");
    while (level.length > 1) {
      const next = [];
      for (let i = 0; i < level.length; i += 2) {
        next.push(i + 1 < level.length ? await sha256(concat(node, level[i], level[i + 1])) : level[i]);
      }
      level = next;
    }
    return level[0];
  }

  function headerBytes({ number, timestamp, difficulty, previous, root, nonce }) {
    const out = new Uint8Array(96);
    const view = new DataView(out.buffer);
    view.setUint32(0, 1);
    view.setBigUint64(4, number);
    view.setBigUint64(12, timestamp);
    view.setUint32(20, difficulty);
    out.set(previous, 24);
    out.set(root, 56);
    view.setBigUint64(88, nonce);
    return out;
  }

  function leadingZeroBits(hash) {
    let bits = 0;
    for (const byte of hash) {
      if (byte !== 0) return bits + Math.clz32(byte) - 24;
      bits += 8;
    }
    return bits;
  }

  // Whether `tx`'s signature is the sender's over its message (in either Python style):
  // true, false, or null where the browser offers no Web Crypto.
  async function signatureVerifies(tx) {
    if (!subtle) return null;
    const der = fromHex(tx.sender_address);
    const signature = fromHex(tx.signature);
    if (!der || !signature) return false;
    let key;
    try {
      key = await subtle.importKey("spki", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-1" }, false, ["verify"]);
    } catch (_) {
      return false;
    }
    for (const style of ["classic", "python312"]) {
      if (await subtle.verify("RSASSA-PKCS1-v1_5", key, signature, utf8.encode(message(tx, style)))) return true;
    }
    return false;
  }

  // ---- the lab ------------------------------------------------------------------------

  const U64_MAX = (1n << 64n) - 1n;
  // Payments offered for editing; a block may hold 10,000.
  const EDITABLE = 50;

  // Each transaction's id, leaf and signature check by its message and signature, so that
  // an edit recomputes only the transaction it changed.
  const checked = new Map();

  async function checkTransaction(tx) {
    const key = message(tx, "classic") + "|" + tx.signature;
    let result = checked.get(key);
    if (!result) {
      const id = await transactionId(tx);
      const leaf = await sha256(concat(utf8.encode("tx"), id, fromHex(tx.signature) || new Uint8Array()));
      const verified = tx.sender_address === "THE BLOCKCHAIN" ? true : await signatureVerifies(tx);
      result = { id, leaf, verified };
      checked.set(key, result);
    }
    return result;
  }

  function parseU64(text) {
    if (!/^[0-9]{1,20}$/.test(text.trim())) return null;
    const n = BigInt(text.trim());
    return n <= U64_MAX ? n : null;
  }

  function setCheck(lab, name, ok, text) {
    const item = lab.querySelector(`[data-check="${name}"]`);
    if (!item) return;
    item.dataset.state = ok === null ? "unknown" : ok ? "ok" : "fail";
    item.querySelector(".check-detail").textContent = text;
  }

  function short(hex) {
    return hex.slice(0, 16) + "…";
  }

  async function start(lab) {
    const t = (key, args) => I18n().t(key, args);
    const number = Number(lab.dataset.number);
    const minedNonce = lab.dataset.nonce;
    const response = await fetch(`/blocks/${number}`);
    if (!response.ok) {
      lab.querySelector("#tamper-status").textContent = t("js-tamper-load-failed");
      return;
    }
    const block = await response.json();
    const original = {
      timestamp: String(block.timestamp),
      nonce: minedNonce,
      previous: block.previous_hash,
      transactions: block.transactions.map((tx) => ({ ...tx })),
    };
    const originalMessages = original.transactions.map((tx) => message(tx, "classic"));
    const hasNext = lab.dataset.hasNext === "true";
    const form = lab.querySelector("form");
    const fields = {
      nonce: form.elements.namedItem("nonce"),
      timestamp: form.elements.namedItem("timestamp"),
      previous: form.elements.namedItem("previous_hash"),
    };
    const payments = lab.querySelector("#tamper-payments");
    const rowTemplate = lab.querySelector("#tamper-payment-row");
    let editable = 0;
    original.transactions.forEach((tx, index) => {
      if (tx.sender_address === "THE BLOCKCHAIN") return;
      if (++editable > EDITABLE) return;
      const row = rowTemplate.content.firstElementChild.cloneNode(true);
      row.querySelector(".payment-number").textContent = String(index + 1);
      for (const input of row.querySelectorAll("input")) {
        input.dataset.index = String(index);
        input.value = input.dataset.field === "value" ? tx.value : tx.recipient_address;
        input.id = `tamper-${input.dataset.field}-${index}`;
        input.previousElementSibling.htmlFor = input.id;
      }
      payments.appendChild(row);
    });
    if (!payments.children.length) lab.querySelector("#tamper-no-payments").hidden = false;
    if (editable > EDITABLE) {
      payments.after(Object.assign(document.createElement("p"), { className: "muted", textContent: t("js-tamper-first-payments", { n: EDITABLE, count: editable }) }));
    }

    function reset() {
      fields.nonce.value = original.nonce;
      fields.timestamp.value = original.timestamp;
      fields.previous.value = original.previous;
      for (const input of payments.querySelectorAll("input")) {
        const tx = original.transactions[Number(input.dataset.index)];
        input.value = input.dataset.field === "value" ? tx.value : tx.recipient_address;
      }
    }

    // The block as edited, or null with the bad field marked.
    function edited() {
      const nonce = parseU64(fields.nonce.value);
      const timestamp = parseU64(fields.timestamp.value);
      const previous = fromHex(fields.previous.value.trim());
      const bad = {
        nonce: nonce === null,
        timestamp: timestamp === null,
        previous: !previous || previous.length !== 32,
      };
      for (const [name, isBad] of Object.entries(bad)) fields[name].setAttribute("aria-invalid", String(isBad));
      if (Object.values(bad).some(Boolean)) return null;
      const transactions = original.transactions.map((tx) => ({ ...tx }));
      for (const input of payments.querySelectorAll("input")) {
        const tx = transactions[Number(input.dataset.index)];
        if (input.dataset.field === "value") tx.value = input.value;
        else tx.recipient_address = input.value;
      }
      return { nonce, timestamp, previous, transactions };
    }

    let computed = null;
    let generation = 0;
    // The Merkle root the header claims: the one it was mined with, until a re-mine in
    // this page commits the header to the edited transactions.
    let headerRoot = block.merkle_root;

    async function recompute() {
      const mine = ++generation;
      lab.dataset.asked = String(mine);
      const block2 = edited();
      const status = lab.querySelector("#tamper-status");
      if (!block2) {
        status.textContent = t("js-tamper-bad-field");
        lab.dataset.shown = String(mine);
        return;
      }
      const results = [];
      for (const item of block2.transactions) results.push(await checkTransaction(item));
      const ids = results.map((r) => r.id);
      const leaves = results.map((r) => r.leaf);
      const root = await merkleRoot(leaves);
      const hash = await sha256(
        headerBytes({
          number: BigInt(number),
          timestamp: block2.timestamp,
          difficulty: block.difficulty,
          previous: block2.previous,
          root,
          nonce: block2.nonce,
        }),
      );
      const signatures = [];
      for (const [index, item] of block2.transactions.entries()) {
        if (item.sender_address === "THE BLOCKCHAIN") continue;
        const { verified } = results[index];
        const unchanged = message(item, "classic") === originalMessages[index];
        signatures.push({ index, ok: verified === null ? unchanged : verified, checked: verified !== null });
      }
      if (mine !== generation) return;
      status.textContent = "";
      computed = { block: block2, root, hash };

      // What was recomputed.
      const hashHex = toHex(hash);
      const rootHex = toHex(root);
      lab.querySelector("#tamper-hash").textContent = hashHex;
      lab.querySelector("#tamper-root").textContent = rootHex;
      const zeros = leadingZeroBits(hash);
      lab.querySelector("#tamper-zeros").textContent = t("js-tamper-zero-bits", { n: zeros, difficulty: block.difficulty });
      const idList = lab.querySelector("#tamper-ids");
      idList.replaceChildren(
        ...ids.slice(0, EDITABLE).map((id, index) => {
          const item = document.createElement("li");
          const code = document.createElement("code");
          code.className = "mono";
          code.textContent = toHex(id);
          item.append(code);
          if (toHex(id) !== block.transactions[index].id) {
            item.dataset.changed = "true";
            item.append(" ", t("js-tamper-id-changed"));
          }
          return item;
        }),
      );

      // The checks.
      const broken = signatures.filter((s) => !s.ok);
      if (!signatures.length) setCheck(lab, "signature", true, t("js-tamper-no-payments"));
      else if (!broken.length) setCheck(lab, "signature", true, I18n().plural("js-tamper-signatures-ok", signatures.length));
      else {
        const which = broken.map((s) => s.index + 1).join(", ");
        setCheck(lab, "signature", false, t(broken[0].checked ? "js-tamper-signature-fails" : "js-tamper-message-changed", { which }));
      }
      const rootOk = rootHex === headerRoot;
      setCheck(lab, "merkle", rootOk, rootOk ? t("js-tamper-root-ok") : t("js-tamper-root-fails", { header: short(headerRoot), computed: short(rootHex) }));
      const powOk = zeros >= block.difficulty;
      setCheck(lab, "pow", powOk, t(powOk ? "js-tamper-pow-ok" : "js-tamper-pow-fails", { n: zeros, difficulty: block.difficulty }));
      if (hasNext) {
        const linkOk = hashHex === block.hash;
        setCheck(lab, "link", linkOk, t(linkOk ? "js-tamper-link-ok" : "js-tamper-link-fails", { next: number + 1, hash: short(block.hash) }));
      } else {
        setCheck(lab, "link", null, t("js-tamper-link-tip"));
      }
      const tries = 2 ** block.difficulty;
      let work = t("js-tamper-remine", { difficulty: block.difficulty, tries: I18n().number(tries) });
      if (hasNext) work += " " + I18n().plural("js-tamper-remine-after", Number(lab.dataset.tip) - number);
      lab.querySelector("#tamper-work").textContent = work;
      lab.dataset.untampered = String(hashHex === block.hash && rootOk && !broken.length);
      lab.querySelector("#tamper-remine").disabled = powOk && rootOk;
      // What is shown is the newest edit's: tests wait for shown to catch up with asked.
      lab.dataset.shown = String(mine);
    }

    // The edited block as JSON for POST /blocks, with the Merkle root its header claims (so
    // a changed payment meets the root it no longer has); the nonce and timestamp written
    // as their digits, since a u64 may exceed a JavaScript number.
    function body() {
      const { block: b } = computed;
      const json = {
        block_number: number,
        timestamp: "@TIMESTAMP@",
        transactions: b.transactions.map(({ sender_address, recipient_address, value, nonce, signature }) =>
          nonce === undefined ? { sender_address, recipient_address, value, signature } : { sender_address, recipient_address, value, nonce, signature },
        ),
        nonce: "@NONCE@",
        previous_hash: toHex(b.previous),
        difficulty: block.difficulty,
      };
      json.merkle_root = headerRoot;
      return JSON.stringify(json).replace('"@TIMESTAMP@"', b.timestamp.toString()).replace('"@NONCE@"', b.nonce.toString());
    }

    // The node's answer, with the rule it names in the page's words.
    function showAnswer(status, answer) {
      const box = lab.querySelector("#tamper-answer");
      const detail = answer.error || answer.message || "";
      const rules = [
        [/merkle_root/i, "js-tamper-rule-merkle"],
        [/proof of work/i, "js-tamper-rule-pow"],
        [/signature/i, "js-tamper-rule-signature"],
        [/previous_hash/i, "js-tamper-rule-previous"],
        [/already known/i, "js-tamper-rule-known"],
      ];
      const rule = rules.find(([pattern]) => pattern.test(detail));
      const refused = status >= 400;
      box.hidden = false;
      box.className = refused ? "notice tamper-refused" : "notice";
      box.replaceChildren();
      const head = document.createElement("p");
      head.textContent = t(refused ? "js-tamper-refused" : "js-tamper-answered", { status });
      if (rule) head.append(" ", t(rule[1]));
      const raw = document.createElement("code");
      raw.className = "mono tamper-raw";
      raw.lang = "en";
      raw.textContent = detail;
      box.append(head, raw);
    }

    // Re-mines the edited block here, as a forger would: the header takes the edited
    // transactions' root, then nonces are tried from 0 until the hash meets the
    // difficulty. The page hashes synchronously in slices, showing the count.
    async function remine() {
      if (!computed) return;
      const button = lab.querySelector("#tamper-remine");
      const progress = lab.querySelector("#tamper-mining");
      const b = computed.block;
      const header = headerBytes({ number: BigInt(number), timestamp: b.timestamp, difficulty: block.difficulty, previous: b.previous, root: computed.root, nonce: 0n });
      const view = new DataView(header.buffer);
      const limit = 2 ** Math.min(block.difficulty + 4, 26);
      button.disabled = true;
      const started = performance.now();
      let tries = 0;
      let found = null;
      while (found === null && tries < limit) {
        for (let slice = 0; slice < 4096 && tries < limit; slice++, tries++) {
          view.setBigUint64(88, BigInt(tries));
          if (leadingZeroBits(sha256Plain(header)) >= block.difficulty) {
            found = BigInt(tries);
            tries += 1;
            break;
          }
        }
        progress.textContent = t("js-tamper-mining", { tries: I18n().number(tries) });
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      if (found === null) {
        progress.textContent = t("js-tamper-mining-gave-up", { tries: I18n().number(tries) });
      } else {
        headerRoot = toHex(computed.root);
        fields.nonce.value = found.toString();
        progress.textContent = t("js-tamper-mined", { tries: I18n().number(tries), seconds });
      }
      await recompute();
    }

    form.addEventListener("input", recompute);
    lab.querySelector("#tamper-remine").addEventListener("click", remine);
    form.addEventListener("reset", (event) => {
      event.preventDefault();
      reset();
      headerRoot = block.merkle_root;
      lab.querySelector("#tamper-mining").textContent = "";
      lab.querySelector("#tamper-answer").hidden = true;
      recompute();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!computed) return;
      const button = form.querySelector("button[type=submit]");
      button.setAttribute("aria-busy", "true");
      button.disabled = true;
      try {
        const answer = await fetch("/blocks", { method: "POST", headers: { "Content-Type": "application/json" }, body: body() });
        showAnswer(answer.status, await answer.json().catch(() => ({})));
      } catch (error) {
        showAnswer(0, { error: String(error) });
      } finally {
        button.removeAttribute("aria-busy");
        button.disabled = false;
      }
    });
    reset();
    await recompute();
    lab.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", () => {
    const lab = document.getElementById("tamper-lab");
    if (lab) start(lab);
  });

  window.TamperLab = Object.freeze({ sha256Plain, repr, headerBytes, leadingZeroBits });
})();
