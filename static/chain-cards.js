// The Mine dashboard's chain of cards: the recent blocks, oldest at the left, newest at the
// right, each naming its own hash and the hash it links to, with an arrow to the card
// before it; then a card for the block being mined, with the search's tries and rate.
//
// It draws what static/node.js hears on /events: node.js sends the recent blocks
// ("dashboard:blocks") and the mining progress ("dashboard:mining") as DOM events.
(function () {
  "use strict";

  const CARDS = 8;
  let blocks = [];
  let progress = null;

  const short = (hex) => (hex ? hex.slice(0, 8) + "…" + hex.slice(-4) : "—");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }

  function row(label, value, attrs) {
    return el("div", { class: "block-card-row" }, el("dt", { text: label }), el("dd", attrs || {}, value));
  }

  function blockCard(block, before) {
    const { t, plural, utc } = window.I18n;
    const linked = before ? before.hash === block.previous_hash : null;
    const card = el("li", {
      class: "block-card",
      id: `block-card-${block.block_number}`,
      "data-number": String(block.block_number),
      "data-hash": block.hash,
      "data-previous-hash": block.previous_hash,
    });
    if (before) {
      card.append(
        el("a", {
          class: "block-card-link",
          href: `#block-card-${before.block_number}`,
          "data-linked": String(linked),
          title: t(linked ? "js-card-links" : "js-card-broken", { block: before.block_number }),
          "aria-label": t(linked ? "js-card-links" : "js-card-broken", { block: before.block_number }),
          text: "←",
        }),
      );
    }
    card.append(
      el("h3", {}, el("a", { href: `/explorer/block/${block.block_number}`, text: t("js-card-block", { block: block.block_number }) })),
      el(
        "dl",
        {},
        row(t("js-card-hash"), short(block.hash), { class: "mono card-hash", title: block.hash, translate: "no" }),
        row(t("js-card-previous"), short(block.previous_hash), { class: "mono card-previous", title: block.previous_hash, translate: "no" }),
        row(t("js-card-transactions"), String(block.transactions), { class: "card-count", title: plural("js-n-transactions", block.transactions) }),
        row(t("js-card-time"), new Date(block.timestamp * 1000).toISOString().slice(11, 19), { title: utc(block.timestamp) }),
      ),
    );
    return card;
  }

  function nextCard(tip) {
    const { t, compact } = window.I18n;
    const number = tip ? tip.block_number + 1 : null;
    const mining = progress && (!tip || progress.block_number === number);
    const card = el("li", { class: "block-card block-card-next", id: "block-card-next", "data-mining": String(Boolean(mining)) });
    if (tip) {
      card.append(el("a", { class: "block-card-link", href: `#block-card-${tip.block_number}`, "data-linked": "true", text: "←", "aria-label": t("js-card-links", { block: tip.block_number }) }));
    }
    card.append(el("h3", { text: t("js-card-next", { block: mining ? progress.block_number : number ?? "—" }) }));
    const rows = [row(t("js-card-previous"), short(tip && tip.hash), { class: "mono card-previous", title: tip ? tip.hash : "", translate: "no" })];
    if (mining) {
      rows.push(row(t("js-card-tries"), compact(progress.tries), { class: "card-tries" }));
      rows.push(row(t("js-card-rate"), t("js-card-rate-value", { rate: compact(progress.hash_rate) })));
      rows.push(row(t("js-card-expected"), compact(progress.expected_tries)));
      const share = Math.min(1, progress.tries / progress.expected_tries);
      card.append(el("dl", {}, ...rows), el("div", { class: "progress", "aria-hidden": "true" }, el("div", { class: "progress-bar", style: `width: ${(share * 100).toFixed(1)}%` })));
    } else {
      rows.push(row(t("js-card-tries"), t("js-card-idle")));
      card.append(el("dl", {}, ...rows));
    }
    return card;
  }

  function render() {
    const list = document.getElementById("chain-cards");
    if (!list || !window.I18n) return;
    const shown = blocks.slice(-CARDS);
    const cards = shown.map((block, i) => blockCard(block, i > 0 ? shown[i - 1] : null));
    cards.push(nextCard(shown[shown.length - 1]));
    const atEnd = list.scrollLeft + list.clientWidth >= list.scrollWidth - 8;
    list.replaceChildren(...cards);
    if (atEnd) list.scrollLeft = list.scrollWidth;
  }

  document.addEventListener("dashboard:blocks", (event) => {
    blocks = event.detail.slice();
    render();
  });
  document.addEventListener("dashboard:mining", (event) => {
    progress = event.detail;
    render();
  });
})();
