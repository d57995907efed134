// The browser journey in Simplified Chinese: a browser that asks for zh-CN (Accept-Language)
// gets every page of both apps in Chinese, its scripts' words included (statuses, refusals,
// the dialog, live dashboard, charts, relative times), with no English left on screen; the
// nav's switch turns a page English and the choice is kept. Screenshots of each page land in
// target/e2e-screenshots/zh-*.png.
//
// Usage (from the repository root, after `cargo build -p blockchain_node -p blockchain_client`):
//
//   node e2e/zh.mjs [NODE_BIN] [CLIENT_BIN]
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

const PAYMENT = "2.5";
const OVERSPEND = "1000";

// Words of Latin letters a Chinese page may show: see blockchain_i18n::check::PROPER_NOUNS.
const PROPER_NOUNS = ["UTC", "ID", "JSON", "HTTPS", "http", "Web", "Crypto"];

// The English words a person sees on this page (text and aria-labels), less data (hex,
// addresses, paths, elements marked translate="no" or lang="en", code) and proper nouns:
// what blockchain_i18n::check does for the server's pages, here after the scripts ran.
async function englishOnScreen(page) {
  return page.evaluate((allowed) => {
    const SKIP = 'script, style, code, [translate="no"], [lang="en"]';
    const texts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest(SKIP) || !parent.checkVisibility()) continue;
      texts.push(node.textContent);
    }
    for (const element of document.querySelectorAll("[aria-label]")) {
      if (!element.closest(SKIP) && element.checkVisibility()) texts.push(element.getAttribute("aria-label"));
    }
    const found = [];
    for (const text of texts) {
      for (const token of text.split(/[\s\u3000-\u303f\uff00-\uffef]+/)) {
        if (token.includes("://") || token.startsWith("/") || token.includes("127.0.0.1") || token.includes("localhost")) continue;
        for (const word of token.split(/[^A-Za-z0-9]+/)) {
          if (!/[A-Za-z]/.test(word)) continue;
          if (word.length >= 6 && /^[0-9a-fA-F]+$/.test(word)) continue;
          if (allowed.includes(word)) continue;
          found.push(word + " (" + token + ")");
        }
      }
    }
    return found;
  }, PROPER_NOUNS);
}

async function chineseOnly(page, where) {
  expect((await page.getAttribute("html", "lang")) === "zh-CN", `${where}: <html lang> is not zh-CN`);
  const english = await englishOnScreen(page);
  expect(english.length === 0, `${where} shows English: ${english.join(", ")}`);
}

