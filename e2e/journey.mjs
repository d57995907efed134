// End-to-end journeys in a real browser (Debian's headless Chromium through playwright-core).
//
// 1. A node whose genesis funds a known wallet, the wallet client pointing at it, and what a
//    person does with them: make a wallet, pay it, confirm, mine on the node's page, see the
//    balance, try an overspend and read the refusal.
// 2. The first hour: a node started with no flags at all (no genesis, no miner address), and
//    a newcomer who gets coins from the pages alone, pays a second wallet, mines from the
//    dashboard, watches the dashboard follow blocks mined by someone else without a reload,
//    changes a setting on Configure and finds it kept after a restart; with a console free of
//    errors throughout.
//
// Usage (from the repository root, after `cargo build -p blockchain_node -p blockchain_client`):
//
//   node e2e/journey.mjs [NODE_BIN] [CLIENT_BIN]
//
// The binaries default to target/debug/blockchain_node and target/debug/blockchain_client
// (under $CARGO_TARGET_DIR when set). Screenshots go to target/e2e-screenshots/ (or
// $E2E_SCREENSHOTS). Each step is one check; the last line is "N passed, M failed" and the
// exit status is non-zero on any failure. Only 127.0.0.1 is ever contacted.

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import {
  CLIENT_BIN,
  NODE_BIN,
  SHOTS,
  expect,
  failSetup,
  finish,
  launch,
  printLogs,
  screenshots,
  shot,
  start,
  step,
  stop,
  stopAll,
  waitForText,
  waitHttp,
  freePort,
  fundedGenesis,
  startApps,
} from "./lib.mjs";

const PAYMENT = "12.5";
const OVERSPEND = "1000";
const FUNDS = "100";

// ---- the journey ------------------------------------------------------------------

async function main() {
  screenshots("");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blockchain-e2e-"));
  const { funded, genesis } = fundedGenesis(tmp, "e2e", FUNDS);
  let context;
  try {
    const { nodeUrl, clientUrl } = await startApps(tmp, genesis);
    console.log(`node ${nodeUrl}, client ${clientUrl}, screenshots in ${SHOTS}`);

    context = await launch(path.join(tmp, "profile"));
    const page = context.pages()[0] || (await context.newPage());
    const pageErrors = [];
    page.on("pageerror", (err) => pageErrors.push(`${page.url()}: ${err.message}`));
    await genesisJourney(page, pageErrors, { nodeUrl, clientUrl, funded });
    await firstHour(context, tmp);
  } catch (err) {
    failSetup(err);
  } finally {
    if (context) await context.close().catch(() => {});
    stopAll();
  }
  for (const line of figures) console.log(line);
  if (finish()) {
    fs.rmSync(tmp, { recursive: true, force: true });
  } else {
    printLogs();
  }
}

const figures = [];

