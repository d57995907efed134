// The wallet app's search box (templates/client/layout.html). The app's /search sends the
// browser on to its node's search with a 303; this page's content security policy lets
// forms submit only to this app (form-action 'self'), and a browser applies that to the
// redirect too. So the box goes to /search as a plain navigation instead of a submission.
(function () {
  "use strict";

  const form = document.querySelector(".nav-search");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams(new FormData(form));
    window.location.assign(`${form.getAttribute("action")}?${query}`);
  });
})();
