// What the browser journeys share: paths, app processes on loopback, numbered checks with
// screenshots, and headless Debian Chromium. Each journey is its own process, so the
// counters and the list of started processes here are that journey's.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
export const NODE_BIN = path.resolve(process.argv[2] || path.join(TARGET, "debug", "blockchain_node"));
export const CLIENT_BIN = path.resolve(process.argv[3] || path.join(TARGET, "debug", "blockchain_client"));
export const SHOTS = path.resolve(process.env.E2E_SCREENSHOTS || path.join(ROOT, "target", "e2e-screenshots"));
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const VECTORS = path.join(ROOT, "blockchain_core", "tests", "data", "reference_transactions.json");
const READY_TIMEOUT = 60_000;

// ---- processes --------------------------------------------------------------------

/** A port nothing listens on now, on 127.0.0.1. */
export function freePort() {
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

/** Starts `bin` with its output in `<dir>/<name>.log` (appended: a restart keeps the log). */
export function start(name, bin, args, dir, cwd) {
  if (!fs.existsSync(bin)) throw new Error(`${name} binary not found: ${bin} (build it first)`);
  const logPath = path.join(dir, `${name}.log`);
  const log = fs.openSync(logPath, "a");
  const child = spawn(bin, args, {
    cwd: cwd || dir,
    stdio: ["ignore", log, log],
    env: { ...process.env, RUST_LOG: "info", PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" },
  });
  child.exitInfo = null;
  child.on("error", (err) => {
    child.exitInfo = { error: err.message };
  });
  child.on("exit", (code, signal) => {
    child.exitInfo = { code, signal };
  });
  children.push({ name, child, logPath });
  return child;
}

/** Waits until `url` answers below 500, or fails when `child` exits first or time is up. */
export async function waitHttp(url, child, name) {
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

/** Stops a process as an operator would (Ctrl-C), or kills it after 10 s. */
export async function stop(child) {
  if (child.exitInfo) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

export function stopAll() {
  for (const { child } of children) {
    if (!child.exitInfo) child.kill("SIGTERM");
  }
}

/** The last lines of every started process's log, for a failed run. */
export function printLogs(lines = 25) {
  for (const { name, logPath } of children) {
    let text;
    try {
      text = fs.readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch (_) {
      text = "(no log)";
    }
    console.log(`---- last lines of the ${name} log (${logPath}) ----\n${text}`);
  }
}

// The apps stop with the journey however it ends: an error, a closed pipe, a signal.
process.on("exit", stopAll);
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]]) {
  process.on(signal, () => {
    stopAll();
    process.exit(code);
  });
}

/**
 * Writes a genesis file in `tmp` for network `network` at difficulty 8 that funds the
 * original client's 1024-bit vector wallet with `funds`; returns the vectors, that wallet
 * and the file's path.
 */
export function fundedGenesis(tmp, network, funds) {
  const vectors = JSON.parse(fs.readFileSync(VECTORS, "utf8"));
  const funded = vectors.wallets.find((w) => w.bits === 1024);
  const genesis = path.join(tmp, "genesis.json");
  fs.writeFileSync(
    genesis,
    JSON.stringify({ network, difficulty: 8, allocations: [{ address: funded.public_key, value: funds }] }),
  );
  return { vectors, funded, genesis };
}

/**
 * Starts our node on that genesis and our wallet client (its pages' node: `clientNode`,
 * else this node) on free ports, and waits until both answer.
 */
export async function startApps(tmp, genesis, { clientNode } = {}) {
  const [nodePort, clientPort] = [await freePort(), await freePort()];
  const nodeUrl = `http://127.0.0.1:${nodePort}`;
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const node = start("node", NODE_BIN, [
    "--port", String(nodePort),
    "--data-dir", path.join(tmp, "node-data"),
    "--genesis", genesis,
    "--difficulty", "8",
  ], tmp);
  const client = start("client", CLIENT_BIN, ["--port", String(clientPort), "--node", clientNode || nodeUrl], tmp);
  await Promise.all([waitHttp(`${nodeUrl}/status`, node, "node"), waitHttp(`${clientUrl}/`, client, "client")]);
  return { nodeUrl, clientUrl };
}

// ---- checks -----------------------------------------------------------------------

let passed = 0;
let failed = 0;
let prefix = "";

/** Screenshots of this journey are named `<prefix><name>.png`; old ones are removed. */
export function screenshots(namePrefix) {
  prefix = namePrefix;
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const file of fs.readdirSync(SHOTS)) {
    if (file.startsWith(prefix) && file.endsWith(".png")) fs.rmSync(path.join(SHOTS, file));
  }
}

/** One numbered check: "ok N. name", or "FAIL N. name" with why and a screenshot. */
export async function step(name, page, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok   ${passed + failed}. ${name}`);
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${passed + failed}. ${name}\n     ${String(err.message || err).split("\n").join("\n     ")}`);
    if (page) {
      await page.screenshot({ path: path.join(SHOTS, `${prefix}FAILED-${passed + failed}.png`), fullPage: true }).catch(() => {});
    }
  }
}

/** A failure outside any step (setup): counted, so the run fails. */
export function failSetup(err) {
  failed += 1;
  console.log(`FAIL setup: ${err.message}`);
}

export function expect(condition, message) {
  if (!condition) throw new Error(message);
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${prefix}${name}.png`), fullPage: true });
}

/** Prints the closing line ("N passed, M failed") and sets the exit status; true if all passed. */
export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
  return failed === 0;
}

export function allPassed() {
  return failed === 0;
}

/** Polls until `text` shows in `selector` (reloading between tries when asked). */
export async function waitForText(page, selector, text, { reload = false, timeout = 15_000 } = {}) {
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

// ---- the browser ------------------------------------------------------------------

/**
 * Headless Debian Chromium with a fresh profile, kept off the network but loopback; `locale`
 * is the language it asks pages for (Accept-Language, navigator.language).
 */
export async function launch(profile, { stepTimeout = 15_000, args = [], locale } = {}) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    ...(locale ? { locale } : {}),
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
      ...args,
    ],
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(stepTimeout);
  return context;
}
