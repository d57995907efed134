// Interop with the original tutorial, both ways, in a real browser (Debian's headless
// Chromium through playwright-core), with the original apps run unmodified from
// ../shared/reference/original-tutorial/ (beside the repository):
//
//   - the original client's pages against OUR node: Wallet Generator, Make Transaction →
//     Confirm (its success dialog), View Transactions after mining, a payment back from the
//     new wallet, an overspend refused;
//   - the original node's own dashboard page, its calls (/chain, /transactions/get,
//     GET /mine) answered by OUR node;
//   - OUR client's Make Transaction against an ORIGINAL node: the warning, the original
//     signature, accepted there; and signed again with a nonce when pointed at our node.
//
// Usage (from the repository root, after `cargo build -p blockchain_node -p blockchain_client`):
//
//   node e2e/interop.mjs [NODE_BIN] [CLIENT_BIN] [PYTHON]
//
// PYTHON runs the original apps (default: $ORIGINAL_PYTHON, else what
// scripts/original-venv.sh makes). Screenshots go to target/e2e-screenshots/interop-*.png.
// The last line is "N passed, M failed"; the exit status is non-zero on any failure, and a
// setup that cannot start the original apps is a failure. Only 127.0.0.1 is contacted:
// Chromium resolves no host name (the original dashboard links a CDN stylesheet, which
// then fails to load). Requests are not intercepted, except the original dashboard's three
// calls on a tab of their own: Playwright answers CORS preflights itself while it
// intercepts, which would hide what our node answers.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  ROOT,
  expect,
  failSetup,
  finish,
  freePort,
  fundedGenesis,
  launch,
  printLogs,
  screenshots,
  shot,
  start,
  startApps,
  step,
  stopAll,
  waitForText,
  waitHttp,
} from "./lib.mjs";

const TUTORIAL = path.resolve(process.env.ORIGINAL_TUTORIAL || path.join(ROOT, "..", "shared", "reference", "original-tutorial"));

const FUNDS = "100";
const PAYMENT = "12.5";
const PAY_BACK = "2.5";
const OVERSPEND = "1000";
const TO_ORIGINAL = "3.75";
const RESIGNED = "4.5";

