// DOM helpers both apps' scripts share (static/client.js, static/node.js). Loaded before
// them, it defines window.Dom. Plain JavaScript, no framework.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);

  // A new element: attribute `text` sets its text (never HTML), `class` its class names,
  // the others are attributes; children that are null or undefined are skipped.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  // A button disabled while its action runs, and marked busy for assistive technology.
  function setBusy(button, busy) {
    if (!button) return;
    button.disabled = busy;
    button.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function clearInvalid(form) {
    for (const field of form.querySelectorAll("[aria-invalid]")) {
      field.removeAttribute("aria-invalid");
    }
  }

  // Marks the field with this id invalid and moves the focus to it, if there is one.
  function markInvalid(id) {
    const field = id && $(id);
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  globalThis.Dom = Object.freeze({ $, el, setBusy, clearInvalid, markInvalid });
})();
