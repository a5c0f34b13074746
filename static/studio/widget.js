/* The studio's website widget page: "Copy" buttons copy the snippet, the queue stub or the revealed secret to
   the clipboard. The buttons stay hidden without JavaScript, where each text sits in a read-only field that
   selects itself on focus, to copy by hand. */
(function () {
  "use strict";

  function reveal(root) {
    var buttons = (root || document).querySelectorAll("[data-copy-from][hidden]");
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
  }

  function copied(button) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = button.getAttribute("data-copied-text") || "Copied";
    setTimeout(function () { button.textContent = label; }, 2000);
  }

  function copyByHand(field, button) {
    field.focus();
    field.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (error) { done = false; }
    if (done) copied(button);
    else button.textContent = "Press Ctrl+C to copy";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy-from"));
    if (!field) return;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(
        function () { copied(button); },
        function () { copyByHand(field, button); }
      );
    } else {
      copyByHand(field, button);
    }
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  // The revealed secret arrives as an htmx swap: its copy button needs showing too.
  document.addEventListener("htmx:load", function (event) { reveal(event.target); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { reveal(); });
  else reveal();
})();
