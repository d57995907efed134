// Actions of the node's dashboards. Pages are rendered by the server; this script only
// posts actions, shows their outcome, and reloads so the server's view is current.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  function show(target, kind, text) {
    if (!target) return;
    target.className = "result " + kind;
    target.textContent = text;
  }

  async function call(method, url, body) {
    const options = { method, headers: {} };
    if (body !== undefined) {
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

  function busy(button, on) {
    if (!button) return;
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  const mine = $("mine-button");
  if (mine) {
    mine.addEventListener("click", async () => {
      busy(mine, true);
      show($("mine-result"), "notice", "Mining…");
      try {
        const { ok, data } = await call("POST", "/mine");
        if (!ok) throw new Error(data.error || data.message);
        show($("mine-result"), "success",
          `Block ${data.block_number} forged with ${data.transactions.length} transactions (nonce ${data.nonce}).`);
        setTimeout(() => window.location.reload(), 600);
      } catch (error) {
        show($("mine-result"), "error", "Mining failed: " + error.message);
        busy(mine, false);
      }
    });
  }

  const resolve = $("resolve-button");
  if (resolve) {
    resolve.addEventListener("click", async () => {
      busy(resolve, true);
      show($("resolve-result"), "notice", "Asking peers for their chains…");
      try {
        const { data } = await call("GET", "/nodes/resolve");
        const details = (data.peers || []).map((p) => `${p.peer}: ${p.outcome}`).join("; ");
        show($("resolve-result"), "success", data.message + (details ? ` (${details})` : " (no peers)"));
        if (data.message === "Our chain was replaced") setTimeout(() => window.location.reload(), 900);
      } catch (error) {
        show($("resolve-result"), "error", "Resolve failed: " + error.message);
      } finally {
        busy(resolve, false);
      }
    });
  }

  const register = $("register-form");
  if (register) {
    register.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = $("register-button");
      busy(button, true);
      try {
        const { ok, data } = await call("POST", "/nodes/register", { nodes: $("nodes").value });
        if (!ok) {
          $("nodes").setAttribute("aria-invalid", "true");
          show($("register-result"), "error", data.error || data.message);
          return;
        }
        $("nodes").removeAttribute("aria-invalid");
        show($("register-result"), "success", `${data.message}: ${data.total_nodes.join(", ")}`);
        setTimeout(() => window.location.reload(), 600);
      } catch (error) {
        show($("register-result"), "error", "Could not reach this node: " + error.message);
      } finally {
        busy(button, false);
      }
    });
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy-text]");
    if (!button) return;
    try {
      await navigator.clipboard.writeText(button.dataset.copyText);
      button.textContent = "Copied";
    } catch (_) {
      button.textContent = "Select it";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1200);
  });
})();
