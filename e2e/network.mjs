// The Network page's journey: two nodes each mine block 1 alone, so the chain forks; the
// loser's page, open the whole time, draws its own block first, then (live, no reload) both
// blocks at height 1 once the nodes are linked, the winner's moved up to the best chain and
// its own moved down (the same drawn block, moved), and the tie explained in place with both
// hashes; the winner's page shows the loser's block as stale, from the loser. The page in
// Chinese. Then the page is fed a large tree (300 blocks, 30 peers) and a full render timed.
// Screenshots land in target/e2e-screenshots/network-*.png.
//
// Usage (from the repository root, after `cargo build -p blockchain_node`):
//
//   node e2e/network.mjs [NODE_BIN]
//
// The last line is "N passed, M failed"; the exit status is non-zero on any failure.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  NODE_BIN,
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
  step,
  stopAll,
  waitHttp,
} from "./lib.mjs";

async function startNode(tmp, name, genesis) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = start(name, NODE_BIN, [
    "--port", String(port),
    "--data-dir", path.join(tmp, `${name}-data`),
    "--genesis", genesis,
    "--difficulty", "8",
    "--sync-interval", "0",
  ], tmp);
  await waitHttp(`${url}/status`, child, name);
  return url;
}

async function json(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function mine(node) {
  await json(`${node}/mine`, { method: "POST" });
  return (await json(`${node}/status`)).tip_hash;
}

/** The drawn blocks at `number`: hash and whether best. */
function drawnAt(page, number) {
  return page.$$eval(`#tree .blk[data-number="${number}"]`, (nodes) =>
    nodes.map((n) => ({ hash: n.dataset.hash, best: n.classList.contains("best"), href: n.getAttribute("href") })),
  );
}

/** A synthetic tree: `best` blocks on the best chain, a stale block every few heights,
 *  `peers` peers on a few tips. */
function bigTree(best, stale, peers) {
  // Hashes that look like proof of work: two zero digits, then digits that differ.
  const hex = (n, tag) => {
    let x = (n + 1) * 2654435761 + tag.length * 40503;
    let out = "00";
    while (out.length < 64) {
      x = (x * 1103515245 + 12345) % 2147483648;
      out += x.toString(16).padStart(8, "0");
    }
    return out.slice(0, 64 - tag.length - 1) + tag + "0";
  };
  const blocks = [];
  for (let n = 0; n < best; n += 1) {
    blocks.push({ hash: hex(n, "b"), number: n, previous_hash: n ? hex(n - 1, "b") : "0".repeat(64), difficulty: 8, work: "256", best: true, first_seen: 1_700_000_000_000 + n, from: n % 2 ? "mined" : "http://10.0.0.2:5000", transactions: 1 + (n % 7) });
  }
  for (let i = 0; i < stale; i += 1) {
    const n = 1 + Math.floor((i * (best - 2)) / stale);
    blocks.push({ hash: hex(n, "c" + i), number: n, previous_hash: hex(n - 1, "b"), difficulty: 8, work: "256", best: false, first_seen: 1_700_000_000_000 + n, from: "http://10.0.0.3:5000", transactions: 1 });
  }
  blocks.sort((a, b) => a.number - b.number || Number(b.best) - Number(a.best));
  const tips = [hex(best - 1, "b"), hex(best - 2, "b"), blocks.find((b) => !b.best).hash];
  const list = [];
  for (let i = 0; i < peers; i += 1) {
    list.push({ url: `http://10.0.${Math.floor(i / 250)}.${10 + (i % 250)}:5000`, tip_hash: tips[i % 3], height: best - 1, reachable: i % 5 !== 0 });
  }
  return { tip: hex(best - 1, "b"), blocks, peers: list };
}

async function main() {
  screenshots("network-");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "network-journey-"));
  const { genesis } = fundedGenesis(tmp, "network-journey", "100");
  let a;
  let b;
  try {
    [a, b] = await Promise.all([startNode(tmp, "node-a", genesis), startNode(tmp, "node-b", genesis)]);
  } catch (err) {
    failSetup(err);
    printLogs();
    return;
  }
  const context = await launch(path.join(tmp, "profile"));
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  let a1;
  let b1;
  let winner;
  let loser;
  let won;
  let lost;

  await step("each node mines block 1 alone: a fork waiting to happen", page, async () => {
    a1 = await mine(a);
    b1 = await mine(b);
    expect(a1 !== b1, "the two blocks differ");
    [winner, loser, won, lost] = a1 < b1 ? [a, b, a1, b1] : [b, a, b1, a1];
  });

  await step("the loser's Network page draws its own block 1 as best, its tip labelled", page, async () => {
    await page.goto(`${loser}/network`, { waitUntil: "load" });
    await page.waitForSelector(`#tree .blk[data-hash="${lost}"]`);
    const one = await drawnAt(page, 1);
    expect(one.length === 1 && one[0].best, `one best block at height 1: ${JSON.stringify(one)}`);
    expect(one[0].href === "/explorer/block/1", "it links to the explorer");
    const label = await page.textContent("#tree .tip-label.me");
    expect(label.includes("this node"), `the tip's label: ${label}`);
    const summary = await page.textContent("#tree-summary");
    expect(summary === "Heights 0 to 1: 2 blocks, none stale.", `the summary: ${summary}`);
    await page.waitForSelector('#tree-live[data-state="open"]');
    // Marked, to tell a block moved from one drawn again.
    await page.$eval(`#tree .blk[data-hash="${lost}"]`, (n) => {
      n.dataset.mark = "drawn-before";
    });
    await shot(page, "1-before-the-link");
  });

  await step("linked, the fork is drawn live: two blocks at height 1, the winner's best, the tie explained", page, async () => {
    await json(`${winner}/nodes/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ nodes: [loser] }),
    });
    await json(`${winner}/nodes/resolve`);
    await page.waitForFunction(
      (hash) => document.querySelector(`#tree .blk.best[data-hash="${hash}"]`) !== null,
      won,
      { timeout: 20_000 },
    );
    // Halfway through the move: the reorg animating.
    await page.waitForTimeout(250);
    await shot(page, "2-reorg-moving");
    await page.waitForFunction(
      (hash) => document.querySelectorAll('#tree .blk[data-number="1"]').length === 2 &&
        document.querySelector(`#tree .blk[data-hash="${hash}"]:not(.best)`) !== null,
      lost,
      { timeout: 20_000 },
    );
    const one = await drawnAt(page, 1);
    expect(one.length === 2, `two blocks at height 1: ${JSON.stringify(one)}`);
    expect(one.filter((b) => b.best).length === 1, "exactly one best");
    const stale = one.find((b) => b.hash === lost);
    expect(stale && !stale.best && stale.href === null, "its own block is stale, not a link");
    const mark = await page.$eval(`#tree .blk[data-hash="${lost}"]`, (n) => n.dataset.mark || "");
    expect(mark === "drawn-before", "the same drawn block moved down (not drawn anew)");
    const note = await page.textContent(`#tree .tie-note[data-tie="${lost}"]`);
    expect(note.includes("Equal work: the lower hash wins"), `the tie note: ${note}`);
    expect(note.includes(won.slice(0, 8)) && note.includes(lost.slice(0, 8)), `both hashes in: ${note}`);
    const notice = await page.textContent("#tree-notice");
    expect(notice.includes("Reorganisation"), `the reorg notice: ${notice}`);
    const peerLabel = await page.textContent(`#tree .tip-label[data-tip="${won}"]`);
    expect(peerLabel.includes(winner.replace("http://", "")), `the winner's tip is labelled: ${peerLabel}`);
    await shot(page, "3-settled-on-the-loser");
  });

  await step("the winner's page shows the loser's block stale, from the loser", page, async () => {
    await page.goto(`${winner}/network`, { waitUntil: "load" });
    await page.waitForSelector(`#tree .blk[data-hash="${lost}"]`);
    const one = await drawnAt(page, 1);
    expect(one.length === 2 && one.filter((b) => b.best).length === 1, JSON.stringify(one));
    expect(one.find((b) => b.best).hash === won, "the winner's own block is best");
    const title = await page.textContent(`#tree .blk[data-hash="${lost}"] title`);
    expect(title.includes(`from ${loser}`), `where it came from: ${title}`);
    const row = await page.textContent(`#tip-table tr[data-peer="${loser}"]`);
    expect(row.includes(won.slice(0, 8)) && row.includes("reachable"), `the loser's tip in the table: ${row}`);
    await shot(page, "4-winner");
  });

  await step("a block mined on the loser appears live on the winner's page", page, async () => {
    const next = await mine(loser);
    await page.waitForSelector(`#tree .blk.best[data-hash="${next}"]`, { timeout: 20_000 });
    // The winner took it (201): the loser knows that is the winner's tip now.
    const deadline = Date.now() + 15_000;
    let tip = null;
    while (Date.now() < deadline && tip !== next) {
      const tree = await json(`${loser}/blocks/tree`);
      tip = tree.peers.find((p) => p.url === winner)?.tip_hash;
      if (tip !== next) await page.waitForTimeout(100);
    }
    expect(tip === next, `the loser's view of the winner's tip: ${tip}`);
    const labels = await page.$$eval("#tree .tip-label", (nodes) => nodes.map((n) => n.textContent));
    expect(labels.some((l) => l.includes("this node")), `labels: ${labels}`);
    await shot(page, "5-next-block");
  });

  await step("in Chinese: the tie and the labels in Chinese", page, async () => {
    await page.goto(`${loser}/network?lang=zh-CN`, { waitUntil: "load" });
    await page.waitForSelector(`#tree .tie-note[data-tie="${lost}"]`);
    const note = await page.textContent(`#tree .tie-note[data-tie="${lost}"]`);
    expect(note.includes("工作量相等：哈希较小者胜出"), note);
    const heading = await page.textContent("h1");
    expect(heading.trim() === "网络", heading);
    expect((await page.textContent("#tree .tip-label.me")).includes("本节点"), "this node, in Chinese");
    const summary = await page.textContent("#tree-summary");
    expect(summary.includes("孤块"), summary);
    await shot(page, "6-zh");
    await page.goto(`${loser}/network?lang=en`, { waitUntil: "load" });
  });

  await step("at phone width the page does not scroll sideways; the tree scrolls in its frame", page, async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${loser}/network`, { waitUntil: "load" });
    await page.waitForSelector(`#tree .blk[data-hash="${lost}"]`);
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      view: window.innerWidth,
      frame: document.getElementById("tree-wrap").clientWidth,
    }));
    expect(widths.page <= widths.view, `the page is ${widths.page} px wide in a ${widths.view} px view`);
    expect(widths.frame < widths.view, `the tree's frame fits: ${widths.frame}`);
    await shot(page, "6b-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await step("the range form shows heights 1 to 2 only, and a bad range the node's refusal naming the parameter", page, async () => {
    await page.goto(`${winner}/network`, { waitUntil: "load" });
    await page.fill("#tree-from", "1");
    await page.fill("#tree-to", "2");
    await Promise.all([page.waitForNavigation(), page.click(".tree-range button")]);
    await page.waitForSelector("#tree .blk");
    const numbers = await page.$$eval("#tree .blk", (nodes) => nodes.map((n) => Number(n.dataset.number)));
    expect(Math.min(...numbers) === 1 && Math.max(...numbers) === 2, `heights drawn: ${numbers}`);
    expect((await page.inputValue("#tree-from")) === "1", "the form keeps the range");
    // The fork's parent (genesis) is out of range; the tie still explains itself.
    await page.waitForSelector(`#tree .tie-note[data-tie="${lost}"]`);
    await shot(page, "8-range");
    await page.fill("#tree-from", "9");
    await Promise.all([page.waitForNavigation(), page.click(".tree-range button")]);
    const text = await page.waitForFunction(() => document.querySelector("#tree-notice").textContent).then((h) => h.jsonValue());
    expect(text.includes("to (2) is below from (9)"), text);
  });

  await step("300 blocks and 30 peers: a full render timed", page, async () => {
    await page.goto(`${winner}/network`, { waitUntil: "load" });
    await page.waitForSelector("#tree .blk");
    const tree = bigTree(250, 50, 30);
    const times = await page.evaluate((big) => {
      const full = [];
      const again = [];
      for (let i = 0; i < 7; i += 1) {
        window.NetworkTree.reset();
        full.push(window.NetworkTree.render(big));
        again.push(window.NetworkTree.render(big));
      }
      // Counted in the same task as the render: the page's live stream may redraw the
      // node's real tree at any later moment.
      const drawn = document.querySelectorAll("#tree .blk").length;
      const stale = document.querySelectorAll("#tree .blk.stale").length;
      return { full, again, drawn, stale };
    }, tree);
    const median = (list) => [...list].sort((x, y) => x - y)[Math.floor(list.length / 2)];
    expect(times.drawn === 300, `300 blocks drawn, not ${times.drawn}`);
    expect(times.stale === 50, `50 stale, not ${times.stale}`);
    const framed = await page.evaluate(
      (big) =>
        new Promise((resolve) => {
          window.NetworkTree.reset();
          const started = performance.now();
          window.NetworkTree.render(big);
          requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - started), 0));
        }),
      tree,
    );
    console.log(
      `     render of 300 blocks, 30 peers: full ${median(times.full).toFixed(1)} ms median (max ${Math.max(...times.full).toFixed(1)}), ` +
        `again ${median(times.again).toFixed(1)} ms median; full with layout and paint ${framed.toFixed(1)} ms`,
    );
    await page.evaluate(() => {
      document.getElementById("tree-wrap").scrollLeft = 0;
    });
    await shot(page, "7-big-tree");
  });

  await step("no script errors on the way", page, async () => {
    expect(errors.length === 0, errors.join("\n"));
  });

  await context.close();
}

try {
  await main();
} catch (err) {
  failSetup(err);
  printLogs();
}
stopAll();
finish();
