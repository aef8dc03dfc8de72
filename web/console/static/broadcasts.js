/* Loa console, broadcasts: the compose page's live preview and a broadcast's moving
   progress bar. Plain ES5 with fetch; without it (or without JavaScript) the pages still
   work: the "Preview" button and a reload link / meta refresh do the same. */
(function () {
  "use strict";
  if (!window.fetch || !window.FormData || !window.URLSearchParams) {
    return;
  }

  function livePreview(form) {
    var target = document.getElementById("preview");
    var url = form.getAttribute("data-preview");
    if (!target || !url) {
      return;
    }
    var timer = null;
    var asked = 0;
    function ask() {
      var mine = ++asked;
      target.setAttribute("aria-busy", "true");
      fetch(url, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      }).then(function (response) {
        return response.text();
      }).then(function (html) {
        if (mine === asked) {  // an older answer never overwrites a newer one
          target.innerHTML = html;
          target.removeAttribute("aria-busy");
        }
      }).catch(function () {
        target.removeAttribute("aria-busy");
      });
    }
    function later() {
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(ask, 700);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  function movingBar(box) {
    var url = box.getAttribute("data-url");
    function running() {
      return box.querySelector("[data-running='1']") !== null;
    }
    if (!url || !running()) {
      return;
    }
    var timer = setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          return response.ok ? response.text() : null;
        }).then(function (html) {
          if (html !== null) {
            box.innerHTML = html;
          }
          if (html === null || !running()) {
            clearInterval(timer);
          }
        }).catch(function () {
          clearInterval(timer);
        });
    }, 4000);
  }

  function start() {
    var form = document.getElementById("compose");
    if (form) {
      livePreview(form);
    }
    var box = document.getElementById("progress");
    if (box) {
      movingBar(box);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
