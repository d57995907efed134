// Wallet client pages: plain JavaScript, no framework, no third-party code.
//
// Each page has its own form; the matching init function below wires it up when the
// form is present. Text from a node or a user is always inserted with textContent, never
// as HTML. Words on screen come from the page's catalogue (static/i18n.js); the answers of
// the wallet app and the node, in English, go through I18n.explain.
(function () {
  "use strict";

  const { $, el, setBusy, clearInvalid, markInvalid } = window.Dom;
  const { t, plural, utc, explain, sentence } = window.I18n;

  const HEX = /^[0-9a-fA-F]+$/;
  // The sender of a block's reward, as the original tutorial's chain names it.
  const MINT_SENDER = "THE BLOCKCHAIN";
  // Keys and signatures are made here with Web Crypto (static/wallet-crypto.js) wherever the
  // browser offers it; elsewhere (a page that is not a secure context) by the wallet app.
  const walletCrypto = window.WalletCrypto;
  const inBrowser = Boolean(walletCrypto && walletCrypto.available());

  // A long key shown as "e2baa590…4f2c1a9e": the first and last digits of its modulus, which
  // tell keys apart (every key shares its DER header and, with exponent 65537, its ending).
  function shortHex(text) {
    if (!text || !HEX.test(text)) return text;
    return walletCrypto ? walletCrypto.shortKey(text) : text;
  }

  async function copyText(text, button) {
    let done = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        done = true;
      } catch (_) {
        done = false;
      }
    }
    if (!done) {
      const area = el("textarea", { class: "visually-hidden", readonly: "" });
      area.value = text;
      document.body.append(area);
      area.select();
      try {
        done = document.execCommand("copy");
      } catch (_) {
        done = false;
      }
      area.remove();
    }
    if (button) {
      const label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      button.textContent = done ? t("js-copied") : t("js-copy-failed");
      setTimeout(() => {
        button.textContent = label;
      }, 1500);
    }
  }

  // A shortened key with its full value in the title and a copy button labelled `label`.
  function hexCell(text, label) {
    const wrap = el("span", { class: "hex-cell" });
    if (!text || !HEX.test(text) || text.length <= 24) {
      wrap.append(el("span", { text: text || "" }));
      return wrap;
    }
    wrap.append(el("span", { class: "hex", title: text, text: shortHex(text) }));
    const button = el("button", {
      type: "button",
      class: "copy",
      "aria-label": label,
      text: t("js-copy"),
    });
    button.addEventListener("click", () => copyText(text, button));
    wrap.append(button);
    return wrap;
  }

  // An address as hexCell shows it, or the chain itself as the sender of a reward.
  function addressCell(text, label) {
    if (text === MINT_SENDER) return el("span", { class: "badge mint", text: t("js-the-blockchain") });
    return hexCell(text, label);
  }

  function timeCell(seconds) {
    if (seconds === null || seconds === undefined) return el("span", { class: "muted", text: "\u2014" });
    const iso = new Date(Number(seconds) * 1000).toISOString();
    return el("time", { datetime: iso, title: iso, text: utc(seconds) });
  }

  function showBox(box, kind, ...content) {
    box.replaceChildren(...content.map((item) => (typeof item === "string" ? sentence(item) : item)));
    box.className = kind;
    box.hidden = false;
  }

  // Reads a JSON answer; a non-JSON one becomes {error: "<status text>"}.
  async function readJson(response) {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch (_) {
      return { error: "HTTP " + response.status + " " + (response.statusText || text.slice(0, 120)) };
    }
  }

  async function getJson(url) {
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" } });
    } catch (err) {
      return { ok: false, body: { error: t("js-cannot-reach-app", { error: err.message }) } };
    }
    return { ok: response.ok, body: await readJson(response) };
  }

  // Where the browser cannot make keys or sign (no Web Crypto outside a secure context),
  // says so on the page: the wallet app's server does it (`what`: the message saying what),
  // and the private key travels there.
  function showCryptoNotice(what) {
    const notice = $("crypto-notice");
    if (!notice || inBrowser) return;
    const port = location.port ? ":" + location.port : "";
    notice.replaceChildren(
      el("p", {}, el("strong", { text: t("js-crypto-notice-lead") }), t(what, { origin: location.origin })),
      el("p", {}, t("js-crypto-notice-fix", { first: "http://127.0.0.1" + port, second: "http://localhost" + port })),
    );
    notice.hidden = false;
  }

  function nodeBase(text) {
    let url = text.trim();
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = "http://" + url;
    return url.replace(/\/+$/, "");
  }

  // ---- Mine a block to a wallet (Wallet Generator, Wallet Balance) ------------------

  // Asks the wallet app to have `node` mine a block paying `address`; shows the new
  // balance in `box`. Returns whether it worked.
  async function mineTo(address, node, button, box) {
    setBusy(button, true);
    showBox(box, "notice result", t("js-mine-to-busy", { node }));
    let response;
    try {
      response = await fetch("/api/mine", {
        method: "POST",
        body: new URLSearchParams({ address, node }),
      });
    } catch (err) {
      setBusy(button, false);
      showBox(box, "error result", t("js-cannot-reach-app", { error: err.message }));
      return false;
    }
    const body = await readJson(response);
    setBusy(button, false);
    if (!response.ok) {
      showBox(box, "error result", body.error ? explain(body.error, body.field) : t("js-mine-to-failed"));
      return false;
    }
    // A node that mines only for its operator paid from its faucet instead (`via`).
    const what = body.via === "faucet"
      ? el("p", {}, el("strong", { text: plural("js-faucet-sent", Number(body.amount), { amount: body.amount }) }), t("js-faucet-arrives", { block: body.block_index }))
      : el("p", {}, el("strong", { text: t("js-mine-to-mined", { block: body.block_number }) }), t("js-mine-to-reward", { reward: body.reward.value }));
    showBox(
      box,
      "success result",
      what,
      el("p", {}, t("js-balance-now"), el("strong", { id: "mined-balance", text: body.balance.balance }), body.balance.pending && body.balance.pending !== "0" ? t("js-balance-pending", { pending: body.balance.pending }) : ""),
    );
    return true;
  }

  // ---- Wallet Generator ------------------------------------------------------------

  function initWalletGenerator() {
    const form = $("wallet-form");
    if (!form) return;
    const button = $("generate-wallet");
    const status = $("wallet-status");
    const result = $("wallet-result");

    showCryptoNotice("js-crypto-notice-generate");

    // A new key pair: in this browser, or from the wallet app where the browser cannot.
    async function newWallet(bits) {
      if (!inBrowser) {
        const { ok, body } = await getJson("/wallet/new?bits=" + encodeURIComponent(bits));
        if (!ok) throw new Error(body.error ? sentence(explain(body.error, body.field)) : t("js-wallet-failed"));
        return body;
      }
      return walletCrypto.generate(bits);
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      setBusy(button, true);
      status.className = "muted result";
      status.textContent = t(inBrowser ? "js-generating-browser" : "js-generating-server", { bits: $("key-bits").value });
      let wallet;
      try {
        wallet = await newWallet($("key-bits").value);
      } catch (err) {
        setBusy(button, false);
        status.className = "error result";
        status.textContent = err.message ? explain(err.message, err.field) : t("js-wallet-failed");
        return;
      }
      setBusy(button, false);
      $("public-key").value = wallet.public_key;
      $("private-key").value = wallet.private_key;
      $("check-balance-link").href = "/wallet?address=" + encodeURIComponent(wallet.public_key);
      result.hidden = false;
      $("get-coins").hidden = false;
      $("mine-to-result").hidden = true;
      status.className = "success result";
      status.textContent = t(inBrowser ? "js-wallet-generated-browser" : "js-wallet-generated-server");
      $("keys-heading").focus();
    });

    for (const button of document.querySelectorAll("[data-copy]")) {
      button.addEventListener("click", () => copyText($(button.dataset.copy).value, button));
    }

    $("mine-to-form").addEventListener("submit", (event) => {
      event.preventDefault();
      mineTo($("public-key").value, $("mine-node-url").value, $("mine-to-wallet"), $("mine-to-result"));
    });

    $("download-wallet").addEventListener("click", () => {
      const wallet = { private_key: $("private-key").value, public_key: $("public-key").value };
      const blob = new Blob([JSON.stringify(wallet, null, 2) + "\n"], { type: "application/json" });
      const link = el("a", { href: URL.createObjectURL(blob), download: "wallet.json" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    });
  }

  // ---- Make Transaction --------------------------------------------------------------

  function initMakeTransaction() {
    const form = $("transaction-form");
    if (!form) return;
    const button = $("generate-transaction");
    const formError = $("transaction-error");
    const dialog = $("confirm-dialog");
    const confirmForm = $("confirm-form");
    const confirmButton = $("confirm-transaction");
    const confirmError = $("confirm-error");
    const result = $("submit-result");
    const nodeWarning = $("confirm-node-warning");
    let signed = null;
    // The node URL the signature was made for: the server signs for the kind of node there.
    let signedFor = null;

    showCryptoNotice("js-crypto-notice-sign");
    if (!inBrowser) $("sender_private_key-help").textContent = t("js-private-key-help-server");

    // The form's fields. The private key field has no name, so no form submission ever
    // carries it.
    function formFields() {
      return {
        sender_address: $("sender_address").value,
        sender_private_key: $("sender_private_key").value,
        recipient_address: $("recipient_address").value,
        amount: $("amount").value,
      };
    }

    // Signs in this browser for the node at `node`: checks the fields, asks the wallet app
    // what kind of node is there (only its URL is sent), and signs the message that kind of
    // node verifies. Answers as /generate/transaction does; throws {field, message}.
    async function signInBrowser(node) {
      const prepared = await walletCrypto.prepareTransaction(formFields());
      const { ok, body } = await getJson("/api/node-kind?node=" + encodeURIComponent(node));
      if (!ok) throw { field: body.field, message: body.error || t("js-node-url-unchecked") };
      // An original tutorial node verifies only the three-field message, printed the way
      // its Python prints it; every other node gets our message with a random nonce.
      const original = body.kind === "original";
      const signedTx = await walletCrypto.signTransaction(prepared, {
        nonce: original ? null : walletCrypto.randomNonce(),
        style: original ? body.style : "classic",
      });
      return { ...signedTx, node: body };
    }

    // Has the wallet app sign (no Web Crypto here): the form, key included, and the node URL.
    async function signOnServer(node) {
      const fields = new URLSearchParams(formFields());
      fields.set("node_url", node);
      let response;
      try {
        response = await fetch("/generate/transaction", { method: "POST", body: fields });
      } catch (err) {
        throw { message: t("js-cannot-reach-app", { error: err.message }) };
      }
      const body = await readJson(response);
      if (!response.ok) throw { field: body.field, message: body.error || t("js-sign-failed") };
      return body;
    }

    // Signs the form for the node in the dialog's URL field; shows the dialog on success.
    async function signFor(node, errorBox) {
      let body;
      try {
        body = inBrowser ? await signInBrowser(node) : await signOnServer(node);
      } catch (err) {
        showBox(errorBox, "error", err.message ? explain(err.message, err.field) : t("js-sign-failed"));
        markInvalid(err.field === "node" ? "node-url" : err.field);
        return false;
      }
      signed = body;
      signedFor = node;
      const tx = body.transaction;
      $("confirm-sender").textContent = tx.sender_address;
      $("confirm-recipient").textContent = tx.recipient_address;
      $("confirm-amount").textContent = tx.value;
      $("confirm-nonce").textContent = tx.nonce || t("js-none");
      $("confirm-signature").value = body.signature;
      const warning = body.node && body.node.warning;
      nodeWarning.textContent = warning ? explain(warning) : "";
      nodeWarning.hidden = !warning;
      return true;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearInvalid(form);
      formError.hidden = true;
      setBusy(button, true);
      const ok = await signFor(nodeBase($("node-url").value), formError);
      setBusy(button, false);
      if (!ok) {
        const nodeField = $("node-url");
        if (nodeField.getAttribute("aria-invalid")) {
          // A bad node URL typed in an earlier dialog: back to the default, to fix there.
          nodeField.value = nodeField.defaultValue;
          nodeField.removeAttribute("aria-invalid");
        }
        return;
      }
      confirmError.hidden = true;
      setBusy(confirmButton, false);
      dialog.showModal();
      confirmButton.focus();
    });

    $("cancel-transaction").addEventListener("click", () => dialog.close());

    confirmForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!signed) return;
      const node = nodeBase($("node-url").value);
      if (node !== signedFor) {
        // Another node may need another signature: sign again, and let the person check.
        confirmError.hidden = true;
        setBusy(confirmButton, true);
        const ok = await signFor(node, confirmError);
        setBusy(confirmButton, false);
        if (ok) {
          showBox(confirmError, "notice", t("js-signed-again", { node }));
        }
        return;
      }
      const tx = signed.transaction;
      const fields = new URLSearchParams({
        sender_address: tx.sender_address,
        recipient_address: tx.recipient_address,
        amount: tx.value,
        signature: signed.signature,
      });
      if (tx.nonce) fields.set("nonce", tx.nonce);
      confirmError.hidden = true;
      setBusy(confirmButton, true);
      let response;
      try {
        response = await fetch(node + "/transactions/new", { method: "POST", body: fields });
      } catch (_) {
        setBusy(confirmButton, false);
        showBox(confirmError, "error", t("js-cannot-reach-node", { node }));
        markInvalid("node-url");
        return;
      }
      const body = await readJson(response);
      setBusy(confirmButton, false);
      dialog.close();
      if (response.ok) {
        signed = null;
        form.reset();
        const items = [el("p", {}, el("strong", { text: t("js-tx-submitted") }), explain(body.message))];
        if (body.transaction_id) {
          items.push(el("p", {}, t("js-tx-id"), el("span", { class: "hex-full", text: body.transaction_id })));
        }
        items.push(el("p", {}, el("a", { href: "/view/transactions", text: t("js-view-transactions-link") })));
        showBox(result, "success result", ...items);
      } else {
        const words = body.error || body.message || "HTTP " + response.status;
        const items = [
          el("p", {}, el("strong", { text: t("js-tx-refused") })),
          el("p", { class: "refusal", text: sentence(explain(words)) }),
        ];
        if (/insufficient funds/i.test(words)) {
          items.push(el("p", {}, t("js-need-coins"), el("a", {
            href: "/wallet?address=" + encodeURIComponent(tx.sender_address),
            text: t("js-need-coins-link"),
          }), t("js-need-coins-end")));
        }
        showBox(result, "error result", ...items);
      }
      result.setAttribute("tabindex", "-1");
      result.focus();
    });
  }

  // ---- View Transactions -------------------------------------------------------------

  function emptyRow(colspan, text) {
    return el("tr", {}, el("td", { colspan: String(colspan), class: "empty", text }));
  }

  function initViewTransactions() {
    const form = $("view-form");
    if (!form) return;
    const button = $("view-transactions");
    const status = $("view-status");
    const tbody = $("transactions-table").tBodies[0];
    const summary = $("chain-summary");

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearInvalid(form);
      setBusy(button, true);
      status.replaceChildren();
      status.className = "result";
      const node = $("view-node-url").value;
      const { ok, body } = await getJson("/api/chain?node=" + encodeURIComponent(node));
      setBusy(button, false);
      if (!ok) {
        showBox(status, "error result", body.error ? explain(body.error, body.field) : t("js-chain-failed"));
        if (body.field === "node") markInvalid("view-node-url");
        tbody.replaceChildren(emptyRow(6, t("js-no-transactions-to-show")));
        summary.textContent = "";
        return;
      }
      const rows = [];
      let count = 0;
      for (const block of body.chain) {
        for (const tx of block.transactions) {
          count += 1;
          rows.push(
            el(
              "tr",
              {},
              el("td", { class: "num", text: String(count) }),
              el("td", {}, hexCell(tx.recipient_address, t("js-copy-full-recipient"))),
              el("td", {}, addressCell(tx.sender_address, t("js-copy-full-sender"))),
              el("td", { class: "num", text: String(tx.value) }),
              el("td", {}, timeCell(block.timestamp)),
              el("td", { class: "num", text: String(block.block_number) }),
            ),
          );
        }
      }
      tbody.replaceChildren(...(rows.length ? rows : [emptyRow(6, t("js-chain-empty"))]));
      summary.textContent = t("js-chain-summary", {
        transactions: plural("js-n-transactions", count),
        blocks: plural("js-in-n-blocks", body.chain.length),
      });
      status.className = "visually-hidden";
      status.textContent = t("js-loaded", { summary: summary.textContent });
    });
  }

  // ---- Wallet Balance ----------------------------------------------------------------

  function initWallet() {
    const form = $("balance-form");
    if (!form) return;
    const button = $("check-balance");
    const status = $("balance-status");
    const result = $("balance-result");
    const tbody = $("history-table").tBodies[0];

    async function lookUp() {
      clearInvalid(form);
      setBusy(button, true);
      status.replaceChildren();
      status.className = "result";
      const query = new URLSearchParams({
        address: $("balance-address").value.trim(),
        node: $("balance-node-url").value,
      });
      const { ok, body } = await getJson("/api/wallet?" + query);
      setBusy(button, false);
      if (!ok) {
        result.hidden = true;
        showBox(status, "error result", body.error ? explain(body.error, body.field) : t("js-balance-failed"));
        markInvalid({ address: "balance-address", node: "balance-node-url" }[body.field]);
        return;
      }
      $("balance-confirmed").textContent = body.balance;
      $("balance-pending").textContent = body.pending;
      $("balance-for").replaceChildren(hexCell(body.address, t("js-copy-full-address")));
      const rows = body.history.map((entry) =>
        el(
          "tr",
          {},
          el("td", {}, el("span", { class: "badge " + entry.status, text: t(entry.status === "pending" ? "js-status-pending" : "js-status-confirmed") })),
          el("td", { class: "num", text: entry.block === null || entry.block === undefined ? "\u2014" : String(entry.block) }),
          el("td", {}, timeCell(entry.timestamp)),
          el("td", {}, el("span", { class: "badge " + entry.direction, text: t(entry.direction === "in" ? "js-received" : "js-sent") })),
          el("td", {}, addressCell(entry.counterparty, t("js-copy-full-counterparty"))),
          el("td", { class: "num", text: (entry.direction === "in" ? "+" : "\u2212") + entry.value }),
        ),
      );
      tbody.replaceChildren(...(rows.length ? rows : [emptyRow(6, t("js-wallet-no-history"))]));
      result.hidden = false;
      status.className = "visually-hidden";
      status.textContent = t("js-balance-status", { balance: body.balance, pending: body.pending });
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      $("mine-to-result").hidden = true;
      lookUp();
    });
    $("mine-to-wallet").addEventListener("click", async () => {
      const address = $("balance-address").value.trim();
      if (await mineTo(address, $("balance-node-url").value, $("mine-to-wallet"), $("mine-to-result"))) lookUp();
    });
    if ($("balance-address").value.trim()) lookUp();
  }

  initWalletGenerator();
  initMakeTransaction();
  initViewTransactions();
  initWallet();
})();