async function main() {
  screenshots("zh-");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blockchain-e2e-zh-"));
  const { funded, genesis } = fundedGenesis(tmp, "e2e", "100");
  let context;
  try {
    const { nodeUrl, clientUrl } = await startApps(tmp, genesis);
    console.log(`node ${nodeUrl}, client ${clientUrl}, screenshots in ${SHOTS}`);
    context = await launch(path.join(tmp, "profile"), { locale: "zh-CN" });
    const page = context.pages()[0] || (await context.newPage());
    const errors = [];
    page.on("pageerror", (err) => errors.push(`${page.url()}: ${err.message}`));
    await journey(page, errors, { nodeUrl, clientUrl, funded });
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

async function journey(page, errors, { nodeUrl, clientUrl, funded }) {
  let wallet;
  const fillTransaction = async (from, key, to, amount) => {
    await page.goto(`${clientUrl}/make/transaction`);
    await page.getByLabel("发送方地址").fill(from);
    await page.getByLabel("发送方私钥").fill(key);
    await page.getByLabel("接收方地址").fill(to);
    await page.getByLabel("转账金额").fill(amount);
    await page.click("#generate-transaction");
  };

  await step("钱包：浏览器要中文，生成钱包页面就是中文", page, async () => {
    await page.goto(`${clientUrl}/`);
    expect((await page.innerText("h1")) === "生成钱包", `h1: ${await page.innerText("h1")}`);
    await page.selectOption("#key-bits", "1024");
    await page.click("#generate-wallet");
    await waitForText(page, "#wallet-status", "钱包已在浏览器中生成");
    wallet = { public_key: await page.inputValue("#public-key"), private_key: await page.inputValue("#private-key") };
    expect(await page.getByText("丢失后无法找回").isVisible(), "the warning is not shown");
    await chineseOnly(page, "生成钱包");
    await shot(page, "01-wallet-generator");
  });

  await step("钱包：挖一个区块给新钱包，余额以中文显示", page, async () => {
    await page.click("#mine-to-wallet");
    await waitForText(page, "#mine-to-result", "当前余额");
    expect((await page.innerText("#mined-balance")) === "1", "the balance after one reward is not 1");
    await waitForText(page, "#mine-to-result", "矿工奖励 1 已付给这个钱包");
    await chineseOnly(page, "挖矿结果");
    await shot(page, "02-mined-to-wallet");
  });

  await step("钱包：金额写错时，错误提示是中文并标出字段", page, async () => {
    await fillTransaction(funded.public_key, funded.private_key, wallet.public_key, "abc");
    await waitForText(page, "#transaction-error", "金额必须是正数");
    expect((await page.getAttribute("#amount", "aria-invalid")) === "true", "the amount field is not marked");
    await chineseOnly(page, "发起交易（金额错误）");
    await shot(page, "03-bad-amount");
  });

  await step("钱包：签名后的确认对话框是中文，确认后节点接受交易", page, async () => {
    await fillTransaction(funded.public_key, funded.private_key, wallet.public_key, PAYMENT);
    await page.waitForSelector("#confirm-dialog[open]");
    expect((await page.innerText("#confirm-heading")) === "确认交易信息", "the dialog is not in Chinese");
    await chineseOnly(page, "确认对话框");
    await shot(page, "04-confirm-dialog");
    await page.click("#confirm-transaction");
    await waitForText(page, "#submit-result", "交易将被打包进区块 2");
    await waitForText(page, "#submit-result", "交易已提交");
    await chineseOnly(page, "交易已提交");
    await shot(page, "05-submitted");
  });

  await step("钱包：余额不足时，节点的拒绝以中文说明", page, async () => {
    await fillTransaction(wallet.public_key, wallet.private_key, funded.public_key, OVERSPEND);
    await page.waitForSelector("#confirm-dialog[open]");
    await page.click("#confirm-transaction");
    await page.waitForSelector("#submit-result.error");
    await waitForText(page, "#submit-result", "节点拒绝了这笔交易");
    await waitForText(page, "#submit-result .refusal", "余额不足");
    await chineseOnly(page, "交易被拒绝");
    await shot(page, "06-refused");
  });

  await step("节点：挖矿页面实时显示待确认交易，挖矿结果、图表和相对时间都是中文", page, async () => {
    await page.goto(`${nodeUrl}/`);
    await waitForText(page, "#live", "实时");
    await waitForText(page, "#pending-transactions", PAYMENT);
    await page.click("#mine-button");
    await waitForText(page, "#mine-result", "已挖出，包含 1 笔交易");
    await waitForText(page, "#chain-transactions", PAYMENT);
    await waitForText(page, "#pending-transactions", "没有待确认交易");
    await waitForText(page, "#node-last-block", "秒前");
    await waitForText(page, "#last-search", "本节点挖出的上一个区块");
    await waitForText(page, "#charts-range", "最近");
    await chineseOnly(page, "挖矿页面");
    await shot(page, "07-node-mine");
  });

  await step("区块链浏览器：区块、交易、地址页面和错误页面都是中文", page, async () => {
    await page.goto(`${nodeUrl}/explorer/block/2`);
    expect((await page.innerText("h1")) === "区块 2", `h1: ${await page.innerText("h1")}`);
    await chineseOnly(page, "区块页面");
    await shot(page, "08-explorer-block");
    await page.click("#block-transactions tbody tr:last-child a.mono");
    await page.waitForSelector("h1:text('交易')");
    await chineseOnly(page, "交易页面");
    await shot(page, "09-explorer-transaction");
    await page.goto(`${nodeUrl}/explorer/address/${wallet.public_key}`);
    await waitForText(page, "#address-history", PAYMENT);
    await chineseOnly(page, "地址页面");
    await shot(page, "10-explorer-address");
    const response = await page.goto(`${nodeUrl}/explorer/block/9999`);
    expect(response.status() === 404, `status ${response.status()}`);
    expect((await page.innerText("h1")) === "未找到", `h1: ${await page.innerText("h1")}`);
    await waitForText(page, "#page-error", "没有区块 9999");
    await chineseOnly(page, "错误页面");
    await shot(page, "11-explorer-missing-block");
  });

  await step("节点：设置页面保存设置，结果是中文", page, async () => {
    await page.goto(`${nodeUrl}/configure`);
    await waitForText(page, "#live", "实时");
    await page.fill("#block_interval", "3");
    await page.click("#settings-button");
    await waitForText(page, "#settings-result", "已保存");
    await page.fill("#mining_threads", "999");
    await page.click("#settings-button");
    await page.waitForSelector("#settings-result.error");
    await waitForText(page, "#settings-result", "挖矿线程数");
    await chineseOnly(page, "设置页面");
    await shot(page, "12-node-configure");
  });

  await step("钱包：查看交易和钱包余额页面，表格和汇总都是中文", page, async () => {
    await page.goto(`${clientUrl}/view/transactions`);
    await page.click("#view-transactions");
    await waitForText(page, "#chain-summary", "个区块中共有");
    await chineseOnly(page, "查看交易");
    await shot(page, "13-view-transactions");
    await page.goto(`${clientUrl}/wallet?address=${encodeURIComponent(wallet.public_key)}`);
    await page.waitForSelector("#balance-result:not([hidden])");
    await waitForText(page, "#history-table tbody", "收入");
    await waitForText(page, "#history-table tbody", "UTC");
    await chineseOnly(page, "钱包余额");
    await shot(page, "14-wallet-balance");
  });

  await step("导航栏的语言切换：切到 English 后保持，再切回中文", page, async () => {
    await page.click(".lang-switch a[hreflang='en']");
    await page.waitForSelector("html[lang='en']");
    expect((await page.innerText("h1")) === "Wallet Balance", `h1: ${await page.innerText("h1")}`);
    await page.goto(`${clientUrl}/make/transaction`);
    await page.waitForSelector("html[lang='en']");
    expect((await page.innerText("h1")) === "Send Coins", "the English choice was not kept");
    await shot(page, "15-switched-to-english");
    await page.click(".lang-switch a[hreflang='zh-CN']");
    await page.waitForSelector("html[lang='zh-CN']");
    expect((await page.innerText("h1")) === "转账", `h1: ${await page.innerText("h1")}`);
    // A cookie belongs to a host, not a port: the node on the same host follows the choice.
    await page.goto(`${nodeUrl}/configure`);
    await page.waitForSelector("html[lang='zh-CN']");
  });

  await step("中文页面在手机宽度下不横向滚动", page, async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const url of [`${clientUrl}/`, `${clientUrl}/make/transaction`, `${nodeUrl}/`, `${nodeUrl}/configure`]) {
      await page.goto(url);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow <= 0, `${url} scrolls sideways by ${overflow}px at 390px wide`);
    }
    await shot(page, "16-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await step("没有脚本错误", page, async () => {
    expect(errors.length === 0, errors.join("\n"));
  });
}

await main();