async function genesisJourney(page, pageErrors, { nodeUrl, clientUrl, funded }) {
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

  await step("node: a block that is not there gets a page saying so, with the way back", page, async () => {
    const response = await page.goto(`${nodeUrl}/explorer/block/9999`);
    expect(response.status() === 404, `status ${response.status()}`);
    const heading = await page.innerText("h1");
    expect(heading === "Not found", `heading: ${heading}`);
    await waitForText(page, "#page-error", "No block 9999");
    await shot(page, "05b-node-missing-block");
    await page.click("#page-error a[href='/']");
    await page.waitForSelector("#mine-button");
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
}

// ---- the first hour ---------------------------------------------------------------

async function firstHour(context, tmp) {
  const home = path.join(tmp, "first-hour");
  fs.mkdirSync(home);
  const [nodePort, clientPort] = [await freePort(), await freePort()];
  const nodeUrl = `http://127.0.0.1:${nodePort}`;
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  // No flags but the port: the node's defaults (difficulty, data dir under ./data) as a
  // newcomer meets them, in a directory of its own.
  const startNode = () => start("first-hour-node", NODE_BIN, ["--port", String(nodePort)], tmp, home);
  let node = startNode();
  const client = start("first-hour-client", CLIENT_BIN, ["--port", String(clientPort), "--node", nodeUrl], tmp, home);
  await Promise.all([waitHttp(`${nodeUrl}/status`, node, "node"), waitHttp(`${clientUrl}/`, client, "client")]);
  console.log(`first hour: node ${nodeUrl} (no flags), client ${clientUrl}`);

  const page = await context.newPage();
  const dashboard = await context.newPage();
  // Everything a person could see go wrong: script errors, console errors, failed loads.
  // Only while the test has the node stopped may a page fail to reach it.
  const problems = [];
  let nodeStopped = false;
  for (const p of [page, dashboard]) {
    p.on("pageerror", (err) => problems.push(`${p.url()}: ${err.message}`));
    p.on("console", (message) => {
      if (message.type() !== "error") return;
      if (nodeStopped && p.url().startsWith(nodeUrl) && /net::ERR_/.test(message.text())) return;
      problems.push(`${p.url()}: console: ${message.text()}`);
    });
    p.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${p.url()}: ${response.status()} ${response.url()}`);
    });
  }
  const wallets = [];
  const PAY = "0.4";
  let firstLoad = 0;

  const generate = async () => {
    await page.click("#generate-wallet");
    await page.waitForFunction((known) => {
      const value = document.getElementById("public-key").value;
      return value.length > 0 && !known.includes(value);
    }, wallets.map((w) => w.public_key));
    const wallet = { public_key: await page.inputValue("#public-key"), private_key: await page.inputValue("#private-key") };
    wallets.push(wallet);
    return wallet;
  };

  await step("first hour: a new wallet gets coins from the page (Mine a block to this wallet)", page, async () => {
    await page.goto(`${clientUrl}/`);
    firstLoad = Date.now();
    await page.selectOption("#key-bits", "1024");
    await generate();
    expect(await page.isVisible("#get-coins"), "no way to get coins is offered");
    await page.click("#mine-to-wallet");
    await waitForText(page, "#mine-to-result", "Balance now");
    const balance = await page.innerText("#mined-balance");
    expect(Number(balance) === 1, `the balance after one reward is ${balance}`);
    await shot(page, "20-first-hour-coins");
  });

  await step("first hour: a second wallet, paid from the first on Make Transaction", page, async () => {
    await generate();
    const [a, b] = wallets;
    await page.goto(`${clientUrl}/make/transaction`);
    await page.getByLabel("Sender Address").fill(a.public_key);
    await page.getByLabel("Sender Private Key").fill(a.private_key);
    await page.getByLabel("Recipient Address").fill(b.public_key);
    await page.getByLabel("Amount to Send").fill(PAY);
    await page.click("#generate-transaction");
    await page.waitForSelector("#confirm-dialog[open]");
    await page.click("#confirm-transaction");
    await waitForText(page, "#submit-result", "will be added to Block");
    await shot(page, "21-first-hour-paid");
  });

  await step("first hour: the dashboard shows it pending and Mine confirms it, no reload", dashboard, async () => {
    await dashboard.goto(`${nodeUrl}/`);
    await waitForText(dashboard, "#live", "Live");
    await dashboard.evaluate(() => {
      window.stillTheSamePage = true;
    });
    await waitForText(dashboard, "#pending-transactions", PAY);
    await dashboard.click("#mine-button");
    await waitForText(dashboard, "#mine-result", "forged with 1 payment");
    await waitForText(dashboard, "#chain-transactions", PAY);
    await waitForText(dashboard, "#pending-transactions", "No pending transactions");
    expect(await dashboard.evaluate(() => window.stillTheSamePage === true), "the dashboard reloaded");
    figures.push(`figure: first page load to a confirmed payment: ${((Date.now() - firstLoad) / 1000).toFixed(1)} s`);
    const b = wallets[1].public_key;
    const { balance } = await (await fetch(`${nodeUrl}/balance?address=${b}`)).json();
    expect(balance === PAY, `the second wallet holds ${balance}`);
    await shot(dashboard, "22-first-hour-dashboard");
  });

  await step("first hour: a block mined by another client shows on the open dashboard at once", dashboard, async () => {
    await dashboard.bringToFront();
    const before = Number(await dashboard.innerText("#node-height"));
    const latencies = [];
    for (let round = 0; round < 5; round += 1) {
      const response = await fetch(`${nodeUrl}/mine`, { method: "POST" });
      const mined = await response.json();
      expect(response.ok, `another client's /mine failed: ${JSON.stringify(mined)}`);
      await dashboard.waitForFunction((n) => document.getElementById("node-height").textContent === String(n), mined.block_number);
      await dashboard.waitForFunction(
        (n) => [...document.querySelectorAll("#chain-transactions a")].some((a) => a.textContent === String(n)),
        mined.block_number,
      );
      latencies.push(Number(await dashboard.evaluate(() => document.body.dataset.blockLatencyMs)));
    }
    expect(Number(await dashboard.innerText("#node-height")) === before + 5, "the height did not follow");
    expect(await dashboard.evaluate(() => window.stillTheSamePage === true), "the dashboard reloaded");
    expect(latencies.every((ms) => ms >= 0 && ms < 2000), `commit-to-page latencies: ${latencies}`);
    latencies.sort((x, y) => x - y);
    figures.push(`figure: block commit to dashboard message, ms (5 blocks): median ${latencies[2]}, max ${latencies[4]}`);
    await shot(dashboard, "23-first-hour-live-blocks");
  });

  await step("first hour: Configure changes a setting, and a restarted node keeps it", dashboard, async () => {
    await dashboard.goto(`${nodeUrl}/configure`);
    await dashboard.fill("#mining_difficulty", "15");
    await dashboard.fill("#block_interval", "2");
    await dashboard.click("#settings-button");
    await waitForText(dashboard, "#settings-result", "Saved");
    nodeStopped = true;
    await stop(node);
    node = startNode();
    await waitHttp(`${nodeUrl}/status`, node, "node");
    // The open page's event stream reconnects by itself.
    await waitForText(dashboard, "#live", "Live", { timeout: 20_000 });
    nodeStopped = false;
    await dashboard.reload();
    expect((await dashboard.inputValue("#mining_difficulty")) === "15", "the difficulty was not kept");
    expect((await dashboard.inputValue("#block_interval")) === "2", "the block interval was not kept");
    await dashboard.goto(`${nodeUrl}/`);
    await waitForText(dashboard, "#node-difficulty", "15");
    await shot(dashboard, "24-first-hour-settings-kept");
  });

  await step("first hour: Configure refuses what is not a node, adds a peer, shows its health live, and removes it", dashboard, async () => {
    // A peer must answer as a node of the same network: the wallet app is refused, by name.
    await dashboard.goto(`${nodeUrl}/configure`);
    await dashboard.fill("#nodes", clientUrl.replace("http://", ""));
    await dashboard.click("#register-button");
    await waitForText(dashboard, "#register-result", "is not a node");
    // That refusal (a 400 the page explains) is expected: not a problem for the check below.
    for (let i = problems.length - 1; i >= 0; i -= 1) {
      if (/400 .*\/nodes\/register$|status of 400 \(Bad Request\)/.test(problems[i])) problems.splice(i, 1);
    }
    const peerPort = await freePort();
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const peer = start("first-hour-peer", NODE_BIN, ["--port", String(peerPort)], tmp, home);
    await waitHttp(`${peerUrl}/status`, peer, "peer");
    await dashboard.fill("#nodes", peerUrl.replace("http://", ""));
    await dashboard.click("#register-button");
    await waitForText(dashboard, "#peer-table", peerUrl);
    await shot(dashboard, "25-first-hour-peer");
    // The peer registered this node back (after checking it): wait for that before removing.
    const deadline = Date.now() + 15_000;
    while (!(await (await fetch(`${peerUrl}/nodes/get`)).json()).nodes.includes(nodeUrl)) {
      expect(Date.now() < deadline, "the peer did not register this node back");
      await dashboard.waitForTimeout(100);
    }
    await dashboard.click(`[data-remove-peer="${peerUrl}"]`);
    await waitForText(dashboard, "#peer-table", "No nodes yet");
    await stop(peer);
  });

  await step("first hour: no errors in the browser console, no failed loads, no favicon 404", page, async () => {
    for (const route of ["/", "/make/transaction", "/view/transactions", "/wallet"]) await page.goto(`${clientUrl}${route}`);
    for (const route of ["/", "/configure"]) await page.goto(`${nodeUrl}${route}`);
    expect(problems.length === 0, problems.join("\n"));
  });

  await step("first hour: a bad reward address on the dashboard is named, and nothing is mined", dashboard, async () => {
    await dashboard.goto(`${nodeUrl}/`);
    await waitForText(dashboard, "#live", "Live");
    const height = await dashboard.innerText("#node-height");
    await dashboard.fill("#reward-address", "not-a-key");
    await dashboard.click("#mine-button");
    await waitForText(dashboard, "#mine-result", "reward_address");
    expect((await dashboard.getAttribute("#reward-address", "aria-invalid")) === "true", "the field is not marked");
    expect((await dashboard.innerText("#node-height")) === height, "a block was mined anyway");
    await shot(dashboard, "26-first-hour-bad-reward-address");
  });
  await step("security: a page on another site cannot make the node mine", null, async () => {
    const height = async () => (await (await fetch(`${nodeUrl}/status`)).json()).height;
    const before = await height();
    // A hostile page, served from another site (localhost is not 127.0.0.1's site), tries
    // the three ways a page can reach the node: a form POST, fetch, and an image.
    const hostile = `<!doctype html><title>hostile</title><body>
      <iframe name="sink"></iframe>
      <form id="f" method="post" action="${nodeUrl}/mine" target="sink"><input name="reward_address" value=""></form>
      <script>
        window.tries = Promise.all([
          new Promise((done) => { document.querySelector("iframe").onload = done; document.getElementById("f").submit(); }),
          fetch("${nodeUrl}/mine", { method: "POST", mode: "no-cors" }).then(done => done, done => done),
          new Promise((done) => { const img = new Image(); img.onload = img.onerror = done; img.src = "${nodeUrl}/mine"; }),
        ]);
      </script></body>`;
    const server = http.createServer((request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end(hostile);
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const evil = await context.newPage();
    const statuses = [];
    const tries = [];
    evil.on("request", (request) => {
      if (request.url().startsWith(`${nodeUrl}/mine`)) tries.push(`${request.resourceType()} ${request.method()}`);
    });
    evil.on("response", (response) => {
      if (response.url().startsWith(`${nodeUrl}/mine`)) statuses.push(`${response.request().resourceType()} ${response.request().method()} ${response.status()}`);
    });
  try {
      await evil.goto(`http://localhost:${server.address().port}/`);
      await evil.evaluate(() => window.tries);
      expect(tries.length === 3, `the page's three tries were not all sent: ${tries}`);
      // The browser hides the image's answer from the page (a JSON body is no image).
      expect(statuses.length >= 2, `too few answers seen: ${statuses}`);
      expect(statuses.every((status) => status.endsWith(" 403")), `the node answered ${statuses}`);
      expect((await height()) === before, "the hostile page made the node mine");
      await shot(evil, "27-security-hostile-page");
    } finally {
      await evil.close();
      server.close();
    }
  });

  await page.close();
  await dashboard.close();
}

await main();
