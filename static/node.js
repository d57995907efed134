// The node's dashboards. Pages are rendered by the server; this script performs actions
// (mine, resolve, register, settings, remove a peer) and keeps the page live with the
// node's event stream (/events, server-sent events): status, pending pool, new blocks,
// reorganisations, mining progress, peers. EventSource reconnects by itself, and every
// (re)connection starts with the whole picture. Text from the node is always inserted
// with textContent, never as HTML. Words on screen come from the page's catalogue
// (static/i18n.js); the node's answers, in English, go through I18n.explain.
"use strict";

(function () {
  const { $, el, setBusy, clearInvalid, markInvalid } = window.Dom;
  const { t, plural, number, compact, utc, explain, syncWords } = window.I18n;

  function show(target, kind, text) {
    if (!target) return;
    target.className = "result " + kind;
    target.textContent = text;
  }

  async function call(method, url, body, json) {
    const options = { method, headers: {} };
    if (body !== undefined && json) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    } else if (body !== undefined) {
      options.headers["Content-Type"] = "application/x-www-form-urlencoded";
      options.body = new URLSearchParams(body).toString();
    }
    const response = await fetch(url, options);
    let data = {};
    try {
      data = await response.json();
    } catch (_) {
      data = { error: t("js-node-answered", { status: response.status }) };
    }
    return { ok: response.ok, status: response.status, data };
  }

  // ---- formatting ------------------------------------------------------------------

  const HEX = /^[0-9a-fA-F]+$/;
  const EXPONENT_TRAILER = "0203010001";

  // A key shown by its modulus' first and last digits, as the server's pages show it.
  function shortHex(text) {
    if (!text || !HEX.test(text) || text.length <= 24) return text || "";
    let start = 0;
    if (text.startsWith("30819f")) start = 58;
    else if (text.startsWith("3082") && text.length > 400) start = 66;
    const end = start > 0 && text.endsWith(EXPONENT_TRAILER) ? text.length - EXPONENT_TRAILER.length : text.length;
    return text.slice(start, start + 8) + "\u2026" + text.slice(end - 8, end);
  }

  function hexCell(text) {
    if (!text || !HEX.test(text) || text.length <= 24) return el("span", { text: text || "" });
    return el(
      "span",
      { class: "hex-cell" },
      el("span", { class: "hex", title: text, text: shortHex(text) }),
      el("button", { type: "button", class: "copy", "data-copy-text": text, "aria-label": t("js-copy-full-value"), text: t("js-copy") }),
    );
  }

  function ago(seconds) {
    const s = Math.max(0, Math.round(Date.now() / 1000 - seconds));
    if (s < 60) return t("js-ago-seconds", { n: s });
    if (s < 3600) return t("js-ago-minutes", { n: Math.floor(s / 60) });
    if (s < 86400) return t("js-ago-hours", { n: Math.floor(s / 3600) });
    return t("js-ago-days", { n: Math.floor(s / 86400) });
  }

  // Seconds with `digits` decimals, in the page's language.
  function fixed(value, digits) {
    return number(value, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function setText(id, text) {
    const target = $(id);
    if (target && target.textContent !== String(text)) target.textContent = String(text);
  }

  // ---- transaction tables ----------------------------------------------------------

  function txRow(index, tx, block) {
    const cells = [
      el("td", { text: String(index) }),
      el("td", {}, hexCell(tx.recipient_address)),
      el("td", {}, tx.mint ? el("span", { class: "badge mint", text: t("js-the-blockchain") }) : hexCell(tx.sender_address)),
      el("td", { class: "num", text: tx.value }),
    ];
    if (block) {
      cells.push(el("td", { text: utc(block.timestamp) }));
      cells.push(el("td", { class: "num" }, el("a", { href: "/explorer/block/" + block.block_number, text: String(block.block_number) })));
    }
    cells.push(el("td", {}, el("a", { class: "mono", href: "/explorer/tx/" + tx.id, title: tx.id, text: tx.id.slice(0, 10) + "\u2026" })));
    return el("tr", {}, ...cells);
  }

  function fillTable(id, rows, empty, columns) {
    const table = $(id);
    if (!table) return;
    const body = table.tBodies[0];
    body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { class: "empty", colspan: String(columns), text: empty }))]));
  }

  // ---- the Mine dashboard ----------------------------------------------------------

  const dashboard = $("mine-form") !== null;
  const chainSection = $("chain-section");
  const onFirstPage = chainSection && chainSection.dataset.page === "1";
  let recent = []; // newest blocks with their rows, oldest first (chain table, page 1)
  let chartBlocks = []; // newest blocks without rows, oldest first (charts)
  const CHART_BLOCKS = 60;
  let lastBlockTime = null;

  function renderChain() {
    // The chain's cards (static/chain-cards.js) draw the same blocks.
    document.dispatchEvent(new CustomEvent("dashboard:blocks", { detail: recent }));
    if (!onFirstPage) return;
    const rows = [];
    let index = 0;
    for (const block of recent.slice().reverse()) {
      for (const tx of block.rows) rows.push(txRow(++index, tx, block));
      if (block.transactions > block.rows.length) {
        rows.push(el("tr", {}, el("td", { colspan: "7", class: "empty" },
          el("a", { href: "/explorer/block/" + block.block_number, text: t("js-more-in-block", { n: block.transactions - block.rows.length, block: block.block_number }) }))));
      }
    }
    fillTable("chain-transactions", rows, t("js-no-chain-transactions"), 7);
  }

  function onStatus(status) {
    setText("node-height", status.height);
    setText("node-pending", status.pool_size);
    setText("node-peers", status.peers.length);
    setText("node-difficulty", status.mining_difficulty);
    const mining = $("node-mining");
    if (mining) {
      const [kind, key] = status.mining ? ["badge in", "js-mining-now"] : status.background_mining ? ["badge in", "js-mining-background"] : ["badge", "js-mining-on-demand"];
      mining.replaceChildren(el("span", { class: kind, text: t(key) }));
    }
    const miner = $("node-miner");
    if (miner && miner.dataset.address !== status.miner_address) {
      miner.dataset.address = status.miner_address;
      miner.replaceChildren(hexCell(status.miner_address));
    }
    // The Mine form's reward address follows the node's until the user types another.
    const field = $("reward-address");
    if (field && !field.dataset.edited) field.value = status.miner_address;
    const balance = $("node-miner-balance");
    if (balance) {
      balance.textContent = t("js-miner-balance", { balance: status.miner_balance });
      balance.href = "/explorer/address/" + status.miner_address;
    }
    const tip = $("node-tip");
    if (tip && tip.dataset.hash !== status.tip_hash) {
      tip.dataset.hash = status.tip_hash;
      tip.replaceChildren(hexCell(status.tip_hash));
    }
    lastBlockTime = status.height > 0 ? status.tip_timestamp : null;
    tickLastBlock();
    setText("expected-tries", number(Math.pow(2, status.mining_difficulty)));
    showProgress(status.mining ? status.mining_progress : null);
    showStorage(status.storage);
    if (status.last_search) {
      const s = status.last_search;
      setText("last-search", t("js-last-search", { block: s.block_number, tries: compact(s.tries), seconds: fixed(s.elapsed_ms / 1000, 2), rate: compact(s.hash_rate) }));
    }
  }

  // Storage refusing writes (a full disk): the node recovers by itself once it can write.
  function showStorage(storage) {
    const notice = $("storage-notice");
    if (!notice || !storage) return;
    notice.hidden = storage.state !== "failing";
    if (!notice.hidden) {
      const since = new Date(storage.since_ms).toLocaleTimeString();
      notice.textContent = t(storage.disk_full ? "js-storage-disk-full" : "js-storage-failing", { since, error: storage.error });
    }
  }

  function tickLastBlock() {
    setText("node-last-block", lastBlockTime === null ? "—" : ago(lastBlockTime));
  }

  function showProgress(progress) {
    document.dispatchEvent(new CustomEvent("dashboard:mining", { detail: progress || null }));
    const panel = $("mining-progress");
    if (!panel) return;
    if (!progress) {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    const share = Math.min(1, progress.tries / progress.expected_tries);
    $("progress-bar").style.width = (share * 100).toFixed(1) + "%";
    setText(
      "progress-text",
      t("js-progress", {
        block: progress.block_number,
        bits: progress.difficulty,
        seconds: fixed(progress.elapsed_ms / 1000, 1),
        tries: compact(progress.tries),
        expected: compact(progress.expected_tries),
        rate: compact(progress.hash_rate),
      }),
    );
  }

  function onPending(pending) {
    const rows = pending.transactions.map((tx, i) => txRow(i + 1, tx, null));
    fillTable("pending-transactions", rows, t("js-no-pending"), 5);
    setText("pending-count", pending.count > pending.transactions.length ? t("js-first-of", { shown: number(pending.transactions.length), count: number(pending.count) }) : "");
  }

  function onBlock(block) {
    recent.push(block);
    if (recent.length > 20) recent.shift();
    renderChain();
    chartBlocks.push(block);
    if (chartBlocks.length > CHART_BLOCKS) chartBlocks.shift();
    drawCharts();
    if (block.committed_at_ms) {
      // How fresh the page is: from the block's commit on the node to this line.
      document.body.dataset.blockLatencyMs = String(Date.now() - block.committed_at_ms);
    }
  }

  async function loadCharts() {
    try {
      const { ok, data } = await call("GET", "/stats/blocks?limit=" + CHART_BLOCKS);
      if (ok) {
        chartBlocks = data.blocks;
        drawCharts();
      }
    } catch (_) {
      // The stream's next status says whether the node is reachable.
    }
  }

  // ---- charts (inline SVG, drawn here) -------------------------------------------

  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    return node;
  }

  // Draws `points` ({x, y}, y may be null) as bars or a line with a max label; `unit` is
  // the message that writes a value with its unit.
  function drawChart(id, points, kind, unit) {
    const valued = (v) => t(unit, { value: compact(v) });
    const target = $(id);
    if (!target) return;
    const [W, H, left, top, bottom] = [300, 120, 4, 14, 16];
    const values = points.filter((p) => p.y !== null && Number.isFinite(p.y));
    target.replaceChildren();
    if (values.length === 0) {
      const text = svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty" });
      text.textContent = t(points.length ? "js-chart-not-enough" : "js-chart-no-blocks");
      target.append(text);
      return;
    }
    const max = Math.max(...values.map((p) => p.y), 1e-9);
    const n = points.length;
    const step = (W - left * 2) / Math.max(n, 1);
    const y = (v) => top + (H - top - bottom) * (1 - v / max);
    target.append(svg("line", { x1: left, y1: H - bottom, x2: W - left, y2: H - bottom, class: "chart-axis" }));
    if (kind === "bars") {
      points.forEach((p, i) => {
        if (p.y === null) return;
        const rect = svg("rect", { x: left + i * step + step * 0.15, y: y(p.y), width: Math.max(step * 0.7, 1), height: H - bottom - y(p.y), class: "chart-bar" });
        const title = svg("title", {});
        title.textContent = t("js-chart-point", { block: p.x, value: valued(p.y) });
        rect.append(title);
        target.append(rect);
      });
    } else {
      let d = "";
      points.forEach((p, i) => {
        if (p.y === null) return;
        d += (d ? " L" : "M") + (left + i * step + step / 2).toFixed(1) + " " + y(p.y).toFixed(1);
      });
      target.append(svg("path", { d, class: "chart-line" }));
      points.forEach((p, i) => {
        if (p.y === null) return;
        const dot = svg("circle", { cx: (left + i * step + step / 2).toFixed(1), cy: y(p.y).toFixed(1), r: 2.5, class: "chart-dot" });
        const title = svg("title", {});
        title.textContent = t("js-chart-point", { block: p.x, value: valued(p.y) });
        dot.append(title);
        target.append(dot);
      });
    }
    const label = svg("text", { x: W - left, y: 10, "text-anchor": "end", class: "chart-label" });
    label.textContent = t("js-chart-max", { value: valued(max) });
    target.append(label);
    const range = svg("text", { x: left, y: H - 3, class: "chart-label" });
    range.textContent = t("js-chart-range", { from: points[0].x, to: points[n - 1].x });
    target.append(range);
  }

  function drawCharts() {
    // The genesis block's time is the network's fixed birthday, not a mining time.
    const blocks = chartBlocks.filter((b) => b.block_number > 0);
    const interval = blocks.map((b, i) => ({ x: b.block_number, y: i === 0 ? null : b.timestamp - blocks[i - 1].timestamp }));
    const payments = blocks.map((b) => ({ x: b.block_number, y: b.payments }));
    // Work over the last (up to) ten blocks divided by the time they took: timestamps are
    // whole seconds, so one fast block alone says nothing.
    const hashrate = blocks.map((b, i) => {
      const from = Math.max(0, i - 10);
      const seconds = b.timestamp - blocks[from].timestamp;
      if (i === 0 || seconds <= 0) return { x: b.block_number, y: null };
      let work = 0;
      for (let j = from + 1; j <= i; j += 1) work += Math.pow(2, blocks[j].difficulty);
      return { x: b.block_number, y: work / seconds };
    });
    drawChart("chart-interval", interval, "line", "js-chart-seconds");
    drawChart("chart-transactions", payments, "bars", "js-chart-count");
    drawChart("chart-hashrate", hashrate, "line", "js-chart-rate");
    setText("charts-range", blocks.length ? t("js-last-blocks", { n: blocks.length }) : "");
  }

  // ---- peers (Configure) -----------------------------------------------------------

  // How each peer was found (GET /nodes/get's peers[].found).
  const FOUND = {
    configured: "js-found-configured",
    operator: "js-found-operator",
    itself: "js-found-itself",
    discovered: "js-found-discovered",
    stored: "js-found-stored",
  };

  function onPeers(peers) {
    setText("node-peers", peers.length);
    const table = $("peer-table");
    if (!table) return;
    const rows = peers.map((peer) =>
      el(
        "tr",
        {},
        el("td", {}, el("a", { class: "mono", href: peer.url + "/", text: peer.url })),
        el(
          "td",
          {},
          el("span", { class: peer.reachable ? "badge in" : "badge out", title: peer.last_error || "", text: t(peer.reachable ? "js-peer-reachable" : "js-peer-unreachable") }),
          peer.reachable || peer.retry_in_s === null ? null : el("span", { class: "muted", text: " " + t("js-peer-retry", { seconds: peer.retry_in_s }) }),
        ),
        el("td", { text: peer.found ? t(FOUND[peer.found]) : "\u2014" }),
        el("td", { class: "num", text: peer.height === null ? "\u2014" : String(peer.height) }),
        el("td", { text: peer.last_contact === null ? t("js-never") : utc(peer.last_contact) }),
        el("td", { class: "num", text: peer.rtt_ms === null ? "\u2014" : t("js-ms", { ms: fixed(peer.rtt_ms, 1) }) }),
        el("td", { text: syncWords(peer.last_sync) || "\u2014" }),
        el("td", {}, el("button", { type: "button", class: "btn btn-small btn-danger", "data-remove-peer": peer.url, text: t("js-remove") })),
      ),
    );
    fillTable("peer-table", rows, t("js-no-peers"), 8);
  }

  // ---- the live stream -------------------------------------------------------------

  function live(state, text) {
    const badge = $("live");
    if (!badge) return;
    badge.dataset.state = state;
    badge.textContent = text;
  }

  if ($("live") && "EventSource" in window) {
    const stream = new EventSource("/events");
    const on = (name, handler) =>
      stream.addEventListener(name, (event) => {
        try {
          handler(JSON.parse(event.data));
        } catch (error) {
          console.warn("dashboard: bad " + name + " message", error);
        }
      });
    stream.addEventListener("open", () => live("open", t("js-live-open")));
    stream.addEventListener("error", () => live("closed", t("js-live-reconnecting")));
    on("status", onStatus);
    on("pending", onPending);
    on("block", onBlock);
    on("chain", (chain) => {
      recent = chain.blocks;
      renderChain();
      loadCharts();
    });
    on("reorg", (reorg) =>
      show($("resolve-result"), "notice", t("js-reorg", { fork: reorg.fork, height: reorg.height, reinjected: number(reorg.reinjected) })),
    );
    on("mining", showProgress);
    on("peers", (data) => onPeers(data.peers));
    window.addEventListener("pagehide", () => stream.close());
    setInterval(tickLastBlock, 1000);
  }

  // ---- actions ---------------------------------------------------------------------

  const mineForm = $("mine-form");
  if (mineForm) {
    $("reward-address").addEventListener("input", (event) => {
      event.target.dataset.edited = "true";
    });
    mineForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = $("mine-button");
      const address = $("reward-address");
      setBusy(button, true);
      address.removeAttribute("aria-invalid");
      show($("mine-result"), "notice", t("js-mining-busy"));
      try {
        const reward = address.value.trim();
        const { ok, data } = await call("POST", "/mine", reward ? { reward_address: reward } : {});
        if (!ok) {
          if (/reward_address/.test(data.error || "")) address.setAttribute("aria-invalid", "true");
          throw new Error(explain(data.error || data.message, "reward_address"));
        }
        const payments = data.transactions.length - 1;
        show($("mine-result"), "success",
          plural("js-forged", payments, { block: data.block_number, nonce: data.nonce, address: shortHex(data.reward.address) }));
      } catch (error) {
        show($("mine-result"), "error", t("js-mining-failed", { error: error.message }));
      } finally {
        setBusy(button, false);
      }
    });
  }

  const resolve = $("resolve-button");
  if (resolve) {
    resolve.addEventListener("click", async () => {
      setBusy(resolve, true);
      show($("resolve-result"), "notice", t("js-resolve-busy"));
      try {
        const { data } = await call("GET", "/nodes/resolve");
        const details = (data.peers || []).map((p) => `${p.peer}: ${syncWords(p.outcome)}`).join("; ");
        show($("resolve-result"), "success", explain(data.message) + (details ? ` (${details})` : t("js-resolve-no-peers")));
      } catch (error) {
        show($("resolve-result"), "error", t("js-resolve-failed", { error: error.message }));
      } finally {
        setBusy(resolve, false);
      }
    });
  }

  const register = $("register-form");
  if (register) {
    register.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = $("register-button");
      setBusy(button, true);
      try {
        const { ok, data } = await call("POST", "/nodes/register", { nodes: $("nodes").value });
        if (!ok) {
          $("nodes").setAttribute("aria-invalid", "true");
          show($("register-result"), "error", explain(data.error || data.message, "node"));
          return;
        }
        $("nodes").removeAttribute("aria-invalid");
        $("nodes").value = "";
        const refused = (data.refused || []).map((r) => explain(r.reason, "node")).join("; ");
        const added = `${explain(data.message)}: ${data.total_nodes.join(", ")}`;
        show($("register-result"), refused ? "notice" : "success",
          refused ? `${added}. ${t("js-peers-refused", { reasons: refused })}` : added);
      } catch (error) {
        show($("register-result"), "error", t("js-cannot-reach-this-node", { error: error.message }));
      } finally {
        setBusy(button, false);
      }
    });
  }

  // The faucet: its switch and amount are settings too.
  const faucet = $("faucet-form");
  if (faucet) {
    faucet.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = $("faucet-button");
      clearInvalid(faucet);
      setBusy(button, true);
      try {
        const body = { faucet_enabled: $("faucet_enabled").checked, faucet_amount: $("faucet_amount").value.trim() };
        const { ok, data } = await call("POST", "/settings", body, true);
        if (!ok) {
          markInvalid(data.field);
          show($("faucet-result"), "error", explain(data.error || data.message, data.field));
          return;
        }
        const on = data.faucet_enabled && data.faucet_amount !== "0";
        show($("faucet-result"), "success", on ? plural("js-faucet-saved-on", Number(data.faucet_amount), { amount: data.faucet_amount }) : t("js-faucet-saved-off"));
      } catch (error) {
        show($("faucet-result"), "error", t("js-cannot-reach-this-node", { error: error.message }));
      } finally {
        setBusy(button, false);
      }
    });
  }

  const settings = $("settings-form");
  if (settings) {
    settings.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = $("settings-button");
      clearInvalid(settings);
      setBusy(button, true);
      try {
        const body = {
          background_mining: $("background_mining").checked,
          block_interval: $("block_interval").value.trim(),
          mining_threads: $("mining_threads").value.trim(),
          mining_difficulty: $("mining_difficulty").value.trim(),
          reward_address: $("reward_address").value.trim(),
        };
        const { ok, data } = await call("POST", "/settings", body, true);
        if (!ok) {
          markInvalid(data.field);
          show($("settings-result"), "error", explain(data.error || data.message, data.field));
          return;
        }
        show($("settings-result"), "success", t("js-saved", {
          background: t(data.background_mining ? "js-on" : "js-off"),
          interval: data.block_interval,
          threads: plural("js-n-threads", data.mining_threads),
          difficulty: data.mining_difficulty,
          rewards: data.reward_address ? shortHex(data.reward_address) : t("js-this-node-wallet"),
        }));
      } catch (error) {
        show($("settings-result"), "error", t("js-cannot-reach-this-node", { error: error.message }));
      } finally {
        setBusy(button, false);
      }
    });
  }

  document.addEventListener("click", async (event) => {
    const remove = event.target.closest("[data-remove-peer]");
    if (remove) {
      setBusy(remove, true);
      const peer = remove.dataset.removePeer;
      try {
        const { ok, data } = await call("POST", "/nodes/remove", { node: peer });
        show($("peers-result"), ok ? "success" : "error", ok ? t("js-peer-removed", { peer }) : explain(data.error || data.message, "node"));
        if (ok && !("EventSource" in window)) remove.closest("tr").remove();
      } catch (error) {
        show($("peers-result"), "error", t("js-cannot-reach-this-node", { error: error.message }));
      } finally {
        setBusy(remove, false);
      }
      return;
    }
    const button = event.target.closest("[data-copy-text]");
    if (!button) return;
    try {
      await navigator.clipboard.writeText(button.dataset.copyText);
      button.textContent = t("js-copied");
    } catch (_) {
      button.textContent = t("js-select-it");
    }
    setTimeout(() => {
      button.textContent = t("js-copy");
    }, 1200);
  });

  // The peers' last syncs as the server wrote them (the node's words), in the page's words.
  for (const cell of document.querySelectorAll("[data-sync]")) cell.textContent = syncWords(cell.textContent);

  if (dashboard && !("EventSource" in window)) loadCharts();
})();