// The python that runs the original apps: the argument, $ORIGINAL_PYTHON, or the
// environment scripts/original-venv.sh makes (or reuses).
function originalPython() {
  const given = process.argv[4] || process.env.ORIGINAL_PYTHON;
  if (given) {
    if (!fs.existsSync(given)) throw new Error(`the python for the original apps does not exist: ${given}`);
    return given;
  }
  try {
    return execFileSync("bash", [path.join(ROOT, "scripts", "original-venv.sh")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
  } catch (err) {
    throw new Error(`cannot make the original apps' Python environment (scripts/original-venv.sh): ${err.message}`);
  }
}

async function getJson(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json().catch(() => null) };
}

// ---- the journey ------------------------------------------------------------------

async function main() {
  screenshots("interop-");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blockchain-interop-"));
  const { vectors, funded, genesis } = fundedGenesis(tmp, "interop", FUNDS);
  const [origNodePort, origClientPort] = [await freePort(), await freePort()];
  const origNodeUrl = `http://127.0.0.1:${origNodePort}`;
  const origClientUrl = `http://127.0.0.1:${origClientPort}`;
  let context;
  try {
    for (const script of ["blockchain/blockchain.py", "blockchain_client/blockchain_client.py"]) {
      if (!fs.existsSync(path.join(TUTORIAL, script))) {
        throw new Error(`the original tutorial is missing: ${path.join(TUTORIAL, script)} (it must sit at ../shared/reference beside the repository, or set ORIGINAL_TUTORIAL)`);
      }
    }
    const python = originalPython();
    const origNode = start("original-node", python, ["blockchain.py", "-p", String(origNodePort)], tmp, path.join(TUTORIAL, "blockchain"));
    const origClient = start("original-client", python, ["blockchain_client.py", "-p", String(origClientPort)], tmp, path.join(TUTORIAL, "blockchain_client"));
    // Our client's pages start with the ORIGINAL node as their node.
    const { nodeUrl, clientUrl } = await startApps(tmp, genesis, { clientNode: origNodeUrl });
    await Promise.all([
      waitHttp(`${origNodeUrl}/`, origNode, "original node"),
      waitHttp(`${origClientUrl}/`, origClient, "original client"),
    ]);
    console.log(`node ${nodeUrl}, client ${clientUrl}, original node ${origNodeUrl}, original client ${origClientUrl}`);

    context = await launch(path.join(tmp, "profile"), {
      args: ["--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
    });
    // What the pages ask of other hosts (the original dashboard's CDN stylesheet); Chromium
    // resolves no host name, so none of it leaves the machine.
    const offMachine = [];
    context.on("request", (request) => {
      if (new URL(request.url()).hostname !== "127.0.0.1") offMachine.push(request.url());
    });
    const pageErrors = [];
    const dialogs = [];
    const watch = (tab) => {
      tab.on("pageerror", (err) => pageErrors.push(`${tab.url()}: ${err.message}`));
      // DataTables reports data it cannot read with alert(): each one is a failure.
      tab.on("dialog", (dialog) => {
        dialogs.push(`${tab.url()}: ${dialog.message()}`);
        dialog.dismiss().catch(() => {});
      });
      return tab;
    };
    const page = watch(context.pages()[0] || (await context.newPage()));

    let wallet = null;
    // The original Make Transaction page: Generate, then Confirm to `node`.
    const originalPayment = async (from, key, to, amount, node) => {
      await page.goto(`${origClientUrl}/make/transaction`);
      await page.fill("#sender_address", from);
      await page.fill("#sender_private_key", key);
      await page.fill("#recipient_address", to);
      await page.fill("#amount", amount);
      await page.click("#generate_transaction");
      await modalShown("#basicModal");
      await page.waitForFunction(() => document.getElementById("transaction_signature").value.length > 0);
      await page.fill("#node_url", node);
      const isPost = (r) => r.url() === `${node}/transactions/new` && r.method() === "POST";
      const answer = Promise.race([
        page.waitForResponse((r) => isPost(r.request())),
        page.waitForEvent("requestfailed", { predicate: isPost }).then((r) => {
          throw new Error(`the browser did not complete the POST to ${node}/transactions/new: ${r.failure()?.errorText} (a refused CORS preflight ends so)`);
        }),
      ]);
      await page.locator("#basicModal #button_confirm_transaction").click();
      return answer;
    };
    // A Bootstrap modal of the original pages, shown and done fading in.
    const modalShown = async (id) => {
      await page.locator(id).waitFor({ state: "visible" });
      await page.waitForFunction((sel) => {
        const modal = document.querySelector(sel);
        return modal.classList.contains("show") && getComputedStyle(modal).opacity === "1";
      }, id);
    };
    const pool = async (url) => (await getJson(`${url}/transactions/get`)).body.transactions;

    await step("original client: Wallet Generator makes a wallet", page, async () => {
      await page.goto(`${origClientUrl}/`);
      await page.click("input[value='Generate Wallet']");
      await page.waitForFunction(() => document.getElementById("private_key").value.length > 0);
      wallet = { public_key: await page.inputValue("#public_key"), private_key: await page.inputValue("#private_key") };
      expect(/^30819f/.test(wallet.public_key), `not a 1024-bit public key: ${wallet.public_key.slice(0, 20)}`);
      await shot(page, "01-original-wallet-generator");
    });

    await step("original client → our node: Make Transaction, Confirm, the success dialog", page, async () => {
      const answer = await originalPayment(funded.public_key, funded.private_key, wallet.public_key, PAYMENT, nodeUrl);
      expect(answer.status() === 201, `our node answered ${answer.status()}: ${await answer.text()}`);
      await modalShown("#success_transaction_modal");
      await waitForText(page, "#success_transaction_modal", "Successful Transaction!");
      await shot(page, "02-original-client-paid-our-node");
      const pending = await pool(nodeUrl);
      expect(pending.length === 1 && pending[0].value === PAYMENT && pending[0].recipient_address === wallet.public_key,
        `our node's pool: ${JSON.stringify(pending).slice(0, 300)}`);
    });

    await step("original node's dashboard, fed by our node: pending payment, Mine, the chain", page, async () => {
      // The page is the original node's; its /chain, /transactions/get and /mine go to ours.
      const dash = watch(await context.newPage());
      for (const call of ["/chain", "/transactions/get", "/mine"]) {
        await dash.route(`${origNodeUrl}${call}`, async (route) => {
          const response = await route.fetch({ url: `${nodeUrl}${call}` });
          await route.fulfill({ response });
        });
      }
      try {
        await dash.goto(`${origNodeUrl}/`);
        await waitForText(dash, "#unmined_transactions_table", PAYMENT);
        await shot(dash, "03-original-dashboard-our-pool");
        const mined = dash.waitForResponse((r) => r.url() === `${origNodeUrl}/mine`);
        await dash.click("#mine_button");
        expect((await mined).status() === 200, "GET /mine failed");
        await dash.waitForLoadState("load");
        await waitForText(dash, "#transactions_table", PAYMENT);
        await waitForText(dash, "#unmined_transactions_table", "No data available");
        await shot(dash, "04-original-dashboard-our-chain");
      } finally {
        await dash.close();
      }
      const chain = (await getJson(`${nodeUrl}/chain`)).body;
      expect(chain.length === 2, `our chain has ${chain.length} blocks, not 2`);
      expect((await pool(nodeUrl)).length === 0, "our pool is not empty after mining");
    });

    const viewTransactions = async (expected) => {
      await page.goto(`${origClientUrl}/view/transactions`);
      await page.fill("#node_url", nodeUrl);
      await page.click("#view_transactions");
      for (const text of expected) await waitForText(page, "#transactions_table", text);
    };

    await step("original client: View Transactions lists the payment from our /chain", page, async () => {
      await viewTransactions([PAYMENT]);
      const rows = await page.locator("#transactions_table tbody tr").count();
      expect(rows === 2, `expected the payment and the block reward, saw ${rows} rows`);
      await shot(page, "05-original-view-transactions");
    });

    await step("original client → our node: the new wallet pays back with coins it holds on our node", page, async () => {
      const answer = await originalPayment(wallet.public_key, wallet.private_key, funded.public_key, PAY_BACK, nodeUrl);
      expect(answer.status() === 201, `our node answered ${answer.status()}: ${await answer.text()}`);
      await modalShown("#success_transaction_modal");
      const mined = await getJson(`${nodeUrl}/mine`);
      expect(mined.status === 200, `GET /mine answered ${mined.status}`);
      await viewTransactions([PAYMENT, PAY_BACK]);
      const balance = (await getJson(`${nodeUrl}/balance?address=${wallet.public_key}`)).body;
      expect(Number(balance.balance) === Number(PAYMENT) - Number(PAY_BACK), `balance ${JSON.stringify(balance)}`);
      await shot(page, "06-original-pay-back");
    });

    await step("original client → our node: an overspend is refused (406), no success dialog", page, async () => {
      const answer = await originalPayment(wallet.public_key, wallet.private_key, funded.public_key, OVERSPEND, nodeUrl);
      expect(answer.status() === 406, `our node answered ${answer.status()}`);
      const body = await answer.json();
      expect(/insufficient funds/.test(body.error || ""), `refusal without a reason: ${JSON.stringify(body)}`);
      await page.waitForTimeout(500); // the page would show its dialog now if it thought it succeeded
      expect(!(await page.locator("#success_transaction_modal").isVisible()), "the success dialog appeared");
      expect((await pool(nodeUrl)).length === 0, "the overspend reached our pool");
    });

    await step("our client → original node: the dialog warns, no nonce, the original node accepts", page, async () => {
      await page.goto(`${clientUrl}/make/transaction`);
      await page.getByLabel("Sender Address").fill(funded.public_key);
      await page.getByLabel("Sender Private Key").fill(funded.private_key);
      await page.getByLabel("Recipient Address").fill(wallet.public_key);
      await page.getByLabel("Amount to Send").fill(TO_ORIGINAL);
      await page.click("#generate-transaction");
      await page.waitForSelector("#confirm-dialog[open]");
      expect((await page.inputValue("#node-url")) === origNodeUrl, "the dialog's node is not --node");
      const warning = page.locator("#confirm-node-warning");
      expect(await warning.isVisible(), "no warning about the original node");
      const words = await warning.innerText();
      expect(/original tutorial node/.test(words) && /does not stop replays/.test(words), `warning: ${words}`);
      expect((await page.innerText("#confirm-nonce")) === "(none)", "signed with a nonce");
      await shot(page, "07-our-client-original-node-warning");
      await page.click("#confirm-transaction");
      await waitForText(page, "#submit-result", "will be added to Block");
      const pending = await pool(origNodeUrl);
      expect(pending.length === 1 && pending[0].value === TO_ORIGINAL && pending[0].sender_address === funded.public_key,
        `the original node's pool: ${JSON.stringify(pending).slice(0, 300)}`);
      await shot(page, "08-our-client-original-node-accepted");
    });

    await step("our client: pointed at our node instead, it signs again with a nonce and no warning", page, async () => {
      await page.goto(`${clientUrl}/make/transaction`);
      await page.getByLabel("Sender Address").fill(funded.public_key);
      await page.getByLabel("Sender Private Key").fill(funded.private_key);
      await page.getByLabel("Recipient Address").fill(wallet.public_key);
      await page.getByLabel("Amount to Send").fill(RESIGNED);
      await page.click("#generate-transaction");
      await page.waitForSelector("#confirm-dialog[open]");
      expect(await page.locator("#confirm-node-warning").isVisible(), "no warning for the original node");
      await page.fill("#node-url", nodeUrl);
      await page.click("#confirm-transaction");
      await waitForText(page, "#confirm-error", "Signed again");
      expect(!(await page.locator("#confirm-node-warning").isVisible()), "the warning stayed for our node");
      expect((await page.innerText("#confirm-nonce")) !== "(none)", "no nonce for our node");
      await page.click("#confirm-transaction");
      await waitForText(page, "#submit-result", "will be added to Block");
      const pending = await pool(nodeUrl);
      expect(pending.length === 1 && pending[0].value === RESIGNED && pending[0].nonce, `our pool: ${JSON.stringify(pending).slice(0, 300)}`);
      expect((await pool(origNodeUrl)).length === 1, "the re-signed payment went to the original node");
    });

    await step("no JavaScript errors, no DataTables alerts, no other hosts asked for", page, async () => {
      expect(pageErrors.length === 0, pageErrors.join("\n"));
      expect(dialogs.length === 0, dialogs.join("\n"));
      const unexpected = offMachine.filter((url) => !/^https:\/\/cdnjs\.cloudflare\.com\//.test(url));
      expect(unexpected.length === 0, `requests for other hosts (not resolved, never sent): ${unexpected.join(", ")}`);
    });
  } catch (err) {
    failSetup(err);
  } finally {
    if (context) await context.close().catch(() => {});
    stopAll();
  }
  if (finish()) {
    fs.rmSync(tmp, { recursive: true, force: true });
  } else {
    printLogs();
  }
}


await main();
