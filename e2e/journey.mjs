// End-to-end journey in a real browser (Debian's headless Chromium through playwright-core):
// a node whose genesis funds a known wallet, the wallet client pointing at it, and what a
// person does with them — make a wallet, pay it, confirm, mine on the node's page, see the
// balance, try an overspend and read the refusal.
//
// Usage (from the repository root, after `cargo build -p blockchain_node -p blockchain_client`):
//
//   node e2e/journey.mjs [NODE_BIN] [CLIENT_BIN]
//
// The binaries default to target/debug/blockchain_node and target/debug/blockchain_client
// (under $CARGO_TARGET_DIR when set). Screenshots go to target/e2e-screenshots/ (or
// $E2E_SCREENSHOTS). Each step is one check; the last line is "N passed, M failed" and the
// exit status is non-zero on any failure. Only 127.0.0.1 is ever contacted.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
const NODE_BIN = path.resolve(process.argv[2] || path.join(TARGET, "debug", "blockchain_node"));
const CLIENT_BIN = path.resolve(process.argv[3] || path.join(TARGET, "debug", "blockchain_client"));
const SHOTS = path.resolve(process.env.E2E_SCREENSHOTS || path.join(ROOT, "target", "e2e-screenshots"));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const VECTORS = path.join(ROOT, "blockchain_core", "tests", "data", "reference_transactions.json");
const STEP_TIMEOUT = 15_000;
const READY_TIMEOUT = 60_000;

const PAYMENT = "12.5";
const OVERSPEND = "1000";
const FUNDS = "100";

// ---- processes --------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const children = [];

function start(name, bin, args, dir) {
  if (!fs.existsSync(bin)) throw new Error(`${name} binary not found: ${bin} (build it first)`);
  const logPath = path.join(dir, `${name}.log`);
  const log = fs.openSync(logPath, "w");
  const child = spawn(bin, args, { stdio: ["ignore", log, log], env: { ...process.env, RUST_LOG: "info" } });
  child.exitInfo = null;
  child.on("exit", (code, signal) => {
    child.exitInfo = { code, signal };
  });
  children.push({ name, child, logPath });
  return child;
}

