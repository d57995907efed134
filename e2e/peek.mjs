// Scratch: screenshot a few URLs and print console errors. Not part of the tests.
import { chromium } from "playwright-core";
const urls = process.argv.slice(2);
const context = await chromium.launchPersistentContext("/tmp/peek-profile", {
  executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] || (await context.newPage());
page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.log("console", m.type(), m.text()); });
page.on("pageerror", (e) => console.log("pageerror", e.message));
page.on("response", (r) => { if (r.status() >= 400) console.log("HTTP", r.status(), r.url()); });
let i = 0;
for (const url of urls) {
  if (url.startsWith("click:")) { await page.click(url.slice(6)); await page.waitForTimeout(800); continue; }
  await page.goto(url); await page.waitForTimeout(1200);
  await page.screenshot({ path: `/tmp/shots/${++i}.png`, fullPage: true });
}
await page.screenshot({ path: `/tmp/shots/last.png`, fullPage: true });
await context.close();
