// The classroom's Get coins in a real browser (issue #22): a teacher's node that mines only
// for its operator, and a student's wallet app whose Get coins then asks the node's faucet.
//
// The node here refuses the wallet app's /mine the way a node with an operator token
// refuses another machine (401): a small proxy in front of it answers /mine so and passes
// everything else on. The faucet is the node's own.
//
// Usage (from the repository root, after `cargo build -p blockchain_node -p blockchain_client`):
//
//   node e2e/faucet.mjs [NODE_BIN] [CLIENT_BIN]
//
// Screenshots go to target/e2e-screenshots/faucet-*.png. Only 127.0.0.1 is contacted.

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
  freePort,
  launch,
  printLogs,
  screenshots,
  shot,
  start,
  step,
  stopAll,
  waitForText,
  waitHttp,
} from "./lib.mjs";

/** A proxy to `nodeUrl` that answers POST /mine with 401, as a node does for a stranger. */
async function operatorOnly(nodeUrl) {
  const target = new URL(nodeUrl);
  const server = http.createServer((req, res) => {
    if (req.url.startsWith("/mine")) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Unauthorized", error: "the operator's routes need the operator token" }));
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}`, server };
}

async function post(url) {
  const answer = await fetch(url, { method: "POST" });
  expect(answer.ok, `POST ${url}: ${answer.status}`);
  return answer.json();
}

async function main() {
  screenshots("faucet-");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blockchain-faucet-"));
  let context;
  let proxy;
  try {
    const [nodePort, peerPort, clientPort] = [await freePort(), await freePort(), await freePort()];
    const nodeUrl = `http://127.0.0.1:${nodePort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const node = start("node", NODE_BIN, ["--port", String(nodePort), "--data-dir", path.join(tmp, "node"), "--difficulty", "8", "--faucet-amount", "2"], tmp);
    const peer = start("peer", NODE_BIN, ["--port", String(peerPort), "--data-dir", path.join(tmp, "peer"), "--difficulty", "8"], tmp);
    await Promise.all([waitHttp(`${nodeUrl}/status`, node, "node"), waitHttp(`${peerUrl}/status`, peer, "peer")]);
    proxy = await operatorOnly(nodeUrl);
    const client = start("client", CLIENT_BIN, ["--port", String(clientPort), "--node", proxy.url], tmp);
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    await waitHttp(`${clientUrl}/`, client, "client");
    console.log(`node ${nodeUrl} (the wallet app's view of it: ${proxy.url}), client ${clientUrl}, screenshots in ${SHOTS}`);
    // The teacher fills the faucet: two blocks' rewards to the node's wallet.
    await post(`${nodeUrl}/mine`);
    await post(`${nodeUrl}/mine`);

    context = await launch(path.join(tmp, "profile"));
    const page = context.pages()[0] || (await context.newPage());
    const errors = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });

    await step("Get coins on a node that mines only for its operator: the faucet pays, and the page says so", page, async () => {
      await page.goto(`${clientUrl}/`);
      await page.selectOption("#key-bits", "1024");
      await page.click("#generate-wallet");
      await page.waitForFunction(() => document.querySelector("#public-key").value.length > 0);
      await page.click("#mine-to-wallet");
      const text = await waitForText(page, "#mine-to-result", "The faucet sent you 2 coins");
      expect(text.includes("next block"), `the page does not say when they arrive: ${text}`);
      expect(!text.includes("mined"), `the page claims a block was mined: ${text}`);
      await shot(page, "10-get-coins-faucet");
    });

    await step("asking again soon is refused with when to ask again", page, async () => {
      await page.click("#mine-to-wallet");
      const text = await waitForText(page, "#mine-to-result", "try again in");
      expect(text.includes("429"), `no 429 in: ${text}`);
      await shot(page, "11-get-coins-too-soon");
    });

    await step("Configure: the Faucet card and how each peer was found", page, async () => {
      const answer = await fetch(`${nodeUrl}/nodes/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ nodes: [peerUrl] }),
      });
      expect(answer.status === 201, `register: ${answer.status}`);
      await page.goto(`${nodeUrl}/configure`);
      expect(await page.isVisible("#faucet-form"), "no Faucet card");
      await waitForText(page, "#peer-table", "added by the operator", { reload: true });
      await page.fill("#faucet_amount", "0.5");
      await page.click("#faucet-button");
      await waitForText(page, "#faucet-result", "The faucet pays 0.5 coins per wallet");
      await shot(page, "20-configure-faucet-and-peers");
      await page.goto(`${peerUrl}/configure`);
      await waitForText(page, "#peer-table", "registered itself", { reload: true });
    });

    await step("Chinese: the Faucet card and the peer list in Chinese", page, async () => {
      await page.goto(`${nodeUrl}/configure?lang=zh-CN`);
      await waitForText(page, "#faucet-heading", "水龙头");
      await waitForText(page, "#peer-table", "由操作员添加");
      await shot(page, "21-configure-zh");
    });

    await step("no console errors", page, async () => {
      // The one refusal asked for above: the wallet app passes the node's 429 on as a 502.
      const unexpected = errors.filter((e) => !e.includes("status of 502"));
      expect(errors.length - unexpected.length === 1, `refusals seen: ${errors.length - unexpected.length}`);
      expect(unexpected.length === 0, unexpected.join("\n"));
    });
  } catch (err) {
    failSetup(err);
    printLogs();
  } finally {
    if (context) await context.close().catch(() => {});
    if (proxy) proxy.server.close();
    await stopAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  finish();
}

main();
