// Keys stay in the browser: the wallet pages make keys and sign with Web Crypto
// (static/wallet-crypto.js), in Debian's headless Chromium through playwright-core.
//
//   - every valid vector of the original client, signed in the page: the same message and
//     the same signature byte for byte; with a nonce, and in the Python 3.12 style for an
//     original node, the same signature as the Rust signer's (blockchain_client);
//   - keys made in the page are read by the Rust side, which signs with them identically;
//   - the page names a bad field with the wallet app's own words, before anything is sent;
//   - Wallet Generator → Mine a block to this wallet → Make Transaction → Confirm, with
//     every request the browser makes recorded: none carries the private key (hex, PKCS#8,
//     base64), and the node accepts the payment;
//   - Make Transaction against an original node on Python 3.12 (a fake one that verifies
//     with Node's own crypto): the warning, no nonce, the new message style, accepted;
//   - without Web Crypto (crypto.subtle removed, as in a page that is not a secure
//     context), the pages work through the wallet app's routes and say so.
//
// Usage (from the repository root, after `cargo build -p blockchain_node -p blockchain_client`):
//
//   node e2e/keys.mjs [NODE_BIN] [CLIENT_BIN]
//
// Screenshots go to target/e2e-screenshots/keys-*.png (or $E2E_SCREENSHOTS). The last line
// is "N passed, M failed"; the exit status is non-zero on any failure. Only 127.0.0.1 is
// ever contacted.

import { execFileSync } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import {
  CLIENT_BIN,
  SHOTS,
  expect,
  failSetup,
  finish,
  fundedGenesis,
  launch,
  printLogs,
  screenshots,
  shot,
  startApps,
  step,
  stopAll,
  waitForText as waitForTextIn,
} from "./lib.mjs";

const STEP_TIMEOUT = 20_000;
const FUNDS = "100";

// The Rust signer: `blockchain_client sign …`, its JSON answer.
function rustSign(args) {
  return JSON.parse(execFileSync(CLIENT_BIN, ["sign", ...args], { encoding: "utf8", env: { ...process.env, RUST_LOG: "warn" } }));
}

