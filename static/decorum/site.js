/* Decorum: behaviour every page shares. Shows htmx errors as notices (the server answers htmx requests it
   refuses with a short text), asks before destructive actions ([data-confirm]), and turns "back" links into
   history.back() when there is a page to go back to. Plain script, no globals. */
(function () {
  "use strict";

  function toast(message, kind) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var item = document.createElement("div");
    item.className = "toast toast-" + (kind || "error");
    item.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(close);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 8000);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = (xhr.getResponseHeader("X-Decorum-Message") || "").trim();
    if (!text && (xhr.getResponseHeader("Content-Type") || "").indexOf("text/plain") === 0) text = xhr.responseText;
    toast(text || "The server refused that (" + xhr.status + ").", "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("The server could not be reached; nothing was saved. Check your connection and try again.", "error");
  });
  document.addEventListener("decorum:toast", function (event) {
    toast(event.detail && event.detail.message, event.detail && event.detail.kind);
  });

  // A plain form or button with data-confirm asks first (htmx requests use hx-confirm instead).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-history-back]");
    if (link && window.history.length > 1 && document.referrer && new URL(document.referrer).origin === location.origin) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
