// The Network page: the block tree this node knows (GET /blocks/tree) drawn in SVG, kept
// live by the node's event stream (/events). The best chain runs along the top row, oldest
// on the left; each stale block (abandoned in a reorg, or a peer's that lost) sits in a
// lane below, joined to its parent. This node's tip and each peer's are labelled; a tie
// explains itself under the block that lost it. Blocks are reused between renders, keyed
// by hash, so a reorg moves them (a CSS transition of their position) instead of redrawing.
// Text from the node is always set with textContent, never as HTML.
"use strict";

(function () {
  const { $, el } = window.Dom;
  const { t, number, explain } = window.I18n;
  // Formatters made once: a render formats hundreds of counts and times.
  const lang = document.documentElement.lang || "en";
  const rules = new Intl.PluralRules(lang);
  const counts = new Intl.NumberFormat(lang);
  const times = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium" });
  function plural(key, n, args) {
    return t(key + (rules.select(n) === "one" ? "-one" : "-other"), { n: counts.format(n), ...args });
  }

  const SVG = "http://www.w3.org/2000/svg";
  const BOX_W = 118;
  const BOX_H = 58;
  const GAP_X = 38;
  const GAP_Y = 58;
  const PAD_X = 16;
  const TOP = 40;
  const NOTE_H = 40;

  const wrap = $("tree-wrap");
  const svg = $("tree");
  if (!wrap || !svg) return;

  // Drawn blocks by hash, reused across renders.
  const drawn = new Map();
  let edgeLayer = null;
  let labelLayer = null;
  let blockLayer = null;
  let first = true;

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A hash as its leading zeros (the proof of work) and the six digits after them.
  function short(hash) {
    if (!hash) return "\u2014";
    const zeros = hash.length - hash.replace(/^0+/, "").length;
    return hash.slice(0, Math.min(zeros + 6, 14)) + "\u2026";
  }

  function host(url) {
    return String(url).replace(/^https?:\/\//, "");
  }

  function layers() {
    if (blockLayer && blockLayer.parentNode === svg) return;
    svg.textContent = "";
    edgeLayer = svgEl("g", { class: "edges" });
    blockLayer = svgEl("g", { class: "blocks" });
    labelLayer = svgEl("g", { class: "labels" });
    svg.append(edgeLayer, blockLayer, labelLayer);
    drawn.clear();
  }

  // Lanes: the best chain in lane 0; a stale block in its parent's lane when that is
  // free at its height, else the lowest free lane.
  function layout(tree) {
    const blocks = tree.blocks;
    const byHash = new Map();
    const taken = new Map();
    let low = Infinity;
    let high = -Infinity;
    for (const b of blocks) {
      byHash.set(b.hash, b);
      low = Math.min(low, b.number);
      high = Math.max(high, b.number);
    }
    const occupied = (n, lane) => (taken.get(n) || new Set()).has(lane);
    const take = (n, lane) => {
      if (!taken.has(n)) taken.set(n, new Set());
      taken.get(n).add(lane);
    };
    for (const b of blocks) {
      if (b.best) {
        b.lane = 0;
        take(b.number, 0);
      }
    }
    const stale = blocks
      .filter((b) => !b.best)
      .sort((a, b) => a.number - b.number || (a.first_seen || 0) - (b.first_seen || 0));
    let lanes = 1;
    for (const b of stale) {
      const parent = byHash.get(b.previous_hash);
      let lane = parent && parent.lane > 0 && !occupied(b.number, parent.lane) ? parent.lane : 1;
      while (occupied(b.number, lane)) lane += 1;
      b.lane = lane;
      take(b.number, lane);
      lanes = Math.max(lanes, lane + 1);
    }
    for (const b of blocks) {
      b.x = PAD_X + (b.number - low) * (BOX_W + GAP_X);
      b.y = TOP + b.lane * (BOX_H + GAP_Y);
    }
    const width = blocks.length ? PAD_X * 2 + (high - low + 1) * (BOX_W + GAP_X) - GAP_X + 120 : 0;
    const height = TOP + lanes * (BOX_H + GAP_Y) + NOTE_H;
    return { byHash, width, height, low, high };
  }

  // Stale branch tips that lost a tie: their branch has as much work as the best chain
  // up to the same height, and the best block's hash is lower.
  function ties(tree, byHash) {
    const bestAt = new Map();
    for (const b of tree.blocks) if (b.best) bestAt.set(b.number, b);
    const parents = new Set(tree.blocks.map((b) => b.previous_hash));
    const found = [];
    for (const b of tree.blocks) {
      if (b.best || parents.has(b.hash)) continue;
      let work = 0n;
      let bestWork = 0n;
      let cursor = b;
      let joined = false;
      while (cursor && !cursor.best) {
        work += BigInt(cursor.work);
        const rival = bestAt.get(cursor.number);
        if (!rival) break;
        bestWork += BigInt(rival.work);
        const parent = byHash.get(cursor.previous_hash);
        // Joined at the best chain: its parent is best, or (out of range) the best block's.
        if ((parent && parent.best) || rival.previous_hash === cursor.previous_hash) {
          joined = true;
          break;
        }
        cursor = parent;
      }
      const winner = bestAt.get(b.number);
      if (joined && winner && work === bestWork && winner.hash < b.hash) {
        found.push({ loser: b, winner });
      }
    }
    return found;
  }

  function describe(b) {
    const lines = [t("js-net-block", { number: b.number }), b.hash, t(b.best ? "js-net-best" : "js-net-stale")];
    if (b.from === "mined") lines.push(t("js-net-mined-here"));
    else if (b.from) lines.push(t("js-net-from", { peer: b.from }));
    else lines.push(t("js-net-from-unknown"));
    if (b.first_seen) lines.push(t("js-net-first-seen", { time: times.format(new Date(b.first_seen)) }));
    lines.push(plural("js-net-txs", b.transactions));
    return lines.join("\n");
  }

  function drawBlock(b, tips) {
    let node = drawn.get(b.hash);
    if (!node) {
      node = svgEl("a", { class: "blk enter", "data-hash": b.hash, "data-number": String(b.number) });
      node.append(
        svgEl("title"),
        svgEl("rect", { width: BOX_W, height: BOX_H, rx: 7 }),
        svgEl("text", { x: 9, y: 18, class: "blk-number" }),
        svgEl("text", { x: 9, y: 34, class: "blk-hash" }),
        svgEl("text", { x: 9, y: 49, class: "blk-txs" }),
      );
      node.style.transform = `translate(${b.x}px, ${b.y}px)`;
      blockLayer.append(node);
      drawn.set(b.hash, node);
      if (first) node.classList.remove("enter");
    }
    // What the drawing shows of it: unchanged, nothing is touched.
    const tip = tips.has(b.hash);
    const shown = `${b.best} ${tip} ${b.x} ${b.y} ${b.from} ${b.first_seen}`;
    if (node.shown === shown) return node;
    node.shown = shown;
    const [title, , numberText, hashText, txText] = node.childNodes;
    title.textContent = describe(b);
    numberText.textContent = "#" + b.number;
    hashText.textContent = short(b.hash);
    txText.textContent = plural("js-net-txs", b.transactions);
    node.classList.toggle("best", b.best);
    node.classList.toggle("stale", !b.best);
    node.classList.toggle("tip", tip);
    if (b.best) node.setAttribute("href", "/explorer/block/" + b.number);
    else node.removeAttribute("href");
    node.style.transform = `translate(${b.x}px, ${b.y}px)`;
    return node;
  }

  function drawEdges(tree, byHash) {
    const parts = [];
    for (const b of tree.blocks) {
      const parent = byHash.get(b.previous_hash);
      if (!parent) continue;
      const x1 = parent.x + BOX_W;
      const y1 = parent.y + BOX_H / 2;
      const x2 = b.x;
      const y2 = b.y + BOX_H / 2;
      const bend = (x2 - x1) / 2;
      parts.push({ d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, best: b.best });
    }
    edgeLayer.textContent = "";
    for (const part of parts) {
      edgeLayer.append(svgEl("path", { d: part.d, class: part.best ? "edge best" : "edge stale" }));
    }
  }

  // One label above each tip: this node, then its peers (named when few, counted when many).
  function drawLabels(tree, byHash, tieList) {
    labelLayer.textContent = "";
    const groups = new Map();
    const add = (hash, who) => {
      if (!groups.has(hash)) groups.set(hash, { me: false, peers: [] });
      if (who === null) groups.get(hash).me = true;
      else groups.get(hash).peers.push(who);
    };
    add(tree.tip, null);
    for (const peer of tree.peers) if (peer.tip_hash) add(peer.tip_hash, peer.url);
    for (const [hash, group] of groups) {
      const b = byHash.get(hash);
      if (!b) continue;
      const names = [];
      if (group.me) names.push(t("js-net-this-node"));
      if (group.peers.length > 2) names.push(plural("js-net-peers", group.peers.length));
      else names.push(...group.peers.map(host));
      const label = svgEl("g", { class: group.me ? "tip-label me" : "tip-label", "data-tip": hash });
      const text = svgEl("text", { x: b.x + 6, y: b.y - 9 }, names.join(" \u00b7 "));
      label.append(svgEl("title", {}, [group.me ? t("js-net-this-node") : null, ...group.peers].filter(Boolean).join("\n")));
      label.append(text);
      labelLayer.append(label);
    }
    for (const { loser, winner } of tieList) {
      const note = svgEl("g", { class: "tie-note", "data-tie": loser.hash });
      note.append(
        svgEl("text", { x: loser.x, y: loser.y + BOX_H + 16 }, t("js-net-tie")),
        svgEl("text", { x: loser.x, y: loser.y + BOX_H + 31, class: "mono" }, t("js-net-tie-hashes", { winner: short(winner.hash), loser: short(loser.hash) })),
      );
      note.append(svgEl("title", {}, winner.hash + " <\n" + loser.hash));
      labelLayer.append(note);
    }
  }

  function drawPeers(tree, byHash) {
    const body = $("tip-table").tBodies[0];
    body.textContent = "";
    if (!tree.peers.length) {
      body.append(el("tr", {}, el("td", { class: "empty", colspan: "4", text: t("js-net-no-peers") })));
      return;
    }
    for (const peer of tree.peers) {
      const known = peer.tip_hash && byHash.has(peer.tip_hash);
      body.append(
        el(
          "tr",
          { "data-peer": peer.url },
          el("td", {}, el("a", { class: "mono", href: peer.url + "/network", text: peer.url })),
          el(
            "td",
            { class: "mono", title: peer.tip_hash || "" },
            short(peer.tip_hash),
            known ? null : el("span", { class: "muted", text: " (" + t("js-net-tip-elsewhere") + ")" }),
          ),
          el("td", { class: "num", text: peer.height === null ? "\u2014" : number(peer.height) }),
          el(
            "td",
            {},
            el("span", {
              class: peer.reachable ? "badge in" : "badge out",
              text: t(peer.reachable ? "js-peer-reachable" : "js-peer-unreachable"),
            }),
          ),
        ),
      );
    }
  }

  // Draws `tree` (as GET /blocks/tree answers); returns the milliseconds it took.
  function render(tree) {
    const started = performance.now();
    layers();
    const atEnd = wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 40;
    const { byHash, width, height, low, high } = layout(tree);
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const tips = new Set([tree.tip, ...tree.peers.map((p) => p.tip_hash).filter(Boolean)]);
    const present = new Set();
    for (const b of tree.blocks) {
      drawBlock(b, tips);
      present.add(b.hash);
    }
    for (const [hash, node] of drawn) {
      if (!present.has(hash)) {
        node.remove();
        drawn.delete(hash);
      }
    }
    drawEdges(tree, byHash);
    const tieList = ties(tree, byHash);
    drawLabels(tree, byHash, tieList);
    drawPeers(tree, byHash);
    const stale = tree.blocks.filter((b) => !b.best).length;
    const range = { from: number(low), to: number(high) };
    let summary = "";
    if (stale) summary = t("js-net-summary", { ...range, blocks: number(tree.blocks.length), stale: number(stale) });
    else if (tree.blocks.length) summary = plural("js-net-summary-none", tree.blocks.length, range);
    $("tree-summary").textContent = summary;
    if (first || atEnd) wrap.scrollLeft = wrap.scrollWidth;
    first = false;
    return performance.now() - started;
  }

  // ---- loading, live ------------------------------------------------------------------

  function treeUrl() {
    const query = new URLSearchParams();
    if (wrap.dataset.from) query.set("from", wrap.dataset.from);
    if (wrap.dataset.to) query.set("to", wrap.dataset.to);
    const text = query.toString();
    return "/blocks/tree" + (text ? "?" + text : "");
  }

  function notice(kind, text) {
    const target = $("tree-notice");
    target.className = "result " + kind;
    target.textContent = text;
  }

  let loading = false;
  let again = false;
  async function load() {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      const response = await fetch(treeUrl(), { headers: { Accept: "application/json" } });
      const data = await response.json();
      if (!response.ok) notice("error", t("js-net-error", { detail: explain(data.error || data.message) }));
      else {
        const ms = render(data);
        svg.dataset.renderMs = ms.toFixed(1);
      }
    } catch (error) {
      notice("error", t("js-net-error", { detail: String(error.message || error) }));
    } finally {
      loading = false;
      if (again) {
        again = false;
        load();
      }
    }
  }

  let timer = null;
  function soon() {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      load();
    }, 80);
  }

  function live(state, text) {
    const badge = $("tree-live");
    badge.dataset.state = state;
    badge.textContent = text;
  }

  window.NetworkTree = {
    render,
    reset() {
      blockLayer = null;
      first = true;
    },
  };

  load();
  if ("EventSource" in window) {
    const stream = new EventSource("/events");
    stream.addEventListener("open", () => live("open", t("js-live-open")));
    stream.addEventListener("error", () => live("closed", t("js-live-reconnecting")));
    for (const name of ["block", "chain", "stale", "peers"]) stream.addEventListener(name, soon);
    stream.addEventListener("reorg", (event) => {
      try {
        const reorg = JSON.parse(event.data);
        notice("notice", t("js-net-reorg", { fork: number(reorg.fork), height: number(reorg.height) }));
      } catch (error) {
        console.warn("network: bad reorg message", error);
      }
      soon();
    });
    window.addEventListener("pagehide", () => stream.close());
  }
})();
