/* Studio pages: the "Try in sandbox" side panel (the form posts into the panel's frame instead of leaving the
   page), tag chips over a comma-separated text field ([data-chips]), key/value row editors ([data-kv]) and
   "select all" for bulk actions ([data-select-all]). Every page works without this script. */
(function () {
  "use strict";

  // ---- Try in sandbox
  var panel = document.getElementById("try-panel");
  document.querySelectorAll("form[data-try-sandbox]").forEach(function (form) {
    if (!panel) return;
    form.target = "try-frame";
    form.addEventListener("submit", function () {
      if (!form.querySelector("input[name=return]")) {
        var field = document.createElement("input");
        field.type = "hidden"; field.name = "return"; field.value = "panel";
        form.appendChild(field);
      }
      panel.hidden = false;
    });
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-try-close]") && panel) panel.hidden = true;
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel && !panel.hidden) panel.hidden = true;
  });

  // ---- Chips: the real input stays (hidden) and holds "a, b, c"; the chips are a view of it.
  function mountChips(input) {
    if (input.dataset.chipsMounted) return;
    input.dataset.chipsMounted = "1";
    var separator = input.dataset.chips === "lines" ? "\n" : ",";
    var box = document.createElement("div");
    box.className = "chips";
    var typing = document.createElement("input");
    typing.type = "text";
    typing.setAttribute("aria-label", (input.dataset.chipsLabel || input.name) + ": type a value and press Enter");
    typing.placeholder = input.dataset.chipsPlaceholder || "Add…";
    if (input.dataset.chipsList) typing.setAttribute("list", input.dataset.chipsList);
    function values() {
      return input.value.split(separator).map(function (v) { return v.trim(); }).filter(Boolean);
    }
    function store(list) {
      input.value = list.join(separator === "," ? ", " : "\n");
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function render() {
      box.querySelectorAll(".chip").forEach(function (chip) { chip.remove(); });
      values().forEach(function (value, index) {
        var chip = document.createElement("span");
        chip.className = "chip";
        var text = document.createElement("span");
        text.textContent = value;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.setAttribute("aria-label", "Remove " + value);
        remove.textContent = "×";
        remove.addEventListener("click", function () {
          var list = values(); list.splice(index, 1); store(list); render(); typing.focus();
        });
        chip.appendChild(text); chip.appendChild(remove);
        box.insertBefore(chip, typing);
      });
    }
    function commit() {
      var value = typing.value.trim().replace(/,$/, "").trim();
      if (!value) return;
      var list = values();
      if (list.indexOf(value) < 0) list.push(value);
      store(list); typing.value = ""; render();
    }
    typing.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || (event.key === "," && separator === ",")) { event.preventDefault(); commit(); }
      else if (event.key === "Backspace" && !typing.value) { var list = values(); list.pop(); store(list); render(); }
    });
    typing.addEventListener("blur", commit);
    box.appendChild(typing);
    input.hidden = true;
    input.parentNode.insertBefore(box, input.nextSibling);
    render();
  }

  // ---- Key/value rows: "Add row" clones the template row; "Remove" deletes its row.
  function mountKv(container) {
    if (container.dataset.kvMounted) return;
    container.dataset.kvMounted = "1";
    container.addEventListener("click", function (event) {
      var add = event.target.closest("[data-kv-add]");
      var remove = event.target.closest("[data-kv-remove]");
      if (add) {
        var template = container.querySelector("template");
        if (template) container.querySelector(".kv-rows").appendChild(template.content.cloneNode(true));
      } else if (remove) {
        remove.closest(".kv-row").remove();
      }
    });
  }

  // ---- "Select all" for bulk actions, and the count of selected rows
  function mountSelectAll(box) {
    if (box.dataset.selectMounted) return;
    box.dataset.selectMounted = "1";
    box.addEventListener("change", function () {
      var scope = document.querySelector(box.dataset.selectAll);
      if (!scope) return;
      scope.querySelectorAll("input[type=checkbox][name=selected]").forEach(function (item) { item.checked = box.checked; });
      scope.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.form || (event.target.closest && event.target.closest("form"));
    if (!form) return;
    var counter = form.querySelector("[data-selected-count]");
    if (!counter) return;
    // form.elements also holds checkboxes outside the form that name it with form="..." (rows of a table)
    var count = Array.prototype.filter.call(form.elements, function (item) {
      return item.type === "checkbox" && item.name === "selected" && item.checked;
    }).length;
    counter.textContent = count === 1 ? "1 selected" : count + " selected";
  });

  function mountAll(root) {
    root.querySelectorAll("input[data-chips], textarea[data-chips]").forEach(mountChips);
    root.querySelectorAll("[data-kv]").forEach(mountKv);
    root.querySelectorAll("input[data-select-all]").forEach(mountSelectAll);
  }
  mountAll(document);
  document.addEventListener("htmx:load", function (event) { mountAll(event.target); });
})();
