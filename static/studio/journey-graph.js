/* The journey graph editor: states as nodes and transitions as edges on an SVG canvas.
   Configured by the [data-journey-graph] element (data-graph-url, data-states-url, data-transitions-url,
   data-layout-url, data-csrf-token, data-readonly). Every change is sent to the server as it happens (field
   edits debounced, writes one at a time so each carries the revision the last one returned); a stale revision
   (409) shows the message and reloads the graph. All data reaches the page through textContent and
   attributes, never as markup. Without this script the page shows the same journey as plain forms. */
(function () {
  "use strict";

  // Forms that ask before they post (deleting the journey).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  var root = document.querySelector("[data-journey-graph]");
  if (!root) return;

  var SVG = "http://www.w3.org/2000/svg";
  var NODE_W = 180, NODE_H = 64, PORT_R = 7;
  var MIN_ZOOM = 0.2, MAX_ZOOM = 2.5;
  var FIELD_DEBOUNCE_MS = 600, LAYOUT_DEBOUNCE_MS = 400;
  var readonly = root.dataset.readonly === "true";
  var csrf = root.dataset.csrfToken || "";
  var KINDS = ["chat", "tool", "fork", "end"];

  var graph = null;            // the last graph from the server, kept in step with every write
  var selection = null;        // {type: "state"|"transition"|"new", id}
  var view = { x: 0, y: 0, k: 1 };
  var queue = Promise.resolve();
  var pending = null;          // {type, id, fields: {...}, timer}
  var layoutTimer = null;
  var fitted = false;

  // ---------------------------------------------------------------- DOM helpers (text only, never markup)
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (name) {
      if (name === "className") node.className = attrs[name];
      else if (attrs[name] !== null && attrs[name] !== undefined && attrs[name] !== false) node.setAttribute(name, attrs[name] === true ? "" : attrs[name]);
    });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    if (attrs) Object.keys(attrs).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function button(label, handler, attrs) {
    var node = el("button", Object.assign({ type: "button" }, attrs || {}), label);
    node.addEventListener("click", handler);
    return node;
  }
  function clip(text, length) {
    text = text || "";
    return text.length > length ? text.slice(0, length - 1) + "…" : text;
  }

  // ---------------------------------------------------------------- the frame
  root.hidden = false;
  var lists = document.querySelector("[data-journey-forms]");
  if (lists) lists.hidden = true; // the graph replaces the forms; "List view" shows them again

  var toolbar = el("div", { className: "jg-toolbar", role: "toolbar", "aria-label": "Graph editor" });
  var addButton = button("Add state", function () { select({ type: "new" }); }, { className: "primary", "data-action": "add-state" });
  var initialButton = button("Mark initial", function () { markInitial(); }, { "data-action": "mark-initial", disabled: true });
  var deleteButton = button("Delete selected", function () { deleteSelection(); }, { className: "danger", "data-action": "delete", disabled: true });
  var zoomIn = button("+", function () { zoomBy(1.2); }, { "aria-label": "Zoom in", title: "Zoom in" });
  var zoomOut = button("−", function () { zoomBy(1 / 1.2); }, { "aria-label": "Zoom out", title: "Zoom out" });
  var fitButton = button("Fit", function () { fit(); }, { title: "Show the whole journey" });
  var status = el("span", { className: "jg-status", role: "status", "aria-live": "polite" });
  if (!readonly) { toolbar.appendChild(addButton); toolbar.appendChild(initialButton); toolbar.appendChild(deleteButton); }
  [zoomOut, zoomIn, fitButton, status].forEach(function (node) { toolbar.appendChild(node); });

  var banner = el("p", { className: "banner banner-error jg-banner", hidden: true, "data-banner": "" });
  var body = el("div", { className: "jg-body" });
  var canvasWrap = el("div", { className: "jg-canvas-wrap" });
  var canvas = svg("svg", { class: "jg-canvas", role: "application", "aria-label": "Journey graph: drag states to move them" + (readonly ? "" : ", drag from a state's handle to another state to connect them") });
  var defs = svg("defs");
  [["jg-arrow", "jg-arrowhead"], ["jg-arrow-selected", "jg-arrowhead is-selected"]].forEach(function (pair) {
    var marker = svg("marker", { id: pair[0], viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "8", markerHeight: "8", orient: "auto-start-reverse" });
    marker.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z", class: pair[1] }));
    defs.appendChild(marker);
  });
  canvas.appendChild(defs);
  var viewport = svg("g", { class: "jg-viewport" });
  var edgeLayer = svg("g", { class: "jg-edges" });
  var nodeLayer = svg("g", { class: "jg-nodes" });
  var ghost = svg("path", { class: "jg-ghost", d: "" });
  viewport.appendChild(edgeLayer); viewport.appendChild(nodeLayer); viewport.appendChild(ghost);
  canvas.appendChild(viewport);
  canvasWrap.appendChild(canvas);
  var hint = el("p", { className: "jg-hint muted small" }, readonly
    ? "Drag the background to pan, the wheel to zoom; select a state or transition to read it."
    : "Drag a state to move it. Drag from a state's ● handle onto another state to add a transition. Delete removes the selection.");
  canvasWrap.appendChild(hint);
  var panel = el("aside", { className: "jg-panel", "aria-label": "Selected item" });
  body.appendChild(canvasWrap); body.appendChild(panel);
  root.appendChild(toolbar); root.appendChild(banner); root.appendChild(body);

  // ---------------------------------------------------------------- talking to the server
  function showStatus(text, kind) {
    status.textContent = text;
    status.className = "jg-status" + (kind ? " is-" + kind : "");
  }

  function request(method, url, payload) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json", "X-CSRFToken": csrf } };
    if (payload !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(payload); }
    if (method !== "GET") options.keepalive = true; // an edit flushed while the page unloads still arrives
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return { code: "error", message: "The server answered " + response.status + "." }; })
        .then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
    }, function () {
      return { ok: false, status: 0, data: { code: "offline", message: "The server could not be reached; the change was not saved." } };
    });
  }

  // Writes go one after the other: each reads the revision the previous one returned.
  function write(make) {
    showStatus("Saving…", "busy");
    queue = queue.then(function () {
      var call = make();
      if (!call) return null;
      return request(call[0], call[1], call[2]).then(function (result) {
        if (result.ok) {
          showStatus("Saved", "ok");
          if (result.data && result.data.problems) graph.problems = result.data.problems;
        } else {
          refused(result);
        }
        return result;
      });
    });
    return queue;
  }

  function refused(result) {
    var message = (result.data && result.data.message) || "The change was refused.";
    showStatus(message, "error");
    if (result.status === 409 || result.status === 404) {
      showStatus(message + " The graph was reloaded with the current version.", "error");
      load(true);
    }
  }

  function load(refreshPanel) {
    return request("GET", root.dataset.graphUrl).then(function (result) {
      if (!result.ok) { showStatus(result.data.message || "The graph could not be loaded.", "error"); return; }
      graph = result.data;
      if (selection && selection.type !== "new" && !find(selection.type, selection.id)) selection = null;
      render();
      if (refreshPanel || !panel.contains(document.activeElement)) renderPanel();
      if (!fitted) { fitted = true; fit(true); }
    });
  }

  function find(type, id) {
    var list = type === "state" ? graph.states : graph.transitions;
    for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
    return null;
  }
  function replace(type, item) {
    var list = type === "state" ? graph.states : graph.transitions;
    for (var i = 0; i < list.length; i++) if (list[i].id === item.id) { list[i] = item; return; }
    list.push(item);
  }

  // ---------------------------------------------------------------- drawing
  function setView() {
    viewport.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")");
  }
  function problemsOf(stateId) {
    var problems = graph.problems || {};
    return {
      deadEnd: (problems.dead_ends || []).indexOf(stateId) >= 0,
      unreachable: (problems.unreachable || []).indexOf(stateId) >= 0
    };
  }

  function render() {
    setView();
    renderBanner();
    while (nodeLayer.firstChild) nodeLayer.removeChild(nodeLayer.firstChild);
    graph.states.forEach(function (state) { nodeLayer.appendChild(drawNode(state)); });
    renderEdges();
    updateToolbar();
  }

  function renderBanner() {
    var problems = graph.problems || {};
    if (!graph.states.length) {
      banner.textContent = readonly ? "This journey has no states yet." : "This journey has no states yet: add the first one with “Add state”.";
      banner.className = "banner banner-info jg-banner";
      banner.hidden = false;
    } else if (problems.no_initial) {
      banner.textContent = "No initial state: select the state where the journey starts and mark it initial.";
      banner.className = "banner banner-error jg-banner";
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }

  function drawNode(state) {
    var problems = problemsOf(state.id);
    var classes = ["jg-node", "kind-" + state.kind];
    if (state.initial) classes.push("is-initial");
    if (problems.deadEnd) classes.push("is-dead-end");
    if (problems.unreachable) classes.push("is-unreachable");
    if (selection && selection.type === "state" && selection.id === state.id) classes.push("is-selected");
    var labels = [state.key, state.kind];
    if (state.initial) labels.push("initial");
    if (problems.deadEnd) labels.push("dead end");
    if (problems.unreachable) labels.push("unreachable");
    var group = svg("g", { class: classes.join(" "), transform: "translate(" + state.x + "," + state.y + ")", tabindex: "0", role: "button", "data-state-id": String(state.id), "aria-label": "State " + labels.join(", ") });
    group.appendChild(svg("rect", { class: "jg-node-box", width: NODE_W, height: NODE_H, rx: 8, ry: 8 }));
    if (state.initial) {
      group.appendChild(svg("path", { class: "jg-initial-marker", d: "M-16," + (NODE_H / 2 - 8) + " L-4," + NODE_H / 2 + " L-16," + (NODE_H / 2 + 8) + " z" }));
    }
    group.appendChild(svg("text", { class: "jg-node-key", x: 12, y: 25 }, clip(state.key, 20)));
    var meta = state.kind + (state.initial ? " · initial" : "") + (state.kind === "tool" && state.tool ? " · " + state.tool : "");
    group.appendChild(svg("text", { class: "jg-node-kind", x: 12, y: 45 }, clip(meta, 26)));
    var badges = [];
    if (problems.deadEnd) badges.push(["dead end", "is-error"]);
    if (problems.unreachable) badges.push(["unreachable", "is-warning"]);
    badges.forEach(function (badge, index) {
      group.appendChild(svg("text", { class: "jg-node-badge " + badge[1], x: NODE_W - 8, y: -6 - index * 14, "text-anchor": "end" }, badge[0]));
    });
    group.appendChild(svg("title", {}, labels.join(" · ") + (state.action ? "\n" + clip(state.action, 300) : "")));
    if (!readonly && state.kind !== "end") {
      group.appendChild(svg("circle", { class: "jg-port", cx: NODE_W, cy: NODE_H / 2, r: PORT_R, "data-port": String(state.id) }));
    }
    return group;
  }

  function centerOf(state) { return { x: state.x + NODE_W / 2, y: state.y + NODE_H / 2 }; }
  // Where the line from a node's center toward `toward` leaves its box.
  function boxPoint(state, toward) {
    var c = centerOf(state), dx = toward.x - c.x, dy = toward.y - c.y;
    if (!dx && !dy) return c;
    var scale = Math.min(Math.abs((NODE_W / 2 + 3) / (dx || 1e-9)), Math.abs((NODE_H / 2 + 3) / (dy || 1e-9)));
    return { x: c.x + dx * scale, y: c.y + dy * scale };
  }

  function edgeGeometry(transition, offset) {
    var source = find("state", transition.source), target = find("state", transition.target);
    if (!source || !target) return null;
    if (source.id === target.id) {
      var x = source.x + NODE_W - 36, y = source.y;
      return { d: "M" + x + "," + y + " C" + x + "," + (y - 56) + " " + (x + 90) + "," + (y - 20) + " " + (source.x + NODE_W + 3) + "," + (y + 18), label: { x: x + 36, y: y - 40 } };
    }
    var a = centerOf(source), b = centerOf(target);
    var mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2, length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    var control = { x: mx - (b.y - a.y) / length * offset * 2, y: my + (b.x - a.x) / length * offset * 2 };
    var start = boxPoint(source, control), end = boxPoint(target, control);
    return {
      d: "M" + start.x + "," + start.y + " Q" + control.x + "," + control.y + " " + end.x + "," + end.y,
      label: { x: (start.x + 2 * control.x + end.x) / 4, y: (start.y + 2 * control.y + end.y) / 4 }
    };
  }

  function renderEdges() {
    while (edgeLayer.firstChild) edgeLayer.removeChild(edgeLayer.firstChild);
    var groups = {};
    graph.transitions.forEach(function (transition) {
      var low = Math.min(transition.source, transition.target), high = Math.max(transition.source, transition.target);
      (groups[low + "-" + high] = groups[low + "-" + high] || []).push(transition);
    });
    Object.keys(groups).forEach(function (name) {
      var members = groups[name];
      members.forEach(function (transition, index) {
        var spread = members.length > 1 ? (index - (members.length - 1) / 2) * 34 : 0;
        if (transition.source > transition.target) spread = -spread; // the same side seen from the other end
        var geometry = edgeGeometry(transition, spread);
        if (geometry) edgeLayer.appendChild(drawEdge(transition, geometry));
      });
    });
  }

  function drawEdge(transition, geometry) {
    var selected = selection && selection.type === "transition" && selection.id === transition.id;
    var source = find("state", transition.source), target = find("state", transition.target);
    var name = "Transition " + source.key + " to " + target.key + (transition.condition ? " when " + transition.condition : "");
    var group = svg("g", { class: "jg-edge" + (selected ? " is-selected" : ""), "data-transition-id": String(transition.id), tabindex: "0", role: "button", "aria-label": name });
    group.appendChild(svg("path", { class: "jg-edge-hit", d: geometry.d }));
    group.appendChild(svg("path", { class: "jg-edge-line", d: geometry.d, "marker-end": "url(#" + (selected ? "jg-arrow-selected" : "jg-arrow") + ")" }));
    if (transition.condition) {
      group.appendChild(svg("text", { class: "jg-edge-label", x: geometry.label.x, y: geometry.label.y, "text-anchor": "middle" }, clip(transition.condition, 30)));
    }
    group.appendChild(svg("title", {}, name));
    return group;
  }

  function moveNode(state) {
    var node = nodeLayer.querySelector('[data-state-id="' + state.id + '"]');
    if (node) node.setAttribute("transform", "translate(" + state.x + "," + state.y + ")");
    renderEdges();
  }

  // ---------------------------------------------------------------- zoom and pan
  function toGraph(clientX, clientY) {
    var box = canvas.getBoundingClientRect();
    return { x: (clientX - box.left - view.x) / view.k, y: (clientY - box.top - view.y) / view.k };
  }
  function zoomAt(factor, clientX, clientY) {
    var box = canvas.getBoundingClientRect();
    var px = clientX - box.left, py = clientY - box.top;
    var k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.k * factor));
    view.x = px - (px - view.x) * (k / view.k);
    view.y = py - (py - view.y) * (k / view.k);
    view.k = k;
    setView();
  }
  function zoomBy(factor) {
    var box = canvas.getBoundingClientRect();
    zoomAt(factor, box.left + box.width / 2, box.top + box.height / 2);
  }
  function fit(initial) {
    if (!graph || !graph.states.length) { view = { x: 40, y: 40, k: 1 }; setView(); return; }
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    graph.states.forEach(function (state) {
      minX = Math.min(minX, state.x); minY = Math.min(minY, state.y);
      maxX = Math.max(maxX, state.x + NODE_W); maxY = Math.max(maxY, state.y + NODE_H);
    });
    var box = canvas.getBoundingClientRect(), pad = 48;
    var k = Math.min((box.width - 2 * pad) / (maxX - minX), (box.height - 2 * pad) / (maxY - minY));
    // On opening, names stay readable on a phone: a large journey starts at its top left, the rest a pan away.
    k = Math.min(initial ? 1 : MAX_ZOOM, Math.max(initial ? 0.6 : MIN_ZOOM, k));
    view.k = k;
    view.x = Math.max(pad - minX * k, (box.width - (maxX - minX) * k) / 2 - minX * k);
    view.y = Math.max(pad - minY * k, (box.height - (maxY - minY) * k) / 2 - minY * k);
    setView();
  }
  canvas.addEventListener("wheel", function (event) {
    event.preventDefault();
    zoomAt(event.deltaY < 0 ? 1.1 : 1 / 1.1, event.clientX, event.clientY);
  }, { passive: false });

  // ---------------------------------------------------------------- pointer: move, connect, pan, select
  var gesture = null;
  canvas.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 || !graph) return;
    var port = event.target.closest("[data-port]");
    var node = event.target.closest("[data-state-id]");
    var edge = event.target.closest("[data-transition-id]");
    var start = { x: event.clientX, y: event.clientY };
    if (port && !readonly) {
      gesture = { type: "connect", source: Number(port.dataset.port), start: start, moved: false };
    } else if (node) {
      var state = find("state", Number(node.dataset.stateId));
      var point = toGraph(event.clientX, event.clientY);
      gesture = { type: readonly ? "click-node" : "move", state: state, dx: point.x - state.x, dy: point.y - state.y, start: start, moved: false };
    } else if (edge) {
      gesture = { type: "click-edge", id: Number(edge.dataset.transitionId), start: start, moved: false };
    } else {
      gesture = { type: "pan", origin: { x: view.x, y: view.y }, start: start, moved: false };
    }
    canvas.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!gesture) return;
    var far = Math.abs(event.clientX - gesture.start.x) + Math.abs(event.clientY - gesture.start.y) > 3;
    if (far) gesture.moved = true;
    if (!gesture.moved) return;
    if (gesture.type === "move") {
      var point = toGraph(event.clientX, event.clientY);
      gesture.state.x = Math.round(point.x - gesture.dx);
      gesture.state.y = Math.round(point.y - gesture.dy);
      moveNode(gesture.state);
    } else if (gesture.type === "pan") {
      view.x = gesture.origin.x + event.clientX - gesture.start.x;
      view.y = gesture.origin.y + event.clientY - gesture.start.y;
      setView();
      canvas.classList.add("is-panning");
    } else if (gesture.type === "connect") {
      var source = find("state", gesture.source), to = toGraph(event.clientX, event.clientY);
      var from = { x: source.x + NODE_W, y: source.y + NODE_H / 2 };
      ghost.setAttribute("d", "M" + from.x + "," + from.y + " L" + to.x + "," + to.y);
      var over = document.elementFromPoint(event.clientX, event.clientY);
      var target = over && over.closest ? over.closest("[data-state-id]") : null;
      nodeLayer.querySelectorAll(".is-drop-target").forEach(function (node) { node.classList.remove("is-drop-target"); });
      if (target && Number(target.dataset.stateId) !== gesture.source) target.classList.add("is-drop-target");
    }
  });
  function endGesture(event) {
    if (!gesture) return;
    var done = gesture;
    gesture = null;
    canvas.classList.remove("is-panning");
    ghost.setAttribute("d", "");
    nodeLayer.querySelectorAll(".is-drop-target").forEach(function (node) { node.classList.remove("is-drop-target"); });
    if (event.type === "pointercancel") return;
    if (done.type === "move" || done.type === "click-node") {
      if (done.moved) { markPlaced(done.state); saveLayout(); }
      else select({ type: "state", id: done.state.id });
    } else if (done.type === "click-edge") {
      if (!done.moved) select({ type: "transition", id: done.id });
    } else if (done.type === "pan") {
      if (!done.moved) select(null);
    } else if (done.type === "connect" && done.moved) {
      var over = document.elementFromPoint(event.clientX, event.clientY);
      var target = over && over.closest ? over.closest("[data-state-id]") : null;
      if (target && Number(target.dataset.stateId) !== done.source) connect(done.source, Number(target.dataset.stateId));
    }
  }
  canvas.addEventListener("pointerup", endGesture);
  canvas.addEventListener("pointercancel", endGesture);

  // Keyboard: Enter or Space selects the focused node or edge; arrows move a selected node; Delete removes.
  canvas.addEventListener("keydown", function (event) {
    var node = event.target.closest && event.target.closest("[data-state-id]");
    var edge = event.target.closest && event.target.closest("[data-transition-id]");
    if (event.key === "Enter" || event.key === " ") {
      if (node) { select({ type: "state", id: Number(node.dataset.stateId) }); event.preventDefault(); }
      else if (edge) { select({ type: "transition", id: Number(edge.dataset.transitionId) }); event.preventDefault(); }
    } else if (!readonly && node && event.key.indexOf("Arrow") === 0) {
      var state = find("state", Number(node.dataset.stateId)), step = event.shiftKey ? 50 : 10;
      if (event.key === "ArrowLeft") state.x -= step;
      if (event.key === "ArrowRight") state.x += step;
      if (event.key === "ArrowUp") state.y -= step;
      if (event.key === "ArrowDown") state.y += step;
      moveNode(state); markPlaced(state); saveLayout();
      event.preventDefault();
    }
  });
  document.addEventListener("keydown", function (event) {
    var typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (typing) return;
    if ((event.key === "Delete" || event.key === "Backspace") && selection && selection.type !== "new" && !readonly) {
      event.preventDefault();
      deleteSelection();
    } else if (event.key === "Escape" && selection) {
      select(null);
    }
  });

  // ---------------------------------------------------------------- writes
  function markPlaced(state) { state.placed = true; }

  function saveLayout() {
    if (readonly) return;
    clearTimeout(layoutTimer);
    layoutTimer = setTimeout(function () {
      // Every state's position: states the automatic layout placed are stored too, so none moves later.
      write(function () {
        var positions = graph.states.map(function (state) { return { id: state.id, x: Math.round(state.x), y: Math.round(state.y) }; });
        return ["POST", root.dataset.layoutUrl, { positions: positions }];
      });
    }, LAYOUT_DEBOUNCE_MS);
  }

  function connect(source, target) {
    write(function () { return ["POST", root.dataset.transitionsUrl, { source: source, target: target, condition: null }]; })
      .then(function (result) {
        if (result && result.ok) {
          replace("transition", result.data.transition);
          selection = { type: "transition", id: result.data.transition.id };
          render(); renderPanel();
          showStatus("Transition added. Give it a condition, or leave it empty to always move on.", "ok");
        }
      });
  }

  function freeSpot() {
    var box = canvas.getBoundingClientRect();
    var center = toGraph(box.left + box.width / 2, box.top + box.height / 2);
    var x = Math.round(center.x - NODE_W / 2), y = Math.round(center.y - NODE_H / 2);
    function taken(px, py) {
      return graph.states.some(function (state) { return Math.abs(state.x - px) < NODE_W + 20 && Math.abs(state.y - py) < NODE_H + 20; });
    }
    for (var attempt = 0; attempt < 40 && taken(x, y); attempt++) { y += NODE_H + 30; if (attempt % 4 === 3) { x += NODE_W + 60; y -= 4 * (NODE_H + 30); } }
    return { x: x, y: y };
  }

  function createState(fields, errors) {
    var spot = freeSpot();
    var payload = Object.assign({ x: spot.x, y: spot.y }, fields);
    write(function () { return ["POST", root.dataset.statesUrl, payload]; }).then(function (result) {
      if (!result) return;
      if (result.ok) {
        replace("state", result.data.state);
        selection = { type: "state", id: result.data.state.id };
        if (result.data.state.initial) { load(true); return; }
        render(); renderPanel();
      } else {
        showFieldErrors(errors, result.data);
      }
    });
  }

  // Field edits of the selected state or transition: collected, then sent as one PATCH.
  function edit(type, id, name, value, errors, immediate) {
    if (pending && (pending.type !== type || pending.id !== id)) flush();
    if (!pending) pending = { type: type, id: id, fields: {}, errors: errors, timer: null };
    pending.fields[name] = value;
    clearTimeout(pending.timer);
    if (immediate) flush();
    else pending.timer = setTimeout(flush, FIELD_DEBOUNCE_MS);
  }
  function flush() {
    if (!pending) return;
    var change = pending;
    pending = null;
    clearTimeout(change.timer);
    write(function () {
      var item = find(change.type, change.id);
      if (!item) return null;
      return ["PATCH", item.url, Object.assign({ revision: item.revision }, change.fields)];
    }).then(function (result) {
      if (!result) return;
      if (result.ok) {
        var item = result.data[change.type];
        replace(change.type, item);
        clearFieldErrors(change.errors, Object.keys(change.fields));
        if ("initial" in change.fields && change.fields.initial) { load(); return; } // the previous initial state changed too
        render();
        if (!panel.contains(document.activeElement)) renderPanel();
        else updatePanelTitle();
      } else if (result.status === 422) {
        showFieldErrors(change.errors, result.data);
      }
    });
  }

  function deleteSelection() {
    if (!selection || selection.type === "new" || readonly) return;
    var chosen = selection;
    var item = find(chosen.type, chosen.id);
    if (!item) return;
    pending = null;
    write(function () { return ["DELETE", item.delete_url]; }).then(function (result) {
      if (result && result.ok) {
        selection = null;
        showStatus((chosen.type === "state" ? "State " + item.key : "Transition") + " deleted.", "ok");
        load(true);
      }
    });
  }

  function markInitial() {
    if (!selection || selection.type !== "state" || readonly) return;
    var id = selection.id;
    write(function () {
      var item = find("state", id);
      return item ? ["PATCH", item.url, { revision: item.revision, initial: true }] : null;
    }).then(function (result) {
      if (result && result.ok) { showStatus("Marked " + result.data.state.key + " as the initial state.", "ok"); load(true); }
    });
  }

  // ---------------------------------------------------------------- selection and the side panel
  function select(next) {
    if (pending) flush();
    selection = next;
    if (graph) render();
    renderPanel();
    if (next && next.type === "new") {
      var first = panel.querySelector("input, textarea, select");
      if (first) first.focus();
    }
  }

  function updateToolbar() {
    var editable = selection && selection.type !== "new";
    deleteButton.disabled = !editable;
    initialButton.disabled = !(selection && selection.type === "state" && find("state", selection.id) && !find("state", selection.id).initial && find("state", selection.id).kind !== "end");
  }

  function field(label, control, errors, name, help) {
    var id = "jg-field-" + name;
    control.id = id;
    var wrap = el("div", { className: "field", id: "jg-" + name });
    if (control.type === "checkbox") {
      var inline = el("label", { for: id, className: "jg-check" });
      inline.appendChild(control); inline.appendChild(document.createTextNode(" " + label));
      wrap.appendChild(inline);
    } else {
      wrap.appendChild(el("label", { for: id }, label));
      wrap.appendChild(control);
    }
    if (help) wrap.appendChild(el("p", { className: "hint" }, help));
    var error = el("p", { className: "field-error", role: "alert", hidden: true });
    wrap.appendChild(error);
    errors[name] = error;
    return wrap;
  }
  function checkboxes(name, options, chosen, disabled, onChange) {
    var box = el("div", { className: "checkbox-list", role: "group", "aria-label": name });
    if (!options.length) box.appendChild(el("span", { className: "muted small" }, "None defined for this agent."));
    options.forEach(function (option) {
      var input = el("input", { type: "checkbox", value: option, disabled: disabled });
      input.checked = chosen.indexOf(option) >= 0;
      input.addEventListener("change", function () {
        onChange(Array.prototype.filter.call(box.querySelectorAll("input:checked"), function () { return true; }).map(function (item) { return item.value; }));
      });
      var label = el("label");
      label.appendChild(input); label.appendChild(document.createTextNode(" " + option));
      box.appendChild(label);
    });
    return box;
  }
  function selectBox(options, value, disabled) {
    var control = el("select", { disabled: disabled });
    options.forEach(function (option) {
      var item = el("option", { value: option[0] }, option[1]);
      if (String(option[0]) === String(value === null || value === undefined ? "" : value)) item.selected = true;
      control.appendChild(item);
    });
    return control;
  }
  function showFieldErrors(errors, data) {
    var placed = false;
    ((data && data.details) || []).forEach(function (detail) {
      var head = String((detail && detail.path) || "").split(/[.\[]/)[0];
      if (errors && errors[head]) { errors[head].textContent = detail.message; errors[head].hidden = false; errors[head].parentNode.classList.add("has-error"); placed = true; }
    });
    if (!placed && data && data.message) showStatus(data.message, "error");
  }
  function clearFieldErrors(errors, names) {
    (names || Object.keys(errors || {})).forEach(function (name) {
      if (errors && errors[name]) { errors[name].hidden = true; errors[name].textContent = ""; errors[name].parentNode.classList.remove("has-error"); }
    });
  }
  function updatePanelTitle() {
    var title = panel.querySelector("[data-panel-title]");
    if (!title || !selection) return;
    var item = find(selection.type, selection.id);
    if (item && selection.type === "state") title.textContent = "State " + item.key;
  }

  function renderPanel() {
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    updateToolbar();
    if (!graph) return;
    if (!selection) return panelOverview();
    if (selection.type === "new") return panelNewState();
    var item = find(selection.type, selection.id);
    if (!item) { selection = null; return panelOverview(); }
    if (selection.type === "state") panelState(item);
    else panelTransition(item);
  }

  function panelOverview() {
    panel.appendChild(el("h2", {}, graph.journey.title));
    panel.appendChild(el("p", { className: "muted small" }, graph.states.length + " states · " + graph.transitions.length + " transitions"));
    var problems = graph.problems || {};
    var messages = [];
    (problems.errors || []).forEach(function (text) { messages.push(["error", text]); });
    (problems.warnings || []).forEach(function (text) { messages.push(["warning", text]); });
    (problems.dead_ends || []).forEach(function (id) {
      var state = find("state", id);
      if (state) messages.push(["warning", "State " + state.key + " has no way out and is not an end state."]);
    });
    if (messages.length) {
      var list = el("ul", { className: "findings" });
      messages.forEach(function (message) {
        var row = el("li", { className: "finding finding-" + message[0] });
        row.appendChild(el("span", { className: "badge badge-" + message[0] }, message[0]));
        row.appendChild(document.createTextNode(" " + message[1]));
        list.appendChild(row);
      });
      panel.appendChild(list);
    } else if (graph.states.length) {
      panel.appendChild(el("p", { className: "muted" }, "No problems: one initial state, every state reachable, every path ends."));
    }
    panel.appendChild(el("p", { className: "hint" }, "Select a state or a transition to " + (readonly ? "read" : "edit") + " it."));
  }

  function panelNewState() {
    var errors = {};
    panel.appendChild(el("h2", {}, "New state"));
    var used = {};
    graph.states.forEach(function (state) { used[state.key] = true; });
    var number = graph.states.length + 1;
    while (used["state-" + number]) number++;
    var key = el("input", { type: "text", value: "state-" + number, maxlength: "100", autocomplete: "off" });
    var kind = selectBox(KINDS.map(function (name) { return [name, name]; }), "chat");
    var action = el("textarea", { rows: "3", maxlength: "4000" });
    var tool = selectBox([["", "—"]].concat(graph.tools.map(function (name) { return [name, name]; })), "");
    var form = el("form", { className: "jg-form", "data-new-state": "" });
    form.appendChild(field("Key", key, errors, "key", "Lowercase letters, digits and dashes."));
    form.appendChild(field("Kind", kind, errors, "kind"));
    form.appendChild(field("Action", action, errors, "action", "What the agent says or does (required for chat states)."));
    var toolField = field("Tool", tool, errors, "tool");
    toolField.hidden = true;
    form.appendChild(toolField);
    kind.addEventListener("change", function () { toolField.hidden = kind.value !== "tool"; });
    var actions = el("div", { className: "form-actions" });
    actions.appendChild(el("button", { type: "submit", className: "primary" }, "Create state"));
    actions.appendChild(button("Cancel", function () { select(null); }));
    form.appendChild(actions);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearFieldErrors(errors);
      var fields = { key: key.value.trim(), kind: kind.value, action: action.value, initial: !graph.states.some(function (state) { return state.initial; }) };
      if (kind.value === "tool") fields.tool = tool.value || null;
      if (kind.value === "end") fields.initial = false;
      createState(fields, errors);
    });
    panel.appendChild(form);
  }

  function panelState(state) {
    var errors = {};
    var off = readonly;
    var title = el("h2", { "data-panel-title": "" }, "State " + state.key);
    panel.appendChild(title);
    var problems = problemsOf(state.id);
    if (problems.deadEnd) panel.appendChild(el("p", { className: "jg-problem is-error" }, "Dead end: no transition leads out, and it is not an end state."));
    if (problems.unreachable) panel.appendChild(el("p", { className: "jg-problem is-warning" }, "Unreachable from the initial state."));

    var key = el("input", { type: "text", value: state.key, maxlength: "100", autocomplete: "off", disabled: off });
    var kind = selectBox(KINDS.map(function (name) { return [name, name]; }), state.kind, off);
    var action = el("textarea", { rows: "4", maxlength: "4000", disabled: off });
    action.value = state.action || "";
    var tool = selectBox([["", "—"]].concat(graph.tools.map(function (name) { return [name, name]; })), state.tool, off);
    var initial = el("input", { type: "checkbox", disabled: off || state.kind === "end" });
    initial.checked = state.initial;

    function text(name, control) {
      control.addEventListener("input", function () { edit("state", state.id, name, control.value, errors, false); });
      control.addEventListener("blur", function () { if (pending) flush(); });
    }
    text("key", key); text("action", action);
    kind.addEventListener("change", function () {
      toolField.hidden = kind.value !== "tool"; // a tool state waits for its tool (the server drops it for other kinds)
      edit("state", state.id, "kind", kind.value, errors, kind.value !== "tool" || !!tool.value);
    });
    tool.addEventListener("change", function () { edit("state", state.id, "tool", tool.value || null, errors, true); });
    initial.addEventListener("change", function () { edit("state", state.id, "initial", initial.checked, errors, true); });

    var form = el("div", { className: "jg-form", "data-state-form": String(state.id) });
    form.appendChild(field("Key", key, errors, "key"));
    form.appendChild(field("Kind", kind, errors, "kind"));
    form.appendChild(field("Action", action, errors, "action", "What the agent says or does here."));
    var toolField = field("Tool", tool, errors, "tool", "The tool this state runs.");
    toolField.hidden = state.kind !== "tool";
    form.appendChild(toolField);
    form.appendChild(field("Initial state", initial, errors, "initial"));
    var tools = checkboxes("Tools", graph.tools, state.tools || [], off, function (values) { edit("state", state.id, "tools", values, errors, true); });
    form.appendChild(field("Tools available in this state", tools, errors, "tools"));
    var canned = checkboxes("Canned responses", graph.canned_responses, state.canned_responses || [], off, function (values) { edit("state", state.id, "canned_responses", values, errors, true); });
    form.appendChild(field("Canned responses", canned, errors, "canned_responses"));
    panel.appendChild(form);

    var outgoing = graph.transitions.filter(function (transition) { return transition.source === state.id; });
    var incoming = graph.transitions.filter(function (transition) { return transition.target === state.id; });
    [["Leads to", outgoing, "target"], ["Reached from", incoming, "source"]].forEach(function (part) {
      if (!part[1].length) return;
      panel.appendChild(el("h3", {}, part[0]));
      var list = el("ul", { className: "plain jg-links" });
      part[1].forEach(function (transition) {
        var other = find("state", transition[part[2]]);
        var row = el("li");
        row.appendChild(button((other ? other.key : "?") + (transition.condition ? " — " + clip(transition.condition, 40) : ""), function () { select({ type: "transition", id: transition.id }); }, { className: "link-button" }));
        list.appendChild(row);
      });
      panel.appendChild(list);
    });

    if (!readonly && state.kind !== "end" && graph.states.length) {
      // The keyboard's way to add a transition (the pointer drags from the node's handle).
      var connectErrors = {};
      var target = selectBox(graph.states.map(function (other) { return [other.id, other.key]; }), "");
      var add = el("div", { className: "jg-connect" });
      add.appendChild(field("Add a transition to", target, connectErrors, "target"));
      add.appendChild(button("Add transition", function () { connect(state.id, Number(target.value)); }));
      panel.appendChild(add);
    }
    if (!readonly) {
      var actions = el("div", { className: "form-actions" });
      actions.appendChild(button("Delete state", function () { deleteSelection(); }, { className: "danger" }));
      panel.appendChild(actions);
    }
  }

  function panelTransition(transition) {
    var errors = {};
    var off = readonly;
    var source = find("state", transition.source), target = find("state", transition.target);
    panel.appendChild(el("h2", {}, "Transition"));
    panel.appendChild(el("p", { className: "entity-key" }, (source ? source.key : "?") + " → " + (target ? target.key : "?")));
    var options = graph.states.map(function (state) { return [state.id, state.key]; });
    var from = selectBox(options, transition.source, off);
    var to = selectBox(options, transition.target, off);
    var condition = el("textarea", { rows: "3", maxlength: "4000", disabled: off });
    condition.value = transition.condition || "";
    from.addEventListener("change", function () { edit("transition", transition.id, "source", Number(from.value), errors, true); });
    to.addEventListener("change", function () { edit("transition", transition.id, "target", Number(to.value), errors, true); });
    condition.addEventListener("input", function () { edit("transition", transition.id, "condition", condition.value.trim() ? condition.value : null, errors, false); });
    condition.addEventListener("blur", function () { if (pending) flush(); });
    var form = el("div", { className: "jg-form", "data-transition-form": String(transition.id) });
    form.appendChild(field("From", from, errors, "source"));
    form.appendChild(field("To", to, errors, "target"));
    form.appendChild(field("Condition", condition, errors, "condition", "When the journey moves on; empty: always."));
    errors[""] = errors.condition;
    panel.appendChild(form);
    if (!readonly) {
      var actions = el("div", { className: "form-actions" });
      actions.appendChild(button("Delete transition", function () { deleteSelection(); }, { className: "danger" }));
      panel.appendChild(actions);
    }
  }

  window.addEventListener("beforeunload", function () { if (pending) flush(); });
  renderPanel();
  load(true);
})();
