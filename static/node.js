// The node's dashboards. Pages are rendered by the server; this script performs actions
// (mine, resolve, register, settings, remove a peer) and keeps the page live with the
// node's event stream (/events, server-sent events): status, pending pool, new blocks,
// reorganisations, mining progress, peers. EventSource reconnects by itself, and every
// (re)connection starts with the whole picture. Text from the node is always inserted
// with textContent, never as HTML.
"use strict";

(function () {
  const { $, el, setBusy, clearInvalid, markInvalid } = window.Dom;

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
      data = { error: "the node answered " + response.status };
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
      el("button", { type: "button", class: "copy", "data-copy-text": text, "aria-label": "Copy full value", text: "Copy" }),
    );
  }

  function utc(seconds) {
    const iso = new Date(Number(seconds) * 1000).toISOString();
    return iso.slice(0, 10) + " " + iso.slice(11, 19) + " UTC";
  }

  function ago(seconds) {
    const s = Math.max(0, Math.round(Date.now() / 1000 - seconds));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return Math.floor(s / 86400) + " d ago";
  }

  // 1234567 → "1.23 M".
  function si(n) {
    if (!Number.isFinite(n)) return "—";
    const units = ["", " k", " M", " G", " T", " P"];
    let i = 0;
    while (Math.abs(n) >= 1000 && i < units.length - 1) {
      n /= 1000;
      i += 1;
    }
    return (i === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + units[i];
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
      el("td", {}, tx.mint ? el("span", { class: "badge mint", text: "THE BLOCKCHAIN" }) : hexCell(tx.sender_address)),
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
    if (!onFirstPage) return;
    const rows = [];
    let index = 0;
    for (const block of recent.slice().reverse()) {
      for (const tx of block.rows) rows.push(txRow(++index, tx, block));
      if (block.transactions > block.rows.length) {
        rows.push(el("tr", {}, el("td", { colspan: "7", class: "empty" },
          el("a", { href: "/explorer/block/" + block.block_number, text: `and ${block.transactions - block.rows.length} more in block ${block.block_number}` }))));
      }
    }
    fillTable("chain-transactions", rows, "No transactions on the chain yet.", 7);
  }

  function onStatus(status) {
    setText("node-height", status.height);
    setText("node-pending", status.pool_size);
    setText("node-peers", status.peers.length);
    setText("node-difficulty", status.mining_difficulty);
    const mining = $("node-mining");
    if (mining) {
      const [kind, text] = status.mining ? ["badge in", "mining"] : status.background_mining ? ["badge in", "background"] : ["badge", "on demand"];
      mining.replaceChildren(el("span", { class: kind, text }));
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
      balance.textContent = "balance " + status.miner_balance;
      balance.href = "/explorer/address/" + status.miner_address;
    }
    const tip = $("node-tip");
    if (tip && tip.dataset.hash !== status.tip_hash) {
      tip.dataset.hash = status.tip_hash;
      tip.replaceChildren(hexCell(status.tip_hash));
    }
    lastBlockTime = status.height > 0 ? status.tip_timestamp : null;
    tickLastBlock();
    setText("expected-tries", Math.pow(2, status.mining_difficulty).toLocaleString("en-US"));
    showProgress(status.mining ? status.mining_progress : null);
    showStorage(status.storage);
    if (status.last_search) {
      const s = status.last_search;
      setText("last-search", `Last block mined here: ${s.block_number}, found after ${si(s.tries)} tries in ${(s.elapsed_ms / 1000).toFixed(2)} s (${si(s.hash_rate)} tries/s).`);
    }
  }

  // Storage refusing writes (a full disk): the node recovers by itself once it can write.
  function showStorage(storage) {
    const notice = $("storage-notice");
    if (!notice || !storage) return;
    notice.hidden = storage.state !== "failing";
    if (!notice.hidden) {
      const since = new Date(storage.since_ms).toLocaleTimeString();
      notice.textContent = `Storage failing since ${since}: ${storage.error}. Payments and blocks are refused until the node can write again; it retries by itself.`;
    }
  }

  function tickLastBlock() {
    setText("node-last-block", lastBlockTime === null ? "—" : ago(lastBlockTime));
  }

  function showProgress(progress) {
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
      `Mining block ${progress.block_number} at ${progress.difficulty} bits: ${(progress.elapsed_ms / 1000).toFixed(1)} s, ` +
        `${si(progress.tries)} tries of ${si(progress.expected_tries)} needed on average, ${si(progress.hash_rate)} tries/s.`,
    );
  }

  function onPending(pending) {
    const rows = pending.transactions.map((tx, i) => txRow(i + 1, tx, null));
    fillTable("pending-transactions", rows, "No pending transactions.", 5);
    setText("pending-count", pending.count > pending.transactions.length ? `first ${pending.transactions.length} of ${pending.count}` : "");
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

  // Draws `points` ({x, y}, y may be null) as bars or a line with a max label.
  function drawChart(id, points, kind, unit) {
    const target = $(id);
    if (!target) return;
    const [W, H, left, top, bottom] = [300, 120, 4, 14, 16];
    const values = points.filter((p) => p.y !== null && Number.isFinite(p.y));
    target.replaceChildren();
    if (values.length === 0) {
      const text = svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty" });
      text.textContent = points.length ? "Not enough blocks yet" : "No blocks mined yet";
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
        title.textContent = `block ${p.x}: ${p.y}${unit}`;
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
        title.textContent = `block ${p.x}: ${si(p.y)}${unit}`;
        dot.append(title);
        target.append(dot);
      });
    }
    const label = svg("text", { x: W - left, y: 10, "text-anchor": "end", class: "chart-label" });
    label.textContent = "max " + si(max) + unit;
    target.append(label);
    const range = svg("text", { x: left, y: H - 3, class: "chart-label" });
    range.textContent = `blocks ${points[0].x}–${points[n - 1].x}`;
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
    drawChart("chart-interval", interval, "line", " s");
    drawChart("chart-transactions", payments, "bars", "");
    drawChart("chart-hashrate", hashrate, "line", "/s");
    setText("charts-range", blocks.length ? `last ${blocks.length} blocks` : "");
  }

  // ---- peers (Configure) -----------------------------------------------------------

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
          el("span", { class: peer.reachable ? "badge in" : "badge out", title: peer.last_error || "", text: peer.reachable ? "reachable" : "unreachable" }),
          peer.reachable || peer.retry_in_s === null ? null : el("span", { class: "muted", text: ` retry in ${peer.retry_in_s} s` }),
        ),
        el("td", { class: "num", text: peer.height === null ? "\u2014" : String(peer.height) }),
        el("td", { text: peer.last_contact === null ? "never" : utc(peer.last_contact) }),
        el("td", { class: "num", text: peer.rtt_ms === null ? "\u2014" : peer.rtt_ms.toFixed(1) + " ms" }),
        el("td", { text: peer.last_sync || "\u2014" }),
        el("td", {}, el("button", { type: "button", class: "btn btn-small btn-danger", "data-remove-peer": peer.url, text: "Remove" })),
      ),
    );
    fillTable("peer-table", rows, "No nodes yet.", 7);
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
    stream.addEventListener("open", () => live("open", "Live"));
    stream.addEventListener("error", () => live("closed", "Reconnecting\u2026"));
    on("status", onStatus);
    on("pending", onPending);
    on("block", onBlock);
    on("chain", (chain) => {
      recent = chain.blocks;
      renderChain();
      loadCharts();
    });
    on("reorg", (reorg) =>
      show($("resolve-result"), "notice", `The node switched to a chain with more work: blocks from ${reorg.fork} were replaced (height ${reorg.height}), ${reorg.reinjected} transactions back to the pool.`),
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
      show($("mine-result"), "notice", "Mining\u2026");
      try {
        const reward = address.value.trim();
        const { ok, data } = await call("POST", "/mine", reward ? { reward_address: reward } : {});
        if (!ok) {
          if (/reward_address/.test(data.error || "")) address.setAttribute("aria-invalid", "true");
          throw new Error(data.error || data.message);
        }
        const payments = data.transactions.length - 1;
        show($("mine-result"), "success",
          `Block ${data.block_number} forged with ${payments} payment${payments === 1 ? "" : "s"} (nonce ${data.nonce}); its reward went to ${shortHex(data.reward.address)}.`);
      } catch (error) {
        show($("mine-result"), "error", "Mining failed: " + error.message);
      } finally {
        setBusy(button, false);
      }
    });
  }

  const resolve = $("resolve-button");
  if (resolve) {
    resolve.addEventListener("click", async () => {
      setBusy(resolve, true);
      show($("resolve-result"), "notice", "Asking peers for their chains\u2026");
      try {
        const { data } = await call("GET", "/nodes/resolve");
        const details = (data.peers || []).map((p) => `${p.peer}: ${p.outcome}`).join("; ");
        show($("resolve-result"), "success", data.message + (details ? ` (${details})` : " (no peers)"));
      } catch (error) {
        show($("resolve-result"), "error", "Resolve failed: " + error.message);
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
          show($("register-result"), "error", data.error || data.message);
          return;
        }
        $("nodes").removeAttribute("aria-invalid");
        $("nodes").value = "";
        show($("register-result"), "success", `${data.message}: ${data.total_nodes.join(", ")}`);
      } catch (error) {
        show($("register-result"), "error", "Could not reach this node: " + error.message);
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
          show($("settings-result"), "error", data.error || data.message);
          return;
        }
        show($("settings-result"), "success",
          `Saved. Background mining ${data.background_mining ? "on" : "off"}, every ${data.block_interval} s at most; ` +
            `${data.mining_threads} thread${data.mining_threads === 1 ? "" : "s"}; difficulty ${data.mining_difficulty} bits; ` +
            `rewards to ${data.reward_address ? shortHex(data.reward_address) : "this node's wallet"}.`);
      } catch (error) {
        show($("settings-result"), "error", "Could not reach this node: " + error.message);
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
        show($("peers-result"), ok ? "success" : "error", ok ? `${peer} removed.` : data.error || data.message);
        if (ok && !("EventSource" in window)) remove.closest("tr").remove();
      } catch (error) {
        show($("peers-result"), "error", "Could not reach this node: " + error.message);
      } finally {
        setBusy(remove, false);
      }
      return;
    }
    const button = event.target.closest("[data-copy-text]");
    if (!button) return;
    try {
      await navigator.clipboard.writeText(button.dataset.copyText);
      button.textContent = "Copied";
    } catch (_) {
      button.textContent = "Select it";
    }
    setTimeout(() => {
      button.textContent = "Copy";
    }, 1200);
  });

  if (dashboard && !("EventSource" in window)) loadCharts();
})();
