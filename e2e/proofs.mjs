// The Merkle proof and search journey: a transaction's page draws its proof and the browser
// checks it (Web Crypto), a tampered proof fails at a named level, and the search boxes of
// both apps' navs land on the right explorer pages, in English and Chinese. Screenshots
// land in target/e2e-screenshots/proofs-*.png.
//
// Usage (from the repository root, after `cargo build -p blockchain_node -p blockchain_client`):
//
//   node e2e/proofs.mjs [NODE_BIN] [CLIENT_BIN]
//
// The last line is "N passed, M failed"; the exit status is non-zero on any failure.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
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
  waitForText,
} from "./lib.mjs";

/** The funded wallet's three payments from the vectors, then a block holding them. */
async function minedBlock(nodeUrl, vectors, funded) {
  for (const entry of vectors.valid.filter((e) => e.sender_address === funded.public_key)) {
    const body = new URLSearchParams({
      sender_address: entry.sender_address,
      recipient_address: entry.recipient_address,
      amount: entry.value,
      signature: entry.signature,
    });
    const response = await fetch(`${nodeUrl}/transactions/new`, { method: "POST", body });
    expect(response.status === 201, `payment refused: ${response.status} ${await response.text()}`);
  }
  const mined = await (await fetch(`${nodeUrl}/mine`, { method: "POST" })).json();
  const block = await (await fetch(`${nodeUrl}/blocks/${mined.block_number}`)).json();
  expect(block.transactions.length === 4, `block holds ${block.transactions.length} transactions`);
  return block;
}

async function searchFromNav(page, query) {
  await page.fill(".nav-search input[name=q]", query);
  await Promise.all([page.waitForNavigation(), page.press(".nav-search input[name=q]", "Enter")]);
}

async function journey(page, errors, { nodeUrl, clientUrl, block }) {
  const tx = block.transactions[2];
  const txPage = `${nodeUrl}/explorer/tx/${tx.id}`;

  await step("the transaction page draws its proof and the browser verifies it", page, async () => {
    await page.goto(`${txPage}?lang=en`);
    await waitForText(page, ".proof-result", "Verified in your browser");
    expect((await page.getAttribute("#merkle-proof", "data-verified")) === "yes", "not marked verified");
    // Four leaves: the leaf, then two levels, each with its sibling's side.
    const levels = await page.locator(".proof-level").count();
    expect(levels === 3, `${levels} levels drawn`);
    const sides = await page.locator(".proof-level[data-side]").evaluateAll((items) => items.map((i) => i.dataset.side));
    expect(JSON.stringify(sides) === JSON.stringify(["right", "left"]), `sides ${sides}`);
    const marks = await page.locator(".proof-level.ok").count();
    expect(marks === 3, `${marks} levels marked as checked`);
    await shot(page, "01-verified");
  });

  await step("a tampered proof fails at a named level", page, async () => {
    // The page as a node that lies would send it: level 1's sibling changed.
    await page.route(txPage, async (route) => {
      const response = await route.fetch();
      const html = (await response.text()).replace(/data-level="1" data-hash="([0-9a-f])/, (_, first) =>
        `data-level="1" data-hash="${first === "0" ? "1" : "0"}`,
      );
      await route.fulfill({ response, body: html });
    });
    await page.goto(txPage);
    await waitForText(page, ".proof-result", "Failed at level 2");
    expect((await page.getAttribute("#merkle-proof", "data-verified")) === "no", "not marked failed");
    await shot(page, "02-tampered");
    await page.unroute(txPage);
  });

  await step("without Web Crypto (plain HTTP on a LAN) the page still verifies, in script", page, async () => {
    const bare = await page.context().newPage();
    bare.on("pageerror", (err) => errors.push(`${bare.url()}: ${err.message}`));
    await bare.addInitScript(() => Object.defineProperty(window.crypto, "subtle", { get: () => undefined }));
    await bare.goto(txPage);
    expect((await bare.evaluate(() => window.crypto.subtle)) === undefined, "Web Crypto is still there");
    await waitForText(bare, ".proof-result", "Verified in your browser");
    await bare.close();
  });

  await step("the node's search box: a block hash prefix lands on its block", page, async () => {
    await page.goto(`${nodeUrl}/`);
    await searchFromNav(page, block.hash.slice(0, 10));
    expect(page.url() === `${nodeUrl}/explorer/block/${block.block_number}`, `landed on ${page.url()}`);
    await shot(page, "03-search-hash");
  });

  await step("the node's search box: a transaction id lands on its page", page, async () => {
    await searchFromNav(page, tx.id);
    expect(page.url() === txPage, `landed on ${page.url()}`);
    await waitForText(page, ".proof-result", "Verified in your browser");
  });

  await step("the wallet app's search box sends a height to the node's block page", page, async () => {
    await page.goto(`${clientUrl}/`);
    await searchFromNav(page, String(block.block_number));
    expect(page.url() === `${nodeUrl}/explorer/block/${block.block_number}`, `landed on ${page.url()}`);
    await shot(page, "04-search-from-wallet");
  });

  await step("a search that finds nothing says what was looked for", page, async () => {
    await searchFromNav(page, "ffffffff0");
    await waitForText(page, "main", "Nothing on this node starts with “ffffffff0”");
    await shot(page, "05-nothing-found");
  });

  await step("in Chinese: the proof is verified and the search box searches", page, async () => {
    await page.goto(`${txPage}?lang=zh-CN`);
    await waitForText(page, ".proof-result", "已在你的浏览器中验证");
    expect((await page.innerText("#proof-title")) === "默克尔证明", "the proof's title is not Chinese");
    await shot(page, "06-zh-verified");
    await searchFromNav(page, block.hash);
    expect(page.url() === `${nodeUrl}/explorer/block/${block.block_number}`, `landed on ${page.url()}`);
    await searchFromNav(page, "12-34");
    await waitForText(page, "main", "不是区块高度");
    await shot(page, "07-zh-malformed");
    await page.goto(`${nodeUrl}/?lang=en`);
  });

  await step("the search boxes fit a phone's width", page, async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const url of [`${clientUrl}/`, `${nodeUrl}/`, txPage]) {
      await page.goto(url);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow <= 0, `${url} scrolls sideways by ${overflow}px at 390px wide`);
    }
    await shot(page, "08-phone");
    await page.goto(`${clientUrl}/`);
    await shot(page, "09-phone-wallet");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await step("no script errors", page, async () => {
    expect(errors.length === 0, errors.join("\n"));
  });
}

async function main() {
  screenshots("proofs-");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blockchain-e2e-proofs-"));
  const { vectors, funded, genesis } = fundedGenesis(tmp, "e2e", "100");
  let context;
  try {
    const { nodeUrl, clientUrl } = await startApps(tmp, genesis);
    console.log(`node ${nodeUrl}, client ${clientUrl}, screenshots in ${SHOTS}`);
    const block = await minedBlock(nodeUrl, vectors, funded);
    context = await launch(path.join(tmp, "profile"));
    const page = context.pages()[0] || (await context.newPage());
    const errors = [];
    page.on("pageerror", (err) => errors.push(`${page.url()}: ${err.message}`));
    await journey(page, errors, { nodeUrl, clientUrl, block });
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