async function waitHttp(url, child, name) {
  const deadline = Date.now() + READY_TIMEOUT;
  let last = "";
  while (Date.now() < deadline) {
    if (child.exitInfo) throw new Error(`${name} exited early (${JSON.stringify(child.exitInfo)})`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status < 500) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = err.cause?.code || err.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} not ready at ${url} after ${READY_TIMEOUT} ms (${last})`);
}

function stopAll() {
  for (const { child } of children) {
    if (!child.exitInfo) child.kill("SIGTERM");
  }
}

function tail(file, lines = 25) {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch (_) {
    return "(no log)";
  }
}

// ---- checks -----------------------------------------------------------------------

let passed = 0;
let failed = 0;
const failures = [];

async function step(name, page, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok   ${passed + failed}. ${name}`);
  } catch (err) {
    failed += 1;
    failures.push(name);
    console.log(`FAIL ${passed + failed}. ${name}\n     ${String(err.message || err).split("\n").join("\n     ")}`);
    if (page) {
      await page.screenshot({ path: path.join(SHOTS, `FAILED-${passed + failed}.png`), fullPage: true }).catch(() => {});
    }
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// Polls the page until `text` shows in `selector`, reloading between tries when asked.
async function waitForText(page, selector, text, { reload = false, timeout = STEP_TIMEOUT } = {}) {
  const deadline = Date.now() + timeout;
  let seen = "";
  while (Date.now() < deadline) {
    const locator = page.locator(selector);
    if ((await locator.count()) > 0) {
      seen = (await locator.first().innerText().catch(() => "")) || "";
      if (seen.includes(text)) return seen;
    }
    if (reload) {
      await page.waitForTimeout(500);
      await page.reload({ waitUntil: "load" });
    } else {
      await page.waitForTimeout(100);
    }
  }
  throw new Error(`"${text}" never appeared in ${selector}; it shows: ${seen.slice(0, 300) || "(nothing)"}`);
}

// ---- the journey ------------------------------------------------------------------

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const file of fs.readdirSync(SHOTS)) {
    if (file.endsWith(".png")) fs.rmSync(path.join(SHOTS, file));
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blockchain-e2e-"));
  const vectors = JSON.parse(fs.readFileSync(VECTORS, "utf8"));
  const funded = vectors.wallets.find((w) => w.bits === 1024);
  const genesis = path.join(tmp, "genesis.json");
  fs.writeFileSync(
    genesis,
    JSON.stringify({ network: "e2e", difficulty: 8, allocations: [{ address: funded.public_key, value: FUNDS }] }),
  );

  const [nodePort, clientPort] = [await freePort(), await freePort()];
  const nodeUrl = `http://127.0.0.1:${nodePort}`;
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  let context;
  let ok = false;
  try {
    const node = start("node", NODE_BIN, [
      "--port", String(nodePort),
      "--data-dir", path.join(tmp, "node-data"),
      "--genesis", genesis,
      "--difficulty", "8",
    ], tmp);
    const client = start("client", CLIENT_BIN, ["--port", String(clientPort), "--node", nodeUrl], tmp);
    await Promise.all([waitHttp(`${nodeUrl}/chain`, node, "node"), waitHttp(`${clientUrl}/`, client, "client")]);
    console.log(`node ${nodeUrl}, client ${clientUrl}, screenshots in ${SHOTS}`);

    context = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 900 },
    });
    context.setDefaultTimeout(STEP_TIMEOUT);
    const page = context.pages()[0] || (await context.newPage());
    const pageErrors = [];
    page.on("pageerror", (err) => pageErrors.push(`${page.url()}: ${err.message}`));

    let wallet = null;
    const fillTransaction = async (from, key, to, amount) => {
      await page.goto(`${clientUrl}/make/transaction`);
      await page.getByLabel("Sender Address").fill(from);
      await page.getByLabel("Sender Private Key").fill(key);
      await page.getByLabel("Recipient Address").fill(to);
      await page.getByLabel("Amount to Send").fill(amount);
      await page.click("#generate-transaction");
    };

    await step("client: generate a wallet and see both keys with the warning", page, async () => {
      await page.goto(`${clientUrl}/`);
      await page.click("#generate-wallet");
      await page.waitForFunction(() => document.getElementById("private-key").value.length > 0);
      wallet = {
        public_key: await page.inputValue("#public-key"),
        private_key: await page.inputValue("#private-key"),
      };
      expect(/^30[0-9a-f]+$/.test(wallet.public_key), "the public key is not DER hex");
      expect(wallet.public_key !== funded.public_key, "the new wallet is the funded one");
      expect(await page.getByText("cannot be recovered").isVisible(), "the warning is not shown");
      await shot(page, "01-client-wallet-generator");
    });

    await step("client: sign a payment from the funded wallet and see the confirmation dialog", page, async () => {
      await fillTransaction(funded.public_key, funded.private_key, wallet.public_key, PAYMENT);
      await page.waitForSelector("#confirm-dialog[open]");
      expect((await page.innerText("#confirm-amount")) === PAYMENT, "the dialog shows another amount");
      expect((await page.inputValue("#confirm-signature")).length === 256, "no 1024-bit signature in the dialog");
      expect((await page.inputValue("#node-url")) === nodeUrl, "the dialog's node URL is not --node");
      await shot(page, "02-client-confirm-dialog");
    });

    await step("client: confirm; the node accepts the transaction", page, async () => {
      await page.click("#confirm-transaction");
      const text = await waitForText(page, "#submit-result", "will be added to Block");
      expect(await page.locator("#submit-result.success").isVisible(), `no success message: ${text}`);
      await shot(page, "03-client-transaction-submitted");
    });

    await step("node: the Mine page lists the transaction as pending", page, async () => {
      await page.goto(`${nodeUrl}/`);
      await waitForText(page, "#pending-transactions", PAYMENT, { reload: true });
      await shot(page, "04-node-mine-pending");
    });

    await step("node: click Mine; the transaction moves into the chain table", page, async () => {
      await page.click("#mine-button");
      await waitForText(page, "#chain-transactions", PAYMENT, { reload: true });
      await shot(page, "05-node-mined");
    });

    await step("client: View Transactions lists the payment on the chain", page, async () => {
      await page.goto(`${clientUrl}/view/transactions`);
      expect((await page.inputValue("#view-node-url")) === nodeUrl, "the node URL is not --node");
      await page.click("#view-transactions");
      await waitForText(page, "#transactions-table tbody", PAYMENT);
      const rows = await page.locator("#transactions-table tbody tr").count();
      expect(rows >= 2, `expected the allocation and the payment, saw ${rows} rows`);
      await shot(page, "06-client-view-transactions");
    });

    await step("client: the new wallet's balance is the payment", page, async () => {
      await page.goto(`${clientUrl}/wallet`);
      await page.getByLabel("Wallet Address").fill(wallet.public_key);
      await page.click("#check-balance");
      await page.waitForSelector("#balance-result:not([hidden])");
      const balance = await page.innerText("#balance-confirmed");
      expect(Number(balance) === Number(PAYMENT), `balance shows ${balance}, expected ${PAYMENT}`);
      await waitForText(page, "#history-table tbody", "Received");
      await shot(page, "07-client-wallet-balance");
    });

    await step("client: an overspend from the new wallet is refused in words on the page", page, async () => {
      await fillTransaction(wallet.public_key, wallet.private_key, funded.public_key, OVERSPEND);
      await page.waitForSelector("#confirm-dialog[open]");
      await page.click("#confirm-transaction");
      await page.waitForSelector("#submit-result.error");
      const text = await page.innerText("#submit-result");
      expect(text.includes("refused"), `no refusal: ${text}`);
      const words = await page.innerText("#submit-result .refusal");
      expect(words.trim().length > 10 && !/^HTTP \d+$/.test(words.trim()), `the refusal has no reason: ${words}`);
      await shot(page, "08-client-overspend-refused");
    });

    await step("client: a bad amount gets a message naming the field, not a dialog", page, async () => {
      await fillTransaction(funded.public_key, funded.private_key, wallet.public_key, "abc");
      await waitForText(page, "#transaction-error", "\"abc\" is not a plain decimal");
      expect(!(await page.locator("#confirm-dialog[open]").count()), "the dialog opened for a bad amount");
      expect((await page.getAttribute("#amount", "aria-invalid")) === "true", "the amount field is not marked invalid");
      await shot(page, "09-client-bad-amount");
    });

    await step("client: an unreachable node gets a clear message", page, async () => {
      await page.goto(`${clientUrl}/view/transactions`);
      await page.fill("#view-node-url", `http://127.0.0.1:${await freePort()}`);
      await page.click("#view-transactions");
      await waitForText(page, "#view-status", "reach the node");
      await shot(page, "10-client-unreachable-node");
    });

    await step("client: pages fit a phone-width screen", page, async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      for (const route of ["/", "/make/transaction", "/view/transactions", "/wallet"]) {
        await page.goto(`${clientUrl}${route}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow <= 0, `${route} scrolls sideways by ${overflow}px at 390px wide`);
      }
      await page.goto(`${clientUrl}/make/transaction`);
      await shot(page, "11-client-phone");
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    await step("no JavaScript errors on any page", page, async () => {
      expect(pageErrors.length === 0, pageErrors.join("\n"));
    });
    ok = failed === 0;
  } catch (err) {
    failed += 1;
    console.log(`FAIL setup: ${err.message}`);
  } finally {
    if (context) await context.close().catch(() => {});
    stopAll();
    if (!ok) {
      for (const { name, logPath } of children) {
        console.log(`---- last lines of the ${name} log (${logPath}) ----\n${tail(logPath)}`);
      }
    } else {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

process.on("SIGINT", () => {
  stopAll();
  process.exit(130);
});

await main();
