/* "Try as a household": poll the phone's screen every 2 s; send replies without reloading.
   Plain ES5 with fetch, for old office PCs; without it the forms post and the page reloads. */
(function () {
  "use strict";
  var screen = document.getElementById("phone-screen");
  if (!screen || !window.fetch) { return; }
  var form = document.getElementById("phone-send");
  var last = null;

  function bottom() { screen.scrollTop = screen.scrollHeight; }

  function refresh() {
    fetch(screen.getAttribute("data-poll"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null && html !== last) {
          last = html;
          screen.innerHTML = html;
          bottom();
        }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  form.addEventListener("submit", function (event) {
    var input = form.elements.text;
    if (!input.value.replace(/\s+/g, "")) { event.preventDefault(); return; }
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    input.value = "";
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(refresh, refresh);
    input.focus();
  });

  bottom();
  window.setInterval(refresh, 2000);
}());
