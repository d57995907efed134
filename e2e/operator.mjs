// The operator's sign-in, from another machine: the Mine and Configure pages of a node
// reached by its bridge address (not loopback) are read-only until the operator signs in
// with the token; then they work, and signing out makes them read-only again. Also in
// Chinese: the sign-in card speaks the page's language. Screenshots land in
// target/e2e-screenshots/operator-*.png.
//
// Run by blockchain_node/tests/hosts.rs inside the "other host" network namespace:
//
//   OPERATOR_TOKEN=<token> node e2e/operator.mjs http://10.250.0.1:5000
//
// The last line is "N passed, M failed"; the exit status is non-zero on any failure.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, finish, launch, screenshots, shot, step, waitForText } from "./lib.mjs";

const NODE = process.argv[2];
const TOKEN = process.env.OPERATOR_TOKEN || "";

screenshots("operator-");
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "operator-profile-"));
const context = await launch(profile);
const page = await context.newPage();

try {
  await step("the Mine page from another machine is read-only and says why", page, async () => {
    await page.goto(`${NODE}/`, { waitUntil: "load" });
    await waitForText(page, "#operator-sign-in", "Read-only from this machine");
    await page.waitForFunction(() => document.getElementById("mine-button")?.disabled === true);
    expect(!(await page.locator("#operator-sign-in-button").isDisabled()), "sign-in stays usable");
    expect(await page.locator("#resolve-button").isDisabled(), "Refresh (resolve) is disabled");
    expect(!(await page.locator("button.copy").first().isDisabled()), "Copy stays usable");
    await shot(page, "1-mine-read-only");
  });

  await step("Configure is read-only too, its buttons disabled", page, async () => {
    await page.goto(`${NODE}/configure`, { waitUntil: "load" });
    await page.waitForFunction(() => document.getElementById("settings-button")?.disabled === true);
    expect(await page.locator("#register-button").isDisabled(), "register is disabled");
    await shot(page, "2-configure-read-only");
  });

  await step("a wrong token is refused on the page", page, async () => {
    await page.fill("#operator-token", "not-the-token");
    await Promise.all([page.waitForURL(/sign_in=wrong/), page.click("#operator-sign-in-button")]);
    await waitForText(page, "#operator-sign-in", "That is not this node's operator token.");
    await shot(page, "3-wrong-token");
  });

  await step("signing in with the token makes Configure work", page, async () => {
    await page.fill("#operator-token", TOKEN);
    await Promise.all([page.waitForURL(`${NODE}/configure`), page.click("#operator-sign-in-button")]);
    await waitForText(page, "#operator-signed-in", "Signed in as this node's operator.");
    expect(!(await page.locator("#settings-button").isDisabled()), "settings enabled");
    await page.fill("#block_interval", "6");
    await page.click("#settings-button");
    const deadline = Date.now() + 10_000;
    let interval;
    while (Date.now() < deadline) {
      interval = (await (await fetch(`${NODE}/settings`)).json()).block_interval;
      if (interval === 6) break;
      await page.waitForTimeout(100);
    }
    expect(interval === 6, `the setting was saved: block_interval is ${interval}`);
    await shot(page, "4-configure-signed-in");
  });

  await step("signed in, the Mine page mines a block", page, async () => {
    await page.goto(`${NODE}/`, { waitUntil: "load" });
    const before = Number(await page.locator("#node-height").innerText());
    expect(!(await page.locator("#mine-button").isDisabled()), "mine enabled");
    await page.click("#mine-button");
    await waitForText(page, "#node-height", String(before + 1));
    await shot(page, "5-mine-signed-in-mined");
  });

  await step("signing out makes the page read-only again", page, async () => {
    await Promise.all([page.waitForURL(`${NODE}/`), page.click("#operator-sign-out-button")]);
    await waitForText(page, "#operator-sign-in", "Read-only from this machine");
    await page.waitForFunction(() => document.getElementById("mine-button")?.disabled === true);
  });

  await step("the sign-in card speaks Chinese on a Chinese page", page, async () => {
    await page.goto(`${NODE}/?lang=zh-CN`, { waitUntil: "load" });
    await waitForText(page, "#operator-sign-in", "在此设备上只读");
    await shot(page, "6-mine-read-only-zh");
  });
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
finish();