// An original tutorial node on Python 3.12, as far as our client can tell: no /status, a
// chain without work or hashes, a Werkzeug Server header. It verifies a payment's
// signature over the Python 3.12 message with Node's own crypto (OpenSSL), not ours.
function startFakeOriginalNode() {
  const received = [];
  const server = http.createServer((request, response) => {
    const answer = (status, body) => {
      response.writeHead(status, {
        "Content-Type": "application/json",
        Server: "Werkzeug/3.1.3 Python/3.12.1",
        "Access-Control-Allow-Origin": "*",
      });
      response.end(JSON.stringify(body));
    };
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      if (request.method === "GET" && request.url === "/chain") {
        answer(200, { chain: [{ block_number: 1, nonce: 100, previous_hash: "1", timestamp: 1735689600.5, transactions: [] }], length: 1 });
      } else if (request.method === "POST" && request.url === "/transactions/new") {
        const form = Object.fromEntries(new URLSearchParams(body));
        received.push(form);
        const message = `OrderedDict({'sender_address': '${form.sender_address}', 'recipient_address': '${form.recipient_address}', 'value': '${form.amount}'})`;
        let ok = false;
        try {
          const key = createPublicKey({ key: Buffer.from(form.sender_address, "hex"), format: "der", type: "spki" });
          ok = verify("sha1", Buffer.from(message), key, Buffer.from(form.signature, "hex"));
        } catch (_) {
          ok = false;
        }
        answer(ok ? 201 : 406, { message: ok ? "Transaction will be added to Block 2" : "Invalid Transaction!" });
      } else {
        answer(404, { message: "Not Found" });
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${server.address().port}`, received, server }));
  });
}

async function waitForText(page, selector, text) {
  return waitForTextIn(page, selector, text, { timeout: STEP_TIMEOUT });
}

// Every request a context's pages make: method, URL, headers and body.
function recordRequests(context) {
  const requests = [];
  context.on("request", (request) => {
    requests.push({
      method: request.method(),
      url: request.url(),
      headers: JSON.stringify(request.headers()),
      body: request.postData() || "",
    });
  });
  return requests;
}

// The forms a private key could take on the wire: hex of PKCS#1 and of PKCS#8 (either
// case, whole or a long slice), and base64 (standard and URL-safe) of both.
function keyForms(pkcs1Hex) {
  const pkcs1 = Buffer.from(pkcs1Hex, "hex");
  const algorithm = Buffer.from("300d06092a864886f70d0101010500", "hex");
  const der = (tag, content) => {
    const n = content.length;
    const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([tag, ...length]), content]);
  };
  const pkcs8 = der(0x30, Buffer.concat([Buffer.from([2, 1, 0]), algorithm, der(0x04, pkcs1)]));
  const forms = [];
  for (const bytes of [pkcs1, pkcs8]) {
    const hex = bytes.toString("hex");
    const middle = hex.slice(Math.floor(hex.length / 2), Math.floor(hex.length / 2) + 64);
    forms.push(hex, middle, bytes.toString("base64"), bytes.toString("base64url"));
    forms.push(bytes.toString("base64").slice(40, 104));
  }
  return forms;
}

// The requests that carry `secret` in any of its forms (URL-decoded too).
function leaks(requests, secret) {
  const forms = keyForms(secret).map((form) => form.toLowerCase());
  return requests.filter((request) => {
    let text = `${request.url}\n${request.headers}\n${request.body}`;
    try {
      text += "\n" + decodeURIComponent(text.replace(/\+/g, " "));
    } catch (_) {
      /* not URL-encoded */
    }
    text = text.toLowerCase();
    return forms.some((form) => text.includes(form));
  });
}

// ---- the tests --------------------------------------------------------------------

async function main() {
  screenshots("keys-");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blockchain-keys-"));
  const { vectors, funded, genesis } = fundedGenesis(tmp, "e2e-keys", FUNDS);
  let context;
  let original;
  try {
    const { nodeUrl, clientUrl } = await startApps(tmp, genesis);
    original = await startFakeOriginalNode();
    console.log(`node ${nodeUrl}, client ${clientUrl}, fake original node ${original.url}, screenshots in ${SHOTS}`);

    context = await launch(path.join(tmp, "profile"), { stepTimeout: STEP_TIMEOUT });
    const page = context.pages()[0] || (await context.newPage());
    const problems = watch(page);
    await inBrowser(page, problems, { vectors, funded, nodeUrl, clientUrl, original, tmp });
    await withoutWebCrypto(context, { funded, nodeUrl, clientUrl });
  } catch (err) {
    failSetup(err);
  } finally {
    if (context) await context.close().catch(() => {});
    if (original) original.server.close();
    stopAll();
  }
  if (finish()) {
    fs.rmSync(tmp, { recursive: true, force: true });
  } else {
    printLogs();
  }
}

// Script errors, console errors (a CSP violation is one) on a page.
function watch(page) {
  const problems = [];
  page.on("pageerror", (err) => problems.push(`${page.url()}: ${err.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`${page.url()}: console: ${message.text()}`);
  });
  return problems;
}

async function inBrowser(page, problems, { vectors, funded, nodeUrl, clientUrl, original, tmp }) {
  const valid = vectors.valid;

  await step("the wallet pages load wallet-crypto.js under a CSP without inline script, and have Web Crypto", page, async () => {
    for (const route of ["/", "/make/transaction"]) {
      const response = await page.goto(`${clientUrl}${route}`);
      const csp = response.headers()["content-security-policy"] || "";
      expect(/script-src 'self'(;|$)/.test(csp) && !csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"), `${route} CSP: ${csp}`);
      expect(/frame-ancestors 'none'/.test(csp), `${route} CSP allows framing: ${csp}`);
      expect(response.headers()["cache-control"] === "no-store", `${route} Cache-Control: ${response.headers()["cache-control"]}`);
      expect(await page.evaluate(() => window.isSecureContext && window.WalletCrypto.available()), `${route}: no Web Crypto`);
      expect(!(await page.isVisible("#crypto-notice")), `${route} shows the no-Web-Crypto notice`);
    }
  });

  await step(`the page signs all ${valid.length} valid vectors: the original's message and signature, byte for byte`, page, async () => {
    const results = await page.evaluate(async (entries) => {
      const out = [];
      for (const entry of entries) {
        const prepared = await WalletCrypto.prepareTransaction({
          sender_address: entry.sender_address,
          sender_private_key: entry.sender_private_key,
          recipient_address: entry.recipient_address,
          amount: entry.value,
        });
        const message = WalletCrypto.message([
          ["sender_address", prepared.sender],
          ["recipient_address", prepared.recipient],
          ["value", prepared.value],
        ]);
        const signed = await WalletCrypto.signTransaction(prepared, { nonce: null });
        const address = (await WalletCrypto.readPrivateKey(entry.sender_private_key)).address;
        out.push({ message, signature: signed.signature, address, nonce: signed.transaction.nonce });
      }
      return out;
    }, valid);
    valid.forEach((entry, i) => {
      const got = results[i];
      expect(got.message === entry.message, `vector ${i}: message differs:\n${got.message.slice(0, 120)}…`);
      expect(got.signature === entry.signature, `vector ${i} (${entry.key_bits} bits): signature differs`);
      expect(got.address === entry.sender_address, `vector ${i}: the key's address differs from the sender`);
      expect(got.nonce === undefined, `vector ${i}: a nonce was added`);
    });
  });

  await step("the page's PKCS#1 ⇄ PKCS#8 wrapping round-trips every vector key", page, async () => {
    const keys = vectors.wallets.map((w) => w.private_key);
    const back = await page.evaluate((hexes) => hexes.map((hex) => {
      const { der, hex: h } = WalletCrypto;
      return h.encode(der.pkcs8ToPkcs1(der.pkcs1ToPkcs8(h.decode(hex))));
    }), keys);
    keys.forEach((key, i) => expect(back[i] === key, `wallet ${i}: the key changed on the way`));
  });

  await step("with a nonce, the page's signatures equal the Rust signer's (blockchain_client sign --nonce)", page, async () => {
    const nonces = valid.map((_, i) => `e2e-nonce_${i}`);
    const results = await page.evaluate(async ({ entries, nonces }) => {
      const out = [];
      for (const [i, entry] of entries.entries()) {
        const prepared = await WalletCrypto.prepareTransaction({
          sender_address: entry.sender_address,
          sender_private_key: entry.sender_private_key,
          recipient_address: entry.recipient_address,
          amount: entry.value,
        });
        out.push(await WalletCrypto.signTransaction(prepared, { nonce: nonces[i] }));
      }
      return out;
    }, { entries: valid, nonces });
    valid.forEach((entry, i) => {
      const rust = rustSign(["--private-key", entry.sender_private_key, "--recipient", entry.recipient_address, "--amount", entry.value, "--nonce", nonces[i]]);
      expect(results[i].signature === rust.signature, `vector ${i}: the page's nonce signature differs from Rust's`);
      expect(JSON.stringify(results[i].transaction) === JSON.stringify(rust.transaction), `vector ${i}: ${JSON.stringify(results[i].transaction).slice(0, 100)}`);
      expect(results[i].signature !== entry.signature, `vector ${i}: the nonce changed nothing`);
    });
  });

  await step("keys generated in the page (1024, 2048, 3072 bits) are read by the Rust signer, which signs identically", page, async () => {
    for (const bits of [1024, 2048, 3072]) {
      const made = await page.evaluate(async ({ bits, recipient }) => {
        const wallet = await WalletCrypto.generate(bits);
        const prepared = await WalletCrypto.prepareTransaction({
          sender_address: wallet.public_key,
          sender_private_key: wallet.private_key,
          recipient_address: recipient,
          amount: "1.5",
        });
        const signed = await WalletCrypto.signTransaction(prepared, { nonce: "same-nonce" });
        return { wallet, signed };
      }, { bits, recipient: funded.public_key });
      const { wallet, signed } = made;
      const prefix = { 1024: "3082025", 2048: "308204", 3072: "308206" }[bits];
      expect(wallet.private_key.startsWith(prefix) && wallet.private_key.slice(8, 14) === "020100", `${bits}: not PKCS#1 DER: ${wallet.private_key.slice(0, 16)}`);
      expect(wallet.public_key.endsWith("0203010001"), `${bits}: the public exponent is not 65537`);
      const keyFile = path.join(tmp, `page-key-${bits}.json`);
      fs.writeFileSync(keyFile, JSON.stringify(wallet), { mode: 0o600 });
      const rust = rustSign(["--private-key-file", keyFile, "--recipient", funded.public_key, "--amount", "1.5", "--nonce", "same-nonce"]);
      fs.rmSync(keyFile);
      expect(rust.transaction.sender_address === wallet.public_key, `${bits}: Rust derives another address from the page's key`);
      expect(rust.signature === signed.signature, `${bits}: Rust signs differently with the page's key`);
      expect(signed.signature.length === bits / 4, `${bits}: signature of ${signed.signature.length} hex digits`);
    }
  });

  await step("the page names a bad field with the wallet app's own words (compared with /generate/transaction)", page, async () => {
    const [a, b] = [valid[0], vectors.wallets.find((w) => w.public_key !== valid[0].sender_address)];
    const good = { sender_address: a.sender_address, sender_private_key: a.sender_private_key, recipient_address: b.public_key, amount: "5" };
    const cases = [
      ...["", "abc", "-5", "+5", "0", "0.000000000", "1e3", "5.123456789", "NaN", "inf", "0x10", ".5", "5.", "1.2.3", "1000000000.00000001", "99999999999", "1,5"]
        .map((amount) => ({ ...good, amount })),
      { ...good, sender_address: "" },
      { ...good, sender_address: "zz" },
      { ...good, sender_address: "abc" },
      { ...good, sender_address: "3082" },
      { ...good, sender_address: a.sender_private_key },
      { ...good, sender_address: b.public_key },
      { ...good, sender_private_key: "" },
      { ...good, sender_private_key: "deadbeef" },
      { ...good, sender_private_key: a.sender_address },
      { ...good, recipient_address: "" },
      { ...good, recipient_address: a.sender_address },
      { ...good, recipient_address: b.private_key },
    ];
    const inPage = await page.evaluate(async (forms) => {
      const out = [];
      for (const form of forms) {
        try {
          await WalletCrypto.prepareTransaction(form);
          out.push({ field: null, error: "accepted" });
        } catch (err) {
          out.push({ field: err.field, error: err.message });
        }
      }
      return out;
    }, cases);
    for (const [i, form] of cases.entries()) {
      // The test (not the page) asks the wallet app, to compare words.
      const response = await fetch(`${clientUrl}/generate/transaction`, { method: "POST", body: new URLSearchParams({ ...form, no_nonce: "true" }) });
      const server = await response.json();
      expect(response.status === 400, `case ${i}: the wallet app answered ${response.status}`);
      expect(inPage[i].field === server.field && inPage[i].error === server.error,
        `case ${i} (${JSON.stringify(form).slice(0, 80)}…):\n page:   ${inPage[i].field}: ${inPage[i].error}\n server: ${server.field}: ${server.error}`);
    }
  });

  await step("Generator → Mine → Make Transaction → Confirm: no request carries the private key; the node accepts", page, async () => {
    const requests = recordRequests(page.context());
    await page.goto(`${clientUrl}/`);
    await page.click("#generate-wallet");
    await page.waitForFunction(() => document.getElementById("private-key").value.length > 0);
    const wallet = { public_key: await page.inputValue("#public-key"), private_key: await page.inputValue("#private-key") };
    expect(wallet.private_key.startsWith("308204"), `not a 2048-bit PKCS#1 key: ${wallet.private_key.slice(0, 12)}`);
    await waitForText(page, "#wallet-status", "in your browser");
    await shot(page, "01-generated-in-browser");
    await page.click("#mine-to-wallet");
    await waitForText(page, "#mine-to-result", "Balance now");

    await page.goto(`${clientUrl}/make/transaction`);
    await page.getByLabel("Sender Address").fill(wallet.public_key);
    await page.getByLabel("Sender Private Key").fill(wallet.private_key);
    await page.getByLabel("Recipient Address").fill(funded.public_key);
    await page.getByLabel("Amount to Send").fill("0.5");
    await page.click("#generate-transaction");
    await page.waitForSelector("#confirm-dialog[open]");
    const nonce = await page.innerText("#confirm-nonce");
    expect(/^[0-9a-f]{16}$/.test(nonce), `nonce in the dialog: ${nonce}`);
    expect(!(await page.isVisible("#confirm-node-warning")), "a warning for our own node");
    expect((await page.inputValue("#confirm-signature")).length === 512, "no 2048-bit signature in the dialog");
    await shot(page, "02-signed-in-browser");
    await page.click("#confirm-transaction");
    await waitForText(page, "#submit-result", "will be added to Block");
    await shot(page, "03-accepted");

    const pool = await (await fetch(`${nodeUrl}/transactions/get`)).json();
    expect(pool.transactions.some((tx) => tx.sender_address === wallet.public_key && tx.value === "0.5" && tx.nonce === nonce),
      `the node's pool: ${JSON.stringify(pool).slice(0, 300)}`);
    const leaking = leaks(requests, wallet.private_key);
    expect(leaking.length === 0, `requests carrying the private key:\n${leaking.map((r) => `${r.method} ${r.url}`).join("\n")}`);
    const paths = requests.map((r) => `${r.method} ${new URL(r.url).origin === clientUrl ? new URL(r.url).pathname : r.url}`);
    expect(paths.some((p) => p.startsWith("GET /api/node-kind")), `the page did not ask what the node is:\n${paths.join("\n")}`);
    expect(paths.includes(`POST ${nodeUrl}/transactions/new`), `the payment was not posted to the node:\n${paths.join("\n")}`);
    expect(!paths.some((p) => /\/wallet\/new|\/generate\/transaction/.test(p)), `the page used the server's key routes:\n${paths.join("\n")}`);
    const posted = requests.filter((r) => r.method === "POST").map((r) => r.url);
    expect(requests.length > 10 && posted.length === 2, `recorded ${requests.length} requests, POSTs: ${posted.join(", ")}`);
  });

  await step("Make Transaction for an original node on Python 3.12: warned, no nonce, its message style, accepted", page, async () => {
    const entry = valid[0];
    const requests = recordRequests(page.context());
    await page.goto(`${clientUrl}/make/transaction`);
    await page.evaluate((url) => {
      document.getElementById("node-url").value = url;
    }, original.url);
    await page.getByLabel("Sender Address").fill(entry.sender_address);
    await page.getByLabel("Sender Private Key").fill(entry.sender_private_key);
    await page.getByLabel("Recipient Address").fill(entry.recipient_address);
    await page.getByLabel("Amount to Send").fill("7.25");
    await page.click("#generate-transaction");
    await page.waitForSelector("#confirm-dialog[open]");
    const warning = await page.innerText("#confirm-node-warning");
    expect(/original tutorial node/.test(warning) && /does not stop replays/.test(warning), `warning: ${warning}`);
    expect((await page.innerText("#confirm-nonce")) === "(none)", "signed with a nonce");
    // The Rust signer's signature for the same node (the test sends the vector key).
    const response = await fetch(`${clientUrl}/generate/transaction`, {
      method: "POST",
      body: new URLSearchParams({ sender_address: entry.sender_address, sender_private_key: entry.sender_private_key,
        recipient_address: entry.recipient_address, amount: "7.25", node_url: original.url }),
    });
    const rust = await response.json();
    expect(rust.node && rust.node.kind === "original" && rust.node.style === "python312", `the wallet app says: ${JSON.stringify(rust.node)}`);
    expect((await page.inputValue("#confirm-signature")) === rust.signature, "the page's signature differs from the Rust signer's for this node");
    await shot(page, "04-original-node-python312");
    await page.click("#confirm-transaction");
    await waitForText(page, "#submit-result", "will be added to Block");
    expect(original.received.length === 1 && !("nonce" in original.received[0]), `the original node got ${JSON.stringify(original.received)}`);
    expect(leaks(requests, entry.sender_private_key).length === 0, "a request carried the private key");
  });

  await step("no script errors and no CSP violations in the pages", page, async () => {
    expect(problems.length === 0, problems.join("\n"));
  });
}

async function withoutWebCrypto(context, { funded, nodeUrl, clientUrl }) {
  const page = await context.newPage();
  const problems = watch(page);
  // As in a page that is not a secure context (a LAN address over plain HTTP).
  await page.addInitScript(() => {
    Object.defineProperty(Crypto.prototype, "subtle", { get: () => undefined, configurable: true });
  });
  const recorded = [];
  page.on("request", (request) => recorded.push({ method: request.method(), url: request.url(), headers: JSON.stringify(request.headers()), body: request.postData() || "" }));
  const requests = { some: (f) => recorded.some((r) => f(`${r.method} ${r.url}`)), includes: (x) => recorded.some((r) => `${r.method} ${r.url}` === x), join: (sep) => recorded.map((r) => `${r.method} ${r.url}`).join(sep) };
  let wallet;

  await step("without Web Crypto, Wallet Generator says so and generates through the wallet app", page, async () => {
    await page.goto(`${clientUrl}/`);
    expect(await page.evaluate(() => !window.WalletCrypto.available()), "crypto.subtle is still there");
    const notice = await waitForText(page, "#crypto-notice", "Web Crypto");
    expect(/private key leaves the browser/i.test(notice) && notice.includes("127.0.0.1"), `notice: ${notice}`);
    await page.selectOption("#key-bits", "1024");
    await page.click("#generate-wallet");
    await page.waitForFunction(() => document.getElementById("private-key").value.length > 0);
    wallet = { public_key: await page.inputValue("#public-key"), private_key: await page.inputValue("#private-key") };
    expect(wallet.private_key.startsWith("3082025"), "not a 1024-bit PKCS#1 key");
    expect(requests.some((r) => r.startsWith(`GET ${clientUrl}/wallet/new?bits=1024`)), `no /wallet/new:\n${requests.join("\n")}`);
    await waitForText(page, "#wallet-status", "by the wallet app");
    await shot(page, "05-fallback-generator");
  });

  await step("without Web Crypto, Make Transaction says so, signs through the wallet app, and the node accepts", page, async () => {
    await page.goto(`${clientUrl}/make/transaction`);
    await waitForText(page, "#crypto-notice", "Web Crypto");
    await waitForText(page, "#sender_private_key-help", "Sent to the wallet app");
    await page.getByLabel("Sender Address").fill(funded.public_key);
    await page.getByLabel("Sender Private Key").fill(funded.private_key);
    await page.getByLabel("Recipient Address").fill(wallet.public_key);
    await page.getByLabel("Amount to Send").fill("2.5");
    await page.click("#generate-transaction");
    await page.waitForSelector("#confirm-dialog[open]");
    expect(/^[0-9a-f]{16}$/.test(await page.innerText("#confirm-nonce")), "no nonce");
    await shot(page, "06-fallback-confirm");
    await page.click("#confirm-transaction");
    await waitForText(page, "#submit-result", "will be added to Block");
    expect(requests.includes(`POST ${clientUrl}/generate/transaction`), `no /generate/transaction:\n${requests.join("\n")}`);
    expect(!requests.some((r) => r.includes("/api/node-kind")), "asked /api/node-kind without Web Crypto");
    // The leak check sees the key where it does travel: the check itself works.
    const carrying = leaks(recorded, funded.private_key).map((r) => `${r.method} ${r.url}`);
    expect(carrying.length === 1 && carrying[0] === `POST ${clientUrl}/generate/transaction`, `requests carrying the key: ${carrying.join(", ")}`);
    const { balance } = await (await fetch(`${nodeUrl}/balance?address=${wallet.public_key}`)).json();
    expect(balance === "0", `balance before mining: ${balance}`);
    const pool = await (await fetch(`${nodeUrl}/transactions/get`)).json();
    expect(pool.transactions.some((tx) => tx.recipient_address === wallet.public_key && tx.value === "2.5"), "the payment is not pending");
    await shot(page, "07-fallback-accepted");
  });

  await step("without Web Crypto: no script errors", page, async () => {
    expect(problems.length === 0, problems.join("\n"));
  });
  await page.close();
}


await main();
