// A page opened from another machine before the operator signed in: the actions the
// node would refuse (401) are shown disabled; only the sign-in form works.
(function () {
  "use strict";
  const card = document.getElementById("operator-sign-in");
  if (!card) return;
  const disable = () => {
    // The forms that act, Refresh (resolve) and each peer's Remove; Copy buttons and links stay.
    const acting = "main form button, main form input, main form textarea, main form select, #resolve-button, [data-remove-peer]";
    for (const control of document.querySelectorAll(acting)) {
      if (!card.contains(control)) control.disabled = true;
    }
  };
  disable();
  // Rows the live stream adds later (a peer's Remove button) are disabled too.
  new MutationObserver(disable).observe(document.querySelector("main") || document.body, {
    childList: true,
    subtree: true,
  });
})();
